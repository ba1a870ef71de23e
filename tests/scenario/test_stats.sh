#!/usr/bin/env bash
#
# test_stats.sh: `whistle stats` through the real binary. The data set is
# the fixed loop history of tests/loop_data.h, written to an op file by
# tests/tools/wh_mkloop (signed with the station's own key) and imported;
# every figure checked here is the hand-computed one of
# tests/unit/test_stats.c (the arithmetic is in its comments). Then the
# period (Asia/Shanghai days, whatever TZ says), the scope, CSV quoting,
# and every bad argument (exit 2, naming the value).
#
# usage: bash test_stats.sh /path/to/whistle /path/to/build/tests
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_stats "$@"

MK=$TB/wh_mkloop
[ -x "$MK" ] || die "no $MK (build the tests/tools)"
ZDY=xicheng/xinjiekou/zhaodengyu
NOW=1762995600000 # LD_NOW: 2025-11-13 09:00 Asia/Shanghai
H=$T/zdy

# run ARGS...: whistle stats with 'now' pinned; output in $T/out, $T/err
run() {
	WHISTLE_NOW_MS=${NOW_MS:-$NOW} timeout 60 "$W" --home "$H" "$@" \
		>"$T/out" 2>"$T/err"
	rc=$?
}
# is DESC WANT GOT
is() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: want '$2', got '$3'"; fi
}
# jqis DESC WANT FILTER: jq -c FILTER on $T/out
jqis() { is "$1" "$2" "$(jq -c "$3" "$T/out" 2>&1)"; }
# want_usage DESC NEEDLE ARGS...: exit 2 and stderr names NEEDLE
want_usage() {
	local desc=$1 needle=$2
	shift 2
	run "$@"
	is "$desc: exit" 2 "$rc"
	if grep -qF -- "$needle" "$T/err"; then ok; else
		bad "$desc: stderr does not name '$needle': $(head -c 200 "$T/err")"
	fi
}

# ---- the data set ------------------------------------------------------
wh --home "$H" init --path $ZDY --name 赵登禹社区 >/dev/null 2>&1 || die "init"
got=$("$MK" "$T/loop.ops" "$H/key.secret") || die "wh_mkloop failed"
is "wh_mkloop's now" "$NOW" "$got"
wh --home "$H" import "$T/loop.ops" >"$T/out" 2>&1 || die "import: $(cat "$T/out")"
is "import" "imported: 51 new, 0 already held" "$(cat "$T/out")"

# ---- JSON: totals and departments (default scope: the station) ----------
run --json stats
is "stats --json exit" 0 "$rc"
jqis "scope is the station's path" "\"$ZDY\"" .scope
jqis "all time" '[null,null]' '[.from,.to]'
jqis "now" "[$NOW,\"2025-11-13T01:00:00.000Z\"]" '[.now_ms,.now]'
jqis "cases, cancelled, summonses" '[6,1,9]' \
	'.totals|[.cases,.cancelled,.summonses]'
# 6/8 = 75.0%; 3/5 = 60.0%; 2/3 = 66.7%
# (jq prints 75.0 as 75: the raw text keeps the one decimal)
check "pct written with one decimal" grep -q '"response":{"num":6,"den":8,"pct":75.0}' "$T/out"
jqis "totals rates" '[[6,8,75],[3,5,60],[2,3,66.7]]' \
	'.totals|[.response,.resolution,.satisfaction]|map([.num,.den,.pct])'
# 7 acks, mean 9H/7, p90 3H; 2 lead resolutions, mean 20.5H, p90 21H
jqis "totals times" '[[7,4628571,10800000],[2,73800000,75600000]]' \
	'.totals|[.to_report,.to_resolve]|map([.n,.mean_ms,.p90_ms])'
jqis "totals overdue" '{"cases":1,"summonses":2}' .totals.overdue
jqis "departments, most summoned first" '["城管","公安","住建"]' \
	'[.departments[].department]'
jqis "城管" '[3,4,[3,4,75],[2,4,50],[2,3,66.7],[3,3000000,3600000],[2,45000000,72000000],[1,1]]' \
	'.departments[0]|[.cases,.summonses,(.response,.resolution,.satisfaction|[.num,.den,.pct]),(.to_report,.to_resolve|[.n,.mean_ms,.p90_ms]),[.overdue.cases,.overdue.summonses]]'
jqis "公安" '[3,3,[2,3,66.7],[2,3,66.7],[1,2,50],[3,5400000,10800000],[2,36000000,36000000],[0,0]]' \
	'.departments[1]|[.cases,.summonses,(.response,.resolution,.satisfaction|[.num,.den,.pct]),(.to_report,.to_resolve|[.n,.mean_ms,.p90_ms]),[.overdue.cases,.overdue.summonses]]'
# no street score: pct null; no resolution: times null
jqis "住建" '[2,2,[1,1,100],[0,2,0],[0,0,null],[1,7200000,7200000],[0,null,null],[1,1]]' \
	'.departments[2]|[.cases,.summonses,(.response,.resolution,.satisfaction|[.num,.den,.pct]),(.to_report,.to_resolve|[.n,.mean_ms,.p90_ms]),[.overdue.cases,.overdue.summonses]]'

# an hour and a millisecond later, C5's 住建 report is due too: 6/9
NOW_MS=$((NOW + 3600001)) run --json stats
jqis "later: response 6/9" '[6,9,66.7]' '.totals.response|[.num,.den,.pct]'
jqis "later: overdue" '{"cases":2,"summonses":3}' .totals.overdue

# ---- CSV ---------------------------------------------------------------
run stats --csv
is "stats --csv exit" 0 "$rc"
is "CSV starts with a UTF-8 BOM" "efbbbf" "$(head -c3 "$T/out" | od -An -tx1 | tr -d ' \n')"
is "CSV lines end in CRLF" 5 "$(grep -c $'\r$' "$T/out")"
sed '1s/^\xEF\xBB\xBF//; s/\r$//' "$T/out" >"$T/csv"
is "CSV header" "部门 department,收案数 cases,已撤销 cancelled,被吹哨次数 summonses,响应率 response %,按时报到 on time,应报到 judged,解决率 resolution %,解决 resolved,应解决 of,满意率 satisfaction %,满意 satisfied,评价 rated,平均报到 to report mean ms,报到P90 to report p90 ms,平均解决 to resolve mean ms,解决P90 to resolve p90 ms,超期案件 overdue cases,超期哨 overdue summonses" "$(sed -n 1p "$T/csv")"
is "CSV 城管" "城管,3,,4,75.0,3,4,50.0,2,4,66.7,2,3,3000000,3600000,45000000,72000000,1,1" "$(sed -n 2p "$T/csv")"
is "CSV 公安" "公安,3,,3,66.7,2,3,66.7,2,3,50.0,1,2,5400000,10800000,36000000,36000000,0,0" "$(sed -n 3p "$T/csv")"
is "CSV 住建" "住建,2,,2,100.0,1,1,0.0,0,2,-,0,0,7200000,7200000,-,-,1,1" "$(sed -n 4p "$T/csv")"
is "CSV all" "全部 all,6,1,9,75.0,6,8,60.0,3,5,66.7,2,3,4628571,10800000,73800000,75600000,1,2" "$(sed -n 5p "$T/csv")"

# RFC 4180: the other community's department has a quote and a comma
run stats --csv --scope xicheng/xinjiekou/sanjianfang
sed '1s/^\xEF\xBB\xBF//; s/\r$//' "$T/out" >"$T/csv"
is "CSV quoting" '"水务""排水"",防汛",1,,1,100.0,1,1,100.0,1,1,-,0,0,3600000,3600000,10800000,10800000,0,0' "$(sed -n 2p "$T/csv")"
if command -v python3 >/dev/null; then
	is "CSV parses back (python csv)" '水务"排水",防汛|1' "$(python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline="")))
print(rows[1][0] + "|" + rows[1][1])' "$T/out")"
fi

# ---- text, --by department ----------------------------------------------
run stats --by department
is "stats --by department exit" 0 "$rc"
check "text: response line" grep -Eq '^响应率 response +75\.0%  \(6/8\)$' "$T/out"
check "text: resolution line" grep -Eq '^解决率 resolution +60\.0%  \(3/5\)$' "$T/out"
check "text: satisfaction line" grep -Eq '^满意率 satisfaction +66\.7%  \(2/3\)$' "$T/out"
check "text: time to report" grep -Eq '^报到用时 to report +平均 mean 1小时17分 +P90 3小时 +\(7\)$' "$T/out"
check "text: overdue" grep -q '超期 overdue now        案件 cases 1  哨 summonses 2' "$T/out"
row() { grep "^$1 " "$T/out" | tr -s ' '; }
is "text: 城管 row" "城管 4 75.0% 50.0% 66.7% 50分 1小时 12小时30分 20小时 1" "$(row 城管)"
is "text: 公安 row" "公安 3 66.7% 66.7% 50.0% 1小时30分 3小时 10小时 10小时 0" "$(row 公安)"
is "text: 住建 row" "住建 2 100.0% 0.0% - 2小时 2小时 - - 1" "$(row 住建)"
is "text: all row" "全部 all 9 75.0% 60.0% 66.7% 1小时17分 3小时 20小时30分 21小时 2" "$(row 全部)"
run stats
check "text without --by has no department table" [ -z "$(row 城管)" ]

# ---- scope and period ----------------------------------------------------
run --json stats --scope xicheng/xinjiekou
jqis "wider scope: both communities" '[7,10,4]' \
	'[.totals.cases,.totals.summonses,(.departments|length)]'
run --json stats --scope $ZDY/g02
jqis "grid g02: the small matter only" '[1,0,[1,1],[0,1]]' \
	'.totals|[.cases,.summonses,(.resolution|[.num,.den]),(.satisfaction|[.num,.den])]'
run --json stats --from 2025-11-04 --to 2025-11-05
jqis "two days: C2 and the cancelled C3" '["2025-11-04","2025-11-05",2,1,2,[1,2,50]]' \
	'[.from,.to,.totals.cases,.totals.cancelled,.totals.summonses,(.totals.response|[.num,.den,.pct])]'
# C5 was created 2025-11-13 06:00 in Shanghai, 2025-11-12 in UTC
run --json stats --from 2025-11-13
jqis "from 11-13 (Shanghai day)" 1 .totals.cases
TZ=UTC run --json stats --from 2025-11-13
jqis "from 11-13 under TZ=UTC too" 1 .totals.cases
run --json stats --to 2025-11-12
jqis "to 11-12: all but C5" 5 .totals.cases
run --json stats --from 2025-11-03 --to 2025-11-03
jqis "one day: C1" '[1,2]' '[.totals.cases,.totals.summonses]'

# ---- now from the clock; an empty station ------------------------------
t0=$(now_ms)
timeout 60 "$W" --home "$H" --json stats >"$T/out" 2>"$T/err"
got=$(jq -r .now_ms "$T/out")
if [ -n "$got" ] && [ "$got" -ge "$t0" ] && [ "$got" -le "$(($(now_ms) + 1000))" ]; then ok; else
	bad "now without WHISTLE_NOW_MS: $got, clock $t0"
fi
wh --home "$T/empty" init --path xicheng/xinjiekou/xisi >/dev/null 2>&1 || die "init empty"
timeout 60 "$W" --home "$T/empty" --json stats >"$T/out" 2>"$T/err"
jqis "empty: zeros and nulls" '[0,null,null,[]]' \
	'[.totals.cases,.totals.response.pct,.totals.to_report.mean_ms,.departments]'
timeout 60 "$W" --home "$T/empty" stats --by department >"$T/out" 2>"$T/err"
check "empty: text says no department" grep -q '没有部门被吹哨' "$T/out"

# ---- usage errors: exit 2, the value named --------------------------------
want_usage "bad month" "2025-13-01" stats --from 2025-13-01
want_usage "no such day" "2025-02-30" stats --to 2025-02-30
want_usage "not a date" "yesterday" stats --from yesterday
want_usage "short date" "2025-1-5" stats --from 2025-1-5
want_usage "from after to" "2025-11-05" stats --from 2025-11-05 --to 2025-11-04
want_usage "bad scope" "Xicheng/新街口" stats --scope Xicheng/新街口
want_usage "bad scope //" "xicheng//x" stats --scope xicheng//x
want_usage "bad --by" "street" stats --by street
want_usage "csv and json" "--csv" --json stats --csv
want_usage "stray argument" "extra" stats extra
NOW_MS=soon want_usage "bad WHISTLE_NOW_MS" "soon" stats
run stats --help
is "stats --help exit" 0 "$rc"
check "help names Asia/Shanghai" grep -q 'Asia/Shanghai' "$T/out"
run help
check "stats is in the command table" grep -q '^  stats ' "$T/out"

lib_end
