#!/usr/bin/env bash
# The libFuzzer smoke run: configures build-fuzz/ with clang-14 (Ninja, ccache,
# GEMMA3N_FUZZ=ON: coverage instrumentation + ASan + UBSan), builds the fuzz
# targets of tests/fuzz/, runs each for FUZZ_SECONDS on a scratch copy of its
# corpus and prints the executions and coverage libFuzzer reached. Fails on
# any crash, sanitizer report, leak, timeout or out-of-memory; the input that
# did it is left in build-fuzz/findings/<target>/ (add it to the corpus once
# fixed, as a regression case).
#   FUZZ_SECONDS  seconds per target (default 8)
#   FUZZ_TARGETS  space-separated subset (default: all)
#   FUZZ_DIR      build directory (default: build-fuzz)
#   --help        this text
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--help" ]]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

ALL_TARGETS="safetensors_header shard_index model_config tokenizer image audio audio_config request http_request hub_response"
FUZZ_SECONDS=${FUZZ_SECONDS:-8}
FUZZ_TARGETS=${FUZZ_TARGETS:-$ALL_TARGETS}
FUZZ_DIR=${FUZZ_DIR:-build-fuzz}
command -v clang++-14 >/dev/null || { echo "fuzz_smoke: clang++-14 missing (bash scripts/setup.sh installs it)"; exit 1; }

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$FUZZ_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" \
  -DGEMMA3N_FUZZ=ON -DGEMMA3N_BUILD_TESTS=OFF -DGEMMA3N_BUILD_BENCH=OFF >/dev/null
targets=()
for t in $FUZZ_TARGETS; do targets+=("fuzz_$t"); done
echo "fuzz_smoke: building ${targets[*]}"
cmake --build "$FUZZ_DIR" -j "$(nproc)" --target "${targets[@]}"

# Leaks: a parser that leaks on every bad input exhausts a server's memory too,
# so they count; libFuzzer's own -detect_leaks stays on.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
printf '%-20s %12s %8s %8s %s\n' target executions cov ft result
for t in $FUZZ_TARGETS; do
  work="$FUZZ_DIR/fuzz-work/$t"
  findings="$FUZZ_DIR/findings/$t"
  rm -rf "$work"
  mkdir -p "$work" "$findings"
  cp -r "tests/fuzz/corpus/$t/." "$work/"
  log="$FUZZ_DIR/fuzz-work/$t.log"
  set +e
  "$FUZZ_DIR/bin/fuzz_$t" "$work" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=10 \
    -malloc_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)  # none when it crashed at once
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  result=ok
  if ((rc != 0)); then
    result="FAILED (rc $rc, see $log; input in $findings/)"
    failed+=("$t")
  fi
  printf '%-20s %12s %8s %8s %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
if ((${#failed[@]})); then
  echo "fuzz_smoke: FAILED: ${failed[*]}"
  for t in "${failed[@]}"; do grep -m1 -E 'ERROR: |runtime error|fuzz contract' "$FUZZ_DIR/fuzz-work/$t.log" || true; done
  exit 1
fi
echo "fuzz_smoke: all ${FUZZ_SECONDS}s runs clean"
