// SPDX-License-Identifier: GPL-2.0
/*
 * tun_fwd: the two-port forwarder of the end-to-end test (e2e_iperf.sh)
 * and of the W6 benchmark (bench/w6-iperf.sh), both through fwd_lib.sh.
 *
 * Creates two TAP devices on one tun driver node with IFF_TAP | IFF_NO_PI
 * | IFF_VNET_HDR and TUNSETOFFLOAD CSUM|TSO4|TSO6|TSO_ECN|USO4|USO6 (USO
 * dropped if the driver refuses it), then copies every frame read from
 * one fd, virtio_net_hdr included, to the other, until SIGTERM/SIGINT or
 * the time limit.  The devices may be moved to other network namespaces
 * meanwhile: the fds keep working.
 *
 * By default one thread polls both non-blocking fds; with -T, one thread
 * per direction blocks in read() on its fd and writes to the other.
 *
 * Usage: tun_fwd [-n NODE] [-o OFFLOADS] [-t SECONDS] [-r READY_FILE]
 *                [-T] [-c CPU] NAME0 NAME1
 *   -n NODE        driver node (default /dev/net/tun)
 *   -o OFFLOADS    TUNSETOFFLOAD argument instead of the default (0x7f:
 *                  CSUM..USO6; USO dropped if refused)
 *   -t SECONDS     run at most this long (default 60)
 *   -r READY_FILE  created once both devices exist
 *   -T             a thread per direction, blocking I/O
 *   -c CPU         run on this CPU only
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

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
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

/* An IPv4 TCP connection seen through the forwarder. */
struct flow {
	unsigned char key[12];	/* saddr, daddr, sport, dport */
	uint32_t isn;
	uint32_t max_end;	/* relative to isn + 1 */
};

#define MAX_FLOWS	32

/* One direction: its counters and the connections whose SYN it carried. */
struct dir_stats {
	unsigned long long packets, bytes, gso, maxlen, down, errors;
	struct flow flows[MAX_FLOWS];
	int nflows;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int port_open(struct port *p, const char *node, const char *name,
		     unsigned int off, bool nonblock)
{
	struct ifreq ifr;
	int hdr = sizeof(struct virtio_net_hdr);

	p->fd = open(node, O_RDWR | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
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
static void flow_account(struct dir_stats *st, const unsigned char *f,
			 size_t len)
{
	struct flow *flows = st->flows;
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
	for (i = 0; i < st->nflows; i++) {
		if (!memcmp(flows[i].key, ip + 12, 8) &&
		    !memcmp(flows[i].key + 8, th, 4)) {
			fl = &flows[i];
			break;
		}
	}
	if (th[13] & 0x02) {		/* SYN: a new connection */
		if (!fl && st->nflows == MAX_FLOWS)
			return;
		if (!fl)
			fl = &flows[st->nflows++];
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
 * Forward what is queued on @from to @to, at most a batch.  Returns 1 if
 * it may have more, 0 when @from has nothing more (EAGAIN) or a signal
 * came (EINTR), -1 if a read failed.
 */
static int forward(const struct port *from, const struct port *to,
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
				return 0;
			st->errors++;
			fprintf(stderr, "tun_fwd: read %s: %s\n", from->name,
				strerror(errno));
			return -1;
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
		flow_account(st, buf + hdr, n - hdr);
		if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
			st->gso++;
		if ((unsigned long long)(n - hdr) > st->maxlen)
			st->maxlen = n - hdr;
	}
	return 1;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* One thread polls both non-blocking ports until stop or @end (ms). */
static void run_poll(struct port *port, struct dir_stats *st,
		     unsigned char *buf, long end)
{
	struct pollfd pfd[2];
	int i;

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
}

/* A direction of the threaded forwarder (-T). */
struct worker {
	const struct port *from, *to;
	struct dir_stats *st;
	pthread_t thread;
};

/* Blocking reads from one port until stop or a failed read. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	unsigned char *buf = malloc(BUF_LEN);

	if (!buf) {
		w->st->errors++;
		return NULL;
	}
	while (!stop && forward(w->from, w->to, w->st, buf) >= 0)
		;
	free(buf);
	return NULL;
}

/*
 * A thread per direction, blocking in read(), until stop or @end (ms).
 * SIGTERM and SIGINT go to this thread; SIGUSR1 (no SA_RESTART) gets a
 * worker out of read() once stop is set.  Returns 0, or -1 if a thread
 * could not be made.
 */
static int run_threads(struct port *port, struct dir_stats *st, long end)
{
	struct worker w[2];
	sigset_t set, old;
	struct timespec ts;
	int i, n;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (n = 0; n < 2; n++) {
		w[n] = (struct worker){ &port[n], &port[!n], &st[n] };
		if (pthread_create(&w[n].thread, NULL, worker_run, &w[n]))
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (n == 2 && !stop && now_ms() < end)
		usleep(100000);
	stop = 1;
	for (i = 0; i < n; i++) {
		do {
			pthread_kill(w[i].thread, SIGUSR1);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 50000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
		} while (pthread_timedjoin_np(w[i].thread, NULL, &ts));
	}
	if (n < 2) {
		fprintf(stderr, "tun_fwd: pthread_create failed\n");
		return -1;
	}
	return 0;
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "tun_fwd: CPU %d: %s\n", cpu, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *node = "/dev/net/tun", *ready = NULL;
	unsigned int off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
			   TUN_F_TSO_ECN | TUN_F_USO4 | TUN_F_USO6;
	struct port port[2] = { { .fd = -1 }, { .fd = -1 } };
	static struct dir_stats st[2];
	struct sigaction sa = { .sa_handler = on_signal };
	bool threads = false;
	unsigned char *buf;
	long limit = 60;
	int opt, i, j, cpu = -1;

	while ((opt = getopt(argc, argv, "n:o:t:r:Tc:")) != -1) {
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
		case 'T':
			threads = true;
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || limit <= 0)
		goto usage;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (cpu >= 0 && pin_cpu(cpu))
		return 2;
	buf = malloc(BUF_LEN);
	if (!buf)
		return 2;
	for (i = 0; i < 2; i++)
		if (port_open(&port[i], node, argv[optind + i], off, !threads))
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

	if (threads) {
		if (run_threads(port, st, now_ms() + limit * 1000))
			st[0].errors++;
	} else {
		run_poll(port, st, buf, now_ms() + limit * 1000);
	}
	for (i = 0; i < 2; i++)
		printf("tun_fwd: %s->%s packets %llu bytes %llu gso %llu maxlen %llu down %llu errors %llu\n",
		       port[i].name, port[!i].name, st[i].packets, st[i].bytes,
		       st[i].gso, st[i].maxlen, st[i].down, st[i].errors);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < st[i].nflows; j++) {
			const unsigned char *k = st[i].flows[j].key;

			printf("tun_fwd: flow %u.%u.%u.%u:%u->%u.%u.%u.%u:%u bytes %u\n",
			       k[0], k[1], k[2], k[3], k[8] << 8 | k[9],
			       k[4], k[5], k[6], k[7], k[10] << 8 | k[11],
			       st[i].flows[j].max_end);
		}
	}
	fflush(stdout);
	for (i = 0; i < 2; i++)
		close(port[i].fd);
	free(buf);
	return st[0].errors || st[1].errors ? 1 : 0;

usage:
	fprintf(stderr, "usage: %s [-n NODE] [-o OFFLOADS] [-t SECONDS] [-r READY_FILE] [-T] [-c CPU] NAME0 NAME1\n",
		argv[0]);
	return 2;
}
