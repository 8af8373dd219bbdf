# SPDX-License-Identifier: GPL-2.0
#
# iperf3 through two TAP devices joined by tun_fwd: the harness of the
# end-to-end test (e2e_iperf.sh) and of the W6 benchmark
# (bench/w6-iperf.sh).  Sourced, not run.
#
#   netns NS_A: DEV_A NET.1/24 <-fd-> tun_fwd <-fd-> netns NS_B: DEV_B NET.2/24
#
# A pair is named by a tag; its state is kept in the FWD_* arrays:
#
#   fwd_pair_up TAG NODE DEV_A DEV_B NS_A NS_B NET DIR [TUN_FWD-OPTION...]
#       start tun_fwd on NODE (its output in DIR/fwd.out and DIR/fwd.err),
#       wait until it has made both devices, move them into the new
#       namespaces, address and bring them up (no IPv6 addresses: no
#       neighbour discovery to forward while the other side is down)
#   fwd_iperf_server TAG [IPERF3-OPTION...]
#       iperf3 -s bound to NET.2 in NS_B (output in DIR/server.out), and
#       wait until it listens
#   fwd_iperf_client TAG SECONDS [IPERF3-OPTION...]
#       iperf3 -c NET.2 -t SECONDS --json from NS_A into DIR/client.json,
#       stderr in DIR/client.err; the client's exit status
#   fwd_iperf_summary FILE
#       "SENT RECEIVED BITS_PER_SECOND ERROR" from iperf3's JSON in FILE
#       (ERROR "-" if none; "0 0 0 REASON" if FILE has no result)
#   fwd_server_stop TAG     stop the server; its exit status
#   fwd_stop TAG            SIGTERM to tun_fwd; its exit status
#   fwd_pair_down TAG       stop what still runs, delete the namespaces
#
# Each function but fwd_iperf_summary returns non-zero with the reason in
# FWD_ERR on failure.  FWD_TUN_FWD is the forwarder (default: tun_fwd
# next to this file); FWD_PREFIX is put before an iperf3 command (e.g.
# FWD_PREFIX="taskset -c 0" fwd_iperf_client ...).

fwd_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FWD_TUN_FWD=${FWD_TUN_FWD:-$fwd_here/tun_fwd}
FWD_PREFIX=${FWD_PREFIX:-}
FWD_ERR=
declare -A FWD_PID FWD_SRV FWD_NS_A FWD_NS_B FWD_NET FWD_DIR

# fwd_wait TENTHS CMD...: wait up to TENTHS tenths of a second for CMD.
fwd_wait() {
	local tries=$1

	shift
	while [ "$tries" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

fwd_pair_up() {
	local tag=$1 node=$2 deva=$3 devb=$4 nsa=$5 nsb=$6 net=$7 dir=$8

	shift 8
	FWD_NS_A[$tag]=$nsa FWD_NS_B[$tag]=$nsb FWD_NET[$tag]=$net
	FWD_DIR[$tag]=$dir
	mkdir -p "$dir"
	if [ ! -c "$node" ]; then
		FWD_ERR="$node missing (module not loaded)"
		return 1
	fi
	if [ ! -x "$FWD_TUN_FWD" ]; then
		FWD_ERR="$FWD_TUN_FWD not built"
		return 1
	fi
	rm -f "$dir/ready"
	"$FWD_TUN_FWD" -n "$node" -r "$dir/ready" "$@" "$deva" "$devb" \
		>"$dir/fwd.out" 2>"$dir/fwd.err" &
	FWD_PID[$tag]=$!
	if ! fwd_wait 50 test -s "$dir/ready"; then
		FWD_ERR="forwarder did not start: $(cat "$dir/fwd.err")"
		return 1
	fi
	if ! printf '%s\n' "netns add $nsa" "netns add $nsb" \
		"link set $deva addrgenmode none" "link set $devb addrgenmode none" \
		"link set $deva netns $nsa" "link set $devb netns $nsb" | ip -batch - ||
		! printf '%s\n' "link set lo up" "addr add $net.1/24 dev $deva" \
			"link set $deva up" | ip -n "$nsa" -batch - ||
		! printf '%s\n' "link set lo up" "addr add $net.2/24 dev $devb" \
			"link set $devb up" | ip -n "$nsb" -batch -; then
		FWD_ERR="namespace set-up failed"
		return 1
	fi
}

# fwd_listening FILE: iperf3's server said it listens.
fwd_listening() {
	grep -qs listening "$1"
}

fwd_iperf_server() {
	local tag=$1 dir=${FWD_DIR[$1]}

	shift
	# --forceflush: "listening" reaches the file at once.
	ip netns exec "${FWD_NS_B[$tag]}" $FWD_PREFIX iperf3 -s \
		-B "${FWD_NET[$tag]}.2" --forceflush "$@" >"$dir/server.out" 2>&1 &
	FWD_SRV[$tag]=$!
	if ! fwd_wait 150 fwd_listening "$dir/server.out"; then
		FWD_ERR="iperf3 server did not listen: $(<"$dir/server.out")"
		return 1
	fi
}

fwd_iperf_client() {
	local tag=$1 secs=$2 dir=${FWD_DIR[$1]}

	shift 2
	if ! ip netns exec "${FWD_NS_A[$tag]}" $FWD_PREFIX iperf3 \
		-c "${FWD_NET[$tag]}.2" -t "$secs" --json "$@" \
		>"$dir/client.json" 2>"$dir/client.err"; then
		FWD_ERR="iperf3 client failed: $(<"$dir/client.err")"
		return 1
	fi
}

fwd_iperf_summary() {
	python3 - "$1" <<'EOF'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    e = j.get("end", {})
    print("%d %d %d %s" % (e["sum_sent"]["bytes"],
          e["sum_received"]["bytes"], e["sum_received"]["bits_per_second"],
          j.get("error", "-").replace(" ", "_")))
except Exception as ex:
    print("0 0 0 %s" % str(ex).replace(" ", "_"))
EOF
}

fwd_server_stop() {
	local pid=${FWD_SRV[$1]:-} rc=0

	FWD_SRV[$1]=
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || rc=$?
	return $rc
}

fwd_stop() {
	local pid=${FWD_PID[$1]:-} rc=0

	FWD_PID[$1]=
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" || rc=$?
	return $rc
}

fwd_pair_down() {
	local tag=$1

	fwd_server_stop "$tag"
	fwd_stop "$tag"
	[ -z "${FWD_NS_A[$tag]:-}" ] || ip netns del "${FWD_NS_A[$tag]}" 2>/dev/null
	[ -z "${FWD_NS_B[$tag]:-}" ] || ip netns del "${FWD_NS_B[$tag]}" 2>/dev/null
	FWD_NS_A[$tag]=
	FWD_NS_B[$tag]=
	return 0
}
