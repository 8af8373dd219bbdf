// SPDX-License-Identifier: GPL-2.0
/*
 * tun_diff: differential tester of the write and read paths of the tun
 * drivers.  Every case is applied to a device of the C reference driver
 * (/dev/net/tun) and to one of rtun (/dev/net/rtun) configured the same
 * way, and everything user space can observe is compared; the C driver is
 * the oracle, and a difference is a bug of rtun unless diff_allowed.h
 * recognises it as a documented one.
 *
 *   tun_diff [--seed S] [--count N] [--read-cases M] [--seconds T]
 *            [--case LINE] [--max-diffs K] [--strict-gaps] [--no-vlan]
 *            [--rtun-node PATH] [--queue-flags F] [--verbose]
 *
 * From the seed, N write cases and M read cases are generated, interleaved;
 * with --seconds, no new case starts after T seconds (make fuzz).
 * A case is a device mode (TUN or TAP, PI, vnet header and its size, byte
 * order, TUNSETOFFLOAD value, O_NONBLOCK, device down), a packet (well
 * formed, truncated or corrupted IPv4, IPv6, TCP, UDP, ICMP, ARP or random
 * bytes, 0 to 64 KiB) and, for a write case, a virtio_net_hdr drawn from
 * boundary values and an iovec split of the write (1 to 20 segments, maybe
 * one with a faulting pointer); for a read case, a legal GSO/checksum
 * header with which an AF_PACKET socket transmits the packet on each device
 * (or, for a VLAN case, on a veth bridged with the device, so that the tag
 * reaches the device out of band), and the buffer sizes and iovec split of
 * the reads that fetch what the device queued.
 *
 * Three in ten case numbers get a case of Linux 7.x's rules instead
 * (case_is_ext(); the others keep the cases they had before these came):
 * header sizes around the 24 bytes of struct virtio_net_hdr_v1_hash_tunnel,
 * UDP tunnel packets (TCP or UDP in GENEVE or VXLAN over IPv4 or IPv6)
 * with tunnel GSO headers, plausible or perturbed, GSO headers without
 * NEEDS_CSUM that fit the packet or not, the hdr_len bound, the tunnel
 * offload bits, and reads with tunnel offload on.  Since af_packet cannot
 * send a UDP tunnel GSO packet, a read case may instead have a C TAP in
 * the device's bridge write one ("feed"), which the bridge forwards to the
 * device.  They run on 6.12 too, whose C refuses the tunnel bits.
 *
 * Write cases compare the write's result, what a packet socket bound to
 * each device receives (bytes, the virtio_net_hdr af_packet derives from the
 * skb, sockaddr_ll and PACKET_AUXDATA) and the deltas of all device
 * counters.  Read cases compare the sendto() result, every read's result
 * and the reader's whole buffer (filled with a pattern before), and the
 * counter deltas.  The random IPv6 fragment identification the stack gives
 * UFO segments is zeroed before comparing.
 *
 * A case is printed as one line that --case takes back.  On a difference,
 * tun_diff prints the case, the input and both outcomes, shrinks the case
 * to a minimal one with the same kind of difference and prints that too;
 * later differences of the same kind are only counted, and after K
 * (--max-diffs, default 10) kinds only listed.  Known gaps (diff_allowed.h)
 * are counted apart and fail the run only with --strict-gaps.
 * --rtun-node /dev/net/tun runs C against itself: any difference then is
 * nondeterminism of the tester.  --no-vlan: no VLAN (bridge) read cases.
 * --queue-flags F: every device also gets the TUNSETIFF flags F of
 * IFF_MULTI_QUEUE, IFF_NAPI and IFF_NAPI_FRAGS (the last on TAP devices
 * only), so that writes go through the NAPI paths and reads through a
 * multiqueue device's queue selection; the flags are part of the run, not
 * of a case line (pass them again with --case).
 *
 * Exit status: 0 no difference, 1 differences, 2 usage or setup error.
 * Needs root, the ip command and both modules loaded; it creates devices
 * df[cr]0..9, and bridges dfb[cr]8/9 with veths dfv/dfw[cr]8/9 it deletes
 * at exit and C TAPs dff[cr]8/9 in them.  scripts/guest-diff.sh runs it in the test VM.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/virtio_net.h>

#include "rtun_test.h"
#include "pkt.h"
#include "diff_allowed.h"

#define PI_LEN		4	/* sizeof(struct tun_pi) */
#define VNET_HDR_LEN	10	/* sizeof(struct virtio_net_hdr) */
#define VNET_MAX	64	/* largest vnet_hdr_sz a case uses */
#define PKT_NAT_MAX	65000	/* largest packet the generator builds */
#define PKT_MAX		66000	/* largest packet of a case */
#define WBUF_MAX	(PKT_MAX + PI_LEN + VNET_MAX)
#define RX_BUF		70000	/* receive and read buffers */
#define MAX_IOV		20	/* explicit segments + the remainder */
#define MAX_BUFS	4	/* reader buffer sizes of a read case */
#define MAX_RX		4	/* packets kept per write case and side */
#define MAX_RD		80	/* reads per read case and side */
#define MAX_SIGS	64	/* distinct differences remembered */

/* Waits for a packet that should come: none seen yet, or seen on one side. */
#define WAIT_NONE_MS	10
#define WAIT_READ_MS	20
#define WAIT_OTHER_MS	500

#define NEEDS_CSUM	VIRTIO_NET_HDR_F_NEEDS_CSUM
#define DATA_VALID	VIRTIO_NET_HDR_F_DATA_VALID
#define RSC_INFO	VIRTIO_NET_HDR_F_RSC_INFO
#define GSO_TCPV4	VIRTIO_NET_HDR_GSO_TCPV4
#define GSO_UDP		VIRTIO_NET_HDR_GSO_UDP
#define GSO_TCPV6	VIRTIO_NET_HDR_GSO_TCPV6
#define GSO_UDP_L4	VIRTIO_NET_HDR_GSO_UDP_L4
#define GSO_ECN		VIRTIO_NET_HDR_GSO_ECN

/* Linux 7.x's UDP tunnel GSO (the UAPI headers may be 6.12's). */
#define GSO_TNL4	0x20	/* VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4 */
#define GSO_TNL6	0x40	/* VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6 */
#define GSO_TNL		(GSO_TNL4 | GSO_TNL6)
#define F_TNL_CSUM	0x08	/* VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM */
#define TNL_HDR_LEN	24	/* struct virtio_net_hdr_v1_hash_tunnel */
#define OFF_TNL		0x080	/* TUN_F_UDP_TUNNEL_GSO */
#define OFF_TNL_CSUM	0x100	/* TUN_F_UDP_TUNNEL_GSO_CSUM */

/* Whether the kernel is 7.x: its tun.c's rules (diff_allowed.h, offloads). */
static bool linux7;

enum { C_SIDE, R_SIDE };
static const char * const side_name[] = { "C", "rtun" };

/* ------------------------------------------------------------------ */
/* Bytes and checksums.                                                 */

/* What a reader's buffer holds before a read: never zero. */
static uint8_t fill_byte(size_t i)
{
	return 0x80 | ((i * 37 + 0x35) & 0x7f);
}

static void *xmalloc(size_t len)
{
	void *p = calloc(1, len ? len : 1);

	if (!p) {
		perror("malloc");
		exit(2);
	}
	return p;
}

#define die(...) fatal("tun_diff", __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Cases.                                                               */

/*
 * A struct virtio_net_hdr with its fields in CPU order, and the two
 * offsets of struct virtio_net_hdr_v1_hash_tunnel (bytes 20..23, little
 * endian), written only by a case that has them (tcase.vhx).
 */
struct vh {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t outer_th;
	uint16_t inner_nh;
};

/* Byte order of the vnet header: TUNSETVNETLE / TUNSETVNETBE set or not. */
enum { ORD_NATIVE, ORD_LE, ORD_BE, ORD_BOTH };
static const char * const ord_name[] = { "n", "le", "be", "lebe" };

/* Where the headers of a generated packet are. */
struct geom {
	size_t len;		/* natural length */
	size_t l3;		/* network header */
	size_t l4;		/* transport header, 0 if none */
	size_t hlen;		/* payload */
	uint16_t ethertype;	/* outer ethertype (TAP) or of the IP version */
	int ipv;		/* 4, 6 or 0 */
	int l4proto;
	/* A tunnel packet (l4 is then its outer UDP header): */
	size_t inner_nh, inner_th;
	int in_ipv, in_proto;
};

/*
 * How a case's packet is made from its seed: the packets of the first
 * cases (write: anything; read: clean), clean ones for a write (with a
 * VLAN tag: TAP only), or a UDP tunnel packet.
 */
enum { PK_GEN, PK_CLEAN, PK_CLEAN_VLAN, PK_TNL };
static const char * const pk_name[] = { "", "c:", "cv:", "t:" };

/*
 * The programs a --xdp case draws (tcase.xdp - 1): those that return
 * XDP_ABORTED, XDP_DROP, XDP_PASS and XDP_TX, and XDP_TRIM: XDP_PASS after
 * bpf_xdp_adjust_tail() took 4 bytes off the packet.
 */
#define XDP_TRIM 4
#define N_XDP 5

struct tcase {
	bool rd;		/* read-path case */
	bool tap, pi, nb, down;
	bool vlan;		/* read: through a bridge, tag out of band */
	bool feed;		/* read: written by a C TAP in the bridge */
	unsigned int vnet;	/* vnet_hdr_sz; 0: no IFF_VNET_HDR */
	int ord;
	unsigned int off;	/* TUNSETOFFLOAD argument */
	uint16_t pi_flags;	/* write: the PI written */
	uint16_t proto;		/* write: PI protocol; read: sll_protocol */
	struct vh vh;		/* write: header written; read: header sent */
	bool vhx;		/* vh's tunnel offsets are written too */
	int pk;			/* PK_*: how the packet is made */
	uint64_t pseed;		/* packet generator seed */
	const unsigned char *pbytes;	/* explicit packet, NULL: generated */
	size_t pbytes_len;
	size_t plen;		/* packet length */
	int niov;		/* explicit iovec segments, the rest follows */
	uint32_t iov[MAX_IOV - 1];
	int bad;		/* segment with a faulting pointer, -1: none */
	int nbufs;		/* read: reader buffer sizes, used in turn */
	uint32_t bufs[MAX_BUFS];
	int xdp;		/* write on a TAP: the XDP program's verdict + 1 (0: none) */
};

/*
 * The packet generator.  A packet is drawn layer by layer from one rng,
 * always in the same order (so that a seed keeps its packet): its kind,
 * layer 2, then for IP its shape (options, protocols, lengths), layer 3,
 * layer 4, the transport checksum and corruptions.  pkt.h builds it.
 */

/* The addresses of a TAP packet, and a VLAN tag in some (always if @vlan). */
static void gen_l2(struct rng *r, bool clean, bool vlan, unsigned char *src,
		   struct pkt_desc *d)
{
	static const unsigned char macs[][6] = {
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x02, 0, 0, 0, 0, 0x01 },
		{ 0x02, 0, 0, 0, 0, 0xaa },	/* the test devices' own */
		{ 0x01, 0, 0x5e, 0, 0, 0x01 },
		{ 0x33, 0x33, 0, 0, 0, 0x01 },
	};
	int i;

	d->eth = true;
	d->dst = macs[rnd(r, ARRAY_SIZE(macs))];
	for (i = 0; i < 6; i++)
		src[i] = chance(r, 80) ? (i ? 0 : 0x02) : rnd(r, 256);
	if (chance(r, 80))
		src[5] = 0x02;
	d->src = src;
	if (chance(r, clean ? 5 : 8) || vlan) {
		d->tpid = chance(r, 80) ? ETH_P_8021Q : ETH_P_8021AD;
		d->tci = rnd(r, 0x10000);
	}
}

/*
 * What follows layer 2 (@off bytes) in a packet of ethertype @et that is
 * not IP: an ARP request or reply for 192.168.99.x from @src, or random
 * bytes.  Returns the packet's length.
 */
static size_t gen_not_ip(struct rng *r, uint16_t et, const unsigned char *src,
			 unsigned char *p, size_t off)
{
	size_t len, i;

	if (et != ETH_P_ARP) {
		len = off + (chance(r, 50) ? rnd(r, 64) : rnd(r, 2000));
		for (i = off; i < len; i++)
			p[i] = rnd(r, 256);
		return len;
	}
	put16(p + off, ARPHRD_ETHER);
	put16(p + off + 2, ETH_P_IP);
	p[off + 4] = 6;
	p[off + 5] = 4;
	put16(p + off + 6, chance(r, 70) ? 1 : 2);
	memcpy(p + off + 8, src, 6);
	put32(p + off + 14, 0xc0a86302);
	memset(p + off + 18, 0, 6);
	put32(p + off + 24, 0xc0a86300 | rnd(r, 256));
	len = off + 28 + (chance(r, 50) ? 18 : 0);
	memset(p + off + 28, 0, len - off - 28);
	return len;
}

/*
 * The shape of an IP packet after @off bytes of layer 2: IPv4 options or
 * an IPv6 extension header, the transport protocol and its options, the
 * payload length.
 */
static void gen_shape(struct rng *r, bool clean, size_t off,
		      struct pkt_desc *d)
{
	static const int odd_proto[] = { 47, 132, 0, 255, 41 };
	unsigned int c;
	size_t hdrs, room;
	int proto;

	if (!clean && chance(r, 10))
		d->ip.opt = d->ip.ipv == 4 ? 4 * (1 + rnd(r, 3)) : 8;
	c = rnd(r, 100);
	if (clean)
		proto = c < 60 ? IPPROTO_TCP : IPPROTO_UDP;
	else if (c < 45)
		proto = IPPROTO_TCP;
	else if (c < 80)
		proto = IPPROTO_UDP;
	else if (c < 88)
		proto = d->ip.ipv == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	else
		proto = PICK(r, odd_proto);
	d->ip.proto = proto;
	d->l4.proto = proto;
	if (proto == IPPROTO_TCP && !clean && chance(r, 15))
		d->l4.optlen = 4 * (1 + rnd(r, 3));
	hdrs = ip_hdr_len(&d->ip) + l4_hdr_len(&d->l4);
	room = PKT_NAT_MAX - off - hdrs;
	c = rnd(r, 100);
	if (c < 10)
		d->payload = 0;
	else if (c < 35)
		d->payload = 1 + rnd(r, 64);
	else if (c < 55)
		d->payload = 65 + rnd(r, 1300);
	else if (c < 70)
		d->payload = 1400 + rnd(r, 121) - hdrs;
	else
		d->payload = 1500 + rnd(r, room - 1500);
}

/* The IP header's fields: ECN, id, DF, addresses, flow label. */
static void gen_l3(struct rng *r, bool clean, struct ip_desc *ip)
{
	static const unsigned char ip4_dst[][4] = {
		{ 192, 168, 99, 1 }, { 255, 255, 255, 255 }, { 224, 0, 0, 1 },
		{ 10, 1, 2, 3 }, { 127, 0, 0, 1 },
	};
	static const unsigned char ip6_all[16] = { 0xff, 0x02, [15] = 1 };

	if (ip->ipv == 4) {
		ip->tos = chance(r, 20) ? rnd(r, 4) : 0;	/* ECN */
		ip->id = rnd(r, 0x10000);
		ip->frag = chance(r, 80) ? IP4_DF : 0;
		ip->src = pkt_ip4_src;
		ip->dst = ip4_dst[clean ? 0 : rnd(r, ARRAY_SIZE(ip4_dst))];
	} else {
		ip->flow = rnd(r, 1 << 20);
		ip->src = pkt_ip6_src;
		ip->dst = !clean && chance(r, 20) ? ip6_all : pkt_ip6_dst;
	}
}

/* The transport header's fields: ports, sequence numbers, flags, id. */
static void gen_l4(struct rng *r, struct l4_desc *l4)
{
	static const uint8_t tcp_flags[] = { 0x18, 0x10, 0x02, 0x12, 0x11, 0x04,
					     0x58, 0x98, 0xff };

	switch (l4->proto) {
	case IPPROTO_TCP:
		l4->sport = 1024 + rnd(r, 60000);
		l4->dport = 5001;
		l4->seq = rng_next(r);
		l4->ack = rng_next(r);
		l4->flags = PICK(r, tcp_flags);
		l4->win = 65535;
		break;
	case IPPROTO_UDP:
		l4->sport = 1024 + rnd(r, 60000);
		l4->dport = 5000;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4->id = rnd(r, 0x10000);
		break;
	}
}

/*
 * The transport checksum of the packet @p laid out as @o, complete as
 * pkt_put() left it: kept, made partial (pseudo header only, virtio
 * style) or bad; @clean: complete or partial.
 */
static void gen_csum(struct rng *r, bool clean, int proto, unsigned char *p,
		     const struct pkt_layout *o)
{
	unsigned int mode = rnd(r, 100);

	if (clean)
		mode = mode < 50 ? 0 : 50;
	if (mode >= 80)
		put16(p + o->l4 + l4_csum_off(proto), rnd(r, 0x10000));
	else if (mode >= 45)
		l4_csum_put(p + o->l3, p + o->l4, proto, o->len - o->l4, true);
}

/* Corrupt a few header bytes or length fields of the packet @p. */
static void gen_corrupt(struct rng *r, int ipv, int proto, unsigned char *p,
			const struct pkt_layout *o)
{
	unsigned char *ip = p + o->l3, *l4 = p + o->l4;
	unsigned int c;

	for (c = 1 + rnd(r, 3); c; c--) {
		switch (rnd(r, 5)) {
		case 0:
			put16(ip + (ipv == 4 ? 2 : 4), rnd(r, 0x10000));
			break;
		case 1:
			ip[0] = rnd(r, 256);
			break;
		case 2:
			if (proto == IPPROTO_UDP)
				put16(l4 + 4, rnd(r, 0x10000));
			else if (proto == IPPROTO_TCP)
				l4[12] = rnd(r, 256);
			break;
		default:
			p[rnd(r, o->hlen)] ^= 1 + rnd(r, 255);
			break;
		}
	}
}

/*
 * The packet of seed @pseed: Ethernet framed if @tap, with a VLAN tag if
 * @vlan; @clean (read cases) gives only well-formed TCP or UDP over IPv4
 * or IPv6.  Writes at most
 * PKT_NAT_MAX bytes to @p and describes them in @g; returns the length.
 */
static size_t gen_packet(uint64_t pseed, bool tap, bool clean, bool vlan,
			 unsigned char *p, struct geom *g)
{
	static const uint16_t odd_et[] = { 0x0800, 0x86dd, 0x88cc, 0x1234, 0 };
	struct pkt_desc d = { .pattern = pseed };
	struct rng r = { pseed };
	unsigned int kind = rnd(&r, 100);
	struct pkt_layout o = {};
	unsigned char src[6];
	int ipv = 0;
	uint16_t et;

	memset(g, 0, sizeof(*g));
	if (clean)
		ipv = kind < 55 ? 4 : 6;
	else if (kind < 45 || (kind < 90 && kind >= 80 && !tap))
		ipv = 4;
	else if (kind < 80)
		ipv = 6;
	et = ipv == 4 ? ETH_P_IP : ipv == 6 ? ETH_P_IPV6 :
	     kind < 90 ? ETH_P_ARP : PICK(&r, odd_et);
	g->ethertype = et;
	if (tap) {
		gen_l2(&r, clean, vlan, src, &d);
		o.l3 = ETH_HLEN + (d.tpid ? 4 : 0);
		if (d.tpid)
			g->ethertype = d.tpid;
	}
	g->l3 = o.l3;
	if (!ipv) {
		if (tap)
			eth_put(p, d.dst, d.src, d.tpid, d.tci, et);
		g->len = gen_not_ip(&r, et, src, p, o.l3);
		g->hlen = g->len;
		return g->len;
	}

	d.ip.ipv = ipv;
	gen_shape(&r, clean, o.l3, &d);
	gen_l3(&r, clean, &d.ip);
	gen_l4(&r, &d.l4);
	pkt_put(p, &d, &o);
	g->ipv = ipv;
	g->l4proto = d.l4.proto;
	g->l4 = o.l4;
	g->hlen = o.hlen;
	g->len = o.len;
	if (o.hlen > o.l4)
		gen_csum(&r, clean, d.l4.proto, p, &o);
	if (!clean && chance(&r, 25))
		gen_corrupt(&r, ipv, d.l4.proto, p, &o);
	return g->len;
}

/*
 * The UDP tunnel packet of seed @pseed (Ethernet framed if @tap): TCP or
 * UDP over IPv4 or IPv6 in an Ethernet frame in GENEVE or VXLAN over
 * IPv4 (maybe with options) or IPv6 (maybe with a hop-by-hop header), the
 * inner checksum mostly partial, as a virtio driver leaves it, the outer
 * UDP checksum none, partial or complete.  Writes at most PKT_NAT_MAX
 * bytes to @p and describes them in @g; returns the length.
 */
static size_t gen_tnl_packet(uint64_t pseed, bool tap, unsigned char *p,
			     struct geom *g)
{
	static const unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff,
						0xff };
	static const unsigned char in_dst[6] = { 0x02, 0, 0, 0, 0, 0x11 };
	static const unsigned char in_src[6] = { 0x02, 0, 0, 0, 0, 0x12 };
	struct tnl_desc t = { .inner.pattern = pseed };
	struct pkt_desc *od = &t.outer, *in = &t.inner;
	struct rng r = { pseed };
	struct tnl_layout o;
	unsigned int c;

	od->eth = tap;
	od->dst = chance(&r, 70) ? pkt_mac_dst : bcast;
	od->src = pkt_mac_src;
	if (tap && chance(&r, 5)) {
		od->tpid = ETH_P_8021Q;
		od->tci = rnd(&r, 0x1000);
	}
	od->ip.ipv = chance(&r, 55) ? 4 : 6;
	od->ip.proto = IPPROTO_UDP;
	if (chance(&r, 12))
		od->ip.opt = od->ip.ipv == 4 ? 4 * (1 + rnd(&r, 10)) : 8;
	gen_l3(&r, true, &od->ip);
	od->l4.proto = IPPROTO_UDP;
	od->l4.sport = 32768 + rnd(&r, 28000);
	od->l4.dport = chance(&r, 60) ? GENEVE_PORT : VXLAN_PORT;
	t.vni = rnd(&r, 1 << 24);
	t.outer_csum = rnd(&r, 3);
	in->eth = true;
	in->dst = in_dst;
	in->src = in_src;
	in->ip.ipv = chance(&r, 55) ? 4 : 6;
	in->l4.proto = chance(&r, 65) ? IPPROTO_TCP : IPPROTO_UDP;
	in->ip.proto = in->l4.proto;
	gen_l3(&r, true, &in->ip);
	gen_l4(&r, &in->l4);
	if (in->l4.proto == IPPROTO_TCP && chance(&r, 15))
		in->l4.optlen = 4 * (1 + rnd(&r, 3));
	c = rnd(&r, 100);
	in->payload = c < 10 ? rnd(&r, 64) : c < 40 ? 64 + rnd(&r, 1400) :
		      c < 80 ? 1400 + rnd(&r, 8000) : 9400 + rnd(&r, 40000);
	in->partial = chance(&r, 80);
	tnl_put(p, &t, &o);
	memset(g, 0, sizeof(*g));
	g->len = o.len;
	g->l3 = o.l3;
	g->l4 = o.th;
	g->hlen = o.hlen;
	g->ethertype = od->tpid ? od->tpid :
		       od->ip.ipv == 6 ? ETH_P_IPV6 : ETH_P_IP;
	g->ipv = od->ip.ipv;
	g->l4proto = IPPROTO_UDP;
	g->inner_nh = o.inner_nh;
	g->inner_th = o.inner_th;
	g->in_ipv = in->ip.ipv;
	g->in_proto = in->l4.proto;
	return o.len;
}

/* The packet of case @c in @p (PKT_MAX bytes); its geometry in @g. */
static size_t pkt_make(const struct tcase *c, unsigned char *p, struct geom *g)
{
	size_t n, i;

	if (c->pbytes) {
		memset(g, 0, sizeof(*g));
		n = c->pbytes_len < c->plen ? c->pbytes_len : c->plen;
		memcpy(p, c->pbytes, n);
	} else if (c->pk == PK_TNL) {
		n = gen_tnl_packet(c->pseed, c->tap, p, g);
	} else if (c->pk != PK_GEN) {
		n = gen_packet(c->pseed, c->tap, true,
			       c->tap && c->pk == PK_CLEAN_VLAN, p, g);
	} else {
		n = gen_packet(c->pseed, c->tap, c->rd, c->vlan, p, g);
	}
	/* Longer than built: a trailer of pattern bytes. */
	for (i = n; i < c->plen; i++)
		p[i] = pattern(i);
	return c->plen;
}

/* ------------------------------------------------------------------ */
/* Case generation.                                                     */

/* A boundary value for a 16-bit header field of a @len byte packet. */
static uint16_t vboundary(struct rng *r, size_t len)
{
	static const uint16_t v[] = { 0, 1, 7, 8, 13, 14, 19, 20, 40, 54,
				      0x7fff, 0xfffe, 0xffff };
	unsigned int i = rnd(r, ARRAY_SIZE(v) + 3);

	if (i < ARRAY_SIZE(v))
		return v[i];
	return (uint16_t)(len - 1 + (i - ARRAY_SIZE(v)));
}

/* Header flags: each known bit alone and combined, unknown bits. */
static uint8_t vflags(struct rng *r)
{
	static const uint8_t f[] = {
		0, NEEDS_CSUM, DATA_VALID, RSC_INFO, NEEDS_CSUM | DATA_VALID,
		NEEDS_CSUM | RSC_INFO, DATA_VALID | RSC_INFO,
		NEEDS_CSUM | DATA_VALID | RSC_INFO, 0x08, 0x80, 0xf8, 0xff,
		NEEDS_CSUM | 0x40,
	};

	return PICK(r, f);
}

/* gso_type 0..5 with and without the ECN bit, or any byte. */
static uint8_t vgso_type(struct rng *r)
{
	if (chance(r, 5))
		return rnd(r, 256);
	return rnd(r, 6) | (chance(r, 30) ? GSO_ECN : 0);
}

/* A field value the packet's own geometry suggests. */
static uint16_t vnatural(struct rng *r, const struct geom *g, size_t len)
{
	size_t v[] = { g->l3, g->l4, g->hlen, 6, 16, len, g->l4 + 16,
		       g->l4 + 6, g->hlen + 1 };

	return PICK(r, v);
}

/* Replace field @i of @v by a boundary value. */
static void vh_mutate(struct rng *r, struct vh *v, size_t len)
{
	switch (rnd(r, 6)) {
	case 0:
		v->flags = vflags(r);
		break;
	case 1:
		v->gso_type = vgso_type(r);
		break;
	case 2:
		v->hdr_len = vboundary(r, len);
		break;
	case 3:
		v->gso_size = vboundary(r, len);
		break;
	case 4:
		v->csum_start = vboundary(r, len);
		break;
	default:
		v->csum_offset = vboundary(r, len);
		break;
	}
}

/*
 * The header a virtio driver would write for a @len byte packet of
 * geometry @g; with @legal (read cases, af_packet), GSO only with a
 * gso_size that makes at most 64 segments.
 */
static void vh_coherent(struct rng *r, const struct geom *g, size_t len,
			bool legal, struct vh *v)
{
	static const uint16_t sizes[] = { 1, 7, 8, 536, 1000, 1448, 1460 };
	bool tcp = g->l4proto == IPPROTO_TCP, udp = g->l4proto == IPPROTO_UDP;
	size_t l4 = g->l4 ? g->l4 : g->l3 + 20;
	size_t pay = len > g->hlen ? len - g->hlen : 0;
	size_t gs, min_gs = (pay + 63) / 64;

	memset(v, 0, sizeof(*v));
	if (chance(r, 70)) {
		v->flags = NEEDS_CSUM;
		v->csum_start = l4;
		v->csum_offset = tcp ? 16 : udp ? 6 : chance(r, 50) ? 16 : 6;
	}
	if ((tcp || udp) && (chance(r, 55) || (legal && len > 1500 + g->l3))) {
		if (tcp)
			v->gso_type = (g->ipv == 6 ? GSO_TCPV6 : GSO_TCPV4) |
				      (chance(r, 15) ? GSO_ECN : 0);
		else
			v->gso_type = chance(r, 85) ? GSO_UDP_L4 : GSO_UDP;
		switch (rnd(r, 5)) {
		case 0:
			gs = pay / 2 + 1;
			break;
		case 1:
			gs = pay - (pay > 0);
			break;
		case 2:
			gs = pay + rnd(r, 2);
			break;
		default:
			gs = PICK(r, sizes);
			break;
		}
		if (legal) {
			if (gs < min_gs)
				gs = min_gs;
			if (gs < 8)
				gs = 8;
			if (v->gso_type != GSO_TCPV4 && v->gso_type != GSO_TCPV6 &&
			    !(v->gso_type & GSO_ECN)) {
				/* UDP GSO wants the checksum offload. */
				v->flags = NEEDS_CSUM;
				v->csum_start = l4;
				v->csum_offset = 6;
			}
		}
		v->gso_size = gs > 0xfffe ? 0xfffe : gs;
	}
	switch (rnd(r, 5)) {
	case 0:
		v->hdr_len = 0;
		break;
	case 1:
		v->hdr_len = l4;
		break;
	case 2:
		v->hdr_len = v->csum_start + v->csum_offset + 2;
		break;
	case 3:
		v->hdr_len = g->hlen + rnd(r, 64);
		break;
	default:
		v->hdr_len = g->hlen;
		break;
	}
	if (legal && v->hdr_len > len)
		v->hdr_len = g->hlen;
	if (!legal && chance(r, 15))
		v->flags |= PICK(r, ((const uint8_t[]){ DATA_VALID, RSC_INFO,
							 0x08, 0x80 }));
}

/* Whether read cases may go through the VLAN bridges (--no-vlan). */
static bool vlan_cases = true;

/* A TUNSETOFFLOAD argument: mostly what QEMU and VPNs set, a few refused. */
static unsigned int gen_offload(struct rng *r)
{
	static const unsigned int legal[] = {
		0, TUN_F_CSUM, TUN_F_CSUM | TUN_F_TSO4, TUN_F_CSUM | TUN_F_TSO6,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
		TUN_F_CSUM | TUN_F_UFO, TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
		0x7f,
	};
	static const unsigned int refused[] = {
		TUN_F_TSO4, TUN_F_CSUM | TUN_F_TSO_ECN, TUN_F_CSUM | TUN_F_USO4,
		0x80, TUN_F_CSUM | 0x100,
	};

	return chance(r, 5) ? PICK(r, refused) : PICK(r, legal);
}

/*
 * Whether C's set_offload() accepts @arg (tun.c, set_offload()): on 7.x
 * the tunnel bits too, if TSO or USO is accepted with them.
 */
static bool offload_legal(unsigned int arg)
{
	bool plain = false;

	if (arg & TUN_F_CSUM) {
		arg &= ~TUN_F_CSUM;
		if (arg & (TUN_F_TSO4 | TUN_F_TSO6)) {
			arg &= ~(TUN_F_TSO_ECN | TUN_F_TSO4 | TUN_F_TSO6);
			plain = true;
		}
		arg &= ~TUN_F_UFO;
		if ((arg & TUN_F_USO4) && (arg & TUN_F_USO6)) {
			arg &= ~(TUN_F_USO4 | TUN_F_USO6);
			plain = true;
		}
		if (linux7 && plain && (arg & OFF_TNL))
			arg &= ~(OFF_TNL | OFF_TNL_CSUM);
	}
	return !arg;
}

/* The mode part of a case. */
static void gen_mode(struct rng *r, struct tcase *c, bool rd)
{
	static const unsigned int sizes[] = { 10, 10, 12, 12, 20, 20, 11, 64 };
	static const int ords[] = { ORD_NATIVE, ORD_NATIVE, ORD_LE, ORD_BE,
				    ORD_BE, ORD_BOTH };

	memset(c, 0, sizeof(*c));
	c->rd = rd;
	c->tap = chance(r, 50);
	c->pi = chance(r, 35);
	c->vnet = chance(r, rd ? 85 : 75) ? PICK(r, sizes) : 0;
	c->ord = PICK(r, ords);
	c->off = gen_offload(r);
	c->nb = chance(r, 20);
	c->down = chance(r, 2);
	c->bad = -1;
}

/* An iovec split of @total bytes into 1..20 segments; maybe a bad one. */
static void gen_iov(struct rng *r, struct tcase *c, size_t total)
{
	static const uint32_t small[] = { 0, 0, 1, 1, 2, 3, 4, 5, 7, 10, 13,
					  14, 16 };
	int i;

	c->niov = chance(r, 40) ? 0 : 1 + rnd(r, MAX_IOV - 1);
	for (i = 0; i < c->niov; i++)
		c->iov[i] = chance(r, 60) ? PICK(r, small) : rnd(r, total + 1);
	c->bad = chance(r, 3) ? (int)rnd(r, c->niov + 1) : -1;
}

static void gen_write(struct rng *r, struct tcase *c, unsigned char *pkt)
{
	static const size_t tiny[] = { 0, 1, 2, 3, 13, 14, 15, 19, 20, 21, 39,
				       40, 41, 53, 54, 55 };
	static const uint16_t protos[] = { ETH_P_IP, ETH_P_IPV6, ETH_P_ARP,
					   ETH_P_8021Q, 0, 0x0003, 0x1234,
					   0xffff };
	struct geom g;
	size_t n;
	int i;

	gen_mode(r, c, false);
	c->pseed = rng_next(r);
	n = gen_packet(c->pseed, c->tap, false, false, pkt, &g);
	switch (rnd(r, 100) / 10) {
	case 0:
	case 1:
		c->plen = n ? rnd(r, n) : 0;		/* truncated */
		break;
	case 2:
		c->plen = PICK(r, tiny);
		break;
	case 3:
		c->plen = n + 1 + rnd(r, 64);		/* trailer */
		break;
	default:
		c->plen = n;
		break;
	}
	if (c->pi) {
		c->pi_flags = chance(r, 85) ? 0 : chance(r, 50) ? TUN_PKT_STRIP :
			      rnd(r, 0x10000);
		if (chance(r, 70))
			c->proto = c->tap || g.ipv != 6 ? g.ethertype : ETH_P_IPV6;
		else
			c->proto = PICK(r, protos);
	}
	switch (rnd(r, 100) / 10) {
	case 0:
	case 1:
	case 2:
	case 3:
	case 4:
	case 5:
		vh_coherent(r, &g, c->plen, false, &c->vh);
		for (i = chance(r, 40) ? 0 : 1 + rnd(r, 2); i; i--)
			vh_mutate(r, &c->vh, c->plen);
		break;
	case 6:
	case 7:
		c->vh.flags = vflags(r);
		c->vh.gso_type = vgso_type(r);
		c->vh.hdr_len = chance(r, 70) ? vboundary(r, c->plen) :
						vnatural(r, &g, c->plen);
		c->vh.gso_size = chance(r, 70) ? vboundary(r, c->plen) :
						 vnatural(r, &g, c->plen);
		c->vh.csum_start = chance(r, 70) ? vboundary(r, c->plen) :
						   vnatural(r, &g, c->plen);
		c->vh.csum_offset = chance(r, 70) ? vboundary(r, c->plen) :
						    vnatural(r, &g, c->plen);
		break;
	default:
		c->vh.flags = vflags(r);
		c->vh.gso_type = chance(r, 50) ? vgso_type(r) : 0;
		break;
	}
	gen_iov(r, c, (c->pi ? PI_LEN : 0) + c->vnet + c->plen);
}

/* The reader's buffer sizes and iovec split for @pre + packet bytes. */
static void gen_bufs(struct rng *r, struct tcase *c, size_t pre)
{
	size_t tot = pre + c->plen;
	int i;

	{
		const size_t sizes[] = { 0, 1, 3, 4, 5, pre ? pre - 1 : 0, pre,
					 pre + 1, pre + 13, pre + 14, pre + 20,
					 pre + 54, tot - 1, tot, tot + 1,
					 RX_BUF, RX_BUF, rnd(r, tot + 2) };

		c->nbufs = 1 + rnd(r, MAX_BUFS);
		for (i = 0; i < c->nbufs; i++)
			c->bufs[i] = PICK(r, sizes);
		if (chance(r, 50))
			c->bufs[c->nbufs - 1] = RX_BUF;
		for (i = 0; i < c->nbufs; i++)
			if (c->bufs[i] > RX_BUF)
				c->bufs[i] = RX_BUF;
	}
	gen_iov(r, c, tot);
	if (c->bad >= 0 && chance(r, 40))
		c->bad = -1;
}

/* A read case after its mode: packet, header, protocol, reader. */
static void gen_read_rest(struct rng *r, struct tcase *c, unsigned char *pkt)
{
	static const uint16_t protos[] = { ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, 0,
					   0x1234 };
	struct geom g;

	c->vlan = c->tap && c->vnet && vlan_cases && chance(r, 25);
	c->pseed = rng_next(r);
	c->plen = gen_packet(c->pseed, c->tap, true, c->vlan, pkt, &g);
	vh_coherent(r, &g, c->plen, true, &c->vh);
	c->proto = c->tap ? get16(pkt + 12) :
		   g.ipv == 6 ? ETH_P_IPV6 : ETH_P_IP;
	if (chance(r, 5))
		c->proto = PICK(r, protos);
	gen_bufs(r, c, (c->pi ? PI_LEN : 0) + c->vnet);
}

static void gen_read(struct rng *r, struct tcase *c, unsigned char *pkt)
{
	gen_mode(r, c, true);
	gen_read_rest(r, c, pkt);
}

/*
 * Cases of Linux 7.x's rules (they run on 6.12 as well, whose C refuses
 * the tunnel bits as unknown GSO types): header sizes around the 24 bytes
 * of struct virtio_net_hdr_v1_hash_tunnel, UDP tunnel GSO headers on
 * tunnel packets, plausible and perturbed, GSO headers without NEEDS_CSUM
 * that the flow dissector checks against the packet, the hdr_len bound
 * past the parsed header, the tunnel offload bits, and reads with tunnel
 * offload on: of tunnel GSO packets a C TAP in the bridge writes, or of
 * what af_packet sends (a 24-byte header, or EFAULT below 24 bytes).
 * A share of the case numbers (case_is_ext()) gets these instead of the
 * cases of gen_write() and gen_read(); the other numbers keep theirs.
 */
#define EXT_PERCENT	30

static bool case_is_ext(unsigned long long seed, unsigned long i)
{
	struct rng x = { seed * 0xd1342543de82ef95ull ^
			 (i + 1) * 0x9e3779b97f4a7c15ull ^ 0x7e5707e57ull };

	rng_next(&x);
	return chance(&x, EXT_PERCENT);
}

/* TUNSETOFFLOAD with and without the tunnel bits, a fifth refused. */
static unsigned int gen_offload_x(struct rng *r)
{
	static const unsigned int legal[] = {
		0, TUN_F_CSUM, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | OFF_TNL,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | OFF_TNL | OFF_TNL_CSUM,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | OFF_TNL | OFF_TNL_CSUM,
		TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6 | OFF_TNL,
		TUN_F_CSUM | TUN_F_TSO4 | OFF_TNL | OFF_TNL_CSUM,
		TUN_F_CSUM | TUN_F_TSO6 | TUN_F_TSO_ECN | OFF_TNL,
		0x1ff,
	};
	static const unsigned int refused[] = {
		OFF_TNL, TUN_F_CSUM | OFF_TNL, TUN_F_CSUM | OFF_TNL_CSUM,
		TUN_F_CSUM | TUN_F_TSO4 | OFF_TNL_CSUM,
		TUN_F_CSUM | TUN_F_UFO | OFF_TNL,
		TUN_F_CSUM | TUN_F_USO4 | OFF_TNL, OFF_TNL | OFF_TNL_CSUM,
		TUN_F_CSUM | TUN_F_TSO4 | OFF_TNL | 0x200,
	};

	return chance(r, 20) ? PICK(r, refused) : PICK(r, legal);
}

/* The mode part of an extension case: header sizes around 24. */
static void gen_mode_x(struct rng *r, struct tcase *c, bool rd)
{
	static const unsigned int sizes[] = { 10, 12, 20, 23, 24, 24, 24, 32,
					      64 };
	static const int ords[] = { ORD_NATIVE, ORD_NATIVE, ORD_NATIVE, ORD_LE,
				    ORD_BE, ORD_BOTH };

	memset(c, 0, sizeof(*c));
	c->rd = rd;
	c->tap = chance(r, 50);
	c->pi = chance(r, 30);
	c->vnet = chance(r, 92) ? PICK(r, sizes) : 0;
	c->ord = PICK(r, ords);
	c->off = gen_offload_x(r);
	c->nb = chance(r, 20);
	c->down = chance(r, 2);
	c->bad = -1;
}

/*
 * The header a virtio driver with UDP tunnel GSO writes for the tunnel
 * packet @g of @len bytes: NEEDS_CSUM at the inner transport header, the
 * inner GSO type with the outer family's tunnel bit (or no GSO), maybe
 * the tunnel checksum flag, and the offsets.
 */
static void vh_tunnel(struct rng *r, const struct geom *g, size_t len,
		      struct vh *v)
{
	static const uint16_t sizes[] = { 536, 1000, 1400, 1448, 8, 1 };
	bool tcp = g->in_proto == IPPROTO_TCP;
	size_t pay = len > g->hlen ? len - g->hlen : 0;

	memset(v, 0, sizeof(*v));
	v->flags = NEEDS_CSUM | (chance(r, 40) ? F_TNL_CSUM : 0);
	v->csum_start = g->inner_th;
	v->csum_offset = tcp ? TCP_CSUM_OFF : UDP_CSUM_OFF;
	v->outer_th = g->l4;
	v->inner_nh = g->inner_nh;
	if (chance(r, 85)) {
		v->gso_type = (tcp ? g->in_ipv == 6 ? GSO_TCPV6 : GSO_TCPV4 :
			       GSO_UDP_L4) | (g->ipv == 6 ? GSO_TNL6 : GSO_TNL4);
		if (tcp && chance(r, 10))
			v->gso_type |= GSO_ECN;
		v->gso_size = chance(r, 75) ? PICK(r, sizes) : pay / 2 + 1;
	}
	switch (rnd(r, 4)) {
	case 0:
		v->hdr_len = 0;
		break;
	case 1:
		v->hdr_len = g->inner_th + (tcp ? 20 : 8);
		break;
	case 2:
		v->hdr_len = g->hlen;
		break;
	default:
		v->hdr_len = v->csum_start + v->csum_offset + 2;
		break;
	}
}

/* One perturbation of a tunnel header @v of the packet @g, @len bytes. */
static void vh_tunnel_mutate(struct rng *r, const struct geom *g, size_t len,
			     struct vh *v)
{
	static const uint8_t inner[] = { 0, GSO_UDP, GSO_TCPV4, GSO_TCPV6,
					 GSO_UDP_L4 };
	uint16_t ot = v->outer_th, nh = v->inner_nh, cs = v->csum_start;

	switch (rnd(r, 10)) {
	case 0:
		v->gso_type ^= PICK(r, ((const uint8_t[]){ GSO_TNL4, GSO_TNL6,
							   GSO_TNL }));
		break;
	case 1:
		v->gso_type = (v->gso_type & (GSO_TNL | GSO_ECN)) |
			      PICK(r, inner);
		break;
	case 2:
		v->flags = PICK(r, ((const uint8_t[]){ 0, F_TNL_CSUM,
			NEEDS_CSUM | DATA_VALID, v->flags ^ F_TNL_CSUM,
			NEEDS_CSUM | RSC_INFO, 0xff, DATA_VALID | F_TNL_CSUM }));
		break;
	case 3:
		v->outer_th = PICK(r, ((const uint16_t[]){ 0, 33, 34, 53, 54,
			ot - 1, ot + 1, nh, 0xffff }));
		break;
	case 4:
		v->inner_nh = PICK(r, ((const uint16_t[]){ 0, ot + 7, ot + 8,
			nh - 1, nh + 1, nh - 14, cs, 0xffff }));
		break;
	case 5:
		v->csum_start = PICK(r, ((const uint16_t[]){ nh + 19, nh + 20,
			nh + 39, nh + 40, cs - 1, cs + 1, ot, len }));
		break;
	case 6:
		v->csum_offset = PICK(r, ((const uint16_t[]){ 0, 6, 16,
							      0xffff }));
		break;
	case 7:
		v->gso_size = vboundary(r, len);
		break;
	case 8:
		v->hdr_len = chance(r, 50) ? vboundary(r, len) :
					     vnatural(r, g, len);
		break;
	default:
		v->gso_type ^= GSO_ECN;
		break;
	}
}

/*
 * A GSO header without NEEDS_CSUM for the clean packet @g of @len bytes
 * (7.x dissects it): a GSO type that fits the packet or not (TCPV6 on
 * IPv4, UDP on TCP, ...).
 */
static void vh_dissect(struct rng *r, const struct geom *g, size_t len,
		       struct vh *v)
{
	static const uint8_t types[] = { GSO_TCPV4, GSO_TCPV6, GSO_UDP,
					 GSO_UDP_L4 };
	static const uint16_t sizes[] = { 1, 8, 536, 1000, 1448 };
	bool tcp = g->l4proto == IPPROTO_TCP;
	size_t pay = len > g->hlen ? len - g->hlen : 0;

	memset(v, 0, sizeof(*v));
	if (chance(r, 40))
		v->gso_type = tcp ? g->ipv == 6 ? GSO_TCPV6 : GSO_TCPV4 :
			      chance(r, 50) ? GSO_UDP : GSO_UDP_L4;
	else
		v->gso_type = PICK(r, types);
	if (chance(r, 15))
		v->gso_type |= GSO_ECN;
	if (chance(r, 10))
		v->flags = DATA_VALID;
	v->gso_size = chance(r, 80) ? PICK(r, sizes) : pay / 2 + 1;
	v->hdr_len = PICK(r, ((const size_t[]){ 0, g->l4, g->l4 + 20, g->hlen,
						len }));
}

static void gen_write_x(struct rng *r, struct tcase *c, unsigned char *pkt)
{
	static const unsigned int tnl_sizes[] = { 24, 24, 24, 32, 64 };
	static const uint16_t protos[] = { ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, 0 };
	unsigned int kind, parsed;
	struct geom g;
	size_t n, th;
	int i;

	gen_mode_x(r, c, false);
	c->pseed = rng_next(r);
	kind = rnd(r, 100);
	if (kind < 40) {
		/* A UDP tunnel GSO packet, its header maybe perturbed. */
		c->pk = PK_TNL;
		c->vhx = true;
		if (chance(r, 80))
			c->vnet = PICK(r, tnl_sizes);
		n = gen_tnl_packet(c->pseed, c->tap, pkt, &g);
		c->plen = chance(r, 85) ? n : rnd(r, n + 1);
		vh_tunnel(r, &g, c->plen, &c->vh);
		for (i = chance(r, 60) ? 0 : 1 + rnd(r, 2); i; i--)
			vh_tunnel_mutate(r, &g, c->plen, &c->vh);
	} else if (kind < 75) {
		/* GSO without NEEDS_CSUM, fitting the packet or not. */
		c->pk = c->tap && chance(r, 25) ? PK_CLEAN_VLAN : PK_CLEAN;
		if (!c->vnet)
			c->vnet = VNET_HDR_LEN;
		n = gen_packet(c->pseed, c->tap, true, c->pk == PK_CLEAN_VLAN,
			       pkt, &g);
		th = g.l4proto == IPPROTO_TCP ? 20 : 8;
		switch (rnd(r, 10)) {
		case 0:
		case 1:
			c->plen = g.l4 + rnd(r, th);	/* transport cut */
			break;
		case 2:
			c->plen = g.l3 + rnd(r, g.l4 - g.l3);	/* IP cut */
			break;
		case 3:
			c->plen = n + 1 + rnd(r, 64);
			break;
		default:
			c->plen = n;
			break;
		}
		vh_dissect(r, &g, c->plen, &c->vh);
	} else {
		/*
		 * The hdr_len bound, which 7.x measures after the parsed
		 * header (24 or 10 bytes), not after vnet_hdr_sz.
		 */
		n = gen_packet(c->pseed, c->tap, false, false, pkt, &g);
		c->plen = chance(r, 70) ? n : rnd(r, n + 1);
		vh_coherent(r, &g, c->plen, false, &c->vh);
		if (kind < 90) {
			parsed = c->vnet >= TNL_HDR_LEN ? TNL_HDR_LEN :
							  VNET_HDR_LEN;
			n = c->plen + PICK(r, ((const int[]){ 0, 1, 2, -1 })) +
			    (chance(r, 50) && c->vnet > parsed ?
			     c->vnet - parsed : 0);
			if (c->vh.flags & NEEDS_CSUM && n >= 2 + c->vh.csum_offset)
				c->vh.csum_start = n - 2 - c->vh.csum_offset;
			else
				c->vh.hdr_len = n;
		} else {
			/* Tunnel bits and offsets on any packet. */
			c->vhx = true;
			c->vh.gso_type |= PICK(r, ((const uint8_t[]){ GSO_TNL4,
						GSO_TNL6, GSO_TNL }));
			c->vh.outer_th = vnatural(r, &g, c->plen);
			c->vh.inner_nh = vnatural(r, &g, c->plen);
		}
	}
	if (c->pi) {
		c->pi_flags = chance(r, 90) ? 0 : TUN_PKT_STRIP;
		if (chance(r, 75))
			c->proto = c->tap || g.ipv != 6 ? g.ethertype :
							  ETH_P_IPV6;
		else
			c->proto = PICK(r, protos);
	}
	gen_iov(r, c, (c->pi ? PI_LEN : 0) + c->vnet + c->plen);
}

/* Whether TUNSETOFFLOAD @arg turns tunnel GSO on, by 7.x's rules. */
static bool off_tnl_on(unsigned int arg)
{
	bool l7 = linux7, on;

	linux7 = true;
	on = (arg & OFF_TNL) && offload_legal(arg);
	linux7 = l7;
	return on;
}

/*
 * A header that makes the C TAP of the bridge write an skb with the
 * tunnel GSO bits but no gso_size, a packet no longer than gso_size
 * ("too small packets are not really GSO ones"), made a packet without
 * GSO; unless the device has tunnel offload, C's tun_put_user() cannot
 * describe that skb and fires WARN_ON_ONCE (rtun refuses it just the
 * same, and only logs: a gap of differences.md), which fails the run's
 * kernel log check.
 */
static void vh_feed_gso(const struct tcase *c, struct vh *v)
{
	unsigned int inner = v->gso_type & ~(GSO_TNL | GSO_ECN);
	size_t th = inner == GSO_UDP_L4 ? 8 : 20, pay;

	if (!(v->gso_type & GSO_TNL) || !inner || off_tnl_on(c->off))
		return;
	pay = c->plen > v->csum_start + th ? c->plen - v->csum_start - th : 0;
	if (pay > 8 && v->gso_size >= pay) {
		v->gso_size = pay - 1;
	} else if (pay <= 8) {
		v->gso_type = 0;
		v->gso_size = 0;
	}
}

static void gen_read_x(struct rng *r, struct tcase *c, unsigned char *pkt)
{
	static const unsigned int feed_sizes[] = { 24, 24, 32 };
	static const unsigned int feed_off[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | OFF_TNL,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | OFF_TNL | OFF_TNL_CSUM,
		TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6 | OFF_TNL | OFF_TNL_CSUM,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN |
		TUN_F_USO4 | TUN_F_USO6 | OFF_TNL | OFF_TNL_CSUM,
	};
	struct geom g;

	gen_mode_x(r, c, true);
	if (!vlan_cases || chance(r, 50)) {
		/* af_packet's packets, maybe with tunnel offload on. */
		gen_read_rest(r, c, pkt);
		return;
	}
	/* A tunnel packet a C TAP in the device's bridge writes. */
	c->feed = true;
	c->tap = true;
	if (!c->vnet || chance(r, 70))
		c->vnet = PICK(r, feed_sizes);
	if (chance(r, 60))
		c->off = PICK(r, feed_off);
	c->pk = PK_TNL;
	c->vhx = true;
	c->pseed = rng_next(r);
	c->plen = gen_tnl_packet(c->pseed, true, pkt, &g);
	vh_tunnel(r, &g, c->plen, &c->vh);
	if (c->vh.gso_size < 8 && c->vh.gso_type)
		c->vh.gso_size = 1000;
	if (chance(r, 15))
		vh_tunnel_mutate(r, &g, c->plen, &c->vh);
	vh_feed_gso(c, &c->vh);
	gen_bufs(r, c, (c->pi ? PI_LEN : 0) +
		 (c->vnet > TNL_HDR_LEN ? c->vnet : TNL_HDR_LEN));
}

/* ------------------------------------------------------------------ */
/* The one-line form of a case.                                         */

static unsigned char *print_pkt;	/* PKT_MAX bytes for case_print() */

static void print_list(FILE *f, const char *key, const uint32_t *v, int n)
{
	int i;

	if (!n)
		return;
	fprintf(f, " %s=", key);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "," : "", v[i]);
}

/* Print @c as --case takes it; @hex: the packet's bytes, not its seed. */
static void case_print(FILE *f, const struct tcase *c, bool hex)
{
	struct geom g;
	size_t i;

	fprintf(f, "%s %s", c->rd ? "r" : "w", c->tap ? "tap" : "tun");
	if (c->pi && c->rd)
		fprintf(f, " pi");
	else if (c->pi)
		fprintf(f, " pi=0x%04x:0x%04x", c->pi_flags, c->proto);
	if (c->vnet)
		fprintf(f, " vnet=%u", c->vnet);
	fprintf(f, " ord=%s off=0x%02x", ord_name[c->ord], c->off);
	if (c->nb)
		fprintf(f, " nb");
	if (c->down)
		fprintf(f, " down");
	if (c->vlan)
		fprintf(f, " vlan");
	if (c->feed)
		fprintf(f, " feed");
	if (c->rd)
		fprintf(f, " sp=0x%04x", c->proto);
	if (c->rd || c->vnet)
		fprintf(f, " vh=0x%02x,0x%02x,%u,%u,%u,%u", c->vh.flags,
			c->vh.gso_type, c->vh.hdr_len, c->vh.gso_size,
			c->vh.csum_start, c->vh.csum_offset);
	if ((c->rd || c->vnet) && c->vhx)
		fprintf(f, ",%u,%u", c->vh.outer_th, c->vh.inner_nh);
	if (hex || c->pbytes) {
		pkt_make(c, print_pkt, &g);
		fprintf(f, " pkt=x:");
		for (i = 0; i < c->plen; i++)
			fprintf(f, "%02x", print_pkt[i]);
		if (!c->plen)
			fprintf(f, "-");
	} else {
		fprintf(f, " pkt=%s%016llx:%zu", pk_name[c->pk],
			(unsigned long long)c->pseed, c->plen);
	}
	print_list(f, "iov", c->iov, c->niov);
	if (c->bad >= 0)
		fprintf(f, " bad=%d", c->bad);
	if (c->rd)
		print_list(f, "bufs", c->bufs, c->nbufs);
	if (c->xdp)
		fprintf(f, " xdp=%d", c->xdp - 1);
}

static void case_line(const char *prefix, const struct tcase *c, bool hex)
{
	printf("%s--case '", prefix);
	case_print(stdout, c, hex);
	printf("'\n");
}

static int parse_list(const char *s, uint32_t *v, int max)
{
	char *end;
	int n = 0;

	while (*s) {
		if (n == max)
			return -1;
		errno = 0;
		v[n++] = strtoul(s, &end, 0);
		if (errno || end == s || (*end && *end != ','))
			return -1;
		s = *end ? end + 1 : end;
	}
	return n;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int parse_pkt(const char *s, struct tcase *c)
{
	unsigned char *b;
	size_t n, i;
	char *end;

	if (!strncmp(s, "x:", 2)) {
		s += 2;
		if (!strcmp(s, "-"))
			s = "";
		n = strlen(s);
		if (n % 2 || n / 2 > PKT_MAX)
			return -1;
		b = xmalloc(n / 2);
		for (i = 0; i < n / 2; i++) {
			if (hexval(s[2 * i]) < 0 || hexval(s[2 * i + 1]) < 0)
				return -1;
			b[i] = hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]);
		}
		c->pbytes = b;
		c->pbytes_len = c->plen = n / 2;
		return 0;
	}
	for (c->pk = ARRAY_SIZE(pk_name) - 1; c->pk > PK_GEN; c->pk--)
		if (!strncmp(s, pk_name[c->pk], strlen(pk_name[c->pk])))
			break;
	s += strlen(pk_name[c->pk]);
	errno = 0;
	c->pseed = strtoull(s, &end, 16);
	if (errno || end == s || *end != ':')
		return -1;
	c->plen = strtoul(end + 1, &end, 10);
	return *end || c->plen > PKT_MAX ? -1 : 0;
}

/* Parse a --case line into @c; 0 or -1 (message printed). */
static int case_parse(const char *line, struct tcase *c)
{
	char *copy = strdup(line), *save = NULL, *tok, *val;
	uint32_t v[8];
	int i, n, ret = -1;
	bool pkt = false;

	memset(c, 0, sizeof(*c));
	c->bad = -1;
	tok = strtok_r(copy, " \t", &save);
	if (!tok || (strcmp(tok, "w") && strcmp(tok, "r")))
		goto bad;
	c->rd = !strcmp(tok, "r");
	tok = strtok_r(NULL, " \t", &save);
	if (!tok || (strcmp(tok, "tun") && strcmp(tok, "tap")))
		goto bad;
	c->tap = !strcmp(tok, "tap");
	while ((tok = strtok_r(NULL, " \t", &save))) {
		val = strchr(tok, '=');
		if (val)
			*val++ = '\0';
		if (!strcmp(tok, "pi")) {
			c->pi = true;
			if (val && sscanf(val, "%x:%x", &v[0], &v[1]) != 2)
				goto bad;
			if (val) {
				c->pi_flags = v[0];
				c->proto = v[1];
			}
		} else if (!strcmp(tok, "nb") && !val) {
			c->nb = true;
		} else if (!strcmp(tok, "down") && !val) {
			c->down = true;
		} else if (!strcmp(tok, "vlan") && !val) {
			c->vlan = true;
		} else if (!strcmp(tok, "feed") && !val) {
			c->feed = true;
		} else if (!val) {
			goto bad;
		} else if (!strcmp(tok, "vnet")) {
			c->vnet = strtoul(val, NULL, 0);
			if (c->vnet < VNET_HDR_LEN || c->vnet > VNET_MAX)
				goto bad;
		} else if (!strcmp(tok, "ord")) {
			for (c->ord = 0; c->ord < 4; c->ord++)
				if (!strcmp(val, ord_name[c->ord]))
					break;
			if (c->ord == 4)
				goto bad;
		} else if (!strcmp(tok, "off")) {
			c->off = strtoul(val, NULL, 0);
		} else if (!strcmp(tok, "sp")) {
			c->proto = strtoul(val, NULL, 0);
		} else if (!strcmp(tok, "vh")) {
			n = parse_list(val, v, 8);
			if (n != 6 && n != 8)
				goto bad;
			c->vh = (struct vh){ v[0], v[1], v[2], v[3], v[4], v[5] };
			c->vhx = n == 8;
			if (c->vhx) {
				c->vh.outer_th = v[6];
				c->vh.inner_nh = v[7];
			}
		} else if (!strcmp(tok, "pkt")) {
			if (parse_pkt(val, c))
				goto bad;
			pkt = true;
		} else if (!strcmp(tok, "iov")) {
			n = parse_list(val, c->iov, MAX_IOV - 1);
			if (n < 0)
				goto bad;
			c->niov = n;
		} else if (!strcmp(tok, "bad")) {
			c->bad = strtol(val, NULL, 0);
		} else if (!strcmp(tok, "xdp")) {
			c->xdp = strtol(val, NULL, 0) + 1;
			if (c->xdp < 1 || c->xdp > N_XDP)
				goto bad;
		} else if (!strcmp(tok, "bufs")) {
			n = parse_list(val, c->bufs, MAX_BUFS);
			if (n <= 0)
				goto bad;
			c->nbufs = n;
			for (i = 0; i < n; i++)
				if (c->bufs[i] > RX_BUF)
					goto bad;
		} else {
			goto bad;
		}
	}
	if (!pkt || (c->rd && !c->nbufs) || (c->xdp && (c->rd || !c->tap)) ||
	    ((c->vlan || c->feed) && (!c->rd || !c->tap || !c->vnet)) ||
	    (c->vlan && c->feed) || (c->pk == PK_CLEAN_VLAN && !c->tap))
		goto bad;
	ret = 0;
	goto out;
bad:
	fprintf(stderr, "tun_diff: bad case at '%s': %s\n", tok ? tok : "end",
		line);
out:
	free(copy);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Devices: a C and an rtun device per mode, made when first needed.    */

/* Driver nodes; --rtun-node /dev/net/tun checks that C matches itself. */
static const char *nodes[] = { "/dev/net/tun", "/dev/net/rtun" };
static const unsigned char mac_dev[6] = { 0x02, 0, 0, 0, 0, 0xaa };

/* One device and what it is configured as now. */
struct side {
	int fd;			/* the tun fd */
	int pfd;		/* AF_PACKET socket bound to the device */
	int ifindex;
	char name[IFNAMSIZ];
	unsigned int sz;	/* vnet_hdr_sz */
	bool le, be;		/* TUNSETVNETLE, TUNSETVNETBE */
	unsigned int off;	/* TUNSETOFFLOAD */
	bool nb;		/* O_NONBLOCK */
	int feed;		/* VLAN pairs: veth whose peer is in the bridge */
	int ffd;		/* VLAN pairs: the C TAP in the bridge, or -1 */
	int xdp;		/* --xdp: the program attached, as tcase.xdp */
};

static bool verbose;

/*
 * Modes 0-7: TAP, PI and vnet header bits.  Modes 8 and 9: TAP with vnet
 * header, without and with PI, each device the only other port of a
 * bridge whose first port is a veth: a VLAN tagged frame sent on the
 * veth's peer is untagged on receive and reaches the TAP's transmit with
 * its tag out of band, which a read re-inserts.
 */
#define N_MODES 10
#define MODE_VLAN 8
static struct side sides[N_MODES][2];
static bool made[N_MODES];
/* Time spent creating device pairs, and of it waiting for udev (summary). */
static double setup_s, udev_s;
static unsigned long n_made;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}


static int nl_fd;		/* rtnetlink, for the counters */
static int tx_fd;		/* AF_PACKET socket that injects read cases */
static unsigned long setup_diffs;

/* TAP, PI and vnet header: the flags fixed at TUNSETIFF. */
static int mode_of(const struct tcase *c)
{
	if (c->vlan || c->feed)
		return MODE_VLAN + c->pi;
	return c->tap << 2 | c->pi << 1 | !!c->vnet;
}

/*
 * TUNSETIFF flags every device gets on top of its mode's (--queue-flags):
 * IFF_MULTI_QUEUE, IFF_NAPI, and IFF_NAPI_FRAGS, which only TAP devices
 * get (C refuses it for the others).
 */
static int queue_flags;

/*
 * --xdp: write cases on TAP devices get an XDP program (or none) drawn per
 * case, attached in native mode to both devices before the write:
 * XDP_ABORTED, XDP_DROP, XDP_PASS or XDP_TX (N_XDP verdicts), loaded once.
 * A non-blocking write meets it before an skb exists (tun_build_skb()),
 * the others as generic XDP; what XDP_TX sends back is read from the tun
 * fd and compared.
 */
static bool xdp_mode;
static int xdp_progs[N_XDP];
static unsigned long xdp_cases, xdp_reads;	/* with a program; read back (C) */

/*
 * The program of write case @c (tcase.xdp).  Not XDP_TX for a GSO packet:
 * generic XDP sends the skb back as it is, and a read of a GSO type virtio
 * cannot express (UFO) makes C WARN, which ends a run (rtun logs it).
 */
static int xdp_draw(struct rng *r, const struct tcase *c)
{
	int xdp = rnd(r, N_XDP + 1);

	if (xdp == XDP_TX + 1 && c->vnet && c->vh.gso_type)
		xdp = XDP_PASS + 1;
	return xdp;
}

/* Attach the program of verdict @xdp - 1 (0: none) to @s; 0 or errno. */
static int xdp_apply(struct side *s, int xdp)
{
	int i, err;

	static const struct bpf_insn trim[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2,
		  .imm = -4 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_xdp_adjust_tail },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	if (!xdp_progs[0]) {
		for (i = 0; i < N_XDP; i++) {
			xdp_progs[i] = i == XDP_TRIM ?
				bpf_prog_load(BPF_PROG_TYPE_XDP, trim, ARRAY_SIZE(trim)) :
				bpf_prog_return(BPF_PROG_TYPE_XDP, i);
			if (xdp_progs[i] < 0)
				die("BPF_PROG_LOAD of an XDP program: %s",
				    strerror(errno));
		}
	}
	err = xdp_set(s->ifindex, xdp ? xdp_progs[xdp - 1] : -1,
		      XDP_FLAGS_DRV_MODE);
	return -err;
}

/* TUNSETIFF flags of @mode. */
static int mode_flags(int mode)
{
	int f;

	if (mode >= MODE_VLAN)
		mode = 4 | (mode - MODE_VLAN) << 1 | 1;
	f = (mode & 4 ? IFF_TAP : IFF_TUN) | (mode & 2 ? 0 : IFF_NO_PI) |
	    (mode & 1 ? IFF_VNET_HDR : 0);
	f |= queue_flags & ~IFF_NAPI_FRAGS;
	if (f & IFF_TAP)
		f |= queue_flags & IFF_NAPI_FRAGS;
	return f;
}

static int set_mac(const char *dev, const unsigned char *mac)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	return ifr_ioctl(dev, SIOCSIFHWADDR, &ifr);
}

/*
 * Wait until udev (if it runs) has handled the new device @ifindex: its
 * MACAddressPolicy gives TAP devices a MAC address of its own, which must
 * not overwrite ours later.  udev writes the device's database entry when
 * it is done with the event.
 */
static void udev_wait(int ifindex)
{
	double t0 = now();
	char path[64];
	int ms;

	if (access("/run/udev/control", F_OK))
		return;
	snprintf(path, sizeof(path), "/run/udev/data/n%d", ifindex);
	for (ms = 0; ms < 5000 && access(path, F_OK); ms += 10)
		sleep_ms(10);
	udev_s += now() - t0;
}

/* A pending ENETDOWN of a packet socket whose device went down. */
static void clear_sk_err(int fd)
{
	socklen_t len = sizeof(int);
	int err;

	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
}

/*
 * Create the device of @mode on driver @k, IPv6 off (the stack then sends
 * nothing by itself); side_finish() does the rest.
 */
static void side_open(struct side *s, int mode, int k)
{
	int flags = mode_flags(mode);
	char want[IFNAMSIZ];

	memset(s, 0, sizeof(*s));
	s->ffd = -1;
	snprintf(want, sizeof(want), "df%c%d", k == C_SIDE ? 'c' : 'r', mode);
	s->fd = dev_open(nodes[k]);
	if (s->fd < 0)
		die("open %s: %s", nodes[k], strerror(errno));
	if (set_iff(s->fd, want, flags, s->name))
		die("TUNSETIFF %s 0x%x on %s: %s", want, flags, nodes[k],
		    strerror(errno));
	if (ipv6_disable(s->name))
		die("disable IPv6 on %s: %s", s->name, strerror(errno));
	s->ifindex = sysfs_num(s->name, "ifindex");
	if (s->ifindex <= 0)
		die("no ifindex for %s", s->name);
}

/*
 * The rest of side_open() for @s, once udev is done with it (TAP: its
 * MACAddressPolicy must not overwrite our address later): the same MAC
 * address on both drivers, a packet socket bound to it, up.  Split from
 * side_open() so that udev handles both devices of a pair at once.
 */
static void side_finish(struct side *s, int mode)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	int one = 1, rcvbuf = 8 << 20;

	if (mode_flags(mode) & IFF_TAP) {
		/* A TUN device has no MAC address for udev to change. */
		udev_wait(s->ifindex);
		if (set_mac(s->name, mac_dev))
			die("SIOCSIFHWADDR %s: %s", s->name, strerror(errno));
	}
	s->pfd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s->pfd < 0)
		die("AF_PACKET: %s", strerror(errno));
	sll.sll_ifindex = s->ifindex;
	if (setsockopt(s->pfd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) ||
	    setsockopt(s->pfd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    setsockopt(s->pfd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) ||
	    bind(s->pfd, (struct sockaddr *)&sll, sizeof(sll)))
		die("packet socket on %s: %s", s->name, strerror(errno));
	if (ioctl(s->fd, TUNSETOFFLOAD, 0UL))
		die("TUNSETOFFLOAD 0 on %s: %s", s->name, strerror(errno));
	if (link_up(s->name))
		die("up %s: %s", s->name, strerror(errno));
	clear_sk_err(s->pfd);
	s->sz = VNET_HDR_LEN;
}

/* Delete the bridge and veth of driver @k's @mode, if they exist. */
static void bridge_del(int mode, int k)
{
	char name[IFNAMSIZ];
	char kc = k == C_SIDE ? 'c' : 'r';

	snprintf(name, sizeof(name), "dfb%c%d", kc, mode);
	rtnl_link_del_name(name);
	snprintf(name, sizeof(name), "dfv%c%d", kc, mode);
	rtnl_link_del_name(name);
}

/* Delete the bridges and veths bridge_setup() made (at exit). */
static void bridges_del(void)
{
	static bool done;
	int mode, k;

	if (done)
		return;
	done = true;
	for (mode = MODE_VLAN; mode < N_MODES; mode++)
		for (k = 0; k < 2; k++)
			bridge_del(mode, k);
}

/*
 * The C TAP @name (with 24-byte headers, a MAC address of its own) in the
 * bridge @br, which writes the tunnel packets of feed cases: af_packet
 * cannot send UDP tunnel GSO packets, a 7.x tun can.  Returns its fd.
 */
static int feeder_open(const char *br, const char *name)
{
	static const unsigned char mac[6] = { 0x02, 0, 0, 0, 0, 0xbb };
	char got[IFNAMSIZ];
	int fd, sz = TNL_HDR_LEN;

	fd = dev_open("/dev/net/tun");
	if (fd < 0)
		die("open /dev/net/tun: %s", strerror(errno));
	if (set_iff(fd, name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, got) ||
	    strcmp(got, name))
		die("TUNSETIFF %s: %s", name, strerror(errno));
	if (ioctl(fd, TUNSETVNETHDRSZ, &sz))
		die("TUNSETVNETHDRSZ %s: %s", name, strerror(errno));
	if (ipv6_disable(name))
		die("disable IPv6 on %s: %s", name, strerror(errno));
	udev_wait(sysfs_num(name, "ifindex"));
	if (set_mac(name, mac))
		die("SIOCSIFHWADDR %s: %s", name, strerror(errno));
	if (rtnl_link_master(name, br) || link_up(name))
		die("cannot put %s in bridge %s", name, br);
	return fd;
}

/*
 * Put @s (of driver @k, @mode) in a bridge of its own with a veth and a C
 * TAP (feeder_open()); @s->feed is the veth end outside the bridge, @s->ffd
 * the TAP's fd.  Returns 0, or -1 if the device cannot be a bridge port
 * (the bridge and veth are needed either way).
 */
static int bridge_setup(struct side *s, int mode, int k)
{
	char br[IFNAMSIZ], v[IFNAMSIZ], w[IFNAMSIZ], f[IFNAMSIZ];
	char kc = k == C_SIDE ? 'c' : 'r';
	int ms, err;

	snprintf(f, sizeof(f), "dff%c%d", kc, mode);
	snprintf(br, sizeof(br), "dfb%c%d", kc, mode);
	snprintf(v, sizeof(v), "dfv%c%d", kc, mode);
	snprintf(w, sizeof(w), "dfw%c%d", kc, mode);
	/* Left over by a run that was killed. */
	bridge_del(mode, k);
	atexit(bridges_del);
	/* Netlink, not ip(8): a fork and exec is seconds on the debug kernel. */
	err = rtnl_bridge_add(br);
	if (!err)
		err = rtnl_veth_add(v, w);
	if (err)
		die("cannot create bridge %s and veth %s: %s", br, v, strerror(-err));
	if (ipv6_disable(br) || ipv6_disable(v) || ipv6_disable(w))
		die("disable IPv6 on %s, %s, %s: %s", br, v, w, strerror(errno));
	err = rtnl_link_master(w, br);
	if (err || link_up(br) || link_up(w) || link_up(v))
		die("cannot set up bridge %s: %s", br, strerror(err ? -err : errno));
	s->feed = sysfs_num(v, "ifindex");
	if (s->feed <= 0)
		die("no ifindex for %s", v);
	s->ffd = feeder_open(br, f);
	if (rtnl_link_master(s->name, br))
		return -1;
	/* All ports forwarding (3), no STP: at once or nearly. */
	for (ms = 0; ms < 5000; ms += 10) {
		if (sysfs_num(s->name, "brport/state") == 3 &&
		    sysfs_num(w, "brport/state") == 3 &&
		    sysfs_num(f, "brport/state") == 3)
			return 0;
		sleep_ms(10);
	}
	die("bridge %s: ports not forwarding", br);
}

/* The device pair of @mode; TUNGETIFF must give both the same flags. */
static struct side *pair_get(int mode)
{
	struct side *s = sides[mode];
	struct ifreq ifr[2];
	int k, br_err[2];
	double t0 = now();

	if (made[mode])
		return s;
	for (k = 0; k < 2; k++)
		side_open(&s[k], mode, k);
	for (k = 0; k < 2; k++) {
		side_finish(&s[k], mode);
		memset(&ifr[k], 0, sizeof(ifr[k]));
		if (ioctl(s[k].fd, TUNGETIFF, &ifr[k]))
			die("TUNGETIFF %s: %s", s[k].name, strerror(errno));
		br_err[k] = mode >= MODE_VLAN ? bridge_setup(&s[k], mode, k) : 0;
	}
	if (br_err[0] != br_err[1]) {
		printf("DIFFERENCE (setup): %s can%s be a bridge port, %s can%s\n",
		       s[0].name, br_err[0] ? "not" : "", s[1].name,
		       br_err[1] ? "not" : "");
		setup_diffs++;
	}
	if (br_err[0] || br_err[1])
		die("no VLAN read cases possible: run with --no-vlan");
	if (ifr[0].ifr_flags != ifr[1].ifr_flags) {
		printf("DIFFERENCE (setup): TUNGETIFF flags of mode %d: C 0x%x, rtun 0x%x\n",
		       mode, (unsigned short)ifr[0].ifr_flags,
		       (unsigned short)ifr[1].ifr_flags);
		setup_diffs++;
	}
	made[mode] = true;
	n_made++;
	setup_s += now() - t0;
	if (verbose) {
		char addr[2][32] = { "", "" };

		for (k = 0; k < 2; k++)
			sysfs_read(s[k].name, "address", addr[k], sizeof(addr[k]));
		printf("mode %d: %s (%s, ifindex %d) and %s (%s, ifindex %d)\n",
		       mode, s[0].name, addr[0], s[0].ifindex, s[1].name,
		       addr[1], s[1].ifindex);
	}
	return s;
}

/* Counters of devices @a and @b, one rtnetlink round trip for both. */
static void stats2(const struct side *s, struct rtnl_link_stats64 *st)
{
	struct {
		struct nlmsghdr nh;
		struct if_stats_msg ifsm;
	} req[2];
	static uint32_t seq;
	char buf[8192];
	struct nlmsghdr *nh;
	struct if_stats_msg *ifsm;
	struct rtattr *rta;
	int k, got = 0, alen;
	ssize_t n;

	memset(req, 0, sizeof(req));
	for (k = 0; k < 2; k++) {
		req[k].nh.nlmsg_len = sizeof(req[k]);
		req[k].nh.nlmsg_type = RTM_GETSTATS;
		req[k].nh.nlmsg_flags = NLM_F_REQUEST;
		req[k].nh.nlmsg_seq = ++seq;
		req[k].ifsm.ifindex = s[k].ifindex;
		req[k].ifsm.filter_mask =
			IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
	}
	if (send(nl_fd, req, sizeof(req), 0) != sizeof(req))
		die("RTM_GETSTATS: %s", strerror(errno));
	memset(st, 0, 2 * sizeof(*st));
	while (got < 2) {
		n = recv(nl_fd, buf, sizeof(buf), 0);
		if (n < 0)
			die("RTM_GETSTATS reply: %s", strerror(errno));
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_ERROR)
				die("RTM_GETSTATS: %s", strerror(-((struct nlmsgerr *)
							NLMSG_DATA(nh))->error));
			if (nh->nlmsg_type != RTM_NEWSTATS)
				continue;
			ifsm = NLMSG_DATA(nh);
			k = ifsm->ifindex == s[0].ifindex ? 0 : 1;
			rta = (struct rtattr *)((char *)ifsm +
						NLMSG_ALIGN(sizeof(*ifsm)));
			alen = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifsm));
			for (; RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
				if (rta->rta_type != IFLA_STATS_LINK_64)
					continue;
				memcpy(&st[k], RTA_DATA(rta),
				       RTA_PAYLOAD(rta) < sizeof(st[k]) ?
				       RTA_PAYLOAD(rta) : sizeof(st[k]));
			}
			got++;
		}
	}
}

/* Configuration steps of a case, each compared between the drivers. */
enum {
	CFG_HDRSZ, CFG_LE, CFG_BE, CFG_OFF, CFG_NB, CFG_DOWN, CFG_UP, CFG_XDP,
	CFG_STEPS,
};
static const char * const cfg_name[] = {
	"TUNSETVNETHDRSZ", "TUNSETVNETLE", "TUNSETVNETBE", "TUNSETOFFLOAD",
	"O_NONBLOCK", "link down", "link up", "XDP program",
};

static int ioc_int(int fd, unsigned long req, int v)
{
	return ioctl(fd, req, &v) ? errno : 0;
}

static int ioc_off(int fd, unsigned int off)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)off) ? errno : 0;
}

/*
 * Configure @s as @c wants, changing only what differs from its current
 * configuration; the result of each step in @cfg (0 or errno).  A refused
 * TUNSETOFFLOAD is tried from offload 0, so that the state after it is the
 * same whatever the previous case set.
 */
static void cfg_apply(struct side *s, const struct tcase *c, int *cfg)
{
	bool le = c->ord == ORD_LE || c->ord == ORD_BOTH;
	bool be = c->ord == ORD_BE || c->ord == ORD_BOTH;
	int fl;

	if (c->vnet && c->vnet != s->sz) {
		cfg[CFG_HDRSZ] = ioc_int(s->fd, TUNSETVNETHDRSZ, c->vnet);
		if (!cfg[CFG_HDRSZ])
			s->sz = c->vnet;
	}
	if (le != s->le) {
		cfg[CFG_LE] = ioc_int(s->fd, TUNSETVNETLE, le);
		if (!cfg[CFG_LE])
			s->le = le;
	}
	if (be != s->be) {
		cfg[CFG_BE] = ioc_int(s->fd, TUNSETVNETBE, be);
		if (!cfg[CFG_BE])
			s->be = be;
	}
	if (offload_legal(c->off)) {
		if (c->off != s->off) {
			cfg[CFG_OFF] = ioc_off(s->fd, c->off);
			if (!cfg[CFG_OFF])
				s->off = c->off;
		}
	} else {
		if (s->off && !ioc_off(s->fd, 0))
			s->off = 0;
		cfg[CFG_OFF] = ioc_off(s->fd, c->off);
	}
	if (c->nb != s->nb) {
		fl = fcntl(s->fd, F_GETFL);
		fl = c->nb ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
		cfg[CFG_NB] = fcntl(s->fd, F_SETFL, fl) ? errno : 0;
		if (!cfg[CFG_NB])
			s->nb = c->nb;
	}
	if (c->xdp != s->xdp) {
		cfg[CFG_XDP] = xdp_apply(s, c->xdp);
		if (!cfg[CFG_XDP])
			s->xdp = c->xdp;
	}
	if (c->down)
		cfg[CFG_DOWN] = link_set(s->name, false) ? errno : 0;
}

/* ------------------------------------------------------------------ */
/* Running a case on both drivers.                                      */

/* A packet the packet socket received. */
struct rxpkt {
	int ret;			/* recvmsg(): data bytes, or -errno */
	int flags;			/* msg_flags */
	struct virtio_net_hdr vh;
	struct sockaddr_ll sll;
	bool has_aux;
	struct tpacket_auxdata aux;
	unsigned char *data;		/* RX_BUF bytes */
};

/* One read() of the tun fd. */
struct rdres {
	ssize_t ret;
	int err;
	size_t buflen;
	unsigned char *buf;		/* RX_BUF bytes, the whole buffer */
};

/* What one driver did with a case. */
struct outcome {
	int cfg[CFG_STEPS];
	ssize_t ret;			/* writev() or sendto() */
	int err;
	int nrx;			/* packets received, at most MAX_RX kept */
	struct rxpkt rx[MAX_RX];
	int nrd;			/* reads */
	struct rdres rd[MAX_RD];
	bool end;			/* a non-blocking read once all is read */
	ssize_t end_ret;
	int end_err;
	bool xr;			/* --xdp: a read of what XDP_TX sent back */
	ssize_t xr_ret;
	int xr_err;
	unsigned char *xr_buf;		/* RX_BUF bytes */
	struct rtnl_link_stats64 delta;	/* counters after - before */
};

static struct outcome out[2];
static unsigned char *pkt_buf;		/* the case's packet */
static unsigned char *in_buf;		/* what is written or sent */
static size_t in_len;
static unsigned char *fill_buf;		/* fill_byte() pattern, RX_BUF */
static int pi_proto;			/* the protocol a PI of a read shows, -1: unknown */
static unsigned char *scratch;		/* RX_BUF */
static void *bad_page;			/* PROT_NONE */

/* poll() that adds the time it waited in vain to waited_s. */
static double waited_s;
static unsigned long waits;

static int poll_wait(struct pollfd *p, int ms)
{
	double t0;
	int n;

	if (!ms)
		return poll(p, 1, 0);
	t0 = now();
	n = poll(p, 1, ms);
	if (n <= 0) {
		waited_s += now() - t0;
		waits++;
	}
	return n;
}

static void outcome_reset(struct outcome *o)
{
	int i;

	memset(o->cfg, 0, sizeof(o->cfg));
	o->ret = 0;
	o->err = 0;
	o->nrx = 0;
	o->nrd = 0;
	o->end = false;
	o->end_ret = 0;
	o->end_err = 0;
	o->xr = false;
	o->xr_ret = 0;
	o->xr_err = 0;
	memset(&o->delta, 0, sizeof(o->delta));
	for (i = 0; i < MAX_RX; i++) {
		o->rx[i].ret = 0;
		o->rx[i].flags = 0;
		o->rx[i].has_aux = false;
	}
}

static bool vnet_le(int ord)
{
	if (ord == ORD_LE || ord == ORD_BOTH)
		return true;
	if (ord == ORD_BE)
		return false;
	return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
}

static void put_vnet16(unsigned char *p, uint16_t v, bool le)
{
	if (le) {
		p[0] = v;
		p[1] = v >> 8;
	} else {
		put16(p, v);
	}
}

/* A struct virtio_net_hdr of @v in byte order @le at @p. */
static void vh_put(unsigned char *p, const struct vh *v, bool le)
{
	p[0] = v->flags;
	p[1] = v->gso_type;
	put_vnet16(p + 2, v->hdr_len, le);
	put_vnet16(p + 4, v->gso_size, le);
	put_vnet16(p + 6, v->csum_start, le);
	put_vnet16(p + 8, v->csum_offset, le);
}

/* The tunnel offsets of @v into bytes 20..23 of the header at @p. */
static void vh_put_tnl(unsigned char *p, const struct vh *v)
{
	put_vnet16(p + 20, v->outer_th, true);
	put_vnet16(p + 22, v->inner_nh, true);
}

/*
 * What case @c writes (PI, vnet header whose bytes past the 10th are
 * garbage, packet) or, for a read case, sends (the vnet header in host
 * order for af_packet, packet), into in_buf.
 */
static void make_input(const struct tcase *c)
{
	struct geom g;
	size_t off = 0, i;

	pkt_make(c, pkt_buf, &g);
	if (c->feed) {
		/* The feeder's 24-byte header, little endian. */
		memset(in_buf, 0, TNL_HDR_LEN);
		vh_put(in_buf, &c->vh, true);
		vh_put_tnl(in_buf, &c->vh);
		off = TNL_HDR_LEN;
	} else if (c->rd) {
		vh_put(in_buf, &c->vh,
		       __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__);
		off = VNET_HDR_LEN;
	} else {
		if (c->pi) {
			memcpy(in_buf, &c->pi_flags, 2);
			put16(in_buf + 2, c->proto);
			off = PI_LEN;
		}
		if (c->vnet) {
			vh_put(in_buf + off, &c->vh, vnet_le(c->ord));
			for (i = VNET_HDR_LEN; i < c->vnet; i++)
				in_buf[off + i] = 0xa5 ^ i;
			if (c->vhx && c->vnet >= TNL_HDR_LEN)
				vh_put_tnl(in_buf + off, &c->vh);
			off += c->vnet;
		}
	}
	memcpy(in_buf + off, pkt_buf, c->plen);
	in_len = off + c->plen;
	/* af_packet works out a protocol 0 itself; a bridge strips a tag. */
	pi_proto = c->proto && c->proto != ETH_P_ALL ? c->proto : -1;
	if (c->vlan)
		pi_proto = c->plen >= ETH_HLEN + 4 ? get16(pkt_buf + 16) : -1;
	if (c->feed)
		pi_proto = -1;
}

/* Length of segment @i of case @c's iovec over @total, @off bytes before it. */
static size_t iov_seg_len(const struct tcase *c, int i, size_t total,
			  size_t off)
{
	size_t len = total - off;

	if (i < c->niov && c->iov[i] < len)
		len = c->iov[i];
	return len;
}

/* The iovec of case @c over @total bytes at @base; returns its length. */
static int iov_build(const struct tcase *c, unsigned char *base, size_t total,
		     struct iovec *iov)
{
	size_t off = 0, len;
	int i;

	for (i = 0; i <= c->niov; i++) {
		len = iov_seg_len(c, i, total, off);
		iov[i].iov_base = i == c->bad ? bad_page : base + off;
		iov[i].iov_len = len;
		off += len;
	}
	return c->niov + 1;
}

/*
 * Where the faulting segment of case @c's iovec over @total bytes starts,
 * or @total if none can fault: copies stop at its first byte, which is in
 * bad_page, but one of length 0 is never touched.
 */
static size_t iov_fault_off(const struct tcase *c, size_t total)
{
	size_t off = 0, len;
	int i;

	for (i = 0; i <= c->niov; i++) {
		len = iov_seg_len(c, i, total, off);
		if (i == c->bad && len)
			return off;
		off += len;
	}
	return total;
}

/* Forget what earlier cases left queued on @s. */
static void drain(struct side *s, bool tun_fd)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	int i;

	for (i = 0; i < 10000; i++)
		if (recv(s->pfd, scratch, RX_BUF, MSG_DONTWAIT | MSG_TRUNC) < 0 &&
		    errno != ENETDOWN)
			break;
	for (i = 0; tun_fd && i < 10000 && poll(&p, 1, 0) > 0; i++)
		if (read(s->fd, scratch, RX_BUF) < 0 && errno == EAGAIN)
			break;
	/* What the bridge flooded to the feeder. */
	p.fd = s->ffd;
	for (i = 0; s->ffd >= 0 && i < 10000 && poll(&p, 1, 0) > 0; i++)
		if (read(s->ffd, scratch, RX_BUF) < 0)
			break;
}

/*
 * --xdp: what the write's XDP_TX (or its generic XDP's transmit) queued on
 * @s's tun fd, read whole into a buffer of fill bytes; nothing queued
 * reads as EAGAIN.
 */
static void xr_collect(struct side *s, struct outcome *o)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };

	o->xr = true;
	memcpy(o->xr_buf, fill_buf, RX_BUF);
	if (poll(&p, 1, 0) != 1) {
		o->xr_ret = -1;
		o->xr_err = EAGAIN;
		return;
	}
	o->xr_ret = read(s->fd, o->xr_buf, RX_BUF);
	o->xr_err = o->xr_ret < 0 ? errno : 0;
}

/* Receive one packet (not an outgoing one) on @s; false if none queued. */
static bool rx_one(struct side *s, struct rxpkt *r)
{
	char cbuf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	struct iovec iov[2] = {
		{ .iov_base = &r->vh, .iov_len = sizeof(r->vh) },
		{ .iov_base = r->data, .iov_len = RX_BUF },
	};
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t n;

	for (;;) {
		memset(&msg, 0, sizeof(msg));
		memset(&r->sll, 0, sizeof(r->sll));
		memset(&r->vh, 0, sizeof(r->vh));
		msg.msg_name = &r->sll;
		msg.msg_namelen = sizeof(r->sll);
		msg.msg_iov = iov;
		msg.msg_iovlen = 2;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		n = recvmsg(s->pfd, &msg, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n >= 0 && r->sll.sll_pkttype == PACKET_OUTGOING)
			continue;
		break;
	}
	r->ret = n < 0 ? -errno : n - VNET_HDR_LEN;
	r->flags = n < 0 ? 0 : msg.msg_flags;
	r->has_aux = false;
	for (cm = n < 0 ? NULL : CMSG_FIRSTHDR(&msg); cm;
	     cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_PACKET &&
		    cm->cmsg_type == PACKET_AUXDATA) {
			memcpy(&r->aux, CMSG_DATA(cm), sizeof(r->aux));
			r->has_aux = true;
		}
	}
	return true;
}

/*
 * Receive what the packet socket of @s has; if that is fewer than @want
 * packets, wait up to @wait_ms once for more.
 */
static void rx_collect(struct side *s, struct outcome *o, int want,
		       int wait_ms)
{
	struct pollfd p = { .fd = s->pfd, .events = POLLIN };
	struct rxpkt spare = { .data = scratch };

	for (;;) {
		if (rx_one(s, o->nrx < MAX_RX ? &o->rx[o->nrx] : &spare)) {
			o->nrx++;
			continue;
		}
		if (o->nrx >= want || !wait_ms || poll_wait(&p, wait_ms) <= 0)
			return;
		wait_ms = 0;
	}
}

/*
 * Read what the tun fd of @s has, with case @c's buffer sizes in turn and
 * its iovec split, each buffer filled with fill_byte() first; if that is
 * fewer than @want reads, wait up to @wait_ms once for more.
 */
static void rd_collect(struct side *s, const struct tcase *c,
		       struct outcome *o, int want, int wait_ms)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	struct iovec iov[MAX_IOV];
	struct rdres *r;
	int n;

	while (o->nrd < MAX_RD) {
		n = poll_wait(&p, o->nrd < want ? wait_ms : 0);
		if (n <= 0) {
			if (o->nrd >= want || !wait_ms)
				return;
			wait_ms = 0;
			continue;
		}
		r = &o->rd[o->nrd++];
		r->buflen = c->bufs[(o->nrd - 1) % c->nbufs];
		memcpy(r->buf, fill_buf, r->buflen);
		n = iov_build(c, r->buf, r->buflen, iov);
		r->ret = readv(s->fd, iov, n);
		r->err = r->ret < 0 ? errno : 0;
	}
}

/*
 * Where the identification of an IPv6 fragment header is in a read of
 * case @c into @buf, or 0: the stack picks it at random when it splits a
 * UFO packet, so it differs from one run to the next.
 */
static size_t frag_id_off(const struct tcase *c, const unsigned char *buf,
			  size_t len)
{
	size_t off = (c->pi ? PI_LEN : 0) + c->vnet;
	uint16_t et = ETH_P_IPV6;

	if (c->tap) {
		if (len < off + ETH_HLEN + 4)
			return 0;
		et = get16(buf + off + 12);
		off += ETH_HLEN;
		if (et == ETH_P_8021Q || et == ETH_P_8021AD) {
			et = get16(buf + off + 2);
			off += 4;
		}
	}
	if (et != ETH_P_IPV6 || len < off + 7 || buf[off] >> 4 != 6 ||
	    buf[off + 6] != 44)		/* NEXTHDR_FRAGMENT */
		return 0;
	return off + 44;
}

/* Zero the random IPv6 fragment identifications of UFO segments. */
static void normalize(const struct tcase *c)
{
	struct rdres *r;
	size_t off, len;
	int k, i;

	if (!c->rd || (c->vh.gso_type & ~GSO_ECN) != GSO_UDP)
		return;
	for (k = 0; k < 2; k++) {
		for (i = 0; i < out[k].nrd; i++) {
			r = &out[k].rd[i];
			if (r->ret <= 0)
				continue;
			len = (size_t)r->ret < r->buflen ? (size_t)r->ret :
							   r->buflen;
			/* As much of it as the read returned. */
			off = frag_id_off(c, r->buf, len);
			if (off && off < len)
				memset(r->buf + off, 0, len - off < 4 ? len - off : 4);
		}
	}
}

/* Apply case @c to both drivers; the outcomes in out[]. */
static void run_case(const struct tcase *c)
{
	struct side *s = pair_get(mode_of(c));
	struct rtnl_link_stats64 before[2], after[2];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct iovec iov[MAX_IOV];
	uint64_t *b, *a, *d;
	size_t i;
	int k, n;

	make_input(c);
	for (k = 0; k < 2; k++) {
		outcome_reset(&out[k]);
		/*
		 * Under the configuration that queued them: a packet that
		 * came too late for an earlier case's reads, read after its
		 * tunnel offload went off, makes C's read WARN.
		 */
		drain(&s[k], true);
		cfg_apply(&s[k], c, out[k].cfg);
		drain(&s[k], c->rd);
	}
	stats2(s, before);
	for (k = 0; k < 2; k++) {
		if (c->feed) {
			out[k].ret = write(s[k].ffd, in_buf, in_len);
		} else if (c->rd) {
			sll.sll_protocol = htons(c->proto);
			sll.sll_ifindex = c->vlan ? s[k].feed : s[k].ifindex;
			out[k].ret = sendto(tx_fd, in_buf, in_len, 0,
					    (struct sockaddr *)&sll, sizeof(sll));
		} else {
			n = iov_build(c, in_buf, in_len, iov);
			out[k].ret = writev(s[k].fd, iov, n);
		}
		out[k].err = out[k].ret < 0 ? errno : 0;
	}
	if (c->down) {
		for (k = 0; k < 2; k++) {
			out[k].cfg[CFG_UP] = link_up(s[k].name) ? errno : 0;
			clear_sk_err(s[k].pfd);
		}
	}
	if (c->rd) {
		rd_collect(&s[C_SIDE], c, &out[C_SIDE], out[C_SIDE].ret >= 0,
			   WAIT_READ_MS);
		rd_collect(&s[R_SIDE], c, &out[R_SIDE],
			   out[C_SIDE].nrd ?: out[R_SIDE].ret >= 0,
			   out[C_SIDE].nrd ? WAIT_OTHER_MS : WAIT_READ_MS);
		if (out[R_SIDE].nrd > out[C_SIDE].nrd)
			rd_collect(&s[C_SIDE], c, &out[C_SIDE], out[R_SIDE].nrd,
				   WAIT_OTHER_MS);
		for (k = 0; c->nb && k < 2; k++) {
			out[k].end = true;
			out[k].end_ret = read(s[k].fd, scratch, RX_BUF);
			out[k].end_err = out[k].end_ret < 0 ? errno : 0;
		}
	} else {
		rx_collect(&s[C_SIDE], &out[C_SIDE], out[C_SIDE].ret >= 0,
			   WAIT_NONE_MS);
		rx_collect(&s[R_SIDE], &out[R_SIDE],
			   out[C_SIDE].nrx ?: out[R_SIDE].ret >= 0,
			   out[C_SIDE].nrx ? WAIT_OTHER_MS : WAIT_NONE_MS);
		if (out[R_SIDE].nrx > out[C_SIDE].nrx)
			rx_collect(&s[C_SIDE], &out[C_SIDE], out[R_SIDE].nrx,
				   WAIT_OTHER_MS);
	}
	for (k = 0; c->xdp && k < 2; k++)
		xr_collect(&s[k], &out[k]);
	if (c->xdp) {
		xdp_cases++;
		xdp_reads += out[C_SIDE].xr_ret > 0;
	}
	stats2(s, after);
	for (k = 0; k < 2; k++) {
		b = (uint64_t *)&before[k];
		a = (uint64_t *)&after[k];
		d = (uint64_t *)&out[k].delta;
		for (i = 0; i < sizeof(before[k]) / sizeof(*b); i++)
			d[i] = a[i] - b[i];
	}
	normalize(c);
}

/* ------------------------------------------------------------------ */
/* Comparing the outcomes.                                              */

enum {
	D_CFG = 1 << 0,		/* a configuration step */
	D_RET = 1 << 1,		/* the write's or sendto()'s result */
	D_RXN = 1 << 2,		/* how many packets the stack received */
	D_RXRET = 1 << 3,	/* recvmsg() result, length, MSG_TRUNC */
	D_RXHDR = 1 << 4,	/* the vnet header af_packet reports */
	D_RXMETA = 1 << 5,	/* sockaddr_ll, PACKET_AUXDATA */
	D_RXDATA = 1 << 6,	/* the received bytes */
	D_RDN = 1 << 7,		/* how many reads found a packet */
	D_RDRET = 1 << 8,	/* a read's result */
	D_RDDATA = 1 << 9,	/* a reader's buffer */
	D_RDEND = 1 << 10,	/* the read of the empty queue */
	D_CNT = 1 << 11,	/* a counter delta */
	D_XDP = 1 << 12,	/* what XDP_TX sent back to the reader */
	D_NKINDS = 13,
};
static const char * const kind_name[] = {
	"config", "result", "rx-count", "rx-result", "rx-vnet-hdr", "rx-meta",
	"rx-data", "read-count", "read-result", "read-data", "read-empty",
	"counters", "xdp-tx-read",
};

/* Names of struct rtnl_link_stats64's fields, in order. */
static const char * const cnt_name[] = {
	"rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors",
	"tx_errors", "rx_dropped", "tx_dropped", "multicast", "collisions",
	"rx_length_errors", "rx_over_errors", "rx_crc_errors",
	"rx_frame_errors", "rx_fifo_errors", "rx_missed_errors",
	"tx_aborted_errors", "tx_carrier_errors", "tx_fifo_errors",
	"tx_heartbeat_errors", "tx_window_errors", "rx_compressed",
	"tx_compressed", "rx_nohandler", "rx_otherhost_dropped",
};
#define N_CNT (sizeof(struct rtnl_link_stats64) / sizeof(uint64_t) < \
	       ARRAY_SIZE(cnt_name) ? \
	       sizeof(struct rtnl_link_stats64) / sizeof(uint64_t) : \
	       ARRAY_SIZE(cnt_name))

static unsigned long allowed_seen[DIFF_N_ALLOWED];

/* The details of the last compare(), printed on a difference. */
static char rep[1 << 16];
static size_t rep_len;

static void __attribute__((format(printf, 1, 2))) repf(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (rep_len >= sizeof(rep) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(rep + rep_len, sizeof(rep) - rep_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		rep_len += n;
	if (rep_len > sizeof(rep) - 1)
		rep_len = sizeof(rep) - 1;
}

/* Hex dump of @p[@from..@to) with offsets, into the report. */
static void rep_hex(const char *who, const unsigned char *p, size_t from,
		    size_t to)
{
	size_t i;

	for (i = from & ~15ul; i < to; i++) {
		if (i % 16 == 0)
			repf("%s    %s %05zx:", i == (from & ~15ul) ? "" : "\n",
			     who, i);
		if (i < from)
			repf("   ");
		else
			repf(" %02x", p[i]);
	}
	if (to > from)
		repf("\n");
}

/* Dump both sides of @len bytes around their first difference. */
static void rep_both(const unsigned char *a, const unsigned char *b,
		     size_t len)
{
	size_t i, from, to;

	for (i = 0; i < len && a[i] == b[i]; i++)
		;
	from = i > 32 ? i - 32 : 0;
	to = i + 96 < len ? i + 96 : len;
	repf("    first difference at byte %zu of %zu\n", i, len);
	rep_hex("C   ", a, from, to);
	rep_hex("rtun", b, from, to);
}

static void rep_vh(const char *who, const struct virtio_net_hdr *v)
{
	repf("    %s vnet hdr: flags 0x%02x gso_type 0x%02x hdr_len %u gso_size %u csum_start %u csum_offset %u\n",
	     who, v->flags, v->gso_type, v->hdr_len, v->gso_size,
	     v->csum_start, v->csum_offset);
}

static void rep_meta(const char *who, const struct rxpkt *r)
{
	repf("    %s sll: proto 0x%04x hatype %u pkttype %u halen %u",
	     who, ntohs(r->sll.sll_protocol), r->sll.sll_hatype,
	     r->sll.sll_pkttype, r->sll.sll_halen);
	if (r->has_aux)
		repf("; aux: status 0x%x len %u snaplen %u mac %u net %u vlan_tci 0x%x vlan_tpid 0x%x",
		     r->aux.tp_status, r->aux.tp_len, r->aux.tp_snaplen,
		     r->aux.tp_mac, r->aux.tp_net, r->aux.tp_vlan_tci,
		     r->aux.tp_vlan_tpid);
	else
		repf("; no aux");
	repf("\n");
}

static unsigned int compare_rx(int i)
{
	const struct rxpkt *a = &out[C_SIDE].rx[i], *b = &out[R_SIDE].rx[i];
	unsigned int mask = 0;

	if (a->ret != b->ret || (a->flags & MSG_TRUNC) != (b->flags & MSG_TRUNC)) {
		repf("  rx[%d]: recvmsg C %d%s, rtun %d%s\n", i, a->ret,
		     a->flags & MSG_TRUNC ? " (trunc)" : "", b->ret,
		     b->flags & MSG_TRUNC ? " (trunc)" : "");
		mask |= D_RXRET;
	}
	if (a->ret < 0 || b->ret < 0)
		return mask;
	if (memcmp(&a->vh, &b->vh, sizeof(a->vh))) {
		repf("  rx[%d]: vnet header differs\n", i);
		rep_vh("C   ", &a->vh);
		rep_vh("rtun", &b->vh);
		mask |= D_RXHDR;
	}
	if (a->sll.sll_family != b->sll.sll_family ||
	    a->sll.sll_protocol != b->sll.sll_protocol ||
	    a->sll.sll_hatype != b->sll.sll_hatype ||
	    a->sll.sll_pkttype != b->sll.sll_pkttype ||
	    a->sll.sll_halen != b->sll.sll_halen ||
	    memcmp(a->sll.sll_addr, b->sll.sll_addr, a->sll.sll_halen) ||
	    a->has_aux != b->has_aux ||
	    (a->has_aux && memcmp(&a->aux, &b->aux, sizeof(a->aux)))) {
		repf("  rx[%d]: packet metadata differs\n", i);
		rep_meta("C   ", a);
		rep_meta("rtun", b);
		mask |= D_RXMETA;
	}
	if (a->ret == b->ret && memcmp(a->data, b->data,
				       a->ret < RX_BUF ? a->ret : RX_BUF)) {
		repf("  rx[%d]: received bytes differ\n", i);
		rep_both(a->data, b->data, a->ret < RX_BUF ? a->ret : RX_BUF);
		mask |= D_RXDATA;
	}
	return mask;
}

static unsigned int compare_rd(const struct tcase *c, int i, bool count)
{
	const struct rdres *a = &out[C_SIDE].rd[i], *b = &out[R_SIDE].rd[i];
	struct diff_obs o = {
		.where = DIFF_READ,
		.linux7 = linux7,
		.pi = c->pi,
		.vnet_hdr_sz = c->vnet,
		.proto = pi_proto,
		.buflen = a->buflen,
		.fault_off = iov_fault_off(c, a->buflen),
		.fill = fill_buf,
		.c_buf = a->buf,
		.r_buf = b->buf,
		.c_ret = a->ret,
		.r_ret = b->ret,
		.c_err = a->err,
		.r_err = b->err,
	};
	unsigned int mask = 0;
	int idx;

	if (a->ret != b->ret || a->err != b->err) {
		repf("  read[%d] (buffer %zu): C %zd%s%s, rtun %zd%s%s\n", i,
		     a->buflen, a->ret, a->ret < 0 ? " " : "",
		     a->ret < 0 ? strerror(a->err) : "", b->ret,
		     b->ret < 0 ? " " : "", b->ret < 0 ? strerror(b->err) : "");
		mask |= D_RDRET;
	}
	if (!memcmp(a->buf, b->buf, a->buflen))
		return mask;
	idx = diff_allowed_find(&o);
	if (idx >= 0) {
		if (count)
			allowed_seen[idx]++;
		return mask;
	}
	repf("  read[%d] (buffer %zu, returned %zd): buffers differ\n", i,
	     a->buflen, a->ret);
	rep_both(a->buf, b->buf, a->buflen);
	return mask | D_RDDATA;
}

/*
 * Compare out[C_SIDE] and out[R_SIDE] for case @c: the kinds of
 * difference not explained by diff_allowed.h, details in rep[].  @count:
 * count the allowed differences seen (not while shrinking).
 */
/*
 * The reads after XDP_TX.  Allowed: D4 on 6.12, where C skips the bytes
 * of a vnet header past its 10 (an XDP frame's at 0, an skb's behind a
 * PI header's 4) and rtun zeroes them.
 */
static unsigned int compare_xr(const struct tcase *c)
{
	const struct outcome *a = &out[C_SIDE], *b = &out[R_SIDE];
	size_t i, len;
	bool d4;

	if (a->xr != b->xr || a->xr_ret != b->xr_ret || a->xr_err != b->xr_err) {
		repf("  read after XDP_TX: C %zd %s, rtun %zd %s\n", a->xr_ret,
		     strerror(a->xr_err), b->xr_ret, strerror(b->xr_err));
		return D_XDP;
	}
	len = a->xr_ret > 0 ? (size_t)a->xr_ret : 0;
	for (i = 0; i < len; i++) {
		if (a->xr_buf[i] == b->xr_buf[i])
			continue;
		d4 = !linux7 && c->vnet > VNET_HDR_LEN && !b->xr_buf[i] &&
		     a->xr_buf[i] == fill_buf[i] &&
		     ((i >= VNET_HDR_LEN && i < c->vnet) ||
		      (c->pi && i >= PI_LEN + VNET_HDR_LEN && i < PI_LEN + c->vnet));
		if (!d4)
			break;
	}
	if (i == len)
		return 0;
	repf("  read after XDP_TX (%zu bytes): buffers differ\n", len);
	rep_both(a->xr_buf, b->xr_buf, len);
	return D_XDP;
}

static unsigned int compare(const struct tcase *c, bool count)
{
	const struct outcome *a = &out[C_SIDE], *b = &out[R_SIDE];
	const uint64_t *da = (const uint64_t *)&a->delta;
	const uint64_t *db = (const uint64_t *)&b->delta;
	unsigned int mask = 0;
	size_t i;

	rep_len = 0;
	rep[0] = '\0';
	for (i = 0; i < CFG_STEPS; i++) {
		if (a->cfg[i] != b->cfg[i]) {
			repf("  %s: C %s, rtun %s\n", cfg_name[i],
			     a->cfg[i] ? strerror(a->cfg[i]) : "ok",
			     b->cfg[i] ? strerror(b->cfg[i]) : "ok");
			mask |= D_CFG;
		}
	}
	if (a->ret != b->ret || a->err != b->err) {
		repf("  %s: C %zd%s%s, rtun %zd%s%s\n",
		     c->rd ? "sendto" : "write", a->ret, a->ret < 0 ? " " : "",
		     a->ret < 0 ? strerror(a->err) : "", b->ret,
		     b->ret < 0 ? " " : "", b->ret < 0 ? strerror(b->err) : "");
		mask |= D_RET;
	}
	if (a->nrx != b->nrx) {
		repf("  packets received: C %d, rtun %d\n", a->nrx, b->nrx);
		mask |= D_RXN;
	}
	for (i = 0; i < (size_t)a->nrx && i < (size_t)b->nrx && i < MAX_RX; i++)
		mask |= compare_rx(i);
	if (a->nrd != b->nrd) {
		repf("  reads that found a packet: C %d, rtun %d\n", a->nrd,
		     b->nrd);
		mask |= D_RDN;
	}
	for (i = 0; i < (size_t)a->nrd && i < (size_t)b->nrd; i++)
		mask |= compare_rd(c, i, count);
	if (a->end != b->end || a->end_ret != b->end_ret ||
	    a->end_err != b->end_err) {
		repf("  read of the empty queue: C %zd %s, rtun %zd %s\n",
		     a->end_ret, strerror(a->end_err), b->end_ret,
		     strerror(b->end_err));
		mask |= D_RDEND;
	}
	mask |= compare_xr(c);
	for (i = 0; i < N_CNT; i++) {
		if (da[i] != db[i]) {
			repf("  %s: C +%lld, rtun +%lld\n", cnt_name[i],
			     (long long)da[i], (long long)db[i]);
			mask |= D_CNT;
		}
	}
	return mask;
}

static void print_kinds(unsigned int mask)
{
	int i;
	bool first = true;

	for (i = 0; i < D_NKINDS; i++) {
		if (mask & (1u << i)) {
			printf("%s%s", first ? "" : ",", kind_name[i]);
			first = false;
		}
	}
}

/* One line per driver: result, packets or reads, counters. */
static void print_outcome(const struct tcase *c, int k)
{
	const struct outcome *o = &out[k];
	const uint64_t *d = (const uint64_t *)&o->delta;
	size_t i;
	int j;

	printf("    %-4s: %s %zd%s%s", side_name[k], c->rd ? "sendto" : "write",
	       o->ret, o->ret < 0 ? " " : "", o->ret < 0 ? strerror(o->err) : "");
	for (j = 0; j < CFG_STEPS; j++)
		if (o->cfg[j])
			printf(", %s %s", cfg_name[j], strerror(o->cfg[j]));
	if (c->rd) {
		printf("; reads:");
		for (j = 0; j < o->nrd; j++)
			printf(" %zu->%zd%s%s", o->rd[j].buflen, o->rd[j].ret,
			       o->rd[j].ret < 0 ? "/" : "",
			       o->rd[j].ret < 0 ? strerror(o->rd[j].err) : "");
		if (!o->nrd)
			printf(" none");
		if (o->end)
			printf("; then %zd%s%s", o->end_ret,
			       o->end_ret < 0 ? "/" : "",
			       o->end_ret < 0 ? strerror(o->end_err) : "");
	} else {
		printf("; rx %d", o->nrx);
		for (j = 0; j < o->nrx && j < MAX_RX; j++)
			printf(" [%d vh %x/%x/%u/%u/%u/%u proto 0x%04x type %u st 0x%x]",
			       o->rx[j].ret, o->rx[j].vh.flags,
			       o->rx[j].vh.gso_type, o->rx[j].vh.hdr_len,
			       o->rx[j].vh.gso_size, o->rx[j].vh.csum_start,
			       o->rx[j].vh.csum_offset,
			       ntohs(o->rx[j].sll.sll_protocol),
			       o->rx[j].sll.sll_pkttype,
			       o->rx[j].has_aux ? o->rx[j].aux.tp_status : 0);
	}
	printf("; counters:");
	for (i = 0; i < N_CNT; i++)
		if (d[i])
			printf(" %s +%lld", cnt_name[i], (long long)d[i]);
	printf("\n");
}

/* Everything about the last run of @c: input, outcomes, the differences. */
static void print_details(const struct tcase *c)
{
	size_t show = in_len < 256 ? in_len : 256;

	printf("    input: %zu bytes%s\n", in_len,
	       show < in_len ? " (first 256)" : "");
	rep_len = 0;
	rep_hex("in  ", in_buf, 0, show);
	fputs(rep, stdout);
	print_outcome(c, C_SIDE);
	print_outcome(c, R_SIDE);
	compare(c, false);
	fputs(rep, stdout);
}

/* ------------------------------------------------------------------ */
/* Shrinking a difference.                                              */

static int shrink_budget;

/* Whether @c still shows the difference of kind @prim. */
static bool still_differs(const struct tcase *c, unsigned int prim)
{
	if (shrink_budget <= 0)
		return false;
	shrink_budget--;
	run_case(c);
	return compare(c, false) & prim;
}

/*
 * Ways to make a case simpler, each with an argument 0..n-1 (which
 * segment, bit, field...): false if that does not apply to @c.
 */
static bool s_iov_all(struct tcase *c, int i)
{
	if (!c->niov)
		return false;
	c->niov = 0;
	return true;
}

static bool s_iov_drop(struct tcase *c, int i)
{
	i = c->niov - 1 - i;		/* last segments first */
	if (i < 0)
		return false;
	memmove(&c->iov[i], &c->iov[i + 1],
		(c->niov - i - 1) * sizeof(c->iov[0]));
	c->niov--;
	if (c->bad > i)
		c->bad--;
	return true;
}

static bool s_no_bad(struct tcase *c, int i)
{
	if (c->bad < 0)
		return false;
	c->bad = -1;
	return true;
}

static const size_t shrink_lens[] = { 0, 1, 14, 20, 28, 34, 40, 54, 60, 74,
				      100 };
#define N_SHRINK_LENS (ARRAY_SIZE(shrink_lens) + 3)

/* A shorter packet: fixed small lengths first, then fractions. */
static bool s_plen(struct tcase *c, int i)
{
	size_t len;

	if (i < (int)ARRAY_SIZE(shrink_lens))
		len = shrink_lens[i];
	else if (i == ARRAY_SIZE(shrink_lens))
		len = c->plen / 2;
	else if (i == ARRAY_SIZE(shrink_lens) + 1)
		len = c->plen * 3 / 4;
	else
		len = c->plen - 1;
	if (len >= c->plen)
		return false;
	c->plen = len;
	return true;
}

static bool s_flags(struct tcase *c, int i)
{
	if (!c->vh.flags)
		return false;
	c->vh.flags = 0;
	return true;
}

static bool s_flag_bit(struct tcase *c, int i)
{
	if (!(c->vh.flags & 1 << i) || c->vh.flags == 1 << i)
		return false;
	c->vh.flags &= ~(1 << i);
	return true;
}

static bool s_gso_type(struct tcase *c, int i)
{
	uint8_t to = i ? c->vh.gso_type & ~GSO_ECN : 0;

	if (c->vh.gso_type == to)
		return false;
	c->vh.gso_type = to;
	return true;
}

static bool s_field(struct tcase *c, int i)
{
	uint16_t *f[] = { &c->vh.hdr_len, &c->vh.gso_size,
			  &c->vh.csum_start, &c->vh.csum_offset,
			  &c->vh.outer_th, &c->vh.inner_nh };

	if (!*f[i])
		return false;
	*f[i] = 0;
	return true;
}

/* The mode settings back to their defaults, one at a time. */
static bool s_mode(struct tcase *c, int i)
{
	struct tcase was = *c;

	switch (i) {
	case 0:
		c->down = false;
		break;
	case 1:
		c->nb = false;
		break;
	case 2:
		c->off = 0;
		break;
	case 3:
		c->ord = ORD_NATIVE;
		break;
	case 4:
		if (c->vnet > VNET_HDR_LEN)
			c->vnet = VNET_HDR_LEN;
		break;
	case 5:
		if (!c->rd)
			c->vnet = 0;
		break;
	case 6:
		c->pi = false;
		c->pi_flags = 0;
		if (!c->rd)
			c->proto = 0;
		break;
	default:
		c->pi_flags = 0;
		break;
	}
	return memcmp(&was, c, sizeof(was));
}

static bool s_buf_drop(struct tcase *c, int i)
{
	i = c->nbufs - 1 - i;
	if (i < 0 || c->nbufs < 2)
		return false;
	memmove(&c->bufs[i], &c->bufs[i + 1],
		(c->nbufs - i - 1) * sizeof(c->bufs[0]));
	c->nbufs--;
	return true;
}

/*
 * Make @c smaller while it shows the same kind of difference @prim: fewer
 * iovec segments, a shorter packet, header fields zeroed one at a time,
 * simpler mode settings, fewer reader buffers.
 */
static void shrink(struct tcase *c, unsigned int prim)
{
	static const struct {
		bool (*fn)(struct tcase *c, int i);
		int n;
	} steps[] = {
		{ s_iov_all, 1 }, { s_iov_drop, MAX_IOV - 1 }, { s_no_bad, 1 },
		{ s_plen, N_SHRINK_LENS }, { s_flags, 1 }, { s_flag_bit, 8 },
		{ s_gso_type, 2 }, { s_field, 6 }, { s_mode, 8 },
		{ s_buf_drop, MAX_BUFS },
	};
	bool progress = true;
	struct tcase t;
	size_t j;
	int i;

	shrink_budget = 800;
	while (progress && shrink_budget > 0) {
		progress = false;
		for (j = 0; j < ARRAY_SIZE(steps); j++) {
			for (i = 0; i < steps[j].n; i++) {
				t = *c;
				if (!steps[j].fn(&t, i))
					continue;
				if (t.feed)
					vh_feed_gso(&t, &t.vh);
				if (still_differs(&t, prim)) {
					*c = t;
					progress = true;
				}
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* Main.                                                                */

static bool strict_gaps;
static int max_diffs = 10;
static unsigned long n_diffs, n_reported;
static struct {
	unsigned int sig;
	unsigned long count;
} sigs[MAX_SIGS];
static int n_sigs;

/* The kind of a difference, for not shrinking the same bug again. */
static unsigned int diff_sig(const struct tcase *c, unsigned int mask)
{
	return mask | c->rd << 16 | c->tap << 17;
}

/* A difference in case @c (number @idx, -1: from --case): report it. */
static void handle_diff(const struct tcase *c, long idx, unsigned int mask)
{
	unsigned int sig = diff_sig(c, mask), prim = mask & -mask, again;
	struct tcase m = *c;
	int i;

	n_diffs++;
	for (i = 0; i < n_sigs; i++) {
		if (sigs[i].sig == sig) {
			if (++sigs[i].count <= 4) {
				printf("difference (same kind as before) in case %ld: ",
				       idx);
				case_line("", c, false);
			}
			return;
		}
	}
	if (n_sigs < MAX_SIGS) {
		sigs[n_sigs].sig = sig;
		sigs[n_sigs++].count = 1;
	}
	if (n_reported >= (unsigned long)max_diffs) {
		printf("difference in case %ld: ", idx);
		case_line("", c, false);
		return;
	}
	n_reported++;
	printf("\nDIFFERENCE #%lu in case %ld (", n_reported, idx);
	print_kinds(mask);
	printf(")\n");
	case_line("  ", c, false);
	print_details(c);

	run_case(c);
	again = compare(c, false);
	if (!(again & prim)) {
		printf("  not reproduced on a second run (kinds now: ");
		print_kinds(again);
		printf("): flaky\n");
		return;
	}
	shrink(&m, prim);
	run_case(&m);
	again = compare(&m, false);
	printf("  minimal case (");
	print_kinds(again);
	printf("):\n");
	case_line("  ", &m, m.plen <= 512);
	print_details(&m);
	fflush(stdout);
}

/* What the C side did, to show what the cases exercise. */
static struct {
	unsigned long w, w_ok, w_einval, w_efault, w_eio, w_other;
	unsigned long rx, rx_gso, rx_csum, rx_err;
	unsigned long r, r_vlan, r_vlan_rd, r_sent, reads, rd_einval, rd_trunc, rd_gso, rd_csum;
	/* Linux 7.x's cases */
	unsigned long x_w, x_r, w_tnl, w_tnl_ok, w_tnlpkt, w_dis, w_dis_ok;
	unsigned long r_feed, r_feed_sent, r_tnloff, rd_tnloff, rd_efault;
	unsigned long rd_tnlhdr;
} cov;

static void coverage_add(const struct tcase *c, bool ext)
{
	const struct outcome *o = &out[C_SIDE];
	size_t h = c->pi ? PI_LEN : 0;
	bool tnloff = linux7 && (c->off & OFF_TNL) && offload_legal(c->off);
	int i;

	if (c->rd) {
		cov.x_r += ext;
		cov.r_feed += c->feed;
		cov.r_feed_sent += c->feed && o->ret >= 0;
		cov.r_tnloff += tnloff && c->vnet;
		for (i = 0; tnloff && c->vnet && i < o->nrd; i++) {
			const struct rdres *r = &o->rd[i];

			cov.rd_tnloff++;
			cov.rd_efault += r->ret < 0 && r->err == EFAULT;
			cov.rd_tnlhdr += r->ret > 0 &&
					 r->buflen >= h + TNL_HDR_LEN &&
					 (r->buf[h + 1] & GSO_TNL);
		}
		cov.r++;
		cov.r_vlan += c->vlan;
		cov.r_sent += o->ret >= 0;
		for (i = 0; i < o->nrd; i++) {
			const struct rdres *r = &o->rd[i];

			cov.reads++;
			cov.r_vlan_rd += c->vlan && r->ret > 0;
			cov.rd_einval += r->ret < 0 && r->err == EINVAL;
			cov.rd_trunc += r->ret > 0 && r->ret == (ssize_t)r->buflen;
			if (r->ret > 0 && c->vnet && r->buflen >= h + VNET_HDR_LEN) {
				cov.rd_gso += r->buf[h + 1] != 0;
				cov.rd_csum += r->buf[h] & NEEDS_CSUM;
			}
		}
		return;
	}
	cov.x_w += ext;
	if (c->vnet && (c->vh.gso_type & GSO_TNL)) {
		cov.w_tnl++;
		cov.w_tnl_ok += o->ret >= 0;
	}
	cov.w_tnlpkt += c->pk == PK_TNL;
	if (c->vnet && c->vh.gso_type && !(c->vh.gso_type & GSO_TNL) &&
	    !(c->vh.flags & NEEDS_CSUM)) {
		cov.w_dis++;
		cov.w_dis_ok += o->ret >= 0;
	}
	cov.w++;
	if (o->ret >= 0)
		cov.w_ok++;
	else if (o->err == EINVAL)
		cov.w_einval++;
	else if (o->err == EFAULT)
		cov.w_efault++;
	else if (o->err == EIO)
		cov.w_eio++;
	else
		cov.w_other++;
	for (i = 0; i < o->nrx && i < MAX_RX; i++) {
		cov.rx++;
		cov.rx_err += o->rx[i].ret < 0;
		cov.rx_gso += o->rx[i].ret >= 0 && o->rx[i].vh.gso_type;
		cov.rx_csum += o->rx[i].ret >= 0 &&
			       (o->rx[i].vh.flags & NEEDS_CSUM);
	}
}

static void coverage_print(void)
{
	printf("C side: writes %lu: accepted %lu, EINVAL %lu, EFAULT %lu, EIO %lu, other %lu; packets received %lu: GSO %lu, partial csum %lu, recv error %lu\n",
	       cov.w, cov.w_ok, cov.w_einval, cov.w_efault, cov.w_eio,
	       cov.w_other, cov.rx, cov.rx_gso, cov.rx_csum, cov.rx_err);
	printf("C side: read cases %lu (VLAN tag out of band: %lu, read %lu times): sent %lu, reads %lu: EINVAL %lu, buffer filled %lu, GSO header %lu, NEEDS_CSUM %lu\n",
	       cov.r, cov.r_vlan, cov.r_vlan_rd, cov.r_sent, cov.reads, cov.rd_einval, cov.rd_trunc,
	       cov.rd_gso, cov.rd_csum);
	printf("C side, Linux 7.x cases: %lu write, %lu read; writes with tunnel GSO bits %lu (accepted %lu), of tunnel packets %lu, GSO without NEEDS_CSUM %lu (accepted %lu)\n",
	       cov.x_w, cov.x_r, cov.w_tnl, cov.w_tnl_ok, cov.w_tnlpkt,
	       cov.w_dis, cov.w_dis_ok);
	printf("C side, Linux 7.x cases: read cases fed tunnel packets %lu (written %lu), with tunnel offload %lu: reads %lu, EFAULT %lu, tunnel GSO header %lu\n",
	       cov.r_feed, cov.r_feed_sent, cov.r_tnloff, cov.rd_tnloff,
	       cov.rd_efault, cov.rd_tnlhdr);
}

/* TUNGETFEATURES of both drivers: the same, or as diff_allowed.h says. */
static void check_features(void)
{
	struct diff_obs o = { .where = DIFF_FEATURES, .linux7 = linux7 };
	unsigned int f[2] = { 0, 0 };
	int k, fd, idx;

	for (k = 0; k < 2; k++) {
		fd = dev_open(nodes[k]);
		if (fd < 0)
			die("open %s: %s (modules loaded?)", nodes[k],
			    strerror(errno));
		if (ioctl(fd, TUNGETFEATURES, &f[k]))
			die("TUNGETFEATURES %s: %s", nodes[k], strerror(errno));
		close(fd);
	}
	if (f[0] == f[1])
		return;
	o.c_features = f[0];
	o.r_features = f[1];
	idx = diff_allowed_find(&o);
	if (idx >= 0) {
		allowed_seen[idx]++;
		return;
	}
	printf("DIFFERENCE (setup): TUNGETFEATURES C 0x%x, rtun 0x%x\n", f[0],
	       f[1]);
	setup_diffs++;
}

static void setup(void)
{
	int k, i;

	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl_fd < 0)
		die("netlink: %s", strerror(errno));
	tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	k = 1;
	if (tx_fd < 0 || setsockopt(tx_fd, SOL_PACKET, PACKET_VNET_HDR, &k,
				    sizeof(k)))
		die("AF_PACKET sender: %s", strerror(errno));
	bad_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (bad_page == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	pkt_buf = xmalloc(PKT_MAX);
	print_pkt = xmalloc(PKT_MAX);
	in_buf = xmalloc(WBUF_MAX);
	scratch = xmalloc(RX_BUF);
	fill_buf = xmalloc(RX_BUF);
	for (i = 0; i < RX_BUF; i++)
		fill_buf[i] = fill_byte(i);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < MAX_RX; i++)
			out[k].rx[i].data = xmalloc(RX_BUF);
		for (i = 0; i < MAX_RD; i++)
			out[k].rd[i].buf = xmalloc(RX_BUF);
		out[k].xr_buf = xmalloc(RX_BUF);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tun_diff [--seed S] [--count N] [--read-cases M] [--seconds T]\n"
		"                [--case LINE] [--max-diffs K] [--strict-gaps] [--no-vlan]\n"
		"                [--rtun-node PATH] [--queue-flags F] [--xdp] [--verbose]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long long seed = 1;
	unsigned long count = 1000, reads = 0, total, i, done = 0;
	double seconds = 0;
	const char *one = NULL;
	unsigned long gaps = 0;
	unsigned int mask;
	struct tcase c;
	struct rng r;
	double t0, t;
	size_t a;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	linux7 = kernel_at_least(7, 0);
	for (i = 1; i < (unsigned long)argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--verbose") || !strcmp(arg, "-v")) {
			verbose = true;
		} else if (!strcmp(arg, "--strict-gaps")) {
			strict_gaps = true;
		} else if (!strcmp(arg, "--no-vlan")) {
			vlan_cases = false;
		} else if (!strcmp(arg, "--xdp")) {
			xdp_mode = true;
		} else if (i + 1 < (unsigned long)argc && !strcmp(arg, "--seed")) {
			seed = strtoull(argv[++i], NULL, 0);
		} else if (i + 1 < (unsigned long)argc && !strcmp(arg, "--count")) {
			count = strtoul(argv[++i], NULL, 0);
		} else if (i + 1 < (unsigned long)argc &&
			   !strcmp(arg, "--read-cases")) {
			reads = strtoul(argv[++i], NULL, 0);
		} else if (i + 1 < (unsigned long)argc &&
			   !strcmp(arg, "--seconds")) {
			seconds = strtod(argv[++i], NULL);
		} else if (i + 1 < (unsigned long)argc && !strcmp(arg, "--case")) {
			one = argv[++i];
		} else if (i + 1 < (unsigned long)argc &&
			   !strcmp(arg, "--rtun-node")) {
			nodes[R_SIDE] = argv[++i];
		} else if (i + 1 < (unsigned long)argc &&
			   !strcmp(arg, "--queue-flags")) {
			queue_flags = strtol(argv[++i], NULL, 0);
			if (queue_flags & ~(IFF_MULTI_QUEUE | IFF_NAPI |
					    IFF_NAPI_FRAGS))
				usage();
		} else if (i + 1 < (unsigned long)argc &&
			   !strcmp(arg, "--max-diffs")) {
			max_diffs = atoi(argv[++i]);
		} else {
			usage();
		}
	}
	setup();
	check_features();
	t0 = now();
	if (one) {
		if (case_parse(one, &c))
			exit(2);
		run_case(&c);
		mask = compare(&c, true);
		done = 1;
		if (mask) {
			handle_diff(&c, -1, mask);
		} else {
			printf("no difference:\n");
			case_line("  ", &c, false);
			print_details(&c);
		}
	} else {
		printf("tun_diff: seed %llu, %lu write cases, %lu read cases, Linux %s rules, queue flags 0x%x%s\n",
		       seed, count, reads, linux7 ? "7.x" : "6.12",
		       queue_flags, xdp_mode ? ", XDP programs" : "");
		total = count + reads;
		for (i = 0; i < total; i++) {
			/* Read cases spread evenly among the write cases. */
			bool rd = (i + 1) * reads / total > i * reads / total;
			bool ext = case_is_ext(seed, i);

			if (seconds > 0 && now() - t0 >= seconds)
				break;

			r.s = seed * 0x2545f4914f6cdd1dull ^ (i + 1) *
			      0x9e3779b97f4a7c15ull;
			rng_next(&r);
			if (rd && ext)
				gen_read_x(&r, &c, pkt_buf);
			else if (rd)
				gen_read(&r, &c, pkt_buf);
			else if (ext)
				gen_write_x(&r, &c, pkt_buf);
			else
				gen_write(&r, &c, pkt_buf);
			if (xdp_mode && !c.rd && c.tap)
				c.xdp = xdp_draw(&r, &c);
			run_case(&c);
			mask = compare(&c, true);
			coverage_add(&c, ext);
			done++;
			if (verbose) {
				printf("case %lu: %s", i, mask ? "DIFF " : "");
				case_line("", &c, false);
			}
			if (mask)
				handle_diff(&c, i, mask);
			if ((i + 1) % 5000 == 0)
				fprintf(stderr, "tun_diff: %lu cases, %lu differences, %.0f s\n",
					i + 1, n_diffs, now() - t0);
		}
	}
	t = now() - t0;
	if (!one)
		coverage_print();
	printf("allowed differences seen:");
	for (a = 0; a < DIFF_N_ALLOWED; a++) {
		printf(" %s %lu%s", diff_allowed[a].id, allowed_seen[a],
		       diff_allowed[a].gap ? " (known gap)" : "");
		if (diff_allowed[a].gap)
			gaps += allowed_seen[a];
	}
	printf("\n");
	if (n_sigs) {
		printf("differences by kind:\n");
		for (rc = 0; rc < n_sigs; rc++) {
			printf("  %lu x %s %s: ", sigs[rc].count,
			       sigs[rc].sig >> 16 & 1 ? "read" : "write",
			       sigs[rc].sig >> 17 & 1 ? "tap" : "tun");
			print_kinds(sigs[rc].sig & 0xffff);
			printf("\n");
		}
	}
	if (xdp_mode)
		printf("XDP: %lu write cases with a program, %lu frames read back after XDP_TX\n",
		       xdp_cases, xdp_reads);
	printf("waited in vain for packets: %lu times, %.1f s\n", waits,
	       waited_s);
	printf("device pairs set up: %lu, %.1f s (waiting for udev %.1f s)\n",
	       n_made, setup_s, udev_s);
	printf("cases: %lu, differences: %lu, time: %.1f s, cases/s: %.1f\n",
	       done, n_diffs + setup_diffs, t, t > 0 ? done / t : 0.0);
	rc = n_diffs || setup_diffs || (strict_gaps && gaps);
	return rc;
}
