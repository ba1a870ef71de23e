/*
 * delay_relay.c: a TCP relay that holds every byte for a fixed time in
 * each direction, so scenario tests can add latency to a link on kernels
 * without tc netem (tests/scenario/test_sync_netns.sh runs it inside a
 * network namespace between a station and its hub).
 *
 *   delay_relay -l HOST:PORT -c HOST:PORT [-d MS] [-r KIB] [-t SEC]
 *               [-n CONNS]
 *
 * Accepts on -l; for each client opens a connection to -c and copies
 * bytes both ways, each chunk released -d ms (default 150) after it was
 * read, and with -r at most KIB KiB/s per direction of each pair (a slow
 * link on loopback, where tc cannot be used without touching the host).
 * test_sync_street.sh uses -d 0 -r to stretch a large sync. One thread, one poll loop whose timeout is the next due chunk on
 * CLOCK_MONOTONIC. Everything is bounded: at most -n (default 16) pairs,
 * at most 4 MiB queued per direction (reading stops until it drains), and
 * the process exits by itself after -t seconds (default 900). A half-close
 * is passed on once the queue in that direction is empty; a reset or an
 * error closes the pair. IPv4 addresses only: tests use their own.
 * Writes one line per closed pair (bytes each way) to stderr.
 * Exit status 0 after -t, 2 on a usage error, 1 if it cannot listen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 64
#define QUEUE_LIMIT (4u << 20)
#define CHUNK 65536

struct chunk {
	struct chunk *next;
	uint64_t due;
	size_t len, off;
	unsigned char data[];
};

/* One direction: bytes read from fd[src] waiting to go to the other. */
struct dir {
	struct chunk *head, *tail;
	size_t queued;
	int eof;      /* the source sent FIN */
	int shut;     /* we passed the FIN on */
	uint64_t bytes;
	uint64_t budget; /* bytes we may write now (with -r) */
	uint64_t refilled; /* when budget was last topped up */
};

static uint64_t rate; /* bytes per second per direction; 0: no limit */

/* Top up the token bucket: 'rate' bytes a second, at most 20 ms worth
 * (and at least one 16 KiB write) in hand. */
static void refill(struct dir *d, uint64_t now)
{
	if (!rate)
		return;
	uint64_t add = (now - d->refilled) * rate / 1000u;
	uint64_t cap = rate / 50u > 16384u ? rate / 50u : 16384u;
	if (add) {
		d->budget = d->budget + add > cap ? cap : d->budget + add;
		d->refilled = now;
	}
}

/* Whether the head chunk may be written now (rate permitting). */
static int may_write(const struct dir *d)
{
	if (!rate)
		return 1;
	size_t left = d->head->len - d->head->off;
	return d->budget >= (left < 1024u ? left : 1024u);
}

struct pair {
	int used;
	int fd[2];      /* 0: accepted client, 1: upstream */
	int connecting; /* upstream connect in progress */
	struct dir d[2]; /* d[i]: from fd[i] to fd[1 - i] */
	unsigned id;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -1;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void pair_close(struct pair *p)
{
	fprintf(stderr, "delay_relay: pair %u closed: %llu bytes up, %llu down\n",
		p->id, (unsigned long long)p->d[0].bytes,
		(unsigned long long)p->d[1].bytes);
	for (int i = 0; i < 2; i++) {
		if (p->fd[i] >= 0)
			close(p->fd[i]);
		struct chunk *c = p->d[i].head;
		while (c) {
			struct chunk *n = c->next;
			free(c);
			c = n;
		}
	}
	memset(p, 0, sizeof *p);
	p->fd[0] = p->fd[1] = -1;
}

/* Read what fd[i] has into direction i's queue. Returns -1 to close. */
static int pump_in(struct pair *p, int i, uint64_t delay)
{
	struct dir *d = &p->d[i];
	for (int n = 0; n < 16 && d->queued < QUEUE_LIMIT && !d->eof; n++) {
		struct chunk *c = malloc(sizeof *c + CHUNK);
		if (!c) {
			fprintf(stderr, "delay_relay: out of memory\n");
			abort();
		}
		ssize_t r = read(p->fd[i], c->data, CHUNK);
		if (r <= 0) {
			free(c);
			if (r == 0) {
				d->eof = 1;
				return 0;
			}
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		c->next = NULL;
		c->len = (size_t)r;
		c->off = 0;
		c->due = now_ms() + delay;
		if (d->tail)
			d->tail->next = c;
		else
			d->head = c;
		d->tail = c;
		d->queued += (size_t)r;
		d->bytes += (uint64_t)r;
	}
	return 0;
}

/* Write direction i's due chunks to fd[1 - i]. Returns -1 to close. */
static int pump_out(struct pair *p, int i, uint64_t now)
{
	struct dir *d = &p->d[i];
	int fd = p->fd[1 - i];
	while (d->head && d->head->due <= now) {
		struct chunk *c = d->head;
		size_t n = c->len - c->off;
		if (rate) {
			if (!may_write(d))
				return 0;
			if (n > d->budget)
				n = (size_t)d->budget;
		}
		ssize_t w = write(fd, c->data + c->off, n);
		if (w < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->off += (size_t)w;
		d->queued -= (size_t)w;
		if (rate)
			d->budget -= (uint64_t)w;
		if (c->off < c->len)
			return 0;
		d->head = c->next;
		if (!d->head)
			d->tail = NULL;
		free(c);
	}
	if (!d->head && d->eof && !d->shut) {
		shutdown(fd, SHUT_WR);
		d->shut = 1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: delay_relay -l HOST:PORT -c HOST:PORT [-d MS] "
			"[-r KIB] [-t SEC] [-n CONNS]\n"
			"Relays TCP from -l to -c, holding bytes -d ms (default 150)\n"
			"each way, at most -r KiB/s each way (default: no limit);\n"
			"exits after -t seconds (default 900).\n");
}

int main(int argc, char **argv)
{
	struct sockaddr_in lsa, csa;
	int have_l = 0, have_c = 0, opt;
	long delay = 150, life = 900, maxconn = 16, kib = 0;
	while ((opt = getopt(argc, argv, "l:c:d:r:t:n:h")) != -1) {
		char *end = NULL;
		switch (opt) {
		case 'l':
			have_l = parse_addr(optarg, &lsa) == 0;
			if (!have_l)
				goto bad;
			break;
		case 'c':
			have_c = parse_addr(optarg, &csa) == 0;
			if (!have_c)
				goto bad;
			break;
		case 'd':
			delay = strtol(optarg, &end, 10);
			if (*end || delay < 0 || delay > 60000)
				goto bad;
			break;
		case 'r':
			kib = strtol(optarg, &end, 10);
			if (*end || kib < 0 || kib > 10000000)
				goto bad;
			rate = (uint64_t)kib * 1024u;
			break;
		case 't':
			life = strtol(optarg, &end, 10);
			if (*end || life <= 0 || life > 86400)
				goto bad;
			break;
		case 'n':
			maxconn = strtol(optarg, &end, 10);
			if (*end || maxconn <= 0 || maxconn > MAX_PAIRS)
				goto bad;
			break;
		case 'h':
			usage();
			return 0;
		default:
			goto bad;
		}
	}
	if (!have_l || !have_c || optind != argc)
		goto bad;
	signal(SIGPIPE, SIG_IGN);

	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    bind(lfd, (struct sockaddr *)&lsa, sizeof lsa) || listen(lfd, 16) ||
	    nonblock(lfd)) {
		perror("delay_relay: listen");
		return 1;
	}
	fprintf(stderr, "delay_relay: listening, delay %ld ms each way, "
			"rate %ld KiB/s (0: no limit)\n", delay, kib);
	fflush(stderr);

	static struct pair pairs[MAX_PAIRS];
	for (int i = 0; i < MAX_PAIRS; i++)
		pairs[i].fd[0] = pairs[i].fd[1] = -1;
	unsigned next_id = 1;
	uint64_t end_at = now_ms() + (uint64_t)life * 1000u;

	for (;;) {
		uint64_t now = now_ms();
		if (now >= end_at)
			break;
		struct pollfd pfd[1 + 2 * MAX_PAIRS];
		struct pair *owner[1 + 2 * MAX_PAIRS];
		int side[1 + 2 * MAX_PAIRS];
		int n = 0, active = 0;
		uint64_t wake = end_at;
		for (int k = 0; k < MAX_PAIRS; k++) {
			struct pair *p = &pairs[k];
			if (!p->used)
				continue;
			active++;
			refill(&p->d[0], now);
			refill(&p->d[1], now);
			for (int i = 0; i < 2; i++) {
				short ev = 0;
				if (i == 1 && p->connecting) {
					ev = POLLOUT;
				} else if (!p->connecting) {
					struct dir *in = &p->d[i], *out = &p->d[1 - i];
					if (!in->eof && in->queued < QUEUE_LIMIT)
						ev |= POLLIN;
					if (out->head) {
						if (out->head->due > now) {
							if (out->head->due < wake)
								wake = out->head->due;
						} else if (may_write(out)) {
							ev |= POLLOUT;
						} else if (now + 1 < wake) {
							wake = now + 1; /* budget refills */
						}
					}
				}
				/* Nothing wanted: leave the fd out, or a
				 * half-closed socket's POLLHUP would spin. */
				pfd[n] = (struct pollfd){ev ? p->fd[i] : -1, ev, 0};
				owner[n] = p;
				side[n] = i;
				n++;
			}
		}
		if (active < maxconn) {
			pfd[n] = (struct pollfd){lfd, POLLIN, 0};
			owner[n] = NULL;
			side[n] = 0;
			n++;
		}
		uint64_t wait = wake > now ? wake - now : 0;
		if (wait > 1000)
			wait = 1000;
		int r = poll(pfd, (nfds_t)n, (int)wait);
		if (r < 0 && errno != EINTR) {
			perror("delay_relay: poll");
			return 1;
		}
		now = now_ms();
		for (int j = 0; j < n && r > 0; j++) {
			struct pair *p = owner[j];
			if (!p) {
				if (!(pfd[j].revents & POLLIN))
					continue;
				int cfd = accept(lfd, NULL, NULL);
				if (cfd < 0)
					continue;
				struct pair *q = NULL;
				for (int k = 0; k < MAX_PAIRS && !q; k++)
					if (!pairs[k].used)
						q = &pairs[k];
				int ufd = socket(AF_INET, SOCK_STREAM, 0);
				if (!q || ufd < 0 || nonblock(cfd) || nonblock(ufd)) {
					close(cfd);
					if (ufd >= 0)
						close(ufd);
					continue;
				}
				setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				memset(q, 0, sizeof *q);
				q->used = 1;
				q->id = next_id++;
				q->fd[0] = cfd;
				q->fd[1] = ufd;
				q->d[0].refilled = q->d[1].refilled = now;
				if (connect(ufd, (struct sockaddr *)&csa, sizeof csa) == 0)
					q->connecting = 0;
				else if (errno == EINPROGRESS)
					q->connecting = 1;
				else
					pair_close(q);
				continue;
			}
			if (!p->used || !pfd[j].revents)
				continue;
			int i = side[j];
			if (i == 1 && p->connecting) {
				int err = 0;
				socklen_t len = sizeof err;
				getsockopt(p->fd[1], SOL_SOCKET, SO_ERROR, &err, &len);
				if (err) {
					pair_close(p);
					continue;
				}
				p->connecting = 0;
				continue;
			}
			int dead = 0;
			if (pfd[j].revents & (POLLIN | POLLHUP | POLLERR))
				dead |= pump_in(p, i, (uint64_t)delay);
			if (!dead && (pfd[j].revents & POLLOUT))
				dead |= pump_out(p, 1 - i, now);
			if (dead)
				pair_close(p);
		}
		/* Release due chunks and pass on FINs whose queues drained,
		 * then retire pairs that are closed both ways. */
		for (int k = 0; k < MAX_PAIRS; k++) {
			struct pair *p = &pairs[k];
			if (!p->used || p->connecting)
				continue;
			if (pump_out(p, 0, now) || pump_out(p, 1, now)) {
				pair_close(p);
				continue;
			}
			if (p->d[0].shut && p->d[1].shut)
				pair_close(p);
		}
	}
	for (int k = 0; k < MAX_PAIRS; k++)
		if (pairs[k].used)
			pair_close(&pairs[k]);
	close(lfd);
	return 0;
bad:
	usage();
	return 2;
}
