#!/usr/bin/python3
"""Checks the ONNX frontend against ONNX node tests (libonnx-testdata).

For each test directory: import model.onnx with qo-onnx-to-mlir, verify the
text with mlir-opt (+ the qo IRDL dialect), then lower it with the upstream
TOSA pipeline, run it with mlir-runner on test_data_set_0 and compare with
the expected outputs. qo.batch_norm is decomposed here (textually) into TOSA
ops, since the real decomposition pass lives in the compiler.

  /usr/bin/python3 check_node_tests.py --tool build/.../qo-onnx-to-mlir \
      [--no-run] [PATTERN...]          (default pattern: all tests)

Prints one line per test: PASS, UNSUPPORTED (importer said "unsupported"),
FAIL-IMPORT / FAIL-VERIFY / FAIL-RUN / MISMATCH, and a summary. Needs numpy.
"""
import argparse
import fnmatch
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

LLVM = "/usr/lib/llvm-22"
IRDL = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "../../dialect/qo.irdl.mlir")
NODE_DIR = "/usr/share/libonnx-testdata/data/node"
PIPELINE = (
    "builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,"
    "tosa-to-arith{include-apply-rescale=true},tosa-to-tensor,"
    "convert-elementwise-to-linalg),one-shot-bufferize{bufferize-function-boundaries},"
    "convert-linalg-to-loops,convert-vector-to-scf,expand-strided-metadata,"
    "lower-affine,convert-scf-to-cf,convert-vector-to-llvm,convert-to-llvm,"
    "reconcile-unrealized-casts)")


# ---- minimal protobuf reader for TensorProto --------------------------------

def _varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def read_tensor(path):
    """Returns a float32 ndarray from a serialized TensorProto (float types)."""
    b = open(path, "rb").read()
    i, dims, dtype, raw, floats, doubles = 0, [], 1, None, [], []
    while i < len(b):
        key, i = _varint(b, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(b, i)
            if field == 1:
                dims.append(v)
            elif field == 2:
                dtype = v
        elif wire == 2:
            n, i = _varint(b, i)
            chunk = b[i:i + n]
            i += n
            if field == 1:  # packed dims
                j = 0
                while j < len(chunk):
                    v, j = _varint(chunk, j)
                    dims.append(v)
            elif field == 9:
                raw = chunk
            elif field == 4:
                floats += struct.unpack("<%df" % (n // 4), chunk)
            elif field == 10:
                doubles += struct.unpack("<%dd" % (n // 8), chunk)
        elif wire == 5:
            v = b[i:i + 4]
            i += 4
            if field == 4:
                floats.append(struct.unpack("<f", v)[0])
        elif wire == 1:
            i += 8
        else:
            raise ValueError("unsupported wire type %d" % wire)
    if dtype == 1:
        a = np.frombuffer(raw, "<f4") if raw is not None else np.array(floats, "f4")
    elif dtype == 11:
        a = np.frombuffer(raw, "<f8") if raw is not None else np.array(doubles)
    else:
        return None
    return a.astype(np.float32).reshape(dims)


def tensor_dtype(path):
    b = open(path, "rb").read()
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(b, i)
            if field == 2:
                return v
        elif wire == 2:
            n, i = _varint(b, i)
            i += n
        elif wire == 5:
            i += 4
        elif wire == 1:
            i += 8
    return 1


def _key(field, wire):
    out, v = b"", (field << 3) | wire
    while True:
        c = v & 0x7F
        v >>= 7
        out += bytes([c | (0x80 if v else 0)])
        if not v:
            return out


def _len(n):
    out = b""
    while True:
        c = n & 0x7F
        n >>= 7
        out += bytes([c | (0x80 if n else 0)])
        if not n:
            return out


def with_initializers(model, tensors):
    """Appends serialized TensorProtos as initializers (GraphProto field 5)
    of the model's graph (ModelProto field 7). Importers skip graph inputs
    that are initializers, so integer test inputs become constants."""
    out, i = b"", 0
    while i < len(model):
        start = i
        key, i = _varint(model, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _varint(model, i)
        elif wire == 2:
            n, j = _varint(model, i)
            if field == 7:
                graph = model[j:j + n]
                for t in tensors:
                    graph += _key(5, 2) + _len(len(t)) + t
                out += _key(7, 2) + _len(len(graph)) + graph
                i = j + n
                continue
            i = j + n
        elif wire == 5:
            i += 4
        elif wire == 1:
            i += 8
        out += model[start:i]
    return out


# ---- BN decomposition (test-only) ---------------------------------------------

BN_RE = re.compile(
    r'^(\s*)(%v\d+) = "qo.batch_norm"\((%v\d+), (%v\d+), (%v\d+), (%v\d+), '
    r'(%v\d+)\) \{epsilon = ([^ ]+) : f32, axis = (\d+) : i64\} : '
    r'\(tensor<([0-9x]+)xf32>.*$')


def decompose_bn(text):
    out, k = [], 0
    for line in text.splitlines():
        m = BN_RE.match(line)
        if not m:
            out.append(line)
            continue
        ind, y, x, s, b, mean, var, eps, axis, shp = m.groups()
        dims = [int(d) for d in shp.split("x")]
        axis = int(axis)
        bdims = [1] * len(dims)
        bdims[axis] = dims[axis]
        T = "tensor<%sxf32>" % "x".join(map(str, dims))
        B = "tensor<%sxf32>" % "x".join(map(str, bdims))
        V = "tensor<%dxf32>" % dims[axis]
        p = "%%bn%d_" % k
        k += 1
        L = [
            '%sshape = tosa.const_shape {values = dense<[%s]> : tensor<%dxindex>} : () -> !tosa.shape<%d>'
            % (p, ", ".join(map(str, bdims)), len(dims), len(dims)),
            '%ssh = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>' % p,
            '%seps = "tosa.const"() <{values = dense<%s> : %s}> : () -> %s'
            % (p, eps, "tensor<%sxf32>" % "x".join("1" * len(dims)), "tensor<%sxf32>" % "x".join("1" * len(dims))),
        ]
        for nm, v in (("s", s), ("b", b), ("m", mean), ("v", var)):
            L.append('%s%s = tosa.reshape %s, %sshape : (%s, !tosa.shape<%d>) -> %s'
                     % (p, nm, v, p, V, len(dims), B))
        E = "tensor<%sxf32>" % "x".join("1" * len(dims))
        L += [
            '%sc = tosa.sub %s, %sm : (%s, %s) -> %s' % (p, x, p, T, B, T),
            '%sve = tosa.add %sv, %seps : (%s, %s) -> %s' % (p, p, p, B, E, B),
            '%sr = tosa.rsqrt %sve : (%s) -> %s' % (p, p, B, B),
            '%sn = tosa.mul %sc, %sr, %ssh : (%s, %s, tensor<1xi8>) -> %s' % (p, p, p, p, T, B, T),
            '%sq = tosa.mul %sn, %ss, %ssh : (%s, %s, tensor<1xi8>) -> %s' % (p, p, p, p, T, B, T),
            '%s = tosa.add %sq, %sb : (%s, %s) -> %s' % (y, p, p, T, B, T),
        ]
        out += [ind + l for l in L]
    return "\n".join(out) + "\n"


# ---- running ----------------------------------------------------------------

def hexdata(a):
    return "0x" + a.astype("<f4").tobytes().hex().upper()


def ttype(shape):
    return "tensor<%sf32>" % "".join("%dx" % d for d in shape)


def mtype(shape):
    return "memref<%sf32>" % "".join("%dx" % d for d in shape)


def make_main(text, inputs, out_shapes):
    body = []
    args = []
    for k, a in enumerate(inputs):
        body.append('    %%in%d = arith.constant dense<"%s"> : %s'
                    % (k, hexdata(a), ttype(a.shape)))
        args.append("%%in%d" % k)
    res = ", ".join("%%r%d" % k for k in range(len(out_shapes)))
    body.append("    %s = func.call @forward(%s) : (%s) -> (%s)" % (
        res, ", ".join(args), ", ".join(ttype(a.shape) for a in inputs),
        ", ".join(ttype(s) for s in out_shapes)))
    for k, s in enumerate(out_shapes):
        body.append("    %%m%d = bufferization.to_buffer %%r%d : %s to %s"
                    % (k, k, ttype(s), mtype(s)))
        body.append("    %%u%d = memref.cast %%m%d : %s to memref<*xf32>"
                    % (k, k, mtype(s)))
        body.append("    func.call @printMemrefF32(%%u%d) : (memref<*xf32>) -> ()" % k)
    main = ("  func.func @main() {\n" + "\n".join(body) + "\n    return\n  }\n"
            "  func.func private @printMemrefF32(memref<*xf32>)\n")
    idx = text.rstrip().rfind("}")
    return text[:idx] + main + "}\n"


def parse_outputs(stdout, count):
    chunks = stdout.split("Unranked Memref")[1:]
    res = []
    for c in chunks[:count]:
        data = c.split("data =", 1)[1]
        nums = re.findall(r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|inf|nan)", data)
        res.append(np.array([float(x) for x in nums], dtype=np.float32))
    return res


def run(cmd, inp=None):
    return subprocess.run(cmd, input=inp, capture_output=True, text=True,
                          timeout=120)


def check(tool, tdir, do_run, tmp):
    ds = os.path.join(tdir, "test_data_set_0")
    ins = [f for f in os.listdir(ds) if f.startswith("input_")]
    ins.sort(key=lambda f: int(re.findall(r"\d+", f)[0]))
    # Integer inputs (shapes, axes, pads...) must be constants for a static
    # compiler: turn them into initializers.
    ints = [f for f in ins
            if tensor_dtype(os.path.join(ds, f)) in (6, 7)]
    model = os.path.join(tdir, "model.onnx")
    if ints:
        data = with_initializers(open(model, "rb").read(),
                                 [open(os.path.join(ds, f), "rb").read()
                                  for f in ints])
        model = os.path.join(tmp, "model.onnx")
        open(model, "wb").write(data)
    r = subprocess.run([tool, model], capture_output=True, timeout=120)
    r.stdout = r.stdout.decode("utf-8", "replace")
    r.stderr = r.stderr.decode("utf-8", "replace")
    if r.returncode != 0:
        msg = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "?"
        if "error: " in msg:
            what = msg.split("error: ", 1)[1]
            if re.search(r"(\): |^)unsupported", what):
                return "UNSUPPORTED", what
        return "FAIL-IMPORT", msg
    text = r.stdout
    v = run([LLVM + "/bin/mlir-opt", "--irdl-file=" + IRDL], text)
    if v.returncode != 0:
        return "FAIL-VERIFY", v.stderr.strip()[:400]
    if not do_run:
        return "VERIFIED", ""
    ins = [f for f in ins if f not in ints]
    outs = sorted(f for f in os.listdir(ds) if f.startswith("output_"))
    outs.sort(key=lambda f: int(re.findall(r"\d+", f)[0]))
    inputs = [read_tensor(os.path.join(ds, f)) for f in ins]
    expected = [read_tensor(os.path.join(ds, f)) for f in outs]
    if any(a is None for a in inputs + expected):
        return "SKIP", "non-float test data"
    got, err = run_module(text, inputs, [e.shape for e in expected])
    if got is None:
        return "FAIL-RUN", err
    for g, e in zip(got, expected):
        e = e.reshape(-1)
        if g.shape != e.shape or not np.allclose(g, e, rtol=1e-3, atol=1e-4,
                                                 equal_nan=True):
            err = np.max(np.abs(g - e)) if g.shape == e.shape else "shape"
            return "MISMATCH", "max abs err %s" % err
    return "PASS", ""


def run_module(text, inputs, out_shapes):
    """Lowers and runs `text` on `inputs`; returns (outputs, error)."""
    module = make_main(decompose_bn(text), inputs, out_shapes)
    low = run([LLVM + "/bin/mlir-opt", "--irdl-file=" + IRDL,
               "--pass-pipeline=" + PIPELINE], module)
    if low.returncode != 0:
        return None, "lowering: " + low.stderr.strip()[:400]
    ex = run([LLVM + "/bin/mlir-runner", "-e", "main",
              "-entry-point-result=void",
              "-shared-libs=%s/lib/libmlir_runner_utils.so,%s/lib/libmlir_c_runner_utils.so"
              % (LLVM, LLVM)], low.stdout)
    if ex.returncode != 0:
        return None, ex.stderr.strip()[:400]
    return parse_outputs(ex.stdout, len(out_shapes)), ""


def check_model(tool, model, inputs, expected, extra):
    """--model mode: one model, .npy inputs and expected outputs."""
    r = run([tool, model] + extra)
    if r.returncode != 0:
        return "FAIL-IMPORT", r.stderr.strip()
    v = run([LLVM + "/bin/mlir-opt", "--irdl-file=" + IRDL], r.stdout)
    if v.returncode != 0:
        return "FAIL-VERIFY", v.stderr.strip()[:400]
    xs = [np.load(f).astype(np.float32) for f in inputs]
    es = [np.load(f).astype(np.float32) for f in expected]
    got, err = run_module(r.stdout, xs, [e.shape for e in es])
    if got is None:
        return "FAIL-RUN", err
    for g, e in zip(got, es):
        if g.shape != e.reshape(-1).shape or not np.allclose(
                g, e.reshape(-1), rtol=1e-3, atol=1e-4):
            err = (np.max(np.abs(g - e.reshape(-1)))
                   if g.shape == e.reshape(-1).shape else "shape")
            return "MISMATCH", "max abs err %s" % err
    return "PASS", "max abs err %g" % max(
        float(np.max(np.abs(g - e.reshape(-1)))) for g, e in zip(got, es))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--model", help="check one model instead of node tests")
    ap.add_argument("--input", action="append", default=[], help=".npy")
    ap.add_argument("--expect", action="append", default=[], help=".npy")
    ap.add_argument("--tool-arg", action="append", default=[])
    ap.add_argument("--no-run", action="store_true")
    ap.add_argument("--dir", default=NODE_DIR)
    ap.add_argument("patterns", nargs="*")
    a = ap.parse_args()
    if a.model:
        status, msg = check_model(a.tool, a.model, a.input, a.expect,
                                  a.tool_arg)
        print("%-12s %s %s" % (status, a.model, msg))
        sys.exit(status != "PASS")
    pats = a.patterns or ["*"]
    tests = sorted(t for t in os.listdir(a.dir)
                   if any(fnmatch.fnmatch(t, p) for p in pats))
    counts = {}
    tmp = tempfile.mkdtemp(prefix="qo-node-tests-")
    for t in tests:
        status, msg = check(a.tool, os.path.join(a.dir, t), not a.no_run, tmp)
        counts[status] = counts.get(status, 0) + 1
        print("%-12s %s %s" % (status, t, msg), flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    print("summary: " + ", ".join("%s=%d" % kv for kv in sorted(counts.items())))


if __name__ == "__main__":
    main()
