#!/usr/bin/env python3
"""Runs a quant-opt model with every kernel ISA this CPU supports (QO_ISA=...,
as qo-run --cpu-info reports them) and compares each output with a reference
bit for bit; prints what it ran and what it skipped, and why.
  isa_matrix.py QO_RUN MODEL.so X.npy REF.npy OUT_DIR"""
import os
import re
import subprocess
import sys

import numpy as np

RUN, SO, X, REF, OUT = sys.argv[1:6]
ISAS = ["avx512-vnni", "avx-vnni", "avx2", "portable"]
info = subprocess.run([RUN, "--cpu-info"], check=True, capture_output=True, text=True).stdout
want = np.load(REF)
ran, skipped = [], []
for isa in ISAS:
    m = re.search(r"^kernel isa %s: (.*)$" % re.escape(isa), info, re.M)
    if not m or m.group(1) != "supported":
        skipped.append("%s (%s)" % (isa, m.group(1) if m else "unknown"))
        continue
    got = os.path.join(OUT, "matrix-%s.npy" % isa)
    r = subprocess.run([RUN, "-q", SO, X, "-o", got], capture_output=True, text=True,
                       env=dict(os.environ, QO_ISA=isa))
    if r.returncode != 0 or r.stderr:
        print("%s: qo-run failed or warned: %s" % (isa, r.stderr.strip()))
        sys.exit(1)
    g = np.load(got)
    if g.shape != want.shape or not np.array_equal(g.astype(np.int64), want.astype(np.int64)):
        print("%s: MISMATCH" % isa)
        sys.exit(1)
    ran.append(isa)
print("exact on: %s (%d values each)" % (", ".join(ran), want.size))
print("skipped: %s" % (", ".join(skipped) or "none"))
