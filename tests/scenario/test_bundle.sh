#!/usr/bin/env bash
#
# test_bundle.sh: sneakernet bundles (`whistle bundle`) between three
# homes that never connect: community station A (赵登禹), station C of
# the same street (西四北) and the district hub D. A takes cases in and
# writes a bundle for D; C applies it and writes its own bundle for D,
# which carries A's cases on; D applies that. Then D holds A's and C's
# cases with the same digests, and an attachment taken at A.
#
# Before D takes the good bundle it is offered a truncated copy, a copy
# with one bit flipped and a bundle from a station it does not trust:
# each is refused with its reason and D's digest does not move. After
# it: the same bundle again, and an older bundle of C's (a replay),
# change nothing. A bundle cut to a size cap carries the urgent cases
# first and whole. What a peer is known to hold is left out: learnt from
# a bundle it wrote, and from one `whistle sync` with it (the only time
# any two of these homes talk). Last, a district bound to its roster: the
# roster rides in a bundle to stations that do not have it yet, and an
# op the roster refuses is refused alone, with its reason.
#
# usage: bash test_bundle.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_bundle "$@"

A_PATH=xicheng/xinjiekou/zhaodengyu
C_PATH=xicheng/xinjiekou/xisibei
mkhome a "$A_PATH" station ZDY
mkhome c "$C_PATH" station XSB
mkhome d xicheng district XC
mkhome x xicheng/xinjiekou/stranger station STR # trusted by nobody
mkhome f xicheng/xinjiekou station XJK          # takes the capped bundle
trust a c
trust a d
trust c a
trust c d
trust d c
trust d a
trust f a
A=${HOMEOF[a]} C=${HOMEOF[c]} D=${HOMEOF[d]} X=${HOMEOF[x]} F=${HOMEOF[f]}

# step DESC ARGS...: a whistle command that must succeed (output kept)
step() {
	local desc=$1
	shift
	if wh "$@" >"$T/step.out" 2>"$T/step.err"; then ok; else
		bad "$desc: exit $?: $(head -c 300 "$T/step.err")"
	fi
}
# refused DESC PATTERN ARGS...: a whistle command that must fail (exit 1)
# with PATTERN in its message
refused() {
	local desc=$1 pat=$2 rc
	shift 2
	wh "$@" >"$T/ref.out" 2>"$T/ref.err"
	rc=$?
	if [ "$rc" = 1 ] && grep -qiE -- "$pat" "$T/ref.err"; then
		ok
		say "$desc: $(head -n1 "$T/ref.err" | cut -c1-160)"
	else
		bad "$desc: exit $rc (want 1) and '$pat' in: $(head -c 300 "$T/ref.err")"
	fi
}
same() { same_digest "$@"; }

# ---- A takes cases in, writes a bundle for D --------------------------------
for i in 1 2 3; do
	new_case "$A" --title "楼道堆物 $i 号楼" --category 消防隐患 --grid g0$i >/dev/null
done
ID_URG=$(new_case "$A" --title "燃气泄漏，三号院" --category 燃气 --grid g02 \
	--priority urgent) || die "no urgent case"
step "A notes the urgent case" --home "$A" case note "$ID_URG" "已通知燃气公司"
step "A sets it in progress" --home "$A" case set "$ID_URG" --status in_progress
head -c 200000 /dev/urandom >"$T/photo.jpg"
step "A attaches a photo" --home "$A" case attach "$ID_URG" "$T/photo.jpg"
step "A writes a bundle for D" --home "$A" bundle create --for d -o "$T/a1.wb"
check "A's bundle file exists" test -s "$T/a1.wb"
check "A's bundle is owner-only" test "$(stat -c %a "$T/a1.wb")" = 600
check "no temporary file is left" test ! -e "$T/a1.wb.tmp"
wh --home "$C" --json bundle show "$T/a1.wb" >"$T/a1.json" 2>"$T/show.err" ||
	bad "bundle show a1: $(head -c 200 "$T/show.err")"
check "show: A signed it and C trusts A" jq -e --arg k "${KEYOF[a]}" \
	'.writer == $k and .trusted == true and .version == 2' "$T/a1.json"
check "show: 4 cases, the urgent one first" jq -e --arg id "$ID_URG" \
	'(.cases | length) == 4 and .cases[0].id == $id and .cases[0].priority == "urgent"' "$T/a1.json"
check "show: the photo rides along" jq -e '.attachments == 1' "$T/a1.json"

# ---- C applies it, adds its own, writes a bundle for D ----------------------
step "C applies A's bundle" --home "$C" bundle apply "$T/a1.wb"
check "C holds A's cases, same digest" same "$A_PATH" "$A" "$C"
check "C has the photo" bash -c "'$W' --home '$C' case file '$ID_URG' 1 -o '$T/c-photo' && cmp -s '$T/photo.jpg' '$T/c-photo'"
C1=$(new_case "$C" --title "路灯不亮，西四北三条" --category 市政 --grid g01) || die "no case on C"
step "C writes an early bundle for D (replayed later)" --home "$C" bundle create --for d -o "$T/c0.wb"
new_case "$C" --title "共享单车堆放" --category 市容 --grid g02 --priority high >/dev/null
step "C notes its first case" --home "$C" case note "$C1" "已报修"
step "C writes a bundle for D" --home "$C" --json bundle create --for d -o "$T/c1.wb"
check "C's bundle carries A's and C's cases (2 + 4)" jq -e '.cases == 6' "$T/step.out"

# ---- damaged, forged and stranger bundles change nothing at D -----------------
D0=$(digest_of "$D" xicheng)
N0=$(ops_of "$D" xicheng)
size=$(stat -c %s "$T/c1.wb")
head -c $((size - 40)) "$T/c1.wb" >"$T/trunc.wb"
refused "truncated bundle" "truncated" --home "$D" bundle apply "$T/trunc.wb"
cp "$T/c1.wb" "$T/flip.wb"
off=$((size / 2))
byte=$(od -An -tu1 -j "$off" -N1 "$T/flip.wb" | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 4)))" | dd of="$T/flip.wb" bs=1 seek="$off" conv=notrunc status=none
check "the flipped copy differs in one byte" test "$(cmp -l "$T/c1.wb" "$T/flip.wb" | wc -l)" = 1
refused "bit-flipped bundle" "checksum" --home "$D" bundle apply "$T/flip.wb"
new_case "$X" --title "来历不明的案件" --category 其他 --grid g01 >/dev/null
step "a stranger writes a bundle" --home "$X" bundle create --scope xicheng -o "$T/x.wb"
refused "bundle signed by an untrusted key" "does not trust" --home "$D" bundle apply "$T/x.wb"
refused "a text file is not a bundle" "not a (whistle )?bundle" --home "$D" bundle apply "$A/whistle.conf"
check "D's digest did not move" test "$(digest_of "$D" xicheng)" = "$D0"
check "D still holds $N0 ops" test "$(ops_of "$D" xicheng)" = "$N0"
check "the stranger's case is not at D" bash -c "! '$W' --home '$D' case list --all | grep -q STR-"

# ---- the good bundle, then again, then a replay --------------------------------
step "D applies C's bundle" --home "$D" --json bundle apply "$T/c1.wb"
check "D: ops added, none refused" jq -e '.added > 0 and .refused == 0' "$T/step.out"
check "D holds A's cases with A's digest" same "$A_PATH" "$A" "$C" "$D"
check "D holds C's cases with C's digest" same "$C_PATH" "$C" "$D"
check "A's urgent case reads the same at A and D" test "$(view_of "$A" "$ID_URG")" = "$(view_of "$D" "$ID_URG")"
check "D has the photo taken at A" bash -c "'$W' --home '$D' case file '$ID_URG' 1 -o '$T/d-photo' && cmp -s '$T/photo.jpg' '$T/d-photo'"
D1=$(digest_of "$D" xicheng)
step "D applies the same bundle again" --home "$D" --json bundle apply "$T/c1.wb"
check "again: nothing added, all known" jq -e '.added == 0 and .known > 0 and .refused == 0' "$T/step.out"
step "D applies C's older bundle (a replay)" --home "$D" --json bundle apply "$T/c0.wb"
check "replay: nothing added" jq -e '.added == 0 and .refused == 0' "$T/step.out"
check "D's digest did not move after the repeat and the replay" test "$(digest_of "$D" xicheng)" = "$D1"

# ---- a size cap: urgent cases first, each case whole ----------------------------
for i in 1 2 3 4 5 6; do
	new_case "$A" --title "批量普通案件 $i" --category 市容 --grid g0$((i % 3 + 1)) \
		--description "$(head -c 2400 /dev/urandom | base64 -w0)" >/dev/null
done
U2=$(new_case "$A" --title "电梯困人，七号楼" --category 电梯 --grid g03 --priority urgent \
	--description "$(head -c 1200 /dev/urandom | base64 -w0)") || die "no case"
step "A notes the second urgent case" --home "$A" case note "$U2" "已联系维保"
step "A writes a bundle capped at 9000 bytes" --home "$A" --json bundle create \
	--scope "$A_PATH" --max-bytes 9000 -o "$T/cap.wb"
cp "$T/step.out" "$T/cap-create.json"
check "the capped file is within its cap" test "$(stat -c %s "$T/cap.wb")" -le 9000
check "the cap left cases out" jq -e '.left_out > 0 and .urgent == 2' "$T/cap-create.json"
wh --home "$F" --json bundle show "$T/cap.wb" >"$T/cap.json" 2>/dev/null || bad "show cap"
check "capped: both urgent cases come first" jq -e --arg a "$ID_URG" --arg b "$U2" \
	'([.cases[0].id, .cases[1].id] | sort) == ([$a, $b] | sort) and ([.cases[] | select(.priority == "urgent")] | length) == 2' "$T/cap.json"
check "capped: some normal cases made the cut after them" jq -e \
	'(.cases | length) > 2 and ([.cases[2:][] | .priority] | all(. != "urgent"))' "$T/cap.json"
check "capped: the photo did not fit" jq -e '.attachments == 0' "$T/cap.json"
step "F applies the capped bundle" --home "$F" --json bundle apply "$T/cap.wb"
check "F refused nothing" jq -e '.refused == 0' "$T/step.out"
# Whole cases: each case F got reads exactly as at A (every op of it came).
whole=1
for id in $(jq -r '.cases[].id' "$T/cap.json"); do
	[ "$(view_of "$A" "$id")" = "$(view_of "$F" "$id")" ] || { whole=0; say "case $id differs"; }
done
check "every case in the capped bundle arrived whole" test "$whole" = 1
check "F did not get what was left out" test "$(ids_of "$F" | wc -l)" -lt "$(ids_of "$A" "$A_PATH" | wc -l)"
wh --home "$A" bundle create --scope "$A_PATH" --max-bytes 100 -o "$T/tiny.wb" \
	>/dev/null 2>"$T/tiny.err"
check "a cap below the header is a usage error (exit 2)" test $? = 2
check "  and says so" grep -q "cannot hold" "$T/tiny.err"
check "  and writes nothing" test ! -e "$T/tiny.wb"

# ---- what a peer holds: learnt from its bundle --------------------------------------
step "D writes a bundle for C" --home "$D" bundle create --for c -o "$T/d1.wb"
step "C applies D's bundle" --home "$C" --json bundle apply "$T/d1.wb"
check "C learnt that D holds its scope" jq -e '.learnt == true' "$T/step.out"
step "C writes for D again" --home "$C" --json bundle create --for d -o "$T/c2.wb"
cp "$T/step.out" "$T/c2.json"
step "C writes for D ignoring what D holds" --home "$C" --json bundle create --for d --full -o "$T/c2full.wb"
check "what D holds of C's path is left out" jq -e '.known > 0' "$T/c2.json"
check "so the bundle is smaller than with --full" test \
	"$(jq .ops "$T/c2.json")" -lt "$(jq .ops "$T/step.out")"
step "D applies the smaller bundle" --home "$D" bundle apply "$T/c2.wb"
check "D still matches C on C's path" same "$C_PATH" "$C" "$D"

# ---- what a peer holds: learnt from one sync ----------------------------------------
free_port PD
agent_start d --listen "tcp://127.0.0.1:$PD"
step "A syncs once with D" --home "$A" sync --peer "${KEYOF[d]}@tcp://127.0.0.1:$PD" --timeout 30
agent_stop d
step "A writes for D after the sync" --home "$A" --json bundle create --for d -o "$T/a2.wb"
check "after a sync, A's bundle for D leaves A's path out" jq -e \
	'.known > 0 and .ops == 0' "$T/step.out"
# ---- a district bound to its roster ------------------------------------------------
# P and Q are stations, H the district; all three are bound to the
# authority, but only P has its roster yet: the roster rides in P's
# bundle, which is how Q and H learn that P may write at all. L is a
# member kept in lab mode (unbound): it carries a case of R, a key the
# roster does not know, and Q refuses that op alone, with its reason.
AUTH=$T/authority
wh authority init --dir "$AUTH" --path xicheng >"$T/auth.out" 2>&1 ||
	die "authority init: $(head -c 300 "$T/auth.out")"
AKEY=$(grep -Eo '[0-9a-f]{64}' "$T/auth.out" | head -n1)
mkhome p xicheng/xisi/pp station PP
mkhome q xicheng/xisi/qq station QQ
mkhome h xicheng district HX
mkhome l xicheng/xisi/ll station LL
mkhome r xicheng/xisi/rr station RR # no grant
grant() { # NAME ROLE PATH CODE
	wh authority add --dir "$AUTH" --key "${KEYOF[$1]}" --name "$1" \
		--role "$2" --path "$3" --code "$4" >"$T/grant.out" 2>&1 ||
		die "authority add $1: $(head -c 300 "$T/grant.out")"
}
grant p station xicheng/xisi/pp PP
grant q station xicheng/xisi/qq QQ
grant h district xicheng HX
grant l station xicheng/xisi/ll LL
for n in p q h; do
	step "bind $n to the authority" --home "${HOMEOF[$n]}" roster bind "$AKEY"
done
step "P installs the roster" --home "${HOMEOF[p]}" roster apply "$AUTH/roster.wr"
P=${HOMEOF[p]} Q=${HOMEOF[q]} H=${HOMEOF[h]} L=${HOMEOF[l]}
PID=$(new_case "$P" --title "积水，西四北大街" --category 防汛 --grid g01 --priority urgent) ||
	die "no case on P"
step "P writes a bundle for the district" --home "$P" bundle create --for h -o "$T/p1.wb"
step "H (bound, no roster yet) applies P's bundle" --home "$H" --json bundle apply "$T/p1.wb"
check "H installed the roster from the bundle and took P's case" \
	jq -e '.rosters_added == 1 and .added > 0 and .refused == 0' "$T/step.out"
check "H holds P's case" same xicheng/xisi/pp "$P" "$H"
step "Q applies it too" --home "$Q" --json bundle apply "$T/p1.wb"
check "Q: roster installed, P's ops in" jq -e '.rosters_added == 1 and .added > 0' "$T/step.out"
step "Q applies it again" --home "$Q" --json bundle apply "$T/p1.wb"
check "again: the roster is held already, nothing added" \
	jq -e '.rosters_held == 1 and .rosters_added == 0 and .added == 0' "$T/step.out"
RID=$(new_case "${HOMEOF[r]}" --title "无授权的案件" --category 其他 --grid g01) || die "no case on R"
step "R exports its case" --home "${HOMEOF[r]}" export -o "$T/r.ops"
step "L (lab mode) imports R's case" --home "$L" import "$T/r.ops"
LID=$(new_case "$L" --title "树木倒伏" --category 园林 --grid g02) || die "no case on L"
step "L writes a bundle" --home "$L" bundle create --scope xicheng/xisi -o "$T/l1.wb"
Q0=$(digest_of "$Q" xicheng/xisi/rr)
wh --home "$Q" --json bundle apply "$T/l1.wb" >"$T/l1.json" 2>"$T/l1.err"
check "Q takes L's bundle (L is a member)" test $? = 0
check "Q refused R's op alone" jq -e '.refused == 1 and .added == 1' "$T/l1.json"
check "  and said why" grep -q "RR-000001.*refused: author is not in the roster" "$T/l1.err"
check "Q holds L's case" wh --home "$Q" case show "$LID"
check "Q does not hold R's case" bash -c "! '$W' --home '$Q' case show '$RID' >/dev/null 2>&1"
check "Q's digest of R's path did not move" test "$(digest_of "$Q" xicheng/xisi/rr)" = "$Q0"
refused "a bound station refuses a bundle from a non-member" "does not trust" \
	--home "$Q" bundle apply "$T/x.wb"
check_logs
lib_end
