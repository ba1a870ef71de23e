/*
 * agent_self.c: the running agent's lock file and its "agent/self"
 * state record (see agent_self.h).
 *
 * The record is a msgpack map, like the "peer/" records (syncio.c):
 *   pid, started, updated (ms), interval (s), log_level,
 *   listen: [endpoint...], dial: [{name, key (bin 32), endpoint}...]
 * Decoding is bounded (CLI_CONF_LIST_MAX entries per list, field sizes
 * of the struct) and skips keys it does not know.
 *
 * The lock is a POSIX record lock (fcntl F_SETLK) rather than flock:
 * F_GETLK lets status ask who holds it without ever holding it itself.
 */
#include "agent_self.h"

#include "mp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SELF_NAME "agent/self"

/* ---- the record --------------------------------------------------- */

void agent_self_encode(const struct agent_self *r, struct wh_buf *b)
{
	wh_mpw_map(b, 7);
	wh_mpw_cstr(b, "pid");
	wh_mpw_uint(b, r->pid);
	wh_mpw_cstr(b, "started");
	wh_mpw_uint(b, r->started_ms);
	wh_mpw_cstr(b, "updated");
	wh_mpw_uint(b, r->updated_ms);
	wh_mpw_cstr(b, "interval");
	wh_mpw_uint(b, r->interval);
	wh_mpw_cstr(b, "log_level");
	wh_mpw_cstr(b, r->log_level);
	wh_mpw_cstr(b, "listen");
	wh_mpw_array(b, (uint32_t)r->nlisten);
	for (size_t i = 0; i < r->nlisten; i++)
		wh_mpw_cstr(b, r->listen[i]);
	wh_mpw_cstr(b, "dial");
	wh_mpw_array(b, (uint32_t)r->ndial);
	for (size_t i = 0; i < r->ndial; i++) {
		wh_mpw_map(b, 3);
		wh_mpw_cstr(b, "name");
		wh_mpw_cstr(b, r->dial[i].name);
		wh_mpw_cstr(b, "key");
		wh_mpw_bin(b, r->dial[i].pk, WH_PK_BYTES);
		wh_mpw_cstr(b, "endpoint");
		wh_mpw_cstr(b, r->dial[i].endpoint);
	}
}

static int read_str(struct wh_mp *m, char *dst, size_t cap)
{
	struct wh_slice s;
	int rc = wh_mp_read_str(m, &s, cap - 1);
	if (rc)
		return rc;
	memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
	return WH_OK;
}

static int key_is(const struct wh_slice *k, const char *name)
{
	return strlen(name) == k->n && !memcmp(name, k->p, k->n);
}

static int read_dial(struct wh_mp *m, struct agent_self_dial *d)
{
	uint32_t nk;
	if (wh_mp_read_map(m, &nk, 16))
		return WH_EDECODE;
	for (uint32_t i = 0; i < nk; i++) {
		struct wh_slice k;
		int rc;
		if (wh_mp_read_str(m, &k, 64))
			return WH_EDECODE;
		if (key_is(&k, "name"))
			rc = read_str(m, d->name, sizeof d->name);
		else if (key_is(&k, "key"))
			rc = wh_mp_read_bin_fixed(m, d->pk, WH_PK_BYTES);
		else if (key_is(&k, "endpoint"))
			rc = read_str(m, d->endpoint, sizeof d->endpoint);
		else
			rc = wh_mp_skip(m, 8);
		if (rc)
			return WH_EDECODE;
	}
	return WH_OK;
}

static int read_lists(struct wh_mp *m, const struct wh_slice *k,
		      struct agent_self *r)
{
	uint32_t n;
	if (wh_mp_read_array(m, &n, CLI_CONF_LIST_MAX))
		return WH_EDECODE;
	for (uint32_t i = 0; i < n; i++) {
		int rc = key_is(k, "listen")
				 ? read_str(m, r->listen[i], sizeof r->listen[i])
				 : read_dial(m, &r->dial[i]);
		if (rc)
			return WH_EDECODE;
	}
	if (key_is(k, "listen"))
		r->nlisten = n;
	else
		r->ndial = n;
	return WH_OK;
}

int agent_self_decode(const uint8_t *p, size_t n, struct agent_self *r)
{
	memset(r, 0, sizeof *r);
	struct wh_mp m;
	wh_mp_init(&m, p, n);
	uint32_t nk;
	if (wh_mp_read_map(&m, &nk, 64))
		return WH_EDECODE;
	for (uint32_t i = 0; i < nk; i++) {
		struct wh_slice k;
		uint64_t v;
		int rc;
		if (wh_mp_read_str(&m, &k, 64))
			return WH_EDECODE;
		if (key_is(&k, "pid"))
			rc = wh_mp_read_uint(&m, &r->pid);
		else if (key_is(&k, "started"))
			rc = wh_mp_read_uint(&m, &r->started_ms);
		else if (key_is(&k, "updated"))
			rc = wh_mp_read_uint(&m, &r->updated_ms);
		else if (key_is(&k, "interval")) {
			rc = wh_mp_read_uint(&m, &v);
			if (!rc && v > UINT32_MAX)
				rc = WH_EDECODE;
			if (!rc)
				r->interval = (uint32_t)v;
		} else if (key_is(&k, "log_level"))
			rc = read_str(&m, r->log_level, sizeof r->log_level);
		else if (key_is(&k, "listen") || key_is(&k, "dial"))
			rc = read_lists(&m, &k, r);
		else
			rc = wh_mp_skip(&m, 8);
		if (rc)
			return WH_EDECODE;
	}
	return wh_mp_left(&m) ? WH_EDECODE : WH_OK;
}

int agent_self_put(struct wh_store *s, const struct agent_self *r)
{
	struct wh_buf b = {0};
	agent_self_encode(r, &b);
	int rc = wh_store_state_put(s, SELF_NAME, b.p, b.len);
	wh_buf_fini(&b);
	return rc;
}

int agent_self_get(struct wh_store *s, struct agent_self *r)
{
	struct wh_buf b = {0};
	int rc = wh_store_state_get(s, SELF_NAME, &b);
	if (rc == WH_OK)
		rc = agent_self_decode(b.p, b.len, r);
	wh_buf_fini(&b);
	return rc;
}

/* ---- the lock ----------------------------------------------------- */

static int lock_path(const struct cli *c, char out[PATH_MAX])
{
	return cli_join(c, out, PATH_MAX, c->home, "agent.lock");
}

static void whole_file(struct flock *fl, short type)
{
	memset(fl, 0, sizeof *fl);
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = 0;
	fl->l_len = 0; /* to the end, however long */
}

int agent_lock_take(const struct cli *c, int *fd)
{
	char file[PATH_MAX];
	*fd = -1;
	if (lock_path(c, file))
		return CLI_FAIL;
	int f = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (f < 0)
		return cli_fail(c, "%s: %s", file, strerror(errno));
	struct flock fl;
	whole_file(&fl, F_WRLCK);
	if (fcntl(f, F_SETLK, &fl) != 0) {
		int err = errno;
		struct flock who;
		whole_file(&who, F_WRLCK);
		long pid = fcntl(f, F_GETLK, &who) == 0 && who.l_type != F_UNLCK
				   ? (long)who.l_pid
				   : 0;
		close(f);
		if (err == EAGAIN || err == EACCES) {
			if (pid > 0)
				return cli_fail(c, "another agent runs on "
						   "this home (pid %ld)",
						pid);
			return cli_fail(c, "another agent runs on this home");
		}
		return cli_fail(c, "%s: cannot lock: %s", file, strerror(err));
	}
	/* The pid is for people; the lock is what counts. */
	char line[32];
	int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
	if (ftruncate(f, 0) != 0 || pwrite(f, line, (size_t)n, 0) != n) {
		int err = errno;
		close(f);
		return cli_fail(c, "%s: %s", file, strerror(err));
	}
	*fd = f;
	return CLI_OK;
}

void agent_lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* closing drops the lock */
}

int agent_lock_holder(const struct cli *c, long *pid)
{
	char file[PATH_MAX];
	*pid = 0;
	if (lock_path(c, file))
		return -1;
	int f = open(file, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return errno == ENOENT ? 0 : -1;
	struct flock fl;
	whole_file(&fl, F_WRLCK);
	int rc = fcntl(f, F_GETLK, &fl);
	int err = errno;
	close(f);
	if (rc != 0) {
		errno = err;
		return -1;
	}
	if (fl.l_type == F_UNLCK)
		return 0;
	*pid = fl.l_pid > 0 ? (long)fl.l_pid : 0;
	return 1;
}
