#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the guest: a smoke test of rtun on a kernel whose behaviour
# rtun does not follow yet (7.3, see Documentation/differences.md): load
# the C tun.ko and rtun.ko, create a TAP device through each node, send
# one frame into each and read one back out, unload rtun, and check the
# kernel log.  Ends with "N passed, N failed".
#
# Environment: RTUN_KDIR (set by vm-run.sh), RTUN_KO (default: rtun.ko at
# the top of the tree).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

kdir=${RTUN_KDIR:?RTUN_KDIR not set: run this through scripts/vm-run.sh}
rtun_ko=${RTUN_KO:-$RTUN_ROOT/rtun.ko}
passed=0
failed=0
step() {
	local what=$1
	shift
	if out=$("$@" 2>&1); then
		passed=$((passed + 1))
		echo "ok   $what${out:+: $out}"
	else
		failed=$((failed + 1))
		echo "FAIL $what: $out"
	fi
}

# Opens NODE, makes a TAP device, brings it up, writes one broadcast ARP
# frame (received by the stack), and makes the stack send one frame (an
# IPv6-less ping to a neighbour on the device) that it reads back.
tap_roundtrip() {
	python3 - "$1" <<'PY'
import fcntl, os, socket, struct, sys, time
TUNSETIFF, TUNGETFEATURES = 0x400454ca, 0x800454cf
fd = os.open(sys.argv[1], os.O_RDWR)
feat = bytearray(4)
fcntl.ioctl(fd, TUNGETFEATURES, feat)
ifr = fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"", 0x0002 | 0x1000))
name = ifr[:16].rstrip(b"\0").decode()
os.system(f"ip link set {name} up && ip addr add 192.0.2.1/24 dev {name}")
arp = (b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x06" +
       struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1,
                   b"\x02\x00\x00\x00\x00\x01", bytes([192, 0, 2, 2]),
                   b"\0" * 6, bytes([192, 0, 2, 1])))
assert os.write(fd, arp) == len(arp)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"x", ("192.0.2.2", 9))
os.set_blocking(fd, False)
for _ in range(100):
    try:
        frame = os.read(fd, 2048)
        break
    except BlockingIOError:
        time.sleep(0.05)
else:
    sys.exit(f"{name}: nothing to read")
print(f"{name} features {struct.unpack('I', feat)[0]:#x}, read {len(frame)} bytes")
PY
}

step "insmod tun.ko" insmod "$kdir/drivers/net/tun.ko"
step "insmod $(basename "$rtun_ko")" insmod "$rtun_ko"
step "C tun: TAP round trip" tap_roundtrip /dev/net/tun
step "rtun: TAP round trip" tap_roundtrip /dev/net/rtun
step "rmmod rtun" rmmod rtun
step "kernel log clean" bash -c "dmesg | bash '$here/dmesg-check.sh'"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
