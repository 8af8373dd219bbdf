// SPDX-License-Identifier: GPL-2.0

//! The `/dev/net/rtun` character device: registration and file operations.
//!
//! [`MiscRegistration<T>`] installs the trampolines of [`Adapter<T>`] in the
//! shim's `file_operations` table. Each converts the raw pointers once and
//! calls [`FileOps`] on the driver's per-file type `T`, which `open` stores in
//! `file->private_data` as an [`Arc`].

use super::ffi;
use super::uaccess::UserArg;
use crate::pure::uapi::IFNAMSIZ;
use core::marker::PhantomData;
use kernel::bindings;
use kernel::error::{code::EFAULT, to_result, Result};
use kernel::ffi::{c_char, c_int, c_long, c_uint, c_ulong};
use kernel::sync::{Arc, ArcBorrow};
use kernel::types::Opaque;

/// What the driver does for each file operation.
pub(crate) trait FileOps: Sized + Send + Sync + 'static {
    /// A new open file; returns its state.
    fn open(file: &File) -> Result<Arc<Self>>;
    /// The last reference to the file is gone.
    fn release(this: Arc<Self>, file: &File);
    /// An ioctl; returns the value the system call returns.
    ///
    /// `arg` knows whether the caller is a 32-bit program (`compat_ioctl`).
    fn ioctl(this: ArcBorrow<'_, Self>, file: &File, cmd: u32, arg: UserArg) -> Result<isize>;
    /// `fcntl(F_SETFL, O_ASYNC)` turned on or off for `file`, descriptor `fd`.
    fn fasync(this: ArcBorrow<'_, Self>, file: &File, fd: i32, on: bool) -> Result;
    /// A read into `to`, not sleeping if `nonblock`; returns the number of bytes read.
    fn read_iter(this: ArcBorrow<'_, Self>, to: &mut IovIter, nonblock: bool) -> Result<usize>;
    /// A write from `from`; returns the number of bytes consumed.
    fn write_iter(this: ArcBorrow<'_, Self>, from: &mut IovIter, nonblock: bool) -> Result<usize>;
    /// Readiness for `poll`/`select`/`epoll`; returns the `EPOLL*` mask.
    fn poll(this: ArcBorrow<'_, Self>, file: &File, pt: &PollTable<'_>) -> u32;
    /// `/proc/*/fdinfo`: the interface name the shim prints as `iff:`,
    /// NUL-padded (all NULs for none).
    fn fdinfo_name(this: ArcBorrow<'_, Self>) -> [u8; IFNAMSIZ];
}

/// An open `struct file`.
///
/// # Invariants
///
/// Only made from a file operation's argument, valid during that operation.
#[repr(transparent)]
pub(crate) struct File(Opaque<bindings::file>);

impl File {
    /// Returns the raw pointer for calls into C.
    pub(crate) fn as_ptr(&self) -> *mut bindings::file {
        self.0.get()
    }

    /// Lets `read_iter`/`write_iter` see `IOCB_NOWAIT` (`RWF_NOWAIT`, io_uring).
    pub(crate) fn set_nowait(&self) {
        // SAFETY: called from `open`, before the file is visible to anyone
        // else, when the driver may still change `f_mode`.
        unsafe { ffi::rtun_file_set_nowait(self.as_ptr()) };
    }

    /// Wraps a file operation's argument.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::file) -> &'a File {
        // SAFETY: transparent wrapper; validity is the caller's promise.
        unsafe { &*ptr.cast::<File>() }
    }
}

/// An `iov_iter` passed to `read_iter`/`write_iter`.
///
/// # Invariants
///
/// Only made from a file operation's argument, valid and exclusively ours
/// during that operation.
#[repr(transparent)]
pub(crate) struct IovIter(Opaque<bindings::iov_iter>);

impl IovIter {
    /// Wraps a file operation's argument.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid and not used by anyone else for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::iov_iter) -> &'a mut IovIter {
        // SAFETY: transparent wrapper; validity is the caller's promise.
        unsafe { &mut *ptr.cast::<IovIter>() }
    }

    /// Returns the raw pointer for calls into C.
    pub(crate) fn as_ptr(&mut self) -> *mut bindings::iov_iter {
        self.0.get()
    }

    /// Returns the number of bytes left (`iov_iter_count()`).
    pub(crate) fn count(&self) -> usize {
        // SAFETY: the iterator is valid and ours during the file operation.
        // `count` is the field `iov_iter_count()` returns; the union arm
        // holding it overlays `__ubuf_iovec`, whose `iov_len` is the same
        // word, so it is valid for every iterator type.
        unsafe {
            (*self.0.get())
                .__bindgen_anon_1
                .__bindgen_anon_1
                .as_ref()
                .count
        }
    }

    /// Copies `buf` into the iterator; returns how many bytes fit.
    pub(crate) fn copy_to(&mut self, buf: &[u8]) -> usize {
        // SAFETY: `buf` is valid for reads of its length; the iterator is
        // ours. This is `copy_to_iter()` without its inline wrapper, whose
        // `check_copy_size()` checks a kernel object's size, which the slice
        // already bounds.
        unsafe { bindings::_copy_to_iter(buf.as_ptr().cast(), buf.len(), self.as_ptr()) }
    }

    /// Copies exactly `buf.len()` bytes out of the iterator, or fails with `EFAULT`.
    ///
    /// On failure the iterator is left where it was (`copy_from_iter_full()`).
    pub(crate) fn copy_from_full(&mut self, buf: &mut [u8]) -> Result {
        // SAFETY: `buf` is valid for writes of its length; the iterator is ours.
        let ok = unsafe {
            ffi::rtun_copy_from_iter_full(buf.as_mut_ptr().cast(), buf.len(), self.as_ptr())
        };
        if ok {
            Ok(())
        } else {
            Err(EFAULT)
        }
    }

    /// Skips `len` bytes.
    pub(crate) fn advance(&mut self, len: usize) {
        if len == 0 {
            return;
        }
        // SAFETY: the iterator is ours; `iov_iter_advance()` clamps to what is left.
        unsafe { bindings::iov_iter_advance(self.as_ptr(), len) };
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
    unsafe fn from_raw<'a>(ptr: *mut bindings::poll_table_struct) -> PollTable<'a> {
        // INVARIANT: guaranteed by the caller.
        PollTable {
            ptr,
            _call: PhantomData,
        }
    }

    /// Returns the raw pointer for calls into C.
    pub(crate) fn as_ptr(&self) -> *mut bindings::poll_table_struct {
        self.ptr
    }
}

/// Keeps `/dev/net/rtun` registered with `T`'s file operations; deregisters
/// it when dropped.
pub(crate) struct MiscRegistration<T: FileOps>(PhantomData<T>);

impl<T: FileOps> MiscRegistration<T> {
    /// Registers the misc device.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: called once from module init; the shim copies the
        // function pointers into its static `file_operations` before the
        // device becomes visible; the trampolines of `Adapter<T>` may be
        // called from then on, as their contract says.
        to_result(unsafe { ffi::rtun_misc_register(&Adapter::<T>::OPS) })?;
        Ok(Self(PhantomData))
    }
}

impl<T: FileOps> Drop for MiscRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: registered in `new`, deregistered once here.
        unsafe { ffi::rtun_misc_deregister() };
    }
}

/// Maps a read/write result to the `ssize_t` the VFS expects.
fn to_ssize(r: Result<usize>) -> isize {
    match r {
        Ok(n) => isize::try_from(n).unwrap_or(isize::MAX),
        Err(e) => e.to_errno() as isize,
    }
}

/// Returns whether an I/O must not sleep: `O_NONBLOCK` or `IOCB_NOWAIT`.
///
/// # Safety
///
/// `iocb` must be a valid kiocb of an open file.
unsafe fn kiocb_nowait(iocb: *const bindings::kiocb) -> bool {
    // SAFETY: the caller passes a valid kiocb, whose `ki_filp` is an open
    // file; both flag words are read once.
    let (ki_flags, f_flags) = unsafe { ((*iocb).ki_flags, (*(*iocb).ki_filp).f_flags) };
    f_flags & bindings::O_NONBLOCK != 0 || ki_flags & ffi::RTUN_IOCB_NOWAIT as c_int != 0
}

/// The file operation trampolines for the per-file type `T`.
struct Adapter<T: FileOps>(PhantomData<T>);

impl<T: FileOps> Adapter<T> {
    /// The table [`MiscRegistration`] installs.
    const OPS: ffi::rtun_file_ops = ffi::rtun_file_ops {
        open: Some(Self::open),
        release: Some(Self::release),
        ioctl: Some(Self::ioctl),
        fasync: Some(Self::fasync),
        read_iter: Some(Self::read_iter),
        write_iter: Some(Self::write_iter),
        poll: Some(Self::poll),
        fdinfo_name: Some(Self::fdinfo_name),
    };

    /// Borrows the per-file state stored by [`Adapter::open`].
    ///
    /// # Safety
    ///
    /// `file` must be a file of this table between a successful open and
    /// its release.
    unsafe fn data<'a>(file: *mut bindings::file) -> ArcBorrow<'a, T> {
        // SAFETY: `open` stored `Arc::into_raw` in `private_data`, and
        // `release` has not yet taken it back, so the pointer is a live
        // `Arc<T>`'s.
        unsafe { ArcBorrow::from_raw((*file).private_data.cast::<T>()) }
    }

    /// `open`.
    ///
    /// # Safety
    ///
    /// Called by the VFS only, with a valid file being opened.
    unsafe extern "C" fn open(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: the VFS passes a valid file being opened.
        let f = unsafe { File::from_raw(file) };
        match T::open(f) {
            Ok(data) => {
                // SAFETY: the file is ours until release; the misc core's
                // open stored the miscdevice there, which we no longer need.
                unsafe { (*file).private_data = Arc::into_raw(data).cast_mut().cast() };
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// `release`.
    ///
    /// # Safety
    ///
    /// Called by the VFS only, once, after a successful [`Adapter::open`].
    unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: the VFS calls release once, after a successful open, with
        // no other file operation running; we take back the `Arc` stored by
        // open.
        let data = unsafe { Arc::from_raw((*file).private_data.cast::<T>()) };
        // SAFETY: the file is valid during release.
        T::release(data, unsafe { File::from_raw(file) });
        0
    }

    /// `unlocked_ioctl` and, with `compat`, `compat_ioctl` (the shim
    /// converted `arg` as C's `tun_chr_compat_ioctl()` does).
    ///
    /// # Safety
    ///
    /// Called by the shim only, from the VFS's ioctl on a file of this table
    /// between open and release.
    unsafe extern "C" fn ioctl(
        file: *mut bindings::file,
        cmd: c_uint,
        arg: c_ulong,
        compat: bool,
    ) -> c_long {
        // SAFETY: ioctls run between open and release, on a valid file.
        let (this, f) = unsafe { (Self::data(file), File::from_raw(file)) };
        match T::ioctl(this, f, cmd, UserArg::new(arg, compat)) {
            Ok(v) => v as c_long,
            Err(e) => e.to_errno() as c_long,
        }
    }

    /// `fasync`.
    ///
    /// # Safety
    ///
    /// Called by the VFS only (`fcntl()`, and `__fput()` before `release`
    /// with `on` 0), on a file of this table between open and release.
    unsafe extern "C" fn fasync(fd: c_int, file: *mut bindings::file, on: c_int) -> c_int {
        // SAFETY: as for `ioctl`.
        let (this, f) = unsafe { (Self::data(file), File::from_raw(file)) };
        match T::fasync(this, f, fd, on != 0) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// `read_iter`.
    ///
    /// A read that returns data sets the kiocb's position to its length,
    /// as `tun_chr_read_iter()` does: the file position (fdinfo's `pos:`)
    /// is the length of the last such read.
    ///
    /// # Safety
    ///
    /// Called by the VFS only, with a valid kiocb of a file of this table
    /// and an iterator that is ours for the call.
    unsafe extern "C" fn read_iter(
        iocb: *mut bindings::kiocb,
        to: *mut bindings::iov_iter,
    ) -> isize {
        // SAFETY: the VFS passes a valid kiocb for an rtun file, and an
        // iterator that is ours for the duration of the call.
        let (this, nonblock, to) = unsafe {
            (
                Self::data((*iocb).ki_filp),
                kiocb_nowait(iocb),
                IovIter::from_raw(to),
            )
        };
        let ret = to_ssize(T::read_iter(this, to, nonblock));
        if ret > 0 {
            // SAFETY: the kiocb is valid for the call (see above) and its
            // position is the operation's to set.
            unsafe { (*iocb).ki_pos = ret as i64 };
        }
        ret
    }

    /// `write_iter`.
    ///
    /// # Safety
    ///
    /// As for [`Adapter::read_iter`].
    unsafe extern "C" fn write_iter(
        iocb: *mut bindings::kiocb,
        from: *mut bindings::iov_iter,
    ) -> isize {
        // SAFETY: as for `read_iter`.
        let (this, nonblock, from) = unsafe {
            (
                Self::data((*iocb).ki_filp),
                kiocb_nowait(iocb),
                IovIter::from_raw(from),
            )
        };
        to_ssize(T::write_iter(this, from, nonblock))
    }

    /// `show_fdinfo`'s callback: the attached interface's name into `name`.
    ///
    /// # Safety
    ///
    /// Called by the shim only, on a valid open file, with `name` valid
    /// for `IFNAMSIZ` bytes of writes.
    unsafe extern "C" fn fdinfo_name(file: *mut bindings::file, name: *mut c_char) {
        // SAFETY: `show_fdinfo` runs between open and release on a valid file.
        let this = unsafe { Self::data(file) };
        let buf = T::fdinfo_name(this);
        // SAFETY: `name` has room for `IFNAMSIZ` bytes by the contract.
        unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), name.cast::<u8>(), IFNAMSIZ) };
    }

    /// `poll`.
    ///
    /// # Safety
    ///
    /// Called by the VFS only, on a file of this table between open and
    /// release, with a poll table that is null or valid for the call.
    unsafe extern "C" fn poll(
        file: *mut bindings::file,
        pt: *mut bindings::poll_table_struct,
    ) -> bindings::__poll_t {
        // SAFETY: `poll` runs between open and release on a valid file; the
        // poll table is null or valid during the call.
        let (this, f, pt) = unsafe {
            (
                Self::data(file),
                File::from_raw(file),
                PollTable::from_raw(pt),
            )
        };
        T::poll(this, f, &pt)
    }
}
