#!/bin/bash
# Instructions per record read, by kind (see Sources/RecordInstructions/main.swift), under
# callgrind: (instructions of N iterations − instructions of 0) / N. Needs valgrind.
#   Benchmarks/instructions.sh [iterations]
set -euo pipefail
cd "$(dirname "$0")"
command -v valgrind >/dev/null || { echo "instructions.sh needs valgrind (apt-get install -y valgrind)" >&2; exit 1; }
swift build -c release --product RecordInstructions >/dev/null
binary="$(swift build -c release --show-bin-path)/RecordInstructions"
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" "$1" "$2" 2>&1 | sed -n 's/.*refs: *\([0-9,]*\).*/\1/p' | tr -d ,; }
n="${1:-2000}"
for mode in raw view-open view-3 get get-decodable decode floor; do
    base=$(count 0 "$mode")
    full=$(count "$n" "$mode")
    printf '%-14s %8d instructions per read\n' "$mode" $(( (full - base) / n ))
done
