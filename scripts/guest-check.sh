#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run inside the test VM: load the C tun driver and rtun, run the rtun
# selftests against both (KTAP output), unload rtun, save and check the
# kernel log.  Ends with the line "N passed, N failed[, N skipped]" counting
# the test cases of both variants plus the guest-level checks (module
# load/unload, kernel log); exits non-zero if anything failed.
#
# Usage: scripts/vm-run.sh -- scripts/guest-check.sh [OPTIONS] [-- HARNESS-ARGS]
#   --kdir DIR        kernel build (default: $KDIR, $RTUN_KDIR, or the one
#                     the VM booted, read from /proc/cmdline)
#   --only VARIANT    run only the c_tun or only the rtun variant; with c_tun,
#                     rtun.ko is neither needed nor loaded
#   HARNESS-ARGS      passed to every test program (e.g. -t features)
# Environment: RTUN_KO (default $RTUN_ROOT/rtun.ko), RTUN_OUT (where the
# KTAP output and dmesg are saved; default /tmp/rtun-guest-check),
# RTUN_TEST_TIMEOUT_SCALE (multiplies the settings timeout of each program
# and, in the programs, each test's timeout; default 1),
# RTUN_SKIP_TESTS (space-separated test programs to leave out),
# RTUN_ONLY_TESTS (space-separated test programs to run, the others left
# out; default all), RTUN_MODULE_PHASES=0 (leave out the module reload
# phases: abi=rfc2008, persistent devices against rmmod),
# RTUN_EXCLUDE_CASES (space-separated test case names, such as
# max_queues, to leave out of every program),
# RTUN_CLIENTS=0 (leave out the QEMU client and the drop-in phase),
# RTUN_UPSTREAM_TUN (the kernel's own selftests/net/tun.c, built by
# scripts/build-upstream-selftest.sh: if set, also run against both
# drivers by scripts/guest-upstream.sh, its cases counted here; its skips
# too, in the ", N skipped" of the last line); RTUN_UPSTREAM_DROPIN=0
# leaves it out of the drop-in phase (it ran against rtun already).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

usage() {
	sed -n '10,31s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

kdir=${KDIR:-${RTUN_KDIR:-}}
only=
while [ $# -gt 0 ]; do
	case "$1" in
	--kdir) [ $# -ge 2 ] || usage; kdir=$2; shift 2 ;;
	--only) [ $# -ge 2 ] || usage; only=$2; shift 2 ;;
	-h | --help) usage ;;
	--) shift; break ;;
	*) echo "guest-check: unknown option '$1'" >&2; usage ;;
	esac
done
harness_args=("$@")
case "$only" in
"" | c_tun | rtun) ;;
*) die "--only takes c_tun or rtun, not '$only'" ;;
esac
[ -z "$only" ] || harness_args=(-v "$only" "${harness_args[@]}")
# Test cases left out by name (the harness's -T), first: its filters stop
# at the first that matches.
for t in ${RTUN_EXCLUDE_CASES:-}; do
	harness_args=(-T "$t" "${harness_args[@]}")
done

tdir=$RTUN_ROOT/selftests/rtun
rtun_ko=${RTUN_KO:-$RTUN_ROOT/rtun.ko}
out=${RTUN_OUT:-/tmp/rtun-guest-check}
marker="rtun-guest-check: start $$"
guest_name=guest-check
. "$here/guest-lib.sh"
# qemu_tap_phase: QEMU's tap backend as a client of both drivers.
. "$here/guest-clients.sh"

sanity() {
	guest_sanity "scripts/vm-run.sh -- scripts/guest-check.sh (it loads kernel modules)"
	[ -n "$kdir" ] || kdir=$(guest_kdir)
	[ -n "$kdir" ] || die "kernel build directory unknown: pass --kdir"
	[ -f "$kdir/drivers/net/tun.ko" ] || die "$kdir/drivers/net/tun.ko not found: is --kdir a built kernel?"
	mkdir -p "$out" || die "cannot create output directory $out"
}

# insmod MODULE-NAME KO-FILE
load() {
	local err

	if [ -d "/sys/module/$1" ]; then
		check_ok "$1 already loaded"
		return
	fi
	if [ ! -f "$2" ]; then
		check_fail "load $1: $2 not found (build it first: make)"
		return
	fi
	if err=$(insmod "$2" 2>&1) || [[ "$err" == *"File exists"* ]]; then
		check_ok "insmod $2"
	else
		check_fail "insmod $2: $err"
	fi
}

wait_node() {
	for _ in $(seq 50); do
		[ -c "$1" ] && return 0
		sleep 0.1
	done
	echo "# guest-check: $1 did not appear"
}

# Timeout of one test program, from the kselftest settings file, times
# RTUN_TEST_TIMEOUT_SCALE (the debug kernel runs several times slower).
# The programs read it too, for each test's own timeout (rtun_test.h's
# RTUN_HARNESS_MAIN).
test_timeout() {
	local t

	t=$(sed -n 's/^timeout=\([0-9]\+\)$/\1/p' "$tdir/settings" 2>/dev/null)
	echo $(( ${t:-120} * ${RTUN_TEST_TIMEOUT_SCALE:-1} ))
}

# Add the "# Totals:" line of a harness run to the counters.
count_totals() {
	local line=$1 p f xf xp s e

	p=$(sed -n 's/.* pass:\([0-9]*\).*/\1/p' <<<"$line")
	f=$(sed -n 's/.* fail:\([0-9]*\).*/\1/p' <<<"$line")
	xf=$(sed -n 's/.* xfail:\([0-9]*\).*/\1/p' <<<"$line")
	xp=$(sed -n 's/.* xpass:\([0-9]*\).*/\1/p' <<<"$line")
	s=$(sed -n 's/.* skip:\([0-9]*\).*/\1/p' <<<"$line")
	e=$(sed -n 's/.* error:\([0-9]*\).*/\1/p' <<<"$line")
	passed=$((passed + p + xf))
	failed=$((failed + f + xp + e))
	skipped=$((skipped + s))
}

run_one() {
	local prog=$1 ktap=$out/$1.ktap rc=0 totals start=$SECONDS

	shift
	if [ "$prog" = tun_compat32 ] && ! grep -q '^CONFIG_IA32_EMULATION=y' "$kdir/.config"; then
		echo "# guest-check: tun_compat32 skipped: the kernel has no CONFIG_IA32_EMULATION (no 32-bit programs)"
		skipped=$((skipped + 1))
		return
	fi
	if [ ! -x "$tdir/$prog" ]; then
		check_fail "$tdir/$prog not built: make -C selftests/rtun KDIR=$kdir"
		return
	fi
	[ ! "$tdir/$prog.c" -nt "$tdir/$prog" ] ||
		echo "# guest-check: warning: $prog is older than $prog.c (rebuild it)"
	# Arguments after the program replace the harness arguments.
	local args=("${harness_args[@]}")
	[ $# -eq 0 ] || args=("$@")
	echo "# guest-check: running $prog ${args[*]}"
	(cd "$tdir" && timeout -k 5 "$(test_timeout)" "./$prog" "${args[@]}") 2>&1 |
		tee "$ktap" || rc=${PIPESTATUS[0]}
	totals=$(grep '^# Totals:' "$ktap" | tail -1 || true)
	echo "# guest-check: $prog took $((SECONDS - start)) s"
	if [ -z "$totals" ]; then
		check_fail "$prog ended (status $rc) without KTAP totals: crashed or timed out"
		return
	fi
	count_totals "$totals"
	# 0: all passed, 4: all skipped; anything else must come with failures.
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] && ! grep -q ' fail:[1-9]' <<<"$totals"; then
		check_fail "$prog exited with status $rc"
	fi
}

run_tests() {
	local progs prog

	progs=$(make -s --no-print-directory -C "$tdir" KDIR="$kdir" emit_tests | sed 's/.*://') ||
		{ check_fail "cannot list the selftests in $tdir"; return; }
	for prog in $progs; do
		case " ${RTUN_SKIP_TESTS:-} " in
		*" $prog "*) echo "# guest-check: $prog left out (RTUN_SKIP_TESTS)"; continue ;;
		esac
		if [ -n "${RTUN_ONLY_TESTS:-}" ]; then
			case " $RTUN_ONLY_TESTS " in
			*" $prog "*) ;;
			*) echo "# guest-check: $prog left out (RTUN_ONLY_TESTS)"; continue ;;
			esac
		fi
		run_one "$prog"
	done
}

# The kernel's own selftests/net/tun.c against both drivers, in this boot
# (a VM of its own would cost one more boot for a few seconds of tests).
upstream_phase() {
	[ -n "${RTUN_UPSTREAM_TUN:-}" ] || return 0
	if [ -n "$only" ]; then
		echo "# guest-check: upstream tun selftest left out (--only $only)"
		return 0
	fi
	upstream_run "$out/upstream.log"
}

# upstream_run LOG [GUEST-UPSTREAM-OPTIONS]: runs guest-upstream.sh,
# output in LOG, its summary line added to the counters.
upstream_run() {
	local log=$1 line

	shift
	RTUN_OUT=$out bash "$here/guest-upstream.sh" --embedded "$@" --kdir "$kdir" \
		"$RTUN_UPSTREAM_TUN" 2>&1 | tee "$log" || true
	line=$(sed -n 's/^# guest-upstream: total: //p' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		check_fail "guest-upstream.sh $* ended without a summary line"
		return
	fi
	passed=$((passed + $(awk '{ print $1 + 0 }' <<<"$line")))
	failed=$((failed + $(awk '{ print $3 + 0 }' <<<"$line")))
	skipped=$((skipped + $(awk '{ print $5 + 0 }' <<<"$line")))
}

unload_rtun() {
	local err

	# Not loaded: its load failure was already counted.
	[ -d /sys/module/rtun ] || return 0
	# Closing the last fd of a device may finish its teardown a bit later.
	for _ in $(seq 30); do
		if err=$(rmmod rtun 2>&1); then
			check_ok "rmmod rtun"
			return
		fi
		sleep 0.1
	done
	check_fail "rmmod rtun: $err"
}

# rmmod rtun, retrying while the last devices finish their teardown;
# returns rmmod's status, its message in $rmmod_err.
rmmod_rtun() {
	for _ in $(seq 30); do
		rmmod_err=$(rmmod rtun 2>&1) && return 0
		sleep 0.1
	done
	return 1
}

# The 2008 ABI of rtun (module parameter abi, selftests/rtun/tun_rfc2008):
# a bad value is refused, rtun is reloaded with abi=rfc2008, tun_rfc2008
# runs, then rtun is loaded again with the default ABI.
rfc2008_phase() {
	local err

	# Not loaded: its load failure was already counted.
	[ -d /sys/module/rtun ] || return 0
	echo "# guest-check: reloading rtun with abi=rfc2008"
	if ! rmmod_rtun; then
		check_fail "rmmod rtun (for abi=rfc2008): $rmmod_err"
		return
	fi
	if err=$(insmod "$rtun_ko" abi=bogus 2>&1); then
		check_fail "insmod $rtun_ko abi=bogus succeeded"
		rmmod_rtun || true
	else
		check_ok "insmod $rtun_ko abi=bogus refused (${err##*: })"
	fi
	if err=$(insmod "$rtun_ko" abi=rfc2008 2>&1); then
		check_ok "insmod $rtun_ko abi=rfc2008"
		wait_node /dev/net/rtun
		run_one tun_rfc2008
		if rmmod_rtun; then
			check_ok "rmmod rtun (abi=rfc2008)"
		else
			check_fail "rmmod rtun (abi=rfc2008): $rmmod_err"
			return
		fi
	else
		check_fail "insmod $rtun_ko abi=rfc2008: $err"
	fi
	if err=$(insmod "$rtun_ko" 2>&1); then
		check_ok "insmod $rtun_ko (default abi) again"
		wait_node /dev/net/rtun
	else
		check_fail "insmod $rtun_ko (default abi) again: $err"
	fi
}

# A persistent device holds a module reference (TUNSETPERSIST), so rmmod
# refuses while one exists, for tun.ko as for rtun.ko; deleting the device
# (ip link del) gives the reference back, and rtun then unloads (below).
persist_unload_phase() {
	local mod dev err

	for mod in tun rtun; do
		[ -d "/sys/module/$mod" ] || continue
		dev=${mod}persist0
		# TUNSETIFF (IFF_TAP | IFF_NO_PI), TUNSETPERSIST 1, close.
		if ! err=$(python3 -c '
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH22x", sys.argv[2].encode(), 0x1002))
fcntl.ioctl(fd, 0x400454cb, 1)
' "/dev/net/$mod" "$dev" 2>&1); then
			check_fail "persistent $mod device: $err"
			continue
		fi
		if err=$(rmmod "$mod" 2>&1); then
			check_fail "rmmod $mod with a persistent device succeeded"
			if [ "$mod" = tun ]; then
				load tun "$kdir/drivers/net/tun.ko"
			else
				load rtun "$rtun_ko"
			fi
			continue
		fi
		check_ok "rmmod $mod refused while $dev persists (${err##*: })"
		if err=$(ip link del "$dev" 2>&1); then
			check_ok "ip link del $dev (persistent $mod device)"
		else
			check_fail "ip link del $dev: $err"
		fi
	done
}

# What tools show of tun device NAME, with what differs between two
# devices of the same configuration taken out (index, MAC address):
# ip tuntap show's line, ip -d link's tun details, ethtool -i's driver.
tuntap_view() {
	ip tuntap show | grep "^$1:" || echo "ip tuntap show: no $1"
	ip -d link show dev "$1" | sed -n 's/^ *\(tun type .*\)$/\1/p'
	ethtool -i "$1" | grep -E '^(driver|version|bus-info):'
}

# A persistent tap made by ip tuntap with owner, group and vnet_hdr, as
# root and re-attached as its owner: prints tuntap_view; removes it.
tuntap_client() {
	local node=/dev/net/tun dev=$1

	ip tuntap add dev "$dev" mode tap user 4321 group 4400 vnet_hdr ||
		{ echo "ip tuntap add $dev failed"; return; }
	tuntap_view "$dev"
	# The owner re-attaches without privileges (TUNSETIFF by name).
	setpriv --reuid 4321 --regid 4321 --clear-groups -- /usr/bin/python3 -S -c '
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH22x", sys.argv[2].encode(), 0x5002))
print("re-attached as uid 4321")
' "$node" "$dev" 2>&1 | tail -n 1
	ip tuntap del dev "$dev" mode tap || echo "ip tuntap del $dev failed"
}

# Drop-in mode (rtun.ko dropin=1).  While tun.ko is loaded, rtun refuses
# to load and says why.  With tun.ko unloaded, rtun is /dev/net/tun (misc
# 10:200) and the client tests that run against C run unchanged against
# it: ip tuntap add/show/del with owner and group and a re-attach as the
# owner (compared with what C showed in this boot), QEMU's tap backend
# (compared with C's run of this boot), tun_ctl and
# tun_compat(32)'s c_tun variant (told that rtun is the module behind
# /dev/net/tun), and the kernel's own selftests/net/tun.c.  Then
# tun.ko and the default rtun are loaded again.
dropin_phase() {
	local err c_view r_view prog

	[ -d /sys/module/rtun ] || return 0
	echo "# guest-check: drop-in mode"
	c_view=$(tuntap_client dropintap0 2>&1)
	if ! rmmod_rtun; then
		check_fail "rmmod rtun (for dropin=1): $rmmod_err"
		return
	fi
	if err=$(insmod "$rtun_ko" dropin=1 2>&1); then
		check_fail "insmod $rtun_ko dropin=1 succeeded with tun.ko loaded"
		rmmod_rtun || true
	elif dmesg | tail -n 20 | grep 'dropin=1: cannot register.*is tun.ko loaded' >/dev/null; then
		check_ok "insmod dropin=1 refused while tun.ko is loaded, with the reason in the log"
	else
		check_fail "insmod dropin=1 refused without the reason in the log: $err"
	fi
	if ! err=$(rmmod tun 2>&1); then
		check_fail "rmmod tun (for dropin=1): $err"
		load rtun "$rtun_ko"
		return
	fi
	if err=$(insmod "$rtun_ko" dropin=1 2>&1); then
		check_ok "insmod $rtun_ko dropin=1 with tun.ko unloaded"
		wait_node /dev/net/tun
		if [ "$(cat /sys/class/misc/tun/dev 2>&1)" = 10:200 ]; then
			check_ok "drop-in: /dev/net/tun is misc 10:200"
		else
			check_fail "drop-in: /sys/class/misc/tun/dev is not 10:200"
		fi
		r_view=$(tuntap_client dropintap0 2>&1)
		if [ "$r_view" = "$c_view" ]; then
			check_ok "drop-in: ip tuntap, ip -d link and ethtool -i show rtun as C"
		else
			check_fail "drop-in: tools show rtun otherwise than C"
			diff <(echo "$c_view") <(echo "$r_view") | sed 's/^/# /'
		fi
		qemu_tap_dropin
		for prog in tun_ctl tun_compat tun_compat32; do
			RTUN_TUN_MODULE=rtun run_one "$prog" -v c_tun
		done
		if [ -n "${RTUN_UPSTREAM_TUN:-}" ] && [ "${RTUN_UPSTREAM_DROPIN:-1}" = 1 ]; then
			upstream_run "$out/upstream-dropin.log" --dropin
		fi
		if rmmod_rtun; then
			check_ok "rmmod rtun (dropin=1)"
		else
			check_fail "rmmod rtun (dropin=1): $rmmod_err"
		fi
	else
		check_fail "insmod $rtun_ko dropin=1: $err"
	fi
	load tun "$kdir/drivers/net/tun.ko"
	wait_node /dev/net/tun
	load rtun "$rtun_ko"
	wait_node /dev/net/rtun
}

check_dmesg() {
	dmesg >"$out/dmesg.txt" || { check_fail "dmesg failed"; return; }
	echo "# guest-check: kernel log since the start of the checks (all of it in $out/dmesg.txt):"
	sed -n "/$marker/,\$p" "$out/dmesg.txt" | sed 's/^/# dmesg: /'
	if bash "$here/dmesg-check.sh" "$out/dmesg.txt" | sed 's/^/# /'; then
		check_ok "kernel log clean"
	else
		check_fail "kernel log reports problems (see above)"
	fi
}

sanity
echo "$marker" >/dev/kmsg
load tun "$kdir/drivers/net/tun.ko"
wait_node /dev/net/tun
if [ "$only" != c_tun ]; then
	load rtun "$rtun_ko"
	wait_node /dev/net/rtun
fi
# The real clients (QEMU, and the drop-in phase, which runs the clients
# again on rtun as /dev/net/tun) check compatibility, which the release
# kernels show as well; on the debug kernel they would add a quarter of
# an hour under TCG, so guest-debug.sh leaves them out (RTUN_CLIENTS=0).
clients=${RTUN_CLIENTS:-1}
run_tests
upstream_phase
if [ "$clients" = 1 ]; then
	qemu_tap_phase
else
	echo "# guest-check: QEMU tap client left out (RTUN_CLIENTS=0)"
fi
if [ "$only" != c_tun ]; then
	if [ "${RTUN_MODULE_PHASES:-1}" = 1 ]; then
		rfc2008_phase
		persist_unload_phase
	else
		echo "# guest-check: module reload phases left out (RTUN_MODULE_PHASES=0)"
	fi
	if [ "$clients" = 1 ]; then
		dropin_phase
	else
		echo "# guest-check: drop-in phase left out (RTUN_CLIENTS=0)"
	fi
	unload_rtun
fi
check_dmesg

summary="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
