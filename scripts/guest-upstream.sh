#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run inside the test VM: the kernel's own tools/testing/selftests/net/tun.c
# (built unchanged by scripts/build-upstream-selftest.sh), once against the
# C driver and once against rtun.  The binary opens /dev/net/tun by name,
# so the rtun run is in a private mount namespace (unshare -m) in which
# /dev/net/rtun is bind-mounted over /dev/net/tun; the guest's own
# /dev/net/tun stays the C driver's.  Each test's TAP result line is
# reported per driver: pass (XFAIL counts as pass, as in the harness),
# skip (the harness's SKIP), or fail (XPASS too).  On rtun a failing test
# listed in needs_mq below is reported as a skip with its reason, while
# rtun does not advertise the flag it needs.  Ends with the line
# "N passed, N failed, N skipped" over both drivers and the guest-level
# checks (module load/unload, the bind mount, the kernel log); exits
# non-zero if anything failed.
#
# Usage: scripts/vm-run.sh -- scripts/guest-upstream.sh [OPTIONS] BINARY [HARNESS-ARGS...]
#   BINARY        the upstream tun selftest (build-upstream-selftest.sh prints it)
#   --kdir DIR    kernel build (default: $KDIR, $RTUN_KDIR, or the one the VM
#                 booted, read from /proc/cmdline)
#   --embedded    called by guest-check.sh: tun and rtun are loaded already;
#                 do not unload rtun, leave the kernel log check to the
#                 caller; the last line is "# guest-upstream: total: ..."
#   --dropin      with --embedded: rtun is loaded with dropin=1, as
#                 /dev/net/tun, and tun.ko is not: one run, against rtun
#   HARNESS-ARGS  passed to both runs (e.g. -f tun_vnet_gso)
# Environment: RTUN_KO (default $RTUN_ROOT/rtun.ko), RTUN_OUT (where the
# TAP output is saved; default /tmp/rtun-guest-upstream),
# RTUN_UPSTREAM_TIMEOUT (seconds per run, default 900).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

usage() {
	sed -n '18,30s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# Tests that cannot pass on rtun until it has what they need: a rtun
# without a TUNSETIFF flag refuses it with EINVAL, so such a test fails
# in its fixture set-up.  Entries: a pattern over the
# test names the harness prints (FIXTURE[.VARIANT].TEST), then the
# TUNSETIFF flags the test needs.  A listed test that fails on rtun is
# reported as "skip (rtun: needs FLAGS, issue 12)" only while rtun's
# TUNGETFEATURES lacks one of FLAGS; a listed test that passes is reported
# as a pass.  None at present: rtun has every flag of tun.c (TUNGETFEATURES
# is C's).
needs_mq=()

kdir=${KDIR:-${RTUN_KDIR:-}}
embedded=0
dropin=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kdir) [ $# -ge 2 ] || usage; kdir=$2; shift 2 ;;
	--embedded) embedded=1; shift ;;
	--dropin) dropin=1; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) echo "guest-upstream: unknown option '$1'" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { echo "guest-upstream: no BINARY given" >&2; usage; }
bin=$1
shift
harness_args=("$@")

rtun_ko=${RTUN_KO:-$RTUN_ROOT/rtun.ko}
out=${RTUN_OUT:-/tmp/rtun-guest-upstream}
tmo=${RTUN_UPSTREAM_TIMEOUT:-900}
marker="rtun-guest-upstream: start $$"
guest_name=guest-upstream
. "$here/guest-lib.sh"

sanity() {
	guest_sanity "scripts/vm-run.sh -- scripts/guest-upstream.sh BINARY"
	[ -x "$bin" ] || die "$bin is not an executable: build it with scripts/build-upstream-selftest.sh"
	command -v unshare >/dev/null || die "unshare (util-linux) not found"
	[ -n "$kdir" ] || kdir=$(guest_kdir)
	[ -n "$kdir" ] || die "kernel build directory unknown: pass --kdir"
	mkdir -p "$out" || die "cannot create output directory $out"
}

wait_node() {
	for _ in $(seq 50); do
		[ -c "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# load MODULE-NAME KO-FILE NODE
load() {
	local err

	if [ -d "/sys/module/$1" ]; then
		echo "# guest-upstream: $1 already loaded"
	elif err=$(insmod "$2" 2>&1); then
		check_ok "insmod $2"
	else
		check_fail "insmod $2: $err"
		return 1
	fi
	wait_node "$3" || { check_fail "$3 did not appear"; return 1; }
}

# TUNGETFEATURES of each node given, as numbers on one line (one python,
# the system's without site packages: a pyenv shim or site start-up takes
# seconds under a loaded TCG).
features() {
	local py=/usr/bin/python3

	[ -x "$py" ] || py=python3
	"$py" -S - "$@" <<'PY'
import fcntl, os, struct, sys
for node in sys.argv[1:]:
    fd = os.open(node, os.O_RDWR)
    buf = bytearray(4)
    fcntl.ioctl(fd, 0x800454cf, buf)
    os.close(fd)
    print(struct.unpack("I", buf)[0], end=" ")
print()
PY
}

declare -A flag_bits=([IFF_MULTI_QUEUE]=0x0100 [IFF_NAPI]=0x0010)

# Does rtun (features $rtun_features) lack one of FLAGS ("A|B")?
rtun_lacks() {
	local f

	for f in ${1//|/ }; do
		[ $((rtun_features & ${flag_bits[$f]})) -ne 0 ] || return 0
	done
	return 1
}

# The needs_mq entry for test NAME: sets need (its flags) or returns 1.
listed() {
	local i

	for ((i = 0; i < ${#needs_mq[@]}; i += 2)); do
		# shellcheck disable=SC2053
		if [[ "$1" == ${needs_mq[i]} ]]; then
			need=${needs_mq[i + 1]}
			return 0
		fi
	done
	return 1
}

# Is DRIVER rtun (through the bind mount, or in drop-in mode)?
is_rtun() {
	[ "$1" != c_tun ]
}

# invoke DRIVER TAP HARNESS-ARGS...: runs the binary against DRIVER (c_tun,
# rtun, or rtun-dropin, which is /dev/net/tun), its output in TAP; returns
# its exit status (125: the bind mount failed).
invoke() {
	local drv=$1 tap=$2

	shift 2
	if [ "$drv" != rtun ]; then
		(cd "$out" && timeout -k 5 "$tmo" "$bin" "$@") </dev/null >"$tap" 2>&1
		return
	fi
	rtun_ns_prefix || { echo "no /dev/net/rtun or no unshare"; return 125; }
	(cd "$out" && timeout -k 5 "$tmo" "${as_rtun[@]}" "$bin" "$@") </dev/null >"$tap" 2>&1
}

# run_one DRIVER: runs the binary, its TAP output in $out/upstream-DRIVER.tap.
run_one() {
	local drv=$1 tap=$out/upstream-$1.tap rc=0 t0=$SECONDS

	echo "# guest-upstream: running $bin${harness_args[*]:+ ${harness_args[*]}} against $drv"
	invoke "$drv" "$tap" "${harness_args[@]}" || rc=$?
	if [ "$drv" = rtun ]; then
		if [ "$rc" -eq 125 ]; then
			cat "$tap"
			check_fail "rtun: cannot bind-mount /dev/net/rtun over /dev/net/tun in a private mount namespace"
			return
		fi
		check_bind_private "$c_dev"
	fi
	sed 's/^/    /' "$tap"
	echo "# guest-upstream: $drv: the run took $((SECONDS - t0)) s"
	report "$drv" "$tap" "$rc"
}

# The result lines of a TAP file, one a line: CODE (ok, not-ok), NAME,
# DIRECTIVE (SKIP, XFAIL, XPASS or -), REASON (or -), and 1 if the test
# printed a TUNSETIFF failure with EINVAL (perror in tun_open, "can't
# TUNSETIFF" in tun_alloc) else 0, separated by tabs.
results() {
	awk '
	$1 == "#" && $2 == "RUN" { cur = $3; einval = 0; next }
	/TUNSETIFF.*: Invalid argument/ { einval = 1; next }
	/^(not )?ok [0-9]+ / {
		i = ($1 == "not") ? 4 : 3
		dir = "-"; why = ""
		if ($(i + 1) == "#" && $(i + 2) ~ /^(SKIP|XFAIL|XPASS)$/) {
			dir = $(i + 2)
			for (j = i + 3; j <= NF; j++) why = why (why == "" ? "" : " ") $j
		}
		printf "%s\t%s\t%s\t%s\t%d\n", ($1 == "not") ? "not-ok" : "ok", $i, dir,
			why == "" ? "-" : why, ($i == cur) ? einval : 0
	}' "$1"
}

# A test that fails among at most max_retries failures (not a listed one
# on rtun) is run once more alone (-r NAME): under TCG on a loaded host,
# a UDP tunnel test of C tun has been seen to miss its 10 s receive
# timeout.  A pass then counts as a pass, printed as such; more failures
# than that are not flakiness and are not retried.
max_retries=3

# retry DRIVER NAME: does test NAME pass when run again alone?
retry() {
	local tap=$out/upstream-$1-retry.tap

	invoke "$1" "$tap" -r "$2" || true
	sed 's/^/    retry: /' "$tap"
	results "$tap" | grep "^ok	$2	-	" >/dev/null
}

# report DRIVER TAP EXIT-STATUS: one verdict per result line (passes are
# not printed, the TAP output above has them).
report() {
	local drv=$1 tap=$2 rc=$3 p=0 f=0 s=0 x=0 r=0 plan n=0 code name dir why einval need fails=()
	local n_failed

	plan=$(sed -n 's/^1\.\.\([0-9]\+\)$/\1/p' "$tap" | head -n 1)
	n_failed=0
	while IFS=$'\t' read -r code name dir why einval; do
		[ "$code" = not-ok ] || continue
		is_rtun "$drv" && listed "$name" && continue
		n_failed=$((n_failed + 1))
	done < <(results "$tap")
	while IFS=$'\t' read -r code name dir why einval; do
		n=$((n + 1))
		[ "$why" != - ] || why=
		case "$code:$dir" in
		ok:XFAIL)
			# An expected failure: on rtun, it may have failed for the
			# wrong reason, before it got to what it expects to fail.
			if is_rtun "$drv" && listed "$name" && rtun_lacks "$need" && [ "$einval" = 1 ]; then
				s=$((s + 1))
				echo "  $drv: skip $name (rtun: needs $need, issue 12; XFAIL in the harness)"
			else
				p=$((p + 1))
				x=$((x + 1))
			fi ;;
		ok:SKIP) s=$((s + 1)); echo "  $drv: skip $name (harness: $why)" ;;
		ok:-) p=$((p + 1))
			if is_rtun "$drv" && listed "$name"; then
				echo "  $drv: pass $name (listed as needing $need, passes anyway)"
			fi ;;
		*)
			if is_rtun "$drv" && listed "$name" && rtun_lacks "$need" && [ "$einval" = 1 ]; then
				s=$((s + 1))
				echo "  $drv: skip $name (rtun: needs $need, issue 12)"
			elif is_rtun "$drv" && listed "$name"; then
				f=$((f + 1))
				fails+=("$name")
				echo "  $drv: FAIL $name (listed as needing $need, but failed otherwise than TUNSETIFF -> EINVAL, or rtun advertises it)"
			elif [ "$n_failed" -le "$max_retries" ] && retry "$drv" "$name"; then
				p=$((p + 1))
				r=$((r + 1))
				echo "  $drv: pass $name (failed once, passed when run again alone: flaky here?)"
			else
				f=$((f + 1))
				fails+=("$name")
				echo "  $drv: FAIL $name${dir#-}${why:+: $why}"
			fi ;;
		esac
	done < <(results "$tap")
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	[ "${#fails[@]}" -le 10 ] || fails=("${fails[@]:0:10}" "...")
	echo "# guest-upstream: $drv: $n tests: $p passed ($x of them XFAIL, $r on a second run), $s skipped, $f failed${fails[*]:+: ${fails[*]}}"
	if [ -z "$plan" ] || [ "$n" -ne "$plan" ]; then
		check_fail "$drv: ${plan:-no} tests planned, $n reported (status $rc): crashed or timed out"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && [ "$r" -eq 0 ] && [ "$drv" = c_tun ]; then
		check_fail "$drv: exit status $rc with no failed test"
	fi
}

unload_rtun() {
	local err

	for _ in $(seq 30); do
		if err=$(rmmod rtun 2>&1); then
			check_ok "rmmod rtun"
			return
		fi
		sleep 0.1
	done
	check_fail "rmmod rtun: $err"
}

check_dmesg() {
	dmesg >"$out/dmesg-upstream.txt" || { check_fail "dmesg failed"; return; }
	echo "# guest-upstream: kernel log since the start:"
	sed -n "/$marker/,\$p" "$out/dmesg-upstream.txt" | sed 's/^/# dmesg: /'
	if bash "$here/dmesg-check.sh" "$out/dmesg-upstream.txt" | sed 's/^/# /'; then
		check_ok "kernel log clean"
	else
		check_fail "kernel log reports problems (see above)"
	fi
}

sanity
echo "$marker" >/dev/kmsg
if [ $embedded = 0 ]; then
	load tun "$kdir/drivers/net/tun.ko" /dev/net/tun || true
	load rtun "$rtun_ko" /dev/net/rtun || true
fi
if [ $dropin = 1 ]; then
	if [ -c /dev/net/tun ] && [ ! -d /sys/module/tun ] && [ -d /sys/module/rtun ]; then
		read -r rtun_features < <(features /dev/net/tun) ||
			die "TUNGETFEATURES on /dev/net/tun failed"
		printf '# guest-upstream: TUNGETFEATURES: rtun (drop-in) %#x\n' "$rtun_features"
		run_one rtun-dropin
	else
		check_fail "--dropin: rtun is not /dev/net/tun (tun.ko loaded, or rtun not)"
	fi
elif [ -c /dev/net/tun ] && [ -c /dev/net/rtun ]; then
	c_dev=$(stat -c '%t:%T' /dev/net/tun)
	read -r c_features rtun_features < <(features /dev/net/tun /dev/net/rtun) ||
		die "TUNGETFEATURES on /dev/net/tun or /dev/net/rtun failed"
	printf '# guest-upstream: TUNGETFEATURES: C tun %#x, rtun %#x\n' \
		"$c_features" "$rtun_features"
	run_one c_tun
	run_one rtun
else
	check_fail "/dev/net/tun or /dev/net/rtun missing: nothing run"
fi
if [ $embedded = 0 ]; then
	[ ! -d /sys/module/rtun ] || unload_rtun
	check_dmesg
fi

echo "# guest-upstream: $SECONDS s in all"
summary="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || summary="$summary, $skipped skipped"
# Embedded, the caller's summary is the last line of the boot: this one
# must not look like it.
[ $embedded = 0 ] || summary="# guest-upstream: total: $summary"
echo "$summary"
[ "$failed" -eq 0 ]
