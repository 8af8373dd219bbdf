/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rtun: the boundary between the C shim and the Rust driver, both ways.
 *
 * This header is the one description of the boundary.  The shim
 * (shim/rtun_shim.c) includes it; the Rust side does not mirror it by
 * hand: bindgen generates rust/abstractions/rtun_h.rs from it at build
 * time (see Kbuild and scripts/gen-ffi.sh), so a struct, a constant or a
 * prototype changed here changes on both sides or fails to compile.
 *
 * Section 1: types and constants shared by both sides.
 * Section 2: the Rust callbacks, as tables of function pointers that the
 * Rust abstractions build for the driver's types and pass to the
 * registration functions, which install them in the shim's
 * file_operations, net_device_ops and rtnl_link_ops.
 * Section 3: C functions called from Rust.  Most wrap kernel inline
 * helpers, macros and exports that the 6.12 Rust bindings lack; the few
 * that compose a sequence of tun.c (documented at each) do so because the
 * sequence is all inline helpers and its cost is one call instead of many.
 */
#ifndef _RTUN_H
#define _RTUN_H

#include <linux/types.h>
#include <linux/netdev_features.h>
#include <linux/netdevice.h>

struct file;
struct inode;
struct kiocb;
struct iov_iter;
struct net;
struct net_device;
struct nlattr;
struct rtnl_link_stats64;
struct netlink_ext_ack;
struct sk_buff;
struct sk_buff_head;
struct sock;
struct wait_queue_head;
struct poll_table_struct;
struct ptr_ring;
struct bpf_prog;
struct xdp_frame;

/*
 * How a new net device is set up, decided by Rust and applied as is by
 * rtun_netdev_configure().  @ether selects Ethernet framing (ether_setup(),
 * the TAP ops table, a random MAC); otherwise the TUN ops table and IP
 * tunnel header ops.  The remaining fields are written after ether_setup().
 */
struct rtun_netdev_cfg {
	u64 hw_features;
	u64 features;
	u64 vlan_features;
	u64 hw_enc_features;
	u32 flags;
	u32 priv_flags_set;
	u32 priv_flags_clear;
	u32 mtu;
	u32 min_mtu;
	u32 max_mtu;
	u32 tx_queue_len;
	u16 type;
	u16 hard_header_len;
	u8 addr_len;
	u8 ether;
	u8 lltx;
	s32 ifindex;		/* TUNSETIFINDEX; 0: the core chooses */
};

/*
 * The kernel's sizes that decide an skb's layout (SkbGeometry in
 * rust/pure/vnet_hdr.rs), as constants: the compiler computes them here,
 * bindgen hands the values to Rust, and the write planner folds them as
 * tun.c's code does (read from the device at run time, they cost a write
 * 26 instructions).  shim/rtun_data.c checks each against the kernel's
 * macro.
 */
enum {
	RTUN_PAGE_SIZE = PAGE_SIZE,
	RTUN_SHINFO_SIZE = SKB_DATA_ALIGN(sizeof(struct skb_shared_info)),
	RTUN_MAX_SKB_FRAGS = MAX_SKB_FRAGS,
	RTUN_COSTLY_ORDER = PAGE_ALLOC_COSTLY_ORDER,
	RTUN_NET_IP_ALIGN = NET_IP_ALIGN,
	/* NET_SKB_PAD is max(32, L1_CACHE_BYTES), not a constant expression. */
	RTUN_NET_SKB_PAD = MAX(32, L1_CACHE_BYTES),
	RTUN_SMP_CACHE_BYTES = SMP_CACHE_BYTES,
};

/*
 * IFF_BACKPRESSURE (Linux 7.x) on a read: the device, and what the shim
 * needs to check, under the ring's consumer lock, that the reading file
 * still owns its queue's slot before it wakes that subqueue
 * (__tun_wake_queue()): @index points to the file's queue index (the low
 * 16 bits of the word it shares with its ifindex, as C's union does),
 * @slots to the device's @nslots queue slots, @self is what the file's
 * slot holds while it owns it.
 */
struct rtun_bp_owner {
	struct net_device *dev;
	void *const *slots;
	const u32 *index;
	const void *self;
	u32 nslots;
};

struct rtun_flows;
struct rtun_prog;

/*
 * What the build path's XDP run did (rtun_skb_build_xdp()): @err a
 * negative errno when nothing ran; else @act the verdict (RTUN_XDP_NOT_RUN
 * if the program did not run) and @act_err the errno acting on it failed
 * with (a redirect or XDP_TX that could not send), or 0.
 */
struct rtun_xdp_result {
	s32 err;
	u32 act;
	s32 act_err;
};

#define RTUN_XDP_NOT_RUN	0xffffffffU
/* XDP_XMIT_FLUSH of include/net/xdp.h (checked by the shim). */
#define RTUN_XDP_XMIT_FLUSH	1U

/* Queues of a multiqueue device: C's MAX_TAP_QUEUES (checked by both sides). */
#define RTUN_MAX_QUEUES		256

/* What the read path needs to know of an skb, read in one go. */
struct rtun_skb_info {
	u32 len;
	u32 head_len;
	u32 gso_type;
	u16 gso_size;
	u16 protocol;		/* CPU order */
	u8 ip_summed;		/* CHECKSUM_* */
	u8 vlan_present;
	u16 vlan_proto;		/* CPU order */
	u16 vlan_tci;
	u16 csum_offset;
	s32 csum_start;		/* skb_checksum_start_offset() */
	u16 inner_nh;		/* UDP tunnel skbs only, from skb->data */
	u16 outer_th;
};

/* What the flow dissector found (struct flow_keys_basic), in CPU order. */
struct rtun_flow_keys {
	u16 thoff;
	u16 n_proto;
	u8 ip_proto;
};

/* The UDP tunnel GSO metadata of a written packet (Linux 7.x). */
struct rtun_udp_tunnel {
	u32 gso_bit;		/* SKB_GSO_UDP_TUNNEL or SKB_GSO_UDP_TUNNEL_CSUM */
	u16 inner_proto;	/* CPU order */
	u16 inner_th;		/* offsets from skb->data */
	u16 inner_nh;
	u16 outer_th;
};

/*
 * What a device shows in sysfs (tun_flags, owner, group) and in its rtnl
 * link info (IFLA_TUN_*): @flags as C's tun_flags(), @owner and @group as
 * kernel ids, valid if has_owner/has_group.
 */
struct rtun_link_info {
	u16 flags;
	u8 has_owner;
	u8 has_group;
	u32 owner;
	u32 group;
	u32 num_queues;		/* active queues (multiqueue devices) */
	u32 num_disabled;	/* detached queues */
};

/*
 * Offsets of the fields of struct net_device the data path reads, as
 * constants (bindgen sees the struct as opaque): a load of each from a
 * table cost every packet an instruction per use.
 */
enum {
	RTUN_NETDEV_PRIV = offsetof(struct net_device, priv),	/* netdev_priv() */
	RTUN_NETDEV_STATE = offsetof(struct net_device, state),	/* netif_running() */
	RTUN_NETDEV_TX_QUEUE_LEN = offsetof(struct net_device, tx_queue_len),
};

/*
 * Room Rust reserves for a struct ptr_ring inside its per-file state (the
 * shim checks that it fits); the size allows for lockdep's spinlocks.
 */
#define RTUN_PTR_RING_SIZE	768
#define RTUN_PTR_RING_ALIGN	64

/* IOCB_NOWAIT, which the Rust trampolines test in kiocb.ki_flags. */
#define RTUN_IOCB_NOWAIT	8

/* The bit of net_device.state that netif_running() tests. */
#define RTUN_LINK_STATE_START	0

/* Events rtun_netdev_ops.event is told about. */
#define RTUN_EVENT_TX_QUEUE_LEN	1
#define RTUN_EVENT_UP		2

/* Values of rtun_netdev_kind(). */
#define RTUN_KIND_OTHER	0
#define RTUN_KIND_TUN	1
#define RTUN_KIND_TAP	2

/* Section 2: Rust, called from the shim's ops tables. */

/* The file operations of /dev/net/rtun. */
struct rtun_file_ops {
	int (*open)(struct inode *inode, struct file *file);
	int (*release)(struct inode *inode, struct file *file);
	/* @compat: a 32-bit caller (compat_ioctl), whose struct ifreq is shorter. */
	long (*ioctl)(struct file *file, unsigned int cmd, unsigned long arg,
		      bool compat);
	int (*fasync)(int fd, struct file *file, int on);
	ssize_t (*read_iter)(struct kiocb *iocb, struct iov_iter *to);
	ssize_t (*write_iter)(struct kiocb *iocb, struct iov_iter *from);
	__poll_t (*poll)(struct file *file, struct poll_table_struct *pt);
	void (*fdinfo_name)(struct file *file, char name[IFNAMSIZ]);
};

/*
 * The net device callbacks of rtun's devices, the rtnl link kind's
 * validate, the private area's destructor and the netdevice notifier.
 */
struct rtun_netdev_ops {
	void (*uninit)(struct net_device *dev);
	int (*open)(struct net_device *dev);
	int (*stop)(struct net_device *dev);
	netdev_tx_t (*start_xmit)(struct sk_buff *skb, struct net_device *dev);
	netdev_features_t (*fix_features)(struct net_device *dev,
					  netdev_features_t features);
	void (*get_stats64)(struct net_device *dev,
			    struct rtnl_link_stats64 *stats);
	void (*destruct)(struct net_device *dev);
	int (*validate)(struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack);
	int (*event)(int event, struct net_device *dev);
	int (*change_carrier)(struct net_device *dev, bool new_carrier);
	u32 (*get_msglevel)(struct net_device *dev);
	void (*set_msglevel)(struct net_device *dev, u32 level);
	void (*link_info)(struct net_device *dev, struct rtun_link_info *info);
	u32 (*get_rx_batched)(struct net_device *dev);
	void (*set_rx_batched)(struct net_device *dev, u32 rx_frames);
	u32 (*queues)(struct net_device *dev);
	/* ndo_select_queue, under RCU. */
	u16 (*select_queue)(struct net_device *dev, struct sk_buff *skb);
	/*
	 * ethtool -S (ETH_SS_STATS): rtun's per-reason drop counters, their
	 * count, their names (ETH_GSTRING_LEN bytes each) and their values.
	 */
	int (*stats_count)(struct net_device *dev);
	void (*stats_strings)(struct net_device *dev, u8 *data);
	void (*stats_values)(struct net_device *dev, u64 *data);
	/*
	 * TAP only.  ndo_bpf's XDP_SETUP_PROG: @prog (NULL: none) replaces
	 * the device's program, with the reference the core took for it.
	 */
	void (*xdp_setup)(struct net_device *dev, struct bpf_prog *prog);
	/* ndo_xdp_xmit, as the core calls it (bottom halves off). */
	int (*xdp_xmit)(struct net_device *dev, int n,
			struct xdp_frame **frames, u32 flags);
};

/* Section 3: C, called from Rust. */

int rtun_misc_register(const struct rtun_file_ops *ops);
void rtun_misc_deregister(void);
int rtun_link_register(size_t priv_size, const struct rtun_netdev_ops *ops);
void rtun_link_unregister(void);

void rtun_rtnl_lock(void);
void rtun_rtnl_unlock(void);

struct net *rtun_current_net_get(void);
void rtun_net_put(struct net *net);
bool rtun_net_admin_capable(struct net *net);

struct net_device *rtun_netdev_alloc(const char *name, unsigned int queues);
void rtun_netdev_set_real_queues(struct net_device *dev, unsigned int n);
void rtun_netdev_free(struct net_device *dev);
void rtun_netdev_configure(struct net_device *dev, struct net *net,
			   const struct rtun_netdev_cfg *cfg);
int rtun_netdev_register(struct net_device *dev);
void rtun_netdev_unregister(struct net_device *dev);
void *rtun_netdev_priv(struct net_device *dev);
struct net_device *rtun_netdev_get_by_name(struct net *net, const char *name);
int rtun_netdev_kind(const struct net_device *dev);
void rtun_netdev_name(const struct net_device *dev, char name[IFNAMSIZ]);
void rtun_netdev_info(const struct net_device *dev, const char *msg);
void rtun_netdev_hold(struct net_device *dev);
struct net_device *rtun_netdev_get_rcu(struct net_device **slot);
void rtun_netdev_put(struct net_device *dev);
void rtun_netdev_state_change(struct net_device *dev);
void rtun_netif_carrier(struct net_device *dev, bool on);
void rtun_netif_tx_start(struct net_device *dev);
void rtun_netif_tx_stop(struct net_device *dev);
void rtun_netif_tx_wake(struct net_device *dev);
void rtun_dev_tx_dropped_inc(struct net_device *dev);

void rtun_dev_rx_dropped_inc(struct net_device *dev);
void rtun_dev_get_stats64(struct net_device *dev,
			  struct rtnl_link_stats64 *stats, u64 rx_frame_errors);

bool rtun_copy_from_iter_full(void *buf, size_t len, struct iov_iter *iter);

struct sk_buff *rtun_skb_alloc(struct sock *sk, bool noblock, u32 headroom,
			       size_t linear, size_t data_len, int *err);
struct sk_buff *rtun_skb_build_from_iter(u32 pad, size_t len,
					 struct iov_iter *from, int *err);
struct sk_buff *rtun_skb_build_xdp(struct net_device *dev, struct sock *sk,
				   struct bpf_prog *const *slot, u32 pad,
				   size_t len, bool gso, struct iov_iter *from,
				   struct rtun_xdp_result *res);
u32 rtun_skb_xdp_generic(struct bpf_prog *const *slot, struct sk_buff **pskb,
			 struct sock *frags_sk);
int rtun_skb_copy_from_iter(struct sk_buff *skb, struct iov_iter *from,
			    size_t len);
bool rtun_skb_may_pull(struct sk_buff *skb, unsigned int len);
bool rtun_skb_partial_csum_set(struct sk_buff *skb, u16 start, u16 off);
void rtun_skb_set_gso(struct sk_buff *skb, unsigned int gso_type,
		      unsigned short gso_size);
int rtun_skb_first_byte(struct sk_buff *skb);
int rtun_skb_byte_at(const struct sk_buff *skb, u32 off);
void rtun_skb_set_l2(struct sk_buff *skb, struct net_device *dev, u16 nhoff);
u16 rtun_skb_header_protocol(const struct sk_buff *skb);
bool rtun_skb_flow_dissect(struct sk_buff *skb, u16 proto,
			   struct rtun_flow_keys *keys);
void rtun_skb_set_transport(struct sk_buff *skb, u32 off);
void rtun_skb_set_protocol(struct sk_buff *skb, u16 proto);
void rtun_skb_set_udp_tunnel(struct sk_buff *skb,
			     const struct rtun_udp_tunnel *tnl);
void rtun_skb_set_l3(struct sk_buff *skb, struct net_device *dev, u16 proto);
void rtun_skb_eth_type_trans(struct sk_buff *skb, struct net_device *dev);
void rtun_skb_rx_headers(struct sk_buff *skb, u16 rxq);
int rtun_skb_deliver(struct sk_buff *skb, struct net_device *dev,
		     unsigned int len, struct sock *napi_sk,
		     const bool *detached);
void rtun_kfree_skb(struct sk_buff *skb);

const char *rtun_param_abi(size_t *len);
bool rtun_param_dropin(void);

/* A file's socket: send buffer, its waiters, poll. */
struct sock *rtun_sock_alloc(struct net *net);
void rtun_sock_put(struct sock *sk);
int rtun_sock_sndbuf(const struct sock *sk);
void rtun_sock_set_sndbuf(struct sock *sk, int sndbuf);
void rtun_sock_poll_wait(struct file *file, struct sock *sk,
			 struct poll_table_struct *pt);
bool rtun_sock_poll_out(struct sock *sk, bool up);
void rtun_sock_write_space_now(struct sock *sk);
int rtun_sock_fasync(int fd, struct file *file, struct sock *sk, bool on);
void rtun_sock_signal_in(struct sock *sk);
void rtun_sock_napi_init(struct sock *sk, struct net_device *dev, bool on,
			 bool frags);
void rtun_sock_napi_enable(struct sock *sk);
void rtun_sock_napi_disable(struct sock *sk);
void rtun_sock_napi_del(struct sock *sk);
bool rtun_sock_napi_enabled(const struct sock *sk);
/*
 * IFF_NAPI_FRAGS writes: under the socket's frags lock, an skb from the
 * NAPI context's frags (one per iovec segment after the first), handed
 * to napi_gro_frags(); the unlock forgets an skb the writer freed.
 */
bool rtun_sock_napi_frags(const struct sock *sk);
void rtun_sock_frags_lock(struct sock *sk);
void rtun_sock_frags_unlock(struct sock *sk);
struct sk_buff *rtun_skb_napi_alloc_frags(struct sock *sk, size_t len,
					  const struct iov_iter *it, int *err);
int rtun_skb_deliver_frags(struct sk_buff *skb, struct net_device *dev,
			   unsigned int len, struct sock *sk);
bool rtun_capable_net_admin(void);
void rtun_sock_purge(struct sock *sk);
/*
 * Classic socket filters (TUNATTACHFILTER): @filter is the user-space
 * address of @len instructions, copied in by sk_attach_filter().
 */
int rtun_sock_attach_filter(struct sock *sk, u16 len, u64 filter);
void rtun_sock_detach_filter(struct sock *sk);
bool rtun_sock_has_filter(const struct sock *sk);
bool rtun_sock_filter_drops(struct sock *sk, struct sk_buff *skb);
/* XDP: the file's receive queue info, SOCK_XDP, a program's reference. */
int rtun_sock_xdp_rxq_reg(struct sock *sk, struct net_device *dev, u32 index);
void rtun_sock_xdp_rxq_set_index(struct sock *sk, u32 index);
void rtun_sock_xdp_rxq_unreg(struct sock *sk);
void rtun_sock_set_xdp(struct sock *sk, bool on);
void rtun_bpf_prog_put(struct bpf_prog *prog);

/* Namespaces as file descriptors (SIOCGSKNS, TUNGETDEVNETNS). */
int rtun_net_open_fd(struct net *net);
int rtun_netdev_net_open_fd(struct net_device *dev);

/* The hardware address through the file (SIOCGIFHWADDR, SIOCSIFHWADDR). */
int rtun_netdev_get_hwaddr(struct net_device *dev, u8 sa[16]);
int rtun_netdev_set_hwaddr(struct net_device *dev, const u8 sa[16]);
unsigned int rtun_netdev_addr_len(const struct net_device *dev);

/* Persistence and ownership (TUNSETPERSIST, TUNSETOWNER, TUNSETGROUP). */
void rtun_module_get(void);
void rtun_module_put(void);
bool rtun_make_kuid(u32 uid, u32 *kuid);
bool rtun_make_kgid(u32 gid, u32 *kgid);
u32 rtun_current_euid(void);
bool rtun_in_egroup(u32 kgid);
bool rtun_netdev_admin_capable(const struct net_device *dev);
unsigned int rtun_netdev_flags(const struct net_device *dev);
int rtun_netdev_set_type(struct net_device *dev, u16 type, u8 addr_len);
void rtun_synchronize_net(void);
void rtun_netdev_update_features(struct net_device *dev);
u64 rtun_netdev_features(const struct net_device *dev);
u64 rtun_netdev_wanted_features(const struct net_device *dev);
void rtun_netdev_set_wanted_features(struct net_device *dev, u64 features);
void rtun_skb_consume_sent(struct sk_buff *skb, struct net_device *dev,
			   unsigned int len);

int rtun_ring_init(struct ptr_ring *ring);
int rtun_ring_resize(struct ptr_ring *ring, unsigned int size);
void rtun_ring_cleanup(struct ptr_ring *ring);
bool rtun_ring_produce(struct ptr_ring *ring, struct wait_queue_head *wq,
		       struct sk_buff *skb, struct net_device *dev, u16 txq,
		       bool backpressure);
void rtun_ring_force_wake(struct ptr_ring *ring, struct net_device *dev,
			  u32 *cons_cnt, u16 index, bool if_empty);
void rtun_ring_consumer_lock(struct ptr_ring *ring);
void rtun_ring_consumer_unlock(struct ptr_ring *ring);
void rtun_ring_reset_consumed(struct ptr_ring *ring, u32 *cons_cnt);
void rtun_ring_purge(struct ptr_ring *ring);
struct sk_buff *rtun_ring_consume_info(struct ptr_ring *ring,
				       struct rtun_skb_info *info,
				       const struct rtun_bp_owner *bp,
				       u32 *cons_cnt, struct xdp_frame **frame);
/* XDP frames in a file's ring (TAP): ndo_xdp_xmit's side and the reader's. */
int rtun_ring_produce_frames(struct ptr_ring *ring, struct xdp_frame **frames,
			     int n);
void rtun_ring_wake(struct wait_queue_head *wq);
size_t rtun_xdp_frame_put(struct xdp_frame *frame, struct iov_iter *to,
			  struct net_device *dev, u32 hdr_len);
void rtun_xdp_frame_free(struct xdp_frame *frame);
u32 rtun_smp_processor_id(void);
bool rtun_ring_empty(struct ptr_ring *ring);
void rtun_waitqueue_init(struct wait_queue_head *wq);
void rtun_poll_wait(struct file *file, struct wait_queue_head *wq,
		    struct poll_table_struct *pt);
bool rtun_skb_tx_prepare(struct sk_buff *skb);
u16 rtun_skb_queue_mapping(const struct sk_buff *skb);
u32 rtun_skb_hash_symmetric(struct sk_buff *skb);
bool rtun_rps_needed(void);

u32 rtun_prog_run(const struct rtun_prog *p, struct sk_buff *skb);
bool rtun_skb_trim(struct sk_buff *skb, u32 len);
struct rtun_prog *rtun_prog_get(int fd, int *err);
void rtun_prog_release(struct rtun_prog *p);

struct rtun_flows *rtun_flows_new(void);
void rtun_flows_set_dev(struct rtun_flows *fl, struct net_device *dev,
			const u32 *msg_enable);
void rtun_flows_free(struct rtun_flows *fl);
int rtun_flows_find(struct rtun_flows *fl, u32 hash);
void rtun_flows_update(struct rtun_flows *fl, u32 hash, u16 queue);
void rtun_flows_delete_by_queue(struct rtun_flows *fl, u32 queue);
bool rtun_skb_copy_head(const struct sk_buff *skb, u8 *buf, u32 len);
void rtun_file_set_nowait(struct file *file);

#endif /* _RTUN_H */
