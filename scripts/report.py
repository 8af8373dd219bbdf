#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Side-by-side report of the C tun driver and rtun, run inside the guest.

Creates a TAP device on /dev/net/tun and one on /dev/net/rtun, brings both
up, and prints what each driver reports: TUNGETFEATURES, TUNGETIFF, link
attributes from sysfs and the offload features from `ethtool -k`, before
and after a TUNSETOFFLOAD.  Exits non-zero if either driver cannot create
its device.
"""

import fcntl
import os
import struct
import subprocess
import sys

TUNSETIFF = 0x400454CA
TUNGETIFF = 0x800454D2
TUNGETFEATURES = 0x800454CF
TUNSETOFFLOAD = 0x400454D0
# TUN_F_CSUM | TSO4 | TSO6 | TSO_ECN | USO4 | USO6: what a VPN or QEMU asks for.
OFFLOADS = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000

FLAG_NAMES = {
    0x0001: "TUN", 0x0002: "TAP", 0x0010: "NAPI", 0x0020: "NAPI_FRAGS",
    0x0040: "NO_CARRIER", 0x0100: "MULTI_QUEUE", 0x0800: "PERSIST",
    0x1000: "NO_PI", 0x2000: "ONE_QUEUE", 0x4000: "VNET_HDR",
    0x8000: "TUN_EXCL",
}
ETHTOOL_KEYS = (
    "tx-checksumming", "scatter-gather", "tx-scatter-gather-fraglist",
    "tcp-segmentation-offload", "tx-tcp-segmentation",
    "tx-tcp-ecn-segmentation", "tx-tcp6-segmentation",
    "tx-udp-segmentation", "generic-segmentation-offload",
    "tx-vlan-offload", "tx-vlan-stag-hw-insert", "highdma",
)


def flag_names(word):
    return "|".join(n for b, n in sorted(FLAG_NAMES.items()) if word & b) or "0"


def ethtool_features(name):
    out = subprocess.run(["ethtool", "-k", name], capture_output=True,
                         text=True, check=False).stdout
    feats = {}
    for line in out.splitlines():
        key, _, val = line.strip().partition(":")
        if key in ETHTOOL_KEYS:
            feats[key] = val.split("[")[0].strip()
    return feats


def qdisc(name):
    words = subprocess.run(["ip", "-o", "link", "show", "dev", name],
                           capture_output=True, text=True, check=False).stdout.split()
    return words[words.index("qdisc") + 1] if "qdisc" in words else "?"


def sysfs(name, attr):
    try:
        with open(f"/sys/class/net/{name}/{attr}") as f:
            return f.read().strip()
    except OSError as e:
        return f"({e.strerror})"


def probe(node):
    """Create a TAP on `node` and return (fd, facts) for the report."""
    fd = os.open(node, os.O_RDWR)
    buf = bytearray(4)
    fcntl.ioctl(fd, TUNGETFEATURES, buf)
    features = struct.unpack("I", buf)[0]
    req = struct.pack("16sH22x", b"", IFF_TAP | IFF_NO_PI)
    name = fcntl.ioctl(fd, TUNSETIFF, req)[:16].rstrip(b"\0").decode()
    got = fcntl.ioctl(fd, TUNGETIFF, bytes(40))
    iff = struct.unpack("H", got[16:18])[0]
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    facts = {
        "device node": node,
        "TUNGETFEATURES": f"{features:#06x}",
        "features (decoded)": flag_names(features),
        "interface": name,
        "TUNGETIFF flags": f"{iff:#06x} {flag_names(iff)}",
        "type": sysfs(name, "type"),
        "flags": sysfs(name, "flags"),
        "mtu": sysfs(name, "mtu"),
        "tx_queue_len": sysfs(name, "tx_queue_len"),
        "qdisc": qdisc(name),
        "carrier": sysfs(name, "carrier"),
        "operstate": sysfs(name, "operstate"),
        "address": sysfs(name, "address"),
    }
    for key, val in ethtool_features(name).items():
        facts[f"ethtool {key}"] = val
    fcntl.ioctl(fd, TUNSETOFFLOAD, OFFLOADS)
    facts["TUNSETOFFLOAD"] = f"{OFFLOADS:#x} (CSUM|TSO4|TSO6|TSO_ECN|USO4|USO6)"
    for key, val in ethtool_features(name).items():
        facts[f"  then ethtool {key}"] = val
    return fd, facts


def main():
    results = []
    for node in ("/dev/net/tun", "/dev/net/rtun"):
        try:
            results.append(probe(node))
        except OSError as e:
            print(f"report: {node}: {e}", file=sys.stderr)
            return 1
    cols = [r[1] for r in results]
    keys = list(dict.fromkeys(k for c in cols for k in c))
    w0 = max(len(k) for k in keys)
    w1 = max(len(str(c.get(k, ""))) for c in cols[:1] for k in keys)
    print(f"{'':{w0}}  {'C tun.c':{w1}}  rtun (Rust)")
    for k in keys:
        a, b = cols[0].get(k, "-"), cols[1].get(k, "-")
        mark = "" if a == b or k in ("device node", "interface", "address",
                                     "TUNGETFEATURES", "features (decoded)") else "   <- differs"
        print(f"{k:{w0}}  {a:{w1}}  {b}{mark}")
    for fd, _ in results:
        os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
