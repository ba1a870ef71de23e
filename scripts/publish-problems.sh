#!/usr/bin/env bash
#
# publish-problems.sh HOME FILE: publish a problem list (问题清单) kept as
# a TSV file through `whistle problems set`, one entry per line.
#
# `whistle problems publish FILE` now does this in one command and checks
# the whole file before writing anything; this script is kept for homes
# run by an older whistle. It
# publishes line by line: if a line is refused it stops there, names the
# line, and the lines before it stay published. Fix the line and run it
# again: lines already published unchanged write nothing (`problems set`
# is idempotent), so a rerun only adds what is new or changed. It never
# removes entries that are not in the file: use `whistle problems remove`.
#
# FILE: UTF-8, tab-separated, CR-LF or LF line ends. The first line is the
# header and must be exactly
#     category  lead  departments  report_within  resolve_within  text
# (tabs between). Then one entry per line, six fields, any of the last four
# may be empty:
#     departments      comma-separated (',' '，' or '、'), spaces trimmed
#     report_within    a duration: 30m, 2h, 24h, 7d, 15d
#     resolve_within   the same
#     text             free text (no tabs)
# Blank lines and lines starting with '#' are skipped.
# share/problems/xicheng-sample.tsv is an example.
#
# Every value goes to whistle as one argument of an array (never through
# eval or word splitting), so quotes, '$(...)', '*' and spaces in the file
# arrive as typed.
#
# env: WHISTLE  the whistle binary (default: whistle on PATH)
# exit: 0 all published; 1 a line was refused or whistle failed; 2 usage
#       or a malformed file.
set -u

if [ $# -ne 2 ]; then
	echo "usage: publish-problems.sh HOME FILE" >&2
	exit 2
fi
home=$1
file=$2
whistle=${WHISTLE:-whistle}
[ -r "$file" ] || { echo "publish-problems: cannot read $file" >&2; exit 2; }

tab=$'\t'
want_header="category${tab}lead${tab}departments${tab}report_within${tab}resolve_within${tab}text"

# split_line LINE: the tab-separated fields into the array F. Done by
# hand: `read` with IFS=tab would merge empty fields (tab is IFS
# whitespace).
split_line() {
	local rest=$1
	F=()
	while [[ $rest == *"$tab"* ]]; do
		F+=("${rest%%"$tab"*}")
		rest=${rest#*"$tab"}
	done
	F+=("$rest")
}

trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

n=0
published=0
while IFS= read -r line || [ -n "$line" ]; do
	n=$((n + 1))
	line=${line%$'\r'}
	if [ "$n" = 1 ]; then
		line=${line#$'\xef\xbb\xbf'} # a BOM from spreadsheet exports
		if [ "$line" != "$want_header" ]; then
			echo "publish-problems: $file:1: header must be: $want_header" >&2
			exit 2
		fi
		continue
	fi
	[ -z "$(trim "$line")" ] && continue
	[ "${line:0:1}" = "#" ] && continue
	split_line "$line"
	if [ ${#F[@]} -ne 6 ]; then
		echo "publish-problems: $file:$n: ${#F[@]} fields, want 6 (tab-separated)" >&2
		exit 2
	fi
	category=$(trim "${F[0]}")
	lead=$(trim "${F[1]}")
	args=(problems set --lead "$lead")
	depts=${F[2]//，/,}
	depts=${depts//、/,}
	IFS=, read -r -a dl <<<"$depts"
	for d in "${dl[@]}"; do
		d=$(trim "$d")
		[ -n "$d" ] && args+=(--dept "$d")
	done
	rw=$(trim "${F[3]}")
	sw=$(trim "${F[4]}")
	text=$(trim "${F[5]}")
	[ -n "$rw" ] && args+=(--report-within "$rw")
	[ -n "$sw" ] && args+=(--resolve-within "$sw")
	[ -n "$text" ] && args+=(--text "$text")
	# The category last, after --: a field is data, and one like
	# "--home=DIR" must not act as an option of whistle.
	args+=(-- "$category")
	if ! "$whistle" --home "$home" "${args[@]}"; then
		echo "publish-problems: $file:$n: refused (category '$category'); lines before it are published" >&2
		exit 1
	fi
	published=$((published + 1))
done <"$file"
echo "publish-problems: $published entries from $file" >&2
