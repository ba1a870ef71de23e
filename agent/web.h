/*
 * web.h: the local web console that `whistle agent` serves (网页控制台):
 * the pages (agent/web/, embedded in the binary) and the JSON API
 * behind them (docs/api.md), for the station's staff.
 *
 * It runs inside the agent's one loop, with no thread of its own:
 * libmicrohttpd is started without an internal thread and with epoll,
 * so all of its sockets sit behind one epoll fd; web_poll adds that fd
 * to the zmq_poll items beside the net's sockets and the signal pipe,
 * and lets libmicrohttpd do its work (MHD_run, which never blocks)
 * after every turn. A request is answered inside that call, so a
 * handler must not block: it reads and writes the store as the CLI
 * does, in one short transaction.
 *
 * whistle.conf keys (read at start; a reload does not change them):
 *   web_port = 7480       the TCP port; 0 turns the console off
 *   web_bind = 127.0.0.1  the IPv4 address to bind; anything but a
 *                         loopback address is logged as a warning,
 *                         since it puts the console on the network
 * If the port cannot be bound the agent logs why and runs without the
 * console: syncing cases matters more than the screen.
 */
#ifndef WH_WEB_H
#define WH_WEB_H

#include "transport.h"

#define WEB_PORT_DEFAULT 7480
#define WEB_BIND_DEFAULT "127.0.0.1"

struct agent;
struct web;

/* Start the console for agent a as whistle.conf says (logging what it
 * does): *out is the console, or NULL when it is off or could not
 * start. Never fails the agent. */
void web_open(struct agent *a, struct web **out);
/* Stop it: close every connection and free. Accepts NULL. */
void web_close(struct web *w);

/*
 * One turn of the agent's loop: wh_net_poll_fds on net with the plain
 * fds[0..nfds) (the signal pipe, the LAN discovery socket; below 0:
 * skipped; at most WEB_POLL_FDS) and, when w is not NULL, the console's
 * epoll fd, the timeout shortened to the console's own; then the
 * console's work. ready[i] says whether fds[i] is readable. Returns
 * wh_net_poll_fds's result, or WH_EINVAL for too many fds.
 */
#define WEB_POLL_FDS 4
WH_MUST_CHECK int web_poll(struct web *w, struct wh_net *net, const int *fds,
			   size_t nfds, int64_t timeout_ms, int *ready);

#endif
