#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# W6, run in the guest: iperf3 TCP between two network namespaces joined
# by two TAP devices of one driver and a forwarder (rtun-bench fwd) that
# copies frames between them with IFF_VNET_HDR and TSO.  Both drivers'
# set-ups exist side by side; the rounds alternate C, rtun, C, rtun, ...
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
bench=$here/rtun-bench
work=$(mktemp -d /tmp/w6.XXXXXX)

say() { printf 'w6-iperf: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

declare -A node=([c]=/dev/net/tun [rust]=/dev/net/rtun)
declare -A net=([c]=10.61.0 [rust]=10.62.0)
declare -A fpid spid

cleanup() {
	local d
	for d in c rust; do
		[ -z "${fpid[$d]:-}" ] || kill "${fpid[$d]}" 2>/dev/null || true
		[ -z "${spid[$d]:-}" ] || kill "${spid[$d]}" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	for d in c rust; do
		ip netns del "w6$d-a" 2>/dev/null || true
		ip netns del "w6$d-b" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

command -v iperf3 >/dev/null || fail "iperf3 is not installed in the guest"

setup() {
	local d=$1 a=w6$1-a b=w6$1-b n=${net[$1]} i
	ip netns add "$a" && ip netns add "$b" || fail "$d: ip netns add"
	mkfifo "$work/ready-$d"
	# Forwarder on vCPU 1; iperf3 client and server on vCPU 0.
	"$bench" fwd --node "${node[$d]}" --ns-a "$a" --ns-b "$b" \
		--name-a "w6${d:0:1}a" --name-b "w6${d:0:1}b" --cpu 1 \
		>"$work/ready-$d" 2>"$work/fwd-$d.log" &
	fpid[$d]=$!
	read -r -t 30 line <"$work/ready-$d" || true
	[ "${line:-}" = ready ] ||
		fail "$d: the forwarder did not start: $(cat "$work/fwd-$d.log")"
	for i in a b; do
		local ns=w6$d-$i dev=w6${d:0:1}$i addr
		[ $i = a ] && addr=$n.1 || addr=$n.2
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || true
		ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add "$addr/24" dev "$dev" &&
		ip -n "$ns" link set "$dev" up ||
			fail "$d: configuring $dev in $ns"
	done
	ip netns exec "$b" taskset -c 0 iperf3 -s -B "$n.2" -p 5201 \
		>"$work/server-$d.log" 2>&1 &
	spid[$d]=$!
	# Wait for the server to listen.
	for i in $(seq 50); do
		if ip netns exec "$b" ss -ltn 2>/dev/null | grep -q ":5201"; then
			return 0
		fi
		sleep 0.2
	done
	ip netns exec "$b" ss -ltn >/dev/null 2>&1 || { sleep 3; return 0; }
	fail "$d: iperf3 server not listening: $(cat "$work/server-$d.log")"
}

# One iperf3 run; prints Gbit/s received.
run() {
	local d=$1 t=$2 out=$work/client-$1.json
	if ! ip netns exec "w6$d-a" taskset -c 0 iperf3 -c "${net[$d]}.2" \
		-p 5201 -t "$t" -J >"$out" 2>&1; then
		fail "$d: iperf3 client failed: $(head -c 2000 "$out"; echo; cat "$work/fwd-$d.log")"
	fi
	kill -0 "${fpid[$d]}" 2>/dev/null ||
		fail "$d: the forwarder died: $(cat "$work/fwd-$d.log")"
	python3 - "$out" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
r = j["end"]["sum_received"]
if r["bytes"] <= 0:
    sys.exit("iperf3 received nothing")
print("%.6g" % (r["bits_per_second"] / 1e9))
EOF
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
	kill "${fpid[$d]}" 2>/dev/null || true
	wait "${fpid[$d]}" 2>/dev/null || true
	fpid[$d]=
	cat "$work/fwd-$d.log" >&2
done
