// SPDX-License-Identifier: GPL-2.0
/*
 * rtun-bench: throughput and memory of the C tun driver (/dev/net/tun) and
 * rtun (/dev/net/rtun), measured alternately in one boot.
 *
 *   rtun-bench [--rounds N] [--seconds S] [--slices N] [--cpu N]
 *              [--order c,rust|rust,c|c|rust] [--devices N] WORKLOAD...
 *   rtun-bench list
 *   rtun-bench --icount N [--cpu N] [--order ...] WORKLOAD...
 *   rtun-bench icount-dump
 *
 * A workload creates one device on each driver in a private network
 * namespace (and a private sysfs), then runs N rounds.  A round gives each
 * driver S seconds, cut into --slices alternating slices (C, rtun, C, rtun,
 * ...; default 10), so both drivers see the same machine even when other
 * work on the host comes and goes.  Everything runs pinned to vCPU --cpu.
 * Every round prints one CSV line per metric and driver on stdout:
 *
 *   workload,metric,better,driver,round,value
 *
 * (better: h = higher is better, l = lower is better).  Progress and errors
 * go to stderr.  Each round checks its own results: every write must be
 * accepted whole and reach the sink, every read must return a packet of the
 * expected length, and the counts must add up; anything else ends the
 * program with a message and exit status 1.  Speed never does.
 *
 * The sink of the write workloads: the packets are well formed except for
 * their IPv4 header checksum, so ip_rcv_core() drops them as the first
 * thing it checks (InHdrErrors); IPv6 packets go to a device with
 * disable_ipv6=1, which ipv6_rcv() drops first thing (Ip6InDiscards).
 * Both drivers' packets die at the same place right after
 * netif_receive_skb(), so the time is the driver's plus a constant.
 *
 * With --icount N (make bench-icount), a workload runs N counted batches
 * per driver instead of timed rounds: each batch (a fixed number of
 * writes, or of sends and then of reads) is bracketed by marker
 * instructions that the QEMU plugin bench/icount.c counts between; stdout
 * gets one line per counted region:
 *
 *   region,workload,driver,phase,ops_per_batch,batches
 *
 * (phase: write, send or read).  "icount-dump" makes the plugin write its
 * results file.  Memory workloads have no operations to count.
 *
 * W6 (bench/w6-iperf.sh) is not here: it runs iperf3 through the
 * end-to-end test's forwarder, selftests/rtun/tun_fwd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>

#include "../selftests/rtun/rtun_test.h"
#include "../selftests/rtun/pkt.h"

#define VNET_HDR_LEN	10
#define BUF_MAX		(VNET_HDR_LEN + 65536 + 64)

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static const char *prog = "rtun-bench";
static const char *cur_wl = "-";
static const char *cur_drv = "-";

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s on %s: FAILED: ", prog, cur_wl, cur_drv);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((format(printf, 1, 2))) note(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec t = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		note("cannot pin to CPU %d (%s): running unpinned", cpu,
		     strerror(errno));
}

static long read_num(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 0);
}

static long dev_stat(const char *dev, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", dev,
		 name);
	return read_num(path);
}

/* Field @field of the line starting with "@table:" in /proc/net/snmp. */
static long snmp_get(const char *table, const char *field)
{
	char hdr[4096], val[4096], *hs, *vs, *h, *v;
	size_t tl = strlen(table);
	long ret = -1;
	FILE *f = fopen("/proc/net/snmp", "re");

	if (!f)
		return -1;
	while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		if (strncmp(hdr, table, tl) || hdr[tl] != ':')
			continue;
		h = strtok_r(hdr + tl + 1, " \n", &hs);
		v = strtok_r(val + tl + 1, " \n", &vs);
		while (h && v) {
			if (!strcmp(h, field)) {
				ret = strtol(v, NULL, 10);
				break;
			}
			h = strtok_r(NULL, " \n", &hs);
			v = strtok_r(NULL, " \n", &vs);
		}
		break;
	}
	fclose(f);
	return ret;
}

/* A counter of /proc/net/snmp6. */
static long snmp6_get(const char *field)
{
	char line[256], name[128];
	long val, ret = -1;
	FILE *f = fopen("/proc/net/snmp6", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %ld", name, &val) == 2 &&
		    !strcmp(name, field)) {
			ret = val;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* SIOCSIFTXQLEN: the device queue holds @len packets. */
static int set_txqlen(const char *dev, int len)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_qlen = len;
	return ifr_ioctl(dev, SIOCSIFTXQLEN, &ifr);
}

static int get_hwaddr(const char *dev, unsigned char mac[6])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ifr_ioctl(dev, SIOCGIFHWADDR, &ifr))
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* Open @node and attach a new device with @flags; its name goes to @name. */
static int tun_create(const char *node, int flags, char name[IFNAMSIZ])
{
	struct ifreq ifr;
	int fd = open(node, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = 0;
	return fd;
}

static void ipv6_off(const char *dev)
{
	int err = ipv6_disable(dev);

	if (err) {
		errno = -err;
		die("cannot disable IPv6 on %s", dev);
	}
}

/* ------------------------------------------------------------------ */
/* Packets                                                             */

enum { L4_UDP = IPPROTO_UDP, L4_TCP = IPPROTO_TCP };

/* The packet of a workload. */
struct wl_pkt {
	int ipv;		/* 4 or 6 */
	int proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	size_t ip_len;		/* bytes from the IP header on */
	bool partial;		/* transport checksum left partial */
	bool bad_ip_csum;	/* IPv4 header checksum wrong: the sink */
	const unsigned char *eth_dst;	/* NULL: no Ethernet header */
};

/*
 * Build the packet @w into @out; returns its length (Ethernet header
 * included) and the offsets of the transport header and the payload.
 */
static size_t pkt_build(const struct wl_pkt *w, unsigned char *out,
			size_t *l4off, size_t *hlen)
{
	struct pkt_desc d = {
		.eth = w->eth_dst != NULL, .dst = w->eth_dst, .src = pkt_mac_src,
		.ip.ipv = w->ipv,
		.l4 = { .proto = w->proto, .seq = 1 },
		.partial = w->partial,
	};
	struct pkt_layout o;
	unsigned char *ip;

	pkt_desc_usual(&d);
	ip_desc_addrs(&d.ip, &pkt_addrs, NULL, NULL);
	/* The payload: pattern() counted from the transport header. */
	d.pattern = l4_hdr_len(&d.l4);
	d.payload = w->ip_len - ip_hdr_len(&d.ip) - d.pattern;
	pkt_put(out, &d, &o);
	ip = out + o.l3;
	if (w->ipv == 4 && w->bad_ip_csum)
		put16(ip + 10, get16(ip + 10) ^ 0x5555);
	*l4off = o.l4;
	*hlen = o.hlen;
	return o.len;
}

/* A struct virtio_net_hdr in the host's (little-endian) order. */
static void vnet_put(unsigned char *p, uint8_t flags, uint8_t gso_type,
		     uint16_t hdr_len, uint16_t gso_size, uint16_t csum_start,
		     uint16_t csum_off)
{
	struct virtio_net_hdr h = {
		.flags = flags, .gso_type = gso_type, .hdr_len = hdr_len,
		.gso_size = gso_size, .csum_start = csum_start,
		.csum_offset = csum_off,
	};

	memcpy(p, &h, sizeof(h));
}

/* ------------------------------------------------------------------ */
/* Workloads                                                           */

struct driver {
	const char *tag;	/* CSV name */
	const char *node;
};

static const struct driver drivers[2] = {
	{ "c", "/dev/net/tun" },
	{ "rust", "/dev/net/rtun" },
};

enum kind { K_WRITE, K_READ, K_MEM_DEV, K_MEM_PKT };

struct workload {
	const char *id;
	const char *what;
	enum kind kind;
	int flags;		/* TUNSETIFF */
	struct wl_pkt pkt;
	uint8_t gso_type;	/* VIRTIO_NET_HDR_GSO_* */
	uint16_t gso_size;
	bool nonblock;		/* O_NONBLOCK on the fd */
	unsigned int offloads;	/* TUNSETOFFLOAD (read workloads) */
	unsigned int batch;	/* packets sent per read batch / memory count */
};

#define TUN_NOPI	(IFF_TUN | IFF_NO_PI)
#define TAP_NOPI	(IFF_TAP | IFF_NO_PI)
#define OFFL_ON		(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6)
#define MAC_DEV		((const unsigned char *)"dev")	/* the device's own MAC */

static const struct workload workloads[] = {
	{ "w1-udp46", "W1: write 46-byte IPv4/UDP packets, TUN, IFF_NO_PI",
	  K_WRITE, TUN_NOPI, { 4, L4_UDP, 46, false, true } },
	{ "w1-udp46-vnet", "W1: the same with IFF_VNET_HDR (header all zero)",
	  K_WRITE, TUN_NOPI | IFF_VNET_HDR, { 4, L4_UDP, 46, false, true } },
	{ "w2-tcp1500-csum", "W2: write 1500-byte IPv4/TCP packets, NEEDS_CSUM",
	  K_WRITE, TUN_NOPI | IFF_VNET_HDR, { 4, L4_TCP, 1500, true, true } },
	{ "w3-gso-tcpv4", "W3: write 64 KiB GSO_TCPV4 frames (gso_size 1460)",
	  K_WRITE, TUN_NOPI | IFF_VNET_HDR, { 4, L4_TCP, 65535, true, true },
	  VIRTIO_NET_HDR_GSO_TCPV4, 1460 },
	{ "w3-gso-tcpv6", "W3: write 64 KiB GSO_TCPV6 frames (gso_size 1440)",
	  K_WRITE, TUN_NOPI | IFF_VNET_HDR, { 6, L4_TCP, 65535, true, false },
	  VIRTIO_NET_HDR_GSO_TCPV6, 1440 },
	{ "w3-gso-udpl4", "W3: write 64 KiB GSO_UDP_L4 frames (gso_size 1472)",
	  K_WRITE, TUN_NOPI | IFF_VNET_HDR, { 4, L4_UDP, 65535, true, true },
	  VIRTIO_NET_HDR_GSO_UDP_L4, 1472 },
	{ "w4-small-on", "W4: read 46-byte UDP packets, offloads on",
	  K_READ, TUN_NOPI | IFF_VNET_HDR, { 4, L4_UDP, 46, false, false },
	  0, 0, false, OFFL_ON, 256 },
	{ "w4-small-off", "W4: read 46-byte UDP packets, offloads off",
	  K_READ, TUN_NOPI | IFF_VNET_HDR, { 4, L4_UDP, 46, false, false },
	  0, 0, false, 0, 256 },
	{ "w4-tso-on", "W4: read 64 KiB TCPv4 GSO skbs, TSO on",
	  K_READ, TUN_NOPI | IFF_VNET_HDR, { 4, L4_TCP, 65535, true, false },
	  VIRTIO_NET_HDR_GSO_TCPV4, 1460, false, OFFL_ON, 64 },
	{ "w4-tso-off", "W4: read the same, TSO off (stack segments to 1500)",
	  K_READ, TUN_NOPI | IFF_VNET_HDR, { 4, L4_TCP, 65535, true, false },
	  VIRTIO_NET_HDR_GSO_TCPV4, 1460, false, 0, 8 },
	{ "w4-uso-on", "W4: read 64 KiB UDP_L4 GSO skbs, USO on",
	  K_READ, TUN_NOPI | IFF_VNET_HDR, { 4, L4_UDP, 65535, true, false },
	  VIRTIO_NET_HDR_GSO_UDP_L4, 1472, false, OFFL_ON, 64 },
	{ "w4-uso-off", "W4: read the same, USO off (stack segments to 1500)",
	  K_READ, TUN_NOPI | IFF_VNET_HDR, { 4, L4_UDP, 65535, true, false },
	  VIRTIO_NET_HDR_GSO_UDP_L4, 1472, false, 0, 8 },
	{ "w5-tap60", "W5: write 60-byte Ethernet frames, TAP, blocking fd",
	  K_WRITE, TAP_NOPI, { 4, L4_UDP, 46, false, true, MAC_DEV } },
	{ "w5-tap60-nb", "W5: the same on an O_NONBLOCK fd (C: tun_build_skb)",
	  K_WRITE, TAP_NOPI, { 4, L4_UDP, 46, false, true, MAC_DEV },
	  0, 0, true },
	{ "mem-dev", "memory per TUN device (N devices created, kept down)",
	  K_MEM_DEV, TUN_NOPI },
	{ "mem-pkt-small", "memory per queued 46-byte packet (N queued, unread)",
	  K_MEM_PKT, TUN_NOPI | IFF_VNET_HDR, { 4, L4_UDP, 46, false, false },
	  0, 0, false, OFFL_ON, 1600 },
	{ "mem-pkt-gso", "memory per queued 64 KiB GSO skb (TSO on, unread)",
	  K_MEM_PKT, TUN_NOPI | IFF_VNET_HDR, { 4, L4_TCP, 65535, true, false },
	  VIRTIO_NET_HDR_GSO_TCPV4, 1460, false, OFFL_ON, 100 },
};

#define N_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

struct opts {
	int rounds;
	double seconds;
	int cpu;
	int order[2];
	int ndrivers;		/* 1 with --order c or --order rust */
	int slices;		/* alternating slices per round */
	int mem_devices;
	int icount;		/* counted batches per driver, 0: timed */
};

/* Per-driver state of a workload. */
struct ctx {
	const struct workload *wl;
	const struct driver *drv;
	int fd;			/* the tun fd */
	int pfd;		/* AF_PACKET sender (read workloads) */
	char name[IFNAMSIZ];
	int ifindex;
	unsigned char *buf;	/* what one write or send() carries */
	size_t len;		/* its length */
	size_t payload;		/* bytes counted for Gbit/s per write/send */
	unsigned int segs;	/* packets one send() turns into (read) */
	size_t seg_bytes;	/* bytes they read, headers included */
	unsigned char *rbuf;
};

static void emit(const struct workload *wl, const char *metric, char better,
		 const struct driver *drv, int round, double value)
{
	printf("%s,%s,%c,%s,%d,%.6g\n", wl->id, metric, better, drv->tag,
	       round, value);
	fflush(stdout);
}

/* What a send() of the read workloads becomes on the device. */
static void read_expect(struct ctx *c, const struct workload *wl)
{
	size_t iph = wl->pkt.ipv == 6 ? 40 : 20;
	size_t th = wl->pkt.proto == L4_TCP ? 20 : 8;
	size_t pay = wl->pkt.ip_len - iph - th;
	bool gso_on = wl->gso_type == VIRTIO_NET_HDR_GSO_UDP_L4 ?
		      (wl->offloads & TUN_F_USO4) : (wl->offloads & TUN_F_TSO4);

	if (!wl->gso_type || gso_on) {
		c->segs = 1;
		c->seg_bytes = VNET_HDR_LEN + wl->pkt.ip_len;
	} else {
		c->segs = (pay + wl->gso_size - 1) / wl->gso_size;
		c->seg_bytes = c->segs * (VNET_HDR_LEN + iph + th) + pay;
	}
}

static void ctx_setup(struct ctx *c, const struct workload *wl,
		      const struct driver *drv)
{
	size_t l4off, hlen, n;
	unsigned char mac[6];
	struct wl_pkt pd = wl->pkt;
	bool vnet = wl->flags & IFF_VNET_HDR;

	cur_drv = drv->tag;
	memset(c, 0, sizeof(*c));
	c->wl = wl;
	c->drv = drv;
	c->pfd = -1;
	c->fd = tun_create(drv->node, wl->flags, c->name);
	if (c->fd < 0)
		die("cannot create a device on %s: %s (is the module loaded?)",
		    drv->node, strerror(errno));
	if (wl->nonblock && fcntl(c->fd, F_SETFL, O_NONBLOCK))
		die("O_NONBLOCK: %s", strerror(errno));
	ipv6_off(c->name);
	if (wl->kind == K_READ || wl->kind == K_MEM_PKT) {
		if (ioctl(c->fd, TUNSETOFFLOAD, wl->offloads))
			die("TUNSETOFFLOAD 0x%x: %s", wl->offloads,
			    strerror(errno));
	}
	if (wl->batch > 450 && set_txqlen(c->name, wl->batch + 100))
		die("cannot set the queue length of %s to %u: %s", c->name,
		    wl->batch + 100, strerror(errno));
	if (link_set(c->name, true))
		die("cannot bring %s up: %s", c->name, strerror(errno));
	c->ifindex = if_nametoindex(c->name);
	if (!c->ifindex)
		die("no ifindex for %s", c->name);
	c->buf = malloc(BUF_MAX);
	c->rbuf = malloc(BUF_MAX);
	if (!c->buf || !c->rbuf)
		die("out of memory");
	memset(c->rbuf, 0, BUF_MAX);

	if (pd.eth_dst == MAC_DEV) {
		if (get_hwaddr(c->name, mac))
			die("SIOCGIFHWADDR %s: %s", c->name, strerror(errno));
		pd.eth_dst = mac;
	}
	n = vnet || wl->kind != K_WRITE ? VNET_HDR_LEN : 0;
	c->len = n + pkt_build(&pd, c->buf + n, &l4off, &hlen);
	c->payload = wl->pkt.ip_len;
	if (n) {
		bool csum = pd.partial;

		vnet_put(c->buf, csum ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0,
			 wl->gso_type, wl->gso_type ? hlen : 0,
			 wl->gso_size, csum ? l4off : 0,
			 csum ? l4_csum_off(pd.proto) : 0);
	}

	if (wl->kind == K_READ || wl->kind == K_MEM_PKT) {
		struct sockaddr_ll sll = {
			.sll_family = AF_PACKET,
			.sll_protocol = htons(ETH_P_IP),
			.sll_ifindex = c->ifindex,
		};
		int one = 1;

		read_expect(c, wl);
		/*
		 * Bound with ETH_P_IP: nothing is received on a TUN device
		 * nobody writes to, and the socket sees no outgoing packets
		 * (those go to ETH_P_ALL taps only).
		 */
		c->pfd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
		if (c->pfd < 0)
			die("AF_PACKET socket: %s", strerror(errno));
		if (setsockopt(c->pfd, SOL_PACKET, PACKET_VNET_HDR, &one,
			       sizeof(one)))
			die("PACKET_VNET_HDR: %s", strerror(errno));
		if (bind(c->pfd, (struct sockaddr *)&sll, sizeof(sll)))
			die("bind AF_PACKET to %s: %s", c->name,
			    strerror(errno));
		one = 8 << 20;
		setsockopt(c->pfd, SOL_SOCKET, SO_SNDBUFFORCE, &one,
			   sizeof(one));
	}
}

static void ctx_close(struct ctx *c)
{
	if (c->pfd >= 0)
		close(c->pfd);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c->rbuf);
	c->fd = c->pfd = -1;
	c->buf = c->rbuf = NULL;
}

/* The sink counter for this workload's packets. */
static long sink_count(const struct workload *wl)
{
	return wl->pkt.ipv == 6 ? snmp6_get("Ip6InDiscards") :
				  snmp_get("Ip", "InHdrErrors");
}

struct result {
	double ops, bytes, secs;	/* whole round */
	double rd_ops, rd_bytes, rd_secs;	/* read phase only */
};

/* Write the prepared packet for @secs seconds. */
static void round_write(struct ctx *c, double secs, struct result *r)
{
	long rx0 = dev_stat(c->name, "rx_packets");
	long sink0 = sink_count(c->wl), rx1, sink1;
	unsigned long n = 0, again = 0;
	double t0 = now(), t = t0, end = t0 + secs;
	ssize_t ret;
	int i;

	if (rx0 < 0 || sink0 < 0)
		die("cannot read the counters of %s", c->name);
	while (t < end) {
		for (i = 0; i < 64; i++) {
			ret = write(c->fd, c->buf, c->len);
			if (ret == (ssize_t)c->len) {
				n++;
				continue;
			}
			if (ret < 0 && errno == EAGAIN && c->wl->nonblock) {
				again++;
				continue;
			}
			die("write %lu of %zu bytes to %s returned %zd (%s)",
			    n + 1, c->len, c->name, ret,
			    ret < 0 ? strerror(errno) : "short write");
		}
		t = now();
	}
	rx1 = dev_stat(c->name, "rx_packets");
	sink1 = sink_count(c->wl);
	if (rx1 - rx0 != (long)n)
		die("%lu writes succeeded but rx_packets grew by %ld", n,
		    rx1 - rx0);
	if (sink1 - sink0 != (long)n)
		die("%lu packets written but the sink (%s) counted %ld: they "
		    "did not all die at the sink", n,
		    c->wl->pkt.ipv == 6 ? "Ip6InDiscards" : "Ip InHdrErrors",
		    sink1 - sink0);
	if (again)
		note("%s: %lu writes returned EAGAIN", c->name, again);
	r->ops += n;
	r->bytes += (double)n * c->payload;
	r->secs += t - t0;
}

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

/* Send @n packets toward the device through the stack. */
static void send_batch(struct ctx *c, unsigned int n)
{
	unsigned int i;
	ssize_t ret;

	for (i = 0; i < n; i++) {
		ret = send(c->pfd, c->buf, c->len, 0);
		if (ret != (ssize_t)c->len)
			die("AF_PACKET send of %zu bytes to %s returned %zd (%s)",
			    c->len, c->name, ret,
			    ret < 0 ? strerror(errno) : "short");
	}
}

/* Read what @n sends produced, with blocking reads; returns the bytes. */
static size_t read_batch(struct ctx *c, unsigned int n, bool check)
{
	unsigned int want = n * c->segs, i;
	size_t total = 0;
	ssize_t ret;

	for (i = 0; i < want; i++) {
		ret = read(c->fd, c->rbuf, BUF_MAX);
		if (ret <= VNET_HDR_LEN) {
			if (ret < 0 && errno == EINTR && alarmed)
				die("a blocking read waited 10 s: %u of %u "
				    "packets arrived (tx_dropped %ld)", i, want,
				    dev_stat(c->name, "tx_dropped"));
			die("read %u of %u from %s returned %zd (%s)", i + 1,
			    want, c->name, ret,
			    ret < 0 ? strerror(errno) : "too short");
		}
		total += ret;
		if (check && i == 0 && c->segs == 1) {
			struct virtio_net_hdr h;

			memcpy(&h, c->rbuf, sizeof(h));
			if (h.gso_type != c->wl->gso_type ||
			    (c->wl->gso_type && h.gso_size != c->wl->gso_size))
				die("read a header with gso_type %u gso_size "
				    "%u, expected %u and %u", h.gso_type,
				    h.gso_size, c->wl->gso_type,
				    c->wl->gso_size);
		}
	}
	if (total != (size_t)n * c->seg_bytes)
		die("read %zu bytes for %u sends, expected %zu", total, n,
		    (size_t)n * c->seg_bytes);
	return total;
}

/* Send a batch, read it back; repeat for @secs seconds. */
static void round_read(struct ctx *c, double secs, struct result *r)
{
	long drop0 = dev_stat(c->name, "tx_dropped");
	double t0 = now(), t = t0, end = t0 + secs, r0;
	unsigned int b = c->wl->batch;
	bool first = true;
	struct sigaction sa = { .sa_handler = on_alarm };

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: read gets EINTR */
	alarmed = 0;
	alarm(10 + (unsigned int)secs);
	while (t < end) {
		send_batch(c, b);
		r0 = now();
		r->rd_bytes += read_batch(c, b, first);
		t = now();
		r->rd_secs += t - r0;
		r->rd_ops += (double)b * c->segs;
		r->ops += b;
		r->bytes += (double)b * c->payload;
		first = false;
	}
	alarm(0);
	r->secs += t - t0;
	if (dev_stat(c->name, "tx_dropped") != drop0)
		die("tx_dropped grew: the batch overflowed the queue");
}

/* MemTotal - MemFree, Slab and Percpu from /proc/meminfo, in KiB. */
struct mem {
	long used, slab, percpu;
};

static void mem_read(struct mem *m)
{
	char line[256];
	long v, total = 0, free_ = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	memset(m, 0, sizeof(*m));
	if (!f)
		die("/proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %ld", &v) == 1)
			total = v;
		else if (sscanf(line, "MemFree: %ld", &v) == 1)
			free_ = v;
		else if (sscanf(line, "Slab: %ld", &v) == 1)
			m->slab = v;
		else if (sscanf(line, "Percpu: %ld", &v) == 1)
			m->percpu = v;
	}
	fclose(f);
	m->used = total - free_;
}

/* Wait until the kernel's memory use stops moving (RCU, workqueues). */
static void mem_settle(struct mem *m)
{
	struct mem a;
	int i;

	mem_read(&a);
	for (i = 0; i < 30; i++) {
		sleep_s(0.1);
		mem_read(m);
		if (labs(m->used - a.used) <= 16 && m->slab == a.slab)
			return;
		a = *m;
	}
}

/*
 * Emit the memory one of @n objects costs: MemTotal - MemFree, and (with
 * @unit_slab) the Slab + Percpu part of it, which moves in whole slab
 * pages and so says little about small totals.
 */
static void emit_mem(const struct workload *wl, const struct driver *drv,
		     int round, const struct mem *a, const struct mem *b,
		     long n, const char *unit_kb, const char *unit_slab,
		     double scale)
{
	emit(wl, unit_kb, 'l', drv, round,
	     (double)(b->used - a->used) * scale / n);
	if (unit_slab)
		emit(wl, unit_slab, 'l', drv, round,
		     (double)(b->slab + b->percpu - a->slab - a->percpu) *
		     scale / n);
}

/* Create @n devices, measure, destroy. */
static void round_mem_dev(const struct workload *wl, const struct driver *drv,
			  int round, int n)
{
	struct mem a, b;
	char name[IFNAMSIZ];
	int *fds = calloc(n, sizeof(int)), i;

	if (!fds)
		die("out of memory");
	cur_drv = drv->tag;
	mem_settle(&a);
	for (i = 0; i < n; i++) {
		fds[i] = tun_create(drv->node, wl->flags, name);
		if (fds[i] < 0)
			die("device %d of %d on %s: %s", i + 1, n, drv->node,
			    strerror(errno));
	}
	mem_settle(&b);
	if (round >= 0)
		emit_mem(wl, drv, round, &a, &b, n, "KiB/device",
			 "KiB slab+percpu/device", 1.0);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

/* Queue the workload's packets without reading, measure, read them back. */
static void round_mem_pkt(struct ctx *c, int round)
{
	struct mem a, b;
	unsigned int n = c->wl->batch;
	long drop0 = dev_stat(c->name, "tx_dropped");

	cur_drv = c->drv->tag;
	mem_settle(&a);
	send_batch(c, n);
	mem_settle(&b);
	if (dev_stat(c->name, "tx_dropped") != drop0)
		die("tx_dropped grew while queueing %u packets", n);
	if (round >= 0)
		emit_mem(c->wl, c->drv, round, &a, &b, n, "B/packet", NULL,
			 1024.0);
	alarmed = 0;
	alarm(10);
	read_batch(c, n, true);
	alarm(0);
}

/*
 * Move to a network namespace of our own, so that nothing else sends or
 * counts there, with a sysfs of our own that shows its devices.
 */
static void private_netns(void)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS))
		die("unshare(CLONE_NEWNET | CLONE_NEWNS): %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		die("making the mounts private: %s", strerror(errno));
	if (umount2("/sys", MNT_DETACH) && errno != EINVAL)
		die("umount /sys: %s", strerror(errno));
	if (mount("sysfs", "/sys", "sysfs", 0, NULL))
		die("mount sysfs: %s", strerror(errno));
}

/* ------------------------------------------------------------------ */
/* Instruction counts: markers for the QEMU plugin bench/icount.c      */

/*
 * "nopl 0x5254CCNN(%rax)": a NOP with a displacement no compiler emits;
 * the plugin reads command CC and operand NN from its bytes when QEMU
 * translates it.  Outside the plugin it does nothing.
 */
#define ICOUNT_MARK(cmd, arg)						\
	do {								\
		asm volatile(".byte 0x0f, 0x1f, 0x80, %c0, %c1, 0x54, 0x52" \
			     : : "i"(arg), "i"(cmd) : "memory");	\
	} while (0)
#define IC_ID_RESET	1
#define IC_ID_BIT	2
#define IC_START	3
#define IC_STOP		4
#define IC_DUMP		5

enum { PH_WRITE, PH_SEND, PH_READ };
static const char *const phase_name[] = { "write", "send", "read" };

/* The plugin's region of workload @w, driver @d, phase @ph (< 4096). */
static unsigned int icount_region_id(const struct workload *w, int d, int ph)
{
	return (unsigned int)(w - workloads) * 8 + d * 4 + ph;
}

/* Tell the plugin which region the next batch counts for, bit by bit. */
static void icount_region(unsigned int r)
{
	ICOUNT_MARK(IC_ID_RESET, 0);
#define IC_BIT(n) do { if (r & (1u << (n))) ICOUNT_MARK(IC_ID_BIT, n); } while (0)
	IC_BIT(0); IC_BIT(1); IC_BIT(2); IC_BIT(3); IC_BIT(4); IC_BIT(5);
	IC_BIT(6); IC_BIT(7); IC_BIT(8); IC_BIT(9); IC_BIT(10); IC_BIT(11);
#undef IC_BIT
}

/*
 * Operations per counted batch: short enough that most batches see no
 * timer tick (HZ=250 and the plugin slows TCG down), long enough to
 * average over what happens once every few operations.
 */
static unsigned int icount_batch(const struct workload *wl)
{
	if (wl->kind == K_WRITE)
		return wl->pkt.ip_len > 1500 ? 1 : wl->pkt.ip_len == 1500 ? 16 : 64;
	return wl->gso_type ? 1 : 32;
}

/* One counted batch of @b writes; the counters checked around it. */
static void icount_write(struct ctx *c, unsigned int region, unsigned int b)
{
	long rx0 = dev_stat(c->name, "rx_packets");
	long sink0 = sink_count(c->wl);
	unsigned int i, bad = 0;
	ssize_t ret = 0;

	if (rx0 < 0 || sink0 < 0)
		die("cannot read the counters of %s", c->name);
	icount_region(region);
	ICOUNT_MARK(IC_START, 0);
	for (i = 0; i < b; i++) {
		ret = write(c->fd, c->buf, c->len);
		if (ret != (ssize_t)c->len) {
			bad = 1;
			break;
		}
	}
	ICOUNT_MARK(IC_STOP, 0);
	if (bad)
		die("counted write %u of %zu bytes to %s returned %zd (%s)",
		    i + 1, c->len, c->name, ret,
		    ret < 0 ? strerror(errno) : "short write");
	if (dev_stat(c->name, "rx_packets") - rx0 != (long)b ||
	    sink_count(c->wl) - sink0 != (long)b)
		die("%u counted writes: rx_packets or the sink did not grow by as much",
		    b);
}

/* One counted batch of @b sends, then one of the reads they produce. */
static void icount_read(struct ctx *c, unsigned int rsend, unsigned int rread,
			unsigned int b, bool check)
{
	unsigned int i, bad = 0;
	ssize_t ret = 0;

	icount_region(rsend);
	ICOUNT_MARK(IC_START, 0);
	for (i = 0; i < b; i++) {
		ret = send(c->pfd, c->buf, c->len, 0);
		if (ret != (ssize_t)c->len) {
			bad = 1;
			break;
		}
	}
	ICOUNT_MARK(IC_STOP, 0);
	if (bad)
		die("counted AF_PACKET send of %zu bytes to %s returned %zd (%s)",
		    c->len, c->name, ret, ret < 0 ? strerror(errno) : "short");
	alarmed = 0;
	alarm(10);
	icount_region(rread);
	ICOUNT_MARK(IC_START, 0);
	read_batch(c, b, check);
	ICOUNT_MARK(IC_STOP, 0);
	alarm(0);
}

/* N counted batches per driver, alternating, after the warm-up. */
static void icount_workload(const struct workload *wl, struct ctx *ctx,
			    const struct opts *o)
{
	unsigned int b = icount_batch(wl), ops;
	struct sigaction sa = { .sa_handler = on_alarm };
	int n, k, d;
	long drop0[2];

	sigaction(SIGALRM, &sa, NULL);
	for (k = 0; k < o->ndrivers; k++)
		drop0[k] = dev_stat(ctx[k].name, "tx_dropped");
	for (n = 0; n < o->icount; n++) {
		for (k = 0; k < o->ndrivers; k++) {
			cur_drv = ctx[k].drv->tag;
			d = o->order[k];
			if (wl->kind == K_WRITE)
				icount_write(&ctx[k], icount_region_id(wl, d, PH_WRITE), b);
			else
				icount_read(&ctx[k], icount_region_id(wl, d, PH_SEND),
					    icount_region_id(wl, d, PH_READ), b,
					    n == 0);
		}
	}
	for (k = 0; k < o->ndrivers; k++) {
		d = o->order[k];
		if (wl->kind == K_READ &&
		    dev_stat(ctx[k].name, "tx_dropped") != drop0[k])
			die("tx_dropped grew during the counted batches");
		if (wl->kind == K_WRITE) {
			printf("%u,%s,%s,%s,%u,%d\n", icount_region_id(wl, d, PH_WRITE),
			       wl->id, drivers[d].tag, phase_name[PH_WRITE], b,
			       o->icount);
			continue;
		}
		/* Per read: a send gives ctx.segs reads. */
		ops = b * ctx[k].segs;
		printf("%u,%s,%s,%s,%u,%d\n", icount_region_id(wl, d, PH_SEND),
		       wl->id, drivers[d].tag, phase_name[PH_SEND], ops, o->icount);
		printf("%u,%s,%s,%s,%u,%d\n", icount_region_id(wl, d, PH_READ),
		       wl->id, drivers[d].tag, phase_name[PH_READ], ops, o->icount);
	}
}

static void run_workload(const struct workload *wl, const struct opts *o)
{
	struct ctx ctx[2];
	struct result r;
	int round, k;

	cur_wl = wl->id;
	note("%s: %s; %d rounds of %.2g s", wl->id, wl->what, o->rounds,
	     wl->kind == K_MEM_DEV || wl->kind == K_MEM_PKT ? 0 : o->seconds);
	if (o->icount && (wl->kind == K_MEM_DEV || wl->kind == K_MEM_PKT)) {
		note("%s: a memory workload, nothing to count", wl->id);
		return;
	}
	private_netns();
	pin_cpu(o->cpu);

	if (wl->kind == K_MEM_DEV) {
		/* One unmeasured round per driver warms the caches. */
		for (k = 0; k < o->ndrivers; k++)
			round_mem_dev(wl, &drivers[o->order[k]], -1, 16);
		for (round = 1; round <= o->rounds; round++)
			for (k = 0; k < o->ndrivers; k++)
				round_mem_dev(wl, &drivers[o->order[k]], round,
					      o->mem_devices);
		return;
	}

	for (k = 0; k < o->ndrivers; k++)
		ctx_setup(&ctx[k], wl, &drivers[o->order[k]]);

	if (wl->kind == K_MEM_PKT) {
		struct sigaction sa = { .sa_handler = on_alarm };

		sigaction(SIGALRM, &sa, NULL);
		for (k = 0; k < o->ndrivers; k++)
			round_mem_pkt(&ctx[k], -1);
		for (round = 1; round <= o->rounds; round++)
			for (k = 0; k < o->ndrivers; k++)
				round_mem_pkt(&ctx[k], round);
		for (k = 0; k < o->ndrivers; k++)
			ctx_close(&ctx[k]);
		return;
	}

	/* Warm-up: a short unrecorded round on each driver. */
	for (k = 0; k < o->ndrivers; k++) {
		cur_drv = ctx[k].drv->tag;
		memset(&r, 0, sizeof(r));
		if (wl->kind == K_WRITE)
			round_write(&ctx[k], 0.1, &r);
		else
			round_read(&ctx[k], 0.1, &r);
	}
	if (o->icount) {
		icount_workload(wl, ctx, o);
		for (k = 0; k < o->ndrivers; k++)
			ctx_close(&ctx[k]);
		return;
	}
	/*
	 * A round gives each driver o->seconds, in o->slices alternating
	 * slices (C, rtun, C, rtun, ...), so that both see the same machine
	 * even when other work on the host comes and goes.
	 */
	for (round = 1; round <= o->rounds; round++) {
		struct result res[2];
		int s;

		memset(res, 0, sizeof(res));
		for (s = 0; s < o->slices; s++) {
			for (k = 0; k < o->ndrivers; k++) {
				cur_drv = ctx[k].drv->tag;
				if (wl->kind == K_WRITE)
					round_write(&ctx[k], o->seconds / o->slices,
						    &res[k]);
				else
					round_read(&ctx[k], o->seconds / o->slices,
						   &res[k]);
			}
		}
		for (k = 0; k < o->ndrivers; k++) {
			const struct driver *drv = &drivers[o->order[k]];
			struct result *r = &res[k];

			if (wl->kind == K_WRITE) {
				emit(wl, "writes/s", 'h', drv, round,
				     r->ops / r->secs);
				if (wl->pkt.ip_len >= 1500)
					emit(wl, "Gbit/s", 'h', drv, round,
					     r->bytes * 8 / r->secs / 1e9);
			} else {
				emit(wl, "reads/s", 'h', drv, round,
				     r->rd_ops / r->rd_secs);
				emit(wl, "Gbit/s", 'h', drv, round,
				     (r->rd_bytes - r->rd_ops * VNET_HDR_LEN) *
				     8 / r->rd_secs / 1e9);
				emit(wl, "send+read pkts/s", 'h', drv, round,
				     r->rd_ops / r->secs);
			}
		}
	}
	for (k = 0; k < o->ndrivers; k++)
		ctx_close(&ctx[k]);
}

/* ------------------------------------------------------------------ */

static void usage(void)
{
	size_t i;

	fprintf(stderr,
		"usage: %s [--rounds N] [--seconds S] [--cpu N] [--order c,rust|rust,c|c|rust]\n"
		"          [--slices N] [--devices N] WORKLOAD...\n"
		"       %s --icount N [--cpu N] [--order ...] WORKLOAD...\n"
		"       %s list | icount-dump\n"
		"workloads:\n", prog, prog, prog);
	for (i = 0; i < N_WORKLOADS; i++)
		fprintf(stderr, "  %-16s %s\n", workloads[i].id,
			workloads[i].what);
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = { .rounds = 10, .seconds = 1.0, .cpu = 1,
			  .order = { 0, 1 }, .ndrivers = 2, .slices = 10,
			  .mem_devices = 100 };
	int i, nwl = 0;
	size_t w;
	const struct workload *todo[N_WORKLOADS * 2];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "list")) {
		for (w = 0; w < N_WORKLOADS; w++)
			printf("%s\n", workloads[w].id);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "icount-dump")) {
		ICOUNT_MARK(IC_DUMP, 0);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--rounds") && i + 1 < argc) {
			o.rounds = atoi(argv[++i]);
		} else if (!strcmp(a, "--seconds") && i + 1 < argc) {
			o.seconds = atof(argv[++i]);
		} else if (!strcmp(a, "--cpu") && i + 1 < argc) {
			o.cpu = atoi(argv[++i]);
		} else if (!strcmp(a, "--slices") && i + 1 < argc) {
			o.slices = atoi(argv[++i]);
		} else if (!strcmp(a, "--icount") && i + 1 < argc) {
			o.icount = atoi(argv[++i]);
			if (o.icount < 1)
				usage();
		} else if (!strcmp(a, "--devices") && i + 1 < argc) {
			o.mem_devices = atoi(argv[++i]);
		} else if (!strcmp(a, "--order") && i + 1 < argc) {
			a = argv[++i];
			if (!strcmp(a, "c,rust")) {
				o.order[0] = 0, o.order[1] = 1, o.ndrivers = 2;
			} else if (!strcmp(a, "rust,c")) {
				o.order[0] = 1, o.order[1] = 0, o.ndrivers = 2;
			} else if (!strcmp(a, "c") || !strcmp(a, "rust")) {
				o.order[0] = !strcmp(a, "rust"), o.ndrivers = 1;
			} else {
				usage();
			}
		} else if (a[0] == '-') {
			usage();
		} else {
			for (w = 0; w < N_WORKLOADS; w++)
				if (!strcmp(a, workloads[w].id))
					break;
			if (w == N_WORKLOADS) {
				fprintf(stderr, "%s: unknown workload '%s'\n",
					prog, a);
				usage();
			}
			if (nwl < (int)(sizeof(todo) / sizeof(todo[0])))
				todo[nwl++] = &workloads[w];
		}
	}
	if (!nwl || o.rounds < 1 || o.seconds <= 0 || o.mem_devices < 1 ||
	    o.slices < 1)
		usage();
	if (geteuid())
		die("must run as root (CAP_NET_ADMIN), in the test VM");
	for (i = 0; i < nwl; i++) {
		pid_t pid = fork();
		int st;

		/* Each workload in its own process and network namespace. */
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (!pid) {
			run_workload(todo[i], &o);
			exit(0);
		}
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			return 1;
	}
	return 0;
}
