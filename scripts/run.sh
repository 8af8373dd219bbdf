#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make run: from nothing, install, build the kernel and rtun.ko, boot the
# VM, load tun.ko and rtun.ko, print a side-by-side report and run a TSO
# round trip through each driver, then quote make bench-quick.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

kdir=$(bash "$here/kdir.sh")
KDIR=$kdir bash "$here/build-module.sh"
make -s -C "$RTUN_ROOT/selftests/rtun" KDIR="$kdir" >/dev/null ||
	die "building the selftests (tun_fwd) failed"
info "booting $kdir (the first boot probes KVM, then falls back to TCG)"
KDIR=$kdir bash "$here/vm-run.sh" --timeout 600 -- \
	bash "$here/guest-run.sh" bash "$here/guest-report.sh"
info "a first look at speed: make bench-quick (one 1 s round per workload;" \
	"make bench for 10 rounds with confidence intervals)"
bash "$RTUN_ROOT/bench/run.sh" --quick || die "make bench-quick failed"
