#!/usr/bin/env bash
# One bench smoke run for CTest: runs the bench command, shows its output, and
# passes only when it exits 0 and printed its figures (every line of
# FIGURES_REGEX, an extended regex per line, matches some output line).
# Never looks at the numbers themselves: benches are not timed in tests.
#   bench_smoke.sh FIGURES_REGEX COMMAND [ARGS...]
set -uo pipefail
figures=$1
shift
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 0 ]; then
  echo "bench_smoke: '$1' exited with status $rc" >&2
  exit 1
fi
while IFS= read -r pattern; do
  [ -z "$pattern" ] && continue
  if ! grep -Eq -- "$pattern" <<<"$out"; then
    echo "bench_smoke: '$1' printed no line matching: $pattern" >&2
    exit 1
  fi
done <<<"$figures"
echo "bench_smoke: '$1' ran and printed its figures"
