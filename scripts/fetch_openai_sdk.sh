#!/usr/bin/env bash
# Fetches the official OpenAI JavaScript SDK (npm package `openai`, no
# dependencies, runs on Node 20) into the cache, once, for the HTTP API's
# integration test (tests/http/openai_client.mjs). It is never committed.
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/gemma3n-grpc/openai-sdk/ (index.mjs there)
set -euo pipefail
VERSION="5.23.2"
PACKAGE="openai@$VERSION"
dest="${XDG_CACHE_HOME:-$HOME/.cache}/gemma3n-grpc/openai-sdk"
if [ -s "$dest/index.mjs" ] && grep -q "\"version\": \"$VERSION\"" "$dest/package.json" 2>/dev/null; then
  exit 0
fi
source "$(dirname "$0")/npm_pack.sh"
npm_pack fetch_openai_sdk "$PACKAGE"
tar -xzf "$work"/*.tgz -C "$work"
# Replace as a whole, through a rename: a half-extracted SDK never looks complete.
mkdir -p "$(dirname "$dest")"
rm -rf "$dest.tmp"
mv "$work/package" "$dest.tmp"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "fetch_openai_sdk: $dest"
