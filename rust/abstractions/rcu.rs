// SPDX-License-Identifier: GPL-2.0

//! An `Arc` published to RCU readers, changed only with RTNL held.

use super::ffi;
use super::rtnl::Rtnl;
use core::marker::PhantomData;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::sync::Arc;

/// Proof of being inside an RCU read-side critical section.
///
/// # Invariants
///
/// The current thread is inside an RCU read-side critical section (classic
/// or BH, which `synchronize_net()` both waits for) while this value lives.
pub(crate) struct RcuRead {
    _not_send: PhantomData<*mut ()>,
}

impl RcuRead {
    /// Makes a token in a callback the core calls under `rcu_read_lock()` or
    /// `rcu_read_lock_bh()`, such as `ndo_start_xmit`.
    ///
    /// # Safety
    ///
    /// The caller must be inside such a section for the token's lifetime.
    pub(crate) unsafe fn assume_held() -> RcuRead {
        // INVARIANT: guaranteed by the caller.
        RcuRead {
            _not_send: PhantomData,
        }
    }
}

/// Waits until every RCU reader that may have seen an old pointer is done
/// (`synchronize_net()`).
///
/// Sleeps; callers are in process context (they hold RTNL, as C tun's
/// callers do).
pub(crate) fn synchronize_net() {
    // SAFETY: `synchronize_net()` only sleeps; every caller is in process
    // context, which `&mut Rtnl` at each call site implies.
    unsafe { ffi::rtun_synchronize_net() };
}

/// An optional `Arc<T>` that RCU readers may look at without a reference.
///
/// # Invariants
///
/// `ptr` is null or comes from `Arc::into_raw` and owns that reference.
/// It is replaced only with RTNL held, and an old value is released only
/// after `synchronize_net()`, so a reader holding an [`RcuRead`] sees a live
/// `T` for as long as its token lives.
pub(crate) struct RcuArc<T> {
    ptr: AtomicPtr<T>,
}

// SAFETY: the cell hands out `&T` to any thread and moves `Arc<T>` between
// threads, which `Arc<T>` allows when `T: Send + Sync`.
unsafe impl<T: Send + Sync> Sync for RcuArc<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Send for RcuArc<T> {}

impl<T> RcuArc<T> {
    /// An empty cell.
    pub(crate) const fn new() -> Self {
        // INVARIANT: null.
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Returns the value to a thread that holds RTNL.
    pub(crate) fn get<'a>(&'a self, _rtnl: &'a Rtnl) -> Option<&'a T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: writers hold RTNL exclusively (`&mut Rtnl`), which the shared
        // borrow excludes for 'a, so the `Arc` the pointer owns stays alive.
        unsafe { p.as_ref() }
    }

    /// Returns the value inside an RCU read-side critical section.
    pub(crate) fn get_rcu<'a>(&'a self, _rcu: &'a RcuRead) -> Option<&'a T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: by the type invariant an unpublished value is only released
        // after a grace period, which cannot end while `_rcu` lives.
        unsafe { p.as_ref() }
    }

    /// Publishes `new` and returns the old value once no reader can see it.
    ///
    /// May sleep (`synchronize_net()`) when there was an old value.
    pub(crate) fn replace(&self, new: Option<Arc<T>>, _rtnl: &mut Rtnl) -> Option<Arc<T>> {
        let newp = new.map_or(ptr::null_mut(), |a| Arc::into_raw(a).cast_mut());
        // INVARIANT: `newp` is null or owns its reference.
        let old = self.ptr.swap(newp, Ordering::AcqRel);
        if old.is_null() {
            return None;
        }
        synchronize_net();
        // SAFETY: `old` came from `Arc::into_raw` and no reader can see it any more.
        Some(unsafe { Arc::from_raw(old) })
    }
}

impl<T> Drop for RcuArc<T> {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: the cell is being dropped, so no reader can hold a token
            // that borrows it; the pointer owns one reference.
            drop(unsafe { Arc::from_raw(p) });
        }
    }
}
