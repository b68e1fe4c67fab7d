#!/usr/bin/env bash
# Builds the DocC documentation of every library product (swift-docc-plugin) into
# .build/docs/<Target>, failing on any warning: a broken symbol link or an undocumented topic
# group fails the build. Run by scripts/test.sh; by hand: bash scripts/docs.sh [Target…]
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("${@:-TimelineLMDB TimelineCBOR TimelineDocumentStore Timeline}")
for target in ${targets[@]}; do
    out=".build/docs/$target"
    rm -rf "$out"
    mkdir -p .build/docs
    swift package --allow-writing-to-directory "$out" generate-documentation --target "$target" \
        --warnings-as-errors --output-path "$out" --disable-indexing > ".build/docs-$target.log" 2>&1 || {
        echo "docs: $target failed; see .build/docs-$target.log:" >&2
        grep -E "warning|error" ".build/docs-$target.log" | head -40 >&2
        exit 1
    }
    echo "docs: $target → $out"
done
