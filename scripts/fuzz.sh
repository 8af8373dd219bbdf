#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fuzz rtun's write-path planner (rust/vnet_hdr.rs) with libFuzzer through
# cargo-fuzz, on the stable toolchain, for a bounded time.
#
# Usage: scripts/fuzz.sh [SECONDS]       (default 60)
#
# Environment:
#   FUZZ_SANITIZER  none (default) or address; the planner has no unsafe
#                   code, so ASan only slows it down. A sanitizer needs
#                   unstable rustc flags, which RUSTC_BOOTSTRAP=1 unlocks on
#                   the stable toolchain.
#   FUZZ_ARGS       extra libFuzzer arguments.
#
# Installs cargo-fuzz (crates.io) and a C++ compiler (for libfuzzer-sys) if
# missing; idempotent. The build has overflow checks and debug assertions
# on (-a), so an arithmetic overflow is a crash. The corpus is kept in
# host/fuzz/corpus/plan_write, crashes go to host/fuzz/artifacts/plan_write
# (both git-ignored). Prints the number of executions and execs/s; exits
# non-zero if the fuzzer found a crash.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

secs=${1:-60}
case $secs in
'' | *[!0-9]*) die "SECONDS must be a positive integer, got '$secs'" ;;
esac
[ "$secs" -gt 0 ] || die "SECONDS must be positive"
sanitizer=${FUZZ_SANITIZER:-none}
target=plan_write
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
info "building fuzz target $target (sanitizer: $sanitizer)"
cargo fuzz build -O -a -s "$sanitizer" "$target" ||
	die "cargo fuzz build failed"

mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

info "fuzzing $target for $secs s"
set +e
# shellcheck disable=SC2086 # FUZZ_ARGS is a list of words.
cargo fuzz run -O -a -s "$sanitizer" "$target" -- \
	-max_total_time="$secs" -print_final_stats=1 ${FUZZ_ARGS:-} >"$logdir/all.log" 2>&1
rc=$?
set -e

tail -n 5 "$logdir/all.log" >&2
execs=$(awk '/stat::number_of_executed_units:/ {s += $2} END {print s + 0}' "$logdir/all.log")
rate=$(awk '/stat::average_exec_per_sec:/ {s += $2} END {print s + 0}' "$logdir/all.log")
cov=$(grep -o 'cov: [0-9]*' "$logdir/all.log" | tail -n 1 || true)
echo "fuzz target:  $target"
echo "executions:   $execs"
echo "execs/s:      $rate"
echo "coverage:     ${cov:-unknown}"
echo "corpus:       $(find "fuzz/corpus/$target" -type f | wc -l) inputs"
if [ "$rc" -ne 0 ] || grep -q 'SUMMARY: libFuzzer\|panicked at\|deadly signal' "$logdir/all.log"; then
	grep -m 20 'panicked at\|SUMMARY\|Test unit written' "$logdir/all.log" >&2 || true
	die "fuzzer found a crash (exit $rc); see host/fuzz/artifacts/$target"
fi
[ "$execs" -gt 0 ] || die "no executions counted: the fuzzer did not run"
echo "fuzz: 0 crashes"
