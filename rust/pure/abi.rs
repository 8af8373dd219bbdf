// SPDX-License-Identifier: GPL-2.0

//! Which kernel's tun.c rtun follows, as a value the rules take.
//!
//! rtun behaves as the C driver of the kernel it runs on. Where the two
//! kernels it builds on differ, the pure rules take a [`TunAbi`] and branch
//! on it; the kernel module passes the one it was built for
//! (`crate::abstractions::compat::TUN_ABI`), the host tests pass both.

use crate::pure::vnet_out::PadFault;

/// The tun.c a rule follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunAbi {
    /// Linux 6.12 (the long-term kernel).
    Linux6_12,
    /// Linux 7.x (7.3 is the one built and tested): UDP tunnel GSO, the
    /// flow dissector on GSO writes without `NEEDS_CSUM`, zeroed header
    /// padding on read, `IFF_BACKPRESSURE`.
    Linux7,
}

/// Size of `struct virtio_net_hdr_v1_hash_tunnel` (`TUN_VNET_TNL_SIZE`, Linux 7.x).
pub const TUN_VNET_TNL_SIZE: usize = 24;

/// Size of `struct virtio_net_hdr`.
const VIRTIO_NET_HDR_LEN: usize = 10;

impl TunAbi {
    /// Returns whether this tun.c knows UDP tunnel GSO (Linux 7.x).
    pub const fn has_udp_tunnel(self) -> bool {
        matches!(self, TunAbi::Linux7)
    }

    /// Returns how many header bytes a write parses for `vnet_hdr_sz`.
    ///
    /// Linux 7.x's `tun_vnet_hdr_guest_features()` takes a header of at
    /// least `TUN_VNET_TNL_SIZE` bytes as "tunnel GSO negotiated" and
    /// `__tun_vnet_hdr_get()` then reads all 24; otherwise, and always on
    /// 6.12, the 10 bytes of `struct virtio_net_hdr`.
    pub const fn write_parsed_size(self, vnet_hdr_sz: usize) -> usize {
        if self.has_udp_tunnel() && vnet_hdr_sz >= TUN_VNET_TNL_SIZE {
            TUN_VNET_TNL_SIZE
        } else {
            VIRTIO_NET_HDR_LEN
        }
    }

    /// Returns by how many bytes the W4 bound on `hdr_len` exceeds the
    /// packet's length for a `vnet_hdr_sz`-byte header.
    ///
    /// 6.12's `tun_get_user()` compares with what follows the whole header;
    /// 7.x's `__tun_vnet_hdr_get()` with what follows its parsed part, so
    /// the unparsed rest of the header counts as packet there.
    pub const fn hdr_len_slack(self, vnet_hdr_sz: usize) -> usize {
        match self {
            TunAbi::Linux6_12 => 0,
            TunAbi::Linux7 => vnet_hdr_sz.saturating_sub(self.write_parsed_size(vnet_hdr_sz)),
        }
    }

    /// Returns whether this tun.c knows `IFF_BACKPRESSURE` (Linux 7.x).
    pub const fn has_backpressure(self) -> bool {
        matches!(self, TunAbi::Linux7)
    }

    /// Returns whether attaching a file, resizing its queue and closing the
    /// device wake the transmit queue unconditionally
    /// (`tun_force_wake_queue()`, Linux 7.x, which came with
    /// `IFF_BACKPRESSURE`) rather than only when the device runs.
    pub const fn force_wakes_queue(self) -> bool {
        self.has_backpressure()
    }

    /// Returns whether `SIOCSIFHWADDR` through the file first checks the
    /// device's address length against `ifr_hwaddr` (Linux 7.x).
    pub const fn checks_hwaddr_len(self) -> bool {
        matches!(self, TunAbi::Linux7)
    }

    /// Returns what a fault in the read header's padding does.
    pub const fn pad_fault(self) -> PadFault {
        match self {
            TunAbi::Linux6_12 => PadFault::Skip,
            TunAbi::Linux7 => PadFault::Efault,
        }
    }

    /// Returns whether `tun_get_user()` sets the protocol of a TUN packet
    /// before it applies the virtio-net header (Linux 7.x) rather than after.
    ///
    /// The order decides which error a write with both a bad header and a
    /// bad IP version nibble gets counted as.
    pub const fn l3_before_vnet_hdr(self) -> bool {
        matches!(self, TunAbi::Linux7)
    }

    /// Returns whether `virtio_net_hdr_to_skb()` runs the flow dissector on
    /// every GSO packet without `NEEDS_CSUM` (Linux 7.x).
    ///
    /// On 6.12 it does so only when the network header is set, which tun
    /// never does at that point, so only a length check remains.
    pub const fn dissects_gso(self) -> bool {
        matches!(self, TunAbi::Linux7)
    }
}
