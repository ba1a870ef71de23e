/*
 * import_jsonl.c: one JSON Lines record of `whistle case import` into a
 * row, parsed by jansson (docs/architecture.md says why a library). The
 * only file that includes jansson.h: its json_* names clash with our
 * own writer's (json.h).
 *
 * jansson checks the text is UTF-8 and refuses \u0000 in strings; the
 * line's length is bounded by the caller, the nesting by jansson. Keys
 * repeated in one object are refused (which one would win is not
 * obvious), and so are two keys for one column ("title" and "标题").
 */
#include "import.h"

#include <jansson.h>
#include <string.h>

static int value(struct imp_row *r, int col, const char *key, json_t *val,
		 char *why, size_t whyn)
{
	char num[64];
	if (json_is_null(val))
		return WH_OK;
	if (json_is_string(val)) {
		imp_row_set(r, (unsigned)col, json_string_value(val),
			    json_string_length(val));
		return WH_OK;
	}
	/* A ticket number is often written as a number. */
	if (json_is_integer(val)) {
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(val));
		imp_row_set(r, (unsigned)col, num, strlen(num));
		return WH_OK;
	}
	if (json_is_real(val) && (col == IMP_LAT || col == IMP_LON)) {
		snprintf(num, sizeof num, "%.9f", json_real_value(val));
		imp_row_set(r, (unsigned)col, num, strlen(num));
		return WH_OK;
	}
	if (json_is_array(val) && col == IMP_TAGS) {
		/* ["a", "b"]: joined for the one splitter of import_row.c,
		 * so an element may not hold a separator itself. */
		struct wh_buf b = {0};
		size_t i;
		json_t *t;
		json_array_foreach(val, i, t)
		{
			const char *s = json_string_value(t);
			if (!s || strpbrk(s, ",;") || strstr(s, "，") ||
			    strstr(s, "；")) {
				wh_buf_fini(&b);
				snprintf(why, whyn,
					 "tags: element %zu is not "
					 "a tag (text without , "
					 "or ;)",
					 i + 1);
				return WH_EINVAL;
			}
			wh_buf_append(&b, s, strlen(s));
			wh_buf_append(&b, ";", 1);
		}
		imp_row_set(r, IMP_TAGS, (const char *)b.p, b.len);
		wh_buf_fini(&b);
		return WH_OK;
	}
	snprintf(why, whyn, "%s: expected text, got %s", key,
		 json_is_object(val)  ? "an object"
		 : json_is_array(val) ? "an array"
		 : json_is_real(val)  ? "a fraction"
				      : "true/false");
	return WH_EINVAL;
}

static int object(json_t *o, struct imp_row *r, char *why, size_t whyn)
{
	char list[256];
	const char *key;
	json_t *val;
	uint8_t seen[IMP_NCOLS] = {0};
	json_object_foreach(o, key, val)
	{
		int col = imp_col_find(key, strlen(key));
		if (col < 0) {
			imp_col_list(list, sizeof list);
			snprintf(why, whyn, "unknown key '%s' (known: %s)", key,
				 list);
			return WH_EINVAL;
		}
		if (seen[col]) {
			snprintf(why, whyn, "key '%s': column %s given twice",
				 key, imp_col_name((unsigned)col));
			return WH_EINVAL;
		}
		seen[col] = 1;
		int rc = value(r, col, key, val, why, whyn);
		if (rc)
			return rc;
	}
	return WH_OK;
}

int imp_jsonl_row(const char *p, size_t n, struct imp_row *r, char *why,
		  size_t whyn)
{
	json_error_t err;
	json_t *o = json_loadb(p, n, JSON_REJECT_DUPLICATES, &err);
	int rc = WH_EINVAL;
	if (!o)
		snprintf(why, whyn, "not JSON: %s (column %d)", err.text,
			 err.column);
	else if (!json_is_object(o))
		snprintf(why, whyn, "not a JSON object");
	else
		rc = object(o, r, why, whyn);
	json_decref(o);
	return rc;
}
