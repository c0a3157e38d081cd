#!/usr/bin/env bash
# Sets everything up, builds, and runs every test (lit IR tests, runtime unit
# tests, ONNX conformance) through ctest, which prints the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "$@"
BUILD_DIR=${BUILD_DIR:-build}
cd "$BUILD_DIR"
ctest --output-on-failure
