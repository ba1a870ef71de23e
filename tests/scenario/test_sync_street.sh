#!/usr/bin/env bash
#
# test_sync_street.sh: one street of the Xicheng district synced by real
# `whistle agent` processes over loopback (127.0.0.1, random free ports):
# three community stations of Xinjiekou street (zhaodengyu, xisibei,
# sanjianfang) dial their street hub; the hub listens and dials the
# district hub. Trust is set up with `trust add` both ways.
#
#   1. cases on every station reach hub and district (digests per scope)
#   2. hub down: stations keep taking cases; after restart all converge
#   3. district cut off: the hub still gets everything; then converge
#   4. live push: a new case is on the district within 2 s (measured)
#   5. kill -9 of the receiving agent in the middle of a large sync:
#      the hub while a station uploads a bulk it took in offline, then a
#      station while it downloads a bulk imported on the hub (the links
#      of two stations go through delay_relay at 512 KiB/s so that the
#      sync lasts); restart, converge, every id present, no op twice
#   6. one-shot `whistle sync --peer` from a station whose agent is down
#   7. an untrusted key is refused (sync fails, the hub log names it as
#      `key show --curve` prints it, nothing gets in)
#   8. wh_badpeer (when built): garbage, truncated msgpack, huge length
#      prefixes, forged and out-of-scope ops change nothing on the hub and
#      do not disturb the station links
# After each stage: digests equal per station scope on station, hub and
# district; sampled `case show --json` identical on every holder; no
# station holds a case outside its community.
#
# usage: bash test_sync_street.sh /path/to/whistle /path/to/build/tests
# env: WH_TEST_TMP scratch dir; WH_QUICK=1 smaller bulk (sanitizer builds);
#      WH_PUSH_MAX_MS (default 2000); WH_KEEP=1 keep scratch and logs.
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_sync_street "$@"

"$W" agent --help >/dev/null 2>&1 || die "'$W agent --help' fails: no agent command"

QUICK=${WH_QUICK:-0}
PUSH_MAX_MS=${WH_PUSH_MAX_MS:-2000}
CONVERGE=${WH_CONVERGE_SECS:-60}
# bulk sizes: cases x (1 create + 2 tags) ops
BULK1=2000
BULK2=1000
[ "$QUICK" = 1 ] && BULK1=500 BULK2=300

STREET=xicheng/xinjiekou
ST=(zhaodengyu xisibei sanjianfang)

# ---- homes and trust ----------------------------------------------------
mkhome district xicheng district XC
mkhome hub $STREET street XJK
for s in "${ST[@]}"; do mkhome "$s" "$STREET/$s" station; done
HUB=${HOMEOF[hub]}
DIST=${HOMEOF[district]}
free_port PH
free_port PD
EP_HUB=tcp://127.0.0.1:$PH
EP_DIST=tcp://127.0.0.1:$PD
# zhaodengyu and xisibei reach the hub through a relay that holds each
# link to RELAY_KIB KiB/s each way (stage 5 needs a sync that lasts);
# sanjianfang dials it directly.
RELAY_KIB=512
[ "$QUICK" = 1 ] && RELAY_KIB=128
RELAY_KIB=${WH_RELAY_KIB:-$RELAY_KIB}
EP_SLOW=$EP_HUB
if [ -x "$TB/delay_relay" ]; then
	free_port PR
	EP_SLOW=tcp://127.0.0.1:$PR
	"$TB/delay_relay" -l 127.0.0.1:$PR -c 127.0.0.1:$PH -d 0 -r "$RELAY_KIB" -t 900 \
		2>>"$T/log/relay.log" &
	bg_register $!
else
	say "NOTE: $TB/delay_relay not built: stage 5 syncs at loopback speed and may finish before the kill"
fi
for s in "${ST[@]}"; do
	case $s in sanjianfang) trust "$s" hub "$EP_HUB" ;; *) trust "$s" hub "$EP_SLOW" ;; esac
	trust hub "$s"
done
trust hub district "$EP_DIST"
trust district hub
# Stage 8's misbehaving peers: trusted keys (one per kind of abuse, as a
# peer that abused the hub is shut out for a while), claiming zhaodengyu.
BP_MODES="garbage trunc huge oversize forged scope"
if [ -x "$TB/wh_badpeer" ]; then
	for m in $BP_MODES; do
		code=${m:0:4}
		mkhome "bp$m" "$STREET/zhaodengyu" station "XJK-BP${code^^}"
		trust hub "bp$m"
	done
fi
n=4
[ -x "$TB/wh_badpeer" ] && n=10
check "hub trust list has $n entries" test "$(wh --home "$HUB" --json trust list | jq length)" = $n
check "trust list names the endpoint" \
	test "$(wh --home "${HOMEOF[zhaodengyu]}" --json trust list | jq -r '.[0].endpoint')" = "$EP_SLOW"

# The bulk op files take a while to write: start now, use them in stage 5.
gen_bulk "$T/bulk1.ops" zhaodengyu XJK-ZDYB $BULK1 2 &
GEN1=$!
bg_register $GEN1
gen_bulk "$T/bulk2.ops" xisibei XJK-XSBB $BULK2 2 &
GEN2=$!
bg_register $GEN2

# Every case taken in is recorded in $T/ids.STATION, to check later that
# all of them arrived everywhere.
# mk STATION ARGS...: new case on STATION, recorded; prints the id
mk() {
	local id
	id=$(new_case "${HOMEOF[$1]}" "${@:2}") || return 1
	echo "$id" >>"$T/ids.$1"
	echo "$id"
}
# some_cases STATION TAG: a few cases of different kinds, some worked on
some_cases() {
	local s=$1 tag=$2 a b
	a=$(mk "$s" --title "楼道堆物堵塞消防通道 $tag" --category 消防隐患 --grid g07 \
		--source patrol --priority urgent --reporter 王阿姨 --tag 消防) || return
	b=$(mk "$s" --title "早市占道经营 $tag" --category 占道经营 --source 12345 \
		--priority high --ref "12345-$tag") || return
	mk "$s" --title "老旧小区加装电梯 $tag" --category 加装电梯 --grid g02 >/dev/null
	wh --home "${HOMEOF[$s]}" case set "$a" --status in_progress >/dev/null 2>&1 ||
		bad "case set $a on $s"
	wh --home "${HOMEOF[$s]}" case note "$b" "已联系城管 $tag" >/dev/null 2>&1 ||
		bad "case note $b on $s"
}

# street_converged: every station scope equal on station, hub, district,
# and the street equal on hub and district
street_converged() {
	local s
	for s in "${ST[@]}"; do
		same_digest "${PATHOF[$s]}" "${HOMEOF[$s]}" "$HUB" "$DIST" || return 1
	done
	same_digest "$STREET" "$HUB" "$DIST"
}

# full_check STAGE: the detailed comparison, each failure named
full_check() {
	local stage=$1 s scope h n want got id
	for s in "${ST[@]}"; do
		scope=${PATHOF[$s]}
		check "$stage: $s digest equal on station, hub, district" \
			same_digest "$scope" "${HOMEOF[$s]}" "$HUB" "$DIST"
		want=$(ops_of "${HOMEOF[$s]}" "$scope")
		for h in "$HUB" "$DIST"; do
			got=$(ops_of "$h" "$scope")
			[ -n "$want" ] && [ "$want" = "$got" ] && ok ||
				bad "$stage: $s ops: station $want, $(basename "$h") $got"
		done
		LC_ALL=C sort -u "$T/ids.$s" >"$T/want.ids"
		for h in "${HOMEOF[$s]}" "$HUB" "$DIST"; do
			ids_of "$h" "$scope" >"$T/got.ids"
			if cmp -s "$T/want.ids" "$T/got.ids"; then
				ok
			else
				bad "$stage: $s cases on $(basename "$h"): want $(wc -l <"$T/want.ids"), have $(wc -l <"$T/got.ids"); missing: $(comm -23 "$T/want.ids" "$T/got.ids" | head -n3 | tr '\n' ' ') extra: $(comm -13 "$T/want.ids" "$T/got.ids" | head -n3 | tr '\n' ' ')"
			fi
		done
		# first, last and one in the middle, compared whole
		n=$(wc -l <"$T/want.ids")
		for id in $(sed -n "1p;$(((n + 1) / 2))p;\$p" "$T/want.ids" | sort -u); do
			view_of "${HOMEOF[$s]}" "$id" >"$T/a.json"
			view_of "$HUB" "$id" >"$T/b.json"
			view_of "$DIST" "$id" >"$T/c.json"
			if [ -s "$T/a.json" ] && cmp -s "$T/a.json" "$T/b.json" &&
				cmp -s "$T/a.json" "$T/c.json"; then
				ok
			else
				bad "$stage: case $id differs between $s, hub, district: $(diff "$T/a.json" "$T/c.json" | head -n4 | tr '\n' ' ')"
			fi
		done
		# a station holds its own community only
		wh --home "${HOMEOF[$s]}" --json case list --all >"$T/list.json" 2>/dev/null
		check "$stage: $s case list parses" jq -e 'type == "array"' "$T/list.json"
		got=$(jq -r --arg p "$scope" \
			'[.[] | select(.path != $p and (.path | startswith($p + "/") | not)) | .id] | join(" ")' \
			"$T/list.json")
		[ -z "$got" ] && ok || bad "$stage: $s holds cases outside $scope: $got"
	done
	check "$stage: street digest equal on hub and district" same_digest "$STREET" "$HUB" "$DIST"
	cat "$T"/ids.* | LC_ALL=C sort -u >"$T/want.ids"
	ids_of "$DIST" "$STREET" >"$T/got.ids"
	check "$stage: the district holds exactly the street's cases" cmp -s "$T/want.ids" "$T/got.ids"
}

# ---- 1. start and first cases ---------------------------------------------
# A long anti-entropy interval, so that stage 4 measures push, not polling.
IVL=20
agent_start district --listen "$EP_DIST" --interval $IVL
agent_start hub --listen "$EP_HUB" --peer district --interval $IVL
for s in "${ST[@]}"; do agent_start "$s" --peer hub --interval $IVL; done
for s in "${ST[@]}"; do some_cases "$s" s1; done
wait_until "$CONVERGE" "stage 1: first cases converged" street_converged
full_check "stage 1"
check_alive district hub "${ST[@]}"

# ---- 2. the hub is down ---------------------------------------------------
agent_stop hub
for s in "${ST[@]}"; do some_cases "$s" s2; done
# nothing can have reached the district
s=${ST[0]}
check "stage 2: district does not have cases taken while the hub is down" \
	test "$(digest_of "$DIST" "${PATHOF[$s]}")" != "$(digest_of "${HOMEOF[$s]}" "${PATHOF[$s]}")"
sleep 2 # stations keep retrying meanwhile
check_alive district "${ST[@]}"
agent_restart hub
wait_until "$CONVERGE" "stage 2: converged after the hub came back" street_converged
full_check "stage 2"

# ---- 3. the district is cut off ---------------------------------------------
agent_stop district
for s in "${ST[@]}"; do some_cases "$s" s3; done
hub_has_stations() {
	local s
	for s in "${ST[@]}"; do
		same_digest "${PATHOF[$s]}" "${HOMEOF[$s]}" "$HUB" || return 1
	done
}
wait_until "$CONVERGE" "stage 3: hub has every station's cases without the district" \
	hub_has_stations
agent_restart district
wait_until "$CONVERGE" "stage 3: converged after the district came back" street_converged
full_check "stage 3"

# ---- 4. live push -------------------------------------------------------------
# From the moment `case new` returns (the op is committed) until the case
# can be read on the district: station -> hub -> district.
for s in "${ST[@]}"; do
	id=$(mk "$s" --title "居住停车占用消防通道 push" --category 居住停车 --priority urgent) || continue
	t0=$(now_ms)
	seen=""
	for i in $(seq 300); do
		if wh --home "$DIST" --json case show "$id" >/dev/null 2>&1; then
			seen=$(($(now_ms) - t0))
			break
		fi
		[ $(($(now_ms) - t0)) -gt 15000 ] && break
		sleep 0.05
	done
	if [ -z "$seen" ]; then
		bad "stage 4: case $id from $s not on the district within 15 s"
	else
		say "stage 4: push $s -> hub -> district: $seen ms"
		[ "$seen" -le "$PUSH_MAX_MS" ] && ok ||
			bad "stage 4: push from $s took $seen ms (limit $PUSH_MAX_MS)"
	fi
done
wait_until "$CONVERGE" "stage 4: converged" street_converged

# ---- 5. kill -9 in the middle of a large sync ----------------------------------
# The receiving side is killed while the ops stream in (the relay holds
# the two stations' links to $RELAY_KIB KiB/s, so a bulk takes seconds);
# after a restart the sync resumes and converges: every id everywhere,
# ops counts equal (nothing lost, nothing twice).

# killed_at VICTIM AT TOTAL: report how far the sync had got
killed_at() {
	say "stage 5: killed $1 -9 after $(secs_since "$t0") s, holding $2 of $3 ops in scope"
	if [ "${2:-0}" -ge "$3" ]; then
		say "stage 5: NOTE: the sync had finished before the kill: not a mid-sync kill"
	fi
	# the store of a killed agent opens cleanly and holds whole ops only
	check "stage 5: $1 store readable after kill -9" test -n "$(digest_of "${HOMEOF[$1]}")"
}
# after_kill STATION STAGE: converge and compare
after_kill() {
	local s=$1 stage=$2 scope=${PATHOF[$1]} ch cd
	wait_until $((CONVERGE + 30)) "$stage: converged" street_converged
	full_check "$stage"
	ch=$(wh --home "$HUB" --json case list --all --scope "$scope" | jq length)
	cd=$(wh --home "$DIST" --json case list --all --scope "$scope" | jq length)
	say "$stage: $s scope: $(ops_of "$HUB" "$scope") ops; $ch cases on the hub, $cd on the district"
	[ "$ch" = "$cd" ] && [ "$ch" = "$(sort -u "$T/ids.$s" | wc -l)" ] && ok ||
		bad "$stage: case counts differ: hub $ch, district $cd, taken $(sort -u "$T/ids.$s" | wc -l)"
}
# wait_rise HOME SCOPE BASE FILE: until HOME holds more than BASE ops in
# SCOPE (polled as fast as `digest` runs), or half the time FILE takes
# through the relay has passed (ops land in batches of up to 256 KiB: a
# small bulk may land all at once, so kill while its bytes are on the way)
wait_rise() {
	local at i half
	half=$(($(stat -c %s "$4") * 500 / (RELAY_KIB * 1024)))
	[ "$half" -lt 300 ] && half=300
	for i in $(seq 2000); do
		at=$(ops_of "$1" "$2")
		[ -n "$at" ] && [ "$at" -gt "$3" ] && return 0
		[ $(($(now_ms) - t0)) -gt "$half" ] && return 0
		sleep 0.02
	done
	return 1
}

# 5a: the hub dies while zhaodengyu uploads a bulk it took in offline
s=zhaodengyu
bulk_wait "$T/bulk1.ops" $GEN1 240
agent_stop $s
wh --home "${HOMEOF[$s]}" import "$T/bulk1.ops" >/dev/null 2>"$T/import.err" ||
	die "import bulk1 into $s: $(head -c 300 "$T/import.err")"
ids_of "${HOMEOF[$s]}" >>"$T/ids.$s"
base=$(ops_of "$HUB" "${PATHOF[$s]}")
total=$(ops_of "${HOMEOF[$s]}" "${PATHOF[$s]}")
say "stage 5a: $s holds $total ops, the hub $base: $((total - base)) to upload"
agent_restart $s
t0=$(now_ms)
wait_rise "$HUB" "${PATHOF[$s]}" "$base" "$T/bulk1.ops"
agent_kill9 hub
killed_at hub "$(ops_of "$HUB" "${PATHOF[$s]}")" "$total"
agent_restart hub
after_kill $s "stage 5a (hub killed)"

# 5b: xisibei dies while it downloads a bulk of its own community that
# reached the hub on a USB stick (imported there while the agents run)
s=xisibei
bulk_wait "$T/bulk2.ops" $GEN2 240
base=$(ops_of "${HOMEOF[$s]}" "${PATHOF[$s]}")
wh --home "$HUB" import "$T/bulk2.ops" >/dev/null 2>"$T/import.err" ||
	die "import bulk2 into the hub: $(head -c 300 "$T/import.err")"
t0=$(now_ms)
ids_of "$HUB" "${PATHOF[$s]}" >>"$T/ids.$s"
total=$(ops_of "$HUB" "${PATHOF[$s]}")
say "stage 5b: the hub holds $total ops of $s, which holds $base"
wait_rise "${HOMEOF[$s]}" "${PATHOF[$s]}" "$base" "$T/bulk2.ops"
agent_kill9 $s
killed_at $s "$(ops_of "${HOMEOF[$s]}" "${PATHOF[$s]}")" "$total"
agent_restart $s
after_kill $s "stage 5b ($s killed)"
check_alive district hub "${ST[@]}"

# ---- 6. one-shot sync -------------------------------------------------------------
s=sanjianfang
agent_stop $s
mk $s --title "违法建设 one-shot" --category 违法建设 >/dev/null
t0=$(now_ms)
wh --home "${HOMEOF[$s]}" sync --peer hub --timeout 30 >"$T/sync.out" 2>"$T/sync.err"
rc=$?
say "stage 6: sync --peer hub from $s: exit $rc after $(secs_since "$t0") s"
[ $rc = 0 ] && ok || bad "stage 6: sync --peer hub exit $rc: $(head -c 300 "$T/sync.err")"
check "stage 6: hub has the case right after sync returns" \
	same_digest "${PATHOF[$s]}" "${HOMEOF[$s]}" "$HUB"
agent_restart $s

# ---- 7. an untrusted key ---------------------------------------------------------
# A fresh home that knows the hub, but the hub does not know it.
mkhome intruder "$STREET/zhaodengyu" station XJK-ZDYX
trust intruder hub "$EP_HUB"
new_case "${HOMEOF[intruder]}" --title "伪造案件 should never arrive" >/dev/null
DH=$(digest_of "$HUB")
t0=$(now_ms)
wh --home "${HOMEOF[intruder]}" sync --peer hub --timeout 5 >"$T/sync.out" 2>"$T/sync.err"
rc=$?
say "stage 7: untrusted sync --peer hub: exit $rc after $(secs_since "$t0") s: $(head -n1 "$T/sync.err")"
[ $rc != 0 ] && ok || bad "stage 7: sync from an untrusted key succeeded"
# The hub's ZAP handler sees the CURVE key derived from the Ed25519 one:
# `key show --curve` on the intruder prints it, and the hub's refusal
# line names it so; key_forms (lib.sh) derives it independently.
CK=$(wh --home "${HOMEOF[intruder]}" key show --curve 2>/dev/null)
refusal_names_curve() { [ -n "$CK" ] && grep -qF "unknown CURVE key $CK from" "$T/log/hub.log"; }
wait_until 10 "stage 7: hub refusal names the key 'key show --curve' prints" refusal_names_curve
if command -v python3 >/dev/null; then
	wait_until 10 "stage 7: hub log names the refused key" \
		log_names_key "$T/log/hub.log" "${KEYOF[intruder]}"
else
	skip "stage 7 log check: python3 needed to derive the CURVE key the hub logs"
fi
check "stage 7: nothing from the untrusted key on the hub" test "$(digest_of "$HUB")" = "$DH"
check "stage 7: hub still runs" agent_alive hub

# ---- 8. a misbehaving trusted peer ----------------------------------------------------
# Each kind of abuse from its own trusted key, at the hub, while a
# station keeps taking cases: the hub keeps running, zhaodengyu's scope
# (which the bad peers claim) is unchanged, nothing outside the street
# appears, and the station's cases still arrive.
if [ -x "$TB/wh_badpeer" ]; then
	ZS=${PATHOF[zhaodengyu]}
	DZ=$(digest_of "$HUB" "$ZS")
	OH=$(ops_of "$HUB")
	OD=$(ops_of "$DIST")
	for m in $BP_MODES; do
		case $m in
		garbage) cnt=300 ;; trunc | huge) cnt=100 ;; forged) cnt=20 ;; scope) cnt=50 ;; *) cnt=1 ;;
		esac
		t0=$(now_ms)
		timeout 30 "$TB/wh_badpeer" "$m" "${HOMEOF[bp$m]}/key.secret" "${KEYOF[hub]}" \
			"$EP_HUB" "$ZS" $cnt >"$T/bp.out" 2>&1
		rc=$?
		say "stage 8: wh_badpeer $m x$cnt: exit $rc, $(head -n1 "$T/bp.out")"
		[ $rc = 0 ] && ok || bad "stage 8: wh_badpeer $m: exit $rc (want 0: trusted, handshake ok)"
		# meanwhile a station's new case still reaches hub and district
		id=$(mk xisibei --title "干扰期间 $m 垃圾满溢" --category 市容环境) || continue
		wait_until 15 "stage 8: after $m, xisibei's new case on the district" \
			wh --home "$DIST" case show "$id"
		check "stage 8: hub alive after $m" agent_alive hub
		check "stage 8: zhaodengyu scope on the hub unchanged after $m" \
			test "$(digest_of "$HUB" "$ZS")" = "$DZ"
	done
	n=$(wc -w <<<"$BP_MODES")
	check "stage 8: hub gained only xisibei's $n cases" test "$(ops_of "$HUB")" = $((OH + n))
	check "stage 8: district gained only those too" test "$(ops_of "$DIST")" = $((OD + n))
	check "stage 8: nothing outside the street on the hub" \
		test "$(ops_of "$HUB" xicheng/elsewhere)" = 0
	# an untrusted key gets no handshake at all
	timeout 30 "$TB/wh_badpeer" garbage "${HOMEOF[intruder]}/key.secret" "${KEYOF[hub]}" \
		"$EP_HUB" "$ZS" 10 >"$T/bp.out" 2>&1
	rc=$?
	say "stage 8: wh_badpeer garbage from the untrusted key: exit $rc, $(head -n1 "$T/bp.out")"
	[ $rc = 3 ] && ok || bad "stage 8: untrusted wh_badpeer: exit $rc (want 3: refused)"
	say "stage 8: hub log lines about drops/denials: $(grep -Eic 'drop|den|refus|malformed' "$T/log/hub.log")"
else
	skip "stage 8 (garbage, truncated msgpack, huge lengths, forged and out-of-scope ops): $TB/wh_badpeer not built"
fi

# ---- end --------------------------------------------------------------------------
wait_until "$CONVERGE" "final: converged" street_converged
full_check "final"
check_alive district hub "${ST[@]}"
for s in "${ST[@]}" hub district; do agent_stop "$s"; done
check_logs
lib_end
