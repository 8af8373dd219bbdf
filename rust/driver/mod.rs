// SPDX-License-Identifier: GPL-2.0

//! The driver: tun.c's behaviour in safe Rust.
//!
//! Rule of this folder: no `unsafe`, no raw pointers, no `ffi`; it builds on
//! the abstractions (`crate::abstractions`) and the pure rules
//! (`crate::pure`), and implements the abstractions' traits for its types.

pub(crate) mod device;
pub(crate) mod read;
pub(crate) mod tunfile;
pub(crate) mod write;
