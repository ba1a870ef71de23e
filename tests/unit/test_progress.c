/*
 * test_progress.c: the progress line (agent/progress.h) on a real
 * pseudo-terminal, with the clock injected: nothing during the first
 * second; then the exact line (count, total, rate, share, time left),
 * redrawn at most every 200 ms and cut to the terminal's width; the
 * share and time left by position (bytes of a file); a count that goes
 * down restarts the rate; clear and end erase the line; and nothing at
 * all with quiet, or when stderr is a pipe.
 *
 * stderr (fd 2) is swapped for the pty's slave side while a case runs,
 * and what reached the master side is read back; messages of this test
 * go to stdout.
 */
#include "progress.h"
#include "wh_test.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static uint64_t fake_ms;
static uint64_t fake_now(void) { return fake_ms; }

static int master = -1, slave = -1, saved_err = -1;

static void pty_open(unsigned short cols)
{
	master = posix_openpt(O_RDWR | O_NOCTTY);
	REQUIRE(master >= 0);
	REQUIRE(grantpt(master) == 0 && unlockpt(master) == 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	REQUIRE(slave >= 0);
	/* raw: no "\n" -> "\r\n", no echo, so bytes arrive as written */
	struct termios t;
	REQUIRE(tcgetattr(slave, &t) == 0);
	cfmakeraw(&t);
	REQUIRE(tcsetattr(slave, TCSANOW, &t) == 0);
	struct winsize ws = {.ws_row = 24, .ws_col = cols};
	REQUIRE(ioctl(slave, TIOCSWINSZ, &ws) == 0);
	fflush(stderr);
	saved_err = dup(2);
	REQUIRE(saved_err >= 0 && dup2(slave, 2) == 2);
}

/* Put stderr back, and return what the terminal got (static buffer). */
static const char *pty_close(void)
{
	static char got[4096];
	REQUIRE(dup2(saved_err, 2) == 2);
	close(saved_err);
	close(slave);
	size_t n = 0;
	int fl = fcntl(master, F_GETFL);
	fcntl(master, F_SETFL, fl | O_NONBLOCK);
	for (;;) {
		ssize_t r = read(master, got + n, sizeof got - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(master);
	got[n] = '\0';
	return got;
}

static void start(struct progress *p, const char *verb, int quiet)
{
	progress_start(p, "sync", verb, "ops", quiet);
	p->now = fake_now;
	fake_ms = 1000000;
	p->t0 = p->tlast = fake_ms;
}

#define CLR "\r\033[K"

static void expect(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want)) {
		printf("%s:\n  got  \"%s\"\n  want \"%s\"\n", what, got, want);
		wh_test_failures++;
	}
}

int main(void)
{
	/* Keep the real default: the test injects time instead. */
	unsetenv("WHISTLE_PROGRESS_DELAY_MS");
	struct progress p;

	/* The first second shows nothing; then one line; a redraw within
	 * 200 ms is skipped; the next one replaces the line in place. */
	pty_open(120);
	start(&p, "received", 0);
	CHECK(p.on);
	progress_update(&p, 10, 400);
	fake_ms += 999;
	progress_update(&p, 20, 400);
	fake_ms += 1001; /* 2 s in */
	progress_update(&p, 100, 400);
	fake_ms += 100;
	progress_update(&p, 110, 400); /* too soon: skipped */
	fake_ms += 100;		       /* 2.2 s in */
	progress_update(&p, 1100, 44000);
	progress_end(&p);
	progress_update(&p, 2000, 44000); /* after the end: nothing */
	expect("count, total, rate, share, time left", pty_close(),
	       CLR "sync: received 100 of 400 ops (50/s), 25%, about 6 s left"
	       CLR "sync: received 1,100 of 44,000 ops (500/s), 2%, about "
		   "1 min 25 s left" CLR);

	/* By position: rows counted, the share from bytes of the file. An
	 * unknown total shows count and rate alone. Hours when long. */
	pty_open(120);
	progress_start(&p, "case import", "writing", "rows", 0);
	p.now = fake_now;
	p.t0 = p.tlast = fake_ms = 5000;
	fake_ms += 2000;
	progress_update_at(&p, 3000, 1 << 20, 4 << 20);
	fake_ms += 1000;
	progress_verb(&p, "checking");
	progress_update(&p, 4000, 0);
	progress_clear(&p);
	progress_clear(&p); /* nothing showing: nothing written */
	fake_ms += 1;
	progress_update_at(&p, 4001, 1, 10000); /* after a clear: at once */
	progress_end(&p);
	expect("by position", pty_close(),
	       CLR "case import: writing 3,000 rows (1,500/s), 25%, about "
		   "6 s left"
	       CLR "case import: checking 4,000 rows (1,333/s)" CLR
	       CLR "case import: checking 4,001 rows (1,333/s), 0%, about "
		   "8 h 20 min left" CLR);

	/* Work that starts over (a store transaction retried) restarts the
	 * rate; a narrow terminal cuts the line rather than wrap it. */
	pty_open(44);
	start(&p, "folded", 0);
	fake_ms += 4000;
	progress_update(&p, 4000, 8000);
	progress_clear(&p);
	fake_ms += 1000;
	progress_update(&p, 10, 8000); /* went down: the clock restarts */
	fake_ms += 2000;
	progress_update(&p, 2010, 8000);
	progress_end(&p);
	expect("restart, width", pty_close(),
	       CLR "sync: folded 4,000 of 8,000 ops (1,000/s), " CLR
	       CLR "sync: folded 2,010 of 8,000 ops (1,005/s), " CLR);

	/* Quiet: nothing, ever. */
	pty_open(120);
	start(&p, "received", 1);
	CHECK(!p.on);
	fake_ms += 5000;
	progress_update(&p, 100, 400);
	progress_end(&p);
	expect("quiet", pty_close(), "");

	/* stderr a pipe: nothing, and progress_wanted says so. */
	int pfd[2];
	REQUIRE(pipe(pfd) == 0);
	fflush(stderr);
	int keep = dup(2);
	REQUIRE(keep >= 0 && dup2(pfd[1], 2) == 2);
	CHECK(!progress_wanted(0));
	start(&p, "received", 0);
	CHECK(!p.on);
	fake_ms += 5000;
	progress_update(&p, 100, 400);
	progress_end(&p);
	REQUIRE(dup2(keep, 2) == 2);
	close(keep);
	close(pfd[1]);
	char buf[64];
	CHECK(read(pfd[0], buf, sizeof buf) == 0);
	close(pfd[0]);

	/* The delay knob for scenario tests: 0 draws from the first update. */
	setenv("WHISTLE_PROGRESS_DELAY_MS", "0", 1);
	pty_open(120);
	start(&p, "received", 0);
	progress_update(&p, 1, 0);
	progress_end(&p);
	expect("delay 0", pty_close(),
	       CLR "sync: received 1 ops (1,000/s)" CLR);
	return wh_test_done("test_progress");
}
