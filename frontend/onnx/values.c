/* The value table: ONNX value name -> qoValue, and layout bookkeeping.
 *
 * Run-time values may exist in ONNX layout, in NHWC layout (rank 4), or
 * both; qoUse materialises the requested one on demand (tosa.transpose for
 * run-time values, a re-laid tosa.const for import-time constants) and
 * caches it, so a value consumed in both layouts is transposed once. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const int kToNhwc[4] = {0, 2, 3, 1}; /* NCHW -> NHWC */
static const int kToOnnx[4] = {0, 3, 1, 2}; /* NHWC -> NCHW */

static uint64_t hashName(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; ++s)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static qoValue **slot(qoValue **tab, size_t cap, const char *name) {
  size_t i = (size_t)hashName(name) & (cap - 1);
  while (tab[i] && strcmp(tab[i]->name, name) != 0)
    i = (i + 1) & (cap - 1);
  return &tab[i];
}

qoValue *qoLookup(qoImporter *imp, const char *name) {
  if (!imp->capValues || !name)
    return NULL;
  return *slot(imp->values, imp->capValues, name);
}

static int grow(qoImporter *imp) {
  size_t cap = imp->capValues ? imp->capValues * 2 : 64;
  qoValue **tab = calloc(cap, sizeof *tab);
  if (!tab)
    return 0;
  for (size_t i = 0; i < imp->capValues; ++i)
    if (imp->values[i])
      *slot(tab, cap, imp->values[i]->name) = imp->values[i];
  free(imp->values);
  imp->values = tab;
  imp->capValues = cap;
  return 1;
}

qoValue *qoDefine(qoImporter *imp, const char *name, int elemType, int rank,
                  const int64_t *dims) {
  if (rank < 0 || rank > QO_MAX_RANK) {
    qoUnsupported(imp, "unsupported: rank %d of '%s' (at most %d)", rank, name,
           QO_MAX_RANK);
    return NULL;
  }
  if (qoCheckShape(imp, rank, dims, name) < 0)
    return NULL;
  if ((imp->numValues + 1) * 10 > imp->capValues * 7 && !grow(imp)) {
    qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
    return NULL;
  }
  qoValue **s = slot(imp->values, imp->capValues, name);
  if (*s) {
    qoFail(imp, "value '%s' is defined more than once", name);
    return NULL;
  }
  qoValue *v = calloc(1, sizeof *v);
  char *copy = v ? strdup(name) : NULL;
  if (!copy) {
    free(v);
    qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
    return NULL;
  }
  v->name = copy;
  v->elemType = elemType;
  v->rank = rank;
  if (rank)
    memcpy(v->dims, dims, (size_t)rank * sizeof *dims);
  v->ssa[0] = v->ssa[1] = -1;
  v->deq[0] = v->deq[1] = -1;
  *s = v;
  imp->numValues++;
  return v;
}

void qoValuesFree(qoImporter *imp) {
  for (size_t i = 0; i < imp->capValues; ++i) {
    qoValue *v = imp->values[i];
    if (!v)
      continue;
    free(v->name);
    free(v->f);
    free(v->i);
    qoQParamsFree(v->qp);
    qoQParamsFree(v->wq);
    free(v);
  }
  free(imp->values);
  imp->values = NULL;
  imp->capValues = imp->numValues = 0;
}

int qoIsFloatType(int t) {
  return t == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
         t == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
}

int qoIsIntType(int t) {
  switch (t) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
  case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
    return 1;
  default:
    return 0;
  }
}

const char *qoTypeName(int t) {
  static const char *names[] = {
      "undefined", "float", "uint8",  "int8",   "uint16",    "int16",
      "int32",     "int64", "string", "bool",   "float16",   "double",
      "uint32",    "uint64", "complex64", "complex128", "bfloat16"};
  if (t >= 0 && t < (int)(sizeof names / sizeof *names))
    return names[t];
  return "unknown";
}

/* The node of the graph that outputs `name`, or NULL. */
static const Onnx__NodeProto *producer(const qoImporter *imp, const char *name) {
  const Onnx__GraphProto *g = imp->graph;
  for (size_t k = 0; g && k < g->n_node; ++k)
    for (size_t j = 0; j < g->node[k]->n_output; ++j)
      if (!strcmp(g->node[k]->output[j], name))
        return g->node[k];
  return NULL;
}

qoValue *qoOptInput(qoImporter *imp, const Onnx__NodeProto *n, size_t idx) {
  if (idx >= n->n_input || !n->input[idx][0])
    return NULL;
  qoValue *v = qoLookup(imp, n->input[idx]);
  if (v)
    return v;
  const Onnx__NodeProto *p = producer(imp, n->input[idx]);
  if (p == n)
    qoFail(imp, "input '%s' is this node's own output (a cycle)", n->input[idx]);
  else if (p)
    qoFail(imp, "input '%s' is produced by node '%s' later in the graph (a cycle, "
                "or nodes not in topological order)", n->input[idx],
           p->name && *p->name ? p->name : p->op_type ? p->op_type : "?");
  else
    qoFail(imp, "input '%s' is not defined before its use", n->input[idx]);
  return NULL;
}

qoValue *qoInput(qoImporter *imp, const Onnx__NodeProto *n, size_t idx) {
  if (idx >= n->n_input || !n->input[idx][0]) {
    qoFail(imp, "missing required input #%zu", idx);
    return NULL;
  }
  return qoOptInput(imp, n, idx);
}

qoValue *qoOutput(qoImporter *imp, const Onnx__NodeProto *n, size_t idx,
                  int rank, const int64_t *dims) {
  if (idx >= n->n_output || !n->output[idx][0]) {
    qoFail(imp, "missing output #%zu", idx);
    return NULL;
  }
  if (qoNumElements(rank, dims) == 0) {
    qoUnsupported(imp, "unsupported: output '%s' has zero elements", n->output[idx]);
    return NULL;
  }
  return qoDefine(imp, n->output[idx], ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT,
                  rank, dims);
}

int qoNatural(const qoValue *v) {
  return v->ssa[QO_NHWC] >= 0 ? QO_NHWC : QO_ONNX;
}

void qoPhysDims(int layout, int rank, const int64_t *dims, int64_t *out) {
  for (int i = 0; i < rank; ++i)
    out[i] = (layout == QO_NHWC && rank == 4) ? dims[kToNhwc[i]] : dims[i];
}

int qoPhysAxis(int layout, int rank, int a) {
  return (layout == QO_NHWC && rank == 4) ? kToOnnx[a] : a;
}

int qoAxis(qoImporter *imp, int64_t axis, int rank, const char *what) {
  if (axis < -rank || axis >= (rank ? rank : 1))
    return qoFail(imp, "%s %lld is out of range for rank %d", what,
                  (long long)axis, rank);
  return (int)(axis < 0 ? axis + rank : axis);
}

/* Materialises a float constant with logical dims `dims` in `layout`. */
static int emitConstIn(qoImporter *imp, const qoValue *v, int rank,
                       const int64_t *dims, int layout) {
  if (!v->f)
    return qoUnsupported(imp, "unsupported: %s tensor '%s' used as a run-time value",
                  qoTypeName(v->elemType), v->name);
  int pad = rank - v->rank; /* leading 1-dims added by qoUseRanked */
  int wAxis = v->wq && v->wq->n > 1 ? v->wq->axis + pad : 0;
  if (layout != QO_NHWC || rank != 4)
    return qoWrapWeight(imp, v, qoEmitConstF32(imp, rank, dims, v->f), wAxis, 0);
  int64_t n = qoNumElements(rank, dims);
  float *t = malloc((size_t)n * sizeof *t);
  if (!t)
    return qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
  int64_t N = dims[0], C = dims[1], H = dims[2], W = dims[3], o = 0;
  for (int64_t a = 0; a < N; ++a)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w)
        for (int64_t c = 0; c < C; ++c)
          t[o++] = v->f[((a * C + c) * H + h) * W + w];
  int64_t phys[4];
  qoPhysDims(QO_NHWC, 4, dims, phys);
  int id = qoEmitConstF32(imp, 4, phys, t);
  free(t);
  return qoWrapWeight(imp, v, id, qoPhysAxis(QO_NHWC, 4, wAxis), 0);
}

int qoUse(qoImporter *imp, qoValue *v, int layout) {
  if (!v)
    return -1;
  if (!v->isConst && !qoIsFloatType(v->elemType))
    return qoUnsupported(imp, "unsupported: %s value '%s' used by a float operator "
                       "(integer tensors are only taken by the quantization "
                       "operators)", qoTypeName(v->elemType), v->name);
  if (v->rank != 4)
    layout = QO_ONNX;
  if (v->ssa[layout] >= 0)
    return v->ssa[layout];
  int id;
  if (v->isConst) {
    id = emitConstIn(imp, v, v->rank, v->dims, layout);
  } else {
    int other = v->ssa[!layout];
    if (other < 0)
      return qoFail(imp, "internal: value '%s' has no SSA value", v->name);
    /* With H = W = 1 (after global pooling) only size-1 dims move and the
     * data order does not change: a reshape is cheaper than a transpose. */
    int64_t phys[4];
    qoPhysDims(layout, 4, v->dims, phys);
    if (v->dims[2] == 1 && v->dims[3] == 1)
      id = qoEmitReshape(imp, other, 4, phys);
    else
      id = qoEmitTranspose(imp, other, layout == QO_NHWC ? kToNhwc : kToOnnx);
  }
  if (id >= 0)
    v->ssa[layout] = id;
  return id;
}

int qoUseRanked(qoImporter *imp, qoValue *v, int rank, int layout) {
  if (!v)
    return -1;
  if (v->rank == rank)
    return qoUse(imp, v, layout);
  if (v->rank > rank)
    return qoFail(imp, "internal: cannot lower the rank of '%s'", v->name);
  int64_t dims[QO_MAX_RANK];
  int pad = rank - v->rank;
  for (int i = 0; i < rank; ++i)
    dims[i] = i < pad ? 1 : v->dims[i - pad];
  if (rank != 4)
    layout = QO_ONNX;
  if (v->isConst)
    return emitConstIn(imp, v, rank, dims, layout);
  int id = qoEmitReshape(imp, qoUse(imp, v, QO_ONNX), rank, dims);
  if (layout == QO_NHWC)
    id = qoEmitTranspose(imp, id, kToNhwc);
  return id;
}
