#!/usr/bin/env bash
#
# test_discovery.sh: LAN discovery. Four network namespaces this test
# makes, each with one veth into a bridge that lives in a fifth, form
# one subnet (10.214.0.0/24; nothing leaves the namespaces):
#
#   wh-da-S  station 赵登禹 (a)   10.214.0.1 --+
#   wh-db-S  street hub 新街口 (b) 10.214.0.2 --+-- br0 in wh-dbr-S
#   wh-dc-S  station 西四北 (c)   10.214.0.3 --+
#   wh-dx-S  a stranger (x)       10.214.0.9 --+
#
# a, b and c trust each other and know no address: no peer line, no
# endpoint in any trust list. Their agents run with discovery on and
# find each other by their signed beacons: a's case and c's case reach
# the hub. x runs the same agent, but nobody trusts its key and it trusts
# nobody: its beacons are ignored and logged (once per key, not per
# beacon), no link to it comes up, its case goes nowhere. Last, agents
# started without --discovery (the default, 'emergency', with no
# emergency active) stay off the LAN, until an emergency over the street
# is declared: then they find each other.
#
# Needs root and `ip netns` with veth and bridge; prints SKIP and exits 0
# otherwise (as test_sync_netns.sh does). Every wait is bounded.
#
# usage: bash test_discovery.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_discovery "$@"

skip_all() {
	skip "$NAME: $*"
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root for network namespaces"
command -v ip >/dev/null || skip_all "no 'ip' command"
"$W" agent --help 2>/dev/null | grep -q -- --discovery ||
	die "'$W agent --help' does not know --discovery"

SFX=$(printf '%05x' $(((RANDOM * 32768 + RANDOM + $$) % 1048576)))
BR=wh-dbr-$SFX
ip netns add "$BR" 2>"$T/netns.err" ||
	skip_all "ip netns add fails: $(head -c 200 "$T/netns.err")"
NETNS_LIST=$BR
echo "$BR" >>"$T/netns"
ip -n "$BR" link add br0 type bridge 2>"$T/br.err" ||
	skip_all "no bridge support: $(head -c 200 "$T/br.err")"
ip -n "$BR" link set br0 up || die "br0 up"

# lan_join NAME NS ADDR: NS gets a veth into the bridge with ADDR/24
lan_join() {
	local name=$1 ns=$2 addr=$3 i=wh${SFX}$1
	netns_add "$ns"
	ip link add "${i}0" netns "$ns" type veth peer name "${i}1" netns "$BR" ||
		die "veth for $name"
	ip -n "$BR" link set "${i}1" master br0 && ip -n "$BR" link set "${i}1" up &&
		ip -n "$ns" addr add "$addr/24" dev "${i}0" &&
		ip -n "$ns" link set "${i}0" up || die "addresses for $name"
}
lan_join a "wh-da-$SFX" 10.214.0.1
lan_join b "wh-db-$SFX" 10.214.0.2
lan_join c "wh-dc-$SFX" 10.214.0.3
lan_join x "wh-dx-$SFX" 10.214.0.9
if command -v ping >/dev/null; then
	wait_until 10 "a reaches c across the bridge" \
		ip netns exec "wh-da-$SFX" ping -c1 -W1 10.214.0.3
fi
check "no default route in a's namespace (only the subnet)" \
	bash -c "! ip -n wh-da-$SFX route get 8.8.8.8"

mkhome a xicheng/xinjiekou/zhaodengyu station ZDY
mkhome b xicheng/xinjiekou street XJK
mkhome c xicheng/xinjiekou/xisibei station XSB
mkhome x xicheng/xinjiekou/stranger station STR
for p in "a b" "a c" "b a" "b c" "c a" "c b"; do
	# shellcheck disable=SC2086
	trust $p # no endpoint: nobody knows where anybody is
done
for n in a b c x; do
	agent_netns "$n" "wh-d$n-$SFX"
	check "$n has no peer configured" bash -c "! grep -q '^peer' '${HOMEOF[$n]}/whistle.conf'"
done
check "no trust list names an endpoint" bash -c "! grep -hv '^#' '$T'/a/trust '$T'/b/trust '$T'/c/trust | grep -q 'tcp://'"

A_ID=$(new_case "${HOMEOF[a]}" --title "井盖缺失，赵登禹路口" --category 市政 --grid g01 \
	--priority urgent) || die "no case on a"
C_ID=$(new_case "${HOMEOF[c]}" --title "违章停车堵塞消防通道" --category 消防隐患 --grid g02) ||
	die "no case on c"
X_ID=$(new_case "${HOMEOF[x]}" --title "来历不明" --category 其他 --grid g01) || die "no case on x"

for n in a b c x; do
	agent_start "$n" --listen tcp://0.0.0.0:7420 --discovery on --interval 2
done

# ---- the trusted three find each other and sync -------------------------------
holds() { wh --home "${HOMEOF[$1]}" case show "$2" >/dev/null 2>&1; }
wait_until 60 "the hub has a's case" holds b "$A_ID"
wait_until 60 "the hub has c's case" holds b "$C_ID"
check "a's case reads the same at a and the hub" \
	test "$(view_of "${HOMEOF[a]}" "$A_ID")" = "$(view_of "${HOMEOF[b]}" "$A_ID")"
# Every beacon is heard within a beacon period or two (~5 s each).
for n in a c; do
	wait_until 15 "$n found the hub on the LAN" grep -q \
		"found b (street xicheng/xinjiekou) on the LAN at tcp://10.214.0.2:7420" "$T/log/$n.log"
done
wait_until 15 "the hub found a" grep -q "found a (station xicheng/xinjiekou/zhaodengyu) on the LAN" "$T/log/b.log"
wait_until 15 "a and c found each other" bash -c "grep -q 'found c ' '$T/log/a.log' && grep -q 'found a ' '$T/log/c.log'"
# One link per pair: the lower key dials, the other does not.
lower() { [[ "${KEYOF[$1]}" < "${KEYOF[$2]}" ]]; }
for p in "a b" "a c" "b c"; do
	set -- $p
	if lower "$1" "$2"; then lo=$1 hi=$2; else lo=$2 hi=$1; fi
	wait_until 15 "$lo (lower key) dials $hi" grep -q "dialing $hi at" "$T/log/$lo.log"
	check "$hi does not dial $lo" bash -c "! grep -q 'dialing $lo at' '$T/log/$hi.log'"
done
A2=$(new_case "${HOMEOF[a]}" --title "路灯不亮" --category 市政 --grid g03) || die "no case"
wait_until 30 "a case taken after discovery is pushed to the hub" holds b "$A2"

# ---- the stranger ------------------------------------------------------------------
X8=${KEYOF[x]:0:16}
for n in a b c; do
	wait_until 20 "$n logs the stranger's beacon" grep -q "untrusted key ${KEYOF[x]}" "$T/log/$n.log"
done
sleep 6 # more beacons from x arrive (one every ~5 s)
for n in a b c; do
	check "$n names the stranger once, not per beacon" \
		test "$(grep -c "untrusted key ${KEYOF[x]}" "$T/log/$n.log")" = 1
	check "$n never dials the stranger" bash -c "! grep -q 'dialing x\\|10.214.0.9:7420' '$T/log/$n.log'"
	check "the stranger's case is not at $n" bash -c "! '$W' --home '${HOMEOF[$n]}' case show '$X_ID' >/dev/null 2>&1"
done
check "the stranger ignores the beacons of keys it does not trust" \
	grep -q "untrusted key ${KEYOF[a]}" "$T/log/x.log"
check "the stranger connected to nobody" bash -c "! grep -Eq 'connected to|[a-z]+ connected$' '$T/log/x.log'"
check "no handshake from the stranger was even tried at a" \
	bash -c "! grep -q 'handshake refused' '$T/log/a.log'"
say "stranger key $X8... ignored"
check_alive a b c x
for n in a b c x; do agent_stop "$n"; done

# ---- the default: discovery only in an emergency -------------------------------
# No emergency is active, so agents started without --discovery stay
# off the LAN.
for n in a b; do : >"$T/log/$n.log"; done
A3=$(new_case "${HOMEOF[a]}" --title "默认不广播" --category 其他 --grid g01) || die "no case"
for n in a b; do
	AGENT_ARGS[$n]="--listen tcp://0.0.0.0:7420 --interval 2"
	agent_restart "$n"
done
wait_until 10 "a says discovery waits for an emergency" grep -q "waits for an emergency" "$T/log/a.log"
sleep 12 # two beacon periods and more
check "by default a does not find the hub" bash -c "! grep -q 'found b' '$T/log/a.log'"
check "by default a's new case does not reach the hub" bash -c "! '$W' --home '${HOMEOF[b]}' case show '$A3' >/dev/null 2>&1"

# ---- the default in an emergency: discovery turns itself on -------------------
# The street declares an emergency over the street; a learns of it from
# a bundle (no link is up), and both running agents, seeing it in their
# stores, open discovery: a finds the hub and its waiting case goes.
EM=$(wh --home "${HOMEOF[b]}" emergency declare --path xicheng/xinjiekou \
	--title "暴雨" 2>"$T/decl.err" | head -n1)
[ -n "$EM" ] || die "declare failed: $(cat "$T/decl.err")"
wh --home "${HOMEOF[b]}" bundle create --scope xicheng/xinjiekou -o "$T/em.bundle" \
	>/dev/null 2>"$T/bc.err" || die "bundle create: $(cat "$T/bc.err")"
wh --home "${HOMEOF[a]}" bundle apply "$T/em.bundle" >/dev/null 2>"$T/ba.err" ||
	die "bundle apply: $(cat "$T/ba.err")"
wait_until 20 "a says the emergency is in force" grep -q "emergency in force over" "$T/log/a.log"
wait_until 30 "in the emergency a finds the hub" grep -q "found b " "$T/log/a.log"
wait_until 60 "in the emergency a's waiting case reaches the hub" \
	bash -c "'$W' --home '${HOMEOF[b]}' case show '$A3' >/dev/null 2>&1"
for n in a b; do agent_stop "$n"; done
check_logs
lib_end
