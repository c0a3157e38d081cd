#!/usr/bin/env python3
"""The fp32 kernels of quant-x86-kernels against a float64 numpy reference:
conv2d (3x3 padded, strided, 1x1), depthwise conv2d, matmul with constant
weights, each with and without a fused clamp, on edge channel counts; every
ISA path (QO_ISA) on 2 threads. Summation order differs from the reference,
so the check is |got - want| <= 1e-4 * max|want|.
  x86_kernels_fp32.py QUANT_OPT QO_RUN OUT_DIR"""
import os
import re
import subprocess
import sys

import numpy as np

QO, RUN, OUT = sys.argv[1:4]


def hexc(name, a, shape):
    ty = "tensor<%sxf32>" % "x".join(str(d) for d in shape)
    return '  %%%s = "tosa.const"() <{values = dense<"0x%s"> : %s}> : () -> %s' % (
        name, np.ascontiguousarray(a, dtype="<f4").tobytes().hex().upper(), ty, ty)


def tt(shape):
    return "tensor<%sxf32>" % "x".join(str(d) for d in shape)


def ref_conv(x, w, b, s, p, dw):
    n, h, wd, c = x.shape
    k = w.shape[0] if dw else w.shape[1]
    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    oh, ow = (h + 2 * p - k) // s + 1, (wd + 2 * p - k) // s + 1
    out = np.zeros((n, oh, ow, c if dw else w.shape[0]))
    for i in range(k):
        for j in range(k):
            patch = xp[:, i:i + s * oh:s, j:j + s * ow:s, :]
            out += patch * w[i, j, :, 0] if dw else patch @ w[:, i, j, :].T
    return out + b


def case(rng, kind, n, h, w, c, oc, k, s, p, clamp):
    x = rng.standard_normal((n, h, w, c))
    zp = '  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>'
    if kind == "matmul":
        m = n
        wt = rng.standard_normal((1, c, oc)) / np.sqrt(c)
        x = x.reshape(1, m, c)
        lines = ["func.func @forward(%%x: %s) -> %s {" % (tt((1, m, c)), tt((1, m, oc))), hexc("w", wt, (1, c, oc)), zp,
                 "  %%y = tosa.matmul %%x, %%w, %%zp, %%zp : (%s, %s, tensor<1xf32>, tensor<1xf32>) -> %s"
                 % (tt((1, m, c)), tt((1, c, oc)), tt((1, m, oc)))]
        want = x.astype(np.float32).astype(np.float64) @ wt[0].astype(np.float32)
        oshape = (1, m, oc)
    else:
        dw = kind == "dw"
        oc = c if dw else oc
        wshape = (k, k, c, 1) if dw else (oc, k, k, c)
        wt = rng.standard_normal(wshape) / np.sqrt(k * k * (1 if dw else c))
        b = rng.standard_normal(oc) * 0.1
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        oshape = (n, oh, ow, oc)
        lines = ["func.func @forward(%%x: %s) -> %s {" % (tt(x.shape), tt(oshape)), hexc("w", wt, wshape),
                 hexc("b", b, (oc,)), zp,
                 "  %%y = tosa.%s %%x, %%w, %%b, %%zp, %%zp {acc_type = f32, dilation = array<i64: 1, 1>, "
                 "pad = array<i64: %d, %d, %d, %d>, stride = array<i64: %d, %d>} : (%s, %s, %s, tensor<1xf32>, tensor<1xf32>) -> %s"
                 % ("depthwise_conv2d" if dw else "conv2d", p, p, p, p, s, s, tt(x.shape), tt(wshape), tt((oc,)), tt(oshape))]
        f = lambda a: a.astype(np.float32).astype(np.float64)
        want = ref_conv(f(x), f(wt), f(b), s, p, dw)
    res = "%y"
    if clamp:
        lines.append("  %%r = tosa.clamp %%y {max_val = 6.0 : f32, min_val = 0.0 : f32} : (%s) -> %s" % (tt(oshape), tt(oshape)))
        res = "%r"
        want = np.clip(want, 0.0, 6.0)
    lines += ["  return %s : %s" % (res, tt(oshape)), "}", ""]
    return "\n".join(lines), x.astype(np.float32), want


CASES = [("conv", 2, 9, 11, 3, 17, 3, 1, 1, True), ("conv", 1, 13, 13, 16, 65, 3, 2, 1, False),
         ("conv", 3, 7, 5, 63, 15, 1, 1, 0, True), ("conv", 1, 28, 28, 32, 64, 3, 1, 1, True),
         ("dw", 2, 9, 13, 17, 0, 3, 1, 1, True), ("dw", 1, 15, 15, 96, 0, 3, 2, 1, False),
         ("dw", 1, 6, 6, 1, 0, 5, 1, 2, True), ("matmul", 65, 1, 1, 100, 33, 1, 1, 0, False),
         ("matmul", 256, 1, 1, 256, 256, 1, 1, 0, True)]


def main():
    os.makedirs(OUT, exist_ok=True)
    info = subprocess.run([RUN, "--cpu-info"], check=True, capture_output=True, text=True).stdout
    isas, skipped = [], []
    for isa in ["avx512-vnni", "avx-vnni", "avx2", "portable"]:
        m = re.search(r"^kernel isa %s: (.*)$" % re.escape(isa), info, re.M)
        (isas if m and m.group(1) == "supported" else skipped).append(
            isa if m and m.group(1) == "supported" else "%s (%s)" % (isa, m.group(1) if m else "unknown"))
    rng = np.random.default_rng(5)
    for i, spec in enumerate(CASES):
        text, x, want = case(rng, *spec)
        path = os.path.join(OUT, "f%d.mlir" % i)
        open(path, "w").write(text)
        xp = os.path.join(OUT, "fx%d.npy" % i)
        np.save(xp, x)
        so = os.path.join(OUT, "f%d.so" % i)
        r = subprocess.run([QO, path, "--emit=shared", "-o", so, "--remarks"], capture_output=True, text=True)
        if r.returncode != 0 or "fp32 " not in r.stderr:
            print("case %d: no fp32 kernel:\n%s" % (i, r.stderr))
            sys.exit(1)
        for isa in isas:
            got = os.path.join(OUT, "fy%d.npy" % i)
            subprocess.run([RUN, "-q", so, xp, "-o", got], check=True,
                           env=dict(os.environ, QO_ISA=isa, OMP_NUM_THREADS="2"))
            g = np.load(got).astype(np.float64)
            err = np.abs(g - want.reshape(g.shape)).max() / max(np.abs(want).max(), 1e-30)
            if not err <= 1e-4:
                print("case %d %s isa %s: relative error %g" % (i, spec, isa, err))
                sys.exit(1)
        print("case %d %s: ok" % (i, spec))
    print("all %d fp32 cases within 1e-4 on every ISA this CPU has: %s" % (len(CASES), ", ".join(isas)))
    print("skipped (this CPU lacks them): %s" % (", ".join(skipped) or "none"))


if __name__ == "__main__":
    main()
