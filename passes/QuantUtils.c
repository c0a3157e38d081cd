/* Quantization-point helpers shared by the quantization passes. */
#include "passes/QuantUtils.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int qoOpIs(MlirOperation op, const char *name) {
  if (mlirOperationIsNull(op)) return 0;
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  return n.length == strlen(name) && memcmp(n.data, name, n.length) == 0;
}

MlirOperation qoDefiningOp(MlirValue v) {
  if (mlirValueIsAOpResult(v)) return mlirOpResultGetOwner(v);
  return (MlirOperation){NULL};
}

int qoIsConstant(MlirValue v) {
  MlirOperation d = qoDefiningOp(v);
  return qoOpIs(d, "tosa.const") || qoOpIs(d, "arith.constant");
}

void qoValueName(MlirValue v, char *buf, size_t n) {
  buf[0] = 0;
  if (mlirValueIsABlockArgument(v)) {
    snprintf(buf, n, "arg%lld", (long long)mlirBlockArgumentGetArgNumber(v));
    return;
  }
  MlirLocation loc = mlirOperationGetLocation(qoDefiningOp(v));
  while (!mlirLocationIsAName(loc) && mlirLocationIsAFused(loc)) {
    MlirLocation locs[8];
    if (mlirLocationFusedGetNumLocations(loc) < 1 || mlirLocationFusedGetNumLocations(loc) > 8) break;
    mlirLocationFusedGetLocations(loc, locs);
    loc = locs[0];
  }
  if (mlirLocationIsAName(loc)) {
    MlirStringRef s = mlirIdentifierStr(mlirLocationNameGetName(loc));
    snprintf(buf, n, "%.*s", (int)s.length, s.data);
  } else if (mlirLocationIsAFileLineColRange(loc)) {
    MlirStringRef f = mlirIdentifierStr(mlirLocationFileLineColRangeGetFilename(loc));
    const char *base = f.data;
    for (size_t i = 0; i < f.length; ++i)
      if (f.data[i] == '/') base = f.data + i + 1;
    snprintf(buf, n, "%.*s:%d:%d", (int)(f.data + f.length - base), base,
             mlirLocationFileLineColRangeGetStartLine(loc),
             mlirLocationFileLineColRangeGetStartColumn(loc));
  }
}

MlirType qoTensorWithElement(MlirType t, MlirType elem) {
  intptr_t rank = mlirShapedTypeGetRank(t);
  int64_t dims[16];
  for (intptr_t i = 0; i < rank && i < 16; ++i) dims[i] = mlirShapedTypeGetDimSize(t, i);
  return mlirRankedTensorTypeGet(rank, dims, elem, mlirAttributeGetNull());
}

MlirOperation qoInsertQDQ(MlirValue v, MlirType quantElem, MlirOpOperand onlyUse) {
  MlirType t = mlirValueGetType(v);
  MlirType qt = qoTensorWithElement(t, quantElem);
  MlirLocation loc;
  MlirBlock block;
  MlirOperation def = qoDefiningOp(v);
  if (!mlirOperationIsNull(def)) {
    loc = mlirOperationGetLocation(def);
    block = mlirOperationGetBlock(def);
  } else {
    block = mlirBlockArgumentGetOwner(v);
    loc = mlirOperationGetLocation(mlirBlockGetParentOperation(block));
  }
  MlirOperationState qs = mlirOperationStateGet(qoStr("quant.qcast"), loc);
  mlirOperationStateAddOperands(&qs, 1, &v);
  mlirOperationStateAddResults(&qs, 1, &qt);
  MlirOperation q = mlirOperationCreate(&qs);
  MlirValue qv = mlirOperationGetResult(q, 0);
  MlirOperationState ds = mlirOperationStateGet(qoStr("quant.dcast"), loc);
  mlirOperationStateAddOperands(&ds, 1, &qv);
  mlirOperationStateAddResults(&ds, 1, &t);
  MlirOperation d = mlirOperationCreate(&ds);
  if (!mlirOperationIsNull(def)) {
    mlirBlockInsertOwnedOperationAfter(block, def, q);
  } else {
    MlirOperation first = mlirBlockGetFirstOperation(block);
    mlirBlockInsertOwnedOperationBefore(block, first, q);
  }
  mlirBlockInsertOwnedOperationAfter(block, q, d);
  MlirValue dv = mlirOperationGetResult(d, 0);
  if (!mlirOpOperandIsNull(onlyUse)) {
    mlirOperationSetOperand(mlirOpOperandGetOwner(onlyUse),
                            mlirOpOperandGetOperandNumber(onlyUse), dv);
  } else {
    mlirValueReplaceAllUsesExcept(v, dv, 1, &q);
  }
  return q;
}

MlirOperation qoDCastOf(MlirOperation q) {
  MlirValue r = mlirOperationGetResult(q, 0);
  MlirOpOperand u = mlirValueGetFirstUse(r);
  if (mlirOpOperandIsNull(u) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(u)))
    return (MlirOperation){NULL};
  MlirOperation d = mlirOpOperandGetOwner(u);
  return qoOpIs(d, "quant.dcast") ? d : (MlirOperation){NULL};
}

int qoCheckQuantType(MlirOperation op, MlirType qt) {
  int perAxis = mlirTypeIsAUniformQuantizedPerAxisType(qt);
  if (!perAxis && !mlirTypeIsAUniformQuantizedType(qt)) return 0;
  int64_t lo = mlirQuantizedTypeGetStorageTypeMin(qt), hi = mlirQuantizedTypeGetStorageTypeMax(qt);
  intptr_t n = perAxis ? mlirUniformQuantizedPerAxisTypeGetNumDims(qt) : 1;
  for (intptr_t i = 0; i < n; ++i) {
    double s = perAxis ? mlirUniformQuantizedPerAxisTypeGetScale(qt, i) : mlirUniformQuantizedTypeGetScale(qt);
    int64_t z = perAxis ? mlirUniformQuantizedPerAxisTypeGetZeroPoint(qt, i) : mlirUniformQuantizedTypeGetZeroPoint(qt);
    char msg[256];
    if (!(s > 0) || !isfinite(s)) {
      snprintf(msg, sizeof msg, "quantized type has a non-positive or non-finite scale %g%s", s,
               perAxis ? " (per-axis)" : "");
      mlirEmitError(mlirOperationGetLocation(op), msg);
      return -1;
    }
    if (z < lo || z > hi) {
      snprintf(msg, sizeof msg, "zero point %lld is outside the storage range [%lld, %lld]", (long long)z,
               (long long)lo, (long long)hi);
      mlirEmitError(mlirOperationGetLocation(op), msg);
      return -1;
    }
  }
  return 0;
}
