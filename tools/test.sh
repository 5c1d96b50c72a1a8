#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest.
# Usage: tools/test.sh [extra cmake arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh "$@"
ctest --test-dir build --output-on-failure -j"$(nproc)"
