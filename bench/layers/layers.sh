#!/usr/bin/env bash
# Single-layer int8/fp32 speed of quant-opt against oneDNN, and both against this
# machine's measured per-core peaks (bench/layers/README.md). One markdown table.
#   bench/layers/layers.sh            (BUILD_DIR, default build; 1 thread)
#   THREADS=2       threads for oneDNN and quant-opt (OpenMP in the generated kernels)
#   REPS=7 MS=60    oneDNN: timed blocks per case, ms per block
#   QO_BUDGET=20    seconds one quant-opt case may take; slower ones print "skipped (slow)"
#   QO_TARGET=4     seconds to spend timing one quant-opt case (at least 3 runs)
#   CASES="conv3x3_56x56x64-64_b1 matmul_128x768x3072"   a subset (gen_layers.py names)
# The layer models, their calibration and the compiled .so files are cached in
# $BUILD_DIR/bench-layers and rebuilt when quant-opt or gen_layers.py changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
QO=$BUILD_DIR/bin/quant-opt
RUN=$BUILD_DIR/bin/qo-run
[ -x "$QO" ] || scripts/setup.sh
PY=/usr/bin/python3
HERE=bench/layers
OUT=$BUILD_DIR/bench-layers
THREADS=${THREADS:-1}
REPS=${REPS:-7}
MS=${MS:-60}
QO_BUDGET=${QO_BUDGET:-20}
QO_TARGET=${QO_TARGET:-4}
CASES=${CASES:-$($PY -c "import sys; sys.path.insert(0, '$HERE'); import gen_layers; print(' '.join(gen_layers.LAYERS))")}
mkdir -p "$OUT"
RES=$OUT/results.txt
: >"$RES"

# --- tools ---------------------------------------------------------------------------
gcc -O2 -march=native -Wall -o "$OUT/peaks" $HERE/peaks.c
HAVE_DNNL=1
if [ ! -f /usr/include/oneapi/dnnl/dnnl.h ] && [ "$(id -u)" = 0 ]; then
  apt-get install -y libdnnl-dev >/dev/null 2>&1 || true
fi
if [ -f /usr/include/oneapi/dnnl/dnnl.h ]; then
  gcc -O2 -march=native -Wall -fopenmp -o "$OUT/onednn_layers" $HERE/onednn_layers.c -ldnnl -lm
  "$OUT/onednn_layers" --check >"$OUT/onednn-check.txt" || { cat "$OUT/onednn-check.txt"; exit 1; }
else
  HAVE_DNNL=0
  echo "(libdnnl-dev missing: oneDNN columns left empty; apt-get install -y libdnnl-dev)" >&2
fi

# --- quant-opt models: generate, compile the int8 twin and the fp32 layer (cached) ------
# The int8 model is integer TOSA with int8 input and output (gen_layers.py), like
# oneDNN's u8 -> u8 primitive; its conv/matmul must become a generated kernel.
for c in $CASES; do
  so8=$OUT/$c-int8.so so32=$OUT/$c-fp32.so
  if [ -f "$so8" ] && [ -f "$so32" ] && [ "$so8" -nt "$QO" ] && [ "$so8" -nt $HERE/gen_layers.py ]; then continue; fi
  echo "building $c ..." >&2
  $PY $HERE/gen_layers.py "$OUT" "$c"
  "$QO" "$OUT/$c-int8.mlir" --remarks --emit=shared -o "$OUT/$c-int8.tmp.so" 2>"$OUT/$c-int8.remarks"
  grep -q "int8 conv2d -> @qo_conv" "$OUT/$c-int8.remarks" ||
    { cat "$OUT/$c-int8.remarks" >&2; echo "error: $c did not compile to a generated int8 kernel" >&2; exit 1; }
  "$QO" "$OUT/$c.mlir" --remarks --emit=shared -o "$so32" 2>"$OUT/$c-fp32.remarks"
  mv "$OUT/$c-int8.tmp.so" "$so8"
  mv "$OUT/$c-int8.tmp.h" "$OUT/$c-int8.h" 2>/dev/null || true
done

# --- measurements (one heavy job at a time) --------------------------------------------
"$OUT/peaks" >"$OUT/peaks-1.txt"

if [ $HAVE_DNNL = 1 ]; then
  for c in $CASES; do
    "$OUT/onednn_layers" --threads "$THREADS" --reps "$REPS" --ms "$MS" --case "$c" |
      awk '/median_ms/ {print "dnnl", $0}' >>"$RES"
    ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI "$OUT/onednn_layers" --threads "$THREADS" --reps "$REPS" \
      --ms "$MS" --case "$c" --types int8 | awk '/median_ms/ {print "dnnl_vnni", $0}' >>"$RES"
  done
  { "$OUT/onednn_layers" --info
    ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI "$OUT/onednn_layers" --info; } >"$OUT/onednn-version.txt"
fi

latency() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p'; }
probe_cap=$(( QO_BUDGET / 4 ))
for c in $CASES; do
  for p in int8 fp32; do
    so=$OUT/$c-$p.so
    x=$OUT/$c-input.npy
    [ $p = int8 ] && x=$OUT/$c-input-i8.npy
    # One probe run (also writes the output for the int8-vs-fp32 check), capped in time.
    set +e
    t=$(timeout "$probe_cap" "$RUN" "$so" "$x" --threads "$THREADS" --bench 1 --warmup 0 -q -o "$OUT/$c-$p-out.npy")
    rc=$?
    set -e
    if [ $rc = 124 ]; then
      echo "qo $p $c skip >${probe_cap}s/run" >>"$RES"
      rm -f "$OUT/$c-$p-out.npy"
      continue
    elif [ $rc != 0 ]; then
      echo "error: qo-run $so failed ($rc)" >&2
      exit 1
    fi
    t=$(echo "$t" | latency)
    n=$(awk -v t="$t" -v tgt="$QO_TARGET" 'BEGIN { n = int(tgt * 1000 / t); if (n < 3) n = 3; if (n > 200) n = 200; print n }')
    w=$(awk -v t="$t" 'BEGIN { print (t > 1000 ? 1 : 3) }')
    if awk -v t="$t" -v n="$n" -v w="$w" -v b="$QO_BUDGET" 'BEGIN { exit !(t * (n + w) > b * 1000) }'; then
      echo "qo $p $c skip 1run=${t}ms" >>"$RES"
      continue
    fi
    m=$("$RUN" "$so" "$x" --threads "$THREADS" --bench "$n" --warmup "$w" -q | latency)
    echo "qo $p $c $m runs=$n" >>"$RES"
  done
done

"$OUT/peaks" >"$OUT/peaks-2.txt"

# --- the table -------------------------------------------------------------------------
# shellcheck disable=SC2086  # CASES is a word list
$PY - "$OUT" "$HERE" "$THREADS" $CASES <<'PY'
import os, sys
out, here, threads, cases = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
sys.path.insert(0, here)
import numpy as np
import gen_layers

def peaks(path):
    d = {}
    for line in open(path):
        k, _, v = line.strip().partition(" ")
        d[k] = v
    return d
p1, p2 = peaks(os.path.join(out, "peaks-1.txt")), peaks(os.path.join(out, "peaks-2.txt"))
def best(key):
    vals = [float(p[key]) for p in (p1, p2) if not p[key].startswith("n/a")]
    return max(vals) if vals else None
fma, vnni, amx, ghz = best("fp32_fma_gops"), best("int8_vnni_gops"), best("int8_amx_gops"), best("clock_ghz")

res = {}
for line in open(os.path.join(out, "results.txt")):
    f = line.split()
    if f[0] in ("dnnl", "dnnl_vnni"):
        kv = dict(x.split("=", 1) for x in f[3:])
        res[(f[0], f[2], f[1])] = (float(kv["median_ms"]), kv["impl"])
    elif f[0] == "qo":
        if f[3] == "skip":
            why = f[4]
            res[("qo", f[1], f[2])] = ("skipped (slow: %s)" % (why.replace("1run=", "1 run ")
                                       .replace(">", "> ").replace("s/run", " s per run")), None)
        else:
            res[("qo", f[1], f[2])] = (float(f[3]), f[4])

def gop(c):
    s = gen_layers.LAYERS[c]
    if s[0] == "conv":
        _, n, h, w, ic, oc, k = s
        return 2.0 * n * h * w * oc * ic * k * k * 1e-9
    _, m, k, n = s
    return 2.0 * m * k * n * 1e-9

def ms(key):
    v = res.get(key)
    if v is None:
        return None, "-"
    if isinstance(v[0], str):
        return None, v[0]
    return v[0], ("%.3f" % v[0] if v[0] < 10 else "%.1f" % v[0])

def sqnr(c):
    try:
        import json
        qp = json.load(open(os.path.join(out, c + "-int8.json")))
        a = (np.load(os.path.join(out, c + "-int8-out.npy")).astype(np.float64) - qp["out_zp"]) * qp["out_scale"]
        b = np.load(os.path.join(out, c + "-fp32-out.npy")).astype(np.float64)
    except OSError:
        return "-"
    return "%.1f dB" % (10 * np.log10((b * b).sum() / ((a - b) ** 2).sum()))

print("| shape | GOP | quant-opt int8 ms | oneDNN int8 ms | oneDNN int8 VNNI-cap ms "
      "| quant-opt / oneDNN | quant-opt / oneDNN VNNI-cap | quant-opt int8 GOP/s (% VNNI peak) "
      "| oneDNN int8 GOP/s (% VNNI peak) | quant-opt fp32 ms | oneDNN fp32 ms "
      "| quant-opt fp32 % FMA peak | quant-opt int8 speedup over its fp32 | int8 SQNR vs fp32 |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
impls = set()

def rel(a, b):
    if not a or not b:
        return "-"
    return "%.2fx faster" % (b / a) if a <= b else "%.2fx slower" % (a / b)

def rate(g, t, peak):
    if not t:
        return "-"
    r = g / (t * 1e-3)
    return "%.0f (%.0f%%)" % (r, 100 * r / peak) if peak else "%.0f" % r

for c in cases:
    g = gop(c)
    q8, q8s = ms(("qo", "int8", c))
    q32, q32s = ms(("qo", "fp32", c))
    d8, d8s = ms(("dnnl", "int8", c))
    dv, dvs = ms(("dnnl_vnni", "int8", c))
    _, d32s = ms(("dnnl", "fp32", c))
    for k in (("dnnl", "int8", c), ("dnnl_vnni", "int8", c), ("dnnl", "fp32", c)):
        if k in res:
            impls.add(res[k][1])
    pf = "%.0f%%" % (100 * g / (q32 * 1e-3) / fma / (int(threads) or 1)) if q32 and fma else "-"
    sp = "%.1fx" % (q32 / q8) if q8 and q32 else "-"
    vpk = vnni * (int(threads) or 1) if vnni else None
    print("| %s | %.3f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        c, g, q8s, d8s, dvs, rel(q8, d8), rel(q8, dv), rate(g, q8, vpk), rate(g, d8, vpk),
        q32s, d32s, pf, sp, sqnr(c)))

def f(x, unit):
    return "n/a" if x is None else "%.0f %s" % (x, unit)
print()
print("Peaks (1 core, best 50 ms chunk of two peak runs, before and after the layers): "
      "fp32 FMA %s, int8 VNNI %s, int8 AMX %s; clock ~%.2f GHz. cpu: %s; %s."
      % (f(fma, "GFLOP/s"), f(vnni, "GOP/s"), f(amx, "GOP/s") if amx else "n/a (" + p1["int8_amx_gops"][4:].strip(" ()") + ")",
         ghz or 0, p1.get("cpu", "?"), p1.get("features", "")))
print("oneDNN: %s; implementations: %s; int8 = u8 x s8 -> u8, per-channel output scales, f32 bias; "
      "format_any. %s thread(s), median of the per-iteration times of several ~60 ms blocks."
      % (open(os.path.join(out, "onednn-version.txt")).read().strip().replace("\n", " / ")
         if os.path.exists(os.path.join(out, "onednn-version.txt")) else "not run",
         ", ".join(sorted(impls)) or "-", threads))
print("quant-opt: {int8,fp32}.so via qo-run --bench --threads %s (median of the runs in results.txt). "
      "int8: integer TOSA with int8 input and output (gen_layers.py), compiled by quant-opt to its "
      "generated AVX-512 VNNI kernel (run-time dispatch picks it on this CPU): u8 x s8 -> i32, "
      "fused per-channel requantization to u8 (carried as s8). fp32: the float layer, compiled to "
      "the generated FMA kernel." % threads)
print("GOP = 2*N*H*W*OC*IC*k*k (padded taps counted) or 2*M*K*N; ratios compare quant-opt and oneDNN "
      "from this same run; % of peak = achieved GOP/s / (the 1-core peak above x threads).")
PY
