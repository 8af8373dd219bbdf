#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Shows that the C<->Rust boundary cannot drift: the Rust side is generated
# from include/rtun.h (scripts/gen-ffi.sh), so changing one side of it
# alone fails the module build.  Builds a copy of the module sources once
# as is (must succeed), then once per mutation of the header (each must
# fail):
#   - a field's type changes (struct rtun_skb_info.protocol u16 -> u32);
#   - a field disappears (struct rtun_netdev_cfg.lltx);
#   - a shared constant changes (RTUN_PTR_RING_ALIGN 64 -> 128).
# A mutation that still builds means a hand mirror or an unchecked
# constant crept back in.
#
# Usage: scripts/check-boundary.sh   (KDIR as for build-module.sh)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

kdir=$(bash "$here/kdir.sh") || die "no kernel to build against"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Usage: try NAME SED-EXPRESSION: builds a copy with the header edited by
# the expression (none for the baseline); returns the build's status.
try() {
	local name=$1 expr=$2 dir=$work/$1
	mkdir -p "$dir/scripts"
	rsync -a --exclude='*.o' --exclude='*.cmd' --exclude=rtun_h.rs \
		"$RTUN_ROOT/Kbuild" "$RTUN_ROOT/rust" "$RTUN_ROOT/include" \
		"$RTUN_ROOT/shim" "$dir/" || die "cannot copy the sources"
	cp "$here/gen-ffi.sh" "$dir/scripts/"
	if [ -n "$expr" ]; then
		cp "$dir/include/rtun.h" "$dir/rtun.h.orig"
		sed -i -E "$expr" "$dir/include/rtun.h"
		cmp -s "$dir/include/rtun.h" "$dir/rtun.h.orig" &&
			die "mutation '$name' did not change include/rtun.h"
	fi
	make -C "$kdir" M="$dir" LLVM="${LLVM:-1}" modules >"$dir.log" 2>&1
}

bad=0
if try baseline ''; then
	echo "check-boundary: ok   unchanged header builds"
else
	tail -n 20 "$work/baseline.log"
	echo "check-boundary: FAIL unchanged header does not build"
	exit 1
fi
while IFS='|' read -r name expr; do
	if try "$name" "$expr"; then
		echo "check-boundary: FAIL $name: the module still builds"
		bad=1
	else
		why=$(grep -m1 -E '^error' "$work/$name.log" || echo "(see log)")
		echo "check-boundary: ok   $name: build fails: $why"
	fi
done <<'EOF2'
field-type|s/^(\tu16 protocol;)/\tu32 protocol;/
field-removed|/^\tu8 lltx;$/d
constant|s/^(#define RTUN_PTR_RING_ALIGN\t)64$/\1128/
EOF2
exit $bad
