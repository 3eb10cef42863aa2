#!/usr/bin/env bash
# Prints the path of a valgrind whose callgrind runs the Swift binary. Debian 12's
# valgrind 3.19 stops on it ('Possibly corrupted debuginfo file', or SIGSEGV inside
# valgrind when stripped); 3.24 counts it. When the system's is older than 3.20, this
# fetches Debian 13's package (its tools are static; only the launcher links libc)
# into a cache folder, with apt's own lists kept there too: the system's apt
# configuration is not changed.
set -euo pipefail
if command -v valgrind >/dev/null; then
    version=$(valgrind --version | sed 's/^valgrind-//')
    if [[ $(printf '%s\n3.20\n' "$version" | sort -V | head -1) == 3.20 ]]; then
        command -v valgrind
        exit 0
    fi
fi
cache=${XDG_CACHE_HOME:-$HOME/.cache}/sentinel-repl/valgrind
wrapper=$cache/valgrind
if [[ ! -x $wrapper ]]; then
    mkdir -p "$cache/lists/partial" "$cache/archives/partial"
    cat >"$cache/sources.list" <<'EOF'
deb http://deb.debian.org/debian trixie main
EOF
    apt_options=(-o "Dir::Etc::SourceList=$cache/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$cache/lists" -o "Dir::Cache::Archives=$cache/archives" -o APT::Sandbox::User=root)
    apt-get "${apt_options[@]}" update -qq >&2
    (cd "$cache" && apt-get "${apt_options[@]}" download valgrind >&2)
    rm -rf "$cache/root"
    dpkg -x "$cache"/valgrind_*.deb "$cache/root"
    cat >"$wrapper" <<EOF
#!/bin/sh
VALGRIND_LIB=$cache/root/usr/libexec/valgrind exec $cache/root/usr/bin/valgrind.bin "\$@"
EOF
    chmod +x "$wrapper"
fi
"$wrapper" --version >&2
echo "$wrapper"
