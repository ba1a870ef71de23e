#!/usr/bin/env bash
#
# demo.sh: the main job. Two community stations in Xinjiekou street take
# in and work cases with no network, then the street hub and the district
# hub come up and everything syncs over ZeroMQ (CURVE, loopback): each
# station dials its street hub (it needs no inbound port), the hub dials
# the district. Digests per scope show that every holder has exactly the
# same ops; a new case then reaches the district by live push. Then a
# storm: the district publishes its flood plan and declares an
# emergency; the street hub is down, and one station's case reaches the
# district through its neighbour's uplink (neighbour relay), urgent
# first; after the end the neighbour prunes what it carried.
#
# usage: scripts/demo.sh [path/to/whistle]   (default: build/agent/whistle)
# Builds nothing; leaves its homes in a temp dir it prints (KEEP=1 keeps
# them, otherwise they are removed at the end).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
W=${1:-$here/build/agent/whistle}
[ -x "$W" ] || { echo "demo: no whistle binary at $W (build first)" >&2; exit 1; }
D=$(mktemp -d "${TMPDIR:-/tmp}/whistle-demo.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && { kill "$p" 2>/dev/null || true; }; done
	wait 2>/dev/null
	[ "${KEEP:-0}" = 1 ] || rm -rf "$D"
}
trap cleanup EXIT

ZDY=$D/zhaodengyu   # 赵登禹社区
XSB=$D/xisibei      # 西四北社区
HUB=$D/xinjiekou    # 新街口街道 (the street office)
DIS=$D/xicheng      # 西城区 (the district platform)
zdy() { "$W" --home "$ZDY" "$@"; }
xsb() { "$W" --home "$XSB" "$@"; }
hub() { "$W" --home "$HUB" "$@"; }
dis() { "$W" --home "$DIS" "$@"; }
# A free TCP port on 127.0.0.1 (bounded tries).
free_port() {
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		ss -ltn 2>/dev/null | grep -q ":$p " || { echo "$p"; return; }
	done
	echo "demo: no free port" >&2
	exit 1
}
# Wait (at most $3 seconds) until two homes print the same digest of $1.
wait_same() {
	local scope=$1 a=$2 b=$3 t=$4 i
	for i in $(seq 1 $((t * 10))); do
		x=$("$W" --home "$a" digest --scope "$scope" | head -n1)
		y=$("$W" --home "$b" digest --scope "$scope" | head -n1)
		[ "$x" = "$y" ] && return 0
		sleep 0.1
	done
	echo "demo: $a and $b did not agree on $scope within ${t}s" >&2
	exit 1
}
section() { printf '\n==== %s ====\n' "$*"; }

section "1. Four homes: two community stations, the street hub, the district"
zdy init --path xicheng/xinjiekou/zhaodengyu --name 赵登禹社区
xsb init --path xicheng/xinjiekou/xisibei --name 西四北社区
hub init --path xicheng/xinjiekou --role street --code XJK --name 新街口街道
dis init --path xicheng --role district --code XC --name 西城区

section "2. 赵登禹社区 takes in cases (no network needed)"
c1=$(zdy case new --title "三号楼二单元楼道堆物堵塞消防通道" --category 楼道堆物 \
	--grid g07 --source patrol --priority urgent --address "赵登禹路 12 号院 3 号楼" \
	--tag 消防 | head -n1)
c2=$(zdy case new --title "夜间小区内乱停车，消防车无法通行" --category 居住停车 \
	--grid g02 --source 12345 --priority high --reporter 李先生 \
	--ref 12345-20261123-0187 | head -n1)
c3=$(zdy case new --title "临街底商开墙打洞改作门脸" --category 开墙打洞 \
	--grid g05 --source walkin | head -n1)
echo "new cases: $c1 $c2 $c3"

section "3. 西四北社区 takes in cases"
d1=$(xsb case new --title "早市摊贩占道经营，堵塞人行道" --category 占道经营 \
	--grid g01 --source patrol --priority high | head -n1)
d2=$(xsb case new --title "胡同内私搭乱建彩钢房" --category 违法建设 \
	--grid g04 --source visit --tag 违建 | head -n1)
d3=$(xsb case new --title "老楼加装电梯意见不一，住户起纠纷" --category 加装电梯 \
	--source app --tag 矛盾纠纷 | head -n1)
echo "new cases: $d1 $d2 $d3"

section "4. Working the cases: statuses, notes, tags"
zdy case set "$c1" --status accepted
zdy case note "$c1" "已联系物业，约定明早九点清理楼道"
zdy case set "$c1" --status in_progress
zdy case set "$c2" --status accepted
zdy case tag "$c2" --add 停车 --add 夜间
zdy case note "$c2" "网格员夜间巡查确认，已通知交通大队"
xsb case set "$d1" --status in_progress
xsb case note "$d1" "城管已到场，摊贩已劝离"
xsb case set "$d1" --status resolved
xsb case set "$d2" --status accepted --priority urgent
# d3 came in at the wrong community (转办): the building is 赵登禹's.
xsb case note "$d3" "经核实，该楼属赵登禹社区，转办"
xsb case move "$d3" --path xicheng/xinjiekou/zhaodengyu/g06

section "5. What a station worker sees"
zdy case list
echo
xsb case list
echo
zdy case show "$c1" --history

section "6. Invalid steps are refused, nothing written"
before=$(zdy digest | head -n1)
if zdy case set "$c3" --status reopened; then
	echo "demo: expected a refusal" >&2
	exit 1
fi
[ "$(zdy digest | head -n1)" = "$before" ] && echo "digest unchanged: $before"

section "7. Trust: each side names the keys it syncs with"
HUBP=$(free_port)
DISP=$(free_port)
kz=$(zdy key show); kx=$(xsb key show); kh=$(hub key show); kd=$(dis key show)
zdy trust add "$kh" --name xinjiekou-hub --path xicheng/xinjiekou --role street \
	--endpoint "tcp://127.0.0.1:$HUBP"
xsb trust add "$kh" --name xinjiekou-hub --path xicheng/xinjiekou --role street \
	--endpoint "tcp://127.0.0.1:$HUBP"
hub trust add "$kz" --name zhaodengyu --path xicheng/xinjiekou/zhaodengyu --role station
hub trust add "$kx" --name xisibei --path xicheng/xinjiekou/xisibei --role station
hub trust add "$kd" --name xicheng-district --path xicheng --role district \
	--endpoint "tcp://127.0.0.1:$DISP"
dis trust add "$kh" --name xinjiekou-hub --path xicheng/xinjiekou --role street
hub trust list

section "8. The agents come up: stations dial the hub, the hub dials the district"
# The binary itself in the background, not a shell function: $! must be
# the agent's pid, or the cleanup's kill leaves the agents running.
"$W" --home "$DIS" agent --listen "tcp://127.0.0.1:$DISP" --interval 2 \
	2>"$D/district.log" &
pids+=($!) dis_pid=$!
"$W" --home "$HUB" agent --listen "tcp://127.0.0.1:$HUBP" \
	--peer xicheng-district --interval 2 2>"$D/hub.log" &
pids+=($!) hub_pid=$!
"$W" --home "$ZDY" agent --peer xinjiekou-hub --interval 2 \
	2>"$D/zhaodengyu.log" &
pids+=($!) zdy_pid=$!
"$W" --home "$XSB" agent --peer xinjiekou-hub --interval 2 \
	2>"$D/xisibei.log" &
pids+=($!) xsb_pid=$!
for scope in xicheng/xinjiekou/zhaodengyu xicheng/xinjiekou/xisibei; do
	st=$([ "${scope##*/}" = zhaodengyu ] && echo "$ZDY" || echo "$XSB")
	wait_same "$scope" "$st" "$HUB" 30
done
wait_same xicheng/xinjiekou "$HUB" "$DIS" 30
wait_same xicheng/xinjiekou/zhaodengyu "$ZDY" "$HUB" 30
echo "hub log:"
sed 's/^/  /' "$D/hub.log"

section "9. The district platform's view of the street"
dis case list

section "10. Digests per scope: every holder has exactly the same ops"
for scope in xicheng/xinjiekou/zhaodengyu xicheng/xinjiekou/xisibei; do
	st=$([ "${scope##*/}" = zhaodengyu ] && echo "$ZDY" || echo "$XSB")
	a=$("$W" --home "$st" digest --scope "$scope" | head -n1)
	b=$(hub digest --scope "$scope" | head -n1)
	c=$(dis digest --scope "$scope" | head -n1)
	printf '%-30s station %.12s…  hub %.12s…  district %.12s…  %s\n' \
		"$scope" "$a" "$b" "$c" \
		"$([ "$a" = "$b" ] && [ "$b" = "$c" ] && echo MATCH || echo DIFFERENT)"
	[ "$a" = "$b" ] && [ "$b" = "$c" ]
done
echo "a station holds only its own community (and what it transferred out):"
xsb case list

section "10b. The transferred case reached 赵登禹社区 with its whole history"
zdy case show "$d3" --history

section "11. Live push: a new case reaches the district at once"
t0=$(date +%s%N)
c4=$(zdy case new --title "井盖破损，夜间行人易绊倒" --category 市政设施 \
	--grid g03 --source patrol --priority urgent | head -n1)
for _ in $(seq 1 100); do
	dis case show "$c4" >/dev/null 2>&1 && break
	sleep 0.05
done
dis case show "$c4" >/dev/null
echo "$c4 reached the district after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
hub status

section "12. The district's problem list, and a street whistle (吹哨) from it"
dis problems publish "$here/share/problems/xicheng-sample.tsv" | tail -n 2
# The list is a document published at the district's path: it reaches
# the street hub by sync like any op.
for _ in $(seq 1 200); do
	hub problems show 开墙打洞 >/dev/null 2>&1 && break
	sleep 0.1
done
hub problems show 开墙打洞
hub case triage "$c3" --level big --reason "涉及违法建设，需多部门联合处置"
hub case whistle "$c3" --kind assemble --text "请城管牵头、住建配合，限时报到"
for _ in $(seq 1 100); do
	zdy --json case show "$c3" 2>/dev/null | grep -q '"whistles":1' && break
	sleep 0.1
done
echo "the station sees who was summoned and by when:"
zdy case show "$c3"

section "13. 暴雨: the district's digital emergency plan (数字应急预案)"
dis plan publish "$here/share/plans/xicheng-flood.plan"
dis plan show EP-XC-1
# A document published at the district's path: it reaches the stations
# through the street hub, ahead of the storm.
until_ok() { # SECONDS CMD...: run CMD until it succeeds (bounded)
	local t=$1 i
	shift
	for i in $(seq 1 $((t * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "demo: gave up waiting for: $*" >&2
	exit 1
}
until_ok 30 zdy plan show EP-XC-1
until_ok 30 xsb plan show EP-XC-1

section "14. The street hub is under water; 西四北 still has a 4G uplink"
kill "$hub_pid"
wait "$hub_pid" 2>/dev/null || true
kill "$zdy_pid" "$xsb_pid"
wait "$zdy_pid" "$xsb_pid" 2>/dev/null || true
XSBP=$(free_port)
# 西四北's uplink goes straight to the district; 赵登禹's only way out is
# its neighbour on the street LAN.
xsb trust add "$kd" --name xicheng-district --path xicheng --role district \
	--endpoint "tcp://127.0.0.1:$DISP"
xsb trust add "$kz" --name zhaodengyu --path xicheng/xinjiekou/zhaodengyu --role station
zdy trust add "$kx" --name xisibei --path xicheng/xinjiekou/xisibei --role station \
	--endpoint "tcp://127.0.0.1:$XSBP"
dis trust add "$kx" --name xisibei --path xicheng/xinjiekou/xisibei --role station
kill -HUP "$dis_pid" # the district reads its trust list again
"$W" --home "$XSB" agent --listen "tcp://127.0.0.1:$XSBP" --peer xinjiekou-hub \
	--peer xicheng-district --interval 2 2>>"$D/xisibei.log" &
pids+=($!) xsb_pid=$!
"$W" --home "$ZDY" agent --peer xinjiekou-hub --peer xisibei --interval 2 \
	2>>"$D/zhaodengyu.log" &
pids+=($!) zdy_pid=$!

section "15. The district declares an emergency over the street, with the plan"
em=$(dis emergency declare --path xicheng/xinjiekou --plan EP-XC-1 \
	--title "7·31 暴雨" | head -n1)
echo "declared $em"
has_em() { "$W" --home "$1" --json emergency status | grep -q '"id":'; }
until_ok 30 has_em "$XSB"   # through its own uplink
until_ok 30 has_em "$ZDY"   # through its neighbour: neighbour relay
until_ok 30 grep -q "neighbour relay on" "$D/zhaodengyu.log"
echo "赵登禹社区's agent made the plan's tasks for it into cases, with deadlines:"
until_ok 30 sh -c "'$W' --home '$ZDY' emergency tasks | grep -q 开放"
zdy emergency tasks
echo
zdy status | grep -A1 '应急' || true

section "16. An urgent case reaches the district through the neighbour's link"
t0=$(date +%s%N)
c5=$(zdy case new --title "地下室进水，独居老人被困" --category 防汛 \
	--grid g06 --source patrol --priority urgent --address "赵登禹路 8 号院" | head -n1)
until_ok 30 dis case show "$c5"
echo "$c5 reached the district via 西四北 after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
echo "西四北 carries its neighbour's cases during the emergency:"
xsb case list | grep -F '代传' | head -n 4
echo
dis emergency status

# 西四北 prunes only what a keeper is known to hold: let a round with the
# district agree on the street first.
wait_same xicheng/xinjiekou "$XSB" "$DIS" 30
sleep 2

section "17. The emergency ends: stations narrow back, carried cases go"
dis emergency end "$em"
until_ok 30 grep -q "neighbour relay off" "$D/xisibei.log"
# Once its links have narrowed back (a moment after the end):
until_ok 30 xsb prune --carried --dry-run
xsb prune --carried
xsb case list

echo
if [ "${KEEP:-0}" = 1 ]; then
	echo "demo: done; homes kept in $D"
else
	echo "demo: done; homes in $D are removed (KEEP=1 keeps them)"
fi
