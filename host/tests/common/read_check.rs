// SPDX-License-Identifier: GPL-2.0

//! Invariants of the read-path planner, shared by the read-path tests and the `plan_read` fuzz target.
//!
//! [`check_read`] runs `plan_read` on one input and panics if a plan leaves
//! the buffer, disagrees with a byte-level model of what `tun_put_user()`
//! writes, or if a refusal is not backed by the condition its variant
//! names. The model is written independently of `rust/pure/vnet_out.rs`: it
//! builds the whole frame C would write into an unbounded buffer and cuts
//! it at the buffer's length.
//!
//! Every test binary that includes this file calls [`fuzz_one`], which
//! reaches every item here.

use rtun_host::abi::TunAbi;
use rtun_host::errno::EINVAL;
use rtun_host::features::*;
use rtun_host::vnet_hdr::*;
use rtun_host::vnet_out::*;

/// The byte the simulated reader fills its buffer with before the read.
pub const FILL: u8 = 0xA5;

/// Packets longer than this are planned and checked but not rendered into a buffer.
pub const RENDER_MAX: usize = 1 << 18;

/// Returns the bytes of a `len`-byte test packet: a pattern that never repeats within 251 bytes.
pub fn packet_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ 0x5A).collect()
}

/// The header virtio_net_hdr_from_skb() makes, computed the long way.
pub fn model_hdr(skb: &SkbInfo, vlan_hlen: u32) -> Option<VnetHdr> {
    let mut h = VnetHdr::default();
    if skb.gso_size != 0 {
        let t = skb.gso_type;
        let base = if t & SKB_GSO_TCPV4 != 0 {
            1
        } else if t & SKB_GSO_TCPV6 != 0 {
            4
        } else if t & SKB_GSO_UDP_L4 != 0 {
            5
        } else {
            return None;
        };
        h.gso_type = base | if t & SKB_GSO_TCP_ECN != 0 { 0x80 } else { 0 };
        h.hdr_len = (skb.head_len % 65536) as u16;
        h.gso_size = skb.gso_size;
    }
    match skb.ip_summed {
        IpSummed::Partial => {
            h.flags = 1;
            h.csum_start =
                (i64::from(skb.csum_start_offset) + i64::from(vlan_hlen)).rem_euclid(65536) as u16;
            h.csum_offset = skb.csum_offset;
        }
        IpSummed::Unnecessary => h.flags = 2,
        _ => {}
    }
    Some(h)
}

/// Everything C would write for `skb` into a buffer with no limit, and the return value.
///
/// For a tagged packet shorter than 12 bytes C writes only the packet but
/// counts the tag; the frame then ends early and `total` is larger than it.
pub fn model_frame(
    ctx: &ReadCtx,
    skb: &SkbInfo,
    packet: &[u8],
    hdr: Option<VnetHdr>,
) -> (Vec<u8>, u64) {
    let vlan = skb.vlan.is_some();
    let sz = ctx.vnet_hdr_sz.map_or(0, |s| u64::from(s.max(10)));
    let pi = if ctx.no_pi { 0 } else { 4 };
    let total = pi + sz + u64::from(skb.len) + if vlan { 4 } else { 0 };
    let mut f = Vec::new();
    if !ctx.no_pi {
        let strip: u16 = if (ctx.buf_len as u64) < total { 1 } else { 0 };
        f.extend_from_slice(&strip.to_ne_bytes());
        f.extend_from_slice(&skb.protocol.to_be_bytes());
    }
    if let Some(h) = hdr {
        f.extend_from_slice(&h.to_bytes(ctx.order));
        f.resize(f.len() + (sz as usize - 10), 0);
    }
    match skb.vlan {
        Some(tag) if packet.len() >= 12 => {
            f.extend_from_slice(&packet[..12]);
            f.extend_from_slice(&tag.proto.to_be_bytes());
            f.extend_from_slice(&tag.tci.to_be_bytes());
            f.extend_from_slice(&packet[12..]);
        }
        _ => f.extend_from_slice(packet),
    }
    (f, total)
}

/// Writes what a driver following `plan` writes into `out`, with zero or skipped header padding.
///
/// Panics if any piece of the plan falls outside `out` or the packet.
pub fn render(plan: &ReadPlan, packet: &[u8], out: &mut [u8], zero_pad: bool) {
    if let Some(pi) = plan.pi {
        out[..4].copy_from_slice(&pi.to_bytes());
    }
    if let Some(h) = plan.hdr_bytes() {
        let at = plan.hdr_offset;
        if zero_pad {
            let n = fill_vnet_hdr(&h, &mut out[at..at + plan.vnet_hdr_sz]);
            assert_eq!(n, 10);
        } else {
            out[at..at + 10].copy_from_slice(&h);
        }
    }
    let c = &plan.copy;
    let mut at = plan.data_offset;
    out[at..at + c.head].copy_from_slice(&packet[..c.head]);
    at += c.head;
    out[at..at + c.tag].copy_from_slice(&c.tag_bytes[..c.tag]);
    at += c.tag;
    if c.tail > 0 {
        out[at..at + c.tail].copy_from_slice(&packet[c.tail_offset..c.tail_offset + c.tail]);
    }
    at += c.tail;
    assert_eq!(at, plan.written());
}

/// Plans the read of `skb` in `ctx` and asserts every invariant; returns the planner's result.
pub fn check_read(ctx: &ReadCtx, skb: &SkbInfo) -> Result<ReadPlan, OutError> {
    let res = plan_read(ctx, skb);
    assert_eq!(res, plan_read(ctx, skb), "plan_read is not deterministic");
    match res {
        Ok(plan) => check_accepted(ctx, skb, &plan),
        Err(e) => check_refused(ctx, skb, e),
    }
    res
}

fn check_refused(ctx: &ReadCtx, skb: &SkbInfo, e: OutError) {
    assert_eq!(e.errno(), EINVAL);
    let pi = if ctx.no_pi { 0 } else { 4 };
    match e {
        OutError::ShortForPi => assert!(!ctx.no_pi && ctx.buf_len < 4),
        OutError::ShortForVnetHdr => {
            let sz = ctx
                .vnet_hdr_sz
                .expect("ShortForVnetHdr without IFF_VNET_HDR");
            assert!(ctx.buf_len >= pi);
            assert!(((ctx.buf_len - pi) as u64) < u64::from(sz.max(10)));
        }
        OutError::UnexpectedGsoType => {
            assert!(ctx.vnet_hdr_sz.is_some());
            assert!(model_hdr(skb, skb.vlan_hlen()).is_none());
        }
        OutError::UnexpectedTunnel | OutError::HdrTooSmallForOffloads => {
            panic!("the checked rules are 6.12's, which have no {e:?}")
        }
    }
}

fn check_accepted(ctx: &ReadCtx, skb: &SkbInfo, plan: &ReadPlan) {
    let buf = ctx.buf_len as u64;
    let vlan_hlen = u64::from(skb.vlan_hlen());
    let pkt = u64::from(skb.len);
    let pi_len = if ctx.no_pi { 0 } else { 4 };
    let sz = ctx.vnet_hdr_sz.map_or(0, |s| s.max(10) as usize);

    // Layout of the prefixes.
    assert_eq!(plan.hdr_offset, pi_len);
    assert_eq!(plan.vnet_hdr_sz, sz);
    assert_eq!(plan.data_offset, pi_len + sz);
    assert!(plan.data_offset <= ctx.buf_len, "headers beyond the buffer");
    assert_eq!(plan.hdr_pad(), sz.saturating_sub(10));
    assert_eq!(plan.order, ctx.order);

    // PI.
    assert_eq!(plan.pi.is_some(), !ctx.no_pi);
    if let Some(p) = plan.pi {
        assert_eq!(p.proto, skb.protocol);
        assert_eq!(p.flags, if plan.truncated { TUN_PKT_STRIP } else { 0 });
    }

    // Header.
    match ctx.vnet_hdr_sz {
        None => assert_eq!(plan.hdr, None),
        Some(_) => {
            let want = model_hdr(skb, skb.vlan_hlen()).expect("accepted an unexpected GSO type");
            assert_eq!(plan.hdr, Some(want));
            assert_eq!(hdr_from_skb(skb, true, skb.vlan_hlen()), Ok(want));
            let bytes = plan.hdr_bytes().expect("header bytes");
            assert_eq!(VnetHdr::parse(&bytes, ctx.order), want);
        }
    }

    // Lengths and return value.
    let total = pi_len as u64 + sz as u64 + pkt + vlan_hlen;
    assert_eq!(plan.total, total);
    assert_eq!(plan.ret as u64, total.min(buf));
    assert!(plan.ret <= ctx.buf_len, "returns more than the buffer");
    assert_eq!(plan.truncated, buf < total);
    assert_eq!(plan.tx_bytes, pkt + vlan_hlen);

    // Packet copy.
    let c = &plan.copy;
    let short_tagged = skb.vlan.is_some() && pkt < 12;
    assert!(plan.written() <= plan.ret);
    assert_eq!(plan.written() + plan.unwritten(), plan.ret);
    assert_eq!(plan.data_offset + c.len(), plan.written());
    if short_tagged {
        assert!(plan.unwritten() <= 4);
    } else {
        assert_eq!(plan.unwritten(), 0, "bytes returned but not written");
        // Not truncated exactly when the whole packet and tag were copied.
        assert_eq!(!plan.truncated, c.len() as u64 == pkt + vlan_hlen);
    }
    assert!(c.len() as u64 <= pkt + vlan_hlen);
    assert!(
        c.tail == 0 || (c.tail_offset + c.tail) as u64 <= pkt,
        "tail beyond the packet"
    );
    match skb.vlan {
        None => {
            assert_eq!(
                (c.head, c.tag, c.tail_offset, c.tag_bytes),
                (0, 0, 0, [0; 4])
            );
        }
        Some(tag) => {
            assert_eq!(c.tail_offset, VLAN_OFFSET);
            assert_eq!(c.tag_bytes, tag.to_bytes());
            assert!(c.head <= VLAN_OFFSET && c.head as u64 <= pkt);
            assert!(c.tag <= 4);
            if c.tag > 0 {
                assert_eq!(c.head, VLAN_OFFSET);
            }
            if c.tail > 0 {
                assert_eq!(c.tag, 4);
            }
            if short_tagged {
                assert_eq!(c.tag + c.tail, 0);
            }
        }
    }

    // Bytes: what a driver writes equals the model's frame cut at the buffer.
    if ctx.buf_len <= RENDER_MAX && skb.len as usize <= RENDER_MAX {
        let packet = packet_bytes(skb.len as usize);
        let (frame, model_total) = model_frame(ctx, skb, &packet, plan.hdr);
        assert_eq!(model_total, plan.total);
        let mut out = vec![FILL; ctx.buf_len];
        render(plan, &packet, &mut out, true);
        let w = plan.written();
        assert_eq!(
            &out[..w],
            &frame[..w],
            "written bytes differ from the model"
        );
        assert!(out[w..].iter().all(|&b| b == FILL), "wrote past the plan");
        assert_eq!(w, frame.len().min(ctx.buf_len));
        // With C's skipped padding, only the padding differs.
        let mut skipped = vec![FILL; ctx.buf_len];
        render(plan, &packet, &mut skipped, false);
        let pad = plan.hdr_offset + 10..plan.data_offset;
        for (i, (a, b)) in out.iter().zip(&skipped).enumerate() {
            if plan.hdr.is_some() && pad.contains(&i) {
                assert_eq!((*a, *b), (0, FILL));
            } else {
                assert_eq!(a, b);
            }
        }
    }
}

/// Asserts the offload rules for one `TUNSETOFFLOAD` argument; returns the result.
pub fn check_offload(arg: u64) -> Result<u64, OffloadError> {
    let res = offload_features(TunAbi::Linux6_12, arg);
    match res {
        Ok(f) => {
            assert_eq!(
                f & !TUN_USER_FEATURES,
                0,
                "feature outside TUN_USER_FEATURES"
            );
            assert_eq!(arg & !0x7F, 0);
            assert_eq!(f != 0, arg != 0);
            assert_eq!(f & NETIF_F_HW_CSUM != 0, arg & TUN_F_CSUM != 0);
            assert_eq!(
                fix_features(TunAbi::Linux6_12, u64::MAX, f) & TUN_USER_FEATURES,
                f
            );
        }
        Err(OffloadError::Unconsumed(left)) => {
            assert_ne!(left, 0);
            assert_eq!(left & !arg, 0, "leftover bits not in the argument");
            assert_eq!(res.map_err(|e| e.errno()), Err(EINVAL));
        }
    }
    res
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

    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }
}

/// Decodes a fuzz input into a read context, an skb and a `TUNSETOFFLOAD` argument.
///
/// Lengths stay small (at most 70000 and a 64-byte header) most of the
/// time so the byte-level model runs; one mode bit passes raw 32-bit
/// values instead.
pub fn decode_fuzz_input(data: &[u8]) -> (ReadCtx, SkbInfo, u64) {
    let mut b = Bytes(data);
    let mode = b.u8();
    let raw = mode & 0x80 != 0;
    let order = if mode & 1 != 0 {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    };
    let no_pi = mode & 2 != 0;
    let vnet_hdr_sz = match (mode >> 2) & 3 {
        0 => None,
        1 => Some(10),
        2 => Some(12),
        _ => Some(if raw { b.u32() } else { u32::from(b.u8() & 63) }),
    };
    let len = if raw {
        b.u32()
    } else {
        u32::from(b.u16()) % 70_001
    };
    let buf_len = if raw {
        b.u32() as usize
    } else {
        usize::from(b.u16()) % 70_101
    };
    let head_len = if mode & 0x10 != 0 { b.u32() } else { len };
    let vlan = if mode & 0x20 != 0 {
        Some(VlanTag {
            proto: b.u16(),
            tci: b.u16(),
        })
    } else {
        None
    };
    let gso_size = if mode & 0x40 != 0 { b.u16() } else { 0 };
    let gso_type = b.u32();
    let ip_summed = IpSummed::from_raw(b.u8());
    let csum_start_offset = b.u32() as i32;
    let csum_offset = b.u16();
    let protocol = b.u16();
    let arg = b.u64();
    let skb = SkbInfo {
        len,
        head_len,
        protocol,
        gso_size,
        gso_type,
        ip_summed,
        csum_start_offset,
        csum_offset,
        vlan,
        tunnel: TunnelOffsets::default(),
    };
    (
        ReadCtx {
            buf_len,
            no_pi,
            vnet_hdr_sz,
            order,
            abi: TunAbi::Linux6_12,
            tnl_offload: false,
        },
        skb,
        arg,
    )
}

/// Runs one fuzz input through the read planner and the offload rules, with every check.
pub fn fuzz_one(data: &[u8]) {
    let (ctx, skb, arg) = decode_fuzz_input(data);
    let _ = check_read(&ctx, &skb);
    let _ = check_offload(arg);
    let _ = check_offload(arg & 0xFF);
}
