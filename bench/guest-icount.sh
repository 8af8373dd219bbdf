#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the guest under QEMU with the plugin bench/icount.c
# (bench/icount.sh starts it so): loads tun.ko and rtun.ko (--ko, default
# the tree's rtun.ko) unless loaded, writes the kernel's and the modules' text symbols where
# the plugin reads them, then runs the counted batches of every write and
# read workload on both drivers, and has the plugin write its results.
#
# Usage: guest-icount.sh [--batches N] [--only W1,W2,...] [--ko RTUN_KO]
#                        [OUT_DIR]
#
# OUT_DIR defaults to $RTUN_OUT (set by scripts/vm-run.sh).
#
# OUT_DIR/icount-kallsyms.txt  text symbols of /proc/kallsyms (the plugin's
#                              kallsyms= file)
# OUT_DIR/icount-modules.txt   /proc/modules, for the record
# OUT_DIR/icount-regions.csv   region,workload,driver,phase,ops_per_batch,batches
# OUT_DIR/icount-meta.txt      key=value: kernel, module versions
# (the plugin writes OUT_DIR/icount.txt on the host side)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

batches=100 only= ko=$here/../rtun.ko
while [ $# -gt 0 ]; do
	case "$1" in
	--batches) batches=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--ko) ko=$2; shift 2 ;;
	-*) echo "guest-icount: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
out=${1:-${RTUN_OUT:?usage: guest-icount.sh [options] OUT_DIR}}
mkdir -p "$out"
bench=$here/rtun-bench
[ -x "$bench" ] || { echo "guest-icount: $bench not built (run make bench-icount)" >&2; exit 1; }
kdir=${RTUN_KDIR:?RTUN_KDIR not set: run this through scripts/vm-run.sh}
grep -q '^tun ' /proc/modules || insmod "$kdir/drivers/net/tun.ko" ||
	{ echo "guest-icount: cannot load $kdir/drivers/net/tun.ko" >&2; exit 1; }
grep -q '^rtun ' /proc/modules || insmod "$ko" ||
	{ echo "guest-icount: cannot load $ko" >&2; exit 1; }

# Text symbols only; module symbols carry "[module]".  The plugin reads
# the file at the first counted batch, so it must be complete before.
grep -E '^[0-9a-f]+ [tTwW] ' /proc/kallsyms >"$out/icount-kallsyms.txt.tmp"
grep -q '^0000000000000000 ' "$out/icount-kallsyms.txt.tmp" &&
	{ echo "guest-icount: /proc/kallsyms shows no addresses (kptr_restrict?)" >&2; exit 1; }
grep -q '[[:space:]]\[rtun\]$' "$out/icount-kallsyms.txt.tmp" ||
	{ echo "guest-icount: no rtun symbols in /proc/kallsyms" >&2; exit 1; }
mv "$out/icount-kallsyms.txt.tmp" "$out/icount-kallsyms.txt"
cp /proc/modules "$out/icount-modules.txt"
{
	echo "guest_kernel=$(uname -r) $(uname -v)"
	echo "guest_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "guest_vcpus=$(nproc)"
	echo "batches=$batches"
} >"$out/icount-meta.txt"
sync

want() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

# Empties every slab cache's per-CPU caches (and on 7.x their sheaves)
# before a workload, so that its counted batches start from the same
# allocator state in every boot (Documentation/benchmark.md,
# Repeatability).
shrink_slabs() {
	local f
	for f in /sys/kernel/slab/*/shrink; do
		echo 1 >"$f" 2>/dev/null || true
	done
}

echo "region,workload,driver,phase,ops_per_batch,batches" >"$out/icount-regions.csv"
status=0
start=$(date +%s)
for w in $("$bench" list); do
	case "$w" in mem-*) continue ;; esac
	want "$w" || continue
	echo "guest-icount: $w" >&2
	shrink_slabs
	if ! "$bench" --icount "$batches" --cpu 1 "$w" >>"$out/icount-regions.csv"; then
		echo "guest-icount: $w FAILED (see above)" >&2
		status=1
	fi
done
"$bench" icount-dump
echo "guest_seconds=$(($(date +%s) - start))" >>"$out/icount-meta.txt"
sync
exit $status
