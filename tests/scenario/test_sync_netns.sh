#!/usr/bin/env bash
#
# test_sync_netns.sh: `whistle agent` over bad links, inside network
# namespaces this test builds for itself (names carry a per-run suffix;
# addresses 10.213.x.y exist only inside them; nothing leaves them):
#
#   wh-st1-S (zhaodengyu)  10.213.1.1 --veth-- 10.213.1.2  wh-hub-S (street hub)
#   wh-st2-S (xisibei)     10.213.2.1 --veth-- 10.213.2.2  wh-hub-S
#   wh-hub-S               10.213.3.1 --veth-- 10.213.3.2  wh-dst-S (district)
#
# (a) st1 <-> hub loses 20% of packets each way (nft numgen, or iptables
#     -m statistic) and goes through delay_relay (150 ms each way, +300 ms
#     round trip; tc netem is not available): a backlog taken while st1's
#     agent was down (handshake and whole reconciliation over that link),
#     then cases pushed live, reach hub and district within a bound.
# (b) st2 <-> hub is a 256 kbit/s link (tc tbf both ways). A large sync
#     (bulk op file imported on st2) is cut by a partition (DROP on the
#     veth) once the hub holds about half of it, held for 22 s (past the
#     heartbeat timeout, so the connection breaks), restored:
#     it converges, and it resumed instead of starting over: the bytes st2
#     put on the wire in total stay below what a restart would need (the
#     whole file again on top of what already arrived), and the ops the
#     station reports sending after the restore are about what was still
#     missing, not the whole bulk.
#     Meanwhile st1's link still carries a new case.
#
# Needs root, `ip netns`, nft or iptables, tc tbf; prints SKIP and exits 0
# when any is missing (saying which). Everything is bounded (about 4 min).
#
# usage: bash test_sync_netns.sh /path/to/whistle /path/to/build/tests
# env: WH_TEST_TMP scratch dir; WH_QUICK=1 smaller bulk; WH_KEEP=1.
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_sync_netns "$@"

# ---- can we? ----------------------------------------------------------------
skip_all() {
	skip "$NAME: $*"
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root for network namespaces"
command -v ip >/dev/null || skip_all "no 'ip' command"
command -v tc >/dev/null || skip_all "no 'tc' command"
if command -v nft >/dev/null; then
	FW=nft
elif command -v iptables >/dev/null; then
	FW=iptables
else
	skip_all "neither nft nor iptables"
fi
"$W" agent --help >/dev/null 2>&1 || die "'$W agent --help' fails: no agent command"

SFX=$(printf '%05x' $(((RANDOM * 32768 + RANDOM + $$) % 1048576)))
NS_ST1=wh-st1-$SFX
NS_ST2=wh-st2-$SFX
NS_HUB=wh-hub-$SFX
NS_DST=wh-dst-$SFX
ip netns add "$NS_ST1" 2>"$T/netns.err" ||
	skip_all "ip netns add fails: $(head -c 200 "$T/netns.err")"
NETNS_LIST=$NS_ST1
echo "$NS_ST1" >>"$T/netns"
ip -n "$NS_ST1" link set lo up || die "lo up in $NS_ST1"
netns_add "$NS_ST2"
netns_add "$NS_HUB"
netns_add "$NS_DST"
IF1=wh${SFX}a0 IF1H=wh${SFX}a1
IF2=wh${SFX}b0 IF2H=wh${SFX}b1
IF3=wh${SFX}c0 IF3D=wh${SFX}c1
veth_link "$NS_ST1" "$IF1" 10.213.1.1/24 "$NS_HUB" "$IF1H" 10.213.1.2/24
veth_link "$NS_ST2" "$IF2" 10.213.2.1/24 "$NS_HUB" "$IF2H" 10.213.2.2/24
veth_link "$NS_HUB" "$IF3" 10.213.3.1/24 "$NS_DST" "$IF3D" 10.213.3.2/24
if command -v ping >/dev/null; then
	check "st1 reaches the hub" ip netns exec "$NS_ST1" ping -c1 -W2 10.213.1.2
	check "hub reaches the district" ip netns exec "$NS_HUB" ping -c1 -W2 10.213.3.2
fi
check "st1 routes to the hub" ip -n "$NS_ST1" route get 10.213.1.2
check "st1 has no route to the district" bash -c "! ip -n $NS_ST1 route get 10.213.3.2"
check "st2 has no route to st1" bash -c "! ip -n $NS_ST2 route get 10.213.1.1"

if ! tc -n "$NS_ST2" qdisc add dev "$IF2" root tbf rate 256kbit burst 16kbit \
	latency 400ms 2>"$T/tc.err"; then
	skip_all "tc tbf unavailable: $(head -c 200 "$T/tc.err")"
fi
tc -n "$NS_HUB" qdisc add dev "$IF2H" root tbf rate 256kbit burst 16kbit latency 400ms ||
	die "tc tbf on $IF2H"
say "links: st1-hub 20% loss each way (from stage a), st2-hub 256 kbit/s tbf; firewall: $FW"

# ---- firewall rules inside a namespace ----------------------------------------
# fw_loss NS IF PCT: drop PCT% of packets in and out of IF
# fw_cut NS IF: drop everything in and out of IF
# fw_clear NS: remove our rules; fw_dropped NS: packets dropped so far
fw_loss() {
	if [ $FW = nft ]; then
		ip netns exec "$1" nft -f - <<EOF
table inet whtest {
	chain in { type filter hook input priority 0; iifname "$2" numgen random mod 100 < $3 counter drop; }
	chain out { type filter hook output priority 0; oifname "$2" numgen random mod 100 < $3 counter drop; }
}
EOF
	else
		local p
		p=$(printf '0.%02d' "$3")
		ip netns exec "$1" iptables -A INPUT -i "$2" -m statistic --mode random --probability "$p" -j DROP &&
			ip netns exec "$1" iptables -A OUTPUT -o "$2" -m statistic --mode random --probability "$p" -j DROP
	fi
}
fw_cut() {
	if [ $FW = nft ]; then
		ip netns exec "$1" nft -f - <<EOF
table inet whtest {
	chain in { type filter hook input priority 0; iifname "$2" counter drop; }
	chain out { type filter hook output priority 0; oifname "$2" counter drop; }
}
EOF
	else
		ip netns exec "$1" iptables -A INPUT -i "$2" -j DROP &&
			ip netns exec "$1" iptables -A OUTPUT -o "$2" -j DROP
	fi
}
fw_clear() {
	if [ $FW = nft ]; then
		ip netns exec "$1" nft delete table inet whtest
	else
		ip netns exec "$1" iptables -F INPUT && ip netns exec "$1" iptables -F OUTPUT
	fi
}
fw_dropped() {
	if [ $FW = nft ]; then
		ip netns exec "$1" nft -j list table inet whtest |
			jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add // 0'
	else
		ip netns exec "$1" iptables -L -v -x -n | awk '/DROP/ {s += $1} END {print s + 0}'
	fi
}

# ---- homes, trust, agents -------------------------------------------------------
QUICK=${WH_QUICK:-0}
PARTITION_S=${WH_PARTITION_SECS:-22}
BULK_CASES=1000 # x (1 create + 4 tags) = 5000 ops
[ "$QUICK" = 1 ] && BULK_CASES=400
mkhome district xicheng district XC
mkhome hub xicheng/xinjiekou street XJK
mkhome st1 xicheng/xinjiekou/zhaodengyu station
mkhome st2 xicheng/xinjiekou/xisibei station
HUB=${HOMEOF[hub]}
DIST=${HOMEOF[district]}
S1=${PATHOF[st1]}
S2=${PATHOF[st2]}
trust st1 hub tcp://10.213.1.2:7001 # through the delay relay
trust st2 hub tcp://10.213.2.2:7000
trust hub st1
trust hub st2
trust hub district tcp://10.213.3.2:7100
trust district hub

gen_bulk "$T/bulk.ops" st2 XJK-XSBB $BULK_CASES 4 &
GEN=$!
bg_register $GEN

if [ -x "$TB/delay_relay" ]; then
	ip netns exec "$NS_HUB" "$TB/delay_relay" -l 10.213.1.2:7001 -c 127.0.0.1:7000 \
		-d 150 -t 600 2>>"$T/log/relay.log" &
	bg_register $!
	RELAY=1
else
	# no relay: st1 dials the hub directly, loss only
	skip "stage a latency: $TB/delay_relay not built"
	RELAY=0
fi

agent_netns district "$NS_DST"
agent_netns hub "$NS_HUB"
agent_netns st1 "$NS_ST1"
agent_netns st2 "$NS_ST2"
agent_start district --listen tcp://10.213.3.2:7100 --interval 10
agent_start hub --listen tcp://10.213.2.2:7000 --listen tcp://10.213.1.2:7000 \
	--listen tcp://127.0.0.1:7000 --peer district --interval 10
if [ $RELAY = 1 ]; then
	agent_start st1 --peer hub --interval 10
else
	agent_start st1 --peer "${KEYOF[hub]}@tcp://10.213.1.2:7000" --interval 10
fi
agent_start st2 --peer hub --interval 10

all_have() { same_digest "$1" "${@:2}"; }

# baseline: one case each way, clean links
new_case "${HOMEOF[st1]}" --title "基线 楼道堆物" --grid g01 >/dev/null
new_case "${HOMEOF[st2]}" --title "基线 占道经营" --grid g01 >/dev/null
wait_until 60 "baseline: st1 converged on hub and district" all_have "$S1" "${HOMEOF[st1]}" "$HUB" "$DIST"
wait_until 60 "baseline: st2 converged on hub and district" all_have "$S2" "${HOMEOF[st2]}" "$HUB" "$DIST"
check_alive district hub st1 st2

# ---- (a) 20% loss + 300 ms RTT ---------------------------------------------------
fw_loss "$NS_ST1" "$IF1" 20 || die "cannot add the loss rules"
NA=30
[ "$QUICK" = 1 ] && NA=15
# a1: a backlog taken while st1's agent was down, then the agent starts:
# handshake and a whole reconciliation over the bad link
agent_stop st1
for i in $(seq $NA); do
	id=$(new_case "${HOMEOF[st1]}" --title "离线积压 案件 $i 井盖缺失" --category 市政设施 \
		--grid "g0$((i % 9 + 1))" --priority high) || continue
	[ $((i % 3)) = 0 ] && wh --home "${HOMEOF[st1]}" case note "$id" "已派单 $i" >/dev/null
done
say "(a) st1 took $NA cases offline; it holds $(ops_of "${HOMEOF[st1]}" "$S1") ops, the hub $(ops_of "$HUB" "$S1")"
agent_restart st1
wait_until 150 "(a) backlog on the hub over 20% loss + 300 ms (agent start to in sync)" \
	all_have "$S1" "${HOMEOF[st1]}" "$HUB"
# a2: cases taken while the agent runs, pushed over the bad link
ta=$(now_ms)
for i in $(seq $NA); do
	new_case "${HOMEOF[st1]}" --title "丢包链路 案件 $i 路灯不亮" --category 市政设施 \
		--grid "g0$((i % 9 + 1))" >/dev/null
	sleep 0.1
done
say "(a) $NA more cases taken on st1 with its agent running, in $(secs_since "$ta") s"
wait_until 150 "(a) those on the hub too (after the last case)" \
	all_have "$S1" "${HOMEOF[st1]}" "$HUB"
say "(a) from the first of them: $(secs_since "$ta") s"
wait_until 60 "(a) and on the district" all_have "$S1" "${HOMEOF[st1]}" "$HUB" "$DIST"
dropped=$(fw_dropped "$NS_ST1")
say "(a) packets dropped on the st1 link: $dropped"
[ "${dropped:-0}" -gt 0 ] && ok || bad "(a) the loss rule dropped nothing: the test did not test loss"
fw_clear "$NS_ST1" || bad "(a) cannot remove the loss rules"
check_alive district hub st1 st2

# ---- (b) 256 kbit/s, partition in the middle --------------------------------------
bulk_wait "$T/bulk.ops" $GEN 300
agent_stop st2
wh --home "${HOMEOF[st2]}" import "$T/bulk.ops" >/dev/null 2>"$T/import.err" ||
	die "import bulk into st2: $(head -c 300 "$T/import.err")"
N=$(($(ops_of "${HOMEOF[st2]}" "$S2") - $(ops_of "$HUB" "$S2")))
D=$(stat -c %s "$T/bulk.ops")
base=$(ops_of "$HUB" "$S2")
tx0=$(tx_bytes "$NS_ST2" "$IF2")
say "(b) st2 has $N ops the hub lacks ($D bytes as an op file; ~$((D * 8 / 256000)) s at 256 kbit/s)"
agent_restart st2
tb=$(now_ms)
got=0
# Cut once a quarter has landed: OPS batches of 256 KiB (compressed on
# the wire) land several hundred ops at a time, so waiting for half can
# see the last batch already in flight.
for i in $(seq 1500); do
	got=$(($(ops_of "$HUB" "$S2") - base))
	[ "$got" -ge $((N / 4)) ] && break
	[ $(($(now_ms) - tb)) -gt 150000 ] && break
	sleep 0.1
done
[ "$got" -gt 0 ] || die "(b) nothing arrived on the hub in $(secs_since "$tb") s"
fw_cut "$NS_ST2" "$IF2" || die "(b) cannot cut the link"
tcut=$(now_ms)
say "(b) cut after $(secs_since "$tb") s: the hub held $got of $N"
sleep 2
O1=$(($(ops_of "$HUB" "$S2") - base))
B1=$(($(tx_bytes "$NS_ST2" "$IF2") - tx0))
say "(b) before the cut: $O1 ops stored on the hub, st2 sent $B1 bytes"
# the other station's link is not disturbed by the partition
id=$(new_case "${HOMEOF[st1]}" --title "分区期间 另一链路 案件" --priority urgent)
wait_until 30 "(b) during the partition st1's new case reaches the hub" \
	wh --home "$HUB" case show "$id"
# held past the agents' heartbeat timeout (ping every 5 s, dead after 15 s
# of silence), so the connection really breaks and the sync must resume
# over a new one
while [ $(($(now_ms) - tcut)) -lt $((PARTITION_S * 1000)) ]; do sleep 0.5; done
O1b=$(($(ops_of "$HUB" "$S2") - base))
check "(b) nothing crossed the partition ($O1 -> $O1b)" test "$O1b" = "$O1"
[ "$O1" -lt "$N" ] && ok ||
	bad "(b) the sync finished before the partition: nothing to resume (raise the bulk size)"
say "(b) st2's TCP send queue during the partition: $(ip netns exec "$NS_ST2" ss -Htn state all 2>/dev/null | awk '{q += $3} END {print q + 0}') bytes"
txr=$(tx_bytes "$NS_ST2" "$IF2")
echo "==== $(date +%T) test: link restored" >>"$T/log/st2.log"
fw_clear "$NS_ST2" || die "(b) cannot restore the link"
tr=$(now_ms)
wait_until 150 "(b) converged after the partition healed" \
	all_have "$S2" "${HOMEOF[st2]}" "$HUB"
say "(b) second phase took $(secs_since "$tr") s; whole sync $(secs_since "$tb") s"
wait_until 90 "(b) and the district has it all" all_have "$S2" "${HOMEOF[st2]}" "$HUB" "$DIST"
B=$(($(tx_bytes "$NS_ST2" "$IF2") - tx0))
B2=$(($(tx_bytes "$NS_ST2" "$IF2") - txr))
# A restart would resend all N ops after the partition, on top of the O1
# that had already arrived: at least D * (1 + O1/N) bytes in all.
RESTART=$((D + D * O1 / N))
say "(b) bytes st2 sent: $B1 before the cut, $B2 after, $B in all; data $D; a restart needs >= $RESTART"
say "(b) in all / data = $(awk "BEGIN {printf \"%.2f\", $B / $D}"); after / still missing = $(awk "BEGIN {m = $D * ($N - $O1) / $N; printf \"%.2f\", (m > 0 ? $B2 / m : 0)}")"
[ "$B" -lt "$RESTART" ] && ok ||
	bad "(b) st2 sent $B bytes, a restart needs only $RESTART: the sync started over"
# What the station sent after the link came back, by its own account:
# the agent logs each finished round as "in sync with NAME: sent A ...".
# If the partition outlived the connection, the rounds after the
# reconnect must send about what was still missing; if the TCP
# connection survived it, the round that was cut simply went on (its
# count includes what was sent before the cut) and only bytes tell.
sed -n '/==== .* test: link restored/,$p' "$T/log/st2.log" >"$T/after.log"
total_sent=$(wh --home "${HOMEOF[st2]}" --json status 2>/dev/null |
	jq '[.peers[]? | select(.name == "hub") | .ops_sent] | add // empty')
if grep -q 'connected to hub' "$T/after.log"; then
	sent=$(sed -n '/connected to hub/,$p' "$T/after.log" |
		grep -o 'in sync with hub: sent [0-9]*' | awk '{s += $NF} END {print s + 0}')
	say "(b) st2 reconnected after the restore and then sent $sent ops (still missing: $((N - O1)); a restart: $N); status: ${total_sent:-?} ops sent since start"
	if [ "$sent" -gt 0 ]; then
		[ "$sent" -lt $((N - O1 / 2)) ] && ok ||
			bad "(b) st2 sent $sent ops after reconnecting for $((N - O1)) missing: the sync started over"
	else
		bad "(b) no 'in sync with hub: sent N' line in st2's log after the reconnect"
	fi
else
	say "(b) st2's connection outlived the partition (no reconnect logged): the transfer went on; bytes above are the check; status: ${total_sent:-?} ops sent since start"
fi
[ "$(ops_of "$HUB" "$S2")" = "$(ops_of "${HOMEOF[st2]}" "$S2")" ] && ok ||
	bad "(b) ops count differs: hub $(ops_of "$HUB" "$S2"), st2 $(ops_of "${HOMEOF[st2]}" "$S2")"
ids_of "${HOMEOF[st2]}" "$S2" >"$T/a.ids"
ids_of "$DIST" "$S2" >"$T/b.ids"
check "(b) every case of st2 on the district" cmp -s "$T/a.ids" "$T/b.ids"
check "(b) no case of st2 on st1" test -z "$(ids_of "${HOMEOF[st1]}" "$S2")"

# ---- end -------------------------------------------------------------------------
check_alive district hub st1 st2
for n in st1 st2 hub district; do agent_stop "$n"; done
check_logs
lib_end
