# SPDX-License-Identifier: GPL-2.0
# Shared settings and helpers for rtun's scripts; sourced, not run.

RTUN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RTUN_CACHE=${RTUN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rtun}
RTUN_VENV=${RTUN_VENV:-$RTUN_CACHE/venv}
VNG_VERSION=${VNG_VERSION:-1.42}
export PATH="$HOME/.cargo/bin:$PATH"

info() { printf 'rtun: %s\n' "$*" >&2; }
die() { printf 'rtun: error: %s\n' "$*" >&2; exit 1; }

# Kernels rtun builds against.  RTUN_KERNELS (comma-separated, default
# "6.12,7.3") selects which ones the scripts set up; a script that needs one
# kernel takes it from --kernel, else RTUN_KERNEL, else the first selected.
RTUN_KNOWN_KERNELS="6.12 7.3"

# Prints the selected kernels, one per line, in the order given.
rtun_selected_kernels() {
	local list=${RTUN_KERNELS:-6.12,7.3} k seen=" "
	for k in ${list//,/ }; do
		case " $RTUN_KNOWN_KERNELS " in
		*" $k "*) ;;
		*) die "RTUN_KERNELS: unknown kernel '$k' (known: ${RTUN_KNOWN_KERNELS// /, })" ;;
		esac
		case "$seen" in *" $k "*) continue ;; esac
		seen="$seen$k "
		echo "$k"
	done
	[ "$seen" != " " ] || die "RTUN_KERNELS is empty"
}

# Is kernel $1 among the selected ones?
rtun_kernel_selected() {
	local k
	for k in $(rtun_selected_kernels); do [ "$k" = "$1" ] && return 0; done
	return 1
}

# The kernel a single-kernel script works on: RTUN_KERNEL, else the first
# selected one.
rtun_default_kernel() {
	local k=${RTUN_KERNEL:-}
	if [ -z "$k" ]; then
		k=$(rtun_selected_kernels | head -n 1) || exit 1
	fi
	rtun_check_kernel "$k"
	echo "$k"
}

rtun_check_kernel() {
	case " $RTUN_KNOWN_KERNELS " in
	*" $1 "*) ;;
	*) die "unknown kernel '$1' (known: ${RTUN_KNOWN_KERNELS// /, })" ;;
	esac
}

# Where the 7.3 source package goes (fetched from trixie-backports by
# setup-deps.sh through a private apt configuration).
RTUN_K73_PKG=linux-source-7.3
RTUN_K73_SUITE=trixie-backports
RTUN_K73_DIR=$RTUN_CACHE/pkg/$RTUN_K73_PKG
RTUN_BINDGEN73_VERSION=0.72.1
RTUN_LLVM73_VERSION=22

# The header of QEMU's plugin API (bench/icount.c, make bench-icount):
# fetched by setup-deps.sh from the source package of the QEMU installed,
# accepted only with this hash (Debian 12's qemu 7.2, plugin API version 1).
RTUN_QEMU_PLUGIN_DIR=$RTUN_CACHE/qemu-plugin
RTUN_QEMU_PLUGIN_H_SHA256=19f277b037d05a8bcb5069f2f81a465d177208e5903048a915c56627d4c3748e

# Sets, for kernel $1, the variables a kernel or module build needs:
#   K_TARBALL   the source tarball          K_SRCVER  its package version
#   K_LLVM      make's LLVM= value          K_CLANG   the clang binary
#   K_BINDGEN   the bindgen binary          K_LIBCLANG  LIBCLANG_PATH for it
# Each kernel keeps its own toolchain: 6.12 Debian's clang 14 and
# bindgen-cli 0.69.5 (~/.cargo/bin); 7.3 (LLVM >= 17, bindgen >= 0.71.1)
# clang-22 and bindgen-cli 0.72.1 in $RTUN_CACHE/tools.  LIBCLANG_PATH is
# always set: without it bindgen loads the newest libclang on the machine,
# and 0.69.5/0.71.1 with libclang 22 emit opaque structs.
rtun_kernel_env() {
	rtun_check_kernel "$1"
	case "$1" in
	6.12)
		K_TARBALL=/usr/src/linux-source-6.12.tar.xz
		K_SRCVER=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) || K_SRCVER=
		K_LLVM=1
		K_CLANG=clang
		K_BINDGEN=$(command -v bindgen || echo bindgen)
		K_LIBCLANG=$(llvm-config --libdir 2>/dev/null || echo /usr/lib/llvm-14/lib)
		;;
	7.3)
		K_TARBALL=$RTUN_K73_DIR/usr/src/linux-source-7.3.tar.xz
		K_SRCVER=$(cat "$RTUN_K73_DIR/VERSION" 2>/dev/null) || K_SRCVER=
		K_LLVM=-$RTUN_LLVM73_VERSION
		K_CLANG=clang-$RTUN_LLVM73_VERSION
		K_BINDGEN=$RTUN_CACHE/tools/bindgen-$RTUN_BINDGEN73_VERSION/bin/bindgen
		K_LIBCLANG=/usr/lib/llvm-$RTUN_LLVM73_VERSION/lib
		;;
	esac
}
