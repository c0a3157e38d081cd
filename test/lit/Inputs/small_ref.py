# NumPy reference for Inputs/small.mlir; writes x.npy and prints the output.
import sys
import numpy as np
x = (np.arange(32, dtype=np.float32) * 0.1 - 1.0).reshape(1, 4, 4, 2)
np.save(sys.argv[1], x)
w = np.zeros((2, 3, 3, 2), np.float32)
w[0] = [[[1, -1], [0.5, 0.5], [0, 1]], [[1, 0], [0, 0], [0, 0.25]], [[0, 0], [2, 0], [0, 0]]]
w[1, 1, 1] = [1, 1]
b = np.array([0.5, 1.0], np.float32)
xp = np.zeros((1, 5, 5, 2), np.float32)
xp[:, 1:, 1:, :] = x
y = np.zeros((1, 2, 2, 2), np.float32)
for oh in range(2):
    for ow in range(2):
        patch = xp[0, oh * 2:oh * 2 + 3, ow * 2:ow * 2 + 3, :]
        for f in range(2):
            y[0, oh, ow, f] = (patch * w[f]).sum() + b[f]
y = np.maximum(y, 0).reshape(1, 8)
wm = np.tile(np.array([[1, 0, 1], [0, 1, 1]], np.float32), (4, 1))
print("ref:", " ".join("%.6g" % v for v in (y @ wm).ravel()))
