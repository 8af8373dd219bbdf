/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one list of the differences between rtun and the C tun driver that
 * tun_diff accepts, each with its id in Documentation/differences.md and a
 * predicate that recognises exactly that difference in one observation and
 * nothing wider.  Any other difference tun_diff sees is a bug of rtun: the
 * C driver is the oracle.
 *
 * Deliberate differences (the table of differences.md):
 *   D1  names, node and rtnl kind: tun_diff compares no names, never seen.
 *   D2  TUNGETFEATURES 0x7043 instead of 0x7173: checked once at start.
 *   D3  TUNSETIFF with IFF_MULTI_QUEUE/IFF_NAPI/IFF_NAPI_FRAGS: tun_diff
 *       uses none of these flags, never seen.
 *   D4  header bytes 10..vnet_hdr_sz of a read are zeroes, not left alone.
 *
 * Known gaps ("Not implemented yet" in differences.md: missing, not
 * better) that tun_diff can see are listed too, marked as gaps: tun_diff
 * counts them apart and fails on them only with --strict-gaps.
 */

#ifndef DIFF_ALLOWED_H
#define DIFF_ALLOWED_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <linux/if_tun.h>

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

	/* DIFF_FEATURES */
	unsigned int c_features, r_features;

	/* DIFF_READ: the device's read configuration ... */
	bool pi;			/* no IFF_NO_PI */
	unsigned int vnet_hdr_sz;	/* 0: no IFF_VNET_HDR */
	int proto;			/* skb->protocol, host order; -1: unknown */
	/* ... and the read: the reader's buffer before and after, results */
	size_t buflen;
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

/* D2: rtun advertises only what it implements. */
static inline bool diff_d2_features(const struct diff_obs *o)
{
	return o->where == DIFF_FEATURES && o->c_features == 0x7173 &&
	       o->r_features == 0x7043;
}

/* Where the vnet header of a read starts in the reader's buffer. */
static inline size_t diff_hdr_off(const struct diff_obs *o)
{
	return o->pi ? DIFF_PI_LEN : 0;
}

/*
 * D4: a successful read with vnet_hdr_sz > 10, same result on both sides,
 * same bytes everywhere but in bytes 10..vnet_hdr_sz of the header, which
 * C left as the buffer held them and rtun wrote as zeroes.
 */
static inline bool diff_d4_hdr_padding(const struct diff_obs *o)
{
	size_t from = diff_hdr_off(o) + DIFF_VNET_HDR_LEN;
	size_t to = diff_hdr_off(o) + o->vnet_hdr_sz;
	size_t i;

	if (o->where != DIFF_READ || o->vnet_hdr_sz <= DIFF_VNET_HDR_LEN ||
	    o->c_ret < 0 || o->c_ret != o->r_ret || to > o->buflen)
		return false;
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

/*
 * Gap (differences.md, "Not implemented yet", first item): a read into a
 * buffer that holds the PI but not the vnet header fails with EINVAL on
 * both; C has already written the PI (with TUN_PKT_STRIP, the packet
 * cannot fit, and the packet's protocol if the caller knows it), rtun has
 * written nothing.
 */
static inline bool diff_gap_read_fail_pi(const struct diff_obs *o)
{
	uint16_t flags = TUN_PKT_STRIP, proto = htons(o->proto);
	unsigned char pi[DIFF_PI_LEN];

	if (o->where != DIFF_READ || !o->pi || !o->vnet_hdr_sz ||
	    o->c_ret != -1 || o->r_ret != -1 || o->c_err != EINVAL ||
	    o->r_err != EINVAL || o->buflen < DIFF_PI_LEN ||
	    o->buflen >= DIFF_PI_LEN + o->vnet_hdr_sz)
		return false;
	memcpy(pi, &flags, 2);
	memcpy(pi + 2, o->proto < 0 ? o->c_buf + 2 : (void *)&proto, 2);
	return !memcmp(o->c_buf, pi, DIFF_PI_LEN) &&
	       !memcmp(o->c_buf + DIFF_PI_LEN, o->fill + DIFF_PI_LEN,
		       o->buflen - DIFF_PI_LEN) &&
	       !memcmp(o->r_buf, o->fill, o->buflen);
}

static const struct diff_allowed diff_allowed[] = {
	{ "D2", "TUNGETFEATURES 0x7043 (rtun) vs 0x7173 (C)", false,
	  diff_d2_features },
	{ "D4", "read: vnet header bytes 10..vnet_hdr_sz zeroed by rtun, left by C",
	  false, diff_d4_hdr_padding },
	{ "gap:read-fail-pi",
	  "read fails with EINVAL after the PI: C wrote the PI, rtun nothing",
	  true, diff_gap_read_fail_pi },
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
