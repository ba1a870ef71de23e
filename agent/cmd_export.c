/*
 * cmd_export.c: `whistle export` and `whistle import`, carrying ops
 * between stations in op files (crdt/opfile.h) until sync lands: a USB
 * stick or a laptop walked to the street office.
 *
 * Export streams: ops are appended to a buffer that is flushed every
 * MiB, so a large store never sits in memory twice. A named file is
 * written as FILE.tmp, fsync'd and renamed, so a reader never sees half.
 *
 * Import is all or nothing: the container (magic, header, checksum over
 * every byte) is checked before one op is looked at, then all ops go to
 * the store in one transaction that refuses the lot if any op fails its
 * decode, clock, signature or roster check. Messages say where: the op's
 * number and byte offset. --skip-refused stores what passes instead and
 * names each op refused with its reason: how a file from a PC whose key
 * was revoked while it was offline is taken in (its ops from before the
 * revocation are valid).
 */
#include "cli.h"
#include "json.h"
#include "opfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define FLUSH_AT (1u << 20)
#define IMPORT_MAX ((uint64_t)2 << 30) /* 2 GiB */

static const char export_help[] =
	"usage: whistle export [-o FILE] [--scope PATH]\n"
	"\n"
	"Write every op held for cases within PATH (default: all) to an op\n"
	"file: FILE, or stdout when -o is absent or '-' (refused if stdout\n"
	"is a terminal). A named FILE appears complete or not at all.\n"
	"Prints 'exported N ops to FILE' on stderr (--json: a summary object\n"
	"on stdout when writing to a file).\n";

static const char import_help[] =
	"usage: whistle import [--skip-refused] FILE\n"
	"\n"
	"Read an op file ('-' for stdin) and add its ops to the store. The\n"
	"file's checksum is verified first, then every op's encoding, clock\n"
	"and signature, and in a home bound to a district authority the\n"
	"roster's rule (who may sign what): if anything fails, NOTHING is\n"
	"imported (all or none) and the error names the op, its byte offset\n"
	"and the reason. Ops already held are skipped. Prints 'imported: A\n"
	"new, K already held'.\n"
	"\n"
	"  --skip-refused  import the ops that pass and name each refused op\n"
	"                  with its reason (on stderr); prints 'imported: A\n"
	"                  new, K already held, R refused'. The file's\n"
	"                  checksum must still hold.\n";

/* Refused ops named one by one, then counted. */
#define REFUSED_SHOWN 20

struct out {
	int fd;
	const char *name; /* for messages */
	struct wh_buf buf;
	struct wh_opfile_writer w;
	uint64_t n;
	int err; /* errno of the first failed write */
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void flush(struct out *o)
{
	if (!o->err && o->buf.len)
		o->err = write_all(o->fd, o->buf.p, o->buf.len);
	wh_buf_reset(&o->buf);
}

static int export_op(void *ctx, const uint8_t *op, size_t n)
{
	struct out *o = ctx;
	wh_opfile_add(&o->w, &o->buf, op, n);
	o->n++;
	if (o->buf.len >= FLUSH_AT) {
		flush(o);
		if (o->err)
			return 1; /* stop the walk */
	}
	return 0;
}

static int export_write(struct cli *c, struct out *o, const char *scope)
{
	struct wh_opfile_hdr hdr;
	memset(&hdr, 0, sizeof hdr);
	hdr.version = WH_OPFILE_VERSION;
	hdr.created_ms = wh_clock_realtime(NULL);
	snprintf(hdr.scope, sizeof hdr.scope, "%s", scope);
	memcpy(hdr.writer, c->key->pk, WH_PK_BYTES);
	wh_opfile_begin(&o->w, &o->buf, &hdr);
	int rc = wh_store_each_op(c->store, scope, export_op, o);
	if (rc < 0)
		return cli_fail(c, "store: %s", wh_strerror(rc));
	wh_opfile_end(&o->w, &o->buf);
	flush(o);
	if (o->err)
		return cli_fail(c, "%s: %s", o->name, strerror(o->err));
	return CLI_OK;
}

int cmd_export(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"output", 'o', 1}, {"scope", 0, 1}, {NULL, 0, 0}};
	const char *file = NULL, *scope = "";
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which, rc;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(export_help);
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s' (use -o "
					    "FILE)",
					 v);
		if (which == 0)
			file = v;
		else
			scope = v;
	}
	if (*scope && !wh_path_valid(scope, strlen(scope)))
		return cli_usage(c, "--scope '%s': not a jurisdiction path",
				 scope);
	int to_stdout = !file || !strcmp(file, "-");
	if (to_stdout && isatty(STDOUT_FILENO))
		return cli_usage(c, "refusing to write a binary op file to a "
				    "terminal; use -o FILE or redirect");
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;

	struct out o;
	memset(&o, 0, sizeof o);
	char tmp[PATH_MAX];
	if (to_stdout) {
		fflush(stdout);
		o.fd = STDOUT_FILENO;
		o.name = "stdout";
		rc = export_write(c, &o, scope);
		wh_buf_fini(&o.buf);
		if (rc == CLI_OK)
			fprintf(stderr, "exported %" PRIu64 " ops to stdout\n",
				o.n);
		return rc;
	}
	if (snprintf(tmp, sizeof tmp, "%s.tmp", file) >= (int)sizeof tmp)
		return cli_usage(c, "-o %s: name too long", file);
	/* Cases carry residents' names and phone numbers: owner-only. */
	o.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (o.fd < 0)
		return cli_fail(c, "%s: %s", tmp, strerror(errno));
	o.name = file;
	rc = export_write(c, &o, scope);
	wh_buf_fini(&o.buf);
	if (rc == CLI_OK && fsync(o.fd) != 0)
		rc = cli_fail(c, "%s: %s", tmp, strerror(errno));
	if (close(o.fd) != 0 && rc == CLI_OK)
		rc = cli_fail(c, "%s: %s", tmp, strerror(errno));
	if (rc == CLI_OK && rename(tmp, file) != 0)
		rc = cli_fail(c, "%s: %s", file, strerror(errno));
	if (rc) {
		unlink(tmp);
		return rc;
	}
	/* Make the rename durable too. */
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", file);
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	cli_fsync_dir(slash ? dir : ".");
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "file", file);
		json_kuint(&j, "ops", o.n);
		json_kstr(&j, "scope", scope);
		json_obj_end(&j);
		json_end(&j);
	}
	fprintf(stderr, "exported %" PRIu64 " ops to %s\n", o.n, file);
	return CLI_OK;
}

/* ---- import ---- */

struct input {
	uint8_t *p;
	size_t n;
	int mapped;
};

static int read_input(const struct cli *c, const char *file, struct input *in)
{
	memset(in, 0, sizeof *in);
	int fd = strcmp(file, "-") ? open(file, O_RDONLY | O_CLOEXEC)
				   : STDIN_FILENO;
	if (fd < 0)
		return cli_fail(c, "%s: %s", file, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = errno;
		if (fd != STDIN_FILENO)
			close(fd);
		return cli_fail(c, "%s: %s", file, strerror(err));
	}
	if (S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > IMPORT_MAX) {
			if (fd != STDIN_FILENO)
				close(fd);
			return cli_fail(c, "%s: too large (%" PRIu64
					   " bytes; at most 2 GiB)",
					file, (uint64_t)st.st_size);
		}
		in->n = (size_t)st.st_size;
		if (in->n) {
			void *m = mmap(NULL, in->n, PROT_READ, MAP_PRIVATE, fd,
				       0);
			if (m != MAP_FAILED) {
				in->p = m;
				in->mapped = 1;
			}
		}
		if (in->mapped || in->n == 0) {
			if (fd != STDIN_FILENO)
				close(fd);
			return CLI_OK;
		}
		in->n = 0; /* mmap refused: read it instead */
	}
	struct wh_buf b = {0};
	for (;;) {
		wh_buf_reserve(&b, 1u << 16);
		ssize_t r = read(fd, b.p + b.len, b.cap - b.len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			wh_buf_fini(&b);
			if (fd != STDIN_FILENO)
				close(fd);
			return cli_fail(c, "%s: %s", file, strerror(err));
		}
		if (r == 0)
			break;
		b.len += (size_t)r;
		if (b.len > IMPORT_MAX) {
			wh_buf_fini(&b);
			if (fd != STDIN_FILENO)
				close(fd);
			return cli_fail(c, "%s: too large (at most 2 GiB)",
					file);
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	in->p = b.p;
	in->n = b.len;
	return CLI_OK;
}

static void input_free(struct input *in)
{
	if (in->mapped)
		munmap(in->p, in->n);
	else
		free(in->p);
}

/* Why the container was refused, in words a station worker can act on. */
static int container_err(const struct cli *c, const char *file, int rc,
			 size_t off, size_t size)
{
	switch (rc) {
	case WH_ECHECKSUM:
		return cli_fail(c, "%s: checksum mismatch (file damaged); "
				   "nothing imported",
				file);
	case WH_ETRUNC:
		return cli_fail(c, "%s: truncated at byte %zu (the record or "
				   "trailer there runs past the end, %zu bytes; "
				   "incomplete copy?); nothing imported",
				file, off, size);
	case WH_EVERSION:
		return cli_fail(c, "%s: op file version not supported by this "
				   "whistle; nothing imported",
				file);
	case WH_EDECODE:
		if (off == 0)
			return cli_fail(c, "%s: not a whistle op file; nothing "
					   "imported",
					file);
		/* fall through */
	default:
		return cli_fail(c, "%s: %s at byte %zu; nothing imported", file,
				wh_strerror(rc), off);
	}
}

/* With --skip-refused: each refused op on stderr (the first
 * REFUSED_SHOWN), with its author and case, which say whose and what. */
static void refused_list(const struct cli *c, const char *file,
			 const struct wh_slice *ops, const size_t *offs,
			 const int *res, size_t k)
{
	size_t shown = 0, n = 0;
	for (size_t i = 0; i < k; i++) {
		if (res[i] == WH_OK || res[i] == WH_EEXIST)
			continue;
		if (n++ >= REFUSED_SHOWN)
			continue;
		struct wh_op op;
		char who[16] = "?", id[WH_CASE_ID_MAX] = "?";
		if (wh_op_decode(ops[i].p, ops[i].n, &op) == WH_OK) {
			cli_author(c, op.author, who);
			wh_case_id_format(op.code, op.seq, id);
		}
		cli_fail(c, "%s: op #%zu at byte %zu (%s, by %s): refused: %s",
			 file, i + 1, offs[i], id, who, wh_strerror(res[i]));
		shown++;
	}
	if (n > shown)
		cli_fail(c, "%s: and %zu more refused", file, n - shown);
}

static int import_ops(struct cli *c, const char *file, const struct input *in,
		      int skip)
{
	struct wh_opfile_hdr hdr;
	struct wh_opfile_reader rd;
	size_t off = 0;
	if (in->n == 0)
		return cli_fail(c, "%s: empty file, not a whistle op file; "
				   "nothing imported",
				file);
	int rc = wh_opfile_open(in->p, in->n, &hdr, &rd, &off);
	if (rc != WH_OK)
		return container_err(c, file, rc, off, in->n);
	/* A bundle carries rosters and content too, and a signer to check:
	 * that is bundle apply's job (cmd_bundle_apply.c). */
	if (hdr.version != WH_OPFILE_VERSION)
		return cli_fail(c, "%s: a bundle (op file version %u): use "
				   "'whistle bundle apply %s'; nothing imported",
				file, (unsigned)hdr.version, file);
	size_t n = (size_t)rd.count;
	struct wh_slice *ops = wh_xcalloc(n, sizeof *ops);
	size_t *offs = wh_xcalloc(n, sizeof *offs);
	size_t k = 0;
	while (k < n && wh_opfile_next(&rd, &ops[k], &offs[k]))
		k++;
	struct wh_ingest_opts io = {
		.now_ms = wh_clock_realtime(NULL),
		.policy = NULL,
		.all_or_none = !skip,
	};
	struct wh_ingest_result res;
	memset(&res, 0, sizeof res);
	int *per = skip ? wh_xcalloc(k ? k : 1, sizeof *per) : NULL;
	rc = k ? wh_store_ingest(c->store, ops, k, &io, per, &res) : WH_OK;
	int out = CLI_OK;
	if (rc != WH_OK && res.refused && res.first_refused < k) {
		size_t i = res.first_refused;
		int why = res.first_refused_error ? res.first_refused_error : rc;
		out = cli_fail(c, "%s: op #%zu at byte %zu: %s; nothing imported"
				  "%s",
			       file, i + 1, offs[i], wh_strerror(why),
			       why <= WH_ENOMEMBER && why >= WH_ERR_MIN
				       ? " (refused by the roster; "
					 "--skip-refused takes in the rest)"
				       : "");
	} else if (rc != WH_OK) {
		out = cli_fail(c, "%s: store: %s; nothing imported", file,
			       wh_strerror(rc));
	} else if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kuint(&j, "added", res.added);
		json_kuint(&j, "known", res.known);
		json_kuint(&j, "refused", res.refused);
		json_kuint(&j, "ops", k);
		json_kstr(&j, "scope", hdr.scope);
		json_khex(&j, "writer", hdr.writer, WH_PK_BYTES);
		json_obj_end(&j);
		json_end(&j);
	} else if (skip) {
		printf("imported: %zu new, %zu already held, %zu refused\n",
		       res.added, res.known, res.refused);
	} else {
		printf("imported: %zu new, %zu already held\n", res.added,
		       res.known);
	}
	if (rc == WH_OK && skip && res.refused)
		refused_list(c, file, ops, offs, per, k);
	free(per);
	free(ops);
	free(offs);
	return out;
}

int cmd_import(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"skip-refused", 0, 0},
					      {NULL, 0, 0}};
	const char *file = NULL;
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which, rc, skip = 0;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(import_help);
		if (t == ARG_OPT) {
			skip = 1;
			continue;
		}
		if (file)
			return cli_usage(c, "unexpected argument '%s' (one "
					    "file at a time)",
					 v);
		file = v;
	}
	if (!file)
		return cli_usage(c, "missing FILE");
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE)))
		return rc;
	struct input in;
	if ((rc = read_input(c, file, &in)))
		return rc;
	rc = import_ops(c, file, &in, skip);
	input_free(&in);
	return rc;
}
