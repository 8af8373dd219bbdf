#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The Rust crate's three folders are its layers (rust/*/mod.rs says the
# rule of each); this fails, naming file and line, when code crosses one:
#   rust/pure/          imports only core and itself: no kernel crate, no
#                       unsafe, nothing from the other two folders;
#   rust/abstractions/  never imports from the driver;
#   rust/driver/        no unsafe, no raw pointers, no generated boundary.
# It also prints the number of unsafe blocks, functions and impls per folder.
#
# Usage: scripts/check-layers.sh [RUST_DIR]   (default: rust/ at the top)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../rust}
[ -d "$dir/pure" ] && [ -d "$dir/abstractions" ] && [ -d "$dir/driver" ] ||
	{ echo "check-layers: $dir has no pure/, abstractions/ and driver/ folders" >&2; exit 2; }

bad=0
# Usage: forbid FOLDER REGEX WHAT: report code lines (not comments) that match.
forbid() {
	local hits
	hits=$(grep -rnE --include='*.rs' --exclude=rtun_h.rs -- "$2" "$dir/$1" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true)
	if [ -n "$hits" ]; then
		echo "check-layers: rust/$1 must not use $3:" >&2
		printf '%s\n' "$hits" | sed "s|^$dir/|  rust/|" >&2
		bad=1
	fi
}

forbid pure '(^|[^a-z_])(kernel|bindings|ffi)::|crate::(abstractions|driver)|(^|[^a-z_])unsafe([^a-z_]|$)' \
	'the kernel crate, unsafe or another folder'
forbid abstractions 'crate::driver|super::super::driver|(^|[^a-z_])driver::' 'the driver'
forbid driver '(^|[^a-z_])unsafe([^a-z_]|$)|\*(mut|const) |(^|[^a-z_])ffi::|abstractions::ffi' \
	'unsafe, raw pointers or the generated boundary'

for f in pure abstractions driver; do
	n=$(grep -rhoE --include='*.rs' --exclude=rtun_h.rs '(^|[^a-z_])unsafe[[:space:]]*(\{|fn|impl|extern)' "$dir/$f" | wc -l)
	echo "check-layers: rust/$f: $n unsafe blocks, functions and impls"
done
[ $bad -eq 0 ] && echo "check-layers: every folder keeps its rule"
exit $bad
