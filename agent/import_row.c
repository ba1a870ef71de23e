/*
 * import_row.c: the columns of `whistle case import` and the checks of
 * one row's values on their own, before the store is asked anything.
 *
 * The limits are the op format's own (wh_field_max), so a value that
 * passes here cannot fail the build later for its length; the command
 * still probes each row's ops (cli_probe_drafts) as the last word. Every
 * refusal names the column and shows the value, cut to a readable
 * length at a character boundary (a 16 KiB description is not echoed).
 */
#include "import.h"

#include "mp.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct col {
	const char *name;
	const char *alias; /* what a Chinese header says */
	uint8_t key;	   /* the op field a text column sets; 0: other */
} cols[IMP_NCOLS] = {
    [IMP_ID] = {"id", "编号", 0},
    [IMP_EXTREF] = {"external_ref", "工单号", WH_F_EXTREF},
    [IMP_TITLE] = {"title", "标题", WH_F_TITLE},
    [IMP_DESCRIPTION] = {"description", "描述", WH_F_DESCRIPTION},
    [IMP_CATEGORY] = {"category", "类别", WH_F_CATEGORY},
    [IMP_ADDRESS] = {"address", "地址", WH_F_ADDRESS},
    [IMP_SOURCE] = {"source", "来源", 0},
    [IMP_PRIORITY] = {"priority", "优先级", 0},
    [IMP_REPORTER] = {"reporter", "反映人", WH_F_REPORTER},
    [IMP_CONTACT] = {"contact", "联系方式", WH_F_CONTACT},
    [IMP_LAT] = {"lat", "纬度", 0},
    [IMP_LON] = {"lon", "经度", 0},
    [IMP_GRID] = {"grid", "网格", 0},
    [IMP_PATH] = {"path", "路径", 0},
    [IMP_STATUS] = {"status", "状态", 0},
    [IMP_TAGS] = {"tags", "标签", 0},
    [IMP_CREATED] = {"created", "登记时间", 0},
};

static int blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static void trim(const char **p, size_t *n)
{
	while (*n && blank(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && blank((*p)[*n - 1]))
		(*n)--;
}

int imp_col_find(const char *name, size_t n)
{
	trim(&name, &n);
	for (unsigned i = 0; i < IMP_NCOLS; i++) {
		if (strlen(cols[i].name) == n &&
		    !strncasecmp(cols[i].name, name, n))
			return (int)i;
		if (strlen(cols[i].alias) == n &&
		    !memcmp(cols[i].alias, name, n))
			return (int)i;
	}
	return -1;
}

const char *imp_col_name(unsigned col)
{
	return col < IMP_NCOLS ? cols[col].name : "?";
}

void imp_col_list(char *out, size_t outn)
{
	size_t at = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < IMP_NCOLS && at < outn; i++)
		at += (size_t)snprintf(out + at, outn - at, "%s%s",
				       i ? ", " : "", cols[i].name);
}

void imp_row_reset(struct imp_row *r, unsigned long line)
{
	wh_buf_reset(&r->buf);
	memset(r->given, 0, sizeof r->given);
	r->line = line;
}

void imp_row_fini(struct imp_row *r)
{
	wh_buf_fini(&r->buf);
	memset(r, 0, sizeof *r);
}

void imp_row_set(struct imp_row *r, unsigned col, const char *p, size_t n)
{
	if (col >= IMP_NCOLS)
		return;
	trim(&p, &n);
	r->given[col] = n > 0;
	if (!n)
		return;
	r->off[col] = r->buf.len;
	wh_buf_reserve(&r->buf, n + 1);
	for (size_t i = 0; i < n; i++)
		if (!(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n'))
			r->buf.p[r->buf.len++] = (uint8_t)p[i];
	r->len[col] = r->buf.len - r->off[col];
	r->buf.p[r->buf.len++] = '\0';
}

const char *imp_row_get(const struct imp_row *r, unsigned col, size_t *n)
{
	if (col >= IMP_NCOLS || !r->given[col])
		return NULL;
	if (n)
		*n = r->len[col];
	return (const char *)r->buf.p + r->off[col];
}

void imp_vals_fini(struct imp_vals *v)
{
	wh_buf_fini(&v->loc);
	wh_buf_fini(&v->tagbuf);
	memset(v, 0, sizeof *v);
}

CLI_PRINTF(3, 4)
static int say(char *why, size_t whyn, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whyn, fmt, ap);
	va_end(ap);
	return WH_EINVAL;
}

/* s for a message: at most ~60 bytes, cut before a UTF-8 lead byte, line
 * ends shown as spaces, "…" when cut. s is valid UTF-8. */
static void shown(const char *s, char out[80])
{
	size_t n = strlen(s), cut = n;
	if (n > 60) {
		cut = 60;
		while (cut && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
	}
	size_t k = 0;
	for (size_t i = 0; i < cut; i++)
		out[k++] = (s[i] == '\n' || s[i] == '\t') ? ' ' : s[i];
	if (cut < n) {
		memcpy(out + k, "…", strlen("…"));
		k += strlen("…");
	}
	out[k] = '\0';
}

static int enum_val(const char *col, const char *s, int (*parse)(const char *),
		    const char *(*name)(unsigned),
		    const char *(*label)(unsigned), int *out, char *why,
		    size_t whyn)
{
	if ((*out = parse(s)) >= 0)
		return WH_OK;
	char list[256] = "", v[80];
	for (unsigned i = 0; name(i); i++) {
		size_t n = strlen(list);
		snprintf(list + n, sizeof list - n, "%s%s (%s)", i ? ", " : "",
			 name(i), label(i));
	}
	shown(s, v);
	return say(why, whyn, "%s '%s': not one of %s", col, v, list);
}

static int degrees(const struct imp_row *r, unsigned col, double limit,
		   int64_t *e7, char *why, size_t whyn)
{
	const char *s = imp_row_get(r, col, NULL);
	int rc = cli_degrees(s, limit, e7);
	if (rc == WH_OK)
		return WH_OK;
	char v[80];
	shown(s, v);
	if (rc == WH_EDECODE)
		return say(why, whyn,
			   "%s '%s': not a decimal number of "
			   "degrees",
			   cols[col].name, v);
	return say(why, whyn, "%s '%s': out of range (-%g .. %g)",
		   cols[col].name, v, limit, limit);
}

/* grid or path into v->path. */
static int place(const struct imp_row *r, const struct cli_conf *conf,
		 struct imp_vals *v, char *why, size_t whyn)
{
	const char *grid = imp_row_get(r, IMP_GRID, NULL);
	const char *path = imp_row_get(r, IMP_PATH, NULL);
	char g[80];
	if (grid && path)
		return say(why, whyn, "grid and path: give one, not both");
	if (grid) {
		shown(grid, g);
		if (strchr(grid, '/') || !wh_path_valid(grid, strlen(grid)))
			return say(why, whyn,
				   "grid '%s': not a grid name (lower-case "
				   "[a-z0-9_-], at most %u bytes, no '/')",
				   g, WH_PART_MAX);
		int n = snprintf(v->path, sizeof v->path, "%s/%s", conf->path,
				 grid);
		if (n < 0 || (size_t)n >= sizeof v->path ||
		    !wh_path_valid(v->path, (size_t)n))
			return say(why, whyn,
				   "grid '%s': the case path %s/%s would be "
				   "too long or too deep",
				   g, conf->path, g);
		v->has_path = 1;
	}
	if (path) {
		shown(path, g);
		size_t n = strlen(path);
		if (!wh_path_valid(path, n))
			return say(why, whyn,
				   "path '%s': not a jurisdiction "
				   "path (e.g. %s/g07)",
				   g, conf->path);
		if (!wh_path_within(path, n, conf->path, strlen(conf->path)))
			return say(why, whyn,
				   "path '%s': outside this "
				   "station's path %s",
				   g, conf->path);
		memcpy(v->path, path, n + 1);
		v->has_path = 1;
	}
	return WH_OK;
}

static int is_sep(const char *s, size_t *len)
{
	/* ASCII , and ; and their full-width forms ， and ； */
	if (*s == ',' || *s == ';') {
		*len = 1;
		return 1;
	}
	if (!strncmp(s, "，", 3) || !strncmp(s, "；", 3)) {
		*len = 3;
		return 1;
	}
	return 0;
}

static int tag_dup(const struct imp_vals *v, const char *t, size_t n)
{
	for (size_t i = 0; i < v->ntags; i++)
		if (strlen(v->tags[i]) == n && !memcmp(v->tags[i], t, n))
			return 1;
	return 0;
}

static int tags(const struct imp_row *r, struct imp_vals *v, char *why,
		size_t whyn)
{
	const char *s = imp_row_get(r, IMP_TAGS, NULL);
	if (!s)
		return WH_OK;
	/* Offsets first, pointers after: the buffer may move while it
	 * grows. */
	size_t offs[IMP_MAX_TAGS];
	uint64_t max = wh_field_max(WH_F_TAG);
	while (*s) {
		size_t n = 0, sl = 0;
		while (s[n] && !is_sep(s + n, &sl))
			n++;
		const char *t = s;
		size_t tn = n;
		s += n;
		if (*s)
			s += sl;
		trim(&t, &tn);
		if (!tn || tag_dup(v, t, tn))
			continue;
		char sh[80];
		char *tmp = wh_xstrndup(t, tn);
		shown(tmp, sh);
		free(tmp);
		if (tn > max)
			return say(why, whyn,
				   "tags: '%s' is %zu bytes, at most "
				   "%llu",
				   sh, tn, (unsigned long long)max);
		if (v->ntags == IMP_MAX_TAGS)
			return say(why, whyn, "tags: more than %u",
				   IMP_MAX_TAGS);
		offs[v->ntags++] = v->tagbuf.len;
		wh_buf_append(&v->tagbuf, t, tn);
		wh_buf_append(&v->tagbuf, "", 1);
		for (size_t i = 0; i < v->ntags; i++)
			v->tags[i] = (const char *)v->tagbuf.p + offs[i];
	}
	return WH_OK;
}

/* The reference of a row without one: a hash of what was reported,
 * where, by whom and when; not of the workflow columns (status,
 * priority, category, tags, source, grid/path), so a later export of the
 * same report with a new status finds the case instead of copying it. */
static void derive_ref(const struct imp_vals *v, char out[24])
{
	static const unsigned parts[] = {
	    IMP_TITLE, IMP_DESCRIPTION, IMP_ADDRESS, IMP_REPORTER, IMP_CONTACT};
	static const uint8_t keys[] = {WH_F_TITLE, WH_F_DESCRIPTION,
				       WH_F_ADDRESS, WH_F_REPORTER,
				       WH_F_CONTACT};
	struct wh_hasher h;
	wh_hasher_init(&h);
	wh_hasher_update(&h, (const uint8_t *)"whistle-import-v1", 18);
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		const char *s = v->str[keys[i]] ? v->str[keys[i]] : "";
		wh_hasher_update(&h, (const uint8_t *)s, strlen(s) + 1);
	}
	char loc[64] = "";
	if (v->has_loc)
		snprintf(loc, sizeof loc, "%lld,%lld", (long long)v->lat_e7,
			 (long long)v->lon_e7);
	wh_hasher_update(&h, (const uint8_t *)loc, strlen(loc) + 1);
	const char *cr = v->created ? v->created : "";
	wh_hasher_update(&h, (const uint8_t *)cr, strlen(cr) + 1);
	uint8_t id[WH_ID_BYTES];
	wh_hasher_final(&h, id);
	char hex[13];
	wh_hex(id, 6, hex);
	snprintf(out, 24, "%s%s", IMP_REF_PREFIX, hex);
}

/* Every given value is UTF-8 text within its column's limit. */
static int text_ok(const struct imp_row *r, char *why, size_t whyn)
{
	for (unsigned col = 0; col < IMP_NCOLS; col++) {
		size_t n;
		const char *s = imp_row_get(r, col, &n);
		if (!s)
			continue;
		/* wh_utf8_valid refuses NUL bytes too. A file saved from
		 * Excel as plain "CSV" on a Chinese Windows is GBK: say
		 * so, since that is the usual cause. */
		if (!wh_utf8_valid((const uint8_t *)s, n))
			return say(why, whyn,
				   "%s: not valid UTF-8 text (a file saved "
				   "as GBK? save it as \"CSV UTF-8\")",
				   cols[col].name);
		uint64_t max = cols[col].key ? wh_field_max(cols[col].key)
			       : col == IMP_CREATED ? IMP_CREATED_MAX
			       : col == IMP_TAGS    ? IMP_TAGS_MAX
						    : WH_PATH_MAX;
		if (n > max)
			return say(why, whyn, "%s: %zu bytes, at most %llu",
				   cols[col].name, n, (unsigned long long)max);
	}
	return WH_OK;
}

int imp_row_check(const struct imp_row *r, const struct cli_conf *conf,
		  struct imp_vals *v, char *why, size_t whyn)
{
	memset(v, 0, sizeof *v);
	v->source = v->priority = v->status = -1;
	int rc = text_ok(r, why, whyn);
	if (rc)
		return rc;
	for (unsigned col = 0; col < IMP_NCOLS; col++)
		if (cols[col].key)
			v->str[cols[col].key] = imp_row_get(r, col, NULL);
	v->created = imp_row_get(r, IMP_CREATED, NULL);
	const char *s, *lat, *lon;
	if ((s = imp_row_get(r, IMP_ID, NULL))) {
		if (wh_case_id_parse(s, v->code, &v->seq) != WH_OK) {
			char sh[80];
			shown(s, sh);
			return say(why, whyn,
				   "id '%s': not a case id (expected "
				   "CODE-NNNNNN, e.g. %s-000012)",
				   sh, conf->code);
		}
		v->has_id = 1;
	}
	if ((s = imp_row_get(r, IMP_SOURCE, NULL)) &&
	    (rc = enum_val("source", s, wh_source_parse, wh_source_name,
			   wh_source_label, &v->source, why, whyn)))
		return rc;
	if ((s = imp_row_get(r, IMP_PRIORITY, NULL)) &&
	    (rc = enum_val("priority", s, wh_priority_parse, wh_priority_name,
			   wh_priority_label, &v->priority, why, whyn)))
		return rc;
	if ((s = imp_row_get(r, IMP_STATUS, NULL)) &&
	    (rc = enum_val("status", s, wh_status_parse, wh_status_name,
			   wh_status_label, &v->status, why, whyn)))
		return rc;
	lat = imp_row_get(r, IMP_LAT, NULL);
	lon = imp_row_get(r, IMP_LON, NULL);
	if (!lat != !lon)
		return say(why, whyn, "lat and lon go together (%s is empty)",
			   lat ? "lon" : "lat");
	if (lat) {
		if ((rc = degrees(r, IMP_LAT, 90, &v->lat_e7, why, whyn)) ||
		    (rc = degrees(r, IMP_LON, 180, &v->lon_e7, why, whyn)))
			return rc;
		v->has_loc = 1;
		wh_mpw_int(&v->loc, v->lat_e7);
		wh_mpw_int(&v->loc, v->lon_e7);
	}
	if ((rc = place(r, conf, v, why, whyn)) || (rc = tags(r, v, why, whyn)))
		return rc;
	derive_ref(v, v->ref);
	return WH_OK;
}
