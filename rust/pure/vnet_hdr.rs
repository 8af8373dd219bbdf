// SPDX-License-Identifier: GPL-2.0

//! Write-path rules for `struct virtio_net_hdr`, as pure logic.
//!
//! This module turns what a writer put in front of a packet (the optional
//! `struct tun_pi` and the optional `struct virtio_net_hdr`) into a
//! [`WritePlan`]: how many bytes go in the linear part of the skb, how many
//! in page frags, and which checksum and GSO metadata the skb gets. It
//! replicates Linux 6.12's `tun_get_user()` (drivers/net/tun.c) and
//! `virtio_net_hdr_to_skb()` (include/linux/virtio_net.h) rule by rule,
//! including the order of the checks, so that the same input yields the
//! same errno and bumps the same counter as upstream.
//!
//! The module imports only `core`; it is compiled both into the kernel
//! module and into the host crate (`host/`) where it is unit tested,
//! property tested and fuzzed. Nothing here can panic: there is no
//! indexing, no `unwrap`, no `unsafe`, and no arithmetic that can overflow
//! (sums of `u16` fields are done in `u32` or `u64`, lengths use checked or
//! saturating operations).
//!
//! How the driver uses it, in the order C does things:
//!
//! 1. [`split_write`] (W1, W2) before copying the PI and the header in, so
//!    that a short write fails with `EINVAL` before any `EFAULT`.
//! 2. [`VnetHdr::parse`] on the 10 header bytes copied from the user.
//! 3. [`plan_layout`] (W3, W4, W5 and the linear length) before allocating.
//! 4. Allocate the skb, copy the packet in (an `EFAULT` here counts
//!    `rx_dropped`).
//! 5. [`plan_skb`] (`virtio_net_hdr_to_skb()`): on error count
//!    `rx_frame_errors`; on success apply the pulls, the checksum and GSO.
//! 6. For TUN with `IFF_NO_PI`, [`check_tun_ip_version`] on the first byte.
//!    For TAP, C then pulls `ETH_HLEN` bytes (`tun_get_user()`, `ENOMEM` on
//!    failure), which cannot fail because W5 guarantees 14 bytes.
//!
//! [`plan_write`] runs steps 1, 3 and 5 at once for callers (and tests) that
//! do not care about the position of `EFAULT` among the errors.
//!
//! Two facts of the C code shape the plan:
//!
//! - `skb->network_header` is 0 when tun calls `virtio_net_hdr_to_skb()`
//!   (`__alloc_skb()` and `build_skb()` zero it and nothing sets it before), so
//!   a GSO packet without `NEEDS_CSUM` never takes the flow dissector branch of
//!   `virtio_net_hdr_to_skb()`; it only needs `nh_min_len + thlen` bytes (its
//!   `else if (gso_type)` branch). The driver must likewise not set the network
//!   header before applying the plan.
//! - `pskb_may_pull()` (include/linux/skbuff.h, through
//!   `pskb_may_pull_reason()`) moves bytes from the frags into the linear part.
//!   The first pull of `virtio_net_hdr_to_skb()` for `NEEDS_CSUM` pulls
//!   `csum_start + max(thlen, csum_offset + 2)` bytes, so the
//!   `csum_end > skb_headlen()` half of `skb_partial_csum_set()`
//!   (net/core/skbuff.c) and the second pull can never fail afterwards,
//!   whatever the initial linear length was. The plan still evaluates both,
//!   against a model of `skb_headlen()`, exactly as C does, and reports the
//!   head length after the pulls in [`SkbPlan::head_len`]; the property tests
//!   of the host crate check that the checksum field and the transport header
//!   always lie inside it. A driver may either allocate [`Layout::linear`] and
//!   call `pskb_may_pull()` to [`SkbPlan::head_len`], or allocate
//!   [`SkbPlan::head_len`] linear bytes at once: the skb is the same.
//!
//! Not modelled, because they do not depend on the header alone: failed
//! allocations (`ENOMEM`, `EAGAIN`), faulting user memory (`EFAULT`), the
//! zerocopy path (only for `msg_control` from vhost-net, never for
//! `write()`). The `IFF_NAPI_FRAGS` layout of `tun_napi_alloc_frags()`
//! (the first iovec segment linear, whatever its length) is the driver's
//! to pass: it plans the header with [`Layout::linear`] set to the skb's
//! own head, where C's pulls start.

use core::cmp::{max, min};

/// Size in bytes of `struct virtio_net_hdr`, the smallest vnet header size.
pub const VIRTIO_NET_HDR_LEN: usize = 10;

/// Size in bytes of `struct tun_pi`, the packet information prefix.
pub const TUN_PI_LEN: usize = 4;

/// Length of an Ethernet header (`ETH_HLEN`).
pub const ETH_HLEN: usize = 14;

/// Header flag: `csum_start` and `csum_offset` are valid (`VIRTIO_NET_HDR_F_NEEDS_CSUM`).
pub const VIRTIO_NET_HDR_F_NEEDS_CSUM: u8 = 1;
/// Header flag: the checksum is valid (`VIRTIO_NET_HDR_F_DATA_VALID`), ignored on write.
pub const VIRTIO_NET_HDR_F_DATA_VALID: u8 = 2;
/// Header flag: RSC information in the checksum fields (`VIRTIO_NET_HDR_F_RSC_INFO`), ignored on write.
pub const VIRTIO_NET_HDR_F_RSC_INFO: u8 = 4;

/// GSO type: not a GSO frame (`VIRTIO_NET_HDR_GSO_NONE`).
pub const VIRTIO_NET_HDR_GSO_NONE: u8 = 0;
/// GSO type: IPv4 TCP (`VIRTIO_NET_HDR_GSO_TCPV4`).
pub const VIRTIO_NET_HDR_GSO_TCPV4: u8 = 1;
/// GSO type: UDP fragmentation offload (`VIRTIO_NET_HDR_GSO_UDP`).
pub const VIRTIO_NET_HDR_GSO_UDP: u8 = 3;
/// GSO type: IPv6 TCP (`VIRTIO_NET_HDR_GSO_TCPV6`).
pub const VIRTIO_NET_HDR_GSO_TCPV6: u8 = 4;
/// GSO type: UDP segmentation offload for IPv4 and IPv6 (`VIRTIO_NET_HDR_GSO_UDP_L4`).
pub const VIRTIO_NET_HDR_GSO_UDP_L4: u8 = 5;
/// GSO type bit: TCP with ECN (`VIRTIO_NET_HDR_GSO_ECN`).
pub const VIRTIO_NET_HDR_GSO_ECN: u8 = 0x80;
/// GSO type bit: the GSO packet is carried in a UDP tunnel over IPv4
/// (`VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4`, Linux 7.x).
pub const VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4: u8 = 0x20;
/// GSO type bit: the GSO packet is carried in a UDP tunnel over IPv6
/// (`VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6`, Linux 7.x).
pub const VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6: u8 = 0x40;
/// Both UDP tunnel GSO type bits (`VIRTIO_NET_HDR_GSO_UDP_TUNNEL`, Linux 7.x).
pub const VIRTIO_NET_HDR_GSO_UDP_TUNNEL: u8 =
    VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4 | VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6;
/// Header flag: the outer UDP checksum of a tunnel GSO packet is to be
/// filled in (`VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM`, Linux 7.x).
pub const VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM: u8 = 8;

// The `SKB_GSO_*` values below are the bits of the anonymous enum in
// include/linux/skbuff.h (the one that starts with `SKB_GSO_TCPV4`) of
// Linux 6.12. The kernel module checks each one it uses against
// `bindings::SKB_GSO_*` with a build-time assertion, so a kernel that
// renumbers them fails to build instead of producing wrong skbs.

/// Skb GSO bit for IPv4 TCP (`SKB_GSO_TCPV4`).
pub const SKB_GSO_TCPV4: u32 = 1 << 0;
/// Skb GSO bit for packets from an untrusted source (`SKB_GSO_DODGY`).
pub const SKB_GSO_DODGY: u32 = 1 << 1;
/// Skb GSO bit for TCP segments with CWR set (`SKB_GSO_TCP_ECN`).
pub const SKB_GSO_TCP_ECN: u32 = 1 << 2;
/// Skb GSO bit for TCP with a fixed IP ID (`SKB_GSO_TCP_FIXEDID`).
pub const SKB_GSO_TCP_FIXEDID: u32 = 1 << 3;
/// Skb GSO bit for IPv6 TCP (`SKB_GSO_TCPV6`).
pub const SKB_GSO_TCPV6: u32 = 1 << 4;
/// Skb GSO bit for FCoE (`SKB_GSO_FCOE`).
pub const SKB_GSO_FCOE: u32 = 1 << 5;
/// Skb GSO bit for GRE (`SKB_GSO_GRE`).
pub const SKB_GSO_GRE: u32 = 1 << 6;
/// Skb GSO bit for GRE with checksum (`SKB_GSO_GRE_CSUM`).
pub const SKB_GSO_GRE_CSUM: u32 = 1 << 7;
/// Skb GSO bit for IP in IPv4 (`SKB_GSO_IPXIP4`).
pub const SKB_GSO_IPXIP4: u32 = 1 << 8;
/// Skb GSO bit for IP in IPv6 (`SKB_GSO_IPXIP6`).
pub const SKB_GSO_IPXIP6: u32 = 1 << 9;
/// Skb GSO bit for UDP tunnels (`SKB_GSO_UDP_TUNNEL`).
pub const SKB_GSO_UDP_TUNNEL: u32 = 1 << 10;
/// Skb GSO bit for UDP tunnels with checksum (`SKB_GSO_UDP_TUNNEL_CSUM`).
pub const SKB_GSO_UDP_TUNNEL_CSUM: u32 = 1 << 11;
/// Skb GSO bit for partial GSO (`SKB_GSO_PARTIAL`).
pub const SKB_GSO_PARTIAL: u32 = 1 << 12;
/// Skb GSO bit for remote checksum offload in tunnels (`SKB_GSO_TUNNEL_REMCSUM`).
pub const SKB_GSO_TUNNEL_REMCSUM: u32 = 1 << 13;
/// Skb GSO bit for SCTP (`SKB_GSO_SCTP`).
pub const SKB_GSO_SCTP: u32 = 1 << 14;
/// Skb GSO bit for ESP (`SKB_GSO_ESP`).
pub const SKB_GSO_ESP: u32 = 1 << 15;
/// Skb GSO bit for UDP fragmentation offload (`SKB_GSO_UDP`).
pub const SKB_GSO_UDP: u32 = 1 << 16;
/// Skb GSO bit for UDP segmentation offload (`SKB_GSO_UDP_L4`).
pub const SKB_GSO_UDP_L4: u32 = 1 << 17;
/// Skb GSO bit for frag lists (`SKB_GSO_FRAGLIST`).
pub const SKB_GSO_FRAGLIST: u32 = 1 << 18;

/// Smallest gso_size a TCP GSO packet gets (`TCP_MIN_GSO_SIZE`, include/net/tcp.h).
pub const TCP_MIN_GSO_SIZE: u16 = 8;
/// The gso_size value with a special meaning the write path refuses (`GSO_BY_FRAGS`).
pub const GSO_BY_FRAGS: u16 = 0xFFFF;
/// Most segments a UDP_L4 GSO packet may make (`UDP_MAX_SEGMENTS`, include/linux/udp.h).
pub const UDP_MAX_SEGMENTS: u32 = 128;
/// Offset of the checksum field in a TCP header (`offsetof(struct tcphdr, check)`).
pub const TCP_CSUM_OFFSET: u16 = 16;
/// Offset of the checksum field in a UDP header (`offsetof(struct udphdr, check)`).
pub const UDP_CSUM_OFFSET: u16 = 6;

use crate::pure::abi::{TunAbi, TUN_VNET_TNL_SIZE};
use crate::pure::errno::EINVAL;

/// EtherType of IPv4 (`ETH_P_IP`).
pub const ETH_P_IP: u16 = 0x0800;
/// EtherType of IPv6 (`ETH_P_IPV6`).
pub const ETH_P_IPV6: u16 = 0x86DD;
/// IP protocol number of TCP (`IPPROTO_TCP`).
const IPPROTO_TCP: u8 = 6;
/// IP protocol number of UDP (`IPPROTO_UDP`).
const IPPROTO_UDP: u8 = 17;

/// Length of `struct iphdr`, the default `nh_min_len`.
const IPV4_HLEN: u32 = 20;
/// Length of `struct ipv6hdr`, `nh_min_len` for TCPV6.
const IPV6_HLEN: u32 = 40;
/// Length of `struct tcphdr`.
const TCP_HLEN: u32 = 20;
/// Length of `struct udphdr`.
const UDP_HLEN: u32 = 8;
/// `U16_MAX`, the bound of `skb_partial_csum_set()`.
const U16_MAX: u64 = 0xFFFF;

/// Byte order of the 16-bit fields of the vnet header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// Little endian (virtio 1.0, or `TUNSETVNETLE`).
    Little,
    /// Big endian (`TUNSETVNETBE` on a kernel with `CONFIG_TUN_VNET_CROSS_LE`).
    Big,
}

impl ByteOrder {
    /// Returns the CPU's byte order, which is tun's default (legacy virtio).
    pub const fn native() -> Self {
        if cfg!(target_endian = "little") {
            ByteOrder::Little
        } else {
            ByteOrder::Big
        }
    }

    /// Returns the order tun uses given its `TUN_VNET_LE` and `TUN_VNET_BE` flags.
    ///
    /// This is `tun_is_little_endian()` (drivers/net/tun.c): the LE flag wins,
    /// then the BE flag (only settable with `CONFIG_TUN_VNET_CROSS_LE`), then
    /// the CPU's order.
    pub const fn from_tun_flags(vnet_le: bool, vnet_be: bool) -> Self {
        if vnet_le {
            ByteOrder::Little
        } else if vnet_be {
            ByteOrder::Big
        } else {
            Self::native()
        }
    }

    /// Tells whether this is [`ByteOrder::Big`].
    pub const fn is_big(self) -> bool {
        matches!(self, ByteOrder::Big)
    }

    /// Returns [`ByteOrder::Big`] if `big`, else [`ByteOrder::Little`].
    pub const fn from_big(big: bool) -> Self {
        if big {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        }
    }

    /// Decodes a 16-bit field stored in this order.
    pub const fn read_u16(self, bytes: [u8; 2]) -> u16 {
        match self {
            ByteOrder::Little => u16::from_le_bytes(bytes),
            ByteOrder::Big => u16::from_be_bytes(bytes),
        }
    }

    /// Encodes a 16-bit field in this order.
    pub const fn write_u16(self, value: u16) -> [u8; 2] {
        match self {
            ByteOrder::Little => value.to_le_bytes(),
            ByteOrder::Big => value.to_be_bytes(),
        }
    }
}

/// A `struct virtio_net_hdr` with its 16-bit fields in CPU order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VnetHdr {
    /// `VIRTIO_NET_HDR_F_*` bits.
    pub flags: u8,
    /// `VIRTIO_NET_HDR_GSO_*` value, possibly with the ECN bit.
    pub gso_type: u8,
    /// Length of the headers, a hint for the linear part.
    pub hdr_len: u16,
    /// Payload bytes per segment.
    pub gso_size: u16,
    /// Where checksumming starts, from the start of the packet.
    pub csum_start: u16,
    /// Where the checksum goes, from `csum_start`.
    pub csum_offset: u16,
}

impl VnetHdr {
    /// Decodes the 10 bytes of a `struct virtio_net_hdr`.
    pub const fn parse(bytes: &[u8; VIRTIO_NET_HDR_LEN], order: ByteOrder) -> Self {
        let [flags, gso_type, h0, h1, g0, g1, s0, s1, o0, o1] = *bytes;
        VnetHdr {
            flags,
            gso_type,
            hdr_len: order.read_u16([h0, h1]),
            gso_size: order.read_u16([g0, g1]),
            csum_start: order.read_u16([s0, s1]),
            csum_offset: order.read_u16([o0, o1]),
        }
    }

    /// Decodes a header read into a 24-byte buffer: the `struct
    /// virtio_net_hdr` at its start and the Linux 7.x tunnel offsets at its
    /// end (zero when only 10 bytes were read into a zeroed buffer, as C
    /// reads them into a zeroed `struct virtio_net_hdr_v1_hash_tunnel`).
    pub const fn parse_tnl(
        bytes: &[u8; TUN_VNET_TNL_SIZE],
        order: ByteOrder,
    ) -> (Self, TunnelOffsets) {
        let [a, b, c, d, e, f, g, h, i, j, ..] = *bytes;
        (
            Self::parse(&[a, b, c, d, e, f, g, h, i, j], order),
            TunnelOffsets::parse(bytes),
        )
    }

    /// Decodes the first 10 bytes of `bytes`, or returns `None` if there are fewer.
    ///
    /// Bytes past the 10th (a `TUNSETVNETHDRSZ` larger than 10) are ignored,
    /// as tun skips them on write.
    ///
    /// Host builds only (tests, fuzzing): not compiled into `rtun.ko`.
    #[cfg(rtun_host)]
    pub fn parse_slice(bytes: &[u8], order: ByteOrder) -> Option<Self> {
        bytes
            .first_chunk::<VIRTIO_NET_HDR_LEN>()
            .map(|chunk| Self::parse(chunk, order))
    }

    /// Encodes the header as the 10 bytes of a `struct virtio_net_hdr`.
    pub const fn to_bytes(&self, order: ByteOrder) -> [u8; VIRTIO_NET_HDR_LEN] {
        let [h0, h1] = order.write_u16(self.hdr_len);
        let [g0, g1] = order.write_u16(self.gso_size);
        let [s0, s1] = order.write_u16(self.csum_start);
        let [o0, o1] = order.write_u16(self.csum_offset);
        [self.flags, self.gso_type, h0, h1, g0, g1, s0, s1, o0, o1]
    }

    /// Tells whether `VIRTIO_NET_HDR_F_NEEDS_CSUM` is set.
    pub const fn needs_csum(&self) -> bool {
        self.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM != 0
    }
}

/// Which statistics counter upstream bumps when a write fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxCounter {
    /// No counter: the early length checks of `tun_get_user()` return directly.
    None,
    /// `rx_frame_errors`: `virtio_net_hdr_to_skb()` refused the header (`tun_get_user()`).
    FrameErrors,
    /// `rx_dropped`: the `drop:` label of `tun_get_user()`.
    Dropped,
}

/// Why a write is refused; each variant is one rule of the C code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HdrError {
    /// W1: without `IFF_NO_PI` the write is shorter than `struct tun_pi` (`tun_get_user()`).
    ShortForPi,
    /// W2: with `IFF_VNET_HDR` the rest is shorter than `vnet_hdr_sz` (`tun_get_user()`).
    ShortForVnetHdr,
    /// W4: `hdr_len`, after the W3 raise, exceeds the packet length (`tun_get_user()`).
    ///
    /// On Linux 7.x (`__tun_vnet_hdr_get()`) the bound is what follows the
    /// parsed part of the header, so it is looser by `vnet_hdr_sz` minus the
    /// parsed size.
    HdrLenTooLong,
    /// W5: TAP packet shorter than an Ethernet header (`tun_get_user()`).
    TapTooShort,
    /// W5: TAP `hdr_len` nonzero but shorter than an Ethernet header (`tun_get_user()`).
    TapHdrLenTooShort,
    /// `gso_type` without the ECN bit is not TCPV4, UDP, TCPV6 or UDP_L4.
    ///
    /// Refused by the `switch` at the top of `virtio_net_hdr_to_skb()`.
    BadGsoType,
    /// A GSO type with `gso_size` 0 (`virtio_net_hdr_to_skb()`).
    ZeroGsoSize,
    /// `NEEDS_CSUM` asks for more bytes than the packet has (`virtio_net_hdr_to_skb()`).
    CsumBeyondPacket,
    /// `skb_partial_csum_set()` refuses the checksum location (`virtio_net_hdr_to_skb()`).
    ///
    /// This is `headroom + csum_start >= U16_MAX`; its other half,
    /// `csum_end > skb_headlen()`, cannot fail after the pull of
    /// [`HdrError::CsumBeyondPacket`] but is evaluated all the same.
    CsumStartTooFar,
    /// The transport header starts before `nh_min_len` (`virtio_net_hdr_to_skb()`).
    TransportBeforeNetwork,
    /// The packet is too short for the transport header (`virtio_net_hdr_to_skb()`).
    TransportTooShort,
    /// UDP_L4 GSO without `NEEDS_CSUM` (`virtio_net_hdr_to_skb()`).
    UdpL4NoCsum,
    /// UDP_L4 GSO with a `csum_offset` other than 6 (`virtio_net_hdr_to_skb()`).
    UdpL4CsumOffset,
    /// UDP_L4 GSO payload larger than `gso_size * UDP_MAX_SEGMENTS` (`virtio_net_hdr_to_skb()`).
    UdpL4TooManySegments,
    /// UDP_L4 GSO with the ECN bit (`virtio_net_hdr_to_skb()`).
    UdpL4Ecn,
    /// TCP GSO with `NEEDS_CSUM` and a `csum_offset` other than 16 (`virtio_net_hdr_to_skb()`).
    TcpCsumOffset,
    /// `gso_size` is `GSO_BY_FRAGS`, after the TCP clamp (`virtio_net_hdr_to_skb()`).
    GsoByFrags,
    /// TUN with `IFF_NO_PI` and an empty packet (`tun_get_user()`).
    EmptyPacket,
    /// TUN with `IFF_NO_PI` and an IP version nibble other than 4 or 6 (`tun_get_user()`).
    BadIpVersion,
    /// Linux 7.x: a GSO packet without `NEEDS_CSUM` the flow dissector
    /// cannot parse (`virtio_net_hdr_to_skb()`).
    GsoNotDissected,
    /// Linux 7.x: the dissected transport protocol is not the GSO type's
    /// (`virtio_net_hdr_to_skb()`).
    GsoWrongTransport,
    /// Linux 7.x: the dissected network protocol does not fit the GSO type
    /// (`virtio_net_hdr_match_proto()`).
    GsoWrongNetwork,
    /// Linux 7.x: UDP tunnel GSO with a header shorter than 24 bytes
    /// (`virtio_net_hdr_tnl_to_skb()`, not negotiated).
    TunnelNotNegotiated,
    /// Linux 7.x: both the IPv4 and the IPv6 tunnel bits (`virtio_net_hdr_tnl_to_skb()`).
    TunnelBothFamilies,
    /// Linux 7.x: the tunnel carries no GSO type, or UFO (`virtio_net_hdr_tnl_to_skb()`).
    TunnelBadInnerType,
    /// Linux 7.x: UDP tunnel GSO without `NEEDS_CSUM` (`virtio_net_hdr_tnl_to_skb()`).
    TunnelNoCsum,
    /// Linux 7.x: outer transport, inner network or inner transport offset
    /// too small for the headers in between (`virtio_net_hdr_tnl_to_skb()`).
    TunnelBadOffsets,
    /// Linux 7.x: a UDP_L4 tunnel packet whose inner header is IPv6 but
    /// leaves it less than 40 bytes (`virtio_net_hdr_tnl_to_skb()`).
    TunnelInnerTooShort,
}

impl HdrError {
    /// Every variant, for tests that go through them all.
    ///
    /// Host builds only (tests, fuzzing): not compiled into `rtun.ko`.
    #[cfg(rtun_host)]
    pub const ALL: [HdrError; 28] = [
        HdrError::ShortForPi,
        HdrError::ShortForVnetHdr,
        HdrError::HdrLenTooLong,
        HdrError::TapTooShort,
        HdrError::TapHdrLenTooShort,
        HdrError::BadGsoType,
        HdrError::ZeroGsoSize,
        HdrError::CsumBeyondPacket,
        HdrError::CsumStartTooFar,
        HdrError::TransportBeforeNetwork,
        HdrError::TransportTooShort,
        HdrError::UdpL4NoCsum,
        HdrError::UdpL4CsumOffset,
        HdrError::UdpL4TooManySegments,
        HdrError::UdpL4Ecn,
        HdrError::TcpCsumOffset,
        HdrError::GsoByFrags,
        HdrError::EmptyPacket,
        HdrError::BadIpVersion,
        HdrError::GsoNotDissected,
        HdrError::GsoWrongTransport,
        HdrError::GsoWrongNetwork,
        HdrError::TunnelNotNegotiated,
        HdrError::TunnelBothFamilies,
        HdrError::TunnelBadInnerType,
        HdrError::TunnelNoCsum,
        HdrError::TunnelBadOffsets,
        HdrError::TunnelInnerTooShort,
    ];

    /// Returns the positive errno upstream returns for this error.
    ///
    /// Every one is `EINVAL` in Linux 6.12; this is the one place to change
    /// if that ever differs.
    pub const fn errno(self) -> i32 {
        match self {
            HdrError::ShortForPi
            | HdrError::ShortForVnetHdr
            | HdrError::HdrLenTooLong
            | HdrError::TapTooShort
            | HdrError::TapHdrLenTooShort
            | HdrError::BadGsoType
            | HdrError::ZeroGsoSize
            | HdrError::CsumBeyondPacket
            | HdrError::CsumStartTooFar
            | HdrError::TransportBeforeNetwork
            | HdrError::TransportTooShort
            | HdrError::UdpL4NoCsum
            | HdrError::UdpL4CsumOffset
            | HdrError::UdpL4TooManySegments
            | HdrError::UdpL4Ecn
            | HdrError::TcpCsumOffset
            | HdrError::GsoByFrags
            | HdrError::EmptyPacket
            | HdrError::BadIpVersion
            | HdrError::GsoNotDissected
            | HdrError::GsoWrongTransport
            | HdrError::GsoWrongNetwork
            | HdrError::TunnelNotNegotiated
            | HdrError::TunnelBothFamilies
            | HdrError::TunnelBadInnerType
            | HdrError::TunnelNoCsum
            | HdrError::TunnelBadOffsets
            | HdrError::TunnelInnerTooShort => EINVAL,
        }
    }

    /// Returns the counter upstream bumps for this error.
    ///
    /// W1 to W5 return before any skb exists and bump nothing; a refusal of
    /// `virtio_net_hdr_to_skb()` jumps to `free_skb:` after bumping
    /// `rx_frame_errors`; the IP version checks jump to `drop:`, which bumps
    /// `rx_dropped` (all in `tun_get_user()`).
    pub const fn counter(self) -> RxCounter {
        match self {
            HdrError::ShortForPi
            | HdrError::ShortForVnetHdr
            | HdrError::HdrLenTooLong
            | HdrError::TapTooShort
            | HdrError::TapHdrLenTooShort => RxCounter::None,
            HdrError::BadGsoType
            | HdrError::ZeroGsoSize
            | HdrError::CsumBeyondPacket
            | HdrError::CsumStartTooFar
            | HdrError::TransportBeforeNetwork
            | HdrError::TransportTooShort
            | HdrError::UdpL4NoCsum
            | HdrError::UdpL4CsumOffset
            | HdrError::UdpL4TooManySegments
            | HdrError::UdpL4Ecn
            | HdrError::TcpCsumOffset
            | HdrError::GsoByFrags
            | HdrError::GsoNotDissected
            | HdrError::GsoWrongTransport
            | HdrError::GsoWrongNetwork
            | HdrError::TunnelNotNegotiated
            | HdrError::TunnelBothFamilies
            | HdrError::TunnelBadInnerType
            | HdrError::TunnelNoCsum
            | HdrError::TunnelBadOffsets
            | HdrError::TunnelInnerTooShort => RxCounter::FrameErrors,
            HdrError::EmptyPacket | HdrError::BadIpVersion => RxCounter::Dropped,
        }
    }
}

/// Sizes of the running kernel that decide the skb layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkbGeometry {
    /// `PAGE_SIZE`.
    pub page_size: u32,
    /// `SKB_DATA_ALIGN(sizeof(struct skb_shared_info))`.
    pub shinfo_size: u32,
    /// `MAX_SKB_FRAGS`.
    pub max_skb_frags: u32,
    /// `PAGE_ALLOC_COSTLY_ORDER`.
    pub costly_order: u32,
    /// `NET_IP_ALIGN`.
    pub net_ip_align: u32,
    /// `NET_SKB_PAD`, tun's default `align`.
    pub net_skb_pad: u32,
    /// `SMP_CACHE_BYTES`, what `SKB_DATA_ALIGN()` rounds up to.
    pub smp_cache_bytes: u32,
}

impl SkbGeometry {
    /// The values of an x86_64 Linux 6.12 kernel with 4 KiB pages and 17 frags.
    ///
    /// Host builds only (tests, fuzzing): not compiled into `rtun.ko`.
    #[cfg(rtun_host)]
    pub const X86_64: Self = SkbGeometry {
        page_size: 4096,
        shinfo_size: 320,
        max_skb_frags: 17,
        costly_order: 3,
        net_ip_align: 0,
        net_skb_pad: 64,
        smp_cache_bytes: 64,
    };

    /// Returns `SKB_DATA_ALIGN(x)`: `x` rounded up to `SMP_CACHE_BYTES`.
    pub fn data_align(&self, x: u64) -> u64 {
        let align = u64::from(self.smp_cache_bytes.max(1));
        // Not `u64::div_ceil()`: its `+ 1` is built with overflow checks,
        // which would put a panic path the compiler cannot rule out here.
        let (units, rest) = (x / align, x % align);
        let units = if rest == 0 {
            units
        } else {
            units.saturating_add(1)
        };
        units.saturating_mul(align)
    }

    /// Returns `TUN_RX_PAD` (`NET_IP_ALIGN + NET_SKB_PAD`, tun.c), the headroom
    /// of `tun_build_skb()` without an XDP program.
    pub fn tun_rx_pad(&self) -> u32 {
        self.net_ip_align.saturating_add(self.net_skb_pad)
    }

    /// Returns `SKB_MAX_HEAD(x)`, the largest linear part in one page after `x` bytes of headroom.
    ///
    /// This is `PAGE_SIZE - x - SKB_DATA_ALIGN(sizeof(struct skb_shared_info))`
    /// (`SKB_MAX_HEAD()`, `SKB_MAX_ORDER()` and `SKB_WITH_OVERHEAD()`,
    /// include/linux/skbuff.h). C computes it as an `int`; tun bounds its
    /// `align` (`tun_set_headroom()`) so that it stays positive, and here it
    /// saturates at 0 instead.
    pub fn skb_max_head(&self, x: u64) -> u64 {
        u64::from(self.page_size)
            .saturating_sub(x)
            .saturating_sub(u64::from(self.shinfo_size))
    }

    /// Returns `MAX_SKB_FRAGS * (PAGE_SIZE << PAGE_ALLOC_COSTLY_ORDER)`, the most bytes of frags.
    pub fn max_frag_bytes(&self) -> u64 {
        let order_pages = 2u64.checked_pow(self.costly_order).unwrap_or(u64::MAX);
        u64::from(self.max_skb_frags)
            .saturating_mul(u64::from(self.page_size))
            .saturating_mul(order_pages)
    }
}

/// How the driver allocates the skb, which decides headroom and linear length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkbAlloc {
    /// Like `tun_alloc_skb()` (tun.c): headroom is `align` (+ `NET_IP_ALIGN`
    /// for TAP) and the linear part follows `hdr_len`.
    Paged,
    /// Like `tun_build_skb()` (tun.c): the whole packet is linear behind
    /// `headroom` bytes (`TUN_RX_PAD`, + `XDP_PACKET_HEADROOM` with an XDP
    /// program).
    Linear {
        /// Bytes reserved in front of the packet.
        headroom: u32,
    },
}

/// `XDP_PACKET_HEADROOM` (include/uapi/linux/bpf.h).
pub const XDP_PACKET_HEADROOM: u64 = 256;

/// Returns how C tun allocates the skb for a `len`-byte packet (after the PI
/// and the virtio-net header), as `tun_can_build_skb()` decides (tun.c).
///
/// A TAP device written without blocking gets `tun_build_skb()`: the packet
/// in the task's page frag behind `TUN_RX_PAD` bytes, provided the packet,
/// that pad, `XDP_PACKET_HEADROOM` (counted even without a program) and the
/// shared info fit in one page. C also requires an unlimited socket send
/// buffer and no zero-copy: rtun has neither `TUNSETSNDBUF` nor zero-copy
/// writes, so both always hold. Everything else gets `tun_alloc_skb()`.
pub fn write_alloc(is_tap: bool, nonblock: bool, len: usize, g: &SkbGeometry) -> SkbAlloc {
    if !is_tap || !nonblock {
        return SkbAlloc::Paged;
    }
    let room = u64::try_from(len)
        .unwrap_or(u64::MAX)
        .saturating_add(u64::from(g.tun_rx_pad()))
        .saturating_add(XDP_PACKET_HEADROOM);
    if g.data_align(room).saturating_add(u64::from(g.shinfo_size)) > u64::from(g.page_size) {
        return SkbAlloc::Paged;
    }
    SkbAlloc::Linear {
        headroom: g.tun_rx_pad(),
    }
}

/// What the driver knows about a write before it looks at the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteCtx {
    /// Bytes in the write, PI and vnet header included (`iov_iter_count()`).
    pub total_len: usize,
    /// The device is a TAP (Ethernet) device rather than TUN (IP).
    pub is_tap: bool,
    /// `IFF_NO_PI` is set: no `struct tun_pi` precedes the packet.
    pub no_pi: bool,
    /// `Some(vnet_hdr_sz)` when `IFF_VNET_HDR` is set.
    ///
    /// `TUNSETVNETHDRSZ` refuses sizes below 10 (`__tun_chr_ioctl()`); a
    /// smaller value here is treated as 10.
    pub vnet_hdr_sz: Option<u32>,
    /// `tun->align`: `NET_SKB_PAD` by default (`tun_set_iff()`).
    pub align: u32,
    /// How the skb is allocated.
    pub alloc: SkbAlloc,
    /// Kernel sizes.
    pub geometry: SkbGeometry,
    /// Which kernel's tun.c the rules follow.
    pub abi: TunAbi,
}

///
/// Host builds only (tests, fuzzing): not compiled into `rtun.ko`.
#[cfg(rtun_host)]
impl WriteCtx {
    /// Returns a context with tun's defaults for x86_64 and a paged skb.
    pub const fn new(
        total_len: usize,
        is_tap: bool,
        no_pi: bool,
        vnet_hdr_sz: Option<u32>,
    ) -> Self {
        WriteCtx {
            total_len,
            is_tap,
            no_pi,
            vnet_hdr_sz,
            align: SkbGeometry::X86_64.net_skb_pad,
            alloc: SkbAlloc::Paged,
            geometry: SkbGeometry::X86_64,
            abi: TunAbi::Linux6_12,
        }
    }
}

/// Where the parts of a write are, once W1 and W2 passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// Length of the PI prefix: 0 with `IFF_NO_PI`, else 4.
    pub pi_len: usize,
    /// Offset of the vnet header in the write (equal to `pi_len`).
    pub hdr_offset: usize,
    /// Bytes of vnet header: 0 without `IFF_VNET_HDR`, else `vnet_hdr_sz`.
    pub vnet_hdr_sz: usize,
    /// Offset of the packet in the write.
    pub data_offset: usize,
    /// Length of the packet (C's `len` after the prefixes).
    pub len: usize,
}

impl Split {
    /// Starts splitting a write of `total_len` bytes: no prefix taken yet.
    pub const fn start(total_len: usize) -> Self {
        Split {
            pi_len: 0,
            hdr_offset: 0,
            vnet_hdr_sz: 0,
            data_offset: 0,
            len: total_len,
        }
    }

    /// W1: takes the 4-byte PI off the front (`tun_get_user()`'s first
    /// length check); a shorter write is [`HdrError::ShortForPi`].
    pub fn take_pi(&mut self) -> Result<(), HdrError> {
        self.len = self
            .len
            .checked_sub(TUN_PI_LEN)
            .ok_or(HdrError::ShortForPi)?;
        self.pi_len = TUN_PI_LEN;
        self.hdr_offset = TUN_PI_LEN;
        self.data_offset = TUN_PI_LEN;
        Ok(())
    }

    /// W2: takes a `vnet_hdr_sz`-byte virtio-net header off what is left
    /// (`tun_get_user()`'s `iov_iter_count(from) < vnet_hdr_sz` check); a
    /// shorter rest is [`HdrError::ShortForVnetHdr`].
    ///
    /// `TUNSETVNETHDRSZ` refuses sizes below 10; a smaller `vnet_hdr_sz`
    /// here is taken as 10.
    pub fn take_vnet_hdr(&mut self, vnet_hdr_sz: u32) -> Result<(), HdrError> {
        let sz = max(
            usize::try_from(vnet_hdr_sz).unwrap_or(usize::MAX),
            VIRTIO_NET_HDR_LEN,
        );
        self.len = self.len.checked_sub(sz).ok_or(HdrError::ShortForVnetHdr)?;
        self.vnet_hdr_sz = sz;
        self.data_offset = self.pi_len.saturating_add(sz);
        Ok(())
    }
}

/// Checks W1 and W2 and says where the PI, the vnet header and the packet are.
///
/// C checks each length before its `copy_from_iter_full()`, and copies the
/// PI between W1 and W2, so a write too short for the vnet header whose PI
/// cannot be read fails with `EFAULT`. The driver therefore takes the steps
/// one by one ([`Split::take_pi`], copy, [`Split::take_vnet_hdr`], copy) and
/// passes the result to [`plan_layout_split`]; this runs both steps at once
/// for callers that do not care about the position of `EFAULT`.
pub fn split_write(ctx: &WriteCtx) -> Result<Split, HdrError> {
    let mut split = Split::start(ctx.total_len);
    if !ctx.no_pi {
        split.take_pi()?;
    }
    if let Some(sz) = ctx.vnet_hdr_sz {
        split.take_vnet_hdr(sz)?;
    }
    Ok(split)
}

/// How the skb is laid out before `virtio_net_hdr_to_skb()` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Where the PI, the header and the packet are in the write.
    pub split: Split,
    /// `hdr_len` after the W3 raise, in CPU order (0 without `IFF_VNET_HDR`).
    pub hdr_len: u16,
    /// Headroom reserved in front of the packet (`skb_headroom()`).
    pub headroom: u32,
    /// Bytes copied into the skb, the whole packet (C's `copylen`).
    pub copy_len: usize,
    /// Bytes of the packet in the linear part at allocation (C's `linear`).
    pub linear: usize,
}

impl Layout {
    /// Returns the bytes of the packet that go in page frags at allocation.
    pub const fn frags_len(&self) -> usize {
        self.copy_len.saturating_sub(self.linear)
    }
}

/// Applies W3, W4 and W5 and computes the linear length as tun does.
///
/// `hdr` is ignored (taken as all zeroes, like C's `gso = { 0 }`) when the
/// context has no `IFF_VNET_HDR`.
pub fn plan_layout(hdr: &VnetHdr, ctx: &WriteCtx) -> Result<Layout, HdrError> {
    plan_layout_split(hdr, ctx, split_write(ctx)?)
}

/// [`plan_layout`] for a write whose W1 and W2 the caller already checked
/// with [`Split::take_pi`] and [`Split::take_vnet_hdr`].
#[inline(always)]
pub fn plan_layout_split(hdr: &VnetHdr, ctx: &WriteCtx, split: Split) -> Result<Layout, HdrError> {
    let len = split.len;

    // Without `IFF_VNET_HDR` C's header is all zeroes (`gso = { 0 }`):
    // `hdr_len` stays 0 and W3 and W4 cannot refuse, so they are not run
    // (as in C, where they sit inside `if (tun->flags & IFF_VNET_HDR)`).
    let mut hdr_len = 0;
    if ctx.vnet_hdr_sz.is_some() {
        // W3, `tun_get_user()`: the sum is computed in `int` (the u16
        // values are promoted, up to 0x1_0001 + 0xFFFF, no overflow) and
        // compared in `int`, but stored back through `cpu_to_tun16()`,
        // which keeps only the low 16 bits. A sum above 0xFFFF therefore
        // wraps: for example 0xFFFF + 0xFFFF + 2 = 0x2_0000 stores 0. The
        // wrapped value is what W4, W5 and the linear length see, exactly
        // as in C; such a header is later refused by the `NEEDS_CSUM` pull
        // in `plan_skb()`.
        hdr_len = hdr.hdr_len;
        if hdr.needs_csum() {
            let end = u32::from(hdr.csum_start) + u32::from(hdr.csum_offset) + 2;
            if end > u32::from(hdr_len) {
                let [lo, hi, _, _] = end.to_le_bytes();
                hdr_len = u16::from_le_bytes([lo, hi]);
            }
        }

        // W4, `tun_get_user()` (6.12) or `__tun_vnet_hdr_get()` (7.x),
        // whose bound includes the unparsed rest of the header.
        let slack = ctx.abi.hdr_len_slack(split.vnet_hdr_sz);
        if usize::from(hdr_len) > len.saturating_add(slack) {
            return Err(HdrError::HdrLenTooLong);
        }
    }

    // W5, `tun_get_user()`: `align` grows by `NET_IP_ALIGN` for TAP.
    let mut align = u64::from(ctx.align);
    if ctx.is_tap {
        align = align.saturating_add(u64::from(ctx.geometry.net_ip_align));
        if len < ETH_HLEN {
            return Err(HdrError::TapTooShort);
        }
        if hdr_len != 0 && usize::from(hdr_len) < ETH_HLEN {
            return Err(HdrError::TapHdrLenTooShort);
        }
    }

    let (headroom, linear) = match ctx.alloc {
        SkbAlloc::Paged => (
            u32::try_from(align).unwrap_or(u32::MAX),
            paged_linear(hdr_len, len, align, &ctx.geometry),
        ),
        SkbAlloc::Linear { headroom } => (headroom, len),
    };

    Ok(Layout {
        split,
        hdr_len,
        headroom,
        copy_len: len,
        linear,
    })
}

/// Computes C's `linear` for `tun_alloc_skb()` in the write path.
///
/// A write through the character device has no `msg_control`, so
/// `zerocopy` is false and `copylen = len` (`tun_get_user()`).
#[inline]
fn paged_linear(hdr_len: u16, len: usize, align: u64, geo: &SkbGeometry) -> usize {
    let len64 = u64::try_from(len).unwrap_or(u64::MAX);
    // `good_linear = SKB_MAX_HEAD(align)` in `tun_get_user()`.
    let good_linear = geo.skb_max_head(align);
    // `tun_get_user()`: `hdr_len`, capped at `good_linear`.
    let hdr_len = u64::from(hdr_len);
    let mut linear = if hdr_len > good_linear {
        good_linear
    } else {
        hdr_len
    };
    // `tun_get_user()`: without `hdr_len`, `min(good_linear, copylen)`.
    if linear == 0 {
        linear = min(good_linear, len64);
    }
    // tun_alloc_skb().
    if align.saturating_add(len64) < u64::from(geo.page_size) {
        linear = len64;
    }
    let max_frags = geo.max_frag_bytes();
    if len64.saturating_sub(linear) > max_frags {
        linear = len64.saturating_sub(max_frags);
    }
    // W4 and the branches above keep `linear <= len`; the `min` only spells
    // that out for the conversion.
    usize::try_from(min(linear, len64)).unwrap_or(len)
}

/// The checksum request an accepted header puts on the skb.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsumPlan {
    /// `csum_start` from the header, from the start of the packet.
    pub start: u16,
    /// `csum_offset` from the header.
    pub offset: u16,
    /// `skb->csum_start`: `skb_headroom() + start`, always below `U16_MAX`.
    pub skb_csum_start: u16,
}

/// The GSO metadata an accepted header puts on the skb.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GsoPlan {
    /// `skb_shinfo()->gso_type`: one base `SKB_GSO_*` bit, maybe `SKB_GSO_TCP_ECN`, and `SKB_GSO_DODGY`.
    pub gso_type: u32,
    /// `skb_shinfo()->gso_size`, after the TCP clamp to `TCP_MIN_GSO_SIZE`.
    pub gso_size: u16,
}

/// What a UDP tunnel GSO header puts on the skb (Linux 7.x,
/// `virtio_net_hdr_tnl_to_skb()`), on top of the inner packet's plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelPlan {
    /// `SKB_GSO_UDP_TUNNEL` or `SKB_GSO_UDP_TUNNEL_CSUM`, OR-ed into
    /// `skb_shinfo()->gso_type` even when the packet is too small for GSO.
    pub gso_bit: u32,
    /// `skb->inner_protocol`: `ETH_P_IP` or `ETH_P_IPV6`, in CPU order.
    pub inner_proto: u16,
    /// Inner transport header, from the start of the packet (`csum_start`).
    pub inner_th: u16,
    /// Inner network (and inner MAC) header, from the start of the packet.
    pub inner_nh: u16,
    /// Outer transport (UDP) header, from the start of the packet.
    pub outer_th: u16,
}

/// What `virtio_net_hdr_to_skb()` does to the skb when it accepts the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkbPlan {
    /// `CHECKSUM_PARTIAL` location, when `NEEDS_CSUM` is set.
    pub csum: Option<CsumPlan>,
    /// Transport header offset from the start of the packet: `csum_start`
    /// with `NEEDS_CSUM`, the dissector's answer for a GSO packet without
    /// it (Linux 7.x), else not set.
    pub transport_offset: Option<u32>,
    /// The base GSO type's transport header length (`thlen`): 20 for TCP, 8 for UDP, 0 without GSO.
    pub thlen: u32,
    /// C's `p_off`, the end of the transport header (0 without `NEEDS_CSUM` and without GSO).
    pub payload_offset: u32,
    /// GSO metadata, or `None` for a plain packet (including a GSO header whose payload fits in one segment).
    pub gso: Option<GsoPlan>,
    /// `skb->protocol` as the flow dissector branch left it (Linux 7.x), in
    /// CPU order; `None` when that branch did not run.
    pub protocol: Option<u16>,
    /// UDP tunnel metadata (Linux 7.x).
    pub tunnel: Option<TunnelPlan>,
    /// `skb_headlen()` after the pulls of `virtio_net_hdr_to_skb()`, at least `Layout::linear`.
    pub head_len: usize,
}

/// A model of the lengths of the skb that `pskb_may_pull()` looks at.
struct SkbModel {
    /// `skb->len`.
    len: u64,
    /// `skb_headlen()`.
    headlen: u64,
}

impl SkbModel {
    /// Does what `pskb_may_pull()` does to the lengths (include/linux/skbuff.h).
    ///
    /// A failing allocation in `__pskb_pull_tail()` is not modelled.
    fn may_pull(&mut self, n: u64) -> bool {
        if n <= self.headlen {
            return true;
        }
        if n > self.len {
            return false;
        }
        self.headlen = n;
        true
    }
}

/// The tunnel fields of a 24-byte header (`struct virtio_net_hdr_v1_hash_tunnel`, Linux 7.x).
///
/// Both are zero when the header is shorter, as C zeroes the whole struct
/// before it reads the header (`tun_get_user()`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TunnelOffsets {
    /// `outer_th_offset`: the outer UDP header, from the start of the packet.
    pub outer_th: u16,
    /// `inner_nh_offset`: the inner network header, from the start of the packet.
    pub inner_nh: u16,
}

impl TunnelOffsets {
    /// Decodes bytes 20 to 23 of a 24-byte header; they are little endian
    /// whatever the device's byte order (`le16_to_cpu()` in C).
    pub const fn parse(bytes: &[u8; TUN_VNET_TNL_SIZE]) -> Self {
        let [.., o0, o1, i0, i1] = *bytes;
        TunnelOffsets {
            outer_th: u16::from_le_bytes([o0, o1]),
            inner_nh: u16::from_le_bytes([i0, i1]),
        }
    }
}

/// What the flow dissector reports (`struct flow_keys_basic`), in CPU order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowKeys {
    /// `control.thoff`: where the transport header starts.
    pub thoff: u16,
    /// `basic.n_proto`: the last network protocol's EtherType.
    pub n_proto: u16,
    /// `basic.ip_proto`: the transport protocol.
    pub ip_proto: u8,
}

/// What the Linux 7.x rules ask of the packet once it is in the skb.
///
/// The driver answers from the skb (the dissector is the kernel's own),
/// the host tests from a script. The 6.12 rules never ask.
pub trait Frame {
    /// Returns byte `off` of the packet, `None` past its end.
    fn byte(&self, off: usize) -> Option<u8>;
    /// Returns `dev_parse_header_protocol()` for the packet, 0 when the
    /// device cannot tell.
    fn header_protocol(&mut self) -> u16;
    /// Runs `skb_flow_dissect_flow_keys_basic()` with `skb->protocol` set
    /// to `proto`; `None` when it fails.
    fn dissect(&mut self, proto: u16) -> Option<FlowKeys>;
}

/// A [`Frame`] that knows nothing, for rules that never ask (Linux 6.12).
pub struct NoFrame;

impl Frame for NoFrame {
    fn byte(&self, _off: usize) -> Option<u8> {
        None
    }

    fn header_protocol(&mut self) -> u16 {
        0
    }

    fn dissect(&mut self, _proto: u16) -> Option<FlowKeys> {
        None
    }
}

/// What the header rules need to know besides the header and the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApplyCtx {
    /// Which kernel's tun.c the rules follow.
    pub abi: TunAbi,
    /// The device's header byte order (Linux 7.x forces little endian
    /// inside the tunnel rules).
    pub order: ByteOrder,
    /// The tunnel fields of the header (zero unless 24 bytes were parsed).
    pub tunnel: TunnelOffsets,
    /// `skb->protocol` when the header is applied, in CPU order: the PI's
    /// or the version nibble's for TUN on Linux 7.x, else 0.
    pub l3_proto: u16,
}

impl ApplyCtx {
    /// The context of Linux 6.12, where only the header and the layout count.
    pub const LINUX_6_12: Self = ApplyCtx {
        abi: TunAbi::Linux6_12,
        order: ByteOrder::native(),
        tunnel: TunnelOffsets {
            outer_th: 0,
            inner_nh: 0,
        },
        l3_proto: 0,
    };
}

/// Runs the rules of Linux 6.12's `virtio_net_hdr_to_skb()` against the layout.
///
/// `hdr` is the header as read from the user (the W3 raise of `hdr_len`
/// does not matter here: `virtio_net_hdr_to_skb()` does not read it); it is
/// taken as all zeroes when the context had no `IFF_VNET_HDR`, which the
/// caller tells with `vnet_hdr`.
#[inline(always)]
pub fn plan_skb(hdr: &VnetHdr, vnet_hdr: bool, layout: &Layout) -> Result<SkbPlan, HdrError> {
    plan_skb_frame(hdr, vnet_hdr, layout, &ApplyCtx::LINUX_6_12, &mut NoFrame)
}

/// Runs the header rules of the kernel `ctx` names against the layout.
///
/// On 6.12 that is `virtio_net_hdr_to_skb()`; on 7.x
/// `tun_vnet_hdr_tnl_to_skb()`, which handles UDP tunnel GSO headers and
/// passes the rest to the same function, now with the flow dissector for
/// GSO packets without `NEEDS_CSUM` (asked of `frame`).
#[inline(always)]
pub fn plan_skb_frame<F: Frame>(
    hdr: &VnetHdr,
    vnet_hdr: bool,
    layout: &Layout,
    ctx: &ApplyCtx,
    frame: &mut F,
) -> Result<SkbPlan, HdrError> {
    let hdr = if vnet_hdr { *hdr } else { VnetHdr::default() };
    if ctx.abi.has_udp_tunnel() && hdr.gso_type & VIRTIO_NET_HDR_GSO_UDP_TUNNEL != 0 {
        return plan_tunnel(&hdr, layout, ctx, frame);
    }
    plan_basic(&hdr, hdr.gso_type, layout, ctx, frame)
}

/// Returns `sizeof(struct iphdr)` or `sizeof(struct ipv6hdr)` (`virtio_l3min()`).
const fn l3min(is_ipv6: bool) -> u32 {
    if is_ipv6 {
        IPV6_HLEN
    } else {
        IPV4_HLEN
    }
}

/// The rules of `virtio_net_hdr_tnl_to_skb()` for a header with a tunnel bit (Linux 7.x).
#[inline(always)]
fn plan_tunnel<F: Frame>(
    hdr: &VnetHdr,
    layout: &Layout,
    ctx: &ApplyCtx,
    frame: &mut F,
) -> Result<SkbPlan, HdrError> {
    let tunnel_bits = hdr.gso_type & VIRTIO_NET_HDR_GSO_UDP_TUNNEL;
    // tun's "negotiated" features come from the header size alone
    // (`tun_vnet_hdr_guest_features()`); both tunnel features at once, so
    // the later `tnl_csum_negotiated` check cannot fail for tun.
    if layout.split.vnet_hdr_sz < TUN_VNET_TNL_SIZE {
        return Err(HdrError::TunnelNotNegotiated);
    }
    if tunnel_bits == VIRTIO_NET_HDR_GSO_UDP_TUNNEL {
        return Err(HdrError::TunnelBothFamilies);
    }
    let inner = hdr.gso_type & !(VIRTIO_NET_HDR_GSO_ECN | VIRTIO_NET_HDR_GSO_UDP_TUNNEL);
    if inner == VIRTIO_NET_HDR_GSO_NONE || inner == VIRTIO_NET_HDR_GSO_UDP {
        return Err(HdrError::TunnelBadInnerType);
    }
    if !hdr.needs_csum() {
        return Err(HdrError::TunnelNoCsum);
    }

    // The offsets; `csum_start` in the device's order here, sums in `u32`.
    let outer_v6 = tunnel_bits & VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6 != 0;
    let mut inner_v6 = inner == VIRTIO_NET_HDR_GSO_TCPV6;
    let inner_th = u32::from(hdr.csum_start);
    let inner_nh = u32::from(ctx.tunnel.inner_nh);
    let outer_th = u32::from(ctx.tunnel.outer_th);
    let eth_hlen = ETH_HLEN as u32;
    if outer_th < eth_hlen + l3min(outer_v6)
        || inner_nh < outer_th + UDP_HLEN
        || inner_th < inner_nh + l3min(inner_v6)
    {
        return Err(HdrError::TunnelBadOffsets);
    }

    // The plain GSO rules, with the header read as little endian.
    let le = VnetHdr::parse(&hdr.to_bytes(ctx.order), ByteOrder::Little);
    let mut plan = plan_basic(&le, hdr.gso_type & !tunnel_bits, layout, ctx, frame)?;

    // USO does not say the inner family: the version nibble does. The
    // checks above keep an IPv4 header's worth of bytes there.
    if inner == VIRTIO_NET_HDR_GSO_UDP_L4 {
        inner_v6 = frame.byte(usize::from(ctx.tunnel.inner_nh)).map(|b| b >> 4) == Some(6);
        if inner_th < inner_nh + l3min(inner_v6) {
            return Err(HdrError::TunnelInnerTooShort);
        }
    }
    let gso_bit = if hdr.flags & VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM != 0 {
        SKB_GSO_UDP_TUNNEL_CSUM
    } else {
        SKB_GSO_UDP_TUNNEL
    };
    plan.tunnel = Some(TunnelPlan {
        gso_bit,
        inner_proto: if inner_v6 { ETH_P_IPV6 } else { ETH_P_IP },
        inner_th: hdr.csum_start,
        inner_nh: ctx.tunnel.inner_nh,
        outer_th: ctx.tunnel.outer_th,
    });
    Ok(plan)
}

/// `virtio_net_hdr_match_proto()`: whether EtherType `n_proto` fits `gso_type`.
const fn gso_matches_proto(n_proto: u16, gso_type: u8) -> bool {
    match gso_type & !VIRTIO_NET_HDR_GSO_ECN {
        VIRTIO_NET_HDR_GSO_TCPV4 => n_proto == ETH_P_IP,
        VIRTIO_NET_HDR_GSO_TCPV6 => n_proto == ETH_P_IPV6,
        VIRTIO_NET_HDR_GSO_UDP | VIRTIO_NET_HDR_GSO_UDP_L4 => {
            n_proto == ETH_P_IP || n_proto == ETH_P_IPV6
        }
        _ => false,
    }
}

/// `virtio_net_hdr_set_proto()`: the protocol a GSO type implies, 0 for none.
const fn gso_implied_proto(gso_type: u8) -> u16 {
    match gso_type & !VIRTIO_NET_HDR_GSO_ECN {
        VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_UDP | VIRTIO_NET_HDR_GSO_UDP_L4 => ETH_P_IP,
        VIRTIO_NET_HDR_GSO_TCPV6 => ETH_P_IPV6,
        _ => 0,
    }
}

/// The flow dissector branch of Linux 7.x's `virtio_net_hdr_to_skb()`.
///
/// Picks `skb->protocol` as C does (already set, else the device's parse
/// of the header, else the GSO type's) and dissects; UFO does not say its
/// family, so a failed IPv4 dissection is retried as IPv6. Returns the keys
/// and the protocol left in the skb.
#[inline(always)]
fn dissect_gso<F: Frame>(
    hdr_gso_type: u8,
    skb_gso_type: u32,
    ctx: &ApplyCtx,
    frame: &mut F,
) -> Result<(FlowKeys, u16), HdrError> {
    let mut proto = ctx.l3_proto;
    if proto == 0 {
        proto = frame.header_protocol();
        if proto == 0 {
            proto = gso_implied_proto(hdr_gso_type);
        }
    }
    if let Some(keys) = frame.dissect(proto) {
        return Ok((keys, proto));
    }
    if skb_gso_type & SKB_GSO_UDP != 0 && proto == ETH_P_IP {
        if let Some(keys) = frame.dissect(ETH_P_IPV6) {
            return Ok((keys, ETH_P_IPV6));
        }
    }
    Err(HdrError::GsoNotDissected)
}

/// `__virtio_net_hdr_to_skb()` with GSO type `hdr_gso_type` (the header's,
/// or on 7.x the header's without its tunnel bits).
#[inline(always)]
fn plan_basic<F: Frame>(
    hdr: &VnetHdr,
    hdr_gso_type: u8,
    layout: &Layout,
    ctx: &ApplyCtx,
    frame: &mut F,
) -> Result<SkbPlan, HdrError> {
    let len = u64::try_from(layout.copy_len).unwrap_or(u64::MAX);
    let mut skb = SkbModel {
        len,
        headlen: min(u64::try_from(layout.linear).unwrap_or(u64::MAX), len),
    };

    // `virtio_net_hdr_to_skb()`: the GSO type and size.
    let mut nh_min_len = IPV4_HLEN;
    let mut gso_type = 0u32;
    let mut thlen = 0u32;
    let mut ip_proto = 0u8;
    let mut p_off = 0u32;
    if hdr_gso_type != VIRTIO_NET_HDR_GSO_NONE {
        (gso_type, thlen, ip_proto) = match hdr_gso_type & !VIRTIO_NET_HDR_GSO_ECN {
            VIRTIO_NET_HDR_GSO_TCPV4 => (SKB_GSO_TCPV4, TCP_HLEN, IPPROTO_TCP),
            VIRTIO_NET_HDR_GSO_TCPV6 => {
                nh_min_len = IPV6_HLEN;
                (SKB_GSO_TCPV6, TCP_HLEN, IPPROTO_TCP)
            }
            VIRTIO_NET_HDR_GSO_UDP => (SKB_GSO_UDP, UDP_HLEN, IPPROTO_UDP),
            VIRTIO_NET_HDR_GSO_UDP_L4 => (SKB_GSO_UDP_L4, UDP_HLEN, IPPROTO_UDP),
            _ => return Err(HdrError::BadGsoType),
        };
        if hdr_gso_type & VIRTIO_NET_HDR_GSO_ECN != 0 {
            gso_type |= SKB_GSO_TCP_ECN;
        }
        if hdr.gso_size == 0 {
            return Err(HdrError::ZeroGsoSize);
        }
    }

    let mut csum = None;
    let mut transport_offset = None;
    let mut protocol = None;
    if hdr.needs_csum() {
        // The `NEEDS_CSUM` pull of `virtio_net_hdr_to_skb()`; all sums fit
        // in `u32` as in C.
        let start = u32::from(hdr.csum_start);
        let off = u32::from(hdr.csum_offset);
        let needed = start + max(thlen, off + 2);
        if !skb.may_pull(u64::from(needed)) {
            return Err(HdrError::CsumBeyondPacket);
        }

        // skb_partial_csum_set(), net/core/skbuff.c.
        let csum_end = u64::from(start + off + 2);
        let skb_csum_start = u64::from(layout.headroom) + u64::from(start);
        if skb_csum_start >= U16_MAX || csum_end > skb.headlen {
            return Err(HdrError::CsumStartTooFar);
        }
        csum = Some(CsumPlan {
            start: hdr.csum_start,
            offset: hdr.csum_offset,
            skb_csum_start: u16::try_from(skb_csum_start).unwrap_or(u16::MAX),
        });

        // The transport offset check and the second pull of
        // `virtio_net_hdr_to_skb()`: the transport header is at
        // `csum_start` from `skb->data`, the start of the packet (for TAP,
        // of the Ethernet header: tun has not pulled it yet).
        if start < nh_min_len {
            return Err(HdrError::TransportBeforeNetwork);
        }
        transport_offset = Some(start);
        p_off = start + thlen;
        if !skb.may_pull(u64::from(p_off)) {
            return Err(HdrError::TransportTooShort);
        }
    } else if gso_type != 0 && ctx.abi.dissects_gso() {
        // Linux 7.x: the flow dissector decides where the transport
        // header is, and it must be the protocols the GSO type says.
        let (keys, proto) = dissect_gso(hdr_gso_type, gso_type, ctx, frame)?;
        p_off = u32::from(keys.thoff) + thlen;
        if !skb.may_pull(u64::from(p_off)) {
            return Err(HdrError::TransportTooShort);
        }
        if keys.ip_proto != ip_proto {
            return Err(HdrError::GsoWrongTransport);
        }
        if !gso_matches_proto(keys.n_proto, hdr_gso_type) {
            return Err(HdrError::GsoWrongNetwork);
        }
        transport_offset = Some(u32::from(keys.thoff));
        protocol = Some(proto);
    } else if gso_type != 0 {
        // Linux 6.12: the `else if (gso_type)` branch of
        // `virtio_net_hdr_to_skb()`; `skb->network_header` is 0 so its flow
        // dissector branch is not taken (see the module documentation).
        p_off = nh_min_len + thlen;
        if !skb.may_pull(u64::from(p_off)) {
            return Err(HdrError::TransportTooShort);
        }
    }

    let mut gso = None;
    if hdr_gso_type != VIRTIO_NET_HDR_GSO_NONE {
        // The GSO part of `virtio_net_hdr_to_skb()`.
        let mut gso_size = hdr.gso_size;
        let mut nh_off = u64::from(p_off);
        let payload = len.saturating_sub(u64::from(p_off));
        match gso_type & !SKB_GSO_TCP_ECN {
            SKB_GSO_UDP => {
                // UFO may not include the transport header in gso_size.
                nh_off = nh_off.saturating_sub(u64::from(thlen));
            }
            SKB_GSO_UDP_L4 => {
                if !hdr.needs_csum() {
                    return Err(HdrError::UdpL4NoCsum);
                }
                if hdr.csum_offset != UDP_CSUM_OFFSET {
                    return Err(HdrError::UdpL4CsumOffset);
                }
                if payload > u64::from(gso_size) * u64::from(UDP_MAX_SEGMENTS) {
                    return Err(HdrError::UdpL4TooManySegments);
                }
                if gso_type != SKB_GSO_UDP_L4 {
                    return Err(HdrError::UdpL4Ecn);
                }
            }
            _ => {
                // SKB_GSO_TCPV4 or SKB_GSO_TCPV6: `ip_summed` is
                // `CHECKSUM_PARTIAL` exactly when `NEEDS_CSUM` was set.
                if hdr.needs_csum() && hdr.csum_offset != TCP_CSUM_OFFSET {
                    return Err(HdrError::TcpCsumOffset);
                }
                gso_size = max(gso_size, TCP_MIN_GSO_SIZE);
            }
        }
        if gso_size == GSO_BY_FRAGS {
            return Err(HdrError::GsoByFrags);
        }
        // Too small packets are not really GSO ones (`virtio_net_hdr_to_skb()`).
        if len.saturating_sub(nh_off) > u64::from(gso_size) {
            gso = Some(GsoPlan {
                gso_type: gso_type | SKB_GSO_DODGY,
                gso_size,
            });
        }
    }

    Ok(SkbPlan {
        csum,
        transport_offset,
        thlen,
        payload_offset: p_off,
        gso,
        protocol,
        tunnel: None,
        head_len: usize::try_from(skb.headlen).unwrap_or(layout.linear),
    })
}

/// The whole plan of an accepted write.
///
/// Host builds only (tests, fuzzing): not compiled into `rtun.ko`.
#[cfg(rtun_host)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WritePlan {
    /// Allocation and copy.
    pub layout: Layout,
    /// Checksum and GSO metadata.
    pub skb: SkbPlan,
}

/// Runs [`plan_layout`] and then [`plan_skb`], returning the first error.
///
/// With a faulting user buffer C returns `EFAULT` between the two stages;
/// a driver that wants that order calls the stages itself.
///
/// Host builds only (tests, fuzzing): not compiled into `rtun.ko`.
#[cfg(rtun_host)]
pub fn plan_write(hdr: &VnetHdr, ctx: &WriteCtx) -> Result<WritePlan, HdrError> {
    let layout = plan_layout(hdr, ctx)?;
    let skb = plan_skb(hdr, ctx.vnet_hdr_sz.is_some(), &layout)?;
    Ok(WritePlan { layout, skb })
}

/// The layer 3 protocol of a TUN packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L3Proto {
    /// IPv4 (`ETH_P_IP`).
    Ipv4,
    /// IPv6 (`ETH_P_IPV6`).
    Ipv6,
}

impl L3Proto {
    /// Returns the EtherType for `skb->protocol`, in CPU order.
    pub const fn ethertype(self) -> u16 {
        match self {
            L3Proto::Ipv4 => 0x0800,
            L3Proto::Ipv6 => 0x86DD,
        }
    }
}

/// Checks the IP version nibble of a TUN packet written with `IFF_NO_PI`.
///
/// `first_byte` is the first byte of the packet, `None` when it is empty.
/// This runs after `virtio_net_hdr_to_skb()` accepted the header (the `IFF_TUN`
/// case of `tun_get_user()`): an empty packet fails `pskb_may_pull(skb, 1)` and
/// a version other than 4 or 6 is refused, both with `EINVAL` counted in
/// `rx_dropped`.
pub const fn check_tun_ip_version(first_byte: Option<u8>) -> Result<L3Proto, HdrError> {
    match first_byte {
        None => Err(HdrError::EmptyPacket),
        Some(b) => match b >> 4 {
            4 => Ok(L3Proto::Ipv4),
            6 => Ok(L3Proto::Ipv6),
            _ => Err(HdrError::BadIpVersion),
        },
    }
}
