// SPDX-License-Identifier: GPL-2.0

//! The MAC filter of a TAP device's transmit path: `TUNSETTXFILTER`
//! (`update_filter()`) and the test `tun_net_xmit()` makes on each packet
//! (`check_filter()`, `run_filter()`), as `drivers/net/tun.c` does (6.12
//! and 7.3 agree). Imports only `core`.

/// `ETH_ALEN`.
pub const ETH_ALEN: usize = 6;

/// C's `FLT_EXACT_COUNT`: addresses matched exactly.
pub const FLT_EXACT_COUNT: usize = 8;

/// `TUN_FLT_ALLMULTI`: accept every multicast address.
pub const TUN_FLT_ALLMULTI: u16 = 0x0001;

/// Size of `struct tun_filter` without its addresses (`flags`, `count`).
pub const TUN_FILTER_HDR_LEN: usize = 4;

/// An Ethernet address.
pub type MacAddr = [u8; ETH_ALEN];

/// A filter as C's `struct tap_filter` holds it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TxFilter {
    /// Number of exact addresses in use; 0 disables the filter.
    pub count: usize,
    /// The hash of the multicast addresses past the exact ones, 64 bits.
    pub mask: [u32; 2],
    /// The exact addresses; the first `count` are used.
    pub addr: [MacAddr; FLT_EXACT_COUNT],
}

impl TxFilter {
    /// No filter: every packet passes.
    pub const OFF: Self = Self {
        count: 0,
        mask: [0; 2],
        addr: [[0; ETH_ALEN]; FLT_EXACT_COUNT],
    };

    /// `check_filter()`: whether a packet to `dest` passes. With the filter
    /// off, every packet does; else an exact address matches, or a
    /// multicast (broadcast included) address whose hash bit is set.
    pub fn accepts(&self, dest: &MacAddr) -> bool {
        if self.count == 0 {
            return true;
        }
        let exact = self.addr.get(..self.count).unwrap_or(&self.addr);
        if exact.iter().any(|a| a == dest) {
            return true;
        }
        is_multicast(dest) && {
            let n = hash_bit(dest);
            self.mask
                .get(n >> 5)
                .is_some_and(|m| m & (1 << (n & 31)) != 0)
        }
    }
}

/// `is_multicast_ether_addr()`.
pub const fn is_multicast(addr: &MacAddr) -> bool {
    addr[0] & 0x01 != 0
}

/// `crc32_le(~0, addr, 6)`: the little-endian (reflected) CRC-32 with
/// polynomial 0xedb88320, no final inversion.
const fn crc32_le(addr: &MacAddr) -> u32 {
    let mut crc = !0u32;
    let mut i = 0;
    while i < ETH_ALEN {
        crc ^= addr[i] as u32;
        let mut b = 0;
        while b < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
            b += 1;
        }
        i += 1;
    }
    crc
}

/// `ether_crc(ETH_ALEN, addr)`: `bitrev32(crc32_le(~0, addr, 6))`.
pub const fn ether_crc(addr: &MacAddr) -> u32 {
    crc32_le(addr).reverse_bits()
}

/// The hash bit of `addr_hash_set()`/`addr_hash_test()`: the CRC's top 6 bits.
pub const fn hash_bit(addr: &MacAddr) -> usize {
    (ether_crc(addr) >> 26) as usize
}

/// The header of `struct tun_filter`: `flags` and `count`, native endian.
pub fn parse_header(raw: [u8; TUN_FILTER_HDR_LEN]) -> (u16, u16) {
    let [f0, f1, c0, c1] = raw;
    (u16::from_ne_bytes([f0, f1]), u16::from_ne_bytes([c0, c1]))
}

/// The number of address bytes `TUNSETTXFILTER` reads after the header.
pub const fn addrs_len(count: u16) -> usize {
    count as usize * ETH_ALEN
}

/// What `TUNSETTXFILTER` does once it has read its argument.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Update {
    /// The filter is off (`count` 0, or a unicast address past the exact
    /// ones, which leaves it disabled); the ioctl returns 0.
    Off,
    /// The filter is `TxFilter`; the ioctl returns its exact count (1..8).
    On(TxFilter),
}

impl Update {
    /// The ioctl's return value.
    pub fn ret(&self) -> usize {
        match self {
            Update::Off => 0,
            Update::On(f) => f.count,
        }
    }
}

/// `update_filter()` for a `struct tun_filter` with `flags` and the
/// addresses `addrs` (`6 * count` bytes, read after the header; with
/// `count` 0 nothing more is read). The first 8 are exact, the rest must
/// all be multicast and go into the hash; `TUN_FLT_ALLMULTI` fills it.
pub fn update(flags: u16, addrs: &[u8]) -> Update {
    let mut f = TxFilter::OFF;
    let mut n = 0;
    let mut chunks = addrs.chunks_exact(ETH_ALEN);
    for (slot, a) in f.addr.iter_mut().zip(chunks.by_ref()) {
        slot.copy_from_slice(a);
        n += 1;
    }
    if n == 0 {
        return Update::Off;
    }
    for a in chunks {
        let mut mac = [0u8; ETH_ALEN];
        mac.copy_from_slice(a);
        if !is_multicast(&mac) {
            return Update::Off;
        }
        let bit = hash_bit(&mac);
        if let Some(m) = f.mask.get_mut(bit >> 5) {
            *m |= 1 << (bit & 31);
        }
    }
    if flags & TUN_FLT_ALLMULTI != 0 {
        f.mask = [!0; 2];
    }
    f.count = n;
    Update::On(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BCAST: MacAddr = [0xff; 6];
    const V4_ALL_HOSTS: MacAddr = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01];
    const V6_ALL_NODES: MacAddr = [0x33, 0x33, 0x00, 0x00, 0x00, 0x01];
    const STP: MacAddr = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x00];

    fn flat(addrs: &[MacAddr]) -> [u8; 120] {
        let mut out = [0u8; 120];
        for (i, a) in addrs.iter().enumerate() {
            out[i * 6..i * 6 + 6].copy_from_slice(a);
        }
        out
    }

    fn unicast(i: u8) -> MacAddr {
        [0x02, 0, 0, 0, 0, i]
    }

    // ether_crc() values computed with zlib's CRC-32 (final inversion
    // undone, bits reversed).
    #[test]
    fn ether_crc_matches_the_kernel() {
        assert_eq!(ether_crc(&BCAST), 0xff48_647d);
        assert_eq!(ether_crc(&V4_ALL_HOSTS), 0x7fa3_2d9b);
        assert_eq!(ether_crc(&V6_ALL_NODES), 0xf99b_aaba);
        assert_eq!(ether_crc(&STP), 0x67d8_c317);
        assert_eq!(hash_bit(&BCAST), 63);
        assert_eq!(hash_bit(&V4_ALL_HOSTS), 31);
        assert_eq!(hash_bit(&V6_ALL_NODES), 62);
        assert_eq!(hash_bit(&STP), 25);
    }

    #[test]
    fn off_accepts_everything() {
        assert!(TxFilter::OFF.accepts(&unicast(1)));
        assert!(TxFilter::OFF.accepts(&BCAST));
        assert_eq!(update(0, &[]), Update::Off);
        assert_eq!(update(TUN_FLT_ALLMULTI, &[]), Update::Off);
    }

    #[test]
    fn exact_addresses() {
        let a = flat(&[unicast(1), unicast(2)]);
        let Update::On(f) = update(0, &a[..12]) else {
            panic!("filter off");
        };
        assert_eq!(f.count, 2);
        assert!(f.accepts(&unicast(1)));
        assert!(f.accepts(&unicast(2)));
        assert!(!f.accepts(&unicast(3)));
        // Broadcast must be listed or covered by the hash.
        assert!(!f.accepts(&BCAST));
        assert!(!f.accepts(&V4_ALL_HOSTS));
        assert_eq!(update(0, &a[..12]).ret(), 2);
    }

    #[test]
    fn multicast_past_eight_is_hashed() {
        let mut list = [unicast(0); 10];
        for (i, a) in list.iter_mut().enumerate().take(8) {
            *a = unicast(i as u8);
        }
        list[8] = BCAST;
        list[9] = V4_ALL_HOSTS;
        let a = flat(&list);
        let Update::On(f) = update(0, &a[..60]) else {
            panic!("filter off");
        };
        assert_eq!(f.count, 8);
        assert_eq!(f.mask, [1 << 31, 1 << 31]);
        assert!(f.accepts(&BCAST));
        assert!(f.accepts(&V4_ALL_HOSTS));
        assert!(!f.accepts(&V6_ALL_NODES));
        assert!(f.accepts(&unicast(7)));
        assert!(!f.accepts(&unicast(8)));
    }

    #[test]
    fn unicast_past_eight_leaves_it_off() {
        let list: [MacAddr; 9] = core::array::from_fn(|i| unicast(i as u8));
        let a = flat(&list);
        assert_eq!(update(0, &a[..54]), Update::Off);
        assert_eq!(update(0, &a[..54]).ret(), 0);
    }

    #[test]
    fn allmulti_fills_the_hash() {
        let a = flat(&[unicast(1)]);
        let Update::On(f) = update(TUN_FLT_ALLMULTI, &a[..6]) else {
            panic!("filter off");
        };
        assert_eq!(f.mask, [!0, !0]);
        assert!(f.accepts(&V6_ALL_NODES));
        assert!(f.accepts(&BCAST));
        assert!(!f.accepts(&unicast(2)));
    }

    #[test]
    fn a_listed_multicast_address_matches_exactly() {
        let a = flat(&[STP]);
        let Update::On(f) = update(0, &a[..6]) else {
            panic!("filter off");
        };
        assert!(f.accepts(&STP));
        assert!(!f.accepts(&BCAST));
    }
}
