// SPDX-License-Identifier: GPL-2.0

//! Pure multiqueue rules: `TUNSETQUEUE`, the queue index a file keeps, and
//! which queue the stack's packets go to.
//!
//! Follows `tun_set_queue()`, `tun_attach()`, `__tun_detach()`,
//! `tun_select_queue()` and `tun_flow_update()` of `drivers/net/tun.c`
//! (the same in 6.12 and 7.3). Imports only `core`.

use crate::pure::errno::EINVAL;
use crate::pure::uapi::{IFF_ATTACH_QUEUE, IFF_DETACH_QUEUE};

/// What `TUNSETQUEUE` asks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum QueueOp {
    /// `IFF_ATTACH_QUEUE`: a detached queue becomes active again.
    Attach,
    /// `IFF_DETACH_QUEUE`: an active queue is detached, keeping its device.
    Detach,
}

/// Where a file stands towards a device, as `TUNSETQUEUE` sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FileQueue {
    /// No device (never attached, or the device went away).
    None,
    /// An active queue of a device; `multi_queue` is the device's flag.
    Active {
        /// Whether the device has `IFF_MULTI_QUEUE`.
        multi_queue: bool,
    },
    /// A queue detached with `TUNSETQUEUE`.
    Detached,
}

/// `tun_set_queue()`: which operation `flags` asks of a file in state
/// `file`, or `EINVAL`. `IFF_ATTACH_QUEUE` wins when both bits are set;
/// only a detached queue attaches, only an active queue of a multiqueue
/// device detaches.
pub const fn set_queue(flags: u16, file: FileQueue) -> Result<QueueOp, i32> {
    if flags & IFF_ATTACH_QUEUE != 0 {
        match file {
            FileQueue::Detached => Ok(QueueOp::Attach),
            _ => Err(EINVAL),
        }
    } else if flags & IFF_DETACH_QUEUE != 0 {
        match file {
            FileQueue::Active { multi_queue: true } => Ok(QueueOp::Detach),
            _ => Err(EINVAL),
        }
    } else {
        Err(EINVAL)
    }
}

/// Returns the file's `TUNSETIFINDEX` value after `tun_attach()` gave it
/// the queue index `index`.
///
/// In C the two share storage (`union { u16 queue_index; unsigned int
/// ifindex; }` in `struct tun_file`): on x86 the index overwrites the low
/// 16 bits of the interface index the file asked for and keeps the rest.
/// A file whose device went away asks for that value when it creates the
/// next one.
pub const fn ifindex_with_queue(ifindex: u32, index: u16) -> u32 {
    (ifindex & !0xffff) | index as u32
}

/// Returns the queue index a file's shared `ifindex`/`queue_index` holds.
pub const fn queue_of(ifindex: u32) -> u16 {
    (ifindex & 0xffff) as u16
}

/// The kernel's `reciprocal_scale()`: maps `val` onto `0..n` (0 when `n`
/// is 0).
pub const fn reciprocal_scale(val: u32, n: u32) -> u32 {
    ((val as u64 * n as u64) >> 32) as u32
}

/// C's `TUN_NUM_FLOW_ENTRIES`: buckets of the flow table.
pub const FLOW_BUCKETS: usize = 1024;

/// C's `MAX_TAP_FLOWS`: the most flows a device remembers.
pub const MAX_FLOWS: u32 = 4096;

/// `tun_hashfn()`: the bucket of a flow hash.
pub const fn flow_bucket(hash: u32) -> usize {
    hash as usize & (FLOW_BUCKETS - 1)
}

/// `tun_automq_select_queue()`: the queue of a packet with flow hash
/// `hash`: the one its flow was last written from (`learnt`), else one
/// chosen by the hash among `active` queues.
///
/// C does not check a learnt index against `active`: a flow learnt on a
/// queue that moved keeps its old index, which the core caps
/// (`netdev_cap_txqueue()`).
pub const fn automq_queue(hash: u32, learnt: Option<u16>, active: u32) -> u16 {
    match learnt {
        Some(q) => q,
        None => reciprocal_scale(hash, active) as u16,
    }
}

/// `tun_ebpf_select_queue()` with `active` (non-zero) queues: the
/// steering program's result `ret`, cut to 16 bits, modulo `active`.
pub const fn ebpf_queue(ret: u32, active: u32) -> u16 {
    if active == 0 {
        0
    } else {
        ((ret as u16) as u32 % active) as u16
    }
}

/// Whether a write learns its flow (`tun_get_user()` computes the hash
/// only then): no steering program, more than one active queue, and the
/// writer's queue active.
pub const fn learns_flow(steering: bool, active: u32, writer_detached: bool) -> bool {
    !steering && active > 1 && !writer_detached
}

/// The queue index `__tun_detach()` passes to `tun_flow_delete_by_queue()`
/// after a detach leaves `active` queues: one past any valid index, so
/// that no flow is forgotten (C's own quirk, kept).
pub const fn flow_delete_index(active: u32) -> u32 {
    active.saturating_add(1)
}

/// The real number of transmit and receive queues the core is told of
/// with `active` queues: the core refuses 0 and keeps what it had
/// (`netif_set_real_num_tx_queues()`'s `EINVAL`, which C ignores).
pub const fn real_queues(active: u32) -> Option<u32> {
    if active == 0 {
        None
    } else {
        Some(active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_queue_follows_tun_set_queue() {
        let mq = FileQueue::Active { multi_queue: true };
        let sq = FileQueue::Active { multi_queue: false };
        let both = IFF_ATTACH_QUEUE | IFF_DETACH_QUEUE;
        assert_eq!(
            set_queue(IFF_ATTACH_QUEUE, FileQueue::Detached),
            Ok(QueueOp::Attach)
        );
        assert_eq!(set_queue(IFF_ATTACH_QUEUE, mq), Err(EINVAL));
        assert_eq!(set_queue(IFF_ATTACH_QUEUE, FileQueue::None), Err(EINVAL));
        assert_eq!(set_queue(IFF_DETACH_QUEUE, mq), Ok(QueueOp::Detach));
        assert_eq!(set_queue(IFF_DETACH_QUEUE, sq), Err(EINVAL));
        assert_eq!(
            set_queue(IFF_DETACH_QUEUE, FileQueue::Detached),
            Err(EINVAL)
        );
        assert_eq!(set_queue(IFF_DETACH_QUEUE, FileQueue::None), Err(EINVAL));
        // ATTACH wins: an active queue asking for both is EINVAL.
        assert_eq!(set_queue(both, mq), Err(EINVAL));
        assert_eq!(set_queue(both, FileQueue::Detached), Ok(QueueOp::Attach));
        assert_eq!(set_queue(0, mq), Err(EINVAL));
    }

    #[test]
    fn queue_index_shares_the_ifindex() {
        assert_eq!(ifindex_with_queue(0, 0), 0);
        assert_eq!(ifindex_with_queue(42, 3), 3);
        assert_eq!(ifindex_with_queue(0x1_0005, 2), 0x1_0002);
        assert_eq!(queue_of(0x1_0002), 2);
    }

    #[test]
    fn scaling_and_buckets() {
        assert_eq!(reciprocal_scale(u32::MAX, 4), 3);
        assert_eq!(reciprocal_scale(0, 4), 0);
        assert_eq!(reciprocal_scale(0x8000_0000, 2), 1);
        assert_eq!(reciprocal_scale(12345, 0), 0);
        assert_eq!(flow_bucket(1024 + 7), 7);
        assert_eq!(automq_queue(u32::MAX, None, 8), 7);
        assert_eq!(automq_queue(u32::MAX, Some(9), 2), 9);
        // Cut to 16 bits first: 0x10004 is queue 4 % 3.
        assert_eq!(ebpf_queue(0x1_0004, 3), 1);
        assert_eq!(ebpf_queue(7, 0), 0);
        assert_eq!(ebpf_queue(u32::MAX, 256), 255);
    }

    #[test]
    fn flow_learning_and_real_counts() {
        assert!(learns_flow(false, 2, false));
        assert!(!learns_flow(true, 2, false));
        assert!(!learns_flow(false, 1, false));
        assert!(!learns_flow(false, 2, true));
        assert_eq!(flow_delete_index(3), 4);
        assert_eq!(real_queues(0), None);
        assert_eq!(real_queues(5), Some(5));
    }
}
