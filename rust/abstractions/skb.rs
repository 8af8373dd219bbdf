// SPDX-License-Identifier: GPL-2.0

//! Owned socket buffers: building a received packet and handing it to the stack.

use super::ffi;
use super::file::IovIter;
use super::netdev::NetDevice;
use super::sock::{FragsGuard, Sock};
use super::xdp::{XdpOutcome, XdpSlot};
use crate::pure::uapi::XDP_PASS;
use crate::pure::vnet_hdr::{FlowKeys, SkbGeometry, TunnelOffsets, TunnelPlan};
use crate::pure::vnet_out::{IpSummed, SkbInfo, VlanTag};
use core::ptr::NonNull;
use core::sync::atomic::AtomicBool;
use kernel::bindings;
use kernel::error::{
    code::{EFAULT, ENOMEM},
    to_result, Error, Result,
};
use kernel::ffi::c_int;

// The pure layer's GSO bits must be the kernel's (bindgen types them
// `u32` on 6.12 and `i32` on 7.x, hence the casts).
const _: () = {
    use crate::pure::vnet_hdr as v;
    assert!(v::SKB_GSO_TCPV4 as i64 == bindings::SKB_GSO_TCPV4 as i64);
    assert!(v::SKB_GSO_DODGY as i64 == bindings::SKB_GSO_DODGY as i64);
    assert!(v::SKB_GSO_TCP_ECN as i64 == bindings::SKB_GSO_TCP_ECN as i64);
    assert!(v::SKB_GSO_TCPV6 as i64 == bindings::SKB_GSO_TCPV6 as i64);
    assert!(v::SKB_GSO_UDP as i64 == bindings::SKB_GSO_UDP as i64);
    assert!(v::SKB_GSO_UDP_L4 as i64 == bindings::SKB_GSO_UDP_L4 as i64);
    assert!(v::SKB_GSO_UDP_TUNNEL as i64 == bindings::SKB_GSO_UDP_TUNNEL as i64);
    assert!(v::SKB_GSO_UDP_TUNNEL_CSUM as i64 == bindings::SKB_GSO_UDP_TUNNEL_CSUM as i64);
};

/// The sizes of the kernel built against that decide an skb's layout.
///
/// Constants, as in C: `include/rtun.h` has the compiler compute them
/// from the kernel's macros (and the shim checks them), so the write
/// planner folds them instead of reading them per write.
pub(crate) const GEOMETRY: SkbGeometry = SkbGeometry {
    page_size: ffi::RTUN_PAGE_SIZE,
    shinfo_size: ffi::RTUN_SHINFO_SIZE,
    max_skb_frags: ffi::RTUN_MAX_SKB_FRAGS,
    costly_order: ffi::RTUN_COSTLY_ORDER,
    net_ip_align: ffi::RTUN_NET_IP_ALIGN,
    net_skb_pad: ffi::RTUN_NET_SKB_PAD,
    smp_cache_bytes: ffi::RTUN_SMP_CACHE_BYTES,
};

/// An `sk_buff` this code owns; it is freed when dropped.
///
/// # Invariants
///
/// `ptr` points to a valid `sk_buff` owned by this value.
pub(crate) struct Skb {
    ptr: NonNull<bindings::sk_buff>,
}

// SAFETY: an owned skb may be handed to and freed on any thread.
unsafe impl Send for Skb {}

impl Skb {
    /// Takes ownership of `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid, non-null `sk_buff` whose ownership passes to the
    /// returned value.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::sk_buff) -> Self {
        // SAFETY: non-null by the caller's promise.
        let ptr = unsafe { NonNull::new_unchecked(ptr) };
        // INVARIANT: ownership passes to us.
        Self { ptr }
    }

    /// Allocates an skb with `headroom` bytes reserved, a `linear` byte head and
    /// `data_len` bytes of page frags, all counted in its length (`tun_alloc_skb()`).
    ///
    /// It is charged to `sock` until freed; without room in the send buffer
    /// a `nonblock` caller gets `EAGAIN`, any other waits for room
    /// (`ERESTARTSYS` on a signal), as `sock_alloc_send_pskb()` does.
    pub(crate) fn alloc(
        sock: &Sock,
        nonblock: bool,
        headroom: u32,
        linear: usize,
        data_len: usize,
    ) -> Result<Skb> {
        let mut err: c_int = 0;
        // SAFETY: `sock` is live; process context (a write), where the
        // allocation may sleep; `err` is valid for writes.
        let raw = unsafe {
            ffi::rtun_skb_alloc(
                sock.as_ptr(),
                nonblock,
                headroom,
                linear,
                data_len,
                &mut err,
            )
        };
        Self::fresh(raw, err)
    }

    /// Copies a `len`-byte packet from `from` into the task's page frag behind
    /// `headroom` bytes and builds a linear skb around it (`tun_build_skb()`).
    ///
    /// Fails with `EFAULT` if the copy faults, `ENOMEM` without memory.
    pub(crate) fn build_from_iter(headroom: u32, len: usize, from: &mut IovIter) -> Result<Skb> {
        let mut err: c_int = 0;
        // SAFETY: process context (a write), where the task's page frag is
        // ours to use; the iterator is ours; `err` is valid for writes.
        let raw = unsafe { ffi::rtun_skb_build_from_iter(headroom, len, from.as_ptr(), &mut err) };
        Self::fresh(raw, err)
    }

    /// [`Skb::build_from_iter`] on a TAP device with an XDP program in
    /// `xdp`: unless the packet is `gso`, the program runs on the bytes
    /// with the receive queue of `sock` before an skb exists
    /// (`tun_build_skb()`), and a verdict other than `XDP_PASS` is acted on
    /// (dropped, redirected, sent back to `dev`'s readers).
    ///
    /// Returns the skb with [`XdpOutcome::NotRun`] or
    /// [`XdpOutcome::Pass`], or no skb and [`XdpOutcome::Consumed`]; fails
    /// with `EFAULT` or `ENOMEM` as [`Skb::build_from_iter`].
    pub(crate) fn build_xdp(
        dev: &NetDevice,
        sock: &Sock,
        xdp: &XdpSlot,
        headroom: u32,
        len: usize,
        gso: bool,
        from: &mut IovIter,
    ) -> Result<(Option<Skb>, XdpOutcome)> {
        let mut res = ffi::rtun_xdp_result {
            err: 0,
            act: 0,
            act_err: 0,
        };
        // SAFETY: process context (a write), where the task's page frag is
        // ours to use; the device, the socket (whose receive queue info was
        // registered when its file attached) and the slot are live for the
        // call; the shim reads the slot under RCU; `res` is valid for writes.
        let raw = unsafe {
            ffi::rtun_skb_build_xdp(
                dev.as_ptr(),
                sock.as_ptr(),
                xdp.as_raw(),
                headroom,
                len,
                gso,
                from.as_ptr(),
                &mut res,
            )
        };
        if res.err < 0 {
            return Err(Error::from_errno(res.err));
        }
        let outcome = XdpOutcome::from_raw(&res, !raw.is_null());
        // INVARIANT: a fresh skb that only we know about.
        let skb = NonNull::new(raw).map(|ptr| Skb { ptr });
        Ok((skb, outcome))
    }

    /// Generic XDP (`do_xdp_generic()` in `tun_get_user()`): the program
    /// in `xdp`, if any, runs on the skb. Returns the skb it passed (maybe
    /// another one, which becomes the NAPI frags context's if `frags`), or
    /// `None`: the packet was dropped, redirected or sent back.
    pub(crate) fn xdp_generic(self, xdp: &XdpSlot, frags: Option<&FragsGuard<'_>>) -> Option<Skb> {
        let mut raw = self.into_raw();
        let frags_sk = frags.map_or(core::ptr::null_mut(), FragsGuard::sock_ptr);
        // SAFETY: the skb is ours and passes to the shim, which leaves the
        // one the program passed in `raw` or frees it; the slot is live and
        // read under RCU; `frags_sk` is null or the socket whose frags lock
        // the guard proves held, whose context's skb this is.
        let ret = unsafe { ffi::rtun_skb_xdp_generic(xdp.as_raw(), &mut raw, frags_sk) };
        if ret != XDP_PASS {
            return None;
        }
        // INVARIANT: the skb the program passed is ours again.
        NonNull::new(raw).map(|ptr| Skb { ptr })
    }

    /// Takes the NAPI context's skb for an `IFF_NAPI_FRAGS` write of `len`
    /// bytes laid out as the rest of `from` (`tun_napi_alloc_frags()`): the
    /// current segment linear, each further one a page fragment.
    ///
    /// Fails with `EMSGSIZE` (too many segments, too long), `EINVAL` (an
    /// empty segment, or one longer than a page) or `ENOMEM`.
    pub(crate) fn napi_alloc_frags(
        frags: &FragsGuard<'_>,
        len: usize,
        from: &mut IovIter,
    ) -> Result<Skb> {
        let mut err: c_int = 0;
        // SAFETY: the frags lock is held (the guard), so the context's skb
        // is this write's; the socket's NAPI context was set up for frags
        // (the caller checked `napi_frags()`); the iterator is only read;
        // `err` is valid for writes.
        let raw = unsafe {
            ffi::rtun_skb_napi_alloc_frags(frags.sock_ptr(), len, from.as_ptr(), &mut err)
        };
        Self::fresh(raw, err)
    }

    /// Wraps what a shim allocator returned: a new skb, or null and the
    /// errno in `err` (`ENOMEM` if it left none).
    fn fresh(raw: *mut bindings::sk_buff, err: c_int) -> Result<Skb> {
        match NonNull::new(raw) {
            // INVARIANT: a fresh skb that only we know about.
            Some(ptr) => Ok(Skb { ptr }),
            None if err < 0 => Err(Error::from_errno(err)),
            None => Err(ENOMEM),
        }
    }

    /// Converts what the shim read from an skb into the planner's terms.
    #[inline]
    pub(crate) fn info_from_raw(i: &ffi::rtun_skb_info) -> SkbInfo {
        SkbInfo {
            len: i.len,
            head_len: i.head_len,
            protocol: i.protocol,
            gso_size: i.gso_size,
            gso_type: i.gso_type,
            ip_summed: IpSummed::from_raw(i.ip_summed),
            csum_start_offset: i.csum_start,
            csum_offset: i.csum_offset,
            vlan: (i.vlan_present != 0).then_some(VlanTag {
                proto: i.vlan_proto,
                tci: i.vlan_tci,
            }),
            tunnel: TunnelOffsets {
                outer_th: i.outer_th,
                inner_nh: i.inner_nh,
            },
        }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::sk_buff {
        self.ptr.as_ptr()
    }

    /// Gives up ownership, for a C function that takes it.
    pub(crate) fn into_raw(self) -> *mut bindings::sk_buff {
        let ptr = self.as_ptr();
        core::mem::forget(self);
        ptr
    }

    /// Fills the first `len` bytes of the packet, head then frags, from `from`.
    pub(crate) fn copy_from_iter(&mut self, from: &mut IovIter, len: usize) -> Result {
        // SAFETY: the skb is ours and at least `len` bytes long (the caller
        // allocated it so); the iterator is ours.
        let ret = unsafe { ffi::rtun_skb_copy_from_iter(self.as_ptr(), from.as_ptr(), len) };
        if ret == 0 {
            Ok(())
        } else {
            Err(EFAULT)
        }
    }

    /// Makes the first `len` bytes linear (`pskb_may_pull()`); false if the packet is shorter.
    pub(crate) fn may_pull(&mut self, len: u32) -> bool {
        // SAFETY: the skb is ours.
        unsafe { ffi::rtun_skb_may_pull(self.as_ptr(), len) }
    }

    /// Marks the packet `CHECKSUM_PARTIAL` (`skb_partial_csum_set()`); false if out of range.
    pub(crate) fn partial_csum_set(&mut self, start: u16, offset: u16) -> bool {
        // SAFETY: the skb is ours; the function checks the range itself.
        unsafe { ffi::rtun_skb_partial_csum_set(self.as_ptr(), start, offset) }
    }

    /// Sets the GSO type and size and clears the segment count.
    pub(crate) fn set_gso(&mut self, gso_type: u32, gso_size: u16) {
        // SAFETY: the skb is ours and not shared, so its shared info is ours too.
        unsafe { ffi::rtun_skb_set_gso(self.as_ptr(), gso_type, gso_size) };
    }

    /// Returns the first byte of the packet, pulled into the head, if there is one.
    pub(crate) fn first_byte(&mut self) -> Option<u8> {
        // SAFETY: the skb is ours; the shim pulls one byte before reading it.
        u8::try_from(unsafe { ffi::rtun_skb_first_byte(self.as_ptr()) }).ok()
    }

    /// Returns byte `off` of the packet, wherever it lies, or `None` past its end.
    pub(crate) fn byte_at(&self, off: usize) -> Option<u8> {
        let off = u32::try_from(off).ok()?;
        // SAFETY: the skb is ours; the shim reads through `skb_copy_bits()`,
        // which checks `off` against the packet's length.
        u8::try_from(unsafe { ffi::rtun_skb_byte_at(self.as_ptr(), off) }).ok()
    }

    /// Marks the packet as coming from `dev`, with its MAC header at the
    /// start and its network header `nhoff` bytes in.
    ///
    /// This is where Linux 7.x's `tun_get_user()` leaves the skb when it
    /// applies the virtio-net header; `nhoff` is at most the packet's length.
    pub(crate) fn set_l2(&mut self, dev: &NetDevice, nhoff: u16) {
        // SAFETY: the skb is ours; `dev` is live and outlives the packet's
        // delivery (as for `set_l3()`); the header offsets are only
        // recorded, and the caller keeps them inside the packet.
        unsafe { ffi::rtun_skb_set_l2(self.as_ptr(), dev.as_ptr(), nhoff) };
    }

    /// Returns `dev_parse_header_protocol()` in CPU order (0: unknown).
    ///
    /// [`Skb::set_l2`] must have run: it names the device and the headers.
    pub(crate) fn header_protocol(&self) -> u16 {
        // SAFETY: the skb is ours; `set_l2()` set `skb->dev` to a live device
        // and the MAC and network headers inside the packet, which is what
        // the device's `parse_protocol` reads.
        unsafe { ffi::rtun_skb_header_protocol(self.as_ptr()) }
    }

    /// Sets `skb->protocol` to `proto` and runs the kernel's basic flow
    /// dissector over the packet.
    pub(crate) fn flow_dissect(&mut self, proto: u16) -> Option<FlowKeys> {
        let mut keys = ffi::rtun_flow_keys::default();
        // SAFETY: the skb is ours and `keys` is valid for writes; the
        // dissector reads the packet through `skb_header_pointer()`.
        let ok = unsafe { ffi::rtun_skb_flow_dissect(self.as_ptr(), proto, &mut keys) };
        ok.then_some(FlowKeys {
            thoff: keys.thoff,
            n_proto: keys.n_proto,
            ip_proto: keys.ip_proto,
        })
    }

    /// Records the transport header `off` bytes into the packet.
    pub(crate) fn set_transport(&mut self, off: u32) {
        // SAFETY: the skb is ours; the offset is only recorded.
        unsafe { ffi::rtun_skb_set_transport(self.as_ptr(), off) };
    }

    /// Sets `skb->protocol` to EtherType `proto` (CPU order).
    pub(crate) fn set_protocol(&mut self, proto: u16) {
        // SAFETY: the skb is ours.
        unsafe { ffi::rtun_skb_set_protocol(self.as_ptr(), proto) };
    }

    /// Applies the UDP tunnel GSO metadata of a written packet (Linux 7.x).
    pub(crate) fn set_udp_tunnel(&mut self, tnl: &TunnelPlan) {
        let raw = ffi::rtun_udp_tunnel {
            gso_bit: tnl.gso_bit,
            inner_proto: tnl.inner_proto,
            inner_th: tnl.inner_th,
            inner_nh: tnl.inner_nh,
            outer_th: tnl.outer_th,
        };
        // SAFETY: the skb is ours and not shared, so its shared info is ours
        // too; the offsets are only recorded (the pure rules keep them
        // inside the pulled head).
        unsafe { ffi::rtun_skb_set_udp_tunnel(self.as_ptr(), &raw) };
    }

    /// Sets up a layer 3 packet from `dev` carrying EtherType `proto` (CPU order).
    pub(crate) fn set_l3(&mut self, dev: &NetDevice, proto: u16) {
        // SAFETY: the skb is ours; `dev` is live and outlives the packet's
        // delivery (the stack takes its own reference when it keeps it).
        unsafe { ffi::rtun_skb_set_l3(self.as_ptr(), dev.as_ptr(), proto) };
    }

    /// Parses the Ethernet header for `dev` (`eth_type_trans()`); the head must hold it.
    #[inline]
    pub(crate) fn eth_type_trans(&mut self, dev: &NetDevice) -> Result {
        if !self.may_pull(bindings::ETH_HLEN) {
            return Err(ENOMEM);
        }
        // SAFETY: the skb is ours, its head holds an Ethernet header, `dev` is live.
        unsafe { ffi::rtun_skb_eth_type_trans(self.as_ptr(), dev.as_ptr()) };
        Ok(())
    }

    /// Counts the packet as `len` bytes sent by `dev` and frees it as used.
    #[inline]
    pub(crate) fn consume_sent(self, dev: &NetDevice, len: u32) {
        // SAFETY: we own the skb and pass it to `consume_skb()`; `dev` is live
        // and the shim disables preemption around its per-CPU counters.
        unsafe { ffi::rtun_skb_consume_sent(self.into_raw(), dev.as_ptr(), len) };
    }

    /// Sets the network and transport headers of a written packet and its
    /// receive queue `rxq` (the writer's), as `tun_get_user()` does before
    /// it hashes the flow.
    pub(crate) fn set_rx_headers(&mut self, rxq: u16) {
        // SAFETY: the skb is ours, its data set up by the write path.
        unsafe { ffi::rtun_skb_rx_headers(self.as_ptr(), rxq) };
    }

    /// Hands the packet to the stack (`netif_receive_skb()`), or with
    /// `napi` (a file's socket with `IFF_NAPI`, and whether its queue is
    /// detached) queues it for the socket's NAPI poll, and counts `len`
    /// bytes received on `dev`. A detached queue refuses the packet with
    /// `EBUSY` and gives it back.
    pub(crate) fn deliver(
        self,
        dev: &NetDevice,
        len: u32,
        napi: Option<(&Sock, &AtomicBool)>,
    ) -> core::result::Result<(), Skb> {
        let (sk, detached) = napi.map_or((core::ptr::null_mut(), core::ptr::null()), |(s, d)| {
            (s.as_ptr(), d.as_ptr().cast_const())
        });
        let raw = self.into_raw();
        // SAFETY: ownership of the skb passes to the stack unless the call
        // fails; `dev` is live; `sk` is null or a live socket whose NAPI
        // context is set up, and `detached` then a live flag (an
        // `AtomicBool` is a `bool` in memory); the shim disables preemption
        // around its per-CPU counters.
        let ret = unsafe { ffi::rtun_skb_deliver(raw, dev.as_ptr(), len, sk, detached) };
        if ret == 0 {
            Ok(())
        } else {
            // SAFETY: refused: the skb is still ours.
            Err(unsafe { Skb::from_raw(raw) })
        }
    }

    /// Hands an `IFF_NAPI_FRAGS` skb to GRO through its NAPI context
    /// (`napi_gro_frags()`), counting `len` received bytes; the skb is gone
    /// either way. Fails with `EBUSY` if the context cannot be scheduled
    /// (its queue is detached), `ENOMEM` if the packet's headers are not in
    /// its linear part.
    pub(crate) fn deliver_frags(self, dev: &NetDevice, len: u32, frags: &FragsGuard<'_>) -> Result {
        let raw = self.into_raw();
        // SAFETY: the skb is the context's (made by `napi_alloc_frags()`
        // under the same lock, which the guard proves held); the shim frees
        // or delivers it in every case; `dev` is live.
        to_result(unsafe { ffi::rtun_skb_deliver_frags(raw, dev.as_ptr(), len, frags.sock_ptr()) })
    }

    /// Returns the first `N` bytes of the packet's data, or `None` if it is
    /// shorter (`skb_copy_bits()`).
    pub(crate) fn head_bytes<const N: usize>(&self) -> Option<[u8; N]> {
        let mut buf = [0u8; N];
        let len = u32::try_from(N).ok()?;
        // SAFETY: the skb is valid (type invariant) and `buf` has `N` bytes.
        unsafe { ffi::rtun_skb_copy_head(self.ptr.as_ptr(), buf.as_mut_ptr(), len) }.then_some(buf)
    }

    /// Returns the packet's length (`skb->len`).
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: the skb is valid and ours (type invariant); `len` is a
        // plain field nobody else writes meanwhile.
        unsafe { (*self.ptr.as_ptr()).len }
    }

    /// Returns the length of the linear part (`skb_headlen()`).
    pub(crate) fn headlen(&self) -> u32 {
        // SAFETY: as in `len`; `data_len` is a plain field as well.
        let data_len = unsafe { (*self.ptr.as_ptr()).data_len };
        self.len().saturating_sub(data_len)
    }

    /// Returns the transmit queue the core picked for the packet
    /// (`skb_get_queue_mapping()`).
    #[inline]
    pub(crate) fn queue_mapping(&self) -> u16 {
        // SAFETY: the skb is valid while borrowed.
        unsafe { ffi::rtun_skb_queue_mapping(self.as_ptr()) }
    }

    /// Returns the packet's symmetric flow hash (`__skb_get_hash_symmetric()`),
    /// the same for both directions of a flow.
    #[inline]
    pub(crate) fn hash_symmetric(&self) -> u32 {
        // SAFETY: the skb is valid while borrowed; the kernel only reads it.
        unsafe { ffi::rtun_skb_hash_symmetric(self.as_ptr()) }
    }

    /// Trims the packet to `len` bytes, if it is longer (`pskb_trim()`);
    /// false if that needed memory it could not get.
    pub(crate) fn trim(&mut self, len: u32) -> bool {
        // SAFETY: the skb is ours.
        unsafe { ffi::rtun_skb_trim(self.as_ptr(), len) }
    }

    /// Detaches a packet the device is going to hold from its sender, as
    /// `tun_net_xmit()` does; false if its frags cannot be made private.
    pub(crate) fn tx_prepare(&mut self) -> bool {
        // SAFETY: the skb is ours.
        unsafe { ffi::rtun_skb_tx_prepare(self.as_ptr()) }
    }

    /// Copies `len` bytes of the packet from `offset` to `to`; `EFAULT` on a fault.
    pub(crate) fn copy_to_iter(&self, offset: u32, to: &mut IovIter, len: u32) -> Result {
        let (Ok(offset), Ok(len)) = (c_int::try_from(offset), c_int::try_from(len)) else {
            return Err(EFAULT);
        };
        // SAFETY: the skb is ours and `skb_copy_datagram_iter()` checks the range.
        let ret =
            unsafe { bindings::skb_copy_datagram_iter(self.as_ptr(), offset, to.as_ptr(), len) };
        if ret == 0 {
            Ok(())
        } else {
            Err(EFAULT)
        }
    }
}

impl Drop for Skb {
    fn drop(&mut self) {
        // SAFETY: we own the skb and never use it again.
        unsafe { ffi::rtun_kfree_skb(self.ptr.as_ptr()) };
    }
}
