/* Import-time constant folding of shape arithmetic.
 *
 * Once the input shapes are fixed, every Shape/Size result is known, and so
 * is everything computed from known values only: the Shape -> Gather ->
 * Concat -> Reshape chains exporters emit, Constant/ConstantOfShape, casts
 * and small integer arithmetic. Such nodes produce host constants and no
 * ops; integer tensors therefore never reach the emitted function. Float
 * ops on constants listed here (e.g. Transpose or Mul of weights) fold too. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define T_FLOAT ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define T_INT64 ONNX__TENSOR_PROTO__DATA_TYPE__INT64
#define T_BOOL ONNX__TENSOR_PROTO__DATA_TYPE__BOOL

/* Creates const output `idx` of `n` with storage for its elements. */
static qoValue *newConst(qoImporter *imp, const Onnx__NodeProto *n, size_t idx,
                         int elemType, int rank, const int64_t *dims) {
  if (idx >= n->n_output || !n->output[idx][0]) {
    qoFail(imp, "missing output #%zu", idx);
    return NULL;
  }
  if (qoCheckShape(imp, rank, dims, n->output[idx]) < 0)
    return NULL;
  int64_t cnt = qoNumElements(rank, dims), in = 0;
  for (size_t k = 0; k < n->n_input; ++k) {
    const qoValue *x = n->input[k][0] ? qoLookup(imp, n->input[k]) : NULL;
    in += x ? qoNumElements(x->rank, x->dims) : 0;
  }
  if (cnt > QO_MAX_FOLD_GROWTH && cnt > in) {
    qoUnsupported(imp, "unsupported: folding would create a constant of %lld "
                       "elements from %lld", (long long)cnt, (long long)in);
    return NULL;
  }
  if (cnt > imp->foldBudget) {
    qoUnsupported(imp, "unsupported: the constants folded at import time "
                       "exceed the budget of this model's size + %lld elements",
                  (long long)QO_FOLD_BUDGET);
    return NULL;
  }
  imp->foldBudget -= cnt;
  qoValue *v = qoDefine(imp, n->output[idx], elemType, rank, dims);
  if (!v)
    return NULL;
  v->isConst = 1;
  size_t bytes = (size_t)(cnt ? cnt : 1);
  if (qoIsFloatType(elemType))
    v->f = calloc(bytes, sizeof *v->f);
  else
    v->i = calloc(bytes, sizeof *v->i);
  if (!v->f && !v->i) {
    qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
    return NULL;
  }
  return v;
}

static double getD(const qoValue *v, int64_t k) {
  return v->f ? (double)v->f[k] : (double)v->i[k];
}

static void setFrom(qoValue *out, int64_t o, const qoValue *in, int64_t k) {
  if (out->f)
    out->f[o] = in->f ? in->f[k] : (float)in->i[k];
  else
    out->i[o] = in->i ? in->i[k] : qoF2I(in->f[k]);
}

/* Linear index into `in` (right-aligned, broadcast) for output index `o`. */
static int64_t bcastIndex(int outRank, const int64_t *outDims, const qoValue *in,
                          int64_t o) {
  int64_t idx = 0, stride = 1;
  for (int d = outRank - 1, e = in->rank - 1; d >= 0; --d, --e) {
    int64_t c = o % outDims[d];
    o /= outDims[d];
    if (e < 0)
      continue;
    if (in->dims[e] != 1)
      idx += c * stride;
    stride *= in->dims[e];
  }
  return idx;
}

/* Numpy broadcast shape of `count` values into `dims`; returns the rank, or
 * -1 after reporting the first incompatible dimension. */
int qoBroadcastShape(qoImporter *imp, qoValue **vs, int count, int64_t *dims) {
  int rank = 0;
  for (int k = 0; k < count; ++k)
    if (vs[k]->rank > rank)
      rank = vs[k]->rank;
  for (int d = 0; d < rank; ++d)
    dims[d] = 1;
  for (int k = 0; k < count; ++k) {
    for (int e = 0; e < vs[k]->rank; ++e) {
      int d = rank - vs[k]->rank + e;
      int64_t x = vs[k]->dims[e];
      if (x != 1 && dims[d] != 1 && dims[d] != x)
        return qoFail(imp, "inputs cannot be broadcast together (dim %d: "
                           "%lld vs %lld)", d, (long long)dims[d], (long long)x);
      if (x != 1)
        dims[d] = x;
    }
  }
  return rank;
}

static int foldBinary(qoImporter *imp, const Onnx__NodeProto *n, qoValue *a,
                      qoValue *b) {
  const char *op = n->op_type;
  int64_t dims[QO_MAX_RANK];
  qoValue *vs[2] = {a, b};
  int rank = qoBroadcastShape(imp, vs, 2, dims);
  if (rank < 0)
    return -1;
  int isEq = !strcmp(op, "Equal");
  int isFloat = a->f != NULL;
  int outType = isEq ? T_BOOL : a->elemType;
  qoValue *out = newConst(imp, n, 0, outType, rank, dims);
  if (!out)
    return -1;
  int64_t cnt = qoNumElements(rank, dims);
  for (int64_t o = 0; o < cnt; ++o) {
    int64_t ia = bcastIndex(rank, dims, a, o), ib = bcastIndex(rank, dims, b, o);
    if (isEq) {
      out->i[o] = getD(a, ia) == getD(b, ib);
    } else if (isFloat) {
      double x = getD(a, ia), y = getD(b, ib), r;
      if (!strcmp(op, "Add"))
        r = x + y;
      else if (!strcmp(op, "Sub"))
        r = x - y;
      else if (!strcmp(op, "Mul"))
        r = x * y;
      else if (!strcmp(op, "Div"))
        r = x / y;
      else if (!strcmp(op, "Pow"))
        r = pow(x, y);
      else if (!strcmp(op, "Max"))
        r = x > y ? x : y;
      else
        r = x < y ? x : y;
      out->f[o] = (float)r;
    } else {
      int64_t x = a->i[ia], y = b->i ? b->i[ib] : qoF2I(b->f[ib]), r;
      if (!strcmp(op, "Add"))
        r = (int64_t)((uint64_t)x + (uint64_t)y);
      else if (!strcmp(op, "Sub"))
        r = (int64_t)((uint64_t)x - (uint64_t)y);
      else if (!strcmp(op, "Mul"))
        r = (int64_t)((uint64_t)x * (uint64_t)y);
      else if (!strcmp(op, "Div")) {
        if (y == 0 || (y == -1 && x == INT64_MIN))
          return qoFail(imp, "integer division by zero in shape arithmetic");
        r = x / y;
      } else if (!strcmp(op, "Pow"))
        r = qoF2I(pow((double)x, (double)y));
      else if (!strcmp(op, "Max"))
        r = x > y ? x : y;
      else
        r = x < y ? x : y;
      out->i[o] = r;
    }
  }
  return 1;
}

static int foldWhere(qoImporter *imp, const Onnx__NodeProto *n, qoValue **in) {
  int64_t dims[QO_MAX_RANK];
  int rank = qoBroadcastShape(imp, in, 3, dims);
  if (rank < 0)
    return -1;
  qoValue *out = newConst(imp, n, 0, in[1]->elemType, rank, dims);
  if (!out)
    return -1;
  for (int64_t o = 0, c = qoNumElements(rank, dims); o < c; ++o) {
    int64_t ic = bcastIndex(rank, dims, in[0], o);
    qoValue *src = getD(in[0], ic) != 0 ? in[1] : in[2];
    setFrom(out, o, src, bcastIndex(rank, dims, src, o));
  }
  return 1;
}

static int foldExpand(qoImporter *imp, const Onnx__NodeProto *n, qoValue *x,
                      qoValue *shape) {
  int64_t spec[QO_MAX_RANK];
  int ns = qoConstInts(imp, shape, spec, QO_MAX_RANK, "Expand shape");
  if (ns < 0)
    return -1;
  qoValue tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.rank = ns;
  memcpy(tmp.dims, spec, (size_t)ns * sizeof *spec);
  qoValue *vs[2] = {x, &tmp};
  int64_t dims[QO_MAX_RANK];
  int rank = qoBroadcastShape(imp, vs, 2, dims);
  if (rank < 0)
    return -1;
  qoValue *out = newConst(imp, n, 0, x->elemType, rank, dims);
  if (!out)
    return -1;
  for (int64_t o = 0, c = qoNumElements(rank, dims); o < c; ++o)
    setFrom(out, o, x, bcastIndex(rank, dims, x, o));
  return 1;
}

/* Copies `x` into a new output with the same data and a new shape. */
static int foldReshapeTo(qoImporter *imp, const Onnx__NodeProto *n, qoValue *x,
                         int rank, const int64_t *dims) {
  qoValue *out = newConst(imp, n, 0, x->elemType, rank, dims);
  if (!out)
    return -1;
  for (int64_t o = 0, c = qoNumElements(rank, dims); o < c; ++o)
    setFrom(out, o, x, o);
  return 1;
}

static int foldGather(qoImporter *imp, const Onnx__NodeProto *n, qoValue *x,
                      qoValue *ind) {
  if (x->rank == 0)
    return qoFail(imp, "Gather data must have rank >= 1");
  int axis = qoAxis(imp, qoAttrInt(n, "axis", 0), x->rank, "axis");
  if (axis < 0)
    return -1;
  if (!ind->i)
    return qoFail(imp, "Gather indices must be integers");
  int rank = x->rank - 1 + ind->rank;
  if (rank > QO_MAX_RANK)
    return qoUnsupported(imp, "unsupported: Gather result rank %d", rank);
  int64_t dims[QO_MAX_RANK];
  int r = 0;
  for (int d = 0; d < axis; ++d)
    dims[r++] = x->dims[d];
  for (int d = 0; d < ind->rank; ++d)
    dims[r++] = ind->dims[d];
  for (int d = axis + 1; d < x->rank; ++d)
    dims[r++] = x->dims[d];
  int64_t outer = qoNumElements(axis, x->dims), len = x->dims[axis];
  int64_t inner = qoNumElements(x->rank - axis - 1, x->dims + axis + 1);
  int64_t ni = qoNumElements(ind->rank, ind->dims);
  qoValue *out = newConst(imp, n, 0, x->elemType, rank, dims);
  if (!out)
    return -1;
  int64_t o = 0;
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t k = 0; k < ni; ++k) {
      int64_t j = ind->i[k] < 0 ? ind->i[k] + len : ind->i[k];
      if (j < 0 || j >= len)
        return qoFail(imp, "Gather index %lld is out of range",
                      (long long)ind->i[k]);
      for (int64_t b = 0; b < inner; ++b)
        setFrom(out, o++, x, (a * len + j) * inner + b);
    }
  return 1;
}

static int64_t clampI(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

int qoSliceParams(qoImporter *imp, const Onnx__NodeProto *n, const qoValue *x,
                  int64_t *b, int64_t *st, int64_t *dims) {
  int64_t starts[QO_MAX_RANK], ends[QO_MAX_RANK], axes[QO_MAX_RANK],
      steps[QO_MAX_RANK];
  int ns, ne, na, nst;
  if (imp->opset < 10) {
    size_t c1, c2, c3;
    const int64_t *s = qoAttrInts(n, "starts", &c1);
    const int64_t *e = qoAttrInts(n, "ends", &c2);
    const int64_t *a = qoAttrInts(n, "axes", &c3);
    if (c1 > QO_MAX_RANK || c2 > QO_MAX_RANK || c3 > QO_MAX_RANK)
      return qoFail(imp, "too many slice parameters");
    ns = (int)c1, ne = (int)c2, na = a ? (int)c3 : -1;
    if (c1)
      memcpy(starts, s, c1 * sizeof *s);
    if (c2)
      memcpy(ends, e, c2 * sizeof *e);
    if (c3)
      memcpy(axes, a, c3 * sizeof *a);
    nst = -1;
  } else {
    qoValue *vs = qoInput(imp, n, 1), *ve = qoInput(imp, n, 2);
    qoValue *va = qoOptInput(imp, n, 3), *vst = qoOptInput(imp, n, 4);
    if (!vs || !ve || imp->error)
      return -1;
    ns = qoConstInts(imp, vs, starts, QO_MAX_RANK, "starts");
    ne = qoConstInts(imp, ve, ends, QO_MAX_RANK, "ends");
    na = va ? qoConstInts(imp, va, axes, QO_MAX_RANK, "axes") : -1;
    nst = vst ? qoConstInts(imp, vst, steps, QO_MAX_RANK, "steps") : -1;
    if (ns < 0 || ne < 0 || (va && na < 0) || (vst && nst < 0))
      return -1;
  }
  if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
    return qoFail(imp, "Slice starts/ends/axes/steps differ in length");
  for (int d = 0; d < x->rank; ++d)
    b[d] = 0, st[d] = 1, dims[d] = x->dims[d];
  for (int k = 0; k < ns; ++k) {
    int a = na >= 0 ? qoAxis(imp, axes[k], x->rank, "Slice axis") : k;
    if (a < 0 || a >= x->rank)
      return qoFail(imp, "Slice axis out of range");
    int64_t step = nst >= 0 ? steps[k] : 1, len = x->dims[a];
    if (step == 0)
      return qoFail(imp, "Slice step is 0");
    int64_t s = starts[k] < 0 ? clampI(starts[k], -len, 0) + len : starts[k];
    int64_t e = ends[k] < 0 ? clampI(ends[k], -len - 1, 0) + len : ends[k];
    /* |step| beyond the axis takes one element (and -INT64_MIN overflows). */
    int64_t mag = step > len ? len + 1 : step < -len ? len + 1 : step < 0 ? -step : step;
    if (step > 0) {
      s = clampI(s, 0, len);
      e = clampI(e, 0, len);
      dims[a] = e > s ? (e - s - 1) / mag + 1 : 0;
    } else {
      s = clampI(s, -1, len - 1);
      e = clampI(e, -1, len - 1);
      dims[a] = s > e ? (s - e - 1) / mag + 1 : 0;
    }
    step = step > 0 ? mag : -mag;
    b[a] = s;
    st[a] = step;
  }
  return 0;
}

static int foldSlice(qoImporter *imp, const Onnx__NodeProto *n, qoValue *x) {
  int64_t b[QO_MAX_RANK], st[QO_MAX_RANK], dims[QO_MAX_RANK];
  if (qoSliceParams(imp, n, x, b, st, dims) < 0)
    return -1;
  qoValue *out = newConst(imp, n, 0, x->elemType, x->rank, dims);
  if (!out)
    return -1;
  for (int64_t o = 0, c = qoNumElements(x->rank, dims); o < c; ++o) {
    int64_t rem = o, src = 0, stride = 1;
    for (int d = x->rank - 1; d >= 0; --d) {
      int64_t cd = rem % dims[d];
      rem /= dims[d];
      src += (b[d] + cd * st[d]) * stride;
      stride *= x->dims[d];
    }
    setFrom(out, o, x, src);
  }
  return 1;
}

static int foldTranspose(qoImporter *imp, const Onnx__NodeProto *n,
                         qoValue *x) {
  size_t np;
  const int64_t *p = qoAttrInts(n, "perm", &np);
  int perm[QO_MAX_RANK], rank = x->rank;
  int64_t dims[QO_MAX_RANK], strides[QO_MAX_RANK];
  if (p && np != (size_t)rank)
    return qoFail(imp, "perm has %zu entries for rank %d", np, rank);
  int seen = 0;
  for (int d = 0; d < rank; ++d) {
    int64_t a = p ? p[d] : rank - 1 - d;
    if (a < 0 || a >= rank || (seen >> a & 1))
      return qoFail(imp, "perm is not a permutation");
    perm[d] = (int)a;
    seen |= 1 << perm[d];
  }
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d)
    strides[d] = stride, stride *= x->dims[d];
  for (int d = 0; d < rank; ++d)
    dims[d] = x->dims[perm[d]];
  qoValue *out = newConst(imp, n, 0, x->elemType, rank, dims);
  if (!out)
    return -1;
  for (int64_t o = 0, c = qoNumElements(rank, dims); o < c; ++o) {
    int64_t rem = o, src = 0;
    for (int d = rank - 1; d >= 0; --d) {
      src += (rem % dims[d]) * strides[perm[d]];
      rem /= dims[d];
    }
    setFrom(out, o, x, src);
  }
  return 1;
}

static int foldConcat(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *first = qoInput(imp, n, 0);
  if (!first)
    return -1;
  int rank = first->rank;
  if (rank == 0)
    return qoFail(imp, "Concat inputs must have rank >= 1");
  int axis = qoAxis(imp, qoAttrInt(n, "axis", 0), rank, "axis");
  if (axis < 0)
    return -1;
  int64_t dims[QO_MAX_RANK];
  memcpy(dims, first->dims, sizeof dims);
  dims[axis] = 0;
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
  }
  qoValue *out = newConst(imp, n, 0, first->elemType, rank, dims);
  if (!out)
    return -1;
  int64_t outer = qoNumElements(axis, dims);
  int64_t o = 0;
  for (int64_t a = 0; a < outer; ++a)
    for (size_t k = 0; k < n->n_input; ++k) {
      qoValue *v = qoLookup(imp, n->input[k]);
      int64_t chunk = qoNumElements(rank - axis, v->dims + axis);
      for (int64_t j = 0; j < chunk; ++j)
        setFrom(out, o++, v, a * chunk + j);
    }
  return 1;
}

static int foldConstant(qoImporter *imp, const Onnx__NodeProto *n) {
  if (n->n_output < 1)
    return qoFail(imp, "Constant has no output");
  const Onnx__AttributeProto *a;
  if ((a = qoAttr(n, "value")) && a->t)
    return qoValueFromTensor(imp, a->t, n->output[0]) ? 1 : -1;
  int64_t cnt;
  if ((a = qoAttr(n, "value_float")) || (a = qoAttr(n, "value_floats"))) {
    int scalar = a->has_f;
    cnt = scalar ? 1 : (int64_t)a->n_floats;
    qoValue *v = newConst(imp, n, 0, T_FLOAT, scalar ? 0 : 1, &cnt);
    if (!v)
      return -1;
    for (int64_t k = 0; k < cnt; ++k)
      v->f[k] = scalar ? a->f : a->floats[k];
    return 1;
  }
  if ((a = qoAttr(n, "value_int")) || (a = qoAttr(n, "value_ints"))) {
    int scalar = a->has_i;
    cnt = scalar ? 1 : (int64_t)a->n_ints;
    qoValue *v = newConst(imp, n, 0, T_INT64, scalar ? 0 : 1, &cnt);
    if (!v)
      return -1;
    for (int64_t k = 0; k < cnt; ++k)
      v->i[k] = scalar ? a->i : a->ints[k];
    return 1;
  }
  return qoUnsupported(imp, "unsupported: Constant without a tensor, float or int "
                     "value");
}

static int foldConstantOfShape(qoImporter *imp, const Onnx__NodeProto *n,
                               qoValue *shape) {
  int64_t dims[QO_MAX_RANK];
  int rank = qoConstInts(imp, shape, dims, QO_MAX_RANK, "shape");
  if (rank < 0)
    return -1;
  const Onnx__AttributeProto *a = qoAttr(n, "value");
  int type = T_FLOAT;
  double fv = 0;
  int64_t iv = 0;
  if (a && a->t) {
    qoValue v;
    memset(&v, 0, sizeof v);
    int rc = qoDecodeTensor(imp, a->t, "value", &v);
    if (rc == 0 && qoNumElements(v.rank, v.dims) != 1)
      rc = qoFail(imp, "ConstantOfShape value must have one element");
    if (rc == 0) {
      type = v.elemType;
      fv = getD(&v, 0);
      iv = v.i ? v.i[0] : 0;
    }
    free(v.f);
    free(v.i);
    if (rc < 0)
      return -1;
  }
  for (int d = 0; d < rank; ++d)
    if (dims[d] < 0)
      return qoFail(imp, "ConstantOfShape: negative dimension");
  qoValue *out = newConst(imp, n, 0, type, rank, dims);
  if (!out)
    return -1;
  for (int64_t o = 0, c = qoNumElements(rank, dims); o < c; ++o) {
    if (out->f)
      out->f[o] = (float)fv;
    else
      out->i[o] = iv;
  }
  return 1;
}

static int foldRange(qoImporter *imp, const Onnx__NodeProto *n, qoValue **in) {
  for (int k = 0; k < 3; ++k)
    if (qoNumElements(in[k]->rank, in[k]->dims) != 1)
      return qoFail(imp, "Range inputs must be scalars");
  double s = getD(in[0], 0), l = getD(in[1], 0), d = getD(in[2], 0);
  if (d == 0)
    return qoFail(imp, "Range delta is 0");
  double c = ceil((l - s) / d);
  if (c != c || c > (double)((int64_t)1 << 28))
    return qoUnsupported(imp, "unsupported: Range of %g elements", c);
  int64_t cnt = c > 0 ? (int64_t)c : 0;
  qoValue *out = newConst(imp, n, 0, in[0]->elemType, 1, &cnt);
  if (!out)
    return -1;
  for (int64_t k = 0; k < cnt; ++k) {
    if (out->f)
      out->f[k] = (float)(s + (double)k * d);
    else
      out->i[k] = (int64_t)((uint64_t)in[0]->i[0] + (uint64_t)k * (uint64_t)in[2]->i[0]);
  }
  return 1;
}

static int foldCast(qoImporter *imp, const Onnx__NodeProto *n, qoValue *x) {
  int to = (int)qoAttrInt(n, "to", 0);
  if (!qoIsFloatType(to) && !qoIsIntType(to))
    return qoUnsupported(imp, "unsupported: Cast to %s", qoTypeName(to));
  qoValue *out = newConst(imp, n, 0, to, x->rank, x->dims);
  if (!out)
    return -1;
  for (int64_t o = 0, c = qoNumElements(x->rank, x->dims); o < c; ++o) {
    if (out->f)
      out->f[o] = (float)getD(x, o);
    else if (to == T_BOOL)
      out->i[o] = getD(x, o) != 0;
    else
      out->i[o] = x->i ? x->i[o] : qoF2I(x->f[o]);
  }
  return 1;
}

static int foldShape(qoImporter *imp, const Onnx__NodeProto *n, qoValue *x) {
  int64_t r = x->rank;
  int64_t s = qoAttrInt(n, "start", 0), e = qoAttrInt(n, "end", r);
  s = clampI(s < 0 ? s + r : s, 0, r);
  e = clampI(e < 0 ? e + r : e, 0, r);
  int64_t cnt = e > s ? e - s : 0;
  qoValue *out = newConst(imp, n, 0, T_INT64, 1, &cnt);
  if (!out)
    return -1;
  for (int64_t k = 0; k < cnt; ++k)
    out->i[k] = x->dims[s + k];
  return 1;
}

int qoTryFold(qoImporter *imp, const Onnx__NodeProto *n) {
  const char *op = n->op_type;
  if (!strcmp(op, "Constant"))
    return foldConstant(imp, n);
  if (!strcmp(op, "Shape") || !strcmp(op, "Size")) {
    qoValue *x = qoInput(imp, n, 0);
    if (!x)
      return -1;
    if (op[1] == 'h')
      return foldShape(imp, n, x);
    qoValue *out = newConst(imp, n, 0, T_INT64, 0, NULL);
    if (!out)
      return -1;
    out->i[0] = qoNumElements(x->rank, x->dims);
    return 1;
  }
  static const char *const foldable[] = {
      "ConstantOfShape", "Identity", "Cast", "Gather", "Slice", "Unsqueeze",
      "Squeeze", "Concat", "Reshape", "Flatten", "Add", "Sub", "Mul", "Div",
      "Pow", "Equal", "Where", "Neg", "Range", "Expand", "Transpose", "Max",
      "Min"};
  int listed = 0;
  for (size_t k = 0; k < sizeof foldable / sizeof *foldable && !listed; ++k)
    listed = !strcmp(op, foldable[k]);
  if (!listed)
    return 0;
  qoValue *in[QO_MAX_RANK] = {0};
  size_t count = n->n_input;
  if (count == 0 || count > QO_MAX_RANK)
    return 0;
  for (size_t k = 0; k < count; ++k) {
    in[k] = qoOptInput(imp, n, k);
    if (imp->error)
      return -1;
    if (in[k] && !in[k]->isConst)
      return 0;
  }
  if (!in[0])
    return 0;
  if (!strcmp(op, "ConstantOfShape"))
    return foldConstantOfShape(imp, n, in[0]);
  if (!strcmp(op, "Identity"))
    return foldReshapeTo(imp, n, in[0], in[0]->rank, in[0]->dims);
  if (!strcmp(op, "Cast"))
    return foldCast(imp, n, in[0]);
  if (!strcmp(op, "Gather") && in[1])
    return foldGather(imp, n, in[0], in[1]);
  if (!strcmp(op, "Slice"))
    return foldSlice(imp, n, in[0]);
  if (!strcmp(op, "Concat"))
    return foldConcat(imp, n);
  if (!strcmp(op, "Transpose"))
    return foldTranspose(imp, n, in[0]);
  if (!strcmp(op, "Where") && count == 3 && in[1] && in[2])
    return foldWhere(imp, n, in);
  if (!strcmp(op, "Range") && count == 3 && in[1] && in[2])
    return foldRange(imp, n, in);
  if (!strcmp(op, "Expand") && in[1])
    return foldExpand(imp, n, in[0], in[1]);
  if (!strcmp(op, "Neg")) {
    qoValue *out = newConst(imp, n, 0, in[0]->elemType, in[0]->rank, in[0]->dims);
    if (!out)
      return -1;
    for (int64_t o = 0, c = qoNumElements(in[0]->rank, in[0]->dims); o < c; ++o)
      if (out->f)
        out->f[o] = -in[0]->f[o];
      else
        out->i[o] = (int64_t)(0 - (uint64_t)in[0]->i[o]);
    return 1;
  }
  if (count == 2 && in[1] &&
      (!strcmp(op, "Add") || !strcmp(op, "Sub") || !strcmp(op, "Mul") ||
       !strcmp(op, "Div") || !strcmp(op, "Pow") || !strcmp(op, "Equal") ||
       !strcmp(op, "Max") || !strcmp(op, "Min")))
    return foldBinary(imp, n, in[0], in[1]);
  /* Reshape-like: the output shape is computed as on the run-time path. */
  if (!strcmp(op, "Reshape") || !strcmp(op, "Flatten") ||
      !strcmp(op, "Squeeze") || !strcmp(op, "Unsqueeze")) {
    int64_t dims[QO_MAX_RANK];
    int rank = qoReshapeLikeDims(imp, n, in[0], dims);
    return rank < 0 ? -1 : foldReshapeTo(imp, n, in[0], rank, dims);
  }
  return 0;
}
