// SPDX-License-Identifier: GPL-2.0
/*
 * tun_fwd: a two-port forwarder for the end-to-end test (e2e_iperf.sh).
 *
 * Creates two TAP devices on one tun driver node with IFF_TAP | IFF_NO_PI
 * | IFF_VNET_HDR and TUNSETOFFLOAD CSUM|TSO4|TSO6|TSO_ECN|USO4|USO6 (USO
 * dropped if the driver refuses it), then copies every frame read from
 * one fd, virtio_net_hdr included, to the other, until SIGTERM/SIGINT or
 * the time limit.  The devices may be moved to other network namespaces
 * meanwhile: the fds keep working.
 *
 * Usage: tun_fwd [-n NODE] [-o OFFLOADS] [-t SECONDS] [-r READY_FILE]
 *                NAME0 NAME1
 *   -n NODE        driver node (default /dev/net/tun)
 *   -o OFFLOADS    TUNSETOFFLOAD argument instead of the default (0x7f:
 *                  CSUM..USO6; USO dropped if refused)
 *   -t SECONDS     run at most this long (default 60)
 *   -r READY_FILE  created once both devices exist
 *
 * On exit prints one line per direction:
 *   tun_fwd: NAME0->NAME1 packets N bytes N gso N maxlen N down N errors N
 * (bytes and maxlen without the vnet header; gso: frames with gso_type
 * != 0; down: frames dropped because the other device was down, EIO),
 * and one line per IPv4 TCP connection whose SYN it forwarded:
 *   tun_fwd: flow A.B.C.D:P->E.F.G.H:Q bytes N
 * (N: the highest sequence number carried, relative to the SYN's: the
 * stream bytes that crossed, retransmissions counted once), and exits 0
 * if no read or write failed (EIO aside), 1 otherwise, 2 on a usage or
 * set-up error.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#define BUF_LEN	(65536 + 1024)

struct port {
	int fd;
	char name[IFNAMSIZ];
};

struct dir_stats {
	unsigned long long packets, bytes, gso, maxlen, down, errors;
};

/* An IPv4 TCP connection seen through the forwarder. */
struct flow {
	unsigned char key[12];	/* saddr, daddr, sport, dport */
	uint32_t isn;
	uint32_t max_end;	/* relative to isn + 1 */
};

#define MAX_FLOWS	32

static struct flow flows[MAX_FLOWS];
static int nflows;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int port_open(struct port *p, const char *node, const char *name,
		     unsigned int off)
{
	struct ifreq ifr;
	int hdr = sizeof(struct virtio_net_hdr);

	p->fd = open(node, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (p->fd < 0) {
		fprintf(stderr, "tun_fwd: open %s: %s\n", node, strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(p->fd, TUNSETIFF, &ifr)) {
		fprintf(stderr, "tun_fwd: TUNSETIFF %s: %s\n", name,
			strerror(errno));
		return -1;
	}
	memcpy(p->name, ifr.ifr_name, IFNAMSIZ);
	p->name[IFNAMSIZ - 1] = '\0';
	if (ioctl(p->fd, TUNSETVNETHDRSZ, &hdr)) {
		fprintf(stderr, "tun_fwd: TUNSETVNETHDRSZ: %s\n",
			strerror(errno));
		return -1;
	}
	if (ioctl(p->fd, TUNSETOFFLOAD, (unsigned long)off)) {
		off &= ~(TUN_F_USO4 | TUN_F_USO6);
		if (errno != EINVAL ||
		    ioctl(p->fd, TUNSETOFFLOAD, (unsigned long)off)) {
			fprintf(stderr, "tun_fwd: TUNSETOFFLOAD 0x%x: %s\n",
				off, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* Account the Ethernet frame @f of @len bytes to its TCP connection. */
static void flow_account(const unsigned char *f, size_t len)
{
	const unsigned char *ip = f + 14, *th;
	size_t ihl, doff, plen;
	uint32_t seq, end;
	struct flow *fl = NULL;
	int i;

	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return;
	ihl = (ip[0] & 15) * 4;
	if (ip[0] >> 4 != 4 || ip[9] != 6 || len < 14 + ihl + 20)
		return;
	th = ip + ihl;
	doff = (th[12] >> 4) * 4;
	if (len < 14 + ihl + doff)
		return;
	plen = len - 14 - ihl - doff;
	seq = get32(th + 4);
	for (i = 0; i < nflows; i++) {
		if (!memcmp(flows[i].key, ip + 12, 8) &&
		    !memcmp(flows[i].key + 8, th, 4)) {
			fl = &flows[i];
			break;
		}
	}
	if (th[13] & 0x02) {		/* SYN: a new connection */
		if (!fl && nflows == MAX_FLOWS)
			return;
		if (!fl)
			fl = &flows[nflows++];
		memcpy(fl->key, ip + 12, 8);
		memcpy(fl->key + 8, th, 4);
		fl->isn = seq;
		fl->max_end = 0;
		return;
	}
	if (!fl || !plen)
		return;
	end = seq - fl->isn - 1 + (uint32_t)plen;
	if ((int32_t)(end - fl->max_end) > 0)
		fl->max_end = end;
}

/*
 * Forward what is queued on @from to @to, at most a batch.  Returns false
 * when @from has nothing more (EAGAIN).
 */
static bool forward(const struct port *from, const struct port *to,
		    struct dir_stats *st, unsigned char *buf)
{
	const struct virtio_net_hdr *vh = (const void *)buf;
	size_t hdr = sizeof(*vh);
	ssize_t n, w;
	int i;

	for (i = 0; i < 64; i++) {
		n = read(from->fd, buf, BUF_LEN);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return false;
			st->errors++;
			fprintf(stderr, "tun_fwd: read %s: %s\n", from->name,
				strerror(errno));
			return false;
		}
		if ((size_t)n < hdr) {
			st->errors++;
			continue;
		}
		w = write(to->fd, buf, n);
		if (w < 0 && errno == EIO) {
			/* The other device is not up (yet): dropped. */
			st->down++;
			continue;
		}
		if (w != n) {
			st->errors++;
			fprintf(stderr, "tun_fwd: write %s (%zd bytes): %s\n",
				to->name, n, w < 0 ? strerror(errno) : "short");
			continue;
		}
		st->packets++;
		st->bytes += n - hdr;
		flow_account(buf + hdr, n - hdr);
		if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
			st->gso++;
		if ((unsigned long long)(n - hdr) > st->maxlen)
			st->maxlen = n - hdr;
	}
	return true;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	const char *node = "/dev/net/tun", *ready = NULL;
	unsigned int off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
			   TUN_F_TSO_ECN | TUN_F_USO4 | TUN_F_USO6;
	struct port port[2] = { { .fd = -1 }, { .fd = -1 } };
	struct dir_stats st[2] = {};
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd pfd[2];
	unsigned char *buf;
	long limit = 60, end;
	int opt, i;

	while ((opt = getopt(argc, argv, "n:o:t:r:")) != -1) {
		switch (opt) {
		case 'n':
			node = optarg;
			break;
		case 'o':
			off = strtoul(optarg, NULL, 0);
			break;
		case 't':
			limit = atol(optarg);
			break;
		case 'r':
			ready = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || limit <= 0)
		goto usage;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	buf = malloc(BUF_LEN);
	if (!buf)
		return 2;
	for (i = 0; i < 2; i++)
		if (port_open(&port[i], node, argv[optind + i], off))
			return 2;
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (!f) {
			fprintf(stderr, "tun_fwd: %s: %s\n", ready,
				strerror(errno));
			return 2;
		}
		fprintf(f, "%s %s\n", port[0].name, port[1].name);
		fclose(f);
	}

	end = now_ms() + limit * 1000;
	while (!stop) {
		long left = end - now_ms();

		if (left <= 0)
			break;
		for (i = 0; i < 2; i++) {
			pfd[i].fd = port[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, 2, left < 200 ? left : 200) < 0) {
			if (errno == EINTR)
				continue;
			perror("tun_fwd: poll");
			break;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
				fprintf(stderr, "tun_fwd: %s: poll 0x%x\n",
					port[i].name, pfd[i].revents);
				st[i].errors++;
				stop = 1;
			}
			if (pfd[i].revents & POLLIN)
				forward(&port[i], &port[!i], &st[i], buf);
		}
	}
	for (i = 0; i < 2; i++)
		printf("tun_fwd: %s->%s packets %llu bytes %llu gso %llu maxlen %llu down %llu errors %llu\n",
		       port[i].name, port[!i].name, st[i].packets, st[i].bytes,
		       st[i].gso, st[i].maxlen, st[i].down, st[i].errors);
	for (i = 0; i < nflows; i++) {
		const unsigned char *k = flows[i].key;

		printf("tun_fwd: flow %u.%u.%u.%u:%u->%u.%u.%u.%u:%u bytes %u\n",
		       k[0], k[1], k[2], k[3], k[8] << 8 | k[9],
		       k[4], k[5], k[6], k[7], k[10] << 8 | k[11],
		       flows[i].max_end);
	}
	fflush(stdout);
	for (i = 0; i < 2; i++)
		close(port[i].fd);
	free(buf);
	return st[0].errors || st[1].errors ? 1 : 0;

usage:
	fprintf(stderr, "usage: %s [-n NODE] [-o OFFLOADS] [-t SECONDS] [-r READY_FILE] NAME0 NAME1\n",
		argv[0]);
	return 2;
}
