#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run inside the test VM: the differential testers, C tun against rtun:
# selftests/rtun/tun_diff (the packet paths), then selftests/rtun/tun_ctldiff
# (the control plane), then a check of the kernel log of the run.  Loads
# tun.ko and rtun.ko unless they are loaded.
#
# Usage: scripts/vm-run.sh -- bash scripts/guest-diff.sh [COUNT [SEED]] [-- ARGS]
#   COUNT   write cases (default 20000): seven tenths on plain devices,
#           a tenth on multiqueue NAPI devices, a tenth with NAPI frags,
#           a tenth with XDP programs on the TAP devices
#   SEED    seed of both generators (default $RTUN_DIFF_SEED, else 4242;
#           "random": from the clock); printed either way
#   ARGS    more tun_diff options (e.g. --verbose, --max-diffs 3)
# Environment: RTUN_DIFF_SEED; RTUN_DIFF_READS, the number of read cases
# (default COUNT/4); RTUN_CTLDIFF_SEQS, the number of tun_ctldiff
# sequences (default 200, about 5,400 operations); RTUN_CTLDIFF_SECONDS,
# no new sequence after that many seconds; RTUN_CTLDIFF_OPS, instead of
# the sequences, the one tun_ctldiff --ops list to replay;
# RTUN_DIFF_QUEUE_FLAGS (below); RTUN_KDIR, the
# kernel build (set by vm-run.sh, else read from /proc/cmdline); RTUN_KO
# (default $RTUN_ROOT/rtun.ko).
#
# The last line is "N passed, D failed": N cases (tun_diff's cases and
# tun_ctldiff's sequences) without a difference, D with one (at least 1
# on any error), as scripts/check.sh counts.  Exits 0 only if nothing
# differs, both testers ran to their end and the kernel log is clean; on
# a difference it prints how to reproduce it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# The default seed of make check: fixed, so that its runs are repeatable.
default_seed=4242

# Whatever goes wrong before tun_diff reports counts as one failure, so that
# a summary line is always there to count.
summary_done=0
on_exit() {
	[ "$summary_done" = 1 ] || echo "0 passed, 1 failed"
}
trap on_exit EXIT

count=20000
seed=${RTUN_DIFF_SEED:-$default_seed}
if [ $# -gt 0 ] && [ "$1" != -- ]; then count=$1; shift; fi
if [ $# -gt 0 ] && [ "$1" != -- ]; then seed=$1; shift; fi
[ $# -eq 0 ] || { [ "$1" = -- ] && shift; } ||
	die "usage: guest-diff.sh [COUNT [SEED]] [-- TUN_DIFF-ARGS]"
[[ "$count" =~ ^[0-9]+$ ]] || die "COUNT must be a number, not '$count'"
[ "$seed" != random ] || seed=$(date +%s)
[[ "$seed" =~ ^[0-9]+$ ]] || die "SEED must be a number or 'random', not '$seed'"
reads=${RTUN_DIFF_READS:-$((count / 4))}
[[ "$reads" =~ ^[0-9]+$ ]] || die "RTUN_DIFF_READS must be a number, not '$reads'"
ctl_seqs=${RTUN_CTLDIFF_SEQS:-200}
[[ "$ctl_seqs" =~ ^[0-9]+$ ]] || die "RTUN_CTLDIFF_SEQS must be a number, not '$ctl_seqs'"
ctl_secs=${RTUN_CTLDIFF_SECONDS:-0}
[[ "$ctl_secs" =~ ^[0-9]+$ ]] || die "RTUN_CTLDIFF_SECONDS must be a number, not '$ctl_secs'"

[ "$(id -u)" -eq 0 ] || die "must run as root in the guest"
kdir=${RTUN_KDIR:-$(sed -n 's|.*virtme_link_mods=\([^ ]*\)/\.virtme_mods/.*|\1|p' /proc/cmdline)}
[ -n "$kdir" ] || die "kernel build directory unknown: run this through scripts/vm-run.sh"
rtun_ko=${RTUN_KO:-$RTUN_ROOT/rtun.ko}
tdir=$RTUN_ROOT/selftests/rtun
for prog in tun_diff tun_ctldiff; do
	[ -x "$tdir/$prog" ] || die "$tdir/$prog not built: make -C selftests/rtun KDIR=..."
	[ ! "$tdir/$prog.c" -nt "$tdir/$prog" ] ||
		info "warning: $prog is older than $prog.c (rebuild it)"
done

# insmod MODULE KO-FILE, unless loaded
load() {
	[ -d "/sys/module/$1" ] && return 0
	[ -f "$2" ] || die "$2 not found"
	insmod "$2" || die "cannot load $2"
}
load tun "$kdir/drivers/net/tun.ko"
load rtun "$rtun_ko"
for node in /dev/net/tun /dev/net/rtun; do
	for _ in $(seq 50); do [ -c "$node" ] && break; sleep 0.1; done
	[ -c "$node" ] || die "$node did not appear"
done

# How to run this again from the host, on this kernel with this module.
vm="scripts/vm-run.sh --kdir $kdir --"
[ -z "${RTUN_KO:-}" ] || vm="$vm env RTUN_KO=$RTUN_KO"
rerun="$vm bash scripts/guest-diff.sh $count $seed"
echo "guest-diff: seed $seed, $count write cases, $reads read cases, $ctl_seqs control sequences (re-run: $rerun)"
marker="guest-diff-start $seed $$"
echo "$marker" >/dev/kmsg
log=$(mktemp)
trap 'rm -f "$log"; on_exit' EXIT
pass=0
failed=0

# run_tester NAME ARGS...: runs selftests/rtun/NAME, whose last line is
# "cases: N, differences: D, ...", and adds its cases to pass and failed;
# its output stays in $log.  Returns its exit status.
run_tester() {
	local name=$1 rc=0 line cases diffs

	shift
	"$tdir/$name" "$@" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
	echo "guest-diff: $name exit status $rc"
	line=$(grep -E '^cases: [0-9]+, differences: [0-9]+' "$log" | tail -n 1 || true)
	cases=$(sed -n 's/^cases: \([0-9]*\),.*/\1/p' <<<"$line")
	diffs=$(sed -n 's/.* differences: \([0-9]*\),.*/\1/p' <<<"$line")
	if [ -z "$line" ]; then
		echo "guest-diff: FAIL: $name ended without its summary (crashed or could not set up)"
		cases=0
		diffs=1
	elif [ "$rc" -ne 0 ] && [ "$diffs" -eq 0 ]; then
		# Known gaps with --strict-gaps, say: a failure all the same.
		echo "guest-diff: FAIL: $name exit status $rc without a difference counted"
		diffs=1
	fi
	[ "$diffs" -eq 0 ] ||
		echo "guest-diff: FAIL: $name: $diffs difference(s) in $cases cases (seed $seed)"
	pass=$((pass + (cases > diffs ? cases - diffs : 0)))
	failed=$((failed + diffs))
	[ "$diffs" -eq 0 ] && return "$rc"
	[ "$rc" -ne 0 ] || rc=1
	return "$rc"
}

# The packet paths four times: plain devices with most of the cases, a
# tenth with multiqueue NAPI devices (IFF_MULTI_QUEUE | IFF_NAPI), a tenth
# with NAPI frags on the TAP devices (IFF_NAPI | IFF_NAPI_FRAGS), a tenth
# with an XDP program drawn per write case on the TAP devices (tun_diff
# --xdp: none, XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, or XDP_PASS of the
# packet less its last 4 bytes), each run from a
# seed of its own (seed, seed + 1, ...).  RTUN_DIFF_QUEUE_FLAGS lists the
# extra runs: queue flags, or "xdp" (default "0x110 0x30 xdp"; empty:
# none).  With DIFF_ARGS (--case ...) only the first runs.
rc=0
tenth=$((count / 10))
rtenth=$((reads / 10))
qruns=(${RTUN_DIFF_QUEUE_FLAGS-0x110 0x30 xdp})
[ $# -eq 0 ] && [ "$tenth" -gt 0 ] || qruns=()
runs=("0 $((count - ${#qruns[@]} * tenth)) $((reads - ${#qruns[@]} * rtenth))")
for q in "${qruns[@]}"; do
	runs+=("$q $tenth $rtenth")
done
n=0
for run in "${runs[@]}"; do
	read -r qflags c r <<<"$run"
	s=$((seed + n))
	n=$((n + 1))
	mode=(--queue-flags "$qflags")
	[ "$qflags" != xdp ] || mode=(--queue-flags 0 --xdp)
	if run_tester tun_diff --seed "$s" --count "$c" --read-cases "$r" \
		"${mode[@]}" "$@"; then
		continue
	fi
	rc=1
	first=$(grep -o -m 1 -- "--case '[^']*'" "$log" || true)
	[ -z "$first" ] ||
		echo "guest-diff: reproduce the first: $vm bash scripts/guest-diff.sh 0 $seed -- ${mode[*]} $first"
	echo "guest-diff: reproduce the run: $rerun"
done

ctl_args=(--seed "$seed" --count "$ctl_seqs")
[ "$ctl_secs" = 0 ] || ctl_args+=(--seconds "$ctl_secs")
[ -z "${RTUN_CTLDIFF_OPS:-}" ] || ctl_args=(--ops "$RTUN_CTLDIFF_OPS")
if ! run_tester tun_ctldiff "${ctl_args[@]}"; then
	rc=1
	first=$(grep -o -m 1 -- "--ops '[^']*'" "$log" | sed "s/^--ops //" || true)
	[ -z "$first" ] ||
		echo "guest-diff: reproduce the first (shrunk): $vm env RTUN_CTLDIFF_OPS=$first bash scripts/guest-diff.sh 0 $seed"
	echo "guest-diff: reproduce the control sequences: $vm env RTUN_CTLDIFF_SEQS=$ctl_seqs bash scripts/guest-diff.sh 0 $seed"
fi

# A kernel warning or sanitizer report during the run fails it too.
if ! dmesg | sed -n "/$marker/,\$p" | bash "$here/dmesg-check.sh" | sed 's/^/guest-diff: /'; then
	echo "guest-diff: FAIL: the kernel log of the run reports problems (above)"
	failed=$((failed + 1))
fi
summary_done=1
echo "$pass passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
