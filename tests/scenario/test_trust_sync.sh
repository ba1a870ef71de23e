#!/usr/bin/env bash
#
# test_trust_sync.sh: the roster over real sync. A district authority
# grants two stations (communities A and B), their street hub and the
# district hub, and a third station key for community A that turns
# rogue. Agents run on 127.0.0.1 over ZeroMQ.
#
#   1. The rogue key writes a case into community B (in a lab home that
#      checks nothing) and carries it to the hub on a file: the hub's
#      store refuses it, naming the rule.
#   2. The same rogue home runs an agent claiming community B: the hub
#      shuts it out for claiming a path it holds no grant for.
#   3. Over a proper link for its own community, the rogue sends ops the
#      roster refuses (a case under another code, a whistle in the
#      street's name): each is refused with its reason, and the hub
#      shuts the link out.
#   After each, no replica holds anything of the rogue's.
#   4. The district revokes station B's key: the roster travels from
#      the district hub to the street hub, which closes B's link; a case
#      B makes after the revocation reaches nobody.
#
# usage: bash test_trust_sync.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_trust_sync "$@"
TOOLS=${2:-$(dirname "$W")/../tests}
BAD=$TOOLS/wh_badpeer
[ -x "$BAD" ] || die "no $BAD"

A=xicheng/xinjiekou/zhaodengyu
B=xicheng/xinjiekou/xisi
mkhome sa "$A" station ZDY
mkhome sb "$B" station XS
mkhome hub xicheng/xinjiekou street XJK
mkhome dis xicheng district XC
mkhome rogue "$B" station XR # its grant says A, code ZDR
mkhome rogue2 "$B" station XQ # another such key: a shut-out lasts 60 s

authority_init
grant sa station "$A" ZDY
grant sb station "$B" XS
grant hub street xicheng/xinjiekou XJK
grant dis district xicheng XC
grant rogue station "$A" ZDR
grant rogue2 station "$A" ZDQ
roster_join sa sb hub dis

free_port PHUB
free_port PDIS
EHUB="${KEYOF[hub]}@tcp://127.0.0.1:$PHUB"
EDIS="${KEYOF[dis]}@tcp://127.0.0.1:$PDIS"
agent_start dis --listen "tcp://127.0.0.1:$PDIS" --interval 1
agent_start hub --listen "tcp://127.0.0.1:$PHUB" --peer "$EDIS" --interval 1
agent_start sa --peer "$EHUB" --interval 1
agent_start sb --peer "$EHUB" --interval 1
SA=${HOMEOF[sa]} SB=${HOMEOF[sb]} HB=${HOMEOF[hub]} DS=${HOMEOF[dis]}

# Baseline: a case from each community reaches the hub and the district.
IDA=$(new_case "${HOMEOF[sa]}" --title "井盖缺失" --category 市政设施)
IDB=$(new_case "${HOMEOF[sb]}" --title "路灯不亮" --category 市政设施)
held_everywhere() { # ID HOMES...
	local id=$1 h
	shift
	for h in "$@"; do
		wh --home "$h" case show "$id" >/dev/null 2>&1 || return 1
	done
}
wait_until 30 "both cases reach the hub and the district" \
	held_everywhere "$IDA" "$HB" "$DS" || true
wait_until 30 "B's case reaches the district" held_everywhere "$IDB" "$HB" "$DS" || true
same_street() { same_digest xicheng/xinjiekou "$HB" "$DS"; }
wait_until 30 "hub and district agree on the street" same_street || true
snap() { for h in "$SA" "$SB" "$HB" "$DS"; do digest_of "$h"; done | tr '\n' ' '; }
BEFORE=$(snap)

# 1. A case written into community B with the rogue key, on a file.
R=${HOMEOF[rogue]}
RID=$(wh --home "$R" case new --title "假案" --category 市政设施 2>"$T/rnew.err") ||
	die "rogue case new (lab home): $(head -c 300 "$T/rnew.err")"
wh --home "$R" export -o "$T/rogue.ops" >"$T/exp.out" 2>&1 ||
	die "rogue export: $(head -c 300 "$T/exp.out")"
if wh --home "$HB" import "$T/rogue.ops" >"$T/imp.out" 2>&1; then
	bad "the hub imported the rogue's case into community B"
else
	ok
fi
check "import names the rule" grep -q "outside the author's jurisdiction" "$T/imp.out"
if wh --home "$HB" case show "$RID" >/dev/null 2>&1; then
	bad "the hub holds the rogue's $RID"
else ok; fi

# 2. The rogue's agent claims community B: shut out at HELLO.
trust rogue2 hub
agent_start rogue2 --peer "$EHUB" --interval 1
claimed() { grep -q "claims path $B but is trusted for $A" "$T/log/hub.log"; }
wait_until 20 "the hub refuses the rogue's claim to community B" claimed || true
agent_stop rogue2

# 3. Over a link for its own community: refused ops, then shut out.
"$BAD" rogue "$R/key.secret" "${KEYOF[hub]}" "tcp://127.0.0.1:$PHUB" "$A" 30 \
	>"$T/bad.out" 2>&1
check "the rogue's handshake for its own community succeeds" \
	grep -q "handshake ok" "$T/bad.out"
refusals() {
	grep -q "outside the author's jurisdiction" "$T/log/hub.log" &&
		grep -q "author's role may not take this step" "$T/log/hub.log"
}
wait_until 10 "the hub logs each refusal with its reason" refusals || true
shut() { grep -q "shutting rogue out" "$T/log/hub.log"; }
wait_until 10 "the hub shuts the rogue's link out" shut || true

sleep 2
AFTER=$(snap)
if [ "$AFTER" = "$BEFORE" ]; then ok; else
	bad "a replica changed after the rogue's attempts: $BEFORE / $AFTER"
fi
for h in "$SA" "$SB" "$HB" "$DS"; do
	if wh --home "$h" case show BAD-000001 >/dev/null 2>&1; then
		bad "$h holds the rogue's BAD-000001"
	else ok; fi
done

# 4. Revoke B: the roster goes district -> hub; B's link is closed.
wh authority revoke --dir "$AUTH" --key "${KEYOF[sb]}" >"$T/rev.out" 2>&1 ||
	die "authority revoke: $(head -c 300 "$T/rev.out")"
wh --home "$DS" roster apply "$AUTH/roster.wr" >"$T/apply2.out" 2>&1 ||
	die "roster apply at the district: $(head -c 300 "$T/apply2.out")"
hub_has_it() { grep -q "installed (from a peer)" "$T/log/hub.log"; }
wait_until 20 "the revocation reaches the street hub over sync" hub_has_it || true
closed() {
	grep -q "disconnected from sb" "$T/log/hub.log" ||
		grep -qi "refused" "$T/log/sb.log"
}
wait_until 20 "B's link is closed" closed || true
sleep 1
LATE=$(wh --home "$SB" case new --title "撤销之后" --category 市政设施 2>"$T/late.err")
if [ -n "$LATE" ]; then
	sleep 4
	for h in "$HB" "$DS" "$SA"; do
		if wh --home "$h" case show "$LATE" >/dev/null 2>&1; then
			bad "$h holds $LATE, made after B's revocation"
		else ok; fi
	done
else
	# B already holds the revocation: its own store refuses to sign.
	check "B's CLI says it was revoked" grep -q "revoked" "$T/late.err"
fi
check "B's earlier case stays" held_everywhere "$IDB" "$HB" "$DS"

lib_end
