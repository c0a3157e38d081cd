#!/usr/bin/python3
"""Exports small CNNs with torch (python3-torch) for end-to-end importer
checks, with a random input and torch's outputs as .npy files:

  /usr/bin/python3 make_models.py OUTDIR
  /usr/bin/python3 check_node_tests.py --tool .../qo-onnx-to-mlir \
      --model OUTDIR/cnn_13.onnx --input OUTDIR/cnn_x.npy \
      --expect OUTDIR/cnn_y.npy

The models cover the layout tracking (conv/BN/pool/concat chains in NHWC),
depthwise and grouped/dilated conv, ceil-mode and count_include_pad
pooling, standalone BatchNormalization, Pad, Clip, LeakyRelu, HardSigmoid,
HardSwish, Flatten, Gemm, (Log)Softmax and the Shape->Gather->Concat->
Reshape chains torch emits for dynamic shapes (folded by the importer).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(8)  # folded into c1 by the exporter
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.gc = nn.Conv2d(8, 12, 3, padding=(1, 2), groups=2, dilation=(1, 2))
        self.bn2 = nn.BatchNorm2d(12)
        self.pool = nn.MaxPool2d(3, 2, padding=1, ceil_mode=True)
        self.ap = nn.AvgPool2d(2, 1, padding=1, count_include_pad=False)
        self.fc = nn.Linear(24, 10)

    def forward(self, x):
        y = torch.relu(self.bn1(self.c1(x)))
        y = F.relu6(self.dw(y)) + y
        y = F.hardswish(self.bn2(self.gc(y)))
        y = self.ap(self.pool(y))
        y = torch.cat([y, torch.sigmoid(y)], 1)
        y = F.adaptive_avg_pool2d(y, 1) * y.mean(dim=(2, 3), keepdim=True)
        y = y.reshape(y.shape[0], -1)[:, :24]
        return torch.softmax(self.fc(y), dim=1)


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(4, 6, (3, 2), stride=(1, 2), bias=False)
        self.bn = nn.BatchNorm2d(6)  # after LeakyRelu: stays qo.batch_norm
        self.c2 = nn.Conv2d(6, 6, 1)
        self.fc = nn.Linear(6 * 4 * 2, 5)

    def forward(self, x):
        y = self.bn(F.leaky_relu(self.c1(x), 0.1))
        y = F.pad(y, (1, 0, 2, 1), value=0.5)
        y = torch.clamp(self.c2(y), -0.5, 1.0) - torch.tanh(y)
        y = F.avg_pool2d(y, 3, 2, padding=1, count_include_pad=True)
        z = self.fc(torch.flatten(y, 1))
        return torch.log_softmax(z, 1), F.hardsigmoid(z) * 2


def randomize_bn(m):
    for bn in m.modules():
        if isinstance(bn, nn.BatchNorm2d):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.uniform_(-0.5, 0.5)


def export(model, x, name, outdir, outputs, opsets, dynamic=None):
    model.eval()
    randomize_bn(model)
    np.save(os.path.join(outdir, name + "_x.npy"), x.numpy())
    ys = model(x)
    ys = ys if isinstance(ys, tuple) else (ys,)
    for o, y in zip(outputs, ys):
        np.save(os.path.join(outdir, "%s_%s.npy" % (name, o)),
                y.detach().numpy())
    for opset in opsets:
        torch.onnx.export(model, x, os.path.join(outdir, "%s_%d.onnx" % (name, opset)),
                          opset_version=opset, input_names=["x"],
                          output_names=list(outputs), dynamic_axes=dynamic)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(0)
    export(Cnn(), torch.randn(2, 3, 17, 15), "cnn", outdir, ["y"], [11, 13, 17],
           {"x": {0: "N", 2: "H", 3: "W"}, "y": {0: "N"}})
    torch.manual_seed(1)
    export(Head(), torch.randn(1, 4, 7, 7), "head", outdir, ["a", "b"], [9, 11, 13, 17])


if __name__ == "__main__":
    main()
