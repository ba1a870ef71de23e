#!/usr/bin/env bash
#
# test_relay_roster.sh: neighbour relay (issue 6) in homes bound to the
# district's signed roster, where the roster's grant path is what a
# peer is trusted for. Agents run on 127.0.0.1; the district authority
# grants the district hub D, stations A and B of street 新街口 and X of
# street 什刹海; two more keys of the roster speak through wh_badpeer: P,
# a station of 新街口, and Q, one of 什刹海.
#
#   A's only link is B (its uplink and the street hub are down): before
#   the emergency they share nothing, and A's case stays at A. P's
#   claim of the street is held by B (take, give nothing), not refused.
#   D (district grant) declares an emergency over 新街口: it reaches B
#   through its uplink and A through B, both claim the street, and A's
#   case reaches D through B's link, its reporter sealed: D (a hub above
#   A) reads it, B does not. P's claim of the street is now
#   admitted, Q's (its grant lies in 什刹海) refused with the reason, and
#   X, a real agent of 什刹海, does not widen. A key outside the roster
#   is refused at the handshake. After the end B narrows, lists A's
#   case no more, and prunes it.
#
# usage: bash test_relay_roster.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_relay_roster "$@"
TOOLS=${2:-$(dirname "$W")/../tests}
BAD=$TOOLS/wh_badpeer
[ -x "$BAD" ] || die "no $BAD"

ST=xicheng/xinjiekou
mkhome d xicheng district XC
mkhome a $ST/zhaodengyu station ZDY
mkhome b $ST/xisibei station XSB
mkhome p $ST/sanjianfang station SJF
mkhome x xicheng/shichahai/yinding station YD
mkhome q xicheng/shichahai/dajinsi station DJS
mkhome out $ST/xisibei station OUT # never granted

authority_init
grant d district xicheng XC
grant a station $ST/zhaodengyu ZDY
grant b station $ST/xisibei XSB
grant p station $ST/sanjianfang SJF
grant x station xicheng/shichahai/yinding YD
grant q station xicheng/shichahai/dajinsi DJS
roster_join d a b x
check "no trust list anywhere: the roster is who belongs" \
	bash -c "! ls '${HOMEOF[b]}/trust' '${HOMEOF[d]}/trust' 2>/dev/null | grep -q ."

free_port PD
free_port PB
free_port PW
# B's web console, on a port of its own (other agents here keep theirs
# off), with a viewer account: its list marks carried cases too.
for n in d a x; do echo "web_port = 0" >>"${HOMEOF[$n]}/whistle.conf"; done
echo "web_port = $PW" >>"${HOMEOF[b]}/whistle.conf"
printf 'viewer-pass-1\n' | wh --home "${HOMEOF[b]}" user add li --role viewer --password-stdin >/dev/null ||
	die "user add"
JAR=$T/jar
: >"$JAR"
console_cases() { # the case list of B's console, as JSON on stdout
	curl -s -b "$JAR" -c "$JAR" "http://127.0.0.1:$PW/api/cases?limit=1000"
}
console_login() {
	curl -s -o /dev/null -w '%{http_code}' -b "$JAR" -c "$JAR" -H 'Content-Type: application/json' \
		--data-binary '{"user":"li","password":"viewer-pass-1"}' "http://127.0.0.1:$PW/api/login" | grep -q 200
}
ED="${KEYOF[d]}@tcp://127.0.0.1:$PD"
EB="${KEYOF[b]}@tcp://127.0.0.1:$PB"
IVL=2
agent_start d --listen "tcp://127.0.0.1:$PD" --interval $IVL --discovery off
agent_start b --listen "tcp://127.0.0.1:$PB" --peer "$ED" --interval $IVL --discovery off
agent_start a --peer "$EB" --interval $IVL --discovery off
agent_start x --peer "$EB" --peer "$ED" --interval $IVL --discovery off
A=${HOMEOF[a]} B=${HOMEOF[b]} D=${HOMEOF[d]} X=${HOMEOF[x]}
holds() { wh --home "$1" case show "$2" >/dev/null 2>&1; }
# hello NAME PATH: a roster key's HELLO to B claiming PATH; its summary
hello() {
	"$BAD" hello "${HOMEOF[$1]}/key.secret" "${KEYOF[b]}" \
		"tcp://127.0.0.1:$PB" "$2" >"$T/hello-$1.out" 2>&1
	echo "rc $?" >>"$T/hello-$1.out"
}

up() { grep -q "connected to b\|a connected" "$T/log/b.log"; }
wait_until 20 "A's link to B is up" up
REP=王秀英 TEL=13900001111
A1=$(new_case "$A" --title "地下车库进水" --category 防汛 --grid g01 --priority urgent \
	--reporter "$REP" --contact "$TEL") || die "no case"
# pd_is HOME FILTER: A1's personal object there satisfies FILTER
pd_is() {
	local v
	v=$(wh --home "$1" --json case show "$A1" 2>/dev/null | jq -c .personal) &&
		[ -n "$v" ] && [ "$v" != null ] &&
		jq -e --arg r "$REP" --arg t "$TEL" "$2" <<<"$v" >/dev/null
}
sleep $((2 * IVL + 1))
check "before the emergency A's case stays at A (B shares nothing with A)" \
	bash -c "! '$W' --home '$B' case show '$A1' && ! '$W' --home '$D' case show '$A1'"
hello p $ST
check "before the emergency P's claim of the street is held by B, not refused" \
	grep -q "p claims $ST (neighbour relay) but no emergency" "$T/log/b.log"
check "and P was not shut out" bash -c "! grep -q 'p.*claims path' '$T/log/b.log'"

# ---- the emergency ---------------------------------------------------------
EM=$(wh --home "$D" emergency declare --path $ST --title "7·31 暴雨" 2>"$T/decl.err" | head -n1)
[ -n "$EM" ] || die "declare: $(cat "$T/decl.err")"
wait_until 30 "B widens to the street" grep -q "neighbour relay on: links now share $ST" "$T/log/b.log"
wait_until 30 "A learns of it through B and widens" \
	grep -q "neighbour relay on: links now share $ST" "$T/log/a.log"
wait_until 30 "A's case reaches D through B's link" holds "$D" "$A1"
check "B carries it, marked carried" \
	bash -c "'$W' --home '$B' --json case show '$A1' | jq -e '.carried == true'"
wait_until 30 "the reporter's envelopes reach D too" \
	pd_is "$D" '.state == "open" and .reporter == $r and .contact == $t'
check "B, a neighbour that carries it, holds the envelopes and cannot read them" \
	pd_is "$B" '.state == "sealed" and .reporter == null and .contact == null and (.envelopes | length) > 0'
check "no op or envelope at B holds the name in clear" \
	bash -c "! grep -rqa '$REP' '$B/store'"
wait_until 20 "B's console takes the viewer's login" console_login
check "B's console lists A's case during the emergency, marked carried" \
	bash -c "$(declare -f console_cases); JAR='$JAR' PW=$PW console_cases | jq -e '.cases[] | select(.id == \"$A1\") | .carried == true'"
check "D never had a link to A" bash -c "! grep -q '^.*a connected' '$T/log/d.log'"

hello p $ST
check "P's claim of the street is admitted in the emergency" \
	bash -c "grep -q 'handshake ok' '$T/hello-p.out' && ! grep -q 'claims path $ST but is trusted' '$T/log/b.log'"
hello q $ST
wait_until 10 "Q's claim of another street is refused, naming its grant" \
	grep -q "claims path $ST but is trusted for xicheng/shichahai/dajinsi" "$T/log/b.log"
hello out $ST
check "a key the roster does not grant is refused at the handshake" \
	grep -q "rc 3" "$T/hello-out.out"
check "and B's log says the roster does not have it" \
	grep -q "no key in the district's roster" "$T/log/b.log"
check "X (什刹海) does not widen for an emergency over 新街口" \
	bash -c "! grep -q 'neighbour relay on' '$T/log/x.log'"
check "X does not hold A's case" bash -c "! '$W' --home '$X' case show '$A1'"
check "the roster refused none of the relayed ops at D" \
	bash -c "! grep -qi 'refused.*ZDY' '$T/log/d.log'"

# ---- the end ---------------------------------------------------------------
wh --home "$D" emergency end "$EM" >/dev/null 2>"$T/end.err" || die "end: $(cat "$T/end.err")"
wait_until 30 "B narrows back" grep -q "neighbour relay off" "$T/log/b.log"
check "B no longer lists A's case" bash -c "! '$W' --home '$B' case list --all | grep -q '$A1'"
check "nor does its console" \
	bash -c "$(declare -f console_cases); JAR='$JAR' PW=$PW console_cases | jq -e '.total >= 0 and ([.cases[] | select(.id == \"$A1\")] | length == 0)'"
pruned() { wh --home "$B" --json prune --carried >"$T/prune.json" 2>"$T/prune.err"; }
wait_until 30 "B's links narrow back and prune runs" pruned || say "prune said: $(cat "$T/prune.err")"
check "B prunes A's case: D (or A) is known to hold it" \
	jq -e '.pruned == 1 and .kept_unconfirmed == 0' "$T/prune.json"
check "and D still holds it" holds "$D" "$A1"

for n in a b d x; do agent_stop $n; done
check_logs
lib_end
