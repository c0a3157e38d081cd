/* quant-lower-fake-quant: Q-DQ pairs -> exact float simulation of int8.
 *
 *   %q = quant.qcast %x : tensor<..xf32> to tensor<..x!quant.uniform<u8:f32, s:z>>
 *   %d = quant.dcast %q
 * becomes, elementwise (the semantics of ONNX QuantizeLinear/DequantizeLinear
 * and TOSA: divide, round half to even, add the zero point, saturate):
 *   %d = (clamp(roundeven(%x / s) + z, qmin, qmax) - z) * s
 * with arith/math ops on tensors. A pair on a constant (the weights) is
 * evaluated here, per axis where the type is per-axis, and replaced by a new
 * constant. Upstream --lower-quant-ops truncates and wraps; this pass does
 * not. A point without calibrated parameters (qo.uncalibrated) is an error.
 * This is how a Q-DQ model runs on the float path, so the accuracy of a
 * quantization scheme is measurable before integer lowering. */
#include "passes/PassDef.h"
#include "passes/QuantUtils.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Quantize-dequantize one value exactly as the generated code does (f32). */
static float fakeQuant(float x, float scale, float zp, float qmin, float qmax) {
  float q = nearbyintf(x / scale) + zp; /* default rounding mode: ties to even */
  q = fminf(fmaxf(q, qmin), qmax);
  return (q - zp) * scale;
}

static MlirValue splat(MlirOperation before, MlirLocation loc, MlirType t, float v) {
  MlirAttribute a = mlirDenseElementsAttrFloatSplatGet(t, v);
  MlirNamedAttribute na = mlirNamedAttributeGet(
      mlirIdentifierGet(mlirLocationGetContext(loc), qoStr("value")), a);
  MlirOperation op = qoCreateOpBefore(before, "arith.constant", loc, 0, NULL, 1, &t, 1, &na);
  return mlirOperationGetResult(op, 0);
}

static MlirValue arith(MlirOperation before, MlirLocation loc, const char *name, MlirValue a,
                       MlirValue b, MlirType t) {
  MlirValue ops[2] = {a, b};
  return mlirOperationGetResult(qoCreateOpBefore(before, name, loc, b.ptr ? 2 : 1, ops, 1, &t, 0, NULL), 0);
}

static int lowerPair(MlirOperation q) {
  MlirLocation loc = mlirOperationGetLocation(q);
  MlirOperation d = qoDCastOf(q);
  if (mlirOperationIsNull(d)) {
    mlirEmitError(loc, "quant.qcast must feed exactly one quant.dcast to be simulated in float");
    return -1;
  }
  if (!mlirAttributeIsNull(mlirOperationGetAttributeByName(q, qoStr("qo.uncalibrated")))) {
    char msg[600], name[256] = "";
    MlirAttribute n = mlirOperationGetAttributeByName(q, qoStr("qo.name"));
    if (!mlirAttributeIsNull(n)) {
      MlirStringRef s = mlirStringAttrGetValue(n);
      snprintf(name, sizeof name, "%.*s", (int)s.length, s.data);
    }
    snprintf(msg, sizeof msg,
             "quantization point %lld ('%s') has no calibrated parameters: calibrate "
             "(quant-opt --calibrate) or apply a table (quant-apply-calibration)",
             (long long)qoGetIntAttr(q, "qo.id", -1), name);
    mlirEmitError(loc, msg);
    return -1;
  }
  MlirValue x = mlirOperationGetOperand(q, 0);
  MlirType xt = mlirValueGetType(x);
  MlirType qt = mlirShapedTypeGetElementType(mlirValueGetType(mlirOperationGetResult(q, 0)));
  float qmin = (float)mlirQuantizedTypeGetStorageTypeMin(qt);
  float qmax = (float)mlirQuantizedTypeGetStorageTypeMax(qt);
  int perAxis = mlirTypeIsAUniformQuantizedPerAxisType(qt);
  if (qoCheckQuantType(q, qt)) return -1;
  if (!perAxis && !mlirTypeIsAUniformQuantizedType(qt)) {
    mlirEmitError(loc, "only uniform (per-tensor or per-axis) quantized types can be simulated");
    return -1;
  }
  MlirValue result;
  int64_t n;
  double *vals = qoGetConstDoubles(x, &n);
  if (vals) {
    int rank = (int)mlirShapedTypeGetRank(xt);
    int64_t dims[8], inner = 1;
    for (int i = 0; i < rank && i < 8; ++i) dims[i] = mlirShapedTypeGetDimSize(xt, i);
    int axis = perAxis ? (int)mlirUniformQuantizedPerAxisTypeGetQuantizedDimension(qt) : -1;
    for (int i = axis + 1; axis >= 0 && i < rank; ++i) inner *= dims[i];
    float *out = malloc((size_t)(n ? n : 1) * sizeof *out);
    if (!out) {
      free(vals);
      return -1;
    }
    for (int64_t i = 0; i < n; ++i) {
      int64_t c = axis >= 0 ? (i / inner) % dims[axis] : 0;
      float s = (float)(perAxis ? mlirUniformQuantizedPerAxisTypeGetScale(qt, c)
                                : mlirUniformQuantizedTypeGetScale(qt));
      float z = (float)(perAxis ? mlirUniformQuantizedPerAxisTypeGetZeroPoint(qt, c)
                                : mlirUniformQuantizedTypeGetZeroPoint(qt));
      out[i] = fakeQuant((float)vals[i], s, z, qmin, qmax);
    }
    free(vals);
    result = qoTosaConstF32(d, loc, rank, dims, out);
    free(out);
  } else {
    if (perAxis) {
      mlirEmitError(loc, "per-axis quantization of a run-time tensor is not supported");
      return -1;
    }
    float s = (float)mlirUniformQuantizedTypeGetScale(qt);
    float z = (float)mlirUniformQuantizedTypeGetZeroPoint(qt);
    MlirValue none = {NULL};
    MlirValue t = arith(d, loc, "arith.divf", x, splat(d, loc, xt, s), xt);
    t = arith(d, loc, "math.roundeven", t, none, xt);
    if (z != 0) t = arith(d, loc, "arith.addf", t, splat(d, loc, xt, z), xt);
    t = arith(d, loc, "arith.maximumf", t, splat(d, loc, xt, qmin), xt);
    t = arith(d, loc, "arith.minimumf", t, splat(d, loc, xt, qmax), xt);
    if (z != 0) t = arith(d, loc, "arith.subf", t, splat(d, loc, xt, z), xt);
    result = arith(d, loc, "arith.mulf", t, splat(d, loc, xt, s), xt);
  }
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(d, 0), result);
  mlirOperationDestroy(d);
  mlirOperationDestroy(q);
  return 0;
}

static void run(MlirOperation root, MlirExternalPass pass, const char *const *values) {
  (void)values;
  qoOpList qs = {0};
  qoCollectOps(root, "quant.qcast", &qs);
  int failed = 0;
  for (size_t i = 0; i < qs.size; ++i)
    if (lowerPair(qs.ops[i])) failed = 1;
  qoOpListFree(&qs);
  if (failed) mlirExternalPassSignalFailure(pass);
}

const qoPassDef qoLowerFakeQuantPass = {
    .argument = "quant-lower-fake-quant",
    .anchor = "func.func",
    .summary = "Simulate Q-DQ pairs exactly in float (round half to even, saturate)",
    .run = run,
};
