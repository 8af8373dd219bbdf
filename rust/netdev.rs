// SPDX-License-Identifier: GPL-2.0

//! Net devices created by rtun: reference counting, creation with Rust
//! private data, and the `net_device_ops` trampolines.
//!
//! # Private area
//!
//! A device created by [`register`] keeps a [`PrivArea`] in its
//! `netdev_priv()` area. It is written before the device gets rtun's
//! `netdev_ops`, and dropped by the `priv_destructor`, which the core runs only
//! after the last reference is gone. So every device whose ops are rtun's
//! (checked by [`NetDevice::data`]) has live private data for as long as a
//! reference to it is held. [`RtunNetDev`] is a counted reference to such a
//! device, and [`DevSlot`] publishes one to the data path the way C tun's
//! `tfile->tun` is published under RCU.
//!
//! # Fields read in place
//!
//! The Rust bindings see `struct net_device` as opaque. What the data path
//! reads of it per packet (the private area, `state`, `tx_queue_len`) is read
//! at offsets the shim exports in `rtun_netdev_layout`, not through a call.

use crate::ffi;
use crate::iff::Kind;
use crate::netns::NetNs;
use crate::rcu::RcuRead;
use crate::rtnl::Rtnl;
use crate::skb::Skb;
use crate::uapi::IFNAMSIZ;
use core::mem::MaybeUninit;
use core::ops::Deref;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings;
use kernel::error::{code::ENOMEM, Error, Result};
use kernel::ffi::{c_char, c_int};
use kernel::types::{ARef, AlwaysRefCounted, Opaque};

/// The driver's per-device state type.
pub(crate) type Priv = crate::device::RtunDev;

/// How a new device is set up; see `struct rtun_netdev_cfg`.
pub(crate) type DevConfig = ffi::RtunNetdevCfg;

/// Callbacks a device's private data implements.
pub(crate) trait NetDevOps: Sized + Send + Sync {
    /// The device is being unregistered (`ndo_uninit`), with RTNL held.
    fn uninit(dev: &NetDevice, data: &Self, rtnl: &mut Rtnl);
    /// The device is brought up (`ndo_open`), with RTNL held.
    fn open(dev: &NetDevice, data: &Self) -> Result;
    /// The device is brought down (`ndo_stop`), with RTNL held.
    fn stop(dev: &NetDevice, data: &Self) -> Result;
    /// The stack hands over a packet to transmit (`ndo_start_xmit`), under RCU.
    ///
    /// Returns false if the packet was dropped.
    fn start_xmit(dev: &NetDevice, data: &Self, skb: Skb, rcu: &RcuRead) -> bool;
    /// Filters wanted features (`ndo_fix_features`), with RTNL held.
    fn fix_features(dev: &NetDevice, data: &Self, wanted: u64, rtnl: &Rtnl) -> u64;
    /// Returns the receive frame errors to add to the core statistics.
    fn rx_frame_errors(data: &Self) -> u64;
    /// The transmit queue length changed, with RTNL held; an error makes
    /// the core restore the old length.
    fn tx_queue_len_changed(dev: &NetDevice, data: &Self, rtnl: &Rtnl) -> Result;
}

/// The layout of the private area of every device rtun creates.
struct PrivArea {
    /// Whether `data` is initialised; cleared when it is dropped.
    live: bool,
    data: MaybeUninit<Priv>,
}

/// `NETDEV_TX_OK`: the skb was consumed.
const NETDEV_TX_OK: c_int = 0;
/// `NET_XMIT_DROP`: the skb was consumed and dropped, which the sender sees.
const NET_XMIT_DROP: c_int = 1;

/// The size of the private area, for `rtnl_link_ops.priv_size`.
pub(crate) const PRIV_SIZE: usize = core::mem::size_of::<PrivArea>();

// `netdev_priv()` is aligned to NETDEV_ALIGN (32 bytes).
const _: () = assert!(core::mem::align_of::<PrivArea>() <= 32);

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
        match unsafe { ffi::rtun_netdev_kind(self.as_ptr()) } {
            ffi::RTUN_KIND_TUN => Some(Kind::Tun),
            ffi::RTUN_KIND_TAP => Some(Kind::Tap),
            _ => None,
        }
    }

    /// Returns the address of a field at `offset` bytes into the device.
    fn field<T>(&self, offset: usize) -> *const T {
        self.as_ptr().cast::<u8>().wrapping_add(offset).cast::<T>()
    }

    /// Returns rtun's private data if this is an rtun device.
    pub(crate) fn data(&self) -> Option<&Priv> {
        self.kind()?;
        // SAFETY: the device is live and has rtun's ops.
        unsafe { self.data_unchecked() }
    }

    /// Returns rtun's private data, which the caller knows is there.
    ///
    /// # Safety
    ///
    /// The device must be one rtun created (its ops are rtun's).
    unsafe fn data_unchecked(&self) -> Option<&Priv> {
        // SAFETY: `rtun_netdev_layout` is a constant the shim initialised.
        let off = unsafe { ffi::rtun_netdev_layout.priv_ };
        // SAFETY: the device is live and rtun's, so (see the module docs) its
        // private area, at the offset `netdev_priv()` uses, holds a
        // `PrivArea`, whose `live` stays as it is while `self` is borrowed.
        let area = unsafe { &*self.field::<PrivArea>(off) };
        // SAFETY: `live` is set, so `data` is initialised.
        area.live.then(|| unsafe { area.data.assume_init_ref() })
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
        // SAFETY: `rtun_netdev_layout` is a constant the shim initialised.
        let off = unsafe { ffi::rtun_netdev_layout.state };
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
        // SAFETY: `rtun_netdev_layout` is a constant the shim initialised.
        let off = unsafe { ffi::rtun_netdev_layout.tx_queue_len };
        // SAFETY: `self` is live and `tx_queue_len` is an aligned `unsigned
        // int` (checked by the shim); RTNL writers change it with one store,
        // read once here as C's `READ_ONCE()` does.
        unsafe { ptr::read_volatile(self.field::<u32>(off)) }
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

/// A counted reference to a device rtun created, whose private data is there.
///
/// # Invariants
///
/// The device's ops are rtun's and its private area is live (see the module
/// docs); the counted reference keeps both so.
pub(crate) struct RtunNetDev(ARef<NetDevice>);

impl RtunNetDev {
    /// Returns `dev` as an rtun device, or `None` if it is not one.
    pub(crate) fn new(dev: ARef<NetDevice>) -> Option<Self> {
        dev.data()?;
        // INVARIANT: checked just above.
        Some(Self(dev))
    }

    /// Returns the device's private data, without looking at its ops.
    ///
    /// The type invariant says the data is live; `None` would mean a broken
    /// invariant, which callers turn into an error rather than a panic.
    pub(crate) fn data(&self) -> Option<&Priv> {
        // SAFETY: the device is rtun's by the type invariant.
        unsafe { self.0.data_unchecked() }
    }

    /// Gives up the reference, for a [`DevSlot`] to own.
    fn into_raw(self) -> *mut bindings::net_device {
        ARef::into_raw(self.0).as_ptr().cast()
    }

    /// Takes back a reference given up with [`RtunNetDev::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` must come from `into_raw` (or be an rtun device with a counted
    /// reference), and that reference passes to the returned value.
    unsafe fn from_raw(ptr: NonNull<bindings::net_device>) -> Self {
        // SAFETY: the caller passes a counted reference to a live device.
        // INVARIANT: the device is rtun's, by the caller's promise.
        Self(unsafe { ARef::from_raw(ptr.cast::<NetDevice>()) })
    }
}

impl Deref for RtunNetDev {
    type Target = NetDevice;

    fn deref(&self) -> &NetDevice {
        &self.0
    }
}

/// A slot that publishes one rtun device to lockless readers.
///
/// Readers get a counted reference without a lock, as C's `tun_get()` does
/// under RCU; the slot changes only with RTNL held.
///
/// # Invariants
///
/// `ptr` is null or owns one counted reference to an rtun device. A device
/// taken out of the slot keeps that reference until `synchronize_net()` has
/// returned, so a reader that saw the pointer under RCU can still take its
/// own reference.
pub(crate) struct DevSlot {
    ptr: AtomicPtr<bindings::net_device>,
}

// SAFETY: the slot hands out counted references, which any thread may own.
unsafe impl Send for DevSlot {}
// SAFETY: readers use RCU and an atomic load; writers are serialised by RTNL.
unsafe impl Sync for DevSlot {}

impl DevSlot {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        // INVARIANT: null.
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Returns a counted reference to the published device, if any.
    pub(crate) fn get(&self) -> Option<RtunNetDev> {
        // SAFETY: the shim reads the slot with `rcu_dereference()` inside an
        // RCU read-side section and takes a reference before leaving it; by
        // the type invariant the device is then still referenced by the slot
        // or by a writer waiting in `synchronize_net()`.
        let raw = unsafe { ffi::rtun_netdev_get_rcu(self.ptr.as_ptr()) };
        // SAFETY: a non-null result is an rtun device with a reference for us.
        NonNull::new(raw).map(|p| unsafe { RtunNetDev::from_raw(p) })
    }

    /// Returns whether a device is published; RTNL keeps the answer valid.
    pub(crate) fn is_set(&self, _rtnl: &Rtnl) -> bool {
        !self.ptr.load(Ordering::Relaxed).is_null()
    }

    /// Publishes `new` and returns the old device once no reader can see it.
    ///
    /// May sleep (`synchronize_net()`) when there was an old device.
    pub(crate) fn replace(&self, new: Option<RtunNetDev>, _rtnl: &mut Rtnl) -> Option<RtunNetDev> {
        let newp = new.map_or(ptr::null_mut(), RtunNetDev::into_raw);
        // The release ordering publishes the device as `rcu_assign_pointer()`.
        // INVARIANT: `newp` is null or owns its reference.
        let old = NonNull::new(self.ptr.swap(newp, Ordering::AcqRel))?;
        // SAFETY: process context with RTNL held, where C's tun calls it too.
        unsafe { ffi::rtun_synchronize_net() };
        // SAFETY: `old` owned a reference, and no reader can find it any more.
        Some(unsafe { RtunNetDev::from_raw(old) })
    }
}

impl Drop for DevSlot {
    fn drop(&mut self) {
        if let Some(p) = NonNull::new(*self.ptr.get_mut()) {
            // SAFETY: the slot is being dropped, so no reader can look at it;
            // the pointer owns one reference.
            drop(unsafe { RtunNetDev::from_raw(p) });
        }
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
pub(crate) fn register(
    _rtnl: &mut Rtnl,
    net: &NetNs,
    name: &[u8; IFNAMSIZ],
    cfg: &DevConfig,
    data: Priv,
) -> Result<RtunNetDev> {
    if name[IFNAMSIZ - 1] != 0 {
        return Err(kernel::error::code::EINVAL);
    }
    // SAFETY: `name` is NUL-terminated; the size is that of the area written below.
    let raw = unsafe { ffi::rtun_netdev_alloc(PRIV_SIZE, name.as_ptr().cast()) };
    let raw = NonNull::new(raw).ok_or(ENOMEM)?.as_ptr();
    // SAFETY: `raw` is a fresh device whose private area is PRIV_SIZE bytes,
    // aligned to 32 (checked above), and not yet visible to anyone else.
    let area = unsafe { ffi::rtun_netdev_priv(raw) }.cast::<PrivArea>();
    // SAFETY: as above; the area is uninitialised (zeroed) memory we own.
    unsafe {
        area.write(PrivArea {
            live: true,
            data: MaybeUninit::new(data),
        })
    };
    // SAFETY: `raw` and `net` are live; this installs rtun's ops now that the
    // private area is initialised, as the module invariant requires.
    unsafe { ffi::rtun_netdev_configure(raw, net.as_ptr(), cfg) };
    // SAFETY: RTNL is held; `raw` is fully set up. This may call `ndo_uninit`
    // and the destructor on failure, hence `&mut Rtnl`.
    let ret: c_int = unsafe { ffi::rtun_netdev_register(raw) };
    if ret < 0 {
        // SAFETY: registration failed, so nobody else holds the device; the
        // destructor may or may not have run, which `live` records.
        unsafe {
            drop_priv(area);
            ffi::rtun_netdev_free(raw);
        }
        return Err(Error::from_errno(ret));
    }
    // SAFETY: the device is registered and cannot be freed before RTNL is
    // released, which `rtnl` proves it is not.
    let dev = unsafe { NetDevice::from_raw(raw) };
    // INVARIANT: the device has rtun's ops and a live private area.
    Ok(RtunNetDev(ARef::from(dev)))
}

/// Drops the private data in `area` if it is still live.
///
/// # Safety
///
/// `area` must point to a `PrivArea` that no one else is using.
unsafe fn drop_priv(area: *mut PrivArea) {
    // SAFETY: the caller guarantees exclusive access.
    let area = unsafe { &mut *area };
    if area.live {
        area.live = false;
        // SAFETY: `live` was set, so `data` is initialised; it is never used again.
        unsafe { area.data.assume_init_drop() };
    }
}

/// `priv_destructor`: the core is done with the device.
#[no_mangle]
extern "C" fn rtun_netdev_destruct(dev: *mut bindings::net_device) {
    // SAFETY: the core calls the destructor once, when no references to the
    // device remain, on a device whose private area `register` initialised.
    unsafe { drop_priv(ffi::rtun_netdev_priv(dev).cast::<PrivArea>()) };
}

/// Runs `f` on the device and its data, for a callback's device pointer,
/// or returns `default` for a device that is not rtun's.
///
/// # Safety
///
/// `dev` must be live for the duration of the call.
unsafe fn with_dev<R>(
    dev: *mut bindings::net_device,
    default: R,
    f: impl FnOnce(&NetDevice, &Priv) -> R,
) -> R {
    // SAFETY: guaranteed by the caller.
    if unsafe { NetDevice::from_raw(dev) }.kind().is_none() {
        return default;
    }
    // SAFETY: live by the caller's promise, and rtun's as just checked.
    unsafe { with_own_dev(dev, default, f) }
}

/// Runs `f` on the device and its data, for a callback from rtun's own
/// `net_device_ops`.
///
/// # Safety
///
/// `dev` must be live for the duration of the call, and its ops rtun's.
unsafe fn with_own_dev<R>(
    dev: *mut bindings::net_device,
    default: R,
    f: impl FnOnce(&NetDevice, &Priv) -> R,
) -> R {
    // SAFETY: guaranteed by the caller.
    let dev = unsafe { NetDevice::from_raw(dev) };
    // SAFETY: the ops are rtun's, by the caller's promise.
    match unsafe { dev.data_unchecked() } {
        Some(data) => f(dev, data),
        None => default,
    }
}

#[no_mangle]
extern "C" fn rtun_netdev_event(event: c_int, dev: *mut bindings::net_device) -> c_int {
    // SAFETY: netdevice notifiers run with RTNL held, and the callee only
    // takes shared borrows.
    let rtnl = unsafe { Rtnl::assume_held() };
    if event != ffi::RTUN_EVENT_TX_QUEUE_LEN {
        return 0;
    }
    // SAFETY: the device is live during the notifier call; `with_dev`
    // ignores devices that are not rtun's.
    let ret = unsafe { with_dev(dev, Ok(()), |d, p| Priv::tx_queue_len_changed(d, p, &rtnl)) };
    ret.map_or_else(|e| e.to_errno(), |()| 0)
}

#[no_mangle]
extern "C" fn rtun_ndo_uninit(dev: *mut bindings::net_device) {
    // SAFETY: the core calls `ndo_uninit` with RTNL held, and no other token is
    // in use by the code that called into the core (it passed `&mut Rtnl`).
    let mut rtnl = unsafe { Rtnl::assume_held() };
    // SAFETY: the device is live during the callback, and only rtun's ops
    // tables point here.
    unsafe { with_own_dev(dev, (), |d, p| Priv::uninit(d, p, &mut rtnl)) }
}

#[no_mangle]
extern "C" fn rtun_ndo_open(dev: *mut bindings::net_device) -> c_int {
    // SAFETY: the device is live during the callback, and only rtun's ops
    // tables point here.
    unsafe { with_own_dev(dev, Ok(()), Priv::open) }.map_or_else(|e| e.to_errno(), |()| 0)
}

#[no_mangle]
extern "C" fn rtun_ndo_stop(dev: *mut bindings::net_device) -> c_int {
    // SAFETY: the device is live during the callback, and only rtun's ops
    // tables point here.
    unsafe { with_own_dev(dev, Ok(()), Priv::stop) }.map_or_else(|e| e.to_errno(), |()| 0)
}

#[no_mangle]
extern "C" fn rtun_ndo_start_xmit(
    skb: *mut bindings::sk_buff,
    dev: *mut bindings::net_device,
) -> c_int {
    // SAFETY: the core passes ownership of a valid skb.
    let skb = unsafe { Skb::from_raw(skb) };
    // SAFETY: the core calls `ndo_start_xmit` under `rcu_read_lock_bh()`.
    let rcu = unsafe { RcuRead::assume_held() };
    // SAFETY: the device is live during the callback, and only rtun's ops
    // tables point here. If its data were gone, the skb is freed by `Skb`'s
    // drop.
    if unsafe { with_own_dev(dev, false, |d, p| Priv::start_xmit(d, p, skb, &rcu)) } {
        NETDEV_TX_OK
    } else {
        NET_XMIT_DROP
    }
}

#[no_mangle]
extern "C" fn rtun_ndo_fix_features(
    dev: *mut bindings::net_device,
    features: bindings::netdev_features_t,
) -> bindings::netdev_features_t {
    // SAFETY: the core calls `ndo_fix_features` with RTNL held, and the callee
    // only takes shared borrows.
    let rtnl = unsafe { Rtnl::assume_held() };
    // SAFETY: the device is live during the callback, and only rtun's ops
    // tables point here.
    unsafe {
        with_own_dev(dev, features, |d, p| {
            Priv::fix_features(d, p, features, &rtnl)
        })
    }
}

#[no_mangle]
extern "C" fn rtun_ndo_get_stats64(
    dev: *mut bindings::net_device,
    stats: *mut ffi::RtnlLinkStats64,
) {
    // SAFETY: the device is live during the callback, and only rtun's ops
    // tables point here.
    let extra = unsafe { with_own_dev(dev, 0, |_, p| Priv::rx_frame_errors(p)) };
    // SAFETY: the core passes a live device and a stats buffer to fill.
    unsafe { ffi::rtun_dev_get_stats64(dev, stats, extra) };
}

#[no_mangle]
extern "C" fn rtun_rtnl_validate(
    _tb: *mut *mut bindings::nlattr,
    _data: *mut *mut bindings::nlattr,
    _extack: *mut bindings::netlink_ext_ack,
) -> c_int {
    crate::device::rtnl_newlink_error().to_errno()
}
