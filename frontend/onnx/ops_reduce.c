/* Reductions: Softmax, LogSoftmax, ReduceMean/Sum/Max/Min.
 *
 * Softmax is computed stably as exp(x - max) * reciprocal(sum); opset < 13
 * softmax flattens the input at `axis` first (2-D semantics), opset >= 13
 * reduces over the single axis. Reductions with keepdims run in the
 * operand's layout (axes remapped), so a GlobalAveragePool-like ReduceMean
 * after convs needs no transpose. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* tosa.reduce_<kind> over physical axis `axis`, keeping the dim. */
static int reduceAxis(qoImporter *imp, const char *kind, int x, int axis) {
  if (x < 0)
    return -1;
  const qoSsaType *t = qoType(imp, x);
  int64_t dims[QO_MAX_RANK];
  int rank = t->rank;
  memcpy(dims, t->dims, sizeof dims);
  dims[axis] = 1;
  char op[32], props[32];
  snprintf(op, sizeof op, "tosa.reduce_%s", kind);
  snprintf(props, sizeof props, "axis = %d : i32", axis);
  return qoEmit(imp, op, 1, &x, props, rank, dims);
}

int qoImportSoftmax(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x)
    return -1;
  int rank = x->rank;
  int legacy = imp->opset < 13;
  int axis = qoAxis(imp, qoAttrInt(n, "axis", legacy ? 1 : -1), rank, "axis");
  if (axis < 0)
    return -1;
  int layout = QO_ONNX, in, a;
  if (legacy && axis != rank - 1) {
    int64_t d2[2] = {qoNumElements(axis, x->dims),
                     qoNumElements(rank - axis, x->dims + axis)};
    in = qoEmitReshape(imp, qoUse(imp, x, QO_ONNX), 2, d2);
    a = 1;
  } else {
    layout = qoNatural(x);
    in = qoUse(imp, x, layout);
    a = qoPhysAxis(layout, rank, axis);
  }
  int diff = qoEmitBinary(imp, "tosa.sub", in, reduceAxis(imp, "max", in, a));
  int e = qoEmitUnary(imp, "tosa.exp", diff);
  int sum = reduceAxis(imp, "sum", e, a);
  int y;
  if (!strcmp(n->op_type, "LogSoftmax"))
    y = qoEmitBinary(imp, "tosa.sub", diff, qoEmitUnary(imp, "tosa.log", sum));
  else
    y = qoEmitMul(imp, e, qoEmitUnary(imp, "tosa.reciprocal", sum));
  if (layout == QO_ONNX)
    y = qoEmitReshape(imp, y, rank, x->dims);
  qoValue *out = y < 0 ? NULL : qoOutput(imp, n, 0, rank, x->dims);
  if (!out)
    return -1;
  out->ssa[layout] = y;
  return 0;
}

int qoImportReduce(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x)
    return -1;
  const char *op = n->op_type;
  const char *kind = !strcmp(op, "ReduceMax")   ? "max"
                     : !strcmp(op, "ReduceMin") ? "min"
                                                : "sum";
  int since = !strcmp(op, "ReduceSum") ? 13 : 18;
  int64_t axes[QO_MAX_RANK];
  int na = qoAxesOperand(imp, n, since, axes, QO_MAX_RANK);
  if (na < 0)
    return -1;
  int keep = (int)qoAttrInt(n, "keepdims", 1);
  int rank = x->rank, mark[QO_MAX_RANK] = {0};
  if (na == 0 && qoAttrInt(n, "noop_with_empty_axes", 0)) {
    for (int d = 0; d < rank; ++d)
      axes[d] = -1; /* no reduction */
  } else if (na == 0) {
    for (int d = 0; d < rank; ++d)
      mark[d] = 1;
  }
  for (int k = 0; k < na; ++k) {
    int a = qoAxis(imp, axes[k], rank, "axis");
    if (a < 0)
      return -1;
    mark[a] = 1;
  }
  int layout = keep ? qoNatural(x) : QO_ONNX;
  int y = qoUse(imp, x, layout);
  int64_t count = 1, dims[QO_MAX_RANK], squeezed[QO_MAX_RANK];
  int rs = 0;
  for (int d = 0; d < rank; ++d) {
    dims[d] = mark[d] ? 1 : x->dims[d];
    if (mark[d]) {
      count *= x->dims[d];
      y = reduceAxis(imp, kind, y, qoPhysAxis(layout, rank, d));
    } else {
      squeezed[rs++] = x->dims[d];
    }
  }
  if (!strcmp(op, "ReduceMean") && count != 1 && y >= 0) {
    int64_t ones[QO_MAX_RANK];
    for (int d = 0; d < rank; ++d)
      ones[d] = 1;
    y = qoEmitMul(imp, y, qoEmitSplatF32(imp, rank, ones, 1.0f / (float)count));
  }
  int outRank = keep ? rank : rs;
  if (!keep)
    y = qoEmitReshape(imp, y, rs, squeezed);
  qoValue *out = y < 0 ? NULL : qoOutput(imp, n, 0, outRank, keep ? dims : squeezed);
  if (!out)
    return -1;
  out->ssa[layout] = y;
  return 0;
}
