#!/usr/bin/python3
"""Trains the Fashion-MNIST example CNN and exports it to ONNX (opset 13).

The exported graph KEEPS BatchNormalization as separate inference-form nodes
(1 output, running statistics as inputs) so that quant-opt's own BN folding
is exercised. torch's exporter folds Conv+BN when it exports in EVAL mode
(the `_jit_pass_onnx_eval_peephole` pass); exporting with
training=TrainingMode.PRESERVE while the module is in eval() mode skips that
pass, and because the module is in eval mode the aten batch_norm call has
training=False, so BN is emitted in inference form. do_constant_folding is
off (recommended by torch for non-EVAL export; nothing here needs folding).

Writes next to this script: model.onnx, ref_logits_16.npy, model.json.
Usage: /usr/bin/python3 train.py [--epochs 3] [--threads 1]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fmnist  # noqa: E402
import onnx_inspect  # noqa: E402

OPSET = 13
SEED = 0


class Net(nn.Module):
    """3 x (Conv3x3 + BN + ReLU) with two 2x2 max-pools, then one Linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(32)
        self.relu3 = nn.ReLU()
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        # Modules (not torch.nn.functional) so every ONNX node gets a
        # module-path name such as /relu1/Relu or /pool2/MaxPool.
        x = self.relu1(self.bn1(self.conv1(x)))       # 16 x 28 x 28
        x = self.pool1(x)                             # 16 x 14 x 14
        x = self.relu2(self.bn2(self.conv2(x)))       # 32 x 14 x 14
        x = self.pool2(x)                             # 32 x 7 x 7
        x = self.relu3(self.bn3(self.conv3(x)))       # 32 x 7 x 7
        x = self.flatten(x)                           # 1568
        return self.fc(x)                             # 10


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


def check_export(path, x16, ref16):
    """Verifies the exported graph with the minimal reader; returns the op histogram."""
    m = onnx_inspect.load(path)
    hist = onnx_inspect.op_histogram(m)
    problems = []
    if m["opsets"].get("ai.onnx") != OPSET:
        problems.append(f"opset {m['opsets']} (want ai.onnx {OPSET})")
    for op in ("Conv", "BatchNormalization", "Relu", "MaxPool", "Gemm"):
        if hist[op] == 0:
            problems.append(f"no {op} node")
    if hist["Flatten"] + hist["Reshape"] == 0:
        problems.append("no Flatten/Reshape node")
    if hist["BatchNormalization"] != 3:
        problems.append(f"{hist['BatchNormalization']} BatchNormalization nodes (want 3)")
    for nd in m["nodes"]:
        if nd.op_type == "BatchNormalization":
            if len(nd.outputs) != 1 or nd.attrs.get("training_mode", 0) != 0:
                problems.append(f"{nd.name}: BN not in inference form "
                                f"({len(nd.outputs)} outputs, attrs {nd.attrs})")
        if not nd.name.startswith("/"):
            problems.append(f"node {nd.name!r} ({nd.op_type}) has no module-path name")
    ins, outs = m["inputs"], m["outputs"]
    if [i["name"] for i in ins] != ["input"] or [o["name"] for o in outs] != ["logits"]:
        problems.append(f"graph inputs {ins} outputs {outs}")
    elif ins[0]["shape"][:1] != ["batch"] or outs[0]["shape"][:1] != ["batch"]:
        problems.append(f"batch dim not dynamic: {ins[0]['shape']} / {outs[0]['shape']}")
    # Independent numeric check: run the ONNX graph in numpy.
    got = onnx_inspect.run(m, x16)
    err = float(np.abs(got - ref16).max())
    if err > 1e-3:
        problems.append(f"numpy run of the ONNX graph differs from PyTorch by {err}")
    if problems:
        sys.exit("export check failed:\n  " + "\n  ".join(problems))
    return m, hist, err


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=HERE)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.use_deterministic_algorithms(True)

    xtr, ytr = fmnist.load("train")
    xte, yte = fmnist.load("test")
    xtr, xte = torch.from_numpy(xtr), torch.from_numpy(xte)
    ytr, yte = torch.from_numpy(ytr.astype(np.int64)), torch.from_numpy(yte.astype(np.int64))

    model = Net()
    params = sum(q.numel() for q in model.parameters())
    print(f"params: {params}")
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    steps = a.epochs * ((len(xtr) + a.batch - 1) // a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps)
    gen = torch.Generator().manual_seed(SEED)

    cpu0 = time.process_time()
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
        print(f"epoch {epoch + 1}/{a.epochs}: train loss {total / seen:.4f}, "
              f"test top1 {acc:.4f}, {time.time() - t0:.1f}s wall")
    cpu = time.process_time() - cpu0
    print(f"training CPU time: {cpu:.1f}s")

    model.eval()
    acc = evaluate(model, xte, yte)
    with torch.no_grad():
        ref16 = model(xte[:16]).numpy().astype(np.float32)

    os.makedirs(a.out, exist_ok=True)
    onnx_path = os.path.join(a.out, "model.onnx")
    export(model, onnx_path)
    np.save(os.path.join(a.out, "ref_logits_16.npy"), ref16, allow_pickle=False)
    with open(os.path.join(a.out, "model.json"), "w") as f:
        json.dump({"fp32_top1": round(acc, 4), "params": params, "opset": OPSET}, f,
                  indent=2)
        f.write("\n")

    m, hist, err = check_export(onnx_path, xte[:16].numpy(), ref16)
    print(f"test top1 (PyTorch fp32, eval): {acc:.4f}")
    print(f"{onnx_path}: {os.path.getsize(onnx_path)} bytes, opsets {m['opsets']}")
    for nd in m["nodes"]:
        print(f"  {nd.name:22s} {nd.op_type}")
    print("  ops: " + ", ".join(f"{k} x{v}" for k, v in sorted(hist.items())))
    print(f"  numpy run of ONNX vs PyTorch, first 16 logits: max |diff| {err:.2e}")


if __name__ == "__main__":
    main()
