// SPDX-License-Identifier: GPL-2.0

//! Per-file state of `/dev/net/rtun` and its ioctls.

use super::device::{self, RtunDev};
use super::{read, write};
use crate::abstractions::compat::{self, ARef, TUN_ABI};
use crate::abstractions::cred;
use crate::abstractions::error::from_errno;
use crate::abstractions::file::{File, FileOps, IovIter, PollTable};
use crate::abstractions::netdev::{self, DevSlot, NetDevice, RtunNetDev, TakeBatch};
use crate::abstractions::netns::NetNs;
use crate::abstractions::param;
use crate::abstractions::queue::SkbQueue;
use crate::abstractions::rcu::Retired;
use crate::abstractions::rtnl::Rtnl;
use crate::abstractions::skb::Skb;
use crate::abstractions::sock::Sock;
use crate::abstractions::uaccess::UserArg;
use crate::abstractions::xdp::XdpFrames;
use crate::pure::ctl;
use crate::pure::errno::{EBADFD, EEXIST, EINVAL, ENXIO, EPERM};
use crate::pure::features;
use crate::pure::iff::{self, Abi, IffError, Kind, Names, SetIff};
use crate::pure::mq::{self, FileQueue, QueueOp};
use crate::pure::txfilter;
use crate::pure::uapi::{self, IfReq, SockFprog, IFNAMSIZ, IFREQ_SIZE};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use kernel::error::{Error, Result};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};

/// `EBADFD`: the file is not attached to a device.
fn ebadfd() -> Error {
    from_errno(EBADFD)
}

/// The flag ABI `TUNSETIFF` speaks, set once at module load (0: upstream, 1: 2008).
static ABI: AtomicU8 = AtomicU8::new(0);

/// Sets the flag ABI for every file; called once from module init.
pub(crate) fn set_abi(abi: Abi) {
    ABI.store(u8::from(abi == Abi::Rfc2008), Ordering::Relaxed);
}

/// Returns whose names the module uses: the read-only `dropin` parameter.
fn names() -> Names {
    if param::dropin() {
        Names::Tun
    } else {
        Names::Rtun
    }
}

/// Returns the flag ABI `TUNSETIFF` speaks.
fn abi() -> Abi {
    if ABI.load(Ordering::Relaxed) == 0 {
        Abi::Upstream
    } else {
        Abi::Rfc2008
    }
}

/// `EPOLLIN`.
const EPOLLIN: u32 = 0x1;
/// `EPOLLRDNORM`.
const EPOLLRDNORM: u32 = 0x40;
/// `EPOLLOUT`.
const EPOLLOUT: u32 = 0x4;
/// `EPOLLWRNORM`.
const EPOLLWRNORM: u32 = 0x100;
/// `EPOLLERR`.
const EPOLLERR: u32 = 0x8;

/// Maps a flag-logic error to the kernel error C would return.
fn iff_error(e: IffError) -> Error {
    from_errno(e.errno())
}

/// The state of one open `/dev/net/rtun` file.
#[pin_data]
pub(crate) struct TunFile {
    /// The network namespace of the opener, where devices are created.
    net: NetNs,
    /// The attached device; the device holds a reference back to this file.
    ///
    /// Changed only with RTNL held; the data path takes a counted reference
    /// without a lock, as C's `tun_get()` does under RCU.
    dev: DevSlot<RtunDev>,
    /// Packets the device transmitted, for `read()`; C's `tfile->tx_ring`.
    #[pin]
    queue: SkbQueue,
    /// Set when the device went away under the file (C's `RCV_SHUTDOWN`).
    shut_down: AtomicBool,
    /// The file's socket (C's `tfile->sk`): the send buffer writes are
    /// charged against, `TUNSETSNDBUF`/`TUNGETSNDBUF`.
    sock: Sock,
    /// `TUNSETIFINDEX`, the interface index of the next device this file
    /// creates (0: the core chooses), and the file's queue index in its
    /// low 16 bits: one word, as C's `union { u16 queue_index; unsigned int
    /// ifindex; }` (see [`mq::ifindex_with_queue`]). Written under RTNL.
    index: AtomicU32,
    /// Whether the file's queue is detached (`TUNSETQUEUE`); it keeps its
    /// device (C's `tfile->detached`). Written under RTNL.
    detached: AtomicBool,
}

impl TunFile {
    /// Forgets the device, which is being unregistered with all its files:
    /// `batch` releases it and `retired` (the device's reference to this
    /// file) after one grace period for them all; [`TunFile::gone`]
    /// follows then.
    ///
    /// Returns `retired` if it was released at once (the batch had no
    /// room); [`TunFile::gone`] is then the caller's next step.
    pub(crate) fn leave_into(
        &self,
        retired: Retired<TunFile>,
        batch: &mut TakeBatch<RtunDev, TunFile>,
        rtnl: &mut Rtnl,
    ) -> Option<Arc<TunFile>> {
        self.dev.take_into(retired, batch, rtnl)
    }

    /// What follows [`TunFile::leave_into`] once the device is forgotten:
    /// readers fail from now on, what is queued is freed, the blocked ones
    /// are woken.
    pub(crate) fn gone(&self) {
        self.shut_down.store(true, Ordering::Release);
        self.purge();
        self.queue.wake_all();
    }

    /// Leaves the device: forgets it and releases the device's reference
    /// to this file (`retired`), after one grace period for both.
    pub(crate) fn leave(&self, retired: Retired<TunFile>, rtnl: &mut Rtnl) -> Arc<TunFile> {
        let (dev, this) = self.dev.take_with(retired, rtnl);
        drop(dev);
        this
    }

    /// Queues a packet transmitted on the device's queue `txq` for
    /// `read()` unless the queue is full.
    ///
    /// Called from `ndo_start_xmit`; returns false if the packet was dropped.
    ///
    /// `backpressure`: the device has `IFF_BACKPRESSURE`.
    #[inline(always)]
    pub(crate) fn queue_packet(
        &self,
        skb: Skb,
        dev: &NetDevice,
        txq: u16,
        backpressure: bool,
    ) -> bool {
        match self.queue.push(skb, dev, txq, backpressure) {
            Ok(()) => {
                // C's tun_net_xmit(): SIGIO to an O_ASYNC file's owner.
                self.sock.signal_readable();
                true
            }
            Err(skb) => {
                drop(skb);
                false
            }
        }
    }

    /// Queues what fits of the frames another device (or this one's
    /// `XDP_TX`) sends (`tun_xdp_xmit()`); returns how many were queued.
    pub(crate) fn queue_frames(&self, frames: &XdpFrames<'_>) -> i32 {
        self.queue.push_frames(frames)
    }

    /// The end of an XDP batch (`__tun_xdp_flush_tfile()`): wakes the
    /// reader and signals an `O_ASYNC` file's owner.
    pub(crate) fn xdp_flush(&self) {
        self.sock.signal_readable();
        self.queue.wake();
    }

    /// Makes the queue hold `size` packets, keeping the oldest (C's
    /// `tun_queue_resize()`); `ENOMEM` leaves it as it was.
    pub(crate) fn resize_queue(&self, size: u32, _rtnl: &Rtnl) -> Result {
        self.queue.resize(size)
    }

    /// Returns whether the file's queue is detached.
    pub(crate) fn is_detached(&self) -> bool {
        self.detached.load(Ordering::Relaxed)
    }

    /// Marks the file's queue detached or not (RTNL held by the caller).
    pub(crate) fn set_detached(&self, on: bool) {
        self.detached.store(on, Ordering::Relaxed);
    }

    /// Returns the file's queue index.
    pub(crate) fn queue_index(&self) -> u16 {
        mq::queue_of(self.index.load(Ordering::Relaxed))
    }

    /// Gives the file the queue index `index` (RTNL held by the caller),
    /// which rewrites the low half of its `TUNSETIFINDEX` value, as in C.
    pub(crate) fn set_queue_index(&self, index: u16) {
        let word = self.index.load(Ordering::Relaxed);
        self.index
            .store(mq::ifindex_with_queue(word, index), Ordering::Relaxed);
    }

    /// Returns the word that holds the queue index, for the shim's
    /// backpressure owner check.
    pub(crate) fn index_cell(&self) -> &AtomicU32 {
        &self.index
    }

    /// Wakes the device's transmit queue of this file (see
    /// [`SkbQueue::force_wake`]).
    pub(crate) fn force_wake(&self, dev: &NetDevice, if_empty: bool) {
        self.queue.force_wake(dev, self.queue_index(), if_empty);
    }

    /// Runs `f` under the queue's consumer lock (see
    /// [`SkbQueue::with_consumer_lock`]).
    pub(crate) fn with_consumer_lock<R>(&self, f: impl FnOnce() -> R) -> R {
        self.queue.with_consumer_lock(f)
    }

    /// Frees the queued packets, and the `IFF_NAPI` writes not yet
    /// polled (`tun_queue_purge()`).
    pub(crate) fn purge(&self) {
        self.queue.purge();
        self.sock.purge();
    }

    /// Returns the file's socket.
    pub(crate) fn sock(&self) -> &Sock {
        &self.sock
    }

    /// Returns the flag that says the file's queue is detached, for the
    /// shim to read under the `IFF_NAPI` queue's lock.
    pub(crate) fn detached_flag(&self) -> &AtomicBool {
        &self.detached
    }

    /// Sets the send buffer (`TUNSETSNDBUF` on any queue of the device).
    pub(crate) fn set_sndbuf(&self, sndbuf: i32) {
        self.sock.set_sndbuf(sndbuf);
    }

    /// Forgets the packets read towards a backpressure wake (`tun_net_close()`).
    pub(crate) fn reset_backpressure(&self) {
        self.queue.reset_consumed();
    }

    /// Runs the socket's write-space callback (the device came up).
    pub(crate) fn write_space(&self) {
        self.sock.write_space();
    }

    /// Returns a counted reference to the attached device.
    fn device(&self) -> Option<RtunNetDev<RtunDev>> {
        self.dev.get()
    }

    /// `TUNSETIFF`: creates a device, or attaches to an existing one, and
    /// writes its name back into `req`.
    fn set_iff(this: ArcBorrow<'_, Self>, rtnl: &mut Rtnl, req: &mut IfReq) -> Result {
        if this.dev.is_set(rtnl) {
            return Err(from_errno(EEXIST));
        }
        let want = SetIff::parse_for(req.flags(), abi(), TUN_ABI).map_err(iff_error)?;
        want.check_napi_frags(cred::capable_net_admin())
            .map_err(iff_error)?;
        let name = req.name_buf();
        let existing = NetDevice::get_by_name(&this.net, &name, rtnl).map(ARef::from);
        let dev = match existing {
            Some(dev) => {
                // tun_set_iff()'s order: IFF_TUN_EXCL, the kind,
                // IFF_MULTI_QUEUE, then tun_permitted(), then tun_attach().
                let kind = dev.data::<RtunDev>().map(|d| (d.kind(), d.multi_queue()));
                let want = want.for_existing(kind).map_err(iff_error)?;
                let dev = RtunNetDev::<RtunDev>::new(dev).ok_or_else(|| from_errno(EINVAL))?;
                let data = dev.data().ok_or_else(|| from_errno(EINVAL))?;
                if !data.permitted(&dev, rtnl) {
                    return Err(iff_error(IffError::NotPermitted));
                }
                iff::check_attach(data.multi_queue(), data.count(rtnl), false)
                    .map_err(iff_error)?;
                // The device's classic filter, unless the caller asked for
                // none (IFF_NOFILTER, the bit of IFF_NO_PI).
                let skip = req.flags() & uapi::IFF_NOFILTER != 0;
                data.filter_new_queue(&this.sock, skip, rtnl)?;
                // The queue holds `tx_queue_len` packets, sized before the
                // device can transmit to this file, as C's `tun_attach()`.
                this.queue.resize(dev.tx_queue_len())?;
                data.attach(&dev, this.into(), want.napi, want.napi_frags, rtnl)?;
                if !want.sets_up_existing(data.count(rtnl).files()) {
                    // Another queue of a multiqueue device: flags, carrier
                    // and the name the caller gave stay as they are.
                    this.publish(dev, rtnl);
                    return Ok(());
                }
                data.set_flags(&want, rtnl);
                dev.state_change(rtnl);
                dev
            }
            None => {
                if !this.net.admin_capable() {
                    return Err(from_errno(EPERM));
                }
                let want = want.for_new().map_err(iff_error)?;
                let name = if req.name().is_empty() {
                    let mut buf = [0u8; IFNAMSIZ];
                    let tmpl = want.kind.default_name(names());
                    buf[..tmpl.len()].copy_from_slice(tmpl);
                    buf
                } else {
                    name
                };
                let mut cfg = device::config(&want);
                // C's `dev->ifindex = tfile->ifindex`, an unsigned int.
                cfg.ifindex = this.index.load(Ordering::Relaxed) as i32;
                this.queue.resize(cfg.tx_queue_len)?;
                let state = RtunDev::new(&want)?;
                let reg = netdev::register(rtnl, &this.net, &name, &cfg, state);
                let errno = reg.as_ref().err().map(|e| e.to_errno().saturating_neg());
                if ctl::setiff_attached(false, errno) && reg.is_err() {
                    // `ndo_init` attached the file at queue 0 before the
                    // core found the interface index in use.
                    this.set_queue_index(0);
                }
                let dev = reg?;
                let data = dev.data().ok_or_else(|| from_errno(EINVAL))?;
                data.registered(&dev);
                data.attach(&dev, this.into(), want.napi, want.napi_frags, rtnl)?;
                dev
            }
        };
        dev.set_carrier(want.carrier);
        if let Some(data) = dev.data() {
            if TUN_ABI.force_wakes_queue() {
                // Linux 7.x's `tun_set_iff()`: `tun_force_wake_queue()` for
                // every active queue.
                for file in data.active_files(rtnl) {
                    file.force_wake(&dev, false);
                }
            } else if dev.is_running() {
                dev.tx_wake();
            }
        }
        req.set_name(&dev.name());
        this.publish(dev, rtnl);
        Ok(())
    }

    /// Publishes `dev` as the file's device, once it is attached.
    fn publish(&self, dev: RtunNetDev<RtunDev>, rtnl: &mut Rtnl) {
        // Nothing was published (checked by the callers), so this does not
        // wait.
        drop(self.dev.replace(Some(dev), rtnl));
        // A file whose device went away may attach again; its readers then
        // sleep again (C's tun_attach() clears RCV_SHUTDOWN).
        self.shut_down.store(false, Ordering::Release);
    }

    /// `TUNSETQUEUE`: detaches the file's queue, keeping its device, or
    /// attaches it again (`tun_set_queue()`).
    fn set_queue(this: ArcBorrow<'_, Self>, rtnl: &mut Rtnl, flags: u16) -> Result {
        let dev = this.device();
        let data = dev.as_ref().and_then(|d| d.data());
        let state = match data {
            None => FileQueue::None,
            Some(_) if this.is_detached() => FileQueue::Detached,
            Some(d) => FileQueue::Active {
                multi_queue: d.multi_queue(),
            },
        };
        let op = mq::set_queue(flags, state).map_err(from_errno)?;
        let (Some(dev), Some(data)) = (dev.as_ref(), data) else {
            return Err(from_errno(EINVAL));
        };
        match op {
            // tun_attach() of a detached queue: the device's classic
            // filter, no E2BIG, no resize.
            QueueOp::Attach => {
                data.filter_new_queue(&this.sock, false, rtnl)?;
                data.attach(dev, this.into(), data.napi(), data.napi_frags(), rtnl)?
            }
            QueueOp::Detach => drop(data.remove_queue(dev, &this, false, rtnl)),
        }
        dev.state_change(rtnl);
        Ok(())
    }

    /// `TUNGETIFF`: the attached device's name and flags.
    fn get_iff(&self, dev: &NetDevice, data: &RtunDev) -> IfReq {
        let mut req = IfReq::zeroed();
        req.set_name(&dev.name());
        req.set_flags(iff::getiff_flags(
            data.tun_flags(),
            self.is_detached(),
            self.sock.has_filter(),
        ));
        req
    }

    /// Detaches from the device, as closing the file does (C's
    /// `tun_detach()`): the file's queue goes, active or detached; with the
    /// device's last file the carrier goes off, and the device is
    /// unregistered unless it is persistent.
    fn detach(&self, rtnl: &mut Rtnl) {
        let Some(dev) = self.device() else {
            return;
        };
        if let Some(data) = dev.data() {
            // Drop the device's reference to this file before a possible
            // unregister, so `ndo_uninit` finds nothing of it; the file
            // forgets the device in the same grace period.
            let this = if self.is_detached() {
                data.remove_detached(self, rtnl)
            } else {
                data.remove_queue(&dev, self, true, rtnl)
            };
            drop(this);
        }
        // Empty already, unless the device had no place for the file.
        drop(self.dev.replace(None, rtnl));
        if let Some(data) = dev.data() {
            if data.count(rtnl).files() == 0 {
                dev.set_carrier(false);
                if !data.is_persistent() {
                    dev.unregister(rtnl);
                    return;
                }
            }
        }
        dev.state_change(rtnl);
    }
}

/// Returns `on` or `off` as C's log lines word a flag.
fn on_off(flag: bool, on: &'static str, off: &'static str) -> &'static str {
    if flag {
        on
    } else {
        off
    }
}

/// Reads the caller's `struct ifreq` from user space (32 bytes from a
/// 32-bit program), the rest zero.
fn read_ifreq(arg: UserArg) -> Result<IfReq> {
    let len = uapi::ifreq_size(arg.is_compat());
    Ok(IfReq::from_bytes(arg.read_prefix::<IFREQ_SIZE>(len)?))
}

/// Writes `req` back as the caller's `struct ifreq` (32 bytes to a 32-bit
/// program).
fn write_ifreq(arg: UserArg, req: &IfReq) -> Result {
    let len = uapi::ifreq_size(arg.is_compat());
    arg.write(req.as_bytes().get(..len).unwrap_or(req.as_bytes()))
}

impl FileOps for TunFile {
    fn open(file: &File) -> Result<Arc<Self>> {
        // Reads and writes honour IOCB_NOWAIT, as in C.
        file.set_nowait();
        let net = NetNs::current().ok_or_else(|| from_errno(ENXIO))?;
        let sock = Sock::new(&net)?;
        let init = try_pin_init!(TunFile {
            net,
            sock,
            index: AtomicU32::new(0),
            detached: AtomicBool::new(false),
            dev: DevSlot::new(),
            queue <- SkbQueue::new(),
            shut_down: AtomicBool::new(false),
        }? Error);
        Arc::pin_init(init, GFP_KERNEL)
    }

    fn release(this: Arc<Self>, _file: &File) {
        let mut rtnl = Rtnl::lock();
        this.detach(&mut rtnl);
        drop(rtnl);
        this.purge();
    }

    fn ioctl(this: ArcBorrow<'_, Self>, _file: &File, cmd: u32, arg: UserArg) -> Result<isize> {
        // __tun_chr_ioctl()'s order: the request is copied in first (EFAULT
        // before anything else), then the ioctls that need no RTNL.
        let mut req = if uapi::copies_ifreq(cmd) {
            read_ifreq(arg)?
        } else {
            IfReq::zeroed()
        };
        match cmd {
            uapi::TUNGETFEATURES => {
                arg.write(&iff::tungetfeatures(TUN_ABI).to_ne_bytes())?;
                return Ok(0);
            }
            uapi::TUNSETQUEUE => {
                Self::set_queue(this, &mut Rtnl::lock(), req.flags())?;
                return Ok(0);
            }
            uapi::SIOCGSKNS => {
                // The namespace the file was opened in (C's sock_net()).
                if !this.net.admin_capable() {
                    return Err(from_errno(EPERM));
                }
                return Ok(this.net.open_fd()? as isize);
            }
            _ => {}
        }

        let mut rtnl = Rtnl::lock();
        if cmd == uapi::TUNSETIFF {
            Self::set_iff(this, &mut rtnl, &mut req)?;
            // As in C, a fault here leaves the device created and attached.
            write_ifreq(arg, &req)?;
            return Ok(0);
        }
        if cmd == uapi::TUNSETIFINDEX {
            ctl::ifindex_settable(this.dev.is_set(&rtnl)).map_err(from_errno)?;
            let ifindex = ctl::ifindex(arg.read_int()?).map_err(from_errno)?;
            // Not negative: the unsigned word C stores.
            this.index.store(ifindex as u32, Ordering::Relaxed);
            return Ok(0);
        }
        let dev = this.device().ok_or_else(ebadfd)?;
        let data = dev.data().ok_or_else(ebadfd)?;
        // The lines C logs with the message level's NETIF_MSG_DRV bit.
        let log = |args: core::fmt::Arguments<'_>| data.log(&dev, uapi::NETIF_MSG_DRV, args);
        log(format_args!("tun_chr_ioctl cmd {cmd}"));
        match cmd {
            uapi::TUNGETIFF => write_ifreq(arg, &this.get_iff(&dev, data))?,
            // Accepted and ignored, as upstream.
            uapi::TUNSETNOCSUM => log(format_args!(
                "ignored: set checksum {}",
                on_off(arg.value() != 0, "disabled", "enabled")
            )),
            uapi::TUNSETPERSIST => {
                if data.set_persist(arg.value(), &mut rtnl) {
                    dev.state_change(&mut rtnl);
                }
                let on = arg.value() != 0;
                log(format_args!(
                    "persist {}",
                    on_off(on, "enabled", "disabled")
                ));
            }
            uapi::TUNSETOWNER => {
                let uid = cred::make_kuid(ctl::id_from_arg(arg.value()));
                let uid = ctl::set_id(uid).map_err(from_errno)?;
                data.set_owner(uid, &mut rtnl);
                dev.state_change(&mut rtnl);
                log(format_args!("owner set to {uid}"));
            }
            uapi::TUNSETGROUP => {
                let gid = cred::make_kgid(ctl::id_from_arg(arg.value()));
                let gid = ctl::set_id(gid).map_err(from_errno)?;
                data.set_group(gid, &mut rtnl);
                dev.state_change(&mut rtnl);
                log(format_args!("group set to {gid}"));
            }
            uapi::TUNSETDEBUG => data.set_msg_enable(arg.value() as u32),
            uapi::TUNSETCARRIER => {
                let on = arg.read_int()? != 0;
                data.change_carrier(&dev, on, &rtnl)?;
            }
            // tun_set_ebpf(): the program's fd, -1 for none.
            uapi::TUNSETSTEERINGEBPF => data.set_steering(arg.read_int()?, &mut rtnl)?,
            uapi::TUNSETFILTEREBPF => data.set_filter(arg.read_int()?, &mut rtnl)?,
            uapi::TUNGETDEVNETNS => {
                // The device's namespace now, which may not be the file's.
                if !dev.admin_capable(&rtnl) {
                    return Err(from_errno(EPERM));
                }
                return Ok(dev.open_net_fd(&rtnl)? as isize);
            }
            uapi::SIOCGIFHWADDR => {
                let mut sa = req.hwaddr();
                // As C, which does not look at the result: the device is
                // registered (RTNL), so its name finds it.
                let _ = dev.get_hwaddr(&mut sa, &rtnl);
                req.set_hwaddr(&sa);
                write_ifreq(arg, &req)?;
            }
            uapi::SIOCSIFHWADDR => {
                if compat::HWADDR_LEN_CHECK && dev.addr_len(&rtnl) > uapi::SOCKADDR_SIZE as u32 {
                    return Err(from_errno(EINVAL));
                }
                dev.set_hwaddr(&req.hwaddr(), &mut rtnl)?;
            }
            uapi::TUNSETTXFILTER => {
                // TAP only; the header, then (memdup_user()) the addresses.
                if data.kind() != Kind::Tap {
                    return Err(from_errno(EINVAL));
                }
                let (flags, count) = txfilter::parse_header(arg.read()?);
                let addrs = if count == 0 {
                    KVec::new()
                } else {
                    arg.read_vec(txfilter::TUN_FILTER_HDR_LEN, txfilter::addrs_len(count))?
                };
                let update = txfilter::update(flags, &addrs);
                data.set_tx_filter(&update, &mut rtnl);
                // The number of exact addresses, a positive return value.
                return Ok(update.ret() as isize);
            }
            // Classic socket filters, TAP only (`tun_attach_filter()`).
            uapi::TUNATTACHFILTER => {
                if data.kind() != Kind::Tap {
                    return Err(from_errno(EINVAL));
                }
                let fprog = SockFprog::from_bytes(arg.read()?);
                data.attach_sock_filter(fprog, &mut rtnl)?;
            }
            uapi::TUNDETACHFILTER => {
                if data.kind() != Kind::Tap {
                    return Err(from_errno(EINVAL));
                }
                data.detach_sock_filter(&mut rtnl);
            }
            uapi::TUNGETFILTER => {
                if data.kind() != Kind::Tap {
                    return Err(from_errno(EINVAL));
                }
                arg.write(data.sock_filter(&rtnl).as_bytes())?;
            }
            uapi::TUNGETSNDBUF => arg.write_int(this.sock.sndbuf())?,
            uapi::TUNSETSNDBUF => {
                let sndbuf = ctl::sndbuf(arg.read_int()?).map_err(from_errno)?;
                data.set_sndbuf(sndbuf, &rtnl);
            }
            uapi::TUNSETLINK => {
                if let Err(e) = ctl::set_link_allowed(dev.is_up(&rtnl)) {
                    log(format_args!("Linktype set failed because interface is up"));
                    return Err(from_errno(e));
                }
                let ty = ctl::link_type_from_arg(arg.value());
                if let Err(e) = dev.set_link_type(ty, ctl::addr_len(ty), &mut rtnl) {
                    log(format_args!("Refused to change device type"));
                    return Err(e);
                }
                log(format_args!("linktype set to {ty}"));
            }
            uapi::TUNGETVNETHDRSZ => {
                arg.write_int(i32::try_from(data.vnet_hdr_sz()).unwrap_or(i32::MAX))?
            }
            uapi::TUNSETVNETHDRSZ => data.set_vnet_hdr_sz(arg.read_int()?, &mut rtnl)?,
            uapi::TUNGETVNETLE => arg.write_int(i32::from(data.vnet_le()))?,
            uapi::TUNSETVNETLE => data.set_vnet_le(arg.read_int()? != 0, &mut rtnl),
            uapi::TUNGETVNETBE => {
                if !device::CROSS_ENDIAN {
                    return Err(from_errno(EINVAL));
                }
                arg.write_int(i32::from(data.vnet_be()))?
            }
            uapi::TUNSETVNETBE => {
                if !device::CROSS_ENDIAN {
                    return Err(from_errno(EINVAL));
                }
                data.set_vnet_be(arg.read_int()? != 0, &mut rtnl)?
            }
            uapi::TUNSETOFFLOAD => {
                // The 2008 interface fixed the features at creation.
                if abi() == Abi::Rfc2008 {
                    return Err(from_errno(EINVAL));
                }
                let allowed = features::offload_features(TUN_ABI, arg.value() as u64)
                    .map_err(|e| from_errno(e.errno()))?;
                data.set_allowed_features(allowed, &mut rtnl);
                let wanted =
                    features::offload_wanted_features(TUN_ABI, dev.wanted_features(&rtnl), allowed);
                dev.set_wanted_features(wanted, &mut rtnl);
                dev.update_features(&mut rtnl);
            }
            _ => return Err(from_errno(EINVAL)),
        }
        Ok(0)
    }

    fn fasync(this: ArcBorrow<'_, Self>, file: &File, fd: i32, on: bool) -> Result {
        this.sock.fasync(file, fd, on)
    }

    fn fdinfo_name(this: ArcBorrow<'_, Self>) -> [u8; IFNAMSIZ] {
        // As tun_chr_show_fdinfo(), under RTNL: the attached device's name.
        let _rtnl = Rtnl::lock();
        this.device().map_or([0; IFNAMSIZ], |dev| dev.name())
    }

    fn poll(this: ArcBorrow<'_, Self>, file: &File, pt: &PollTable<'_>) -> u32 {
        let Some(dev) = this.device() else {
            return EPOLLERR;
        };
        this.queue.poll_wait(file, pt);
        // Writers wait for room in the send buffer on the socket's queue.
        this.sock.poll_wait(file, pt);
        let mut mask = 0;
        if !this.queue.is_empty() {
            mask |= EPOLLIN | EPOLLRDNORM;
        }
        // As tun_chr_poll(): the device up and room in the send buffer.
        if this.sock.poll_out(dev.is_running()) {
            mask |= EPOLLOUT | EPOLLWRNORM;
        }
        mask
    }

    // Inlined into the `read_iter` trampoline: one call less per packet.
    // (Not `write_iter`: inlined, it pushed `write::write()` out of line.)
    #[inline]
    fn read_iter(this: ArcBorrow<'_, Self>, to: &mut IovIter, nonblock: bool) -> Result<usize> {
        let dev = this.device().ok_or_else(ebadfd)?;
        let data = dev.data().ok_or_else(ebadfd)?;
        let shut_down = || this.shut_down.load(Ordering::Acquire);
        let bp = data.bp_owner(&dev, &this);
        read::read(&dev, data, &this.queue, bp, to, nonblock, shut_down)
    }

    fn write_iter(this: ArcBorrow<'_, Self>, from: &mut IovIter, nonblock: bool) -> Result<usize> {
        let dev = this.device().ok_or_else(ebadfd)?;
        let data = dev.data().ok_or_else(ebadfd)?;
        write::write(&dev, data, &this, from, nonblock)
    }
}
