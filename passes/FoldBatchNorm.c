/* quant-fold-batchnorm: fold inference BatchNorm into the preceding conv.
 *
 *   %c = tosa.conv2d %x, %W, %B, %izp, %wzp      (W, B constants; %c has one use)
 *   %y = "qo.batch_norm"(%c, %s, %b, %m, %v) {axis = 3, epsilon = e}
 * becomes
 *   %y = tosa.conv2d %x, %W', %B', %izp, %wzp
 * with, per output channel o (a = s / sqrt(v + e), computed in double):
 *   W'[o, ...] = W[o, ...] * a[o],   B'[o] = (B[o] - m[o]) * a[o] + b[o].
 * tosa.depthwise_conv2d (weights HWCM, output channel c*M + m) folds the
 * same way. A BN that has nothing to fold into (non-constant weights, a conv
 * with other users, another producer) becomes a per-channel tosa.mul +
 * tosa.add by constants, as quant-decompose-batchnorm does, with a remark. */
#include "passes/PassDef.h"
#include "passes/PassUtils.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int opIs(MlirOperation op, const char *name) {
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  return n.length == strlen(name) && memcmp(n.data, name, n.length) == 0;
}

/* Reads a dense f32 constant into a malloc'd float array; NULL if `v` is not one. */
static float *constFloats(MlirValue v, int64_t *n, MlirType *type) {
  if (!mlirValueIsAOpResult(v)) return NULL;
  MlirOperation def = mlirOpResultGetOwner(v);
  if (!opIs(def, "tosa.const")) return NULL;
  MlirAttribute a = mlirOperationGetAttributeByName(def, qoStr("values"));
  if (mlirAttributeIsNull(a) || !mlirAttributeIsADenseFPElements(a)) return NULL;
  MlirType t = mlirAttributeGetType(a);
  if (!mlirTypeIsAF32(mlirShapedTypeGetElementType(t))) return NULL;
  int64_t count = mlirElementsAttrGetNumElements(a);
  float *out = malloc((size_t)(count ? count : 1) * sizeof *out);
  if (!out) return NULL;
  if (mlirDenseElementsAttrIsSplat(a)) {
    float s = mlirDenseElementsAttrGetFloatValue(a, 0);
    for (int64_t i = 0; i < count; ++i) out[i] = s;
  } else {
    memcpy(out, mlirDenseElementsAttrGetRawData(a), (size_t)count * sizeof *out);
  }
  *n = count;
  *type = t;
  return out;
}

static MlirValue newConst(MlirOperation before, MlirLocation loc, MlirType t,
                          const float *vals) {
  int rank = (int)mlirShapedTypeGetRank(t);
  int64_t shape[8];
  for (int i = 0; i < rank && i < 8; ++i) shape[i] = mlirShapedTypeGetDimSize(t, i);
  return qoTosaConstF32(before, loc, rank, shape, vals);
}

/* Tries to fold; returns 1 if folded, 0 if not applicable, -1 on error. */
static int tryFold(MlirOperation bn, const double *a, const double *sh, int64_t C) {
  MlirValue in = mlirOperationGetOperand(bn, 0);
  if (!mlirValueIsAOpResult(in)) return 0;
  MlirOperation conv = mlirOpResultGetOwner(in);
  int depthwise = opIs(conv, "tosa.depthwise_conv2d");
  if (!opIs(conv, "tosa.conv2d") && !depthwise) return 0;
  if (qoGetIntAttr(bn, "axis", -1) != 3) return 0;
  /* The conv result must feed only this BN. */
  MlirOpOperand use = mlirValueGetFirstUse(in);
  if (mlirOpOperandIsNull(use) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(use))) return 0;
  int64_t nw, nb;
  MlirType wt, bt;
  float *w = constFloats(mlirOperationGetOperand(conv, 1), &nw, &wt);
  float *b = constFloats(mlirOperationGetOperand(conv, 2), &nb, &bt);
  int ok = w && b && (nb == C || nb == 1);
  int64_t perChan = 0;
  if (ok && !depthwise) ok = mlirShapedTypeGetDimSize(wt, 0) == C, perChan = nw / C;
  if (ok && depthwise) ok = nw % C == 0; /* HWCM: channel index = (i % (C)) */
  if (!ok) {
    free(w), free(b);
    return 0;
  }
  float *nbias = malloc((size_t)C * sizeof *nbias);
  if (!nbias) {
    free(w), free(b);
    return -1;
  }
  if (!depthwise) {
    for (int64_t o = 0; o < C; ++o)
      for (int64_t k = 0; k < perChan; ++k)
        w[o * perChan + k] = (float)((double)w[o * perChan + k] * a[o]);
  } else {
    /* HWCM flattened: the innermost C*M block is the output channel. */
    for (int64_t i = 0; i < nw; ++i) w[i] = (float)((double)w[i] * a[i % C]);
  }
  for (int64_t o = 0; o < C; ++o)
    nbias[o] = (float)((double)b[nb == 1 ? 0 : o] * a[o] + sh[o]);
  MlirLocation loc = mlirOperationGetLocation(conv);
  MlirValue nwv = newConst(conv, loc, wt, w);
  int64_t cshape[1] = {C};
  MlirValue nbv = qoTosaConstF32(conv, loc, 1, cshape, nbias);
  mlirOperationSetOperand(conv, 1, nwv);
  mlirOperationSetOperand(conv, 2, nbv);
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(bn, 0), in);
  mlirOperationDestroy(bn);
  free(w), free(b), free(nbias);
  return 1;
}

static int foldOne(MlirOperation bn) {
  MlirLocation loc = mlirOperationGetLocation(bn);
  if (mlirOperationGetNumOperands(bn) != 5) {
    mlirEmitError(loc, "qo.batch_norm expects 5 operands");
    return -1;
  }
  MlirType xt = mlirValueGetType(mlirOperationGetOperand(bn, 0));
  if (!mlirTypeIsARankedTensor(xt) || !mlirShapedTypeHasStaticShape(xt)) {
    mlirEmitError(loc, "qo.batch_norm input must be a statically shaped tensor");
    return -1;
  }
  int rank = (int)mlirShapedTypeGetRank(xt);
  int64_t axis = qoGetIntAttr(bn, "axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank || rank > 8) {
    mlirEmitError(loc, "qo.batch_norm axis is out of range for the input rank");
    return -1;
  }
  int64_t C = mlirShapedTypeGetDimSize(xt, axis);
  double eps = qoGetFloatAttr(bn, "epsilon", 1e-5);
  double *p[4] = {0};
  int64_t n[4];
  int allConst = 1;
  for (int i = 0; i < 4; ++i) {
    p[i] = qoGetConstDoubles(mlirOperationGetOperand(bn, i + 1), &n[i]);
    if (!p[i] || n[i] != C) allConst = 0;
  }
  if (!allConst) {
    for (int i = 0; i < 4; ++i) free(p[i]);
    qoEmitRemark(loc, "qo.batch_norm parameters are not constants: left for quant-decompose-batchnorm");
    return 0;
  }
  double *a = malloc((size_t)C * sizeof *a), *sh = malloc((size_t)C * sizeof *sh);
  int rc = 0;
  if (!a || !sh) {
    mlirEmitError(loc, "out of memory");
    rc = -1;
    goto done;
  }
  for (int64_t c = 0; c < C; ++c) {
    if (!(p[3][c] + eps > 0) || !isfinite(p[0][c]) || !isfinite(p[1][c]) || !isfinite(p[2][c])) {
      mlirEmitError(loc, "qo.batch_norm has a non-finite parameter or variance + epsilon <= 0");
      rc = -1;
      goto done;
    }
    a[c] = p[0][c] / sqrt(p[3][c] + eps);
    sh[c] = p[1][c] - p[2][c] * a[c];
  }
  /* BN(conv + B) = conv*a + (B*a + b - m*a): tryFold folds `sh` = b - m*a. */
  rc = tryFold(bn, a, sh, C);
  if (rc == 1) qoEmitRemark(loc, "batch norm folded into the preceding convolution");
  if (rc == 0) {
    /* Nothing to fold into: per-channel mul + add by constants. */
    int64_t bshape[8];
    for (int i = 0; i < rank; ++i) bshape[i] = i == axis ? C : 1;
    float *af = malloc((size_t)C * sizeof *af), *bf = malloc((size_t)C * sizeof *bf);
    if (!af || !bf) {
      free(af), free(bf);
      rc = -1;
      goto done;
    }
    for (int64_t c = 0; c < C; ++c) af[c] = (float)a[c], bf[c] = (float)sh[c];
    MlirValue av = qoTosaConstF32(bn, loc, rank, bshape, af);
    MlirValue bv = qoTosaConstF32(bn, loc, rank, bshape, bf);
    free(af), free(bf);
    MlirValue t = qoTosaBinary(bn, loc, "tosa.mul", mlirOperationGetOperand(bn, 0), av, xt);
    MlirValue y = qoTosaBinary(bn, loc, "tosa.add", t, bv, xt);
    mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(bn, 0), y);
    qoEmitRemark(loc, "batch norm has no conv to fold into: rewritten as per-channel mul + add");
    mlirOperationDestroy(bn);
    rc = 0;
  } else if (rc == 1) {
    rc = 0;
  }
done:
  free(a), free(sh);
  for (int i = 0; i < 4; ++i) free(p[i]);
  return rc;
}

static void run(MlirOperation root, MlirExternalPass pass, const char *const *values) {
  (void)values;
  qoOpList ops = {0};
  qoCollectOps(root, "qo.batch_norm", &ops);
  int failed = 0;
  for (size_t i = 0; i < ops.size; ++i)
    if (foldOne(ops.ops[i]) != 0) failed = 1;
  qoOpListFree(&ops);
  if (failed) mlirExternalPassSignalFailure(pass);
}

const qoPassDef qoFoldBatchNormPass = {
    .argument = "quant-fold-batchnorm",
    .anchor = "func.func",
    .summary = "Fold qo.batch_norm into the preceding conv2d/depthwise_conv2d weights and bias",
    .run = run,
};
