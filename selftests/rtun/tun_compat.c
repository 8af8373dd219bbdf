// SPDX-License-Identifier: GPL-2.0
/*
 * tun's ioctls as a 32-bit program makes them (tun_chr_compat_ioctl()),
 * for the C driver (variant c_tun) and rtun (variant rtun).  The Makefile
 * builds this file twice: tun_compat, a native program, and tun_compat32,
 * the same tests built with -m32, whose ioctls reach the driver's
 * compat_ioctl.  A 32-bit struct ifreq is 32 bytes (struct compat_ifreq),
 * 8 fewer than a 64-bit one: the driver must copy no more than that in or
 * out, which the guard bytes after the structure show.  Every other
 * argument (a pointer or a value) means what it means natively.
 * Needs root and both modules loaded (and, for tun_compat32, a kernel with
 * CONFIG_IA32_EMULATION).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>

#include "kselftest_harness.h"
#include "rtun_test.h"

/* Guard bytes after the caller's struct ifreq, which no ioctl may touch. */
#define GUARD 16
#define GUARD_BYTE 0xa5

/* A struct ifreq followed by guard bytes. */
struct guarded_ifreq {
	struct ifreq ifr;
	unsigned char guard[GUARD];
};

FIXTURE(tun_compat) {
	int fd;			/* open on variant->node, not attached */
	char name[IFNAMSIZ];	/* this test's device */
};

FIXTURE_VARIANT(tun_compat) {
	const char *node;	/* the driver's device node */
	const char *tag;	/* prefix of the names the tests choose */
};

FIXTURE_VARIANT_ADD(tun_compat, c_tun) {
	.node = "/dev/net/tun",
	.tag = "cm",
};

FIXTURE_VARIANT_ADD(tun_compat, rtun) {
	.node = "/dev/net/rtun",
	.tag = "rm",
};

FIXTURE_SETUP(tun_compat)
{
	/* The tag tells a 32-bit run's devices from a native run's. */
	snprintf(self->name, IFNAMSIZ, "%s%d%d", variant->tag,
		 (int)sizeof(long) * 8, getpid());
	self->fd = dev_open(variant->node);
	ASSERT_LE(0, self->fd)
		TH_LOG("open %s: %s", variant->node, strerror(errno));
}

FIXTURE_TEARDOWN(tun_compat)
{
	if (self->fd >= 0)
		close(self->fd);
	if (netdev_exists(self->name))
		sh("ip link del %s", self->name);
}

/* A guarded struct ifreq: all of it @fill, the guard GUARD_BYTE. */
static void guarded_init(struct guarded_ifreq *g, int fill)
{
	memset(&g->ifr, fill, sizeof(g->ifr));
	memset(g->guard, GUARD_BYTE, sizeof(g->guard));
}

/* Whether the guard bytes are untouched. */
static bool guard_intact(const struct guarded_ifreq *g)
{
	int i;

	for (i = 0; i < GUARD; i++)
		if (g->guard[i] != GUARD_BYTE)
			return false;
	return true;
}

/* Whether @len bytes at @p are all @byte. */
static bool all_bytes(const void *p, size_t len, int byte)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != byte)
			return false;
	return true;
}

/* The program is what its build says: a 32-bit struct ifreq is 32 bytes. */
TEST_F(tun_compat, ifreq_size)
{
	EXPECT_EQ(sizeof(long) == 4 ? 32 : 40, sizeof(struct ifreq));
}

/*
 * TUNSETIFF copies the caller's struct ifreq in and back out, the name
 * filled in: the bytes after the flags come back as they went in, nothing
 * past the structure changes.  TUNGETIFF writes a zeroed structure with
 * the name and flags.
 */
TEST_F(tun_compat, setiff_getiff)
{
	struct guarded_ifreq g;
	size_t rest = sizeof(g.ifr) - IFNAMSIZ - sizeof(short);

	guarded_init(&g, 0x5a);
	memset(g.ifr.ifr_name, 0, IFNAMSIZ);
	snprintf(g.ifr.ifr_name, IFNAMSIZ, "%s", self->name);
	g.ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	ASSERT_EQ(0, ioctl(self->fd, TUNSETIFF, &g.ifr))
		TH_LOG("TUNSETIFF: %s", strerror(errno));
	EXPECT_STREQ(self->name, g.ifr.ifr_name);
	EXPECT_TRUE(all_bytes(&g.ifr.ifr_flags + 1, rest, 0x5a));
	EXPECT_TRUE(guard_intact(&g));

	guarded_init(&g, 0x5a);
	ASSERT_EQ(0, ioctl(self->fd, TUNGETIFF, &g.ifr))
		TH_LOG("TUNGETIFF: %s", strerror(errno));
	EXPECT_STREQ(self->name, g.ifr.ifr_name);
	EXPECT_EQ(IFF_TAP | IFF_NO_PI, g.ifr.ifr_flags & (IFF_TAP | IFF_NO_PI));
	EXPECT_TRUE(all_bytes(&g.ifr.ifr_flags + 1, rest, 0));
	EXPECT_TRUE(guard_intact(&g));
}

/* A name from "%d" comes back in the short structure too. */
TEST_F(tun_compat, setiff_template)
{
	struct guarded_ifreq g;
	char want[IFNAMSIZ];

	guarded_init(&g, 0);
	snprintf(g.ifr.ifr_name, IFNAMSIZ, "%s%%d", variant->tag);
	g.ifr.ifr_flags = IFF_TUN;
	ASSERT_EQ(0, ioctl(self->fd, TUNSETIFF, &g.ifr))
		TH_LOG("TUNSETIFF: %s", strerror(errno));
	snprintf(want, sizeof(want), "%s", variant->tag);
	EXPECT_EQ(0, strncmp(want, g.ifr.ifr_name, strlen(want)));
	EXPECT_TRUE(netdev_exists(g.ifr.ifr_name));
	EXPECT_TRUE(guard_intact(&g));
}

/* SIOCGIFHWADDR/SIOCSIFHWADDR through the tun fd, with a short ifreq. */
TEST_F(tun_compat, hwaddr)
{
	static const unsigned char mac[ETH_ALEN] = { 0x02, 0x32, 0, 0, 0, 7 };
	struct guarded_ifreq g;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	guarded_init(&g, 0);
	g.ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(g.ifr.ifr_hwaddr.sa_data, mac, ETH_ALEN);
	ASSERT_EQ(0, ioctl(self->fd, SIOCSIFHWADDR, &g.ifr))
		TH_LOG("SIOCSIFHWADDR: %s", strerror(errno));
	EXPECT_TRUE(guard_intact(&g));

	guarded_init(&g, 0);
	ASSERT_EQ(0, ioctl(self->fd, SIOCGIFHWADDR, &g.ifr))
		TH_LOG("SIOCGIFHWADDR: %s", strerror(errno));
	EXPECT_EQ(ARPHRD_ETHER, g.ifr.ifr_hwaddr.sa_family);
	EXPECT_EQ(0, memcmp(mac, g.ifr.ifr_hwaddr.sa_data, ETH_ALEN));
	EXPECT_TRUE(guard_intact(&g));
}

/* Pointer arguments: the send buffer, the header size, the features. */
TEST_F(tun_compat, pointer_args)
{
	unsigned int features = 0;
	int v;

	ASSERT_EQ(0, ioctl(self->fd, TUNGETFEATURES, &features));
	EXPECT_NE(0, features & IFF_VNET_HDR);
	ASSERT_EQ(0, set_iff(self->fd, self->name,
			     IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, NULL));
	v = 65536;
	EXPECT_EQ(0, ioctl(self->fd, TUNSETSNDBUF, &v));
	v = 0;
	EXPECT_EQ(0, ioctl(self->fd, TUNGETSNDBUF, &v));
	EXPECT_EQ(65536, v);
	v = 12;
	EXPECT_EQ(0, ioctl(self->fd, TUNSETVNETHDRSZ, &v));
	v = 0;
	EXPECT_EQ(0, ioctl(self->fd, TUNGETVNETHDRSZ, &v));
	EXPECT_EQ(12, v);
	v = 3;
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETVNETHDRSZ, &v));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETSNDBUF, NULL));
	EXPECT_EQ(EFAULT, errno);
}

/* Value arguments: persistence, offloads, the owner. */
TEST_F(tun_compat, value_args)
{
	char buf[32];

	ASSERT_EQ(0, set_iff(self->fd, self->name,
			     IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, NULL));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4));
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETOFFLOAD, 0x8000));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ioctl(self->fd, TUNSETOWNER, 4321));
	ASSERT_EQ(0, sysfs_read(self->name, "owner", buf, sizeof(buf)));
	EXPECT_STREQ("4321", buf);
	EXPECT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 1));
	ASSERT_EQ(0, sysfs_read(self->name, "tun_flags", buf, sizeof(buf)));
	EXPECT_EQ(IFF_PERSIST, strtol(buf, NULL, 16) & IFF_PERSIST);
	EXPECT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 0));
}

/* TUNSETTXFILTER: struct tun_filter has the same layout in both ABIs. */
TEST_F(tun_compat, txfilter)
{
	struct {
		struct tun_filter f;
		unsigned char addr[2][ETH_ALEN];
	} flt = { .f = { .count = 2 } };

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	memset(flt.addr[0], 0x02, ETH_ALEN);
	memset(flt.addr[1], 0x04, ETH_ALEN);
	EXPECT_EQ(2, ioctl(self->fd, TUNSETTXFILTER, &flt));
	flt.f.count = 0;
	EXPECT_EQ(0, ioctl(self->fd, TUNSETTXFILTER, &flt));
}

/* Writes and reads need no conversion: a frame goes through both ways. */
TEST_F(tun_compat, write_read)
{
	unsigned char frame[60] = { 0 }, in[128];
	int fl;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	ASSERT_EQ(0, ipv6_disable(self->name));
	ASSERT_EQ(0, link_up(self->name));
	memset(frame, 0xff, ETH_ALEN);
	frame[6] = 0x02;
	frame[12] = 0x88;
	frame[13] = 0xb5;
	EXPECT_EQ((ssize_t)sizeof(frame), write(self->fd, frame, sizeof(frame)));
	fl = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_NONBLOCK));
	/* Nothing was transmitted toward the reader. */
	EXPECT_EQ(-1, read(self->fd, in, sizeof(in)));
	EXPECT_EQ(EAGAIN, errno);
}

RTUN_HARNESS_MAIN
