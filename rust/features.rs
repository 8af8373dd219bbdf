// SPDX-License-Identifier: GPL-2.0

//! `NETIF_F_*` feature bits and the feature policy of a tun/tap device.
//!
//! Bit numbers are those of `include/linux/netdev_features.h` in Linux 6.12;
//! the kernel side of rtun checks each against the kernel's own enum at build
//! time. Imports only `core`.

/// Scatter/gather I/O.
pub const NETIF_F_SG: u64 = 1 << 0;
/// Checksums any protocol.
pub const NETIF_F_HW_CSUM: u64 = 1 << 3;
/// DMA to high memory.
pub const NETIF_F_HIGHDMA: u64 = 1 << 5;
/// Fragment lists.
pub const NETIF_F_FRAGLIST: u64 = 1 << 6;
/// Inserts 802.1Q tags on transmit.
pub const NETIF_F_HW_VLAN_CTAG_TX: u64 = 1 << 7;
/// TCP segmentation offload over IPv4.
pub const NETIF_F_TSO: u64 = 1 << 16;
/// TSO with the ECN bit.
pub const NETIF_F_TSO_ECN: u64 = 1 << 18;
/// TCP segmentation offload over IPv6.
pub const NETIF_F_TSO6: u64 = 1 << 20;
/// UDP segmentation offload.
pub const NETIF_F_GSO_UDP_L4: u64 = 1 << 33;
/// Inserts 802.1ad tags on transmit.
pub const NETIF_F_HW_VLAN_STAG_TX: u64 = 1 << 45;

/// The features a reader may switch on with `TUNSETOFFLOAD` (C's `TUN_USER_FEATURES`).
pub const TUN_USER_FEATURES: u64 =
    NETIF_F_HW_CSUM | NETIF_F_TSO_ECN | NETIF_F_TSO | NETIF_F_TSO6 | NETIF_F_GSO_UDP_L4;

/// `hw_features` and initial `features` of a new device, as `tun_net_init()` sets them.
pub const DEFAULT_HW_FEATURES: u64 = NETIF_F_SG
    | NETIF_F_FRAGLIST
    | TUN_USER_FEATURES
    | NETIF_F_HW_VLAN_CTAG_TX
    | NETIF_F_HW_VLAN_STAG_TX;

/// `vlan_features` of a new device: the defaults without the tag insertion bits.
pub const DEFAULT_VLAN_FEATURES: u64 =
    DEFAULT_HW_FEATURES & !(NETIF_F_HW_VLAN_CTAG_TX | NETIF_F_HW_VLAN_STAG_TX);

/// Returns what `ndo_fix_features` keeps of `wanted` when the reader allowed `allowed`.
///
/// User-controllable features are kept only if the reader allowed them, so
/// `ethtool -K` can never enable more than `TUNSETOFFLOAD` did; all other bits
/// pass through.
pub const fn fix_features(wanted: u64, allowed: u64) -> u64 {
    (wanted & allowed) | (wanted & !TUN_USER_FEATURES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_device_has_no_user_features() {
        let f = fix_features(DEFAULT_HW_FEATURES, 0);
        assert_eq!(
            f,
            NETIF_F_SG | NETIF_F_FRAGLIST | NETIF_F_HW_VLAN_CTAG_TX | NETIF_F_HW_VLAN_STAG_TX
        );
    }

    #[test]
    fn fix_features_never_exceeds_allowed() {
        for wanted in [0, DEFAULT_HW_FEATURES, u64::MAX] {
            for allowed in [
                0,
                NETIF_F_HW_CSUM,
                NETIF_F_HW_CSUM | NETIF_F_TSO,
                TUN_USER_FEATURES,
            ] {
                let f = fix_features(wanted, allowed);
                assert_eq!(f & TUN_USER_FEATURES & !allowed, 0);
                assert_eq!(f & !TUN_USER_FEATURES, wanted & !TUN_USER_FEATURES);
            }
        }
    }

    #[test]
    fn vlan_features_drop_tag_insertion() {
        assert_eq!(DEFAULT_VLAN_FEATURES & NETIF_F_HW_VLAN_CTAG_TX, 0);
        assert_eq!(DEFAULT_VLAN_FEATURES & NETIF_F_TSO, NETIF_F_TSO);
    }
}
