// SPDX-License-Identifier: GPL-2.0

//! One test per write-path rule that Linux 7.x's tun.c changed or added,
//! each also run against the 6.12 rules where they differ: the `hdr_len`
//! bound of `__tun_vnet_hdr_get()` (drivers/net/tun_vnet.h), the flow
//! dissector branch of `virtio_net_hdr_to_skb()` for GSO packets without
//! `NEEDS_CSUM`, and UDP tunnel GSO (`virtio_net_hdr_tnl_to_skb()`,
//! include/linux/virtio_net.h).
//!
//! The packet-dependent answers (the device's protocol guess, the flow
//! dissector, a byte of the packet) come from a scripted [`Frame`] that
//! records what it was asked.

use rtun_host::abi::{TunAbi, TUN_VNET_TNL_SIZE};
use rtun_host::vnet_hdr::*;

const LE: ByteOrder = ByteOrder::Little;
const NEEDS_CSUM: u8 = VIRTIO_NET_HDR_F_NEEDS_CSUM;
const TCPV4: u8 = VIRTIO_NET_HDR_GSO_TCPV4;
const TCPV6: u8 = VIRTIO_NET_HDR_GSO_TCPV6;
const UDP_L4: u8 = VIRTIO_NET_HDR_GSO_UDP_L4;
const TNL4: u8 = VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4;
const TNL6: u8 = VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6;

/// A frame whose answers are fixed in advance; it counts the questions.
#[derive(Default)]
struct Script {
    /// What `dev_parse_header_protocol()` says.
    header_proto: u16,
    /// Protocols the dissector succeeds for, with what it finds.
    dissect: Vec<(u16, FlowKeys)>,
    /// Byte values by offset.
    bytes: Vec<(usize, u8)>,
    /// Protocols the dissector was run with, in order.
    asked: Vec<u16>,
    /// Times the header protocol was asked.
    header_asked: u32,
}

impl Frame for Script {
    fn byte(&self, off: usize) -> Option<u8> {
        self.bytes.iter().find(|(o, _)| *o == off).map(|(_, b)| *b)
    }

    fn header_protocol(&mut self) -> u16 {
        self.header_asked += 1;
        self.header_proto
    }

    fn dissect(&mut self, proto: u16) -> Option<FlowKeys> {
        self.asked.push(proto);
        self.dissect
            .iter()
            .find(|(p, _)| *p == proto)
            .map(|(_, k)| *k)
    }
}

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

/// A write context: TAP or TUN, `IFF_NO_PI`, a `sz`-byte header, `len` packet bytes.
fn ctx(abi: TunAbi, is_tap: bool, sz: u32, len: usize) -> WriteCtx {
    WriteCtx {
        abi,
        ..WriteCtx::new(sz as usize + len, is_tap, true, Some(sz))
    }
}

/// Plans a write through both stages with a scripted frame.
fn plan(
    h: VnetHdr,
    c: WriteCtx,
    tunnel: TunnelOffsets,
    l3_proto: u16,
    frame: &mut Script,
) -> Result<SkbPlan, HdrError> {
    let layout = plan_layout(&h, &c)?;
    let apply = ApplyCtx {
        abi: c.abi,
        order: LE,
        tunnel,
        l3_proto,
    };
    plan_skb_frame(&h, true, &layout, &apply, frame)
}

/// Asserts a 7.x refusal: EINVAL, counted in `rx_frame_errors`.
fn assert_frame_error(res: Result<SkbPlan, HdrError>, want: HdrError) {
    assert_eq!(res.map(|_| ()), Err(want));
    assert_eq!(want.errno(), 22);
    assert_eq!(want.counter(), RxCounter::FrameErrors);
}

/// IPv4 TCP behind an Ethernet header, as the dissector reports it.
const KEYS_V4_TCP: FlowKeys = FlowKeys {
    thoff: 34,
    n_proto: ETH_P_IP,
    ip_proto: 6,
};

// `hdr_len` bound.

#[test]
fn hdr_len_bound_counts_the_unparsed_header_on_7x() {
    // 12-byte header, 100-byte packet: 7.x compares with the 102 bytes
    // after the 10 parsed ones.
    let h = hdr(0, 0, 102, 0, 0, 0);
    for (abi, want) in [
        (TunAbi::Linux6_12, Err(HdrError::HdrLenTooLong)),
        (TunAbi::Linux7, Ok(())),
    ] {
        let r = plan_layout(&h, &ctx(abi, true, 12, 100));
        assert_eq!(r.map(|_| ()), want, "{abi:?}");
    }
    let h = hdr(0, 0, 103, 0, 0, 0);
    let r = plan_layout(&h, &ctx(TunAbi::Linux7, true, 12, 100));
    assert_eq!(r.map(|_| ()), Err(HdrError::HdrLenTooLong));
    // A 24-byte header is parsed whole on 7.x: no slack.
    let h = hdr(0, 0, 101, 0, 0, 0);
    let r = plan_layout(&h, &ctx(TunAbi::Linux7, true, 24, 100));
    assert_eq!(r.map(|_| ()), Err(HdrError::HdrLenTooLong));
    // 30 bytes: 24 parsed, 6 of slack.
    let h = hdr(0, 0, 106, 0, 0, 0);
    assert!(plan_layout(&h, &ctx(TunAbi::Linux7, true, 30, 100)).is_ok());
}

#[test]
fn accepted_hdr_len_past_the_packet_keeps_the_packet_linear() {
    // The looser bound never makes C allocate more linear bytes than the
    // packet has: small packets are all linear anyway.
    let h = hdr(0, 0, 1002, 0, 0, 0);
    let l = plan_layout(&h, &ctx(TunAbi::Linux7, false, 12, 1000)).unwrap();
    assert_eq!((l.linear, l.copy_len), (1000, 1000));
}

#[test]
fn parsed_size_follows_the_header_size() {
    assert_eq!(TunAbi::Linux7.write_parsed_size(10), 10);
    assert_eq!(TunAbi::Linux7.write_parsed_size(23), 10);
    assert_eq!(TunAbi::Linux7.write_parsed_size(24), TUN_VNET_TNL_SIZE);
    assert_eq!(TunAbi::Linux7.write_parsed_size(64), TUN_VNET_TNL_SIZE);
    assert_eq!(TunAbi::Linux6_12.write_parsed_size(64), 10);
}

// The flow dissector branch.

#[test]
fn gso_without_csum_is_dissected_on_7x_only() {
    let h = hdr(0, TCPV4, 0, 1000, 0, 0);
    let mut f = Script {
        header_proto: ETH_P_IP,
        dissect: vec![(ETH_P_IP, KEYS_V4_TCP)],
        ..Script::default()
    };
    let p = plan(
        h,
        ctx(TunAbi::Linux7, true, 10, 3000),
        TunnelOffsets::default(),
        0,
        &mut f,
    )
    .unwrap();
    assert_eq!(p.transport_offset, Some(34));
    assert_eq!(p.payload_offset, 54);
    assert_eq!(p.protocol, Some(ETH_P_IP));
    assert_eq!(p.gso.map(|g| g.gso_size), Some(1000));
    assert_eq!((f.header_asked, f.asked.as_slice()), (1, &[ETH_P_IP][..]));

    // 6.12 never looks at the packet: a length check against 20 + 20.
    let mut f = Script::default();
    let p = plan(
        h,
        ctx(TunAbi::Linux6_12, true, 10, 3000),
        TunnelOffsets::default(),
        0,
        &mut f,
    )
    .unwrap();
    assert_eq!(
        (p.transport_offset, p.payload_offset, p.protocol),
        (None, 40, None)
    );
    assert!(f.asked.is_empty() && f.header_asked == 0);
}

#[test]
fn gso_type_must_match_the_dissected_protocols() {
    let c = ctx(TunAbi::Linux7, true, 10, 3000);
    let none = TunnelOffsets::default();
    let v4 = || Script {
        header_proto: ETH_P_IP,
        dissect: vec![(ETH_P_IP, KEYS_V4_TCP)],
        ..Script::default()
    };
    // TCPV6 on an IPv4 packet.
    let r = plan(hdr(0, TCPV6, 0, 1000, 0, 0), c, none, 0, &mut v4());
    assert_frame_error(r, HdrError::GsoWrongNetwork);
    // UDP GSO on a TCP packet.
    let r = plan(
        hdr(0, VIRTIO_NET_HDR_GSO_UDP, 0, 1000, 0, 0),
        c,
        none,
        0,
        &mut v4(),
    );
    assert_frame_error(r, HdrError::GsoWrongTransport);
    // The dissector gives up.
    let mut f = Script::default();
    let r = plan(hdr(0, TCPV4, 0, 1000, 0, 0), c, none, 0, &mut f);
    assert_frame_error(r, HdrError::GsoNotDissected);
    // The protocol came from the GSO type, as the device could not tell.
    assert_eq!(f.asked, [ETH_P_IP]);
}

#[test]
fn dissected_transport_header_must_fit() {
    let h = hdr(0, TCPV4, 0, 1000, 0, 0);
    let mut f = Script {
        dissect: vec![(
            ETH_P_IP,
            FlowKeys {
                thoff: 60,
                ..KEYS_V4_TCP
            },
        )],
        ..Script::default()
    };
    let r = plan(
        h,
        ctx(TunAbi::Linux7, true, 10, 79),
        TunnelOffsets::default(),
        0,
        &mut f,
    );
    assert_frame_error(r, HdrError::TransportTooShort);
    let r = plan(
        h,
        ctx(TunAbi::Linux7, true, 10, 80),
        TunnelOffsets::default(),
        0,
        &mut f,
    );
    assert!(r.is_ok());
}

#[test]
fn dissector_protocol_comes_from_skb_then_device_then_gso_type() {
    let h = hdr(0, TCPV6, 0, 1000, 0, 0);
    let c = ctx(TunAbi::Linux7, false, 10, 3000);
    let none = TunnelOffsets::default();
    // TUN: the PI's protocol is already in the skb; nothing else is asked.
    let mut f = Script::default();
    let _ = plan(h, c, none, 0x1234, &mut f);
    assert_eq!((f.header_asked, f.asked.as_slice()), (0, &[0x1234][..]));
    // The device's guess.
    let mut f = Script {
        header_proto: 0x8100,
        ..Script::default()
    };
    let _ = plan(h, c, none, 0, &mut f);
    assert_eq!(f.asked, [0x8100]);
    // Neither: the GSO type's family.
    let mut f = Script::default();
    let _ = plan(h, c, none, 0, &mut f);
    assert_eq!(f.asked, [ETH_P_IPV6]);
}

#[test]
fn ufo_is_retried_as_ipv6() {
    let keys6 = FlowKeys {
        thoff: 54,
        n_proto: ETH_P_IPV6,
        ip_proto: 17,
    };
    let h = hdr(0, VIRTIO_NET_HDR_GSO_UDP, 0, 1000, 0, 0);
    let mut f = Script {
        header_proto: ETH_P_IP,
        dissect: vec![(ETH_P_IPV6, keys6)],
        ..Script::default()
    };
    let p = plan(
        h,
        ctx(TunAbi::Linux7, true, 10, 3000),
        TunnelOffsets::default(),
        0,
        &mut f,
    )
    .unwrap();
    assert_eq!(f.asked, [ETH_P_IP, ETH_P_IPV6]);
    assert_eq!(p.protocol, Some(ETH_P_IPV6));
    // TCP is not retried.
    let mut f = Script {
        header_proto: ETH_P_IP,
        dissect: vec![(ETH_P_IPV6, keys6)],
        ..Script::default()
    };
    let r = plan(
        hdr(0, TCPV4, 0, 1000, 0, 0),
        ctx(TunAbi::Linux7, true, 10, 3000),
        TunnelOffsets::default(),
        0,
        &mut f,
    );
    assert_frame_error(r, HdrError::GsoNotDissected);
    assert_eq!(f.asked, [ETH_P_IP]);
}

#[test]
fn csum_packets_are_not_dissected() {
    let h = hdr(NEEDS_CSUM, TCPV4, 0, 1000, 34, 16);
    let mut f = Script::default();
    let p = plan(
        h,
        ctx(TunAbi::Linux7, true, 10, 3000),
        TunnelOffsets::default(),
        0,
        &mut f,
    )
    .unwrap();
    assert!(f.asked.is_empty());
    assert_eq!((p.transport_offset, p.protocol), (Some(34), None));
}

// UDP tunnel GSO.

/// Offsets of a GENEVE-in-IPv4 frame (as the 7.3 selftest builds it):
/// outer UDP at 34, inner Ethernet at 50, inner IP at 64.
const TNL: TunnelOffsets = TunnelOffsets {
    outer_th: 34,
    inner_nh: 64,
};

/// A tunnel TCPV4 header with its inner transport header at 84.
fn tnl_hdr(flags: u8, gso_type: u8) -> VnetHdr {
    hdr(flags, gso_type, 0, 1400, 84, 16)
}

#[test]
fn tunnel_header_sets_the_encapsulation() {
    let c = ctx(TunAbi::Linux7, true, 24, 6000);
    let p = plan(
        tnl_hdr(NEEDS_CSUM, TNL4 | TCPV4),
        c,
        TNL,
        0,
        &mut Script::default(),
    )
    .unwrap();
    let t = p.tunnel.unwrap();
    assert_eq!(t.gso_bit, SKB_GSO_UDP_TUNNEL);
    assert_eq!(
        (t.outer_th, t.inner_nh, t.inner_th, t.inner_proto),
        (34, 64, 84, ETH_P_IP)
    );
    assert_eq!(
        p.gso.map(|g| g.gso_type),
        Some(SKB_GSO_TCPV4 | SKB_GSO_DODGY)
    );
    assert_eq!(p.csum.map(|c| (c.start, c.offset)), Some((84, 16)));

    let flags = NEEDS_CSUM | VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM;
    let p = plan(
        tnl_hdr(flags, TNL4 | TCPV4),
        c,
        TNL,
        0,
        &mut Script::default(),
    )
    .unwrap();
    assert_eq!(p.tunnel.unwrap().gso_bit, SKB_GSO_UDP_TUNNEL_CSUM);
}

#[test]
fn tunnel_bits_need_a_24_byte_header_and_7x() {
    let h = tnl_hdr(NEEDS_CSUM, TNL4 | TCPV4);
    let r = plan(
        h,
        ctx(TunAbi::Linux7, true, 23, 6000),
        TNL,
        0,
        &mut Script::default(),
    );
    assert_frame_error(r, HdrError::TunnelNotNegotiated);
    let r = plan(
        h,
        ctx(TunAbi::Linux6_12, true, 24, 6000),
        TNL,
        0,
        &mut Script::default(),
    );
    assert_frame_error(r, HdrError::BadGsoType);
}

#[test]
fn tunnel_type_rules() {
    let c = ctx(TunAbi::Linux7, true, 24, 6000);
    let cases = [
        (
            tnl_hdr(NEEDS_CSUM, TNL4 | TNL6 | TCPV4),
            HdrError::TunnelBothFamilies,
        ),
        (tnl_hdr(NEEDS_CSUM, TNL4), HdrError::TunnelBadInnerType),
        (
            tnl_hdr(NEEDS_CSUM, TNL4 | VIRTIO_NET_HDR_GSO_ECN),
            HdrError::TunnelBadInnerType,
        ),
        (
            tnl_hdr(NEEDS_CSUM, TNL4 | VIRTIO_NET_HDR_GSO_UDP),
            HdrError::TunnelBadInnerType,
        ),
        (tnl_hdr(0, TNL4 | TCPV4), HdrError::TunnelNoCsum),
        // Unknown inner types fall through to the plain rules.
        (tnl_hdr(NEEDS_CSUM, TNL4 | 2), HdrError::BadGsoType),
        (
            hdr(
                NEEDS_CSUM,
                TNL4 | UDP_L4 | VIRTIO_NET_HDR_GSO_ECN,
                0,
                1400,
                84,
                6,
            ),
            HdrError::UdpL4Ecn,
        ),
    ];
    for (h, want) in cases {
        let r = plan(h, c, TNL, 0, &mut Script::default());
        assert_frame_error(r, want);
    }
}

#[test]
fn tunnel_offsets_must_leave_room_for_each_header() {
    let c = ctx(TunAbi::Linux7, true, 24, 6000);
    let h = tnl_hdr(NEEDS_CSUM, TNL4 | TCPV4);
    let with = |outer_th, inner_nh| TunnelOffsets { outer_th, inner_nh };
    // Outer: Ethernet + IPv4 before the outer UDP header (IPv6: + 40).
    for (t, h, ok) in [
        (with(33, 64), h, false),
        (with(34, 41), h, false),
        (with(34, 64), tnl_hdr(NEEDS_CSUM, TNL6 | TCPV4), false),
        (with(54, 64), tnl_hdr(NEEDS_CSUM, TNL6 | TCPV4), true),
        // Inner: the UDP header after the outer transport header.
        (
            with(34, 41),
            hdr(NEEDS_CSUM, TNL4 | TCPV4, 0, 1400, 61, 16),
            false,
        ),
        (
            with(34, 42),
            hdr(NEEDS_CSUM, TNL4 | TCPV4, 0, 1400, 62, 16),
            true,
        ),
        // Inner transport: IPv4 20 bytes, IPv6 40 after the inner header.
        (
            with(34, 64),
            hdr(NEEDS_CSUM, TNL4 | TCPV4, 0, 1400, 83, 16),
            false,
        ),
        (
            with(34, 64),
            hdr(NEEDS_CSUM, TNL4 | TCPV6, 0, 1400, 103, 16),
            false,
        ),
        (
            with(34, 64),
            hdr(NEEDS_CSUM, TNL4 | TCPV6, 0, 1400, 104, 16),
            true,
        ),
    ] {
        let r = plan(h, c, t, 0, &mut Script::default());
        if ok {
            assert!(r.is_ok(), "{t:?} {h:?}: {r:?}");
        } else {
            assert_frame_error(r, HdrError::TunnelBadOffsets);
        }
    }
}

#[test]
fn tunnel_uso_reads_the_inner_family_from_the_packet() {
    let c = ctx(TunAbi::Linux7, true, 24, 6000);
    let h = hdr(NEEDS_CSUM, TNL4 | UDP_L4, 0, 1400, 84, 6);
    // Inner IPv4 (0x45): 20 bytes are enough.
    let mut f = Script {
        bytes: vec![(64, 0x45)],
        ..Script::default()
    };
    let p = plan(h, c, TNL, 0, &mut f).unwrap();
    assert_eq!(p.tunnel.unwrap().inner_proto, ETH_P_IP);
    // Inner IPv6 (0x60) needs 40.
    let mut f = Script {
        bytes: vec![(64, 0x60)],
        ..Script::default()
    };
    assert_frame_error(plan(h, c, TNL, 0, &mut f), HdrError::TunnelInnerTooShort);
    let h = hdr(NEEDS_CSUM, TNL4 | UDP_L4, 0, 1400, 104, 6);
    let p = plan(h, c, TNL, 0, &mut f).unwrap();
    assert_eq!(p.tunnel.unwrap().inner_proto, ETH_P_IPV6);
}

#[test]
fn tunnel_rules_read_the_plain_header_as_little_endian() {
    // A big-endian device: `csum_start` 84 as the offsets check reads it,
    // but the plain rules see the bytes as little endian (84 << 8 and
    // 16 << 8), so the checksum offset is refused there.
    let h = tnl_hdr(NEEDS_CSUM, TNL4 | TCPV4);
    let c = ctx(TunAbi::Linux7, true, 24, 60000);
    let layout = plan_layout(&h, &c).unwrap();
    let apply = ApplyCtx {
        abi: TunAbi::Linux7,
        order: ByteOrder::Big,
        tunnel: TNL,
        l3_proto: 0,
    };
    let r = plan_skb_frame(&h, true, &layout, &apply, &mut Script::default());
    assert_frame_error(r, HdrError::TcpCsumOffset);
}

#[test]
fn tunnel_fields_parse_little_endian_after_20_bytes() {
    let mut raw = [0u8; TUN_VNET_TNL_SIZE];
    raw[..10].copy_from_slice(&tnl_hdr(NEEDS_CSUM, TNL4 | TCPV4).to_bytes(ByteOrder::Big));
    raw[20..].copy_from_slice(&[34, 0, 64, 0]);
    let (h, t) = VnetHdr::parse_tnl(&raw, ByteOrder::Big);
    assert_eq!(h, tnl_hdr(NEEDS_CSUM, TNL4 | TCPV4));
    assert_eq!(t, TNL);
}

#[test]
fn every_7x_refusal_is_a_frame_error() {
    for e in [
        HdrError::GsoNotDissected,
        HdrError::GsoWrongTransport,
        HdrError::GsoWrongNetwork,
        HdrError::TunnelNotNegotiated,
        HdrError::TunnelBothFamilies,
        HdrError::TunnelBadInnerType,
        HdrError::TunnelNoCsum,
        HdrError::TunnelBadOffsets,
        HdrError::TunnelInnerTooShort,
    ] {
        assert_eq!(
            (e.errno(), e.counter()),
            (22, RxCounter::FrameErrors),
            "{e:?}"
        );
    }
}

// Properties over random headers, offsets and frames.

mod props {
    use super::*;
    use proptest::prelude::*;

    /// A frame whose answers are drawn at random.
    #[derive(Debug, Clone)]
    struct RandomFrame {
        header_proto: u16,
        keys: Option<FlowKeys>,
        keys6: Option<FlowKeys>,
        byte: Option<u8>,
    }

    impl Frame for RandomFrame {
        fn byte(&self, _off: usize) -> Option<u8> {
            self.byte
        }

        fn header_protocol(&mut self) -> u16 {
            self.header_proto
        }

        fn dissect(&mut self, proto: u16) -> Option<FlowKeys> {
            if proto == ETH_P_IPV6 {
                self.keys6
            } else {
                self.keys
            }
        }
    }

    fn keys() -> impl Strategy<Value = Option<FlowKeys>> {
        prop::option::of((0u16..200, any::<u16>(), any::<u8>()).prop_map(
            |(thoff, n_proto, ip_proto)| FlowKeys {
                thoff,
                n_proto: if n_proto % 2 == 0 { ETH_P_IP } else { n_proto },
                ip_proto: if ip_proto % 2 == 0 { 6 } else { ip_proto },
            },
        ))
    }

    fn frame() -> impl Strategy<Value = RandomFrame> {
        (any::<u16>(), keys(), keys(), any::<Option<u8>>()).prop_map(
            |(header_proto, keys, keys6, byte)| RandomFrame {
                header_proto,
                keys,
                keys6,
                byte,
            },
        )
    }

    fn header() -> impl Strategy<Value = VnetHdr> {
        (
            prop_oneof![
                Just(0u8),
                Just(NEEDS_CSUM),
                Just(NEEDS_CSUM | 8),
                any::<u8>()
            ],
            prop_oneof![
                2 => prop_oneof![Just(0u8), Just(TCPV4), Just(TCPV6), Just(UDP_L4), Just(3)],
                2 => prop_oneof![Just(TNL4 | TCPV4), Just(TNL6 | TCPV6), Just(TNL4 | UDP_L4)],
                1 => any::<u8>(),
            ],
            any::<u16>(),
            prop_oneof![Just(1400u16), any::<u16>()],
            prop_oneof![0u16..200, any::<u16>()],
            prop_oneof![Just(16u16), Just(6), any::<u16>()],
        )
            .prop_map(
                |(flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)| {
                    hdr(flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)
                },
            )
    }

    fn tunnel() -> impl Strategy<Value = TunnelOffsets> {
        (
            prop_oneof![0u16..100, any::<u16>()],
            prop_oneof![0u16..150, any::<u16>()],
        )
            .prop_map(|(outer_th, inner_nh)| TunnelOffsets { outer_th, inner_nh })
    }

    fn write_ctx() -> impl Strategy<Value = WriteCtx> {
        (
            any::<bool>(),
            prop_oneof![Just(10u32), Just(12), Just(24), Just(32), 10u32..64],
            0usize..70_000,
        )
            .prop_map(|(tap, sz, len)| ctx(TunAbi::Linux7, tap, sz, len))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// 7.x plans never panic, and an accepted tunnel plan keeps its
        /// headers in order and inside the pulled head.
        #[test]
        fn tunnel_plans_stay_inside_the_head(
            h in header(), c in write_ctx(), t in tunnel(), l3 in any::<u16>(),
            mut f in frame(), order in prop_oneof![Just(LE), Just(ByteOrder::Big)],
        ) {
            let Ok(layout) = plan_layout(&h, &c) else { return Ok(()); };
            let apply = ApplyCtx { abi: TunAbi::Linux7, order, tunnel: t, l3_proto: l3 };
            if let Ok(p) = plan_skb_frame(&h, true, &layout, &apply, &mut f) {
                prop_assert!(p.head_len <= layout.copy_len);
                if let Some(tp) = p.tunnel {
                    prop_assert!(c.vnet_hdr_sz.unwrap_or(0) >= 24);
                    prop_assert!(tp.outer_th >= 34);
                    prop_assert!(u32::from(tp.inner_nh) >= u32::from(tp.outer_th) + 8);
                    prop_assert!(u32::from(tp.inner_th) >= u32::from(tp.inner_nh) + 20);
                    prop_assert!(p.csum.is_some());
                    prop_assert!(usize::from(tp.inner_th) + p.thlen as usize <= p.head_len);
                }
                if let (Some(proto), Some(off)) = (p.protocol, p.transport_offset) {
                    // The dissector branch: the transport header is whole.
                    prop_assert!(proto != 0 || l3 == 0);
                    prop_assert!(off as usize + p.thlen as usize <= layout.copy_len);
                }
            }
        }

        /// Where 7.x's rules did not change (no tunnel bits; NEEDS_CSUM or
        /// no GSO), they give 6.12's answer.
        #[test]
        fn unchanged_rules_agree_with_6_12(
            h in header(), c in write_ctx(), mut f in frame(),
        ) {
            let mut h = h;
            h.gso_type &= !(TNL4 | TNL6);
            if h.gso_type != 0 {
                h.flags |= NEEDS_CSUM;
            }
            let c612 = WriteCtx { abi: TunAbi::Linux6_12, ..c };
            let (Ok(l7), Ok(l6)) = (plan_layout(&h, &c), plan_layout(&h, &c612)) else {
                return Ok(());
            };
            let apply = ApplyCtx { abi: TunAbi::Linux7, order: LE, tunnel: TNL, l3_proto: 0 };
            let p7 = plan_skb_frame(&h, true, &l7, &apply, &mut f);
            prop_assert_eq!(p7, plan_skb(&h, true, &l6));
        }

        /// With the 6.12 rules the frame is never asked anything.
        #[test]
        fn rules_of_6_12_never_look_at_the_frame(h in header(), c in write_ctx(), t in tunnel()) {
            let c612 = WriteCtx { abi: TunAbi::Linux6_12, ..c };
            let Ok(layout) = plan_layout(&h, &c612) else { return Ok(()); };
            let mut f = Script::default();
            let apply = ApplyCtx { abi: TunAbi::Linux6_12, order: LE, tunnel: t, l3_proto: 0 };
            let p = plan_skb_frame(&h, true, &layout, &apply, &mut f);
            prop_assert!(f.asked.is_empty() && f.header_asked == 0);
            prop_assert_eq!(p, plan_skb(&h, true, &layout));
        }
    }
}
