#!/usr/bin/env bash
#
# test_web.sh: the web console's HTTP side with curl, no browser: the
# `whistle user` commands and HOME/users; nothing of the API without a
# session (401, for routes that exist and that do not); Host checked;
# login refused with a wrong password, then a session cookie with its
# flags; CSRF on every POST (none, wrong, right), Origin and content
# type; bodies that are not JSON, not an object, with unknown or
# duplicate keys, too long a value, over the size limit (413, and a
# chunked one cut off); values refused by the CLI's own checks; the
# loop's steps and their refusals (role, fold), 404 for no such case;
# account roles (viewer, clerk, staff); an account removed ends its
# sessions; the list ordered overdue first; sync now; logout; failed
# logins limited per name and per address (429, Retry-After); the
# console off with web_port = 0 and the agent running on when its port
# is taken.
#
# usage: bash test_web.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_web "$@"
command -v curl >/dev/null || die "curl is required (scripts/deps.sh)"

mkhome zdy xicheng/xinjiekou/zhaodengyu station ZDY
Z=${HOMEOF[zdy]}
free_port WP
echo "web_port = $WP" >>"$Z/whistle.conf"
B=http://127.0.0.1:$WP

# ---- accounts ----------------------------------------------------------
adduser() { printf '%s\n' "$3" | wh --home "$Z" user add "$1" --role "$2" --password-stdin; }
check "add a staff account" adduser 王芳 staff 'wangfang-pass-1'
check "add a clerk account" adduser zhou clerk 'zhou-pass-22'
check "add a viewer account" adduser liu viewer 'liu-pass-333'
check "users file is 0600" test "$(stat -c %a "$Z/users")" = 600
check "users file holds Argon2id hashes" grep -q '^王芳 staff \$argon2id\$' "$Z/users"
check "no password in clear" bash -c "! grep -q wangfang-pass-1 '$Z/users'"
check "user list --json" bash -c "'$W' --home '$Z' --json user list | jq -e 'length == 3 and (map(.name) | index(\"zhou\"))'"
want_exit() { local want=$1; shift; "$@" >/dev/null 2>&1; [ $? = "$want" ]; }
check "a second add of a name: exit 1" want_exit 1 adduser zhou staff 'another-pass'
check "an unknown role: exit 2" want_exit 2 adduser bob boss 'bob-pass-1234'
check "a bad name: exit 2" want_exit 2 adduser 'a b' staff 'bob-pass-1234'
check "a short password: exit 2" want_exit 2 adduser bob staff 'short'
check "no tty and no --password-stdin: exit 2" want_exit 2 \
	bash -c "'$W' --home '$Z' user add bob --role staff </dev/null"
check "remove an unknown account: exit 1" want_exit 1 wh --home "$Z" user remove nobody
check "passwd" bash -c "printf 'zhou-pass-new\n' | '$W' --home '$Z' user passwd zhou --password-stdin"

agent_start zdy --interval 30
wait_until 20 "console answers" curl -s -o /dev/null "$B/"

# req METHOD PATH [BODY] [curl args...]: the status code; the body in
# $T/body, the headers in $T/headers. Uses the cookie jar $JAR.
JAR=$T/jar
req() {
	local m=$1 p=$2 d=${3-}
	shift 3 2>/dev/null || shift $#
	local -a a=(-s -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$m" -b "$JAR" -c "$JAR")
	[ -n "$d" ] && a+=(-H 'Content-Type: application/json' --data-binary "$d")
	curl "${a[@]}" "$@" "$B$p"
}
is() { # is DESC WANT GOT
	if [ "$2" = "$3" ]; then ok; else bad "$1: want $2, got $3 ($(head -c 200 "$T/body"))"; fi
}
: >"$JAR"

# ---- without a session -----------------------------------------------------
for p in /api/cases /api/me /api/status /api/sync /api/options /api/cases/ZDY-000001 /api/nothing; do
	is "GET $p without a session" 401 "$(req GET "$p")"
done
is "POST /api/cases without a session" 401 "$(req POST /api/cases '{"title":"x"}')"
is "POST /api/sync without a session" 401 "$(req POST /api/sync '{}')"
is "the page itself is public" 200 "$(req GET /)"
check "pages carry a strict CSP" grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'" "$T/headers"
check "and nosniff" grep -qi '^X-Content-Type-Options: nosniff' "$T/headers"
is "app.js is served" 200 "$(req GET /app.js)"
check "as JavaScript" grep -qi '^Content-Type: text/javascript' "$T/headers"
is "no such page" 404 "$(req GET /etc/passwd)"
is "another Host is refused" 400 "$(req GET / '' -H 'Host: evil.example')"
is "the right port only" 400 "$(req GET / '' -H 'Host: 127.0.0.1:1')"
is "localhost is fine" 200 "$(req GET / '' -H "Host: localhost:$WP")"
is "PUT is not taken" 405 "$(req PUT /api/cases)"

# ---- login --------------------------------------------------------------------
is "a wrong password" 401 "$(req POST /api/login '{"user":"王芳","password":"nope-nope-nope"}')"
check "no cookie for it" bash -c "! grep -qi '^Set-Cookie' '$T/headers'"
is "an unknown name" 401 "$(req POST /api/login '{"user":"nobody","password":"nope-nope-nope"}')"
is "login" 200 "$(req POST /api/login '{"user":"王芳","password":"wangfang-pass-1"}')"
check "cookie HttpOnly, SameSite=Strict, Path=/, Max-Age" \
	grep -Eqi '^Set-Cookie: wh_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict; Max-Age=[0-9]+' "$T/headers"
CSRF=$(jq -r .csrf "$T/body")
check "login answers a CSRF token" grep -Eqx '[0-9a-f]{64}' <<<"$CSRF"
is "me" 200 "$(req GET /api/me)"
check "me: the staff may take steps" jq -e '.user == "王芳" and .may.steps and .csrf == "'"$CSRF"'"' "$T/body"
is "status" 200 "$(req GET /api/status)"
check "status: station, scope and emergencies" jq -e '.code == "ZDY" and .scope == "xicheng/xinjiekou/zhaodengyu" and .emergencies == []' "$T/body"
check "API answers are not cached" grep -qi '^Cache-Control: no-store' "$T/headers"
# The banner's data: an emergency a street declared, carried on a file.
mkhome hubw xicheng/xinjiekou street XJK
trust zdy hubw
wh --home "${HOMEOF[hubw]}" emergency declare --path xicheng/xinjiekou --title "7·31 暴雨" \
	>"$T/em.out" 2>&1 || die "emergency declare: $(head -c 300 "$T/em.out")"
wh --home "${HOMEOF[hubw]}" export -o "$T/em.ops" >"$T/em.out" 2>&1 ||
	die "export: $(head -c 300 "$T/em.out")"
wh --home "${HOMEOF[zdy]}" import "$T/em.ops" >"$T/em.out" 2>&1 ||
	die "import: $(head -c 300 "$T/em.out")"
is "status under an emergency" 200 "$(req GET /api/status)"
check "status: the emergency the banner shows" jq -e '(.emergencies | length) == 1 and .emergencies[0].area == "xicheng/xinjiekou" and .emergencies[0].title == "7·31 暴雨"' "$T/body"
is "the list before any case" 200 "$(req GET /api/cases)"
check "is empty" jq -e '.total == 0 and .cases == [] and .overdue == 0' "$T/body"
is "GET of an unknown endpoint with a session" 404 "$(req GET /api/nothing)"

# ---- CSRF, Origin, content type -------------------------------------------------
NEW='{"title":"楼道堆物堵塞消防通道","grid":"g07","source":"patrol","priority":"urgent","reporter":"王女士","contact":"138"}'
is "POST without the CSRF token" 403 "$(req POST /api/cases "$NEW")"
check "says csrf" jq -e '.error == "csrf"' "$T/body"
is "POST with a wrong token" 403 "$(req POST /api/cases "$NEW" -H "X-CSRF-Token: ${CSRF//[0-9]/a}")"
is "POST from another Origin" 403 "$(req POST /api/cases "$NEW" -H "X-CSRF-Token: $CSRF" -H 'Origin: http://evil.example')"
is "POST as a form" 415 "$(curl -s -o "$T/body" -w '%{http_code}' -b "$JAR" -H "X-CSRF-Token: $CSRF" -d 'title=x' "$B/api/cases")"
ids_before=$(ids_of "$Z" | wc -l)
check "none of that wrote anything" test "$ids_before" = 0
H=(-H "X-CSRF-Token: $CSRF" -H "Origin: $B")
is "POST with token and Origin" 201 "$(req POST /api/cases "$NEW" "${H[@]}")"
ID=$(jq -r .id "$T/body")
check "the new case's id" grep -Eqx 'ZDY-[0-9]{6}' <<<"$ID"
check "the CLI sees it, reporter sealed like the CLI does" \
	bash -c "'$W' --home '$Z' --json case show '$ID' | jq -e '.personal.state == \"open\" and .reporter == \"王女士\" and .priority == \"urgent\"'"
check "the op carries the reporter sealed" \
	bash -c "'$W' --home '$Z' --json case show '$ID' --history | jq -e '.history[0].fields | has(\"sealed\") and (has(\"reporter\") | not)'"

# ---- bodies ---------------------------------------------------------------------------
is "not JSON" 400 "$(req POST /api/cases '{"title":' "${H[@]}")"
check "says invalid" jq -e '.error == "invalid" and (.message | test("not JSON"))' "$T/body"
is "not an object" 400 "$(req POST /api/cases '["x"]' "${H[@]}")"
is "an unknown field" 400 "$(req POST /api/cases '{"title":"x","admin":1}' "${H[@]}")"
check "names it" jq -e '.message | test("admin")' "$T/body"
is "a duplicate key" 400 "$(req POST /api/cases '{"title":"x","title":"y"}' "${H[@]}")"
is "a number where text goes" 400 "$(req POST /api/cases '{"title":5}' "${H[@]}")"
is "no title" 400 "$(req POST /api/cases '{"grid":"g01"}' "${H[@]}")"
LONG=$(head -c 700 /dev/zero | tr '\0' x)
is "a title too long" 400 "$(req POST /api/cases "{\"title\":\"$LONG\"}" "${H[@]}")"
is "a bad grid (the CLI's check)" 400 "$(req POST /api/cases '{"title":"x","grid":"G/7"}' "${H[@]}")"
check "in the CLI's words" jq -e '.message | test("grid")' "$T/body"
is "a bad priority" 400 "$(req POST /api/cases '{"title":"x","priority":"asap"}' "${H[@]}")"
head -c 70000 /dev/zero | tr '\0' a >"$T/big"
is "a body over 64 KiB" 413 "$(curl -s -o "$T/body" -w '%{http_code}' -b "$JAR" -H 'Content-Type: application/json' "${H[@]}" --data-binary @"$T/big" "$B/api/cases")"
curl -s -o /dev/null -b "$JAR" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
	"${H[@]}" --data-binary @"$T/big" "$B/api/cases" 2>/dev/null
check_alive zdy
check "nothing written by the bad bodies" test "$(ids_of "$Z" | wc -l)" = 1

# ---- steps ---------------------------------------------------------------------------------
step() { req POST "/api/cases/$1/steps" "$2" "${H[@]}"; }
is "no such case" 404 "$(step ZDY-000999 '{"step":"note","text":"x"}')"
is "not a case id" 404 "$(req GET /api/cases/nonsense)"
is "an unknown step" 400 "$(step "$ID" '{"step":"explode"}')"
is "a field of another step" 400 "$(step "$ID" '{"step":"triage","level":"small","score":5}')"
is "a note" 200 "$(step "$ID" '{"step":"note","text":"已联系物业"}')"
is "a triage missing its level" 400 "$(step "$ID" '{"step":"triage"}')"
is "a bad level" 400 "$(step "$ID" '{"step":"triage","level":"huge"}')"
is "triage: big" 200 "$(step "$ID" '{"step":"triage","level":"big","reason":"涉及城管"}')"
is "a station may not whistle a big matter (the fold's rule)" 409 "$(step "$ID" '{"step":"whistle","dept":"城管"}')"
check "with the fold's reason" jq -e '.error == "refused" and (.message | test("街道"))' "$T/body"
is "triage: small" 200 "$(step "$ID" '{"step":"triage","level":"small"}')"
is "a bad duration" 400 "$(step "$ID" '{"step":"whistle","dept":"城管","report_within":"2H"}')"
is "whistle 城管 with a one-minute limit" 200 "$(step "$ID" '{"step":"whistle","dept":["城管"],"report_within":"1m","text":"请到场"}')"
check "the CLI sees the summons" bash -c "'$W' --home '$Z' --json case show '$ID' | jq -e '.loop.summons[0].department == \"城管\"'"
is "a report from a station (role table)" 409 "$(step "$ID" '{"step":"report","report_step":"ack"}')"
is "rate before a result (the fold)" 409 "$(step "$ID" '{"step":"rate","score":5}')"
is "an illegal status step" 409 "$(step "$ID" '{"step":"status","status":"new"}')"
is "case detail" 200 "$(req GET "/api/cases/$ID")"
check "detail: history, departments, next steps" jq -e \
	'(.case.history | length) >= 5 and .departments[0].department == "城管" and (.departments[0].reported | not)
	 and (.steps | map(.step) | index("note")) and (.steps | map(.step) | index("supervise"))
	 and (.steps | map(.step) | index("report") | not)' "$T/body"

# ---- roles ------------------------------------------------------------------------------------
login_as() { : >"$JAR"; req POST /api/login "{\"user\":\"$1\",\"password\":\"$2\"}" >/dev/null; jq -r .csrf "$T/body"; }
C2=$(login_as zhou zhou-pass-new)
check "the clerk logs in with the new password" grep -Eqx '[0-9a-f]{64}' <<<"$C2"
H=(-H "X-CSRF-Token: $C2")
is "a clerk adds a note" 200 "$(step "$ID" '{"step":"note","text":"clerk note"}')"
is "a clerk may not triage" 403 "$(step "$ID" '{"step":"triage","level":"small"}')"
is "a clerk takes in a case" 201 "$(req POST /api/cases '{"title":"居住停车纠纷"}' "${H[@]}")"
ID2=$(jq -r .id "$T/body")
is "detail for a clerk" 200 "$(req GET "/api/cases/$ID")"
check "a clerk is offered notes only" jq -e '.steps == [{"step":"note"}]' "$T/body"
C3=$(login_as liu liu-pass-333)
H=(-H "X-CSRF-Token: $C3")
is "a viewer reads" 200 "$(req GET /api/cases)"
is "a viewer may not take in a case" 403 "$(req POST /api/cases '{"title":"x"}' "${H[@]}")"
is "a viewer may not sync" 403 "$(req POST /api/sync '{}' "${H[@]}")"
check "remove the viewer's account" wh --home "$Z" user remove liu
is "its session ends with it" 401 "$(req GET /api/cases)"

# ---- the list, sync, logout ----------------------------------------------------------------------
C1=$(login_as 王芳 wangfang-pass-1)
H=(-H "X-CSRF-Token: $C1")
is "list" 200 "$(req GET /api/cases)"
check "both cases, today" jq -e '.total == 2 and .today == 2' "$T/body"
is "filter by text" 200 "$(req GET '/api/cases?q=%E5%81%9C%E8%BD%A6')"
check "finds the parking case only" jq -e '.total == 1 and .cases[0].id == "'"$ID2"'"' "$T/body"
is "a bad status filter" 400 "$(req GET '/api/cases?status=maybe')"
is "a bad limit" 400 "$(req GET '/api/cases?limit=0')"
is "options" 200 "$(req GET /api/options)"
check "options: sources, priorities, levels" jq -e '(.sources | length) > 5 and (.priorities | length) == 4 and (.levels | length) == 3' "$T/body"
is "sync panel" 200 "$(req GET /api/sync)"
check "sync: no peers here" jq -e '.peers == [] and .links_up == 0' "$T/body"
is "sync now" 202 "$(req POST /api/sync '{}' "${H[@]}")"
is "logout" 200 "$(req POST /api/logout '{}' "${H[@]}")"
check "logout clears the cookie" grep -qi '^Set-Cookie: wh_session=; .*Max-Age=0' "$T/headers"
agent_stop zdy

# ---- overdue first: the agent asked about a later "now" ----------------------------------------------
export WHISTLE_NOW_MS=$(($(now_ms) + 2 * 3600 * 1000))
agent_start zdy --interval 30
unset WHISTLE_NOW_MS
wait_until 20 "console answers again" curl -s -o /dev/null "$B/"
C1=$(login_as 王芳 wangfang-pass-1)
is "list, two hours later" 200 "$(req GET /api/cases)"
check "the overdue case comes first, flagged, though older" \
	jq -e '.overdue == 1 and .cases[0].id == "'"$ID"'" and .cases[0].overdue[0].department == "城管"
	       and .cases[0].overdue[0].what == "report" and (.cases[1].overdue == [])' "$T/body"
is "overdue only" 200 "$(req GET '/api/cases?overdue=1')"
check "one case" jq -e '.total == 1' "$T/body"
is "detail" 200 "$(req GET "/api/cases/$ID")"
check "the department row says it is late" jq -e '.departments[0].overdue == "report" and .departments[0].late_ms > 0' "$T/body"

# ---- failed logins are limited -------------------------------------------------------------------------
agent_stop zdy
agent_start zdy --interval 30
wait_until 20 "console answers again" curl -s -o /dev/null "$B/"
: >"$JAR"
for i in 1 2 3 4 5; do
	is "wrong password $i" 401 "$(req POST /api/login '{"user":"zhou","password":"wrong-wrong"}')"
done
is "the sixth try is refused, right password or not" 429 "$(req POST /api/login '{"user":"zhou","password":"zhou-pass-new"}')"
check "with Retry-After" grep -Eqi '^Retry-After: [0-9]+' "$T/headers"
is "and this address is limited for other names too" 429 "$(req POST /api/login '{"user":"王芳","password":"wangfang-pass-1"}')"
check "the log names the failures" grep -q "failed login for 'zhou' from 127.0.0.1" "$T/log/zdy.log"
agent_stop zdy

# ---- the console off, or its port taken ---------------------------------------------------------------
sed -i "s/^web_port = .*/web_port = 0/" "$Z/whistle.conf"
agent_start zdy --interval 30
wait_until 10 "the log says the console is off" grep -q 'web console off (web_port = 0)' "$T/log/zdy.log"
check "nothing listens" bash -c "! curl -s -o /dev/null '$B/'"
agent_stop zdy
mkhome other xicheng/xinjiekou/xisi station XS
sed -i "s/^web_port = .*/web_port = $WP/" "$Z/whistle.conf"
echo "web_port = $WP" >>"${HOMEOF[other]}/whistle.conf"
agent_start zdy --interval 30
wait_until 20 "console answers" curl -s -o /dev/null "$B/"
agent_start other --interval 30
wait_until 10 "the second agent says its port is taken" grep -q 'web console off: cannot listen' "$T/log/other.log"
check_alive zdy other
agent_stop other
agent_stop zdy
check_logs
lib_end
