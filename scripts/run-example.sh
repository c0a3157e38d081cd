#!/usr/bin/env bash
# The main job: set up, build, then import the bundled Fashion-MNIST CNN
# (examples/fashion-mnist/model.onnx), compile it to a shared library with
# its C header, and evaluate top-1 accuracy on the 10,000 test images of
# Debian's dataset-fashion-mnist and latency at batch 1 and 64.
#   scripts/run-example.sh            (RUNS=N to change the timing runs)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
OUT=$BUILD_DIR/fashion-mnist
RUNS=${RUNS:-200}
mkdir -p "$OUT"
QO=$BUILD_DIR/bin/quant-opt
RUN=$BUILD_DIR/bin/qo-run
MODEL=examples/fashion-mnist/model.onnx

if [ ! -f "$OUT/test_images.npy" ]; then
  echo "== reading the Fashion-MNIST IDX files into .npy"
  /usr/bin/python3 examples/fashion-mnist/make_npy.py --out "$OUT"
fi

echo "== compiling $MODEL (fp32) for batch 64 and batch 1"
$QO "$MODEL" --batch=64 --emit=shared -o "$OUT/fp32_b64.so"
$QO "$MODEL" --batch=1 --emit=shared -o "$OUT/fp32_b1.so"
echo "   wrote $OUT/fp32_b64.so and its C header $OUT/fp32_b64.h"

echo "== quantizing: fold BN, Q-DQ on fusion-group boundaries, calibrate (moving average of batch extremes) on 512 training images"
$QO "$MODEL" --batch=64 -p quant-prepare --calibrate "$OUT/calib_images.npy" \
    --calibration-table "$OUT/calibration.json" -o "$OUT/int8_qdq.mlir"
echo "   wrote $OUT/int8_qdq.mlir (Q-DQ model) and $OUT/calibration.json (editable table)"
echo "== lowering to int8 arithmetic and compiling (batch 64, and batch 1 re-using the table)"
INT='builtin.module(func.func(quant-lower-to-integer))'
$QO "$OUT/int8_qdq.mlir" -p "$INT" --emit=shared -o "$OUT/int8_b64.so"
$QO "$MODEL" --batch=1 -p quant-prepare --calibration-table "$OUT/calibration.json" -o "$OUT/int8_qdq_b1.mlir"
$QO "$OUT/int8_qdq_b1.mlir" -p "$INT" --emit=shared -o "$OUT/int8_b1.so"
echo "   wrote $OUT/int8_b64.so and its C header $OUT/int8_b64.h"

echo "== evaluating on 10,000 test images"
acc=$($RUN -q "$OUT/fp32_b64.so" "$OUT/test_images.npy" --labels "$OUT/test_labels.npy" -o "$OUT/fp32_logits.npy" | sed -n 's/^top-1: \([0-9.]*\)%.*/\1/p')
$RUN -q "$OUT/int8_b64.so" "$OUT/test_images.npy" -o "$OUT/int8_logits.npy"
q=$(/usr/bin/python3 scripts/compare_logits.py "$OUT/fp32_logits.npy" "$OUT/int8_logits.npy" "$OUT/test_labels.npy")
i64=$($RUN -q "$OUT/int8_b64.so" "$OUT/test_images.npy" --limit 64 --bench "$RUNS" | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
i1=$($RUN -q "$OUT/int8_b1.so" "$OUT/test_images.npy" --limit 1 --bench "$RUNS" | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
isize=$(stat -c %s "$OUT/int8_b64.so")
lat64=$($RUN -q "$OUT/fp32_b64.so" "$OUT/test_images.npy" --limit 64 --bench "$RUNS" | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
lat1=$($RUN -q "$OUT/fp32_b1.so" "$OUT/test_images.npy" --limit 1 --bench "$RUNS" | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
ref=$(sed -n 's/.*"fp32_top1": *\([0-9.]*\).*/\1/p' examples/fashion-mnist/model.json)
size=$(stat -c %s "$OUT/fp32_b64.so")
onnx_size=$(stat -c %s "$MODEL")

echo
echo "| model | top-1 (10k) | agreement with fp32 | logit SQNR | latency b1 (median) | latency b64 (median) | per image b64 | size |"
echo "|---|---|---|---|---|---|---|---|"
awk -v acc="$acc" -v ref="$ref" -v l1="$lat1" -v l64="$lat64" -v so="$size" -v on="$onnx_size" -v q="$q" \
    -v i1="$i1" -v i64="$i64" -v iso="$isize" 'BEGIN {
  printf "| PyTorch fp32 (training script) | %.2f%% | - | - | - | - | - | %d KB .onnx |\n", ref * 100, on / 1024
  printf "| quant-opt fp32 | %s%% | - | - | %s ms | %s ms | %.4f ms | %d KB .so |\n", acc, l1, l64, l64 / 64, so / 1024
  split(q, f, /[ =]/)
  printf "| quant-opt int8 (moving-average calibration) | %s%% | %s%% | %s dB | %s ms | %s ms | %.4f ms | %d KB .so |\n", f[2], f[4], f[6], i1, i64, i64 / 64, iso / 1024
  printf "\nint8 vs fp32 speed (same run): batch 1 %.2fx, batch 64 %.2fx\n", l1 / i1, l64 / i64 }'
echo
echo "(latency: median of $RUNS runs after 3 warm-up runs, 1 thread. The int8 model computes in integers"
echo " (i8 x i8 -> i32, fixed-point requantization); its convolutions and Gemm run in kernels quant-opt"
echo " generates (AVX-512 VNNI / AVX-VNNI / AVX2 / portable, chosen at run time). bench/accuracy.sh compares every"
echo " calibration method and PyTorch's own PTQ; bench/e2e.sh compares speed with ONNX Runtime and PyTorch.)"
