// SPDX-License-Identifier: GPL-2.0

//! Rust mirror of section 1 of `include/rtun.h`: what the C shim exports.
//!
//! Only the abstraction modules use these; each call site carries a
//! `// SAFETY:` comment. Keep every declaration in step with the header.
//! `struct file` and `struct kiocb` are passed as `c_void`: their bindgen
//! types hold fields rustc does not consider FFI-safe.

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint, c_void};

/// Mirror of `struct rtun_netdev_cfg`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct RtunNetdevCfg {
    pub(crate) hw_features: u64,
    pub(crate) features: u64,
    pub(crate) vlan_features: u64,
    pub(crate) flags: u32,
    pub(crate) priv_flags_set: u32,
    pub(crate) priv_flags_clear: u32,
    pub(crate) mtu: u32,
    pub(crate) min_mtu: u32,
    pub(crate) max_mtu: u32,
    pub(crate) tx_queue_len: u32,
    pub(crate) type_: u16,
    pub(crate) hard_header_len: u16,
    pub(crate) addr_len: u8,
    pub(crate) ether: u8,
    pub(crate) lltx: u8,
}

/// Mirror of `struct rtun_skb_geometry`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct RtunSkbGeometry {
    pub(crate) page_size: u32,
    pub(crate) shinfo_size: u32,
    pub(crate) max_skb_frags: u32,
    pub(crate) costly_order: u32,
    pub(crate) net_ip_align: u32,
    pub(crate) net_skb_pad: u32,
    pub(crate) smp_cache_bytes: u32,
}

/// Mirror of `struct rtun_skb_info`.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub(crate) struct RtunSkbInfo {
    pub(crate) len: u32,
    pub(crate) head_len: u32,
    pub(crate) gso_type: u32,
    pub(crate) gso_size: u16,
    pub(crate) protocol: u16,
    pub(crate) ip_summed: u8,
    pub(crate) vlan_present: u8,
    pub(crate) vlan_proto: u16,
    pub(crate) vlan_tci: u16,
    pub(crate) csum_offset: u16,
    pub(crate) csum_start: i32,
}

/// Mirror of `struct rtun_netdev_layout`.
#[repr(C)]
pub(crate) struct RtunNetdevLayout {
    pub(crate) priv_: usize,
    pub(crate) state: usize,
    pub(crate) tx_queue_len: usize,
}

/// `RTUN_IOCB_NOWAIT`, the `kiocb.ki_flags` bit of `RWF_NOWAIT` and io_uring.
pub(crate) const RTUN_IOCB_NOWAIT: c_int = 8;

/// `RTUN_LINK_STATE_START`, the bit of `net_device.state` `netif_running()` tests.
pub(crate) const RTUN_LINK_STATE_START: u32 = 0;

/// Room for a `struct ptr_ring` (`RTUN_PTR_RING_SIZE` and `_ALIGN`), which
/// the bindings do not have; the shim checks that the C struct fits.
#[repr(C, align(64))]
pub(crate) struct PtrRing {
    _room: [u8; 768],
}

/// `struct rtnl_link_stats64`, which Rust only passes through.
#[repr(C)]
pub(crate) struct RtnlLinkStats64 {
    _opaque: [u8; 0],
}

/// `RTUN_EVENT_TX_QUEUE_LEN`.
pub(crate) const RTUN_EVENT_TX_QUEUE_LEN: c_int = 1;

/// `RTUN_KIND_TUN`.
pub(crate) const RTUN_KIND_TUN: c_int = 1;
/// `RTUN_KIND_TAP`.
pub(crate) const RTUN_KIND_TAP: c_int = 2;

extern "C" {
    pub(crate) static rtun_netdev_layout: RtunNetdevLayout;

    pub(crate) fn rtun_misc_register() -> c_int;
    pub(crate) fn rtun_misc_deregister();
    pub(crate) fn rtun_link_register(priv_size: usize) -> c_int;
    pub(crate) fn rtun_link_unregister();

    pub(crate) fn rtun_rtnl_lock();
    pub(crate) fn rtun_rtnl_unlock();

    pub(crate) fn rtun_current_net_get() -> *mut bindings::net;
    pub(crate) fn rtun_net_put(net: *mut bindings::net);
    pub(crate) fn rtun_net_admin_capable(net: *mut bindings::net) -> bool;

    pub(crate) fn rtun_netdev_alloc(
        priv_size: usize,
        name: *const c_char,
    ) -> *mut bindings::net_device;
    pub(crate) fn rtun_netdev_free(dev: *mut bindings::net_device);
    pub(crate) fn rtun_netdev_configure(
        dev: *mut bindings::net_device,
        net: *mut bindings::net,
        cfg: *const RtunNetdevCfg,
    );
    pub(crate) fn rtun_netdev_register(dev: *mut bindings::net_device) -> c_int;
    pub(crate) fn rtun_netdev_unregister(dev: *mut bindings::net_device);
    pub(crate) fn rtun_netdev_priv(dev: *mut bindings::net_device) -> *mut c_void;
    pub(crate) fn rtun_netdev_get_by_name(
        net: *mut bindings::net,
        name: *const c_char,
    ) -> *mut bindings::net_device;
    pub(crate) fn rtun_netdev_kind(dev: *const bindings::net_device) -> c_int;
    pub(crate) fn rtun_netdev_name(dev: *const bindings::net_device, name: *mut c_char);
    pub(crate) fn rtun_netdev_hold(dev: *mut bindings::net_device);
    pub(crate) fn rtun_netdev_get_rcu(
        slot: *mut *mut bindings::net_device,
    ) -> *mut bindings::net_device;
    pub(crate) fn rtun_netdev_put(dev: *mut bindings::net_device);
    pub(crate) fn rtun_netdev_state_change(dev: *mut bindings::net_device);
    pub(crate) fn rtun_netif_carrier(dev: *mut bindings::net_device, on: bool);
    pub(crate) fn rtun_netif_tx_start(dev: *mut bindings::net_device);
    pub(crate) fn rtun_netif_tx_stop(dev: *mut bindings::net_device);
    pub(crate) fn rtun_netif_tx_wake(dev: *mut bindings::net_device);
    pub(crate) fn rtun_dev_tx_dropped_inc(dev: *mut bindings::net_device);

    pub(crate) fn rtun_dev_rx_dropped_inc(dev: *mut bindings::net_device);
    pub(crate) fn rtun_dev_get_stats64(
        dev: *mut bindings::net_device,
        stats: *mut RtnlLinkStats64,
        rx_frame_errors: u64,
    );

    pub(crate) fn rtun_copy_from_iter_full(
        buf: *mut c_void,
        len: usize,
        iter: *mut bindings::iov_iter,
    ) -> bool;

    pub(crate) fn rtun_skb_geometry(geo: *mut RtunSkbGeometry);
    pub(crate) fn rtun_skb_alloc(
        headroom: u32,
        linear: usize,
        data_len: usize,
        err: *mut c_int,
    ) -> *mut bindings::sk_buff;
    pub(crate) fn rtun_skb_build_from_iter(
        pad: u32,
        len: usize,
        from: *mut bindings::iov_iter,
        err: *mut c_int,
    ) -> *mut bindings::sk_buff;
    pub(crate) fn rtun_skb_copy_from_iter(
        skb: *mut bindings::sk_buff,
        from: *mut bindings::iov_iter,
        len: usize,
    ) -> c_int;
    pub(crate) fn rtun_skb_may_pull(skb: *mut bindings::sk_buff, len: c_uint) -> bool;
    pub(crate) fn rtun_skb_partial_csum_set(
        skb: *mut bindings::sk_buff,
        start: u16,
        off: u16,
    ) -> bool;
    pub(crate) fn rtun_skb_set_gso(skb: *mut bindings::sk_buff, gso_type: c_uint, gso_size: u16);
    pub(crate) fn rtun_skb_first_byte(skb: *mut bindings::sk_buff) -> c_int;
    pub(crate) fn rtun_skb_set_l3(
        skb: *mut bindings::sk_buff,
        dev: *mut bindings::net_device,
        proto: u16,
    );
    pub(crate) fn rtun_skb_eth_type_trans(
        skb: *mut bindings::sk_buff,
        dev: *mut bindings::net_device,
    );
    pub(crate) fn rtun_skb_deliver(
        skb: *mut bindings::sk_buff,
        dev: *mut bindings::net_device,
        len: c_uint,
    );
    pub(crate) fn rtun_kfree_skb(skb: *mut bindings::sk_buff);

    pub(crate) fn rtun_param_abi(len: *mut usize) -> *const c_char;
    pub(crate) fn rtun_synchronize_net();
    pub(crate) fn rtun_netdev_update_features(dev: *mut bindings::net_device);
    pub(crate) fn rtun_netdev_wanted_features(dev: *const bindings::net_device) -> u64;
    pub(crate) fn rtun_netdev_set_wanted_features(dev: *mut bindings::net_device, features: u64);
    pub(crate) fn rtun_skb_consume_sent(
        skb: *mut bindings::sk_buff,
        dev: *mut bindings::net_device,
        len: c_uint,
    );

    pub(crate) fn rtun_ring_init(ring: *mut PtrRing) -> c_int;
    pub(crate) fn rtun_ring_resize(ring: *mut PtrRing, size: c_uint) -> c_int;
    pub(crate) fn rtun_ring_cleanup(ring: *mut PtrRing);
    pub(crate) fn rtun_ring_produce(
        ring: *mut PtrRing,
        wq: *mut bindings::wait_queue_head,
        skb: *mut bindings::sk_buff,
    ) -> bool;
    pub(crate) fn rtun_ring_consume(ring: *mut PtrRing) -> *mut bindings::sk_buff;
    pub(crate) fn rtun_ring_consume_info(
        ring: *mut PtrRing,
        info: *mut RtunSkbInfo,
    ) -> *mut bindings::sk_buff;
    pub(crate) fn rtun_ring_empty(ring: *mut PtrRing) -> bool;
    pub(crate) fn rtun_waitqueue_init(wq: *mut bindings::wait_queue_head);
    pub(crate) fn rtun_poll_wait(
        file: *mut c_void,
        wq: *mut bindings::wait_queue_head,
        pt: *mut bindings::poll_table_struct,
    );
    pub(crate) fn rtun_skb_tx_prepare(skb: *mut bindings::sk_buff) -> bool;
    pub(crate) fn rtun_file_set_nowait(file: *mut c_void);
    pub(crate) fn rtun_notifier_register() -> c_int;
    pub(crate) fn rtun_notifier_unregister();
}
