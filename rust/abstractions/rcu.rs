// SPDX-License-Identifier: GPL-2.0

//! `Arc`s published to RCU readers in an array of slots ([`RcuSlots`]),
//! changed only with RTNL held.

use super::ffi;
use super::rtnl::Rtnl;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::alloc::{
    flags::{__GFP_ZERO, GFP_KERNEL},
    KBox,
};
use kernel::error::Result;
use kernel::sync::{Arc, ArcBorrow};

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

/// `SLOTS` slots, each holding an optional `Arc<T>` that RCU readers may
/// look at without a reference: C tun's `tun->tfiles[MAX_TAP_QUEUES]`.
///
/// # Invariants
///
/// Each slot is null or a pointer from `Arc::into_raw`. Outside a
/// [`SlotMove`], each non-null slot owns one reference and no two slots
/// hold the same pointer; during one, the source slot and the target hold
/// the same pointer and the target owns it. Slots change only with RTNL
/// held, and a value taken out of a slot is released only after
/// `synchronize_net()` ([`Retired::wait`]).
pub(crate) struct RcuSlots<T> {
    slots: KBox<[AtomicPtr<T>; SLOTS]>,
}

/// The number of slots of an [`RcuSlots`]: C's `MAX_TAP_QUEUES`, whatever
/// the device (as C's array).
pub(crate) const SLOTS: usize = crate::pure::iff::MAX_TAP_QUEUES as usize;

// The pure layer's queue limit is the shim's (which checks it against C's).
const _: () = assert!(crate::pure::iff::MAX_TAP_QUEUES == super::ffi::RTUN_MAX_QUEUES);

// SAFETY: the slots hand out `&T` to any thread and move `Arc<T>`
// between threads, which `Arc<T>` allows when `T: Send + Sync`.
unsafe impl<T: Send + Sync> Sync for RcuSlots<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Send for RcuSlots<T> {}

/// A value taken out of an [`RcuSlots`], which readers may still see until
/// a grace period has passed.
///
/// # Invariants
///
/// `ptr` comes from `Arc::into_raw` and owns that reference.
pub(crate) struct Retired<T> {
    ptr: NonNull<T>,
}

impl<T> Retired<T> {
    /// Returns a new reference to the value (readers may still see it).
    pub(crate) fn clone_arc(&self) -> Arc<T> {
        // SAFETY: `ptr` owns a reference (type invariant), so the value is
        // alive; the borrow lives only for the clone.
        let borrow = unsafe { ArcBorrow::from_raw(self.ptr.as_ptr()) };
        borrow.into()
    }

    /// Gives the value up without waiting, for one grace period that
    /// covers several unpublished values (see `DevSlot::take_with`).
    pub(super) fn into_raw(self) -> NonNull<T> {
        let p = self.ptr;
        core::mem::forget(self);
        p
    }

    /// Waits until no reader can see the value (`synchronize_net()`) and
    /// returns it.
    pub(crate) fn wait(self) -> Arc<T> {
        synchronize_net();
        let p = self.ptr.as_ptr();
        core::mem::forget(self);
        // SAFETY: `p` owns a reference (type invariant), and after the
        // grace period no reader holds a borrow derived from it.
        unsafe { Arc::from_raw(p) }
    }
}

impl<T> Drop for Retired<T> {
    fn drop(&mut self) {
        // Not waited for: give the reference back only after a grace
        // period all the same.
        synchronize_net();
        // SAFETY: as in `wait`.
        drop(unsafe { Arc::from_raw(self.ptr.as_ptr()) });
    }
}

/// A move between two slots of an [`RcuSlots`] under way (see
/// [`RcuSlots::begin_move`]): both slots show the moved value until
/// [`SlotMove::finish`] empties the source.
pub(crate) struct SlotMove<'a, T> {
    slots: &'a RcuSlots<T>,
    rtnl: &'a mut Rtnl,
    from: usize,
    to: usize,
    old: Option<Retired<T>>,
}

impl<T> SlotMove<'_, T> {
    /// Returns the moved value, now in the target slot too.
    pub(crate) fn moved(&self) -> Option<&T> {
        self.slots.get(self.to, self.rtnl)
    }

    /// Empties the source slot and returns what the target held before.
    pub(crate) fn finish(mut self) -> Option<Retired<T>> {
        // `drop` empties the source.
        self.old.take()
    }
}

impl<T> Drop for SlotMove<'_, T> {
    fn drop(&mut self) {
        if let Some(from) = self.slots.slots.get(self.from) {
            // INVARIANT: the target owns the pointer the source held (for
            // `from == to` the old value is the `Retired`): the source
            // gives it up without a release.
            from.store(ptr::null_mut(), Ordering::Release);
        }
    }
}

impl<T> RcuSlots<T> {
    /// Returns [`SLOTS`] empty slots.
    pub(crate) fn new() -> Result<Self> {
        let zeroed = KBox::<[AtomicPtr<T>; SLOTS]>::new_uninit(GFP_KERNEL | __GFP_ZERO)?;
        // SAFETY: the memory is zeroed, and a null `AtomicPtr` is all zero
        // bits (it has the layout of a raw pointer).
        // INVARIANT: every slot is null.
        let slots = unsafe { zeroed.assume_init() };
        Ok(Self { slots })
    }

    /// Returns the number of slots.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Returns the slots as the shim reads them (`void *const *`): an
    /// `AtomicPtr<T>` has the layout of a `*mut T`.
    pub(crate) fn as_raw(&self) -> *const *mut core::ffi::c_void {
        self.slots.as_ptr().cast()
    }

    /// Returns the value at `i` to a thread that holds RTNL.
    pub(crate) fn get<'a>(&'a self, i: usize, _rtnl: &'a Rtnl) -> Option<&'a T> {
        let p = self.slots.get(i)?.load(Ordering::Acquire);
        // SAFETY: slots change only with RTNL held exclusively, which the
        // shared borrow excludes for 'a, so the value stays referenced.
        unsafe { p.as_ref() }
    }

    /// Returns the value at `i` inside an RCU read-side critical section.
    #[inline]
    pub(crate) fn get_rcu<'a>(&'a self, i: usize, _rcu: &'a RcuRead) -> Option<&'a T> {
        let p = self.slots.get(i)?.load(Ordering::Acquire);
        // SAFETY: a value taken out of a slot is released only after a
        // grace period, which cannot end while `_rcu` lives.
        unsafe { p.as_ref() }
    }

    /// Publishes `value` in the empty slot `i`; gives it back if the slot
    /// is taken or out of range.
    pub(crate) fn publish(
        &self,
        i: usize,
        value: Arc<T>,
        _rtnl: &mut Rtnl,
    ) -> core::result::Result<(), Arc<T>> {
        let Some(slot) = self.slots.get(i) else {
            return Err(value);
        };
        if !slot.load(Ordering::Relaxed).is_null() {
            return Err(value);
        }
        // INVARIANT: the slot was empty; it now owns this reference.
        slot.store(Arc::into_raw(value).cast_mut(), Ordering::Release);
        Ok(())
    }

    /// Empties slot `i` and returns its value, for release after a grace
    /// period.
    pub(crate) fn take(&self, i: usize, _rtnl: &mut Rtnl) -> Option<Retired<T>> {
        let p = self.slots.get(i)?.swap(ptr::null_mut(), Ordering::AcqRel);
        // INVARIANT: the slot owned `p`; the `Retired` owns it now.
        NonNull::new(p).map(|ptr| Retired { ptr })
    }

    /// Starts moving the value of slot `from` into slot `to`, as
    /// `__tun_detach()` fills the freed index with the last queue: `to`
    /// shows it at once, `from` until [`SlotMove::finish`]. What `to` held
    /// comes back from `finish`, for release after a grace period.
    pub(crate) fn begin_move<'a>(
        &'a self,
        from: usize,
        to: usize,
        rtnl: &'a mut Rtnl,
    ) -> SlotMove<'a, T> {
        let (Some(src), Some(dst)) = (self.slots.get(from), self.slots.get(to)) else {
            return SlotMove {
                slots: self,
                rtnl,
                from: usize::MAX,
                to,
                old: None,
            };
        };
        let moved = src.load(Ordering::Relaxed);
        let old = dst.swap(moved, Ordering::AcqRel);
        // INVARIANT: the target owns the moved pointer, the `Retired` the
        // old one; the source still shows the moved one until `finish`.
        SlotMove {
            slots: self,
            rtnl,
            from,
            to,
            old: NonNull::new(old).map(|ptr| Retired { ptr }),
        }
    }

    /// Returns the index of the slot that holds `value`, if any.
    pub(crate) fn position(&self, value: &T, _rtnl: &Rtnl) -> Option<usize> {
        let p = ptr::from_ref(value).cast_mut();
        self.slots
            .iter()
            .position(|s| s.load(Ordering::Relaxed) == p)
    }

    /// Returns the index of the first empty slot, if any.
    pub(crate) fn first_empty(&self, _rtnl: &Rtnl) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.load(Ordering::Relaxed).is_null())
    }
}

impl<T> Drop for RcuSlots<T> {
    fn drop(&mut self) {
        for slot in self.slots.iter_mut() {
            let p = *slot.get_mut();
            if !p.is_null() {
                // SAFETY: being dropped, no reader can look at the slots;
                // outside a move each pointer owns one reference.
                drop(unsafe { Arc::from_raw(p) });
            }
        }
    }
}
