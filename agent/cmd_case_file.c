/*
 * cmd_case_file.c: photos and documents on a case (拍照上报):
 * `case attach ID FILE` stores the content under its hash and signs an
 * attach op naming it; `case file ID N -o OUT` writes the N-th
 * attachment's content out, once it is here (content syncs after the
 * text of the case, so a slow link brings the case first).
 */
#include "cli.h"
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* The media type people's files have, by extension; the console shows
 * images inline and offers the rest for download. */
static const char *mime_of(const char *name)
{
	static const struct {
		const char *ext, *mime;
	} m[] = {
	    {".jpg", "image/jpeg"},	 {".jpeg", "image/jpeg"},
	    {".png", "image/png"},	 {".heic", "image/heic"},
	    {".gif", "image/gif"},	 {".webp", "image/webp"},
	    {".pdf", "application/pdf"}, {".txt", "text/plain"},
	    {".mp4", "video/mp4"},	 {".doc", "application/msword"},
	    {".docx", "application/vnd.openxmlformats-officedocument."
		      "wordprocessingml.document"},
	    {".xls", "application/vnd.ms-excel"},
	    {".xlsx", "application/vnd.openxmlformats-officedocument."
		      "spreadsheetml.sheet"},
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof m / sizeof m[0]; i++)
		if (!strcasecmp(dot, m[i].ext))
			return m[i].mime;
	return "application/octet-stream";
}

/* Read a whole file of at most WH_BLOB_MAX_BYTES into b. */
static int read_file(const struct cli *c, const char *path, struct wh_buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return cli_fail(c, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fclose(f);
		return cli_fail(c, "%s: not a regular file", path);
	}
	if (st.st_size == 0 || (uint64_t)st.st_size > WH_BLOB_MAX_BYTES) {
		fclose(f);
		return cli_fail(c,
				"%s: %lld bytes; an attachment is 1 byte to "
				"%u MiB (附件过大)",
				path, (long long)st.st_size,
				WH_BLOB_MAX_BYTES >> 20);
	}
	wh_buf_reserve(b, (size_t)st.st_size);
	size_t got = fread(b->p, 1, (size_t)st.st_size, f);
	int bad = ferror(f) || got != (size_t)st.st_size;
	fclose(f);
	if (bad)
		return cli_fail(c, "%s: read failed", path);
	b->len = got;
	return CLI_OK;
}

/* The file name as stored: its last component, cut to the field limit
 * on a UTF-8 boundary. */
static void base_name(const char *path, char *out, size_t cap)
{
	const char *s = strrchr(path, '/');
	s = s ? s + 1 : path;
	size_t n = strlen(s);
	if (n >= cap)
		n = cap - 1;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(out, s, n);
	out[n] = '\0';
}

static const char attach_help[] =
	"usage: whistle case attach ID FILE [--name NAME] [--mime TYPE]\n"
	"\n"
	"Attach a photo or document (拍照上报) to a case: the content is kept\n"
	"by its hash and a signed step names it. Up to 8 MiB per file and 64\n"
	"files per case. Peers receive the case's text first and the content\n"
	"after it.\n";

int cmd_case_attach(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"name", 0, 1}, {"mime", 0, 1}, {NULL, 0, 0}};
	const char *pos[2] = {NULL, NULL}, *name = NULL, *mime = NULL;
	int npos = 0, t, which, rc;
	const char *v;
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(attach_help);
		if (t == ARG_POS) {
			if (npos == 2)
				return cli_usage(c, "unexpected argument '%s'",
						 v);
			pos[npos++] = v;
		} else if (which == 0) {
			name = v;
		} else {
			mime = v;
		}
	}
	if (npos != 2)
		return cli_usage(c, "give a case id and a file");
	char code[WH_CODE_MAX + 1], nm[256];
	uint32_t seq;
	if ((rc = cli_parse_case_id(c, pos[0], code, &seq)))
		return rc;
	base_name(name ? name : pos[1], nm, sizeof nm);
	if (!*nm || !wh_utf8_valid((const uint8_t *)nm, strlen(nm)))
		return cli_usage(c, "--name: give a file name in UTF-8");
	if (!mime)
		mime = mime_of(pos[1]);
	if (!*mime || strlen(mime) > wh_field_max(WH_F_MIME))
		return cli_usage(c, "--mime '%s': 1 to %u bytes", mime,
				 (unsigned)wh_field_max(WH_F_MIME));
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	struct wh_buf b = {0};
	if ((rc = read_file(c, pos[1], &b))) {
		wh_buf_fini(&b);
		return rc;
	}
	struct wh_case view;
	if ((rc = cli_case_load(c, code, seq, &view))) {
		wh_buf_fini(&b);
		return rc;
	}
	uint8_t hash[WH_ID_BYTES];
	wh_hash(b.p, b.len, hash);
	uint64_t size = b.len;
	/* The draft borrows its strings: keep the path past the view. */
	char path[WH_PATH_MAX + 1];
	snprintf(path, sizeof path, "%s", view.path ? view.path : c->conf.path);
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_ATTACH, code, seq, path);
	wh_draft_bin(&d, WH_F_BLOB, hash, WH_ID_BYTES);
	wh_draft_uint(&d, WH_F_SIZE, b.len);
	wh_draft_str(&d, WH_F_MIME, mime);
	wh_draft_str(&d, WH_F_NAME, nm);
	wh_draft_uint(&d, WH_F_SEEN, view.last_hlc);
	const char *why = NULL;
	int already = 0;
	for (uint32_t i = 0; i < view.flow.nfiles; i++)
		already |= !memcmp(view.flow.files[i].hash, hash, WH_ID_BYTES);
	if (!already) {
		/* Ask the fold's question of the op as it will be: build a
		 * throwaway copy (the store stamps and signs the real one). */
		struct wh_buf ob = {0};
		struct wh_op op;
		d.hlc = WH_HLC_MAKE(wh_clock_realtime(NULL), 0);
		rc = wh_op_build(&d, c->key, &ob);
		if (!rc)
			rc = wh_op_decode(ob.p, ob.len, &op);
		if (!rc)
			rc = wh_flow_check(&view, &op, &why);
		wh_buf_fini(&ob);
	}
	wh_case_fini(&view);
	if (already) {
		wh_buf_fini(&b);
		return cli_fail(c, "%s: this content is attached already", pos[0]);
	}
	if (rc) {
		wh_buf_fini(&b);
		return cli_fail(c, "%s: %s", pos[0], why ? why : wh_strerror(rc));
	}
	/* Content first: an op naming content we lack would only make us
	 * ask peers for it. */
	rc = wh_store_blob_put(c->store, b.p, b.len, NULL);
	wh_buf_fini(&b);
	if (rc && rc != WH_EEXIST)
		return cli_store_err(c, pos[1], rc);
	if ((rc = wh_store_author(c->store, c->key, &d, 1, wh_clock_realtime,
				  NULL, NULL, NULL)))
		return cli_store_err(c, pos[0], rc);
	char hex[2 * WH_ID_BYTES + 1];
	wh_hex(hash, WH_ID_BYTES, hex);
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "id", pos[0]);
		json_kstr(&j, "hash", hex);
		json_kstr(&j, "name", nm);
		json_kstr(&j, "mime", mime);
		json_kuint(&j, "size", size);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("%s: attached %s (%s, %" PRIu64 " bytes) %.16s…\n",
		       pos[0], nm, mime, size, hex);
	}
	return CLI_OK;
}

static const char file_help[] =
	"usage: whistle case file ID N [-o OUT]\n"
	"\n"
	"Write the content of the case's N-th attachment (1 = first, as\n"
	"'case show' lists them) to OUT, or to stdout. Fails while the\n"
	"content has not arrived yet (it syncs after the case's text).\n";

int cmd_case_file(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"out", 'o', 1}, {NULL, 0, 0}};
	const char *pos[2] = {NULL, NULL}, *out = NULL;
	int npos = 0, t, which, rc;
	const char *v;
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(file_help);
		if (t == ARG_POS) {
			if (npos == 2)
				return cli_usage(c, "unexpected argument '%s'",
						 v);
			pos[npos++] = v;
		} else {
			out = v;
		}
	}
	if (npos != 2)
		return cli_usage(c, "give a case id and an attachment number");
	char code[WH_CODE_MAX + 1];
	uint32_t seq, nth;
	if ((rc = cli_parse_case_id(c, pos[0], code, &seq)) ||
	    (rc = cli_parse_u32(c, "N", pos[1], &nth)))
		return rc;
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE)))
		return rc;
	struct wh_case view;
	if ((rc = cli_case_load(c, code, seq, &view)))
		return rc;
	if (nth == 0 || nth > view.flow.nfiles) {
		unsigned have = view.flow.nfiles;
		wh_case_fini(&view);
		return cli_fail(c, "%s has %u attachment(s); no number %s",
				pos[0], have, pos[1]);
	}
	uint8_t hash[WH_ID_BYTES];
	memcpy(hash, view.flow.files[nth - 1].hash, WH_ID_BYTES);
	wh_case_fini(&view);
	struct wh_buf b = {0};
	rc = wh_store_blob_get(c->store, hash, 0, 0, &b, NULL);
	if (rc == WH_ENOTFOUND) {
		wh_buf_fini(&b);
		return cli_fail(c, "%s: attachment %s has not arrived yet "
				   "(附件尚未同步到本站)",
				pos[0], pos[1]);
	}
	if (rc) {
		wh_buf_fini(&b);
		return cli_store_err(c, pos[0], rc);
	}
	FILE *f = out ? fopen(out, "wb") : stdout;
	if (!f) {
		wh_buf_fini(&b);
		return cli_fail(c, "%s: %s", out, strerror(errno));
	}
	int bad = fwrite(b.p, 1, b.len, f) != b.len;
	bad |= out ? fclose(f) != 0 : fflush(f) != 0;
	wh_buf_fini(&b);
	if (bad)
		return cli_fail(c, "%s: write failed", out ? out : "stdout");
	return CLI_OK;
}
