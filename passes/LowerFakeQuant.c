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
 * quantization scheme is measurable before integer lowering.
 *
 * Imported pre-quantized models (frontend/onnx/ops_quant.c) also carry
 * integer tensors across quant.scast:
 *   %q = quant.scast %v : tensor<..xi8> to tensor<..x!q>   (then quant.dcast)
 *     -> (uitofp/sitofp(%v) - z) * s     (uitofp for u8 storage)
 *   %q = quant.qcast %x ...  %i = quant.scast %q : ... to tensor<..xi8>
 *     -> fptoui/fptosi(clamp(roundeven(%x / s) + z, qmin, qmax))
 * both per-tensor and per-axis (scales/zero points tiled to the tensor's
 * shape). Per-axis fake quantization of a run-time tensor (qcast -> dcast)
 * stays unsupported. uint8 function arguments/results reach the body through
 * tensor.bitcast ui8 <-> i8, which does not bufferize: those casts are folded
 * into the signature (same bytes, signless i8). */
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

/* Scale (which = 0) or zero point (1) of quantized type `qt` as a value of
 * float tensor type `xt`: a splat, or per-axis a [1,..,C,..,1] constant tiled
 * to the full shape. */
static MlirValue param(MlirOperation before, MlirLocation loc, MlirType xt, MlirType qt,
                       int which) {
  if (!mlirTypeIsAUniformQuantizedPerAxisType(qt))
    return splat(before, loc, xt,
                 (float)(which ? mlirUniformQuantizedTypeGetZeroPoint(qt)
                               : mlirUniformQuantizedTypeGetScale(qt)));
  int rank = (int)mlirShapedTypeGetRank(xt);
  int axis = (int)mlirUniformQuantizedPerAxisTypeGetQuantizedDimension(qt);
  int64_t c = mlirShapedTypeGetDimSize(xt, axis), shape[16], mult[16];
  float *v = malloc((size_t)(c > 0 ? c : 1) * sizeof *v);
  if (!v) return (MlirValue){NULL};
  for (int64_t k = 0; k < c; ++k)
    v[k] = (float)(which ? mlirUniformQuantizedPerAxisTypeGetZeroPoint(qt, k)
                         : mlirUniformQuantizedPerAxisTypeGetScale(qt, k));
  char ms[400];
  size_t len = (size_t)snprintf(ms, sizeof ms, "dense<[");
  for (int i = 0; i < rank && i < 16; ++i) {
    shape[i] = i == axis ? c : 1;
    mult[i] = i == axis ? 1 : mlirShapedTypeGetDimSize(xt, i);
    len += (size_t)snprintf(ms + len, sizeof ms - len, "%s%lld", i ? ", " : "",
                            (long long)mult[i]);
  }
  snprintf(ms + len, sizeof ms - len, "]> : tensor<%dxindex>", rank);
  MlirValue cst = qoTosaConstF32(before, loc, rank, shape, v);
  free(v);
  MlirContext ctx = mlirLocationGetContext(loc);
  char st[40];
  snprintf(st, sizeof st, "!tosa.shape<%d>", rank);
  MlirType shapeT = mlirTypeParseGet(ctx, qoStr(st));
  MlirNamedAttribute na = mlirNamedAttributeGet(mlirIdentifierGet(ctx, qoStr("values")),
                                                mlirAttributeParseGet(ctx, qoStr(ms)));
  MlirValue m = mlirOperationGetResult(
      qoCreateOpBefore(before, "tosa.const_shape", loc, 0, NULL, 1, &shapeT, 1, &na), 0);
  MlirValue ops[2] = {cst, m};
  return mlirOperationGetResult(qoCreateOpBefore(before, "tosa.tile", loc, 2, ops, 1, &xt, 0, NULL),
                                0);
}

static int isUnsignedStorage(MlirType qt) {
  return !(mlirQuantizedTypeGetFlags(qt) & mlirQuantizedTypeGetSignedFlag());
}

/* clamp(roundeven(x / s) + z, qmin, qmax) in float, before `before`. */
static MlirValue quantizeF(MlirOperation before, MlirLocation loc, MlirValue x, MlirType qt) {
  MlirType xt = mlirValueGetType(x);
  int perAxis = mlirTypeIsAUniformQuantizedPerAxisType(qt);
  float z = perAxis ? 1.0f : (float)mlirUniformQuantizedTypeGetZeroPoint(qt);
  MlirValue none = {NULL};
  MlirValue t = arith(before, loc, "arith.divf", x, param(before, loc, xt, qt, 0), xt);
  t = arith(before, loc, "math.roundeven", t, none, xt);
  if (z != 0) t = arith(before, loc, "arith.addf", t, param(before, loc, xt, qt, 1), xt);
  t = arith(before, loc, "arith.maximumf", t,
            splat(before, loc, xt, (float)mlirQuantizedTypeGetStorageTypeMin(qt)), xt);
  return arith(before, loc, "arith.minimumf", t,
               splat(before, loc, xt, (float)mlirQuantizedTypeGetStorageTypeMax(qt)), xt);
}

/* (q - z) * s for float-valued integers `q`. */
static MlirValue dequantizeF(MlirOperation before, MlirLocation loc, MlirValue q, MlirType qt) {
  MlirType xt = mlirValueGetType(q);
  int perAxis = mlirTypeIsAUniformQuantizedPerAxisType(qt);
  float z = perAxis ? 1.0f : (float)mlirUniformQuantizedTypeGetZeroPoint(qt);
  if (z != 0) q = arith(before, loc, "arith.subf", q, param(before, loc, xt, qt, 1), xt);
  return arith(before, loc, "arith.mulf", q, param(before, loc, xt, qt, 0), xt);
}

static void replaceAndErase(MlirOperation user, MlirValue v) {
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(user, 0), v);
  mlirOperationDestroy(user);
}

/* Integers of the constant `vals` quantized with `qt` as a tosa.const of the
 * scast result type `it`. */
static MlirValue quantizeConst(MlirOperation before, MlirLocation loc, MlirType xt, MlirType qt,
                               MlirType it, const double *vals, int64_t n) {
  int perAxis = mlirTypeIsAUniformQuantizedPerAxisType(qt);
  int rank = (int)mlirShapedTypeGetRank(xt);
  int axis = perAxis ? (int)mlirUniformQuantizedPerAxisTypeGetQuantizedDimension(qt) : -1;
  int64_t inner = 1;
  for (int i = axis + 1; axis >= 0 && i < rank; ++i) inner *= mlirShapedTypeGetDimSize(xt, i);
  int64_t dim = axis >= 0 ? mlirShapedTypeGetDimSize(xt, axis) : 1;
  float qmin = (float)mlirQuantizedTypeGetStorageTypeMin(qt);
  float qmax = (float)mlirQuantizedTypeGetStorageTypeMax(qt);
  int8_t *q = malloc((size_t)(n ? n : 1));
  if (!q) return (MlirValue){NULL};
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = axis >= 0 ? (i / inner) % dim : 0;
    float s = (float)(perAxis ? mlirUniformQuantizedPerAxisTypeGetScale(qt, c)
                              : mlirUniformQuantizedTypeGetScale(qt));
    float z = (float)(perAxis ? mlirUniformQuantizedPerAxisTypeGetZeroPoint(qt, c)
                              : mlirUniformQuantizedTypeGetZeroPoint(qt));
    float v = fminf(fmaxf(nearbyintf((float)vals[i] / s) + z, qmin), qmax);
    q[i] = (int8_t)(int)v; /* u8 storage: the same bits */
  }
  MlirAttribute a = mlirDenseElementsAttrInt8Get(it, n, q);
  free(q);
  MlirNamedAttribute na = mlirNamedAttributeGet(
      mlirIdentifierGet(mlirLocationGetContext(loc), qoStr("values")), a);
  return mlirOperationGetResult(qoCreateOpBefore(before, "tosa.const", loc, 0, NULL, 1, &it, 1, &na),
                                0);
}

static int lowerPair(MlirOperation q) {
  MlirLocation loc = mlirOperationGetLocation(q);
  MlirValue qr = mlirOperationGetResult(q, 0);
  int nUsers = 0, allKnown = 1;
  for (MlirOpOperand u = mlirValueGetFirstUse(qr); !mlirOpOperandIsNull(u);
       u = mlirOpOperandGetNextUse(u)) {
    MlirOperation o = mlirOpOperandGetOwner(u);
    ++nUsers;
    allKnown &= qoOpIs(o, "quant.dcast") ||
                (qoOpIs(o, "quant.scast") &&
                 mlirTypeIsAInteger(mlirShapedTypeGetElementType(
                     mlirValueGetType(mlirOperationGetResult(o, 0)))) &&
                 mlirIntegerTypeGetWidth(mlirShapedTypeGetElementType(
                     mlirValueGetType(mlirOperationGetResult(o, 0)))) == 8);
  }
  if (!nUsers || !allKnown) {
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
  MlirType qt = mlirShapedTypeGetElementType(mlirValueGetType(qr));
  float qmin = (float)mlirQuantizedTypeGetStorageTypeMin(qt);
  float qmax = (float)mlirQuantizedTypeGetStorageTypeMax(qt);
  int perAxis = mlirTypeIsAUniformQuantizedPerAxisType(qt);
  if (qoCheckQuantType(q, qt)) return -1;
  if (!perAxis && !mlirTypeIsAUniformQuantizedType(qt)) {
    mlirEmitError(loc, "only uniform (per-tensor or per-axis) quantized types can be simulated");
    return -1;
  }
  int64_t n;
  double *vals = qoGetConstDoubles(x, &n);
  int rc = 0;
  while (rc == 0) {
    MlirOpOperand u = mlirValueGetFirstUse(qr);
    if (mlirOpOperandIsNull(u)) break;
    MlirOperation d = mlirOpOperandGetOwner(u);
    MlirValue result = {NULL};
    if (qoOpIs(d, "quant.scast")) { /* quantize to the integer storage */
      MlirType it = mlirValueGetType(mlirOperationGetResult(d, 0));
      if (vals) {
        result = quantizeConst(d, loc, xt, qt, it, vals, n);
      } else {
        MlirValue none = {NULL};
        result = arith(d, loc, isUnsignedStorage(qt) ? "arith.fptoui" : "arith.fptosi",
                       quantizeF(d, loc, x, qt), none, it);
      }
    } else if (vals) { /* a pair on a constant: the weights */
      int rank = (int)mlirShapedTypeGetRank(xt);
      int64_t dims[8], inner = 1;
      for (int i = 0; i < rank && i < 8; ++i) dims[i] = mlirShapedTypeGetDimSize(xt, i);
      int axis = perAxis ? (int)mlirUniformQuantizedPerAxisTypeGetQuantizedDimension(qt) : -1;
      for (int i = axis + 1; axis >= 0 && i < rank; ++i) inner *= dims[i];
      float *out = malloc((size_t)(n ? n : 1) * sizeof *out);
      if (!out) {
        rc = -1;
        break;
      }
      for (int64_t i = 0; i < n; ++i) {
        int64_t c = axis >= 0 ? (i / inner) % dims[axis] : 0;
        float s = (float)(perAxis ? mlirUniformQuantizedPerAxisTypeGetScale(qt, c)
                                  : mlirUniformQuantizedTypeGetScale(qt));
        float z = (float)(perAxis ? mlirUniformQuantizedPerAxisTypeGetZeroPoint(qt, c)
                                  : mlirUniformQuantizedTypeGetZeroPoint(qt));
        out[i] = fakeQuant((float)vals[i], s, z, qmin, qmax);
      }
      result = qoTosaConstF32(d, loc, rank, dims, out);
      free(out);
    } else {
      if (perAxis) {
        mlirEmitError(loc, "per-axis quantization of a run-time tensor is not supported");
        rc = -1;
        break;
      }
      result = dequantizeF(d, loc, quantizeF(d, loc, x, qt), qt);
    }
    if (!result.ptr) {
      rc = -1;
      break;
    }
    replaceAndErase(d, result);
  }
  free(vals);
  if (rc == 0) mlirOperationDestroy(q);
  return rc;
}

/* quant.scast from an integer tensor: each user is a quant.dcast
 * (dequantize) or a quant.scast back to the integer type. */
static int lowerStorageCast(MlirOperation sc) {
  MlirLocation loc = mlirOperationGetLocation(sc);
  MlirValue v = mlirOperationGetOperand(sc, 0);
  MlirValue r = mlirOperationGetResult(sc, 0);
  MlirType vt = mlirValueGetType(v);
  MlirType qt = mlirShapedTypeGetElementType(mlirValueGetType(r));
  if (!mlirTypeIsAUniformQuantizedPerAxisType(qt) && !mlirTypeIsAUniformQuantizedType(qt)) {
    mlirEmitError(loc, "only uniform (per-tensor or per-axis) quantized types can be simulated");
    return -1;
  }
  for (MlirOpOperand u = mlirValueGetFirstUse(r); !mlirOpOperandIsNull(u);
       u = mlirOpOperandGetNextUse(u)) {
    MlirOperation o = mlirOpOperandGetOwner(u);
    if (!qoOpIs(o, "quant.dcast") &&
        !(qoOpIs(o, "quant.scast") &&
          mlirTypeEqual(mlirValueGetType(mlirOperationGetResult(o, 0)), vt))) {
      mlirEmitError(loc, "quant.scast to a quantized type must feed quant.dcast to be "
                         "simulated in float");
      return -1;
    }
  }
  MlirContext ctx = mlirLocationGetContext(loc);
  while (1) {
    MlirOpOperand u = mlirValueGetFirstUse(r);
    if (mlirOpOperandIsNull(u)) break;
    MlirOperation o = mlirOpOperandGetOwner(u);
    if (qoOpIs(o, "quant.scast")) {
      replaceAndErase(o, v);
      continue;
    }
    MlirType ft = qoTensorWithElement(vt, mlirF32TypeGet(ctx));
    MlirValue none = {NULL};
    MlirValue f = arith(o, loc, isUnsignedStorage(qt) ? "arith.uitofp" : "arith.sitofp", v,
                        none, ft);
    replaceAndErase(o, dequantizeF(o, loc, f, qt));
  }
  mlirOperationDestroy(sc);
  return 0;
}

/* tensor.bitcast ui8 <-> i8 at the function boundary -> signless i8 in the
 * signature (the bytes are the same). */
static void foldBoundaryBitcasts(MlirOperation func) {
  if (!qoOpIs(func, "func.func")) return;
  MlirBlock entry = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  if (mlirBlockIsNull(entry)) return;
  qoOpList bcs = {0};
  qoCollectOps(func, "tensor.bitcast", &bcs);
  int changed = 0;
  for (size_t i = 0; i < bcs.size; ++i) {
    MlirOperation b = bcs.ops[i];
    MlirValue in = mlirOperationGetOperand(b, 0), out = mlirOperationGetResult(b, 0);
    MlirType it = mlirShapedTypeGetElementType(mlirValueGetType(in));
    MlirType ot = mlirShapedTypeGetElementType(mlirValueGetType(out));
    if (!mlirTypeIsAInteger(it) || !mlirTypeIsAInteger(ot)) continue;
    if (mlirBlockArgumentGetOwner(in).ptr == entry.ptr && mlirValueIsABlockArgument(in) &&
        mlirIntegerTypeIsUnsigned(it) && mlirIntegerTypeIsSignless(ot)) {
      mlirValueSetType(in, mlirValueGetType(out));
      replaceAndErase(b, in);
      changed = 1;
      continue;
    }
    MlirOpOperand u = mlirValueGetFirstUse(out);
    if (mlirIntegerTypeIsSignless(it) && mlirIntegerTypeIsUnsigned(ot) && !mlirOpOperandIsNull(u) &&
        mlirOpOperandIsNull(mlirOpOperandGetNextUse(u)) &&
        qoOpIs(mlirOpOperandGetOwner(u), "func.return")) {
      mlirOperationSetOperand(mlirOpOperandGetOwner(u), (intptr_t)mlirOpOperandGetOperandNumber(u),
                              in);
      mlirOperationDestroy(b);
      changed = 1;
    }
  }
  qoOpListFree(&bcs);
  if (!changed) return;
  MlirType args[64], results[64];
  intptr_t na = mlirBlockGetNumArguments(entry), nr = 0;
  if (na > 64) return;
  for (intptr_t i = 0; i < na; ++i) args[i] = mlirValueGetType(mlirBlockGetArgument(entry, i));
  MlirOperation ret = mlirBlockGetTerminator(entry);
  if (mlirOperationIsNull(ret) || !qoOpIs(ret, "func.return")) return;
  nr = mlirOperationGetNumOperands(ret);
  if (nr > 64) return;
  for (intptr_t i = 0; i < nr; ++i) results[i] = mlirValueGetType(mlirOperationGetOperand(ret, i));
  MlirContext ctx = mlirOperationGetContext(func);
  mlirOperationSetAttributeByName(
      func, qoStr("function_type"),
      mlirTypeAttrGet(mlirFunctionTypeGet(ctx, na, args, nr, results)));
}

static void run(MlirOperation root, MlirExternalPass pass, const char *const *values) {
  (void)values;
  qoOpList qs = {0};
  qoCollectOps(root, "quant.qcast", &qs);
  int failed = 0;
  for (size_t i = 0; i < qs.size; ++i)
    if (lowerPair(qs.ops[i])) failed = 1;
  qoOpListFree(&qs);
  /* What is left of quant.scast: from integer storage to a quantized type. */
  qoOpList ss = {0};
  qoCollectOps(root, "quant.scast", &ss);
  for (size_t i = 0; i < ss.size && !failed; ++i) {
    MlirType src = mlirShapedTypeGetElementType(mlirValueGetType(mlirOperationGetOperand(ss.ops[i], 0)));
    if (mlirTypeIsAInteger(src) && lowerStorageCast(ss.ops[i])) failed = 1;
  }
  qoOpListFree(&ss);
  if (!failed) foldBoundaryBitcasts(root);
  if (failed) mlirExternalPassSignalFailure(pass);
}

const qoPassDef qoLowerFakeQuantPass = {
    .argument = "quant-lower-fake-quant",
    .anchor = "func.func",
    .summary = "Simulate Q-DQ pairs exactly in float (round half to even, saturate)",
    .run = run,
};
