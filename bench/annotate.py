#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Attribute perf samples inside a module's functions to the calls they follow.

Usage: annotate.py SAMPLES KALLSYMS MODULE_KO [SYMBOL_SUBSTRING...]

SAMPLES is `perf script -F ip,sym` output, KALLSYMS the lines of the
module (`[rtun]` or `[tun]`) from /proc/kallsyms of the same boot,
MODULE_KO the module that was loaded.  For each of its functions with samples (or those matching a substring), the
samples are grouped by the out-of-line call that precedes them: under
TCG an interrupt is taken only at the start of a translation block, and
blocks end at calls and returns, so a sample at a return point stands for
time spent in the tail of the callee and in the return itself; samples
elsewhere are the function's own code.
"""

import collections
import re
import subprocess
import sys


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    samples, kallsyms, ko = sys.argv[1:4]
    top = 12
    want = sys.argv[4:]
    base = {}
    for line in open(kallsyms):
        p = line.split()
        if len(p) >= 3:
            base[p[2]] = int(p[0], 16)
    hits = collections.defaultdict(collections.Counter)
    for line in open(samples):
        p = line.split()
        if len(p) >= 2 and p[1] in base:
            hits[p[1]][int(p[0], 16) - base[p[1]]] += 1
    for name, cnt in sorted(hits.items(), key=lambda x: -sum(x[1].values()))[:top]:
        if want and not any(w in name for w in want):
            continue
        dis = subprocess.run(["objdump", "-dr", "--no-show-raw-insn",
                              "--disassemble=" + name, ko],
                             capture_output=True, text=True).stdout
        start, after, since, by = None, None, 0, collections.Counter()
        pending_call = False
        for line in dis.splitlines():
            m = re.match(r"^([0-9a-f]+) <", line)
            if m:
                start = int(m.group(1), 16)
                continue
            m = re.match(r"^\s+[0-9a-f]+:\s+R_X86_64_PLT32\s+(\S+)", line)
            if m and pending_call:
                after, since, pending_call = re.sub(r"-0x4$", "", m.group(1)), 0, False
                continue
            m = re.match(r"^\s+([0-9a-f]+):\s+(\S+)", line)
            if not m or start is None:
                continue
            if m.group(2) == "call":
                pending_call = True
                continue
            since += 1
            c = cnt.get(int(m.group(1), 16) - start, 0)
            if c:
                by["after call " + after if after and since <= 2 else "own code"] += c
        total = sum(cnt.values())
        print("%s: %d samples" % (name, total))
        for k, v in by.most_common(16):
            print("  %5d  %s" % (v, k))
        rest = total - sum(by.values())
        if rest:
            print("  %5d  (not at an instruction of this build)" % rest)


if __name__ == "__main__":
    main()
