#!/usr/bin/env bash
# Speed and memory through the full gRPC system: `gemma3n serve` on a
# random-weight checkpoint of the real dimensions (text only), one streaming
# request, the usage the gateway reports (time to first token, decode
# tokens/s) and each process's resident memory.
#   bash bench/serve_bench.sh CKPT_DIR [bf16|int8|int4] [PROMPT_WORDS] [MAX_NEW]
# CKPT_DIR: from gemma3n-make-random-checkpoint. The real tokenizer (fetched
# by scripts/fetch_tokenizer.sh) is linked in beside it for the gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
CKPT=$(realpath "$1")
WEIGHTS=${2:-bf16}
WORDS=${3:-100}
MAX_NEW=${4:-64}
PORT=${PORT:-50073}
BIN=${BUILD_DIR:-build}/bin
TOKENIZER=${XDG_CACHE_HOME:-$HOME/.cache}/gemma3n-grpc/tokenizer-gemma3/tokenizer.json
MODEL=$(mktemp -d /tmp/gemma3n-serve-bench-XXXXXX)
LOG=$MODEL/serve.log
for f in "$CKPT"/*; do ln -s "$f" "$MODEL/"; done
ln -sf "$TOKENIZER" "$MODEL/tokenizer.json"
"$BIN"/gemma3n serve --model "$MODEL" --listen "127.0.0.1:$PORT" --no-vision --no-audio \
  --weights "$WEIGHTS" >"$LOG" 2>&1 &
SERVE=$!
trap 'kill -TERM $SERVE 2>/dev/null; wait $SERVE 2>/dev/null || true; rm -rf "$MODEL"' EXIT
for _ in $(seq 1200); do grep -q "ready on" "$LOG" && break; sleep 0.25; done
grep -q "ready on" "$LOG" || { tail -20 "$LOG"; exit 1; }
PROMPT=$(python3 -c "print(' '.join(['word'] * $WORDS))")
# A warm-up request, then the measured one.
"$BIN"/gemma3n chat --addr "127.0.0.1:$PORT" --raw --prompt "hello" --max-new 4 --quiet >/dev/null
echo "weights $WEIGHTS, prompt of $WORDS words, $MAX_NEW new tokens:"
"$BIN"/gemma3n chat --addr "127.0.0.1:$PORT" --raw --prompt "$PROMPT" --max-new "$MAX_NEW" --ignore-eos \
  2>&1 >/dev/null | tail -1
printf "%-24s %10s %10s\n" process "RSS MB" "peak MB"
for pid in $(cat /proc/$SERVE/task/$SERVE/children); do
  name=$(basename "$(tr '\0' ' ' </proc/$pid/cmdline | cut -d' ' -f1)")
  printf "%-24s %10.1f %10.1f\n" "$name" "$(awk '/VmRSS/ {print $2/1024}' /proc/$pid/status)" \
    "$(awk '/VmHWM/ {print $2/1024}' /proc/$pid/status)"
done
