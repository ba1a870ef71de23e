#!/usr/bin/env bash
#
# test_flood.sh: a trusted peer that floods is throttled without hurting
# the others. A street hub serves a community station and a second,
# trusted station key that goes mad (wh_badpeer flood): after a proper
# HELLO it sends the same well-formed OPS message as fast as its socket
# takes it, for several seconds. Meanwhile the good station's new cases
# must still reach the hub promptly; the hub drops what is over the
# flooder's budget, says so in its log, and keeps running.
#
# usage: bash test_flood.sh /path/to/whistle [/path/to/build/tests]
# env: WH_FLOOD_SECS (default 8); WH_PUSH_MAX_MS (default 3000): how long
#      a good station's case may take to reach the hub during the flood
#      (a quiet link takes well under a second).
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_flood "$@"
TOOLS=${2:-$(dirname "$W")/../tests}
BAD=$TOOLS/wh_badpeer
[ -x "$BAD" ] || die "no $BAD"
SECS=${WH_FLOOD_SECS:-8}
PUSH_MAX_MS=${WH_PUSH_MAX_MS:-3000}

A=xicheng/xinjiekou/zhaodengyu
mkhome hub xicheng/xinjiekou street XJK
mkhome sa "$A" station ZDY
mkhome fl "$A" station ZDF
trust hub sa
trust hub fl
free_port PH
trust sa hub "tcp://127.0.0.1:$PH"
agent_start hub --listen "tcp://127.0.0.1:$PH" --interval 2
agent_start sa --peer hub --interval 2
HB=${HOMEOF[hub]} SA=${HOMEOF[sa]}
held() { wh --home "$HB" case show "$1" >/dev/null 2>&1; }

ID0=$(new_case "$SA" --title "洪水之前" --category 市政设施)
wait_until 20 "a case reaches the hub before the flood" held "$ID0" || true

"$BAD" flood "${HOMEOF[fl]}/key.secret" "${KEYOF[hub]}" \
	"tcp://127.0.0.1:$PH" "$A" "$SECS" >"$T/flood.out" 2>&1 &
FPID=$!
bg_register "$FPID"
sleep 1

# During the flood: each new case from the good station must arrive.
for i in 1 2 3; do
	id=$(new_case "$SA" --title "洪水之中 $i" --category 市政设施)
	t0=$(now_ms)
	if wait_until $(((PUSH_MAX_MS + 999) / 1000)) "case $i of the good station reaches the hub during the flood" held "$id"; then
		ms=$(($(now_ms) - t0))
		say "case $i: $ms ms"
		if [ "$ms" -le "$PUSH_MAX_MS" ]; then ok; else
			bad "case $i took $ms ms (limit $PUSH_MAX_MS)"
		fi
	fi
	sleep 1
done
check "the flood was still going while the good cases moved" kill -0 "$FPID"
wait "$FPID"
check "the flooder got through its handshake" grep -q "handshake ok" "$T/flood.out"
SENT=$(grep -Eo 'sent [0-9]+ messages' "$T/flood.out" | grep -Eo '[0-9]+')
say "flooder sent ${SENT:-?} messages in $SECS s"
if [ "${SENT:-0}" -gt $((SECS * 2000)) ]; then ok; else
	bad "the flooder sent only ${SENT:-0} messages: no flood to throttle"
fi
throttled() {
	grep -Eq "garbage from fl: [0-9]+ messages dropped|shutting fl out" \
		"$T/log/hub.log"
}
wait_until 10 "the hub logs that it throttled the flooder" throttled || true
check "the flood's one op was taken once" \
	test "$(wh --home "$HB" --json case list --all | jq '[.[] | select(.id | startswith("BAD-"))] | length')" -le 1
check_alive hub sa
ID9=$(new_case "$SA" --title "洪水之后" --category 市政设施)
wait_until 10 "and after it" held "$ID9" || true
check_logs
lib_end
