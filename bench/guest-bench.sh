#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the guest (through scripts/guest-run.sh, which loads tun.ko and
# rtun.ko): every workload, rounds alternating C and rtun, raw results to
# OUT_DIR.
#
# Usage: guest-bench.sh [--rounds N] [--seconds S] [--slices N] [--devices N]
#                       [--only W1,W2,...] [OUT_DIR]
#
# OUT_DIR defaults to $RTUN_OUT (set by scripts/vm-run.sh).
#
# OUT_DIR/raw.csv    workload,metric,better,driver,round,value
# OUT_DIR/meta.txt   key=value: kernel, CPU, vCPUs, load, timing
# OUT_DIR/bench.log  progress and the programs' messages
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

rounds=10 secs=1 slices=10 devices=100 only=
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	--slices) slices=$2; shift 2 ;;
	--devices) devices=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	-*) echo "guest-bench: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
out=${1:-${RTUN_OUT:?usage: guest-bench.sh [options] OUT_DIR}}
mkdir -p "$out"
csv=$out/raw.csv meta=$out/meta.txt log=$out/bench.log
bench=$here/rtun-bench
[ -x "$bench" ] || { echo "guest-bench: $bench not built (run make bench)" >&2; exit 1; }
for n in /dev/net/tun /dev/net/rtun; do
	[ -c "$n" ] || { echo "guest-bench: $n missing: are tun.ko and rtun.ko loaded?" >&2; exit 1; }
done

start=$(date +%s)
{
	echo "guest_kernel=$(uname -r) $(uname -v)"
	echo "guest_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "guest_vcpus=$(nproc)"
	echo "guest_mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
	echo "guest_loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "rounds=$rounds"
	echo "round_seconds=$secs"
	echo "slices=$slices"
	echo "mem_devices=$devices"
} >"$meta"
echo "workload,metric,better,driver,round,value" >"$csv"

want() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

status=0
for w in $("$bench" list); do
	want "$w" || continue
	echo "guest-bench: $w" >&2
	if ! "$bench" --rounds "$rounds" --seconds "$secs" --slices "$slices" \
		--devices "$devices" \
		--cpu 1 "$w" >>"$csv" 2> >(tee -a "$log" >&2); then
		echo "guest-bench: $w FAILED (see above)" >&2
		status=1
	fi
done
if want w6-iperf3; then
	echo "guest-bench: w6-iperf3" >&2
	w6secs=$secs
	# iperf3 needs a little longer than a write loop to reach its rate.
	awk "BEGIN { exit !($secs < 2) }" && w6secs=2
	echo "w6_round_seconds=$w6secs" >>"$meta"
	if ! bash "$here/w6-iperf.sh" "$rounds" "$w6secs" >>"$csv" \
		2> >(tee -a "$log" >&2); then
		echo "guest-bench: w6-iperf3 FAILED (see above)" >&2
		status=1
	fi
fi
{
	echo "guest_loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "guest_seconds=$(($(date +%s) - start))"
} >>"$meta"
exit $status
