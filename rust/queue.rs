// SPDX-License-Identifier: GPL-2.0

//! A bounded queue of skbs with a wait queue for its readers.
//!
//! The queue is a C `struct sk_buff_head`. Its lock is shared by
//! `ndo_start_xmit`, which runs with bottom halves off, and by readers in
//! process context, which turn them off while they hold it; like C tun's
//! `ptr_ring`, it is never taken in hard interrupt context, so interrupts stay
//! on. The blocking pop is written here in Rust the way `kernel::sync::CondVar`
//! waits.

use crate::ffi;
use crate::file::File;
use crate::skb::Skb;
use core::marker::{PhantomData, PhantomPinned};
use kernel::bindings;
use kernel::error::code::{EAGAIN, EFAULT, ERESTARTSYS};
use kernel::error::Result;
use kernel::init::PinInit;
use kernel::prelude::*;
use kernel::types::Opaque;

/// A queue of skbs that readers can sleep on.
///
/// # Invariants
///
/// `head` and `wq` are initialised and pinned; every skb on `head` is owned
/// by the queue.
#[pin_data(PinnedDrop)]
pub(crate) struct SkbQueue {
    #[pin]
    head: Opaque<bindings::sk_buff_head>,
    #[pin]
    wq: Opaque<bindings::wait_queue_head>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: the skb list has its own lock and the wait queue is thread safe.
unsafe impl Send for SkbQueue {}
// SAFETY: as above; all access goes through locked C helpers.
unsafe impl Sync for SkbQueue {}

impl SkbQueue {
    /// Returns an initialiser for an empty queue.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid, pinned memory for a `sk_buff_head`.
            head <- Opaque::ffi_init(|slot| unsafe { ffi::rtun_skb_queue_init(slot) }),
            // SAFETY: `slot` is valid, pinned memory for a `wait_queue_head`.
            wq <- Opaque::ffi_init(|slot| unsafe { ffi::rtun_waitqueue_init(slot) }),
            _pin: PhantomPinned,
        })
    }

    /// Returns the number of queued packets (a lockless snapshot).
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: the queue is initialised.
        unsafe { ffi::rtun_skb_queue_len(self.head.get()) }
    }

    /// Queues `skb` unless `limit` packets are queued, and wakes a sleeping
    /// reader; gives the packet back if the queue is full.
    ///
    /// Called with bottom halves off (`ndo_start_xmit`).
    pub(crate) fn push_bounded(&self, skb: Skb, limit: u32) -> core::result::Result<(), Skb> {
        let raw = skb.into_raw();
        // SAFETY: the queue and the wait queue are initialised; the caller runs
        // with bottom halves off, as the shim's plain `spin_lock()` requires;
        // ownership of `raw` passes to the queue when the call returns true.
        if unsafe { ffi::rtun_skb_queue_tail_bounded(self.head.get(), self.wq.get(), raw, limit) } {
            Ok(())
        } else {
            // SAFETY: the queue refused `raw`, so it is still ours.
            Err(unsafe { Skb::from_raw(raw) })
        }
    }

    /// Takes the first packet, if any.
    pub(crate) fn pop(&self) -> Option<Skb> {
        // SAFETY: the queue is initialised; the shim takes its lock with
        // bottom halves off.
        let raw = unsafe { ffi::rtun_skb_dequeue(self.head.get()) };
        // SAFETY: a dequeued skb is owned by the caller.
        (!raw.is_null()).then(|| unsafe { Skb::from_raw(raw) })
    }

    /// Keeps the `limit` oldest packets and frees the rest, uncounted.
    pub(crate) fn trim(&self, limit: u32) {
        // SAFETY: the queue is initialised; the shim takes its lock.
        unsafe { ffi::rtun_skb_queue_trim(self.head.get(), limit) };
    }

    /// Frees every queued packet.
    pub(crate) fn purge(&self) {
        while let Some(skb) = self.pop() {
            drop(skb);
        }
    }

    /// Wakes every reader and poller, when the device goes away.
    pub(crate) fn wake_all(&self) {
        // SAFETY: the wait queue is initialised; waking is allowed in any context.
        unsafe {
            bindings::__wake_up(
                self.wq.get(),
                bindings::TASK_NORMAL,
                0,
                core::ptr::null_mut(),
            )
        };
    }

    /// Takes the first packet, sleeping for one unless `nonblock`.
    ///
    /// Fails with `EAGAIN` (empty and `nonblock`), `ERESTARTSYS` (signal), or
    /// `EFAULT` once `shut_down()` says so, as C tun's `tun_ring_recv()` does.
    pub(crate) fn pop_wait(&self, nonblock: bool, shut_down: impl Fn() -> bool) -> Result<Skb> {
        if let Some(skb) = self.pop() {
            return Ok(skb);
        }
        if nonblock {
            return Err(EAGAIN);
        }
        let wait = Opaque::<bindings::wait_queue_entry>::uninit();
        // SAFETY: `wait` is valid memory that does not move until `finish_wait`.
        unsafe { bindings::init_wait(wait.get()) };
        let ret = loop {
            // SAFETY: `wait` and the wait queue are valid and initialised.
            unsafe {
                bindings::prepare_to_wait_exclusive(
                    self.wq.get(),
                    wait.get(),
                    bindings::TASK_INTERRUPTIBLE as i32,
                )
            };
            if let Some(skb) = self.pop() {
                break Ok(skb);
            }
            if kernel::current!().signal_pending() {
                break Err(ERESTARTSYS);
            }
            if shut_down() {
                break Err(EFAULT);
            }
            // SAFETY: sleeping is allowed here (process context, no locks held).
            unsafe { bindings::schedule() };
        };
        // SAFETY: `wait` was prepared on this wait queue above.
        unsafe { bindings::finish_wait(self.wq.get(), wait.get()) };
        ret
    }

    /// Registers a poller on the wait queue (`poll_wait()`).
    pub(crate) fn poll_wait(&self, file: &File, pt: &PollTable<'_>) {
        // SAFETY: the file, the wait queue and the poll table are valid during
        // the `poll` call; the wait queue outlives the file's poll entries
        // because it lives as long as the file's state.
        unsafe { ffi::rtun_poll_wait(file.as_ptr().cast(), self.wq.get(), pt.as_ptr()) };
    }
}

#[pinned_drop]
impl PinnedDrop for SkbQueue {
    fn drop(self: Pin<&mut Self>) {
        self.purge();
    }
}

/// The `poll_table` of a `poll` call, which may be null.
///
/// # Invariants
///
/// `ptr` is null or valid for `'a`, the duration of the `poll` call.
pub(crate) struct PollTable<'a> {
    ptr: *mut bindings::poll_table_struct,
    _call: PhantomData<&'a ()>,
}

impl PollTable<'_> {
    /// Wraps the argument of the `poll` file operation.
    ///
    /// # Safety
    ///
    /// `ptr` must be null or valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::poll_table_struct) -> PollTable<'a> {
        // INVARIANT: guaranteed by the caller.
        PollTable {
            ptr,
            _call: PhantomData,
        }
    }

    fn as_ptr(&self) -> *mut bindings::poll_table_struct {
        self.ptr
    }
}
