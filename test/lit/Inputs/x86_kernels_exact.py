#!/usr/bin/env python3
"""Bit-exactness of quant-opt's generated int8 kernels (quant-x86-kernels)
against qo-int8-ref, the scalar interpreter of the TOSA integer semantics.

Writes integer TOSA models (tosa.conv2d i8 x i8 -> i32 with an input zero
point, then either the int32 accumulator as the output, or tosa.rescale
SINGLE_ROUND per-channel [+ tosa.clamp] to int8) for random shapes that cover
the kernels' edge cases: 1, 3, 15, 17, 63, 65 input and output channels
(partial 16-channel blocks, channels padded to 4), 1x1 (pointwise GEMM path),
depthwise convolutions,
3x3 and 5x5 windows, strides 1 and 2, padding, odd widths (remainder pixel
tiles), several batches; inputs over the whole int8 range and rescales that
saturate; three shapes big enough for the kernels' OpenMP loops. Each model
runs with every ISA forced through QO_ISA, on 2 threads (and VNNI on 1 too),
and must equal the reference bit for bit. ISAs this CPU lacks (qo-run
--cpu-info: each body's exact feature list, from cpuid/xgetbv) are skipped,
and the script says which and why.
  x86_kernels_exact.py QUANT_OPT QO_RUN QO_INT8_REF OUT_DIR [N_RANDOM]"""
import os
import re
import subprocess
import sys

import numpy as np

QO, RUN, REF, OUT = sys.argv[1:5]
N_RANDOM = int(sys.argv[5]) if len(sys.argv) > 5 else 12
ALL_ISAS = ["avx512-vnni", "avx-vnni", "avx2", "portable"]


def host_isas():
    """The kernel bodies this CPU runs, and why the others are skipped."""
    info = subprocess.run([RUN, "--cpu-info"], check=True, capture_output=True, text=True).stdout
    ok, skipped = [], []
    for isa in ALL_ISAS:
        m = re.search(r"^kernel isa %s: (.*)$" % re.escape(isa), info, re.M)
        if m and m.group(1) == "supported":
            ok.append(isa)
        else:
            skipped.append("%s (%s)" % (isa, m.group(1) if m else "unknown"))
    return ok, skipped


ISAS, SKIPPED = host_isas()


def const(name, arr, ty):
    a = np.ascontiguousarray(arr)
    return '  %%%s = "tosa.const"() <{values = dense<"0x%s"> : %s}> : () -> %s' % (
        name, a.tobytes().hex().upper(), ty, ty)


def tt(shape, et):
    return "tensor<%sx%s>" % ("x".join(str(d) for d in shape), et)


def model(rng, n, h, w, c, oc, k, s, p, mode, sat):
    """oc == 0: a depthwise conv (channel multiplier 1) of the c channels."""
    dw = oc == 0
    oc = c if dw else oc
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    wshape = (k, k, c, 1) if dw else (oc, k, k, c)
    wt = rng.integers(-127, 128, size=wshape, dtype=np.int8)
    bias = rng.integers(-3000, 3000, size=oc).astype("<i4")
    zx = int(rng.integers(-128, 128))
    xin, acc = tt((n, h, w, c), "i8"), tt((n, oh, ow, oc), "i32")
    lines = ["func.func @forward(%%x: %s) -> %s {" % (xin, tt((n, oh, ow, oc), "i32" if mode == "i32" else "i8")),
             const("w", wt, tt(wshape, "i8")), const("b", bias, tt((oc,), "i32")),
             '  %%xz = "tosa.const"() <{values = dense<%d> : tensor<1xi8>}> : () -> tensor<1xi8>' % zx,
             '  %wz = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>',
             "  %%acc = tosa.%s %%x, %%w, %%b, %%xz, %%wz {acc_type = i32, dilation = array<i64: 1, 1>, "
             "pad = array<i64: %d, %d, %d, %d>, stride = array<i64: %d, %d>} : (%s, %s, %s, tensor<1xi8>, tensor<1xi8>) -> %s"
             % ("depthwise_conv2d" if dw else "conv2d", p, p, p, p, s, s, xin, tt(wshape, "i8"),
                tt((oc,), "i32"), acc)]
    if mode == "i32":
        lines += ["  return %%acc : %s" % acc, "}", ""]
        return "\n".join(lines)
    # Multipliers in [2^30, 2^31) and shifts around what maps the accumulator onto int8;
    # `sat` shifts less, so most outputs saturate.
    mult = rng.integers(1 << 30, (1 << 31) - 1, size=oc).astype("<i4")
    span = 128.0 * np.sqrt(k * k * (1 if dw else c)) * 128.0
    base = int(np.ceil(np.log2(span / 127.0))) + 31
    shift = np.clip(base + rng.integers(-2, 3, size=oc) - (8 if sat else 0), 2, 62).astype(np.int8)
    oz = int(rng.integers(-128, 128))
    q = tt((n, oh, ow, oc), "i8")
    lines += [const("m", mult, tt((oc,), "i32")), const("s", shift, tt((oc,), "i8")),
              '  %iz = "tosa.const"() <{values = dense<0> : tensor<1xi32>}> : () -> tensor<1xi32>',
              '  %%oz = "tosa.const"() <{values = dense<%d> : tensor<1xi8>}> : () -> tensor<1xi8>' % oz,
              "  %%q = tosa.rescale %%acc, %%m, %%s, %%iz, %%oz {input_unsigned = false, output_unsigned = false, "
              "per_channel = true, rounding_mode = SINGLE_ROUND, scale32 = true} : (%s, %s, %s, tensor<1xi32>, tensor<1xi8>) -> %s"
              % (acc, tt((oc,), "i32"), tt((oc,), "i8"), q)]
    if mode == "clamp":
        lo = int(rng.integers(-128, 0))
        hi = int(rng.integers(lo, 128))
        lines += ["  %%r = tosa.clamp %%q {max_val = %d : i8, min_val = %d : i8} : (%s) -> %s" % (hi, lo, q, q),
                  "  return %%r : %s" % q]
    else:
        lines += ["  return %%q : %s" % q]
    return "\n".join(lines + ["}", ""])


def cases():
    rng = np.random.default_rng(20261123)
    edge = [1, 3, 15, 17, 63, 65]
    out = []
    # Every edge channel count, as input and as output, 3x3 padded and 1x1 (pointwise).
    for i, c in enumerate(edge):
        oc = edge[(i + 2) % len(edge)]
        out.append((1, 7, 9, c, oc, 3, 1, 1, "i8", False))
        out.append((2, 5, 3, oc, c, 1, 1, 0, ["i8", "clamp", "i32"][i % 3], i % 2 == 0))
    out += [(3, 9, 11, 16, 64, 3, 2, 1, "clamp", False),   # stride 2, full blocks
            (1, 8, 8, 32, 48, 5, 1, 2, "i8", True),        # 5x5, pad 2, saturating
            (2, 6, 7, 17, 65, 3, 2, 0, "i32", False),      # stride 2, no pad, int32 out
            (65, 1, 1, 63, 17, 1, 1, 0, "i8", False),      # matmul-shaped: M = 65 rows
            (1, 1, 1, 1, 1, 1, 1, 0, "i8", True),          # the smallest
            # Large enough for OpenMP (>= 4M ops): rows as tasks; pixel chunks; channel tiles.
            (2, 28, 28, 17, 65, 3, 1, 1, "clamp", False),
            (1, 56, 56, 64, 48, 1, 1, 0, "i8", False),
            (256, 1, 1, 256, 270, 1, 1, 0, "i8", True),
            (40, 1, 1, 1024, 80, 1, 1, 0, "clamp", False),  # K = 1024: 3-block tiles (L1)
            (2, 9, 10, 2, 16, 2, 1, 0, "i8", True),          # C * KW = 4: one tap group per row
            (3, 28, 28, 1, 16, 3, 1, 1, "clamp", False),     # the example's 1-channel first layer
            # Depthwise (oc = 0): edge channel counts, strides, padding, all epilogues.
            (1, 7, 9, 1, 0, 3, 1, 1, "i8", False),
            (2, 9, 13, 17, 0, 3, 2, 1, "clamp", True),
            (1, 6, 15, 63, 0, 3, 1, 0, "i32", False),
            (3, 5, 5, 65, 0, 5, 1, 2, "i8", True),
            (2, 28, 28, 96, 0, 3, 1, 1, "clamp", False)]
    for _ in range(N_RANDOM):
        k = int(rng.choice([1, 3]))
        s = int(rng.choice([1, 2]))
        p = int(rng.integers(0, k // 2 + 1))
        h, w = int(rng.integers(k, 12)), int(rng.integers(k, 20))
        out.append((int(rng.integers(1, 4)), h, w, int(rng.choice(edge + [4, 8, 32])),
                    int(rng.choice(edge + [16, 32, 128])), k, s, p,
                    str(rng.choice(["i8", "clamp", "i32"])), bool(rng.integers(0, 2))))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)
    total = 0
    for i, (n, h, w, c, oc, k, s, p, mode, sat) in enumerate(cases()):
        # TOSA: (size + pads - kernel) must be divisible by the stride.
        h += (h + 2 * p - k) % s
        w += (w + 2 * p - k) % s
        path = os.path.join(OUT, "case%d.mlir" % i)
        with open(path, "w") as f:
            f.write(model(rng, n, h, w, c, oc, k, s, p, mode, sat))
        x = rng.integers(-128, 128, size=(n, h, w, c), dtype=np.int8)
        if i % 3 == 0:
            x[0].flat[: max(1, x[0].size // 4)] = 127  # saturating inputs
        xp = os.path.join(OUT, "x%d.npy" % i)
        np.save(xp, x)
        ref = os.path.join(OUT, "ref%d.npy" % i)
        subprocess.run([REF, path, xp, "-o", ref], check=True)
        so = os.path.join(OUT, "case%d.so" % i)
        r = subprocess.run([QO, path, "--emit=shared", "-o", so, "--remarks"], capture_output=True, text=True)
        if r.returncode != 0 or not re.search(r"int8 (depthwise_)?conv2d -> @qo_conv", r.stderr):
            print("case %d: not compiled to a generated kernel:\n%s" % (i, r.stderr))
            sys.exit(1)
        want = np.load(ref)
        for isa, threads in [(isa, 2) for isa in ISAS] + [(ISAS[0], 1)]:
            got = os.path.join(OUT, "got%d-%s.npy" % (i, isa))
            env = dict(os.environ, QO_ISA=isa, OMP_NUM_THREADS=str(threads))
            subprocess.run([RUN, "-q", so, xp, "-o", got], check=True, env=env)
            g = np.load(got)
            if g.shape != want.shape or not np.array_equal(g.astype(np.int64), want.astype(np.int64)):
                bad = np.argwhere(g.astype(np.int64) != want.astype(np.int64))
                print("case %d (%s) isa %s: MISMATCH at %d of %d values, first %s: got %s want %s"
                      % (i, (n, h, w, c, oc, k, s, p, mode, sat), isa, len(bad), want.size,
                         bad[0].tolist(), g[tuple(bad[0])], want[tuple(bad[0])]))
                sys.exit(1)
            total += want.size
        print("case %d %s: exact on %s" % (i, (n, h, w, c, oc, k, s, p, mode, sat), ", ".join(ISAS)))
    print("all %d cases bit-exact on every ISA this CPU has: %s (%d values)"
          % (len(cases()), ", ".join(ISAS), total))
    print("skipped (this CPU lacks them): %s" % (", ".join(SKIPPED) or "none"))


if __name__ == "__main__":
    main()
