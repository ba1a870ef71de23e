#!/usr/bin/env bash
#
# test_trust.sh: the district's roster through the real binary (issue 5).
# The administrator builds an authority with `whistle authority`: grants
# a community station (赵登禹), a street hub, a department (城管) and a
# street delegate, whose own roster grants a second community station
# (西四). Station homes are bootstrapped with `init --authority` and
# `roster apply`; rosters travel as files (roster.wr, `roster export`),
# ops as op files (`export`/`import`), as on a USB stick.
#
# Then every refusal path of the roster's rule, through the CLI, each
# with its exit code and reason: an unknown author; an expired member; a
# role that may not take the step (a station reporting, a department
# creating); a case outside the author's jurisdiction; a department on a
# case it was not whistled to (then accepted once a whistle names it); a
# revoked key after its revocation (and its earlier ops still importing);
# a roster signed by another authority; an older roster replayed; a
# revocation arriving late purging ops already held; `authority replace`
# starting the new key's case numbers above the old; `authority move`
# keeping the old ops valid. And the administrator's own checks: every
# bad argument refused with nothing written.
#
# Ops are stamped by the real clock (agent/main.c says why), so times of
# revocations and moves are taken from the clock between steps; only
# the authority's own "now" (issued, default --from/--at) is pinned with
# WHISTLE_NOW_MS where a check needs it exactly.
#
# usage: bash test_trust.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_trust "$@"
unset WHISTLE_AUTHORITY_DIR

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
		bad "$desc: want exit $code, got $rc; stderr: $(head -c 400 "$T/err")"
	fi
}
# says DESC PATTERN: the last command's stderr matches PATTERN
says() { if grep -q -- "$2" "$T/err"; then ok; else bad "$1: stderr lacks '$2': $(head -c 400 "$T/err")"; fi; }
# prints DESC PATTERN: the last command's stdout matches PATTERN
prints() { if grep -q -- "$2" "$T/out"; then ok; else bad "$1: stdout lacks '$2': $(head -c 400 "$T/out")"; fi; }
# jqc DESC FILTER: the last command's JSON output satisfies FILTER
jqc() {
	if jq -e "$2" "$T/out" >/dev/null 2>&1; then
		ok
	else
		bad "$1: $2 is not true of $(head -c 800 "$T/out")"
	fi
}
# unchanged DESC HOME DIGEST: a refused step wrote nothing
unchanged() { if [ "$(digest_of "$2")" = "$3" ]; then ok; else bad "$1: the store changed"; fi; }
# serial DIR: the serial of DIR/roster.wr
serial() { wh --json authority show --dir "$1" 2>/dev/null | jq -r '.roster.serial'; }
# carry FROM TO: every op of home FROM into home TO, by op file
carry() {
	rm -f "$T/carry.ops"
	wh --home "$1" export -o "$T/carry.ops" 2>"$T/carry.err" &&
		wh --home "$2" import "$T/carry.ops" >/dev/null 2>>"$T/carry.err" ||
		die "carry $1 -> $2: $(tail -n2 "$T/carry.err")"
}
# station NAME PATH ROLE CODE [DEPT]: a home bound to the authority
station() {
	local h=$T/$1
	if ! wh --home "$h" init --path "$2" --role "$3" --code "$4" \
		${5:+--department "$5"} --authority "$AK" >"$T/init.out" 2>&1; then
		die "init $1: $(head -c 300 "$T/init.out")"
	fi
	HOMEOF[$1]=$h
	KEYOF[$1]=$(wh --home "$h" key show)
}
# apply NAME FILE: install a roster file on a home, which must succeed
apply() {
	wh --home "${HOMEOF[$1]}" roster apply "$2" >"$T/apply.out" 2>&1 ||
		die "roster apply $2 on $1: $(head -c 300 "$T/apply.out")"
}
# case_new NAME ARGS...: a new case on home NAME, its id
case_new() { new_case "${HOMEOF[$1]}" "${@:2}"; }

ZDY_P=xicheng/xinjiekou/zhaodengyu
XS_P=xicheng/xinjiekou/xisi
AD=$T/district
DL=$T/xinjiekou-delegate

# ---- the authority ------------------------------------------------------------
want 2 "authority without a directory" authority show
says "names --dir" "pass --dir DIR or set WHISTLE_AUTHORITY_DIR"
want 2 "init without --path" authority init --dir "$AD"
check "refused init made nothing" test ! -e "$AD"
mkhome lab0 xicheng/xinjiekou/lab0 station XJK-L0
want 0 "authority init" authority init --dir "$AD" --path xicheng --name 西城区
AK=$(head -n1 "$T/out")
grep -Eqx '[0-9a-f]{64}' <<<"$AK" || die "authority init printed '$AK' first"
check "the key is the directory's public key" test "$(cat "$AD/authority.pub")" = "$AK"
check "authority.key mode 0600" test "$(stat -c %a "$AD/authority.key")" = 600
check "directory mode 0700" test "$(stat -c %a "$AD")" = 700
want 1 "init again" authority init --dir "$AD" --path xicheng
says "refuses a directory with a key" "already holds a key"
want 1 "init in a station home" authority init --dir "${HOMEOF[lab0]}" --path xicheng
says "station home named" "is a station home"
check "the station home got no authority files" test ! -e "${HOMEOF[lab0]}/authority.key"
WHISTLE_AUTHORITY_DIR=$AD want 0 "show from \$WHISTLE_AUTHORITY_DIR" --json authority show
jqc "roster 1, empty, scope xicheng" '.roster.serial == 1 and .roster.grants == [] and .roster.scope == "xicheng" and .public_key == "'"$AK"'" and .kind == "authority"'
chmod 0644 "$AD/authority.key"
want 1 "a readable key is refused" authority show --dir "$AD"
says "mode named" "readable by group or others"
chmod 0600 "$AD/authority.key"

# ---- stations -------------------------------------------------------------------
want 2 "init --authority with a bad key" --home "$T/badinit" init --path "$ZDY_P" --authority 1234
says "bad key named" "--authority '1234'"
check "refused init made nothing" test ! -e "$T/badinit"
station zdy "$ZDY_P" station XJK-ZDY
station hub xicheng/xinjiekou street XJK
station cg xicheng/chengguan department CG 城管
station xs "$XS_P" station XJK-XS
station stranger xicheng/xinjiekou/baita station XJK-BT
station old xicheng/xinjiekou/xinjie station XJK-XJ
# its whistle.conf says department 城管; the roster says station
station fake "$ZDY_P" department FK 城管
station rv xicheng/xinjiekou/fuyou station XJK-FY
station mv xicheng/xinjiekou/dongguan station XJK-DG
check "authority in whistle.conf" grep -qx "authority = $AK" "${HOMEOF[zdy]}/whistle.conf"

# Bound, no roster yet: nothing can be written.
want 1 "case new before any roster" --home "${HOMEOF[zdy]}" case new --title 井盖缺失
says "refused by the roster" "refused by the roster: author is not in the roster"
want 0 "status: no roster yet" --home "${HOMEOF[zdy]}" status
prints "status says no roster" "授权 Authority: ${AK:0:8}…, no roster yet"

# ---- grants, and the administrator's checks --------------------------------------
S0=$(serial "$AD")
cp "$AD/roster.wr" "$T/r1.wr"
want 2 "add: bad role" authority add --dir "$AD" --key "${KEYOF[zdy]}" --name zdy --role mayor --path "$ZDY_P" --code XJK-ZDY
says "role named" "--role 'mayor'"
want 2 "add: station without --code" authority add --dir "$AD" --key "${KEYOF[zdy]}" --name zdy --role station --path "$ZDY_P"
says "code required" "--code CODE is required"
want 2 "add: department without --dept" authority add --dir "$AD" --key "${KEYOF[cg]}" --name cg --role department --path xicheng
says "dept required" "needs --dept"
want 2 "add: --dept on a station" authority add --dir "$AD" --key "${KEYOF[zdy]}" --name zdy --role station --path "$ZDY_P" --code XJK-ZDY --dept 城管
says "dept only for departments" "--dept goes with --role department"
want 2 "add: --code on a department" authority add --dir "$AD" --key "${KEYOF[cg]}" --name cg --role department --path xicheng --dept 城管 --code CG
want 2 "add: bad key" authority add --dir "$AD" --key XYZ --name zdy --role station --path "$ZDY_P" --code XJK-ZDY
says "key named" "--key 'XYZ': not a public key"
want 2 "add: bad time" authority add --dir "$AD" --key "${KEYOF[zdy]}" --name zdy --role station --path "$ZDY_P" --code XJK-ZDY --from tomorrow
says "time named" "--from 'tomorrow': not a time"
want 2 "add: no such date" authority add --dir "$AD" --key "${KEYOF[zdy]}" --name zdy --role station --path "$ZDY_P" --code XJK-ZDY --from "2026-02-30 10:00"
says "date named" "no such date or time"
want 2 "add: until before from" authority add --dir "$AD" --key "${KEYOF[zdy]}" --name zdy --role station --path "$ZDY_P" --code XJK-ZDY --from 2000 --until 1000
says "span named" "--until must be after --from"
want 2 "add: --role delegate" authority add --dir "$AD" --key "${KEYOF[zdy]}" --name zdy --role delegate --path "$ZDY_P"
says "delegate pointed to" "authority delegate"
want 1 "add: outside the scope" authority add --dir "$AD" --key "${KEYOF[zdy]}" --name zdy --role station --path haidian/x --code XJK-ZDY
says "scope named" "lies outside this roster's scope xicheng"
check "refused adds wrote nothing" test "$(serial "$AD")" = "$S0" -a ! -e "$AD/roster.wr.$S0"

want 0 "grant 赵登禹" authority add --dir "$AD" --key "${KEYOF[zdy]}" --name 赵登禹 --role station --path "$ZDY_P" --code XJK-ZDY
prints "grant answer" "granted 赵登禹"
prints "history kept" "roster 1 kept as roster.wr.1"
check "roster 1 kept as roster.wr.1" cmp -s "$AD/roster.wr.1" "$T/r1.wr"
want 1 "add: the same grant twice" authority add --dir "$AD" --key "${KEYOF[zdy]}" --name 赵登禹 --role station --path "$ZDY_P" --code XJK-ZDY
says "duplicate named" "already holds station over $ZDY_P"
want 1 "add: a code another key holds" authority add --dir "$AD" --key "${KEYOF[stranger]}" --name x --role station --path xicheng/xinjiekou/baita --code XJK-ZDY
says "code clash named" "code XJK-ZDY is granted to 赵登禹 already"
want 0 "grant the street hub" authority add --dir "$AD" --key "${KEYOF[hub]}" --name 新街口街道 --role street --path xicheng/xinjiekou --code XJK
want 0 "grant 城管" --json authority add --dir "$AD" --key "${KEYOF[cg]}" --name 城管 --role department --path xicheng --dept 城管
jqc "department grant" '.grants[0].role == "department" and .grants[0].dept == "城管" and .grants[0].code == null'
want 0 "grant the fake (a station)" authority add --dir "$AD" --key "${KEYOF[fake]}" --name fake --role station --path "$ZDY_P" --code FK
want 0 "grant the expired member" authority add --dir "$AD" --key "${KEYOF[old]}" --name 新街 --role station --path xicheng/xinjiekou/xinjie --code XJK-XJ \
	--from "2020-01-01 10:00" --until "2020-01-01T11:00:00+08:00"
want 0 "grant 富佑" authority add --dir "$AD" --key "${KEYOF[rv]}" --name 富佑 --role station --path xicheng/xinjiekou/fuyou --code XJK-FY
want 0 "grant 东官" authority add --dir "$AD" --key "${KEYOF[mv]}" --name 东官 --role station --path xicheng/xinjiekou/dongguan --code XJK-DG
want 0 "show --json" --json authority show --dir "$AD"
jqc "expired member's span (local and offset forms)" '.roster.grants[] | select(.name == "新街") | .from_ms == 1577844000000 and .until_ms == 1577847600000'

# The street's delegate, and the station it grants.
want 0 "delegate init" authority init --dir "$DL" --delegate --path xicheng/xinjiekou --name 新街口
DK=$(head -n1 "$T/out")
want 0 "delegate the street" authority delegate --dir "$AD" --key "$DK" --name 新街口 --path xicheng/xinjiekou
want 1 "a delegate cannot grant a district" authority add --dir "$DL" --key "${KEYOF[xs]}" --name 西四 --role district --path "$XS_P" --code XJK-XS
says "delegate roles named" "a delegate grants only station, street and department"
want 1 "a delegate cannot grant delegates" authority delegate --dir "$DL" --key "${KEYOF[xs]}" --name 西四 --path "$XS_P"
want 1 "a delegate grants inside its street only" authority add --dir "$DL" --key "${KEYOF[xs]}" --name 西四 --role station --path xicheng/shichahai/x --code XJK-XS
want 0 "the delegate grants 西四" authority add --dir "$DL" --key "${KEYOF[xs]}" --name 西四 --role station --path "$XS_P" --code XJK-XS

# ---- bootstrapping: roster.wr, then an exported bundle ------------------------------
apply hub "$AD/roster.wr"
check "hub installed the root roster" grep -q "roster $(serial "$AD") from ${AK:0:8}… (authority) installed" "$T/apply.out"
apply hub "$DL/roster.wr"
want 0 "export the hub's rosters" --home "${HOMEOF[hub]}" roster export -o "$T/bundle.wr"
says "two exported" "exported 2 rosters"
for n in zdy cg xs stranger old fake rv mv; do apply "$n" "$T/bundle.wr"; done
want 0 "roster show" --home "${HOMEOF[xs]}" --json roster show
jqc "root and delegate held" '.authority == "'"$AK"'" and .root.serial == '"$(serial "$AD")"' and (.delegates | length) == 1 and .member_now'
want 0 "status of the hub" --home "${HOMEOF[hub]}" status
prints "status line" "授权 Authority: ${AK:0:8}…, roster serial $(serial "$AD") (+1 delegate roster)"
want 0 "apply the bundle again" --home "${HOMEOF[hub]}" roster apply "$T/bundle.wr"
prints "held already" "held already"

# ---- creating, and each refusal ---------------------------------------------------
ZC=$(case_new zdy --title 楼道堆物 --category 消防隐患) || die "case new on 赵登禹"
check "the first id" test "$ZC" = XJK-ZDY-000001
XC=$(case_new xs --title 路灯不亮) || die "case new on 西四 (granted by the delegate)"

D=$(digest_of "${HOMEOF[stranger]}")
want 1 "unknown author" --home "${HOMEOF[stranger]}" case new --title 井盖缺失
says "no member" "case new: new case: refused by the roster: author is not in the roster"
unchanged "unknown author" "${HOMEOF[stranger]}" "$D"
printf 'title,category\n井盖缺失,市政设施\n' >"$T/rows.csv"
want 1 "bulk intake by an unknown author" --home "${HOMEOF[stranger]}" case import "$T/rows.csv"
says "bulk refusal named" "refused by the roster: author is not in the roster"
unchanged "bulk intake refused" "${HOMEOF[stranger]}" "$D"
want 1 "expired member" --home "${HOMEOF[old]}" case new --title 井盖缺失
says "expired" "refused by the roster: author's membership does not cover this time"
want 1 "a department creating" --home "${HOMEOF[cg]}" case new --title 井盖缺失
says "role" "refused by the roster: author's role may not take this step"

# Out of jurisdiction: 西四's case carried to 赵登禹, who may hold it but
# not act on it.
carry "${HOMEOF[xs]}" "${HOMEOF[zdy]}"
want 0 "赵登禹 holds 西四's case" --home "${HOMEOF[zdy]}" case show "$XC"
D=$(digest_of "${HOMEOF[zdy]}")
want 1 "note on another community's case" --home "${HOMEOF[zdy]}" case note "$XC" 已联系
says "jurisdiction" "$XC: refused by the roster: outside the author's jurisdiction (the case lies outside this station's granted jurisdiction"
want 1 "triage another community's case" --home "${HOMEOF[zdy]}" case triage "$XC" --level small
says "jurisdiction (triage)" "refused by the roster: outside the author's jurisdiction"
unchanged "out of jurisdiction" "${HOMEOF[zdy]}" "$D"

# A department on a case it was not whistled to, then whistled.
want 0 "赵登禹 triages" --home "${HOMEOF[zdy]}" case triage "$ZC" --level small
carry "${HOMEOF[zdy]}" "${HOMEOF[cg]}"
D=$(digest_of "${HOMEOF[cg]}")
want 1 "城管 notes before any whistle" --home "${HOMEOF[cg]}" case note "$ZC" 已到场
says "not summoned" "refused by the roster: department was not summoned to this case"
unchanged "not summoned" "${HOMEOF[cg]}" "$D"
want 0 "赵登禹 whistles 城管" --home "${HOMEOF[zdy]}" case whistle "$ZC" --dept 城管 --as community
want 1 "赵登禹 whistles as the street (keyboard)" --home "${HOMEOF[zdy]}" case whistle "$ZC" --dept 城管 --as street
carry "${HOMEOF[zdy]}" "${HOMEOF[cg]}"
want 0 "城管 notes once whistled" --home "${HOMEOF[cg]}" case note "$ZC" 已到场
want 0 "城管 reports once whistled" --home "${HOMEOF[cg]}" case report "$ZC" --step ack
carry "${HOMEOF[cg]}" "${HOMEOF[hub]}"
want 0 "the hub holds the department's steps" --home "${HOMEOF[hub]}" --json case show "$ZC"
jqc "acked and noted" '.notes >= 1 and (.loop.summons[] | select(.department == "城管") | .acked_at != null)'

# Wrong role for the step: a station reporting. At the keyboard the role
# table says no; a station whose whistle.conf claims a department gets
# past the keyboard and is refused by the store.
want 1 "a station reports (keyboard)" --home "${HOMEOF[zdy]}" case report "$ZC" --step ack --dept 城管
says "keyboard reason" "只能为本部门报到\|报到须由部门本身"
carry "${HOMEOF[hub]}" "${HOMEOF[fake]}"
D=$(digest_of "${HOMEOF[fake]}")
want 1 "a station posing as 城管 reports" --home "${HOMEOF[fake]}" case report "$ZC" --step resolve
says "roster reason" "refused by the roster: author's role may not take this step"
unchanged "posing station" "${HOMEOF[fake]}" "$D"

# Import goes through the rule too: an op file from the unknown author.
mkhome lab xicheng/xinjiekou/baita station XJK-BT
new_case "${HOMEOF[lab]}" --title 实验 >/dev/null || die "case new in lab mode"
wh --home "${HOMEOF[lab]}" export -o "$T/lab.ops" 2>/dev/null || die "export lab"
D=$(digest_of "${HOMEOF[hub]}")
want 1 "import of an unknown author's ops" --home "${HOMEOF[hub]}" import "$T/lab.ops"
says "import names op and reason" "op #1 at byte [0-9]*: author is not in the roster; nothing imported"
unchanged "refused import" "${HOMEOF[hub]}" "$D"

# ---- lab mode, bind ----------------------------------------------------------------
want 0 "status in lab mode" --home "${HOMEOF[lab]}" status
prints "lab line" "授权 Authority: none (lab mode: trust list only)"
want 0 "roster show in lab mode" --home "${HOMEOF[lab]}" roster show
prints "lab show" "authority: none (lab mode"
want 1 "apply in lab mode" --home "${HOMEOF[lab]}" roster apply "$AD/roster.wr"
says "bind first" "not bound to an authority"
want 0 "bind" --home "${HOMEOF[lab]}" roster bind "$AK"
check "bind wrote whistle.conf" grep -qx "authority = $AK" "${HOMEOF[lab]}/whistle.conf"
check "bind kept the rest of whistle.conf" grep -q "^# whistle station configuration" "${HOMEOF[lab]}/whistle.conf"
want 0 "bind again, same key" --home "${HOMEOF[lab]}" roster bind "$AK"
check "one authority line" test "$(grep -c '^authority = ' "${HOMEOF[lab]}/whistle.conf")" = 1
want 1 "bind to another key" --home "${HOMEOF[lab]}" roster bind "$DK"
says "names the conflict" "names another authority"
want 1 "lab case new once bound (no roster yet)" --home "${HOMEOF[lab]}" case new --title x
says "bound lab refused" "refused by the roster"
cp "${HOMEOF[lab]}/whistle.conf" "$T/conf.save"
echo "authority = 12" >>"${HOMEOF[lab]}/whistle.conf"
want 1 "two authority lines" --home "${HOMEOF[lab]}" status
says "conf line named" "bad value for 'authority'"
cp "$T/conf.save" "${HOMEOF[lab]}/whistle.conf"
sed -i "s/^authority = .*/authority = ${AK^^}/" "${HOMEOF[lab]}/whistle.conf"
want 1 "upper-case authority key" --home "${HOMEOF[lab]}" status
says "conf key named" "'authority' must be the district authority's public key"
cp "$T/conf.save" "${HOMEOF[lab]}/whistle.conf"

# ---- rosters refused ------------------------------------------------------------------
want 0 "another authority" authority init --dir "$T/other" --path xicheng
want 1 "roster of another authority" --home "${HOMEOF[hub]}" roster apply "$T/other/roster.wr"
says "not signed" "not signed by the authority or a delegate"
says "refused" ": refused"
SN=$(serial "$AD")
want 1 "older roster replayed" --home "${HOMEOF[hub]}" roster apply "$AD/roster.wr.2"
says "older named" "roster 2 is older than the held $SN: refused"
head -c 100 "$AD/roster.wr" >"$T/cut.wr"
want 1 "a truncated roster" --home "${HOMEOF[hub]}" roster apply "$T/cut.wr"
says "truncated named" "not a roster file"
truncate -s 100M "$T/big.wr" # sparse: refused by its size, never read
want 1 "a huge file" --home "${HOMEOF[hub]}" roster apply "$T/big.wr"
says "size named" "more than a roster file may hold"
rm -f "$T/big.wr"

# ---- revocation, late ------------------------------------------------------------------
# 富佑's PC writes before and after the time it is revoked at, offline;
# the hub takes all of it in before the revocation reaches it.
RC1=$(case_new rv --title 早的案件) || die "case new on 富佑"
wh --home "${HOMEOF[rv]}" export -o "$T/rv-early.ops" 2>/dev/null || die "export early"
sleep 0.05
TREV=$(now_ms)
sleep 0.05
RC2=$(case_new rv --title 晚的案件) || die "second case on 富佑"
wh --home "${HOMEOF[rv]}" case note "$RC1" 晚的备注 >/dev/null 2>&1 || bad "late note on 富佑"
wh --home "${HOMEOF[rv]}" export -o "$T/rv-late.ops" 2>/dev/null || die "export late"
want 0 "the hub takes 富佑's ops" --home "${HOMEOF[hub]}" import "$T/rv-late.ops"
prints "three new" "imported: 3 new"
want 0 "revoke 富佑 at TREV" authority revoke --dir "$AD" --key "${KEYOF[rv]}" --at "$TREV"
prints "revoke answer" "revoked 富佑"
want 1 "revoke again later" authority revoke --dir "$AD" --key "${KEYOF[rv]}"
says "when named" "was revoked already, at"
want 1 "grant a revoked key again" authority add --dir "$AD" --key "${KEYOF[rv]}" --name 富佑 --role station --path xicheng/xinjiekou/fuyou --code XJK-FY2
says "revoked key" "a revoked key is not granted again"
OPS=$(ops_of "${HOMEOF[hub]}")
want 0 "the revocation reaches the hub" --home "${HOMEOF[hub]}" roster apply "$AD/roster.wr"
prints "dropped counted" "installed; 2 ops dropped (revoked or ended grants)"
check "two ops fewer" test "$(ops_of "${HOMEOF[hub]}")" = $((OPS - 2))
want 1 "the case made after the revocation is gone" --home "${HOMEOF[hub]}" case show "$RC2"
want 0 "the earlier case stays" --home "${HOMEOF[hub]}" --json case show "$RC1"
jqc "without the late note" '.notes == 0'
apply rv "$AD/roster.wr"
want 1 "the revoked key writes" --home "${HOMEOF[rv]}" case new --title 又一个
says "revoked" "refused by the roster: author's key was revoked before this time"
want 0 "status of the revoked station" --home "${HOMEOF[rv]}" status
prints "no live grant" "this station holds no live grant"
# A fresh home with the new roster: the early file imports, the late one
# is refused whole, or op by op with --skip-refused.
station fresh xicheng/xinjiekou/zhaodengyu2 station XJK-Z2
apply fresh "$AD/roster.wr"
apply fresh "$DL/roster.wr"
want 0 "earlier ops of a revoked key import" --home "${HOMEOF[fresh]}" import "$T/rv-early.ops"
prints "one new" "imported: 1 new"
want 1 "later ops of a revoked key" --home "${HOMEOF[fresh]}" import "$T/rv-late.ops"
says "reason per op" "author's key was revoked before this time; nothing imported (refused by the roster; --skip-refused"
want 0 "later ops, skipping the refused" --home "${HOMEOF[fresh]}" import --skip-refused "$T/rv-late.ops"
prints "counted" "imported: 0 new, 1 already held, 2 refused"
says "each refused op named" "($RC2, by [0-9a-f]*): refused: author's key was revoked"
check "two refusals listed" test "$(grep -c 'refused: author' "$T/err")" = 2

# WHISTLE_NOW_MS is the authority's "now".
WHISTLE_NOW_MS=1600000000000 run authority revoke --dir "$AD" --key "${KEYOF[old]}" --json
jqc "default --at is WHISTLE_NOW_MS" '.grants[0].revoked_ms == 1600000000000'
WHISTLE_NOW_MS=1600000000000 run --json authority show --dir "$AD"
jqc "issued at WHISTLE_NOW_MS" '.roster.issued_ms == 1600000000000'

# ---- replace: a stolen PC ---------------------------------------------------------------
station zdy2 "$ZDY_P" station XJK-ZDY
want 1 "replace with a key already granted" authority replace --dir "$AD" --old "${KEYOF[zdy]}" --new "${KEYOF[hub]}"
says "new key named" "in the roster already"
want 2 "replace with --seq-from too low" authority replace --dir "$AD" --old "${KEYOF[zdy]}" --new "${KEYOF[zdy2]}" --seq-from 1
says "seq named" "must be above the old grant's first number"
want 0 "replace 赵登禹's key" --json authority replace --dir "$AD" --old "${KEYOF[zdy]}" --new "${KEYOF[zdy2]}"
jqc "copied with numbers above" '(.grants | length) == 1 and .grants[0].name == "赵登禹" and .grants[0].code == "XJK-ZDY" and .grants[0].seq_min == 100001 and .grants[0].path == "'"$ZDY_P"'"'
apply zdy2 "$AD/roster.wr"
apply zdy2 "$DL/roster.wr"
carry "${HOMEOF[hub]}" "${HOMEOF[zdy2]}"
want 0 "the old key's earlier case is held" --home "${HOMEOF[zdy2]}" case show "$ZC"
NC=$(case_new zdy2 --title 新电脑的案件) || die "case new on the new PC"
check "the new key numbers above the old: $NC" test "$NC" = XJK-ZDY-100001
apply zdy "$AD/roster.wr"
want 1 "the stolen key is refused" --home "${HOMEOF[zdy]}" case new --title 偷来的
says "stolen refused" "revoked before this time"

# ---- move: a jurisdiction change ----------------------------------------------------------
MC=$(case_new mv --title 搬迁前的案件) || die "case new on 东官"
wh --home "${HOMEOF[mv]}" export -o "$T/mv.ops" 2>/dev/null || die "export mv"
carry "${HOMEOF[mv]}" "${HOMEOF[hub]}"
OPS=$(ops_of "${HOMEOF[hub]}")
sleep 0.05
want 2 "move to a bad path" authority move --dir "$AD" --key "${KEYOF[mv]}" --path Bad/Path
want 1 "move outside the scope" authority move --dir "$AD" --key "${KEYOF[mv]}" --path haidian/x
want 0 "move 东官" authority move --dir "$AD" --key "${KEYOF[mv]}" --path xicheng/xinjiekou/dongguan2 --code XJK-DG2
prints "move answer" "moved 东官"
want 0 "the move reaches the hub" --home "${HOMEOF[hub]}" roster apply "$AD/roster.wr"
check "nothing dropped by a move" test "$(ops_of "${HOMEOF[hub]}")" = "$OPS"
want 0 "the case made before the move stays" --home "${HOMEOF[hub]}" case show "$MC"
want 0 "the move reaches 东官" --home "${HOMEOF[mv]}" roster apply "$AD/roster.wr"
prints "whistle.conf mismatch noted" "edit whistle.conf to match"
want 1 "东官 under its old path" --home "${HOMEOF[mv]}" case new --title 旧辖区
says "old path refused" "refused by the roster: outside the author's jurisdiction"
sed -i -e 's|^path = .*|path = xicheng/xinjiekou/dongguan2|' -e 's|^code = .*|code = XJK-DG2|' "${HOMEOF[mv]}/whistle.conf"
NM=$(case_new mv --title 新辖区的案件) || bad "case new under the new path"
check "new code after the move" test "$NM" = XJK-DG2-000001
apply fresh "$AD/roster.wr"
want 0 "earlier ops of a moved key import" --home "${HOMEOF[fresh]}" import "$T/mv.ops"
prints "moved key's op taken" "imported: 1 new"
want 0 "history kept for every change" authority show --dir "$AD"
check "roster.wr.N for each serial" test -e "$AD/roster.wr.$(($(serial "$AD") - 1))" -a -e "$AD/roster.wr.1"

lib_end
