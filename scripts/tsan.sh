#!/usr/bin/env bash
# ThreadSanitizer check of the library's thread safety: builds quant-opt with
# -fsanitize=thread into build-tsan, then runs
#  - four threads quantizing four models at once through the embedding API
#    (qo-api-test --threads-only: calibration, quantization, JIT each in its
#    own context), and
#  - eight threads calling one compiled model's qo_model_run at once, plus
#    short-lived threads (qo-model-threads).
# Any data race report fails the script. Takes a few minutes on 2 cores.
#   scripts/tsan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-build
BUILD_DIR=${BUILD_DIR:-build-tsan}
mkdir -p "$BUILD_DIR"
cmake -G Ninja -S . -B "$BUILD_DIR" -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DQO_TSAN=ON > "$BUILD_DIR/cmake.log" 2>&1 || { cat "$BUILD_DIR/cmake.log"; exit 1; }
ninja -C "$BUILD_DIR" quant-opt qo-api-test qo-model-threads
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_signal_unsafe=0 suppressions=$PWD/test/tsan.supp"
# One OpenMP thread per caller: libomp is not instrumented, its own
# synchronization would be invisible to TSan.
export OMP_NUM_THREADS=1
echo "tsan: 4 threads quantizing 4 models at once (embedding API)"
"$BUILD_DIR/bin/qo-api-test" . "$tmp" --threads-only
echo "tsan: 8 threads running one compiled model at once, then 100 short-lived threads"
/usr/bin/python3 -c "import numpy as np; np.save('$tmp/calib.npy', np.random.default_rng(0).random((16, 1, 28, 28), dtype=np.float32))"
# The model's ABI wrapper (its allocator cache, the CPU check) instrumented too.
QO_CC="cc -fsanitize=thread" "$BUILD_DIR/bin/quant-opt" examples/fashion-mnist/model.onnx --batch=8 -p quant-prepare --calibrate "$tmp/calib.npy" \
    --calibration-table "$tmp/t.json" --post-pipeline quant-lower-int --emit=shared -o "$tmp/m.so"
"$BUILD_DIR/bin/qo-model-threads" "$tmp/m.so" 8 10 100
echo "tsan: no data races reported"
