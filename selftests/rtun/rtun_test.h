/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the rtun selftests: opening a tun node, TUNSETIFF,
 * sysfs attributes of a network device and its administrative state.
 */

#ifndef RTUN_TEST_H
#define RTUN_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>

/* Copy @name into @ifr's ifr_name (zeroed by the caller), truncated. */
static inline void ifr_set_name(struct ifreq *ifr, const char *name)
{
	memcpy(ifr->ifr_name, name, strnlen(name, IFNAMSIZ - 1));
}

static inline int dev_open(const char *node)
{
	return open(node, O_RDWR | O_CLOEXEC);
}

/*
 * TUNSETIFF with @name (may be "" or contain %d) and @flags; on success the
 * name the driver chose is copied to @out (IFNAMSIZ bytes) if @out is set.
 * Returns the ioctl's return value, errno as the ioctl left it.
 */
static inline int set_iff(int fd, const char *name, int flags, char *out)
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	ifr_set_name(&ifr, name);
	ifr.ifr_flags = flags;
	ret = ioctl(fd, TUNSETIFF, &ifr);
	if (!ret && out)
		memcpy(out, ifr.ifr_name, IFNAMSIZ);
	return ret;
}

/*
 * Read /sys/class/net/@dev/@attr into @buf without the trailing newline.
 * Returns 0 or -errno.
 */
static inline int sysfs_read(const char *dev, const char *attr, char *buf,
			     size_t len)
{
	char path[128];
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", dev, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* A number (decimal, or hex with 0x) from sysfs, or -1 on any error. */
static inline long sysfs_num(const char *dev, const char *attr)
{
	char buf[64], *end;
	long val;

	if (sysfs_read(dev, attr, buf, sizeof(buf)))
		return -1;
	errno = 0;
	val = strtol(buf, &end, 0);
	if (errno || end == buf || *end)
		return -1;
	return val;
}

/* Set or clear IFF_UP on @dev (SIOCSIFFLAGS); 0 or -1 with errno. */
static inline int link_set(const char *dev, bool up)
{
	struct ifreq ifr;
	int s, ret;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr_set_name(&ifr, dev);
	ret = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (!ret) {
		if (up)
			ifr.ifr_flags |= IFF_UP;
		else
			ifr.ifr_flags &= ~IFF_UP;
		ret = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return ret;
}

/* Bring @dev up (SIOCSIFFLAGS); 0 or -1 with errno. */
static inline int link_up(const char *dev)
{
	return link_set(dev, true);
}

#endif /* RTUN_TEST_H */
