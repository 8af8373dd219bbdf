# SPDX-License-Identifier: GPL-2.0
#
# What the in-guest scripts share: their counted "ok" and "FAIL" lines,
# the check that they run as root in the test VM, and the kernel build
# directory virtme-ng took the modules from.  Sourced after lib.sh by a
# script that has set guest_name (the prefix of its lines).

passed=0
failed=0
skipped=0

# Guest-level checks are reported like test cases and counted with them.
check_ok() { echo "# $guest_name: ok: $*"; passed=$((passed + 1)); }
check_fail() { echo "# $guest_name: FAIL: $*"; failed=$((failed + 1)); }

# Dies unless this runs as root in the test VM; $1 says how to run it.
guest_sanity() {
	grep -q 'virtme_' /proc/cmdline || [ "${RTUN_GUEST_FORCE:-0}" = 1 ] ||
		die "not in the test VM: run it as $1"
	[ "$(id -u)" -eq 0 ] || die "must run as root in the guest"
}

# Prints the kernel build directory the guest's modules come from.
guest_kdir() {
	sed -n 's|.*virtme_link_mods=\([^ ]*\)/\.virtme_mods/.*|\1|p' /proc/cmdline
}
