#!/bin/sh
# docs/man/doveadm-readreceipt.1: rendered by man (as lintian renders man
# pages) or groff without a single warning; every command that the doveadm
# module registers has its synopsis line and section, every positional
# argument is explained, and the page names this release.
set -eu
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
: "${top_srcdir:?run by make check}" "${PACKAGE_VERSION:?}"
page=$top_srcdir/docs/man/doveadm-readreceipt.1
cmds=$top_srcdir/src/doveadm-readreceipt/doveadm-readreceipt-cmds.c
[ -f "$page" ] || fail "$page missing"

warnings=$(mktemp)
trap 'rm -f "$warnings"' EXIT
if command -v man >/dev/null; then
	LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
		man --warnings -E UTF-8 -l -Tutf8 -Z "$page" >/dev/null \
		2>"$warnings" || fail "man could not render $page"
elif command -v groff >/dev/null; then
	groff -ww -man -z -Tutf8 "$page" 2>"$warnings" ||
		fail "groff could not render $page"
else
	echo "SKIP: neither man nor groff is installed"
	exit 77
fi
if [ -s "$warnings" ]; then
	cat "$warnings" >&2
	fail "warnings while rendering $page"
fi
echo "rendered without warnings"

# the commands as the code registers them: .name = "readreceipt policy"
names=$(sed -n 's/^[[:space:]]*\.name = "\(readreceipt [a-z]*\)",$/\1/p' "$cmds")
[ "$(echo "$names" | wc -l)" -ge 5 ] ||
	fail "found only these commands in $cmds: $names"
echo "$names" | while IFS= read -r name; do
	grep -x "\.SS $name" "$page" >/dev/null ||
		fail "no section \".SS $name\" for the command $name"
	grep -x "\.BR \"$name\" .*" "$page" >/dev/null ||
		fail "no SYNOPSIS line for the command $name"
	echo "documented: doveadm $name"
done
# positional arguments: DOVEADM_CMD_PARAM('\0', "mailbox", ...)
args=$(sed -n "s/^DOVEADM_CMD_PARAM('\\\\0', \"\([a-z_]*\)\",.*POSITIONAL.*/\1/p" \
	"$cmds" | sort -u)
[ -n "$args" ] || fail "found no positional arguments in $cmds"
for arg in $args; do
	sed -n '/^\.SH ARGUMENTS/,/^\.SH /p' "$page" | grep -x "\.I $arg" \
		>/dev/null || fail "the argument $arg is not under ARGUMENTS"
done
# the options of DOVEADM_CMD_MAIL_COMMON and the usage strings
for opt in A F S u; do
	sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$page" |
		grep "^\.BI\{0,1\} \\\\-$opt" >/dev/null ||
		fail "the option -$opt is not under OPTIONS"
done
for code in 0 64 65 67 68 75; do
	sed -n '/^\.SH "EXIT STATUS"/,/^\.SH /p' "$page" |
		grep -x "\.B $code" >/dev/null ||
		fail "exit status $code is not under EXIT STATUS"
done
grep "^\.TH .* \"dovecot-readreceipt $PACKAGE_VERSION\"" "$page" >/dev/null ||
	fail ".TH does not name dovecot-readreceipt $PACKAGE_VERSION"
echo "commands, arguments, options, exit codes and version documented"
