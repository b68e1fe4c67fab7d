#!/usr/bin/env bash
# Installs what building TimelineStore needs beyond Swift: LMDB's headers and library
# (liblmdb-dev), its stock tools (lmdb-utils: mdb_stat, mdb_dump, mdb_load) and pkg-config;
# LZ4's headers and library (liblz4-dev), for record values stored compressed;
# SQLite's headers (libsqlite3-dev) for the benchmark harness's SQLite baseline. Also installs
# Python's cbor2 for the CBOR cross-check tests. Does nothing when all are there.
set -euo pipefail
missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists lmdb 2>/dev/null || missing+=(liblmdb-dev)
command -v mdb_dump >/dev/null 2>&1 || missing+=(lmdb-utils)
pkg-config --exists sqlite3 2>/dev/null || missing+=(libsqlite3-dev)
pkg-config --exists liblz4 2>/dev/null || missing+=(liblz4-dev)
if [ ${#missing[@]} -gt 0 ]; then
    echo "scripts/deps.sh: installing ${missing[*]}" >&2
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Python's cbor2, the independent CBOR implementation the cross-check tests compare against.
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import cbor2" 2>/dev/null; then
    echo "scripts/deps.sh: installing the Python package cbor2 (for the CBOR cross-check tests)" >&2
    python3 -m pip install -q --root-user-action=ignore cbor2 >/dev/null \
        || echo "scripts/deps.sh: could not install cbor2; the cross-check test will report it" >&2
fi
