#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything rtun needs to build the kernel, the module and the
# tests, and to boot the VM.  Idempotent: each step is skipped when what it
# installs is already there.  Exits non-zero with a message on failure.
#
# RTUN_KERNELS (default "6.12,7.3") selects the kernels to set up:
#   6.12  Debian's linux-source-6.12, clang 14, bindgen-cli 0.69.5
#         (cargo, into ~/.cargo/bin), clang-22/llvm-22 (rustc's LLVM: the shim
#         is inlined into the Rust code as bitcode, see Kbuild)
#   7.3   linux-source-7.3 from trixie-backports (downloaded with a private
#         apt configuration under $RTUN_CACHE/apt, the system's sources stay
#         as they are), clang-22/lld-22/llvm-22 from bookworm-security,
#         bindgen-cli 0.72.1 in $RTUN_CACHE/tools/bindgen-0.72.1,
#         python3-yaml and python3-jsonschema (YNL, to build 7.3's own
#         selftests/net/tun.c: scripts/build-upstream-selftest.sh)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

kernels=$(rtun_selected_kernels) || exit 1
info "setting up for kernel(s): $(echo $kernels)"

# Debian packages: kernel build, VM, guest-side tools used by tests/reports
# (gcc-multilib: the -m32 build of a selftest for compat_ioctl).
pkgs=(qemu-system-x86 clang lld llvm libclang-dev flex bison
      bc libelf-dev libssl-dev cpio kmod udev iproute2 ethtool iperf3
      python3-venv busybox-static rsync xz-utils make gcc libc6-dev
      gcc-multilib)
rtun_kernel_selected 6.12 && pkgs+=(linux-source-6.12)
l=$RTUN_LLVM73_VERSION
if rtun_kernel_selected 7.3; then
	pkgs+=(clang-$l lld-$l llvm-$l libclang-$l-dev)
elif rtun_kernel_selected 6.12; then
	# 6.12 builds with clang 14, but rtun's shim is inlined into its
	# Rust code by rustc's LLVM version (Kbuild, build-module.sh).
	pkgs+=(clang-$l llvm-$l)
fi
# 7.3's own tools/testing/selftests/net/tun.c is a YNL program: its netlink
# code is generated from YAML specs by tools/net/ynl/pyynl/ynl_gen_c.py,
# which needs PyYAML and jsonschema (scripts/build-upstream-selftest.sh
# runs it with Debian's /usr/bin/python3).
rtun_kernel_selected 7.3 && pkgs+=(python3-yaml python3-jsonschema)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	info "installing Debian packages: ${missing[*]}"
	command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || die "apt-get update failed"
	for p in "${missing[@]}"; do
		case "$p" in
		clang-$l | lld-$l | llvm-$l | libclang-$l-dev)
			apt-cache policy "$p" 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null ||
				die "$p has no install candidate: rtun needs LLVM $l (7.3's compiler, and rustc's" \
				    "LLVM, which inlines the shim on 6.12), which Debian 12 ships in" \
				    "bookworm-security (add that suite to apt's sources)" ;;
		esac
	done
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install failed for: ${missing[*]}"
else
	info "Debian packages: all present"
fi

command -v rustup >/dev/null || die "rustup not found: rtun needs a rustup-managed Rust toolchain"
if ! rustup component list --installed 2>/dev/null | grep '^rust-src' >/dev/null; then
	info "adding rustup component rust-src"
	rustup component add rust-src || die "rustup component add rust-src failed"
fi
for c in rustfmt clippy; do
	if ! rustup component list --installed 2>/dev/null | grep "^$c" >/dev/null; then
		info "adding rustup component $c"
		rustup component add "$c" || die "rustup component add $c failed"
	fi
done

# Kernel 6.12: bindgen-cli 0.69.5 in ~/.cargo/bin.
if rtun_kernel_selected 6.12; then
	if ! command -v bindgen >/dev/null || ! bindgen --version | grep '0\.69\.5' >/dev/null; then
		info "installing bindgen-cli 0.69.5 (about a minute)"
		cargo install --locked bindgen-cli --version 0.69.5 ||
			die "cargo install bindgen-cli failed"
	fi
fi

# The URI the system already uses for Debian suite $1 (bookworm,
# bookworm-security): the first enabled "deb" source of that suite in
# sources.list(.d), one-line or deb822 format.
system_mirror() {
	local f suite=$1

	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v suite="$suite" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) break;
			if ($(i + 1) == suite) { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# deb822: blank-line separated stanzas.
		awk -v suite="$suite" 'BEGIN { RS = ""; FS = "\n" }
		{ uri = ""; suites = ""; types = ""; enabled = 1
		  for (i = 1; i <= NF; i++) {
			if ($i ~ /^URIs:/) { uri = $i; sub(/^URIs:[ \t]*/, "", uri); sub(/[ \t].*/, "", uri) }
			if ($i ~ /^Suites:/) suites = $i " "
			if ($i ~ /^Types:/) types = $i
			if ($i ~ /^Enabled:[ \t]*no/) enabled = 0
		  }
		  if (enabled && types ~ /[ \t]deb([ \t]|$)/ && index(suites, " " suite " ") && uri != "") { print uri; exit } }' "$f"
	done
}

# Sets apt_opts (declared local by the caller) to an apt configuration of
# its own in $1: its sources list ($1/sources.list), lists and cache; the
# system's sources, preferences and release stay as they are.
private_apt_opts() {
	apt_opts=(-o "Dir::Etc::SourceList=$1/sources.list"
		-o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$1/lists"
		-o "Dir::Cache=$1/cache"
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
		-o Acquire::Languages=none)
	# As root, apt downloads as user _apt, who cannot enter a private home.
	[ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)
}

# The header of QEMU's TCG plugin API, for bench/icount.c (make
# bench-icount): include/qemu/qemu-plugin.h of the source package of the
# QEMU installed (qemu-system-x86's source version), fetched with
# "apt-get source --download-only" through a private apt configuration
# with deb-src entries (under $RTUN_CACHE/apt/qemu-src; the system's
# sources stay as they are).  apt checks the .dsc and the tarballs against
# the signed Sources index; the header is then checked against the hash
# below, the one bench/icount.c was written against.  Only the header is
# kept: $RTUN_QEMU_PLUGIN_DIR/qemu-plugin.h.
fetch_qemu_plugin_header() {
	local ver mirror sec aptdir srcdir orig hdr=$RTUN_QEMU_PLUGIN_DIR/qemu-plugin.h sum
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg

	if [ -r "$hdr" ] && [ "$(sha256sum "$hdr" | cut -d' ' -f1)" = "$RTUN_QEMU_PLUGIN_H_SHA256" ]; then
		info "qemu-plugin.h: present in $RTUN_QEMU_PLUGIN_DIR"
		return
	fi
	ver=$(dpkg-query -W -f='${source:Version}' qemu-system-x86 2>/dev/null) ||
		die "qemu-system-x86 is not installed"
	[ -r "$keyring" ] || die "$keyring missing: apt-get install debian-archive-keyring"
	mirror=$(system_mirror bookworm | head -n 1)
	[ -n "$mirror" ] || die "cannot find the Debian mirror in /etc/apt/sources.list(.d)"
	sec=$(system_mirror bookworm-security | head -n 1)
	aptdir=$RTUN_CACHE/apt/qemu-src
	srcdir=$aptdir/src
	mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$srcdir" ||
		die "cannot create $aptdir"
	{
		echo "deb-src [signed-by=$keyring] $mirror bookworm main"
		echo "deb-src [signed-by=$keyring] $mirror bookworm-updates main"
		[ -z "$sec" ] || echo "deb-src [signed-by=$keyring] $sec bookworm-security main"
	} >"$aptdir/sources.list"
	local apt_opts
	private_apt_opts "$aptdir"

	info "fetching the qemu $ver source package for qemu-plugin.h (private apt configuration in $aptdir)"
	apt-get "${apt_opts[@]}" -qq update ||
		die "apt-get update of the deb-src entries failed (private configuration $aptdir/sources.list)"
	rm -rf "$srcdir" && mkdir -p "$srcdir"
	(cd "$srcdir" && apt-get "${apt_opts[@]}" -qq source --download-only "qemu=$ver") ||
		die "apt-get source --download-only qemu=$ver failed"
	orig=$(ls "$srcdir"/qemu_*.orig.tar.* 2>/dev/null | head -n 1)
	[ -n "$orig" ] || die "apt-get source left no qemu_*.orig.tar.* in $srcdir"
	tar -xf "$orig" -C "$srcdir" --wildcards '*/include/qemu/qemu-plugin.h' ||
		die "$orig has no include/qemu/qemu-plugin.h"
	# A Debian patch that changed the header would be applied on top.
	if tar -tf "$srcdir"/qemu_*.debian.tar.* 2>/dev/null | grep '^debian/patches/' >/dev/null &&
		tar -xOf "$srcdir"/qemu_*.debian.tar.* --wildcards 'debian/patches/*' 2>/dev/null |
		grep '^+++ .*include/qemu/qemu-plugin\.h' >/dev/null; then
		die "Debian's qemu $ver patches qemu-plugin.h: apply debian/patches before use"
	fi
	mkdir -p "$RTUN_QEMU_PLUGIN_DIR" || die "cannot create $RTUN_QEMU_PLUGIN_DIR"
	cp "$srcdir"/*/include/qemu/qemu-plugin.h "$hdr.new" || die "cannot copy qemu-plugin.h"
	sum=$(sha256sum "$hdr.new" | cut -d' ' -f1)
	[ "$sum" = "$RTUN_QEMU_PLUGIN_H_SHA256" ] ||
		die "qemu-plugin.h of qemu $ver has SHA256 $sum, not $RTUN_QEMU_PLUGIN_H_SHA256 (the header bench/icount.c was written for): check the plugin against it, then update RTUN_QEMU_PLUGIN_H_SHA256 in scripts/lib.sh"
	mv "$hdr.new" "$hdr"
	echo "$ver" >"$RTUN_QEMU_PLUGIN_DIR/VERSION"
	rm -rf "$srcdir"
	info "qemu-plugin.h of qemu $ver: $hdr (SHA256 matches)"
}

# Kernel 7.3: linux-source-7.3 from trixie-backports, fetched with a private
# apt configuration (its own sources list, lists and cache under
# $RTUN_CACHE/apt) so that the system's sources and release stay as they
# are.  apt checks the Release signature against the Debian archive keyring
# and the .deb against the signed hashes; the hash is checked once more here.
fetch_linux_source_73() {
	local mirror aptdir debdir deb ver sum want keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	local tarball=$RTUN_K73_DIR/usr/src/linux-source-7.3.tar.xz

	if [ -r "$tarball" ] && [ -s "$RTUN_K73_DIR/VERSION" ]; then
		info "$RTUN_K73_PKG $(cat "$RTUN_K73_DIR/VERSION"): present in $RTUN_K73_DIR"
		return
	fi
	[ -r "$keyring" ] || die "$keyring missing: apt-get install debian-archive-keyring"
	mirror=$(system_mirror bookworm | head -n 1)
	[ -n "$mirror" ] || die "cannot find the Debian mirror in /etc/apt/sources.list(.d)"
	aptdir=$RTUN_CACHE/apt/$RTUN_K73_SUITE
	mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$aptdir/deb" ||
		die "cannot create $aptdir"
	echo "deb [signed-by=$keyring] $mirror $RTUN_K73_SUITE main" >"$aptdir/sources.list"
	local apt_opts
	private_apt_opts "$aptdir"

	info "fetching $RTUN_K73_PKG from $mirror $RTUN_K73_SUITE (private apt configuration in $aptdir)"
	apt-get "${apt_opts[@]}" -qq update ||
		die "apt-get update of $RTUN_K73_SUITE failed (private configuration $aptdir/sources.list)"
	want=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$RTUN_K73_PKG" 2>/dev/null |
		awk '/^SHA256:/ { print $2; exit }')
	ver=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$RTUN_K73_PKG" 2>/dev/null |
		awk '/^Version:/ { print $2; exit }')
	[ -n "$want" ] && [ -n "$ver" ] || die "$RTUN_K73_PKG not found in $RTUN_K73_SUITE"
	debdir=$aptdir/deb
	rm -f "$debdir"/*.deb
	(cd "$debdir" && apt-get "${apt_opts[@]}" -qq download "$RTUN_K73_PKG") ||
		die "apt-get download $RTUN_K73_PKG failed"
	deb=$(ls "$debdir"/"$RTUN_K73_PKG"_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || die "apt-get download left no .deb in $debdir"
	sum=$(sha256sum "$deb" | cut -d' ' -f1)
	[ "$sum" = "$want" ] || die "$deb: SHA256 $sum does not match the signed index ($want)"
	info "$RTUN_K73_PKG $ver downloaded, SHA256 matches the signed $RTUN_K73_SUITE index; extracting"
	rm -rf "$RTUN_K73_DIR" && mkdir -p "$RTUN_K73_DIR"
	dpkg-deb -x "$deb" "$RTUN_K73_DIR" || die "dpkg-deb -x $deb failed"
	[ -r "$tarball" ] || die "$deb has no ${tarball#"$RTUN_K73_DIR"}"
	echo "$ver" >"$RTUN_K73_DIR/VERSION"
	rm -f "$deb"
	info "$RTUN_K73_PKG $ver: $tarball"
}

if rtun_kernel_selected 7.3; then
	fetch_linux_source_73
	bg=$RTUN_CACHE/tools/bindgen-$RTUN_BINDGEN73_VERSION
	if [ ! -x "$bg/bin/bindgen" ] ||
		! "$bg/bin/bindgen" --version 2>/dev/null | grep "bindgen $RTUN_BINDGEN73_VERSION" >/dev/null; then
		info "installing bindgen-cli $RTUN_BINDGEN73_VERSION into $bg for kernel 7.3 (about a minute)"
		cargo install --locked bindgen-cli --version "$RTUN_BINDGEN73_VERSION" --root "$bg" ||
			die "cargo install bindgen-cli $RTUN_BINDGEN73_VERSION failed"
	fi
	rtun_kernel_env 7.3
	LIBCLANG_PATH=$K_LIBCLANG "$K_BINDGEN" --version --verbose 2>&1 |
		grep "^Clang: .*clang version $RTUN_LLVM73_VERSION\." >/dev/null ||
		die "$K_BINDGEN does not load libclang $RTUN_LLVM73_VERSION from $K_LIBCLANG"
	info "kernel 7.3 toolchain: $K_CLANG, $(LIBCLANG_PATH=$K_LIBCLANG "$K_BINDGEN" --version --verbose | tr '\n' ' ')($K_BINDGEN)"
fi

# Only make bench-icount needs the plugin header (bench/icount.sh asks for
# it): make check does not download QEMU's source.
[ "${RTUN_SETUP_QEMU_PLUGIN:-0}" != 1 ] || fetch_qemu_plugin_header

if [ ! -x "$RTUN_VENV/bin/vng" ]; then
	info "installing virtme-ng into $RTUN_VENV"
	python3 -m venv "$RTUN_VENV" || die "python3 -m venv $RTUN_VENV failed"
	"$RTUN_VENV/bin/pip" install -q --upgrade pip >/dev/null || true
	"$RTUN_VENV/bin/pip" install -q "virtme-ng==$VNG_VERSION" ||
		die "pip install virtme-ng failed"
fi
info "dependencies ready"
