/*
 * trust.c: load, check, save and search HOME/trust (format in trust.h).
 *
 * Every field is checked on load as strictly as on `trust add`, so a
 * hand-edited file with a typo fails with its line number instead of
 * admitting something unintended. Lookups are linear: a trust list holds
 * tens of entries (a street's communities), not thousands.
 */
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int trust_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > WH_NET_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '.' || ch == '-'))
			return 0;
	}
	return 1;
}

int trust_endpoint_valid(const char *s)
{
	size_t n = strlen(s);
	if (n > WH_NET_ENDPOINT_MAX || strncmp(s, "tcp://", 6))
		return 0;
	const char *host = s + 6;
	const char *colon = strrchr(host, ':');
	if (!colon || colon == host)
		return 0;
	size_t hn = (size_t)(colon - host);
	if (host[0] == '[') {
		if (host[hn - 1] != ']' || hn < 3)
			return 0;
		for (size_t i = 1; i + 1 < hn; i++)
			if (!strchr("0123456789abcdefABCDEF:.", host[i]))
				return 0;
	} else if (!(hn == 1 && host[0] == '*')) {
		for (size_t i = 0; i < hn; i++) {
			char ch = host[i];
			if (!((ch >= 'a' && ch <= 'z') ||
			      (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '.' ||
			      ch == '-' || ch == '_'))
				return 0;
		}
	}
	const char *port = colon + 1;
	if (!*port || strlen(port) > 5 || strspn(port, "0123456789") !=
						strlen(port))
		return 0;
	long p = strtol(port, NULL, 10);
	return p >= 1 && p <= 65535;
}

int trust_key_parse(const char *hex, uint8_t pk[WH_PK_BYTES])
{
	uint8_t curve[32];
	if (strlen(hex) != 2 * WH_PK_BYTES || wh_unhex(hex, pk, WH_PK_BYTES))
		return WH_EKEY;
	for (size_t i = 0; hex[i]; i++) /* one spelling per key */
		if (hex[i] >= 'A' && hex[i] <= 'F')
			return WH_EKEY;
	return wh_net_curve_pk(pk, curve);
}

void trust_fini(struct trust *t)
{
	free(t->e);
	memset(t, 0, sizeof *t);
}

const struct wh_net_peer *trust_by_key(const struct trust *t,
				       const uint8_t pk[WH_PK_BYTES])
{
	for (size_t i = 0; i < t->n; i++)
		if (!memcmp(t->e[i].pk, pk, WH_PK_BYTES))
			return &t->e[i];
	return NULL;
}

const struct wh_net_peer *trust_by_name(const struct trust *t,
					const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].name, name))
			return &t->e[i];
	return NULL;
}

/* Check one line's fields into e; NULL or the reason. */
static const char *parse_line(char *s, struct wh_net_peer *e)
{
	char *f[6];
	int nf = 0;
	for (char *tok = strtok(s, " \t"); tok; tok = strtok(NULL, " \t")) {
		if (nf == 6)
			return "too many fields (expected: key role path "
			       "name [endpoint])";
		f[nf++] = tok;
	}
	if (nf < 4)
		return "too few fields (expected: key role path name "
		       "[endpoint])";
	memset(e, 0, sizeof *e);
	if (nf > 5)
		return "too many fields (expected: key role path name "
		       "[endpoint])";
	if (trust_key_parse(f[0], e->pk) != WH_OK)
		return "not a public key (64 hex digits of an Ed25519 key)";
	int role = wh_role_parse(f[1]);
	if (role < 0)
		return "role must be station, street, district or other";
	e->role = (enum wh_role)role;
	if (!wh_path_valid(f[2], strlen(f[2])))
		return "not a jurisdiction path";
	strcpy(e->path, f[2]);
	if (!trust_name_valid(f[3]))
		return "name must be [a-z0-9_.-], at most 64 bytes";
	strcpy(e->name, f[3]);
	if (nf == 5) {
		if (!trust_endpoint_valid(f[4]))
			return "endpoint must be tcp://HOST:PORT";
		strcpy(e->endpoint, f[4]);
	}
	return NULL;
}

void trust_append(struct trust *t, const struct wh_net_peer *e)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->e = wh_xrealloc(t->e, t->cap * sizeof *t->e);
	}
	t->e[t->n++] = *e;
}

int trust_load(const struct cli *c, struct trust *t)
{
	memset(t, 0, sizeof *t);
	char file[PATH_MAX];
	if (cli_join(c, file, sizeof file, c->home, "trust"))
		return CLI_FAIL;
	FILE *f = fopen(file, "re");
	if (!f) {
		if (errno == ENOENT)
			return CLI_OK;
		return cli_fail(c, "%s: %s", file, strerror(errno));
	}
	int rc = trust_read(c, file, f, t);
	fclose(f);
	return rc;
}

int trust_read(const struct cli *c, const char *file, FILE *f,
	       struct trust *t)
{
	memset(t, 0, sizeof *t);
	char line[1024];
	unsigned lineno = 0;
	int rc = CLI_OK;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = cli_fail(c, "%s:%u: line too long", file, lineno);
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		char *s = line + strspn(line, " \t");
		if (!*s || *s == '#')
			continue;
		struct wh_net_peer e;
		const char *why = parse_line(s, &e);
		if (!why && trust_by_key(t, e.pk))
			why = "key listed twice";
		if (!why && trust_by_name(t, e.name))
			why = "name listed twice";
		if (why) {
			rc = cli_fail(c, "%s:%u: %s", file, lineno, why);
			break;
		}
		trust_append(t, &e);
	}
	if (rc == CLI_OK && ferror(f))
		rc = cli_fail(c, "%s: read error", file);
	if (rc)
		trust_fini(t);
	return rc;
}

int trust_save(const struct cli *c, const struct trust *t)
{
	char file[PATH_MAX], tmp[PATH_MAX];
	if (cli_join(c, file, sizeof file, c->home, "trust") ||
	    cli_join(c, tmp, sizeof tmp, c->home, "trust.tmp"))
		return CLI_FAIL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return cli_fail(c, "%s: %s", tmp, strerror(errno));
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int err = errno;
		close(fd);
		unlink(tmp);
		return cli_fail(c, "%s: %s", tmp, strerror(err));
	}
	fputs("# whistle trust list: the agents this one syncs with.\n"
	      "# One entry per line: key role path name [endpoint]\n"
	      "#   key       Ed25519 public key, 64 hex digits\n"
	      "#   role      station | street | district | other\n"
	      "#   path      jurisdiction, e.g. xicheng/xinjiekou/zhaodengyu\n"
	      "#   name      local name, [a-z0-9_.-], at most 64 bytes\n"
	      "#   endpoint  where to dial it, tcp://HOST:PORT (optional)\n"
	      "# Edit with 'whistle trust add/remove'; '#' starts a "
	      "comment.\n",
	      f);
	for (size_t i = 0; i < t->n; i++) {
		const struct wh_net_peer *e = &t->e[i];
		char hex[2 * WH_PK_BYTES + 1];
		wh_hex(e->pk, WH_PK_BYTES, hex);
		fprintf(f, "%s %s %s %s%s%s\n", hex, wh_role_name(e->role),
			e->path, e->name, e->endpoint[0] ? " " : "",
			e->endpoint);
	}
	return cli_file_commit(c, f, fd, tmp, file, c->home);
}

int trust_resolve(const struct trust *t, const char *spec,
		  const struct wh_net_peer **out, char *endpoint, char *why)
{
	const char *at = strchr(spec, '@');
	*out = NULL;
	if (at) {
		char hex[2 * WH_PK_BYTES + 1];
		uint8_t pk[WH_PK_BYTES];
		size_t hn = (size_t)(at - spec);
		if (hn != 2 * WH_PK_BYTES) {
			snprintf(why, 200, "'%.80s': expected KEYHEX@tcp://"
					   "HOST:PORT", spec);
			return CLI_USAGE;
		}
		memcpy(hex, spec, hn);
		hex[hn] = '\0';
		if (trust_key_parse(hex, pk) != WH_OK) {
			snprintf(why, 200, "'%.16s...': not a public key", hex);
			return CLI_USAGE;
		}
		if (!trust_endpoint_valid(at + 1)) {
			snprintf(why, 200, "'%.80s': endpoint must be "
					   "tcp://HOST:PORT", at + 1);
			return CLI_USAGE;
		}
		if (!(*out = trust_by_key(t, pk))) {
			snprintf(why, 200, "key %.16s... is not in the trust "
					   "list (whistle trust add)", hex);
			return CLI_FAIL;
		}
		strcpy(endpoint, at + 1);
		return CLI_OK;
	}
	if (!strncmp(spec, "tcp://", 6)) {
		if (!trust_endpoint_valid(spec)) {
			snprintf(why, 200, "'%.80s': endpoint must be "
					   "tcp://HOST:PORT", spec);
			return CLI_USAGE;
		}
		for (size_t i = 0; i < t->n; i++)
			if (!strcmp(t->e[i].endpoint, spec)) {
				*out = &t->e[i];
				strcpy(endpoint, spec);
				return CLI_OK;
			}
		snprintf(why, 200, "no trusted peer has endpoint %.60s "
				   "(use KEYHEX@%.60s)", spec, spec);
		return CLI_FAIL;
	}
	if (!trust_name_valid(spec)) {
		snprintf(why, 200, "'%.80s': not a peer name, tcp://HOST:PORT "
				   "or KEYHEX@tcp://HOST:PORT", spec);
		return CLI_USAGE;
	}
	if (!(*out = trust_by_name(t, spec))) {
		snprintf(why, 200, "no trusted peer named '%s' (whistle "
				   "trust list)", spec);
		return CLI_FAIL;
	}
	if (!(*out)->endpoint[0]) {
		snprintf(why, 200, "peer '%s' has no endpoint to dial "
				   "(trust add ... --endpoint tcp://HOST:PORT)",
			 spec);
		*out = NULL;
		return CLI_FAIL;
	}
	strcpy(endpoint, (*out)->endpoint);
	return CLI_OK;
}
