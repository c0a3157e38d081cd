#!/usr/bin/env bash
# Accuracy of quant-opt's int8 (fake-quant, exact int8 semantics simulated in
# fp32) against fp32, per calibration method and activation scheme, with
# PyTorch's own PTQ of the same model beside it (bench/peers/torch_ptq.json,
# produced by bench/peers/torch_ptq.py). Prints one markdown table.
#   bench/accuracy.sh [model.onnx]     (BUILD_DIR, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
MODEL=${1:-examples/fashion-mnist/model.onnx}
OUT=$BUILD_DIR/bench-accuracy
QO=$BUILD_DIR/bin/quant-opt
RUN=$BUILD_DIR/bin/qo-run
[ -x "$QO" ] || scripts/setup.sh
mkdir -p "$OUT"
DATA=$BUILD_DIR/fashion-mnist
[ -f "$DATA/test_images.npy" ] || /usr/bin/python3 examples/fashion-mnist/make_npy.py --out "$DATA" >/dev/null

$RUN -q "$MODEL" "$DATA/test_images.npy" -o "$OUT/fp32.npy"
fp32=$(/usr/bin/python3 scripts/compare_logits.py "$OUT/fp32.npy" "$OUT/fp32.npy" "$DATA/test_labels.npy" | sed 's/.*top1=\([0-9.]*\).*/\1/')

echo "| model | calibration | activations | top-1 | drop (points) | agreement with fp32 | logit SQNR (dB) |"
echo "|---|---|---|---|---|---|---|"
echo "| fp32 | - | - | $fp32% | - | - | - |"
for scheme in "affine uint8" "symmetric int8"; do
  set -- $scheme
  tag="$1-$2"
  # One calibration run per scheme serves every method (one statistics pass).
  $QO "$MODEL" --batch=64 -p "builtin.module(func.func(quant-fold-batchnorm,quant-insert-qdq{activation-scheme=$1 activation-dtype=$2}))" \
      --calibrate "$DATA/calib_images.npy" --calibration-table "$OUT/table-$tag.json" -o /dev/null 2>/dev/null
  for m in minmax moving_avg percentile mse mean_std kl; do
    $QO "$MODEL" --batch=64 -p "builtin.module(func.func(quant-fold-batchnorm,quant-insert-qdq{activation-scheme=$1 activation-dtype=$2}))" \
        --calibration-table "$OUT/table-$tag.json" --calib-method $m -o "$OUT/q-$tag-$m.mlir"
    $RUN -q "$OUT/q-$tag-$m.mlir" "$DATA/test_images.npy" -o "$OUT/q-$tag-$m.npy"
    r=$(/usr/bin/python3 scripts/compare_logits.py "$OUT/fp32.npy" "$OUT/q-$tag-$m.npy" "$DATA/test_labels.npy")
    /usr/bin/python3 - "$r" "$fp32" "$m" "$1 $2" <<'PY'
import sys
kv = dict(x.split("=") for x in sys.argv[1].split())
print("| quant-opt int8 | %s | %s | %s%% | %.2f | %s%% | %s |" % (
    sys.argv[3], sys.argv[4], kv["top1"], float(sys.argv[2]) - float(kv["top1"]), kv["agree"], kv["sqnr"]))
PY
  done
done
if [ -f bench/peers/torch_ptq.json ]; then
  /usr/bin/python3 - <<'PY'
import json
d = json.load(open("bench/peers/torch_ptq.json"))
for name, c in d["configs"].items():
    print("| PyTorch int8 (%s) | %s | quint8 affine | %.2f%% | %.2f | %.2f%% | %.2f |" % (
        d["engine"], c["activation_observer"], c["top1"] * 100, c["drop_points"],
        c["agreement_with_fp32"] * 100, c["logit_sqnr_db"]))
PY
fi
echo
echo "(10,000 test images; calibration: the first 512 training images; weights int8 per-channel symmetric;"
echo " quant-opt int8 is simulated exactly in fp32 until integer lowering lands; PyTorch from bench/peers/torch_ptq.json)"
