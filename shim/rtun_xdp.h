/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a file's ring holds: skbs from ndo_start_xmit and, on a TAP device,
 * XDP frames from ndo_xdp_xmit, told apart by bit 0 of the pointer as C
 * tun tells them apart (TUN_XDP_FLAG, tun_is_xdp_frame()).  Shared by the
 * two halves of the shim; Rust never sees a tagged pointer.
 */
#ifndef RTUN_XDP_H
#define RTUN_XDP_H

#include <linux/skbuff.h>
#include <net/xdp.h>

#define RTUN_XDP_TAG 0x1UL

static inline bool rtun_is_xdp_frame(const void *ptr)
{
	return (unsigned long)ptr & RTUN_XDP_TAG;
}

static inline void *rtun_xdp_to_ptr(struct xdp_frame *frame)
{
	return (void *)((unsigned long)frame | RTUN_XDP_TAG);
}

static inline struct xdp_frame *rtun_ptr_to_xdp(void *ptr)
{
	return (void *)((unsigned long)ptr & ~RTUN_XDP_TAG);
}

/* Frees a ring entry, whichever kind it is (tun_ptr_free()). */
static inline void rtun_ring_entry_free(void *ptr)
{
	if (!ptr)
		return;
	if (rtun_is_xdp_frame(ptr))
		xdp_return_frame(rtun_ptr_to_xdp(ptr));
	else
		kfree_skb(ptr);
}

#endif /* RTUN_XDP_H */
