#!/usr/bin/env bash
#
# test_cli.sh: the `whistle` command line end to end, through the real
# binary: init, taking in and working a Chinese-language case, JSON
# output, export/import between two stations with different keys, damaged
# op files, and every bad-argument path (exit 2, nothing written).
#
# usage: bash test_cli.sh /path/to/whistle     (WH_TEST_TMP: scratch dir)
# Needs jq; python3 (optional) to forge a file whose checksum is right but
# whose op signature is not.
set -u

W=${1:?usage: test_cli.sh /path/to/whistle}
case $W in /*) ;; *) W=$PWD/$W ;; esac
command -v jq >/dev/null || { echo "test_cli: jq is required" >&2; exit 1; }
ROOT=${WH_TEST_TMP:-${TMPDIR:-/tmp}}
mkdir -p "$ROOT"
T=$(mktemp -d "$ROOT/test_cli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
unset WHISTLE_HOME WHISTLE_CONFIG
export TZ=Asia/Shanghai

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*" >&2
}
# check DESC COMMAND...: the command must succeed
check() {
	local desc=$1
	shift
	if "$@" >/dev/null; then ok; else bad "$desc"; fi
}

# run ARGS...: whistle with a time bound; sets rc, output in $T/out, $T/err
run() {
	timeout 60 "$W" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
# want RC DESC ARGS...
want() {
	local code=$1 desc=$2
	shift 2
	run "$@"
	if [ "$rc" = "$code" ]; then
		ok
	else
		bad "$desc: want exit $code, got $rc; stderr: $(head -c 300 "$T/err")"
	fi
}
out() { cat "$T/out"; }
err() { cat "$T/err"; }
digest_of() { timeout 60 "$W" --home "$1" digest | head -n1; }
listing() { (cd "$1" && find . -print | LC_ALL=C sort; stat -c '%n %s %Y' store/data.mdb 2>/dev/null); }

H1=$T/zhaodengyu
H2=$T/hub
ZDY=xicheng/xinjiekou/zhaodengyu

# ---- init -------------------------------------------------------------
want 0 "init" --home "$H1" init --station zhaodengyu --path $ZDY --name 赵登禹社区
check "key.secret mode 0600" [ "$(stat -c %a "$H1/key.secret")" = 600 ]
check "key.secret 64 bytes" [ "$(stat -c %s "$H1/key.secret")" = 64 ]
check "home mode 0700" [ "$(stat -c %a "$H1")" = 700 ]
check "default code XJK-ZDY" grep -q '^code = XJK-ZDY$' "$H1/whistle.conf"
check "store created" [ -d "$H1/store" ]
want 1 "init twice" --home "$H1" init --path $ZDY
check "init twice names the home" grep -q "home $H1 already holds a station" "$T/err"
want 0 "key show" --home "$H1" key show
PK1=$(out)
check "key show is 64 hex" grep -Eqx '[0-9a-f]{64}' <<<"$PK1"
check "key.public matches" [ "$(cat "$H1/key.public")" = "$PK1" ]
check "secret never printed" [ "$(grep -c "$(od -An -tx1 -N8 "$H1/key.secret" | tr -d ' \n')" "$T/out")" = 0 ]
want 0 "key show --json" --home "$H1" --json key show
check "key show json" [ "$(jq -r .public_key "$T/out")" = "$PK1" ]
want 0 "init second code" --home "$T/sjf" init --path xicheng/xinjiekou/sanjianfang
check "derived code XJK-SJF" grep -q '^code = XJK-SJF$' "$T/sjf/whistle.conf"

# a failed init leaves nothing behind
want 2 "init bad --path" --home "$T/nope" init --path Xicheng/Bad
check "bad init created nothing" [ ! -e "$T/nope" ]
want 2 "init bad --code" --home "$T/nope" init --path $ZDY --code xjk_zdy
check "bad --code created nothing" [ ! -e "$T/nope" ]
want 2 "init without --path" --home "$T/nope" init
check "init without path names --path" grep -q -- '--path' "$T/err"

# ---- a case ------------------------------------------------------------
TITLE=楼道堆物堵塞消防通道
want 0 "case new" --home "$H1" case new --title "$TITLE" --category 消防隐患 \
	--grid g07 --source patrol --priority urgent --reporter 王阿姨 \
	--address "赵登禹路 3 号楼 2 单元" --lat 39.9330000 --lon 116.3570000 --tag 消防
check "case new prints the id first" [ "$(head -n1 "$T/out")" = XJK-ZDY-000001 ]
want 0 "case show --json" --home "$H1" case show XJK-ZDY-000001 --json
check "title round trip" [ "$(jq -r .title "$T/out")" = "$TITLE" ]
check "category" [ "$(jq -r .category "$T/out")" = 消防隐患 ]
check "priority urgent" [ "$(jq -r .priority "$T/out")" = urgent ]
check "source patrol" [ "$(jq -r .source "$T/out")" = patrol ]
check "path with grid" [ "$(jq -r .path "$T/out")" = $ZDY/g07 ]
check "location" [ "$(jq -c .location "$T/out")" = '{"lat":39.933,"lon":116.357}' ]
check "creator is us" [ "$(jq -r .creator "$T/out")" = "$PK1" ]
check "not incomplete" [ "$(jq -r .incomplete "$T/out")" = false ]
check "tag 消防" [ "$(jq -c .tags "$T/out")" = '["消防"]' ]
want 0 "second case (hotline label)" --home "$H1" case new --title 早市占道经营 \
	--category 占道经营 --source 12345热线 --priority 高 --ref 12345-20261123-0042
check "second id" [ "$(head -n1 "$T/out")" = XJK-ZDY-000002 ]
want 0 "case new --json" --home "$H1" --json case new --title 违法建设 --category 违法建设
check "case new --json id" [ "$(jq -r .id "$T/out")" = XJK-ZDY-000003 ]

want 0 "case list" --home "$H1" case list
check "list shows the title" grep -q "$TITLE" "$T/out"
check "list shows 紧急" grep -q 紧急 "$T/out"
want 0 "case list --json" --home "$H1" case list --json
check "list json has 3 cases" jq -e 'length == 3' "$T/out"
check "list json order" [ "$(jq -r '[.[].id] | join(",")' "$T/out")" = XJK-ZDY-000001,XJK-ZDY-000002,XJK-ZDY-000003 ]
want 0 "list --limit 1" --home "$H1" --json case list --limit 1
check "limit 1" jq -e 'length == 1' "$T/out"
want 0 "list --scope" --home "$H1" --json case list --scope $ZDY/g07
check "scope g07" jq -e 'length == 1 and .[0].id == "XJK-ZDY-000001"' "$T/out"

# ---- working it -------------------------------------------------------
want 0 "status in_progress" --home "$H1" case set XJK-ZDY-000001 --status in_progress
want 0 "show after set" --home "$H1" --json case show XJK-ZDY-000001
check "status in_progress" [ "$(jq -r .status "$T/out")" = in_progress ]
check "status label 处理中" [ "$(jq -r .status_label "$T/out")" = 处理中 ]
D=$(digest_of "$H1")
want 1 "invalid transition" --home "$H1" case set XJK-ZDY-000001 --status new --title 不应写入
check "transition message names both" grep -q 'in_progress.*new' "$T/err"
check "refused transition wrote nothing" [ "$(digest_of "$H1")" = "$D" ]
want 1 "unknown case" --home "$H1" case set XJK-ZDY-000009 --status closed
check "unknown case named" grep -q 'no case XJK-ZDY-000009' "$T/err"
want 0 "status + field together" --home "$H1" case set XJK-ZDY-000002 --status 已受理 --category 市容环境
want 0 "note" --home "$H1" case note XJK-ZDY-000001 "已联系物业，明早九点清理"
want 0 "tag add" --home "$H1" case tag XJK-ZDY-000001 --add 物业 --add 楼道
want 0 "tag remove" --home "$H1" case tag XJK-ZDY-000001 --remove 消防
D=$(digest_of "$H1")
want 1 "remove a missing tag" --home "$H1" case tag XJK-ZDY-000001 --remove 没有这个
check "missing tag named" grep -q '没有这个' "$T/err"
check "missing tag wrote nothing" [ "$(digest_of "$H1")" = "$D" ]
want 0 "move" --home "$H1" case move XJK-ZDY-000003 --path $ZDY/g03
want 0 "show after work" --home "$H1" --json case show XJK-ZDY-000001 --history
check "tags now" [ "$(jq -c '.tags | sort' "$T/out")" = "$(jq -cn '["物业","楼道"] | sort')" ]
check "one note" jq -e '.notes == 1' "$T/out"
check "history covers every op" jq -e '(.history | length) == .ops and .ops == 8' "$T/out"
check "history kinds in fold order" [ "$(jq -r '[.history[].kind] | join(",")' "$T/out")" = create,tag_add,keys,status,note,tag_add,tag_add,tag_remove ]
check "the reporter is sealed in the op, opened here" jq -e '(.history[0].fields | has("reporter") | not) and .reporter == "王阿姨" and .personal.state == "open"' "$T/out"
check "history effects applied" jq -e '[.history[].effect] | all(. == "applied")' "$T/out"
check "history at is ISO UTC ms" jq -e '.history[0].at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")' "$T/out"
check "history note text" jq -e '[.history[] | select(.kind == "note") | .fields.text] == ["已联系物业，明早九点清理"]' "$T/out"
check "history status from/to" jq -e '[.history[] | select(.kind == "status") | .fields] == [{"to":"in_progress","from":"new"}]' "$T/out"
want 0 "show --history text" --home "$H1" case show XJK-ZDY-000001 --history
check "text history: 本站" grep -q 本站 "$T/out"
check "text history: status change" grep -q '新建 → 处理中' "$T/out"
check "text: note shown" grep -q 已联系物业 "$T/out"
check "text: Chinese-first labels" grep -q '标题 Title' "$T/out"
want 0 "moved case" --home "$H1" --json case show XJK-ZDY-000003
check "moved path" [ "$(jq -r .path "$T/out")" = $ZDY/g03 ]

# ---- digest -----------------------------------------------------------
D1=$(digest_of "$H1")
check "digest is 64 hex" grep -Eqx '[0-9a-f]{64}' <<<"$D1"
check "digest stable" [ "$(digest_of "$H1")" = "$D1" ]
want 0 "digest --json" --home "$H1" --json digest
check "digest json" jq -e --arg d "$D1" '.digest == $d and .ops == 13 and .scope == ""' "$T/out"
want 0 "digest text has ops line" --home "$H1" digest
check "ops line" [ "$(sed -n 2p "$T/out")" = "ops: 13" ]
want 0 "digest --scope" --home "$H1" --json digest --scope $ZDY/g03
check "scoped digest counts the moved case" jq -e '.ops == 2' "$T/out"
check "WHISTLE_HOME" [ "$(WHISTLE_HOME=$H1 timeout 60 "$W" digest | head -n1)" = "$D1" ]
want 0 "status --json" --home "$H1" --json status
check "status json" jq -e --arg d "$D1" '.digest == $d and .cases == 3 and .ops == 13 and .code == "XJK-ZDY"' "$T/out"
want 0 "version" --version
check "version text" grep -q '^whistle [0-9]' "$T/out"

# ---- export / import ----------------------------------------------------
want 0 "hub init" --home "$H2" init --path xicheng/xinjiekou --code XJK
check "hub has another key" [ "$(timeout 60 "$W" --home "$H2" key show)" != "$PK1" ]
want 0 "export" --home "$H1" export -o "$T/zdy.ops"
check "export message" grep -q "exported 13 ops to $T/zdy.ops" "$T/err"
check "no tmp left" [ ! -e "$T/zdy.ops.tmp" ]
want 0 "export to stdout" --home "$H1" export
check "stdout export is the same ops" [ "$(wc -c <"$T/out")" -gt 100 ]
D2=$(digest_of "$H2")

head -c 300 "$T/zdy.ops" >"$T/truncated.ops"
cp "$T/zdy.ops" "$T/flipped.ops"
# byte 410 lies inside an op's bytes (not a length header), so only the
# checksum can notice the flip
printf '\x5a' | dd of="$T/flipped.ops" bs=1 seek=410 conv=notrunc 2>/dev/null
cmp -s "$T/zdy.ops" "$T/flipped.ops" && printf '\x5b' | dd of="$T/flipped.ops" bs=1 seek=410 conv=notrunc 2>/dev/null
cp "$H1/whistle.conf" "$T/notops.ops"
want 1 "import truncated" --home "$H2" import "$T/truncated.ops"
check "truncated message" grep -q 'truncated at byte' "$T/err"
want 1 "import bit flip" --home "$H2" import "$T/flipped.ops"
check "checksum message" grep -q 'checksum mismatch (file damaged)' "$T/err"
want 1 "import non-op file" --home "$H2" import "$T/notops.ops"
check "not an op file message" grep -q 'not a whistle op file' "$T/err"
want 1 "import missing file" --home "$H2" import "$T/absent.ops"
if command -v python3 >/dev/null; then
	# A valid container around an op whose signature no longer verifies:
	# the store must refuse the whole file.
	python3 - "$T/zdy.ops" "$T/forged.ops" <<'EOF'
import hashlib, sys
d = bytearray(open(sys.argv[1], 'rb').read())
n = len(d) - 36          # trailer: fixarray(2), fixint count, bin8 32
assert d[n] == 0x92 and d[n + 2] == 0xc4
d[n - 10] ^= 1           # inside the last op's signature
d[-32:] = hashlib.blake2b(bytes(d[:n]), digest_size=32).digest()
open(sys.argv[2], 'wb').write(d)
EOF
	want 1 "import forged signature" --home "$H2" import "$T/forged.ops"
	check "forged op named" grep -q 'op #13 at byte [0-9]*: signature does not verify' "$T/err"
fi
check "refused imports wrote nothing" [ "$(digest_of "$H2")" = "$D2" ]

want 0 "import" --home "$H2" import "$T/zdy.ops"
check "import counts" grep -q 'imported: 13 new, 0 already held' "$T/out"
check "digests equal after import" [ "$(digest_of "$H2")" = "$D1" ]
want 0 "import again --json" --home "$H2" --json import "$T/zdy.ops"
check "second import known" jq -e '.added == 0 and .known == 13' "$T/out"
# The same case on both, but for the personal data: the hub is not in the
# station's trust list, so it is no reader (docs/sealing.md).
for id in XJK-ZDY-000001 XJK-ZDY-000002 XJK-ZDY-000003; do
	timeout 60 "$W" --home "$H1" --json case show $id --history |
		jq -S 'del(.personal, .reporter, .contact)' >"$T/a.json"
	timeout 60 "$W" --home "$H2" --json case show $id --history |
		jq -S 'del(.personal, .reporter, .contact)' >"$T/b.json"
	check "case $id equal on both" cmp -s "$T/a.json" "$T/b.json"
done
want 0 "the hub's view of the reporter" --home "$H2" --json case show XJK-ZDY-000001
check "sealed for a hub the station does not trust" \
	jq -e '.personal.state == "sealed" and (has("reporter") | not)' "$T/out"
want 0 "hub sees it as not ours" --home "$H2" case show XJK-ZDY-000001 --history
check "hub shows the author's key prefix" grep -q "${PK1:0:8}" "$T/out"
want 0 "import from stdin" --home "$H2" import - <"$T/zdy.ops"

# the key file must be private
chmod 644 "$H1/key.secret"
want 1 "readable key refused" --home "$H1" key show
check "key message says chmod" grep -q 'chmod 600' "$T/err"
chmod 600 "$H1/key.secret"

# ---- bad arguments: exit 2, a message, nothing written -------------------
D1=$(digest_of "$H1")
L1=$(listing "$H1")
LONG=$(head -c 700 /dev/zero | tr '\0' x)
usage() {
	local desc=$1 pat=$2
	shift 2
	want 2 "$desc" "$@"
	grep -q -- "$pat" "$T/err" || bad "$desc: stderr lacks '$pat': $(err)"
	[ ! -s "$T/out" ] || bad "$desc: wrote to stdout"
}
usage "no command" "missing command"
usage "no command, home given" "missing command" --home "$H1"
usage "unknown command" "unknown command 'frobnicate'" --home "$H1" frobnicate
usage "unknown case subcommand" "unknown subcommand 'open'" --home "$H1" case open
usage "unknown option" "unknown option --colour" --home "$H1" case list --colour
usage "unknown global option" "unknown option --verbose" --verbose --home "$H1" status
usage "missing option value" "option --title needs a value" --home "$H1" case new --title
usage "missing --home value" "option --home needs a value" case list --home
usage "case new without --title" "--title is required" --home "$H1" case new --category x
usage "empty title" "empty title" --home "$H1" case new --title ''
usage "bad --priority" "--priority 'asap'" --home "$H1" case new --title t --priority asap
usage "bad --source" "--source 'tv'" --home "$H1" case new --title t --source tv
usage "bad --status" "--status 'done'" --home "$H1" case set XJK-ZDY-000001 --status done
usage "bad --grid" "--grid 'G 07'" --home "$H1" case new --title t --grid 'G 07'
usage "grid with slash" "--grid 'a/b'" --home "$H1" case new --title t --grid a/b
usage "malformed case id" "'XJK-ZDY-1x': not a case id" --home "$H1" case show XJK-ZDY-1x
usage "malformed case id (set)" "not a case id" --home "$H1" case set 000001 --status closed
usage "title of 700 bytes" "--title: too long (700 bytes)" --home "$H1" case new --title "$LONG"
usage "invalid UTF-8" "not valid UTF-8" --home "$H1" case new --title "$(printf 'ab\xffcd')"
usage "invalid UTF-8 note" "not valid UTF-8" --home "$H1" case note XJK-ZDY-000001 "$(printf '\xc3\x28')"
usage "--limit abc" "--limit 'abc': not a number" --home "$H1" case list --limit abc
usage "--limit negative" "--limit '-1'" --home "$H1" case list --limit -1
usage "--lat without --lon" "--lat and --lon go together" --home "$H1" case new --title t --lat 39.9
usage "--lat out of range" "--lat '95'" --home "$H1" case new --title t --lat 95 --lon 116
usage "--lat not a number" "--lat 'north'" --home "$H1" case new --title t --lat north --lon 116
usage "set with nothing" "nothing to change" --home "$H1" case set XJK-ZDY-000001
usage "option given twice" "--title given twice" --home "$H1" case new --title a --title b
usage "note without text" "missing note text" --home "$H1" case note XJK-ZDY-000001
usage "note, unquoted words" "unexpected argument" --home "$H1" case note XJK-ZDY-000001 two words
usage "tag with nothing" "nothing to do" --home "$H1" case tag XJK-ZDY-000001
usage "tag too long" "--add: too long" --home "$H1" case tag XJK-ZDY-000001 --add "$LONG"
usage "move bad path" "--path 'Not/Valid'" --home "$H1" case move XJK-ZDY-000001 --path Not/Valid
usage "digest bad scope" "--scope 'a//b'" --home "$H1" digest --scope a//b
usage "export bad scope" "--scope" --home "$H1" export -o "$T/x.ops" --scope /x
usage "--json with a value" "takes no value" --home "$H1" --json=yes status
usage "missing home" "pass --home DIR or set WHISTLE_HOME" case list
usage "missing home (write)" "pass --home DIR or set WHISTLE_HOME" case new --title t
usage "import without file" "missing FILE" --home "$H1" import
check "bad arguments wrote nothing (digest)" [ "$(digest_of "$H1")" = "$D1" ]
check "bad arguments wrote nothing (files)" [ "$(listing "$H1")" = "$L1" ]
check "no export file from a usage error" [ ! -e "$T/x.ops" ]

# runtime failures: exit 1
want 1 "home that does not exist" --home "$T/absent" case list
check "absent home named" grep -q "home $T/absent does not exist" "$T/err"
mkdir -p "$T/empty"
want 1 "home without a station" --home "$T/empty" status
check "uninitialised home named" grep -q 'whistle.conf missing' "$T/err"

# --help is not an error
want 0 "--help" --help
check "help lists commands" grep -q 'case' "$T/out"
want 0 "case new --help" --home "$H1" case new --help

# every JSON output parses (spot check of the ones not parsed above)
for args in "status" "digest" "case list --all" "key show" "version"; do
	# shellcheck disable=SC2086
	timeout 60 "$W" --home "$H1" --json $args >"$T/j" 2>/dev/null
	check "json: $args" jq -e . "$T/j" >/dev/null
done

echo "test_cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
