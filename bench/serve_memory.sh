#!/usr/bin/env bash
# Resident memory of each process of `gemma3n serve` after one streaming
# request: VmRSS (now) and VmHWM (peak), from /proc.
#   bash bench/serve_memory.sh [MODEL_DIR] [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-tests/data/gemma3n-tiny}
PORT=${2:-50071}
BIN=${BUILD_DIR:-build}/bin
LOG=$(mktemp /tmp/gemma3n-serve-memory-XXXXXX.log)
"$BIN"/gemma3n serve --model "$MODEL" --listen "127.0.0.1:$PORT" >"$LOG" 2>&1 &
SERVE=$!
trap 'kill -TERM $SERVE 2>/dev/null; wait $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 600); do grep -q "ready on" "$LOG" && break; sleep 0.1; done
"$BIN"/gemma3n chat --addr "127.0.0.1:$PORT" --prompt "Tell me a story." --max-new 64 --quiet >/dev/null
printf "%-24s %10s %10s\n" process "RSS MB" "peak MB"
for pid in $(cat /proc/$SERVE/task/$SERVE/children); do
  name=$(basename "$(tr '\0' ' ' </proc/$pid/cmdline | cut -d' ' -f1)")
  rss=$(awk '/VmRSS/ {print $2/1024}' /proc/$pid/status)
  hwm=$(awk '/VmHWM/ {print $2/1024}' /proc/$pid/status)
  printf "%-24s %10.1f %10.1f\n" "$name" "$rss" "$hwm"
done
