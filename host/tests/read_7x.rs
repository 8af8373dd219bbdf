// SPDX-License-Identifier: GPL-2.0

//! The read-path rules Linux 7.x's tun.c added: the 24-byte header with
//! UDP tunnel GSO on (`__tun_vnet_hdr_put()`, drivers/net/tun_vnet.h), the
//! header of a tunnel skb (`virtio_net_hdr_tnl_from_skb()`,
//! include/linux/virtio_net.h), each against the 6.12 rules.

use rtun_host::abi::TunAbi;
use rtun_host::vnet_hdr::*;
use rtun_host::vnet_out::*;

/// A read context on `abi` with a `sz`-byte header, tunnel GSO on or off.
fn ctx(abi: TunAbi, sz: u32, tnl_offload: bool) -> ReadCtx {
    ReadCtx {
        abi,
        tnl_offload,
        ..ReadCtx::new(4096, true, Some(sz))
    }
}

/// A TCPv4-in-GENEVE GSO skb as the stack hands it to a tap device.
fn tunnel_skb(csum: bool, outer_v6: bool) -> SkbInfo {
    let tnl = if csum {
        SKB_GSO_UDP_TUNNEL_CSUM
    } else {
        SKB_GSO_UDP_TUNNEL
    };
    SkbInfo {
        head_len: 120,
        gso_size: 1400,
        gso_type: SKB_GSO_TCPV4 | tnl,
        ip_summed: IpSummed::Partial,
        csum_start_offset: 84,
        csum_offset: 16,
        tunnel: TunnelOffsets {
            outer_th: 34,
            inner_nh: 64,
        },
        ..SkbInfo::new(3000, if outer_v6 { ETH_P_IPV6 } else { ETH_P_IP })
    }
}

#[test]
fn tunnel_offload_makes_the_header_24_bytes() {
    let skb = SkbInfo::new(100, ETH_P_IP);
    let p = plan_read(&ctx(TunAbi::Linux7, 24, true), &skb).unwrap();
    assert_eq!((p.hdr_image_len, p.hdr_pad(), p.overrun), (24, 0, false));
    assert_eq!(p.hdr_image(), Some([0; 24]));
    let p = plan_read(&ctx(TunAbi::Linux7, 32, true), &skb).unwrap();
    assert_eq!((p.hdr_image_len, p.hdr_pad()), (24, 8));
    // Without the offload, or on 6.12, 10 bytes and padding.
    for c in [
        ctx(TunAbi::Linux7, 32, false),
        ctx(TunAbi::Linux6_12, 32, true),
    ] {
        let p = plan_read(&c, &skb).unwrap();
        assert_eq!((p.hdr_image_len, p.hdr_pad()), (10, 22), "{c:?}");
    }
}

#[test]
fn tunnel_skb_header_describes_the_tunnel() {
    let p = plan_read(&ctx(TunAbi::Linux7, 24, true), &tunnel_skb(true, true)).unwrap();
    let h = p.hdr.unwrap();
    assert_eq!(
        h.gso_type,
        VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6
    );
    assert_eq!(
        h.flags,
        VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM
    );
    assert_eq!(
        (h.csum_start, h.csum_offset, h.gso_size, h.hdr_len),
        (84, 16, 1400, 120)
    );
    assert_eq!(p.order, ByteOrder::Little);
    let img = p.hdr_image().unwrap();
    assert_eq!(img[20..], [34, 0, 64, 0]);
    assert_eq!(img[10..20], [0; 10]);

    let h = plan_read(&ctx(TunAbi::Linux7, 24, true), &tunnel_skb(false, false))
        .unwrap()
        .hdr
        .unwrap();
    assert_eq!(
        h.gso_type,
        VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4
    );
    assert_eq!(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
}

#[test]
fn tunnel_header_is_little_endian_and_never_data_valid() {
    let skb = SkbInfo {
        ip_summed: IpSummed::Unnecessary,
        ..tunnel_skb(false, false)
    };
    let c = ReadCtx {
        order: ByteOrder::Big,
        ..ctx(TunAbi::Linux7, 24, true)
    };
    let p = plan_read(&c, &skb).unwrap();
    assert_eq!(p.hdr.unwrap().flags, 0);
    assert_eq!(p.hdr_bytes().unwrap()[4..6], 1400u16.to_le_bytes());
    // A plain skb keeps the device's order and DATA_VALID.
    let plain = SkbInfo {
        gso_type: SKB_GSO_TCPV4,
        ..skb
    };
    let p = plan_read(&c, &plain).unwrap();
    assert_eq!(p.hdr.unwrap().flags, VIRTIO_NET_HDR_F_DATA_VALID);
    assert_eq!(p.hdr_bytes().unwrap()[4..6], 1400u16.to_be_bytes());
}

#[test]
fn tunnel_skb_without_tunnel_offload_is_refused_on_7x() {
    let r = plan_read(&ctx(TunAbi::Linux7, 24, false), &tunnel_skb(false, false));
    assert_eq!(r.map(|_| ()), Err(OutError::UnexpectedTunnel));
    assert_eq!(OutError::UnexpectedTunnel.errno(), 22);
    // 6.12 does not know the bits: a plain TCPv4 header.
    let p = plan_read(
        &ctx(TunAbi::Linux6_12, 24, false),
        &tunnel_skb(false, false),
    )
    .unwrap();
    assert_eq!(p.hdr.unwrap().gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
}

#[test]
fn too_small_header_with_tunnel_offload_overruns() {
    for sz in [10, 12, 20, 23] {
        let p = plan_read(&ctx(TunAbi::Linux7, sz, true), &SkbInfo::new(100, ETH_P_IP)).unwrap();
        assert!(p.overrun, "{sz}");
    }
    assert_eq!(OutError::HdrTooSmallForOffloads.errno(), 14);
    let p = plan_read(
        &ctx(TunAbi::Linux6_12, 12, true),
        &SkbInfo::new(100, ETH_P_IP),
    )
    .unwrap();
    assert!(!p.overrun);
}

#[test]
fn short_buffer_is_still_einval_before_the_overrun() {
    let c = ReadCtx {
        buf_len: 11,
        ..ctx(TunAbi::Linux7, 12, true)
    };
    let r = plan_read(&c, &SkbInfo::new(100, ETH_P_IP));
    assert_eq!(r.map(|_| ()), Err(OutError::ShortForVnetHdr));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn skb() -> impl Strategy<Value = SkbInfo> {
        (
            0u32..70_000,
            any::<u16>(),
            prop_oneof![
                Just(0u32),
                Just(SKB_GSO_TCPV4),
                Just(SKB_GSO_UDP_L4),
                any::<u32>()
            ],
            prop_oneof![Just(0u16), 1u16..2000],
            any::<bool>(),
            (any::<u16>(), any::<u16>()),
        )
            .prop_map(
                |(len, protocol, gso_type, gso_size, partial, (outer_th, inner_nh))| SkbInfo {
                    gso_type,
                    gso_size,
                    ip_summed: if partial {
                        IpSummed::Partial
                    } else {
                        IpSummed::None
                    },
                    csum_start_offset: 34,
                    csum_offset: 16,
                    tunnel: TunnelOffsets { outer_th, inner_nh },
                    ..SkbInfo::new(len, protocol)
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// Without tunnel offload and without tunnel bits, 7.x reads are
        /// planned as 6.12's; with tunnel offload the header image is 24
        /// bytes and a tunnel header is little endian with its offsets.
        #[test]
        fn reads_7x_extend_6_12(
            s in skb(), buf in 0usize..5000, sz in prop_oneof![Just(10u32), Just(12), Just(24), 10u32..40],
            tnl in any::<bool>(),
        ) {
            let c7 = ReadCtx { buf_len: buf, ..ctx(TunAbi::Linux7, sz, tnl) };
            let c6 = ReadCtx { abi: TunAbi::Linux6_12, ..c7 };
            let p7 = plan_read(&c7, &s);
            if !tnl && s.tunnel_bits() == 0 {
                prop_assert_eq!(p7, plan_read(&c6, &s));
            }
            if let Ok(p) = p7 {
                // What the driver copies once the headers are written
                // (`plan_copy()` on what is left of the buffer; an overrun
                // header fails the read before).
                prop_assert_eq!(plan_copy(s.len, s.vlan, buf - p.data_offset), p.copy);
                prop_assert_eq!(p.hdr_image_len, if tnl { 24 } else { 10 });
                prop_assert_eq!(p.overrun, tnl && (sz as usize) < 24);
                if s.tunnel_bits() != 0 {
                    prop_assert!(tnl);
                    prop_assert_eq!(p.order, ByteOrder::Little);
                    let img = p.hdr_image().unwrap();
                    prop_assert_eq!(u16::from_le_bytes([img[20], img[21]]), s.tunnel.outer_th);
                    prop_assert_eq!(u16::from_le_bytes([img[22], img[23]]), s.tunnel.inner_nh);
                }
            }
        }
    }
}
