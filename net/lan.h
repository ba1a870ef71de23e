/*
 * lan.h: the UDP socket of LAN discovery, a plain non-blocking fd that
 * the agent polls beside its ZeroMQ sockets (wh_net_poll_fds): no
 * thread, no zmq.h. Bytes in and out only; beacon.h says what they
 * mean.
 *
 * Sending broadcasts to every IPv4 interface that is up, can broadcast
 * and is not loopback, at its subnet's broadcast address computed from
 * its address and mask (10.1.2.255 for 10.1.2.7/24), so a beacon
 * reaches exactly the local subnets and no router forwards it. The socket is bound to 0.0.0.0:port with
 * SO_REUSEADDR, so two agents on one host both hear beacons.
 */
#ifndef WH_LAN_H
#define WH_LAN_H

#include "wh.h"

#define WH_LAN_ADDR_MAX 64 /* an address as text, with room to spare */

struct wh_lan;

/* Open the socket on UDP port (1..65535). WH_OK, WH_EBUSY (the port is
 * taken without SO_REUSEADDR) or WH_EIO; errno is kept. Allocates;
 * release with wh_lan_close. */
WH_MUST_CHECK int wh_lan_open(uint16_t port, struct wh_lan **out);
/* Close and free; accepts NULL. */
void wh_lan_close(struct wh_lan *l);
/* The fd to poll for reading. */
int wh_lan_fd(const struct wh_lan *l);

/* Broadcast p[0..n) on every suitable interface; *sent (may be NULL)
 * says on how many it went out. WH_OK if at least one, WH_ENOTFOUND if
 * there is no such interface, WH_EIO if every send failed. */
WH_MUST_CHECK int wh_lan_broadcast(struct wh_lan *l, const uint8_t *p,
				   size_t n, size_t *sent);

/* One waiting datagram into buf: WH_OK with *n and the sender's IPv4
 * address as text in from; WH_EBUSY when none waits; WH_ETOOBIG when it
 * was longer than cap (it is consumed and dropped); WH_EIO. */
WH_MUST_CHECK int wh_lan_recv(struct wh_lan *l, uint8_t *buf, size_t cap,
			      size_t *n, char from[WH_LAN_ADDR_MAX]);

#endif
