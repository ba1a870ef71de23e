/*
 * json.h: a small streaming JSON writer for --json output.
 *
 * It writes straight to a FILE as the caller walks its data (a case's
 * history streams from a store callback), keeping only a nesting stack of
 * "first item" flags for the commas. Strings must be UTF-8 (every string
 * in Whistle is checked at the edge); they pass through unchanged except
 * that '"', '\\' and control characters below 0x20 are escaped, so the
 * output is always valid JSON.
 */
#ifndef WH_JSON_H
#define WH_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	uint8_t first[JSON_MAX_DEPTH]; /* no item yet at this level */
	int after_key;                 /* a key was written: no comma */
};

void json_init(struct json *j, FILE *f);
/* Ends the top-level value with a newline. */
void json_end(struct json *j);

void json_obj(struct json *j);
void json_obj_end(struct json *j);
void json_arr(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *k);

void json_str(struct json *j, const char *s); /* NULL writes null */
void json_strn(struct json *j, const char *s, size_t n);
void json_uint(struct json *j, uint64_t v);
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, int v);
void json_null(struct json *j);
/* A number already formatted by the caller (e.g. "39.9390000"). */
void json_num_raw(struct json *j, const char *num);

/* key + value shorthands */
void json_kstr(struct json *j, const char *k, const char *s);
void json_kuint(struct json *j, const char *k, uint64_t v);
void json_kbool(struct json *j, const char *k, int v);
void json_khex(struct json *j, const char *k, const uint8_t *p, size_t n);

#endif
