// SPDX-License-Identifier: GPL-2.0

//! A bounded queue of skbs with a wait queue for its readers.
//!
//! On a TAP device the queue also holds XDP frames (`ndo_xdp_xmit`), which
//! the shim tells from skbs by a tag bit, as C does; Rust sees [`Popped`].
//!
//! The queue is a C `struct ptr_ring`, as C tun's `tfile->tx_ring`: its size
//! is the bound, `ndo_start_xmit` produces under the producer lock (bottom
//! halves are off there), readers consume under the consumer lock, so
//! neither side turns bottom halves or interrupts off for the other. The
//! blocking pop is written here in Rust the way `kernel::sync::CondVar`
//! waits.

use super::compat::{opaque_raw, pin_init_from_closure, PinInit};
use super::ffi;
use super::file::{File, PollTable};
use super::netdev::NetDevice;
use super::rcu::RcuSlots;
use super::skb::Skb;
use super::xdp::{XdpFrame, XdpFrames};
use crate::pure::vnet_out::SkbInfo;
use core::marker::{PhantomData, PhantomPinned};
use core::ptr::{self, NonNull};
use core::sync::atomic::AtomicU32;
use kernel::bindings;
use kernel::error::code::{EAGAIN, EFAULT, ERESTARTSYS};
use kernel::error::{to_result, Error, Result};
use kernel::prelude::*;
use kernel::types::Opaque;

/// What a read of a device with `IFF_BACKPRESSURE` gives the shim: the
/// device, and what it needs to check, under the consumer lock, that the
/// reading file still owns its queue's slot before it wakes that subqueue
/// (`__tun_wake_queue()`).
pub(crate) struct BpOwner<'a> {
    raw: ffi::rtun_bp_owner,
    _borrows: PhantomData<&'a ()>,
}

impl<'a> BpOwner<'a> {
    /// Returns the owner check of the file `this`, published (while it
    /// owns a queue) in `slots` at the index the low 16 bits of `index`
    /// hold, for the device `dev`.
    pub(crate) fn new<T>(
        dev: &'a NetDevice,
        slots: &'a RcuSlots<T>,
        index: &'a AtomicU32,
        this: &'a T,
    ) -> Self {
        Self {
            raw: ffi::rtun_bp_owner {
                dev: dev.as_ptr(),
                slots: slots.as_raw(),
                index: index.as_ptr().cast_const(),
                // A slot holds the pointer `Arc::into_raw` gave, which is
                // the address of the value.
                self_: ptr::from_ref(this).cast(),
                nslots: u32::try_from(slots.len()).unwrap_or(u32::MAX),
            },
            _borrows: PhantomData,
        }
    }
}

/// What a reader takes off a queue (C's `tun_ring_recv()` returns either).
pub(crate) enum Popped {
    /// A packet the device transmitted, with what the read path reads from it.
    Packet(Skb, SkbInfo),
    /// An XDP frame another device (or the write path's `XDP_TX`) sent in.
    Frame(XdpFrame),
}

/// A queue of skbs that readers can sleep on.
///
/// # Invariants
///
/// `ring` and `wq` are initialised and pinned; every skb and XDP frame in
/// `ring` is owned by the queue.
#[pin_data(PinnedDrop)]
pub(crate) struct SkbQueue {
    #[pin]
    ring: Opaque<ffi::PtrRing>,
    #[pin]
    wq: Opaque<bindings::wait_queue_head>,
    /// Packets read since the device's queue was stopped for backpressure
    /// (C's `tfile->cons_cnt`); only the shim touches it, under the ring's
    /// consumer lock (and its producer lock to reset it).
    cons_cnt: Opaque<u32>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: the ring has its own locks and the wait queue is thread safe.
unsafe impl Send for SkbQueue {}
// SAFETY: as above; all access goes through locked C helpers.
unsafe impl Sync for SkbQueue {}

impl SkbQueue {
    /// Returns an initialiser for an empty queue of size 0.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        // SAFETY: `slot` is valid, pinned memory for a `ptr_ring`, which the
        // shim checks fits in `PtrRing`; on failure nothing was allocated.
        let ring = unsafe {
            pin_init_from_closure(|slot: *mut Opaque<ffi::PtrRing>| {
                to_result(ffi::rtun_ring_init(opaque_raw(slot).cast()))
            })
        };
        try_pin_init!(Self {
            ring <- ring,
            // SAFETY: `slot` is valid, pinned memory for a `wait_queue_head`.
            wq <- Opaque::ffi_init(|slot| unsafe { ffi::rtun_waitqueue_init(slot) }),
            cons_cnt: Opaque::new(0),
            _pin: PhantomPinned,
        }? Error)
    }

    /// Returns the ring as the shim's functions take it.
    fn ring(&self) -> *mut ffi::ptr_ring {
        // The room is `RTUN_PTR_RING_SIZE` bytes, which the shim checks a
        // `struct ptr_ring` fits in.
        self.ring.get().cast()
    }

    /// Returns whether no packet is queued.
    pub(crate) fn is_empty(&self) -> bool {
        // SAFETY: the ring is initialised; the shim takes the consumer lock.
        unsafe { ffi::rtun_ring_empty(self.ring()) }
    }

    /// Makes room for `size` packets; keeps the oldest ones and frees the
    /// rest, uncounted, as C's `tun_queue_resize()`. May sleep.
    pub(crate) fn resize(&self, size: u32) -> Result {
        // SAFETY: the ring is initialised; process context, where the shim
        // may allocate with `GFP_KERNEL`; it takes both locks.
        to_result(unsafe { ffi::rtun_ring_resize(self.ring(), size) })
    }

    /// Queues `skb` unless the queue is full, and wakes a sleeping reader;
    /// gives the packet back if full.
    ///
    /// Called with bottom halves off (`ndo_start_xmit`).
    ///
    /// A queued packet updates the transmit time of `dev`'s queue `txq`
    /// (the device is `lltx`: the core leaves that to the driver). With
    /// `backpressure` (`IFF_BACKPRESSURE`), a full ring stops that queue
    /// instead of dropping what comes next, as Linux 7.x's `tun_net_xmit()`
    /// does.
    pub(crate) fn push(
        &self,
        skb: Skb,
        dev: &NetDevice,
        txq: u16,
        backpressure: bool,
    ) -> core::result::Result<(), Skb> {
        let raw = skb.into_raw();
        let (ring, wq, dev) = (self.ring(), self.wq.get(), dev.as_ptr());
        // SAFETY: the ring and the wait queue are initialised; the caller runs
        // with bottom halves off, as the producer lock requires; `dev` is a
        // live device (borrowed for the call) and `txq` one of its transmit
        // queues (the core's queue mapping); ownership of `raw` passes to
        // the ring when the call returns true.
        if unsafe { ffi::rtun_ring_produce(ring, wq, raw, dev, txq, backpressure) } {
            Ok(())
        } else {
            // SAFETY: the ring refused `raw`, so it is still ours.
            Err(unsafe { Skb::from_raw(raw) })
        }
    }

    /// Takes the first entry, if any: a packet with what the read path
    /// reads from it, or an XDP frame.
    ///
    /// With `backpressure`, a queue stopped by [`SkbQueue::push`] is woken
    /// once half the ring drained (`__tun_wake_queue()`).
    #[inline]
    fn pop_info(&self, backpressure: Option<&BpOwner<'_>>) -> Option<Popped> {
        let mut info = ffi::rtun_skb_info::default();
        let mut frame = ptr::null_mut();
        let bp = backpressure.map_or(core::ptr::null(), |b| ptr::from_ref(&b.raw));
        // SAFETY: the ring is initialised; the shim takes the consumer lock,
        // under which it alone touches `cons_cnt`, and fills `info`, valid
        // for writes, when it returns an skb, or `frame` with a frame; `bp`
        // is null or points to a live device, slots, index and file,
        // borrowed for the call.
        let raw = unsafe {
            ffi::rtun_ring_consume_info(self.ring(), &mut info, bp, self.cons_cnt.get(), &mut frame)
        };
        if !raw.is_null() {
            // SAFETY: a consumed skb is owned by the caller.
            return Some(Popped::Packet(
                unsafe { Skb::from_raw(raw) },
                Skb::info_from_raw(&info),
            ));
        }
        // SAFETY: a consumed frame is owned by the caller.
        NonNull::new(frame).map(|f| Popped::Frame(unsafe { XdpFrame::from_raw(f) }))
    }

    /// Queues what fits of `frames` (`ndo_xdp_xmit`, bottom halves off),
    /// in order; returns how many the queue took.
    pub(crate) fn push_frames(&self, frames: &XdpFrames<'_>) -> i32 {
        // SAFETY: the ring is initialised; the caller runs with bottom
        // halves off, as the producer lock requires; the array holds
        // `count()` valid frames, of which the ring owns those it takes.
        unsafe { ffi::rtun_ring_produce_frames(self.ring(), frames.as_raw(), frames.count()) }
    }

    /// Wakes a reader sleeping on the queue (an XDP flush, as
    /// `sock_def_readable()`).
    pub(crate) fn wake(&self) {
        // SAFETY: the wait queue is initialised; waking is allowed in any context.
        unsafe { ffi::rtun_ring_wake(self.wq.get()) };
    }

    /// Wakes `dev`'s transmit queue `index` if it runs (and, with
    /// `if_empty`, only if the ring is empty) and forgets the packets
    /// counted towards a backpressure wake (`tun_force_wake_queue()`, and
    /// the end of `__tun_detach()`, Linux 7.x).
    pub(crate) fn force_wake(&self, dev: &NetDevice, index: u16, if_empty: bool) {
        // SAFETY: the ring is initialised and `dev` live with at least
        // `index + 1` queues (the caller's queue index); the shim takes
        // both ring locks around its use of `cons_cnt`.
        unsafe {
            ffi::rtun_ring_force_wake(
                self.ring(),
                dev.as_ptr(),
                self.cons_cnt.get(),
                index,
                if_empty,
            )
        };
    }

    /// Runs `f` with the consumer lock held, so that a reader's owner check
    /// (see [`BpOwner`]) sees what `f` changes all or nothing; `f` runs
    /// under a spinlock: it must not sleep nor read from this queue.
    pub(crate) fn with_consumer_lock<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: the ring is initialised; the lock is a spinlock released
        // below, whoever `f` is.
        unsafe { ffi::rtun_ring_consumer_lock(self.ring()) };
        let r = f();
        // SAFETY: taken above.
        unsafe { ffi::rtun_ring_consumer_unlock(self.ring()) };
        r
    }

    /// Forgets the packets counted towards a backpressure wake, as
    /// `tun_net_close()` does before it stops the queues.
    pub(crate) fn reset_consumed(&self) {
        // SAFETY: the ring is initialised; the shim takes both ring locks
        // around its use of `cons_cnt`.
        unsafe { ffi::rtun_ring_reset_consumed(self.ring(), self.cons_cnt.get()) };
    }

    /// Frees every queued packet and frame (`tun_queue_purge()`).
    pub(crate) fn purge(&self) {
        // SAFETY: the ring is initialised; the shim takes the consumer lock
        // and frees what it takes off, each kind as it must be freed.
        unsafe { ffi::rtun_ring_purge(self.ring()) };
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

    /// Takes the first entry, sleeping for one unless `nonblock`: a packet
    /// with what the read path reads from it (`tun_put_user()`'s fields),
    /// or an XDP frame.
    ///
    /// Fails with `EAGAIN` (empty and `nonblock`), `ERESTARTSYS` (signal), or
    /// `EFAULT` once `shut_down()` says so, as C tun's `tun_ring_recv()` does.
    pub(crate) fn pop_wait(
        &self,
        nonblock: bool,
        shut_down: impl Fn() -> bool,
        backpressure: Option<&BpOwner<'_>>,
    ) -> Result<Popped> {
        loop {
            if let Some(popped) = self.pop_info(backpressure) {
                return Ok(popped);
            }
            if nonblock {
                return Err(EAGAIN);
            }
            self.wait_non_empty(&shut_down)?;
        }
    }

    /// Sleeps until the ring has an entry, as `tun_ring_recv()`'s loop.
    ///
    /// Fails with `ERESTARTSYS` (signal) or `EFAULT` once `shut_down()`
    /// says so; an entry that is there wins over both, as in C. The caller
    /// takes the entry after the wait; if another reader took it first, it
    /// waits again. Out of line: inlined, the sleeping loop shared the
    /// registers of every read that never sleeps.
    #[cold]
    #[inline(never)]
    fn wait_non_empty(&self, shut_down: &dyn Fn() -> bool) -> Result {
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
            if !self.is_empty() {
                break Ok(());
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
        unsafe { ffi::rtun_poll_wait(file.as_ptr(), self.wq.get(), pt.as_ptr()) };
    }
}

#[pinned_drop]
impl PinnedDrop for SkbQueue {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: the ring is initialised and, being dropped, used by no one
        // else; the shim frees the queued packets and the ring's array.
        unsafe { ffi::rtun_ring_cleanup(self.ring()) };
    }
}
