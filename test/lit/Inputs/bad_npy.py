#!/usr/bin/python3
"""Writes malformed .npy files (and valid v1/v2/v3 ones of the same
1x4x4x2 float32 array) for qo-run's bad-input tests into OUTDIR."""
import os
import struct
import sys

import numpy as np


def npy(header, data=b"", version=1, hlen=None):
    h = header.encode()
    h += b" " * ((-(len(h) + 11 + (2 if version > 1 else 0))) % 64) + b"\n"
    n = len(h) if hlen is None else hlen
    pre = b"\x93NUMPY" + bytes([version, 0])
    pre += struct.pack("<H", n) if version == 1 else struct.pack("<I", n)
    return pre + h + data


def dict_(descr="'<f4'", fortran="False", shape="(1, 4, 4, 2)", extra=""):
    return "{'descr': %s, 'fortran_order': %s, 'shape': %s, %s}" % (descr, fortran, shape, extra)


def main():
    out = sys.argv[1]
    files = {
        "claims_1gb": npy(dict_(shape="(300000000,)")),
        "overflow": npy(dict_(shape="(4611686018427387904, 4)")),
        "big_dim": npy(dict_(shape="(99999999999999999999,)")),
        "negative": npy(dict_(shape="(-1, 2)")),
        "rank9": npy(dict_(shape="(1, 1, 1, 1, 1, 1, 1, 1, 1)")),
        "truncated_data": npy(dict_(), b"\0" * 100),
        "truncated_header": npy(dict_())[:40],
        "header_len": npy(dict_(), version=2, hlen=1 << 30),
        "version": b"\x93NUMPY\x07\x00" + npy(dict_())[8:],
        "missing_key": npy("{'descr': '<f4', 'shape': (1, 4, 4, 2), }", b"\0" * 128),
        "duplicate_key": npy(dict_(extra="'shape': (2,), "), b"\0" * 128),
        "unknown_key": npy(dict_(extra="'extra': 1, "), b"\0" * 128),
        "not_a_dict": npy("[1, 2, 3]", b"\0" * 128),
        "big_endian": npy(dict_(descr="'>f4'"), b"\0" * 128),
        "fortran": npy(dict_(fortran="True"), b"\0" * 128),
    }
    a = (np.arange(32, dtype=np.float32) / 8).reshape(1, 4, 4, 2)
    for v in (1, 2, 3):
        files["ok_v%d" % v] = npy(dict_(), a.tobytes(), version=v)
    for name, data in files.items():
        with open(os.path.join(out, name + ".npy"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
