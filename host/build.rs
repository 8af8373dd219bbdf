// SPDX-License-Identifier: GPL-2.0

//! Marks the host build of the pure modules (`--cfg rtun_host`), which
//! compiles the test-only helpers that `rtun.ko` leaves out.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(rtun_host)");
    println!("cargo::rustc-cfg=rtun_host");
}
