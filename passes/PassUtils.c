/* Helpers shared by quant-opt's passes (see PassUtils.h). */
#include "passes/PassUtils.h"
#include "passes/ContextConfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  qoOpList *out;
} CollectState;

static MlirWalkResult collectCb(MlirOperation op, void *ud) {
  CollectState *s = ud;
  MlirIdentifier id = mlirOperationGetName(op);
  MlirStringRef n = mlirIdentifierStr(id);
  if (n.length == strlen(s->name) && memcmp(n.data, s->name, n.length) == 0) {
    qoOpList *l = s->out;
    if (l->size == l->capacity) {
      size_t nc = l->capacity ? 2 * l->capacity : 16;
      MlirOperation *p = realloc(l->ops, nc * sizeof *p);
      if (!p) return MlirWalkResultInterrupt;
      l->ops = p;
      l->capacity = nc;
    }
    l->ops[l->size++] = op;
  }
  return MlirWalkResultAdvance;
}

void qoCollectOps(MlirOperation root, const char *name, qoOpList *out) {
  CollectState s = {name, out};
  mlirOperationWalk(root, collectCb, &s, MlirWalkPostOrder);
}

void qoOpListFree(qoOpList *list) {
  free(list->ops);
  list->ops = NULL;
  list->size = list->capacity = 0;
}

MlirOperation qoCreateOpBefore(MlirOperation before, const char *name,
                               MlirLocation loc, intptr_t nOperands,
                               const MlirValue *operands, intptr_t nResults,
                               const MlirType *results, intptr_t nAttrs,
                               const MlirNamedAttribute *attrs) {
  MlirOperationState st = mlirOperationStateGet(qoStr(name), loc);
  if (nOperands) mlirOperationStateAddOperands(&st, nOperands, operands);
  if (nResults) mlirOperationStateAddResults(&st, nResults, results);
  if (nAttrs) mlirOperationStateAddAttributes(&st, nAttrs, attrs);
  MlirOperation op = mlirOperationCreate(&st);
  MlirBlock block = mlirOperationGetBlock(before);
  mlirBlockInsertOwnedOperationBefore(block, before, op);
  return op;
}

MlirNamedAttribute qoNamedAttr(MlirContext ctx, const char *n, MlirAttribute a) {
  return mlirNamedAttributeGet(mlirIdentifierGet(ctx, qoStr(n)), a);
}

MlirValue qoTosaConstF32(MlirOperation before, MlirLocation loc, int rank,
                         const int64_t *shape, const float *values) {
  MlirContext ctx = mlirLocationGetContext(loc);
  MlirType t = mlirRankedTensorTypeGet(rank, shape, mlirF32TypeGet(ctx),
                                       mlirAttributeGetNull());
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) n *= shape[i];
  MlirAttribute a = mlirDenseElementsAttrFloatGet(t, n, values);
  MlirNamedAttribute na = qoNamedAttr(ctx, "values", a);
  MlirOperation op = qoCreateOpBefore(before, "tosa.const", loc, 0, NULL, 1, &t, 1, &na);
  return mlirOperationGetResult(op, 0);
}

MlirValue qoTosaZeroShift(MlirOperation before, MlirLocation loc) {
  MlirContext ctx = mlirLocationGetContext(loc);
  int64_t one = 1;
  MlirType t = mlirRankedTensorTypeGet(1, &one, mlirIntegerTypeGet(ctx, 8),
                                       mlirAttributeGetNull());
  int8_t z = 0;
  MlirAttribute a = mlirDenseElementsAttrInt8Get(t, 1, &z);
  MlirNamedAttribute na = qoNamedAttr(ctx, "values", a);
  MlirOperation op = qoCreateOpBefore(before, "tosa.const", loc, 0, NULL, 1, &t, 1, &na);
  return mlirOperationGetResult(op, 0);
}

MlirValue qoTosaReshape(MlirOperation before, MlirLocation loc, MlirValue v,
                        int rank, const int64_t *shape) {
  MlirContext ctx = mlirLocationGetContext(loc);
  char buf[256];
  int n = snprintf(buf, sizeof buf, "dense<[");
  for (int i = 0; i < rank; ++i)
    n += snprintf(buf + n, sizeof buf - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
  snprintf(buf + n, sizeof buf - n, "]> : tensor<%dxindex>", rank);
  MlirAttribute sa = mlirAttributeParseGet(ctx, qoStr(buf));
  snprintf(buf, sizeof buf, "!tosa.shape<%d>", rank);
  MlirType st = mlirTypeParseGet(ctx, qoStr(buf));
  MlirNamedAttribute na = qoNamedAttr(ctx, "values", sa);
  MlirOperation shapeOp =
      qoCreateOpBefore(before, "tosa.const_shape", loc, 0, NULL, 1, &st, 1, &na);
  MlirType et = mlirShapedTypeGetElementType(mlirValueGetType(v));
  MlirType rt = mlirRankedTensorTypeGet(rank, shape, et, mlirAttributeGetNull());
  MlirValue ops[2] = {v, mlirOperationGetResult(shapeOp, 0)};
  MlirOperation r = qoCreateOpBefore(before, "tosa.reshape", loc, 2, ops, 1, &rt, 0, NULL);
  return mlirOperationGetResult(r, 0);
}

MlirValue qoTosaBinary(MlirOperation before, MlirLocation loc, const char *name,
                       MlirValue a, MlirValue b, MlirType resultType) {
  MlirValue ops[3] = {a, b, {0}};
  intptr_t n = 2;
  if (strcmp(name, "tosa.mul") == 0) ops[n++] = qoTosaZeroShift(before, loc);
  MlirOperation op = qoCreateOpBefore(before, name, loc, n, ops, 1, &resultType, 0, NULL);
  return mlirOperationGetResult(op, 0);
}

/* The elements attribute of a tosa.const / arith.constant defining v, or null. */
static MlirAttribute constValues(MlirValue v) {
  MlirAttribute none = {NULL};
  if (!mlirValueIsAOpResult(v)) return none;
  MlirOperation def = mlirOpResultGetOwner(v);
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(def));
  if (name.length == 10 && memcmp(name.data, "tosa.const", 10) == 0)
    return mlirOperationGetAttributeByName(def, qoStr("values"));
  if (name.length == 14 && memcmp(name.data, "arith.constant", 14) == 0)
    return mlirOperationGetAttributeByName(def, qoStr("value"));
  return none;
}

double *qoGetConstDoubles(MlirValue v, int64_t *n) {
  MlirAttribute a = constValues(v);
  if (mlirAttributeIsNull(a) || !mlirAttributeIsADenseFPElements(a)) return NULL;
  int64_t count = mlirElementsAttrGetNumElements(a);
  double *out = malloc((size_t)(count ? count : 1) * sizeof *out);
  if (!out) return NULL;
  bool splat = mlirDenseElementsAttrIsSplat(a);
  MlirType et = mlirShapedTypeGetElementType(mlirAttributeGetType(a));
  bool isF64 = mlirTypeIsAF64(et);
  for (int64_t i = 0; i < count; ++i) {
    intptr_t idx = splat ? 0 : (intptr_t)i;
    out[i] = isF64 ? mlirDenseElementsAttrGetDoubleValue(a, idx)
                   : (double)mlirDenseElementsAttrGetFloatValue(a, idx);
  }
  *n = count;
  return out;
}

int64_t *qoGetConstInts(MlirValue v, int64_t *n) {
  MlirAttribute a = constValues(v);
  if (mlirAttributeIsNull(a) || !mlirAttributeIsADenseIntElements(a)) return NULL;
  MlirType et = mlirShapedTypeGetElementType(mlirAttributeGetType(a));
  if (!mlirTypeIsAInteger(et)) return NULL;
  unsigned width = mlirIntegerTypeGetWidth(et);
  int64_t count = mlirElementsAttrGetNumElements(a);
  int64_t *out = malloc((size_t)(count ? count : 1) * sizeof *out);
  if (!out) return NULL;
  bool splat = mlirDenseElementsAttrIsSplat(a);
  for (int64_t i = 0; i < count; ++i) {
    intptr_t idx = splat ? 0 : (intptr_t)i;
    switch (width) {
    case 8: out[i] = mlirDenseElementsAttrGetInt8Value(a, idx); break;
    case 16: out[i] = mlirDenseElementsAttrGetInt16Value(a, idx); break;
    case 32: out[i] = mlirDenseElementsAttrGetInt32Value(a, idx); break;
    case 64: out[i] = mlirDenseElementsAttrGetInt64Value(a, idx); break;
    default: free(out); return NULL;
    }
  }
  *n = count;
  return out;
}

int64_t qoGetIntAttr(MlirOperation op, const char *name, int64_t dflt) {
  MlirAttribute a = mlirOperationGetAttributeByName(op, qoStr(name));
  if (mlirAttributeIsNull(a) || !mlirAttributeIsAInteger(a)) return dflt;
  return mlirIntegerAttrGetValueInt(a);
}

double qoGetFloatAttr(MlirOperation op, const char *name, double dflt) {
  MlirAttribute a = mlirOperationGetAttributeByName(op, qoStr(name));
  if (mlirAttributeIsNull(a) || !mlirAttributeIsAFloat(a)) return dflt;
  return mlirFloatAttrGetValueDouble(a);
}

void qoEmitRemark(MlirLocation loc, const char *message) {
  const qoContextConfig *c = qoContextConfigGet(mlirLocationGetContext(loc));
  if (c && c->remark) c->remark(loc, message, c->remarkUserData);
}

int qoModuleHasSymbol(MlirOperation module, const char *sym) {
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    MlirAttribute n = mlirOperationGetAttributeByName(op, qoStr("sym_name"));
    if (mlirAttributeIsNull(n) || !mlirAttributeIsAString(n)) continue;
    MlirStringRef s = mlirStringAttrGetValue(n);
    if (s.length == strlen(sym) && !memcmp(s.data, sym, s.length)) return 1;
  }
  return 0;
}


