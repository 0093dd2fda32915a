#!/usr/bin/env bash
# Soak: `gemma3n serve` under gemma3n-load for MINUTES, each process's
# resident memory (VmRSS, MB) sampled after every load round: flat after the
# first rounds means nothing grows per request.
#   bash bench/soak.sh [MINUTES] [MODEL_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-5}
MODEL=${2:-tests/data/gemma3n-tiny}
BIN=${BUILD_DIR:-build}/bin
PORT=$((51100 + RANDOM % 1000))
LOG=$(mktemp /tmp/gemma3n-soak-XXXXXX.log)
"$BIN"/gemma3n serve --model "$MODEL" --listen "127.0.0.1:$PORT" >"$LOG" 2>&1 &
SERVE=$!
trap 'kill -TERM $SERVE 2>/dev/null; wait $SERVE 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1200); do grep -q "ready on" "$LOG" && break; sleep 0.1; done
grep -q "ready on" "$LOG" || { echo "serve did not start: $LOG" >&2; exit 1; }

children=$(cat /proc/$SERVE/task/$SERVE/children)
printf "%-6s %-8s" round requests
for pid in $children; do printf " %14s" "$(basename "$(tr '\0' ' ' </proc/$pid/cmdline | cut -d' ' -f1)" | sed 's/gemma3n-//')"; done
echo
end=$(( $(date +%s) + MINUTES * 60 )); round=0; total=0
while [ "$(date +%s)" -lt "$end" ]; do
  round=$((round + 1))
  out=$("$BIN"/gemma3n-load --addr "127.0.0.1:$PORT" --clients 64 --requests 4 --max-new 8 \
        --image tests/data/images/image_0.png --audio tests/data/audio/audio_0.wav --media-every 8)
  total=$((total + $(echo "$out" | head -1 | awk '{print $1}')))
  echo "$out" | head -1 | grep -q " 0 failed" || { echo "round $round: $out" >&2; exit 1; }
  printf "%-6s %-8s" "$round" "$total"
  for pid in $children; do printf " %14.1f" "$(awk '/VmRSS/ {print $2/1024}' /proc/$pid/status)"; done
  echo
done
