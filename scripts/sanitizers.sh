#!/bin/bash
# The cmocka unit tests again, built with AddressSanitizer and
# UndefinedBehaviorSanitizer; any undefined behaviour aborts the test. The
# build runs in a copy of the tree in a temporary directory, so that it
# works whether or not the tree is configured in place, and leaves the
# tree's own build alone. libdovecot.so is not instrumented.
#   SANITIZE_CC=gcc   the compiler (clang works too)
set -euo pipefail
# shellcheck source=SCRIPTDIR/deps.sh
. "$(dirname "$0")/deps.sh"

if [ "$(id -u)" = 0 ]; then
	VALGRIND=no rr_install_deps
fi

flags="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined"
flags="$flags -fno-sanitize-recover=undefined"
export UBSAN_OPTIONS=print_stacktrace=1

work=$(mktemp -d "${TMPDIR:-/tmp}/readreceipt-sanitizers.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The sources as they are in the tree, without what a build made there.
cd "$RR_TOP_SRCDIR"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		tar --null --files-from=- --ignore-failed-read -cf - |
		tar -C "$work" -xf -
else
	tar --exclude=./.git -cf - . | tar -C "$work" -xf -
	if [ -f "$work/Makefile" ]; then
		make -C "$work" distclean >/dev/null
	fi
fi

cd "$work"
./autogen.sh >/dev/null
./configure -q --with-dovecot=/usr/lib/dovecot CC="${SANITIZE_CC:-gcc}" \
	CFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined"
if ! make -j"$(nproc)" check; then
	# the sanitizers' reports are in the failed tests' logs
	for trs in tests/unit/*.trs; do
		if ! grep -q '^:test-result: PASS' "$trs"; then
			echo "== ${trs%.trs}.log"
			cat "${trs%.trs}.log"
		fi
	done
	echo "unit tests under AddressSanitizer/UndefinedBehaviorSanitizer failed" >&2
	exit 1
fi
# a pass that ran uninstrumented tests would prove nothing
for trs in tests/unit/*.trs; do
	test=${trs%.trs}
	# the build's own checks are shell scripts, not compiled tests
	[ ! -f "$test.sh" ] || continue
	if ! grep -q __asan_init "$test" || ! grep -q __ubsan_ "$test"; then
		echo "$test is not built with the sanitizers" >&2
		exit 1
	fi
done
echo "unit tests under AddressSanitizer and UndefinedBehaviorSanitizer: passed"
