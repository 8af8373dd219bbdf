#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Scan a kernel log for signs of kernel bugs: warnings, oopses, panics,
# sanitizer and lockdep reports, leaks, refcount errors, Rust panics.
#
# Usage: dmesg-check.sh [LOGFILE]     (reads stdin without LOGFILE)
# Exit:  0 clean, 1 offending lines found (printed on stdout), 2 usage error.
set -euo pipefail

# The one list of patterns (extended regular expressions, case-sensitive).
patterns=(
	'BUG:'
	'WARNING:'
	'KASAN'
	'UBSAN'
	'possible circular locking'
	'possible recursive locking'
	'inconsistent lock state'
	'suspicious RCU usage'
	'kmemleak: .*suspected memory leak'
	'unreferenced object'
	'refcount_t:'
	'rust_panic'
	'panicked at'
	'Kernel panic'
	'Oops'
	'general protection fault'
	'list_add corruption'
	'list_del corruption'
	'unregister_netdevice: waiting for'
	'soft lockup'
	'hard LOCKUP'
	'blocked for more than [0-9]+ seconds'
	'rcu: INFO: .*detected stalls'
	'Call Trace:'
)

# Lines never reported even if they match (the command line echoes user input).
ignore=(
	'Command line:'
	'Kernel command line:'
)

usage() {
	echo "usage: $0 [LOGFILE]   (reads stdin without LOGFILE)" >&2
	exit 2
}

join() {
	local IFS='|'
	echo "$*"
}

[ $# -le 1 ] || usage
case "${1:-}" in -h | --help) usage ;; esac
src=${1:--}
if [ "$src" != - ] && [ ! -r "$src" ]; then
	echo "dmesg-check: cannot read kernel log '$src'" >&2
	exit 2
fi
name=$src
[ "$src" != - ] || name='(stdin)'

hits=$(cat -- "$src" | grep -n -E -- "$(join "${patterns[@]}")" |
	grep -v -E -- "$(join "${ignore[@]}")" || true)
if [ -n "$hits" ]; then
	echo "dmesg-check: kernel log $name reports problems:"
	printf '%s\n' "$hits"
	exit 1
fi
echo "dmesg-check: kernel log $name is clean"
