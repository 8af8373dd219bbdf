// SPDX-License-Identifier: GPL-2.0

//! The caller's credentials as the control plane asks about them, and the
//! module reference a persistent device holds.

use super::ffi;
use crate::pure::ctl::KernelId;

/// `make_kuid(current_user_ns(), uid)`: the kernel id of `uid` as the
/// caller's user namespace maps it, or `None` if it does not.
pub(crate) fn make_kuid(uid: u32) -> Option<KernelId> {
    let mut id = 0;
    // SAFETY: `id` is valid for writes; called in process context, where
    // the current task's credentials are valid.
    unsafe { ffi::rtun_make_kuid(uid, &mut id) }.then_some(id)
}

/// `make_kgid(current_user_ns(), gid)`, as [`make_kuid`].
pub(crate) fn make_kgid(gid: u32) -> Option<KernelId> {
    let mut id = 0;
    // SAFETY: as in `make_kuid`.
    unsafe { ffi::rtun_make_kgid(gid, &mut id) }.then_some(id)
}

/// The caller's effective user id (`current_euid()`), as a kernel id.
pub(crate) fn current_euid() -> KernelId {
    // SAFETY: called in process context, where the credentials are valid.
    unsafe { ffi::rtun_current_euid() }
}

/// Whether the caller has `CAP_NET_ADMIN` in the initial user namespace
/// (`capable()`), which `IFF_NAPI_FRAGS` asks for.
pub(crate) fn capable_net_admin() -> bool {
    // SAFETY: called in process context, where the credentials are valid.
    unsafe { ffi::rtun_capable_net_admin() }
}

/// Whether the caller's effective or supplementary groups hold `gid`
/// (`in_egroup_p()`).
pub(crate) fn in_egroup(gid: KernelId) -> bool {
    // SAFETY: as in `current_euid`; any value is a valid `kgid_t`.
    unsafe { ffi::rtun_in_egroup(gid) }
}

/// A reference on this module (`__module_get(THIS_MODULE)`), dropped with
/// `module_put()`: while one lives, `rmmod` refuses with `EBUSY`.
///
/// # Invariants
///
/// Each value owns one reference taken by [`ModuleRef::get`].
pub(crate) struct ModuleRef(());

impl ModuleRef {
    /// Takes a reference. The module is live (this code runs in it), so
    /// `__module_get()` cannot fail.
    pub(crate) fn get() -> Self {
        // SAFETY: the module is loaded, as the caller runs its code.
        unsafe { ffi::rtun_module_get() };
        // INVARIANT: the reference was just taken.
        Self(())
    }
}

impl Drop for ModuleRef {
    fn drop(&mut self) {
        // SAFETY: by the type invariant, this value owns one reference.
        unsafe { ffi::rtun_module_put() };
    }
}
