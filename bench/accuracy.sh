#!/usr/bin/env bash
# Accuracy of quant-opt's int8 models against fp32 and against PyTorch's own
# post-training quantization of the same models, on Fashion-MNIST.
# For each model: fp32; quant-opt int8 computed in integers
# (quant-lower-to-integer) per calibration method and activation scheme
# (one calibration run per scheme serves all methods); PyTorch int8 rows from
# bench/peers/torch_ptq*.json (bench/peers/torch_ptq.py). One markdown table.
#   bench/accuracy.sh [model-dir ...]   (default: every examples/*/model.onnx; BUILD_DIR)
#   METHODS="minmax mse" SCHEMES="affine-uint8" to narrow the sweep.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
QO=$BUILD_DIR/bin/quant-opt
RUN=$BUILD_DIR/bin/qo-run
[ -x "$QO" ] || scripts/setup.sh
METHODS=${METHODS:-"minmax moving_avg percentile mse mean_std kl"}
SCHEMES=${SCHEMES:-"affine-uint8 symmetric-int8"}
DATA=$BUILD_DIR/fashion-mnist
[ -f "$DATA/test_images.npy" ] || /usr/bin/python3 examples/fashion-mnist/make_npy.py --out "$DATA" >/dev/null
if [ $# -eq 0 ]; then set -- $(ls -d examples/*/ | while read -r d; do [ -f "$d/model.onnx" ] && echo "${d%/}"; done); fi

row() { # name calib scheme fp32.npy q.npy
  r=$(/usr/bin/python3 scripts/compare_logits.py "$4" "$5" "$DATA/test_labels.npy")
  /usr/bin/python3 - "$r" "$FP32" "$1" "$2" "$3" "$MODEL_NAME" <<'PY'
import sys
kv = dict(x.split("=") for x in sys.argv[1].split())
print("| %s | %s | %s | %s | %s%% | %.2f | %s%% | %s |" % (sys.argv[6], sys.argv[3], sys.argv[4], sys.argv[5],
      kv["top1"], float(sys.argv[2]) - float(kv["top1"]), kv["agree"], kv["sqnr"]))
PY
}

echo "| model | engine | calibration | activations | top-1 | drop (points) | agreement with fp32 | logit SQNR (dB) |"
echo "|---|---|---|---|---|---|---|---|"
for dir in "$@"; do
  MODEL_NAME=$(basename "$dir")
  MODEL=$dir/model.onnx
  OUT=$BUILD_DIR/bench-accuracy/$MODEL_NAME
  mkdir -p "$OUT"
  $RUN -q "$MODEL" "$DATA/test_images.npy" -o "$OUT/fp32.npy"
  FP32=$(/usr/bin/python3 scripts/compare_logits.py "$OUT/fp32.npy" "$OUT/fp32.npy" "$DATA/test_labels.npy" | sed 's/.*top1=\([0-9.]*\).*/\1/')
  echo "| $MODEL_NAME | fp32 | - | - | $FP32% | - | - | - |"
  for scheme in $SCHEMES; do
    sch=${scheme%-*} dt=${scheme#*-}
    prep="builtin.module(func.func(quant-fold-batchnorm,quant-insert-qdq{activation-scheme=$sch activation-dtype=$dt}))"
    $QO "$MODEL" --batch=64 -p "$prep" --calibrate "$DATA/calib_images.npy" \
        --calibration-table "$OUT/table-$scheme.json" -o "$OUT/qdq-$scheme.mlir" 2>/dev/null
    for m in $METHODS; do
      $QO "$MODEL" --batch=64 -p "$prep" --calibration-table "$OUT/table-$scheme.json" --calib-method "$m" \
          --post-pipeline quant-lower-int -o "$OUT/int8-$scheme-$m.mlir"
      $RUN -q "$OUT/int8-$scheme-$m.mlir" "$DATA/test_images.npy" -o "$OUT/int8-$scheme-$m.npy"
      row "quant-opt int8" "$m" "$sch $dt" "$OUT/fp32.npy" "$OUT/int8-$scheme-$m.npy"
    done
  done
  json=bench/peers/torch_ptq_$MODEL_NAME.json
  [ "$MODEL_NAME" = fashion-mnist ] && json=bench/peers/torch_ptq.json
  if [ -f "$json" ]; then
    /usr/bin/python3 - "$json" "$MODEL_NAME" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for name, c in d["configs"].items():
    print("| %s | PyTorch int8 (%s) | %s | quint8 affine | %.2f%% | %.2f | %.2f%% | %.2f |" % (
        sys.argv[2], d["engine"], c["activation_observer"], c["top1"] * 100, c["drop_points"],
        c["agreement_with_fp32"] * 100, c["logit_sqnr_db"]))
PY
  fi
done
echo
echo "(10,000 test images; calibration: the first 512 training images; quant-opt int8 weights are per-channel"
echo " symmetric int8 and the model computes in integers; PyTorch: eager static PTQ, engine onednn.)"
