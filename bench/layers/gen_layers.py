#!/usr/bin/env python3
"""Writes, per benchmark layer, a float TOSA MLIR model and its int8 twin, plus
the input .npy files, for bench/layers/layers.sh.

The int8 model is integer TOSA as quant-lower-to-integer produces it, with int8
input and output like oneDNN's u8 -> u8 primitive: the float weights quantized
per output channel (symmetric int8), the [0, 1) input as uint8 (scale 1/255,
carried as int8 with zero point -128), int32 bias, per-channel SINGLE_ROUND
rescale to a uint8 output whose range comes from the float layer on one input
row. Its quantization parameters go to <name>-int8.json (for the SQNR column).

Weights and bias are random (fixed seed) hex constants, so the int8 weights get
realistic per-channel scales. Layouts are quant-opt's: NHWC activations, OHWI
weights, tosa.matmul as a batch-1 3-D product with a constant right operand.
  gen_layers.py OUT_DIR NAME [NAME ...]   (names: see LAYERS)"""
import json
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
    return ("\n".join([
        "func.func @forward(%%x: %s) -> %s {" % (xin, out),
        "  %%w = %s" % hexconst(wv, wt),
        "  %%b = %s" % hexconst(bv, t((oc,))),
        '  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>',
        "  %%c = tosa.conv2d %%x, %%w, %%b, %%zp, %%zp {acc_type = f32, pad = array<i64: %d, %d, %d, %d>, "
        "stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (%s, %s, %s, tensor<1xf32>, tensor<1xf32>) -> %s"
        % (p, p, p, p, xin, wt, t((oc,)), out),
        "  return %c : " + out,
        "}", ""]), (n, h, w, ic), (wv, bv, k, p))


def matmul(rng, m, k, n):
    a, b, c = t((1, m, k)), t((1, k, n)), t((1, m, n))
    bv = rng.standard_normal((1, k, n)).astype(np.float32) * np.float32((1.0 / k) ** 0.5)
    return ("\n".join([
        "func.func @forward(%%x: %s) -> %s {" % (a, c),
        "  %%w = %s" % hexconst(bv, b),
        '  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>',
        "  %%m = tosa.matmul %%x, %%w, %%zp, %%zp : (%s, %s, tensor<1xf32>, tensor<1xf32>) -> %s" % (a, b, c),
        "  return %m : " + c,
        "}", ""]), (1, m, k), (np.ascontiguousarray(bv[0].T).reshape(n, 1, 1, k), np.zeros(n, np.float32), 1, 0))


def ti(shape, et):
    return "tensor<%sx%s>" % ("x".join(str(d) for d in shape), et)


def iconst(name, a, ty):
    return '  %%%s = "tosa.const"() <{values = dense<"0x%s"> : %s}> : () -> %s' % (
        name, np.ascontiguousarray(a).tobytes().hex().upper(), ty, ty)


def float_conv(x, wv, bv, k, p):
    """NHWC x OHWI, stride 1, symmetric padding p (numpy, for the output range)."""
    n, h, w, c = x.shape
    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    oh, ow = h + 2 * p - k + 1, w + 2 * p - k + 1
    cols = np.stack([xp[:, i:i + oh, j:j + ow, :] for i in range(k) for j in range(k)], axis=3)
    return cols.reshape(n, oh, ow, k * k * c) @ wv.reshape(wv.shape[0], -1).T + bv


def int8_model(spec, x_row, wv, bv, k, p):
    """Integer TOSA twin (i8 in -> i8 out) and its quantization parameters."""
    oc = wv.shape[0]
    s_in, z_in = 1.0 / 255.0, -128
    s_w = np.maximum(np.abs(wv).reshape(oc, -1).max(axis=1), 1e-12) / 127.0
    wq = np.clip(np.round(wv / s_w[:, None, None, None]), -127, 127).astype(np.int8)
    bq = np.round(bv / (s_in * s_w)).astype("<i4")
    y = float_conv(x_row.astype(np.float64), wv.astype(np.float64), bv, k, p)
    lo, hi = min(float(y.min()), 0.0), max(float(y.max()), 0.0)
    s_out = (hi - lo) / 255.0
    z_out = int(np.round(-lo / s_out)) - 128
    mult, shift = [], []
    for o in range(oc):
        f, e = np.frexp(s_in * s_w[o] / s_out)
        m, sh = int(np.round(f * (1 << 31))), 31 - int(e)
        if m == 1 << 31:
            m, sh = m // 2, sh - 1
        mult.append(m)
        shift.append(sh)
    mult, shift = np.array(mult, "<i4"), np.array(shift, np.int8)
    kh = wq.shape[1]
    if spec[0] == "conv":
        _, n, h, w, ic, oc, _ = spec
        xin, acc, q = ti((n, h, w, ic), "i8"), ti((n, h, w, oc), "i32"), ti((n, h, w, oc), "i8")
        head, tail, src, dst = [], [], "%x", "%q"
    else:
        _, m_, ic, oc = spec
        n, h, w = m_, 1, 1
        xin, acc, q = ti((1, m_, ic), "i8"), ti((m_, 1, 1, oc), "i32"), ti((m_, 1, 1, oc), "i8")
        head = ["  %%s4 = tosa.const_shape {values = dense<[%d, 1, 1, %d]> : tensor<4xindex>} : () -> !tosa.shape<4>" % (m_, ic),
                "  %%x4 = tosa.reshape %%x, %%s4 : (%s, !tosa.shape<4>) -> %s" % (xin, ti((m_, 1, 1, ic), "i8"))]
        tail = ["  %%s3 = tosa.const_shape {values = dense<[1, %d, %d]> : tensor<3xindex>} : () -> !tosa.shape<3>" % (m_, oc),
                "  %%q3 = tosa.reshape %%q, %%s3 : (%s, !tosa.shape<3>) -> %s" % (q, ti((1, m_, oc), "i8"))]
        src, dst = "%x4", "%q3"
    out_t = ti((1, n, oc), "i8") if spec[0] == "matmul" else q
    x4 = ti((n, h, w, ic), "i8")
    text = "\n".join(
        ["func.func @forward(%%x: %s) -> %s {" % (xin, out_t)] + head +
        [iconst("w", wq, ti((oc, kh, kh, ic), "i8")), iconst("b", bq, ti((oc,), "i32")),
         '  %%zx = "tosa.const"() <{values = dense<%d> : tensor<1xi8>}> : () -> tensor<1xi8>' % z_in,
         '  %zw = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>',
         "  %%acc = tosa.conv2d %s, %%w, %%b, %%zx, %%zw {acc_type = i32, dilation = array<i64: 1, 1>, "
         "pad = array<i64: %d, %d, %d, %d>, stride = array<i64: 1, 1>} : (%s, %s, %s, tensor<1xi8>, tensor<1xi8>) -> %s"
         % (src, p, p, p, p, x4, ti((oc, kh, kh, ic), "i8"), ti((oc,), "i32"), acc),
         iconst("m", mult, ti((oc,), "i32")), iconst("sh", shift, ti((oc,), "i8")),
         '  %iz = "tosa.const"() <{values = dense<0> : tensor<1xi32>}> : () -> tensor<1xi32>',
         '  %%oz = "tosa.const"() <{values = dense<%d> : tensor<1xi8>}> : () -> tensor<1xi8>' % z_out,
         "  %%q = tosa.rescale %%acc, %%m, %%sh, %%iz, %%oz {input_unsigned = false, output_unsigned = false, "
         "per_channel = true, rounding_mode = SINGLE_ROUND, scale32 = true} : (%s, %s, %s, tensor<1xi32>, tensor<1xi8>) -> %s"
         % (acc, ti((oc,), "i32"), ti((oc,), "i8"), q)] + tail +
        ["  return %s : %s" % (dst, out_t), "}", ""])
    return text, {"in_scale": s_in, "in_zp": z_in, "out_scale": s_out, "out_zp": z_out}


def main():
    out_dir, names = sys.argv[1], sys.argv[2:] or list(LAYERS)
    os.makedirs(out_dir, exist_ok=True)
    for name in names:
        spec = LAYERS[name]
        rng = np.random.default_rng(1234)
        text, shape, (wv, bv, k, p) = (conv if spec[0] == "conv" else matmul)(rng, *spec[1:])
        with open(os.path.join(out_dir, name + ".mlir"), "w") as f:
            f.write(text)
        # Inputs: uniform [0, 1) like post-ReLU activations (u8 affine covers them well).
        # Calibration runs the float model through quant-opt's generic loops, so keep it
        # to one batch: 4 rows at batch 1, 64 at batch 64, 1 for matmul (M rows each).
        rows = 1 if spec[0] == "matmul" else max(4, shape[0])
        calib = rng.random((rows,) + shape[1:], dtype=np.float32)
        np.save(os.path.join(out_dir, name + "-calib.npy"), calib)
        x = rng.random(shape, dtype=np.float32)
        np.save(os.path.join(out_dir, name + "-input.npy"), x)
        # The int8 twin, its int8 input (uint8 [0, 255] carried as int8) and its parameters.
        row = x[:1] if spec[0] == "conv" else x[0][:64].reshape(64, 1, 1, -1)
        itext, qp = int8_model(spec, row, wv, bv, k, p)
        with open(os.path.join(out_dir, name + "-int8.mlir"), "w") as f:
            f.write(itext)
        with open(os.path.join(out_dir, name + "-int8.json"), "w") as f:
            json.dump(qp, f)
        np.save(os.path.join(out_dir, name + "-input-i8.npy"),
                (np.clip(np.round(x * 255.0), 0, 255) - 128).astype(np.int8))


if __name__ == "__main__":
    main()
