#!/usr/bin/python3
"""PyTorch peer for bench/e2e.sh: latency of PyTorch int8 (eager static PTQ,
engine onednn) and fp32 on one bundled Fashion-MNIST model.

The int8 model is built exactly as bench/peers/torch_ptq.py builds it (this
script imports it): train.py's Net with model.onnx's weights (checked against
ref_logits_16.npy), the quantizable variant for the residual models,
fuse_modules (Conv+BN+ReLU, Conv+BN), QuantStub/DeQuantStub, per-channel
symmetric qint8 weights, per-tensor affine quint8 activations
(--observer, default minmax), calibrated on the first 512 training images.

Timed call: model(x) under torch.inference_mode() with a float32 input
(N x 1 x 28 x 28); for int8 that includes the QuantStub (quantize_per_tensor)
and the DeQuantStub, so every engine in the e2e table goes float -> float.
fp32: the fused (BN folded) eager module, and a TorchScript version
(trace + freeze + optimize_for_inference, which uses oneDNN/mkldnn convs with
prepacked weights); the table shows the faster of the two per cell.

  /usr/bin/python3 bench/peers/torch_bench.py --model resnet-fmnist --batches 1,64 --threads 1,2
      [--iters 100] [--budget 1.0] [--warmup 10] [--eval-logits out.npy --eval-count 500]
Prints one line per measurement:
  torch <int8|fp32-eager|fp32-script> b=<batch> t=<threads> median_ms=<m> p10_ms=<p> iters=<n>
"""
import argparse
import copy
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import torch_ptq as tp  # noqa: E402  (also puts examples/fashion-mnist on sys.path)
import torch  # noqa: E402
from torch.ao import quantization as tq  # noqa: E402

fmnist = tp.fmnist


def build(model_name, observer, calib_count, calib_batch=64):
    """Returns (fp32 fused eager module, int8 module, fp32 reference module)."""
    if tp.ENGINE not in torch.backends.quantized.supported_engines:
        tp.die(f"quantized engine {tp.ENGINE!r} missing "
               f"({torch.backends.quantized.supported_engines})")
    torch.backends.quantized.engine = tp.ENGINE
    T = tp.load_train_module(model_name)
    spec = tp.MODELS[model_name][0](T)
    net = T.Net()
    tp.load_onnx_weights(net, os.path.join(tp.EXAMPLES, model_name, "model.onnx"))
    net.eval()
    xte, _ = fmnist.load("test", count=16)
    ref16 = np.load(os.path.join(tp.EXAMPLES, model_name, "ref_logits_16.npy"))
    with torch.no_grad():
        err = float(np.abs(net(torch.from_numpy(xte)).numpy() - ref16).max())
    if not err <= 1e-4:
        tp.die(f"fp32 logits differ from ref_logits_16.npy by {err:.3e}")
    qnet = net
    if spec["qnet"] is not type(net):
        qnet = spec["qnet"]()
        qnet.load_state_dict(net.state_dict(), strict=True)
        qnet.eval()
    fused = tq.fuse_modules(copy.deepcopy(qnet).eval(), spec["fuse"])
    model = tp.Quantized(copy.deepcopy(fused)).eval()
    model.qconfig = tq.QConfig(activation=tp.CONFIGS[observer][1](), weight=tp.WEIGHT_OBS)
    tq.prepare(model, inplace=True)
    xcal, _ = fmnist.load("train", count=calib_count)
    xcal = torch.from_numpy(xcal)
    with torch.no_grad():
        for i in range(0, len(xcal), calib_batch):
            model(xcal[i:i + calib_batch])
    tq.convert(model, inplace=True)
    return fused, model, net


def script(fused, x):
    with torch.no_grad():
        m = torch.jit.freeze(torch.jit.trace(copy.deepcopy(fused).eval(), x))
        return torch.jit.optimize_for_inference(m)


def measure(fn, x, iters, budget, warmup):
    with torch.inference_mode():
        for _ in range(warmup):
            fn(x)
        times = []
        t0 = time.perf_counter()
        while len(times) < iters:
            s0 = time.perf_counter()
            fn(x)
            s1 = time.perf_counter()
            times.append((s1 - s0) * 1e3)
            if len(times) >= 5 and s1 - t0 > budget:
                break
    s = sorted(times)
    return float(np.median(times)), s[min(len(s) - 1, int(0.1 * len(s)))], len(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="fashion-mnist", choices=list(tp.MODELS))
    p.add_argument("--batches", default="1,64")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--iters", type=int, default=100)
    p.add_argument("--budget", type=float, default=1.0, help="seconds per measurement (>= 5 iterations)")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--observer", default="minmax", choices=list(tp.CONFIGS))
    p.add_argument("--calib-count", type=int, default=512)
    p.add_argument("--no-fp32", action="store_true")
    p.add_argument("--eval-logits", default=None,
                   help="also write fp32 and int8 logits of the first --eval-count test images "
                        "to <path>.fp32.npy / <path>.int8.npy")
    p.add_argument("--eval-count", type=int, default=500)
    a = p.parse_args()
    torch.set_num_threads(1)
    fused, qmodel, net = build(a.model, a.observer, a.calib_count)
    if a.eval_logits:
        xe, _ = fmnist.load("test", count=a.eval_count)
        xe = torch.from_numpy(xe)
        with torch.inference_mode():
            np.save(a.eval_logits + ".fp32.npy", net(xe).float().numpy())
            np.save(a.eval_logits + ".int8.npy", qmodel(xe).float().numpy())
    xall, _ = fmnist.load("test", count=max(int(b) for b in a.batches.split(",")))
    xall = torch.from_numpy(xall)
    for t in [int(v) for v in a.threads.split(",")]:
        torch.set_num_threads(t)
        for b in [int(v) for v in a.batches.split(",")]:
            x = xall[:b].contiguous()
            runs = [("int8", qmodel)]
            if not a.no_fp32:
                runs += [("fp32-eager", fused), ("fp32-script", script(fused, x))]
            for label, fn in runs:
                med, p10, n = measure(fn, x, a.iters, a.budget, a.warmup)
                print(f"torch {label} b={b} t={t} median_ms={med:.4f} p10_ms={p10:.4f} iters={n}",
                      flush=True)


if __name__ == "__main__":
    main()
