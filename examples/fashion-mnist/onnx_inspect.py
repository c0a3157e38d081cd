#!/usr/bin/python3
"""Minimal ONNX reader (no `onnx` package needed) and a numpy reference run.

Decodes the protobuf wire format directly, only the fields this example
needs (field numbers from onnx/onnx.proto):
  ModelProto:        ir_version=1, producer_name=2, graph=7, opset_import=8
  OperatorSetIdProto domain=1, version=2
  GraphProto:        node=1, name=2, initializer=5, input=11, output=12
  NodeProto:         input=1, output=2, name=3, op_type=4, attribute=5, domain=7
  AttributeProto:    name=1, f=2, i=3, s=4, floats=7, ints=8, type=20
  TensorProto:       dims=1, data_type=2, float_data=4, int64_data=7, name=8,
                     raw_data=9
  ValueInfoProto:    name=1, type=2 -> TypeProto.tensor_type=1
                     -> elem_type=1, shape=2 -> dim=1 -> dim_value=1 | dim_param=2

Usage: /usr/bin/python3 onnx_inspect.py model.onnx [images.npy]
  prints opsets, inputs/outputs, the node list and an op_type histogram;
  with images.npy also runs the graph in numpy and prints the logits.
"""
import collections
import struct
import sys

import numpy as np


# ---------------------------------------------------------------- wire format
def _varint(buf, pos):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf):
    """Yields (field_number, wire_type, value) for one message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, pos = _varint(buf, pos)
        elif wt == 1:
            val, pos = buf[pos:pos + 8], pos + 8
        elif wt == 2:
            n, pos = _varint(buf, pos)
            val, pos = buf[pos:pos + n], pos + n
        elif wt == 5:
            val, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        yield num, wt, val


def _signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _packed_varints(val, wt):
    if wt == 0:
        return [_signed(val)]
    out, pos = [], 0
    while pos < len(val):
        v, pos = _varint(val, pos)
        out.append(_signed(v))
    return out


# -------------------------------------------------------------- ONNX messages
_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 6: np.int32, 7: np.int64,
           11: np.float64}


def _tensor(buf):
    dims, dtype, name, raw, fdata, idata = [], 1, "", None, [], []
    for num, wt, val in _fields(buf):
        if num == 1:
            dims += _packed_varints(val, wt)
        elif num == 2:
            dtype = val
        elif num == 4:
            fdata += (list(struct.unpack(f"<{len(val)//4}f", val)) if wt == 2
                      else list(struct.unpack("<f", val)))
        elif num == 7:
            idata += _packed_varints(val, wt)
        elif num == 8:
            name = val.decode()
        elif num == 9:
            raw = val
    npt = _DTYPES.get(dtype)
    if npt is None:
        raise ValueError(f"tensor {name!r}: unsupported data_type {dtype}")
    if raw is not None:
        arr = np.frombuffer(raw, dtype=np.dtype(npt).newbyteorder("<")).astype(npt)
    elif fdata:
        arr = np.array(fdata, dtype=npt)
    else:
        arr = np.array(idata, dtype=npt)
    return name, arr.reshape(dims)


def _attribute(buf):
    name, a = "", {}
    for num, wt, val in _fields(buf):
        if num == 1:
            name = val.decode()
        elif num == 2:
            a["f"] = struct.unpack("<f", val)[0]
        elif num == 3:
            a["i"] = _signed(val)
        elif num == 4:
            a["s"] = val.decode()
        elif num == 7:
            a.setdefault("floats", []).extend(
                struct.unpack(f"<{len(val)//4}f", val) if wt == 2
                else struct.unpack("<f", val))
        elif num == 8:
            a.setdefault("ints", []).extend(_packed_varints(val, wt))
        elif num == 5:
            a["t"] = _tensor(val)[1]
    for k in ("f", "i", "s", "ints", "floats", "t"):
        if k in a:
            return name, a[k]
    return name, None


def _value_info(buf):
    name, elem, dims = "", None, []
    for num, _, val in _fields(buf):
        if num == 1:
            name = val.decode()
        elif num == 2:
            for tn, _, tv in _fields(val):
                if tn != 1:
                    continue
                for sn, _, sv in _fields(tv):
                    if sn == 1:
                        elem = sv
                    elif sn == 2:
                        for dn, _, dv in _fields(sv):
                            if dn != 1:
                                continue
                            d = "?"
                            for kn, _, kv in _fields(dv):
                                d = kv if kn == 1 else kv.decode()
                            dims.append(d)
    return {"name": name, "elem_type": elem, "shape": dims}


Node = collections.namedtuple("Node", "name op_type domain inputs outputs attrs")


def load(path):
    """Returns a dict: ir_version, producer, opsets {domain: version}, nodes,
    initializers {name: ndarray}, inputs, outputs (value-info dicts; inputs
    exclude initializers)."""
    with open(path, "rb") as f:
        buf = f.read()
    m = {"ir_version": None, "producer": "", "opsets": {}, "nodes": [],
         "initializers": {}, "inputs": [], "outputs": [], "graph_name": ""}
    graph = None
    for num, _, val in _fields(buf):
        if num == 1:
            m["ir_version"] = val
        elif num == 2:
            m["producer"] = val.decode()
        elif num == 7:
            graph = val
        elif num == 8:
            dom, ver = "", None
            for n2, _, v2 in _fields(val):
                if n2 == 1:
                    dom = v2.decode()
                elif n2 == 2:
                    ver = v2
            m["opsets"][dom or "ai.onnx"] = ver
    if graph is None:
        raise ValueError(f"{path}: no graph in ModelProto")
    inputs = []
    for num, _, val in _fields(graph):
        if num == 1:
            name, op, dom, ins, outs, attrs = "", "", "", [], [], {}
            for n2, _, v2 in _fields(val):
                if n2 == 1:
                    ins.append(v2.decode())
                elif n2 == 2:
                    outs.append(v2.decode())
                elif n2 == 3:
                    name = v2.decode()
                elif n2 == 4:
                    op = v2.decode()
                elif n2 == 5:
                    k, v = _attribute(v2)
                    attrs[k] = v
                elif n2 == 7:
                    dom = v2.decode()
            m["nodes"].append(Node(name, op, dom, ins, outs, attrs))
        elif num == 2:
            m["graph_name"] = val.decode()
        elif num == 5:
            k, v = _tensor(val)
            m["initializers"][k] = v
        elif num == 11:
            inputs.append(_value_info(val))
        elif num == 12:
            m["outputs"].append(_value_info(val))
    m["inputs"] = [i for i in inputs if i["name"] not in m["initializers"]]
    return m


def op_histogram(m):
    return collections.Counter(n.op_type for n in m["nodes"])


# ------------------------------------------------------- numpy reference run
def _conv(x, w, b, a):
    if a.get("group", 1) != 1:
        raise NotImplementedError("grouped Conv")
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    n, c, _, _ = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i * dh:i * dh + sh * oh:sh,
                                  j * dw:j * dw + sw * ow:sw]
    y = np.einsum("nckhij,ockh->noij", cols, w.astype(np.float64), optimize=True)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _maxpool(x, a):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    if any(a.get("pads", [0, 0, 0, 0])) or a.get("ceil_mode", 0):
        raise NotImplementedError("padded / ceil_mode MaxPool")
    oh = (x.shape[2] - kh) // sh + 1
    ow = (x.shape[3] - kw) // sw + 1
    y = np.full(x.shape[:2] + (oh, ow), -np.inf)
    for i in range(kh):
        for j in range(kw):
            y = np.maximum(y, x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw])
    return y


def run(m, x):
    """Runs the graph on x (float64 math) and returns the first output."""
    env = {k: v for k, v in m["initializers"].items()}
    env[m["inputs"][0]["name"]] = np.asarray(x, dtype=np.float64)
    for nd in m["nodes"]:
        ins = [env[i] if i else None for i in nd.inputs]
        a, op = nd.attrs, nd.op_type
        if op == "Conv":
            y = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "BatchNormalization":
            xx, s, b, mu, var = ins
            sh = (1, -1) + (1,) * (xx.ndim - 2)
            y = (xx - mu.reshape(sh)) / np.sqrt(var.reshape(sh) + a.get("epsilon", 1e-5)) \
                * s.reshape(sh) + b.reshape(sh)
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "MaxPool":
            y = _maxpool(ins[0], a)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif op == "Reshape":
            shape = [ins[0].shape[i] if d == 0 else d
                     for i, d in enumerate(ins[1].tolist())]
            y = ins[0].reshape(shape)
        elif op == "Constant":
            y = a["value"] if "value" in a else np.asarray(next(iter(a.values())))
        elif op == "Gemm":
            A, B = ins[0], ins[1]
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                B = B.T
            y = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                y = y + a.get("beta", 1.0) * ins[2]
        else:
            raise NotImplementedError(f"node {nd.name!r}: op {op}")
        env[nd.outputs[0]] = y
    return env[m["outputs"][0]["name"]]


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    m = load(argv[1])
    print(f"{argv[1]}: ir_version {m['ir_version']}, producer {m['producer']!r}, "
          f"opsets {m['opsets']}")
    for v in m["inputs"]:
        print(f"  input  {v['name']}: elem_type {v['elem_type']} shape {v['shape']}")
    for v in m["outputs"]:
        print(f"  output {v['name']}: elem_type {v['elem_type']} shape {v['shape']}")
    print(f"  {len(m['initializers'])} initializers, "
          f"{sum(a.size for a in m['initializers'].values())} values")
    for nd in m["nodes"]:
        print(f"  {nd.name:28s} {nd.op_type:20s} {nd.inputs} -> {nd.outputs} "
              f"{nd.attrs if nd.attrs else ''}")
    for op, cnt in sorted(op_histogram(m).items()):
        print(f"  {op}: {cnt}")
    if len(argv) > 2:
        x = np.load(argv[2])
        print(run(m, x).astype(np.float32))


if __name__ == "__main__":
    main(sys.argv)
