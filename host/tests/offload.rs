// SPDX-License-Identifier: GPL-2.0

//! `TUNSETOFFLOAD` (`set_offload()`, drivers/net/tun.c) and the 2008 flags, rule by rule.
//!
//! Rules O1 to O5 are documented on `offload_features`.

use proptest::prelude::*;
use rtun_host::abi::TunAbi;
use rtun_host::features::*;
use rtun_host::uapi::*;

fn unconsumed(arg: u64) -> u64 {
    match offload_features(TunAbi::Linux6_12, arg) {
        Err(OffloadError::Unconsumed(left)) => {
            assert_eq!(OffloadError::Unconsumed(left).errno(), 22);
            left
        }
        Ok(f) => panic!("{arg:#x} accepted as {f:#x}"),
    }
}

fn ok(arg: u64) -> u64 {
    match offload_features(TunAbi::Linux6_12, arg) {
        Ok(f) => {
            assert_eq!(f & !TUN_USER_FEATURES, 0);
            f
        }
        Err(e) => panic!("{arg:#x} refused: {e:?}"),
    }
}

#[test]
fn tun_f_values_match_if_tun_h() {
    assert_eq!(
        [
            TUN_F_CSUM,
            TUN_F_TSO4,
            TUN_F_TSO6,
            TUN_F_TSO_ECN,
            TUN_F_UFO,
            TUN_F_USO4,
            TUN_F_USO6
        ],
        [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40]
    );
}

#[test]
fn o0_zero_clears_every_offload() {
    assert_eq!(ok(0), 0);
}

#[test]
fn o1_csum_gives_hw_csum() {
    assert_eq!(ok(TUN_F_CSUM), NETIF_F_HW_CSUM);
}

#[test]
fn o1_every_flag_without_csum_is_einval() {
    for bit in [
        TUN_F_TSO4,
        TUN_F_TSO6,
        TUN_F_TSO_ECN,
        TUN_F_UFO,
        TUN_F_USO4,
        TUN_F_USO6,
    ] {
        assert_eq!(unconsumed(bit), bit);
    }
    let all = 0x7E;
    assert_eq!(unconsumed(all), all);
}

#[test]
fn o2_tso4_and_tso6() {
    assert_eq!(ok(TUN_F_CSUM | TUN_F_TSO4), NETIF_F_HW_CSUM | NETIF_F_TSO);
    assert_eq!(ok(TUN_F_CSUM | TUN_F_TSO6), NETIF_F_HW_CSUM | NETIF_F_TSO6);
    assert_eq!(
        ok(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6),
        NETIF_F_HW_CSUM | NETIF_F_TSO | NETIF_F_TSO6
    );
}

#[test]
fn o2_tso_ecn_needs_tso4_or_tso6() {
    assert_eq!(
        ok(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN),
        NETIF_F_HW_CSUM | NETIF_F_TSO | NETIF_F_TSO_ECN
    );
    assert_eq!(
        ok(TUN_F_CSUM | TUN_F_TSO6 | TUN_F_TSO_ECN),
        NETIF_F_HW_CSUM | NETIF_F_TSO6 | NETIF_F_TSO_ECN
    );
    assert_eq!(unconsumed(TUN_F_CSUM | TUN_F_TSO_ECN), TUN_F_TSO_ECN);
    assert_eq!(
        unconsumed(TUN_F_CSUM | TUN_F_TSO_ECN | TUN_F_UFO | TUN_F_USO4 | TUN_F_USO6),
        TUN_F_TSO_ECN
    );
}

#[test]
fn o3_ufo_is_accepted_and_ignored() {
    assert_eq!(ok(TUN_F_CSUM | TUN_F_UFO), NETIF_F_HW_CSUM);
    assert_eq!(
        ok(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_UFO),
        NETIF_F_HW_CSUM | NETIF_F_TSO
    );
}

#[test]
fn o4_uso4_and_uso6_together_give_gso_udp_l4() {
    assert_eq!(
        ok(TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6),
        NETIF_F_HW_CSUM | NETIF_F_GSO_UDP_L4
    );
}

#[test]
fn o4_uso4_or_uso6_alone_is_einval() {
    assert_eq!(unconsumed(TUN_F_CSUM | TUN_F_USO4), TUN_F_USO4);
    assert_eq!(unconsumed(TUN_F_CSUM | TUN_F_USO6), TUN_F_USO6);
    assert_eq!(
        unconsumed(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO6),
        TUN_F_USO6
    );
}

#[test]
fn o5_unknown_bits_are_einval() {
    for bit in [0x80u64, 0x100, 1 << 31, 1 << 32, 1 << 63] {
        assert_eq!(unconsumed(bit), bit);
        assert_eq!(unconsumed(TUN_F_CSUM | bit), bit);
        assert_eq!(unconsumed(0x7F | bit), bit);
    }
    assert_eq!(unconsumed(u64::MAX), !0x7F);
}

#[test]
fn clients_probes_and_settings() {
    // QEMU's probes (net/tap-linux.c), then a guest with everything.
    assert_eq!(ok(TUN_F_CSUM | TUN_F_UFO), NETIF_F_HW_CSUM);
    assert_eq!(
        ok(TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6),
        NETIF_F_HW_CSUM | NETIF_F_GSO_UDP_L4
    );
    assert_eq!(ok(0x7F), TUN_USER_FEATURES);
    // wireguard-go and Tailscale.
    assert_eq!(
        ok(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6),
        NETIF_F_HW_CSUM | NETIF_F_TSO | NETIF_F_TSO6 | NETIF_F_GSO_UDP_L4
    );
}

/// The decision table of set_offload, written as "which bits may be set" rather than as C's steps.
fn model(arg: u64) -> Option<u64> {
    if arg & !0x7F != 0 {
        return None;
    }
    let csum = arg & 0x01 != 0;
    let tso4 = arg & 0x02 != 0;
    let tso6 = arg & 0x04 != 0;
    let ecn = arg & 0x08 != 0;
    let uso4 = arg & 0x20 != 0;
    let uso6 = arg & 0x40 != 0;
    if !csum && arg != 0 {
        return None;
    }
    if ecn && !(tso4 || tso6) {
        return None;
    }
    if uso4 != uso6 {
        return None;
    }
    let mut f = 0;
    for (on, bit) in [
        (csum, NETIF_F_HW_CSUM),
        (tso4, NETIF_F_TSO),
        (tso6, NETIF_F_TSO6),
        (ecn, NETIF_F_TSO_ECN),
        (uso4 && uso6, NETIF_F_GSO_UDP_L4),
    ] {
        if on {
            f |= bit;
        }
    }
    Some(f)
}

#[test]
fn every_combination_of_the_seven_flags_matches_the_table() {
    let mut accepted = 0;
    for arg in 0..=0xFFu64 {
        let got = offload_features(TunAbi::Linux6_12, arg).ok();
        assert_eq!(got, model(arg), "{arg:#x}");
        accepted += usize::from(got.is_some());
    }
    // 1 (zero) + with CSUM: TSO part 1 + 2 * 3 (ECN with TSO4, TSO6 or both)
    // = 7 ways, UFO 2 ways, USO 2 ways: 28 + 1.
    assert_eq!(accepted, 29);
}

#[test]
fn wanted_features_replace_only_user_bits() {
    let wanted = DEFAULT_HW_FEATURES;
    let set = ok(TUN_F_CSUM | TUN_F_TSO4);
    let w = offload_wanted_features(TunAbi::Linux6_12, wanted, set);
    assert_eq!(w & TUN_USER_FEATURES, NETIF_F_HW_CSUM | NETIF_F_TSO);
    assert_eq!(w & !TUN_USER_FEATURES, wanted & !TUN_USER_FEATURES);
    // Then ndo_fix_features keeps exactly the allowed user bits.
    assert_eq!(
        fix_features(TunAbi::Linux6_12, w, set) & TUN_USER_FEATURES,
        set
    );
    // TUNSETOFFLOAD(0) takes every user feature away.
    let w0 = offload_wanted_features(TunAbi::Linux6_12, w, ok(0));
    assert_eq!(
        fix_features(TunAbi::Linux6_12, w0, 0) & TUN_USER_FEATURES,
        0
    );
    // ethtool asking for everything still only gets what was allowed.
    assert_eq!(
        fix_features(TunAbi::Linux6_12, u64::MAX, set) & TUN_USER_FEATURES,
        set
    );
}

// ---- The 2008 design ----

#[test]
fn rfc2008_flags_decode() {
    let f = Rfc2008Flags::from_iff(IFF_TAP | IFF_SEND_GSO_2008);
    assert_eq!(
        f,
        Rfc2008Flags {
            send_hdr: true,
            recv_hdr: false,
            recv_csum: false,
            recv_gso: false
        }
    );
    let f = Rfc2008Flags::from_iff(IFF_RECV_CSUM_2008);
    assert!(f.recv_hdr && f.recv_csum && !f.recv_gso && !f.send_hdr);
    let f = Rfc2008Flags::from_iff(IFF_RECV_GSO_2008);
    assert!(f.recv_hdr && !f.recv_csum && f.recv_gso);
    let f = Rfc2008Flags::from_iff(0xFFFF);
    assert!(f.send_hdr && f.recv_hdr && f.recv_csum && f.recv_gso);
    let f = Rfc2008Flags::from_iff(!(IFF_SEND_GSO_2008 | IFF_RECV_CSUM_2008 | IFF_RECV_GSO_2008));
    assert!(!f.send_hdr && !f.recv_hdr && !f.recv_csum && !f.recv_gso);
}

#[test]
fn rfc2008_bits_are_todays_vnet_hdr_tun_excl_and_persist() {
    assert_eq!(IFF_SEND_GSO_2008, IFF_VNET_HDR);
    assert_eq!(IFF_RECV_CSUM_2008, IFF_TUN_EXCL);
    assert_eq!(IFF_RECV_GSO_2008, IFF_PERSIST);
}

#[test]
fn rfc2008_recv_csum_gives_sg_csum_highdma_fraglist() {
    assert_eq!(
        rfc2008_features(true, false),
        NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA | NETIF_F_FRAGLIST
    );
}

#[test]
fn rfc2008_recv_gso_adds_tso_tso6_ecn_and_no_ufo_bit() {
    let f = rfc2008_features(true, true);
    assert_eq!(
        f,
        NETIF_F_SG
            | NETIF_F_HW_CSUM
            | NETIF_F_HIGHDMA
            | NETIF_F_FRAGLIST
            | NETIF_F_TSO
            | NETIF_F_TSO6
            | NETIF_F_TSO_ECN
    );
    // NETIF_F_UFO maps to nothing, in particular not to GSO_UDP_L4.
    assert_eq!(f & NETIF_F_GSO_UDP_L4, 0);
}

#[test]
fn rfc2008_gso_without_csum_gives_nothing() {
    assert_eq!(rfc2008_features(false, true), 0);
    assert_eq!(rfc2008_features(false, false), 0);
    let f = Rfc2008Flags::from_iff(IFF_RECV_GSO_2008);
    assert_eq!(f.features(), 0);
    // The header on read is still there in 2008.
    assert!(f.recv_hdr);
    assert_eq!(f.offload_arg(), 0);
}

#[test]
fn rfc2008_flags_map_to_todays_offloads() {
    for recv_csum in [false, true] {
        for recv_gso in [false, true] {
            let f = Rfc2008Flags {
                send_hdr: true,
                recv_hdr: recv_csum || recv_gso,
                recv_csum,
                recv_gso,
            };
            assert_eq!(f.features(), rfc2008_features(recv_csum, recv_gso));
            let today = ok(f.offload_arg());
            // Today's user features are the 2008 ones that still exist;
            // SG and FRAGLIST are always on today, HIGHDMA is not a tun feature.
            assert_eq!(today, f.features() & TUN_USER_FEATURES);
        }
    }
    let all = Rfc2008Flags::from_iff(IFF_RECV_CSUM_2008 | IFF_RECV_GSO_2008);
    assert_eq!(
        all.offload_arg(),
        TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO
    );
}

#[test]
fn offload_errno_is_einval() {
    assert_eq!(OffloadError::Unconsumed(0x80).errno(), 22);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 4_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// No argument ever yields a feature outside TUN_USER_FEATURES, and the table holds.
    #[test]
    fn offload_features_stay_in_tun_user_features(arg in prop_oneof![0u64..=0xFF, any::<u64>()]) {
        match offload_features(TunAbi::Linux6_12, arg) {
            Ok(f) => {
                prop_assert_eq!(f & !TUN_USER_FEATURES, 0);
                prop_assert_eq!(Some(f), model(arg));
            }
            Err(OffloadError::Unconsumed(left)) => {
                prop_assert!(left != 0 && left & !arg == 0);
                prop_assert_eq!(model(arg), None);
            }
        }
    }

    /// Any wanted set, after any accepted offload and the fix, holds only allowed user features.
    #[test]
    fn fixed_features_never_exceed_the_offload(wanted in any::<u64>(), arg in 0u64..=0x7F) {
        if let Ok(set) = offload_features(TunAbi::Linux6_12, arg) {
            let fixed = fix_features(TunAbi::Linux6_12, offload_wanted_features(TunAbi::Linux6_12, wanted, set), set);
            prop_assert_eq!(fixed & TUN_USER_FEATURES, set);
            prop_assert_eq!(fixed & !TUN_USER_FEATURES, wanted & !TUN_USER_FEATURES);
        }
    }

    /// The 2008 decoding only looks at its three bits.
    #[test]
    fn rfc2008_decoding_ignores_other_bits(flags in any::<u16>()) {
        let mask = IFF_SEND_GSO_2008 | IFF_RECV_CSUM_2008 | IFF_RECV_GSO_2008;
        let f = Rfc2008Flags::from_iff(flags);
        prop_assert_eq!(f, Rfc2008Flags::from_iff(flags & mask));
        prop_assert_eq!(f.recv_hdr, f.recv_csum || f.recv_gso);
        prop_assert!(offload_features(TunAbi::Linux6_12, f.offload_arg()).is_ok());
    }
}

// Linux 7.x: UDP tunnel GSO offload (`set_offload()`, `PLAIN_GSO`).

const TNL: u64 = TUN_F_UDP_TUNNEL_GSO;
const TNL_CSUM: u64 = TUN_F_UDP_TUNNEL_GSO_CSUM;

#[test]
fn tunnel_offload_needs_plain_gso_on_7x() {
    let l7 = |arg| offload_features(TunAbi::Linux7, arg);
    let tcsum = NETIF_F_HW_CSUM | NETIF_F_TSO;
    assert_eq!(
        l7(TUN_F_CSUM | TUN_F_TSO4 | TNL),
        Ok(tcsum | NETIF_F_GSO_UDP_TUNNEL)
    );
    assert_eq!(
        l7(TUN_F_CSUM | TUN_F_TSO4 | TNL | TNL_CSUM),
        Ok(tcsum | NETIF_F_GSO_UDP_TUNNEL | NETIF_F_GSO_UDP_TUNNEL_CSUM)
    );
    // USO counts as plain GSO too.
    let uso = TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6;
    assert_eq!(
        l7(uso | TNL),
        Ok(NETIF_F_HW_CSUM | NETIF_F_GSO_UDP_L4 | NETIF_F_GSO_UDP_TUNNEL)
    );
    // Without plain GSO, without checksum offload, or the CSUM bit alone:
    // the bits stay and the request is refused.
    assert_eq!(l7(TUN_F_CSUM | TNL), Err(OffloadError::Unconsumed(TNL)));
    assert_eq!(l7(TNL), Err(OffloadError::Unconsumed(TNL)));
    assert_eq!(
        l7(TUN_F_CSUM | TUN_F_TSO4 | TNL_CSUM),
        Err(OffloadError::Unconsumed(TNL_CSUM))
    );
    // Only one USO bit is not plain GSO.
    assert_eq!(
        l7(TUN_F_CSUM | TUN_F_USO4 | TNL),
        Err(OffloadError::Unconsumed(TUN_F_USO4 | TNL))
    );
}

#[test]
fn tunnel_offload_is_unknown_on_6_12() {
    let arg = TUN_F_CSUM | TUN_F_TSO4 | TNL | TNL_CSUM;
    assert_eq!(
        offload_features(TunAbi::Linux6_12, arg),
        Err(OffloadError::Unconsumed(TNL | TNL_CSUM))
    );
}

#[test]
fn user_features_per_kernel() {
    let tnl = NETIF_F_GSO_UDP_TUNNEL | NETIF_F_GSO_UDP_TUNNEL_CSUM;
    assert_eq!(user_features(TunAbi::Linux6_12), TUN_USER_FEATURES);
    assert_eq!(user_features(TunAbi::Linux7), TUN_USER_FEATURES | tnl);
    assert_eq!(
        default_hw_features(TunAbi::Linux7),
        DEFAULT_HW_FEATURES | tnl
    );
    // ethtool cannot turn the tunnel features on past what TUNSETOFFLOAD allowed.
    let set = NETIF_F_HW_CSUM | NETIF_F_TSO;
    assert_eq!(fix_features(TunAbi::Linux7, u64::MAX, set) & tnl, 0);
    // On 6.12 they are not user features: they pass through untouched.
    assert_eq!(fix_features(TunAbi::Linux6_12, tnl, 0), tnl);
}

proptest! {
    /// On 7.x, no argument yields a feature outside the 7.x user features,
    /// and arguments without the tunnel bits give what 6.12 gives.
    #[test]
    fn offload_7x_extends_6_12(arg in any::<u64>()) {
        let l7 = offload_features(TunAbi::Linux7, arg);
        if let Ok(f) = l7 {
            prop_assert_eq!(f & !user_features(TunAbi::Linux7), 0);
        }
        if arg & (TNL | TNL_CSUM) == 0 {
            prop_assert_eq!(l7, offload_features(TunAbi::Linux6_12, arg));
        }
    }
}
