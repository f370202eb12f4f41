#!/bin/sh
# The modules are compiled with Dovecot's own flags (DOVECOT_CFLAGS of the
# dovecot-config that configure used), the builder's CFLAGS after them.
set -eu
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
: "${DOVECOT_CONFIG:?run by make check}" "${BUILD_CFLAGS?}"
[ -f "$DOVECOT_CONFIG" ] || fail "$DOVECOT_CONFIG not found"
DOVECOT_CFLAGS=
# shellcheck disable=SC1090
. "$DOVECOT_CONFIG"
[ -n "$DOVECOT_CFLAGS" ] || fail "$DOVECOT_CONFIG has no DOVECOT_CFLAGS"
# compared word by word: runs of white space become one space
words() {
	printf '%s\n' "$1" | tr -s ' \t' '  ' | sed 's/^ //; s/ $//'
}
dovecot=$(words "$DOVECOT_CFLAGS")
build=$(words "$BUILD_CFLAGS")
case "$build" in
"$dovecot"*) ;;
*) fail "CFLAGS \"$build\" do not start with Dovecot's \"$dovecot\"" ;;
esac
echo "CFLAGS start with DOVECOT_CFLAGS of $DOVECOT_CONFIG"
