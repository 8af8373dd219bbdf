// SPDX-License-Identifier: GPL-2.0

//! The read path: one queued packet becomes one user read (`tun_put_user()`).
//!
//! The layout, the header and the counters come from the pure planner in
//! [`crate::pure::vnet_out`]; this module dequeues, copies and counts.

use super::device::RtunDev;
use crate::abstractions::compat::{PAD_FAULT, TUN_ABI};
use crate::abstractions::error::from_errno;
use crate::abstractions::file::IovIter;
use crate::abstractions::netdev::{net_ratelimit, NetDevice};
use crate::abstractions::queue::{BpOwner, Popped, SkbQueue};
use crate::abstractions::skb::Skb;
use crate::abstractions::xdp::XdpFrame;
use crate::pure::abi::TUN_VNET_TNL_SIZE;
use crate::pure::drops::DropReason;
use crate::pure::errno::{EFAULT, EINVAL};
use crate::pure::features::NETIF_F_GSO_UDP_TUNNEL;
use crate::pure::uapi::IFF_NO_PI;
use crate::pure::vnet_hdr::VIRTIO_NET_HDR_LEN;
use crate::pure::vnet_out::{self, OutError, PacketCopy, ReadCtx, ReadPlan, SkbInfo, TunPi};
use kernel::error::Result;
use kernel::prelude::*;

/// Zeroes written over the header bytes past the 10 of `struct virtio_net_hdr`.
const ZEROES: [u8; 64] = [0; 64];

/// Copies all of `buf` to `to`, or fails with `EFAULT`.
fn put_all(to: &mut IovIter, buf: &[u8]) -> Result {
    if to.copy_to(buf) == buf.len() {
        Ok(())
    } else {
        Err(from_errno(EFAULT))
    }
}

/// Moves `to` past `len` bytes, writing zeroes where the buffer takes them;
/// returns how many zeroes were written.
///
/// On 6.12 C only advances over these bytes, so a fault here must not fail
/// the read: whatever cannot be written is skipped as C skips it (what the
/// caller makes of a short count is [`PAD_FAULT`]'s rule).
fn put_zeroes(to: &mut IovIter, len: usize) -> usize {
    let mut left = len;
    while left > 0 {
        let chunk = ZEROES.get(..left).unwrap_or(&ZEROES);
        let done = to.copy_to(chunk);
        left = left.saturating_sub(done);
        if done < chunk.len() {
            to.advance(left);
            break;
        }
    }
    len.saturating_sub(left)
}

/// Writes the `struct tun_pi` of a read on a device without `IFF_NO_PI`.
///
/// Out of line: built inline, its four bytes were stored on every read,
/// before the test that skips them.
#[inline(never)]
fn put_pi(to: &mut IovIter, pi: TunPi) -> Result {
    put_all(to, &pi.to_bytes())
}

/// Writes the header image of a read whose header is not the plain 10
/// bytes: Linux 7.x's 24-byte tunnel header, or an image that overruns a
/// `vnet_hdr_sz` too small for it.
///
/// Takes the image by value: a reference to the plan would make the
/// compiler build the whole plan in memory on every read.
#[inline(never)]
fn put_image(to: &mut IovIter, img: [u8; TUN_VNET_TNL_SIZE], len: usize, overrun: bool) -> Result {
    let hdr = img.get(..len).unwrap_or(&img);
    if overrun {
        // Linux 7.x, a header too small for the offloads
        // (`__tun_vnet_hdr_put()`).
        // C copies the whole image and zeroes the rest of the buffer,
        // where there is room; the read fails whatever was written.
        let _ = to.copy_to(hdr);
        let rest = to.count();
        put_zeroes(to, rest);
        return Err(from_errno(EFAULT));
    }
    put_all(to, hdr)
}

/// Copies the headers and the packet of `skb` (described by `info`) as `plan` says.
#[inline]
fn put(skb: &Skb, info: &SkbInfo, plan: &ReadPlan, to: &mut IovIter) -> Result {
    if let Some(pi) = plan.pi {
        put_pi(to, pi)?;
    }
    if let Some(hdr) = plan.hdr {
        if plan.hdr_image_len == VIRTIO_NET_HDR_LEN && !plan.overrun {
            // The usual header: its 10 bytes, no image built.
            put_all(to, &hdr.to_bytes(plan.order))?;
        } else if let Some(img) = plan.hdr_image() {
            put_image(to, img, plan.hdr_image_len, plan.overrun)?;
        }
        // 6.12's C skips these bytes and leaves what the reader's buffer
        // held, rtun zeroes them (Documentation/differences.md, D4); 7.x's
        // C zeroes them too and fails the read on a fault.
        let pad = plan.hdr_pad();
        if PAD_FAULT.fails(put_zeroes(to, pad), pad) {
            return Err(from_errno(EFAULT));
        }
    }
    // As in C, a fault while copying the packet itself is not reported: the
    // read returns the planned length (tun.c ignores these return values).
    // The packet copy is planned again from what is left of the buffer,
    // which is the plan's: every header byte planned was written or
    // skipped, or the read has failed. Planning it here keeps it out of
    // the registers live across the header copies.
    let copy = vnet_out::plan_copy(info.len, info.vlan, to.count());
    if info.vlan.is_some() {
        put_tagged(skb, copy, to);
    } else if copy.tail > 0 {
        let _ = skb.copy_to_iter(0, to, as_u32(copy.tail));
    }
    Ok(())
}

/// Returns `n` as a `u32` for the copy calls, which take one.
fn as_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Copies a packet whose VLAN tag is in the skb's metadata, the tag put
/// back after the MAC addresses, as `copy` says (`tun_put_user()`).
///
/// Out of line: untagged packets, the usual ones, copy their bytes in one
/// call and keep this code out of their registers.
#[inline(never)]
fn put_tagged(skb: &Skb, copy: PacketCopy, to: &mut IovIter) {
    if copy.head > 0 && skb.copy_to_iter(0, to, as_u32(copy.head)).is_err() {
        return;
    }
    let tag = copy.tag_bytes.get(..copy.tag).unwrap_or(&copy.tag_bytes);
    if !tag.is_empty() && to.copy_to(tag) != tag.len() {
        return;
    }
    if copy.tail > 0 {
        let _ = skb.copy_to_iter(as_u32(copy.tail_offset), to, as_u32(copy.tail));
    }
}

/// Reads one packet queued for `dev` into `to`, as `tun_do_read()` does.
///
/// Sleeps for a packet unless `nonblock`; `shut_down` tells whether the
/// device went away meanwhile.
pub(crate) fn read(
    dev: &NetDevice,
    data: &RtunDev,
    queue: &SkbQueue,
    backpressure: Option<BpOwner<'_>>,
    to: &mut IovIter,
    nonblock: bool,
    shut_down: impl Fn() -> bool,
) -> Result<usize> {
    // The device's settings are read once a packet is there, as
    // `tun_put_user()` reads them: read before, they were kept across the
    // wait and the ring's lock, on the stack.
    let ctx = |buf_len| {
        let vnet_hdr_sz = data.hdr_on_read().then(|| data.vnet_hdr_sz());
        ReadCtx {
            buf_len,
            no_pi: data.flags() & IFF_NO_PI != 0,
            vnet_hdr_sz,
            order: data.byte_order(),
            abi: TUN_ABI,
            // Only 7.x looks at the device's features on this path.
            tnl_offload: TUN_ABI.has_udp_tunnel()
                && vnet_hdr_sz.is_some()
                && dev.features() & NETIF_F_GSO_UDP_TUNNEL != 0,
        }
    };
    let buf_len = to.count();
    if !ReadCtx::dequeues_for(buf_len) {
        return Ok(0);
    }
    let (skb, info) = match queue.pop_wait(nonblock, shut_down, backpressure.as_ref())? {
        Popped::Packet(skb, info) => (skb, info),
        Popped::Frame(frame) => {
            let n = read_frame(dev, data, frame, to, ctx(buf_len).vnet_hdr_sz)?;
            return Ok(usize::try_from(n).unwrap_or(usize::MAX));
        }
    };
    let ctx = ctx(buf_len);
    let plan = match vnet_out::plan_read(&ctx, &info) {
        Ok(plan) => plan,
        Err(e) => {
            // C frees the packet and counts nothing; rtun counts the reason.
            data.count_drop(dev, e.drop_reason());
            let unexpected = matches!(e, OutError::UnexpectedGsoType | OutError::UnexpectedTunnel);
            if unexpected && net_ratelimit() {
                // As C's message; its `hdr_len` is the linear length then
                // (`virtio_net_hdr_from_skb()`), and `pr_err!` adds "rtun: ".
                // Copies, as for the tag in `put()`: the message takes
                // references, and one into `info` would keep all of it in
                // memory on every read.
                let (gso_type, gso_size, head_len) = (info.gso_type, info.gso_size, info.head_len);
                pr_err!(
                    "unexpected GSO type: {:#x}, gso_size {}, hdr_len {}\n",
                    gso_type,
                    gso_size,
                    head_len
                );
            }
            // C has written the PI by the time the header is refused.
            if let Ok(Some(pi)) = vnet_out::plan_pi(&ctx, &info) {
                put_pi(to, pi)?;
            }
            return Err(from_errno(e.errno()));
        }
    };
    // The packet is used up whatever happens from here, as in C: freed as
    // consumed when read, as dropped when the copy of its headers faulted
    // (counted by rtun, not by C).
    if let Err(e) = put(&skb, &info, &plan, to) {
        let reason = if plan.overrun {
            OutError::HdrTooSmallForOffloads.drop_reason()
        } else {
            DropReason::TxLostReadFault
        };
        data.count_drop(dev, reason);
        return Err(e);
    }
    skb.consume_sent(dev, u32::try_from(plan.tx_bytes).unwrap_or(u32::MAX));
    Ok(plan.ret)
}

/// `tun_put_user_xdp()`: a frame sent to the device (`ndo_xdp_xmit`, or
/// the write path's `XDP_TX`) is read behind a zeroed virtio-net header if
/// the device has one, never behind a PI header, and cut silently to the
/// buffer; the header and what was copied count as sent.
///
/// Returns the length as a `u32` (a frame is at most a page): a
/// `Result<u32>` comes back in registers, a `Result<usize>` through the
/// stack, and every read's result would go through that stack slot too.
#[cold]
#[inline(never)]
fn read_frame(
    dev: &NetDevice,
    data: &RtunDev,
    frame: XdpFrame,
    to: &mut IovIter,
    vnet_hdr_sz: Option<u32>,
) -> Result<u32> {
    let mut hdr_len = 0;
    if let Some(sz) = vnet_hdr_sz {
        let sz = sz as usize;
        // As for a packet, the frame is lost if the header does not fit
        // (C gives it back and counts nothing).
        if to.count() < sz {
            data.count_drop(dev, DropReason::TxLostReadShortForHdr);
            return Err(from_errno(EINVAL));
        }
        let pad = sz.saturating_sub(VIRTIO_NET_HDR_LEN);
        let head = ZEROES.get(..VIRTIO_NET_HDR_LEN).unwrap_or(&ZEROES);
        if put_all(to, head).is_err() || PAD_FAULT.fails(put_zeroes(to, pad), pad) {
            data.count_drop(dev, DropReason::TxLostReadFault);
            return Err(from_errno(EFAULT));
        }
        hdr_len = sz;
    }
    let copied = frame.put(to, dev, u32::try_from(hdr_len).unwrap_or(u32::MAX));
    Ok(u32::try_from(copied.saturating_add(hdr_len)).unwrap_or(u32::MAX))
}
