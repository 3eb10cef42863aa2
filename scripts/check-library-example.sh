#!/usr/bin/env bash
# Builds the README's "Use the library" program in a new package outside this
# repository (it depends on it by path, as written) and runs it against a
# throwaway topology; fails unless it prints the master and the greeting.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
topology=""
cleanup() {
    [[ -n $topology ]] && "$repo/scripts/topology.sh" stop "$topology"
    rm -rf "$work"
}
trap cleanup EXIT

# The README's swift blocks of that section: the first is Package.swift, the second main.swift.
python3 - "$repo/README.md" "$work" <<'PY'
import os, re, sys
readme, work = sys.argv[1], sys.argv[2]
text = open(readme).read()
section = text.split("## Use the library", 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"```swift\n(.*?)```", section, re.S)
assert len(blocks) >= 2, "the section needs Package.swift and main.swift"
package = os.path.join(work, "hello-sentinel")
os.makedirs(os.path.join(package, "Sources", "hello-sentinel"))
open(os.path.join(package, "Package.swift"), "w").write(blocks[0])
open(os.path.join(package, "Sources", "hello-sentinel", "main.swift"), "w").write(blocks[1])
PY
ln -s "$repo" "$work/sentinel-repl"

env_file="$work/topology.env"
"$repo/scripts/topology.sh" start --owner $$ >"$env_file"
# shellcheck disable=SC1090
source "$env_file"
topology=$TOPOLOGY_DIR

cd "$work/hello-sentinel"
swift build --product hello-sentinel 2>&1 | tail -3
output=$(swift run --skip-build hello-sentinel "127.0.0.1:${SENTINEL_PORTS%%,*}" "$MASTER_NAME")
echo "$output"
grep -qx "master: 127.0.0.1:$MASTER_PORT" <<<"$output"
grep -qx "greeting: hello from Swift" <<<"$output"
[[ $(redis-cli -p "$MASTER_PORT" GET greeting) == "hello from Swift" ]]
echo "library example: OK"
