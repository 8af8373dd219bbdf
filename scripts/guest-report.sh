#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM for make run: the side-by-side report of both drivers,
# then a TSO round trip on each: TCP between two network namespaces over
# two TAP devices joined by selftests/rtun/tun_fwd with TSO on, showing the
# GSO frames larger than the MTU that crossed it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

python3 "$here/report.py" || die "report failed"
echo
echo "TSO round trip (iperf3 and a 4 MiB transfer through tun_fwd, offloads on;"
echo "throughput under TCG is informational):"
E2E_SECONDS=${E2E_SECONDS:-2} bash "$RTUN_ROOT/selftests/rtun/e2e_iperf.sh" 2>&1 |
	grep -E '^(ok|not ok) |iperf3|gso|Mbit' | sed 's/^/  /'
