// SPDX-License-Identifier: GPL-2.0

//! Errors: the pure layer's errno table as kernel [`Error`]s.

use crate::pure::errno;
use kernel::bindings;
use kernel::error::Error;

// The pure table must be the kernel's.
const _: () = {
    assert!(errno::EPERM == bindings::EPERM as i32);
    assert!(errno::EIO == bindings::EIO as i32);
    assert!(errno::ENXIO == bindings::ENXIO as i32);
    assert!(errno::E2BIG == bindings::E2BIG as i32);
    assert!(errno::EAGAIN == bindings::EAGAIN as i32);
    assert!(errno::ENOMEM == bindings::ENOMEM as i32);
    assert!(errno::EFAULT == bindings::EFAULT as i32);
    assert!(errno::EBUSY == bindings::EBUSY as i32);
    assert!(errno::EEXIST == bindings::EEXIST as i32);
    assert!(errno::EINVAL == bindings::EINVAL as i32);
    assert!(errno::EBADFD == bindings::EBADFD as i32);
    assert!(errno::EOPNOTSUPP == bindings::EOPNOTSUPP as i32);
};

/// Returns the kernel error for a positive errno of [`crate::pure::errno`].
pub(crate) fn from_errno(errno: i32) -> Error {
    Error::from_errno(errno.saturating_neg())
}
