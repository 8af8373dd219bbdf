#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM on the debug kernel (KASAN, lockdep, kmemleak, fault
# injection): rtun's selftests (scripts/guest-check.sh --only rtun, with
# RTUN_KO pointing at the module built for this kernel), a bounded
# differential run (scripts/guest-diff.sh), then a kmemleak scan.  Ends
# with "N passed, N failed"; exits non-zero on any failure or leak.
#
# Usage: scripts/vm-run.sh --kdir DEBUG_KDIR -- scripts/guest-debug.sh [DIFF_CASES]
#   DIFF_CASES  write cases of the differential run (default 200; a
#               quarter as many read cases on top)
# Environment: RTUN_KO (required: rtun.ko built for the debug kernel);
# RTUN_DEBUG_DIFF=0 leaves the differential run out, RTUN_DIFF_SEED is
# its seed (default guest-diff.sh's); RTUN_DEBUG_ONLY the selftest variant
# to run (default rtun; empty: both); RTUN_DEBUG_PART: 1 or 2 runs one of
# two halves of the phase (below), empty (default) all of it;
# RTUN_SKIP_TESTS, RTUN_TEST_TIMEOUT_SCALE, RTUN_UPSTREAM_TUN, RTUN_CLIENTS
# (default 0 here) as for guest-check.sh.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

diff_cases=${1:-200}
[[ "$diff_cases" =~ ^[0-9]+$ ]] || die "DIFF_CASES must be a number, not '$diff_cases'"
# The phase in two halves of about the same time, for two VMs at once
# (scripts/check.sh): a debug VM keeps about one of the two cores busy,
# its test processes one vCPU and the other mostly halted, so one VM
# leaves a core idle for the whole phase.  Part 1: the multiqueue,
# filter, NAPI and XDP selftests (tun_mq alone about 270 s here) and the
# differential run; part 2: every other selftest and the module reload
# phases.  Each boot has its own kmemleak scan and kernel log check.
part1_tests="tun_mq tun_filter tun_napi tun_xdp"
# The selftest programs the debug kernel leaves out (why: below).
skip_tests=${RTUN_SKIP_TESTS-e2e_iperf.sh tun_compat tun_compat32 tun_rfc2008}
part=${RTUN_DEBUG_PART:-}
part_env=()
case "$part" in
"") ;;
1) part_env=(RTUN_ONLY_TESTS="$part1_tests" RTUN_MODULE_PHASES=0) ;;
2) part_env=(RTUN_SKIP_TESTS="$skip_tests $part1_tests")
   RTUN_DEBUG_DIFF=0 ;;
*) die "RTUN_DEBUG_PART must be 1, 2 or empty, not '$part'" ;;
esac
[ -z "$part" ] || echo "# guest-debug: part $part of 2"
[ -n "${RTUN_KO:-}" ] || die "RTUN_KO must name the rtun.ko built for this kernel"
kml=/sys/kernel/debug/kmemleak
passed=0
failed=0
ok() { echo "# guest-debug: ok: $*"; passed=$((passed + ${2:-1})); }
# Prints how long the step since the last call took (README's phases).
step_start=$SECONDS
took() {
	echo "# guest-debug: $1 took $((SECONDS - step_start)) s"
	step_start=$SECONDS
}
bad() { echo "# guest-debug: FAIL: $*"; failed=$((failed + ${2:-1})); }

# Adds the "N passed, N failed" line of a sub-run to the totals.
add_summary() {
	local line p f

	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	p=$(echo "$line" | awk '{ print $1 + 0 }')
	f=$(echo "$line" | awk '{ print $3 + 0 }')
	passed=$((passed + p))
	failed=$((failed + f))
	[ -n "$line" ] || bad "$2 printed no summary"
}

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug ||
	die "cannot mount debugfs"
if [ -w "$kml" ]; then
	# Forget what boot left behind; only leaks from here on count.
	echo clear >"$kml"
else
	bad "kmemleak not available at $kml"
fi

# udev has done its work once the boot is over (virtme-ng's init waits for
# the coldplug to settle: 80 s on this kernel, where every program it
# starts is slow).  From here on it would only handle the devices the
# tests make, a worker per event beside the tests on the two vCPUs, and
# tun_diff waits for it on every device (udev may give a TAP device a
# MAC address of its own): 275 of the differential run's 529 s in one
# make check.  Nothing here needs it: devtmpfs makes the device nodes and
# the tests open them as root.  "udevadm control --exit" returns once
# udevd has exited, but leaves its control socket behind, which tun_diff
# takes for a running udev: removed.  On a machine busy enough, udevd
# can miss the request's timeout (EAGAIN, seen once): then it is killed.
if udevadm control --exit 2>/dev/null || pkill -x systemd-udevd; then
	for _ in $(seq 50); do
		pgrep -x systemd-udevd >/dev/null || break
		sleep 0.2
	done
	if pgrep -x systemd-udevd >/dev/null; then
		echo "# guest-debug: udev did not stop; it keeps running"
	else
		rm -f /run/udev/control
		echo "# guest-debug: udev stopped for the tests"
	fi
fi

tmp=$(mktemp -d)
# KASAN and lockdep under TCG make the tests several times slower.  The
# iperf3 end-to-end run measures nothing here that tun_read and tun_write
# do not already drive through every rtun code path, and its fixed
# durations do not scale, so it runs on the release kernel only; so do
# the real clients (QEMU, the drop-in phase: RTUN_CLIENTS=0 here), which
# check compatibility, not memory safety, and would add a quarter hour.
# tun_stress and tun_faults bound their own loops in time (tun_faults per
# test with RTUN_FAULT_BUDGET), so they run here in full.  Only the rtun
# variant of each selftest runs (RTUN_DEBUG_ONLY, default rtun; empty for
# both): this kernel is here to find rtun's memory and locking bugs, and
# C's answers to the same tests were compared on the release build of the
# same source, in the same make check.
# The differential run below still drives both drivers.
# tun_compat, tun_compat32 and tun_rfc2008 are left out here too: they
# check argument layouts (32-bit ifreq, the 2008 flag values) through the
# same ioctl code tun_ctl and tun_abi drive on this kernel, and cost
# minutes here (tun_rfc2008 alone two, with its module reloads) that make
# check, which must fit a fresh machine's 75, does not have; both release
# kernels run them against both drivers.
only=${RTUN_DEBUG_ONLY-rtun}
only_args=()
[ -z "$only" ] || only_args=(--only "$only")
# tun_mq's max_queues (256 files on one device, a count the release
# kernels check for both drivers) is left out too: every device here takes
# seconds to set up its 256 queues under KASAN and lockdep.
RTUN_TEST_TIMEOUT_SCALE=${RTUN_TEST_TIMEOUT_SCALE:-6} \
	RTUN_SKIP_TESTS=$skip_tests \
	RTUN_EXCLUDE_CASES=${RTUN_EXCLUDE_CASES-max_queues} \
	RTUN_CLIENTS=${RTUN_CLIENTS:-0} \
	env "${part_env[@]}" bash "$here/guest-check.sh" "${only_args[@]}" 2>&1 |
	tee "$tmp/check.log"
add_summary "$tmp/check.log" "guest-check"
took "the selftests"

# The differential tester on this kernel: the same cases as the start of
# the release run (same seed), now under KASAN and lockdep.  guest-diff.sh
# loads rtun again (guest-check.sh unloaded it) and ends with its own
# "N passed, N failed" over the cases.
if [ "${RTUN_DEBUG_DIFF:-1}" = 1 ]; then
	# 5 control-plane sequences (about 125 operations) under lockdep;
	# of the extra packet-path runs NAPI frags' and XDP's (multiqueue
	# devices take minutes to set up here: 25 cases took 267 s, the
	# selftests drive multiqueue on this kernel).  A smoke run: the release kernels
	# run 20,000 cases against C; this one looks for memory and lock bugs
	# on the same paths.
	RTUN_CTLDIFF_SEQS=${RTUN_CTLDIFF_SEQS:-5} \
		RTUN_DIFF_QUEUE_FLAGS=${RTUN_DIFF_QUEUE_FLAGS-0x30 xdp} \
		bash "$here/guest-diff.sh" "$diff_cases" 2>&1 | tee "$tmp/diff.log"
	add_summary "$tmp/diff.log" "guest-diff"
	took "the differential run"
	rmmod rtun 2>/dev/null || true
fi
rmmod tun 2>/dev/null || true
took "unloading the modules"

if [ -w "$kml" ]; then
	# Two scans some seconds apart, as kmemleak reports an object only once
	# it has looked unreferenced in consecutive scans.
	echo scan >"$kml"
	sleep 5
	echo scan >"$kml"
	if grep -q 'unreferenced object' "$kml"; then
		head -n 60 "$kml"
		bad "kmemleak reports leaks"
	else
		ok "kmemleak: no leaks"
	fi
	took "the kmemleak scans"
fi
if dmesg | bash "$here/dmesg-check.sh" >"$tmp/dmesg"; then
	ok "dmesg clean on the debug kernel"
else
	cat "$tmp/dmesg"
	bad "dmesg has kernel bug reports"
fi
took "the kernel log check"
rm -rf "$tmp"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
