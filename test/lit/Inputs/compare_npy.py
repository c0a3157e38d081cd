# compare_npy.py got.npy want.npy atol [rtol]: prints "match: N values" when
# |got - want| <= atol + rtol * max|want| everywhere, else the worst mismatch.
import sys
import numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
atol = float(sys.argv[3])
rtol = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
if got.shape != want.shape:
    print("shape mismatch:", got.shape, want.shape)
    sys.exit(1)
d = np.abs(got.astype(np.float64) - want)
tol = atol + rtol * np.abs(want).max()
if d.max() > tol:
    i = np.unravel_index(d.argmax(), d.shape)
    print("mismatch at", i, got[i], want[i], "tolerance", tol)
    sys.exit(1)
print("match: %d values" % got.size)
