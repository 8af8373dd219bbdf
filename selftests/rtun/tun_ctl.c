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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>

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
	const char *tag;	/* prefix of the names the tests choose */
};

FIXTURE_VARIANT_ADD(tun_ctl, c_tun) {
	.node = "/dev/net/tun",
	.module = "tun",
	.tag = "cc",
};

FIXTURE_VARIANT_ADD(tun_ctl, rtun) {
	.node = "/dev/net/rtun",
	.module = "rtun",
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

/* TUNGETIFF's flags, or -1 with errno. */
static int getiff_flags(int fd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr))
		return -1;
	return (unsigned short)ifr.ifr_flags;
}

/* The module's reference count (/sys/module/@mod/refcnt), or -1. */
static long module_refcnt(const char *mod)
{
	char path[64], buf[32];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", mod);
	if (file_read(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

/* Who a child becomes before its ioctl. */
struct who {
	unsigned int uid;	/* 0: stays root */
	unsigned int gid;
	int supp;		/* a supplementary group, or -1 */
	bool nocaps;		/* root without any capability */
};

static const struct who ROOT = { 0, 0, -1, false };
static const struct who ROOT_NOCAPS = { 0, 0, -1, true };

/* Drop to @w; 0 or -1. */
static int become(const struct who *w)
{
	gid_t supp = w->supp;

	if (setgroups(w->supp < 0 ? 0 : 1, &supp))
		return -1;
	if (w->uid) {
		if (setresgid(w->gid, w->gid, w->gid) ||
		    setresuid(w->uid, w->uid, w->uid))
			return -1;
	}
	if (w->nocaps) {
		struct __user_cap_header_struct hdr = {
			.version = _LINUX_CAPABILITY_VERSION_3,
		};
		struct __user_cap_data_struct data[2];

		memset(data, 0, sizeof(data));
		if (syscall(SYS_capset, &hdr, data))
			return -1;
	}
	return 0;
}

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
 * (What an open fd holds differs: C's 2, its file and its socket, rtun's
 * 1; see Documentation/differences.md.)
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
	EXPECT_LE(1, per_fd);
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

TEST_HARNESS_MAIN
