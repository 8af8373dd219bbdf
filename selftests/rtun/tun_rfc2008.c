// SPDX-License-Identifier: GPL-2.0
/*
 * rtun loaded with abi=rfc2008: TUNSETIFF reads the flags of the 2008
 * design (seed/tun-vnet-hdr-gso-2008.patch.txt) instead of today's:
 *
 *   IFF_SEND_GSO  0x4000  a virtio_net_hdr precedes each written packet
 *   IFF_RECV_CSUM 0x8000  the reader takes partial checksums
 *   IFF_RECV_GSO  0x0800  the reader takes GSO packets
 *
 * Either receive flag puts a header in front of each read packet; the
 * device's offload features are fixed at creation (RECV_CSUM: SG, HW_CSUM,
 * HIGHDMA, FRAGLIST; with RECV_GSO too: TSO, TSO6, TSO_ECN; UFO is gone
 * from the stack and maps to nothing; RECV_GSO alone: nothing), so
 * TUNSETOFFLOAD is refused; 0x8000 is no IFF_TUN_EXCL and 0x0800 no
 * IFF_PERSIST.  The C driver has no such mode: there is no c_tun variant
 * and the expectations come from the seed patch.  scripts/guest-check.sh
 * runs this program after reloading rtun with abi=rfc2008.
 *
 * Each test runs in network and mount namespaces of its own, like
 * tun_read.  Needs root and rtun loaded with abi=rfc2008.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>

#include "kselftest_harness.h"
#include "rtun_test.h"
#include "pkt.h"

#define IFF_SEND_GSO	0x4000
#define IFF_RECV_CSUM	0x8000
#define IFF_RECV_GSO	0x0800

#define VNET_HDR_LEN	10
#define PI_LEN		4
#define RX_TIMEOUT_MS	2000
#define QUIET_MS	300
#define SETTLE_MS	3000	/* how long a closed device may take to go */
#define NEEDS_CSUM	VIRTIO_NET_HDR_F_NEEDS_CSUM

FIXTURE(rfc2008) {
	int fd, fd2;
	int psock;	/* AF_PACKET, vnet header, unbound: transmits */
	int rsock;	/* AF_PACKET, vnet header, bound to the device: receives */
	int ifindex;
	char name[IFNAMSIZ];
};

FIXTURE_VARIANT(rfc2008) {
	const char *node;
};

FIXTURE_VARIANT_ADD(rfc2008, rtun) {
	.node = "/dev/net/rtun",
};

static const unsigned char mac_a[6] = { 0x02, 0, 0, 0, 0xbb, 0x01 };
static const unsigned char mac_b[6] = { 0x02, 0, 0, 0, 0xbb, 0x02 };

static const unsigned char ip4_a[4] = { 10, 0, 0, 1 };
static const unsigned char ip4_b[4] = { 10, 0, 0, 2 };
static const unsigned char ip6_a[16] = { 0xfd, [15] = 1 };
static const unsigned char ip6_b[16] = { 0xfd, [15] = 2 };
static const struct ip_addrs b_to_a = { ip4_b, ip4_a, ip6_b, ip6_a };

/*
 * An IPv4 (@ipv 4) or IPv6 TCP/UDP packet with @payload bytes into @buf,
 * in an Ethernet header if @eth, transport checksum partial (pseudo header
 * sum) if @partial, else complete.  Returns its length; *@l4 is the
 * offset of the transport header, *@hlen of the payload.
 */
static size_t pkt_build(unsigned char *buf, bool eth, int ipv, int proto,
			size_t payload, bool partial, size_t *l4, size_t *hlen)
{
	struct pkt_desc d = {
		.eth = eth, .dst = mac_a, .src = mac_b,
		.ip = { .ipv = ipv, .proto = proto, .frag = IP4_DF },
		.l4 = {
			.proto = proto, .sport = 4000, .dport = 5000,
			.flags = TCPF_ACK | TCPF_PSH, .win = 65535,
		},
		.payload = payload, .partial = partial,
	};
	struct pkt_layout o;
	size_t len;

	ip_desc_addrs(&d.ip, &b_to_a, NULL, NULL);
	len = pkt_put(buf, &d, &o);
	*l4 = o.l4;
	*hlen = o.hlen;
	return len;
}

/* The features the 2008 design decides, in the order of their names. */
static const char *const feat_names[] = {
	"tx-scatter-gather", "tx-checksum-ip-generic", "highdma",
	"tx-scatter-gather-fraglist", "tx-tcp-segmentation",
	"tx-tcp6-segmentation", "tx-tcp-ecn-segmentation",
	"tx-udp-segmentation",
};

enum {
	F_SG = 1, F_CSUM = 2, F_HIGHDMA = 4, F_FRAGLIST = 8, F_TSO = 16,
	F_TSO6 = 32, F_ECN = 64, F_USO = 128,
};

#define F_RECV_CSUM	(F_SG | F_CSUM | F_HIGHDMA | F_FRAGLIST)
#define F_RECV_GSO	(F_TSO | F_TSO6 | F_ECN)

static int features_of(const char *ifname)
{
	return features_mask(ifname, feat_names, ARRAY_SIZE(feat_names));
}

/*
 * Create a device named @name with 2008 @flags on this fixture's fd, with
 * a receiving packet socket bound to it, and bring it up.
 */
static void dev_create(struct __test_metadata *_metadata,
		       FIXTURE_DATA(rfc2008) *self, const char *name,
		       int flags)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	socklen_t len = sizeof(int);
	int one = 1, err;

	ASSERT_EQ(0, set_iff(self->fd, name, flags, self->name))
		TH_LOG("TUNSETIFF 0x%x: %s", flags, strerror(errno));
	self->ifindex = sysfs_num(self->name, "ifindex");
	ASSERT_LT(0, self->ifindex);
	self->rsock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->rsock);
	ASSERT_EQ(0, setsockopt(self->rsock, SOL_PACKET, PACKET_VNET_HDR,
				&one, sizeof(one)));
	sll.sll_ifindex = self->ifindex;
	ASSERT_EQ(0, bind(self->rsock, (struct sockaddr *)&sll, sizeof(sll)));
	ASSERT_EQ(0, link_up(self->name));
	/* Bound while down: the socket holds ENETDOWN for its next recv(). */
	ASSERT_EQ(0, getsockopt(self->rsock, SOL_SOCKET, SO_ERROR, &err, &len));
}

/* Transmit @len bytes of @pkt with header @vh on the device. */
static int inject(FIXTURE_DATA(rfc2008) *self,
		  const struct virtio_net_hdr *vh, const void *pkt,
		  size_t len, uint16_t proto)
{
	struct virtio_net_hdr zero = {};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = self->ifindex,
		.sll_protocol = htons(proto),
	};
	struct iovec iov[2] = {
		{ .iov_base = (void *)(vh ? vh : &zero), .iov_len = sizeof(zero) },
		{ .iov_base = (void *)pkt, .iov_len = len },
	};
	struct msghdr msg = {
		.msg_name = &sll, .msg_namelen = sizeof(sll),
		.msg_iov = iov, .msg_iovlen = 2,
	};

	return sendmsg(self->psock, &msg, 0) < 0 ? -errno : 0;
}

/*
 * The next packet the stack received from the device (not an outgoing
 * one), with the header af_packet derives from the skb.  Returns its
 * length, -errno or -ETIMEDOUT.
 */
static ssize_t rx_next(FIXTURE_DATA(rfc2008) *self,
		       struct virtio_net_hdr *vh, unsigned char *buf,
		       size_t len)
{
	struct pollfd pfd = { .fd = self->rsock, .events = POLLIN };
	struct iovec iov[2] = {
		{ .iov_base = vh, .iov_len = sizeof(*vh) },
		{ .iov_base = buf, .iov_len = len },
	};
	struct sockaddr_ll sll;
	struct msghdr msg;
	ssize_t n;

	for (;;) {
		n = poll(&pfd, 1, RX_TIMEOUT_MS);
		if (n <= 0)
			return n ? -errno : -ETIMEDOUT;
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &sll;
		msg.msg_namelen = sizeof(sll);
		msg.msg_iov = iov;
		msg.msg_iovlen = 2;
		n = recvmsg(self->rsock, &msg, MSG_DONTWAIT);
		if (n < 0)
			return -errno;
		if (sll.sll_pkttype == PACKET_OUTGOING)
			continue;
		return n - sizeof(*vh);
	}
}

static ssize_t dev_read(int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	n = poll(&pfd, 1, timeout_ms);
	if (n <= 0)
		return n ? -errno : -ETIMEDOUT;
	n = read(fd, buf, len);
	return n < 0 ? -errno : n;
}

FIXTURE_SETUP(rfc2008)
{
	char abi[32];
	int one = 1, err;

	self->fd2 = -1;
	self->rsock = -1;
	self->psock = -1;
	self->fd = -1;
	ASSERT_EQ(0, sysfs_read("../../module/rtun/parameters", "abi", abi,
				sizeof(abi)))
		TH_LOG("rtun not loaded?");
	ASSERT_STREQ("rfc2008", abi)
		TH_LOG("load rtun with abi=rfc2008 (scripts/guest-check.sh does)");
	err = netns_enter();
	ASSERT_EQ(0, err) TH_LOG("namespaces: %s", strerror(-err));
	self->fd = dev_open(variant->node);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", variant->node,
				      strerror(errno));
	self->psock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->psock);
	ASSERT_EQ(0, setsockopt(self->psock, SOL_PACKET, PACKET_VNET_HDR,
				&one, sizeof(one)));
}

FIXTURE_TEARDOWN(rfc2008)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->fd2 >= 0)
		close(self->fd2);
	if (self->rsock >= 0)
		close(self->rsock);
	if (self->psock >= 0)
		close(self->psock);
}

/*
 * IFF_SEND_GSO alone: a header precedes each written packet (partial
 * checksums and GSO reach the stack), none precedes a read one, and the
 * device has no offload feature.
 */
TEST_F(rfc2008, send_gso_only)
{
	static unsigned char pkt[8192], buf[8192], wbuf[8192];
	struct virtio_net_hdr vh = { .flags = NEEDS_CSUM, .csum_offset = 6 };
	struct virtio_net_hdr rvh;
	size_t len, l4, hlen;
	ssize_t n;

	dev_create(_metadata, self, "rfc%d", IFF_TAP | IFF_NO_PI | IFF_SEND_GSO);
	EXPECT_EQ(0, features_of(self->name));

	/* Write: header, then a partial checksum UDP packet. */
	len = pkt_build(pkt, true, 4, IPPROTO_UDP, 100, true, &l4, &hlen);
	vh.csum_start = l4;
	memcpy(wbuf, &vh, sizeof(vh));
	memcpy(wbuf + sizeof(vh), pkt, len);
	ASSERT_EQ(sizeof(vh) + len, write(self->fd, wbuf, sizeof(vh) + len))
		TH_LOG("write: %s", strerror(errno));
	n = rx_next(self, &rvh, buf, sizeof(buf));
	ASSERT_EQ(len, n);
	EXPECT_EQ(0, memcmp(buf, pkt, len));
	EXPECT_EQ(NEEDS_CSUM, rvh.flags);
	EXPECT_EQ(l4, rvh.csum_start);
	EXPECT_EQ(6, rvh.csum_offset);

	/* Write: a TCPv4 GSO packet. */
	len = pkt_build(pkt, true, 4, IPPROTO_TCP, 3000, true, &l4, &hlen);
	vh = (struct virtio_net_hdr){ .flags = NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = hlen,
		.gso_size = 1000, .csum_start = l4, .csum_offset = 16 };
	memcpy(wbuf, &vh, sizeof(vh));
	memcpy(wbuf + sizeof(vh), pkt, len);
	ASSERT_EQ(sizeof(vh) + len, write(self->fd, wbuf, sizeof(vh) + len))
		TH_LOG("write: %s", strerror(errno));
	n = rx_next(self, &rvh, buf, sizeof(buf));
	ASSERT_EQ(len, n);
	EXPECT_EQ(VIRTIO_NET_HDR_GSO_TCPV4, rvh.gso_type);
	EXPECT_EQ(1000, rvh.gso_size);

	/* Read: the bare packet, no header. */
	len = pkt_build(pkt, true, 4, IPPROTO_UDP, 100, false, &l4, &hlen);
	ASSERT_EQ(0, inject(self, NULL, pkt, len, ETH_P_IP));
	memset(buf, 0xa5, sizeof(buf));
	n = dev_read(self->fd, buf, sizeof(buf), RX_TIMEOUT_MS);
	ASSERT_EQ(len, n);
	EXPECT_EQ(0, memcmp(buf, pkt, len));
}

/* TUN with PI and IFF_SEND_GSO: the PI, then the header, then the packet. */
TEST_F(rfc2008, send_gso_tun_pi)
{
	static unsigned char pkt[2048], buf[2048], wbuf[2048];
	struct virtio_net_hdr vh = { .flags = NEEDS_CSUM, .csum_offset = 16 };
	struct virtio_net_hdr rvh;
	size_t len, l4, hlen;

	dev_create(_metadata, self, "rfc%d", IFF_TUN | IFF_SEND_GSO);
	len = pkt_build(pkt, false, 6, IPPROTO_TCP, 200, true, &l4, &hlen);
	vh.csum_start = l4;
	put16(wbuf, 0);
	put16(wbuf + 2, ETH_P_IPV6);
	memcpy(wbuf + PI_LEN, &vh, sizeof(vh));
	memcpy(wbuf + PI_LEN + sizeof(vh), pkt, len);
	ASSERT_EQ(PI_LEN + sizeof(vh) + len,
		  write(self->fd, wbuf, PI_LEN + sizeof(vh) + len))
		TH_LOG("write: %s", strerror(errno));
	ASSERT_EQ(len, rx_next(self, &rvh, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, pkt, len));
	EXPECT_EQ(NEEDS_CSUM, rvh.flags);
	EXPECT_EQ(40, rvh.csum_start);

	/* Read: PI and packet, no header. */
	len = pkt_build(pkt, false, 4, IPPROTO_UDP, 50, false, &l4, &hlen);
	ASSERT_EQ(0, inject(self, NULL, pkt, len, ETH_P_IP));
	ASSERT_EQ(PI_LEN + len, dev_read(self->fd, buf, sizeof(buf),
					 RX_TIMEOUT_MS));
	EXPECT_EQ(ETH_P_IP, get16(buf + 2));
	EXPECT_EQ(0, memcmp(buf + PI_LEN, pkt, len));
}

/*
 * IFF_RECV_CSUM: reads carry a header, partial checksums reach the reader;
 * writes carry none; features SG, HW_CSUM, HIGHDMA, FRAGLIST, no TSO.
 */
TEST_F(rfc2008, recv_csum)
{
	static unsigned char pkt[8192], buf[8192];
	struct virtio_net_hdr vh = { .flags = NEEDS_CSUM, .csum_offset = 6 };
	struct virtio_net_hdr rvh;
	size_t len, l4, hlen, seg, got;
	ssize_t n;

	dev_create(_metadata, self, "rfc%d", IFF_TAP | IFF_NO_PI | IFF_RECV_CSUM);
	EXPECT_EQ(F_RECV_CSUM, features_of(self->name));
	/* Fixed at creation: ethtool cannot add TSO. */
	sh("ethtool -K %s tx-tcp-segmentation on", self->name);
	EXPECT_EQ(F_RECV_CSUM, features_of(self->name));

	len = pkt_build(pkt, true, 4, IPPROTO_UDP, 100, true, &l4, &hlen);
	vh.csum_start = l4;
	ASSERT_EQ(0, inject(self, &vh, pkt, len, ETH_P_IP));
	memset(buf, 0xa5, sizeof(buf));
	n = dev_read(self->fd, buf, sizeof(buf), RX_TIMEOUT_MS);
	ASSERT_EQ(VNET_HDR_LEN + len, n);
	memcpy(&rvh, buf, sizeof(rvh));
	EXPECT_EQ(NEEDS_CSUM, rvh.flags);
	EXPECT_EQ(0, rvh.gso_type);
	EXPECT_EQ(l4, rvh.csum_start);
	EXPECT_EQ(6, rvh.csum_offset);
	EXPECT_EQ(0, memcmp(buf + VNET_HDR_LEN, pkt, len));

	/* A GSO packet is segmented: the reader did not ask for GSO. */
	len = pkt_build(pkt, true, 4, IPPROTO_TCP, 3000, true, &l4, &hlen);
	vh = (struct virtio_net_hdr){ .flags = NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = hlen,
		.gso_size = 1000, .csum_start = l4, .csum_offset = 16 };
	ASSERT_EQ(0, inject(self, &vh, pkt, len, ETH_P_IP));
	for (seg = 0, got = 0; seg < 3; seg++) {
		n = dev_read(self->fd, buf, sizeof(buf), RX_TIMEOUT_MS);
		ASSERT_EQ(VNET_HDR_LEN + hlen + 1000, n);
		memcpy(&rvh, buf, sizeof(rvh));
		EXPECT_EQ(0, rvh.gso_type);
		EXPECT_EQ(NEEDS_CSUM, rvh.flags);
		EXPECT_EQ(0, memcmp(buf + VNET_HDR_LEN + hlen,
				    pkt + hlen + got, 1000));
		got += 1000;
	}
	EXPECT_EQ(-ETIMEDOUT, dev_read(self->fd, buf, sizeof(buf), QUIET_MS));

	/* Write: no header. */
	len = pkt_build(pkt, true, 4, IPPROTO_UDP, 100, false, &l4, &hlen);
	ASSERT_EQ(len, write(self->fd, pkt, len))
		TH_LOG("write: %s", strerror(errno));
	ASSERT_EQ(len, rx_next(self, &rvh, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, pkt, len));
}

/*
 * IFF_RECV_CSUM | IFF_RECV_GSO: TSO, TSO6 and TSO_ECN too; TCP GSO
 * packets reach the reader whole; UDP_L4 does not (UFO maps to nothing).
 */
TEST_F(rfc2008, recv_csum_gso)
{
	static unsigned char pkt[8192], buf[8192];
	struct virtio_net_hdr vh, rvh;
	size_t len, l4, hlen;
	int ipv, seg;
	ssize_t n;

	dev_create(_metadata, self, "rfc%d",
		   IFF_TAP | IFF_NO_PI | IFF_RECV_CSUM | IFF_RECV_GSO);
	EXPECT_EQ(F_RECV_CSUM | F_RECV_GSO, features_of(self->name));

	for (ipv = 4; ipv <= 6; ipv += 2) {
		len = pkt_build(pkt, true, ipv, IPPROTO_TCP, 5000, true, &l4,
				&hlen);
		vh = (struct virtio_net_hdr){ .flags = NEEDS_CSUM,
			.gso_type = ipv == 6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
					       VIRTIO_NET_HDR_GSO_TCPV4,
			.hdr_len = hlen, .gso_size = 1000, .csum_start = l4,
			.csum_offset = 16 };
		ASSERT_EQ(0, inject(self, &vh, pkt, len,
				    ipv == 6 ? ETH_P_IPV6 : ETH_P_IP));
		n = dev_read(self->fd, buf, sizeof(buf), RX_TIMEOUT_MS);
		ASSERT_EQ(VNET_HDR_LEN + len, n);
		memcpy(&rvh, buf, sizeof(rvh));
		EXPECT_EQ(vh.gso_type, rvh.gso_type);
		EXPECT_EQ(1000, rvh.gso_size);
		EXPECT_EQ(NEEDS_CSUM, rvh.flags);
		EXPECT_EQ(l4, rvh.csum_start);
		EXPECT_EQ(16, rvh.csum_offset);
		/* hdr_len as upstream (skb_headlen()), not the 2008 one. */
		EXPECT_EQ(hlen, rvh.hdr_len);
		EXPECT_EQ(0, memcmp(buf + VNET_HDR_LEN, pkt, len));
	}

	/* ECN: TSO_ECN is on. */
	len = pkt_build(pkt, true, 4, IPPROTO_TCP, 5000, true, &l4, &hlen);
	vh = (struct virtio_net_hdr){ .flags = NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
		.hdr_len = hlen, .gso_size = 1000, .csum_start = l4,
		.csum_offset = 16 };
	ASSERT_EQ(0, inject(self, &vh, pkt, len, ETH_P_IP));
	ASSERT_EQ(VNET_HDR_LEN + len, dev_read(self->fd, buf, sizeof(buf),
					       RX_TIMEOUT_MS));
	memcpy(&rvh, buf, sizeof(rvh));
	EXPECT_EQ(VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
		  rvh.gso_type);

	/* UDP_L4: segmented. */
	len = pkt_build(pkt, true, 4, IPPROTO_UDP, 3000, true, &l4, &hlen);
	vh = (struct virtio_net_hdr){ .flags = NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4, .hdr_len = hlen,
		.gso_size = 1000, .csum_start = l4, .csum_offset = 6 };
	ASSERT_EQ(0, inject(self, &vh, pkt, len, ETH_P_IP));
	for (seg = 0; seg < 3; seg++) {
		n = dev_read(self->fd, buf, sizeof(buf), RX_TIMEOUT_MS);
		ASSERT_EQ(VNET_HDR_LEN + hlen + 1000, n);
		memcpy(&rvh, buf, sizeof(rvh));
		EXPECT_EQ(0, rvh.gso_type);
		EXPECT_EQ(NEEDS_CSUM, rvh.flags);
	}
	EXPECT_EQ(-ETIMEDOUT, dev_read(self->fd, buf, sizeof(buf), QUIET_MS));
}

/*
 * IFF_RECV_GSO alone: reads carry a header, but without IFF_RECV_CSUM
 * there is no offload at all ("CSUM handling is required for GSO"):
 * checksums are complete, the header says nothing.  0x0800 is no
 * IFF_PERSIST: the device goes with its last fd.
 */
TEST_F(rfc2008, recv_gso_only)
{
	static unsigned char pkt[2048], buf[2048];
	struct virtio_net_hdr vh = { .flags = NEEDS_CSUM, .csum_offset = 6 };
	struct virtio_net_hdr rvh;
	size_t len, l4, hlen;
	char name[IFNAMSIZ];
	ssize_t n;

	dev_create(_metadata, self, "rfc%d", IFF_TAP | IFF_NO_PI | IFF_RECV_GSO);
	EXPECT_EQ(0, features_of(self->name));
	len = pkt_build(pkt, true, 4, IPPROTO_UDP, 100, true, &l4, &hlen);
	vh.csum_start = l4;
	ASSERT_EQ(0, inject(self, &vh, pkt, len, ETH_P_IP));
	n = dev_read(self->fd, buf, sizeof(buf), RX_TIMEOUT_MS);
	ASSERT_EQ(VNET_HDR_LEN + len, n);
	memcpy(&rvh, buf, sizeof(rvh));
	EXPECT_EQ(0, rvh.flags);
	EXPECT_EQ(0, rvh.gso_type);
	EXPECT_EQ(0, rvh.csum_start);
	/* The stack completed the checksum. */
	EXPECT_TRUE(l4_csum_ok(buf + VNET_HDR_LEN + ETH_HLEN,
			       buf + VNET_HDR_LEN + l4, IPPROTO_UDP, len - l4));

	memcpy(name, self->name, IFNAMSIZ);
	close(self->rsock);
	self->rsock = -1;
	close(self->fd);
	self->fd = -1;
	EXPECT_TRUE(netdev_wait_gone(name, SETTLE_MS)) TH_LOG("%s persists", name);
}

/* Offloads are fixed at creation: TUNSETOFFLOAD is EINVAL, whatever the flags. */
TEST_F(rfc2008, tunsetoffload_einval)
{
	static const unsigned int args[] = {
		0, TUN_F_CSUM, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
	};
	size_t i;

	dev_create(_metadata, self, "rfc%d",
		   IFF_TAP | IFF_NO_PI | IFF_SEND_GSO | IFF_RECV_CSUM |
		   IFF_RECV_GSO);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(-1, ioctl(self->fd, TUNSETOFFLOAD,
				    (unsigned long)args[i]));
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(F_RECV_CSUM | F_RECV_GSO, features_of(self->name));
}

/*
 * 0x8000 is IFF_RECV_CSUM, not IFF_TUN_EXCL: a name that exists is judged
 * by the attach rules (another kind or driver: EINVAL; attached: EBUSY),
 * never refused outright with EBUSY.
 */
TEST_F(rfc2008, no_tun_excl)
{
	char name[IFNAMSIZ];

	dev_create(_metadata, self, "rfc%d", IFF_TAP | IFF_NO_PI | IFF_RECV_CSUM);
	memcpy(name, self->name, IFNAMSIZ);
	self->fd2 = dev_open(variant->node);
	ASSERT_LE(0, self->fd2);
	/* Not a tun device: EINVAL (EXCL would have said EBUSY). */
	EXPECT_EQ(-1, set_iff(self->fd2, "lo", IFF_TAP | IFF_RECV_CSUM, NULL));
	EXPECT_EQ(EINVAL, errno);
	/* Another kind: EINVAL. */
	EXPECT_EQ(-1, set_iff(self->fd2, name, IFF_TUN | IFF_RECV_CSUM, NULL));
	EXPECT_EQ(EINVAL, errno);
	/* Same kind, but attached: EBUSY. */
	EXPECT_EQ(-1, set_iff(self->fd2, name, IFF_TAP | IFF_RECV_CSUM, NULL));
	EXPECT_EQ(EBUSY, errno);
	/* fd2 is still free to create another device. */
	EXPECT_EQ(0, set_iff(self->fd2, "rfcx%d", IFF_TAP | IFF_RECV_CSUM,
			     NULL));
}

RTUN_HARNESS_MAIN
