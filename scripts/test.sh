#!/usr/bin/env bash
# Sets everything up, builds, and runs every test (lit IR tests, runtime unit
# tests, ONNX conformance) through ctest, which prints the summary; then the
# fuzz smoke run (scripts/fuzz.sh --smoke: a clang build of the readers with
# libFuzzer + ASan + UBSan in build-fuzz/, every regression reproducer, 5 s of
# fuzzing per harness). QO_FUZZ_SMOKE=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "$@"
BUILD_DIR=${BUILD_DIR:-build}
(cd "$BUILD_DIR" && ctest --output-on-failure)
if [ "${QO_FUZZ_SMOKE:-1}" = 1 ]; then
  scripts/fuzz.sh --smoke
fi
