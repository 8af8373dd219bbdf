// SPDX-License-Identifier: GPL-2.0

//! Pure `TUNSETIFF`/`TUNGETIFF`/`TUNGETFEATURES` flag logic.
//!
//! Everything here follows `tun_set_iff()`, `tun_get_iff()` and
//! `__tun_chr_ioctl()` of Linux 6.12 `drivers/net/tun.c`, except where a
//! comment says why rtun deliberately differs. Imports only `core`.

use crate::pure::abi::TunAbi;
use crate::pure::features::Rfc2008Flags;
use crate::pure::uapi::*;

use crate::pure::errno::{E2BIG, EBUSY, EINVAL, EPERM};

/// The kind of device a file is attached to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Layer 3 point-to-point device (`IFF_TUN`).
    Tun,
    /// Ethernet device (`IFF_TAP`).
    Tap,
}

impl Kind {
    /// Returns the `IFF_TUN`/`IFF_TAP` bit of this kind.
    pub const fn flag(self) -> u16 {
        match self {
            Kind::Tun => IFF_TUN,
            Kind::Tap => IFF_TAP,
        }
    }

    /// Returns the default name template under `names`.
    ///
    /// rtun's own never collide with C tun's; in drop-in mode they are C's.
    pub const fn default_name(self, names: Names) -> &'static [u8] {
        match (names, self) {
            (Names::Rtun, Kind::Tun) => b"rtun%d",
            (Names::Rtun, Kind::Tap) => b"rtap%d",
            (Names::Tun, Kind::Tun) => b"tun%d",
            (Names::Tun, Kind::Tap) => b"tap%d",
        }
    }
}

/// Whose names rtun uses: its own (`/dev/net/rtun`, kind `rtun`), or, in
/// drop-in mode (the `dropin` module parameter), tun.ko's (`/dev/net/tun`,
/// kind `tun`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Names {
    /// rtun's own names, so that it can be loaded beside tun.ko.
    Rtun,
    /// tun.ko's names, in its place.
    Tun,
}

/// Per-device flags rtun implements and stores, the counterpart of C's `TUN_FEATURES`.
pub const RTUN_FEATURES: u16 =
    IFF_NO_PI | IFF_ONE_QUEUE | IFF_VNET_HDR | IFF_MULTI_QUEUE | IFF_NAPI | IFF_NAPI_FRAGS;

/// What rtun's `TUNGETFEATURES` reports on Linux 6.12.
pub const RTUN_TUNGETFEATURES: u32 = (IFF_TUN | IFF_TAP | IFF_NO_CARRIER | RTUN_FEATURES) as u32;

/// Per-device flags only some kernels' tun.c know: `IFF_BACKPRESSURE` on
/// Linux 7.x (in its `TUN_FEATURES`); 6.12 ignores the bit as unknown.
pub const fn kernel_features(abi: TunAbi) -> u16 {
    if abi.has_backpressure() {
        IFF_BACKPRESSURE
    } else {
        0
    }
}

/// What rtun's `TUNGETFEATURES` reports on the kernel `abi` names.
pub const fn tungetfeatures(abi: TunAbi) -> u32 {
    RTUN_TUNGETFEATURES | kernel_features(abi) as u32
}

/// Which meaning `TUNSETIFF` gives its flags, chosen with the module parameter `abi`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Abi {
    /// Today's `if_tun.h` (the default).
    Upstream,
    /// The 2008 design: `IFF_SEND_GSO`, `IFF_RECV_CSUM`, `IFF_RECV_GSO`.
    Rfc2008,
}

impl Abi {
    /// Parses the value of the `abi` module parameter.
    pub fn from_param(value: &[u8]) -> Option<Self> {
        match value {
            b"upstream" => Some(Abi::Upstream),
            b"rfc2008" => Some(Abi::Rfc2008),
            _ => None,
        }
    }
}

/// A validated `TUNSETIFF` request.
///
/// Which kind of device it is for is decided by [`SetIff::for_new`] or
/// [`SetIff::for_existing`], in C's order; before that, `kind` and the
/// type bit of `dev_flags` are the ones a new device would get.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SetIff {
    /// The device kind: asked for, then that of the device attached to.
    pub kind: Kind,
    /// The type bits asked for (`IFF_TUN`, `IFF_TAP`, both or neither).
    pub type_bits: u16,
    /// The flags the device will store: the kind bit and the implemented features.
    pub dev_flags: u16,
    /// Whether the carrier starts on (no `IFF_NO_CARRIER`).
    pub carrier: bool,
    /// Whether an existing device of that name is an error (`IFF_TUN_EXCL`).
    pub exclusive: bool,
    /// Whether the device has, or is to have, one queue per file
    /// (`IFF_MULTI_QUEUE`).
    pub multi_queue: bool,
    /// Whether this file's writes go through a NAPI context (`IFF_NAPI`),
    /// decided by each file's own request.
    pub napi: bool,
    /// Whether this file's writes are built in page fragments and handed
    /// to GRO by that context (`IFF_NAPI_FRAGS`), also per file.
    pub napi_frags: bool,
    /// Whether a virtio-net header precedes each written packet.
    pub hdr_write: bool,
    /// Whether a virtio-net header precedes each read packet.
    pub hdr_read: bool,
    /// Device features fixed at creation (2008 ABI), or `None` for today's defaults.
    pub fixed_features: Option<u64>,
}

/// Why a `TUNSETIFF` request was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IffError {
    /// Neither `IFF_TUN` nor `IFF_TAP`.
    NoType,
    /// `IFF_NAPI_FRAGS` without `IFF_NAPI`, or for a device that is not a TAP.
    NapiFragsInvalid,
    /// `IFF_TUN_EXCL` and the name exists.
    Exists,
    /// The name belongs to a device of another kind or driver.
    WrongDevice,
    /// `IFF_MULTI_QUEUE` asked for a device without it, or the reverse.
    QueueMismatch,
    /// The device already has a file attached and is not multiqueue.
    Busy,
    /// The device has `MAX_TAP_QUEUES` files, active or detached.
    TooManyQueues,
    /// The caller is neither the device's owner nor in its group, nor
    /// capable (`tun_permitted()`).
    NotPermitted,
}

impl IffError {
    /// Returns the positive errno C tun returns for this case.
    pub const fn errno(self) -> i32 {
        match self {
            IffError::NoType
            | IffError::NapiFragsInvalid
            | IffError::WrongDevice
            | IffError::QueueMismatch => EINVAL,
            IffError::Exists | IffError::Busy => EBUSY,
            IffError::TooManyQueues => E2BIG,
            IffError::NotPermitted => EPERM,
        }
    }
}

impl SetIff {
    /// Validates the flags of a `TUNSETIFF` request.
    ///
    /// Only the flags rtun refuses fail here (D3); the type bits are checked
    /// by [`SetIff::for_new`] and [`SetIff::for_existing`], where C checks
    /// them.
    pub fn parse(flags: u16) -> Result<Self, IffError> {
        let type_bits = flags & (IFF_TUN | IFF_TAP);
        let kind = if type_bits == IFF_TAP {
            Kind::Tap
        } else {
            Kind::Tun
        };
        let vnet = flags & IFF_VNET_HDR != 0;
        Ok(Self {
            kind,
            type_bits,
            dev_flags: kind.flag() | (flags & RTUN_FEATURES),
            carrier: flags & IFF_NO_CARRIER == 0,
            exclusive: flags & IFF_TUN_EXCL != 0,
            multi_queue: flags & IFF_MULTI_QUEUE != 0,
            napi: flags & IFF_NAPI != 0,
            napi_frags: flags & IFF_NAPI_FRAGS != 0,
            hdr_write: vnet,
            hdr_read: vnet,
            fixed_features: None,
        })
    }

    /// Validates the flags of a `TUNSETIFF` request under `abi`, storing
    /// the flags only the kernel `tun_abi` names knows as well.
    pub fn parse_for(flags: u16, abi: Abi, tun_abi: TunAbi) -> Result<Self, IffError> {
        let mut req = Self::parse_abi(flags, abi)?;
        req.dev_flags |= flags & kernel_features(tun_abi);
        Ok(req)
    }

    /// `tun_set_iff()`'s first check: `IFF_NAPI_FRAGS` needs `CAP_NET_ADMIN`
    /// (`capable`, in the initial user namespace: `EPERM`), then `IFF_NAPI`
    /// and exactly the `IFF_TAP` type bit (`EINVAL`), for a new device and
    /// an existing one alike.
    pub fn check_napi_frags(&self, capable: bool) -> Result<(), IffError> {
        if !self.napi_frags {
            Ok(())
        } else if !capable {
            Err(IffError::NotPermitted)
        } else if !self.napi || self.type_bits != IFF_TAP {
            Err(IffError::NapiFragsInvalid)
        } else {
            Ok(())
        }
    }

    /// Validates the flags of a `TUNSETIFF` request under `abi`.
    ///
    /// Under [`Abi::Rfc2008`], `0x4000` is `IFF_SEND_GSO` (header on write,
    /// stored as `IFF_VNET_HDR`), `0x8000` is `IFF_RECV_CSUM` and `0x0800` is
    /// `IFF_RECV_GSO` (header on read, features fixed at creation by
    /// [`Rfc2008Flags::features`]); there is no `IFF_TUN_EXCL`.
    pub fn parse_abi(flags: u16, abi: Abi) -> Result<Self, IffError> {
        match abi {
            Abi::Upstream => Self::parse(flags),
            Abi::Rfc2008 => {
                let old = Rfc2008Flags::from_iff(flags);
                let mut req = Self::parse(flags & !(IFF_RECV_CSUM_2008 | IFF_RECV_GSO_2008))?;
                req.hdr_write = old.send_hdr;
                req.hdr_read = old.recv_hdr;
                req.fixed_features = Some(old.features());
                Ok(req)
            }
        }
    }

    /// Returns the request for a new device, whose kind the type bits
    /// decide, `IFF_TUN` winning over `IFF_TAP`; neither is `EINVAL`.
    ///
    /// `tun_set_iff()` checks this after `CAP_NET_ADMIN` (`EPERM`).
    pub fn for_new(self) -> Result<Self, IffError> {
        if self.type_bits == 0 {
            Err(IffError::NoType)
        } else {
            Ok(self)
        }
    }

    /// Returns the request for a device that already has its name, of
    /// kind `existing` (`None`: not an rtun device) with `multi_queue` its
    /// `IFF_MULTI_QUEUE`.
    ///
    /// These are `tun_set_iff()`'s first checks: `IFF_TUN_EXCL`, then a
    /// type bit matching the device's kind (so `IFF_TUN | IFF_TAP` matches
    /// either), then `IFF_MULTI_QUEUE` as the device has it; the
    /// permission check ([`IffError::NotPermitted`], `tun_permitted()`)
    /// and [`check_attach`] follow, in C's order. The device keeps its kind.
    pub fn for_existing(self, existing: Option<(Kind, bool)>) -> Result<Self, IffError> {
        if self.exclusive {
            return Err(IffError::Exists);
        }
        match existing {
            Some((kind, _)) if self.type_bits & kind.flag() == 0 => Err(IffError::WrongDevice),
            Some((_, mq)) if mq != self.multi_queue => Err(IffError::QueueMismatch),
            Some((kind, _)) => Ok(self.with_kind(kind)),
            None => Err(IffError::WrongDevice),
        }
    }

    /// Whether `TUNSETIFF` on an existing device goes on to set its flags,
    /// carrier and name after attaching, with `files` files (active and
    /// detached, this one included) now on it: not for a multiqueue
    /// device that had one already (`tun_set_iff()` returns early).
    pub const fn sets_up_existing(self, files: u32) -> bool {
        !(self.multi_queue && files > 1)
    }

    /// Returns the request with `kind` and its type bit in `dev_flags`.
    fn with_kind(mut self, kind: Kind) -> Self {
        self.dev_flags = (self.dev_flags & !(IFF_TUN | IFF_TAP)) | kind.flag();
        self.kind = kind;
        self
    }
}

/// How many files a device has: active queues and detached ones (C's
/// `numqueues` and `numdisabled`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct QueueCount {
    /// Attached and active, in `tfiles[0..active]`.
    pub active: u32,
    /// Detached with `TUNSETQUEUE`, still holding the device.
    pub detached: u32,
}

impl QueueCount {
    /// Returns the number of files, active or detached.
    pub const fn files(self) -> u32 {
        self.active.saturating_add(self.detached)
    }
}

/// `tun_attach()`'s checks, for a file that is re-attaching a detached
/// queue (`reattach`) or attaching anew: a second file of a single-queue
/// device is `EBUSY`; a new one beyond `MAX_TAP_QUEUES` files is `E2BIG`.
pub const fn check_attach(
    multi_queue: bool,
    n: QueueCount,
    reattach: bool,
) -> Result<(), IffError> {
    if !multi_queue && n.active == 1 {
        Err(IffError::Busy)
    } else if !reattach && n.files() >= MAX_TAP_QUEUES {
        Err(IffError::TooManyQueues)
    } else {
        Ok(())
    }
}

/// C's `MAX_TAP_QUEUES`: the most files a multiqueue device has, and its
/// number of transmit and receive queues.
pub const MAX_TAP_QUEUES: u32 = 256;

/// Returns the flags `TUNGETIFF` reports for a device with stored flags
/// `dev_flags`, to a file whose queue is `detached` or not and whose socket
/// has a classic filter (`filtered`) or not.
///
/// `IFF_NOFILTER` is the bit of `IFF_NO_PI`: a file without a filter
/// reports it whether or not the device has `IFF_NO_PI`, as in C.
pub const fn getiff_flags(dev_flags: u16, detached: bool, filtered: bool) -> u16 {
    let kept = RTUN_FEATURES | IFF_BACKPRESSURE | IFF_PERSIST | IFF_TUN | IFF_TAP;
    let queue = if detached { IFF_DETACH_QUEUE } else { 0 };
    let nofilter = if filtered { 0 } else { IFF_NOFILTER };
    (dev_flags & kept) | nofilter | queue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_word_is_the_implemented_subset_of_c() {
        // C's words: all of tun.c's features on each kernel.
        assert_eq!(RTUN_TUNGETFEATURES, 0x7173);
        assert_eq!(RTUN_TUNGETFEATURES, C_TUNGETFEATURES);
        assert_eq!(tungetfeatures(TunAbi::Linux6_12), 0x7173);
        assert_eq!(tungetfeatures(TunAbi::Linux7), 0x71f3);
    }

    #[test]
    fn backpressure_is_stored_on_7x_only() {
        let f = IFF_TAP | IFF_BACKPRESSURE;
        let r = SetIff::parse_for(f, Abi::Upstream, TunAbi::Linux7).unwrap();
        assert_eq!(r.dev_flags, IFF_TAP | IFF_BACKPRESSURE);
        assert_eq!(
            getiff_flags(r.dev_flags, false, false),
            IFF_TAP | IFF_BACKPRESSURE | IFF_NOFILTER
        );
        let r = SetIff::parse_for(f, Abi::Upstream, TunAbi::Linux6_12).unwrap();
        assert_eq!(r.dev_flags, IFF_TAP);
    }

    #[test]
    fn tun_wins_over_tap() {
        let r = SetIff::parse(IFF_TUN | IFF_TAP).unwrap();
        assert_eq!(r.kind, Kind::Tun);
        assert_eq!(r.dev_flags, IFF_TUN);
    }

    #[test]
    fn no_type_is_einval_for_a_new_device_only() {
        let r = SetIff::parse(IFF_NO_PI).unwrap();
        assert_eq!(r.for_new(), Err(IffError::NoType));
        assert_eq!(IffError::NoType.errno(), EINVAL);
        // An existing device: IFF_TUN_EXCL first, then the kind.
        let excl = SetIff::parse(IFF_NO_PI | IFF_TUN_EXCL).unwrap();
        assert_eq!(
            excl.for_existing(Some((Kind::Tap, false))),
            Err(IffError::Exists)
        );
        assert_eq!(
            r.for_existing(Some((Kind::Tap, false))),
            Err(IffError::WrongDevice)
        );
    }

    #[test]
    fn both_type_bits_match_either_existing_kind() {
        let both = SetIff::parse(IFF_TUN | IFF_TAP | IFF_VNET_HDR).unwrap();
        let tap = both.for_existing(Some((Kind::Tap, false))).unwrap();
        assert_eq!(tap.kind, Kind::Tap);
        assert_eq!(tap.dev_flags, IFF_TAP | IFF_VNET_HDR);
        let tun = both.for_existing(Some((Kind::Tun, false))).unwrap();
        assert_eq!(tun.kind, Kind::Tun);
        assert_eq!(tun.dev_flags, IFF_TUN | IFF_VNET_HDR);
        assert_eq!(both.for_existing(None), Err(IffError::WrongDevice));
        // A new device: IFF_TUN wins.
        assert_eq!(both.for_new().unwrap().kind, Kind::Tun);
    }

    #[test]
    fn unknown_bits_are_ignored_like_c() {
        // 0x0004 and 0x0008 mean nothing to either driver; ATTACH/DETACH_QUEUE
        // and PERSIST are not TUNSETIFF flags.
        let r = SetIff::parse(IFF_TAP | 0x0004 | 0x0008 | IFF_ATTACH_QUEUE | IFF_PERSIST).unwrap();
        assert_eq!(r.dev_flags, IFF_TAP);
    }

    #[test]
    fn napi_frags_needs_napi_a_tap_and_the_capability() {
        let frags = IFF_NAPI | IFF_NAPI_FRAGS;
        let ok = SetIff::parse(IFF_TAP | frags).unwrap();
        assert_eq!(ok.check_napi_frags(true), Ok(()));
        assert_eq!(ok.dev_flags, IFF_TAP | frags);
        // The capability first, then the shape, as tun_set_iff().
        let e = SetIff::parse(IFF_TUN | IFF_NAPI_FRAGS).unwrap();
        assert_eq!(e.check_napi_frags(false), Err(IffError::NotPermitted));
        for f in [
            IFF_TAP | IFF_NAPI_FRAGS,
            IFF_TUN | frags,
            IFF_TUN | IFF_TAP | frags,
            frags,
        ] {
            let r = SetIff::parse(f).unwrap();
            assert_eq!(r.check_napi_frags(true), Err(IffError::NapiFragsInvalid));
            assert_eq!(IffError::NapiFragsInvalid.errno(), EINVAL);
        }
        // Without the flag nothing is checked.
        let plain = SetIff::parse(IFF_TUN).unwrap();
        assert_eq!(plain.check_napi_frags(false), Ok(()));
    }

    #[test]
    fn stored_flags_and_carrier() {
        let r = SetIff::parse(IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | IFF_NO_CARRIER).unwrap();
        assert_eq!(r.dev_flags, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
        assert!(!r.carrier);
        assert!(SetIff::parse(IFF_TAP).unwrap().carrier);
    }

    #[test]
    fn existing_name_rules() {
        let tun = SetIff::parse(IFF_TUN).unwrap();
        assert_eq!(tun.for_existing(None), Err(IffError::WrongDevice));
        assert_eq!(
            tun.for_existing(Some((Kind::Tap, false))),
            Err(IffError::WrongDevice)
        );
        assert_eq!(tun.for_existing(Some((Kind::Tun, false))), Ok(tun));
        let one = QueueCount {
            active: 1,
            detached: 0,
        };
        assert_eq!(check_attach(false, one, false), Err(IffError::Busy));
        assert_eq!(check_attach(false, QueueCount::default(), false), Ok(()));
        let excl = SetIff::parse(IFF_TUN | IFF_TUN_EXCL).unwrap();
        assert_eq!(
            excl.for_existing(Some((Kind::Tun, false))),
            Err(IffError::Exists)
        );
        // IFF_TUN_EXCL comes first, even for a foreign device.
        assert_eq!(excl.for_existing(None), Err(IffError::Exists));
        assert_eq!(IffError::Exists.errno(), EBUSY);
        assert_eq!(IffError::Busy.errno(), EBUSY);
        assert_eq!(IffError::NotPermitted.errno(), EPERM);
    }

    #[test]
    fn getiff_reports_nofilter_and_masks() {
        assert_eq!(getiff_flags(IFF_TUN, false, false), IFF_TUN | IFF_NOFILTER);
        assert_eq!(
            getiff_flags(IFF_TAP | IFF_ONE_QUEUE, false, false),
            IFF_TAP | IFF_ONE_QUEUE | IFF_NOFILTER
        );
        let mq = IFF_TAP | IFF_MULTI_QUEUE;
        assert_eq!(
            getiff_flags(mq, true, false),
            mq | IFF_NOFILTER | IFF_DETACH_QUEUE
        );
        // A filtered file: no IFF_NOFILTER, unless IFF_NO_PI sets its bit.
        assert_eq!(getiff_flags(IFF_TAP, false, true), IFF_TAP);
        assert_eq!(
            getiff_flags(IFF_TAP | IFF_NO_PI, false, true),
            IFF_TAP | IFF_NO_PI
        );
    }

    #[test]
    fn multi_queue_must_match_the_device() {
        let mq = SetIff::parse(IFF_TAP | IFF_MULTI_QUEUE).unwrap();
        assert!(mq.multi_queue);
        assert_eq!(mq.dev_flags, IFF_TAP | IFF_MULTI_QUEUE);
        assert_eq!(mq.for_existing(Some((Kind::Tap, true))), Ok(mq));
        let e = mq.for_existing(Some((Kind::Tap, false))).unwrap_err();
        assert_eq!((e, e.errno()), (IffError::QueueMismatch, EINVAL));
        let sq = SetIff::parse(IFF_TAP).unwrap();
        assert_eq!(
            sq.for_existing(Some((Kind::Tap, true))),
            Err(IffError::QueueMismatch)
        );
        // The kind is checked first, as in tun_set_iff().
        assert_eq!(
            mq.for_existing(Some((Kind::Tun, false))),
            Err(IffError::WrongDevice)
        );
    }

    #[test]
    fn attach_limits_are_c_s() {
        let n = |active, detached| QueueCount { active, detached };
        // Multiqueue: up to 256 files; a detached one re-attaches anyway.
        assert_eq!(check_attach(true, n(255, 0), false), Ok(()));
        let e = check_attach(true, n(200, 56), false).unwrap_err();
        assert_eq!((e, e.errno()), (IffError::TooManyQueues, E2BIG));
        assert_eq!(check_attach(true, n(200, 56), true), Ok(()));
        assert_eq!(check_attach(true, n(1, 0), false), Ok(()));
        // Single queue: a persistent device without a file takes one.
        assert_eq!(check_attach(false, n(0, 0), false), Ok(()));
        assert_eq!(check_attach(false, n(1, 0), false), Err(IffError::Busy));
        // Only the first file of a multiqueue device sets it up again.
        let mq = SetIff::parse(IFF_TAP | IFF_MULTI_QUEUE).unwrap();
        assert!(mq.sets_up_existing(1) && !mq.sets_up_existing(2));
        assert!(SetIff::parse(IFF_TAP).unwrap().sets_up_existing(1));
    }

    #[test]
    fn abi_parameter_values() {
        assert_eq!(Abi::from_param(b"upstream"), Some(Abi::Upstream));
        assert_eq!(Abi::from_param(b"rfc2008"), Some(Abi::Rfc2008));
        assert_eq!(Abi::from_param(b"2008"), None);
        assert_eq!(Abi::from_param(b""), None);
    }

    #[test]
    fn upstream_vnet_hdr_is_both_directions() {
        let r = SetIff::parse_abi(IFF_TAP | IFF_VNET_HDR, Abi::Upstream).unwrap();
        assert!(r.hdr_write && r.hdr_read);
        assert_eq!(r.fixed_features, None);
        let r = SetIff::parse_abi(IFF_TAP, Abi::Upstream).unwrap();
        assert!(!r.hdr_write && !r.hdr_read);
    }

    #[test]
    fn rfc2008_bits_split_the_directions() {
        use crate::pure::features::*;
        let send = SetIff::parse_abi(IFF_TUN | IFF_SEND_GSO_2008, Abi::Rfc2008).unwrap();
        assert!(send.hdr_write && !send.hdr_read);
        assert_eq!(send.dev_flags, IFF_TUN | IFF_VNET_HDR);
        assert_eq!(send.fixed_features, Some(0));
        let csum = SetIff::parse_abi(IFF_TAP | IFF_RECV_CSUM_2008, Abi::Rfc2008).unwrap();
        assert!(!csum.hdr_write && csum.hdr_read && !csum.exclusive);
        assert_eq!(csum.dev_flags, IFF_TAP);
        assert_eq!(
            csum.fixed_features,
            Some(NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA | NETIF_F_FRAGLIST)
        );
        let gso = SetIff::parse_abi(
            IFF_TAP | IFF_RECV_CSUM_2008 | IFF_RECV_GSO_2008 | IFF_SEND_GSO_2008,
            Abi::Rfc2008,
        )
        .unwrap();
        assert!(gso.hdr_write && gso.hdr_read);
        assert_eq!(
            gso.fixed_features.unwrap() & (NETIF_F_TSO | NETIF_F_TSO6 | NETIF_F_TSO_ECN),
            NETIF_F_TSO | NETIF_F_TSO6 | NETIF_F_TSO_ECN
        );
        // IFF_RECV_GSO alone asks for GSO without checksum offload: nothing.
        let lone = SetIff::parse_abi(IFF_TAP | IFF_RECV_GSO_2008, Abi::Rfc2008).unwrap();
        assert!(lone.hdr_read);
        assert_eq!(lone.fixed_features, Some(0));
    }

    #[test]
    fn default_names_differ_from_c_unless_drop_in() {
        assert_eq!(Kind::Tun.default_name(Names::Rtun), b"rtun%d");
        assert_eq!(Kind::Tap.default_name(Names::Rtun), b"rtap%d");
        // tun_set_iff()'s templates.
        assert_eq!(Kind::Tun.default_name(Names::Tun), b"tun%d");
        assert_eq!(Kind::Tap.default_name(Names::Tun), b"tap%d");
    }
}
