#!/usr/bin/python3
"""Writes the generated seed corpora of the fuzz harnesses into OUTDIR/<harness>/:

  make_corpus.py OUTDIR

  onnx-import:  the example models, the model.onnx files of Debian's
                libonnx-testdata (node/, simple/, pytorch-*) that the conformance
                test passes plus the 300 smallest others, a few
                hand-made models (QDQ, Gemm, Conv, external data)
  npy:          every dtype, header versions 1/2/3, ranks 0..4, empty, Fortran
                order, big-endian, truncated
  calib-table:  test/lit/Inputs/table-*.json and docs/calibration-table.md's example
  pipeline:     the named pipelines and every quant-opt pass with its options
                (from `passes/*.c` option tables), upstream passes
The committed seeds (test/fuzz/seeds) and reproducers (test/fuzz/regressions)
are read by scripts/fuzz.sh directly; this adds the ones too many to commit."""
import glob
import hashlib
import os
import re
import struct
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "lit", "onnx", "Inputs"))
import onnx_wire as w  # noqa: E402

TESTDATA = "/usr/share/libonnx-testdata/data"
MAX_TESTDATA_MODELS = 300


def put(outdir, data, name=None):
    os.makedirs(outdir, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(outdir, name), "wb") as f:
        f.write(data)


def onnx_seeds(out):
    for p in sorted(glob.glob(os.path.join(ROOT, "examples", "*", "model.onnx"))):
        put(out, open(p, "rb").read(), "example-" + p.split(os.sep)[-2])
    # Every model the conformance test passes (they reach the op importers),
    # then the smallest others.
    pinned = set(open(os.path.join(ROOT, "test", "onnx-conformance",
                                   "expected-pass.txt")).read().split())
    models = []
    for sub in ("node", "simple", "pytorch-operator", "pytorch-converted"):
        for p in glob.glob(os.path.join(TESTDATA, sub, "*", "model.onnx")):
            name = sub + "/" + p.split(os.sep)[-2]
            models.append((name not in pinned, os.path.getsize(p), p))
    for _, _, p in sorted(models)[:len(pinned) + MAX_TESTDATA_MODELS]:
        put(out, open(p, "rb").read(), "testdata-" + p.split(os.sep)[-2])
    x = ("x", w.FLOAT, [1, 2, 4, 4])
    gemm = w.graph([w.node("Gemm", ["a", "b", "c"], ["y"], "gemm",
                           w.attr_int("transB", 1) + w.attr_float("alpha", 0.5))],
                   [w.ftensor("b", [3, 4], [0.5] * 12), w.ftensor("c", [3], [1, 2, 3])],
                   [("a", w.FLOAT, [2, 4])], [("y", w.FLOAT, [2, 3])])
    put(out, w.model(gemm), "gemm")
    conv = w.graph([w.node("Conv", ["x", "k"], ["c"], "conv",
                           w.attr_ints("pads", [1, 1, 1, 1]) + w.attr_ints("strides", [2, 2])),
                    w.node("MaxPool", ["c"], ["y"], "pool",
                           w.attr_ints("kernel_shape", [2, 2]) + w.attr_int("ceil_mode", 1))],
                   [w.ftensor("k", [3, 2, 3, 3], [0.25] * 54)], [x], [("y", w.FLOAT, [1, 3, 1, 1])])
    put(out, w.model(conv), "conv-pool")
    shape = w.graph([w.node("Shape", ["x"], ["s"], "shape"),
                     w.node("Constant", [], ["i"], "idx", w.ld(5, w.ld(1, "value") + w.ld(
                         5, w.tensor("v", w.INT64, [1], int64_data=[0])) + w.vint(20, 4))),
                     w.node("Gather", ["s", "i"], ["n"], "gather"),
                     w.node("Concat", ["n", "m"], ["t"], "cat", w.attr_int("axis", 0)),
                     w.node("Reshape", ["x", "t"], ["y"], "reshape")],
                    [w.tensor("m", w.INT64, [1], int64_data=[(1 << 64) - 1])], [x],
                    [("y", w.FLOAT, [1, 32])])
    put(out, w.model(shape), "shape-chain")
    ext = w.graph([w.node("Relu", ["x"], ["y"], "relu")],
                  [w.tensor("k", w.FLOAT, [2], external=[("location", "k.bin")])], [x],
                  [("y", w.FLOAT, [1, 2, 4, 4])])
    put(out, w.model(ext), "external-data")
    sys.path.insert(0, os.path.join(ROOT, "test", "lit", "onnx", "Inputs"))
    import qdq_model
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        qdq_model.make(d)
        put(out, open(os.path.join(d, "qdq.onnx"), "rb").read(), "qdq")


def npy_seeds(out):
    import io
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3), np.int8([-1, 2, -3]),
              np.uint8([[1, 2], [3, 4]]), np.int32(7), np.int64([[[1]], [[2]]]),
              np.zeros((0, 3), np.float32), np.ones((1, 2, 2, 2), np.float32),
              np.float64([1.5]), np.bool_([True]), np.float32([1, 2]).astype(">f4"),
              np.asfortranarray(np.ones((2, 2), np.float32))]
    for i, a in enumerate(arrays):
        for v in ((1, 0), (2, 0), (3, 0)):
            b = io.BytesIO()
            np.lib.format.write_array(b, a, version=v)
            put(out, b.getvalue(), "a%d-v%d" % (i, v[0]))
    b = io.BytesIO()
    np.lib.format.write_array(b, np.ones((4, 4), np.float32))
    put(out, b.getvalue()[:100], "truncated")
    hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"
    put(out, b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr, "huge-shape")


def calib_seeds(out):
    for p in sorted(glob.glob(os.path.join(ROOT, "test", "lit", "Inputs", "table-*.json"))):
        put(out, open(p, "rb").read(), os.path.basename(p))
    doc = open(os.path.join(ROOT, "docs", "calibration-table.md")).read()
    m = re.search(r"```json\n(.*?)```", doc, re.S)
    if m:
        put(out, m.group(1), "doc-example.json")


def pipeline_seeds(out):
    src = open(os.path.join(ROOT, "compiler", "Pipeline.c")).read()
    for m in re.finditer(r'\{"([a-z-]+)", "[^"]*",', src):
        put(out, m.group(1), "named-" + m.group(1))
    body = re.search(r'kLowerToLLVM\[\] =\n((?:\s*"[^"]*"\n?)+);', src)
    if body:
        put(out, "".join(re.findall(r'"([^"]*)"', body.group(1))), "lower-to-llvm-text")
    passes = re.findall(r'QO_PASS\(\w+, "([a-z-]+)", "([a-z.]+)"',
                        open(os.path.join(ROOT, "passes", "Passes.def")).read())
    for arg, anchor in passes:
        opts = []
        for f in glob.glob(os.path.join(ROOT, "passes", "*.c")):
            text = open(f).read()
            if '"%s"' % arg in text:
                opts += re.findall(r'\{"([a-z-]+)", "([^"]*)", "', text)
        spec = " ".join("%s=%s" % (k, v or "x") for k, v in opts)
        inner = "%s{%s}" % (arg, spec) if spec else arg
        text = "builtin.module(%s)" % inner if anchor == "builtin.module" else \
            "builtin.module(func.func(%s))" % inner
        put(out, text, "pass-" + arg)
    for p in ("canonicalize{max-iterations=3 region-simplify=normal}", "cse",
              "func.func(tosa-to-linalg,tosa-to-arith{include-apply-rescale=true})",
              "one-shot-bufferize{bufferize-function-boundaries}", "builtin.module(symbol-dce,inline)",
              "quant-x86-kernels{isa=avx2 fp32=true parallel-min-ops=100}",
              "func.func(quant-fold-batchnorm,quant-insert-qdq{exclude-nodes='/fc/Gemm,/c1'})"):
        put(out, p)


def main():
    out = sys.argv[1]
    onnx_seeds(os.path.join(out, "onnx-import"))
    npy_seeds(os.path.join(out, "npy"))
    calib_seeds(os.path.join(out, "calib-table"))
    pipeline_seeds(os.path.join(out, "pipeline"))


if __name__ == "__main__":
    main()
