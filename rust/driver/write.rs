// SPDX-License-Identifier: GPL-2.0

//! The write path: one user write becomes one received packet (`tun_get_user()`).
//!
//! The checks and the skb layout come from the pure planner in
//! [`crate::pure::vnet_hdr`]; this module copies the bytes, applies the plan to the
//! skb through [`Skb`], picks the protocol, and counts as C counts.

use super::device::RtunDev;
use super::tunfile::TunFile;
use crate::abstractions::compat::TUN_ABI;
use crate::abstractions::error::from_errno;
use crate::abstractions::file::IovIter;
use crate::abstractions::netdev::NetDevice;
use crate::abstractions::skb::{self, Skb};
use crate::abstractions::xdp::XdpOutcome;
use crate::pure::abi::TUN_VNET_TNL_SIZE;
use crate::pure::drops::{self, DropReason};
use crate::pure::errno::{EAGAIN, EBUSY, EFAULT, EINVAL, EIO, ENOMEM};
use crate::pure::iff::Kind;
use crate::pure::uapi::{IFF_NO_PI, IFF_VNET_HDR};
use crate::pure::vnet_hdr::{
    self, ApplyCtx, FlowKeys, Frame, HdrError, Layout, SkbAlloc, SkbPlan, Split, TunnelOffsets,
    VnetHdr, WriteCtx, ETH_HLEN, TUN_PI_LEN,
};
use kernel::error::{Error, Result};

/// Counts a refused write the way C does, under its reason, and returns
/// its error.
fn refuse(dev: &NetDevice, data: &RtunDev, e: HdrError) -> Error {
    data.count_drop(dev, e.drop_reason());
    from_errno(e.errno())
}

/// Counts a packet dropped for `reason` and passes `e` on.
fn dropped(dev: &NetDevice, data: &RtunDev, reason: DropReason, e: Error) -> Error {
    data.count_drop(dev, reason);
    e
}

/// The packet in its skb, as the Linux 7.x header rules look at it.
struct SkbFrame<'a>(&'a mut Skb);

impl Frame for SkbFrame<'_> {
    fn byte(&self, off: usize) -> Option<u8> {
        self.0.byte_at(off)
    }

    fn header_protocol(&mut self) -> u16 {
        self.0.header_protocol()
    }

    fn dissect(&mut self, proto: u16) -> Option<FlowKeys> {
        self.0.flow_dissect(proto)
    }
}

/// Counts a failed allocation, or a fault while copying into a built skb,
/// as C does (not `EAGAIN`: no room in the send buffer is not a drop) and
/// passes `e` on.
fn alloc_failed(dev: &NetDevice, data: &RtunDev, e: Error) -> Error {
    let errno = e.to_errno();
    if errno != -EAGAIN {
        data.count_drop(dev, DropReason::from_alloc_errno(errno.wrapping_neg()));
    }
    e
}

/// Applies an accepted plan to the skb; false if the kernel disagrees.
///
/// The pulls of `virtio_net_hdr_to_skb()` only grow the head, so one pull
/// to the plan's final head length leaves the skb as C's sequence does.
///
/// Inlined into its one caller, where the plan is still in registers: out
/// of line it had to be written to memory first (rtun.ko's instruction
/// counts).
#[inline(always)]
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
    // Linux 7.x's flow dissector branch leaves a protocol and a transport header.
    if let Some(proto) = plan.protocol {
        skb.set_protocol(proto);
        if let Some(off) = plan.transport_offset {
            skb.set_transport(off);
        }
    }
    if let Some(tnl) = &plan.tunnel {
        skb.set_udp_tunnel(tnl);
    }
    true
}

/// Returns the EtherType of a TUN packet: the PI's as written, or with
/// `IFF_NO_PI` the IP version nibble's (refused, counted in `rx_dropped`,
/// if it is neither 4 nor 6).
#[inline(always)]
fn tun_proto(
    dev: &NetDevice,
    data: &RtunDev,
    skb: &mut Skb,
    pi: Option<[u8; TUN_PI_LEN]>,
) -> Result<u16> {
    match pi {
        // `struct tun_pi` as the user wrote it; C uses its `proto` as is.
        Some([_, _, p0, p1]) => Ok(u16::from_be_bytes([p0, p1])),
        // A `match`, not `map_err()`: LLVM kept that closure out of line,
        // one call per write.
        None => match vnet_hdr::check_tun_ip_version(skb.first_byte()) {
            Ok(l3) => Ok(l3.ethertype()),
            Err(e) => Err(refuse(dev, data, e)),
        },
    }
}

/// Builds an skb from one user write to `dev` and hands it to the stack.
///
/// Returns the whole length of the write, as C does.
///
/// `nonblock` is true for a non-blocking write, which on a TAP device may
/// take `tun_build_skb()`'s layout, as in C. Other writes are charged to
/// the writer's socket until their skb is freed. The writer's queue is
/// the packet's receive queue and, while active, where its flow is
/// learnt; with `IFF_NAPI` the packet goes through the file's NAPI
/// context (`EBUSY` if its queue is detached), with `IFF_NAPI_FRAGS` it is
/// built in that context's frags and handed to GRO at once.
pub(crate) fn write(
    dev: &NetDevice,
    data: &RtunDev,
    file: &TunFile,
    from: &mut IovIter,
    nonblock: bool,
) -> Result<usize> {
    let sock = file.sock();
    let total = from.count();
    let flags = data.flags();
    let no_pi = flags & IFF_NO_PI != 0;
    let vnet_hdr_sz = (flags & IFF_VNET_HDR != 0).then(|| data.vnet_hdr_sz());
    let geometry = skb::GEOMETRY;
    let order = data.byte_order();
    let is_tap = data.kind() == Kind::Tap;
    let mut ctx = WriteCtx {
        total_len: total,
        is_tap,
        no_pi,
        vnet_hdr_sz,
        align: geometry.net_skb_pad,
        alloc: SkbAlloc::Paged,
        geometry,
        abi: TUN_ABI,
    };

    // W1 and W2 with the copies in between, in C's order, so a bad pointer
    // gives EFAULT exactly where C gives it.
    let mut split = Split::start(total);
    let mut pi = None;
    if !no_pi {
        split.take_pi().map_err(|e| refuse(dev, data, e))?;
        let mut raw = [0u8; TUN_PI_LEN];
        from.copy_from_full(&mut raw)?;
        pi = Some(raw);
    }
    let mut hdr = VnetHdr::default();
    let mut tunnel = TunnelOffsets::default();
    let mut parsed = 0;
    if let Some(sz) = vnet_hdr_sz {
        split.take_vnet_hdr(sz).map_err(|e| refuse(dev, data, e))?;
        // 10 bytes, or on Linux 7.x all 24 of a tunnel-sized header.
        parsed = TUN_ABI.write_parsed_size(split.vnet_hdr_sz);
        let mut raw = [0u8; TUN_VNET_TNL_SIZE];
        let Some(head) = raw.get_mut(..parsed) else {
            return Err(from_errno(EINVAL));
        };
        from.copy_from_full(head)?;
        (hdr, tunnel) = VnetHdr::parse_tnl(&raw, order);
    }
    // `split.len` is now the packet's length, C's `len`.
    // C's tun_can_build_skb() also wants the default send buffer, and is
    // not asked for IFF_NAPI_FRAGS writes.
    let frags = sock.napi_frags();
    let build_ok = !frags && nonblock && sock.sndbuf() == i32::MAX;
    ctx.alloc = vnet_hdr::write_alloc(is_tap, build_ok, split.len, &geometry);
    let layout: Layout =
        vnet_hdr::plan_layout_split(&hdr, &ctx, split).map_err(|e| refuse(dev, data, e))?;
    // The rest of a header larger than what was parsed is skipped.
    from.advance(layout.split.vnet_hdr_sz.saturating_sub(parsed));

    // IFF_NAPI_FRAGS: the NAPI context has one skb in the making, this
    // write's from its allocation to its delivery (C's napi_mutex). Taken
    // first, dropped last: an skb freed on an error goes before the lock.
    let frags_lock = frags.then(|| sock.lock_frags());
    // Whether the XDP program, if any, is still to run on the skb (C's
    // `skb_xdp`): all but the build path's packets that it passed.
    let mut skb_xdp = true;
    let mut skb = match (&frags_lock, ctx.alloc) {
        (Some(lock), _) => {
            let mut skb = Skb::napi_alloc_frags(lock, layout.copy_len, from)
                .map_err(|e| alloc_failed(dev, data, e))?;
            skb.copy_from_iter(from, layout.copy_len)
                .map_err(|_| dropped(dev, data, DropReason::RxDropCopyFault, from_errno(EFAULT)))?;
            skb
        }
        (None, SkbAlloc::Paged) => {
            let mut skb = Skb::alloc(
                sock,
                nonblock,
                layout.headroom,
                layout.linear,
                layout.frags_len(),
            )
            .map_err(|e| alloc_failed(dev, data, e))?;
            skb.copy_from_iter(from, layout.copy_len)
                .map_err(|_| dropped(dev, data, DropReason::RxDropCopyFault, from_errno(EFAULT)))?;
            skb
        }
        (None, SkbAlloc::Linear { headroom }) if data.xdp().is_set() => {
            // tun_build_skb() with a program: it runs on the bytes unless the
            // packet is GSO; what it does not pass ends the write here.
            let gso = hdr.gso_type != 0;
            let built = Skb::build_xdp(dev, sock, data.xdp(), headroom, layout.copy_len, gso, from)
                .map_err(|e| alloc_failed(dev, data, e))?;
            match built {
                (Some(skb), outcome) => {
                    skb_xdp = outcome == XdpOutcome::NotRun;
                    skb
                }
                (None, outcome) => {
                    if let XdpOutcome::Consumed { act, err } = outcome {
                        if let Some(reason) = drops::xdp_verdict_drop(act, err < 0) {
                            data.count_drop(dev, reason);
                        }
                    }
                    return Ok(total);
                }
            }
        }
        (None, SkbAlloc::Linear { headroom }) => {
            Skb::build_from_iter(headroom, layout.copy_len, from)
                .map_err(|e| alloc_failed(dev, data, e))?
        }
    };

    // Linux 7.x sets the packet's layer 3 up before it applies the header
    // (TUN: the protocol, refusing a bad version nibble first; TAP: the
    // network header behind the Ethernet header); 6.12 does it after.
    let mut l3_proto = 0;
    if TUN_ABI.l3_before_vnet_hdr() {
        if is_tap {
            if !skb.may_pull(ETH_HLEN as u32) {
                return Err(dropped(
                    dev,
                    data,
                    DropReason::RxDropEthHdrTrunc,
                    from_errno(ENOMEM),
                ));
            }
            skb.set_l2(dev, ETH_HLEN as u16);
        } else {
            l3_proto = tun_proto(dev, data, &mut skb, pi)?;
            skb.set_l2(dev, 0);
            skb.set_protocol(l3_proto);
        }
    }
    // IFF_NAPI_FRAGS: the head is the first iovec segment, not the
    // planned linear part, so the header rules' pulls start from the skb's
    // own head (tun_napi_alloc_frags()).
    // C counts the written length in rx_bytes, whatever XDP made of it.
    let rx_len = layout.copy_len;
    let layout = if frags_lock.is_some() {
        Layout {
            linear: usize::try_from(skb.headlen()).unwrap_or(layout.linear),
            ..layout
        }
    } else if !skb_xdp {
        // The XDP program passed the packet, maybe longer or shorter
        // (bpf_xdp_adjust_head/tail): the rules apply to what it passed,
        // all of it linear, as C's apply to the skb around it.
        let len = usize::try_from(skb.len()).unwrap_or(layout.copy_len);
        Layout {
            linear: len,
            copy_len: len,
            ..layout
        }
    } else {
        layout
    };
    let apply_ctx = ApplyCtx {
        abi: TUN_ABI,
        order,
        tunnel,
        l3_proto,
    };
    let plan = vnet_hdr::plan_skb_frame(
        &hdr,
        vnet_hdr_sz.is_some(),
        &layout,
        &apply_ctx,
        &mut SkbFrame(&mut skb),
    )
    .map_err(|e| refuse(dev, data, e))?;
    if !apply(&mut skb, &plan) {
        data.count_drop(dev, DropReason::RxFrameSkbRefused);
        return Err(from_errno(EINVAL));
    }

    if is_tap {
        skb.eth_type_trans(dev)
            .map_err(|e| dropped(dev, data, DropReason::RxDropEthHdrTrunc, e))?;
    } else if !TUN_ABI.l3_before_vnet_hdr() {
        let proto = tun_proto(dev, data, &mut skb, pi)?;
        skb.set_l3(dev, proto);
    }
    // C hashes (headers set) before it checks that the device is up.
    let queue = file.queue_index();
    skb.set_rx_headers(queue);
    // Generic XDP on a TAP device with a program: what it does not pass
    // ends the write, uncounted, as in C.
    if skb_xdp && data.xdp().is_set() {
        match skb.xdp_generic(data.xdp(), frags_lock.as_ref()) {
            Some(passed) => skb = passed,
            None => return Ok(total),
        }
    }
    let active = (!file.is_detached()).then_some(queue);
    let flow = data.flow_to_learn(active, &skb);
    if !dev.is_running() {
        return Err(dropped(
            dev,
            data,
            DropReason::RxDropDevDown,
            from_errno(EIO),
        ));
    }
    let len = u32::try_from(rx_len).unwrap_or(u32::MAX);
    if let Some(lock) = &frags_lock {
        // GRO through the context; C counts nothing when it cannot be
        // scheduled (a detached queue), and its headers check in rx_dropped.
        if let Err(e) = skb.deliver_frags(dev, len, lock) {
            let reason = if e.to_errno() == -EBUSY {
                DropReason::RxLostNapiDetached
            } else {
                DropReason::RxDropFragsHeadlen
            };
            data.count_drop(dev, reason);
            return Err(e);
        }
    } else {
        let napi = sock.napi_enabled().then(|| (sock, file.detached_flag()));
        if let Err(skb) = skb.deliver(dev, len, napi) {
            drop(skb);
            data.count_drop(dev, DropReason::RxLostNapiDetached);
            return Err(from_errno(EBUSY));
        }
    }
    if let Some(flow) = flow {
        data.learn_flow(flow);
    }
    Ok(total)
}
