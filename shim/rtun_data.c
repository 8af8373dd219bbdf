// SPDX-License-Identifier: GPL-2.0
/*
 * rtun C shim, data path: the wrappers the read, write and transmit paths
 * call once or more per packet.  The rest of the shim (ops tables,
 * registration, device set-up) is in rtun_shim.c; see include/rtun.h.
 *
 * On a kernel with CONFIG_RUST_INLINE_HELPERS, Kbuild compiles this file
 * to LLVM bitcode (with RTUN_DATA_BITCODE) and links it into the Rust
 * object before code generation, as the kernel links rust/helpers into
 * every Rust object: the wrappers are then inlined into their Rust
 * callers.  They stay global, so C can still call them.  __rtun_data is
 * __always_inline there for the reason rust/helpers/helpers.c gives:
 * LLVM would otherwise refuse to inline C into Rust, whose function
 * attributes differ.  On other kernels this is an ordinary C object.
 */

#include <linux/bpf_trace.h>
#include <linux/etherdevice.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/poll.h>
#include <linux/ptr_ring.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <linux/version.h>
#include <net/flow_dissector.h>
#include <net/sch_generic.h>
#include <net/sock.h>

#include <net/rps.h>

#include "rtun.h"
#include "rtun_prog.h"
#include "rtun_sock.h"
#include "rtun_xdp.h"

#ifdef RTUN_DATA_BITCODE
#define __rtun_data __always_inline
#else
#define __rtun_data
#endif

/* tun_get(): a counted reference to the device @slot publishes, if any. */
__rtun_data struct net_device *rtun_netdev_get_rcu(struct net_device **slot)
{
	struct net_device *dev;

	rcu_read_lock();
	dev = rcu_dereference(*(struct net_device __rcu **)slot);
	dev_hold(dev);
	rcu_read_unlock();
	return dev;
}

__rtun_data void rtun_netdev_put(struct net_device *dev)
{
	dev_put(dev);
}

__rtun_data void rtun_dev_tx_dropped_inc(struct net_device *dev)
{
	dev_core_stats_tx_dropped_inc(dev);
}

__rtun_data void rtun_dev_rx_dropped_inc(struct net_device *dev)
{
	dev_core_stats_rx_dropped_inc(dev);
}

__rtun_data bool rtun_copy_from_iter_full(void *buf, size_t len,
					  struct iov_iter *iter)
{
	return copy_from_iter_full(buf, len, iter);
}

/*
 * The allocation of tun_alloc_skb(): charged to the file's socket @sk
 * until the skb is freed; a blocking writer waits for room in the send
 * buffer, a non-blocking one fails with -EAGAIN (sock_alloc_send_pskb()).
 */
__rtun_data struct sk_buff *rtun_skb_alloc(struct sock *sk, bool noblock,
					   u32 headroom, size_t linear,
					   size_t data_len, int *err)
{
	struct sk_buff *skb;

	/* The sizes the Rust planner planned this skb with (rtun.h). */
	BUILD_BUG_ON(RTUN_PAGE_SIZE != PAGE_SIZE);
	BUILD_BUG_ON(RTUN_SHINFO_SIZE != SKB_DATA_ALIGN(sizeof(struct skb_shared_info)));
	BUILD_BUG_ON(RTUN_MAX_SKB_FRAGS != MAX_SKB_FRAGS);
	BUILD_BUG_ON(RTUN_COSTLY_ORDER != PAGE_ALLOC_COSTLY_ORDER);
	BUILD_BUG_ON(RTUN_NET_IP_ALIGN != NET_IP_ALIGN);
	BUILD_BUG_ON(RTUN_NET_SKB_PAD != NET_SKB_PAD);
	BUILD_BUG_ON(RTUN_SMP_CACHE_BYTES != SMP_CACHE_BYTES);

	skb = sock_alloc_send_pskb(sk, headroom + linear, data_len, noblock,
				   err, PAGE_ALLOC_COSTLY_ORDER);
	if (!skb)
		return NULL;

	skb_reserve(skb, headroom);
	skb_put(skb, linear);
	skb->data_len = data_len;
	skb->len += data_len;
	return skb;
}

/*
 * The allocation and copy of tun_build_skb() without XDP: @len bytes from
 * @from go into the task's page frag behind @pad bytes of headroom, and the
 * skb is built around them.  No socket is charged, as in tun_build_skb().
 */
__rtun_data struct sk_buff *rtun_skb_build_from_iter(u32 pad, size_t len,
						     struct iov_iter *from, int *err)
{
	struct page_frag *alloc_frag = &current->task_frag;
	unsigned int buflen;
	struct sk_buff *skb;
	char *buf;

	buflen = SKB_DATA_ALIGN(len + pad) +
		 SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	alloc_frag->offset = ALIGN((u64)alloc_frag->offset, SMP_CACHE_BYTES);
	if (unlikely(!skb_page_frag_refill(buflen, alloc_frag, GFP_KERNEL)))
		goto nomem;

	buf = (char *)page_address(alloc_frag->page) + alloc_frag->offset;
	if (copy_page_from_iter(alloc_frag->page, alloc_frag->offset + pad,
				len, from) != len) {
		*err = -EFAULT;
		return NULL;
	}

	skb = build_skb(buf, buflen);
	if (!skb)
		goto nomem;
	skb_reserve(skb, pad);
	skb_put(skb, len);
	get_page(alloc_frag->page);
	alloc_frag->offset += buflen;
	return skb;

nomem:
	*err = -ENOMEM;
	return NULL;
}

/* XDP metadata in front of the packet: Linux 7.x keeps it in the skb. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
#define RTUN_XDP_META true
#else
#define RTUN_XDP_META false
#endif

/*
 * XDP_TX of the build path (tun_xdp_tx()): the buffer becomes a frame and
 * goes to the device's own ndo_xdp_xmit.  Returns how many frames were
 * queued (0: the ring was full, the frame is given back) or an errno.
 */
static int rtun_xdp_tx(struct net_device *dev, struct xdp_buff *xdp)
{
	struct xdp_frame *frame = xdp_convert_buff_to_frame(xdp);
	int nxmit;

	if (unlikely(!frame))
		return -EOVERFLOW;
	nxmit = dev->netdev_ops->ndo_xdp_xmit(dev, 1, &frame, XDP_XMIT_FLUSH);
	if (!nxmit)
		xdp_return_frame_rx_napi(frame);
	return nxmit;
}

/*
 * tun_xdp_act() without its rx_dropped: the caller counts refusals under
 * their reasons.  Returns @act, or the errno of a redirect or XDP_TX that
 * failed; a frame that left counts as received, with its length after the
 * program.
 */
static int rtun_xdp_act(struct net_device *dev, struct bpf_prog *prog,
			struct xdp_buff *xdp, u32 act)
{
	int err;

	switch (act) {
	case XDP_REDIRECT:
		err = xdp_do_redirect(dev, xdp, prog);
		if (err)
			return err;
		dev_sw_netstats_rx_add(dev, xdp->data_end - xdp->data);
		break;
	case XDP_TX:
		err = rtun_xdp_tx(dev, xdp);
		if (err < 0)
			return err;
		dev_sw_netstats_rx_add(dev, xdp->data_end - xdp->data);
		break;
	case XDP_PASS:
		break;
	default:
		bpf_warn_invalid_xdp_action(dev, prog, act);
		fallthrough;
	case XDP_ABORTED:
		trace_xdp_exception(dev, prog, act);
		fallthrough;
	case XDP_DROP:
		break;
	}
	return act;
}

/* __tun_build_skb(): the skb around the page frag's buffer. */
static struct sk_buff *rtun_build_skb_around(struct page_frag *alloc_frag,
					     char *buf, unsigned int buflen,
					     u32 pad, size_t len, int metasize,
					     struct rtun_xdp_result *res)
{
	struct sk_buff *skb = build_skb(buf, buflen);

	if (!skb) {
		res->err = -ENOMEM;
		return NULL;
	}
	skb_reserve(skb, pad);
	skb_put(skb, len);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
	if (metasize)
		skb_metadata_set(skb, metasize);
#endif
	get_page(alloc_frag->page);
	alloc_frag->offset += buflen;
	return skb;
}

/*
 * tun_build_skb() on a device with an XDP program in *@slot: @len bytes
 * from @from go into the task's page frag behind @pad bytes
 * (+ XDP_PACKET_HEADROOM while there is a program), and unless the packet
 * is GSO the program runs on them with the receive queue of @sk.  Returns
 * the skb (the program passed it, or did not run: res->act is
 * RTUN_XDP_NOT_RUN then) or NULL: res->err is a negative errno (nothing
 * ran), or 0 and res->act the verdict acted on, res->act_err what acting
 * on it failed with (a redirect or XDP_TX that could not send).
 */
__rtun_data struct sk_buff *rtun_skb_build_xdp(struct net_device *dev,
					       struct sock *sk,
					       struct bpf_prog *const *slot,
					       u32 pad, size_t len, bool gso,
					       struct iov_iter *from,
					       struct rtun_xdp_result *res)
{
	struct bpf_prog __rcu *const *rslot = (struct bpf_prog __rcu *const *)slot;
	struct page_frag *alloc_frag = &current->task_frag;
	struct bpf_net_context __bpf_net_ctx, *bpf_net_ctx;
	unsigned int buflen = SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	struct bpf_prog *prog;
	int metasize = 0;
	char *buf;

	res->err = 0;
	res->act = RTUN_XDP_NOT_RUN;
	res->act_err = 0;
	if (rcu_access_pointer(*rslot))
		pad += XDP_PACKET_HEADROOM;
	buflen += SKB_DATA_ALIGN(len + pad);

	alloc_frag->offset = ALIGN((u64)alloc_frag->offset, SMP_CACHE_BYTES);
	if (unlikely(!skb_page_frag_refill(buflen, alloc_frag, GFP_KERNEL))) {
		res->err = -ENOMEM;
		return NULL;
	}
	buf = (char *)page_address(alloc_frag->page) + alloc_frag->offset;
	if (copy_page_from_iter(alloc_frag->page, alloc_frag->offset + pad,
				len, from) != len) {
		res->err = -EFAULT;
		return NULL;
	}
	/* GSO packets meet the program as skbs, in rtun_skb_xdp_generic(). */
	if (gso)
		return rtun_build_skb_around(alloc_frag, buf, buflen, pad, len,
					     0, res);

	local_bh_disable();
	rcu_read_lock();
	bpf_net_ctx = bpf_net_ctx_set(&__bpf_net_ctx);
	prog = rcu_dereference(*rslot);
	if (prog) {
		struct xdp_buff xdp;
		u32 act;
		int ret;

		xdp_init_buff(&xdp, buflen, &rtun_sk(sk)->xdp_rxq);
		xdp_prepare_buff(&xdp, buf, pad, len, RTUN_XDP_META);
		act = bpf_prog_run_xdp(prog, &xdp);
		res->act = act;
		if (act == XDP_REDIRECT || act == XDP_TX) {
			get_page(alloc_frag->page);
			alloc_frag->offset += buflen;
		}
		ret = rtun_xdp_act(dev, prog, &xdp, act);
		if (ret < 0) {
			res->act_err = ret;
			if (act == XDP_REDIRECT || act == XDP_TX)
				put_page(alloc_frag->page);
			goto out;
		}
		if (act == XDP_REDIRECT)
			xdp_do_flush();
		if (act != XDP_PASS)
			goto out;
		pad = xdp.data - xdp.data_hard_start;
		len = xdp.data_end - xdp.data;
		if (RTUN_XDP_META)
			metasize = xdp.data - xdp.data_meta;
	}
	bpf_net_ctx_clear(bpf_net_ctx);
	rcu_read_unlock();
	local_bh_enable();
	return rtun_build_skb_around(alloc_frag, buf, buflen, pad, len,
				     metasize, res);

out:
	bpf_net_ctx_clear(bpf_net_ctx);
	rcu_read_unlock();
	local_bh_enable();
	return NULL;
}

/*
 * Generic XDP in tun_get_user(): the program in *@slot, if any, on an skb
 * it did not run on as a buffer.  Returns XDP_PASS with the skb in *@pskb
 * (maybe a new one, which becomes the NAPI frags context's if @frags_sk),
 * or XDP_DROP: the skb is gone (dropped, redirected or sent back).
 */
__rtun_data u32 rtun_skb_xdp_generic(struct bpf_prog *const *slot,
				     struct sk_buff **pskb,
				     struct sock *frags_sk)
{
	struct bpf_prog __rcu *const *rslot = (struct bpf_prog __rcu *const *)slot;
	struct bpf_prog *prog;
	u32 ret = XDP_PASS;

	local_bh_disable();
	rcu_read_lock();
	prog = rcu_dereference(*rslot);
	if (prog) {
		ret = do_xdp_generic(prog, pskb);
		if (frags_sk && ret == XDP_PASS)
			rtun_sk(frags_sk)->napi.skb = *pskb;
	}
	rcu_read_unlock();
	local_bh_enable();
	return ret;
}

__rtun_data int rtun_skb_copy_from_iter(struct sk_buff *skb,
					struct iov_iter *from, size_t len)
{
	return skb_copy_datagram_from_iter(skb, 0, from, len);
}

__rtun_data bool rtun_skb_may_pull(struct sk_buff *skb, unsigned int len)
{
	return pskb_may_pull(skb, len);
}

__rtun_data bool rtun_skb_partial_csum_set(struct sk_buff *skb, u16 start,
					   u16 off)
{
	return skb_partial_csum_set(skb, start, off);
}

__rtun_data void rtun_skb_set_gso(struct sk_buff *skb, unsigned int gso_type,
				  unsigned short gso_size)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);

	shinfo->gso_size = gso_size;
	shinfo->gso_type = gso_type;
	shinfo->gso_segs = 0;
}

__rtun_data int rtun_skb_first_byte(struct sk_buff *skb)
{
	if (!pskb_may_pull(skb, 1))
		return -1;
	return skb->data[0];
}

/* Byte @off of the packet, wherever it lies; -1 past its end. */
__rtun_data int rtun_skb_byte_at(const struct sk_buff *skb, u32 off)
{
	u8 byte;

	if (skb_copy_bits(skb, off, &byte, 1))
		return -1;
	return byte;
}

/*
 * Linux 7.x's tun_get_user() before it applies the virtio-net header: the
 * device, and the MAC and network headers where __virtio_net_hdr_to_skb()
 * and the flow dissector look for them.
 */
__rtun_data void rtun_skb_set_l2(struct sk_buff *skb, struct net_device *dev,
				  u16 nhoff)
{
	skb->dev = dev;
	skb_reset_mac_header(skb);
	skb_set_network_header(skb, nhoff);
}

/* dev_parse_header_protocol() in CPU order; 0 when the device cannot tell. */
__rtun_data u16 rtun_skb_header_protocol(const struct sk_buff *skb)
{
	return ntohs(dev_parse_header_protocol(skb));
}

/*
 * The flow dissection of __virtio_net_hdr_to_skb() (Linux 7.x) with
 * skb->protocol set to @proto (CPU order), which stays set.
 */
__rtun_data bool rtun_skb_flow_dissect(struct sk_buff *skb, u16 proto,
				       struct rtun_flow_keys *keys)
{
	struct flow_keys_basic k;

	skb->protocol = htons(proto);
	if (!skb_flow_dissect_flow_keys_basic(NULL, skb, &k, NULL, 0, 0, 0, 0))
		return false;
	keys->thoff = k.control.thoff;
	keys->n_proto = ntohs(k.basic.n_proto);
	keys->ip_proto = k.basic.ip_proto;
	return true;
}

__rtun_data void rtun_skb_set_transport(struct sk_buff *skb, u32 off)
{
	skb_set_transport_header(skb, off);
}

__rtun_data void rtun_skb_set_protocol(struct sk_buff *skb, u16 proto)
{
	skb->protocol = htons(proto);
}

/* The end of virtio_net_hdr_tnl_to_skb() for an accepted tunnel header. */
__rtun_data void rtun_skb_set_udp_tunnel(struct sk_buff *skb,
					 const struct rtun_udp_tunnel *tnl)
{
	unsigned int headroom = skb_headroom(skb);

	skb_set_inner_protocol(skb, htons(tnl->inner_proto));
	skb_shinfo(skb)->gso_type |= tnl->gso_bit;
	skb->inner_transport_header = tnl->inner_th + headroom;
	skb->inner_network_header = tnl->inner_nh + headroom;
	skb->inner_mac_header = tnl->inner_nh + headroom;
	skb->transport_header = tnl->outer_th + headroom;
	skb->encapsulation = 1;
}

__rtun_data u64 rtun_netdev_features(const struct net_device *dev)
{
	return READ_ONCE(dev->features);
}

__rtun_data void rtun_skb_set_l3(struct sk_buff *skb, struct net_device *dev,
				 u16 proto)
{
	skb_reset_mac_header(skb);
	skb->protocol = htons(proto);
	skb->dev = dev;
}

__rtun_data void rtun_skb_eth_type_trans(struct sk_buff *skb,
					 struct net_device *dev)
{
	skb->protocol = eth_type_trans(skb, dev);
}

/* Whether a write goes through the file's NAPI context (IFF_NAPI). */
__rtun_data bool rtun_sock_napi_enabled(const struct sock *sk)
{
	return rtun_sk((struct sock *)sk)->napi_enabled;
}

/* Whether a write builds its skb in the NAPI context's frags. */
__rtun_data bool rtun_sock_napi_frags(const struct sock *sk)
{
	return rtun_sk((struct sock *)sk)->napi_frags_enabled;
}

/* tun_get_user()'s napi_mutex around an IFF_NAPI_FRAGS write. */
__rtun_data void rtun_sock_frags_lock(struct sock *sk)
{
	mutex_lock(&rtun_sk(sk)->napi_mutex);
}

/*
 * The end of an IFF_NAPI_FRAGS write (C's unlock_frags): napi.skb is
 * gone, handed to GRO, freed by napi_free_frags() or by the writer.
 */
__rtun_data void rtun_sock_frags_unlock(struct sock *sk)
{
	rtun_sk(sk)->napi.skb = NULL;
	mutex_unlock(&rtun_sk(sk)->napi_mutex);
}

/*
 * tun_napi_alloc_frags(): the NAPI context's skb for a @len-byte packet
 * laid out as the rest of @it: the current iovec segment in the linear
 * part, each further segment in a page fragment of its own.  EMSGSIZE
 * for too many segments or too long a packet, EINVAL for an empty
 * segment or one larger than a page, ENOMEM; in *@err.  The frags lock
 * is held.
 */
__rtun_data struct sk_buff *rtun_skb_napi_alloc_frags(struct sock *sk,
						      size_t len,
						      const struct iov_iter *it,
						      int *err)
{
	struct napi_struct *napi = &rtun_sk(sk)->napi;
	struct sk_buff *skb;
	size_t linear;
	int i;

	if (it->nr_segs > MAX_SKB_FRAGS + 1 ||
	    len > (ETH_MAX_MTU - NET_SKB_PAD - NET_IP_ALIGN)) {
		*err = -EMSGSIZE;
		return NULL;
	}

	local_bh_disable();
	skb = napi_get_frags(napi);
	local_bh_enable();
	if (!skb) {
		*err = -ENOMEM;
		return NULL;
	}

	linear = iov_iter_single_seg_count(it);
	*err = __skb_grow(skb, linear);
	if (*err)
		goto free;

	skb->len = len;
	skb->data_len = len - linear;
	skb->truesize += skb->data_len;

	for (i = 1; i < it->nr_segs; i++) {
		const struct iovec *iov = iter_iov(it) + i;
		size_t fragsz = iov->iov_len;
		struct page *page;
		void *frag;

		if (fragsz == 0 || fragsz > PAGE_SIZE) {
			*err = -EINVAL;
			goto free;
		}
		frag = netdev_alloc_frag(fragsz);
		if (!frag) {
			*err = -ENOMEM;
			goto free;
		}
		page = virt_to_head_page(frag);
		skb_fill_page_desc(skb, i - 1, page,
				   frag - page_address(page), fragsz);
	}
	return skb;

free:
	/* The skb and every frag given to it so far. */
	napi_free_frags(napi);
	return NULL;
}

/*
 * The IFF_NAPI_FRAGS end of tun_get_user(): the Ethernet header back in
 * front (GRO parses it again), its headers within the linear part, then
 * napi_gro_frags() if the NAPI context can be scheduled (not if its
 * queue is detached: -EBUSY); a layout whose headers are not linear is
 * -ENOMEM, where C also warns.  The skb is the context's and is gone
 * either way; @len bytes are counted as received on success.
 */
__rtun_data int rtun_skb_deliver_frags(struct sk_buff *skb,
				       struct net_device *dev,
				       unsigned int len, struct sock *sk)
{
	struct napi_struct *napi = &rtun_sk(sk)->napi;
	u32 headlen;

	skb_push(skb, ETH_HLEN);
	headlen = eth_get_headlen(dev, skb->data, skb_headlen(skb));
	if (unlikely(headlen > skb_headlen(skb))) {
		napi_free_frags(napi);
		return -ENOMEM;
	}
	if (unlikely(!napi_schedule_prep(napi))) {
		napi_free_frags(napi);
		return -EBUSY;
	}
	local_bh_disable();
	napi_gro_frags(napi);
	napi_complete(napi);
	local_bh_enable();

	preempt_disable();
	dev_sw_netstats_rx_add(dev, len);
	preempt_enable();
	return 0;
}

/*
 * tun_net_xmit()'s classic filter: whether the file's socket filter drops
 * @skb; one that passes may be trimmed to the length the program chose.
 * Linux 7.x asks sk_filter_reason() for the reason, which is non-zero
 * exactly when sk_filter() is.
 */
__rtun_data bool rtun_sock_filter_drops(struct sock *sk, struct sk_buff *skb)
{
	return rcu_access_pointer(sk->sk_filter) && sk_filter(sk, skb);
}

/*
 * tun_get_user() once the link layer is done: the network and transport
 * headers, and the writer's queue @rxq as the receive queue (before the
 * flow hash, which needs the headers).
 */
__rtun_data void rtun_skb_rx_headers(struct sk_buff *skb, u16 rxq)
{
	skb_reset_network_header(skb);
	skb_probe_transport_header(skb);
	skb_record_rx_queue(skb, rxq);
}

/*
 * The end of tun_get_user(): the packet goes to the stack at once, or,
 * for a file with IFF_NAPI (@napi_sk), onto its socket's write queue for
 * its NAPI poll, unless the queue was detached meanwhile (@detached, read
 * under the queue's lock as C reads tfile->detached): then -EBUSY and the
 * skb stays the caller's.  @len bytes are counted as received.
 */
__rtun_data int rtun_skb_deliver(struct sk_buff *skb, struct net_device *dev,
				 unsigned int len, struct sock *napi_sk,
				 const bool *detached)
{
	if (napi_sk) {
		struct sk_buff_head *queue = &napi_sk->sk_write_queue;

		spin_lock_bh(&queue->lock);
		if (unlikely(READ_ONCE(*detached))) {
			spin_unlock_bh(&queue->lock);
			return -EBUSY;
		}
		__skb_queue_tail(queue, skb);
		spin_unlock(&queue->lock);
		/* A write() is never MSG_MORE: C schedules every time. */
		napi_schedule(&rtun_sk(napi_sk)->napi);
		local_bh_enable();
	} else {
		local_bh_disable();
		netif_receive_skb(skb);
		local_bh_enable();
	}

	/* Per-CPU counters: the caller is in process context, as in C. */
	preempt_disable();
	dev_sw_netstats_rx_add(dev, len);
	preempt_enable();
	return 0;
}

__rtun_data void rtun_kfree_skb(struct sk_buff *skb)
{
	kfree_skb(skb);
}

/* The end of tun_do_read() for a packet read whole: count it, free it. */
__rtun_data void rtun_skb_consume_sent(struct sk_buff *skb,
				       struct net_device *dev, unsigned int len)
{
	preempt_disable();
	dev_sw_netstats_tx_add(dev, 1, len);
	preempt_enable();
	consume_skb(skb);
}

/* Linux 7.x's __ptr_ring_check_produce() == -ENOSPC, also for 6.12. */
static bool rtun_ring_full(struct ptr_ring *ring)
{
	return ring->size && __ptr_ring_full(ring);
}

/*
 * IFF_BACKPRESSURE (Linux 7.x), after a produce under the producer lock: a
 * running device whose queue has a qdisc stops that queue when the ring is
 * full, and wakes it again if a reader made room meanwhile (tun_net_xmit()).
 */
static void rtun_bp_after_produce(struct ptr_ring *ring,
				  struct net_device *dev, u16 index)
{
	struct netdev_queue *txq = netdev_get_tx_queue(dev, index);
	struct Qdisc *qdisc = rcu_access_pointer(txq->qdisc);

	if (!netif_running(dev) || !qdisc->enqueue || !rtun_ring_full(ring))
		return;
	netif_tx_stop_queue(txq);
	/* Paired with smp_mb() in rtun_bp_after_consume(). */
	smp_mb__after_atomic();
	if (!rtun_ring_full(ring))
		netif_tx_wake_queue(txq);
}

/*
 * IFF_BACKPRESSURE, after @consumed packets left the ring under the
 * consumer lock: a stopped queue wakes once half the ring drained or it is
 * empty (__tun_wake_queue()).  A stop by ndo_stop is left alone, and only
 * the file that owns the queue's slot now may wake it.
 */
static void rtun_bp_after_consume(struct ptr_ring *ring,
				  const struct rtun_bp_owner *bp,
				  u32 *cons_cnt, u32 consumed)
{
	struct netdev_queue *txq;
	u16 index;

	if (unlikely(!netif_running(bp->dev)))
		return;
	index = READ_ONCE(*bp->index) & 0xffff;
	if (unlikely(index >= bp->nslots ||
		     READ_ONCE(bp->slots[index]) != bp->self))
		return;
	txq = netdev_get_tx_queue(bp->dev, index);
	/* Paired with smp_mb__after_atomic() in rtun_bp_after_produce(). */
	smp_mb();
	if (!netif_tx_queue_stopped(txq))
		return;
	*cons_cnt += consumed;
	if (*cons_cnt >= ring->size / 2 || __ptr_ring_empty(ring)) {
		netif_tx_wake_queue(txq);
		*cons_cnt = 0;
	}
}

/*
 * Queues @skb unless the ring is full, then wakes a reader sleeping on @wq,
 * if there is one (as sock_def_readable() does).  @bp_dev is the device
 * when it has IFF_BACKPRESSURE, else NULL.
 */
__rtun_data bool rtun_ring_produce(struct ptr_ring *ring,
				   struct wait_queue_head *wq,
				   struct sk_buff *skb, struct net_device *dev,
				   u16 txq, bool backpressure)
{
	int ret;

	spin_lock(&ring->producer_lock);
	ret = __ptr_ring_produce(ring, skb);
	if (backpressure)
		rtun_bp_after_produce(ring, dev, txq);
	spin_unlock(&ring->producer_lock);
	if (ret)
		return false;
	/* The device is lltx: its transmit time is the driver's to keep. */
	txq_trans_cond_update(netdev_get_tx_queue(dev, txq));
	if (wq_has_sleeper(wq))
		wake_up_interruptible_poll(wq, EPOLLIN | EPOLLRDNORM);
	return true;
}

/* What tun_put_user() reads from an skb. */
static void rtun_skb_get_info(const struct sk_buff *skb,
			      struct rtun_skb_info *info)
{
	const struct skb_shared_info *shinfo = skb_shinfo(skb);

	info->len = skb->len;
	info->head_len = skb_headlen(skb);
	/* gso_type as is: Linux 7.x looks at its tunnel bits without GSO. */
	info->gso_type = shinfo->gso_type;
	info->gso_size = shinfo->gso_size;
	info->protocol = ntohs(skb->protocol);
	info->ip_summed = skb->ip_summed;
	info->vlan_present = skb_vlan_tag_present(skb);
	info->vlan_proto = ntohs(skb->vlan_proto);
	info->vlan_tci = skb_vlan_tag_get(skb);
	info->csum_offset = skb->ip_summed == CHECKSUM_PARTIAL ?
			    skb->csum_offset : 0;
	info->csum_start = skb->ip_summed == CHECKSUM_PARTIAL ?
			   skb_checksum_start_offset(skb) : 0;
	if (unlikely(shinfo->gso_type &
		     (SKB_GSO_UDP_TUNNEL | SKB_GSO_UDP_TUNNEL_CSUM))) {
		/* virtio_net_hdr_tnl_from_skb() keeps the low 16 bits. */
		info->inner_nh = skb->inner_network_header - skb_headroom(skb);
		info->outer_th = skb->transport_header - skb_headroom(skb);
	} else {
		info->inner_nh = 0;
		info->outer_th = 0;
	}
}

/*
 * The read path's dequeue: the first skb, if any, and what tun_put_user()
 * reads from it, in one call (C's tun_do_read() inlines both).  An XDP
 * frame comes back in *@frame instead, with NULL (tun_ring_recv() returns
 * either kind).
 */
__rtun_data struct sk_buff *rtun_ring_consume_info(struct ptr_ring *ring,
						   struct rtun_skb_info *info,
						   const struct rtun_bp_owner *bp,
						   u32 *cons_cnt,
						   struct xdp_frame **frame)
{
	void *ptr;

	spin_lock(&ring->consumer_lock);
	ptr = __ptr_ring_consume(ring);
	if (ptr && bp)
		rtun_bp_after_consume(ring, bp, cons_cnt, 1);
	spin_unlock(&ring->consumer_lock);
	*frame = NULL;
	if (unlikely(ptr && rtun_is_xdp_frame(ptr))) {
		*frame = rtun_ptr_to_xdp(ptr);
		return NULL;
	}
	if (ptr)
		rtun_skb_get_info(ptr, info);
	return ptr;
}

/*
 * ndo_xdp_xmit's produce (tun_xdp_xmit()): @frames in order under the
 * producer lock until the ring is full.  Returns how many were queued; the
 * caller counts the first that did not fit and leaves the rest to the core.
 */
__rtun_data int rtun_ring_produce_frames(struct ptr_ring *ring,
					 struct xdp_frame **frames, int n)
{
	int i;

	spin_lock(&ring->producer_lock);
	for (i = 0; i < n; i++)
		if (__ptr_ring_produce(ring, rtun_xdp_to_ptr(frames[i])))
			break;
	spin_unlock(&ring->producer_lock);
	return i;
}

/* The CPU ndo_xdp_xmit runs on (bottom halves off, so it stays). */
__rtun_data u32 rtun_smp_processor_id(void)
{
	return smp_processor_id();
}

/* Wakes a reader sleeping on @wq, as sock_def_readable() (an XDP flush). */
__rtun_data void rtun_ring_wake(struct wait_queue_head *wq)
{
	if (wq_has_sleeper(wq))
		wake_up_interruptible_poll(wq, EPOLLIN | EPOLLRDNORM);
}

/*
 * The end of tun_put_user_xdp(): copies the frame's data (silently cut to
 * the buffer), counts @hdr_len + what was copied as one transmitted
 * packet, and gives the frame back.  Returns the bytes copied.
 */
__rtun_data size_t rtun_xdp_frame_put(struct xdp_frame *frame,
				      struct iov_iter *to,
				      struct net_device *dev, u32 hdr_len)
{
	size_t copied = copy_to_iter(frame->data, frame->len, to);

	preempt_disable();
	dev_sw_netstats_tx_add(dev, 1, copied + hdr_len);
	preempt_enable();
	xdp_return_frame(frame);
	return copied;
}

/* Gives back a frame a read took and could not deliver (tun_do_read()). */
__rtun_data void rtun_xdp_frame_free(struct xdp_frame *frame)
{
	xdp_return_frame(frame);
}

__rtun_data bool rtun_ring_empty(struct ptr_ring *ring)
{
	return ptr_ring_empty(ring);
}

__rtun_data void rtun_poll_wait(struct file *file, struct wait_queue_head *wq,
				struct poll_table_struct *pt)
{
	poll_wait(file, wq, pt);
}

/* The transmit queue the core picked for @skb (tun_net_xmit()'s txq). */
__rtun_data u16 rtun_skb_queue_mapping(const struct sk_buff *skb)
{
	return skb_get_queue_mapping(skb);
}

/* Whether RPS or RFS is in use (the rps_needed static key). */
__rtun_data bool rtun_rps_needed(void)
{
#ifdef CONFIG_RPS
	return static_branch_unlikely(&rps_needed);
#else
	return false;
#endif
}

/* The symmetric flow hash tun.c steers and learns flows by. */
__rtun_data u32 rtun_skb_hash_symmetric(struct sk_buff *skb)
{
	return __skb_get_hash_symmetric(skb);
}

/*
 * Runs a steering program or filter on @skb (bpf_prog_run_clear_cb(),
 * which uses skb->cb as its scratch, as in C); the caller holds RCU.
 */
__rtun_data u32 rtun_prog_run(const struct rtun_prog *p, struct sk_buff *skb)
{
	return bpf_prog_run_clear_cb(p->prog, skb);
}

/* pskb_trim() to @len bytes (nothing if it is no shorter); false: ENOMEM. */
__rtun_data bool rtun_skb_trim(struct sk_buff *skb, u32 len)
{
	return !pskb_trim(skb, len);
}

/* What tun_net_xmit() does to an skb it is going to hold on to. */
__rtun_data bool rtun_skb_tx_prepare(struct sk_buff *skb)
{
	if (unlikely(skb_orphan_frags_rx(skb, GFP_ATOMIC)))
		return false;
	skb_tx_timestamp(skb);
	skb_orphan(skb);
	nf_reset_ct(skb);
	return true;
}

/* The first @len bytes of @skb's data into @buf; false if it is shorter. */
__rtun_data bool rtun_skb_copy_head(const struct sk_buff *skb, u8 *buf,
				    u32 len)
{
	return !skb_copy_bits(skb, 0, buf, len);
}

/* A file's socket (rtun_sock.h), per write, poll and transmitted packet. */

__rtun_data int rtun_sock_sndbuf(const struct sock *sk)
{
	return READ_ONCE(sk->sk_sndbuf);
}

__rtun_data void rtun_sock_poll_wait(struct file *file, struct sock *sk,
				     struct poll_table_struct *pt)
{
	poll_wait(file, sk_sleep(sk), pt);
}

/*
 * tun_chr_poll()'s EPOLLOUT test, with @up for the device's IFF_UP: if not
 * writable, SOCKWQ_ASYNC_NOSPACE is set so that the next write space
 * wakes the poller, then the test is made again.
 */
__rtun_data bool rtun_sock_poll_out(struct sock *sk, bool up)
{
	return (up && sock_writeable(sk)) ||
	       (!test_and_set_bit(SOCKWQ_ASYNC_NOSPACE,
				  &sk->sk_socket->flags) &&
		up && sock_writeable(sk));
}

/*
 * tun_net_xmit() after queueing a packet: SIGIO (POLL_IN) to the owner of
 * a file with O_ASYNC.  The list is read without the fasync lock, as
 * kill_fasync() itself reads it first.
 */
__rtun_data void rtun_sock_signal_in(struct sock *sk)
{
	if (unlikely(READ_ONCE(rtun_sk(sk)->fasync)))
		kill_fasync(&rtun_sk(sk)->fasync, SIGIO, POLL_IN);
}
