#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# W6, run in the guest: iperf3 TCP between two network namespaces joined
# by two TAP devices of one driver and the forwarder of the end-to-end
# test (selftests/rtun/tun_fwd, one thread per direction with blocking
# read() and write(), IFF_VNET_HDR and TSO), set up by
# selftests/rtun/fwd_lib.sh.  Both drivers' set-ups exist side by side;
# the rounds alternate C, rtun, C, rtun, ...
#
# Usage: w6-iperf.sh ROUNDS SECONDS
#
# Prints CSV lines (workload,metric,better,driver,round,value) on stdout,
# progress on stderr.  Exits non-zero if a set-up step, an iperf3 run or a
# forwarder fails; never because of a speed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rounds=${1:?rounds}
secs=${2:?seconds}
. "$here/../selftests/rtun/fwd_lib.sh"
work=$(mktemp -d /tmp/w6.XXXXXX)

say() { printf 'w6-iperf: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

declare -A node=([c]=/dev/net/tun [rust]=/dev/net/rtun)
declare -A net=([c]=10.61.0 [rust]=10.62.0)
# iperf3 client and server on vCPU 0, the forwarder on vCPU 1.
FWD_PREFIX="taskset -c 0"

cleanup() {
	local d
	for d in c rust; do
		fwd_pair_down "w6$d" || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

command -v iperf3 >/dev/null || fail "iperf3 is not installed in the guest"

setup() {
	local d=$1 t=w6$1

	# The offloads of the forwarder W6 has always had: CSUM|TSO4|TSO6.
	fwd_pair_up "$t" "${node[$d]}" "w6${d:0:1}a" "w6${d:0:1}b" "$t-a" "$t-b" \
		"${net[$d]}" "$work/$d" -T -c 1 -o 0x7 -t 86400 ||
		fail "$d: $FWD_ERR"
	fwd_iperf_server "$t" -p 5201 || fail "$d: $FWD_ERR"
}

# One iperf3 run; prints Gbit/s received.
run() {
	local d=$1 t=w6$1 sent recv bps err

	fwd_iperf_client "$t" "$2" -p 5201 ||
		fail "$d: $FWD_ERR $(head -c 2000 "$work/$d/client.json"; echo; cat "$work/$d/fwd.err")"
	kill -0 "${FWD_PID[$t]}" 2>/dev/null ||
		fail "$d: the forwarder died: $(cat "$work/$d/fwd.err")"
	read -r sent recv bps err < <(fwd_iperf_summary "$work/$d/client.json")
	[ "$err" = - ] || fail "$d: iperf3: $err"
	[ "$recv" -gt 0 ] || fail "$d: iperf3 received nothing (sent $sent)"
	awk -v b="$bps" 'BEGIN { printf "%.6g\n", b / 1e9 }'
}

for d in c rust; do
	setup "$d"
done
say "set up; warm-up run per driver"
for d in c rust; do
	run "$d" 1 >/dev/null || fail "$d: warm-up"
done
for r in $(seq "$rounds"); do
	for d in c rust; do
		v=$(run "$d" "$secs") || fail "$d: round $r"
		echo "w6-iperf3,Gbit/s,h,$d,$r,$v"
	done
done
for d in c rust; do
	fwd_server_stop "w6$d" || true
	fwd_stop "w6$d" || fail "$d: the forwarder failed: $(cat "$work/$d/fwd.err")"
	cat "$work/$d/fwd.out" "$work/$d/fwd.err" >&2
done
