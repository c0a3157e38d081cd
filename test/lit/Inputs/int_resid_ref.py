# Scalar reference (TOSA integer semantics) for Inputs/int-resid.mlir.
# Usage: int_resid_ref.py <dir> <seed>: writes x.npy, y.npy, ref.npy.
import math
import sys
import numpy as np

d, seed = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(seed)
x = rng.uniform(-2, 10, size=(1, 4, 4, 2)).astype(np.float32)
y = rng.uniform(-5, 5, size=(1, 4, 4, 2)).astype(np.float32)
np.save(d + "/x.npy", x)
np.save(d + "/y.npy", y)
f32 = np.float32

def quant(v, s, z, lo=-128, hi=127):
    return np.clip(np.rint(v / f32(s)) + z, lo, hi).astype(np.int64)

def fixed(m):
    f, e = math.frexp(m)
    q = round(f * 2**31)
    if q == 2**31:
        q //= 2; e += 1
    s = 31 - e
    while s > 62:
        q >>= 1; s -= 1
    return q, s

def apply_scale(v, m, s):                     # TOSA apply_scale_32, SINGLE_ROUND
    return (v * m + (1 << (s - 1))) >> s

def rescale(v, m, in_zp, out_zp, lo, hi):
    q, s = fixed(m)
    return np.clip(np.vectorize(lambda t: apply_scale(int(t) - in_zp, q, s))(v) + out_zp, lo, hi)

sa, za = float(f32(0.04)), 30 - 128
sb, zb = float(f32(0.03)), -5
sr, zr = float(f32(0.05)), 0 - 128
sp, zp = float(f32(0.02)), 3 - 128
a = quant(x, sa, za)
b = quant(y, sb, zb)
twice = 2 * max(sa, sb)
a32 = rescale(a, sa / twice * 2**20, za, 0, -2**31, 2**31 - 1)
b32 = rescale(b, sb / twice * 2**20, zb, 0, -2**31, 2**31 - 1)
r = rescale(a32 + b32, twice / (2**20 * sr), 0, zr, -128, 127)
r = np.maximum(r, zr)                          # ReLU: clamp at the zero point
# TOSA avg_pool2d (integer): sum(v - in_zp), times reciprocal_scale(count), + out_zp.
count = 16
k = (count - 1).bit_length()          # (1 << k) / 2 < count <= (1 << k)
mult = (((1 << 30) + 1) << k) // count
shift = 30 + k
acc = (r - zr).sum(axis=(1, 2))
avg = np.clip(np.vectorize(lambda t: apply_scale(int(t), mult, shift))(acc) + zr, -128, 127)
p = rescale(avg, sr / sp, zr, zp, -128, 127).reshape(1, 1, 1, 2)
np.save(d + "/ref.npy", ((p - zp).astype(f32) * f32(sp)).astype(f32))
