#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Where the time goes: flat kernel profiles of workloads, one driver at a
# time, in the guest, and their comparison per operation.  There is no PMU
# under TCG, so perf samples the software cpu-clock event; the kernel has
# neither frame pointers nor ORC, so there are no call graphs, only
# symbols.
#
# Usage (on the host; make bench or make bench-quick builds bench/rtun-bench):
#   bash scripts/vm-run.sh -- bash scripts/guest-run.sh \
#       bash bench/profile.sh [--seconds S] WORKLOAD...
#
# Only write and read workloads (w1..w5).  For each workload:
# $RTUN_OUT/profile-WORKLOAD-{c,rust}.txt (perf report -n --sort dso,sym)
# $RTUN_OUT/annotate-WORKLOAD-{c,rust}.txt (bench/annotate.py: samples in
# the driver's functions by the call they follow),
# and $RTUN_OUT/profile-WORKLOAD.txt (bench/profile_compare.py: samples
# per million operations, C against rtun, largest differences first), which
# is also printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=5
if [ "${1:-}" = --seconds ]; then
	secs=$2
	shift 2
fi
[ $# -gt 0 ] || { echo "usage: profile.sh [--seconds S] WORKLOAD..." >&2; exit 2; }
out=${RTUN_OUT:-/tmp}
command -v perf >/dev/null || { echo "profile: perf not found in the guest" >&2; exit 1; }
for w in "$@"; do
	declare -A ops=()
	for d in c rust; do
		data=/tmp/perf-$w-$d.data
		csv=/tmp/perf-$w-$d.csv
		perf record -q -e cpu-clock -F 2000 -o "$data" -- \
			"$here/rtun-bench" --order "$d" --rounds 1 --slices 1 \
			--seconds "$secs" "$w" >"$csv" 2>"$out/profile-$w-$d.err" ||
			{ cat "$out/profile-$w-$d.err" >&2; exit 1; }
		# Operations = rate x seconds (writes/s, or reads/s of the
		# whole round: send+read pkts/s).
		ops[$d]=$(awk -F, -v s="$secs" '$2 == "writes/s" ||
			$2 == "send+read pkts/s" { printf "%.0f", $6 * s }' "$csv")
		# Module symbols come from kallsyms: rtun.ko is not under
		# /lib/modules.
		perf report -i "$data" --kallsyms=/proc/kallsyms --stdio -n \
			--sort dso,sym 2>/dev/null >"$out/profile-$w-$d.txt" || true
		# Inside the driver's own functions: which calls the samples follow.
		mod=tun ko=${RTUN_KDIR:-}/drivers/net/tun.ko
		[ "$d" = c ] || mod=rtun ko=$here/../rtun.ko
		grep "\[$mod\]\$" /proc/kallsyms >/tmp/kallsyms-$mod.txt || true
		perf script -i "$data" --kallsyms=/proc/kallsyms -F ip,sym \
			2>/dev/null >/tmp/ips-$w-$d.txt || true
		python3 "$here/annotate.py" /tmp/ips-$w-$d.txt /tmp/kallsyms-$mod.txt \
			"$ko" >"$out/annotate-$w-$d.txt" 2>&1 || true
	done
	echo "=== $w ==="
	python3 "$here/profile_compare.py" "$out/profile-$w-c.txt" "${ops[c]}" \
		"$out/profile-$w-rust.txt" "${ops[rust]}" 30 | tee "$out/profile-$w.txt"
	unset ops
done
