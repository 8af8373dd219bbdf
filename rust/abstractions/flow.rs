// SPDX-License-Identifier: GPL-2.0

//! The flow table of a device: which queue each flow was last written
//! from (C's `tun->flows`, kept by the shim in `shim/rtun_flow.c`).

use super::ffi;
use super::netdev::NetDevice;
use super::rcu::RcuRead;
use core::ptr::NonNull;
use core::sync::atomic::AtomicU32;
use kernel::error::{code::ENOMEM, Result};

/// A device's flow table, with the timer that forgets idle flows.
///
/// # Invariants
///
/// `ptr` is a table from `rtun_flows_new()`, owned by this value and freed
/// once, in `drop`.
pub(crate) struct FlowTable {
    ptr: NonNull<ffi::rtun_flows>,
}

// SAFETY: the shim's table has its own lock for writers and RCU for readers.
unsafe impl Send for FlowTable {}
// SAFETY: as above.
unsafe impl Sync for FlowTable {}

impl FlowTable {
    /// Returns an empty table whose ageing timer runs (`tun_flow_init()`).
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: process context (device creation), as the allocation needs.
        let ptr = NonNull::new(unsafe { ffi::rtun_flows_new() }).ok_or(ENOMEM)?;
        // INVARIANT: a fresh table, ours.
        Ok(Self { ptr })
    }

    /// Logs flows as they come and go under `dev`'s name when its message
    /// level `msg_enable` (in the device's private area) asks for it.
    pub(crate) fn set_dev(&self, dev: &NetDevice, msg_enable: &AtomicU32) {
        // SAFETY: the table is live; `dev` and `msg_enable` (the private
        // area of `dev`) outlive it: the table is dropped with the
        // device's private data, before the device is freed.
        unsafe {
            ffi::rtun_flows_set_dev(
                self.ptr.as_ptr(),
                dev.as_ptr(),
                msg_enable.as_ptr().cast_const(),
            )
        };
    }

    /// Returns the queue the flow `hash` was last written from, if it is
    /// remembered (`tun_flow_find()`, which also notes the hash for RPS).
    #[inline]
    pub(crate) fn find(&self, hash: u32, _rcu: &RcuRead) -> Option<u16> {
        // SAFETY: the table is live; the caller is inside an RCU read-side
        // section, as the shim's lookup requires.
        let q = unsafe { ffi::rtun_flows_find(self.ptr.as_ptr(), hash) };
        u16::try_from(q).ok()
    }

    /// Returns whether RPS or RFS steers received packets (the kernel's
    /// `rps_needed`), for which a lookup also records the flow's hash.
    #[inline]
    pub(crate) fn rps_needed() -> bool {
        // SAFETY: reads a static key; any context.
        unsafe { ffi::rtun_rps_needed() }
    }

    /// Records that the flow `hash` was written from queue `queue`
    /// (`tun_flow_update()`).
    pub(crate) fn update(&self, hash: u32, queue: u16) {
        // SAFETY: the table is live; the shim takes RCU and its lock itself.
        unsafe { ffi::rtun_flows_update(self.ptr.as_ptr(), hash, queue) };
    }

    /// Forgets the flows of queue `queue` (`tun_flow_delete_by_queue()`).
    pub(crate) fn delete_by_queue(&self, queue: u32) {
        // SAFETY: the table is live; the shim takes its lock.
        unsafe { ffi::rtun_flows_delete_by_queue(self.ptr.as_ptr(), queue) };
    }
}

impl Drop for FlowTable {
    fn drop(&mut self) {
        // SAFETY: owned, freed once; dropped with the device's private
        // data, when no reader or writer of the table is left. Process
        // context: the shim waits for the timer.
        unsafe { ffi::rtun_flows_free(self.ptr.as_ptr()) };
    }
}
