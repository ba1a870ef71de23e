#!/usr/bin/env bash
#
# test_problems.sh: the problem list (问题清单) end to end through the real
# binary, without agents: ops move between homes as op files (export
# --scope from the publisher, import on the receiver), which is what sync
# carries too.
#
#   1. a district home publishes share/problems/xicheng-sample.tsv with
#      scripts/publish-problems.sh; `problems list --json` shows every
#      row; publishing it again writes nothing
#   2. a street overrides one category and adds one; stations of that
#      street see the override, a station of another street does not,
#      and the district sees each by --path
#   3. the street removes its override: the district's entry is back
#   4. refusals: a station cannot publish (exit 1, nothing written), a
#      street cannot remove its district's entry, removing an unknown
#      category, a code too long for ~PL-CODE; bad durations exit 2
#   5. the script quotes safely (quotes, $(...), globs, CRLF, Chinese
#      commas) and names the line it stops at
#
# usage: bash test_problems.sh /path/to/whistle /path/to/build/tests
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_problems "$@"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
PUBLISH=$SRC/scripts/publish-problems.sh
SAMPLE=$SRC/share/problems/xicheng-sample.tsv
[ -f "$PUBLISH" ] || die "no $PUBLISH"
[ -f "$SAMPLE" ] || die "no $SAMPLE"
export WHISTLE=$W

# want RC DESC HOME ARGS...: whistle's exit code; output in $T/out, $T/err
want() {
	local code=$1 desc=$2 home=$3
	shift 3
	wh --home "$home" "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" = "$code" ]; then
		ok
	else
		bad "$desc: want exit $code, got $rc; stderr: $(head -c 300 "$T/err")"
	fi
}
# jqc DESC FILTER: the filter holds for $T/out
jqc() { check "$1" jq -e "$2" "$T/out"; }
# carry FROM SCOPE TO...: export FROM's ops for SCOPE, import them on TO
carry() {
	local from=$1 scope=$2 f=$T/carry.ops
	shift 2
	wh --home "${HOMEOF[$from]}" export --scope "$scope" -o "$f" 2>/dev/null ||
		die "export $from --scope $scope"
	for to in "$@"; do
		wh --home "${HOMEOF[$to]}" import "$f" >/dev/null 2>&1 ||
			die "import into $to"
	done
}

mkhome district xicheng district XC
mkhome xjk xicheng/xinjiekou street XJK
mkhome sch xicheng/shichahai street SCH
mkhome zdy xicheng/xinjiekou/zhaodengyu station
mkhome ydx xicheng/shichahai/yandaixiejie station
D=${HOMEOF[district]}
ROWS=$(tail -n +2 "$SAMPLE" | grep -c .)
say "sample has $ROWS rows"

# ---- 1. the district publishes the sample ------------------------------
if bash "$PUBLISH" "$D" "$SAMPLE" >"$T/pub.out" 2>"$T/pub.err"; then ok; else
	bad "publish the sample: $(tail -n 3 "$T/pub.err")"
fi
want 0 "district list --json" "$D" --json problems list
jqc "every row listed" ".entries | length == $ROWS"
jqc "one list, the district's" '.lists == [{"code":"~PL-XC","path":"xicheng","entries":'"$ROWS"'}]'
jqc "every entry from xicheng" 'all(.entries[]; .path == "xicheng")'
jqc "燃气泄漏 as in the file" '.entries[] | select(.category == "燃气泄漏") |
	.lead == "消防" and .departments == ["消防","燃气公司","应急","公安"] and
	.report_within == "30m" and .report_ms == 1800000 and
	.resolve_within == "2h" and (.text | startswith("紧急"))'
jqc "utilities resolve in 24h" '[.entries[] | select(.category | test("^停")) | .resolve_within] == ["24h","24h","24h"]'
jqc "complex requests 15d" '.entries[] | select(.category == "违法建设") | .resolve_within == "15d"'
want 0 "district list text" "$D" problems list
check "text list names 牵头" grep -q '牵头' "$T/out"
check "text list shows 7d" grep -q '楼道堆物.*7d' "$T/out"
OPS1=$(ops_of "$D")
bash "$PUBLISH" "$D" "$SAMPLE" >"$T/pub.out" 2>"$T/pub.err" || bad "publish again"
check "publishing again writes nothing" [ "$(ops_of "$D")" = "$OPS1" ]
check "publishing again says unchanged" [ "$(grep -c 'unchanged' "$T/pub.out")" = "$ROWS" ]
want 0 "same set again" "$D" --json problems set 垃圾满溢 --lead 城管 --dept 城管 \
	--report-within 24h --resolve-within 7d --text "垃圾桶站满溢、清运不及时"
jqc "same set: changed false" '.changed == false and .entry.lead == "城管"'
check "same set wrote nothing" [ "$(ops_of "$D")" = "$OPS1" ]

# ---- 2. a street overrides; stations receive -----------------------------
X=${HOMEOF[xjk]}
want 0 "street override" "$X" problems set 楼道堆物 --lead 城管 --dept 城管 \
	--dept 物业 --resolve-within 24h --text 新街口街道覆盖
want 0 "street's own category" "$X" problems set 胡同停车 --lead 交通 --report-within 2h
carry district xicheng zdy ydx xjk sch
carry xjk xicheng/xinjiekou zdy ydx district
want 0 "zdy list (its own path)" "${HOMEOF[zdy]}" --json problems list
jqc "zdy: path" '.path == "xicheng/xinjiekou/zhaodengyu"'
jqc "zdy: district's and street's entries" ".entries | length == $ROWS + 1"
jqc "zdy: two lists" '[.lists[].code] | sort == ["~PL-XC","~PL-XJK"]'
jqc "zdy: the street's override" '.entries[] | select(.category == "楼道堆物") |
	.lead == "城管" and .departments == ["城管","物业"] and .path == "xicheng/xinjiekou" and
	.resolve_within == "24h" and .report_within == null'
jqc "zdy: the district's other entries" '.entries[] | select(.category == "占道经营") | .path == "xicheng"'
jqc "zdy: the street's own category" '.entries[] | select(.category == "胡同停车") | .lead == "交通"'
want 0 "zdy show (lookup)" "${HOMEOF[zdy]}" --json problems show 楼道堆物
jqc "zdy lookup: street's" '.lead == "城管" and .path == "xicheng/xinjiekou"'
want 0 "ydx list" "${HOMEOF[ydx]}" --json problems list
jqc "ydx: district's only" ".entries | length == $ROWS"
jqc "ydx: district's 楼道堆物" '.entries[] | select(.category == "楼道堆物") | .lead == "消防" and .path == "xicheng"'
jqc "ydx: no other street's category" '[.entries[] | select(.category == "胡同停车")] == []'
want 1 "ydx show of another street's category" "${HOMEOF[ydx]}" problems show 胡同停车
want 0 "district --path zdy" "$D" --json problems list --path xicheng/xinjiekou/zhaodengyu
jqc "district sees the override for zdy" '.entries[] | select(.category == "楼道堆物") | .path == "xicheng/xinjiekou"'
want 0 "district --path ydx" "$D" --json problems list --path xicheng/shichahai/yandaixiejie
jqc "district: not for ydx" '.entries[] | select(.category == "楼道堆物") | .path == "xicheng"'
want 0 "district's own path" "$D" --json problems list
jqc "district's own list unchanged" "(.entries | length) == $ROWS and all(.entries[]; .path == \"xicheng\")"
want 0 "text list on zdy" "${HOMEOF[zdy]}" problems list
check "text names the street as publisher" grep -q '楼道堆物.*xicheng/xinjiekou' "$T/out"

# ---- 3. the street removes its override --------------------------------
want 0 "street removes its override" "$X" problems remove 楼道堆物
want 1 "remove twice" "$X" problems remove 楼道堆物
carry xjk xicheng/xinjiekou zdy
want 0 "zdy show after removal" "${HOMEOF[zdy]}" --json problems show 楼道堆物
jqc "district's entry is back" '.lead == "消防" and .path == "xicheng"'

# ---- 3a. problems publish FILE: the same, in one command ----------------
mkhome pubd haidian district HD
PD=${HOMEOF[pubd]}
want 0 "publish the sample" "$PD" problems publish "$SAMPLE"
want 0 "listed" "$PD" --json problems list
jqc "every row published" ".entries | length == $ROWS"
before=$(digest_of "$PD")
want 0 "publish it again" "$PD" problems publish "$SAMPLE"
check "again: nothing written" [ "$(digest_of "$PD")" = "$before" ]
{
	printf 'category\tlead\tdepartments\treport_within\tresolve_within\ttext\n'
	printf '新类甲\t城管\t城管，公安\t2h\t7d\t好\n'
	printf '新类乙\t城管\t城管\t2周\t7d\t坏\n'
} >"$T/pubbad.tsv"
want 2 "a bad line refuses the file" "$PD" problems publish "$T/pubbad.tsv"
check "names the line" grep -q "pubbad.tsv:3:" "$T/err"
check "nothing of it written" [ "$(digest_of "$PD")" = "$before" ]
printf 'cat\tlead\n' >"$T/pubhdr.tsv"
want 2 "a wrong header" "$PD" problems publish "$T/pubhdr.tsv"
# A category that looks like an option is data (fuzz_problems checks it):
# published under that name, never acting as --json, or as --home, which
# would publish into another home.
mkdir -p "$T/elsewhere"
{
	printf 'category\tlead\tdepartments\treport_within\tresolve_within\ttext\n'
	printf -- '--json\t城管\t城管\t\t\t\n'
	printf -- '--home=%s\t城管\t\t2h\t\t\n' "$T/elsewhere"
} >"$T/pubopt.tsv"
want 0 "categories that look like options" "$PD" problems publish "$T/pubopt.tsv"
check "--json in a line is not an option" sh -c '! jq -e . "$1"' _ "$T/out"
check "--home in a line is not an option" [ -z "$(ls -A "$T/elsewhere")" ]
want 0 "listed" "$PD" --json problems list
jqc "published under their own names" \
	'[.entries[].category] | (index("--json") != null) and (map(startswith("--home=")) | any)'
want 1 "a station cannot publish" "${HOMEOF[zdy]}" problems publish "$SAMPLE"

# ---- 3b. a whistle without --dept takes the list's entry ---------------
X=${HOMEOF[xjk]}
want 0 "a case of a listed category" "$X" case new --title "胡同里新搭彩钢房" --category 违法建设
CID=$(head -n1 "$T/out")
want 0 "triage big" "$X" case triage "$CID" --level big
want 0 "whistle with no --dept" "$X" --json case whistle "$CID"
jqc "the list's departments, lead and limits" \
	'(.loop.summons | map(.department) | sort) == ["住建","城管"]
	 and (.loop.summons | map(select(.lead))[0].department) == "城管"
	 and (.loop.summons[0].resolve_due_ms - .loop.summons[0].report_due_ms) == (15*24-24)*3600000'
want 0 "a case of an unlisted category" "$X" case new --title "其他" --category 没有这一类
CID2=$(head -n1 "$T/out")
want 0 "triage it" "$X" case triage "$CID2" --level big
want 1 "whistle with no --dept and no entry" "$X" case whistle "$CID2"
check "says the list has no entry" grep -q "问题清单无此类别" "$T/err"

# ---- 4. refusals ---------------------------------------------------------
Z=${HOMEOF[zdy]}
OPSZ=$(ops_of "$Z")
want 1 "station cannot set" "$Z" problems set 楼道堆物 --lead 城管
check "refusal names the role" grep -q "role is station" "$T/err"
want 1 "station cannot remove" "$Z" problems remove 楼道堆物
check "station refusals wrote nothing" [ "$(ops_of "$Z")" = "$OPSZ" ]
want 1 "street cannot remove the district's entry" "$X" problems remove 占道经营
check "says whose entry it is" grep -q "published at xicheng" "$T/err"
want 1 "remove unknown category" "$D" problems remove 不存在的类别
OPSD=$(ops_of "$D")
for dur in 2w 0h 1.5h h 24 " 2h" 2h30m -2h 367d 99999999999d 2H; do
	want 2 "bad duration '$dur'" "$D" problems set 测试 --lead 城管 --report-within "$dur"
	check "message names --report-within ('$dur')" grep -q -- "--report-within '$dur'" "$T/err"
done
want 2 "bad --resolve-within" "$D" problems set 测试 --lead 城管 --resolve-within 7days
check "message names --resolve-within" grep -q -- "--resolve-within '7days'" "$T/err"
want 2 "missing --lead" "$D" problems set 测试 --dept 城管
want 2 "missing category" "$D" problems set --lead 城管
want 2 "--dept twice" "$D" problems set 测试 --lead 城管 --dept 公安 --dept 公安
want 2 "lead too long" "$D" problems set 测试 --lead "$(printf '部%.0s' $(seq 30))"
want 2 "unknown option" "$D" problems set 测试 --lead 城管 --deadline 2h
check "usage errors wrote nothing" [ "$(ops_of "$D")" = "$OPSD" ]
want 0 "a limit of 366d is allowed" "$D" problems set 测试 --lead 城管 --resolve-within 366d
want 0 "remove it" "$D" problems remove 测试
mkhome longcode xicheng2 district ABCDEFGHIJKLM
want 1 "code too long for ~PL-CODE" "${HOMEOF[longcode]}" problems set 测试 --lead 城管
check "says the code is too long" grep -q "too long for a problem list id" "$T/err"

# ---- 5. the script quotes safely -----------------------------------------
S=${HOMEOF[sch]}
hostile='说明 "双引号" '"'单引号'"' $(touch '"$T"'/pwned) `id` * ; \n 结束'
{
	printf 'category\tlead\tdepartments\treport_within\tresolve_within\ttext\r\n'
	printf '# a comment line\r\n'
	printf '\r\n'
	printf '银锭桥 占道\t 城管 \t城管，公安、 市场监管 \t\t7d\t%s\r\n' "$hostile"
} >"$T/hostile.tsv"
if bash "$PUBLISH" "$S" "$T/hostile.tsv" >"$T/pub.out" 2>"$T/pub.err"; then ok; else
	bad "publish the hostile file: $(tail -n 3 "$T/pub.err")"
fi
check "no command ran from the file" [ ! -e "$T/pwned" ]
want 0 "hostile entry" "$S" --json problems show "银锭桥 占道"
jq --arg t "$hostile" -e '.text == $t' "$T/out" >/dev/null && ok || bad "text arrives as typed: $(jq -r .text "$T/out")"
jqc "fields trimmed, commas of both kinds" '.lead == "城管" and .departments == ["城管","公安","市场监管"]'
jqc "empty report_within is none" '.report_within == null and .resolve_within == "7d"'
{
	printf 'category\tlead\tdepartments\treport_within\tresolve_within\ttext\n'
	printf '甲\t城管\t城管\t2h\t7d\t好\n'
	printf '乙\t城管\t城管\t2周\t7d\t坏\n'
	printf '丙\t城管\t城管\t2h\t7d\t不会发布\n'
} >"$T/bad.tsv"
bash "$PUBLISH" "$S" "$T/bad.tsv" >"$T/pub.out" 2>"$T/pub.err"
check "script stops at a refused line (exit 1)" [ $? = 1 ]
check "script names the line" grep -q "bad.tsv:3:" "$T/pub.err"
want 0 "lines before it published" "$S" problems show 甲
want 1 "lines after it not" "$S" problems show 丙
printf 'cat\tlead\n甲\t城管\n' >"$T/nohdr.tsv"
bash "$PUBLISH" "$S" "$T/nohdr.tsv" >/dev/null 2>"$T/pub.err"
check "bad header: exit 2" [ $? = 2 ]
printf 'category\tlead\tdepartments\treport_within\tresolve_within\ttext\n甲\t城管\t城管\n' >"$T/short.tsv"
bash "$PUBLISH" "$S" "$T/short.tsv" >/dev/null 2>"$T/pub.err"
check "short line: exit 2" [ $? = 2 ]
check "short line named" grep -q "short.tsv:2: 3 fields" "$T/pub.err"

lib_end
