// SPDX-License-Identifier: GPL-2.0

//! Property tests of the write-path planner: no panics, and every accepted plan stays inside the packet.

use proptest::prelude::*;
use rtun_host::abi::TunAbi;
use rtun_host::check::check_write;
use rtun_host::vnet_hdr::*;

fn order() -> impl Strategy<Value = ByteOrder> {
    prop_oneof![Just(ByteOrder::Little), Just(ByteOrder::Big)]
}

/// Realistic kernel sizes most of the time, anything at all otherwise.
fn geometry() -> impl Strategy<Value = SkbGeometry> {
    prop_oneof![
        4 => Just(SkbGeometry::X86_64),
        1 => Just(SkbGeometry { page_size: 65536, shinfo_size: 320, max_skb_frags: 45, costly_order: 3, net_ip_align: 2, net_skb_pad: 128, smp_cache_bytes: 128 }),
        1 => (any::<u32>(), any::<u32>(), any::<u32>(), 0u32..80, any::<u32>(), any::<u32>(), any::<u32>()).prop_map(
            |(page_size, shinfo_size, max_skb_frags, costly_order, net_ip_align, net_skb_pad, smp_cache_bytes)| SkbGeometry {
                page_size,
                shinfo_size,
                max_skb_frags,
                costly_order,
                net_ip_align,
                net_skb_pad,
                smp_cache_bytes,
            }
        ),
    ]
}

fn ctx() -> impl Strategy<Value = WriteCtx> {
    (
        0usize..=70_000,
        any::<bool>(),
        any::<bool>(),
        prop_oneof![
            1 => Just(None),
            3 => Just(Some(10u32)),
            1 => Just(Some(12u32)),
            1 => (0u32..=64).prop_map(Some),
            1 => any::<u32>().prop_map(Some),
        ],
        prop_oneof![4 => Just(64u32), 1 => 0u32..=4096, 1 => any::<u32>()],
        prop_oneof![
            3 => Just(SkbAlloc::Paged),
            1 => (0u32..=512).prop_map(|headroom| SkbAlloc::Linear { headroom }),
            1 => any::<u32>().prop_map(|headroom| SkbAlloc::Linear { headroom }),
        ],
        geometry(),
    )
        .prop_map(
            |(len, is_tap, no_pi, vnet_hdr_sz, align, alloc, geometry)| {
                // Put `len` packet bytes behind whatever prefixes there are most
                // of the time, so that W1 and W2 do not eat every case.
                let prefix =
                    if no_pi { 0 } else { 4 } + vnet_hdr_sz.map_or(0, |s| s.clamp(10, 64) as usize);
                WriteCtx {
                    total_len: len + prefix,
                    is_tap,
                    no_pi,
                    vnet_hdr_sz,
                    align,
                    alloc,
                    geometry,
                    abi: TunAbi::Linux6_12,
                }
            },
        )
}

fn u16_edge() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => 0u16..=80,
        1 => 0u16..=2000,
        1 => prop_oneof![Just(0u16), Just(1), Just(7), Just(8), Just(0x7FFF), Just(0xFFFE), Just(0xFFFF)],
        1 => 65000u16..=0xFFFF,
        1 => any::<u16>(),
    ]
}

/// Headers that are often almost valid, so accepted GSO plans are common.
fn structured_hdr() -> impl Strategy<Value = VnetHdr> {
    (
        prop_oneof![
            Just(0u8),
            Just(VIRTIO_NET_HDR_F_NEEDS_CSUM),
            Just(VIRTIO_NET_HDR_F_DATA_VALID),
            any::<u8>()
        ],
        prop_oneof![
            4 => prop_oneof![Just(0u8), Just(1), Just(3), Just(4), Just(5)],
            2 => prop_oneof![Just(0x81u8), Just(0x83), Just(0x84), Just(0x85), Just(0x80)],
            1 => any::<u8>(),
        ],
        u16_edge(),
        u16_edge(),
        prop_oneof![3 => 0u16..=80, 1 => u16_edge()],
        prop_oneof![3 => prop_oneof![Just(6u16), Just(16)], 1 => u16_edge()],
    )
        .prop_map(
            |(flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)| VnetHdr {
                flags,
                gso_type,
                hdr_len,
                gso_size,
                csum_start,
                csum_offset,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 20_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// (a) Any header bytes, any length up to 70000, any context: no panic, and the invariants hold.
    #[test]
    fn plan_write_never_panics_on_any_bytes(bytes in any::<[u8; 10]>(), order in order(), ctx in ctx()) {
        let _ = check_write(&bytes, order, &ctx);
        let _ = check_tun_ip_version(bytes.first().copied());
    }

    /// W1 and W2 taken one step at a time, as the driver does between its
    /// copies, give exactly what `split_write()` gives, and the layout
    /// planned from that split is `plan_layout()`'s.
    #[test]
    fn split_steps_are_split_write(bytes in any::<[u8; 10]>(), order in order(), ctx in ctx()) {
        let mut split = Split::start(ctx.total_len);
        let mut stepped = Ok(());
        if !ctx.no_pi {
            stepped = split.take_pi();
        }
        if let (Ok(()), Some(sz)) = (stepped, ctx.vnet_hdr_sz) {
            stepped = split.take_vnet_hdr(sz);
        }
        let whole = split_write(&ctx);
        prop_assert_eq!(stepped.map(|()| split), whole);
        if let Ok(split) = whole {
            let hdr = VnetHdr::parse(&bytes, order);
            prop_assert_eq!(plan_layout_split(&hdr, &ctx, split), plan_layout(&hdr, &ctx));
        }
    }

    /// (a) Same with raw lengths: the prefixes are not added, so W1 and W2 fire too.
    #[test]
    fn plan_write_never_panics_on_raw_total_len(
        bytes in any::<[u8; 10]>(),
        order in order(),
        ctx in ctx(),
        total_len in prop_oneof![0usize..=70_000, Just(usize::MAX), any::<usize>()],
    ) {
        let ctx = WriteCtx { total_len, ..ctx };
        let _ = check_write(&bytes, order, &ctx);
    }

    /// (b) Accepted plans stay inside the packet; checked on nearly valid headers.
    #[test]
    fn accepted_plans_stay_inside_packet(h in structured_hdr(), order in order(), ctx in ctx()) {
        let bytes = h.to_bytes(order);
        if let Ok(plan) = check_write(&bytes, order, &ctx) {
            let len = plan.layout.copy_len;
            prop_assert!(plan.layout.linear <= len);
            prop_assert!(plan.skb.head_len <= len);
            if let Some(c) = plan.skb.csum {
                prop_assert!(usize::from(c.start) + usize::from(c.offset) + 2 <= plan.skb.head_len);
            }
            if let Some(t) = plan.skb.transport_offset {
                prop_assert!(t as usize + plan.skb.thlen as usize <= len);
            }
            if let Some(g) = plan.skb.gso {
                prop_assert!(g.gso_size > 0 && g.gso_size != GSO_BY_FRAGS);
                prop_assert!(g.gso_type & SKB_GSO_DODGY != 0);
            }
        }
    }

    /// Parsing and encoding are inverse in both byte orders.
    #[test]
    fn parse_to_bytes_round_trip(bytes in any::<[u8; 10]>(), h in structured_hdr(), order in order()) {
        prop_assert_eq!(VnetHdr::parse(&bytes, order).to_bytes(order), bytes);
        prop_assert_eq!(VnetHdr::parse(&h.to_bytes(order), order), h);
    }

    /// `plan_skb` does not panic on any layout, even one `plan_layout` would never make.
    #[test]
    fn plan_skb_never_panics_on_any_layout(
        h in structured_hdr(),
        vnet in any::<bool>(),
        copy_len in prop_oneof![0usize..=70_000, any::<usize>()],
        linear in prop_oneof![0usize..=70_000, any::<usize>()],
        headroom in any::<u32>(),
    ) {
        let layout = Layout {
            split: Split { pi_len: 0, hdr_offset: 0, vnet_hdr_sz: 10, data_offset: 10, len: copy_len },
            hdr_len: h.hdr_len,
            headroom,
            copy_len,
            linear,
        };
        if let Ok(s) = plan_skb(&h, vnet, &layout) {
            prop_assert!(s.head_len <= copy_len);
        }
    }
}

/// A deterministic grid over the interesting values, asserting the invariants and counting outcomes.
#[test]
fn grid_sweep_covers_every_outcome() {
    let mut seen = std::collections::BTreeMap::new();
    let flags = [0u8, VIRTIO_NET_HDR_F_NEEDS_CSUM];
    let types = [0u8, 1, 2, 3, 4, 5, 0x80, 0x81, 0x83, 0x84, 0x85];
    let sizes = [0u16, 1, 8, 100, 0xFFFF];
    let starts = [0u16, 14, 19, 20, 34, 39, 40, 54, 65470, 65471, 0xFFFF];
    let offs = [0u16, 6, 16, 0xFFFF];
    let hdr_lens = [0u16, 5, 14, 60, 5000];
    let lens = [0usize, 13, 14, 39, 40, 60, 141, 1000, 10_000, 70_000];
    for &f in &flags {
        for &t in &types {
            for &gs in &sizes {
                for &st in &starts {
                    for &off in &offs {
                        for &hl in &hdr_lens {
                            for &len in &lens {
                                for is_tap in [false, true] {
                                    let h = VnetHdr {
                                        flags: f,
                                        gso_type: t,
                                        hdr_len: hl,
                                        gso_size: gs,
                                        csum_start: st,
                                        csum_offset: off,
                                    };
                                    let ctx = WriteCtx::new(10 + len, is_tap, true, Some(10));
                                    let r = check_write(
                                        &h.to_bytes(ByteOrder::Little),
                                        ByteOrder::Little,
                                        &ctx,
                                    );
                                    let key = match r {
                                        Ok(p) if p.skb.gso.is_some() => "gso".to_string(),
                                        Ok(p) if p.skb.csum.is_some() => "csum".to_string(),
                                        Ok(_) => "plain".to_string(),
                                        Err(e) => format!("{e:?}"),
                                    };
                                    *seen.entry(key).or_insert(0u32) += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let want = [
        "gso",
        "csum",
        "plain",
        "HdrLenTooLong",
        "TapTooShort",
        "TapHdrLenTooShort",
        "BadGsoType",
        "ZeroGsoSize",
        "CsumBeyondPacket",
        "CsumStartTooFar",
        "TransportBeforeNetwork",
        "TransportTooShort",
        "UdpL4NoCsum",
        "UdpL4CsumOffset",
        "UdpL4TooManySegments",
        "UdpL4Ecn",
        "TcpCsumOffset",
        "GsoByFrags",
    ];
    for w in want {
        assert!(seen.contains_key(w), "grid never produced {w}: {seen:?}");
    }
}

proptest! {
    /// `tun_can_build_skb()`: only non-blocking TAP writes that fit in a page
    /// get the linear layout, behind `TUN_RX_PAD`, and it never panics.
    #[test]
    fn write_alloc_matches_tun_can_build_skb(
        is_tap in any::<bool>(),
        nonblock in any::<bool>(),
        len in prop_oneof![0usize..=8192, any::<usize>()],
        g in geometry(),
    ) {
        let alloc = write_alloc(is_tap, nonblock, len, &g);
        let fits = (len as u128 + u128::from(g.net_ip_align) + u128::from(g.net_skb_pad) + 256)
            .div_ceil(u128::from(g.smp_cache_bytes.max(1)))
            * u128::from(g.smp_cache_bytes.max(1))
            + u128::from(g.shinfo_size)
            <= u128::from(g.page_size);
        let pad_ok = u64::from(g.net_ip_align) + u64::from(g.net_skb_pad) <= u64::from(u32::MAX);
        if is_tap && nonblock && fits && pad_ok {
            prop_assert_eq!(alloc, SkbAlloc::Linear { headroom: g.tun_rx_pad() });
        } else if !(is_tap && nonblock && fits) {
            prop_assert_eq!(alloc, SkbAlloc::Paged);
        }
    }
}
