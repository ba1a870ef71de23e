/*
 * json.c: the streaming JSON writer (see json.h). Nesting past
 * JSON_MAX_DEPTH is our bug, not the user's, hence the assert.
 */
#include "json.h"

#include "wh.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof *j);
	j->f = f;
	j->first[0] = 1;
}

void json_end(struct json *j)
{
	assert(j->depth == 0);
	fputc('\n', j->f);
}

/* Comma before every item but the first of its level; none after a key. */
static void item(struct json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = 0;
}

static void begin(struct json *j, char ch)
{
	item(j);
	fputc(ch, j->f);
	assert(j->depth + 1 < JSON_MAX_DEPTH);
	j->first[++j->depth] = 1;
}

static void finish(struct json *j, char ch)
{
	assert(j->depth > 0);
	j->depth--;
	fputc(ch, j->f);
}

void json_obj(struct json *j) { begin(j, '{'); }
void json_obj_end(struct json *j) { finish(j, '}'); }
void json_arr(struct json *j) { begin(j, '['); }
void json_arr_end(struct json *j) { finish(j, ']'); }

static void put_string(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		switch (ch) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (ch < 0x20)
				fprintf(f, "\\u%04x", ch);
			else
				fputc(ch, f);
		}
	}
	fputc('"', f);
}

void json_key(struct json *j, const char *k)
{
	item(j);
	put_string(j->f, k, strlen(k));
	fputc(':', j->f);
	j->after_key = 1;
}

void json_strn(struct json *j, const char *s, size_t n)
{
	item(j);
	put_string(j->f, s, n);
}

void json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void json_uint(struct json *j, uint64_t v)
{
	item(j);
	fprintf(j->f, "%" PRIu64, v);
}

void json_int(struct json *j, int64_t v)
{
	item(j);
	fprintf(j->f, "%" PRId64, v);
}

void json_bool(struct json *j, int v)
{
	item(j);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
	item(j);
	fputs("null", j->f);
}

void json_num_raw(struct json *j, const char *num)
{
	item(j);
	fputs(num, j->f);
}

void json_kstr(struct json *j, const char *k, const char *s)
{
	json_key(j, k);
	json_str(j, s);
}

void json_kuint(struct json *j, const char *k, uint64_t v)
{
	json_key(j, k);
	json_uint(j, v);
}

void json_kbool(struct json *j, const char *k, int v)
{
	json_key(j, k);
	json_bool(j, v);
}

void json_khex(struct json *j, const char *k, const uint8_t *p, size_t n)
{
	char hex[2 * 64 + 1];
	assert(n <= 64);
	wh_hex(p, n, hex);
	json_kstr(j, k, hex);
}
