#!/usr/bin/env bash
# Sets up (scripts/setup.sh), builds and runs the test suite: every CTest test
# carries the label "default". --no-tests=error: a filter or label that
# matches nothing is a failure, not a silent pass.
#   TEST_ALL=1  then also the libFuzzer smoke run (scripts/fuzz_smoke.sh: a
#               clang build in build-fuzz/ and ~8 s per fuzz target; the
#               default suite already replays the fuzz corpora) and the
#               sanitizer runs (scripts/sanitize.sh: the default suite under
#               ASan + UBSan in build-asan/, the serving tests under TSan in
#               build-tsan/); too long for CI's 30 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure --no-tests=error -j "$(nproc)" -L default
if [[ "${TEST_ALL:-0}" == 1 ]]; then
  bash scripts/fuzz_smoke.sh
  bash scripts/sanitize.sh asan
  bash scripts/sanitize.sh tsan
fi
