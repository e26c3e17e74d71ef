#!/usr/bin/env bash
# Checks the formatting, builds everything and runs the whole test suite (unit, static, header,
# layering, CLI, example and package tests). Installs missing Debian packages first.
#   scripts/test.sh            build dir: build/
#   BUILD_DIR=... scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/check_format.sh # cheap, and keeps every later diff clean
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2
ctest --test-dir "$build" -j2 --output-on-failure
