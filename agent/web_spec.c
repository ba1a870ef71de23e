/*
 * web_spec.c: what each request body of the web console may hold
 * (web_in.h), in one place: the API (web_api.c) decodes with these
 * and the fuzz target (tests/fuzz/fuzz_web.c) feeds them. Bounds are
 * the op format's own limits or tighter.
 */
#include "web_in.h"

#include "flow.h"
#include "users.h"

const struct web_in_spec web_spec_login[] = {
    {"user", WEB_IN_STR, USERS_NAME_MAX, 0, 1},
    {"password", WEB_IN_STR, USERS_PASS_MAX, 0, 1},
};
const size_t web_spec_login_n =
    sizeof web_spec_login / sizeof web_spec_login[0];

const struct web_in_spec web_spec_case[] = {
    {"title", WEB_IN_STR, 600, 0, 1},
    {"description", WEB_IN_STR, 16384, 0, 0},
    {"category", WEB_IN_STR, 120, 0, 0},
    {"grid", WEB_IN_STR, 64, 0, 0},
    {"source", WEB_IN_STR, 32, 0, 0},
    {"priority", WEB_IN_STR, 32, 0, 0},
    {"address", WEB_IN_STR, 600, 0, 0},
    {"reporter", WEB_IN_STR, 200, 0, 0},
    {"contact", WEB_IN_STR, 200, 0, 0},
    {"ref", WEB_IN_STR, 64, 0, 0},
    {"lat", WEB_IN_STR, 32, 0, 0},
    {"lon", WEB_IN_STR, 32, 0, 0},
    {"tags", WEB_IN_LIST, 120, 16, 0},
};
const size_t web_spec_case_n = sizeof web_spec_case / sizeof web_spec_case[0];

const struct web_in_spec web_spec_step[] = {
    {"step", WEB_IN_STR, 16, 0, 1},
    {"level", WEB_IN_STR, 16, 0, 0},
    {"reason", WEB_IN_STR, 2048, 0, 0},
    {"dept", WEB_IN_LIST, WH_DEPT_MAX, WH_FLOW_MAX_DEPTS, 0},
    {"lead", WEB_IN_STR, WH_DEPT_MAX, 0, 0},
    {"kind", WEB_IN_STR, 16, 0, 0},
    {"as", WEB_IN_STR, 16, 0, 0},
    {"report_within", WEB_IN_STR, 16, 0, 0},
    {"resolve_within", WEB_IN_STR, 16, 0, 0},
    {"text", WEB_IN_STR, 16384, 0, 0},
    {"report_step", WEB_IN_STR, 16, 0, 0},
    {"channel", WEB_IN_STR, 16, 0, 0},
    {"score", WEB_IN_NUM, 4, 0, 0},
    {"comment", WEB_IN_STR, 2048, 0, 0},
    {"by", WEB_IN_STR, 16, 0, 0},
    {"status", WEB_IN_STR, 32, 0, 0},
};
const size_t web_spec_step_n = sizeof web_spec_step / sizeof web_spec_step[0];
