// SPDX-License-Identifier: GPL-2.0

//! One test per write-path rule of Linux 6.12: the checks of
//! `tun_get_user()` (drivers/net/tun.c; W1 to W5 in
//! Documentation/design.md, "Write path"), the skb layout of
//! `tun_alloc_skb()`, `tun_can_build_skb()` and `tun_build_skb()`, and the
//! rules of `virtio_net_hdr_to_skb()` (include/linux/virtio_net.h),
//! then the inputs that reach them.
//!
//! Every test goes through `rtun_host::check::check_write`, so the plan
//! invariants are asserted on each input as well.

use rtun_host::check::check_write;
use rtun_host::errno::EINVAL;
use rtun_host::vnet_hdr::*;

const LE: ByteOrder = ByteOrder::Little;
const NEEDS_CSUM: u8 = VIRTIO_NET_HDR_F_NEEDS_CSUM;

/// A header with all fields given.
fn hdr(flags: u8, gso_type: u8, hdr_len: u16, gso_size: u16, start: u16, off: u16) -> VnetHdr {
    VnetHdr {
        flags,
        gso_type,
        hdr_len,
        gso_size,
        csum_start: start,
        csum_offset: off,
    }
}

/// A context for TUN, IFF_NO_PI, IFF_VNET_HDR of 10 bytes and a `len`-byte packet.
fn tun(len: usize) -> WriteCtx {
    WriteCtx::new(10 + len, false, true, Some(10))
}

/// A context for TAP, IFF_NO_PI, IFF_VNET_HDR of 10 bytes and a `len`-byte packet.
fn tap(len: usize) -> WriteCtx {
    WriteCtx::new(10 + len, true, true, Some(10))
}

/// Plans `h` in `ctx`, through the invariant checker.
fn plan(h: VnetHdr, ctx: WriteCtx) -> Result<WritePlan, HdrError> {
    check_write(&h.to_bytes(LE), LE, &ctx)
}

/// Asserts `res` is the error `want`, with EINVAL and the counter `counter`.
fn assert_err(res: Result<WritePlan, HdrError>, want: HdrError, counter: RxCounter) {
    assert_eq!(res.map(|_| ()), Err(want));
    assert_eq!(want.errno(), 22);
    assert_eq!(want.counter(), counter);
}

/// Plans a header and expects success.
fn ok(h: VnetHdr, ctx: WriteCtx) -> WritePlan {
    match plan(h, ctx) {
        Ok(p) => p,
        Err(e) => panic!("{h:?} in {ctx:?} refused with {e:?}"),
    }
}

/// TCPV4 GSO with NEEDS_CSUM, TCP header at `start`.
fn tso4(start: u16, gso_size: u16) -> VnetHdr {
    hdr(NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 0, gso_size, start, 16)
}

// ---- W1 to W5 (tun_get_user) ----

#[test]
fn w1_pi_len_below_4_is_einval_no_counter() {
    for total in 0..4 {
        let ctx = WriteCtx::new(total, false, false, None);
        assert_err(
            plan(VnetHdr::default(), ctx),
            HdrError::ShortForPi,
            RxCounter::None,
        );
        assert_eq!(split_write(&ctx), Err(HdrError::ShortForPi));
    }
    // Exactly the PI: a TUN packet of length 0, accepted (no IP check with PI).
    let p = ok(VnetHdr::default(), WriteCtx::new(4, false, false, None));
    assert_eq!((p.layout.split.data_offset, p.layout.split.len), (4, 0));
}

#[test]
fn w1_no_pi_has_no_minimum() {
    let p = ok(VnetHdr::default(), WriteCtx::new(0, false, true, None));
    assert_eq!(p.layout.split.len, 0);
    assert_eq!(p.layout.split.pi_len, 0);
}

#[test]
fn w2_len_below_vnet_hdr_sz_is_einval_no_counter() {
    for sz in [10u32, 12, 20, 1000] {
        let szu = sz as usize;
        for total in [0, szu - 1] {
            let ctx = WriteCtx::new(total, false, true, Some(sz));
            assert_err(
                plan(VnetHdr::default(), ctx),
                HdrError::ShortForVnetHdr,
                RxCounter::None,
            );
        }
        // With PI, W1 first then W2 on what is left.
        let ctx = WriteCtx::new(3 + szu, false, false, Some(sz));
        assert_err(
            plan(VnetHdr::default(), ctx),
            HdrError::ShortForVnetHdr,
            RxCounter::None,
        );
        let ctx = WriteCtx::new(4 + szu, false, false, Some(sz));
        assert_eq!(ok(VnetHdr::default(), ctx).layout.split.len, 0);
    }
}

#[test]
fn w2_vnet_hdr_sz_above_10_skips_extra_bytes() {
    let ctx = WriteCtx::new(12 + 100, false, true, Some(12));
    let s = ok(VnetHdr::default(), ctx).layout.split;
    assert_eq!(
        (s.hdr_offset, s.vnet_hdr_sz, s.data_offset, s.len),
        (0, 12, 12, 100)
    );
    let ctx = WriteCtx::new(4 + 12 + 100, false, false, Some(12));
    let s = ok(VnetHdr::default(), ctx).layout.split;
    assert_eq!(
        (s.hdr_offset, s.vnet_hdr_sz, s.data_offset, s.len),
        (4, 12, 16, 100)
    );
    // parse_slice reads the first 10 bytes of a 12-byte header.
    let mut b = [0u8; 12];
    b[..10].copy_from_slice(&tso4(20, 100).to_bytes(LE));
    b[10] = 0xAA;
    b[11] = 0x55;
    assert_eq!(VnetHdr::parse_slice(&b, LE), Some(tso4(20, 100)));
}

#[test]
fn w2_vnet_hdr_sz_below_10_is_treated_as_10() {
    let ctx = WriteCtx::new(9, false, true, Some(4));
    assert_err(
        plan(VnetHdr::default(), ctx),
        HdrError::ShortForVnetHdr,
        RxCounter::None,
    );
    let ctx = WriteCtx::new(10, false, true, Some(0));
    assert_eq!(split_write(&ctx).map(|s| s.data_offset), Ok(10));
}

#[test]
fn w3_hdr_len_raised_to_csum_end() {
    let p = ok(hdr(NEEDS_CSUM, 0, 0, 0, 20, 16), tun(100));
    assert_eq!(p.layout.hdr_len, 38);
    // Not lowered when already larger.
    let p = ok(hdr(NEEDS_CSUM, 0, 90, 0, 20, 16), tun(100));
    assert_eq!(p.layout.hdr_len, 90);
    // Not raised without NEEDS_CSUM.
    let p = ok(hdr(0, 0, 0, 0, 20, 16), tun(100));
    assert_eq!(p.layout.hdr_len, 0);
}

#[test]
fn w3_raise_then_w4_hdr_len_too_long() {
    // csum end 100 + 16 + 2 = 118 > 50.
    assert_err(
        plan(hdr(NEEDS_CSUM, 0, 0, 0, 100, 16), tun(50)),
        HdrError::HdrLenTooLong,
        RxCounter::None,
    );
}

#[test]
fn w3_raise_wraps_like_c_u16_store() {
    // 0xFFFF + 0xFFFF + 2 = 0x20000, stored as 0: W4 passes and the header
    // is refused by virtio_net_hdr_to_skb instead (rx_frame_errors).
    let h = hdr(NEEDS_CSUM, 0, 0, 0, 0xFFFF, 0xFFFF);
    let ctx = tun(100);
    assert_eq!(plan_layout(&h, &ctx).map(|l| l.hdr_len), Ok(0));
    assert_err(
        plan(h, ctx),
        HdrError::CsumBeyondPacket,
        RxCounter::FrameErrors,
    );
    // 0xFFFF + 0 + 2 stores 1.
    let h = hdr(NEEDS_CSUM, 0, 0, 0, 0xFFFF, 0);
    assert_eq!(plan_layout(&h, &ctx).map(|l| l.hdr_len), Ok(1));
    // 0xFFF0 + 0x20 + 2 stores 0x12.
    let h = hdr(NEEDS_CSUM, 0, 0, 0, 0xFFF0, 0x20);
    assert_eq!(plan_layout(&h, &ctx).map(|l| l.hdr_len), Ok(0x12));
    // The comparison is in int, not u16: 0x10001 > 0xFFFF, so even the
    // largest hdr_len is replaced, by the wrapped value 1 (a u16 comparison
    // would keep 0xFFFF and fail W4).
    let h = hdr(NEEDS_CSUM, 0, 0xFFFF, 0, 0xFFFF, 0);
    assert_eq!(plan_layout(&h, &ctx).map(|l| l.hdr_len), Ok(1));
    assert_err(
        plan(h, ctx),
        HdrError::CsumBeyondPacket,
        RxCounter::FrameErrors,
    );
}

#[test]
fn w3_wrapped_hdr_len_hits_tap_w5() {
    // Raised to 0x10001, stored as 1, which TAP's W5 refuses.
    let h = hdr(NEEDS_CSUM, 0, 0, 0, 0xFFFF, 0);
    assert_err(
        plan(h, tap(100)),
        HdrError::TapHdrLenTooShort,
        RxCounter::None,
    );
    // Stored as 0 on TAP: W5 passes, the header fails later.
    let h = hdr(NEEDS_CSUM, 0, 0, 0, 0xFFFF, 0xFFFF);
    assert_err(
        plan(h, tap(100)),
        HdrError::CsumBeyondPacket,
        RxCounter::FrameErrors,
    );
}

#[test]
fn w4_hdr_len_above_len_is_einval_no_counter() {
    assert_err(
        plan(hdr(0, 0, 101, 0, 0, 0), tun(100)),
        HdrError::HdrLenTooLong,
        RxCounter::None,
    );
    assert_eq!(ok(hdr(0, 0, 100, 0, 0, 0), tun(100)).layout.hdr_len, 100);
    // With an otherwise invalid GSO type W4 still comes first.
    assert_err(
        plan(hdr(0, 2, 101, 0, 0, 0), tun(100)),
        HdrError::HdrLenTooLong,
        RxCounter::None,
    );
}

#[test]
fn w5_tap_len_below_eth_hlen() {
    for len in 0..14 {
        assert_err(
            plan(VnetHdr::default(), tap(len)),
            HdrError::TapTooShort,
            RxCounter::None,
        );
        let ctx = WriteCtx::new(len, true, true, None);
        assert_err(
            plan(VnetHdr::default(), ctx),
            HdrError::TapTooShort,
            RxCounter::None,
        );
        let ctx = WriteCtx::new(4 + len, true, false, None);
        assert_err(
            plan(VnetHdr::default(), ctx),
            HdrError::TapTooShort,
            RxCounter::None,
        );
    }
    ok(VnetHdr::default(), tap(14));
    // TUN has no such minimum.
    ok(VnetHdr::default(), tun(1));
}

#[test]
fn w5_tap_hdr_len_1_to_13() {
    for h in 1..14 {
        assert_err(
            plan(hdr(0, 0, h, 0, 0, 0), tap(100)),
            HdrError::TapHdrLenTooShort,
            RxCounter::None,
        );
        // TUN accepts it.
        ok(hdr(0, 0, h, 0, 0, 0), tun(100));
    }
    ok(hdr(0, 0, 0, 0, 0, 0), tap(100));
    ok(hdr(0, 0, 14, 0, 0, 0), tap(100));
    // W5's len check comes before its hdr_len check.
    assert_err(
        plan(hdr(0, 0, 5, 0, 0, 0), tap(13)),
        HdrError::TapTooShort,
        RxCounter::None,
    );
    // The raised hdr_len counts: csum end 2 < 14.
    assert_err(
        plan(hdr(NEEDS_CSUM, 0, 0, 0, 0, 0), tap(100)),
        HdrError::TapHdrLenTooShort,
        RxCounter::None,
    );
}

#[test]
fn no_vnet_hdr_ignores_header() {
    let ctx = WriteCtx::new(100, false, true, None);
    let h = hdr(NEEDS_CSUM, 0x42, 0xFFFF, 0, 0xFFFF, 0xFFFF);
    let p = plan_write(&h, &ctx).unwrap();
    assert_eq!(p.layout.hdr_len, 0);
    assert_eq!(p.skb.csum, None);
    assert_eq!(p.skb.gso, None);
}

// ---- Linear length (tun_get_user copylen / linear, tun_alloc_skb) ----

#[test]
fn linear_small_packet_all_linear() {
    // align 64 + len < PAGE_SIZE: everything linear whatever hdr_len says.
    let p = ok(hdr(0, 0, 20, 0, 0, 0), tun(4000));
    assert_eq!(
        (p.layout.linear, p.layout.frags_len(), p.layout.copy_len),
        (4000, 0, 4000)
    );
    assert_eq!(p.layout.headroom, 64);
}

#[test]
fn linear_all_linear_threshold_counts_headroom() {
    // tun_alloc_skb: prepad + len < PAGE_SIZE, prepad = align = 64.
    assert_eq!(ok(hdr(0, 0, 20, 0, 0, 0), tun(4031)).layout.linear, 4031);
    assert_eq!(ok(hdr(0, 0, 20, 0, 0, 0), tun(4032)).layout.linear, 20);
    let mut ctx = tun(4032);
    ctx.align = 63;
    assert_eq!(ok(hdr(0, 0, 20, 0, 0, 0), ctx).layout.linear, 4032);
}

#[test]
fn linear_follows_hdr_len_for_big_packets() {
    let p = ok(hdr(0, 0, 200, 0, 0, 0), tun(10000));
    assert_eq!((p.layout.linear, p.layout.frags_len()), (200, 9800));
    assert_eq!(p.skb.head_len, 200);
}

#[test]
fn linear_capped_at_good_linear() {
    // good_linear = SKB_MAX_HEAD(64) = 4096 - 64 - 320 = 3712.
    assert_eq!(SkbGeometry::X86_64.skb_max_head(64), 3712);
    let p = ok(hdr(0, 0, 5000, 0, 0, 0), tun(10000));
    assert_eq!(p.layout.linear, 3712);
    // hdr_len 0: min(good_linear, len).
    let p = ok(hdr(0, 0, 0, 0, 0, 0), tun(10000));
    assert_eq!(p.layout.linear, 3712);
    // Without IFF_VNET_HDR the same.
    let p = ok(VnetHdr::default(), WriteCtx::new(10000, false, true, None));
    assert_eq!(p.layout.linear, 3712);
}

#[test]
fn linear_tap_adds_net_ip_align() {
    let mut ctx = tap(10000);
    ctx.geometry.net_ip_align = 2;
    let p = ok(VnetHdr::default(), ctx);
    assert_eq!(p.layout.headroom, 66);
    assert_eq!(p.layout.linear, 4096 - 66 - 320);
    // TUN does not.
    let mut ctx = tun(10000);
    ctx.geometry.net_ip_align = 2;
    assert_eq!(ok(VnetHdr::default(), ctx).layout.headroom, 64);
}

#[test]
fn linear_grows_when_frags_would_overflow() {
    // len - linear may not exceed MAX_SKB_FRAGS * (PAGE_SIZE << 3) = 557056.
    assert_eq!(SkbGeometry::X86_64.max_frag_bytes(), 557_056);
    let p = ok(VnetHdr::default(), tun(600_000));
    assert_eq!(p.layout.linear, 600_000 - 557_056);
    assert_eq!(p.layout.frags_len(), 557_056);
}

#[test]
fn linear_build_skb_path_is_all_linear() {
    let mut ctx = tap(1000);
    ctx.alloc = SkbAlloc::Linear { headroom: 64 };
    let p = ok(hdr(0, 0, 14, 0, 0, 0), ctx);
    assert_eq!((p.layout.linear, p.layout.headroom), (1000, 64));
}

#[test]
fn build_skb_only_for_nonblocking_tap_writes() {
    let g = SkbGeometry::X86_64;
    let built = SkbAlloc::Linear { headroom: 64 };
    assert_eq!(write_alloc(true, true, 60, &g), built);
    assert_eq!(write_alloc(true, false, 60, &g), SkbAlloc::Paged);
    assert_eq!(write_alloc(false, true, 60, &g), SkbAlloc::Paged);
    assert_eq!(write_alloc(false, false, 60, &g), SkbAlloc::Paged);
}

#[test]
fn build_skb_needs_packet_pads_and_shinfo_in_one_page() {
    // SKB_DATA_ALIGN(len + 64 + 256) + 320 <= 4096 holds up to len 3456.
    let g = SkbGeometry::X86_64;
    let built = SkbAlloc::Linear { headroom: 64 };
    assert_eq!(write_alloc(true, true, 0, &g), built);
    assert_eq!(write_alloc(true, true, 3456, &g), built);
    assert_eq!(write_alloc(true, true, 3457, &g), SkbAlloc::Paged);
    assert_eq!(write_alloc(true, true, 1514, &g), built);
    assert_eq!(write_alloc(true, true, usize::MAX, &g), SkbAlloc::Paged);
}

#[test]
fn build_skb_headroom_is_tun_rx_pad() {
    let g = SkbGeometry {
        net_ip_align: 2,
        ..SkbGeometry::X86_64
    };
    assert_eq!(g.tun_rx_pad(), 66);
    assert_eq!(
        write_alloc(true, true, 100, &g),
        SkbAlloc::Linear { headroom: 66 }
    );
    // The pad moves the boundary: 3454 + 66 + 256 = 3776.
    assert_eq!(
        write_alloc(true, true, 3454, &g),
        SkbAlloc::Linear { headroom: 66 }
    );
    assert_eq!(write_alloc(true, true, 3455, &g), SkbAlloc::Paged);
}

#[test]
fn skb_data_align_rounds_up_to_cache_lines() {
    let g = SkbGeometry::X86_64;
    assert_eq!(g.data_align(0), 0);
    assert_eq!(g.data_align(1), 64);
    assert_eq!(g.data_align(64), 64);
    assert_eq!(g.data_align(65), 128);
    assert_eq!(g.data_align(u64::MAX), u64::MAX);
}

// ---- virtio_net_hdr_to_skb rules 1 to 13 ----

#[test]
fn rule1_valid_gso_types_map_to_skb_bits() {
    let cases = [
        (VIRTIO_NET_HDR_GSO_TCPV4, SKB_GSO_TCPV4, 16, 20),
        (VIRTIO_NET_HDR_GSO_TCPV6, SKB_GSO_TCPV6, 16, 40),
        (VIRTIO_NET_HDR_GSO_UDP, SKB_GSO_UDP, 6, 20),
        (VIRTIO_NET_HDR_GSO_UDP_L4, SKB_GSO_UDP_L4, 6, 20),
    ];
    for (vt, skb_bit, off, start) in cases {
        let p = ok(hdr(NEEDS_CSUM, vt, 0, 100, start, off), tun(1000));
        let g = p.skb.gso.expect("GSO");
        assert_eq!(g.gso_type, skb_bit | SKB_GSO_DODGY);
        assert_eq!(g.gso_size, 100);
    }
}

#[test]
fn rule1_bad_gso_types_einval_frame_errors() {
    let valid = [0u8, 1, 3, 4, 5];
    for t in 0..=255u8 {
        if t == 0 || (t & 0x7F != 0 && valid.contains(&(t & 0x7F))) {
            continue;
        }
        assert_err(
            plan(hdr(0, t, 0, 100, 0, 0), tun(1000)),
            HdrError::BadGsoType,
            RxCounter::FrameErrors,
        );
    }
}

#[test]
fn rule1_ecn_bit_alone_is_bad_gso_type() {
    assert_err(
        plan(hdr(0, 0x80, 0, 100, 0, 0), tun(1000)),
        HdrError::BadGsoType,
        RxCounter::FrameErrors,
    );
}

#[test]
fn rule1_thlen_and_nh_min_len() {
    for (t, th, nh) in [(1u8, 20u32, 20u32), (4, 20, 40), (3, 8, 20), (5, 8, 20)] {
        let off = if th == 20 { 16 } else { 6 };
        let p = ok(hdr(NEEDS_CSUM, t, 0, 100, nh as u16, off), tun(1000));
        assert_eq!((p.skb.thlen, p.skb.payload_offset), (th, nh + th));
    }
}

#[test]
fn rule2_ecn_sets_skb_gso_tcp_ecn() {
    for t in [VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6] {
        let start = if t == 4 { 40 } else { 20 };
        let p = ok(hdr(NEEDS_CSUM, t | 0x80, 0, 100, start, 16), tun(1000));
        assert_ne!(p.skb.gso.unwrap().gso_type & SKB_GSO_TCP_ECN, 0);
    }
    // UFO with the ECN bit is accepted and keeps SKB_GSO_TCP_ECN.
    let p = ok(hdr(NEEDS_CSUM, 0x83, 0, 100, 20, 6), tun(1000));
    assert_eq!(
        p.skb.gso.unwrap().gso_type,
        SKB_GSO_UDP | SKB_GSO_TCP_ECN | SKB_GSO_DODGY
    );
}

#[test]
fn rule3_gso_with_zero_gso_size() {
    for t in [1u8, 3, 4, 5, 0x81, 0x83, 0x84, 0x85] {
        assert_err(
            plan(hdr(0, t, 0, 0, 0, 0), tun(1000)),
            HdrError::ZeroGsoSize,
            RxCounter::FrameErrors,
        );
    }
    // GSO_NONE ignores gso_size.
    ok(hdr(0, 0, 0, 0, 0, 0), tun(1000));
}

#[test]
fn rule4_plain_csum_end_beyond_packet_is_caught_by_w3_w4() {
    // Plain NEEDS_CSUM: needed = start + off + 2, which W3 already made
    // hdr_len, so W4 refuses first (no counter) unless the raise wrapped.
    ok(hdr(NEEDS_CSUM, 0, 0, 0, 20, 78), tun(100));
    assert_err(
        plan(hdr(NEEDS_CSUM, 0, 100, 0, 20, 79), tun(100)),
        HdrError::HdrLenTooLong,
        RxCounter::None,
    );
}

#[test]
fn rule4_csum_beyond_packet() {
    // GSO: needed = start + max(thlen, off + 2), here 80 + 20 > 99.
    assert_err(
        plan(hdr(NEEDS_CSUM, 1, 99, 100, 80, 16), tun(99)),
        HdrError::CsumBeyondPacket,
        RxCounter::FrameErrors,
    );
    ok(hdr(NEEDS_CSUM, 1, 100, 100, 80, 16), tun(100));
    // UDP thlen 8 > off + 2 = 2.
    assert_err(
        plan(hdr(NEEDS_CSUM, 3, 100, 100, 93, 0), tun(100)),
        HdrError::CsumBeyondPacket,
        RxCounter::FrameErrors,
    );
}

#[test]
fn rule4_pull_moves_csum_into_linear_part() {
    // Big packet, linear part capped at 3712, checksum field at 5000 + 16:
    // pskb_may_pull brings it into the head, so skb_partial_csum_set passes.
    let h = hdr(NEEDS_CSUM, 0, 0, 0, 5000, 16);
    let p = ok(h, tun(10000));
    assert_eq!(p.layout.hdr_len, 5018);
    assert_eq!(p.layout.linear, 3712);
    assert_eq!(p.skb.head_len, 5018);
}

#[test]
fn rule5_partial_csum_headroom_plus_start_reaches_u16_max() {
    // headroom 64: 64 + 65470 = 65534 passes, 64 + 65471 = 65535 fails.
    let p = ok(hdr(NEEDS_CSUM, 0, 0, 0, 65470, 0), tun(70000));
    assert_eq!(p.skb.csum.unwrap().skb_csum_start, 65534);
    assert_err(
        plan(hdr(NEEDS_CSUM, 0, 0, 0, 65471, 0), tun(70000)),
        HdrError::CsumStartTooFar,
        RxCounter::FrameErrors,
    );
    // The headroom the driver uses counts.
    let mut ctx = tap(70000);
    ctx.alloc = SkbAlloc::Linear { headroom: 300 };
    assert_err(
        plan(hdr(NEEDS_CSUM, 0, 0, 0, 65235, 0), ctx),
        HdrError::CsumStartTooFar,
        RxCounter::FrameErrors,
    );
}

#[test]
fn rule5_sets_checksum_partial_at_csum_start() {
    let p = ok(hdr(NEEDS_CSUM, 0, 0, 0, 34, 16), tap(200));
    let c = p.skb.csum.unwrap();
    assert_eq!((c.start, c.offset, c.skb_csum_start), (34, 16, 64 + 34));
    assert_eq!(p.skb.transport_offset, Some(34));
}

#[test]
fn rule6_transport_offset_below_nh_min_len() {
    assert_err(
        plan(hdr(NEEDS_CSUM, 0, 0, 0, 19, 6), tun(100)),
        HdrError::TransportBeforeNetwork,
        RxCounter::FrameErrors,
    );
    ok(hdr(NEEDS_CSUM, 0, 0, 0, 20, 6), tun(100));
    // TCPV6: 40.
    assert_err(
        plan(hdr(NEEDS_CSUM, 4, 0, 100, 39, 16), tun(1000)),
        HdrError::TransportBeforeNetwork,
        RxCounter::FrameErrors,
    );
    ok(hdr(NEEDS_CSUM, 4, 0, 100, 40, 16), tun(1000));
}

#[test]
fn rule6_tap_counts_from_ethernet_header() {
    // 20 bytes from the start of the frame passes even though only 6 bytes
    // of IP header would fit behind the Ethernet header.
    ok(hdr(NEEDS_CSUM, 0, 0, 0, 20, 6), tap(100));
    assert_err(
        plan(hdr(NEEDS_CSUM, 0, 0, 0, 19, 6), tap(100)),
        HdrError::TransportBeforeNetwork,
        RxCounter::FrameErrors,
    );
}

#[test]
fn rule7_transport_pull_never_fails_after_rule4() {
    // With NEEDS_CSUM, p_off = start + thlen <= needed: the shortfall is
    // always reported by rule 4.
    for len in 0..80usize {
        let r = plan(tso4(40, 100), tun(len));
        assert_ne!(r.map(|_| ()), Err(HdrError::TransportTooShort));
    }
}

#[test]
fn rule8_gso_without_csum_needs_nh_min_len_plus_thlen() {
    for (t, need) in [(1u8, 40usize), (4, 60), (3, 28), (0x81, 40)] {
        assert_err(
            plan(hdr(0, t, 0, 1, 0, 0), tun(need - 1)),
            HdrError::TransportTooShort,
            RxCounter::FrameErrors,
        );
        let p = ok(hdr(0, t, 0, 1, 0, 0), tun(need + 100));
        assert_eq!(p.skb.transport_offset, None);
        assert_eq!(p.skb.payload_offset as usize, need);
        assert_ne!(p.skb.gso.unwrap().gso_type & SKB_GSO_DODGY, 0);
    }
}

#[test]
fn rule9_ufo_payload_counts_transport_header() {
    // nh_off = p_off - 8 = 20: GSO iff len - 20 > gso_size.
    let h = hdr(NEEDS_CSUM, 3, 0, 100, 20, 6);
    assert_eq!(ok(h, tun(120)).skb.gso, None);
    assert!(ok(h, tun(121)).skb.gso.is_some());
    // Without NEEDS_CSUM: p_off = 28, nh_off = 20 as well.
    let h = hdr(0, 3, 0, 100, 0, 0);
    assert_eq!(ok(h, tun(120)).skb.gso, None);
    assert!(ok(h, tun(121)).skb.gso.is_some());
}

#[test]
fn rule10_udp_l4_requires_needs_csum() {
    assert_err(
        plan(hdr(0, 5, 0, 100, 20, 6), tun(1000)),
        HdrError::UdpL4NoCsum,
        RxCounter::FrameErrors,
    );
}

#[test]
fn rule10_udp_l4_csum_offset_must_be_6() {
    assert_err(
        plan(hdr(NEEDS_CSUM, 5, 0, 100, 20, 16), tun(1000)),
        HdrError::UdpL4CsumOffset,
        RxCounter::FrameErrors,
    );
}

#[test]
fn rule10_udp_l4_at_most_128_segments() {
    // p_off = 28: payload = len - 28 <= gso_size * 128.
    let h = hdr(NEEDS_CSUM, 5, 0, 10, 20, 6);
    assert!(ok(h, tun(28 + 1280)).skb.gso.is_some());
    assert_err(
        plan(h, tun(28 + 1281)),
        HdrError::UdpL4TooManySegments,
        RxCounter::FrameErrors,
    );
}

#[test]
fn rule10_udp_l4_ecn_refused() {
    assert_err(
        plan(hdr(NEEDS_CSUM, 0x85, 0, 100, 20, 6), tun(1000)),
        HdrError::UdpL4Ecn,
        RxCounter::FrameErrors,
    );
}

#[test]
fn rule11_tcp_csum_offset_must_be_16() {
    for t in [1u8, 0x81] {
        assert_err(
            plan(hdr(NEEDS_CSUM, t, 0, 100, 20, 6), tun(1000)),
            HdrError::TcpCsumOffset,
            RxCounter::FrameErrors,
        );
    }
    assert_err(
        plan(hdr(NEEDS_CSUM, 4, 0, 100, 40, 17), tun(1000)),
        HdrError::TcpCsumOffset,
        RxCounter::FrameErrors,
    );
    // Without NEEDS_CSUM the offset is not looked at.
    ok(hdr(0, 1, 0, 100, 0, 6), tun(1000));
}

#[test]
fn rule11_tcp_gso_size_clamped_to_8() {
    for size in 1..8 {
        let p = ok(tso4(20, size), tun(1000));
        assert_eq!(p.skb.gso.unwrap().gso_size, TCP_MIN_GSO_SIZE);
    }
    // The clamp applies before the plain-packet decision: 8 payload bytes
    // with gso_size 1 become plain.
    assert_eq!(ok(tso4(20, 1), tun(48)).skb.gso, None);
    assert!(ok(tso4(20, 1), tun(49)).skb.gso.is_some());
    // UDP is not clamped.
    assert_eq!(
        ok(hdr(NEEDS_CSUM, 3, 0, 1, 20, 6), tun(1000))
            .skb
            .gso
            .unwrap()
            .gso_size,
        1
    );
}

#[test]
fn rule12_gso_by_frags_refused() {
    for (t, start, off) in [(1u8, 20u16, 16u16), (4, 40, 16), (3, 20, 6), (5, 20, 6)] {
        assert_err(
            plan(hdr(NEEDS_CSUM, t, 0, 0xFFFF, start, off), tun(1000)),
            HdrError::GsoByFrags,
            RxCounter::FrameErrors,
        );
        assert_err(
            plan(hdr(NEEDS_CSUM, t, 0, 0xFFFF, start, off), tun(70000)),
            HdrError::GsoByFrags,
            RxCounter::FrameErrors,
        );
    }
    ok(tso4(20, 0xFFFE), tun(1000));
}

#[test]
fn rule13_payload_not_above_gso_size_becomes_plain() {
    // p_off = 40: GSO iff len - 40 > gso_size.
    let p = ok(tso4(20, 100), tun(140));
    assert_eq!(p.skb.gso, None);
    assert!(p.skb.csum.is_some());
    let p = ok(tso4(20, 100), tun(141));
    assert_eq!(
        p.skb.gso,
        Some(GsoPlan {
            gso_type: SKB_GSO_TCPV4 | SKB_GSO_DODGY,
            gso_size: 100
        })
    );
}

// ---- Flags, IP version, errno and counters ----

#[test]
fn data_valid_rsc_info_and_unknown_flags_ignored() {
    for flags in [
        VIRTIO_NET_HDR_F_DATA_VALID,
        VIRTIO_NET_HDR_F_RSC_INFO,
        0xF8,
        0xFE,
    ] {
        let p = ok(hdr(flags, 0, 0, 0, 0xFFFF, 0xFFFF), tun(100));
        assert_eq!(p.skb.csum, None);
        assert_eq!(p.layout.hdr_len, 0);
        let p = ok(hdr(flags | NEEDS_CSUM, 0, 0, 0, 20, 16), tun(100));
        assert!(p.skb.csum.is_some());
    }
}

#[test]
fn tun_no_pi_ip_version_nibble() {
    assert_eq!(check_tun_ip_version(Some(0x45)), Ok(L3Proto::Ipv4));
    assert_eq!(check_tun_ip_version(Some(0x60)), Ok(L3Proto::Ipv6));
    assert_eq!(L3Proto::Ipv4.ethertype(), 0x0800);
    assert_eq!(L3Proto::Ipv6.ethertype(), 0x86DD);
    for b in 0..=255u8 {
        if b >> 4 == 4 || b >> 4 == 6 {
            continue;
        }
        assert_eq!(check_tun_ip_version(Some(b)), Err(HdrError::BadIpVersion));
    }
    assert_eq!(HdrError::BadIpVersion.errno(), 22);
    assert_eq!(HdrError::BadIpVersion.counter(), RxCounter::Dropped);
}

#[test]
fn tun_no_pi_empty_packet_einval_rx_dropped() {
    // The header stage accepts an empty packet; the 1-byte pull then fails.
    ok(VnetHdr::default(), tun(0));
    assert_eq!(check_tun_ip_version(None), Err(HdrError::EmptyPacket));
    assert_eq!(HdrError::EmptyPacket.errno(), 22);
    assert_eq!(HdrError::EmptyPacket.counter(), RxCounter::Dropped);
}

#[test]
fn errno_and_counter_mapping() {
    use HdrError::*;
    let none = [
        ShortForPi,
        ShortForVnetHdr,
        HdrLenTooLong,
        TapTooShort,
        TapHdrLenTooShort,
    ];
    let frame = [
        BadGsoType,
        ZeroGsoSize,
        CsumBeyondPacket,
        CsumStartTooFar,
        TransportBeforeNetwork,
        TransportTooShort,
        UdpL4NoCsum,
        UdpL4CsumOffset,
        UdpL4TooManySegments,
        UdpL4Ecn,
        TcpCsumOffset,
        GsoByFrags,
    ];
    let dropped = [EmptyPacket, BadIpVersion];
    for e in none {
        assert_eq!((e.errno(), e.counter()), (EINVAL, RxCounter::None));
    }
    for e in frame {
        assert_eq!((e.errno(), e.counter()), (EINVAL, RxCounter::FrameErrors));
    }
    for e in dropped {
        assert_eq!((e.errno(), e.counter()), (EINVAL, RxCounter::Dropped));
    }
}

// ---- Header encoding ----

#[test]
fn parse_to_bytes_round_trip_both_orders() {
    let h = hdr(0x03, 0x81, 0x0102, 0x0304, 0x0506, 0x0708);
    let le = h.to_bytes(ByteOrder::Little);
    assert_eq!(
        le,
        [0x03, 0x81, 0x02, 0x01, 0x04, 0x03, 0x06, 0x05, 0x08, 0x07]
    );
    let be = h.to_bytes(ByteOrder::Big);
    assert_eq!(
        be,
        [0x03, 0x81, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]
    );
    assert_eq!(VnetHdr::parse(&le, ByteOrder::Little), h);
    assert_eq!(VnetHdr::parse(&be, ByteOrder::Big), h);
    // Reading in the other order swaps each field.
    assert_eq!(VnetHdr::parse(&le, ByteOrder::Big).hdr_len, 0x0201);
    assert_eq!(VnetHdr::parse_slice(&le[..9], ByteOrder::Little), None);
}

#[test]
fn big_endian_header_gives_same_plan() {
    let h = tso4(20, 100);
    let ctx = tun(1000);
    let le = check_write(&h.to_bytes(ByteOrder::Little), ByteOrder::Little, &ctx);
    let be = check_write(&h.to_bytes(ByteOrder::Big), ByteOrder::Big, &ctx);
    assert_eq!(le, be);
    assert!(le.is_ok());
}

#[test]
fn byte_order_from_tun_flags() {
    assert_eq!(ByteOrder::from_tun_flags(true, false), ByteOrder::Little);
    assert_eq!(ByteOrder::from_tun_flags(true, true), ByteOrder::Little);
    assert_eq!(ByteOrder::from_tun_flags(false, true), ByteOrder::Big);
    assert_eq!(ByteOrder::from_tun_flags(false, false), ByteOrder::native());
    #[cfg(target_endian = "little")]
    assert_eq!(ByteOrder::native(), ByteOrder::Little);
}

/// The one byte the driver keeps gives back the order the two flags give.
#[test]
fn byte_order_round_trips_through_is_big() {
    for (le, be) in [(false, false), (false, true), (true, false), (true, true)] {
        let order = ByteOrder::from_tun_flags(le, be);
        assert_eq!(ByteOrder::from_big(order.is_big()), order);
    }
}

#[test]
fn skb_gso_bits_match_linux_6_12() {
    let bits = [
        SKB_GSO_TCPV4,
        SKB_GSO_DODGY,
        SKB_GSO_TCP_ECN,
        SKB_GSO_TCP_FIXEDID,
        SKB_GSO_TCPV6,
        SKB_GSO_FCOE,
        SKB_GSO_GRE,
        SKB_GSO_GRE_CSUM,
        SKB_GSO_IPXIP4,
        SKB_GSO_IPXIP6,
        SKB_GSO_UDP_TUNNEL,
        SKB_GSO_UDP_TUNNEL_CSUM,
        SKB_GSO_PARTIAL,
        SKB_GSO_TUNNEL_REMCSUM,
        SKB_GSO_SCTP,
        SKB_GSO_ESP,
        SKB_GSO_UDP,
        SKB_GSO_UDP_L4,
        SKB_GSO_FRAGLIST,
    ];
    for (i, b) in bits.iter().enumerate() {
        assert_eq!(*b, 1 << i);
    }
    assert_eq!(
        (
            VIRTIO_NET_HDR_F_NEEDS_CSUM,
            VIRTIO_NET_HDR_F_DATA_VALID,
            VIRTIO_NET_HDR_F_RSC_INFO
        ),
        (1, 2, 4)
    );
    assert_eq!(
        [
            VIRTIO_NET_HDR_GSO_NONE,
            VIRTIO_NET_HDR_GSO_TCPV4,
            VIRTIO_NET_HDR_GSO_UDP,
            VIRTIO_NET_HDR_GSO_TCPV6,
            VIRTIO_NET_HDR_GSO_UDP_L4,
            VIRTIO_NET_HDR_GSO_ECN
        ],
        [0, 1, 3, 4, 5, 0x80]
    );
}

// ---- Input classes of tun_get_user() and virtio_net_hdr_to_skb() (the pure-logic ones) ----

#[test]
fn s6_03_pi_mode_len_below_4() {
    assert_err(
        plan(VnetHdr::default(), WriteCtx::new(3, false, false, Some(10))),
        HdrError::ShortForPi,
        RxCounter::None,
    );
}

#[test]
fn s6_04_len_below_vnet_hdr_sz_and_extra_bytes_skipped() {
    assert_err(
        plan(VnetHdr::default(), WriteCtx::new(11, false, true, Some(12))),
        HdrError::ShortForVnetHdr,
        RxCounter::None,
    );
    assert_eq!(
        ok(
            VnetHdr::default(),
            WriteCtx::new(112, false, true, Some(12))
        )
        .layout
        .split
        .data_offset,
        12
    );
}

#[test]
fn s6_05_hdr_len_above_len() {
    assert_err(
        plan(hdr(0, 0, 61, 0, 0, 0), tun(60)),
        HdrError::HdrLenTooLong,
        RxCounter::None,
    );
}

#[test]
fn s6_06_csum_start_and_offset_ffff_no_overflow() {
    let h = hdr(NEEDS_CSUM, 0, 0, 0, 0xFFFF, 0xFFFF);
    for len in [
        0usize, 1, 100, 65535, 65537, 70000, 131_071, 131_072, 200_000,
    ] {
        for ctx in [tun(len), tap(len.max(14))] {
            let r = plan(h, ctx);
            assert!(r.is_err(), "len {len}: {r:?}");
        }
    }
}

#[test]
fn s6_07_tap_short_or_small_hdr_len() {
    assert_err(
        plan(VnetHdr::default(), tap(13)),
        HdrError::TapTooShort,
        RxCounter::None,
    );
    assert_err(
        plan(hdr(0, 0, 13, 0, 0, 0), tap(60)),
        HdrError::TapHdrLenTooShort,
        RxCounter::None,
    );
}

#[test]
fn s6_08_tun_no_pi_empty_or_bad_version() {
    assert_eq!(check_tun_ip_version(None), Err(HdrError::EmptyPacket));
    assert_eq!(
        check_tun_ip_version(Some(0x50)),
        Err(HdrError::BadIpVersion)
    );
}

#[test]
fn s6_09_bad_gso_type_or_ecn_alone() {
    for t in [2u8, 6, 0x7F, 0x80, 0x82, 0xFF] {
        assert_err(
            plan(hdr(0, t, 0, 100, 0, 0), tun(1000)),
            HdrError::BadGsoType,
            RxCounter::FrameErrors,
        );
    }
}

#[test]
fn s6_10_gso_size_zero() {
    assert_err(
        plan(tso4(20, 0), tun(1000)),
        HdrError::ZeroGsoSize,
        RxCounter::FrameErrors,
    );
}

#[test]
fn s6_11_gso_size_ffff() {
    assert_err(
        plan(tso4(20, 0xFFFF), tun(1000)),
        HdrError::GsoByFrags,
        RxCounter::FrameErrors,
    );
}

#[test]
fn s6_12_tcp_gso_size_1_to_7_clamped() {
    assert_eq!(ok(tso4(20, 3), tun(1000)).skb.gso.unwrap().gso_size, 8);
}

#[test]
fn s6_13_gso_payload_not_above_gso_size_plain() {
    assert_eq!(ok(tso4(20, 1460), tun(1500)).skb.gso, None);
}

#[test]
fn s6_14_needs_csum_beyond_packet() {
    // Checksum field past the end: W3 raises hdr_len, W4 refuses.
    assert_err(
        plan(hdr(NEEDS_CSUM, 0, 0, 0, 40, 16), tun(57)),
        HdrError::HdrLenTooLong,
        RxCounter::None,
    );
    // Checksum field inside but the TCP header (thlen 20) past the end.
    assert_err(
        plan(tso4(40, 100), tun(59)),
        HdrError::CsumBeyondPacket,
        RxCounter::FrameErrors,
    );
}

#[test]
fn s6_15_transport_offset_below_20_or_40() {
    assert_err(
        plan(hdr(NEEDS_CSUM, 0, 0, 0, 14, 16), tap(100)),
        HdrError::TransportBeforeNetwork,
        RxCounter::FrameErrors,
    );
    assert_err(
        plan(hdr(NEEDS_CSUM, 4, 0, 100, 34, 16), tap(1000)),
        HdrError::TransportBeforeNetwork,
        RxCounter::FrameErrors,
    );
}

#[test]
fn s6_16_tcp_gso_csum_offset_not_16() {
    assert_err(
        plan(hdr(NEEDS_CSUM, 1, 0, 100, 20, 10), tun(1000)),
        HdrError::TcpCsumOffset,
        RxCounter::FrameErrors,
    );
}

#[test]
fn s6_17_udp_l4_violations() {
    assert_err(
        plan(hdr(0, 5, 0, 100, 0, 0), tun(1000)),
        HdrError::UdpL4NoCsum,
        RxCounter::FrameErrors,
    );
    assert_err(
        plan(hdr(NEEDS_CSUM, 5, 0, 100, 20, 8), tun(1000)),
        HdrError::UdpL4CsumOffset,
        RxCounter::FrameErrors,
    );
    assert_err(
        plan(hdr(NEEDS_CSUM, 0x85, 0, 100, 20, 6), tun(1000)),
        HdrError::UdpL4Ecn,
        RxCounter::FrameErrors,
    );
    assert_err(
        plan(hdr(NEEDS_CSUM, 5, 0, 1, 20, 6), tun(1000)),
        HdrError::UdpL4TooManySegments,
        RxCounter::FrameErrors,
    );
}

#[test]
fn s6_18_gso_without_csum_short_or_dodgy() {
    assert_err(
        plan(hdr(0, 1, 0, 100, 0, 0), tun(39)),
        HdrError::TransportTooShort,
        RxCounter::FrameErrors,
    );
    let g = ok(hdr(0, 1, 0, 100, 0, 0), tun(1000)).skb.gso.unwrap();
    assert_eq!(g.gso_type, SKB_GSO_TCPV4 | SKB_GSO_DODGY);
}

#[test]
fn s6_19_data_valid_and_unknown_flags_ignored() {
    let a = ok(hdr(0xFE, 0, 0, 0, 0, 0), tun(100));
    let b = ok(hdr(0, 0, 0, 0, 0, 0), tun(100));
    assert_eq!(a, b);
}

#[test]
fn s6_20_ufo_accepted() {
    let g = ok(hdr(NEEDS_CSUM, 3, 0, 1000, 20, 6), tun(3000))
        .skb
        .gso
        .unwrap();
    assert_eq!(g.gso_type, SKB_GSO_UDP | SKB_GSO_DODGY);
    let g = ok(hdr(0, 3, 0, 1000, 0, 0), tap(3000)).skb.gso.unwrap();
    assert_eq!(g.gso_type, SKB_GSO_UDP | SKB_GSO_DODGY);
}
