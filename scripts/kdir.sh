#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel build directory to build rtun against.  With KDIR set,
# check that it is a built, Rust-enabled tree with the C tun driver as a
# module; otherwise install the dependencies of that kernel and build (or
# reuse) the cached kernel.
#
# Usage: kdir.sh [--kernel VER]   (6.12 or 7.3; default $RTUN_KERNEL, else
#                                  the first kernel of RTUN_KERNELS)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

kver=
case "${1:-}" in
--kernel) [ $# -ge 2 ] || die "--kernel needs a version"; kver=$2 ;;
--kernel=*) kver=${1#*=} ;;
"") ;;
*) die "kdir.sh: unknown option '$1'" ;;
esac

if [ -n "${KDIR:-}" ]; then
	[ -d "$KDIR" ] || die "KDIR=$KDIR is not a directory"
	cfg=$KDIR/.config
	[ -f "$cfg" ] || die "KDIR=$KDIR has no .config: point it at a configured, built kernel tree (O= directory)"
	grep -q '^CONFIG_RUST=y' "$cfg" || die "KDIR=$KDIR: CONFIG_RUST is not enabled"
	grep -q '^CONFIG_TUN=m' "$cfg" ||
		info "warning: KDIR=$KDIR: CONFIG_TUN is not =m; the C reference driver may be missing"
	[ -f "$KDIR/Module.symvers" ] || die "KDIR=$KDIR is not built (no Module.symvers): run 'make modules' there"
	echo "$KDIR"
	exit 0
fi
[ -n "$kver" ] || kver=$(rtun_default_kernel) || exit 1
rtun_check_kernel "$kver"
RTUN_KERNELS=$kver bash "$here/setup-deps.sh" >&2
bash "$here/build-kernel.sh" --kernel "$kver"
