/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one list of the differences between rtun and the C tun driver that
 * the differential testers (tun_diff, tun_ctldiff) accept, each with its
 * id in Documentation/differences.md and a predicate that recognises
 * exactly that difference in one observation and nothing wider.  Any other
 * difference they see is a bug of rtun: the C driver is the oracle.
 *
 * Deliberate differences (the table of differences.md):
 *   D1  names, node and rtnl kind: tun_diff compares no names, never seen;
 *       tun_ctldiff gives each driver's devices names that differ only in
 *       their first letter and compares them with that letter masked, and
 *       masks the link kind only where it is each driver's own ("tun",
 *       "rtun").
 *   D2, D3 are gone (rtun has IFF_NAPI_FRAGS now): TUNGETFEATURES must
 *       be C's, checked once at start by tun_diff, on every
 *       TUNGETFEATURES operation by tun_ctldiff.
 *   D4  6.12 only: header bytes 10..vnet_hdr_sz of a read are zeroes, not
 *       left alone (up to the first faulting iovec segment, if one falls in
 *       them).  7.x's C zeroes them itself, and rtun follows it there.
 *   D6  a file attaching to a tap with a classic filter: neither tester
 *       attaches classic filters, never seen.
 *
 * Known gaps ("Not implemented yet" in differences.md: missing, not
 * better) that tun_diff can see would be listed here too, marked as gaps:
 * tun_diff counts them apart and fails on them only with --strict-gaps.
 * None is visible to it at present.
 */

#ifndef DIFF_ALLOWED_H
#define DIFF_ALLOWED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DIFF_PI_LEN		4	/* sizeof(struct tun_pi) */
#define DIFF_VNET_HDR_LEN	10	/* sizeof(struct virtio_net_hdr) */

/* Where a difference was seen. */
enum diff_where {
	DIFF_FEATURES,		/* the TUNGETFEATURES answers */
	DIFF_READ,		/* one read() of a queued packet */
};

/* One observation of both drivers that differs. */
struct diff_obs {
	enum diff_where where;
	bool linux7;			/* the kernel's tun.c is 7.x's */

	/* DIFF_FEATURES */
	unsigned int c_features, r_features;

	/* DIFF_READ: the device's read configuration ... */
	bool pi;			/* no IFF_NO_PI */
	unsigned int vnet_hdr_sz;	/* 0: no IFF_VNET_HDR */
	int proto;			/* skb->protocol, host order; -1: unknown */
	/* ... and the read: the reader's buffer before and after, results */
	size_t buflen;
	/*
	 * Where the reader's first faulting iovec segment starts in the
	 * buffer (both drivers stop writing there); buflen if none faults.
	 */
	size_t fault_off;
	const unsigned char *fill;	/* what the buffer held before */
	const unsigned char *c_buf, *r_buf;
	ssize_t c_ret, r_ret;
	int c_err, r_err;		/* errno if the read returned -1 */
};

struct diff_allowed {
	const char *id;		/* differences.md id, or "gap:..." */
	const char *what;
	bool gap;		/* a missing feature, not a deliberate choice */
	bool (*match)(const struct diff_obs *o);
};

/* Where the vnet header of a read starts in the reader's buffer. */
static inline size_t diff_hdr_off(const struct diff_obs *o)
{
	return o->pi ? DIFF_PI_LEN : 0;
}

/*
 * D4 (6.12): a successful read with vnet_hdr_sz > 10, same result on both sides,
 * same bytes everywhere but in bytes 10..vnet_hdr_sz of the header, which
 * C left as the buffer held them and rtun wrote as zeroes.  rtun zeroes
 * them with copies that stop at the first faulting iovec segment, and
 * then skips the rest of them as C does; so only the bytes before
 * fault_off may be zeroes, from there on both must be the same.
 */
static inline bool diff_d4_hdr_padding(const struct diff_obs *o)
{
	size_t from = diff_hdr_off(o) + DIFF_VNET_HDR_LEN;
	size_t to = diff_hdr_off(o) + o->vnet_hdr_sz;
	size_t i;

	if (o->where != DIFF_READ || o->linux7 ||
	    o->vnet_hdr_sz <= DIFF_VNET_HDR_LEN ||
	    o->c_ret < 0 || o->c_ret != o->r_ret || to > o->buflen)
		return false;
	if (to > o->fault_off)
		to = o->fault_off;
	for (i = 0; i < o->buflen; i++) {
		if (i >= from && i < to) {
			if (o->c_buf[i] != o->fill[i] || o->r_buf[i])
				return false;
		} else if (o->c_buf[i] != o->r_buf[i]) {
			return false;
		}
	}
	return true;
}

static const struct diff_allowed diff_allowed[] = {
	{ "D4", "read: vnet header bytes 10..vnet_hdr_sz zeroed by rtun, left by C",
	  false, diff_d4_hdr_padding },
};

#define DIFF_N_ALLOWED (sizeof(diff_allowed) / sizeof(diff_allowed[0]))

/* The index of the entry that explains @o, or -1: a bug. */
static inline int diff_allowed_find(const struct diff_obs *o)
{
	size_t i;

	for (i = 0; i < DIFF_N_ALLOWED; i++)
		if (diff_allowed[i].match(o))
			return i;
	return -1;
}

#endif /* DIFF_ALLOWED_H */
