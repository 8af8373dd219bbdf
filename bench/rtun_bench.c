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
 * (phase: write, send, read, or write+read for W9's XDP_TX, whose frame
 * comes back to be read).  W7 counts the 2-queue device driven from one
 * thread (see icount_mq()), W8 its writes with GRO merging as in the
 * timed run.  "icount-dump" makes the plugin write its results file.
 * Memory workloads have no operations to count.
 *
 * W6 (bench/w6-iperf.sh) is not here: it runs iperf3 through the
 * end-to-end test's forwarder, selftests/rtun/tun_fwd.  W7 (multiqueue)
 * and W8 (NAPI and GRO, with a sink of its own) are described in their
 * sections below.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/filter.h>
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

/*
 * Field @field of the "@table:" line pair of @path (/proc/net/snmp,
 * /proc/net/netstat: a header line of names, then one of values), or -1.
 */
static long proc_table_get(const char *path, const char *table,
			   const char *field)
{
	char hdr[8192], val[8192], *hs, *vs, *h, *v;
	size_t tl = strlen(table);
	long ret = -1;
	FILE *f = fopen(path, "re");

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

/* Field @field of the "@table:" lines of /proc/net/snmp, or -1. */
static long snmp_get(const char *table, const char *field)
{
	return proc_table_get("/proc/net/snmp", table, field);
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

enum kind { K_WRITE, K_READ, K_MEM_DEV, K_MEM_PKT, K_MQ_WRITE, K_MQ_READ, K_NAPI, K_XDP };

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
	uint8_t xdp;		/* W9: verdict + 1 of an XDP program (native), 0: none */
	bool sock_filter;	/* W9: an accept-all classic filter on the queue */
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
	{ "w7-mq-write", "W7: 46-byte writes, 2 queues and 2 threads (vCPUs 0, 1) against 1 and 1, TUN",
	  K_MQ_WRITE, TUN_NOPI | IFF_MULTI_QUEUE, { 4, L4_UDP, 46, false, true } },
	{ "w7-mq-read", "W7: 46-byte reads of flows steered to 2 queues and 2 readers against 1 and 1",
	  K_MQ_READ, TUN_NOPI | IFF_MULTI_QUEUE, { 4, L4_UDP, 46, false, false },
	  0, 0, false, 0, 1024 },
	{ "w8-napi", "W8: write 1500-byte TCP segments of one flow, TAP, IFF_NAPI (GRO merges)",
	  K_NAPI, TAP_NOPI | IFF_NAPI, { 4, L4_TCP, 1500, false, false, MAC_DEV } },
	{ "w8-napi-frags", "W8: the same with IFF_NAPI_FRAGS, writev() of headers and payload",
	  K_NAPI, TAP_NOPI | IFF_NAPI | IFF_NAPI_FRAGS,
	  { 4, L4_TCP, 1500, false, false, MAC_DEV } },
	{ "w9-xdp-drop", "W9: write 64-byte frames to a TAP, O_NONBLOCK, XDP_DROP (native)",
	  K_XDP, TAP_NOPI, { 4, L4_UDP, 50, false, true, MAC_DEV },
	  0, 0, true, 0, 0, XDP_DROP + 1 },
	{ "w9-xdp-tx", "W9: the same with XDP_TX, each frame read back from the fd",
	  K_XDP, TAP_NOPI, { 4, L4_UDP, 50, false, true, MAC_DEV },
	  0, 0, true, 0, 0, XDP_TX + 1 },
	{ "w9-read-tap", "W9: read 64-byte frames, TAP (the filter row's baseline)",
	  K_READ, TAP_NOPI | IFF_VNET_HDR, { 4, L4_UDP, 50, false, false, MAC_DEV },
	  0, 0, false, OFFL_ON, 256 },
	{ "w9-read-tap-filter", "W9: the same through an accept-all classic socket filter",
	  K_READ, TAP_NOPI | IFF_VNET_HDR, { 4, L4_UDP, 50, false, false, MAC_DEV },
	  0, 0, false, OFFL_ON, 256, 0, true },
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
		c->seg_bytes = VNET_HDR_LEN + wl->pkt.ip_len +
			       (wl->pkt.eth_dst ? ETH_HLEN : 0);
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
	if (wl->xdp) {
		int p = bpf_prog_return(BPF_PROG_TYPE_XDP, wl->xdp - 1);

		if (p < 0)
			die("BPF_PROG_LOAD of an XDP program: %s", strerror(errno));
		errno = -xdp_set(c->ifindex, p, XDP_FLAGS_DRV_MODE);
		if (errno)
			die("XDP program on %s: %s", c->name, strerror(errno));
		close(p);
	}
	if (wl->sock_filter) {
		struct sock_filter accept = BPF_STMT(BPF_RET | BPF_K, 0xffffffff);
		struct sock_fprog fp = { .len = 1, .filter = &accept };

		if (ioctl(c->fd, TUNATTACHFILTER, &fp))
			die("TUNATTACHFILTER on %s: %s", c->name, strerror(errno));
	}
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
	n = vnet || (wl->kind != K_WRITE && wl->kind != K_XDP) ? VNET_HDR_LEN : 0;
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

/*
 * The timed write loop of every write workload: write the prepared packet
 * for @secs seconds, reading the clock every 64 writes; @then, if set,
 * runs after each full write (W9's read-back).  A non-blocking
 * workload's EAGAIN is counted in *@again; any other failure ends the
 * run.  Returns the number of full writes and their time in *@secs_out.
 */
static unsigned long write_loop(struct ctx *c, double secs,
				void (*then)(struct ctx *c, unsigned long n),
				unsigned long *again, double *secs_out)
{
	unsigned long n = 0;
	double t0 = now(), t = t0, end = t0 + secs;
	ssize_t ret;
	int i;

	while (t < end) {
		for (i = 0; i < 64; i++) {
			ret = write(c->fd, c->buf, c->len);
			if (ret == (ssize_t)c->len) {
				if (then)
					then(c, n);
				n++;
				continue;
			}
			if (ret < 0 && errno == EAGAIN && c->wl->nonblock) {
				(*again)++;
				continue;
			}
			die("write %lu of %zu bytes to %s returned %zd (%s)",
			    n + 1, c->len, c->name, ret,
			    ret < 0 ? strerror(errno) : "short write");
		}
		t = now();
	}
	*secs_out = t - t0;
	return n;
}

/* Write the prepared packet for @secs seconds. */
static void round_write(struct ctx *c, double secs, struct result *r)
{
	long rx0 = dev_stat(c->name, "rx_packets");
	long sink0 = sink_count(c->wl), rx1, sink1;
	unsigned long n, again = 0;
	double t;

	if (rx0 < 0 || sink0 < 0)
		die("cannot read the counters of %s", c->name);
	n = write_loop(c, secs, NULL, &again, &t);
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
	r->secs += t;
}

/* W9's XDP_TX: the frame written must come back whole from the fd. */
static void read_back(struct ctx *c, unsigned long n)
{
	ssize_t ret = read(c->fd, c->rbuf, BUF_MAX);

	if (ret != (ssize_t)c->len)
		die("read %lu from %s returned %zd (%s), not the %zu-byte frame back",
		    n + 1, c->name, ret,
		    ret < 0 ? strerror(errno) : "other length", c->len);
}

/*
 * W9's counters after @n frames written to @c's TAP, from @rx0 and @d0:
 * XDP_TX sends each back (rx_packets), XDP_DROP drops each (rx_dropped,
 * rx_packets unchanged).
 */
static void xdp_check_counts(struct ctx *c, unsigned long n, long rx0, long d0)
{
	bool tx = c->wl->xdp == XDP_TX + 1;
	long rx1 = dev_stat(c->name, "rx_packets");
	long d1 = dev_stat(c->name, "rx_dropped");

	if (tx ? rx1 - rx0 != (long)n : d1 - d0 != (long)n || rx1 != rx0)
		die("%lu frames written: rx_packets grew by %ld, rx_dropped by %ld",
		    n, rx1 - rx0, d1 - d0);
}

/*
 * W9: write the prepared frame for @secs seconds to a TAP whose XDP
 * program drops it or, for XDP_TX, sends it back, read here at once.
 */
static void round_xdp(struct ctx *c, double secs, struct result *r)
{
	bool tx = c->wl->xdp == XDP_TX + 1;
	long rx0 = dev_stat(c->name, "rx_packets");
	long d0 = dev_stat(c->name, "rx_dropped");
	unsigned long n, again = 0;
	double t;

	if (rx0 < 0 || d0 < 0)
		die("cannot read the counters of %s", c->name);
	n = write_loop(c, secs, tx ? read_back : NULL, &again, &t);
	if (again)
		die("%lu of the writes to %s returned EAGAIN: XDP consumes every frame",
		    again, c->name);
	xdp_check_counts(c, n, rx0, d0);
	r->ops += n;
	r->bytes += (double)n * c->payload;
	r->secs += t;
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

/* One slice of a workload of round_write()'s, round_xdp()'s or round_read()'s kind. */
static void round_any(struct ctx *c, double secs, struct result *r)
{
	if (c->wl->kind == K_WRITE)
		round_write(c, secs, r);
	else if (c->wl->kind == K_XDP)
		round_xdp(c, secs, r);
	else
		round_read(c, secs, r);
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

/*
 * What a region counts: writes, the sends toward the device before a
 * read workload's reads, the reads, or (W9's XDP_TX) writes each with the
 * read of the frame XDP sent back.
 */
enum { PH_WRITE, PH_SEND, PH_READ, PH_WRITE_READ };
static const char *const phase_name[] = { "write", "send", "read", "write+read" };

static unsigned int icount_batch(const struct workload *wl);

/*
 * Before the counted batches, IC_WARM_BATCHES of each driver count into
 * region IC_REGION_WARMUP, which no row reports: a warm-up of a fixed
 * number of operations, not of a time as in the timed runs, so that the
 * counted batches start at the same point of every periodic thing (the
 * ring's batched discards, its wrap) in every boot.
 */
#define IC_WARM_BATCHES		4
#define IC_REGION_WARMUP	4095

/* Batch @n's region: @r, or during the warm-up (n < 0) IC_REGION_WARMUP. */
static unsigned int ic_region(int n, unsigned int r)
{
	return n < 0 ? IC_REGION_WARMUP : r;
}

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

/* Print the region line bench/guest-icount.sh collects. */
static void icount_row(const struct workload *wl, int d, int ph,
		       unsigned int ops, int batches)
{
	printf("%u,%s,%s,%s,%u,%d\n", icount_region_id(wl, d, ph), wl->id,
	       drivers[d].tag, phase_name[ph], ops, batches);
}

/* ------------------------------------------------------------------ */
/* W7: multiqueue, 1 queue against 2                                   */

/*
 * W7 runs, on each driver, a device with IFF_MULTI_QUEUE and 1 queue
 * driven by 1 thread on vCPU 1, and one with 2 queues driven by 2 threads
 * on vCPUs 0 and 1, each on its own queue; a slice runs C 1q, C 2q, rtun
 * 1q, rtun 2q.  The scaling factor of a driver is its 2-queue rate over
 * its 1-queue rate.  The threads (workers) live as long as the workload
 * and are handed one job at a time; the main thread waits for them.
 *
 * Write side: each thread writes its own flow (UDP source port 4000 + its
 * queue) of W1's 46-byte packets with the bad IPv4 header checksum.
 * Read side: the main thread sends a batch toward the device with an
 * AF_PACKET socket, as W4 does, half of it in flows that C's and rtun's
 * queue selection (by flow hash, no flow recorded: nothing is written)
 * puts on queue 0 and half in flows it puts on queue 1; the flows are
 * found at set-up by sending one packet of each of 64 source ports and
 * seeing which queue it arrives on.  Then each reader reads its half.
 */

#define MQ_MAX		2	/* queues of the multiqueue device */
#define MQ_PORT0	4000	/* the UDP source ports of W7's flows ... */
#define MQ_NPORTS	64	/* ... MQ_PORT0 to MQ_PORT0 + 63 */
#define MQ_FLOWS	4	/* flows kept per queue (read side) */
#define MQ_TIMEOUT	10	/* seconds a job may take beyond its slice */

enum mq_op { MQ_WRITE, MQ_READ };

struct mq_job {
	enum mq_op op;
	int fd;
	int queue;		/* for messages */
	const char *dev;	/* for messages */
	const unsigned char *buf;	/* MQ_WRITE: the packet */
	size_t len;		/* its length; MQ_READ: every packet's */
	double deadline;	/* MQ_WRITE: stop at this now() */
	unsigned int count;	/* MQ_READ: packets to read */
	uint64_t ports;		/* MQ_READ: bit p: source port MQ_PORT0 + p may come */
	unsigned long n;	/* writes or reads done */
	double t0, t1;		/* when the job ran */
};

struct mq_team;

struct mq_worker {
	pthread_t th;
	int cpu;		/* its vCPU, also its index */
	struct mq_team *team;
	pthread_cond_t go;
	bool pending;		/* a job is waiting */
	bool quit;
	struct mq_job job;
	unsigned char *rbuf;
};

struct mq_team {
	pthread_mutex_t lock;
	pthread_cond_t done;
	unsigned int ndone;
	struct mq_worker w[MQ_MAX];
};

/* One driver's devices: [0] with 1 queue, [1] with 2. */
struct mq_dev {
	char name[IFNAMSIZ];
	int nq;
	int fd[MQ_MAX];
	int pfd;		/* read side: AF_PACKET sender, or -1 */
};

struct mq_ctx {
	const struct driver *drv;
	struct mq_dev dev[2];
	int flow[MQ_MAX][MQ_FLOWS];	/* read side: ports (- MQ_PORT0) per queue */
	int nflow[MQ_MAX];
	unsigned int batch;	/* read side: packets sent, then read */
};

static void mq_job_run(struct mq_worker *w)
{
	struct mq_job *j = &w->job;
	unsigned int port;
	ssize_t ret;
	double t;
	int i;

	j->n = 0;
	j->t0 = t = now();
	if (j->op == MQ_WRITE) {
		while (t < j->deadline) {
			for (i = 0; i < 64; i++) {
				ret = write(j->fd, j->buf, j->len);
				if (ret != (ssize_t)j->len)
					die("write %lu of %zu bytes to queue %d of %s returned %zd (%s)",
					    j->n + 1, j->len, j->queue, j->dev,
					    ret, ret < 0 ? strerror(errno) :
					    "short write");
				j->n++;
			}
			t = now();
		}
		j->t1 = t;
		return;
	}
	while (j->n < j->count) {
		ret = read(j->fd, w->rbuf, BUF_MAX);
		if (ret != (ssize_t)j->len)
			die("read %lu of %u from queue %d of %s returned %zd (%s), expected %zu bytes",
			    j->n + 1, j->count, j->queue, j->dev, ret,
			    ret < 0 ? strerror(errno) : "wrong length",
			    j->len);
		/* The UDP source port, after a 20-byte IPv4 header. */
		port = get16(w->rbuf + 20) - MQ_PORT0;
		if (port >= MQ_NPORTS || !((j->ports >> port) & 1))
			die("queue %d of %s read a packet from port %u, a flow steered to another queue",
			    j->queue, j->dev, port + MQ_PORT0);
		j->n++;
	}
	j->t1 = now();
}

static void *mq_worker_main(void *arg)
{
	struct mq_worker *w = arg;
	struct mq_team *t = w->team;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		die("cannot pin a worker thread to vCPU %d", w->cpu);
	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (!w->pending && !w->quit)
			pthread_cond_wait(&w->go, &t->lock);
		if (w->quit)
			break;
		w->pending = false;
		pthread_mutex_unlock(&t->lock);
		mq_job_run(w);
		pthread_mutex_lock(&t->lock);
		t->ndone++;
		pthread_cond_signal(&t->done);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void mq_team_start(struct mq_team *t)
{
	int i, err;

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->done, NULL);
	for (i = 0; i < MQ_MAX; i++) {
		struct mq_worker *w = &t->w[i];

		w->cpu = i;
		w->team = t;
		pthread_cond_init(&w->go, NULL);
		w->rbuf = malloc(BUF_MAX);
		if (!w->rbuf)
			die("out of memory");
		err = pthread_create(&w->th, NULL, mq_worker_main, w);
		if (err)
			die("pthread_create: %s", strerror(err));
	}
}

static void mq_team_stop(struct mq_team *t)
{
	int i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < MQ_MAX; i++) {
		t->w[i].quit = true;
		pthread_cond_signal(&t->w[i].go);
	}
	pthread_mutex_unlock(&t->lock);
	for (i = 0; i < MQ_MAX; i++) {
		pthread_join(t->w[i].th, NULL);
		free(t->w[i].rbuf);
	}
}

/*
 * Run the jobs set in the workers of @mask and wait for them; @secs is how
 * long they are meant to take.  Returns the time from the first job's
 * start to the last one's end.
 */
static double mq_team_run(struct mq_team *t, unsigned int mask, double secs)
{
	double t0 = 1e300, t1 = 0;
	unsigned int n = 0;
	struct timespec dl;
	int i, err;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += MQ_TIMEOUT + (time_t)secs;
	pthread_mutex_lock(&t->lock);
	t->ndone = 0;
	for (i = 0; i < MQ_MAX; i++) {
		if (!(mask & (1u << i)))
			continue;
		t->w[i].pending = true;
		pthread_cond_signal(&t->w[i].go);
		n++;
	}
	while (t->ndone < n) {
		err = pthread_cond_timedwait(&t->done, &t->lock, &dl);
		if (err == ETIMEDOUT)
			die("%u of %u queue jobs did not finish within %d s of their time: a reader waits for packets that went elsewhere?",
			    n - t->ndone, n, MQ_TIMEOUT);
	}
	pthread_mutex_unlock(&t->lock);
	for (i = 0; i < MQ_MAX; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (t->w[i].job.t0 < t0)
			t0 = t->w[i].job.t0;
		if (t->w[i].job.t1 > t1)
			t1 = t->w[i].job.t1;
	}
	return t1 - t0;
}

/* 46-byte IPv4/UDP packets from port MQ_PORT0 + @port, for TUN. */
static size_t mq_pkt_build(unsigned char *out, int port, bool bad_ip_csum)
{
	struct pkt_desc d = {
		.ip.ipv = 4,
		.l4 = { .proto = IPPROTO_UDP, .sport = MQ_PORT0 + port },
		.payload = 46 - 20 - 8,
		.pattern = 8,
	};
	size_t len;

	pkt_desc_usual(&d);
	ip_desc_addrs(&d.ip, &pkt_addrs, NULL, NULL);
	len = pkt_put(out, &d, NULL);
	if (bad_ip_csum)
		put16(out + 10, get16(out + 10) ^ 0x5555);
	return len;
}

static long mq_tx_dropped(const struct mq_dev *d)
{
	return dev_stat(d->name, "tx_dropped");
}

static void mq_dev_setup(struct mq_dev *d, const struct workload *wl,
			 const struct driver *drv, int nq)
{
	int q;

	memset(d, 0, sizeof(*d));
	d->nq = nq;
	d->pfd = -1;
	d->fd[0] = tun_create(drv->node, wl->flags, d->name);
	if (d->fd[0] < 0)
		die("cannot create a multiqueue device on %s: %s", drv->node,
		    strerror(errno));
	for (q = 1; q < nq; q++) {
		d->fd[q] = dev_open(drv->node);
		if (d->fd[q] < 0 || set_iff(d->fd[q], d->name, wl->flags, NULL))
			die("cannot attach queue %d to %s: %s", q, d->name,
			    strerror(errno));
	}
	ipv6_off(d->name);
	if (wl->batch && set_txqlen(d->name, wl->batch + 100))
		die("cannot set the queue length of %s to %u: %s", d->name,
		    wl->batch + 100, strerror(errno));
	if (link_set(d->name, true))
		die("cannot bring %s up: %s", d->name, strerror(errno));
	if (wl->kind == K_MQ_READ) {
		struct sockaddr_ll sll = {
			.sll_family = AF_PACKET,
			.sll_protocol = htons(ETH_P_IP),
			.sll_ifindex = if_nametoindex(d->name),
		};
		int one = 8 << 20;

		d->pfd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
		if (d->pfd < 0)
			die("AF_PACKET socket: %s", strerror(errno));
		if (bind(d->pfd, (struct sockaddr *)&sll, sizeof(sll)))
			die("bind AF_PACKET to %s: %s", d->name,
			    strerror(errno));
		setsockopt(d->pfd, SOL_SOCKET, SO_SNDBUFFORCE, &one,
			   sizeof(one));
	}
}

static unsigned char mq_pkts[MQ_NPORTS][64];
static size_t mq_pkt_len;

/*
 * Which queue of the 2-queue device each flow lands on: one packet per
 * source port, read from whichever queue it arrives on, until each queue
 * has MQ_FLOWS flows (or the ports run out: at least one each).
 */
static void mq_find_flows(struct mq_ctx *c)
{
	struct mq_dev *d = &c->dev[1];
	unsigned char buf[256];
	struct pollfd pfd[MQ_MAX];
	int p, q, n;
	ssize_t ret;

	for (p = 0; p < MQ_NPORTS; p++) {
		if (c->nflow[0] == MQ_FLOWS && c->nflow[1] == MQ_FLOWS)
			break;
		ret = send(d->pfd, mq_pkts[p], mq_pkt_len, 0);
		if (ret != (ssize_t)mq_pkt_len)
			die("AF_PACKET send to %s returned %zd (%s)", d->name,
			    ret, ret < 0 ? strerror(errno) : "short");
		for (q = 0; q < MQ_MAX; q++)
			pfd[q] = (struct pollfd){ .fd = d->fd[q], .events = POLLIN };
		n = poll(pfd, MQ_MAX, 2000);
		if (n <= 0)
			die("the packet of port %d sent to %s reached no queue in 2 s",
			    MQ_PORT0 + p, d->name);
		for (q = 0; q < MQ_MAX; q++) {
			if (!(pfd[q].revents & POLLIN))
				continue;
			ret = read(d->fd[q], buf, sizeof(buf));
			if (ret != (ssize_t)mq_pkt_len ||
			    get16(buf + 20) != MQ_PORT0 + p)
				die("queue %d of %s: read %zd bytes, not port %d's %zu-byte packet",
				    q, d->name, ret, MQ_PORT0 + p, mq_pkt_len);
			if (c->nflow[q] < MQ_FLOWS)
				c->flow[q][c->nflow[q]++] = p;
		}
	}
	if (!c->nflow[0] || !c->nflow[1])
		die("of %d flows sent to %s, queue 0 got %d and queue 1 %d: cannot steer to both",
		    p, d->name, c->nflow[0], c->nflow[1]);
	note("%s %s: flows (source ports - %d) on queue 0: %d %d %d %d, on queue 1: %d %d %d %d (first %d of each; -1: none)",
	     c->drv->tag, d->name, MQ_PORT0,
	     c->flow[0][0], c->nflow[0] > 1 ? c->flow[0][1] : -1,
	     c->nflow[0] > 2 ? c->flow[0][2] : -1,
	     c->nflow[0] > 3 ? c->flow[0][3] : -1,
	     c->flow[1][0], c->nflow[1] > 1 ? c->flow[1][1] : -1,
	     c->nflow[1] > 2 ? c->flow[1][2] : -1,
	     c->nflow[1] > 3 ? c->flow[1][3] : -1, MQ_FLOWS);
}

/* Write for @secs on device @m (0: 1 queue, 1: 2 queues). */
static void mq_write_slice(struct mq_ctx *c, struct mq_team *t, int m,
			   double secs, struct result *r)
{
	struct mq_dev *d = &c->dev[m];
	long rx0 = dev_stat(d->name, "rx_packets");
	long sink0 = snmp_get("Ip", "InHdrErrors"), rx1, sink1;
	unsigned long n = 0;
	unsigned int mask = 0;
	double deadline = now() + secs, wall;
	int q;

	if (rx0 < 0 || sink0 < 0)
		die("cannot read the counters of %s", d->name);
	for (q = 0; q < d->nq; q++) {
		/* 1 queue: the thread on vCPU 1, as the other workloads. */
		struct mq_worker *w = &t->w[d->nq == 1 ? 1 : q];

		w->job = (struct mq_job){
			.op = MQ_WRITE, .fd = d->fd[q], .queue = q,
			.dev = d->name, .buf = mq_pkts[q], .len = mq_pkt_len,
			.deadline = deadline,
		};
		mask |= 1u << w->cpu;
	}
	wall = mq_team_run(t, mask, secs);
	for (q = 0; q < MQ_MAX; q++)
		if (mask & (1u << q))
			n += t->w[q].job.n;
	rx1 = dev_stat(d->name, "rx_packets");
	sink1 = snmp_get("Ip", "InHdrErrors");
	if (rx1 - rx0 != (long)n)
		die("%lu writes to %s succeeded but rx_packets grew by %ld", n,
		    d->name, rx1 - rx0);
	if (sink1 - sink0 != (long)n)
		die("%lu packets written to %s but Ip InHdrErrors counted %ld: they did not all die at the sink",
		    n, d->name, sink1 - sink0);
	r->ops += n;
	r->secs += wall;
}

/* Send a batch and read it back with the queues' readers, for @secs. */
static void mq_read_slice(struct mq_ctx *c, struct mq_team *t, int m,
			  double secs, struct result *r)
{
	struct mq_dev *d = &c->dev[m];
	long drop0 = mq_tx_dropped(d);
	unsigned int b = c->batch, i, mask;
	double end = now() + secs;
	uint64_t ports[MQ_MAX] = { 0 };
	ssize_t ret;
	int q, k;

	for (q = 0; q < MQ_MAX; q++)
		for (k = 0; k < c->nflow[q]; k++)
			ports[q] |= 1ull << c->flow[q][k];
	do {
		for (i = 0; i < b; i++) {
			q = i & 1;
			k = c->flow[q][(i >> 1) % c->nflow[q]];
			ret = send(d->pfd, mq_pkts[k], mq_pkt_len, 0);
			if (ret != (ssize_t)mq_pkt_len)
				die("AF_PACKET send to %s returned %zd (%s)",
				    d->name, ret,
				    ret < 0 ? strerror(errno) : "short");
		}
		mask = 0;
		for (q = 0; q < d->nq; q++) {
			struct mq_worker *w = &t->w[d->nq == 1 ? 1 : q];

			w->job = (struct mq_job){
				.op = MQ_READ, .fd = d->fd[q], .queue = q,
				.dev = d->name, .len = mq_pkt_len,
				.count = b / d->nq,
				.ports = d->nq == 1 ? ~0ull : ports[q],
			};
			mask |= 1u << w->cpu;
		}
		r->rd_secs += mq_team_run(t, mask, 0);
		r->rd_ops += b;
	} while (now() < end);
	if (mq_tx_dropped(d) != drop0)
		die("tx_dropped of %s grew: the batch overflowed a queue",
		    d->name);
}

/*
 * Counted W7, on the 2-queue device only and from one thread (the
 * benchmark's vCPU, --cpu): writes alternate between the two queues, each
 * with its own flow; reads send a batch whose flows the driver steers
 * half to each queue (as mq_read_slice()) and read it back from the two
 * queues in turn.  This counts what the multiqueue path costs per
 * operation (queue selection, per-queue state); the scaling only the
 * timed run shows: two threads counted at once would count their
 * contention too, which does not repeat from run to run.
 */
static void icount_mq_write(struct mq_ctx *c, unsigned int region,
			    unsigned int b)
{
	struct mq_dev *d = &c->dev[1];
	long rx0 = dev_stat(d->name, "rx_packets");
	long sink0 = snmp_get("Ip", "InHdrErrors");
	unsigned int i;
	ssize_t ret = 0;

	if (rx0 < 0 || sink0 < 0)
		die("cannot read the counters of %s", d->name);
	icount_region(region);
	ICOUNT_MARK(IC_START, 0);
	for (i = 0; i < b; i++) {
		ret = write(d->fd[i & 1], mq_pkts[i & 1], mq_pkt_len);
		if (ret != (ssize_t)mq_pkt_len)
			break;
	}
	ICOUNT_MARK(IC_STOP, 0);
	if (i < b)
		die("counted write %u to queue %u of %s returned %zd (%s)",
		    i + 1, i & 1, d->name, ret,
		    ret < 0 ? strerror(errno) : "short write");
	if (dev_stat(d->name, "rx_packets") - rx0 != (long)b ||
	    snmp_get("Ip", "InHdrErrors") - sink0 != (long)b)
		die("%u counted writes to %s: rx_packets or the sink did not grow by as much",
		    b, d->name);
}

static void icount_mq_read(struct mq_ctx *c, unsigned int rsend,
			   unsigned int rread, unsigned int b)
{
	static unsigned char rbuf[BUF_MAX];
	struct mq_dev *d = &c->dev[1];
	unsigned int i, q, port;
	ssize_t ret = 0;
	int k;

	icount_region(rsend);
	ICOUNT_MARK(IC_START, 0);
	for (i = 0; i < b; i++) {
		q = i & 1;
		k = c->flow[q][(i >> 1) % c->nflow[q]];
		ret = send(d->pfd, mq_pkts[k], mq_pkt_len, 0);
		if (ret != (ssize_t)mq_pkt_len)
			break;
	}
	ICOUNT_MARK(IC_STOP, 0);
	if (i < b)
		die("counted AF_PACKET send to %s returned %zd (%s)", d->name,
		    ret, ret < 0 ? strerror(errno) : "short");
	alarmed = 0;
	alarm(10);
	icount_region(rread);
	ICOUNT_MARK(IC_START, 0);
	for (i = 0; i < b; i++) {
		q = i & 1;
		ret = read(d->fd[q], rbuf, sizeof(rbuf));
		if (ret != (ssize_t)mq_pkt_len)
			break;
		/* The UDP source port, after a 20-byte IPv4 header. */
		port = get16(rbuf + 20) - MQ_PORT0;
		if (port != (unsigned int)c->flow[q][(i >> 1) % c->nflow[q]]) {
			ret = -2;
			break;
		}
	}
	ICOUNT_MARK(IC_STOP, 0);
	alarm(0);
	if (i < b)
		die("counted read %u from queue %u of %s returned %zd (%s)",
		    i + 1, i & 1, d->name, ret,
		    ret == -2 ? "another flow's packet" :
		    ret < 0 && errno == EINTR && alarmed ? "waited 10 s" :
		    ret < 0 ? strerror(errno) : "wrong length");
}

static void icount_mq(struct mq_ctx *ctx, const struct workload *wl,
		      const struct opts *o)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	unsigned int b = icount_batch(wl);
	bool rd = wl->kind == K_MQ_READ;
	long drop0[2];
	int n, k, d;

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: read gets EINTR */
	for (k = 0; k < o->ndrivers; k++)
		drop0[k] = mq_tx_dropped(&ctx[k].dev[1]);
	for (n = -IC_WARM_BATCHES; n < o->icount; n++) {
		for (k = 0; k < o->ndrivers; k++) {
			cur_drv = ctx[k].drv->tag;
			d = o->order[k];
			if (rd)
				icount_mq_read(&ctx[k], ic_region(n, icount_region_id(wl, d, PH_SEND)),
					       ic_region(n, icount_region_id(wl, d, PH_READ)), b);
			else
				icount_mq_write(&ctx[k], ic_region(n, icount_region_id(wl, d, PH_WRITE)), b);
		}
	}
	for (k = 0; k < o->ndrivers; k++) {
		d = o->order[k];
		if (mq_tx_dropped(&ctx[k].dev[1]) != drop0[k])
			die("tx_dropped of %s grew during the counted batches",
			    ctx[k].dev[1].name);
		if (!rd) {
			icount_row(wl, d, PH_WRITE, b, o->icount);
			continue;
		}
		icount_row(wl, d, PH_SEND, b, o->icount);
		icount_row(wl, d, PH_READ, b, o->icount);
	}
}

static void run_mq(const struct workload *wl, const struct opts *o)
{
	static const char *const rate[2][2] = {
		{ "1q writes/s", "2q writes/s" },
		{ "1q reads/s", "2q reads/s" },
	};
	bool rd = wl->kind == K_MQ_READ;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct result res[2][2];
	struct mq_ctx ctx[2];
	struct mq_team team;
	int round, s, k, m, q, p;

	if (ncpu < MQ_MAX)
		die("W7 needs %d vCPUs, the guest has %ld (RTUN_VM_CPUS)",
		    MQ_MAX, ncpu);
	for (p = 0; p < MQ_NPORTS; p++)
		mq_pkt_len = mq_pkt_build(mq_pkts[p], p, !rd);
	memset(ctx, 0, sizeof(ctx));
	for (k = 0; k < o->ndrivers; k++) {
		struct mq_ctx *c = &ctx[k];

		c->drv = &drivers[o->order[k]];
		cur_drv = c->drv->tag;
		c->batch = wl->batch;
		for (m = 0; m < 2; m++)
			mq_dev_setup(&c->dev[m], wl, c->drv, m + 1);
		if (rd)
			mq_find_flows(c);
	}
	if (o->icount) {
		icount_mq(ctx, wl, o);
		goto close;
	}
	mq_team_start(&team);
	/* Round 0 is the warm-up: one unrecorded 0.1 s slice of each. */
	for (round = 0; round <= o->rounds; round++) {
		int nsl = round ? o->slices : 1;
		double sl = round ? o->seconds / o->slices : 0.1;

		memset(res, 0, sizeof(res));
		for (s = 0; s < nsl; s++) {
			for (k = 0; k < o->ndrivers; k++) {
				cur_drv = ctx[k].drv->tag;
				for (m = 0; m < 2; m++) {
					if (rd)
						mq_read_slice(&ctx[k], &team, m,
							      sl, &res[k][m]);
					else
						mq_write_slice(&ctx[k], &team, m,
							       sl, &res[k][m]);
				}
			}
		}
		if (!round)
			continue;
		for (k = 0; k < o->ndrivers; k++) {
			double v[2];

			for (m = 0; m < 2; m++)
				v[m] = rd ? res[k][m].rd_ops / res[k][m].rd_secs :
					    res[k][m].ops / res[k][m].secs;
			emit(wl, rate[rd][0], 'h', ctx[k].drv, round, v[0]);
			emit(wl, rate[rd][1], 'h', ctx[k].drv, round, v[1]);
			emit(wl, "2q/1q scaling", 'h', ctx[k].drv, round,
			     v[1] / v[0]);
		}
	}
	mq_team_stop(&team);
close:
	for (k = 0; k < o->ndrivers; k++) {
		for (m = 0; m < 2; m++) {
			struct mq_dev *d = &ctx[k].dev[m];

			if (d->pfd >= 0)
				close(d->pfd);
			for (q = 0; q < d->nq; q++)
				close(d->fd[q]);
		}
	}
}

/* ------------------------------------------------------------------ */
/* W8: NAPI and GRO                                                    */

/*
 * W8 writes 1500-byte IPv4/TCP segments of one flow to a TAP device with
 * IFF_NAPI, or IFF_NAPI | IFF_NAPI_FRAGS (a writev() of two segments: the
 * 54 bytes of headers, then the 1460-byte payload), in frames addressed
 * to the device's MAC address: ACK only, sequence numbers following each
 * other, IPv4 ids counting up with DF, every checksum right (updated per
 * write as RFC 1624 says), so that GRO can merge them.  The device's
 * gro_flush_timeout is 1 ms: without it each IFF_NAPI write, whose NAPI
 * poll runs in the write's own softirq and finds one packet, has GRO
 * flushed when the poll completes, and nothing merges.  An IFF_NAPI_FRAGS
 * write hands its skb to GRO and completes the NAPI context with no work
 * done (napi_complete()), which flushes GRO whatever the timeout: in C a
 * write() never merges with the next one in that mode, and the count
 * says whether rtun does the same.  The last write of each slice sets
 * PSH, which makes GRO deliver what it holds of the flow.
 *
 * The sink: GRO checks checksums, so W1's bad IPv4 header checksum would
 * stop it merging.  These packets are right but addressed to 192.168.99.1
 * in a namespace with no address, no route and IPv4 forwarding off:
 * ip_route_input() finds no route and ip_error() drops each packet GRO
 * delivers, counting it in Ip InAddrErrors; no TCP code runs and nothing
 * is sent back.  The merged-segment count is what IpExt InNoECTPkts (+1
 * per segment: it counts a GRO packet's gso_segs) counts per Ip
 * InReceives (+1 per packet after GRO).
 */

#define W8_HDR		(ETH_HLEN + 20 + 20)	/* headers: first iovec segment */
#define W8_IP_LEN	1500
#define W8_GRO_FLUSH_NS	"1000000"

struct napi_ctx {
	const struct driver *drv;
	int fd;
	char name[IFNAMSIZ];
	bool frags;
	size_t len;
	unsigned char buf[ETH_HLEN + W8_IP_LEN];
};

/* A field of /proc/net/netstat (IpExt, TcpExt, ...), or -1. */
static long netstat_get(const char *table, const char *field)
{
	return proc_table_get("/proc/net/netstat", table, field);
}

/* RFC 1624: the checksum at @p after a 16-bit word went from @from to @to. */
static void csum_update16(unsigned char *p, uint16_t from, uint16_t to)
{
	uint32_t s = (uint16_t)~get16(p) + (uint16_t)~from + (uint32_t)to;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	put16(p, (uint16_t)~s);
}

/* Make the frame the next segment of the flow. */
static void napi_next(struct napi_ctx *c)
{
	unsigned char *ip = c->buf + ETH_HLEN, *th = ip + 20;
	uint32_t seq = get32(th + 4), nseq = seq + (c->len - W8_HDR);
	uint16_t id = get16(ip + 4);

	csum_update16(th + TCP_CSUM_OFF, seq >> 16, nseq >> 16);
	csum_update16(th + TCP_CSUM_OFF, seq & 0xffff, nseq & 0xffff);
	put32(th + 4, nseq);
	csum_update16(ip + 10, id, id + 1);
	put16(ip + 4, id + 1);
}

/* Set or clear PSH in the frame. */
static void napi_psh(struct napi_ctx *c, bool on)
{
	unsigned char *th = c->buf + ETH_HLEN + 20;
	uint16_t w = get16(th + 12);
	uint16_t nw = on ? (w | TCPF_PSH) : (w & ~TCPF_PSH);

	csum_update16(th + TCP_CSUM_OFF, w, nw);
	put16(th + 12, nw);
}

static void napi_write(struct napi_ctx *c, unsigned long n)
{
	struct iovec iov[2] = {
		{ c->buf, W8_HDR },
		{ c->buf + W8_HDR, c->len - W8_HDR },
	};
	ssize_t ret;

	ret = c->frags ? writev(c->fd, iov, 2) : write(c->fd, c->buf, c->len);
	if (ret != (ssize_t)c->len)
		die("write %lu of %zu bytes to %s returned %zd (%s)", n + 1,
		    c->len, c->name, ret,
		    ret < 0 ? strerror(errno) : "short write");
	napi_next(c);
}

static bool napi_csum_ok(const struct napi_ctx *c)
{
	const unsigned char *ip = c->buf + ETH_HLEN;

	return csum_fold(csum_add(0, ip, 20)) == 0xffff &&
	       l4_csum_ok(ip, ip + 20, IPPROTO_TCP, W8_IP_LEN - 20);
}

static void napi_setup(struct napi_ctx *c, const struct workload *wl,
		       const struct driver *drv)
{
	struct pkt_desc d = {
		.eth = true, .src = pkt_mac_src, .ip.ipv = 4,
		.l4 = { .proto = IPPROTO_TCP, .seq = 1, .flags = TCPF_ACK },
		.payload = W8_IP_LEN - 40, .pattern = 20,
	};
	unsigned char mac[6], save[sizeof(c->buf)];
	char path[128];
	int err, i;

	cur_drv = drv->tag;
	memset(c, 0, sizeof(*c));
	c->drv = drv;
	c->frags = wl->flags & IFF_NAPI_FRAGS;
	c->fd = tun_create(drv->node, wl->flags, c->name);
	if (c->fd < 0)
		die("cannot create a device with flags 0x%x on %s: %s",
		    wl->flags, drv->node, strerror(errno));
	ipv6_off(c->name);
	/* The sink: no address, no route, no forwarding (see above). */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding",
		 c->name);
	err = file_write("/proc/sys/net/ipv4/conf/all/forwarding", "0");
	if (!err)
		err = file_write(path, "0");
	if (err)
		die("cannot turn IPv4 forwarding off: %s", strerror(-err));
	snprintf(path, sizeof(path), "/sys/class/net/%s/gro_flush_timeout",
		 c->name);
	err = file_write(path, W8_GRO_FLUSH_NS);
	if (err)
		die("cannot write %s: %s", path, strerror(-err));
	if (link_set(c->name, true))
		die("cannot bring %s up: %s", c->name, strerror(errno));
	if (get_hwaddr(c->name, mac))
		die("SIOCGIFHWADDR %s: %s", c->name, strerror(errno));
	d.dst = mac;
	pkt_desc_usual(&d);
	ip_desc_addrs(&d.ip, &pkt_addrs, NULL, NULL);
	c->len = pkt_put(c->buf, &d, NULL);
	/* The checksums stay right over a wrap of either half of seq and id. */
	memcpy(save, c->buf, c->len);
	for (i = 1; i <= 70000; i++) {
		napi_next(c);
		if (i % 1000)
			continue;
		napi_psh(c, true);
		if (!napi_csum_ok(c))
			die("bad checksum after %d updates (bench bug)", i);
		napi_psh(c, false);
		if (!napi_csum_ok(c))
			die("bad checksum after %d updates (bench bug)", i);
	}
	memcpy(c->buf, save, c->len);
}

/* Write segments for @secs, then one with PSH; check where they went. */
static void napi_slice(struct napi_ctx *c, double secs, struct result *r)
{
	long rx0 = dev_stat(c->name, "rx_packets");
	long in0 = snmp_get("Ip", "InReceives");
	long err0 = snmp_get("Ip", "InAddrErrors");
	long seg0 = netstat_get("IpExt", "InNoECTPkts");
	long rx, in, err, seg;
	unsigned long n = 0;
	double t0 = now(), t = t0, end = t0 + secs, wait;
	int i;

	if (rx0 < 0 || in0 < 0 || err0 < 0 || seg0 < 0)
		die("cannot read the counters of %s", c->name);
	while (t < end) {
		for (i = 0; i < 64; i++)
			napi_write(c, n++);
		t = now();
	}
	napi_psh(c, true);
	napi_write(c, n++);
	napi_psh(c, false);
	t = now();
	/* GRO delivers in the write's softirq, unless ksoftirqd took it. */
	for (wait = t + 2; now() < wait; sleep_s(0.001))
		if (netstat_get("IpExt", "InNoECTPkts") - seg0 >= (long)n)
			break;
	rx = dev_stat(c->name, "rx_packets");
	in = snmp_get("Ip", "InReceives");
	err = snmp_get("Ip", "InAddrErrors");
	seg = netstat_get("IpExt", "InNoECTPkts");
	if (rx - rx0 != (long)n)
		die("%lu writes to %s succeeded but rx_packets grew by %ld", n,
		    c->name, rx - rx0);
	if (seg - seg0 != (long)n)
		die("%lu segments written to %s but IpExt InNoECTPkts counted %ld: not all reached IP",
		    n, c->name, seg - seg0);
	if (in - in0 < 1 || err - err0 != in - in0)
		die("Ip InReceives grew by %ld and InAddrErrors by %ld: not every packet died at the sink",
		    in - in0, err - err0);
	r->ops += n;
	r->bytes += (double)n * W8_IP_LEN;
	r->secs += t - t0;
	r->rd_ops += in - in0;
}

/*
 * Counted W8: batches of writes, the rx_packets check after each; after
 * the last batch a PSH segment, not counted, has GRO deliver what it
 * holds.  All in one flow, the warm-up batches first.
 */
static void icount_napi(struct napi_ctx *ctx, const struct workload *wl,
			const struct opts *o)
{
	unsigned int b = icount_batch(wl), i;
	long rx0;
	int n, k, d;

	for (n = -IC_WARM_BATCHES; n < o->icount; n++) {
		for (k = 0; k < o->ndrivers; k++) {
			struct napi_ctx *c = &ctx[k];

			cur_drv = c->drv->tag;
			d = o->order[k];
			rx0 = dev_stat(c->name, "rx_packets");
			if (rx0 < 0)
				die("cannot read the counters of %s", c->name);
			icount_region(ic_region(n, icount_region_id(wl, d, PH_WRITE)));
			ICOUNT_MARK(IC_START, 0);
			for (i = 0; i < b; i++)
				napi_write(c, i);
			ICOUNT_MARK(IC_STOP, 0);
			if (dev_stat(c->name, "rx_packets") - rx0 != (long)b)
				die("%u counted writes to %s: rx_packets did not grow by as much",
				    b, c->name);
		}
	}
	for (k = 0; k < o->ndrivers; k++) {
		napi_psh(&ctx[k], true);
		napi_write(&ctx[k], 0);
		napi_psh(&ctx[k], false);
		icount_row(wl, o->order[k], PH_WRITE, b, o->icount);
	}
}

static void run_napi(const struct workload *wl, const struct opts *o)
{
	struct napi_ctx ctx[2];
	struct result res[2];
	int round, s, k;

	for (k = 0; k < o->ndrivers; k++)
		napi_setup(&ctx[k], wl, &drivers[o->order[k]]);
	if (o->icount) {
		icount_napi(ctx, wl, o);
		for (k = 0; k < o->ndrivers; k++)
			close(ctx[k].fd);
		return;
	}
	/* Round 0 is the warm-up: one unrecorded 0.1 s slice of each. */
	for (round = 0; round <= o->rounds; round++) {
		int nsl = round ? o->slices : 1;
		double sl = round ? o->seconds / o->slices : 0.1;

		memset(res, 0, sizeof(res));
		for (s = 0; s < nsl; s++) {
			for (k = 0; k < o->ndrivers; k++) {
				cur_drv = ctx[k].drv->tag;
				napi_slice(&ctx[k], sl, &res[k]);
			}
		}
		if (!round)
			continue;
		for (k = 0; k < o->ndrivers; k++) {
			struct result *r = &res[k];

			emit(wl, "writes/s", 'h', ctx[k].drv, round,
			     r->ops / r->secs);
			emit(wl, "Gbit/s", 'h', ctx[k].drv, round,
			     r->bytes * 8 / r->secs / 1e9);
			emit(wl, "segments/GRO packet", 'h', ctx[k].drv, round,
			     r->ops / r->rd_ops);
		}
	}
	for (k = 0; k < o->ndrivers; k++)
		close(ctx[k].fd);
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

/*
 * Operations per counted batch: short enough that most batches see no
 * timer tick (HZ=250 and the plugin slows TCG down), long enough to
 * average over what happens once every few operations.
 */
static unsigned int icount_batch(const struct workload *wl)
{
	switch (wl->kind) {
	case K_WRITE:
		return wl->pkt.ip_len > 1500 ? 1 : wl->pkt.ip_len == 1500 ? 16 : 64;
	case K_MQ_WRITE:
		return 64;
	case K_NAPI:
		return 16;
	case K_READ:
		/*
		 * 16 GSO sends a batch with the offload on: the ring discards
		 * what was read every 16 reads, so each such batch of 64 KiB
		 * reads does it once.  With the offload off one send is 45
		 * reads.
		 */
		return wl->gso_type ? (wl->offloads ? 16 : 1) : 32;
	default:	/* W7's reads, W9's XDP writes */
		return 32;
	}
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

/*
 * One counted batch of @b writes to W9's TAP with its XDP program; with
 * XDP_TX each write is followed by the read of the frame sent back.
 * XDP_DROP must leave each frame in rx_dropped, XDP_TX in rx_packets.
 */
static void icount_xdp(struct ctx *c, unsigned int region, unsigned int b)
{
	bool tx = c->wl->xdp == XDP_TX + 1;
	long rx0 = dev_stat(c->name, "rx_packets");
	long d0 = dev_stat(c->name, "rx_dropped");
	const char *what = "write";
	unsigned int i;
	ssize_t ret = 0;

	if (rx0 < 0 || d0 < 0)
		die("cannot read the counters of %s", c->name);
	icount_region(region);
	ICOUNT_MARK(IC_START, 0);
	for (i = 0; i < b; i++) {
		ret = write(c->fd, c->buf, c->len);
		if (ret != (ssize_t)c->len)
			break;
		if (!tx)
			continue;
		ret = read(c->fd, c->rbuf, BUF_MAX);
		if (ret != (ssize_t)c->len) {
			what = "read-back";
			break;
		}
	}
	ICOUNT_MARK(IC_STOP, 0);
	if (i < b)
		die("counted %s %u of %zu bytes on %s returned %zd (%s)", what,
		    i + 1, c->len, c->name, ret,
		    ret < 0 ? strerror(errno) : "other length");
	xdp_check_counts(c, b, rx0, d0);
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
	for (n = -IC_WARM_BATCHES; n < o->icount; n++) {
		for (k = 0; k < o->ndrivers; k++) {
			cur_drv = ctx[k].drv->tag;
			d = o->order[k];
			if (wl->kind == K_WRITE)
				icount_write(&ctx[k], ic_region(n, icount_region_id(wl, d, PH_WRITE)), b);
			else if (wl->kind == K_XDP)
				icount_xdp(&ctx[k], ic_region(n, icount_region_id(wl, d,
					   wl->xdp == XDP_TX + 1 ? PH_WRITE_READ : PH_WRITE)), b);
			else
				icount_read(&ctx[k], ic_region(n, icount_region_id(wl, d, PH_SEND)),
					    ic_region(n, icount_region_id(wl, d, PH_READ)), b,
					    n == -IC_WARM_BATCHES);
		}
	}
	for (k = 0; k < o->ndrivers; k++) {
		d = o->order[k];
		if (wl->kind == K_READ &&
		    dev_stat(ctx[k].name, "tx_dropped") != drop0[k])
			die("tx_dropped grew during the counted batches");
		if (wl->kind == K_WRITE) {
			icount_row(wl, d, PH_WRITE, b, o->icount);
			continue;
		}
		if (wl->kind == K_XDP) {
			icount_row(wl, d, wl->xdp == XDP_TX + 1 ? PH_WRITE_READ :
				   PH_WRITE, b, o->icount);
			continue;
		}
		/* Per read: a send gives ctx.segs reads. */
		ops = b * ctx[k].segs;
		icount_row(wl, d, PH_SEND, ops, o->icount);
		icount_row(wl, d, PH_READ, ops, o->icount);
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
	/* Counted: every workload but the memory ones. */
	if (o->icount && (wl->kind == K_MEM_DEV || wl->kind == K_MEM_PKT)) {
		note("%s: no instruction counts for a memory workload", wl->id);
		return;
	}
	private_netns();
	pin_cpu(o->cpu);
	if (wl->kind == K_MQ_WRITE || wl->kind == K_MQ_READ) {
		run_mq(wl, o);
		return;
	}
	if (wl->kind == K_NAPI) {
		run_napi(wl, o);
		return;
	}

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

	if (o->icount) {	/* with a warm-up of its own */
		icount_workload(wl, ctx, o);
		for (k = 0; k < o->ndrivers; k++)
			ctx_close(&ctx[k]);
		return;
	}
	/* Warm-up: a short unrecorded round on each driver. */
	for (k = 0; k < o->ndrivers; k++) {
		cur_drv = ctx[k].drv->tag;
		memset(&r, 0, sizeof(r));
		round_any(&ctx[k], 0.1, &r);
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
				round_any(&ctx[k], o->seconds / o->slices, &res[k]);
			}
		}
		for (k = 0; k < o->ndrivers; k++) {
			const struct driver *drv = &drivers[o->order[k]];
			struct result *r = &res[k];

			if (wl->kind == K_WRITE || wl->kind == K_XDP) {
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
