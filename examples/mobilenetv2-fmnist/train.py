#!/usr/bin/python3
"""Trains a small MobileNetV2 on Fashion-MNIST and exports it to ONNX
(opset 13) with its BatchNormalization nodes kept.

Stem conv3x3 + BN + ReLU6; inverted residual blocks (1x1 expand conv + BN +
ReLU6, 3x3 depthwise conv (groups = channels, multiplier 1) + BN + ReLU6,
1x1 linear projection conv + BN; residual Add when stride 1 and in == out);
final 1x1 conv + BN + ReLU6; GlobalAveragePool; Linear.

The training, export and export checks are shared with the ResNet example
(examples/resnet-fmnist/harness.py), which reuses
examples/fashion-mnist/{fmnist.py,onnx_inspect.py}.

Writes next to this script: model.onnx, ref_logits_16.npy, model.json.
Usage: /usr/bin/python3 train.py [--epochs 6] [--threads 1]
       /usr/bin/python3 train.py --check-only   # re-check the committed files, no training
"""
import collections
import os
import sys

import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "resnet-fmnist"))
import harness  # noqa: E402  (puts examples/fashion-mnist on sys.path)


class ConvBN(nn.Module):
    """Conv (no bias) + BN [+ ReLU6]."""

    def __init__(self, cin, cout, k, stride=1, groups=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2,
                              groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU6() if act else None

    def forward(self, x):
        x = self.bn(self.conv(x))
        return x if self.relu is None else self.relu(x)


class InvertedResidual(nn.Module):
    """expand 1x1 (cin -> t*cin) + ReLU6, depthwise 3x3 (stride) + ReLU6,
    project 1x1 (-> cout, linear); + x when stride 1 and cin == cout."""

    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        self.expand = ConvBN(cin, hidden, 1)
        self.dw = ConvBN(hidden, hidden, 3, stride=stride, groups=hidden)
        self.project = ConvBN(hidden, cout, 1, act=False)
        self.use_res = stride == 1 and cin == cout

    def body(self, x):
        return self.project(self.dw(self.expand(x)))

    def forward(self, x):
        return x + self.body(x) if self.use_res else self.body(x)


# (name, cin, cout, stride, expansion t); comments: output per image
BLOCKS = [
    ("b1", 16, 16, 1, 2),   # 16 x 14 x 14, residual
    ("b2", 16, 24, 2, 4),   # 24 x 7 x 7
    ("b3", 24, 24, 1, 4),   # 24 x 7 x 7, residual
    ("b4", 24, 32, 1, 4),   # 32 x 7 x 7
    ("b5", 32, 32, 1, 4),   # 32 x 7 x 7, residual
    ("b6", 32, 64, 2, 4),   # 64 x 4 x 4
]
HEAD = 128


class Net(nn.Module):
    """stem 1->16 s2 | 6 inverted residual blocks | 1x1 64->128 | GAP | fc.

    `Block` is a class attribute so that a quantizable subclass (see
    bench/peers/torch_ptq.py) can swap the block class and keep every
    state_dict key."""

    Block = InvertedResidual

    def __init__(self):
        super().__init__()
        self.stem = ConvBN(1, 16, 3, stride=2)                    # 16 x 14 x 14
        self.blocks = nn.Sequential(collections.OrderedDict(
            (name, self.Block(cin, cout, s, t)) for name, cin, cout, s, t in BLOCKS))
        self.head = ConvBN(BLOCKS[-1][2], HEAD, 1)               # 128 x 4 x 4
        self.pool = nn.AdaptiveAvgPool2d(1)                       # 128 x 1 x 1
        self.flatten = nn.Flatten()                               # 128
        self.fc = nn.Linear(HEAD, 10)                             # 10

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return self.fc(self.flatten(self.pool(x)))


# Exact node counts of the export (checked by harness.check_export).
# ReLU6 is exported as Clip(x, 0, 6) with min/max from Constant nodes.
WANT_OPS = {"Conv": 20, "BatchNormalization": 20, "Clip": 14, "Add": 3,
            "GlobalAveragePool": 1, "Flatten": 1, "Gemm": 1}

if __name__ == "__main__":
    harness.main(Net, WANT_OPS, HERE, epochs=6, lr=3e-3)
