#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks (idempotent), fetches the real
# Gemma tokenizer into the cache, and builds into build/ (incremental).
#   BUILD_DIR    build directory (default: build)
#   BUILD_TYPE   CMake build type (default: Release)
# `setup.sh --list-build-packages` prints BUILD_PACKAGES and exits
# (deploy/Containerfile installs them from there).
set -euo pipefail
cd "$(dirname "$0")/.."

# What building the programs needs.
BUILD_PACKAGES=(
  g++ cmake ninja-build pkg-config ccache git ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libopenblas-dev libsndfile1-dev libstb-dev libspdlog-dev
  nlohmann-json3-dev libsimdjson-dev libsentencepiece-dev libsamplerate0-dev libfftw3-dev libcsv-dev libssl-dev libturbojpeg0-dev zlib1g-dev
  libcpp-httplib-dev libcurl4-openssl-dev curl openssl
)
if [ "${1:-}" = "--list-build-packages" ]; then
  printf '%s\n' "${BUILD_PACKAGES[@]}"
  exit 0
fi
# ... and the tests, the benches and the fuzz build on top.
PACKAGES=(
  "${BUILD_PACKAGES[@]}"
  libgtest-dev libgmock-dev libbenchmark-dev python3-grpcio
  clang-14 libclang-rt-14-dev  # the fuzz build (scripts/fuzz_smoke.sh); libFuzzer is in libclang-rt-14-dev
  systemd python3-kubernetes  # tests/deploy: systemd-analyze, the Kubernetes API models
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
# tests/deploy: kubectl kustomize. Debian's kubernetes-client, unless a kubectl
# is there already (another package's /usr/bin/kubectl would collide with it).
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

bash scripts/fetch_tokenizer.sh
bash scripts/fetch_openai_sdk.sh

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-Release}
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "${launcher[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
