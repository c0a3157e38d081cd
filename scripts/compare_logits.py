#!/usr/bin/python3
"""compare_logits.py fp32.npy int8.npy labels.npy: prints one line
   top1=<%> agree=<%> sqnr=<dB>
top-1 of the int8 logits, the share of rows whose argmax equals fp32's, and
the logit SQNR 10*log10(sum(fp32^2) / sum((int8 - fp32)^2))."""
import sys
import numpy as np

ref, got, labels = (np.load(p) for p in sys.argv[1:4])
if ref.shape != got.shape or ref.shape[0] > labels.shape[0]:
    sys.exit("compare_logits: shapes differ: %s %s %s" % (ref.shape, got.shape, labels.shape))
err = ((got.astype(np.float64) - ref) ** 2).sum()
sqnr = float("inf") if err == 0 else 10 * np.log10((ref.astype(np.float64) ** 2).sum() / err)
top1 = (got.argmax(1) == labels[: got.shape[0]]).mean() * 100
agree = (got.argmax(1) == ref.argmax(1)).mean() * 100
print("top1=%.2f agree=%.2f sqnr=%.2f" % (top1, agree, sqnr))
