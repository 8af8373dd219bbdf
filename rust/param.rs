// SPDX-License-Identifier: GPL-2.0

//! Module parameters, which the C shim declares (6.12's `module!` has none).

use crate::ffi;
use kernel::str::CStr;

/// Returns the value of the `abi` parameter, without its NUL.
pub(crate) fn abi() -> &'static [u8] {
    // SAFETY: the shim returns the parameter's string, which is NUL-terminated
    // and, being read-only (0444) and set before init, lives and stays the same
    // for as long as the module is loaded.
    let value = unsafe { CStr::from_char_ptr(ffi::rtun_param_abi()) };
    value.as_bytes()
}
