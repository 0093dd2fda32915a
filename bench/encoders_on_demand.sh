#!/usr/bin/env bash
# Encoders on demand, measured: resident memory of the whole `gemma3n serve`
# (serve + every child, VmRSS summed) idle, after a text-only request, after
# an image and after an audio request, and the time of the first image and
# audio request (the worker starts for it) against the next one (warm), for
# --encoders always and on-demand.
#   bash bench/encoders_on_demand.sh [MODEL_DIR] [IMAGE] [AUDIO]
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-tests/data/gemma3n-tiny}
IMAGE=${2:-tests/data/images/image_0.png}
AUDIO=${3:-tests/data/audio/audio_0.wav}
BIN=${BUILD_DIR:-build}/bin

total_rss_mb() {  # serve and its children
  local pids="$1 $(cat /proc/$1/task/$1/children)" kb=0
  for pid in $pids; do kb=$((kb + $(awk '/VmRSS/ {print $2}' /proc/$pid/status))); done
  echo "scale=1; $kb / 1024" | bc
}
seconds() {  # runs "$@", prints its wall time
  local start end
  start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N)
  echo "scale=3; ($end - $start) / 1" | bc
}

printf "%-10s %8s %10s %10s %10s %12s %12s %12s %12s\n" encoders "idle MB" "text MB" "+image MB" "+audio MB" \
  "1st image s" "2nd image s" "1st audio s" "2nd audio s"
for mode in always on-demand; do
  PORT=$((50100 + RANDOM % 1000))
  LOG=$(mktemp /tmp/gemma3n-on-demand-XXXXXX.log)
  "$BIN"/gemma3n serve --model "$MODEL" --listen "127.0.0.1:$PORT" --encoders "$mode" >"$LOG" 2>&1 &
  SERVE=$!
  for _ in $(seq 1200); do grep -q "ready on" "$LOG" && break; sleep 0.1; done
  grep -q "ready on" "$LOG" || { echo "serve did not start: $LOG" >&2; kill $SERVE; exit 1; }
  sleep 1
  chat=("$BIN"/gemma3n chat --addr "127.0.0.1:$PORT" --max-new 1 --quiet)
  idle=$(total_rss_mb $SERVE)
  "${chat[@]}" --prompt "Hello" >/dev/null
  text=$(total_rss_mb $SERVE)
  i1=$(seconds "${chat[@]}" --image "$IMAGE" --prompt "Describe it.")
  i2=$(seconds "${chat[@]}" --image "$IMAGE" --prompt "Describe it.")
  image=$(total_rss_mb $SERVE)
  a1=$(seconds "${chat[@]}" --audio "$AUDIO" --prompt "Transcribe it.")
  a2=$(seconds "${chat[@]}" --audio "$AUDIO" --prompt "Transcribe it.")
  audio=$(total_rss_mb $SERVE)
  printf "%-10s %8s %10s %10s %10s %12s %12s %12s %12s\n" "$mode" "$idle" "$text" "$image" "$audio" "$i1" "$i2" "$a1" "$a2"
  kill -TERM $SERVE; wait $SERVE 2>/dev/null || true
  rm -f "$LOG"
done
