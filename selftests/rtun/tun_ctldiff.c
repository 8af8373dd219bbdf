// SPDX-License-Identifier: GPL-2.0
/*
 * tun_ctldiff: differential tester of the control plane of the tun
 * drivers.  A sequence is a list of operations generated from a seed,
 * applied alike to C tun (/dev/net/tun) and to rtun (/dev/net/rtun): each
 * driver gets its own fds and devices, whose names differ only in their
 * first letter ('c' or 'r').  After every operation its result (return
 * value, errno, what it returned through its argument) and everything
 * user space can see of the fds and devices are compared; the C driver is
 * the oracle, and a difference is a bug of rtun unless diff_allowed.h
 * recognises it as a documented one.
 *
 *   tun_ctldiff [--seed S] [--count N] [--seconds T] [--seq I]
 *               [--ops LIST] [--max-diffs K] [--rtun-node PATH] [--verbose]
 *
 * The operations: open (O_NONBLOCK; again on an open slot: close and
 * re-open) and close of three fds per driver; TUNSETIFF (TUN, TAP, both or
 * neither, NO_PI, VNET_HDR, TUN_EXCL, ONE_QUEUE, NO_CARRIER, PERSIST and
 * bits no driver knows; on two names, a %d template and "lo"), TUNGETIFF,
 * TUNSETPERSIST, TUNSETOWNER and TUNSETGROUP (valid ids, -1, ids cut to
 * 32 bits), TUNSETLINK, TUNSETSNDBUF/TUNGETSNDBUF (0 and negative too),
 * TUNSETVNETHDRSZ/TUNGETVNETHDRSZ (too small too), TUNSETVNETLE/BE and
 * their GET, TUNSETOFFLOAD (random bits), TUNSETCARRIER, TUNSETIFINDEX
 * (free, in use, negative), TUNSETDEBUG, TUNSETTXFILTER (random exact and
 * multicast addresses, ALLMULTI), SIOCGIFHWADDR/SIOCSIFHWADDR through the
 * fd, TUNGETFEATURES, TUNGETDEVNETNS, IFF_UP on and off (SIOCSIFFLAGS),
 * a write of a small packet (PI, vnet header, Ethernet header or not), a
 * frame sent to the device from an AF_PACKET socket, and a read.  Any
 * operation but open and close may run as root, root without
 * capabilities, the devices' would-be owner (with or without its group)
 * or another user (in the group or not): in a child that drops to it.
 *
 * What is compared after each operation: per fd, TUNGETIFF, the fdinfo
 * "iff:" line, TUNGETSNDBUF, TUNGETVNETHDRSZ; per device, sysfs
 * tun_flags, owner, group, carrier, mtu, type, addr_len, tx_queue_len,
 * operstate, flags, the address (when the test set it), four counters,
 * the rtnl link info (IFLA_TUN_*), the ethtool features, the ethtool link
 * (read first: it runs the pending link watch events, so that the rest
 * does not depend on their timing) and the ifindex when the test asked
 * for one.  Names and the link kind are normalised (differences.md, D1),
 * TUNGETFEATURES must be C's (diff_allowed.h lists no difference for it
 * any more).  A third of the
 * TUNSETIFF requests ask for IFF_MULTI_QUEUE, and TUNSETQUEUE detaches and
 * attaches queues, so the files of a sequence are often queues of one
 * device: their reads show which queue the stack's packets went to; some
 * ask for IFF_NAPI, some for IFF_NAPI_FRAGS (refused without IFF_NAPI, a
 * TAP or, for the unprivileged user, the capability).
 *
 * On a difference it prints the seed, the sequence, the operation and
 * both sides, shrinks the sequence to a minimal one that still differs
 * and prints it as an --ops line that replays it.  --seq I runs sequence
 * I of the seed only.  The last line is "cases: N, differences: D, ...",
 * N sequences, as tun_diff's (scripts/guest-diff.sh reads it).
 *
 * Exit status: 0 no difference, 1 differences, 2 usage or setup error.
 * Needs root and both modules loaded; runs in network and mount namespaces
 * of its own, so the devices it makes go with it.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "rtun_test.h"
#include "pkt.h"
#include "diff_allowed.h"

#define NSLOT		3	/* fds per driver */
#define MAX_OPS		48	/* operations per sequence */
#define STATE_MAX	16384	/* the text of one side's state */
#define OUT_MAX		256	/* what one operation returned */
#define SETTLE_MS	2000	/* how long a device may take to go */
#define READ_WAIT_MS	500	/* a packet that came on one side only */
#define SHRINK_MAX	1	/* differences that are shrunk */

/* Ids of the users and groups the children become (tun_ctl's). */
#define OWNER_UID	4321
#define OTHER_UID	5000
#define GROUP_GID	4400
#define OTHER_GID	5001

/* The ifindex a side asks for: its base plus 0..3 (never auto). */
#define IFINDEX_BASE_C	1000000
#define IFINDEX_BASE_R	2000000

enum { C_SIDE, R_SIDE };
static const char * const side_name[] = { "C", "rtun" };
static const char side_tag[] = { 'c', 'r' };
static const char *nodes[] = { "/dev/net/tun", "/dev/net/rtun" };
static const int ifindex_base[] = { IFINDEX_BASE_C, IFINDEX_BASE_R };
/* Each driver's rtnl link kind (D1); C's twice for --rtun-node /dev/net/tun. */
static const char *kinds[] = { "tun", "rtun" };

/* Whether the kernel is 7.x (diff_allowed.h's D4 is 6.12's only). */
static bool linux7;
static bool verbose;

#define die(...) fatal("tun_ctldiff", __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Operations.                                                          */

enum op_kind {
	OP_OPEN, OP_CLOSE, OP_SETIFF, OP_GETIFF, OP_PERSIST, OP_OWNER,
	OP_GROUP, OP_LINK, OP_SNDBUF, OP_GETSNDBUF, OP_VNETHDRSZ,
	OP_GETVNETHDRSZ, OP_VNETLE, OP_OFFLOAD, OP_CARRIER, OP_IFINDEX,
	OP_DEBUG, OP_TXFILTER, OP_GETHWADDR, OP_SETHWADDR, OP_FEATURES,
	OP_DEVNETNS, OP_LINKUP, OP_WRITE, OP_INJECT, OP_READ, OP_QUEUE, N_OPS
};

static const char * const op_names[N_OPS] = {
	"open", "close", "setiff", "getiff", "persist", "owner", "group",
	"link", "sndbuf", "getsndbuf", "vnethdrsz", "getvnethdrsz", "vnetle",
	"offload", "carrier", "ifindex", "debug", "txfilter", "gethwaddr",
	"sethwaddr", "features", "devnetns", "linkup", "write", "inject",
	"read", "queue",
};

/* How often each operation is drawn, in parts of the sum. */
static const unsigned char op_weight[N_OPS] = {
	[OP_OPEN] = 6, [OP_CLOSE] = 3, [OP_SETIFF] = 14, [OP_GETIFF] = 3,
	[OP_PERSIST] = 6, [OP_OWNER] = 4, [OP_GROUP] = 4, [OP_LINK] = 3,
	[OP_SNDBUF] = 3, [OP_GETSNDBUF] = 2, [OP_VNETHDRSZ] = 3,
	[OP_GETVNETHDRSZ] = 2, [OP_VNETLE] = 2, [OP_OFFLOAD] = 4,
	[OP_CARRIER] = 3, [OP_IFINDEX] = 3, [OP_DEBUG] = 2,
	[OP_TXFILTER] = 3, [OP_GETHWADDR] = 2, [OP_SETHWADDR] = 3,
	[OP_FEATURES] = 1, [OP_DEVNETNS] = 2, [OP_LINKUP] = 8, [OP_WRITE] = 4,
	[OP_INJECT] = 4, [OP_READ] = 4, [OP_QUEUE] = 5,
};

/* Who runs an operation. */
enum { W_ROOT, W_NOCAPS, W_OWNER, W_OWNER_NOGRP, W_OTHER_GRP, W_OTHER, N_WHO };
static const char * const who_names[N_WHO] = {
	"root", "nocaps", "owner", "ownernogrp", "othergrp", "other",
};

static const struct who whos[N_WHO] = {
	[W_ROOT] = { 0, 0, -1, false },
	[W_NOCAPS] = { 0, 0, -1, true },
	[W_OWNER] = { OWNER_UID, GROUP_GID, -1, false },
	[W_OWNER_NOGRP] = { OWNER_UID, OTHER_GID, -1, false },
	[W_OTHER_GRP] = { OTHER_UID, GROUP_GID, -1, false },
	[W_OTHER] = { OTHER_UID, OTHER_GID, -1, false },
};

/*
 * One operation on fd @slot (or, for linkup and inject, on device @name)
 * with its arguments; printed as kind/slot/who/name/arg/arg2.
 */
struct op {
	uint8_t kind, slot, who, name;
	long long arg;
	unsigned long long arg2;
};

/* Device names: 'c' or 'r' and one of these. */
enum { N_XA, N_XB, N_TMPL, N_LO, N_NAMES };
#define N_TMPL_DEVS 8	/* x0..x7, what the template gives */

/* Addresses of TUNSETTXFILTER, SIOCSIFHWADDR and injected frames. */
static const unsigned char mac_pool[8][ETH_ALEN] = {
	{ 0x02, 0x11, 0x22, 0x33, 0x44, 0x01 },
	{ 0x02, 0x11, 0x22, 0x33, 0x44, 0x02 },
	{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
	{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 },
	{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
	{ 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 },
	{ 0x02, 0x11, 0x22, 0x33, 0x44, 0x03 },
};

/* The index of @a in mac_pool, or -1: a random address. */
static int mac_pool_index(const unsigned char *a)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mac_pool); i++)
		if (!memcmp(a, mac_pool[i], ETH_ALEN))
			return i;
	return -1;
}

static const long long owner_vals[] = {
	0, OWNER_UID, OTHER_UID, -1, 65534, (1LL << 32) + OWNER_UID,
};
static const long long group_vals[] = {
	0, GROUP_GID, OTHER_GID, -1, 65534, (1LL << 32) + GROUP_GID,
};
static const long long link_vals[] = {
	ARPHRD_ETHER, ARPHRD_NONE, ARPHRD_LOOPBACK, ARPHRD_IEEE80211,
	0x10000 + ARPHRD_ETHER, ARPHRD_NETROM, ARPHRD_PPP,
};
static const long long sndbuf_vals[] = {
	0, -1, 1, 4096, 1 << 20, INT_MAX, INT_MIN,
};
static const long long hdrsz_vals[] = {
	-1, 0, 8, 9, 10, 11, 12, 20, 24, 64, 1000,
};

/* TUNSETIFF flags: a type (or two, or none) and any of the others. */
static int gen_iff_flags(struct rng *r)
{
	static const int types[] = {
		IFF_TUN, IFF_TAP, IFF_TUN, IFF_TAP, IFF_TUN, IFF_TAP,
		IFF_TUN | IFF_TAP, 0,
	};
	static const struct { int flag; unsigned int pct; } extra[] = {
		{ IFF_NO_PI, 50 }, { IFF_VNET_HDR, 40 }, { IFF_TUN_EXCL, 15 },
		{ IFF_ONE_QUEUE, 15 }, { IFF_NO_CARRIER, 15 },
		{ IFF_PERSIST, 5 }, { 0x0004, 4 }, { 0x0008, 4 },
		{ IFF_BACKPRESSURE, 8 }, { IFF_ATTACH_QUEUE, 3 },
		{ IFF_DETACH_QUEUE, 3 }, { IFF_MULTI_QUEUE, 35 }, { IFF_NAPI, 20 },
		{ IFF_NAPI_FRAGS, 10 },
	};
	int flags = PICK(r, types);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(extra); i++)
		if (chance(r, extra[i].pct))
			flags |= extra[i].flag;
	return flags;
}

/*
 * A slot for an operation, given the slots that are open (which the
 * generator knows: open and close always do what they say): an open one
 * mostly, a closed one mostly for open.
 */
static uint8_t gen_slot(struct rng *r, unsigned int kind, const bool *open)
{
	uint8_t pick[NSLOT];
	int n = 0, i;

	for (i = 0; i < NSLOT; i++)
		if (open[i] != (kind == OP_OPEN))
			pick[n++] = i;
	if (!n || chance(r, 10))
		return rnd(r, NSLOT);
	return pick[rnd(r, n)];
}

static void gen_op(struct rng *r, struct op *o, const bool *open)
{
	unsigned int sum = 0, pick, k;

	for (k = 0; k < N_OPS; k++)
		sum += op_weight[k];
	pick = rnd(r, sum);
	for (k = 0; pick >= op_weight[k]; k++)
		pick -= op_weight[k];
	memset(o, 0, sizeof(*o));
	/* Nothing open: mostly an open. */
	if (!open[0] && !open[1] && !open[2] && chance(r, 70))
		k = OP_OPEN;
	o->kind = k;
	o->slot = gen_slot(r, k, open);
	o->name = chance(r, 60) ? N_XA : chance(r, 60) ? N_XB : N_TMPL;
	if (k != OP_OPEN && k != OP_CLOSE && !rnd(r, 4))
		o->who = 1 + rnd(r, N_WHO - 1);
	switch (k) {
	case OP_SETIFF:
		o->arg = gen_iff_flags(r);
		o->name = chance(r, 5) ? N_LO : o->name;
		break;
	case OP_PERSIST:
		o->arg = chance(r, 10) ? 2 : rnd(r, 2);
		break;
	case OP_OWNER:
		o->arg = PICK(r, owner_vals);
		break;
	case OP_GROUP:
		o->arg = PICK(r, group_vals);
		break;
	case OP_LINK:
		o->arg = PICK(r, link_vals);
		break;
	case OP_SNDBUF:
		o->arg = PICK(r, sndbuf_vals);
		break;
	case OP_VNETHDRSZ:
		o->arg = PICK(r, hdrsz_vals);
		break;
	case OP_VNETLE:
		o->arg = rnd(r, 3);	/* 0, 1, 2: TUNSETVNETLE's int */
		o->arg2 = rnd(r, 2);	/* LE or BE */
		break;
	case OP_OFFLOAD:
		/*
		 * Mostly the bits both kernels know, then 7.x's, then none;
		 * mostly with TUN_F_CSUM, without which the others are EINVAL.
		 */
		o->arg = rnd(r, chance(r, 60) ? 0x80 : 0x200) |
			 (chance(r, 10) ? 0x400 : 0) |
			 (chance(r, 60) ? TUN_F_CSUM : 0);
		break;
	case OP_CARRIER:
		o->arg = chance(r, 10) ? 2 : rnd(r, 2);
		break;
	case OP_IFINDEX:
		o->arg = rnd(r, 7);	/* 0, base+1..3, lo's (1), -1: below */
		break;
	case OP_DEBUG:
		o->arg = chance(r, 50) ? rnd(r, 2) : rng_next(r) & 0xffffffff;
		break;
	case OP_TXFILTER:
		o->arg = rnd(r, 11) | (chance(r, 20) ? TUN_FLT_ALLMULTI << 16 : 0);
		o->arg2 = rng_next(r) & 0x3fffffff;	/* 3 bits an address */
		break;
	case OP_SETHWADDR:
		o->arg = rnd(r, ARRAY_SIZE(mac_pool));
		o->arg2 = chance(r, 85) ? ARPHRD_ETHER : ARPHRD_NONE;
		break;
	case OP_LINKUP:
		o->arg = chance(r, 70);
		o->who = chance(r, 15) ? o->who : W_ROOT;
		break;
	case OP_WRITE:
		/* bit 0: PI, bit 1: Ethernet header, 8..15: vnet header bytes */
		o->arg = rnd(r, 4) | (long long)(chance(r, 40) ? PICK(r, hdrsz_vals) & 0xff : 0) << 8;
		break;
	case OP_INJECT:
		o->arg = rnd(r, ARRAY_SIZE(mac_pool));
		break;
	case OP_QUEUE: {
		static const int qflags[] = {
			IFF_ATTACH_QUEUE, IFF_DETACH_QUEUE, IFF_ATTACH_QUEUE,
			IFF_DETACH_QUEUE, IFF_ATTACH_QUEUE | IFF_DETACH_QUEUE, 0,
		};

		o->arg = PICK(r, qflags) | (chance(r, 10) ? IFF_TAP : 0);
		break;
	}
	}
}

/*
 * A sequence: mostly on one or two devices; most start with a device on
 * fd 0, most opens are followed by a TUNSETIFF.
 */
static int gen_seq(unsigned long long seed, unsigned long idx, struct op *ops)
{
	struct rng r = { seed * 0x2545f4914f6cdd1dull ^ (idx + 1) * 0x9e3779b97f4a7c15ull };
	bool open[NSLOT] = { false };
	int n, i = 0;

	rng_next(&r);
	n = 8 + rnd(&r, MAX_OPS - 8);
	if (chance(&r, 80)) {
		memset(ops, 0, 2 * sizeof(*ops));
		ops[0].kind = OP_OPEN;
		ops[1].kind = OP_SETIFF;
		ops[1].arg = gen_iff_flags(&r) & ~(IFF_TUN | IFF_TAP | IFF_TUN_EXCL);
		ops[1].arg |= chance(&r, 50) ? IFF_TAP : IFF_TUN;
		open[0] = true;
		i = 2;
		if (chance(&r, 60)) {
			memset(&ops[2], 0, sizeof(*ops));
			ops[2].kind = OP_LINKUP;
			ops[2].arg = 1;
			i = 3;
		}
	}
	for (; i < n; i++) {
		gen_op(&r, &ops[i], open);
		if (ops[i].kind == OP_OPEN || ops[i].kind == OP_CLOSE)
			open[ops[i].slot] = ops[i].kind == OP_OPEN;
		if (ops[i].kind == OP_OPEN && i + 1 < n && chance(&r, 60)) {
			gen_op(&r, &ops[i + 1], open);
			ops[i + 1].kind = OP_SETIFF;
			ops[i + 1].slot = ops[i].slot;
			ops[i + 1].arg = gen_iff_flags(&r);
			i++;
		}
	}
	return n;
}

static void op_print(FILE *f, const struct op *o)
{
	fprintf(f, "%s/%u/%s/%u/%lld/0x%llx", op_names[o->kind], o->slot,
		who_names[o->who], o->name, o->arg, o->arg2);
}

/* @ops between @prefix and @suffix. */
static void ops_print(FILE *f, const char *prefix, const struct op *ops,
		      int n, const char *suffix)
{
	int i;

	fputs(prefix, f);
	for (i = 0; i < n; i++) {
		fputs(i ? " " : "", f);
		op_print(f, &ops[i]);
	}
	fputs(suffix, f);
}

/* The inverse of ops_print(); the number of operations or -1. */
static int ops_parse(const char *s, struct op *ops)
{
	char kind[16], who[16];
	unsigned int slot, name;
	int n = 0, used, k, w;

	while (*s) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		if (n == MAX_OPS)
			return -1;
		if (sscanf(s, "%15[a-z]/%u/%15[a-z]/%u/%lld/%lli%n", kind, &slot,
			   who, &name, &ops[n].arg,
			   (long long *)&ops[n].arg2, &used) != 6)
			return -1;
		for (k = 0; k < N_OPS && strcmp(kind, op_names[k]); k++)
			;
		for (w = 0; w < N_WHO && strcmp(who, who_names[w]); w++)
			;
		if (k == N_OPS || w == N_WHO || slot >= NSLOT || name >= N_NAMES)
			return -1;
		ops[n].kind = k;
		ops[n].who = w;
		ops[n].slot = slot;
		ops[n].name = name;
		n++;
		s += used;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Running an operation on one side.                                    */

struct side {
	int k;			/* C_SIDE or R_SIDE */
	int fd[NSLOT];
};

static struct side sides[2];

/* What an operation did: its result and what it handed back. */
struct res {
	long ret;
	int err;
	char out[OUT_MAX];
};

/* Shared with the children that run operations as another user. */
static struct res *child_res;
static ino_t own_netns;
static int pkt_fd = -1;		/* AF_PACKET, for inject */
static int nl_fd = -1;		/* rtnetlink, for what a device looks like */
static int inet_fd = -1;	/* for SIOCETHTOOL */

/* The device name @which of side @k into @buf (IFNAMSIZ). */
static const char *dev_name(int k, int which, char *buf)
{
	static const char * const tails[] = { "xa", "xb", "x%d" };

	if (which == N_LO)
		return strcpy(buf, "lo");
	snprintf(buf, IFNAMSIZ, "%c%s", side_tag[k], tails[which]);
	return buf;
}

/*
 * The device @which of side @k that linkup and inject act on: the
 * template's first device for the template.
 */
static const char *target_name(int k, int which, char *buf)
{
	dev_name(k, which, buf);
	if (which == N_TMPL)
		strcpy(buf + 2, "0");
	return buf;
}

/*
 * A name as the other side would have it: ours ('c' or 'r' then 'x...')
 * with '*' for the side's letter, anything else as it is.
 */
static const char *norm_name(int k, const char *name, char *buf)
{
	if (name[0] == side_tag[k] && name[1] == 'x')
		snprintf(buf, IFNAMSIZ + 1, "*%.14s", name + 1);
	else
		snprintf(buf, IFNAMSIZ + 1, "%.15s", name);
	return buf;
}

static int outf(struct res *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int outf(struct res *r, const char *fmt, ...)
{
	size_t len = strlen(r->out);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->out + len, sizeof(r->out) - len, fmt, ap);
	va_end(ap);
	return 0;
}

static void out_mac(struct res *r, const unsigned char *mac)
{
	outf(r, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
	     mac[3], mac[4], mac[5]);
}

/* The bytes of a write: [PI][vnet header][Ethernet] IPv4/UDP. */
static size_t write_frame(const struct op *o, unsigned char *buf)
{
	struct pkt_desc d = {
		.eth = o->arg & 2, .dst = pkt_mac_dst, .src = pkt_mac_src,
		.ip = { .ipv = 4 }, .l4 = { .proto = IPPROTO_UDP },
		.payload = 18,
	};
	size_t off = 0, hdr = (o->arg >> 8) & 0xff;

	if (o->arg & 1) {
		memset(buf, 0, 4);
		put16(buf + 2, ETH_P_IP);
		off = 4;
	}
	memset(buf + off, 0, hdr);
	off += hdr;
	ip_desc_addrs(&d.ip, &pkt_addrs, NULL, NULL);
	pkt_desc_usual(&d);
	return off + pkt_put(buf + off, &d, NULL);
}

/* An injected frame: Ethernet to @dst, a local ethertype, 46 bytes. */
static size_t inject_frame(const unsigned char *dst, unsigned char *buf)
{
	size_t off = eth_put(buf, dst, pkt_mac_src, 0, 0, 0x88b5);

	payload_put(buf + off, 46, NULL, 0);
	return off + 46;
}

/* The ifindex of @dev, or -1 (from sysfs: no module autoload). */
static int ifindex_of(const char *dev)
{
	char path[64], buf[32];

	snprintf(path, sizeof(path), "/sys/class/net/%.*s/ifindex", IFNAMSIZ,
		 dev);
	return file_read(path, buf, sizeof(buf)) ? -1 : atoi(buf);
}

/* The ioctl of each operation that is one TUNSET* call. */
static const unsigned long set_ioctl[N_OPS] = {
	[OP_PERSIST] = TUNSETPERSIST, [OP_OWNER] = TUNSETOWNER,
	[OP_GROUP] = TUNSETGROUP, [OP_LINK] = TUNSETLINK,
	[OP_DEBUG] = TUNSETDEBUG, [OP_OFFLOAD] = TUNSETOFFLOAD,
	[OP_SNDBUF] = TUNSETSNDBUF, [OP_VNETHDRSZ] = TUNSETVNETHDRSZ,
	[OP_CARRIER] = TUNSETCARRIER,
};

/* The operation's own work, as whoever this process is now. */
static void op_body(struct side *s, const struct op *o, struct res *r,
		    int wait_ms)
{
	int fd = s->fd[o->slot], k = s->k, ival;
	unsigned char buf[2048];
	char name[IFNAMSIZ], nb[IFNAMSIZ + 1];
	struct ifreq ifr;
	unsigned int i, n;
	ssize_t len;

	memset(&ifr, 0, sizeof(ifr));
	ival = (int)o->arg;
	errno = 0;
	switch (o->kind) {
	case OP_OPEN:
		if (fd >= 0)
			close(fd);
		s->fd[o->slot] = open(nodes[k], O_RDWR | O_CLOEXEC | O_NONBLOCK);
		r->ret = s->fd[o->slot] < 0 ? -1 : 0;	/* fd numbers differ */
		break;
	case OP_CLOSE:
		r->ret = close(fd);
		s->fd[o->slot] = -1;
		break;
	case OP_QUEUE:
		/* tun_set_queue() looks at the flags only, not the name. */
		ifr_set_name(&ifr, dev_name(k, o->name, name));
		ifr.ifr_flags = ival;
		r->ret = ioctl(fd, TUNSETQUEUE, &ifr);
		break;
	case OP_SETIFF:
	case OP_GETIFF:
		if (o->kind == OP_SETIFF) {
			ifr_set_name(&ifr, dev_name(k, o->name, name));
			ifr.ifr_flags = ival;
		}
		r->ret = ioctl(fd, o->kind == OP_SETIFF ? TUNSETIFF : TUNGETIFF,
			       &ifr);
		if (!r->ret)
			outf(r, "name=%s flags=0x%x",
			     norm_name(k, ifr.ifr_name, nb),
			     (unsigned short)ifr.ifr_flags);
		break;
	case OP_PERSIST:
	case OP_OWNER:
	case OP_GROUP:
	case OP_LINK:
	case OP_DEBUG:
	case OP_OFFLOAD:
		r->ret = ioctl(fd, set_ioctl[o->kind], (unsigned long)o->arg);
		break;
	case OP_SNDBUF:
	case OP_VNETHDRSZ:
	case OP_CARRIER:
		r->ret = ioctl(fd, set_ioctl[o->kind], &ival);
		break;
	case OP_GETSNDBUF:
	case OP_GETVNETHDRSZ:
		ival = -12345;
		r->ret = ioctl(fd, o->kind == OP_GETSNDBUF ? TUNGETSNDBUF :
			       TUNGETVNETHDRSZ, &ival);
		outf(r, "val=%d", ival);
		break;
	case OP_VNETLE:
		r->ret = ioctl(fd, o->arg2 ? TUNSETVNETBE : TUNSETVNETLE, &ival);
		outf(r, "set errno %d", r->ret ? errno : 0);
		ival = -12345;
		r->ret = ioctl(fd, o->arg2 ? TUNGETVNETBE : TUNGETVNETLE, &ival);
		outf(r, " get %d", ival);
		break;
	case OP_IFINDEX:
		ival = o->arg == 0 ? 0 : o->arg <= 3 ? ifindex_base[k] + (int)o->arg :
		       o->arg == 4 ? 1 : -(int)o->arg;
		r->ret = ioctl(fd, TUNSETIFINDEX, &ival);
		break;
	case OP_TXFILTER: {
		struct tun_filter *f = (struct tun_filter *)buf;

		f->flags = o->arg >> 16;
		f->count = o->arg & 0xffff;
		for (i = 0; i < f->count; i++)
			memcpy(f->addr[i], mac_pool[(o->arg2 >> (3 * i)) & 7],
			       ETH_ALEN);
		r->ret = ioctl(fd, TUNSETTXFILTER, f);
		break;
	}
	case OP_GETHWADDR:
		r->ret = ioctl(fd, SIOCGIFHWADDR, &ifr);
		if (!r->ret) {
			const unsigned char *a = (unsigned char *)ifr.ifr_hwaddr.sa_data;

			outf(r, "family=%u ", ifr.ifr_hwaddr.sa_family);
			/* A random address differs: only the test's compare. */
			if (mac_pool_index(a) >= 0)
				out_mac(r, a);
			else
				outf(r, "(random)");
		}
		break;
	case OP_SETHWADDR:
		ifr.ifr_hwaddr.sa_family = o->arg2;
		memcpy(ifr.ifr_hwaddr.sa_data, mac_pool[o->arg], ETH_ALEN);
		r->ret = ioctl(fd, SIOCSIFHWADDR, &ifr);
		break;
	case OP_FEATURES:
		n = 0;
		r->ret = ioctl(fd, TUNGETFEATURES, &n);
		outf(r, "features=0x%x", n);
		break;
	case OP_DEVNETNS:
		r->ret = ioctl(fd, TUNGETDEVNETNS);
		if (r->ret >= 0) {
			struct stat st;

			outf(r, "netns=%s", fstat(r->ret, &st) ? "?" :
			     st.st_ino == own_netns ? "own" : "other");
			close(r->ret);
			r->ret = 0;
		}
		break;
	case OP_LINKUP:
		/*
		 * SIOCGIFFLAGS on a name that does not exist loads a module
		 * (dev_load()), seconds under TCG: ENODEV without asking.
		 */
		target_name(k, o->name, name);
		if (netdev_exists(name)) {
			r->ret = link_set(name, o->arg);
		} else {
			r->ret = -1;
			errno = ENODEV;
		}
		break;
	case OP_INJECT: {
		struct sockaddr_ll sll = {
			.sll_family = AF_PACKET, .sll_protocol = htons(0x88b5),
		};

		sll.sll_ifindex = ifindex_of(target_name(k, o->name, name));
		len = inject_frame(mac_pool[o->arg], buf);
		r->ret = sendto(pkt_fd, buf, len, 0, (struct sockaddr *)&sll,
				sizeof(sll));
		break;
	}
	case OP_WRITE:
		len = write_frame(o, buf);
		r->ret = write(fd, buf, len);
		break;
	case OP_READ: {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (wait_ms && fd >= 0)
			poll(&p, 1, wait_ms);
		errno = 0;
		r->ret = read(fd, buf, sizeof(buf));
		for (len = 0; len < r->ret && len < 96; len++)
			outf(r, "%02x", buf[len]);
		break;
	}
	}
	r->err = r->ret < 0 ? errno : 0;
}

/*
 * Run @o on side @s, as root here or in a child that became its user.
 * @wait_ms: how long a read waits for a packet.
 */
static void op_run(struct side *s, const struct op *o, struct res *r,
		   int wait_ms)
{
	int status;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (o->who == W_ROOT) {
		op_body(s, o, r, wait_ms);
		return;
	}
	memset(child_res, 0, sizeof(*child_res));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		if (become(&whos[o->who])) {
			child_res->ret = -2;
			child_res->err = errno;
			snprintf(child_res->out, OUT_MAX, "cannot become %s",
				 who_names[o->who]);
			_exit(0);
		}
		op_body(s, o, child_res, wait_ms);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		die("child of %s died", op_names[o->kind]);
	*r = *child_res;
}

/* ------------------------------------------------------------------ */
/* What user space sees.                                                */

struct text {
	char *p;
	size_t len;
};

static void __attribute__((format(printf, 2, 3)))
tprintf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->p + t->len, STATE_MAX - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n < STATE_MAX - t->len ? (size_t)n :
			  STATE_MAX - 1 - t->len;
}

/* sysfs @attr of @dev as a line, or its errno. */
static void t_sysfs(struct text *t, const char *dev, const char *attr)
{
	char buf[128];
	int ret = sysfs_read(dev, attr, buf, sizeof(buf));

	if (ret)
		tprintf(t, "  %s: errno %d\n", attr, -ret);
	else
		tprintf(t, "  %s: %s\n", attr, buf);
}

static void t_fd(struct text *t, int k, int slot, int fd)
{
	char name[128], nb[IFNAMSIZ + 1];
	struct ifreq ifr;
	int v, ret;

	if (fd < 0) {
		tprintf(t, "fd %d: closed\n", slot);
		return;
	}
	memset(&ifr, 0, sizeof(ifr));
	ret = ioctl(fd, TUNGETIFF, &ifr);
	if (ret)
		tprintf(t, "fd %d: TUNGETIFF errno %d\n", slot, errno);
	else
		tprintf(t, "fd %d: TUNGETIFF %s 0x%x\n", slot,
			norm_name(k, ifr.ifr_name, nb),
			(unsigned short)ifr.ifr_flags);
	if (fdinfo_iff(fd, name, sizeof(name)))
		tprintf(t, "  fdinfo: no iff line\n");
	else
		tprintf(t, "  fdinfo iff: %s\n", norm_name(k, name, nb));
	v = -1;
	ret = ioctl(fd, TUNGETSNDBUF, &v);
	tprintf(t, "  sndbuf: %d errno %d\n", v, ret ? errno : 0);
	v = -1;
	ret = ioctl(fd, TUNGETVNETHDRSZ, &v);
	tprintf(t, "  vnet_hdr_sz: %d errno %d\n", v, ret ? errno : 0);
}

/*
 * Print address @a of @len bytes: zeroes and ours (from mac_pool) as they
 * are, any other as "(random)" (the drivers draw them).
 */
static void t_addr(struct text *t, const char *what, const unsigned char *a,
		   int len)
{
	int i, nz = 0;

	for (i = 0; i < len; i++)
		nz |= a[i];
	tprintf(t, "  %s:", what);
	if (nz && (len != ETH_ALEN || mac_pool_index(a) < 0)) {
		tprintf(t, " (random, %d bytes)\n", len);
		return;
	}
	for (i = 0; i < len; i++)
		tprintf(t, "%s%02x", i ? ":" : " ", a[i]);
	tprintf(t, "\n");
}

/*
 * What rtnetlink says of @dev (RTM_GETLINK by name, which also runs the
 * device's pending link watch events first): type, flags, MTU, queue
 * length, operstate, link mode, carrier and its changes, addresses,
 * counters, the requested ifindex and the IFLA_TUN_* link info.
 */
static void t_rtnl(struct text *t, int k, const char *dev)
{
	static char buf[16384];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct rtattr *a, *b, *c;
	struct ifinfomsg *ifi;
	struct nlreq req;
	int len, la, lb, lc;

	nl_init(&req, RTM_GETLINK, 0, 0);
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	nl_attr(&req, IFLA_IFNAME, dev, strlen(dev) + 1);
	if (send(nl_fd, &req, req.nh.nlmsg_len, 0) < 0)
		die("RTM_GETLINK: %s", strerror(errno));
	len = recv(nl_fd, buf, sizeof(buf), 0);
	if (len < (int)sizeof(*nh) || nh->nlmsg_type != RTM_NEWLINK) {
		tprintf(t, "  rtnl: no answer\n");
		return;
	}
	ifi = NLMSG_DATA(nh);
	tprintf(t, "  type: %u\n  flags: 0x%x\n", ifi->ifi_type, ifi->ifi_flags);
	if (ifi->ifi_index >= ifindex_base[k] && ifi->ifi_index < ifindex_base[k] + 4)
		tprintf(t, "  ifindex: asked +%d\n", ifi->ifi_index - ifindex_base[k]);
	la = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	for (a = IFLA_RTA(ifi); RTA_OK(a, la); a = RTA_NEXT(a, la)) {
		unsigned int u32 = *(unsigned int *)RTA_DATA(a);
		unsigned char u8 = *(unsigned char *)RTA_DATA(a);
		struct rtnl_link_stats64 *st = RTA_DATA(a);

		switch (a->rta_type) {
		case IFLA_MTU:
			tprintf(t, "  mtu: %u\n", u32);
			break;
		case IFLA_TXQLEN:
			tprintf(t, "  tx_queue_len: %u\n", u32);
			break;
		case IFLA_NUM_TX_QUEUES:
			tprintf(t, "  num_tx_queues: %u\n", u32);
			break;
		case IFLA_NUM_RX_QUEUES:
			tprintf(t, "  num_rx_queues: %u\n", u32);
			break;
		case IFLA_CARRIER_CHANGES:
			tprintf(t, "  carrier_changes: %u\n", u32);
			break;
		case IFLA_OPERSTATE:
			tprintf(t, "  operstate: %u\n", u8);
			break;
		case IFLA_LINKMODE:
			tprintf(t, "  linkmode: %u\n", u8);
			break;
		case IFLA_CARRIER:
			tprintf(t, "  carrier: %u\n", u8);
			break;
		case IFLA_ADDRESS:
			t_addr(t, "address", RTA_DATA(a), RTA_PAYLOAD(a));
			break;
		case IFLA_BROADCAST:
			t_addr(t, "broadcast", RTA_DATA(a), RTA_PAYLOAD(a));
			break;
		case IFLA_STATS64:
			tprintf(t, "  counters: rx %llu/%llu dropped %llu errors %llu tx %llu/%llu dropped %llu errors %llu\n",
				st->rx_packets, st->rx_bytes, st->rx_dropped,
				st->rx_errors, st->tx_packets, st->tx_bytes,
				st->tx_dropped, st->tx_errors);
			break;
		case IFLA_LINKINFO:
			lb = RTA_PAYLOAD(a);
			for (b = RTA_DATA(a); RTA_OK(b, lb); b = RTA_NEXT(b, lb)) {
				/* D1: the kinds differ. */
				if (b->rta_type == IFLA_INFO_KIND)
					tprintf(t, "  kind: %s\n",
						strcmp(RTA_DATA(b), kinds[k]) ?
						(char *)RTA_DATA(b) : "(own)");
				if (b->rta_type != IFLA_INFO_DATA)
					continue;
				lc = RTA_PAYLOAD(b);
				for (c = RTA_DATA(b); RTA_OK(c, lc); c = RTA_NEXT(c, lc))
					tprintf(t, "  IFLA_TUN %u: %u\n", c->rta_type,
						RTA_PAYLOAD(c) == 1 ?
						*(unsigned char *)RTA_DATA(c) :
						*(unsigned int *)RTA_DATA(c));
			}
			break;
		}
	}
}

/*
 * The real numbers of transmit and receive queues, which sysfs shows as
 * directories (tun_set_real_num_queues()).
 */
static void t_queues(struct text *t, const char *dev)
{
	int tx = sysfs_queues(dev, "tx-"), rx = sysfs_queues(dev, "rx-");

	if (tx < 0 || rx < 0)
		tprintf(t, "  queues: errno %d\n", errno);
	else
		tprintf(t, "  queues: tx %d rx %d\n", tx, rx);
}

/*
 * One device: its rtnetlink view, the sysfs attributes of tun (which
 * have their own code), the queues, the ethtool features.
 */
static void t_dev(struct text *t, int k, const char *dev)
{
	static const char * const attrs[] = { "tun_flags", "owner", "group" };
	struct {
		struct ethtool_gfeatures hdr;
		struct ethtool_get_features_block blk[4];
	} gf = { .hdr = { .cmd = ETHTOOL_GFEATURES, .size = 4 } };
	char nb[IFNAMSIZ + 1];
	struct ifreq ifr;
	size_t i;

	tprintf(t, "dev %s:\n", norm_name(k, dev, nb));
	t_rtnl(t, k, dev);
	for (i = 0; i < ARRAY_SIZE(attrs); i++)
		t_sysfs(t, dev, attrs[i]);
	t_queues(t, dev);
	memset(&ifr, 0, sizeof(ifr));
	ifr_set_name(&ifr, dev);
	ifr.ifr_data = (void *)&gf;
	if (ioctl(inet_fd, SIOCETHTOOL, &ifr)) {
		tprintf(t, "  features: errno %d\n", errno);
		return;
	}
	tprintf(t, "  features:");
	for (i = 0; i < 4; i++)
		tprintf(t, " %x/%x/%x/%x", gf.blk[i].available,
			gf.blk[i].requested, gf.blk[i].active,
			gf.blk[i].never_changed);
	tprintf(t, "\n");
}

struct ifname {
	char s[IFNAMSIZ];
};

/* The names of side @k's devices that may exist, into @names. */
static int dev_names(int k, struct ifname *names)
{
	int n = 0, i;

	dev_name(k, N_XA, names[n++].s);
	dev_name(k, N_XB, names[n++].s);
	for (i = 0; i < N_TMPL_DEVS; i++)
		snprintf(names[n++].s, IFNAMSIZ, "%cx%d", side_tag[k], i);
	return n;
}

/*
 * A device the C side no longer has may take a moment to go on rtun's
 * side: wait for it, a while (C's goes when it is closed or deleted, so a
 * device only C has is a difference at once).  Called when the two
 * states differ, before they are read again.
 */
static void settle(void)
{
	struct ifname cn[2 + N_TMPL_DEVS], rn[2 + N_TMPL_DEVS];
	int n, i;

	n = dev_names(C_SIDE, cn);
	dev_names(R_SIDE, rn);
	for (i = 0; i < n; i++) {
		if (!netdev_exists(cn[i].s) && netdev_exists(rn[i].s))
			netdev_wait_gone(rn[i].s, SETTLE_MS);
	}
}

static void observe(int k, struct text *t)
{
	struct ifname names[2 + N_TMPL_DEVS];
	int n, i;

	t->len = 0;
	t->p[0] = '\0';
	for (i = 0; i < NSLOT; i++)
		t_fd(t, k, i, sides[k].fd[i]);
	n = dev_names(k, names);
	for (i = 0; i < n; i++)
		if (netdev_exists(names[i].s))
			t_dev(t, k, names[i].s);
}

/* ------------------------------------------------------------------ */
/* Sequences.                                                           */

static struct text state[2];
static unsigned long n_ops, n_diffs, allowed_seen[DIFF_N_ALLOWED];
/* Coverage: how often each operation succeeded and failed on C. */
static unsigned long cov_ok[N_OPS], cov_fail[N_OPS], cov_who;
static int max_diffs = 10;

/* Close every fd and remove every device a sequence left. */
static void reset(void)
{
	struct ifname names[2 + N_TMPL_DEVS];
	int k, i, n;

	for (k = 0; k < 2; k++) {
		for (i = 0; i < NSLOT; i++) {
			if (sides[k].fd[i] >= 0)
				close(sides[k].fd[i]);
			sides[k].fd[i] = -1;
		}
	}
	for (k = 0; k < 2; k++) {
		n = dev_names(k, names);
		for (i = 0; i < n; i++) {
			if (!netdev_exists(names[i].s))
				continue;
			rtnl_link_del(ifindex_of(names[i].s));
			if (!netdev_wait_gone(names[i].s, SETTLE_MS))
				die("cannot remove %s", names[i].s);
		}
	}
}

/* TUNGETFEATURES answers that differ as diff_allowed.h says (none now). */
static bool features_allowed(const struct res *c, const struct res *r)
{
	struct diff_obs o = { .where = DIFF_FEATURES, .linux7 = linux7 };
	int idx;

	if (c->ret || r->ret ||
	    sscanf(c->out, "features=%x", &o.c_features) != 1 ||
	    sscanf(r->out, "features=%x", &o.r_features) != 1)
		return false;
	idx = diff_allowed_find(&o);
	if (idx < 0)
		return false;
	allowed_seen[idx]++;
	return true;
}

static bool res_equal(const struct res *a, const struct res *b)
{
	return a->ret == b->ret && a->err == b->err && !strcmp(a->out, b->out);
}

static void res_print(const char *who, const struct res *r)
{
	printf("    %-5s returned %ld", who, r->ret);
	if (r->ret < 0)
		printf(" errno %d (%s)", r->err, strerror(r->err));
	printf("%s%s\n", r->out[0] ? ": " : "", r->out);
}

/* Whether the text @t has the line @line of @len bytes (with its '\n'). */
static bool has_line(const char *t, const char *line, size_t len)
{
	for (; t; t = strchr(t, '\n')) {
		if (*t == '\n')
			t++;
		if (!strncmp(t, line, len))
			return true;
	}
	return false;
}

/* Lines of @a not in @b, prefixed with @tag and the fd or device. */
static void lines_missing(const char *tag, const char *a, const char *b)
{
	const char *p = a, *nl, *dev = NULL;
	size_t len;

	for (; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		len = nl - p + 1;
		if (!strncmp(p, "dev ", 4) || !strncmp(p, "fd ", 3))
			dev = p;
		if (has_line(b, p, len))
			continue;
		if (dev && dev != p)
			printf("      %s (in %.*s)", tag, (int)strcspn(dev, "\n"), dev);
		else
			printf("      %s", tag);
		printf(" %.*s", (int)len, p);
	}
}

/*
 * Run @ops on both sides from a clean start; the index of the first
 * operation after which they differ, or -1.  @report: print it;
 * @count: count it (coverage, operations).
 */
static int run_seq(const struct op *ops, int n, bool report, bool count)
{
	struct res res[2];
	long t0 = now_ms();
	int i, k;

	reset();
	for (i = 0; i < n; i++) {
		long took[2];

		for (k = 0; k < 2; k++) {
			took[k] = now_ms();
			op_run(&sides[k], &ops[i], &res[k], 0);
			took[k] = now_ms() - took[k];
		}
		/* A packet may reach one side's queue a little later. */
		if (ops[i].kind == OP_READ && !res_equal(&res[0], &res[1])) {
			for (k = 0; k < 2; k++)
				if (res[k].ret < 0 && res[k].err == EAGAIN)
					op_run(&sides[k], &ops[i], &res[k],
					       READ_WAIT_MS);
		}
		if (count) {
			n_ops++;
			if (res[0].ret < 0)
				cov_fail[ops[i].kind]++;
			else
				cov_ok[ops[i].kind]++;
			cov_who += ops[i].who != W_ROOT && res[0].ret >= 0;
		}
		for (k = 0; k < 2; k++)
			observe(k, &state[k]);
		if (strcmp(state[0].p, state[1].p)) {
			settle();
			for (k = 0; k < 2; k++)
				observe(k, &state[k]);
		}
		if (ops[i].kind == OP_FEATURES && !res_equal(&res[0], &res[1]) &&
		    features_allowed(&res[0], &res[1]))
			res[1] = res[0];
		if (res_equal(&res[0], &res[1]) &&
		    !strcmp(state[0].p, state[1].p)) {
			if (verbose && report) {
				printf("  op %d (at %ld ms, C %ld ms, rtun %ld ms): ",
				       i, now_ms() - t0, took[0], took[1]);
				op_print(stdout, &ops[i]);
				printf(" -> %ld %d %s\n", res[0].ret, res[0].err,
				       res[0].out);
			}
			continue;
		}
		if (report) {
			printf("  after op %d, ", i);
			op_print(stdout, &ops[i]);
			printf(":\n");
			res_print(side_name[0], &res[0]);
			res_print(side_name[1], &res[1]);
			if (strcmp(state[0].p, state[1].p)) {
				printf("    state, lines of one side only:\n");
				lines_missing("C:   ", state[0].p, state[1].p);
				lines_missing("rtun:", state[1].p, state[0].p);
			}
		}
		return i;
	}
	return -1;
}

/*
 * Drop runs of operations, halving their length down to one, while the
 * sequence still differs; it ends with the operation that differs.
 */
static int shrink(struct op *ops, int n)
{
	struct op trial[MAX_OPS];
	int len, j, at;

	for (len = n / 2; len >= 1; len /= 2) {
		for (j = n - len; j >= 0; j -= len) {
			if (j + len > n)
				continue;
			memcpy(trial, ops, j * sizeof(*ops));
			memcpy(trial + j, ops + j + len,
			       (n - j - len) * sizeof(*ops));
			at = run_seq(trial, n - len, false, false);
			if (at < 0)
				continue;
			n = at + 1;
			memcpy(ops, trial, n * sizeof(*ops));
		}
	}
	return n;
}

static void handle_diff(unsigned long long seed, long idx, struct op *ops,
			int at)
{
	int n = at + 1;

	n_diffs++;
	if (n_diffs > (unsigned long)max_diffs)
		return;
	printf("DIFFERENCE: seed %llu, sequence %ld, op %d\n", seed, idx, at);
	ops_print(stdout, "  ops: ", ops, n, "\n");
	if (n_diffs > SHRINK_MAX) {
		printf("  (not shrunk: only the first %d is)\n", SHRINK_MAX);
		return;
	}
	n = shrink(ops, n);
	printf("  shrunk to %d ops; replay: ", n);
	ops_print(stdout, "tun_ctldiff --ops '", ops, n, "'\n");
	if (run_seq(ops, n, true, false) < 0)
		printf("  (the shrunk sequence did not differ again: timing?)\n");
}

static void setup(void)
{
	struct stat st;
	int k, i, ret;

	for (k = 0; k < 2; k++) {
		sides[k].k = k;
		for (i = 0; i < NSLOT; i++)
			sides[k].fd[i] = -1;
		i = dev_open(nodes[k]);
		if (i < 0)
			die("open %s: %s (modules loaded?)", nodes[k],
			    strerror(errno));
		close(i);
		state[k].p = calloc(1, STATE_MAX);
		if (!state[k].p)
			die("out of memory");
	}
	ret = netns_enter();
	if (ret)
		die("network namespace: %s", strerror(-ret));
	if (stat("/proc/self/ns/net", &st))
		die("stat /proc/self/ns/net: %s", strerror(errno));
	own_netns = st.st_ino;
	pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	inet_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (pkt_fd < 0 || nl_fd < 0 || inet_fd < 0)
		die("sockets: %s", strerror(errno));
	child_res = mmap(NULL, sizeof(*child_res), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (child_res == MAP_FAILED)
		die("mmap: %s", strerror(errno));
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tun_ctldiff [--seed S] [--count N] [--seconds T] [--seq I]\n"
		"                   [--ops LIST] [--max-diffs K] [--rtun-node PATH] [--verbose]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long long seed = 1;
	unsigned long count = 100, done = 0, i, first = 0;
	bool one_seq = false;
	double seconds = 0;
	const char *replay = NULL;
	struct op ops[MAX_OPS];
	long t0, t;
	int n, at;
	size_t a;

	setvbuf(stdout, NULL, _IOLBF, 0);
	linux7 = kernel_at_least(7, 0);
	for (i = 1; i < (unsigned long)argc; i++) {
		const char *arg = argv[i];
		bool more = i + 1 < (unsigned long)argc;

		if (!strcmp(arg, "--verbose") || !strcmp(arg, "-v")) {
			verbose = true;
		} else if (more && !strcmp(arg, "--seed")) {
			seed = strtoull(argv[++i], NULL, 0);
		} else if (more && !strcmp(arg, "--count")) {
			count = strtoul(argv[++i], NULL, 0);
		} else if (more && !strcmp(arg, "--seconds")) {
			seconds = strtod(argv[++i], NULL);
		} else if (more && !strcmp(arg, "--seq")) {
			first = strtoul(argv[++i], NULL, 0);
			one_seq = true;
		} else if (more && !strcmp(arg, "--ops")) {
			replay = argv[++i];
		} else if (more && !strcmp(arg, "--rtun-node")) {
			nodes[R_SIDE] = argv[++i];
		} else if (more && !strcmp(arg, "--max-diffs")) {
			max_diffs = atoi(argv[++i]);
		} else {
			usage();
		}
	}
	if (one_seq)
		count = first + 1;
	if (!strcmp(nodes[R_SIDE], nodes[C_SIDE]))
		kinds[R_SIDE] = kinds[C_SIDE];
	setup();
	t0 = now_ms();
	if (replay) {
		n = ops_parse(replay, ops);
		if (n < 0)
			die("cannot parse --ops '%s'", replay);
		at = run_seq(ops, n, true, true);
		done = 1;
		if (at >= 0) {
			n_diffs++;
			printf("DIFFERENCE at op %d\n", at);
		} else {
			printf("no difference in %d ops\n", n);
		}
	} else {
		printf("tun_ctldiff: seed %llu, sequences %lu..%lu, Linux %s rules\n",
		       seed, first, count - 1, linux7 ? "7.x" : "6.12");
		for (i = first; i < count; i++) {
			if (seconds > 0 && now_ms() - t0 >= seconds * 1000)
				break;
			n = gen_seq(seed, i, ops);
			if (verbose)
				ops_print(stdout, "sequence: ", ops, n, "\n");
			at = run_seq(ops, n, verbose, true);
			done++;
			if (at >= 0)
				handle_diff(seed, i, ops, at);
			if ((i + 1) % 100 == 0)
				fprintf(stderr, "tun_ctldiff: %lu sequences, %lu ops, %lu differences, %.0f s\n",
					i + 1, n_ops, n_diffs,
					(now_ms() - t0) / 1000.0);
		}
	}
	reset();
	t = now_ms() - t0;
	printf("C side, succeeded/failed:");
	for (a = 0; a < N_OPS; a++)
		printf(" %s %lu/%lu", op_names[a], cov_ok[a], cov_fail[a]);
	printf("; as another user, succeeded: %lu\n", cov_who);
	printf("allowed differences seen:");
	for (a = 0; a < DIFF_N_ALLOWED; a++)
		printf(" %s %lu", diff_allowed[a].id, allowed_seen[a]);
	printf("\n");
	printf("ops: %lu, ops/s: %.1f\n", n_ops, t > 0 ? n_ops * 1000.0 / t : 0.0);
	printf("cases: %lu, differences: %lu, time: %.1f s, cases/s: %.1f\n",
	       done, n_diffs, t / 1000.0, t > 0 ? done * 1000.0 / t : 0.0);
	return n_diffs ? 1 : 0;
}
