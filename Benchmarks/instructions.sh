#!/bin/bash
# Instructions per read, under callgrind: (instructions of N iterations − instructions of 0) / N.
# Needs valgrind.
#   Benchmarks/instructions.sh [iterations]            one record read, by kind (Sources/RecordInstructions)
#   Benchmarks/instructions.sh timeline [iterations]   a session's latest 100 turns and a project's 100
#                                                       latest sessions, by way of reading
#                                                       (Sources/TimelineInstructions)
#   Benchmarks/instructions.sh append [iterations]     one turn appended per write transaction
#                                                       (TimelineInstructions, a `.noSync` store)
set -euo pipefail
cd "$(dirname "$0")"
command -v valgrind >/dev/null || { echo "instructions.sh needs valgrind (apt-get install -y valgrind)" >&2; exit 1; }
product=RecordInstructions
modes="raw view-open view-3 get get-decodable decode floor"
unit="per read"
default=2000
if [ "${1:-}" = timeline ]; then
    shift
    product=TimelineInstructions
    modes="raw sqlite views records json sqlite-json records-json sessions-raw sessions-sqlite sessions-views sessions-records"
    unit="per page of 100"
    default=200
elif [ "${1:-}" = append ]; then
    shift
    product=TimelineInstructions
    modes="append"
    unit="per append"
    default=2000
fi
swift build -c release --product "$product" >/dev/null
# Counted on a copy without debug information: valgrind 3.19 cannot read the DWARF 5 that clang
# writes for the C targets (CTimelineText) and gives up; the instructions are the same.
binary="$(mktemp)"
trap 'rm -f "$binary"' EXIT
objcopy --strip-debug "$(swift build -c release --show-bin-path)/$product" "$binary"
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" "$1" "$2" 2>&1 | sed -n 's/.*refs: *\([0-9,]*\).*/\1/p' | tr -d ,; }
n="${1:-$default}"
for mode in $modes; do
    base=$(count 0 "$mode")
    full=$(count "$n" "$mode")
    printf '%-14s %9d instructions %s\n' "$mode" $(( (full - base) / n )) "$unit"
done
