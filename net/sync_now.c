/*
 * sync_now.c: a reconciliation round asked for by a person ("sync now"
 * on the web console), rather than by the digest timer.
 *
 * The protocol lets only the narrower side (the client) open a round
 * with its DIGEST. A client therefore starts one at once. A server (the
 * wider side, e.g. a street hub on its link to a station) cannot, so it
 * says HELLO again: the peer answers with its own HELLO, which opens
 * round 0, exactly as when the link comes back after an outage. Either
 * way only an idle session is touched: a round in flight is already
 * doing what was asked, and restarting it would throw its work away.
 */
#include "sync_int.h"

int wh_sync_kick(struct wh_sync *s)
{
	if (!s->hello_done || !s->scope[0] || !wh_sync_idle(s))
		return WH_OK;
	if (!s->is_server)
		return sync_client_round_start(s);
	return wh_sync_start(s);
}
