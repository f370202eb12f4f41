#!/bin/sh
# One table of settings (src/readreceipt/readreceipt-settings-table.h)
# makes the documentation's lists: the README's table of settings is what
# tests/unit/readreceipt-settings-doc prints, and the configuration
# templates name every setting once, in the same order.
set -eu
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
: "${top_srcdir:?run by make check}"
: "${top_builddir:?run by make check}"
doc=$top_builddir/tests/unit/readreceipt-settings-doc
readme=$top_srcdir/README.md

work=$(mktemp -d "${TMPDIR:-/tmp}/readreceipt-settings-doc.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$doc" >"$work/expected" || fail "$doc failed"
"$doc" --names >"$work/names" || fail "$doc --names failed"
[ "$(wc -l <"$work/names")" -ge 18 ] ||
	fail "the table has only these settings: $(cat "$work/names")"

# the README's table: from its header line to the first line after it
# that is not a table row
awk '/^\| setting \| values \| default \| meaning \|$/ { on = 1 }
     on && !/^\|/ { exit }
     on { print }' "$readme" >"$work/readme"
if ! cmp -s "$work/expected" "$work/readme"; then
	diff -u "$work/readme" "$work/expected" >&2 || :
	fail "README.md's table of settings differs from the code's; replace" \
		"it with the output of tests/unit/readreceipt-settings-doc"
fi

for conf in "$top_srcdir"/conf.d/dovecot-2.3/90-readreceipt.conf \
	    "$top_srcdir"/conf.d/dovecot-2.4/90-readreceipt.conf; do
	sed -n 's/^[[:space:]]*#\{0,1\}\(readreceipt_[a-z_]*\) =.*/\1/p' \
		"$conf" >"$work/conf"
	if ! cmp -s "$work/names" "$work/conf"; then
		diff -u "$work/conf" "$work/names" >&2 || :
		fail "$conf does not name every setting once, in the" \
			"documented order"
	fi
done
echo "README.md and conf.d/ list the $(wc -l <"$work/names") settings of the code"
