#!/usr/bin/env bash
# Runs scripts/install.sh into a temporary prefix and checks what it installed: a binary
# with no Swift runtime library linked dynamically that answers PING through Sentinel on a
# throwaway topology with the toolchain off PATH (as on a bastion host), the three
# completions and a man page that man(1) reads. Removes the prefix and the topology afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d "${TMPDIR:-/tmp}/sentinel-repl-install.XXXXXX")
topology=""
cleanup() {
    rm -rf "$prefix"
    if [[ -n $topology ]]; then scripts/topology.sh stop "$topology" || true; fi
}
trap cleanup EXIT
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
man_text=$(LC_ALL=C MANPAGER=cat MANWIDTH=100 man -l "$prefix/share/man/man1/sentinel-repl.1" 2>&1) ||
    { echo "check-install: man -l could not read the man page: $man_text" >&2; exit 1; }
for option in --url --sentinel-tls --replica; do
    grep -q -- "$option" <<<"$man_text" || { echo "check-install: man shows no $option" >&2; exit 1; }
done

scripts/topology.sh start --owner $$ >"$prefix/topology.env"
# shellcheck disable=SC1091
source "$prefix/topology.env"
topology=$TOPOLOGY_DIR
# Only /usr/bin:/bin on PATH and an empty environment: no toolchain, no Swift library path.
reply=$(env -i PATH=/usr/bin:/bin HOME="$prefix" "$bin" -s "127.0.0.1:${SENTINEL_PORTS%%,*}" "$MASTER_NAME" PING 2>&1) ||
    { echo "check-install: the installed binary failed against Sentinel: $reply" >&2; exit 1; }
[[ $reply == PONG ]] || { echo "check-install: the installed binary answered '$reply', not PONG" >&2; exit 1; }
echo "check-install: binary (no Swift runtime linked) answered PING through Sentinel without the toolchain;"
echo "check-install: completions installed; man shows the options"
