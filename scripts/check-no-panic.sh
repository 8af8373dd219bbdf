#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The driver must not panic. A panic path the compiler could not rule out
# (an overflow check, a slice index, an unwrap) shows in the built module
# as an undefined symbol of core's panic machinery; this fails when
# rtun.ko references any of them, and names each one.
#
# Usage: scripts/check-no-panic.sh [MODULE]   (default: rtun.ko at the top)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ko=${1:-$here/../rtun.ko}

[ -f "$ko" ] || { echo "check-no-panic: $ko not found: build the module first (make)" >&2; exit 2; }
command -v llvm-nm >/dev/null || { echo "check-no-panic: llvm-nm not found (apt install llvm)" >&2; exit 2; }

# Rust's mangled names spell words with their length: 9panicking,
# 5panic, 16slice_index_fail, 13unwrap_failed, 13expect_failed.
pattern='[0-9]+(panicking|panic|panic_fmt|panic_const[a-z_0-9]*|slice_index_fail|slice_start_index_len_fail|slice_end_index_len_fail|unwrap_failed|expect_failed|panic_bounds_check)'
undefined=$(llvm-nm --undefined-only "$ko" | awk '{ print $NF }')
found=$(printf '%s\n' "$undefined" | grep -E "$pattern" || true)
if [ -n "$found" ]; then
	echo "check-no-panic: $ko can panic; it calls:" >&2
	printf '%s\n' "$found" | sed 's/^/  /' >&2
	echo "check-no-panic: find the caller with: objdump -dr $ko | grep -B20 <symbol>" >&2
	exit 1
fi
echo "check-no-panic: $ko references no panic entry point ($(printf '%s\n' "$undefined" | grep -c .) undefined symbols checked)"
