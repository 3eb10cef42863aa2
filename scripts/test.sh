#!/usr/bin/env bash
# Installs what is missing, then runs every test (unit and end to end, against
# real redis-server and redis-sentinel processes on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
# One test at a time: the end-to-end tests start real servers and time failovers,
# and on a 2-core machine parallel suites starve each other's event loops.
swift test --skip-build --no-parallel "$@"
