#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the rtun test kernel with virtme-ng and run a command in it.
#
# Usage: vm-run.sh [--kdir DIR] [--timeout SECS] [--log FILE] -- CMD [ARG...]
#        vm-run.sh [--kdir DIR] [--log FILE] --interactive [-- CMD [ARG...]]
#
# The guest sees the host's root read-only (9p) with 2 vCPUs; CMD runs as
# root with the repository root as working directory, its stdout and stderr
# both on vm-run's stdout.  The guest environment has RTUN_KDIR (the kernel
# build) and RTUN_OUT (a directory writable by the guest, kept on the host
# next to the log).  vm-run exits with CMD's exit status; 124 when the
# global timeout expired, 255 when the guest died (e.g. kernel panic).
#
# Before CMD runs, the guest scans its own boot log (dmesg-check.sh): a
# kernel that reported a bug while booting, before any module of ours was
# loaded, is not one to test on (a KASAN or lockdep report also turns lock
# debugging off for the rest of the boot), so vm-run says so and boots
# again (RTUN_VM_BOOT_TRIES boots in all, default 2); CMD then runs on a
# kernel whose log starts clean.  The timeout applies to each boot.
#
# The guest console (full kernel log) and CMD's output go to the log file,
# by default $RTUN_CACHE/logs/vm-<timestamp>.log.
#
# Environment:
#   RTUN_ACCEL=kvm|tcg       skip the KVM probe and use this accelerator
#                            (the probe runs once per machine: its answer is
#                            kept in $RTUN_CACHE/accel/, keyed on the QEMU
#                            version, /dev/kvm and the host kernel, whatever
#                            kernel is booted; delete that directory to probe
#                            again)
#   RTUN_VM_TIMEOUT=SECS     global timeout (default 1200), as --timeout
#   RTUN_VM_CPUS, RTUN_VM_MEM   vCPUs (default 2) and memory (default 1536M)
#   RTUN_VM_BOOT_TRIES       boots allowed for a clean boot log (default 2)
#   RTUN_VM_APPEND           more kernel command line parameters
#                            (vng --append)
#   RTUN_VM_9P_CACHE=none|loose  the guest's page cache for the host's
#                            root (default none, as vng; see vng_base)
#   RTUN_KVM_PROBE_TIMEOUT   seconds allowed to the KVM probe boot (default 60)
#   RTUN_QEMU_PLUGIN=SO[,ARG=VAL...]   load this TCG plugin into QEMU
#                            (-plugin; TCG only: refused with KVM); used by
#                            make bench-icount (bench/icount.sh)
#   RTUN_QEMU_ICOUNT=SHIFT   TCG's icount mode (-icount shift=SHIFT, TCG
#                            only): the guest's clock follows the
#                            instructions it executes (2^SHIFT ns each), not
#                            the host's, so its timer ticks come after as
#                            many instructions in every boot; one host
#                            thread runs all vCPUs.  bench/icount.sh sets 0
#   KDIR                     kernel build directory, as --kdir
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

usage() {
	sed -n '4,45s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

kdir=${KDIR:-}
tmo=${RTUN_VM_TIMEOUT:-1200}
log=
interactive=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kdir) [ $# -ge 2 ] || usage; kdir=$2; shift 2 ;;
	--kdir=*) kdir=${1#*=}; shift ;;
	--timeout) [ $# -ge 2 ] || usage; tmo=$2; shift 2 ;;
	--timeout=*) tmo=${1#*=}; shift ;;
	--log) [ $# -ge 2 ] || usage; log=$2; shift 2 ;;
	--log=*) log=${1#*=}; shift ;;
	--interactive) interactive=1; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	*) echo "vm-run: unknown option '$1'" >&2; usage ;;
	esac
done
[ $interactive -eq 1 ] || [ $# -gt 0 ] || { echo "vm-run: no command given" >&2; usage; }
[[ "$tmo" =~ ^[1-9][0-9]*$ ]] || die "--timeout wants a positive number of seconds, not '$tmo'"

cpus=${RTUN_VM_CPUS:-2}
mem=${RTUN_VM_MEM:-1536M}
vng=$RTUN_VENV/bin/vng

check_tools() {
	[ -x "$vng" ] || die "virtme-ng not found at $vng: run scripts/setup-deps.sh"
	command -v qemu-system-x86_64 >/dev/null ||
		die "qemu-system-x86_64 not found: run scripts/setup-deps.sh"
	# vng runs its helper virtme-run through PATH.
	export PATH="$RTUN_VENV/bin:$PATH"
}

find_kernel() {
	if [ -z "$kdir" ]; then
		kdir=$(bash "$here/build-kernel.sh") ||
			die "no kernel: scripts/build-kernel.sh failed"
	fi
	[ -d "$kdir" ] || die "kernel build directory '$kdir' does not exist: run scripts/build-kernel.sh"
	kdir=$(cd "$kdir" && pwd)
	bzimage=$kdir/arch/x86/boot/bzImage
	[ -f "$bzimage" ] || die "no kernel image $bzimage: run scripts/build-kernel.sh"
	[ -f "$kdir/.rtun-built" ] ||
		info "warning: $kdir has no .rtun-built: the kernel build may be incomplete"
}

# Base vng arguments shared by the probe and real runs.
vng_base() {
	base=(--run "$bzimage" --force-9p --cpus "$cpus" --memory "$mem"
	      --cwd "$RTUN_ROOT" --name rtun-vm)
	# vng mounts the host's root over 9p without a cache (cache=none):
	# every exec then reads its binary and libraries from the host again,
	# page by page, which on the debug kernel made an "ip" command cost
	# seconds.  The guest only reads the root (read-only), and nothing it
	# reads there changes while it runs (what it writes for the host goes
	# to the --rwdir mount), so it may keep what it read: cache=loose, as
	# the debug phase asks.  Not by default yet: the one whole make check
	# with it everywhere lost 6 of 7.3's upstream "maxsegs" cases on rtun
	# (see README; those cases also fail now and then with cache=none, for
	# C as for rtun), and the release phases have passed CI with vng's
	# cache=none.  The kernel takes the last rootflags=; these are vng's
	# plus the cache mode.
	case "${RTUN_VM_9P_CACHE:-none}" in
	loose) base+=(--append "rootflags=version=9p2000.L,trans=virtio,access=any,msize=524288,cache=loose") ;;
	none) ;;
	*) die "RTUN_VM_9P_CACHE must be loose or none, not '$RTUN_VM_9P_CACHE'" ;;
	esac
	[ -z "${RTUN_VM_APPEND:-}" ] || base+=(--append "$RTUN_VM_APPEND")
}

# What the KVM probe's answer depends on: the machine (host kernel, /dev/kvm
# and who may open it) and QEMU, not the guest kernel.
accel_key() {
	{
		qemu-system-x86_64 --version | head -n 1
		uname -r
		if [ -c /dev/kvm ]; then
			stat -c 'kvm %t:%T %a %U:%G' /dev/kvm
			if [ -w /dev/kvm ]; then echo writable; else echo read-only; fi
		else
			echo 'no /dev/kvm'
		fi
	} 2>&1 | sha256sum | cut -c1-16
}

# Try a short boot with KVM; nested KVM on some hosts aborts or hangs.
probe_kvm() {
	local plog=$accel_dir/$akey.log ptmo=${RTUN_KVM_PROBE_TIMEOUT:-60}

	if [ ! -c /dev/kvm ] || [ ! -w /dev/kvm ]; then
		info "KVM probe: /dev/kvm missing or not writable"
		echo tcg
		return
	fi
	info "KVM probe: booting with KVM (at most ${ptmo}s, log $plog)"
	if timeout -k 5 "$ptmo" "$vng" "${base[@]}" --exec true </dev/null >"$plog" 2>&1; then
		info "KVM probe: KVM works"
		echo kvm
	else
		info "KVM probe: KVM boot failed or hung (see $plog); using TCG"
		echo tcg
	fi
}

pick_accel() {
	local cache

	accel_dir=$RTUN_CACHE/accel
	akey=$(accel_key)
	cache=$accel_dir/$akey

	accel=${RTUN_ACCEL:-}
	if [ -n "$accel" ]; then
		case "$accel" in kvm | tcg) ;; *) die "RTUN_ACCEL must be kvm or tcg, not '$accel'" ;; esac
		info "accelerator $accel (from RTUN_ACCEL)"
		return
	fi
	if [ -r "$cache" ]; then
		accel=$(cat "$cache")
		case "$accel" in
		kvm | tcg) info "accelerator $accel (cached in $cache)"; return ;;
		esac
	fi
	mkdir -p "$accel_dir" 2>/dev/null || true
	accel=$(probe_kvm)
	{ echo "$accel" >"$cache.tmp" && mv "$cache.tmp" "$cache"; } 2>/dev/null ||
		info "cannot cache the probe result in $cache"
}

setup_log() {
	local ts

	ts=$(date +%Y%m%d-%H%M%S)
	[ -n "$log" ] || log=$RTUN_CACHE/logs/vm-$ts-$$.log
	mkdir -p "$(dirname "$log")" || die "cannot create the log directory for $log"
	: >"$log" || die "cannot write the log file $log"
	log=$(cd "$(dirname "$log")" && pwd)/$(basename "$log")
	outdir=${log%.log}.d
	mkdir -p "$outdir" || die "cannot create $outdir"
	info "VM log: $log"
}

# An interactive session on the console: a shell, or CMD (which may start one).
run_interactive() {
	local exec_opt=()

	if [ ! -t 0 ] || [ ! -t 1 ]; then
		die "--interactive needs a terminal on stdin and stdout"
	fi
	if [ $# -gt 0 ]; then
		exec_opt=(--exec "export RTUN_KDIR=$(printf %q "$kdir") RTUN_OUT=$(printf %q "$outdir"); $(printf '%q ' "$@")")
	fi
	info "starting an interactive session in the VM; leave it with 'exit' or Ctrl-D"
	set +e
	"$vng" "${base[@]}" "${accel_opt[@]}" --rwdir "$outdir" "${exec_opt[@]}" \
		2> >(tee -a "$log" >&2)
	exit $?
}

interrupted=0
on_signal() {
	interrupted=1
	[ -z "${vpid:-}" ] || kill -TERM "$vpid" 2>/dev/null || true
}

# The guest's first step: the boot log must be clean before CMD runs.  If
# it is not, the offending lines are printed, the marker file
# $boot_unclean is left for the host and the guest exits with 75.
boot_check() {
	local m

	m=$(printf %q "$boot_unclean")
	printf '%s' "dmesg | bash $(printf %q "$here/dmesg-check.sh") >$m || { echo 'vm-run: the kernel reported a problem while booting, before the guest command ran:'; cat $m; exit 75; }; rm -f $m; "
}

# Boots once and runs the guest command; stdout is teed to the log, the
# console (stderr of vng, which QEMU reopens through /proc/self/fd/2) is
# appended to it.  Sets rc and elapsed.
run_once() {
	local gcmd start

	rc=0
	boot_unclean=$outdir/boot-unclean
	rm -f "$boot_unclean"
	gcmd="export RTUN_KDIR=$(printf %q "$kdir") RTUN_OUT=$(printf %q "$outdir"); exec 2>&1; $(boot_check)$(printf '%q ' "$@")"
	mkfifo "$tmp/out" "$tmp/err"

	start=$SECONDS
	timeout -k 10 "$tmo" "$vng" "${base[@]}" "${accel_opt[@]}" --verbose \
		--rwdir "$outdir" --exec "$gcmd" </dev/null >"$tmp/out" 2>"$tmp/err" &
	vpid=$!
	tee -a "$log" <"$tmp/out" &
	local tpid=$!
	cat <"$tmp/err" >>"$log" &
	local cpid=$!

	wait "$vpid" || rc=$?
	while [ $interrupted -eq 1 ] && kill -0 "$vpid" 2>/dev/null; do
		wait "$vpid" || rc=$?
	done
	wait "$tpid" "$cpid" || true
	rm -f "$tmp/out" "$tmp/err"
	elapsed=$((SECONDS - start))
	[ $interrupted -eq 0 ] || { info "interrupted; VM stopped (log: $log)"; exit 130; }
}

# Boots until the boot log is clean (at most RTUN_VM_BOOT_TRIES boots),
# runs the guest command and exits with its status.
run_command() {
	local try=1 tries=${RTUN_VM_BOOT_TRIES:-2} from=1

	[[ "$tries" =~ ^[1-9][0-9]*$ ]] ||
		die "RTUN_VM_BOOT_TRIES must be a positive number, not '$tries'"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	trap on_signal INT TERM HUP
	while :; do
		from=$(($(stat -c %s "$log") + 1))
		run_once "$@"
		[ "$rc" -eq 75 ] && [ -f "$boot_unclean" ] || break
		if [ "$try" -ge "$tries" ]; then
			info "the kernel's boot log was not clean in $tries boots; giving up (log: $log)"
			break
		fi
		try=$((try + 1))
		info "the kernel reported a problem while booting, before the guest command ran (no module of ours was loaded yet); booting again ($try of $tries)"
		echo "vm-run: boot $try of $tries" >>"$log"
	done

	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && [ "$elapsed" -ge "$tmo" ]; then
		info "timeout: the VM ran longer than ${tmo}s and was killed; last console lines:"
		tail -n 30 "$log" >&2
		info "full log: $log"
		exit 124
	fi
	if [ "$rc" -eq 255 ]; then
		info "the guest ended without a command status (kernel panic?); last console lines:"
		tail -n 30 "$log" >&2
	fi
	# The last boot's console only: an earlier boot's report was shown.
	tail -c +"$from" "$log" | bash "$here/dmesg-check.sh" >"$tmp/dmesg" ||
		{ info "warning: the kernel log has problems:"; cat "$tmp/dmesg" >&2; }
	info "VM finished in ${elapsed}s ($accel), guest command exit status $rc; log: $log"
	exit "$rc"
}

check_tools
find_kernel
vng_base
pick_accel
accel_opt=()
[ "$accel" = kvm ] || accel_opt=(--disable-kvm)
if [ -n "${RTUN_QEMU_PLUGIN:-}" ]; then
	[ "$accel" = tcg ] || die "RTUN_QEMU_PLUGIN needs TCG, but the accelerator is $accel (set RTUN_ACCEL=tcg)"
	[[ "$RTUN_QEMU_PLUGIN" != *[[:space:]]* ]] || die "RTUN_QEMU_PLUGIN must not contain spaces: '$RTUN_QEMU_PLUGIN'"
	[ -f "${RTUN_QEMU_PLUGIN%%,*}" ] || die "RTUN_QEMU_PLUGIN: no plugin ${RTUN_QEMU_PLUGIN%%,*}"
	info "QEMU plugin: $RTUN_QEMU_PLUGIN"
	# vng passes --qemu-opts last, to QEMU as they are.
	accel_opt+=(--qemu-opts="-plugin $RTUN_QEMU_PLUGIN")
fi
if [ -n "${RTUN_QEMU_ICOUNT:-}" ]; then
	[ "$accel" = tcg ] || die "RTUN_QEMU_ICOUNT needs TCG, but the accelerator is $accel (set RTUN_ACCEL=tcg)"
	case "$RTUN_QEMU_ICOUNT" in
	[0-9] | 10) ;;
	*) die "RTUN_QEMU_ICOUNT must be a shift from 0 to 10, not '$RTUN_QEMU_ICOUNT'" ;;
	esac
	info "TCG icount mode, shift $RTUN_QEMU_ICOUNT"
	accel_opt+=(--qemu-opts="-icount shift=$RTUN_QEMU_ICOUNT")
fi
setup_log
if [ $interactive -eq 1 ]; then
	run_interactive "$@"
fi
run_command "$@"
