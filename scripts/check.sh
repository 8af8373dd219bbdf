#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test rtun has, from nothing.  Steps: dependencies, host
# tests (cargo test), rustfmt and clippy of the host crate; then for each
# kernel (6.12 and 7.3; rtun follows each one's own tun.c): the kernel,
# the module with no warnings, clippy with no warnings, no panic path
# (check-no-panic.sh), the selftests in a VM against both drivers with a
# dmesg check (guest-check.sh; in the same boot that kernel's own
# tools/testing/selftests/net/tun.c, built unchanged by
# build-upstream-selftest.sh), and the differential tester tun_diff (C
# tun against rtun, 20,000 write cases from a fixed seed); with the first
# kernel also the layers (check-layers.sh), the generated boundary that a
# one-sided change breaks (check-boundary.sh) and the selftests' build;
# after each, the instruction-count guard (bench/icount.sh --check).
# Then the debug kernel, 7.3 with KASAN, lockdep, kmemleak and fault
# injection: the selftests, a bounded differential run and a kmemleak scan
# (guest-debug.sh).
#
# RTUN_KERNELS (default "6.12,7.3") selects the kernels; KDIR= (your own
# tree) replaces them and skips the debug kernel; RTUN_SKIP_DEBUG=1 skips
# it too.  RTUN_DIFF_SEED sets the seed of the differential runs (default:
# guest-diff.sh's, printed), RTUN_DIFF_CASES and RTUN_DEBUG_DIFF_CASES
# their numbers of write cases (default 20000 and 40; a quarter as many
# read cases come on top).  The last line is the total, "N passed, N
# failed", counting host tests, selftest cases, differential cases and the
# build/lint steps; the exit status is non-zero on any failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

passed=0
failed=0
failures=()
logdir=$RTUN_CACHE/logs/check-$(date +%Y%m%d-%H%M%S)
mkdir -p "$logdir" || die "cannot create $logdir"

# Minutes:seconds since make check started, on every step's line, so that
# a log shows where the time went (README's measured phases come from it).
since() { printf '%3d:%02d' $((SECONDS / 60)) $((SECONDS % 60)); }
ok() { passed=$((passed + ${2:-1})); printf 'check: %s ok   %s\n' "$(since)" "$1"; }
bad() {
	failed=$((failed + ${2:-1}))
	failures+=("$1")
	printf 'check: %s FAIL %s\n' "$(since)" "$1"
}
summary() {
	echo
	[ ${#failures[@]} -eq 0 ] || printf 'check: failed: %s\n' "${failures[@]}"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

# Runs "$@" with its output in $logdir/$1.log, shown only on failure.
quiet_step() {
	local name=$1
	shift
	if "$@" >"$logdir/$name.log" 2>&1; then
		ok "$name"
	else
		tail -n 40 "$logdir/$name.log"
		bad "$name"
	fi
}

# Set-up is a precondition: without it nothing else can run.
if ! bash "$here/setup-deps.sh"; then
	bad "dependencies"
	summary
fi

# The first kernel starts building now, beside the host tests and lints
# (cargo), which leave a core idle for minutes, as does the kernel build
# while rustc compiles the kernel crate; the kernel loop below waits for it
# on the cache entry's lock (build-kernel.sh) and finds it built.
bg_pids=()
bg_kill() {
	local p

	for p in "${bg_pids[@]}"; do
		kill -- "$p" 2>/dev/null || true
	done
}
trap bg_kill EXIT
if [ "${RTUN_BG_BUILDS:-1}" = 1 ] && [ -z "${KDIR:-}" ] && rtun_kernel_selected 6.12; then
	bash "$here/kdir.sh" --kernel 6.12 >"$logdir/kernel-6.12-bg.log" 2>&1 &
	bg_pids+=($!)
fi

# Host tests over the pure core-only modules.
hlog=$logdir/host-tests.log
(cd "$RTUN_ROOT/host" && cargo test --release 2>&1) | tee "$hlog"
hrc=${PIPESTATUS[0]}
hp=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^passed/) s += $i } END { print s + 0 }' "$hlog")
hf=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^failed/) s += $i } END { print s + 0 }' "$hlog")
[ "$hp" -gt 0 ] && ok "host tests ($hp)" "$hp"
if [ "$hrc" -ne 0 ] || [ "$hf" -gt 0 ]; then
	bad "host tests ($hf failed, cargo exit $hrc)" "$((hf > 0 ? hf : 1))"
fi

quiet_step rustfmt rustfmt --check --edition 2021 --config-path "$RTUN_ROOT/.rustfmt.toml" \
	"$RTUN_ROOT"/rust/rtun_main.rs
quiet_step host-rustfmt bash -c "cd '$RTUN_ROOT/host' && cargo fmt --check"
quiet_step host-clippy bash -c "cd '$RTUN_ROOT/host' && cargo clippy --all-targets -- -D warnings"

# Runs a guest suite in a VM and counts its "N passed, N failed" line.
# Usage: vm_suite NAME KDIR TIMEOUT GUEST-COMMAND...
vm_suite() {
	local name=$1 k=$2 tmo=$3 log=$logdir/$1.log
	shift 3

	KDIR=$k bash "$here/vm-run.sh" --timeout "$tmo" --log "$logdir/$name-console.log" -- \
		"$@" 2>&1 | tee "$log"
	vm_count "$name" "${PIPESTATUS[0]}"
}

# The same, in the background, its output only in its log; vm_wait NAME
# waits for it and counts it.
# Usage: vm_suite_bg NAME KDIR TIMEOUT GUEST-COMMAND...
declare -A vm_pids
vm_suite_bg() {
	local name=$1 k=$2 tmo=$3
	shift 3

	KDIR=$k bash "$here/vm-run.sh" --timeout "$tmo" --log "$logdir/$name-console.log" -- \
		"$@" >"$logdir/$name.log" 2>&1 &
	vm_pids[$name]=$!
	bg_pids+=($!)
	info "$name: a VM in the background (log: $logdir/$name.log)"
}

vm_wait() {
	local vrc=0

	wait "${vm_pids[$1]}" || vrc=$?
	grep -E '^(# guest-[a-z]+: (ok|FAIL|.* took)|[0-9]+ passed)|^rtun: VM' "$logdir/$1.log" || true
	vm_count "$1" "$vrc"
}

# Counts the "N passed, N failed" line of suite NAME's log; VRC is the
# VM's exit status.
vm_count() {
	local name=$1 vrc=$2 log=$logdir/$1.log line sp sf

	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	sp=$(echo "$line" | awk '{ print $1 + 0 }')
	sf=$(echo "$line" | awk '{ print $3 + 0 }')
	[ "$sp" -gt 0 ] && ok "$name: cases passed ($sp)" "$sp"
	if [ "$vrc" -ne 0 ] || [ "$sf" -gt 0 ] || [ -z "$line" ]; then
		bad "$name ($sf failed, exit $vrc; log $log)" "$((sf > 0 ? sf : 1))"
	fi
}

# Builds rtun.ko against kernel build KDIR $2 into $3 and checks it: no
# warning, clippy-clean, no panic path, and on a kernel that inlines C
# helpers into Rust no shim wrapper called on the packet paths.  $1 prefixes the step names.
# Usage: module_checks PREFIX KDIR OUTDIR
module_checks() {
	local pre=$1 k=$2 out=$3

	# Clippy first: the plain build last is the module that is tested.
	quiet_step "${pre}module-clippy" env KDIR="$k" bash "$here/build-module.sh" --out "$out" --clippy
	quiet_step "${pre}module-build" env KDIR="$k" bash "$here/build-module.sh" --out "$out"
	quiet_step "${pre}module-no-panic" bash "$here/check-no-panic.sh" "$out/rtun.ko"
	# The shim's data path linked into the Rust code as bitcode (7.3's
	# CONFIG_RUST_INLINE_HELPERS; on 6.12 Kbuild's own rule, with
	# clang-22): no shim/rtun_data.c wrapper left out of line on the
	# packet paths.
	if grep -q '^CONFIG_RUST_INLINE_HELPERS=y' "$k/.config" 2>/dev/null ||
		[ -f "$out/rust/rtun_main.m.bc" ]; then
		quiet_step "${pre}module-inline" bash "$here/check-inline.sh" --kdir "$k" "$out/rtun.ko"
	fi
}

# The guest does not inherit the environment: pass the seed on if set.
diff_env=(env)
[ -z "${RTUN_DIFF_SEED:-}" ] || diff_env+=("RTUN_DIFF_SEED=$RTUN_DIFF_SEED")

# The selftests of both drivers in one boot (guest-check.sh ends with its
# own "N passed, N failed" over the test cases and checks dmesg), then the
# differential tester, C tun as the oracle for rtun: every case that
# differs beyond Documentation/differences.md fails, with its --case line.
# Usage: vm_runs PREFIX KDIR RTUN_KO [VAR=VALUE...]  (more guest-check.sh
# environment, e.g. RTUN_UPSTREAM_TUN)
vm_runs() {
	local pre=$1 k=$2 ko=$3

	shift 3
	if [ ! -f "$ko" ]; then
		bad "${pre}selftests (no $ko)"
		return
	fi
	vm_suite "${pre}vm-selftests" "$k" 1500 env RTUN_KO="$ko" "$@" bash "$here/guest-check.sh"
	vm_suite "${pre}vm-diff" "$k" 900 "${diff_env[@]}" RTUN_KO="$ko" \
		bash "$here/guest-diff.sh" "${RTUN_DIFF_CASES:-20000}"
}

# Each kernel gets the same run, against its own tun.c: module checks,
# the selftests and the differential tester.  6.12 also runs the checks
# that do not depend on the kernel (layers, the generated boundary) and
# builds the selftests (user space, run on both kernels).  KDIR= is the
# user's own kernel, tested in full instead.
if [ -n "${KDIR:-}" ]; then
	kernels=(user)
else
	kernels=()
	rtun_kernel_selected 6.12 && kernels+=(6.12)
	rtun_kernel_selected 7.3 && kernels+=(7.3)
fi
[ ${#kernels[@]} -gt 0 ] || { bad "RTUN_KERNELS=${RTUN_KERNELS} selects no kernel"; summary; }
# The later kernels build while the first one is tested.  Under TCG a
# test VM keeps about one of the two cores busy, and a kernel build, the
# longest step of a fresh machine's make check, can use the other: once
# the first kernel is ready, 7.3 builds in the background at nice 10 and
# the debug kernel at nice 19, so the VMs (nice 0) keep the CPU they ask
# for.  The foreground steps below build the same cache entries and wait
# for these on the entries' locks (build-kernel.sh), then find them built;
# a background build that failed is simply done again there, with its
# error shown.  RTUN_BG_BUILDS=0 builds everything in the foreground.
bg_builds() {
	[ "${RTUN_BG_BUILDS:-1}" = 1 ] && [ -z "${KDIR:-}" ] || return 0
	rtun_kernel_selected 7.3 || return 0
	nice -n 10 bash "$here/kdir.sh" --kernel 7.3 \
		>"$logdir/kernel-7.3-bg.log" 2>&1 &
	bg_pids+=($!)
	if [ "${RTUN_SKIP_DEBUG:-0}" != 1 ]; then
		nice -n 19 bash "$here/build-kernel.sh" --kernel 7.3 \
			"$here/kconfig/rtun.config" "$here/kconfig/rtun-debug.config" \
			>"$logdir/debug-kernel-bg.log" 2>&1 &
		bg_pids+=($!)
	fi
}

built_tests=0
for kver in "${kernels[@]}"; do
	if [ "$kver" = user ]; then
		pre=
		klog=$logdir/kernel.log
		kdir_args=()
	else
		pre="$kver-"
		klog=$logdir/kernel-$kver.log
		kdir_args=(--kernel "$kver")
	fi
	if ! kdir=$(bash "$here/kdir.sh" "${kdir_args[@]}" 2>"$klog"); then
		tail -n 20 "$klog"
		bad "${pre}kernel build"
		continue
	fi
	ok "${pre}kernel ($kdir)"
	[ "$kver" != 6.12 ] || bg_builds
	mod=$RTUN_CACHE/mod-$kver
	module_checks "$pre" "$kdir" "$mod"
	if [ $built_tests = 0 ]; then
		quiet_step module-layers bash "$here/check-layers.sh"
		quiet_step module-boundary env KDIR="$kdir" bash "$here/check-boundary.sh"
		quiet_step selftests-build make -C "$RTUN_ROOT/selftests/rtun" KDIR="$kdir"
		built_tests=1
	fi
	# The kernel's own tools/testing/selftests/net/tun.c, built unchanged;
	# guest-check.sh runs it in the selftests' boot (guest-upstream.sh),
	# against both drivers; on rtun the tests that need multiqueue (issue
	# 12) are reported as skipped, with the reason.
	ust_env=()
	if ust=$(bash "$here/build-upstream-selftest.sh" "${kdir_args[@]}" \
		2>"$logdir/${pre}upstream-selftest-build.log"); then
		ok "${pre}upstream-selftest-build ($ust)"
		ust_env=("RTUN_UPSTREAM_TUN=$ust")
		# 7.3's has 103 cases of about 1.5 s each under TCG: it runs
		# against C and against rtun (over /dev/net/tun in a mount
		# namespace of its own), not a third time in the drop-in
		# phase; 6.12's (a few cases) runs in all three.
		[ "$kver" != 7.3 ] || ust_env+=(RTUN_UPSTREAM_DROPIN=0)
	else
		tail -n 40 "$logdir/${pre}upstream-selftest-build.log"
		bad "${pre}upstream-selftest-build"
	fi
	vm_runs "$pre" "$kdir" "$mod/rtun.ko" "${ust_env[@]}"
	# The instruction-count guard (bench/icount.sh --check, a boot of its
	# own with the QEMU plugin): rtun's guest instructions per operation
	# on three workloads against bench/icount-baseline.txt; more than 2%
	# over fails.  Counts repeat, timings do not: no timing is checked.
	# RTUN_ICOUNT_GUARD=0 leaves it out; a user's KDIR has no baseline.
	if [ "$kver" != user ] && [ "${RTUN_ICOUNT_GUARD:-1}" = 1 ]; then
		quiet_step "${pre}icount-guard" bash "$RTUN_ROOT/bench/icount.sh" --check \
			--kernel "$kver" --ko "$mod/rtun.ko"
		grep '^icount guard' "$logdir/${pre}icount-guard.log" | sed 's/^/check:        /' || true
	fi
done

# The debug kernel (KASAN, lockdep, kmemleak, fault injection) is today's
# kernel, 7.3: the selftests, a bounded differential run and a kmemleak
# scan (guest-debug.sh).  6.12 keeps its release run above.
if [ -n "${KDIR:-}" ]; then
	info "KDIR is set: skipping the debug kernel phase (it builds rtun's own debug kernel)"
elif [ "${RTUN_SKIP_DEBUG:-0}" = 1 ]; then
	info "RTUN_SKIP_DEBUG=1: skipping the debug kernel phase"
elif ! rtun_kernel_selected 7.3; then
	info "RTUN_KERNELS=${RTUN_KERNELS}: no 7.3, so no debug kernel phase"
elif ! dkdir=$(bash "$here/build-kernel.sh" --kernel 7.3 "$here/kconfig/rtun.config" \
	"$here/kconfig/rtun-debug.config" 2>"$logdir/debug-kernel.log"); then
	tail -n 20 "$logdir/debug-kernel.log"
	bad "7.3-debug kernel build"
else
	ok "7.3-debug kernel ($dkdir)"
	dmod=$RTUN_CACHE/mod-debug-7.3
	quiet_step 7.3-debug-module env KDIR="$dkdir" bash "$here/build-module.sh" --out "$dmod"
	# Expedited RCU grace periods: every device this phase deletes waits
	# for several (synchronize_net()), and under TCG a normal one takes
	# ticks; 4-level paging (no5lvl): shorter page walks for TCG's TLB;
	# the host's files kept in the guest's page cache (scripts/vm-run.sh).
	# Two VMs at once, each half of the phase (guest-debug.sh's
	# RTUN_DEBUG_PART): one VM keeps one core busy, and nothing else is
	# left to run beside it.  The first has one vCPU: two VMs of two
	# vCPUs each on the two cores made every boot three times slower
	# (a vCPU spinning for one whose host thread is not running); the
	# second keeps two, for tun_stress's threads on two CPUs under KASAN.
	# 15.8 minutes instead of 22.5 for the phase (2026-12-07).
	# RTUN_DEBUG_VMS=1: one VM, all of it.  Each VM may take an hour:
	# CI's machine once ran part 1 in 2,650 s, six to eight times slower
	# than usual (Documentation/check-times.md).
	export RTUN_VM_9P_CACHE=${RTUN_VM_9P_CACHE:-loose}
	export RTUN_VM_APPEND="rcupdate.rcu_expedited=1 no5lvl${RTUN_VM_APPEND:+ $RTUN_VM_APPEND}"
	dbg=("${diff_env[@]}" RTUN_KO="$dmod/rtun.ko")
	if [ "${RTUN_DEBUG_VMS:-2}" = 1 ]; then
		vm_suite 7.3-vm-debug "$dkdir" 3600 "${dbg[@]}" \
			bash "$here/guest-debug.sh" "${RTUN_DEBUG_DIFF_CASES:-40}"
	else
		RTUN_VM_CPUS=1 vm_suite_bg 7.3-vm-debug1 "$dkdir" 3600 "${dbg[@]}" RTUN_DEBUG_PART=1 \
			bash "$here/guest-debug.sh" "${RTUN_DEBUG_DIFF_CASES:-40}"
		vm_suite 7.3-vm-debug2 "$dkdir" 3600 "${dbg[@]}" RTUN_DEBUG_PART=2 \
			bash "$here/guest-debug.sh"
		vm_wait 7.3-vm-debug1
	fi
fi
summary
