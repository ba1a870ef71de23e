#!/usr/bin/env bash
#
# test_emergency_netns.sh: neighbour relay and urgent first (issue 6) in
# network namespaces this test makes. A street LAN (a bridge in its own
# namespace) joins the street hub H and the stations A, B, C of 新街口;
# each of them also has an uplink (a veth pair) to the district hub D:
#
#        D  10.216.{1,2,3,4}.2 (listens on each uplink)
#      / | \ \___________________
#     A  B  C  H                  uplinks 10.216.1-4.0/24
#      \ | /  /
#      br0: 10.216.0.0/24   A .1, B .2 (listens), C .3, H .10 (listens)
#
# While the network is whole A's case reaches D. Then H's links and the
# uplinks of A and C go down, and the district declares an emergency
# over the street: it reaches B through B's uplink, and C and A through
# B, whose claim to the street they hold (take, give nothing) until the
# emergency is in their own store; then every station claims the
# street (neighbour relay). C's new case reaches D through B. A (agent
# stopped meanwhile) takes a backlog of 5,000 normal cases and then a
# few urgent ones; when its agent comes back its only way out is B's
# link: the cases reach D through B, and D's arrival log (the store's
# arrival order, tests/tools/wh_arrival) holds every urgent op of A's
# before the first normal one. Figures printed. Last the district ends
# the emergency: B narrows back, and its case list no longer shows the
# cases it carried (`--carried` does); `whistle prune --carried`,
# refused while the emergency lasted, drops them all, since B learnt
# from its street-wide rounds that A and D hold them, and B's own case
# and community digest are untouched.
#
# Without root or namespaces it says so and runs the same story on
# loopback with explicit endpoints: the cut is A and C restarted without
# their uplink and hub peers, and H stopped.
#
# usage: bash test_emergency_netns.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_emergency_netns "$@"

[ -x "$TB/wh_arrival" ] || die "$TB/wh_arrival not built"
NBACK=${WH_URGENT_BACKLOG:-5000}
ST=xicheng/xinjiekou
mkhome d xicheng district XC
mkhome h $ST street XJK
mkhome a $ST/zhaodengyu station ZDY
mkhome b $ST/xisibei station XSB
mkhome c $ST/sanjianfang station SJF

NETNS=1
why=""
if [ "$(id -u)" != 0 ]; then why="needs root"
elif ! command -v ip >/dev/null; then why="no 'ip' command"
fi
SFX=$(printf '%05x' $(((RANDOM * 32768 + RANDOM + $$) % 1048576)))
NS_BR=wh-ebr-$SFX
if [ -z "$why" ] && ! ip netns add "$NS_BR" 2>"$T/ns.err"; then
	why="ip netns add fails: $(head -c 200 "$T/ns.err")"
fi
if [ -z "$why" ]; then
	NETNS_LIST=$NS_BR
	echo "$NS_BR" >>"$T/netns"
	ip -n "$NS_BR" link add br0 type bridge 2>"$T/br.err" || why="no bridge: $(head -c 200 "$T/br.err")"
fi
if [ -n "$why" ]; then
	NETNS=0
	skip "network namespaces ($why): running the loopback variant"
fi

declare -A EP=() # EP[x-y]: where x dials y
if [ $NETNS = 1 ]; then
	ip -n "$NS_BR" link set br0 up || die "br0 up"
	for n in d h a b c; do netns_add "wh-e$n-$SFX"; agent_netns $n "wh-e$n-$SFX"; done
	lan_join() { # NAME ADDR
		local i=we${SFX}$1
		ip link add "${i}0" netns "wh-e$1-$SFX" type veth peer name "${i}1" netns "$NS_BR" ||
			die "veth for $1"
		ip -n "$NS_BR" link set "${i}1" master br0 && ip -n "$NS_BR" link set "${i}1" up &&
			ip -n "wh-e$1-$SFX" addr add "$2/24" dev "${i}0" &&
			ip -n "wh-e$1-$SFX" link set "${i}0" up || die "LAN address for $1"
	}
	lan_join h 10.216.0.10
	lan_join a 10.216.0.1
	lan_join b 10.216.0.2
	lan_join c 10.216.0.3
	k=1
	for n in a b c h; do
		veth_link "wh-e$n-$SFX" "wu${SFX}$n" 10.216.$k.1/24 "wh-ed-$SFX" "wd${SFX}$n" 10.216.$k.2/24
		EP[$n-d]=tcp://10.216.$k.2:7100
		k=$((k + 1))
	done
	for n in a b c; do EP[$n-h]=tcp://10.216.0.10:7000; done
	for n in a c; do EP[$n-b]=tcp://10.216.0.2:7200; done
	LISTEN_D="--listen tcp://0.0.0.0:7100"
	LISTEN_H="--listen tcp://10.216.0.10:7000"
	LISTEN_B="--listen tcp://10.216.0.2:7200"
	check "A routes to B on the street LAN" ip -n "wh-ea-$SFX" route get 10.216.0.2
else
	free_port PD; free_port PH; free_port PB
	for n in a b c h; do EP[$n-d]=tcp://127.0.0.1:$PD; done
	for n in a b c; do EP[$n-h]=tcp://127.0.0.1:$PH; done
	for n in a c; do EP[$n-b]=tcp://127.0.0.1:$PB; done
	LISTEN_D="--listen tcp://127.0.0.1:$PD"
	LISTEN_H="--listen tcp://127.0.0.1:$PH"
	LISTEN_B="--listen tcp://127.0.0.1:$PB"
fi

for x in a b c h; do trust $x d "${EP[$x-d]}"; trust d $x; done
for x in a b c; do trust $x h "${EP[$x-h]}"; trust h $x; done
for x in a c; do trust $x b "${EP[$x-b]}"; trust b $x; done
trust a c; trust c a

IVL=4
# Discovery off: the links are the configured ones (test_discovery
# covers beacons), and the loopback variant runs on the host's network.
agent_start d $LISTEN_D --interval $IVL --discovery off
agent_start h $LISTEN_H --peer d --interval $IVL --discovery off
agent_start b $LISTEN_B --peer h --peer d --interval $IVL --discovery off
agent_start a --peer h --peer d --peer b --interval $IVL --discovery off
agent_start c --peer h --peer d --peer b --interval $IVL --discovery off
A=${HOMEOF[a]} B=${HOMEOF[b]} C=${HOMEOF[c]} D=${HOMEOF[d]} H=${HOMEOF[h]}
holds() { wh --home "$1" case show "$2" >/dev/null 2>&1; }

A0=$(new_case "$A" --title "路灯不亮" --category 市政 --grid g01) || die "no case"
B0=$(new_case "$B" --title "井盖松动" --category 市政 --grid g03) || die "no case"
wait_until 60 "before the storm a's case reaches D" holds "$D" "$A0"

# ---- the cut -------------------------------------------------------------
agent_stop a
if [ $NETNS = 1 ]; then
	ip -n "wh-eh-$SFX" link set "we${SFX}h0" down || die "cut H's LAN"
	ip -n "wh-eh-$SFX" link set "wu${SFX}h" down || die "cut H's uplink"
	ip -n "wh-ea-$SFX" link set "wu${SFX}a" down || die "cut A's uplink"
	ip -n "wh-ec-$SFX" link set "wu${SFX}c" down || die "cut C's uplink"
	check "A has no route to D" bash -c "! ip -n wh-ea-$SFX route get 10.216.1.2"
else
	agent_stop h
	agent_stop c
	AGENT_ARGS[a]="--peer b --interval $IVL --discovery off"
	AGENT_ARGS[c]="--peer b --interval $IVL --discovery off"
	agent_restart c
fi
say "cut: H's links and the uplinks of A and C are down"

# ---- the emergency, declared by the district after the cut ---------------
EM=$(wh --home "$D" emergency declare --path $ST --title "7·31 暴雨" 2>"$T/decl.err" | head -n1)
[ -n "$EM" ] || die "declare: $(cat "$T/decl.err")"
has_em() { wh --home "$1" --json emergency status | jq -e '.emergencies | length > 0'; }
wait_until 60 "the emergency reaches B through its uplink" has_em "$B"
wait_until 60 "b widens to the street (neighbour relay)" \
	grep -q "neighbour relay on: links now share $ST" "$T/log/b.log"
wait_until 60 "the emergency reaches C through B (C's uplink is cut)" has_em "$C"
wait_until 60 "c widens to the street" grep -q "neighbour relay on: links now share $ST" "$T/log/c.log"
check "C first held B's claim to the street (no emergency there yet)" \
	grep -q "b claims $ST (neighbour relay) but no emergency" "$T/log/c.log"
C1=$(new_case "$C" --title "积水没过脚踝" --category 防汛 --grid g02) || die "no case"
wait_until 60 "C's case made in the emergency reaches D through B" holds "$D" "$C1"
wait_until 60 "and B carries it" holds "$B" "$C1"

# A's backlog while its agent is down, then the urgent ones.
echo "title,description,category,grid" >"$T/back.csv"
for ((i = 1; i <= NBACK; i++)); do
	echo "积压案件 $i: 楼道堆物,待处理,市政,g$((i % 12 + 1))"
done >>"$T/back.csv"
wh --home "$A" case import --quiet "$T/back.csv" >/dev/null 2>"$T/imp.err" ||
	die "import: $(head -c 300 "$T/imp.err")"
URG=()
for t in 地下室进水 老人被困 电线落地; do
	id=$(new_case "$A" --title "$t" --category 防汛 --grid g01 --priority urgent) ||
		die "no urgent case"
	URG+=("$id")
done
POS=$("$TB/wh_arrival" "$D" | tail -n1 | cut -d' ' -f1)
say "A holds a backlog of $NBACK normal cases and ${#URG[@]} urgent ones; D's arrival log at #${POS:-0}"
agent_restart a
wait_until 60 "the emergency reaches A through B" has_em "$A"
wait_until 60 "a widens to the street" grep -q "neighbour relay on: links now share $ST" "$T/log/a.log"
for id in "${URG[@]}"; do
	wait_until 120 "urgent case $id reaches D through B" holds "$D" "$id"
done
wait_until 300 "A's whole backlog reaches D" same_digest $ST/zhaodengyu "$A" "$D"
check "D got A's ops from B (b's log: in sync with a; D never linked to A again)" \
	grep -q "in sync with a" "$T/log/b.log"

"$TB/wh_arrival" "$D" "${POS:-0}" | grep " ZDY-" >"$T/arrival" || die "wh_arrival failed"
n_all=$(wc -l <"$T/arrival")
n_urg=$(grep -c ' urgent ' "$T/arrival")
last_urg=$(grep -n ' urgent ' "$T/arrival" | tail -n1 | cut -d: -f1)
first_norm=$(grep -n ' normal ' "$T/arrival" | head -n1 | cut -d: -f1)
say "order at D: $n_all ops of A's arrived after the cut, $n_urg urgent; last urgent #${last_urg:-none}, first normal #${first_norm:-none}"
check "D stored A's backlog after the cut" test "$n_all" -ge "$NBACK"
check "all ${#URG[@]} urgent cases arrived" test "$n_urg" -ge "${#URG[@]}"
check "every urgent op of A's reached D before the first normal one" \
	test "${last_urg:-999999}" -lt "${first_norm:-0}"
check "status at A: urgent first" bash -c "'$W' --home '$A' status | grep -q 'urgent first'"

# ---- the end: B narrows back; what it carried is no longer listed --------
check "during the emergency B lists A's cases, marked carried" \
	bash -c "'$W' --home '$B' case list --all | grep -q '代传 carried'"
check "case show at B says A's urgent case is carried" \
	bash -c "'$W' --home '$B' case show '${URG[0]}' | grep -q '代传 Carried'"
check "case show --json at B: carried true" \
	bash -c "'$W' --home '$B' --json case show '${URG[0]}' | jq -e '.carried == true'"
check "case show at B: its own case is not carried" \
	bash -c "'$W' --home '$B' --json case show '$B0' | jq -e '.carried == false'"
if wh --home "$B" prune --carried >"$T/prune0.out" 2>&1; then
	bad "prune --carried ran during the emergency"
else
	check "prune --carried during the emergency is refused, naming it" \
		grep -q "an emergency over $ST is in force" "$T/prune0.out"
fi
wh --home "$D" emergency end "$EM" >/dev/null 2>"$T/end.err" || die "end: $(cat "$T/end.err")"
wait_until 60 "B narrows back to its community" grep -q "neighbour relay off" "$T/log/b.log"
check "after the end B no longer lists A's cases" \
	bash -c "! '$W' --home '$B' case list --all | grep -q 'ZDY-'"
check "case list --carried still shows them" \
	bash -c "'$W' --home '$B' --json case list --all --carried | jq -e '[.[] | select(.carried)] | length >= $NBACK'"

# ---- pruning what B carried ------------------------------------------------
# B learnt from its street-wide rounds with D and A (in sync) that they
# hold every op of the cases it carried: all of them may go.
ncarried=$(wh --home "$B" --json case list --all --carried | jq '[.[] | select(.carried)] | length')
own=$(digest_of "$B" $ST/xisibei)
ops0=$(ops_of "$B")
# Until every link of B's has narrowed back, prune refuses: a link still
# at the street would fetch back what it drops.
dry() { wh --home "$B" --json prune --carried --dry-run >"$T/dry.json" 2>"$T/dry.err"; }
wait_until 30 "B's links narrow back and prune may run" dry || say "prune --dry-run said: $(cat "$T/dry.err")"
check "dry run: every carried case would go, each held by a or d" \
	jq -e ".dry_run and .pruned == $ncarried and .kept_unconfirmed == 0 and ([.cases[] | select(.held_by == \"a\" or .held_by == \"d\" or .held_by == \"c\")] | length) == $ncarried" "$T/dry.json"
check "dry run changes nothing" test "$(ops_of "$B")" = "$ops0"
t0=$(date +%s%N)
wh --home "$B" --json prune --carried >"$T/prune.json" 2>"$T/prune.err" || bad "prune: $(cat "$T/prune.err")"
ms=$((($(date +%s%N) - t0) / 1000000))
say "B pruned $(jq .pruned "$T/prune.json") carried cases ($(jq .ops "$T/prune.json") ops) in $ms ms"
check "prune dropped all $ncarried carried cases, keeping none" \
	jq -e ".pruned == $ncarried and .kept_unconfirmed == 0 and .ops >= $NBACK" "$T/prune.json"
check "B lists no carried case after pruning" \
	bash -c "'$W' --home '$B' --json case list --all --carried | jq -e '[.[] | select(.carried)] | length == 0'"
check "B's own community is untouched" test "$(digest_of "$B" $ST/xisibei)" = "$own"
check "B still holds its own case" holds "$B" "$B0"
check "B no longer holds A's urgent case" bash -c "! '$W' --home '$B' case show '${URG[0]}'"
check "prune again: nothing carried is left" \
	bash -c "'$W' --home '$B' prune --carried | grep -q 'no carried cases'"
sleep $((IVL + 1))
check "B's link still agrees with D after the prune (its scope never held them)" \
	same_digest $ST/xisibei "$B" "$D"
check "D still holds A's whole backlog" same_digest $ST/zhaodengyu "$A" "$D"
check "and no carried case came back to B" \
	bash -c "'$W' --home '$B' --json case list --all --carried | jq -e '[.[] | select(.carried)] | length == 0'"

for n in a b c d; do agent_alive $n && agent_stop $n; done
[ $NETNS = 1 ] && agent_stop h
check_logs
lib_end
