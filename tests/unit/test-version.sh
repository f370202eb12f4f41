#!/bin/sh
# The release's version is written once, in configure.ac's AC_INIT, and
# reaches the code as READRECEIPT_VERSION. debian/changelog names the same
# upstream version, and the built modules carry it: the storage module in
# its default Reporting-UA product (RFC 8098 3.2.1), the doveadm module for
# "doveadm readreceipt policy".
set -eu
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
: "${PACKAGE_VERSION:?run by make check}" "${top_srcdir:?}" "${top_builddir:?}"

echo "$PACKAGE_VERSION" | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$' >/dev/null ||
	fail "AC_INIT version \"$PACKAGE_VERSION\" is not MAJOR.MINOR.PATCH"

# "dovecot-readreceipt (0.1.0) bookworm; ..." or "(1:0.1.0-2)": the
# upstream part, without epoch and Debian revision
deb=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$top_srcdir/debian/changelog")
upstream=${deb#*:}
upstream=${upstream%-*}
[ "$upstream" = "$PACKAGE_VERSION" ] ||
	fail "debian/changelog is at $upstream, configure.ac at $PACKAGE_VERSION"
echo "configure.ac and debian/changelog: $PACKAGE_VERSION"

for module in lib20_readreceipt_plugin.so lib30_doveadm_readreceipt_plugin.so; do
	path=$top_builddir/.libs/$module
	[ -f "$path" ] || fail "$path not built"
done
grep -a -F "dovecot-readreceipt/$PACKAGE_VERSION" \
	"$top_builddir/.libs/lib20_readreceipt_plugin.so" >/dev/null ||
	fail "the storage module's Reporting-UA lacks dovecot-readreceipt/$PACKAGE_VERSION"
grep -a -F "$PACKAGE_VERSION" \
	"$top_builddir/.libs/lib30_doveadm_readreceipt_plugin.so" >/dev/null ||
	fail "the doveadm module does not carry $PACKAGE_VERSION"
echo "modules: dovecot-readreceipt/$PACKAGE_VERSION"
