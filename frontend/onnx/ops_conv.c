/* Conv (plain, depthwise, grouped) and BatchNormalization, plus the window
 * geometry (auto_pad, pads, ceil_mode) shared with pooling.
 *
 * Convolutions run in NHWC with weights re-laid at import time: OIHW ->
 * OHWI for tosa.conv2d, OIHW -> HWCM for tosa.depthwise_conv2d. Groups with
 * 1 < group < C become per-group slices, convs and a concat. TOSA requires
 * (in + pads - kernel) to be divisible by the stride, so the end padding
 * is recomputed from the ONNX output size and surplus input is sliced off.
 * BatchNormalization becomes "qo.batch_norm" (folded into convs later). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int qoWindowGeometry(qoImporter *imp, const Onnx__NodeProto *n,
                     const int64_t *in, int ceilMode, qoWindow *w) {
  char autoPad[32];
  qoAttrString(n, "auto_pad", "NOTSET", autoPad, sizeof autoPad);
  size_t np;
  const int64_t *pads = qoAttrInts(n, "pads", &np);
  if (pads && np != 4)
    return qoFail(imp, "pads has %zu entries, expected 4", np);
  for (int d = 0; d < 2; ++d) {
    int64_t k = w->kernel[d], s = w->stride[d], dl = w->dilation[d];
    if (k < 1 || s < 1 || dl < 1)
      return qoFail(imp, "kernel, strides and dilations must be positive");
    if (k > INT32_MAX || s > INT32_MAX || dl > INT32_MAX)
      return qoUnsupported(imp, "unsupported: kernel, stride or dilation "
                                "above 2^31");
    int64_t ek = (k - 1) * dl + 1;
    if (!strcmp(autoPad, "NOTSET") || !strcmp(autoPad, "VALID")) {
      int valid = autoPad[0] == 'V';
      w->padBegin[d] = pads && !valid ? pads[d] : 0;
      w->padEnd[d] = pads && !valid ? pads[d + 2] : 0;
      if (w->padBegin[d] < 0 || w->padEnd[d] < 0)
        return qoUnsupported(imp, "unsupported: negative pads");
      if (w->padBegin[d] > QO_MAX_DIM || w->padEnd[d] > QO_MAX_DIM)
        return qoUnsupported(imp, "unsupported: pads above 2^40");
      int64_t span = in[d] + w->padBegin[d] + w->padEnd[d] - ek;
      if (span < 0)
        return qoFail(imp, "kernel (%lld) is larger than the padded input "
                           "(%lld)", (long long)ek,
                      (long long)(in[d] + w->padBegin[d] + w->padEnd[d]));
      w->out[d] = (ceilMode ? (span + s - 1) / s : span / s) + 1;
      if (ceilMode && (w->out[d] - 1) * s >= in[d] + w->padBegin[d])
        w->out[d]--; /* the last window must start inside the input */
    } else if (!strcmp(autoPad, "SAME_UPPER") || !strcmp(autoPad, "SAME_LOWER")) {
      w->out[d] = (in[d] + s - 1) / s;
      int64_t total = (w->out[d] - 1) * s + ek - in[d];
      if (total < 0)
        total = 0;
      w->padBegin[d] = autoPad[5] == 'U' ? total / 2 : total - total / 2;
      w->padEnd[d] = total - w->padBegin[d];
    } else {
      return qoUnsupported(imp, "unsupported: auto_pad '%s'", autoPad);
    }
    int64_t end = (w->out[d] - 1) * s + ek - in[d] - w->padBegin[d];
    w->crop[d] = end < 0 ? -end : 0;
    w->tosaEnd[d] = end < 0 ? 0 : end;
  }
  return 0;
}

int qoCropNhwc(qoImporter *imp, int x, const qoWindow *w) {
  if (x < 0 || (!w->crop[0] && !w->crop[1]))
    return x;
  const qoSsaType *t = qoType(imp, x);
  int64_t start[4] = {0, 0, 0, 0};
  int64_t size[4] = {t->dims[0], t->dims[1] - w->crop[0],
                     t->dims[2] - w->crop[1], t->dims[3]};
  return qoEmitSlice(imp, x, start, size);
}

void qoWindowProps(const qoWindow *w, int withDilation, char *out, size_t cap) {
  int len = snprintf(out, cap,
                     "pad = array<i64: %lld, %lld, %lld, %lld>, "
                     "stride = array<i64: %lld, %lld>",
                     (long long)w->padBegin[0], (long long)w->tosaEnd[0],
                     (long long)w->padBegin[1], (long long)w->tosaEnd[1],
                     (long long)w->stride[0], (long long)w->stride[1]);
  if (withDilation && len > 0 && (size_t)len < cap)
    snprintf(out + len, cap - (size_t)len,
             ", dilation = array<i64: %lld, %lld>, acc_type = f32",
             (long long)w->dilation[0], (long long)w->dilation[1]);
}

/* Reads kernel_shape/strides/dilations (2-D) into `w`. */
static int windowAttrs(qoImporter *imp, const Onnx__NodeProto *n,
                       const int64_t *kernelFromWeights, qoWindow *w) {
  size_t nk, ns, nd;
  const int64_t *k = qoAttrInts(n, "kernel_shape", &nk);
  const int64_t *s = qoAttrInts(n, "strides", &ns);
  const int64_t *d = qoAttrInts(n, "dilations", &nd);
  if ((k && nk != 2) || (s && ns != 2) || (d && nd != 2))
    return qoFail(imp, "kernel_shape/strides/dilations must have 2 entries");
  if (!k && !kernelFromWeights)
    return qoFail(imp, "missing kernel_shape");
  for (int i = 0; i < 2; ++i) {
    w->kernel[i] = k ? k[i] : kernelFromWeights[i];
    if (kernelFromWeights && w->kernel[i] != kernelFromWeights[i])
      return qoFail(imp, "kernel_shape does not match the weights");
    w->stride[i] = s ? s[i] : 1;
    w->dilation[i] = d ? d[i] : 1;
  }
  return 0;
}

/* Bias of output channels [o0, o0+oc): host data, a slice of a run-time
 * value, or zeros when there is none. */
static int biasSlice(qoImporter *imp, const float *bias, qoValue *b,
                     int64_t o0, int64_t oc) {
  if (bias)
    return qoEmitConstF32(imp, 1, &oc, bias + o0);
  if (!b)
    return qoEmitSplatF32(imp, 1, &oc, 0.0f);
  return qoEmitSlice(imp, qoUse(imp, b, QO_ONNX), &o0, &oc);
}

/* Emits one tosa.conv2d of `x` (NHWC, the group's input channels) with the
 * OIHW weights `wt` of output channels [o0, o0+oc), re-laid to OHWI (on the
 * host for constants, with a tosa.transpose otherwise). */
static int conv2d(qoImporter *imp, int x, qoValue *wt, const float *bias,
                  qoValue *b, int64_t o0, int64_t oc, const qoWindow *w) {
  int64_t I = wt->dims[1], KH = wt->dims[2], KW = wt->dims[3];
  int wid;
  if (wt->isConst) {
    float *ohwi = malloc((size_t)(oc * KH * KW * I) * sizeof *ohwi);
    if (!ohwi)
      return qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
    int64_t p = 0;
    for (int64_t o = 0; o < oc; ++o)
      for (int64_t h = 0; h < KH; ++h)
        for (int64_t x2 = 0; x2 < KW; ++x2)
          for (int64_t i = 0; i < I; ++i)
            ohwi[p++] = wt->f[(((o0 + o) * I + i) * KH + h) * KW + x2];
    int64_t wd[4] = {oc, KH, KW, I};
    wid = qoWrapWeight(imp, wt, qoEmitConstF32(imp, 4, wd, ohwi), 0, o0);
    free(ohwi);
  } else {
    static const int toOhwi[4] = {0, 2, 3, 1};
    int64_t start[4] = {o0, 0, 0, 0}, size[4] = {oc, I, KH, KW};
    wid = qoEmitTranspose(
        imp, qoEmitSlice(imp, qoUse(imp, wt, QO_ONNX), start, size), toOhwi);
  }
  int bid = biasSlice(imp, bias, b, o0, oc);
  int zp = qoZeroPoint(imp);
  if (x < 0)
    return -1;
  const qoSsaType *t = qoType(imp, x);
  int64_t od[4] = {t->dims[0], w->out[0], w->out[1], oc};
  char props[256];
  qoWindowProps(w, 1, props, sizeof props);
  int ins[5] = {x, wid, bid, zp, zp};
  return qoEmit(imp, "tosa.conv2d", 5, ins, props, 4, od);
}

/* Depthwise conv: OIHW weights [C*M, 1, KH, KW] re-laid to HWCM. */
static int depthwise(qoImporter *imp, int x, qoValue *wt, const float *bias,
                     qoValue *b, const qoWindow *w) {
  if (x < 0)
    return -1;
  int64_t O = wt->dims[0], KH = wt->dims[2], KW = wt->dims[3];
  int64_t C = qoType(imp, x)->dims[3], M = O / C;
  int wid;
  if (wt->isConst) {
    float *hwcm = malloc((size_t)(O * KH * KW) * sizeof *hwcm);
    if (!hwcm)
      return qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
    for (int64_t h = 0; h < KH; ++h)
      for (int64_t x2 = 0; x2 < KW; ++x2)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t m = 0; m < M; ++m)
            hwcm[((h * KW + x2) * C + c) * M + m] =
                wt->f[((c * M + m) * KH + h) * KW + x2];
    int64_t wd[4] = {KH, KW, C, M};
    /* Per-output-channel weights are per-axis on C (axis 2) when M == 1. */
    if (wt->wq && wt->wq->n > 1 && M != 1) {
      free(hwcm);
      return qoUnsupported(imp, "unsupported: per-channel quantized depthwise "
                         "weights with channel multiplier %lld", (long long)M);
    }
    wid = qoWrapWeight(imp, wt, qoEmitConstF32(imp, 4, wd, hwcm), 2, 0);
    free(hwcm);
  } else {
    static const int toHwcm[4] = {2, 3, 0, 1};
    int64_t cmhw[4] = {C, M, KH, KW};
    wid = qoEmitTranspose(
        imp, qoEmitReshape(imp, qoUse(imp, wt, QO_ONNX), 4, cmhw), toHwcm);
  }
  int bid = biasSlice(imp, bias, b, 0, O);
  int zp = qoZeroPoint(imp);
  const qoSsaType *t = qoType(imp, x);
  int64_t od[4] = {t->dims[0], w->out[0], w->out[1], O};
  char props[256];
  qoWindowProps(w, 1, props, sizeof props);
  int ins[5] = {x, wid, bid, zp, zp};
  return qoEmit(imp, "tosa.depthwise_conv2d", 5, ins, props, 4, od);
}

int qoImportConv(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0), *wt = qoInput(imp, n, 1);
  qoValue *b = qoOptInput(imp, n, 2);
  if (!x || !wt || imp->error)
    return -1;
  int64_t dims[4];
  int id = qoConvCore(imp, n, x, wt, b, dims);
  qoValue *out = id < 0 ? NULL : qoOutput(imp, n, 0, 4, dims);
  if (!out)
    return -1;
  out->ssa[QO_NHWC] = id;
  return 0;
}

int qoConvCore(qoImporter *imp, const Onnx__NodeProto *n, qoValue *x,
               qoValue *wt, qoValue *b, int64_t *outDims) {
  if (x->rank != 4)
    return qoUnsupported(imp, "unsupported: Conv with %d spatial dims (only 2-D)",
                  x->rank - 2);
  if (wt->rank != 4 || (wt->isConst && !wt->f))
    return qoUnsupported(imp, "unsupported: Conv weights must be a 4-D float tensor");
  int64_t N = x->dims[0], C = x->dims[1], O = wt->dims[0];
  int64_t group = qoAttrInt(n, "group", 1);
  if (group < 1 || C % group || O % group || wt->dims[1] * group != C)
    return qoFail(imp, "weights [%lld,%lld,..] and group %lld do not match "
                       "%lld input channels", (long long)O,
                  (long long)wt->dims[1], (long long)group, (long long)C);
  if (b && (b->rank != 1 || b->dims[0] != O || (b->isConst && !b->f)))
    return qoFail(imp, "Conv bias must be %lld floats", (long long)O);
  /* Host bias when it is a constant; no bias is a zero splat (never an
   * allocation sized by the weights' shape, which a run-time value claims
   * without data). */
  const float *bias = b && b->isConst ? b->f : NULL;
  int rc = 0;
  qoWindow w;
  memset(&w, 0, sizeof w);
  if (rc == 0)
    rc = windowAttrs(imp, n, wt->dims + 2, &w);
  if (rc == 0)
    rc = qoWindowGeometry(imp, n, x->dims + 2, 0, &w);
  int id = -1;
  if (rc == 0) {
    int xin = qoCropNhwc(imp, qoUse(imp, x, QO_NHWC), &w);
    if (xin < 0) {
      id = -1;
    } else if (group == 1) {
      id = conv2d(imp, xin, wt, bias, b, 0, O, &w);
    } else if (group == C && wt->dims[1] == 1) {
      id = depthwise(imp, xin, wt, bias, b, &w);
    } else if (group > 64) {
      id = qoUnsupported(imp, "unsupported: grouped Conv with %lld groups",
                  (long long)group);
    } else {
      int parts[64];
      int64_t cg = C / group, og = O / group;
      const qoSsaType *t = qoType(imp, xin);
      int64_t size[4] = {t->dims[0], t->dims[1], t->dims[2], cg};
      for (int64_t g = 0; g < group; ++g) {
        int64_t start[4] = {0, 0, 0, g * cg};
        int xs = qoEmitSlice(imp, xin, start, size);
        parts[g] = conv2d(imp, xs, wt, bias, b, g * og, og, &w);
      }
      int64_t od[4] = {N, w.out[0], w.out[1], O};
      id = qoEmit(imp, "tosa.concat", (int)group, parts, "axis = 3 : i32", 4,
                  od);
    }
  }
  outDims[0] = N;
  outDims[1] = O;
  outDims[2] = w.out[0];
  outDims[3] = w.out[1];
  return id < 0 || imp->error ? -1 : id;
}

int qoImportBatchNorm(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  qoValue *p[4] = {qoInput(imp, n, 1), qoInput(imp, n, 2), qoInput(imp, n, 3),
                   qoInput(imp, n, 4)};
  if (!x || !p[0] || !p[1] || !p[2] || !p[3])
    return -1;
  if (qoAttrInt(n, "training_mode", 0) != 0)
    return qoUnsupported(imp, "unsupported: BatchNormalization with training_mode=1");
  for (size_t k = 1; k < n->n_output; ++k)
    if (n->output[k][0])
      return qoUnsupported(imp, "unsupported: BatchNormalization training outputs");
  if (imp->opset < 9 && qoAttrInt(n, "spatial", 1) == 0)
    return qoUnsupported(imp, "unsupported: BatchNormalization with spatial=0");
  if (x->rank < 2)
    return qoFail(imp, "BatchNormalization input must have rank >= 2");
  int64_t C = x->dims[1];
  for (int k = 0; k < 4; ++k)
    if (p[k]->rank != 1 || p[k]->dims[0] != C)
      return qoFail(imp, "BatchNormalization parameter '%s' must have shape "
                         "[%lld]", p[k]->name, (long long)C);
  int layout = qoNatural(x);
  int ins[5] = {qoUse(imp, x, layout), qoUse(imp, p[0], QO_ONNX),
                qoUse(imp, p[1], QO_ONNX), qoUse(imp, p[2], QO_ONNX),
                qoUse(imp, p[3], QO_ONNX)};
  qoBuf attrs = {0};
  qoBufAppend(&attrs, "epsilon = ");
  qoPrintFloat(&attrs, qoAttrFloat(n, "epsilon", 1e-5f));
  qoBufPrintf(&attrs, " : f32, axis = %d : i64",
              qoPhysAxis(layout, x->rank, 1));
  int64_t phys[QO_MAX_RANK];
  qoPhysDims(layout, x->rank, x->dims, phys);
  int id = attrs.failed ? qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory")
                        : qoEmitWithAttrs(imp, "qo.batch_norm", 5, ins,
                                          attrs.data, x->rank, phys);
  qoBufFree(&attrs);
  qoValue *out = id < 0 ? NULL : qoOutput(imp, n, 0, x->rank, x->dims);
  if (!out)
    return -1;
  out->ssa[layout] = id;
  return 0;
}
