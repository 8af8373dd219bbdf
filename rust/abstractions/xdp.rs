// SPDX-License-Identifier: GPL-2.0

//! XDP on a TAP device: its program (C's `tun->xdp_prog`), the frames other
//! devices redirect into a file's queue (`ndo_xdp_xmit`), and what the
//! write path's run of the program decided.
//!
//! The program runs in the shim (`rtun_skb_build_xdp()`,
//! `rtun_skb_xdp_generic()`), which reads the slot under RCU with bottom
//! halves off as `tun_build_skb()` does; Rust owns the slot's reference.

use super::ffi;
use super::file::IovIter;
use super::netdev::NetDevice;
use super::rtnl::Rtnl;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings;

/// `XDP_XMIT_FLUSH` (include/net/xdp.h): the caller's batch ends here.
pub(crate) const XDP_XMIT_FLUSH: u32 = ffi::RTUN_XDP_XMIT_FLUSH;

/// A program the core handed to `ndo_bpf`, with the reference it took for
/// the driver; dropping it drops that reference.
///
/// # Invariants
///
/// `ptr` is null or a program this value holds one reference to.
pub(crate) struct XdpProg {
    ptr: *mut bindings::bpf_prog,
}

impl XdpProg {
    /// Takes over the reference `ndo_bpf`'s `XDP_SETUP_PROG` passes (null:
    /// no program).
    ///
    /// # Safety
    ///
    /// `ptr` is null or a program whose reference the caller gives up.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::bpf_prog) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self { ptr }
    }

    /// Returns whether this is a program rather than none.
    pub(crate) fn is_some(&self) -> bool {
        !self.ptr.is_null()
    }
}

impl Drop for XdpProg {
    fn drop(&mut self) {
        // SAFETY: the reference is ours (type invariant); null is a no-op.
        unsafe { ffi::rtun_bpf_prog_put(self.ptr) };
    }
}

/// A device's XDP program slot, read by the data path under RCU.
///
/// # Invariants
///
/// `ptr` is null or a program the slot holds a reference to. A program
/// taken out of the slot is put after it is unpublished: BPF programs are
/// freed after an RCU grace period, so a reader inside an RCU read-side
/// section may still run the one it loaded.
pub(crate) struct XdpSlot {
    ptr: AtomicPtr<bindings::bpf_prog>,
}

// SAFETY: the program is used from any context under RCU; writers are
// serialised by RTNL.
unsafe impl Send for XdpSlot {}
// SAFETY: as above.
unsafe impl Sync for XdpSlot {}

impl XdpSlot {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        // INVARIANT: null.
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// `tun_xdp_set()`: `prog` replaces the slot's program (or empties it);
    /// the old one's reference is dropped.
    pub(crate) fn replace(&self, prog: XdpProg, _rtnl: &mut Rtnl) {
        let new = prog.ptr;
        core::mem::forget(prog);
        // INVARIANT: the slot owns `new`'s reference now; the old one's
        // goes with the `XdpProg` below, after it is unpublished.
        let old = self.ptr.swap(new, Ordering::AcqRel);
        // SAFETY: the slot held `old`'s reference, now given up to this value.
        drop(unsafe { XdpProg::from_raw(old) });
    }

    /// Returns whether a program is set (C's `rcu_access_pointer()`).
    #[inline]
    pub(crate) fn is_set(&self) -> bool {
        !self.ptr.load(Ordering::Relaxed).is_null()
    }

    /// The slot as the shim reads it, under RCU.
    pub(crate) fn as_raw(&self) -> *const *mut bindings::bpf_prog {
        self.ptr.as_ptr().cast_const()
    }
}

impl Drop for XdpSlot {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        // SAFETY: the slot's reference (type invariant), dropped once.
        drop(unsafe { XdpProg::from_raw(p) });
    }
}

/// An XDP frame a reader took off its queue; given back when dropped.
///
/// # Invariants
///
/// `ptr` is a frame this value owns (no queue holds it any more).
pub(crate) struct XdpFrame {
    ptr: NonNull<bindings::xdp_frame>,
}

// SAFETY: a frame may be given back from any context.
unsafe impl Send for XdpFrame {}

impl XdpFrame {
    /// Takes ownership of a frame a queue gave up.
    ///
    /// # Safety
    ///
    /// `ptr` is a frame nobody else owns or uses any more.
    pub(crate) unsafe fn from_raw(ptr: NonNull<bindings::xdp_frame>) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self { ptr }
    }

    /// The end of `tun_put_user_xdp()`: copies the frame's data to `to`
    /// (silently cut to its room), counts one packet of `hdr_len` + the
    /// bytes copied as sent by `dev`, and gives the frame back. Returns
    /// the bytes copied.
    pub(crate) fn put(self, to: &mut IovIter, dev: &NetDevice, hdr_len: u32) -> usize {
        let raw = self.ptr.as_ptr();
        core::mem::forget(self);
        // SAFETY: the frame is ours (type invariant) and the shim gives it
        // back; the iterator and the device are valid for the call.
        unsafe { ffi::rtun_xdp_frame_put(raw, to.as_ptr(), dev.as_ptr(), hdr_len) }
    }
}

impl Drop for XdpFrame {
    fn drop(&mut self) {
        // SAFETY: the frame is ours (type invariant), given back once.
        unsafe { ffi::rtun_xdp_frame_free(self.ptr.as_ptr()) };
    }
}

/// The frames of one `ndo_xdp_xmit` call, borrowed from the core: those a
/// queue takes become the queue's, the core gives back the rest.
pub(crate) struct XdpFrames<'a> {
    frames: *mut *mut bindings::xdp_frame,
    n: i32,
    _borrow: PhantomData<&'a mut ()>,
}

impl XdpFrames<'_> {
    /// Wraps the array `ndo_xdp_xmit` was given.
    ///
    /// # Safety
    ///
    /// `frames` points to `n` valid frames, owned by the caller for the
    /// returned value's life except those a queue takes.
    pub(crate) unsafe fn from_raw(frames: *mut *mut bindings::xdp_frame, n: i32) -> Self {
        Self {
            frames,
            n,
            _borrow: PhantomData,
        }
    }

    /// Returns how many frames there are.
    pub(crate) fn count(&self) -> i32 {
        self.n
    }

    /// Returns the CPU the call runs on (`smp_processor_id()`): bottom
    /// halves are off during `ndo_xdp_xmit`, so it does not change.
    pub(crate) fn cpu(&self) -> u32 {
        // SAFETY: only reads the CPU number; preemption is off (see above).
        unsafe { ffi::rtun_smp_processor_id() }
    }

    /// The array, for the queue that takes them.
    pub(crate) fn as_raw(&self) -> *mut *mut bindings::xdp_frame {
        self.frames
    }
}

/// What the write path's XDP run did with a write (C's `tun_xdp_act()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum XdpOutcome {
    /// The program did not run (no program, or a GSO packet): the skb may
    /// meet it later as generic XDP.
    NotRun,
    /// `XDP_PASS`: the packet goes on as an skb.
    Pass,
    /// The packet left or was dropped as the program said (`act`); `err`
    /// is the errno sending it failed with (0: sent or dropped by verdict).
    Consumed {
        /// The verdict.
        act: u32,
        /// The negative errno of a redirect or `XDP_TX` that failed, else 0.
        err: i32,
    },
}

impl XdpOutcome {
    /// Reads the shim's result; `built` tells whether it returned an skb.
    pub(crate) fn from_raw(res: &ffi::rtun_xdp_result, built: bool) -> Self {
        match (built, res.act) {
            (true, ffi::RTUN_XDP_NOT_RUN) => XdpOutcome::NotRun,
            (true, _) => XdpOutcome::Pass,
            (false, act) => XdpOutcome::Consumed {
                act,
                err: res.act_err,
            },
        }
    }
}
