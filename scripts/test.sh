#!/usr/bin/env bash
# Sets up (scripts/setup.sh), builds and runs the default test suite.
# Slow suites carry the CTest label "slow" and run only with TEST_ALL=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
label=(-L default)
[ "${TEST_ALL:-0}" = 1 ] && label=()
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" "${label[@]}"
