#!/usr/bin/python3
"""Writes Fashion-MNIST as .npy files (numpy.save, format v1.0) for the runner.

    DIR/test_images.npy   float32 N x 1 x 28 x 28, normalized (see fmnist.py)
    DIR/test_labels.npy   uint8   N
    DIR/calib_images.npy  float32 M x 1 x 28 x 28, the first M TRAINING images
                          (M = 512 by default), normalized the same way

Usage: /usr/bin/python3 make_npy.py --out DIR [--count N] [--calib-count M]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--count", type=int, default=None,
                   help="number of test images to write (default: all 10000)")
    p.add_argument("--calib-count", type=int, default=512,
                   help="number of training images for calibration (default 512)")
    p.add_argument("--data-dir", default=None,
                   help=f"IDX directory (default {fmnist.DATA_DIR})")
    a = p.parse_args(argv)
    if a.count is not None and a.count <= 0:
        p.error("--count must be positive")
    if a.calib_count <= 0:
        p.error("--calib-count must be positive")

    try:
        x_test, y_test = fmnist.load("test", a.count, a.data_dir)
        x_cal, _ = fmnist.load("train", a.calib_count, a.data_dir)
    except (fmnist.IdxError, OSError) as e:
        sys.exit(f"make_npy.py: error: {e}")

    os.makedirs(a.out, exist_ok=True)
    outputs = [("test_images.npy", x_test),
               ("test_labels.npy", y_test.astype(np.uint8)),
               ("calib_images.npy", x_cal)]
    for name, arr in outputs:
        path = os.path.join(a.out, name)
        # allow_pickle=False: plain arrays only; small headers => format v1.0
        np.save(path, arr, allow_pickle=False)
        print(f"{path}: {arr.dtype} {'x'.join(map(str, arr.shape))}")


if __name__ == "__main__":
    main()
