#!/usr/bin/env bash
# Installs quant-opt's build and test dependencies from Debian (idempotent:
# apt-get runs only when something is missing) and builds it into build/.
#   scripts/setup.sh [--no-build] [extra cmake args...]
# Environment: BUILD_DIR (default build), QO_SANITIZE=1 for ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(cmake ninja-build gcc g++ make
      llvm-22-dev llvm-22-tools mlir-22-tools libmlir-22-dev clang-22 lld-22 libomp-22-dev
      libclang-rt-22-dev
      libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata libjson-c-dev
      dataset-fashion-mnist python3 python3-numpy)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--no-build" ]; then exit 0; fi

BUILD_DIR=${BUILD_DIR:-build}
args=(-G Ninja -S . -B "$BUILD_DIR" -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir
      -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-Release})
if [ "${QO_SANITIZE:-0}" = 1 ]; then args+=(-DQO_SANITIZE=ON); fi
mkdir -p "$BUILD_DIR"
cmake "${args[@]}" "$@" > "$BUILD_DIR/cmake.log" 2>&1 || { cat "$BUILD_DIR/cmake.log"; exit 1; }
ninja -C "$BUILD_DIR"
