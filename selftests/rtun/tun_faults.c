// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection into tun drivers: open, TUNSETIFF, a queue's attach, a
 * small write, a 64 KiB GSO write with a vnet header, a TAP's non-blocking
 * write with and without an XDP program, an XDP program's attach, and
 * reads (plain and GSO), each run
 * with the N-th fault point of the call failing (/proc/thread-self/fail-nth,
 * Documentation/fault-injection/fault-injection.rst), for every N the call
 * has.  Every failed call must return a clean errno, leave the counters
 * consistent (a failed write counts at most one rx_dropped or
 * rx_frame_errors, never rx_packets) and the fd usable; a last test asks
 * kmemleak for leaks allocated by the driver (RTUN_KMEMLEAK=1).  Every
 * test runs against the C reference driver (/dev/net/tun, variant c_tun)
 * and the Rust one (/dev/net/rtun, variant rtun).  Needs root, both
 * modules loaded and a kernel with CONFIG_FAULT_INJECTION (the tests skip
 * without it), plus FAILSLAB, FAIL_PAGE_ALLOC, FAULT_INJECTION_USERCOPY
 * and debugfs to reach every kind of fault point.
 *
 * fail-nth fails the N-th call to should_fail() of any fault type in this
 * thread, counting only the calls that each type's own filters let
 * through: failslab and fail_page_alloc skip sleeping allocations unless
 * their ignore-gfp-wait is N, and fail_page_alloc skips orders below its
 * min-order (1 by default).  The fixture sets those knobs, and verbose=0
 * (no stack dump per injected fault), and restores them afterwards.  A
 * call is run first with a fault armed far beyond its end, which tells how
 * many fault points it passes; then with N = 1, 2, ... up to that count,
 * and a few N past it.  The order is the first and last 32 points
 * alternately, then the others coarse to fine, within a time budget per
 * test (RTUN_FAULT_BUDGET seconds, default 6; 0: no limit, every point),
 * as the debug kernel under TCG takes about a second per device created
 * and destroyed.
 */

#define _GNU_SOURCE
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>

#include "kselftest_harness.h"
#include "rtun_test.h"
#include "pkt.h"

#define SETTLE_MS	3000
#define DEBUGFS		"/sys/kernel/debug"
#define KMEMLEAK	DEBUGFS "/kmemleak"
/* A fault armed this far is never reached: it counts the fault points. */
#define FAR		1000000
#define VNET_HDR_LEN	10
/*
 * IPv4 TCP GSO packets of 1400-byte segments: 65535 bytes of IP written
 * to TUN; 65000 sent to TAP, as a frame of gso_max_size (65536) bytes or
 * more would be segmented before the driver (gso_features_check()).
 */
#define GSO_IP_LEN	65535
#define GSO_TAP_IP_LEN	65000
#define GSO_MSS		1400
#define BUF_MAX		(GSO_IP_LEN + ETH_HLEN + VNET_HDR_LEN + 64)

/* The fault-injection knobs the fixture sets, and what they were. */
static const struct knob {
	const char *path;
	const char *value;
} knobs[] = {
	{ DEBUGFS "/failslab/ignore-gfp-wait", "N" },
	{ DEBUGFS "/failslab/verbose", "0" },
	{ DEBUGFS "/fail_page_alloc/ignore-gfp-wait", "N" },
	{ DEBUGFS "/fail_page_alloc/min-order", "0" },
	{ DEBUGFS "/fail_page_alloc/verbose", "0" },
	{ DEBUGFS "/fail_usercopy/verbose", "0" },
};

#define NKNOBS ARRAY_SIZE(knobs)

/* Errnos a failed call may return (0-terminated lists). */
static const int open_errs[] = { ENOMEM, EFAULT, 0 };
/*
 * register_netdevice() gives EINVAL when the kobject name cannot be
 * allocated (device_add() finds no name: "kobject: can not set name
 * properly!"), in C as in rtun.
 */
static const int setiff_errs[] = { ENOMEM, ENOBUFS, EFAULT, EINVAL, 0 };
/* ENOBUFS: skb allocation (C's sock_alloc_send_pskb()). */
static const int write_errs[] = { ENOMEM, ENOBUFS, EFAULT, EINVAL, 0 };
static const int read_errs[] = { EFAULT, ENOMEM, 0 };

#define NERR		160
#define EDGE		32
#define MAX_POINTS	4000

FIXTURE(tun_faults) {
	int nth;		/* /proc/thread-self/fail-nth */
	int fd;			/* tun fd, attached */
	int pfd;		/* AF_PACKET socket bound to the device */
	int ifindex;
	char name[IFNAMSIZ];
	char saved[NKNOBS][16];	/* knob values to restore ("" if unset) */
	unsigned char *buf;	/* BUF_MAX bytes */
	unsigned char *buf2;	/* BUF_MAX bytes */
};

FIXTURE_VARIANT(tun_faults) {
	const char *node;	/* this driver's device node */
	const char *module;	/* its module, as kmemleak names it */
	const char *tag;	/* prefix of the names the tests choose */
};

FIXTURE_VARIANT_ADD(tun_faults, c_tun) {
	.node = "/dev/net/tun",
	.module = "tun",
	.tag = "cf",
};

FIXTURE_VARIANT_ADD(tun_faults, rtun) {
	.node = "/dev/net/rtun",
	.module = "rtun",
	.tag = "rf",
};

/*
 * Arm a fault: the @n-th fault point this thread passes from now on
 * fails.  Nothing may run between this and the call under test.
 */
static void fault_arm(int nth, unsigned int n)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%u", n);

	if (write(nth, b, len) != len)
		abort();
}

/*
 * Disarm; returns how many fault points were left before the armed one
 * (0: the fault was injected).  Reading fail-nth copies to user space,
 * itself a fault point: with one point left that copy fails (EFAULT),
 * which also means the call under test did not reach the fault.  Writing
 * 0 may fail the same way; either way the count ends at 0.
 */
static unsigned int fault_disarm(int nth)
{
	char b[16] = "";
	unsigned int left;
	ssize_t n;

	n = pread(nth, b, sizeof(b) - 1, 0);
	if (n < 0)
		left = errno == EFAULT ? 1 : FAR;
	else
		left = strtoul(b, NULL, 10);
	if (write(nth, "0", 1) < 0) {
		/* The count is 0 all the same. */
	}
	return left;
}

/* Which errnos a failed call may return. */
static bool errno_clean(int err, const int *ok)
{
	for (; *ok; ok++)
		if (*ok == err)
			return true;
	return false;
}

/*
 * The time budget of one test in ms: @scale times RTUN_FAULT_BUDGET
 * seconds (default 6; 0: no limit).
 */
static long fault_budget_ms(int scale)
{
	const char *env = getenv("RTUN_FAULT_BUDGET");
	long sec = env && *env ? strtol(env, NULL, 10) : 6;

	return sec > 0 ? sec * 1000 * scale : LONG_MAX;
}

/*
 * One systematic run over the fault points of a call: the values of N in
 * the order they are tried, what the tries gave, and the time they took.
 */
struct fault_run {
	unsigned int points;	/* fault points of the call, counted */
	unsigned int ns[MAX_POINTS + 8];
	int nk;			/* values in ns */
	int k;			/* values tried */
	int injected;		/* tries whose fault was injected */
	int failed;		/* tries whose call failed */
	int errs[NERR];		/* errnos of the failed calls */
	long t0, budget;
};

static void fault_add(struct fault_run *r, unsigned char *seen, unsigned int n)
{
	if (n >= 1 && n <= r->points && !seen[n]) {
		seen[n] = 1;
		r->ns[r->nk++] = n;
	}
}

/*
 * Order the values of N for a call with @points fault points: the first
 * and the last EDGE, alternately (the driver's own entry and the end of
 * its work, where the error paths have the most to undo), then every
 * 2^k-th point from coarse to fine, then 4 values past the end.
 */
static void fault_plan(struct fault_run *r, unsigned int points, int scale)
{
	unsigned char *seen;
	unsigned int n, stride;

	memset(r, 0, sizeof(*r));
	r->points = points > MAX_POINTS ? MAX_POINTS : points;
	seen = calloc(r->points + 1, 1);
	for (n = 0; n < EDGE && n < r->points; n++) {
		fault_add(r, seen, n + 1);
		fault_add(r, seen, r->points - n);
	}
	for (stride = 1; stride * 2 <= r->points; stride *= 2)
		;
	for (; stride; stride /= 2)
		for (n = stride; n <= r->points; n += stride)
			fault_add(r, seen, n);
	for (n = 1; n <= 4; n++)
		r->ns[r->nk++] = r->points + n;
	free(seen);
	r->budget = fault_budget_ms(scale);
	r->t0 = now_ms();
}

/* The next N to try, or 0 when done or out of time. */
static unsigned int fault_next(struct fault_run *r)
{
	if (r->k >= r->nk || now_ms() - r->t0 > r->budget)
		return 0;
	return r->ns[r->k++];
}

/* Account for one try; @ret < 0 is a failed call with errno @err. */
static void fault_done(struct __test_metadata *_metadata, struct fault_run *r,
		       unsigned int n, unsigned int left, long ret, int err,
		       const int *ok, const char *what)
{
	r->injected += !left;
	if (ret >= 0)
		return;
	r->failed++;
	r->errs[err > 0 && err < NERR ? err : 0]++;
	EXPECT_TRUE(errno_clean(err, ok))
		TH_LOG("fault %u: %s: %s", n, what, strerror(err));
}

/* Log what a run covered and the errnos it saw. */
static void fault_report(struct __test_metadata *_metadata,
			 struct fault_run *r, const char *what)
{
	char errs[256] = "";
	size_t len = 0;
	int e;

	for (e = 0; e < NERR && len < sizeof(errs) - 32; e++)
		if (r->errs[e])
			len += snprintf(errs + len, sizeof(errs) - len, " %s:%d",
					e ? strerrorname_np(e) : "other",
					r->errs[e]);
	TH_LOG("%s: %u fault points, %d of %d tries in %ld ms%s, %d injected, %d failed:%s",
	       what, r->points, r->k, r->nk, now_ms() - r->t0,
	       r->k < r->nk ? " (budget spent)" : "", r->injected, r->failed,
	       errs);
}

/* Device counters that the tests compare. */
struct dstats {
	long rx_packets, rx_bytes, rx_dropped, rx_frame_errors;
	long tx_packets, tx_dropped;
};

static void dstats_read(const char *dev, struct dstats *s)
{
	s->rx_packets = sysfs_num(dev, "statistics/rx_packets");
	s->rx_bytes = sysfs_num(dev, "statistics/rx_bytes");
	s->rx_dropped = sysfs_num(dev, "statistics/rx_dropped");
	s->rx_frame_errors = sysfs_num(dev, "statistics/rx_frame_errors");
	s->tx_packets = sysfs_num(dev, "statistics/tx_packets");
	s->tx_dropped = sysfs_num(dev, "statistics/tx_dropped");
}

FIXTURE_SETUP(tun_faults)
{
	struct stat st;
	unsigned int i;

	self->nth = -1;
	self->fd = -1;
	self->pfd = -1;
	self->buf = NULL;
	self->buf2 = NULL;
	memset(self->saved, 0, sizeof(self->saved));
	if (stat("/proc/self/fail-nth", &st))
		SKIP(return, "no /proc/self/fail-nth: kernel without CONFIG_FAULT_INJECTION");
	if (stat(DEBUGFS "/failslab", &st))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	for (i = 0; i < NKNOBS; i++) {
		if (file_read(knobs[i].path, self->saved[i],
			      sizeof(self->saved[i]))) {
			TH_LOG("%s: not available; its faults are not injected",
			       knobs[i].path);
			self->saved[i][0] = '\0';
			continue;
		}
		ASSERT_EQ(0, file_write(knobs[i].path, knobs[i].value))
			TH_LOG("%s", knobs[i].path);
	}
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth) TH_LOG("fail-nth: %s", strerror(errno));
	/* Touched now, so that no page fault allocates during a call. */
	self->buf = calloc(1, BUF_MAX);
	self->buf2 = calloc(1, BUF_MAX);
	ASSERT_TRUE(self->buf && self->buf2);
}

FIXTURE_TEARDOWN(tun_faults)
{
	unsigned int i;

	if (self->nth >= 0) {
		fault_disarm(self->nth);
		close(self->nth);
	}
	for (i = 0; i < NKNOBS; i++)
		if (self->saved[i][0])
			file_write(knobs[i].path, self->saved[i]);
	if (self->pfd >= 0)
		close(self->pfd);
	if (self->fd >= 0)
		close(self->fd);
	free(self->buf);
	free(self->buf2);
}

/*
 * Create a device with @flags into the fixture, with a packet socket bound
 * to it for sending (PACKET_VNET_HDR if @vnet), and bring it up.
 */
static void dev_setup(struct __test_metadata *_metadata,
		      FIXTURE_DATA(tun_faults) *self, const char *node,
		      int flags, bool vnet)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int one = 1;

	self->fd = dev_open(node);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", node, strerror(errno));
	ASSERT_EQ(0, set_iff(self->fd, "", flags, self->name))
		TH_LOG("TUNSETIFF 0x%x: %s", flags, strerror(errno));
	ASSERT_EQ(0, ipv6_disable(self->name));
	self->ifindex = sysfs_num(self->name, "ifindex");
	ASSERT_LT(0, self->ifindex);
	self->pfd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->pfd) TH_LOG("AF_PACKET: %s", strerror(errno));
	ASSERT_EQ(0, setsockopt(self->pfd, SOL_PACKET, PACKET_QDISC_BYPASS,
				&one, sizeof(one)));
	if (vnet) {
		ASSERT_EQ(0, setsockopt(self->pfd, SOL_PACKET, PACKET_VNET_HDR,
					&one, sizeof(one)));
	}
	sll.sll_ifindex = self->ifindex;
	ASSERT_EQ(0, bind(self->pfd, (struct sockaddr *)&sll, sizeof(sll)))
		TH_LOG("bind to %s: %s", self->name, strerror(errno));
	ASSERT_EQ(0, link_set(self->name, true))
		TH_LOG("up %s: %s", self->name, strerror(errno));
}

/*
 * An IPv4 packet of @ip_len bytes at @p, 198.51.100.2 -> .1, nobody's
 * address: TCP (with a partial checksum, for GSO) if @tcp, else protocol
 * 253.  Returns @ip_len.
 */
static size_t ip_fill(unsigned char *p, size_t ip_len, bool tcp)
{
	static const unsigned char src[4] = { 198, 51, 100, 2 };
	static const unsigned char dst[4] = { 198, 51, 100, 1 };
	const struct ip_desc ip = {
		.ipv = 4, .proto = tcp ? IPPROTO_TCP : 253,
		.src = src, .dst = dst,
	};
	const struct l4_desc th = {
		.proto = IPPROTO_TCP, .sport = 40000, .dport = 5001,
		.flags = TCPF_ACK | TCPF_PSH, .win = 65535,
	};
	size_t i, off = ip_put(p, &ip, ip_len - 20);

	if (tcp)
		off += l4_put(p + off, &th, ip_len - off);
	for (i = off; i < ip_len; i++)
		p[i] = i;
	/* CHECKSUM_PARTIAL: the pseudo-header sum, not inverted. */
	if (tcp)
		l4_csum_put(p, p + 20, IPPROTO_TCP, ip_len - 20, true);
	return ip_len;
}

/* A struct virtio_net_hdr for the TCP GSO packet ip_fill() builds at @off. */
static void vnet_gso(unsigned char *h, size_t off)
{
	struct virtio_net_hdr vh = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = off + 40,
		.gso_size = GSO_MSS,
		.csum_start = off + 20,
		.csum_offset = 16,
	};

	memcpy(h, &vh, sizeof(vh));
}

/* An Ethernet header for a TAP frame; returns its length. */
static size_t eth_fill(unsigned char *p)
{
	return eth_put(p, pkt_mac_dst, pkt_mac_src, 0, 0, ETH_P_IP);
}

/* Frames queued on @fd, read without blocking. */
static int drain(int fd, unsigned char *buf)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = 0;

	while (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) &&
	       read(fd, buf, BUF_MAX) >= 0)
		n++;
	return n;
}

/* Count the fault points of a call: arm FAR, call, disarm. */
#define COUNT_POINTS(nth, call) ({					\
	unsigned int __left;						\
	fault_arm((nth), FAR);						\
	call;								\
	__left = fault_disarm(nth);					\
	FAR - __left;							\
})

/*
 * open() of the node with each of its fault points failing: ENOMEM or
 * EFAULT (the path's copy), and the node opens afterwards.
 */
TEST_F_TIMEOUT(tun_faults, open, 600)
{
	struct fault_run *r = calloc(1, sizeof(*r));
	unsigned int points, left, n;
	unsigned int feat;
	int fd, err;

	ASSERT_NE(NULL, r);
	points = COUNT_POINTS(self->nth, fd = open(variant->node, O_RDWR));
	ASSERT_LE(0, fd);
	close(fd);
	fault_plan(r, points, 1);
	while ((n = fault_next(r))) {
		fault_arm(self->nth, n);
		fd = open(variant->node, O_RDWR);
		err = errno;
		left = fault_disarm(self->nth);
		fault_done(_metadata, r, n, left, fd, err, open_errs, "open");
		if (fd < 0)
			continue;
		feat = 0;
		EXPECT_EQ(0, ioctl(fd, TUNGETFEATURES, &feat))
			TH_LOG("fault %u: opened fd unusable: %s", n,
			       strerror(errno));
		close(fd);
	}
	fault_report(_metadata, r, "open");
	fd = open(variant->node, O_RDWR);
	EXPECT_LE(0, fd) TH_LOG("open after the faults: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	free(r);
}

/*
 * TUNSETIFF creating a device, with each fault point failing.  After a
 * failure the fd is either unattached with no device left behind, or
 * (EFAULT copying the answer out, as C) attached to the device; a new
 * TUNSETIFF then works, and close() removes the device.  The richest
 * error paths: three times the time budget.
 */
TEST_F_TIMEOUT(tun_faults, setiff, 600)
{
	struct fault_run *r = calloc(1, sizeof(*r));
	int fd, ret, err, attached_after_err = 0;
	unsigned int points, left, n;
	char name[IFNAMSIZ];
	struct ifreq ifr, got;

	ASSERT_NE(NULL, r);
	snprintf(name, sizeof(name), "%s%df", variant->tag, getpid());
	memset(&ifr, 0, sizeof(ifr));
	ifr_set_name(&ifr, name);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;

	fd = dev_open(variant->node);
	ASSERT_LE(0, fd);
	points = COUNT_POINTS(self->nth, ret = ioctl(fd, TUNSETIFF, &ifr));
	ASSERT_EQ(0, ret) TH_LOG("TUNSETIFF: %s", strerror(errno));
	close(fd);
	ASSERT_TRUE(netdev_wait_gone(name, SETTLE_MS));

	fault_plan(r, points, 3);
	while ((n = fault_next(r))) {
		fd = dev_open(variant->node);
		ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
		fault_arm(self->nth, n);
		ret = ioctl(fd, TUNSETIFF, &ifr);
		err = errno;
		left = fault_disarm(self->nth);
		fault_done(_metadata, r, n, left, ret, err, setiff_errs,
			   "TUNSETIFF");
		if (ret) {
			memset(&got, 0, sizeof(got));
			if (!ioctl(fd, TUNGETIFF, &got)) {
				attached_after_err++;
				EXPECT_EQ(EFAULT, err)
					TH_LOG("fault %u: TUNSETIFF failed (%s) yet attached",
					       n, strerror(err));
				EXPECT_STREQ(name, got.ifr_name);
			} else {
				EXPECT_EQ(EBADFD, errno);
				EXPECT_FALSE(netdev_exists(name))
					TH_LOG("fault %u: TUNSETIFF failed (%s), %s left behind",
					       n, strerror(err), name);
				EXPECT_EQ(0, ioctl(fd, TUNSETIFF, &ifr))
					TH_LOG("fault %u: TUNSETIFF after: %s",
					       n, strerror(errno));
			}
		}
		EXPECT_TRUE(netdev_exists(name))
			TH_LOG("fault %u: no %s after TUNSETIFF", n, name);
		close(fd);
		EXPECT_TRUE(netdev_wait_gone(name, SETTLE_MS))
			TH_LOG("fault %u: %s still there after close", n, name);
		if (netdev_exists(name))
			break;
	}
	fault_report(_metadata, r, "TUNSETIFF");
	TH_LOG("%d attached despite EFAULT", attached_after_err);
	free(r);
}

/*
 * A second queue attached to a multiqueue device by name, then detached
 * and attached again with TUNSETQUEUE, each call with each of its fault
 * points failing.  A failed TUNSETIFF leaves the new fd unattached (or,
 * EFAULT copying the answer out, attached, as C) and the device with its
 * first queue; a failed TUNSETQUEUE leaves the queue as it was.  The
 * queue counts (IFLA_TUN_NUM_QUEUES: the real counts of the core may lag
 * when their sysfs objects could not be allocated, which tun.c ignores)
 * follow, and closing the second fd leaves one.
 */

/* IFLA_TUN_NUM_QUEUES of @dev, or -1. */
static long num_queues(const char *dev)
{
	struct tun_linkinfo li;
	long ifindex = sysfs_num(dev, "ifindex");

	if (ifindex <= 0 || get_linkinfo(ifindex, &li))
		return -1;
	return li.num_queues;
}

TEST_F_TIMEOUT(tun_faults, queue_attach, 600)
{
	const int flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
	struct fault_run *r = calloc(1, sizeof(*r));
	unsigned int points, left, n;
	char name[IFNAMSIZ];
	int fd0, fd, ret, err, q;

	ASSERT_NE(NULL, r);
	snprintf(name, sizeof(name), "%s%dq", variant->tag, getpid());
	fd0 = dev_open(variant->node);
	ASSERT_LE(0, fd0);
	ASSERT_EQ(0, set_iff(fd0, name, flags, NULL))
		TH_LOG("TUNSETIFF: %s", strerror(errno));

	fd = dev_open(variant->node);
	ASSERT_LE(0, fd);
	points = COUNT_POINTS(self->nth, ret = set_iff(fd, name, flags, NULL));
	ASSERT_EQ(0, ret) TH_LOG("second queue: %s", strerror(errno));
	close(fd);
	fault_plan(r, points, 2);
	while ((n = fault_next(r))) {
		fd = dev_open(variant->node);
		ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
		fault_arm(self->nth, n);
		ret = set_iff(fd, name, flags, NULL);
		err = errno;
		left = fault_disarm(self->nth);
		fault_done(_metadata, r, n, left, ret, err, setiff_errs,
			   "TUNSETIFF (queue)");
		q = getiff_flags(fd) < 0 ? 1 : 2;
		if (ret && q == 2)
			EXPECT_EQ(EFAULT, err)
				TH_LOG("fault %u: failed (%s) yet attached", n,
				       strerror(err));
		EXPECT_EQ(q, num_queues(name))
			TH_LOG("fault %u: %s", n, ret ? strerror(err) : "ok");
		close(fd);
		EXPECT_EQ(1, num_queues(name))
			TH_LOG("fault %u: queues after close", n);
	}
	fault_report(_metadata, r, "TUNSETIFF (queue)");

	fd = dev_open(variant->node);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_iff(fd, name, flags, NULL));
	ASSERT_EQ(0, set_queue(fd, IFF_DETACH_QUEUE));
	points = COUNT_POINTS(self->nth, ret = set_queue(fd, IFF_ATTACH_QUEUE));
	ASSERT_EQ(0, ret) TH_LOG("TUNSETQUEUE: %s", strerror(errno));
	fault_plan(r, points, 1);
	while ((n = fault_next(r))) {
		ASSERT_EQ(0, set_queue(fd, IFF_DETACH_QUEUE))
			TH_LOG("fault %u: detach: %s", n, strerror(errno));
		fault_arm(self->nth, n);
		ret = set_queue(fd, IFF_ATTACH_QUEUE);
		err = errno;
		left = fault_disarm(self->nth);
		fault_done(_metadata, r, n, left, ret, err, setiff_errs,
			   "TUNSETQUEUE");
		if (ret)
			EXPECT_EQ(0, set_queue(fd, IFF_ATTACH_QUEUE))
				TH_LOG("fault %u: attach after: %s", n,
				       strerror(errno));
		EXPECT_FALSE(getiff_flags(fd) & IFF_DETACH_QUEUE);
		EXPECT_EQ(2, num_queues(name))
			TH_LOG("fault %u: %s", n, ret ? strerror(err) : "ok");
	}
	fault_report(_metadata, r, "TUNSETQUEUE");
	close(fd);
	close(fd0);
	EXPECT_TRUE(netdev_wait_gone(name, SETTLE_MS));
	free(r);
}

/*
 * Run @len-byte writes of @frame to the fixture's device with each fault
 * point failing.  A write either succeeds (rx_packets +1, rx_bytes +@rx_len)
 * or fails with a clean errno, rx_packets unchanged and at most one of
 * rx_dropped and rx_frame_errors counted.  Then a write succeeds.
 */
static void write_faults(struct __test_metadata *_metadata,
			 FIXTURE_DATA(tun_faults) *self,
			 const unsigned char *frame, size_t len, size_t rx_len)
{
	struct fault_run *r = calloc(1, sizeof(*r));
	unsigned int points, left, n;
	struct dstats b, a;
	ssize_t ret;
	long errs;
	int err;

	ASSERT_NE(NULL, r);
	dstats_read(self->name, &b);
	points = COUNT_POINTS(self->nth, ret = write(self->fd, frame, len));
	ASSERT_EQ((ssize_t)len, ret) TH_LOG("write: %s", strerror(errno));
	dstats_read(self->name, &a);
	ASSERT_EQ(1, a.rx_packets - b.rx_packets);

	fault_plan(r, points, 1);
	while ((n = fault_next(r))) {
		dstats_read(self->name, &b);
		fault_arm(self->nth, n);
		ret = write(self->fd, frame, len);
		err = errno;
		left = fault_disarm(self->nth);
		dstats_read(self->name, &a);
		fault_done(_metadata, r, n, left, ret, err, write_errs, "write");
		errs = a.rx_dropped - b.rx_dropped +
		       a.rx_frame_errors - b.rx_frame_errors;
		if (ret == (ssize_t)len) {
			EXPECT_EQ(1, a.rx_packets - b.rx_packets)
				TH_LOG("fault %u: write succeeded, rx_packets +%ld",
				       n, a.rx_packets - b.rx_packets);
			EXPECT_EQ((long)rx_len, a.rx_bytes - b.rx_bytes)
				TH_LOG("fault %u: rx_bytes", n);
			EXPECT_EQ(0, errs)
				TH_LOG("fault %u: write succeeded, errors +%ld",
				       n, errs);
			continue;
		}
		EXPECT_EQ(-1, ret) TH_LOG("fault %u: short write %zd", n, ret);
		EXPECT_EQ(0, a.rx_packets - b.rx_packets)
			TH_LOG("fault %u: write failed (%s), rx_packets +%ld",
			       n, strerror(err), a.rx_packets - b.rx_packets);
		EXPECT_LE(errs, 1)
			TH_LOG("fault %u: write failed (%s), rx_dropped +%ld, rx_frame_errors +%ld",
			       n, strerror(err), a.rx_dropped - b.rx_dropped,
			       a.rx_frame_errors - b.rx_frame_errors);
	}
	fault_report(_metadata, r, "write");
	dstats_read(self->name, &b);
	EXPECT_EQ((ssize_t)len, write(self->fd, frame, len))
		TH_LOG("write after the faults: %s", strerror(errno));
	dstats_read(self->name, &a);
	EXPECT_EQ(1, a.rx_packets - b.rx_packets);
	free(r);
}

/* A 60-byte IPv4 packet on a TUN device. */
TEST_F_TIMEOUT(tun_faults, write_small, 600)
{
	size_t len;

	dev_setup(_metadata, self, variant->node, IFF_TUN | IFF_NO_PI, false);
	len = ip_fill(self->buf, 60, false);
	write_faults(_metadata, self, self->buf, len, len);
}

/* A 64 KiB TCPv4 GSO packet behind a vnet header on a TUN device. */
TEST_F_TIMEOUT(tun_faults, write_gso, 600)
{
	size_t len;

	dev_setup(_metadata, self, variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, false);
	vnet_gso(self->buf, 0);
	len = ip_fill(self->buf + VNET_HDR_LEN, GSO_IP_LEN, true);
	write_faults(_metadata, self, self->buf, VNET_HDR_LEN + len, len);
}

/*
 * A 60-byte Ethernet frame on an O_NONBLOCK TAP fd: the write C builds with
 * tun_build_skb() (the task's page frag, build_skb()), as rtun does now.
 */
TEST_F_TIMEOUT(tun_faults, write_tap_nonblock, 600)
{
	size_t len;
	int fl;

	dev_setup(_metadata, self, variant->node, IFF_TAP | IFF_NO_PI, false);
	fl = fcntl(self->fd, F_GETFL);
	ASSERT_LE(0, fl);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_NONBLOCK));
	len = eth_fill(self->buf);
	len += ip_fill(self->buf + len, 60 - ETH_HLEN, false);
	write_faults(_metadata, self, self->buf, len, len);
}

/*
 * The same through an XDP_PASS program on the device: tun_build_skb()'s
 * XDP branch (the program's headroom, the run, the skb around what it
 * passed).
 */
TEST_F_TIMEOUT(tun_faults, write_tap_xdp, 600)
{
	size_t len;
	int fl, prog;

	dev_setup(_metadata, self, variant->node, IFF_TAP | IFF_NO_PI, false);
	fl = fcntl(self->fd, F_GETFL);
	ASSERT_LE(0, fl);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_NONBLOCK));
	prog = bpf_prog_return(BPF_PROG_TYPE_XDP, XDP_PASS);
	ASSERT_LE(0, prog) TH_LOG("BPF_PROG_LOAD: %s", strerror(errno));
	ASSERT_EQ(0, xdp_set(self->ifindex, prog, XDP_FLAGS_DRV_MODE));
	close(prog);
	len = eth_fill(self->buf);
	len += ip_fill(self->buf + len, 60 - ETH_HLEN, false);
	write_faults(_metadata, self, self->buf, len, len);
}

/*
 * ENOBUFS: rtnetlink's own skbs; ENFILE and EFAULT: the test's own
 * netlink socket and the copies of its request and ack.
 */
static const int xdp_errs[] = { ENOMEM, ENOBUFS, ENFILE, EFAULT, 0 };

/*
 * Attaching an XDP program (ndo_bpf) with each fault point failing: a
 * clean errno, and the device takes the program away and again, and
 * writes, afterwards.
 */
TEST_F_TIMEOUT(tun_faults, xdp_attach, 600)
{
	struct fault_run *r = calloc(1, sizeof(*r));
	unsigned int points, left, n;
	size_t len;
	int prog, ret;

	ASSERT_NE(NULL, r);
	dev_setup(_metadata, self, variant->node, IFF_TAP | IFF_NO_PI, false);
	prog = bpf_prog_return(BPF_PROG_TYPE_XDP, XDP_PASS);
	ASSERT_LE(0, prog) TH_LOG("BPF_PROG_LOAD: %s", strerror(errno));
	len = eth_fill(self->buf);
	len += ip_fill(self->buf + len, 60 - ETH_HLEN, false);
	points = COUNT_POINTS(self->nth,
			      ret = xdp_set(self->ifindex, prog, XDP_FLAGS_DRV_MODE));
	ASSERT_EQ(0, ret) TH_LOG("XDP attach: %s", strerror(-ret));
	ASSERT_EQ(0, xdp_set(self->ifindex, -1, XDP_FLAGS_DRV_MODE));
	fault_plan(r, points, 1);
	while ((n = fault_next(r))) {
		fault_arm(self->nth, n);
		ret = xdp_set(self->ifindex, prog, XDP_FLAGS_DRV_MODE);
		left = fault_disarm(self->nth);
		fault_done(_metadata, r, n, left, ret, -ret, xdp_errs,
			   "XDP attach");
		EXPECT_EQ(0, xdp_set(self->ifindex, -1, XDP_FLAGS_DRV_MODE))
			TH_LOG("fault %u: take the program away", n);
		EXPECT_EQ((ssize_t)len, write(self->fd, self->buf, len))
			TH_LOG("fault %u: write: %s", n, strerror(errno));
	}
	fault_report(_metadata, r, "XDP attach");
	close(prog);
	free(r);
}

/* Queue @frame (@len bytes) through the packet socket; 0 or -errno. */
static int queue_frame(FIXTURE_DATA(tun_faults) *self,
		       const unsigned char *frame, size_t len)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };

	if (send(self->pfd, frame, len, 0) != (ssize_t)len)
		return -errno;
	return poll(&pfd, 1, SETTLE_MS) == 1 ? 0 : -ETIMEDOUT;
}

/*
 * Run reads of a frame of @len bytes (from @frame, sent to the device by
 * the packet socket before each read) with each fault point failing.  A
 * read either returns @want bytes (tx_packets +1), or fails with a clean
 * errno having consumed the frame, tx_packets unchanged.  Then a read
 * works.
 */
static void read_faults(struct __test_metadata *_metadata,
			FIXTURE_DATA(tun_faults) *self,
			const unsigned char *frame, size_t len, size_t want)
{
	struct fault_run *r = calloc(1, sizeof(*r));
	unsigned int points, left, n;
	struct dstats b, a;
	ssize_t ret;
	int err, flags;

	ASSERT_NE(NULL, r);
	flags = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags | O_NONBLOCK));
	ASSERT_EQ(0, queue_frame(self, frame, len))
		TH_LOG("send: %s", strerror(errno));
	points = COUNT_POINTS(self->nth,
			      ret = read(self->fd, self->buf2, BUF_MAX));
	ASSERT_EQ((ssize_t)want, ret) TH_LOG("read: %s", strerror(errno));

	fault_plan(r, points, 1);
	while ((n = fault_next(r))) {
		ret = queue_frame(self, frame, len);
		ASSERT_EQ(0, ret) TH_LOG("send: %s", strerror(-ret));
		dstats_read(self->name, &b);
		fault_arm(self->nth, n);
		ret = read(self->fd, self->buf2, BUF_MAX);
		err = errno;
		left = fault_disarm(self->nth);
		dstats_read(self->name, &a);
		fault_done(_metadata, r, n, left, ret, err, read_errs, "read");
		if (ret == (ssize_t)want) {
			EXPECT_EQ(1, a.tx_packets - b.tx_packets)
				TH_LOG("fault %u: read succeeded, tx_packets +%ld",
				       n, a.tx_packets - b.tx_packets);
			continue;
		}
		EXPECT_EQ(-1, ret) TH_LOG("fault %u: read returned %zd of %zu",
					  n, ret, want);
		EXPECT_EQ(0, a.tx_packets - b.tx_packets)
			TH_LOG("fault %u: read failed (%s), tx_packets +%ld",
			       n, strerror(err), a.tx_packets - b.tx_packets);
		/* As C, the frame is gone with the failed read. */
		EXPECT_EQ(0, drain(self->fd, self->buf2))
			TH_LOG("fault %u: frame still queued after a failed read (%s)",
			       n, strerror(err));
	}
	fault_report(_metadata, r, "read");
	ASSERT_EQ(0, queue_frame(self, frame, len));
	EXPECT_EQ((ssize_t)want, read(self->fd, self->buf2, BUF_MAX))
		TH_LOG("read after the faults: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(self->buf2 + want - (len - VNET_HDR_LEN),
			    frame + VNET_HDR_LEN, len - VNET_HDR_LEN))
		TH_LOG("read after the faults: wrong frame");
	free(r);
}

/* A 100-byte frame read with its (zero) vnet header from a TAP device. */
TEST_F_TIMEOUT(tun_faults, read_small, 600)
{
	size_t len;

	dev_setup(_metadata, self, variant->node,
		  IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, true);
	memset(self->buf, 0, VNET_HDR_LEN);
	len = eth_fill(self->buf + VNET_HDR_LEN);
	len += ip_fill(self->buf + VNET_HDR_LEN + len, 86, false);
	read_faults(_metadata, self, self->buf, VNET_HDR_LEN + len,
		    VNET_HDR_LEN + len);
}

/*
 * A 64 KiB TCPv4 GSO frame read with its vnet header from a TAP device
 * that offers TSO (TUNSETOFFLOAD), so the frame is queued unsegmented.
 */
TEST_F_TIMEOUT(tun_faults, read_gso, 600)
{
	size_t len;

	dev_setup(_metadata, self, variant->node,
		  IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, true);
	ASSERT_EQ(0, ioctl(self->fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4))
		TH_LOG("TUNSETOFFLOAD: %s", strerror(errno));
	vnet_gso(self->buf, ETH_HLEN);
	len = eth_fill(self->buf + VNET_HDR_LEN);
	len += ip_fill(self->buf + VNET_HDR_LEN + len, GSO_TAP_IP_LEN, true);
	read_faults(_metadata, self, self->buf, VNET_HDR_LEN + len,
		    VNET_HDR_LEN + len);
}

/*
 * After the tests above, kmemleak (when the kernel has it) reports no
 * unreferenced object whose allocation backtrace passes through this
 * variant's module.  Objects are reported once at least 5 s old
 * (MSECS_MIN_AGE) and unreferenced during a scan; the report file lists
 * all found since the last "clear".  A scan takes about a minute on the
 * debug kernel under TCG, so this runs only with RTUN_KMEMLEAK=1
 * (scripts/guest-debug.sh scans once at the end of all tests anyway).
 */
TEST_F_TIMEOUT(tun_faults, kmemleak, 300)
{
	char mod[32], line[512], first[512] = "";
	int fd, leaks = 0, other = 0;
	bool in_obj = false, ours = false;
	FILE *f;

	if (access(KMEMLEAK, R_OK))
		SKIP(return, "no %s: kernel without CONFIG_DEBUG_KMEMLEAK",
		     KMEMLEAK);
	if (!getenv("RTUN_KMEMLEAK") || strcmp(getenv("RTUN_KMEMLEAK"), "1"))
		SKIP(return, "a kmemleak scan per variant only with RTUN_KMEMLEAK=1");
	snprintf(mod, sizeof(mod), "[%s]", variant->module);
	sleep_ms(5500);
	fd = open(KMEMLEAK, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	if (write(fd, "scan", 4) != 4) {
		/* EBUSY: kmemleak was disabled (e.g. out of metadata). */
		close(fd);
		ASSERT_TRUE(false) TH_LOG("kmemleak scan: %s", strerror(errno));
	}
	close(fd);
	f = fopen(KMEMLEAK, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "unreferenced object", 19)) {
			if (in_obj) {
				leaks += ours;
				other += !ours;
			}
			in_obj = true;
			ours = false;
			snprintf(first, sizeof(first), "%s", line);
			continue;
		}
		if (in_obj && strstr(line, mod)) {
			if (!ours)
				TH_LOG("leak: %s  %s", first, line);
			ours = true;
		}
	}
	if (in_obj) {
		leaks += ours;
		other += !ours;
	}
	fclose(f);
	if (other)
		TH_LOG("%d other unreferenced objects (not from %s)", other, mod);
	EXPECT_EQ(0, leaks) TH_LOG("%d objects leaked through %s", leaks, mod);
}

RTUN_HARNESS_MAIN
