#!/usr/bin/env bash
# Runs scripts/install.sh into a temporary prefix and checks what it installed: a binary
# with no Swift runtime library linked dynamically that runs, the three completions and
# the man page. Removes the prefix afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d "${TMPDIR:-/tmp}/sentinel-repl-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
scripts/install.sh "$prefix" >"$prefix/install.log" 2>&1 || { cat "$prefix/install.log" >&2; exit 1; }
bin=$prefix/bin/sentinel-repl
if ldd "$bin" | grep -E 'libswift|libFoundation|libdispatch|/swift'; then
    echo "check-install: the installed binary links the Swift runtime dynamically" >&2
    exit 1
fi
version=$(sed -n 's/^ *version: "\(.*\)"$/\1/p' Sources/sentinel-repl/SentinelREPLCommand.swift)
[[ -n $version && $("$bin" --version) == "$version" ]] || { echo "check-install: --version is not '$version'" >&2; exit 1; }
for file in share/bash-completion/completions/sentinel-repl share/zsh/site-functions/_sentinel-repl \
    share/fish/vendor_completions.d/sentinel-repl.fish share/man/man1/sentinel-repl.1; do
    [[ -s $prefix/$file ]] || { echo "check-install: $file missing" >&2; exit 1; }
done
grep -q -- 'Fl u , -url' "$prefix/share/man/man1/sentinel-repl.1" || { echo "check-install: the man page lacks the options" >&2; exit 1; }
echo "check-install: binary (no Swift runtime linked), completions and man page installed and working"
