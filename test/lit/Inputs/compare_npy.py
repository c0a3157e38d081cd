# compare_npy.py got.npy want.npy atol: prints "match: N values" or the worst mismatch.
import sys
import numpy as np
got, want, atol = np.load(sys.argv[1]), np.load(sys.argv[2]), float(sys.argv[3])
if got.shape != want.shape:
    print("shape mismatch:", got.shape, want.shape)
    sys.exit(1)
d = np.abs(got.astype(np.float64) - want)
if d.max() > atol:
    i = np.unravel_index(d.argmax(), d.shape)
    print("mismatch at", i, got[i], want[i])
    sys.exit(1)
print("match: %d values" % got.size)
