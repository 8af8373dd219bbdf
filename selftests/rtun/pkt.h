/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test packets: the one packet builder of the rtun selftests, tun_diff and
 * bench/rtun_bench.c.  One helper per layer, each writing its header at
 * the place it is given and returning its length: Ethernet with an
 * optional 802.1Q/802.1ad tag, IPv4 (with options) and IPv6 (with a
 * hop-by-hop header), TCP, UDP and ICMP echo; the Internet checksums over
 * them, complete or partial (the pseudo-header sum a virtio driver leaves
 * for VIRTIO_NET_HDR_F_NEEDS_CSUM), and their checks.  pkt_put() lays out
 * a whole packet from a struct pkt_desc, tnl_put() a UDP tunnel packet
 * (GENEVE or VXLAN around an inner Ethernet frame) from a struct tnl_desc.  Every field is explicit: a
 * test's defaults (addresses, ports) stay in the test.
 *
 * Needs rtun_test.h (put16, put32, csum_add, csum_fold, pattern).
 */

#ifndef RTUN_PKT_H
#define RTUN_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/if_ether.h>

#include "rtun_test.h"

#define TCP_CSUM_OFF	16	/* offsetof(struct tcphdr, check) */
#define UDP_CSUM_OFF	6	/* offsetof(struct udphdr, check) */
#define ICMP_CSUM_OFF	2	/* offsetof(struct icmphdr, checksum) */

#define TCPF_FIN	0x01
#define TCPF_SYN	0x02
#define TCPF_RST	0x04
#define TCPF_PSH	0x08
#define TCPF_ACK	0x10
#define TCPF_ECE	0x40
#define TCPF_CWR	0x80

#define IP4_DF		0x4000	/* IPv4 frag_off: don't fragment */
#define PKT_TTL		64	/* IPv4 TTL, IPv6 hop limit */

/* ---- layer 2 ---- */

/*
 * An Ethernet header at @p, @dst and @src, with an 802.1Q or 802.1ad tag
 * (@tpid, @tci) if @tpid, then ethertype @type.  Returns 14 or 18.
 */
static inline size_t eth_put(unsigned char *p, const unsigned char *dst,
			     const unsigned char *src, uint16_t tpid,
			     uint16_t tci, uint16_t type)
{
	size_t off = 12;

	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	if (tpid) {
		put16(p + 12, tpid);
		put16(p + 14, tci);
		off = 16;
	}
	put16(p + off, type);
	return off + 2;
}

/* ---- layer 3 ---- */

/* An IPv4 or IPv6 header. */
struct ip_desc {
	int ipv;			/* 4 or 6 */
	uint8_t proto;			/* of the transport header */
	uint8_t tos;			/* IPv4 TOS, IPv6 traffic class */
	uint32_t flow;			/* IPv6 flow label */
	uint16_t id;			/* IPv4 */
	uint16_t frag;			/* IPv4 flags and offset (IP4_DF) */
	/*
	 * IPv4: bytes of options (NOPs, then END); IPv6: 8 for a hop-by-hop
	 * header (a PadN), or 0.
	 */
	size_t opt;
	const unsigned char *src, *dst;	/* 4 or 16 bytes */
};

/* A test's addresses: from src to dst, for IPv4 and for IPv6. */
struct ip_addrs {
	const unsigned char *src4, *dst4, *src6, *dst6;
};

/*
 * The usual addresses of a test packet: from 02:00:00:00:00:02,
 * 192.168.99.2 or fd00:99::2 to 02:00:00:00:00:01, 192.168.99.1 or
 * fd00:99::1.
 */
static const unsigned char pkt_mac_src[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const unsigned char pkt_mac_dst[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const unsigned char pkt_ip4_src[4] = { 192, 168, 99, 2 };
static const unsigned char pkt_ip4_dst[4] = { 192, 168, 99, 1 };
static const unsigned char pkt_ip6_src[16] = { 0xfd, 0, 0, 0x99, [15] = 2 };
static const unsigned char pkt_ip6_dst[16] = { 0xfd, 0, 0, 0x99, [15] = 1 };
static const struct ip_addrs pkt_addrs = {
	pkt_ip4_src, pkt_ip4_dst, pkt_ip6_src, pkt_ip6_dst,
};

/* @d's addresses: @src and @dst where set, else those of @a for its version. */
static inline void ip_desc_addrs(struct ip_desc *d, const struct ip_addrs *a,
				 const unsigned char *src,
				 const unsigned char *dst)
{
	bool v6 = d->ipv == 6;

	d->src = src ? src : v6 ? a->src6 : a->src4;
	d->dst = dst ? dst : v6 ? a->dst6 : a->dst4;
}

/* Length of the IP header(s) @d describes. */
static inline size_t ip_hdr_len(const struct ip_desc *d)
{
	return (d->ipv == 6 ? 40 : 20) + d->opt;
}

/*
 * The IP header(s) @d describes at @ip, for @l4len bytes after them, with
 * the IPv4 header checksum.  Returns their length.
 */
static inline size_t ip_put(unsigned char *ip, const struct ip_desc *d,
			    size_t l4len)
{
	size_t len = ip_hdr_len(d);

	memset(ip, 0, len);
	if (d->ipv == 6) {
		put32(ip, 0x60000000 | (uint32_t)d->tos << 20 | d->flow);
		put16(ip + 4, d->opt + l4len);
		ip[6] = d->opt ? 0 : d->proto;	/* 0: hop-by-hop options */
		ip[7] = PKT_TTL;
		memcpy(ip + 8, d->src, 16);
		memcpy(ip + 24, d->dst, 16);
		if (d->opt) {
			ip[40] = d->proto;
			ip[42] = 1;		/* PadN ... */
			ip[43] = 4;		/* ... of 4 bytes */
		}
		return len;
	}
	ip[0] = 0x40 | len / 4;
	ip[1] = d->tos;
	put16(ip + 2, len + l4len);
	put16(ip + 4, d->id);
	put16(ip + 6, d->frag);
	ip[8] = PKT_TTL;
	ip[9] = d->proto;
	memcpy(ip + 12, d->src, 4);
	memcpy(ip + 16, d->dst, 4);
	if (len > 20) {
		memset(ip + 20, 1, len - 20);	/* NOP options ... */
		ip[len - 1] = 0;		/* ... and END */
	}
	put16(ip + 10, ~csum_fold(csum_add(0, ip, len)));
	return len;
}

/* ---- layer 4 ---- */

/* A TCP, UDP or ICMP (v4 or v6) echo request header. */
struct l4_desc {
	uint8_t proto;			/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	uint16_t sport, dport;		/* TCP, UDP */
	uint32_t seq, ack;		/* TCP */
	uint8_t flags;			/* TCP */
	uint16_t win;			/* TCP */
	const unsigned char *opt;	/* TCP options; NULL: NOPs */
	size_t optlen;			/* a multiple of 4 */
	uint16_t id;			/* ICMP echo identifier */
};

/* Length of the transport header @d describes (0 for another protocol). */
static inline size_t l4_hdr_len(const struct l4_desc *d)
{
	switch (d->proto) {
	case IPPROTO_TCP:
		return 20 + d->optlen;
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 8;
	}
	return 0;
}

/* Offset of the checksum field in a transport header of @proto. */
static inline size_t l4_csum_off(int proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return TCP_CSUM_OFF;
	case IPPROTO_UDP:
		return UDP_CSUM_OFF;
	}
	return ICMP_CSUM_OFF;
}

/*
 * The transport header @d describes at @l4, for @l4len bytes with it, its
 * checksum field zero (see l4_csum_put()).  Returns its length.
 */
static inline size_t l4_put(unsigned char *l4, const struct l4_desc *d,
			    size_t l4len)
{
	size_t len = l4_hdr_len(d);

	memset(l4, 0, len);
	switch (d->proto) {
	case IPPROTO_TCP:
		put16(l4, d->sport);
		put16(l4 + 2, d->dport);
		put32(l4 + 4, d->seq);
		put32(l4 + 8, d->ack);
		l4[12] = (len / 4) << 4;
		l4[13] = d->flags;
		put16(l4 + 14, d->win);
		if (d->opt)
			memcpy(l4 + 20, d->opt, d->optlen);
		else
			memset(l4 + 20, 1, d->optlen);	/* NOPs */
		break;
	case IPPROTO_UDP:
		put16(l4, d->sport);
		put16(l4 + 2, d->dport);
		put16(l4 + 4, l4len);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4[0] = d->proto == IPPROTO_ICMP ? 8 : 128;	/* echo request */
		put16(l4 + 4, d->id);
		put16(l4 + 6, 1);				/* sequence */
		break;
	}
	return len;
}

/* ---- payload ---- */

/* @len bytes of pattern() from @from at @p, or of @data if set. */
static inline void payload_put(unsigned char *p, size_t len,
			       const unsigned char *data, uint32_t from)
{
	size_t i;

	if (data) {
		memcpy(p, data, len);
		return;
	}
	for (i = 0; i < len; i++)
		p[i] = pattern(from + i);
}

/* ---- checksums ---- */

/*
 * Sum of the pseudo header of the IP header at @ip (IPv4 or IPv6, by its
 * version) for @len bytes of @proto; not folded.  ICMPv4 has none: 0.
 */
static inline uint64_t pseudo_sum(const unsigned char *ip, int proto,
				  size_t len)
{
	if (proto == IPPROTO_ICMP)
		return 0;
	if (ip[0] >> 4 == 4)
		return csum_add(0, ip + 12, 8) + proto + len;
	return csum_add(0, ip + 8, 32) + proto + len;
}

/*
 * The complete checksum of @len bytes at @p after the sum @sum; never 0,
 * which means "no checksum" to UDP (RFC 768) and is the same as 0xffff to
 * the others.
 */
static inline uint16_t csum_complete(uint64_t sum, const unsigned char *p,
				     size_t len)
{
	uint16_t c = ~csum_fold(csum_add(sum, p, len));

	return c ? c : 0xffff;
}

/*
 * Fill in the checksum of the transport header at @l4, @len bytes to the
 * end of the packet, under the IP header at @ip: complete, or partial
 * (the folded pseudo-header sum, not inverted: CHECKSUM_PARTIAL).
 */
static inline void l4_csum_put(const unsigned char *ip, unsigned char *l4,
			       int proto, size_t len, bool partial)
{
	uint64_t sum = pseudo_sum(ip, proto, len);
	size_t off = l4_csum_off(proto);

	put16(l4 + off, 0);
	put16(l4 + off, partial ? csum_fold(sum) : csum_complete(sum, l4, len));
}

/* Whether the transport checksum of @len bytes at @l4 is complete and right. */
static inline bool l4_csum_ok(const unsigned char *ip, const unsigned char *l4,
			      int proto, size_t len)
{
	return csum_fold(csum_add(pseudo_sum(ip, proto, len), l4, len)) ==
	       0xffff;
}

/* Whether the checksum field of the header at @l4 holds the pseudo-header sum. */
static inline bool l4_csum_partial(const unsigned char *ip,
				   const unsigned char *l4, int proto,
				   size_t len)
{
	return get16(l4 + l4_csum_off(proto)) ==
	       csum_fold(pseudo_sum(ip, proto, len));
}

/* ---- whole packets ---- */

/* A packet: Ethernet header if @eth, IP, transport header, payload. */
struct pkt_desc {
	bool eth;
	const unsigned char *dst, *src;	/* MAC addresses */
	uint16_t tpid, tci;		/* a VLAN tag if tpid */
	struct ip_desc ip;
	struct l4_desc l4;
	size_t payload;			/* bytes after the transport header */
	const unsigned char *data;	/* the payload; NULL: pattern() */
	uint32_t pattern;		/* ... from this offset */
	bool partial;			/* transport checksum partial */
};

/* Where the headers of a packet are. */
struct pkt_layout {
	size_t len;		/* all of it */
	size_t l3;		/* offset of the IP header */
	size_t l4;		/* ... of the transport header */
	size_t hlen;		/* ... of the payload */
};

/*
 * Give @d the usual values of the tests that do not care: IPv4 id 1 and
 * DF; TCP from port 4001 to 5001, ACK|PSH, window 65535; UDP from port
 * 4000 to 5000.  Ports, TCP flags and window keep the values already set
 * (not 0); the IP header's protocol is the transport header's.
 */
static inline void pkt_desc_usual(struct pkt_desc *d)
{
	bool tcp = d->l4.proto == IPPROTO_TCP;

	d->ip.proto = d->l4.proto;
	d->ip.id = 1;
	d->ip.frag = IP4_DF;
	if (!d->l4.sport)
		d->l4.sport = tcp ? 4001 : 4000;
	if (!d->l4.dport)
		d->l4.dport = tcp ? 5001 : 5000;
	if (!d->l4.flags)
		d->l4.flags = TCPF_ACK | TCPF_PSH;
	if (!d->l4.win)
		d->l4.win = 65535;
}

/* Length of the packet @d describes. */
static inline size_t pkt_len(const struct pkt_desc *d)
{
	return (d->eth ? ETH_HLEN + (d->tpid ? 4 : 0) : 0) +
	       ip_hdr_len(&d->ip) + l4_hdr_len(&d->l4) + d->payload;
}

/*
 * Build the packet @d describes at @p (pkt_len() bytes) with all its
 * checksums; its layout in @o if set.  Returns its length.
 */
static inline size_t pkt_put(unsigned char *p, const struct pkt_desc *d,
			     struct pkt_layout *o)
{
	size_t l3 = 0, l4, hlen, l4len = l4_hdr_len(&d->l4) + d->payload;

	if (d->eth)
		l3 = eth_put(p, d->dst, d->src, d->tpid, d->tci,
			     d->ip.ipv == 6 ? ETH_P_IPV6 : ETH_P_IP);
	l4 = l3 + ip_put(p + l3, &d->ip, l4len);
	hlen = l4 + l4_put(p + l4, &d->l4, l4len);
	payload_put(p + hlen, d->payload, d->data, d->pattern);
	if (hlen > l4)
		l4_csum_put(p + l3, p + l4, d->l4.proto, l4len, d->partial);
	if (o) {
		o->l3 = l3;
		o->l4 = l4;
		o->hlen = hlen;
		o->len = hlen + d->payload;
	}
	return hlen + d->payload;
}

/* ---- test frames ---- */

/* The frames' ethertype: IEEE 802 local experimental. */
#define ETH_P_TEST 0x88b5

/*
 * Test frame number @seq of @len bytes (at least 18) at @p: an Ethernet
 * header of type ETH_P_TEST, @seq, then pattern bytes.  Returns @len.
 */
static inline size_t test_frame(unsigned char *p, size_t len, uint32_t seq)
{
	static const unsigned char dst[6] = { 0x02, 0, 0, 0, 0xf1, 0x01 };
	static const unsigned char src[6] = { 0x02, 0, 0, 0, 0xf1, 0x02 };
	size_t off = eth_put(p, dst, src, 0, 0, ETH_P_TEST), i;

	put32(p + off, seq);
	for (i = off + 4; i < len; i++)
		p[i] = pattern(i);
	return len;
}

/* ---- UDP tunnels ---- */

#define GENEVE_PORT	6081
#define VXLAN_PORT	4789
#define TNL_ENCAP_LEN	8	/* GENEVE without options, or VXLAN */
#define ETH_P_TEB	0x6558	/* GENEVE's protocol for an Ethernet frame */

/* The outer UDP checksum of a tunnel packet. */
enum { TNL_CSUM_NONE, TNL_CSUM_PARTIAL, TNL_CSUM_FULL };

/*
 * A UDP tunnel packet: @outer gives the outer Ethernet header (if eth),
 * the outer IP header and in l4 the outer UDP header (its proto is
 * IPPROTO_UDP, its dport VXLAN_PORT for VXLAN, else GENEVE); its payload
 * and data are not used.  @inner is the whole inner frame (eth set).
 */
struct tnl_desc {
	struct pkt_desc outer;
	uint32_t vni;			/* 24 bits */
	int outer_csum;			/* TNL_CSUM_* */
	struct pkt_desc inner;
};

/* Where the headers of a tunnel packet are. */
struct tnl_layout {
	size_t len;		/* all of it */
	size_t l3;		/* outer IP header */
	size_t th;		/* outer UDP header */
	size_t inner_nh;	/* inner IP header */
	size_t inner_th;	/* inner transport header */
	size_t hlen;		/* inner payload */
};

/* Length of the tunnel packet @t describes. */
static inline size_t tnl_len(const struct tnl_desc *t)
{
	return (t->outer.eth ? ETH_HLEN + (t->outer.tpid ? 4 : 0) : 0) +
	       ip_hdr_len(&t->outer.ip) + 8 + TNL_ENCAP_LEN +
	       pkt_len(&t->inner);
}

/*
 * Build the tunnel packet @t describes at @p (tnl_len() bytes) with its
 * checksums (the inner ones as @t->inner.partial says); its layout in @o
 * if set.  Returns its length.
 */
static inline size_t tnl_put(unsigned char *p, const struct tnl_desc *t,
			     struct tnl_layout *o)
{
	const struct pkt_desc *od = &t->outer;
	size_t l3 = 0, th, enc, ilen = pkt_len(&t->inner);
	size_t l4len = 8 + TNL_ENCAP_LEN + ilen;
	struct pkt_layout in;

	if (od->eth)
		l3 = eth_put(p, od->dst, od->src, od->tpid, od->tci,
			     od->ip.ipv == 6 ? ETH_P_IPV6 : ETH_P_IP);
	th = l3 + ip_put(p + l3, &od->ip, l4len);
	enc = th + l4_put(p + th, &od->l4, l4len);
	memset(p + enc, 0, TNL_ENCAP_LEN);
	if (od->l4.dport == VXLAN_PORT)
		p[enc] = 0x08;			/* VNI valid */
	else
		put16(p + enc + 2, ETH_P_TEB);
	put32(p + enc + 4, t->vni << 8);
	pkt_put(p + enc + TNL_ENCAP_LEN, &t->inner, &in);
	if (t->outer_csum != TNL_CSUM_NONE)
		l4_csum_put(p + l3, p + th, IPPROTO_UDP, l4len,
			    t->outer_csum == TNL_CSUM_PARTIAL);
	if (o) {
		o->l3 = l3;
		o->th = th;
		o->inner_nh = enc + TNL_ENCAP_LEN + in.l3;
		o->inner_th = enc + TNL_ENCAP_LEN + in.l4;
		o->hlen = enc + TNL_ENCAP_LEN + in.hlen;
		o->len = enc + TNL_ENCAP_LEN + in.len;
	}
	return th + l4len;
}

#endif /* RTUN_PKT_H */
