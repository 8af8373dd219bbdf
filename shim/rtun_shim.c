// SPDX-License-Identifier: GPL-2.0
/*
 * rtun C shim: ops tables pointing at the Rust driver, and thin wrappers
 * around kernel inline helpers and exports that Rust cannot reach through
 * the 6.12 bindings.  Every decision is made in Rust; see include/rtun.h.
 */

#include <linux/etherdevice.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <net/ip_tunnels.h>
#include <net/net_namespace.h>
#include <net/rtnetlink.h>

#include "rtun.h"

static const struct file_operations rtun_fops = {
	.owner		= THIS_MODULE,
	.open		= rtun_fop_open,
	.release	= rtun_fop_release,
	.unlocked_ioctl	= rtun_fop_ioctl,
	.read_iter	= rtun_fop_read_iter,
	.write_iter	= rtun_fop_write_iter,
};

static struct miscdevice rtun_miscdev = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "rtun",
	.nodename	= "net/rtun",
	.fops		= &rtun_fops,
};

static const struct net_device_ops rtun_tun_netdev_ops = {
	.ndo_uninit		= rtun_ndo_uninit,
	.ndo_open		= rtun_ndo_open,
	.ndo_stop		= rtun_ndo_stop,
	.ndo_start_xmit		= rtun_ndo_start_xmit,
	.ndo_fix_features	= rtun_ndo_fix_features,
};

static const struct net_device_ops rtun_tap_netdev_ops = {
	.ndo_uninit		= rtun_ndo_uninit,
	.ndo_open		= rtun_ndo_open,
	.ndo_stop		= rtun_ndo_stop,
	.ndo_start_xmit		= rtun_ndo_start_xmit,
	.ndo_fix_features	= rtun_ndo_fix_features,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

/* Devices are configured by rtun_netdev_configure() once their Rust state exists. */
static void rtun_setup(struct net_device *dev)
{
}

static struct rtnl_link_ops rtun_link_ops __read_mostly = {
	.kind		= "rtun",
	.setup		= rtun_setup,
	.validate	= rtun_rtnl_validate,
};

int rtun_misc_register(void)
{
	return misc_register(&rtun_miscdev);
}

void rtun_misc_deregister(void)
{
	misc_deregister(&rtun_miscdev);
}

int rtun_link_register(size_t priv_size)
{
	rtun_link_ops.priv_size = priv_size;
	return rtnl_link_register(&rtun_link_ops);
}

void rtun_link_unregister(void)
{
	rtnl_link_unregister(&rtun_link_ops);
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
	dev->priv_destructor = rtun_netdev_destruct;

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

void rtun_netdev_put(struct net_device *dev)
{
	dev_put(dev);
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

bool rtun_netif_running(const struct net_device *dev)
{
	return netif_running(dev);
}

void rtun_dev_tx_dropped_inc(struct net_device *dev)
{
	dev_core_stats_tx_dropped_inc(dev);
}

void rtun_kfree_skb(struct sk_buff *skb)
{
	kfree_skb(skb);
}
