/* quant-decompose-batchnorm: qo.batch_norm -> per-channel tosa.mul + tosa.add.
 *
 * Inference BatchNormalization is an affine map per channel:
 *   y = x * a + b,   a = scale / sqrt(var + eps),   b = bias - mean * a.
 *
 *   %y = "qo.batch_norm"(%x, %s, %b, %m, %v) {axis = 3, epsilon = 1e-5}
 * becomes, when the four parameters are constants (a and b computed in
 * double, rounded once to f32):
 *   %a = tosa.const dense<...> : tensor<1x1x1xCxf32>
 *   %c = tosa.const dense<...> : tensor<1x1x1xCxf32>
 *   %t = tosa.mul %x, %a, %shift
 *   %y = tosa.add %t, %c
 * and otherwise into the same computation with tosa ops (reshape, add,
 * rsqrt, mul, sub). This is the float execution path; the quantization
 * pipeline folds BN into the preceding conv instead (quant-fold-batchnorm). */
#include "passes/PassDef.h"
#include "passes/PassUtils.h"

#include <math.h>
#include <stdlib.h>

static void emitErr(MlirOperation op, const char *msg) {
  mlirEmitError(mlirOperationGetLocation(op), msg);
}

static int decompose(MlirOperation op) {
  MlirLocation loc = mlirOperationGetLocation(op);
  MlirContext ctx = mlirOperationGetContext(op);
  if (mlirOperationGetNumOperands(op) != 5 || mlirOperationGetNumResults(op) != 1) {
    emitErr(op, "qo.batch_norm expects 5 operands (input, scale, bias, mean, variance) and 1 result");
    return -1;
  }
  MlirValue x = mlirOperationGetOperand(op, 0);
  MlirType xt = mlirValueGetType(x);
  if (!mlirTypeIsARankedTensor(xt) || !mlirShapedTypeHasStaticShape(xt)) {
    emitErr(op, "qo.batch_norm input must be a statically shaped tensor");
    return -1;
  }
  int rank = (int)mlirShapedTypeGetRank(xt);
  int64_t axis = qoGetIntAttr(op, "axis", 1);
  double eps = qoGetFloatAttr(op, "epsilon", 1e-5);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank || rank > 8) {
    emitErr(op, "qo.batch_norm axis is out of range for the input rank");
    return -1;
  }
  if (!(eps >= 0) || isinf(eps)) {
    emitErr(op, "qo.batch_norm epsilon must be finite and non-negative");
    return -1;
  }
  int64_t C = mlirShapedTypeGetDimSize(xt, axis);
  int64_t bshape[8];
  for (int i = 0; i < rank; ++i) bshape[i] = (i == axis) ? C : 1;
  for (int i = 1; i < 5; ++i) {
    MlirType pt = mlirValueGetType(mlirOperationGetOperand(op, i));
    if (!mlirTypeIsARankedTensor(pt) || mlirShapedTypeGetRank(pt) != 1 ||
        mlirShapedTypeGetDimSize(pt, 0) != C) {
      emitErr(op, "qo.batch_norm parameters must be 1-D tensors with one value per channel");
      return -1;
    }
  }
  MlirType bt = mlirRankedTensorTypeGet(rank, bshape, mlirShapedTypeGetElementType(xt),
                                        mlirAttributeGetNull());
  MlirValue av, cv;
  double *p[4] = {0};
  int64_t n[4] = {0};
  int allConst = 1;
  for (int i = 0; i < 4; ++i) {
    p[i] = qoGetConstDoubles(mlirOperationGetOperand(op, i + 1), &n[i]);
    if (!p[i] || n[i] != C) allConst = 0;
  }
  if (allConst) {
    float *a = malloc((size_t)C * sizeof *a), *b = malloc((size_t)C * sizeof *b);
    if (!a || !b) {
      free(a), free(b);
      for (int i = 0; i < 4; ++i) free(p[i]);
      emitErr(op, "out of memory");
      return -1;
    }
    for (int64_t c = 0; c < C; ++c) {
      double var = p[3][c];
      if (!(var + eps > 0)) {
        free(a), free(b);
        for (int i = 0; i < 4; ++i) free(p[i]);
        emitErr(op, "qo.batch_norm has variance + epsilon <= 0 (or NaN) in a channel");
        return -1;
      }
      double s = p[0][c] / sqrt(var + eps);
      a[c] = (float)s;
      b[c] = (float)(p[1][c] - p[2][c] * s);
    }
    av = qoTosaConstF32(op, loc, rank, bshape, a);
    cv = qoTosaConstF32(op, loc, rank, bshape, b);
    free(a), free(b);
  } else {
    MlirValue r[4];
    for (int i = 0; i < 4; ++i)
      r[i] = qoTosaReshape(op, loc, mlirOperationGetOperand(op, i + 1), rank, bshape);
    float e = (float)eps;
    int64_t ones[8];
    for (int i = 0; i < rank; ++i) ones[i] = 1;
    MlirValue ev = qoTosaConstF32(op, loc, rank, ones, &e);
    MlirValue ve = qoTosaBinary(op, loc, "tosa.add", r[3], ev, bt);
    MlirOperation rs = qoCreateOpBefore(op, "tosa.rsqrt", loc, 1, &ve, 1, &bt, 0, NULL);
    av = qoTosaBinary(op, loc, "tosa.mul", r[0], mlirOperationGetResult(rs, 0), bt);
    MlirValue ma = qoTosaBinary(op, loc, "tosa.mul", r[2], av, bt);
    cv = qoTosaBinary(op, loc, "tosa.sub", r[1], ma, bt);
  }
  for (int i = 0; i < 4; ++i) free(p[i]);
  MlirValue t = qoTosaBinary(op, loc, "tosa.mul", x, av, xt);
  MlirValue y = qoTosaBinary(op, loc, "tosa.add", t, cv, xt);
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(op, 0), y);
  mlirOperationDestroy(op);
  (void)ctx;
  return 0;
}

static void run(MlirOperation root, MlirExternalPass pass, const char *const *values) {
  qoOpList ops = {0};
  qoCollectOps(root, "qo.batch_norm", &ops);
  int failed = 0;
  for (size_t i = 0; i < ops.size; ++i)
    if (decompose(ops.ops[i]) != 0) failed = 1;
  qoOpListFree(&ops);
  if (failed) mlirExternalPassSignalFailure(pass);
}

const qoPassDef qoDecomposeBatchNormPass = {
    .argument = "quant-decompose-batchnorm",
    .anchor = "func.func",
    .summary = "Rewrite qo.batch_norm as a per-channel tosa.mul + tosa.add",
    .options = NULL,
    .numOptions = 0,
    .validate = NULL,
    .run = run,
};
