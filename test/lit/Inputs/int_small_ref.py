# Scalar integer reference for Inputs/int-small.mlir (TOSA semantics): writes
# random inputs (with saturating values) to <dir>/x.npy and the expected
# output to <dir>/ref.npy. Usage: int_small_ref.py <dir> <seed>
import math
import sys
import numpy as np

d, seed = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(seed)
x = rng.uniform(-3, 15, size=(2, 4, 4, 3)).astype(np.float32)   # beyond [-1, 11.75]: saturates
x.flat[:4] = [0.025, -0.025, 0.075, 11.725]                      # ties: x/s = 0.5, -0.5, 1.5, 234.5
np.save(d + "/x.npy", x)

W = np.array(eval(open(d + "/w.txt").read()), np.float32)          # written by the test from the IR
sw = np.array([0.0055118110236220472, 0.00039370078740157485, 0.011811023622047244, 0.0015748031496062992])
B = np.array([0.3, -0.05, 1.0, -2.0], np.float32)
sx, zx = np.float32(0.05), 20 - 128           # uint8 carried as int8
sy, zy = np.float32(0.1), 0 - 128

def quant(v, s, z, lo, hi):
    q = np.rint(v / s) + z                    # float32 divide, ties to even
    return np.clip(q, lo, hi).astype(np.int64)

xq = quant(x, sx, zx, -128, 127)
wq = np.stack([np.clip(np.rint(W[c] / np.float32(sw[c])), -127, 127) for c in range(4)]).astype(np.int64)
bq = [int(np.rint(np.float64(B[c]) / (np.float64(sx) * np.float64(np.float32(sw[c]))))) for c in range(4)]

def fixed(m):
    f, e = math.frexp(m)
    q = round(f * 2**31)
    if q == 2**31:
        q //= 2; e += 1
    return q, 31 - e

xp = np.pad(xq - zx, ((0, 0), (1, 1), (1, 1), (0, 0)))
y = np.zeros((2, 4, 4, 4), np.int64)
for n in range(2):
    for h in range(4):
        for w_ in range(4):
            for c in range(4):
                acc = int((xp[n, h:h + 3, w_:w_ + 3, :] * wq[c]).sum()) + bq[c]
                m, s = fixed(float(sx) * float(np.float32(sw[c])) / float(sy))
                r = (acc * m + (1 << (s - 1))) >> s           # SINGLE_ROUND
                y[n, h, w_, c] = min(max(r + zy, -128), 127)
y = np.maximum(y, zy)                                          # ReLU in the int domain
p = y.reshape(2, 2, 2, 2, 2, 4).max(axis=(2, 4))
out = ((p - zy).astype(np.float32) * sy).astype(np.float32)
np.save(d + "/ref.npy", out)
