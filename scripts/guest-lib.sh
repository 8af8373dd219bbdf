# SPDX-License-Identifier: GPL-2.0
#
# What the in-guest scripts share: their counted "ok" and "FAIL" lines,
# the check that they run as root in the test VM, the kernel build
# directory virtme-ng took the modules from, and how a program that opens
# /dev/net/tun by name is run against rtun.  Sourced after lib.sh by a
# script that has set guest_name (the prefix of its lines).

passed=0
failed=0
skipped=0

# Guest-level checks are reported like test cases and counted with them.
check_ok() { echo "# $guest_name: ok: $*"; passed=$((passed + 1)); }
check_fail() { echo "# $guest_name: FAIL: $*"; failed=$((failed + 1)); }
check_skip() { echo "# $guest_name: SKIP: $*"; skipped=$((skipped + 1)); }

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

# Sets the array as_rtun to a command prefix that runs a program against
# rtun where it opens /dev/net/tun: in a private mount namespace (util-linux
# unshare makes its mounts private) in which /dev/net/rtun is bind-mounted
# over /dev/net/tun, checked by device number before the program is
# exec'd (so it keeps the prefix's pid).  The prefix exits with 125 if the
# bind mount failed.  Returns non-zero if /dev/net/rtun or unshare is
# missing.
rtun_ns_prefix() {
	local rdev

	command -v unshare >/dev/null || return 1
	rdev=$(stat -c '%t:%T' /dev/net/rtun) || return 1
	as_rtun=(unshare -m --propagation private -- bash -c '
		mount --bind /dev/net/rtun /dev/net/tun || exit 125
		[ "$(stat -c %t:%T /dev/net/tun)" = "$1" ] || { echo "bind mount did not take"; exit 125; }
		shift
		exec "$@"' _ "$rdev")
}

# Checks (counted) that the guest's own /dev/net/tun is still the node
# with device number $1 (major:minor in hex, as stat %t:%T) after runs in
# as_rtun's namespace.
check_bind_private() {
	local now

	now=$(stat -c '%t:%T' /dev/net/tun)
	if [ "$now" = "$1" ]; then
		check_ok "rtun: /dev/net/rtun over /dev/net/tun in a private mount namespace only"
	else
		check_fail "rtun: the bind mount leaked: /dev/net/tun is $now, was $1"
	fi
}
