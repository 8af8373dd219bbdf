// SPDX-License-Identifier: GPL-2.0

//! Per-device state and the net device callbacks.

use super::tunfile::TunFile;
use crate::abstractions::bpf::ProgSlot;
use crate::abstractions::compat::TUN_ABI;
use crate::abstractions::cred::{self, ModuleRef};
use crate::abstractions::error::from_errno;
use crate::abstractions::flow::FlowTable;
use crate::abstractions::netdev::{DevConfig, Framing, LinkInfo, NetDevOps, NetDevice, TakeBatch};
use crate::abstractions::queue::BpOwner;
use crate::abstractions::rcu::{RcuRead, RcuSlots};
use crate::abstractions::rtnl::{Rtnl, RtnlLocked};
use crate::abstractions::skb::Skb;
use crate::abstractions::sock::Sock;
use crate::abstractions::xdp::{XdpFrames, XdpProg, XdpSlot};
use crate::pure::ctl::{self, KernelId, Ownership, PersistChange};
use crate::pure::drops::{self, Counter, DropCounters, DropReason};
use crate::pure::errno::{EINVAL, ENXIO, EOPNOTSUPP};
use crate::pure::features;
use crate::pure::iff::{Kind, QueueCount, SetIff, MAX_TAP_QUEUES};
use crate::pure::mq;
use crate::pure::txfilter::{TxFilter, Update, ETH_ALEN, FLT_EXACT_COUNT};
use crate::pure::uapi::{
    SockFprog, IFF_BACKPRESSURE, IFF_MULTI_QUEUE, IFF_NAPI, IFF_NAPI_FRAGS, IFF_PERSIST,
    NETIF_MSG_TX_QUEUED,
};
use crate::pure::vnet_hdr::{ByteOrder, VIRTIO_NET_HDR_LEN};
use core::sync::atomic::{
    fence, AtomicBool, AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
use kernel::bindings;
use kernel::error::{Error, Result};
use kernel::sync::Arc;

/// Whether the kernel lets tun headers be big endian on a little-endian CPU
/// (`CONFIG_TUN_VNET_CROSS_LE`), which decides `TUNSETVNETBE` as in C.
pub(crate) const CROSS_ENDIAN: bool = cfg!(CONFIG_TUN_VNET_CROSS_LE);

/// `ARPHRD_NONE` (`include/uapi/linux/if_arp.h`).
const ARPHRD_NONE: u16 = 0xfffe;
/// `ARPHRD_ETHER`.
const ARPHRD_ETHER: u16 = 1;
/// `IFF_TX_SKB_SHARING` of `enum netdev_priv_flags` (`include/linux/netdevice.h`).
const IFF_TX_SKB_SHARING: u32 = 1 << 11;
/// `IFF_LIVE_ADDR_CHANGE` of `enum netdev_priv_flags`.
const IFF_LIVE_ADDR_CHANGE: u32 = 1 << 15;
/// `IFF_NO_QUEUE` of `enum netdev_priv_flags`.
const IFF_NO_QUEUE: u32 = 1 << 19;
/// C tun's `MIN_MTU`.
const MIN_MTU: u32 = 68;
/// C tun's `MAX_MTU`.
const MAX_MTU: u32 = 65535;
/// C tun's `TUN_READQ_SIZE`, the transmit queue length of a TUN device.
const TUN_READQ_SIZE: u32 = 500;
/// `DEFAULT_TX_QUEUE_LEN`, which `ether_setup()` gives a TAP device.
const DEFAULT_TX_QUEUE_LEN: u32 = 1000;

/// Returns how a new device is set up, as `tun_net_initialize()` does.
///
/// Under the 2008 ABI the features are the ones fixed at creation.
pub(crate) fn config(req: &SetIff) -> DevConfig {
    let (hw, vlan) = match req.fixed_features {
        Some(f) => (f, f),
        None => (
            features::default_hw_features(TUN_ABI),
            features::default_vlan_features(TUN_ABI),
        ),
    };
    // `alloc_netdev_mqs()` marks a device whose setup left `tx_queue_len` at
    // 0 as queueless; C's `tun_setup()` sets it there, rtun sets it here, so
    // undo that: tun and tap devices get the default qdisc, and a full read
    // queue is not reported to senders that went through it.
    let mut cfg = DevConfig {
        framing: Framing::Ip,
        hw_features: hw,
        features: hw,
        vlan_features: vlan,
        hw_enc_features: features::hw_enc_features(TUN_ABI, hw),
        flags: bindings::net_device_flags_IFF_POINTOPOINT
            | bindings::net_device_flags_IFF_NOARP
            | bindings::net_device_flags_IFF_MULTICAST,
        priv_flags_set: 0,
        priv_flags_clear: IFF_NO_QUEUE,
        mtu: bindings::ETH_DATA_LEN,
        min_mtu: MIN_MTU,
        max_mtu: MAX_MTU,
        tx_queue_len: TUN_READQ_SIZE,
        type_: ARPHRD_NONE,
        hard_header_len: 0,
        addr_len: 0,
        lltx: true,
        ifindex: 0,
        queues: if req.multi_queue { MAX_TAP_QUEUES } else { 1 },
    };
    if req.kind == Kind::Tap {
        cfg.framing = Framing::Ether;
        cfg.type_ = ARPHRD_ETHER;
        cfg.hard_header_len = bindings::ETH_HLEN as u16;
        cfg.addr_len = bindings::ETH_ALEN as u8;
        cfg.flags =
            bindings::net_device_flags_IFF_BROADCAST | bindings::net_device_flags_IFF_MULTICAST;
        cfg.priv_flags_clear |= IFF_TX_SKB_SHARING;
        cfg.priv_flags_set = IFF_LIVE_ADDR_CHANGE;
        cfg.max_mtu = MAX_MTU - bindings::ETH_HLEN;
        cfg.tx_queue_len = DEFAULT_TX_QUEUE_LEN;
    }
    cfg
}

/// The MAC filter of `TUNSETTXFILTER` (C's `tun->txflt`), read by transmit
/// without a lock and written under RTNL the way `update_filter()` does:
/// the filter is off (`count` 0) while it changes, so a racing packet may
/// pass that the new filter would drop, as in C.
struct TxFilterCell {
    count: AtomicUsize,
    mask: [AtomicU32; 2],
    /// Each address in the low 48 bits, in `MacAddr` byte order.
    addr: [AtomicU64; FLT_EXACT_COUNT],
}

impl TxFilterCell {
    const fn new() -> Self {
        Self {
            count: AtomicUsize::new(0),
            mask: [const { AtomicU32::new(0) }; 2],
            addr: [const { AtomicU64::new(0) }; FLT_EXACT_COUNT],
        }
    }

    /// Returns the filter, or `None` if it is off.
    fn load(&self) -> Option<TxFilter> {
        let count = self.count.load(Ordering::Acquire);
        if count == 0 {
            return None;
        }
        let mut f = TxFilter::OFF;
        f.count = count;
        for (m, a) in f.mask.iter_mut().zip(&self.mask) {
            *m = a.load(Ordering::Relaxed);
        }
        for (m, a) in f.addr.iter_mut().zip(&self.addr) {
            let b = a.load(Ordering::Relaxed).to_le_bytes();
            m.copy_from_slice(&b[..ETH_ALEN]);
        }
        Some(f)
    }

    /// Installs `update` (callers hold RTNL, which serialises writers).
    fn store(&self, update: &Update, _rtnl: &mut Rtnl) {
        self.count.store(0, Ordering::Release);
        fence(Ordering::Release);
        let Update::On(f) = update else {
            return;
        };
        for (a, m) in self.addr.iter().zip(&f.addr) {
            let mut b = [0u8; 8];
            b[..ETH_ALEN].copy_from_slice(m);
            a.store(u64::from_le_bytes(b), Ordering::Relaxed);
        }
        for (a, m) in self.mask.iter().zip(&f.mask) {
            a.store(*m, Ordering::Relaxed);
        }
        self.count.store(f.count, Ordering::Release);
    }
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
    /// The header's byte order the two give, kept beside them (RTNL
    /// held) so that a read or write loads one byte instead of two.
    big_endian: AtomicBool,
    /// Whether a virtio-net header precedes each read packet.
    hdr_read: AtomicBool,
    /// Drops and refusals, one counter per reason (`ethtool -S`); the
    /// reasons of `rx_frame_errors` add up to it.
    drops: DropCounters,
    /// The files of the active queues (C's `tfiles[]`), dense in
    /// `0..numqueues`; each holds a reference back to the device. Read by
    /// `ndo_start_xmit` under RCU, changed with RTNL held.
    queues: RcuSlots<TunFile>,
    /// How many queues are active (C's `numqueues`): written under RTNL,
    /// read once by the data path.
    numqueues: AtomicU32,
    /// The files whose queues were detached with `TUNSETQUEUE` (C's
    /// `disabled` list), in any slot.
    disabled: RcuSlots<TunFile>,
    /// How many files are in `disabled` (C's `numdisabled`).
    numdisabled: AtomicU32,
    /// Which queue each flow was last written from (C's `flows`).
    flows: FlowTable,
    /// `TUNSETSTEERINGEBPF`: a program that picks the queue instead of
    /// the flow table (C's `steering_prog`).
    steering: ProgSlot,
    /// `TUNSETFILTEREBPF`: a program that drops or trims what the device
    /// transmits (C's `filter_prog`).
    filter: ProgSlot,
    /// The XDP program writes to a TAP device meet (C's `xdp_prog`).
    xdp: XdpSlot,
    /// The user features the reader allowed (C's `set_features`).
    allowed_features: RtnlLocked<u64>,
    /// `TUNSETOWNER` and `TUNSETGROUP` (C's `tun->owner`, `tun->group`):
    /// written under RTNL, read without it by sysfs and netlink dumps.
    owner: AtomicU32,
    group: AtomicU32,
    /// `TUNSETTXFILTER`.
    tx_filter: TxFilterCell,
    /// `TUNATTACHFILTER`'s program as the caller named it (C's `fprog`),
    /// attached to each queue's socket and kept for `TUNGETFILTER` and for
    /// queues that attach later.
    sock_fprog: RtnlLocked<SockFprog>,
    /// Whether the active queues have `sock_fprog` attached (C's
    /// `filter_attached`), so that a queue attaching gets it too.
    filter_attached: RtnlLocked<bool>,
    /// ethtool's `rx-frames` (C's `rx_batched`), which batches only
    /// `MSG_MORE` sends in C, which rtun's files do not take: stored, shown.
    rx_batched: AtomicU32,
    /// `TUNSETDEBUG`: the message level (C's `msg_enable`), which ethtool
    /// reads and sets too.
    msg_enable: AtomicU32,
    /// `IFF_PERSIST`: set while the device holds a module reference, as C's
    /// `TUNSETPERSIST` takes one, so that `rmmod` refuses while it lives.
    persist: RtnlLocked<Option<ModuleRef>>,
    /// Whether `persist` holds a reference, for readers without RTNL.
    persist_flag: AtomicBool,
}

impl RtunDev {
    /// Creates the state of a new device for the request `req`.
    pub(crate) fn new(req: &SetIff) -> Result<Self> {
        Ok(Self {
            kind: req.kind,
            flags: AtomicU16::new(req.dev_flags),
            hdr_read: AtomicBool::new(req.hdr_read),
            vnet_hdr_sz: AtomicU32::new(VIRTIO_NET_HDR_LEN as u32),
            vnet_le: AtomicBool::new(false),
            vnet_be: AtomicBool::new(false),
            big_endian: AtomicBool::new(ByteOrder::from_tun_flags(false, false).is_big()),
            drops: DropCounters::new(),
            queues: RcuSlots::new()?,
            numqueues: AtomicU32::new(0),
            disabled: RcuSlots::new()?,
            numdisabled: AtomicU32::new(0),
            flows: FlowTable::new()?,
            steering: ProgSlot::new(),
            filter: ProgSlot::new(),
            xdp: XdpSlot::new(),
            // Under the 2008 ABI the reader's offloads are fixed at creation.
            allowed_features: RtnlLocked::new(
                req.fixed_features.unwrap_or(0) & features::user_features(TUN_ABI),
            ),
            owner: AtomicU32::new(Ownership::NONE.owner),
            group: AtomicU32::new(Ownership::NONE.group),
            persist: RtnlLocked::new(None),
            persist_flag: AtomicBool::new(false),
            msg_enable: AtomicU32::new(0),
            tx_filter: TxFilterCell::new(),
            sock_fprog: RtnlLocked::new(SockFprog::zeroed()),
            filter_attached: RtnlLocked::new(false),
            rx_batched: AtomicU32::new(0),
        })
    }

    /// Lets the flow table log under the device's name, once it is
    /// registered.
    pub(crate) fn registered(&self, dev: &NetDevice) {
        self.flows.set_dev(dev, &self.msg_enable);
    }

    /// Returns whether the device has `IFF_BACKPRESSURE` (Linux 7.x).
    ///
    /// False without a test on 6.12, whose `TUNSETIFF` never sets it: the
    /// read and transmit paths ask on every packet.
    pub(crate) fn backpressure(&self) -> bool {
        TUN_ABI.has_backpressure() && self.flags() & IFF_BACKPRESSURE != 0
    }

    /// `TUNSETTXFILTER`: installs the filter `update_filter()` decided.
    pub(crate) fn set_tx_filter(&self, update: &Update, rtnl: &mut Rtnl) {
        self.tx_filter.store(update, rtnl);
    }

    /// `TUNATTACHFILTER` (C's `tun_attach_filter()`): keeps `fprog` and
    /// attaches it to every active queue's socket. If one refuses it, the
    /// queues before that one lose their filter and the error is returned;
    /// the queues after it keep what they had, as in C.
    pub(crate) fn attach_sock_filter(&self, fprog: SockFprog, rtnl: &mut Rtnl) -> Result {
        *self.sock_fprog.borrow_mut(rtnl) = fprog;
        for i in 0..self.active() as usize {
            let Some(file) = self.queues.get(i, rtnl) else {
                continue;
            };
            if let Err(e) = file.sock().attach_filter(&fprog) {
                self.detach_sock_filters(i, rtnl);
                return Err(e);
            }
        }
        *self.filter_attached.borrow_mut(rtnl) = true;
        Ok(())
    }

    /// `TUNDETACHFILTER` (C's `tun_detach_filter()` over every active
    /// queue): the active queues' sockets lose their filters; detached
    /// queues keep theirs.
    pub(crate) fn detach_sock_filter(&self, rtnl: &mut Rtnl) {
        self.detach_sock_filters(usize::MAX, rtnl);
    }

    /// Detaches the filters of the first `n` active queues; queues that
    /// attach later get none.
    fn detach_sock_filters(&self, n: usize, rtnl: &mut Rtnl) {
        for i in 0..n.min(self.active() as usize) {
            if let Some(file) = self.queues.get(i, rtnl) {
                file.sock().detach_filter();
            }
        }
        *self.filter_attached.borrow_mut(rtnl) = false;
    }

    /// `TUNGETFILTER`: the program `TUNATTACHFILTER` last named, whether or
    /// not attaching it worked (C keeps what it copied in).
    pub(crate) fn sock_filter(&self, rtnl: &Rtnl) -> SockFprog {
        *self.sock_fprog.borrow(rtnl)
    }

    /// `tun_attach()`'s first step for a queue that is attaching (`sock`
    /// its file's socket): the device's filter, if it has one attached,
    /// goes on the new queue too, unless the caller asked for none
    /// (`skip`: `TUNSETIFF` with `IFF_NOFILTER`).
    ///
    /// C returns here on success without attaching the queue (its check
    /// reads `if (!err) goto out`), so a file that attaches to a device
    /// with a filter gets a filter but no device; rtun attaches the queue
    /// (`Documentation/differences.md`, D6).
    pub(crate) fn filter_new_queue(&self, sock: &Sock, skip: bool, rtnl: &Rtnl) -> Result {
        if skip || !*self.filter_attached.borrow(rtnl) {
            return Ok(());
        }
        sock.attach_filter(self.sock_fprog.borrow(rtnl))
    }

    /// `check_filter()`: whether `tun_net_xmit()` lets `skb` pass the MAC
    /// filter (always, while it is off). C reads the destination from the
    /// linear data; a packet too short to have one is passed.
    fn tx_filter_accepts(&self, skb: &Skb) -> bool {
        match self.tx_filter.load() {
            None => true,
            Some(f) => match skb.head_bytes::<ETH_ALEN>() {
                Some(dest) => f.accepts(&dest),
                None => true,
            },
        }
    }

    /// Logs `args` under `dev`'s name if the message level has `bit`
    /// (`netif_info()`; `TUNSETDEBUG` and ethtool set the level).
    ///
    /// Inlined, so that the message's arguments are built only when it is
    /// printed (out of line they were built on every transmit).
    #[inline(always)]
    pub(crate) fn log(&self, dev: &NetDevice, bit: u32, args: core::fmt::Arguments<'_>) {
        if self.msg_enable.load(Ordering::Relaxed) & bit != 0 {
            dev.info(args);
        }
    }

    /// `TUNSETDEBUG`: sets the message level (`msg_enable = (u32)arg`).
    pub(crate) fn set_msg_enable(&self, level: u32) {
        self.msg_enable.store(level, Ordering::Relaxed);
    }

    /// `tun_net_change_carrier()`: the carrier goes on only while a file is
    /// attached (`EPERM`); off always.
    pub(crate) fn change_carrier(&self, dev: &NetDevice, on: bool, rtnl: &Rtnl) -> Result {
        ctl::change_carrier(on, self.has_file(rtnl)).map_err(from_errno)?;
        dev.set_carrier(on);
        Ok(())
    }

    /// Returns whether the device is persistent (`IFF_PERSIST`).
    pub(crate) fn is_persistent(&self) -> bool {
        self.persist_flag.load(Ordering::Relaxed)
    }

    /// C's `tun_flags()`: the stored flags with `IFF_PERSIST`, what
    /// `TUNGETIFF` (before `IFF_NOFILTER`) and sysfs `tun_flags` show.
    pub(crate) fn tun_flags(&self) -> u16 {
        let persist = if self.is_persistent() { IFF_PERSIST } else { 0 };
        self.flags() | persist
    }

    /// `TUNSETPERSIST` with argument `arg`; returns whether the flag changed
    /// (C then notifies).
    pub(crate) fn set_persist(&self, arg: usize, rtnl: &mut Rtnl) -> bool {
        let slot = self.persist.borrow_mut(rtnl);
        match ctl::persist_change(slot.is_some(), arg) {
            PersistChange::On => *slot = Some(ModuleRef::get()),
            PersistChange::Off => drop(slot.take()),
            PersistChange::Same => return false,
        }
        self.persist_flag.store(slot.is_some(), Ordering::Relaxed);
        true
    }

    /// Returns the owner and group.
    pub(crate) fn ownership(&self) -> Ownership {
        Ownership {
            owner: self.owner.load(Ordering::Relaxed),
            group: self.group.load(Ordering::Relaxed),
        }
    }

    /// `TUNSETOWNER`: stores a valid kernel uid.
    pub(crate) fn set_owner(&self, owner: KernelId, _rtnl: &mut Rtnl) {
        self.owner.store(owner, Ordering::Relaxed);
    }

    /// `TUNSETGROUP`: stores a valid kernel gid.
    pub(crate) fn set_group(&self, group: KernelId, _rtnl: &mut Rtnl) {
        self.group.store(group, Ordering::Relaxed);
    }

    /// `tun_permitted()`: whether the caller may attach a file to `dev`: as
    /// its owner or group member (every one that is set must match), or
    /// with `CAP_NET_ADMIN` in the user namespace of the device's network
    /// namespace, asked only when the ids do not permit it.
    pub(crate) fn permitted(&self, dev: &NetDevice, rtnl: &Rtnl) -> bool {
        let own = self.ownership();
        let in_group = own.has_group() && cred::in_egroup(own.group);
        own.permits(cred::current_euid(), in_group) || dev.admin_capable(rtnl)
    }

    /// Returns the device's kind.
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// Returns the stored flags.
    pub(crate) fn flags(&self) -> u16 {
        self.flags.load(Ordering::Relaxed)
    }

    /// Takes the flags of a new `TUNSETIFF` on an existing device; RTNL serialises writers.
    pub(crate) fn set_flags(&self, req: &SetIff, _rtnl: &mut Rtnl) {
        self.flags.store(req.dev_flags, Ordering::Relaxed);
        self.hdr_read.store(req.hdr_read, Ordering::Relaxed);
    }

    /// Returns whether a virtio-net header precedes each read packet.
    pub(crate) fn hdr_on_read(&self) -> bool {
        self.hdr_read.load(Ordering::Relaxed)
    }

    /// Returns the virtio-net header size.
    pub(crate) fn vnet_hdr_sz(&self) -> u32 {
        self.vnet_hdr_sz.load(Ordering::Relaxed)
    }

    /// Sets the virtio-net header size (`TUNSETVNETHDRSZ`); below 10 is `EINVAL`.
    pub(crate) fn set_vnet_hdr_sz(&self, sz: i32, _rtnl: &mut Rtnl) -> Result {
        let sz = u32::try_from(sz).map_err(|_| from_errno(EINVAL))?;
        if sz < VIRTIO_NET_HDR_LEN as u32 {
            return Err(from_errno(EINVAL));
        }
        self.vnet_hdr_sz.store(sz, Ordering::Relaxed);
        Ok(())
    }

    /// Returns whether the header is little endian by `TUNSETVNETLE`.
    pub(crate) fn vnet_le(&self) -> bool {
        self.vnet_le.load(Ordering::Relaxed)
    }

    /// Sets `TUNSETVNETLE`.
    pub(crate) fn set_vnet_le(&self, on: bool, rtnl: &mut Rtnl) {
        self.vnet_le.store(on, Ordering::Relaxed);
        self.update_byte_order(rtnl);
    }

    /// Returns whether the header is big endian by `TUNSETVNETBE`.
    pub(crate) fn vnet_be(&self) -> bool {
        self.vnet_be.load(Ordering::Relaxed)
    }

    /// Sets `TUNSETVNETBE`; only kernels with cross-endian support allow it, as in C.
    pub(crate) fn set_vnet_be(&self, on: bool, rtnl: &mut Rtnl) -> Result {
        if !CROSS_ENDIAN {
            return Err(from_errno(EINVAL));
        }
        self.vnet_be.store(on, Ordering::Relaxed);
        self.update_byte_order(rtnl);
        Ok(())
    }

    /// Recomputes the byte order after `TUNSETVNETLE` or `TUNSETVNETBE`.
    fn update_byte_order(&self, _rtnl: &mut Rtnl) {
        let order = ByteOrder::from_tun_flags(self.vnet_le(), CROSS_ENDIAN && self.vnet_be());
        self.big_endian.store(order.is_big(), Ordering::Relaxed);
    }

    /// Returns the byte order of the virtio-net header fields.
    pub(crate) fn byte_order(&self) -> ByteOrder {
        ByteOrder::from_big(self.big_endian.load(Ordering::Relaxed))
    }

    /// Counts a packet dropped or refused for `reason`, in its own counter
    /// and in the C counter it belongs to.
    ///
    /// This is the one place either is bumped, so they cannot disagree:
    /// `rx_dropped` and `tx_dropped` are the core's, bumped here;
    /// `rx_frame_errors` is the sum of its reasons (`ndo_get_stats64`).
    pub(crate) fn count_drop(&self, dev: &NetDevice, reason: DropReason) {
        self.drops.bump(reason);
        match reason.counter() {
            Counter::RxDropped => dev.rx_dropped_inc(),
            Counter::TxDropped => dev.tx_dropped_inc(),
            Counter::RxFrameErrors | Counter::None => {}
        }
    }

    /// Returns whether a queue is active (C's `numqueues != 0`).
    pub(crate) fn has_file(&self, _rtnl: &Rtnl) -> bool {
        self.active() != 0
    }

    /// Returns whether the device has one queue per file (`IFF_MULTI_QUEUE`).
    pub(crate) fn multi_queue(&self) -> bool {
        self.flags() & IFF_MULTI_QUEUE != 0
    }

    /// Returns whether the device has `IFF_NAPI`, which a queue re-attached
    /// with `TUNSETQUEUE` would get if it had none (it keeps its own).
    pub(crate) fn napi(&self) -> bool {
        self.flags() & IFF_NAPI != 0
    }

    /// Returns whether the device has `IFF_NAPI_FRAGS`, as [`Self::napi`].
    pub(crate) fn napi_frags(&self) -> bool {
        self.flags() & IFF_NAPI_FRAGS != 0
    }

    /// Returns the device's XDP program slot (a TAP's only: `ndo_bpf`).
    pub(crate) fn xdp(&self) -> &XdpSlot {
        &self.xdp
    }

    /// Returns the number of active queues, read once.
    pub(crate) fn active(&self) -> u32 {
        self.numqueues.load(Ordering::Relaxed)
    }

    /// Returns how many files the device has, active and detached.
    pub(crate) fn count(&self, _rtnl: &Rtnl) -> QueueCount {
        QueueCount {
            active: self.active(),
            detached: self.numdisabled.load(Ordering::Relaxed),
        }
    }

    /// Returns the active queues' files, to a thread that holds RTNL.
    pub(crate) fn active_files<'a>(&'a self, rtnl: &'a Rtnl) -> impl Iterator<Item = &'a TunFile> {
        (0..self.active() as usize).filter_map(move |i| self.queues.get(i, rtnl))
    }

    /// Returns the detached queues' files, to a thread that holds RTNL.
    fn detached_files<'a>(&'a self, rtnl: &'a Rtnl) -> impl Iterator<Item = &'a TunFile> {
        (0..self.disabled.len()).filter_map(move |i| self.disabled.get(i, rtnl))
    }

    /// Tells the core how many queues are active (`tun_set_real_num_queues()`).
    fn set_real_queues(&self, dev: &NetDevice, rtnl: &mut Rtnl) {
        if let Some(n) = mq::real_queues(self.active()) {
            dev.set_real_queues(n, rtnl);
        }
    }

    /// The end of `tun_attach()`: `file` becomes the active queue at index
    /// `numqueues`, taken off the detached list if it was there (its NAPI
    /// context enabled again), else with a NAPI context if `napi` (its
    /// writes built in frags if `frags`); the caller has done
    /// `tun_attach()`'s checks.
    pub(crate) fn attach(
        &self,
        dev: &NetDevice,
        file: Arc<TunFile>,
        napi: bool,
        frags: bool,
        rtnl: &mut Rtnl,
    ) -> Result {
        let index = self.active();
        let index16 = u16::try_from(index).map_err(|_| from_errno(EINVAL))?;
        if self.queues.get(index as usize, rtnl).is_some() {
            return Err(from_errno(EINVAL));
        }
        file.set_queue_index(index16);
        if TUN_ABI.force_wakes_queue() {
            // Linux 7.x's tun_attach(): tun_force_wake_queue().
            file.force_wake(dev, false);
        }
        if file.is_detached() {
            // tun_enable_queue(), tun_napi_enable().
            if let Some(i) = self.disabled.position(&file, rtnl) {
                drop(self.disabled.take(i, rtnl));
                self.numdisabled.fetch_sub(1, Ordering::Relaxed);
            }
            file.set_detached(false);
            file.sock().napi_enable(rtnl);
            file.sock().xdp_rxq_set_index(index16, rtnl);
        } else {
            file.sock().xdp_rxq_reg(dev, index16, rtnl)?;
            file.sock().napi_init(dev, napi, frags, rtnl);
        }
        if self.xdp.is_set() {
            file.sock().set_xdp(true, rtnl);
        }
        // The slot is empty (checked above), so this cannot fail.
        self.queues
            .publish(index as usize, file, rtnl)
            .map_err(|_| from_errno(EINVAL))?;
        self.numqueues.store(index + 1, Ordering::Relaxed);
        self.set_real_queues(dev, rtnl);
        Ok(())
    }

    /// `__tun_detach()` of the active queue of `file`: the last active
    /// queue moves into its index, its flows are forgotten (C's own
    /// quirk: by an index one past the last) and its packets freed; it
    /// goes on the detached list unless the file is closing (`clean`).
    /// Returns the device's reference to the file.
    pub(crate) fn remove_queue(
        &self,
        dev: &NetDevice,
        file: &TunFile,
        clean: bool,
        rtnl: &mut Rtnl,
    ) -> Option<Arc<TunFile>> {
        let index = usize::from(file.queue_index());
        if !self
            .queues
            .get(index, rtnl)
            .is_some_and(|f| core::ptr::eq(f, file))
        {
            return None;
        }
        let last = self.active().checked_sub(1)?;
        if clean {
            // tun_napi_disable() and tun_napi_del() of a closing file.
            file.sock().napi_disable(rtnl);
            file.sock().napi_del(rtnl);
        }
        // Linux 7.x moves the slots under the consumer locks, which a
        // reader's backpressure owner check takes.
        let mv = file.with_consumer_lock(|| self.queues.begin_move(last as usize, index, rtnl));
        if let Some(moved) = mv.moved() {
            moved.with_consumer_lock(|| moved.set_queue_index(index as u16));
            moved.reset_backpressure();
        }
        let retired = mv.finish()?;
        if let Some(moved) = self.queues.get(index, rtnl) {
            moved.sock().xdp_rxq_set_index(index as u16, rtnl);
        }
        self.numqueues.store(last, Ordering::Relaxed);
        let this = if clean {
            // The file forgets the device in the same grace period.
            file.leave(retired, rtnl)
        } else {
            file.sock().napi_disable(rtnl);
            retired.wait()
        };
        if !clean {
            // tun_disable_queue().
            this.set_detached(true);
            if let Some(i) = self.disabled.first_empty(rtnl) {
                if self.disabled.publish(i, this.clone(), rtnl).is_ok() {
                    self.numdisabled.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        self.flows.delete_by_queue(mq::flow_delete_index(last));
        file.purge();
        if clean {
            file.sock().xdp_rxq_unreg(rtnl);
        }
        if TUN_ABI.force_wakes_queue() {
            if let Some(moved) = self.queues.get(index, rtnl) {
                moved.force_wake(dev, true);
            }
        }
        self.set_real_queues(dev, rtnl);
        Some(this)
    }

    /// Takes the detached `file` off the list as it closes (the
    /// `tfile->detached` branch of `__tun_detach()`).
    pub(crate) fn remove_detached(&self, file: &TunFile, rtnl: &mut Rtnl) -> Option<Arc<TunFile>> {
        let i = self.disabled.position(file, rtnl)?;
        file.sock().napi_del(rtnl);
        let retired = self.disabled.take(i, rtnl)?;
        let this = file.leave(retired, rtnl);
        self.numdisabled.fetch_sub(1, Ordering::Relaxed);
        this.set_detached(false);
        file.sock().xdp_rxq_unreg(rtnl);
        Some(this)
    }

    /// `tun_detach_all()`: the device goes away under its files, active
    /// and detached; each forgets it and wakes its readers.
    ///
    /// One grace period for all the files, as C's one `synchronize_net()`
    /// (one per file held RTNL for 256 of them when a device with 256
    /// queues went away).
    fn detach_all(&self, rtnl: &mut Rtnl) {
        let n = self.active();
        self.numqueues.store(0, Ordering::Relaxed);
        let mut batch = TakeBatch::new();
        // Each file's device reference and the device's reference to it
        // are unpublished in the loops and released by `finish()`; a file
        // the batch had no room for comes back at once.
        let after = |file: Arc<TunFile>, rtnl: &mut Rtnl| {
            file.gone();
            file.sock().xdp_rxq_unreg(rtnl);
        };
        for i in 0..n as usize {
            if let Some(retired) = self.queues.take(i, rtnl) {
                let file = retired.clone_arc();
                file.sock().napi_disable(rtnl);
                file.sock().napi_del(rtnl);
                if let Some(file) = file.leave_into(retired, &mut batch, rtnl) {
                    after(file, rtnl);
                }
            }
        }
        for i in 0..self.disabled.len() {
            if let Some(retired) = self.disabled.take(i, rtnl) {
                let file = retired.clone_arc();
                file.sock().napi_del(rtnl);
                file.set_detached(false);
                if let Some(file) = file.leave_into(retired, &mut batch, rtnl) {
                    after(file, rtnl);
                }
            }
        }
        batch.finish(|file| after(file, rtnl));
        self.numdisabled.store(0, Ordering::Relaxed);
    }

    /// `TUNSETSNDBUF`: every active queue's send buffer (C's
    /// `tun_set_sndbuf()`; detached queues keep theirs).
    pub(crate) fn set_sndbuf(&self, sndbuf: i32, rtnl: &Rtnl) {
        for file in self.active_files(rtnl) {
            file.set_sndbuf(sndbuf);
        }
    }

    /// `tun_select_queue()`: the steering program's choice
    /// (`tun_ebpf_select_queue()`), else the flow table's
    /// (`tun_automq_select_queue()`).
    fn select_queue(&self, skb: &Skb, rcu: &RcuRead) -> u16 {
        let active = self.active();
        if self.steering.is_set() {
            if active == 0 {
                return 0;
            }
            let ret = self.steering.run(skb, rcu).unwrap_or(0);
            return mq::ebpf_queue(ret, active);
        }
        let hash = skb.hash_symmetric();
        mq::automq_queue(hash, self.flows.find(hash, rcu), active)
    }

    /// `TUNSETSTEERINGEBPF`: sets or (`fd` -1) clears the steering program.
    pub(crate) fn set_steering(&self, fd: i32, rtnl: &mut Rtnl) -> Result {
        self.steering.set(fd, rtnl)
    }

    /// `TUNSETFILTEREBPF`: sets or (`fd` -1) clears the transmit filter.
    pub(crate) fn set_filter(&self, fd: i32, rtnl: &mut Rtnl) -> Result {
        self.filter.set(fd, rtnl)
    }

    /// `run_ebpf_filter()` and the trim that follows in `tun_net_xmit()`:
    /// the reason to drop `skb`, if any.
    fn ebpf_filter(&self, skb: &mut Skb, rcu: &RcuRead) -> Option<DropReason> {
        let len = self.filter.run(skb, rcu)?;
        if len == 0 {
            Some(DropReason::TxDropEbpfFilter)
        } else if !skb.trim(len) {
            Some(DropReason::TxDropTrimFailed)
        } else {
            None
        }
    }

    /// Returns the flow hash of a packet written on the active queue
    /// `queue` (`None`: a detached one), if `tun_get_user()` would learn
    /// its flow: then, and only then, C computes the hash; a hash of 0 is
    /// not learnt.
    pub(crate) fn flow_to_learn(&self, queue: Option<u16>, skb: &Skb) -> Option<(u32, u16)> {
        // C's rcu_access_pointer(): whether a program is set, not its use.
        let steering = self.steering.is_set();
        let q = queue.filter(|_| mq::learns_flow(steering, self.active(), false))?;
        let hash = skb.hash_symmetric();
        (hash != 0).then_some((hash, q))
    }

    /// `tun_automq_xmit()`: with one active queue the core does not ask
    /// for a queue, so the transmit path notes the flow's hash for RPS
    /// itself, if the flow is remembered.
    fn automq_xmit(&self, skb: &Skb, rcu: &RcuRead) {
        if !self.steering.is_set() && self.active() == 1 && FlowTable::rps_needed() {
            let _ = self.flows.find(skb.hash_symmetric(), rcu);
        }
    }

    /// Records that the flow `hash` was written on queue `queue`
    /// (`tun_flow_update()`), once the packet is delivered.
    pub(crate) fn learn_flow(&self, (hash, queue): (u32, u16)) {
        self.flows.update(hash, queue);
    }

    /// Returns what a read by `file` gives the shim for `IFF_BACKPRESSURE`.
    pub(crate) fn bp_owner<'a>(
        &'a self,
        dev: &'a NetDevice,
        file: &'a TunFile,
    ) -> Option<BpOwner<'a>> {
        self.backpressure()
            .then(|| BpOwner::new(dev, &self.queues, file.index_cell(), file))
    }

    /// Sets the user features the reader allowed; the caller then updates the device.
    pub(crate) fn set_allowed_features(&self, features: u64, rtnl: &mut Rtnl) {
        *self.allowed_features.borrow_mut(rtnl) = features;
    }
}

impl NetDevOps for RtunDev {
    fn newlink_error() -> Error {
        // Devices are made through `/dev/net/rtun`, as C's `tun_validate()`
        // says with its extack message.
        from_errno(EOPNOTSUPP)
    }

    fn uninit(_dev: &NetDevice, data: &Self, rtnl: &mut Rtnl) {
        // The device goes away under its files (`ip link del`, module
        // unload): blocked readers fail with EFAULT, as in C, and the files
        // report EBADFD from now on.
        data.detach_all(rtnl);
        // A persistent device gives back its module reference as it goes,
        // as C's tun_detach_all() does.
        drop(data.persist.borrow_mut(rtnl).take());
        data.persist_flag.store(false, Ordering::Relaxed);
    }

    fn open(dev: &NetDevice, _data: &Self) -> Result {
        dev.tx_start();
        Ok(())
    }

    fn stop(dev: &NetDevice, data: &Self, rtnl: &Rtnl) -> Result {
        // Linux 7.x's `tun_net_close()` first forgets what readers counted
        // towards a backpressure wake, under the ring locks, so that the
        // stop below is the last word.
        if TUN_ABI.has_backpressure() {
            for file in data.active_files(rtnl) {
                file.reset_backpressure();
            }
        }
        dev.tx_stop();
        Ok(())
    }

    fn start_xmit(dev: &NetDevice, data: &Self, mut skb: Skb, rcu: &RcuRead) -> bool {
        // As `tun_net_xmit()`: no file, the MAC filter, the queue's socket
        // filter, the BPF filter (or
        // no memory to trim to its length), frags that cannot be made
        // private, or a full queue drop the packet, count it in
        // `tx_dropped`, and tell the sender (`NET_XMIT_DROP`).
        let txq = skb.queue_mapping();
        let Some(file) = data.queues.get_rcu(usize::from(txq), rcu) else {
            data.count_drop(dev, DropReason::TxDropNoReader);
            return false;
        };
        data.automq_xmit(&skb, rcu);
        let len = skb.len();
        data.log(dev, NETIF_MSG_TX_QUEUED, format_args!("tun_net_xmit {len}"));
        let refused = if !data.tx_filter_accepts(&skb) {
            Some(DropReason::TxDropTxFilter)
        } else if file.sock().filter_drops(&mut skb, rcu) {
            Some(DropReason::TxDropSocketFilter)
        } else {
            data.ebpf_filter(&mut skb, rcu)
        };
        let reason = match refused {
            Some(reason) => reason,
            None if !skb.tx_prepare() => DropReason::TxDropOrphanFrags,
            None => {
                let backpressure = data.backpressure();
                if file.queue_packet(skb, dev, txq, backpressure) {
                    return true;
                }
                if backpressure {
                    DropReason::TxDropRingFullBackpressure
                } else {
                    DropReason::TxDropRingFull
                }
            }
        };
        data.count_drop(dev, reason);
        false
    }

    fn xdp_setup(_dev: &NetDevice, data: &Self, prog: XdpProg, rtnl: &mut Rtnl) {
        // tun_xdp_set(): every file, active or detached, tells vhost-net
        // whether to leave XDP headroom (SOCK_XDP).
        let on = prog.is_some();
        data.xdp.replace(prog, rtnl);
        for file in data.active_files(rtnl).chain(data.detached_files(rtnl)) {
            file.sock().set_xdp(on, rtnl);
        }
    }

    fn xdp_xmit(
        dev: &NetDevice,
        data: &Self,
        frames: &XdpFrames<'_>,
        flush: bool,
        rcu: &RcuRead,
    ) -> Result<i32> {
        // tun_xdp_xmit(): the queue of this CPU among the active ones, read
        // again if a detach emptied its slot meanwhile.
        let file = loop {
            let n = data.active();
            if n == 0 {
                return Err(from_errno(ENXIO));
            }
            let index = frames.cpu() % n;
            if let Some(file) = data.queues.get_rcu(index as usize, rcu) {
                break file;
            }
        };
        let queued = file.queue_frames(frames);
        if queued < frames.count() {
            data.count_drop(dev, DropReason::TxDropXdpRingFull);
        }
        if flush {
            file.xdp_flush();
        }
        Ok(queued)
    }

    fn fix_features(_dev: &NetDevice, data: &Self, wanted: u64, rtnl: &Rtnl) -> u64 {
        features::fix_features(TUN_ABI, wanted, *data.allowed_features.borrow(rtnl))
    }

    fn rx_frame_errors(data: &Self) -> u64 {
        data.drops.sum(Counter::RxFrameErrors)
    }

    const STATS_NAMES: &'static [&'static str] = &drops::NAMES;

    fn stats(data: &Self, out: &mut [u64]) {
        data.drops.snapshot(out);
    }

    fn change_carrier(dev: &NetDevice, data: &Self, on: bool, rtnl: &Rtnl) -> Result {
        data.change_carrier(dev, on, rtnl)
    }

    fn msglevel(data: &Self) -> u32 {
        data.msg_enable.load(Ordering::Relaxed)
    }

    fn set_msglevel(data: &Self, level: u32) {
        data.set_msg_enable(level);
    }

    fn link_info(data: &Self) -> LinkInfo {
        let own = data.ownership();
        LinkInfo {
            flags: data.tun_flags(),
            owner: own.has_owner().then_some(own.owner),
            group: own.has_group().then_some(own.group),
            queues: (data.active(), data.numdisabled.load(Ordering::Relaxed)),
        }
    }

    fn rx_batched(data: &Self) -> u32 {
        data.rx_batched.load(Ordering::Relaxed)
    }

    fn set_rx_batched(data: &Self, rx_frames: u32) {
        data.rx_batched
            .store(ctl::rx_batched(rx_frames), Ordering::Relaxed);
    }

    fn queues(data: &Self, _rtnl: &Rtnl) -> u32 {
        data.active()
    }

    fn select_queue(_dev: &NetDevice, data: &Self, skb: &Skb, rcu: &RcuRead) -> u16 {
        data.select_queue(skb, rcu)
    }

    fn up(_dev: &NetDevice, data: &Self, rtnl: &Rtnl) {
        // As tun_device_event(): a poller that found no room while the
        // device was down is woken (the callback checks for room).
        for file in data.active_files(rtnl) {
            file.write_space();
        }
    }

    fn tx_queue_len_changed(dev: &NetDevice, data: &Self, rtnl: &Rtnl) -> Result {
        // C resizes every file's ring, active or detached, keeping the
        // oldest packets and freeing the rest without counting them
        // (tun_queue_resize()); if that fails, the core puts the old
        // length back.
        let len = dev.tx_queue_len();
        for file in data.active_files(rtnl).chain(data.detached_files(rtnl)) {
            file.resize_queue(len, rtnl)?;
        }
        // Linux 7.x then wakes every active queue (tun_force_wake_queue()).
        if TUN_ABI.force_wakes_queue() {
            for file in data.active_files(rtnl) {
                file.force_wake(dev, false);
            }
        }
        Ok(())
    }
}
