/* Data-movement ops on run-time values: Reshape, Flatten, Squeeze,
 * Unsqueeze, Transpose, Concat, Pad, Slice, Identity/Dropout/Cast.
 *
 * Reshape-like ops work on the ONNX layout (their semantics depend on the
 * element order). Transpose, Concat, Pad and Slice accept an NHWC operand
 * directly by remapping their axes, so a transpose back to NCHW is only
 * emitted when it is really needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int qoReshapeDims(qoImporter *imp, const qoValue *in, const int64_t *spec,
                  int n, int allowZero, int64_t *out) {
  int infer = -1;
  int64_t known = 1, total = qoNumElements(in->rank, in->dims);
  for (int k = 0; k < n; ++k) {
    if (spec[k] == 0 && !allowZero) {
      if (k >= in->rank)
        return qoFail(imp, "Reshape: 0 at position %d copies a dimension "
                           "the input does not have", k);
      out[k] = in->dims[k];
    } else if (spec[k] == -1) {
      if (infer >= 0)
        return qoFail(imp, "Reshape: more than one -1 in the shape");
      infer = k;
      continue;
    } else if (spec[k] < 0) {
      return qoFail(imp, "Reshape: invalid dimension %lld", (long long)spec[k]);
    } else if (spec[k] > QO_MAX_DIM) {
      return qoUnsupported(imp, "unsupported: Reshape to dimension %lld",
                           (long long)spec[k]);
    } else {
      out[k] = spec[k];
    }
    if (__builtin_mul_overflow(known, out[k], &known) || known > QO_MAX_ELEMS)
      return qoUnsupported(imp, "unsupported: Reshape to more than 2^40 "
                                "elements");
  }
  if (infer >= 0) {
    if (known == 0 || total % known != 0)
      return qoFail(imp, "Reshape: cannot infer -1 for %lld elements",
                    (long long)total);
    out[infer] = total / known;
    known = total;
  }
  if (known != total)
    return qoFail(imp, "Reshape: shape has %lld elements but the input has "
                       "%lld", (long long)known, (long long)total);
  return n;
}

int qoAxesOperand(qoImporter *imp, const Onnx__NodeProto *n, int inputSince,
                  int64_t *out, int cap) {
  if (imp->opset < inputSince) {
    size_t cnt;
    const int64_t *a = qoAttrInts(n, "axes", &cnt);
    if ((int)cnt > cap)
      return qoFail(imp, "too many axes");
    if (cnt)
      memcpy(out, a, cnt * sizeof *a);
    return (int)cnt;
  }
  qoValue *v = qoOptInput(imp, n, 1);
  if (imp->error)
    return -1;
  return v ? qoConstInts(imp, v, out, cap, "axes") : 0;
}

int qoReshapeLikeDims(qoImporter *imp, const Onnx__NodeProto *n,
                      const qoValue *x, int64_t *dims) {
  const char *op = n->op_type;
  if (!strcmp(op, "Reshape")) {
    int64_t spec[QO_MAX_RANK];
    int ns;
    if (imp->opset < 5) { /* shape was an attribute */
      size_t cnt;
      const int64_t *a = qoAttrInts(n, "shape", &cnt);
      if (cnt > QO_MAX_RANK)
        return qoUnsupported(imp, "unsupported: Reshape to rank %zu", cnt);
      if (cnt)
        memcpy(spec, a, cnt * sizeof *a);
      ns = (int)cnt;
    } else {
      qoValue *s = qoInput(imp, n, 1);
      if (!s)
        return -1;
      ns = qoConstInts(imp, s, spec, QO_MAX_RANK, "Reshape shape");
      if (ns < 0)
        return -1;
    }
    return qoReshapeDims(imp, x, spec, ns, (int)qoAttrInt(n, "allowzero", 0),
                         dims);
  }
  if (!strcmp(op, "Flatten")) {
    int64_t a = qoAttrInt(n, "axis", 1); /* in [-rank, rank] */
    if (a < -x->rank || a > x->rank)
      return qoFail(imp, "axis %lld is out of range for rank %d", (long long)a,
                    x->rank);
    int axis = (int)(a < 0 ? a + x->rank : a);
    dims[0] = qoNumElements(axis, x->dims);
    dims[1] = qoNumElements(x->rank - axis, x->dims + axis);
    return 2;
  }
  int64_t axes[QO_MAX_RANK];
  int na = qoAxesOperand(imp, n, 13, axes, QO_MAX_RANK);
  if (na < 0)
    return -1;
  int squeeze = !strcmp(op, "Squeeze");
  int outRank = squeeze ? x->rank : x->rank + na;
  if (outRank > QO_MAX_RANK)
    return qoUnsupported(imp, "unsupported: rank %d", outRank);
  int mark[QO_MAX_RANK] = {0};
  for (int k = 0; k < na; ++k) {
    int a = qoAxis(imp, axes[k], outRank, "axis");
    if (a < 0)
      return -1;
    if (mark[a])
      return qoFail(imp, "axis %d is repeated", a);
    if (squeeze && x->dims[a] != 1)
      return qoFail(imp, "cannot squeeze axis %d of size %lld", a,
                    (long long)x->dims[a]);
    mark[a] = 1;
  }
  int rank = 0;
  if (squeeze) {
    for (int d = 0; d < x->rank; ++d)
      if (!(na ? mark[d] : x->dims[d] == 1))
        dims[rank++] = x->dims[d];
  } else {
    if (!na)
      return qoFail(imp, "Unsqueeze needs axes");
    for (int d = 0, j = 0; d < outRank; ++d)
      dims[rank++] = mark[d] ? 1 : x->dims[j++];
  }
  return rank;
}

int qoImportReshapeLike(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x)
    return -1;
  int64_t dims[QO_MAX_RANK];
  int rank = qoReshapeLikeDims(imp, n, x, dims);
  if (rank < 0)
    return -1;
  int id = qoEmitReshape(imp, qoUse(imp, x, QO_ONNX), rank, dims);
  qoValue *out = id < 0 ? NULL : qoOutput(imp, n, 0, rank, dims);
  if (!out)
    return -1;
  out->ssa[QO_ONNX] = id;
  return 0;
}

int qoImportIdentity(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x)
    return -1;
  if (!strcmp(n->op_type, "Cast")) {
    int to = (int)qoAttrInt(n, "to", 0);
    if (to != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
      return qoUnsupported(imp, "unsupported: Cast of a run-time value to %s",
                    qoTypeName(to));
  }
  if (!strcmp(n->op_type, "Dropout")) {
    if (n->n_output > 1 && n->output[1][0])
      return qoUnsupported(imp, "unsupported: Dropout mask output");
    qoValue *training = qoOptInput(imp, n, 2);
    if (imp->error)
      return -1;
    if (training && (!training->isConst || !training->i || training->i[0]))
      return qoUnsupported(imp, "unsupported: Dropout in training mode");
  }
  if (!x->isConst && !qoIsFloatType(x->elemType))
    return qoUnsupported(imp, "unsupported: %s of the %s value '%s'", n->op_type,
                  qoTypeName(x->elemType), x->name);
  qoValue *out = qoOutput(imp, n, 0, x->rank, x->dims);
  if (!out)
    return -1;
  if (x->isConst && !x->f)
    return qoUnsupported(imp, "unsupported: %s tensor '%s' used as a run-time value",
                  qoTypeName(x->elemType), x->name);
  if (x->isConst) {
    out->ssa[QO_ONNX] = qoUse(imp, x, QO_ONNX);
    return out->ssa[QO_ONNX];
  }
  out->ssa[0] = x->ssa[0];
  out->ssa[1] = x->ssa[1];
  return 0;
}

int qoImportTranspose(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x)
    return -1;
  size_t np;
  const int64_t *p = qoAttrInts(n, "perm", &np);
  int rank = x->rank, perm[QO_MAX_RANK], seen = 0;
  if (p && np != (size_t)rank)
    return qoFail(imp, "perm has %zu entries for rank %d", np, rank);
  int64_t dims[QO_MAX_RANK];
  for (int d = 0; d < rank; ++d) {
    int64_t a = p ? p[d] : rank - 1 - d;
    if (a < 0 || a >= rank || (seen >> a & 1))
      return qoFail(imp, "perm is not a permutation");
    seen |= 1 << a;
    dims[d] = x->dims[a];
  }
  int layout = qoNatural(x);
  for (int d = 0; d < rank; ++d) /* compose with the physical layout */
    perm[d] = qoPhysAxis(layout, rank, (int)(p ? p[d] : rank - 1 - d));
  int id = qoEmitTranspose(imp, qoUse(imp, x, layout), perm);
  qoValue *out = id < 0 ? NULL : qoOutput(imp, n, 0, rank, dims);
  if (!out)
    return -1;
  out->ssa[QO_ONNX] = id;
  return 0;
}

int qoImportConcat(qoImporter *imp, const Onnx__NodeProto *n) {
  if (n->n_input == 0 || n->n_input > 64)
    return qoUnsupported(imp, "unsupported: Concat with %zu inputs", n->n_input);
  qoValue *first = qoInput(imp, n, 0);
  if (!first)
    return -1;
  int rank = first->rank;
  if (rank == 0)
    return qoFail(imp, "Concat inputs must have rank >= 1");
  int axis = qoAxis(imp, qoAttrInt(n, "axis", imp->opset < 4 ? 1 : 0), rank,
                    "axis");
  if (axis < 0)
    return -1;
  int64_t dims[QO_MAX_RANK];
  memcpy(dims, first->dims, sizeof dims);
  dims[axis] = 0;
  int layout = QO_ONNX;
  for (size_t k = 0; k < n->n_input; ++k) {
    qoValue *v = qoInput(imp, n, k);
    if (!v)
      return -1;
    if (v->rank != rank)
      return qoFail(imp, "Concat inputs differ in rank");
    for (int d = 0; d < rank; ++d)
      if (d != axis && v->dims[d] != first->dims[d])
        return qoFail(imp, "Concat inputs differ in dim %d", d);
    dims[axis] += v->dims[axis];
    if (!v->isConst && qoNatural(v) == QO_NHWC)
      layout = QO_NHWC;
  }
  int ins[64];
  for (size_t k = 0; k < n->n_input; ++k)
    ins[k] = qoUse(imp, qoLookup(imp, n->input[k]), layout);
  int64_t phys[QO_MAX_RANK];
  qoPhysDims(layout, rank, dims, phys);
  char props[48];
  snprintf(props, sizeof props, "axis = %d : i32",
           qoPhysAxis(layout, rank, axis));
  int id = n->n_input == 1 ? ins[0]
                           : qoEmit(imp, "tosa.concat", (int)n->n_input, ins,
                                    props, rank, phys);
  qoValue *out = id < 0 ? NULL : qoOutput(imp, n, 0, rank, dims);
  if (!out)
    return -1;
  out->ssa[layout] = id;
  return 0;
}

int qoImportPad(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x)
    return -1;
  char mode[32];
  qoAttrString(n, "mode", "constant", mode, sizeof mode);
  if (strcmp(mode, "constant") != 0)
    return qoUnsupported(imp, "unsupported: Pad mode '%s'", mode);
  int rank = x->rank;
  int64_t pads[2 * QO_MAX_RANK], axes[QO_MAX_RANK];
  float value = 0.0f;
  int np, na = -1;
  if (imp->opset < 11) {
    size_t cnt;
    const int64_t *p = qoAttrInts(n, imp->opset < 2 ? "paddings" : "pads", &cnt);
    if (cnt > 2 * QO_MAX_RANK)
      return qoFail(imp, "too many pads");
    np = (int)cnt;
    if (cnt)
      memcpy(pads, p, cnt * sizeof *p);
    value = qoAttrFloat(n, "value", 0.0f);
  } else {
    qoValue *vp = qoInput(imp, n, 1);
    qoValue *vv = qoOptInput(imp, n, 2);
    qoValue *va = qoOptInput(imp, n, 3);
    if (!vp || imp->error)
      return -1;
    np = qoConstInts(imp, vp, pads, 2 * QO_MAX_RANK, "pads");
    if (np < 0 || (vv && qoConstFloat(imp, vv, &value, "constant_value") < 0))
      return -1;
    if (va && (na = qoConstInts(imp, va, axes, QO_MAX_RANK, "axes")) < 0)
      return -1;
  }
  int count = na >= 0 ? na : rank;
  if (np != 2 * count)
    return qoFail(imp, "pads has %d entries, expected %d", np, 2 * count);
  int64_t begin[QO_MAX_RANK] = {0}, end[QO_MAX_RANK] = {0}, dims[QO_MAX_RANK];
  for (int k = 0; k < count; ++k) {
    int a = na >= 0 ? qoAxis(imp, axes[k], rank, "axis") : k;
    if (a < 0)
      return -1;
    begin[a] = pads[k];
    end[a] = pads[k + count];
    if (begin[a] < 0 || end[a] < 0)
      return qoUnsupported(imp, "unsupported: negative pads");
    if (begin[a] > QO_MAX_DIM || end[a] > QO_MAX_DIM)
      return qoUnsupported(imp, "unsupported: pads above 2^40");
  }
  for (int d = 0; d < rank; ++d)
    dims[d] = x->dims[d] + begin[d] + end[d];
  int layout = qoNatural(x);
  int64_t shape[2 * QO_MAX_RANK], phys[QO_MAX_RANK];
  for (int d = 0; d < rank; ++d) {
    int a = layout == QO_NHWC && rank == 4 ? (int[]){0, 2, 3, 1}[d] : d;
    shape[2 * d] = begin[a];
    shape[2 * d + 1] = end[a];
  }
  qoPhysDims(layout, rank, dims, phys);
  int64_t one = 1;
  int ins[3] = {qoUse(imp, x, layout), qoEmitConstShape(imp, 2 * rank, shape),
                qoEmitConstF32(imp, 1, &one, &value)};
  int id = qoEmit(imp, "tosa.pad", 3, ins, NULL, rank, phys);
  qoValue *out = id < 0 ? NULL : qoOutput(imp, n, 0, rank, dims);
  if (!out)
    return -1;
  out->ssa[layout] = id;
  return 0;
}

int qoImportSlice(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x)
    return -1;
  int64_t b[QO_MAX_RANK], st[QO_MAX_RANK], dims[QO_MAX_RANK];
  if (qoSliceParams(imp, n, x, b, st, dims) < 0)
    return -1;
  for (int d = 0; d < x->rank; ++d)
    if (st[d] != 1)
      return qoUnsupported(imp, "unsupported: Slice with step %lld on a run-time "
                         "value", (long long)st[d]);
  int layout = qoNatural(x);
  int64_t pb[QO_MAX_RANK], pd[QO_MAX_RANK];
  qoPhysDims(layout, x->rank, b, pb);
  qoPhysDims(layout, x->rank, dims, pd);
  int id = qoEmitSlice(imp, qoUse(imp, x, layout), pb, pd);
  qoValue *out = id < 0 ? NULL : qoOutput(imp, n, 0, x->rank, dims);
  if (!out)
    return -1;
  out->ssa[layout] = id;
  return 0;
}
