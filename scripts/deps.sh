#!/usr/bin/env bash
# Installs what building TimelineStore needs beyond Swift: LMDB's headers and library
# (liblmdb-dev), its stock tools (lmdb-utils: mdb_stat, mdb_dump, mdb_load) and pkg-config.
# Does nothing when they are already there.
set -euo pipefail
if pkg-config --exists lmdb 2>/dev/null && command -v mdb_dump >/dev/null 2>&1; then
    exit 0
fi
echo "scripts/deps.sh: installing liblmdb-dev lmdb-utils pkg-config" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq liblmdb-dev lmdb-utils pkg-config >/dev/null
