#!/usr/bin/env bash
# Installs what blotter needs to build and test on Debian 12 (apt-get, only
# the packages that are missing), then configures and builds into ./build.
# Usage: tools/setup.sh [extra cmake arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_packages.sh
cmake -S . -B build -G Ninja "$@"
cmake --build build -j"$(nproc)"
