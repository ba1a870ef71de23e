/*
 * lan.c: the discovery UDP socket (lan.h). Interfaces are listed again
 * on every broadcast (getifaddrs), so an address that appears later (a
 * cable plugged in, a hotspot joined during a flood) is used at once.
 */
#include "lan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct wh_lan {
	int fd;
	uint16_t port;
};

int wh_lan_open(uint16_t port, struct wh_lan **out)
{
	*out = NULL;
	if (port == 0)
		return WH_EINVAL;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return WH_EIO;
	int one = 1;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return e == EADDRINUSE ? WH_EBUSY : WH_EIO;
	}
	struct wh_lan *l = wh_xcalloc(1, sizeof *l);
	l->fd = fd;
	l->port = port;
	*out = l;
	return WH_OK;
}

void wh_lan_close(struct wh_lan *l)
{
	if (!l)
		return;
	close(l->fd);
	free(l);
}

int wh_lan_fd(const struct wh_lan *l)
{
	return l ? l->fd : -1;
}

int wh_lan_broadcast(struct wh_lan *l, const uint8_t *p, size_t n,
		     size_t *sent)
{
	struct ifaddrs *ifs, *i;
	size_t ok = 0, tried = 0;
	if (sent)
		*sent = 0;
	if (getifaddrs(&ifs) != 0)
		return WH_EIO;
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    !i->ifa_netmask || !(i->ifa_flags & IFF_UP) ||
		    !(i->ifa_flags & IFF_BROADCAST) ||
		    (i->ifa_flags & IFF_LOOPBACK))
			continue;
		struct sockaddr_in to, addr, mask;
		memcpy(&addr, i->ifa_addr, sizeof addr);
		memcpy(&mask, i->ifa_netmask, sizeof mask);
		uint32_t m = ntohl(mask.sin_addr.s_addr);
		/* From address and mask, not ifa_broadaddr: an address
		 * added without 'brd' has none (0.0.0.0, which is us).
		 * A /31 or /32 has no broadcast address. */
		if (~m < 3)
			continue;
		memset(&to, 0, sizeof to);
		to.sin_family = AF_INET;
		to.sin_port = htons(l->port);
		to.sin_addr.s_addr = htonl(ntohl(addr.sin_addr.s_addr) | ~m);
		tried++;
		ssize_t w = sendto(l->fd, p, n, 0, (struct sockaddr *)&to,
				   sizeof to);
		if (w == (ssize_t)n)
			ok++;
	}
	freeifaddrs(ifs);
	if (sent)
		*sent = ok;
	if (!tried)
		return WH_ENOTFOUND;
	return ok ? WH_OK : WH_EIO;
}

int wh_lan_recv(struct wh_lan *l, uint8_t *buf, size_t cap, size_t *n,
		char from[WH_LAN_ADDR_MAX])
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	from[0] = '\0';
	*n = 0;
	/* MSG_TRUNC: the datagram's real length, to refuse an oversized
	 * one instead of reading its first bytes as if they were all. */
	ssize_t r = recvfrom(l->fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&sa,
			     &sl);
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
			       ? WH_EBUSY
			       : WH_EIO;
	if (sl >= sizeof sa && sa.sin_family == AF_INET)
		inet_ntop(AF_INET, &sa.sin_addr, from, WH_LAN_ADDR_MAX);
	if ((size_t)r > cap)
		return WH_ETOOBIG;
	*n = (size_t)r;
	return WH_OK;
}
