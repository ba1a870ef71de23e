#!/usr/bin/env bash
#
# test_progress.sh: the progress line of long work (agent/progress.h)
# through the real binary, on a real pseudo-terminal made by util-linux's
# `script` (bsdutils, in every Debian): `case import` of 3,000 rows,
# `rebuild` of the store's views, and the first `sync` of a station with
# a hub holding those cases. On a terminal each shows a line with the
# count, rate and share; with stderr to a file or a pipe, or with
# --quiet, none of them writes a single progress byte, and what they
# print otherwise is unchanged. Without the test knob
# (WHISTLE_PROGRESS_DELAY_MS) short work stays silent on a terminal too.
# The exact form of the line, its rate and its time left are
# tests/unit/test_progress.c's (there with an injected clock).
#
# usage: bash test_progress.sh /path/to/whistle [/path/to/build/tests]
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_progress "$@"

if ! command -v script >/dev/null; then
	skip "util-linux 'script' not found: no pseudo-terminal to test on"
	lib_end
fi

# tty OUT CMD...: run CMD on a pseudo-terminal; everything it wrote (stdout
# and stderr both, as a terminal shows them) goes to OUT; rc its exit.
tty() {
	local out=$1 cmd
	shift
	printf -v cmd '%q ' timeout 120 "$@"
	script -qec "$cmd" /dev/null </dev/null >"$out" 2>&1
	rc=$?
}
# piped OUT ERR CMD...: stdout to OUT, stderr to ERR (a file: not a tty)
piped() {
	local out=$1 err=$2
	shift 2
	timeout 120 "$@" </dev/null >"$out" 2>"$err"
	rc=$?
}
want_rc() { if [ "$rc" = "$1" ]; then ok; else bad "$2: want exit $1, got $rc"; fi; }
# has DESC FILE ERE / hasnt DESC FILE ERE
has() { if grep -aEq -- "$3" "$2"; then ok; else bad "$1: /$3/ not in: $(head -c 300 "$2" | cat -v)"; fi; }
hasnt() { if grep -aEq -- "$3" "$2"; then bad "$1: /$3/ in: $(head -c 300 "$2" | cat -v)"; else ok; fi; }
# no progress bytes at all: no carriage return, no erase-line
clean() {
	if LC_ALL=C grep -aq $'\r\|\033\[K' "$2"; then bad "$1: control bytes in $(cat -v "$2" | head -c 300)"; else ok; fi
}

mkhome hub xicheng/xinjiekou street
mkhome st xicheng/xinjiekou/zhaodengyu station
mkhome st2 xicheng/xinjiekou/zhaodengyu station
mkhome aon xicheng/xinjiekou/zhaodengyu station
H=${HOMEOF[hub]}
S=${HOMEOF[st]}
N=3000
{
	echo "external_ref,title,category,grid,source,priority"
	for ((i = 1; i <= N; i++)); do
		echo "12345-$i,楼道堆物堵塞消防通道 $i,消防隐患,g$((i % 12 + 1)),12345,normal"
	done
} >"$T/rows.csv"
head -n 4 "$T/rows.csv" >"$T/few.csv"

export WHISTLE_PROGRESS_DELAY_MS=0

# ---- case import --------------------------------------------------------
tty "$T/imp.tty" "$W" --home "$S" case import "$T/rows.csv"
want_rc 0 "import on a terminal"
has "import progress line" "$T/imp.tty" $'\r\033\\[Kcase import: writing [0-9,]+ rows \\([0-9,]+/s\\), [0-9]+%'
has "import summary still printed" "$T/imp.tty" "$N created, 0 updated"
# the same file again (nothing changes), stderr to a file
piped "$T/imp.out" "$T/imp.err" "$W" --home "$S" case import "$T/rows.csv"
want_rc 0 "import piped"
clean "no progress when stderr is a file" "$T/imp.err"
has "summary when piped" "$T/imp.out" "0 created, 0 updated, $N unchanged"
tty "$T/impq.tty" "$W" --home "$S" case import "$T/rows.csv" --quiet
want_rc 0 "import --quiet"
hasnt "no progress with --quiet" "$T/impq.tty" 'case import: '
has "summary with --quiet" "$T/impq.tty" "$N unchanged"
# stderr a pipe
timeout 120 "$W" --home "$S" case import "$T/rows.csv" 2>&1 >/dev/null </dev/null | cat >"$T/imp.pipe"
clean "no progress when stderr is a pipe" "$T/imp.pipe"

# --all-or-nothing: a checking pass, then a writing pass, both shown
tty "$T/aon.tty" "$W" --home "${HOMEOF[aon]}" case import "$T/rows.csv" --all-or-nothing
want_rc 0 "import --all-or-nothing"
has "checking pass shown" "$T/aon.tty" 'case import: checking [0-9,]+ rows'
has "writing pass shown" "$T/aon.tty" 'case import: writing [0-9,]+ rows'

# ---- rebuild --------------------------------------------------------------
tty "$T/reb.tty" "$W" --home "$S" rebuild
want_rc 0 "rebuild on a terminal"
has "rebuild progress line" "$T/reb.tty" "rebuild: folded [0-9,]+ of [0-9,]+ ops \\([0-9,]+/s\\), [0-9]+%"
has "rebuild summary" "$T/reb.tty" "rebuilt $N cases from $N ops"
piped "$T/reb.out" "$T/reb.err" "$W" --home "$S" --json rebuild
want_rc 0 "rebuild piped"
clean "rebuild: no progress to a file" "$T/reb.err"
check "rebuild --json" jq -e ".ops == $N and .cases == $N" "$T/reb.out"
tty "$T/rebq.tty" "$W" --home "$S" rebuild -q
hasnt "rebuild -q quiet" "$T/rebq.tty" 'rebuild: folded'
d_before=$(digest_of "$S")

# ---- sync -----------------------------------------------------------------
# The hub takes the station's cases, then a fresh station's first sync
# with the hub receives all of them.
free_port P
EP=tcp://127.0.0.1:$P
trust hub st
trust hub st2
trust st hub "$EP"
trust st2 hub "$EP"
agent_start hub --listen "$EP"
wh --home "$S" sync --peer hub >"$T/s0.out" 2>&1 || bad "station -> hub: $(cat "$T/s0.out")"
tty "$T/sync.tty" "$W" --home "${HOMEOF[st2]}" sync --peer hub --timeout 60
want_rc 0 "first sync on a terminal"
has "sync progress line" "$T/sync.tty" "sync: received [0-9,]+ of [0-9,]+ ops \\([0-9,]+/s\\), [0-9]+%"
has "sync result printed" "$T/sync.tty" "synced with hub: "
check "the fresh station holds every case" [ "$(digest_of "${HOMEOF[st2]}" xicheng/xinjiekou/zhaodengyu)" = "$(digest_of "$S" xicheng/xinjiekou/zhaodengyu)" ]
piped "$T/sync.out" "$T/sync.err" "$W" --home "${HOMEOF[st2]}" sync --peer hub
want_rc 0 "sync piped"
clean "sync: no progress to a file" "$T/sync.err"
has "sync result when piped" "$T/sync.out" "synced with hub: sent 0 ops, received 0 ops; in sync"
tty "$T/syncq.tty" "$W" --home "${HOMEOF[st2]}" sync --peer hub --quiet
want_rc 0 "sync --quiet"
hasnt "sync --quiet quiet" "$T/syncq.tty" 'sync: received'

# ---- bundle apply ------------------------------------------------------------
mkhome st3 xicheng/xinjiekou/zhaodengyu station
trust st3 st
wh --home "$S" bundle create --scope xicheng/xinjiekou/zhaodengyu -o "$T/b.whb" \
	>"$T/bc.out" 2>&1 || bad "bundle create: $(head -c 300 "$T/bc.out")"
tty "$T/bun.tty" "$W" --home "${HOMEOF[st3]}" bundle apply "$T/b.whb"
want_rc 0 "bundle apply on a terminal"
has "bundle apply progress line" "$T/bun.tty" "bundle apply: adding [0-9,]+ of [0-9,]+ ops \\([0-9,]+/s\\), [0-9]+%"
piped "$T/bun.out" "$T/bun.err" "$W" --home "${HOMEOF[st3]}" bundle apply "$T/b.whb"
want_rc 0 "bundle apply piped (again: nothing new)"
clean "bundle apply: no progress to a file" "$T/bun.err"

# ---- without the knob: short work is silent on a terminal too ----------------
unset WHISTLE_PROGRESS_DELAY_MS
tty "$T/few.tty" "$W" --home "$S" case import "$T/few.csv"
want_rc 0 "small import on a terminal"
hasnt "no line for work under a second" "$T/few.tty" 'case import: '
check "rebuild changed no digest" [ "$d_before" = "$(digest_of "$S")" ]

lib_end
