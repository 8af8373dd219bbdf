// SPDX-License-Identifier: GPL-2.0
/*
 * Character device ABI of tun drivers: every test runs once against the C
 * reference driver (/dev/net/tun, variant c_tun) and once against the Rust
 * driver (/dev/net/rtun, variant rtun), with the C driver's behaviour as the
 * expected one.  Needs root (CAP_NET_ADMIN) and both modules loaded.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>

#include "kselftest_harness.h"
#include "rtun_test.h"

/* Features every driver must advertise and honour. */
#define REQUIRED_FEATURES (IFF_TUN | IFF_TAP | IFF_NO_CARRIER | IFF_NO_PI | \
			   IFF_ONE_QUEUE)

/* How long a device may take to disappear or change state. */
#define SETTLE_MS 3000

FIXTURE(rtun_abi) {
	int fd;		/* open on variant->node, not attached */
	int fd2;	/* a second fd on variant->node, if a test needs it */
	int peer_fd;	/* an fd on the other driver's node */
};

FIXTURE_VARIANT(rtun_abi) {
	const char *node;	/* this driver's device node */
	const char *peer_node;	/* the other driver's device node */
	const char *tun_prefix;	/* default name of IFF_TUN devices, no %d */
	const char *tap_prefix;	/* default name of IFF_TAP devices, no %d */
	const char *tag;	/* prefix of the names the tests choose */
	unsigned int features;	/* exact TUNGETFEATURES answer (6.12) */
	unsigned int features_7; /* the same on 7.x */
};

FIXTURE_VARIANT_ADD(rtun_abi, c_tun) {
	.node = "/dev/net/tun",
	.peer_node = "/dev/net/rtun",
	.tun_prefix = "tun",
	.tap_prefix = "tap",
	.tag = "ct",
	/* REQUIRED_FEATURES | IFF_VNET_HDR | IFF_MULTI_QUEUE | IFF_NAPI(_FRAGS) */
	.features = 0x7173,
	/* ... | IFF_BACKPRESSURE */
	.features_7 = 0x71f3,
};

FIXTURE_VARIANT_ADD(rtun_abi, rtun) {
	.node = "/dev/net/rtun",
	.peer_node = "/dev/net/tun",
	.tun_prefix = "rtun",
	.tap_prefix = "rtap",
	.tag = "rt",
	/* C's: rtun has every feature of tun.c on each kernel. */
	.features = 0x7173,
	.features_7 = 0x71f3,
};

/* TUNGETIFF: name into @out (IFNAMSIZ bytes) and flags into @flags. */
static int get_iff(int fd, char *out, unsigned short *flags)
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	ret = ioctl(fd, TUNGETIFF, &ifr);
	if (!ret) {
		memcpy(out, ifr.ifr_name, IFNAMSIZ);
		*flags = ifr.ifr_flags;
	}
	return ret;
}

/* A name for a device of this test: tag, pid, suffix ("ct1234x%d"). */
static void test_name(char *buf, const char *tag, const char *suffix)
{
	snprintf(buf, IFNAMSIZ, "%s%d%s", tag, getpid(), suffix);
}

/* Operational state is set by linkwatch, asynchronously: wait for @want. */
static bool operstate_wait(const char *dev, const char *want, char *seen)
{
	int ms;

	for (ms = 0; ms < SETTLE_MS; ms += 20) {
		if (!sysfs_read(dev, "operstate", seen, IFNAMSIZ) &&
		    !strcmp(seen, want))
			return true;
		sleep_ms(20);
	}
	return false;
}

/* "@prefix" followed by at least one digit and nothing else. */
static bool is_prefix_num(const char *name, const char *prefix)
{
	size_t len = strlen(prefix);
	const char *p = name + len;

	if (strncmp(name, prefix, len) || !*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* "xx:xx:xx:xx:xx:xx" -> 6 bytes; false if malformed. */
static bool parse_mac(const char *s, unsigned char *mac)
{
	unsigned int b[6];
	char end;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6)
		return false;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return false;
		mac[i] = b[i];
	}
	return true;
}

FIXTURE_SETUP(rtun_abi)
{
	self->fd2 = -1;
	self->peer_fd = -1;
	self->fd = dev_open(variant->node);
	ASSERT_LE(0, self->fd)
		TH_LOG("open %s: %s", variant->node, strerror(errno));
}

FIXTURE_TEARDOWN(rtun_abi)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->fd2 >= 0)
		close(self->fd2);
	if (self->peer_fd >= 0)
		close(self->peer_fd);
}

TEST_F(rtun_abi, features)
{
	unsigned int feat = 0, want;

	ASSERT_EQ(0, ioctl(self->fd, TUNGETFEATURES, &feat))
		TH_LOG("TUNGETFEATURES: %s", strerror(errno));
	want = kernel_at_least(7, 0) ? variant->features_7 : variant->features;
	EXPECT_EQ(want, feat)
		TH_LOG("features 0x%x, expected 0x%x", feat, want);
	EXPECT_EQ(REQUIRED_FEATURES, feat & REQUIRED_FEATURES);
}

TEST_F(rtun_abi, tun_default_name)
{
	char name[IFNAMSIZ];
	long flags;

	ASSERT_EQ(0, set_iff(self->fd, "", IFF_TUN | IFF_NO_PI, name))
		TH_LOG("TUNSETIFF: %s", strerror(errno));
	EXPECT_TRUE(is_prefix_num(name, variant->tun_prefix))
		TH_LOG("name '%s', expected %s%%d", name, variant->tun_prefix);
	ASSERT_TRUE(netdev_exists(name)) TH_LOG("no /sys/class/net/%s", name);
	EXPECT_EQ(ARPHRD_NONE, sysfs_num(name, "type"));
	EXPECT_EQ(0, sysfs_num(name, "addr_len"));
	EXPECT_EQ(1500, sysfs_num(name, "mtu"));
	flags = sysfs_num(name, "flags");
	ASSERT_LE(0, flags);
	EXPECT_EQ(IFF_POINTOPOINT | IFF_NOARP | IFF_MULTICAST, flags)
		TH_LOG("flags 0x%lx", flags);
}

TEST_F(rtun_abi, tap_default_name)
{
	unsigned char mac[6];
	char name[IFNAMSIZ], addr[32];
	long flags;

	ASSERT_EQ(0, set_iff(self->fd, "", IFF_TAP | IFF_NO_PI, name))
		TH_LOG("TUNSETIFF: %s", strerror(errno));
	EXPECT_TRUE(is_prefix_num(name, variant->tap_prefix))
		TH_LOG("name '%s', expected %s%%d", name, variant->tap_prefix);
	ASSERT_TRUE(netdev_exists(name)) TH_LOG("no /sys/class/net/%s", name);
	EXPECT_EQ(ARPHRD_ETHER, sysfs_num(name, "type"));
	EXPECT_EQ(6, sysfs_num(name, "addr_len"));
	EXPECT_EQ(1500, sysfs_num(name, "mtu"));
	flags = sysfs_num(name, "flags");
	EXPECT_EQ(IFF_BROADCAST | IFF_MULTICAST, flags)
		TH_LOG("flags 0x%lx", flags);
	/* eth_hw_addr_random(): NET_ADDR_RANDOM */
	EXPECT_EQ(1, sysfs_num(name, "addr_assign_type"));
	ASSERT_EQ(0, sysfs_read(name, "address", addr, sizeof(addr)));
	ASSERT_TRUE(parse_mac(addr, mac)) TH_LOG("address '%s'", addr);
	EXPECT_EQ(0, mac[0] & 0x01) TH_LOG("multicast address %s", addr);
	EXPECT_EQ(0x02, mac[0] & 0x02) TH_LOG("not locally administered: %s", addr);
}

/* Two devices of each type with default names get different names. */
TEST_F(rtun_abi, default_names_differ)
{
	static const int types[] = { IFF_TUN, IFF_TAP };
	char a[IFNAMSIZ], b[IFNAMSIZ];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		self->fd2 = dev_open(variant->node);
		ASSERT_LE(0, self->fd2);
		ASSERT_EQ(0, set_iff(self->fd, "", types[i] | IFF_NO_PI, a));
		ASSERT_EQ(0, set_iff(self->fd2, "", types[i] | IFF_NO_PI, b));
		EXPECT_STRNE(a, b);
		EXPECT_TRUE(netdev_exists(a));
		EXPECT_TRUE(netdev_exists(b));
		close(self->fd);
		close(self->fd2);
		self->fd2 = -1;
		self->fd = dev_open(variant->node);
		ASSERT_LE(0, self->fd);
	}
}

/* "xyz%d" takes the first free number; a freed number is reused. */
TEST_F(rtun_abi, percent_d_name)
{
	char pattern[IFNAMSIZ], want[IFNAMSIZ], a[IFNAMSIZ], b[IFNAMSIZ];
	char c[IFNAMSIZ];
	int fd3;

	test_name(pattern, variant->tag, "n%d");
	self->fd2 = dev_open(variant->node);
	ASSERT_LE(0, self->fd2);

	ASSERT_EQ(0, set_iff(self->fd, pattern, IFF_TUN, a))
		TH_LOG("TUNSETIFF %s: %s", pattern, strerror(errno));
	test_name(want, variant->tag, "n0");
	EXPECT_STREQ(want, a);
	ASSERT_EQ(0, set_iff(self->fd2, pattern, IFF_TAP, b));
	test_name(want, variant->tag, "n1");
	EXPECT_STREQ(want, b);

	close(self->fd);
	self->fd = -1;
	ASSERT_TRUE(netdev_wait_gone(a, SETTLE_MS));
	fd3 = dev_open(variant->node);
	ASSERT_LE(0, fd3);
	EXPECT_EQ(0, set_iff(fd3, pattern, IFF_TUN, c));
	EXPECT_STREQ(a, c);
	close(fd3);
}

/* Names that register_netdevice() or dev_alloc_name() refuse: EINVAL. */
TEST_F(rtun_abi, bad_names)
{
	static const char * const bad[] = {
		"bad/name", "bad name", "bad:name", ".", "..", "a%d%d", "a%s",
	};
	unsigned int i;
	int ret, err;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ret = set_iff(self->fd, bad[i], IFF_TUN | IFF_NO_PI, NULL);
		err = errno;
		EXPECT_EQ(-1, ret) TH_LOG("name '%s' accepted", bad[i]);
		EXPECT_EQ(EINVAL, err) TH_LOG("name '%s': %s", bad[i], strerror(err));
	}
	/* The fd is still unattached and usable. */
	EXPECT_EQ(0, set_iff(self->fd, "", IFF_TUN | IFF_NO_PI, NULL));
}

/* An explicit name is used verbatim and returned in ifr_name. */
TEST_F(rtun_abi, explicit_name)
{
	char name[IFNAMSIZ], got[IFNAMSIZ], tap[IFNAMSIZ];

	test_name(name, variant->tag, "x");
	ASSERT_EQ(0, set_iff(self->fd, name, IFF_TUN | IFF_NO_PI, got))
		TH_LOG("TUNSETIFF %s: %s", name, strerror(errno));
	EXPECT_STREQ(name, got);
	EXPECT_TRUE(netdev_exists(name));

	test_name(name, variant->tag, "y");
	self->fd2 = dev_open(variant->node);
	ASSERT_LE(0, self->fd2);
	ASSERT_EQ(0, set_iff(self->fd2, name, IFF_TAP, tap));
	EXPECT_STREQ(name, tap);
	EXPECT_EQ(ARPHRD_ETHER, sysfs_num(name, "type"));
}

/*
 * TUNGETIFF returns the name and the stored flags: type and TUN_FEATURES
 * bits only (not IFF_NO_CARRIER or IFF_TUN_EXCL), plus IFF_NOFILTER
 * (== IFF_NO_PI) while no socket filter is attached.
 */
TEST_F(rtun_abi, getiff_flags)
{
	static const struct {
		int set;
		int want;
	} cases[] = {
		{ IFF_TUN, IFF_TUN | IFF_NOFILTER },
		{ IFF_TUN | IFF_NO_PI, IFF_TUN | IFF_NO_PI },
		{ IFF_TAP, IFF_TAP | IFF_NOFILTER },
		{ IFF_TAP | IFF_NO_PI | IFF_ONE_QUEUE,
		  IFF_TAP | IFF_NO_PI | IFF_ONE_QUEUE },
		{ IFF_TUN | IFF_NO_CARRIER, IFF_TUN | IFF_NOFILTER },
		{ IFF_TAP | IFF_TUN_EXCL, IFF_TAP | IFF_NOFILTER },
	};
	char name[IFNAMSIZ], set[IFNAMSIZ], got[IFNAMSIZ], sfx[8];
	unsigned short flags;
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(sfx, sizeof(sfx), "g%u", i);
		test_name(name, variant->tag, sfx);
		fd = dev_open(variant->node);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, set_iff(fd, name, cases[i].set, set))
			TH_LOG("TUNSETIFF 0x%x: %s", cases[i].set, strerror(errno));
		flags = 0;
		EXPECT_EQ(0, get_iff(fd, got, &flags))
			TH_LOG("TUNGETIFF: %s", strerror(errno));
		EXPECT_STREQ(name, got);
		EXPECT_EQ(cases[i].want, flags)
			TH_LOG("set 0x%x: TUNGETIFF flags 0x%x, expected 0x%x",
			       cases[i].set, flags, cases[i].want);
		close(fd);
	}
}

/* Everything but the few set-up ioctls needs an attached device. */
TEST_F(rtun_abi, ebadfd_before_setiff)
{
	int v = 12, v2 = 0;
	struct ifreq ifr;
	const struct {
		const char *name;
		unsigned long cmd;
		unsigned long arg;
	} calls[] = {
		{ "TUNGETIFF", TUNGETIFF, (unsigned long)&ifr },
		{ "TUNSETPERSIST", TUNSETPERSIST, 1 },
		{ "TUNSETOFFLOAD", TUNSETOFFLOAD, 0 },
		{ "TUNSETVNETHDRSZ", TUNSETVNETHDRSZ, (unsigned long)&v },
		{ "TUNGETVNETHDRSZ", TUNGETVNETHDRSZ, (unsigned long)&v2 },
		{ "TUNSETSNDBUF", TUNSETSNDBUF, (unsigned long)&v },
		{ "TUNGETSNDBUF", TUNGETSNDBUF, (unsigned long)&v2 },
		{ "TUNSETOWNER", TUNSETOWNER, 0 },
		{ "TUNSETGROUP", TUNSETGROUP, 0 },
		{ "TUNSETLINK", TUNSETLINK, ARPHRD_ETHER },
		{ "TUNSETCARRIER", TUNSETCARRIER, (unsigned long)&v },
		{ "TUNSETVNETLE", TUNSETVNETLE, (unsigned long)&v2 },
		{ "TUNGETVNETLE", TUNGETVNETLE, (unsigned long)&v2 },
		{ "TUNSETNOCSUM", TUNSETNOCSUM, 0 },
	};
	char buf[64] = { 0x45 };
	unsigned int i;
	int ret, err;

	memset(&ifr, 0, sizeof(ifr));
	for (i = 0; i < ARRAY_SIZE(calls); i++) {
		errno = 0;
		ret = ioctl(self->fd, calls[i].cmd, calls[i].arg);
		err = errno;
		EXPECT_EQ(-1, ret) TH_LOG("%s returned %d", calls[i].name, ret);
		EXPECT_EQ(EBADFD, err)
			TH_LOG("%s: %s", calls[i].name, strerror(err));
	}
	errno = 0;
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EBADFD, errno) TH_LOG("read: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EBADFD, errno) TH_LOG("write: %s", strerror(errno));
	/* None of that attached anything. */
	EXPECT_EQ(0, set_iff(self->fd, "", IFF_TUN | IFF_NO_PI, NULL))
		TH_LOG("TUNSETIFF after EBADFD: %s", strerror(errno));
}

TEST_F(rtun_abi, second_setiff_eexist)
{
	char name[IFNAMSIZ], got[IFNAMSIZ];
	unsigned short flags;

	ASSERT_EQ(0, set_iff(self->fd, "", IFF_TUN | IFF_NO_PI, name));
	EXPECT_EQ(-1, set_iff(self->fd, "", IFF_TUN | IFF_NO_PI, NULL));
	EXPECT_EQ(EEXIST, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, set_iff(self->fd, name, IFF_TAP, NULL));
	EXPECT_EQ(EEXIST, errno) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, get_iff(self->fd, got, &flags));
	EXPECT_STREQ(name, got);
	EXPECT_EQ(IFF_TUN | IFF_NO_PI, flags);
}

/*
 * IFF_NAPI_FRAGS (tun_set_iff()'s first check): CAP_NET_ADMIN in the
 * initial user namespace (EPERM), then IFF_NAPI and a TAP (EINVAL, also
 * with both type bits); accepted, it is stored and reported.
 */
TEST_F(rtun_abi, setiff_napi_frags)
{
	static const int refused[] = {
		IFF_TAP | IFF_NAPI_FRAGS,
		IFF_TUN | IFF_NAPI | IFF_NAPI_FRAGS,
		IFF_TUN | IFF_TAP | IFF_NAPI | IFF_NAPI_FRAGS,
		IFF_NAPI | IFF_NAPI_FRAGS,
	};
	static const int accepted[] = {
		IFF_TAP | IFF_NAPI | IFF_NAPI_FRAGS,
		IFF_TAP | IFF_MULTI_QUEUE | IFF_NAPI | IFF_NAPI_FRAGS,
	};
	const struct who nocaps = { .supp = -1, .nocaps = true };
	char name[IFNAMSIZ], got[IFNAMSIZ];
	unsigned short flags;
	unsigned int feat;
	int status;
	size_t i;
	pid_t pid;

	ASSERT_EQ(0, ioctl(self->fd, TUNGETFEATURES, &feat));
	EXPECT_EQ(IFF_NAPI_FRAGS, feat & IFF_NAPI_FRAGS);
	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		int fd = dev_open(variant->node);

		ASSERT_LE(0, fd);
		EXPECT_EQ(-1, set_iff(fd, "", refused[i], NULL));
		EXPECT_EQ(EINVAL, errno)
			TH_LOG("flags 0x%x: %s", refused[i], strerror(errno));
		close(fd);
	}
	for (i = 0; i < ARRAY_SIZE(accepted); i++) {
		int fd = dev_open(variant->node);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, set_iff(fd, "", accepted[i], name))
			TH_LOG("flags 0x%x: %s", accepted[i], strerror(errno));
		ASSERT_EQ(0, get_iff(fd, got, &flags));
		EXPECT_EQ(accepted[i], flags & ~IFF_NOFILTER);
		close(fd);
	}
	/* Without the capability: EPERM before the shape is looked at. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = dev_open(variant->node);

		if (fd < 0 || become(&nocaps))
			_exit(2);
		if (set_iff(fd, "", IFF_TUN | IFF_NAPI_FRAGS, NULL) == 0)
			_exit(3);
		_exit(errno == EPERM ? 0 : 4);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status 0x%x", status);
}

TEST_F(rtun_abi, setiff_no_type_einval)
{
	char name[IFNAMSIZ];

	test_name(name, variant->tag, "t");
	EXPECT_EQ(-1, set_iff(self->fd, "", 0, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, set_iff(self->fd, name, IFF_NO_PI | IFF_ONE_QUEUE, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("%s", strerror(errno));
	EXPECT_FALSE(netdev_exists(name));
	EXPECT_EQ(0, set_iff(self->fd, name, IFF_TUN, NULL));
}

/* "lo" exists and is not ours: EINVAL, or EBUSY with IFF_TUN_EXCL. */
TEST_F(rtun_abi, setiff_existing_foreign)
{
	char got[IFNAMSIZ];
	unsigned short flags;

	ASSERT_TRUE(netdev_exists("lo"));
	EXPECT_EQ(-1, set_iff(self->fd, "lo", IFF_TUN | IFF_NO_PI, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("IFF_TUN: %s", strerror(errno));
	EXPECT_EQ(-1, set_iff(self->fd, "lo", IFF_TAP | IFF_NO_PI, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("IFF_TAP: %s", strerror(errno));
	EXPECT_EQ(-1, set_iff(self->fd, "lo", IFF_TUN | IFF_TUN_EXCL, NULL));
	EXPECT_EQ(EBUSY, errno) TH_LOG("IFF_TUN_EXCL: %s", strerror(errno));
	EXPECT_EQ(-1, get_iff(self->fd, got, &flags));
	EXPECT_EQ(EBADFD, errno) TH_LOG("TUNGETIFF: %s", strerror(errno));
}

/* A second fd on a single-queue device in use. */
TEST_F(rtun_abi, setiff_existing_busy)
{
	char name[IFNAMSIZ];

	test_name(name, variant->tag, "b");
	ASSERT_EQ(0, set_iff(self->fd, name, IFF_TUN | IFF_NO_PI, NULL));
	self->fd2 = dev_open(variant->node);
	ASSERT_LE(0, self->fd2);
	EXPECT_EQ(-1, set_iff(self->fd2, name, IFF_TUN | IFF_NO_PI, NULL));
	EXPECT_EQ(EBUSY, errno) TH_LOG("attach: %s", strerror(errno));
	EXPECT_EQ(-1, set_iff(self->fd2, name, IFF_TUN | IFF_TUN_EXCL, NULL));
	EXPECT_EQ(EBUSY, errno) TH_LOG("IFF_TUN_EXCL: %s", strerror(errno));
	EXPECT_EQ(-1, set_iff(self->fd2, name, IFF_TAP | IFF_NO_PI, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("wrong type: %s", strerror(errno));
	/* fd2 stayed unattached. */
	EXPECT_EQ(0, set_iff(self->fd2, "", IFF_TAP, NULL));
}

TEST_F(rtun_abi, gone_after_close)
{
	static const int types[] = { IFF_TUN, IFF_TAP };
	char name[IFNAMSIZ];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		if (self->fd < 0)
			self->fd = dev_open(variant->node);
		ASSERT_LE(0, self->fd);
		ASSERT_EQ(0, set_iff(self->fd, "", types[i] | IFF_NO_PI, name));
		ASSERT_TRUE(netdev_exists(name));
		ASSERT_EQ(0, close(self->fd));
		self->fd = -1;
		EXPECT_TRUE(netdev_wait_gone(name, SETTLE_MS))
			TH_LOG("%s still there %d ms after close", name, SETTLE_MS);
	}
}

/* Carrier follows IFF_NO_CARRIER at TUNSETIFF; visible once the link is up. */
TEST_F(rtun_abi, link_up_carrier)
{
	char on[IFNAMSIZ], off[IFNAMSIZ], state[IFNAMSIZ];
	int flags;

	test_name(on, variant->tag, "c1");
	test_name(off, variant->tag, "c0");
	ASSERT_EQ(0, set_iff(self->fd, on, IFF_TUN | IFF_NO_PI, NULL));
	self->fd2 = dev_open(variant->node);
	ASSERT_LE(0, self->fd2);
	ASSERT_EQ(0, set_iff(self->fd2, off, IFF_TUN | IFF_NO_PI | IFF_NO_CARRIER,
			     NULL));

	ASSERT_EQ(0, link_up(on)) TH_LOG("up %s: %s", on, strerror(errno));
	ASSERT_EQ(0, link_up(off)) TH_LOG("up %s: %s", off, strerror(errno));

	ASSERT_LE(0, (flags = sysfs_num(on, "flags")));
	EXPECT_EQ(IFF_UP, flags & IFF_UP);
	EXPECT_EQ(1, sysfs_num(on, "carrier"));
	flags = link_flags(on);
	EXPECT_EQ(IFF_UP | IFF_RUNNING, flags & (IFF_UP | IFF_RUNNING))
		TH_LOG("%s: flags 0x%x", on, flags);
	EXPECT_TRUE(operstate_wait(on, "unknown", state))
		TH_LOG("%s: operstate %s", on, state);

	ASSERT_LE(0, (flags = sysfs_num(off, "flags")));
	EXPECT_EQ(IFF_UP, flags & IFF_UP);
	EXPECT_EQ(0, sysfs_num(off, "carrier"));
	flags = link_flags(off);
	EXPECT_EQ(IFF_UP, flags & (IFF_UP | IFF_RUNNING))
		TH_LOG("%s: flags 0x%x (NO-CARRIER wants UP without RUNNING)",
		       off, flags);
	EXPECT_TRUE(operstate_wait(off, "down", state))
		TH_LOG("%s: operstate %s", off, state);
}

/* Both drivers at once: distinct names, neither attaches to the other's. */
/* The root qdisc of @dev as ip(8) names it, into @out; -1 on error. */
static int dev_qdisc(const char *dev, char *out, size_t len)
{
	char cmd[64], line[512], *q;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip -o link show dev %s 2>/dev/null", dev);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	q = fgets(line, sizeof(line), f) ? strstr(line, " qdisc ") : NULL;
	pclose(f);
	if (!q || sscanf(q, " qdisc %63s", out) != 1 || strlen(out) >= len)
		return -1;
	return 0;
}

/*
 * A new TUN or TAP device that is brought up gets the default qdisc, as
 * C's do: the device has a queue (not IFF_NO_QUEUE), so a sender going
 * through the qdisc does not see the driver's drops.
 */
TEST_F(rtun_abi, default_qdisc)
{
	static const int kinds[] = { IFF_TUN | IFF_NO_PI, IFF_TAP | IFF_NO_PI };
	char name[IFNAMSIZ], qd[64];
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int fd = dev_open(variant->node);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, set_iff(fd, "", kinds[i], name));
		ASSERT_EQ(0, link_up(name));
		ASSERT_EQ(0, dev_qdisc(name, qd, sizeof(qd))) TH_LOG("%s", name);
		EXPECT_STRNE("noqueue", qd) TH_LOG("%s has qdisc %s", name, qd);
		EXPECT_STREQ("pfifo_fast", qd) TH_LOG("%s has qdisc %s", name, qd);
		close(fd);
	}
}

TEST_F(rtun_abi, coexist)
{
	char mine[IFNAMSIZ], peer[IFNAMSIZ];

	self->peer_fd = dev_open(variant->peer_node);
	if (self->peer_fd < 0 && errno == ENOENT)
		SKIP(return, "%s missing: the other driver is not loaded",
		     variant->peer_node);
	ASSERT_LE(0, self->peer_fd) TH_LOG("%s: %s", variant->peer_node,
					    strerror(errno));

	ASSERT_EQ(0, set_iff(self->fd, "", IFF_TUN | IFF_NO_PI, mine));
	ASSERT_EQ(0, set_iff(self->peer_fd, "", IFF_TUN | IFF_NO_PI, peer));
	EXPECT_STRNE(mine, peer);
	EXPECT_TRUE(netdev_exists(mine));
	EXPECT_TRUE(netdev_exists(peer));
	EXPECT_TRUE(is_prefix_num(mine, variant->tun_prefix)) TH_LOG("%s", mine);

	/* The other driver's device is foreign: EINVAL both ways. */
	self->fd2 = dev_open(variant->node);
	ASSERT_LE(0, self->fd2);
	EXPECT_EQ(-1, set_iff(self->fd2, peer, IFF_TUN | IFF_NO_PI, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("attach to %s: %s", peer, strerror(errno));
	close(self->peer_fd);
	self->peer_fd = dev_open(variant->peer_node);
	ASSERT_LE(0, self->peer_fd);
	EXPECT_EQ(-1, set_iff(self->peer_fd, mine, IFF_TUN | IFF_NO_PI, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("peer attach to %s: %s", mine,
					 strerror(errno));
}

RTUN_HARNESS_MAIN
