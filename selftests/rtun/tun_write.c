// SPDX-License-Identifier: GPL-2.0
/*
 * Write path of tun drivers (tun_get_user() and virtio_net_hdr_to_skb()):
 * every test writes to a device of the C reference driver (/dev/net/tun,
 * variant c_tun) or of the Rust one (/dev/net/rtun, variant rtun) and checks
 * the write's result, the device's rx counters and what an AF_PACKET socket
 * bound to the device received, with the C driver's behaviour as the
 * expected one.  Needs root (CAP_NET_ADMIN) and both modules loaded.
 *
 * The packet socket reports each received skb with the virtio_net_hdr that
 * af_packet derives from it (PACKET_VNET_HDR) and its checksum state
 * (PACKET_AUXDATA), so the GSO and checksum metadata a write produced are
 * visible.  IPv6 is disabled on every test device and no test device has
 * an address, except in tcp_tso_stream, so that the stack transmits
 * nothing unasked; transmitted packets are told apart by sll_pkttype.
 */

#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/uio.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>

#include "kselftest_harness.h"
#include "rtun_test.h"
#include "pkt.h"

#define VNET_HDR_LEN	10	/* sizeof(struct virtio_net_hdr) */
#define PI_LEN		4	/* sizeof(struct tun_pi) */

#define NEEDS_CSUM	VIRTIO_NET_HDR_F_NEEDS_CSUM
#define DATA_VALID	VIRTIO_NET_HDR_F_DATA_VALID
#define GSO_TCPV4	VIRTIO_NET_HDR_GSO_TCPV4
#define GSO_UDP		VIRTIO_NET_HDR_GSO_UDP
#define GSO_TCPV6	VIRTIO_NET_HDR_GSO_TCPV6
#define GSO_UDP_L4	VIRTIO_NET_HDR_GSO_UDP_L4
#define GSO_ECN		VIRTIO_NET_HDR_GSO_ECN

/* How long a packet may take to reach the packet socket. */
#define RX_TIMEOUT_MS	2000
/* Largest packet a test receives: a 64 KiB GSO frame and its headers. */
#define RX_MAX		70000

/* A struct virtio_net_hdr with its fields in CPU order. */
struct vhdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* A device under test and the packet socket that watches it. */
struct tdev {
	int fd;			/* the tun fd, attached */
	int pfd;		/* AF_PACKET socket bound to the device */
	int flags;		/* TUNSETIFF flags */
	unsigned int hdr_sz;	/* vnet header size, with IFF_VNET_HDR */
	bool big_endian;	/* byte order of the vnet header we write */
	bool up;
	char name[IFNAMSIZ];
};

enum counter { CNT_NONE, CNT_DROPPED, CNT_FRAME };

/*
 * The outcome a write must have (C's): @err, the errno of a refused write
 * (0 if accepted), and @cnt, the counter it bumps; for an accepted write,
 * what the packet socket reports: @rx, the header (hdr_len is not
 * compared) and @proto, sll_protocol (0: from the packet), unless recv()
 * fails with @rx_err (EINVAL: a GSO type af_packet cannot describe, i.e.
 * UFO) or @no_rx (af_packet ignores empty packets).
 */
struct expect {
	int err;
	enum counter cnt;
	int rx_err;
	bool no_rx;
	uint16_t proto;
	struct vhdr rx;
};

#define ACCEPT(...)	{ .rx = { __VA_ARGS__ } }
#define REFUSE(e, c)	{ .err = (e), .cnt = (c) }
#define UFO_RX		{ .rx_err = EINVAL }

static const struct expect accepted = ACCEPT();

/* What a packet socket received. */
struct rx {
	struct vhdr vh;
	struct sockaddr_ll sll;
	struct tpacket_auxdata aux;
	bool has_aux;
	bool trunc;
	size_t len;
	unsigned char data[RX_MAX];
};

enum rx_dir { RX_IN, RX_OUT };

/* Device rx counters from sysfs. */
struct rx_stats {
	long packets, bytes, dropped, frame_errors;
};

/* How to build a test packet. */
struct pkt_spec {
	bool eth;			/* in an Ethernet header (TAP) */
	int ipv;			/* 4 or 6 */
	int proto;			/* IPPROTO_TCP or IPPROTO_UDP */
	size_t payload;			/* bytes after the transport header */
	bool partial;			/* checksum field: pseudo-header sum */
	uint8_t tcp_flags;		/* 0: ACK|PSH */
	uint32_t seq, ack;		/* TCP */
	uint16_t sport, dport;		/* 0: defaults */
	const unsigned char *src, *dst;	/* NULL: defaults */
	uint32_t pattern;		/* offset of the payload in pattern() */
};

/* A packet and where its headers are. */
struct pkt {
	size_t len;		/* bytes in data */
	size_t l4;		/* offset of the transport header */
	size_t hlen;		/* offset of the payload */
	unsigned char data[];
};

FIXTURE(tun_write) {
	struct tdev dev[2];
	int lfd;	/* TCP listener */
	int cfd;	/* accepted TCP connection */
};

FIXTURE_VARIANT(tun_write) {
	const char *node;	/* this driver's device node */
	unsigned char net;	/* 10.<net>.0.0/24 for tcp_tso_stream */
};

FIXTURE_VARIANT_ADD(tun_write, c_tun) {
	.node = "/dev/net/tun",
	.net = 201,
};

FIXTURE_VARIANT_ADD(tun_write, rtun) {
	.node = "/dev/net/rtun",
	.net = 202,
};

static void *xmalloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (!p) {
		perror("malloc");
		abort();
	}
	return p;
}

/*
 * An IPv4 or IPv6 TCP or UDP packet, in an Ethernet header if @s->eth,
 * with valid IP and transport checksums, or with the transport checksum
 * left partial (the pseudo header sum in the field) as a virtio driver
 * writes it for VIRTIO_NET_HDR_F_NEEDS_CSUM.
 */
static struct pkt *pkt_new(const struct pkt_spec *s)
{
	struct pkt_desc d = {
		.eth = s->eth, .dst = pkt_mac_dst, .src = pkt_mac_src,
		.ip.ipv = s->ipv,
		.l4 = {
			.proto = s->proto, .sport = s->sport, .dport = s->dport,
			.seq = s->seq, .ack = s->ack, .flags = s->tcp_flags,
		},
		.payload = s->payload, .pattern = s->pattern,
		.partial = s->partial,
	};
	struct pkt_layout o;
	struct pkt *p;

	pkt_desc_usual(&d);
	ip_desc_addrs(&d.ip, &pkt_addrs, s->src, s->dst);
	p = xmalloc(sizeof(*p) + pkt_len(&d));
	p->len = pkt_put(p->data, &d, &o);
	p->l4 = o.l4;
	p->hlen = o.hlen;
	return p;
}

/* A packet of @ipv and @proto with @payload bytes, partial if @partial. */
static struct pkt *pkt_simple(bool eth, int ipv, int proto, size_t payload,
			      bool partial)
{
	struct pkt_spec s = {
		.eth = eth, .ipv = ipv, .proto = proto, .payload = payload,
		.partial = partial,
	};

	return pkt_new(&s);
}

/*
 * The header a virtio driver writes for @p: checksum from the transport
 * header, GSO @gso_type of @gso_size.
 */
static struct vhdr vhdr_for(const struct pkt *p, uint8_t gso_type,
			    uint16_t gso_size)
{
	bool tcp = p->hlen - p->l4 == 20;

	return (struct vhdr){
		.flags = NEEDS_CSUM,
		.gso_type = gso_type,
		.hdr_len = p->hlen,
		.gso_size = gso_size,
		.csum_start = p->l4,
		.csum_offset = tcp ? TCP_CSUM_OFF : UDP_CSUM_OFF,
	};
}

/* The packet socket's view of an skb built from @h as written. */
static struct expect seen(const struct vhdr *h)
{
	struct expect e = ACCEPT(.gso_type = h->gso_type,
				 .gso_size = h->gso_type ? h->gso_size : 0);

	if (h->flags & NEEDS_CSUM) {
		e.rx.flags = NEEDS_CSUM;
		e.rx.csum_start = h->csum_start;
		e.rx.csum_offset = h->csum_offset;
	}
	return e;
}

/* The same view when the payload fits one segment: not GSO. */
static struct expect seen_plain(const struct vhdr *h)
{
	struct expect e = seen(h);

	e.rx.gso_type = 0;
	e.rx.gso_size = 0;
	return e;
}

static bool tdev_tap(const struct tdev *d)
{
	return (d->flags & (IFF_TUN | IFF_TAP)) == IFF_TAP;
}

static bool tdev_pi(const struct tdev *d)
{
	return !(d->flags & IFF_NO_PI);
}

static bool tdev_vnet(const struct tdev *d)
{
	return d->flags & IFF_VNET_HDR;
}

/* Bytes a writer puts in front of the packet on @d. */
static size_t tdev_prefix(const struct tdev *d)
{
	return (tdev_pi(d) ? PI_LEN : 0) + (tdev_vnet(d) ? d->hdr_sz : 0);
}

/* The protocol the stack gets for @pkt on @d (PI devices: the PI's). */
static uint16_t pkt_proto(const struct tdev *d, const unsigned char *pkt,
			  size_t len)
{
	if (tdev_tap(d))
		return len >= ETH_HLEN ? get16(pkt + 12) : 0;
	return len && pkt[0] >> 4 == 6 ? ETH_P_IPV6 : ETH_P_IP;
}

static void put_vnet16(unsigned char *p, uint16_t v, bool big_endian)
{
	if (big_endian) {
		put16(p, v);
	} else {
		p[0] = v;
		p[1] = v >> 8;
	}
}

/*
 * A write for @d: the PI (protocol @proto) and the vnet header @h (NULL:
 * zeroes) as the device's flags want, then @len bytes of @pkt.  Header
 * bytes past the 10th are garbage, which the driver must skip.
 */
static unsigned char *frame_new(const struct tdev *d, const struct vhdr *h,
				uint16_t proto, const unsigned char *pkt,
				size_t len, size_t *flen)
{
	static const struct vhdr zero;
	size_t off = 0, i;
	unsigned char *f;

	if (!h)
		h = &zero;
	*flen = tdev_prefix(d) + len;
	f = xmalloc(*flen);
	if (tdev_pi(d)) {
		put16(f, 0);
		put16(f + 2, proto);
		off = PI_LEN;
	}
	if (tdev_vnet(d)) {
		f[off] = h->flags;
		f[off + 1] = h->gso_type;
		put_vnet16(f + off + 2, h->hdr_len, d->big_endian);
		put_vnet16(f + off + 4, h->gso_size, d->big_endian);
		put_vnet16(f + off + 6, h->csum_start, d->big_endian);
		put_vnet16(f + off + 8, h->csum_offset, d->big_endian);
		for (i = VNET_HDR_LEN; i < d->hdr_sz; i++)
			f[off + i] = 0xa5 ^ i;
		off += d->hdr_sz;
	}
	if (len)
		memcpy(f + off, pkt, len);
	return f;
}

static void stats_read(const struct tdev *d, struct rx_stats *s)
{
	s->packets = sysfs_num(d->name, "statistics/rx_packets");
	s->bytes = sysfs_num(d->name, "statistics/rx_bytes");
	s->dropped = sysfs_num(d->name, "statistics/rx_dropped");
	s->frame_errors = sysfs_num(d->name, "statistics/rx_frame_errors");
}

/* Each counter of @s was read (sysfs_num() gives -1 for an error). */
static void expect_stats_read(struct __test_metadata *_metadata,
			      const struct tdev *d, const struct rx_stats *s,
			      const char *what, const char *when)
{
	EXPECT_LE(0, s->packets)
		TH_LOG("%s: cannot read rx_packets of %s %s", what, d->name,
		       when);
	EXPECT_LE(0, s->bytes)
		TH_LOG("%s: cannot read rx_bytes of %s %s", what, d->name,
		       when);
	EXPECT_LE(0, s->dropped)
		TH_LOG("%s: cannot read rx_dropped of %s %s", what, d->name,
		       when);
	EXPECT_LE(0, s->frame_errors)
		TH_LOG("%s: cannot read rx_frame_errors of %s %s", what,
		       d->name, when);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * The next packet in direction @dir on @d's packet socket, waiting up to
 * @timeout_ms.  Returns 0, -ETIMEDOUT, or -errno of recvmsg() (EINVAL for
 * a GSO type af_packet cannot describe, which consumes the packet).
 */
static int rx_next(const struct tdev *d, struct rx *r, enum rx_dir dir,
		   int timeout_ms)
{
	char cbuf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	struct pollfd pfd = { .fd = d->pfd, .events = POLLIN };
	struct virtio_net_hdr vh;
	struct iovec iov[2] = {
		{ .iov_base = &vh, .iov_len = sizeof(vh) },
		{ .iov_base = r->data, .iov_len = sizeof(r->data) },
	};
	struct timespec t0;
	struct cmsghdr *cm;
	struct msghdr msg;
	long left;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		left = timeout_ms - ms_since(&t0);
		n = poll(&pfd, 1, left > 0 ? left : 0);
		if (n < 0)
			return -errno;
		if (!n)
			return -ETIMEDOUT;
		memset(&msg, 0, sizeof(msg));
		memset(&r->sll, 0, sizeof(r->sll));
		msg.msg_name = &r->sll;
		msg.msg_namelen = sizeof(r->sll);
		msg.msg_iov = iov;
		msg.msg_iovlen = 2;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		n = recvmsg(d->pfd, &msg, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0)
			return -errno;
		if ((r->sll.sll_pkttype == PACKET_OUTGOING) != (dir == RX_OUT))
			continue;
		if (n < VNET_HDR_LEN)
			return -EPROTO;
		/* af_packet writes the header in the host's byte order. */
		r->vh = (struct vhdr){
			.flags = vh.flags,
			.gso_type = vh.gso_type,
			.hdr_len = vh.hdr_len,
			.gso_size = vh.gso_size,
			.csum_start = vh.csum_start,
			.csum_offset = vh.csum_offset,
		};
		r->len = n - VNET_HDR_LEN;
		r->trunc = msg.msg_flags & MSG_TRUNC;
		r->has_aux = false;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level == SOL_PACKET &&
			    cm->cmsg_type == PACKET_AUXDATA) {
				memcpy(&r->aux, CMSG_DATA(cm), sizeof(r->aux));
				r->has_aux = true;
			}
		}
		return 0;
	}
}

static void tdev_set_up(struct __test_metadata *_metadata, struct tdev *d,
			bool up)
{
	socklen_t len = sizeof(int);
	int err;

	ASSERT_EQ(0, link_set(d->name, up))
		TH_LOG("%s %s: %s", up ? "up" : "down", d->name,
		       strerror(errno));
	d->up = up;
	/*
	 * A packet socket bound to a device that is or goes down holds
	 * ENETDOWN for its next recv(): clear it.
	 */
	if (up) {
		ASSERT_EQ(0, getsockopt(d->pfd, SOL_SOCKET, SO_ERROR, &err,
					&len));
	}
}

static void tdev_close(struct tdev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->pfd >= 0)
		close(d->pfd);
	d->fd = -1;
	d->pfd = -1;
}

/*
 * Create a device with @flags on @node, with a packet socket bound to it
 * (vnet header and auxdata on), and bring it up if @up.
 */
static void tdev_open(struct __test_metadata *_metadata, struct tdev *d,
		      const char *node, int flags, bool up)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	int one = 1;

	tdev_close(d);
	memset(d, 0, sizeof(*d));
	d->pfd = -1;
	d->flags = flags;
	d->hdr_sz = VNET_HDR_LEN;
	d->big_endian = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
	d->fd = dev_open(node);
	ASSERT_LE(0, d->fd) TH_LOG("open %s: %s", node, strerror(errno));
	ASSERT_EQ(0, set_iff(d->fd, "", flags, d->name))
		TH_LOG("TUNSETIFF 0x%x: %s", flags, strerror(errno));
	ASSERT_EQ(0, ipv6_disable(d->name));
	sll.sll_ifindex = sysfs_num(d->name, "ifindex");
	ASSERT_LT(0, sll.sll_ifindex);
	/* No protocol yet: nothing is queued before bind() picks the device. */
	d->pfd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, d->pfd) TH_LOG("AF_PACKET: %s", strerror(errno));
	ASSERT_EQ(0, setsockopt(d->pfd, SOL_PACKET, PACKET_VNET_HDR, &one,
				sizeof(one)));
	ASSERT_EQ(0, setsockopt(d->pfd, SOL_PACKET, PACKET_AUXDATA, &one,
				sizeof(one)));
	ASSERT_EQ(0, bind(d->pfd, (struct sockaddr *)&sll, sizeof(sll)))
		TH_LOG("bind to %s: %s", d->name, strerror(errno));
	if (up)
		tdev_set_up(_metadata, d, true);
}

/* TUNSETVNETHDRSZ on @d, remembered for the writes. */
static void tdev_set_hdr_sz(struct __test_metadata *_metadata,
			    struct tdev *d, int sz)
{
	ASSERT_EQ(0, ioctl(d->fd, TUNSETVNETHDRSZ, &sz))
		TH_LOG("TUNSETVNETHDRSZ %d: %s", sz, strerror(errno));
	d->hdr_sz = sz;
}

/* The packet the stack received on @d must be @pkt, as @e describes. */
static void expect_rx(struct __test_metadata *_metadata, struct tdev *d,
		      const unsigned char *pkt, size_t len, uint16_t proto,
		      const struct expect *e, const char *what)
{
	bool gso = e->rx.gso_type, csum = e->rx.flags & NEEDS_CSUM;
	bool gso_tcp = gso && (e->rx.gso_type & ~GSO_ECN) != GSO_UDP_L4;
	uint32_t status;
	struct rx r;
	size_t i;
	int ret;

	ret = rx_next(d, &r, RX_IN, RX_TIMEOUT_MS);
	if (e->rx_err) {
		EXPECT_EQ(-e->rx_err, ret)
			TH_LOG("%s: packet socket: %s, expected %s", what,
			       ret ? strerror(-ret) : "a packet",
			       strerror(e->rx_err));
		return;
	}
	EXPECT_EQ(0, ret)
		TH_LOG("%s: nothing received: %s", what, strerror(-ret));
	if (ret)
		return;
	EXPECT_EQ(len, r.len) TH_LOG("%s: received %zu bytes, wrote %zu",
				     what, r.len, len);
	EXPECT_FALSE(r.trunc) TH_LOG("%s: truncated", what);
	if (r.len == len && memcmp(pkt, r.data, len)) {
		for (i = 0; pkt[i] == r.data[i]; i++)
			;
		EXPECT_EQ(pkt[i], r.data[i])
			TH_LOG("%s: bytes differ at %zu", what, i);
	}
	EXPECT_EQ(proto, ntohs(r.sll.sll_protocol))
		TH_LOG("%s: sll_protocol 0x%04x, expected 0x%04x", what,
		       ntohs(r.sll.sll_protocol), proto);
	EXPECT_EQ(tdev_tap(d) ? PACKET_OTHERHOST : PACKET_HOST,
		  r.sll.sll_pkttype) TH_LOG("%s: sll_pkttype", what);
	EXPECT_EQ(e->rx.flags, r.vh.flags) TH_LOG("%s: vnet flags", what);
	EXPECT_EQ(e->rx.gso_type, r.vh.gso_type)
		TH_LOG("%s: gso_type 0x%x, expected 0x%x", what,
		       r.vh.gso_type, e->rx.gso_type);
	EXPECT_EQ(e->rx.gso_size, r.vh.gso_size) TH_LOG("%s: gso_size", what);
	EXPECT_EQ(e->rx.csum_start, r.vh.csum_start)
		TH_LOG("%s: csum_start", what);
	EXPECT_EQ(e->rx.csum_offset, r.vh.csum_offset)
		TH_LOG("%s: csum_offset", what);
	/* hdr_len is skb_headlen() for GSO: it holds at least the headers. */
	if (!gso) {
		EXPECT_EQ(0, r.vh.hdr_len) TH_LOG("%s: hdr_len", what);
	} else if (csum) {
		EXPECT_LE(e->rx.csum_start + e->rx.csum_offset + 2,
			  r.vh.hdr_len) TH_LOG("%s: hdr_len %u", what,
					       r.vh.hdr_len);
	}
	EXPECT_TRUE(r.has_aux) TH_LOG("%s: no PACKET_AUXDATA", what);
	if (!r.has_aux)
		return;
	/* DATA_VALID from the writer is ignored: never CSUM_VALID. */
	status = TP_STATUS_USER | (csum ? TP_STATUS_CSUMNOTREADY : 0) |
		 (gso_tcp ? TP_STATUS_GSO_TCP : 0);
	EXPECT_EQ(status, r.aux.tp_status)
		TH_LOG("%s: tp_status 0x%x, expected 0x%x", what,
		       r.aux.tp_status, status);
	EXPECT_EQ(len, r.aux.tp_len) TH_LOG("%s: tp_len", what);
	EXPECT_EQ(tdev_tap(d) ? ETH_HLEN : 0, r.aux.tp_net)
		TH_LOG("%s: tp_net %u", what, r.aux.tp_net);
}

/*
 * After a refused write: a marker packet written now must be the next
 * packet the stack receives, so the refused write delivered nothing and
 * left the device usable.
 */
static void expect_quiet(struct __test_metadata *_metadata, struct tdev *d,
			 const char *what)
{
	static uint32_t seq;
	struct pkt_spec s = {
		.eth = tdev_tap(d), .ipv = 4, .proto = IPPROTO_UDP,
		.payload = 12, .pattern = 0x5000 + 16 * ++seq,
	};
	struct pkt *p = pkt_new(&s);
	unsigned char *f;
	struct rx r;
	size_t flen;
	ssize_t ret;

	f = frame_new(d, NULL, ETH_P_IP, p->data, p->len, &flen);
	ret = write(d->fd, f, flen);
	EXPECT_EQ((ssize_t)flen, ret)
		TH_LOG("%s: marker write: %s", what, strerror(errno));
	if (ret == (ssize_t)flen) {
		ret = rx_next(d, &r, RX_IN, RX_TIMEOUT_MS);
		EXPECT_EQ(0, ret) TH_LOG("%s: marker not received: %s", what,
					 strerror(-ret));
		EXPECT_TRUE(ret || (r.len == p->len &&
				    !memcmp(r.data, p->data, p->len)))
			TH_LOG("%s: refused, yet %zu bytes were received",
			       what, r.len);
	}
	free(f);
	free(p);
}

/*
 * write() (one segment) or writev() @iov to @d and check the outcome
 * against @e: the return value or errno, the rx counters, and, if
 * accepted, that the stack received @pkt (@len bytes) as @e says; if
 * refused, that it received nothing.
 *
 * C's TAP devices have no ndo_get_stats64, so the rx_frame_errors that
 * tun_get_user() counts never show for TAP: a header refused by
 * virtio_net_hdr_to_skb() leaves a TAP device's counters unchanged.
 */
static void check_writev(struct __test_metadata *_metadata, struct tdev *d,
			 const struct iovec *iov, int iovcnt,
			 const unsigned char *pkt, size_t len,
			 const struct expect *e, const char *what)
{
	uint16_t proto = e->proto ? e->proto : pkt_proto(d, pkt, len);
	struct rx_stats b, a;
	size_t total = 0;
	ssize_t ret;
	int i, err;

	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	stats_read(d, &b);
	errno = 0;
	if (iovcnt == 1)
		ret = write(d->fd, iov[0].iov_base, iov[0].iov_len);
	else
		ret = writev(d->fd, iov, iovcnt);
	err = errno;
	stats_read(d, &a);
	expect_stats_read(_metadata, d, &b, what, "before");
	expect_stats_read(_metadata, d, &a, what, "after");
	if (e->err) {
		EXPECT_EQ(-1, ret) TH_LOG("%s: accepted (%zd), expected %s",
					  what, ret, strerror(e->err));
		EXPECT_EQ(e->err, err) TH_LOG("%s: %s, expected %s", what,
					      strerror(err), strerror(e->err));
	} else {
		EXPECT_EQ((ssize_t)total, ret)
			TH_LOG("%s: returned %zd (%s), expected %zu", what,
			       ret, strerror(err), total);
	}
	EXPECT_EQ(e->err ? 0 : 1, a.packets - b.packets)
		TH_LOG("%s: rx_packets +%ld", what, a.packets - b.packets);
	EXPECT_EQ(e->err ? 0 : (long)len, a.bytes - b.bytes)
		TH_LOG("%s: rx_bytes +%ld", what, a.bytes - b.bytes);
	EXPECT_EQ(e->err && e->cnt == CNT_DROPPED, a.dropped - b.dropped)
		TH_LOG("%s: rx_dropped +%ld", what, a.dropped - b.dropped);
	EXPECT_EQ(e->err && e->cnt == CNT_FRAME && !tdev_tap(d),
		  a.frame_errors - b.frame_errors)
		TH_LOG("%s: rx_frame_errors +%ld", what,
		       a.frame_errors - b.frame_errors);
	if (e->err || e->no_rx) {
		if (d->up)
			expect_quiet(_metadata, d, what);
	} else if (ret == (ssize_t)total) {
		expect_rx(_metadata, d, pkt, len, proto, e, what);
	}
}

/* Write header @h (NULL: zeroes) and @len bytes of @pkt; see check_writev. */
static void check_write(struct __test_metadata *_metadata, struct tdev *d,
			const struct vhdr *h, const unsigned char *pkt,
			size_t len, const struct expect *e, const char *what)
{
	uint16_t proto = e->proto ? e->proto : pkt_proto(d, pkt, len);
	struct iovec iov;
	unsigned char *f;

	f = frame_new(d, h, proto, pkt, len, &iov.iov_len);
	iov.iov_base = f;
	check_writev(_metadata, d, &iov, 1, pkt, len, e, what);
	free(f);
}

/* check_write() of a whole packet. */
static void check_pkt(struct __test_metadata *_metadata, struct tdev *d,
		      const struct vhdr *h, const struct pkt *p,
		      const struct expect *e, const char *what)
{
	check_write(_metadata, d, h, p->data, p->len, e, what);
}

/* Write @len raw bytes (PI and header included); see check_writev. */
static void check_raw(struct __test_metadata *_metadata, struct tdev *d,
		      const void *buf, size_t len, const struct expect *e,
		      const char *what)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	size_t pre = tdev_prefix(d);
	struct expect ex = *e;

	if (!ex.proto && tdev_pi(d) && len >= PI_LEN)
		ex.proto = get16((const unsigned char *)buf + 2);
	if (len < pre)
		pre = len;
	check_writev(_metadata, d, &iov, 1, (const unsigned char *)buf + pre,
		     len - pre, &ex, what);
}

FIXTURE_SETUP(tun_write)
{
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(self->dev); i++) {
		self->dev[i].fd = -1;
		self->dev[i].pfd = -1;
	}
	self->lfd = -1;
	self->cfd = -1;
	fd = dev_open(variant->node);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", variant->node, strerror(errno));
	close(fd);
}

FIXTURE_TEARDOWN(tun_write)
{
	unsigned int i;

	if (self->cfd >= 0)
		close(self->cfd);
	if (self->lfd >= 0)
		close(self->lfd);
	for (i = 0; i < ARRAY_SIZE(self->dev); i++)
		tdev_close(&self->dev[i]);
}

/* TUN without PI: IPv4 and IPv6 packets of any size reach the stack. */
TEST_F(tun_write, tun_ip_accepted)
{
	static const struct {
		const char *what;
		int ipv, proto;
		size_t payload;
	} tests[] = {
		{ "IPv4 UDP", 4, IPPROTO_UDP, 32 },
		{ "IPv4 TCP", 4, IPPROTO_TCP, 100 },
		{ "IPv6 UDP", 6, IPPROTO_UDP, 32 },
		{ "IPv6 TCP, no payload", 6, IPPROTO_TCP, 0 },
		{ "IPv4 over the MTU, 9000 bytes", 4, IPPROTO_UDP, 9000 - 28 },
		{ "IPv6 of 5000 bytes", 6, IPPROTO_TCP, 5000 - 60 },
	};
	static const unsigned char v4[] = { 0x45 }, v6[] = { 0x60 };
	struct tdev *d = &self->dev[0];
	unsigned int i;
	struct pkt *p;

	tdev_open(_metadata, d, variant->node, IFF_TUN | IFF_NO_PI, true);
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		p = pkt_simple(false, tests[i].ipv, tests[i].proto,
			       tests[i].payload, false);
		check_pkt(_metadata, d, NULL, p, &accepted, tests[i].what);
		free(p);
	}
	/* tun looks at the version nibble only. */
	check_write(_metadata, d, NULL, v4, 1, &accepted, "1 byte, version 4");
	check_write(_metadata, d, NULL, v6, 1, &accepted, "1 byte, version 6");
}

/* TUN without PI: empty, or IP version not 4 or 6: EINVAL, rx_dropped. */
TEST_F(tun_write, tun_ip_refused)
{
	static const unsigned char first[] = { 0x00, 0x10, 0x35, 0x50, 0x7f,
					       0xf6 };
	static const struct expect refused = REFUSE(EINVAL, CNT_DROPPED);
	struct tdev *d = &self->dev[0];
	unsigned int i;
	struct pkt *p;
	char what[64];

	tdev_open(_metadata, d, variant->node, IFF_TUN | IFF_NO_PI, true);
	check_write(_metadata, d, NULL, NULL, 0, &refused, "empty packet");
	for (i = 0; i < ARRAY_SIZE(first); i++) {
		snprintf(what, sizeof(what), "1 byte 0x%02x", first[i]);
		check_write(_metadata, d, NULL, &first[i], 1, &refused, what);
	}
	p = pkt_simple(false, 4, IPPROTO_UDP, 64, false);
	p->data[0] = 0x55;
	check_pkt(_metadata, d, NULL, p, &refused, "IPv4 packet, version 5");
	p->data[0] = 0x4f;
	check_pkt(_metadata, d, NULL, p, &accepted,
		  "version 4 with a bad IHL: not tun's business");
	free(p);
}

/* TUN with PI: shorter than the PI is EINVAL; the PI's proto is used. */
TEST_F(tun_write, tun_pi)
{
	static const struct expect refused = REFUSE(EINVAL, CNT_NONE);
	static const unsigned char pi_only[] = { 0, 0, 0x08, 0x00 };
	static const unsigned char other[] = {
		0xff, 0xff, 0x88, 0xb5, 'n', 'o', 't', ' ', 'I', 'P',
	};
	struct expect e = accepted;
	struct tdev *d = &self->dev[0];
	struct pkt *p4, *p6;
	unsigned int len;
	char what[64];

	tdev_open(_metadata, d, variant->node, IFF_TUN, true);
	for (len = 0; len < PI_LEN; len++) {
		snprintf(what, sizeof(what), "%u bytes", len);
		check_raw(_metadata, d, pi_only, len, &refused, what);
	}
	/* Counted, but af_packet ignores empty packets. */
	e.no_rx = true;
	check_raw(_metadata, d, pi_only, sizeof(pi_only), &e,
		  "PI only: an empty packet");
	e.no_rx = false;
	check_raw(_metadata, d, other, sizeof(other), &accepted,
		  "PI flags 0xffff, proto 0x88b5, not IP");

	p4 = pkt_simple(false, 4, IPPROTO_UDP, 20, false);
	p6 = pkt_simple(false, 6, IPPROTO_UDP, 20, false);
	e.proto = ETH_P_IP;
	check_pkt(_metadata, d, NULL, p4, &e, "proto IPv4, IPv4 packet");
	check_pkt(_metadata, d, NULL, p6, &e, "proto IPv4, IPv6 packet");
	e.proto = ETH_P_IPV6;
	check_pkt(_metadata, d, NULL, p4, &e, "proto IPv6, IPv4 packet");
	/* No IP version check with a PI. */
	p4->data[0] = 0x55;
	e.proto = ETH_P_IP;
	check_pkt(_metadata, d, NULL, p4, &e, "proto IPv4, version 5");
	free(p4);
	free(p6);
}

/* TAP: shorter than an Ethernet header is EINVAL, without a counter. */
TEST_F(tun_write, tap_lengths)
{
	static const struct expect refused = REFUSE(EINVAL, CNT_NONE);
	static const unsigned int short_lens[] = { 0, 1, 6, 13 };
	struct tdev *d = &self->dev[0];
	unsigned char eth[ETH_HLEN];
	struct pkt *p;
	unsigned int i;
	char what[64];

	tdev_open(_metadata, d, variant->node, IFF_TAP | IFF_NO_PI, true);
	p = pkt_simple(true, 4, IPPROTO_UDP, 32, false);
	for (i = 0; i < ARRAY_SIZE(short_lens); i++) {
		snprintf(what, sizeof(what), "%u bytes", short_lens[i]);
		check_raw(_metadata, d, p->data, short_lens[i], &refused, what);
	}
	memcpy(eth, p->data, 12);
	put16(eth + 12, 0x88b5);
	check_raw(_metadata, d, eth, sizeof(eth), &accepted,
		  "Ethernet header only");
	check_pkt(_metadata, d, NULL, p, &accepted, "IPv4 UDP frame");
	free(p);
	p = pkt_simple(true, 6, IPPROTO_TCP, 9000, false);
	check_pkt(_metadata, d, NULL, p, &accepted, "IPv6 TCP, 9074 bytes");
	free(p);
}

/* TAP with a vnet header: hdr_len 1..13 is EINVAL, even once raised. */
TEST_F(tun_write, tap_hdr_len)
{
	static const struct expect refused = REFUSE(EINVAL, CNT_NONE);
	static const struct {
		const char *what;
		struct vhdr h;
		struct expect e;
	} tests[] = {
		{ "hdr_len 1", { .hdr_len = 1 }, REFUSE(EINVAL, CNT_NONE) },
		{ "hdr_len 13", { .hdr_len = 13 }, REFUSE(EINVAL, CNT_NONE) },
		{ "hdr_len 14", { .hdr_len = 14 }, ACCEPT() },
		{ "hdr_len 60", { .hdr_len = 60 }, ACCEPT() },
		{ "NEEDS_CSUM 7+4 raises hdr_len to 13",
		  { .flags = NEEDS_CSUM, .csum_start = 7, .csum_offset = 4 },
		  REFUSE(EINVAL, CNT_NONE) },
		{ "NEEDS_CSUM 0+12 raises hdr_len to 14, transport at 0",
		  { .flags = NEEDS_CSUM, .csum_offset = 12 },
		  REFUSE(EINVAL, CNT_FRAME) },
	};
	struct tdev *d = &self->dev[0];
	struct vhdr h = { 0 };
	struct pkt *p;
	unsigned int i;

	tdev_open(_metadata, d, variant->node,
		  IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, true);
	p = pkt_simple(true, 4, IPPROTO_UDP, 32, false);	/* 74 bytes */
	for (i = 0; i < ARRAY_SIZE(tests); i++)
		check_pkt(_metadata, d, &tests[i].h, p, &tests[i].e,
			  tests[i].what);
	h.hdr_len = p->len;
	check_pkt(_metadata, d, &h, p, &accepted, "hdr_len == len");
	h.hdr_len = p->len + 1;
	check_pkt(_metadata, d, &h, p, &refused, "hdr_len == len + 1");
	check_write(_metadata, d, NULL, p->data, ETH_HLEN - 1, &refused,
		    "13-byte frame after the header");
	free(p);
}

/* ---- UDP tunnel GSO (Linux 7.x) ---- */

#define GSO_TNL4	0x20	/* VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4 */
#define GSO_TNL6	0x40	/* VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6 */
#define F_TNL_CSUM	0x08	/* VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM */
#define TNL_HDR_SZ	24	/* struct virtio_net_hdr_v1_hash_tunnel */

/*
 * A TCPv4-in-GENEVE-in-IPv4 frame with @payload bytes, built by pkt.h's
 * tnl_put(): outer UDP at 34, inner IP at 64, inner TCP at 84.
 */
static unsigned char *geneve_frame(size_t payload, size_t *len)
{
	struct tnl_desc t = {
		.outer = { .eth = true, .dst = pkt_mac_dst, .src = pkt_mac_src,
			   .ip.ipv = 4,
			   .l4 = { .proto = IPPROTO_UDP, .sport = 40000,
				   .dport = GENEVE_PORT } },
		.vni = 1,
		.outer_csum = TNL_CSUM_NONE,
		.inner = { .eth = true, .dst = pkt_mac_dst, .src = pkt_mac_src,
			   .ip.ipv = 4, .l4.proto = IPPROTO_TCP,
			   .payload = payload, .partial = true },
	};
	unsigned char *f;

	ip_desc_addrs(&t.outer.ip, &pkt_addrs, NULL, NULL);
	ip_desc_addrs(&t.inner.ip, &pkt_addrs, NULL, NULL);
	pkt_desc_usual(&t.outer);
	pkt_desc_usual(&t.inner);
	*len = tnl_len(&t);
	f = xmalloc(*len);
	tnl_put(f, &t, NULL);
	return f;
}

/*
 * Write @f of @len bytes on @d with header @h and tunnel offsets
 * @outer_th and @inner_nh in header bytes 20..23 (little endian).
 */
static void check_tnl_write(struct __test_metadata *_metadata, struct tdev *d,
			    const struct vhdr *h, uint16_t outer_th,
			    uint16_t inner_nh, const unsigned char *f,
			    size_t len, const struct expect *e,
			    const char *what)
{
	struct iovec iov;
	unsigned char *fr;

	fr = frame_new(d, h, ETH_P_IP, f, len, &iov.iov_len);
	if (d->hdr_sz >= TNL_HDR_SZ) {
		fr[20] = outer_th & 0xff;
		fr[21] = outer_th >> 8;
		fr[22] = inner_nh & 0xff;
		fr[23] = inner_nh >> 8;
	}
	iov.iov_base = fr;
	check_writev(_metadata, d, &iov, 1, f, len, e, what);
	free(fr);
}

/*
 * UDP tunnel GSO on write (virtio_net_hdr_tnl_to_skb()): with a header of
 * at least 24 bytes on 7.x, the tunnel bits, NEEDS_CSUM and offsets that
 * leave room for each header make an encapsulated GSO packet (a packet
 * socket sees its inner TCP GSO); every other combination is refused as a
 * frame error, and 6.12 refuses the bits as an unknown GSO type.
 */
TEST_F(tun_write, udp_tunnel_gso)
{
	static const struct {
		uint8_t flags, gso_type;
		uint16_t csum_start, outer_th, inner_nh;
		int hdr_sz;
		bool ok;	/* on 7.x */
		const char *what;
	} tests[] = {
		{ NEEDS_CSUM, GSO_TCPV4 | GSO_TNL4, 84, 34, 64, 24, true,
		  "tcpv4 in ipv4" },
		{ NEEDS_CSUM | F_TNL_CSUM, GSO_TCPV4 | GSO_TNL4, 84, 34, 64, 32,
		  true, "with the tunnel checksum, 32-byte header" },
		{ NEEDS_CSUM, GSO_TCPV4 | GSO_TNL4, 84, 34, 64, 12, false,
		  "12-byte header" },
		{ NEEDS_CSUM, GSO_TCPV4 | GSO_TNL4 | GSO_TNL6, 84, 34, 64, 24,
		  false, "both families" },
		{ NEEDS_CSUM, GSO_TNL4, 84, 34, 64, 24, false, "no inner type" },
		{ NEEDS_CSUM, GSO_UDP | GSO_TNL4, 84, 34, 64, 24, false,
		  "inner UFO" },
		{ 0, GSO_TCPV4 | GSO_TNL4, 84, 34, 64, 24, false,
		  "no NEEDS_CSUM" },
		{ NEEDS_CSUM, GSO_TCPV4 | GSO_TNL4, 84, 33, 64, 24, false,
		  "outer header too short" },
		{ NEEDS_CSUM, GSO_TCPV4 | GSO_TNL4, 84, 34, 41, 24, false,
		  "inner header inside the outer UDP header" },
		{ NEEDS_CSUM, GSO_TCPV4 | GSO_TNL4, 83, 34, 64, 24, false,
		  "inner transport inside the inner IP header" },
		{ NEEDS_CSUM, GSO_TCPV4 | GSO_TNL6, 84, 34, 64, 24, false,
		  "IPv6 outer offsets too short" },
	};
	static const struct expect frame = REFUSE(EINVAL, CNT_FRAME);
	struct tdev *d = &self->dev[1];
	unsigned char *f;
	struct expect e;
	unsigned int i;
	struct vhdr h;
	size_t len;

	tdev_open(_metadata, d, variant->node,
		  IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, true);
	f = geneve_frame(3000, &len);
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		tdev_set_hdr_sz(_metadata, d, tests[i].hdr_sz);
		h = (struct vhdr){ .flags = tests[i].flags,
				   .gso_type = tests[i].gso_type,
				   .gso_size = 1000,
				   .csum_start = tests[i].csum_start,
				   .csum_offset = TCP_CSUM_OFF };
		if (tests[i].ok && kernel_at_least(7, 0)) {
			e = seen(&h);
			e.rx.flags = NEEDS_CSUM;
			e.rx.gso_type = GSO_TCPV4;
		} else {
			e = frame;
		}
		check_tnl_write(_metadata, d, &h, tests[i].outer_th,
				tests[i].inner_nh, f, len, &e, tests[i].what);
	}
	free(f);
}

/* TUNSETVNETHDRSZ: at least 10, no maximum; TUNGETVNETHDRSZ returns it. */
TEST_F(tun_write, vnet_hdr_sz_ioctl)
{
	static const int bad[] = { 9, 1, 0, -1, -10, INT32_MIN };
	static const int good[] = { 12, 20, 11, 4096, 65536, INT32_MAX, 10 };
	static const struct expect refused = REFUSE(EINVAL, CNT_NONE);
	struct tdev *d = &self->dev[0];
	unsigned char buf[100] = { 0 };
	struct rx_stats b, a;
	unsigned int i;
	int sz;

	tdev_open(_metadata, d, variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	sz = 0;
	ASSERT_EQ(0, ioctl(d->fd, TUNGETVNETHDRSZ, &sz));
	EXPECT_EQ(VNET_HDR_LEN, sz) TH_LOG("default size %d", sz);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		sz = bad[i];
		EXPECT_EQ(-1, ioctl(d->fd, TUNSETVNETHDRSZ, &sz))
			TH_LOG("size %d accepted", bad[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("size %d: %s", bad[i],
						strerror(errno));
		sz = 0;
		EXPECT_EQ(0, ioctl(d->fd, TUNGETVNETHDRSZ, &sz));
		EXPECT_EQ(VNET_HDR_LEN, sz) TH_LOG("after %d: %d", bad[i], sz);
	}
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		sz = good[i];
		EXPECT_EQ(0, ioctl(d->fd, TUNSETVNETHDRSZ, &sz))
			TH_LOG("size %d: %s", good[i], strerror(errno));
		sz = 0;
		EXPECT_EQ(0, ioctl(d->fd, TUNGETVNETHDRSZ, &sz));
		EXPECT_EQ(good[i], sz);
		if (good[i] > (int)sizeof(buf) && good[i] <= 65536) {
			d->hdr_sz = good[i];
			check_raw(_metadata, d, buf, sizeof(buf), &refused,
				  "100 bytes, header larger");
		}
	}
	/* No overflow with the largest size (no marker: it would not fit). */
	sz = INT32_MAX;
	ASSERT_EQ(0, ioctl(d->fd, TUNSETVNETHDRSZ, &sz));
	stats_read(d, &b);
	EXPECT_EQ(-1, write(d->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno) TH_LOG("size INT_MAX: %s", strerror(errno));
	stats_read(d, &a);
	expect_stats_read(_metadata, d, &b, "size INT_MAX", "before");
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a))) TH_LOG("counters changed");
	tdev_set_hdr_sz(_metadata, d, VNET_HDR_LEN);
	expect_quiet(_metadata, d, "size INT_MAX");
}

/*
 * Header sizes 10, 12 and 20 on TUN and TAP: a write shorter than the
 * header is EINVAL without a counter; the bytes past the 10th (garbage
 * here) are skipped.
 */
TEST_F(tun_write, vnet_hdr_sizes)
{
	static const struct expect refused = REFUSE(EINVAL, CNT_NONE);
	static const int sizes[] = { 10, 12, 20 };
	static const int types[] = { IFF_TUN, IFF_TAP };
	static const unsigned char zero[20];
	struct expect empty, e;
	unsigned int t, i;
	struct pkt *p, *g;
	struct tdev *d;
	struct vhdr h;
	char what[80];

	for (t = 0; t < ARRAY_SIZE(types); t++) {
		d = &self->dev[t];
		tdev_open(_metadata, d, variant->node,
			  types[t] | IFF_NO_PI | IFF_VNET_HDR, true);
		p = pkt_simple(tdev_tap(d), 4, IPPROTO_UDP, 40, true);
		g = pkt_simple(tdev_tap(d), 4, IPPROTO_TCP, 300, true);
		/* Empty packet: TUN checks the IP version, TAP the length. */
		empty = (struct expect)REFUSE(EINVAL, tdev_tap(d) ?
					      CNT_NONE : CNT_DROPPED);
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			tdev_set_hdr_sz(_metadata, d, sizes[i]);
			snprintf(what, sizeof(what), "%s, size %d: %d bytes",
				 d->name, sizes[i], sizes[i] - 1);
			check_raw(_metadata, d, zero, sizes[i] - 1, &refused,
				  what);
			snprintf(what, sizeof(what), "%s, size %d: 0 bytes",
				 d->name, sizes[i]);
			check_raw(_metadata, d, zero, 0, &refused, what);
			snprintf(what, sizeof(what), "%s, size %d: header only",
				 d->name, sizes[i]);
			check_raw(_metadata, d, zero, sizes[i], &empty, what);

			snprintf(what, sizeof(what), "%s, size %d: plain",
				 d->name, sizes[i]);
			h = (struct vhdr){ 0 };
			check_pkt(_metadata, d, &h, p, &accepted, what);
			snprintf(what, sizeof(what), "%s, size %d: NEEDS_CSUM",
				 d->name, sizes[i]);
			h = vhdr_for(p, 0, 0);
			e = seen(&h);
			check_pkt(_metadata, d, &h, p, &e, what);
			snprintf(what, sizeof(what), "%s, size %d: TCPV4 GSO",
				 d->name, sizes[i]);
			h = vhdr_for(g, GSO_TCPV4, 100);
			e = seen(&h);
			check_pkt(_metadata, d, &h, g, &e, what);
		}
		free(p);
		free(g);
	}
}

/* TUNSETVNETLE/BE pick the byte order of the header fields. */
TEST_F(tun_write, vnet_byte_order)
{
	static const struct expect wrong = REFUSE(EINVAL, CNT_NONE);
	static const struct {
		const char *what;
		int le, be;
		int big;	/* -1: the host's order */
	} modes[] = {
		{ "native", 0, 0, -1 },
		{ "LE", 1, 0, 0 },
		{ "BE", 0, 1, 1 },
		{ "LE and BE: LE wins", 1, 1, 0 },
		{ "LE 5 and BE 7", 5, 7, 0 },
		{ "back to native", 0, 0, -1 },
	};
	bool host_be = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
	struct tdev *d = &self->dev[0];
	struct expect e;
	struct vhdr h;
	struct pkt *p;
	unsigned int i;
	char what[80];
	int v;

	tdev_open(_metadata, d, variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	v = -1;
	EXPECT_EQ(0, ioctl(d->fd, TUNGETVNETLE, &v));
	EXPECT_EQ(0, v) TH_LOG("default TUNGETVNETLE %d", v);
	v = -1;
	EXPECT_EQ(0, ioctl(d->fd, TUNGETVNETBE, &v))
		TH_LOG("TUNGETVNETBE: %s", strerror(errno));
	EXPECT_EQ(0, v) TH_LOG("default TUNGETVNETBE %d", v);

	p = pkt_simple(false, 4, IPPROTO_TCP, 300, true);
	h = vhdr_for(p, GSO_TCPV4, 100);
	e = seen(&h);
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		v = modes[i].le;
		EXPECT_EQ(0, ioctl(d->fd, TUNSETVNETLE, &v))
			TH_LOG("%s: TUNSETVNETLE: %s", modes[i].what,
			       strerror(errno));
		v = modes[i].be;
		EXPECT_EQ(0, ioctl(d->fd, TUNSETVNETBE, &v))
			TH_LOG("%s: TUNSETVNETBE: %s", modes[i].what,
			       strerror(errno));
		v = -1;
		EXPECT_EQ(0, ioctl(d->fd, TUNGETVNETLE, &v));
		EXPECT_EQ(!!modes[i].le, v) TH_LOG("%s: TUNGETVNETLE %d",
						   modes[i].what, v);
		v = -1;
		EXPECT_EQ(0, ioctl(d->fd, TUNGETVNETBE, &v));
		EXPECT_EQ(!!modes[i].be, v) TH_LOG("%s: TUNGETVNETBE %d",
						   modes[i].what, v);

		d->big_endian = modes[i].big < 0 ? host_be : modes[i].big;
		snprintf(what, sizeof(what), "%s: header in that order",
			 modes[i].what);
		check_pkt(_metadata, d, &h, p, &e, what);
		d->big_endian = !d->big_endian;
		snprintf(what, sizeof(what), "%s: header in the other order",
			 modes[i].what);
		check_pkt(_metadata, d, &h, p, &wrong, what);
	}
	free(p);
}

/*
 * hdr_len larger than the packet is EINVAL without a counter, also when
 * NEEDS_CSUM raised it; a checksum the packet cannot hold once the
 * transport header length counts is EINVAL with rx_frame_errors.
 */
TEST_F(tun_write, hdr_len_vs_len)
{
	static const struct expect refused = REFUSE(EINVAL, CNT_NONE);
	static const struct expect frame = REFUSE(EINVAL, CNT_FRAME);
	struct tdev *d = &self->dev[0];
	struct pkt *p, *g;
	struct expect e;
	struct vhdr h;
	uint16_t len;

	tdev_open(_metadata, d, variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	p = pkt_simple(false, 4, IPPROTO_UDP, 100, true);
	len = p->len;

	h = (struct vhdr){ .hdr_len = len };
	check_pkt(_metadata, d, &h, p, &accepted, "hdr_len == len");
	h.hdr_len = len + 1;
	check_pkt(_metadata, d, &h, p, &refused, "hdr_len == len + 1");
	h.hdr_len = 0xffff;
	check_pkt(_metadata, d, &h, p, &refused, "hdr_len 0xffff");

	h = (struct vhdr){ .flags = NEEDS_CSUM, .csum_start = len - 2 };
	e = seen(&h);
	check_pkt(_metadata, d, &h, p, &e, "checksum in the last 2 bytes");
	h.csum_start = len - 1;
	check_pkt(_metadata, d, &h, p, &refused,
		  "checksum past the end: hdr_len raised to len + 1");
	h = (struct vhdr){ .flags = NEEDS_CSUM, .csum_start = 20,
			   .csum_offset = len - 21 };
	check_pkt(_metadata, d, &h, p, &refused,
		  "csum_offset past the end: hdr_len raised to len + 1");
	free(p);

	g = pkt_simple(false, 4, IPPROTO_TCP, 300, true);
	len = g->len;
	h = vhdr_for(g, GSO_TCPV4, 100);
	h.hdr_len = 0;
	h.csum_start = len - 10;
	h.csum_offset = 0;
	check_pkt(_metadata, d, &h, g, &frame,
		  "TCP GSO: checksum fits, TCP header does not");
	h.csum_start = len - 20;
	h.csum_offset = TCP_CSUM_OFF;
	e = seen_plain(&h);
	check_pkt(_metadata, d, &h, g, &e,
		  "TCP GSO: TCP header ends the packet, no payload");
	free(g);
}

/*
 * csum_start + csum_offset + 2 beyond 16 bits: hdr_len wraps as in C,
 * the write is refused and nothing overflows.  On TAP a wrapped hdr_len
 * of 1 or 2 is refused by the Ethernet header check, without a counter.
 */
TEST_F(tun_write, csum_overflow)
{
	static const struct {
		uint16_t start, off, hdr_len;
		enum counter tun, tap;
	} tests[] = {
		{ 0xffff, 0xffff, 0, CNT_FRAME, CNT_FRAME },	/* wraps to 0 */
		{ 0xffff, 0xffff, 0xffff, CNT_FRAME, CNT_FRAME },
		{ 0xffff, 0, 0, CNT_FRAME, CNT_NONE },		/* to 1 */
		{ 0, 0xffff, 0, CNT_FRAME, CNT_NONE },		/* to 1 */
		{ 0xfffe, 0, 0, CNT_FRAME, CNT_FRAME },		/* to 0 */
		{ 0x8000, 0x8000, 0, CNT_FRAME, CNT_NONE },	/* to 2 */
		{ 0xfff0, 0x0e, 0, CNT_FRAME, CNT_FRAME },	/* to 0 */
		{ 0xff00, 0, 0, CNT_NONE, CNT_NONE },	/* 0xff02 > len */
	};
	static const int types[] = { IFF_TUN, IFF_TAP };
	struct expect e = REFUSE(EINVAL, CNT_NONE);
	unsigned int t, i;
	struct tdev *d;
	struct pkt *p;
	struct vhdr h;
	char what[80];

	for (t = 0; t < ARRAY_SIZE(types); t++) {
		d = &self->dev[t];
		tdev_open(_metadata, d, variant->node,
			  types[t] | IFF_NO_PI | IFF_VNET_HDR, true);
		p = pkt_simple(tdev_tap(d), 4, IPPROTO_UDP, 100, true);
		for (i = 0; i < ARRAY_SIZE(tests); i++) {
			h = (struct vhdr){
				.flags = NEEDS_CSUM,
				.hdr_len = tests[i].hdr_len,
				.csum_start = tests[i].start,
				.csum_offset = tests[i].off,
			};
			e.cnt = tdev_tap(d) ? tests[i].tap : tests[i].tun;
			snprintf(what, sizeof(what),
				 "%s: csum 0x%x+0x%x, hdr_len 0x%x", d->name,
				 tests[i].start, tests[i].off,
				 tests[i].hdr_len);
			check_pkt(_metadata, d, &h, p, &e, what);
		}
		free(p);
	}
}

/*
 * NEEDS_CSUM with the transport header before nh_min_len (20, or 40 for
 * TCPV6), counted from the start of the write's packet, for TAP from the
 * Ethernet header: EINVAL with rx_frame_errors.
 */
TEST_F(tun_write, csum_transport_offset)
{
	static const struct {
		bool tap;
		int ipv, proto;
		uint8_t gso_type;
		uint16_t start;
		bool ok;
	} tests[] = {
		{ false, 4, IPPROTO_UDP, 0, 0, false },
		{ false, 4, IPPROTO_UDP, 0, 10, false },
		{ false, 4, IPPROTO_UDP, 0, 19, false },
		{ false, 4, IPPROTO_UDP, 0, 20, true },
		{ false, 4, IPPROTO_TCP, GSO_TCPV4, 19, false },
		{ false, 6, IPPROTO_TCP, GSO_TCPV6, 20, false },
		{ false, 6, IPPROTO_TCP, GSO_TCPV6, 39, false },
		{ false, 6, IPPROTO_TCP, GSO_TCPV6, 40, true },
		{ false, 6, IPPROTO_UDP, GSO_UDP_L4, 20, true },
		{ true, 4, IPPROTO_UDP, 0, 13, false },
		{ true, 4, IPPROTO_UDP, 0, 19, false },
		{ true, 4, IPPROTO_UDP, 0, 20, true },
		{ true, 4, IPPROTO_UDP, 0, 34, true },
		{ true, 6, IPPROTO_TCP, GSO_TCPV6, 39, false },
		{ true, 6, IPPROTO_TCP, GSO_TCPV6, 40, true },
		{ true, 6, IPPROTO_TCP, GSO_TCPV6, 54, true },
	};
	static const struct expect frame = REFUSE(EINVAL, CNT_FRAME);
	struct tdev *d;
	unsigned int i;
	struct expect e;
	struct pkt *p;
	struct vhdr h;
	char what[80];

	tdev_open(_metadata, &self->dev[0], variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	tdev_open(_metadata, &self->dev[1], variant->node,
		  IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, true);
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		d = &self->dev[tests[i].tap];
		p = pkt_simple(tests[i].tap, tests[i].ipv, tests[i].proto,
			       300, true);
		h = vhdr_for(p, tests[i].gso_type, 100);
		h.hdr_len = 0;
		h.csum_start = tests[i].start;
		e = seen(&h);
		snprintf(what, sizeof(what), "%s: IPv%d gso 0x%x csum_start %u",
			 d->name, tests[i].ipv, tests[i].gso_type,
			 tests[i].start);
		check_pkt(_metadata, d, &h, p, tests[i].ok ? &e : &frame, what);
		free(p);
	}
	/* TAP: csum_start 0 raises hdr_len to 8, which W5 refuses first. */
	d = &self->dev[1];
	p = pkt_simple(true, 4, IPPROTO_UDP, 100, true);
	h = (struct vhdr){ .flags = NEEDS_CSUM, .csum_offset = UDP_CSUM_OFF };
	check_pkt(_metadata, d, &h, p, &(struct expect)REFUSE(EINVAL, CNT_NONE),
		  "TAP: csum_start 0, hdr_len raised to 8");
	free(p);
}

/* gso_type not in {1, 3, 4, 5} with or without ECN: rx_frame_errors. */
TEST_F(tun_write, gso_type_bad)
{
	static const uint8_t types[] = {
		2, 6, 7, 0x40, 0x41, 0x7f, GSO_ECN, GSO_ECN | 2, GSO_ECN | 6,
		0xc1, 0xff,
	};
	static const struct expect frame = REFUSE(EINVAL, CNT_FRAME);
	struct tdev *d = &self->dev[0];
	unsigned int i;
	struct pkt *p;
	struct vhdr h;
	char what[64];

	tdev_open(_metadata, d, variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	p = pkt_simple(false, 4, IPPROTO_TCP, 300, true);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		h = vhdr_for(p, types[i], 100);
		snprintf(what, sizeof(what), "gso_type 0x%02x", types[i]);
		check_pkt(_metadata, d, &h, p, &frame, what);
		h.flags = 0;
		snprintf(what, sizeof(what), "gso_type 0x%02x, no NEEDS_CSUM",
			 types[i]);
		check_pkt(_metadata, d, &h, p, &frame, what);
	}
	free(p);
}

/* gso_size 0 and 0xffff (GSO_BY_FRAGS) are refused for every GSO type. */
TEST_F(tun_write, gso_size_limits)
{
	static const struct {
		int ipv, proto;
		uint8_t gso_type;
		uint8_t flags;
		uint16_t gso_size;
	} tests[] = {
		{ 4, IPPROTO_TCP, GSO_TCPV4, NEEDS_CSUM, 0 },
		{ 4, IPPROTO_TCP, GSO_TCPV4, 0, 0 },
		{ 4, IPPROTO_TCP, GSO_TCPV4, NEEDS_CSUM, 0xffff },
		{ 4, IPPROTO_TCP, GSO_TCPV4, 0, 0xffff },
		{ 6, IPPROTO_TCP, GSO_TCPV6, NEEDS_CSUM, 0 },
		{ 6, IPPROTO_TCP, GSO_TCPV6, NEEDS_CSUM, 0xffff },
		{ 4, IPPROTO_UDP, GSO_UDP_L4, NEEDS_CSUM, 0 },
		{ 4, IPPROTO_UDP, GSO_UDP_L4, NEEDS_CSUM, 0xffff },
		{ 4, IPPROTO_UDP, GSO_UDP, NEEDS_CSUM, 0 },
		{ 4, IPPROTO_UDP, GSO_UDP, NEEDS_CSUM, 0xffff },
		{ 4, IPPROTO_UDP, GSO_UDP, 0, 0xffff },
	};
	static const struct expect frame = REFUSE(EINVAL, CNT_FRAME);
	struct tdev *d = &self->dev[0];
	struct expect e;
	unsigned int i;
	struct pkt *p;
	struct vhdr h;
	char what[80];

	tdev_open(_metadata, d, variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		p = pkt_simple(false, tests[i].ipv, tests[i].proto, 300, true);
		h = vhdr_for(p, tests[i].gso_type, tests[i].gso_size);
		h.flags = tests[i].flags;
		snprintf(what, sizeof(what),
			 "gso_type %u, flags %u, gso_size 0x%x",
			 tests[i].gso_type, tests[i].flags, tests[i].gso_size);
		check_pkt(_metadata, d, &h, p, &frame, what);
		free(p);
	}
	p = pkt_simple(false, 4, IPPROTO_TCP, 300, true);
	h = vhdr_for(p, GSO_TCPV4, 0xfffe);
	e = seen_plain(&h);
	check_pkt(_metadata, d, &h, p, &e,
		  "TCPV4 gso_size 0xfffe: one segment");
	free(p);
}

/* TCP GSO: gso_size 1..7 is raised to 8 (TCP_MIN_GSO_SIZE). */
TEST_F(tun_write, tcp_gso_size_min)
{
	static const struct {
		int ipv;
		uint8_t gso_type;
		size_t payload;
		uint16_t gso_size, seen;	/* seen 0: not GSO */
	} tests[] = {
		{ 4, GSO_TCPV4, 100, 1, 8 },
		{ 4, GSO_TCPV4, 100, 2, 8 },
		{ 4, GSO_TCPV4, 100, 3, 8 },
		{ 4, GSO_TCPV4, 100, 4, 8 },
		{ 4, GSO_TCPV4, 100, 5, 8 },
		{ 4, GSO_TCPV4, 100, 6, 8 },
		{ 4, GSO_TCPV4, 100, 7, 8 },
		{ 4, GSO_TCPV4, 100, 8, 8 },
		{ 4, GSO_TCPV4, 100, 9, 9 },
		{ 6, GSO_TCPV6, 100, 1, 8 },
		{ 4, GSO_TCPV4 | GSO_ECN, 100, 7, 8 },
		{ 4, GSO_TCPV4, 8, 1, 0 },	/* 8 bytes: one segment of 8 */
		{ 4, GSO_TCPV4, 9, 1, 8 },
	};
	struct tdev *d = &self->dev[0];
	struct expect e;
	unsigned int i;
	struct pkt *p;
	struct vhdr h;
	char what[80];

	tdev_open(_metadata, d, variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		p = pkt_simple(false, tests[i].ipv, IPPROTO_TCP,
			       tests[i].payload, true);
		h = vhdr_for(p, tests[i].gso_type, tests[i].gso_size);
		e = tests[i].seen ? seen(&h) : seen_plain(&h);
		if (tests[i].seen)
			e.rx.gso_size = tests[i].seen;
		snprintf(what, sizeof(what),
			 "gso_type 0x%x, %zu bytes, gso_size %u",
			 tests[i].gso_type, tests[i].payload,
			 tests[i].gso_size);
		check_pkt(_metadata, d, &h, p, &e, what);
		free(p);
	}
}

/*
 * A GSO header whose payload fits in one segment makes a plain packet;
 * for UFO the UDP header counts in the segment.
 */
TEST_F(tun_write, gso_small_payload)
{
	static const struct {
		int ipv, proto;
		uint8_t gso_type;
		bool csum;
		size_t payload;
		bool gso;
	} tests[] = {
		{ 4, IPPROTO_TCP, GSO_TCPV4, true, 100, false },
		{ 4, IPPROTO_TCP, GSO_TCPV4, true, 101, true },
		{ 4, IPPROTO_TCP, GSO_TCPV4, false, 100, false },
		{ 4, IPPROTO_TCP, GSO_TCPV4, false, 101, true },
		{ 6, IPPROTO_TCP, GSO_TCPV6, true, 100, false },
		{ 6, IPPROTO_TCP, GSO_TCPV6, true, 101, true },
		{ 4, IPPROTO_UDP, GSO_UDP_L4, true, 100, false },
		{ 4, IPPROTO_UDP, GSO_UDP_L4, true, 101, true },
		{ 4, IPPROTO_UDP, GSO_UDP, true, 92, false },
		{ 4, IPPROTO_UDP, GSO_UDP, true, 93, true },
		{ 4, IPPROTO_UDP, GSO_UDP, false, 92, false },
		{ 4, IPPROTO_UDP, GSO_UDP, false, 93, true },
	};
	static const struct expect ufo = UFO_RX;
	struct tdev *d = &self->dev[0];
	struct expect e;
	unsigned int i;
	struct pkt *p;
	struct vhdr h;
	char what[80];

	tdev_open(_metadata, d, variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		p = pkt_simple(false, tests[i].ipv, tests[i].proto,
			       tests[i].payload, tests[i].csum);
		h = vhdr_for(p, tests[i].gso_type, 100);
		if (!tests[i].csum)
			h = (struct vhdr){ .gso_type = tests[i].gso_type,
					   .gso_size = 100 };
		e = tests[i].gso ? seen(&h) : seen_plain(&h);
		if (tests[i].gso && tests[i].gso_type == GSO_UDP)
			e = ufo;
		snprintf(what, sizeof(what),
			 "gso_type %u%s, %zu bytes, gso_size 100",
			 tests[i].gso_type, tests[i].csum ? " NEEDS_CSUM" : "",
			 tests[i].payload);
		check_pkt(_metadata, d, &h, p, &e, what);
		free(p);
	}
}

/* TCP GSO with NEEDS_CSUM: csum_offset must be 16. */
TEST_F(tun_write, tcp_csum_offset)
{
	static const struct {
		int ipv;
		uint8_t gso_type;
		size_t payload;
		uint16_t off;
	} tests[] = {
		{ 4, GSO_TCPV4, 300, 0 },
		{ 4, GSO_TCPV4, 300, 6 },
		{ 4, GSO_TCPV4, 300, 15 },
		{ 4, GSO_TCPV4, 300, 17 },
		{ 4, GSO_TCPV4, 300, 18 },
		{ 4, GSO_TCPV4, 300, 100 },
		{ 4, GSO_TCPV4, 10, 6 },	/* one segment: still checked */
		{ 6, GSO_TCPV6, 300, 6 },
		{ 4, GSO_TCPV4 | GSO_ECN, 300, 6 },
	};
	static const struct expect frame = REFUSE(EINVAL, CNT_FRAME);
	struct tdev *d = &self->dev[0];
	struct expect e;
	unsigned int i;
	struct pkt *p;
	struct vhdr h;
	char what[80];

	tdev_open(_metadata, d, variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		p = pkt_simple(false, tests[i].ipv, IPPROTO_TCP,
			       tests[i].payload, true);
		h = vhdr_for(p, tests[i].gso_type, 100);
		h.csum_offset = tests[i].off;
		snprintf(what, sizeof(what), "gso_type 0x%x, csum_offset %u",
			 tests[i].gso_type, tests[i].off);
		check_pkt(_metadata, d, &h, p, &frame, what);
		free(p);
	}
	p = pkt_simple(false, 4, IPPROTO_TCP, 300, true);
	h = vhdr_for(p, GSO_TCPV4, 100);
	e = seen(&h);
	check_pkt(_metadata, d, &h, p, &e, "csum_offset 16");
	free(p);
}

/*
 * UDP_L4 needs NEEDS_CSUM with csum_offset 6, no ECN, and at most 128
 * segments.
 */
TEST_F(tun_write, udp_l4_rules)
{
	static const struct {
		const char *what;
		int ipv;
		size_t payload;
		uint16_t gso_size;
		uint8_t flags, ecn;
		uint16_t off;
		bool ok;
	} tests[] = {
		{ "valid", 4, 300, 100, NEEDS_CSUM, 0, 6, true },
		{ "valid IPv6", 6, 300, 100, NEEDS_CSUM, 0, 6, true },
		{ "no NEEDS_CSUM", 4, 300, 100, 0, 0, 6, false },
		{ "csum_offset 16", 4, 300, 100, NEEDS_CSUM, 0, 16, false },
		{ "csum_offset 0", 4, 300, 100, NEEDS_CSUM, 0, 0, false },
		{ "ECN", 4, 300, 100, NEEDS_CSUM, GSO_ECN, 6, false },
		{ "ECN IPv6", 6, 300, 100, NEEDS_CSUM, GSO_ECN, 6, false },
		{ "128 segments", 4, 1024, 8, NEEDS_CSUM, 0, 6, true },
		{ "129 segments", 4, 1025, 8, NEEDS_CSUM, 0, 6, false },
		{ "128 segments of 1", 4, 128, 1, NEEDS_CSUM, 0, 6, true },
		{ "129 segments of 1", 4, 129, 1, NEEDS_CSUM, 0, 6, false },
	};
	static const struct expect frame = REFUSE(EINVAL, CNT_FRAME);
	struct tdev *d = &self->dev[0];
	struct expect e;
	unsigned int i;
	struct pkt *p;
	struct vhdr h;

	tdev_open(_metadata, d, variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		p = pkt_simple(false, tests[i].ipv, IPPROTO_UDP,
			       tests[i].payload, true);
		h = vhdr_for(p, GSO_UDP_L4 | tests[i].ecn, tests[i].gso_size);
		h.flags = tests[i].flags;
		h.csum_offset = tests[i].off;
		e = seen(&h);
		check_pkt(_metadata, d, &h, p, tests[i].ok ? &e : &frame,
			  tests[i].what);
		free(p);
	}
}

/*
 * GSO without NEEDS_CSUM.  On 6.12 the packet must hold nh_min_len + thlen
 * bytes from its start (tun never sets the network header, so nothing else
 * is checked).  On 7.x the flow dissector finds the transport header (for
 * TAP behind the Ethernet header), which must be the GSO type's protocol
 * over a network protocol that fits it, and whole.  Either way the packet
 * is then GSO without a checksum request, or plain if it is one segment.
 */
TEST_F(tun_write, gso_without_csum)
{
	static const struct {
		bool tap;
		int ipv, proto;
		uint8_t gso_type;
		size_t len;	/* 0: the whole packet */
		int result;	/* 6.12: 0 GSO, 1 plain, -1 refused */
		int result7;	/* the same on 7.x */
	} tests[] = {
		{ false, 4, IPPROTO_TCP, GSO_TCPV4, 39, -1, -1 },
		{ false, 4, IPPROTO_TCP, GSO_TCPV4, 40, 1, 1 },
		{ false, 4, IPPROTO_TCP, GSO_TCPV4, 0, 0, 0 },
		{ false, 4, IPPROTO_TCP, GSO_TCPV4 | GSO_ECN, 0, 0, 0 },
		{ false, 6, IPPROTO_TCP, GSO_TCPV6, 59, -1, -1 },
		{ false, 6, IPPROTO_TCP, GSO_TCPV6, 60, 1, 1 },
		{ false, 6, IPPROTO_TCP, GSO_TCPV6, 0, 0, 0 },
		{ false, 4, IPPROTO_UDP, GSO_UDP, 27, -1, -1 },
		{ false, 4, IPPROTO_UDP, GSO_UDP, 0, 0, 0 },
		{ true, 4, IPPROTO_TCP, GSO_TCPV4, 39, -1, -1 },
		{ true, 4, IPPROTO_TCP, GSO_TCPV4, 40, 1, -1 },
		{ true, 4, IPPROTO_TCP, GSO_TCPV4, 53, 1, -1 },
		{ true, 4, IPPROTO_TCP, GSO_TCPV4, 54, 1, 1 },
		{ true, 4, IPPROTO_TCP, GSO_TCPV4, 0, 0, 0 },
		{ true, 6, IPPROTO_TCP, GSO_TCPV6, 0, 0, 0 },
		/* The GSO type against what the packet is. */
		{ true, 4, IPPROTO_TCP, GSO_TCPV6, 0, 0, -1 },
		{ true, 4, IPPROTO_UDP, GSO_TCPV4, 0, 0, -1 },
		{ false, 6, IPPROTO_TCP, GSO_TCPV4, 0, 0, -1 },
	};
	static const struct expect frame = REFUSE(EINVAL, CNT_FRAME);
	static const struct expect ufo = UFO_RX;
	struct tdev *d;
	struct expect e;
	unsigned int i;
	struct pkt *p;
	struct vhdr h;
	char what[80];
	int result;
	size_t len;

	tdev_open(_metadata, &self->dev[0], variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	tdev_open(_metadata, &self->dev[1], variant->node,
		  IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, true);
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		d = &self->dev[tests[i].tap];
		p = pkt_simple(tests[i].tap, tests[i].ipv, tests[i].proto, 300,
			       false);
		len = tests[i].len ? tests[i].len : p->len;
		h = (struct vhdr){ .gso_type = tests[i].gso_type,
				   .gso_size = 100 };
		result = kernel_at_least(7, 0) ? tests[i].result7 :
						 tests[i].result;
		if (result < 0)
			e = frame;
		else if (result)
			e = seen_plain(&h);
		else if (tests[i].gso_type == GSO_UDP)
			e = ufo;
		else
			e = seen(&h);
		snprintf(what, sizeof(what), "%s: gso_type 0x%x, %zu bytes",
			 d->name, tests[i].gso_type, len);
		check_write(_metadata, d, &h, p->data, len, &e, what);
		free(p);
	}
}

/* DATA_VALID and unknown flag bits are ignored on write. */
TEST_F(tun_write, flags_ignored)
{
	static const uint8_t flags[] = { DATA_VALID, 4, 0x08, 0xf0, 0xfe,
					 NEEDS_CSUM | DATA_VALID, 0xff };
	struct tdev *d = &self->dev[0];
	struct pkt *p, *g;
	struct expect e;
	unsigned int i;
	struct vhdr h;
	char what[64];

	tdev_open(_metadata, d, variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	p = pkt_simple(false, 4, IPPROTO_UDP, 50, true);
	g = pkt_simple(false, 4, IPPROTO_TCP, 300, false);
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		h = vhdr_for(p, 0, 0);
		h.flags = flags[i];
		e = seen(&h);
		snprintf(what, sizeof(what), "flags 0x%02x", flags[i]);
		check_pkt(_metadata, d, &h, p, &e, what);
	}
	h = (struct vhdr){ .flags = DATA_VALID, .gso_type = GSO_TCPV4,
			   .gso_size = 100 };
	e = seen(&h);
	check_pkt(_metadata, d, &h, g, &e, "TCPV4 GSO with DATA_VALID");
	free(p);
	free(g);
}

/*
 * UFO (gso_type 3) is accepted on write, with or without the ECN bit and
 * whatever csum_offset; af_packet cannot describe the resulting skb.
 */
TEST_F(tun_write, ufo)
{
	static const struct {
		bool tap;
		int ipv;
		uint8_t gso_type;
		uint16_t off;
	} tests[] = {
		{ false, 4, GSO_UDP, UDP_CSUM_OFF },
		{ false, 4, GSO_UDP | GSO_ECN, UDP_CSUM_OFF },
		{ false, 6, GSO_UDP, UDP_CSUM_OFF },
		{ false, 4, GSO_UDP, 16 },
		{ true, 4, GSO_UDP, UDP_CSUM_OFF },
		{ true, 6, GSO_UDP, UDP_CSUM_OFF },
	};
	static const struct expect ufo = UFO_RX;
	unsigned int i;
	struct tdev *d;
	struct pkt *p;
	struct vhdr h;
	char what[80];

	tdev_open(_metadata, &self->dev[0], variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	tdev_open(_metadata, &self->dev[1], variant->node,
		  IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, true);
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		d = &self->dev[tests[i].tap];
		p = pkt_simple(tests[i].tap, tests[i].ipv, IPPROTO_UDP, 1000,
			       true);
		h = vhdr_for(p, tests[i].gso_type, 300);
		h.csum_offset = tests[i].off;
		snprintf(what, sizeof(what),
			 "%s: IPv%d gso_type 0x%x csum_offset %u", d->name,
			 tests[i].ipv, tests[i].gso_type, tests[i].off);
		check_pkt(_metadata, d, &h, p, &ufo, what);
		/* Nothing else came of it. */
		expect_quiet(_metadata, d, what);
		free(p);
	}
}

/*
 * Every GSO type the stack can take from a writer, on TUN and TAP, as a
 * virtio driver sends it: three full segments of 1448 bytes (so the skb
 * has page frags), checksum partial; the stack gets the same metadata.
 */
TEST_F(tun_write, gso_types)
{
	static const struct {
		int ipv, proto;
		uint8_t gso_type;
	} tests[] = {
		{ 4, IPPROTO_TCP, GSO_TCPV4 },
		{ 4, IPPROTO_TCP, GSO_TCPV4 | GSO_ECN },
		{ 6, IPPROTO_TCP, GSO_TCPV6 },
		{ 6, IPPROTO_TCP, GSO_TCPV6 | GSO_ECN },
		{ 4, IPPROTO_UDP, GSO_UDP_L4 },
		{ 6, IPPROTO_UDP, GSO_UDP_L4 },
	};
	static const int types[] = { IFF_TUN, IFF_TAP };
	unsigned int t, i, hl;
	struct tdev *d;
	struct expect e;
	struct pkt *p;
	struct vhdr h;
	char what[80];

	for (t = 0; t < ARRAY_SIZE(types); t++) {
		d = &self->dev[t];
		tdev_open(_metadata, d, variant->node,
			  types[t] | IFF_NO_PI | IFF_VNET_HDR, true);
		for (i = 0; i < ARRAY_SIZE(tests); i++) {
			p = pkt_simple(tdev_tap(d), tests[i].ipv,
				       tests[i].proto, 3 * 1448, true);
			for (hl = 0; hl < 2; hl++) {
				h = vhdr_for(p, tests[i].gso_type, 1448);
				if (!hl)
					h.hdr_len = 0;
				e = seen(&h);
				snprintf(what, sizeof(what),
					 "%s: IPv%d gso_type 0x%x, hdr_len %u",
					 d->name, tests[i].ipv,
					 tests[i].gso_type, h.hdr_len);
				check_pkt(_metadata, d, &h, p, &e, what);
			}
			free(p);
		}
	}
}

/*
 * Split @len bytes at @buf into @n segments of the sizes in @sizes, cut
 * short at the end; the last segment takes what is left.
 */
static int iov_split(struct iovec *iov, unsigned char *buf, size_t len,
		     const size_t *sizes, int n)
{
	size_t off = 0;
	int i;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = buf + off;
		iov[i].iov_len = len - off;
		if (i < n - 1 && sizes[i] < len - off)
			iov[i].iov_len = sizes[i];
		off += iov[i].iov_len;
	}
	return n;
}

/*
 * writev(): the same write split into many segments (1 byte, zero-length,
 * cut anywhere, also inside the PI and the vnet header) gives the same
 * result as one flat buffer.
 */
/*
 * Hundreds of writes, each waiting for its packet: a few seconds normally,
 * minutes on the KASAN debug kernel under TCG, hence the longer limit.
 */
TEST_F_TIMEOUT(tun_write, writev_split, 600)
{
	static const int types[] = { IFF_TUN, IFF_TAP | IFF_NO_PI };
	static const struct expect frame_err = REFUSE(EINVAL, CNT_FRAME);
	static const struct expect refused = REFUSE(EINVAL, CNT_NONE);
	struct iovec iov[UIO_MAXIOV];
	size_t sizes[UIO_MAXIOV];
	unsigned char *f, *bad;
	uint32_t rnd = 1;
	unsigned int t;
	size_t flen, pre, k;
	struct expect e;
	struct tdev *d;
	struct pkt *p;
	struct vhdr h, hb;
	char what[80];
	int n, i;

	for (t = 0; t < ARRAY_SIZE(types); t++) {
		d = &self->dev[t];
		tdev_open(_metadata, d, variant->node,
			  types[t] | IFF_VNET_HDR, true);
		pre = tdev_prefix(d);
		p = pkt_simple(tdev_tap(d), 4, IPPROTO_TCP, 48, true);
		h = vhdr_for(p, GSO_TCPV4, 16);
		e = seen(&h);
		f = frame_new(d, &h, ETH_P_IP, p->data, p->len, &flen);

		/* Two segments, cut at every offset. */
		for (k = 0; k <= flen; k++) {
			sizes[0] = k;
			n = iov_split(iov, f, flen, sizes, 2);
			snprintf(what, sizeof(what), "%s: cut at %zu", d->name,
				 k);
			check_writev(_metadata, d, iov, n, f + pre, flen - pre,
				     &e, what);
		}
		/* 1-byte segments. */
		for (k = 0; k < flen; k++)
			sizes[k] = 1;
		n = iov_split(iov, f, flen, sizes, flen);
		snprintf(what, sizeof(what), "%s: %d 1-byte segments", d->name,
			 n);
		check_writev(_metadata, d, iov, n, f + pre, flen - pre, &e,
			     what);
		/* 1-byte segments, each after a zero-length one. */
		for (k = 0; k < 2 * flen; k++)
			sizes[k] = k & 1;
		n = iov_split(iov, f, flen, sizes, 2 * flen);
		snprintf(what, sizeof(what), "%s: 1 and 0-byte segments",
			 d->name);
		check_writev(_metadata, d, iov, n, f + pre, flen - pre, &e,
			     what);
		/* UIO_MAXIOV segments, mostly empty. */
		for (k = 0; k < UIO_MAXIOV; k++)
			sizes[k] = k % 9 == 4 && k / 9 < flen - 1;
		n = iov_split(iov, f, flen, sizes, UIO_MAXIOV);
		snprintf(what, sizeof(what), "%s: %d segments", d->name, n);
		check_writev(_metadata, d, iov, n, f + pre, flen - pre, &e,
			     what);
		/* 64 segments of pseudo-random sizes 0..3. */
		for (i = 0; i < 8; i++) {
			for (k = 0; k < 63; k++) {
				rnd = rnd * 1103515245 + 12345;
				sizes[k] = (rnd >> 16) % 4;
			}
			n = iov_split(iov, f, flen, sizes, 64);
			snprintf(what, sizeof(what),
				 "%s: 64 segments, round %d", d->name, i);
			check_writev(_metadata, d, iov, n, f + pre, flen - pre,
				     &e, what);
		}
		free(f);

		/* A refused header in 1-byte segments. */
		hb = h;
		hb.gso_type = 2;
		bad = frame_new(d, &hb, ETH_P_IP, p->data, p->len, &flen);
		for (k = 0; k < flen; k++)
			sizes[k] = 1;
		n = iov_split(iov, bad, flen, sizes, flen);
		snprintf(what, sizeof(what),
			 "%s: bad gso_type, 1-byte segments", d->name);
		check_writev(_metadata, d, iov, n, NULL, 0, &frame_err, what);
		/* Zero-length segments only: the VFS returns 0 by itself. */
		memset(sizes, 0, 3 * sizeof(sizes[0]));
		n = iov_split(iov, bad, 0, sizes, 3);
		EXPECT_EQ(0, writev(d->fd, iov, n));
		expect_quiet(_metadata, d, "3 empty segments");
		/* One zero-length segment: write(), which reaches tun. */
		snprintf(what, sizeof(what), "%s: 0 bytes", d->name);
		check_writev(_metadata, d, iov, 1, NULL, 0, &refused, what);
		free(bad);
		free(p);
	}
}

/*
 * A bad user pointer: EFAULT, counted in rx_dropped only once the packet
 * is being copied into the skb (not while copying the PI or the header);
 * length checks come before any copy.
 */
TEST_F(tun_write, bad_pointer)
{
	enum how { WHOLE, AFTER_PREFIX, PACKET_TAIL };
	static const struct {
		const char *what;
		int flags;
		enum how how;
		size_t len;
		int err;
		enum counter cnt;
	} tests[] = {
		{ "TUN: bad packet", IFF_TUN | IFF_NO_PI, WHOLE, 60,
		  EFAULT, CNT_DROPPED },
		{ "TUN: bad packet tail", IFF_TUN | IFF_NO_PI, PACKET_TAIL, 60,
		  EFAULT, CNT_DROPPED },
		{ "TUN+PI: bad PI", IFF_TUN, WHOLE, 60, EFAULT, CNT_NONE },
		{ "TUN+PI: 3 bytes at a bad pointer", IFF_TUN, WHOLE, 3,
		  EINVAL, CNT_NONE },
		{ "TUN+PI: bad packet", IFF_TUN, AFTER_PREFIX, 60,
		  EFAULT, CNT_DROPPED },
		{ "TUN+PI+VNET: bad PI, shorter than PI + header",
		  IFF_TUN | IFF_VNET_HDR, WHOLE, 8, EFAULT, CNT_NONE },
		{ "TUN+VNET: 9 bytes at a bad pointer",
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, WHOLE, 9,
		  EINVAL, CNT_NONE },
		{ "TUN+VNET: bad header", IFF_TUN | IFF_NO_PI | IFF_VNET_HDR,
		  WHOLE, 60, EFAULT, CNT_NONE },
		{ "TUN+VNET: bad packet", IFF_TUN | IFF_NO_PI | IFF_VNET_HDR,
		  AFTER_PREFIX, 60, EFAULT, CNT_DROPPED },
		{ "TUN+VNET: bad packet tail",
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, PACKET_TAIL, 60,
		  EFAULT, CNT_DROPPED },
		{ "TAP: 13 bytes at a bad pointer", IFF_TAP | IFF_NO_PI, WHOLE,
		  13, EINVAL, CNT_NONE },
		{ "TAP: bad frame", IFF_TAP | IFF_NO_PI, WHOLE, 60,
		  EFAULT, CNT_DROPPED },
		{ "TAP+VNET: bad frame", IFF_TAP | IFF_NO_PI | IFF_VNET_HDR,
		  AFTER_PREFIX, 70, EFAULT, CNT_DROPPED },
	};
	struct tdev *d = &self->dev[0];
	struct iovec iov[3];
	unsigned char *f;
	struct expect e;
	struct pkt *p;
	size_t flen;
	unsigned int i;
	int n;

	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		tdev_open(_metadata, d, variant->node, tests[i].flags, true);
		p = pkt_simple(tdev_tap(d), 4, IPPROTO_UDP, 40, false);
		f = frame_new(d, NULL, ETH_P_IP, p->data, p->len, &flen);
		e = (struct expect)REFUSE(tests[i].err, tests[i].cnt);
		iov[0].iov_base = f;
		iov[0].iov_len = 0;
		if (tests[i].how == AFTER_PREFIX)
			iov[0].iov_len = tdev_prefix(d);
		else if (tests[i].how == PACKET_TAIL)
			iov[0].iov_len = tdev_prefix(d) + 20;
		iov[1].iov_base = (void *)1;
		iov[1].iov_len = tests[i].len - iov[0].iov_len;
		/* WHOLE: write(fd, (void *)1, len). */
		n = tests[i].how == WHOLE ? 1 : 2;
		check_writev(_metadata, d, iov + (n == 1), n, NULL, 0, &e,
			     tests[i].what);
		free(f);
		free(p);
	}
}

/*
 * A device that is down: EIO with rx_dropped, after all other checks
 * (a bad header still gives EINVAL and its own counter).
 */
TEST_F(tun_write, device_down)
{
	static const struct expect down = REFUSE(EIO, CNT_DROPPED);
	static const int types[] = { IFF_TUN, IFF_TAP };
	struct vhdr bad = { .gso_type = 2, .gso_size = 100 };
	unsigned int t;
	struct tdev *d;
	struct pkt *p;

	for (t = 0; t < ARRAY_SIZE(types); t++) {
		d = &self->dev[t];
		tdev_open(_metadata, d, variant->node,
			  types[t] | IFF_NO_PI | IFF_VNET_HDR, false);
		p = pkt_simple(tdev_tap(d), 4, IPPROTO_UDP, 40, false);
		check_pkt(_metadata, d, NULL, p, &down, "never up");
		check_pkt(_metadata, d, &bad, p,
			  &(struct expect)REFUSE(EINVAL, CNT_FRAME),
			  "never up, bad gso_type");
		check_write(_metadata, d, NULL, p->data, 0,
			    &(struct expect)REFUSE(EINVAL, tdev_tap(d) ?
						   CNT_NONE : CNT_DROPPED),
			    "never up, empty packet");
		tdev_set_up(_metadata, d, true);
		check_pkt(_metadata, d, NULL, p, &accepted, "up");
		tdev_set_up(_metadata, d, false);
		check_pkt(_metadata, d, NULL, p, &down, "down again");
		tdev_set_up(_metadata, d, true);
		expect_quiet(_metadata, d, "up again");
		free(p);
	}
}

/* Give @dev the address @ip/@prefix. */
static int addr_set(const char *dev, const unsigned char *ip, int prefix)
{
	struct sockaddr_in *sin;
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, ip, 4);
	if (ifr_ioctl(dev, SIOCSIFADDR, &ifr))
		return -1;
	sin->sin_addr.s_addr = htonl(~0u << (32 - prefix));
	return ifr_ioctl(dev, SIOCSIFNETMASK, &ifr);
}

/*
 * Wait for the SYN-ACK the stack transmits on @d in answer to @syn and
 * return its sequence number in @seq.
 */
static int wait_synack(const struct tdev *d, const struct pkt_spec *syn,
		       uint32_t *seq)
{
	const unsigned char *ip, *th;
	struct timespec t0;
	struct rx *r;
	int ret;

	r = xmalloc(sizeof(*r));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ret = rx_next(d, r, RX_OUT, 3000 - ms_since(&t0));
		if (ret)
			break;
		ip = r->data;
		th = ip + (ip[0] & 15) * 4;
		if (r->len < 40 || ip[0] >> 4 != 4 || ip[9] != IPPROTO_TCP ||
		    get16(th) != syn->dport || get16(th + 2) != syn->sport ||
		    (th[13] & (TCPF_SYN | TCPF_ACK)) != (TCPF_SYN | TCPF_ACK))
			continue;
		ret = get32(th + 8) == syn->seq + 1 ? 0 : -EPROTO;
		*seq = get32(th + 4);
		break;
	}
	free(r);
	return ret;
}

/*
 * Real TCP segmentation offload: be the peer of a TCP connection through
 * a TUN device, then write 45 segments of data as ONE TSO frame (TCPV4,
 * NEEDS_CSUM, TCP checksum field holding the pseudo header sum); the
 * accepted socket must read every byte.
 */
TEST_F(tun_write, tcp_tso_stream)
{
	const unsigned char local[4] = { 10, variant->net, 0, 1 };
	const unsigned char peer[4] = { 10, variant->net, 0, 2 };
	const size_t mss = 1448, len = 45 * 1448;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct pollfd pfd = { .events = POLLIN };
	struct tdev *d = &self->dev[0];
	socklen_t slen = sizeof(sin);
	struct pkt_spec s = {
		.ipv = 4, .proto = IPPROTO_TCP, .src = peer, .dst = local,
		.sport = 40000, .seq = 1000, .tcp_flags = TCPF_SYN,
	};
	unsigned char *got;
	size_t n = 0;
	uint32_t srv;
	struct pkt *p;
	struct vhdr h;
	struct expect e;
	ssize_t ret;

	tdev_open(_metadata, d, variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, false);
	ASSERT_EQ(0, addr_set(d->name, local, 24))
		TH_LOG("address on %s: %s", d->name, strerror(errno));
	tdev_set_up(_metadata, d, true);

	self->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->lfd);
	memcpy(&sin.sin_addr, local, 4);
	ASSERT_EQ(0, bind(self->lfd, (struct sockaddr *)&sin, sizeof(sin)))
		TH_LOG("bind: %s", strerror(errno));
	ASSERT_EQ(0, listen(self->lfd, 1));
	ASSERT_EQ(0, getsockname(self->lfd, (struct sockaddr *)&sin, &slen));
	s.dport = ntohs(sin.sin_port);

	p = pkt_new(&s);
	check_pkt(_metadata, d, NULL, p, &accepted, "SYN");
	free(p);
	ASSERT_EQ(0, wait_synack(d, &s, &srv)) TH_LOG("no SYN-ACK seen");

	s.seq++;
	s.ack = srv + 1;
	s.tcp_flags = TCPF_ACK;
	p = pkt_new(&s);
	check_pkt(_metadata, d, NULL, p, &accepted, "ACK");
	free(p);
	pfd.fd = self->lfd;
	ASSERT_EQ(1, poll(&pfd, 1, 3000)) TH_LOG("connection not established");
	self->cfd = accept4(self->lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, self->cfd) TH_LOG("accept: %s", strerror(errno));

	s.tcp_flags = TCPF_ACK | TCPF_PSH;
	s.payload = len;
	s.partial = true;
	p = pkt_new(&s);
	h = vhdr_for(p, GSO_TCPV4, mss);
	e = seen(&h);
	check_pkt(_metadata, d, &h, p, &e, "TSO frame of 45 segments");

	got = xmalloc(len);
	pfd.fd = self->cfd;
	while (n < len && poll(&pfd, 1, 3000) == 1) {
		ret = recv(self->cfd, got + n, len - n, MSG_DONTWAIT);
		if (!ret || (ret < 0 && errno != EAGAIN))
			break;
		if (ret > 0)
			n += ret;
	}
	EXPECT_EQ(len, n) TH_LOG("read %zu of %zu bytes", n, len);
	EXPECT_EQ(0, memcmp(got, p->data + p->hlen, n))
		TH_LOG("the stream differs from the TSO frame's payload");
	free(got);
	free(p);
}

/* ---- Beyond C: why a packet was dropped (ethtool -S on rtun) ---- */

#define DROP_STATS_MAX	128

/* A device's drop counters: C's from sysfs, rtun's per reason. */
struct drop_stats {
	long frame_errors, rx_dropped, tx_dropped;
	int n;					/* reasons (0 for C) */
	char names[DROP_STATS_MAX][ETH_GSTRING_LEN];
	uint64_t vals[DROP_STATS_MAX];
};

/* How much reason @name must have grown. */
struct drop_want {
	const char *name;
	long n;
};

/*
 * Read @d's counters.  C tun has no statistics set (no
 * get_ethtool_stats): ETHTOOL_GSTATS is EOPNOTSUPP there.
 */
static void drop_stats_read(struct __test_metadata *_metadata,
			    const struct tdev *d, bool rtun,
			    struct drop_stats *s)
{
	int i;

	s->frame_errors = sysfs_num(d->name, "statistics/rx_frame_errors");
	s->rx_dropped = sysfs_num(d->name, "statistics/rx_dropped");
	s->tx_dropped = sysfs_num(d->name, "statistics/tx_dropped");
	ASSERT_LE(0, s->frame_errors);
	ASSERT_LE(0, s->rx_dropped);
	ASSERT_LE(0, s->tx_dropped);
	s->n = ethtool_stats(d->name, s->names, s->vals, DROP_STATS_MAX);
	if (!rtun) {
		ASSERT_EQ(-EOPNOTSUPP, s->n)
			TH_LOG("%s: ETHTOOL_GSTATS gave %d", d->name, s->n);
		s->n = 0;
		return;
	}
	ASSERT_LT(0, s->n) TH_LOG("%s: ETHTOOL_GSTATS: %s", d->name,
				  strerror(-s->n));
	for (i = 0; i < s->n; i++)
		ASSERT_GT(ETH_GSTRING_LEN, strnlen(s->names[i],
						   ETH_GSTRING_LEN));
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/*
 * Between @b and @a, each reason of @want grew by its count and no other
 * reason grew (rtun), and each of C's counters grew by what the reasons
 * named after it (rx_frame_, rx_drop_, tx_drop_) grew: in @want (both
 * drivers), and as read (rtun).  C's TAP devices do not show
 * rx_frame_errors, and neither do rtun's.
 */
static void expect_drops(struct __test_metadata *_metadata,
			 const struct tdev *d, const struct drop_stats *b,
			 const struct drop_stats *a,
			 const struct drop_want *want, int nwant)
{
	long frame = 0, rx = 0, tx = 0, delta, wanted;
	const char *name;
	int i, j;

	for (j = 0; j < nwant; j++) {
		name = want[j].name;
		frame += has_prefix(name, "rx_frame_") ? want[j].n : 0;
		rx += has_prefix(name, "rx_drop_") ? want[j].n : 0;
		tx += has_prefix(name, "tx_drop_") ? want[j].n : 0;
	}
	EXPECT_EQ(tdev_tap(d) ? 0 : frame, a->frame_errors - b->frame_errors)
		TH_LOG("%s: rx_frame_errors", d->name);
	EXPECT_EQ(rx, a->rx_dropped - b->rx_dropped)
		TH_LOG("%s: rx_dropped", d->name);
	EXPECT_EQ(tx, a->tx_dropped - b->tx_dropped)
		TH_LOG("%s: tx_dropped", d->name);
	if (!a->n)
		return;

	ASSERT_EQ(b->n, a->n);
	for (j = 0; j < nwant; j++) {
		for (i = 0; i < a->n; i++)
			if (!strcmp(a->names[i], want[j].name))
				break;
		EXPECT_LT(i, a->n) TH_LOG("%s: no counter %s", d->name,
					  want[j].name);
	}
	frame = rx = tx = 0;
	for (i = 0; i < a->n; i++) {
		name = a->names[i];
		ASSERT_EQ(0, strncmp(name, b->names[i], ETH_GSTRING_LEN));
		delta = a->vals[i] - b->vals[i];
		wanted = 0;
		for (j = 0; j < nwant; j++)
			if (!strcmp(name, want[j].name))
				wanted = want[j].n;
		EXPECT_EQ(wanted, delta) TH_LOG("%s: %s +%ld", d->name, name,
						delta);
		frame += has_prefix(name, "rx_frame_") ? delta : 0;
		rx += has_prefix(name, "rx_drop_") ? delta : 0;
		tx += has_prefix(name, "tx_drop_") ? delta : 0;
	}
	/* The reasons add up to the driver's part of C's counters. */
	EXPECT_EQ(tdev_tap(d) ? 0 : frame, a->frame_errors - b->frame_errors);
	EXPECT_EQ(rx, a->rx_dropped - b->rx_dropped);
	EXPECT_EQ(tx, a->tx_dropped - b->tx_dropped);
}

/* Transmit @len bytes of @data on @d through its packet socket. */
static int xmit(const struct tdev *d, const void *data, size_t len)
{
	return packet_xmit(d->pfd, sysfs_num(d->name, "ifindex"), NULL, data,
			   len, ETH_P_IP);
}

/*
 * Beyond C: rtun counts every drop under its reason (ethtool -S), and the
 * reasons of each of C's counters add up to what the device shows in it.
 * C tun has no statistics set; the C counters move alike on both.
 */
TEST_F(tun_write, drop_reasons)
{
	static const struct expect frame = REFUSE(EINVAL, CNT_FRAME);
	static const struct expect inval = REFUSE(EINVAL, CNT_NONE);
	static const struct expect dropped = REFUSE(EINVAL, CNT_DROPPED);
	static const unsigned char mac_ok[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 9 };
	static const struct drop_want tun_want[] = {
		{ "rx_frame_bad_gso_type", 1 },
		{ "rx_frame_tcp_csum_offset", 1 },
		{ "rx_drop_empty_packet", 1 },
		{ "rx_drop_bad_ip_version", 1 },
		{ "rx_drop_copy_fault", 1 },
		{ "rx_drop_dev_down", 1 },
		{ "rx_inval_short_for_vnet_hdr", 1 },
	};
	static const struct drop_want pi_want[] = {
		{ "rx_inval_short_for_pi", 1 },
		{ "tx_lost_read_short_for_pi", 1 },
	};
	static const struct drop_want tap_want[] = {
		{ "rx_inval_tap_too_short", 1 },
		{ "tx_drop_txfilter", 1 },
		{ "tx_drop_ring_full", 7 },
	};
	bool rtun = !strcmp(variant->node, "/dev/net/rtun");
	struct {
		struct tun_filter hdr;
		unsigned char addr[ETH_ALEN];
	} flt = { .hdr.count = 1 };
	struct pollfd pfd = { .events = POLLIN };
	struct drop_stats *b, *a;
	unsigned char buf[64];
	struct iovec iov[2];
	struct ifreq ifr;
	struct tdev *d;
	struct pkt *p;
	struct vhdr h;
	int i;

	b = xmalloc(sizeof(*b));
	a = xmalloc(sizeof(*a));
	memset(buf, 0, sizeof(buf));

	/* TUN with a virtio-net header: write refusals of each counter. */
	d = &self->dev[0];
	tdev_open(_metadata, d, variant->node,
		  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, true);
	p = pkt_simple(false, 4, IPPROTO_TCP, 300, true);
	drop_stats_read(_metadata, d, rtun, b);
	h = vhdr_for(p, 2, 100);
	check_pkt(_metadata, d, &h, p, &frame, "gso_type 2");
	h = vhdr_for(p, GSO_TCPV4, 100);
	h.csum_offset = 6;
	check_pkt(_metadata, d, &h, p, &frame, "TCP csum_offset 6");
	check_write(_metadata, d, NULL, NULL, 0, &dropped, "empty packet");
	p->data[0] = 0x55;
	check_pkt(_metadata, d, NULL, p, &dropped, "IP version 5");
	p->data[0] = 0x45;
	check_raw(_metadata, d, buf, 9, &inval, "9 bytes, header is 10");
	/* The header, then a packet at a bad address. */
	memset(buf, 0, VNET_HDR_LEN);
	iov[0] = (struct iovec){ .iov_base = buf, .iov_len = VNET_HDR_LEN };
	iov[1] = (struct iovec){ .iov_base = (void *)1, .iov_len = 60 };
	check_writev(_metadata, d, iov, 2, NULL, 0,
		     &(struct expect)REFUSE(EFAULT, CNT_DROPPED),
		     "packet at a bad address");
	tdev_set_up(_metadata, d, false);
	check_pkt(_metadata, d, NULL, p,
		  &(struct expect)REFUSE(EIO, CNT_DROPPED), "device down");
	tdev_set_up(_metadata, d, true);
	drop_stats_read(_metadata, d, rtun, a);
	expect_drops(_metadata, d, b, a, tun_want, ARRAY_SIZE(tun_want));
	free(p);

	/*
	 * TUN with PI: a short write; a read too short for the PI loses
	 * its packet.
	 */
	d = &self->dev[1];
	tdev_open(_metadata, d, variant->node, IFF_TUN, true);
	p = pkt_simple(false, 4, IPPROTO_UDP, 20, false);
	drop_stats_read(_metadata, d, rtun, b);
	check_raw(_metadata, d, buf, 3, &inval, "3 bytes, PI is 4");
	ASSERT_EQ(0, xmit(d, p->data, p->len));
	pfd.fd = d->fd;
	ASSERT_EQ(1, poll(&pfd, 1, RX_TIMEOUT_MS));
	EXPECT_EQ(-1, read(d->fd, buf, 2));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, poll(&pfd, 1, 0)) TH_LOG("the packet was not lost");
	drop_stats_read(_metadata, d, rtun, a);
	expect_drops(_metadata, d, b, a, pi_want, ARRAY_SIZE(pi_want));
	free(p);

	/*
	 * TAP: a short frame; transmits refused by the MAC filter and
	 * dropped by a full queue.
	 */
	d = &self->dev[1];
	tdev_open(_metadata, d, variant->node, IFF_TAP | IFF_NO_PI, true);
	p = pkt_simple(true, 4, IPPROTO_UDP, 20, false);
	drop_stats_read(_metadata, d, rtun, b);
	check_raw(_metadata, d, buf, 13, &inval, "13 bytes");
	memcpy(flt.addr, mac_ok, ETH_ALEN);
	ASSERT_LE(0, ioctl(d->fd, TUNSETTXFILTER, &flt))
		TH_LOG("TUNSETTXFILTER: %s", strerror(errno));
	ASSERT_EQ(0, xmit(d, p->data, p->len));	/* to pkt_mac_dst */
	memcpy(p->data, mac_ok, ETH_ALEN);
	ASSERT_EQ(0, xmit(d, p->data, p->len));
	flt.hdr.count = 0;
	ASSERT_LE(0, ioctl(d->fd, TUNSETTXFILTER, &flt));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_qlen = 5;
	ASSERT_EQ(0, ifr_ioctl(d->name, SIOCSIFTXQLEN, &ifr))
		TH_LOG("txqueuelen 5: %s", strerror(errno));
	/* One queued already, 4 more fit: 7 of 11 are dropped. */
	for (i = 0; i < 11; i++)
		ASSERT_EQ(0, xmit(d, p->data, p->len));
	drop_stats_read(_metadata, d, rtun, a);
	expect_drops(_metadata, d, b, a, tap_want, ARRAY_SIZE(tap_want));
	free(p);
	free(a);
	free(b);
}

RTUN_HARNESS_MAIN
