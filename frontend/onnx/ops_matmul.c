/* Gemm and MatMul via tosa.matmul, which is batched 3-D only:
 * [B,M,K] x [B,K,N] -> [B,M,N] with (zero) a_zp/b_zp operands in MLIR 22.
 *
 * Gemm: A (optionally transposed) becomes [1,M,K]; a constant B is re-laid
 * to [1,K,N] with alpha folded in at import time; beta*C is added with
 * broadcasting. MatMul: a 2-D right operand folds A's batch dims into M;
 * otherwise both sides are broadcast to the common batch shape with
 * tosa.tile and flattened to one batch dim. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int matmul3d(qoImporter *imp, int a, int b) {
  if (a < 0 || b < 0)
    return -1;
  const qoSsaType *ta = qoType(imp, a), *tb = qoType(imp, b);
  int64_t od[3] = {ta->dims[0], ta->dims[1], tb->dims[2]};
  int zp = qoZeroPoint(imp);
  int ins[4] = {a, b, zp, zp};
  return qoEmit(imp, "tosa.matmul", 4, ins, NULL, 3, od);
}

static int scaleBy(qoImporter *imp, int x, float s) {
  if (x < 0 || s == 1.0f)
    return x;
  int rank = qoType(imp, x)->rank;
  int64_t ones[QO_MAX_RANK];
  for (int d = 0; d < rank; ++d)
    ones[d] = 1;
  return qoEmitMul(imp, x, qoEmitSplatF32(imp, rank, ones, s));
}

int qoImportGemm(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *A = qoInput(imp, n, 0), *B = qoInput(imp, n, 1);
  qoValue *C = qoOptInput(imp, n, 2);
  if (!A || !B || imp->error)
    return -1;
  if (A->rank != 2 || B->rank != 2)
    return qoFail(imp, "Gemm operands must be 2-D (got rank %d and %d)",
                  A->rank, B->rank);
  int64_t tA = qoAttrInt(n, "transA", 0), tB = qoAttrInt(n, "transB", 0);
  if ((tA != 0 && tA != 1) || (tB != 0 && tB != 1))
    return qoFail(imp, "transA and transB must be 0 or 1 (got %lld and %lld)",
                  (long long)tA, (long long)tB);
  int transA = (int)tA, transB = (int)tB;
  float alpha = qoAttrFloat(n, "alpha", 1.0f), beta = qoAttrFloat(n, "beta", 1.0f);
  int64_t M = A->dims[transA], K = A->dims[!transA];
  int64_t K2 = B->dims[transB], N = B->dims[!transB];
  if (K != K2)
    return qoFail(imp, "Gemm inner dimensions differ (%lld vs %lld)",
                  (long long)K, (long long)K2);
  static const int swap[2] = {1, 0};
  int a = qoUse(imp, A, QO_ONNX);
  if (transA)
    a = qoEmitTranspose(imp, a, swap);
  int64_t a3[3] = {1, M, K}, b3[3] = {1, K, N}, y2[2] = {M, N};
  a = qoEmitReshape(imp, a, 3, a3);
  int b;
  float post = 1.0f;
  if (B->wq && alpha != 1.0f)
    return qoUnsupported(imp, "unsupported: Gemm alpha != 1 with quantized weights");
  if (B->isConst && B->f) {
    float *kn = malloc((size_t)(K * N) * sizeof *kn);
    if (!kn)
      return qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j)
        kn[k * N + j] = alpha * (transB ? B->f[j * K + k] : B->f[k * N + j]);
    int wAxis = B->wq && B->wq->n > 1 && B->wq->axis == (transB ? 0 : 1) ? 2 : 1;
    b = qoWrapWeight(imp, B, qoEmitConstF32(imp, 3, b3, kn), wAxis, 0);
    free(kn);
  } else {
    b = qoUse(imp, B, QO_ONNX);
    if (transB)
      b = qoEmitTranspose(imp, b, swap);
    b = qoEmitReshape(imp, b, 3, b3);
    post = alpha;
  }
  int y = scaleBy(imp, qoEmitReshape(imp, matmul3d(imp, a, b), 2, y2), post);
  if (C && beta != 0.0f) {
    if (C->rank > 2 || (C->rank == 2 && C->dims[0] != 1 && C->dims[0] != M) ||
        (C->rank >= 1 && C->dims[C->rank - 1] != 1 &&
         C->dims[C->rank - 1] != N))
      return qoFail(imp, "Gemm C cannot be broadcast to [%lld,%lld]",
                    (long long)M, (long long)N);
    int c;
    if (C->isConst && C->f) {
      int64_t cd[2] = {C->rank == 2 ? C->dims[0] : 1,
                       C->rank >= 1 ? C->dims[C->rank - 1] : 1};
      int64_t cnt = cd[0] * cd[1];
      float *cv = malloc((size_t)cnt * sizeof *cv);
      if (!cv)
        return qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
      for (int64_t k = 0; k < cnt; ++k)
        cv[k] = beta * C->f[k];
      c = qoEmitConstF32(imp, 2, cd, cv);
      free(cv);
    } else {
      c = scaleBy(imp, qoUseRanked(imp, C, 2, QO_ONNX), beta);
    }
    y = qoEmitBinary(imp, "tosa.add", y, c);
  }
  qoValue *out = y < 0 ? NULL : qoOutput(imp, n, 0, 2, y2);
  if (!out)
    return -1;
  out->ssa[QO_ONNX] = y;
  return 0;
}

/* Reshapes/tiles `x` (ONNX layout, logical dims `d` of rank `r`, already
 * at least 2-D) to [prod(batch), rows, cols] for batch shape `bs`. */
static int toBatched(qoImporter *imp, int x, int r, const int64_t *d, int nb,
                     const int64_t *bs) {
  int64_t full[QO_MAX_RANK], mult[QO_MAX_RANK];
  int rank = nb + 2, pad = rank - r, tile = 0;
  for (int i = 0; i < rank; ++i) {
    full[i] = i < pad ? 1 : d[i - pad];
    mult[i] = i < nb && full[i] != bs[i] ? bs[i] : 1;
    tile |= mult[i] != 1;
  }
  x = qoEmitReshape(imp, x, rank, full);
  if (tile && x >= 0) {
    int64_t td[QO_MAX_RANK];
    for (int i = 0; i < rank; ++i)
      td[i] = full[i] * mult[i];
    int ins[2] = {x, qoEmitConstShape(imp, rank, mult)};
    x = qoEmitT(imp, "tosa.tile", 2, ins, NULL, 1, qoElemOf(imp, x), rank, td);
  }
  int64_t b3[3] = {qoNumElements(nb, bs), full[nb], full[nb + 1]};
  return qoEmitReshape(imp, x, 3, b3);
}

int qoImportMatMul(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *A = qoInput(imp, n, 0), *B = qoInput(imp, n, 1);
  if (!A || !B)
    return -1;
  int ro;
  int64_t od[QO_MAX_RANK];
  int y = qoMatMulCore(imp, A, B, &ro, od);
  qoValue *out = y < 0 ? NULL : qoOutput(imp, n, 0, ro, od);
  if (!out)
    return -1;
  out->ssa[QO_ONNX] = y;
  return 0;
}

/* MatMul of `A` and `B` (ONNX semantics: 1-D operands, batch broadcasting).
 * `a`, `b` are their SSA ids in ONNX layout; `zpA`/`zpB` the zero-point
 * operands and `elem` the result element type (qoEmitT) of tosa.matmul. */
static int matmulGeneral(qoImporter *imp, const qoValue *A, const qoValue *B,
                         int a, int b, int zpA, int zpB, int elem,
                         int *outRank, int64_t *od) {
  if (A->rank < 1 || B->rank < 1)
    return qoFail(imp, "MatMul operands must have rank >= 1");
  int64_t ad[QO_MAX_RANK + 1], bd[QO_MAX_RANK + 1];
  int ra = A->rank, rb = B->rank;
  memcpy(ad, A->dims, sizeof A->dims);
  memcpy(bd, B->dims, sizeof B->dims);
  if (ra == 1) { /* [K] -> [1,K] */
    ad[1] = ad[0];
    ad[0] = 1;
    ra = 2;
  }
  if (rb == 1) { /* [K] -> [K,1] */
    bd[1] = 1;
    rb = 2;
  }
  int64_t M = ad[ra - 2], K = ad[ra - 1], K2 = bd[rb - 2], N = bd[rb - 1];
  if (K != K2)
    return qoFail(imp, "MatMul inner dimensions differ (%lld vs %lld)",
                  (long long)K, (long long)K2);
  int nb = (ra > rb ? ra : rb) - 2;
  int64_t bs[QO_MAX_RANK];
  for (int i = 0; i < nb; ++i) {
    int ia = i - (nb - (ra - 2)), ib = i - (nb - (rb - 2));
    int64_t x = ia >= 0 ? ad[ia] : 1, y = ib >= 0 ? bd[ib] : 1;
    if (x != y && x != 1 && y != 1)
      return qoFail(imp, "MatMul batch dims cannot be broadcast");
    bs[i] = x == 1 ? y : x;
  }
  /* Logical output dims (1-D operands drop their inserted dim). */
  int ro = 0;
  for (int i = 0; i < nb; ++i)
    od[ro++] = bs[i];
  if (A->rank > 1)
    od[ro++] = M;
  if (B->rank > 1)
    od[ro++] = N;
  if (ro > QO_MAX_RANK)
    return qoUnsupported(imp, "unsupported: MatMul result rank");
  int y;
  if (rb == 2) { /* fold A's batch into M: [1, P*M, K] x [1, K, N] */
    int64_t rows[QO_MAX_RANK + 1];
    memcpy(rows, bs, (size_t)nb * sizeof *bs);
    rows[nb] = M;
    int64_t a3[3] = {1, qoNumElements(nb + 1, rows), K}, b3[3] = {1, K, N};
    a = qoEmitReshape(imp, a, 3, a3);
    b = qoEmitReshape(imp, b, 3, b3);
  } else {
    a = toBatched(imp, a, ra, ad, nb, bs);
    b = toBatched(imp, b, rb, bd, nb, bs);
  }
  if (a < 0 || b < 0)
    return -1;
  const qoSsaType *ta = qoType(imp, a), *tb = qoType(imp, b);
  int64_t y3[3] = {ta->dims[0], ta->dims[1], tb->dims[2]};
  int ins[4] = {a, b, zpA, zpB};
  y = qoEmitT(imp, "tosa.matmul", 4, ins, NULL, 1, elem, 3, y3);
  *outRank = ro;
  return qoEmitReshape(imp, y, ro, od);
}

int qoMatMulCore(qoImporter *imp, qoValue *A, qoValue *B, int *outRank,
                 int64_t *od) {
  int a = qoUse(imp, A, QO_ONNX), b = qoUse(imp, B, QO_ONNX);
  if (a < 0 || b < 0)
    return -1;
  int zp = qoZeroPoint(imp);
  return matmulGeneral(imp, A, B, a, b, zp, zp, -1, outRank, od);
}

int qoMatMulIntCore(qoImporter *imp, const qoValue *A, const qoValue *B,
                    int a, int b, int zpA, int zpB, int *outRank,
                    int64_t *od) {
  return matmulGeneral(imp, A, B, a, b, zpA, zpB, qoElem(imp, "i32"), outRank,
                       od);
}
