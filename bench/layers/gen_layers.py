#!/usr/bin/env python3
"""Writes one float TOSA MLIR file per benchmark layer, plus its calibration and
input .npy files, for bench/layers/layers.sh.

Weights and bias are random (fixed seed) hex constants, so the int8 weights get
realistic per-channel scales. Layouts are quant-opt's: NHWC activations, OHWI
weights, tosa.matmul as a batch-1 3-D product with a constant right operand.
  gen_layers.py OUT_DIR NAME [NAME ...]   (names: see LAYERS)"""
import os
import sys

import numpy as np

# name: (kind, batch, H, W, IC, OC, kernel) for conv; (kind, M, K, N) for matmul.
LAYERS = {
    "conv3x3_56x56x64-64_b1": ("conv", 1, 56, 56, 64, 64, 3),
    "conv3x3_56x56x64-64_b64": ("conv", 64, 56, 56, 64, 64, 3),
    "conv1x1_56x56x64-256_b1": ("conv", 1, 56, 56, 64, 256, 1),
    "conv3x3_14x14x256-256_b1": ("conv", 1, 14, 14, 256, 256, 3),
    "conv3x3_28x28x32-64_b64": ("conv", 64, 28, 28, 32, 64, 3),
    "matmul_1024x1024x1024": ("matmul", 1024, 1024, 1024),
    "matmul_128x768x3072": ("matmul", 128, 768, 3072),
}


def hexconst(a, ty):
    return '"tosa.const"() {values = dense<"0x%s"> : %s} : () -> %s' % (
        np.ascontiguousarray(a, dtype="<f4").tobytes().hex().upper(), ty, ty)


def t(shape):
    return "tensor<%sxf32>" % "x".join(str(d) for d in shape)


def conv(rng, n, h, w, ic, oc, k):
    p = k // 2
    xin, wt, out = t((n, h, w, ic)), t((oc, k, k, ic)), t((n, h, w, oc))
    # He-like scale so the outputs have unit-ish range.
    wv = rng.standard_normal((oc, k, k, ic)).astype(np.float32) * np.float32((2.0 / (k * k * ic)) ** 0.5)
    bv = rng.standard_normal(oc).astype(np.float32) * np.float32(0.1)
    return "\n".join([
        "func.func @forward(%%x: %s) -> %s {" % (xin, out),
        "  %%w = %s" % hexconst(wv, wt),
        "  %%b = %s" % hexconst(bv, t((oc,))),
        '  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>',
        "  %%c = tosa.conv2d %%x, %%w, %%b, %%zp, %%zp {acc_type = f32, pad = array<i64: %d, %d, %d, %d>, "
        "stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (%s, %s, %s, tensor<1xf32>, tensor<1xf32>) -> %s"
        % (p, p, p, p, xin, wt, t((oc,)), out),
        "  return %c : " + out,
        "}", ""]), (n, h, w, ic)


def matmul(rng, m, k, n):
    a, b, c = t((1, m, k)), t((1, k, n)), t((1, m, n))
    bv = rng.standard_normal((1, k, n)).astype(np.float32) * np.float32((1.0 / k) ** 0.5)
    return "\n".join([
        "func.func @forward(%%x: %s) -> %s {" % (a, c),
        "  %%w = %s" % hexconst(bv, b),
        '  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>',
        "  %%m = tosa.matmul %%x, %%w, %%zp, %%zp : (%s, %s, tensor<1xf32>, tensor<1xf32>) -> %s" % (a, b, c),
        "  return %m : " + c,
        "}", ""]), (1, m, k)


def main():
    out_dir, names = sys.argv[1], sys.argv[2:] or list(LAYERS)
    os.makedirs(out_dir, exist_ok=True)
    for name in names:
        spec = LAYERS[name]
        rng = np.random.default_rng(1234)
        text, shape = (conv if spec[0] == "conv" else matmul)(rng, *spec[1:])
        with open(os.path.join(out_dir, name + ".mlir"), "w") as f:
            f.write(text)
        # Inputs: uniform [0, 1) like post-ReLU activations (u8 affine covers them well).
        # Calibration runs the float model through quant-opt's generic loops, so keep it
        # to one batch: 4 rows at batch 1, 64 at batch 64, 1 for matmul (M rows each).
        rows = 1 if spec[0] == "matmul" else max(4, shape[0])
        calib = rng.random((rows,) + shape[1:], dtype=np.float32)
        np.save(os.path.join(out_dir, name + "-calib.npy"), calib)
        np.save(os.path.join(out_dir, name + "-input.npy"), rng.random(shape, dtype=np.float32))


if __name__ == "__main__":
    main()
