#!/usr/bin/env bash
# Sets up and builds (scripts/setup.sh), then runs the main job on the bundled
# tiny model: a chat prompt through gemma3n-inspect generate. The tiny model
# has random weights, so the text is gibberish; the point is the pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
"$BUILD_DIR"/bin/gemma3n-inspect generate --model tests/data/gemma3n-tiny \
  --prompt "${PROMPT:-Write a haiku about the sea.}" --max-new "${MAX_NEW:-32}"
