#!/usr/bin/env bash
#
# test_agent_config.sh: the config file and the logs of the packaged
# agent (docs/config.md), through real processes on 127.0.0.1.
#
#   - which file and which home: --config, $WHISTLE_CONFIG, HOME/whistle.conf;
#     --home, $WHISTLE_HOME, the file's 'home' line; init into a named
#     file; usage errors when no home can be found;
#   - a bad config stops the agent before it starts, naming the file, the
#     line and the key (unknown key, bad value, a key twice, no '=', a
#     listen that is not tcp://, a peer the trust list does not know);
#   - SIGHUP: a bad file is refused, the error and the refusal logged at
#     their levels, nothing changes; a good one that adds a peer dials it
#     while the link that did not change keeps its connection and its
#     counters (same 'since' on both ends, no disconnect logged, counts
#     only grow, the next case goes out on both links); log_level applies
#     at once; dropping the peer again closes only that link;
#   - log lines: '<N>whistle[PID]: LEVEL: ' to a file, '<N>message' when
#     stderr is the journal's stream ($JOURNAL_STREAM = its dev:inode),
#     the prefixed form again when $JOURNAL_STREAM names another file,
#     plain 'whistle[PID]: LEVEL: ' on a terminal (util-linux script),
#     and --log-level warn keeps info lines out.
#
# usage: bash test_agent_config.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_agent_config "$@"

# run RC DESC ARGS...: whistle ARGS must exit RC; stdout $T/out, stderr $T/err
run() {
	local want=$1 desc=$2
	shift 2
	timeout 60 "$W" "$@" </dev/null >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" = "$want" ]; then ok; else bad "$desc: want exit $want, got $rc: $(head -c 300 "$T/err")"; fi
}
# says DESC TEXT: the last run's stderr holds TEXT (fixed string)
says() { if grep -qF -- "$2" "$T/err"; then ok; else bad "$1: '$2' not in: $(head -c 300 "$T/err")"; fi; }
eq() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi; }
logged() { grep -Eq -- "$2" "$T/log/$1.log"; }
nlogged() { grep -Ec -- "$2" "$T/log/$1.log"; }
# same_a HOME: a (read through its config) and HOME hold the same ops of a's path
same_a() {
	local s=xicheng/xinjiekou/zhaodengyu d
	d=$(timeout 30 "$W" --config "$AC" digest --scope $s 2>/dev/null | head -n1)
	[ -n "$d" ] && [ "$d" = "$(digest_of "$1" $s)" ]
}

mkhome hub xicheng/xinjiekou street
mkhome district xicheng district
E=$T/etc
mkdir -p "$E"
A=$T/a
AC=$E/a.conf

# ---- which file, which home ---------------------------------------------------
run 0 "init into a named config" --config "$AC" --home "$A" init --path xicheng/xinjiekou/zhaodengyu --name 赵登禹社区
check "the config names the home" grep -qx "home = $A" "$AC"
check "the station is in the config" grep -qx "path = xicheng/xinjiekou/zhaodengyu" "$AC"
check "no whistle.conf in the home" test ! -e "$A/whistle.conf"
run 0 "--config alone finds the home" --config "$AC" --json status
eq "status home from the config" "$(jq -r .home "$T/out")" "$A"
eq "status station from the config" "$(jq -r .station "$T/out")" zhaodengyu
eq "status names the config in effect" "$(jq -r .config "$T/out")" "$AC"
WHISTLE_CONFIG=$AC run 0 "WHISTLE_CONFIG" --json status
eq "WHISTLE_CONFIG: the station" "$(jq -r .station "$T/out")" zhaodengyu
echo "this is not a config" >"$E/broken.conf"
WHISTLE_CONFIG=$E/broken.conf run 0 "--config wins over WHISTLE_CONFIG" --config "$AC" --json status
WHISTLE_CONFIG=$E/broken.conf run 1 "WHISTLE_CONFIG is read when no --config" --json status
says "a bad WHISTLE_CONFIG named" "$E/broken.conf:1: expected 'key = value'"
run 0 "--home wins over the config's home" --config "$AC" --home "${HOMEOF[hub]}" --json status
eq "--home wins" "$(jq -r .home "$T/out")" "${HOMEOF[hub]}"
WHISTLE_HOME=${HOMEOF[hub]} run 0 "WHISTLE_HOME wins over the config's home" --config "$AC" --json status
eq "WHISTLE_HOME wins" "$(jq -r .home "$T/out")" "${HOMEOF[hub]}"
run 0 "no --config: HOME/whistle.conf" --home "${HOMEOF[hub]}" --json status
eq "the home's own config" "$(jq -r .station "$T/out")" xinjiekou
eq "status: HOME/whistle.conf in effect" "$(jq -r .config "$T/out")" "${HOMEOF[hub]}/whistle.conf"
run 2 "no home anywhere" status
says "no home: what to do" "pass --home DIR or set WHISTLE_HOME"
grep -v '^home = ' "$AC" >"$E/nohome.conf"
run 2 "a named config without a home line" --config "$E/nohome.conf" status
says "no home line: named" "$E/nohome.conf has no 'home = DIR' line"
run 1 "init refuses a config that names a station" --config "$AC" --home "$T/a2" init --path xicheng/xinjiekou/x
says "refusal says why" "already names a station"
check "refused init left no home" test ! -e "$T/a2"

# ---- trust, peers, listen -------------------------------------------------------
free_port PH
free_port PD
free_port PA
EPH=tcp://127.0.0.1:$PH
EPD=tcp://127.0.0.1:$PD
KA=$(timeout 30 "$W" --config "$AC" key show)
for p in hub district; do
	run 0 "a trusts $p" --config "$AC" trust add "${KEYOF[$p]}" --name "$p" \
		--path "${PATHOF[$p]}" --role "${ROLEOF[$p]}" --endpoint "$([ $p = hub ] && echo "$EPH" || echo "$EPD")"
	run 0 "$p trusts a" --home "${HOMEOF[$p]}" trust add "$KA" --name zdy \
		--path xicheng/xinjiekou/zhaodengyu --role station
done
{
	echo "listen = tcp://127.0.0.1:$PA"
	echo "peer = hub"
	echo "sync_interval = 2"
} >>"$AC"
cp "$AC" "$E/a.good"

# ---- a bad config stops the agent, naming file, line and key ------------------------
# bad LINE DESC EXPECTED: the good config plus LINE; agent exits 1 naming it
bad_conf() {
	local line=$1 desc=$2 want=$3 n
	cp "$E/a.good" "$E/bad.conf"
	echo "$line" >>"$E/bad.conf"
	n=$(wc -l <"$E/bad.conf")
	run 1 "agent refuses: $desc" --config "$E/bad.conf" agent
	says "$desc: file, line and key" "$E/bad.conf:$n: $want"
}
bad_conf "peers = district" "unknown key" "'peers' is not a key whistle knows"
# a bad value on a line of its own (the good file's sync_interval line)
sed 's/^sync_interval = 2$/sync_interval = 0/' "$E/a.good" >"$E/bad.conf"
n=$(grep -n '^sync_interval' "$E/bad.conf" | cut -d: -f1)
run 1 "agent refuses: bad value" --config "$E/bad.conf" agent
says "bad value: file, line and key" "$E/bad.conf:$n: 'sync_interval' must be a number of seconds, 1 to 86400"
bad_conf "log_level = loud" "bad level" "'log_level' must be error, warn, info or debug"
bad_conf "peer = nosuch" "unknown peer" "'peer' no trusted peer named 'nosuch'"
bad_conf "listen = udp://127.0.0.1:1" "listen not tcp" "'listen' must be tcp://HOST:PORT"
bad_conf "sync_interval = 5" "a key twice" "bad value for 'sync_interval': the key is given twice (first on line"
bad_conf "just words" "no '='" "expected 'key = value'"
run 1 "--check refuses too" --config "$E/bad.conf" agent --check
run 0 "--check of the good one" --config "$E/a.good" agent --check
check "--check says what it would do" grep -q "configuration OK: 2 trusted; listening on tcp://127.0.0.1:$PA; dialing hub@$EPH" "$T/out"

# ---- SIGHUP ------------------------------------------------------------------------
agent_start hub --listen "$EPH"
agent_start district --listen "$EPD"
# a_start LOG [ENV...]: the agent of the config file, stderr to LOG
a_start() {
	local log=$1
	shift
	env "$@" "$W" --config "$AC" agent </dev/null >>"$log" 2>&1 &
	AGENT_PID[a]=$!
	save_pids
}
a_start "$T/log/a.log"
wait_until 10 "a connects to hub" logged a 'connected to hub at'
check "file log line form" logged a "^<6>whistle\\[${AGENT_PID[a]}\\]: info: agent started: zhaodengyu"
for i in 1 2 3; do
	run 0 "case $i at a" --config "$AC" case new --title "楼道堆物 $i" --category 消防隐患
done
wait_until 10 "hub holds a's cases" same_a "${HOMEOF[hub]}"
peer_of() { # HOME-ARGS... NAME FIELD: a field of status's peer NAME
	local f=$1 n=$2
	shift 2
	timeout 30 "$W" "$@" --json status 2>/dev/null | jq -r --arg n "$n" ".peers[] | select(.name == \$n) | .$f"
}
# The agent writes its peer records at most every few seconds: wait for
# the one that counts the cases sent.
sent_a() { [ "$(peer_of ops_sent hub --config "$AC")" -ge 3 ] 2>/dev/null; }
wait_until 15 "a sent its cases to hub (its peer record says so)" sent_a || true
since_a=$(peer_of since hub --config "$AC")
since_h=$(peer_of since zdy --home "${HOMEOF[hub]}")
sent0=$(peer_of ops_sent hub --config "$AC")
check "a's link to hub recorded" [ -n "$since_a" -a "$since_a" != null ]
check "a sent its cases to hub" [ "${sent0:-0}" -ge 3 ]

# a bad reload: refused, logged at error and warn, nothing changes
echo "peers = district" >>"$AC"
n_bad=$(wc -l <"$AC")
kill -HUP "${AGENT_PID[a]}"
wait_until 10 "bad reload refused" logged a 'warn: reload: .* keeping the old configuration'
check "the reason at error level, with file and line" logged a "^<3>whistle\\[[0-9]+\\]: error: $AC:$n_bad: 'peers' is not a key whistle knows"
check "the refusal at warn level" logged a "^<4>whistle\\[[0-9]+\\]: warn: reload: $AC does not parse"
check_alive a

# a good reload adding a peer and turning on debug
cp "$E/a.good" "$AC"
echo "peer = district" >>"$AC"
echo "log_level = debug" >>"$AC"
kill -HUP "${AGENT_PID[a]}"
wait_until 10 "good reload" logged a 'info: configuration reloaded: .*dialing hub@.* district@'
wait_until 10 "a connects to the new peer" logged a 'connected to district at'
wait_until 10 "log_level debug at once" logged a '^<7>whistle\[[0-9]+\]: debug: '
wait_until 10 "district holds a's cases" same_a "${HOMEOF[district]}"
eq "a never left hub" "$(nlogged a 'disconnected from hub')" 0
eq "hub never saw a leave" "$(nlogged hub 'disconnected from zdy')" 0
eq "a's link to hub: same since" "$(peer_of since hub --config "$AC")" "$since_a"
eq "hub's link to a: same since" "$(peer_of since zdy --home "${HOMEOF[hub]}")" "$since_h"
check "a's link to hub: still connected" [ "$(peer_of connected hub --config "$AC")" = true ]
run 0 "a case after the reload" --config "$AC" case new --title "占道经营" --category 占道经营
wait_until 10 "hub gets it over the old link" same_a "${HOMEOF[hub]}"
wait_until 10 "district gets it over the new link" same_a "${HOMEOF[district]}"
# The peer record is written at most once a second: wait for it.
sent_grew() { [ "$(peer_of ops_sent hub --config "$AC")" -gt "${sent0:-0}" ] 2>/dev/null; }
wait_until 10 "counters kept and grew (from $sent0)" sent_grew

# sync_interval applies at once, to the links already up
sed 's/^sync_interval = 2$/sync_interval = 7/' "$E/a.good" >"$AC"
echo "peer = district" >>"$AC"
echo "log_level = debug" >>"$AC"
kill -HUP "${AGENT_PID[a]}"
wait_until 10 "a reloaded sync_interval applies at once" logged a 'info: reload: sync_interval now 7 s \(was 2 s\)'
status_every() { wh --config "$AC" status 2>/dev/null | grep -q "sync every $1 s"; }
wait_until 10 "status says the new interval" status_every 7
check "the links stayed up" [ "$(nlogged a 'disconnected from hub')" = 0 ]

# dropping the new peer closes that link only
cp "$E/a.good" "$AC"
n=$(nlogged a 'configuration reloaded')
kill -HUP "${AGENT_PID[a]}"
reloads_past() { [ "$(nlogged a 'configuration reloaded')" -gt "$1" ]; }
wait_until 10 "reload dropping district" reloads_past "$n"
wait_until 10 "district link closed" logged district 'disconnected from zdy'
eq "hub link still not dropped" "$(nlogged a 'disconnected from hub')" 0
agent_stop a

# ---- log forms ----------------------------------------------------------------------
# stderr is the journal's stream: JOURNAL_STREAM names its dev:inode
: >"$T/log/aj.log"
JS=$(stat -c '%d:%i' "$T/log/aj.log")
a_start "$T/log/aj.log" JOURNAL_STREAM="$JS"
wait_until 10 "journal: started" grep -q 'agent started' "$T/log/aj.log"
check "journal form: <6>message" grep -Eq '^<6>agent started: zhaodengyu' "$T/log/aj.log"
check "journal form: no name or pid" sh -c "! grep -q 'whistle\\[' '$T/log/aj.log'"
agent_stop a
# JOURNAL_STREAM inherited but stderr elsewhere: the file form
: >"$T/log/ax.log"
a_start "$T/log/ax.log" JOURNAL_STREAM="$JS"
wait_until 10 "other stream: started" grep -q 'agent started' "$T/log/ax.log"
check "JOURNAL_STREAM of another file: prefixed form" grep -Eq '^<6>whistle\[[0-9]+\]: info: agent started' "$T/log/ax.log"
agent_stop a
# --log-level warn: no info line at all
: >"$T/log/aw.log"
"$W" --config "$AC" agent --log-level warn </dev/null >"$T/log/aw.log" 2>&1 &
AGENT_PID[a]=$!
save_pids
sleep 1.5
check_alive a
agent_stop a
check "--log-level warn: no info lines" sh -c "! grep -q '<6>' '$T/log/aw.log'"
# a terminal: plain lines
if command -v script >/dev/null; then
	printf -v cmd '%q ' timeout -s INT 3 "$W" --config "$AC" agent
	script -qec "$cmd" /dev/null </dev/null >"$T/tty.out" 2>&1
	check "terminal form: plain line" grep -Eq '^whistle\[[0-9]+\]: info: agent started' "$T/tty.out"
	check "terminal form: no level prefix" sh -c "! grep -q '^<' '$T/tty.out'"
	check "terminal: SIGINT stops it cleanly" grep -q 'info: agent stopped' "$T/tty.out"
else
	skip "util-linux 'script' not found: terminal form not checked"
fi

check_logs
lib_end
