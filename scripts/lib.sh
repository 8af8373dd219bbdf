# SPDX-License-Identifier: GPL-2.0
# Shared settings and helpers for rtun's scripts; sourced, not run.

RTUN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RTUN_CACHE=${RTUN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rtun}
RTUN_VENV=${RTUN_VENV:-$RTUN_CACHE/venv}
VNG_VERSION=${VNG_VERSION:-1.42}
export PATH="$HOME/.cargo/bin:$PATH"

info() { printf 'rtun: %s\n' "$*" >&2; }
die() { printf 'rtun: error: %s\n' "$*" >&2; exit 1; }
