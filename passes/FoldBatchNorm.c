/* quant-fold-batchnorm: fold inference BatchNorm into the preceding conv.
 *
 *   %c = tosa.conv2d %x, %W, %B, %izp, %wzp      (W, B constants; %c has one use)
 *   %y = "qo.batch_norm"(%c, %s, %b, %m, %v) {axis = 3, epsilon = e}
 * becomes
 *   %y = tosa.conv2d %x, %W', %B', %izp, %wzp
 * with, per output channel o (a = s / sqrt(v + e), computed in double):
 *   W'[o, ...] = W[o, ...] * a[o],   B'[o] = (B[o] - m[o]) * a[o] + b[o].
 * tosa.depthwise_conv2d (weights HWCM, output channel c*M + m) folds the
 * same way, and so does a Gemm/MatMul as the importer emits it
 *   tosa.matmul %a, %W[1xKxC] -> [tosa.reshape] -> [tosa.add %bias]
 * (BN over the last axis scales W's columns; the bias absorbs the shift).
 * The equivalent per-channel tosa.mul / tosa.add by constants right after a
 * conv folds into its weights / bias too. A BN that has nothing to fold into
 * (non-constant weights, a producer with other users, another producer)
 * becomes a per-channel tosa.mul + tosa.add by constants, with a remark. */
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

static int singleUse(MlirValue v) {
  MlirOpOperand use = mlirValueGetFirstUse(v);
  return !mlirOpOperandIsNull(use) && mlirOpOperandIsNull(mlirOpOperandGetNextUse(use));
}

/* Gemm/MatMul: matmul(%a, W[1,K,C]) [-> reshape] [-> add bias] -> BN(last
 * axis). Returns 1 if folded, 0 if not applicable. */
static int tryFoldMatmul(MlirOperation bn, const double *a, const double *sh, int64_t C) {
  MlirValue in = mlirOperationGetOperand(bn, 0);
  MlirType it = mlirValueGetType(in);
  if (qoGetIntAttr(bn, "axis", -1) != mlirShapedTypeGetRank(it) - 1) return 0;
  MlirValue cur = in;
  MlirOperation add = {NULL}, mm = {NULL};
  for (int steps = 0; steps < 3 && mlirValueIsAOpResult(cur) && singleUse(cur); ++steps) {
    MlirOperation d = mlirOpResultGetOwner(cur);
    if (opIs(d, "tosa.add") && mlirOperationIsNull(add)) {
      add = d;
      MlirValue x0 = mlirOperationGetOperand(d, 0), x1 = mlirOperationGetOperand(d, 1);
      int64_t n;
      MlirType t;
      float *b1 = constFloats(x1, &n, &t);
      if (b1 && n == C) {
        free(b1);
        cur = x0;
      } else {
        free(b1);
        return 0;
      }
    } else if (opIs(d, "tosa.reshape")) {
      cur = mlirOperationGetOperand(d, 0);
    } else if (opIs(d, "tosa.matmul")) {
      mm = d;
      break;
    } else {
      return 0;
    }
  }
  if (mlirOperationIsNull(mm)) return 0;
  int64_t nw;
  MlirType wt;
  float *w = constFloats(mlirOperationGetOperand(mm, 1), &nw, &wt);
  if (!w || mlirShapedTypeGetRank(wt) != 3 || mlirShapedTypeGetDimSize(wt, 0) != 1 ||
      mlirShapedTypeGetDimSize(wt, 2) != C) {
    free(w);
    return 0;
  }
  for (int64_t i = 0; i < nw; ++i) w[i] = (float)((double)w[i] * a[i % C]);
  MlirLocation loc = mlirOperationGetLocation(mm);
  mlirOperationSetOperand(mm, 1, newConst(mm, loc, wt, w));
  free(w);
  float *nb = malloc((size_t)C * sizeof *nb);
  if (!nb) return -1;
  if (!mlirOperationIsNull(add)) {
    int64_t n;
    MlirType bt;
    float *b = constFloats(mlirOperationGetOperand(add, 1), &n, &bt);
    for (int64_t c = 0; c < C; ++c) nb[c] = (float)((double)b[c] * a[c] + sh[c]);
    mlirOperationSetOperand(add, 1, newConst(add, mlirOperationGetLocation(add), bt, nb));
    free(b);
    mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(bn, 0), in);
  } else {
    /* No bias add to absorb the shift: add one. */
    int rank = (int)mlirShapedTypeGetRank(it);
    int64_t bshape[8];
    for (int i = 0; i < rank; ++i) bshape[i] = i == rank - 1 ? C : 1;
    for (int64_t c = 0; c < C; ++c) nb[c] = (float)sh[c];
    MlirValue bv = qoTosaConstF32(bn, mlirOperationGetLocation(bn), rank, bshape, nb);
    MlirValue y = qoTosaBinary(bn, mlirOperationGetLocation(bn), "tosa.add", in, bv, it);
    mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(bn, 0), y);
  }
  free(nb);
  mlirOperationDestroy(bn);
  return 1;
}

/* Tries to fold; returns 1 if folded, 0 if not applicable, -1 on error. */
static int tryFold(MlirOperation bn, const double *a, const double *sh, int64_t C) {
  MlirValue in = mlirOperationGetOperand(bn, 0);
  if (!mlirValueIsAOpResult(in)) return 0;
  MlirOperation conv = mlirOpResultGetOwner(in);
  if (!opIs(conv, "tosa.conv2d") && !opIs(conv, "tosa.depthwise_conv2d"))
    return tryFoldMatmul(bn, a, sh, C);
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
  if (rc == 1) qoEmitRemark(loc, "batch norm folded into the preceding convolution or matmul");
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

/* conv -> tosa.mul by a per-output-channel constant [1,1,1,C] (or a splat):
 * scale the weights and bias. conv -> tosa.add of such a constant: add it to
 * the bias. Returns 1 if `op` was folded away. */
static int foldAffine(MlirOperation op) {
  int isMul = opIs(op, "tosa.mul");
  if (!isMul && !opIs(op, "tosa.add")) return 0;
  MlirValue x = mlirOperationGetOperand(op, 0), k = mlirOperationGetOperand(op, 1);
  if (!mlirValueIsAOpResult(x) || !singleUse(x)) return 0;
  MlirOperation conv = mlirOpResultGetOwner(x);
  int dw = opIs(conv, "tosa.depthwise_conv2d");
  if (!opIs(conv, "tosa.conv2d") && !dw) return 0;
  MlirType xt = mlirValueGetType(x);
  int64_t C = mlirShapedTypeGetDimSize(xt, 3);
  int64_t nk;
  MlirType kt;
  float *kv = constFloats(k, &nk, &kt);
  int ok = kv && (nk == 1 || nk == C) && mlirShapedTypeGetRank(kt) == 4;
  for (int i = 0; ok && i < 3; ++i) ok = mlirShapedTypeGetDimSize(kt, i) == 1;
  int64_t nw = 0, nb = 0;
  MlirType wt, bt;
  float *w = ok ? constFloats(mlirOperationGetOperand(conv, 1), &nw, &wt) : NULL;
  float *b = ok ? constFloats(mlirOperationGetOperand(conv, 2), &nb, &bt) : NULL;
  if (!ok || !w || !b || (nb != C && nb != 1) || (!dw && mlirShapedTypeGetDimSize(wt, 0) != C) ||
      (dw && nw % C != 0)) {
    free(kv), free(w), free(b);
    return 0;
  }
  float *nbias = malloc((size_t)C * sizeof *nbias);
  if (!nbias) {
    free(kv), free(w), free(b);
    return 0;
  }
  int64_t per = dw ? 1 : nw / C;
  for (int64_t c = 0; c < C; ++c) {
    double kc = kv[nk == 1 ? 0 : c];
    double bc = b[nb == 1 ? 0 : c];
    nbias[c] = (float)(isMul ? bc * kc : bc + kc);
  }
  if (isMul) {
    for (int64_t i = 0; i < nw; ++i) {
      int64_t c = dw ? i % C : i / per;
      w[i] = (float)((double)w[i] * kv[nk == 1 ? 0 : c]);
    }
    mlirOperationSetOperand(conv, 1, newConst(conv, mlirOperationGetLocation(conv), wt, w));
  }
  int64_t cshape[1] = {C};
  mlirOperationSetOperand(conv, 2, qoTosaConstF32(conv, mlirOperationGetLocation(conv), 1, cshape, nbias));
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(op, 0), x);
  qoEmitRemark(mlirOperationGetLocation(op), isMul ? "per-channel multiply folded into the convolution's weights and bias"
                                                   : "per-channel add folded into the convolution's bias");
  mlirOperationDestroy(op);
  free(kv), free(w), free(b), free(nbias);
  return 1;
}

static void run(MlirOperation root, MlirExternalPass pass, const char *const *values) {
  (void)values;
  qoOpList ops = {0};
  qoCollectOps(root, "qo.batch_norm", &ops);
  int failed = 0;
  for (size_t i = 0; i < ops.size; ++i)
    if (foldOne(ops.ops[i]) != 0) failed = 1;
  qoOpListFree(&ops);
  /* Then the equivalent explicit per-channel mul/add right after a conv
   * (until nothing changes: mul then add both fold). */
  for (int changed = 1; changed && !failed;) {
    changed = 0;
    const char *names[2] = {"tosa.mul", "tosa.add"};
    for (int n = 0; n < 2; ++n) {
      qoOpList cand = {0};
      qoCollectOps(root, names[n], &cand);
      for (size_t i = 0; i < cand.size; ++i) changed |= foldAffine(cand.ops[i]);
      qoOpListFree(&cand);
    }
  }
  if (failed) mlirExternalPassSignalFailure(pass);
}

const qoPassDef qoFoldBatchNormPass = {
    .argument = "quant-fold-batchnorm",
    .anchor = "func.func",
    .summary = "Fold qo.batch_norm (and per-channel mul/add) into the preceding conv, depthwise conv or Gemm/MatMul",
    .run = run,
};
