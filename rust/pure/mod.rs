// SPDX-License-Identifier: GPL-2.0

//! Pure logic: the rules of tun.c as functions of plain values.
//!
//! Rule of this folder: import only `core` and each other (as `crate::pure`),
//! never the `kernel` crate, `unsafe` or anything that can panic. Every file
//! here is compiled unchanged into the host crate (`host/`), where `cargo
//! test`, property tests and fuzzing run it.

pub mod abi;
pub mod ctl;
pub mod drops;
pub mod errno;
pub mod features;
pub mod iff;
pub mod mq;
pub mod txfilter;
pub mod uapi;
pub mod vnet_hdr;
pub mod vnet_out;
