// SPDX-License-Identifier: GPL-2.0

//! Per-device state and the net device callbacks.

use crate::features;
use crate::iff::Kind;
use crate::netdev::{DevConfig, NetDevOps, NetDevice};
use crate::rtnl::{Rtnl, RtnlLocked};
use crate::skb::{self, Skb};
use crate::tunfile::TunFile;
use crate::vnet_hdr::{ByteOrder, SkbGeometry, VIRTIO_NET_HDR_LEN};
use core::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering};
use kernel::bindings;
use kernel::error::{code::EINVAL, Error, Result};
use kernel::sync::Arc;

/// Whether the kernel lets tun headers be big endian on a little-endian CPU
/// (`CONFIG_TUN_VNET_CROSS_LE`), which decides `TUNSETVNETBE` as in C.
pub(crate) const CROSS_ENDIAN: bool = cfg!(CONFIG_TUN_VNET_CROSS_LE);

// The pure feature bits must be the kernel's.
const _: () = {
    assert!(features::NETIF_F_SG == 1 << bindings::NETIF_F_SG_BIT);
    assert!(features::NETIF_F_HW_CSUM == 1 << bindings::NETIF_F_HW_CSUM_BIT);
    assert!(features::NETIF_F_HIGHDMA == 1 << bindings::NETIF_F_HIGHDMA_BIT);
    assert!(features::NETIF_F_FRAGLIST == 1 << bindings::NETIF_F_FRAGLIST_BIT);
    assert!(features::NETIF_F_HW_VLAN_CTAG_TX == 1 << bindings::NETIF_F_HW_VLAN_CTAG_TX_BIT);
    assert!(features::NETIF_F_TSO == 1 << bindings::NETIF_F_TSO_BIT);
    assert!(features::NETIF_F_TSO_ECN == 1 << bindings::NETIF_F_TSO_ECN_BIT);
    assert!(features::NETIF_F_TSO6 == 1 << bindings::NETIF_F_TSO6_BIT);
    assert!(features::NETIF_F_GSO_UDP_L4 == 1 << bindings::NETIF_F_GSO_UDP_L4_BIT);
    assert!(features::NETIF_F_HW_VLAN_STAG_TX == 1 << bindings::NETIF_F_HW_VLAN_STAG_TX_BIT);
};

/// `ARPHRD_NONE` (`include/uapi/linux/if_arp.h`).
const ARPHRD_NONE: u16 = 0xfffe;
/// `ARPHRD_ETHER`.
const ARPHRD_ETHER: u16 = 1;
/// `IFF_TX_SKB_SHARING` of `enum netdev_priv_flags` (`include/linux/netdevice.h`).
const IFF_TX_SKB_SHARING: u32 = 1 << 11;
/// `IFF_LIVE_ADDR_CHANGE` of `enum netdev_priv_flags`.
const IFF_LIVE_ADDR_CHANGE: u32 = 1 << 15;
/// C tun's `MIN_MTU`.
const MIN_MTU: u32 = 68;
/// C tun's `MAX_MTU`.
const MAX_MTU: u32 = 65535;
/// C tun's `TUN_READQ_SIZE`, the transmit queue length of a TUN device.
const TUN_READQ_SIZE: u32 = 500;
/// `DEFAULT_TX_QUEUE_LEN`, which `ether_setup()` gives a TAP device.
const DEFAULT_TX_QUEUE_LEN: u32 = 1000;

/// The error `ip link add type rtun` gets: devices are made through `/dev/net/rtun`.
pub(crate) fn rtnl_newlink_error() -> Error {
    Error::from_errno(-(bindings::EOPNOTSUPP as i32))
}

/// Returns how a new device of `kind` is set up, as `tun_net_initialize()` does.
pub(crate) fn config(kind: Kind) -> DevConfig {
    let mut cfg = DevConfig {
        hw_features: features::DEFAULT_HW_FEATURES,
        features: features::DEFAULT_HW_FEATURES,
        vlan_features: features::DEFAULT_VLAN_FEATURES,
        mtu: bindings::ETH_DATA_LEN,
        min_mtu: MIN_MTU,
        lltx: 1,
        ..DevConfig::default()
    };
    match kind {
        Kind::Tun => {
            cfg.type_ = ARPHRD_NONE;
            cfg.flags = bindings::net_device_flags_IFF_POINTOPOINT
                | bindings::net_device_flags_IFF_NOARP
                | bindings::net_device_flags_IFF_MULTICAST;
            cfg.max_mtu = MAX_MTU;
            cfg.tx_queue_len = TUN_READQ_SIZE;
        }
        Kind::Tap => {
            cfg.ether = 1;
            cfg.type_ = ARPHRD_ETHER;
            cfg.hard_header_len = bindings::ETH_HLEN as u16;
            cfg.addr_len = bindings::ETH_ALEN as u8;
            cfg.flags =
                bindings::net_device_flags_IFF_BROADCAST | bindings::net_device_flags_IFF_MULTICAST;
            cfg.priv_flags_clear = IFF_TX_SKB_SHARING;
            cfg.priv_flags_set = IFF_LIVE_ADDR_CHANGE;
            cfg.max_mtu = MAX_MTU - bindings::ETH_HLEN;
            cfg.tx_queue_len = DEFAULT_TX_QUEUE_LEN;
        }
    }
    cfg
}

/// The state of one rtun device, kept in its private area.
///
/// Settings read by the data path are atomics: ioctls change them under
/// RTNL, and a write reads each once, as C reads them with `READ_ONCE()`.
pub(crate) struct RtunDev {
    kind: Kind,
    /// The flags `TUNSETIFF` stored: the kind bit and the implemented features.
    flags: AtomicU16,
    /// `TUNSETVNETHDRSZ`, at least 10.
    vnet_hdr_sz: AtomicU32,
    /// `TUNSETVNETLE`.
    vnet_le: AtomicBool,
    /// `TUNSETVNETBE`.
    vnet_be: AtomicBool,
    /// Writes whose virtio-net header was refused.
    rx_frame_errors: AtomicU64,
    /// The kernel's skb sizes, read once at creation.
    geometry: SkbGeometry,
    /// The attached file; it holds a reference back to the device.
    file: RtnlLocked<Option<Arc<TunFile>>>,
    /// The user features the reader allowed (C's `set_features`).
    allowed_features: RtnlLocked<u64>,
}

impl RtunDev {
    /// Creates the state of a new device of `kind` with stored flags `flags`.
    pub(crate) fn new(kind: Kind, flags: u16) -> Self {
        Self {
            kind,
            flags: AtomicU16::new(flags),
            vnet_hdr_sz: AtomicU32::new(VIRTIO_NET_HDR_LEN as u32),
            vnet_le: AtomicBool::new(false),
            vnet_be: AtomicBool::new(false),
            rx_frame_errors: AtomicU64::new(0),
            geometry: skb::geometry(),
            file: RtnlLocked::new(None),
            allowed_features: RtnlLocked::new(0),
        }
    }

    /// Returns the device's kind.
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// Returns the stored flags.
    pub(crate) fn flags(&self) -> u16 {
        self.flags.load(Ordering::Relaxed)
    }

    /// Replaces the stored flags; RTNL serialises writers.
    pub(crate) fn set_flags(&self, flags: u16, _rtnl: &mut Rtnl) {
        self.flags.store(flags, Ordering::Relaxed);
    }

    /// Returns the virtio-net header size.
    pub(crate) fn vnet_hdr_sz(&self) -> u32 {
        self.vnet_hdr_sz.load(Ordering::Relaxed)
    }

    /// Sets the virtio-net header size (`TUNSETVNETHDRSZ`); below 10 is `EINVAL`.
    pub(crate) fn set_vnet_hdr_sz(&self, sz: i32, _rtnl: &mut Rtnl) -> Result {
        let sz = u32::try_from(sz).map_err(|_| EINVAL)?;
        if sz < VIRTIO_NET_HDR_LEN as u32 {
            return Err(EINVAL);
        }
        self.vnet_hdr_sz.store(sz, Ordering::Relaxed);
        Ok(())
    }

    /// Returns whether the header is little endian by `TUNSETVNETLE`.
    pub(crate) fn vnet_le(&self) -> bool {
        self.vnet_le.load(Ordering::Relaxed)
    }

    /// Sets `TUNSETVNETLE`.
    pub(crate) fn set_vnet_le(&self, on: bool, _rtnl: &mut Rtnl) {
        self.vnet_le.store(on, Ordering::Relaxed);
    }

    /// Returns whether the header is big endian by `TUNSETVNETBE`.
    pub(crate) fn vnet_be(&self) -> bool {
        self.vnet_be.load(Ordering::Relaxed)
    }

    /// Sets `TUNSETVNETBE`; only kernels with cross-endian support allow it, as in C.
    pub(crate) fn set_vnet_be(&self, on: bool, _rtnl: &mut Rtnl) -> Result {
        if !CROSS_ENDIAN {
            return Err(EINVAL);
        }
        self.vnet_be.store(on, Ordering::Relaxed);
        Ok(())
    }

    /// Returns the byte order of the virtio-net header fields.
    pub(crate) fn byte_order(&self) -> ByteOrder {
        ByteOrder::from_tun_flags(self.vnet_le(), CROSS_ENDIAN && self.vnet_be())
    }

    /// Returns the kernel's skb sizes.
    pub(crate) fn geometry(&self) -> &SkbGeometry {
        &self.geometry
    }

    /// Counts a write whose virtio-net header was refused.
    pub(crate) fn rx_frame_error(&self) {
        self.rx_frame_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Returns whether a file is attached.
    pub(crate) fn has_file(&self, rtnl: &Rtnl) -> bool {
        self.file.borrow(rtnl).is_some()
    }

    /// Attaches `file`; the caller has checked that none is attached.
    pub(crate) fn attach(&self, file: Arc<TunFile>, rtnl: &mut Rtnl) {
        *self.file.borrow_mut(rtnl) = Some(file);
    }

    /// Detaches and returns the attached file, if any.
    pub(crate) fn take_file(&self, rtnl: &mut Rtnl) -> Option<Arc<TunFile>> {
        self.file.borrow_mut(rtnl).take()
    }
}

impl NetDevOps for RtunDev {
    fn uninit(_dev: &NetDevice, data: &Self, rtnl: &mut Rtnl) {
        // The device goes away under an attached file (`ip link del`, module
        // unload): the file keeps working and reports EBADFD from now on.
        if let Some(file) = data.take_file(rtnl) {
            file.device_gone(rtnl);
        }
    }

    fn open(dev: &NetDevice, _data: &Self) -> Result {
        dev.tx_start();
        Ok(())
    }

    fn stop(dev: &NetDevice, _data: &Self) -> Result {
        dev.tx_stop();
        Ok(())
    }

    fn start_xmit(dev: &NetDevice, _data: &Self, skb: Skb) {
        // The read path does not exist yet: account the packet as dropped,
        // as C does when its queue is full.
        dev.tx_dropped_inc();
        drop(skb);
    }

    fn fix_features(_dev: &NetDevice, data: &Self, wanted: u64, rtnl: &Rtnl) -> u64 {
        features::fix_features(wanted, *data.allowed_features.borrow(rtnl))
    }

    fn rx_frame_errors(data: &Self) -> u64 {
        data.rx_frame_errors.load(Ordering::Relaxed)
    }
}
