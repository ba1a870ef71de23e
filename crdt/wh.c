/*
 * wh.c: error strings, the abort-on-OOM allocators, byte buffers, hex and
 * UTF-8 validation. Everything here is pure and thread-agnostic.
 */
#include "wh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const errtab[] = {
	[0] = "ok",
	[1] = "invalid argument",
	[2] = "malformed encoding",
	[3] = "size or count over its limit",
	[4] = "text is not valid UTF-8",
	[5] = "unsupported format version",
	[6] = "unknown operation kind",
	[7] = "missing, unknown or mistyped field",
	[8] = "signature does not verify",
	[9] = "timestamp too far in the future",
	[10] = "malformed jurisdiction path",
	[11] = "malformed case id",
	[12] = "already exists",
	[13] = "not found",
	[14] = "input/output error",
	[15] = "disk or store full",
	[16] = "store written by a newer whistle",
	[17] = "stored data is corrupt",
	[18] = "step not valid in the case's state",
	[19] = "refused by policy",
	[20] = "input truncated",
	[21] = "checksum mismatch",
	[22] = "key missing, malformed or unsafe",
	[23] = "resource busy",
	[24] = "injected fault",
	[25] = "not in canonical form",
	[26] = "outside the scope held",
	[27] = "roster is not newer than the one held",
	[28] = "not signed by the authority or a delegate",
	[29] = "author is not in the roster",
	[30] = "author's key was revoked before this time",
	[31] = "author's membership does not cover this time",
	[32] = "author's role may not take this step",
	[33] = "department was not summoned to this case",
	[34] = "outside the author's jurisdiction",
};

const char *wh_strerror(int err)
{
	if (err > 0 || err < WH_ERR_MIN)
		return "unknown error";
	return errtab[-err];
}

static void oom(size_t n)
{
	fprintf(stderr, "whistle: out of memory (%zu bytes)\n", n);
	abort();
}

void *wh_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *wh_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *wh_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *wh_xstrndup(const char *s, size_t n)
{
	char *d = wh_xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void wh_buf_reserve(struct wh_buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra) {
		if (cap > SIZE_MAX / 2)
			oom(SIZE_MAX);
		cap *= 2;
	}
	b->p = wh_xrealloc(b->p, cap);
	b->cap = cap;
}

void wh_buf_append(struct wh_buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	wh_buf_reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void wh_buf_reset(struct wh_buf *b)
{
	b->len = 0;
}

void wh_buf_fini(struct wh_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void wh_hex(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int wh_unhex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return WH_EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return WH_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return WH_OK;
}

int wh_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		uint32_t cp, min;
		if ((c & 0xE0) == 0xC0) {
			len = 2, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}
