// SPDX-License-Identifier: GPL-2.0

//! Net devices created by rtun: reference counting, creation with Rust
//! private data of the driver's type `T`, and the `net_device_ops`
//! trampolines ([`LinkRegistration<T>`] installs them).
//!
//! # Private area
//!
//! A device created by [`register`] keeps a `PrivArea<T>` in its
//! `netdev_priv()` area: a header with `T`'s [`TypeId`] and a `live` flag,
//! then the data. It is written before the device gets rtun's `netdev_ops`,
//! and dropped by the `priv_destructor`, which the core runs only after the
//! last reference is gone. So every device whose ops are rtun's has live
//! private data for as long as a reference to it is held, and
//! [`NetDevice::data`] hands it out only as the type it was created with.
//! [`RtunNetDev<T>`] is a counted reference to such a device, and
//! [`DevSlot<T>`] publishes one to the data path the way C tun's
//! `tfile->tun` is published under RCU.
//!
//! # Fields read in place
//!
//! The Rust bindings see `struct net_device` as opaque. What the data path
//! reads of it per packet (the private area, `state`, `tx_queue_len`) is read
//! at offsets `include/rtun.h` gives as constants, not through a call.

use super::compat::{ARef, AlwaysRefCounted};
use super::ffi;
use super::netns::NetNs;
use super::rcu::{RcuRead, Retired};
use super::rtnl::{Rtnl, RtnlLocked};
use super::skb::Skb;
use super::xdp::{XdpFrames, XdpProg, XDP_XMIT_FLUSH};
use crate::pure::drops::ETH_GSTRING_LEN;
use crate::pure::iff::Kind;
use crate::pure::uapi::IFNAMSIZ;
use core::any::TypeId;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ops::Deref;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::alloc::{
    flags::{__GFP_ZERO, GFP_KERNEL},
    KBox,
};
use kernel::bindings;
use kernel::error::{
    code::{EBUSY, EINVAL, ENOMEM, ENXIO},
    to_result, Error, Result,
};
use kernel::ffi::{c_char, c_int};
use kernel::sync::Arc;
use kernel::types::Opaque;

// The pure layer's ethtool string size is the kernel's.
const _: () = assert!(ETH_GSTRING_LEN == bindings::ETH_GSTRING_LEN as usize);

/// Callbacks of the private data type `Self` of the devices a driver creates.
pub(crate) trait NetDevOps: Sized + Send + Sync + 'static {
    /// The device is being unregistered (`ndo_uninit`), with RTNL held.
    fn uninit(dev: &NetDevice, data: &Self, rtnl: &mut Rtnl);
    /// The device is brought up (`ndo_open`), with RTNL held.
    fn open(dev: &NetDevice, data: &Self) -> Result;
    /// The device is brought down (`ndo_stop`), with RTNL held.
    fn stop(dev: &NetDevice, data: &Self, rtnl: &Rtnl) -> Result;
    /// The stack hands over a packet to transmit (`ndo_start_xmit`), under RCU.
    ///
    /// Returns false if the packet was dropped.
    fn start_xmit(dev: &NetDevice, data: &Self, skb: Skb, rcu: &RcuRead) -> bool;
    /// Filters wanted features (`ndo_fix_features`), with RTNL held.
    fn fix_features(dev: &NetDevice, data: &Self, wanted: u64, rtnl: &Rtnl) -> u64;
    /// Returns the receive frame errors to add to the core statistics.
    fn rx_frame_errors(data: &Self) -> u64;
    /// The names of the device's ethtool statistics (`ethtool -S`,
    /// `ETH_SS_STATS`): ASCII, each shorter than `ETH_GSTRING_LEN`.
    const STATS_NAMES: &'static [&'static str];
    /// Writes the device's ethtool statistics into `out`, one for each of
    /// [`NetDevOps::STATS_NAMES`], in that order.
    fn stats(data: &Self, out: &mut [u64]);
    /// The transmit queue length changed, with RTNL held; an error makes
    /// the core restore the old length.
    fn tx_queue_len_changed(dev: &NetDevice, data: &Self, rtnl: &Rtnl) -> Result;
    /// Switches the carrier (`ndo_change_carrier`: `ip link set carrier`),
    /// with RTNL held.
    fn change_carrier(dev: &NetDevice, data: &Self, on: bool, rtnl: &Rtnl) -> Result;
    /// Returns the message level (ethtool's `get_msglevel`).
    fn msglevel(data: &Self) -> u32;
    /// Sets the message level (ethtool's `set_msglevel`).
    fn set_msglevel(data: &Self, level: u32);
    /// What sysfs (`tun_flags`, `owner`, `group`) and the rtnl link info
    /// (`IFLA_TUN_*`) show; called with or without RTNL.
    fn link_info(data: &Self) -> LinkInfo;
    /// ethtool's `rx-frames` (`get_coalesce`).
    fn rx_batched(data: &Self) -> u32;
    /// ethtool's `set_coalesce` with `rx-frames`.
    fn set_rx_batched(data: &Self, rx_frames: u32);
    /// The number of attached queues (ethtool's channels), with RTNL held.
    fn queues(data: &Self, rtnl: &Rtnl) -> u32;
    /// Picks the transmit queue of `skb` (`ndo_select_queue`), under RCU;
    /// the core asks only when the device has more than one.
    fn select_queue(dev: &NetDevice, data: &Self, skb: &Skb, rcu: &RcuRead) -> u16;
    /// The device came up (`NETDEV_UP`), with RTNL held.
    fn up(dev: &NetDevice, data: &Self, rtnl: &Rtnl);
    /// The error `ip link add type <kind>` gets (the link kind's `validate`).
    fn newlink_error() -> Error;
    /// `ndo_bpf`'s `XDP_SETUP_PROG` (TAP devices), with RTNL held: `prog`
    /// replaces the device's XDP program (or removes it); cannot fail.
    fn xdp_setup(dev: &NetDevice, data: &Self, prog: XdpProg, rtnl: &mut Rtnl);
    /// `ndo_xdp_xmit` (TAP devices), under RCU with bottom halves off:
    /// queues what it can of `frames` for the device's readers, woken if
    /// `flush`. Returns how many it queued, or an error (the core gives the
    /// frames back).
    fn xdp_xmit(
        dev: &NetDevice,
        data: &Self,
        frames: &XdpFrames<'_>,
        flush: bool,
        rcu: &RcuRead,
    ) -> Result<i32>;
}

/// What a device shows in sysfs and in its rtnl link info.
pub(crate) struct LinkInfo {
    /// C's `tun_flags()`: `IFF_TUN`/`IFF_TAP`, the features, `IFF_PERSIST`.
    pub(crate) flags: u16,
    /// The owner's kernel uid, if set.
    pub(crate) owner: Option<u32>,
    /// The group's kernel gid, if set.
    pub(crate) group: Option<u32>,
    /// Active and detached queues (`IFLA_TUN_NUM_QUEUES`,
    /// `IFLA_TUN_NUM_DISABLED_QUEUES`, shown for multiqueue devices).
    pub(crate) queues: (u32, u32),
}

/// How a device's link layer is set up.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Ethernet (`ether_setup()`, TAP's ops table, a random MAC address).
    Ether,
    /// None: IP packets (TUN's ops table, IP tunnel header ops).
    Ip,
}

/// How a new device is set up; applied as is by the shim after the
/// framing's own set-up.
pub(crate) struct DevConfig {
    /// Framing, which also picks the ops table.
    pub(crate) framing: Framing,
    /// `hw_features`.
    pub(crate) hw_features: u64,
    /// `features`.
    pub(crate) features: u64,
    /// `vlan_features`.
    pub(crate) vlan_features: u64,
    /// `hw_enc_features`.
    pub(crate) hw_enc_features: u64,
    /// `flags` (`IFF_*` of `enum net_device_flags`).
    pub(crate) flags: u32,
    /// `priv_flags` bits to set.
    pub(crate) priv_flags_set: u32,
    /// `priv_flags` bits to clear.
    pub(crate) priv_flags_clear: u32,
    /// `mtu`.
    pub(crate) mtu: u32,
    /// `min_mtu`.
    pub(crate) min_mtu: u32,
    /// `max_mtu`.
    pub(crate) max_mtu: u32,
    /// `tx_queue_len`.
    pub(crate) tx_queue_len: u32,
    /// `type` (`ARPHRD_*`).
    pub(crate) type_: u16,
    /// `hard_header_len`.
    pub(crate) hard_header_len: u16,
    /// `addr_len`.
    pub(crate) addr_len: u8,
    /// `lltx`: the driver takes no transmit lock of the core's.
    pub(crate) lltx: bool,
    /// `ifindex` (`TUNSETIFINDEX`); 0 lets the core choose.
    pub(crate) ifindex: i32,
    /// Transmit and receive queues the device is allocated with.
    pub(crate) queues: u32,
}

impl DevConfig {
    /// Returns the boundary struct the shim applies.
    fn to_raw(&self) -> ffi::rtun_netdev_cfg {
        ffi::rtun_netdev_cfg {
            hw_features: self.hw_features,
            features: self.features,
            vlan_features: self.vlan_features,
            hw_enc_features: self.hw_enc_features,
            flags: self.flags,
            priv_flags_set: self.priv_flags_set,
            priv_flags_clear: self.priv_flags_clear,
            mtu: self.mtu,
            min_mtu: self.min_mtu,
            max_mtu: self.max_mtu,
            tx_queue_len: self.tx_queue_len,
            type_: self.type_,
            hard_header_len: self.hard_header_len,
            addr_len: self.addr_len,
            ether: u8::from(self.framing == Framing::Ether),
            lltx: u8::from(self.lltx),
            ifindex: self.ifindex,
        }
    }
}

/// The part of the private area every rtun device has, whatever its `T`.
#[repr(C)]
struct PrivHeader {
    /// The type of the data that follows, checked before it is handed out.
    ty: TypeId,
    /// Whether the data is initialised; cleared when it is dropped.
    live: bool,
}

/// The layout of the private area of every device rtun creates.
#[repr(C)]
struct PrivArea<T> {
    hdr: PrivHeader,
    data: MaybeUninit<T>,
}

impl<T> PrivArea<T> {
    /// The size of the private area, for `rtnl_link_ops.priv_size`.
    const SIZE: usize = {
        // `netdev_priv()` is aligned to NETDEV_ALIGN (32 bytes).
        assert!(core::mem::align_of::<Self>() <= 32);
        core::mem::size_of::<Self>()
    };
}

// The pure layer's feature bits must be the kernel's.
const _: () = {
    use crate::pure::features as f;
    assert!(f::NETIF_F_SG == 1 << bindings::NETIF_F_SG_BIT);
    assert!(f::NETIF_F_HW_CSUM == 1 << bindings::NETIF_F_HW_CSUM_BIT);
    assert!(f::NETIF_F_HIGHDMA == 1 << bindings::NETIF_F_HIGHDMA_BIT);
    assert!(f::NETIF_F_FRAGLIST == 1 << bindings::NETIF_F_FRAGLIST_BIT);
    assert!(f::NETIF_F_HW_VLAN_CTAG_TX == 1 << bindings::NETIF_F_HW_VLAN_CTAG_TX_BIT);
    assert!(f::NETIF_F_TSO == 1 << bindings::NETIF_F_TSO_BIT);
    assert!(f::NETIF_F_TSO_ECN == 1 << bindings::NETIF_F_TSO_ECN_BIT);
    assert!(f::NETIF_F_TSO6 == 1 << bindings::NETIF_F_TSO6_BIT);
    assert!(f::NETIF_F_GSO_UDP_L4 == 1 << bindings::NETIF_F_GSO_UDP_L4_BIT);
    assert!(f::NETIF_F_GSO_UDP_TUNNEL == 1 << bindings::NETIF_F_GSO_UDP_TUNNEL_BIT);
    assert!(f::NETIF_F_GSO_UDP_TUNNEL_CSUM == 1 << bindings::NETIF_F_GSO_UDP_TUNNEL_CSUM_BIT);
    assert!(f::NETIF_F_HW_VLAN_STAG_TX == 1 << bindings::NETIF_F_HW_VLAN_STAG_TX_BIT);
};

/// `NETDEV_TX_OK`: the skb was consumed.
const NETDEV_TX_OK: c_int = 0;
/// `NET_XMIT_DROP`: the skb was consumed and dropped, which the sender sees.
const NET_XMIT_DROP: c_int = 1;

/// A `struct net_device`.
///
/// # Invariants
///
/// A `&NetDevice` always points to a live `struct net_device`: it is made
/// only from a counted reference ([`ARef`]), from a callback's argument for
/// the duration of the callback, or from a lookup under RTNL for as long as
/// the RTNL token is borrowed.
#[repr(transparent)]
pub(crate) struct NetDevice(Opaque<bindings::net_device>);

// SAFETY: `struct net_device` is used from any thread; all access here goes
// through thread-safe kernel helpers or is serialised by RTNL.
unsafe impl Send for NetDevice {}
// SAFETY: as above, shared references only reach thread-safe operations.
unsafe impl Sync for NetDevice {}

// SAFETY: `dev_hold()`/`dev_put()` keep the device's memory alive; the core
// frees it only after the count drops.
unsafe impl AlwaysRefCounted for NetDevice {
    fn inc_ref(&self) {
        // SAFETY: `self` is live by the type invariant.
        unsafe { ffi::rtun_netdev_hold(self.as_ptr()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller owns a reference, taken with `dev_hold()`.
        unsafe { ffi::rtun_netdev_put(obj.as_ptr().cast()) };
    }
}

impl NetDevice {
    /// Turns a callback's device pointer into a reference.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live `struct net_device` for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::net_device) -> &'a Self {
        // SAFETY: `NetDevice` is a transparent wrapper; liveness is the caller's promise.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns the raw pointer for calls into C.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net_device {
        self.0.get()
    }

    /// Returns the kind of rtun device this is, or `None` for any other device.
    pub(crate) fn kind(&self) -> Option<Kind> {
        // SAFETY: `self` is live; the shim only compares the ops pointer.
        match unsafe { ffi::rtun_netdev_kind(self.as_ptr()) } as u32 {
            ffi::RTUN_KIND_TUN => Some(Kind::Tun),
            ffi::RTUN_KIND_TAP => Some(Kind::Tap),
            _ => None,
        }
    }

    /// Returns the address of a field at `offset` bytes into the device.
    fn field<T>(&self, offset: usize) -> *const T {
        self.as_ptr().cast::<u8>().wrapping_add(offset).cast::<T>()
    }

    /// Returns the device's private data if rtun created it with data of type `T`.
    pub(crate) fn data<T: NetDevOps>(&self) -> Option<&T> {
        self.kind()?;
        // SAFETY: the device is live and has rtun's ops.
        let hdr = unsafe { &*self.priv_area().cast::<PrivHeader>() };
        if hdr.ty != TypeId::of::<T>() {
            return None;
        }
        // SAFETY: the device is rtun's and its data is a `T`.
        unsafe { self.data_unchecked() }
    }

    /// Returns the address of the private area (`netdev_priv()`).
    fn priv_area(&self) -> *const u8 {
        let off = ffi::RTUN_NETDEV_PRIV as usize;
        self.field::<u8>(off)
    }

    /// Returns the private data, which the caller knows is a live `T`'s.
    ///
    /// # Safety
    ///
    /// The device must be one rtun created (its ops are rtun's) with
    /// private data of type `T`.
    unsafe fn data_unchecked<T>(&self) -> Option<&T> {
        // SAFETY: the device is live and rtun's, with data of type `T`, so
        // (see the module docs) its private area holds a `PrivArea<T>`,
        // whose `live` stays as it is while `self` is borrowed.
        let area = unsafe { &*self.priv_area().cast::<PrivArea<T>>() };
        // SAFETY: `live` is set, so `data` is initialised.
        area.hdr
            .live
            .then(|| unsafe { area.data.assume_init_ref() })
    }

    /// Logs `args` at `KERN_INFO` under the device's name, as
    /// `netdev_info()`; cut to [`LogLine::MAX`] bytes.
    pub(crate) fn info(&self, args: core::fmt::Arguments<'_>) {
        let mut line = LogLine::new();
        // A message longer than the line is cut, not refused.
        let _ = core::fmt::write(&mut line, args);
        // SAFETY: `self` is live; the line is NUL-terminated.
        unsafe { ffi::rtun_netdev_info(self.as_ptr(), line.as_ptr()) };
    }

    /// Returns the interface name, NUL-padded.
    pub(crate) fn name(&self) -> [u8; IFNAMSIZ] {
        let mut buf = [0u8; IFNAMSIZ];
        // SAFETY: `self` is live; `buf` has room for IFNAMSIZ bytes.
        unsafe { ffi::rtun_netdev_name(self.as_ptr(), buf.as_mut_ptr().cast::<c_char>()) };
        buf
    }

    /// Returns whether the device is administratively up (`netif_running()`).
    pub(crate) fn is_running(&self) -> bool {
        let off = ffi::RTUN_NETDEV_STATE as usize;
        // SAFETY: `self` is live and `state` is an aligned `unsigned long`
        // (checked by the shim); the core changes its bits atomically, and a
        // volatile load reads it once, as `test_bit()` does.
        let state = unsafe { ptr::read_volatile(self.field::<usize>(off)) };
        state & (1 << ffi::RTUN_LINK_STATE_START) != 0
    }

    /// Switches the carrier on or off.
    pub(crate) fn set_carrier(&self, on: bool) {
        // SAFETY: `self` is live; carrier changes may happen in any context.
        unsafe { ffi::rtun_netif_carrier(self.as_ptr(), on) };
    }

    /// Tells the core how many transmit and receive queues are in use
    /// (`netif_set_real_num_{tx,rx}_queues()`); 0 is refused and changes
    /// nothing, as in C.
    pub(crate) fn set_real_queues(&self, n: u32, _rtnl: &mut Rtnl) {
        // SAFETY: `self` is live and RTNL is held, as the core requires for
        // a registered device.
        unsafe { ffi::rtun_netdev_set_real_queues(self.as_ptr(), n) };
    }

    /// Starts the transmit queues.
    pub(crate) fn tx_start(&self) {
        // SAFETY: `self` is live.
        unsafe { ffi::rtun_netif_tx_start(self.as_ptr()) };
    }

    /// Stops the transmit queues.
    pub(crate) fn tx_stop(&self) {
        // SAFETY: `self` is live.
        unsafe { ffi::rtun_netif_tx_stop(self.as_ptr()) };
    }

    /// Wakes the transmit queues.
    pub(crate) fn tx_wake(&self) {
        // SAFETY: `self` is live.
        unsafe { ffi::rtun_netif_tx_wake(self.as_ptr()) };
    }

    /// Counts one packet dropped on receive.
    pub(crate) fn rx_dropped_inc(&self) {
        // SAFETY: `self` is live; the core stats are per-CPU and lock-free.
        unsafe { ffi::rtun_dev_rx_dropped_inc(self.as_ptr()) };
    }

    /// Returns the transmit queue length (`dev->tx_queue_len`).
    pub(crate) fn tx_queue_len(&self) -> u32 {
        let off = ffi::RTUN_NETDEV_TX_QUEUE_LEN as usize;
        // SAFETY: `self` is live and `tx_queue_len` is an aligned `unsigned
        // int` (checked by the shim); RTNL writers change it with one store,
        // read once here as C's `READ_ONCE()` does.
        unsafe { ptr::read_volatile(self.field::<u32>(off)) }
    }

    /// Returns the device's current features (`dev->features`).
    pub(crate) fn features(&self) -> u64 {
        // SAFETY: `self` is live; the shim reads the field with `READ_ONCE()`,
        // as the data path of C reads it without RTNL.
        unsafe { ffi::rtun_netdev_features(self.as_ptr()) }
    }

    /// Returns the features the user asked for (`dev->wanted_features`).
    pub(crate) fn wanted_features(&self, _rtnl: &Rtnl) -> u64 {
        // SAFETY: `self` is live; RTNL serialises writers of the field.
        unsafe { ffi::rtun_netdev_wanted_features(self.as_ptr()) }
    }

    /// Sets `dev->wanted_features`; [`NetDevice::update_features`] applies it.
    pub(crate) fn set_wanted_features(&self, features: u64, _rtnl: &mut Rtnl) {
        // SAFETY: `self` is live and RTNL is held, as writers of the field need.
        unsafe { ffi::rtun_netdev_set_wanted_features(self.as_ptr(), features) };
    }

    /// Recomputes the features through `ndo_fix_features` (`netdev_update_features()`).
    pub(crate) fn update_features(&self, _rtnl: &mut Rtnl) {
        // SAFETY: `self` is live and RTNL is held; this calls `ndo_fix_features`,
        // hence `&mut Rtnl`.
        unsafe { ffi::rtun_netdev_update_features(self.as_ptr()) };
    }

    /// Counts one packet dropped on transmit.
    pub(crate) fn tx_dropped_inc(&self) {
        // SAFETY: `self` is live; the core stats are per-CPU and lock-free.
        unsafe { ffi::rtun_dev_tx_dropped_inc(self.as_ptr()) };
    }

    /// Tells listeners that the device's state changed.
    pub(crate) fn state_change(&self, _rtnl: &mut Rtnl) {
        // SAFETY: `self` is live and RTNL is held, as `netdev_state_change()` requires.
        unsafe { ffi::rtun_netdev_state_change(self.as_ptr()) };
    }

    /// Unregisters the device; it is freed once the last reference is dropped.
    pub(crate) fn unregister(&self, _rtnl: &mut Rtnl) {
        // SAFETY: `self` is live and registered, and RTNL is held. This may call
        // `ndo_uninit`, which makes its own token: `&mut Rtnl` ensures no
        // `RtnlLocked` borrow is alive across the call.
        unsafe { ffi::rtun_netdev_unregister(self.as_ptr()) };
    }

    /// Returns whether the device is administratively up (`IFF_UP` in
    /// `dev->flags`); RTNL serialises the writers of the flags.
    pub(crate) fn is_up(&self, _rtnl: &Rtnl) -> bool {
        // SAFETY: `self` is live and RTNL is held.
        let flags = unsafe { ffi::rtun_netdev_flags(self.as_ptr()) };
        flags & bindings::net_device_flags_IFF_UP != 0
    }

    /// Returns whether the caller has `CAP_NET_ADMIN` in the user namespace
    /// of the device's network namespace (`ns_capable()`).
    pub(crate) fn admin_capable(&self, _rtnl: &Rtnl) -> bool {
        // SAFETY: `self` is live; RTNL keeps it in its namespace meanwhile.
        unsafe { ffi::rtun_netdev_admin_capable(self.as_ptr()) }
    }

    /// Changes the link type and address length, if the netdevice
    /// notifiers allow it (`NETDEV_PRE_TYPE_CHANGE`, whose veto is the
    /// error), then tells them (`NETDEV_POST_TYPE_CHANGE`).
    pub(crate) fn set_link_type(&self, ty: u16, addr_len: u8, _rtnl: &mut Rtnl) -> Result {
        // SAFETY: `self` is live and RTNL is held, as the notifier chain
        // requires. The notifiers include rtun's own, which makes its own
        // token: `&mut Rtnl` ensures no `RtnlLocked` borrow is alive.
        to_result(unsafe { ffi::rtun_netdev_set_type(self.as_ptr(), ty, addr_len) })
    }

    /// Returns the hardware address length (`dev->addr_len`).
    pub(crate) fn addr_len(&self, _rtnl: &Rtnl) -> u32 {
        // SAFETY: `self` is live and RTNL serialises the writers.
        unsafe { ffi::rtun_netdev_addr_len(self.as_ptr()) }
    }

    /// `SIOCGIFHWADDR`: fills the `struct sockaddr` `sa` with the link type
    /// and address of the device of this name in its namespace
    /// (`dev_get_mac_address()`).
    pub(crate) fn get_hwaddr(&self, sa: &mut [u8; 16], _rtnl: &Rtnl) -> Result {
        // SAFETY: `self` is live, RTNL is held, and `sa` has the 16 bytes
        // of a `struct sockaddr`.
        to_result(unsafe { ffi::rtun_netdev_get_hwaddr(self.as_ptr(), sa.as_mut_ptr()) })
    }

    /// `SIOCSIFHWADDR`: sets the address from the `struct sockaddr` `sa`
    /// (`dev_set_mac_address_user()`: family, validity, notifiers).
    pub(crate) fn set_hwaddr(&self, sa: &[u8; 16], _rtnl: &mut Rtnl) -> Result {
        // SAFETY: `self` is live and RTNL is held; `sa` has 16 bytes. The
        // notifiers include rtun's, hence `&mut Rtnl`.
        to_result(unsafe { ffi::rtun_netdev_set_hwaddr(self.as_ptr(), sa.as_ptr()) })
    }

    /// `TUNGETDEVNETNS`: opens a file descriptor of the device's current
    /// network namespace (`open_related_ns()`), which is returned.
    pub(crate) fn open_net_fd(&self, _rtnl: &Rtnl) -> Result<i32> {
        // SAFETY: `self` is live; RTNL keeps it in its namespace meanwhile;
        // process context (an ioctl).
        let fd = unsafe { ffi::rtun_netdev_net_open_fd(self.as_ptr()) };
        to_result(fd).map(|()| fd)
    }

    /// Looks a device up by name in `net`.
    pub(crate) fn get_by_name<'a>(
        net: &NetNs,
        name: &[u8; IFNAMSIZ],
        _rtnl: &'a Rtnl,
    ) -> Option<&'a NetDevice> {
        if name[IFNAMSIZ - 1] != 0 {
            return None;
        }
        // SAFETY: `net` is live, `name` is NUL-terminated, and RTNL is held.
        let raw = unsafe { ffi::rtun_netdev_get_by_name(net.as_ptr(), name.as_ptr().cast()) };
        // SAFETY: a registered device stays registered and allocated while RTNL
        // is held, which the borrow of the token ensures for 'a.
        NonNull::new(raw).map(|p| unsafe { NetDevice::from_raw(p.as_ptr()) })
    }
}

/// A counted reference to a device rtun created with private data of type `T`.
///
/// # Invariants
///
/// The device's ops are rtun's and its private area holds a live `T` (see
/// the module docs); the counted reference keeps both so.
pub(crate) struct RtunNetDev<T: NetDevOps> {
    dev: ARef<NetDevice>,
    _data: PhantomData<T>,
}

impl<T: NetDevOps> RtunNetDev<T> {
    /// Returns `dev` as a device with data `T`, or `None` if it is not one.
    pub(crate) fn new(dev: ARef<NetDevice>) -> Option<Self> {
        dev.data::<T>()?;
        // INVARIANT: checked just above.
        Some(Self {
            dev,
            _data: PhantomData,
        })
    }

    /// Returns the device's private data, without looking at its ops.
    ///
    /// The type invariant says the data is live; `None` would mean a broken
    /// invariant, which callers turn into an error rather than a panic.
    #[inline]
    pub(crate) fn data(&self) -> Option<&T> {
        // SAFETY: the device is rtun's, with data `T`, by the type invariant.
        unsafe { self.dev.data_unchecked() }
    }

    /// Gives up the reference, for a [`DevSlot`] to own.
    fn into_raw(self) -> *mut bindings::net_device {
        ARef::into_raw(self.dev).as_ptr().cast()
    }

    /// Takes back a reference given up with [`RtunNetDev::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` must come from `into_raw` (or be a device of this type with a
    /// counted reference), and that reference passes to the returned value.
    unsafe fn from_raw(ptr: NonNull<bindings::net_device>) -> Self {
        // SAFETY: the caller passes a counted reference to a live device.
        let dev = unsafe { ARef::from_raw(ptr.cast::<NetDevice>()) };
        // INVARIANT: the device is rtun's with data `T`, by the caller's promise.
        Self {
            dev,
            _data: PhantomData,
        }
    }
}

impl<T: NetDevOps> Deref for RtunNetDev<T> {
    type Target = NetDevice;

    fn deref(&self) -> &NetDevice {
        &self.dev
    }
}

/// A slot that publishes one device with data `T` to lockless readers.
///
/// Readers get a counted reference without a lock, as C's `tun_get()` does
/// under RCU; the slot changes only with RTNL held.
///
/// # Invariants
///
/// `ptr` is null or owns one counted reference to an rtun device with data
/// `T`. A device taken out of the slot keeps that reference until
/// `synchronize_net()` has returned, so a reader that saw the pointer under
/// RCU can still take its own reference.
pub(crate) struct DevSlot<T: NetDevOps> {
    ptr: AtomicPtr<bindings::net_device>,
    _data: PhantomData<T>,
}

// SAFETY: the slot hands out counted references, which any thread may own.
unsafe impl<T: NetDevOps> Send for DevSlot<T> {}
// SAFETY: readers use RCU and an atomic load; writers are serialised by RTNL.
unsafe impl<T: NetDevOps> Sync for DevSlot<T> {}

impl<T: NetDevOps> DevSlot<T> {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        // INVARIANT: null.
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
            _data: PhantomData,
        }
    }

    /// Returns a counted reference to the published device, if any.
    #[inline]
    pub(crate) fn get(&self) -> Option<RtunNetDev<T>> {
        // SAFETY: the shim reads the slot with `rcu_dereference()` inside an
        // RCU read-side section and takes a reference before leaving it; by
        // the type invariant the device is then still referenced by the slot
        // or by a writer waiting in `synchronize_net()`.
        let raw = unsafe { ffi::rtun_netdev_get_rcu(self.ptr.as_ptr()) };
        // SAFETY: a non-null result is a device of this type with a
        // reference for us.
        NonNull::new(raw).map(|p| unsafe { RtunNetDev::from_raw(p) })
    }

    /// Returns whether a device is published; RTNL keeps the answer valid.
    pub(crate) fn is_set(&self, _rtnl: &Rtnl) -> bool {
        !self.ptr.load(Ordering::Relaxed).is_null()
    }

    /// Publishes `new` and returns the old device once no reader can see it.
    ///
    /// May sleep (`synchronize_net()`) when there was an old device.
    pub(crate) fn replace(
        &self,
        new: Option<RtunNetDev<T>>,
        _rtnl: &mut Rtnl,
    ) -> Option<RtunNetDev<T>> {
        let newp = new.map_or(ptr::null_mut(), RtunNetDev::into_raw);
        // The release ordering publishes the device as `rcu_assign_pointer()`.
        // INVARIANT: `newp` is null or owns its reference.
        let old = NonNull::new(self.ptr.swap(newp, Ordering::AcqRel))?;
        super::rcu::synchronize_net();
        // SAFETY: `old` owned a reference, and no reader can find it any more.
        Some(unsafe { RtunNetDev::from_raw(old) })
    }
}

impl<T: NetDevOps> DevSlot<T> {
    /// Empties the slot and releases `retired` (a value taken out of an
    /// `RcuSlots`) with it, after one grace period for both instead of
    /// one each, as C's `__tun_detach()` clears `tfile->tun` and its slot
    /// of `tfiles[]` before one `synchronize_net()`.
    pub(crate) fn take_with<U>(
        &self,
        retired: Retired<U>,
        _rtnl: &mut Rtnl,
    ) -> (Option<RtunNetDev<T>>, Arc<U>) {
        // INVARIANT: null; the old pointer's reference goes below.
        let old = NonNull::new(self.ptr.swap(ptr::null_mut(), Ordering::AcqRel));
        let value = retired.into_raw();
        super::rcu::synchronize_net();
        // SAFETY: `old` owned a reference, and after the grace period no
        // reader can find it any more.
        let dev = old.map(|p| unsafe { RtunNetDev::from_raw(p) });
        // SAFETY: `value` came from `Arc::into_raw` (a `Retired` owns such
        // a pointer) and was unpublished before the grace period.
        (dev, unsafe { Arc::from_raw(value.as_ptr()) })
    }
}

impl<T: NetDevOps> DevSlot<T> {
    /// As [`DevSlot::take_with`], for one of many: the slot is emptied and
    /// `retired` unpublished now, both released by `batch` after the one
    /// grace period it waits for.
    ///
    /// Returns the value at once, after a grace period of its own, when
    /// the batch has no room for it (full, or its list could not be
    /// allocated).
    pub(crate) fn take_into<U>(
        &self,
        retired: Retired<U>,
        batch: &mut TakeBatch<T, U>,
        rtnl: &mut Rtnl,
    ) -> Option<Arc<U>> {
        let Some(item) = batch
            .items
            .as_mut()
            .and_then(|items| items.get_mut(batch.len))
        else {
            return Some(self.take_with(retired, rtnl).1);
        };
        // INVARIANT: null; the old pointer's reference goes into the batch.
        let old = self.ptr.swap(ptr::null_mut(), Ordering::AcqRel);
        *item = (old, retired.into_raw().as_ptr());
        batch.len += 1;
        None
    }
}

/// Device slots emptied and values unpublished one after another
/// ([`DevSlot::take_into`]), released after one grace period for all: C's
/// `tun_detach_all()` clears every queue's `tfile->tun` and slot, then
/// calls `synchronize_net()` once, where one call per queue would hold
/// RTNL for as many grace periods as the device has queues.
///
/// # Invariants
///
/// The first `len` items each hold a device pointer that owns one counted
/// reference to a device with data `T` (or null) and a pointer from
/// `Arc::<U>::into_raw` that owns its reference; both were unpublished
/// before they were added, and are released only after
/// `synchronize_net()`.
pub(crate) struct TakeBatch<T: NetDevOps, U> {
    items: Option<KBox<[TakePair<U>; TAKE_BATCH]>>,
    len: usize,
    _data: PhantomData<(T, Arc<U>)>,
}

/// A device pointer and a value of a [`TakeBatch`].
type TakePair<U> = (*mut bindings::net_device, *const U);

/// Pairs a [`TakeBatch`] holds: a device's files, active and detached,
/// are at most C's `MAX_TAP_QUEUES` together (`tun_attach()`).
const TAKE_BATCH: usize = crate::pure::iff::MAX_TAP_QUEUES as usize;

impl<T: NetDevOps, U> TakeBatch<T, U> {
    /// An empty batch, with room for a device's files unless that cannot
    /// be allocated (each pair then waits for a grace period of its own).
    pub(crate) fn new() -> Self {
        let items = KBox::<[TakePair<U>; TAKE_BATCH]>::new_uninit(GFP_KERNEL | __GFP_ZERO)
            .ok()
            // SAFETY: the memory is zeroed, and a pair of null raw pointers
            // is all zero bits.
            .map(|zeroed| unsafe { zeroed.assume_init() });
        // INVARIANT: no item counts yet.
        Self {
            items,
            len: 0,
            _data: PhantomData,
        }
    }

    /// Waits for one grace period, releases the device references and
    /// hands each value to `f`, in the order they were added.
    pub(crate) fn finish(mut self, mut f: impl FnMut(Arc<U>)) {
        self.release(&mut f);
    }

    /// The body of [`TakeBatch::finish`] and of `drop()`.
    fn release(&mut self, f: &mut impl FnMut(Arc<U>)) {
        let len = core::mem::replace(&mut self.len, 0);
        let Some(items) = self.items.as_ref() else {
            return;
        };
        if len == 0 {
            return;
        }
        super::rcu::synchronize_net();
        for &(old, value) in items.iter().take(len) {
            if let Some(old) = NonNull::new(old) {
                // SAFETY: `old` owned a reference and was unpublished
                // before the grace period (type invariant).
                drop(unsafe { RtunNetDev::<T>::from_raw(old) });
            }
            // SAFETY: `value` came from `Arc::<U>::into_raw` and was
            // unpublished before the grace period (type invariant).
            f(unsafe { Arc::from_raw(value) });
        }
    }
}

impl<T: NetDevOps, U> Drop for TakeBatch<T, U> {
    fn drop(&mut self) {
        // Not finished: release everything after a grace period all the
        // same.
        self.release(&mut drop);
    }
}

impl<T: NetDevOps> Drop for DevSlot<T> {
    fn drop(&mut self) {
        if let Some(p) = NonNull::new(*self.ptr.get_mut()) {
            // SAFETY: the slot is being dropped, so no reader can look at it;
            // the pointer owns one reference.
            drop(unsafe { RtunNetDev::<T>::from_raw(p) });
        }
    }
}

/// One log message, formatted on the stack and NUL-terminated.
struct LogLine {
    buf: [u8; LogLine::MAX + 1],
    len: usize,
}

impl LogLine {
    /// The longest message kept; the rest is cut.
    const MAX: usize = 95;

    fn new() -> Self {
        Self {
            buf: [0; LogLine::MAX + 1],
            len: 0,
        }
    }

    fn as_ptr(&self) -> *const c_char {
        self.buf.as_ptr().cast()
    }
}

impl core::fmt::Write for LogLine {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // The last byte stays NUL; a NUL in `s` would end the message early.
        let room = self.buf.iter_mut().take(LogLine::MAX).skip(self.len);
        let mut n: usize = 0;
        for (dst, src) in room.zip(s.bytes()) {
            *dst = src;
            n = n.saturating_add(1);
        }
        // At most `MAX` in all: `room` ends there.
        self.len = self.len.saturating_add(n);
        Ok(())
    }
}

/// Returns whether a networking message may be printed now (`net_ratelimit()`).
pub(crate) fn net_ratelimit() -> bool {
    // SAFETY: `net_ratelimit()` may be called in any context.
    unsafe { bindings::net_ratelimit() != 0 }
}

/// Creates and registers a device named `name` in `net`, with private data `data`.
///
/// `name` may contain `%d`. Returns a counted reference to the device.
/// Fails with `EINVAL` unless a [`LinkRegistration<T>`] is alive.
pub(crate) fn register<T: NetDevOps>(
    rtnl: &mut Rtnl,
    net: &NetNs,
    name: &[u8; IFNAMSIZ],
    cfg: &DevConfig,
    data: T,
) -> Result<RtunNetDev<T>> {
    if name[IFNAMSIZ - 1] != 0 || *LINK_TYPE.borrow(rtnl) != Some(TypeId::of::<T>()) {
        return Err(EINVAL);
    }
    // SAFETY: `name` is NUL-terminated; the shim allocates the private area
    // registered by the live `LinkRegistration<T>` (checked above), which
    // starts with `PrivArea::<T>::SIZE` bytes for the area written below.
    let raw = unsafe { ffi::rtun_netdev_alloc(name.as_ptr().cast(), cfg.queues) };
    let raw = NonNull::new(raw).ok_or(ENOMEM)?.as_ptr();
    // SAFETY: `raw` is a fresh device whose private area starts with
    // `PrivArea::<T>::SIZE` bytes, aligned to 32 (checked by
    // `PrivArea::SIZE`), and not yet visible to anyone else.
    let area = unsafe { ffi::rtun_netdev_priv(raw) }.cast::<PrivArea<T>>();
    // SAFETY: as above; the area is uninitialised (zeroed) memory we own.
    unsafe {
        area.write(PrivArea {
            hdr: PrivHeader {
                ty: TypeId::of::<T>(),
                live: true,
            },
            data: MaybeUninit::new(data),
        })
    };
    let raw_cfg = cfg.to_raw();
    // SAFETY: `raw` and `net` are live; this installs rtun's ops, which the
    // live `LinkRegistration<T>` (checked above) filled with `Adapter<T>`,
    // now that the private area holds a `T`, as the module invariant
    // requires.
    unsafe { ffi::rtun_netdev_configure(raw, net.as_ptr(), &raw_cfg) };
    // SAFETY: RTNL is held; `raw` is fully set up. This may call `ndo_uninit`
    // and the destructor on failure, hence `&mut Rtnl`.
    let ret: c_int = unsafe { ffi::rtun_netdev_register(raw) };
    if ret < 0 {
        // SAFETY: registration failed, so nobody else holds the device; the
        // destructor may or may not have run, which `live` records.
        unsafe {
            drop_priv::<T>(area);
            ffi::rtun_netdev_free(raw);
        }
        return Err(Error::from_errno(ret));
    }
    // SAFETY: the device is registered and cannot be freed before RTNL is
    // released, which `rtnl` proves it is not.
    let dev = unsafe { NetDevice::from_raw(raw) };
    // INVARIANT: the device has rtun's ops and a live `T` in its private area.
    Ok(RtunNetDev {
        dev: ARef::from(dev),
        _data: PhantomData,
    })
}

/// Drops the private data in `area` if it is still live.
///
/// # Safety
///
/// `area` must point to a `PrivArea<T>` that no one else is using.
unsafe fn drop_priv<T>(area: *mut PrivArea<T>) {
    // SAFETY: the caller guarantees exclusive access.
    let area = unsafe { &mut *area };
    if area.hdr.live {
        area.hdr.live = false;
        // SAFETY: `live` was set, so `data` is initialised; it is never used again.
        unsafe { area.data.assume_init_drop() };
    }
}

/// The data type whose `Adapter<T>` fills the shim's ops tables, while a
/// [`LinkRegistration<T>`] lives.
static LINK_TYPE: RtnlLocked<Option<TypeId>> = RtnlLocked::new(None);

/// Keeps the rtnl link kind and the netdevice notifier registered for
/// devices with data `T`; unregistering the kind removes every device.
///
/// Devices are only created through [`register`], which checks that the
/// ops tables hold `Adapter<T>`'s trampolines.
pub(crate) struct LinkRegistration<T: NetDevOps>(PhantomData<T>);

impl<T: NetDevOps> LinkRegistration<T> {
    /// Registers the link kind and the notifier; `EBUSY` if a registration
    /// is alive already.
    pub(crate) fn new() -> Result<Self> {
        if LINK_TYPE.borrow(&Rtnl::lock()).is_some() {
            return Err(EBUSY);
        }
        // SAFETY: no registration is alive (checked above; module init runs
        // once), so no device of the kind exists; the shim copies the
        // function pointers into its static ops tables, registers its link
        // ops and notifier, and undoes both on failure.
        to_result(unsafe { ffi::rtun_link_register(PrivArea::<T>::SIZE, &Adapter::<T>::OPS) })?;
        *LINK_TYPE.borrow_mut(&mut Rtnl::lock()) = Some(TypeId::of::<T>());
        Ok(Self(PhantomData))
    }
}

impl<T: NetDevOps> Drop for LinkRegistration<T> {
    fn drop(&mut self) {
        *LINK_TYPE.borrow_mut(&mut Rtnl::lock()) = None;
        // SAFETY: registered in `new`, unregistered once here; this removes
        // every device of the kind, under RTNL, before it returns.
        unsafe { ffi::rtun_link_unregister() };
    }
}

/// The `net_device_ops` trampolines for devices with data `T`.
struct Adapter<T: NetDevOps>(PhantomData<T>);

impl<T: NetDevOps> Adapter<T> {
    /// The table [`LinkRegistration`] installs.
    const OPS: ffi::rtun_netdev_ops = ffi::rtun_netdev_ops {
        uninit: Some(Self::uninit),
        open: Some(Self::open),
        stop: Some(Self::stop),
        start_xmit: Some(Self::start_xmit),
        fix_features: Some(Self::fix_features),
        get_stats64: Some(Self::get_stats64),
        destruct: Some(Self::destruct),
        validate: Some(Self::validate),
        event: Some(Self::event),
        change_carrier: Some(Self::change_carrier),
        get_msglevel: Some(Self::get_msglevel),
        set_msglevel: Some(Self::set_msglevel),
        link_info: Some(Self::link_info),
        get_rx_batched: Some(Self::get_rx_batched),
        set_rx_batched: Some(Self::set_rx_batched),
        queues: Some(Self::queues),
        select_queue: Some(Self::select_queue),
        stats_count: Some(Self::stats_count),
        stats_strings: Some(Self::stats_strings),
        stats_values: Some(Self::stats_values),
        xdp_setup: Some(Self::xdp_setup),
        xdp_xmit: Some(Self::xdp_xmit),
    };

    /// Runs `f` on the device and its data, for a callback from rtun's
    /// own ops tables.
    ///
    /// # Safety
    ///
    /// `dev` must be live for the duration of the call, and its ops rtun's.
    #[inline(always)]
    unsafe fn with_own_dev<R>(
        dev: *mut bindings::net_device,
        default: R,
        f: impl FnOnce(&NetDevice, &T) -> R,
    ) -> R {
        // SAFETY: guaranteed by the caller.
        let dev = unsafe { NetDevice::from_raw(dev) };
        // SAFETY: the ops are rtun's, filled from this adapter, so the
        // private data is a `T`.
        match unsafe { dev.data_unchecked::<T>() } {
            Some(data) => f(dev, data),
            None => default,
        }
    }

    /// `priv_destructor`: the core is done with the device.
    ///
    /// # Safety
    ///
    /// Called by the core only, once, when no reference to a device that
    /// [`register`] initialised remains.
    unsafe extern "C" fn destruct(dev: *mut bindings::net_device) {
        // SAFETY: see above; the private area holds a `PrivArea<T>`.
        unsafe { drop_priv(ffi::rtun_netdev_priv(dev).cast::<PrivArea<T>>()) };
    }

    /// The netdevice notifier, for any device.
    ///
    /// # Safety
    ///
    /// Called by the shim's notifier only, with RTNL held and a live device.
    unsafe extern "C" fn event(event: c_int, dev: *mut bindings::net_device) -> c_int {
        // SAFETY: netdevice notifiers run with RTNL held, and the callee
        // only takes shared borrows.
        let rtnl = unsafe { Rtnl::assume_held() };
        // SAFETY: the device is live during the notifier call.
        let dev = unsafe { NetDevice::from_raw(dev) };
        let Some(data) = dev.data::<T>() else {
            return 0;
        };
        match event as u32 {
            ffi::RTUN_EVENT_TX_QUEUE_LEN => {
                T::tx_queue_len_changed(dev, data, &rtnl).map_or_else(|e| e.to_errno(), |()| 0)
            }
            ffi::RTUN_EVENT_UP => {
                T::up(dev, data, &rtnl);
                0
            }
            _ => 0,
        }
    }

    /// `ndo_uninit`.
    ///
    /// # Safety
    ///
    /// Called by the core only, with RTNL held, on a live device of this table.
    unsafe extern "C" fn uninit(dev: *mut bindings::net_device) {
        // SAFETY: the core calls `ndo_uninit` with RTNL held, and no other
        // token is in use by the code that called into the core (it passed
        // `&mut Rtnl`).
        let mut rtnl = unsafe { Rtnl::assume_held() };
        // SAFETY: as the function's contract says.
        unsafe { Self::with_own_dev(dev, (), |d, p| T::uninit(d, p, &mut rtnl)) }
    }

    /// The shim's sysfs attributes and `fill_info`.
    ///
    /// # Safety
    ///
    /// Called by the shim only, on a live device of this table, with a
    /// `struct rtun_link_info` to fill.
    unsafe extern "C" fn link_info(dev: *mut bindings::net_device, out: *mut ffi::rtun_link_info) {
        // SAFETY: as the function's contract says.
        let info = unsafe { Self::with_own_dev(dev, None, |_, p| Some(T::link_info(p))) };
        let info = info.unwrap_or(LinkInfo {
            flags: 0,
            owner: None,
            group: None,
            queues: (0, 0),
        });
        // SAFETY: `out` is valid for writes by the contract.
        unsafe {
            out.write(ffi::rtun_link_info {
                flags: info.flags,
                has_owner: u8::from(info.owner.is_some()),
                has_group: u8::from(info.group.is_some()),
                owner: info.owner.unwrap_or(0),
                group: info.group.unwrap_or(0),
                num_queues: info.queues.0,
                num_disabled: info.queues.1,
            })
        };
    }

    /// ethtool's `get_coalesce`.
    ///
    /// # Safety
    ///
    /// Called by the shim only, on a live device of this table.
    unsafe extern "C" fn get_rx_batched(dev: *mut bindings::net_device) -> u32 {
        // SAFETY: as the function's contract says.
        unsafe { Self::with_own_dev(dev, 0, |_, p| T::rx_batched(p)) }
    }

    /// ethtool's `set_coalesce`.
    ///
    /// # Safety
    ///
    /// Called by the shim only, on a live device of this table.
    unsafe extern "C" fn set_rx_batched(dev: *mut bindings::net_device, rx_frames: u32) {
        // SAFETY: as the function's contract says.
        unsafe { Self::with_own_dev(dev, (), |_, p| T::set_rx_batched(p, rx_frames)) }
    }

    /// ethtool's `get_channels`.
    ///
    /// # Safety
    ///
    /// Called by the shim only, with RTNL held (ethtool's ioctl and netlink
    /// requests hold it), on a live device of this table.
    unsafe extern "C" fn queues(dev: *mut bindings::net_device) -> u32 {
        // SAFETY: RTNL is held by the contract; the callee only takes
        // shared borrows.
        let rtnl = unsafe { Rtnl::assume_held() };
        // SAFETY: as the function's contract says.
        unsafe { Self::with_own_dev(dev, 0, |_, p| T::queues(p, &rtnl)) }
    }

    /// ethtool's `get_sset_count` for `ETH_SS_STATS`: how many statistics
    /// the devices of this table have.
    ///
    /// # Safety
    ///
    /// Called by the shim only; the device is not used.
    unsafe extern "C" fn stats_count(_dev: *mut bindings::net_device) -> c_int {
        c_int::try_from(T::STATS_NAMES.len()).unwrap_or(0)
    }

    /// ethtool's `get_strings` for `ETH_SS_STATS`: the names, each in an
    /// `ETH_GSTRING_LEN`-byte slot padded with NULs.
    ///
    /// # Safety
    ///
    /// Called by the shim only, with `data` valid for writes of
    /// `ETH_GSTRING_LEN` bytes for each of [`Self::stats_count`]'s
    /// statistics (the ethtool core sizes it by that count).
    unsafe extern "C" fn stats_strings(_dev: *mut bindings::net_device, data: *mut u8) {
        let slots = data.cast::<[u8; ETH_GSTRING_LEN]>();
        for (i, name) in T::STATS_NAMES.iter().enumerate() {
            let mut slot = [0u8; ETH_GSTRING_LEN];
            for (d, b) in slot.iter_mut().zip(name.bytes().take(ETH_GSTRING_LEN - 1)) {
                *d = b;
            }
            // SAFETY: `i` is below the count the buffer was sized for, by
            // the contract; a byte array needs no alignment.
            unsafe { slots.add(i).write(slot) };
        }
    }

    /// ethtool's `get_ethtool_stats`: the values, in the order of the names.
    ///
    /// # Safety
    ///
    /// Called by the shim only, on a live device of this table, with
    /// `data` valid for writes of one `u64` for each of
    /// [`Self::stats_count`]'s statistics (the ethtool core sizes it by
    /// that count).
    unsafe extern "C" fn stats_values(dev: *mut bindings::net_device, data: *mut u64) {
        // SAFETY: `data` is valid, aligned and ours for that many `u64`s by
        // the contract, and nothing else uses it during the call.
        let out = unsafe { core::slice::from_raw_parts_mut(data, T::STATS_NAMES.len()) };
        out.fill(0);
        // SAFETY: as the function's contract says.
        unsafe { Self::with_own_dev(dev, (), |_, p| T::stats(p, out)) }
    }

    /// ethtool's `get_msglevel`.
    ///
    /// # Safety
    ///
    /// Called by the core only, on a live device of this table.
    unsafe extern "C" fn get_msglevel(dev: *mut bindings::net_device) -> u32 {
        // SAFETY: as the function's contract says.
        unsafe { Self::with_own_dev(dev, 0, |_, p| T::msglevel(p)) }
    }

    /// ethtool's `set_msglevel`.
    ///
    /// # Safety
    ///
    /// Called by the core only, on a live device of this table.
    unsafe extern "C" fn set_msglevel(dev: *mut bindings::net_device, level: u32) {
        // SAFETY: as the function's contract says.
        unsafe { Self::with_own_dev(dev, (), |_, p| T::set_msglevel(p, level)) }
    }

    /// `ndo_change_carrier`.
    ///
    /// # Safety
    ///
    /// Called by the core only, with RTNL held, on a live device of this table.
    unsafe extern "C" fn change_carrier(dev: *mut bindings::net_device, on: bool) -> c_int {
        // SAFETY: the core calls `ndo_change_carrier` with RTNL held, and
        // the callee only takes shared borrows.
        let rtnl = unsafe { Rtnl::assume_held() };
        // SAFETY: as the function's contract says.
        unsafe { Self::with_own_dev(dev, Ok(()), |d, p| T::change_carrier(d, p, on, &rtnl)) }
            .map_or_else(|e| e.to_errno(), |()| 0)
    }

    /// `ndo_open`.
    ///
    /// # Safety
    ///
    /// Called by the core only, on a live device of this table.
    unsafe extern "C" fn open(dev: *mut bindings::net_device) -> c_int {
        // SAFETY: as the function's contract says.
        unsafe { Self::with_own_dev(dev, Ok(()), T::open) }.map_or_else(|e| e.to_errno(), |()| 0)
    }

    /// `ndo_stop`.
    ///
    /// # Safety
    ///
    /// Called by the core only, on a live device of this table.
    unsafe extern "C" fn stop(dev: *mut bindings::net_device) -> c_int {
        // SAFETY: the core calls `ndo_stop` with RTNL held, and the callee
        // only takes shared borrows.
        let rtnl = unsafe { Rtnl::assume_held() };
        // SAFETY: as the function's contract says.
        unsafe { Self::with_own_dev(dev, Ok(()), |d, p| T::stop(d, p, &rtnl)) }
            .map_or_else(|e| e.to_errno(), |()| 0)
    }

    /// `ndo_start_xmit`.
    ///
    /// # Safety
    ///
    /// Called by the core only, under `rcu_read_lock_bh()`, with an skb it
    /// passes ownership of and a live device of this table.
    unsafe extern "C" fn start_xmit(
        skb: *mut bindings::sk_buff,
        dev: *mut bindings::net_device,
    ) -> ffi::netdev_tx_t {
        // SAFETY: the core passes ownership of a valid skb.
        let skb = unsafe { Skb::from_raw(skb) };
        // SAFETY: the core calls `ndo_start_xmit` under `rcu_read_lock_bh()`.
        let rcu = unsafe { RcuRead::assume_held() };
        // SAFETY: as the function's contract says. If the data were gone,
        // the skb is freed by `Skb`'s drop.
        let sent = unsafe { Self::with_own_dev(dev, false, |d, p| T::start_xmit(d, p, skb, &rcu)) };
        if sent {
            NETDEV_TX_OK
        } else {
            NET_XMIT_DROP
        }
    }

    /// `ndo_bpf`'s `XDP_SETUP_PROG`.
    ///
    /// # Safety
    ///
    /// Called by the shim's `ndo_bpf` only, with RTNL held, on a live
    /// device of this table, with a program (or null) whose reference the
    /// core took for the driver.
    unsafe extern "C" fn xdp_setup(dev: *mut bindings::net_device, prog: *mut bindings::bpf_prog) {
        // SAFETY: the core calls `ndo_bpf` with RTNL held, and no other
        // token is in use by the code that called into the core.
        let mut rtnl = unsafe { Rtnl::assume_held() };
        // SAFETY: the reference is the driver's, as the contract says; if
        // the device has no data any more it is dropped with the closure.
        let prog = unsafe { XdpProg::from_raw(prog) };
        // SAFETY: as the function's contract says.
        unsafe { Self::with_own_dev(dev, (), |d, p| T::xdp_setup(d, p, prog, &mut rtnl)) }
    }

    /// `ndo_xdp_xmit`.
    ///
    /// # Safety
    ///
    /// Called by the core only (or the shim's `XDP_TX`), under RCU with
    /// bottom halves off, on a live device of this table, with `n` valid
    /// frames in `frames`.
    unsafe extern "C" fn xdp_xmit(
        dev: *mut bindings::net_device,
        n: c_int,
        frames: *mut *mut bindings::xdp_frame,
        flags: u32,
    ) -> c_int {
        if flags & !XDP_XMIT_FLUSH != 0 {
            return EINVAL.to_errno();
        }
        // SAFETY: `ndo_xdp_xmit` runs under RCU (bottom halves off).
        let rcu = unsafe { RcuRead::assume_held() };
        // SAFETY: the array holds `n` frames the caller owns for the call,
        // but for those a queue takes.
        let frames = unsafe { XdpFrames::from_raw(frames, n) };
        let flush = flags & XDP_XMIT_FLUSH != 0;
        // SAFETY: as the function's contract says.
        unsafe {
            Self::with_own_dev(dev, Err(ENXIO), |d, p| {
                T::xdp_xmit(d, p, &frames, flush, &rcu)
            })
        }
        .unwrap_or_else(|e| e.to_errno())
    }

    /// `ndo_select_queue`.
    ///
    /// # Safety
    ///
    /// Called by the shim's `ndo_select_queue` only, inside
    /// `rcu_read_lock()`, with a valid skb it keeps and a live device of
    /// this table.
    unsafe extern "C" fn select_queue(
        dev: *mut bindings::net_device,
        skb: *mut bindings::sk_buff,
    ) -> u16 {
        // SAFETY: the shim holds `rcu_read_lock()` around the call.
        let rcu = unsafe { RcuRead::assume_held() };
        // SAFETY: the skb is valid for the call; `ManuallyDrop` leaves it
        // to the caller, who still owns it.
        let skb = core::mem::ManuallyDrop::new(unsafe { Skb::from_raw(skb) });
        // SAFETY: as the function's contract says.
        unsafe { Self::with_own_dev(dev, 0, |d, p| T::select_queue(d, p, &skb, &rcu)) }
    }

    /// `ndo_fix_features`.
    ///
    /// # Safety
    ///
    /// Called by the core only, with RTNL held, on a live device of this table.
    unsafe extern "C" fn fix_features(
        dev: *mut bindings::net_device,
        features: bindings::netdev_features_t,
    ) -> bindings::netdev_features_t {
        // SAFETY: the core calls `ndo_fix_features` with RTNL held, and the
        // callee only takes shared borrows.
        let rtnl = unsafe { Rtnl::assume_held() };
        // SAFETY: as the function's contract says.
        unsafe { Self::with_own_dev(dev, features, |d, p| T::fix_features(d, p, features, &rtnl)) }
    }

    /// `ndo_get_stats64`.
    ///
    /// # Safety
    ///
    /// Called by the core only, on a live device of this table, with a
    /// stats buffer to fill.
    unsafe extern "C" fn get_stats64(
        dev: *mut bindings::net_device,
        stats: *mut ffi::rtnl_link_stats64,
    ) {
        // SAFETY: as the function's contract says.
        let extra = unsafe { Self::with_own_dev(dev, 0, |_, p| T::rx_frame_errors(p)) };
        // SAFETY: the core passes a live device and a stats buffer to fill.
        unsafe { ffi::rtun_dev_get_stats64(dev, stats, extra) };
    }

    /// The link kind's `validate`: refuses `ip link add type <kind>`.
    ///
    /// # Safety
    ///
    /// Called by rtnetlink only; the arguments are not used.
    unsafe extern "C" fn validate(
        _tb: *mut *mut bindings::nlattr,
        _data: *mut *mut bindings::nlattr,
        _extack: *mut bindings::netlink_ext_ack,
    ) -> c_int {
        T::newlink_error().to_errno()
    }
}
