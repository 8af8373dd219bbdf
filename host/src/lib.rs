// SPDX-License-Identifier: GPL-2.0

//! Host build of rtun's pure-logic layer, for tests, property tests and fuzzing.
//!
//! The folder `rust/pure/` imports only `core`; it is compiled here
//! unchanged with `#[path]`, so `cargo test` exercises the exact code the
//! kernel module uses, plus the test helpers marked `#[cfg(rtun_host)]`
//! (see `build.rs`). [`check`] holds the invariants that the property tests
//! and the fuzz target assert.

#[path = "../../rust/pure/mod.rs"]
pub mod pure;

pub use pure::{abi, ctl, drops, errno, features, iff, mq, txfilter, uapi, vnet_hdr, vnet_out};

pub mod check;
