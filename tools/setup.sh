#!/usr/bin/env bash
# Installs what blotter needs to build and test on Debian 12 (apt-get, only
# the packages that are missing), then configures and builds into ./build.
# Usage: tools/setup.sh [extra cmake arguments]; BLOTTER_BUILD_DIR (build) is
# the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ pkg-config sqlite3 libsqlite3-dev libsqlitecpp-dev libfmt-dev
          doctest-dev libcli11-dev nlohmann-json3-dev libhowardhinnant-date-dev libssl-dev
          libbenchmark-dev libjs-chart.js tzdata python3)
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

build_dir=${BLOTTER_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja "$@"
cmake --build "$build_dir" -j"$(nproc)"
