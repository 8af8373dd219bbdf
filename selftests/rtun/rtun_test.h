/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the rtun selftests (and tun_diff, tun_ctldiff):
 * big-endian bytes and Internet checksums, deterministic random numbers,
 * time, small files, opening a tun node, TUNSETIFF, TUNSETQUEUE and
 * TUNGETIFF, the fdinfo of a tun fd, sysfs attributes of a network device,
 * its flags and other SIOC*IF* calls, its rtnl link info and queue counts,
 * rtnetlink requests (ip link del), ethtool features and statistics,
 * transmitting through a packet socket, dropping privileges, and a network
 * namespace of a test's own.
 * All static inline: each program uses its own subset.
 */

#ifndef RTUN_TEST_H
#define RTUN_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <linux/virtio_net.h>

/* Linux 7.x's if_tun.h, for builds against older headers. */
#ifndef IFF_BACKPRESSURE
#define IFF_BACKPRESSURE 0x0080
#endif
#ifndef TUN_F_UDP_TUNNEL_GSO
#define TUN_F_UDP_TUNNEL_GSO 0x080
#define TUN_F_UDP_TUNNEL_GSO_CSUM 0x100
#endif

/* ---- bytes and checksums ---- */

static inline void put16(unsigned char *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void put32(unsigned char *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static inline uint16_t get16(const unsigned char *p)
{
	return p[0] << 8 | p[1];
}

static inline uint32_t get32(const unsigned char *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Byte @i of the payload pattern: no short period, so shifts show. */
static inline uint8_t pattern(uint32_t i)
{
	return (i * 2654435761u) >> 24;
}

/* One's complement sum of @len bytes at @p added to @sum, not folded. */
static inline uint64_t csum_add(uint64_t sum, const unsigned char *p,
				size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static inline uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* ---- deterministic random numbers (splitmix64) ---- */

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), 0 if n is 0. */
static inline uint32_t rnd(struct rng *r, uint32_t n)
{
	return n ? rng_next(r) % n : 0;
}

static inline bool chance(struct rng *r, unsigned int percent)
{
	return rnd(r, 100) < percent;
}

#define PICK(r, a) ((a)[rnd((r), ARRAY_SIZE(a))])

/* ---- errors ---- */

/* "@prog: " and the message on stderr, after stdout; exit status 2. */
static inline void __attribute__((noreturn, format(printf, 2, 3)))
fatal(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* ---- time ---- */

/*
 * Whether the running kernel is at least @major.@minor: the C driver a test
 * compares with is the running kernel's, and its tun.c changed in 7.0.
 */
static inline bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/* Sleep @ms milliseconds, all of them even if a signal comes. */
static inline void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = ms % 1000 * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- small files ---- */

/* Read a small file into @buf (trailing newline dropped); 0 or -errno. */
static inline int file_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, err;

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

/* Write @val to the file @path in one write(); 0 or -errno. */
static inline int file_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	err = n < 0 ? errno : EIO;
	close(fd);
	return n == (ssize_t)len ? 0 : -err;
}

/* Run a shell command, its output discarded; returns its exit status. */
static inline int __attribute__((format(printf, 1, 2)))
sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd) - 16, fmt, ap);
	va_end(ap);
	strcat(cmd, " >/dev/null 2>&1");
	ret = system(cmd);
	if (ret < 0 || !WIFEXITED(ret))
		return -1;
	return WEXITSTATUS(ret);
}

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
 * Open @node (O_NONBLOCK if @nonblock) and TUNSETIFF it to @name with
 * @flags; the fd, or -1 with errno as the failing call left it.
 */
static inline int tun_open_iff(const char *node, const char *name, int flags,
			       bool nonblock)
{
	int fd = dev_open(node), err;

	if (fd < 0)
		return -1;
	if ((nonblock &&
	     fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) ||
	    set_iff(fd, name, flags, NULL)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/*
 * TUNSETQUEUE with @flags (IFF_ATTACH_QUEUE, IFF_DETACH_QUEUE) and an
 * empty name.  Returns the ioctl's return value, errno as the ioctl left it.
 */
static inline int set_queue(int fd, int flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	return ioctl(fd, TUNSETQUEUE, &ifr);
}

/* TUNGETIFF's flags, or -1 with errno. */
static inline int getiff_flags(int fd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr))
		return -1;
	return (unsigned short)ifr.ifr_flags;
}

/*
 * The line of /proc/self/fdinfo/@fd that starts with @key (e.g. "iff:\t"),
 * without the key and the newline, into @out; 0 or -1.
 */
static inline int fdinfo_field(int fd, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	char path[64], line[128];
	int ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, len, "%s", line + klen);
		ret = 0;
	}
	fclose(f);
	return ret;
}

/* The "iff:" line of /proc/self/fdinfo/@fd into @out (the name); 0 or -1. */
static inline int fdinfo_iff(int fd, char *out, size_t len)
{
	return fdinfo_field(fd, "iff:\t", out, len);
}

/* The file position /proc/self/fdinfo/@fd shows ("pos:"), or -1. */
static inline long long fdinfo_pos(int fd)
{
	char buf[32];

	if (fdinfo_field(fd, "pos:\t", buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/*
 * Read /sys/class/net/@dev/@attr into @buf without the trailing newline.
 * Returns 0 or -errno.
 */
static inline int sysfs_read(const char *dev, const char *attr, char *buf,
			     size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", dev, attr);
	return file_read(path, buf, len);
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

/* ---- network devices ---- */

static inline bool netdev_exists(const char *dev)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/class/net/%.*s", IFNAMSIZ, dev);
	return stat(path, &st) == 0;
}

/*
 * How many entries of /sys/class/net/@dev/queues begin with @prefix
 * ("tx-", "rx-"): the device's real number of transmit or receive queues.
 * -1 with errno if the directory cannot be read.
 */
static inline int sysfs_queues(const char *dev, const char *prefix)
{
	char path[64 + IFNAMSIZ];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%.*s/queues", IFNAMSIZ,
		 dev);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

/* Device unregistration may be deferred: wait up to @ms for @dev to go. */
static inline bool netdev_wait_gone(const char *dev, long ms)
{
	long t0 = now_ms();

	while (now_ms() - t0 < ms) {
		if (!netdev_exists(dev))
			return true;
		sleep_ms(10);
	}
	return !netdev_exists(dev);
}

/* Disable IPv6 on @dev so that the stack transmits nothing by itself. */
static inline int ipv6_disable(const char *dev)
{
	char path[128];
	int ret;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 dev);
	ret = file_write(path, "1");
	return ret == -ENOENT ? 0 : ret;
}

/*
 * ioctl @req on @dev with @ifr (zeroed, its other fields set by the
 * caller), through a datagram socket of its own: the way to every
 * SIOC*IF* call and to SIOCETHTOOL.  0 or -1 with errno.
 */
static inline int ifr_ioctl(const char *dev, unsigned long req,
			    struct ifreq *ifr)
{
	int s, ret, err;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	ifr_set_name(ifr, dev);
	ret = ioctl(s, req, ifr);
	err = errno;
	close(s);
	errno = err;
	return ret;
}

/* The interface flags of @dev (SIOCGIFFLAGS), or -1 with errno. */
static inline int link_flags(const char *dev)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ifr_ioctl(dev, SIOCGIFFLAGS, &ifr))
		return -1;
	return (unsigned short)ifr.ifr_flags;
}

/* Set or clear IFF_UP on @dev (SIOCSIFFLAGS); 0 or -1 with errno. */
static inline int link_set(const char *dev, bool up)
{
	struct ifreq ifr;
	int flags = link_flags(dev);

	if (flags < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = up ? flags | IFF_UP : flags & ~IFF_UP;
	return ifr_ioctl(dev, SIOCSIFFLAGS, &ifr);
}

/* Bring @dev up (SIOCSIFFLAGS); 0 or -1 with errno. */
static inline int link_up(const char *dev)
{
	return link_set(dev, true);
}

/*
 * The IFLA_TUN_* of a link, as RTM_GETLINK returns them, and its queue
 * counts (IFLA_NUM_TX_QUEUES, IFLA_NUM_RX_QUEUES: num_tx_queues and
 * num_rx_queues, what the device was allocated with).
 */
struct tun_linkinfo {
	char kind[16];
	int type, pi, vnet_hdr, persist, multi_queue;	/* -1: absent */
	long owner, group;				/* -1: absent */
	long num_queues, num_disabled;			/* -1: absent */
	long num_tx_queues, num_rx_queues;		/* -1: absent */
	int nattrs;					/* in IFLA_INFO_DATA */
};

/* RTM_GETLINK for @ifindex, parsed into @li; 0 or -1. */
static inline int get_linkinfo(int ifindex, struct tun_linkinfo *li)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex },
	};
	static char buf[16384];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct rtattr *a, *b, *c;
	int s, len, la, lb, lc;

	memset(li, 0, sizeof(*li));
	li->type = li->pi = li->vnet_hdr = li->persist = li->multi_queue = -1;
	li->owner = li->group = -1;
	li->num_queues = li->num_disabled = -1;
	li->num_tx_queues = li->num_rx_queues = -1;
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return -1;
	if (send(s, &req, sizeof(req), 0) != sizeof(req)) {
		close(s);
		return -1;
	}
	len = recv(s, buf, sizeof(buf), 0);
	close(s);
	if (len < (int)sizeof(*nh) || nh->nlmsg_type != RTM_NEWLINK)
		return -1;
	la = nh->nlmsg_len - NLMSG_LENGTH(sizeof(struct ifinfomsg));
	for (a = IFLA_RTA(NLMSG_DATA(nh)); RTA_OK(a, la); a = RTA_NEXT(a, la)) {
		if (a->rta_type == IFLA_NUM_TX_QUEUES)
			li->num_tx_queues = *(unsigned int *)RTA_DATA(a);
		if (a->rta_type == IFLA_NUM_RX_QUEUES)
			li->num_rx_queues = *(unsigned int *)RTA_DATA(a);
		if (a->rta_type != IFLA_LINKINFO)
			continue;
		lb = RTA_PAYLOAD(a);
		for (b = RTA_DATA(a); RTA_OK(b, lb); b = RTA_NEXT(b, lb)) {
			if (b->rta_type == IFLA_INFO_KIND)
				snprintf(li->kind, sizeof(li->kind), "%s",
					 (char *)RTA_DATA(b));
			if (b->rta_type != IFLA_INFO_DATA)
				continue;
			lc = RTA_PAYLOAD(b);
			for (c = RTA_DATA(b); RTA_OK(c, lc); c = RTA_NEXT(c, lc)) {
				unsigned char u8 = *(unsigned char *)RTA_DATA(c);
				unsigned int u32 = *(unsigned int *)RTA_DATA(c);

				li->nattrs++;
				switch (c->rta_type) {
				case IFLA_TUN_TYPE:
					li->type = u8;
					break;
				case IFLA_TUN_PI:
					li->pi = u8;
					break;
				case IFLA_TUN_VNET_HDR:
					li->vnet_hdr = u8;
					break;
				case IFLA_TUN_PERSIST:
					li->persist = u8;
					break;
				case IFLA_TUN_MULTI_QUEUE:
					li->multi_queue = u8;
					break;
				case IFLA_TUN_OWNER:
					li->owner = u32;
					break;
				case IFLA_TUN_GROUP:
					li->group = u32;
					break;
				case IFLA_TUN_NUM_QUEUES:
					li->num_queues = u32;
					break;
				case IFLA_TUN_NUM_DISABLED_QUEUES:
					li->num_disabled = u32;
					break;
				}
			}
		}
	}
	return 0;
}

/* ---- rtnetlink requests ---- */

/* An rtnetlink request being built. */
struct nlreq {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[256];
};

static inline struct rtattr *nl_attr(struct nlreq *r, int type,
				     const void *data, int len)
{
	struct rtattr *rta = (struct rtattr *)((char *)r +
					       NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

/* Close a nested attribute opened by nl_attr(r, type, NULL, 0). */
static inline void nl_nest_end(struct nlreq *r, struct rtattr *nest)
{
	nest->rta_len = (char *)r + r->nh.nlmsg_len - (char *)nest;
}

static inline void nl_init(struct nlreq *r, int type, int flags,
			   int ifindex)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(sizeof(r->ifi));
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->nh.nlmsg_seq = 1;
	r->ifi.ifi_family = AF_UNSPEC;
	r->ifi.ifi_index = ifindex;
}

/* Send @r and return the error of its ack: 0 or -errno. */
static inline int nl_talk(struct nlreq *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[4096];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct nlmsgerr *e;
	ssize_t n;
	int s, ret = -EPROTO;

	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return -errno;
	if (sendto(s, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	n = recv(s, buf, sizeof(buf), 0);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	if (NLMSG_OK(nh, n) && nh->nlmsg_type == NLMSG_ERROR) {
		e = NLMSG_DATA(nh);
		ret = e->error;
	}
out:
	close(s);
	return ret;
}

/* "ip link del": RTM_DELLINK for @ifindex; 0 or -errno. */
static inline int rtnl_link_del(int ifindex)
{
	struct nlreq r;

	nl_init(&r, RTM_DELLINK, 0, ifindex);
	return nl_talk(&r);
}

/* "ip link del @name" if it exists ("2>/dev/null"). */
static inline void rtnl_link_del_name(const char *name)
{
	long ifindex = sysfs_num(name, "ifindex");

	if (ifindex > 0)
		rtnl_link_del(ifindex);
}

/*
 * Start "ip link add @name type @kind" in @r; returns the IFLA_LINKINFO
 * nest, for IFLA_INFO_DATA, to be closed before nl_talk().
 */
static inline struct rtattr *nl_link_new(struct nlreq *r, const char *name,
					 const char *kind)
{
	struct rtattr *info;

	nl_init(r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	nl_attr(r, IFLA_IFNAME, name, strlen(name) + 1);
	info = nl_attr(r, IFLA_LINKINFO, NULL, 0);
	nl_attr(r, IFLA_INFO_KIND, kind, strlen(kind));
	return info;
}

/* "ip link add @name type @kind"; 0 or -errno. */
static inline int rtnl_link_add(const char *name, const char *kind)
{
	struct nlreq r;

	nl_nest_end(&r, nl_link_new(&r, name, kind));
	return nl_talk(&r);
}

/* "ip link add @name type bridge forward_delay 0"; 0 or -errno. */
static inline int rtnl_bridge_add(const char *name)
{
	struct rtattr *info, *data;
	uint32_t delay = 0;
	struct nlreq r;

	info = nl_link_new(&r, name, "bridge");
	data = nl_attr(&r, IFLA_INFO_DATA, NULL, 0);
	nl_attr(&r, IFLA_BR_FORWARD_DELAY, &delay, sizeof(delay));
	nl_nest_end(&r, data);
	nl_nest_end(&r, info);
	return nl_talk(&r);
}

/* "ip link add @name type veth peer name @peer"; 0 or -errno. */
static inline int rtnl_veth_add(const char *name, const char *peer)
{
	struct rtattr *info, *data, *p;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nlreq r;

	info = nl_link_new(&r, name, "veth");
	data = nl_attr(&r, IFLA_INFO_DATA, NULL, 0);
	p = nl_attr(&r, VETH_INFO_PEER, &ifi, sizeof(ifi));
	nl_attr(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
	nl_nest_end(&r, p);
	nl_nest_end(&r, data);
	nl_nest_end(&r, info);
	return nl_talk(&r);
}

/* "ip link set @name master @master"; 0 or -errno. */
static inline int rtnl_link_master(const char *name, const char *master)
{
	long ifindex = sysfs_num(name, "ifindex");
	uint32_t m = sysfs_num(master, "ifindex");
	struct nlreq r;

	if (ifindex <= 0 || (int32_t)m <= 0)
		return -ENODEV;
	nl_init(&r, RTM_NEWLINK, 0, ifindex);
	nl_attr(&r, IFLA_MASTER, &m, sizeof(m));
	return nl_talk(&r);
}

/*
 * Bring @name up (IPv6 off: no frames of its own) and open a packet
 * socket bound to it, non-blocking, that sees every frame it receives;
 * the socket, or -1.
 */
static inline int dev_watch(const char *name)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	int s;

	if (ipv6_disable(name) || link_up(name))
		return -1;
	sll.sll_ifindex = sysfs_num(name, "ifindex");
	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		   htons(ETH_P_ALL));
	if (s < 0)
		return -1;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		close(s);
		return -1;
	}
	return s;
}

/* ---- BPF programs and XDP ---- */

/*
 * BPF_PROG_LOAD of the @n instructions at @insns as a GPL program of
 * @type; its fd, or -1 with errno.
 */
static inline int bpf_prog_load(int type, const struct bpf_insn *insns,
				unsigned int n)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = type;
	attr.insns = (uintptr_t)insns;
	attr.insn_cnt = n;
	attr.license = (uintptr_t)"GPL";
	return syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

/* A program of @type that returns @ret: "r0 = ret; exit". */
static inline int bpf_prog_return(int type, uint32_t ret)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = (int32_t)ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(type, insns, 2);
}

/*
 * "ip link set dev IFINDEX xdp fd FD": IFLA_XDP with program @fd (-1
 * takes the device's away) in the mode @flags asks for (XDP_FLAGS_*; 0:
 * native if the driver has it, else generic); 0 or -errno.
 */
static inline int xdp_set(int ifindex, int fd, uint32_t flags)
{
	struct rtattr *nest;
	struct nlreq r;

	nl_init(&r, RTM_SETLINK, 0, ifindex);
	nest = nl_attr(&r, IFLA_XDP | NLA_F_NESTED, NULL, 0);
	nl_attr(&r, IFLA_XDP_FD, &fd, sizeof(fd));
	if (flags)
		nl_attr(&r, IFLA_XDP_FLAGS, &flags, sizeof(flags));
	nl_nest_end(&r, nest);
	return nl_talk(&r);
}

/* ---- ethtool features ---- */

/* Index of feature string @name of @ifname (ETH_SS_FEATURES), or -1. */
static inline int feature_index(const char *ifname, const char *name)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t buf[1];
	} sset = { .hdr = { .cmd = ETHTOOL_GSSET_INFO,
			    .sset_mask = 1ULL << ETH_SS_FEATURES } };
	struct ethtool_gstrings *gs;
	struct ifreq ifr;
	int i, n, found = -1;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)&sset;
	if (ifr_ioctl(ifname, SIOCETHTOOL, &ifr) || !sset.hdr.sset_mask)
		return -1;
	n = sset.hdr.data[0];
	gs = calloc(1, sizeof(*gs) + n * ETH_GSTRING_LEN);
	if (!gs)
		return -1;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_FEATURES;
	gs->len = n;
	ifr.ifr_data = (void *)gs;
	if (!ifr_ioctl(ifname, SIOCETHTOOL, &ifr)) {
		for (i = 0; i < n; i++) {
			if (!strncmp((char *)gs->data + i * ETH_GSTRING_LEN,
				     name, ETH_GSTRING_LEN)) {
				found = i;
				break;
			}
		}
	}
	free(gs);
	return found;
}

/* Whether feature @name of @ifname is active (ETHTOOL_GFEATURES): 1, 0, -1. */
static inline int feature(const char *ifname, const char *name)
{
	struct {
		struct ethtool_gfeatures hdr;
		struct ethtool_get_features_block blk[4];
	} gf = { .hdr = { .cmd = ETHTOOL_GFEATURES, .size = 4 } };
	struct ifreq ifr;
	int i = feature_index(ifname, name);

	if (i < 0 || i >= 128)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)&gf;
	if (ifr_ioctl(ifname, SIOCETHTOOL, &ifr))
		return -1;
	return !!(gf.blk[i / 32].active & (1U << (i % 32)));
}

/*
 * Features @names[0..@n) of @ifname as a mask, bit i set if @names[i] is
 * active; -1 on error.
 */
static inline int features_mask(const char *ifname, const char *const *names,
				int n)
{
	int i, v, mask = 0;

	for (i = 0; i < n; i++) {
		v = feature(ifname, names[i]);
		if (v < 0)
			return -1;
		if (v)
			mask |= 1 << i;
	}
	return mask;
}

/* ---- transmitting ---- */

/*
 * Hand @len bytes of @data with vnet header @vh (NULL: zeroes) to the
 * stack for transmission on the device @ifindex through @psock, a packet
 * socket with PACKET_VNET_HDR, as protocol @proto (host order; 0: from
 * the Ethernet header).  Returns 0 or -errno.
 */
static inline int packet_xmit(int psock, int ifindex,
			      const struct virtio_net_hdr *vh,
			      const void *data, size_t len, uint16_t proto)
{
	struct virtio_net_hdr zero = {};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
	};
	struct iovec iov[2] = {
		{ .iov_base = (void *)(vh ? vh : &zero), .iov_len = sizeof(zero) },
		{ .iov_base = (void *)data, .iov_len = len },
	};
	struct msghdr msg = {
		.msg_name = &sll,
		.msg_namelen = sizeof(sll),
		.msg_iov = iov,
		.msg_iovlen = 2,
	};

	if (!proto && len >= ETH_HLEN)
		proto = get16((const unsigned char *)data + 12);
	sll.sll_protocol = htons(proto);
	return sendmsg(psock, &msg, 0) < 0 ? -errno : 0;
}

/* ---- ethtool statistics (ethtool -S) ---- */

/*
 * The ETH_SS_STATS strings and values of @ifname: their number, at most
 * @max, with the names in @names (ETH_GSTRING_LEN bytes each, as the
 * driver wrote them) and the values in @vals; or -errno of the first
 * failing ETHTOOL_GSSET_INFO, ETHTOOL_GSTATS or ETHTOOL_GSTRINGS (C tun
 * has no statistics set: -EOPNOTSUPP), -E2BIG if there are more than @max.
 */
static inline int ethtool_stats(const char *ifname,
				char (*names)[ETH_GSTRING_LEN],
				uint64_t *vals, int max)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t buf[1];
	} sset = { .hdr = { .cmd = ETHTOOL_GSSET_INFO,
			    .sset_mask = 1ULL << ETH_SS_STATS } };
	struct ethtool_gstrings *gs = NULL;
	struct ethtool_stats *st = NULL;
	struct ifreq ifr;
	int n = 0, ret;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)&sset;
	if (ifr_ioctl(ifname, SIOCETHTOOL, &ifr))
		return -errno;
	/* No set: GSTATS below must fail before it writes anything. */
	if (sset.hdr.sset_mask)
		n = sset.hdr.data[0];
	if (n > max)
		return -E2BIG;
	/* Room for n, the count the kernel writes by. */
	st = calloc(1, sizeof(*st) + (n + 1) * sizeof(uint64_t));
	gs = calloc(1, sizeof(*gs) + (n + 1) * ETH_GSTRING_LEN);
	ret = -ENOMEM;
	if (!st || !gs)
		goto out;
	st->cmd = ETHTOOL_GSTATS;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)st;
	if (ifr_ioctl(ifname, SIOCETHTOOL, &ifr)) {
		ret = -errno;
		goto out;
	}
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_STATS;
	gs->len = n;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)gs;
	if (ifr_ioctl(ifname, SIOCETHTOOL, &ifr)) {
		ret = -errno;
		goto out;
	}
	ret = -EPROTO;
	if (st->n_stats != (uint32_t)n || gs->len != (uint32_t)n)
		goto out;
	memcpy(names, gs->data, (size_t)n * ETH_GSTRING_LEN);
	memcpy(vals, st->data, (size_t)n * sizeof(uint64_t));
	ret = n;
out:
	free(gs);
	free(st);
	return ret;
}

/* rtun's ethtool -S counter @stat of @ifname (a drop reason), or -1. */
static inline long long ethtool_stat(const char *ifname, const char *stat)
{
	char names[128][ETH_GSTRING_LEN];
	uint64_t vals[128];
	int n = ethtool_stats(ifname, names, vals, 128), i;

	for (i = 0; i < n; i++)
		if (!strncmp(names[i], stat, ETH_GSTRING_LEN))
			return (long long)vals[i];
	return -1;
}

/* ---- credentials ---- */

/* Who a child becomes before its ioctl. */
struct who {
	unsigned int uid;	/* 0: stays root */
	unsigned int gid;
	int supp;		/* a supplementary group, or -1 */
	bool nocaps;		/* root without any capability */
};

/* Drop to @w; 0 or -1. */
static inline int become(const struct who *w)
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

/* ---- namespaces ---- */

/*
 * New network and mount namespaces for this test (the harness forks each
 * test), /sys mounted again for the new network namespace, IPv6 off by
 * default (no router solicitations on the test's devices) and lo up.
 */
static inline int netns_enter(void)
{
	int ret;

	if (unshare(CLONE_NEWNET | CLONE_NEWNS))
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	if (mount("sysfs", "/sys", "sysfs", 0, NULL))
		return -errno;
	ret = file_write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (ret)
		return ret;
	return link_up("lo") ? -errno : 0;
}

/* ---- the harness ---- */

#ifdef TEST_HARNESS_MAIN
/*
 * Multiply every test's timeout (the harness's 30 s, or TEST_F_TIMEOUT's)
 * by RTUN_TEST_TIMEOUT_SCALE, as scripts/guest-check.sh multiplies each
 * program's: a test on the debug kernel under TCG runs several times
 * slower, and one the harness kills counts as failed.  A scale of 1 or
 * less, or above 100 (taken as a mistake: it would let a hung test
 * block for days), leaves the timeouts as they are.
 */
static inline void rtun_scale_timeouts(void)
{
	const char *s = getenv("RTUN_TEST_TIMEOUT_SCALE");
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	long k = s ? strtol(s, NULL, 10) : 1;

	if (k <= 1 || k > 100)
		return;
	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout *= k;
}

/* TEST_HARNESS_MAIN, with the timeouts scaled first. */
#define RTUN_HARNESS_MAIN \
	int main(int argc, char **argv) \
	{ \
		rtun_scale_timeouts(); \
		return test_harness_run(argc, argv); \
	}
#endif /* TEST_HARNESS_MAIN */

#endif /* RTUN_TEST_H */
