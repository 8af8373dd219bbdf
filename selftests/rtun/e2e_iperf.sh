#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: TCP over two TAP devices of one driver joined by tun_fwd.
#
#   netns A: e2e0 10.77.0.1/24 <-fd-> tun_fwd <-fd-> netns B: e2e1 10.77.0.2/24
#
# tun_fwd creates both devices (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, offloads
# CSUM|TSO4|TSO6|TSO_ECN|USO4|USO6) and copies frames with their
# virtio_net_hdr between the fds; fwd_lib.sh moves the devices into two
# network namespaces, runs `iperf3 -s` in B and `iperf3 -c -t 3` in A, then
# a python3 TCP transfer of E2E_BYTES bytes from A to B, and checks:
#   transfer               iperf3 completed, sender and receiver bytes > 0,
#                          every byte the receiver counted crossed the
#                          forwarder (its count of the data connection's
#                          stream), which carried no more than was sent.
#                          iperf3 3.12 cannot show sender == receiver: its
#                          server stops counting when the client's "test
#                          end" overtakes data still in flight (esnet/iperf
#                          issues 306 and 382); hence the next check;
#   bytes_exact            the python3 transfer arrived complete and intact
#                          (byte count and SHA-256 on both ends);
#   gso_through_forwarder  frames with gso_type != 0 larger than the MTU
#                          crossed the forwarder from A to B;
#   forwarder_clean        no read or write error (but EIO from a device
#                          that is still down), clean exit on SIGTERM.
# Runs for the C driver (variant c_tun) and rtun (variant rtun); prints
# KTAP and the iperf3 throughput (informational, never asserted).
#
# Usage: e2e_iperf.sh [-v VARIANT]...   (other kselftest harness options
#                                        are accepted and ignored)
# Environment: E2E_SECONDS (iperf3 -t, default 3), E2E_BYTES (python3
# transfer, default 4 MiB), E2E_OFFLOAD (tun_fwd -o, TUNSETOFFLOAD of both
# devices; with 0, gso_through_forwarder must fail).
# Needs root, ip(8), iperf3, python3, tun.ko and rtun.ko loaded,
# tun_fwd built next to this script.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/fwd_lib.sh"
secs=${E2E_SECONDS:-3}
xfer_bytes=${E2E_BYTES:-4194304}
mtu=1500

only=()
while [ $# -gt 0 ]; do
	case "$1" in
	-v) only+=("${2:-}"); shift; [ $# -eq 0 ] || shift ;;
	-t | -T | -f | -F | -V) shift; [ $# -eq 0 ] || shift ;;
	*) shift ;;
	esac
done

variants=(c_tun rtun)
declare -A node=([c_tun]=/dev/net/tun [rtun]=/dev/net/rtun)
checks=(transfer bytes_exact gso_through_forwarder forwarder_clean)

selected=()
for v in "${variants[@]}"; do
	if [ ${#only[@]} -eq 0 ] || [[ " ${only[*]} " == *" $v "* ]]; then
		selected+=("$v")
	fi
done

pass=0
fail=0
n=0
# ktap_result ok|"not ok" NAME [COMMENT]
ktap_result() {
	n=$((n + 1))
	if [ "$1" = ok ]; then
		pass=$((pass + 1))
		echo "ok $n $2"
	else
		fail=$((fail + 1))
		echo "not ok $n $2${3:+ # $3}"
	fi
}

work=$(mktemp -d /tmp/rtun-e2e.XXXXXX) || exit 1
trap 'fwd_pair_down e2e; rm -rf "$work"' EXIT

# check_transfers DIR NS_A NS_B: the numbers of iperf3's JSON in
# DIR/client.json, then the byte-exact transfer from NS_A to NS_B (a
# socket made in each namespace by one python3 process, which starts
# once: python is slow under TCG).  Prints "iperf SENT RECEIVED
# BITS_PER_SECOND ERROR", "xfer-sent N SHA" and "xfer-received N SHA".
check_transfers() {
	echo "iperf $(fwd_iperf_summary "$1/client.json")"
	python3 - "$@" "$xfer_bytes" <<'EOF'
import ctypes, hashlib, os, random, socket, sys, threading
d, nsa, nsb, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
libc = ctypes.CDLL(None, use_errno=True)
def enter(ns):
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    if libc.setns(fd, 0x40000000):
        raise OSError(ctypes.get_errno(), "setns " + ns)
    os.close(fd)
addr = ("10.77.0.2", 5202)
enter(nsb)
ls = socket.socket()
ls.bind(addr)
ls.listen(1)
ls.settimeout(30)
got = {}
def serve():
    try:
        c, _ = ls.accept()
        c.settimeout(30)
        h, n = hashlib.sha256(), 0
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            h.update(b)
            n += len(b)
        got["r"] = "%d %s" % (n, h.hexdigest())
        c.close()
    except Exception as ex:
        got["r"] = "error " + str(ex)
t = threading.Thread(target=serve, daemon=True)
t.start()
enter(nsa)
data = random.Random(2008).randbytes(total)
print("xfer-sent %d %s" % (total, hashlib.sha256(data).hexdigest()))
try:
    s = socket.create_connection(addr, timeout=30)
    s.sendall(data)
    s.close()
except Exception as ex:
    print("xfer-error " + str(ex))
t.join(40)
print("xfer-received " + got.get("r", "nothing"))
EOF
}

# run_variant NAME: the transfers; prints a KTAP line for each check.
run_variant() {
	local v=$1 dir=$work/$1 err= sent recv bps ierr flow xs xr start=$SECONDS
	local fwd_rc=? stats gso maxlen errors e

	nsa=rtun-e2e-a-$$
	nsb=rtun-e2e-b-$$
	echo "# e2e_iperf: $v: forwarder on ${node[$v]}"
	fwd_pair_up e2e "${node[$v]}" e2e0 e2e1 "$nsa" "$nsb" 10.77.0 "$dir" \
		${E2E_OFFLOAD:+-o "$E2E_OFFLOAD"} -t 90 || err=$FWD_ERR

	# iperf3, bounded: the server serves one client, both under timeout.
	if [ -z "$err" ]; then
		FWD_PREFIX="timeout 60" fwd_iperf_server e2e -1 || err=$FWD_ERR
	fi
	if [ -z "$err" ]; then
		FWD_PREFIX="timeout $((secs + 40))" fwd_iperf_client e2e "$secs" \
			--connect-timeout 10000 || err=$FWD_ERR
	fi
	if [ -n "$err" ]; then
		fwd_server_stop e2e
	else
		# The server exits after its one client.
		wait "${FWD_SRV[e2e]}" 2>/dev/null
		FWD_SRV[e2e]=
	fi
	# The byte-exact transfer and iperf3's numbers.
	# (Bounded by its socket timeouts.)
	[ -n "$err" ] || check_transfers "$dir" "$nsa" "$nsb" >"$dir/check.out" 2>&1

	if [ -n "${FWD_PID[e2e]:-}" ]; then
		fwd_stop e2e
		fwd_rc=$?
	fi
	sed 's/^/# /' "$dir/fwd.out" "$dir/fwd.err" 2>/dev/null

	# transfer
	read -r _ sent recv bps ierr < <(grep '^iperf ' "$dir/check.out" 2>/dev/null)
	[ "${ierr:--}" = - ] || err=${err:-iperf3: $ierr}
	# The data connection: the largest flow to port 5201 (the other is
	# iperf3's control connection); its stream starts with a 37-byte cookie.
	flow=$(sed -n 's/^tun_fwd: flow .*:5201 bytes \([0-9]*\)$/\1/p' "$dir/fwd.out" 2>/dev/null |
		sort -n | tail -1)
	echo "# e2e_iperf: $v: iperf3 sent ${sent:-?} bytes, received ${recv:-?};" \
		"the forwarder carried ${flow:-?} stream bytes"
	if [ -n "$bps" ]; then
		echo "# e2e_iperf: $v: throughput" \
			"$(awk -v b="$bps" 'BEGIN { printf "%.1f", b / 1e6 }') Mbit/s (informational)"
	fi
	if [ -z "$err" ] && [ -n "$sent" ] && [ "$sent" -gt 0 ] &&
		[ -n "$recv" ] && [ "$recv" -gt 0 ] && [ "$recv" -le "$sent" ] &&
		[ -n "$flow" ] && [ "$flow" -ge $((recv + 37)) ] &&
		[ "$flow" -le $((sent + 37)) ]; then
		ktap_result ok "e2e_iperf.$v.transfer"
	else
		ktap_result "not ok" "e2e_iperf.$v.transfer" \
			"${err:-sent ${sent:-?} received ${recv:-?} forwarded ${flow:-?}}"
	fi

	# bytes_exact
	sed -n 's/^xfer/# xfer/p' "$dir/check.out" 2>/dev/null
	xs=$(sed -n 's/^xfer-sent \(.*\)$/\1/p' "$dir/check.out" 2>/dev/null)
	xr=$(sed -n 's/^xfer-received \(.*\)$/\1/p' "$dir/check.out" 2>/dev/null)
	if [ -n "$xs" ] && [ "$xs" = "$xr" ] && [ "${xs%% *}" = "$xfer_bytes" ]; then
		ktap_result ok "e2e_iperf.$v.bytes_exact"
	else
		ktap_result "not ok" "e2e_iperf.$v.bytes_exact" \
			"${err:-sent '${xs:-?}' received '${xr:-?}'}"
	fi

	# gso_through_forwarder
	stats=$(grep "^tun_fwd: e2e0->e2e1 " "$dir/fwd.out" 2>/dev/null)
	gso=$(sed -n 's/.* gso \([0-9]*\).*/\1/p' <<<"$stats")
	maxlen=$(sed -n 's/.* maxlen \([0-9]*\).*/\1/p' <<<"$stats")
	if [ -n "$gso" ] && [ "$gso" -gt 0 ] && [ "${maxlen:-0}" -gt $((mtu + 14)) ]; then
		ktap_result ok "e2e_iperf.$v.gso_through_forwarder"
	else
		ktap_result "not ok" "e2e_iperf.$v.gso_through_forwarder" \
			"gso frames ${gso:-?}, largest ${maxlen:-?} bytes"
	fi

	# forwarder_clean
	errors=
	for e in $(sed -n 's/^tun_fwd: .* errors \([0-9]*\)$/\1/p' "$dir/fwd.out" 2>/dev/null); do
		errors=$((${errors:-0} + e))
	done
	if [ "$fwd_rc" = 0 ] && [ "${errors:-1}" = 0 ]; then
		ktap_result ok "e2e_iperf.$v.forwarder_clean"
	else
		ktap_result "not ok" "e2e_iperf.$v.forwarder_clean" \
			"exit $fwd_rc, errors ${errors:-?}"
	fi
	fwd_pair_down e2e
	echo "# e2e_iperf: $v: took $((SECONDS - start)) s"
}

echo "TAP version 13"
echo "1..$((${#selected[@]} * ${#checks[@]}))"
for v in "${selected[@]}"; do
	run_variant "$v"
done
if [ "$fail" -eq 0 ]; then
	echo "# PASSED: $pass / $n tests passed."
else
	echo "# FAILED: $pass / $n tests passed."
fi
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" -eq 0 ]
