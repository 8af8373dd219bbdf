#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build rtun.ko against KDIR.  With --clippy the Rust crate is also linted.
# Any compiler or clippy warning fails the build (exit 1) and is printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

clippy=
[ "${1:-}" = --clippy ] && clippy=CLIPPY=1
kdir=$(bash "$here/kdir.sh")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Rebuild the Rust object so its warnings are always seen.
rm -f "$RTUN_ROOT/rust/rtun_main.o"
if ! make -C "$kdir" M="$RTUN_ROOT" LLVM="${LLVM:-1}" $clippy modules >"$log" 2>&1; then
	cat "$log" >&2
	die "module build failed${clippy:+ (clippy)}"
fi
if grep -qiE '(^|[^a-z])warning' "$log"; then
	cat "$log" >&2
	die "module build has warnings${clippy:+ (clippy)}"
fi
info "rtun.ko built${clippy:+ and clippy-clean} against $kdir"
