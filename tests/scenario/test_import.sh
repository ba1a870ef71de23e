#!/usr/bin/env bash
#
# test_import.sh: `whistle case import`, bulk intake, through the real
# binary. A 12345-style export (Chinese text, a BOM, CRLF, quoted fields
# holding commas, quotes and line ends) imports; a re-run changes nothing
# (same digest); an edited file updates one case and creates one; bad
# rows are reported by line and skipped; --all-or-nothing and --dry-run
# write nothing; JSON Lines of the same rows give the same cases; a bad
# header or a JSON array is refused before anything is written; a 2 MB
# line is refused cleanly; 5,000 rows import in batches (time printed,
# not asserted).
#
# usage: bash test_import.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_import "$@"

mkhome st xicheng/xinjiekou/zhaodengyu station
mkhome js xicheng/xinjiekou/zhaodengyu station
H=${HOMEOF[st]}
D=$T/data
mkdir -p "$D"

# imp HOME ARGS...: case import with a time bound; rc, $T/out, $T/err
imp() {
	wh --home "$1" case import "${@:2}" >"$T/out" 2>"$T/err"
	rc=$?
}
# want RC DESC: the last imp exited RC
want() {
	if [ "$rc" = "$1" ]; then ok; else bad "$2: want exit $1, got $rc: $(head -c 400 "$T/err")"; fi
}
# has DESC FILE TEXT: FILE holds TEXT (fixed string)
has() {
	if grep -qF -- "$3" "$2"; then ok; else bad "$1: '$3' not in: $(head -c 400 "$2")"; fi
}
# case_by_ref HOME REF: the case object whose external_ref is REF
case_by_ref() {
	wh --home "$1" --json case list --all | jq -c --arg r "$2" '.[] | select(.external_ref == $r)'
}
# field HOME REF JQ: one value of that case
field() { case_by_ref "$1" "$2" | jq -r "$3"; }
# eq DESC GOT WANT
eq() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi; }
# projection HOME: what the rows set, for every case, by external_ref
projection() {
	wh --home "$1" --json case list --all | jq -S 'map({external_ref, title,
		description, category, address, source, priority, reporter,
		contact, location, path, status, tags, notes}) | sort_by(.external_ref)'
}

# ---- the rows of a 12345 export ---------------------------------------

cats=(楼道堆物 占道经营 违法建设 居住停车 物业管理 加装电梯)
pris=(normal high urgent 紧急 一般 low)
sts=(new accepted 已受理 in_progress)
srcs=(12345 12345热线 hotline)
HEADER=external_ref,title,description,category,address,source,priority,reporter,contact,lat,lon,grid,status,tags,created

# row_vars I: the values of row I in R_*
row_vars() {
	local i=$1
	R_REF=$(printf 'GD20240501%04d' "$i")
	R_CAT=${cats[i % 6]}
	R_TITLE="第${i}号诉求: ${R_CAT}"
	R_DESC="居民反映, ${R_CAT}问题严重
已多次投诉 \"加急\""
	R_ADDR="赵登禹路$((i % 40))号院, $((i % 6 + 1))单元"
	R_SRC=${srcs[i % 3]}
	R_PRI=${pris[i % 6]}
	R_REP=王女士
	R_TEL=$(printf '1380000%04d' "$i")
	R_LAT=39.93$((i % 10))
	R_LON=116.36$((i % 10))
	R_GRID=g0$((i % 9 + 1))
	R_ST=${sts[i % 4]}
	R_TAGS="热线;${R_CAT}"
	R_CREATED=$(printf '2024-05-01 08:%02d' $((i % 60)))
}
q() { printf '"%s"' "${1//\"/\"\"}"; }
# emit_csv: R_* as one CSV record, CRLF-terminated as Excel writes it
# (the description's own line end stays LF, as Excel keeps it)
emit_csv() {
	printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\r\n' "$R_REF" \
		"$(q "$R_TITLE")" "$(q "$R_DESC")" "$R_CAT" "$(q "$R_ADDR")" \
		"$R_SRC" "$R_PRI" "$R_REP" "$R_TEL" "$R_LAT" "$R_LON" "$R_GRID" \
		"$R_ST" "$(q "$R_TAGS")" "$R_CREATED"
}
emit_jsonl() {
	jq -cn --arg ref "$R_REF" --arg title "$R_TITLE" --arg desc "$R_DESC" \
		--arg cat "$R_CAT" --arg addr "$R_ADDR" --arg src "$R_SRC" \
		--arg pri "$R_PRI" --arg rep "$R_REP" --arg tel "$R_TEL" \
		--arg lat "$R_LAT" --arg lon "$R_LON" --arg grid "$R_GRID" \
		--arg st "$R_ST" --arg tags "$R_TAGS" --arg cr "$R_CREATED" \
		'{external_ref: $ref, title: $title, description: $desc,
		  category: $cat, address: $addr, source: $src, priority: $pri,
		  reporter: $rep, contact: $tel, lat: ($lat | tonumber),
		  lon: ($lon | tonumber), grid: $grid, status: $st,
		  tags: ($tags | split(";")), created: $cr}'
}
csv_head() { printf '\xEF\xBB\xBF%s\r\n' "$HEADER"; }

{
	csv_head
	for i in $(seq 1 50); do row_vars "$i"; emit_csv; done
} >"$D/export.csv"
for i in $(seq 1 50); do row_vars "$i"; emit_jsonl; done >"$D/export.jsonl"
check "50 JSON lines written" [ "$(wc -l <"$D/export.jsonl")" = 50 ]

# ---- import, re-run ---------------------------------------------------

d0=$(digest_of "$H")
imp "$H" "$D/export.csv"
want 0 "import 50 rows"
has "summary" "$T/out" "50 created, 0 updated, 0 unchanged, 0 refused"
check "quiet on a non-terminal" [ ! -s "$T/err" ]
eq "cases held" "$(wh --home "$H" --json case list --all | jq length)" 50
row_vars 7
c7=$(case_by_ref "$H" "$R_REF")
eq "title" "$(jq -r .title <<<"$c7")" "$R_TITLE"
eq "description (comma, quotes, line end)" "$(jq -r .description <<<"$c7")" "$R_DESC"
eq "address with a comma" "$(jq -r .address <<<"$c7")" "$R_ADDR"
eq "priority" "$(jq -r .priority <<<"$c7")" high
eq "status in_progress" "$(jq -r .status <<<"$c7")" in_progress
eq "source 12345热线 -> hotline" "$(jq -r .source <<<"$c7")" hotline
eq "grid -> path" "$(jq -r .path <<<"$c7")" xicheng/xinjiekou/zhaodengyu/g08
eq "tags" "$(jq -c .tags <<<"$c7")" '["占道经营","热线"]'
eq "location" "$(jq -c .location <<<"$c7")" '{"lat":39.937,"lon":116.367}'
eq "created kept as a note" "$(jq -r .notes <<<"$c7")" 1
ID7=$(jq -r .id <<<"$c7")
eq "reporter and contact sealed, opened here" \
	"$(wh --home "$H" --json case show "$ID7" | jq -r '[.personal.state, .reporter, .contact] | join(" ")')" \
	"open $R_REP $R_TEL"
eq "a list does not open them" "$(jq -r '.personal.state' <<<"$c7")" sealed
has "note text" <(wh --home "$H" case show "$ID7") "原系统登记时间 created: 2024-05-01 08:07"
eq "source 12345 -> hotline" "$(field "$H" GD202405010003 .source)" hotline
eq "priority 紧急 -> urgent" "$(field "$H" GD202405010003 .priority)" urgent
eq "status 已受理 -> accepted" "$(field "$H" GD202405010002 .status)" accepted
projection "$H" >"$T/proj.csv"
d1=$(digest_of "$H")
check "digest moved" [ "$d1" != "$d0" ]

imp "$H" "$D/export.csv"
want 0 "re-run"
has "re-run changes nothing" "$T/out" "0 created, 0 updated, 50 unchanged, 0 refused"
eq "re-run: same digest" "$(digest_of "$H")" "$d1"
cat "$D/export.csv" | wh --home "$H" case import - --format csv >"$T/out" 2>"$T/err"
rc=$?
want 0 "stdin"
has "stdin re-run" "$T/out" "stdin: 0 created, 0 updated, 50 unchanged"
eq "stdin: same digest" "$(digest_of "$H")" "$d1"

# ---- an edited export: one priority changed, one row added -------------

{
	csv_head
	for i in $(seq 1 51); do
		row_vars "$i"
		[ "$i" = 7 ] && R_PRI=low
		emit_csv
	done
} >"$D/edited.csv"
imp "$H" "$D/edited.csv"
want 0 "edited file"
has "one updated, one created" "$T/out" "1 created, 1 updated, 49 unchanged, 0 refused"
eq "row 7 priority now low" "$(field "$H" GD202405010007 .priority)" low
eq "row 7 other fields kept" "$(field "$H" GD202405010007 .status)" in_progress
row_vars 51
eq "row 51 created" "$(field "$H" GD202405010051 .title)" "$R_TITLE"
eq "cases held" "$(wh --home "$H" --json case list --all | jq length)" 51
d2=$(digest_of "$H")
imp "$H" "$D/edited.csv"
has "edited re-run changes nothing" "$T/out" "0 created, 0 updated, 51 unchanged"
eq "edited re-run: same digest" "$(digest_of "$H")" "$d2"

# ---- bad rows: reported by the line they start on, the rest land ------

{
	csv_head                                     # line 1
	row_vars 101; emit_csv                       # lines 2-3
	row_vars 102; R_PRI=特急; emit_csv           # lines 4-5
	row_vars 103; R_TITLE=""; R_DESC=一行; emit_csv  # line 6
	row_vars 1; R_ST=new; R_DESC=一行; emit_csv  # line 7: accepted -> new
	row_vars 104; emit_csv                       # lines 8-9
} >"$D/bad.csv"
imp "$H" "$D/bad.csv"
want 1 "bad rows"
has "bad: summary" "$T/out" "2 created, 0 updated, 0 unchanged, 3 refused"
has "bad: priority" "$T/err" "$D/bad.csv:4: priority '特急': not one of"
has "bad: title" "$T/err" "$D/bad.csv:6: title: required for a new case"
has "bad: status" "$T/err" "$D/bad.csv:7: status 'new':"
has "bad: status names both" "$T/err" "已受理 (accepted), which cannot go to 新建 (new)"
eq "bad: three messages" "$(grep -c "^$D/bad.csv:" "$T/err")" 3
row_vars 101
eq "bad: good row before" "$(field "$H" GD202405010101 .title)" "$R_TITLE"
row_vars 104
eq "bad: good row after" "$(field "$H" GD202405010104 .title)" "$R_TITLE"
eq "bad: refused row absent" "$(case_by_ref "$H" GD202405010102)" ""
wh --home "$H" --json case import "$D/bad.csv" >"$T/out" 2>/dev/null
eq "bad --json" "$(jq -c '[.created, .updated, .unchanged, .refused, [.refused_rows[].line]]' "$T/out")" \
	'[0,0,2,3,[4,6,7]]'

# ---- --all-or-nothing and --dry-run write nothing ---------------------

{
	csv_head
	row_vars 201; emit_csv
	row_vars 202; R_LAT=91; emit_csv
} >"$D/aon.csv"
d3=$(digest_of "$H")
imp "$H" "$D/aon.csv" --all-or-nothing
want 1 "all-or-nothing"
has "aon: says so" "$T/out" "nothing written"
has "aon: names the row" "$T/err" "$D/aon.csv:4: lat '91': out of range"
eq "aon: digest unchanged" "$(digest_of "$H")" "$d3"
eq "aon: good row not written" "$(case_by_ref "$H" GD202405010201)" ""
{
	csv_head
	row_vars 201; emit_csv
	row_vars 202; emit_csv
} >"$D/two.csv"
imp "$H" "$D/two.csv" --dry-run
want 0 "dry run"
has "dry run counts" "$T/out" "2 created, 0 updated, 0 unchanged, 0 refused (dry run: nothing written)"
eq "dry run: digest unchanged" "$(digest_of "$H")" "$d3"
cat "$D/two.csv" | wh --home "$H" case import - --format csv --all-or-nothing >"$T/out" 2>"$T/err"
rc=$?
want 0 "all-or-nothing from stdin, all good"
has "aon stdin writes" "$T/out" "2 created, 0 updated, 0 unchanged, 0 refused"
row_vars 202
eq "aon stdin: rows there" "$(field "$H" GD202405010202 .category)" "$R_CAT"

# ---- JSON Lines of the same rows give the same cases ------------------

imp "${HOMEOF[js]}" "$D/export.jsonl"
want 0 "jsonl import"
has "jsonl summary" "$T/out" "50 created, 0 updated, 0 unchanged, 0 refused"
projection "${HOMEOF[js]}" >"$T/proj.jsonl"
if cmp -s "$T/proj.csv" "$T/proj.jsonl"; then ok; else
	bad "jsonl and csv differ: $(diff "$T/proj.csv" "$T/proj.jsonl" | head -n 8)"
fi
imp "${HOMEOF[js]}" "$D/export.jsonl"
has "jsonl re-run" "$T/out" "0 created, 0 updated, 50 unchanged"

# ---- refused before anything is written -------------------------------

d4=$(digest_of "$H")
{ printf 'title,工单号,bogus\r\n'; printf 'x,GD1,y\r\n'; } >"$D/unknown.csv"
imp "$H" "$D/unknown.csv"
want 1 "unknown column"
has "unknown column named" "$T/err" "unknown column 'bogus'"
eq "unknown column: digest unchanged" "$(digest_of "$H")" "$d4"
printf '[{"title": "x"}]\n' >"$D/array.json"
imp "$H" "$D/array.json"
want 1 "a JSON array"
has "array: says JSON Lines" "$T/err" "not JSON Lines"
imp "$H" "$D/export.txt"
want 2 "unknown extension"
imp "$H" "$D/export.csv" --format xml
want 2 "bad --format"
imp "$H"
want 2 "no FILE"
imp "$H" "$D/missing.csv"
want 1 "missing file"
wh --home "$H" import "$D/export.csv" >"$T/out" 2>"$T/err"
rc=$?
want 1 "'whistle import' of a CSV (op files only)"
eq "nothing written by any of these" "$(digest_of "$H")" "$d4"

# ---- a 2 MB line ------------------------------------------------------

big=$(head -c 2097152 /dev/zero | tr '\0' x)
{
	printf '%s\n' "title,external_ref,description"
	printf '%s\n' "大行,BIG1,$big"
	printf '%s\n' "之后,BIG2,ok"
} >"$D/big.csv"
imp "$H" "$D/big.csv"
want 1 "2 MB CSV line"
has "2 MB: clear error" "$T/err" "$D/big.csv:2: record longer than 1048576 bytes"
eq "2 MB: the next row lands" "$(field "$H" BIG2 .title)" 之后
{
	printf '{"title":"大行","external_ref":"BIG3","description":"%s"}\n' "$big"
	printf '{"title":"之后","external_ref":"BIG4"}\n'
} >"$D/big.jsonl"
unset big
imp "$H" "$D/big.jsonl"
want 1 "2 MB JSON line"
has "2 MB json: clear error" "$T/err" "$D/big.jsonl:1: line longer than 1048576 bytes"
eq "2 MB json: the next row lands" "$(field "$H" BIG4 .title)" 之后

# ---- 5,000 rows, batched ----------------------------------------------

mkhome bulk xicheng/xinjiekou/zhaodengyu station
awk -v n=5000 'BEGIN {
	printf "\357\273\277external_ref,title,description,category,grid,priority,status,tags\r\n"
	split("楼道堆物 占道经营 违法建设 居住停车 物业管理 加装电梯", c, " ")
	split("normal high urgent low", p, " ")
	split("new accepted in_progress", s, " ")
	for (i = 1; i <= n; i++)
		printf "B%06d,\"批量诉求 %d, %s\",\"第一行\n第二行 \"\"引号\"\"\",%s,g%02d,%s,%s,\"热线;批量\"\r\n",
			i, i, c[i % 6 + 1], c[i % 6 + 1], i % 12 + 1, p[i % 4 + 1], s[i % 3 + 1]
}' >"$D/5000.csv"
t0=$(now_ms)
imp "${HOMEOF[bulk]}" "$D/5000.csv" --quiet
want 0 "5,000 rows"
say "5,000 rows imported in $(secs_since "$t0") s: $(cat "$T/out")"
has "5,000 created" "$T/out" "5000 created, 0 updated, 0 unchanged, 0 refused"
eq "5,000 cases" "$(wh --home "${HOMEOF[bulk]}" --json case list --all | jq length)" 5000
d5=$(digest_of "${HOMEOF[bulk]}")
t0=$(now_ms)
imp "${HOMEOF[bulk]}" "$D/5000.csv"
say "5,000 rows again in $(secs_since "$t0") s: $(cat "$T/out")"
has "5,000 unchanged" "$T/out" "0 created, 0 updated, 5000 unchanged"
eq "5,000 re-run: same digest" "$(digest_of "${HOMEOF[bulk]}")" "$d5"

lib_end
