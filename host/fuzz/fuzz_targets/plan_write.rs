// SPDX-License-Identifier: GPL-2.0

//! Fuzzes the vnet header parser and the write-path planner.
//!
//! The input is the 10 header bytes followed by bytes that choose the
//! context (see `rtun_host::check::decode_fuzz_input`). `check_write`
//! asserts every plan invariant, so a broken invariant is a crash, like a
//! panic in the planner. Built with overflow checks (`cargo fuzz run -a`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rtun_host::check::fuzz_one(data);
});
