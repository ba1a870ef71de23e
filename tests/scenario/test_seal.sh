#!/usr/bin/env bash
#
# test_seal.sh: a reporter's name and contact, sealed (issue 5, "Trust";
# docs/sealing.md). A district authority grants a community station
# (赵登禹, street 新街口), its street hub, the district hub, a department
# (城管) and the hub of another street (什刹海). Agents run on 127.0.0.1
# over ZeroMQ: station -> street hub -> district hub <- department.
#
#   1. The station takes in a case with a reporter and a contact: the
#      ops carry neither in clear; the station, its street hub and the
#      district hub read them once the key envelope has synced; the
#      department holds the case and the envelope but cannot read them.
#   2. The other street's hub, given the ops on a file, cannot read
#      them; nor can its key with a copy of the street hub's whole store
#      (every envelope in it).
#   3. The street hub whistles 城管: the whistle shares the key with it,
#      and the department reads them.
#   4. A new district member joins the roster: it holds the case but
#      cannot read it until the station reseals; then it can.
#   5. The station erases the personal data: on every replica the case
#      says erased, every envelope is destroyed, setting it again is
#      refused; the audit trail is whole (same history and digest
#      everywhere, and every op imports with its signature checked into
#      a fresh home bound to the authority).
#
# usage: bash test_seal.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_seal "$@"
unset WHISTLE_AUTHORITY_DIR

ZDY=xicheng/xinjiekou/zhaodengyu
REP=王女士
TEL=13800138000

AD=$T/district
wh authority init --dir "$AD" --path xicheng --name 西城区 >"$T/auth.out" 2>&1 ||
	die "authority init: $(head -c 300 "$T/auth.out")"
AK=$(head -n1 "$T/auth.out")
grep -Eqx '[0-9a-f]{64}' <<<"$AK" || die "authority init printed '$AK' first"

# member NAME PATH ROLE CODE [DEPT]: a home bound to the authority, and
# its grant (a department's grant has no code)
member() {
	local h=$T/$1
	wh --home "$h" init --path "$2" --role "$3" --code "$4" \
		${5:+--department "$5"} --authority "$AK" >"$T/init.out" 2>&1 ||
		die "init $1: $(head -c 300 "$T/init.out")"
	HOMEOF[$1]=$h
	PATHOF[$1]=$2
	KEYOF[$1]=$(wh --home "$h" key show)
	if [ -n "${5:-}" ]; then
		wh authority add --dir "$AD" --key "${KEYOF[$1]}" --name "$1" \
			--role "$3" --path "$2" --dept "$5" >"$T/grant.out" 2>&1
	else
		wh authority add --dir "$AD" --key "${KEYOF[$1]}" --name "$1" \
			--role "$3" --path "$2" --code "$4" >"$T/grant.out" 2>&1
	fi || die "grant $1: $(head -c 300 "$T/grant.out")"
}
# apply NAME...: install the current roster on each home
apply() {
	local n
	for n in "$@"; do
		wh --home "${HOMEOF[$n]}" roster apply "$AD/roster.wr" >"$T/apply.out" 2>&1 ||
			die "roster apply on $n: $(head -c 300 "$T/apply.out")"
	done
}

member sa "$ZDY" station XJK-ZDY
member hx xicheng/xinjiekou street XJK
member dis xicheng district XC
member cg xicheng department CG 城管
member hy xicheng/shichahai street SCH
apply sa hx dis cg hy

free_port PHX
free_port PDIS
EHX="${KEYOF[hx]}@tcp://127.0.0.1:$PHX"
EDIS="${KEYOF[dis]}@tcp://127.0.0.1:$PDIS"
agent_start dis --listen "tcp://127.0.0.1:$PDIS" --interval 1
agent_start hx --listen "tcp://127.0.0.1:$PHX" --peer "$EDIS" --interval 1
agent_start sa --peer "$EHX" --interval 1
agent_start cg --peer "$EDIS" --interval 1
SA=${HOMEOF[sa]} HX=${HOMEOF[hx]} DS=${HOMEOF[dis]} CG=${HOMEOF[cg]} HY=${HOMEOF[hy]}

# pd HOME: the case's personal object, compact; fails if the case is not
# held there (jq -e on no input at all would say yes)
pd() {
	local v
	v=$(wh --home "$1" --json case show "$ID" 2>/dev/null | jq -c .personal) &&
		[ -n "$v" ] && [ "$v" != null ] && echo "$v"
}
# pd_is HOME FILTER: the personal object there satisfies FILTER
pd_is() {
	local v
	v=$(pd "$1") || return 1
	jq -e --arg r "$REP" --arg t "$TEL" "$2" <<<"$v" >/dev/null
}
# reads HOME: the case's personal data reads as given there
reads() { pd_is "$1" '.state == "open" and .reporter == $r and .contact == $t'; }
# sealed_here HOME: held, envelopes all here, and still not readable
sealed_here() {
	pd_is "$1" '.state == "sealed" and .reporter == null and
		.contact == null and (.envelopes | length) > 0 and
		all(.envelopes[]; .content == "held")'
}
# erased HOME: erased, every envelope destroyed
erased() {
	pd_is "$1" '.state == "erased" and .reporter == null and
		.contact == null and (.envelopes | length) > 0 and
		all(.envelopes[]; .content == "destroyed")'
}
# kinds HOME: the case's history, op kinds in fold order
kinds() { wh --home "$1" --json case show "$ID" --history | jq -c '[.history[].kind]'; }

# ---- 1. in, sealed, synced ------------------------------------------------
ID=$(new_case "$SA" --title 楼道堆物堵塞消防通道 --category 消防隐患 \
	--reporter "$REP" --contact "$TEL") || die "no case"
check "the station reads what it took in" reads "$SA"
wh --home "$SA" export -o "$T/sa.ops" 2>"$T/exp.err" || die "export: $(cat "$T/exp.err")"
if grep -qaF "$TEL" "$T/sa.ops" || grep -qaF "$REP" "$T/sa.ops"; then
	bad "an op carries the reporter or the contact in clear"
else ok; fi
check "the ops are a create with the sealed value and its keys op" \
	test "$(kinds "$SA")" = '["create","keys"]'
check "the create's fields name no reporter or contact" \
	bash -c "'$W' --home '$SA' --json case show '$ID' --history |
		jq -e '.history[0].fields | (has(\"reporter\") or has(\"contact\")) | not' >/dev/null"
wait_until 30 "the street hub reads them" reads "$HX" || true
wait_until 30 "the district hub reads them" reads "$DS" || true
wait_until 30 "the department holds the case and its envelope" sealed_here "$CG" || true
check "the department cannot read them" sealed_here "$CG"

# ---- 2. the other street's hub ----------------------------------------------
wh --home "$HY" import "$T/sa.ops" >"$T/imp.out" 2>&1 ||
	die "hub Y import: $(head -c 300 "$T/imp.out")"
check "hub Y holds the case" test "$(pd "$HY" | jq -r .state)" = sealed
check "hub Y cannot read it" test "$(pd "$HY" | jq -c '[.reporter, .contact]')" = '[null,null]'
# Y's key with every envelope the street hub holds: still nothing.
agent_stop hx
cp -a "$HX" "$T/hy-with-hx-store"
agent_restart hx
cp "$HY/key.secret" "$HY/key.public" "$T/hy-with-hx-store/"
check "hub Y's key opens none of the street hub's envelopes" sealed_here "$T/hy-with-hx-store"
check "the street hub's own key does (the copy is good)" reads "$HX"

# ---- 3. the whistle shares the key with the department ---------------------------
# A big matter: the street hub triages and whistles (it reads the case,
# so it can share the key).
wh --home "$HX" case triage "$ID" --level big >"$T/tr.out" 2>&1 ||
	bad "triage: $(head -c 300 "$T/tr.out")"
wh --home "$HX" case whistle "$ID" --dept 城管 --lead 城管 \
	--report-within 2h --resolve-within 7d >"$T/wh.out" 2>&1 ||
	bad "whistle: $(head -c 300 "$T/wh.out")"
check "the whistle came with a keys op" \
	test "$(kinds "$HX")" = '["create","keys","triage","whistle","keys"]'
wait_until 30 "the department reads them after the whistle" reads "$CG" || true
wait_until 30 "the station holds the whistle's keys op" \
	bash -c "[ \"\$('$W' --home '$SA' --json case show '$ID' --history | jq -c '[.history[].kind]')\" = '[\"create\",\"keys\",\"triage\",\"whistle\",\"keys\"]' ]" || true

# ---- 4. a new reader: reseal ---------------------------------------------------
member d2 xicheng district XC2
apply dis hx sa cg d2
# The district's agent admits it once it has taken the new roster in.
admits() { grep -q "roster in effect (installed here): 5 members may connect" "$T/log/dis.log"; }
wait_until 90 "the district's agent admits the new member" admits || true
agent_start d2 --peer "$EDIS" --interval 1
D2=${HOMEOF[d2]}
wait_until 30 "the new district member holds the case, sealed" sealed_here "$D2" || true
wh --home "$SA" case reseal "$ID" >"$T/rs.out" 2>&1 || bad "reseal: $(head -c 300 "$T/rs.out")"
check "reseal shared with one more reader" grep -q "key shared with 1 more reader" "$T/rs.out"
wait_until 30 "the new member reads them after the reseal" reads "$D2" || true
wh --home "$SA" case reseal "$ID" >"$T/rs.out" 2>&1 || bad "second reseal failed"
check "a second reseal has nobody to add" grep -q "every reader has it" "$T/rs.out"
wh --home "$HY" case reseal "$ID" >"$T/rs.out" 2>&1
check "hub Y cannot reseal what it cannot open (exit 1)" test $? = 1

# ---- 5. erase ------------------------------------------------------------------
FULL=$(kinds "$SA")
wh --home "$SA" case erase-personal "$ID" >"$T/er.out" 2>&1 ||
	bad "erase-personal: $(head -c 300 "$T/er.out")"
for n in sa hx dis cg d2; do
	wait_until 30 "erased on $n, every envelope destroyed" erased "${HOMEOF[$n]}" || true
done
wh --home "$SA" export -o "$T/sa2.ops" 2>/dev/null || die "export after erase"
wh --home "$HY" import "$T/sa2.ops" >"$T/imp.out" 2>&1 || bad "hub Y import of the erase"
check "erased on hub Y, which never held an envelope" erased "$HY"
wh --home "$HX" case set "$ID" --reporter 张三 --contact 1 >"$T/set.out" 2>&1
check "setting personal data again is refused (exit 1)" test $? = 1
check "the refusal says why" grep -q "erased" "$T/set.out"
wh --home "$SA" case reseal "$ID" >/dev/null 2>&1
check "nothing to reseal after the erase (exit 1)" test $? = 1

# The audit trail: the whole history, the same everywhere, every op
# signed and admitted by a fresh home bound to the authority.
want_kinds=$(jq -c '. + ["erase"]' <<<"$FULL")
# has_kinds HOME: the case's history is want_kinds there
has_kinds() { [ "$(kinds "$1")" = "$want_kinds" ]; }
for n in sa hx dis cg d2; do
	wait_until 20 "the whole history on $n" has_kinds "${HOMEOF[$n]}" ||
		say "$n has $(kinds "${HOMEOF[$n]}"), want $want_kinds"
done
same_street() { same_digest xicheng/xinjiekou "$SA" "$HX" "$DS"; }
wait_until 30 "the station and both hubs hold the same ops" same_street || true
wh --home "$DS" export -o "$T/dis.ops" 2>/dev/null || die "export from the district"
member audit xicheng district XA
apply audit
wh --home "${HOMEOF[audit]}" import "$T/dis.ops" >"$T/aud.out" 2>&1
check "every op imports into a fresh home, signatures and roster checked" test $? = 0
check "the auditor holds the district's ops" \
	test "$(ops_of "${HOMEOF[audit]}")" = "$(ops_of "$DS")"
check "the auditor sees the full trail" test "$(kinds "${HOMEOF[audit]}")" = "$want_kinds"
check "and cannot read the personal data either" \
	test "$(pd "${HOMEOF[audit]}" | jq -r .state)" = erased

check_alive dis hx sa cg d2
check_logs
lib_end
