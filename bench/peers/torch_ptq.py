#!/usr/bin/python3
"""PyTorch eager-mode post-training static int8 quantization of the bundled
Fashion-MNIST models, as a peer baseline for quant-opt.

--model picks the example (default fashion-mnist):
  fashion-mnist       examples/fashion-mnist       -> bench/peers/torch_ptq.json
  resnet-fmnist       examples/resnet-fmnist       -> bench/peers/torch_ptq_resnet-fmnist.json
  mobilenetv2-fmnist  examples/mobilenetv2-fmnist  -> bench/peers/torch_ptq_mobilenetv2-fmnist.json

1. Rebuilds the example's train.py `Net` and loads the trained weights from
   its model.onnx (initializer names are the state_dict keys). Fails unless
   every parameter and BN running statistic is loaded and the fp32 logits of
   the first 16 test images match ref_logits_16.npy within 1e-4. For the
   residual models the weights then go into a quantizable subclass (residual
   adds through nn.quantized.FloatFunctional: add_relu for the ResNet, add
   for MobileNetV2, as torchvision's quantizable models do), whose fp32
   logits must equal the original module's.
2. torch.ao.quantization eager mode on the oneDNN engine: QuantStub /
   DeQuantStub, Conv+BN(+ReLU) fused with fuse_modules (eager mode has no
   Conv+BN+ReLU6 fusion: ReLU6 stays a separate nn.ReLU6, converted to
   nnq.ReLU6, which keeps its input's qparams), per-channel symmetric
   qint8 weights (PerChannelMinMaxObserver), per-tensor affine quint8
   activations with one of several observers; calibrated on the first
   --calib-count TRAINING images (the ones quant-opt calibrates on), batches
   of 64.
3. Evaluates fp32 and each int8 configuration on the 10,000 test images:
   top-1, drop, argmax agreement with fp32, logit SQNR; plus a per-layer
   output SQNR (int8 vs fp32, cumulative error) on the first 1000 test images
   to show where the error comes from.

Usage: /usr/bin/python3 bench/peers/torch_ptq.py [--model NAME] [--calib-count 512]
           [--json PATH] [--configs hist,minmax,mavg]
Use /usr/bin/python3 (Debian python3-torch); the pyenv python3 has no torch.
"""
import argparse
import copy
import importlib.util
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from torch.ao import quantization as tq

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(ROOT, "examples")
sys.path.insert(0, os.path.join(EXAMPLES, "fashion-mnist"))
sys.dont_write_bytecode = True  # write nothing (no __pycache__) under examples/
import fmnist  # noqa: E402
import onnx_inspect  # noqa: E402

ENGINE = "onednn"


def load_train_module(model_name):
    """Imports examples/<model_name>/train.py under a unique module name.
    train.py only defines things at import time (main() is guarded), so its
    Net is the exact class that produced model.onnx."""
    path = os.path.join(EXAMPLES, model_name, "train.py")
    spec = importlib.util.spec_from_file_location(
        "train_" + model_name.replace("-", "_"), path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---- per-model specs: the quantizable module class, the fuse_modules lists
# (relative to the net) and the layers of the per-layer SQNR table (names in
# the fused, wrapped model).

def spec_fashion_mnist(T):
    return {
        "qnet": T.Net,
        "quantizable": "train.py Net as is",
        "fuse": [["conv1", "bn1", "relu1"], ["conv2", "bn2", "relu2"],
                 ["conv3", "bn3", "relu3"]],
        # conv*/relu* are one ConvReLU2d after fusion
        "layers": ["quant", "net.conv1", "net.pool1", "net.conv2", "net.pool2",
                   "net.conv3", "net.fc"],
    }


def spec_resnet(T):
    class QuantizableBasicBlock(T.BasicBlock):
        """The residual add and the ReLU after it as one
        FloatFunctional.add_relu (quantized::add_relu once converted)."""

        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            self.relu2 = nn.Identity()  # folded into add_relu
            self.add_relu = nn.quantized.FloatFunctional()

        def forward(self, x):
            identity = x if self.shortcut is None else self.shortcut(x)
            return self.add_relu.add_relu(self.residual(x), identity)

    class QuantizableNet(T.Net):
        Block = QuantizableBasicBlock

    fuse, layers = [["stem.conv", "stem.bn", "stem.relu"]], ["quant", "net.stem.conv"]
    for sname, blocks in T.STAGES:
        for bname, cin, cout, stride in blocks:
            p = f"{sname}.{bname}."
            fuse += [[p + "conv1", p + "bn1", p + "relu1"], [p + "conv2", p + "bn2"]]
            if stride != 1 or cin != cout:
                fuse.append([p + "shortcut.conv", p + "shortcut.bn"])
            layers.append("net." + p[:-1])
    return {
        "qnet": QuantizableNet,
        "quantizable": "BasicBlock: residual Add + ReLU as FloatFunctional.add_relu",
        "fuse": fuse,
        "layers": layers + ["net.pool", "net.fc"],
    }


def spec_mobilenetv2(T):
    class QuantizableInvertedResidual(T.InvertedResidual):
        """The residual add through FloatFunctional.add (quantized::add)."""

        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            # only where there is an add (an unused one would leave an
            # observer that never sees data)
            self.skip_add = nn.quantized.FloatFunctional() if self.use_res else None

        def forward(self, x):
            return self.skip_add.add(x, self.body(x)) if self.use_res else self.body(x)

    class QuantizableNet(T.Net):
        Block = QuantizableInvertedResidual

    # Conv+BN only: eager mode has no Conv+BN+ReLU6 fuser; each nn.ReLU6
    # stays separate (nnq.ReLU6 after convert).
    fuse, layers = [["stem.conv", "stem.bn"]], ["quant", "net.stem.relu"]
    for name, *_ in T.BLOCKS:
        for part in ("expand", "dw", "project"):
            fuse.append([f"blocks.{name}.{part}.conv", f"blocks.{name}.{part}.bn"])
        layers.append(f"net.blocks.{name}")
    fuse.append(["head.conv", "head.bn"])
    return {
        "qnet": QuantizableNet,
        "quantizable": "InvertedResidual: residual Add as FloatFunctional.add; "
                       "Conv+BN fused, ReLU6 kept as a separate nn.ReLU6",
        "fuse": fuse,
        "layers": layers + ["net.head.relu", "net.pool", "net.fc"],
    }


MODELS = {
    "fashion-mnist": (spec_fashion_mnist, "torch_ptq.json"),
    "resnet-fmnist": (spec_resnet, "torch_ptq_resnet-fmnist.json"),
    "mobilenetv2-fmnist": (spec_mobilenetv2, "torch_ptq_mobilenetv2-fmnist.json"),
}

WEIGHT_OBS = tq.PerChannelMinMaxObserver.with_args(
    dtype=torch.qint8, qscheme=torch.per_channel_symmetric, ch_axis=0)


def _act(observer, **kw):
    # reduce_range=False as in torch's own get_default_qconfig("onednn");
    # this CPU has VNNI, so there is no u8*s8 int16 saturation to avoid.
    return observer.with_args(dtype=torch.quint8, qscheme=torch.per_tensor_affine,
                              reduce_range=False, **kw)


CONFIGS = {
    "hist": ("HistogramObserver", lambda: _act(tq.HistogramObserver)),
    "minmax": ("MinMaxObserver", lambda: _act(tq.MinMaxObserver)),
    "mavg": ("MovingAverageMinMaxObserver (c=0.01)",
             lambda: _act(tq.MovingAverageMinMaxObserver, averaging_constant=0.01)),
}


class Quantized(nn.Module):
    """QuantStub -> Net -> DeQuantStub."""

    def __init__(self, net):
        super().__init__()
        self.quant = tq.QuantStub()
        self.net = net
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.net(self.quant(x)))


def die(msg):
    sys.exit(f"torch_ptq: error: {msg}")


def load_onnx_weights(net, path):
    """Copies model.onnx's initializers into net by name; returns a report.

    torch's exporter de-duplicates initializers with equal values: the
    second name becomes the output of an `Identity` node reading the first
    (the ResNet's bn2.bias and shortcut.bn.bias in a projection block get
    equal gradients, so from the same zero init they stay equal). Such a
    state_dict key is loaded from the Identity's input."""
    m = onnx_inspect.load(path)
    inits = m["initializers"]
    aliases = {nd.outputs[0]: nd.inputs[0] for nd in m["nodes"]
               if nd.op_type == "Identity" and nd.inputs[0] in inits}
    sd = net.state_dict()
    problems, loaded, used = [], [], set()
    for key, t in sd.items():
        if key.endswith("num_batches_tracked"):
            continue  # training-only counter; not exported, unused in eval
        src = key if key in inits else aliases.get(key)
        if src is None:
            problems.append(f"state_dict key {key} has no ONNX initializer")
            continue
        a = inits[src]
        if tuple(a.shape) != tuple(t.shape):
            problems.append(f"{key}: ONNX shape {a.shape} vs module {tuple(t.shape)}")
            continue
        if a.dtype != np.float32:
            problems.append(f"{key}: ONNX dtype {a.dtype}")
            continue
        sd[key] = torch.from_numpy(a.copy())
        loaded.append(key)
        used.add(src)
    unused = sorted(set(inits) - used)
    if unused:
        problems.append(f"ONNX initializers not mapped to the module: {unused}")
    # BN epsilon: the module's must be what the graph uses.
    for nd in m["nodes"]:
        if nd.op_type == "BatchNormalization":
            # "/stage1/block1/bn1/BatchNormalization" -> stage1.block1.bn1
            bn = net.get_submodule(".".join(nd.name.split("/")[1:-1]))
            eps = nd.attrs.get("epsilon", 1e-5)
            if abs(eps - bn.eps) > 1e-9:
                problems.append(f"{nd.name}: epsilon {eps} vs module {bn.eps}")
    want = {k for k in sd if not k.endswith("num_batches_tracked")}
    if set(loaded) != want:
        problems.append(f"not loaded: {sorted(want - set(loaded))}")
    if problems:
        die("loading weights from " + path + ":\n  " + "\n  ".join(problems))
    net.load_state_dict(sd, strict=True)
    n_values = sum(int(np.prod(inits[k].shape)) for k in used)
    report = {"initializers": len(inits), "loaded": len(loaded), "values": n_values}
    if aliases:
        report["identity_aliases"] = aliases
    return report


def run_logits(model, x, batch=1000):
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(model(x[i:i + batch]).float())
    return torch.cat(out).numpy().astype(np.float64)


def sqnr_db(ref, got):
    ref = np.asarray(ref, np.float64)
    err = np.asarray(got, np.float64) - ref
    num, den = float(np.sum(ref * ref)), float(np.sum(err * err))
    if den == 0.0:
        return math.inf
    return 10.0 * math.log10(num / den)


def capture(model, x, names):
    """Outputs of the named submodules (dequantized, float64) for input x."""
    mods = dict(model.named_modules())
    got, hooks = {}, []
    for n in names:
        def hook(_m, _i, out, n=n):
            got[n] = (out.dequantize() if out.is_quantized else out).double().numpy()
        hooks.append(mods[n].register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return got


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="fashion-mnist", choices=list(MODELS),
                   help="example under examples/ (default fashion-mnist)")
    p.add_argument("--calib-count", type=int, default=512)
    p.add_argument("--calib-batch", type=int, default=64)
    p.add_argument("--json", default=None,
                   help="output (default bench/peers/torch_ptq.json for fashion-mnist, "
                        "bench/peers/torch_ptq_<model>.json otherwise)")
    p.add_argument("--configs", default="hist,minmax,mavg",
                   help="comma list of: " + ",".join(CONFIGS))
    p.add_argument("--layer-images", type=int, default=1000,
                   help="test images for the per-layer SQNR table (0 = skip)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--onnx", default=None,
                   help="default examples/<model>/model.onnx")
    a = p.parse_args()
    example = os.path.join(EXAMPLES, a.model)
    if a.json is None:
        a.json = os.path.join(HERE, MODELS[a.model][1])
    if a.onnx is None:
        a.onnx = os.path.join(example, "model.onnx")
    configs = [c.strip() for c in a.configs.split(",") if c.strip()]
    bad = [c for c in configs if c not in CONFIGS]
    if bad or not configs:
        die(f"unknown config(s) {bad}; choose from {','.join(CONFIGS)}")
    if a.calib_count < 1:
        die("--calib-count must be >= 1")

    torch.set_num_threads(a.threads)
    cpu0 = time.process_time()

    engines = torch.backends.quantized.supported_engines
    if ENGINE not in engines:
        die(f"quantized engine {ENGINE!r} not in this torch build "
            f"(supported_engines = {engines}); this script needs oneDNN "
            "(Debian's python3-torch has no fbgemm)")
    torch.backends.quantized.engine = ENGINE

    # ---- fp32 model from model.onnx
    T = load_train_module(a.model)
    spec = MODELS[a.model][0](T)
    FUSE, LAYERS = spec["fuse"], spec["layers"]
    net = T.Net()
    load_report = load_onnx_weights(net, a.onnx)
    net.eval()
    xte, yte = fmnist.load("test")
    xte, yte = torch.from_numpy(xte), yte.astype(np.int64)
    ref16 = np.load(os.path.join(example, "ref_logits_16.npy"))
    with torch.no_grad():
        got16 = net(xte[:16]).numpy()
    err16 = float(np.abs(got16.astype(np.float64) - ref16).max())
    if not err16 <= 1e-4:
        die(f"fp32 logits of the first 16 test images differ from "
            f"ref_logits_16.npy by {err16:.3e} (> 1e-4): weights not loaded right")
    n_alias = len(load_report.get("identity_aliases", {}))
    loaded = (f"{load_report['loaded']}/{load_report['initializers']} ONNX initializers"
              if not n_alias else
              f"{load_report['loaded']} tensors from {load_report['initializers']} ONNX "
              f"initializers + {n_alias} Identity aliases")
    print(f"loaded {loaded} ({load_report['values']} values); first-16 logits "
          f"max |diff| vs ref_logits_16.npy: {err16:.2e}")

    fp32 = run_logits(net, xte)
    fp32_pred = fp32.argmax(1)
    fp32_top1 = float((fp32_pred == yte).mean())

    # The quantizable module (same state_dict keys) must compute the same
    # fp32 logits as the module that was exported.
    qnet = net
    qnet_maxdiff = 0.0
    if spec["qnet"] is not type(net):
        qnet = spec["qnet"]()
        qnet.load_state_dict(net.state_dict(), strict=True)
        qnet.eval()
        qnet_maxdiff = float(np.abs(run_logits(qnet, xte) - fp32).max())
        if qnet_maxdiff > 1e-5:
            die(f"quantizable module's fp32 logits differ by {qnet_maxdiff:.3e}")
        print(f"quantizable module ({spec['quantizable']}): fp32 max |logit diff| "
              f"{qnet_maxdiff:.1e}")

    # Fused (BN folded) fp32 model, the starting point for every config.
    fused = tq.fuse_modules(copy.deepcopy(qnet).eval(), FUSE)
    fused_logits = run_logits(fused, xte)
    fused_top1 = float((fused_logits.argmax(1) == yte).mean())
    fused_maxdiff = float(np.abs(fused_logits - fp32).max())
    print(f"fp32 top-1 {fp32_top1:.4f}; fused Conv+BN+ReLU fp32 top-1 "
          f"{fused_top1:.4f} (max |logit diff| {fused_maxdiff:.1e})")

    xcal, _ = fmnist.load("train", count=a.calib_count)
    xcal = torch.from_numpy(xcal)
    if len(xcal) != a.calib_count:
        die(f"only {len(xcal)} training images available")

    nl = min(a.layer_images, len(xte))
    fp32_layers = (capture(Quantized(copy.deepcopy(fused)).eval(), xte[:nl], LAYERS)
                   if nl else {})

    results = {}
    for c in configs:
        desc, act = CONFIGS[c]
        t0 = time.process_time()
        model = Quantized(copy.deepcopy(fused)).eval()
        model.qconfig = tq.QConfig(activation=act(), weight=WEIGHT_OBS)
        tq.prepare(model, inplace=True)
        with torch.no_grad():
            for i in range(0, len(xcal), a.calib_batch):
                model(xcal[i:i + a.calib_batch])
        tq.convert(model, inplace=True)
        t_cal = time.process_time() - t0
        q = run_logits(model, xte)
        pred = q.argmax(1)
        top1 = float((pred == yte).mean())
        r = {
            "activation_observer": desc,
            "top1": top1,
            "drop_points": round(100.0 * (fp32_top1 - top1), 4),
            "agreement_with_fp32": float((pred == fp32_pred).mean()),
            "logit_sqnr_db": round(sqnr_db(fp32, q), 3),
            "input_qparams": {"scale": float(model.quant.scale),
                              "zero_point": int(model.quant.zero_point)},
            "calib_eval_cpu_s": round(time.process_time() - t0, 2),
            "calib_cpu_s": round(t_cal, 2),
        }
        qm = dict(model.named_modules())
        # every quantized module with output qparams (convs, linear, adds)
        r["activation_qparams"] = {
            n: {"scale": float(mod.scale), "zero_point": int(mod.zero_point)}
            for n, mod in qm.items()
            if n != "quant" and hasattr(mod, "scale") and hasattr(mod, "zero_point")}
        if nl:
            ql = capture(model, xte[:nl], LAYERS)
            r["layer_sqnr_db"] = {n: round(sqnr_db(fp32_layers[n], ql[n]), 2)
                                  for n in LAYERS}
        results[c] = r
        print(f"[{c}] top-1 {top1:.4f}, agreement {r['agreement_with_fp32']:.4f}, "
              f"SQNR {r['logit_sqnr_db']:.2f} dB ({r['calib_eval_cpu_s']} s CPU)")

    # ---- report
    lines = [
        f"| model | top-1 (10k) | drop (points) | argmax agreement with fp32 | logit SQNR (dB) |",
        "|---|---|---|---|---|",
        f"| PyTorch fp32 (from model.onnx) | {100 * fp32_top1:.2f}% | - | - | - |",
    ]
    for c, r in results.items():
        lines.append(f"| PyTorch int8, {r['activation_observer']} | "
                     f"{100 * r['top1']:.2f}% | {r['drop_points']:.2f} | "
                     f"{100 * r['agreement_with_fp32']:.2f}% | "
                     f"{r['logit_sqnr_db']:.2f} |")
    print()
    print("\n".join(lines))
    if nl:
        print()
        print(f"Per-layer output SQNR in dB (int8 vs fp32, cumulative error, "
              f"first {nl} test images):")
        print()
        print("| layer | " + " | ".join(results) + " |")
        print("|---|" + "---|" * len(results))
        for n in LAYERS:
            print(f"| {n} | " + " | ".join(f"{r['layer_sqnr_db'][n]:.2f}"
                                          for r in results.values()) + " |")

    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu_model = next((ln.split(":", 1)[1].strip() for ln in f
                              if ln.startswith("model name")), "")
    except OSError:
        pass
    out = {
        "model": os.path.relpath(a.onnx, ROOT),
        "torch_version": torch.__version__,
        "engine": torch.backends.quantized.engine,
        "supported_engines": engines,
        "threads": a.threads,
        "cpu": cpu_model,
        "python": platform.python_version(),
        "calib_split": "train",
        "calib_count": a.calib_count,
        "calib_batch": a.calib_batch,
        "test_count": int(len(xte)),
        "normalization": {"mean": fmnist.MEAN, "std": fmnist.STD},
        "weights": "qint8 per-channel symmetric (PerChannelMinMaxObserver, ch_axis 0)",
        "activations": "quint8 per-tensor affine, reduce_range=False",
        "fused": FUSE,
        "onnx_weights": load_report,
        "ref16_max_abs_diff": err16,
        "fp32_top1": fp32_top1,
        "fused_fp32_top1": fused_top1,
        "fused_fp32_max_abs_logit_diff": fused_maxdiff,
        "layer_sqnr_images": nl,
        "configs": results,
        "total_cpu_s": round(time.process_time() - cpu0, 1),
    }
    if a.model != "fashion-mnist":
        out["quantizable"] = spec["quantizable"]
        out["quantizable_fp32_max_abs_logit_diff"] = qnet_maxdiff
        out["model_params"] = sum(q.numel() for q in net.parameters())
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(f"\nwrote {a.json} (total CPU {out['total_cpu_s']} s)")


if __name__ == "__main__":
    main()
