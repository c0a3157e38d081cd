#!/usr/bin/python3
"""A tiny hand-rolled ONNX (protobuf wire format) encoder for tests: no onnx
package needed. Field numbers are those of onnx.proto (ModelProto,
GraphProto, NodeProto, TensorProto, AttributeProto, ValueInfoProto).
Encoders return bytes; compose them and write model(...) to a file."""
import struct

FLOAT, UINT8, INT8, UINT16, INT16, INT32, INT64, STRING, BOOL = 1, 2, 3, 4, 5, 6, 7, 8, 9
DOUBLE = 11


def varint(v):
    v &= (1 << 64) - 1
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out


def key(num, wt):
    return varint((num << 3) | wt)


def vint(num, v):
    return key(num, 0) + varint(v)


def ld(num, data):
    if isinstance(data, str):
        data = data.encode()
    return key(num, 2) + varint(len(data)) + data


def f32(num, v):
    return key(num, 5) + struct.pack("<f", v)


def tensor(name, dtype, dims, raw=None, int32_data=None, float_data=None,
           int64_data=None, external=None):
    """TensorProto: raw_data, or a typed repeated field (packed), or
    external=[(key, value), ...] with data_location EXTERNAL."""
    t = b"".join(vint(1, d) for d in dims) + vint(2, dtype) + ld(8, name)
    if raw is not None:
        t += ld(9, raw)
    if int32_data is not None:
        t += ld(5, b"".join(varint(v) for v in int32_data))
    if int64_data is not None:
        t += ld(7, b"".join(varint(v) for v in int64_data))
    if float_data is not None:
        t += ld(4, struct.pack("<%df" % len(float_data), *float_data))
    if external is not None:
        t += b"".join(ld(13, ld(1, k) + ld(2, v)) for k, v in external)
        t += vint(14, 1)
    return t


def ftensor(name, dims, vals):
    return tensor(name, FLOAT, dims, struct.pack("<%df" % len(vals), *vals))


def attr_int(name, v):
    return ld(5, ld(1, name) + vint(3, v) + vint(20, 2))


def attr_float(name, v):
    return ld(5, ld(1, name) + f32(2, v) + vint(20, 1))


def attr_ints(name, vs):
    return ld(5, ld(1, name) + b"".join(vint(8, v) for v in vs) + vint(20, 7))


def attr_string(name, s):
    return ld(5, ld(1, name) + ld(4, s) + vint(20, 3))


def node(op, ins, outs, name, attrs=b""):
    return (b"".join(ld(1, i) for i in ins) + b"".join(ld(2, o) for o in outs) +
            ld(3, name) + ld(4, op) + attrs)


def value_info(name, dtype, dims):
    shape = b"".join(ld(1, vint(1, d)) for d in dims)
    return ld(1, name) + ld(2, ld(1, vint(1, dtype) + ld(2, shape)))


def graph(nodes, inits, inputs, outputs, name="g"):
    """inputs/outputs: [(name, dtype, dims)]."""
    return (b"".join(ld(1, n) for n in nodes) + ld(2, name) +
            b"".join(ld(5, t) for t in inits) +
            b"".join(ld(11, value_info(*i)) for i in inputs) +
            b"".join(ld(12, value_info(*o)) for o in outputs))


def model(g, opset=13):
    return vint(1, 7) + ld(7, g) + ld(8, ld(1, "") + vint(2, opset))
