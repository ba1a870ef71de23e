#!/usr/bin/env bash
#
# test_emergency.sh: an emergency and its plan over real sync. A district
# authority grants a district hub, a street hub (新街口), two community
# stations in that street (赵登禹 A, 白塔寺 B) and one in another street
# (大栅栏 C); agents on 127.0.0.1 over ZeroMQ, every store bound to the
# roster.
#
#   1. A and C whistle the same kind of case to 城管 (report within 30m,
#      resolve within 1h), before any emergency.
#   2. The district publishes a plan file (a bad one is refused with its
#      line); a community station and the street (outside its street)
#      may not declare; the district declares over the street.
#   3. After sync each community station in the street holds its own
#      plan tasks as cases, with deadlines (A two, B one, C none), and
#      only its own; exactly once after a second sync, an agent restart
#      and the emergency's ops delivered again on a file.
#   4. At now + 3h, A's case is not overdue on any replica (the emergency
#      holds its deadlines), C's is, on every replica holding it.
#   5. whistle stats counts the task cases; status shows the emergency.
#   6. The district ends it (at now + 2h): the clock runs again, and A's
#      case is late by about 30 minutes, C's by about 2.5 hours.
#
# usage: bash test_emergency.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_emergency "$@"

ST=xicheng/xinjiekou
A=$ST/zhaodengyu
B=$ST/baitasi
C=xicheng/dashilan/dazhalan
mkhome dis xicheng district XC
mkhome hub $ST street XJK
mkhome sa "$A" station XJK-ZDY
mkhome sb "$B" station XJK-BTS
mkhome sc "$C" station DSL-DZL

authority_init
grant dis district xicheng XC
grant hub street $ST XJK
grant sa station "$A" XJK-ZDY
grant sb station "$B" XJK-BTS
grant sc station "$C" DSL-DZL
roster_join dis hub sa sb sc
DS=${HOMEOF[dis]} HB=${HOMEOF[hub]} SA=${HOMEOF[sa]} SB=${HOMEOF[sb]}
SC=${HOMEOF[sc]}

free_port PHUB
free_port PDIS
EHUB="${KEYOF[hub]}@tcp://127.0.0.1:$PHUB"
EDIS="${KEYOF[dis]}@tcp://127.0.0.1:$PDIS"
agent_start dis --listen "tcp://127.0.0.1:$PDIS" --interval 1
agent_start hub --listen "tcp://127.0.0.1:$PHUB" --peer "$EDIS" --interval 1
agent_start sa --peer "$EHUB" --interval 1
agent_start sb --peer "$EHUB" --interval 1
agent_start sc --peer "$EDIS" --interval 1

# ---- 1. ordinary cases, whistled before the emergency -------------------
T0=$(now_ms)
whistled() { # HOME: a case whistled to 城管 (30m to report, 1h to resolve)
	local id
	id=$(new_case "$1" --title "井盖缺失" --category 市政设施 --grid g01) || return 1
	wh --home "$1" case triage "$id" --level small >/dev/null 2>>"$T/case.err" &&
		wh --home "$1" case whistle "$id" --dept 城管 --lead 城管 \
			--report-within 30m --resolve-within 1h --as community \
			>/dev/null 2>>"$T/case.err" ||
		{ bad "whistle on $1: $(tail -n2 "$T/case.err")"; return 1; }
	echo "$id"
}
IDA=$(whistled "$SA") || die "no case on A"
IDC=$(whistled "$SC") || die "no case on C"
held() { # ID HOMES...
	local id=$1 h
	shift
	for h in "$@"; do wh --home "$h" case show "$id" >/dev/null 2>&1 || return 1; done
}
wait_until 30 "A's case reaches the hub and the district" held "$IDA" "$HB" "$DS" || true
wait_until 30 "C's case reaches the district" held "$IDC" "$DS" || true

# ---- 2. the plan and who may declare -------------------------------------
cat >"$T/bad-plan.txt" <<'EOF'
[plan]
number = 1
title = 防汛应急预案

[task basement]
area = xicheng/xinjiekou
titel = 排查地下室住户
EOF
if wh --home "$DS" plan publish "$T/bad-plan.txt" >"$T/pub.out" 2>&1; then
	bad "a plan file with an unknown key was published"
else
	rc=$?
	if [ $rc = 2 ] && grep -q "bad-plan.txt:7: unknown key 'titel'" "$T/pub.out"; then
		ok
	else
		bad "bad plan file: exit $rc, $(head -c 200 "$T/pub.out")"
	fi
fi
check "nothing of the bad plan was published" \
	test "$(wh --home "$DS" --json plan list | jq length)" = 0
# More bad files, each refused at its line with its reason (exit 2).
bad_file() { # NAME EXPECTED-MESSAGE CONTENT
	printf '%s' "$3" >"$T/$1"
	wh --home "$DS" plan publish "$T/$1" >"$T/pub.out" 2>&1
	local rc=$?
	if [ $rc = 2 ] && grep -qF -- "$2" "$T/pub.out"; then ok; else
		bad "$1: exit $rc, '$(head -c 200 "$T/pub.out")', want '$2'"
	fi
}
bad_file dup.txt "dup.txt:7: task 't' again (first on line 4)" \
	$'[plan]\nnumber = 1\ntitle = x\n[task t]\narea = xicheng\ntitle = y\n[task t]\n'
bad_file notitle.txt "notitle.txt:4: task 't' has no title" \
	$'[plan]\nnumber = 1\ntitle = x\n[task t]\narea = xicheng\n'
bad_file nonum.txt "nonum.txt:1: [plan] has no number" \
	$'[plan]\ntitle = x\n'
bad_file within.txt "within.txt:6: within '1.5h': not a duration" \
	$'[plan]\nnumber = 1\ntitle = x\n[task t]\narea = xicheng\nwithin = 1.5h\ntitle = y\n'
bad_file area.txt "area.txt:5: area 'Xicheng': not a jurisdiction path" \
	$'[plan]\nnumber = 1\ntitle = x\n[task t]\narea = Xicheng\n'
bad_file rule.txt "rule.txt:4: rule extend needs how long" \
	$'[plan]\nnumber = 1\ntitle = x\nrule = extend\n'
bad_file noplan.txt "noplan.txt: no [plan] section" $'# empty\n'
printf '[plan]\nnumber = 1\ntitle = \xff\n' >"$T/utf8.txt"
if wh --home "$DS" plan publish "$T/utf8.txt" >"$T/pub.out" 2>&1; then
	bad "a plan file that is not UTF-8 was published"
else
	check "not UTF-8: refused at its line" grep -q "utf8.txt:3: not UTF-8" "$T/pub.out"
fi
check "still nothing published" \
	test "$(wh --home "$DS" --json plan list | jq length)" = 0
cat >"$T/plan.txt" <<'EOF'
# 西城区防汛应急预案 (test)
[plan]
number = 1
title = 西城区防汛应急预案
rule = pause
text = 暴雨红色预警时启动

[task basement]
area = xicheng/xinjiekou
title = 排查地下室住户
category = 防汛
within = 2h
team = 社区应急小分队
contact = 王队长 13800000000

[任务 shelter]
范围 = xicheng/xinjiekou/zhaodengyu
标题 = 开放避难场所
时限 = 4h

[task elderly]
area = xicheng/dashilan
title = 统计独居老人
within = 1d
EOF
PLAN=$(wh --home "$DS" plan publish "$T/plan.txt" 2>"$T/pub.err" | head -n1)
[ "$PLAN" = EP-XC-000001 ] || die "plan publish printed '$PLAN': $(cat "$T/pub.err")"
check "publishing the same file again writes nothing" \
	sh -c "'$W' --home '$DS' --json plan publish '$T/plan.txt' | jq -e '.changed == false'"
has_plan() { wh --home "$1" --json plan show "$PLAN" | jq -e '.tasks_count == 3' >/dev/null; }
wait_until 30 "the plan reaches station A" has_plan "$SA" || true

if wh --home "$SA" emergency declare --path "$A" --plan "$PLAN" >"$T/decl.out" 2>&1; then
	bad "a community station declared an emergency"
else
	rc=$?
	if [ $rc = 1 ] && grep -q "only a street or a district declares" "$T/decl.out"; then
		ok
	else
		bad "station declare: exit $rc, $(head -c 200 "$T/decl.out")"
	fi
fi
if wh --home "$HB" emergency declare --path xicheng/dashilan >"$T/decl.out" 2>&1; then
	bad "the street declared an emergency outside its street"
else
	check "the street is told why" grep -q "outside this home's jurisdiction" "$T/decl.out"
fi
EM=$(wh --home "$DS" emergency declare --path $ST --plan "$PLAN" --title "7·31 暴雨" \
	2>"$T/decl.err" | head -n1)
[ "$EM" = EM-XC-000001 ] || die "declare printed '$EM': $(cat "$T/decl.err")"

# ---- 3. the tasks, each station its own, once --------------------------
tasks_of() { # HOME: the task cases it holds, "ID TASK" sorted
	wh --home "$1" --json case list --all 2>/dev/null |
		jq -r '.[] | select(.emergency_task != null) | "\(.id) \(.emergency_task.task)"' |
		LC_ALL=C sort
}
ntasks() { tasks_of "$1" | wc -l; }
# In the emergency A and B, of one street, carry each other's cases
# (neighbour relay): what each made is what is under its own code.
own_tasks() { tasks_of "$1" | grep "^$2-"; }
nown() { own_tasks "$1" "$2" | wc -l; }
want_tasks() { [ "$(nown "$SA" XJK-ZDY)" = 2 ] && [ "$(nown "$SB" XJK-BTS)" = 1 ]; }
wait_until 30 "A and B make their plan tasks into cases" want_tasks || true
at_hub() { [ "$(ntasks "$HB")" = 3 ] && [ "$(ntasks "$DS")" = 3 ]; }
wait_until 30 "the task cases reach the hub and the district" at_hub || true
check "A holds basement and shelter under its own code" \
	test "$(own_tasks "$SA" XJK-ZDY | sed 's/-[0-9]* / /')" = "$(printf 'XJK-ZDY basement\nXJK-ZDY shelter')"
check "B made only its own basement task" \
	test "$(own_tasks "$SB" XJK-BTS | sed 's/-[0-9]* / /')" = "XJK-BTS basement"
wait_until 30 "B carries A's tasks and A B's (neighbour relay)" \
	bash -c "[ \"\$('$W' --home '$SB' --json case list --all | jq '[.[] | select(.emergency_task != null)] | length')\" = 3 ]" || true
check "C, outside the area, holds no task" test "$(ntasks "$SC")" = 0
BASE_A=$(tasks_of "$SA" | awk '$2 == "basement" {print $1}')
due_ok() { # the basement task is due at the start plus 2h, urgent
	local start
	start=$(wh --home "$SA" --json emergency status | jq -r '.emergencies[0].start_ms')
	wh --home "$SA" --json case show "$BASE_A" |
		jq -e --argjson s "$start" '.due_ms == $s + 7200000 and .priority == "urgent"
			and .category == "防汛" and .emergency_task.emergency == "'"$EM"'"' >/dev/null
}
check "A's basement task: category, urgent, due 2h after the start" due_ok
BEFORE=$(own_tasks "$SA" XJK-ZDY)
made=$(wh --home "$SA" --json emergency tasks | jq -r '.made')
check "emergency tasks again makes nothing" test "$made" = 0
wh --home "$SA" sync --peer "$EHUB" >/dev/null 2>&1 || true
agent_stop sa
agent_start sa --peer "$EHUB" --interval 1
# A's cases delivered again from the district, on a file.
wh --home "$DS" export --scope "$A" -o "$T/dis.ops" >/dev/null 2>&1 ||
	die "export from the district"
wh --home "$SA" import "$T/dis.ops" >"$T/imp.out" 2>&1 ||
	bad "re-import on A: $(head -c 200 "$T/imp.out")"
made=$(wh --home "$SA" --json emergency tasks | jq -r '.made')
check "nor after the re-delivery" test "$made" = 0
sleep 3
check "still the same two tasks on A after sync, restart and re-delivery" \
	test "$(own_tasks "$SA" XJK-ZDY)" = "$BEFORE"
check "A made no second case at all" \
	test "$(wh --home "$SA" --json case list --all | jq '[.[] | select(.id | startswith("XJK-ZDY-"))] | length')" = 3
wait_until 20 "the hub still holds three task cases" at_hub || true

# ---- 4. deadlines held in the area, not outside -------------------------
NOW3=$((T0 + 3 * 3600000))
overdue_ids() { WHISTLE_NOW_MS=$NOW3 wh --home "$1" --json case list --overdue | jq -r '.[].id' | sort -u; }
for h in "$SA" "$HB" "$DS"; do
	if overdue_ids "$h" | grep -qx "$IDA"; then
		bad "$(basename "$h"): A's case is overdue during the emergency"
	else ok; fi
done
for h in "$SC" "$DS"; do
	if overdue_ids "$h" | grep -qx "$IDC"; then ok; else
		bad "$(basename "$h"): C's case, outside the area, is not overdue"
	fi
done
held_json() {
	WHISTLE_NOW_MS=$NOW3 wh --home "$SA" --json case show "$IDA" |
		jq -e '.loop.summons[0].report_due_effective_ms == null and (.loop.overdue | length) == 0' >/dev/null
}
check "case show: A's report deadline is held, nothing overdue" held_json

# ---- 5. stats and status -----------------------------------------------
stats_ok() {
	WHISTLE_NOW_MS=$NOW3 wh --home "$SA" --json stats |
		jq -e '.totals.cases == 3 and .tasks.cases == 2 and .tasks.done == 0' >/dev/null
}
check "stats on A counts the two task cases" stats_ok
SHELTER_A=$(tasks_of "$SA" | awk '$2 == "shelter" {print $1}')
wh --home "$SA" case set "$SHELTER_A" --status resolved >/dev/null 2>&1 ||
	bad "resolving the shelter task"
resolved_ok() {
	WHISTLE_NOW_MS=$NOW3 wh --home "$SA" --json stats |
		jq -e '.tasks.done == 1 and .totals.resolution.num == 1 and .totals.resolution.den == 3' >/dev/null
}
check "a resolved task counts in the resolution rate" resolved_ok
hub_stats() {
	WHISTLE_NOW_MS=$NOW3 wh --home "$HB" --json stats | jq -e '.tasks.cases == 3' >/dev/null
}
wait_until 20 "the street's stats count every station's tasks" hub_stats || true
check "status on A shows the emergency" sh -c "'$W' --home '$SA' status | grep -q '应急 Emergency: $EM'"
check "status --json on C shows none" \
	sh -c "'$W' --home '$SC' --json status | jq -e '.emergencies == []'"
progress() {
	wh --home "$DS" --json emergency status |
		jq -e '.emergencies[0].tasks.cases == 3 and .emergencies[0].tasks.done == 1' >/dev/null
}
wait_until 20 "the district sees the tasks' progress" progress || true

# ---- 6. ending it resumes the clock -------------------------------------
END_AT=$((T0 + 2 * 3600000))
if wh --home "$SA" emergency end "$EM" >"$T/end.out" 2>&1; then
	bad "a community station ended the emergency"
else ok; fi
wh --home "$DS" emergency end "$EM" --at "$END_AT" >"$T/end.out" 2>&1 ||
	die "end: $(head -c 300 "$T/end.out")"
ended_on() {
	wh --home "$1" --json emergency status --all |
		jq -e --argjson e "$END_AT" '.emergencies[0].until_ms == $e' >/dev/null
}
wait_until 30 "the end reaches station A" ended_on "$SA" || true
late_of() { # HOME ID WHAT: late_ms at now + 3h
	WHISTLE_NOW_MS=$NOW3 wh --home "$1" --json case list --overdue |
		jq -r --arg id "$2" --arg w "$3" '[.[] | select(.id == $id and .what == $w)][0].late_ms // 0'
}
for h in "$SA" "$DS"; do
	la=$(late_of "$h" "$IDA" report)
	if [ "$la" -gt $((20 * 60000)) ] && [ "$la" -lt $((45 * 60000)) ]; then ok; else
		bad "$(basename "$h"): after the end A is late $la ms to report (want about 30 min)"
	fi
done
lc=$(late_of "$DS" "$IDC" report)
if [ "$lc" -gt $((140 * 60000)) ]; then ok; else
	bad "C's lateness $lc ms (want about 2.5 h)"
fi
check "the district cannot end it twice" \
	sh -c "! '$W' --home '$DS' emergency end '$EM' --at $END_AT"
if wh --home "$DS" emergency extend "$EM" --end open >"$T/ext.out" 2>&1; then
	bad "an ended emergency was extended"
else
	check "an end is final: no extension" grep -q "an end is final" "$T/ext.out"
fi

check_alive dis hub sa sb sc
check_logs
lib_end
