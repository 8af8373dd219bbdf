// SPDX-License-Identifier: GPL-2.0

//! The write path: one user write becomes one received packet (`tun_get_user()`).
//!
//! The checks and the skb layout come from the pure planner in
//! [`crate::pure::vnet_hdr`]; this module copies the bytes, applies the plan to the
//! skb through [`Skb`], picks the protocol, and counts as C counts.

use super::device::RtunDev;
use crate::abstractions::error::from_errno;
use crate::abstractions::file::IovIter;
use crate::abstractions::netdev::NetDevice;
use crate::abstractions::skb::Skb;
use crate::abstractions::sock::Sock;
use crate::pure::errno::{EAGAIN, EFAULT, EINVAL, EIO};
use crate::pure::iff::Kind;
use crate::pure::uapi::{IFF_NO_PI, IFF_VNET_HDR};
use crate::pure::vnet_hdr::{
    self, HdrError, Layout, RxCounter, SkbAlloc, SkbPlan, Split, VnetHdr, WriteCtx, TUN_PI_LEN,
    VIRTIO_NET_HDR_LEN,
};
use kernel::error::{Error, Result};

/// Counts a refused write the way C does and returns its error.
fn refuse(dev: &NetDevice, data: &RtunDev, e: HdrError) -> Error {
    match e.counter() {
        RxCounter::None => {}
        RxCounter::FrameErrors => data.rx_frame_error(),
        RxCounter::Dropped => dev.rx_dropped_inc(),
    }
    from_errno(e.errno())
}

/// Counts a packet dropped after allocation and passes `e` on.
fn dropped(dev: &NetDevice, e: Error) -> Error {
    dev.rx_dropped_inc();
    e
}

/// Counts a failed allocation as C does (not `EAGAIN`: no room in the
/// send buffer is not a drop) and passes `e` on.
fn alloc_failed(dev: &NetDevice, e: Error) -> Error {
    if e.to_errno() != -EAGAIN {
        dev.rx_dropped_inc();
    }
    e
}

/// Applies an accepted plan to the skb; false if the kernel disagrees.
///
/// The pulls of `virtio_net_hdr_to_skb()` only grow the head, so one pull
/// to the plan's final head length leaves the skb as C's sequence does.
fn apply(skb: &mut Skb, plan: &SkbPlan) -> bool {
    let Ok(head_len) = u32::try_from(plan.head_len) else {
        return false;
    };
    if !skb.may_pull(head_len) {
        return false;
    }
    if let Some(csum) = plan.csum {
        if !skb.partial_csum_set(csum.start, csum.offset) {
            return false;
        }
    }
    if let Some(gso) = plan.gso {
        skb.set_gso(gso.gso_type, gso.gso_size);
    }
    true
}

/// Builds an skb from one user write to `dev` and hands it to the stack.
///
/// Returns the whole length of the write, as C does.
///
/// `nonblock` is true for a non-blocking write, which on a TAP device may
/// take `tun_build_skb()`'s layout, as in C. Other writes are charged to
/// the file's socket `sock` until their skb is freed.
pub(crate) fn write(
    dev: &NetDevice,
    data: &RtunDev,
    sock: &Sock,
    from: &mut IovIter,
    nonblock: bool,
) -> Result<usize> {
    let total = from.count();
    let flags = data.flags();
    let no_pi = flags & IFF_NO_PI != 0;
    let vnet_hdr_sz = (flags & IFF_VNET_HDR != 0).then(|| data.vnet_hdr_sz());
    let geometry = *data.geometry();
    let mut ctx = WriteCtx {
        total_len: total,
        is_tap: data.kind() == Kind::Tap,
        no_pi,
        vnet_hdr_sz,
        align: geometry.net_skb_pad,
        alloc: SkbAlloc::Paged,
        geometry,
    };

    // W1 and W2 with the copies in between, in C's order, so a bad pointer
    // gives EFAULT exactly where C gives it.
    let mut split = Split::start(total);
    let mut pi = [0u8; TUN_PI_LEN];
    if !no_pi {
        split.take_pi().map_err(|e| refuse(dev, data, e))?;
        from.copy_from_full(&mut pi)?;
    }
    let mut hdr = VnetHdr::default();
    if let Some(sz) = vnet_hdr_sz {
        split.take_vnet_hdr(sz).map_err(|e| refuse(dev, data, e))?;
        let mut raw = [0u8; VIRTIO_NET_HDR_LEN];
        from.copy_from_full(&mut raw)?;
        hdr = VnetHdr::parse(&raw, data.byte_order());
    }
    // `split.len` is now the packet's length, C's `len`.
    // C's tun_can_build_skb() also wants the default send buffer.
    let build_ok = nonblock && sock.sndbuf() == i32::MAX;
    ctx.alloc = vnet_hdr::write_alloc(ctx.is_tap, build_ok, split.len, &geometry);
    let layout: Layout =
        vnet_hdr::plan_layout_split(&hdr, &ctx, split).map_err(|e| refuse(dev, data, e))?;
    // Bytes of a header larger than `struct virtio_net_hdr` are skipped.
    from.advance(layout.split.vnet_hdr_sz.saturating_sub(VIRTIO_NET_HDR_LEN));

    let mut skb = match ctx.alloc {
        SkbAlloc::Paged => {
            let mut skb = Skb::alloc(
                sock,
                nonblock,
                layout.headroom,
                layout.linear,
                layout.frags_len(),
            )
            .map_err(|e| alloc_failed(dev, e))?;
            skb.copy_from_iter(from, layout.copy_len)
                .map_err(|_| dropped(dev, from_errno(EFAULT)))?;
            skb
        }
        SkbAlloc::Linear { headroom } => {
            Skb::build_from_iter(headroom, layout.copy_len, from).map_err(|e| dropped(dev, e))?
        }
    };

    let plan = vnet_hdr::plan_skb(&hdr, vnet_hdr_sz.is_some(), &layout)
        .map_err(|e| refuse(dev, data, e))?;
    if !apply(&mut skb, &plan) {
        data.rx_frame_error();
        return Err(from_errno(EINVAL));
    }

    match data.kind() {
        Kind::Tun => {
            let proto = if no_pi {
                vnet_hdr::check_tun_ip_version(skb.first_byte())
                    .map_err(|e| refuse(dev, data, e))?
                    .ethertype()
            } else {
                // `struct tun_pi` as the user wrote it; C uses its `proto` as is.
                u16::from_be_bytes([pi[2], pi[3]])
            };
            skb.set_l3(dev, proto);
        }
        Kind::Tap => skb.eth_type_trans(dev).map_err(|e| dropped(dev, e))?,
    }
    if !dev.is_running() {
        return Err(dropped(dev, from_errno(EIO)));
    }
    skb.deliver(dev, u32::try_from(layout.copy_len).unwrap_or(u32::MAX));
    Ok(total)
}
