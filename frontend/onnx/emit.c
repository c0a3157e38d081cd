/* Textual emission of TOSA ops in MLIR generic syntax.
 *
 * Every emitted value is `%vN`; its type is recorded in imp->types so that
 * op emitters only pass SSA ids around. Every line carries the location of
 * the ONNX node being imported. Constants use hex dense literals so that
 * weights round-trip bit-exactly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const qoSsaType *qoType(const qoImporter *imp, int ssa) {
  /* Callers check ids first; an invalid one (an error already recorded)
   * reads as an empty type rather than out of bounds. */
  static const qoSsaType kNone;
  return ssa >= 0 && ssa < imp->numSsa ? &imp->types[ssa] : &kNone;
}

int qoNewSsa(qoImporter *imp, char kind, int rank, const int64_t *dims) {
  if (imp->numSsa == imp->capSsa) {
    int cap = imp->capSsa ? imp->capSsa * 2 : 256;
    qoSsaType *t = realloc(imp->types, (size_t)cap * sizeof *t);
    if (!t)
      return qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
    imp->types = t;
    imp->capSsa = cap;
  }
  qoSsaType *t = &imp->types[imp->numSsa];
  memset(t, 0, sizeof *t);
  t->kind = kind;
  t->rank = rank;
  if (rank > 0 && dims)
    memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
  return imp->numSsa++;
}

static void printDims(qoBuf *b, int rank, const int64_t *dims) {
  for (int i = 0; i < rank; ++i)
    qoBufPrintf(b, "%lldx", (long long)dims[i]);
}

void qoPrintTensorType(qoBuf *b, int rank, const int64_t *dims) {
  qoBufAppend(b, "tensor<");
  printDims(b, rank, dims);
  qoBufAppend(b, "f32>");
}

void qoPrintType(qoBuf *b, const qoSsaType *t) {
  if (t->kind == 's') {
    qoBufPrintf(b, "!tosa.shape<%d>", t->rank);
    return;
  }
  qoBufAppend(b, "tensor<");
  printDims(b, t->rank, t->dims);
  if (t->kind == 'x')
    qoBufAppend(b, t->elem ? t->elem : "?");
  qoBufAppend(b, t->kind == 'b' ? "i8>" : t->kind == 'x' ? ">" : "f32>");
}

void qoPrintFloat(qoBuf *b, float v) {
  if (isfinite(v)) {
    qoBufPrintf(b, "%.9e", (double)v);
  } else {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    qoBufPrintf(b, "0x%08X", (unsigned)bits);
  }
}

static void printLoc(qoImporter *imp) {
  qoBuf *b = &imp->body;
  if (!imp->nodeName) {
    qoBufAppend(b, " loc(unknown)\n");
    return;
  }
  qoBufAppend(b, " loc(\"");
  qoBufAppendEscaped(b, imp->nodeName);
  qoBufAppend(b, "\")\n");
}

int qoElem(qoImporter *imp, const char *s) {
  for (int i = 0; i < imp->numElems; ++i)
    if (!strcmp(imp->elems[i], s))
      return i;
  if (imp->numElems == imp->capElems) {
    int cap = imp->capElems ? imp->capElems * 2 : 16;
    char **e = realloc(imp->elems, (size_t)cap * sizeof *e);
    if (!e)
      return qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
    imp->elems = e;
    imp->capElems = cap;
  }
  char *c = strdup(s);
  if (!c)
    return qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
  imp->elems[imp->numElems] = c;
  return imp->numElems++;
}

/* New SSA value of element type `elem` (qoElem index, -1: f32; -2: the
 * type of SSA `like`, given as -2 - like). */
static int newTyped(qoImporter *imp, int elem, int rank, const int64_t *dims) {
  char kind = 'f';
  const char *name = NULL;
  if (elem <= -2) {
    const qoSsaType *t = qoType(imp, -2 - elem);
    kind = t->kind;
    name = t->elem;
  } else if (elem >= 0) {
    kind = 'x';
    name = imp->elems[elem];
  }
  int id = qoNewSsa(imp, kind, rank, dims);
  if (id >= 0)
    imp->types[id].elem = name;
  return id;
}

static int emitOp(qoImporter *imp, const char *op, int nIn, const int *ins,
                  const char *props, int inherent, int elem, int outRank,
                  const int64_t *outDims) {
  for (int i = 0; i < nIn; ++i)
    if (ins[i] < 0)
      return -1;
  int id = newTyped(imp, elem, outRank, outDims);
  if (id < 0)
    return -1;
  qoBuf *b = &imp->body;
  qoBufPrintf(b, "    %%v%d = \"%s\"(", id, op);
  for (int i = 0; i < nIn; ++i)
    qoBufPrintf(b, "%s%%v%d", i ? ", " : "", ins[i]);
  qoBufAppend(b, ")");
  if (props && *props)
    qoBufPrintf(b, inherent ? " <{%s}>" : " {%s}", props);
  qoBufAppend(b, " : (");
  for (int i = 0; i < nIn; ++i) {
    if (i)
      qoBufAppend(b, ", ");
    qoPrintType(b, qoType(imp, ins[i]));
  }
  qoBufAppend(b, ") -> ");
  qoPrintType(b, qoType(imp, id));
  printLoc(imp);
  return id;
}

int qoEmit(qoImporter *imp, const char *op, int nIn, const int *ins,
           const char *props, int outRank, const int64_t *outDims) {
  return emitOp(imp, op, nIn, ins, props, 1, -1, outRank, outDims);
}

int qoEmitWithAttrs(qoImporter *imp, const char *op, int nIn, const int *ins,
                    const char *attrs, int outRank, const int64_t *outDims) {
  return emitOp(imp, op, nIn, ins, attrs, 0, -1, outRank, outDims);
}

int qoEmitT(qoImporter *imp, const char *op, int nIn, const int *ins,
            const char *props, int inherent, int elem, int outRank,
            const int64_t *outDims) {
  if (elem < 0)
    return elem == -1 ? emitOp(imp, op, nIn, ins, props, inherent, -1, outRank,
                               outDims)
                      : -1;
  return emitOp(imp, op, nIn, ins, props, inherent, elem, outRank, outDims);
}

/* Same op and type as the first operand (layout ops keep the element type). */
static int emitLike(qoImporter *imp, const char *op, int nIn, const int *ins,
                    const char *props, int outRank, const int64_t *outDims) {
  if (ins[0] < 0)
    return -1;
  return emitOp(imp, op, nIn, ins, props, 1, -2 - ins[0], outRank, outDims);
}

int qoElemOf(qoImporter *imp, int ssa) {
  if (ssa < 0)
    return -1;
  const qoSsaType *t = qoType(imp, ssa);
  if (t->kind == 'b')
    return qoElem(imp, "i8");
  return t->kind == 'x' && t->elem ? qoElem(imp, t->elem) : -1;
}

/* Takes `n` elements from the budget of constant text (a constant used by
 * many nodes is written once per use). */
static int spendConst(qoImporter *imp, int64_t n) {
  if (n > imp->constBudget)
    return qoUnsupported(imp, "unsupported: the model's constants exceed "
                              "%lld elements when written out",
                         (long long)QO_CONST_BUDGET);
  imp->constBudget -= n;
  return 0;
}

/* Integer tosa.const; `isSplat`: data holds one value for every element. */
static int emitInt(qoImporter *imp, const char *elemName, int rank,
                   const int64_t *dims, const int64_t *data, int isSplat) {
  int64_t n = qoNumElements(rank, dims);
  if (n <= 0)
    return qoUnsupported(imp, "unsupported: empty tensor constant");
  int bytes = !strcmp(elemName, "i32") ? 4 : 1;
  int splat = 1;
  for (int64_t i = 1; i < n && splat && !isSplat; ++i)
    splat = data[i] == data[0];
  if (spendConst(imp, splat ? 1 : n) < 0)
    return -1;
  int e = qoElem(imp, elemName);
  if (e < 0)
    return -1;
  int id = newTyped(imp, e, rank, dims);
  if (id < 0)
    return -1;
  qoBuf *b = &imp->body;
  qoBufPrintf(b, "    %%v%d = \"tosa.const\"() <{values = dense<", id);
  if (splat) {
    qoBufPrintf(b, "%lld", (long long)data[0]);
  } else {
    static const char hex[] = "0123456789ABCDEF";
    qoBufAppend(b, "\"0x");
    for (int64_t i = 0; i < n; ++i) {
      uint32_t bits = (uint32_t)data[i];
      char chunk[8];
      for (int k = 0; k < bytes; ++k) { /* little-endian byte order */
        unsigned byte = (bits >> (8 * k)) & 0xff;
        chunk[2 * k] = hex[byte >> 4];
        chunk[2 * k + 1] = hex[byte & 15];
      }
      qoBufAppendN(b, chunk, (size_t)(2 * bytes));
    }
    qoBufAppend(b, "\"");
  }
  qoBufAppend(b, "> : ");
  qoPrintType(b, qoType(imp, id));
  qoBufAppend(b, "}> : () -> ");
  qoPrintType(b, qoType(imp, id));
  printLoc(imp);
  return id;
}

int qoEmitConstInt(qoImporter *imp, const char *elemName, int rank,
                   const int64_t *dims, const int64_t *data) {
  return emitInt(imp, elemName, rank, dims, data, 0);
}

int qoEmitSplatInt(qoImporter *imp, const char *elemName, int rank,
                   const int64_t *dims, int64_t v) {
  return emitInt(imp, elemName, rank, dims, &v, 1);
}

/* `%vN = "tosa.const"() <{values = <attr> : T}> : () -> T` for f32 data;
 * `isSplat`: data holds one value for every element. */
static int emitF32(qoImporter *imp, int rank, const int64_t *dims,
                   const float *data, int isSplat) {
  int64_t n = qoNumElements(rank, dims);
  if (n <= 0)
    return qoUnsupported(imp, "unsupported: empty tensor constant");
  if (spendConst(imp, isSplat ? 1 : n) < 0)
    return -1;
  int id = qoNewSsa(imp, 'f', rank, dims);
  if (id < 0)
    return -1;
  qoBuf *b = &imp->body;
  qoBufPrintf(b, "    %%v%d = \"tosa.const\"() <{values = dense<", id);
  int splat = 1;
  for (int64_t i = 1; i < n && splat && !isSplat; ++i)
    splat = memcmp(&data[i], &data[0], 4) == 0;
  static const char hex[] = "0123456789ABCDEF";
  if (splat) {
    uint32_t bits;
    memcpy(&bits, &data[0], 4);
    qoBufPrintf(b, "0x%08X", (unsigned)bits);
  } else {
    qoBufAppend(b, "\"0x");
    char chunk[512];
    size_t c = 0;
    for (int64_t i = 0; i < n; ++i) {
      uint32_t bits;
      memcpy(&bits, &data[i], 4);
      for (int k = 0; k < 4; ++k) { /* little-endian byte order */
        unsigned byte = (bits >> (8 * k)) & 0xff;
        chunk[c++] = hex[byte >> 4];
        chunk[c++] = hex[byte & 15];
      }
      if (c + 8 > sizeof chunk) {
        qoBufAppendN(b, chunk, c);
        c = 0;
      }
    }
    qoBufAppendN(b, chunk, c);
    qoBufAppend(b, "\"");
  }
  qoBufAppend(b, "> : ");
  qoPrintType(b, qoType(imp, id));
  qoBufAppend(b, "}> : () -> ");
  qoPrintType(b, qoType(imp, id));
  printLoc(imp);
  return id;
}

int qoEmitConstF32(qoImporter *imp, int rank, const int64_t *dims,
                   const float *data) {
  return emitF32(imp, rank, dims, data, 0);
}

int qoEmitSplatF32(qoImporter *imp, int rank, const int64_t *dims, float v) {
  return emitF32(imp, rank, dims, &v, 1);
}

int qoEmitConstShape(qoImporter *imp, int n, const int64_t *vals) {
  int id = qoNewSsa(imp, 's', n, NULL);
  if (id < 0)
    return -1;
  qoBuf *b = &imp->body;
  qoBufPrintf(b, "    %%v%d = \"tosa.const_shape\"() <{values = dense<", id);
  if (n > 0) {
    qoBufAppend(b, "[");
    for (int i = 0; i < n; ++i)
      qoBufPrintf(b, "%s%lld", i ? ", " : "", (long long)vals[i]);
    qoBufAppend(b, "]");
  }
  qoBufPrintf(b, "> : tensor<%dxindex>}> : () -> !tosa.shape<%d>", n, n);
  printLoc(imp);
  return id;
}

int qoZeroPoint(qoImporter *imp) {
  if (imp->zpSsa < 0) {
    int64_t one = 1;
    imp->zpSsa = qoEmitSplatF32(imp, 1, &one, 0.0f);
  }
  return imp->zpSsa;
}

int qoShift(qoImporter *imp) {
  if (imp->shiftSsa < 0) {
    int64_t one = 1;
    int id = qoNewSsa(imp, 'b', 1, &one);
    if (id < 0)
      return -1;
    qoBufPrintf(&imp->body,
                "    %%v%d = \"tosa.const\"() <{values = dense<0> : "
                "tensor<1xi8>}> : () -> tensor<1xi8>",
                id);
    printLoc(imp);
    imp->shiftSsa = id;
  }
  return imp->shiftSsa;
}

int qoEmitTranspose(qoImporter *imp, int in, const int *perm) {
  if (in < 0)
    return -1;
  const qoSsaType *t = qoType(imp, in);
  int rank = t->rank;
  int64_t dims[QO_MAX_RANK];
  int identity = 1;
  char props[128] = "perms = array<i32";
  size_t len = strlen(props);
  for (int i = 0; i < rank; ++i) {
    dims[i] = t->dims[perm[i]];
    identity &= perm[i] == i;
    len += (size_t)snprintf(props + len, sizeof props - len, "%s %d",
                            i ? "," : ":", perm[i]);
  }
  snprintf(props + len, sizeof props - len, ">");
  if (identity)
    return in;
  return emitLike(imp, "tosa.transpose", 1, &in, props, rank, dims);
}

int qoEmitReshape(qoImporter *imp, int in, int rank, const int64_t *dims) {
  if (in < 0)
    return -1;
  const qoSsaType *t = qoType(imp, in);
  if (t->rank == rank &&
      (rank == 0 || memcmp(t->dims, dims, (size_t)rank * sizeof *dims) == 0))
    return in;
  if (qoNumElements(t->rank, t->dims) != qoNumElements(rank, dims))
    return qoFail(imp, "internal: reshape changes the element count");
  int ops[2] = {in, qoEmitConstShape(imp, rank, dims)};
  return emitLike(imp, "tosa.reshape", 2, ops, NULL, rank, dims);
}

int qoEmitSlice(qoImporter *imp, int in, const int64_t *start,
                const int64_t *size) {
  if (in < 0)
    return -1;
  int rank = qoType(imp, in)->rank;
  int same = 1;
  for (int i = 0; i < rank; ++i)
    same &= start[i] == 0 && size[i] == qoType(imp, in)->dims[i];
  if (same)
    return in;
  int ops[3] = {in, qoEmitConstShape(imp, rank, start),
                qoEmitConstShape(imp, rank, size)};
  return emitLike(imp, "tosa.slice", 3, ops, NULL, rank, size);
}

int qoEmitClamp(qoImporter *imp, int in, float lo, float hi) {
  if (in < 0)
    return -1;
  qoBuf p = {0};
  qoBufAppend(&p, "min_val = ");
  qoPrintFloat(&p, lo);
  qoBufAppend(&p, " : f32, max_val = ");
  qoPrintFloat(&p, hi);
  qoBufAppend(&p, " : f32");
  if (p.failed) {
    qoBufFree(&p);
    return qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
  }
  const qoSsaType *t = qoType(imp, in);
  int64_t dims[QO_MAX_RANK];
  int rank = t->rank;
  memcpy(dims, t->dims, sizeof dims);
  int id = qoEmit(imp, "tosa.clamp", 1, &in, p.data, rank, dims);
  qoBufFree(&p);
  return id;
}

/* Broadcast result shape of two equal-rank SSA values. */
static int broadcastOf(qoImporter *imp, int a, int b, int64_t *dims) {
  const qoSsaType *ta = qoType(imp, a), *tb = qoType(imp, b);
  if (ta->rank != tb->rank)
    return qoFail(imp, "internal: elementwise operands of different rank");
  for (int i = 0; i < ta->rank; ++i) {
    int64_t x = ta->dims[i], y = tb->dims[i];
    if (x != y && x != 1 && y != 1)
      return qoFail(imp, "incompatible broadcast dims %lld and %lld",
                    (long long)x, (long long)y);
    dims[i] = x == 1 ? y : x;
  }
  return ta->rank;
}

int qoEmitBinary(qoImporter *imp, const char *op, int a, int b) {
  if (a < 0 || b < 0)
    return -1;
  int64_t dims[QO_MAX_RANK];
  int rank = broadcastOf(imp, a, b, dims);
  if (rank < 0)
    return -1;
  int ops[2] = {a, b};
  return qoEmit(imp, op, 2, ops, NULL, rank, dims);
}

int qoEmitMul(qoImporter *imp, int a, int b) {
  if (a < 0 || b < 0)
    return -1;
  int64_t dims[QO_MAX_RANK];
  int rank = broadcastOf(imp, a, b, dims);
  if (rank < 0)
    return -1;
  int ops[3] = {a, b, qoShift(imp)};
  return qoEmit(imp, "tosa.mul", 3, ops, NULL, rank, dims);
}

int qoEmitUnary(qoImporter *imp, const char *op, int a) {
  if (a < 0)
    return -1;
  int64_t dims[QO_MAX_RANK];
  const qoSsaType *t = qoType(imp, a);
  int rank = t->rank;
  memcpy(dims, t->dims, sizeof dims);
  return qoEmit(imp, op, 1, &a, NULL, rank, dims);
}
