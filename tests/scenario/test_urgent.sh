#!/usr/bin/env bash
#
# test_urgent.sh: urgent first between two real agents on loopback. A
# community station A (赵登禹) holds a backlog of 5,000 normal cases and
# a few urgent ones taken last; the street hub H declares an emergency
# over the street, which A learns from a bundle (no link is up yet).
# Then A's agent dials H: H's arrival log (tests/tools/wh_arrival, the
# store's arrival order) must hold every urgent op of A's before the
# first normal one; the figures are printed. `whistle status` at A says
# "urgent first, interval N s", the agent logs the shortened interval,
# and once the emergency is ended status says nothing of it. A byte
# budget on H's link to A shows in H's status; bad budget lines stop the
# agent with the reason.
#
# usage: bash test_urgent.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_urgent "$@"

[ -x "$TB/wh_arrival" ] || die "$TB/wh_arrival not built"
NBACK=${WH_URGENT_BACKLOG:-5000}
ST=xicheng/xinjiekou
mkhome a $ST/zhaodengyu station ZDY
mkhome h $ST street XJK
free_port PH
trust a h "tcp://127.0.0.1:$PH"
trust h a
A=${HOMEOF[a]} H=${HOMEOF[h]}

# The backlog: one `case import` of a CSV, then the urgent ones.
echo "title,description,category,grid" >"$T/back.csv"
for ((i = 1; i <= NBACK; i++)); do
	echo "积压案件 $i: 楼道堆物,待处理,市政,g$((i % 12 + 1))"
done >>"$T/back.csv"
wh --home "$A" case import --quiet "$T/back.csv" >/dev/null 2>"$T/imp.err" ||
	die "import: $(head -c 300 "$T/imp.err")"
URG=()
for t in 地下室进水 老人被困 电线落地 树木倒伏 道路塌陷; do
	id=$(new_case "$A" --title "$t" --category 市政 --grid g01 --priority urgent) ||
		die "no urgent case"
	URG+=("$id")
done
say "A holds $(ops_of "$A") ops: $NBACK normal cases, ${#URG[@]} urgent ones taken last"

check "status without an emergency says nothing of urgent first" \
	bash -c "! '$W' --home '$A' status | grep -q 'urgent first'"

EM=$(wh --home "$H" emergency declare --path $ST --title "暴雨" 2>"$T/decl.err" | head -n1)
[ -n "$EM" ] || die "declare: $(cat "$T/decl.err")"
wh --home "$H" bundle create --scope $ST -o "$T/em.bundle" >/dev/null 2>"$T/b.err" ||
	die "bundle create: $(cat "$T/b.err")"
wh --home "$A" bundle apply "$T/em.bundle" >/dev/null 2>"$T/b.err" ||
	die "bundle apply: $(cat "$T/b.err")"

check "status at A: urgent first, a quarter of the interval" \
	bash -c "'$W' --home '$A' status | grep -q 'urgent first, interval 7.5 s (30 s otherwise)'"
check "status --json at A: urgent_first, 7500 ms" \
	bash -c "'$W' --home '$A' --json status | jq -e '.agent.urgent_first == true and .agent.sync_interval_ms == 7500'"

# A byte budget on H's link to A (whistle.conf 'budget = NAME SIZE/h'):
# status at H shows it, with use and what is left.
echo "budget = a 1MiB/h" >>"$H/whistle.conf"
# A bad budget line stops the agent with the reason.
mkhome x $ST/xisibei station XSB
trust x h
echo "budget = h lots/h" >>"${HOMEOF[x]}/whistle.conf"
if timeout 20 "$W" --home "${HOMEOF[x]}" agent --discovery off >"$T/x.out" 2>&1; then
	bad "an agent started with 'budget = h lots/h'"
else
	check "the agent names the bad budget line" grep -q "whistle.conf:[0-9]*: 'budget' 'h lots/h': expected a size" "$T/x.out"
fi
echo "budget = nobody 1MiB/h" >"$T/b.line"
sed -i '/^budget/d' "${HOMEOF[x]}/whistle.conf"
cat "$T/b.line" >>"${HOMEOF[x]}/whistle.conf"
if timeout 20 "$W" --home "${HOMEOF[x]}" agent --discovery off >"$T/x.out" 2>&1; then
	bad "an agent started with a budget for an unknown peer"
else
	check "the agent names the unknown peer of a budget" grep -q "no trusted peer named 'nobody'" "$T/x.out"
fi

# --discovery off: this test runs on the host's own network.
agent_start h --listen "tcp://127.0.0.1:$PH" --interval 8 --discovery off
agent_start a --peer h --interval 8 --discovery off
wait_until 30 "A's agent logs urgent first with the shortened interval" \
	grep -q "emergency in force over $ST/zhaodengyu: urgent first, interval 2000 ms" "$T/log/a.log"
wait_until 240 "the whole backlog reaches H" same_digest $ST/zhaodengyu "$A" "$H"
check "status at A (agent running, --interval 8): interval 2 s" \
	bash -c "'$W' --home '$A' status | grep -q 'urgent first, interval 2 s (8 s otherwise)'"

wait_until 30 "status at H shows the budget of its link to A" \
	bash -c "'$W' --home '$H' status | grep -q 'budget 1.0 MiB/h: used .* this hour, .* left'"
check "status --json at H: the budget object" \
	bash -c "'$W' --home '$H' --json status | jq -e '.peers[] | select(.name == \"a\") | .budget.bytes_per_hour == 1048576 and .budget.used > 0 and .budget.left < 1048576'"

# The order at H: A's ops in the order H stored them.
"$TB/wh_arrival" "$H" | grep -v ' ~' >"$T/arrival" || die "wh_arrival failed"
n_all=$(wc -l <"$T/arrival")
n_urg=$(grep -c ' urgent ' "$T/arrival")
last_urg=$(grep -n ' urgent ' "$T/arrival" | tail -n1 | cut -d: -f1)
first_norm=$(grep -n ' normal ' "$T/arrival" | head -n1 | cut -d: -f1)
say "order at H: $n_all ops of A's cases, $n_urg urgent; last urgent arrived #${last_urg:-none}, first normal #${first_norm:-none}"
check "H stored every op of A's cases" test "$n_all" -ge $((NBACK + ${#URG[@]}))
check "all ${#URG[@]} urgent cases' ops reached H" test "$n_urg" -ge "${#URG[@]}"
check "every urgent op reached H before the first normal one" \
	test "${last_urg:-999999}" -lt "${first_norm:-0}"

# The end: status stops saying it.
wh --home "$H" emergency end "$EM" >/dev/null 2>"$T/end.err" || die "end: $(cat "$T/end.err")"
wait_until 60 "the end reaches A" bash -c "! '$W' --home '$A' status | grep -q 'urgent first'"
wait_until 30 "A's agent logs the usual order again" grep -q "emergency over at $ST/zhaodengyu: usual order" "$T/log/a.log"
check_alive a h
for n in a h; do agent_stop "$n"; done
check_logs
lib_end
