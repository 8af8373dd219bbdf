/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A device's BPF program (C's struct tun_prog): the steering program of
 * TUNSETSTEERINGEBPF or the filter of TUNSETFILTEREBPF, freed after a
 * grace period.  Shared by the two halves of the shim; Rust sees only
 * pointers (include/rtun.h).
 */
#ifndef RTUN_PROG_H
#define RTUN_PROG_H

#include <linux/filter.h>
#include <linux/rcupdate.h>

struct rtun_prog {
	struct rcu_head rcu;
	struct bpf_prog *prog;
};

#endif /* RTUN_PROG_H */
