#!/usr/bin/env bash
#
# test_loop_sync.sh: the whistle-and-report loop (吹哨报到) across a real
# network of agents on 127.0.0.1: a community station, its street hub,
# the district hub and two departments' agents (城管, 住建), each its own
# process syncing over ZeroMQ. The station takes a case in; the street
# triages and whistles both departments (城管 leads) with a one-minute
# report limit; 住建 reports at once, 城管 only after its limit passed;
# 城管 resolves; a photo taken at the station reaches every replica
# after the case's text; the street feeds back and the resident's rating and the
# street's rating of 城管 are recorded; the resident reopens at the
# station; the street whistles again and 城管 resolves again. After each
# step every replica converges, and at the end all five show the same
# case view, the same overdue list at one chosen "now" and the same
# statistics.
#
# usage: bash test_loop_sync.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_loop_sync "$@"

# A department's home: init by hand (mkhome knows the three roles only).
mkdept() {
	local name=$1 dept=$2 code=$3 h=$T/$1
	wh --home "$h" init --path xicheng --role department --department "$dept" \
		--code "$code" --name "$name" >"$T/init.out" 2>&1 ||
		die "init $name: $(head -c 300 "$T/init.out")"
	HOMEOF[$name]=$h
	PATHOF[$name]=xicheng
	ROLEOF[$name]=other
	KEYOF[$name]=$(wh --home "$h" key show)
}

mkhome zdy xicheng/xinjiekou/zhaodengyu station ZDY
mkhome hub xicheng/xinjiekou street XJK
mkhome dis xicheng district XC
mkdept cg 城管 CG
mkdept zj 住建 ZJ
free_port PHUB
free_port PDIS
trust zdy hub "tcp://127.0.0.1:$PHUB"
trust hub zdy
trust hub dis "tcp://127.0.0.1:$PDIS"
trust dis hub
for d in cg zj; do
	trust "$d" dis "tcp://127.0.0.1:$PDIS"
	trust dis "$d"
done
agent_start dis --listen "tcp://127.0.0.1:$PDIS" --interval 1
agent_start hub --listen "tcp://127.0.0.1:$PHUB" --peer dis --interval 1
agent_start zdy --peer hub --interval 1
agent_start cg --peer dis --interval 1
agent_start zj --peer dis --interval 1
ALL=(zdy hub dis cg zj)
Z=${HOMEOF[zdy]} HB=${HOMEOF[hub]} DS=${HOMEOF[dis]} CG=${HOMEOF[cg]} ZJ=${HOMEOF[zj]}

# same_view: the case is identical (as JSON) on every replica
same_view() {
	local first="" n v
	for n in "${ALL[@]}"; do
		# what depends on the reader's clock is left out
		v=$(show_of "${HOMEOF[$n]}" "$ID" |
			jq -c 'del(.history, .loop.overdue) | del(.loop.summons[]?.report_late)') ||
			return 1
		[ -n "$v" ] && [ "$v" != null ] || return 1
		[ -z "$first" ] && first=$v
		[ "$v" = "$first" ] || return 1
	done
}
# converged DESC: wait until all five hold the same case view
converged() { wait_until 30 "$1" same_view; }
# loop_is FILTER: the case's loop on the hub satisfies a jq filter
loop_is() { show_of "$HB" "$ID" | jq -e "$1" >/dev/null; }
step() {
	local desc=$1
	shift
	if wh "$@" >"$T/step.out" 2>"$T/step.err"; then ok; else
		bad "$desc: exit $?: $(head -c 300 "$T/step.err")"
	fi
}

# ---- in, triage, whistle ------------------------------------------------
ID=$(new_case "$Z" --title "胡同口私搭彩钢房，占用消防通道" --category 违法建设 \
	--grid g03 --source patrol --priority high) || die "no case"
wait_until 30 "the case reached both departments" \
	bash -c "'$W' --home '$CG' case show '$ID' && '$W' --home '$ZJ' case show '$ID'"
step "street triages: big" --home "$HB" case triage "$ID" --level big
converged "triage everywhere"
# A grid worker's photo (拍照上报): its content follows the case's text
# to every replica, the district's and the departments' included.
head -c 600000 /dev/urandom >"$T/photo.jpg"
step "the station attaches a photo" --home "$Z" case attach "$ID" "$T/photo.jpg"
photo_on() { wh --home "$1" case file "$ID" 1 -o "$T/got-$2.jpg" && cmp -s "$T/photo.jpg" "$T/got-$2.jpg"; }
for n in hub dis cg; do
	wait_until 30 "the photo reached $n intact" photo_on "${HOMEOF[$n]}" "$n"
done
T_WHISTLE=$(now_ms)
step "street whistles 城管 (lead) and 住建" --home "$HB" case whistle "$ID" \
	--dept 城管 --dept 住建 --lead 城管 --kind assemble \
	--report-within 1m --resolve-within 7d
converged "whistle everywhere"
check "both summoned, 城管 leads" loop_is \
	'[.loop.summons[] | select(.round == 0)] | length == 2 and (map(select(.lead)) | .[0].department) == "城管"'

# ---- 住建 on time, 城管 late ---------------------------------------------
step "住建 reports at once" --home "$ZJ" case report "$ID" --step ack --text "已收到，今日到场"
converged "住建's report everywhere"
# Overdue half a minute after the limit: 城管 only, the same everywhere.
AT=$((T_WHISTLE + 90000))
overdue_of() { WHISTLE_NOW_MS=$AT wh --home "$1" --json case list --overdue | jq -c '[.[] | {id, department, what}]'; }
o=$(overdue_of "$HB")
check "hub: 城管's report overdue, 住建's not" jq -e --arg id "$ID" \
	'length == 1 and .[0].id == $id and .[0].department == "城管" and .[0].what == "report"' <<<"$o"
for n in zdy dis cg zj; do
	check "overdue list on $n equals the hub's" [ "$(overdue_of "${HOMEOF[$n]}")" = "$o" ]
done
say "waiting out 城管's one-minute report limit"
left=$((T_WHISTLE + 62000 - $(now_ms)))
[ "$left" -gt 0 ] && sleep "$((left / 1000 + 1))"
step "城管 reports late" --home "$CG" case report "$ID" --step ack
step "城管 on site" --home "$CG" case report "$ID" --step onsite --text "执法队员到场"
converged "城管's late report everywhere"
check "城管 reported after its limit, 住建 within it" loop_is \
	'[.loop.summons[] | select(.round == 0)] as $s
	 | ($s | map(select(.department == "城管"))[0].report_late == true)
	 and ($s | map(select(.department == "住建"))[0].report_late == false)'

# ---- resolve, feedback, ratings, reopen, again ----------------------------
step "城管 resolves (lead)" --home "$CG" case report "$ID" --step resolve --text "彩钢房已拆除"
converged "resolution everywhere"
check "the lead's resolve resolved the case" loop_is '.status == "resolved"'
step "street feeds back to the reporter" --home "$HB" case feedback "$ID" --text "已电话告知" --channel phone
step "resident's rating, recorded by the station" --home "$Z" case rate "$ID" --score 2 --comment "拆了又搭"
step "street rates 城管" --home "$HB" case rate "$ID" --dept 城管 --score 4
converged "feedback and ratings everywhere"
step "the resident reopens" --home "$Z" case reopen "$ID" --by resident --reason "又搭起来了"
converged "reopen everywhere"
check "round 1, status reopened" loop_is '.status == "reopened" and .loop.round == 1'
step "street whistles 城管 again" --home "$HB" case whistle "$ID" --dept 城管 --lead 城管 \
	--kind charge --report-within 2h --resolve-within 24h
converged "second whistle everywhere"
step "城管 resolves again" --home "$CG" case report "$ID" --step resolve --text "已拆除并立案处罚"
converged "second resolution everywhere"
check "resolved again, both rounds kept" loop_is \
	'.status == "resolved" and ([.loop.summons[] | select(.department == "城管")] | length == 2)'

# ---- every replica the same ------------------------------------------------
AT=$(($(now_ms) + 3600000))
stats_of() { WHISTLE_NOW_MS=$AT wh --home "$1" --json stats --scope xicheng/xinjiekou --by department | jq -S -c 'del(.now)'; }
s0=$(stats_of "$HB")
check "stats on the hub" test -n "$s0"
for n in "${ALL[@]}"; do
	o=$(WHISTLE_NOW_MS=$AT wh --home "${HOMEOF[$n]}" --json case list --overdue | jq -c .)
	check "nothing overdue on $n" [ "$o" = "[]" ]
	check "same statistics on $n" [ "$(stats_of "${HOMEOF[$n]}")" = "$s0" ]
	check "same digest of the street on $n" \
		[ "$(digest_of "${HOMEOF[$n]}" xicheng/xinjiekou)" = "$(digest_of "$HB" xicheng/xinjiekou)" ]
done
check_logs
lib_end
