#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench / make bench-quick: build rtun.ko and the benchmark, boot the
# VM, run every workload on the C driver and on rtun in alternating rounds,
# and report.
#
# Usage: bench/run.sh [--quick]
#
#   (default)  3 boots of 10 rounds of 1 s per workload and driver;
#              writes Documentation/bench/raw.csv, meta.txt, ratios.svg
#              and the results table in Documentation/benchmark.md
#   --quick    1 boot, 1 round of 1 s; prints a compact table, writes
#              nothing under Documentation/
#
# Why several boots: under TCG the Rust/C ratio of one workload moves by
# up to 10% from one boot to the next with the same rtun.ko (where code
# and data land in memory), far more than its interval within a boot, so
# the reported interval is taken across boots (bench/report.py).
#
# Environment: BENCH_BOOTS, BENCH_ROUNDS (per boot), BENCH_SECONDS,
# BENCH_DEVICES (devices per memory round), BENCH_ONLY (comma-separated workload ids, see
# bench/rtun-bench list; w6-iperf3 for W6), BENCH_TIMEOUT (VM timeout, s),
# and those of scripts/vm-run.sh (RTUN_ACCEL, RTUN_VM_CPUS, ...).
# A run with BENCH_ONLY set never touches Documentation/.
#
# Exit status: non-zero if a workload could not run (set-up failed, a
# write or read went wrong); never because of the speed measured.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$root/scripts/lib.sh"

quick=0
case "${1:-}" in
--quick) quick=1 ;;
"") ;;
*) die "usage: bench/run.sh [--quick]" ;;
esac

if [ $quick -eq 1 ]; then
	boots=${BENCH_BOOTS:-1}
	rounds=${BENCH_ROUNDS:-1} secs=${BENCH_SECONDS:-1} devices=${BENCH_DEVICES:-20}
else
	boots=${BENCH_BOOTS:-3}
	rounds=${BENCH_ROUNDS:-10} secs=${BENCH_SECONDS:-1} devices=${BENCH_DEVICES:-100}
fi
case "$boots" in
'' | *[!0-9]* | 0) die "BENCH_BOOTS must be a positive number, not '$boots'" ;;
esac
only=${BENCH_ONLY:-}

kdir=$(bash "$root/scripts/kdir.sh")
KDIR=$kdir bash "$root/scripts/build-module.sh"
[ -f "$kdir/usr/include/linux/if_tun.h" ] ||
	die "no UAPI headers in $kdir/usr/include: run scripts/build-kernel.sh"
gcc -O2 -g -Wall -Wextra -Wno-missing-field-initializers \
	-I"$kdir/usr/include" -o "$here/rtun-bench" "$here/rtun_bench.c" -pthread ||
	die "cannot build bench/rtun-bench"
# W6's forwarder is the end-to-end test's.
make -s -C "$root/selftests/rtun" KDIR="$kdir" "$root/selftests/rtun/tun_fwd" ||
	die "cannot build selftests/rtun/tun_fwd"

# What was built, recorded now: the tree may move while the VM runs.
git_rev=$(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(cd "$root" && git status --porcelain -- rust shim include Kbuild 2>/dev/null)" ]; then
	git_rev="$git_rev + uncommitted driver changes"
fi
ko_sha=$(sha256sum "$root/rtun.ko" | cut -c1-16)

ts=$(date +%Y%m%d-%H%M%S)
log=$RTUN_CACHE/logs/bench-$ts-$$.log
out=${log%.log}.d	# the results of all boots together
mkdir -p "$out"

# Host CPU time is sampled around the run: what the host's CPUs did minus
# what this script's children (the VM) did is the other work on the machine.
cpu_busy() { awk '/^cpu /{ print $2+$3+$4+$7+$8+$9 }' /proc/stat; }
# User + system seconds of this shell's waited-for children ('times' must
# run in this shell, not in a command substitution's subshell).
children_cpu() {
	times >"$timesf"
	sed -n 2p "$timesf" | awk '{ t = 0; for (i = 1; i <= 2; i++) {
		split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] } print t }'
}
timesf=$(mktemp)
trap 'rm -f "$timesf"' EXIT
hz=$(getconf CLK_TCK)
busy0=$(cpu_busy)
children_cpu >"$timesf.k"; kids0=$(cat "$timesf.k")
load0=$(cut -d' ' -f1-3 /proc/loadavg)
qemus0=$(pgrep -c -f '^[^ ]*qemu-system' || true)
t0=$(date +%s)

opts=(--rounds "$rounds" --seconds "$secs" --devices "$devices")
[ -z "$only" ] || opts+=(--only "$only")
tmo=${BENCH_TIMEOUT:-$([ $quick -eq 1 ] && echo 900 || echo 2400)}
info "benchmark: $boots boot(s), $rounds round(s) of ${secs}s per workload and driver in each; logs $log and ${log%.log}-boot*.log"
rc=0
for b in $(seq 1 "$boots"); do
	blog=${log%.log}-boot$b.log
	bout=${blog%.log}.d	# vm-run.sh's RTUN_OUT for this log
	[ "$boots" -eq 1 ] || info "boot $b of $boots"
	KDIR=$kdir bash "$root/scripts/vm-run.sh" --log "$blog" --timeout "$tmo" -- \
		bash "$root/scripts/guest-run.sh" bash "$here/guest-bench.sh" "${opts[@]}" ||
		rc=$?
	[ -f "$bout/raw.csv" ] || die "boot $b produced no raw.csv (see $blog)"
	# One table for all boots: the boot is the last column.
	if [ "$b" -eq 1 ]; then
		sed '1s/$/,boot/; 2,$s/$/,1/' "$bout/raw.csv" >"$out/raw.csv"
		cp "$bout/meta.txt" "$out/meta.txt"
	else
		sed "1d; s/\$/,$b/" "$bout/raw.csv" >>"$out/raw.csv"
	fi
	cat "$blog" >>"$log"
	gsecs=$((${gsecs:-0} + $(sed -n 's/^guest_seconds=//p' "$bout/meta.txt" | head -1)))
	[ "$rc" -eq 0 ] || break
done
echo "boots=$boots" >>"$out/meta.txt"
echo "guest_seconds_all_boots=$gsecs" >>"$out/meta.txt"

busy1=$(cpu_busy)
children_cpu >"$timesf.k"; kids1=$(cat "$timesf.k"); rm -f "$timesf.k"
wall=$(($(date +%s) - t0))
accel=${RTUN_ACCEL:-$(cat "$kdir/.rtun-accel" 2>/dev/null || true)}
grep -q "^guest_cpu=.*TCG" "$out/meta.txt" 2>/dev/null && accel=tcg
[ -d "$out" ] || die "no results directory $out (see $log)"
[ -f "$out/raw.csv" ] || die "the guest produced no raw.csv (see $log)"
other=$(awk -v b0="$busy0" -v b1="$busy1" -v k0="$kids0" -v k1="$kids1" \
	-v hz="$hz" -v w="$wall" 'BEGIN {
	o = (b1 - b0) / hz - (k1 - k0); if (o < 0) o = 0
	printf "%.2f", (w > 0 ? o / w : 0) }')
ncpu=$(nproc)
if awk -v o="$other" -v q="$qemus0" 'BEGIN { exit !(o < 0.15 && q == 0) }'; then
	note="The machine was quiet: other work used $other of $ncpu host CPUs on average during the run."
else
	note="**The machine was busy**: other work used $other of $ncpu host CPUs on average during the run ($qemus0 other QEMU process(es) at the start); figures are noisier than on a quiet machine."
fi
{
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "git=$git_rev"
	echo "rtun_ko_sha256=$ko_sha"
	echo "accel=${accel:-unknown}"
	echo "host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "host_cpus=$ncpu"
	echo "host_kernel=$(uname -r)"
	echo "host_loadavg_start=$load0"
	echo "host_loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "host_other_qemu=$qemus0"
	echo "host_other_cpu=$other"
	echo "load_note=$note"
	echo "host_wall_seconds=$wall"
} >>"$out/meta.txt"

if [ $quick -eq 1 ]; then
	echo
	echo "bench-quick: $rounds round(s) per driver, ${secs}s per workload and driver, ${accel:-?} (make bench for confidence intervals)"
	python3 "$here/report.py" --compact "$out/raw.csv"
	echo "$note" | sed 's/\*\*//g'
	echo "raw results: $out/raw.csv"
	[ "$rc" -eq 0 ] || die "some workloads failed (exit status $rc); see $log"
	exit 0
fi

if [ "$rc" -ne 0 ]; then
	python3 "$here/report.py" --compact "$out/raw.csv" || true
	die "the benchmark failed (exit status $rc); Documentation/ left as it was; see $log and $out"
fi
if [ -n "$only" ]; then
	python3 "$here/report.py" --meta "$out/meta.txt" "$out/raw.csv"
	info "BENCH_ONLY run: results in $out, Documentation/ left as it was"
	exit 0
fi
docs=$root/Documentation
mkdir -p "$docs/bench"
cp "$out/raw.csv" "$docs/bench/raw.csv"
cp "$out/meta.txt" "$docs/bench/meta.txt"
python3 "$here/report.py" --meta "$docs/bench/meta.txt" \
	--md "$docs/benchmark.md" --svg "$docs/bench/ratios.svg" "$docs/bench/raw.csv"
echo "$note" | sed 's/\*\*//g'
info "results: Documentation/benchmark.md, Documentation/bench/{raw.csv,meta.txt,ratios.svg}"
