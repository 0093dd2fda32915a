#!/usr/bin/env bash
# Sets up and builds (scripts/setup.sh), then runs the main job on the bundled
# tiny model: `gemma3n serve` starts the whole system (PLE service, text
# worker, vision and audio encoders, gateway) and one streaming chat request
# with an image goes through the gateway. The tiny model has random weights,
# so the text is gibberish; the point is the pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BIN=${BUILD_DIR:-build}/bin
PORT=${PORT:-50051}
LOG=$(mktemp /tmp/gemma3n-demo-XXXXXX.log)

"$BIN"/gemma3n serve --model tests/data/gemma3n-tiny --listen "127.0.0.1:$PORT" >"$LOG" 2>&1 &
SERVE=$!
trap 'kill -TERM $SERVE 2>/dev/null; wait $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q "ready on" "$LOG" && break
  kill -0 $SERVE 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 0.1
done
grep "ready on" "$LOG"
"$BIN"/gemma3n chat --addr "127.0.0.1:$PORT" --image tests/data/images/image_0.png \
  --prompt "${PROMPT:-Describe this image.}" --max-new "${MAX_NEW:-32}"
echo "(service logs: $LOG)"
