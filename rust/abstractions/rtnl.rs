// SPDX-License-Identifier: GPL-2.0

//! The RTNL lock as a type: holding an [`Rtnl`] proves the lock is held.
//!
//! [`RtnlLocked`] cells can only be read with a shared [`Rtnl`] and written
//! with an exclusive one. Any operation that can call back into the driver
//! (registering or unregistering a device, say) takes `&mut Rtnl`, so no
//! borrow of a cell can be alive while a callback makes its own token.

use super::ffi;
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

/// Proof that the current thread holds the RTNL lock.
///
/// # Invariants
///
/// The RTNL lock is held by the current thread for as long as this value
/// lives, and no other `Rtnl` for the same acquisition is in use meanwhile.
pub(crate) struct Rtnl {
    // Neither `Send` nor `Sync`: the proof is tied to this thread.
    _not_send: PhantomData<*mut ()>,
}

impl Rtnl {
    /// Takes the RTNL lock; it is released when the guard is dropped.
    pub(crate) fn lock() -> RtnlGuard {
        // SAFETY: `rtnl_lock()` may sleep; every caller runs in process context
        // (file operations and module init/exit).
        unsafe { ffi::rtun_rtnl_lock() };
        // INVARIANT: the lock was just taken and this is its only token.
        RtnlGuard(Rtnl {
            _not_send: PhantomData,
        })
    }

    /// Makes a token inside a callback that the networking core calls with RTNL held.
    ///
    /// # Safety
    ///
    /// The caller must be running with RTNL held for the lifetime of the
    /// returned value, and must not let any other token of the same acquisition
    /// be used while it lives (callers that can re-enter take `&mut Rtnl`).
    pub(crate) unsafe fn assume_held() -> Rtnl {
        // INVARIANT: guaranteed by the caller.
        Rtnl {
            _not_send: PhantomData,
        }
    }
}

/// Holds the RTNL lock taken by [`Rtnl::lock`]; releases it when dropped.
pub(crate) struct RtnlGuard(Rtnl);

impl Deref for RtnlGuard {
    type Target = Rtnl;

    fn deref(&self) -> &Rtnl {
        &self.0
    }
}

impl DerefMut for RtnlGuard {
    fn deref_mut(&mut self) -> &mut Rtnl {
        &mut self.0
    }
}

impl Drop for RtnlGuard {
    fn drop(&mut self) {
        // SAFETY: by the type invariant of `Rtnl`, this thread took the lock in
        // `Rtnl::lock()` and has not released it.
        unsafe { ffi::rtun_rtnl_unlock() };
    }
}

/// A value that may only be accessed with the RTNL lock held.
pub(crate) struct RtnlLocked<T> {
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through an `Rtnl`, and RTNL serialises
// all such accesses across threads; the value itself may move between
// threads, hence `T: Send`.
unsafe impl<T: Send> Sync for RtnlLocked<T> {}

// SAFETY: moving the cell moves the value, which is `Send`.
unsafe impl<T: Send> Send for RtnlLocked<T> {}

impl<T> RtnlLocked<T> {
    /// Wraps `value`.
    pub(crate) const fn new(value: T) -> Self {
        Self {
            value: UnsafeCell::new(value),
        }
    }

    /// Borrows the value while RTNL is held.
    pub(crate) fn borrow<'a>(&'a self, _rtnl: &'a Rtnl) -> &'a T {
        // SAFETY: RTNL is held (the token proves it), so no other thread
        // accesses the value, and any `&mut T` from `borrow_mut` needs the
        // token exclusively, which the shared borrow here excludes.
        unsafe { &*self.value.get() }
    }

    /// Borrows the value mutably while RTNL is held.
    pub(crate) fn borrow_mut<'a>(&'a self, _rtnl: &'a mut Rtnl) -> &'a mut T {
        // SAFETY: RTNL is held and the token is borrowed exclusively for 'a,
        // so no other borrow of any `RtnlLocked` made with this token exists,
        // and callbacks that could make another token cannot run meanwhile.
        unsafe { &mut *self.value.get() }
    }
}
