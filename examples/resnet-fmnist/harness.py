"""Training, ONNX export and export checks shared by the ResNet and
MobileNetV2 Fashion-MNIST examples (examples/resnet-fmnist/train.py,
examples/mobilenetv2-fmnist/train.py).

Reuses examples/fashion-mnist/{fmnist.py,onnx_inspect.py} (data, normalization,
minimal ONNX reader) and follows examples/fashion-mnist/train.py exactly for
the export: model.eval(), training=TrainingMode.PRESERVE (skips torch's eval
Conv+BN fusion, so every BatchNormalization node is kept in inference form),
do_constant_folding=False, opset 13, input "input", output "logits", dynamic
batch.

onnx_inspect.run only knows the ops of the plain CNN; run_onnx() here adds
the ones these models need (grouped/depthwise Conv, Add, Clip,
GlobalAveragePool, AveragePool) for the float64 numpy check of the export.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

FMNIST_EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "fashion-mnist")
if FMNIST_EXAMPLE not in sys.path:
    sys.path.insert(0, FMNIST_EXAMPLE)
import fmnist  # noqa: E402
import onnx_inspect  # noqa: E402

OPSET = 13
SEED = 0


# ------------------------------------------------------- numpy reference run
def _conv(x, w, b, a):
    g = a.get("group", 1)
    if g == 1:
        return onnx_inspect._conv(x, w, b, a)
    c, o = x.shape[1], w.shape[0]
    if c % g or o % g or w.shape[1] != c // g:
        raise ValueError(f"grouped Conv: {c} input channels, weight {w.shape}, group {g}")
    ci, co = c // g, o // g
    a1 = {k: v for k, v in a.items() if k != "group"}
    ys = [onnx_inspect._conv(x[:, i * ci:(i + 1) * ci], w[i * co:(i + 1) * co],
                             None if b is None else b[i * co:(i + 1) * co], a1)
          for i in range(g)]
    return np.concatenate(ys, axis=1)


def _avgpool(x, a):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    if any(a.get("pads", [0, 0, 0, 0])) or a.get("ceil_mode", 0):
        raise NotImplementedError("padded / ceil_mode AveragePool")
    oh = (x.shape[2] - kh) // sh + 1
    ow = (x.shape[3] - kw) // sw + 1
    y = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(kh):
        for j in range(kw):
            y += x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
    return y / (kh * kw)


def run_onnx(m, x):
    """Runs the graph on x in float64 numpy; returns the first output."""
    env = dict(m["initializers"])
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
        elif op == "Clip":
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else -np.inf
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else np.inf
            y = np.clip(ins[0], lo, hi)
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "Identity":
            y = ins[0]
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "AveragePool":
            y = _avgpool(ins[0], a)
        elif op == "MaxPool":
            y = onnx_inspect._maxpool(ins[0], a)
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


def onnx_state(m):
    """{state_dict key: ndarray} from the graph's initializers, following the
    Identity nodes torch's exporter adds when it de-duplicates initializers
    with equal values (e.g. the ResNet's bn2.bias and shortcut.bn.bias in a
    projection block: their gradients are always equal, so from the same
    zero init they stay equal through training). Returns (state, aliases)."""
    inits = m["initializers"]
    state, aliases = dict(inits), {}
    for nd in m["nodes"]:
        if nd.op_type == "Identity" and nd.inputs[0] in inits:
            state[nd.outputs[0]] = inits[nd.inputs[0]]
            aliases[nd.outputs[0]] = nd.inputs[0]
    return state, aliases


def load_onnx_state(model, path):
    """Loads model.onnx's weights into model (strict: every key, nothing left)."""
    import torch
    state, _ = onnx_state(onnx_inspect.load(path))
    sd = model.state_dict()
    for k in sd:
        if not k.endswith("num_batches_tracked"):
            sd[k] = torch.from_numpy(np.array(state.pop(k)))
    if set(state) - set(sd):
        raise ValueError(f"{path}: initializers not in the module: {sorted(set(state) - set(sd))}")
    model.load_state_dict(sd, strict=True)


# ------------------------------------------------------------------ training
def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def export(model, path):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(
        model, dummy, path,
        opset_version=OPSET,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        training=torch.onnx.TrainingMode.PRESERVE,  # skip eval Conv+BN fusion
        do_constant_folding=False,
    )


def check_export(path, model, x16, ref16, want_ops):
    """Verifies the exported graph; want_ops maps op_type -> exact node count.

    Also checks: opset, inference-form BN, module-path node names, graph
    input/output names and dynamic batch, that the initializers are exactly
    the model's parameters and BN running statistics (same names as the
    state_dict keys, same values), and that a float64 numpy run of the graph
    reproduces PyTorch's logits of the first 16 test images."""
    m = onnx_inspect.load(path)
    hist = onnx_inspect.op_histogram(m)
    problems = []
    if m["opsets"].get("ai.onnx") != OPSET:
        problems.append(f"opset {m['opsets']} (want ai.onnx {OPSET})")
    for op, n in want_ops.items():
        if hist[op] != n:
            problems.append(f"{hist[op]} {op} nodes (want {n})")
    state, aliases = onnx_state(m)
    unexpected = sorted(set(hist) - set(want_ops) - {"Constant", "Identity"})
    if unexpected:
        problems.append(f"unexpected ops {unexpected}")
    for nd in m["nodes"]:
        if nd.op_type == "BatchNormalization":
            if len(nd.outputs) != 1 or nd.attrs.get("training_mode", 0) != 0:
                problems.append(f"{nd.name}: BN not in inference form "
                                f"({len(nd.outputs)} outputs, attrs {nd.attrs})")
        if nd.op_type == "Identity" and nd.outputs[0] in aliases:
            continue  # initializer de-duplication, not a module op
        if not nd.name.startswith("/"):
            problems.append(f"node {nd.name!r} ({nd.op_type}) has no module-path name")
    ins, outs = m["inputs"], m["outputs"]
    if [i["name"] for i in ins] != ["input"] or [o["name"] for o in outs] != ["logits"]:
        problems.append(f"graph inputs {ins} outputs {outs}")
    elif ins[0]["shape"][:1] != ["batch"] or outs[0]["shape"][:1] != ["batch"]:
        problems.append(f"batch dim not dynamic: {ins[0]['shape']} / {outs[0]['shape']}")
    sd = {k: v for k, v in model.state_dict().items()
          if not k.endswith("num_batches_tracked")}
    if set(sd) != set(state):
        problems.append(f"initializers (+ Identity aliases) != state_dict keys: only "
                        f"in ONNX {sorted(set(state) - set(sd))}, only in the "
                        f"module {sorted(set(sd) - set(state))}")
    else:
        for k, v in sd.items():
            if not np.array_equal(state[k], v.numpy()):
                problems.append(f"initializer {k} differs from the module's")
    got = run_onnx(m, x16)
    err = float(np.abs(got - ref16).max())
    if err > 1e-3:
        problems.append(f"numpy run of the ONNX graph differs from PyTorch by {err}")
    if problems:
        sys.exit("export check failed:\n  " + "\n  ".join(problems))
    return m, hist, err


def report(model, acc, onnx_path, x16, ref16, want_ops):
    m, hist, err = check_export(onnx_path, model, x16, ref16, want_ops)
    print(f"test top1 (PyTorch fp32, eval): {acc:.4f}")
    print(f"{onnx_path}: {os.path.getsize(onnx_path)} bytes, opsets {m['opsets']}")
    for nd in m["nodes"]:
        if nd.op_type != "Constant":
            print(f"  {nd.name:40s} {nd.op_type} {nd.inputs if nd.op_type == 'Identity' else ''}")
    print("  ops: " + ", ".join(f"{k} x{v}" for k, v in sorted(hist.items())))
    print(f"  numpy run of ONNX vs PyTorch, first 16 logits: max |diff| {err:.2e}")


def main(make_model, want_ops, out_dir, argv=None, epochs=4, lr=2e-3):
    """Trains make_model() with Adam + one-cycle, exports and checks it, writes
    model.onnx, ref_logits_16.npy and model.json into out_dir.

    --check-only: no training; loads the weights of out_dir/model.onnx into
    make_model(), re-evaluates it and checks model.onnx, ref_logits_16.npy
    and model.json against it."""
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=out_dir)
    p.add_argument("--check-only", action="store_true",
                   help="check the existing model.onnx / ref_logits_16.npy / model.json")
    a = p.parse_args(argv)

    torch.set_num_threads(a.threads)
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.use_deterministic_algorithms(True)

    xte, yte = fmnist.load("test")
    xte, yte = torch.from_numpy(xte), torch.from_numpy(yte.astype(np.int64))
    onnx_path = os.path.join(a.out, "model.onnx")
    ref_path = os.path.join(a.out, "ref_logits_16.npy")
    json_path = os.path.join(a.out, "model.json")

    model = make_model()
    params = sum(q.numel() for q in model.parameters())
    print(f"params: {params}")

    if a.check_only:
        load_onnx_state(model, onnx_path)
        model.eval()
        acc = evaluate(model, xte, yte)
        with torch.no_grad():
            ref16 = model(xte[:16]).numpy().astype(np.float32)
        saved = np.load(ref_path)
        problems = []
        if not np.array_equal(saved, ref16):
            problems.append(f"{ref_path} differs from the module's logits by "
                            f"{np.abs(saved - ref16).max():.2e}")
        with open(json_path) as f:
            info = json.load(f)
        want = {"fp32_top1": round(acc, 4), "params": params, "opset": OPSET}
        if info != want:
            problems.append(f"{json_path}: {info}, recomputed {want}")
        if problems:
            sys.exit("check failed:\n  " + "\n  ".join(problems))
        report(model, acc, onnx_path, xte[:16].numpy(), ref16, want_ops)
        print(f"checked {onnx_path}, {ref_path}, {json_path}: OK")
        return model, acc, []

    xtr, ytr = fmnist.load("train")
    xtr, ytr = torch.from_numpy(xtr), torch.from_numpy(ytr.astype(np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    steps = a.epochs * ((len(xtr) + a.batch - 1) // a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps)
    gen = torch.Generator().manual_seed(SEED)

    cpu0 = time.process_time()
    history = []
    for epoch in range(a.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        t0, total, seen = time.time(), 0.0, 0
        for i in range(0, len(xtr), a.batch):
            idx = perm[i:i + a.batch]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        acc = evaluate(model, xte, yte)
        history.append((total / seen, acc))
        print(f"epoch {epoch + 1}/{a.epochs}: train loss {total / seen:.4f}, "
              f"test top1 {acc:.4f}, {time.time() - t0:.1f}s wall", flush=True)
    cpu = time.process_time() - cpu0
    print(f"training CPU time: {cpu:.1f}s")

    model.eval()
    acc = evaluate(model, xte, yte)
    with torch.no_grad():
        ref16 = model(xte[:16]).numpy().astype(np.float32)

    os.makedirs(a.out, exist_ok=True)
    export(model, onnx_path)
    np.save(ref_path, ref16, allow_pickle=False)
    with open(json_path, "w") as f:
        json.dump({"fp32_top1": round(acc, 4), "params": params, "opset": OPSET}, f,
                  indent=2)
        f.write("\n")
    report(model, acc, onnx_path, xte[:16].numpy(), ref16, want_ops)
    return model, acc, history
