// SPDX-License-Identifier: GPL-2.0

//! `NETIF_F_*` feature bits and the feature policy of a tun/tap device.
//!
//! Bit numbers are those of `include/linux/netdev_features.h` in Linux 6.12;
//! the kernel side of rtun checks each against the kernel's own enum at build
//! time. Imports only `core`.
//!
//! It also holds the two ways a reader tells tun which offloads it can take:
//! today's `TUNSETOFFLOAD` ([`offload_features`], `set_offload()` of Linux
//! 6.12 drivers/net/tun.c) and the flags of the 2008 design
//! (seed/tun-vnet-hdr-gso-2008.patch.txt, [`Rfc2008Flags`]), which upstream
//! replaced with `IFF_VNET_HDR` plus `TUNSETOFFLOAD`.

use crate::pure::abi::TunAbi;
use crate::pure::errno::EINVAL;
use crate::pure::uapi::{IFF_RECV_CSUM_2008, IFF_RECV_GSO_2008, IFF_SEND_GSO_2008};

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
/// GSO of packets in UDP tunnels.
pub const NETIF_F_GSO_UDP_TUNNEL: u64 = 1 << 26;
/// GSO of packets in UDP tunnels with an outer checksum.
pub const NETIF_F_GSO_UDP_TUNNEL_CSUM: u64 = 1 << 27;
/// TSO with the ECN bit.
pub const NETIF_F_TSO_ECN: u64 = 1 << 18;
/// TCP segmentation offload over IPv6.
pub const NETIF_F_TSO6: u64 = 1 << 20;
/// UDP segmentation offload.
pub const NETIF_F_GSO_UDP_L4: u64 = 1 << 33;
/// Inserts 802.1ad tags on transmit.
pub const NETIF_F_HW_VLAN_STAG_TX: u64 = 1 << 45;

/// The features a reader may switch on with `TUNSETOFFLOAD` on Linux 6.12
/// (C's `TUN_USER_FEATURES`); see [`user_features`] for each kernel.
pub const TUN_USER_FEATURES: u64 =
    NETIF_F_HW_CSUM | NETIF_F_TSO_ECN | NETIF_F_TSO | NETIF_F_TSO6 | NETIF_F_GSO_UDP_L4;

/// The plain GSO features a tunnel GSO offload needs one of (C's `PLAIN_GSO`, Linux 7.x).
pub const PLAIN_GSO: u64 = NETIF_F_GSO_UDP_L4 | NETIF_F_TSO | NETIF_F_TSO6;

/// Returns C's `TUN_USER_FEATURES` on the kernel `abi` names: Linux 7.x
/// adds the two UDP tunnel GSO features.
pub const fn user_features(abi: TunAbi) -> u64 {
    if abi.has_udp_tunnel() {
        TUN_USER_FEATURES | NETIF_F_GSO_UDP_TUNNEL | NETIF_F_GSO_UDP_TUNNEL_CSUM
    } else {
        TUN_USER_FEATURES
    }
}

/// Returns the `hw_features` and initial `features` of a new device on the
/// kernel `abi` names (`tun_net_initialize()`); on Linux 7.x they are also
/// its `hw_enc_features`.
pub const fn default_hw_features(abi: TunAbi) -> u64 {
    NETIF_F_SG
        | NETIF_F_FRAGLIST
        | user_features(abi)
        | NETIF_F_HW_VLAN_CTAG_TX
        | NETIF_F_HW_VLAN_STAG_TX
}

/// Returns the `vlan_features` of a new device: [`default_hw_features`]
/// without the tag insertion bits.
pub const fn default_vlan_features(abi: TunAbi) -> u64 {
    default_hw_features(abi) & !(NETIF_F_HW_VLAN_CTAG_TX | NETIF_F_HW_VLAN_STAG_TX)
}

/// Returns the `hw_enc_features` of a new device whose `hw_features` are
/// `hw`: Linux 7.x's `tun_net_initialize()` lets encapsulated packets have
/// every hardware feature (so UDP tunnels over the device keep GSO); 6.12
/// leaves them empty.
pub const fn hw_enc_features(abi: TunAbi, hw: u64) -> u64 {
    if abi.has_udp_tunnel() {
        hw
    } else {
        0
    }
}

/// `hw_features` and initial `features` of a new device on Linux 6.12.
pub const DEFAULT_HW_FEATURES: u64 = default_hw_features(TunAbi::Linux6_12);

/// `vlan_features` of a new device on Linux 6.12.
pub const DEFAULT_VLAN_FEATURES: u64 = default_vlan_features(TunAbi::Linux6_12);

/// Returns what `ndo_fix_features` keeps of `wanted` when the reader allowed `allowed`.
///
/// User-controllable features are kept only if the reader allowed them, so
/// `ethtool -K` can never enable more than `TUNSETOFFLOAD` did; all other bits
/// pass through.
pub const fn fix_features(abi: TunAbi, wanted: u64, allowed: u64) -> u64 {
    (wanted & allowed) | (wanted & !user_features(abi))
}

/// Offload bit: the reader takes packets with partial checksums (`TUN_F_CSUM`).
pub const TUN_F_CSUM: u64 = 0x01;
/// Offload bit: the reader takes IPv4 TCP GSO packets (`TUN_F_TSO4`).
pub const TUN_F_TSO4: u64 = 0x02;
/// Offload bit: the reader takes IPv6 TCP GSO packets (`TUN_F_TSO6`).
pub const TUN_F_TSO6: u64 = 0x04;
/// Offload bit: the reader takes TCP GSO packets with ECN (`TUN_F_TSO_ECN`).
pub const TUN_F_TSO_ECN: u64 = 0x08;
/// Offload bit: the reader takes UFO packets (`TUN_F_UFO`), accepted and ignored.
pub const TUN_F_UFO: u64 = 0x10;
/// Offload bit: the reader takes IPv4 UDP segmentation packets (`TUN_F_USO4`).
pub const TUN_F_USO4: u64 = 0x20;
/// Offload bit: the reader takes IPv6 UDP segmentation packets (`TUN_F_USO6`).
pub const TUN_F_USO6: u64 = 0x40;
/// Offload bit: the reader takes GSO packets in UDP tunnels (`TUN_F_UDP_TUNNEL_GSO`, Linux 7.x).
pub const TUN_F_UDP_TUNNEL_GSO: u64 = 0x080;
/// Offload bit: ... with the outer UDP checksum to fill in
/// (`TUN_F_UDP_TUNNEL_GSO_CSUM`, Linux 7.x).
pub const TUN_F_UDP_TUNNEL_GSO_CSUM: u64 = 0x100;

/// Why `TUNSETOFFLOAD` is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffloadError {
    /// Bits that `set_offload()` did not consume are left.
    ///
    /// The value holds those bits: any bit above `TUN_F_USO6`, any bit
    /// without `TUN_F_CSUM`, `TUN_F_TSO_ECN` without `TUN_F_TSO4` or
    /// `TUN_F_TSO6`, or only one of `TUN_F_USO4` and `TUN_F_USO6`.
    Unconsumed(u64),
}

impl OffloadError {
    /// Returns the positive errno upstream returns for this error (`EINVAL`, `set_offload()`).
    pub const fn errno(self) -> i32 {
        match self {
            OffloadError::Unconsumed(_) => EINVAL,
        }
    }
}

/// Returns the features a `TUNSETOFFLOAD` argument allows, C's `tun->set_features`.
///
/// This is tun.c's `set_offload()` bit by bit: each flag it understands is
/// consumed, and any bit left over refuses the whole request, which lets
/// user space probe for new flags.
///
/// - O1 `TUN_F_CSUM` -> `NETIF_F_HW_CSUM`; without it nothing else is
///   consumed.
/// - O2 with `TUN_F_TSO4` or `TUN_F_TSO6`: `TUN_F_TSO_ECN` ->
///   `NETIF_F_TSO_ECN`, `TUN_F_TSO4` -> `NETIF_F_TSO`, `TUN_F_TSO6` ->
///   `NETIF_F_TSO6`; without either, `TUN_F_TSO_ECN` is not consumed.
/// - O3 `TUN_F_UFO` is consumed and sets nothing: UFO left the stack in
///   2017 and `NETIF_F_GSO_UDP` is in no tun feature set.
/// - O4 `TUN_F_USO4` and `TUN_F_USO6` together -> `NETIF_F_GSO_UDP_L4`;
///   one of them alone is not consumed.
/// - O4b (Linux 7.x only) `TUN_F_UDP_TUNNEL_GSO`, when O2 or O4 gave a
///   plain GSO feature (`PLAIN_GSO`) -> `NETIF_F_GSO_UDP_TUNNEL`, and
///   `TUN_F_UDP_TUNNEL_GSO_CSUM` with it -> `NETIF_F_GSO_UDP_TUNNEL_CSUM`;
///   otherwise neither bit is consumed.
/// - O5 leftover bits -> [`OffloadError::Unconsumed`].
///
/// On success the driver stores the value as the allowed features,
/// updates `wanted_features` with [`offload_wanted_features`] and calls
/// `netdev_update_features()`, whose `ndo_fix_features` is
/// [`fix_features`] (the end of `set_offload()`). The result is always a
/// subset of [`user_features`].
pub const fn offload_features(abi: TunAbi, arg: u64) -> Result<u64, OffloadError> {
    let mut arg = arg;
    let mut features = 0;

    if arg & TUN_F_CSUM != 0 {
        // O1, `set_offload()`.
        features |= NETIF_F_HW_CSUM;
        arg &= !TUN_F_CSUM;

        // O2, `set_offload()`.
        if arg & (TUN_F_TSO4 | TUN_F_TSO6) != 0 {
            if arg & TUN_F_TSO_ECN != 0 {
                features |= NETIF_F_TSO_ECN;
                arg &= !TUN_F_TSO_ECN;
            }
            if arg & TUN_F_TSO4 != 0 {
                features |= NETIF_F_TSO;
            }
            if arg & TUN_F_TSO6 != 0 {
                features |= NETIF_F_TSO6;
            }
            arg &= !(TUN_F_TSO4 | TUN_F_TSO6);
        }

        // O3, `set_offload()`.
        arg &= !TUN_F_UFO;

        // O4, `set_offload()`.
        if arg & TUN_F_USO4 != 0 && arg & TUN_F_USO6 != 0 {
            features |= NETIF_F_GSO_UDP_L4;
            arg &= !(TUN_F_USO4 | TUN_F_USO6);
        }

        // O4b, `set_offload()` of Linux 7.x.
        if abi.has_udp_tunnel() && features & PLAIN_GSO != 0 && arg & TUN_F_UDP_TUNNEL_GSO != 0 {
            features |= NETIF_F_GSO_UDP_TUNNEL;
            if arg & TUN_F_UDP_TUNNEL_GSO_CSUM != 0 {
                features |= NETIF_F_GSO_UDP_TUNNEL_CSUM;
            }
            arg &= !(TUN_F_UDP_TUNNEL_GSO | TUN_F_UDP_TUNNEL_GSO_CSUM);
        }
    }

    // O5, `set_offload()`.
    if arg != 0 {
        return Err(OffloadError::Unconsumed(arg));
    }
    Ok(features)
}

/// Returns the device's `wanted_features` after a successful `TUNSETOFFLOAD`.
///
/// The user-controllable bits are replaced by `set_features`, the value
/// [`offload_features`] returned; the others are kept (`set_offload()`).
pub const fn offload_wanted_features(abi: TunAbi, wanted: u64, set_features: u64) -> u64 {
    (wanted & !user_features(abi)) | set_features
}

/// The tun flags of the 2008 design that decide headers and offloads.
///
/// Of the seed patch's `TUNSETIFF` flags (include/linux/if_tun.h there):
/// `IFF_SEND_GSO` (0x4000) puts a header in front of each written packet,
/// `IFF_RECV_CSUM` (0x8000) says the reader takes partial checksums, and
/// `IFF_RECV_GSO` (0x0800) that it takes GSO packets. Either receive flag
/// puts a header in front of each read packet (`tun_put_user()` there:
/// `if (tun->flags & (TUN_RECV_CSUM|TUN_RECV_GSO))`). The device features
/// were fixed at creation ([`rfc2008_features`]). Today the same bits mean
/// `IFF_VNET_HDR`, `IFF_TUN_EXCL` and `IFF_PERSIST`, so this decoding only
/// describes the old interface, which rtun speaks when loaded with `abi=rfc2008`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rfc2008Flags {
    /// `IFF_SEND_GSO`: a header precedes each written packet.
    pub send_hdr: bool,
    /// `IFF_RECV_CSUM` or `IFF_RECV_GSO`: a header precedes each read packet.
    pub recv_hdr: bool,
    /// `IFF_RECV_CSUM`: the reader takes partial checksums.
    pub recv_csum: bool,
    /// `IFF_RECV_GSO`: the reader takes GSO packets (of every type).
    pub recv_gso: bool,
}

impl Rfc2008Flags {
    /// Decodes the 2008 meaning of the `ifr_flags` of a `TUNSETIFF` request.
    pub const fn from_iff(flags: u16) -> Self {
        let recv_csum = flags & IFF_RECV_CSUM_2008 != 0;
        let recv_gso = flags & IFF_RECV_GSO_2008 != 0;
        Rfc2008Flags {
            send_hdr: flags & IFF_SEND_GSO_2008 != 0,
            recv_hdr: recv_csum || recv_gso,
            recv_csum,
            recv_gso,
        }
    }

    /// Returns the device features the 2008 design gave a new device with these flags.
    pub const fn features(&self) -> u64 {
        rfc2008_features(self.recv_csum, self.recv_gso)
    }

    /// Returns the `TUNSETOFFLOAD` argument that asks today for what these flags asked.
    ///
    /// `IFF_RECV_CSUM` is `TUN_F_CSUM`; `IFF_RECV_GSO` ("all types of GSO"
    /// in 2008: TCPv4, TCPv6, ECN and UFO) is `TUN_F_TSO4 | TUN_F_TSO6 |
    /// TUN_F_TSO_ECN | TUN_F_UFO`, only together with `IFF_RECV_CSUM`, as
    /// both designs require checksum offload for GSO. USO did not exist in
    /// 2008.
    pub const fn offload_arg(&self) -> u64 {
        if !self.recv_csum {
            return 0;
        }
        let mut arg = TUN_F_CSUM;
        if self.recv_gso {
            arg |= TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO;
        }
        arg
    }
}

/// Returns the features the 2008 design gave a device at creation.
///
/// From the seed patch's `tun_set_iff()`: `dev->features = 0`; with
/// `IFF_RECV_CSUM`, `NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA |
/// NETIF_F_FRAGLIST`; with `IFF_RECV_GSO` as well, `NETIF_F_TSO |
/// NETIF_F_UFO | NETIF_F_TSO_ECN | NETIF_F_TSO6`. `IFF_RECV_GSO` alone
/// gives nothing ("CSUM handling is required for GSO"). `NETIF_F_UFO` maps
/// to nothing: UDP fragmentation offload was removed from the stack in
/// 2017, its successor bit `NETIF_F_GSO_UDP` ("UFO, deprecated except
/// tuntap", `NETIF_F_GSO_UDP_BIT` in include/linux/netdev_features.h) is
/// set by no device and is not in [`TUN_USER_FEATURES`], and today's tun
/// accepts `TUN_F_UFO` and ignores it (`set_offload()`). It is not
/// `NETIF_F_GSO_UDP_L4`, which segments a UDP payload into datagrams
/// instead of fragmenting one datagram, and which a reader asks for with
/// `TUN_F_USO4 | TUN_F_USO6`.
pub const fn rfc2008_features(recv_csum: bool, recv_gso: bool) -> u64 {
    if !recv_csum {
        return 0;
    }
    let mut features = NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA | NETIF_F_FRAGLIST;
    if recv_gso {
        features |= NETIF_F_TSO | NETIF_F_TSO_ECN | NETIF_F_TSO6;
    }
    features
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_device_has_no_user_features() {
        let f = fix_features(TunAbi::Linux6_12, DEFAULT_HW_FEATURES, 0);
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
                let f = fix_features(TunAbi::Linux6_12, wanted, allowed);
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
