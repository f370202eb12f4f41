#!/bin/sh
# "make install" into a staging directory puts every module where Dovecot
# loads it from, and the man page in man1; no libtool .la file; "make
# uninstall" then removes every file it installed.
set -eu
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
: "${top_builddir:?run by make check}" "${MAKE:=make}"

work=$(mktemp -d "${TMPDIR:-/tmp}/readreceipt-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/root
files=$work/files
builddir=$(cd "$top_builddir" && pwd)

$MAKE -s -C "$builddir" install DESTDIR="$stage" >"$work/log" 2>&1 ||
	{ cat "$work/log"; fail "make install failed"; }
(cd "$stage" && find . ! -type d | sort) >"$files"
cat "$files"

if grep '\.la$' "$files" >/dev/null; then
	fail "libtool .la files installed"
fi
for module in lib20_readreceipt_plugin.so lib30_imap_readreceipt_plugin.so \
		lib30_submission_readreceipt_plugin.so \
		doveadm/lib30_doveadm_readreceipt_plugin.so \
		sieve/lib90_sieve_readreceipt_plugin.so; do
	grep "/modules/$module\$" "$files" >/dev/null ||
		fail "$module not installed in a modules directory"
done
# Dovecot 2.4: the settings module, for doveconf and the config process
if [ -f "$builddir/.libs/lib20_readreceipt_settings.so" ]; then
	grep '/modules/settings/lib20_readreceipt_settings\.so$' "$files" \
		>/dev/null || fail "the settings module is not installed"
fi
grep '/man/man1/doveadm-readreceipt\.1$' "$files" >/dev/null ||
	fail "man page doveadm-readreceipt.1 not installed"

$MAKE -s -C "$builddir" uninstall DESTDIR="$stage" >/dev/null 2>&1 ||
	fail "make uninstall failed"
left=$(cd "$stage" && find . ! -type d)
[ -z "$left" ] || fail "left after make uninstall: $left"
echo "installed $(wc -l <"$files") files, no .la; uninstall removed them all"
