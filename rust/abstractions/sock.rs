// SPDX-License-Identifier: GPL-2.0

//! A file's socket: the `struct sock` (with its `struct socket`) that C's
//! `struct tun_file` embeds, here allocated by the shim beside the Rust
//! state. It carries the send buffer a write is charged against until its
//! skb is freed (`sk_sndbuf`, `sk_wmem_alloc`), the writers waiting for
//! room, and the network namespace the file was opened in.

use super::ffi;
use super::file::{File, PollTable};
use super::netdev::NetDevice;
use super::netns::NetNs;
use super::rcu::RcuRead;
use super::rtnl::Rtnl;
use super::skb::Skb;
use crate::pure::uapi::SockFprog;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::error::{code::ENOMEM, to_result, Result};

/// A counted reference to a file's socket.
///
/// # Invariants
///
/// `ptr` points to a socket made by `rtun_sock_alloc()`, on which this
/// value owns one reference (dropped with `sock_put()`); skbs charged to
/// the socket hold their own, so it outlives this value while they live.
pub(crate) struct Sock {
    ptr: NonNull<bindings::sock>,
}

// SAFETY: a socket reference may be dropped on any thread; the fields
// touched here are read and written with `READ_ONCE`/`WRITE_ONCE` or under
// the socket's own locking in the kernel helpers.
unsafe impl Send for Sock {}
// SAFETY: as above; `&Sock` reaches only thread-safe operations.
unsafe impl Sync for Sock {}

impl Sock {
    /// Allocates a socket in `net` with C tun's settings (`tun_chr_open()`):
    /// send buffer `INT_MAX`, its own wait queue and write-space callback.
    pub(crate) fn new(net: &NetNs) -> Result<Self> {
        // SAFETY: `net` is live; process context (an `open`).
        let raw = unsafe { ffi::rtun_sock_alloc(net.as_ptr()) };
        // INVARIANT: a new socket with one reference, ours.
        NonNull::new(raw).map(|ptr| Self { ptr }).ok_or(ENOMEM)
    }

    /// Returns the raw pointer for calls into C.
    pub(crate) fn as_ptr(&self) -> *mut bindings::sock {
        self.ptr.as_ptr()
    }

    /// Returns the send buffer size (`sk_sndbuf`, `TUNGETSNDBUF`).
    pub(crate) fn sndbuf(&self) -> i32 {
        // SAFETY: the socket is live by the type invariant.
        unsafe { ffi::rtun_sock_sndbuf(self.as_ptr()) }
    }

    /// Sets the send buffer size (`TUNSETSNDBUF`, which checked it).
    pub(crate) fn set_sndbuf(&self, sndbuf: i32) {
        // SAFETY: the socket is live; the shim writes the field once.
        unsafe { ffi::rtun_sock_set_sndbuf(self.as_ptr(), sndbuf) };
    }

    /// Registers a poller on the socket's wait queue, where writers wait
    /// for room and the write-space callback wakes them.
    pub(crate) fn poll_wait(&self, file: &File, pt: &PollTable<'_>) {
        // SAFETY: the file and poll table are valid during the `poll` call;
        // the wait queue lives in the socket's memory, which outlives the
        // file and so its poll entries (removed before `release`).
        unsafe { ffi::rtun_sock_poll_wait(file.as_ptr(), self.as_ptr(), pt.as_ptr()) };
    }

    /// `tun_chr_poll()`'s `EPOLLOUT` test for a device that is `up` or not:
    /// room in the send buffer (`sock_writeable()`), with the no-space bit
    /// set so that the write-space callback wakes the poller later.
    pub(crate) fn poll_out(&self, up: bool) -> bool {
        // SAFETY: the socket is live; the shim only uses atomic bit ops and
        // reads.
        unsafe { ffi::rtun_sock_poll_out(self.as_ptr(), up) }
    }

    /// Adds `file` (descriptor `fd`) to the socket's `SIGIO` list or removes
    /// it, as `tun_chr_fasync()`; turning it on makes the caller's thread
    /// group the file's owner.
    pub(crate) fn fasync(&self, file: &File, fd: i32, on: bool) -> Result {
        // SAFETY: the socket is live; the file is the one this socket belongs
        // to, valid during the `fasync` call; the VFS removes the file from
        // the list (`on` false) before `release`, so the list never points
        // to a freed file.
        to_result(unsafe { ffi::rtun_sock_fasync(fd, file.as_ptr(), self.as_ptr(), on) })
    }

    /// Sends `SIGIO` (`POLL_IN`) to the owner of a file with `O_ASYNC`:
    /// a packet was queued for reading.
    pub(crate) fn signal_readable(&self) {
        // SAFETY: the socket is live; `kill_fasync()` may run in any context.
        unsafe { ffi::rtun_sock_signal_in(self.as_ptr()) };
    }

    /// Runs the write-space callback, as C does for every file of a device
    /// that comes up (waking pollers waiting for `EPOLLOUT`).
    pub(crate) fn write_space(&self) {
        // SAFETY: the socket is live; the callback is the shim's, which
        // may run in any context.
        unsafe { ffi::rtun_sock_write_space_now(self.as_ptr()) };
    }
}

/// The classic socket filter (`TUNATTACHFILTER`), which C attaches to each
/// queue's socket and runs on what the device transmits to that queue.
impl Sock {
    /// Attaches `fprog`'s program to the socket, replacing its filter
    /// (`sk_attach_filter()` under the socket lock, which serialises it
    /// with other changes of the socket's filter); the instructions are
    /// copied from the caller's memory now, so a bad address is `EFAULT`
    /// and a program the checker refuses `EINVAL`, as in C.
    pub(crate) fn attach_filter(&self, fprog: &SockFprog) -> Result {
        // SAFETY: the socket is live; process context (an ioctl); the
        // address is a user-space one, read only through `copy_from_user()`,
        // which checks it, so any value is safe to pass.
        to_result(unsafe {
            ffi::rtun_sock_attach_filter(self.as_ptr(), fprog.len(), fprog.filter())
        })
    }

    /// Removes the socket's filter, if it has one (`sk_detach_filter()`).
    pub(crate) fn detach_filter(&self) {
        // SAFETY: the socket is live; process context; the filter is freed
        // after a grace period, as transmit may be running it.
        unsafe { ffi::rtun_sock_detach_filter(self.as_ptr()) };
    }

    /// Returns whether the socket has a filter (`TUNGETIFF` reports
    /// `IFF_NOFILTER` when it has not).
    pub(crate) fn has_filter(&self) -> bool {
        // SAFETY: the socket is live; only the pointer is read.
        unsafe { ffi::rtun_sock_has_filter(self.as_ptr()) }
    }

    /// Runs the socket's filter, if any, on a packet transmitted to this
    /// queue: true if it drops the packet; one it passes may be trimmed.
    #[inline]
    pub(crate) fn filter_drops(&self, skb: &mut Skb, _rcu: &RcuRead) -> bool {
        // SAFETY: the socket is live (the transmitting queue's file holds
        // it and RCU keeps the file); the skb is ours; `sk_filter()` reads
        // the filter under its own RCU read section.
        unsafe { ffi::rtun_sock_filter_drops(self.as_ptr(), skb.as_ptr()) }
    }
}

/// The NAPI context of a file's socket (`IFF_NAPI`), with the lifecycle
/// of C's `tun_napi_*()`: set up on the device at the file's first attach,
/// disabled while its queue is detached, deleted when it leaves the device.
impl Sock {
    /// Sets up the NAPI context on `dev` if `on` (`tun_napi_init()`), with
    /// writes built in its frags if `frags` too (`IFF_NAPI_FRAGS`).
    pub(crate) fn napi_init(&self, dev: &NetDevice, on: bool, frags: bool, _rtnl: &mut Rtnl) {
        // SAFETY: the socket and `dev` are live; RTNL is held and the file
        // is attaching, so the context is not set up yet; it is deleted
        // (`napi_del`) before the file leaves the device or the device
        // goes (`ndo_uninit`), as the socket's memory outlives both.
        unsafe { ffi::rtun_sock_napi_init(self.as_ptr(), dev.as_ptr(), on, frags) };
    }

    /// Returns whether writes are built in the NAPI context's frags
    /// (`IFF_NAPI_FRAGS` at the file's first attach).
    #[inline]
    pub(crate) fn napi_frags(&self) -> bool {
        // SAFETY: the socket is live; the flag is written under RTNL once,
        // before the file is published to writers.
        unsafe { ffi::rtun_sock_napi_frags(self.as_ptr()) }
    }

    /// Takes the lock an `IFF_NAPI_FRAGS` write holds from its allocation
    /// to its delivery (C's `napi_mutex`): the context has one skb in the
    /// making.
    pub(crate) fn lock_frags(&self) -> FragsGuard<'_> {
        // SAFETY: the socket is live; process context (a write), where the
        // mutex may sleep; the guard unlocks it.
        unsafe { ffi::rtun_sock_frags_lock(self.as_ptr()) };
        FragsGuard { sock: self }
    }

    /// Enables the NAPI context again, for a re-attached queue.
    pub(crate) fn napi_enable(&self, _rtnl: &mut Rtnl) {
        // SAFETY: the socket is live; RTNL serialises the context's state
        // changes, and it was disabled when the queue was detached.
        unsafe { ffi::rtun_sock_napi_enable(self.as_ptr()) };
    }

    /// Disables the NAPI context, waiting for a running poll.
    pub(crate) fn napi_disable(&self, _rtnl: &mut Rtnl) {
        // SAFETY: the socket is live; RTNL serialises state changes, and
        // every caller disables an enabled context (an active queue).
        unsafe { ffi::rtun_sock_napi_disable(self.as_ptr()) };
    }

    /// Deletes the NAPI context from its device.
    pub(crate) fn napi_del(&self, _rtnl: &mut Rtnl) {
        // SAFETY: the socket is live; RTNL is held; the context was set up
        // by `napi_init` and is deleted once, as the file leaves the device.
        unsafe { ffi::rtun_sock_napi_del(self.as_ptr()) };
    }

    /// Registers the XDP receive queue info of the file's queue at its
    /// first attach (`tun_attach()`): the device and queue `index`, pages
    /// shared with the stack. Fails as `xdp_rxq_info_reg()` does.
    pub(crate) fn xdp_rxq_reg(&self, dev: &NetDevice, index: u16, _rtnl: &mut Rtnl) -> Result {
        // SAFETY: the socket and `dev` are live; RTNL is held and the file
        // is attaching for the first time, so its info is not registered;
        // it is unregistered (`xdp_rxq_unreg`) before the file leaves the
        // device or the device goes.
        to_result(unsafe { ffi::rtun_sock_xdp_rxq_reg(self.as_ptr(), dev.as_ptr(), index.into()) })
    }

    /// The file's queue now has `index` (a re-attach, or another queue
    /// left and this one moved into its place).
    pub(crate) fn xdp_rxq_set_index(&self, index: u16, _rtnl: &Rtnl) {
        // SAFETY: the socket is live; RTNL serialises the writers; readers
        // (programs run on writes) see the old or the new index.
        unsafe { ffi::rtun_sock_xdp_rxq_set_index(self.as_ptr(), index.into()) };
    }

    /// Unregisters the XDP receive queue info as the file leaves its
    /// device (nothing if it was never registered).
    pub(crate) fn xdp_rxq_unreg(&self, _rtnl: &mut Rtnl) {
        // SAFETY: the socket is live; RTNL is held; the file's writes are
        // over (it is leaving), so no program runs with the info.
        unsafe { ffi::rtun_sock_xdp_rxq_unreg(self.as_ptr()) };
    }

    /// Sets or clears `SOCK_XDP` (the device has an XDP program).
    pub(crate) fn set_xdp(&self, on: bool, _rtnl: &Rtnl) {
        // SAFETY: the socket is live; the flag is an atomic bit.
        unsafe { ffi::rtun_sock_set_xdp(self.as_ptr(), on) };
    }

    /// Returns whether writes go through the NAPI context (`IFF_NAPI` at
    /// the file's first attach).
    pub(crate) fn napi_enabled(&self) -> bool {
        // SAFETY: the socket is live; the flag is written under RTNL once,
        // before the file is published to writers.
        unsafe { ffi::rtun_sock_napi_enabled(self.as_ptr()) }
    }

    /// Frees the packets written through NAPI and not yet polled.
    pub(crate) fn purge(&self) {
        // SAFETY: the socket is live; the queues have their own locks.
        unsafe { ffi::rtun_sock_purge(self.as_ptr()) };
    }
}

/// The frags lock of a socket whose writes use `IFF_NAPI_FRAGS`, held.
///
/// # Invariants
///
/// The socket's `napi_mutex` is held by this thread until the guard drops.
pub(crate) struct FragsGuard<'a> {
    sock: &'a Sock,
}

impl FragsGuard<'_> {
    /// Returns the socket whose NAPI context the skb is built in.
    pub(super) fn sock_ptr(&self) -> *mut bindings::sock {
        self.sock.as_ptr()
    }
}

impl Drop for FragsGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the lock is held (type invariant); the context's skb was
        // handed to GRO or freed before this, so forgetting it is right.
        unsafe { ffi::rtun_sock_frags_unlock(self.sock.as_ptr()) };
    }
}

impl Drop for Sock {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own one reference.
        unsafe { ffi::rtun_sock_put(self.as_ptr()) };
    }
}
