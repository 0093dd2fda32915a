#!/usr/bin/env bash
# Sanitizer runs: configures a preset of CMakePresets.json (GCC, Ninja,
# ccache), builds what the run needs and runs it under CTest.
#   asan  ASan + UBSan in build-asan/: the whole default suite
#   tsan  TSan in build-tsan/: the serving tests (TSAN_TESTS below)
# The options are exported, so the worker, gateway and PLE processes the
# integration tests start inherit them; every process writes its reports to
# <build>/sanitizer-logs/, and any report there fails the run even when the
# test around it passed (a supervisor restarts a crashed worker, say).
#   SANITIZE_JOBS  build and test parallelism (default 2)
#   SANITIZE_TESTS a ctest -R regex instead of the run's own selection
#   SANITIZE_TARGETS  targets to build instead (none: run what is built)
#   --help         this text
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--help" || $# -ne 1 || ! "$1" =~ ^(asan|tsan)$ ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  [[ "${1:-}" == "--help" ]] && exit 0
  echo "usage: scripts/sanitize.sh asan|tsan"
  exit 2
fi
kind=$1
jobs=${SANITIZE_JOBS:-2}
build="build-$kind"
supp="$PWD/tests/sanitizers"

# The serving tests: the batch scheduler, the gateway's service (streaming),
# reply stream, admission and worker pool, the PLE service and its
# shared-memory client, liveness, the encoder worker, and the whole system
# under concurrent streams and faults (real processes).
TSAN_TESTS='^(BatchSchedulerTest|GemmaServiceTest|ReplyStreamTest|AdmissionTest|WorkerPoolTest|PleServiceTest|PleProcessTest|PleStaleSegmentsTest|LivenessTest|EncoderWorkerTest|GatewayLimitsTest|FaultTest)\.'
TSAN_TARGETS=(serving_test gateway_test ple_test ple_process_test rpc_test encoder_worker_test system_test)

# The tests need the real tokenizer and the OpenAI SDK in the cache
# (scripts/setup.sh installs the packages and fetches both).
bash scripts/fetch_tokenizer.sh >/dev/null
bash scripts/fetch_openai_sdk.sh >/dev/null

start=$SECONDS
if [[ $kind == asan ]]; then
  targets=(all)
  # deploy.containerfile checks the release binaries' shared libraries
  # against the image's package list; instrumented ones link the sanitizer
  # runtimes and more, which no image ships.
  selection=(-L default -E '^deploy\.containerfile$')
else
  targets=("${TSAN_TARGETS[@]}")
  selection=(-L default -R "$TSAN_TESTS")
fi
[[ -n "${SANITIZE_TESTS:-}" ]] && selection=(-L default -R "$SANITIZE_TESTS")
[[ -n "${SANITIZE_TARGETS:-}" ]] && read -r -a targets <<<"$SANITIZE_TARGETS"
if [[ "${targets[*]}" != none ]]; then
  cmake --preset "$kind" >/dev/null
  echo "sanitize $kind: building ${targets[*]} in $build/"
  cmake --build "$build" -j "$jobs" --target "${targets[@]}"
fi
built=$SECONDS

logs="$PWD/$build/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
# A report aborts its process (a test fails, a child exits non-zero), and
# the log file stays behind for the summary.
common="halt_on_error=1:abort_on_error=1:print_summary=1"
export ASAN_OPTIONS="$common:detect_leaks=1:strict_string_checks=1:check_initialization_order=1:log_path=$logs/asan"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="$common:print_stacktrace=1:log_path=$logs/ubsan"
# gRPC and Abseil (Debian's) are not instrumented: TSan cannot see their
# locks, so their own memmove/epoll calls look racy (absl's deadlock graph,
# gRPC's pollers); ignore_noninstrumented_modules keeps interceptors quiet
# when called from such a library, and every access of our code is checked.
export TSAN_OPTIONS="$common:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$supp/tsan.supp:log_path=$logs/tsan"
# OpenBLAS's own thread pool is not instrumented either (TSan would see its
# hand-offs as races) and adds nothing to what is tested here.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

set +e
ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs" "${selection[@]}" | tee "$build/ctest.log"
rc=${PIPESTATUS[0]}
set -e
tested=$SECONDS

reports=$(find "$logs" -type f | sort)
echo
echo "sanitize $kind: build $((built - start)) s, tests $((tested - built)) s"
grep -E '^[0-9]+% tests passed' "$build/ctest.log" || true
if [[ -n "$reports" ]]; then
  echo "sanitize $kind: $(wc -l <<<"$reports") process(es) reported:"
  for f in $reports; do
    echo "--- $f"
    grep -m3 -E 'ERROR: |WARNING: ThreadSanitizer|runtime error|SUMMARY:' "$f" || head -5 "$f"
  done
  rc=1
fi
if ((rc != 0)); then
  echo "sanitize $kind: FAILED"
  exit 1
fi
echo "sanitize $kind: clean"
