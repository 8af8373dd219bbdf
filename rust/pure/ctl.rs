// SPDX-License-Identifier: GPL-2.0

//! The control plane's rules: persistence, ownership, link type, and the
//! errno of each refusal, as `__tun_chr_ioctl()`, `tun_set_iff()` and
//! `tun_permitted()` of `drivers/net/tun.c` decide them (Linux 6.12 and
//! 7.3 agree here). Imports only `core`.

use crate::pure::errno::{EBUSY, EINVAL, EPERM};

/// A user or group id as the kernel keeps it (`kuid_t`/`kgid_t`: the id in
/// the initial user namespace); `u32::MAX` is `INVALID_UID`/`INVALID_GID`.
pub type KernelId = u32;

/// `INVALID_UID` and `INVALID_GID` (`(uid_t)-1`).
pub const INVALID_ID: KernelId = u32::MAX;

/// Returns the id `TUNSETOWNER`/`TUNSETGROUP` hand to `make_kuid()`: the
/// ioctl's `unsigned long` argument, cut to `uid_t` as C's implicit
/// conversion does.
pub const fn id_from_arg(arg: usize) -> u32 {
    arg as u32
}

/// `TUNSETOWNER`/`TUNSETGROUP`: the id mapped into the caller's user
/// namespace (`make_kuid()`; `None` if unmapped) is stored; an invalid one
/// is `EINVAL`, so an owner, once set, can be changed but never cleared.
pub fn set_id(mapped: Option<KernelId>) -> Result<KernelId, i32> {
    match mapped {
        Some(id) if id != INVALID_ID => Ok(id),
        _ => Err(EINVAL),
    }
}

/// Who owns a device: `TUNSETOWNER` and `TUNSETGROUP`, unset by default.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ownership {
    /// The owner (`tun->owner`), or [`INVALID_ID`].
    pub owner: KernelId,
    /// The group (`tun->group`), or [`INVALID_ID`].
    pub group: KernelId,
}

impl Ownership {
    /// Neither owner nor group, as `tun_setup()` leaves a new device.
    pub const NONE: Self = Self {
        owner: INVALID_ID,
        group: INVALID_ID,
    };

    /// Whether an owner is set (`uid_valid()`).
    pub const fn has_owner(&self) -> bool {
        self.owner != INVALID_ID
    }

    /// Whether a group is set (`gid_valid()`).
    pub const fn has_group(&self) -> bool {
        self.group != INVALID_ID
    }

    /// The first half of `tun_permitted()`: whether the caller may attach
    /// by its ids alone. True if an owner or a group is set and each one
    /// that is set matches: `euid` the owner, and `in_group` (the caller's
    /// `in_egroup_p(group)`) for the group. If this is false, C asks for
    /// `CAP_NET_ADMIN` in the device's network namespace's user namespace.
    pub const fn permits(&self, euid: KernelId, in_group: bool) -> bool {
        (self.has_owner() || self.has_group())
            && (!self.has_owner() || euid == self.owner)
            && (!self.has_group() || in_group)
    }
}

/// `TUNSETPERSIST`: what to do with the module reference C takes for a
/// persistent device (`__module_get()` on, `module_put()` off).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PersistChange {
    /// The flag was off and the argument is non-zero: set it, take a reference.
    On,
    /// The flag was on and the argument is zero: clear it, drop the reference.
    Off,
    /// No change: nothing happens, nobody is notified.
    Same,
}

/// Decides `TUNSETPERSIST` with argument `arg` on a device whose flag is `on`.
pub const fn persist_change(on: bool, arg: usize) -> PersistChange {
    match (on, arg != 0) {
        (false, true) => PersistChange::On,
        (true, false) => PersistChange::Off,
        _ => PersistChange::Same,
    }
}

/// `TUNSETLINK`'s first check: only while the device is down (`IFF_UP`
/// clear), else `EBUSY`.
pub const fn set_link_allowed(up: bool) -> Result<(), i32> {
    if up {
        Err(EBUSY)
    } else {
        Ok(())
    }
}

/// Returns the link type `TUNSETLINK` stores: `dev->type` is an `unsigned
/// short`, so the argument is cut to 16 bits, unvalidated.
pub const fn link_type_from_arg(arg: usize) -> u16 {
    arg as u16
}

/// `TUNSETSNDBUF`: a send buffer of at least one byte, else `EINVAL`.
pub const fn sndbuf(value: i32) -> Result<i32, i32> {
    if value <= 0 {
        Err(EINVAL)
    } else {
        Ok(value)
    }
}

/// `TUNSETIFINDEX`'s first check, before it reads its argument: only on a
/// file that is not attached, else `EPERM`.
pub const fn ifindex_settable(attached: bool) -> Result<(), i32> {
    if attached {
        Err(EPERM)
    } else {
        Ok(())
    }
}

/// `TUNSETIFINDEX`'s value: not negative (`EINVAL`); 0 lets the core
/// choose, as it does by default.
pub const fn ifindex(value: i32) -> Result<i32, i32> {
    if value < 0 {
        Err(EINVAL)
    } else {
        Ok(value)
    }
}

/// Whether a `TUNSETIFF` that ended with `result` (`None`: success, else
/// the errno) ran `tun_attach()`, which gives the file a queue index and
/// so rewrites the low half of its `TUNSETIFINDEX` value
/// ([`crate::pure::mq::ifindex_with_queue`]): after an attach to an
/// existing device, and after a creation that got as far as `ndo_init`
/// (`tun_net_init()` attaches): a success, or the `EBUSY` of an `ifindex`
/// in use, which `register_netdevice()` finds after `ndo_init`.
pub const fn setiff_attached(existing: bool, result: Option<i32>) -> bool {
    match result {
        None => true,
        Some(e) => !existing && e == EBUSY,
    }
}

/// `tun_net_change_carrier()` (`TUNSETCARRIER`, `ndo_change_carrier`):
/// the carrier goes on only while a file is attached (`EPERM`).
pub const fn change_carrier(on: bool, attached: bool) -> Result<(), i32> {
    if on && !attached {
        Err(EPERM)
    } else {
        Ok(())
    }
}

/// C's `NAPI_POLL_WEIGHT`, the most packets `rx_batched` holds.
pub const NAPI_POLL_WEIGHT: u32 = 64;

/// ethtool's `set_coalesce` (`tun_set_coalesce()`): `rx-frames` becomes
/// the rx batch size, at most [`NAPI_POLL_WEIGHT`].
pub const fn rx_batched(rx_frames: u32) -> u32 {
    if rx_frames > NAPI_POLL_WEIGHT {
        NAPI_POLL_WEIGHT
    } else {
        rx_frames
    }
}

/// `ARPHRD_*` values `tun_get_addr_len()` knows (`include/uapi/linux/if_arp.h`).
pub mod arphrd {
    /// `ARPHRD_NETROM`.
    pub const NETROM: u16 = 0;
    /// `ARPHRD_ETHER`.
    pub const ETHER: u16 = 1;
    /// `ARPHRD_IEEE802`.
    pub const IEEE802: u16 = 6;
    /// `ARPHRD_ROSE`.
    pub const ROSE: u16 = 270;
    /// `ARPHRD_PPP`.
    pub const PPP: u16 = 512;
    /// `ARPHRD_TUNNEL`.
    pub const TUNNEL: u16 = 768;
    /// `ARPHRD_TUNNEL6`.
    pub const TUNNEL6: u16 = 769;
    /// `ARPHRD_LOCALTLK`.
    pub const LOCALTLK: u16 = 773;
    /// `ARPHRD_FDDI`.
    pub const FDDI: u16 = 774;
    /// `ARPHRD_SIT`.
    pub const SIT: u16 = 776;
    /// `ARPHRD_IPGRE`.
    pub const IPGRE: u16 = 778;
    /// `ARPHRD_HIPPI`.
    pub const HIPPI: u16 = 780;
    /// `ARPHRD_IEEE802154`.
    pub const IEEE802154: u16 = 804;
    /// `ARPHRD_IEEE802154_MONITOR`.
    pub const IEEE802154_MONITOR: u16 = 805;
    /// `ARPHRD_PHONET_PIPE`.
    pub const PHONET_PIPE: u16 = 821;
    /// `ARPHRD_IP6GRE`.
    pub const IP6GRE: u16 = 823;
    /// `ARPHRD_6LOWPAN`.
    pub const LOWPAN: u16 = 825;
    /// `ARPHRD_NONE`.
    pub const NONE: u16 = 0xfffe;
}

/// `tun_get_addr_len()`: the hardware address length `TUNSETLINK` gives a
/// device of link type `ty`; 0 for any type it does not list.
pub const fn addr_len(ty: u16) -> u8 {
    use arphrd::*;
    match ty {
        // sizeof(struct in6_addr)
        IP6GRE | TUNNEL6 => 16,
        IPGRE | TUNNEL | SIT => 4,
        // ETH_ALEN, FDDI_K_ALEN, HIPPI_ALEN, FC_ALEN
        ETHER | FDDI | HIPPI | IEEE802 => 6,
        // IEEE802154_EXTENDED_ADDR_LEN, EUI64_ADDR_LEN
        IEEE802154 | IEEE802154_MONITOR | LOWPAN => 8,
        // ROSE_ADDR_LEN
        ROSE => 5,
        // AX25_ADDR_LEN
        NETROM => 7,
        // LTALK_ALEN
        LOCALTLK => 1,
        // PHONET_PIPE, PPP, NONE and everything else
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_cut_to_32_bits() {
        assert_eq!(id_from_arg(1000), 1000);
        assert_eq!(id_from_arg(0x1_0000_03e8), 1000);
        assert_eq!(id_from_arg(usize::MAX), INVALID_ID);
    }

    #[test]
    fn set_id_refuses_unmapped_and_invalid() {
        assert_eq!(set_id(Some(0)), Ok(0));
        assert_eq!(set_id(Some(1234)), Ok(1234));
        assert_eq!(set_id(None), Err(EINVAL));
        assert_eq!(set_id(Some(INVALID_ID)), Err(EINVAL));
    }

    #[test]
    fn nobody_is_permitted_by_ids_without_owner_or_group() {
        let o = Ownership::NONE;
        assert!(!o.permits(0, true));
        assert!(!o.permits(1000, false));
    }

    #[test]
    fn owner_alone() {
        let o = Ownership {
            owner: 1000,
            group: INVALID_ID,
        };
        assert!(o.permits(1000, false));
        assert!(!o.permits(1001, true));
        assert!(!o.permits(0, true));
    }

    #[test]
    fn group_alone() {
        let o = Ownership {
            owner: INVALID_ID,
            group: 50,
        };
        assert!(o.permits(1234, true));
        assert!(!o.permits(1234, false));
    }

    #[test]
    fn both_must_match() {
        let o = Ownership {
            owner: 1000,
            group: 50,
        };
        assert!(o.permits(1000, true));
        assert!(!o.permits(1000, false));
        assert!(!o.permits(1001, true));
    }

    #[test]
    fn persist_changes_only_on_a_change() {
        assert_eq!(persist_change(false, 1), PersistChange::On);
        assert_eq!(persist_change(false, 0x100), PersistChange::On);
        assert_eq!(persist_change(true, 0), PersistChange::Off);
        assert_eq!(persist_change(true, 1), PersistChange::Same);
        assert_eq!(persist_change(false, 0), PersistChange::Same);
    }

    #[test]
    fn set_link_only_while_down() {
        assert_eq!(set_link_allowed(false), Ok(()));
        assert_eq!(set_link_allowed(true), Err(EBUSY));
    }

    #[test]
    fn link_type_is_cut_to_16_bits() {
        assert_eq!(link_type_from_arg(1), 1);
        assert_eq!(link_type_from_arg(0x1_0001), 1);
        assert_eq!(link_type_from_arg(usize::MAX), 0xffff);
    }

    #[test]
    fn sndbuf_must_be_positive() {
        assert_eq!(sndbuf(0), Err(EINVAL));
        assert_eq!(sndbuf(-1), Err(EINVAL));
        assert_eq!(sndbuf(i32::MIN), Err(EINVAL));
        assert_eq!(sndbuf(1), Ok(1));
        assert_eq!(sndbuf(i32::MAX), Ok(i32::MAX));
    }

    #[test]
    fn ifindex_rules() {
        assert_eq!(ifindex_settable(true), Err(EPERM));
        assert_eq!(ifindex_settable(false), Ok(()));
        assert_eq!(ifindex(-1), Err(EINVAL));
        assert_eq!(ifindex(i32::MIN), Err(EINVAL));
        assert_eq!(ifindex(0), Ok(0));
        assert_eq!(ifindex(1000), Ok(1000));
    }

    #[test]
    fn ifindex_cleared_as_the_queue_index_is_set() {
        assert!(setiff_attached(false, None));
        assert!(setiff_attached(true, None));
        assert!(setiff_attached(false, Some(EBUSY)));
        assert!(!setiff_attached(true, Some(EBUSY)));
        assert!(!setiff_attached(false, Some(EINVAL)));
        assert!(!setiff_attached(true, Some(EPERM)));
    }

    #[test]
    fn carrier_on_needs_a_file() {
        assert_eq!(change_carrier(true, false), Err(EPERM));
        assert_eq!(change_carrier(true, true), Ok(()));
        assert_eq!(change_carrier(false, false), Ok(()));
        assert_eq!(change_carrier(false, true), Ok(()));
    }

    #[test]
    fn rx_batched_is_capped_at_the_napi_weight() {
        assert_eq!(rx_batched(0), 0);
        assert_eq!(rx_batched(1), 1);
        assert_eq!(rx_batched(64), 64);
        assert_eq!(rx_batched(65), 64);
        assert_eq!(rx_batched(u32::MAX), 64);
    }

    #[test]
    fn addr_len_table() {
        use arphrd::*;
        let table = [
            (IP6GRE, 16),
            (TUNNEL6, 16),
            (IPGRE, 4),
            (TUNNEL, 4),
            (SIT, 4),
            (ETHER, 6),
            (FDDI, 6),
            (HIPPI, 6),
            (IEEE802, 6),
            (IEEE802154, 8),
            (IEEE802154_MONITOR, 8),
            (LOWPAN, 8),
            (ROSE, 5),
            (NETROM, 7),
            (LOCALTLK, 1),
            (PHONET_PIPE, 0),
            (PPP, 0),
            (NONE, 0),
            (0xffff, 0),
            (2, 0),
        ];
        for (ty, len) in table {
            assert_eq!(addr_len(ty), len, "type {ty}");
        }
    }
}
