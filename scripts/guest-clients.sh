# SPDX-License-Identifier: GPL-2.0
#
# Real clients of the tun ABI against both drivers, in the test VM;
# sourced by guest-check.sh (after guest-lib.sh), which counts the
# check_ok/check_fail lines of qemu_tap_phase and of qemu_tap_dropin (the
# same QEMU on rtun in drop-in mode, at the end of the file).
#
# qemu_tap_phase: the host's unmodified qemu-system-x86_64 (the guest sees
# the host's root read only), doing nothing (-M none -S, TCG), with four
# tap backends: vnet_hdr=on with sndbuf=1048576 (TUNSETSNDBUF), vnet_hdr=on
# with queues=1, vnet_hdr=off, and vnet_hdr=on with queues=2 (two files
# on one IFF_MULTI_QUEUE device).  Once on C's /dev/net/tun, once on rtun's
# node bind-mounted over it in a private mount namespace (as_rtun of
# guest-lib.sh).  QEMU must come up and stay up without a tap error, and
# what user space sees of each tap (sysfs, ip -d -j link, the IFLA_TUN_*
# attributes, ethtool -k, the tap fd's fdinfo, QEMU's own messages) must
# be the same for both drivers, names and the link kind aside
# (differences.md, D1); after QEMU is killed
# its taps must be gone.  Without qemu-system-x86_64 the phase is a
# counted skip with the reason.
#
# Needs: $out (a writable directory), $only (empty: both drivers loaded),
# ip, ethtool, jq, unshare.

# Seconds QEMU may take to create its taps (TCG inside TCG is slow), and
# how long it must then stay up.
qemu_tap_start_s=${RTUN_QEMU_START_S:-90}
qemu_tap_alive_s=3

# The taps of one QEMU: ifname suffix and -netdev options.
qemu_taps=(
	"0 vnet_hdr=on,sndbuf=1048576"
	"1 vnet_hdr=on,queues=1"
	"2 vnet_hdr=off"
	"3 vnet_hdr=on,queues=2"
)

# The IFLA_TUN_* attributes of device $1 (RTM_GETLINK), one a line:
# iproute2 decodes them only for the kind "tun", not for rtun's "rtun"
# (differences.md, D1), so they are read here.  The system's python
# without site packages: a pyenv shim takes seconds under TCG.
tun_link_attrs() {
	local py=/usr/bin/python3

	[ -x "$py" ] || py=python3
	"$py" -S - "$1" <<'PY'
import socket, struct, sys
IFLA_IFNAME, IFLA_LINKINFO, IFLA_INFO_KIND, IFLA_INFO_DATA = 3, 18, 1, 2
NAMES = {1: "owner", 2: "group", 3: "type", 4: "pi", 5: "vnet_hdr",
         6: "persist", 7: "multi_queue", 8: "num_queues",
         9: "num_disabled_queues"}
def attrs(b):
    while len(b) >= 4:
        n, t = struct.unpack_from("HH", b)
        yield t & 0x7fff, b[4:n]
        b = b[(n + 3) & ~3:]
name = sys.argv[1].encode() + b"\0"
rta = struct.pack("HH", 4 + len(name), IFLA_IFNAME) + name
rta += b"\0" * (-len(rta) % 4)
msg = struct.pack("BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0) + rta
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
s.send(struct.pack("IHHII", 16 + len(msg), 18, 1, 1, 0) + msg)
b = s.recv(65536)
length, typ = struct.unpack_from("IH", b)
if typ != 16:
    sys.exit("RTM_GETLINK %s: no RTM_NEWLINK" % sys.argv[1])
for t, v in attrs(b[32:length]):
    if t != IFLA_LINKINFO:
        continue
    for t2, v2 in attrs(v):
        if t2 == IFLA_INFO_KIND:
            kind = v2.rstrip(b"\0").decode()
            print("kind:", "(own)" if kind in ("tun", "rtun") else kind)
        if t2 == IFLA_INFO_DATA:
            for t3, v3 in attrs(v2):
                val = v3[0] if len(v3) == 1 else struct.unpack("I", v3)[0]
                print("IFLA_TUN %s: %d" % (NAMES.get(t3, t3), val))
PY
}

# qemu_tap_view DEV: what user space sees of tap DEV, one item a line,
# DEV's name replaced by "qtapN": sysfs, ip -d -j link (what differs by
# device: index, name, random address; the link info, which iproute2
# decodes for C's kind only), its IFLA_TUN_* attributes, ethtool -k.
qemu_tap_view() {
	local dev=$1 a

	{
		for a in tun_flags owner group mtu type addr_len tx_queue_len flags carrier; do
			echo "$a: $(cat "/sys/class/net/$dev/$a" 2>&1)"
		done
		# The real queue counts (tun_set_real_num_queues()).
		echo "queues: $(ls "/sys/class/net/$dev/queues" | sed 's/-[0-9]*$//' | sort | uniq -c | xargs)"
		ip -d -j link show dev "$dev" |
			jq -c '.[0] | del(.ifindex, .ifname, .address, .linkinfo)'
		tun_link_attrs "$dev"
		ethtool -k "$dev"
	} 2>&1 | sed "s/$dev/qtapN/g"
}

# The "iff:" lines of the fds of process $1, sorted, and what each fd is.
qemu_tap_fds() {
	local f

	for f in /proc/"$1"/fdinfo/*; do
		grep -q '^iff:' "$f" 2>/dev/null || continue
		echo "$(readlink "/proc/$1/fd/${f##*/}") $(grep '^iff:' "$f")"
	done | sort
}

# qemu_tap_run DRIVER TAG: runs QEMU with taps qtapTAG0.. on DRIVER (c_tun
# or rtun), saves what user space sees of them in $out/qemu-DRIVER.view and
# QEMU's messages in $out/qemu-DRIVER.log, then stops QEMU.  Checks that
# QEMU comes up and stays up, and that its taps go with it.
qemu_tap_run() {
	local drv=$1 tag=$2 log=$out/qemu-$1.log view=$out/qemu-$1.view
	local pre=() args=() t n dev pid up=0 i

	for t in "${qemu_taps[@]}"; do
		args+=(-netdev "tap,id=n${t%% *},ifname=qtap$tag${t%% *},script=no,downscript=no,${t#* }")
	done
	if [ "$drv" = rtun ]; then
		if ! rtun_ns_prefix; then
			check_fail "qemu tap ($drv): no /dev/net/rtun or no unshare"
			return 1
		fi
		pre=("${as_rtun[@]}")
	fi
	"${pre[@]}" qemu-system-x86_64 -M none -nodefaults -display none -S \
		-accel tcg "${args[@]}" </dev/null >"$log" 2>&1 &
	pid=$!
	for ((i = 0; i < qemu_tap_start_s * 10; i++)); do
		n=0
		for t in "${qemu_taps[@]}"; do
			[ -d "/sys/class/net/qtap$tag${t%% *}" ] && n=$((n + 1))
		done
		[ "$n" -lt ${#qemu_taps[@]} ] || { up=1; break; }
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ "$up" = 0 ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" || true
		sed 's/^/#   qemu: /' "$log"
		check_fail "qemu tap ($drv): QEMU did not create its ${#qemu_taps[@]} taps in ${qemu_tap_start_s} s"
		return 1
	fi
	sleep "$qemu_tap_alive_s"
	if kill -0 "$pid" 2>/dev/null; then
		check_ok "qemu tap ($drv): QEMU up with ${#qemu_taps[@]} taps for ${qemu_tap_alive_s} s"
	else
		wait "$pid" || true
		sed 's/^/#   qemu: /' "$log"
		check_fail "qemu tap ($drv): QEMU died after creating its taps"
		return 1
	fi
	: >"$view"
	for t in "${qemu_taps[@]}"; do
		dev=qtap$tag${t%% *}
		{ echo "== ${t#* }"; qemu_tap_view "$dev"; } >>"$view"
	done
	echo "== fds" >>"$view"
	qemu_tap_fds "$pid" | sed "s/qtap$tag/qtapN/" >>"$view"
	kill "$pid"
	wait "$pid" || true
	for t in "${qemu_taps[@]}"; do
		dev=qtap$tag${t%% *}
		for ((i = 0; i < 50; i++)); do
			[ -d "/sys/class/net/$dev" ] || break
			sleep 0.1
		done
		if [ -d "/sys/class/net/$dev" ]; then
			check_fail "qemu tap ($drv): $dev still there 5 s after QEMU was killed"
		else
			check_ok "qemu tap ($drv): $dev gone with QEMU"
		fi
	done
	if grep -q 'TUNSETSNDBUF ioctl failed' "$log"; then
		check_fail "qemu tap ($drv): $(grep -m1 'TUNSETSNDBUF' "$log")"
	else
		check_ok "qemu tap ($drv): no TUNSETSNDBUF failure"
	fi
}

qemu_tap_phase() {
	local c_dev rc=0

	if [ -n "$only" ]; then
		echo "# $guest_name: qemu tap client left out (--only $only)"
		return 0
	fi
	if ! command -v qemu-system-x86_64 >/dev/null; then
		check_skip "qemu tap: qemu-system-x86_64 not found in the guest (the host's root)"
		return 0
	fi
	c_dev=$(stat -c '%t:%T' /dev/net/tun)
	echo "# $guest_name: $(qemu-system-x86_64 --version | head -n 1) with tap backends, C tun then rtun"
	qemu_tap_run c_tun c || rc=1
	qemu_tap_run rtun r || rc=1
	check_bind_private "$c_dev"
	[ "$rc" = 0 ] || return 0
	# QEMU's messages but the one on the signal that stopped it (its pid).
	sed -i '/terminating on signal/d; s/qtap[cr]/qtapN/g' "$out/qemu-c_tun.log" "$out/qemu-rtun.log"
	cat "$out/qemu-c_tun.log" >>"$out/qemu-c_tun.view"
	cat "$out/qemu-rtun.log" >>"$out/qemu-rtun.view"
	sed 's/^/#   /' "$out/qemu-c_tun.view"
	if diff -u "$out/qemu-c_tun.view" "$out/qemu-rtun.view" >"$out/qemu.diff"; then
		check_ok "qemu tap: sysfs, ip -d link, IFLA_TUN_*, ethtool -k, fdinfo and QEMU's messages alike for C and rtun"
	else
		sed 's/^/#   /' "$out/qemu.diff"
		check_fail "qemu tap: what user space sees differs between C and rtun (diff above)"
	fi
}

# qemu_tap_dropin: the same QEMU once more, on rtun in drop-in mode
# (guest-check.sh's drop-in phase: /dev/net/tun is rtun's, tun.ko is not
# loaded), and what user space sees compared with C's run of this boot.
qemu_tap_dropin() {
	local view=$out/qemu-rtun-dropin.view

	if ! command -v qemu-system-x86_64 >/dev/null; then
		check_skip "qemu tap (drop-in): qemu-system-x86_64 not found in the guest (the host's root)"
		return 0
	fi
	if [ ! -s "$out/qemu-c_tun.view" ]; then
		check_fail "qemu tap (drop-in): no view of C's run to compare with"
		return 0
	fi
	qemu_tap_run rtun-dropin d || return 0
	sed -i '/terminating on signal/d; s/qtapd/qtapN/g' "$out/qemu-rtun-dropin.log"
	cat "$out/qemu-rtun-dropin.log" >>"$view"
	if diff -u "$out/qemu-c_tun.view" "$view" >"$out/qemu-dropin.diff"; then
		check_ok "qemu tap (drop-in): what user space sees is C's"
	else
		sed 's/^/#   /' "$out/qemu-dropin.diff"
		check_fail "qemu tap (drop-in): what user space sees differs from C's (diff above)"
	fi
}
