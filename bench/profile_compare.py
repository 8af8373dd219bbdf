#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compare two flat perf profiles of one workload, C tun against rtun.

Usage: profile_compare.py C_REPORT C_OPS RUST_REPORT RUST_OPS [TOP]

*_REPORT is the output of `perf report -n --stdio --sort dso,sym`, *_OPS
the number of operations (writes or packets read) done while it was
recorded.  Prints, per symbol, samples per million operations for each driver
and the difference, largest differences first, and the totals.  Samples
per operation measure cost while the machine's speed varies: the
cpu-clock event samples the guest's own time.  Driver code is grouped by
module ([tun], [rtun]); the same kernel function on both sides is the
shared network stack, except for helpers only one driver calls.
"""

import re
import sys

LINE = re.compile(r"^\s*([\d.]+)%\s+(\d+)\s+(\[[^\]]+\]|\S+)\s+\[(.)\]\s+(.*?)\s*$")


def load(path):
    syms = {}
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            dso, sym = m.group(3), m.group(5)
            if dso in ("[tun]", "[rtun]"):
                dso = "[driver]"
            key = (dso, short(sym))
            syms[key] = syms.get(key, 0) + int(m.group(2))
    return syms, sum(syms.values())


def short(sym):
    """A readable name for a Rust v0 mangled symbol: its identifiers."""
    if not sym.startswith("_R"):
        return sym
    s, names, i = sym, [], 2
    while i < len(s):
        # Back references (B..._) and disambiguators (s..._, Cs..._).
        m = re.match(r"(?:B|s|Cs)[0-9A-Za-z]*_", s[i:])
        if m:
            i += len(m.group(0))
            continue
        m = re.match(r"\d+", s[i:])
        if not m:
            i += 1
            continue
        n, j = int(m.group(0)), i + len(m.group(0))
        ident = s[j:j + n]
        if n and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ident):
            if ident not in ("rtun_main", "kernel", "core"):
                names.append(ident)
            i = j + n
        else:
            i = j
    return "rust:" + "::".join(names) if names else sym


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    c, c_total = load(sys.argv[1])
    r, r_total = load(sys.argv[3])
    c_ops, r_ops = float(sys.argv[2]), float(sys.argv[4])
    top = int(sys.argv[5]) if len(sys.argv) > 5 else 25
    if c_ops <= 0 or r_ops <= 0:
        sys.exit("profile_compare: no operations counted")
    k = 1e6
    rows = []
    for key in set(c) | set(r):
        a = c.get(key, 0) * k / c_ops
        b = r.get(key, 0) * k / r_ops
        rows.append((b - a, a, b, key))
    rows.sort(key=lambda x: -abs(x[0]))
    print("samples per %.0e operations (C: %d samples, %.0f ops; rtun: %d "
          "samples, %.0f ops)" % (k, c_total, c_ops, r_total, r_ops))
    print("%9s %9s %9s  %s" % ("C", "rtun", "rtun-C", "symbol"))
    for d, a, b, (dso, sym) in rows[:top]:
        print("%9.1f %9.1f %+9.1f  %s %s" % (a, b, d, dso, sym))
    # Driver-specific code: the modules, Rust code the kernel itself does
    # not run here (generic kernel-crate code instantiated for rtun), and
    # kernel functions only one driver calls (C: its socket's send buffer
    # accounting; rtun: skb_dequeue, __wake_up, ...).  The rest is the
    # shared stack, which costs the same per operation for both drivers.
    def specific(mine, other, mine_ops, other_ops):
        out = {}
        for key, v in mine.items():
            dso, sym = key
            o = other.get(key, 0) * mine_ops / other_ops
            if dso == "[driver]" or sym.startswith("rust:") or \
                    (v >= 5 and o < 0.15 * v):
                out[key] = v
        return out

    cs = specific(c, r, c_ops, r_ops)
    rs = specific(r, c, r_ops, c_ops)
    c_spec, r_spec = sum(cs.values()), sum(rs.values())
    c_share = c_spec / max(c_total - c_spec, 1)
    r_share = r_spec / max(r_total - r_spec, 1)
    print()
    print("driver-specific samples / shared-stack samples: C %.2f, rtun %.2f"
          % (c_share, r_share))
    print("estimated cost per operation, rtun/C: %.2f (shared stack "
          "assumed equal per operation; > 1: rtun slower)"
          % ((1 + r_share) / (1 + c_share)))
    print("measured during the profile: rtun/C cost per operation %.2f "
          "(samples/op; noisy)" % ((r_total / r_ops) / (c_total / c_ops)))
    for name, spec, total in (("C", cs, c_total), ("rtun", rs, r_total)):
        print("%s driver-specific, %% of all samples:" % name)
        for key, v in sorted(spec.items(), key=lambda x: -x[1])[:12]:
            print("  %5.1f%%  %s" % (100.0 * v / total, key[1]))


if __name__ == "__main__":
    main()
