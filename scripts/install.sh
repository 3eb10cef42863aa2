#!/usr/bin/env bash
# Builds sentinel-repl for release with the Swift runtime linked in (no Swift toolchain
# needed where it runs) and installs it under PREFIX: the binary, the bash, zsh and fish
# completions, and a man page generated from the command's own help.
#
#   scripts/install.sh [PREFIX]          default /usr/local (sudo when not writable)
#
# Needs Swift 6 and libedit-dev to build (scripts/install-deps.sh installs libedit-dev);
# the installed binary needs only libedit and the C library.
set -euo pipefail
# A relative PREFIX is the caller's, not the repository's.
prefix=$(realpath -m "${1:-/usr/local}")
cd "$(dirname "$0")/.."

# The man page, from the same definition that answers --help. First: the plugin builds the
# product itself, linked dynamically, and the static build below links it again.
swift package plugin --allow-writing-to-package-directory generate-manual \
    --configuration release >/dev/null
man=.build/plugins/GenerateManual/outputs/sentinel-repl/sentinel-repl.1
[[ -s $man ]] || { echo "install: the man page was not generated" >&2; exit 1; }

swift build -c release --product sentinel-repl --static-swift-stdlib
bin=$(swift build -c release --product sentinel-repl --static-swift-stdlib --show-bin-path)/sentinel-repl
if ldd "$bin" | grep -E 'libswift|libFoundation|libdispatch|/swift' >&2; then
    echo "install: $bin still links the Swift runtime dynamically (above)" >&2
    exit 1
fi

sudo=""
if ! mkdir -p "$prefix" 2>/dev/null || [[ ! -w $prefix ]]; then sudo="sudo"; fi
put() { $sudo install -D -m "$1" "$2" "$prefix/$3" && echo "installed $prefix/$3"; }
# Stripped: the symbol tables and debug sections are most of the file, and nothing needs
# them at run time (Swift's metadata lives in sections of its own).
$sudo install -D -s -m 755 "$bin" "$prefix/bin/sentinel-repl"
echo "installed $prefix/bin/sentinel-repl (stripped: $(du -h "$prefix/bin/sentinel-repl" | cut -f1), from $(du -h "$bin" | cut -f1))"
put 644 completions/sentinel-repl.bash share/bash-completion/completions/sentinel-repl
put 644 completions/_sentinel-repl share/zsh/site-functions/_sentinel-repl
put 644 completions/sentinel-repl.fish share/fish/vendor_completions.d/sentinel-repl.fish
put 644 "$man" share/man/man1/sentinel-repl.1
