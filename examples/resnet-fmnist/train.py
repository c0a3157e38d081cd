#!/usr/bin/python3
"""Trains a small ResNet on Fashion-MNIST and exports it to ONNX (opset 13)
with its BatchNormalization nodes kept (see harness.py and
examples/fashion-mnist/README.md for the export settings).

Identity shortcuts (stage1, stage2.block2) and projection shortcuts
(1x1 conv stride 2 + BN: stage2.block1, stage3.block1); the residual Add is
followed by a ReLU; GlobalAveragePool and one Linear at the end.

Writes next to this script: model.onnx, ref_logits_16.npy, model.json.
Usage: /usr/bin/python3 train.py [--epochs 4] [--threads 1]
       /usr/bin/python3 train.py --check-only   # re-check the committed files, no training
"""
import collections
import os
import sys

import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402  (puts examples/fashion-mnist on sys.path)


class Projection(nn.Module):
    """Projection shortcut: 1x1 conv (stride s, no bias) + BN."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class BasicBlock(nn.Module):
    """conv3x3(stride)+BN+ReLU, conv3x3+BN, + shortcut, ReLU."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (Projection(cin, cout, stride) if stride != 1 or cin != cout
                         else None)
        self.relu2 = nn.ReLU()

    def residual(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(out))

    def forward(self, x):
        identity = x if self.shortcut is None else self.shortcut(x)
        return self.relu2(self.residual(x) + identity)


class Stem(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


# (name, [(block name, cin, cout, stride), ...])
STAGES = [
    ("stage1", [("block1", 16, 16, 1), ("block2", 16, 16, 1)]),
    ("stage2", [("block1", 16, 32, 2), ("block2", 32, 32, 1)]),
    ("stage3", [("block1", 32, 64, 2)]),
]


class Net(nn.Module):
    """stem 1->16 | stage1 2x16 | stage2 16->32 s2, 32 | stage3 32->64 s2 | GAP | fc.

    `Block` is a class attribute so that a quantizable subclass (see
    bench/peers/torch_ptq.py) can swap the block class and keep every
    state_dict key."""

    Block = BasicBlock

    def __init__(self):
        super().__init__()
        self.stem = Stem(1, 16)                                   # 16 x 28 x 28
        for sname, blocks in STAGES:                              # 16x28x28, 32x14x14, 64x7x7
            setattr(self, sname, nn.Sequential(collections.OrderedDict(
                (bname, self.Block(cin, cout, s)) for bname, cin, cout, s in blocks)))
        self.pool = nn.AdaptiveAvgPool2d(1)                       # 64 x 1 x 1
        self.flatten = nn.Flatten()                               # 64
        self.fc = nn.Linear(64, 10)                               # 10

    def forward(self, x):
        x = self.stem(x)
        x = self.stage3(self.stage2(self.stage1(x)))
        return self.fc(self.flatten(self.pool(x)))


# Exact node counts of the export (checked by harness.check_export).
WANT_OPS = {"Conv": 13, "BatchNormalization": 13, "Relu": 11, "Add": 5,
            "GlobalAveragePool": 1, "Flatten": 1, "Gemm": 1}

if __name__ == "__main__":
    harness.main(Net, WANT_OPS, HERE, epochs=4, lr=3e-3)
