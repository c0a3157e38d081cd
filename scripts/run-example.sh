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

echo "== evaluating on 10,000 test images"
acc=$($RUN -q "$OUT/fp32_b64.so" "$OUT/test_images.npy" --labels "$OUT/test_labels.npy" | sed -n 's/^top-1: \([0-9.]*\)%.*/\1/p')
lat64=$($RUN -q "$OUT/fp32_b64.so" "$OUT/test_images.npy" --limit 64 --bench "$RUNS" | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
lat1=$($RUN -q "$OUT/fp32_b1.so" "$OUT/test_images.npy" --limit 1 --bench "$RUNS" | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
ref=$(sed -n 's/.*"fp32_top1": *\([0-9.]*\).*/\1/p' examples/fashion-mnist/model.json)
size=$(stat -c %s "$OUT/fp32_b64.so")
onnx_size=$(stat -c %s "$MODEL")

echo
echo "| model | top-1 (10k) | PyTorch top-1 | latency b1 (median) | latency b64 (median) | per image b64 | .so size | .onnx size |"
echo "|---|---|---|---|---|---|---|---|"
awk -v acc="$acc" -v ref="$ref" -v l1="$lat1" -v l64="$lat64" -v so="$size" -v on="$onnx_size" 'BEGIN {
  printf "| quant-opt fp32 | %s%% | %.2f%% | %s ms | %s ms | %.4f ms | %d KB | %d KB |\n", acc, ref * 100, l1, l64, l64 / 64, so / 1024, on / 1024 }'
echo
echo "(latency: median of $RUNS runs after 3 warm-up runs, 1 thread; int8 rows join in the next milestones)"
