/*
 * planfile.h: the text file a district or street keeps its digital
 * emergency plan (数字应急预案) in, read by `whistle plan publish`. The
 * one decoder of these bytes; docs/protocol.md, "Emergency plan file",
 * has the format and docs/guide.md an example:
 *
 *     # comment
 *     [plan]                       (or [预案])
 *     number = 1                   (编号; 1-999999; the plan's id)
 *     title = 新街口街道防汛应急预案     (标题)
 *     rule = pause | extend 24h    (规则: 暂停 | 顺延 24h)
 *     text = ...                   (说明)
 *
 *     [task basement]              (or [任务 basement]; the task's key)
 *     area = xicheng/xinjiekou     (范围: the communities under it)
 *     title = 排查地下室住户          (标题)
 *     category = 防汛               (类别)
 *     within = 2h                  (时限: due this long after the start)
 *     team = 社区应急小分队           (队伍)
 *     contact = 王队长 138...        (联系人)
 *     text = ...                   (说明)
 *
 * UTF-8 (a BOM is skipped), LF or CRLF; at most 1 MiB, lines at most
 * 4,096 bytes; one [plan], at most WH_PLAN_MAX_TASKS tasks with unique
 * keys; every key at most once per section; values trimmed of blanks and
 * within the op format's limits. Pure: no I/O, nothing printed. A
 * refusal names the line and the problem, and nothing is kept.
 */
#ifndef WH_PLANFILE_H
#define WH_PLANFILE_H

#include "plan.h"

#define PLANFILE_MAX_BYTES (1u << 20)
#define PLANFILE_LINE_MAX 4096u
#define PLANFILE_NUMBER_MAX 999999u

struct planfile {
	uint32_t number;
	char *title, *text; /* owned; text NULL if none */
	uint8_t rule;       /* enum wh_em_rule */
	uint64_t extend_ms;
	uint32_t ntasks;
	struct wh_plan_task *tasks; /* in file order; set_at/set_by zero */
	uint32_t *task_line;        /* the line of each [task] header */
	uint32_t plan_line;
};

/*
 * Parse p[0..n) into f (initialised by the call; release with
 * planfile_fini, also after an error). WH_OK; otherwise WH_EDECODE with
 * *line (1-based; 0 for the file as a whole) and why[0..whyn) saying
 * what is wrong. Checks everything the file can get wrong by itself;
 * what depends on the publisher (a task's area within its path) is the
 * caller's.
 */
WH_MUST_CHECK int planfile_parse(const char *p, size_t n, struct planfile *f,
				 uint32_t *line, char *why, size_t whyn);
void planfile_fini(struct planfile *f);

#endif
