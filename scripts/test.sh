#!/usr/bin/env bash
# README's test command: installs what the build needs, builds the DocC documentation of every
# library (any warning fails), runs the benchmark harness's quick smoke run, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build --build-tests

# The DocC catalogs (Sources/*/*.docc): a broken symbol link or a half-documented signature fails.
bash scripts/docs.sh

# The benchmark harness's smoke run (Docs/benchmarks.md): every workload on every backend on a
# small timeline; it fails when a backend misses a figure or two backends answer a read
# differently — the figures themselves are not checked here.
swift build --package-path Benchmarks --product timeline-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
Benchmarks/.build/debug/timeline-bench --quick --output "$work/results" --fixtures "$work/fixtures" > "$work/smoke.log" \
    || { cat "$work/smoke.log"; exit 1; }
tail -n 3 "$work/smoke.log"

swift test --skip-build "$@"
