# lib.sh: shared helpers for the multi-process sync scenario tests
# (test_sync_street.sh, test_sync_netns.sh). Sourced, never run.
#
#   . "$(dirname "$0")/lib.sh"
#   lib_begin test_name "$@"      # $1 whistle binary, $2 build/tests dir
#   ... mkhome / trust / agent_start / wait_until / check ...
#   lib_end                       # exits; the EXIT trap prints the summary
#
# Invariants:
#   - Every child this library starts (agents, relays) is recorded by pid
#     and killed on exit; every namespace it creates is deleted on exit.
#     A watchdog process does the same if the test itself dies (SIGKILL,
#     CTest timeout) or outlives WH_TEST_LIFE seconds (default 840).
#   - Every wait is bounded in time and count; every whistle command runs
#     under `timeout`.
#   - Scratch lives in $T under WH_TEST_TMP and is removed on exit, unless
#     WH_KEEP=1 (then its path is printed).
#   - The last line printed is "NAME: N passed, M failed".
# Agents log to $T/log/NAME.log (stderr, appended across restarts); on
# failure the tail of every log is printed before the summary.

# ---- start, finish, report ----------------------------------------------

lib_begin() {
	NAME=$1
	shift
	W=${1:-}
	TB=${2:-}
	if [ -z "$W" ]; then
		echo "usage: $NAME.sh /path/to/whistle [/path/to/build/tests]" >&2
		exit 2
	fi
	case $W in /*) ;; *) W=$PWD/$W ;; esac
	[ -n "$TB" ] || TB=$(dirname "$W")/../tests
	case $TB in /*) ;; *) TB=$PWD/$TB ;; esac
	command -v jq >/dev/null || { echo "$NAME: jq is required" >&2; exit 1; }
	ROOT=${WH_TEST_TMP:-${TMPDIR:-/tmp}}
	mkdir -p "$ROOT"
	T=$(mktemp -d "$ROOT/$NAME.XXXXXX") || exit 1
	mkdir -p "$T/log"
	unset WHISTLE_HOME WHISTLE_CONFIG
	export TZ=Asia/Shanghai
	pass=0
	fail=0
	: >"$T/passes"
	: >"$T/fails"
	skipped=""
	declare -gA AGENT_PID=() AGENT_NS=() AGENT_ARGS=()
	declare -gA HOMEOF=() KEYOF=() PATHOF=() ROLEOF=()
	BG_PIDS=""
	NETNS_LIST=""
	USED_PORTS=""
	T_START=$(now_ms)
	trap lib_cleanup EXIT
	trap 'echo "$NAME: interrupted" >&2; exit 130' INT TERM HUP
	lib_watchdog
}

lib_end() {
	count
	[ "$fail" = 0 ] && exit 0
	exit 1
}

# Results go to files, so that ok and bad count inside $(...) too.
ok() { echo >>"$T/passes"; }
bad() {
	echo "$*" >>"$T/fails"
	echo "FAIL: $*" >&2
}
count() {
	pass=$(wc -l <"$T/passes")
	fail=$(wc -l <"$T/fails")
}
say() { echo "$NAME: $*"; }
# skip WHAT: a part that could not run; said loudly, listed in the summary
skip() {
	echo "SKIP: $*" >&2
	skipped="$skipped${skipped:+; }$*"
}
# check DESC COMMAND...: the command must succeed
check() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then ok; else bad "$desc"; fi
}
# die REASON: a failure after which the rest cannot run
die() {
	bad "$*"
	exit 1
}

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}
# secs_since MS: seconds since MS, one decimal
secs_since() {
	local d=$(($(now_ms) - $1))
	printf '%d.%d' $((d / 1000)) $((d % 1000 / 100))
}

# The watchdog outlives a killed test: it polls the test's pid once a
# second (bounded by WH_TEST_LIFE) and then kills what $T/pids lists and
# deletes what $T/netns lists.
lib_watchdog() {
	local life=${WH_TEST_LIFE:-840} me=$$ t=$T
	(
		trap '' INT HUP
		trap 'exit 0' TERM
		i=0
		while [ $i -lt "$life" ] && kill -0 "$me" 2>/dev/null; do
			sleep 1 &
			wait $!
			i=$((i + 1))
		done
		if kill -0 "$me" 2>/dev/null; then
			echo "$NAME: watchdog: test ran past ${life}s, killing it" >&2
			kill -TERM "$me" 2>/dev/null
			sleep 5
		fi
		if [ -f "$t/pids" ]; then
			while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$t/pids"
		fi
		if [ -f "$t/netns" ]; then
			while read -r ns; do ip netns del "$ns" 2>/dev/null; done <"$t/netns"
		fi
		[ -d "$t" ] && [ "${WH_KEEP:-0}" != 1 ] && ! kill -0 "$me" 2>/dev/null &&
			rm -rf "$t"
	) </dev/null >/dev/null 2>&1 &
	WATCHDOG=$!
}

# Rewrite $T/pids from what is alive now (for the watchdog).
save_pids() {
	local n
	{
		for n in "${!AGENT_PID[@]}"; do echo "${AGENT_PID[$n]}"; done
		for n in $BG_PIDS; do echo "$n"; done
	} >"$T/pids.tmp" && mv "$T/pids.tmp" "$T/pids"
}

# bg_register PID: another child to kill at exit (a relay, a bad peer).
bg_register() {
	BG_PIDS="$BG_PIDS $1"
	save_pids
}
bg_kill() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	BG_PIDS=$(echo " $BG_PIDS " | sed "s/ $1 / /")
	save_pids
}

lib_cleanup() {
	local rc=$? n p i
	trap - INT TERM HUP
	count
	if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
		bad "aborted (exit $rc)"
		count
	fi
	if [ "$fail" != 0 ]; then
		for f in "$T"/log/*.log; do
			[ -f "$f" ] || continue
			echo "---- last lines of $(basename "$f")" >&2
			tail -n "${WH_LOG_TAIL:-25}" "$f" | cut -c1-300 >&2
		done
	fi
	for n in "${!AGENT_PID[@]}"; do kill -TERM "${AGENT_PID[$n]}" 2>/dev/null; done
	for p in $BG_PIDS; do kill -TERM "$p" 2>/dev/null; done
	for i in $(seq 50); do
		p=0
		for n in "${!AGENT_PID[@]}" ; do kill -0 "${AGENT_PID[$n]}" 2>/dev/null && p=1; done
		for n in $BG_PIDS; do kill -0 "$n" 2>/dev/null && p=1; done
		[ $p = 0 ] && break
		sleep 0.1
	done
	for n in "${!AGENT_PID[@]}"; do
		kill -KILL "${AGENT_PID[$n]}" 2>/dev/null
		wait "${AGENT_PID[$n]}" 2>/dev/null
	done
	for p in $BG_PIDS; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	lib_cleanup_more 2>/dev/null
	for n in $NETNS_LIST; do ip netns del "$n" 2>/dev/null; done
	[ -n "${WATCHDOG:-}" ] && kill -TERM "$WATCHDOG" 2>/dev/null
	if [ "${WH_KEEP:-0}" = 1 ]; then
		echo "$NAME: scratch kept in $T" >&2
	else
		rm -rf "$T"
	fi
	echo "$NAME: total $(secs_since "$T_START") s${skipped:+ (skipped: $skipped)}"
	echo "$NAME: $pass passed, $fail failed"
}
# A test may define lib_cleanup_more for its own undo steps (run before
# the namespaces go).
lib_cleanup_more() { :; }

# ---- whistle commands ---------------------------------------------------

# wh ARGS...: whistle under a time bound
wh() { timeout "${WH_CMD_TIMEOUT:-60}" "$W" "$@"; }

# free_port VAR: a TCP port nobody on this host uses now, not handed out
# before in this test.
free_port() {
	local i p
	for i in $(seq 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		case " $USED_PORTS " in *" $p "*) continue ;; esac
		if [ -z "$(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null)" ]; then
			USED_PORTS="$USED_PORTS $p"
			printf -v "$1" '%s' "$p"
			return 0
		fi
	done
	die "no free TCP port found"
}

# mkhome NAME PATH ROLE [CODE]: a home $T/NAME with keys; records its
# home, key, path and role under NAME.
mkhome() {
	local name=$1 path=$2 role=$3 code=${4:-} h=$T/$1
	if ! wh --home "$h" init --path "$path" --role "$role" \
		${code:+--code "$code"} --name "$name" >"$T/init.out" 2>&1; then
		die "init $name ($path, $role): $(head -c 300 "$T/init.out")"
	fi
	HOMEOF[$name]=$h
	PATHOF[$name]=$path
	ROLEOF[$name]=$role
	KEYOF[$name]=$(wh --home "$h" key show 2>/dev/null)
	grep -Eqx '[0-9a-f]{64}' <<<"${KEYOF[$name]}" ||
		die "key show $name: '${KEYOF[$name]}'"
}

# trust A B [ENDPOINT]: A trusts B under the name B (ENDPOINT: where A
# dials B).
trust() {
	local a=$1 b=$2 ep=${3:-}
	if ! wh --home "${HOMEOF[$a]}" trust add "${KEYOF[$b]}" --name "$b" \
		--path "${PATHOF[$b]}" --role "${ROLEOF[$b]}" ${ep:+--endpoint "$ep"} \
		>"$T/trust.out" 2>&1; then
		die "trust add $b on $a: $(head -c 300 "$T/trust.out")"
	fi
}

# digest_of HOME [SCOPE]: the 64-hex digest (of SCOPE)
digest_of() { wh --home "$1" digest ${2:+--scope "$2"} 2>/dev/null | head -n1; }
# ops_of HOME [SCOPE]: how many ops (of cases in SCOPE) the home holds
ops_of() { wh --home "$1" --json digest ${2:+--scope "$2"} 2>/dev/null | jq -r '.ops // empty'; }
# ids_of HOME [SCOPE]: the sorted case ids held (in SCOPE)
ids_of() {
	wh --home "$1" --json case list --all ${2:+--scope "$2"} 2>/dev/null |
		jq -r '.[].id' | LC_ALL=C sort
}
# show_of HOME ID: the case as canonical JSON
show_of() { wh --home "$1" --json case show "$2" 2>/dev/null | jq -S .; }
# view_of HOME ID: the same without what depends on who reads it: sealed
# personal data opens only for its readers (docs/sealing.md), and a
# neighbour's case is "carried" at a station that relayed it
view_of() { show_of "$1" "$2" | jq -S 'del(.personal, .reporter, .contact, .carried)'; }
# authority_init: the district authority (xicheng) in $T/authority; sets
# AUTH (its folder) and AKEY (its public key)
authority_init() {
	AUTH=$T/authority
	wh authority init --dir "$AUTH" --path xicheng >"$T/auth.out" 2>&1 ||
		die "authority init: $(head -c 300 "$T/auth.out")"
	AKEY=$(grep -Eo '[0-9a-f]{64}' "$T/auth.out" | head -n1)
	[ -n "$AKEY" ] || die "authority init printed no key"
}
# grant NAME ROLE PATH CODE: the authority grants NAME's key
grant() {
	wh authority add --dir "$AUTH" --key "${KEYOF[$1]}" --name "$1" \
		--role "$2" --path "$3" --code "$4" >"$T/grant.out" 2>&1 ||
		die "authority add $1: $(head -c 300 "$T/grant.out")"
}
# roster_join NAME...: bind each home to the authority and install the
# current roster there
roster_join() {
	local n
	for n in "$@"; do
		wh --home "${HOMEOF[$n]}" roster bind "$AKEY" >"$T/bind.out" 2>&1 ||
			die "roster bind $n: $(head -c 300 "$T/bind.out")"
		wh --home "${HOMEOF[$n]}" roster apply "$AUTH/roster.wr" >"$T/apply.out" 2>&1 ||
			die "roster apply $n: $(head -c 300 "$T/apply.out")"
	done
}
# new_case HOME ARGS...: take in a case, print its id
new_case() {
	local id
	id=$(wh --home "$1" case new "${@:2}" 2>>"$T/case.err" | head -n1)
	grep -Eq '^[A-Z0-9-]+-[0-9]+$' <<<"$id" || {
		bad "case new on $1 printed '$id': $(tail -n2 "$T/case.err")"
		return 1
	}
	echo "$id"
}

# same_digest SCOPE HOME...: all homes hold the same ops in SCOPE
same_digest() {
	local scope=$1 h d first=""
	shift
	for h in "$@"; do
		d=$(digest_of "$h" "$scope")
		[ -n "$d" ] || return 1
		[ -z "$first" ] && first=$d
		[ "$d" = "$first" ] || return 1
	done
	return 0
}

# wait_until SECS DESC COMMAND...: poll every ~0.25 s until the command
# succeeds (prints how long it took) or SECS pass (bad, returns 1).
wait_until() {
	local secs=$1 desc=$2 t0 i n
	shift 2
	t0=$(now_ms)
	n=$((secs * 4 + 1))
	for ((i = 0; i < n; i++)); do
		agents_up
		if "$@" >/dev/null 2>&1; then
			say "$desc: after $(secs_since "$t0") s"
			return 0
		fi
		[ $(($(now_ms) - t0)) -ge $((secs * 1000)) ] && break
		sleep 0.25
	done
	bad "$desc: not within ${secs}s"
	return 1
}

# ---- agents -------------------------------------------------------------

# agent_netns NAME NS: run NAME's agent inside namespace NS
agent_netns() { AGENT_NS[$1]=$2; }

# agent_start NAME [AGENT ARGS...]: start the agent of home NAME in the
# background; the args are remembered for agent_restart. Fails (bad) if
# it is gone 0.3 s later.
agent_start() {
	local name=$1 pid log=$T/log/$1.log
	shift
	AGENT_ARGS[$name]=$(printf '%q ' "$@")
	agent_run "$name"
}
agent_restart() { agent_run "$1"; }
agent_run() {
	local name=$1 pid log=$T/log/$1.log ns=${AGENT_NS[$1]:-}
	local -a args
	eval "args=(${AGENT_ARGS[$name]})"
	[ -z "${AGENT_PID[$name]:-}" ] || die "agent $name already running"
	echo "==== $(date +%T.%N | cut -c1-12) start: agent ${args[*]}" >>"$log"
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$W" --home "${HOMEOF[$name]}" agent "${args[@]}" \
			--log-level "${WH_LOG_LEVEL:-info}" </dev/null >>"$log" 2>&1 &
	else
		"$W" --home "${HOMEOF[$name]}" agent "${args[@]}" \
			--log-level "${WH_LOG_LEVEL:-info}" </dev/null >>"$log" 2>&1 &
	fi
	pid=$!
	AGENT_PID[$name]=$pid
	save_pids
	sleep 0.3
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		local rc=$?
		unset "AGENT_PID[$name]"
		save_pids
		bad "agent $name exited at once (exit $rc): $(tail -n3 "$log")"
		return 1
	fi
	return 0
}

# agent_stop NAME: SIGTERM, wait (up to 20 s) for exit 0.
agent_stop() {
	local name=$1 pid=${AGENT_PID[$1]:-} i rc
	[ -n "$pid" ] || { bad "agent $name is not running"; return 1; }
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		bad "agent $name still running 20 s after SIGTERM"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid"
	rc=$?
	unset "AGENT_PID[$name]"
	save_pids
	echo "==== $(date +%T.%N | cut -c1-12) stopped (exit $rc)" >>"$T/log/$name.log"
	if [ "$rc" = 0 ]; then ok; else bad "agent $name exit $rc on SIGTERM (want 0)"; fi
	return 0
}

# agent_kill9 NAME: SIGKILL, reaped.
agent_kill9() {
	local name=$1 pid=${AGENT_PID[$1]:-}
	[ -n "$pid" ] || { bad "agent $name is not running"; return 1; }
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "AGENT_PID[$name]"
	save_pids
	echo "==== $(date +%T.%N | cut -c1-12) killed -9" >>"$T/log/$name.log"
}

# agents_up: every agent that should run does; one that died (a crash,
# a sanitizer abort) ends the test at once, as every wait after it would
# only time out.
agents_up() {
	local n rc
	for n in "${!AGENT_PID[@]}"; do
		kill -0 "${AGENT_PID[$n]}" 2>/dev/null && continue
		wait "${AGENT_PID[$n]}"
		rc=$?
		unset "AGENT_PID[$n]"
		save_pids
		die "agent $n died (exit $rc): $(grep -v '^====' "$T/log/$n.log" | tail -n2 | cut -c1-200 | tr '\n' ' ')"
	done
}

# agent_alive NAME: it is still running (not crashed)
agent_alive() { [ -n "${AGENT_PID[$1]:-}" ] && kill -0 "${AGENT_PID[$1]}" 2>/dev/null; }

# check_alive NAME...: each agent still runs; a dead one is reported with
# its exit status and log tail.
check_alive() {
	local n rc
	for n in "$@"; do
		if agent_alive "$n"; then
			ok
		else
			if [ -z "${AGENT_PID[$n]:-}" ]; then
				bad "agent $n is not running"
				continue
			fi
			wait "${AGENT_PID[$n]}"
			rc=$?
			unset "AGENT_PID[$n]"
			bad "agent $n died (exit $rc): $(tail -n3 "$T/log/$n.log" | cut -c1-200)"
		fi
	done
	save_pids
}

# check_logs: no sanitizer report or failed assert in any agent log
check_logs() {
	local f
	for f in "$T"/log/*.log; do
		[ -f "$f" ] || continue
		if grep -Eq 'AddressSanitizer|runtime error:|Assertion .* failed|LeakSanitizer' "$f"; then
			bad "$(basename "$f"): $(grep -Em1 'AddressSanitizer|runtime error:|Assertion|LeakSanitizer' "$f")"
		else
			ok
		fi
	done
}

# ---- network namespaces -------------------------------------------------

# netns_add NS: create NS (deleted on exit) with its loopback up
netns_add() {
	ip netns add "$1" || die "ip netns add $1"
	NETNS_LIST="$NETNS_LIST $1"
	echo "$1" >>"$T/netns"
	ip -n "$1" link set lo up || die "lo up in $1"
}

# veth_link NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth pair between two of our
# namespaces, addresses as a.b.c.d/nn; it goes away with the namespaces.
veth_link() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" ||
		die "veth $2-$5"
	ip -n "$1" addr add "$3" dev "$2" && ip -n "$1" link set "$2" up &&
		ip -n "$4" addr add "$6" dev "$5" && ip -n "$4" link set "$5" up ||
		die "veth $2-$5 addresses"
}

# tx_bytes NS IF: bytes sent so far on IF inside NS
tx_bytes() { ip -n "$1" -s -j link show dev "$2" | jq -r '.[0].stats64.tx.bytes'; }
rx_bytes() { ip -n "$1" -s -j link show dev "$2" | jq -r '.[0].stats64.rx.bytes'; }

# ---- keys in logs -------------------------------------------------------

# key_forms KEYHEX: the spellings under which a log may name a peer's key,
# one a line: the Ed25519 key in hex (whole and its first 8 digits, as
# `case show` abbreviates), and, with python3, the CURVE key derived from
# it (crypto_sign_ed25519_pk_to_curve25519, what the ZAP handler sees) in
# hex and Z85.
key_forms() {
	echo "$1"
	echo "${1:0:8}"
	command -v python3 >/dev/null || return 0
	python3 - "$1" <<'PY'
import sys
p = 2**255 - 19
y = int.from_bytes(bytes.fromhex(sys.argv[1]), 'little') & ((1 << 255) - 1)
u = (1 + y) * pow(1 - y, p - 2, p) % p
cu = u.to_bytes(32, 'little')
print(cu.hex())
print(cu.hex()[:16])
alpha = ("0123456789abcdefghijklmnopqrstuvwxyz"
         "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")
z = ''
for i in range(0, 32, 4):
    v = int.from_bytes(cu[i:i + 4], 'big')
    s = ''
    for _ in range(5):
        s = alpha[v % 85] + s
        v //= 85
    z += s
print(z)
PY
}

# log_names_key LOGFILE KEYHEX: the log names the key in one of its forms
log_names_key() {
	local f
	while read -r f; do
		[ -n "$f" ] && grep -qiF -- "$f" "$1" && return 0
	done < <(key_forms "$2")
	return 1
}

# ---- bulk data ----------------------------------------------------------

# gen_bulk OUT AS CODE NCASES NTAGS: write the op file OUT holding NCASES
# cases (each a create plus NTAGS tag ops) inside the path of home AS,
# signed with AS's own key, with case ids under CODE (so they cannot clash
# with the ids AS issues itself). A scratch home does the writing, which
# takes a while, so run this in the background early (bg_register its
# pid) and wait for OUT with bulk_wait.
gen_bulk() {
	local out=$1 as=$2 code=$3 n=$4 tags=$5 g=$T/gen-$3 i j
	local tl=""
	for ((j = 1; j <= tags; j++)); do tl="$tl${tl:+,}批量$j"; done
	wh --home "$g" init --path "${PATHOF[$as]}" --role station --code "$code" \
		--name gen >"$g.err" 2>&1 || return 1
	cp "${HOMEOF[$as]}/key.secret" "$g/key.secret" &&
		cp "${HOMEOF[$as]}/key.public" "$g/key.public" || return 1
	# 600 characters of noise per case, so that compressed OPS batches
	# still take a while on a slow link (a partition must land in the
	# middle of the transfer, not after it). One `case import` of a CSV
	# writes them: a process per case took minutes on a loaded machine.
	echo "title,description,category,grid,tags" >"$g.csv"
	head -c $((n * 450)) /dev/urandom | base64 -w600 |
		awk -v tl="$tl" '{ printf "批量案件 %d: 楼道堆物堵塞消防通道,%s,消防隐患,g%d,\"%s\"\n", NR, $0, NR % 12 + 1, tl }' \
			>>"$g.csv"
	wh --home "$g" case import --quiet "$g.csv" >/dev/null 2>>"$g.err" || return 1
	wh --home "$g" export -o "$out.tmp" 2>>"$g.err" && mv "$out.tmp" "$out"
}

# bulk_wait OUT PID SECS: wait for gen_bulk (pid PID) to write OUT
bulk_wait() {
	local out=$1 pid=$2 secs=$3 t0 
	t0=$(now_ms)
	while [ ! -s "$out" ] && kill -0 "$pid" 2>/dev/null &&
		[ $(($(now_ms) - t0)) -lt $((secs * 1000)) ]; do
		sleep 0.5
	done
	if [ -s "$out" ]; then
		wait "$pid" 2>/dev/null
		BG_PIDS=$(echo " $BG_PIDS " | sed "s/ $pid / /")
		save_pids
		return 0
	fi
	die "bulk op file $out not made within ${secs}s: $(tail -n2 "$T/gen-"*.err 2>/dev/null)"
}
