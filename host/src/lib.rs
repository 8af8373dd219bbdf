// SPDX-License-Identifier: GPL-2.0

//! Host build of rtun's pure-logic modules, for tests, property tests and fuzzing.
//!
//! The files under `rust/` that import only `core` are compiled here
//! unchanged with `#[path]`, so `cargo test` exercises the exact code the
//! kernel module uses. [`check`] holds the invariants that the property
//! tests and the fuzz target assert.

#[path = "../../rust/vnet_hdr.rs"]
pub mod vnet_hdr;

#[path = "../../rust/vnet_out.rs"]
pub mod vnet_out;

#[path = "../../rust/uapi.rs"]
pub mod uapi;

#[path = "../../rust/iff.rs"]
pub mod iff;

#[path = "../../rust/features.rs"]
pub mod features;

pub mod check;
