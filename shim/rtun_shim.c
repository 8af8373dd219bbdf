// SPDX-License-Identifier: GPL-2.0
/*
 * rtun C shim: ops tables pointing at the Rust driver, and thin wrappers
 * around kernel inline helpers and exports that Rust cannot reach through
 * the 6.12 bindings.  Every decision is made in Rust; see include/rtun.h.
 * The wrappers the packet paths call per packet are in rtun_data.c.
 */

#include <linux/etherdevice.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/ptr_ring.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <net/ip_tunnels.h>
#include <net/net_namespace.h>
#include <net/rtnetlink.h>

#include "rtun.h"

/* Which ABI TUNSETIFF speaks; Rust parses it (rust/pure/iff.rs). */
static char *abi = "upstream";
module_param(abi, charp, 0444);
MODULE_PARM_DESC(abi, "TUNSETIFF flag ABI: 'upstream' (default) or 'rfc2008'");

/*
 * The ops tables hold the Rust callbacks, which the Rust abstractions pass
 * in when they register (struct rtun_file_ops, struct rtun_netdev_ops).
 * They are filled during module init, before the device node or any
 * device exists, and are read-only after it (but for rtun_link_ops, which
 * the core links into its list of kinds).
 */
static struct file_operations rtun_fops __ro_after_init = {
	.owner		= THIS_MODULE,
};

static struct miscdevice rtun_miscdev = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "rtun",
	.nodename	= "net/rtun",
	.fops		= &rtun_fops,
};

static struct net_device_ops rtun_tun_netdev_ops __ro_after_init;

/*
 * Like C tun's tap_netdev_ops, no ndo_get_stats64: the core reports the
 * tstats, and rx_frame_errors, though counted, is not shown for TAP.
 */
static struct net_device_ops rtun_tap_netdev_ops __ro_after_init = {
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

/* Devices are configured by rtun_netdev_configure() once their Rust state exists. */
static void rtun_setup(struct net_device *dev)
{
}

/* Not read-only: rtnl_link_register() links it into a list. */
static struct rtnl_link_ops rtun_link_ops __read_mostly = {
	.kind		= "rtun",
	.setup		= rtun_setup,
};

/* The Rust callbacks of the devices, their private area and the notifier. */
static struct rtun_netdev_ops rtun_dev_ops __ro_after_init;

/* Forwards the device events the driver needs, under RTNL, to Rust. */
static int rtun_notifier_call(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event == NETDEV_CHANGE_TX_QUEUE_LEN)
		return notifier_from_errno(rtun_dev_ops.event(RTUN_EVENT_TX_QUEUE_LEN,
							      dev));
	return NOTIFY_DONE;
}

static struct notifier_block rtun_notifier = {
	.notifier_call	= rtun_notifier_call,
};

int rtun_misc_register(const struct rtun_file_ops *ops)
{
	rtun_fops.open = ops->open;
	rtun_fops.release = ops->release;
	rtun_fops.unlocked_ioctl = ops->ioctl;
	rtun_fops.read_iter = ops->read_iter;
	rtun_fops.write_iter = ops->write_iter;
	rtun_fops.poll = ops->poll;
	return misc_register(&rtun_miscdev);
}

void rtun_misc_deregister(void)
{
	misc_deregister(&rtun_miscdev);
}

static void rtun_fill_netdev_ops(struct net_device_ops *nd,
				 const struct rtun_netdev_ops *ops)
{
	nd->ndo_uninit = ops->uninit;
	nd->ndo_open = ops->open;
	nd->ndo_stop = ops->stop;
	nd->ndo_start_xmit = ops->start_xmit;
	nd->ndo_fix_features = ops->fix_features;
}

int rtun_link_register(size_t priv_size, const struct rtun_netdev_ops *ops)
{
	int err;

	rtun_dev_ops = *ops;
	rtun_fill_netdev_ops(&rtun_tun_netdev_ops, ops);
	rtun_tun_netdev_ops.ndo_get_stats64 = ops->get_stats64;
	rtun_fill_netdev_ops(&rtun_tap_netdev_ops, ops);
	rtun_link_ops.priv_size = priv_size;
	rtun_link_ops.validate = ops->validate;

	err = register_netdevice_notifier(&rtun_notifier);
	if (err)
		return err;
	err = rtnl_link_register(&rtun_link_ops);
	if (err)
		goto err_notifier;
	return 0;

err_notifier:
	unregister_netdevice_notifier(&rtun_notifier);
	return err;
}

void rtun_link_unregister(void)
{
	rtnl_link_unregister(&rtun_link_ops);
	unregister_netdevice_notifier(&rtun_notifier);
}

void rtun_rtnl_lock(void)
{
	rtnl_lock();
}

void rtun_rtnl_unlock(void)
{
	rtnl_unlock();
}

struct net *rtun_current_net_get(void)
{
	return get_net(current->nsproxy->net_ns);
}

void rtun_net_put(struct net *net)
{
	put_net(net);
}

bool rtun_net_admin_capable(struct net *net)
{
	return ns_capable(net->user_ns, CAP_NET_ADMIN);
}

struct net_device *rtun_netdev_alloc(size_t priv_size, const char *name)
{
	return alloc_netdev_mqs(priv_size, name, NET_NAME_UNKNOWN, rtun_setup,
				1, 1);
}

void rtun_netdev_free(struct net_device *dev)
{
	free_netdev(dev);
}

void rtun_netdev_configure(struct net_device *dev, struct net *net,
			   const struct rtun_netdev_cfg *cfg)
{
	dev_net_set(dev, net);
	dev->rtnl_link_ops = &rtun_link_ops;
	dev->needs_free_netdev = true;
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
	dev->priv_destructor = rtun_dev_ops.destruct;

	if (cfg->ether) {
		ether_setup(dev);
		dev->netdev_ops = &rtun_tap_netdev_ops;
		eth_hw_addr_random(dev);
	} else {
		dev->netdev_ops = &rtun_tun_netdev_ops;
		dev->header_ops = &ip_tunnel_header_ops;
	}

	dev->type = cfg->type;
	dev->hard_header_len = cfg->hard_header_len;
	dev->addr_len = cfg->addr_len;
	dev->flags = cfg->flags;
	dev->priv_flags = (dev->priv_flags & ~cfg->priv_flags_clear) |
			  cfg->priv_flags_set;
	dev->mtu = cfg->mtu;
	dev->min_mtu = cfg->min_mtu;
	dev->max_mtu = cfg->max_mtu;
	dev->tx_queue_len = cfg->tx_queue_len;
	dev->hw_features = cfg->hw_features;
	dev->features = cfg->features;
	dev->vlan_features = cfg->vlan_features;
	dev->hw_enc_features = cfg->hw_enc_features;
	dev->lltx = cfg->lltx;
}

int rtun_netdev_register(struct net_device *dev)
{
	return register_netdevice(dev);
}

void rtun_netdev_unregister(struct net_device *dev)
{
	unregister_netdevice(dev);
}

void *rtun_netdev_priv(struct net_device *dev)
{
	return netdev_priv(dev);
}

/*
 * The Rust bindings see struct net_device as opaque; the data path reads
 * these few fields at their offsets rather than through a call each.
 */
const struct rtun_netdev_layout rtun_netdev_layout = {
	.priv = offsetof(struct net_device, priv),
	.state = offsetof(struct net_device, state),
	.tx_queue_len = offsetof(struct net_device, tx_queue_len),
};

static_assert(__same_type(((struct net_device *)NULL)->state, unsigned long));
static_assert(__same_type(((struct net_device *)NULL)->tx_queue_len,
			  unsigned int));
static_assert(__LINK_STATE_START == RTUN_LINK_STATE_START);

struct net_device *rtun_netdev_get_by_name(struct net *net, const char *name)
{
	return __dev_get_by_name(net, name);
}

int rtun_netdev_kind(const struct net_device *dev)
{
	if (dev->netdev_ops == &rtun_tun_netdev_ops)
		return RTUN_KIND_TUN;
	if (dev->netdev_ops == &rtun_tap_netdev_ops)
		return RTUN_KIND_TAP;
	return RTUN_KIND_OTHER;
}

void rtun_netdev_name(const struct net_device *dev, char name[IFNAMSIZ])
{
	strscpy(name, dev->name, IFNAMSIZ);
}

void rtun_netdev_hold(struct net_device *dev)
{
	dev_hold(dev);
}

void rtun_netdev_state_change(struct net_device *dev)
{
	netdev_state_change(dev);
}

void rtun_netif_carrier(struct net_device *dev, bool on)
{
	if (on)
		netif_carrier_on(dev);
	else
		netif_carrier_off(dev);
}

void rtun_netif_tx_start(struct net_device *dev)
{
	netif_tx_start_all_queues(dev);
}

void rtun_netif_tx_stop(struct net_device *dev)
{
	netif_tx_stop_all_queues(dev);
}

void rtun_netif_tx_wake(struct net_device *dev)
{
	netif_tx_wake_all_queues(dev);
}

void rtun_dev_get_stats64(struct net_device *dev,
			  struct rtnl_link_stats64 *stats, u64 rx_frame_errors)
{
	dev_get_tstats64(dev, stats);
	stats->rx_frame_errors += rx_frame_errors;
}

void rtun_skb_geometry(struct rtun_skb_geometry *geo)
{
	geo->page_size = PAGE_SIZE;
	geo->shinfo_size = SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	geo->max_skb_frags = MAX_SKB_FRAGS;
	geo->costly_order = PAGE_ALLOC_COSTLY_ORDER;
	geo->net_ip_align = NET_IP_ALIGN;
	geo->net_skb_pad = NET_SKB_PAD;
	geo->smp_cache_bytes = SMP_CACHE_BYTES;
}

/* The abi parameter's string and, in *len, its length without the NUL. */
const char *rtun_param_abi(size_t *len)
{
	*len = strlen(abi);
	return abi;
}

void rtun_synchronize_net(void)
{
	synchronize_net();
}

void rtun_netdev_update_features(struct net_device *dev)
{
	netdev_update_features(dev);
}

u64 rtun_netdev_wanted_features(const struct net_device *dev)
{
	return dev->wanted_features;
}

void rtun_netdev_set_wanted_features(struct net_device *dev, u64 features)
{
	dev->wanted_features = features;
}

/*
 * A file's read queue is a ptr_ring of skbs, as C tun's tfile->tx_ring:
 * ndo_start_xmit produces under the producer lock (bottom halves are off
 * there), readers consume under the consumer lock, and a resize takes both.
 */
static_assert(sizeof(struct ptr_ring) <= RTUN_PTR_RING_SIZE);
static_assert(__alignof__(struct ptr_ring) <= RTUN_PTR_RING_ALIGN);

static void rtun_ring_free_skb(void *ptr)
{
	kfree_skb(ptr);
}

/*
 * Wakes the device's queue and forgets the consumed count, with both ring
 * locks held so that no produce can stop it meanwhile and no close can be
 * undone (tun_force_wake_queue(), Linux 7.x).
 */
void rtun_ring_force_wake(struct ptr_ring *ring, struct net_device *dev,
			  u32 *cons_cnt)
{
	spin_lock_bh(&ring->consumer_lock);
	spin_lock(&ring->producer_lock);
	*cons_cnt = 0;
	if (netif_running(dev))
		netif_wake_subqueue(dev, 0);
	spin_unlock(&ring->producer_lock);
	spin_unlock_bh(&ring->consumer_lock);
}

/* Forgets the consumed count under both ring locks (tun_net_close()). */
void rtun_ring_reset_consumed(struct ptr_ring *ring, u32 *cons_cnt)
{
	spin_lock_bh(&ring->consumer_lock);
	spin_lock(&ring->producer_lock);
	*cons_cnt = 0;
	spin_unlock(&ring->producer_lock);
	spin_unlock_bh(&ring->consumer_lock);
}

int rtun_ring_init(struct ptr_ring *ring)
{
	return ptr_ring_init(ring, 0, GFP_KERNEL);
}

/* Keeps the @size oldest packets and frees the rest, uncounted. */
int rtun_ring_resize(struct ptr_ring *ring, unsigned int size)
{
	return ptr_ring_resize(ring, size, GFP_KERNEL, rtun_ring_free_skb);
}

void rtun_ring_cleanup(struct ptr_ring *ring)
{
	ptr_ring_cleanup(ring, rtun_ring_free_skb);
}

struct sk_buff *rtun_ring_consume(struct ptr_ring *ring)
{
	return ptr_ring_consume(ring);
}

void rtun_waitqueue_init(struct wait_queue_head *wq)
{
	init_waitqueue_head(wq);
}

void rtun_file_set_nowait(struct file *file)
{
	file->f_mode |= FMODE_NOWAIT;
}

/* Rust tests ki_flags itself; IOCB_NOWAIT is a cast bindgen cannot see. */
static_assert(IOCB_NOWAIT == RTUN_IOCB_NOWAIT);
