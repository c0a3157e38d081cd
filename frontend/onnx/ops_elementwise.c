/* Elementwise ops: activations, unary math, and broadcasting binary /
 * variadic arithmetic.
 *
 * Elementwise ops are layout-agnostic, so they run in whatever layout their
 * run-time operand already has (NHWC after a conv): constants are re-laid
 * to match instead of transposing the activation. TOSA needs equal ranks,
 * so lower-rank operands are reshaped with leading 1-dims (numpy rules). */
#include <float.h>
#include <string.h>

#include "internal.h"

/* A splat constant broadcastable against an SSA value of rank `rank`. */
static int splat(qoImporter *imp, int rank, float v) {
  int64_t ones[QO_MAX_RANK];
  for (int d = 0; d < rank; ++d)
    ones[d] = 1;
  return qoEmitSplatF32(imp, rank, ones, v);
}

static int rankOf(qoImporter *imp, int ssa) {
  return ssa < 0 ? 0 : qoType(imp, ssa)->rank;
}

static int mulScalar(qoImporter *imp, int a, float v) {
  return qoEmitMul(imp, a, splat(imp, rankOf(imp, a), v));
}

static int addScalar(qoImporter *imp, int a, float v) {
  return qoEmitBinary(imp, "tosa.add", a, splat(imp, rankOf(imp, a), v));
}

static int hardSigmoid(qoImporter *imp, int a, float alpha, float beta) {
  return qoEmitClamp(imp, addScalar(imp, mulScalar(imp, a, alpha), beta), 0.0f,
                     1.0f);
}

int qoImportUnary(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x)
    return -1;
  const char *op = n->op_type;
  int layout = qoNatural(x);
  int a = qoUse(imp, x, layout);
  if (a < 0)
    return -1;
  static const struct {
    const char *onnx, *tosa;
  } direct[] = {{"Sigmoid", "tosa.sigmoid"}, {"Tanh", "tosa.tanh"},
                {"Exp", "tosa.exp"},         {"Log", "tosa.log"},
                {"Abs", "tosa.abs"},         {"Reciprocal", "tosa.reciprocal"},
                {"Floor", "tosa.floor"},     {"Ceil", "tosa.ceil"}};
  int id = -2;
  for (size_t k = 0; k < sizeof direct / sizeof *direct; ++k)
    if (!strcmp(op, direct[k].onnx))
      id = qoEmitUnary(imp, direct[k].tosa, a);
  if (id != -2) {
    /* handled above */
  } else if (!strcmp(op, "Relu")) {
    id = qoEmitClamp(imp, a, 0.0f, FLT_MAX);
  } else if (!strcmp(op, "Neg")) {
    int zp = qoZeroPoint(imp);
    int ins[3] = {a, zp, zp};
    const qoSsaType *t = qoType(imp, a);
    int64_t dims[QO_MAX_RANK];
    int rank = t->rank;
    memcpy(dims, t->dims, sizeof dims);
    id = qoEmit(imp, "tosa.negate", 3, ins, NULL, rank, dims);
  } else if (!strcmp(op, "Sqrt")) {
    id = qoEmitBinary(imp, "tosa.pow", a, splat(imp, rankOf(imp, a), 0.5f));
  } else if (!strcmp(op, "LeakyRelu")) {
    float alpha = qoAttrFloat(n, "alpha", 0.01f);
    id = qoEmitBinary(imp, alpha <= 1.0f ? "tosa.maximum" : "tosa.minimum", a,
                      mulScalar(imp, a, alpha));
  } else if (!strcmp(op, "HardSigmoid")) {
    id = hardSigmoid(imp, a, qoAttrFloat(n, "alpha", 0.2f),
                     qoAttrFloat(n, "beta", 0.5f));
  } else if (!strcmp(op, "HardSwish")) {
    id = qoEmitMul(imp, a, hardSigmoid(imp, a, 1.0f / 6.0f, 0.5f));
  } else if (!strcmp(op, "Elu")) {
    /* max(x,0) + alpha * (exp(min(x,0)) - 1) */
    float alpha = qoAttrFloat(n, "alpha", 1.0f);
    int neg = qoEmitUnary(imp, "tosa.exp", qoEmitClamp(imp, a, -FLT_MAX, 0.0f));
    id = qoEmitBinary(imp, "tosa.add", qoEmitClamp(imp, a, 0.0f, FLT_MAX),
                      mulScalar(imp, addScalar(imp, neg, -1.0f), alpha));
  } else if (!strcmp(op, "Softplus")) {
    id = qoEmitUnary(imp, "tosa.log",
                     addScalar(imp, qoEmitUnary(imp, "tosa.exp", a), 1.0f));
  } else if (!strcmp(op, "Softsign")) {
    id = qoEmitMul(imp, a, qoEmitUnary(imp, "tosa.reciprocal",
                                       addScalar(imp, qoEmitUnary(imp, "tosa.abs", a),
                                                 1.0f)));
  } else {
    return qoUnsupported(imp, "unsupported operator '%s'", op);
  }
  qoValue *out = id < 0 ? NULL : qoOutput(imp, n, 0, x->rank, x->dims);
  if (!out)
    return -1;
  out->ssa[layout] = id;
  return 0;
}

int qoImportClip(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x)
    return -1;
  float lo = -FLT_MAX, hi = FLT_MAX;
  qoValue *vlo = NULL, *vhi = NULL; /* run-time bounds (opset >= 11) */
  if (imp->opset < 11) {
    lo = qoAttrFloat(n, "min", lo);
    hi = qoAttrFloat(n, "max", hi);
  } else {
    vlo = qoOptInput(imp, n, 1);
    vhi = qoOptInput(imp, n, 2);
    if (imp->error)
      return -1;
    if (vlo && vlo->isConst) {
      if (qoConstFloat(imp, vlo, &lo, "min") < 0)
        return -1;
      vlo = NULL;
    }
    if (vhi && vhi->isConst) {
      if (qoConstFloat(imp, vhi, &hi, "max") < 0)
        return -1;
      vhi = NULL;
    }
  }
  int layout = qoNatural(x);
  /* ONNX: with min > max every element becomes max. */
  int id = qoEmitClamp(imp, qoUse(imp, x, layout), lo > hi ? hi : lo, hi);
  if (vlo) /* max(x, min) then min(., max), as the ONNX reference does */
    id = qoEmitBinary(imp, "tosa.maximum", id,
                      qoUseRanked(imp, vlo, x->rank, layout));
  if (vhi)
    id = qoEmitBinary(imp, "tosa.minimum", id,
                      qoUseRanked(imp, vhi, x->rank, layout));
  qoValue *out = id < 0 ? NULL : qoOutput(imp, n, 0, x->rank, x->dims);
  if (!out)
    return -1;
  out->ssa[layout] = id;
  return 0;
}

/* Broadcast shape, layout and SSA operands for `count` values. */
static int prepare(qoImporter *imp, qoValue **vs, int count, int *ids,
                   int *layout, int64_t *dims) {
  int rank = qoBroadcastShape(imp, vs, count, dims);
  if (rank < 0)
    return -1;
  *layout = QO_ONNX;
  for (int k = 0; k < count; ++k)
    if (!vs[k]->isConst && vs[k]->rank == 4 && qoNatural(vs[k]) == QO_NHWC)
      *layout = QO_NHWC;
  if (rank != 4)
    *layout = QO_ONNX;
  for (int k = 0; k < count; ++k)
    if ((ids[k] = qoUseRanked(imp, vs[k], rank, *layout)) < 0)
      return -1;
  return rank;
}

static int combine(qoImporter *imp, const char *op, int a, int b) {
  if (!strcmp(op, "Add") || !strcmp(op, "Sum") || !strcmp(op, "Mean"))
    return qoEmitBinary(imp, "tosa.add", a, b);
  if (!strcmp(op, "Sub"))
    return qoEmitBinary(imp, "tosa.sub", a, b);
  if (!strcmp(op, "Mul"))
    return qoEmitMul(imp, a, b);
  if (!strcmp(op, "Div"))
    return qoEmitMul(imp, a, qoEmitUnary(imp, "tosa.reciprocal", b));
  if (!strcmp(op, "Pow"))
    return qoEmitBinary(imp, "tosa.pow", a, b);
  if (!strcmp(op, "Max"))
    return qoEmitBinary(imp, "tosa.maximum", a, b);
  if (!strcmp(op, "Min"))
    return qoEmitBinary(imp, "tosa.minimum", a, b);
  return qoUnsupported(imp, "unsupported operator '%s'", op);
}

static int importNary(qoImporter *imp, const Onnx__NodeProto *n, int count) {
  if (count < 1 || count > 16)
    return qoUnsupported(imp, "unsupported: %d inputs", count);
  qoValue *vs[16];
  int ids[16] = {0}, layout;
  for (int k = 0; k < count; ++k)
    if (!(vs[k] = qoInput(imp, n, (size_t)k)))
      return -1;
  int64_t dims[QO_MAX_RANK];
  int rank = prepare(imp, vs, count, ids, &layout, dims);
  if (rank < 0)
    return -1;
  int id = ids[0];
  for (int k = 1; k < count; ++k)
    id = combine(imp, n->op_type, id, ids[k]);
  if (!strcmp(n->op_type, "Mean") && count > 1)
    id = qoEmitMul(imp, id, splat(imp, rank, 1.0f / (float)count));
  /* A lone input still needs broadcasting to the output shape: none here. */
  qoValue *out = id < 0 ? NULL : qoOutput(imp, n, 0, rank, dims);
  if (!out)
    return -1;
  out->ssa[layout] = id;
  return 0;
}

int qoImportBinary(qoImporter *imp, const Onnx__NodeProto *n) {
  if (n->n_input != 2)
    return qoFail(imp, "expected 2 inputs, got %zu", n->n_input);
  if (imp->opset < 7 && qoAttrInt(n, "broadcast", 0) && qoAttr(n, "axis"))
    return qoUnsupported(imp, "unsupported: legacy broadcast with 'axis'");
  return importNary(imp, n, 2);
}

int qoImportVariadic(qoImporter *imp, const Onnx__NodeProto *n) {
  return importNary(imp, n, (int)n->n_input);
}

int qoImportPRelu(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *vs[2] = {qoInput(imp, n, 0), qoInput(imp, n, 1)};
  if (!vs[0] || !vs[1])
    return -1;
  /* Before opset 7 a 1-D slope broadcast along the channel axis (dim 1). */
  if (imp->opset < 7 && vs[1]->rank == 1 && vs[0]->rank > 2 &&
      vs[1]->dims[0] == vs[0]->dims[1] && vs[1]->dims[0] != vs[0]->dims[vs[0]->rank - 1])
    return qoUnsupported(imp, "unsupported: legacy (opset %lld) PRelu slope broadcast along axis 1",
                  (long long)imp->opset);
  int ids[2] = {0, 0}, layout;
  int64_t dims[QO_MAX_RANK];
  int rank = prepare(imp, vs, 2, ids, &layout, dims);
  if (rank < 0)
    return -1;
  /* max(x,0) + slope * min(x,0) */
  int pos = qoEmitClamp(imp, ids[0], 0.0f, FLT_MAX);
  int neg = qoEmitClamp(imp, ids[0], -FLT_MAX, 0.0f);
  int id = qoEmitBinary(imp, "tosa.add", pos, qoEmitMul(imp, neg, ids[1]));
  qoValue *out = id < 0 ? NULL : qoOutput(imp, n, 0, rank, dims);
  if (!out)
    return -1;
  out->ssa[layout] = id;
  return 0;
}
