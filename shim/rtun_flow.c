// SPDX-License-Identifier: GPL-2.0
/*
 * rtun: the flow table of a multiqueue device (tun.c's tun->flows).
 *
 * A write on queue Q of a device with more than one active queue records
 * its flow hash -> Q (tun_flow_update()); the stack's packets of that flow
 * then go to queue Q (tun_automq_select_queue()).  Entries idle for
 * TUN_FLOW_EXPIRE are removed by a timer (tun_flow_cleanup()).  This is C
 * because it is an RCU hash list, kfree_rcu() and a timer, all inline
 * helpers and macros; which queue a packet goes to, and when a write
 * learns its flow, is decided in Rust (rust/pure/mq.rs).
 */

#include <linux/jiffies.h>
#include <linux/netdevice.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <net/rps.h>

#include "rtun.h"

#define RTUN_FLOW_BUCKETS	1024	/* TUN_NUM_FLOW_ENTRIES */
#define RTUN_MAX_FLOWS		4096	/* MAX_TAP_FLOWS */
#define RTUN_FLOW_EXPIRE	(3 * HZ)	/* TUN_FLOW_EXPIRE */

struct rtun_flow {
	struct hlist_node hash_link;
	struct rcu_head rcu;
	u32 rxhash;
	u32 rps_rxhash;
	int queue_index;
	unsigned long updated ____cacheline_aligned_in_smp;
};

struct rtun_flows {
	spinlock_t lock;		/* writers of the lists and count */
	u32 count;
	struct timer_list gc_timer;
	unsigned long ageing_time;
	struct net_device *dev;		/* for log lines, once registered */
	const u32 *msg_enable;
	struct hlist_head heads[RTUN_FLOW_BUCKETS];
};

static struct hlist_head *rtun_flow_head(struct rtun_flows *fl, u32 hash)
{
	return &fl->heads[hash & (RTUN_FLOW_BUCKETS - 1)];
}

/* netif_info(tun, tx_queued, ...) of tun_flow_create()/tun_flow_delete(). */
static void rtun_flow_log(struct rtun_flows *fl, const char *what,
			  u32 hash, int index)
{
	struct net_device *dev = READ_ONCE(fl->dev);

	if (dev && (READ_ONCE(*fl->msg_enable) & NETIF_MSG_TX_QUEUED))
		netdev_info(dev, "%s flow: hash %u index %u\n", what, hash,
			    index);
}

static struct rtun_flow *rtun_flow_find(struct hlist_head *head, u32 hash)
{
	struct rtun_flow *e;

	hlist_for_each_entry_rcu(e, head, hash_link) {
		if (e->rxhash == hash)
			return e;
	}
	return NULL;
}

/* Called with fl->lock held. */
static void rtun_flow_delete(struct rtun_flows *fl, struct rtun_flow *e)
{
	rtun_flow_log(fl, "delete", e->rxhash, e->queue_index);
	hlist_del_rcu(&e->hash_link);
	kfree_rcu(e, rcu);
	fl->count--;
}

/* tun_flow_cleanup(): forgets idle flows, re-arms while some remain. */
static void rtun_flow_cleanup(struct timer_list *t)
{
	struct rtun_flows *fl = container_of(t, struct rtun_flows, gc_timer);
	unsigned long delay = fl->ageing_time;
	unsigned long next_timer = jiffies + delay;
	unsigned long count = 0;
	int i;

	spin_lock(&fl->lock);
	for (i = 0; i < RTUN_FLOW_BUCKETS; i++) {
		struct rtun_flow *e;
		struct hlist_node *n;

		hlist_for_each_entry_safe(e, n, &fl->heads[i], hash_link) {
			unsigned long this_timer = e->updated + delay;

			if (time_before_eq(this_timer, jiffies)) {
				rtun_flow_delete(fl, e);
				continue;
			}
			count++;
			if (time_before(this_timer, next_timer))
				next_timer = this_timer;
		}
	}
	if (count)
		mod_timer(&fl->gc_timer, round_jiffies_up(next_timer));
	spin_unlock(&fl->lock);
}

/* tun_flow_init(): an empty table whose timer runs once, as C's. */
struct rtun_flows *rtun_flows_new(void)
{
	struct rtun_flows *fl = kzalloc(sizeof(*fl), GFP_KERNEL);
	int i;

	if (!fl)
		return NULL;
	spin_lock_init(&fl->lock);
	for (i = 0; i < RTUN_FLOW_BUCKETS; i++)
		INIT_HLIST_HEAD(&fl->heads[i]);
	fl->ageing_time = RTUN_FLOW_EXPIRE;
	timer_setup(&fl->gc_timer, rtun_flow_cleanup, 0);
	mod_timer(&fl->gc_timer, round_jiffies_up(jiffies + fl->ageing_time));
	return fl;
}

/*
 * The device whose message level (@msg_enable, in its private area) decides
 * the log lines; set once it is registered, before any flow can exist.
 */
void rtun_flows_set_dev(struct rtun_flows *fl, struct net_device *dev,
			const u32 *msg_enable)
{
	fl->msg_enable = msg_enable;
	WRITE_ONCE(fl->dev, dev);
}

/* tun_flow_flush() */
static void rtun_flows_flush(struct rtun_flows *fl)
{
	int i;

	spin_lock_bh(&fl->lock);
	for (i = 0; i < RTUN_FLOW_BUCKETS; i++) {
		struct rtun_flow *e;
		struct hlist_node *n;

		hlist_for_each_entry_safe(e, n, &fl->heads[i], hash_link)
			rtun_flow_delete(fl, e);
	}
	spin_unlock_bh(&fl->lock);
}

/*
 * tun_flow_uninit(), when the device is freed: no reader or writer is
 * left; the entries go after a grace period, the table after them (a
 * grace period too, cheap here, rather than an argument that none is
 * needed).
 */
void rtun_flows_free(struct rtun_flows *fl)
{
	timer_shutdown_sync(&fl->gc_timer);
	/* The device may be gone already: no more log lines. */
	WRITE_ONCE(fl->dev, NULL);
	rtun_flows_flush(fl);
	kfree_rcu_mightsleep(fl);
}

/*
 * tun_automq_select_queue()'s lookup, under RCU: the queue @hash was last
 * written from, or -1.  A hit records the hash for RPS, as C does.
 */
int rtun_flows_find(struct rtun_flows *fl, u32 hash)
{
	struct rtun_flow *e = rtun_flow_find(rtun_flow_head(fl, hash), hash);

	if (!e)
		return -1;
	if (unlikely(e->rps_rxhash != hash))
		e->rps_rxhash = hash;
	return READ_ONCE(e->queue_index);
}

/* tun_flow_update(): @hash was written from queue @queue. */
void rtun_flows_update(struct rtun_flows *fl, u32 hash, u16 queue)
{
	struct hlist_head *head = rtun_flow_head(fl, hash);
	struct rtun_flow *e;

	rcu_read_lock();
	e = rtun_flow_find(head, hash);
	if (likely(e)) {
		if (READ_ONCE(e->queue_index) != queue)
			WRITE_ONCE(e->queue_index, queue);
		if (e->updated != jiffies)
			e->updated = jiffies;
		sock_rps_record_flow_hash(e->rps_rxhash);
	} else {
		spin_lock_bh(&fl->lock);
		if (!rtun_flow_find(head, hash) && fl->count < RTUN_MAX_FLOWS) {
			e = kmalloc(sizeof(*e), GFP_ATOMIC);
			if (e) {
				rtun_flow_log(fl, "create", hash, queue);
				e->updated = jiffies;
				e->rxhash = hash;
				e->rps_rxhash = 0;
				e->queue_index = queue;
				hlist_add_head_rcu(&e->hash_link, head);
				fl->count++;
			}
		}
		if (!timer_pending(&fl->gc_timer))
			mod_timer(&fl->gc_timer,
				  round_jiffies_up(jiffies + fl->ageing_time));
		spin_unlock_bh(&fl->lock);
	}
	rcu_read_unlock();
}

/* tun_flow_delete_by_queue() */
void rtun_flows_delete_by_queue(struct rtun_flows *fl, u32 queue)
{
	int i;

	spin_lock_bh(&fl->lock);
	for (i = 0; i < RTUN_FLOW_BUCKETS; i++) {
		struct rtun_flow *e;
		struct hlist_node *n;

		hlist_for_each_entry_safe(e, n, &fl->heads[i], hash_link) {
			if (e->queue_index == queue)
				rtun_flow_delete(fl, e);
		}
	}
	spin_unlock_bh(&fl->lock);
}
