#!/usr/bin/env bash
# End-to-end speed of quant-opt's int8 and fp32 models against ONNX Runtime
# (npm onnxruntime-node, int8 QDQ model and fp32) and PyTorch (eager static
# PTQ on the onednn engine, and fp32) on the bundled Fashion-MNIST models, at
# batch 1 and 64 with 1 and 2 threads. Prints one markdown table and notes.
#   bench/e2e.sh                       (BUILD_DIR, default build)
# Knobs (environment):
#   MODELS="fashion-mnist resnet-fmnist mobilenetv2-fmnist"   BATCHES="1 64"   THREADS="1 2"
#   REPS=3      sweeps; every cell is the median over the sweeps of each sweep's median
#   RUNS=200    timed iterations per measurement at most ...
#   BUDGET=1.0  ... but a measurement stops after BUDGET seconds (never under 5 iterations)
#   EVAL=500    test images for the accuracy sanity check
#   PEERS="ort torch"   which peers to run (quant-opt always runs; PEERS= for none)
#   ORT_VERSION=1.30.0  onnxruntime-node version npm installs into $BUILD_DIR/bench-e2e
#   QO_ENV="VAR=value ..."  extra environment for the quant-opt timing runs only, e.g.
#       QO_ENV=GLIBC_TUNABLES=glibc.malloc.trim_threshold=4000000000:glibc.malloc.mmap_threshold=4000000000
# Artifacts (compiled .so files, calibration tables, QDQ models, raw results)
# are cached under $BUILD_DIR/bench-e2e and rebuilt when quant-opt, a model or
# a peer script is newer.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
QO=$BUILD_DIR/bin/quant-opt
RUN=$BUILD_DIR/bin/qo-run
[ -x "$QO" ] || scripts/setup.sh
MODELS=${MODELS:-"fashion-mnist resnet-fmnist mobilenetv2-fmnist"}
BATCHES=${BATCHES:-"1 64"}
THREADS=${THREADS:-"1 2"}
REPS=${REPS:-3}
RUNS=${RUNS:-200}
BUDGET=${BUDGET:-1.0}
EVAL=${EVAL:-500}
PEERS=${PEERS-"ort torch"}
ORT_VERSION=${ORT_VERSION:-1.30.0}
QO_ENV=${QO_ENV:-}
PY=/usr/bin/python3
OUT=$BUILD_DIR/bench-e2e
DATA=$BUILD_DIR/fashion-mnist
mkdir -p "$OUT"
log() { echo "e2e: $*" >&2; }
comma() { echo "$*" | tr ' ' ','; }
# stale <target> <dependency...>: true when the target is missing or older than one of them
stale() { local t=$1; shift; [ -f "$t" ] || return 0; for d; do [ "$d" -nt "$t" ] && return 0; done; return 1; }

[ -f "$DATA/test_images.npy" ] || $PY examples/fashion-mnist/make_npy.py --out "$DATA" >/dev/null
for b in $BATCHES; do
  if stale "$OUT/x_b$b.npy" "$DATA/test_images.npy"; then
    $PY -c "import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1])[:int(sys.argv[3])])" \
        "$DATA/test_images.npy" "$OUT/x_b$b.npy" "$b"
  fi
done

# ---- peers available?
has_ort=0 has_torch=0
if [[ " $PEERS " == *" ort "* ]]; then
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then
      log "installing nodejs and npm"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2 || true
    fi
  fi
  if command -v node >/dev/null && command -v npm >/dev/null; then
    if [ "$(NODE_PATH=$OUT/node_modules node bench/peers/ort_bench.js version 2>/dev/null)" != "$ORT_VERSION" ]; then
      log "npm install onnxruntime-node@$ORT_VERSION into $OUT/node_modules"
      # --ignore-scripts: the CPU binaries are in the package; the install script
      # only fetches optional CUDA binaries (from api.nuget.org)
      npm install --prefix "$OUT" --no-audit --no-fund --ignore-scripts --loglevel=error \
          "onnxruntime-node@$ORT_VERSION" >&2 || log "npm install failed: no ORT columns"
    fi
    NODE_PATH=$OUT/node_modules node bench/peers/ort_bench.js version >/dev/null 2>&1 && has_ort=1
  else
    log "node/npm not found: no ORT columns"
  fi
fi
export NODE_PATH=$OUT/node_modules
if [[ " $PEERS " == *" torch "* ]]; then
  if $PY -c "import torch, sys; sys.exit('onednn' not in torch.backends.quantized.supported_engines)" 2>/dev/null; then
    has_torch=1
  else
    log "$PY has no torch with the onednn quantized engine: no PyTorch columns"
  fi
fi

# ---- build: quant-opt .so files, QDQ model; accuracy sanity check
# (record which compiler builds the .so files: the build dir may be rebuilt meanwhile)
QO_MTIME=$(date -u -r "$QO" "+%Y-%m-%d %H:%M:%S UTC")
HEAD_V=$(git rev-parse --short HEAD 2>/dev/null || echo ?)$(git diff --quiet HEAD -- 2>/dev/null || echo +dirty)
SANITY=$OUT/sanity.txt
: > "$SANITY"
for m in $MODELS; do
  model=examples/$m/model.onnx
  D=$OUT/$m
  mkdir -p "$D"
  if stale "$D/table.json" "$QO" "$model" "$DATA/calib_images.npy"; then
    log "$m: calibrating (quant-prepare, 512 training images)"
    $QO "$model" --batch=64 -p quant-prepare --calibrate "$DATA/calib_images.npy" \
        --calibration-table "$D/tmp-table.json" -o "$D/qdq-calibrated.mlir"
    mv "$D/tmp-table.json" "$D/table.json"
  fi
  for b in $(echo 64 $BATCHES | tr ' ' '\n' | sort -un); do
    if stale "$D/int8_b$b.so" "$QO" "$model" "$D/table.json"; then
      log "$m: compiling int8 batch $b"
      $QO "$model" --batch=$b -p quant-prepare --calibration-table "$D/table.json" \
          --post-pipeline quant-lower-int --emit=shared -o "$D/tmp-int8_b$b.so" --emit-header="$D/int8_b$b.h"
      mv "$D/tmp-int8_b$b.so" "$D/int8_b$b.so"  # only a complete .so counts as cached
    fi
    if stale "$D/fp32_b$b.so" "$QO" "$model"; then
      log "$m: compiling fp32 batch $b"
      $QO "$model" --batch=$b --emit=shared -o "$D/tmp-fp32_b$b.so" --emit-header="$D/fp32_b$b.h"
      mv "$D/tmp-fp32_b$b.so" "$D/fp32_b$b.so"
    fi
  done
  $RUN -q "$D/fp32_b64.so" "$DATA/test_images.npy" --limit "$EVAL" -o "$D/qo_fp32.npy" >/dev/null
  $RUN -q "$D/int8_b64.so" "$DATA/test_images.npy" --limit "$EVAL" -o "$D/qo_int8.npy" >/dev/null
  echo "$m qo $($PY scripts/compare_logits.py "$D/qo_fp32.npy" "$D/qo_fp32.npy" "$DATA/test_labels.npy" | cut -d' ' -f1)" \
       "$($PY scripts/compare_logits.py "$D/qo_fp32.npy" "$D/qo_int8.npy" "$DATA/test_labels.npy")" >> "$SANITY"
  if [ $has_ort = 1 ]; then
    if stale "$D/qdq.onnx" "$model" bench/peers/make_qdq.py "$DATA/calib_images.npy"; then
      log "$m: building the QDQ model for ORT"
      $PY bench/peers/make_qdq.py "$model" "$DATA/calib_images.npy" "$D/qdq.onnx" --json "$D/qdq.json" >&2
    fi
    node bench/peers/ort_bench.js eval "$model" "$DATA/test_images.npy" "$D/ort_fp32.npy" --limit "$EVAL"
    node bench/peers/ort_bench.js eval "$D/qdq.onnx" "$DATA/test_images.npy" "$D/ort_int8.npy" --limit "$EVAL" \
        --optimized "$D/qdq.ort-optimized.onnx" 2>/dev/null
    echo "$m ort $($PY scripts/compare_logits.py "$D/ort_fp32.npy" "$D/ort_fp32.npy" "$DATA/test_labels.npy" | cut -d' ' -f1)" \
         "$($PY scripts/compare_logits.py "$D/ort_fp32.npy" "$D/ort_int8.npy" "$DATA/test_labels.npy")" \
         "ops=$($PY - "$D/qdq.ort-optimized.onnx" <<'PY'
import collections, sys
sys.path.insert(0, "examples/fashion-mnist")
sys.dont_write_bytecode = True
import onnx_inspect
c = collections.Counter(n.op_type for n in onnx_inspect.load(sys.argv[1])["nodes"])
print(",".join(f"{k}:{v}" for k, v in sorted(c.items())))
PY
)" >> "$SANITY"
  fi
done

# ---- timing sweeps
RES=$OUT/results.tsv
: > "$RES"
declare -A QO_ITERS
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for rep in $(seq "$REPS"); do
  for m in $MODELS; do
    D=$OUT/$m
    log "sweep $rep/$REPS: $m"
    for t in $THREADS; do
      for b in $BATCHES; do
        for k in int8 fp32; do
          so=$D/${k}_b$b.so key=$m.$b.$t.$k
          if [ -z "${QO_ITERS[$key]:-}" ]; then  # iterations that fit the budget
            est=$(env $QO_ENV OMP_NUM_THREADS=$t $RUN -q "$so" "$OUT/x_b$b.npy" --bench 5 --warmup 1 | sed -n 's/.*median \([0-9.e+-]*\) ms.*/\1/p')
            QO_ITERS[$key]=$(awk -v e="$est" -v b="$BUDGET" -v r="$RUNS" 'BEGIN { n = int(b * 1000 / (e > 0 ? e : 1e-3)); if (n > r) n = r; if (n < 5) n = 5; print n }')
          fi
          med=$(env $QO_ENV OMP_NUM_THREADS=$t $RUN -q "$so" "$OUT/x_b$b.npy" --bench "${QO_ITERS[$key]}" --warmup 3 | sed -n 's/.*median \([0-9.e+-]*\) ms.*/\1/p')
          if [ -n "$med" ]; then printf '%s\t%s\t%s\t%s\tqo-%s\t%s\n' "$rep" "$m" "$b" "$t" "$k" "$med" >> "$RES"
          else log "no latency from qo-run for $so"; fi
        done
      done
    done
    if [ $has_ort = 1 ]; then
      ins=()
      for b in $BATCHES; do ins+=(--input "$b=$OUT/x_b$b.npy"); done
      node bench/peers/ort_bench.js bench --threads "$(comma $THREADS)" --iters "$RUNS" --budget "$BUDGET" \
          --model "int8=$D/qdq.onnx" --model "fp32=examples/$m/model.onnx" "${ins[@]}" |
        sed -n "s/^ort \([a-z0-9]*\) b=\([0-9]*\) t=\([0-9]*\) median_ms=\([0-9.]*\).*/$rep\t$m\t\2\t\3\tort-\1\t\4/p" >> "$RES" ||
        log "ORT failed on $m"
    fi
    if [ $has_torch = 1 ]; then
      [ "$rep" = 1 ] && rm -f "$D/torch.fp32.npy" "$D/torch.int8.npy"
      $PY bench/peers/torch_bench.py --model "$m" --batches "$(comma $BATCHES)" --threads "$(comma $THREADS)" \
          --iters "$RUNS" --budget "$BUDGET" \
          $([ "$rep" = 1 ] && echo --eval-logits "$D/torch" --eval-count "$EVAL") |
        sed -n "s/^torch \([a-z0-9-]*\) b=\([0-9]*\) t=\([0-9]*\) median_ms=\([0-9.]*\).*/$rep\t$m\t\2\t\3\ttorch-\1\t\4/p" >> "$RES" ||
        log "PyTorch failed on $m"
      if [ "$rep" = 1 ] && [ -f "$D/torch.int8.npy" ]; then
        echo "$m torch $($PY scripts/compare_logits.py "$D/torch.fp32.npy" "$D/torch.fp32.npy" "$DATA/test_labels.npy" | cut -d' ' -f1)" \
             "$($PY scripts/compare_logits.py "$D/torch.fp32.npy" "$D/torch.int8.npy" "$DATA/test_labels.npy")" >> "$SANITY"
      fi
    fi
  done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report
export QO_ENV RES SANITY MODELS BATCHES THREADS REPS RUNS BUDGET EVAL LOAD0 LOAD1 BUILD_DIR
export ORT_V=$([ $has_ort = 1 ] && node bench/peers/ort_bench.js version || echo -)
export NODE_V=$(node --version 2>/dev/null || echo -)
export TORCH_V=$([ $has_torch = 1 ] && $PY -c 'import torch; print(torch.__version__)' || echo -)
export HEAD_V QO_MTIME
[ "$(date -u -r "$QO" "+%Y-%m-%d %H:%M:%S UTC")" = "$QO_MTIME" ] && QO_CHANGED= ||
  QO_CHANGED=" ($QO was rebuilt during the sweeps; the timed .so files are the ones built before them)"
export QO_CHANGED
export CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
export ISA=$(grep -o -w -E 'avx512_vnni|avx_vnni|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' ')
export NCPU=$(nproc) DATE=$(date -u +%Y-%m-%d)
$PY - <<'PY'
import collections, os, statistics as st
E = os.environ
models, batches, threads = E["MODELS"].split(), E["BATCHES"].split(), E["THREADS"].split()
v = collections.defaultdict(dict)   # (model, batch, threads, engine) -> {sweep: ms}
for line in open(E["RES"]):
    rep, m, b, t, e, ms = line.split()
    v[(m, b, t, e)][rep] = float(ms)
script_wins = total = 0
for (m, b, t, e) in list(v):  # PyTorch fp32: the faster of eager and TorchScript, per sweep
    if e == "torch-fp32-eager":
        s = v.get((m, b, t, "torch-fp32-script"), {})
        for r, x in v[(m, b, t, e)].items():
            y = s.get(r, float("inf"))
            v[(m, b, t, "torch-fp32")][r] = min(x, y)
            script_wins += y < x
            total += 1


def med(m, b, t, e):
    d = v.get((m, b, t, e))
    return st.median(d.values()) if d else None


def ratio(m, b, t, num, den):  # median over sweeps of the same-sweep ratio
    a, c = v.get((m, b, t, num), {}), v.get((m, b, t, den), {})
    rs = [a[r] / c[r] for r in a if r in c and c[r] > 0]
    return st.median(rs) if rs else None


fmt = lambda x: "-" if x is None else ("%.3f" % x if x < 10 else "%.1f" % x)
fr = lambda x: "-" if x is None else "%.2fx" % x
cols = [("qo-int8", "quant-opt int8"), ("qo-fp32", "quant-opt fp32"), ("ort-int8", "ORT int8"),
        ("ort-fp32", "ORT fp32"), ("torch-int8", "PyTorch int8"), ("torch-fp32", "PyTorch fp32")]
print("| model | batch | threads | " + " | ".join(c[1] + " (ms)" for c in cols) +
      " | qo int8 vs ORT int8 | qo int8 vs PyTorch int8 | qo int8 vs qo fp32 |")
print("|---|---|---|" + "---|" * (len(cols) + 3))
for m in models:
    for b in batches:
        for t in threads:
            cells = [fmt(med(m, b, t, e)) for e, _ in cols]
            rs = [fr(ratio(m, b, t, "ort-int8", "qo-int8")), fr(ratio(m, b, t, "torch-int8", "qo-int8")),
                  fr(ratio(m, b, t, "qo-fp32", "qo-int8"))]
            print(f"| {m} | {b} | {t} | " + " | ".join(cells + rs) + " |")
print()
print(f"Notes. {E['DATE']} on \"{E['CPU']}\" ({E['NCPU']} cores; {E['ISA'].strip()}), quant-opt {E['HEAD_V']} "
      f"({E['BUILD_DIR']}, quant-opt binary of {E['QO_MTIME']}{E['QO_CHANGED']}), ONNX Runtime {E['ORT_V']} (npm onnxruntime-node, CPU EP, node {E['NODE_V']}), "
      f"PyTorch {E['TORCH_V']} (Debian python3-torch, quantized engine onednn). "
      f"Every cell is the median over {E['REPS']} sweeps of each sweep's median latency of one batch "
      f"(up to {E['RUNS']} timed iterations or {E['BUDGET']} s per measurement, after warm-up); the ratios are "
      "medians of same-sweep ratios, peer time / quant-opt int8 time (above 1x: quant-opt int8 is faster). "
      "Every engine takes the normalized float32 images (N x 1 x 28 x 28) and returns float32 logits, so "
      "quantizing the input and dequantizing the logits is inside the timing of every int8 column. "
      "quant-opt: the .so compiled for that batch (fp32: --emit=shared; int8: quant-prepare, moving-average "
      "calibration on the first 512 training images, quant-lower-int), timed by qo-run --bench (the call into "
      "the library), OMP_NUM_THREADS = threads" + (f", extra environment {E['QO_ENV']}" if E["QO_ENV"] else "") + ". "
      "ORT: session.run() from node (its few-us binding overhead included), graphOptimizationLevel 'all', "
      "intraOpNumThreads = threads, interOpNumThreads 1; fp32 runs model.onnx; int8 runs a QDQ model from "
      "bench/peers/make_qdq.py (uint8 per-tensor activations from min/max calibration on the same 512 images, "
      "int8 per-channel symmetric weights, int32 bias), which ORT fuses as listed below. "
      "PyTorch: eager model(x) under inference_mode, torch.set_num_threads(threads); int8 is "
      "bench/peers/torch_ptq.py's static PTQ (fused Conv+BN(+ReLU), per-channel qint8 weights, quint8 "
      "activations, MinMaxObserver) fed the float input (its QuantStub quantizes); fp32 is the faster of the "
      "fused eager module and TorchScript freeze + optimize_for_inference (TorchScript was faster in "
      f"{script_wins} of {total} measurements; Debian's torch links reference BLAS, which makes eager fp32 slow). "
      f"Load average at start / end: {E['LOAD0']} / {E['LOAD1']}; 2-thread numbers mean little unless both "
      "cores are idle.")
lines = [l.split() for l in open(E["SANITY"])]
if lines:
    print()
    print(f"Accuracy sanity check on the first {E['EVAL']} test images (int8 against the same engine's fp32):")
    print()
    names = {"qo": "quant-opt", "ort": "ORT", "torch": "PyTorch"}
    for l in lines:
        kv = dict(x.split("=", 1) for x in l[2:])
        extra = ""
        if "ops" in kv:
            extra = "; ORT runs the int8 graph as " + ", ".join(
                f"{n} {k}" for k, n in (x.split(":") for x in kv["ops"].split(",")))
        print(f"- {l[0]}, {names[l[1]]}: fp32 top-1 {l[2].split('=')[1]}%, int8 top-1 {kv['top1']}%, "
              f"argmax agreement {kv['agree']}%, logit SQNR {kv['sqnr']} dB{extra}")
PY
