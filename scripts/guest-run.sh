#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the guest: load the C reference tun.ko and rtun.ko, then run
# the given command (default: an interactive shell).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

kdir=${RTUN_KDIR:?RTUN_KDIR not set: run this through scripts/vm-run.sh}
grep -qw '^tun' /proc/modules || insmod "$kdir/drivers/net/tun.ko" ||
	die "cannot load $kdir/drivers/net/tun.ko"
grep -qw '^rtun' /proc/modules || insmod "$RTUN_ROOT/rtun.ko" ||
	die "cannot load $RTUN_ROOT/rtun.ko"
[ $# -gt 0 ] || set -- bash -i
exec "$@"
