"""Fashion-MNIST IDX reader and the normalization shared by every script here.

IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian header
    magic: 2 zero bytes, 1 type byte (0x08 = uint8), 1 byte ndim
    ndim x uint32 dimension sizes
followed by the raw data in C order. The Debian package
dataset-fashion-mnist ships the four files gzip-compressed.

Normalization (used for training, calibration and evaluation alike):
    x = (pixel / 255 - MEAN) / STD, float32, shape N x 1 x 28 x 28
"""
import gzip
import os
import struct

import numpy as np

DATA_DIR = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")
MEAN = 0.2860
STD = 0.3530

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

_FILES = {
    ("train", "images"): "train-images-idx3-ubyte.gz",
    ("train", "labels"): "train-labels-idx1-ubyte.gz",
    ("test", "images"): "t10k-images-idx3-ubyte.gz",
    ("test", "labels"): "t10k-labels-idx1-ubyte.gz",
}


class IdxError(ValueError):
    """Raised for a file that is not a well-formed uint8 IDX file."""


def read_idx(path, expect_ndim=None):
    """Reads a (optionally gzip-compressed) uint8 IDX file into a numpy array.

    Raises IdxError with the path and the reason on any malformed input:
    bad magic, unsupported element type, unexpected rank, truncated or
    trailing data.
    """
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise IdxError(f"{path}: cannot read: {e}") from e
    if len(data) < 4:
        raise IdxError(f"{path}: file too short for an IDX header "
                       f"({len(data)} bytes)")
    zero0, zero1, dtype_code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        raise IdxError(f"{path}: bad IDX magic {data[:4].hex()} "
                       "(first two bytes must be zero)")
    if dtype_code != 0x08:
        raise IdxError(f"{path}: unsupported IDX element type 0x{dtype_code:02x}"
                       " (only 0x08 = unsigned byte is supported)")
    if ndim == 0:
        raise IdxError(f"{path}: IDX rank is 0")
    if expect_ndim is not None and ndim != expect_ndim:
        raise IdxError(f"{path}: expected a rank-{expect_ndim} IDX file, "
                       f"got rank {ndim}")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IdxError(f"{path}: truncated header: need {header_len} bytes, "
                       f"have {len(data)}")
    dims = struct.unpack(">" + "I" * ndim, data[4:header_len])
    count = int(np.prod(dims, dtype=np.int64))
    payload = len(data) - header_len
    if payload != count:
        what = "truncated" if payload < count else "trailing bytes"
        raise IdxError(f"{path}: {what}: header dims {dims} need {count} "
                       f"data bytes, file has {payload}")
    return np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(dims)


def load_raw(split, data_dir=None):
    """Returns (images uint8 N x 28 x 28, labels uint8 N) for split 'train' or 'test'."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    d = data_dir or DATA_DIR
    images = read_idx(os.path.join(d, _FILES[(split, "images")]), expect_ndim=3)
    labels = read_idx(os.path.join(d, _FILES[(split, "labels")]), expect_ndim=1)
    if images.shape[1:] != (28, 28):
        raise IdxError(f"{split} images: expected 28x28, got {images.shape[1:]}")
    if images.shape[0] != labels.shape[0]:
        raise IdxError(f"{split}: {images.shape[0]} images but "
                       f"{labels.shape[0]} labels")
    if labels.size and labels.max() > 9:
        raise IdxError(f"{split} labels: value {int(labels.max())} out of range 0..9")
    return images, labels


def normalize(images):
    """uint8 N x 28 x 28 (or N x 1 x 28 x 28) -> float32 N x 1 x 28 x 28."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"normalize expects uint8 pixels, got {images.dtype}")
    if images.ndim == 3:
        images = images[:, None, :, :]
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28):
        raise ValueError(f"expected N x 28 x 28 images, got shape {images.shape}")
    x = (images.astype(np.float32) / np.float32(255.0) - np.float32(MEAN)) \
        / np.float32(STD)
    return np.ascontiguousarray(x, dtype=np.float32)


def load(split, count=None, data_dir=None):
    """Returns (x float32 N x 1 x 28 x 28 normalized, labels uint8 N)."""
    images, labels = load_raw(split, data_dir)
    if count is not None:
        images, labels = images[:count], labels[:count]
    return normalize(images), labels.copy()
