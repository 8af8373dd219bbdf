// SPDX-License-Identifier: GPL-2.0

//! The tun/tap user ABI: ioctl numbers, `IFF_*` flags and `struct ifreq`.
//!
//! Values are those of `include/uapi/linux/if_tun.h` and `linux/if.h` in
//! Linux 6.12. This module imports only `core`, so the host crate tests it too.

/// Encodes an ioctl number the way `_IOC()` does on x86 and most architectures.
pub const fn ioc(dir: u32, ty: u8, nr: u8, size: u32) -> u32 {
    (dir << 30) | (size << 16) | ((ty as u32) << 8) | nr as u32
}

const IOC_NONE: u32 = 0;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;
const T: u8 = b'T';
const INT: u32 = 4;
/// Size of `struct sock_fprog` on 64-bit kernels.
const SOCK_FPROG: u32 = SOCK_FPROG_SIZE as u32;
/// Size of `struct sock_fprog` on 64-bit kernels, in bytes.
pub const SOCK_FPROG_SIZE: usize = 16;
/// Offset of `sock_fprog.filter`, the program's user-space address, after
/// `len` and its padding.
const SOCK_FPROG_FILTER_OFFSET: usize = 8;

/// `TUNSETNOCSUM`: accepted and ignored, as upstream.
pub const TUNSETNOCSUM: u32 = ioc(IOC_WRITE, T, 200, INT);
/// `TUNSETDEBUG`.
pub const TUNSETDEBUG: u32 = ioc(IOC_WRITE, T, 201, INT);
/// `TUNSETIFF`: create or attach a device.
pub const TUNSETIFF: u32 = ioc(IOC_WRITE, T, 202, INT);
/// `TUNSETPERSIST`.
pub const TUNSETPERSIST: u32 = ioc(IOC_WRITE, T, 203, INT);
/// `TUNSETOWNER`.
pub const TUNSETOWNER: u32 = ioc(IOC_WRITE, T, 204, INT);
/// `TUNSETLINK`.
pub const TUNSETLINK: u32 = ioc(IOC_WRITE, T, 205, INT);
/// `TUNSETGROUP`.
pub const TUNSETGROUP: u32 = ioc(IOC_WRITE, T, 206, INT);
/// `TUNGETFEATURES`: which `IFF_*` flags `TUNSETIFF` understands.
pub const TUNGETFEATURES: u32 = ioc(IOC_READ, T, 207, INT);
/// `TUNSETOFFLOAD`.
pub const TUNSETOFFLOAD: u32 = ioc(IOC_WRITE, T, 208, INT);
/// `TUNSETTXFILTER`.
pub const TUNSETTXFILTER: u32 = ioc(IOC_WRITE, T, 209, INT);
/// `TUNGETIFF`: name and flags of the attached device.
pub const TUNGETIFF: u32 = ioc(IOC_READ, T, 210, INT);
/// `TUNGETSNDBUF`.
pub const TUNGETSNDBUF: u32 = ioc(IOC_READ, T, 211, INT);
/// `TUNSETSNDBUF`.
pub const TUNSETSNDBUF: u32 = ioc(IOC_WRITE, T, 212, INT);
/// `TUNATTACHFILTER`.
pub const TUNATTACHFILTER: u32 = ioc(IOC_WRITE, T, 213, SOCK_FPROG);
/// `TUNDETACHFILTER`.
pub const TUNDETACHFILTER: u32 = ioc(IOC_WRITE, T, 214, SOCK_FPROG);
/// `TUNGETVNETHDRSZ`.
pub const TUNGETVNETHDRSZ: u32 = ioc(IOC_READ, T, 215, INT);
/// `TUNSETVNETHDRSZ`.
pub const TUNSETVNETHDRSZ: u32 = ioc(IOC_WRITE, T, 216, INT);
/// `TUNSETQUEUE`.
pub const TUNSETQUEUE: u32 = ioc(IOC_WRITE, T, 217, INT);
/// `TUNSETIFINDEX`.
pub const TUNSETIFINDEX: u32 = ioc(IOC_WRITE, T, 218, INT);
/// `TUNGETFILTER`.
pub const TUNGETFILTER: u32 = ioc(IOC_READ, T, 219, SOCK_FPROG);
/// `TUNSETVNETLE`.
pub const TUNSETVNETLE: u32 = ioc(IOC_WRITE, T, 220, INT);
/// `TUNGETVNETLE`.
pub const TUNGETVNETLE: u32 = ioc(IOC_READ, T, 221, INT);
/// `TUNSETVNETBE`.
pub const TUNSETVNETBE: u32 = ioc(IOC_WRITE, T, 222, INT);
/// `TUNGETVNETBE`.
pub const TUNGETVNETBE: u32 = ioc(IOC_READ, T, 223, INT);
/// `TUNSETSTEERINGEBPF`.
pub const TUNSETSTEERINGEBPF: u32 = ioc(IOC_READ, T, 224, INT);
/// `TUNSETFILTEREBPF`.
pub const TUNSETFILTEREBPF: u32 = ioc(IOC_READ, T, 225, INT);
/// `TUNSETCARRIER`.
pub const TUNSETCARRIER: u32 = ioc(IOC_WRITE, T, 226, INT);
/// `TUNGETDEVNETNS`.
pub const TUNGETDEVNETNS: u32 = ioc(IOC_NONE, T, 227, 0);

/// TUN device: layer 3, no link-layer header.
pub const IFF_TUN: u16 = 0x0001;
/// TAP device: Ethernet frames.
pub const IFF_TAP: u16 = 0x0002;
/// Receive packets through NAPI.
pub const IFF_NAPI: u16 = 0x0010;
/// Build skbs from page frags through NAPI.
pub const IFF_NAPI_FRAGS: u16 = 0x0020;
/// Create the device with its carrier off.
pub const IFF_NO_CARRIER: u16 = 0x0040;
/// With a qdisc, a full queue stops the device instead of dropping (`IFF_BACKPRESSURE`, Linux 7.x).
pub const IFF_BACKPRESSURE: u16 = 0x0080;
/// One queue per attached file.
pub const IFF_MULTI_QUEUE: u16 = 0x0100;
/// `TUNSETQUEUE`: attach this queue.
pub const IFF_ATTACH_QUEUE: u16 = 0x0200;
/// `TUNSETQUEUE`: detach this queue; also reported by `TUNGETIFF`.
pub const IFF_DETACH_QUEUE: u16 = 0x0400;
/// The device outlives its last file.
pub const IFF_PERSIST: u16 = 0x0800;
/// No `struct tun_pi` before each packet.
pub const IFF_NO_PI: u16 = 0x1000;
/// Reported by `TUNGETIFF` when no socket filter is attached (same bit as `IFF_NO_PI`).
pub const IFF_NOFILTER: u16 = 0x1000;
/// Historical, ignored.
pub const IFF_ONE_QUEUE: u16 = 0x2000;
/// A `struct virtio_net_hdr` before each packet.
pub const IFF_VNET_HDR: u16 = 0x4000;
/// `TUNSETIFF` fails with `EBUSY` if the name exists.
pub const IFF_TUN_EXCL: u16 = 0x8000;

/// The 2008 design's bit for "reader takes partial checksums" (now `IFF_TUN_EXCL`).
pub const IFF_RECV_CSUM_2008: u16 = 0x8000;
/// The 2008 design's bit for "reader takes GSO packets" (now `IFF_PERSIST`).
pub const IFF_RECV_GSO_2008: u16 = 0x0800;
/// The 2008 design's bit for "a header precedes each written packet" (now `IFF_VNET_HDR`).
pub const IFF_SEND_GSO_2008: u16 = 0x4000;

/// Both device type bits.
pub const TUN_TYPE_MASK: u16 = IFF_TUN | IFF_TAP;

/// C tun's `TUN_FEATURES`: the per-device flags `TUNSETIFF` stores.
pub const C_TUN_FEATURES: u16 =
    IFF_NO_PI | IFF_ONE_QUEUE | IFF_VNET_HDR | IFF_MULTI_QUEUE | IFF_NAPI | IFF_NAPI_FRAGS;

/// What C tun's `TUNGETFEATURES` reports (0x7173).
pub const C_TUNGETFEATURES: u32 = (IFF_TUN | IFF_TAP | IFF_NO_CARRIER | C_TUN_FEATURES) as u32;

/// `SIOCSIFHWADDR`: set the hardware address (`linux/sockios.h`).
pub const SIOCSIFHWADDR: u32 = 0x8924;
/// `SIOCGIFHWADDR`: get the hardware address.
pub const SIOCGIFHWADDR: u32 = 0x8927;
/// `SIOCGSKNS`: a file descriptor of the socket's network namespace.
pub const SIOCGSKNS: u32 = 0x894c;
/// `SOCK_IOC_TYPE`: the ioctl type of the `SIOC*` numbers.
pub const SOCK_IOC_TYPE: u32 = 0x89;

/// Whether `__tun_chr_ioctl()` copies a `struct ifreq` in before anything
/// else for `cmd` (so a bad pointer is `EFAULT` before `EBADFD`):
/// `TUNSETIFF`, `TUNSETQUEUE` and every `SIOC*` number but `SIOCGSKNS`.
pub const fn copies_ifreq(cmd: u32) -> bool {
    cmd == TUNSETIFF
        || cmd == TUNSETQUEUE
        || ((cmd >> 8) & 0xff == SOCK_IOC_TYPE && cmd != SIOCGSKNS)
}

/// `NETIF_MSG_DRV`: the message level bit of tun's ioctl log lines.
pub const NETIF_MSG_DRV: u32 = 0x1;

/// `NETIF_MSG_TX_QUEUED`: the message level bit of tun's transmit log line.
pub const NETIF_MSG_TX_QUEUED: u32 = 0x100;

/// Length of an interface name buffer, including the NUL.
pub const IFNAMSIZ: usize = 16;

/// Size of `struct ifreq` on 64-bit kernels.
pub const IFREQ_SIZE: usize = 40;

/// Size of a 32-bit program's `struct ifreq` (`struct compat_ifreq`): its
/// `ifr_map` is 8 bytes shorter, the fields tun uses sit at the same offsets.
pub const COMPAT_IFREQ_SIZE: usize = 32;

// The name, the flags and the hardware address, all tun reads and writes
// of a `struct ifreq`, end within a 32-bit program's.
const _: () = assert!(IFNAMSIZ + 2 <= COMPAT_IFREQ_SIZE);
const _: () = assert!(IFNAMSIZ + SOCKADDR_SIZE <= COMPAT_IFREQ_SIZE);

/// The size of `struct ifreq` tun copies in and out for a caller
/// (`__tun_chr_ioctl()`'s `ifreq_len`).
pub const fn ifreq_size(compat: bool) -> usize {
    if compat {
        COMPAT_IFREQ_SIZE
    } else {
        IFREQ_SIZE
    }
}

/// Offset of `ifr_flags` in `struct ifreq`.
const IFREQ_FLAGS_OFFSET: usize = IFNAMSIZ;

/// Size of `struct sockaddr`, `ifr_hwaddr`.
pub const SOCKADDR_SIZE: usize = 16;

/// A classic BPF program as `TUNATTACHFILTER` names it: `struct sock_fprog`,
/// its length and the user-space address of its instructions.
///
/// Kept as the caller's bytes, padding included, because C's device keeps
/// the structure it copied in (`tun->fprog`) and `TUNGETFILTER` copies it
/// back out whole; the instructions themselves stay in user space and are
/// read again each time the program is attached to another queue.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SockFprog {
    raw: [u8; SOCK_FPROG_SIZE],
}

impl SockFprog {
    /// Builds the structure from the bytes the caller passed.
    pub const fn from_bytes(raw: [u8; SOCK_FPROG_SIZE]) -> Self {
        Self { raw }
    }

    /// Returns an all-zero structure, what a new device keeps.
    pub const fn zeroed() -> Self {
        Self {
            raw: [0; SOCK_FPROG_SIZE],
        }
    }

    /// Returns the bytes, as `TUNGETFILTER` copies them out.
    pub const fn as_bytes(&self) -> &[u8; SOCK_FPROG_SIZE] {
        &self.raw
    }

    /// Returns `len`, the number of instructions (a native-endian `unsigned short`).
    pub const fn len(&self) -> u16 {
        u16::from_ne_bytes([self.raw[0], self.raw[1]])
    }

    /// Returns whether the program has no instructions.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns `filter`, the user-space address of the instructions.
    pub const fn filter(&self) -> u64 {
        let o = SOCK_FPROG_FILTER_OFFSET;
        let r = &self.raw;
        u64::from_ne_bytes([
            r[o],
            r[o + 1],
            r[o + 2],
            r[o + 3],
            r[o + 4],
            r[o + 5],
            r[o + 6],
            r[o + 7],
        ])
    }
}

/// The parts of `struct ifreq` that tun's ioctls use: the name and the flags.
///
/// The remaining bytes of the user's structure are preserved so that a copy back
/// to user space writes exactly what C tun writes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IfReq {
    raw: [u8; IFREQ_SIZE],
}

impl IfReq {
    /// Builds a request from the raw bytes of a user `struct ifreq`.
    pub const fn from_bytes(raw: [u8; IFREQ_SIZE]) -> Self {
        Self { raw }
    }

    /// Builds an all-zero request, as C tun does for ioctls that copy no `ifreq` in.
    pub const fn zeroed() -> Self {
        Self {
            raw: [0; IFREQ_SIZE],
        }
    }

    /// Returns the raw bytes, ready to be copied to user space.
    pub const fn as_bytes(&self) -> &[u8; IFREQ_SIZE] {
        &self.raw
    }

    /// Returns `ifr_flags` (a native-endian `short`).
    pub fn flags(&self) -> u16 {
        u16::from_ne_bytes([
            self.raw[IFREQ_FLAGS_OFFSET],
            self.raw[IFREQ_FLAGS_OFFSET + 1],
        ])
    }

    /// Sets `ifr_flags`.
    pub fn set_flags(&mut self, flags: u16) {
        let b = flags.to_ne_bytes();
        self.raw[IFREQ_FLAGS_OFFSET] = b[0];
        self.raw[IFREQ_FLAGS_OFFSET + 1] = b[1];
    }

    /// Returns `ifr_hwaddr`, a `struct sockaddr` (`sa_family`, `sa_data[14]`).
    pub fn hwaddr(&self) -> [u8; SOCKADDR_SIZE] {
        let mut out = [0u8; SOCKADDR_SIZE];
        out.copy_from_slice(&self.raw[IFNAMSIZ..IFNAMSIZ + SOCKADDR_SIZE]);
        out
    }

    /// Sets `ifr_hwaddr`, leaving the rest as it was.
    pub fn set_hwaddr(&mut self, sa: &[u8; SOCKADDR_SIZE]) {
        self.raw[IFNAMSIZ..IFNAMSIZ + SOCKADDR_SIZE].copy_from_slice(sa);
    }

    /// Returns the name bytes up to (not including) the first NUL.
    ///
    /// Like C tun, which stores a NUL in the last byte first, the name is at
    /// most `IFNAMSIZ - 1` bytes long.
    pub fn name(&self) -> &[u8] {
        let buf = &self.raw[..IFNAMSIZ - 1];
        let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        &buf[..len]
    }

    /// Returns the name as a NUL-terminated buffer.
    pub fn name_buf(&self) -> [u8; IFNAMSIZ] {
        let mut out = [0u8; IFNAMSIZ];
        let name = self.name();
        out[..name.len()].copy_from_slice(name);
        out
    }

    /// Replaces the name with `name` (truncated to `IFNAMSIZ - 1` bytes) and a NUL.
    pub fn set_name(&mut self, name: &[u8]) {
        let len = name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(name.len())
            .min(IFNAMSIZ - 1);
        self.raw[..IFNAMSIZ].fill(0);
        self.raw[..len].copy_from_slice(&name[..len]);
    }
}

/// `XDP_ABORTED` (`enum xdp_action`, include/uapi/linux/bpf.h): the
/// program failed; the packet is dropped and a trace event fires.
pub const XDP_ABORTED: u32 = 0;
/// `XDP_DROP`: the program dropped the packet.
pub const XDP_DROP: u32 = 1;
/// `XDP_PASS`: the packet goes on to the stack.
pub const XDP_PASS: u32 = 2;
/// `XDP_TX`: the packet goes back out of the device it came in on (for
/// tun, to the device's own readers).
pub const XDP_TX: u32 = 3;
/// `XDP_REDIRECT`: the packet goes where the program's redirect said.
pub const XDP_REDIRECT: u32 = 4;

#[cfg(test)]
mod tests {
    use super::*;

    // Values printed by a C program built against Linux's <linux/if_tun.h>.
    #[test]
    fn sock_fprog_fields_are_where_c_puts_them() {
        let mut raw = [0xaau8; SOCK_FPROG_SIZE];
        raw[..2].copy_from_slice(&3u16.to_ne_bytes());
        raw[8..].copy_from_slice(&0x7fff_1234_5678u64.to_ne_bytes());
        let f = SockFprog::from_bytes(raw);
        assert_eq!(f.len(), 3);
        assert_eq!(f.filter(), 0x7fff_1234_5678);
        // The padding is kept: TUNGETFILTER gives back what was set.
        assert_eq!(f.as_bytes(), &raw);
        assert!(SockFprog::zeroed().is_empty());
    }

    #[test]
    fn ioctl_numbers_match_the_c_header() {
        let expect = [
            (TUNSETNOCSUM, 0x400454c8),
            (TUNSETIFF, 0x400454ca),
            (TUNSETPERSIST, 0x400454cb),
            (TUNSETOWNER, 0x400454cc),
            (TUNSETLINK, 0x400454cd),
            (TUNSETGROUP, 0x400454ce),
            (TUNGETFEATURES, 0x800454cf),
            (TUNSETOFFLOAD, 0x400454d0),
            (TUNSETTXFILTER, 0x400454d1),
            (TUNGETIFF, 0x800454d2),
            (TUNGETSNDBUF, 0x800454d3),
            (TUNSETSNDBUF, 0x400454d4),
            (TUNATTACHFILTER, 0x401054d5),
            (TUNDETACHFILTER, 0x401054d6),
            (TUNGETVNETHDRSZ, 0x800454d7),
            (TUNSETVNETHDRSZ, 0x400454d8),
            (TUNSETQUEUE, 0x400454d9),
            (TUNSETIFINDEX, 0x400454da),
            (TUNGETFILTER, 0x801054db),
            (TUNSETVNETLE, 0x400454dc),
            (TUNGETVNETLE, 0x800454dd),
            (TUNSETVNETBE, 0x400454de),
            (TUNGETVNETBE, 0x800454df),
            (TUNSETSTEERINGEBPF, 0x800454e0),
            (TUNSETFILTEREBPF, 0x800454e1),
            (TUNSETCARRIER, 0x400454e2),
            (TUNGETDEVNETNS, 0x000054e3),
        ];
        for (got, want) in expect {
            assert_eq!(got, want, "ioctl {got:#x} != {want:#x}");
        }
    }

    #[test]
    fn ifreq_copied_in_for_setiff_setqueue_and_sioc_but_sksns() {
        assert!(copies_ifreq(TUNSETIFF));
        assert!(copies_ifreq(TUNSETQUEUE));
        assert!(copies_ifreq(SIOCGIFHWADDR));
        assert!(copies_ifreq(SIOCSIFHWADDR));
        // SIOCGIFFLAGS: any SIOC number, known to tun or not.
        assert!(copies_ifreq(0x8913));
        assert!(!copies_ifreq(SIOCGSKNS));
        assert!(!copies_ifreq(TUNGETIFF));
        assert!(!copies_ifreq(TUNSETSNDBUF));
    }

    #[test]
    fn compat_ifreq_holds_every_field_tun_uses() {
        assert_eq!(ifreq_size(false), IFREQ_SIZE);
        assert_eq!(ifreq_size(true), COMPAT_IFREQ_SIZE);
    }

    #[test]
    fn ifreq_hwaddr_is_bytes_16_to_32() {
        let mut req = IfReq::zeroed();
        req.set_name(b"t0");
        let sa = [1u8, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
        req.set_hwaddr(&sa);
        assert_eq!(req.hwaddr(), sa);
        assert_eq!(req.name(), b"t0");
        assert_eq!(&req.as_bytes()[16..32], &sa);
        assert!(req.as_bytes()[32..].iter().all(|&b| b == 0));
    }

    #[test]
    fn c_features_word() {
        assert_eq!(C_TUNGETFEATURES, 0x7173);
    }

    #[test]
    fn seed_bits_alias_todays_bits() {
        assert_eq!(IFF_SEND_GSO_2008, IFF_VNET_HDR);
        assert_eq!(IFF_RECV_CSUM_2008, IFF_TUN_EXCL);
        assert_eq!(IFF_RECV_GSO_2008, IFF_PERSIST);
    }

    #[test]
    fn ifreq_name_is_cut_at_nul_and_at_15_bytes() {
        let mut raw = [0u8; IFREQ_SIZE];
        raw[..4].copy_from_slice(b"ab%d");
        assert_eq!(IfReq::from_bytes(raw).name(), b"ab%d");
        raw[..IFNAMSIZ].fill(b'x');
        let req = IfReq::from_bytes(raw);
        assert_eq!(req.name().len(), IFNAMSIZ - 1);
        assert_eq!(req.name_buf()[IFNAMSIZ - 1], 0);
    }

    #[test]
    fn ifreq_flags_round_trip_and_keep_other_bytes() {
        let mut raw = [0xa5u8; IFREQ_SIZE];
        raw[..3].copy_from_slice(b"tu\0");
        let mut req = IfReq::from_bytes(raw);
        req.set_flags(0x1234);
        assert_eq!(req.flags(), 0x1234);
        req.set_name(b"rtun7");
        assert_eq!(req.name(), b"rtun7");
        assert_eq!(&req.as_bytes()[..IFNAMSIZ], b"rtun7\0\0\0\0\0\0\0\0\0\0\0");
        assert!(req.as_bytes()[IFNAMSIZ + 2..].iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn ifreq_set_name_truncates() {
        let mut req = IfReq::zeroed();
        req.set_name(b"0123456789abcdefghij");
        assert_eq!(req.name(), b"0123456789abcde");
    }
}
