#!/bin/bash
# "make check" is for any user: on a clean copy of this tree owned by an
# unprivileged user, that user configures, builds and runs it, once as
# configured normally (every test passes) and once with cmocka hidden from
# configure (the modules build, the unit tests are skipped with a notice,
# the other checks still pass). scripts/test.sh runs it as root.
#   RR_CHECK_USER=nobody   the unprivileged user
set -euo pipefail
# shellcheck source=SCRIPTDIR/deps.sh
. "$(dirname "$0")/deps.sh"
rr_require_root

user=${RR_CHECK_USER:-nobody}
work=$(mktemp -d /tmp/readreceipt-user.XXXXXX)
trap 'rm -rf "$work"' EXIT
rr_clean_copy "$work/src"
chown -R "$user" "$work"

fail() {
	echo "check-unprivileged: FAILED: $*" >&2
	exit 1
}

as_user() {
	(cd "$work/src" && runuser -u "$user" -- env HOME="$work" "$@")
}

as_user ./autogen.sh >"$work/autogen.log" 2>&1 ||
	{ cat "$work/autogen.log"; fail "autogen.sh"; }
for cmocka in yes no; do
	# no cmocka: pkg-config finds no .pc file at all
	pc=()
	[ "$cmocka" = yes ] || pc=(PKG_CONFIG_LIBDIR=/nonexistent)
	as_user env "${pc[@]}" ./configure -q --with-dovecot=/usr/lib/dovecot \
		>"$work/configure.log" 2>&1 ||
		{ cat "$work/configure.log"; fail "configure (cmocka: $cmocka)"; }
	as_user make -s -j"$(nproc)" >"$work/make.log" 2>&1 ||
		{ cat "$work/make.log"; fail "make (cmocka: $cmocka)"; }
	as_user make check >"$work/check.log" 2>&1 ||
		{ cat "$work/check.log"; fail "make check as $user (cmocka: $cmocka)"; }
	grep -E '^# (TOTAL|PASS|FAIL):' "$work/check.log" | tr '\n' ' '
	echo "(as $user, cmocka: $cmocka)"
	if [ "$cmocka" = no ]; then
		grep 'cmocka .*not found' "$work/configure.log" >/dev/null ||
			fail "configure said nothing about the missing cmocka"
		grep '^unit tests skipped: ' "$work/check.log" ||
			fail "make check did not say that the unit tests were skipped"
		if grep '^PASS: tests/unit/test-readreceipt' "$work/check.log"; then
			fail "cmocka tests ran without cmocka"
		fi
	else
		grep '^PASS: tests/unit/test-readreceipt-policy$' \
			"$work/check.log" >/dev/null ||
			fail "the unit tests did not run"
	fi
	as_user make -s distclean >/dev/null 2>&1
done
