#!/usr/bin/python3
"""Writes malformed or hostile ONNX models (and external-data files) for the
importer's bad-input tests into OUTDIR:

  bad_models.py OUTDIR

Every model is a few hundred bytes; the names say what is wrong."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_wire as w  # noqa: E402

X = ("x", w.FLOAT, [1, 2, 4, 4])
Y = ("y", w.FLOAT, [1, 2, 4, 4])


def relu_model(inits, inputs=(X,)):
    return w.model(w.graph([w.node("Relu", ["x"], ["y"], "relu")], inits,
                           list(inputs), [Y]))


def models():
    m = {}
    # Gemm attributes used as indices (the out-of-bounds read in qoImportGemm).
    m["gemm_trans"] = w.model(w.graph(
        [w.node("Gemm", ["a", "b"], ["y"], "gemm", w.attr_int("transA", 5))],
        [w.ftensor("b", [4, 3], [0.5] * 12)], [("a", w.FLOAT, [2, 4])],
        [("y", w.FLOAT, [2, 3])]))
    # Conv pads near 2^62 (signed overflow in the window arithmetic).
    m["conv_pads"] = w.model(w.graph(
        [w.node("Conv", ["x", "k"], ["y"], "conv",
                w.attr_ints("pads", [1 << 62, 1 << 62, 1, 1]))],
        [w.ftensor("k", [2, 2, 1, 1], [1] * 4)], [X], [Y]))
    # Run-time weights claiming 2^39 output channels and no bias: the zero
    # bias must not be allocated from that shape.
    m["conv_runtime_weights"] = w.model(w.graph(
        [w.node("Conv", ["x", "k"], ["y"], "conv")], [],
        [("x", w.FLOAT, [1, 1, 1, 1]), ("k", w.FLOAT, [1 << 39, 1, 1, 1])],
        [("y", w.FLOAT, [1, 1 << 39, 1, 1])]))
    # A grouped Conv of an int8 input (the fuzzer's heap overflow).
    m["grouped_conv_int8"] = w.model(w.graph(
        [w.node("Conv", ["q", "k"], ["y"], "conv", w.attr_int("group", 2))],
        [w.ftensor("k", [2, 2, 1, 1], [1] * 4)], [("q", w.INT8, [1, 4, 2, 2])],
        [("y", w.FLOAT, [1, 2, 2, 2])]))
    # A graph input whose element count overflows int64.
    m["huge_input"] = relu_model([], [("x", w.FLOAT, [1 << 31, 1 << 31, 1 << 31])])
    # An initializer claiming 16 GB with 8 bytes of data.
    m["claims_16gb"] = relu_model([w.tensor("w", w.INT64, [1 << 31], raw=b"\0" * 8)])
    m["typed_count"] = relu_model([w.tensor("w", w.FLOAT, [4], float_data=[1, 2, 3])])
    m["negative_dim"] = relu_model([w.tensor("w", w.FLOAT, [(1 << 64) - 1], raw=b"")])
    # Cycles: a node using a later node's output, a node using its own output.
    m["cycle"] = w.model(w.graph(
        [w.node("Add", ["x", "b"], ["a"], "first"), w.node("Relu", ["a"], ["b"], "second")],
        [], [X], [("b", w.FLOAT, [1, 2, 4, 4])]))
    m["self_cycle"] = w.model(w.graph(
        [w.node("Add", ["x", "y"], ["y"], "loop")], [], [X], [Y]))
    # Quantization parameters out of range.
    def dq(zp_tensor, scale=0.5):
        return w.model(w.graph(
            [w.node("QuantizeLinear", ["x", "s", "z"], ["q"], "quant"),
             w.node("DequantizeLinear", ["q", "s", "z"], ["y"], "dequant")],
            [w.ftensor("s", [], [scale]), zp_tensor], [X], [Y]))
    m["zp_range"] = dq(w.tensor("z", w.INT8, [], int32_data=[300]))
    m["scale_zero"] = dq(w.tensor("z", w.INT8, [], raw=b"\0"), 0.0)
    m["scale_negative"] = dq(w.tensor("z", w.INT8, [], raw=b"\0"), -1.0)
    m["scale_nan"] = dq(w.tensor("z", w.INT8, [], raw=b"\0"), float("nan"))
    # Folding that would blow up: ConstantOfShape of 2^20 x 2^20.
    m["fold_huge"] = w.model(w.graph(
        [w.node("ConstantOfShape", ["s"], ["c"], "fill"),
         w.node("Add", ["x", "c"], ["y"], "add")],
        [w.tensor("s", w.INT64, [2], int64_data=[1 << 20, 1 << 20])], [X], [Y]))
    m["reshape_huge"] = w.model(w.graph(
        [w.node("Reshape", ["x", "s"], ["y"], "reshape")],
        [w.tensor("s", w.INT64, [3], int64_data=[1 << 40, 1 << 40, 0])], [X], [Y]))
    # External data.
    def ext(loc, n=2, extra=()):
        return relu_model([w.tensor("w", w.FLOAT, [n], external=[("location", loc)] + list(extra))])
    m["ext_ok"] = w.model(w.graph(
        [w.node("Add", ["x", "w"], ["y"], "add")],
        [w.tensor("w", w.FLOAT, [4], external=[("location", "data/w.bin"), ("offset", "4")])],
        [X], [Y]))
    m["ext_missing"] = ext("nope.bin")
    m["ext_absolute"] = ext("/etc/passwd")
    m["ext_dotdot"] = ext("data/../../outside.bin")
    m["ext_symlink"] = ext("link.bin")
    m["ext_short"] = ext("data/w.bin", n=100)
    m["ext_length"] = ext("data/w.bin", extra=[("length", "12")])
    m["ext_noloc"] = relu_model([w.tensor("w", w.FLOAT, [2], external=[("offset", "0")])])
    return m


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    for name, data in models().items():
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(data)
    # data/w.bin: 4 junk bytes, then 0.5, 1.5, 2.5, 3.5
    with open(os.path.join(out, "data", "w.bin"), "wb") as f:
        f.write(b"JUNK" + struct.pack("<4f", 0.5, 1.5, 2.5, 3.5))


if __name__ == "__main__":
    main()
