#!/usr/bin/env bash
#
# test_agent_basic.sh: the sync agent on loopback, small and fast: trust
# add/list/remove, a street hub agent started and stopped by SIGTERM
# (exit 0), one-shot `whistle sync` from two stations converging (equal
# digests for each station's scope), an untrusted key refused and logged
# with its CURVE key (the one `key show --curve` prints there; a key a
# reload dropped is named), live push between two agents counted in
# `status` within ~1 s without a round, `status` showing the running
# agent's --listen rather than whistle.conf's (and the config's once it
# stops), one agent per home, SIGHUP with a bad and a good config, and
# wh_badpeer's garbage, truncated, huge, oversize, forged and
# out-of-scope messages (the hub survives, says so, stores none of it,
# and still syncs afterwards).
#
# usage: bash test_agent_basic.sh /path/to/whistle [/path/to/build/tests]
# (WH_TEST_TMP: scratch dir). Needs jq. Real processes on 127.0.0.1 with
# free ports; every wait is bounded; children are killed on exit.
set -u

W=${1:?usage: test_agent_basic.sh /path/to/whistle [build/tests]}
case $W in /*) ;; *) W=$PWD/$W ;; esac
TOOLS=${2:-$(dirname "$W")/../tests}
BP=$TOOLS/wh_badpeer
command -v jq >/dev/null || { echo "test_agent_basic: jq is required" >&2; exit 1; }
ROOT=${WH_TEST_TMP:-${TMPDIR:-/tmp}}
mkdir -p "$ROOT"
T=$(mktemp -d "$ROOT/test_agent_basic.XXXXXX") || exit 1
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${WH_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
unset WHISTLE_HOME WHISTLE_CONFIG
export TZ=Asia/Shanghai

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*" >&2
}
check() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then ok; else bad "$desc"; fi
}
run() {
	timeout 60 "$W" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
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
# wait_for SECONDS COMMAND...: poll until the command succeeds
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo $p
			return
		fi
	done
	echo 27420
}
digest() { timeout 30 "$W" --home "$1" digest --scope "$2" | head -n1; }
same_digest() { [ "$(digest "$1" "$3")" = "$(digest "$2" "$3")" ]; }
key_of() { timeout 30 "$W" --home "$1" key show; }
logged() { grep -q -- "$2" "$1"; }

HUB=$T/hub ZDY=$T/zdy SJF=$T/sjf OUT=$T/outsider
XJK=xicheng/xinjiekou
PORT=$(free_port)
EP=tcp://127.0.0.1:$PORT
# in the hub's whistle.conf, overridden by --listen $EP: never bound
CONF_EP=tcp://127.0.0.1:$(free_port)

# ---- homes and trust ---------------------------------------------------
want 0 "hub init" --home "$HUB" init --path $XJK --code XJK --role street
check "role in whistle.conf" grep -qx 'role = street' "$HUB/whistle.conf"
want 0 "zdy init" --home "$ZDY" init --path $XJK/zhaodengyu
check "default role station" grep -qx 'role = station' "$ZDY/whistle.conf"
want 0 "sjf init" --home "$SJF" init --path $XJK/sanjianfang
want 0 "outsider init" --home "$OUT" init --path $XJK/waidi
want 2 "init bad --role" --home "$T/nope" init --path $XJK/x --role mayor
check "bad role created nothing" [ ! -e "$T/nope" ]
HK=$(key_of "$HUB") ZK=$(key_of "$ZDY") SK=$(key_of "$SJF")

want 0 "trust add zdy" --home "$HUB" trust add "$ZK" --name zhaodengyu --path $XJK/zhaodengyu --role station
want 0 "trust add sjf" --home "$HUB" trust add "$SK" --name sanjianfang --path $XJK/sanjianfang --role station
want 1 "duplicate key" --home "$HUB" trust add "$ZK" --name other --path $XJK/zhaodengyu --role station
check "duplicate key named" grep -q 'already trusted' "$T/err"
want 1 "duplicate name" --home "$HUB" trust add "$(key_of "$OUT")" --name zhaodengyu --path $XJK/waidi --role station
want 2 "bad key" --home "$HUB" trust add abcd --name x --path $XJK/x --role station
want 2 "not a point" --home "$HUB" trust add "$(printf 'f%.0s' $(seq 64))" --name x --path $XJK/x --role station
want 2 "bad name" --home "$HUB" trust add "$(key_of "$OUT")" --name 'Bad Name' --path $XJK/x --role station
want 2 "bad endpoint" --home "$HUB" trust add "$(key_of "$OUT")" --name x --path $XJK/x --role station --endpoint http://x
want 2 "bad role" --home "$HUB" trust add "$(key_of "$OUT")" --name x --path $XJK/x --role boss
want 0 "trust list --json" --home "$HUB" --json trust list
check "two entries" jq -e 'length == 2 and .[0].name == "zhaodengyu" and .[0].key == "'"$ZK"'"' "$T/out"
want 0 "trust remove by name" --home "$HUB" trust remove sanjianfang
want 0 "list after remove" --home "$HUB" --json trust list
check "one entry left" jq -e 'length == 1' "$T/out"
want 1 "remove unknown" --home "$HUB" trust remove sanjianfang
want 0 "re-add sjf" --home "$HUB" trust add "$SK" --name sanjianfang --path $XJK/sanjianfang --role station
check "trust file has the format header" grep -q '^# One entry per line: key role path name \[endpoint\]' "$HUB/trust"
check "no tmp left" [ ! -e "$HUB/trust.tmp" ]
for h in "$ZDY" "$SJF" "$OUT"; do
	want 0 "trust the hub" --home "$h" trust add "$HK" --name xinjiekou --path $XJK --role street --endpoint "$EP"
done
want 0 "trust list text" --home "$ZDY" trust list
check "list shows the endpoint" grep -q "$EP" "$T/out"

# ---- cases -------------------------------------------------------------
for t in 楼道堆物 占道经营 违法建设; do
	want 0 "zdy case $t" --home "$ZDY" case new --title $t --category 市容环境
done
want 0 "sjf case" --home "$SJF" case new --title 加装电梯 --category 加装电梯

# ---- agent checks --------------------------------------------------------
want 0 "agent --check" --home "$HUB" agent --check --listen "$EP"
want 2 "agent bad --listen" --home "$HUB" agent --listen nonsense
want 1 "agent unknown peer" --home "$ZDY" agent --peer nobody
check "unknown peer named" grep -q "no trusted peer named 'nobody'" "$T/err"
want 2 "sync without --peer" --home "$ZDY" sync

# ---- hub agent, one-shot syncs --------------------------------------------
echo "listen = $CONF_EP" >>"$HUB/whistle.conf"
want 0 "status before the agent runs" --home "$HUB" --json status
check "status: no agent, the config's listen" jq -e --arg c "$CONF_EP" \
	'.agent.running == false and .agent.settings_from == "config" and .listen == [$c]' "$T/out"
"$W" --home "$HUB" agent --listen "$EP" 2>"$T/hub.log" &
HUBPID=$!
PIDS+=($HUBPID)
check "hub started" wait_for 10 logged "$T/hub.log" 'agent started'
check "log line format" grep -Eq '^<6>whistle\[[0-9]+\]: info: agent started' "$T/hub.log"
# status shows what the agent bound (--listen), not whistle.conf's listen
agent_listens() {
	timeout 30 "$W" --home "$HUB" --json status >"$T/st.json" 2>/dev/null &&
		jq -e --arg e "$EP" '.agent.running == true and .agent.settings_from == "agent" and .listen == [$e]' "$T/st.json"
}
check "status --json: the running agent's --listen" wait_for 5 agent_listens
check "status --json: the agent's pid" jq -e ".agent.pid == $HUBPID" "$T/st.json"
want 0 "status text while the agent runs" --home "$HUB" status
check "status text: the --listen endpoint" grep -qF "监听 Listen:    $EP" "$T/out"
check "status text: not the config's" bash -c '! grep -qF "$1" "$2"' _ "$CONF_EP" "$T/out"
check "status text: agent running" grep -q "^代理 Agent: *running (pid $HUBPID)" "$T/out"
want 1 "a second agent on the same home" --home "$HUB" agent --listen "tcp://127.0.0.1:$(free_port)"
check "second agent told why" grep -q "another agent runs on this home (pid $HUBPID)" "$T/err"

want 0 "sync zdy -> hub" --home "$ZDY" sync --peer xinjiekou
check "sync message" grep -Eq '^synced with xinjiekou: sent [0-9]+ ops, received 0 ops; in sync \(digest [0-9a-f]{8}…\)$' "$T/out"
check "zdy scope digests equal" same_digest "$ZDY" "$HUB" $XJK/zhaodengyu
check "hub holds zdy's 3 cases" [ "$(timeout 30 "$W" --home "$HUB" --json digest --scope $XJK/zhaodengyu | jq .ops)" -ge 3 ]
want 0 "sync sjf by endpoint --json" --home "$SJF" --json sync --peer "$EP"
check "sync json" jq -e '.in_sync == true and .peer == "xinjiekou" and .sent >= 1 and .scope == "'$XJK/sanjianfang'"' "$T/out"
check "sjf scope digests equal" same_digest "$SJF" "$HUB" $XJK/sanjianfang
check "sjf got nothing of zdy" [ "$(timeout 30 "$W" --home "$SJF" --json digest --scope $XJK/zhaodengyu | jq .ops)" = 0 ]
want 0 "sync again: nothing to move" --home "$ZDY" sync --peer "$HK@$EP"
check "second sync moved nothing" grep -q 'sent 0 ops, received 0 ops; in sync' "$T/out"
check "hub logged the round" logged "$T/hub.log" 'in sync with zhaodengyu: sent 0 received 3'

# ---- untrusted key ---------------------------------------------------------
want 1 "outsider refused" --home "$OUT" sync --peer xinjiekou --timeout 5
check "refusal message" grep -q 'refused' "$T/err"
want 0 "key show --curve" --home "$OUT" key show --curve
OC=$(cat "$T/out")
check "curve key is 64 hex" grep -Eqx '[0-9a-f]{64}' "$T/out"
check "curve key differs from the Ed25519 key" [ "$OC" != "$(key_of "$OUT")" ]
want 0 "key show --json" --home "$OUT" --json key show
check "key show --json has both forms" jq -e --arg c "$OC" --arg k "$(key_of "$OUT")" \
	'.curve_key == $c and .public_key == $k' "$T/out"
if [ -x "$BP" ]; then
	check "curve key as wh_badpeer derives it" [ "$("$BP" keys "$OUT/key.secret" | cut -d' ' -f2)" = "$OC" ]
else
	bad "wh_badpeer not built at $BP"
fi
check "unknown key logged with its CURVE key" wait_for 5 logged "$T/hub.log" "handshake refused for unknown CURVE key $OC from "
check "refusal says how to compare" grep -q "unknown CURVE key $OC .*whistle key show --curve' on the other machine" "$T/hub.log"
# a key a reload dropped from the trust list is named when it is refused
GONE=$T/gone
want 0 "gone init" --home "$GONE" init --path $XJK/gone
want 0 "gone trusts the hub" --home "$GONE" trust add "$HK" --name xinjiekou --path $XJK --role street --endpoint "$EP"
want 0 "hub trusts gone" --home "$HUB" trust add "$(key_of "$GONE")" --name gone --path $XJK/gone --role station
reloads_past() { [ "$(grep -c 'configuration reloaded' "$T/hub.log")" -gt "$1" ]; }
n=$(grep -c 'configuration reloaded' "$T/hub.log")
kill -HUP $HUBPID
check "hub reloaded with gone" wait_for 5 logged "$T/hub.log" 'configuration reloaded: 3 trusted'
want 0 "hub drops gone" --home "$HUB" trust remove gone
kill -HUP $HUBPID
check "hub reloaded without gone" wait_for 5 reloads_past $((n + 1))
want 1 "gone refused" --home "$GONE" sync --peer xinjiekou --timeout 3
GC=$(timeout 30 "$W" --home "$GONE" key show --curve)
check "refusal names the dropped peer" wait_for 5 logged "$T/hub.log" "CURVE key $GC from .*CURVE form of 'gone'"
check "outsider stored nothing at the hub" [ "$(timeout 30 "$W" --home "$HUB" --json digest --scope $XJK/waidi | jq .ops)" = 0 ]

# ---- live push between two agents ------------------------------------------
# A long interval: no round runs after the first, so the counters below
# can only come from the throttled record writes.
"$W" --home "$ZDY" agent --peer xinjiekou --interval 600 2>"$T/zdy.log" &
ZPID=$!
PIDS+=($ZPID)
check "zdy connected" wait_for 10 logged "$T/zdy.log" 'connected to xinjiekou'
DOWNS=$(grep -c 'disconnected from zhaodengyu' "$T/hub.log")
# peer_json HOME NAME: that peer's object from status --json
peer_json() { timeout 30 "$W" --home "$1" --json status 2>/dev/null | jq -c --arg n "$2" '.peers[] | select(.name == $n)'; }
first_round() { peer_json "$ZDY" xinjiekou | jq -e '.connected and .rounds >= 1 and .in_sync' && peer_json "$HUB" zhaodengyu | jq -e '.connected and .rounds >= 1'; }
check "first round recorded" wait_for 10 first_round
Z0=$(peer_json "$ZDY" xinjiekou)
H0=$(peer_json "$HUB" zhaodengyu)
want 0 "new case while linked" --home "$ZDY" case new --title 井盖缺失 --category 市政设施
# From `case new` returning to the records that count the op, by the
# records' own recorded_at (so a slow poll here does not count against
# the agent): within 2 s. The poll is bounded: 50 tries, 5 s.
t0=$(date +%s%3N)
counted=""
for i in $(seq 50); do
	zj=$(peer_json "$ZDY" xinjiekou)
	hj=$(peer_json "$HUB" zhaodengyu)
	zs=$(jq .ops_sent <<<"$zj")
	hr=$(jq .ops_received <<<"$hj")
	if [ "$zs" = $(($(jq .ops_sent <<<"$Z0") + 1)) ] && [ "$hr" = $(($(jq .ops_received <<<"$H0") + 1)) ]; then
		counted=1
		break
	fi
	[ $(($(date +%s%3N) - t0)) -gt 5000 ] && break
	sleep 0.1
done
if [ -n "$counted" ]; then
	zat=$(date -d "$(jq -r .recorded_at <<<"$zj")" +%s%3N)
	hat=$(date -d "$(jq -r .recorded_at <<<"$hj")" +%s%3N)
	lag=$((zat > hat ? zat - t0 : hat - t0))
	echo "test_agent_basic: pushed op counted in status $lag ms after case new (seen after $(($(date +%s%3N) - t0)) ms)"
	if [ "$lag" -le 2000 ]; then ok; else bad "pushed op counted in status only after $lag ms (want <= 2000)"; fi
else
	bad "pushed op not counted in status within 5 s: zdy sent $zs (was $(jq .ops_sent <<<"$Z0")), hub received $hr (was $(jq .ops_received <<<"$H0"))"
fi
check "no round ran meanwhile (zdy)" [ "$(peer_json "$ZDY" xinjiekou | jq .rounds)" = "$(jq .rounds <<<"$Z0")" ]
check "no round ran meanwhile (hub)" [ "$(peer_json "$HUB" zhaodengyu | jq .rounds)" = "$(jq .rounds <<<"$H0")" ]
check "pushed to the hub within 5 s" wait_for 5 same_digest "$ZDY" "$HUB" $XJK/zhaodengyu
want 0 "status --json" --home "$ZDY" --json status
check "status role and peer" jq -e '.role == "station" and (.peers | map(select(.name == "xinjiekou" and .connected == true)) | length) == 1' "$T/out"
check "status scopes" jq -e '.scopes[0].scope == "'$XJK/zhaodengyu'" and .scopes[0].ops >= 4' "$T/out"
want 0 "hub status text" --home "$HUB" status
check "hub status lists zhaodengyu" grep -q 'zhaodengyu (station' "$T/out"
check "hub status lists the scopes" grep -q "$XJK/sanjianfang" "$T/out"

# ---- misbehaving peers ------------------------------------------------------
if [ -x "$BP" ]; then
	i=0
	for mode in garbage trunc huge oversize forged scope; do
		i=$((i + 1))
		H=$T/bp$i
		timeout 30 "$W" --home "$H" init --path $XJK/bp$i >/dev/null 2>&1
		timeout 30 "$W" --home "$HUB" trust add "$(key_of "$H")" --name bp$i --path $XJK/bp$i --role station >/dev/null 2>&1
	done
	kill -HUP $HUBPID
	check "hub reloaded the trust list" wait_for 5 logged "$T/hub.log" 'configuration reloaded: 8 trusted'
	i=0
	for mode in garbage trunc huge oversize forged scope; do
		i=$((i + 1))
		timeout 30 "$BP" $mode "$T/bp$i/key.secret" "$HK" "$EP" $XJK/bp$i 30 >"$T/bp.out" 2>&1
		r=$?
		if [ $r = 0 ]; then ok; else bad "badpeer $mode: exit $r: $(cat "$T/bp.out")"; fi
		check "hub alive after $mode" kill -0 $HUBPID
	done
	check "garbage logged" logged "$T/hub.log" 'garbage from bp1'
	check "garbage peer shut out" logged "$T/hub.log" 'shutting bp1 out for 60 s'
	check "forged ops refused and logged" wait_for 5 logged "$T/hub.log" 'refused 1 ops from bp5: 1 signature'
	check "out-of-scope ops refused with reason" wait_for 5 logged "$T/hub.log" 'refused 30 ops from bp6: 30 outside the shared scope'
	check "no forged op stored" [ "$(timeout 30 "$W" --home "$HUB" --json digest --scope $XJK/bp5 | jq .ops)" = 0 ]
	check "no out-of-scope op stored" [ "$(timeout 30 "$W" --home "$HUB" --json digest --scope xicheng/elsewhere | jq .ops)" = 0 ]
fi
want 0 "new case at sjf" --home "$SJF" case new --title 垃圾满溢 --category 环境
want 0 "hub still syncs after the abuse" --home "$SJF" sync --peer xinjiekou
check "sjf digests equal again" same_digest "$SJF" "$HUB" $XJK/sanjianfang

# ---- SIGHUP -----------------------------------------------------------------
cp "$HUB/whistle.conf" "$T/conf.good"
echo "this line is not a setting" >>"$HUB/whistle.conf"
kill -HUP $HUBPID
check "bad config refused" wait_for 5 logged "$T/hub.log" 'keeping the old configuration'
check "hub alive after a bad reload" kill -0 $HUBPID
cp "$T/conf.good" "$HUB/whistle.conf"
echo "log_level = debug" >>"$HUB/whistle.conf"
n=$(grep -c 'configuration reloaded' "$T/hub.log")
kill -HUP $HUBPID
check "good config reloaded" wait_for 5 reloads_past "$n"
hub_reloaded_status() {
	timeout 30 "$W" --home "$HUB" --json status 2>/dev/null |
		jq -e --arg e "$EP" '.agent.log_level == "debug" and .listen == [$e]'
}
check "status shows the reloaded settings, --listen kept" wait_for 5 hub_reloaded_status
check "link kept across reloads" [ "$(grep -c 'disconnected from zhaodengyu' "$T/hub.log")" = "$DOWNS" ]
check "agent link never dropped" [ "$(grep -c 'disconnected from' "$T/zdy.log")" = 0 ]

# ---- stop -------------------------------------------------------------------
kill -TERM $ZPID
wait $ZPID
check "zdy agent exit 0 on SIGTERM" [ $? = 0 ]
check "hub saw zdy go" wait_for 10 logged "$T/hub.log" 'disconnected from zhaodengyu'
kill -INT $HUBPID
wait $HUBPID
check "hub agent exit 0 on SIGINT" [ $? = 0 ]
check "hub logged its stop" logged "$T/hub.log" 'agent stopped'
want 0 "hub status after stop" --home "$HUB" --json status
check "status: agent not running, the config's listen again" jq -e --arg c "$CONF_EP" \
	'.agent.running == false and .agent.pid == null and .listen == [$c]' "$T/out"
want 0 "hub status text after stop" --home "$HUB" status
check "status text: not running" grep -q '^代理 Agent: *not running' "$T/out"
want 0 "status after stop" --home "$ZDY" --json status
check "recorded as not connected" jq -e '(.peers | map(select(.name == "xinjiekou")) | .[0].connected) == false' "$T/out"
check "last sync recorded" jq -e '(.peers | map(select(.name == "xinjiekou")) | .[0].last_sync) != null' "$T/out"

echo "test_agent_basic: $pass passed, $fail failed"
[ $fail = 0 ]
