#!/bin/bash
# Installs what is missing, builds, and runs every test: make check (the
# cmocka unit tests and the build's own checks), also as an unprivileged
# user and without cmocka; make check-integration (the integration tests
# against a private Dovecot); the unit tests again under AddressSanitizer
# and UndefinedBehaviorSanitizer; the libFuzzer targets.
#   VALGRIND=no       skip the second integration pass, which runs
#                     Dovecot's imap, pop3 and lmtp under valgrind
#   PYTEST_ARGS=...   extra pytest arguments, e.g. "-k pop3 -x"
#   FUZZ=no           skip fuzzing (it installs clang when missing)
#   FUZZ_SECONDS=60   how long each fuzz target runs
set -e
# shellcheck source=SCRIPTDIR/deps.sh
. "$(dirname "$0")/deps.sh"
rr_require_root
rr_install_deps
rr_build
cd "$RR_TOP_SRCDIR"
make check
echo "== make check as an unprivileged user, with and without cmocka"
./scripts/check-unprivileged.sh
echo "== integration tests"
make check-integration PYTEST_ARGS="${PYTEST_ARGS:-}"
echo "== unit tests again, under AddressSanitizer and UndefinedBehaviorSanitizer"
./scripts/sanitizers.sh
if [ "${FUZZ:-yes}" != no ]; then
	echo "== fuzzing, ${FUZZ_SECONDS:-60}s per target"
	./scripts/fuzz.sh
fi
if [ "${VALGRIND:-yes}" != no ]; then
	echo "== integration tests again, every mail process under valgrind"
	# The storage module's paths (open, POP3, delivery, queue, answers,
	# retries) under valgrind; the whole suite takes too long for every
	# run: VALGRIND_TESTS=tests/integration does all of it.
	make check-valgrind PYTEST_ARGS="${PYTEST_ARGS:-}" \
		VALGRIND_TESTS="${VALGRIND_TESTS:-tests/integration/test_receipts.py tests/integration/test_queue.py}"
fi
