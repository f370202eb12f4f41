#!/bin/sh
# Build the modules if they are out of date, then run the benchmark.
# Needs root: sudo ./bench/run.sh [--quick] [--rounds N] ...  (see --help)
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$top/Makefile" ]; then
	echo "$top is not configured: run ./configure first" >&2
	exit 1
fi
make -s -C "$top" >&2
exec /usr/bin/python3 "$top/bench/run.py" "$@"
