#!/usr/bin/env bash
# README's test command: installs what the build needs, then runs every test (swift test).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build --build-tests
swift test --skip-build "$@"
