/*
 * progress.h: one line of progress on a terminal for long work (case
 * import, a first sync of a large scope, rebuilding the store's views,
 * applying a bundle), e.g.
 *
 *   sync: received 12,345 of 50,000 ops (4,102/s), 24%, about 9 s left
 *   case import: writing 8,000 rows (2,113/s), 61%, about 3 s left
 *
 * The contract, for every caller:
 *   - The line goes to stderr, and only when stderr is a terminal and the
 *     caller did not ask for quiet (--quiet). Otherwise every call is a
 *     no-op: output to a file, a pipe or the journal never holds
 *     progress, so scripts and logs read the same as before.
 *   - Nothing shows for the first second (PROGRESS_DELAY_MS): short work
 *     stays silent. After that the line is redrawn at most five times a
 *     second, in place ("\r" and erase-line), so calling progress_update
 *     for every item is cheap (a clock read and two compares).
 *   - Counts are items the caller names (unit: "rows", "ops"). A total
 *     of 0 means unknown: the line then shows count and rate only. The
 *     share and the time left come from the total, or, when only some
 *     other measure of the end is known (bytes read of a file's size),
 *     from progress_update_at's position.
 *   - The rate is items per second since progress_start; a count that
 *     goes down (work that started over) restarts the clock.
 *   - Before printing anything else to stdout or stderr while a line may
 *     be showing, call progress_clear; progress_end clears it for good.
 *     Neither prints anything when no line is showing.
 *   - label and unit are borrowed and must outlive the struct; nothing
 *     is allocated, so there is nothing to free beyond progress_end.
 *
 * For tests only, $WHISTLE_PROGRESS_DELAY_MS replaces the one-second
 * delay (0: draw from the first update), so a test does not need work
 * that lasts a second to see a line.
 */
#ifndef WH_PROGRESS_H
#define WH_PROGRESS_H

#include <stdint.h>

#define PROGRESS_DELAY_MS 1000u
#define PROGRESS_REDRAW_MS 200u

struct progress {
	const char *label; /* "sync", "case import" */
	const char *verb;  /* "received", "writing"; "" for none */
	const char *unit;  /* "ops", "rows" */
	int on;            /* stderr is a terminal and not quiet */
	int shown;         /* a line is on the screen now */
	uint64_t delay_ms;
	uint64_t t0, tlast; /* monotonic ms: start, last redraw */
	uint64_t done;
	/* The monotonic clock in ms; progress_start sets the real one, a
	 * test may put its own in after. */
	uint64_t (*now)(void);
};

/* Start: decide whether anything will show (the rule above) and start
 * the clock. verb may be NULL. */
void progress_start(struct progress *p, const char *label, const char *verb,
		    const char *unit, int quiet);
/* Change the verb ("checking" -> "writing") for the next redraw. */
void progress_verb(struct progress *p, const char *verb);
/* done items of total (0: unknown). */
void progress_update(struct progress *p, uint64_t done, uint64_t total);
/* done items; the end measured another way: pos of end (bytes of a
 * file), which gives the share and the time left. end 0: unknown. */
void progress_update_at(struct progress *p, uint64_t done, uint64_t pos,
			uint64_t end);
/* Take the line off the screen until the next redraw. */
void progress_clear(struct progress *p);
/* Take the line off the screen; later updates show nothing. */
void progress_end(struct progress *p);

/* Whether progress would show for this process now (stderr a terminal
 * and not quiet): a caller may skip work that only feeds the line. */
int progress_wanted(int quiet);

#endif
