#!/bin/sh
# One definition per name: each keyword and reason of
# src/readreceipt/readreceipt-names.h is written as a string literal there
# and nowhere else in src/ (comments do not count).
set -eu
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
: "${top_srcdir:?run by make check}"
names=$top_srcdir/src/readreceipt/readreceipt-names.h
# Files not checked (none: every file uses the header).
pending_files=""

literals=$(sed -n 's/^#define READRECEIPT_[A-Z_]* \("[^"]*"\)$/\1/p' "$names")
[ "$(echo "$literals" | wc -l)" -ge 20 ] ||
	fail "found only these names in $names: $literals"
[ "$(echo "$literals" | sort | uniq -d)" = "" ] ||
	fail "a name is defined twice in $names"

work=$(mktemp -d "${TMPDIR:-/tmp}/readreceipt-names.XXXXXX")
trap 'rm -rf "$work"' EXIT
for src in $(find "$top_srcdir/src" -name '*.[ch]' | sort); do
	base=$(basename "$src")
	[ "$src" != "$names" ] || continue
	case " $pending_files " in
	*" $base "*) continue ;;
	esac
	# the code without comments, includes not expanded
	# event field names (add_str("user", ...), the log line's "user=")
	# are keys, and header values (Precedence: bulk) are the sender's
	# words, not the names of the header
	${CPP:-cpp} -fpreprocessed -dD -P "$src" 2>/dev/null |
		sed -e 's/add_str("[a-z_]*"/add_str(/g' \
		    -e 's/_event_append(str, "[a-z_]*"/_event_append(str, /g' \
		    -e 's/strcasecmp(token, "[a-z_]*")/strcasecmp(token, )/g' \
		>"$work/code" || fail "cannot read $src"
	echo "$literals" | while IFS= read -r lit; do
		if grep -F -- "$lit" "$work/code" >/dev/null; then
			echo "$src: $lit (use the define of readreceipt-names.h)"
		fi
	done >>"$work/found"
done
if [ -s "$work/found" ]; then
	cat "$work/found" >&2
	fail "names written again outside $names"
fi
echo "$(echo "$literals" | wc -l) names, each written once"
