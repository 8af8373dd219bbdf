// SPDX-License-Identifier: GPL-2.0

//! Per-file state of `/dev/net/rtun` and its ioctls.

use crate::device::{self, RtunDev};
use crate::file::{File, FileOps, IovIter};
use crate::iff::{self, IffError, SetIff};
use crate::netdev::{self, NetDevice};
use crate::netns::NetNs;
use crate::rtnl::{Rtnl, RtnlLocked};
use crate::uapi::{self, IfReq, IFNAMSIZ, IFREQ_SIZE};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::bindings;
use kernel::error::code::{EEXIST, EINVAL, ENXIO, EPERM};
use kernel::error::{Error, Result};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};
use kernel::types::ARef;
use kernel::uaccess::UserSlice;

/// `EBADFD`: the file is not attached to a device.
fn ebadfd() -> Error {
    Error::from_errno(-(bindings::EBADFD as i32))
}

/// `EOPNOTSUPP`.
fn eopnotsupp() -> Error {
    Error::from_errno(-(bindings::EOPNOTSUPP as i32))
}

/// Maps a flag-logic error to the kernel error C would return.
fn iff_error(e: IffError) -> Error {
    Error::from_errno(-e.errno())
}

/// The state of one open `/dev/net/rtun` file.
pub(crate) struct TunFile {
    /// The network namespace of the opener, where devices are created.
    net: NetNs,
    /// The attached device; it holds a reference back to this file.
    dev: RtnlLocked<Option<ARef<NetDevice>>>,
    /// Whether `dev` is set, readable without RTNL by the data path.
    attached: AtomicBool,
}

impl TunFile {
    /// Forgets the device, which is being unregistered.
    pub(crate) fn device_gone(&self, rtnl: &mut Rtnl) {
        self.attached.store(false, Ordering::Release);
        let dev = self.dev.borrow_mut(rtnl).take();
        drop(dev);
    }

    /// Returns a counted reference to the attached device.
    fn device(&self, rtnl: &Rtnl) -> Option<ARef<NetDevice>> {
        self.dev.borrow(rtnl).clone()
    }

    /// `TUNSETIFF`: creates a device, or attaches to an existing one, and
    /// writes its name back into `req`.
    fn set_iff(this: ArcBorrow<'_, Self>, rtnl: &mut Rtnl, req: &mut IfReq) -> Result {
        if this.dev.borrow(rtnl).is_some() {
            return Err(EEXIST);
        }
        let want = SetIff::parse(req.flags()).map_err(iff_error)?;
        let name = req.name_buf();
        let existing = NetDevice::get_by_name(&this.net, &name, rtnl).map(ARef::from);
        let dev = match existing {
            Some(dev) => {
                let state = dev.data().map(|d| (d.kind(), d.has_file(rtnl)));
                want.check_existing(state).map_err(iff_error)?;
                let data = dev.data().ok_or(EINVAL)?;
                data.set_flags(want.dev_flags, rtnl);
                data.attach(this.into(), rtnl);
                dev.state_change(rtnl);
                dev
            }
            None => {
                if !this.net.admin_capable() {
                    return Err(EPERM);
                }
                let name = if req.name().is_empty() {
                    let mut buf = [0u8; IFNAMSIZ];
                    let tmpl = want.kind.default_name();
                    buf[..tmpl.len()].copy_from_slice(tmpl);
                    buf
                } else {
                    name
                };
                let cfg = device::config(want.kind);
                let state = RtunDev::new(want.kind, want.dev_flags);
                let dev = netdev::register(rtnl, &this.net, &name, &cfg, state)?;
                let data = dev.data().ok_or(EINVAL)?;
                data.attach(this.into(), rtnl);
                dev
            }
        };
        dev.set_carrier(want.carrier);
        if dev.is_running() {
            dev.tx_wake();
        }
        req.set_name(&dev.name());
        *this.dev.borrow_mut(rtnl) = Some(dev);
        this.attached.store(true, Ordering::Release);
        Ok(())
    }

    /// `TUNGETIFF`: the attached device's name and flags.
    fn get_iff(dev: &NetDevice, rtnl: &Rtnl) -> Result<IfReq> {
        let data = dev.data().ok_or(EINVAL)?;
        let mut req = IfReq::zeroed();
        req.set_name(&dev.name());
        req.set_flags(iff::getiff_flags(data.flags(rtnl)));
        Ok(req)
    }

    /// Detaches from the device and unregisters it, as closing the last file does.
    fn detach(&self, rtnl: &mut Rtnl) {
        self.attached.store(false, Ordering::Release);
        let Some(dev) = self.dev.borrow_mut(rtnl).take() else {
            return;
        };
        if let Some(data) = dev.data() {
            // Drop the device's reference to this file before unregistering,
            // so `ndo_uninit` finds nothing to detach.
            drop(data.take_file(rtnl));
        }
        dev.set_carrier(false);
        dev.unregister(rtnl);
    }
}

/// Reads a `struct ifreq` from user space.
fn read_ifreq(arg: usize) -> Result<IfReq> {
    let mut raw = [0u8; IFREQ_SIZE];
    UserSlice::new(arg, IFREQ_SIZE)
        .reader()
        .read_slice(&mut raw)?;
    Ok(IfReq::from_bytes(raw))
}

/// Writes a `struct ifreq` to user space.
fn write_ifreq(arg: usize, req: &IfReq) -> Result {
    UserSlice::new(arg, IFREQ_SIZE)
        .writer()
        .write_slice(req.as_bytes())
}

impl FileOps for TunFile {
    fn open(_file: &File) -> Result<Arc<Self>> {
        let file = TunFile {
            net: NetNs::current().ok_or(ENXIO)?,
            dev: RtnlLocked::new(None),
            attached: AtomicBool::new(false),
        };
        Ok(Arc::new(file, GFP_KERNEL)?)
    }

    fn release(this: Arc<Self>, _file: &File) {
        let mut rtnl = Rtnl::lock();
        this.detach(&mut rtnl);
    }

    fn ioctl(this: ArcBorrow<'_, Self>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            uapi::TUNGETFEATURES => {
                let word = iff::RTUN_TUNGETFEATURES.to_ne_bytes();
                UserSlice::new(arg, word.len())
                    .writer()
                    .write_slice(&word)?;
                return Ok(0);
            }
            uapi::TUNSETQUEUE => {
                // rtun has no multiqueue devices; C fails the same way for a
                // device without IFF_MULTI_QUEUE, after copying the request.
                read_ifreq(arg)?;
                return Err(EINVAL);
            }
            _ => {}
        }
        let mut req = if cmd == uapi::TUNSETIFF {
            read_ifreq(arg)?
        } else {
            IfReq::zeroed()
        };

        let mut rtnl = Rtnl::lock();
        if cmd == uapi::TUNSETIFF {
            Self::set_iff(this, &mut rtnl, &mut req)?;
            // As in C, a fault here leaves the device created and attached.
            write_ifreq(arg, &req)?;
            return Ok(0);
        }
        let dev = this.device(&rtnl).ok_or_else(ebadfd)?;
        match cmd {
            uapi::TUNGETIFF => {
                let req = Self::get_iff(&dev, &rtnl)?;
                drop(rtnl);
                write_ifreq(arg, &req)?;
                Ok(0)
            }
            // Accepted and ignored, as upstream.
            uapi::TUNSETNOCSUM => Ok(0),
            _ => Err(EINVAL),
        }
    }

    fn read_iter(this: ArcBorrow<'_, Self>, _file: &File, _to: &mut IovIter) -> Result<usize> {
        if !this.attached.load(Ordering::Acquire) {
            return Err(ebadfd());
        }
        // The read path (tun_put_user) is not implemented yet.
        Err(eopnotsupp())
    }

    fn write_iter(this: ArcBorrow<'_, Self>, _file: &File, _from: &mut IovIter) -> Result<usize> {
        if !this.attached.load(Ordering::Acquire) {
            return Err(ebadfd());
        }
        // The write path (tun_get_user) is not implemented yet.
        Err(eopnotsupp())
    }
}
