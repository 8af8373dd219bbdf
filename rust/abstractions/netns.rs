// SPDX-License-Identifier: GPL-2.0

//! Network namespaces, reference counted.

use super::ffi;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::error::{to_result, Result};

/// A counted reference to a `struct net`.
///
/// # Invariants
///
/// `ptr` points to a live `struct net` on which this value owns one
/// reference, taken with `get_net()` and dropped with `put_net()`.
pub(crate) struct NetNs {
    ptr: NonNull<bindings::net>,
}

// SAFETY: a `struct net` reference may be taken and dropped on any thread.
unsafe impl Send for NetNs {}
// SAFETY: `NetNs` exposes no interior mutability; the C object is thread safe.
unsafe impl Sync for NetNs {}

impl NetNs {
    /// Returns a reference to the calling task's network namespace.
    ///
    /// `None` only if the task has no namespace, which cannot happen for a
    /// task that is opening a file.
    pub(crate) fn current() -> Option<Self> {
        // SAFETY: called in process context, where `current->nsproxy` is valid.
        let raw = unsafe { ffi::rtun_current_net_get() };
        // INVARIANT: the shim took a reference with `get_net()`.
        NonNull::new(raw).map(|ptr| Self { ptr })
    }

    /// Returns the raw pointer for calls into C.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.ptr.as_ptr()
    }

    /// Returns whether the caller has `CAP_NET_ADMIN` in this namespace's user namespace.
    pub(crate) fn admin_capable(&self) -> bool {
        // SAFETY: `self.ptr` is live by the type invariant.
        unsafe { ffi::rtun_net_admin_capable(self.as_ptr()) }
    }
}

impl NetNs {
    /// `SIOCGSKNS`: opens a file descriptor of this namespace
    /// (`open_related_ns()`), which is returned.
    pub(crate) fn open_fd(&self) -> Result<i32> {
        // SAFETY: `self.ptr` is live; process context (an ioctl).
        let fd = unsafe { ffi::rtun_net_open_fd(self.as_ptr()) };
        to_result(fd).map(|()| fd)
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own one reference.
        unsafe { ffi::rtun_net_put(self.as_ptr()) };
    }
}
