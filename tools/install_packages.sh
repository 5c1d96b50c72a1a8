#!/usr/bin/env bash
# Installs, with apt-get, the Debian 12 packages blotter needs to build and
# test, plus any given as arguments; only those that are missing.
# Usage: tools/install_packages.sh [extra packages]
set -euo pipefail

packages=(cmake ninja-build g++ pkg-config sqlite3 libsqlite3-dev libsqlitecpp-dev libfmt-dev
          doctest-dev libcli11-dev nlohmann-json3-dev libhowardhinnant-date-dev nettle-dev tzdata python3
          "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
