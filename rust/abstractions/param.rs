// SPDX-License-Identifier: GPL-2.0

//! Module parameters, which the C shim declares (6.12's `module!` has none).

use super::ffi;

/// Returns the value of the `abi` parameter, without its NUL.
pub(crate) fn abi() -> &'static [u8] {
    let mut len = 0;
    // SAFETY: `len` is valid for writes.
    let ptr = unsafe { ffi::rtun_param_abi(&mut len) };
    // SAFETY: the shim returns the parameter's string and its length; being
    // read-only (0444) and set before init, it lives and stays the same for
    // as long as the module is loaded.
    unsafe { core::slice::from_raw_parts(ptr.cast::<u8>(), len) }
}

/// Returns the value of the `dropin` parameter: whether rtun takes tun.ko's names.
pub(crate) fn dropin() -> bool {
    // SAFETY: reads a read-only (0444) parameter, set before init.
    unsafe { ffi::rtun_param_dropin() }
}
