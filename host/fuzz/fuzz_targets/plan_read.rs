// SPDX-License-Identifier: GPL-2.0

//! Fuzzes the read-path planner and `TUNSETOFFLOAD`.
//!
//! The input chooses a read context, an skb and an offload argument (see
//! `decode_fuzz_input` in host/tests/common/read_check.rs). `check_read`
//! asserts every plan invariant and compares the bytes with a model of
//! `tun_put_user()`, so a broken invariant is a crash, like a panic in the
//! planner. Built with overflow checks (`cargo fuzz run -a`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/read_check.rs"]
mod read_check;

fuzz_target!(|data: &[u8]| {
    read_check::fuzz_one(data);
});
