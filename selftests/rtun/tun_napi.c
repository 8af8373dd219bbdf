// SPDX-License-Identifier: GPL-2.0
/*
 * Writes through a file's NAPI context: IFF_NAPI_FRAGS, where each write
 * is built in the context's skb, its first iovec segment linear and each
 * further one a page fragment (tun_napi_alloc_frags()), and handed to GRO
 * at once (napi_gro_frags()); the layouts C refuses (EMSGSIZE, EINVAL),
 * counted in rx_dropped; a detached queue's write (EBUSY, not counted).
 * The frames written are read back whole from a packet socket on the
 * device.  Every test runs against the C driver (variant c_tun) and rtun
 * (variant rtun), with the C driver's answers as the expected ones.
 * Needs root and both modules loaded.
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
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>

#include "kselftest_harness.h"
#include "rtun_test.h"
#include "pkt.h"

/* How long a written frame may take to reach the packet socket. */
#define ARRIVAL_MS 2000
/* tun_napi_alloc_frags()'s limit on iovec segments: MAX_SKB_FRAGS + 1. */
#define MAX_SEGS (17 + 1)
/* The payload of the test frames: a magic word, then the pattern. */
#define NAPI_MAGIC 0x4e415049

#define FRAGS_TAP (IFF_TAP | IFF_NO_PI | IFF_NAPI | IFF_NAPI_FRAGS)

FIXTURE(tun_napi) {
	int fd[2];		/* queues of name, -1: not open */
	int psock;		/* AF_PACKET bound to the device: what arrives */
	char name[IFNAMSIZ];
};

FIXTURE_VARIANT(tun_napi) {
	const char *node;	/* the driver's device node */
	const char *tag;	/* prefix of the names the tests choose */
	bool reasons;		/* ethtool -S has the drop reasons */
};

FIXTURE_VARIANT_ADD(tun_napi, c_tun) {
	.node = "/dev/net/tun",
	.tag = "cn",
};

FIXTURE_VARIANT_ADD(tun_napi, rtun) {
	.node = "/dev/net/rtun",
	.tag = "rn",
	.reasons = true,
};

FIXTURE_SETUP(tun_napi)
{
	snprintf(self->name, IFNAMSIZ, "%s%d", variant->tag, getpid());
	self->fd[0] = self->fd[1] = -1;
	self->psock = -1;
}

FIXTURE_TEARDOWN(tun_napi)
{
	if (self->psock >= 0)
		close(self->psock);
	if (self->fd[0] >= 0)
		close(self->fd[0]);
	if (self->fd[1] >= 0)
		close(self->fd[1]);
}

/*
 * Bring the device up (IPv6 off: no frames of its own) and bind a packet
 * socket to it that sees every frame it receives.  0 or -1.
 */
static int watch(FIXTURE_DATA(tun_napi) *self)
{
	self->psock = dev_watch(self->name);
	return self->psock < 0 ? -1 : 0;
}

/* A UDP/IPv4 frame with @payload bytes (at least 8) numbered @seq. */
static size_t napi_frame(unsigned char *buf, size_t payload, uint32_t seq)
{
	unsigned char data[9000];
	struct pkt_desc d = {
		.eth = true,
		.dst = pkt_mac_dst,
		.src = pkt_mac_src,
		.ip = { .ipv = 4 },
		.l4 = { .proto = IPPROTO_UDP },
		.payload = payload,
		.data = data,
	};
	size_t i;

	for (i = 0; i < payload; i++)
		data[i] = pattern(i);
	put32(data, NAPI_MAGIC);
	put32(data + 4, seq);
	ip_desc_addrs(&d.ip, &pkt_addrs, NULL, NULL);
	pkt_desc_usual(&d);
	return pkt_put(buf, &d, NULL);
}

/*
 * writev() of @len bytes of @buf cut into segments of the @n lengths in
 * @cuts (the last one takes the rest).  What write returned, or -errno.
 */
static ssize_t write_cut(int fd, const unsigned char *buf, size_t len,
			 const size_t *cuts, int n)
{
	struct iovec iov[64];
	size_t off = 0;
	ssize_t r;
	int i;

	for (i = 0; i < n && i < 64; i++) {
		size_t l = i == n - 1 ? len - off : cuts[i];

		iov[i].iov_base = (void *)(buf + off);
		iov[i].iov_len = l;
		off += l;
	}
	r = writev(fd, iov, i);
	return r < 0 ? -errno : r;
}

/*
 * The next frame numbered @seq to reach the packet socket, into @buf;
 * its length, or -1 if none came within ARRIVAL_MS.
 */
static ssize_t arrived(FIXTURE_DATA(tun_napi) *self, uint32_t seq,
		       unsigned char *buf, size_t len)
{
	struct pollfd p = { .fd = self->psock, .events = POLLIN };
	long t0 = now_ms();
	ssize_t r;

	while (now_ms() - t0 < ARRIVAL_MS) {
		r = recv(self->psock, buf, len, 0);
		if (r >= ETH_HLEN + 20 + 8 + 8 && get16(buf + 12) == ETH_P_IP &&
		    buf[23] == IPPROTO_UDP && get32(buf + 42) == NAPI_MAGIC &&
		    get32(buf + 46) == seq)
			return r;
		if (r < 0)
			poll(&p, 1, 100);
	}
	return -1;
}

static long stat_of(const char *name, const char *stat)
{
	char path[64];

	snprintf(path, sizeof(path), "statistics/%s", stat);
	return sysfs_num(name, path);
}

/*
 * Frames cut into one to eighteen segments (the headers in the first, or
 * split across the first two) arrive whole, and count as received.
 */
TEST_F(tun_napi, frags_write)
{
	static const size_t one[] = { 0 };
	static const size_t three[] = { 42, 300, 0 };
	static const size_t hdr_split[] = { 20, 30, 0 };
	static const size_t pages[] = { 100, 4096, 0 };
	size_t many[MAX_SEGS];
	unsigned char frame[9000], got[9000];
	struct {
		const size_t *cuts;
		int n;
		size_t payload;
	} cases[] = {
		{ one, 1, 600 },
		{ three, 3, 600 },
		{ hdr_split, 3, 600 },
		{ pages, 3, 5000 },
		{ many, MAX_SEGS, 1200 },
	};
	long rx0, bytes0;
	size_t len, total = 0;
	unsigned int i;

	for (i = 0; i < MAX_SEGS; i++)
		many[i] = i ? 64 : 42;
	self->fd[0] = tun_open_iff(variant->node, self->name, FRAGS_TAP, false);
	ASSERT_LE(0, self->fd[0]) TH_LOG("TUNSETIFF: %s", strerror(errno));
	ASSERT_EQ(0, watch(self));
	rx0 = stat_of(self->name, "rx_packets");
	bytes0 = stat_of(self->name, "rx_bytes");

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		len = napi_frame(frame, cases[i].payload, i);
		ASSERT_EQ((ssize_t)len, write_cut(self->fd[0], frame, len,
						  cases[i].cuts, cases[i].n))
			TH_LOG("case %u", i);
		ASSERT_EQ((ssize_t)len, arrived(self, i, got, sizeof(got)))
			TH_LOG("case %u", i);
		EXPECT_EQ(0, memcmp(frame, got, len)) TH_LOG("case %u", i);
		total += len;
	}
	EXPECT_EQ(rx0 + ARRAY_SIZE(cases), stat_of(self->name, "rx_packets"));
	EXPECT_EQ(bytes0 + (long)total, stat_of(self->name, "rx_bytes"));
}

/*
 * Layouts tun_napi_alloc_frags() refuses: more than MAX_SKB_FRAGS + 1
 * segments (EMSGSIZE), an empty segment after the first or one longer
 * than a page (EINVAL); each counted in rx_dropped (rtun: under
 * rx_drop_bad_layout), and the next write goes through.
 */
TEST_F(tun_napi, frags_refused)
{
	static const size_t empty[] = { 42, 0, 100, 0 };
	static const size_t big[] = { 42, 4097, 0 };
	size_t many[MAX_SEGS + 1];
	unsigned char frame[9000], got[9000];
	long drop0;
	long long r0 = 0;
	size_t len;
	int i;

	for (i = 0; i < MAX_SEGS + 1; i++)
		many[i] = i ? 32 : 42;
	self->fd[0] = tun_open_iff(variant->node, self->name, FRAGS_TAP, false);
	ASSERT_LE(0, self->fd[0]);
	ASSERT_EQ(0, watch(self));
	drop0 = stat_of(self->name, "rx_dropped");
	if (variant->reasons)
		r0 = ethtool_stat(self->name, "rx_drop_bad_layout");
	ASSERT_LE(0, r0);

	len = napi_frame(frame, 1000, 1);
	EXPECT_EQ(-EMSGSIZE, write_cut(self->fd[0], frame, len, many,
				       MAX_SEGS + 1));
	EXPECT_EQ(-EINVAL, write_cut(self->fd[0], frame, len, empty, 4));
	len = napi_frame(frame, 5000, 1);
	EXPECT_EQ(-EINVAL, write_cut(self->fd[0], frame, len, big, 3));
	EXPECT_EQ(drop0 + 3, stat_of(self->name, "rx_dropped"));
	if (variant->reasons) {
		EXPECT_EQ(r0 + 3, ethtool_stat(self->name, "rx_drop_bad_layout"));
	}

	len = napi_frame(frame, 300, 2);
	ASSERT_EQ((ssize_t)len, write_cut(self->fd[0], frame, len, big, 2));
	EXPECT_EQ((ssize_t)len, arrived(self, 2, got, sizeof(got)));
}

/*
 * A queue detached with TUNSETQUEUE has its NAPI context disabled: its
 * frags write is EBUSY, counted nowhere; attached again, it writes.
 */
TEST_F(tun_napi, frags_detached_queue)
{
	static const size_t two[] = { 42, 0 };
	unsigned char frame[2048], got[2048];
	int flags = FRAGS_TAP | IFF_MULTI_QUEUE;
	long drop0;
	size_t len;

	self->fd[0] = tun_open_iff(variant->node, self->name, flags, false);
	ASSERT_LE(0, self->fd[0]);
	self->fd[1] = tun_open_iff(variant->node, self->name, flags, false);
	ASSERT_LE(0, self->fd[1]);
	ASSERT_EQ(0, watch(self));
	drop0 = stat_of(self->name, "rx_dropped");

	ASSERT_EQ(0, set_queue(self->fd[1], IFF_DETACH_QUEUE));
	len = napi_frame(frame, 200, 3);
	EXPECT_EQ(-EBUSY, write_cut(self->fd[1], frame, len, two, 2));
	EXPECT_EQ(drop0, stat_of(self->name, "rx_dropped"));

	ASSERT_EQ(0, set_queue(self->fd[1], IFF_ATTACH_QUEUE));
	len = napi_frame(frame, 200, 4);
	ASSERT_EQ((ssize_t)len, write_cut(self->fd[1], frame, len, two, 2));
	EXPECT_EQ((ssize_t)len, arrived(self, 4, got, sizeof(got)));
	/* The other queue never stopped. */
	len = napi_frame(frame, 200, 5);
	ASSERT_EQ((ssize_t)len, write_cut(self->fd[0], frame, len, two, 2));
	EXPECT_EQ((ssize_t)len, arrived(self, 5, got, sizeof(got)));
}

/*
 * IFF_NAPI and IFF_NAPI_FRAGS are each file's own: a second queue of the
 * device without them writes as usual, beside the frags one.
 */
TEST_F(tun_napi, frags_per_file)
{
	static const size_t two[] = { 42, 0 };
	unsigned char frame[2048], got[2048];
	int mq = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
	size_t len;

	self->fd[0] = tun_open_iff(variant->node, self->name,
					   mq | IFF_NAPI | IFF_NAPI_FRAGS, false);
	ASSERT_LE(0, self->fd[0]);
	self->fd[1] = tun_open_iff(variant->node, self->name, mq, false);
	ASSERT_LE(0, self->fd[1]);
	ASSERT_EQ(0, watch(self));
	len = napi_frame(frame, 1400, 6);
	ASSERT_EQ((ssize_t)len, write_cut(self->fd[1], frame, len, two, 2));
	EXPECT_EQ((ssize_t)len, arrived(self, 6, got, sizeof(got)));
	len = napi_frame(frame, 1400, 7);
	ASSERT_EQ((ssize_t)len, write_cut(self->fd[0], frame, len, two, 2));
	EXPECT_EQ((ssize_t)len, arrived(self, 7, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(frame, got, len));
}

RTUN_HARNESS_MAIN
