#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-icount: guest instructions per operation, C tun against rtun,
# counted by the QEMU plugin bench/icount.c between marker instructions
# that bench/rtun-bench executes around each batch of writes, sends or
# reads (Documentation/benchmark.md, "Instruction counts").
#
# Usage: bench/icount.sh [--doc] [--check] [--write-baseline]
#                        [--kernel VER] [--ko RTUN_KO]
#
#   (default)         for each kernel (RTUN_KERNELS, default 6.12,7.3;
#                     --kernel VER one of them): build rtun.ko (into
#                     $RTUN_CACHE/icount/mod-VER), bench/rtun-bench and the
#                     plugin, boot BENCH_ICOUNT_BOOTS times (default 2) with
#                     the plugin loaded, print the table and how far the
#                     boots' totals are apart (they must agree within 0.1%)
#   --doc             also write the tables into Documentation/benchmark.md
#                     and the numbers into Documentation/bench/icount-VER.csv
#   --check           the make check guard: one boot, BENCH_ONLY (default
#                     w1-udp46,w4-small-on,w5-tap60-nb), 40 batches; fails if
#                     rtun's count per operation grew more than 2% over
#                     bench/icount-baseline.txt
#   --write-baseline  rewrite bench/icount-baseline.txt's lines for the
#                     kernels run (commit it with the reason)
#   --ko RTUN_KO      count this module (built for the one --kernel)
#   KDIR=DIR          count on this kernel tree ("user" in tables)
#
# Environment: BENCH_ICOUNT_BATCHES (counted batches per workload and
# driver, default 100), BENCH_ICOUNT_BOOTS, BENCH_ONLY (comma-separated
# workloads), BENCH_TIMEOUT (VM timeout per boot, s), RTUN_VM_*.
# The VM runs under TCG: plugins need it (RTUN_ACCEL=kvm is refused).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$root/scripts/lib.sh"

doc=0 check=0 wbase=0 kernel= ko=
while [ $# -gt 0 ]; do
	case "$1" in
	--doc) doc=1; shift ;;
	--check) check=1; shift ;;
	--write-baseline) wbase=1; shift ;;
	--kernel) [ $# -ge 2 ] || die "--kernel needs a version"; kernel=$2; shift 2 ;;
	--ko) [ $# -ge 2 ] || die "--ko needs a module"; ko=$2; shift 2 ;;
	*) die "usage: bench/icount.sh [--doc] [--check] [--write-baseline] [--kernel VER] [--ko RTUN_KO]" ;;
	esac
done
[ -z "$ko" ] || [ -n "$kernel" ] || [ -n "${KDIR:-}" ] || die "--ko needs --kernel (or KDIR=)"
[ -z "$ko" ] || [ -f "$ko" ] || die "--ko: no module $ko"
case "${RTUN_ACCEL:-tcg}" in
tcg) ;;
*) die "the instruction counts need TCG (QEMU plugins), not RTUN_ACCEL=$RTUN_ACCEL" ;;
esac

baseline=$here/icount-baseline.txt
if [ $check -eq 1 ]; then
	boots=1
	batches=${BENCH_ICOUNT_BATCHES:-40}
	only=${BENCH_ONLY:-w1-udp46,w4-small-on,w5-tap60-nb}
	[ -r "$baseline" ] || die "no baseline $baseline: run bench/icount.sh --write-baseline"
else
	boots=${BENCH_ICOUNT_BOOTS:-2}
	batches=${BENCH_ICOUNT_BATCHES:-100}
	only=${BENCH_ONLY:-}
fi
case "$boots" in '' | *[!0-9]* | 0) die "BENCH_ICOUNT_BOOTS must be a positive number, not '$boots'" ;; esac
case "$batches" in '' | *[!0-9]* | 0) die "BENCH_ICOUNT_BATCHES must be a positive number, not '$batches'" ;; esac

# The plugin, against the header set-up fetched and checked.
hdr=$RTUN_QEMU_PLUGIN_DIR/qemu-plugin.h
if [ ! -r "$hdr" ] || [ "$(sha256sum "$hdr" | cut -d' ' -f1)" != "$RTUN_QEMU_PLUGIN_H_SHA256" ]; then
	RTUN_SETUP_QEMU_PLUGIN=1 bash "$root/scripts/setup-deps.sh" >&2 || die "scripts/setup-deps.sh failed"
fi
[ -r "$hdr" ] || die "no $hdr: scripts/setup-deps.sh did not fetch it"
plugin=$RTUN_QEMU_PLUGIN_DIR/icount.so
if [ ! -f "$plugin" ] || [ "$here/icount.c" -nt "$plugin" ] || [ "$hdr" -nt "$plugin" ]; then
	gcc -O2 -Wall -Wextra -Wno-unused-parameter -shared -fPIC -I"$RTUN_QEMU_PLUGIN_DIR" \
		-o "$plugin.tmp" "$here/icount.c" -lpthread ||
		die "cannot build the QEMU plugin bench/icount.c"
	mv "$plugin.tmp" "$plugin"
fi

if [ -n "${KDIR:-}" ]; then
	kernels=(user)
elif [ -n "$kernel" ]; then
	rtun_check_kernel "$kernel"
	kernels=("$kernel")
else
	mapfile -t kernels < <(rtun_selected_kernels)
fi

git_rev=$(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(cd "$root" && git status --porcelain -- rust shim include Kbuild 2>/dev/null)" ]; then
	git_rev="$git_rev + uncommitted driver changes"
fi
ts=$(date +%Y%m%d-%H%M%S)
status=0
for k in "${kernels[@]}"; do
	if [ "$k" = user ]; then
		kdir=$(bash "$root/scripts/kdir.sh")
	else
		kdir=$(bash "$root/scripts/kdir.sh" --kernel "$k")
	fi
	if [ -n "$ko" ]; then
		mod=$ko
	else
		mdir=$RTUN_CACHE/icount/mod-$k
		KDIR=$kdir bash "$root/scripts/build-module.sh" --out "$mdir" ||
			die "cannot build rtun.ko for kernel $k"
		mod=$mdir/rtun.ko
	fi
	[ -f "$kdir/usr/include/linux/if_tun.h" ] ||
		die "no UAPI headers in $kdir/usr/include: run scripts/build-kernel.sh"
	gcc -O2 -g -Wall -Wextra -Wno-missing-field-initializers \
		-I"$kdir/usr/include" -o "$here/rtun-bench" "$here/rtun_bench.c" -pthread ||
		die "cannot build bench/rtun-bench"
	ko_sha=$(sha256sum "$mod" | cut -c1-16)

	runs=()
	for b in $(seq 1 "$boots"); do
		blog=$RTUN_CACHE/logs/icount-$ts-$$-$k-boot$b.log
		bout=${blog%.log}.d	# vm-run.sh's RTUN_OUT for this log
		mkdir -p "$bout"
		info "kernel $k: instruction counts, boot $b of $boots ($batches batches per workload and driver); log $blog"
		opts=(--batches "$batches" --ko "$mod")
		[ -z "$only" ] || opts+=(--only "$only")
		rc=0
		# norandmaps: the benchmark's buffers at the same addresses in
		# every boot (user space copies count by alignment).
		# slub_min_objects=256: slabs of at least 256 objects, so that a
		# batch's skbs (up to 45 segments of one send) come from one CPU
		# slab and go back to it; with the default 16 to 32 how many of
		# them took __slab_free()'s slow path depended on where the boot
		# had left that slab, and 6.12's totals of the segmenting and
		# multiqueue reads moved by up to 1.1% from one boot to the next
		# (0.02% with it).  TCG's
		# icount mode: the guest's clock runs by instructions, so a
		# timer tick comes every 4 million of them (HZ=250), not every
		# 4 ms of a host that the plugin slows down; far fewer batches
		# are left out for an interrupt.
		RTUN_ACCEL=tcg RTUN_QEMU_ICOUNT=${RTUN_QEMU_ICOUNT-0} \
			RTUN_QEMU_PLUGIN="$plugin,kallsyms=$bout/icount-kallsyms.txt,out=$bout/icount.txt" \
			RTUN_VM_APPEND="norandmaps slub_min_objects=256${RTUN_VM_APPEND:+ $RTUN_VM_APPEND}" \
			KDIR=$kdir bash "$root/scripts/vm-run.sh" --log "$blog" \
			--timeout "${BENCH_TIMEOUT:-1500}" -- \
			bash "$here/guest-icount.sh" "${opts[@]}" || rc=$?
		[ "$rc" -eq 0 ] || die "kernel $k: the counted run failed (exit status $rc; see $blog)"
		[ -s "$bout/icount.txt" ] || die "kernel $k: the plugin wrote no $bout/icount.txt (see $blog)"
		{
			echo "git=$git_rev"
			echo "rtun_ko_sha256=$ko_sha"
			echo "kernel=$k"
		} >>"$bout/icount-meta.txt"
		runs+=("$bout")
	done

	echo
	echo "instructions per operation, kernel $k ($(sed -n 's/^guest_kernel=//p' "${runs[0]}/icount-meta.txt" | cut -d' ' -f1)), rtun at $git_rev; runs: ${runs[*]}"
	rep=(python3 "$here/icount_report.py" --kernel "$k" "${runs[@]}")
	if [ $check -eq 1 ]; then
		"${rep[@]}" --baseline "$baseline" || status=1
		continue
	fi
	if [ $doc -eq 1 ]; then
		date_=$(date -u '+%Y-%m-%d %H:%M UTC')
		note="Kernel $k: $(sed -n 's/^guest_kernel=//p' "${runs[0]}/icount-meta.txt"); rtun at \`$git_rev\` (rtun.ko sha256 \`$ko_sha...\`); $date_; $boots boots of $batches counted batches per workload and driver; numbers: [bench/icount-$k.csv](bench/icount-$k.csv)."
		"${rep[@]}" --md "$root/Documentation/benchmark.md" --note "$note" \
			--csv "$root/Documentation/bench/icount-$k.csv"
	else
		"${rep[@]}" --csv "${runs[0]}/icount.csv"
	fi
	if [ $wbase -eq 1 ]; then
		"${rep[@]}" --write-baseline "$baseline" >/dev/null
		info "kernel $k: baseline written to $baseline"
	fi
done
exit $status
