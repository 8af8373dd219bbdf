#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build rtun.ko against KDIR.  Any compiler or clippy warning fails the
# build (exit 1) and is printed.
#
# Usage: build-module.sh [--kernel VER] [--clippy] [--out DIR]
#   --kernel VER  build against the cached kernel VER (6.12 or 7.3; default
#                 as kdir.sh); KDIR= takes precedence
#   --clippy   also lint the Rust crate (CLIPPY=1)
#   --out DIR  build a copy of the sources in DIR (for a second kernel,
#              since Kbuild writes its output next to the sources);
#              the module is then DIR/rtun.ko
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

clippy=
src=$RTUN_ROOT
kopt=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) [ $# -ge 2 ] || die "--kernel needs a version"; kopt=(--kernel "$2"); shift 2 ;;
	--clippy) clippy=CLIPPY=1; shift ;;
	--out) [ $# -ge 2 ] || die "--out needs a directory"; src=$2; shift 2 ;;
	*) die "build-module.sh: unknown option '$1'" ;;
	esac
done
kdir=$(bash "$here/kdir.sh" "${kopt[@]}")
# The kernel's own toolchain (LLVM=-22 for 7.3), unless LLVM is set.
llvm=${LLVM:-}
if [ -z "$llvm" ] && [ -r "$kdir/.rtun-toolchain" ]; then
	llvm=$(sed -n 's/^LLVM=//p' "$kdir/.rtun-toolchain")
fi
llvm=${llvm:-1}
if [ "$src" != "$RTUN_ROOT" ]; then
	mkdir -p "$src" || die "cannot create $src"
	rsync -a --delete --exclude='*.o' --exclude='*.cmd' --exclude='*.bc' --exclude=rtun_h.rs \
		"$RTUN_ROOT/Kbuild" "$RTUN_ROOT/rust" "$RTUN_ROOT/include" \
		"$RTUN_ROOT/shim" "$src/" || die "cannot copy the module sources to $src"
	mkdir -p "$src/scripts" && cp "$RTUN_ROOT/scripts/gen-ffi.sh" "$src/scripts/" ||
		die "cannot copy scripts/gen-ffi.sh to $src"
fi
# The shim's data path inlined into the Rust code (Kbuild): on a kernel
# without CONFIG_RUST_INLINE_HELPERS (6.12), with a clang and llvm-link of
# rustc's own LLVM version (clang-22 for rustc 1.95), when installed.
# RTUN_INLINE=0 leaves the shim an ordinary C object there (to compare).
bc=()
if [ "${RTUN_INLINE:-1}" = 1 ] && ! grep -q '^CONFIG_RUST_INLINE_HELPERS=y' "$kdir/.config"; then
	major=$(rustc --version --verbose 2>/dev/null | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
	if [ -n "$major" ] && command -v "clang-$major" >/dev/null &&
		command -v "llvm-link-$major" >/dev/null; then
		bc=(RTUN_BC_CC="clang-$major" RTUN_BC_LINK="llvm-link-$major")
	else
		info "no clang-$major/llvm-link-$major (rustc's LLVM): the shim's data path stays out of line"
	fi
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Rebuild the Rust object so its warnings are always seen (and its
# bitcode, which tells check-inline.sh the shim was linked in).
rm -f "$src/rust/rtun_main.o" "$src/rust/rtun_main.m.bc"
if ! make -C "$kdir" M="$src" LLVM="$llvm" $clippy "${bc[@]}" modules >"$log" 2>&1; then
	cat "$log" >&2
	die "module build failed${clippy:+ (clippy)}"
fi
if grep -qiE '(^|[^a-z])warning' "$log"; then
	cat "$log" >&2
	die "module build has warnings${clippy:+ (clippy)}"
fi
inl=
[ ! -f "$src/rust/rtun_main.m.bc" ] || inl=", the shim's data path inlined"
info "$src/rtun.ko built${clippy:+ and clippy-clean} against $kdir$inl"
