// SPDX-License-Identifier: GPL-2.0
/*
 * rtun C shim: ops tables pointing at the Rust driver, and thin wrappers
 * around kernel inline helpers and exports that Rust cannot reach through
 * the 6.12 bindings.  Every decision is made in Rust; see include/rtun.h.
 * The wrappers the packet paths call per packet are in rtun_data.c.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bpf.h>
#include <linux/compat.h>
#include <linux/cred.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/poll.h>
#include <linux/proc_fs.h>
#include <linux/ptr_ring.h>
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/version.h>
#include <net/ip_tunnels.h>
#include <net/net_namespace.h>
#include <net/rtnetlink.h>
#include <net/sock.h>

#include "rtun.h"
#include "rtun_prog.h"
#include "rtun_sock.h"
#include "rtun_xdp.h"

/* Which ABI TUNSETIFF speaks; Rust parses it (rust/pure/iff.rs). */
static char *abi = "upstream";
module_param(abi, charp, 0444);
MODULE_PARM_DESC(abi, "TUNSETIFF flag ABI: 'upstream' (default) or 'rfc2008'");

/*
 * Drop-in mode: rtun takes tun.ko's names, /dev/net/tun (misc minor 200),
 * the link kind "tun", the driver name "tun", and Rust the default device
 * names tun%d and tap%d; tun.ko must not be loaded.
 */
static bool dropin;
module_param(dropin, bool, 0444);
MODULE_PARM_DESC(dropin, "Be /dev/net/tun, with tun.ko's names (tun.ko must not be loaded)");

/* The names rtun shows: its own, or tun.ko's in drop-in mode. */
static const char *rtun_drv_name(void)
{
	return dropin ? "tun" : "rtun";
}

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

/*
 * Mode 0666: what udev's rule (KERNEL=="tun", MODE="0666") makes of C's
 * node, given by devtmpfs at once: the rule does not match "rtun", and in
 * drop-in mode a program that opens /dev/net/tun right after the module
 * loads would otherwise race udev (EACCES on a 0600 node).  Who may use a
 * device is TUNSETIFF's business (tun_permitted()), as in C.
 */
static struct miscdevice rtun_miscdev = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "rtun",
	.nodename	= "net/rtun",
	.fops		= &rtun_fops,
	.mode		= 0666,
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

/* ethtool -S, rtun's own (see below). */
static int rtun_get_sset_count(struct net_device *dev, int sset);
static void rtun_get_strings(struct net_device *dev, u32 sset, u8 *data);
static void rtun_get_ethtool_stats(struct net_device *dev,
				   struct ethtool_stats *stats, u64 *data);

static void rtun_get_drvinfo(struct net_device *dev,
			     struct ethtool_drvinfo *info);
static int rtun_get_coalesce(struct net_device *dev,
			     struct ethtool_coalesce *ec,
			     struct kernel_ethtool_coalesce *kernel_coal,
			     struct netlink_ext_ack *extack);
static int rtun_set_coalesce(struct net_device *dev,
			     struct ethtool_coalesce *ec,
			     struct kernel_ethtool_coalesce *kernel_coal,
			     struct netlink_ext_ack *extack);
static void rtun_get_channels(struct net_device *dev,
			      struct ethtool_channels *channels);
static int rtun_get_link_ksettings(struct net_device *dev,
				   struct ethtool_link_ksettings *cmd);
static int rtun_set_link_ksettings(struct net_device *dev,
				   const struct ethtool_link_ksettings *cmd);

/*
 * tun_ethtool_ops: the driver info, the message level (which TUNSETDEBUG
 * sets too), coalescing (rx-frames only), channels, the link settings,
 * and C's two generic ones, the link state and the software timestamping
 * info.
 */
static struct ethtool_ops rtun_ethtool_ops __ro_after_init = {
	.supported_coalesce_params = ETHTOOL_COALESCE_RX_MAX_FRAMES,
	.get_drvinfo	= rtun_get_drvinfo,
	.get_coalesce	= rtun_get_coalesce,
	.set_coalesce	= rtun_set_coalesce,
	.get_channels	= rtun_get_channels,
	.get_link_ksettings = rtun_get_link_ksettings,
	.set_link_ksettings = rtun_set_link_ksettings,
	.get_link	= ethtool_op_get_link,
	.get_ts_info	= ethtool_op_get_ts_info,
	.get_sset_count	= rtun_get_sset_count,
	.get_strings	= rtun_get_strings,
	.get_ethtool_stats = rtun_get_ethtool_stats,
};

/* Devices are configured by rtun_netdev_configure() once their Rust state exists. */
static void rtun_setup(struct net_device *dev)
{
}

/* The Rust callbacks of the devices, their private area and the notifier. */
static struct rtun_netdev_ops rtun_dev_ops __ro_after_init;

/*
 * ndo_select_queue, under RCU as tun_select_queue() (AF_PACKET's
 * packet_pick_tx_queue() calls it without).
 */
static u16 rtun_select_queue(struct net_device *dev, struct sk_buff *skb,
			     struct net_device *sb_dev)
{
	u16 ret;

	rcu_read_lock();
	ret = rtun_dev_ops.select_queue(dev, skb);
	rcu_read_unlock();
	return ret;
}

/*
 * What tools read: the sysfs attributes of tun_attr_group and tun.c's
 * tun_fill_info()/tun_get_size(), formatted as C formats them from what
 * Rust reports (struct rtun_link_info); ids are shown in the reader's user
 * namespace.
 */
static ssize_t tun_flags_show(struct device *d, struct device_attribute *attr,
			      char *buf)
{
	struct rtun_link_info i;

	rtun_dev_ops.link_info(to_net_dev(d), &i);
	return sysfs_emit(buf, "0x%x\n", i.flags);
}

static ssize_t owner_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	struct rtun_link_info i;

	rtun_dev_ops.link_info(to_net_dev(d), &i);
	return i.has_owner ?
		sysfs_emit(buf, "%u\n", from_kuid_munged(current_user_ns(),
							 KUIDT_INIT(i.owner))) :
		sysfs_emit(buf, "-1\n");
}

static ssize_t group_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	struct rtun_link_info i;

	rtun_dev_ops.link_info(to_net_dev(d), &i);
	return i.has_group ?
		sysfs_emit(buf, "%u\n", from_kgid_munged(current_user_ns(),
							 KGIDT_INIT(i.group))) :
		sysfs_emit(buf, "-1\n");
}

static DEVICE_ATTR_RO(tun_flags);
static DEVICE_ATTR_RO(owner);
static DEVICE_ATTR_RO(group);

static struct attribute *rtun_dev_attrs[] = {
	&dev_attr_tun_flags.attr,
	&dev_attr_owner.attr,
	&dev_attr_group.attr,
	NULL
};

static const struct attribute_group rtun_attr_group = {
	.attrs = rtun_dev_attrs
};

static size_t rtun_get_size(const struct net_device *dev)
{
	return nla_total_size(sizeof(uid_t)) + /* OWNER */
	       nla_total_size(sizeof(gid_t)) + /* GROUP */
	       nla_total_size(sizeof(u8)) + /* TYPE */
	       nla_total_size(sizeof(u8)) + /* PI */
	       nla_total_size(sizeof(u8)) + /* VNET_HDR */
	       nla_total_size(sizeof(u8)) + /* PERSIST */
	       nla_total_size(sizeof(u8)) + /* MULTI_QUEUE */
	       nla_total_size(sizeof(u32)) + /* NUM_QUEUES */
	       nla_total_size(sizeof(u32)) + /* NUM_DISABLED_QUEUES */
	       0;
}

/* tun_fill_info() */
static int rtun_fill_info(struct sk_buff *skb, const struct net_device *dev)
{
	struct rtun_link_info i;

	rtun_dev_ops.link_info((struct net_device *)dev, &i);
	if (nla_put_u8(skb, IFLA_TUN_TYPE, i.flags & (IFF_TUN | IFF_TAP)))
		goto nla_put_failure;
	if (i.has_owner &&
	    nla_put_u32(skb, IFLA_TUN_OWNER,
			from_kuid_munged(current_user_ns(), KUIDT_INIT(i.owner))))
		goto nla_put_failure;
	if (i.has_group &&
	    nla_put_u32(skb, IFLA_TUN_GROUP,
			from_kgid_munged(current_user_ns(), KGIDT_INIT(i.group))))
		goto nla_put_failure;
	if (nla_put_u8(skb, IFLA_TUN_PI, !(i.flags & IFF_NO_PI)))
		goto nla_put_failure;
	if (nla_put_u8(skb, IFLA_TUN_VNET_HDR, !!(i.flags & IFF_VNET_HDR)))
		goto nla_put_failure;
	if (nla_put_u8(skb, IFLA_TUN_PERSIST, !!(i.flags & IFF_PERSIST)))
		goto nla_put_failure;
	if (nla_put_u8(skb, IFLA_TUN_MULTI_QUEUE,
		       !!(i.flags & IFF_MULTI_QUEUE)))
		goto nla_put_failure;
	if (i.flags & IFF_MULTI_QUEUE) {
		if (nla_put_u32(skb, IFLA_TUN_NUM_QUEUES, i.num_queues))
			goto nla_put_failure;
		if (nla_put_u32(skb, IFLA_TUN_NUM_DISABLED_QUEUES,
				i.num_disabled))
			goto nla_put_failure;
	}
	return 0;

nla_put_failure:
	return -EMSGSIZE;
}

/*
 * tun_get_drvinfo(): the driver's name (rtun's own, or tun in drop-in
 * mode), C's version, the kind of device as bus info.
 */
static void rtun_get_drvinfo(struct net_device *dev,
			     struct ethtool_drvinfo *info)
{
	struct rtun_link_info i;

	rtun_dev_ops.link_info(dev, &i);
	strscpy(info->driver, rtun_drv_name(), sizeof(info->driver));
	strscpy(info->version, "1.6", sizeof(info->version));
	switch (i.flags & (IFF_TUN | IFF_TAP)) {
	case IFF_TUN:
		strscpy(info->bus_info, "tun", sizeof(info->bus_info));
		break;
	case IFF_TAP:
		strscpy(info->bus_info, "tap", sizeof(info->bus_info));
		break;
	}
}

/* tun_get_coalesce()/tun_set_coalesce(): rx-frames is the rx batch size. */
static int rtun_get_coalesce(struct net_device *dev,
			     struct ethtool_coalesce *ec,
			     struct kernel_ethtool_coalesce *kernel_coal,
			     struct netlink_ext_ack *extack)
{
	ec->rx_max_coalesced_frames = rtun_dev_ops.get_rx_batched(dev);
	return 0;
}

static int rtun_set_coalesce(struct net_device *dev,
			     struct ethtool_coalesce *ec,
			     struct kernel_ethtool_coalesce *kernel_coal,
			     struct netlink_ext_ack *extack)
{
	rtun_dev_ops.set_rx_batched(dev, ec->rx_max_coalesced_frames);
	return 0;
}

static_assert(RTUN_MAX_QUEUES == MAX_TAP_QUEUES);

/*
 * tun_get_channels(): one combined channel per active queue, at most
 * MAX_TAP_QUEUES on a multiqueue device, else 1.
 */
static void rtun_get_channels(struct net_device *dev,
			      struct ethtool_channels *channels)
{
	struct rtun_link_info i;

	rtun_dev_ops.link_info(dev, &i);
	channels->combined_count = rtun_dev_ops.queues(dev);
	channels->max_combined = i.flags & IFF_MULTI_QUEUE ? RTUN_MAX_QUEUES : 1;
}

/*
 * The link settings, which C keeps per device and shows as set
 * (tun_get_link_ksettings(), tun_set_link_ksettings()): a C structure,
 * kept by the shim after the Rust private area (rtun_netdev_alloc()).
 */
static size_t rtun_rust_priv_size __ro_after_init;

static struct ethtool_link_ksettings *rtun_ksettings(struct net_device *dev)
{
	return netdev_priv(dev) +
	       ALIGN(rtun_rust_priv_size,
		     __alignof__(struct ethtool_link_ksettings));
}

/* tun_default_link_ksettings(): 10Gb/s full duplex, twisted pair, no autoneg. */
static void rtun_default_link_ksettings(struct net_device *dev)
{
	struct ethtool_link_ksettings *cmd = rtun_ksettings(dev);

	memset(cmd, 0, sizeof(*cmd));
	cmd->base.speed = SPEED_10000;
	cmd->base.duplex = DUPLEX_FULL;
	cmd->base.port = PORT_TP;
	cmd->base.phy_address = 0;
	cmd->base.autoneg = AUTONEG_DISABLE;
}

static int rtun_get_link_ksettings(struct net_device *dev,
				   struct ethtool_link_ksettings *cmd)
{
	memcpy(cmd, rtun_ksettings(dev), sizeof(*cmd));
	return 0;
}

static int rtun_set_link_ksettings(struct net_device *dev,
				   const struct ethtool_link_ksettings *cmd)
{
	memcpy(rtun_ksettings(dev), cmd, sizeof(*cmd));
	return 0;
}

/* The private area: Rust's, then the link settings. */
static size_t rtun_priv_size(void)
{
	return ALIGN(rtun_rust_priv_size,
		     __alignof__(struct ethtool_link_ksettings)) +
	       sizeof(struct ethtool_link_ksettings);
}

/*
 * The link kind's validate: C's extack message, the errno Rust chose
 * (tun_validate()).
 */
static int rtun_validate(struct nlattr *tb[], struct nlattr *data[],
			 struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG(extack,
		       "tun/tap creation via rtnetlink is not supported.");
	return rtun_dev_ops.validate(tb, data, extack);
}

/* Not read-only: rtnl_link_register() links it into a list. */
static struct rtnl_link_ops rtun_link_ops __read_mostly = {
	.kind		= "rtun",
	.setup		= rtun_setup,
	.get_size	= rtun_get_size,
	.fill_info	= rtun_fill_info,
};

/* Forwards the device events the driver needs, under RTNL, to Rust. */
static int rtun_notifier_call(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event == NETDEV_CHANGE_TX_QUEUE_LEN)
		return notifier_from_errno(rtun_dev_ops.event(RTUN_EVENT_TX_QUEUE_LEN,
							      dev));
	if (event == NETDEV_UP)
		return notifier_from_errno(rtun_dev_ops.event(RTUN_EVENT_UP, dev));
	return NOTIFY_DONE;
}

static struct notifier_block rtun_notifier = {
	.notifier_call	= rtun_notifier_call,
};

static void (*rtun_fdinfo_name)(struct file *file, char name[IFNAMSIZ]) __ro_after_init;

/* tun_chr_show_fdinfo(): "iff:\t<name>\n", the name empty if unattached. */
static void rtun_show_fdinfo(struct seq_file *m, struct file *file)
{
	char name[IFNAMSIZ] = {};

	rtun_fdinfo_name(file, name);
	name[IFNAMSIZ - 1] = '\0';
	seq_printf(m, "iff:\t%s\n", name);
}

static long (*rtun_ioctl)(struct file *file, unsigned int cmd,
			 unsigned long arg, bool compat) __ro_after_init;

static long rtun_chr_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	return rtun_ioctl(file, cmd, arg, false);
}

#ifdef CONFIG_COMPAT
/*
 * tun_chr_compat_ioctl(): a 32-bit caller's pointer or value, and its
 * shorter struct ifreq (compat_ifreq), whose fields tun uses sit where
 * they sit in the 64-bit one.
 */
static long rtun_chr_compat_ioctl(struct file *file, unsigned int cmd,
				  unsigned long arg)
{
	switch (cmd) {
	case TUNSETIFF:
	case TUNGETIFF:
	case TUNSETTXFILTER:
	case TUNGETSNDBUF:
	case TUNSETSNDBUF:
	case SIOCGIFHWADDR:
	case SIOCSIFHWADDR:
		arg = (unsigned long)compat_ptr(arg);
		break;
	default:
		arg = (compat_ulong_t)arg;
		break;
	}
	return rtun_ioctl(file, cmd, arg, true);
}
#endif

int rtun_misc_register(const struct rtun_file_ops *ops)
{
	int err;

	rtun_fops.open = ops->open;
	rtun_fops.release = ops->release;
	rtun_ioctl = ops->ioctl;
	rtun_fops.unlocked_ioctl = rtun_chr_ioctl;
#ifdef CONFIG_COMPAT
	rtun_fops.compat_ioctl = rtun_chr_compat_ioctl;
#endif
	rtun_fops.fasync = ops->fasync;
	rtun_fops.read_iter = ops->read_iter;
	rtun_fops.write_iter = ops->write_iter;
	rtun_fops.poll = ops->poll;
	rtun_fdinfo_name = ops->fdinfo_name;
	rtun_fops.show_fdinfo = rtun_show_fdinfo;
	if (dropin) {
		rtun_miscdev.minor = TUN_MINOR;
		rtun_miscdev.name = "tun";
		rtun_miscdev.nodename = "net/tun";
	}
	err = misc_register(&rtun_miscdev);
	if (err && dropin)
		pr_err("dropin=1: cannot register /dev/net/tun (misc minor %d): %d; is tun.ko loaded? (modprobe -r tun)\n",
		       TUN_MINOR, err);
	return err;
}

void rtun_misc_deregister(void)
{
	misc_deregister(&rtun_miscdev);
}

/*
 * ndo_bpf of TAP devices (tun_xdp()): XDP_SETUP_PROG hands the program,
 * and the reference the core took for the driver, to Rust; it cannot fail.
 * A TUN device has none, so the core runs its programs as generic XDP.
 */
static_assert(RTUN_XDP_XMIT_FLUSH == XDP_XMIT_FLUSH);
static_assert(XDP_XMIT_FLAGS_MASK == XDP_XMIT_FLUSH);

static int rtun_ndo_bpf(struct net_device *dev, struct netdev_bpf *xdp)
{
	switch (xdp->command) {
	case XDP_SETUP_PROG:
		rtun_dev_ops.xdp_setup(dev, xdp->prog);
		return 0;
	default:
		return -EINVAL;
	}
}

static void rtun_fill_netdev_ops(struct net_device_ops *nd,
				 const struct rtun_netdev_ops *ops)
{
	nd->ndo_uninit = ops->uninit;
	nd->ndo_open = ops->open;
	nd->ndo_stop = ops->stop;
	nd->ndo_start_xmit = ops->start_xmit;
	nd->ndo_fix_features = ops->fix_features;
	nd->ndo_change_carrier = ops->change_carrier;
	nd->ndo_select_queue = rtun_select_queue;
}

int rtun_link_register(size_t priv_size, const struct rtun_netdev_ops *ops)
{
	int err;

	rtun_dev_ops = *ops;
	rtun_fill_netdev_ops(&rtun_tun_netdev_ops, ops);
	rtun_tun_netdev_ops.ndo_get_stats64 = ops->get_stats64;
	rtun_fill_netdev_ops(&rtun_tap_netdev_ops, ops);
	rtun_tap_netdev_ops.ndo_bpf = rtun_ndo_bpf;
	rtun_tap_netdev_ops.ndo_xdp_xmit = ops->xdp_xmit;
	rtun_ethtool_ops.get_msglevel = ops->get_msglevel;
	rtun_ethtool_ops.set_msglevel = ops->set_msglevel;
	rtun_rust_priv_size = priv_size;
	rtun_link_ops.priv_size = rtun_priv_size();
	rtun_link_ops.validate = rtun_validate;
	if (dropin)
		rtun_link_ops.kind = "tun";

	err = register_netdevice_notifier(&rtun_notifier);
	if (err)
		return err;
	err = rtnl_link_register(&rtun_link_ops);
	if (err) {
		if (dropin)
			pr_err("dropin=1: cannot register the link kind \"tun\": %d; is tun.ko loaded? (modprobe -r tun)\n",
			       err);
		goto err_notifier;
	}
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

/*
 * The private area is rtun_priv_size(): Rust's part, as registered, and
 * C's.  @queues transmit and receive queues: 1, or MAX_TAP_QUEUES for a
 * multiqueue device, as tun_set_iff().
 */
struct net_device *rtun_netdev_alloc(const char *name, unsigned int queues)
{
	return alloc_netdev_mqs(rtun_priv_size(), name, NET_NAME_UNKNOWN,
				rtun_setup, queues, queues);
}

/*
 * tun_set_real_num_queues(): the core refuses 0 (and keeps its count),
 * which tun.c ignores, as here.
 */
void rtun_netdev_set_real_queues(struct net_device *dev, unsigned int n)
{
	netif_set_real_num_tx_queues(dev, n);
	netif_set_real_num_rx_queues(dev, n);
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
	dev->ethtool_ops = &rtun_ethtool_ops;
	dev->sysfs_groups[0] = &rtun_attr_group;
	rtun_default_link_ksettings(dev);

	if (cfg->ether) {
		ether_setup(dev);
		dev->netdev_ops = &rtun_tap_netdev_ops;
		eth_hw_addr_random(dev);
		/* As C tun's: XDP on TAP devices only. */
		dev->xdp_features = NETDEV_XDP_ACT_BASIC |
				    NETDEV_XDP_ACT_REDIRECT |
				    NETDEV_XDP_ACT_NDO_XMIT;
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
	dev->ifindex = cfg->ifindex;
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
 * these few fields at the offsets rtun.h gives (RTUN_NETDEV_*), of these
 * types.
 */
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

/* netif_info()'s line, which Rust decided to print and formatted. */
void rtun_netdev_info(const struct net_device *dev, const char *msg)
{
	netdev_info(dev, "%s\n", msg);
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

bool rtun_param_dropin(void)
{
	return dropin;
}

/* The abi parameter's string and, in *len, its length without the NUL. */
const char *rtun_param_abi(size_t *len)
{
	*len = strlen(abi);
	return abi;
}

static struct proto rtun_proto = {
	.name		= "rtun",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct rtun_sk),
};

/* tun_sock_write_space(): wakes writers and pollers, SIGIO to O_ASYNC owners. */
static void rtun_sock_write_space(struct sock *sk)
{
	wait_queue_head_t *wqueue;

	if (!sock_writeable(sk))
		return;
	if (!test_and_clear_bit(SOCKWQ_ASYNC_NOSPACE, &sk->sk_socket->flags))
		return;
	wqueue = sk_sleep(sk);
	/* Paired with the waiters' barrier in sock_alloc_send_pskb()'s wait. */
	if (wqueue && waitqueue_active(wqueue))
		wake_up_interruptible_sync_poll(wqueue, EPOLLOUT |
						EPOLLWRNORM | EPOLLWRBAND);
	kill_fasync(&rtun_sk(sk)->fasync, SIGIO, POLL_OUT);
}

/*
 * tun_chr_open()'s socket set-up: send buffer INT_MAX.  sk_alloc() takes
 * a module reference for rtun_proto's owner, as for tun_proto.
 */
struct sock *rtun_sock_alloc(struct net *net)
{
	struct rtun_sk *rs;

	rs = (struct rtun_sk *)sk_alloc(net, AF_UNSPEC, GFP_KERNEL, &rtun_proto,
					0);
	if (!rs)
		return NULL;
	init_waitqueue_head(&rs->sa.socket.wq.wait);
	sock_init_data_uid(&rs->sa.socket, &rs->sk, current_fsuid());
	rs->sk.sk_write_space = rtun_sock_write_space;
	rs->sk.sk_sndbuf = INT_MAX;
	rs->fasync = NULL;
	rs->napi_enabled = false;
	rs->napi_frags_enabled = false;
	mutex_init(&rs->napi_mutex);
	return &rs->sk;
}

void rtun_sock_put(struct sock *sk)
{
	sock_put(sk);
}

/*
 * tun_set_ebpf()'s program: NULL for @fd -1, else the socket filter
 * program @fd refers to (EBADF, EINVAL for another type or a
 * device-bound one, ENOMEM), in *@err.
 */
struct rtun_prog *rtun_prog_get(int fd, int *err)
{
	struct rtun_prog *p;
	struct bpf_prog *prog;

	*err = 0;
	if (fd == -1)
		return NULL;
	prog = bpf_prog_get_type(fd, BPF_PROG_TYPE_SOCKET_FILTER);
	if (IS_ERR(prog)) {
		*err = PTR_ERR(prog);
		return NULL;
	}
	p = kmalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		bpf_prog_put(prog);
		*err = -ENOMEM;
		return NULL;
	}
	p->prog = prog;
	return p;
}

static void rtun_prog_free(struct rcu_head *rcu)
{
	struct rtun_prog *p = container_of(rcu, struct rtun_prog, rcu);

	bpf_prog_destroy(p->prog);
	kfree(p);
}

/* Frees @p once no reader can run it (tun_prog_free() via call_rcu()). */
void rtun_prog_release(struct rtun_prog *p)
{
	if (p)
		call_rcu(&p->rcu, rtun_prog_free);
}

/*
 * tun_napi_receive() and tun_napi_poll(): up to @budget of the skbs that
 * IFF_NAPI writes queued on the socket go to GRO.
 */
static int rtun_napi_poll(struct napi_struct *napi, int budget)
{
	struct rtun_sk *rs = container_of(napi, struct rtun_sk, napi);
	struct sk_buff_head *queue = &rs->sk.sk_write_queue;
	struct sk_buff_head process_queue;
	struct sk_buff *skb;
	int received = 0;

	__skb_queue_head_init(&process_queue);
	spin_lock(&queue->lock);
	skb_queue_splice_tail_init(queue, &process_queue);
	spin_unlock(&queue->lock);

	while (received < budget && (skb = __skb_dequeue(&process_queue))) {
		napi_gro_receive(napi, skb);
		++received;
	}

	if (!skb_queue_empty(&process_queue)) {
		spin_lock(&queue->lock);
		skb_queue_splice(&process_queue, queue);
		spin_unlock(&queue->lock);
	}

	if (received < budget)
		napi_complete_done(napi, received);
	return received;
}

/*
 * tun_napi_init(): the file's NAPI context on @dev, if @on (IFF_NAPI),
 * building writes in frags if @frags too (IFF_NAPI_FRAGS).
 */
void rtun_sock_napi_init(struct sock *sk, struct net_device *dev, bool on,
			 bool frags)
{
	struct rtun_sk *rs = rtun_sk(sk);

	rs->napi_enabled = on;
	rs->napi_frags_enabled = on && frags;
	if (on) {
		netif_napi_add_tx(dev, &rs->napi, rtun_napi_poll);
		napi_enable(&rs->napi);
	}
}

/* tun_napi_enable(), tun_napi_disable(), tun_napi_del() */
void rtun_sock_napi_enable(struct sock *sk)
{
	if (rtun_sk(sk)->napi_enabled)
		napi_enable(&rtun_sk(sk)->napi);
}

void rtun_sock_napi_disable(struct sock *sk)
{
	if (rtun_sk(sk)->napi_enabled)
		napi_disable(&rtun_sk(sk)->napi);
}

void rtun_sock_napi_del(struct sock *sk)
{
	if (rtun_sk(sk)->napi_enabled)
		netif_napi_del(&rtun_sk(sk)->napi);
}

/* The socket's part of tun_queue_purge(): IFF_NAPI writes not yet polled. */
void rtun_sock_purge(struct sock *sk)
{
	skb_queue_purge(&sk->sk_write_queue);
	skb_queue_purge(&sk->sk_error_queue);
}

/* TUNSETSNDBUF: written as is; nobody is woken, as in C. */
void rtun_sock_set_sndbuf(struct sock *sk, int sndbuf)
{
	WRITE_ONCE(sk->sk_sndbuf, sndbuf);
}

/*
 * tun_chr_fasync(): fcntl(F_SETFL, O_ASYNC) on @file adds it to (or
 * removes it from) the socket's SIGIO list; turning it on makes the
 * caller's thread group the file's owner, as C does.
 */
int rtun_sock_fasync(int fd, struct file *file, struct sock *sk, bool on)
{
	int ret;

	if (on) {
		ret = file_f_owner_allocate(file);
		if (ret)
			return ret;
	}
	ret = fasync_helper(fd, file, on, &rtun_sk(sk)->fasync);
	if (ret < 0)
		return ret;
	if (on)
		__f_setown(file, task_pid(current), PIDTYPE_TGID, 0);
	return 0;
}

/*
 * Attaches @len classic BPF instructions at the user address @filter to
 * @sk, replacing its filter, as tun_attach_filter() does per queue.
 */
int rtun_sock_attach_filter(struct sock *sk, u16 len, u64 filter)
{
	struct sock_fprog fprog = {
		.len = len,
		.filter = u64_to_user_ptr(filter),
	};
	int err;

	lock_sock(sk);
	err = sk_attach_filter(&fprog, sk);
	release_sock(sk);
	return err;
}

/* Removes @sk's filter, if any (tun_detach_filter() per queue). */
void rtun_sock_detach_filter(struct sock *sk)
{
	lock_sock(sk);
	sk_detach_filter(sk);
	release_sock(sk);
}

/* Whether @sk has a filter: TUNGETIFF's IFF_NOFILTER when it has none. */
bool rtun_sock_has_filter(const struct sock *sk)
{
	return rcu_access_pointer(sk->sk_filter);
}

/*
 * The file's XDP receive queue (C's tfile->xdp_rxq), registered at its
 * first attach (tun_attach()): the device, the queue's index, and pages
 * shared with the stack as the memory model.
 */
int rtun_sock_xdp_rxq_reg(struct sock *sk, struct net_device *dev, u32 index)
{
	struct xdp_rxq_info *rxq = &rtun_sk(sk)->xdp_rxq;
	int err;

	err = xdp_rxq_info_reg(rxq, dev, index, 0);
	if (err < 0)
		return err;
	err = xdp_rxq_info_reg_mem_model(rxq, MEM_TYPE_PAGE_SHARED, NULL);
	if (err < 0) {
		xdp_rxq_info_unreg(rxq);
		return err;
	}
	return 0;
}

/* A queue moved to another index keeps its registration (__tun_detach()). */
void rtun_sock_xdp_rxq_set_index(struct sock *sk, u32 index)
{
	rtun_sk(sk)->xdp_rxq.queue_index = index;
}

/* The file leaves its device; nothing if it never attached. */
void rtun_sock_xdp_rxq_unreg(struct sock *sk)
{
	struct xdp_rxq_info *rxq = &rtun_sk(sk)->xdp_rxq;

	if (xdp_rxq_info_is_reg(rxq))
		xdp_rxq_info_unreg(rxq);
}

/* SOCK_XDP while the device has a program (tun_xdp_set(), tun_attach()). */
void rtun_sock_set_xdp(struct sock *sk, bool on)
{
	if (on)
		sock_set_flag(sk, SOCK_XDP);
	else
		sock_reset_flag(sk, SOCK_XDP);
}

/* Drops the driver's reference to a program it no longer runs. */
void rtun_bpf_prog_put(struct bpf_prog *prog)
{
	if (prog)
		bpf_prog_put(prog);
}

/* The write space callback, as tun_device_event() runs it on NETDEV_UP. */
void rtun_sock_write_space_now(struct sock *sk)
{
	sk->sk_write_space(sk);
}

/* A new read-only, close-on-exec nsfs fd of @net (open_related_ns()). */
int rtun_net_open_fd(struct net *net)
{
	return open_related_ns(&net->ns, get_net_ns);
}

/* The same for @dev's current network namespace; RTNL keeps it there. */
int rtun_netdev_net_open_fd(struct net_device *dev)
{
	return open_related_ns(&dev_net(dev)->ns, get_net_ns);
}

/*
 * SIOCGIFHWADDR through the file: the address of the device found by
 * @dev's name in its namespace, as C's call does; @sa is ifr_hwaddr.
 */
int rtun_netdev_get_hwaddr(struct net_device *dev, u8 sa[16])
{
	struct sockaddr addr;
	int ret;

	memcpy(&addr, sa, sizeof(addr));
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
	ret = netif_get_mac_address(&addr, dev_net(dev), dev->name);
#else
	ret = dev_get_mac_address(&addr, dev_net(dev), dev->name);
#endif
	memcpy(sa, &addr, sizeof(addr));
	return ret;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
/* netif_get_mac_address() is exported to this namespace, as tun.c imports it. */
MODULE_IMPORT_NS("NETDEV_INTERNAL");
#endif

/* SIOCSIFHWADDR through the file: @sa is ifr_hwaddr. */
int rtun_netdev_set_hwaddr(struct net_device *dev, const u8 sa[16])
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
	struct sockaddr_storage ss = {};
#else
	struct sockaddr ss;
#endif

	static_assert(sizeof(struct sockaddr) == 16);
	memcpy(&ss, sa, sizeof(struct sockaddr));
	return dev_set_mac_address_user(dev, &ss, NULL);
}

unsigned int rtun_netdev_addr_len(const struct net_device *dev)
{
	return dev->addr_len;
}

/* TUNSETPERSIST's reference: a persistent device keeps the module loaded. */
void rtun_module_get(void)
{
	__module_get(THIS_MODULE);
}

void rtun_module_put(void)
{
	module_put(THIS_MODULE);
}

/* make_kuid() in the caller's user namespace; false if @uid is unmapped. */
bool rtun_make_kuid(u32 uid, u32 *kuid)
{
	kuid_t k = make_kuid(current_user_ns(), uid);

	*kuid = __kuid_val(k);
	return uid_valid(k);
}

bool rtun_make_kgid(u32 gid, u32 *kgid)
{
	kgid_t k = make_kgid(current_user_ns(), gid);

	*kgid = __kgid_val(k);
	return gid_valid(k);
}

u32 rtun_current_euid(void)
{
	return __kuid_val(current_euid());
}

bool rtun_in_egroup(u32 kgid)
{
	return in_egroup_p(KGIDT_INIT(kgid));
}

/* CAP_NET_ADMIN in the user namespace of @dev's network namespace. */
/* capable(CAP_NET_ADMIN): in the initial user namespace (IFF_NAPI_FRAGS). */
bool rtun_capable_net_admin(void)
{
	return capable(CAP_NET_ADMIN);
}

bool rtun_netdev_admin_capable(const struct net_device *dev)
{
	return ns_capable(dev_net(dev)->user_ns, CAP_NET_ADMIN);
}

unsigned int rtun_netdev_flags(const struct net_device *dev)
{
	return dev->flags;
}

/*
 * TUNSETLINK's change of link type once allowed: ask the notifiers
 * (NETDEV_PRE_TYPE_CHANGE, whose veto is returned), set the type and
 * address length Rust chose, tell the notifiers (NETDEV_POST_TYPE_CHANGE).
 */
int rtun_netdev_set_type(struct net_device *dev, u16 type, u8 addr_len)
{
	int ret;

	ret = call_netdevice_notifiers(NETDEV_PRE_TYPE_CHANGE, dev);
	ret = notifier_to_errno(ret);
	if (ret)
		return ret;
	dev->type = type;
	dev->addr_len = addr_len;
	call_netdevice_notifiers(NETDEV_POST_TYPE_CHANGE, dev);
	return 0;
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

static void rtun_ring_free_entry(void *ptr)
{
	rtun_ring_entry_free(ptr);
}

/*
 * Wakes the device's queue and forgets the consumed count, with both ring
 * locks held so that no produce can stop it meanwhile and no close can be
 * undone (tun_force_wake_queue(), Linux 7.x).
 */
void rtun_ring_force_wake(struct ptr_ring *ring, struct net_device *dev,
			  u32 *cons_cnt, u16 index, bool if_empty)
{
	spin_lock_bh(&ring->consumer_lock);
	spin_lock(&ring->producer_lock);
	*cons_cnt = 0;
	if (netif_running(dev) && (!if_empty || __ptr_ring_empty(ring)))
		netif_wake_subqueue(dev, index);
	spin_unlock(&ring->producer_lock);
	spin_unlock_bh(&ring->consumer_lock);
}

/*
 * The consumer lock, held around a queue slot's change (Linux 7.x's
 * __tun_detach()) so that a reader's owner check in
 * rtun_bp_after_consume() sees the slot before or after, not between.
 */
void rtun_ring_consumer_lock(struct ptr_ring *ring)
{
	spin_lock(&ring->consumer_lock);
}

void rtun_ring_consumer_unlock(struct ptr_ring *ring)
{
	spin_unlock(&ring->consumer_lock);
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
	return ptr_ring_resize(ring, size, GFP_KERNEL, rtun_ring_free_entry);
}

void rtun_ring_cleanup(struct ptr_ring *ring)
{
	ptr_ring_cleanup(ring, rtun_ring_free_entry);
}

/* Frees every queued packet and frame, uncounted (tun_queue_purge()). */
void rtun_ring_purge(struct ptr_ring *ring)
{
	void *ptr;

	while ((ptr = ptr_ring_consume(ring)) != NULL)
		rtun_ring_entry_free(ptr);
}

void rtun_waitqueue_init(struct wait_queue_head *wq)
{
	init_waitqueue_head(wq);
}

void rtun_file_set_nowait(struct file *file)
{
	file->f_mode |= FMODE_NOWAIT;
}

/*
 * ethtool -S: rtun's per-reason drop counters (C tun has no statistics
 * set).  The names, their number and the values come from Rust; this
 * only picks the string set.
 */
static int rtun_get_sset_count(struct net_device *dev, int sset)
{
	if (sset != ETH_SS_STATS)
		return -EOPNOTSUPP;
	return rtun_dev_ops.stats_count(dev);
}

static void rtun_get_strings(struct net_device *dev, u32 sset, u8 *data)
{
	if (sset == ETH_SS_STATS)
		rtun_dev_ops.stats_strings(dev, data);
}

static void rtun_get_ethtool_stats(struct net_device *dev,
				   struct ethtool_stats *stats, u64 *data)
{
	rtun_dev_ops.stats_values(dev, data);
}

/* Rust tests ki_flags itself; IOCB_NOWAIT is a cast bindgen cannot see. */
static_assert(IOCB_NOWAIT == RTUN_IOCB_NOWAIT);
