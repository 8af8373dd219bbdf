/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A file's socket, shared by the two halves of the shim (rtun_shim.c sets
 * it up, rtun_data.c's wrappers use it per packet).  Not part of the
 * C<->Rust boundary: Rust sees only struct sock pointers.
 */
#ifndef RTUN_SOCK_H
#define RTUN_SOCK_H

#include <linux/fs.h>
#include <linux/netdevice.h>
#include <net/sock.h>
#include <net/xdp.h>

/*
 * As C's struct tun_file embeds a struct sock and a struct socket: the send
 * buffer a write is charged against until its skb is freed (sk_sndbuf,
 * sk_wmem_alloc), the wait queue of writers waiting for room, the network
 * namespace of SIOCGSKNS, and the SIGIO owners of fcntl(O_ASYNC) (C's
 * tfile->fasync: non-empty exactly when C sets TUN_FASYNC, the file being
 * the list's only entry).  The memory lives until the last skb charged to
 * it is freed, after the file is gone.
 */
struct rtun_sk {
	struct sock sk;
	/*
	 * The socket with room for the inode sock_alloc() puts after it:
	 * Linux 7.x's sk_set_socket() (from sock_init_data_uid()) reads
	 * SOCK_INODE()'s uid and number for every socket.  C tun's struct
	 * tun_file has its own fields there, so C reads those; rtun reads a
	 * zeroed inode (sk_alloc() zeroes), instead of past its allocation.
	 */
	struct socket_alloc sa;
	struct fasync_struct *fasync;
	/*
	 * IFF_NAPI (C's tfile->napi, napi_enabled): writes queue their skbs
	 * on sk_write_queue and this NAPI context hands them to GRO.  Set up
	 * at the file's first attach, deleted when it leaves its device.
	 */
	struct napi_struct napi;
	bool napi_enabled;
	/*
	 * IFF_NAPI_FRAGS (C's napi_frags_enabled): writes build their skb
	 * in napi.skb, one writer at a time (napi_mutex, C's too).
	 */
	bool napi_frags_enabled;
	struct mutex napi_mutex;
	/*
	 * The XDP receive queue of the file's queue (C's tfile->xdp_rxq):
	 * registered at the file's first attach with its queue index, kept
	 * while detached, unregistered when the file leaves its device.
	 */
	struct xdp_rxq_info xdp_rxq;
};

static inline struct rtun_sk *rtun_sk(struct sock *sk)
{
	return container_of(sk, struct rtun_sk, sk);
}

#endif /* RTUN_SOCK_H */
