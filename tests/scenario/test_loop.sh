#!/usr/bin/env bash
#
# test_loop.sh: the whistle-and-report loop (吹哨报到) through the real
# binary: a street hub triages a case and whistles 城管 (lead) and 住建
# with time limits; the departments report from their own stations; what
# is overdue at a chosen "now" (WHISTLE_NOW_MS) is listed; the lead's
# resolve resolves the case; feedback, the resident's and the street's
# ratings; the resident reopens it at the community station; a second
# round resolves it again. Along the way every refusal is checked: the
# exit code, the message, and that nothing was written.
#
# Ops go between the stations by op file, as on a USB stick: roles keep a
# department's report to the department's own station (agent/roles.c),
# so no one station can run the whole loop, and the hub's store is the
# "one station" whose views are checked at each step.
#
# usage: bash test_loop.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_loop "$@"

# run ARGS...: whistle (time-bounded); rc, and output in $T/out, $T/err
run() {
	wh "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
# want RC DESC ARGS...
want() {
	local code=$1 desc=$2
	shift 2
	run "$@"
	if [ "$rc" = "$code" ]; then
		ok
	else
		bad "$desc: want exit $code, got $rc; stderr: $(head -c 300 "$T/err")"
	fi
}
# says DESC PATTERN: the last command's stderr matches PATTERN
says() { if grep -q -- "$2" "$T/err"; then ok; else bad "$1: stderr lacks '$2': $(head -c 300 "$T/err")"; fi; }
# jqc DESC FILTER: the last command's JSON output satisfies FILTER
jqc() {
	if jq -e "$2" "$T/out" >/dev/null 2>&1; then
		ok
	else
		bad "$1: $2 is not true of $(head -c 800 "$T/out")"
	fi
}
# shown: the case as the hub shows it now, into $T/out
shown() { run --home "$HUB" --json case show "$ID"; }
# overdue_at MS: the hub's overdue list at that "now", into $T/out
overdue_at() { WHISTLE_NOW_MS=$1 run --home "$HUB" --json case list --overdue; }
# carry FROM TO: every op of home FROM into home TO, by op file
carry() {
	rm -f "$T/carry.ops"
	wh --home "$1" export -o "$T/carry.ops" 2>"$T/carry.err" &&
		wh --home "$2" import "$T/carry.ops" >/dev/null 2>>"$T/carry.err" ||
		die "carry $1 -> $2: $(tail -n2 "$T/carry.err")"
}
# unchanged DESC HOME DIGEST: a refused step wrote nothing
unchanged() { if [ "$(digest_of "$2")" = "$3" ]; then ok; else bad "$1: the store changed"; fi; }

H=3600000
HUB=$T/xinjiekou
ZDY=$T/zhaodengyu
CG=$T/chengguan
ZJ=$T/zhujian
GA=$T/gongan

# ---- stations ---------------------------------------------------------------
want 0 "init street hub" --home "$HUB" init --path xicheng/xinjiekou --role street --code XJK
want 0 "init community" --home "$ZDY" init --path xicheng/xinjiekou/zhaodengyu
want 0 "init 城管" --home "$CG" init --path xicheng/chengguan --role department --department 城管 --code CG
check "department in the config" grep -qx 'department = 城管' "$CG/whistle.conf"
want 0 "init 住建 --json" --home "$ZJ" --json init --path xicheng/zhujian --role department --department 住建 --code ZJ
jqc "init json names the department" '.role == "department" and .department == "住建"'
want 0 "init 公安" --home "$GA" init --path xicheng/gongan --role department --department 公安 --code GA
want 2 "department role without a name" --home "$T/x1" init --path xicheng/x --role department
says "names --department" "--department"
want 2 "department name on a station" --home "$T/x2" init --path xicheng/x --department 城管
check "refused inits made nothing" test ! -e "$T/x1" -a ! -e "$T/x2"
want 0 "status of a department station" --home "$CG" --json status
jqc "status role" '.role == "department"'

# ---- take in, triage --------------------------------------------------------
ID=$(new_case "$HUB" --title 老旧小区加装电梯施工占道 --category 加装电梯 --source hotline) ||
	die "case new"
D=$(digest_of "$HUB")
want 1 "whistle before triage" --home "$HUB" case whistle "$ID" --dept 城管
says "names the reason" "先分流"
unchanged "whistle before triage" "$HUB" "$D"
want 2 "bad --level" --home "$HUB" case triage "$ID" --level huge
says "bad --level named" "--level 'huge'"
want 2 "triage without --level" --home "$HUB" case triage "$ID"
want 0 "triage big" --home "$HUB" case triage "$ID" --level 大事 --reason 涉及城管住建
check "triage answer" grep -q "$ID: 分流 大事 (big)" "$T/out"
shown
jqc "level big" '.loop.level == "big" and .loop.level_label == "大事" and .loop.round == 0'
jqc "nothing summoned" '.loop.whistles == 0 and .loop.summons == [] and .loop.conflicts == []'
want 1 "case not held" --home "$HUB" case triage XJK-000099 --level small
says "no such case named" "no case XJK-000099"

# ---- whistle ----------------------------------------------------------------
D=$(digest_of "$HUB")
want 2 "bad duration" --home "$HUB" case whistle "$ID" --dept 城管 --report-within 2x
says "bad duration named" "--report-within '2x'"
want 2 "duration without unit" --home "$HUB" case whistle "$ID" --dept 城管 --resolve-within 7
says "unitless duration named" "--resolve-within '7'"
want 2 "duration past a year" --home "$HUB" case whistle "$ID" --dept 城管 --report-within 400d
says "too long named" "'400d'"
want 2 "lead not summoned" --home "$HUB" case whistle "$ID" --dept 住建 --lead 城管
want 2 "bad --kind" --home "$HUB" case whistle "$ID" --dept 城管 --kind loud
says "bad --kind named" "--kind 'loud'"
want 1 "big matter, community rank" --home "$HUB" case whistle "$ID" --dept 城管 --as community
says "street rank reason" "大事由街道吹哨"
unchanged "refused whistles" "$HUB" "$D"
want 0 "whistle 城管 (lead) and 住建" --home "$HUB" case whistle "$ID" --dept 城管 \
	--dept 住建 --lead 城管 --report-within 2h --resolve-within 7d --text 请两部门到场
check "whistle answer" grep -q "集结哨 (assemble), 街道书记 → 城管 (牵头), 住建" "$T/out"
shown
jqc "one whistle, assemble" '.loop.whistles == 1 and .loop.last_whistle == "assemble"'
jqc "two summonses this round" '[.loop.summons[] | select(.current)] | length == 2'
jqc "城管 leads" '[.loop.summons[] | select(.lead) | .department] == ["城管"]'
jqc "limits" '.loop.summons | all(.resolve_due_ms - .report_due_ms == 7*86400000 - 2*3600000)'
jqc "nobody reported" '.loop.summons | all(.acked_at == null and .resolved_at == null)'
DUE=$(jq -r '.loop.summons[0].report_due_ms' "$T/out")
NOW3=$((DUE + H)) # three hours after the whistle

# ---- overdue ----------------------------------------------------------------
overdue_at $((DUE - 60000))
jqc "not yet overdue" '. == []'
overdue_at $NOW3
jqc "both departments late to report" 'length == 2 and all(.what == "report" and .late_ms == 3600000 and .id == "'"$ID"'")'
jqc "the departments" '[.[].department] | sort == (["城管","住建"] | sort)'
jqc "due_ms" "all(.due_ms == $DUE)"
WHISTLE_NOW_MS=$NOW3 run --home "$HUB" case list --overdue
check "text: 报到超时" grep -q 报到超时 "$T/out"
check "text: how late" grep -q '1小时 (1h)' "$T/out"
WHISTLE_NOW_MS=$NOW3 run --home "$HUB" --json case show "$ID"
jqc "show: overdue marks" '.loop.overdue | length == 2 and all(.what == "report")'
WHISTLE_NOW_MS=$((NOW3 + 2 * H + 15 * 60000)) run --home "$HUB" case show "$ID"
check "show text: lateness" grep -q '报到超时 3小时15分 (3h15m)' "$T/out"
WHISTLE_NOW_MS=soon run --home "$HUB" case list --overdue
if [ "$rc" = 2 ]; then ok; else bad "WHISTLE_NOW_MS=soon: exit $rc"; fi
want 2 "--overdue with --status" --home "$HUB" case list --overdue --status new

# ---- departments report --------------------------------------------------------
carry "$HUB" "$ZJ"
want 0 "住建 acks (its own department by default)" --home "$ZJ" case report "$ID" --step 报到
check "report answer" grep -q "住建 报到 (ack)" "$T/out"
carry "$ZJ" "$HUB"
overdue_at $NOW3
jqc "only 城管 still late" 'length == 1 and .[0].department == "城管" and .[0].what == "report"'
shown
jqc "住建 acked" '.loop.summons[] | select(.department == "住建") | .acked_at != null'

carry "$HUB" "$CG"
carry "$HUB" "$GA"
D=$(digest_of "$CG")
want 1 "城管's station reports for 住建" --home "$CG" case report "$ID" --dept 住建 --step ack
says "own department only" "只能为本部门报到"
want 1 "城管's station may not triage" --home "$CG" case triage "$ID" --level small
unchanged "department refusals" "$CG" "$D"
D=$(digest_of "$GA")
want 1 "公安 was not summoned" --home "$GA" case report "$ID" --step ack
says "not summoned" "未被吹哨"
unchanged "公安 refused" "$GA" "$D"
want 1 "the hub may not report for a department" --home "$HUB" case report "$ID" --dept 城管 --step ack
want 2 "bad --step" --home "$CG" case report "$ID" --step done
says "bad --step named" "--step 'done'"

# nothing to rate yet; the case is not resolved by hand while 城管 is open
D=$(digest_of "$HUB")
want 1 "rate an open case" --home "$HUB" case rate "$ID" --score 4
says "rate reason" "尚未解决"
want 1 "feedback on an open case" --home "$HUB" case feedback "$ID" --text 已告知
want 1 "resolve by hand while the lead is open" --home "$HUB" case set "$ID" --status resolved
says "set names the lead" "牵头部门尚未办结"
want 2 "--score 6" --home "$HUB" case rate "$ID" --score 6
says "--score named" "--score '6'"
unchanged "refused steps on the hub" "$HUB" "$D"

want 0 "城管 acks" --home "$CG" case report "$ID" --step ack
want 0 "城管 on site" --home "$CG" case report "$ID" --step onsite --text 已到现场
want 0 "城管 progress" --home "$CG" case report "$ID" --step 进展 --text 施工围挡已移走一半
want 0 "城管 resolves" --home "$CG" case report "$ID" --step resolve --text 占道已清理
check "lead resolve answer" grep -q "案件已解决" "$T/out"
want 1 "城管 again after resolving" --home "$CG" case report "$ID" --step progress
carry "$CG" "$HUB"
shown
jqc "case resolved" '.status == "resolved" and .loop.resolved_at != null'
jqc "城管's steps" '.loop.summons[] | select(.department == "城管") | .onsite_at != null and .resolved_at != null and .progress == 1'
jqc "住建 open but the case resolved" '.loop.summons[] | select(.department == "住建") | .resolved_at == null'
overdue_at $((NOW3 + 30 * 24 * H))
jqc "nothing overdue once resolved" '. == []'

# ---- feedback, ratings ---------------------------------------------------------
want 0 "feedback" --home "$HUB" case feedback "$ID" --text 已电话告知反映人 --channel phone
want 2 "bad --channel" --home "$HUB" case feedback "$ID" --text x --channel fax
want 0 "resident rates 4" --home "$HUB" case rate "$ID" --score 4 --comment 基本满意
want 0 "street rates 城管 5" --home "$HUB" case rate "$ID" --dept 城管 --score 5
want 1 "street rates 公安 (not summoned)" --home "$HUB" case rate "$ID" --dept 公安 --score 1
shown
jqc "feedback and resident score" '.loop.feedback == 1 and .loop.resident_score == 4'
jqc "street score" '.loop.summons[] | select(.department == "城管") | .street_score == 5'

# ---- the community station: its role, and the resident's reopen ---------------------
carry "$HUB" "$ZDY"
D=$(digest_of "$ZDY")
want 1 "community rates a department" --home "$ZDY" case rate "$ID" --dept 城管 --score 3
says "street rates departments" "下评上由街道评价"
want 1 "community whistles as the street" --home "$ZDY" case whistle "$ID" --dept 城管 --as street
want 1 "community reopens for the street" --home "$ZDY" case reopen "$ID" --by street
want 2 "reopen without --by" --home "$ZDY" case reopen "$ID"
unchanged "community refusals" "$ZDY" "$D"
want 0 "resident reopens" --home "$ZDY" case reopen "$ID" --by resident --reason 施工又占道了
check "reopen answer" grep -q "已解决 → 已重启" "$T/out"
want 1 "reopen twice" --home "$ZDY" case reopen "$ID" --by resident
carry "$ZDY" "$HUB"
shown
jqc "reopened, round 1" '.status == "reopened" and .loop.round == 1 and .loop.reopened_at != null'
jqc "resident score cleared for the new round" '.loop.resident_score == null'
jqc "old summonses kept with their round" '(.loop.summons | length == 2) and (.loop.summons | all(.round == 0 and (.current | not)))'
jqc "reason kept as a note" '.notes == 1'
want 0 "history: the note" --home "$HUB" --json case show "$ID" --history
jqc "note text" '[.history[] | select(.kind == "note") | .fields.text] == ["重启 (居民 resident): 施工又占道了"]'

# ---- round two ------------------------------------------------------------------
want 0 "whistle again (冲锋哨)" --home "$HUB" case whistle "$ID" --dept 城管 --lead 城管 \
	--kind 冲锋哨 --report-within 1h
want 0 "supervise" --home "$HUB" case supervise "$ID" --text 督办
shown
jqc "three whistles, one supervision" '.loop.whistles == 3 and .loop.supervise == 1 and .loop.last_whistle == "supervise"'
jqc "round-1 summons" '[.loop.summons[] | select(.current) | .department] == ["城管"] and (.loop.summons | length == 3)'
carry "$HUB" "$CG"
want 0 "城管 acks again" --home "$CG" case report "$ID" --step ack
want 0 "城管 resolves again" --home "$CG" case report "$ID" --step resolve
carry "$CG" "$HUB"
shown
jqc "resolved again" '.status == "resolved" and .loop.round == 1 and .loop.resolved_at != null'
jqc "no flags" '.loop.conflicts == []'

# ---- the record -------------------------------------------------------------------
want 0 "history text" --home "$HUB" case show "$ID" --history
for pat in "分流 大事 (big)" "冲锋哨 (charge) 街道书记 → 城管 (牵头)" "城管 办结 (resolve)" \
	"住建 报到 (ack)" "民评官 4/5" "下评上 城管 5/5" "结果反馈 (phone)" "吹哨报到 Loop" \
	"状态 已解决 → 已重启"; do
	check "history shows '$pat'" grep -qF "$pat" "$T/out"
done
want 0 "history json" --home "$HUB" --json case show "$ID" --history
jqc "whistle fields by name" '[.history[] | select(.kind == "whistle")][0].fields | .departments == ["城管","住建"] and .lead == "城管" and .whistle_kind == "assemble" and .whistler == "street" and .report_ms == 7200000'
jqc "report fields" '[.history[] | select(.kind == "report") | .fields.step] | index("onsite") != null'
jqc "every step applied" '[.history[].effect] | all(. == "applied")'
# every station that holds the ops shows the same case
carry "$HUB" "$CG"
show_of "$HUB" "$ID" >"$T/a.json"
show_of "$CG" "$ID" >"$T/b.json"
check "hub and 城管 agree" cmp -s "$T/a.json" "$T/b.json"
# a department lists the cases it was summoned to (none is "carried")
want 0 "城管's case list" --home "$CG" --json case list --all
jqc "城管 lists the summoned case, not carried" "[.[] | select(.id == \"$ID\")] | length == 1 and all(.carried | not)"
want 0 "城管 has nothing to prune" --home "$CG" prune --carried
check "prune at 城管 names nothing carried" grep -q "no carried cases" "$T/out"

lib_end
