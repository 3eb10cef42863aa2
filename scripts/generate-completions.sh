#!/usr/bin/env bash
# Regenerates completions/ from the command's own definition (swift-argument-parser).
# A test fails when the committed scripts are stale: run this after changing an option.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SENTINEL_REPL_BIN:-}
if [[ -z $bin ]]; then
    swift build --product sentinel-repl
    bin=.build/debug/sentinel-repl
fi
mkdir -p completions
"$bin" --generate-completion-script bash >completions/sentinel-repl.bash
"$bin" --generate-completion-script zsh >completions/_sentinel-repl
"$bin" --generate-completion-script fish >completions/sentinel-repl.fish
