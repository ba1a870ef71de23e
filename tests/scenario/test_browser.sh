#!/usr/bin/env bash
#
# test_browser.sh: the web console in a real browser. Two real agents on
# 127.0.0.1, a community station and its street hub, trusted and
# syncing, each with its console on a free port; Debian's headless
# Chromium, driven by playwright-core (tests/browser/console.test.js),
# logs in on the station, takes a case in through the form, sees it
# reach the hub's console, triages and whistles it there with a
# one-minute report limit, and sees it flagged overdue once the minute
# has passed; on the way it checks that a wrong password is refused,
# that the API says 401 without a session and 403 without the CSRF
# token or from another origin, the session cookie's flags, the sync
# panel and "sync now", the language toggle, and that the emergency
# banner shows what /api/status would carry (rendered as text, never
# as HTML). Then, over the API, "sync now" on the station and on the
# hub each make a reconciliation round happen at once (the agents run
# with a 600 s digest interval, and a control shows none starts by
# itself). Screenshots of the five main screens are written to
# BUILD/tests/browser/screenshots/ by every run.
#
# Needs chromium (/usr/bin/chromium), node and npm (scripts/deps.sh).
# npm installs playwright-core from tests/browser/package-lock.json
# into BUILD/tests/browser/ (again only when the lock file changed).
# If any of that is missing or fails, the test FAILS; only outside CI
# and with WH_BROWSER=skip set does it skip instead (exit 77).
#
# usage: bash test_browser.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)

# Before lib_begin, so a skip leaves nothing behind.
if [ "${WH_BROWSER:-}" = skip ] && [ -z "${CI:-}" ]; then
	echo "test_browser: SKIP (WH_BROWSER=skip; never skipped in CI)"
	exit 77
fi
lib_begin test_browser "$@"

# ---- the browser and the driver ----------------------------------------
CHROMIUM=${WH_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || die "no Chromium at $CHROMIUM (scripts/deps.sh installs it)"
command -v node >/dev/null || die "node is missing (scripts/deps.sh installs it)"
command -v npm >/dev/null || die "npm is missing (scripts/deps.sh installs it)"
BDIR=$TB/browser
mkdir -p "$BDIR/screenshots"
if ! cmp -s "$SRC/tests/browser/package-lock.json" "$BDIR/package-lock.json" ||
	[ ! -f "$BDIR/node_modules/playwright-core/package.json" ]; then
	cp "$SRC/tests/browser/package.json" "$SRC/tests/browser/package-lock.json" "$BDIR/"
	say "npm ci (playwright-core) in $BDIR"
	if ! (cd "$BDIR" && timeout 600 npm ci --no-audit --no-fund >"$T/npm.log" 2>&1); then
		rm -f "$BDIR/package-lock.json" # try again next time
		die "npm ci failed: $(tail -n 5 "$T/npm.log" | tr '\n' ' ')"
	fi
fi
ok

# ---- two agents -----------------------------------------------------------
mkhome zdy xicheng/xinjiekou/zhaodengyu station ZDY
mkhome hub xicheng/xinjiekou street XJK
free_port PHUB
free_port WZDY
free_port WHUB
trust zdy hub "tcp://127.0.0.1:$PHUB"
trust hub zdy
Z=${HOMEOF[zdy]} HB=${HOMEOF[hub]}
echo "web_port = $WZDY" >>"$Z/whistle.conf"
echo "web_port = $WHUB" >>"$HB/whistle.conf"
# The street's problem list gives the whistle form its departments.
check "hub publishes the sample problem list" \
	wh --home "$HB" problems publish "$SRC/share/problems/xicheng-sample.tsv"
PW_ZDY="zhaodengyu-$RANDOM-pass"
PW_HUB="xinjiekou-$RANDOM-pass"
check "station account" bash -c "printf '%s\n' '$PW_ZDY' | '$W' --home '$Z' user add 王芳 --role staff --password-stdin"
check "hub account" bash -c "printf '%s\n' '$PW_HUB' | '$W' --home '$HB' user add li.street --role staff --password-stdin"
# A long digest interval: new ops are pushed at once anyway, and a
# round then only starts when someone asks for one ("sync now" below).
agent_start hub --listen "tcp://127.0.0.1:$PHUB" --interval 600
agent_start zdy --peer hub --interval 600
console_up() { curl -s -o /dev/null "http://127.0.0.1:$1/"; }
wait_until 20 "station console answers" console_up "$WZDY"
wait_until 20 "hub console answers" console_up "$WHUB"
wait_until 30 "the problem list reached the station" \
	bash -c "'$W' --home '$Z' --json problems list | jq -e '.entries | length > 0'"

# ---- the browser ------------------------------------------------------------
say "browser test (headless $("$CHROMIUM" --version 2>/dev/null | head -n1))"
if NODE_PATH="$BDIR/node_modules" WH_CHROMIUM="$CHROMIUM" \
	STATION_URL="http://127.0.0.1:$WZDY" HUB_URL="http://127.0.0.1:$WHUB" \
	STATION_USER=王芳 STATION_PASS="$PW_ZDY" HUB_USER=li.street HUB_PASS="$PW_HUB" \
	SHOTS="$BDIR/screenshots" \
	timeout 600 node "$SRC/tests/browser/console.test.js" >"$T/node.out" 2>&1; then
	ok
else
	bad "browser test failed (exit $?)"
fi
sed 's/^/  /' "$T/node.out"
# Each check the browser made counts here too.
read -r np nf < <(sed -n 's/^console: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$T/node.out" | tail -n1)
[ -n "${np:-}" ] || bad "the browser test printed no summary"
for _ in $(seq "${np:-0}"); do ok; done
while IFS= read -r line; do bad "browser: ${line#FAIL: }"; done < <(grep '^FAIL: ' "$T/node.out")
[ "$(grep -c '^FAIL: ' "$T/node.out")" = "${nf:-0}" ] || bad "browser summary and FAIL lines disagree"
for s in login home new_case case sync; do
	check "screenshot $s.png written" test -s "$BDIR/screenshots/$s.png"
done

# ---- the store agrees with what the browser did -----------------------------
ID=$(sed -n 's/^case id: //p' "$T/node.out" | head -n1)
if [ -n "$ID" ]; then
	check "the case is on the station" wh --home "$Z" case show "$ID"
	check "the hub whistled it (城管 summoned)" \
		bash -c "'$W' --home '$HB' --json case show '$ID' | jq -e '.loop.summons | map(.department) | index(\"城管\")'"
	check "overdue on the hub" \
		bash -c "'$W' --home '$HB' --json case list --overdue | jq -e 'map(.id) | index(\"$ID\")'"
else
	bad "the browser test did not report a case id"
fi
# ---- "sync now" starts a round, on either side of the link -----------------
# rounds_of HOME PEER: reconciliations the agent has recorded with PEER
rounds_of() { wh --home "$1" --json status | jq -r --arg p "$2" '.peers[] | select(.name == $p) | .rounds'; }
sync_now_on() { # HOME PORT USER PASS
	local jar=$T/jar.$2 csrf
	curl -s -c "$jar" -H 'Content-Type: application/json' \
		-d "{\"user\":\"$3\",\"password\":\"$4\"}" "http://127.0.0.1:$2/api/login" >"$T/login.json"
	csrf=$(jq -r .csrf "$T/login.json")
	curl -s -o /dev/null -w '%{http_code}' -b "$jar" -H 'Content-Type: application/json' \
		-H "X-CSRF-Token: $csrf" -d '{}' "http://127.0.0.1:$2/api/sync"
}
more_rounds() { [ "$(rounds_of "$1" "$2")" -gt "$3" ]; }
R0=$(rounds_of "$Z" hub)
sleep 3 # the control: with a 600 s interval, no round starts by itself
check "no round without asking" test "$(rounds_of "$Z" hub)" = "$R0"
check "station: sync now accepted" test "$(sync_now_on "$Z" "$WZDY" 王芳 "$PW_ZDY")" = 202
wait_until 10 "station: sync now ran a round with the hub" more_rounds "$Z" hub "$R0"
R0=$(rounds_of "$HB" zdy)
check "hub: sync now accepted" test "$(sync_now_on "$HB" "$WHUB" li.street "$PW_HUB")" = 202
wait_until 10 "hub: sync now ran a round with the station" more_rounds "$HB" zdy "$R0"
check_alive zdy hub
check_logs
lib_end
