/*
 * hlc.c: hybrid logical clock (Kulkarni et al., "Logical Physical Clocks").
 * The counter saturating at 0xffff carries into the millisecond field,
 * which keeps stamps strictly increasing; at 65,536 events in one
 * millisecond that drift is harmless.
 */
#include "hlc.h"

#include <time.h>

uint64_t wh_clock_realtime(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void wh_hlc_init(struct wh_hlc *clk, wh_clock_fn now, void *ctx,
		 wh_hlc_ts last)
{
	clk->now = now ? now : wh_clock_realtime;
	clk->now_ctx = ctx;
	clk->last = last;
}

wh_hlc_ts wh_hlc_tick(struct wh_hlc *clk)
{
	wh_hlc_ts phys = WH_HLC_MAKE(clk->now(clk->now_ctx), 0);
	clk->last = phys > clk->last ? phys : clk->last + 1;
	return clk->last;
}

int wh_hlc_check(wh_hlc_ts ts, uint64_t now_ms)
{
	if (WH_HLC_MS(ts) > now_ms + WH_HLC_MAX_DRIFT_MS)
		return WH_ECLOCK;
	return WH_OK;
}

int wh_hlc_recv(struct wh_hlc *clk, wh_hlc_ts remote)
{
	int rc = wh_hlc_check(remote, clk->now(clk->now_ctx));
	if (rc)
		return rc;
	if (remote > clk->last)
		clk->last = remote;
	return WH_OK;
}
