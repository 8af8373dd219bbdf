#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything rtun needs to build the kernel, the module and the
# tests, and to boot the VM.  Idempotent: each step is skipped when what it
# installs is already there.  Exits non-zero with a message on failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# Debian packages: kernel build, VM, guest-side tools used by tests/reports.
pkgs=(linux-source-6.12 qemu-system-x86 clang lld llvm libclang-dev flex bison
      bc libelf-dev libssl-dev cpio kmod udev iproute2 ethtool iperf3
      python3-venv busybox-static rsync xz-utils make gcc libc6-dev)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	info "installing Debian packages: ${missing[*]}"
	command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || die "apt-get update failed"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install failed for: ${missing[*]}"
else
	info "Debian packages: all present"
fi

command -v rustup >/dev/null || die "rustup not found: rtun needs a rustup-managed Rust toolchain"
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
	info "adding rustup component rust-src"
	rustup component add rust-src || die "rustup component add rust-src failed"
fi
for c in rustfmt clippy; do
	if ! rustup component list --installed 2>/dev/null | grep -q "^$c"; then
		info "adding rustup component $c"
		rustup component add "$c" || die "rustup component add $c failed"
	fi
done

if ! command -v bindgen >/dev/null || ! bindgen --version | grep -q '0\.69\.5'; then
	info "installing bindgen-cli 0.69.5 (about a minute)"
	cargo install --locked bindgen-cli --version 0.69.5 ||
		die "cargo install bindgen-cli failed"
fi

if [ ! -x "$RTUN_VENV/bin/vng" ]; then
	info "installing virtme-ng into $RTUN_VENV"
	python3 -m venv "$RTUN_VENV" || die "python3 -m venv $RTUN_VENV failed"
	"$RTUN_VENV/bin/pip" install -q --upgrade pip >/dev/null || true
	"$RTUN_VENV/bin/pip" install -q "virtme-ng==$VNG_VERSION" ||
		die "pip install virtme-ng failed"
fi
info "dependencies ready"
