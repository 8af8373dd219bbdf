// SPDX-License-Identifier: GPL-2.0

//! Owned socket buffers.

use crate::ffi;
use core::ptr::NonNull;
use kernel::bindings;

/// An `sk_buff` this code owns; it is freed when dropped.
///
/// # Invariants
///
/// `ptr` points to a valid `sk_buff` owned by this value.
pub(crate) struct Skb {
    ptr: NonNull<bindings::sk_buff>,
}

// SAFETY: an owned skb may be handed to and freed on any thread.
unsafe impl Send for Skb {}

impl Skb {
    /// Takes ownership of `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid, non-null `sk_buff` whose ownership passes to the
    /// returned value.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::sk_buff) -> Self {
        // SAFETY: non-null by the caller's promise.
        let ptr = unsafe { NonNull::new_unchecked(ptr) };
        // INVARIANT: ownership passes to us.
        Self { ptr }
    }
}

impl Drop for Skb {
    fn drop(&mut self) {
        // SAFETY: we own the skb and never use it again.
        unsafe { ffi::rtun_kfree_skb(self.ptr.as_ptr()) };
    }
}
