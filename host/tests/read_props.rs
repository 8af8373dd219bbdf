// SPDX-License-Identifier: GPL-2.0

//! Property tests of the read-path planner: no panics, plans stay inside the buffer, bytes match the model.

#[path = "common/read_check.rs"]
mod read_check;

use proptest::prelude::*;
use read_check::{check_read, fuzz_one, model_hdr};
use rtun_host::abi::TunAbi;
use rtun_host::vnet_hdr::*;
use rtun_host::vnet_out::*;

fn order() -> impl Strategy<Value = ByteOrder> {
    prop_oneof![Just(ByteOrder::Little), Just(ByteOrder::Big)]
}

/// Small lengths most of the time (so the byte model runs), anything otherwise.
fn len_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => 0u32..=100,
        3 => 0u32..=2000,
        1 => 0u32..=70_000,
        1 => any::<u32>(),
    ]
}

fn ctx() -> impl Strategy<Value = ReadCtx> {
    (
        prop_oneof![
            4 => 0usize..=120,
            3 => 0usize..=2200,
            1 => 0usize..=70_100,
            1 => any::<usize>(),
        ],
        any::<bool>(),
        prop_oneof![
            2 => Just(None),
            3 => Just(Some(10u32)),
            1 => Just(Some(12u32)),
            1 => (0u32..=80).prop_map(Some),
            1 => any::<u32>().prop_map(Some),
        ],
        order(),
    )
        .prop_map(|(buf_len, no_pi, vnet_hdr_sz, order)| ReadCtx {
            buf_len,
            no_pi,
            vnet_hdr_sz,
            order,
            abi: TunAbi::Linux6_12,
            tnl_offload: false,
        })
}

fn gso_type() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => prop_oneof![
            Just(SKB_GSO_TCPV4),
            Just(SKB_GSO_TCPV6),
            Just(SKB_GSO_UDP_L4),
            Just(SKB_GSO_TCPV4 | SKB_GSO_TCP_ECN),
            Just(SKB_GSO_TCPV6 | SKB_GSO_TCP_ECN | SKB_GSO_DODGY),
            Just(SKB_GSO_UDP),
            Just(SKB_GSO_GRE),
            Just(0),
        ],
        1 => any::<u32>(),
    ]
}

fn skb() -> impl Strategy<Value = SkbInfo> {
    (
        len_u32(),
        prop_oneof![3 => Just(None), 1 => any::<u32>().prop_map(Some)],
        any::<u16>(),
        prop_oneof![2 => Just(0u16), 2 => 1u16..=9000, 1 => any::<u16>()],
        gso_type(),
        (0u8..4).prop_map(IpSummed::from_raw),
        prop_oneof![3 => -4i32..=200, 1 => any::<i32>()],
        any::<u16>(),
        prop_oneof![
            2 => Just(None),
            1 => (any::<u16>(), any::<u16>()).prop_map(|(proto, tci)| Some(VlanTag { proto, tci })),
        ],
    )
        .prop_map(
            |(len, head, protocol, gso_size, gso_type, ip_summed, start, csum_offset, vlan)| {
                SkbInfo {
                    len,
                    head_len: head.unwrap_or(len.min(128)),
                    protocol,
                    gso_size,
                    gso_type,
                    ip_summed,
                    csum_start_offset: start,
                    csum_offset,
                    vlan,
                    tunnel: TunnelOffsets::default(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 6_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any skb, any buffer, any context: no panic, every invariant and the byte model hold.
    #[test]
    fn plan_read_never_panics_and_matches_the_model(ctx in ctx(), skb in skb()) {
        let _ = check_read(&ctx, &skb);
    }

    /// Accepted plans stay inside the buffer; truncation is flagged exactly when the packet did not fit.
    #[test]
    fn plans_stay_within_the_buffer(ctx in ctx(), skb in skb()) {
        if let Ok(p) = plan_read(&ctx, &skb) {
            let headers = p.hdr_offset + p.vnet_hdr_sz;
            prop_assert_eq!(headers, p.data_offset);
            prop_assert!(p.ret <= ctx.buf_len);
            prop_assert_eq!(headers + p.copy.len() + p.unwritten(), p.ret);
            let whole = u64::from(skb.len) + u64::from(skb.vlan_hlen());
            let short_tagged = skb.vlan.is_some() && skb.len < 12;
            if !short_tagged {
                prop_assert_eq!(p.unwritten(), 0);
                prop_assert_eq!(p.truncated, (p.copy.len() as u64) < whole);
            }
            prop_assert_eq!(p.truncated, (ctx.buf_len as u64) < p.total);
            if let Some(pi) = p.pi {
                prop_assert_eq!(pi.flags == TUN_PKT_STRIP, p.truncated);
            }
        }
    }

    /// The driver plans the packet copy again once the headers are written,
    /// from what is left of the buffer then (`plan_copy()`, rust/driver/read.rs):
    /// that is the plan's own copy.
    #[test]
    fn copy_planned_after_the_headers_is_the_plans(ctx in ctx(), skb in skb()) {
        if let Ok(p) = plan_read(&ctx, &skb) {
            let left = ctx.buf_len - p.data_offset;
            prop_assert_eq!(plan_copy(skb.len, skb.vlan, left), p.copy);
        }
    }

    /// The header never panics and always equals the long-hand model, for any vlan_hlen and flag.
    #[test]
    fn hdr_from_skb_never_panics(skb in skb(), dv in any::<bool>(), vlan_hlen in prop_oneof![Just(0u32), Just(4), any::<u32>()]) {
        let got = hdr_from_skb(&skb, dv, vlan_hlen);
        match model_hdr(&skb, vlan_hlen) {
            None => prop_assert_eq!(got, Err(OutError::UnexpectedGsoType)),
            Some(mut want) => {
                if !dv && want.flags == VIRTIO_NET_HDR_F_DATA_VALID {
                    want.flags = 0;
                }
                prop_assert_eq!(got, Ok(want));
            }
        }
    }

    /// Header padding written with fill_vnet_hdr is always zero.
    #[test]
    fn header_padding_is_zero(h in any::<[u8; 10]>(), sz in 0usize..=300, fill in any::<u8>()) {
        let mut out = vec![fill; sz];
        let n = fill_vnet_hdr(&h, &mut out);
        prop_assert_eq!(n, sz.min(10));
        prop_assert_eq!(&out[..n], &h[..n]);
        prop_assert!(out[n..].iter().all(|&b| b == 0));
    }

    /// Growing the buffer never shrinks what a read returns or copies.
    #[test]
    fn bigger_buffers_return_more(ctx in ctx(), skb in skb(), more in 0usize..=64) {
        let bigger = ReadCtx { buf_len: ctx.buf_len.saturating_add(more), ..ctx };
        if let (Ok(a), Ok(b)) = (plan_read(&ctx, &skb), plan_read(&bigger, &skb)) {
            prop_assert!(a.ret <= b.ret);
            prop_assert!(a.copy.len() <= b.copy.len());
            prop_assert_eq!(a.total, b.total);
        }
    }

    /// Random bytes through the fuzz decoder.
    #[test]
    fn fuzz_inputs_hold(data in proptest::collection::vec(any::<u8>(), 0..48)) {
        fuzz_one(&data);
    }
}

/// A deterministic grid over the interesting values, asserting the invariants and counting outcomes.
#[test]
fn grid_sweep_covers_every_outcome() {
    let mut seen = std::collections::BTreeMap::new();
    let lens = [0u32, 5, 11, 12, 13, 16, 60, 1500];
    let bufs = [0usize, 3, 4, 9, 10, 13, 14, 16, 26, 30, 64, 1514, 4000];
    let gsos = [
        (0u16, 0u32),
        (1000, SKB_GSO_TCPV4),
        (1000, SKB_GSO_TCPV6 | SKB_GSO_TCP_ECN),
        (1000, SKB_GSO_UDP_L4),
        (1000, SKB_GSO_UDP),
    ];
    let summed = [
        IpSummed::None,
        IpSummed::Unnecessary,
        IpSummed::Complete,
        IpSummed::Partial,
    ];
    for &len in &lens {
        for &buf in &bufs {
            for &(gso_size, gso_type) in &gsos {
                for &ip_summed in &summed {
                    for vlan in [
                        None,
                        Some(VlanTag {
                            proto: 0x8100,
                            tci: 3,
                        }),
                    ] {
                        for no_pi in [false, true] {
                            for sz in [None, Some(10), Some(12)] {
                                let skb = SkbInfo {
                                    len,
                                    head_len: len.min(54),
                                    protocol: 0x0800,
                                    gso_size,
                                    gso_type,
                                    ip_summed,
                                    csum_start_offset: 34,
                                    csum_offset: 16,
                                    vlan,
                                    tunnel: TunnelOffsets::default(),
                                };
                                let ctx = ReadCtx::new(buf, no_pi, sz);
                                let key = match check_read(&ctx, &skb) {
                                    Ok(p) if p.unwritten() > 0 => "short_tagged".to_string(),
                                    Ok(p) if p.truncated => "truncated".to_string(),
                                    Ok(p) if p.hdr.is_some_and(|h| h.gso_type != 0) => {
                                        "gso".to_string()
                                    }
                                    Ok(_) => "whole".to_string(),
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
    for want in [
        "short_tagged",
        "truncated",
        "gso",
        "whole",
        "ShortForPi",
        "ShortForVnetHdr",
        "UnexpectedGsoType",
    ] {
        assert!(
            seen.contains_key(want),
            "grid never produced {want}: {seen:?}"
        );
    }
}
