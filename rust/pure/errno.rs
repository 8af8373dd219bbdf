// SPDX-License-Identifier: GPL-2.0

//! The errno values the pure rules return, positive, as in
//! `include/uapi/asm-generic/errno-base.h` and `errno.h`.
//!
//! This is the one table: every pure module takes its errnos from here, and
//! the kernel build checks each against the kernel's own value
//! (`abstractions::error`).

/// `EPERM`: operation not permitted.
pub const EPERM: i32 = 1;
/// `EIO`: I/O error.
pub const EIO: i32 = 5;
/// `ENXIO`: no such device or address.
pub const ENXIO: i32 = 6;
/// `E2BIG`: argument list too long.
pub const E2BIG: i32 = 7;
/// `EAGAIN`: try again.
pub const EAGAIN: i32 = 11;
/// `ENOMEM`: out of memory.
pub const ENOMEM: i32 = 12;
/// `EFAULT`: bad address.
pub const EFAULT: i32 = 14;
/// `EBUSY`: device or resource busy.
pub const EBUSY: i32 = 16;
/// `EEXIST`: file exists.
pub const EEXIST: i32 = 17;
/// `EINVAL`: invalid argument.
pub const EINVAL: i32 = 22;
/// `EMSGSIZE`: message too long.
pub const EMSGSIZE: i32 = 90;
/// `EBADFD`: file descriptor in bad state.
pub const EBADFD: i32 = 77;
/// `EOPNOTSUPP`: operation not supported.
pub const EOPNOTSUPP: i32 = 95;
