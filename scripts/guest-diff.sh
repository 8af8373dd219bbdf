#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run inside the test VM: the differential tester selftests/rtun/tun_diff,
# C tun against rtun.  Loads tun.ko and rtun.ko unless they are loaded.
#
# Usage: scripts/vm-run.sh -- bash scripts/guest-diff.sh [COUNT [SEED]] [-- ARGS]
#   COUNT   write cases (default 20000)
#   SEED    seed of the case generator (default: from the clock, printed)
#   ARGS    more tun_diff options (e.g. --verbose, --max-diffs 3)
# Environment: RTUN_DIFF_READS, the number of read cases (default COUNT/4);
# RTUN_KDIR, the kernel build (set by vm-run.sh, else read from
# /proc/cmdline); RTUN_KO (default $RTUN_ROOT/rtun.ko).
# Exits with tun_diff's status: 0 no difference, 1 differences, 2 error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

count=20000
seed=
if [ $# -gt 0 ] && [ "$1" != -- ]; then count=$1; shift; fi
if [ $# -gt 0 ] && [ "$1" != -- ]; then seed=$1; shift; fi
[ $# -eq 0 ] || { [ "$1" = -- ] && shift; } ||
	die "usage: guest-diff.sh [COUNT [SEED]] [-- TUN_DIFF-ARGS]"
[[ "$count" =~ ^[0-9]+$ ]] || die "COUNT must be a number, not '$count'"
[ -n "$seed" ] || seed=$(date +%s)
[[ "$seed" =~ ^[0-9]+$ ]] || die "SEED must be a number, not '$seed'"
reads=${RTUN_DIFF_READS:-$((count / 4))}

[ "$(id -u)" -eq 0 ] || die "must run as root in the guest"
kdir=${RTUN_KDIR:-$(sed -n 's|.*virtme_link_mods=\([^ ]*\)/\.virtme_mods/.*|\1|p' /proc/cmdline)}
rtun_ko=${RTUN_KO:-$RTUN_ROOT/rtun.ko}
prog=$RTUN_ROOT/selftests/rtun/tun_diff
[ -x "$prog" ] || die "$prog not built: make -C selftests/rtun KDIR=..."
[ ! "$prog.c" -nt "$prog" ] || info "warning: tun_diff is older than tun_diff.c (rebuild it)"

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

echo "guest-diff: seed $seed, $count write cases, $reads read cases" \
	"(re-run: scripts/guest-diff.sh $count $seed)"
echo "guest-diff-start $seed" >/dev/kmsg
rc=0
"$prog" --seed "$seed" --count "$count" --read-cases "$reads" "$@" || rc=$?
echo "guest-diff: tun_diff exit status $rc"
exit "$rc"
