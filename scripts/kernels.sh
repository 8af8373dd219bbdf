#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernels selected by RTUN_KERNELS (comma-separated, default
# "6.12,7.3"), one per line, so that a script can loop over them:
#
#   for k in $(bash scripts/kernels.sh); do
#       kdir=$(bash scripts/kdir.sh --kernel "$k") ...
#
# Exits non-zero with a message on an unknown kernel.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -eq 0 ] || die "usage: kernels.sh (takes RTUN_KERNELS from the environment)"
rtun_selected_kernels
