// SPDX-License-Identifier: GPL-2.0

//! Abstractions: safe types over the kernel objects rtun uses.
//!
//! Rule of this folder: every `unsafe` block of the module is here, each
//! with a `// SAFETY:` comment; code here may use the `kernel` crate, the
//! generated boundary ([`ffi`]) and the pure logic, but never the driver
//! (`crate::driver`). What a driver provides reaches these types through
//! traits ([`file::FileOps`], [`netdev::NetDevOps`]) and type parameters,
//! as `kernel::net::phy` does with its `Adapter<T>`.

pub(crate) mod bpf;
pub(crate) mod compat;
pub(crate) mod cred;
pub(crate) mod error;
pub(crate) mod ffi;
pub(crate) mod file;
pub(crate) mod flow;
pub(crate) mod netdev;
pub(crate) mod netns;
pub(crate) mod param;
pub(crate) mod queue;
pub(crate) mod rcu;
pub(crate) mod rtnl;
pub(crate) mod skb;
pub(crate) mod sock;
pub(crate) mod uaccess;
pub(crate) mod xdp;
