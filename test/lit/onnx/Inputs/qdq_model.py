#!/usr/bin/python3
"""A small QDQ ONNX model (as ONNX Runtime's quantizer / a QAT export make
them), written with the protobuf wire format directly (onnx_wire.py; no onnx package):

  x (f32 1x2x4x4) -> QuantizeLinear(0.0625, 128 u8) -> DequantizeLinear
  w (int8 initializer 3x2x1x1) -> DequantizeLinear(per-axis 0: 0.5/0.25/0.125)
  Conv(+ float bias) -> Relu -> QuantizeLinear(per-axis 1: 0.125/0.25/0.5,
                                               zero points 0/10/20, u8) = y

  qdq_model.py make OUTDIR   writes OUTDIR/qdq.onnx and OUTDIR/x.npy
  qdq_model.py check OUTDIR Y.npy   compares Y.npy (uint8) with the exact
                                    reference (every value is a dyadic
                                    rational: float32 and double agree)
"""
import struct
import sys


from onnx_wire import FLOAT, INT8, UINT8, attr_int, ftensor, ld, node, tensor, value_info, vint


def itensor(name, dtype, dims, vals):
    fmt = "b" if dtype == INT8 else "B"
    return tensor(name, dtype, dims, struct.pack("<%d%s" % (len(vals), fmt), *vals))


XS, XZ = 0.0625, 128
WQ = [2, -1, 1, 3, -4, 2]          # [3,2,1,1]: out channel o, in channel i
WS = [0.5, 0.25, 0.125]
BIAS = [0.25, -0.5, 0.0]
YS, YZ = [0.125, 0.25, 0.5], [0, 10, 20]
X = [((k * 37) % 256 - 128) * XS for k in range(32)]  # exact multiples of XS


def make(outdir):
    inits = [ftensor("xs", [], [XS]), itensor("xz", UINT8, [], [XZ]),
             itensor("wq", INT8, [3, 2, 1, 1], WQ), ftensor("ws", [3], WS),
             itensor("wz", INT8, [3], [0, 0, 0]), ftensor("b", [3], BIAS),
             ftensor("ys", [3], YS), itensor("yz", UINT8, [3], YZ)]
    nodes = [node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], "x_q"),
             node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"], "x_dq"),
             node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], "w_dq", attr_int("axis", 0)),
             node("Conv", ["xd", "wd", "b"], ["c"], "conv"),
             node("Relu", ["c"], ["r"], "relu"),
             node("QuantizeLinear", ["r", "ys", "yz"], ["y"], "y_q", attr_int("axis", 1))]
    graph = (b"".join(ld(1, n) for n in nodes) + ld(2, "qdq") +
             b"".join(ld(5, t) for t in inits) +
             ld(11, value_info("x", FLOAT, [1, 2, 4, 4])) +
             ld(12, value_info("y", UINT8, [1, 3, 4, 4])))
    model = vint(1, 7) + ld(7, graph) + ld(8, ld(1, "") + vint(2, 13))
    with open(outdir + "/qdq.onnx", "wb") as f:
        f.write(model)
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 4, 4), }"
    header += " " * (118 - len(header)) + "\n"
    with open(outdir + "/x.npy", "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<32f", *X))


def make_float_output(outdir):
    """The common QAT/ORT shape: per-tensor output QuantizeLinear followed by
    DequantizeLinear, float model output. Writes OUTDIR/qdq_f.onnx."""
    inits = [ftensor("xs", [], [XS]), itensor("xz", UINT8, [], [XZ]),
             itensor("wq", INT8, [3, 2, 1, 1], WQ), ftensor("ws", [3], WS),
             itensor("wz", INT8, [3], [0, 0, 0]), ftensor("b", [3], BIAS),
             ftensor("ys", [], [0.125]), itensor("yz", UINT8, [], [3])]
    nodes = [node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], "x_q"),
             node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"], "x_dq"),
             node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], "w_dq", attr_int("axis", 0)),
             node("Conv", ["xd", "wd", "b"], ["c"], "conv"),
             node("Relu", ["c"], ["r"], "relu"),
             node("QuantizeLinear", ["r", "ys", "yz"], ["rq"], "y_q"),
             node("DequantizeLinear", ["rq", "ys", "yz"], ["y"], "y_dq")]
    graph = (b"".join(ld(1, n) for n in nodes) + ld(2, "qdqf") +
             b"".join(ld(5, t) for t in inits) +
             ld(11, value_info("x", FLOAT, [1, 2, 4, 4])) +
             ld(12, value_info("y", FLOAT, [1, 3, 4, 4])))
    model = vint(1, 7) + ld(7, graph) + ld(8, ld(1, "") + vint(2, 13))
    with open(outdir + "/qdq_f.onnx", "wb") as f:
        f.write(model)


def make_qoperator(outdir):
    """A QOperator model: uint8 in, QLinearConv with int8 per-channel
    initializer weights and an int32 bias, uint8 out. Writes
    OUTDIR/qop.onnx and OUTDIR/xq.npy (uint8 input rows)."""
    INT32 = 6
    inits = [ftensor("xs", [], [XS]), itensor("xz", UINT8, [], [XZ]),
             itensor("wq", INT8, [3, 2, 1, 1], WQ), ftensor("ws", [3], WS),
             itensor("wz", INT8, [3], [0, 0, 0]),
             ftensor("ys", [], [0.125]), itensor("yz", UINT8, [], [3]),
             tensor("bq", INT32, [3], struct.pack("<3i", 4, -16, 0))]
    nodes = [node("QLinearConv", ["x", "xs", "xz", "wq", "ws", "wz", "ys", "yz", "bq"], ["y"], "qconv")]
    graph = (b"".join(ld(1, n) for n in nodes) + ld(2, "qop") +
             b"".join(ld(5, t) for t in inits) +
             ld(11, value_info("x", UINT8, [1, 2, 4, 4])) +
             ld(12, value_info("y", UINT8, [1, 3, 4, 4])))
    model = vint(1, 7) + ld(7, graph) + ld(8, ld(1, "") + vint(2, 13))
    with open(outdir + "/qop.onnx", "wb") as f:
        f.write(model)
    header = "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 4, 4), }"
    header += " " * (118 - len(header)) + "\n"
    with open(outdir + "/xq.npy", "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(bytes((k * 53 + 7) % 256 for k in range(32)))


def reference():
    xd = [(min(max(round(v / XS) + XZ, 0), 255) - XZ) * XS for v in X]
    y = []
    for o in range(3):
        for p in range(16):
            acc = BIAS[o] + sum(WQ[o * 2 + i] * WS[o] * xd[i * 16 + p] for i in range(2))
            r = max(acc, 0.0)
            y.append(min(max(round(r / YS[o]) + YZ[o], 0), 255))
    return y


def check(path):
    data = open(path, "rb").read()
    hlen = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + hlen].decode()
    got = list(data[10 + hlen:])
    want = reference()
    if "'|u1'" not in header or got != want:
        print("MISMATCH", header.strip(), got, want)
        return 1
    print("exact: %d uint8 values" % len(got))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
        make_float_output(sys.argv[2])
        make_qoperator(sys.argv[2])
    else:
        sys.exit(check(sys.argv[3]))
