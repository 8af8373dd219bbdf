// SPDX-License-Identifier: GPL-2.0

//! One test per read-path rule of `rust/pure/vnet_out.rs` (tun_put_user and virtio_net_hdr_from_skb of Linux 6.12).
//!
//! Rules R0 to R6 are `tun_put_user()` (drivers/net/tun.c), H1 to H5
//! `virtio_net_hdr_from_skb()` (include/linux/virtio_net.h). Every plan goes
//! through `read_check::check_read`, so the invariants and the byte-level
//! model are asserted on each input too.

#[path = "common/read_check.rs"]
mod read_check;

use read_check::{check_read, fuzz_one, packet_bytes, render, FILL};
use rtun_host::abi::TunAbi;
use rtun_host::errno::EINVAL;
use rtun_host::vnet_hdr::*;
use rtun_host::vnet_out::*;

const LE: ByteOrder = ByteOrder::Little;
const BE: ByteOrder = ByteOrder::Big;
const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86DD;
const ETH_P_8021Q: u16 = 0x8100;

fn ctx(buf_len: usize, no_pi: bool, vnet_hdr_sz: Option<u32>) -> ReadCtx {
    ReadCtx {
        buf_len,
        no_pi,
        vnet_hdr_sz,
        order: LE,
        abi: TunAbi::Linux6_12,
        tnl_offload: false,
    }
}

fn ok(ctx: ReadCtx, skb: SkbInfo) -> ReadPlan {
    match check_read(&ctx, &skb) {
        Ok(p) => p,
        Err(e) => panic!("{skb:?} in {ctx:?} refused with {e:?}"),
    }
}

fn err(ctx: ReadCtx, skb: SkbInfo) -> OutError {
    match check_read(&ctx, &skb) {
        Ok(p) => panic!("{skb:?} in {ctx:?} accepted: {p:?}"),
        Err(e) => {
            assert_eq!(e.errno(), 22);
            e
        }
    }
}

/// A TAP TSO skb as local TCP over IPv4 sends it: 66 header bytes linear, partial checksum at 34.
fn tso4(len: u32, gso_size: u16) -> SkbInfo {
    SkbInfo {
        len,
        head_len: 66,
        protocol: ETH_P_IP,
        gso_size,
        gso_type: SKB_GSO_TCPV4,
        ip_summed: IpSummed::Partial,
        csum_start_offset: 34,
        csum_offset: 16,
        vlan: None,
        tunnel: TunnelOffsets::default(),
    }
}

fn with_tag(skb: SkbInfo, tci: u16) -> SkbInfo {
    SkbInfo {
        vlan: Some(VlanTag {
            proto: ETH_P_8021Q,
            tci,
        }),
        ..skb
    }
}

/// Renders a plan into a buffer of `FILL` bytes, padding zeroed.
fn bytes(plan: &ReadPlan, skb: &SkbInfo, buf_len: usize) -> Vec<u8> {
    let mut out = vec![FILL; buf_len];
    render(plan, &packet_bytes(skb.len as usize), &mut out, true);
    out
}

// ---- R0: total (tun_put_user) ----

#[test]
fn r0_total_counts_pi_header_packet_and_tag() {
    let skb = with_tag(SkbInfo::new(100, ETH_P_IP), 5);
    assert_eq!(ok(ctx(1000, false, Some(12)), skb).total, 4 + 12 + 100 + 4);
    assert_eq!(ok(ctx(1000, true, Some(10)), skb).total, 10 + 104);
    assert_eq!(ok(ctx(1000, true, None), skb).total, 104);
    assert_eq!(ok(ctx(1000, true, None), SkbInfo::new(100, 0)).total, 100);
}

#[test]
fn r0_total_does_not_overflow_on_huge_values() {
    let skb = with_tag(SkbInfo::new(u32::MAX, 0), 0);
    let p = ok(ctx(usize::MAX, false, Some(u32::MAX)), skb);
    assert_eq!(p.total, 4 + u64::from(u32::MAX) * 2 + 4);
    assert!(!p.truncated);
    let p = ok(ctx(1 << 20, false, Some(1000)), skb);
    assert!(p.truncated);
    assert_eq!(p.ret, 1 << 20);
}

// ---- R1: PI (tun_put_user) ----

#[test]
fn r1_pi_buffer_below_4_is_einval() {
    for buf in 0..4 {
        for sz in [None, Some(10)] {
            let e = err(ctx(buf, false, sz), SkbInfo::new(0, ETH_P_IP));
            assert_eq!(e, OutError::ShortForPi);
        }
    }
    // Without the PI, no minimum for a plain read.
    let p = ok(ctx(1, true, None), SkbInfo::new(50, ETH_P_IP));
    assert_eq!((p.ret, p.copy.tail, p.truncated), (1, 1, true));
}

#[test]
fn r1_pi_exactly_4_bytes_takes_an_empty_packet() {
    let p = ok(ctx(4, false, None), SkbInfo::new(0, ETH_P_IP));
    assert_eq!(p.ret, 4);
    assert_eq!(p.pi.map(|pi| pi.flags), Some(0));
    let p = ok(ctx(4, false, None), SkbInfo::new(1, ETH_P_IP));
    assert_eq!((p.ret, p.total), (4, 5));
    assert_eq!(p.pi.map(|pi| pi.flags), Some(TUN_PKT_STRIP));
}

#[test]
fn r1_strip_set_iff_buffer_shorter_than_total() {
    let skb = SkbInfo::new(60, ETH_P_IP);
    let total = 4 + 10 + 60;
    for buf in [14, 15, total - 1, total, total + 1, 10_000] {
        let p = ok(ctx(buf, false, Some(10)), skb);
        let strip = buf < total;
        assert_eq!(p.truncated, strip);
        assert_eq!(
            p.pi,
            Some(TunPi {
                flags: if strip { TUN_PKT_STRIP } else { 0 },
                proto: ETH_P_IP,
            })
        );
    }
}

#[test]
fn r1_strip_counts_the_vlan_tag() {
    // 4 + 64 would fit the packet but not the tag.
    let skb = with_tag(SkbInfo::new(64, ETH_P_8021Q), 1);
    let p = ok(ctx(4 + 64, false, None), skb);
    assert!(p.truncated);
    assert_eq!(p.pi.map(|pi| pi.flags), Some(TUN_PKT_STRIP));
    assert!(!ok(ctx(4 + 68, false, None), skb).truncated);
}

#[test]
fn r1_pi_bytes_are_native_flags_and_big_endian_proto() {
    let pi = TunPi {
        flags: TUN_PKT_STRIP,
        proto: ETH_P_IPV6,
    };
    let f = TUN_PKT_STRIP.to_ne_bytes();
    assert_eq!(pi.to_bytes(), [f[0], f[1], 0x86, 0xDD]);
    let skb = SkbInfo::new(40, ETH_P_IPV6);
    let p = ok(ctx(44, false, None), skb);
    assert_eq!(&bytes(&p, &skb, 44)[..4], &[0, 0, 0x86, 0xDD]);
}

// ---- R2: vnet header size (tun_put_user) ----

#[test]
fn r2_buffer_below_vnet_hdr_sz_is_einval() {
    for sz in [10u32, 12, 20, 1000] {
        let s = sz as usize;
        for buf in [0, 1, s - 1] {
            let e = err(ctx(buf, true, Some(sz)), SkbInfo::new(0, 0));
            assert_eq!(e, OutError::ShortForVnetHdr);
        }
        // With PI: R1 passes, then R2 on what is left.
        for buf in [4, 3 + s] {
            let e = err(ctx(buf, false, Some(sz)), SkbInfo::new(0, 0));
            assert_eq!(e, OutError::ShortForVnetHdr);
        }
        let p = ok(ctx(4 + s, false, Some(sz)), SkbInfo::new(0, 0));
        assert_eq!((p.data_offset, p.ret, p.truncated), (4 + s, 4 + s, false));
    }
}

#[test]
fn r2_header_only_buffer_truncates_the_whole_packet() {
    let p = ok(ctx(10, true, Some(10)), SkbInfo::new(1500, ETH_P_IP));
    assert_eq!((p.ret, p.copy.len(), p.truncated), (10, 0, true));
    assert_eq!(p.total, 1510);
}

#[test]
fn r2_vnet_hdr_sz_below_10_is_treated_as_10() {
    for sz in [0u32, 4, 9] {
        assert_eq!(
            err(ctx(9, true, Some(sz)), SkbInfo::new(0, 0)),
            OutError::ShortForVnetHdr
        );
        let p = ok(ctx(10, true, Some(sz)), SkbInfo::new(0, 0));
        assert_eq!((p.vnet_hdr_sz, p.hdr_pad(), p.ret), (10, 0, 10));
    }
}

#[test]
fn r2_header_padding_is_counted_and_zeroed() {
    let skb = tso4(3000, 1448);
    let p = ok(ctx(4 + 12 + 3000, false, Some(12)), skb);
    assert_eq!((p.hdr_offset, p.vnet_hdr_sz, p.data_offset), (4, 12, 16));
    assert_eq!(p.hdr_pad(), 2);
    let out = bytes(&p, &skb, 4 + 12 + 3000);
    assert_eq!(&out[4..14], &p.hdr_bytes().unwrap());
    assert_eq!(&out[14..16], &[0, 0]);
    // A big header: 1000 bytes, 990 of them padding.
    let p = ok(ctx(1000 + 60, true, Some(1000)), SkbInfo::new(60, ETH_P_IP));
    let out = bytes(&p, &SkbInfo::new(60, ETH_P_IP), 1060);
    assert!(out[10..1000].iter().all(|&b| b == 0));
    assert_eq!(out[1000..], packet_bytes(60)[..]);
}

#[test]
fn r2_c_leaves_the_padding_unwritten() {
    // What C does (iov_iter_advance): the reader's own bytes stay there.
    let skb = SkbInfo::new(20, ETH_P_IP);
    let p = ok(ctx(12 + 20, true, Some(12)), skb);
    let mut out = vec![FILL; 32];
    render(&p, &packet_bytes(20), &mut out, false);
    assert_eq!(&out[10..12], &[FILL, FILL]);
    assert_eq!(&out[..10], &[0; 10]);
}

#[test]
fn fill_vnet_hdr_writes_header_then_zeroes() {
    let h = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    let mut out = [0xFFu8; 16];
    assert_eq!(fill_vnet_hdr(&h, &mut out), 10);
    assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0, 0, 0, 0, 0]);
    let mut short = [0xFFu8; 4];
    assert_eq!(fill_vnet_hdr(&h, &mut short), 4);
    assert_eq!(short, [1, 2, 3, 4]);
    assert_eq!(fill_vnet_hdr(&h, &mut []), 0);
}

// ---- R3: unexpected GSO type (tun_put_user) ----

#[test]
fn r3_ufo_and_other_gso_types_are_einval() {
    for t in [
        SKB_GSO_UDP,
        SKB_GSO_UDP | SKB_GSO_DODGY,
        SKB_GSO_DODGY,
        SKB_GSO_TCP_ECN,
        SKB_GSO_GRE,
        SKB_GSO_SCTP,
        SKB_GSO_FRAGLIST,
        SKB_GSO_UDP_TUNNEL,
        SKB_GSO_ESP,
        0,
    ] {
        let skb = SkbInfo {
            gso_size: 1000,
            gso_type: t,
            ..SkbInfo::new(3000, ETH_P_IP)
        };
        assert_eq!(
            err(ctx(5000, true, Some(10)), skb),
            OutError::UnexpectedGsoType
        );
        assert_eq!(
            hdr_from_skb(&skb, true, 0),
            Err(OutError::UnexpectedGsoType)
        );
        // With PI the check comes after the PI (which C has written).
        assert_eq!(
            err(ctx(5000, false, Some(10)), skb),
            OutError::UnexpectedGsoType
        );
        // R2 comes first.
        assert_eq!(err(ctx(9, true, Some(10)), skb), OutError::ShortForVnetHdr);
    }
}

#[test]
fn r3_needs_a_vnet_header() {
    // Without IFF_VNET_HDR the header is never built, so any GSO type reads fine.
    let skb = SkbInfo {
        gso_size: 1000,
        gso_type: SKB_GSO_UDP,
        ..SkbInfo::new(3000, ETH_P_IP)
    };
    let p = ok(ctx(5000, true, None), skb);
    assert_eq!((p.hdr, p.ret), (None, 3000));
}

#[test]
fn errno_is_einval_for_every_error() {
    for e in [
        OutError::ShortForPi,
        OutError::ShortForVnetHdr,
        OutError::UnexpectedGsoType,
    ] {
        assert_eq!(e.errno(), EINVAL);
    }
}

// ---- H1 to H5: virtio_net_hdr_from_skb (virtio_net.h) ----

#[test]
fn h0_plain_packet_gets_an_all_zero_header() {
    let skb = SkbInfo {
        gso_type: SKB_GSO_TCPV4,
        csum_start_offset: 77,
        csum_offset: 9,
        ..SkbInfo::new(100, ETH_P_IP)
    };
    let p = ok(ctx(200, true, Some(10)), skb);
    assert_eq!(p.hdr, Some(VnetHdr::default()));
    assert_eq!(p.hdr_bytes(), Some([0; 10]));
}

#[test]
fn h1_tcpv4_gso_copies_headlen_and_gso_size() {
    let h = hdr_from_skb(&tso4(10_000, 1448), true, 0).unwrap();
    assert_eq!(
        h,
        VnetHdr {
            flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
            gso_type: VIRTIO_NET_HDR_GSO_TCPV4,
            hdr_len: 66,
            gso_size: 1448,
            csum_start: 34,
            csum_offset: 16,
        }
    );
}

#[test]
fn h1_gso_types_map_to_virtio_types() {
    for (t, want) in [
        (SKB_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV4),
        (SKB_GSO_TCPV6, VIRTIO_NET_HDR_GSO_TCPV6),
        (SKB_GSO_UDP_L4, VIRTIO_NET_HDR_GSO_UDP_L4),
        (SKB_GSO_TCPV4 | SKB_GSO_DODGY, VIRTIO_NET_HDR_GSO_TCPV4),
        (
            SKB_GSO_TCPV6 | SKB_GSO_TCP_FIXEDID,
            VIRTIO_NET_HDR_GSO_TCPV6,
        ),
        (SKB_GSO_UDP_L4 | SKB_GSO_UDP, VIRTIO_NET_HDR_GSO_UDP_L4),
        (SKB_GSO_TCPV4 | SKB_GSO_GRE, VIRTIO_NET_HDR_GSO_TCPV4),
    ] {
        let skb = SkbInfo {
            gso_type: t,
            ..tso4(5000, 1000)
        };
        assert_eq!(
            hdr_from_skb(&skb, true, 0).unwrap().gso_type,
            want,
            "{t:#x}"
        );
    }
}

#[test]
fn h1_first_matching_type_wins() {
    // C tests TCPV4, then TCPV6, then UDP_L4.
    let both = SkbInfo {
        gso_type: SKB_GSO_TCPV4 | SKB_GSO_TCPV6 | SKB_GSO_UDP_L4,
        ..tso4(5000, 1000)
    };
    assert_eq!(hdr_from_skb(&both, true, 0).unwrap().gso_type, 1);
    let v6 = SkbInfo {
        gso_type: SKB_GSO_TCPV6 | SKB_GSO_UDP_L4,
        ..both
    };
    assert_eq!(hdr_from_skb(&v6, true, 0).unwrap().gso_type, 4);
}

#[test]
fn h1_hdr_len_keeps_the_low_16_bits_of_headlen() {
    for (head, want) in [
        (0u32, 0u16),
        (65535, 65535),
        (65536, 0),
        (70_000, 4464),
        (u32::MAX, 0xFFFF),
    ] {
        let skb = SkbInfo {
            head_len: head,
            ..tso4(100_000, 1000)
        };
        assert_eq!(hdr_from_skb(&skb, true, 0).unwrap().hdr_len, want);
    }
}

#[test]
fn h1_gso_type_without_gso_size_is_not_gso() {
    // skb_is_gso() only looks at gso_size.
    let skb = SkbInfo {
        gso_size: 0,
        gso_type: SKB_GSO_UDP,
        ..tso4(5000, 0)
    };
    let h = hdr_from_skb(&skb, true, 0).unwrap();
    assert_eq!((h.gso_type, h.hdr_len, h.gso_size), (0, 0, 0));
    assert!(!skb.is_gso());
}

#[test]
fn h3_ecn_bit_follows_skb_gso_tcp_ecn() {
    for (t, want) in [
        (SKB_GSO_TCPV4 | SKB_GSO_TCP_ECN, 0x81),
        (SKB_GSO_TCPV6 | SKB_GSO_TCP_ECN, 0x84),
        // C adds the bit whatever the base type, even UDP_L4.
        (SKB_GSO_UDP_L4 | SKB_GSO_TCP_ECN, 0x85),
    ] {
        let skb = SkbInfo {
            gso_type: t,
            ..tso4(5000, 1000)
        };
        assert_eq!(hdr_from_skb(&skb, true, 0).unwrap().gso_type, want);
    }
}

#[test]
fn h4_partial_sets_needs_csum_start_and_offset() {
    let skb = SkbInfo {
        ip_summed: IpSummed::Partial,
        csum_start_offset: 20,
        csum_offset: 6,
        ..SkbInfo::new(100, ETH_P_IP)
    };
    let h = hdr_from_skb(&skb, true, 0).unwrap();
    assert_eq!(
        (h.flags, h.gso_type, h.csum_start, h.csum_offset),
        (VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 20, 6)
    );
    assert_eq!((h.hdr_len, h.gso_size), (0, 0));
}

#[test]
fn h4_csum_start_moves_by_vlan_hlen_when_a_tag_is_inserted() {
    let skb = with_tag(tso4(5000, 1000), 7);
    assert_eq!(hdr_from_skb(&skb, true, 4).unwrap().csum_start, 38);
    let p = ok(ctx(6000, true, Some(10)), skb);
    assert_eq!(p.hdr.unwrap().csum_start, 38);
    // hdr_len stays skb_headlen(): C does not add the tag there.
    assert_eq!(p.hdr.unwrap().hdr_len, 66);
    let p = ok(ctx(6000, true, Some(10)), tso4(5000, 1000));
    assert_eq!(p.hdr.unwrap().csum_start, 34);
}

#[test]
fn h4_csum_start_keeps_the_low_16_bits() {
    for (off, vlan, want) in [
        (-1i32, 0u32, 0xFFFFu16),
        (-4, 4, 0),
        (65535, 4, 3),
        (i32::MIN, 4, 4),
        (i32::MAX, 4, 3),
    ] {
        let skb = SkbInfo {
            ip_summed: IpSummed::Partial,
            csum_start_offset: off,
            ..SkbInfo::new(100, 0)
        };
        assert_eq!(
            hdr_from_skb(&skb, true, vlan).unwrap().csum_start,
            want,
            "{off}+{vlan}"
        );
    }
}

#[test]
fn h5_unnecessary_sets_data_valid_as_tun_asks() {
    let skb = SkbInfo {
        ip_summed: IpSummed::Unnecessary,
        csum_start_offset: 30,
        csum_offset: 16,
        ..SkbInfo::new(100, 0)
    };
    let h = hdr_from_skb(&skb, true, 0).unwrap();
    assert_eq!(
        h,
        VnetHdr {
            flags: VIRTIO_NET_HDR_F_DATA_VALID,
            ..VnetHdr::default()
        }
    );
    assert_eq!(hdr_from_skb(&skb, false, 0).unwrap(), VnetHdr::default());
    // tun passes has_data_valid = true.
    assert_eq!(ok(ctx(200, true, Some(10)), skb).hdr, Some(h));
}

#[test]
fn h5_none_and_complete_leave_flags_zero() {
    for s in [IpSummed::None, IpSummed::Complete] {
        let skb = SkbInfo {
            ip_summed: s,
            csum_start_offset: 30,
            csum_offset: 16,
            ..SkbInfo::new(100, 0)
        };
        assert_eq!(hdr_from_skb(&skb, true, 4).unwrap(), VnetHdr::default());
    }
}

#[test]
fn h_gso_without_partial_keeps_the_gso_fields() {
    // The GSO part and the checksum part of the header are independent.
    for (s, flags) in [
        (IpSummed::None, 0),
        (IpSummed::Unnecessary, VIRTIO_NET_HDR_F_DATA_VALID),
        (IpSummed::Complete, 0),
    ] {
        let skb = SkbInfo {
            ip_summed: s,
            ..tso4(5000, 1000)
        };
        let h = hdr_from_skb(&skb, true, 0).unwrap();
        assert_eq!(
            h,
            VnetHdr {
                flags,
                gso_type: 1,
                hdr_len: 66,
                gso_size: 1000,
                csum_start: 0,
                csum_offset: 0
            }
        );
    }
}

#[test]
fn h_header_honours_the_byte_order() {
    let skb = tso4(10_000, 0x05A8);
    let le = ok(ctx(20_000, true, Some(10)), skb);
    let be = ok(
        ReadCtx {
            order: BE,
            ..ctx(20_000, true, Some(10))
        },
        skb,
    );
    assert_eq!(
        le.hdr_bytes(),
        Some([1, 1, 66, 0, 0xA8, 0x05, 34, 0, 16, 0])
    );
    assert_eq!(
        be.hdr_bytes(),
        Some([1, 1, 0, 66, 0x05, 0xA8, 0, 34, 0, 16])
    );
    assert_eq!(le.hdr, be.hdr);
    let native = ReadCtx::new(20_000, true, Some(10));
    assert_eq!(native.order, ByteOrder::native());
}

#[test]
fn ip_summed_raw_values_round_trip() {
    for v in 0..4u8 {
        assert_eq!(IpSummed::from_raw(v).raw(), v);
        assert_eq!(IpSummed::from_raw(v | 0xFC).raw(), v);
    }
    assert_eq!(IpSummed::from_raw(3), IpSummed::Partial);
    assert_eq!(IpSummed::from_raw(1), IpSummed::Unnecessary);
}

// ---- R4: VLAN tag re-insertion (tun_put_user) ----

#[test]
fn r4_tag_goes_after_the_mac_addresses() {
    let skb = with_tag(SkbInfo::new(60, ETH_P_IP), 0x0123);
    let p = ok(ctx(64, true, None), skb);
    let c = p.copy;
    assert_eq!((c.head, c.tag, c.tail_offset, c.tail), (12, 4, 12, 48));
    assert_eq!(c.tag_bytes, [0x81, 0x00, 0x01, 0x23]);
    assert_eq!((p.ret, p.total, p.truncated), (64, 64, false));
    let out = bytes(&p, &skb, 64);
    let pkt = packet_bytes(60);
    assert_eq!(&out[..12], &pkt[..12]);
    assert_eq!(&out[12..16], &[0x81, 0x00, 0x01, 0x23]);
    assert_eq!(&out[16..], &pkt[12..]);
}

#[test]
fn r4_vlan_tag_bytes_are_big_endian() {
    let t = VlanTag {
        proto: 0x88A8,
        tci: 0xE00F,
    };
    assert_eq!(t.to_bytes(), [0x88, 0xA8, 0xE0, 0x0F]);
}

#[test]
fn r4_buffer_ending_inside_the_addresses_stops_there() {
    let skb = with_tag(SkbInfo::new(60, ETH_P_IP), 1);
    for rem in 0..=12 {
        let p = ok(ctx(rem, true, None), skb);
        assert_eq!((p.copy.head, p.copy.tag, p.copy.tail), (rem, 0, 0));
        assert_eq!(p.ret, rem);
        assert!(p.truncated);
    }
}

#[test]
fn r4_buffer_ending_inside_the_tag_stops_there() {
    let skb = with_tag(SkbInfo::new(60, ETH_P_IP), 1);
    for extra in 1..=4 {
        let p = ok(ctx(4 + 10 + 12 + extra, false, Some(10)), skb);
        assert_eq!((p.copy.head, p.copy.tag, p.copy.tail), (12, extra, 0));
        assert_eq!(p.ret, 26 + extra);
        assert_eq!(p.pi.unwrap().flags, TUN_PKT_STRIP);
    }
    let p = ok(ctx(4 + 10 + 17, false, Some(10)), skb);
    assert_eq!((p.copy.head, p.copy.tag, p.copy.tail), (12, 4, 1));
}

#[test]
fn r4_packet_of_exactly_12_bytes_gets_the_tag() {
    let skb = with_tag(SkbInfo::new(12, 0), 9);
    let p = ok(ctx(100, true, None), skb);
    assert_eq!((p.copy.head, p.copy.tag, p.copy.tail), (12, 4, 0));
    assert_eq!((p.ret, p.unwritten()), (16, 0));
}

#[test]
fn r4_tagged_packet_shorter_than_12_bytes_loses_the_tag_but_counts_it() {
    // skb_copy_datagram_iter() fails on the short skb: C skips the tag yet
    // returns total, which counts it.
    let skb = with_tag(SkbInfo::new(5, 0), 9);
    let p = ok(ctx(100, true, None), skb);
    assert_eq!((p.copy.head, p.copy.tag, p.copy.tail), (5, 0, 0));
    assert_eq!((p.ret, p.total, p.written(), p.unwritten()), (9, 9, 5, 4));
    assert!(!p.truncated);
    assert_eq!(p.tx_bytes, 9);
    // The buffer ends inside the missing tag: fewer bytes unwritten.
    let p = ok(ctx(7, true, None), skb);
    assert_eq!((p.ret, p.written(), p.unwritten()), (7, 5, 2));
    assert!(p.truncated);
    // The buffer ends inside the packet: nothing is missing.
    let p = ok(ctx(3, true, None), skb);
    assert_eq!((p.ret, p.written(), p.unwritten()), (3, 3, 0));
    // An empty tagged packet.
    let p = ok(ctx(100, true, None), with_tag(SkbInfo::new(0, 0), 9));
    assert_eq!((p.ret, p.written(), p.unwritten()), (4, 0, 4));
}

// ---- R5: packet copy and silent truncation (tun_put_user) ----

#[test]
fn r5_short_buffer_truncates_silently_without_pi() {
    let skb = SkbInfo::new(1500, ETH_P_IP);
    let p = ok(ctx(100, true, None), skb);
    assert_eq!(
        (p.copy.tail, p.ret, p.total, p.truncated),
        (100, 100, 1500, true)
    );
    assert_eq!(p.pi, None);
    let p = ok(ctx(1500, true, None), skb);
    assert_eq!((p.copy.tail, p.ret, p.truncated), (1500, 1500, false));
    let p = ok(ctx(9000, true, None), skb);
    assert_eq!((p.copy.tail, p.ret, p.truncated), (1500, 1500, false));
}

#[test]
fn r5_gso_packet_is_copied_whole() {
    // A 64 KiB TSO packet comes out in one read, unsegmented.
    let skb = tso4(65_226, 1448);
    let p = ok(ctx(65_536 + 10, true, Some(10)), skb);
    assert_eq!((p.copy.tail, p.ret), (65_226, 65_236));
}

// ---- R6: counters and return value (tun_put_user, tun_chr_read_iter) ----

#[test]
fn r6_tx_bytes_counts_skb_len_and_tag_even_when_truncated() {
    let skb = with_tag(SkbInfo::new(1500, ETH_P_IP), 3);
    for buf in [4, 20, 1504, 100_000] {
        let p = ok(ctx(buf, false, None), skb);
        assert_eq!(p.tx_bytes, 1504);
    }
    assert_eq!(
        ok(ctx(20, false, Some(10)), SkbInfo::new(1500, 0)).tx_bytes,
        1500
    );
}

#[test]
fn r6_read_returns_min_of_total_and_buffer() {
    let skb = SkbInfo::new(1000, ETH_P_IP);
    for buf in [14, 500, 1013, 1014, 1015, 1 << 20] {
        let p = ok(ctx(buf, false, Some(10)), skb);
        assert_eq!(p.total, 1014);
        assert_eq!(p.ret, buf.min(1014));
        assert_eq!(p.written(), p.ret);
    }
}

#[test]
fn empty_buffer_does_not_dequeue() {
    assert!(!ReadCtx::dequeues_for(0));
    assert!(ReadCtx::dequeues_for(1));
}

// ---- Round trips ----

#[test]
fn round_trip_header_bytes_parse_back() {
    for order in [LE, BE] {
        for skb in [
            tso4(10_000, 1448),
            with_tag(tso4(10_000, 1448), 1),
            SkbInfo {
                ip_summed: IpSummed::Unnecessary,
                ..SkbInfo::new(60, 0)
            },
        ] {
            let p = ok(
                ReadCtx {
                    order,
                    ..ctx(20_000, true, Some(12))
                },
                skb,
            );
            let b = p.hdr_bytes().unwrap();
            assert_eq!(VnetHdr::parse(&b, order), p.hdr.unwrap());
        }
    }
}

#[test]
fn round_trip_tso_read_is_accepted_by_the_write_path() {
    // What a TAP reader gets for a TSO skb, written back to a TAP, makes
    // the same GSO skb.
    for tagged in [false, true] {
        let skb = if tagged {
            with_tag(tso4(20_066, 1448), 1)
        } else {
            tso4(20_066, 1448)
        };
        let p = ok(ctx(30_000, true, Some(10)), skb);
        let hdr = VnetHdr::parse(&p.hdr_bytes().unwrap(), LE);
        let wctx = WriteCtx::new(p.ret, true, true, Some(10));
        let w = plan_write(&hdr, &wctx).expect("write path refused what the read path made");
        let g = w.skb.gso.expect("not GSO on the way back");
        assert_eq!(g.gso_type, SKB_GSO_TCPV4 | SKB_GSO_DODGY);
        assert_eq!(g.gso_size, 1448);
        let c = w.skb.csum.unwrap();
        let shift = if tagged { 4 } else { 0 };
        assert_eq!((c.start, c.offset), (34 + shift, 16));
        assert_eq!(w.layout.split.len, 20_066 + shift as usize);
    }
}

#[test]
fn round_trip_udp_l4_read_is_accepted_by_the_write_path() {
    let skb = SkbInfo {
        len: 14 + 40 + 8 + 8000,
        head_len: 62,
        protocol: ETH_P_IPV6,
        gso_size: 1000,
        gso_type: SKB_GSO_UDP_L4,
        ip_summed: IpSummed::Partial,
        csum_start_offset: 54,
        csum_offset: 6,
        vlan: None,
        tunnel: TunnelOffsets::default(),
    };
    let p = ok(ctx(10_000, true, Some(10)), skb);
    let hdr = p.hdr.unwrap();
    assert_eq!(hdr.gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
    let w = plan_write(&hdr, &WriteCtx::new(p.ret, true, true, Some(10))).unwrap();
    assert_eq!(w.skb.gso.unwrap().gso_type, SKB_GSO_UDP_L4 | SKB_GSO_DODGY);
}

// ---- The shared checker on a few fixed fuzz inputs ----

#[test]
fn fuzz_one_smoke() {
    fuzz_one(&[]);
    fuzz_one(&[0xFF; 64]);
    fuzz_one(&[
        0x2C, 0x40, 0x00, 0x50, 0x00, 0x00, 0x01, 0x00, 0x81, 0x05, 0xDC,
    ]);
    for mode in 0..=255u8 {
        fuzz_one(&[
            mode, 7, 0, 3, 1, 0x40, 0, 0, 0, 1, 0, 0, 0, 3, 34, 0, 0, 0, 16, 0,
        ]);
    }
}

/// The padding rule per kernel: 6.12 skips what it cannot write and the read
/// goes on; 7.x fails the read with `EFAULT` when the zeroes fall short.
#[test]
fn pad_fault_per_kernel() {
    for (done, pad) in [(0, 0), (0, 2), (1, 2), (2, 2), (14, 14), (0, 14)] {
        assert!(!PadFault::Skip.fails(done, pad));
        assert_eq!(PadFault::Efault.fails(done, pad), done < pad);
    }
}
