#!/usr/bin/env bash
# Long fuzz runs with libFuzzer (Docs/reliability.md, "Fuzzing"):
#   bash scripts/fuzz.sh TARGET [SECONDS]      targets: cbor, records, dump-line, wal
# Builds the fuzz executable with -sanitize=fuzzer,address into .build-fuzz, then fuzzes TARGET
# for SECONDS (600 by default), starting from the checked-in seeds in Tests/Fuzz/Corpus/TARGET
# and keeping what it learns in .build-fuzz/corpus/TARGET. A finding is written to
# .build-fuzz/findings-TARGET-*; reproduce it with
#   swift run timelinestore-fuzz TARGET FILE
# and add the file to Tests/Fuzz/Corpus/TARGET once fixed, so every test run replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET [SECONDS] (targets: cbor, records, dump-line, wal)}
seconds=${2:-600}
bash scripts/deps.sh
# Coverage counters and AddressSanitizer in every module, the C ones (CTimelineText,
# CTimelineChecksum) included
# through -Xcc; libFuzzer's driver without its own
# `main` (SwiftPM gives the executable its entry point; it calls LLVMFuzzerRunDriver).
runtime=$(ls "$(dirname "$(readlink -f "$(command -v swiftc)")")"/../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a | head -n 1)
swift build -c release --product timelinestore-fuzz --scratch-path .build-fuzz \
    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
    -Xswiftc -DFUZZING -Xswiftc -parse-as-library \
    -Xcc -fsanitize=address -Xcc -fsanitize-coverage=inline-8bit-counters,pc-table,trace-cmp \
    -Xlinker --whole-archive -Xlinker "$runtime" -Xlinker --no-whole-archive -Xlinker -lstdc++
corpus=.build-fuzz/corpus/$target
mkdir -p "$corpus"
TIMELINESTORE_FUZZ_TARGET=$target .build-fuzz/release/timelinestore-fuzz "$corpus" "Tests/Fuzz/Corpus/$target" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix=".build-fuzz/findings-$target-"
