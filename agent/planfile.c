/*
 * planfile.c: the emergency plan file's reader (planfile.h has the
 * format). One pass over the lines, bounded in size and count; every
 * value is checked against the op format's limits here, so a file that
 * parses builds ops that decode.
 */
#include "planfile.h"

#include "cli_problems.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The keys of each section, English and Chinese. */
enum {
	K_NUMBER, K_TITLE, K_RULE, K_TEXT, /* [plan] (and title, text) */
	K_AREA, K_CATEGORY, K_WITHIN, K_TEAM, K_CONTACT, K_COUNT
};

static const struct {
	const char *en, *zh;
	int plan, task; /* allowed in [plan], [task] */
} keys[K_COUNT] = {
	[K_NUMBER] = {"number", "编号", 1, 0},
	[K_TITLE] = {"title", "标题", 1, 1},
	[K_RULE] = {"rule", "规则", 1, 0},
	[K_TEXT] = {"text", "说明", 1, 1},
	[K_AREA] = {"area", "范围", 0, 1},
	[K_CATEGORY] = {"category", "类别", 0, 1},
	[K_WITHIN] = {"within", "时限", 0, 1},
	[K_TEAM] = {"team", "队伍", 0, 1},
	[K_CONTACT] = {"contact", "联系人", 0, 1},
};

/* The op field each text key becomes, for its limit. */
static const uint8_t key_field[K_COUNT] = {
	[K_TITLE] = WH_F_TITLE,	      [K_TEXT] = WH_F_TEXT,
	[K_AREA] = WH_F_AREA,	      [K_CATEGORY] = WH_F_CATEGORY,
	[K_TEAM] = WH_F_TEAM,	      [K_CONTACT] = WH_F_CONTACT,
};

struct rd {
	struct planfile *f;
	uint32_t line;
	char *why;
	size_t whyn;
	int section; /* 0 none, 1 plan, 2 task */
	uint32_t sec_line; /* where it started */
	unsigned seen; /* keys given in this section (bits) */
	int have_plan;
};

__attribute__((format(printf, 2, 3))) static int bad(struct rd *r,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, r->whyn, fmt, ap);
	va_end(ap);
	return WH_EDECODE;
}

void planfile_fini(struct planfile *f)
{
	free(f->title);
	free(f->text);
	for (uint32_t i = 0; i < f->ntasks; i++)
		wh_plan_task_fini(&f->tasks[i]);
	free(f->tasks);
	free(f->task_line);
	memset(f, 0, sizeof *f);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static char *xdup(const char *s)
{
	return wh_xstrndup(s, strlen(s));
}

/* What a section needs before the next one starts; a refusal names the
 * section's own line. */
static int section_end(struct rd *r)
{
	uint32_t here = r->line;
	r->line = r->sec_line;
	if (r->section == 1) {
		if (!(r->seen & (1u << K_NUMBER)))
			return bad(r, "[plan] has no number (编号)");
		if (!(r->seen & (1u << K_TITLE)))
			return bad(r, "[plan] has no title (标题)");
	} else if (r->section == 2) {
		if (!(r->seen & (1u << K_AREA)))
			return bad(r, "task '%s' has no area (范围)",
				   r->f->tasks[r->f->ntasks - 1].key);
		if (!(r->seen & (1u << K_TITLE)))
			return bad(r, "task '%s' has no title (标题)",
				   r->f->tasks[r->f->ntasks - 1].key);
	}
	r->line = here;
	return WH_OK;
}

static int header(struct rd *r, char *s)
{
	size_t n = strlen(s);
	if (s[n - 1] != ']')
		return bad(r, "a section header ends with ']'");
	s[n - 1] = '\0';
	char *name = trim(s + 1);
	struct planfile *f = r->f;
	int rc = section_end(r);
	if (rc)
		return rc;
	r->seen = 0;
	r->sec_line = r->line;
	if (!strcmp(name, "plan") || !strcmp(name, "预案")) {
		if (r->have_plan)
			return bad(r, "a second [plan] (the first is on line "
				      "%u)",
				   (unsigned)f->plan_line);
		r->have_plan = 1;
		r->section = 1;
		f->plan_line = r->line;
		return WH_OK;
	}
	const char *key = NULL;
	if (!strncmp(name, "task", 4) && (name[4] == ' ' || name[4] == '\t'))
		key = trim(name + 4);
	else if (!strncmp(name, "任务", 6) &&
		 (name[6] == ' ' || name[6] == '\t'))
		key = trim(name + 6);
	if (!key)
		return bad(r, "unknown section [%s]: [plan] or [task KEY] "
			      "([预案], [任务 KEY])",
			   name);
	if (!*key)
		return bad(r, "[task] needs a key: [task basement]");
	if (strlen(key) > WH_PLAN_TASK_MAX)
		return bad(r, "task key '%s': longer than %u bytes", key,
			   WH_PLAN_TASK_MAX);
	for (uint32_t i = 0; i < f->ntasks; i++)
		if (!strcmp(f->tasks[i].key, key))
			return bad(r, "task '%s' again (first on line %u)",
				   key, (unsigned)f->task_line[i]);
	if (f->ntasks == WH_PLAN_MAX_TASKS)
		return bad(r, "more than %u tasks", WH_PLAN_MAX_TASKS);
	f->tasks = wh_xrealloc(f->tasks, (f->ntasks + 1) * sizeof f->tasks[0]);
	f->task_line = wh_xrealloc(f->task_line,
				   (f->ntasks + 1) * sizeof f->task_line[0]);
	memset(&f->tasks[f->ntasks], 0, sizeof f->tasks[0]);
	f->tasks[f->ntasks].key = xdup(key);
	f->task_line[f->ntasks] = r->line;
	f->ntasks++;
	r->section = 2;
	return WH_OK;
}

static int duration(struct rd *r, const char *what, const char *v,
		    uint64_t *ms)
{
	int rc = cli_duration_parse(v, ms);
	if (rc == WH_ETOOBIG)
		return bad(r, "%s '%s': longer than 366 days", what, v);
	if (rc)
		return bad(r, "%s '%s': not a duration (a whole number and m, "
			      "h or d: 30m, 2h, 7d)",
			   what, v);
	return WH_OK;
}

static int rule(struct rd *r, char *v)
{
	char *sp = v;
	while (*sp && *sp != ' ' && *sp != '\t')
		sp++;
	char *arg = *sp ? trim(sp + 1) : sp;
	*sp = '\0';
	int ru = wh_em_rule_parse(v);
	if (ru < 0)
		return bad(r, "rule '%s': pause (暂停) or extend DURATION (顺延 "
			      "DURATION)",
			   v);
	r->f->rule = (uint8_t)ru;
	if (ru == WH_EM_PAUSE) {
		if (*arg)
			return bad(r, "rule pause takes nothing after it");
		return WH_OK;
	}
	if (!*arg)
		return bad(r, "rule extend needs how long: extend 24h");
	return duration(r, "rule extend", arg, &r->f->extend_ms);
}

static int number(struct rd *r, const char *v)
{
	uint64_t x = 0;
	size_t n = strlen(v);
	if (!n || n > 6 || v[0] == '0')
		return bad(r, "number '%s': a whole number from 1 to %u", v,
			   PLANFILE_NUMBER_MAX);
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return bad(r, "number '%s': a whole number from 1 to "
				      "%u",
				   v, PLANFILE_NUMBER_MAX);
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	r->f->number = (uint32_t)x;
	return WH_OK;
}

static int assign(struct rd *r, char *s)
{
	char *eq = strchr(s, '=');
	if (!eq)
		return bad(r, "not 'key = value', a [section] or a # comment");
	*eq = '\0';
	char *name = trim(s), *v = trim(eq + 1);
	int k;
	for (k = 0; k < K_COUNT; k++)
		if (!strcmp(name, keys[k].en) || !strcmp(name, keys[k].zh))
			break;
	if (!r->section)
		return bad(r, "'%s' before any section: start with [plan]",
			   name);
	int ok = k < K_COUNT &&
		 (r->section == 1 ? keys[k].plan : keys[k].task);
	if (!ok)
		return bad(r, r->section == 1
				      ? "unknown key '%s' in [plan]: number, "
					"title, rule, text"
				      : "unknown key '%s' in a task: area, "
					"title, category, within, team, "
					"contact, text",
			   name);
	if (r->seen & (1u << k))
		return bad(r, "'%s' given twice in this section", name);
	r->seen |= 1u << k;
	if (!*v)
		return bad(r, "'%s' is empty", name);
	if (key_field[k]) {
		uint64_t max = wh_field_max(key_field[k]);
		if (key_field[k] == WH_F_AREA) {
			if (!wh_path_valid(v, strlen(v)))
				return bad(r, "area '%s': not a jurisdiction "
					      "path (xicheng/xinjiekou/...)",
					   v);
		} else if (strlen(v) > max) {
			return bad(r, "%s: too long (%zu bytes; at most %u)",
				   name, strlen(v), (unsigned)max);
		}
	}
	struct planfile *f = r->f;
	struct wh_plan_task *t = r->section == 2 ? &f->tasks[f->ntasks - 1]
						 : NULL;
	switch (k) {
	case K_NUMBER: return number(r, v);
	case K_RULE: return rule(r, v);
	case K_TITLE:
		if (t)
			t->title = xdup(v);
		else
			f->title = xdup(v);
		return WH_OK;
	case K_TEXT:
		if (t)
			t->text = xdup(v);
		else
			f->text = xdup(v);
		return WH_OK;
	case K_AREA: t->area = xdup(v); return WH_OK;
	case K_CATEGORY: t->category = xdup(v); return WH_OK;
	case K_TEAM: t->team = xdup(v); return WH_OK;
	case K_CONTACT: t->contact = xdup(v); return WH_OK;
	case K_WITHIN: return duration(r, "within", v, &t->within_ms);
	default: return bad(r, "unknown key '%s'", name);
	}
}

int planfile_parse(const char *p, size_t n, struct planfile *f,
		   uint32_t *line, char *why, size_t whyn)
{
	memset(f, 0, sizeof *f);
	struct rd r = {f, 0, why, whyn, 0, 0, 0, 0};
	*line = 0;
	if (whyn)
		why[0] = '\0';
	if (n > PLANFILE_MAX_BYTES) {
		bad(&r, "larger than %u bytes", PLANFILE_MAX_BYTES);
		planfile_fini(f);
		return WH_EDECODE;
	}
	if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) {
		p += 3;
		n -= 3;
	}
	char buf[PLANFILE_LINE_MAX + 1];
	int rc = WH_OK;
	size_t at = 0;
	while (at < n && rc == WH_OK) {
		const char *nl = memchr(p + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - (p + at)) : n - at;
		r.line++;
		if (len && p[at + len - 1] == '\r')
			len--;
		if (len > PLANFILE_LINE_MAX) {
			rc = bad(&r, "line longer than %u bytes",
				 PLANFILE_LINE_MAX);
			break;
		}
		memcpy(buf, p + at, len);
		buf[len] = '\0';
		at += (nl ? (size_t)(nl - (p + at)) + 1 : n - at);
		if (!wh_utf8_valid((const uint8_t *)buf, len)) {
			rc = bad(&r, "not UTF-8 text (save the file as UTF-8)");
			break;
		}
		char *s = trim(buf);
		if (!*s || *s == '#' || *s == ';')
			continue;
		rc = *s == '[' ? header(&r, s) : assign(&r, s);
	}
	if (rc == WH_OK)
		rc = section_end(&r);
	if (rc == WH_OK && !r.have_plan) {
		r.line = 0;
		rc = bad(&r, "no [plan] section");
	}
	if (rc) {
		*line = r.line;
		planfile_fini(f);
	}
	return rc;
}
