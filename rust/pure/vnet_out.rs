// SPDX-License-Identifier: GPL-2.0

//! Read-path rules for `struct tun_pi` and `struct virtio_net_hdr`, as pure logic.
//!
//! This module turns what the driver knows about one skb the stack
//! transmitted ([`SkbInfo`]) and about the reader's buffer ([`ReadCtx`])
//! into a [`ReadPlan`]: which PI and vnet header go in front of the packet,
//! how many packet bytes are copied around a re-inserted VLAN tag, what
//! `read()` returns and what the statistics count. It replicates Linux
//! 6.12's `tun_put_user()` (drivers/net/tun.c) and
//! `virtio_net_hdr_from_skb()` (include/linux/virtio_net.h) line by line,
//! including the order of the checks.
//!
//! The module imports only `core` (and the header type of
//! [`crate::pure::vnet_hdr`]); it is compiled both into the kernel module and into
//! the host crate (`host/`) where it is unit tested, property tested and
//! fuzzed. Nothing here can panic: there is no indexing, no `unwrap`, no
//! `unsafe`, and every sum is done in a wider type or saturates.
//!
//! How the driver uses it, in the order C does things:
//!
//! 1. If the buffer is empty, return 0 without dequeuing a packet
//!    ([`ReadCtx::dequeues_for`], `tun_do_read()`).
//! 2. Dequeue an skb, fill an [`SkbInfo`] from it, reading `vnet_hdr_sz`
//!    once (C's `READ_ONCE()` in `tun_put_user()`), and call [`plan_read`].
//! 3. On error, free the skb (C's `kfree_skb()` in `tun_do_read()`: the packet
//!    is lost and no device counter moves) and return [`OutError::errno`]. When
//!    the error is [`OutError::ShortForVnetHdr`] or
//!    [`OutError::UnexpectedGsoType`] and the device has no `IFF_NO_PI`, C has
//!    already copied the PI into the buffer (`tun_put_user()`).
//! 4. Otherwise copy the PI ([`TunPi::to_bytes`]), the 10 header bytes
//!    ([`ReadPlan::hdr_bytes`]), then skip or zero [`ReadPlan::hdr_pad`]
//!    bytes, then the packet as [`PacketCopy`] says. An `EFAULT` while
//!    copying the PI or the header is returned as such (the skb is freed);
//!    a fault while copying the packet is ignored by C, which still returns
//!    [`ReadPlan::total`].
//! 5. Count one packet and [`ReadPlan::tx_bytes`] bytes in `tx_packets` and
//!    `tx_bytes` (`tun_put_user()`) and return [`ReadPlan::ret`].
//!
//! What C leaves unwritten. The bytes between the 10 header bytes and
//! `vnet_hdr_sz` are skipped with `iov_iter_advance()` (`tun_put_user()`),
//! which moves the iterator without writing: the user keeps whatever its
//! buffer held there. That leaks no kernel memory, but "the padding is
//! zero" only holds for a reader that zeroed its buffer. A driver that
//! wants the padding zero whatever the reader did writes zeroes there
//! (`iov_iter_zero()`, or [`fill_vnet_hdr`] on a kernel buffer); the byte
//! counts and the return value are the same either way. The same goes for
//! [`ReadPlan::unwritten`], the bytes C counts in its return value but never
//! writes when a packet shorter than 12 bytes carries a VLAN tag.
//!
//! Not modelled, because they do not depend on the lengths and the skb
//! metadata alone: faulting user memory (`EFAULT`), the XDP frame path
//! (`tun_put_user_xdp()`), blocking, and `recvmsg()` (which returns
//! [`ReadPlan::total`] with `MSG_TRUNC` instead of [`ReadPlan::ret`],
//! `tun_recvmsg()`; rtun has no socket).

use core::cmp::{max, min};

use crate::pure::abi::{TunAbi, TUN_VNET_TNL_SIZE};
use crate::pure::errno::{EFAULT, EINVAL};
use crate::pure::vnet_hdr::{
    ByteOrder, TunnelOffsets, VnetHdr, ETH_P_IPV6, SKB_GSO_TCPV4, SKB_GSO_TCPV6, SKB_GSO_TCP_ECN,
    SKB_GSO_UDP_L4, SKB_GSO_UDP_TUNNEL, SKB_GSO_UDP_TUNNEL_CSUM, TUN_PI_LEN,
    VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM,
    VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_TCPV4,
    VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP_L4, VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4,
    VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6, VIRTIO_NET_HDR_LEN,
};

/// PI flag: the packet did not fit in the buffer and was cut (`TUN_PKT_STRIP`).
pub const TUN_PKT_STRIP: u16 = 0x0001;

/// Length of an 802.1Q tag as tun re-inserts it (`VLAN_HLEN`).
pub const VLAN_HLEN: u32 = 4;

/// Where tun inserts the VLAN tag: after the two MAC addresses.
///
/// This is C's `vlan_offset = offsetof(struct vlan_ethhdr, h_vlan_proto)`
/// (`tun_put_user()`; `struct vlan_ethhdr` is in include/linux/if_vlan.h).
pub const VLAN_OFFSET: usize = 12;

/// Length of the re-inserted tag in bytes, as a `usize` (`sizeof(struct veth)`).
const VLAN_TAG_LEN: usize = 4;

/// The `skb->ip_summed` states (`CHECKSUM_*`, include/linux/skbuff.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpSummed {
    /// `CHECKSUM_NONE` (0): nothing is known about the checksum.
    None,
    /// `CHECKSUM_UNNECESSARY` (1): the checksum was verified.
    Unnecessary,
    /// `CHECKSUM_COMPLETE` (2): `skb->csum` holds the packet's sum.
    Complete,
    /// `CHECKSUM_PARTIAL` (3): the checksum at `csum_start + csum_offset` is still to be filled.
    Partial,
}

impl IpSummed {
    /// Decodes the 2-bit `skb->ip_summed` field; only its low two bits are looked at.
    pub const fn from_raw(value: u8) -> Self {
        match value & 3 {
            0 => IpSummed::None,
            1 => IpSummed::Unnecessary,
            2 => IpSummed::Complete,
            _ => IpSummed::Partial,
        }
    }

    /// Returns the `CHECKSUM_*` value of this state.
    pub const fn raw(self) -> u8 {
        match self {
            IpSummed::None => 0,
            IpSummed::Unnecessary => 1,
            IpSummed::Complete => 2,
            IpSummed::Partial => 3,
        }
    }
}

/// A hardware-accelerated VLAN tag held in the skb's metadata rather than in its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VlanTag {
    /// The tag protocol (`skb->vlan_proto`), in CPU order: 0x8100 or 0x88A8.
    pub proto: u16,
    /// The tag control information (`skb_vlan_tag_get()`), in CPU order.
    pub tci: u16,
}

impl VlanTag {
    /// Encodes the tag as tun's `struct veth`: protocol then TCI, both big endian.
    ///
    /// C stores `skb->vlan_proto` (already big endian) and
    /// `htons(skb_vlan_tag_get(skb))` (`tun_put_user()`).
    pub const fn to_bytes(self) -> [u8; VLAN_TAG_LEN] {
        let [p0, p1] = self.proto.to_be_bytes();
        let [t0, t1] = self.tci.to_be_bytes();
        [p0, p1, t0, t1]
    }
}

/// What `tun_put_user()` reads from an skb, in CPU order.
///
/// The driver fills it right after dequeuing the skb. Fields that C only
/// reads in some states (the checksum location without `CHECKSUM_PARTIAL`,
/// the GSO type of a non-GSO skb) may hold anything then: they are ignored
/// exactly when C ignores them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkbInfo {
    /// `skb->len`: bytes of the packet, linear part and frags.
    pub len: u32,
    /// `skb_headlen()`: bytes of the linear part (`skb->len - skb->data_len`).
    pub head_len: u32,
    /// `skb->protocol` in CPU order (`ntohs()`), the EtherType tun puts in the PI.
    pub protocol: u16,
    /// `skb_shinfo(skb)->gso_size`; nonzero exactly when the skb is GSO.
    pub gso_size: u16,
    /// `skb_shinfo(skb)->gso_type`: `SKB_GSO_*` bits of [`crate::pure::vnet_hdr`].
    pub gso_type: u32,
    /// `skb->ip_summed`.
    pub ip_summed: IpSummed,
    /// `skb_checksum_start_offset()`: `skb->csum_start - skb_headroom()`, a C `int`.
    pub csum_start_offset: i32,
    /// `skb->csum_offset`, from `csum_start`.
    pub csum_offset: u16,
    /// The tag when `skb_vlan_tag_present()` (`skb->vlan_all != 0`), else `None`.
    pub vlan: Option<VlanTag>,
    /// For a UDP tunnel skb (Linux 7.x): the inner network header and the
    /// outer transport header, from `skb->data` (low 16 bits, as C keeps
    /// them); zero otherwise.
    pub tunnel: TunnelOffsets,
}

impl SkbInfo {
    /// Returns a linear, non-GSO skb of `len` bytes without checksum state or VLAN tag.
    ///
    /// Host builds only (tests, fuzzing): not compiled into `rtun.ko`.
    #[cfg(rtun_host)]
    pub const fn new(len: u32, protocol: u16) -> Self {
        SkbInfo {
            len,
            head_len: len,
            protocol,
            gso_size: 0,
            gso_type: 0,
            ip_summed: IpSummed::None,
            csum_start_offset: 0,
            csum_offset: 0,
            vlan: None,
            tunnel: TunnelOffsets {
                outer_th: 0,
                inner_nh: 0,
            },
        }
    }

    /// Returns the skb's UDP tunnel GSO bits (`SKB_GSO_UDP_TUNNEL` and
    /// `SKB_GSO_UDP_TUNNEL_CSUM`), looked at whether or not it is GSO.
    pub const fn tunnel_bits(&self) -> u32 {
        self.gso_type & (SKB_GSO_UDP_TUNNEL | SKB_GSO_UDP_TUNNEL_CSUM)
    }

    /// Tells whether the skb is GSO, which is `skb_is_gso()`: `gso_size != 0`.
    ///
    /// `skb_is_gso()` (include/linux/skbuff.h) looks at `gso_size` only, so
    /// a nonzero `gso_type` with `gso_size` 0 is a plain packet.
    pub const fn is_gso(&self) -> bool {
        self.gso_size != 0
    }

    /// Returns C's `vlan_hlen`: [`VLAN_HLEN`] when a tag is re-inserted, else 0 (`tun_put_user()`).
    pub const fn vlan_hlen(&self) -> u32 {
        if self.vlan.is_some() {
            VLAN_HLEN
        } else {
            0
        }
    }
}

/// Why a read fails; each variant is one rule of the C code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutError {
    /// R1: without `IFF_NO_PI` the buffer is shorter than `struct tun_pi` (`tun_put_user()`).
    ShortForPi,
    /// R2: with `IFF_VNET_HDR` the buffer left after the PI is shorter than `vnet_hdr_sz` (`tun_put_user()`).
    ShortForVnetHdr,
    /// R3: a GSO skb whose type is not TCPV4, TCPV6 or UDP_L4 (`virtio_net_hdr_from_skb()`).
    ///
    /// Upstream also logs the type with `net_ratelimit()`, dumps the start
    /// of `skb->head` and fires `WARN_ON_ONCE()` (`tun_put_user()`); the
    /// driver only logs, rate limited.
    UnexpectedGsoType,
    /// R3b (Linux 7.x): a UDP tunnel skb on a device without tunnel GSO
    /// (`virtio_net_hdr_tnl_from_skb()`); logged and warned like R3.
    UnexpectedTunnel,
    /// R2b (Linux 7.x): tunnel GSO is on but `vnet_hdr_sz` is below 24
    /// (`__tun_vnet_hdr_put()`): the 24-byte header runs into the packet
    /// area, the rest of the buffer is zeroed and the read fails; the
    /// packet is dropped. Planned as [`ReadPlan::overrun`], not returned.
    HdrTooSmallForOffloads,
}

impl OutError {
    /// Every variant, for tests that go through them all.
    ///
    /// Host builds only (tests, fuzzing): not compiled into `rtun.ko`.
    #[cfg(rtun_host)]
    pub const ALL: [OutError; 5] = [
        OutError::ShortForPi,
        OutError::ShortForVnetHdr,
        OutError::UnexpectedGsoType,
        OutError::UnexpectedTunnel,
        OutError::HdrTooSmallForOffloads,
    ];

    /// Returns the positive errno upstream returns for this error.
    ///
    /// Every one is `EINVAL` in Linux 6.12 (`tun_put_user()`); this is the
    /// one place to change if that ever differs.
    pub const fn errno(self) -> i32 {
        match self {
            OutError::ShortForPi
            | OutError::ShortForVnetHdr
            | OutError::UnexpectedGsoType
            | OutError::UnexpectedTunnel => EINVAL,
            OutError::HdrTooSmallForOffloads => EFAULT,
        }
    }
}

/// Returns the low 16 bits of `value`, which is what C keeps when it converts to `u16`.
const fn low16(value: i64) -> u16 {
    let [b0, b1, _, _, _, _, _, _] = value.to_le_bytes();
    u16::from_le_bytes([b0, b1])
}

/// Builds the vnet header of an skb as `virtio_net_hdr_from_skb()` does.
///
/// The header starts all zero (no information leak). Its fields are in CPU
/// order; [`VnetHdr::to_bytes`] applies the device's [`ByteOrder`] (C's
/// `little_endian` argument). tun passes `has_data_valid` true and
/// `vlan_hlen` [`SkbInfo::vlan_hlen`] (`tun_put_user()`).
///
/// Rules, in C's order:
///
/// - H1 GSO skb (`gso_size != 0`, `skb_is_gso()`): `hdr_len` =
///   `skb_headlen()` (a hint; C keeps the low 16 bits), `gso_size` copied,
///   `gso_type` from the first of `SKB_GSO_TCPV4` -> TCPV4,
///   `SKB_GSO_TCPV6` -> TCPV6, `SKB_GSO_UDP_L4` -> UDP_L4 that is set,
///   other bits ignored.
/// - H2 any other GSO skb, `SKB_GSO_UDP` (UFO) included, is refused with
///   [`OutError::UnexpectedGsoType`].
/// - H3 `SKB_GSO_TCP_ECN` adds `VIRTIO_NET_HDR_GSO_ECN` whatever the base
///   type.
/// - H4 `CHECKSUM_PARTIAL` gives `NEEDS_CSUM` with `csum_start` =
///   `skb_checksum_start_offset() + vlan_hlen` (low 16 bits) and
///   `csum_offset`.
/// - H5 otherwise `CHECKSUM_UNNECESSARY` with `has_data_valid` gives
///   `DATA_VALID`; any other state leaves `flags` 0.
///
/// The GSO fields and the checksum flags are independent: a GSO skb that is
/// not `CHECKSUM_PARTIAL` still gets `hdr_len`, `gso_size` and `gso_type`,
/// with `flags` 0 or `DATA_VALID`.
pub fn hdr_from_skb(
    skb: &SkbInfo,
    has_data_valid: bool,
    vlan_hlen: u32,
) -> Result<VnetHdr, OutError> {
    let mut hdr = VnetHdr::default();

    if skb.is_gso() {
        // H1, `virtio_net_hdr_from_skb()`.
        hdr.hdr_len = low16(i64::from(skb.head_len));
        hdr.gso_size = skb.gso_size;
        hdr.gso_type = if skb.gso_type & SKB_GSO_TCPV4 != 0 {
            VIRTIO_NET_HDR_GSO_TCPV4
        } else if skb.gso_type & SKB_GSO_TCPV6 != 0 {
            VIRTIO_NET_HDR_GSO_TCPV6
        } else if skb.gso_type & SKB_GSO_UDP_L4 != 0 {
            VIRTIO_NET_HDR_GSO_UDP_L4
        } else {
            // H2, `virtio_net_hdr_from_skb()`.
            return Err(OutError::UnexpectedGsoType);
        };
        // H3, `virtio_net_hdr_from_skb()`.
        if skb.gso_type & SKB_GSO_TCP_ECN != 0 {
            hdr.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
        }
    } else {
        hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE;
    }

    match skb.ip_summed {
        IpSummed::Partial => {
            // H4, `virtio_net_hdr_from_skb()`: the `int` sum is converted
            // to `__u16` by `__cpu_to_virtio16()`.
            hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
            hdr.csum_start = low16(i64::from(skb.csum_start_offset) + i64::from(vlan_hlen));
            hdr.csum_offset = skb.csum_offset;
        }
        IpSummed::Unnecessary if has_data_valid => {
            // H5, `virtio_net_hdr_from_skb()`.
            hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
        }
        IpSummed::Unnecessary | IpSummed::None | IpSummed::Complete => {}
    }

    Ok(hdr)
}

/// Builds the header of a UDP tunnel skb as Linux 7.x's
/// `virtio_net_hdr_tnl_from_skb()` does (tun passes `has_data_valid`
/// false there, and the header is little endian).
///
/// The plain fields come from [`hdr_from_skb`] on the skb without its
/// tunnel bits; `gso_type` then gets the outer family
/// (`VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6` when `skb->protocol` is IPv6, else
/// `_IPV4`) and `flags` `VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM` for
/// `SKB_GSO_UDP_TUNNEL_CSUM`. The offsets are [`SkbInfo::tunnel`].
pub fn tnl_hdr_from_skb(skb: &SkbInfo, vlan_hlen: u32) -> Result<VnetHdr, OutError> {
    let plain = SkbInfo {
        gso_type: skb.gso_type & !skb.tunnel_bits(),
        ..*skb
    };
    let mut hdr = hdr_from_skb(&plain, false, vlan_hlen)?;
    hdr.gso_type |= if skb.protocol == ETH_P_IPV6 {
        VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6
    } else {
        VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4
    };
    if skb.gso_type & SKB_GSO_UDP_TUNNEL_CSUM != 0 {
        hdr.flags |= VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM;
    }
    Ok(hdr)
}

/// Writes a vnet header of `out.len()` bytes: the 10 header bytes, then zeroes.
///
/// The caller sizes `out` to `vnet_hdr_sz`. If `out` is shorter than 10
/// bytes, only its length is written. Returns how many header bytes (not
/// padding) were written. C writes the 10 bytes and skips the rest (see the
/// module documentation); this writes the rest as zeroes.
///
/// Host builds only (tests, fuzzing): not compiled into `rtun.ko`.
#[cfg(rtun_host)]
pub fn fill_vnet_hdr(hdr: &[u8; VIRTIO_NET_HDR_LEN], out: &mut [u8]) -> usize {
    let mut src = hdr.iter();
    for byte in out.iter_mut() {
        *byte = src.next().copied().unwrap_or(0);
    }
    min(out.len(), VIRTIO_NET_HDR_LEN)
}

/// What a fault while writing the header padding (the bytes past the 10 of
/// `struct virtio_net_hdr`, up to `vnet_hdr_sz`) does to a read; the one
/// read-path rule that differs between the kernels rtun follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadFault {
    /// Linux 6.12: `tun_put_user()` skips the padding with
    /// `iov_iter_advance()`, which cannot fault, so the read goes on (rtun
    /// writes zeroes where it can, difference D4).
    Skip,
    /// Linux 7.x: `__tun_vnet_hdr_put()` zeroes the padding with
    /// `iov_iter_zero()` and fails the read with `EFAULT` if that falls
    /// short; `tun_do_read()` then frees the packet as dropped.
    Efault,
}

impl PadFault {
    /// Returns whether a read whose padding copy wrote `done` of `pad`
    /// bytes fails with `EFAULT`.
    pub const fn fails(self, done: usize, pad: usize) -> bool {
        matches!(self, PadFault::Efault) && done < pad
    }
}

/// A `struct tun_pi` as tun writes it in front of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunPi {
    /// `TUN_PKT_STRIP` when the packet is cut, else 0.
    pub flags: u16,
    /// The EtherType in CPU order (from `skb->protocol`).
    pub proto: u16,
}

impl TunPi {
    /// Encodes the PI: `flags` in CPU order (`__u16`), `proto` big endian (`__be16`).
    pub const fn to_bytes(self) -> [u8; TUN_PI_LEN] {
        let [f0, f1] = self.flags.to_ne_bytes();
        let [p0, p1] = self.proto.to_be_bytes();
        [f0, f1, p0, p1]
    }
}

/// What the driver knows about a read before it looks at the skb.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadCtx {
    /// Bytes the reader's buffer can take (`iov_iter_count()`).
    pub buf_len: usize,
    /// `IFF_NO_PI` is set: no `struct tun_pi` precedes the packet.
    pub no_pi: bool,
    /// `Some(vnet_hdr_sz)` when `IFF_VNET_HDR` is set.
    ///
    /// `TUNSETVNETHDRSZ` refuses sizes below 10 (`__tun_chr_ioctl()`); a
    /// smaller value here is treated as 10.
    pub vnet_hdr_sz: Option<u32>,
    /// Byte order of the header fields (`tun_is_little_endian()`).
    pub order: ByteOrder,
    /// Which kernel's tun.c the rules follow.
    pub abi: TunAbi,
    /// The device has `NETIF_F_GSO_UDP_TUNNEL` in its features now (Linux
    /// 7.x, from `TUNSETOFFLOAD`): headers are 24 bytes and tunnel skbs
    /// are described.
    pub tnl_offload: bool,
}

impl ReadCtx {
    /// Returns a context with the CPU's byte order, tun's default.
    ///
    /// Host builds only (tests, fuzzing): not compiled into `rtun.ko`.
    #[cfg(rtun_host)]
    pub const fn new(buf_len: usize, no_pi: bool, vnet_hdr_sz: Option<u32>) -> Self {
        ReadCtx {
            buf_len,
            no_pi,
            vnet_hdr_sz,
            order: ByteOrder::native(),
            abi: TunAbi::Linux6_12,
            tnl_offload: false,
        }
    }

    /// Tells whether a read of a `buf_len`-byte buffer takes a packet off
    /// the queue at all.
    ///
    /// `tun_do_read()` returns 0 for an empty buffer before it dequeues
    /// anything, so [`plan_read`] is only called when this is true. It
    /// takes the length alone: the driver asks before it reads the rest of
    /// the context, which it does once a packet is there.
    pub const fn dequeues_for(buf_len: usize) -> bool {
        buf_len != 0
    }
}

/// How the packet bytes are copied after the headers.
///
/// Without a VLAN tag C copies `tail` bytes from offset 0. With one it copies
/// `head` bytes from offset 0 (the MAC addresses), then `tag` bytes of
/// [`PacketCopy::tag_bytes`], then `tail` bytes from
/// [`PacketCopy::tail_offset`], stopping as soon as the buffer is full
/// (`tun_put_user()`). Each count already accounts for the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketCopy {
    /// Bytes copied from the start of the packet before the tag (0 without a tag).
    pub head: usize,
    /// Bytes of the 4-byte tag copied (0 without a tag).
    pub tag: usize,
    /// The tag as tun writes it (`struct veth`), zero without a tag.
    pub tag_bytes: [u8; VLAN_TAG_LEN],
    /// Where in the packet the last copy starts: [`VLAN_OFFSET`] with a tag, else 0 (C's `vlan_offset`).
    pub tail_offset: usize,
    /// Bytes copied from `tail_offset`; when nonzero, `tail_offset + tail <= skb->len`.
    pub tail: usize,
}

impl PacketCopy {
    /// Returns the bytes this copy writes into the buffer, tag included.
    pub const fn len(&self) -> usize {
        self.head.saturating_add(self.tag).saturating_add(self.tail)
    }

    /// Tells whether the copy writes nothing.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The whole plan of a successful read.
///
/// The buffer gets, in order: the PI at offset 0 (if any), the vnet header
/// at [`ReadPlan::hdr_offset`] (10 bytes, then [`ReadPlan::hdr_pad`] bytes
/// C leaves unwritten), and the packet at [`ReadPlan::data_offset`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadPlan {
    /// The PI at offset 0, or `None` with `IFF_NO_PI`.
    pub pi: Option<TunPi>,
    /// The vnet header, or `None` without `IFF_VNET_HDR`.
    pub hdr: Option<VnetHdr>,
    /// The tunnel offsets of a 24-byte header (zero for a plain skb).
    pub tunnel: TunnelOffsets,
    /// Bytes of the header image C copies: 10, or 24 with tunnel GSO on
    /// (Linux 7.x); the rest of `vnet_hdr_sz` is padding.
    pub hdr_image_len: usize,
    /// Linux 7.x with tunnel GSO on and `vnet_hdr_sz` below 24: the read
    /// writes the header image into what room there is, zeroes the rest of
    /// the buffer and fails with `EFAULT`, the packet dropped
    /// ([`OutError::HdrTooSmallForOffloads`]).
    pub overrun: bool,
    /// Byte order of the header's fields (little endian for a tunnel skb).
    pub order: ByteOrder,
    /// Offset of the vnet header in the buffer (the PI length, 0 or 4).
    pub hdr_offset: usize,
    /// Bytes of vnet header: 0 without `IFF_VNET_HDR`, else `vnet_hdr_sz`.
    pub vnet_hdr_sz: usize,
    /// Offset of the packet in the buffer.
    pub data_offset: usize,
    /// The packet copy.
    pub copy: PacketCopy,
    /// C's `total`: PI, header, packet and tag lengths, what `tun_put_user()` returns.
    pub total: u64,
    /// What `read()` returns: `min(total, buf_len)` (`tun_chr_read_iter()`).
    pub ret: usize,
    /// The packet (with its tag) did not fit: `buf_len < total` (`tun_put_user()`).
    ///
    /// This is the condition for `TUN_PKT_STRIP`, computed with or without a PI.
    pub truncated: bool,
    /// Bytes counted in `tx_bytes`: `skb->len + vlan_hlen`, whatever was copied (`tun_put_user()`).
    pub tx_bytes: u64,
}

impl ReadPlan {
    /// Returns the encoded 10 header bytes, or `None` without `IFF_VNET_HDR`.
    pub const fn hdr_bytes(&self) -> Option<[u8; VIRTIO_NET_HDR_LEN]> {
        match self.hdr {
            Some(hdr) => Some(hdr.to_bytes(self.order)),
            None => None,
        }
    }

    /// Returns the encoded header image, of which the first
    /// [`ReadPlan::hdr_image_len`] bytes are written, or `None` without
    /// `IFF_VNET_HDR`.
    ///
    /// Its layout is `struct virtio_net_hdr_v1_hash_tunnel`: the 10 bytes of
    /// `struct virtio_net_hdr`, `num_buffers` and the hash fields (zero),
    /// then the two tunnel offsets, little endian.
    pub const fn hdr_image(&self) -> Option<[u8; TUN_VNET_TNL_SIZE]> {
        match self.hdr {
            Some(hdr) => {
                let [a, b, c, d, e, f, g, h, i, j] = hdr.to_bytes(self.order);
                let [o0, o1] = self.tunnel.outer_th.to_le_bytes();
                let [n0, n1] = self.tunnel.inner_nh.to_le_bytes();
                Some([
                    a, b, c, d, e, f, g, h, i, j, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, o0, o1, n0, n1,
                ])
            }
            None => None,
        }
    }

    /// Returns the bytes between the header image and `vnet_hdr_sz`, which
    /// 6.12's C skips and 7.x's zeroes.
    pub const fn hdr_pad(&self) -> usize {
        self.vnet_hdr_sz.saturating_sub(self.hdr_image_len)
    }

    /// Returns the bytes from the start of the buffer to the end of the packet copy.
    ///
    /// This equals [`ReadPlan::ret`] except in the case of
    /// [`ReadPlan::unwritten`].
    pub const fn written(&self) -> usize {
        self.data_offset.saturating_add(self.copy.len())
    }

    /// Returns the bytes C counts in `ret` but never writes.
    ///
    /// This is 0 except for a packet shorter than [`VLAN_OFFSET`] bytes that
    /// carries a VLAN tag: `skb_copy_datagram_iter()` fails on it, C skips
    /// the tag and the rest (`tun_put_user()`) yet returns `total`, which
    /// counts the tag. Up to 4 bytes after the packet then keep whatever
    /// the reader's buffer held.
    pub const fn unwritten(&self) -> usize {
        self.ret.saturating_sub(self.written())
    }
}

/// Plans the read of one skb into a buffer, following `tun_put_user()` line by line.
///
/// Rules, in C's order (tun.c):
///
/// - R0 `total` = `skb->len + vlan_hlen + vnet_hdr_sz` (C sums in
///   `unsigned int`, which cannot wrap for real skb lengths; here it is a
///   `u64`).
/// - R1 without `IFF_NO_PI`: a buffer shorter than 4 bytes is refused;
///   `total` grows by 4; `TUN_PKT_STRIP` is set when the buffer is shorter
///   than `total`.
/// - R2 with `IFF_VNET_HDR`: what is left after the PI must hold
///   `vnet_hdr_sz` bytes, then [`hdr_from_skb`] (R3 is its GSO type
///   refusal); 10 bytes are written and the rest of `vnet_hdr_sz` skipped.
/// - R4 with a VLAN tag: copy the first 12 packet bytes, stop if that
///   failed (packet shorter than 12) or filled the buffer, copy the 4 tag
///   bytes, stop if the buffer is full.
/// - R5 copy the rest of the packet from `vlan_offset`; a short buffer cuts
///   it silently.
/// - R6 count one packet and `skb->len + vlan_hlen` bytes, return `total`;
///   `read()` returns `min(total, buf_len)` (`tun_chr_read_iter()`).
#[inline]
pub fn plan_read(ctx: &ReadCtx, skb: &SkbInfo) -> Result<ReadPlan, OutError> {
    let vlan_hlen = skb.vlan_hlen();
    let vnet_hdr_sz = vnet_size(ctx);
    let buf = u64::try_from(ctx.buf_len).unwrap_or(u64::MAX);
    let pi = plan_pi(ctx, skb)?;
    let total = read_total(ctx, skb);
    let pi_len = if pi.is_some() { TUN_PI_LEN } else { 0 };
    let mut rem = ctx.buf_len.saturating_sub(pi_len);

    // R2 and R3, `tun_put_user()`.
    let mut hdr = None;
    let mut tunnel = TunnelOffsets::default();
    let mut order = ctx.order;
    let tnl_offload = ctx.abi.has_udp_tunnel() && ctx.tnl_offload;
    let hdr_image_len = if tnl_offload {
        TUN_VNET_TNL_SIZE
    } else {
        VIRTIO_NET_HDR_LEN
    };
    if vnet_hdr_sz != 0 {
        rem = rem
            .checked_sub(vnet_hdr_sz)
            .ok_or(OutError::ShortForVnetHdr)?;
        if ctx.abi.has_udp_tunnel() && skb.tunnel_bits() != 0 {
            // R3b, `virtio_net_hdr_tnl_from_skb()`.
            if !tnl_offload {
                return Err(OutError::UnexpectedTunnel);
            }
            hdr = Some(tnl_hdr_from_skb(skb, vlan_hlen)?);
            tunnel = skb.tunnel;
            order = ByteOrder::Little;
        } else {
            hdr = Some(hdr_from_skb(skb, true, vlan_hlen)?);
        }
    }

    // R4 and R5, `tun_put_user()`.
    let copy = plan_copy(skb.len, skb.vlan, rem);

    // R6, `tun_put_user()` and `tun_chr_read_iter()`.
    let ret = usize::try_from(min(total, buf)).unwrap_or(ctx.buf_len);
    Ok(ReadPlan {
        pi,
        hdr,
        tunnel,
        hdr_image_len,
        // R2b, `__tun_vnet_hdr_put()`.
        overrun: hdr.is_some() && vnet_hdr_sz < hdr_image_len,
        order,
        hdr_offset: pi_len,
        vnet_hdr_sz,
        data_offset: pi_len.saturating_add(vnet_hdr_sz),
        copy,
        total,
        ret,
        truncated: buf < total,
        tx_bytes: u64::from(skb.len).saturating_add(u64::from(vlan_hlen)),
    })
}

/// Returns the vnet header bytes a read carries: 0, or `vnet_hdr_sz` (at least 10).
fn vnet_size(ctx: &ReadCtx) -> usize {
    match ctx.vnet_hdr_sz {
        Some(sz) => max(
            usize::try_from(sz).unwrap_or(usize::MAX),
            VIRTIO_NET_HDR_LEN,
        ),
        None => 0,
    }
}

/// Returns C's `total` (R0 and the PI part of R1, `tun_put_user()`).
///
/// C sums in `unsigned int`, which cannot wrap for real skb lengths; here
/// it is a `u64`.
fn read_total(ctx: &ReadCtx, skb: &SkbInfo) -> u64 {
    let pi = if ctx.no_pi { 0 } else { TUN_PI_LEN };
    u64::from(skb.len)
        .saturating_add(u64::from(skb.vlan_hlen()))
        .saturating_add(u64::try_from(vnet_size(ctx)).unwrap_or(u64::MAX))
        .saturating_add(u64::try_from(pi).unwrap_or(u64::MAX))
}

/// Plans the PI of a read (R1, `tun_put_user()`): `None` with `IFF_NO_PI`.
///
/// C writes the PI before it checks the header (R2, R3), so when those
/// refuse the read the PI is already in the reader's buffer; a driver that
/// wants the same buffer contents writes this PI before returning the error.
pub fn plan_pi(ctx: &ReadCtx, skb: &SkbInfo) -> Result<Option<TunPi>, OutError> {
    if ctx.no_pi {
        return Ok(None);
    }
    if ctx.buf_len < TUN_PI_LEN {
        return Err(OutError::ShortForPi);
    }
    let buf = u64::try_from(ctx.buf_len).unwrap_or(u64::MAX);
    let flags = if buf < read_total(ctx, skb) {
        TUN_PKT_STRIP
    } else {
        0
    };
    Ok(Some(TunPi {
        flags,
        proto: skb.protocol,
    }))
}

/// Plans the copy of a `len`-byte packet, with its VLAN tag if it has
/// one, into the `rem` bytes of buffer left after the headers (R4 and R5).
///
/// [`plan_read`] calls it with the `rem` it computes; a reader may call it
/// again once the headers are written, with what is then left of its
/// buffer, which is the same number (nothing is kept live across the
/// header copies that way).
#[inline]
pub fn plan_copy(len: u32, vlan: Option<VlanTag>, rem: usize) -> PacketCopy {
    let pkt = usize::try_from(len).unwrap_or(usize::MAX);
    match vlan {
        None => PacketCopy {
            head: 0,
            tag: 0,
            tag_bytes: [0; VLAN_TAG_LEN],
            tail_offset: 0,
            tail: min(pkt, rem),
        },
        Some(tag) => plan_vlan_copy(pkt, rem, tag),
    }
}

/// Splits the copy of a `pkt`-byte packet with a VLAN tag into `rem` bytes of buffer.
fn plan_vlan_copy(pkt: usize, rem: usize, tag: VlanTag) -> PacketCopy {
    let mut copy = PacketCopy {
        head: min(min(pkt, VLAN_OFFSET), rem),
        tag: 0,
        tag_bytes: tag.to_bytes(),
        tail_offset: VLAN_OFFSET,
        tail: 0,
    };
    // `tun_put_user()`: a packet shorter than `vlan_offset` makes
    // `skb_copy_datagram_iter()` fail (or run out of buffer first), and a
    // full buffer stops the copy.
    let Some(rem) = rem.checked_sub(VLAN_OFFSET) else {
        return copy;
    };
    if pkt < VLAN_OFFSET || rem == 0 {
        return copy;
    }
    // `tun_put_user()`: copy the tag, stop if the buffer is then full.
    copy.tag = min(VLAN_TAG_LEN, rem);
    let rem = rem.saturating_sub(VLAN_TAG_LEN);
    // `tun_put_user()`: the rest of the packet; when `rem` is 0 nothing
    // more is copied, as after the early exit that follows the tag.
    copy.tail = min(pkt.saturating_sub(VLAN_OFFSET), rem);
    copy
}
