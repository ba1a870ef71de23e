#!/usr/bin/env bash
#
# demo.sh: two community stations in Xinjiekou street take in and work
# cases offline, then carry their ops on "USB sticks" (op files) to a
# street hub, which ends up holding exactly what each station holds:
# the digests per jurisdiction scope match. Gossip sync will replace the
# sticks; the ops and digests stay the same.
#
# usage: scripts/demo.sh [path/to/whistle]   (default: build/agent/whistle)
# Builds nothing; leaves its homes in a temp dir it prints (KEEP=1 keeps
# them, otherwise they are removed at the end).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
W=${1:-$here/build/agent/whistle}
[ -x "$W" ] || { echo "demo: no whistle binary at $W (build first)" >&2; exit 1; }
D=$(mktemp -d "${TMPDIR:-/tmp}/whistle-demo.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$D"' EXIT

ZDY=$D/zhaodengyu   # 赵登禹社区
XSB=$D/xisibei      # 西四北社区
HUB=$D/xinjiekou    # 新街口街道 (the street office)
zdy() { "$W" --home "$ZDY" "$@"; }
xsb() { "$W" --home "$XSB" "$@"; }
hub() { "$W" --home "$HUB" "$@"; }
section() { printf '\n==== %s ====\n' "$*"; }

section "1. Three homes: two community stations and the street hub"
zdy init --path xicheng/xinjiekou/zhaodengyu --name 赵登禹社区
xsb init --path xicheng/xinjiekou/xisibei --name 西四北社区
hub init --path xicheng/xinjiekou --code XJK --name 新街口街道

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
# Too big for the community: the street takes it over (吹哨 upwards).
xsb case move "$d2" --path xicheng/xinjiekou

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

section "7. Carry the ops to the street hub on op files"
zdy export -o "$D/zhaodengyu.ops"
xsb export -o "$D/xisibei.ops"
hub import "$D/zhaodengyu.ops"
hub import "$D/xisibei.ops"
echo "importing again adds nothing:"
hub import "$D/zhaodengyu.ops"

section "8. The hub's view of the street"
hub case list
echo
hub case list --status in_progress

section "9. Digests per scope: the hub holds exactly what each station holds"
for scope in xicheng/xinjiekou/zhaodengyu xicheng/xinjiekou/xisibei; do
	st=$([ "${scope##*/}" = zhaodengyu ] && echo "$ZDY" || echo "$XSB")
	a=$("$W" --home "$st" digest --scope "$scope" | head -n1)
	b=$(hub digest --scope "$scope" | head -n1)
	printf '%-32s station %.16s…  hub %.16s…  %s\n' "$scope" "$a" "$b" \
		"$([ "$a" = "$b" ] && echo MATCH || echo DIFFERENT)"
	[ "$a" = "$b" ]
done
echo
echo "whole street at the hub:"
hub digest
hub status

echo
if [ "${KEEP:-0}" = 1 ]; then
	echo "demo: done; homes kept in $D"
else
	echo "demo: done; homes in $D are removed (KEEP=1 keeps them)"
fi
