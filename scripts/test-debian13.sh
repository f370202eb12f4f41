#!/bin/bash
# The Dovecot 2.4 leg on a Debian 12 machine: in the Debian 13 (trixie)
# environment of scripts/debian13-env.sh (created on the first run, cached
# under /var/cache, brought up to date on later ones), the whole test suite
# (scripts/test.sh) and the Debian 13 package (scripts/test-package.sh),
# on a clean copy of this tree: an in-tree build for the host's Dovecot
# 2.3 never leaks into it. Nothing stays mounted or running afterwards.
#   RR_DEBIAN13_KEEP=yes   keep the copy (default: removed when all passed)
# Environment variables of scripts/test.sh (VALGRIND, PYTEST_ARGS, ...)
# are passed on.
set -euo pipefail
# shellcheck source=SCRIPTDIR/deps.sh
. "$(dirname "$0")/deps.sh"
rr_require_root

env_script=$RR_TOP_SRCDIR/scripts/debian13-env.sh
work=$(mktemp -d /var/tmp/readreceipt-debian13.XXXXXX)
chmod 755 "$work"
echo "== Debian 13 environment"
"$env_script" create
# one clean copy for each: test.sh builds in its tree, and the package
# must be built from a tree without that build
echo "== clean copies of the tree in $work"
rr_clean_copy "$work/test"
rr_clean_copy "$work/package"

export RR_DEBIAN13_PASSENV="TERM VALGRIND VALGRIND_TESTS PYTEST_ARGS FUZZ FUZZ_SECONDS"
# Valgrind is twice as slow in the Debian 13 environment: its pass covers
# the receipts (open, POP3, delivery, answers, retries) there, and the
# pending queue only on the 2.3 leg, whose code is the same; set
# VALGRIND_TESTS for more.
export VALGRIND_TESTS=${VALGRIND_TESTS:-tests/integration/test_receipts.py}
echo "== Debian 13: scripts/test.sh"
RR_DEBIAN13_SRC=$work/test "$env_script" run scripts/test.sh
echo "== Debian 13: scripts/test-package.sh"
RR_DEBIAN13_SRC=$work/package "$env_script" run scripts/test-package.sh

if [ "${RR_DEBIAN13_KEEP:-no}" != yes ]; then
	rm -rf "$work"
fi
echo "test-debian13: the Debian 13 / Dovecot 2.4 leg passed"
