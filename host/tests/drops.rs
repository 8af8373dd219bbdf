// SPDX-License-Identifier: GPL-2.0

//! The per-reason drop counters: every refusal has a reason, each reason
//! is counted in the C counter the refusal bumps, and the names are valid
//! ethtool strings.

use proptest::prelude::*;
use rtun_host::abi::TunAbi;
use rtun_host::drops::*;
use rtun_host::vnet_hdr::*;
use rtun_host::vnet_out::OutError;
use std::collections::HashSet;

/// The reasons that are not a planner's refusal: the driver's own checks.
const DRIVER_REASONS: [DropReason; 21] = [
    DropReason::RxFrameSkbRefused,
    DropReason::RxDropAllocFailed,
    DropReason::RxDropCopyFault,
    DropReason::RxDropEthHdrTrunc,
    DropReason::RxDropDevDown,
    DropReason::TxDropNoReader,
    DropReason::TxDropTxFilter,
    DropReason::TxDropOrphanFrags,
    DropReason::TxDropRingFull,
    DropReason::TxDropRingFullBackpressure,
    DropReason::TxLostReadFault,
    DropReason::RxLostNapiDetached,
    DropReason::TxDropEbpfFilter,
    DropReason::TxDropTrimFailed,
    DropReason::TxDropSocketFilter,
    DropReason::RxDropBadLayout,
    DropReason::RxDropFragsHeadlen,
    DropReason::RxDropXdp,
    DropReason::RxDropXdpRedirect,
    DropReason::RxDropXdpTx,
    DropReason::TxDropXdpRingFull,
];

#[test]
fn xdp_verdicts_count_as_tun_xdp_act() {
    use rtun_host::uapi::{XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_REDIRECT, XDP_TX};
    for failed in [false, true] {
        assert_eq!(xdp_verdict_drop(XDP_PASS, failed), None);
        assert_eq!(
            xdp_verdict_drop(XDP_DROP, failed),
            Some(DropReason::RxDropXdp)
        );
        assert_eq!(
            xdp_verdict_drop(XDP_ABORTED, failed),
            Some(DropReason::RxDropXdp)
        );
        // Unknown verdicts are dropped (and warned about) as XDP_ABORTED.
        assert_eq!(xdp_verdict_drop(5, failed), Some(DropReason::RxDropXdp));
        assert_eq!(
            xdp_verdict_drop(u32::MAX, failed),
            Some(DropReason::RxDropXdp)
        );
    }
    assert_eq!(xdp_verdict_drop(XDP_REDIRECT, false), None);
    assert_eq!(xdp_verdict_drop(XDP_TX, false), None);
    assert_eq!(
        xdp_verdict_drop(XDP_REDIRECT, true),
        Some(DropReason::RxDropXdpRedirect)
    );
    assert_eq!(
        xdp_verdict_drop(XDP_TX, true),
        Some(DropReason::RxDropXdpTx)
    );
    // Every reason a verdict gives is counted in rx_dropped, as C's.
    for act in 0..8 {
        for failed in [false, true] {
            if let Some(r) = xdp_verdict_drop(act, failed) {
                assert_eq!(r.counter(), Counter::RxDropped, "{act} {failed}");
            }
        }
    }
}

#[test]
fn every_hdr_error_counts_where_c_counts() {
    let mut seen = HashSet::new();
    for e in HdrError::ALL {
        let r = e.drop_reason();
        assert_eq!(r.counter(), Counter::from(e.counter()), "{e:?} -> {r:?}");
        // One reason per rule: the counters tell the rules apart.
        assert!(seen.insert(r.index()), "{e:?} shares {r:?}");
    }
}

#[test]
fn every_read_error_is_a_loss_c_does_not_count() {
    let mut seen = HashSet::new();
    for e in OutError::ALL {
        let r = e.drop_reason();
        assert_eq!(r.counter(), Counter::None, "{e:?} -> {r:?}");
        assert!(r.name().starts_with("tx_lost_read_"), "{e:?} -> {r:?}");
        assert!(seen.insert(r.index()), "{e:?} shares {r:?}");
    }
}

/// Every reason is a planner refusal's or one of the driver's, once: a
/// new error variant left out of `ALL` leaves its reason uncovered.
#[test]
fn every_reason_has_one_origin() {
    let mut origins = [0; DropReason::COUNT];
    let planner = HdrError::ALL
        .iter()
        .map(|e| e.drop_reason())
        .chain(OutError::ALL.iter().map(|e| e.drop_reason()));
    for r in planner.chain(DRIVER_REASONS) {
        origins[r.index()] += 1;
    }
    for r in DropReason::ALL {
        assert_eq!(origins[r.index()], 1, "{r:?}");
    }
}

#[test]
fn all_lists_each_reason_once_at_its_index() {
    assert_eq!(DropReason::ALL.len(), DropReason::COUNT);
    assert_eq!(NAMES.len(), DropReason::COUNT);
    let mut seen = HashSet::new();
    for (i, r) in DropReason::ALL.iter().enumerate() {
        assert_eq!(r.index(), i, "{r:?}");
        assert_eq!(NAMES[i], r.name());
        assert!(seen.insert(r.index()), "{r:?} twice");
    }
}

#[test]
fn names_are_unique_short_ascii_and_name_their_counter() {
    let mut seen = HashSet::new();
    for r in DropReason::ALL {
        let n = r.name();
        assert!(n.len() < ETH_GSTRING_LEN, "{n} is {} bytes", n.len());
        assert!(
            n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{n}"
        );
        assert!(seen.insert(n), "{n} twice");
        let prefixes: &[&str] = match r.counter() {
            Counter::RxFrameErrors => &["rx_frame_"],
            Counter::RxDropped => &["rx_drop_"],
            Counter::TxDropped => &["tx_drop_"],
            Counter::None => &["rx_inval_", "tx_lost_", "rx_lost_"],
        };
        assert!(
            prefixes.iter().any(|p| n.starts_with(p)),
            "{n}: {:?}",
            r.counter()
        );
    }
}

#[test]
fn alloc_errno_picks_copy_fault_or_alloc() {
    assert_eq!(
        DropReason::from_alloc_errno(14),
        DropReason::RxDropCopyFault
    );
    assert_eq!(
        DropReason::from_alloc_errno(12),
        DropReason::RxDropAllocFailed
    );
    // Too long (EMSGSIZE), or an IFF_NAPI_FRAGS segment the frags refuse.
    for errno in [90, 22] {
        assert_eq!(
            DropReason::from_alloc_errno(errno),
            DropReason::RxDropBadLayout
        );
    }
    for r in [
        DropReason::RxDropCopyFault,
        DropReason::RxDropAllocFailed,
        DropReason::RxDropBadLayout,
    ] {
        assert_eq!(r.counter(), Counter::RxDropped);
    }
}

#[test]
fn counters_start_at_zero() {
    let c = DropCounters::new();
    let mut out = [1u64; DropReason::COUNT];
    c.snapshot(&mut out);
    assert_eq!(out, [0; DropReason::COUNT]);
    for k in [
        Counter::None,
        Counter::RxFrameErrors,
        Counter::RxDropped,
        Counter::TxDropped,
    ] {
        assert_eq!(c.sum(k), 0);
    }
}

fn reason() -> impl Strategy<Value = DropReason> {
    (0..DropReason::COUNT).prop_map(|i| DropReason::ALL[i])
}

fn ctx() -> impl Strategy<Value = WriteCtx> {
    (
        0usize..=2000,
        any::<bool>(),
        any::<bool>(),
        prop_oneof![
            Just(None),
            Just(Some(10u32)),
            Just(Some(12u32)),
            (0u32..=64).prop_map(Some)
        ],
        prop_oneof![Just(TunAbi::Linux6_12), Just(TunAbi::Linux7)],
    )
        .prop_map(|(len, is_tap, no_pi, vnet_hdr_sz, abi)| WriteCtx {
            total_len: len,
            is_tap,
            no_pi,
            vnet_hdr_sz,
            align: 64,
            alloc: SkbAlloc::Paged,
            geometry: SkbGeometry::X86_64,
            abi,
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any sequence of drops: each reason's count is how often it was
    /// bumped, and a C counter's sum is how many of its reasons were.
    #[test]
    fn sums_are_the_drops_of_each_counter(drops in proptest::collection::vec(reason(), 0..200)) {
        let c = DropCounters::new();
        for r in &drops {
            c.bump(*r);
        }
        let mut out = [0u64; DropReason::COUNT];
        c.snapshot(&mut out);
        for r in DropReason::ALL {
            let n = drops.iter().filter(|d| **d == r).count() as u64;
            prop_assert_eq!(out[r.index()], n);
            prop_assert_eq!(c.get(r), n);
        }
        for k in [Counter::None, Counter::RxFrameErrors, Counter::RxDropped, Counter::TxDropped] {
            let n = drops.iter().filter(|d| d.counter() == k).count() as u64;
            prop_assert_eq!(c.sum(k), n);
        }
    }

    /// Whatever the planner refuses, its reason is counted where C counts it.
    #[test]
    fn planner_refusals_count_where_c_counts(bytes in any::<[u8; 10]>(), big in any::<bool>(), ctx in ctx(), first in any::<Option<u8>>()) {
        let order = if big { ByteOrder::Big } else { ByteOrder::Little };
        let hdr = VnetHdr::parse(&bytes, order);
        let refusals = [
            plan_write(&hdr, &ctx).err(),
            check_tun_ip_version(first).err(),
        ];
        for e in refusals.into_iter().flatten() {
            prop_assert_eq!(e.drop_reason().counter(), Counter::from(e.counter()));
        }
    }
}
