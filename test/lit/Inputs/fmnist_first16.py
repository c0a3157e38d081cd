# Writes the first 16 normalized Fashion-MNIST test images to <out>/x16.npy.
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import fmnist
x, _ = fmnist.load("test", count=16)
np.save(sys.argv[2] + "/x16.npy", x)
