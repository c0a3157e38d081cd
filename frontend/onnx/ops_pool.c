/* MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool in NHWC.
 *
 * Geometry comes from qoWindowGeometry (auto_pad, pads, ceil_mode). TOSA's
 * avg_pool2d never counts padding, which is ONNX's count_include_pad=0; for
 * count_include_pad=1 the ONNX pads are applied explicitly with zeros first
 * so that they are counted, and only the ceil_mode overhang stays uncounted
 * (as in the ONNX reference and PyTorch). */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int qoImportPool(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x)
    return -1;
  int isMax = n->op_type[0] == 'M';
  if (x->rank != 4)
    return qoUnsupported(imp, "unsupported: %s with %d spatial dims (only 2-D)",
                  n->op_type, x->rank - 2);
  if (n->n_output > 1 && n->output[1][0])
    return qoUnsupported(imp, "unsupported: MaxPool Indices output");
  qoWindow w;
  memset(&w, 0, sizeof w);
  size_t nk, ns, nd;
  const int64_t *k = qoAttrInts(n, "kernel_shape", &nk);
  const int64_t *s = qoAttrInts(n, "strides", &ns);
  const int64_t *d = qoAttrInts(n, "dilations", &nd);
  if (!k || nk != 2 || (s && ns != 2) || (d && nd != 2))
    return qoFail(imp, "kernel_shape/strides/dilations must have 2 entries");
  for (int i = 0; i < 2; ++i) {
    w.kernel[i] = k[i];
    w.stride[i] = s ? s[i] : 1;
    w.dilation[i] = 1;
    if (d && d[i] != 1)
      return qoUnsupported(imp, "unsupported: %s with dilations", n->op_type);
  }
  int ceilMode = (int)qoAttrInt(n, "ceil_mode", 0);
  if (qoWindowGeometry(imp, n, x->dims + 2, ceilMode, &w) < 0)
    return -1;
  int in = qoUse(imp, x, QO_NHWC);
  if (in < 0)
    return -1;
  if (!isMax && qoAttrInt(n, "count_include_pad", 0) &&
      (w.padBegin[0] || w.padBegin[1] || w.padEnd[0] || w.padEnd[1])) {
    /* Explicit zero padding, then a pool without leading padding. */
    int64_t shape[8] = {0, 0, w.padBegin[0], w.padEnd[0],
                        w.padBegin[1], w.padEnd[1], 0, 0};
    const qoSsaType *t = qoType(imp, in);
    int64_t pd[4] = {t->dims[0], t->dims[1] + w.padBegin[0] + w.padEnd[0],
                     t->dims[2] + w.padBegin[1] + w.padEnd[1], t->dims[3]};
    int64_t one = 1;
    float zero = 0.0f;
    int ins[3] = {in, qoEmitConstShape(imp, 8, shape),
                  qoEmitConstF32(imp, 1, &one, &zero)};
    in = qoEmit(imp, "tosa.pad", 3, ins, NULL, 4, pd);
    for (int i = 0; i < 2; ++i) {
      int64_t padded = x->dims[2 + i] + w.padBegin[i] + w.padEnd[i];
      int64_t end = (w.out[i] - 1) * w.stride[i] + w.kernel[i] - padded;
      w.padBegin[i] = 0;
      w.crop[i] = end < 0 ? -end : 0;
      w.tosaEnd[i] = end < 0 ? 0 : end;
    }
  }
  for (int i = 0; i < 2; ++i)
    if (w.padBegin[i] >= w.kernel[i] || w.tosaEnd[i] >= w.kernel[i])
      return qoUnsupported(imp, "unsupported: padding as large as the kernel");
  in = qoCropNhwc(imp, in, &w);
  char props[256];
  int len = snprintf(props, sizeof props, "kernel = array<i64: %lld, %lld>, ",
                     (long long)w.kernel[0], (long long)w.kernel[1]);
  qoWindowProps(&w, 0, props + len, sizeof props - (size_t)len);
  if (!isMax)
    strncat(props, ", acc_type = f32", sizeof props - strlen(props) - 1);
  int64_t od[4] = {x->dims[0], w.out[0], w.out[1], x->dims[1]};
  int id;
  if (isMax) {
    id = qoEmit(imp, "tosa.max_pool2d", 1, &in, props, 4, od);
  } else {
    int zp = qoZeroPoint(imp);
    int ins[3] = {in, zp, zp};
    id = qoEmit(imp, "tosa.avg_pool2d", 3, ins, props, 4, od);
  }
  int64_t dims[4] = {x->dims[0], x->dims[1], w.out[0], w.out[1]};
  qoValue *out = id < 0 ? NULL : qoOutput(imp, n, 0, 4, dims);
  if (!out)
    return -1;
  out->ssa[QO_NHWC] = id;
  return 0;
}

int qoImportGlobalPool(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x)
    return -1;
  if (x->rank != 4)
    return qoUnsupported(imp, "unsupported: %s with %d spatial dims (only 2-D)",
                  n->op_type, x->rank - 2);
  int isMax = !strcmp(n->op_type, "GlobalMaxPool");
  char props[192];
  snprintf(props, sizeof props,
           "kernel = array<i64: %lld, %lld>, stride = array<i64: 1, 1>, "
           "pad = array<i64: 0, 0, 0, 0>%s",
           (long long)x->dims[2], (long long)x->dims[3],
           isMax ? "" : ", acc_type = f32");
  int in = qoUse(imp, x, QO_NHWC);
  int64_t od[4] = {x->dims[0], 1, 1, x->dims[1]};
  int id;
  if (isMax) {
    id = qoEmit(imp, "tosa.max_pool2d", 1, &in, props, 4, od);
  } else {
    int zp = qoZeroPoint(imp);
    int ins[3] = {in, zp, zp};
    id = qoEmit(imp, "tosa.avg_pool2d", 3, ins, props, 4, od);
  }
  int64_t dims[4] = {x->dims[0], x->dims[1], 1, 1};
  qoValue *out = id < 0 ? NULL : qoOutput(imp, n, 0, 4, dims);
  if (!out)
    return -1;
  out->ssa[QO_NHWC] = id;
  return 0;
}
