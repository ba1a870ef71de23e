#!/usr/bin/env bash
#
# test_package.sh: installing Whistle on a station PC (pkg/). cpack builds
# the .deb from this build tree; its file list is exactly the binary, the
# unit, the sysusers entry, the default config, one man page per command
# of `whistle help` plus whistle(1) and whistle.conf(5), and the docs; its
# metadata (name, version, architecture, Depends covering every library
# the binary links, the conffile, maintainer scripts that parse); the
# extracted binary runs; every option of every --help is in its man page
# and the pages render without warnings; the unit passes `systemd-analyze
# verify` and an offline security review (skipped, saying so, where
# systemd-analyze is missing); `cmake --install --prefix DIR` and
# `DESTDIR=... cmake --install --prefix /usr` lay out the same files.
#
# Then, as root where unshare and overlayfs work, the package is really
# installed with dpkg in a throwaway mount namespace whose /etc, /usr
# and /var are overlays (nothing reaches this machine): the user and its
# home are made, the station is initialised through the packaged config,
# the agent runs as that user as the unit runs it, a bad config line is
# refused by line, remove keeps the station and purge deletes it.
#
# usage: bash test_package.sh /path/to/whistle /path/to/build/tests
set -u
. "$(dirname "$0")/lib.sh"
lib_begin test_package "$@"
B=$(dirname "$TB")
SRC=$(cd "$(dirname "$0")/../.." && pwd)

for tool in cpack dpkg-deb dpkg; do
	command -v $tool >/dev/null || { skip "$tool not found: cannot build or read a .deb"; lib_end; }
done
[ -f "$B/CPackConfig.cmake" ] || die "no $B/CPackConfig.cmake: not a configured build tree"

# eq DESC GOT WANT
eq() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi; }
# same_list DESC FILE1 FILE2: two sorted lists, equal (the diff if not)
same_list() {
	if diff -u "$2" "$3" >"$T/diff" 2>&1; then ok; else bad "$1: $(head -c 1500 "$T/diff")"; fi
}

VERSION=$("$W" --version | awk '{print $2}')
ARCH=$(dpkg --print-architecture)
# The commands, from the binary's own table: one man page each.
CMDS=$("$W" help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1; next } on { exit }' | grep -vx help)
[ -n "$CMDS" ] || die "no command table in 'whistle help'"

# ---- cpack ---------------------------------------------------------------
if ! (cd "$B" && timeout 300 cpack -G DEB --config "$B/CPackConfig.cmake" -B "$T/cpack" \
	-D CPACK_OUTPUT_FILE_PREFIX="$T/out") >"$T/cpack.log" 2>&1; then
	die "cpack failed: $(tail -n 20 "$T/cpack.log")"
fi
DEB=$(ls "$T"/out/whistle_*.deb 2>/dev/null)
eq ".deb named by Debian's rule" "$(basename "$DEB")" "whistle_${VERSION}-1_${ARCH}.deb"
[ -f "$DEB" ] || die "no .deb in $T/out"

# ---- the file list ---------------------------------------------------------
{
	echo ./etc/whistle/whistle.conf
	echo ./usr/bin/whistle
	echo ./usr/lib/systemd/system/whistle.service
	echo ./usr/lib/sysusers.d/whistle.conf
	echo ./usr/share/doc/whistle/README.md
	echo ./usr/share/doc/whistle/config.md
	echo ./usr/share/doc/whistle/guide.md
	echo ./usr/share/man/man1/whistle.1.gz
	echo ./usr/share/man/man5/whistle.conf.5.gz
	for c in $CMDS; do echo "./usr/share/man/man1/whistle-$c.1.gz"; done
} | sort >"$T/want.list"
dpkg-deb -c "$DEB" >"$T/deb.contents"
awk '$1 !~ /^d/ { print $6 }' "$T/deb.contents" | sort >"$T/deb.list"
same_list "the .deb holds exactly the expected files" "$T/deb.list" "$T/want.list"
check "man pages: one per command ($(echo $CMDS | wc -w))" [ "$(grep -c '/man1/whistle-' "$T/deb.list")" = "$(echo $CMDS | wc -w)" ]
check "everything owned by root" [ -z "$(awk '$2 != "root/root"' "$T/deb.contents")" ]
check "binary mode 0755" grep -Eq '^-rwxr-xr-x .* \./usr/bin/whistle$' "$T/deb.contents"
check "config mode 0644" grep -Eq '^-rw-r--r-- .* \./etc/whistle/whistle.conf$' "$T/deb.contents"
check "no setuid or setgid file" [ -z "$(awk '$1 ~ /[sS]/' "$T/deb.contents")" ]

# ---- metadata --------------------------------------------------------------
f() { dpkg-deb -f "$DEB" "$1"; }
eq "Package" "$(f Package)" whistle
eq "Version" "$(f Version)" "$VERSION-1"
eq "Architecture" "$(f Architecture)" "$ARCH"
eq "Section" "$(f Section)" net
check "Maintainer set" [ -n "$(f Maintainer)" ]
check "Description names the unit" grep -q whistle.service <<<"$(f Description)"
DEPENDS=$(f Depends)
for p in libc6 libsodium23 libzmq5 liblmdb0 libzstd1 libjansson4; do
	check "Depends: $p" grep -Eq "(^|, )$p( |,|$)" <<<"$DEPENDS"
done
# every library the binary links is provided by a package it depends on
mkdir -p "$T/ctl" "$T/root"
dpkg-deb -x "$DEB" "$T/root"
dpkg-deb -e "$DEB" "$T/ctl"
if command -v readelf >/dev/null; then
	for lib in $(readelf -d "$T/root/usr/bin/whistle" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
		owner=$(dpkg -S "*/$lib" 2>/dev/null | head -n1 | cut -d: -f1)
		if [ -z "$owner" ]; then
			bad "no installed package holds $lib"
		else
			check "$lib ($owner) is depended on" grep -Eq "(^|, )$owner( |,|$)" <<<"$DEPENDS"
		fi
	done
fi
eq "conffiles" "$(cat "$T/ctl/conffiles")" /etc/whistle/whistle.conf
for s in postinst prerm postrm; do
	check "$s is executable" test -x "$T/ctl/$s"
	check "$s parses (sh -n)" sh -n "$T/ctl/$s"
done
check "postinst makes the user" grep -q 'systemd-sysusers\|useradd' "$T/ctl/postinst"
check "postrm deletes the home only on purge" awk '/"\$1" = purge/ { p = 1 } /rm -rf \/var\/lib\/whistle/ { exit !p }' "$T/ctl/postrm"

# ---- what was extracted -----------------------------------------------------
R=$T/root
eq "extracted binary runs" "$("$R/usr/bin/whistle" --version)" "whistle $VERSION"
check "extracted binary is stripped" sh -c "! readelf -S '$R/usr/bin/whistle' | grep -q '\.debug_info'"
# the shipped config reads (the station's lines are missing, nothing else)
mkdir -p "$T/h0"
"$R/usr/bin/whistle" --config "$R/etc/whistle/whistle.conf" --home "$T/h0" status >"$T/st.out" 2>"$T/st.err"
eq "shipped config: only the station missing" "$?:$(cat "$T/st.err")" \
	"1:whistle: status: $R/etc/whistle/whistle.conf: 'code' missing (run 'whistle init')"
check "shipped config names the packaged home" grep -qx 'home = /var/lib/whistle' "$R/etc/whistle/whistle.conf"

# man pages: each one for its command, every option of its --help in it
for c in $CMDS; do
	page=$R/usr/share/man/man1/whistle-$c.1.gz
	zcat "$page" >"$T/page" 2>/dev/null || { bad "whistle-$c.1.gz does not unzip"; continue; }
	check "whistle-$c(1) .TH" grep -q "^\.TH \"WHISTLE-${c^^}\" \"1\"" "$T/page"
	missing=
	for o in $("$W" "$c" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -qF -- "${o//-/\\-}" "$T/page" || missing="$missing $o"
	done
	eq "whistle-$c(1) has every option of its --help" "${missing# }" ""
done
zcat "$R/usr/share/man/man1/whistle.1.gz" >"$T/page"
for c in $CMDS; do
	grep -qF "whistle\\-$c (1)" "$T/page" || bad "whistle(1) does not name whistle-$c(1)"
done
ok
zcat "$R/usr/share/man/man5/whistle.conf.5.gz" >"$T/page"
# every key the parser takes is documented, and only those
keys=$({
	grep -oE '\{"[a-z_]+", conf->' "$SRC/agent/home.c"
	grep -oE '!strcmp\(k, "[a-z_]+"\)' "$SRC/agent/home.c"
} | grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
[ -n "$keys" ] || bad "no keys found in agent/home.c"
for k in $keys; do
	grep -qE "^\\| \`$k\` \\|" "$SRC/docs/config.md" || bad "key '$k' not in docs/config.md's table"
	grep -qF "\fB$k\fR (default:" "$T/page" || bad "key '$k' not in whistle.conf(5)"
done
ok
if command -v groff >/dev/null && command -v preconv >/dev/null; then
	for p in "$R"/usr/share/man/man*/*.gz; do
		zcat "$p" | preconv | groff -man -Tutf8 -ww -z >"$T/groff" 2>&1
		if [ -s "$T/groff" ]; then bad "$(basename "$p"): $(head -n3 "$T/groff")"; fi
	done
	ok
else
	skip "groff or preconv not found: man pages not rendered"
fi

# ---- the unit -------------------------------------------------------------------
U=$R/usr/lib/systemd/system/whistle.service
check "unit: ExecStart runs the packaged agent" grep -qx 'ExecStart=/usr/bin/whistle --config /etc/whistle/whistle.conf agent' "$U"
check "unit: its own user" grep -qx 'User=whistle' "$U"
check "unit: home under /var/lib" grep -qx 'StateDirectory=whistle' "$U"
check "unit: restart on failure" grep -qx 'Restart=on-failure' "$U"
for h in ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes PrivateTmp=yes MemoryDenyWriteExecute=yes; do
	check "unit: $h" grep -qx "$h" "$U"
done
if command -v systemd-analyze >/dev/null; then
	# The packaged binary is not installed here: point the copy at the
	# extracted one (and man at the extracted pages, for Documentation=).
	sed "s|^ExecStart=/usr/bin/whistle|ExecStart=$R/usr/bin/whistle|" "$U" >"$T/whistle.service"
	MANPATH=$R/usr/share/man systemd-analyze verify "$T/whistle.service" >"$T/verify" 2>&1
	eq "systemd-analyze verify: exit 0, nothing to say" "$?:$(cat "$T/verify")" "0:"
	if systemd-analyze security --offline=yes --threshold=20 "$T/whistle.service" >"$T/security" 2>&1; then
		ok
	else
		bad "exposure above 2.0: $(grep -i 'overall' "$T/security")"
	fi
	say "$(grep -i 'overall exposure' "$T/security")"
	# the same review fails a unit without the hardening: it can fail
	grep -vE '^(Protect|Private|Restrict|NoNew|Memory|Lock|SystemCall|Capability|Ambient|UMask|RemoveIPC|ProcSubset)' \
		"$T/whistle.service" >"$T/soft.service"
	check "the review tells a soft unit" sh -c "! systemd-analyze security --offline=yes --threshold=20 '$T/soft.service' >/dev/null 2>&1"
else
	skip "systemd-analyze not found (Debian package systemd): unit not verified"
fi

# ---- make install -----------------------------------------------------------
timeout 120 cmake --install "$B" --prefix "$T/prefix" >"$T/install.log" 2>&1 || bad "cmake --install --prefix: $(tail -n5 "$T/install.log")"
(cd "$T/prefix" && find . -type f) | sed -e 's|^\./etc/|./etc/|' -e 's|^\./\([^e]\)|./usr/\1|' | sort >"$T/prefix.list"
same_list "cmake --install --prefix DIR lays out the same files" "$T/prefix.list" "$T/want.list"
check "prefix unit names the prefix" grep -qx "ExecStart=$T/prefix/bin/whistle --config $T/prefix/etc/whistle/whistle.conf agent" \
	"$T/prefix/lib/systemd/system/whistle.service"
DESTDIR=$T/dd timeout 120 cmake --install "$B" --prefix /usr >"$T/install2.log" 2>&1 || bad "DESTDIR install: $(tail -n5 "$T/install2.log")"
(cd "$T/dd" && find . -type f) | sort >"$T/dd.list"
same_list "DESTDIR=... cmake --install --prefix /usr: the .deb's files" "$T/dd.list" "$T/want.list"
check "DESTDIR unit is the .deb's" cmp "$T/dd/usr/lib/systemd/system/whistle.service" "$U"
check "installed man pages are the .deb's" cmp "$T/dd/usr/share/man/man1/whistle-agent.1.gz" "$R/usr/share/man/man1/whistle-agent.1.gz"

# ---- a real install, in a throwaway mount namespace --------------------------------
ns_ok=
if [ "$(id -u)" != 0 ]; then
	skip "not root: the package is not installed with dpkg (the rest ran)"
elif ! command -v unshare >/dev/null; then
	skip "no unshare: the package is not installed with dpkg"
elif ! unshare --mount --fork sh -c "mount -t tmpfs tmpfs '$T/cpack' && mkdir '$T/cpack/u' '$T/cpack/w' &&
	mount -t overlay overlay -o lowerdir=/etc,upperdir='$T/cpack/u',workdir='$T/cpack/w' /etc" 2>"$T/ov.err"; then
	skip "overlayfs in a mount namespace does not work here ($(head -c 200 "$T/ov.err")): not installed with dpkg"
else
	ns_ok=1
fi
if [ -n "$ns_ok" ]; then
	# The inner script writes PASS/FAIL lines; nothing it does outlives
	# the namespace but those lines and the logs in $T.
	cat >"$T/inner.sh" <<'INNER'
set -u
T=$1 DEB=$2
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }
t() { local d=$1; shift; if "$@" >/dev/null 2>&1; then pass "$d"; else fail "$d"; fi; }
mount -t tmpfs tmpfs "$T/ov" || { echo "FAIL tmpfs"; exit 1; }
for d in etc usr var; do
	mkdir -p "$T/ov/$d.u" "$T/ov/$d.w"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$T/ov/$d.u,workdir=$T/ov/$d.w" "/$d" ||
		{ echo "FAIL overlay on /$d"; exit 1; }
	# never install on the real system
	[ "$(findmnt -n -o FSTYPE "/$d")" = overlay ] || { echo "FAIL /$d is not the overlay"; exit 1; }
done
# A /run of its own: no systemd seems to run (the maintainer scripts
# must do without), and none on this machine is told anything.
mount -t tmpfs tmpfs /run || { echo "FAIL tmpfs on /run"; exit 1; }
[ ! -d /run/systemd/system ] || { echo "FAIL /run/systemd/system still there"; exit 1; }
W=/usr/bin/whistle C=/etc/whistle/whistle.conf
if getent passwd whistle >/dev/null; then echo "FAIL a whistle user exists before the install"; exit 1; fi
t "dpkg -i" dpkg -i "$DEB"
dpkg -i "$DEB" >"$T/dpkg-i.log" 2>&1 # again: an upgrade in place must work too
t "dpkg -i again (reinstall)" test $? = 0
t "status: installed" sh -c "dpkg -s whistle | grep -qx 'Status: install ok installed'"
t "user whistle: home /var/lib/whistle" sh -c "getent passwd whistle | cut -d: -f6 | grep -qx /var/lib/whistle"
t "user whistle: no login shell" sh -c "getent passwd whistle | cut -d: -f7 | grep -q nologin"
t "user whistle: a system uid" sh -c "[ \$(id -u whistle) -lt 1000 ]"
t "group whistle" getent group whistle
t "home owned by whistle, 0700" sh -c "[ \"\$(stat -c '%U:%G %a' /var/lib/whistle)\" = 'whistle:whistle 700' ]"
if command -v deb-systemd-helper >/dev/null; then
	t "unit enabled" test -L /etc/systemd/system/multi-user.target.wants/whistle.service
fi
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify /usr/lib/systemd/system/whistle.service 2>&1)
	t "installed unit verifies (user and binary real): '$out'" test -z "$out"
fi
t "man finds whistle-agent(1)" sh -c "! command -v man || man -w whistle-agent | grep -q whistle-agent.1"
# the station, made as the packaged config says
$W --config $C init --path xicheng/xinjiekou/zhaodengyu --name 赵登禹社区 >"$T/init.log" 2>&1
t "init through the packaged config" test $? = 0
t "config kept its comments" grep -q '^# Make this PC a station once' $C
t "config got the station" grep -qx 'path = xicheng/xinjiekou/zhaodengyu' $C
t "key owned by whistle, 0600" sh -c "[ \"\$(stat -c '%U %a' /var/lib/whistle/key.secret)\" = 'whistle 600' ]"
t "store owned by whistle" sh -c "[ \"\$(stat -c '%U' /var/lib/whistle/store /var/lib/whistle/store/data.mdb /var/lib/whistle/store/lock.mdb | sort -u)\" = whistle ]"
t "init refuses a second time" sh -c "! $W --config $C init --path xicheng/xinjiekou/x"
err=$($W --config $C status 2>&1)
t "root is sent to the service's user: $err" test "$err" = "whistle: status: home /var/lib/whistle belongs to whistle: run this as that user (sudo -u whistle whistle ...), not as root"
t "agent --check as whistle" sh -c "runuser -u whistle -- $W --config $C agent --check | grep -q 'configuration OK'"
# as the unit runs it: the service's user, its config, stderr to a file
# (setpriv execs: the pid is the agent's)
setpriv --reuid=whistle --regid=whistle --init-groups --no-new-privs -- \
	$W --config $C agent >"$T/agent.log" 2>&1 &
apid=$!
trap 'kill -KILL $apid 2>/dev/null' EXIT
for i in $(seq 50); do grep -q 'agent started' "$T/agent.log" && break; sleep 0.1; done
t "agent runs as whistle: <6> log line" grep -Eq '^<6>whistle\[[0-9]+\]: info: agent started: zhaodengyu' "$T/agent.log"
t "status sees it" sh -c "runuser -u whistle -- $W --config $C --json status | grep -q '\"running\":true'"
kill -TERM $apid; wait $apid
t "agent stops with exit 0" test $? = 0
n=$(($(wc -l <$C) + 1))
echo "peers = xinjiekou-hub" >>$C
err=$(runuser -u whistle -- $W --config $C agent --check 2>&1)
t "bad line refused with file, line and key: $err" test "$err" = "whistle: agent: $C:$n: 'peers' is not a key whistle knows (docs/config.md lists them)"
sed -i '$d' $C
t "dpkg -r" dpkg -r whistle
t "remove: binary gone" test ! -e $W
t "remove: station kept" test -s /var/lib/whistle/key.secret
t "remove: config kept" grep -q '^path = ' $C
t "dpkg -P" dpkg -P whistle
t "purge: home gone" test ! -e /var/lib/whistle
t "purge: config gone" test ! -e /etc/whistle
t "purge: user kept" getent passwd whistle
# Without systemd-sysusers (a machine without systemd): useradd makes
# the user. /dev/null over it is not executable, so command -v misses it.
userdel whistle >/dev/null 2>&1
if [ -e /usr/bin/systemd-sysusers ]; then
	mount --bind /dev/null /usr/bin/systemd-sysusers
fi
t "dpkg -i without systemd-sysusers" dpkg -i "$DEB"
t "useradd made a system user with the home" sh -c "getent passwd whistle | cut -d: -f6 | grep -qx /var/lib/whistle && [ \$(id -u whistle) -lt 1000 ]"
t "and its home" sh -c "[ \"\$(stat -c '%U:%G %a' /var/lib/whistle)\" = 'whistle:whistle 700' ]"
t "dpkg -P again" dpkg -P whistle
INNER
	mkdir -p "$T/ov"
	user_before=$(getent passwd whistle)
	bin_before=$(ls -l --time-style=+%s /usr/bin/whistle 2>&1)
	dpkg_before=$(dpkg-query -W -f='${Status}' whistle 2>&1)
	timeout 300 unshare --mount --fork bash "$T/inner.sh" "$T" "$DEB" >"$T/ns.out" 2>"$T/ns.err"
	while read -r verdict desc; do
		case $verdict in
		PASS) ok ;;
		FAIL) bad "installed: $desc" ;;
		esac
	done <"$T/ns.out"
	n=$(grep -c '^PASS' "$T/ns.out")
	check "the install ran to the end ($n checks passed)" grep -q '^PASS purge: user kept' "$T/ns.out"
	[ -s "$T/ns.err" ] && say "namespace stderr: $(head -c 500 "$T/ns.err")"
	eq "this machine's users untouched" "$(getent passwd whistle)" "$user_before"
	eq "this machine's /usr/bin untouched" "$(ls -l --time-style=+%s /usr/bin/whistle 2>&1)" "$bin_before"
	eq "this machine's dpkg untouched" "$(dpkg-query -W -f='${Status}' whistle 2>&1)" "$dpkg_before"
fi

lib_end
