// SPDX-License-Identifier: GPL-2.0

//! An ioctl's user-space argument: fixed-size reads and writes.

use super::compat::user_ptr;
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::error::{code::EFAULT, Result};
use kernel::uaccess::UserSlice;

/// The `unsigned long` argument of an ioctl, a user-space address, and
/// whether the caller is a 32-bit program.
#[derive(Clone, Copy)]
pub(crate) struct UserArg {
    addr: usize,
    compat: bool,
}

impl UserArg {
    /// Wraps the argument of an ioctl, already converted for a 32-bit
    /// caller if `compat`.
    pub(crate) fn new(addr: usize, compat: bool) -> Self {
        Self { addr, compat }
    }

    /// Returns the argument as a number, for ioctls that pass a value.
    pub(crate) fn value(self) -> usize {
        self.addr
    }

    /// Returns whether the caller is a 32-bit program (`compat_ioctl`).
    pub(crate) fn is_compat(self) -> bool {
        self.compat
    }

    /// Reads the first `len` bytes (at most `N`) of an `N`-byte structure,
    /// the rest zero; `EFAULT` if it faults.
    pub(crate) fn read_prefix<const N: usize>(self, len: usize) -> Result<[u8; N]> {
        let mut raw = [0u8; N];
        let len = len.min(N);
        UserSlice::new(user_ptr(self.addr), len)
            .reader()
            .read_slice(&mut raw[..len])?;
        Ok(raw)
    }

    /// Reads `N` bytes from the address; `EFAULT` if it faults.
    pub(crate) fn read<const N: usize>(self) -> Result<[u8; N]> {
        self.read_prefix(N)
    }

    /// Writes `bytes` to the address; `EFAULT` if it faults.
    pub(crate) fn write(self, bytes: &[u8]) -> Result {
        UserSlice::new(user_ptr(self.addr), bytes.len())
            .writer()
            .write_slice(bytes)
    }

    /// Reads `len` bytes from `offset` bytes past the address into a new
    /// vector, as `memdup_user()`: `ENOMEM` if it cannot be allocated,
    /// then `EFAULT` if the copy faults.
    pub(crate) fn read_vec(self, offset: usize, len: usize) -> Result<KVec<u8>> {
        let addr = self.addr.checked_add(offset).ok_or(EFAULT)?;
        let mut buf = KVec::new();
        UserSlice::new(user_ptr(addr), len)
            .reader()
            .read_all(&mut buf, GFP_KERNEL)?;
        Ok(buf)
    }

    /// Reads the `int` the address points to.
    pub(crate) fn read_int(self) -> Result<i32> {
        Ok(i32::from_ne_bytes(self.read()?))
    }

    /// Writes an `int` to the address.
    pub(crate) fn write_int(self, v: i32) -> Result {
        self.write(&v.to_ne_bytes())
    }
}
