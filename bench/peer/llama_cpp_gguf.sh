#!/usr/bin/env bash
# Builds llama.cpp's llama-bench and llama-quantize from a source tree and
# converts a Gemma 3n checkpoint (e.g. random weights with the real E2B
# dimensions) to the GGUF files bench/speed_table.sh --peer-gguf compares
# against: F16, then Q8_0 and Q4_0 quantised from it. llama.cpp is never part
# of this project: bring its source yourself (docs/performance.md says which
# commit and how).
#
#   bash bench/peer/llama_cpp_gguf.sh LLAMA_CPP_SRC CKPT_DIR OUT_DIR [--types "F16 Q8_0 Q4_0"]
#
# Writes OUT_DIR/<checkpoint name>-<type>.gguf and prints the --peer-bench /
# --peer-gguf arguments for bench/speed_table.sh. Files already there are
# kept (delete them to convert again). Conversion and quantisation each peak
# near 20 GiB for E2B: run nothing else beside them.
#
# Needs Debian's python3 with python3-torch, python3-numpy,
# python3-sentencepiece and python3-tqdm. The converter wants the
# `transformers` package only to read config.json and the tokenizer, and
# falls back to reading them itself when that fails: a stand-in module whose
# loaders raise takes its place. Debian's torch (1.13) lacks a few dtypes the
# converter names in its tables (torch.uint16/32/64, torch.float8_*): they are
# given placeholder values that no Gemma 3n tensor uses. A checkpoint without
# a tokenizer.model gets the tiny test model's one, which the converter pads
# to the checkpoint's vocabulary (the weights and compute are unchanged).
set -euo pipefail
shopt -s inherit_errexit
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
usage() {
  echo "usage: bash bench/peer/llama_cpp_gguf.sh LLAMA_CPP_SRC CKPT_DIR OUT_DIR [--types \"F16 Q8_0 Q4_0\"]" >&2
  exit 2
}
[ $# -ge 3 ] || usage
SRC=$(realpath "$1") CKPT=$(realpath "$2") OUT=$3
shift 3
TYPES="F16 Q8_0 Q4_0"
while [ $# -gt 0 ]; do
  case "$1" in
    --types) TYPES=$2; shift 2 ;;
    *) usage ;;
  esac
done
PYTHON=/usr/bin/python3  # Debian's, with its python3-* packages
[ -f "$SRC/convert_hf_to_gguf.py" ] || { echo "$SRC is not a llama.cpp source tree (no convert_hf_to_gguf.py)" >&2; exit 2; }
[ -f "$CKPT/config.json" ] || { echo "no config.json in $CKPT" >&2; exit 2; }
for module in torch numpy sentencepiece tqdm; do
  "$PYTHON" -c "import $module" 2>/dev/null ||
    { echo "$PYTHON cannot import $module: apt-get install python3-$module" >&2; exit 2; }
done
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
log() { echo "[$(date +%T)] $*" >&2; }

BUILD=$SRC/build
if [ ! -x "$BUILD/bin/llama-bench" ] || [ ! -x "$BUILD/bin/llama-quantize" ]; then
  log "building llama-bench and llama-quantize in $BUILD (about 10 minutes on 2 cores)"
  cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF >"$OUT/build.log" 2>&1 &&
    cmake --build "$BUILD" --target llama-bench llama-quantize -j "$(nproc)" >>"$OUT/build.log" 2>&1 ||
    { tail -20 "$OUT/build.log" >&2; exit 1; }
fi

WORK=$(mktemp -d /tmp/llama-cpp-gguf-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
NAME=$(basename "$CKPT")
F16=$OUT/$NAME-F16.gguf
if [ ! -f "$F16" ]; then
  # The checkpoint's files, plus a tokenizer.model when it has none.
  MODEL=$WORK/model
  mkdir "$MODEL"
  for file in "$CKPT"/*; do ln -s "$file" "$MODEL/"; done
  [ -e "$MODEL/tokenizer.model" ] || ln -s "$ROOT/tests/data/gemma3n-tiny/tokenizer.model" "$MODEL/tokenizer.model"
  mkdir "$WORK/python"
  cat >"$WORK/python/transformers.py" <<'EOF'
# Stand-in for the transformers package: the converter then reads config.json itself.
class _Unavailable:
    @staticmethod
    def from_pretrained(*args, **kwargs):
        raise RuntimeError("transformers is not installed (stand-in)")
AutoConfig = AutoTokenizer = _Unavailable
EOF
  cat >"$WORK/python/run_converter.py" <<'EOF'
# Runs convert_hf_to_gguf.py with placeholders for the dtypes this torch lacks.
import runpy, sys, torch
for name in ("uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2"):
    if not hasattr(torch, name):
        setattr(torch, name, object())  # a key of its own; no Gemma 3n tensor has it
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
EOF
  log "converting $CKPT to $F16"
  PYTHONPATH="$WORK/python:$SRC/gguf-py" "$PYTHON" "$WORK/python/run_converter.py" "$SRC/convert_hf_to_gguf.py" \
    "$MODEL" --outtype f16 --outfile "$F16.partial" >"$OUT/convert.log" 2>&1 ||
    { tail -20 "$OUT/convert.log" >&2; rm -f "$F16.partial"; exit 1; }
  mv "$F16.partial" "$F16"
fi

ARGS="F16=$F16"
for type in $TYPES; do
  [ "$type" = F16 ] && continue
  file=$OUT/$NAME-$type.gguf
  if [ ! -f "$file" ]; then
    log "quantising to $type"
    "$BUILD/bin/llama-quantize" "$F16" "$file.partial" "$type" >"$OUT/quantize-$type.log" 2>&1 ||
      { tail -20 "$OUT/quantize-$type.log" >&2; rm -f "$file.partial"; exit 1; }
    mv "$file.partial" "$file"
  fi
  ARGS="$ARGS,$type=$file"
done
log "done"
echo "--peer-bench $BUILD/bin/llama-bench --peer-gguf $ARGS"
