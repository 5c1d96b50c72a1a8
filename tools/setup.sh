#!/usr/bin/env bash
# Installs what blotter needs to build and test on Debian 12 (apt-get, only
# the packages that are missing), then configures and builds into ./build.
# Usage: tools/setup.sh [extra cmake arguments]; BLOTTER_BUILD_DIR (build) is
# the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_packages.sh libbenchmark-dev libjs-chart.js

build_dir=${BLOTTER_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja "$@"
cmake --build "$build_dir" -j"$(nproc)"
