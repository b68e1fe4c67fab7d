#!/usr/bin/env bash
# README's main job: builds kvtool, writes an example store to ./demo.timeline (replacing an
# earlier one) and shows it through kvtool.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
store="${1:-demo.timeline}"
swift build -c release --product kvtool
rm -rf "$store"
.build/release/kvtool demo "$store"
echo
.build/release/kvtool stat "$store"
echo
.build/release/kvtool sessions "$store" --limit 5
echo
.build/release/kvtool check "$store"
