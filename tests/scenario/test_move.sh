#!/usr/bin/env bash
#
# test_move.sh: a station moved to another community loses nothing. The
# district authority grants station S in community zhaodengyu (street
# xinjiekou), two street hubs and the district hub; everyone is bound to
# the roster. Agents run on 127.0.0.1.
#
#   1. S's agent runs while its hub is down: two cases written then wait
#      on the PC.
#   2. The authority moves S to community yinding of street shichahai;
#      S's config gets the new path. S keeps its old hub as a peer.
#   3. S's cases written before the move reach the old street hub and the
#      district; a case written after it reaches the new street hub and
#      the district, and never the old hub. S says the former
#      jurisdiction settled, and after a restart speaks for its new path
#      only.
#   A second station moved without its agent ever having run is
#   covered too (`init` records the path it was born with).
#
# usage: bash test_move.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_move "$@"

OLD=xicheng/xinjiekou/zhaodengyu
NEW=xicheng/shichahai/yinding
mkhome s "$OLD" station ZDY
mkhome ctl "$OLD" station ZDC
mkhome hx xicheng/xinjiekou street XJK
mkhome hy xicheng/shichahai street SCH
mkhome dis xicheng district XC

authority_init
grant s station "$OLD" ZDY
grant ctl station "$OLD" ZDC
grant hx street xicheng/xinjiekou XJK
grant hy street xicheng/shichahai SCH
grant dis district xicheng XC
apply_all() {
	local n
	for n in s ctl hx hy dis; do
		wh --home "${HOMEOF[$n]}" roster apply "$AUTH/roster.wr" \
			>"$T/apply.out" 2>&1 ||
			die "roster apply $n: $(head -c 300 "$T/apply.out")"
	done
}
for n in s ctl hx hy dis; do
	wh --home "${HOMEOF[$n]}" roster bind "$AKEY" >"$T/bind.out" 2>&1 ||
		die "roster bind $n: $(head -c 300 "$T/bind.out")"
done
apply_all

free_port PHX
free_port PHY
free_port PDIS
EHX="${KEYOF[hx]}@tcp://127.0.0.1:$PHX"
EHY="${KEYOF[hy]}@tcp://127.0.0.1:$PHY"
EDIS="${KEYOF[dis]}@tcp://127.0.0.1:$PDIS"
S=${HOMEOF[s]} C=${HOMEOF[ctl]} HX=${HOMEOF[hx]} HY=${HOMEOF[hy]} DS=${HOMEOF[dis]}
held() { wh --home "$2" case show "$1" >/dev/null 2>&1; }
held_by() { # ID HOMES...
	local id=$1 h
	shift
	for h in "$@"; do held "$id" "$h" || return 1; done
}

# 1. The old hub is down: what S writes waits on the PC.
agent_start s --peer "$EHX" --interval 1
up() { grep -q "agent started" "$T/log/s.log"; }
wait_until 10 "S's agent is up" up || true
ID1=$(new_case "$S" --title "旧社区：楼道堆物" --category 消防隐患)
ID2=$(new_case "$S" --title "旧社区：井盖缺失" --category 市政设施)
IDC=$(new_case "$C" --title "对照：路灯不亮" --category 市政设施)
agent_stop s

# 2. The move, at the authority and in S's (and the control's) config.
for n in s ctl; do
	wh authority move --dir "$AUTH" --key "${KEYOF[$n]}" --path "$NEW" \
		>"$T/move.out" 2>&1 ||
		die "authority move $n: $(head -c 300 "$T/move.out")"
done
apply_all
for h in "$S" "$C"; do
	sed -i "s|^path *=.*|path = $NEW|" "$h/whistle.conf"
	check "$(basename "$h")'s config has the new path" \
		grep -qx "path = $NEW" "$h/whistle.conf"
done

# 3. Everyone comes up; S and the control keep the old hub as a peer.
agent_start dis --listen "tcp://127.0.0.1:$PDIS" --interval 1
agent_start hx --listen "tcp://127.0.0.1:$PHX" --peer "$EDIS" --interval 1
agent_start hy --listen "tcp://127.0.0.1:$PHY" --peer "$EDIS" --interval 1
agent_start s --peer "$EHX" --peer "$EHY" --interval 1
agent_start ctl --peer "$EHX" --peer "$EHY" --interval 1
check "S notices its jurisdiction changed" \
	grep -q "jurisdiction changed from $OLD to $NEW" "$T/log/s.log"
check "S speaks for the street's common district meanwhile" \
	grep -q "speaking for xicheng until" "$T/log/s.log"

wait_until 30 "S's cases from before the move reach the old hub" \
	held_by "$ID1" "$HX" || true
wait_until 30 "...and the district" held_by "$ID2" "$HX" "$DS" || true
check "the first reaches the district too" held_by "$ID1" "$DS"
ID3=$(new_case "$S" --title "新社区：积水" --category 市政设施)
case $ID3 in ZDY-*) ok ;; *) bad "S's new case id '$ID3' left its code" ;; esac
wait_until 30 "S's case from after the move reaches the new hub and the district" \
	held_by "$ID3" "$HY" "$DS" || true
check "it is under the new path at the district" \
	test "$(wh --home "$DS" --json case show "$ID3" | jq -r .path)" = "$NEW"
settled() { grep -q "former jurisdiction $OLD settled" "$T/log/s.log"; }
wait_until 30 "S says its former jurisdiction settled" settled || true
same_old() { same_digest xicheng/xinjiekou "$HX" "$DS"; }
wait_until 30 "old hub and district agree on the old street" same_old || true
sleep 2
if held "$ID3" "$HX"; then
	bad "the old hub holds $ID3, written after the move"
else ok; fi

wait_until 30 "the station whose agent never ran before the move loses nothing" \
	held_by "$IDC" "$HX" "$DS" || true

# After a restart S speaks for its own path only.
agent_stop s
: >"$T/log/s.log"
agent_restart s
wait_until 10 "S's restarted agent is up" up || true
sleep 2
if grep -q "speaking for xicheng\|jurisdiction changed" "$T/log/s.log"; then
	bad "S still speaks for a former jurisdiction after it settled"
else ok; fi
check_alive dis hx hy s ctl
check_logs
lib_end
