#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a kernel's own tools/testing/selftests/net/tun.c, unchanged, with
# that kernel's own selftest Makefile, from the source the kernel build
# was made from, and print the path of the binary.  The result is cached
# in $RTUN_CACHE/upstream-selftest-VER-KEY/, KEY a hash of every input
# (the test, the kselftest harness and Makefiles, for 7.x YNL and its
# specs, the installed uAPI headers of the build, gcc and python3), so it
# is rebuilt only when one of them changes.  scripts/guest-upstream.sh
# runs it against C tun and rtun.
#
# Usage: build-upstream-selftest.sh [--kernel VER]
#   --kernel VER  6.12 or 7.3 (default as kdir.sh); KDIR= (a built kernel
#                 tree with headers_install output in usr/include) takes
#                 precedence
#
# The source tree is only read: the build runs in a shadow tree of
# symbolic links under the cache entry, with a real copy of tools/net/ynl
# (the YNL build writes generated code and libynl.a into it).  7.x's
# tun.c is a YNL program: its netlink code is generated from
# Documentation/netlink/specs/*.yaml by tools/net/ynl/pyynl/ynl_gen_c.py,
# run here with Debian's /usr/bin/python3 (python3-yaml,
# python3-jsonschema: scripts/setup-deps.sh installs them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

kopt=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) [ $# -ge 2 ] || die "--kernel needs a version"; kopt=(--kernel "$2"); shift 2 ;;
	--kernel=*) kopt=(--kernel "${1#*=}"); shift ;;
	-h | --help) sed -n '4,24s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	*) die "build-upstream-selftest.sh: unknown option '$1'" ;;
	esac
done
kdir=$(bash "$here/kdir.sh" "${kopt[@]}") || die "no kernel build (scripts/kdir.sh ${kopt[*]} failed)"

# The source: an O= build links it as "source"; an in-tree build is it.
if [ -f "$kdir/source/MAINTAINERS" ]; then
	src=$(cd "$kdir/source" && pwd -P)
elif [ -f "$kdir/MAINTAINERS" ]; then
	src=$(cd "$kdir" && pwd -P)
else
	die "$kdir: cannot find the kernel source (no source/MAINTAINERS, no MAINTAINERS)"
fi
st=tools/testing/selftests
[ -f "$src/$st/net/tun.c" ] || die "$src has no $st/net/tun.c"
hdrs=$kdir/usr/include
[ -f "$hdrs/linux/if_tun.h" ] ||
	die "$hdrs/linux/if_tun.h missing: run 'make headers_install INSTALL_HDR_PATH=$kdir/usr' in the kernel tree"
ver=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p' "$src/Makefile" | paste -sd.)
[ -n "$ver" ] || die "cannot read the kernel version from $src/Makefile"

# 7.x builds tun as a YNL program (YNL_GEN_PROGS in net/Makefile).
ynl=0
sed -n '/^YNL_GEN_PROGS/,/^# end of YNL_GEN_PROGS/p' "$src/$st/net/Makefile" | grep -w tun >/dev/null && ynl=1
py=/usr/bin/python3
if [ $ynl = 1 ]; then
	[ -x "$py" ] || die "$py not found: apt-get install python3 (or run scripts/setup-deps.sh)"
	"$py" -c 'import yaml, jsonschema' 2>/dev/null ||
		die "$py lacks PyYAML or jsonschema, which $ver's selftests/net/tun.c (a YNL program) needs to build: run scripts/setup-deps.sh (python3-yaml, python3-jsonschema)"
fi
command -v gcc >/dev/null && command -v make >/dev/null ||
	die "gcc and make are needed: run scripts/setup-deps.sh"

# Every input, by content (paths relative to the source).
inputs() {
	local f

	for f in "$st/net/tun.c" "$st/net/Makefile" "$st/lib.mk" "$st"/*.h \
		"$st/net"/*.h "$st/net"/*.mk; do
		[ ! -f "$f" ] || echo "$f"
	done
	[ $ynl = 0 ] || find tools/net/ynl tools/scripts Documentation/netlink -type f
}
key=$( {
	echo "$ver"
	(cd "$src" && inputs | LC_ALL=C sort | xargs sha256sum) || exit 1
	(cd "$hdrs" && find . -type f | LC_ALL=C sort | xargs sha256sum)
	gcc --version | head -n 1
	[ $ynl = 0 ] || "$py" -c 'import sys, yaml, jsonschema; print(sys.version, yaml.__version__, jsonschema.__version__)' 2>/dev/null
	cat "$0"
} | sha256sum | cut -c1-16) || die "cannot hash the inputs in $src and $hdrs"
out=$RTUN_CACHE/upstream-selftest-$ver-$key
if [ -x "$out/tun" ] && [ -f "$out/.rtun-built" ]; then
	info "upstream selftests/net/tun.c of $ver up to date in $out"
	echo "$out/tun"
	exit 0
fi

rm -rf "$out"
mkdir -p "$out/tree" "$out/bin" || die "cannot create $out"
log=$out/build.log
info "building $ver's $st/net/tun.c from $src (log: $log)"
{
	cp -as "$src/tools" "$out/tree/tools"
	# ynl_gen_c.py finds the top of the tree by MAINTAINERS, walking up
	# (7.3's loops forever at / if there is none).
	ln -s "$src/MAINTAINERS" "$out/tree/MAINTAINERS"
	mkdir "$out/tree/usr"
	ln -s "$(cd "$hdrs" && pwd -P)" "$out/tree/usr/include"
	if [ $ynl = 1 ]; then
		rm -r "$out/tree/tools/net/ynl"
		cp -r "$src/tools/net/ynl" "$out/tree/tools/net/ynl"
		ln -s "$src/Documentation" "$out/tree/Documentation"
		ln -s "$src/include" "$out/tree/include"
		# ynl_gen_c.py runs as "#!/usr/bin/env python3".
		ln -s "$py" "$out/bin/python3"
	fi
} >"$log" 2>&1 || { cat "$log" >&2; die "cannot set up the build tree in $out/tree"; }

# The selftest Makefile as upstream runs it, with gcc (no LLVM=) and the
# installed headers of this build (its default KHDR_INCLUDES).
if ! env -u LLVM -u CC -u CFLAGS -u LDFLAGS -u O -u KBUILD_OUTPUT -u KHDR_INCLUDES \
	-u ARCH -u CROSS_COMPILE PATH="$out/bin:$PATH" PYTHONDONTWRITEBYTECODE=1 \
	nice -n 10 make -C "$out/tree/$st/net" OUTPUT="$out" V=1 "$out/tun" >>"$log" 2>&1; then
	tail -n 40 "$log" >&2
	die "building $ver's $st/net/tun.c failed; log: $log"
fi
[ -x "$out/tun" ] || die "the selftest Makefile left no $out/tun; log: $log"
# The shadow tree is thousands of links and directories: drop it.
rm -rf "$out/tree" "$out/bin"
touch "$out/.rtun-built"
info "built $out/tun"
echo "$out/tun"
