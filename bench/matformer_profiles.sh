#!/usr/bin/env bash
# Decode speed and resident memory per MatFormer profile on random weights with
# the real E4B dimensions: one process per profile, the same loaded checkpoint
# files each time. Writes the checkpoint (~14 GB) once into $CKPT.
#   bash bench/matformer_profiles.sh [PROFILES...]   (default: E4B E3.18B-layer E2.54B-layer E2B)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
CKPT=${CKPT:-${XDG_CACHE_HOME:-$HOME/.cache}/gemma3n-grpc/random-e4b}
THREADS=${THREADS:-2}
[ -f "$CKPT/config.json" ] || "$BUILD_DIR"/bin/gemma3n-make-random-checkpoint \
  --config tests/data/real-configs/gemma-3n-E4B.config.json --out "$CKPT"
profiles=("$@")
((${#profiles[@]})) || profiles=(E4B E3.18B-layer E2.54B-layer E2B)
# Two passes. Through the file mapping, resident memory is what the profile
# touched (a short run: on machines whose page cache does not keep the files,
# mapped decoding rereads them from disk). With --preload the weights are
# copied into memory at load (the whole E4B: any profile can run), and the
# speed does not depend on the page cache.
run() {
  echo
  echo "random E4B-dimension weights, bf16, $THREADS threads, prompt $1, generate $2, $3"
  echo "| profile        | layers | streams | threads | prompt tok/s | gen tok/s (all streams) | RSS GB | peak RSS GB | load s |"
  for p in "${profiles[@]}"; do
    "$BUILD_DIR"/bin/gemma3n-decode-bench --model "$CKPT" --profile "$p" --threads "$THREADS" \
      --prompt "$1" --generate "$2" ${4:-} 2>/dev/null
  done
}
run 8 2 "mapped (memory touched)"
run "${PROMPT:-32}" "${GENERATE:-32}" "preloaded (speed)" --preload
