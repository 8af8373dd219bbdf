#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the rtun test kernel from Debian's linux-source-6.12 into a cache
# outside the repository.  The build directory is keyed by a hash of the
# source version, the config fragment(s) and the Rust toolchain, so it is
# rebuilt only when one of them changes.
#
# Usage: build-kernel.sh [FRAGMENT...]   (default: scripts/kconfig/rtun.config)
# Prints the build directory (KDIR) on stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

frags=("$@")
[ ${#frags[@]} -gt 0 ] || frags=("$here/kconfig/rtun.config")
for f in "${frags[@]}"; do [ -r "$f" ] || die "config fragment $f not readable"; done

tarball=/usr/src/linux-source-6.12.tar.xz
[ -r "$tarball" ] || die "$tarball missing: run scripts/setup-deps.sh"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
	die "linux-source-6.12 is not installed"

src=$RTUN_CACHE/src/linux-source-6.12-$srcver
if [ ! -f "$src/.rtun-extracted" ]; then
	info "extracting $tarball ($srcver)"
	rm -rf "$src" && mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1 || die "extracting $tarball failed"
	touch "$src/.rtun-extracted"
fi

key=$( { echo "$srcver"; cat "${frags[@]}"; rustc --version; bindgen --version;
	 clang --version | head -1; } | sha256sum | cut -c1-16)
name=$(basename "${frags[-1]}" .config)
out=$RTUN_CACHE/build/$name-$key
if [ -f "$out/.rtun-built" ]; then
	info "kernel $name up to date in $out"
	echo "$out"
	exit 0
fi

mkdir -p "$out"
log=$out/build.log
info "building kernel $name in $out (log: $log); about 5 minutes on 2 cores"
mk() { make -C "$src" O="$out" LLVM=1 "$@"; }
{
	mk tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}"
	mk olddefconfig
} >"$log" 2>&1 || { tail -20 "$log" >&2; die "kernel configuration failed"; }

# Kconfig silently drops options whose dependencies are unmet: check that
# every line of the fragments made it into the final .config.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n)
		# Kconfig writes a disabled option as a comment.
		! grep -q -- "^${line%%=*}=" "$out/.config" && continue ;;
	CONFIG_*=*) ;;
	*) continue ;;
	esac
	if ! grep -qx -- "$line" "$out/.config"; then
		info "config: '$line' did not stick (got: $(grep -- "^${line%%=*}=" "$out/.config" || echo unset))"
		bad=1
	fi
done < <(cat "${frags[@]}")
[ $bad -eq 0 ] || die "config fragment not satisfied; is Rust available? (make LLVM=1 rustavailable)"

mk -j"$(nproc)" bzImage modules >>"$log" 2>&1 ||
	{ grep -E 'error|Error' "$log" | tail -20 >&2; die "kernel build failed, see $log"; }
mk headers_install INSTALL_HDR_PATH="$out/usr" >>"$log" 2>&1 || die "headers_install failed, see $log"
ln -sfn "$src" "$out/source-tree"
touch "$out/.rtun-built"
info "kernel $name built"
echo "$out"
