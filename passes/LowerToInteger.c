/* quant-lower-to-integer: calibrated Q-DQ groups -> int8 TOSA arithmetic.
 *
 * Each quantized fusion group whose inputs and output are quantization points
 * becomes integer ops (TOSA with zero-point operands; never !quant element
 * types, which the TOSA lowering cannot take):
 *
 *   %xd = quant.dcast (quant.qcast %x : !quant.uniform<u8:f32, sx:zx>)
 *   %c  = tosa.conv2d %xd, (quant.dcast (quant.qcast %W : per-axis sw)), %B
 *   %r  = tosa.clamp %c {min_val = 0.0}
 *   %yq = quant.qcast %r : !quant.uniform<u8:f32, sy:zy>
 * becomes
 *   %acc = tosa.conv2d %xi8, %Wi8, %Bi32, %zx', 0 {acc_type = i32}
 *   %y8  = tosa.rescale %acc, %mult, %shift, 0, %zy' {per_channel, SINGLE_ROUND}
 *   %yi8 = tosa.clamp %y8 {min_val = zy', max_val = 127}
 *
 * Conventions (bit-exact with TOSA rescale semantics):
 *  - Activations are int8 inside: a uint8 value v with zero point z is the
 *    int8 value v - 128 with zero point z - 128 (exact; VNNI/AMX want s8/u8
 *    anyway). Weights are symmetric int8 (zero point 0).
 *  - Bias: round_half_even(B[c] / (sx * sw[c])) as int32 (the int32 guard of
 *    quant-apply-calibration ensures it fits).
 *  - Requantization by M = sx*sw[c]/sy as a 31-bit fixed-point multiplier and
 *    a shift (M = mult * 2^-shift, mult in [2^30, 2^31)), TOSA rescale with
 *    SINGLE_ROUND: y = ((acc * mult + 2^(shift-1)) >> shift) + zy, i.e.
 *    rounding half up, then saturation to int8 and the activation clamp.
 *  - Quantize at an integer boundary (model input or a float producer):
 *    clamp(round_half_even(x / s) + z', qmin', qmax') as int8 (the exact
 *    ONNX QuantizeLinear). Dequantize where a float consumer needs the value:
 *    (float(q) - z') * s.
 * Groups lowered: conv2d, depthwise_conv2d (+ bias add, ReLU/ReLU6/clamp),
 * Gemm/MatMul (matmul [+ reshape] [+ bias add] [+ clamp]), residual add
 * (+ clamp; inputs rescaled to int32 at 2*max(sa, sb) / 2^20, summed,
 * requantized), concat (inputs requantized where their scales differ),
 * max_pool2d, avg_pool2d (TOSA int average, then a rescale if the output
 * scale differs), and scale-preserving data movement (reshape, transpose)
 * between points with the same parameters. Anything else (LeakyReLU, ...)
 * stays as Q-DQ around float ops — mixed precision — with a remark, and is
 * simulated by quant-lower-fake-quant. */
#include "passes/PassDef.h"
#include "passes/QuantUtils.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One activation quantization point and its int8 value once it has one. */
typedef struct Point {
  MlirOperation q, d;   /* qcast (or an integer->quant scast), dcast (or null) */
  MlirOperation sOut;   /* quant->integer scast after the qcast: a model output */
  int fromInt;          /* q is a scast of an integer model input */
  int isUnsigned;       /* uint8 storage (shifted by -128 inside) */
  double scale;
  int zp, qmin, qmax;   /* internal int8 convention (uint8 shifted by -128) */
  MlirValue i8;         /* int8 tensor, or null */
  int lowered;          /* produced by an integer group (its float producer dies) */
} Point;

typedef struct Ctx {
  MlirContext ctx;
  Point *pts;
  size_t n;
  int failed;
} Ctx;

static Point *pointOfDcast(Ctx *c, MlirValue v) {
  MlirOperation d = qoDefiningOp(v);
  if (!qoOpIs(d, "quant.dcast")) return NULL;
  for (size_t i = 0; i < c->n; ++i)
    if (c->pts[i].d.ptr == d.ptr) return &c->pts[i];
  return NULL;
}

static Point *pointOfQcastUser(Ctx *c, MlirValue v) {
  MlirOpOperand u = mlirValueGetFirstUse(v);
  if (mlirOpOperandIsNull(u) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(u))) return NULL;
  MlirOperation q = mlirOpOperandGetOwner(u);
  for (size_t i = 0; i < c->n; ++i)
    if (c->pts[i].q.ptr == q.ptr) return &c->pts[i];
  return NULL;
}

static MlirType tensorOf(MlirType like, MlirType elem) { return qoTensorWithElement(like, elem); }

/* tosa.const with integer values of `bits` width (8 or 32). */
static MlirValue intConst(MlirOperation before, MlirLocation loc, int rank, const int64_t *shape,
                          int bits, const int32_t *vals) {
  MlirContext ctx = mlirLocationGetContext(loc);
  MlirType t = mlirRankedTensorTypeGet(rank, shape, mlirIntegerTypeGet(ctx, (unsigned)bits),
                                       mlirAttributeGetNull());
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) n *= shape[i];
  MlirAttribute a;
  if (bits == 8) {
    int8_t *v = malloc((size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; ++i) v[i] = (int8_t)vals[i];
    a = mlirDenseElementsAttrInt8Get(t, n, v);
    free(v);
  } else {
    a = mlirDenseElementsAttrInt32Get(t, n, vals);
  }
  MlirNamedAttribute na = qoNamedAttr(ctx, "values", a);
  return mlirOperationGetResult(qoCreateOpBefore(before, "tosa.const", loc, 0, NULL, 1, &t, 1, &na), 0);
}

static MlirValue scalarConst(MlirOperation before, MlirLocation loc, int bits, int32_t v) {
  int64_t one = 1;
  return intConst(before, loc, 1, &one, bits, &v);
}

static MlirValue splatF(MlirOperation before, MlirLocation loc, MlirType t, float v) {
  MlirNamedAttribute na = qoNamedAttr(mlirLocationGetContext(loc), "value",
                                mlirDenseElementsAttrFloatSplatGet(t, v));
  return mlirOperationGetResult(qoCreateOpBefore(before, "arith.constant", loc, 0, NULL, 1, &t, 1, &na), 0);
}

static MlirValue op1(MlirOperation before, MlirLocation loc, const char *name, MlirValue a, MlirType t) {
  return mlirOperationGetResult(qoCreateOpBefore(before, name, loc, 1, &a, 1, &t, 0, NULL), 0);
}

static MlirValue op2(MlirOperation before, MlirLocation loc, const char *name, MlirValue a,
                     MlirValue b, MlirType t) {
  MlirValue ops[2] = {a, b};
  return mlirOperationGetResult(qoCreateOpBefore(before, name, loc, 2, ops, 1, &t, 0, NULL), 0);
}

/* int8 clamp with bounds lo..hi. */
static MlirValue clampI8(MlirOperation before, MlirLocation loc, MlirValue v, int lo, int hi) {
  MlirContext ctx = mlirLocationGetContext(loc);
  MlirType i8 = mlirIntegerTypeGet(ctx, 8);
  MlirNamedAttribute at[2] = {qoNamedAttr(ctx, "min_val", mlirIntegerAttrGet(i8, lo)),
                              qoNamedAttr(ctx, "max_val", mlirIntegerAttrGet(i8, hi))};
  MlirType t = mlirValueGetType(v);
  return mlirOperationGetResult(qoCreateOpBefore(before, "tosa.clamp", loc, 1, &v, 1, &t, 2, at), 0);
}

/* Quantizes float `x` to the point's int8 representation (exact QuantizeLinear). */
static MlirValue quantize(Ctx *c, Point *p, MlirOperation before, MlirValue x) {
  MlirLocation loc = mlirOperationGetLocation(p->q);
  MlirType ft = mlirValueGetType(x);
  MlirValue t = op2(before, loc, "arith.divf", x, splatF(before, loc, ft, (float)p->scale), ft);
  t = op1(before, loc, "math.roundeven", t, ft);
  if (p->zp) t = op2(before, loc, "arith.addf", t, splatF(before, loc, ft, (float)p->zp), ft);
  t = op2(before, loc, "arith.maximumf", t, splatF(before, loc, ft, (float)p->qmin), ft);
  t = op2(before, loc, "arith.minimumf", t, splatF(before, loc, ft, (float)p->qmax), ft);
  return op1(before, loc, "arith.fptosi", t, tensorOf(ft, mlirIntegerTypeGet(c->ctx, 8)));
}

/* Dequantizes the point's int8 value for float consumers. */
static MlirValue dequantize(Ctx *c, Point *p, MlirOperation before) {
  MlirLocation loc = mlirOperationGetLocation(p->d);
  MlirType ft = mlirValueGetType(mlirOperationGetResult(p->d, 0));
  (void)c;
  MlirValue t = op1(before, loc, "arith.sitofp", p->i8, ft);
  if (p->zp) t = op2(before, loc, "arith.subf", t, splatF(before, loc, ft, (float)p->zp), ft);
  return op2(before, loc, "arith.mulf", t, splatF(before, loc, ft, (float)p->scale), ft);
}

static int isPreserving(MlirOperation op) {
  return qoOpIs(op, "tosa.reshape") || qoOpIs(op, "tosa.transpose") || qoOpIs(op, "tosa.slice");
}

static int sameParams(const Point *a, const Point *b) {
  return a->scale == b->scale && a->zp == b->zp && a->qmin == b->qmin && a->qmax == b->qmax;
}

static MlirValue intOf(Ctx *c, Point *p);

/* Replays the data-movement ops chain[n-1] .. chain[0] (outermost last) on
 * the int8 value `cur`, inserting before `at`; returns the int8 result. */
static MlirValue replayChain(Ctx *c, MlirOperation *chain, int n, MlirValue cur, MlirOperation at) {
  for (int k = n - 1; k >= 0; --k) {
    MlirOperation op = chain[k];
    MlirType rt = tensorOf(mlirValueGetType(mlirOperationGetResult(op, 0)), mlirIntegerTypeGet(c->ctx, 8));
    intptr_t nops = mlirOperationGetNumOperands(op);
    MlirValue ops[4];
    for (intptr_t i = 0; i < nops && i < 4; ++i) ops[i] = mlirOperationGetOperand(op, i);
    ops[0] = cur;
    MlirNamedAttribute attrs[1];
    intptr_t na = 0;
    MlirAttribute perms = mlirOperationGetAttributeByName(op, qoStr("perms"));
    if (!mlirAttributeIsNull(perms)) attrs[na++] = qoNamedAttr(c->ctx, "perms", perms);
    MlirStringRef nm = mlirIdentifierStr(mlirOperationGetName(op));
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)nm.length, nm.data);
    cur = mlirOperationGetResult(qoCreateOpBefore(at, name, mlirOperationGetLocation(op), nops, ops, 1, &rt, na, attrs), 0);
  }
  return cur;
}

/* Walks `v` up through data movement, recording the ops in chain (up to 8). */
static MlirValue walkUp(MlirValue v, MlirOperation *chain, int *n) {
  *n = 0;
  while (*n < 8) {
    MlirOperation d = qoDefiningOp(v);
    if (!isPreserving(d)) break;
    chain[(*n)++] = d;
    v = mlirOperationGetOperand(d, 0);
  }
  return v;
}

/* If point p's float input is reshape/transpose ops of another point's
 * dcast with identical parameters, replays them on that point's int8 value. */
static MlirValue throughPreserving(Ctx *c, Point *p) {
  MlirOperation chain[8];
  int n;
  MlirValue v = walkUp(mlirOperationGetOperand(p->q, 0), chain, &n);
  Point *src = n ? pointOfDcast(c, v) : NULL;
  if (!src || !sameParams(src, p)) return (MlirValue){NULL};
  MlirValue cur = intOf(c, src);
  return cur.ptr ? replayChain(c, chain, n, cur, p->q) : cur;
}

/* The int8 value of a point: from its integer producer, through data
 * movement, or by quantizing its float input right before the qcast. */
/* int8 storage bits <-> the internal int8 convention: uint8 values v are
 * carried as v - 128, i.e. the bits xor 0x80. */
static MlirValue flipSign(Ctx *c, MlirOperation at, MlirLocation loc, MlirValue v) {
  MlirType t = mlirValueGetType(v);
  int rank = (int)mlirShapedTypeGetRank(t);
  int64_t ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  int32_t k = -128;
  MlirValue kv = intConst(at, loc, rank, ones, 8, &k);
  (void)c;
  return op2(at, loc, "tosa.bitwise_xor", v, kv, t);
}

static MlirValue intOf(Ctx *c, Point *p) {
  if (p->i8.ptr) return p->i8;
  if (p->fromInt) {
    MlirValue raw = mlirOperationGetOperand(p->q, 0);
    p->i8 = p->isUnsigned ? flipSign(c, p->d, mlirOperationGetLocation(p->q), raw) : raw;
    return p->i8;
  }
  MlirValue v = throughPreserving(c, p);
  if (!v.ptr) v = quantize(c, p, p->q, mlirOperationGetOperand(p->q, 0));
  p->i8 = v;
  return v;
}

/* The point behind operand `v` — its dcast directly, or through data
 * movement (transpose/reshape/slice, e.g. the NCHW -> NHWC transpose after an
 * imported QDQ pair) — with its int8 value replayed through that chain
 * before `at`. NULL if `v` is not such a value. */
static Point *operandPoint(Ctx *c, MlirValue v, MlirOperation at, MlirValue *i8) {
  MlirOperation chain[8];
  int n;
  Point *p = pointOfDcast(c, walkUp(v, chain, &n));
  if (p) *i8 = replayChain(c, chain, n, intOf(c, p), at);
  return p;
}

/* Fixed-point form of a positive real multiplier (31-bit, TOSA scale32). */
static int fixedPoint(double m, int32_t *mult, int8_t *shift) {
  if (!(m > 0) || !isfinite(m)) return -1;
  int e;
  double f = frexp(m, &e); /* m = f * 2^e, f in [0.5, 1) */
  int64_t q = llround(f * 2147483648.0);
  if (q == 2147483648LL) {
    q /= 2;
    ++e;
  }
  int s = 31 - e;
  while (s > 62) { /* tiny multiplier: give up precision */
    q >>= 1;
    --s;
  }
  if (s < 2 || q == 0) return -1;
  *mult = (int32_t)q;
  *shift = (int8_t)s;
  return 0;
}

/* Follows a compute op's group to its output point (see quant-insert-qdq).
 * Collects a constant bias add (`biasAdd`) and the activation clamp. */
typedef struct Group {
  MlirOperation anchor, reshape, biasAdd, clamp;
  Point *out;         /* the output point, or NULL when the output is returned */
  MlirValue outValue; /* the group's float output (when out == NULL) */
} Group;

/* 1 if every use of `v` is the function's return. */
static int onlyReturned(MlirValue v) {
  MlirOpOperand u = mlirValueGetFirstUse(v);
  if (mlirOpOperandIsNull(u)) return 0;
  for (; !mlirOpOperandIsNull(u); u = mlirOpOperandGetNextUse(u))
    if (!qoOpIs(mlirOpOperandGetOwner(u), "func.return")) return 0;
  return 1;
}

static int followGroup(Ctx *c, MlirOperation anchor, Group *g) {
  memset(g, 0, sizeof *g);
  g->anchor = anchor;
  MlirValue cur = mlirOperationGetResult(anchor, 0);
  int isMatmul = qoOpIs(anchor, "tosa.matmul");
  for (int steps = 0; steps < 4; ++steps) {
    Point *p = pointOfQcastUser(c, cur);
    if (p) {
      g->out = p;
      return 0;
    }
    if (onlyReturned(cur)) { /* model output: dequantized from int32 */
      g->outValue = cur;
      return 0;
    }
    MlirOpOperand u = mlirValueGetFirstUse(cur);
    if (mlirOpOperandIsNull(u) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(u))) return -1;
    MlirOperation user = mlirOpOperandGetOwner(u);
    if (qoOpIs(user, "tosa.clamp") && !g->clamp.ptr) {
      g->clamp = user;
    } else if (isMatmul && qoOpIs(user, "tosa.reshape") && !g->reshape.ptr && !g->biasAdd.ptr) {
      g->reshape = user;
    } else if (qoOpIs(user, "tosa.add") && !g->biasAdd.ptr && !g->clamp.ptr &&
               qoIsConstant(mlirOperationGetOperand(user, 1)) &&
               mlirOperationGetOperand(user, 0).ptr == cur.ptr) {
      g->biasAdd = user;
    } else {
      return -1;
    }
    cur = mlirOperationGetResult(user, 0);
  }
  return -1;
}

/* Weight constant behind dcast(qcast(const)): its float values and type. */
static double *weightOf(MlirValue w, MlirType *qtype, int64_t *n) {
  MlirOperation d = qoDefiningOp(w);
  if (!qoOpIs(d, "quant.dcast")) return NULL;
  MlirOperation q = qoDefiningOp(mlirOperationGetOperand(d, 0));
  if (!qoOpIs(q, "quant.qcast")) return NULL;
  *qtype = mlirShapedTypeGetElementType(mlirValueGetType(mlirOperationGetResult(q, 0)));
  return qoGetConstDoubles(mlirOperationGetOperand(q, 0), n);
}

static double wScale(MlirType qt, int64_t c) {
  return mlirTypeIsAUniformQuantizedPerAxisType(qt) ? mlirUniformQuantizedPerAxisTypeGetScale(qt, c)
                                                    : mlirUniformQuantizedTypeGetScale(qt);
}

static MlirValue finishOutput(MlirOperation at, MlirLocation loc, MlirValue y, const Point *out,
                              MlirOperation clamp);

static void remark(MlirOperation op, const char *what) {
  qoEmitRemark(mlirOperationGetLocation(op), what);
}

/* conv2d / depthwise_conv2d / matmul group -> integer ops. */
static int lowerCompute(Ctx *c, MlirOperation op) {
  int isMatmul = qoOpIs(op, "tosa.matmul");
  int isDw = qoOpIs(op, "tosa.depthwise_conv2d");
  /* The input: a point's dcast, possibly through data movement. */
  MlirValue inV = mlirOperationGetOperand(op, 0);
  MlirOperation chain[8];
  int chainLen;
  Point *in = pointOfDcast(c, walkUp(inV, chain, &chainLen));
  if (!in) {
    remark(op, "group stays float: its input is not a quantization point");
    return 0;
  }
  Group g;
  if (followGroup(c, op, &g)) {
    remark(op, "group stays float: its output is not a single quantization point");
    return 0;
  }
  MlirType wq;
  int64_t nw;
  double *w = weightOf(mlirOperationGetOperand(op, 1), &wq, &nw);
  if (!w) {
    remark(op, "group stays float: weights are not a quantized constant");
    return 0;
  }
  MlirLocation loc = mlirOperationGetLocation(op);
  MlirType wt = mlirValueGetType(mlirOperationGetOperand(op, 1));
  int wrank = (int)mlirShapedTypeGetRank(wt);
  if (qoCheckQuantType(op, wq)) {
    free(w);
    c->failed = 1;
    return 0;
  }
  if (mlirTypeIsAUniformQuantizedPerAxisType(wq)) {
    int want = isMatmul ? 2 : isDw ? 2 : 0;
    int got = (int)mlirUniformQuantizedPerAxisTypeGetQuantizedDimension(wq);
    if (got != want) {
      char msg[300];
      snprintf(msg, sizeof msg, "per-axis weight quantization along axis %d; %s weights need axis %d "
               "(the output channels)", got, isMatmul ? "matmul [1,K,N]" : isDw ? "depthwise HWCM" : "conv2d OHWI", want);
      mlirEmitError(loc, msg);
      free(w);
      c->failed = 1;
      return 0;
    }
  }
  int64_t wdims[4];
  for (int i = 0; i < wrank && i < 4; ++i) wdims[i] = mlirShapedTypeGetDimSize(wt, i);
  MlirType resT = mlirValueGetType(mlirOperationGetResult(op, 0));
  int64_t C = mlirShapedTypeGetDimSize(resT, mlirShapedTypeGetRank(resT) - 1);
  int perAxis = mlirTypeIsAUniformQuantizedPerAxisType(wq);
  /* Channel of weight element i. */
  int64_t inner = 1;
  int axis = perAxis ? (int)mlirUniformQuantizedPerAxisTypeGetQuantizedDimension(wq) : 0;
  for (int i = axis + 1; i < wrank; ++i) inner *= wdims[i];
  int32_t *wi = malloc((size_t)nw * sizeof *wi);
  double qlo = (double)mlirQuantizedTypeGetStorageTypeMin(wq), qhi = (double)mlirQuantizedTypeGetStorageTypeMax(wq);
  for (int64_t i = 0; i < nw; ++i) {
    int64_t ch = perAxis ? (i / inner) % wdims[axis] : 0;
    float s = (float)wScale(wq, ch);
    double q = nearbyintf((float)w[i] / s);
    wi[i] = (int32_t)fmin(fmax(q, qlo), qhi);
  }
  free(w);
  /* Bias: the conv's bias operand plus a folded bias add. */
  double *bias = calloc((size_t)C, sizeof *bias);
  if (!isMatmul) {
    int64_t nb;
    double *b = qoGetConstDoubles(mlirOperationGetOperand(op, 2), &nb);
    if (!b || (nb != C && nb != 1)) {
      free(b), free(wi), free(bias);
      remark(op, "group stays float: non-constant bias");
      return 0;
    }
    for (int64_t k = 0; k < C; ++k) bias[k] = b[nb == 1 ? 0 : k];
    free(b);
  }
  if (g.biasAdd.ptr) {
    int64_t nb;
    double *b = qoGetConstDoubles(mlirOperationGetOperand(g.biasAdd, 1), &nb);
    if (!b || (nb != C && nb != 1)) {
      free(b), free(wi), free(bias);
      remark(op, "group stays float: bias add is not per channel");
      return 0;
    }
    for (int64_t k = 0; k < C; ++k) bias[k] += b[nb == 1 ? 0 : k];
    free(b);
  }
  Point *out = g.out;
  double outScale = out ? out->scale : 1.0;
  int32_t *bi = malloc((size_t)C * sizeof *bi);
  int32_t *mult = malloc((size_t)C * sizeof *mult);
  int8_t *shift = malloc((size_t)C);
  int bad = 0;
  int nch = perAxis ? (int)C : 1;
  for (int64_t k = 0; k < C && !bad; ++k) {
    double sAcc = in->scale * (float)wScale(wq, perAxis ? k : 0);
    double b = nearbyint(bias[k] / sAcc);
    if (!(fabs(b) <= 2147483647.0)) { /* checked before converting: out of range is UB */
      bad = 1;
      break;
    }
    bi[k] = (int32_t)b;
    if (k < nch && fixedPoint(sAcc / outScale, &mult[k], &shift[k])) bad = 2;
  }
  free(bias);
  if (bad) {
    free(wi), free(bi), free(mult), free(shift);
    remark(op, bad == 1 ? "group stays float: int32 bias overflow" : "group stays float: requantization scale out of range");
    return 0;
  }
  /* Insert before the output qcast (or the return): all inputs dominate it. */
  MlirOperation at = out ? out->q : mlirOpOperandGetOwner(mlirValueGetFirstUse(g.outValue));
  MlirType i8 = mlirIntegerTypeGet(c->ctx, 8), i32 = mlirIntegerTypeGet(c->ctx, 32);
  MlirValue x;
  operandPoint(c, inV, at, &x);
  MlirValue wv = intConst(at, loc, wrank, wdims, 8, wi);
  MlirValue xz = scalarConst(at, loc, 8, in->zp), wz = scalarConst(at, loc, 8, 0);
  MlirValue acc;
  MlirType accT = tensorOf(resT, i32);
  MlirType xt = mlirValueGetType(x);
  int asConv = isMatmul && wrank == 3 && wdims[0] == 1 && mlirShapedTypeGetRank(xt) == 3 &&
               mlirShapedTypeGetDimSize(xt, 0) == 1;
  if (asConv) {
    /* A Gemm with constant weights [1,K,C] is a 1x1 convolution of
     * [M,1,1,K] with OHWI weights [C,1,1,K]: the same arithmetic (zero
     * points, i32 accumulation, bias in the conv), and the convolution's
     * loop nest (reduction innermost and contiguous on both operands)
     * compiles to much faster code than the generic matmul's. */
    int64_t M = mlirShapedTypeGetDimSize(xt, 1), K = wdims[1];
    int64_t xs[4] = {M, 1, 1, K}, ws[4] = {C, 1, 1, K}, os[4] = {M, 1, 1, C};
    int32_t *wt = malloc((size_t)(C * K) * sizeof *wt);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t ch = 0; ch < C; ++ch) wt[ch * K + k] = wi[k * C + ch];
    MlirValue xr = qoTosaReshape(at, loc, x, 4, xs);
    int64_t cshape[1] = {C};
    MlirValue ops[5] = {xr, intConst(at, loc, 4, ws, 8, wt), intConst(at, loc, 1, cshape, 32, bi), xz, wz};
    free(wt);
    MlirAttribute zeros4 = mlirAttributeParseGet(c->ctx, qoStr("array<i64: 0, 0, 0, 0>"));
    MlirAttribute ones2 = mlirAttributeParseGet(c->ctx, qoStr("array<i64: 1, 1>"));
    MlirNamedAttribute attrs[4] = {qoNamedAttr(c->ctx, "pad", zeros4), qoNamedAttr(c->ctx, "stride", ones2),
                                   qoNamedAttr(c->ctx, "dilation", ones2),
                                   qoNamedAttr(c->ctx, "acc_type", mlirTypeAttrGet(i32))};
    MlirType ct = mlirRankedTensorTypeGet(4, os, i32, mlirAttributeGetNull());
    acc = mlirOperationGetResult(qoCreateOpBefore(at, "tosa.conv2d", loc, 5, ops, 1, &ct, 4, attrs), 0);
    MlirType target = g.reshape.ptr ? mlirValueGetType(mlirOperationGetResult(g.reshape, 0)) : accT;
    int tr = (int)mlirShapedTypeGetRank(target);
    int64_t td[8];
    for (int k = 0; k < tr; ++k) td[k] = mlirShapedTypeGetDimSize(target, k);
    acc = qoTosaReshape(at, loc, acc, tr, td);
  } else if (isMatmul) {
    MlirValue ops[4] = {x, wv, xz, wz};
    acc = mlirOperationGetResult(qoCreateOpBefore(at, "tosa.matmul", loc, 4, ops, 1, &accT, 0, NULL), 0);
    if (g.reshape.ptr) {
      MlirType rt = tensorOf(mlirValueGetType(mlirOperationGetResult(g.reshape, 0)), i32);
      MlirValue rops[2] = {acc, mlirOperationGetOperand(g.reshape, 1)};
      acc = mlirOperationGetResult(qoCreateOpBefore(at, "tosa.reshape", loc, 2, rops, 1, &rt, 0, NULL), 0);
    }
    MlirType accType = mlirValueGetType(acc);
    int r = (int)mlirShapedTypeGetRank(accType);
    int64_t bshape[8];
    for (int k = 0; k < r; ++k) bshape[k] = k == r - 1 ? C : 1;
    acc = op2(at, loc, "tosa.add", acc, intConst(at, loc, r, bshape, 32, bi), accType);
  } else {
    int64_t cshape[1] = {C};
    MlirValue ops[5] = {x, wv, intConst(at, loc, 1, cshape, 32, bi), xz, wz};
    intptr_t na = 0;
    MlirNamedAttribute attrs[4];
    const char *keep[3] = {"pad", "stride", "dilation"};
    for (int k = 0; k < 3; ++k) {
      MlirAttribute a = mlirOperationGetAttributeByName(op, qoStr(keep[k]));
      if (!mlirAttributeIsNull(a)) attrs[na++] = qoNamedAttr(c->ctx, keep[k], a);
    }
    attrs[na++] = qoNamedAttr(c->ctx, "acc_type", mlirTypeAttrGet(i32));
    acc = mlirOperationGetResult(qoCreateOpBefore(at, isDw ? "tosa.depthwise_conv2d" : "tosa.conv2d",
                                                  loc, 5, ops, 1, &accT, na, attrs), 0);
  }
  if (!out) {
    /* y = float(acc) * sx * sw[c] (the int32 bias is already in acc), then
     * the activation in float. */
    MlirType accType = mlirValueGetType(acc);
    MlirType ft = tensorOf(accType, mlirF32TypeGet(c->ctx));
    int r = (int)mlirShapedTypeGetRank(accType);
    int64_t bshape[8];
    for (int k = 0; k < r; ++k) bshape[k] = k == r - 1 ? C : 1;
    float *sc = malloc((size_t)C * sizeof *sc);
    for (int64_t k = 0; k < C; ++k) sc[k] = (float)(in->scale * (float)wScale(wq, perAxis ? k : 0));
    MlirValue f = op1(at, loc, "arith.sitofp", acc, ft);
    f = qoTosaBinary(at, loc, "tosa.mul", f, qoTosaConstF32(at, loc, r, bshape, sc), ft);
    free(sc);
    if (g.clamp.ptr) {
      MlirNamedAttribute ca[2] = {qoNamedAttr(c->ctx, "min_val", mlirOperationGetAttributeByName(g.clamp, qoStr("min_val"))),
                                  qoNamedAttr(c->ctx, "max_val", mlirOperationGetAttributeByName(g.clamp, qoStr("max_val")))};
      f = mlirOperationGetResult(qoCreateOpBefore(at, "tosa.clamp", loc, 1, &f, 1, &ft, 2, ca), 0);
    }
    mlirValueReplaceAllUsesOfWith(g.outValue, f);
    free(wi), free(bi), free(mult), free(shift);
    remark(op, "lowered to int8 with a float output (int32 accumulator dequantized)");
    return 1;
  }
  int64_t mshape[1] = {nch};
  MlirValue mv = intConst(at, loc, 1, mshape, 32, mult);
  int32_t *sh32 = malloc((size_t)nch * sizeof *sh32);
  for (int k = 0; k < nch; ++k) sh32[k] = shift[k];
  MlirValue sv = intConst(at, loc, 1, mshape, 8, sh32);
  free(sh32);
  MlirValue rops[5] = {acc, mv, sv, scalarConst(at, loc, 32, 0), scalarConst(at, loc, 8, out->zp)};
  MlirType yT = tensorOf(mlirValueGetType(acc), i8);
  MlirAttribute rm = mlirAttributeParseGet(c->ctx, qoStr("#tosa.rounding_mode<SINGLE_ROUND>"));
  MlirNamedAttribute rattrs[5] = {
      qoNamedAttr(c->ctx, "scale32", mlirBoolAttrGet(c->ctx, 1)),
      qoNamedAttr(c->ctx, "rounding_mode", rm),
      qoNamedAttr(c->ctx, "per_channel", mlirBoolAttrGet(c->ctx, nch > 1)),
      qoNamedAttr(c->ctx, "input_unsigned", mlirBoolAttrGet(c->ctx, 0)),
      qoNamedAttr(c->ctx, "output_unsigned", mlirBoolAttrGet(c->ctx, 0))};
  MlirValue y = mlirOperationGetResult(qoCreateOpBefore(at, "tosa.rescale", loc, 5, rops, 1, &yT, 5, rattrs), 0);
  /* Saturation to the point's range and the activation, in the int domain. */
  out->i8 = finishOutput(at, loc, y, out, g.clamp);
  out->lowered = 1;
  free(wi), free(bi), free(mult), free(shift);
  remark(op, "lowered to int8 (i8 x i8 -> i32, int32 bias, fixed-point requantization)");
  return 1;
}


/* tosa.rescale of `x` (i8 or i32) by the real multiplier m, with zero points;
 * result element type `outBits` (8 or 32). NULL value if m is out of range. */
static MlirValue rescale(Ctx *c, MlirOperation at, MlirLocation loc, MlirValue x, double m, int inZp,
                         int outZp, int outBits) {
  int32_t mult;
  int8_t sh;
  if (fixedPoint(m, &mult, &sh)) return (MlirValue){NULL};
  MlirType xt = mlirValueGetType(x);
  int inBits = (int)mlirIntegerTypeGetWidth(mlirShapedTypeGetElementType(xt));
  int32_t sh32 = sh;
  MlirValue ops[5] = {x, scalarConst(at, loc, 32, mult), scalarConst(at, loc, 8, sh32),
                      scalarConst(at, loc, inBits == 8 ? 8 : 32, inZp),
                      scalarConst(at, loc, outBits, outZp)};
  MlirType yT = tensorOf(xt, mlirIntegerTypeGet(c->ctx, (unsigned)outBits));
  MlirAttribute rm = mlirAttributeParseGet(c->ctx, qoStr("#tosa.rounding_mode<SINGLE_ROUND>"));
  MlirNamedAttribute attrs[5] = {
      qoNamedAttr(c->ctx, "scale32", mlirBoolAttrGet(c->ctx, 1)),
      qoNamedAttr(c->ctx, "rounding_mode", rm),
      qoNamedAttr(c->ctx, "per_channel", mlirBoolAttrGet(c->ctx, 0)),
      qoNamedAttr(c->ctx, "input_unsigned", mlirBoolAttrGet(c->ctx, 0)),
      qoNamedAttr(c->ctx, "output_unsigned", mlirBoolAttrGet(c->ctx, 0))};
  return mlirOperationGetResult(qoCreateOpBefore(at, "tosa.rescale", loc, 5, ops, 1, &yT, 5, attrs), 0);
}

/* Saturation to the output point's range and an optional float clamp. */
static MlirValue finishOutput(MlirOperation at, MlirLocation loc, MlirValue y, const Point *out,
                              MlirOperation clamp) {
  int lo = out->qmin, hi = out->qmax;
  if (clamp.ptr) {
    double fmin_ = qoGetFloatAttr(clamp, "min_val", -FLT_MAX), fmax_ = qoGetFloatAttr(clamp, "max_val", FLT_MAX);
    double l = out->zp + nearbyint(fmin_ / out->scale), h = out->zp + nearbyint(fmax_ / out->scale);
    /* Compare in double; convert only values inside [lo, hi] (a tiny scale
     * makes these huge). */
    if (l > lo) lo = l >= hi ? hi : (int)l;
    if (h < hi) hi = h <= lo ? lo : (int)h;
  }
  return (lo > -128 || hi < 127) ? clampI8(at, loc, y, lo, hi) : y;
}

/* Residual add of two points [+ clamp] -> int8: each input is rescaled to
 * int32 at a common scale 2*max(sa, sb) / 2^20 (exact TFLite-style), added,
 * and the sum rescaled to the output point. */
static int lowerAdd(Ctx *c, MlirOperation op) {
  Point *a = pointOfDcast(c, mlirOperationGetOperand(op, 0));
  Point *b = pointOfDcast(c, mlirOperationGetOperand(op, 1));
  if (!a || !b) return 0;
  MlirValue cur = mlirOperationGetResult(op, 0);
  MlirOperation clamp = {NULL};
  Point *out = pointOfQcastUser(c, cur);
  if (!out) {
    MlirOpOperand u = mlirValueGetFirstUse(cur);
    if (mlirOpOperandIsNull(u) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(u))) return 0;
    clamp = mlirOpOperandGetOwner(u);
    if (!qoOpIs(clamp, "tosa.clamp")) return 0;
    out = pointOfQcastUser(c, mlirOperationGetResult(clamp, 0));
    if (!out) return 0;
  }
  MlirLocation loc = mlirOperationGetLocation(op);
  MlirOperation at = out->q;
  double twice = 2.0 * fmax(a->scale, b->scale);
  const double kShift = 1048576.0; /* 2^20 */
  MlirValue xa = rescale(c, at, loc, intOf(c, a), a->scale / twice * kShift, a->zp, 0, 32);
  MlirValue xb = rescale(c, at, loc, intOf(c, b), b->scale / twice * kShift, b->zp, 0, 32);
  if (!xa.ptr || !xb.ptr) {
    remark(op, "add stays float: rescale out of range");
    return 0;
  }
  MlirValue sum = op2(at, loc, "tosa.add", xa, xb, mlirValueGetType(xa));
  MlirValue y = rescale(c, at, loc, sum, twice / (kShift * out->scale), 0, out->zp, 8);
  if (!y.ptr) {
    remark(op, "add stays float: rescale out of range");
    return 0;
  }
  out->i8 = finishOutput(at, loc, y, out, clamp);
  out->lowered = 1;
  remark(op, "residual add lowered to int8 (inputs rescaled to int32, sum requantized)");
  return 1;
}

/* avg_pool2d: TOSA int8 average (in the input's parameters), then a rescale
 * if the output point's parameters differ. */
static int lowerAvgPool(Ctx *c, MlirOperation op) {
  Point *in = pointOfDcast(c, mlirOperationGetOperand(op, 0));
  Point *out = pointOfQcastUser(c, mlirOperationGetResult(op, 0));
  if (!in || !out) return 0;
  MlirLocation loc = mlirOperationGetLocation(op);
  MlirOperation at = out->q;
  MlirValue ops[3] = {intOf(c, in), scalarConst(at, loc, 8, in->zp), scalarConst(at, loc, 8, in->zp)};
  MlirType t = tensorOf(mlirValueGetType(mlirOperationGetResult(op, 0)), mlirIntegerTypeGet(c->ctx, 8));
  MlirNamedAttribute attrs[4];
  const char *keep[3] = {"kernel", "stride", "pad"};
  for (int k = 0; k < 3; ++k) attrs[k] = qoNamedAttr(c->ctx, keep[k], mlirOperationGetAttributeByName(op, qoStr(keep[k])));
  attrs[3] = qoNamedAttr(c->ctx, "acc_type", mlirTypeAttrGet(mlirIntegerTypeGet(c->ctx, 32)));
  MlirValue y = mlirOperationGetResult(qoCreateOpBefore(at, "tosa.avg_pool2d", loc, 3, ops, 1, &t, 4, attrs), 0);
  if (!sameParams(in, out)) {
    y = rescale(c, at, loc, y, in->scale / out->scale, in->zp, out->zp, 8);
    if (!y.ptr) return 0;
    y = finishOutput(at, loc, y, out, (MlirOperation){NULL});
  }
  out->i8 = y;
  out->lowered = 1;
  return 1;
}

/* concat of points: inputs with other parameters are requantized (int8 ->
 * int8 rescale) to the output's. */
static int lowerConcat(Ctx *c, MlirOperation op) {
  Point *out = pointOfQcastUser(c, mlirOperationGetResult(op, 0));
  intptr_t n = mlirOperationGetNumOperands(op);
  if (!out || n > 64) return 0;
  Point *ins[64];
  for (intptr_t k = 0; k < n; ++k)
    if (!(ins[k] = pointOfDcast(c, mlirOperationGetOperand(op, k)))) return 0;
  MlirLocation loc = mlirOperationGetLocation(op);
  MlirOperation at = out->q;
  MlirValue vs[64];
  for (intptr_t k = 0; k < n; ++k) {
    vs[k] = intOf(c, ins[k]);
    if (!sameParams(ins[k], out)) {
      vs[k] = rescale(c, at, loc, vs[k], ins[k]->scale / out->scale, ins[k]->zp, out->zp, 8);
      if (!vs[k].ptr) return 0;
      remark(op, "concat input requantized to the output's scale");
    }
  }
  MlirType t = tensorOf(mlirValueGetType(mlirOperationGetResult(op, 0)), mlirIntegerTypeGet(c->ctx, 8));
  MlirNamedAttribute ax = qoNamedAttr(c->ctx, "axis", mlirOperationGetAttributeByName(op, qoStr("axis")));
  out->i8 = mlirOperationGetResult(qoCreateOpBefore(at, "tosa.concat", loc, n, vs, 1, &t, 1, &ax), 0);
  out->lowered = 1;
  return 1;
}

/* max_pool2d between two points with the same parameters. */
static int lowerMaxPool(Ctx *c, MlirOperation op) {
  Point *in = pointOfDcast(c, mlirOperationGetOperand(op, 0));
  Point *out = pointOfQcastUser(c, mlirOperationGetResult(op, 0));
  if (!in || !out) return 0;
  if (!sameParams(in, out)) {
    remark(op, "max_pool2d between points with different scales stays float (propagate the scale: quant-apply-calibration does)");
    return 0;
  }
  MlirValue x = intOf(c, in);
  MlirType t = tensorOf(mlirValueGetType(mlirOperationGetResult(op, 0)), mlirIntegerTypeGet(c->ctx, 8));
  MlirNamedAttribute attrs[3];
  const char *keep[3] = {"kernel", "stride", "pad"};
  for (int k = 0; k < 3; ++k)
    attrs[k] = qoNamedAttr(c->ctx, keep[k], mlirOperationGetAttributeByName(op, qoStr(keep[k])));
  out->i8 = mlirOperationGetResult(qoCreateOpBefore(out->q, "tosa.max_pool2d", mlirOperationGetLocation(op),
                                                    1, &x, 1, &t, 3, attrs), 0);
  out->lowered = 1;
  return 1;
}

static int deadAndPure(MlirOperation op) {
  for (intptr_t i = 0; i < mlirOperationGetNumResults(op); ++i)
    if (!mlirOpOperandIsNull(mlirValueGetFirstUse(mlirOperationGetResult(op, i)))) return 0;
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  return (n.length > 5 && !memcmp(n.data, "tosa.", 5)) || (n.length > 6 && !memcmp(n.data, "quant.", 6)) ||
         (n.length > 6 && !memcmp(n.data, "arith.", 6)) || (n.length > 5 && !memcmp(n.data, "math.", 5));
}

static void run(MlirOperation func, MlirExternalPass pass, const char *const *values) {
  (void)values;
  Ctx c = {mlirOperationGetContext(func), NULL, 0, 0};
  qoOpList qs = {0};
  qoCollectOps(func, "quant.qcast", &qs);
  c.pts = calloc(qs.size ? qs.size : 1, sizeof *c.pts);
  for (size_t i = 0; i < qs.size; ++i) {
    MlirOperation q = qs.ops[i];
    if (qoIsConstant(mlirOperationGetOperand(q, 0))) continue; /* weights */
    MlirType qt = mlirShapedTypeGetElementType(mlirValueGetType(mlirOperationGetResult(q, 0)));
    if (!mlirAttributeIsNull(mlirOperationGetAttributeByName(q, qoStr("qo.uncalibrated")))) {
      mlirEmitError(mlirOperationGetLocation(q), "quant-lower-to-integer needs calibrated quantization points "
                                                 "(run calibration or quant-apply-calibration first)");
      c.failed = 1;
      continue;
    }
    if (qoCheckQuantType(q, qt)) {
      c.failed = 1;
      continue;
    }
    MlirOperation d = qoDCastOf(q), sOut = {NULL};
    if (mlirOperationIsNull(d)) { /* qcast -> scast: an integer model output */
      MlirOpOperand u = mlirValueGetFirstUse(mlirOperationGetResult(q, 0));
      if (!mlirOpOperandIsNull(u) && mlirOpOperandIsNull(mlirOpOperandGetNextUse(u)) &&
          qoOpIs(mlirOpOperandGetOwner(u), "quant.scast"))
        sOut = mlirOpOperandGetOwner(u);
    }
    if ((mlirOperationIsNull(d) && mlirOperationIsNull(sOut)) || !mlirTypeIsAUniformQuantizedType(qt)) continue;
    Point *p = &c.pts[c.n++];
    p->q = q;
    p->d = d;
    p->sOut = sOut;
    p->scale = (float)mlirUniformQuantizedTypeGetScale(qt);
    int isSigned = (mlirQuantizedTypeGetFlags(qt) & mlirQuantizedTypeGetSignedFlag()) != 0;
    p->isUnsigned = !isSigned;
    int shiftBy = isSigned ? 0 : 128;
    p->zp = (int)mlirUniformQuantizedTypeGetZeroPoint(qt) - shiftBy;
    p->qmin = (int)mlirQuantizedTypeGetStorageTypeMin(qt) - shiftBy;
    p->qmax = (int)mlirQuantizedTypeGetStorageTypeMax(qt) - shiftBy;
  }
  qoOpListFree(&qs);
  /* Integer model inputs: quant.scast (integer -> quant) feeding a dcast. */
  qoOpList ss = {0};
  qoCollectOps(func, "quant.scast", &ss);
  c.pts = realloc(c.pts, (c.n + ss.size + 1) * sizeof *c.pts);
  for (size_t i = 0; i < ss.size; ++i) {
    MlirOperation sc = ss.ops[i];
    MlirType qt = mlirShapedTypeGetElementType(mlirValueGetType(mlirOperationGetResult(sc, 0)));
    MlirType it = mlirShapedTypeGetElementType(mlirValueGetType(mlirOperationGetOperand(sc, 0)));
    if (!mlirTypeIsAUniformQuantizedType(qt) || !mlirTypeIsAInteger(it) || mlirIntegerTypeGetWidth(it) != 8)
      continue;
    MlirOperation d = qoDCastOf(sc);
    if (mlirOperationIsNull(d) || qoCheckQuantType(sc, qt)) continue;
    Point *p = &c.pts[c.n++];
    memset(p, 0, sizeof *p);
    p->q = sc;
    p->d = d;
    p->fromInt = 1;
    p->scale = (float)mlirUniformQuantizedTypeGetScale(qt);
    p->isUnsigned = (mlirQuantizedTypeGetFlags(qt) & mlirQuantizedTypeGetSignedFlag()) == 0;
    int shiftBy = p->isUnsigned ? 128 : 0;
    p->zp = (int)mlirUniformQuantizedTypeGetZeroPoint(qt) - shiftBy;
    p->qmin = (int)mlirQuantizedTypeGetStorageTypeMin(qt) - shiftBy;
    p->qmax = (int)mlirQuantizedTypeGetStorageTypeMax(qt) - shiftBy;
  }
  qoOpListFree(&ss);
  if (c.failed) {
    free(c.pts);
    mlirExternalPassSignalFailure(pass);
    return;
  }
  /* Lower groups in program order. */
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  qoOpList ops = {0};
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (ops.size == ops.capacity) {
      size_t nc = ops.capacity ? 2 * ops.capacity : 64;
      ops.ops = realloc(ops.ops, nc * sizeof *ops.ops);
      ops.capacity = nc;
    }
    ops.ops[ops.size++] = op;
  }
  for (size_t i = 0; i < ops.size; ++i) {
    MlirOperation op = ops.ops[i];
    if (qoOpIs(op, "tosa.conv2d") || qoOpIs(op, "tosa.depthwise_conv2d") || qoOpIs(op, "tosa.matmul"))
      lowerCompute(&c, op);
    else if (qoOpIs(op, "tosa.max_pool2d"))
      lowerMaxPool(&c, op);
    else if (qoOpIs(op, "tosa.avg_pool2d"))
      lowerAvgPool(&c, op);
    else if (qoOpIs(op, "tosa.concat"))
      lowerConcat(&c, op);
    else if (qoOpIs(op, "tosa.add") && !qoIsConstant(mlirOperationGetOperand(op, 0)) &&
             !qoIsConstant(mlirOperationGetOperand(op, 1)))
      lowerAdd(&c, op);
  }
  qoOpListFree(&ops);
  /* Points fed by data movement of another point's int8 value. */
  for (size_t i = 0; i < c.n; ++i) {
    Point *p = &c.pts[i];
    if (p->i8.ptr) continue;
    MlirValue v = throughPreserving(&c, p);
    if (v.ptr) {
      p->i8 = v;
      p->lowered = 1;
    }
  }
  /* Rewire: int8 consumers use p->i8 already; float consumers of the dcast
   * get the dequantized int8 value; then the float groups die. */
  for (size_t i = 0; i < c.n; ++i) {
    Point *p = &c.pts[i];
    if (!p->i8.ptr) continue;
    if (p->fromInt && !p->lowered) {
      /* An integer input: its dcast goes only if every consumer is integer. */
      MlirValue dv = mlirOperationGetResult(p->d, 0);
      if (!mlirOpOperandIsNull(mlirValueGetFirstUse(dv))) {
        MlirValue f = dequantize(&c, p, p->d);
        mlirValueReplaceAllUsesOfWith(dv, f);
      }
      mlirOperationDestroy(p->d);
      mlirOperationDestroy(p->q);
      continue;
    }
    if (!mlirOperationIsNull(p->sOut)) {
      /* An integer model output: back to the storage bits. */
      MlirValue bits = p->isUnsigned ? flipSign(&c, p->sOut, mlirOperationGetLocation(p->sOut), p->i8) : p->i8;
      mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(p->sOut, 0), bits);
      mlirOperationDestroy(p->sOut);
      mlirOperationDestroy(p->q);
      continue;
    }
    MlirValue dv = mlirOperationGetResult(p->d, 0);
    if (!mlirOpOperandIsNull(mlirValueGetFirstUse(dv))) {
      MlirValue f = dequantize(&c, p, p->d);
      mlirValueReplaceAllUsesOfWith(dv, f);
    }
    mlirOperationDestroy(p->d);
    mlirOperationDestroy(p->q);
  }
  free(c.pts);
  if (c.failed) {
    mlirExternalPassSignalFailure(pass);
    return;
  }
  /* Remove the float ops the integer groups replaced. */
  for (int changed = 1; changed;) {
    changed = 0;
    MlirOperation op = mlirBlockGetFirstOperation(body);
    while (!mlirOperationIsNull(op)) {
      MlirOperation next = mlirOperationGetNextInBlock(op);
      if (deadAndPure(op)) {
        mlirOperationDestroy(op);
        changed = 1;
      }
      op = next;
    }
  }
}

const qoPassDef qoLowerToIntegerPass = {
    .argument = "quant-lower-to-integer",
    .anchor = "func.func",
    .summary = "Lower calibrated Q-DQ groups to int8 TOSA arithmetic (i32 accumulation, fixed-point requantization)",
    .run = run,
};
