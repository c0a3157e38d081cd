#!/usr/bin/env python3
"""Models whose tensor and node names try to inject code into the generated
C wrapper, the header, MLIR text or a shell (issue: a tensor name must never
reach generated C unescaped).

  hostile_names.py OUTDIR   writes OUTDIR/hostile.onnx, OUTDIR/hostile.mlir,
                            OUTDIR/x.npy and OUTDIR/names.txt (the exact names,
                            one per line, escaped the way check_names.c prints)

The ONNX model is x -> Relu -> y1, x -> Neg -> y2, x -> Abs -> y3 with hostile
names on x, y1, y2, y3 and the nodes, written with test/lit/onnx/Inputs/onnx_wire.py
(no onnx package)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "onnx", "Inputs"))
import onnx_wire as wire  # noqa: E402  (the project's protobuf wire encoder for tests)

# Breaks out of a string literal into a constructor that runs at load time.
IN = 'x",0,0,0}};int system(const char*);__attribute__((constructor))void p(void){system("touch PWNED");}//'
# Closes the header comment and injects a declaration; a newline and an #include.
OUT1 = 'y */ int injected_decl; /*\n#include "/etc/passwd"'
# Sanitizes to the same identifier as OUT1's neighbour, and a C keyword.
OUT2 = "int"
OUT3 = "y_int_injected_decl_include_etc_passwd"
NODE = "n'; rm -rf / #\\\"\x01"


def onnx_model():
    io = [(IN, wire.FLOAT, [1, 4])]
    outs = [(o, wire.FLOAT, [1, 4]) for o in (OUT1, OUT2, OUT3)]
    nodes = [wire.node("Relu", [IN], [OUT1], NODE + "1"), wire.node("Neg", [IN], [OUT2], NODE + "2"),
             wire.node("Abs", [IN], [OUT3], NODE + "3")]
    return wire.model(wire.graph(nodes, [], io, outs))


def mlir_str(s):
    out = ""
    for ch in s.encode():
        if ch == 0x22 or ch == 0x5C or ch < 0x20 or ch >= 0x7F:
            out += "\\%02X" % ch
        else:
            out += chr(ch)
    return '"' + out + '"'


def mlir_model():
    names = "[" + ", ".join(mlir_str(n) for n in [OUT1, OUT2, OUT3]) + "]"
    return ("func.func @forward(%x: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>)\n"
            "    attributes {qo.input_names = [" + mlir_str(IN) + "], qo.output_names = " + names + "} {\n"
            "  %z = \"tosa.const\"() <{values = dense<0.0> : tensor<1x4xf32>}> : () -> tensor<1x4xf32>\n"
            "  %r = tosa.maximum %x, %z : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>\n"
            "  %n = tosa.sub %z, %x : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>\n"
            "  %a = tosa.abs %x : (tensor<1x4xf32>) -> tensor<1x4xf32>\n"
            "  return %r, %n, %a : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>\n"
            "}\n")


def c_escaped(s):
    """How check_names.c prints a name: printable ASCII as is, else \\xHH."""
    return "".join(c if 0x20 <= ord(c) < 0x7F and c != "\\" else "\\x%02x" % ord(c) for c in s)


def main():
    out = sys.argv[1]
    with open(os.path.join(out, "hostile.onnx"), "wb") as f:
        f.write(onnx_model())
    with open(os.path.join(out, "hostile.mlir"), "w") as f:
        f.write(mlir_model())
    np.save(os.path.join(out, "x.npy"), np.array([[-2, -1, 1, 2]], dtype=np.float32))
    with open(os.path.join(out, "names.txt"), "w") as f:
        for n in [IN, OUT1, OUT2, OUT3]:
            f.write(c_escaped(n) + "\n")


if __name__ == "__main__":
    main()
