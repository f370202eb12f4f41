#!/bin/bash
# Builds the Debian package from a clean copy of this tree, checks it with
# lintian, installs it with apt, runs its autopkgtest (debian/tests: the
# integration tests against the installed modules) with Debian's autopkgtest
# on this machine (the null testbed), purges it, and checks that nothing of
# it is left and that a stock Dovecot still starts. CI runs it after
# scripts/test.sh.
#   RR_PKG_WORKDIR=dir   build there (default: a new directory in /tmp,
#                        removed when everything passed)
#   PYTEST_ARGS=...      extra pytest arguments for the installed tests
#                        (passed into the autopkgtest)
# Installs and purges dovecot-readreceipt on this machine: a copy that is
# installed already is purged first.
set -euo pipefail
# In a pipeline under pipefail, "grep -q" may stop reading before the
# writer is done, which then dies of SIGPIPE and fails the pipeline: the
# checks below let grep read everything (grep ... >/dev/null).
# shellcheck source=SCRIPTDIR/deps.sh
. "$(dirname "$0")/deps.sh"
rr_require_root
rr_install_pkg_deps
export DEBIAN_FRONTEND=noninteractive

pkg=dovecot-readreceipt
conffile=/etc/dovecot/conf.d/90-readreceipt.conf

fail() {
	echo "test-package: FAILED: $*" >&2
	exit 1
}

installed() {
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
		grep "install ok installed" >/dev/null
}

# Config as Dovecot sees it, without the header lines that name the
# version, OS and host.
effective_config() {
	doveconf -n 2>&1 | grep -v '^# '
}

work=${RR_PKG_WORKDIR:-$(mktemp -d /tmp/readreceipt-pkg.XXXXXX)}
mkdir -p "$work"
# apt reads the .deb as user _apt
chmod 755 "$work"
version=$(cd "$RR_TOP_SRCDIR" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
src=$work/$pkg-$version
deb=$work/${pkg}_${version}_$arch.deb

if installed || dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
		grep config-files >/dev/null; then
	echo "== $pkg is on this machine already: purging it first"
	apt-get purge -y -q "$pkg"
fi
purge_on_exit() {
	if installed; then
		echo "== purging $pkg (the run stopped early)"
		apt-get purge -y -q "$pkg" || true
	fi
}
trap purge_on_exit EXIT

echo "== clean copy of the tree in $src"
# Tracked and new files as they are in the work tree; nothing that git
# ignores (an in-tree build would leak into the package build).
rm -rf "$src"
rr_clean_copy "$src"

# The source package too, only for lintian's checks of debian/ (rules,
# tests/control, copyright); before the build, which writes into $src.
echo "== dpkg-source -b"
(cd "$work" && dpkg-source -b "$src")

echo "== dpkg-buildpackage -us -uc -b"
(cd "$src" && dpkg-buildpackage -us -uc -b)
test -f "$deb" || fail "no $deb"

echo "== lintian"
lintian --fail-on error,warning --display-info \
	"$work/${pkg}_${version}.dsc" "$work/${pkg}_${version}_$arch.changes"
echo "lintian: no errors or warnings"

echo "== package contents"
dpkg-deb --info "$deb" | sed -n '/^ Package:/,$p'
dpkg-deb --contents "$deb"
abi=$(cat /usr/share/dovecot/dovecot-abi)
dpkg-deb --field "$deb" Depends | tr ',' '\n' | sed 's/^ *//' |
	grep -x "dovecot-abi-$abi" >/dev/null || fail "Depends lacks dovecot-abi-$abi"
if dpkg-deb --contents "$deb" | grep '\.la$' >/dev/null; then
	fail "libtool .la files in the package"
fi

config_before=$(effective_config)
echo "== stock Dovecot before installing"
/usr/bin/python3 "$src/scripts/check-stock-dovecot.py"

echo "== apt-get install $deb"
apt-get install -y -q "$deb"
installed || fail "$pkg is not installed"
dpkg-query -L "$pkg" >"$work/files.list"

echo "== installed modules export their ABI version"
modules=$(grep '^/usr/lib/dovecot/modules/.*\.so$' "$work/files.list" || true)
[ -n "$modules" ] || fail "no modules installed"
for m in $modules; do
	# lib20_readreceipt_plugin.so must export readreceipt_plugin_version,
	# or Dovecot skips its ABI check
	sym=$(basename "$m" .so | sed 's/^lib[0-9]*_//')_version
	nm -D --defined-only "$m" | grep -w "$sym" >/dev/null ||
		fail "$m lacks $sym"
	echo "$m: $sym"
done

echo "== $conffile: a conffile that changes nothing"
dpkg-query -W -f='${Conffiles}\n' "$pkg" | grep " $conffile " >/dev/null ||
	fail "$conffile is not a conffile"
config_installed=$(effective_config)
if [ "$config_installed" != "$config_before" ]; then
	diff <(echo "$config_before") <(echo "$config_installed") || true
	fail "installing $pkg changed doveconf -n"
fi
echo "doveconf -n unchanged"

echo "== debian/tests/control names what the tests use"
# the packages of deps.sh that the integration tests run
test_depends=$(sed -n '/^Depends:/,/^[A-Z]/s/^ \([a-z0-9.+-]*\).*/\1/p' \
	"$src/debian/tests/control")
for p in $RR_APT_PACKAGES_TESTS; do
	echo "$test_depends" | grep -x -- "$p" >/dev/null ||
		fail "debian/tests/control does not depend on $p"
done
echo "$(echo "$test_depends" | wc -l) test dependencies, all of deps.sh's"

echo "== autopkgtest (null testbed: this machine)"
# The testbed is this machine: autopkgtest installs the test dependencies
# and the .deb with apt (both are here already) and runs debian/tests from
# a copy of the built source tree; --no-built-binaries: the .deb given is
# the package under test, nothing is built again.
autopkgtest_env=()
if [ -n "${PYTEST_ARGS:-}" ]; then
	autopkgtest_env=(--env "PYTEST_ARGS=$PYTEST_ARGS")
fi
rc=0
autopkgtest --no-built-binaries --output-dir "$work/autopkgtest" \
	"${autopkgtest_env[@]}" "$deb" "$src" -- null || rc=$?
# 0: every test passed; 2: one was skipped, 4: one failed, more: broken
[ "$rc" = 0 ] || fail "autopkgtest exited $rc (see $work/autopkgtest/log)"
grep -E '^[a-z0-9-]+ +PASS' "$work/autopkgtest/summary" >/dev/null ||
	fail "autopkgtest passed no test: $(cat "$work/autopkgtest/summary")"
cat "$work/autopkgtest/summary"
installed || fail "$pkg is not installed after autopkgtest"

echo "== apt-get purge $pkg"
apt-get purge -y -q "$pkg"
if dpkg-query -W -f='${Status}' "$pkg" >/dev/null 2>&1; then
	fail "dpkg still knows $pkg: $(dpkg-query -W -f='${Status}' "$pkg")"
fi
left=0
while IFS= read -r path; do
	[ "$path" != /. ] || continue
	[ -e "$path" ] || [ -L "$path" ] || continue
	# Directories that other packages own too (/usr/lib/dovecot/modules,
	# /etc/dovecot/conf.d, /lib -> usr/lib on a merged /usr, ...) stay.
	if [ -d "$path" ] && dpkg-query -S "$path" >/dev/null 2>&1; then
		continue
	fi
	echo "left after purge: $path" >&2
	left=1
done <"$work/files.list"
for path in "$conffile"*; do
	if [ -e "$path" ]; then
		echo "left after purge: $path" >&2
		left=1
	fi
done
[ "$left" = 0 ] || fail "files of $pkg are left after purge"
echo "nothing of $pkg is left ($(wc -l <"$work/files.list") paths checked)"
if [ "$(effective_config)" != "$config_before" ]; then
	fail "doveconf -n differs after purge"
fi

echo "== stock Dovecot after purging"
/usr/bin/python3 "$src/scripts/check-stock-dovecot.py"

trap - EXIT
if [ -z "${RR_PKG_WORKDIR:-}" ]; then
	rm -rf "$work"
fi
echo "test-package: install, installed tests, purge: all passed"
