// SPDX-License-Identifier: GPL-2.0

//! rtun: a tun/tap character device (`/dev/net/rtun`) written in Rust.
//!
//! It speaks the ABI of the C driver `drivers/net/tun.c` (`/dev/net/tun`), and
//! both can be loaded in one kernel: every visible name differs.
//!
//! Three folders, three layers, each depending only on the ones before it:
//! [`pure`] (tun.c's rules as functions of plain values, `core` only, shared
//! with the host test crate), `abstractions` (safe types over the kernel
//! objects, holding every `unsafe` block) and `driver` (tun.c's behaviour in
//! safe Rust).

use kernel::prelude::*;

mod abstractions;
mod driver;
pub mod pure;

use abstractions::file::MiscRegistration;
use abstractions::netdev::LinkRegistration;
use driver::device::RtunDev;
use driver::tunfile::{self, TunFile};

// The one kernel difference outside `abstractions::compat`: `module!`
// takes `author` on 6.12 and `authors` on 7.x.
#[cfg(not(rtun_linux_7))]
module! {
    type: Rtun,
    name: "rtun",
    author: "The rtun developers",
    description: "tun/tap character device in Rust (/dev/net/rtun)",
    license: "GPL",
}

#[cfg(rtun_linux_7)]
module! {
    type: Rtun,
    name: "rtun",
    authors: ["The rtun developers"],
    description: "tun/tap character device in Rust (/dev/net/rtun)",
    license: "GPL",
}

/// The loaded module: the character device and the rtnl link kind.
struct Rtun {
    // Dropped in declaration order: first no new files, then the link kind,
    // whose unregistration removes any device left, and its notifier.
    _misc: MiscRegistration<TunFile>,
    _link: LinkRegistration<RtunDev>,
}

impl kernel::Module for Rtun {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let value = abstractions::param::abi();
        let Some(abi) = pure::iff::Abi::from_param(value) else {
            pr_err!("abi must be 'upstream' or 'rfc2008'\n");
            return Err(EINVAL);
        };
        tunfile::set_abi(abi);
        let node = if abstractions::param::dropin() {
            "/dev/net/tun, drop-in for tun.ko"
        } else {
            "/dev/net/rtun"
        };
        // The shim says why, should tun.ko hold the names in drop-in mode.
        let link = LinkRegistration::new()?;
        let misc = MiscRegistration::new()?;
        pr_info!("{} ready ({:?} TUNSETIFF flags)\n", node, abi);
        Ok(Rtun {
            _misc: misc,
            _link: link,
        })
    }
}
