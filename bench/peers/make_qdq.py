#!/usr/bin/python3
"""Builds an ONNX QDQ int8 model from a float ONNX model, the way ONNX
Runtime's static quantizer (quantize_static, QuantFormat.QDQ, per_channel)
lays it out, for timing ORT's int8 path against quant-opt.

    /usr/bin/python3 bench/peers/make_qdq.py model.onnx calib.npy out.onnx
        [--calib-count 512] [--calib-batch 64] [--json report.json]

Needs no `onnx` package: it reads and writes the protobuf wire format
directly (the reader is examples/fashion-mnist/onnx_inspect.py's).

What it does:
  1. Folds every BatchNormalization into the Conv that feeds it (ORT does the
     same at session creation), turns Constant and initializer-Identity
     nodes into initializers.
  2. Calibrates with min/max (ORT's default MinMax calibrator: the range is
     widened to include 0) on the calibration rows, running the folded graph
     in numpy (float32).
  3. Quantizes:
     - activations: uint8, per-tensor affine. A QuantizeLinear ->
       DequantizeLinear pair goes on every tensor read by Conv, Gemm, Add,
       MaxPool, GlobalAveragePool or Flatten (so also on the graph input).
       MaxPool and Flatten outputs reuse their input's scale and zero point.
       A Relu or Clip(0, c) whose input has no other reader is dropped and
       its range goes into the uint8 grid (zero point 0, top <= c), as ORT's
       quantizer / ReluQuantFusion / ClipQuantFusion do, so every Conv and
       Add becomes DQ -> op -> Q, which ORT fuses into QLinearConv /
       QLinearAdd.
     - weights of Conv and Gemm: int8, per output channel (axis 0),
       symmetric, scale = max|w| / 127, as initializers behind a
       DequantizeLinear; bias: int32 with scale input_scale * weight_scale,
       behind a DequantizeLinear (axis 0).
     - the logits (Gemm output) stay float.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "examples", "fashion-mnist"))
sys.dont_write_bytecode = True
import onnx_inspect as oi  # noqa: E402

QUANTIZED_READERS = {"Conv", "Gemm", "Add", "MaxPool", "GlobalAveragePool", "Flatten"}
SHARE_INPUT_QPARAMS = {"MaxPool", "Flatten"}


def die(msg):
    sys.exit(f"make_qdq: error: {msg}")


# ------------------------------------------------------------- wire format out
def _vi(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(num, wt):
    return _vi(num << 3 | wt)


def _ld(num, payload):
    return _key(num, 2) + _vi(len(payload)) + payload


def _int(num, v):
    return _key(num, 0) + _vi(v)


_ONNX_TYPE = {np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int8): 3,
              np.dtype(np.int32): 6, np.dtype(np.int64): 7}


def enc_tensor(name, arr):
    arr = np.asarray(arr, order="C")  # (ascontiguousarray would make 0-d 1-d)
    b = b"".join(_int(1, int(d)) for d in arr.shape)
    b += _int(2, _ONNX_TYPE[arr.dtype])
    b += _ld(8, name.encode())
    b += _ld(9, arr.astype(arr.dtype.newbyteorder("<")).tobytes())
    return b


def enc_attr_int(name, v):
    return _ld(1, name.encode()) + _int(3, v) + _int(20, 2)  # type INT


def enc_node(n):
    b = b"".join(_ld(1, i.encode()) for i in n["inputs"])
    b += b"".join(_ld(2, o.encode()) for o in n["outputs"])
    if n.get("name"):
        b += _ld(3, n["name"].encode())
    b += _ld(4, n["op"].encode())
    b += b"".join(_ld(5, a) for a in n["raw_attrs"])
    if n.get("domain"):
        b += _ld(7, n["domain"].encode())
    return b


# ------------------------------------------------------------------ reading
def read_model(path):
    with open(path, "rb") as f:
        buf = f.read()
    top = list(oi._fields(buf))
    graph = [v for num, _, v in top if num == 7]
    if len(graph) != 1:
        die(f"{path}: expected one graph")
    nodes, inits, inputs, outputs, gname = [], {}, [], [], b""
    for num, _, val in oi._fields(graph[0]):
        if num == 1:
            n = {"inputs": [], "outputs": [], "name": "", "op": "", "domain": "",
                 "raw_attrs": [], "attrs": {}}
            for n2, _, v2 in oi._fields(val):
                if n2 == 1:
                    n["inputs"].append(v2.decode())
                elif n2 == 2:
                    n["outputs"].append(v2.decode())
                elif n2 == 3:
                    n["name"] = v2.decode()
                elif n2 == 4:
                    n["op"] = v2.decode()
                elif n2 == 5:
                    n["raw_attrs"].append(bytes(v2))
                    k, v = oi._attribute(v2)
                    n["attrs"][k] = v
                elif n2 == 7:
                    n["domain"] = v2.decode()
            nodes.append(n)
        elif num == 2:
            gname = bytes(val)
        elif num == 5:
            k, v = oi._tensor(val)
            inits[k] = v
        elif num == 11:
            inputs.append((oi._value_info(val)["name"], bytes(val)))
        elif num == 12:
            outputs.append((oi._value_info(val)["name"], bytes(val)))
    inputs = [(n, raw) for n, raw in inputs if n not in inits]
    return {"top": top, "nodes": nodes, "inits": inits, "inputs": inputs,
            "outputs": outputs, "graph_name": gname}


def write_model(path, m, nodes, inits):
    g = b"".join(_ld(1, enc_node(n)) for n in nodes)
    g += _ld(2, m["graph_name"] or b"qdq")
    g += b"".join(_ld(5, enc_tensor(k, v)) for k, v in inits.items())
    g += b"".join(_ld(11, raw) for _, raw in m["inputs"])
    g += b"".join(_ld(12, raw) for _, raw in m["outputs"])
    out = b""
    for num, wt, val in m["top"]:
        if num == 7:
            out += _ld(7, g)
        elif num == 2:
            out += _ld(2, b"quant-opt bench/peers/make_qdq.py")
        elif wt == 0:
            out += _int(num, val)
        elif wt == 2:
            out += _ld(num, bytes(val))
        else:
            out += _key(num, wt) + bytes(val)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
    os.replace(tmp, path)


# ------------------------------------------------------ graph simplification
def simplify(m):
    """Constant/Identity -> initializers, BN folded into Conv. Returns nodes
    (dicts) and float32 initializers."""
    inits = {k: v for k, v in m["inits"].items()}
    nodes = []
    for n in m["nodes"]:
        if n["op"] == "Constant":
            inits[n["outputs"][0]] = np.asarray(n["attrs"]["value"])
        elif n["op"] == "Identity" and n["inputs"][0] in inits:
            inits[n["outputs"][0]] = inits[n["inputs"][0]]
        else:
            nodes.append(n)
    readers = {}
    for n in nodes:
        for i in n["inputs"]:
            readers.setdefault(i, []).append(n)
    producer = {o: n for n in nodes for o in n["outputs"]}
    out, dropped = [], set()
    for n in nodes:
        if n["op"] != "BatchNormalization":
            continue
        conv = producer.get(n["inputs"][0])
        if conv is None or conv["op"] != "Conv" or len(readers[conv["outputs"][0]]) != 1:
            die(f"{n['name']}: BatchNormalization not after a Conv it alone reads")
        gamma, beta, mean, var = (inits[i].astype(np.float64) for i in n["inputs"][1:5])
        s = gamma / np.sqrt(var + n["attrs"].get("epsilon", 1e-5))
        w = inits[conv["inputs"][1]].astype(np.float64)
        b = (inits[conv["inputs"][2]].astype(np.float64) if len(conv["inputs"]) > 2
             and conv["inputs"][2] else np.zeros(w.shape[0]))
        wn, bn = conv["name"] + ".w_folded", conv["name"] + ".b_folded"
        inits[wn] = (w * s.reshape(-1, 1, 1, 1)).astype(np.float32)
        inits[bn] = ((b - mean) * s + beta).astype(np.float32)
        conv["inputs"] = [conv["inputs"][0], wn, bn]
        conv["outputs"] = [n["outputs"][0]]
        dropped.add(id(n))
    out = [n for n in nodes if id(n) not in dropped]
    used = {i for n in out for i in n["inputs"]}
    inits = {k: v for k, v in inits.items() if k in used}
    return out, inits


# ---------------------------------------------------------- numpy float run
def conv(x, w, b, a):
    g = a.get("group", 1)
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    n, c = x.shape[:2]
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1

    def tap(i, j):
        return xp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
    if g == c == o and cg == 1:  # depthwise
        y = np.zeros((n, c, oh, ow), np.float32)
        for i in range(kh):
            for j in range(kw):
                y += tap(i, j) * w[:, 0, i, j].reshape(1, -1, 1, 1)
    else:
        cols = np.stack([tap(i, j) for i in range(kh) for j in range(kw)], 2)  # n c k oh ow
        cols = cols.reshape(n, g, cg * kh * kw, oh * ow)
        wg = w.reshape(g, o // g, cg * kh * kw)
        y = np.einsum("gok,ngkp->ngop", wg, cols, optimize=True).reshape(n, o, oh, ow)
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y.astype(np.float32)


def run_all(nodes, inits, in_name, x):
    env = dict(inits)
    env[in_name] = x
    for n in nodes:
        ins = [env[i] if i else None for i in n["inputs"]]
        a, op = n["attrs"], n["op"]
        if op == "Conv":
            y = conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "Clip":
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else -np.inf
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else np.inf
            y = np.clip(ins[0], lo, hi)
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "MaxPool":
            y = oi._maxpool(ins[0], a).astype(np.float32)
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif op == "Gemm":
            A = ins[0].T if a.get("transA", 0) else ins[0]
            B = ins[1].T if a.get("transB", 0) else ins[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                y = y + a.get("beta", 1.0) * ins[2]
        else:
            die(f"node {n['name']!r}: op {op} not supported by the calibration runner")
        env[n["outputs"][0]] = y.astype(np.float32)
    return env


# --------------------------------------------------------------- quantize
def qparams_u8(lo, hi):
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), zp


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model")
    p.add_argument("calib")
    p.add_argument("out")
    p.add_argument("--calib-count", type=int, default=512)
    p.add_argument("--calib-batch", type=int, default=64)
    p.add_argument("--json", default=None, help="write a report (ranges, counts)")
    a = p.parse_args()

    m = read_model(a.model)
    if len(m["inputs"]) != 1 or len(m["outputs"]) != 1:
        die("expected one graph input and one output")
    in_name, out_name = m["inputs"][0][0], m["outputs"][0][0]
    nodes, inits = simplify(m)

    # Drop Relu/Clip(0, c) whose input only they read: the uint8 grid of the
    # (then quantized) input does the clamp. Remember the clamp for the range.
    readers = {}
    for n in nodes:
        for i in n["inputs"]:
            readers.setdefault(i, []).append(n)
    clamp = {}  # tensor -> (lo, hi) the dropped activation imposed
    kept = []
    rename = {}
    for n in nodes:
        n["inputs"] = [rename.get(i, i) for i in n["inputs"]]
        src = n["inputs"][0] if n["inputs"] else None
        if n["op"] in ("Relu", "Clip") and len(readers.get(src, [])) == 1 and src != in_name:
            if n["op"] == "Relu":
                lo, hi = 0.0, np.inf
            else:
                lo = float(inits[n["inputs"][1]]) if len(n["inputs"]) > 1 and n["inputs"][1] else -np.inf
                hi = float(inits[n["inputs"][2]]) if len(n["inputs"]) > 2 and n["inputs"][2] else np.inf
            if lo == 0.0:
                # consumers read the clamped tensor under the original name
                rename[n["outputs"][0]] = src
                clamp[src] = (lo, hi)
                continue
        kept.append(n)
    for n in kept:
        n["inputs"] = [rename.get(i, i) for i in n["inputs"]]
    if out_name in rename:
        die("graph output is a dropped activation")
    nodes = kept
    used = {i for n in nodes for i in n["inputs"]}
    inits = {k: v for k, v in inits.items() if k in used}

    # Tensors to quantize: every activation a QUANTIZED_READERS node reads.
    producer = {o: n for n in nodes for o in n["outputs"]}
    to_q = []
    for n in nodes:
        if n["op"] in QUANTIZED_READERS:
            for i in n["inputs"]:
                if i and i not in inits and i not in to_q:
                    to_q.append(i)

    # Calibration (min/max) on the float graph; the dropped activations are
    # applied by clipping the observed range.
    xcal = np.load(a.calib)[:a.calib_count].astype(np.float32)
    lo = {t: np.inf for t in to_q}
    hi = {t: -np.inf for t in to_q}
    # run with the activations still in place: re-insert them as clips
    run_nodes = []
    for n in nodes:
        run_nodes.append(n)
        for o in n["outputs"]:
            if o in clamp:
                cl, ch = clamp[o]
                tmp = dict(n, outputs=[o + "__pre"])
                run_nodes[-1] = tmp
                run_nodes.append({"op": "Clip", "inputs": [o + "__pre", "__lo_" + o, "__hi_" + o],
                                  "outputs": [o], "attrs": {}, "name": o + "__clip"})
    run_inits = dict(inits)
    for o, (cl, ch) in clamp.items():
        run_inits["__lo_" + o] = np.float32(cl)
        run_inits["__hi_" + o] = np.float32(ch if np.isfinite(ch) else np.finfo(np.float32).max)
    for s in range(0, len(xcal), a.calib_batch):
        env = run_all(run_nodes, run_inits, in_name, xcal[s:s + a.calib_batch])
        for t in to_q:
            lo[t] = min(lo[t], float(env[t].min()))
            hi[t] = max(hi[t], float(env[t].max()))

    qp = {}
    for n in [None] + nodes:  # graph input first, then in topological order
        outs = [in_name] if n is None else n["outputs"]
        for t in outs:
            if t not in to_q:
                continue
            if n is not None and n["op"] in SHARE_INPUT_QPARAMS:
                qp[t] = qp[n["inputs"][0]]
            else:
                qp[t] = qparams_u8(lo[t], hi[t])
    lost = [t for t in clamp if t not in to_q]
    if lost:
        die(f"dropped activations on tensors that get no Q/DQ pair: {lost}")
    missing = [t for t in to_q if t not in qp]
    if missing:
        die(f"no quantization parameters for {missing}")

    # Emit the QDQ graph.
    out_nodes, q_inits = [], {}

    def qdq_pair(t):
        s, z = qp[t]
        q_inits[t + "_scale"] = np.array(s, np.float32)
        q_inits[t + "_zero_point"] = np.array(z, np.uint8)
        out_nodes.append({"op": "QuantizeLinear", "name": t + "_QuantizeLinear",
                          "inputs": [t, t + "_scale", t + "_zero_point"],
                          "outputs": [t + "_quantized"], "raw_attrs": []})
        out_nodes.append({"op": "DequantizeLinear", "name": t + "_DequantizeLinear",
                          "inputs": [t + "_quantized", t + "_scale", t + "_zero_point"],
                          "outputs": [t + "_dequantized"], "raw_attrs": []})

    def dq_const(name, q, scale, zp):
        q_inits[name + "_quantized"] = q
        q_inits[name + "_scale"] = scale
        q_inits[name + "_zero_point"] = zp
        out_nodes.append({"op": "DequantizeLinear", "name": name + "_DequantizeLinear",
                          "inputs": [name + "_quantized", name + "_scale", name + "_zero_point"],
                          "outputs": [name + "_dequantized"],
                          "raw_attrs": [enc_attr_int("axis", 0)]})
        return name + "_dequantized"

    report = {"weights": {}, "activations": {}}
    if in_name in qp:
        qdq_pair(in_name)
    for n in nodes:
        ins = [i + "_dequantized" if i in qp else i for i in n["inputs"]]
        if n["op"] in ("Conv", "Gemm"):
            w = inits[n["inputs"][1]]
            if n["op"] == "Gemm" and (n["attrs"].get("transB", 0) != 1 or n["attrs"].get("transA", 0)):
                die(f"{n['name']}: only Gemm with transB=1 (weight [N, K]) is handled")
            amax = np.abs(w.reshape(w.shape[0], -1)).max(1).astype(np.float32)
            ws = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
            wq = np.clip(np.round(w / ws.reshape((-1,) + (1,) * (w.ndim - 1))), -127, 127).astype(np.int8)
            ins[1] = dq_const(n["inputs"][1], wq, ws, np.zeros(w.shape[0], np.int8))
            report["weights"][n["inputs"][1]] = {"channels": int(w.shape[0]),
                                                 "scale_min": float(ws.min()), "scale_max": float(ws.max())}
            if len(n["inputs"]) > 2 and n["inputs"][2]:
                b = inits[n["inputs"][2]].astype(np.float64)
                xs = float(qp[n["inputs"][0]][0])
                bs = (xs * ws.astype(np.float64)).astype(np.float32)
                bq = np.clip(np.round(b / bs), -2**31, 2**31 - 1).astype(np.int32)
                ins[2] = dq_const(n["inputs"][2], bq, bs, np.zeros(w.shape[0], np.int32))
        out_nodes.append(dict(n, inputs=ins))
        for o in n["outputs"]:
            if o in qp:
                qdq_pair(o)
    for t, (s, z) in qp.items():
        report["activations"][t] = {"min": lo[t], "max": hi[t], "scale": float(s), "zero_point": z}
    final_inits = {k: v.astype(np.float32) for k, v in inits.items()
                   if any(k in nd["inputs"] for nd in out_nodes)}
    final_inits.update(q_inits)
    write_model(a.out, m, out_nodes, final_inits)
    ops = {}
    for nd in out_nodes:
        ops[nd["op"]] = ops.get(nd["op"], 0) + 1
    report.update({"model": a.model, "calib": a.calib, "calib_count": int(len(xcal)),
                   "calibration": "min/max over the calibration rows, widened to include 0",
                   "ops": ops, "dropped_activations": len(clamp)})
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    print(f"make_qdq: wrote {a.out}: {len(qp)} activation Q/DQ pairs, "
          f"{len(report['weights'])} int8 weights, {len(clamp)} Relu/Clip folded into uint8 ranges; "
          f"ops {ops}")


if __name__ == "__main__":
    main()
