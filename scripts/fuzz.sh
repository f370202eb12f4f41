#!/bin/bash
# Builds the libFuzzer targets (make fuzz: clang, AddressSanitizer,
# UndefinedBehaviorSanitizer) and runs each one on a copy of its seed
# corpus (tests/fuzz/corpus/<target>/) in a temporary directory, so that
# what a run adds to the corpus leaves the tree unchanged. Fails if any
# target crashes, fails one of its checks, leaks, hangs or runs out of
# memory; the input that did it is kept, and its path and bytes printed.
# Installs clang and its runtimes (as root) when they are missing.
#   FUZZ_SECONDS=60     how long each target runs
#   FUZZ_TARGETS="..."  which targets (default: all, see tests/fuzz/)
set -euo pipefail
# shellcheck source=SCRIPTDIR/deps.sh
. "$(dirname "$0")/deps.sh"

# shellcheck disable=SC2086
if [ -n "$(rr_missing_packages $RR_APT_PACKAGES_FUZZ)" ]; then
	rr_require_root
	rr_install_fuzz_deps
fi
rr_build
cd "$RR_TOP_SRCDIR"
make fuzz

seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-fuzz-policy fuzz-submission fuzz-pending fuzz-settings}
work=$(mktemp -d "${TMPDIR:-/tmp}/readreceipt-fuzz.XXXXXX")
failed=

for target in $targets; do
	dir=$work/$target
	mkdir -p "$dir/corpus" "$dir/artifacts"
	cp -R "tests/fuzz/corpus/$target/." "$dir/corpus/"
	echo "== $target: ${seconds}s from $(find "$dir/corpus" -type f | wc -l) seeds"
	# -timeout: no input of a few KB may take seconds; the parsers
	# promise that every loop advances.
	if (cd "$dir" && "$RR_TOP_SRCDIR/tests/fuzz/$target" \
			-max_total_time="$seconds" -rss_limit_mb=2048 \
			-timeout=10 -print_final_stats=1 \
			-artifact_prefix="$dir/artifacts/" corpus) \
			>"$dir/log" 2>&1; then
		grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb)' \
			"$dir/log" || true
		echo "   corpus grew to $(find "$dir/corpus" -type f | wc -l) inputs"
	else
		failed="$failed $target"
		tail -n 40 "$dir/log"
		for artifact in "$dir"/artifacts/*; do
			[ -f "$artifact" ] || continue
			echo "-- input that failed: $artifact (reproduce:" \
				"tests/fuzz/$target $artifact)"
			od -A d -t x1z -v "$artifact" | head -n 64
		done
	fi
done

if [ -n "$failed" ]; then
	echo "fuzzing failed:$failed (logs and inputs in $work)" >&2
	exit 1
fi
rm -rf "$work"
echo "fuzzing: no target failed"
