// SPDX-License-Identifier: GPL-2.0

//! Why a packet was dropped or refused: the per-reason counters `ethtool -S` shows.
//!
//! C tun folds every refusal into three device counters: `rx_frame_errors`
//! (a virtio-net header `virtio_net_hdr_to_skb()` refused), `rx_dropped`
//! (the `drop:` label of `tun_get_user()`) and `tx_dropped` (the `drop:`
//! label of `tun_net_xmit()`). rtun keeps those counters exactly as C does
//! and counts, beside them, one counter per reason. Each [`DropReason`]
//! belongs to one C counter ([`DropReason::counter()`]); the driver bumps
//! both in one place, so the reasons of a counter add up to what rtun
//! contributed to it. Reasons whose counter is [`Counter::None`] count
//! what C counts nowhere: writes refused before an skb exists, and packets
//! a read took off the queue and then lost.
//!
//! The name of a reason starts with the name of its C counter: `rx_frame_`
//! for `rx_frame_errors`, `rx_drop_` for `rx_dropped`, `tx_drop_` for
//! `tx_dropped`; `rx_inval_` and `tx_lost_` are the ones C does not count.

use crate::pure::uapi::{XDP_PASS, XDP_REDIRECT, XDP_TX};
use crate::pure::vnet_hdr::{HdrError, RxCounter};
use crate::pure::vnet_out::OutError;
use core::sync::atomic::{AtomicU64, Ordering};

/// `ETH_GSTRING_LEN`: the room for one ethtool string, its NUL included.
pub const ETH_GSTRING_LEN: usize = 32;

/// The statistics counter of C tun that a drop is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// None: C counts this nowhere (rtun's counter is its only trace).
    None,
    /// `rx_frame_errors`, kept by the driver (shown for TUN devices only, as in C).
    RxFrameErrors,
    /// `rx_dropped`, the core's `dev_core_stats_rx_dropped_inc()`.
    RxDropped,
    /// `tx_dropped`, the core's `dev_core_stats_tx_dropped_inc()`.
    TxDropped,
}

impl From<RxCounter> for Counter {
    fn from(c: RxCounter) -> Self {
        match c {
            RxCounter::None => Counter::None,
            RxCounter::FrameErrors => Counter::RxFrameErrors,
            RxCounter::Dropped => Counter::RxDropped,
        }
    }
}

/// Why rtun dropped or refused a packet; one `ethtool -S` counter each.
///
/// The order is the order `ethtool -S` lists them in; [`DropReason::ALL`]
/// holds every reason in that order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// [`HdrError::BadGsoType`].
    RxFrameBadGsoType,
    /// [`HdrError::ZeroGsoSize`].
    RxFrameZeroGsoSize,
    /// [`HdrError::CsumBeyondPacket`].
    RxFrameCsumBeyondPacket,
    /// [`HdrError::CsumStartTooFar`].
    RxFrameCsumStartTooFar,
    /// [`HdrError::TransportBeforeNetwork`].
    RxFrameL4BeforeL3,
    /// [`HdrError::TransportTooShort`].
    RxFrameL4TooShort,
    /// [`HdrError::UdpL4NoCsum`].
    RxFrameUdpL4NoCsum,
    /// [`HdrError::UdpL4CsumOffset`].
    RxFrameUdpL4CsumOffset,
    /// [`HdrError::UdpL4TooManySegments`].
    RxFrameUdpL4TooManySegs,
    /// [`HdrError::UdpL4Ecn`].
    RxFrameUdpL4Ecn,
    /// [`HdrError::TcpCsumOffset`].
    RxFrameTcpCsumOffset,
    /// [`HdrError::GsoByFrags`].
    RxFrameGsoByFrags,
    /// [`HdrError::GsoNotDissected`] (Linux 7.x).
    RxFrameGsoNotDissected,
    /// [`HdrError::GsoWrongTransport`] (Linux 7.x).
    RxFrameGsoWrongL4,
    /// [`HdrError::GsoWrongNetwork`] (Linux 7.x).
    RxFrameGsoWrongL3,
    /// [`HdrError::TunnelNotNegotiated`] (Linux 7.x).
    RxFrameTnlNotNegotiated,
    /// [`HdrError::TunnelBothFamilies`] (Linux 7.x).
    RxFrameTnlBothFamilies,
    /// [`HdrError::TunnelBadInnerType`] (Linux 7.x).
    RxFrameTnlBadInnerType,
    /// [`HdrError::TunnelNoCsum`] (Linux 7.x).
    RxFrameTnlNoCsum,
    /// [`HdrError::TunnelBadOffsets`] (Linux 7.x).
    RxFrameTnlBadOffsets,
    /// [`HdrError::TunnelInnerTooShort`] (Linux 7.x).
    RxFrameTnlInnerTooShort,
    /// The kernel refused the pull or the checksum location the planner
    /// accepted (`pskb_may_pull()`, `skb_partial_csum_set()`).
    RxFrameSkbRefused,
    /// [`HdrError::EmptyPacket`].
    RxDropEmptyPacket,
    /// [`HdrError::BadIpVersion`].
    RxDropBadIpVersion,
    /// The skb could not be allocated (not `EAGAIN`, a full send buffer).
    RxDropAllocFailed,
    /// Copying the packet from the user's buffer faulted (`EFAULT`).
    RxDropCopyFault,
    /// A TAP frame's Ethernet header could not be pulled (`eth_type_trans()`).
    RxDropEthHdrTrunc,
    /// The device is not up (`EIO`).
    RxDropDevDown,
    /// Transmit with no file attached: nobody reads the device.
    TxDropNoReader,
    /// Transmit refused by the `TUNSETTXFILTER` MAC filter.
    TxDropTxFilter,
    /// Transmit of a packet whose frags could not be made private
    /// (`skb_orphan_frags_rx()`).
    TxDropOrphanFrags,
    /// Transmit to a full queue.
    TxDropRingFull,
    /// Transmit to a full queue of a device with `IFF_BACKPRESSURE` (Linux
    /// 7.x), whose transmit queue should have been stopped: no qdisc, or a
    /// race of lockless transmit.
    TxDropRingFullBackpressure,
    /// [`HdrError::ShortForPi`].
    RxInvalShortForPi,
    /// [`HdrError::ShortForVnetHdr`].
    RxInvalShortForVnetHdr,
    /// [`HdrError::HdrLenTooLong`].
    RxInvalHdrLenTooLong,
    /// [`HdrError::TapTooShort`].
    RxInvalTapTooShort,
    /// [`HdrError::TapHdrLenTooShort`].
    RxInvalTapHdrLenTooShort,
    /// [`OutError::ShortForPi`]: the packet was dequeued, then refused.
    TxLostReadShortForPi,
    /// [`OutError::ShortForVnetHdr`]: the packet was dequeued, then refused.
    TxLostReadShortForHdr,
    /// [`OutError::UnexpectedGsoType`].
    TxLostReadBadGsoType,
    /// [`OutError::UnexpectedTunnel`] (Linux 7.x).
    TxLostReadBadTunnel,
    /// [`OutError::HdrTooSmallForOffloads`] (Linux 7.x).
    TxLostReadHdrTooSmall,
    /// Writing the PI or the header to the reader's buffer faulted (`EFAULT`).
    TxLostReadFault,
    /// An `IFF_NAPI` write on a queue detached meanwhile (`EBUSY`): C
    /// frees the built packet and counts nothing.
    RxLostNapiDetached,
    /// The `TUNSETFILTEREBPF` program returned 0.
    TxDropEbpfFilter,
    /// Trimming to the filter program's length needed memory it did not
    /// get.
    TxDropTrimFailed,
    /// The file's classic socket filter (`TUNATTACHFILTER`) refused the
    /// packet, or `sk_filter()`'s own checks did (a memory-reserve skb, a
    /// security module).
    TxDropSocketFilter,
    /// The write cannot be laid out in an skb (not a failed allocation):
    /// too long for its pages (`EMSGSIZE`), or with `IFF_NAPI_FRAGS` too
    /// many iovec segments (`EMSGSIZE`) or one empty or longer than a page
    /// (`EINVAL`).
    RxDropBadLayout,
    /// An `IFF_NAPI_FRAGS` packet whose headers are not all in its linear
    /// part, the first iovec segment (`ENOMEM`; C also warns).
    RxDropFragsHeadlen,
    /// The device's XDP program returned `XDP_DROP`, `XDP_ABORTED` or a
    /// verdict it does not know, on the write path (`tun_xdp_act()`).
    RxDropXdp,
    /// The XDP program's `XDP_REDIRECT` failed (`xdp_do_redirect()`).
    RxDropXdpRedirect,
    /// The XDP program's `XDP_TX` failed: no frame could be made of the
    /// buffer, or the device has no queue attached.
    RxDropXdpTx,
    /// A frame sent to the device (`ndo_xdp_xmit`) met a full queue; the
    /// rest of that batch goes back to the sender, counted once, as C.
    TxDropXdpRingFull,
}

/// Returns the reason a write's XDP verdict `act` is counted under, if
/// any, as `tun_xdp_act()` counts `rx_dropped`: `XDP_DROP`, `XDP_ABORTED`
/// and unknown verdicts always, `XDP_REDIRECT` and `XDP_TX` when sending
/// the frame `failed`; `XDP_PASS` and a frame that left, never.
pub const fn xdp_verdict_drop(act: u32, failed: bool) -> Option<DropReason> {
    match act {
        XDP_PASS => None,
        XDP_REDIRECT if failed => Some(DropReason::RxDropXdpRedirect),
        XDP_TX if failed => Some(DropReason::RxDropXdpTx),
        XDP_REDIRECT | XDP_TX => None,
        _ => Some(DropReason::RxDropXdp),
    }
}

impl DropReason {
    /// How many reasons there are.
    pub const COUNT: usize = 54;

    /// Every reason, in `ethtool -S` order (`ALL[r.index()] == r`).
    pub const ALL: [DropReason; Self::COUNT] = [
        DropReason::RxFrameBadGsoType,
        DropReason::RxFrameZeroGsoSize,
        DropReason::RxFrameCsumBeyondPacket,
        DropReason::RxFrameCsumStartTooFar,
        DropReason::RxFrameL4BeforeL3,
        DropReason::RxFrameL4TooShort,
        DropReason::RxFrameUdpL4NoCsum,
        DropReason::RxFrameUdpL4CsumOffset,
        DropReason::RxFrameUdpL4TooManySegs,
        DropReason::RxFrameUdpL4Ecn,
        DropReason::RxFrameTcpCsumOffset,
        DropReason::RxFrameGsoByFrags,
        DropReason::RxFrameGsoNotDissected,
        DropReason::RxFrameGsoWrongL4,
        DropReason::RxFrameGsoWrongL3,
        DropReason::RxFrameTnlNotNegotiated,
        DropReason::RxFrameTnlBothFamilies,
        DropReason::RxFrameTnlBadInnerType,
        DropReason::RxFrameTnlNoCsum,
        DropReason::RxFrameTnlBadOffsets,
        DropReason::RxFrameTnlInnerTooShort,
        DropReason::RxFrameSkbRefused,
        DropReason::RxDropEmptyPacket,
        DropReason::RxDropBadIpVersion,
        DropReason::RxDropAllocFailed,
        DropReason::RxDropCopyFault,
        DropReason::RxDropEthHdrTrunc,
        DropReason::RxDropDevDown,
        DropReason::TxDropNoReader,
        DropReason::TxDropTxFilter,
        DropReason::TxDropOrphanFrags,
        DropReason::TxDropRingFull,
        DropReason::TxDropRingFullBackpressure,
        DropReason::RxInvalShortForPi,
        DropReason::RxInvalShortForVnetHdr,
        DropReason::RxInvalHdrLenTooLong,
        DropReason::RxInvalTapTooShort,
        DropReason::RxInvalTapHdrLenTooShort,
        DropReason::TxLostReadShortForPi,
        DropReason::TxLostReadShortForHdr,
        DropReason::TxLostReadBadGsoType,
        DropReason::TxLostReadBadTunnel,
        DropReason::TxLostReadHdrTooSmall,
        DropReason::TxLostReadFault,
        DropReason::RxLostNapiDetached,
        DropReason::TxDropEbpfFilter,
        DropReason::TxDropTrimFailed,
        DropReason::TxDropSocketFilter,
        DropReason::RxDropBadLayout,
        DropReason::RxDropFragsHeadlen,
        DropReason::RxDropXdp,
        DropReason::RxDropXdpRedirect,
        DropReason::RxDropXdpTx,
        DropReason::TxDropXdpRingFull,
    ];

    /// Returns the reason's position in [`DropReason::ALL`] and in `ethtool -S`.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Returns the reason's `ethtool -S` name: ASCII, shorter than
    /// [`ETH_GSTRING_LEN`], stable across releases.
    pub const fn name(self) -> &'static str {
        match self {
            DropReason::RxFrameBadGsoType => "rx_frame_bad_gso_type",
            DropReason::RxFrameZeroGsoSize => "rx_frame_zero_gso_size",
            DropReason::RxFrameCsumBeyondPacket => "rx_frame_csum_beyond_packet",
            DropReason::RxFrameCsumStartTooFar => "rx_frame_csum_start_too_far",
            DropReason::RxFrameL4BeforeL3 => "rx_frame_l4_before_l3",
            DropReason::RxFrameL4TooShort => "rx_frame_l4_too_short",
            DropReason::RxFrameUdpL4NoCsum => "rx_frame_udp_l4_no_csum",
            DropReason::RxFrameUdpL4CsumOffset => "rx_frame_udp_l4_csum_offset",
            DropReason::RxFrameUdpL4TooManySegs => "rx_frame_udp_l4_too_many_segs",
            DropReason::RxFrameUdpL4Ecn => "rx_frame_udp_l4_ecn",
            DropReason::RxFrameTcpCsumOffset => "rx_frame_tcp_csum_offset",
            DropReason::RxFrameGsoByFrags => "rx_frame_gso_by_frags",
            DropReason::RxFrameGsoNotDissected => "rx_frame_gso_not_dissected",
            DropReason::RxFrameGsoWrongL4 => "rx_frame_gso_wrong_l4",
            DropReason::RxFrameGsoWrongL3 => "rx_frame_gso_wrong_l3",
            DropReason::RxFrameTnlNotNegotiated => "rx_frame_tnl_not_negotiated",
            DropReason::RxFrameTnlBothFamilies => "rx_frame_tnl_both_families",
            DropReason::RxFrameTnlBadInnerType => "rx_frame_tnl_bad_inner_type",
            DropReason::RxFrameTnlNoCsum => "rx_frame_tnl_no_csum",
            DropReason::RxFrameTnlBadOffsets => "rx_frame_tnl_bad_offsets",
            DropReason::RxFrameTnlInnerTooShort => "rx_frame_tnl_inner_too_short",
            DropReason::RxFrameSkbRefused => "rx_frame_skb_refused",
            DropReason::RxDropEmptyPacket => "rx_drop_empty_packet",
            DropReason::RxDropBadIpVersion => "rx_drop_bad_ip_version",
            DropReason::RxDropAllocFailed => "rx_drop_alloc_failed",
            DropReason::RxDropCopyFault => "rx_drop_copy_fault",
            DropReason::RxDropEthHdrTrunc => "rx_drop_eth_hdr_trunc",
            DropReason::RxDropDevDown => "rx_drop_dev_down",
            DropReason::TxDropNoReader => "tx_drop_no_reader",
            DropReason::TxDropTxFilter => "tx_drop_txfilter",
            DropReason::TxDropOrphanFrags => "tx_drop_orphan_frags",
            DropReason::TxDropRingFull => "tx_drop_ring_full",
            DropReason::TxDropRingFullBackpressure => "tx_drop_ring_full_backpressure",
            DropReason::RxInvalShortForPi => "rx_inval_short_for_pi",
            DropReason::RxInvalShortForVnetHdr => "rx_inval_short_for_vnet_hdr",
            DropReason::RxInvalHdrLenTooLong => "rx_inval_hdr_len_too_long",
            DropReason::RxInvalTapTooShort => "rx_inval_tap_too_short",
            DropReason::RxInvalTapHdrLenTooShort => "rx_inval_tap_hdr_len_too_short",
            DropReason::TxLostReadShortForPi => "tx_lost_read_short_for_pi",
            DropReason::TxLostReadShortForHdr => "tx_lost_read_short_for_hdr",
            DropReason::TxLostReadBadGsoType => "tx_lost_read_bad_gso_type",
            DropReason::TxLostReadBadTunnel => "tx_lost_read_bad_tunnel",
            DropReason::TxLostReadHdrTooSmall => "tx_lost_read_hdr_too_small",
            DropReason::TxLostReadFault => "tx_lost_read_fault",
            DropReason::RxLostNapiDetached => "rx_lost_napi_detached",
            DropReason::TxDropEbpfFilter => "tx_drop_ebpf_filter",
            DropReason::TxDropTrimFailed => "tx_drop_trim_failed",
            DropReason::TxDropSocketFilter => "tx_drop_socket_filter",
            DropReason::RxDropBadLayout => "rx_drop_bad_layout",
            DropReason::RxDropFragsHeadlen => "rx_drop_frags_headlen",
            DropReason::RxDropXdp => "rx_drop_xdp",
            DropReason::RxDropXdpRedirect => "rx_drop_xdp_redirect",
            DropReason::RxDropXdpTx => "rx_drop_xdp_tx",
            DropReason::TxDropXdpRingFull => "tx_drop_xdp_ring_full",
        }
    }

    /// Returns the C counter this reason is counted in.
    pub const fn counter(self) -> Counter {
        match self {
            DropReason::RxFrameBadGsoType
            | DropReason::RxFrameZeroGsoSize
            | DropReason::RxFrameCsumBeyondPacket
            | DropReason::RxFrameCsumStartTooFar
            | DropReason::RxFrameL4BeforeL3
            | DropReason::RxFrameL4TooShort
            | DropReason::RxFrameUdpL4NoCsum
            | DropReason::RxFrameUdpL4CsumOffset
            | DropReason::RxFrameUdpL4TooManySegs
            | DropReason::RxFrameUdpL4Ecn
            | DropReason::RxFrameTcpCsumOffset
            | DropReason::RxFrameGsoByFrags
            | DropReason::RxFrameGsoNotDissected
            | DropReason::RxFrameGsoWrongL4
            | DropReason::RxFrameGsoWrongL3
            | DropReason::RxFrameTnlNotNegotiated
            | DropReason::RxFrameTnlBothFamilies
            | DropReason::RxFrameTnlBadInnerType
            | DropReason::RxFrameTnlNoCsum
            | DropReason::RxFrameTnlBadOffsets
            | DropReason::RxFrameTnlInnerTooShort
            | DropReason::RxFrameSkbRefused => Counter::RxFrameErrors,
            DropReason::RxDropEmptyPacket
            | DropReason::RxDropBadIpVersion
            | DropReason::RxDropAllocFailed
            | DropReason::RxDropCopyFault
            | DropReason::RxDropEthHdrTrunc
            | DropReason::RxDropDevDown
            | DropReason::RxDropBadLayout
            | DropReason::RxDropFragsHeadlen
            | DropReason::RxDropXdp
            | DropReason::RxDropXdpRedirect
            | DropReason::RxDropXdpTx => Counter::RxDropped,
            DropReason::TxDropNoReader
            | DropReason::TxDropTxFilter
            | DropReason::TxDropOrphanFrags
            | DropReason::TxDropRingFull
            | DropReason::TxDropRingFullBackpressure
            | DropReason::TxDropEbpfFilter
            | DropReason::TxDropTrimFailed
            | DropReason::TxDropSocketFilter
            | DropReason::TxDropXdpRingFull => Counter::TxDropped,
            DropReason::RxInvalShortForPi
            | DropReason::RxInvalShortForVnetHdr
            | DropReason::RxInvalHdrLenTooLong
            | DropReason::RxInvalTapTooShort
            | DropReason::RxInvalTapHdrLenTooShort
            | DropReason::TxLostReadShortForPi
            | DropReason::TxLostReadShortForHdr
            | DropReason::TxLostReadBadGsoType
            | DropReason::TxLostReadBadTunnel
            | DropReason::TxLostReadHdrTooSmall
            | DropReason::TxLostReadFault
            | DropReason::RxLostNapiDetached => Counter::None,
        }
    }

    /// Returns why a failed skb allocation or build of a write dropped it:
    /// a fault while copying (`EFAULT`, positive), else the allocation.
    pub const fn from_alloc_errno(errno: i32) -> Self {
        use crate::pure::errno::{EFAULT, EINVAL, EMSGSIZE};
        match errno {
            EFAULT => DropReason::RxDropCopyFault,
            EMSGSIZE | EINVAL => DropReason::RxDropBadLayout,
            _ => DropReason::RxDropAllocFailed,
        }
    }
}

/// The names of all reasons, in [`DropReason::ALL`] order: the strings of
/// the device's `ETH_SS_STATS` set.
pub const NAMES: [&str; DropReason::COUNT] = {
    let mut names = [""; DropReason::COUNT];
    let mut i = 0;
    while i < DropReason::COUNT {
        names[i] = DropReason::ALL[i].name();
        i += 1;
    }
    names
};

// Checked when the module is compiled: `ALL` lists each reason at its own
// index, and every name fits an ethtool string with its NUL.
const _: () = {
    let mut i = 0;
    while i < DropReason::COUNT {
        assert!(DropReason::ALL[i].index() == i);
        assert!(NAMES[i].len() < ETH_GSTRING_LEN);
        i += 1;
    }
};

impl HdrError {
    /// Returns the drop reason of this refusal.
    ///
    /// Its [`DropReason::counter()`] is the C counter [`HdrError::counter()`]
    /// names, so counting the reason counts what C counts.
    pub const fn drop_reason(self) -> DropReason {
        match self {
            HdrError::ShortForPi => DropReason::RxInvalShortForPi,
            HdrError::ShortForVnetHdr => DropReason::RxInvalShortForVnetHdr,
            HdrError::HdrLenTooLong => DropReason::RxInvalHdrLenTooLong,
            HdrError::TapTooShort => DropReason::RxInvalTapTooShort,
            HdrError::TapHdrLenTooShort => DropReason::RxInvalTapHdrLenTooShort,
            HdrError::BadGsoType => DropReason::RxFrameBadGsoType,
            HdrError::ZeroGsoSize => DropReason::RxFrameZeroGsoSize,
            HdrError::CsumBeyondPacket => DropReason::RxFrameCsumBeyondPacket,
            HdrError::CsumStartTooFar => DropReason::RxFrameCsumStartTooFar,
            HdrError::TransportBeforeNetwork => DropReason::RxFrameL4BeforeL3,
            HdrError::TransportTooShort => DropReason::RxFrameL4TooShort,
            HdrError::UdpL4NoCsum => DropReason::RxFrameUdpL4NoCsum,
            HdrError::UdpL4CsumOffset => DropReason::RxFrameUdpL4CsumOffset,
            HdrError::UdpL4TooManySegments => DropReason::RxFrameUdpL4TooManySegs,
            HdrError::UdpL4Ecn => DropReason::RxFrameUdpL4Ecn,
            HdrError::TcpCsumOffset => DropReason::RxFrameTcpCsumOffset,
            HdrError::GsoByFrags => DropReason::RxFrameGsoByFrags,
            HdrError::EmptyPacket => DropReason::RxDropEmptyPacket,
            HdrError::BadIpVersion => DropReason::RxDropBadIpVersion,
            HdrError::GsoNotDissected => DropReason::RxFrameGsoNotDissected,
            HdrError::GsoWrongTransport => DropReason::RxFrameGsoWrongL4,
            HdrError::GsoWrongNetwork => DropReason::RxFrameGsoWrongL3,
            HdrError::TunnelNotNegotiated => DropReason::RxFrameTnlNotNegotiated,
            HdrError::TunnelBothFamilies => DropReason::RxFrameTnlBothFamilies,
            HdrError::TunnelBadInnerType => DropReason::RxFrameTnlBadInnerType,
            HdrError::TunnelNoCsum => DropReason::RxFrameTnlNoCsum,
            HdrError::TunnelBadOffsets => DropReason::RxFrameTnlBadOffsets,
            HdrError::TunnelInnerTooShort => DropReason::RxFrameTnlInnerTooShort,
        }
    }
}

impl OutError {
    /// Returns the drop reason of a read that refused its packet after
    /// dequeuing it (C frees it and counts nothing).
    pub const fn drop_reason(self) -> DropReason {
        match self {
            OutError::ShortForPi => DropReason::TxLostReadShortForPi,
            OutError::ShortForVnetHdr => DropReason::TxLostReadShortForHdr,
            OutError::UnexpectedGsoType => DropReason::TxLostReadBadGsoType,
            OutError::UnexpectedTunnel => DropReason::TxLostReadBadTunnel,
            OutError::HdrTooSmallForOffloads => DropReason::TxLostReadHdrTooSmall,
        }
    }
}

/// One device's per-reason counters.
///
/// Drops are a slow path: one relaxed atomic add each, read by ethtool and
/// by `ndo_get_stats64` (for `rx_frame_errors`, which is their sum).
pub struct DropCounters([AtomicU64; DropReason::COUNT]);

impl Default for DropCounters {
    fn default() -> Self {
        Self::new()
    }
}

impl DropCounters {
    /// Returns counters that are all zero.
    pub const fn new() -> Self {
        Self([const { AtomicU64::new(0) }; DropReason::COUNT])
    }

    /// Counts one drop for `reason`.
    pub fn bump(&self, reason: DropReason) {
        if let Some(c) = self.0.get(reason.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Returns the count of `reason`.
    pub fn get(&self, reason: DropReason) -> u64 {
        self.0
            .get(reason.index())
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Returns the sum of the reasons counted in `counter` (wrapping, as
    /// the C counters do).
    pub fn sum(&self, counter: Counter) -> u64 {
        DropReason::ALL
            .iter()
            .filter(|r| r.counter() == counter)
            .fold(0u64, |acc, r| acc.wrapping_add(self.get(*r)))
    }

    /// Writes the counts into `out` in [`DropReason::ALL`] order, as far as
    /// `out` reaches.
    pub fn snapshot(&self, out: &mut [u64]) {
        for (o, c) in out.iter_mut().zip(self.0.iter()) {
            *o = c.load(Ordering::Relaxed);
        }
    }
}
