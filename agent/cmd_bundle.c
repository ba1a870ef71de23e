/*
 * cmd_bundle.c: `whistle bundle`, sneakernet (a USB stick, a laptop
 * walked over) between stations that may never be online together:
 * `create` cuts the ops a peer is likely missing into a signed bundle
 * (carry.c), `apply` and `show` are in cmd_bundle_apply.c.
 *
 * Which set `create` cuts from:
 *   --scope PATH  everything this station holds within PATH;
 *   --for PEER    what PEER can use or carry on: its own path when that
 *                 lies within ours (a hub writing for a community),
 *                 else the narrowest path holding both (a station for
 *                 its street hub or the district: the hub's path; for a
 *                 neighbour of the same street: the street, so the
 *                 neighbour carries our cases on, as in the neighbour
 *                 relay). --scope replaces it. Ops PEER is known
 *                 to hold (carry.h: learnt by sync or from a bundle it
 *                 wrote) are left out unless --full.
 * A named file is written as FILE.tmp, fsync'd and renamed, so a USB
 * stick pulled out early never holds half a bundle under the real name.
 */
#include "bundle_int.h"
#include "carry.h"
#include "json.h"
#include "roster.h"
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BFILE_MAX ((uint64_t)2 << 30) /* 2 GiB, as import */

int cmd_bundle_apply(struct cli *c, int argc, char **argv);
int cmd_bundle_show(struct cli *c, int argc, char **argv);

static const char group_help[] =
	"usage: whistle bundle create (--for PEER | --scope PATH) [--since TIME]\n"
	"                             [--max-bytes N] [--full] -o FILE\n"
	"       whistle bundle apply FILE\n"
	"       whistle bundle show FILE\n"
	"\n"
	"Carry signed ops on a USB stick or a laptop between stations that are\n"
	"never online together: a bundle is versioned, checksummed and signed\n"
	"by the station that wrote it; urgent cases come first.\n"
	"\n";

static const char create_help[] =
	"usage: whistle bundle create (--for PEER | --scope PATH) [--since TIME]\n"
	"                             [--max-bytes N] [--full] [--quiet] -o FILE\n"
	"\n"
	"Write the ops the other side is likely missing to a bundle FILE,\n"
	"signed with this station's key: urgent cases first, then high,\n"
	"documents (problem lists), normal and low; each case whole or not at\n"
	"all; the district's rosters first; attachments while they fit.\n"
	"\n"
	"  --for PEER       a trust-list or roster name, or a key: cut from\n"
	"                   PEER's path if it lies within ours, else the\n"
	"                   narrowest path holding both (a neighbour of the\n"
	"                   street gets the street, to carry on); leave out\n"
	"                   what PEER is known to hold (from the last sync, or\n"
	"                   a bundle it wrote)\n"
	"  --scope PATH     everything held within PATH (with --for: cut from\n"
	"                   PATH instead of from PEER's path)\n"
	"  --since TIME     only cases with a change stamped at or after TIME\n"
	"                   (each such case whole); 'now', ms, or 2026-11-23 10:00\n"
	"  --max-bytes N    cap the file at N bytes (suffix K, M or G): cases\n"
	"                   that do not fit are left out whole, and counted\n"
	"  --full           ignore what PEER is known to hold\n"
	"  --quiet          no progress line\n"
	"  -o FILE          where to write (appears complete or not at all)\n"
	"\n"
	"Prints what went in; --json prints it as an object.\n";

/* ---- shared helpers (bundle_int.h) ---------------------------------- */

int bfile_read(const struct cli *c, const char *file, struct bfile *f)
{
	memset(f, 0, sizeof *f);
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cli_fail(c, "%s: %s", file, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int err = errno;
		close(fd);
		return cli_fail(c, "%s: %s", file,
				err ? strerror(err) : "not a regular file");
	}
	if ((uint64_t)st.st_size > BFILE_MAX) {
		close(fd);
		return cli_fail(c, "%s: too large (at most 2 GiB)", file);
	}
	f->n = (size_t)st.st_size;
	if (f->n) {
		void *m = mmap(NULL, f->n, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			f->p = m;
			f->mapped = 1;
		}
	}
	if (!f->mapped && f->n) {
		f->p = wh_xmalloc(f->n);
		size_t got = 0;
		while (got < f->n) {
			ssize_t r = read(fd, f->p + got, f->n - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		f->n = got;
	}
	close(fd);
	return CLI_OK;
}

void bfile_free(struct bfile *f)
{
	if (f->mapped)
		munmap(f->p, f->n);
	else
		free(f->p);
	memset(f, 0, sizeof *f);
}

int bundle_refused(const struct cli *c, const char *file, int rc, size_t off,
		   size_t size, const char *nothing)
{
	switch (rc) {
	case WH_ECHECKSUM:
		return cli_fail(c, "%s: checksum mismatch (the file was "
				   "damaged or changed); %s",
				file, nothing);
	case WH_ETRUNC:
		return cli_fail(c, "%s: truncated at byte %zu of %zu (an "
				   "incomplete copy?); %s",
				file, off, size, nothing);
	case WH_ESIG:
		return cli_fail(c, "%s: signature does not verify (forged, or "
				   "changed after it was signed); %s",
				file, nothing);
	case WH_EVERSION:
		return cli_fail(c, "%s: op file version not supported by this "
				   "whistle; %s",
				file, nothing);
	case WH_EDECODE:
		if (off == 0)
			return cli_fail(c, "%s: not a whistle bundle; %s", file,
					nothing);
		/* fall through */
	default:
		return cli_fail(c, "%s: %s at byte %zu; %s", file,
				wh_strerror(rc), off, nothing);
	}
}

static int roster_who(struct cli *c, const uint8_t pk[WH_PK_BYTES],
		      const struct wh_slice *rosters, size_t nr, char *name,
		      char *path)
{
	struct wh_roster_set *rs = wh_xcalloc(1, sizeof *rs);
	int found = 0;
	if (wh_store_roster_set(c->store, rs) == WH_OK) {
		/* The bundle's rosters, as installing them would (the
		 * authority's comes first), in memory only. */
		for (size_t i = 0; i < nr; i++) {
			struct wh_roster r;
			if (wh_roster_decode(rosters[i].p, rosters[i].n, &r) ==
				    WH_OK &&
			    wh_roster_set_check(rs, &r, NULL) == WH_OK)
				wh_roster_set_take(rs, &r);
			wh_roster_fini(&r);
		}
		const struct wh_grant *g;
		found = wh_roster_member_now(rs, pk, wh_clock_realtime(NULL),
					     &g)
			       ? 1
			       : -1;
		if (found > 0) {
			snprintf(name, WH_NET_NAME_MAX + 1, "%s", g->name);
			snprintf(path, WH_PATH_MAX + 1, "%s", g->path);
		}
		wh_roster_set_fini(rs);
	}
	free(rs);
	return found; /* 0: lab mode, no roster */
}

int bundle_who_with(struct cli *c, const uint8_t pk[WH_PK_BYTES],
		    const struct wh_slice *rosters, size_t n,
		    char name[WH_NET_NAME_MAX + 1], char path[WH_PATH_MAX + 1])
{
	name[0] = path[0] = '\0';
	if (c->key && !memcmp(pk, c->key->pk, WH_PK_BYTES)) {
		snprintf(name, WH_NET_NAME_MAX + 1, "%s", c->conf.station);
		snprintf(path, WH_PATH_MAX + 1, "%s", c->conf.path);
		return 1;
	}
	/* Bound to an authority: the roster says who belongs, as it does
	 * for connections (agent_roster.c); the trust list is lab use. */
	int r = roster_who(c, pk, rosters, n, name, path);
	if (r)
		return r > 0;
	struct trust t;
	if (trust_load(c, &t) != CLI_OK)
		return 0;
	const struct wh_net_peer *p = trust_by_key(&t, pk);
	if (p) {
		snprintf(name, WH_NET_NAME_MAX + 1, "%s", p->name);
		snprintf(path, WH_PATH_MAX + 1, "%s", p->path);
	}
	trust_fini(&t);
	return p != NULL;
}

int bundle_who(struct cli *c, const uint8_t pk[WH_PK_BYTES],
	       char name[WH_NET_NAME_MAX + 1], char path[WH_PATH_MAX + 1])
{
	return bundle_who_with(c, pk, NULL, 0, name, path);
}

/* ---- create --------------------------------------------------------- */

/* The narrowest path holding both a and b ("" if none). */
static void path_lca(const char *a, const char *b, char out[WH_PATH_MAX + 1])
{
	size_t n = 0, last = 0;
	while (a[n] && a[n] == b[n]) {
		n++;
		if ((a[n] == '/' || !a[n]) && (b[n] == '/' || !b[n]))
			last = n;
	}
	memcpy(out, a, last);
	out[last] = '\0';
}

/* PEER of --for: a key in hex, a trust-list name, or a roster member's
 * name. CLI_OK with its key and path, or a usage message. */
static int peer_find(struct cli *c, const char *spec,
		     uint8_t pk[WH_PK_BYTES], char name[WH_NET_NAME_MAX + 1],
		     char path[WH_PATH_MAX + 1])
{
	if (strlen(spec) == 2 * WH_PK_BYTES &&
	    wh_unhex(spec, pk, WH_PK_BYTES) == WH_OK) {
		if (bundle_who(c, pk, name, path))
			return CLI_OK;
		return cli_usage(c, "--for %.16s...: not a key this station "
				    "trusts (trust list or roster)",
				 spec);
	}
	struct trust t;
	if (trust_load(c, &t) != CLI_OK)
		return CLI_FAIL;
	const struct wh_net_peer *p = trust_by_name(&t, spec);
	if (p)
		memcpy(pk, p->pk, WH_PK_BYTES);
	trust_fini(&t);
	int found = p != NULL;
	struct wh_roster_set *rs = wh_xcalloc(1, sizeof *rs);
	if (!found && wh_store_roster_set(c->store, rs) == WH_OK) {
		const struct wh_roster *all[1 + WH_ROSTER_MAX_DELEGATES];
		all[0] = &rs->root;
		for (uint32_t d = 0; d < rs->ndel; d++)
			all[1 + d] = &rs->del[d];
		for (uint32_t r = 0; r <= rs->ndel && !found; r++)
			for (uint32_t i = 0; i < all[r]->ngrants && !found; i++)
				if (!strcmp(all[r]->grants[i].name, spec)) {
					memcpy(pk, all[r]->grants[i].key,
					       WH_PK_BYTES);
					found = 1;
				}
		wh_roster_set_fini(rs);
	}
	free(rs);
	if (found && bundle_who(c, pk, name, path))
		return CLI_OK;
	return cli_usage(c, "--for '%s': no such peer in the trust list or "
			    "the roster (a name, or a key in hex)",
			 spec);
}

static int parse_bytes(const struct cli *c, const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return cli_usage(c, "--max-bytes '%s': a number of bytes", s);
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M')
		shift = 20;
	else if (*end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (errno || *end || v == 0 || v > (UINT64_MAX >> shift))
		return cli_usage(c, "--max-bytes '%s': a number of bytes "
				    "(suffix K, M or G)",
				 s);
	*out = (uint64_t)v << shift;
	return CLI_OK;
}

static void on_progress(void *ctx, const char *what, uint64_t done,
			uint64_t total)
{
	progress_verb(ctx, what);
	progress_update(ctx, done, total);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* FILE.tmp, fsync, rename, fsync the directory. */
static int write_file(const struct cli *c, const char *file,
		      const struct wh_buf *b)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", file) >= (int)sizeof tmp)
		return cli_usage(c, "-o %s: name too long", file);
	/* Cases carry residents' names and phone numbers: owner-only. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return cli_fail(c, "%s: %s", tmp, strerror(errno));
	int err = write_all(fd, b->p, b->len);
	if (!err && fsync(fd) != 0)
		err = errno;
	if (close(fd) != 0 && !err)
		err = errno;
	if (!err && rename(tmp, file) != 0)
		err = errno;
	if (err) {
		unlink(tmp);
		return cli_fail(c, "%s: %s", file, strerror(err));
	}
	snprintf(dir, sizeof dir, "%s", file);
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	cli_fsync_dir(slash ? dir : ".");
	return CLI_OK;
}

struct create_args {
	const char *file, *peer, *scope;
	uint64_t since, max;
	int full, quiet;
};

static int create_parse(struct cli *c, int argc, char **argv,
			struct create_args *x)
{
	static const struct cli_opt opts[] = {
		{"for", 0, 1},       {"scope", 0, 1}, {"since", 0, 1},
		{"max-bytes", 0, 1}, {"full", 0, 0},  {"quiet", 'q', 0},
		{"output", 'o', 1},  {NULL, 0, 0}};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	memset(x, 0, sizeof *x);
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return -1;
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s' (use -o "
					    "FILE)",
					 v);
		switch (which) {
		case 0: x->peer = v; break;
		case 1: x->scope = v; break;
		case 2:
			if (cli_parse_time(c, "--since", v, &x->since))
				return CLI_USAGE;
			break;
		case 3:
			if (parse_bytes(c, v, &x->max))
				return CLI_USAGE;
			break;
		case 4: x->full = 1; break;
		case 5: x->quiet = 1; break;
		case 6: x->file = v; break;
		}
	}
	if (!x->peer && !x->scope)
		return cli_usage(c, "say what to carry: --for PEER or --scope "
				    "PATH");
	if (x->scope && !wh_path_valid(x->scope, strlen(x->scope)))
		return cli_usage(c, "--scope '%s': not a jurisdiction path",
				 x->scope);
	if (!x->file || !strcmp(x->file, "-"))
		return cli_usage(c, "missing -o FILE (a bundle goes to a file)");
	if (x->full && !x->peer)
		return cli_usage(c, "--full goes with --for PEER");
	return CLI_OK;
}

static void create_report(struct cli *c, const struct create_args *x,
			  const char *scope, const char *pname,
			  const struct carry_result *r)
{
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "file", x->file);
		json_kstr(&j, "scope", scope);
		json_kstr(&j, "for", pname);
		json_kuint(&j, "ops", r->ops);
		json_kuint(&j, "cases", r->cases);
		json_kuint(&j, "urgent", r->urgent);
		json_kuint(&j, "left_out", r->left_out);
		json_kuint(&j, "known", r->known);
		json_kuint(&j, "rosters", r->rosters);
		json_kuint(&j, "attachments", r->blobs);
		json_kuint(&j, "attachments_missing", r->blobs_missing);
		json_kuint(&j, "attachments_left", r->blobs_left);
		json_kuint(&j, "bytes", r->bytes);
		json_obj_end(&j);
		json_end(&j);
		return;
	}
	printf("wrote %s: %" PRIu64 " ops of %" PRIu64 " cases (%" PRIu64
	       " urgent), %" PRIu64 " rosters, %" PRIu64
	       " attachments, %" PRIu64 " bytes; scope %s%s%s\n",
	       x->file, r->ops, r->cases, r->urgent, r->rosters, r->blobs,
	       r->bytes, scope, *pname ? ", for " : "", pname);
	if (r->known)
		printf("  %" PRIu64 " ops left out: %s holds them already\n",
		       r->known, pname);
	if (r->left_out)
		printf("  %" PRIu64 " cases left out: they do not fit in "
		       "--max-bytes %" PRIu64 "\n",
		       r->left_out, x->max);
	if (r->blobs_left)
		printf("  %" PRIu64 " attachments left out: they do not fit\n",
		       r->blobs_left);
	if (r->blobs_missing)
		printf("  %" PRIu64 " attachments not held here (not yet "
		       "fetched, or erased): not carried\n",
		       r->blobs_missing);
}

static int cmd_bundle_create(struct cli *c, int argc, char **argv)
{
	struct create_args x;
	int rc = create_parse(c, argc, argv, &x);
	if (rc < 0)
		return cli_help(create_help);
	if (rc)
		return rc;
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	uint8_t pk[WH_PK_BYTES];
	char pname[WH_NET_NAME_MAX + 1] = "", ppath[WH_PATH_MAX + 1] = "";
	char scope[WH_PATH_MAX + 1];
	struct carry_peer known;
	memset(&known, 0, sizeof known);
	if (x.peer) {
		if ((rc = peer_find(c, x.peer, pk, pname, ppath)))
			return rc;
		if (!memcmp(pk, c->key->pk, WH_PK_BYTES))
			return cli_usage(c, "--for names this station");
		if (!x.full && (rc = carry_peer_get(c->store, pk, &known)) &&
		    rc != WH_ENOTFOUND)
			return cli_fail(c, "store: %s", wh_strerror(rc));
	}
	if (x.scope) {
		snprintf(scope, sizeof scope, "%s", x.scope);
	} else if (wh_path_within(ppath, strlen(ppath), c->conf.path,
				  strlen(c->conf.path))) {
		snprintf(scope, sizeof scope, "%s", ppath);
	} else {
		path_lca(c->conf.path, ppath, scope);
		if (!scope[0])
			return cli_usage(c, "--for %s: its path %s shares "
					    "nothing with ours (%s); say "
					    "--scope PATH",
					 pname, ppath, c->conf.path);
	}
	struct progress pr;
	progress_start(&pr, "bundle create", NULL, "ops", x.quiet || c->json);
	struct carry_opts o = {
		.scope = scope,
		.known = &known,
		.since_ms = x.since,
		.max_bytes = x.max,
		.for_pk = x.peer ? pk : NULL,
		.writer_path = c->conf.path,
		.now_ms = wh_clock_realtime(NULL),
		.progress = on_progress,
		.ctx = &pr,
	};
	struct carry_result r;
	struct wh_buf b = {0};
	rc = carry_build(c->store, c->key, &o, &b, &r);
	progress_end(&pr);
	if (rc == WH_ETOOBIG) {
		wh_buf_fini(&b);
		return cli_usage(c, "--max-bytes %" PRIu64 " cannot hold even "
				    "the header and the district's rosters "
				    "(%" PRIu64 " bytes at least)",
				 x.max, r.need_min);
	}
	if (rc != WH_OK) {
		wh_buf_fini(&b);
		return cli_fail(c, "store: %s", wh_strerror(rc));
	}
	rc = write_file(c, x.file, &b);
	wh_buf_fini(&b);
	if (rc == CLI_OK)
		create_report(c, &x, scope, pname, &r);
	return rc;
}

int cmd_bundle(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd tab[] = {
		{"create", cmd_bundle_create,
		 "write what a peer is likely missing to a signed file"},
		{"apply", cmd_bundle_apply,
		 "verify a bundle and add its ops (twice changes nothing)"},
		{"show", cmd_bundle_show, "describe a bundle without applying"},
		{NULL, NULL, NULL},
	};
	return cli_group(c, tab, "bundle ", group_help, argc, argv);
}
