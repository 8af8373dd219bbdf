// SPDX-License-Identifier: GPL-2.0

//! What differs between the kernels rtun builds on, in one place.
//!
//! Kbuild passes `--cfg rtun_linux_7` on Linux 7.x; 6.12 is the default.
//! Everywhere else the crate uses the names exported here, so a kernel API
//! change is one `cfg` pair in this file.

#[cfg(not(rtun_linux_7))]
pub(crate) use kernel::init::{pin_init_from_closure, PinInit};
#[cfg(not(rtun_linux_7))]
pub(crate) use kernel::types::{ARef, AlwaysRefCounted};

#[cfg(rtun_linux_7)]
pub(crate) use kernel::sync::aref::{ARef, AlwaysRefCounted};
#[cfg(rtun_linux_7)]
pub(crate) use pin_init::{pin_init_from_closure, PinInit};

use crate::pure::abi::TunAbi;
use crate::pure::vnet_out::PadFault;
use kernel::types::Opaque;

/// The tun.c rtun follows: that of the kernel it is built for.
pub(crate) const TUN_ABI: TunAbi = if cfg!(rtun_linux_7) {
    TunAbi::Linux7
} else {
    TunAbi::Linux6_12
};

/// What a fault in the read header's padding does on this kernel.
pub(crate) const PAD_FAULT: PadFault = TUN_ABI.pad_fault();

/// Whether `SIOCSIFHWADDR` through the file refuses a device whose
/// address is longer than `ifr_hwaddr`'s 16 bytes with `EINVAL` before
/// trying (7.x's `__tun_chr_ioctl()`; a tun device's is at most 16).
pub(crate) const HWADDR_LEN_CHECK: bool = TUN_ABI.checks_hwaddr_len();
use kernel::uaccess::UserPtr;

/// Returns the raw pointer to the value inside `this` without a reference
/// (`Opaque::raw_get()` on 6.12, `Opaque::cast_into()` on 7.x).
pub(crate) fn opaque_raw<T>(this: *const Opaque<T>) -> *mut T {
    #[cfg(not(rtun_linux_7))]
    let raw = Opaque::raw_get(this);
    #[cfg(rtun_linux_7)]
    let raw = Opaque::cast_into(this);
    raw
}

/// Returns the user pointer `UserSlice::new()` takes for address `addr`
/// (a `usize` on 6.12, a `UserPtr` on 7.x).
pub(crate) fn user_ptr(addr: usize) -> UserPtr {
    #[cfg(not(rtun_linux_7))]
    let ptr = addr;
    #[cfg(rtun_linux_7)]
    let ptr = UserPtr::from_addr(addr);
    ptr
}
