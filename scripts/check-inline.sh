#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Which shim functions the data path still calls out of line.  Disassembles
# MODULE and follows, from each path's entry point (the Rust trampolines C
# calls: the file's read_iter, write_iter and poll, the device's
# ndo_start_xmit), every call into rtun's own Rust code; every call it
# finds on the way to a shim function (an rtun_* C symbol) is listed with
# its number of call sites, and whether shim/rtun_data.c defines it (the
# wrappers Kbuild links into the Rust object as bitcode when the kernel
# has CONFIG_RUST_INLINE_HELPERS).
#
# With --kdir KDIR of a kernel with CONFIG_RUST_INLINE_HELPERS=y, or for a
# module whose shim Kbuild linked in as bitcode (rust/rtun_main.m.bc
# beside it: 6.12 with RTUN_BC_CC), it fails (exit 1) if any of those
# wrappers is still called out of line on one of these paths; otherwise
# it only reports.  Exit 2: bad usage, no module,
# no disassembler, or an entry point not found.
#
# Usage: scripts/check-inline.sh [--kdir KDIR] [--verbose] [MODULE]
#   --kdir KDIR  the kernel MODULE was built against (reads KDIR/.config)
#   --verbose    also list the calls to kernel functions on each path
#   MODULE       default: rtun.ko at the top of the tree
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

kdir=
verbose=0
ko=
while [ $# -gt 0 ]; do
	case "$1" in
	--kdir) [ $# -ge 2 ] || { echo "check-inline: --kdir needs a directory" >&2; exit 2; }
		kdir=$2; shift 2 ;;
	--verbose) verbose=1; shift ;;
	-*) echo "check-inline: unknown option '$1'" >&2; exit 2 ;;
	*) ko=$1; shift ;;
	esac
done
ko=${ko:-$here/../rtun.ko}
data_c=$here/../shim/rtun_data.c

[ -f "$ko" ] || { echo "check-inline: $ko not found: build the module first (make)" >&2; exit 2; }
[ -f "$data_c" ] || { echo "check-inline: $data_c not found" >&2; exit 2; }

# The LLVM tools of the kernel's toolchain (LLVM=-22 on 7.3), else any.
tool() {
	local t
	for t in "$1-22" "$1-19" "$1"; do
		command -v "$t" >/dev/null && { echo "$t"; return 0; }
	done
	echo "check-inline: $1 not found (apt install llvm)" >&2
	exit 2
}
objdump=$(tool llvm-objdump)
nm=$(tool llvm-nm)
cxxfilt=$(tool llvm-cxxfilt)

inline=0
if [ -n "$kdir" ]; then
	[ -f "$kdir/.config" ] || { echo "check-inline: $kdir/.config not found" >&2; exit 2; }
	grep -q '^CONFIG_RUST_INLINE_HELPERS=y' "$kdir/.config" && inline=1
fi
# Kbuild's own bitcode rule (a kernel without CONFIG_RUST_INLINE_HELPERS,
# scripts/build-module.sh with RTUN_BC_CC) leaves the linked bitcode
# beside the object; the wrappers must then be inlined too.
[ ! -f "$(dirname "$ko")/rust/rtun_main.m.bc" ] || inline=1

# The wrappers of shim/rtun_data.c: its definitions marked __rtun_data.
inlinable=$(grep -oE '^__rtun_data [^(]*\brtun_[a-z0-9_]+\(' "$data_c" |
	grep -oE 'rtun_[a-z0-9_]+\($' | tr -d '(' | sort -u)
[ -n "$inlinable" ] || { echo "check-inline: no __rtun_data function in $data_c" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Defined functions, mangled and demangled side by side, to find entry points.
"$nm" --defined-only "$ko" | awk '$2 ~ /^[tT]$/ { print $3 }' | sort -u >"$tmp/syms"
"$cxxfilt" <"$tmp/syms" | paste -d '\t' "$tmp/syms" - >"$tmp/names"

# Call edges "caller callee" of the whole module.  A call to another
# object's symbol carries a relocation on the next line; a call to a
# function of the same section may be resolved already, and then the
# instruction names its target.  Tail calls (jmp to another function)
# count as calls.
"$objdump" -dr --no-show-raw-insn "$ko" | awk '
	function flush(  t) {
		if (pend == "")
			return
		t = pend
		pend = ""
		if (t ~ /\+0x[0-9a-f]+$/ || t == fn)
			return
		print fn, t
	}
	/^[0-9a-f]+ <.*>:$/ {
		flush()
		fn = $2
		sub(/^</, "", fn)
		sub(/>:$/, "", fn)
		next
	}
	/^[ \t]+[0-9a-f]+:[ \t]+R_X86_64_/ {
		if (pend != "") {
			t = $3
			sub(/[-+]0x[0-9a-f]+$/, "", t)
			pend = ""
			if (t != fn && t !~ /^\./)
				print fn, t
		}
		next
	}
	/^[ \t]+[0-9a-f]+:/ {
		flush()
		if ($2 ~ /^(callq?|jmpq?)$/ && $0 ~ /<[^>]*>$/) {
			pend = $0
			sub(/^.*</, "", pend)
			sub(/>$/, "", pend)
		}
	}
	END { flush() }
' >"$tmp/edges"

# Follows the calls from ENTRY through functions of this module that are
# not shim functions (C, named rtun_*); prints each call leaving them as
# "callee sites".
reach() {
	awk -v entry="$1" -v defs="$tmp/syms" '
		BEGIN { while ((getline s <defs) > 0) def[s] = 1 }
		{ n[$1]++; e[$1, n[$1]] = $2 }
		END {
			seen[entry] = 1
			q[1] = entry
			for (h = 1; h <= length(q); h++) {
				f = q[h]
				for (i = 1; i <= n[f]; i++) {
					t = e[f, i]
					if (t in def && t !~ /^rtun_[a-z0-9_]+$/) {
						if (!(t in seen)) {
							seen[t] = 1
							q[length(q) + 1] = t
						}
					} else {
						out[t]++
					}
				}
			}
			for (t in out)
				print t, out[t]
			print "#functions", length(seen)
		}
	' "$tmp/edges" | sort
}

# path name, what C calls, and the demangled entry point it must match
paths=(
	"read|read_iter|::abstractions::file::Adapter<.*>>::read_iter$"
	"write|write_iter|::abstractions::file::Adapter<.*>>::write_iter$"
	"xmit|ndo_start_xmit|::abstractions::netdev::Adapter<.*>>::start_xmit$"
	"poll|poll|::abstractions::file::Adapter<.*>>::poll$"
)

if [ -f "$(dirname "$ko")/rust/rtun_main.m.bc" ]; then
	helpers="yes, linked in as bitcode"
elif [ $inline = 1 ]; then
	helpers=yes
elif [ -n "$kdir" ]; then
	helpers=no
else
	helpers="not known without --kdir"
fi
echo "check-inline: $ko (shim's data path inlined into the Rust code: $helpers)"
bad=()
for p in "${paths[@]}"; do
	IFS='|' read -r name what re <<<"$p"
	entry=$(awk -F '\t' -v re="$re" '$2 ~ re { print $1 }' "$tmp/names")
	[ "$(printf '%s\n' "$entry" | grep -c .)" = 1 ] ||
		{ echo "check-inline: $name: no single entry point matching '$re'" >&2; exit 2; }
	reach "$entry" >"$tmp/out"
	nfun=$(awk '$1 == "#functions" { print $2 }' "$tmp/out")
	grep -v '^#' "$tmp/out" >"$tmp/calls" || true
	shim=$(awk '$1 ~ /^rtun_[a-z0-9_]+$/' "$tmp/calls")
	nshim=$(printf '%s\n' "$shim" | awk 'NF { s += $2 } END { print s + 0 }')
	nkern=$(awk '$1 !~ /^rtun_[a-z0-9_]+$/ { s += $2 } END { print s + 0 }' "$tmp/calls")
	printf '%-6s (%s, %d function(s) of the module): %d shim call site(s), %d other\n' \
		"$name" "$what" "$nfun" "$nshim" "$nkern"
	while read -r sym sites; do
		[ -n "$sym" ] || continue
		if printf '%s\n' "$inlinable" | grep -x "$sym" >/dev/null; then
			kind="shim/rtun_data.c"
			[ $inline = 0 ] || bad+=("$name: $sym")
		else
			kind="shim/rtun_shim.c"
		fi
		printf '         %-28s %2d  %s\n' "$sym" "$sites" "$kind"
	done <<<"$shim"
	if [ $verbose = 1 ]; then
		awk '$1 !~ /^rtun_[a-z0-9_]+$/' "$tmp/calls" | while read -r sym sites; do
			printf '         %-28s %2d  %s\n' "$(echo "$sym" | "$cxxfilt")" "$sites" "kernel"
		done
	fi
done

if [ ${#bad[@]} -gt 0 ]; then
	echo "check-inline: the kernel inlines helpers, yet these wrappers of shim/rtun_data.c are still called:" >&2
	printf '  %s\n' "${bad[@]}" >&2
	exit 1
fi
if [ $inline = 1 ]; then
	echo "check-inline: no wrapper of shim/rtun_data.c is called out of line on these paths"
fi
