// SPDX-License-Identifier: GPL-2.0
/*
 * Classic socket filters on tap devices (TUNATTACHFILTER, TUNDETACHFILTER,
 * TUNGETFILTER): the program kept by the device, attached to the socket of
 * every active queue, run on what the device transmits to that queue
 * (tun_net_xmit(): dropped and counted in tx_dropped, or trimmed to the
 * length the program returns), the refusals, and the queues that attach
 * later.  Every test runs against the C driver (variant c_tun) and rtun
 * (variant rtun), with the C driver's answers as the expected ones, but
 * for one documented difference (D6 in Documentation/differences.md): C's
 * tun_attach() returns early when it re-attaches a device's filter to a
 * file that attaches, which leaves the file with a filter and no device;
 * rtun attaches the file.  Needs root and both modules loaded.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>

#include "kselftest_harness.h"
#include "rtun_test.h"
#include "pkt.h"

/* How long a frame the stack sends may take to reach the reader. */
#define ARRIVAL_MS 2000
/* How long a frame that must not arrive is waited for. */
#define ABSENT_MS 300
/* A tap without IFF_NO_PI: IFF_NOFILTER (the same bit) then tells filters. */
#define TAP_PI IFF_TAP

FIXTURE(tun_filter) {
	int fd[2];		/* queues of name, -1: not open */
	char name[IFNAMSIZ];	/* this test's device */
	int ifindex;		/* of name, once up */
	int psock;		/* AF_PACKET, PACKET_VNET_HDR: packet_xmit() */
};

FIXTURE_VARIANT(tun_filter) {
	const char *node;	/* the driver's device node */
	const char *tag;	/* prefix of the names the tests choose */
	bool reattach_works;	/* D6: a file attaches to a filtered device */
	bool reasons;		/* ethtool -S has tx_drop_socket_filter */
};

FIXTURE_VARIANT_ADD(tun_filter, c_tun) {
	.node = "/dev/net/tun",
	.tag = "cf",
};

FIXTURE_VARIANT_ADD(tun_filter, rtun) {
	.node = "/dev/net/rtun",
	.tag = "rf",
	.reattach_works = true,
	.reasons = true,
};

FIXTURE_SETUP(tun_filter)
{
	int one = 1;

	snprintf(self->name, IFNAMSIZ, "%s%d", variant->tag, getpid());
	self->fd[0] = self->fd[1] = -1;
	self->psock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->psock) TH_LOG("AF_PACKET: %s", strerror(errno));
	ASSERT_EQ(0, setsockopt(self->psock, SOL_PACKET, PACKET_VNET_HDR,
				&one, sizeof(one)));
}

FIXTURE_TEARDOWN(tun_filter)
{
	if (self->fd[0] >= 0)
		close(self->fd[0]);
	if (self->fd[1] >= 0)
		close(self->fd[1]);
	if (self->psock >= 0)
		close(self->psock);
	/* A persistent device outlives its files: remove it. */
	if (netdev_exists(self->name))
		sh("ip link del %s", self->name);
}

/* ---- programs ---- */

static struct sock_filter prog_drop[] = {
	BPF_STMT(BPF_RET | BPF_K, 0),
};

static struct sock_filter prog_accept[] = {
	BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
};

/* Keep the first 60 bytes. */
#define TRIM_LEN 60
static struct sock_filter prog_trim[] = {
	BPF_STMT(BPF_RET | BPF_K, TRIM_LEN),
};

/* Pass frames longer than 100 bytes, drop the others. */
static struct sock_filter prog_long[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 100, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

/* An opcode the checker refuses. */
static struct sock_filter prog_bad[] = {
	{ .code = 0xffff },
};

#define FPROG(p) ((struct sock_fprog){ .len = ARRAY_SIZE(p), .filter = (p) })

/* TUNATTACHFILTER of @p; the ioctl's return value, errno as it left it. */
static int attach(int fd, struct sock_fprog p)
{
	return ioctl(fd, TUNATTACHFILTER, &p);
}

/* Whether TUNGETIFF says the file has a filter; -1 with errno. */
static int filtered(int fd)
{
	int f = getiff_flags(fd);

	return f < 0 ? -1 : !(f & IFF_NOFILTER);
}

/* ---- devices and frames ---- */

/* Bring the device up (IPv6 off: no frames of its own), note its index. */
static int dev_up(FIXTURE_DATA(tun_filter) *self)
{
	if (ipv6_disable(self->name) || link_up(self->name))
		return -1;
	self->ifindex = sysfs_num(self->name, "ifindex");
	return self->ifindex > 0 ? 0 : -1;
}

/* Hand the stack frame @seq of @len bytes to transmit on the device. */
static int send_frame(FIXTURE_DATA(tun_filter) *self, size_t len, uint32_t seq)
{
	unsigned char buf[1500];

	return packet_xmit(self->psock, self->ifindex, NULL, buf,
			   test_frame(buf, len, seq), 0);
}

/*
 * Read the next test frame from @fd (a tap with a PI header if @pi)
 * within @ms into @buf; its length without the PI, or -1 if none came.
 */
static ssize_t recv_frame(int fd, bool pi, unsigned char *buf, size_t len,
			  long ms)
{
	unsigned char raw[2048];
	size_t skip = pi ? 4 : 0;
	long t0 = now_ms();
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t r;

	for (;;) {
		r = read(fd, raw, sizeof(raw));
		if (r >= (ssize_t)(skip + ETH_HLEN) &&
		    get16(raw + skip + 12) == ETH_P_TEST) {
			r -= skip;
			memcpy(buf, raw + skip, (size_t)r < len ? (size_t)r : len);
			return r;
		}
		if (r >= 0)
			continue;
		if (errno != EAGAIN || now_ms() - t0 >= ms)
			return -1;
		poll(&p, 1, ms - (now_ms() - t0));
	}
}

/* tx_dropped of @name. */
static long tx_dropped(const char *name)
{
	return sysfs_num(name, "statistics/tx_dropped");
}

/* ---- tests ---- */

/* The three ioctls are for taps only: EINVAL on a tun device, as in C. */
TEST_F(tun_filter, tun_refused)
{
	struct sock_fprog got;

	self->fd[0] = tun_open_iff(variant->node, self->name, IFF_TUN, true);
	ASSERT_LE(0, self->fd[0]) TH_LOG("TUNSETIFF: %s", strerror(errno));
	EXPECT_EQ(-1, attach(self->fd[0], FPROG(prog_drop)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd[0], TUNDETACHFILTER, &got));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd[0], TUNGETFILTER, &got));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, filtered(self->fd[0]));
}

/*
 * Before a file has a device the ioctls are EBADFD; TUNGETFILTER gives
 * back the program last named (zeroes before), detached or not; TUNGETIFF
 * reports IFF_NOFILTER while the file's socket has no filter.
 */
TEST_F(tun_filter, attach_get_detach)
{
	struct sock_fprog got, zero = {};
	int fd = dev_open(variant->node);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, attach(fd, FPROG(prog_drop)));
	EXPECT_EQ(EBADFD, errno);
	EXPECT_EQ(-1, ioctl(fd, TUNGETFILTER, &got));
	EXPECT_EQ(EBADFD, errno);
	close(fd);

	self->fd[0] = tun_open_iff(variant->node, self->name, TAP_PI, true);
	ASSERT_LE(0, self->fd[0]);
	memset(&got, 0xa5, sizeof(got));
	ASSERT_EQ(0, ioctl(self->fd[0], TUNGETFILTER, &got));
	EXPECT_EQ(0, memcmp(&got, &zero, sizeof(got)));
	EXPECT_EQ(0, filtered(self->fd[0]));

	ASSERT_EQ(0, attach(self->fd[0], FPROG(prog_drop)));
	EXPECT_EQ(1, filtered(self->fd[0]));
	ASSERT_EQ(0, ioctl(self->fd[0], TUNGETFILTER, &got));
	EXPECT_EQ(ARRAY_SIZE(prog_drop), got.len);
	EXPECT_TRUE(got.filter == prog_drop);

	/* Replaced by another program. */
	ASSERT_EQ(0, attach(self->fd[0], FPROG(prog_long)));
	ASSERT_EQ(0, ioctl(self->fd[0], TUNGETFILTER, &got));
	EXPECT_TRUE(got.filter == prog_long);

	EXPECT_EQ(0, ioctl(self->fd[0], TUNDETACHFILTER, NULL));
	EXPECT_EQ(0, filtered(self->fd[0]));
	/* Still the last program named, and detaching twice is fine. */
	ASSERT_EQ(0, ioctl(self->fd[0], TUNGETFILTER, &got));
	EXPECT_TRUE(got.filter == prog_long);
	EXPECT_EQ(0, ioctl(self->fd[0], TUNDETACHFILTER, NULL));

	/* A bad address for the structure itself. */
	EXPECT_EQ(-1, ioctl(self->fd[0], TUNATTACHFILTER, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd[0], TUNGETFILTER, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

/*
 * Programs the kernel refuses: no instructions, a bad opcode (EINVAL), a
 * bad address for them (EFAULT).  The refused program is kept as the
 * device's all the same, and the socket keeps the filter it had.
 */
TEST_F(tun_filter, refused_programs)
{
	struct sock_fprog empty = { .len = 0, .filter = prog_drop };
	struct sock_fprog wild = { .len = 1, .filter = (void *)8 };
	struct sock_fprog got;
	unsigned char buf[256];

	self->fd[0] = tun_open_iff(variant->node, self->name, TAP_PI, true);
	ASSERT_LE(0, self->fd[0]);
	ASSERT_EQ(0, dev_up(self));

	EXPECT_EQ(-1, attach(self->fd[0], empty));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, attach(self->fd[0], FPROG(prog_bad)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, attach(self->fd[0], wild));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, filtered(self->fd[0]));
	ASSERT_EQ(0, ioctl(self->fd[0], TUNGETFILTER, &got));
	EXPECT_TRUE((void *)got.filter == (void *)8);

	/* A refusal leaves the filter in place: frames still dropped. */
	ASSERT_EQ(0, attach(self->fd[0], FPROG(prog_drop)));
	EXPECT_EQ(-1, attach(self->fd[0], FPROG(prog_bad)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, filtered(self->fd[0]));
	ASSERT_EQ(0, send_frame(self, 200, 1));
	EXPECT_EQ(-1, recv_frame(self->fd[0], true, buf, sizeof(buf),
				 ABSENT_MS));
}

/*
 * What the filter refuses is dropped before the queue, in tx_dropped
 * (rtun: under tx_drop_socket_filter); what it passes is read whole;
 * once detached everything passes.
 */
TEST_F(tun_filter, drops_counted)
{
	unsigned char buf[256];
	long drop0;
	long long r0 = 0;
	int i;

	self->fd[0] = tun_open_iff(variant->node, self->name,
					   IFF_TAP | IFF_NO_PI, true);
	ASSERT_LE(0, self->fd[0]);
	ASSERT_EQ(0, dev_up(self));
	ASSERT_EQ(0, attach(self->fd[0], FPROG(prog_long)));
	drop0 = tx_dropped(self->name);
	if (variant->reasons)
		r0 = ethtool_stat(self->name, "tx_drop_socket_filter");
	ASSERT_LE(0, r0);

	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, send_frame(self, 64, i));
	ASSERT_EQ(0, send_frame(self, 200, 5));
	/* Only the long frame comes, whole. */
	ASSERT_EQ(200, recv_frame(self->fd[0], false, buf, sizeof(buf),
				  ARRIVAL_MS));
	EXPECT_EQ(5, get32(buf + ETH_HLEN));
	EXPECT_EQ(-1, recv_frame(self->fd[0], false, buf, sizeof(buf),
				 ABSENT_MS));
	EXPECT_EQ(drop0 + 5, tx_dropped(self->name));
	if (variant->reasons) {
		EXPECT_EQ(r0 + 5, ethtool_stat(self->name, "tx_drop_socket_filter"));
	}

	ASSERT_EQ(0, ioctl(self->fd[0], TUNDETACHFILTER, NULL));
	ASSERT_EQ(0, send_frame(self, 64, 6));
	ASSERT_EQ(64, recv_frame(self->fd[0], false, buf, sizeof(buf),
				 ARRIVAL_MS));
	EXPECT_EQ(6, get32(buf + ETH_HLEN));
	EXPECT_EQ(drop0 + 5, tx_dropped(self->name));
}

/* A program that returns a length trims the frame to it; 0xffffffff keeps all. */
TEST_F(tun_filter, trims)
{
	unsigned char buf[256], want[256];
	long drop0;

	self->fd[0] = tun_open_iff(variant->node, self->name,
					   IFF_TAP | IFF_NO_PI, true);
	ASSERT_LE(0, self->fd[0]);
	ASSERT_EQ(0, dev_up(self));
	drop0 = tx_dropped(self->name);

	ASSERT_EQ(0, attach(self->fd[0], FPROG(prog_trim)));
	ASSERT_EQ(0, send_frame(self, 200, 7));
	ASSERT_EQ(TRIM_LEN, recv_frame(self->fd[0], false, buf, sizeof(buf),
				       ARRIVAL_MS));
	test_frame(want, 200, 7);
	EXPECT_EQ(0, memcmp(buf, want, TRIM_LEN));
	/* Shorter than the cut: as it is. */
	ASSERT_EQ(0, send_frame(self, 40, 8));
	EXPECT_EQ(40, recv_frame(self->fd[0], false, buf, sizeof(buf),
				 ARRIVAL_MS));

	ASSERT_EQ(0, attach(self->fd[0], FPROG(prog_accept)));
	ASSERT_EQ(0, send_frame(self, 200, 9));
	EXPECT_EQ(200, recv_frame(self->fd[0], false, buf, sizeof(buf),
				  ARRIVAL_MS));
	EXPECT_EQ(drop0, tx_dropped(self->name));
}

/*
 * A persistent device keeps its program for the files that attach later.
 * With IFF_NOFILTER (the bit of IFF_NO_PI) the file gets no filter and
 * attaches; without it C attaches the filter and then returns 0 without
 * attaching the file (TUNGETIFF: EBADFD), where rtun attaches it with the
 * filter (D6).
 */
TEST_F(tun_filter, persistent_reattach)
{
	unsigned char buf[256];
	int fd;

	fd = tun_open_iff(variant->node, self->name, TAP_PI, true);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, TUNSETPERSIST, 1));
	ASSERT_EQ(0, attach(fd, FPROG(prog_drop)));
	close(fd);

	/* Without IFF_NOFILTER. */
	self->fd[0] = tun_open_iff(variant->node, self->name, TAP_PI, true);
	ASSERT_LE(0, self->fd[0]) TH_LOG("TUNSETIFF: %s", strerror(errno));
	if (variant->reattach_works) {
		EXPECT_EQ(1, filtered(self->fd[0]));
		ASSERT_EQ(0, dev_up(self));
		ASSERT_EQ(0, send_frame(self, 200, 1));
		EXPECT_EQ(-1, recv_frame(self->fd[0], true, buf, sizeof(buf),
					 ABSENT_MS));
	} else {
		EXPECT_EQ(-1, filtered(self->fd[0]));
		EXPECT_EQ(EBADFD, errno);
	}
	close(self->fd[0]);

	/* With it: no filter, and frames come. */
	self->fd[0] = tun_open_iff(variant->node, self->name,
					   TAP_PI | IFF_NOFILTER, true);
	ASSERT_LE(0, self->fd[0]) TH_LOG("TUNSETIFF: %s", strerror(errno));
	EXPECT_EQ(0, getiff_flags(self->fd[0]) < 0);
	ASSERT_EQ(0, dev_up(self));
	ASSERT_EQ(0, send_frame(self, 200, 2));
	EXPECT_EQ(200, recv_frame(self->fd[0], false, buf, sizeof(buf),
				  ARRIVAL_MS));
	/* Detaching clears the device's program for later files. */
	ASSERT_EQ(0, ioctl(self->fd[0], TUNDETACHFILTER, NULL));
	close(self->fd[0]);
	self->fd[0] = tun_open_iff(variant->node, self->name, TAP_PI, true);
	ASSERT_LE(0, self->fd[0]);
	EXPECT_EQ(0, filtered(self->fd[0]));
	EXPECT_EQ(0, ioctl(self->fd[0], TUNSETPERSIST, 0));
}

/*
 * Multiqueue: the program goes on every active queue; a detached queue
 * keeps the filter its socket had through TUNDETACHFILTER (C detaches the
 * active ones only), and a queue re-attached while the device has a
 * filter gets it (C: the early return of D6 leaves the queue detached).
 */
TEST_F(tun_filter, multiqueue)
{
	int flags = TAP_PI | IFF_MULTI_QUEUE;
	int f;

	self->fd[0] = tun_open_iff(variant->node, self->name, flags, true);
	ASSERT_LE(0, self->fd[0]);
	self->fd[1] = tun_open_iff(variant->node, self->name,
					   flags | IFF_NOFILTER, true);
	ASSERT_LE(0, self->fd[1]);
	ASSERT_EQ(0, attach(self->fd[1], FPROG(prog_drop)));
	EXPECT_EQ(1, filtered(self->fd[0]));
	EXPECT_EQ(1, filtered(self->fd[1]));

	/* Detached, then the device's filter goes: queue 1 keeps its own. */
	ASSERT_EQ(0, set_queue(self->fd[1], IFF_DETACH_QUEUE));
	ASSERT_EQ(0, ioctl(self->fd[0], TUNDETACHFILTER, NULL));
	EXPECT_EQ(0, filtered(self->fd[0]));
	f = getiff_flags(self->fd[1]);
	EXPECT_EQ(IFF_DETACH_QUEUE, f & (IFF_DETACH_QUEUE | IFF_NOFILTER));
	/* Back without a device filter: attached, with the old one. */
	ASSERT_EQ(0, set_queue(self->fd[1], IFF_ATTACH_QUEUE));
	f = getiff_flags(self->fd[1]);
	EXPECT_EQ(0, f & (IFF_DETACH_QUEUE | IFF_NOFILTER));

	/* With a device filter, TUNSETQUEUE re-attach meets D6. */
	ASSERT_EQ(0, set_queue(self->fd[1], IFF_DETACH_QUEUE));
	ASSERT_EQ(0, attach(self->fd[0], FPROG(prog_trim)));
	ASSERT_EQ(0, set_queue(self->fd[1], IFF_ATTACH_QUEUE));
	f = getiff_flags(self->fd[1]);
	ASSERT_LE(0, f);
	EXPECT_EQ(0, f & IFF_NOFILTER);
	if (variant->reattach_works) {
		EXPECT_EQ(0, f & IFF_DETACH_QUEUE);
	} else {
		EXPECT_EQ(IFF_DETACH_QUEUE, f & IFF_DETACH_QUEUE);
	}
}

RTUN_HARNESS_MAIN
