// SPDX-License-Identifier: GPL-2.0

//! rtun: a tun/tap character device (`/dev/net/rtun`) written in Rust.
//!
//! It speaks the ABI of the C driver `drivers/net/tun.c` (`/dev/net/tun`), and
//! both can be loaded in one kernel: every visible name differs.
//!
//! Layers: pure logic that imports only `core` ([`uapi`], [`iff`],
//! [`features`]), shared with the host test crate; small abstractions that hold
//! all `unsafe` code (`ffi`, `rtnl`, `netns`, `netdev`, `skb`, `file`); and the
//! driver in safe Rust (`device`, `tunfile`).

use kernel::prelude::*;

pub mod features;
pub mod iff;
pub mod uapi;
pub mod vnet_hdr;
pub mod vnet_out;

mod device;
mod ffi;
mod file;
mod netdev;
mod netns;
mod param;
mod queue;
mod rcu;
mod read;
mod rtnl;
mod skb;
mod tunfile;
mod write;

module! {
    type: Rtun,
    name: "rtun",
    author: "The rtun developers",
    description: "tun/tap character device in Rust (/dev/net/rtun)",
    license: "GPL",
}

/// The loaded module: the character device and the rtnl link kind.
struct Rtun {
    // Dropped in declaration order: first no new files, then the link kind,
    // whose unregistration removes any device left.
    _misc: file::MiscRegistration,
    _link: file::LinkRegistration,
    _notifier: file::NotifierRegistration,
}

impl kernel::Module for Rtun {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let value = param::abi();
        let Some(abi) = iff::Abi::from_param(value) else {
            pr_err!("abi must be 'upstream' or 'rfc2008'\n");
            return Err(EINVAL);
        };
        tunfile::set_abi(abi);
        let notifier = file::NotifierRegistration::new()?;
        let link = file::LinkRegistration::new()?;
        let misc = file::MiscRegistration::new()?;
        pr_info!("/dev/net/rtun ready ({:?} TUNSETIFF flags)\n", abi);
        Ok(Rtun {
            _misc: misc,
            _link: link,
            _notifier: notifier,
        })
    }
}
