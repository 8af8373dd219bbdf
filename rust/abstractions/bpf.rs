// SPDX-License-Identifier: GPL-2.0

//! A device's BPF program: the steering program of `TUNSETSTEERINGEBPF` or
//! the filter of `TUNSETFILTEREBPF` (C's `tun->steering_prog`,
//! `tun->filter_prog`), run by the data path under RCU.

use super::ffi;
use super::rcu::RcuRead;
use super::rtnl::Rtnl;
use super::skb::Skb;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::error::{Error, Result};

/// One program slot of a device, empty or holding a socket filter program.
///
/// # Invariants
///
/// `ptr` is null or a program from `rtun_prog_get()` that this slot owns;
/// a program taken out of the slot is released with `rtun_prog_release()`,
/// which frees it only after a grace period, so a reader inside an RCU
/// read-side section may run what it loaded.
pub(crate) struct ProgSlot {
    ptr: AtomicPtr<ffi::rtun_prog>,
}

// SAFETY: the program is used from any context under RCU; writers are
// serialised by RTNL.
unsafe impl Send for ProgSlot {}
// SAFETY: as above.
unsafe impl Sync for ProgSlot {}

impl ProgSlot {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        // INVARIANT: null.
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// `tun_set_ebpf()`: the program `fd` refers to replaces the slot's
    /// (`-1`: none), or the slot stays as it was and the kernel's errno
    /// comes back (`EBADF`, `EINVAL` for a program that is not a socket
    /// filter, `ENOMEM`).
    pub(crate) fn set(&self, fd: i32, _rtnl: &mut Rtnl) -> Result {
        let mut err = 0;
        // SAFETY: process context (an ioctl), as `bpf_prog_get_type()` needs;
        // `err` is valid for writes.
        let new = unsafe { ffi::rtun_prog_get(fd, &mut err) };
        if err != 0 {
            return Err(Error::from_errno(err));
        }
        // INVARIANT: the slot owns `new`; the old program is released
        // after a grace period below.
        let old = self.ptr.swap(new, Ordering::AcqRel);
        // SAFETY: `old` was owned by the slot and is unpublished now; the
        // shim frees it after a grace period (null is a no-op).
        unsafe { ffi::rtun_prog_release(old) };
        Ok(())
    }

    /// Returns whether a program is set (C's `rcu_access_pointer()`: the
    /// program is not used, so no RCU section is needed).
    #[inline]
    pub(crate) fn is_set(&self) -> bool {
        !self.ptr.load(Ordering::Relaxed).is_null()
    }

    /// Runs the program on `skb`, if there is one
    /// (`bpf_prog_run_clear_cb()`: `skb->cb` is its scratch).
    #[inline]
    pub(crate) fn run(&self, skb: &Skb, _rcu: &RcuRead) -> Option<u32> {
        let p = self.ptr.load(Ordering::Acquire);
        if p.is_null() {
            return None;
        }
        // SAFETY: `p` is a live program: it is freed only after a grace
        // period, which cannot end while `_rcu` lives; the skb is valid
        // while borrowed, and its control block is scratch space that the
        // core lets a driver use during transmit, as C's does.
        Some(unsafe { ffi::rtun_prog_run(p, skb.as_ptr()) })
    }
}

impl Drop for ProgSlot {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        // SAFETY: owned by the slot, which is being dropped; released once,
        // freed after a grace period.
        unsafe { ffi::rtun_prog_release(p) };
    }
}
