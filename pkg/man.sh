#!/usr/bin/env bash
#
# man.sh: the man pages, made at build time from what they document, so
# they cannot drift from it:
#   whistle(1)           from `whistle --help`
#   whistle-CMD(1)       one per command of `whistle help`'s table, from
#                        `whistle CMD --help`, and for a command group
#                        (case, problems, roster, authority) every
#                        `whistle CMD SUB --help` of its table too
#   whistle.conf(5)      from docs/config.md (a small Markdown subset:
#                        headings, paragraphs, lists, tables, code)
# Each page is written gzip -9n (as Debian ships them) under OUT/man1 and
# OUT/man5; OUT/stamp is touched last.
#
# usage: man.sh /path/to/whistle OUT VERSION docs/config.md
set -euo pipefail
W=$1 OUT=$2 VERSION=$3 CONFMD=$4
unset WHISTLE_HOME WHISTLE_CONFIG
export LC_ALL=C.UTF-8
rm -rf "$OUT/man1" "$OUT/man5"
mkdir -p "$OUT/man1" "$OUT/man5"

# Help text as roff, shown as it is (no filling): backslashes escaped,
# a leading '.' or "'" made literal, '-' the ASCII minus that options
# need when copied from the page.
pre() {
	echo ".nf"
	sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
	echo ".fi"
}

# The commands and their one-line summaries from the table of `whistle help`.
table() {
	"$W" help | awk '/^commands:/ { on = 1; next }
		on && /^  [a-z]/ { name = $1; $1 = ""; sub(/^ +/, ""); print name "\t" $0; next }
		on { exit }'
}

# The subcommands a group's --help lists ("  case new  ...").
subs() {
	"$W" "$1" --help | awk -v g="$1" '$0 ~ "^  " g " +[a-z][a-z-]* " { print $2 }'
}

page() { # NAME SECTION -> stdin to OUT/manS/NAME.S.gz
	gzip -9n >"$OUT/man$2/$1.$2.gz"
}

th() { # NAME SECTION
	echo ".TH \"$(echo "$1" | tr a-z A-Z)\" \"$2\" \"\" \"whistle $VERSION\" \"Whistle manual\""
}

cmds=$(table)
[ -n "$cmds" ] || { echo "man.sh: no command table in 'whistle help'" >&2; exit 1; }

# ---- whistle(1) ----------------------------------------------------------------
{
	th whistle 1
	echo ".SH NAME"
	echo "whistle \\- offline sync agent for community stations' cases"
	echo ".SH SYNOPSIS"
	"$W" --help | pre
	echo ".SH COMMANDS"
	while IFS=$'\t' read -r c h; do
		[ "$c" = help ] && continue
		echo ".TP"
		echo ".BR whistle\\-$c (1)"
		printf '%s\n' "$h" | sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
	done <<<"$cmds"
	echo ".SH FILES"
	echo ".TP"
	echo ".I /etc/whistle/whistle.conf"
	echo "the packaged configuration, see"
	echo ".BR whistle.conf (5)"
	echo ".TP"
	echo ".I /var/lib/whistle"
	echo "the packaged station home: key, store, trust list"
	echo ".SH ENVIRONMENT"
	echo ".TP"
	echo ".B WHISTLE_HOME"
	echo "the station home when \\-\\-home is not given"
	echo ".TP"
	echo ".B WHISTLE_CONFIG"
	echo "the config file when \\-\\-config is not given"
	echo ".SH SEE ALSO"
	sep=""
	while IFS=$'\t' read -r c h; do
		[ "$c" = help ] && continue
		printf '%s.BR whistle\\-%s (1)' "$sep" "$c"
		sep=$',\n'
	done <<<"$cmds"
	printf ',\n.BR whistle.conf (5)\n'
} | page whistle 1

# ---- whistle-CMD(1) ----------------------------------------------------------------
while IFS=$'\t' read -r c h; do
	[ "$c" = help ] && continue
	{
		th "whistle-$c" 1
		echo ".SH NAME"
		printf 'whistle\\-%s \\- %s\n' "$c" "$(printf '%s' "$h" | sed 's/\\/\\e/g')"
		echo ".SH SYNOPSIS AND DESCRIPTION"
		"$W" "$c" --help | pre
		s=$(subs "$c")
		if [ -n "$s" ]; then
			echo ".SH SUBCOMMANDS"
			for sub in $s; do
				echo ".SS \"whistle $c $sub\""
				"$W" "$c" "$sub" --help | pre
			done
		fi
		echo ".SH SEE ALSO"
		echo ".BR whistle (1),"
		echo ".BR whistle.conf (5)"
	} | page "whistle-$c" 1
done <<<"$cmds"

# ---- whistle.conf(5) from docs/config.md -------------------------------------------
{
	th whistle.conf 5
	awk '
	function inline(s) {
		gsub(/\\/, "\\e", s)
		gsub(/-/, "\\-", s)
		# [text](link) -> text
		while (match(s, /\[[^]]*\]\([^)]*\)/)) {
			t = substr(s, RSTART + 1, RLENGTH - 1)
			sub(/\]\(.*/, "", t)
			s = substr(s, 1, RSTART - 1) t substr(s, RSTART + RLENGTH)
		}
		# `code` -> bold
		while (match(s, /`[^`]*`/))
			s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 1, RLENGTH - 2) "\\fR" substr(s, RSTART + RLENGTH)
		if (s ~ /^[.'\'']/)
			s = "\\&" s
		return s
	}
	function cell(s) { gsub(/^ +| +$/, "", s); return inline(s) }
	NR == 1 && /^# / {
		sub(/^# [^:]*: */, "")
		print ".SH NAME"
		print "whistle.conf \\- " inline($0)
		print ".SH DESCRIPTION"
		next
	}
	/^```/ { next }
	/^    / && !inlist {
		if (!code) { print ".PP"; print ".RS"; print ".nf"; code = 1 }
		sub(/^    /, ""); print inline($0); next
	}
	code { print ".fi"; print ".RE"; code = 0 }
	/^## / { sub(/^## /, ""); print ".SH " toupper(inline($0)); inlist = 0; next }
	/^### / { sub(/^### /, ""); print ".SS " inline($0); inlist = 0; next }
	/^\|/ {
		n = split($0, f, "|")
		if ($0 ~ /^\|[-| ]+\|$/) next
		if (f[2] ~ /^ *key *$/) next
		print ".TP"
		print cell(f[2]) " (default: " cell(f[3]) ")"
		print cell(f[4])
		next
	}
	/^- / { sub(/^- /, ""); print ".IP \\(bu 2"; print inline($0); inlist = 1; next }
	/^[0-9]+\. / { n = $1; sub(/^[0-9]+\. /, ""); print ".IP " n " 4"; print inline($0); inlist = 1; next }
	/^$/ { print ".PP"; inlist = 0; next }
	/^  / && inlist { sub(/^ +/, ""); print inline($0); next }
	{ if (inlist) { print ".PP"; inlist = 0 } print inline($0) }
	END { if (code) { print ".fi"; print ".RE" } }
	' "$CONFMD"
} | page whistle.conf 5

touch "$OUT/stamp"
