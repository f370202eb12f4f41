#!/bin/bash
# Installs what is missing, builds, and runs every test (make check: the
# cmocka unit tests, then the integration tests against a private Dovecot).
#   VALGRIND=no       skip the second integration pass, which runs
#                     Dovecot's imap, pop3 and lmtp under valgrind
#   PYTEST_ARGS=...   extra pytest arguments, e.g. "-k pop3 -x"
set -e
# shellcheck source=SCRIPTDIR/deps.sh
. "$(dirname "$0")/deps.sh"
rr_require_root
rr_install_deps
rr_build
cd "$RR_TOP_SRCDIR"
make check PYTEST_ARGS="${PYTEST_ARGS:-}"
if [ "${VALGRIND:-yes}" != no ]; then
	echo "== integration tests again, every mail process under valgrind"
	# The storage module's paths (open, POP3, delivery, queue, answers,
	# retries) under valgrind; the whole suite takes too long for every
	# run: VALGRIND_TESTS=tests/integration does all of it.
	make check-valgrind PYTEST_ARGS="${PYTEST_ARGS:-}" \
		VALGRIND_TESTS="${VALGRIND_TESTS:-tests/integration/test_receipts.py tests/integration/test_queue.py}"
fi
