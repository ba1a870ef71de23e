/*
 * web_in.c: request bodies, cookies, query values and Host headers of
 * the web console, decoded and bounded (web_in.h). The only file of the
 * console that includes jansson.h.
 *
 * jansson is asked to refuse duplicate keys (JSON_REJECT_DUPLICATES);
 * it refuses \u0000 and invalid UTF-8 by default. Depth needs no bound
 * of ours: the spec allows no nesting beyond one array of strings, and
 * the body's size (WEB_BODY_MAX) bounds what jansson's own parser
 * (depth limit 2048) will build before we look.
 */
#include "web_in.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void web_in_fini(struct web_in *in)
{
	if (in->root)
		json_decref((json_t *)in->root);
	in->root = NULL;
	in->n = 0;
}

const char *web_in_get(const struct web_in *in, const char *name)
{
	for (size_t i = 0; i < in->n; i++)
		if (!strcmp(in->name[i], name))
			return in->val[i];
	return NULL;
}

static int add(struct web_in *in, const char *name, const char *v,
	       char why[WEB_IN_WHY])
{
	if (in->n >= WEB_IN_MAX) {
		snprintf(why, WEB_IN_WHY, "too many values (at most %u)",
			 WEB_IN_MAX);
		return WH_ETOOBIG;
	}
	in->name[in->n] = name;
	in->val[in->n++] = v;
	return WH_OK;
}

static int one_string(struct web_in *in, const struct web_in_spec *sp,
		      json_t *v, char why[WEB_IN_WHY])
{
	size_t len = json_string_length(v);
	if (len > sp->max) {
		snprintf(why, WEB_IN_WHY,
			 "'%s': too long (%zu bytes, at most "
			 "%zu)",
			 sp->key, len, sp->max);
		return WH_ETOOBIG;
	}
	/* jansson refuses \u0000 unless asked; the length agrees. */
	const char *s = json_string_value(v);
	if (strlen(s) != len) {
		snprintf(why, WEB_IN_WHY, "'%s': holds a NUL", sp->key);
		return WH_EDECODE;
	}
	return add(in, sp->key, s, why);
}

static int one_value(struct web_in *in, const struct web_in_spec *sp, json_t *v,
		     char why[WEB_IN_WHY])
{
	if (json_is_string(v) &&
	    (sp->types & (WEB_IN_STR | WEB_IN_NUM | WEB_IN_LIST)))
		return one_string(in, sp, v, why);
	if (json_is_integer(v) && (sp->types & WEB_IN_NUM)) {
		json_int_t x = json_integer_value(v);
		if (x < 0 || x > 1000000000) {
			snprintf(why, WEB_IN_WHY, "'%s': out of range",
				 sp->key);
			return WH_ETOOBIG;
		}
		if (in->n >= WEB_IN_MAX)
			return add(in, sp->key, "", why); /* says too many */
		snprintf(in->num[in->n], sizeof in->num[in->n], "%lld",
			 (long long)x);
		return add(in, sp->key, in->num[in->n], why);
	}
	if (json_is_array(v) && (sp->types & WEB_IN_LIST)) {
		size_t k = json_array_size(v);
		if (k > sp->count) {
			snprintf(why, WEB_IN_WHY, "'%s': at most %u values",
				 sp->key, sp->count);
			return WH_ETOOBIG;
		}
		for (size_t i = 0; i < k; i++) {
			json_t *e = json_array_get(v, i);
			if (!json_is_string(e)) {
				snprintf(why, WEB_IN_WHY,
					 "'%s': a list of strings", sp->key);
				return WH_EDECODE;
			}
			int rc = one_string(in, sp, e, why);
			if (rc != WH_OK)
				return rc;
		}
		return WH_OK;
	}
	snprintf(why, WEB_IN_WHY, "'%s': expected %s", sp->key,
		 sp->types & WEB_IN_LIST  ? "a string or a list of strings"
		 : sp->types & WEB_IN_NUM ? "a whole number or a string"
					  : "a string");
	return WH_EDECODE;
}

int web_in_decode(const char *body, size_t n, const struct web_in_spec *spec,
		  size_t nspec, struct web_in *in, char why[WEB_IN_WHY])
{
	memset(in, 0, sizeof *in);
	why[0] = '\0';
	if (n > WEB_BODY_MAX) {
		snprintf(why, WEB_IN_WHY, "body too large (at most %u bytes)",
			 WEB_BODY_MAX);
		return WH_ETOOBIG;
	}
	json_error_t err;
	json_t *root = json_loadb(body, n, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		snprintf(why, WEB_IN_WHY, "not JSON: %.120s (at byte %d)",
			 err.text, err.position);
		return WH_EDECODE;
	}
	in->root = root;
	if (!json_is_object(root)) {
		snprintf(why, WEB_IN_WHY, "expected a JSON object");
		return WH_EDECODE;
	}
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v)
	{
		const struct web_in_spec *sp = NULL;
		for (size_t i = 0; i < nspec && !sp; i++)
			if (!strcmp(spec[i].key, key))
				sp = &spec[i];
		if (!sp) {
			snprintf(why, WEB_IN_WHY, "unknown field '%.60s'", key);
			return WH_EFIELD;
		}
		if (json_is_null(v))
			continue; /* not given */
		int rc = one_value(in, sp, v, why);
		if (rc != WH_OK)
			return rc;
	}
	for (size_t i = 0; i < nspec; i++)
		if (spec[i].required && !web_in_get(in, spec[i].key)) {
			snprintf(why, WEB_IN_WHY, "'%s' is required",
				 spec[i].key);
			return WH_EFIELD;
		}
	return WH_OK;
}

static int is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

int web_in_cookie(const char *header, const char *name, size_t hexlen,
		  char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = header;
	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			const char *v = p + nl + 1;
			size_t vl = len - nl - 1;
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl != hexlen || vl + 1 > cap)
				return WH_EDECODE;
			for (size_t i = 0; i < vl; i++)
				if (!is_hex(v[i]))
					return WH_EDECODE;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return WH_OK;
		}
		p = end;
	}
	return WH_ENOTFOUND;
}

int web_in_param(const char *v, size_t max)
{
	size_t n = strlen(v);
	if (n > max)
		return WH_ETOOBIG;
	if (!wh_utf8_valid((const uint8_t *)v, n))
		return WH_EDECODE;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return WH_EDECODE;
	return WH_OK;
}

int web_in_host_ok(const char *host, const char *const *allowed,
		   size_t nallowed, unsigned port)
{
	if (!host)
		return 0;
	const char *colon = strrchr(host, ':');
	if (!colon || colon == host)
		return 0;
	/* an IPv6 literal's own colons are inside brackets */
	if (host[0] == '[' && colon[-1] != ']')
		return 0;
	char *end;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] < '0' || colon[1] > '9' || p != port)
		return 0;
	size_t nl = (size_t)(colon - host);
	for (size_t i = 0; i < nl; i++) {
		char ch = host[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
		      ch == '[' || ch == ']' || ch == ':'))
			return 0;
	}
	if (!allowed)
		return 1;
	for (size_t i = 0; i < nallowed; i++)
		if (strlen(allowed[i]) == nl &&
		    !strncasecmp(host, allowed[i], nl))
			return 1;
	return 0;
}
