#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fuzz rtun's planners (rust/pure/vnet_hdr.rs for writes, rust/pure/vnet_out.rs for
# reads) with libFuzzer through cargo-fuzz, on the stable toolchain, for a
# bounded time each; then run the differential testers (C tun against
# rtun: selftests/rtun/tun_diff, then the control plane's tun_ctldiff) in
# the VM for as long each, from a random seed.
#
# Usage: scripts/fuzz.sh [SECONDS]       (default 60, per target)
#
# Environment:
#   FUZZ_SANITIZER  none (default) or address; the planner has no unsafe
#                   code, so ASan only slows it down. A sanitizer needs
#                   unstable rustc flags, which RUSTC_BOOTSTRAP=1 unlocks on
#                   the stable toolchain.
#   FUZZ_ARGS       extra libFuzzer arguments.
#   FUZZ_TARGETS    the targets to run (default: plan_write plan_read).
#   FUZZ_DIFF       0 skips the differential tester (default 1).
#
# Installs cargo-fuzz (crates.io) and a C++ compiler (for libfuzzer-sys) if
# missing; idempotent. The build has overflow checks and debug assertions
# on (-a), so an arithmetic overflow is a crash. Corpora are kept in
# host/fuzz/corpus/<target>, crashes go to host/fuzz/artifacts/<target>
# (both git-ignored). Prints the number of executions and execs/s per
# target; exits non-zero if the fuzzer found a crash.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

secs=${1:-60}
case $secs in
'' | *[!0-9]*) die "SECONDS must be a positive integer, got '$secs'" ;;
esac
[ "$secs" -gt 0 ] || die "SECONDS must be positive"
sanitizer=${FUZZ_SANITIZER:-none}
targets=${FUZZ_TARGETS:-plan_write plan_read}
host="$RTUN_ROOT/host"

command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain (rustup) first"

# libfuzzer-sys compiles libFuzzer's C++ sources.
if ! command -v c++ >/dev/null && ! command -v g++ >/dev/null && ! command -v clang++ >/dev/null; then
	info "no C++ compiler: installing g++"
	command -v apt-get >/dev/null || die "apt-get not found: install g++ by hand"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends g++ >/dev/null; } ||
		die "apt-get install g++ failed"
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
	info "installing cargo-fuzz from crates.io (takes a minute)"
	mkdir -p "$RTUN_CACHE"
	log="$RTUN_CACHE/cargo-fuzz-install.log"
	cargo install cargo-fuzz --locked >"$log" 2>&1 || {
		tail -20 "$log" >&2
		die "cargo install cargo-fuzz failed (log: $log)"
	}
fi
info "$(cargo fuzz --version), $(rustc --version)"

if [ "$sanitizer" != none ]; then
	export RUSTC_BOOTSTRAP=1
fi

cd "$host"
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

# Builds and runs one target for $secs seconds and prints its numbers.
fuzz_one() {
	local target=$1 rc execs rate cov log=$logdir/$1.log

	info "building fuzz target $target (sanitizer: $sanitizer)"
	cargo fuzz build -O -a -s "$sanitizer" "$target" ||
		die "cargo fuzz build of $target failed"
	mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"

	info "fuzzing $target for $secs s"
	set +e
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of words.
	cargo fuzz run -O -a -s "$sanitizer" "$target" -- \
		-max_total_time="$secs" -print_final_stats=1 ${FUZZ_ARGS:-} >"$log" 2>&1
	rc=$?
	set -e

	tail -n 5 "$log" >&2
	execs=$(awk '/stat::number_of_executed_units:/ {s += $2} END {print s + 0}' "$log")
	rate=$(awk '/stat::average_exec_per_sec:/ {s += $2} END {print s + 0}' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
	echo "fuzz target:  $target"
	echo "executions:   $execs"
	echo "execs/s:      $rate"
	echo "coverage:     ${cov:-unknown}"
	echo "corpus:       $(find "fuzz/corpus/$target" -type f | wc -l) inputs"
	if [ "$rc" -ne 0 ] || grep -q 'SUMMARY: libFuzzer\|panicked at\|deadly signal' "$log"; then
		grep -m 20 'panicked at\|SUMMARY\|Test unit written' "$log" >&2 || true
		die "fuzzer found a crash in $target (exit $rc); see host/fuzz/artifacts/$target"
	fi
	[ "$execs" -gt 0 ] || die "no executions counted for $target: the fuzzer did not run"
	echo "fuzz: $target: 0 crashes"
}

for t in $targets; do
	fuzz_one "$t"
done

[ "${FUZZ_DIFF:-1}" = 0 ] && exit 0
# The differential testers in the guest, each stopped by time, not by a
# count; guest-diff.sh prints the seed, cases/s and how to replay a
# difference.
kdir=$(bash "$here/kdir.sh")
KDIR=$kdir bash "$here/build-module.sh"
make -s -C "$RTUN_ROOT/selftests/rtun" KDIR="$kdir" >/dev/null ||
	die "building the selftests (tun_diff) failed"
info "differential testers, C tun against rtun, for $secs s each in the VM"
cd "$RTUN_ROOT"
KDIR=$kdir bash "$here/vm-run.sh" --timeout $((2 * secs + 900)) -- \
	env RTUN_CTLDIFF_SEQS=1000000000 RTUN_CTLDIFF_SECONDS="$secs" \
	bash "$here/guest-diff.sh" 1000000000 random -- --seconds "$secs" ||
	die "the differential tester found a difference or failed (see above)"
