#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build an rtun test kernel into a cache outside the repository: 6.12 from
# Debian's linux-source-6.12, 7.3 from linux-source-7.3 (trixie-backports,
# fetched by setup-deps.sh).  The build directory is keyed by a hash of the
# source version, the config fragment(s) and the kernel's toolchain (rustc,
# bindgen with its libclang, clang), so it is rebuilt only when one of them
# changes.
#
# Usage: build-kernel.sh [--kernel VER] [FRAGMENT...]
#   --kernel VER  6.12 or 7.3; default $RTUN_KERNEL, else the first kernel
#                 of RTUN_KERNELS (default "6.12,7.3", so 6.12)
#   FRAGMENT      default: scripts/kconfig/rtun.config.  When rtun.config is
#                 given, scripts/kconfig/rtun-VER.config (if there is one)
#                 is merged right after it.
# Prints the build directory (KDIR) on stdout.  The build directory also
# gets .rtun-toolchain (KERNEL=, LLVM=, BINDGEN=, LIBCLANG_PATH=) for
# module builds against it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

kver=
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) [ $# -ge 2 ] || die "--kernel needs a version"; kver=$2; shift 2 ;;
	--kernel=*) kver=${1#*=}; shift ;;
	--) shift; break ;;
	-*) die "build-kernel.sh: unknown option '$1'" ;;
	*) break ;;
	esac
done
[ -n "$kver" ] || kver=$(rtun_default_kernel) || exit 1
rtun_check_kernel "$kver"

base=$here/kconfig/rtun.config
user_frags=("$@")
[ ${#user_frags[@]} -gt 0 ] || user_frags=("$base")
frags=()
for f in "${user_frags[@]}"; do
	[ -r "$f" ] || die "config fragment $f not readable"
	frags+=("$f")
	if [ "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" = "$base" ] &&
		[ -r "$here/kconfig/rtun-$kver.config" ]; then
		frags+=("$here/kconfig/rtun-$kver.config")
	fi
done

rtun_kernel_env "$kver"
tarball=$K_TARBALL
[ -r "$tarball" ] || die "$tarball missing: run scripts/setup-deps.sh (with $kver in RTUN_KERNELS)"
[ -n "$K_SRCVER" ] || die "kernel $kver source version unknown: run scripts/setup-deps.sh"
srcver=$K_SRCVER
command -v "$K_CLANG" >/dev/null || die "$K_CLANG not found: run scripts/setup-deps.sh"
[ -x "$(command -v "$K_BINDGEN")" ] || die "$K_BINDGEN not found: run scripts/setup-deps.sh"
export LIBCLANG_PATH=$K_LIBCLANG

src=$RTUN_CACHE/src/linux-source-$kver-$srcver
# Two builds of one source (make check starts 7.3's and the debug kernel's
# at once) extract it once: unlocked, the second removed and extracted
# the tree again while the first was already compiling from it.
mkdir -p "$RTUN_CACHE/src"
exec 8>"$src.lock"
flock 8 || die "cannot lock $src.lock"
if [ ! -f "$src/.rtun-extracted" ]; then
	info "extracting $tarball ($srcver)"
	rm -rf "$src" && mkdir -p "$src" || die "cannot make an empty $src"
	tar -xf "$tarball" -C "$src" --strip-components=1 || die "extracting $tarball failed"
	touch "$src/.rtun-extracted"
fi
exec 8>&-

# (6.12's key keeps the form it had before 7.3 came, so that its existing
# builds stay valid; its libclang is pinned to clang 14's.)
key=$( { echo "$srcver"; cat "${frags[@]}"; rustc --version; "$K_BINDGEN" --version;
	 "$K_CLANG" --version | head -1
	 [ "$kver" = 6.12 ] || "$K_BINDGEN" --version --verbose | sed -n 's/^Clang: /libclang: /p'
       } | sha256sum | cut -c1-16)
name=$(basename "${user_frags[-1]}" .config)
[ "$kver" = 6.12 ] || name=$name-$kver
out=$RTUN_CACHE/build/$name-$key
# One build of a cache entry at a time: a second caller (another make
# check, a helper script) waits here, then finds it built.
mkdir -p "$RTUN_CACHE/build"
exec 9>"$out.lock"
flock 9 || die "cannot lock $out.lock"
if [ -f "$out/.rtun-built" ]; then
	info "kernel $kver $name up to date in $out"
	echo "$out"
	exit 0
fi

# bindgen with a libclang it does not fully understand (0.71.1 with libclang
# 22) emits opaque structs without a diagnostic; the kernel crate then fails
# with "no field" errors.  struct device must have its fields.
check_bindings() {
	local b=$out/rust/bindings/bindings_generated.rs body
	[ -f "$b" ] || return 0
	body=$(awk '/^pub struct device \{/ { on = 1; next } on && /^\}/ { exit } on' "$b")
	if [ -z "$body" ] || ! grep -q 'pub kobj:' <<<"$body" || grep -q '_address: u8' <<<"$body"; then
		info "bindgen generated an opaque 'struct device' in $b:"
		grep -A3 '^pub struct device {' "$b" | head -n 4 >&2 || true
		die "opaque kernel bindings from $("$K_BINDGEN" --version --verbose 2>&1 | tr '\n' ' ')(LIBCLANG_PATH=$LIBCLANG_PATH): use a bindgen/libclang pair that works (kernel 7.3: bindgen-cli $RTUN_BINDGEN73_VERSION with libclang $RTUN_LLVM73_VERSION)"
	fi
}

mkdir -p "$out"
log=$out/build.log
info "building kernel $kver ($srcver) $name in $out (log: $log); 5 to 8 minutes on 2 cores"
info "toolchain: LLVM=$K_LLVM, $("$K_BINDGEN" --version --verbose 2>&1 | tr '\n' ' ')($K_BINDGEN, LIBCLANG_PATH=$LIBCLANG_PATH)"
mk() { make -C "$src" O="$out" LLVM="$K_LLVM" BINDGEN="$K_BINDGEN" "$@"; }
{
	mk tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}"
	mk olddefconfig
} >"$log" 2>&1 || { tail -20 "$log" >&2; die "kernel configuration failed"; }

# Kconfig silently drops options whose dependencies are unmet: check that
# every line of the fragments made it into the final .config.  A later
# fragment overrides an earlier one for the same symbol, as in
# merge_config.sh; "# CONFIG_X is not set" counts as CONFIG_X=n.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n)
		# Kconfig writes a disabled option as a comment.
		! grep -q -- "^${line%%=*}=" "$out/.config" && continue ;;
	esac
	if ! grep -qx -- "$line" "$out/.config"; then
		info "config: '$line' did not stick (got: $(grep -- "^${line%%=*}=" "$out/.config" || echo unset))"
		bad=1
	fi
done < <(awk '
	/^CONFIG_[A-Za-z0-9_]+=/ { s = $0; sub(/=.*/, "", s); v = substr($0, length(s) + 2) }
	/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { s = $2; v = "n" }
	s != "" { if (!(s in val)) order[++n] = s; val[s] = v; s = "" }
	END { for (i = 1; i <= n; i++) print order[i] "=" val[order[i]] }' "${frags[@]}")
[ $bad -eq 0 ] || die "config fragment not satisfied; is Rust available? (make -C $src O=$out LLVM=$K_LLVM BINDGEN=$K_BINDGEN rustavailable)"

printf 'KERNEL=%s\nLLVM=%s\nBINDGEN=%s\nLIBCLANG_PATH=%s\n' \
	"$kver" "$K_LLVM" "$K_BINDGEN" "$K_LIBCLANG" >"$out/.rtun-toolchain"

if ! mk -j"$(nproc)" bzImage modules >>"$log" 2>&1; then
	check_bindings
	grep -E 'error|Error' "$log" | tail -20 >&2
	die "kernel build failed, see $log"
fi
check_bindings
mk headers_install INSTALL_HDR_PATH="$out/usr" >>"$log" 2>&1 || die "headers_install failed, see $log"
ln -sfn "$src" "$out/source-tree"
touch "$out/.rtun-built"
info "kernel $kver $name built"
echo "$out"
