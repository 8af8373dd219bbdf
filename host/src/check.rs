// SPDX-License-Identifier: GPL-2.0

//! Invariants of the write-path planner, shared by the property tests and the fuzz target.
//!
//! [`check_write`] runs the planner on one input and panics if an accepted
//! plan leaves the packet, breaks a rule of `virtio_net_hdr_to_skb()`, or if
//! a refusal is not backed by the condition its variant names.

use crate::abi::TunAbi;
use crate::errno::EINVAL;
use crate::vnet_hdr::*;

/// The header's GSO base type, thlen and `nh_min_len`, or `None` for GSO_NONE or a bad type.
fn gso_kind(gso_type: u8) -> Option<(u8, u64, u64)> {
    if gso_type == VIRTIO_NET_HDR_GSO_NONE {
        return None;
    }
    match gso_type & !VIRTIO_NET_HDR_GSO_ECN {
        VIRTIO_NET_HDR_GSO_TCPV4 => Some((VIRTIO_NET_HDR_GSO_TCPV4, 20, 20)),
        VIRTIO_NET_HDR_GSO_TCPV6 => Some((VIRTIO_NET_HDR_GSO_TCPV6, 20, 40)),
        VIRTIO_NET_HDR_GSO_UDP => Some((VIRTIO_NET_HDR_GSO_UDP, 8, 20)),
        VIRTIO_NET_HDR_GSO_UDP_L4 => Some((VIRTIO_NET_HDR_GSO_UDP_L4, 8, 20)),
        _ => None,
    }
}

/// Returns `hdr_len` after the W3 raise, as C stores it (low 16 bits).
pub fn raised_hdr_len(hdr: &VnetHdr) -> u16 {
    let end = u32::from(hdr.csum_start) + u32::from(hdr.csum_offset) + 2;
    if hdr.needs_csum() && end > u32::from(hdr.hdr_len) {
        (end & 0xFFFF) as u16
    } else {
        hdr.hdr_len
    }
}

/// Parses `hdr_bytes`, plans the write described by `ctx`, and asserts every invariant.
///
/// Returns the planner's result so callers can count outcomes.
pub fn check_write(
    hdr_bytes: &[u8; VIRTIO_NET_HDR_LEN],
    order: ByteOrder,
    ctx: &WriteCtx,
) -> Result<WritePlan, HdrError> {
    let parsed = VnetHdr::parse(hdr_bytes, order);
    assert_eq!(
        &parsed.to_bytes(order),
        hdr_bytes,
        "to_bytes(parse(b)) != b"
    );
    assert_eq!(VnetHdr::parse_slice(hdr_bytes, order), Some(parsed));

    let res = plan_write(&parsed, ctx);
    // Deterministic and equal to running the stages by hand.
    assert_eq!(res, plan_write(&parsed, ctx));
    let staged = plan_layout(&parsed, ctx)
        .and_then(|l| plan_skb(&parsed, ctx.vnet_hdr_sz.is_some(), &l).map(|s| (l, s)));
    assert_eq!(res.map(|p| (p.layout, p.skb)), staged);

    let hdr = if ctx.vnet_hdr_sz.is_some() {
        parsed
    } else {
        VnetHdr::default()
    };
    match res {
        Ok(plan) => check_accepted(&hdr, ctx, &plan),
        Err(e) => check_refused(&hdr, ctx, e),
    }
    res
}

fn total_prefix(ctx: &WriteCtx) -> u64 {
    let pi = if ctx.no_pi { 0 } else { 4 };
    let vh = ctx.vnet_hdr_sz.map_or(0, |s| u64::from(s.max(10)));
    pi + vh
}

fn check_accepted(hdr: &VnetHdr, ctx: &WriteCtx, plan: &WritePlan) {
    let l = &plan.layout;
    let s = &plan.skb;
    let len = l.split.len as u64;

    // Split (W1, W2).
    assert_eq!(l.split.pi_len, if ctx.no_pi { 0 } else { 4 });
    assert_eq!(l.split.hdr_offset, l.split.pi_len);
    assert_eq!(l.split.data_offset as u64, total_prefix(ctx));
    assert_eq!(l.split.data_offset + l.split.len, ctx.total_len);

    // W3, W4, W5.
    assert_eq!(l.hdr_len, raised_hdr_len(hdr));
    assert!(u64::from(l.hdr_len) <= len, "W4 violated");
    if ctx.is_tap {
        assert!(len >= 14, "W5 len violated");
        assert!(l.hdr_len == 0 || l.hdr_len >= 14, "W5 hdr_len violated");
    }

    // Layout.
    assert_eq!(l.copy_len as u64, len);
    assert!(l.linear as u64 <= len, "linear beyond packet");
    assert_eq!(l.frags_len() as u64, len - l.linear as u64);
    match ctx.alloc {
        SkbAlloc::Linear { headroom } => {
            assert_eq!(l.linear as u64, len);
            assert_eq!(l.headroom, headroom);
        }
        SkbAlloc::Paged => {
            let align = u64::from(ctx.align)
                + if ctx.is_tap {
                    u64::from(ctx.geometry.net_ip_align)
                } else {
                    0
                };
            assert_eq!(u64::from(l.headroom), align.min(u64::from(u32::MAX)));
            if align.saturating_add(len) < u64::from(ctx.geometry.page_size) {
                assert_eq!(l.linear as u64, len);
            }
            assert!(l.frags_len() as u64 <= ctx.geometry.max_frag_bytes());
        }
    }

    // Pulls only grow the head, inside the packet.
    assert!(s.head_len >= l.linear);
    assert!(s.head_len as u64 <= len, "head beyond packet");
    assert!(u64::from(s.payload_offset) <= s.head_len as u64);

    let kind = gso_kind(hdr.gso_type);
    let (thlen, nh_min) = kind.map_or((0, 20), |(_, t, n)| (t, n));
    assert_eq!(u64::from(s.thlen), thlen);

    // Checksum and transport header.
    if hdr.needs_csum() {
        let c = s.csum.expect("NEEDS_CSUM without csum plan");
        assert_eq!((c.start, c.offset), (hdr.csum_start, hdr.csum_offset));
        let start = u64::from(c.start);
        assert!(
            start + u64::from(c.offset) + 2 <= s.head_len as u64,
            "csum beyond head"
        );
        assert!(
            start + thlen <= s.head_len as u64,
            "transport header beyond head"
        );
        assert_eq!(u64::from(c.skb_csum_start), u64::from(l.headroom) + start);
        assert!(c.skb_csum_start < 0xFFFF);
        assert_eq!(s.transport_offset, Some(u32::from(c.start)));
        assert!(start >= nh_min, "transport before network header");
        assert_eq!(u64::from(s.payload_offset), start + thlen);
    } else {
        assert_eq!(s.csum, None);
        assert_eq!(s.transport_offset, None);
        if kind.is_some() {
            assert_eq!(u64::from(s.payload_offset), nh_min + thlen);
        } else {
            assert_eq!(s.payload_offset, 0);
        }
    }
    if let Some(t) = s.transport_offset {
        assert!(u64::from(t) + thlen <= len);
    }

    // GSO.
    match kind {
        None => {
            assert_eq!(hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
            assert_eq!(s.gso, None);
        }
        Some((base, thlen, _)) => {
            assert_ne!(hdr.gso_size, 0);
            let is_tcp = base == VIRTIO_NET_HDR_GSO_TCPV4 || base == VIRTIO_NET_HDR_GSO_TCPV6;
            let size = if is_tcp {
                hdr.gso_size.max(TCP_MIN_GSO_SIZE)
            } else {
                hdr.gso_size
            };
            assert_ne!(size, GSO_BY_FRAGS);
            if is_tcp && hdr.needs_csum() {
                assert_eq!(hdr.csum_offset, TCP_CSUM_OFFSET);
            }
            let p_off = u64::from(s.payload_offset);
            if base == VIRTIO_NET_HDR_GSO_UDP_L4 {
                assert!(hdr.needs_csum());
                assert_eq!(hdr.csum_offset, UDP_CSUM_OFFSET);
                assert_eq!(hdr.gso_type & VIRTIO_NET_HDR_GSO_ECN, 0);
                assert!(len - p_off <= u64::from(hdr.gso_size) * 128);
            }
            let nh_off = if base == VIRTIO_NET_HDR_GSO_UDP {
                p_off - thlen
            } else {
                p_off
            };
            match s.gso {
                Some(g) => {
                    assert_eq!(g.gso_size, size);
                    assert!(g.gso_size > 0);
                    assert!(len - nh_off > u64::from(g.gso_size));
                    assert_ne!(g.gso_type & SKB_GSO_DODGY, 0);
                    let want_base = match base {
                        VIRTIO_NET_HDR_GSO_TCPV4 => SKB_GSO_TCPV4,
                        VIRTIO_NET_HDR_GSO_TCPV6 => SKB_GSO_TCPV6,
                        VIRTIO_NET_HDR_GSO_UDP => SKB_GSO_UDP,
                        _ => SKB_GSO_UDP_L4,
                    };
                    let ecn = if hdr.gso_type & VIRTIO_NET_HDR_GSO_ECN != 0 {
                        SKB_GSO_TCP_ECN
                    } else {
                        0
                    };
                    assert_eq!(g.gso_type, want_base | ecn | SKB_GSO_DODGY);
                }
                None => assert!(len - nh_off <= u64::from(size), "plain but too big"),
            }
        }
    }
}

fn check_refused(hdr: &VnetHdr, ctx: &WriteCtx, e: HdrError) {
    assert_eq!(e.errno(), EINVAL);
    let total = ctx.total_len as u64;
    let len = total.saturating_sub(total_prefix(ctx));
    let kind = gso_kind(hdr.gso_type);
    let (thlen, nh_min) = kind.map_or((0, 20), |(_, t, n)| (t, n));
    let start = u64::from(hdr.csum_start);
    let off = u64::from(hdr.csum_offset);
    let base = kind.map(|k| k.0);
    let is_tcp = base == Some(VIRTIO_NET_HDR_GSO_TCPV4) || base == Some(VIRTIO_NET_HDR_GSO_TCPV6);
    match e {
        HdrError::ShortForPi => assert!(!ctx.no_pi && total < 4),
        HdrError::ShortForVnetHdr => {
            assert!(ctx.vnet_hdr_sz.is_some() && total < total_prefix(ctx))
        }
        HdrError::HdrLenTooLong => assert!(u64::from(raised_hdr_len(hdr)) > len),
        HdrError::TapTooShort => assert!(ctx.is_tap && len < 14),
        HdrError::TapHdrLenTooShort => {
            assert!(ctx.is_tap && (1..14).contains(&raised_hdr_len(hdr)))
        }
        HdrError::BadGsoType => assert!(hdr.gso_type != 0 && kind.is_none()),
        HdrError::ZeroGsoSize => assert!(kind.is_some() && hdr.gso_size == 0),
        HdrError::CsumBeyondPacket => {
            assert!(hdr.needs_csum() && start + thlen.max(off + 2) > len)
        }
        HdrError::CsumStartTooFar => {
            assert!(hdr.needs_csum());
            let headroom = match ctx.alloc {
                SkbAlloc::Linear { headroom } => u64::from(headroom),
                SkbAlloc::Paged => (u64::from(ctx.align)
                    + if ctx.is_tap {
                        u64::from(ctx.geometry.net_ip_align)
                    } else {
                        0
                    })
                .min(u64::from(u32::MAX)),
            };
            assert!(headroom + start >= 0xFFFF);
        }
        HdrError::TransportBeforeNetwork => assert!(hdr.needs_csum() && start < nh_min),
        HdrError::TransportTooShort => {
            assert!(!hdr.needs_csum() && kind.is_some() && nh_min + thlen > len)
        }
        HdrError::UdpL4NoCsum => {
            assert!(base == Some(VIRTIO_NET_HDR_GSO_UDP_L4) && !hdr.needs_csum())
        }
        HdrError::UdpL4CsumOffset => {
            assert!(base == Some(VIRTIO_NET_HDR_GSO_UDP_L4) && hdr.csum_offset != UDP_CSUM_OFFSET)
        }
        HdrError::UdpL4TooManySegments => assert!(
            base == Some(VIRTIO_NET_HDR_GSO_UDP_L4)
                && len.saturating_sub(start + thlen) > u64::from(hdr.gso_size) * 128
        ),
        HdrError::UdpL4Ecn => assert!(
            base == Some(VIRTIO_NET_HDR_GSO_UDP_L4) && hdr.gso_type & VIRTIO_NET_HDR_GSO_ECN != 0
        ),
        HdrError::TcpCsumOffset => {
            assert!(is_tcp && hdr.needs_csum() && hdr.csum_offset != TCP_CSUM_OFFSET)
        }
        HdrError::GsoByFrags => assert!(
            kind.is_some()
                && hdr.gso_size == GSO_BY_FRAGS
                && (!is_tcp || hdr.gso_size.max(TCP_MIN_GSO_SIZE) == GSO_BY_FRAGS)
        ),
        HdrError::EmptyPacket | HdrError::BadIpVersion => {
            panic!("plan_write never checks the IP version, got {e:?}")
        }
        HdrError::GsoNotDissected
        | HdrError::GsoWrongTransport
        | HdrError::GsoWrongNetwork
        | HdrError::TunnelNotNegotiated
        | HdrError::TunnelBothFamilies
        | HdrError::TunnelBadInnerType
        | HdrError::TunnelNoCsum
        | HdrError::TunnelBadOffsets
        | HdrError::TunnelInnerTooShort => {
            panic!("the fuzzed rules are 6.12's, which have no {e:?}")
        }
    }
    // Errors of the early checks bump no counter, header errors bump
    // rx_frame_errors.
    let early = matches!(
        e,
        HdrError::ShortForPi
            | HdrError::ShortForVnetHdr
            | HdrError::HdrLenTooLong
            | HdrError::TapTooShort
            | HdrError::TapHdrLenTooShort
    );
    assert_eq!(
        e.counter(),
        if early {
            RxCounter::None
        } else {
            RxCounter::FrameErrors
        }
    );
}

/// Reads little-endian integers off a byte slice, giving zeroes once it runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
}

/// One fuzz input decoded: header bytes, byte order, context and the first packet byte.
#[derive(Clone, Copy, Debug)]
pub struct FuzzInput {
    /// The 10 header bytes.
    pub hdr: [u8; VIRTIO_NET_HDR_LEN],
    /// Byte order of the header.
    pub order: ByteOrder,
    /// The write context.
    pub ctx: WriteCtx,
    /// A byte to feed to `check_tun_ip_version`.
    pub first_byte: Option<u8>,
}

/// Decodes a fuzz input: the 10 header bytes, then bytes choosing the context.
///
/// Returns `None` for inputs shorter than the header. The packet length is
/// at most 70000; by default the PI and vnet header lengths are added to it
/// so that most inputs reach the header rules, and one mode bit passes it as
/// the raw write length instead.
pub fn decode_fuzz_input(data: &[u8]) -> Option<FuzzInput> {
    let (hdr, rest) = data.split_first_chunk::<VIRTIO_NET_HDR_LEN>()?;
    let mut b = Bytes(rest);
    let mode = b.u8();
    let order = if mode & 1 != 0 {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    };
    let is_tap = mode & 2 != 0;
    let no_pi = mode & 4 != 0;
    let vnet_hdr_sz = match (mode >> 3) & 3 {
        0 => None,
        1 => Some(10),
        2 => Some(12),
        _ => Some(b.u32()),
    };
    let raw_len = mode & 0x20 != 0;
    let len = (usize::from(b.u16()) + usize::from(b.u8() & 0x0F) * 0x10000) % 70_001;
    let total_len = if raw_len {
        len
    } else {
        len + if no_pi { 0 } else { TUN_PI_LEN }
            + vnet_hdr_sz.map_or(0, |s| s.clamp(10, 64) as usize)
    };
    let align = match b.u8() & 3 {
        0 | 1 => 64,
        2 => u32::from(b.u16()),
        _ => b.u32(),
    };
    let alloc = if mode & 0x40 != 0 {
        SkbAlloc::Linear {
            headroom: u32::from(b.u16()),
        }
    } else {
        SkbAlloc::Paged
    };
    let geometry = if mode & 0x80 != 0 {
        SkbGeometry {
            page_size: b.u32(),
            shinfo_size: b.u32(),
            max_skb_frags: b.u32(),
            costly_order: u32::from(b.u8()),
            net_ip_align: u32::from(b.u8()),
            net_skb_pad: u32::from(b.u8()),
            smp_cache_bytes: 1 << (b.u8() % 8),
        }
    } else {
        SkbGeometry::X86_64
    };
    let first_byte = b.0.first().copied();
    Some(FuzzInput {
        hdr: *hdr,
        order,
        ctx: WriteCtx {
            total_len,
            is_tap,
            no_pi,
            vnet_hdr_sz,
            align,
            alloc,
            geometry,
            abi: TunAbi::Linux6_12,
        },
        first_byte,
    })
}

/// Runs one fuzz input through the planner and the invariant checks.
pub fn fuzz_one(data: &[u8]) -> Option<Result<WritePlan, HdrError>> {
    let input = decode_fuzz_input(data)?;
    let res = check_write(&input.hdr, input.order, &input.ctx);
    let _ = check_tun_ip_version(input.first_byte);
    Some(res)
}
