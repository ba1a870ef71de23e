/*
 * hlc.h: hybrid logical clock.
 *
 * A timestamp is one uint64: physical milliseconds since the Unix epoch in
 * the high 48 bits, a logical counter in the low 16. It orders events like a
 * Lamport clock (every stamp is above every stamp its author had seen) while
 * staying within a bounded distance of wall-clock time, so it can be shown
 * to people and used for deadlines.
 *
 * A stamp more than WH_HLC_MAX_DRIFT_MS ahead of the receiver's wall clock
 * is refused: one station with a clock set to 2099 must not win every
 * last-writer-wins field forever. Stations whose clocks run behind lose
 * nothing: their stamps are pulled forward by what they receive.
 *
 * The clock reads time only through the injected function, so tests skew
 * and step it without sleeping.
 */
#ifndef WH_HLC_H
#define WH_HLC_H

#include "wh.h"

typedef uint64_t wh_hlc_ts;

#define WH_HLC_MS(ts) ((ts) >> 16)
#define WH_HLC_COUNTER(ts) ((ts) & 0xffffu)
#define WH_HLC_MAKE(ms, c) (((uint64_t)(ms) << 16) | ((c) & 0xffffu))

/* Ten minutes: generous for office PCs that have drifted, small enough
 * that a runaway clock cannot shadow honest edits for long. */
#define WH_HLC_MAX_DRIFT_MS (10u * 60u * 1000u)

/* Wall-clock milliseconds since the Unix epoch. */
typedef uint64_t (*wh_clock_fn)(void *ctx);

/* The real wall clock (CLOCK_REALTIME). */
uint64_t wh_clock_realtime(void *ctx);

struct wh_hlc {
	wh_hlc_ts last;
	wh_clock_fn now;
	void *now_ctx;
};

/* Start a clock that will never issue a stamp at or below 'last' (the
 * highest stamp this station has stored, so restarts never go back). */
void wh_hlc_init(struct wh_hlc *clk, wh_clock_fn now, void *ctx,
		 wh_hlc_ts last);

/* Stamp a local event: strictly above every stamp issued or received. */
wh_hlc_ts wh_hlc_tick(struct wh_hlc *clk);

/*
 * Merge a stamp received from a peer. Returns WH_OK, or WH_ECLOCK if
 * 'remote' is more than WH_HLC_MAX_DRIFT_MS ahead of our physical clock;
 * the clock is then unchanged and the carrying operation must be dropped.
 */
WH_MUST_CHECK int wh_hlc_recv(struct wh_hlc *clk, wh_hlc_ts remote);

/* The admission rule alone: WH_ECLOCK if ts is too far past now_ms. */
WH_MUST_CHECK int wh_hlc_check(wh_hlc_ts ts, uint64_t now_ms);

#endif
