// SPDX-License-Identifier: GPL-2.0
/*
 * The control plane of tun drivers: persistence (TUNSETPERSIST and the
 * re-attach by name), ownership (TUNSETOWNER, TUNSETGROUP and the
 * permission check of tun_permitted()), the link type (TUNSETLINK).  Every
 * test runs against the C driver (variant c_tun) and rtun (variant rtun),
 * with the C driver's answers as the expected ones.  Permission checks run
 * in forked children that drop to another uid, gid or capability set.
 * Needs root and both modules loaded.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "kselftest_harness.h"
#include "rtun_test.h"

/* How long a device may take to disappear. */
#define SETTLE_MS 3000

/* Ids of the unprivileged users and groups the children become. */
#define OWNER_UID 4321
#define OTHER_UID 5000
#define GROUP_GID 4400
#define OTHER_GID 5001

FIXTURE(tun_ctl) {
	int fd;			/* open on variant->node, not attached */
	char name[IFNAMSIZ];	/* this test's device */
};

FIXTURE_VARIANT(tun_ctl) {
	const char *node;	/* the driver's device node */
	const char *module;	/* its module, under /sys/module */
	const char *kind;	/* its rtnl link kind */
	const char *tag;	/* prefix of the names the tests choose */
};

FIXTURE_VARIANT_ADD(tun_ctl, c_tun) {
	.node = "/dev/net/tun",
	.module = "tun",
	.kind = "tun",
	.tag = "cc",
};

FIXTURE_VARIANT_ADD(tun_ctl, rtun) {
	.node = "/dev/net/rtun",
	.module = "rtun",
	.kind = "rtun",
	.tag = "rc",
};

FIXTURE_SETUP(tun_ctl)
{
	snprintf(self->name, IFNAMSIZ, "%s%d", variant->tag, getpid());
	self->fd = dev_open(variant->node);
	ASSERT_LE(0, self->fd)
		TH_LOG("open %s: %s", variant->node, strerror(errno));
}

FIXTURE_TEARDOWN(tun_ctl)
{
	if (self->fd >= 0)
		close(self->fd);
	/* A persistent device outlives the test: remove it. */
	if (netdev_exists(self->name))
		sh("ip link del %s", self->name);
}

/*
 * The module's reference count (/sys/module/@mod/refcnt), or -1.  In
 * rtun's drop-in mode, the module behind /dev/net/tun is rtun, which
 * scripts/guest-check.sh says in RTUN_TUN_MODULE.
 */
static long module_refcnt(const char *mod)
{
	const char *tun_module = getenv("RTUN_TUN_MODULE");
	char path[64], buf[32];

	if (tun_module && !strcmp(mod, "tun"))
		mod = tun_module;
	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", mod);
	if (file_read(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

static const struct who ROOT = { 0, 0, -1, false };
static const struct who ROOT_NOCAPS = { 0, 0, -1, true };

/*
 * In a child that became @w: ioctl(@fd, @cmd, @arg), or TUNSETIFF with
 * @name and @flags if @cmd is TUNSETIFF.  Returns 0 or the errno, 255 if
 * the child could not drop its privileges.
 */
static int as_child(const struct who *w, int fd, unsigned long cmd,
		    unsigned long arg, const char *name, int flags)
{
	int status, ret;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 254;
	if (!pid) {
		if (become(w))
			_exit(255);
		if (cmd == TUNSETIFF)
			ret = set_iff(fd, name, flags, NULL);
		else
			ret = ioctl(fd, cmd, arg);
		_exit(ret ? errno : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 253;
	return WEXITSTATUS(status);
}

/* TUNSETIFF by @name in a child that became @w, on a fresh fd; 0 or errno. */
static int attach_as(const char *node, const struct who *w, const char *name,
		     int flags)
{
	int fd = dev_open(node), ret;

	if (fd < 0)
		return 252;
	ret = as_child(w, fd, TUNSETIFF, 0, name, flags);
	close(fd);
	return ret;
}

/*
 * Create @name as a persistent device of @flags with owner @owner and group
 * @group (-1: not set), and close its fd; 0 or -1.
 */
static int make_persistent(const char *node, const char *name, int flags,
			   long owner, long group)
{
	int fd = dev_open(node), ret = -1;

	if (fd < 0)
		return -1;
	if (set_iff(fd, name, flags, NULL) ||
	    ioctl(fd, TUNSETPERSIST, 1) ||
	    (owner >= 0 && ioctl(fd, TUNSETOWNER, owner)) ||
	    (group >= 0 && ioctl(fd, TUNSETGROUP, group)))
		goto out;
	ret = 0;
out:
	close(fd);
	return ret;
}

/*
 * A persistent device outlives its fd, keeps its name and reports
 * IFF_PERSIST; the next TUNSETIFF by name attaches to it and replaces its
 * TUN_FEATURES flags (here IFF_VNET_HDR) but not IFF_PERSIST.
 */
TEST_F(tun_ctl, persist_survives_close)
{
	char got[IFNAMSIZ];
	int fd2;

	ASSERT_EQ(0, set_iff(self->fd, self->name,
			     IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, NULL));
	EXPECT_EQ(IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, getiff_flags(self->fd));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 1))
		TH_LOG("TUNSETPERSIST: %s", strerror(errno));
	EXPECT_EQ(IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | IFF_PERSIST,
		  getiff_flags(self->fd));
	close(self->fd);
	self->fd = -1;
	sleep_ms(100);
	ASSERT_TRUE(netdev_exists(self->name));

	fd2 = dev_open(variant->node);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, set_iff(fd2, self->name, IFF_TUN | IFF_NO_PI, got))
		TH_LOG("re-attach: %s", strerror(errno));
	EXPECT_STREQ(self->name, got);
	EXPECT_EQ(IFF_TUN | IFF_NO_PI | IFF_PERSIST, getiff_flags(fd2));

	/* Cleared while attached: the device stays until the last close. */
	ASSERT_EQ(0, ioctl(fd2, TUNSETPERSIST, 0));
	EXPECT_EQ(IFF_TUN | IFF_NO_PI, getiff_flags(fd2));
	EXPECT_TRUE(netdev_exists(self->name));
	close(fd2);
	EXPECT_TRUE(netdev_wait_gone(self->name, SETTLE_MS));
}

/*
 * TUNSETPERSIST takes a module reference when the flag goes on and drops it
 * when it goes off; repeating a value changes nothing.  Deleting the device
 * (ip link del) gives the reference back, so the module can be unloaded.
 * An open fd holds 2: its file's and its socket's (sk_alloc() takes one for
 * the proto's owner).
 */
TEST_F(tun_ctl, persist_module_ref)
{
	long base, per_fd;
	int fd2;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	base = module_refcnt(variant->module);
	ASSERT_LE(0, base);
	fd2 = dev_open(variant->node);
	ASSERT_LE(0, fd2);
	per_fd = module_refcnt(variant->module) - base;
	close(fd2);
	EXPECT_EQ(2, per_fd);
	EXPECT_EQ(base, module_refcnt(variant->module));

	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 1));
	EXPECT_EQ(base + 1, module_refcnt(variant->module));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 7));
	EXPECT_EQ(base + 1, module_refcnt(variant->module));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 0));
	EXPECT_EQ(base, module_refcnt(variant->module));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 0));
	EXPECT_EQ(base, module_refcnt(variant->module));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 1));
	EXPECT_EQ(base + 1, module_refcnt(variant->module));

	/* The fd's own references go with it, the device's stays. */
	close(self->fd);
	self->fd = -1;
	sleep_ms(100);
	EXPECT_EQ(base + 1 - per_fd, module_refcnt(variant->module));
	ASSERT_TRUE(netdev_exists(self->name));
	ASSERT_EQ(0, sh("ip link del %s", self->name));
	EXPECT_TRUE(netdev_wait_gone(self->name, SETTLE_MS));
	EXPECT_EQ(base - per_fd, module_refcnt(variant->module));
}

/* Deleting a persistent device under its fd: the fd is left unattached. */
TEST_F(tun_ctl, persist_deleted_while_attached)
{
	long base;

	base = module_refcnt(variant->module);
	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TUN | IFF_NO_PI, NULL));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 1));
	EXPECT_EQ(base + 1, module_refcnt(variant->module));
	ASSERT_EQ(0, sh("ip link del %s", self->name));
	EXPECT_TRUE(netdev_wait_gone(self->name, SETTLE_MS));
	EXPECT_EQ(base, module_refcnt(variant->module));
	EXPECT_EQ(-1, getiff_flags(self->fd));
	EXPECT_EQ(EBADFD, errno) TH_LOG("TUNGETIFF: %s", strerror(errno));
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETPERSIST, 1));
	EXPECT_EQ(EBADFD, errno);
}

/*
 * TUNSETIFF on a persistent device's name, in C's order: IFF_TUN_EXCL
 * (EBUSY), the other type (EINVAL), a device with a file (EBUSY).
 */
TEST_F(tun_ctl, reattach_checks)
{
	int fd2, fd3;

	ASSERT_EQ(0, make_persistent(variant->node, self->name,
				     IFF_TUN | IFF_NO_PI, -1, -1));
	fd2 = dev_open(variant->node);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-1, set_iff(fd2, self->name, IFF_TAP | IFF_NO_PI, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("other type: %s", strerror(errno));
	EXPECT_EQ(-1, set_iff(fd2, self->name, IFF_TUN | IFF_TUN_EXCL, NULL));
	EXPECT_EQ(EBUSY, errno) TH_LOG("IFF_TUN_EXCL: %s", strerror(errno));
	EXPECT_EQ(-1, set_iff(fd2, self->name, IFF_TAP | IFF_TUN_EXCL, NULL));
	EXPECT_EQ(EBUSY, errno) TH_LOG("IFF_TUN_EXCL, other type: %s",
				       strerror(errno));
	ASSERT_EQ(0, set_iff(fd2, self->name, IFF_TUN, NULL))
		TH_LOG("attach: %s", strerror(errno));
	fd3 = dev_open(variant->node);
	ASSERT_LE(0, fd3);
	EXPECT_EQ(-1, set_iff(fd3, self->name, IFF_TUN, NULL));
	EXPECT_EQ(EBUSY, errno) TH_LOG("second file: %s", strerror(errno));
	close(fd3);
	close(fd2);
	sleep_ms(50);
	/* Still persistent: a new fd attaches again. */
	EXPECT_EQ(0, attach_as(variant->node, &ROOT, self->name, IFF_TUN));
}

/*
 * Without owner or group, only CAP_NET_ADMIN (in the device's network
 * namespace's user namespace) attaches: another uid and root without
 * capabilities get EPERM.
 */
TEST_F(tun_ctl, no_owner_needs_cap)
{
	const struct who user = { OWNER_UID, OWNER_UID, -1, false };

	ASSERT_EQ(0, make_persistent(variant->node, self->name,
				     IFF_TAP | IFF_NO_PI, -1, -1));
	EXPECT_EQ(EPERM, attach_as(variant->node, &user, self->name,
				   IFF_TAP | IFF_NO_PI));
	EXPECT_EQ(EPERM, attach_as(variant->node, &ROOT_NOCAPS, self->name,
				   IFF_TAP | IFF_NO_PI));
	EXPECT_EQ(0, attach_as(variant->node, &ROOT, self->name,
			       IFF_TAP | IFF_NO_PI));
	/* Creating a device needs CAP_NET_ADMIN too. */
	EXPECT_EQ(EPERM, attach_as(variant->node, &user, "", IFF_TAP));
}

/* TUNSETOWNER: the owner attaches without privileges, nobody else does. */
TEST_F(tun_ctl, owner_permits)
{
	const struct who owner = { OWNER_UID, OTHER_GID, -1, false };
	const struct who other = { OTHER_UID, OTHER_GID, -1, false };

	ASSERT_EQ(0, make_persistent(variant->node, self->name,
				     IFF_TUN | IFF_NO_PI, OWNER_UID, -1));
	EXPECT_EQ(0, attach_as(variant->node, &owner, self->name,
			       IFF_TUN | IFF_NO_PI));
	EXPECT_EQ(EPERM, attach_as(variant->node, &other, self->name,
				   IFF_TUN | IFF_NO_PI));
	/* Root is not the owner: without CAP_NET_ADMIN it is refused. */
	EXPECT_EQ(EPERM, attach_as(variant->node, &ROOT_NOCAPS, self->name,
				   IFF_TUN | IFF_NO_PI));
	EXPECT_EQ(0, attach_as(variant->node, &ROOT, self->name,
			       IFF_TUN | IFF_NO_PI));
}

/*
 * TUNSETGROUP: a member of the group, by its effective or a supplementary
 * group, attaches; a non-member does not.
 */
TEST_F(tun_ctl, group_permits)
{
	const struct who egid = { OTHER_UID, GROUP_GID, -1, false };
	const struct who supp = { OTHER_UID, OTHER_GID, GROUP_GID, false };
	const struct who none = { OTHER_UID, OTHER_GID, -1, false };

	ASSERT_EQ(0, make_persistent(variant->node, self->name,
				     IFF_TAP | IFF_NO_PI, -1, GROUP_GID));
	EXPECT_EQ(0, attach_as(variant->node, &egid, self->name, IFF_TAP));
	EXPECT_EQ(0, attach_as(variant->node, &supp, self->name, IFF_TAP));
	EXPECT_EQ(EPERM, attach_as(variant->node, &none, self->name, IFF_TAP));
}

/* Owner and group both set: both must match. */
TEST_F(tun_ctl, owner_and_group)
{
	const struct who both = { OWNER_UID, GROUP_GID, -1, false };
	const struct who uid_only = { OWNER_UID, OTHER_GID, -1, false };
	const struct who gid_only = { OTHER_UID, GROUP_GID, -1, false };

	ASSERT_EQ(0, make_persistent(variant->node, self->name,
				     IFF_TAP | IFF_NO_PI, OWNER_UID, GROUP_GID));
	EXPECT_EQ(0, attach_as(variant->node, &both, self->name, IFF_TAP));
	EXPECT_EQ(EPERM, attach_as(variant->node, &uid_only, self->name,
				   IFF_TAP));
	EXPECT_EQ(EPERM, attach_as(variant->node, &gid_only, self->name,
				   IFF_TAP));
}

/*
 * tun_permitted() comes before tun_attach()'s single-queue check: a
 * stranger gets EPERM for a device in use, the owner EBUSY.
 */
TEST_F(tun_ctl, eperm_before_ebusy)
{
	const struct who owner = { OWNER_UID, OTHER_GID, -1, false };
	const struct who other = { OTHER_UID, OTHER_GID, -1, false };

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TUN | IFF_NO_PI, NULL));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETOWNER, OWNER_UID));
	EXPECT_EQ(EPERM, attach_as(variant->node, &other, self->name, IFF_TUN));
	EXPECT_EQ(EBUSY, attach_as(variant->node, &owner, self->name, IFF_TUN));
	EXPECT_EQ(EBUSY, attach_as(variant->node, &ROOT, self->name, IFF_TUN));
}

/*
 * TUNSETOWNER/TUNSETGROUP take the value cut to 32 bits; (uid_t)-1 is
 * INVALID_UID: EINVAL, so an owner cannot be cleared.  Any attached fd may
 * set them, no capability needed.
 */
TEST_F(tun_ctl, owner_values)
{
	const struct who owner = { OWNER_UID, OTHER_GID, -1, false };
	const struct who other = { OTHER_UID, OTHER_GID, -1, false };

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TUN | IFF_NO_PI, NULL));
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETOWNER, -1L));
	EXPECT_EQ(EINVAL, errno) TH_LOG("TUNSETOWNER -1: %s", strerror(errno));
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETGROUP, -1L));
	EXPECT_EQ(EINVAL, errno) TH_LOG("TUNSETGROUP -1: %s", strerror(errno));
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETOWNER, 0xffffffffUL));
	EXPECT_EQ(EINVAL, errno);
	/* High bits are dropped: this sets the owner to OWNER_UID. */
	EXPECT_EQ(0, ioctl(self->fd, TUNSETOWNER, (1UL << 32) | OWNER_UID));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 1));
	close(self->fd);
	self->fd = -1;
	sleep_ms(50);
	EXPECT_EQ(0, attach_as(variant->node, &owner, self->name, IFF_TUN));
	EXPECT_EQ(EPERM, attach_as(variant->node, &other, self->name, IFF_TUN));

	/* An unprivileged process with the fd changes the owner. */
	self->fd = dev_open(variant->node);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TUN, NULL));
	EXPECT_EQ(0, as_child(&other, self->fd, TUNSETOWNER, OTHER_UID, NULL, 0));
	EXPECT_EQ(0, as_child(&other, self->fd, TUNSETPERSIST, 1, NULL, 0));
	close(self->fd);
	self->fd = -1;
	sleep_ms(50);
	EXPECT_EQ(0, attach_as(variant->node, &other, self->name, IFF_TUN));
	EXPECT_EQ(EPERM, attach_as(variant->node, &owner, self->name, IFF_TUN));
}

/* In a user namespace without mappings, no id maps: EINVAL. */
TEST_F(tun_ctl, owner_unmapped)
{
	int status;
	pid_t pid;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TUN | IFF_NO_PI, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (unshare(CLONE_NEWUSER))
			_exit(100);
		if (ioctl(self->fd, TUNSETOWNER, 0) != -1 || errno != EINVAL)
			_exit(1);
		if (ioctl(self->fd, TUNSETGROUP, 0) != -1 || errno != EINVAL)
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 100)
		SKIP(return, "no user namespaces (CONFIG_USER_NS)");
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * TUNSETLINK: only while down (EBUSY while up); the type is cut to 16
 * bits, and the address length follows tun_get_addr_len().
 */
TEST_F(tun_ctl, setlink)
{
	static const struct {
		unsigned long arg;
		int type;
		int addr_len;
	} cases[] = {
		{ ARPHRD_ETHER, ARPHRD_ETHER, 6 },
		{ (1UL << 16) | ARPHRD_SIT, ARPHRD_SIT, 4 },
		{ ARPHRD_TUNNEL6, ARPHRD_TUNNEL6, 16 },
		{ ARPHRD_IEEE802154, ARPHRD_IEEE802154, 8 },
		{ ARPHRD_ROSE, ARPHRD_ROSE, 5 },
		{ ARPHRD_NETROM, ARPHRD_NETROM, 7 },
		{ ARPHRD_LOCALTLK, ARPHRD_LOCALTLK, 1 },
		{ ARPHRD_PPP, ARPHRD_PPP, 0 },
		{ 12345, 12345, 0 },
		{ ARPHRD_NONE, ARPHRD_NONE, 0 },
	};
	unsigned int i;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TUN | IFF_NO_PI, NULL));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		EXPECT_EQ(0, ioctl(self->fd, TUNSETLINK, cases[i].arg))
			TH_LOG("TUNSETLINK %lu: %s", cases[i].arg,
			       strerror(errno));
		EXPECT_EQ(cases[i].type, sysfs_num(self->name, "type"));
		EXPECT_EQ(cases[i].addr_len, sysfs_num(self->name, "addr_len"))
			TH_LOG("type %d", cases[i].type);
	}
	ASSERT_EQ(0, link_up(self->name));
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETLINK, ARPHRD_ETHER));
	EXPECT_EQ(EBUSY, errno) TH_LOG("while up: %s", strerror(errno));
	EXPECT_EQ(ARPHRD_NONE, sysfs_num(self->name, "type"));
	ASSERT_EQ(0, link_set(self->name, false));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETLINK, ARPHRD_IPGRE));
	EXPECT_EQ(ARPHRD_IPGRE, sysfs_num(self->name, "type"));
	EXPECT_EQ(4, sysfs_num(self->name, "addr_len"));
}

/* A TAP device takes TUNSETLINK too; an unprivileged holder of the fd may. */
TEST_F(tun_ctl, setlink_tap_unprivileged)
{
	const struct who other = { OTHER_UID, OTHER_GID, -1, false };

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	EXPECT_EQ(0, as_child(&other, self->fd, TUNSETLINK, ARPHRD_IPGRE,
			      NULL, 0));
	EXPECT_EQ(ARPHRD_IPGRE, sysfs_num(self->name, "type"));
	EXPECT_EQ(4, sysfs_num(self->name, "addr_len"));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETLINK, ARPHRD_ETHER));
	EXPECT_EQ(6, sysfs_num(self->name, "addr_len"));
}

/* The EPOLLOUT bit of a zero-timeout poll on @fd, or -1. */
static int pollout(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	if (poll(&p, 1, 0) < 0)
		return -1;
	return !!(p.revents & POLLOUT);
}

/* A broadcast Ethernet frame of @len bytes (no PI), with an unused type. */
static void frame(unsigned char *buf, size_t len)
{
	memset(buf, 0, len);
	memset(buf, 0xff, 6);
	buf[6] = 0x02;
	buf[11] = 0x01;
	buf[12] = 0x88;
	buf[13] = 0xb5;		/* local experimental ethertype */
}

/*
 * TUNGETSNDBUF/TUNSETSNDBUF: INT_MAX by default; a value <= 0 is EINVAL, a
 * bad pointer EFAULT; what was set is read back.
 */
TEST_F(tun_ctl, sndbuf_values)
{
	int v = 0;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	ASSERT_EQ(0, ioctl(self->fd, TUNGETSNDBUF, &v))
		TH_LOG("TUNGETSNDBUF: %s", strerror(errno));
	EXPECT_EQ(INT_MAX, v);
	v = 0;
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETSNDBUF, &v));
	EXPECT_EQ(EINVAL, errno) TH_LOG("0: %s", strerror(errno));
	v = -4096;
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETSNDBUF, &v));
	EXPECT_EQ(EINVAL, errno) TH_LOG("-4096: %s", strerror(errno));
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETSNDBUF, NULL));
	EXPECT_EQ(EFAULT, errno) TH_LOG("NULL: %s", strerror(errno));
	EXPECT_EQ(-1, ioctl(self->fd, TUNGETSNDBUF, NULL));
	EXPECT_EQ(EFAULT, errno) TH_LOG("get NULL: %s", strerror(errno));
	v = 1;
	EXPECT_EQ(0, ioctl(self->fd, TUNSETSNDBUF, &v));
	v = 0;
	EXPECT_EQ(0, ioctl(self->fd, TUNGETSNDBUF, &v));
	EXPECT_EQ(1, v);
	v = 212992;
	EXPECT_EQ(0, ioctl(self->fd, TUNSETSNDBUF, &v));
	v = 0;
	EXPECT_EQ(0, ioctl(self->fd, TUNGETSNDBUF, &v));
	EXPECT_EQ(212992, v);
}

/*
 * The send buffer belongs to the file: a new file attaching to a persistent
 * device starts with INT_MAX again, whatever the previous one set.
 */
TEST_F(tun_ctl, sndbuf_per_file)
{
	int v = 65536, fd2;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TUN | IFF_NO_PI, NULL));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETSNDBUF, &v));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 1));
	close(self->fd);
	self->fd = -1;
	fd2 = dev_open(variant->node);
	ASSERT_LE(0, fd2);
	/* Unattached: EBADFD, as for any ioctl but the set-up ones. */
	EXPECT_EQ(-1, ioctl(fd2, TUNGETSNDBUF, &v));
	EXPECT_EQ(EBADFD, errno);
	ASSERT_EQ(0, set_iff(fd2, self->name, IFF_TUN | IFF_NO_PI, NULL));
	v = 0;
	EXPECT_EQ(0, ioctl(fd2, TUNGETSNDBUF, &v));
	EXPECT_EQ(INT_MAX, v);
	close(fd2);
}

/*
 * EPOLLOUT needs the device up and room in the send buffer
 * (sock_writeable(): sk_wmem_alloc, which starts at 1, below half of
 * sk_sndbuf): not with a send buffer of 2, yes with 4.
 */
TEST_F(tun_ctl, sndbuf_pollout)
{
	int v;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	EXPECT_EQ(0, pollout(self->fd)) TH_LOG("down");
	ASSERT_EQ(0, link_up(self->name));
	EXPECT_EQ(1, pollout(self->fd)) TH_LOG("up, INT_MAX");
	v = 2;
	ASSERT_EQ(0, ioctl(self->fd, TUNSETSNDBUF, &v));
	EXPECT_EQ(0, pollout(self->fd)) TH_LOG("sndbuf 2");
	v = 4;
	ASSERT_EQ(0, ioctl(self->fd, TUNSETSNDBUF, &v));
	EXPECT_EQ(1, pollout(self->fd)) TH_LOG("sndbuf 4");
	ASSERT_EQ(0, link_set(self->name, false));
	EXPECT_EQ(0, pollout(self->fd)) TH_LOG("down again");
}

/*
 * A poller waiting for EPOLLOUT on a device that is down is woken when it
 * comes up (tun_device_event() runs the write-space callback on NETDEV_UP).
 */
TEST_F(tun_ctl, pollout_wakes_on_up)
{
	struct pollfd p = { .events = POLLOUT };
	long t0;
	pid_t pid;
	int status;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	ASSERT_EQ(0, pollout(self->fd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		sleep_ms(300);
		_exit(link_up(self->name) ? 1 : 0);
	}
	p.fd = self->fd;
	t0 = now_ms();
	EXPECT_EQ(1, poll(&p, 1, 5000));
	EXPECT_TRUE(p.revents & POLLOUT) TH_LOG("revents 0x%x", p.revents);
	EXPECT_GT(4000, now_ms() - t0) TH_LOG("woken after %ld ms", now_ms() - t0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * With a small send buffer, writes still succeed, blocking or not, as long
 * as no earlier skb of the file is still charged (the stack frees these
 * frames at once): the check is made before each allocation.
 */
TEST_F(tun_ctl, sndbuf_small_writes)
{
	unsigned char buf[1500];
	int v = 1, i, fl;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	ASSERT_EQ(0, link_up(self->name));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETSNDBUF, &v));
	frame(buf, sizeof(buf));
	for (i = 0; i < 50; i++)
		ASSERT_EQ((ssize_t)sizeof(buf), write(self->fd, buf, sizeof(buf)))
			TH_LOG("blocking write %d: %s", i, strerror(errno));
	fl = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_NONBLOCK));
	for (i = 0; i < 50; i++)
		ASSERT_EQ(60, write(self->fd, buf, 60))
			TH_LOG("non-blocking write %d: %s", i, strerror(errno));
}

/* A number no device of this boot has yet, from the test's pid. */
static int unused_ifindex(void)
{
	return 20000 + getpid() % 10000;
}

/*
 * TUNSETIFINDEX: EPERM on an attached file, EFAULT, EINVAL below 0; the next
 * device this file creates gets that index.  An index in use fails the
 * creation with EBUSY and, as in C (the value shares its storage with the
 * queue index, which the attach sets), is forgotten: the next TUNSETIFF
 * lets the core choose.  A creation that fails before (bad name) keeps it.
 */
TEST_F(tun_ctl, setifindex)
{
	int idx = unused_ifindex(), v, fd2;
	char name2[IFNAMSIZ];

	EXPECT_EQ(-1, ioctl(self->fd, TUNSETIFINDEX, NULL));
	EXPECT_EQ(EFAULT, errno) TH_LOG("NULL: %s", strerror(errno));
	v = -1;
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETIFINDEX, &v));
	EXPECT_EQ(EINVAL, errno) TH_LOG("-1: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETIFINDEX, &idx))
		TH_LOG("TUNSETIFINDEX %d: %s", idx, strerror(errno));
	/* A bad name fails before ndo_init: the index is kept. */
	EXPECT_EQ(-1, set_iff(self->fd, "bad name", IFF_TUN, NULL));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TUN | IFF_NO_PI, NULL));
	EXPECT_EQ(idx, sysfs_num(self->name, "ifindex"));
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETIFINDEX, &idx));
	EXPECT_EQ(EPERM, errno) TH_LOG("attached: %s", strerror(errno));

	snprintf(name2, IFNAMSIZ, "%s%dz", variant->tag, getpid());
	fd2 = dev_open(variant->node);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioctl(fd2, TUNSETIFINDEX, &idx));
	EXPECT_EQ(-1, set_iff(fd2, name2, IFF_TAP, NULL));
	EXPECT_EQ(EBUSY, errno) TH_LOG("index in use: %s", strerror(errno));
	EXPECT_FALSE(netdev_exists(name2));
	ASSERT_EQ(0, set_iff(fd2, name2, IFF_TAP, NULL))
		TH_LOG("after EBUSY: %s", strerror(errno));
	EXPECT_NE(idx, sysfs_num(name2, "ifindex"));
	close(fd2);
}

/*
 * TUNSETCARRIER and ndo_change_carrier (the sysfs carrier attribute): off
 * always, on only while a file is attached (EPERM); EFAULT.
 */
TEST_F(tun_ctl, setcarrier)
{
	int v = 0;
	char path[96];

	snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", self->name);
	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	ASSERT_EQ(0, link_up(self->name));
	EXPECT_EQ(1, sysfs_num(self->name, "carrier"));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETCARRIER, &v));
	EXPECT_EQ(0, sysfs_num(self->name, "carrier"));
	v = 0x100;
	EXPECT_EQ(0, ioctl(self->fd, TUNSETCARRIER, &v));
	EXPECT_EQ(1, sysfs_num(self->name, "carrier"));
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETCARRIER, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, file_write(path, "0"));
	EXPECT_EQ(0, sysfs_num(self->name, "carrier"));
	EXPECT_EQ(0, file_write(path, "1"));
	EXPECT_EQ(1, sysfs_num(self->name, "carrier"));

	/* Persistent and detached: no file, no carrier. */
	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 1));
	close(self->fd);
	self->fd = -1;
	sleep_ms(50);
	EXPECT_EQ(0, sysfs_num(self->name, "carrier"));
	EXPECT_EQ(-EPERM, file_write(path, "1"));
	EXPECT_EQ(0, file_write(path, "0"));
}

/* ETHTOOL_G/SMSGLVL or GLINK on @dev: the value, or -1 with errno. */
static long ethtool_value(const char *dev, unsigned int cmd, unsigned int set)
{
	struct ethtool_value ev = { .cmd = cmd, .data = set };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)&ev;
	if (ifr_ioctl(dev, SIOCETHTOOL, &ifr))
		return -1;
	return ev.data;
}

/*
 * TUNSETDEBUG sets the message level (msg_enable, cut to 32 bits), which
 * ethtool reads and sets too; ethtool's link state is the carrier.
 */
TEST_F(tun_ctl, setdebug_msglevel)
{
	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	EXPECT_EQ(0, ethtool_value(self->name, ETHTOOL_GMSGLVL, 0))
		TH_LOG("GMSGLVL: %s", strerror(errno));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETDEBUG, (1UL << 32) | 0x12340));
	EXPECT_EQ(0x12340, ethtool_value(self->name, ETHTOOL_GMSGLVL, 0));
	EXPECT_LE(0, ethtool_value(self->name, ETHTOOL_SMSGLVL, 0x30));
	EXPECT_EQ(0x30, ethtool_value(self->name, ETHTOOL_GMSGLVL, 0));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETDEBUG, 0));
	EXPECT_EQ(0, ethtool_value(self->name, ETHTOOL_GMSGLVL, 0));
	ASSERT_EQ(0, link_up(self->name));
	EXPECT_EQ(1, ethtool_value(self->name, ETHTOOL_GLINK, 0))
		TH_LOG("GLINK: %s", strerror(errno));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETCARRIER, &(int){ 0 }));
	EXPECT_EQ(0, ethtool_value(self->name, ETHTOOL_GLINK, 0));
}

/* SIOC* through the file: ioctl with a struct ifreq, 0 or errno. */
static int sioc(int fd, unsigned long cmd, struct ifreq *ifr)
{
	return ioctl(fd, cmd, ifr) ? errno : 0;
}

/*
 * SIOCGIFHWADDR/SIOCSIFHWADDR through the file: the ifreq is copied in
 * first (EFAULT before EBADFD, for any SIOC number); get returns the link
 * type and address with the caller's name field untouched; set checks the
 * family (EINVAL) and the address (EADDRNOTAVAIL), works while up, and is
 * EOPNOTSUPP on TUN.  Without an address (TUN) the bytes are zeroed.
 */
TEST_F(tun_ctl, hwaddr)
{
	unsigned char want[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	struct ifreq ifr;
	char addr[32], exp[32];
	int fd2;

	EXPECT_EQ(EFAULT, sioc(self->fd, SIOCGIFHWADDR, NULL));
	EXPECT_EQ(EFAULT, sioc(self->fd, SIOCSIFHWADDR, NULL));
	EXPECT_EQ(EFAULT, sioc(self->fd, SIOCGIFFLAGS, NULL));
	memset(&ifr, 0, sizeof(ifr));
	EXPECT_EQ(EBADFD, sioc(self->fd, SIOCGIFHWADDR, &ifr));
	EXPECT_EQ(EBADFD, sioc(self->fd, SIOCGIFFLAGS, &ifr));

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	EXPECT_EQ(EINVAL, sioc(self->fd, SIOCGIFFLAGS, &ifr));
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "not-a-dev");
	memset(ifr.ifr_hwaddr.sa_data, 0xaa, sizeof(ifr.ifr_hwaddr.sa_data));
	ASSERT_EQ(0, sioc(self->fd, SIOCGIFHWADDR, &ifr));
	EXPECT_STREQ("not-a-dev", ifr.ifr_name);
	EXPECT_EQ(ARPHRD_ETHER, ifr.ifr_hwaddr.sa_family);
	ASSERT_EQ(0, sysfs_read(self->name, "address", addr, sizeof(addr)));
	snprintf(exp, sizeof(exp), "%02x:%02x:%02x:%02x:%02x:%02x",
		 (unsigned char)ifr.ifr_hwaddr.sa_data[0],
		 (unsigned char)ifr.ifr_hwaddr.sa_data[1],
		 (unsigned char)ifr.ifr_hwaddr.sa_data[2],
		 (unsigned char)ifr.ifr_hwaddr.sa_data[3],
		 (unsigned char)ifr.ifr_hwaddr.sa_data[4],
		 (unsigned char)ifr.ifr_hwaddr.sa_data[5]);
	EXPECT_STREQ(addr, exp);
	/* Bytes past the address length keep what the caller had there. */
	EXPECT_EQ((char)0xaa, ifr.ifr_hwaddr.sa_data[6]);
	EXPECT_EQ((char)0xaa, ifr.ifr_hwaddr.sa_data[13]);

	ASSERT_EQ(0, link_up(self->name));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, want, 6);
	EXPECT_EQ(0, sioc(self->fd, SIOCSIFHWADDR, &ifr));
	ASSERT_EQ(0, sysfs_read(self->name, "address", addr, sizeof(addr)));
	EXPECT_STREQ("02:11:22:33:44:55", addr);
	EXPECT_EQ(3, sysfs_num(self->name, "addr_assign_type"));
	ifr.ifr_hwaddr.sa_family = ARPHRD_NONE;
	EXPECT_EQ(EINVAL, sioc(self->fd, SIOCSIFHWADDR, &ifr));
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	ifr.ifr_hwaddr.sa_data[0] = 0x01;
	EXPECT_EQ(EADDRNOTAVAIL, sioc(self->fd, SIOCSIFHWADDR, &ifr));
	memset(ifr.ifr_hwaddr.sa_data, 0, 6);
	EXPECT_EQ(EADDRNOTAVAIL, sioc(self->fd, SIOCSIFHWADDR, &ifr));

	fd2 = dev_open(variant->node);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, set_iff(fd2, "", IFF_TUN | IFF_NO_PI, NULL));
	memset(&ifr, 0, sizeof(ifr));
	memset(ifr.ifr_hwaddr.sa_data, 0xaa, sizeof(ifr.ifr_hwaddr.sa_data));
	ASSERT_EQ(0, sioc(fd2, SIOCGIFHWADDR, &ifr));
	EXPECT_EQ(ARPHRD_NONE, ifr.ifr_hwaddr.sa_family);
	EXPECT_EQ(0, ifr.ifr_hwaddr.sa_data[0]);
	EXPECT_EQ(0, ifr.ifr_hwaddr.sa_data[13]);
	ifr.ifr_hwaddr.sa_family = ARPHRD_NONE;
	EXPECT_EQ(EOPNOTSUPP, sioc(fd2, SIOCSIFHWADDR, &ifr));
	close(fd2);
}

/* The inode of the namespace file @fd, or 0. */
static ino_t ns_ino(int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		return 0;
	return st.st_ino;
}

/* The inode of the namespace file @path, or 0. */
static ino_t ns_ino_path(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return 0;
	return st.st_ino;
}

/*
 * SIOCGSKNS: the network namespace the file was opened in, TUNGETDEVNETNS:
 * the device's (EBADFD unattached), each as a new close-on-exec fd, to
 * CAP_NET_ADMIN only (EPERM).  After the device moves to another
 * namespace, they differ.
 */
TEST_F(tun_ctl, netns_fds)
{
	const struct who other = { OTHER_UID, OTHER_GID, -1, false };
	ino_t self_ns = ns_ino_path("/proc/self/ns/net");
	int sk, dn, pipefd[2], status;
	char path[64], c;
	pid_t pid;

	ASSERT_NE(0, self_ns);
	EXPECT_EQ(-1, ioctl(self->fd, TUNGETDEVNETNS));
	EXPECT_EQ(EBADFD, errno);
	sk = ioctl(self->fd, SIOCGSKNS);
	ASSERT_LE(0, sk) TH_LOG("SIOCGSKNS: %s", strerror(errno));
	EXPECT_EQ(self_ns, ns_ino(sk));
	EXPECT_EQ(FD_CLOEXEC, fcntl(sk, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDONLY, fcntl(sk, F_GETFL) & O_ACCMODE);
	close(sk);
	EXPECT_EQ(EPERM, as_child(&other, self->fd, SIOCGSKNS, 0, NULL, 0));

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	dn = ioctl(self->fd, TUNGETDEVNETNS);
	ASSERT_LE(0, dn) TH_LOG("TUNGETDEVNETNS: %s", strerror(errno));
	EXPECT_EQ(self_ns, ns_ino(dn));
	EXPECT_EQ(FD_CLOEXEC, fcntl(dn, F_GETFD) & FD_CLOEXEC);
	close(dn);
	EXPECT_EQ(EPERM, as_child(&other, self->fd, TUNGETDEVNETNS, 0, NULL, 0));

	/* Move the device into a namespace of a child's own. */
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[0]);
		if (unshare(CLONE_NEWNET))
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	EXPECT_EQ(0, sh("ip link set dev %s netns %d", self->name, pid));
	dn = ioctl(self->fd, TUNGETDEVNETNS);
	EXPECT_LE(0, dn) TH_LOG("TUNGETDEVNETNS: %s", strerror(errno));
	EXPECT_EQ(ns_ino_path(path), ns_ino(dn));
	EXPECT_NE(self_ns, ns_ino(dn));
	close(dn);
	sk = ioctl(self->fd, SIOCGSKNS);
	EXPECT_EQ(self_ns, ns_ino(sk));
	close(sk);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* TUNSETTXFILTER with @flags and @n addresses; the ioctl's return value. */
static int set_txfilter(int fd, int flags, const unsigned char (*addr)[6],
			int n)
{
	struct {
		struct tun_filter hdr;
		unsigned char addr[16][6];
	} f;

	memset(&f, 0, sizeof(f));
	f.hdr.flags = flags;
	f.hdr.count = n;
	memcpy(f.addr, addr, n * 6);
	return ioctl(fd, TUNSETTXFILTER, &f);
}

static const unsigned char MAC_A[6] = { 0x02, 0xaa, 0, 0, 0, 1 };
static const unsigned char MAC_B[6] = { 0x02, 0xbb, 0, 0, 0, 2 };
static const unsigned char MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const unsigned char MAC_V4MC[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

/*
 * Transmit one frame to each of @dests (@n <= 8) through @dev with a packet
 * socket, then read what reached the fd (non-blocking); returns the mask of
 * the frames read, by index, or -1.
 */
static int tx_through(const char *dev, int fd, const unsigned char (*dests)[6],
		      int n)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	unsigned char buf[60], in[256];
	int s, i, mask = 0;
	ssize_t r;

	sll.sll_ifindex = sysfs_num(dev, "ifindex");
	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	for (i = 0; i < n; i++) {
		frame(buf, sizeof(buf));
		memcpy(buf, dests[i], 6);
		buf[20] = 0xc0 + i;
		memcpy(sll.sll_addr, dests[i], 6);
		if (sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&sll,
			   sizeof(sll)) != sizeof(buf)) {
			close(s);
			return -1;
		}
	}
	close(s);
	sleep_ms(50);
	while ((r = read(fd, in, sizeof(in))) > 0)
		if (r > 20 && in[12] == 0x88 && in[13] == 0xb5 &&
		    (in[20] & 0xf0) == 0xc0)
			mask |= 1 << (in[20] & 0xf);
	return mask;
}

/* TUNSETTXFILTER is for TAP only: EINVAL on TUN. */
TEST_F(tun_ctl, txfilter_tun_einval)
{
	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TUN | IFF_NO_PI, NULL));
	EXPECT_EQ(-1, set_txfilter(self->fd, 0, &MAC_A, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETTXFILTER, NULL));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * What TUNSETTXFILTER returns: the number of exact addresses (up to 8); 0
 * for count 0 (off) and for a unicast address past the eighth (which
 * leaves the filter off); EFAULT for the header or the addresses.
 */
TEST_F(tun_ctl, txfilter_returns)
{
	unsigned char many[10][6];
	struct tun_filter *f;
	unsigned char *page;
	long psz = sysconf(_SC_PAGESIZE);
	int i;

	for (i = 0; i < 10; i++) {
		memcpy(many[i], MAC_A, 6);
		many[i][5] = i;
	}
	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	EXPECT_EQ(0, set_txfilter(self->fd, 0, many, 0));
	EXPECT_EQ(1, set_txfilter(self->fd, 0, many, 1));
	EXPECT_EQ(8, set_txfilter(self->fd, 0, many, 8));
	EXPECT_EQ(0, set_txfilter(self->fd, 0, many, 9));
	memcpy(many[8], MAC_BCAST, 6);
	memcpy(many[9], MAC_V4MC, 6);
	EXPECT_EQ(8, set_txfilter(self->fd, 0, many, 10));
	EXPECT_EQ(3, set_txfilter(self->fd, TUN_FLT_ALLMULTI, many, 3));
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETTXFILTER, NULL));
	EXPECT_EQ(EFAULT, errno);

	/* The header readable, the addresses not: EFAULT. */
	page = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, munmap(page + psz, psz));
	f = (struct tun_filter *)(page + psz - sizeof(*f));
	f->flags = 0;
	f->count = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETTXFILTER, f));
	EXPECT_EQ(EFAULT, errno) TH_LOG("%s", strerror(errno));
	f->count = 0;
	EXPECT_EQ(0, ioctl(self->fd, TUNSETTXFILTER, f));
	munmap(page, psz);
}

/*
 * The filter on the transmit path (tun_net_xmit()): off, every frame
 * reaches the reader; on, only exact matches and multicast frames whose
 * hash bit is set (TUN_FLT_ALLMULTI: all); the others count tx_dropped.  A
 * failed update (EFAULT) leaves the filter as it was.
 */
TEST_F(tun_ctl, txfilter_drops)
{
	const unsigned char dests[4][6] = {
		{ 0x02, 0xaa, 0, 0, 0, 1 }, { 0x02, 0xbb, 0, 0, 0, 2 },
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, { 0x01, 0x00, 0x5e, 0, 0, 1 },
	};
	unsigned char list[9][6];
	long drops;
	int i, fl;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	fl = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_NONBLOCK));
	ASSERT_EQ(0, ipv6_disable(self->name));
	ASSERT_EQ(0, link_up(self->name));
	sleep_ms(50);
	tx_through(self->name, self->fd, dests, 0);

	EXPECT_EQ(0xf, tx_through(self->name, self->fd, dests, 4));
	drops = sysfs_num(self->name, "statistics/tx_dropped");

	EXPECT_EQ(1, set_txfilter(self->fd, 0, &MAC_A, 1));
	EXPECT_EQ(0x1, tx_through(self->name, self->fd, dests, 4));
	EXPECT_EQ(drops + 3, sysfs_num(self->name, "statistics/tx_dropped"));

	EXPECT_EQ(1, set_txfilter(self->fd, TUN_FLT_ALLMULTI, &MAC_A, 1));
	EXPECT_EQ(0xd, tx_through(self->name, self->fd, dests, 4));

	/* Eight exact addresses, then broadcast by hash. */
	for (i = 0; i < 8; i++) {
		memcpy(list[i], MAC_B, 6);
		list[i][5] = 0x10 + i;
	}
	memcpy(list[8], MAC_BCAST, 6);
	EXPECT_EQ(8, set_txfilter(self->fd, 0, list, 9));
	EXPECT_EQ(0x4, tx_through(self->name, self->fd, dests, 4));

	/* EFAULT: the filter stays. */
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETTXFILTER, NULL));
	EXPECT_EQ(0x4, tx_through(self->name, self->fd, dests, 4));

	/* Off again. */
	EXPECT_EQ(0, set_txfilter(self->fd, 0, list, 0));
	EXPECT_EQ(0xf, tx_through(self->name, self->fd, dests, 4));
}

/* sysfs @attr of @dev as a string into @buf (IFNAMSIZ*2), or "" on error. */
static const char *sysfs_str(const char *dev, const char *attr, char *buf)
{
	if (sysfs_read(dev, attr, buf, 32))
		buf[0] = '\0';
	return buf;
}

/*
 * The sysfs attributes of tun_attr_group: tun_flags (C's tun_flags(): type,
 * TUN_FEATURES and IFF_PERSIST, in hex), owner and group (-1 unset).
 */
TEST_F(tun_ctl, sysfs_attrs)
{
	char buf[32];
	int fd2;

	ASSERT_EQ(0, set_iff(self->fd, self->name,
			     IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_NO_CARRIER,
			     NULL));
	EXPECT_STREQ("0x5002", sysfs_str(self->name, "tun_flags", buf));
	EXPECT_STREQ("-1", sysfs_str(self->name, "owner", buf));
	EXPECT_STREQ("-1", sysfs_str(self->name, "group", buf));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETOWNER, OWNER_UID));
	EXPECT_STREQ("4321", sysfs_str(self->name, "owner", buf));
	EXPECT_STREQ("-1", sysfs_str(self->name, "group", buf));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETGROUP, 0));
	EXPECT_STREQ("0", sysfs_str(self->name, "group", buf));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 1));
	EXPECT_STREQ("0x5802", sysfs_str(self->name, "tun_flags", buf));
	close(self->fd);
	self->fd = -1;
	fd2 = dev_open(variant->node);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, set_iff(fd2, self->name, IFF_TAP | IFF_ONE_QUEUE, NULL));
	EXPECT_STREQ("0x2802", sysfs_str(self->name, "tun_flags", buf));
	ASSERT_EQ(0, ioctl(fd2, TUNSETPERSIST, 0));
	close(fd2);

	fd2 = dev_open(variant->node);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, set_iff(fd2, "", IFF_TUN, buf));
	EXPECT_STREQ("0x1", sysfs_str(buf, "tun_flags", buf + 16));
	close(fd2);
}

/*
 * The rtnl link info (tun_fill_info()): IFLA_TUN_TYPE, PI, VNET_HDR,
 * PERSIST, MULTI_QUEUE always, OWNER and GROUP once set.  The kind is each
 * driver's own (differences.md, D1).
 */
TEST_F(tun_ctl, rtnl_linkinfo)
{
	struct tun_linkinfo li;
	int idx;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_VNET_HDR, NULL));
	idx = sysfs_num(self->name, "ifindex");
	ASSERT_EQ(0, get_linkinfo(idx, &li));
	EXPECT_STREQ(variant->kind, li.kind);
	EXPECT_EQ(5, li.nattrs);
	EXPECT_EQ(IFF_TAP, li.type);
	EXPECT_EQ(1, li.pi);
	EXPECT_EQ(1, li.vnet_hdr);
	EXPECT_EQ(0, li.persist);
	EXPECT_EQ(0, li.multi_queue);
	EXPECT_EQ(-1, li.owner);
	EXPECT_EQ(-1, li.group);

	ASSERT_EQ(0, ioctl(self->fd, TUNSETOWNER, OWNER_UID));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETGROUP, GROUP_GID));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 1));
	ASSERT_EQ(0, get_linkinfo(idx, &li));
	EXPECT_EQ(7, li.nattrs);
	EXPECT_EQ(1, li.persist);
	EXPECT_EQ(OWNER_UID, li.owner);
	EXPECT_EQ(GROUP_GID, li.group);
	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 0));

	close(self->fd);
	self->fd = dev_open(variant->node);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, set_iff(self->fd, "", IFF_TUN | IFF_NO_PI, self->name));
	ASSERT_EQ(0, get_linkinfo(sysfs_num(self->name, "ifindex"), &li));
	EXPECT_EQ(IFF_TUN, li.type);
	EXPECT_EQ(0, li.pi);
	EXPECT_EQ(0, li.vnet_hdr);
}

/*
 * ETHTOOL_GDRVINFO: the driver is each one's module name (differences.md,
 * D1), the version C's "1.6", the bus info the device's kind.
 */
TEST_F(tun_ctl, ethtool_drvinfo)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	int fd2;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP, NULL));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)&info;
	ASSERT_EQ(0, ifr_ioctl(self->name, SIOCETHTOOL, &ifr))
		TH_LOG("GDRVINFO: %s", strerror(errno));
	EXPECT_STREQ(variant->module, info.driver);
	EXPECT_STREQ("1.6", info.version);
	EXPECT_STREQ("tap", info.bus_info);

	fd2 = dev_open(variant->node);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, set_iff(fd2, "", IFF_TUN, self->name));
	close(self->fd);
	self->fd = fd2;
	memset(&info, 0, sizeof(info));
	info.cmd = ETHTOOL_GDRVINFO;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)&info;
	ASSERT_EQ(0, ifr_ioctl(self->name, SIOCETHTOOL, &ifr))
		TH_LOG("GDRVINFO %s: %s", self->name, strerror(errno));
	EXPECT_STREQ("tun", info.bus_info);
}

/* show_fdinfo: "iff:\t<name>", empty while unattached or after deletion. */
TEST_F(tun_ctl, fdinfo)
{
	char got[128];

	ASSERT_EQ(0, fdinfo_iff(self->fd, got, sizeof(got)));
	EXPECT_STREQ("", got);
	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP, NULL));
	ASSERT_EQ(0, fdinfo_iff(self->fd, got, sizeof(got)));
	EXPECT_STREQ(self->name, got);
	ASSERT_EQ(0, sh("ip link del %s", self->name));
	ASSERT_EQ(0, fdinfo_iff(self->fd, got, sizeof(got)));
	EXPECT_STREQ("", got);
}

/*
 * ip link add type <kind>: refused with EOPNOTSUPP and C's extack message
 * (tun_validate()).
 */
TEST_F(tun_ctl, newlink_extack)
{
	char cmd[128], out[256] = "";
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ip link add %s type %s 2>&1", self->name,
		 variant->kind);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	EXPECT_NE(0, pclose(p));
	EXPECT_NE(NULL, strstr(out, "tun/tap creation via rtnetlink is not supported."))
		TH_LOG("ip said: %s", out);
	EXPECT_FALSE(netdev_exists(self->name));
}

/*
 * A real client: iproute2's "ip tuntap add/del" (TUNSETIFF, TUNSETOWNER,
 * TUNSETGROUP, TUNSETPERSIST), unchanged, on /dev/net/tun, which for rtun
 * is rtun's node bind-mounted over it in a mount namespace of the child's
 * own.  The device persists with its owner and group, the owner (in that
 * group: both must match) attaches without privileges, "ip tuntap del"
 * removes it.  Returns ip's status.
 */
static int ip_tuntap(const char *node, const char *args)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (strcmp(node, "/dev/net/tun")) {
			if (unshare(CLONE_NEWNS) ||
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
			    mount(node, "/dev/net/tun", NULL, MS_BIND, NULL))
				_exit(100);
		}
		_exit(sh("ip tuntap %s", args));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(tun_ctl, ip_tuntap_client)
{
	const struct who owner = { OWNER_UID, GROUP_GID, -1, false };
	const struct who other = { OTHER_UID, OTHER_GID, -1, false };
	char args[96], buf[32];

	close(self->fd);
	self->fd = -1;
	snprintf(args, sizeof(args), "add dev %s mode tap user %d group %d",
		 self->name, OWNER_UID, GROUP_GID);
	ASSERT_EQ(0, ip_tuntap(variant->node, args));
	sleep_ms(50);
	ASSERT_TRUE(netdev_exists(self->name));
	EXPECT_STREQ("0x1802", sysfs_str(self->name, "tun_flags", buf));
	EXPECT_STREQ("4321", sysfs_str(self->name, "owner", buf));
	EXPECT_STREQ("4400", sysfs_str(self->name, "group", buf));
	EXPECT_EQ(0, attach_as(variant->node, &owner, self->name,
			       IFF_TAP | IFF_NO_PI));
	EXPECT_EQ(EPERM, attach_as(variant->node, &other, self->name,
				   IFF_TAP | IFF_NO_PI));
	/* Adding it again: ip asks for IFF_TUN_EXCL, so EBUSY, ip fails. */
	EXPECT_NE(0, ip_tuntap(variant->node, args));
	EXPECT_TRUE(netdev_exists(self->name));
	snprintf(args, sizeof(args), "del dev %s mode tap", self->name);
	EXPECT_EQ(0, ip_tuntap(variant->node, args));
	EXPECT_TRUE(netdev_wait_gone(self->name, SETTLE_MS));
	/* The wrong mode: EINVAL from TUNSETIFF, ip fails. */
	snprintf(args, sizeof(args), "add dev %s mode tun", self->name);
	ASSERT_EQ(0, ip_tuntap(variant->node, args));
	snprintf(args, sizeof(args), "del dev %s mode tap", self->name);
	EXPECT_NE(0, ip_tuntap(variant->node, args));
	snprintf(args, sizeof(args), "del dev %s mode tun", self->name);
	EXPECT_EQ(0, ip_tuntap(variant->node, args));
	EXPECT_TRUE(netdev_wait_gone(self->name, SETTLE_MS));
}

/* ETHTOOL_@cmd with the struct @p of @size bytes on @dev; 0 or errno. */
static int ethtool_cmd(const char *dev, void *p)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = p;
	return ifr_ioctl(dev, SIOCETHTOOL, &ifr) ? errno : 0;
}

/*
 * ethtool coalescing: rx-frames only (the rx batch size, capped at 64);
 * any other parameter is EOPNOTSUPP.  Channels: one combined channel
 * while a file is attached, at most one on a single-queue device
 * (tun_mq.*.attach_views has the multiqueue ones).
 */
TEST_F(tun_ctl, ethtool_coalesce_channels)
{
	struct ethtool_coalesce ec = { .cmd = ETHTOOL_GCOALESCE };
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	ASSERT_EQ(0, ethtool_cmd(self->name, &ec));
	EXPECT_EQ(0, ec.rx_max_coalesced_frames);
	ec.cmd = ETHTOOL_SCOALESCE;
	ec.rx_max_coalesced_frames = 32;
	EXPECT_EQ(0, ethtool_cmd(self->name, &ec));
	ec.cmd = ETHTOOL_GCOALESCE;
	ASSERT_EQ(0, ethtool_cmd(self->name, &ec));
	EXPECT_EQ(32, ec.rx_max_coalesced_frames);
	ec.cmd = ETHTOOL_SCOALESCE;
	ec.rx_max_coalesced_frames = 1000;
	EXPECT_EQ(0, ethtool_cmd(self->name, &ec));
	ec.cmd = ETHTOOL_GCOALESCE;
	ASSERT_EQ(0, ethtool_cmd(self->name, &ec));
	EXPECT_EQ(64, ec.rx_max_coalesced_frames);
	ec.cmd = ETHTOOL_SCOALESCE;
	ec.rx_coalesce_usecs = 10;
	EXPECT_EQ(EOPNOTSUPP, ethtool_cmd(self->name, &ec));

	ASSERT_EQ(0, ethtool_cmd(self->name, &ch));
	EXPECT_EQ(1, ch.combined_count);
	EXPECT_EQ(1, ch.max_combined);
	EXPECT_EQ(0, ch.rx_count);
	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 1));
	close(self->fd);
	self->fd = -1;
	sleep_ms(50);
	memset(&ch, 0, sizeof(ch));
	ch.cmd = ETHTOOL_GCHANNELS;
	ASSERT_EQ(0, ethtool_cmd(self->name, &ch));
	EXPECT_EQ(0, ch.combined_count);
	EXPECT_EQ(1, ch.max_combined);
}

RTUN_HARNESS_MAIN

/* The next SIGRTMIN (blocked) within @ms: its si_code, or -1 with errno. */
static int next_sigio(long ms, siginfo_t *si)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	if (sigtimedwait(&set, si, &ts) != SIGRTMIN)
		return -1;
	return si->si_code;
}

/*
 * fcntl(O_ASYNC) (tun_chr_fasync()): the caller becomes the owner; the
 * device coming up wakes writers with POLL_OUT (the write-space callback,
 * once poll found no room), each packet queued for the reader raises
 * POLL_IN (tun_net_xmit()); with O_ASYNC off, nothing.  F_SETSIG makes the
 * reason and the fd visible.
 */
TEST_F(tun_ctl, fasync_sigio)
{
	siginfo_t si;
	sigset_t set;
	int fl;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	/* No IPv6 autoconfiguration frames: only the test's own. */
	ASSERT_EQ(0, ipv6_disable(self->name));
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, fcntl(self->fd, F_SETSIG, SIGRTMIN));
	fl = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_ASYNC | O_NONBLOCK));
	EXPECT_EQ(getpid(), fcntl(self->fd, F_GETOWN));

	EXPECT_EQ(0, pollout(self->fd));
	ASSERT_EQ(0, link_up(self->name));
	EXPECT_EQ(POLL_OUT, next_sigio(2000, &si)) TH_LOG("up: %s", strerror(errno));
	EXPECT_EQ(self->fd, si.si_fd);
	EXPECT_EQ(1, tx_through(self->name, self->fd, &MAC_BCAST, 1));
	EXPECT_EQ(POLL_IN, next_sigio(2000, &si)) TH_LOG("packet: %s", strerror(errno));
	EXPECT_EQ(self->fd, si.si_fd);
	EXPECT_EQ(-1, next_sigio(100, &si)) TH_LOG("one packet, one signal");

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(1, tx_through(self->name, self->fd, &MAC_BCAST, 1));
	EXPECT_EQ(-1, next_sigio(200, &si)) TH_LOG("O_ASYNC off");
	EXPECT_EQ(EAGAIN, errno);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/*
 * ethtool link settings (tun_get_link_ksettings(), tun_set_link_ksettings()):
 * 10Gb/s full duplex on twisted pair without autonegotiation; whatever is
 * set is shown, per device, and kept across a re-attach.
 */
TEST_F(tun_ctl, ethtool_link_settings)
{
	struct ethtool_cmd ec = { .cmd = ETHTOOL_GSET };
	char other[IFNAMSIZ];
	int fd2;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	ASSERT_EQ(0, ethtool_cmd(self->name, &ec)) TH_LOG("GSET: %s", strerror(errno));
	EXPECT_EQ(SPEED_10000, ethtool_cmd_speed(&ec));
	EXPECT_EQ(DUPLEX_FULL, ec.duplex);
	EXPECT_EQ(PORT_TP, ec.port);
	EXPECT_EQ(AUTONEG_DISABLE, ec.autoneg);
	EXPECT_EQ(0, ec.phy_address);
	EXPECT_EQ(0, ec.supported);
	EXPECT_EQ(0, ec.advertising);

	ec.cmd = ETHTOOL_SSET;
	ethtool_cmd_speed_set(&ec, SPEED_1000);
	ec.duplex = DUPLEX_HALF;
	ASSERT_EQ(0, ethtool_cmd(self->name, &ec)) TH_LOG("SSET: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 1));
	close(self->fd);
	self->fd = dev_open(variant->node);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	memset(&ec, 0, sizeof(ec));
	ec.cmd = ETHTOOL_GSET;
	ASSERT_EQ(0, ethtool_cmd(self->name, &ec));
	EXPECT_EQ(SPEED_1000, ethtool_cmd_speed(&ec));
	EXPECT_EQ(DUPLEX_HALF, ec.duplex);
	EXPECT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 0));

	/* A new TUN device starts from the defaults. */
	fd2 = dev_open(variant->node);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, set_iff(fd2, "", IFF_TUN, other));
	memset(&ec, 0, sizeof(ec));
	ec.cmd = ETHTOOL_GSET;
	EXPECT_EQ(0, ethtool_cmd(other, &ec));
	EXPECT_EQ(SPEED_10000, ethtool_cmd_speed(&ec));
	EXPECT_EQ(DUPLEX_FULL, ec.duplex);
	close(fd2);
}

/*
 * The kernel log lines of @dev written since @kmsg (/dev/kmsg, opened at
 * its end) was opened, without the "@dev: " prefix, each ended by '\n',
 * into @out; their number.
 */
static int dev_log_lines(int kmsg, const char *dev, char *out, size_t len)
{
	char rec[512], prefix[IFNAMSIZ + 3];
	size_t used = 0;
	int n = 0;
	ssize_t r;

	snprintf(prefix, sizeof(prefix), "%s: ", dev);
	out[0] = '\0';
	while ((r = read(kmsg, rec, sizeof(rec) - 1)) > 0 || (r < 0 && errno == EPIPE)) {
		char *msg, *nl;

		if (r < 0)
			continue;
		rec[r] = '\0';
		msg = strchr(rec, ';');
		if (!msg || strncmp(msg + 1, prefix, strlen(prefix)))
			continue;
		msg += 1 + strlen(prefix);
		nl = strchr(msg, '\n');
		if (nl)
			nl[1] = '\0';
		used += snprintf(out + used, len - used, "%s", msg);
		if (used >= len)
			break;
		n++;
	}
	return n;
}

/*
 * What TUNSETDEBUG's level prints (netif_info()): with NETIF_MSG_DRV,
 * each ioctl's number and what persist, owner and link type changes did;
 * with NETIF_MSG_TX_QUEUED, each transmitted packet's length.  The line
 * of the TUNSETDEBUG that sets the level is printed with the old one.
 */
TEST_F(tun_ctl, setdebug_log_lines)
{
	char got[1024], want[1024];
	int kmsg;

	ASSERT_EQ(0, set_iff(self->fd, self->name, IFF_TAP | IFF_NO_PI, NULL));
	ASSERT_EQ(0, ipv6_disable(self->name));
	/* tx_through() reads until nothing is left. */
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fcntl(self->fd, F_GETFL) | O_NONBLOCK));
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(errno));
	ASSERT_LE(0, lseek(kmsg, 0, SEEK_END));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETDEBUG, 0x1));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 1));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETOWNER, 4321));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETNOCSUM, 1));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETLINK, ARPHRD_ETHER));
	ASSERT_EQ(0, link_up(self->name));
	EXPECT_EQ(-1, ioctl(self->fd, TUNSETLINK, ARPHRD_ETHER));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETPERSIST, 0));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETDEBUG, 0x100));
	EXPECT_EQ(1, tx_through(self->name, self->fd, &MAC_BCAST, 1));
	EXPECT_EQ(0, ioctl(self->fd, TUNSETDEBUG, 0));
	EXPECT_EQ(1, tx_through(self->name, self->fd, &MAC_BCAST, 1));
	snprintf(want, sizeof(want),
		 "tun_chr_ioctl cmd %u\npersist enabled\n"
		 "tun_chr_ioctl cmd %u\nowner set to 4321\n"
		 "tun_chr_ioctl cmd %u\nignored: set checksum disabled\n"
		 "tun_chr_ioctl cmd %u\nlinktype set to %d\n"
		 "tun_chr_ioctl cmd %u\nLinktype set failed because interface is up\n"
		 "tun_chr_ioctl cmd %u\npersist disabled\n"
		 "tun_chr_ioctl cmd %u\n"
		 "tun_net_xmit 60\n",
		 (unsigned int)TUNSETPERSIST, (unsigned int)TUNSETOWNER,
		 (unsigned int)TUNSETNOCSUM, (unsigned int)TUNSETLINK, ARPHRD_ETHER,
		 (unsigned int)TUNSETLINK, (unsigned int)TUNSETPERSIST,
		 (unsigned int)TUNSETDEBUG);
	sleep_ms(50);
	EXPECT_EQ(14, dev_log_lines(kmsg, self->name, got, sizeof(got)));
	EXPECT_STREQ(want, got);
	close(kmsg);
}
