/* quant-x86-kernels: int8 convolutions and matmuls to generated x86 kernels.
 *
 * Runs on integer TOSA (after quant-lower-to-integer), before the TOSA ->
 * linalg lowering. It matches
 *
 *   %acc = tosa.conv2d %x, %w, %bias, %xzp, %wzp   (i8 x i8 -> i32, constant
 *          weights, bias and zero points, weight zero point 0, dilation 1)
 *   [%q  = tosa.rescale %acc ...   (constant multiplier/shift, input zp 0)
 *   [%c  = tosa.clamp %q ...]]     (fused into the kernel's store)
 *
 * (an int8 Gemm/MatMul with constant weights arrives here as a 1x1 conv2d)
 * and replaces it with a call to a kernel generated for that one shape:
 *
 *   %xm = bufferization.to_buffer %x read_only
 *   %ym = memref.alloc()
 *   func.call @qo_conv<k>(%xm, %ym)
 *   %y  = bufferization.to_tensor %ym restrict writable
 *
 * The kernel (a private func.func on memrefs) is an implicit GEMM:
 *  - the input is copied once into a padded buffer (padding = input zero
 *    point, channels rounded up to 4) and flipped from s8 to u8 (x ^ 0x80);
 *  - weights are packed at compile time as [OC/16][KH][KW][C/4][16][4], the
 *    layout vpdpbusd reads (16 output channels x 4 input channels);
 *  - the bias absorbs both the input zero point and the u8 shift:
 *    bias' = bias - (zx + 128) * sum(w), so padded pixels contribute 0;
 *  - an R x J register tile (R output pixels x J blocks of 16 channels) is
 *    accumulated over (kh, kw, c/4) and stored through the fused epilogue:
 *    int32, or TOSA rescale (SINGLE_ROUND: (acc*m + 2^(s-1)) >> s, in i64)
 *    + output zero point + clamp, as int8.
 * 1x1 stride-1 unpadded convolutions (and matmuls) tile the flattened pixel
 * dimension, so a matmul with M rows gets full R-row tiles.
 *
 * One kernel body per ISA: `avx512-vnni` (llvm.x86.avx512.vpdpbusd.512),
 * `avx-vnni` (the same tile on ymm halves, llvm.x86.avx512.vpdpbusd.256
 * under +avxvnni: the VEX encoding), `avx2` and `portable` (the same
 * arithmetic in generic vector ops, which LLVM lowers for the function's
 * target features). With isa=auto all four are emitted behind a dispatcher
 * that calls qrt_kernel_isa() (runtime/cpu.c): the preferred body whose
 * every target feature the CPU has (cpuid + xgetbv, once per process);
 * QO_ISA=portable|avx2|avx-vnni|avx512-vnni picks one the CPU supports, and a
 * request it does not support falls back, with one message, to the best
 * supported body below it. All paths compute the same integers (bit-exact
 * with the TOSA reference).
 *
 * Threads: kernels of at least parallel-min-ops operations split their outer
 * tasks (output rows, channel tiles or pixel chunks) over an OpenMP
 * worksharing loop; OMP_NUM_THREADS sets the count. */
#include "passes/PassDef.h"
#include "passes/ContextConfig.h"
#include "support/buffer.h"
#include "passes/PassUtils.h"
#include "passes/QuantUtils.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text output ------------------------------------------------------------ */

typedef qoBuf Buf;

static void bp(Buf *b, const char *fmt, ...) QO_PRINTF(2, 3);
static void bp(Buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  qoBufVPrintf(b, fmt, ap);
  va_end(ap);
}

/* ---- the matched convolution ----------------------------------------------- */

enum { ISA_PORTABLE, ISA_AVX2, ISA_AVXVNNI, ISA_VNNI512, ISA_COUNT };
static const char *const kIsaName[ISA_COUNT] = {"portable", "avx2", "avx-vnni", "avx512-vnni"};
static const char *const kIsaSuffix[ISA_COUNT] = {"_portable", "_avx2", "_avx_vnni", "_avx512_vnni"};
/* qrt_kernel_isa() (runtime/cpu.c, qrt_isa_t) returns these numbers, and
 * qrt_isa_requirements(isa) is exactly the feature list below (with what
 * LLVM implies from it): keep them in step. */
_Static_assert(ISA_COUNT == 4, "the dispatcher and qrt_isa_t know four bodies");
static const char *const kIsaFeatures[ISA_COUNT] = {
    NULL, "\"+avx2\", \"+fma\"", "\"+avx2\", \"+fma\", \"+avxvnni\"",
    "\"+avx512f\", \"+avx512bw\", \"+avx512dq\", \"+avx512vl\", \"+avx512vnni\""};

typedef struct Conv {
  int64_t N, H, W, C, OC, KH, KW, SH, SW, PT, PB, PL, PR, OH, OW;
  int64_t zx;          /* input zero point (s8) */
  int pointwise;       /* 1x1, stride 1, no padding: flattened pixels */
  int64_t Cp, C4, Hp, Wp, OCB, OCP;
  int outI8;           /* fused rescale (+clamp) epilogue, int8 output */
  int64_t ozp, lo, hi; /* int8 epilogue: output zero point, clamp bounds */
  int zpFolded;        /* ozp << shift folded into the rounding constant */
  int kwPack;          /* C * KW <= 4: the taps of a kernel row are one 4-byte group */
  int32_t *corrTop, *corrBot; /* [KH+1][OCP]: int8 padded-row compensation (skipRows) */
  int8_t *wpack;       /* [OCB][KH][KW][C4][16][4] */
  int64_t *bias;       /* OCP, with the compensation folded in */
  int64_t *mult, *rnd, *shift; /* OCP each (int8 epilogue) */
  /* fp32 convolutions and matmuls */
  int isFloat;
  int matmul;          /* tosa.matmul [1,M,K] x const [1,K,N]: M pixels of a 1x1 conv */
  int copy;            /* fp32: padded input copy needed */
  float *wpackF;       /* [OCB][KH][KW][C][16] */
  float *biasF;        /* OCP */
  int clampF;          /* fused float clamp */
  int dw;              /* int8 depthwise (channel multiplier 1) */
  int32_t *wdw;        /* depthwise weights [KH][KW][OCP] as int32 */
  float flo, fhi;
} Conv;

static void convFree(Conv *c) {
  free(c->wpack), free(c->bias), free(c->mult), free(c->rnd), free(c->shift);
  free(c->wpackF), free(c->biasF), free(c->wdw), free(c->corrTop), free(c->corrBot);
}

/* The kernel's reduction trips per kernel row: with kwPack one 4-byte group
 * holds the whole row of taps (the C * KW bytes are contiguous in an NHWC row). */
static int64_t kwTrips(const Conv *c) { return c->kwPack ? 1 : c->KW; }
static int64_t c4Trips(const Conv *c) { return c->kwPack ? 1 : c->C4; }
static long long weightBytes(const Conv *c) { return (long long)(c->OCB * c->KH * kwTrips(c) * c4Trips(c) * 64); }

/* Whether output rows skip the kernel rows that fall in the top/bottom
 * padding (spatial convs with vertical padding). */
static int skipsRows(const Conv *c) {
  return !c->pointwise && !c->dw && c->KH > 1 && (c->PT || c->PB);
}

static int64_t dim(MlirValue v, int i) { return mlirShapedTypeGetDimSize(mlirValueGetType(v), i); }

static int isIntTensor(MlirValue v, unsigned width) {
  MlirType t = mlirValueGetType(v);
  if (!mlirTypeIsARankedTensor(t) || !mlirShapedTypeHasStaticShape(t)) return 0;
  MlirType e = mlirShapedTypeGetElementType(t);
  return mlirTypeIsAInteger(e) && mlirIntegerTypeGetWidth(e) == width;
}

static int arrayAttr(MlirOperation op, const char *name, int n, int64_t *out) {
  MlirAttribute a = mlirOperationGetAttributeByName(op, qoStr(name));
  if (mlirAttributeIsNull(a) || !mlirAttributeIsADenseI64Array(a) ||
      mlirDenseArrayGetNumElements(a) != n)
    return 0;
  for (int i = 0; i < n; ++i) out[i] = mlirDenseI64ArrayGetElement(a, i);
  return 1;
}

static MlirOperation onlyUser(MlirValue v) {
  MlirOpOperand u = mlirValueGetFirstUse(v);
  if (mlirOpOperandIsNull(u) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(u)))
    return (MlirOperation){NULL};
  return mlirOpOperandGetOwner(u);
}

static void appendCb(MlirStringRef r, void *ud) { qoBufAppendN(ud, r.data, r.length); }

/* Whether op has attribute `name` printing exactly as `want`, or (when
 * `want` is NULL) whether it contains `part`. Absent: `absent`. */
static int attrIs(MlirOperation op, const char *name, const char *want, const char *part, int absent) {
  MlirAttribute a = mlirOperationGetAttributeByName(op, qoStr(name));
  if (mlirAttributeIsNull(a)) return absent;
  qoBuf t = {0};
  mlirAttributePrint(a, appendCb, &t);
  char *text = qoBufTake(&t);
  int r = text && (want ? !strcmp(text, want) : strstr(text, part) != NULL);
  free(text);
  return r;
}

static int64_t *ints(MlirValue v, int64_t want, int64_t *n) {
  int64_t *p = qoGetConstInts(v, n);
  if (p && want >= 0 && *n != want && *n != 1) { free(p); return NULL; }
  return p;
}

/* The geometry of a tosa.conv2d (OHWI weights) or, with dw, of a
 * tosa.depthwise_conv2d (HWCM weights, multiplier 1): sizes, padding,
 * strides. 0 unless it has 5 operands, dilation 1 and consistent shapes. */
static int convGeometry(MlirOperation op, int dw, Conv *c) {
  if (mlirOperationGetNumOperands(op) != 5) return 0;
  MlirValue x = mlirOperationGetOperand(op, 0), w = mlirOperationGetOperand(op, 1);
  MlirValue y = mlirOperationGetResult(op, 0);
  int64_t pad[4], st[2], dil[2];
  if (!arrayAttr(op, "pad", 4, pad) || !arrayAttr(op, "stride", 2, st) ||
      !arrayAttr(op, "dilation", 2, dil) || dil[0] != 1 || dil[1] != 1 || st[0] < 1 || st[1] < 1)
    return 0;
  c->dw = dw;
  c->N = dim(x, 0), c->H = dim(x, 1), c->W = dim(x, 2), c->C = dim(x, 3);
  c->OC = dw ? c->C : dim(w, 0), c->KH = dim(w, dw ? 0 : 1), c->KW = dim(w, dw ? 1 : 2);
  c->OH = dim(y, 1), c->OW = dim(y, 2);
  c->PT = pad[0], c->PB = pad[1], c->PL = pad[2], c->PR = pad[3], c->SH = st[0], c->SW = st[1];
  if (dw ? dim(w, 2) != c->C || dim(w, 3) != 1 : dim(w, 3) != c->C) return 0;
  if (dim(y, 3) != c->OC || dim(y, 0) != c->N || c->KH > 64) return 0;
  return (c->H + c->PT + c->PB - c->KH) / c->SH + 1 == c->OH &&
         (c->W + c->PL + c->PR - c->KW) / c->SW + 1 == c->OW;
}

/* int8: operands 0-2 are i8 input, constant i8 weights (nw elements) and
 * constant i32 bias (OC or 1 elements, *nb), the result is i32; operand 3 is
 * the constant input zero point, operand 4 the weight zero point, which must
 * be 0. On success *wv and *bv hold the weights and bias (caller frees). */
static int int8Operands(MlirOperation op, Conv *c, int64_t nw, int64_t **wv, int64_t **bv, int64_t *nb) {
  MlirValue x = mlirOperationGetOperand(op, 0), w = mlirOperationGetOperand(op, 1);
  MlirValue b = mlirOperationGetOperand(op, 2), y = mlirOperationGetResult(op, 0);
  if (!isIntTensor(x, 8) || !isIntTensor(w, 8) || !isIntTensor(y, 32) || !isIntTensor(b, 32)) return 0;
  int64_t n;
  int64_t *zx = ints(mlirOperationGetOperand(op, 3), 1, &n);
  int64_t *zw = ints(mlirOperationGetOperand(op, 4), 1, &n);
  int ok = zx && zw && zw[0] == 0;
  c->zx = zx ? zx[0] : 0;
  free(zx), free(zw);
  int64_t got = 0;
  *wv = ok ? ints(w, -1, &got) : NULL;
  *bv = ok ? ints(b, c->OC, nb) : NULL;
  if (*wv && *bv && got == nw) return 1;
  free(*wv), free(*bv);
  *wv = *bv = NULL;
  return 0;
}

/* The int8 epilogue: tosa.rescale (+ tosa.clamp) when it is the only user
 * of conv's int32 result; returns the last op the kernel replaces. */
static MlirOperation matchRequant(Conv *c, MlirOperation conv) {
  MlirOperation result = conv;
  MlirValue y = mlirOperationGetResult(conv, 0);
  MlirOperation rs = onlyUser(y);
  if (qoOpIs(rs, "tosa.rescale") && mlirOperationGetNumOperands(rs) == 5 &&
      isIntTensor(mlirOperationGetResult(rs, 0), 8) &&
      attrIs(rs, "rounding_mode", NULL, "SINGLE_ROUND", 0) && attrIs(rs, "input_unsigned", "false", NULL, 1) &&
      attrIs(rs, "output_unsigned", "false", NULL, 1)) {
    int64_t nm, ns, ni, no;
    int64_t *m = ints(mlirOperationGetOperand(rs, 1), c->OC, &nm);
    int64_t *sh = ints(mlirOperationGetOperand(rs, 2), c->OC, &ns);
    int64_t *izp = ints(mlirOperationGetOperand(rs, 3), 1, &ni);
    int64_t *ozp = ints(mlirOperationGetOperand(rs, 4), 1, &no);
    int good = m && sh && izp && ozp && izp[0] == 0 && nm == ns;
    for (int64_t i = 0; good && i < ns; ++i) good = sh[i] >= 2 && sh[i] <= 62;
    if (good) {
      c->mult = calloc((size_t)c->OCP, sizeof(int64_t));
      c->rnd = calloc((size_t)c->OCP, sizeof(int64_t));
      c->shift = calloc((size_t)c->OCP, sizeof(int64_t));
      good = c->mult && c->rnd && c->shift;
    }
    if (good) {
      for (int64_t o = 0; o < c->OCP; ++o) {
        int64_t k = o < c->OC ? (nm == 1 ? 0 : o) : 0;
        c->mult[o] = m[k], c->shift[o] = sh[k], c->rnd[o] = (int64_t)1 << (sh[k] - 1);
      }
      c->outI8 = 1, c->ozp = ozp[0], c->lo = -128, c->hi = 127;
      c->zpFolded = 1;
      for (int64_t i = 0; i < ns; ++i) c->zpFolded &= sh[i] <= 55;
      result = rs;
      /* A following int8 clamp narrows the bounds. */
      MlirOperation cl = onlyUser(mlirOperationGetResult(rs, 0));
      if (qoOpIs(cl, "tosa.clamp") && isIntTensor(mlirOperationGetResult(cl, 0), 8)) {
        MlirAttribute lo = mlirOperationGetAttributeByName(cl, qoStr("min_val"));
        MlirAttribute hi = mlirOperationGetAttributeByName(cl, qoStr("max_val"));
        if (!mlirAttributeIsNull(lo) && !mlirAttributeIsNull(hi) && mlirAttributeIsAInteger(lo) &&
            mlirAttributeIsAInteger(hi)) {
          int64_t l = mlirIntegerAttrGetValueInt(lo), h = mlirIntegerAttrGetValueInt(hi);
          c->lo = l > c->lo ? l : c->lo, c->hi = h < c->hi ? h : c->hi;
          if (c->lo > c->hi) c->lo = c->hi;
          result = cl;
        }
      }
    } else {
      free(c->mult), free(c->rnd), free(c->shift);
      c->mult = c->rnd = c->shift = NULL;
    }
    free(m), free(sh), free(izp), free(ozp);
  }
  return result;
}

/* Analyzes conv; fills c and returns the op whose result the kernel replaces
 * (conv, rescale or clamp), or a null op if the pattern does not apply. */
static MlirOperation matchConv(MlirOperation conv, Conv *c) {
  memset(c, 0, sizeof *c);
  MlirOperation none = {NULL};
  int64_t *wv, *bv, nb;
  if (!convGeometry(conv, 0, c) || !int8Operands(conv, c, c->OC * c->KH * c->KW * c->C, &wv, &bv, &nb))
    return none;

  c->pointwise = c->KH == 1 && c->KW == 1 && c->SH == 1 && c->SW == 1 &&
                 !(c->PT | c->PB | c->PL | c->PR);
  c->kwPack = !c->pointwise && c->KW > 1 && c->C * c->KW <= 4;
  c->Cp = c->kwPack ? c->C : (c->C + 3) / 4 * 4, c->C4 = (c->C + 3) / 4;
  c->Hp = c->H + c->PT + c->PB, c->Wp = c->W + c->PL + c->PR;
  c->OCB = (c->OC + 15) / 16, c->OCP = c->OCB * 16;
  size_t wbytes = (size_t)weightBytes(c);
  c->wpack = calloc(wbytes, 1);
  c->bias = calloc((size_t)c->OCP, sizeof(int64_t));
  if (!c->wpack || !c->bias) { free(wv), free(bv); convFree(c); return none; }
  for (int64_t o = 0; o < c->OC; ++o) {
    int64_t sum = 0;
    for (int64_t kh = 0; kh < c->KH; ++kh)
      for (int64_t kw = 0; kw < c->KW; ++kw)
        for (int64_t ci = 0; ci < c->C; ++ci) {
          int64_t v = wv[((o * c->KH + kh) * c->KW + kw) * c->C + ci];
          sum += v;
          size_t at = c->kwPack ? (size_t)(((o / 16) * c->KH + kh) * 64 + (o % 16) * 4 + kw * c->C + ci)
                                : (size_t)(((((o / 16) * c->KH + kh) * c->KW + kw) * c->C4 + ci / 4) * 64 +
                                           (o % 16) * 4 + ci % 4);
          c->wpack[at] = (int8_t)v;
        }
    c->bias[o] = bv[nb == 1 ? 0 : o] - (c->zx + 128) * sum;
  }
  /* Skipped padding rows would have added (zx + 128) * (that row's weight
   * sum) in u8 arithmetic: corrTop[k] adds it back for rows kh < k,
   * corrBot[k] for rows kh >= k. */
  c->corrTop = calloc((size_t)((c->KH + 1) * c->OCP), sizeof(int32_t));
  c->corrBot = calloc((size_t)((c->KH + 1) * c->OCP), sizeof(int32_t));
  if (!c->corrTop || !c->corrBot) { free(wv), free(bv); convFree(c); return none; }
  for (int64_t o = 0; o < c->OC; ++o) {
    int64_t row[64] = {0};
    for (int64_t kh = 0; kh < c->KH && kh < 64; ++kh)
      for (int64_t i = 0; i < c->KW * c->C; ++i) row[kh] += wv[(o * c->KH + kh) * c->KW * c->C + i];
    int64_t acc = 0;
    for (int64_t k = 0; k <= c->KH; ++k) {
      c->corrTop[k * c->OCP + o] = (int32_t)(uint32_t)acc;
      if (k < c->KH) acc += (c->zx + 128) * row[k];
    }
    acc = 0;
    for (int64_t k = c->KH; k >= 0; --k) {
      if (k < c->KH) acc += (c->zx + 128) * row[k];
      c->corrBot[k * c->OCP + o] = (int32_t)(uint32_t)acc;
    }
  }
  free(wv), free(bv);

  return matchRequant(c, conv);
}


/* int8 tosa.depthwise_conv2d with channel multiplier 1, constant weights
 * [KH][KW][C][1], bias and zero points (weight zero point 0), dilation 1. */
static MlirOperation matchDepthwise(MlirOperation op, Conv *c) {
  memset(c, 0, sizeof *c);
  MlirOperation none = {NULL};
  int64_t *wv, *bv, nb;
  if (!convGeometry(op, 1, c) || !int8Operands(op, c, c->KH * c->KW * c->C, &wv, &bv, &nb)) return none;
  c->OCB = (c->C + 15) / 16, c->OCP = c->OCB * 16;
  c->Cp = c->OCP, c->C4 = c->Cp;
  c->Hp = c->H + c->PT + c->PB, c->Wp = c->W + c->PL + c->PR;
  c->wdw = calloc((size_t)(c->KH * c->KW * c->OCP), sizeof(int32_t));
  c->bias = calloc((size_t)c->OCP, sizeof(int64_t));
  if (!c->wdw || !c->bias) { free(wv), free(bv); convFree(c); return none; }
  for (int64_t ch = 0; ch < c->C; ++ch) {
    int64_t sum = 0;
    for (int64_t k = 0; k < c->KH * c->KW; ++k) {
      int64_t v = wv[k * c->C + ch];
      sum += v;
      c->wdw[k * c->OCP + ch] = (int32_t)v;
    }
    /* Padding holds the zero point, so (x - zx) * w == x * w - zx * w everywhere. */
    c->bias[ch] = bv[nb == 1 ? 0 : ch] - c->zx * sum;
  }
  free(wv), free(bv);
  return matchRequant(c, op);
}

static int isF32Tensor(MlirValue v) {
  MlirType t = mlirValueGetType(v);
  return mlirTypeIsARankedTensor(t) && mlirShapedTypeHasStaticShape(t) &&
         mlirTypeIsAF32(mlirShapedTypeGetElementType(t));
}

static int allZero(MlirValue v) {
  int64_t n;
  double *z = qoGetConstDoubles(v, &n);
  int ok = z != NULL;
  for (int64_t i = 0; ok && i < n; ++i) ok = z[i] == 0.0;
  free(z);
  return ok;
}

static MlirOperation matchClampF(Conv *c, MlirOperation op);

/* fp32: tosa.conv2d (f32, constant weights and bias, zero points 0,
 * dilation 1) or tosa.matmul [1,M,K] x constant [1,K,N], then an optional
 * float clamp (ReLU, ReLU6). Weights packed [OC/16][KH][KW][C][16]. */
static MlirOperation matchFloat(MlirOperation op, Conv *c) {
  memset(c, 0, sizeof *c);
  MlirOperation none = {NULL};
  c->isFloat = 1;
  MlirValue x = mlirOperationGetOperand(op, 0), w = mlirOperationGetOperand(op, 1);
  MlirValue y = mlirOperationGetResult(op, 0);
  if (!isF32Tensor(x) || !isF32Tensor(w) || !isF32Tensor(y)) return none;
  int64_t nw, nb = 0;
  double *wv = NULL, *bv = NULL;
  if (qoOpIs(op, "tosa.conv2d") || qoOpIs(op, "tosa.depthwise_conv2d")) {
    int dw = qoOpIs(op, "tosa.depthwise_conv2d");
    if (!convGeometry(op, dw, c) || !allZero(mlirOperationGetOperand(op, 3)) ||
        !allZero(mlirOperationGetOperand(op, 4)))
      return none;
    wv = qoGetConstDoubles(w, &nw);
    bv = qoGetConstDoubles(mlirOperationGetOperand(op, 2), &nb);
    if (!wv || !bv || nw != (dw ? 1 : c->OC) * c->KH * c->KW * c->C || (nb != 1 && nb != c->OC)) {
      free(wv), free(bv);
      return none;
    }
  } else if (qoOpIs(op, "tosa.matmul")) {
    if (mlirOperationGetNumOperands(op) != 4 || dim(x, 0) != 1 || dim(w, 0) != 1) return none;
    if (!allZero(mlirOperationGetOperand(op, 2)) || !allZero(mlirOperationGetOperand(op, 3))) return none;
    int64_t M = dim(x, 1), K = dim(x, 2), N = dim(w, 2);
    if (dim(w, 1) != K || dim(y, 1) != M || dim(y, 2) != N) return none;
    double *bm = qoGetConstDoubles(w, &nw);
    if (!bm || nw != K * N) { free(bm); return none; }
    wv = malloc((size_t)(K * N) * sizeof *wv);
    if (!wv) { free(bm); return none; }
    for (int64_t k = 0; k < K; ++k)
      for (int64_t o = 0; o < N; ++o) wv[o * K + k] = bm[k * N + o];
    free(bm);
    c->matmul = 1;
    c->N = M, c->H = c->W = 1, c->C = K, c->OC = N, c->KH = c->KW = 1, c->OH = c->OW = 1;
    c->SH = c->SW = 1;
  } else {
    return none;
  }
  c->pointwise = !c->dw && c->KH == 1 && c->KW == 1 && c->SH == 1 && c->SW == 1 &&
                 !(c->PT | c->PB | c->PL | c->PR);
  c->Cp = c->C, c->C4 = c->C; /* fp32: one channel per step */
  if (c->dw) { /* [KH][KW][OCP] weights; the input padded to 16 channels */
    c->Hp = c->H + c->PT + c->PB, c->Wp = c->W + c->PL + c->PR;
    c->OCB = (c->OC + 15) / 16, c->OCP = c->OCB * 16, c->Cp = c->C4 = c->OCP;
    c->wpackF = calloc((size_t)(c->KH * c->KW * c->OCP), sizeof(float));
    c->biasF = calloc((size_t)c->OCP, sizeof(float));
    if (!c->wpackF || !c->biasF) { free(wv), free(bv); convFree(c); return none; }
    for (int64_t k = 0; k < c->KH * c->KW; ++k)
      for (int64_t ch = 0; ch < c->C; ++ch) c->wpackF[k * c->OCP + ch] = (float)wv[k * c->C + ch];
    for (int64_t ch = 0; ch < c->C; ++ch) c->biasF[ch] = (float)bv[nb == 1 ? 0 : ch];
    free(wv), free(bv);
    return matchClampF(c, op);
  }
  c->Hp = c->H + c->PT + c->PB, c->Wp = c->W + c->PL + c->PR;
  c->copy = c->Hp != c->H || c->Wp != c->W;
  c->OCB = (c->OC + 15) / 16, c->OCP = c->OCB * 16;
  c->wpackF = calloc((size_t)(c->OCB * c->KH * c->KW * c->C * 16), sizeof(float));
  c->biasF = calloc((size_t)c->OCP, sizeof(float));
  if (!c->wpackF || !c->biasF) { free(wv), free(bv); convFree(c); return none; }
  for (int64_t o = 0; o < c->OC; ++o) {
    for (int64_t kh = 0; kh < c->KH; ++kh)
      for (int64_t kw = 0; kw < c->KW; ++kw)
        for (int64_t ci = 0; ci < c->C; ++ci)
          c->wpackF[((((o / 16) * c->KH + kh) * c->KW + kw) * c->C + ci) * 16 + o % 16] =
              (float)wv[((o * c->KH + kh) * c->KW + kw) * c->C + ci];
    c->biasF[o] = bv ? (float)bv[nb == 1 ? 0 : o] : 0.0f;
  }
  free(wv), free(bv);
  return matchClampF(c, op);
}

/* A float clamp (ReLU, ReLU6) that is the only user of op's result. */
static MlirOperation matchClampF(Conv *c, MlirOperation op) {
  MlirValue y = mlirOperationGetResult(op, 0);
  MlirOperation last = op;
  MlirOperation cl = onlyUser(y);
  if (qoOpIs(cl, "tosa.clamp") && isF32Tensor(mlirOperationGetResult(cl, 0))) {
    MlirAttribute lo = mlirOperationGetAttributeByName(cl, qoStr("min_val"));
    MlirAttribute hi = mlirOperationGetAttributeByName(cl, qoStr("max_val"));
    if (!mlirAttributeIsNull(lo) && !mlirAttributeIsNull(hi) && mlirAttributeIsAFloat(lo) &&
        mlirAttributeIsAFloat(hi)) {
      c->clampF = 1;
      c->flo = (float)mlirFloatAttrGetValueDouble(lo);
      c->fhi = (float)mlirFloatAttrGetValueDouble(hi);
      last = cl;
    }
  }
  return last;
}

/* ---- text emission ----------------------------------------------------------- */

typedef struct Gen {
  Buf *b;
  const Conv *c;
  int isa;
  int parallel; /* OpenMP worksharing over the outer tasks */
  int mode;     /* int8 input: 0 padded copy, 1 read in place (xor on load), 2 rows staged per task */
  int skipRows; /* the kh loop runs over [khLo, khHi): rows of padding are skipped */
  char khLo[40], khHi[40];
  int id;       /* SSA counter */
} Gen;

struct Gen;
static long long xqSize(const struct Gen *g);
static long long stageBytes(const Conv *c);

/* Copies an SSA name (at most 39 characters) into a name buffer. */
static void setName(char *dst, const char *src) {
  size_t n = strlen(src);
  if (n > 39) n = 39;
  memcpy(dst, src, n);
  dst[n] = 0;
}

/* A fresh SSA name in `out` ("%t<k>"). */
static const char *fresh(Gen *g, char *out) {
  snprintf(out, 40, "%%t%d", g->id++);
  return out;
}

/* %t = arith.constant k : index */
static const char *cidx(Gen *g, char *out, int64_t k) {
  bp(g->b, "    %s = arith.constant %lld : index\n", fresh(g, out), (long long)k);
  return out;
}

/* %t = affine.apply affine_map<(dims) -> (expr)>(args) */
static const char *aff(Gen *g, char *out, const char *dims, const char *args, const char *fmt, ...) {
  char expr[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(expr, sizeof expr, fmt, ap);
  va_end(ap);
  bp(g->b, "    %s = affine.apply affine_map<(%s) -> (%s)>(%s)\n", fresh(g, out), dims, expr, args);
  return out;
}

/* %t = affine.max / affine.min (op) over the map's results. */
static const char *affOp(Gen *g, char *out, const char *op, const char *dims, const char *args, const char *fmt,
                         ...) {
  char expr[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(expr, sizeof expr, fmt, ap);
  va_end(ap);
  bp(g->b, "    %s = %s affine_map<(%s) -> (%s)>(%s)\n", fresh(g, out), op, dims, expr, args);
  return out;
}

static void hexArray(Buf *b, const void *data, size_t bytes) {
  static const char hx[] = "0123456789ABCDEF";
  const unsigned char *p = data;
  bp(b, "\"0x");
  for (size_t i = 0; i < bytes; ++i) bp(b, "%c%c", hx[p[i] >> 4], hx[p[i] & 15]);
  bp(b, "\"");
}

static void emitGlobals(Buf *b, const char *name, const Conv *c) {
  if (c->dw && !c->isFloat) {
    size_t wn = (size_t)(c->KH * c->KW * c->OCP);
    bp(b, "  memref.global \"private\" constant @%s_w : memref<%zuxi32> = dense<", name, wn);
    hexArray(b, c->wdw, wn * 4);
    bp(b, "> {alignment = 64 : i64}\n");
  }
  if (c->isFloat) {
    size_t wn = c->dw ? (size_t)(c->KH * c->KW * c->OCP) : (size_t)(c->OCB * c->KH * c->KW * c->C * 16);
    bp(b, "  memref.global \"private\" constant @%s_w : memref<%zuxf32> = dense<", name, wn);
    hexArray(b, c->wpackF, wn * 4);
    bp(b, "> {alignment = 64 : i64}\n");
    bp(b, "  memref.global \"private\" constant @%s_b : memref<%lldxf32> = dense<", name, (long long)c->OCP);
    hexArray(b, c->biasF, (size_t)c->OCP * 4);
    bp(b, "> {alignment = 64 : i64}\n");
    return;
  }
  if (!c->dw && skipsRows(c)) {
    bp(b, "  memref.global \"private\" constant @%s_ct : memref<%lldxi32> = dense<", name,
       (long long)((c->KH + 1) * c->OCP));
    hexArray(b, c->corrTop, (size_t)((c->KH + 1) * c->OCP) * 4);
    bp(b, "> {alignment = 64 : i64}\n");
    bp(b, "  memref.global \"private\" constant @%s_cb : memref<%lldxi32> = dense<", name,
       (long long)((c->KH + 1) * c->OCP));
    hexArray(b, c->corrBot, (size_t)((c->KH + 1) * c->OCP) * 4);
    bp(b, "> {alignment = 64 : i64}\n");
  }
  if (!c->dw) {
    size_t wbytes = (size_t)weightBytes(c);
    bp(b, "  memref.global \"private\" constant @%s_w : memref<%zuxi8> = dense<", name, wbytes);
    hexArray(b, c->wpack, wbytes);
    bp(b, "> {alignment = 64 : i64}\n");
  }
  int32_t *b32 = malloc((size_t)c->OCP * 4);
  if (!b32) { b->failed = 1; return; }
  for (int64_t i = 0; i < c->OCP; ++i) b32[i] = (int32_t)(uint32_t)c->bias[i]; /* wraps like the accumulator */
  bp(b, "  memref.global \"private\" constant @%s_b : memref<%lldxi32> = dense<", name, (long long)c->OCP);
  hexArray(b, b32, (size_t)c->OCP * 4);
  bp(b, "> {alignment = 64 : i64}\n");
  free(b32);
  if (c->outI8) {
    /* Per 16-channel block: the 8 even channels, then the 8 odd ones (the
     * epilogue multiplies even and odd int32 lanes as int64 with vpmuldq).
     * The multiplier as i32 (so LLVM knows it is sign-extended), round and
     * shift as i64; the output zero point is folded into the round constant
     * ((t + r) >> s) + z == (t + r + (z << s)) >> s when no shift exceeds 55. */
    int32_t *m32 = malloc((size_t)c->OCP * 4);
    int64_t *r64 = malloc((size_t)c->OCP * 8), *s64 = malloc((size_t)c->OCP * 8);
    if (!m32 || !r64 || !s64) { free(m32), free(r64), free(s64); b->failed = 1; return; }
    for (int64_t i = 0; i < c->OCP; ++i) {
      int64_t blk = i / 16, k = i % 16, src = blk * 16 + (k < 8 ? 2 * k : 2 * (k - 8) + 1);
      m32[i] = (int32_t)c->mult[src];
      r64[i] = c->rnd[src] + (c->zpFolded ? (int64_t)((uint64_t)c->ozp << c->shift[src]) : 0);
      s64[i] = c->shift[src];
    }
    bp(b, "  memref.global \"private\" constant @%s_m : memref<%lldxi32> = dense<", name, (long long)c->OCP);
    hexArray(b, m32, (size_t)c->OCP * 4);
    bp(b, "> {alignment = 64 : i64}\n");
    bp(b, "  memref.global \"private\" constant @%s_r : memref<%lldxi64> = dense<", name, (long long)c->OCP);
    hexArray(b, r64, (size_t)c->OCP * 8);
    bp(b, "> {alignment = 64 : i64}\n");
    bp(b, "  memref.global \"private\" constant @%s_s : memref<%lldxi64> = dense<", name, (long long)c->OCP);
    hexArray(b, s64, (size_t)c->OCP * 8);
    bp(b, "> {alignment = 64 : i64}\n");
    free(m32), free(r64), free(s64);
  }
}

#define MAXACC 32

/* Loads the requantization constants of the 16-channel block at element
 * offset `at`: q[0..1] multipliers (even, odd), q[2..3] rounds, q[4..5] shifts. */
static void loadRequant(Gen *g, const char *at, char q[6][40]) {
  const Conv *c = g->c;
  char at8[40];
  aff(g, at8, "d0", at, "d0 + 8");
  const char *where[2] = {at, at8};
  for (int h = 0; h < 2; ++h) {
    bp(g->b, "    %s = vector.load %%mul[%s] : memref<%lldxi32>, vector<8xi32>\n", fresh(g, q[h]), where[h],
       (long long)c->OCP);
    bp(g->b, "    %s = vector.load %%rnd[%s] : memref<%lldxi64>, vector<8xi64>\n", fresh(g, q[2 + h]), where[h],
       (long long)c->OCP);
    bp(g->b, "    %s = vector.load %%shf[%s] : memref<%lldxi64>, vector<8xi64>\n", fresh(g, q[4 + h]), where[h],
       (long long)c->OCP);
  }
}

/* Stores int32 accumulator `v` at output offset `at`: as int32, or
 * requantized to int8 with the block's constants q (loadRequant): TOSA
 * SINGLE_ROUND in 64 bits, (acc * m + r) >> s, on the even and the odd
 * lanes separately (sign-extended halves of each 64-bit lane, so LLVM uses
 * vpmuldq), + zero point (unless folded into r), clamp, narrow, and the two
 * halves interleaved back into channel order. Masked when `mask` is set. */
static void storeI(Gen *g, const char *v, const char *at, char q[6][40], const char *mask) {
  const Conv *c = g->c;
  Buf *b = g->b;
  char val[40];
  const char *vt = "vector<16xi32>", *outT = c->outI8 ? "i8" : "i32";
  if (c->outI8) {
    char a64[40], sh[40], half[2][40], nb[2][40];
    bp(b, "    %s = vector.bitcast %s : vector<16xi32> to vector<8xi64>\n", fresh(g, a64), v);
    bp(b, "    %s = arith.shli %s, %%c32x8 : vector<8xi64>\n", fresh(g, sh), a64);
    bp(b, "    %s = arith.shrsi %s, %%c32x8 : vector<8xi64>\n", fresh(g, half[0]), sh);
    bp(b, "    %s = arith.shrsi %s, %%c32x8 : vector<8xi64>\n", fresh(g, half[1]), a64);
    for (int h = 0; h < 2; ++h) {
      char me[40], p[40], r[40], s1[40], z[40], l1[40], h1[40];
      bp(b, "    %s = arith.extsi %s : vector<8xi32> to vector<8xi64>\n", fresh(g, me), q[h]);
      bp(b, "    %s = arith.muli %s, %s : vector<8xi64>\n", fresh(g, p), half[h], me);
      bp(b, "    %s = arith.addi %s, %s : vector<8xi64>\n", fresh(g, r), p, q[2 + h]);
      bp(b, "    %s = arith.shrsi %s, %s : vector<8xi64>\n", fresh(g, s1), r, q[4 + h]);
      if (!c->zpFolded)
        bp(b, "    %s = arith.addi %s, %%ozp : vector<8xi64>\n", fresh(g, z), s1);
      else
        setName(z, s1);
      bp(b, "    %s = arith.maxsi %s, %%lo : vector<8xi64>\n", fresh(g, l1), z);
      bp(b, "    %s = arith.minsi %s, %%hi : vector<8xi64>\n", fresh(g, h1), l1);
      bp(b, "    %s = arith.trunci %s : vector<8xi64> to vector<8xi8>\n", fresh(g, nb[h]), h1);
    }
    bp(b, "    %s = vector.shuffle %s, %s [0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15] : "
          "vector<8xi8>, vector<8xi8>\n",
       fresh(g, val), nb[0], nb[1]);
    vt = "vector<16xi8>";
  } else {
    setName(val, v);
  }
  long long TOTY = (long long)(c->N * c->OH * c->OW * c->OC);
  if (mask)
    bp(b, "    vector.maskedstore %%y1[%s], %s, %s : memref<%lldx%s>, vector<16xi1>, %s\n", at, mask, val,
       TOTY, outT, vt);
  else
    bp(b, "    vector.store %s, %%y1[%s] : memref<%lldx%s>, %s\n", val, at, TOTY, outT, vt);
}

/* Stores fp32 accumulator `v` (clamped when a clamp was fused). */
static void storeF(Gen *g, const char *v, const char *at, const char *mask) {
  const Conv *c = g->c;
  Buf *b = g->b;
  char val[40];
  setName(val, v);
  if (c->clampF) {
    char l1[40], h1[40];
    bp(b, "    %s = arith.maximumf %s, %%lo : vector<16xf32>\n", fresh(g, l1), v);
    bp(b, "    %s = arith.minimumf %s, %%hi : vector<16xf32>\n", fresh(g, h1), l1);
    setName(val, h1);
  }
  long long TOTY = (long long)(c->N * c->OH * c->OW * c->OC);
  if (mask)
    bp(b, "    vector.maskedstore %%y1[%s], %s, %s : memref<%lldxf32>, vector<16xi1>, vector<16xf32>\n", at, mask,
       val, TOTY);
  else
    bp(b, "    vector.store %s, %%y1[%s] : memref<%lldxf32>, vector<16xf32>\n", val, at, TOTY);
}

/* The reduction loops of a register tile: one scf.for per level whose trip
 * count exceeds 1 (level 0, the kernel rows, runs over [khLo, khHi) when
 * g->skipRows), carrying the n accumulators acc[] (of type accT) as
 * iter_args; iv[l] is each level's index (%c0 where the loop is omitted). */
typedef struct Loops {
  int open[3];
  char iv[3][40], res[3][40];
} Loops;

static void openLoops(Gen *g, Loops *L, const int64_t trips[3], char acc[][40], int n, const char *accT) {
  for (int l = 0; l < 3; ++l) {
    L->open[l] = trips[l] > 1 || (l == 0 && g->skipRows);
    if (!L->open[l]) {
      setName(L->iv[l], "%c0");
      continue;
    }
    char ub[40], lb[40] = "%c0";
    if (l == 0 && g->skipRows)
      setName(lb, g->khLo), setName(ub, g->khHi);
    else
      cidx(g, ub, trips[l]);
    fresh(g, L->iv[l]);
    fresh(g, L->res[l]);
    bp(g->b, "    %s:%d = scf.for %s = %s to %s step %%c1 iter_args(", L->res[l], n, L->iv[l], lb, ub);
    for (int k = 0; k < n; ++k) {
      char na[40];
      fresh(g, na);
      bp(g->b, "%s%s = %s", k ? ", " : "", na, acc[k]);
      setName(acc[k], na);
    }
    bp(g->b, ") -> (");
    for (int k = 0; k < n; ++k) bp(g->b, "%s%s", k ? ", " : "", accT);
    bp(g->b, ") {\n");
  }
}

/* Yields acc[] (the body's results) from the loops, innermost first; acc[]
 * then names the outermost loop's results. */
static void closeLoops(Gen *g, Loops *L, char acc[][40], int n, const char *accT) {
  for (int l = 2; l >= 0; --l) {
    if (!L->open[l]) continue;
    bp(g->b, "    scf.yield ");
    for (int k = 0; k < n; ++k) bp(g->b, "%s%s", k ? ", " : "", acc[k]);
    bp(g->b, " : ");
    for (int k = 0; k < n; ++k) bp(g->b, "%s%s", k ? ", " : "", accT);
    bp(g->b, "\n    }\n");
    for (int k = 0; k < n; ++k) snprintf(acc[k], 40, "%s#%d", L->res[l], k);
  }
}

/* The output element offset of pixel r of a tile (first pixel `ow`, or the
 * flattened pixel for pointwise convs) and channel block ob + j. */
static void outOffset(Gen *g, char *out, const char *n, const char *oh, const char *ow, const char *ob, int r,
                      int j) {
  const Conv *c = g->c;
  char args[200];
  if (c->pointwise) {
    snprintf(args, sizeof args, "%s, %s", ow, ob);
    aff(g, out, "d0, d1", args, "(d0 + %d) * %lld + (d1 + %d) * 16", r, (long long)c->OC, j);
  } else {
    snprintf(args, sizeof args, "%s, %s, %s, %s", n, oh, ow, ob);
    aff(g, out, "d0, d1, d2, d3", args, "((d0 * %lld + d1) * %lld + d2 + %d) * %lld + (d3 + %d) * 16",
        (long long)c->OH, (long long)c->OW, r, (long long)c->OC, j);
  }
}

/* The input offset, in units of `k` channel groups per pixel, of pixel r's
 * tap (kh, kw), group ck, in the padded NHWC input (or, pointwise, the
 * unpadded flattened one). */
static void inOffset(Gen *g, char *out, const char *n, const char *oh, const char *ow, const Loops *L, int r,
                     int64_t k) {
  const Conv *c = g->c;
  char args[200];
  if (c->pointwise) {
    snprintf(args, sizeof args, "%s, %s", ow, L->iv[2]);
    aff(g, out, "d0, d1", args, "(d0 + %d) * %lld + d1", r, (long long)k);
  } else {
    snprintf(args, sizeof args, "%s, %s, %s, %s, %s, %s", n, oh, ow, L->iv[0], L->iv[1], L->iv[2]);
    aff(g, out, "d0, d1, d2, d3, d4, d5", args,
        "((d0 * %lld + d1 * %lld + d3) * %lld + (d2 + %d) * %lld + d4) * %lld + d5", (long long)c->Hp,
        (long long)c->SH, (long long)c->Wp, r, (long long)c->SW, (long long)k);
  }
}

/* One R x J register tile. `n`, `oh`, `ow` (spatial) or `p` (pointwise, in
 * `ow`) and `ob` (first 16-channel block) are index values. */
static void emitTile(Gen *g, int R, int J, int maskLast, const char *n, const char *oh,
                     const char *ow, const char *ob) {
  const Conv *c = g->c;
  Buf *b = g->b;
  char t0[40], t1[40], t2[40], args[160];
  /* AVX-VNNI (256-bit) holds each 16-channel accumulator as two halves. */
  int H = g->isa == ISA_AVXVNNI ? 2 : 1;
  const char *accT = H == 2 ? "vector<8xi32>" : "vector<16xi32>";
  int RJ = R * J * H;
  char acc[MAXACC][40];
  /* Accumulators start at the (compensated) bias. */
  char binit[4][40];
  for (int j = 0; j < J; ++j) {
    snprintf(args, sizeof args, "%s", ob);
    aff(g, t0, "d0", args, "(d0 + %d) * 16", j);
    bp(b, "    %s = vector.load %%bias[%s] : memref<%lldxi32>, vector<16xi32>\n", fresh(g, binit[j]), t0,
       (long long)c->OCP);
    if (g->skipRows && !c->isFloat) { /* add back the skipped padding rows' compensation */
      char o1[40], o2[40], v1[40], v2[40], s1[40], s2[40];
      long long T = (long long)((c->KH + 1) * c->OCP);
      snprintf(args, sizeof args, "%s, %s", g->khLo, ob);
      aff(g, o1, "d0, d1", args, "d0 * %lld + (d1 + %d) * 16", (long long)c->OCP, j);
      snprintf(args, sizeof args, "%s, %s", g->khHi, ob);
      aff(g, o2, "d0, d1", args, "d0 * %lld + (d1 + %d) * 16", (long long)c->OCP, j);
      bp(b, "    %s = vector.load %%ctop[%s] : memref<%lldxi32>, vector<16xi32>\n", fresh(g, v1), o1, T);
      bp(b, "    %s = vector.load %%cbot[%s] : memref<%lldxi32>, vector<16xi32>\n", fresh(g, v2), o2, T);
      bp(b, "    %s = arith.addi %s, %s : vector<16xi32>\n", fresh(g, s1), binit[j], v1);
      bp(b, "    %s = arith.addi %s, %s : vector<16xi32>\n", fresh(g, s2), s1, v2);
      setName(binit[j], s2);
    }
  }
  char bh[4][2][40];
  for (int j = 0; j < J; ++j) {
    if (H == 1) {
      setName(bh[j][0], binit[j]);
      continue;
    }
    for (int h = 0; h < 2; ++h)
      bp(b, "    %s = vector.extract_strided_slice %s {offsets = [%d], sizes = [8], strides = [1]} : "
            "vector<16xi32> to vector<8xi32>\n",
         fresh(g, bh[j][h]), binit[j], 8 * h);
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j)
      for (int h = 0; h < H; ++h) setName(acc[(r * J + j) * H + h], bh[j][h]);

  /* The reduction loops over kh, kw, c/4. */
  int64_t trips[3] = {c->KH, kwTrips(c), c4Trips(c)};
  Loops L;
  openLoops(g, &L, trips, acc, RJ, accT);
  /* Body: J weight vectors, R broadcast activations, R*J dot products. */
  char wv[4][40], wz[4][40], wh[4][2][40];
  for (int j = 0; j < J; ++j) {
    snprintf(args, sizeof args, "%s, %s, %s, %s", ob, L.iv[0], L.iv[1], L.iv[2]);
    aff(g, t0, "d0, d1, d2, d3", args, "((((d0 + %d) * %lld + d1) * %lld + d2) * %lld + d3) * 64", j,
        (long long)c->KH, (long long)kwTrips(c), (long long)c4Trips(c));
    bp(b, "    %s = vector.load %%wgt[%s] : memref<%lldxi8>, vector<64xi8>\n", fresh(g, wv[j]), t0,
       weightBytes(c));
    if (g->isa != ISA_VNNI512 && g->isa != ISA_AVXVNNI)
      bp(b, "    %s = arith.extsi %s : vector<64xi8> to vector<64xi32>\n", fresh(g, wz[j]), wv[j]);
    if (g->isa == ISA_AVXVNNI)
      for (int h = 0; h < 2; ++h)
        bp(b, "    %s = vector.extract_strided_slice %s {offsets = [%d], sizes = [32], strides = [1]} : "
              "vector<64xi8> to vector<32xi8>\n",
           fresh(g, wh[j][h]), wv[j], 32 * h);
  }
  char evens[400] = "", odds[400] = "", evens2[200] = "", odds2[200] = "";
  for (int i = 0; i < 32; ++i) {
    size_t l = strlen(evens);
    snprintf(evens + l, sizeof evens - l, "%s%d", i ? ", " : "", 2 * i);
    l = strlen(odds);
    snprintf(odds + l, sizeof odds - l, "%s%d", i ? ", " : "", 2 * i + 1);
    if (i < 16) {
      l = strlen(evens2);
      snprintf(evens2 + l, sizeof evens2 - l, "%s%d", i ? ", " : "", 2 * i);
      l = strlen(odds2);
      snprintf(odds2 + l, sizeof odds2 - l, "%s%d", i ? ", " : "", 2 * i + 1);
    }
  }
  char nxt[MAXACC][40];
  for (int r = 0; r < R; ++r) {
    if (g->mode == 2) { /* staged rows [KH][Wp][C4] */
      snprintf(args, sizeof args, "%s, %s, %s, %s", ow, L.iv[0], L.iv[1], L.iv[2]);
      aff(g, t0, "d0, d1, d2, d3", args, "(d1 * %lld + (d0 + %d) * %lld + d2) * %lld + d3", (long long)c->Wp, r,
          (long long)c->SW, (long long)c->C4);
    } else {
      inOffset(g, t0, n, oh, ow, &L, r, c->C4);
    }
    if (c->kwPack) { /* the row's C * KW tap bytes, an unaligned 4-byte load */
      char bo[40], v4[40], v1[40];
      snprintf(args, sizeof args, "%s, %s", ow, L.iv[0]);
      aff(g, bo, "d0, d1", args, "(d1 * %lld + (d0 + %d) * %lld) * %lld", (long long)c->Wp, r, (long long)c->SW,
          (long long)c->C);
      bp(b, "    %s = vector.load %%rows[%s] : memref<%lldxi8>, vector<4xi8>\n", fresh(g, v4), bo, stageBytes(c));
      bp(b, "    %s = vector.bitcast %s : vector<4xi8> to vector<1xi32>\n", fresh(g, v1), v4);
      bp(b, "    %s = vector.extract %s[0] : i32 from vector<1xi32>\n", fresh(g, t1), v1);
    } else {
      bp(b, "    %s = memref.load %%xq[%s] : memref<%lldxi32>\n", fresh(g, t1), t0, xqSize(g));
    }
    if (g->mode == 1) { /* s8 -> u8 on the four bytes */
      char fl[40];
      bp(b, "    %s = arith.xori %s, %%flip32 : i32\n", fresh(g, fl), t1);
      setName(t1, fl);
    }
    char a[40], az[40];
    if (H == 2) {
      bp(b, "    %s = vector.broadcast %s : i32 to vector<8xi32>\n", fresh(g, t2), t1);
      bp(b, "    %s = vector.bitcast %s : vector<8xi32> to vector<32xi8>\n", fresh(g, a), t2);
      for (int j = 0; j < J; ++j)
        for (int h = 0; h < 2; ++h) {
          int k = (r * J + j) * 2 + h;
          bp(b, "    %s = llvm.call_intrinsic \"llvm.x86.avx512.vpdpbusd.256\"(%s, %s, %s) : "
                "(vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>\n",
             fresh(g, nxt[k]), acc[k], a, wh[j][h]);
        }
      continue;
    }
    bp(b, "    %s = vector.broadcast %s : i32 to vector<16xi32>\n", fresh(g, t2), t1);
    bp(b, "    %s = vector.bitcast %s : vector<16xi32> to vector<64xi8>\n", fresh(g, a), t2);
    if (g->isa != ISA_VNNI512)
      bp(b, "    %s = arith.extui %s : vector<64xi8> to vector<64xi32>\n", fresh(g, az), a);
    for (int j = 0; j < J; ++j) {
      int k = r * J + j;
      if (g->isa == ISA_VNNI512) {
        bp(b, "    %s = llvm.call_intrinsic \"llvm.x86.avx512.vpdpbusd.512\"(%s, %s, %s) : "
              "(vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>\n",
           fresh(g, nxt[k]), acc[k], a, wv[j]);
      } else {
        char p[40], e[40], o[40], s2[40], e2[40], o2[40], s4[40];
        bp(b, "    %s = arith.muli %s, %s : vector<64xi32>\n", fresh(g, p), az, wz[j]);
        bp(b, "    %s = vector.shuffle %s, %s [%s] : vector<64xi32>, vector<64xi32>\n", fresh(g, e), p, p, evens);
        bp(b, "    %s = vector.shuffle %s, %s [%s] : vector<64xi32>, vector<64xi32>\n", fresh(g, o), p, p, odds);
        bp(b, "    %s = arith.addi %s, %s : vector<32xi32>\n", fresh(g, s2), e, o);
        bp(b, "    %s = vector.shuffle %s, %s [%s] : vector<32xi32>, vector<32xi32>\n", fresh(g, e2), s2, s2, evens2);
        bp(b, "    %s = vector.shuffle %s, %s [%s] : vector<32xi32>, vector<32xi32>\n", fresh(g, o2), s2, s2, odds2);
        bp(b, "    %s = arith.addi %s, %s : vector<16xi32>\n", fresh(g, s4), e2, o2);
        bp(b, "    %s = arith.addi %s, %s : vector<16xi32>\n", fresh(g, nxt[k]), acc[k], s4);
      }
    }
  }
  for (int k = 0; k < RJ; ++k) setName(acc[k], nxt[k]);
  closeLoops(g, &L, acc, RJ, accT);
  if (H == 2) /* join the halves: acc[r * J + j] as vector<16xi32> */
    for (int k = 0; k < R * J; ++k) {
      char joined[40];
      bp(b, "    %s = vector.shuffle %s, %s [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : "
            "vector<8xi32>, vector<8xi32>\n",
         fresh(g, joined), acc[2 * k], acc[2 * k + 1]);
      setName(acc[k], joined);
    }

  /* Epilogue and store. */
  char mask[40] = "";
  int rem = (int)(c->OC % 16);
  if (maskLast && rem)
    bp(b, "    %s = vector.constant_mask [%d] : vector<16xi1>\n", fresh(g, mask), rem);
  for (int j = 0; j < J; ++j) {
    char q[6][40];
    if (c->outI8) {
      snprintf(args, sizeof args, "%s", ob);
      aff(g, t0, "d0", args, "(d0 + %d) * 16", j);
      loadRequant(g, t0, q);
    }
    for (int r = 0; r < R; ++r) {
      outOffset(g, t0, n, oh, ow, ob, r, j);
      storeI(g, acc[r * J + j], t0, q, mask[0] && j == J - 1 ? mask : NULL);
    }
  }
}

/* The fp32 R x J tile: broadcast one input value, FMA with J weight vectors. */
static void emitTileF(Gen *g, int R, int J, int maskLast, const char *n, const char *oh,
                      const char *ow, const char *ob) {
  const Conv *c = g->c;
  Buf *b = g->b;
  char t0[40], t1[40], t2[40], args[160];
  int RJ = R * J;
  char acc[MAXACC][40], binit[4][40], nxt[MAXACC][40];
  for (int j = 0; j < J; ++j) {
    aff(g, t0, "d0", ob, "(d0 + %d) * 16", j);
    bp(b, "    %s = vector.load %%bias[%s] : memref<%lldxf32>, vector<16xf32>\n", fresh(g, binit[j]), t0,
       (long long)c->OCP);
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j) setName(acc[r * J + j], binit[j]);
  int64_t trips[3] = {c->KH, c->KW, c->C};
  Loops L; /* (zero-padding rows contribute nothing: skipping them needs no correction) */
  openLoops(g, &L, trips, acc, RJ, "vector<16xf32>");
  char wv[4][40];
  for (int j = 0; j < J; ++j) {
    snprintf(args, sizeof args, "%s, %s, %s, %s", ob, L.iv[0], L.iv[1], L.iv[2]);
    aff(g, t0, "d0, d1, d2, d3", args, "((((d0 + %d) * %lld + d1) * %lld + d2) * %lld + d3) * 16", j,
        (long long)c->KH, (long long)c->KW, (long long)c->C);
    bp(b, "    %s = vector.load %%wgt[%s] : memref<%lldxf32>, vector<16xf32>\n", fresh(g, wv[j]), t0,
       (long long)(c->OCB * c->KH * c->KW * c->C * 16));
  }
  for (int r = 0; r < R; ++r) {
    inOffset(g, t0, n, oh, ow, &L, r, c->C);
    bp(b, "    %s = memref.load %%xq[%s] : memref<%lldxf32>\n", fresh(g, t1), t0,
       (long long)(c->N * c->Hp * c->Wp * c->C));
    bp(b, "    %s = vector.broadcast %s : f32 to vector<16xf32>\n", fresh(g, t2), t1);
    for (int j = 0; j < J; ++j)
      bp(b, "    %s = vector.fma %s, %s, %s : vector<16xf32>\n", fresh(g, nxt[r * J + j]), t2, wv[j],
         acc[r * J + j]);
  }
  for (int k = 0; k < RJ; ++k) setName(acc[k], nxt[k]);
  closeLoops(g, &L, acc, RJ, "vector<16xf32>");
  char mask[40] = "";
  int rem = (int)(c->OC % 16);
  if (maskLast && rem)
    bp(b, "    %s = vector.constant_mask [%d] : vector<16xi1>\n", fresh(g, mask), rem);
  for (int j = 0; j < J; ++j)
    for (int r = 0; r < R; ++r) {
      outOffset(g, t0, n, oh, ow, ob, r, j);
      storeF(g, acc[r * J + j], t0, mask[0] && j == J - 1 ? mask : NULL);
    }
}

/* Depthwise: R output pixels x 16 channels of block `cb`; per tap one weight
 * vector, R input vectors (sign-extended), multiply-add in int32. */
static void emitTileDW(Gen *g, int R, int maskLast, const char *n, const char *oh, const char *ow,
                       const char *cb) {
  const Conv *c = g->c;
  Buf *b = g->b;
  char t0[40], t1[40], t2[40], args[160], acc[MAXACC][40], nxt[MAXACC][40], init[40];
  const char *et = c->isFloat ? "f32" : "i32", *xt = c->isFloat ? "f32" : "i8";
  aff(g, t0, "d0", cb, "d0 * 16");
  bp(b, "    %s = vector.load %%bias[%s] : memref<%lldx%s>, vector<16x%s>\n", fresh(g, init), t0,
     (long long)c->OCP, et, et);
  for (int r = 0; r < R; ++r) setName(acc[r], init);
  int64_t trips[3] = {c->KH, c->KW, 1};
  char accT[24];
  snprintf(accT, sizeof accT, "vector<16x%s>", et);
  Loops L;
  openLoops(g, &L, trips, acc, R, accT);
  char wv[40];
  snprintf(args, sizeof args, "%s, %s, %s", L.iv[0], L.iv[1], cb);
  aff(g, t0, "d0, d1, d2", args, "(d0 * %lld + d1) * %lld + d2 * 16", (long long)c->KW, (long long)c->OCP);
  bp(b, "    %s = vector.load %%wdw[%s] : memref<%lldx%s>, vector<16x%s>\n", fresh(g, wv), t0,
     (long long)(c->KH * c->KW * c->OCP), et, et);
  for (int r = 0; r < R; ++r) {
    snprintf(args, sizeof args, "%s, %s, %s, %s, %s, %s", n, oh, ow, L.iv[0], L.iv[1], cb);
    aff(g, t0, "d0, d1, d2, d3, d4, d5", args,
        "((d0 * %lld + d1 * %lld + d3) * %lld + (d2 + %d) * %lld + d4) * %lld + d5 * 16", (long long)c->Hp,
        (long long)c->SH, (long long)c->Wp, r, (long long)c->SW, (long long)c->OCP);
    bp(b, "    %s = vector.load %%xp[%s] : memref<%lldx%s>, vector<16x%s>\n", fresh(g, t1), t0,
       (long long)(c->N * c->Hp * c->Wp * c->OCP), xt, xt);
    if (c->isFloat) {
      bp(b, "    %s = vector.fma %s, %s, %s : vector<16xf32>\n", fresh(g, nxt[r]), t1, wv, acc[r]);
      continue;
    }
    bp(b, "    %s = arith.extsi %s : vector<16xi8> to vector<16xi32>\n", fresh(g, t2), t1);
    char p[40];
    bp(b, "    %s = arith.muli %s, %s : vector<16xi32>\n", fresh(g, p), t2, wv);
    bp(b, "    %s = arith.addi %s, %s : vector<16xi32>\n", fresh(g, nxt[r]), acc[r], p);
  }
  for (int k = 0; k < R; ++k) setName(acc[k], nxt[k]);
  closeLoops(g, &L, acc, R, accT);
  char mask[40] = "", q[6][40];
  if (maskLast && c->OC % 16)
    bp(b, "    %s = vector.constant_mask [%d] : vector<16xi1>\n", fresh(g, mask), (int)(c->OC % 16));
  if (c->outI8 && !c->isFloat) {
    aff(g, t0, "d0", cb, "d0 * 16");
    loadRequant(g, t0, q);
  }
  for (int r = 0; r < R; ++r) {
    snprintf(args, sizeof args, "%s, %s, %s, %s", n, oh, ow, cb);
    aff(g, t0, "d0, d1, d2, d3", args, "((d0 * %lld + d1) * %lld + d2 + %d) * %lld + d3 * 16",
        (long long)c->OH, (long long)c->OW, r, (long long)c->OC);
    if (c->isFloat)
      storeF(g, acc[r], t0, mask[0] ? mask : NULL);
    else
      storeI(g, acc[r], t0, q, mask[0] ? mask : NULL);
  }
}

/* Depthwise loops for one output row: channel blocks, then pixel tiles. */
static void emitRowDW(Gen *g, const char *n, const char *oh) {
  const Conv *c = g->c;
  int R = 12;
  if (R > c->OW) R = (int)c->OW;
  int64_t main = c->OW / R * R;
  int rem = (int)(c->OW - main);
  int64_t full = c->OC / 16;
  char ub[40], step[40], cb[40], pv[40], cv[40];
  for (int part = 0; part < 2; ++part) {
    int masked = part == 1;
    if (!masked && full == 0) continue;
    if (masked && full == c->OCB) continue;
    if (!masked) {
      cidx(g, ub, full);
      bp(g->b, "    scf.for %s = %%c0 to %s step %%c1 {\n", fresh(g, cb), ub);
    } else {
      cidx(g, cb, full);
    }
    if (main > 0) {
      cidx(g, ub, main);
      cidx(g, step, R);
      bp(g->b, "    scf.for %s = %%c0 to %s step %s {\n", fresh(g, pv), ub, step);
      emitTileDW(g, R, masked, n, oh, pv, cb);
      bp(g->b, "    }\n");
    }
    if (rem > 0) {
      cidx(g, cv, main);
      emitTileDW(g, rem, masked, n, oh, cv, cb);
    }
    if (!masked) bp(g->b, "    }\n");
  }
}

/* Register tile: R pixels x J blocks of 16 output channels (32 zmm). */
static int tileRows(const Gen *g, int J) {
  if (g->isa == ISA_AVXVNNI && !g->c->isFloat) return J >= 2 ? 3 : 6; /* 16 ymm */
  return J >= 4 ? 6 : J == 3 ? 8 : J == 2 ? 12 : 14;
}

/* The loops over `count` pixels from `base` (index value; the pixel is the
 * output column for spatial convs, the flattened pixel for pointwise ones)
 * for the channel blocks [ob, ob + J). */
static void emitPixelLoops(Gen *g, int J, int maskLast, const char *n, const char *oh, const char *ob,
                           const char *base, int64_t count) {
  int R = tileRows(g, J);
  if (R > count) R = (int)count;
  int64_t main = count / R * R;
  int rem = (int)(count - main);
  int split = rem > 0 && rem * 2 < R && main > R;
  if (split) main -= R, rem += R; /* the last full tile joins the remainder */
  char ub[40], step[40], pv[40], px[40], args[96];
  if (main > 0) {
    cidx(g, ub, main);
    cidx(g, step, R);
    bp(g->b, "    scf.for %s = %%c0 to %s step %s {\n", fresh(g, pv), ub, step);
    snprintf(args, sizeof args, "%s, %s", base, pv);
    aff(g, px, "d0, d1", args, "d0 + d1");
    (g->c->isFloat ? emitTileF : emitTile)(g, R, J, maskLast, n, oh, px, ob);
    bp(g->b, "    }\n");
  }
  /* A short remainder (under R/2 pixels) is merged with the last full tile
   * and split in two halves: e.g. 56 = 8 x 6 + 2 x 4, not 9 x 6 + 2. */
  int tails[2] = {split ? rem / 2 : rem, split ? rem - rem / 2 : 0};
  for (int k = 0; k < 2 && tails[k] > 0; ++k) {
    snprintf(args, sizeof args, "%s", base);
    aff(g, px, "d0", args, "d0 + %lld", (long long)(main + (k ? tails[0] : 0)));
    (g->c->isFloat ? emitTileF : emitTile)(g, tails[k], J, maskLast, n, oh, px, ob);
  }
}

/* Channel tiling: J blocks of 16 per tile, the last tile narrower (and
 * masked when OC % 16 != 0). */
static int tileBlocks(const Gen *g) {
  const Conv *c = g->c;
  int64_t full = c->OC / 16;
  int J = full >= 4 ? 4 : full >= 1 ? (int)full : 1;
  if (g->isa == ISA_AVXVNNI && !c->isFloat && J > 2) J = 2;
  /* A pointwise tile streams all pixels past its weights: keep those
   * (J x 16 channels x K bytes) within L1 (48 KB here; measured: matmul
   * 1024^3 2.45 ms at J=4, 2.19 at J=2, 2.16 at J=3). */
  while (c->pointwise && !c->isFloat && J > 2 && J * 16 * c->C4 * 4 > 48 * 1024) --J;
  return J;
}

/* All channel tiles for `count` pixels from `base`. */
static void emitBlockLoops(Gen *g, const char *n, const char *oh, const char *base, int64_t count) {
  const Conv *c = g->c;
  int J = tileBlocks(g);
  int64_t obFull = c->OC / 16 / J * J;
  int Jr = (int)(c->OCB - obFull);
  char ub[40], step[40], ob[40], cv[40];
  if (obFull > 0) {
    cidx(g, ub, obFull);
    cidx(g, step, J);
    bp(g->b, "    scf.for %s = %%c0 to %s step %s {\n", fresh(g, ob), ub, step);
    emitPixelLoops(g, J, 0, n, oh, ob, base, count);
    bp(g->b, "    }\n");
  }
  if (Jr > 0) {
    cidx(g, cv, obFull);
    emitPixelLoops(g, Jr, 1, n, oh, cv, base, count);
  }
}

/* Bytes of the per-thread row staging buffer: KH padded input rows. */
static long long stageBytes(const Conv *c) {
  long long n = (long long)(c->KH * c->Wp * c->Cp) + (c->kwPack ? 4 : 0); /* kwPack: 4-byte reads */
  return (n + 3) / 4 * 4;
}

static long long xqSize(const struct Gen *g) {
  const Conv *c = g->c;
  if (g->mode == 2) return stageBytes(c) / 4;
  if (g->mode == 1) return (long long)(c->N * c->H * c->W * c->C / 4);
  return (long long)(c->N * c->Hp * c->Wp * c->C4);
}

/* Stores the pad byte over `count` bytes of staging row `kh` from `at`. */
static void fillRow(Gen *g, const char *kh, int64_t at, int64_t count) {
  if (count <= 0) return;
  const Conv *c = g->c;
  int VW = 64;
  while (count % VW) VW /= 2;
  char ub[40], st[40], i[40], o[40], pv[40], args[96];
  cidx(g, ub, count), cidx(g, st, VW);
  bp(g->b, "    %s = vector.broadcast %%padv : i8 to vector<%dxi8>\n", fresh(g, pv), VW);
  bp(g->b, "    scf.for %s = %%c0 to %s step %s {\n", fresh(g, i), ub, st);
  snprintf(args, sizeof args, "%s, %s", kh, i);
  aff(g, o, "d0, d1", args, "d0 * %lld + %lld + d1", (long long)(c->Wp * c->Cp), (long long)at);
  bp(g->b, "    vector.store %s, %%rows[%s] : memref<%lldxi8>, vector<%dxi8>\n    }\n", pv, o, stageBytes(c), VW);
}

/* Fills the staging rows for output row (n, oh): the KH input rows it
 * reads, padded (zero point) and flipped to u8. */
static void emitStageRows(Gen *g, const char *n, const char *oh) {
  const Conv *c = g->c;
  Buf *b = g->b;
  long long RB = stageBytes(c), TOT = (long long)(c->N * c->H * c->W * c->C);
  /* Padding: with padded channels, the whole buffer first; else only the
   * left/right pixels of real rows and the rows above/below the image. */
  int chanPad = c->Cp != c->C;
  if (chanPad) bp(b, "    linalg.fill ins(%%padv : i8) outs(%%rows : memref<%lldxi8>)\n", RB);
  char ub[40], kh[40], ih[40], ok1[40], ok2[40], ok[40], lim[40], w[40], cc[40], st[40], src[40], dst[40],
      v[40], u[40], args[200], ihr[40];
  cidx(g, ub, c->KH);
  bp(b, "    scf.for %s = %%c0 to %s step %%c1 {\n", fresh(g, kh), ub);
  snprintf(args, sizeof args, "%s, %s", oh, kh);
  aff(g, ih, "d0, d1", args, "d0 * %lld + d1", (long long)c->SH);
  cidx(g, lim, c->PT);
  bp(b, "    %s = arith.cmpi uge, %s, %s : index\n", fresh(g, ok1), ih, lim);
  cidx(g, lim, c->PT + c->H);
  bp(b, "    %s = arith.cmpi ult, %s, %s : index\n", fresh(g, ok2), ih, lim);
  bp(b, "    %s = arith.andi %s, %s : i1\n    scf.if %s {\n", fresh(g, ok), ok1, ok2, ok);
  aff(g, ihr, "d0", ih, "d0 - %lld", (long long)c->PT);
  if (!chanPad) {
    fillRow(g, kh, 0, c->PL * c->Cp);
    fillRow(g, kh, (c->PL + c->W) * c->Cp, c->PR * c->Cp);
  }
  int flat = !c->PL && !c->PR && c->Cp == c->C;
  int64_t span = flat ? c->W * c->C : c->C;
  int VW = 64;
  while (span % VW) VW /= 2;
  if (flat) {
    cidx(g, ub, span), cidx(g, st, VW);
    bp(b, "    scf.for %s = %%c0 to %s step %s {\n", fresh(g, cc), ub, st);
    snprintf(args, sizeof args, "%s, %s, %s", n, ihr, cc);
    aff(g, src, "d0, d1, d2", args, "(d0 * %lld + d1) * %lld + d2", (long long)c->H, (long long)span);
    snprintf(args, sizeof args, "%s, %s", kh, cc);
    aff(g, dst, "d0, d1", args, "d0 * %lld + d1", (long long)(c->Wp * c->Cp));
  } else {
    cidx(g, ub, c->W);
    bp(b, "    scf.for %s = %%c0 to %s step %%c1 {\n", fresh(g, w), ub);
    cidx(g, ub, c->C), cidx(g, st, VW);
    bp(b, "    scf.for %s = %%c0 to %s step %s {\n", fresh(g, cc), ub, st);
    snprintf(args, sizeof args, "%s, %s, %s, %s", n, ihr, w, cc);
    aff(g, src, "d0, d1, d2, d3", args, "((d0 * %lld + d1) * %lld + d2) * %lld + d3", (long long)c->H,
        (long long)c->W, (long long)c->C);
    snprintf(args, sizeof args, "%s, %s, %s", kh, w, cc);
    aff(g, dst, "d0, d1, d2", args, "(d0 * %lld + d1 + %lld) * %lld + d2", (long long)c->Wp, (long long)c->PL,
        (long long)c->Cp);
  }
  bp(b, "    %s = vector.load %%x1[%s] : memref<%lldxi8>, vector<%dxi8>\n", fresh(g, v), src, TOT, VW);
  char fl[40];
  bp(b, "    %s = arith.constant dense<-128> : vector<%dxi8>\n", fresh(g, fl), VW);
  bp(b, "    %s = arith.xori %s, %s : vector<%dxi8>\n", fresh(g, u), v, fl, VW);
  bp(b, "    vector.store %s, %%rows[%s] : memref<%lldxi8>, vector<%dxi8>\n", u, dst, RB, VW);
  bp(b, flat ? "    }\n" : "    }\n    }\n");
  if (!chanPad && (c->PT || c->PB)) {
    bp(b, "    } else {\n");
    fillRow(g, kh, 0, c->Wp * c->Cp);
  }
  bp(b, "    }\n    }\n");
}

/* for %t in [0, tasks): an OpenMP worksharing loop when g->parallel. */
static void openTasks(Gen *g, char *t, int64_t tasks) {
  char ub[40];
  cidx(g, ub, tasks);
  fresh(g, t);
  if (g->parallel) bp(g->b, "    omp.parallel {\n");
  if (g->mode == 2) /* one staging buffer per thread */
    bp(g->b, "    %%rows = memref.alloca() {alignment = 64 : i64} : memref<%lldxi8>\n"
             "    %%xq = memref.view %%rows[%%c0][] : memref<%lldxi8> to memref<%lldxi32>\n",
       stageBytes(g->c), stageBytes(g->c), stageBytes(g->c) / 4);
  if (g->mode == 2 && g->c->kwPack) { /* the 4-byte reads may run past the last row: define it */
    char at[40], pv[40];
    cidx(g, at, g->c->KH * g->c->Wp * g->c->Cp);
    bp(g->b, "    %s = vector.broadcast %%padv : i8 to vector<4xi8>\n"
             "    vector.store %s, %%rows[%s] : memref<%lldxi8>, vector<4xi8>\n",
       fresh(g, pv), pv, at, stageBytes(g->c));
  }
  if (g->parallel)
    bp(g->b, "    omp.wsloop {\n    omp.loop_nest (%s) : index = (%%c0) to (%s) step (%%c1) {\n", t, ub);
  else
    bp(g->b, "    scf.for %s = %%c0 to %s step %%c1 {\n", t, ub);
}

static void closeTasks(Gen *g) {
  bp(g->b, g->parallel ? "    omp.yield\n    }\n    }\n    omp.terminator\n    }\n" : "    }\n");
}

/* The whole iteration space, as tasks the threads share:
 *  - spatial convs: one task per output row (n, oh);
 *  - pointwise with >= 4 channel tiles: one task per channel tile (the
 *    weights of a tile stay in cache while all pixels stream past);
 *  - other pointwise: ~8 chunks of pixels. */
static void emitTasks(Gen *g) {
  const Conv *c = g->c;
  char t[40], args[96], a0[40], a1[40];
  if (!c->pointwise || c->dw) {
    openTasks(g, t, c->N * c->OH);
    aff(g, a0, "d0", t, "d0 floordiv %lld", (long long)c->OH);
    aff(g, a1, "d0", t, "d0 mod %lld", (long long)c->OH);
    if (c->dw) {
      emitRowDW(g, a0, a1);
    } else {
      if (g->mode == 2) emitStageRows(g, a0, a1);
      if (g->skipRows) { /* the kernel rows inside the image: [khLo, khHi) */
        affOp(g, g->khLo, "affine.max", "d0", a1, "0, %lld - d0 * %lld", (long long)c->PT, (long long)c->SH);
        affOp(g, g->khHi, "affine.min", "d0", a1, "%lld, %lld - d0 * %lld", (long long)c->KH,
              (long long)(c->PT + c->H), (long long)c->SH);
      }
      emitBlockLoops(g, a0, a1, "%c0", c->OW);
    }
    closeTasks(g);
    return;
  }
  int64_t P = c->N * c->H * c->W;
  int J = tileBlocks(g);
  int64_t fullTiles = c->OC / 16 / J, obFull = fullTiles * J;
  int Jr = (int)(c->OCB - obFull);
  int64_t tiles = fullTiles + (Jr > 0);
  char ob[40], cond[40], lim[40];
  if (tiles >= 4 || !g->parallel) {
    if (!g->parallel) {
      emitBlockLoops(g, "%c0", "%c0", "%c0", P);
      return;
    }
    openTasks(g, t, tiles);
    if (Jr > 0) {
      cidx(g, lim, fullTiles);
      bp(g->b, "    %s = arith.cmpi ult, %s, %s : index\n    scf.if %s {\n", fresh(g, cond), t, lim, cond);
    }
    aff(g, ob, "d0", t, "d0 * %d", J);
    emitPixelLoops(g, J, 0, "%c0", "%c0", ob, "%c0", P);
    if (Jr > 0) {
      bp(g->b, "    } else {\n");
      cidx(g, ob, obFull);
      emitPixelLoops(g, Jr, 1, "%c0", "%c0", ob, "%c0", P);
      bp(g->b, "    }\n");
    }
    closeTasks(g);
    return;
  }
  int R = tileRows(g, J);
  int64_t chunk = (P + 7) / 8;
  chunk = (chunk + R - 1) / R * R;
  int64_t chunks = (P + chunk - 1) / chunk, last = P - (chunks - 1) * chunk;
  openTasks(g, t, chunks);
  snprintf(args, sizeof args, "%s", t);
  aff(g, a0, "d0", args, "d0 * %lld", (long long)chunk);
  if (last != chunk) {
    cidx(g, lim, chunks - 1);
    bp(g->b, "    %s = arith.cmpi ult, %s, %s : index\n    scf.if %s {\n", fresh(g, cond), t, lim, cond);
  }
  emitBlockLoops(g, "%c0", "%c0", a0, chunk);
  if (last != chunk) {
    bp(g->b, "    } else {\n");
    emitBlockLoops(g, "%c0", "%c0", a0, last);
    bp(g->b, "    }\n");
  }
  closeTasks(g);
}

static const char *elemT(const Conv *c) { return c->isFloat ? "f32" : c->outI8 ? "i8" : "i32"; }
static const char *inT(const Conv *c) { return c->isFloat ? "f32" : "i8"; }

static void memrefType(Buf *b, const int64_t *d, int rank, const char *et) {
  bp(b, "memref<");
  for (int i = 0; i < rank; ++i) bp(b, "%lldx", (long long)d[i]);
  bp(b, "%s>", et);
}

/* "(memref<input>, memref<output>)": a kernel's argument types. */
static void sigTypes(Buf *b, const Conv *c) {
  int64_t xd[4] = {c->N, c->H, c->W, c->C}, yd[4] = {c->N, c->OH, c->OW, c->OC};
  bp(b, "(");
  memrefType(b, xd, 4, inT(c));
  bp(b, ", ");
  memrefType(b, yd, 4, elemT(c));
  bp(b, ")");
}

static void emitSignature(Buf *b, const char *name, const char *suffix, const Conv *c) {
  int64_t xd[4] = {c->N, c->H, c->W, c->C}, yd[4] = {c->N, c->OH, c->OW, c->OC};
  bp(b, "  func.func private @%s%s(%%x: ", name, suffix);
  memrefType(b, xd, 4, inT(c));
  bp(b, ", %%y: ");
  memrefType(b, yd, 4, elemT(c));
  bp(b, ")");
}


/* %name = the 4-D NHWC memref %src (n x h x w x ch of et) as 1-D. */
static void emitFlat(Gen *g, const char *name, const char *src, int64_t n, int64_t h, int64_t w, int64_t ch,
                     const char *et) {
  bp(g->b, "    %%%s = memref.collapse_shape %%%s [[0, 1, 2, 3]] : memref<%lldx%lldx%lldx%lldx%s> into memref<%lldx%s>\n",
     name, src, (long long)n, (long long)h, (long long)w, (long long)ch, et, (long long)(n * h * w * ch), et);
}

/* Copies the input %x1 (N x H x W x C of et) into the interior of the padded
 * buffer %dst (N x Hp x Wp x cd), flipping bytes s8 -> u8 when `flip`; one
 * flat loop when nothing is padded. Vectors of up to 64 bytes. */
static void emitCopyIn(Gen *g, const char *dst, int64_t cd, const char *et, int flip) {
  const Conv *c = g->c;
  Buf *b = g->b;
  int f32 = !strcmp(et, "f32");
  long long TOT = (long long)(c->N * c->H * c->W * c->C), XB = (long long)(c->N * c->Hp * c->Wp * cd);
  int padded = c->Hp != c->H || c->Wp != c->W || cd != c->C;
  int64_t span = padded ? c->C : TOT;
  int VW = f32 ? 16 : 64;
  while (span % VW) VW /= 2;
  char ub[40], st[40], i[4][40], src[40], dst1[40], v[40], u[40], fl[40], args[200];
  if (!padded) {
    cidx(g, ub, TOT), cidx(g, st, VW);
    bp(b, "    scf.for %s = %%c0 to %s step %s {\n", fresh(g, i[0]), ub, st);
    setName(src, i[0]), setName(dst1, i[0]);
  } else {
    const int64_t lim[3] = {c->N, c->H, c->W};
    for (int k = 0; k < 3; ++k) {
      cidx(g, ub, lim[k]);
      bp(b, "    scf.for %s = %%c0 to %s step %%c1 {\n", fresh(g, i[k]), ub);
    }
    cidx(g, ub, c->C), cidx(g, st, VW);
    bp(b, "    scf.for %s = %%c0 to %s step %s {\n", fresh(g, i[3]), ub, st);
    snprintf(args, sizeof args, "%s, %s, %s, %s", i[0], i[1], i[2], i[3]);
    aff(g, src, "d0, d1, d2, d3", args, "((d0 * %lld + d1) * %lld + d2) * %lld + d3", (long long)c->H,
        (long long)c->W, (long long)c->C);
    aff(g, dst1, "d0, d1, d2, d3", args, "((d0 * %lld + d1 + %lld) * %lld + d2 + %lld) * %lld + d3",
        (long long)c->Hp, (long long)c->PT, (long long)c->Wp, (long long)c->PL, (long long)cd);
  }
  bp(b, "    %s = vector.load %%x1[%s] : memref<%lldx%s>, vector<%dx%s>\n", fresh(g, v), src, TOT, et, VW, et);
  if (flip) {
    bp(b, "    %s = arith.constant dense<-128> : vector<%dxi8>\n", fresh(g, fl), VW);
    bp(b, "    %s = arith.xori %s, %s : vector<%dxi8>\n", fresh(g, u), v, fl, VW);
    setName(v, u);
  }
  bp(b, "    vector.store %s, %%%s[%s] : memref<%lldx%s>, vector<%dx%s>\n", v, dst, dst1, XB, et, VW, et);
  bp(b, padded ? "    }\n    }\n    }\n    }\n" : "    }\n");
}

/* The int8 epilogue's constants: per-channel multipliers, rounds and shifts,
 * the output zero point and clamp bounds. */
static void emitRequantConsts(Gen *g, const char *name) {
  const Conv *c = g->c;
  Buf *b = g->b;
  if (!c->outI8 || c->isFloat) return;
  bp(b, "    %%mul = memref.get_global @%s_m : memref<%lldxi32>\n", name, (long long)c->OCP);
  bp(b, "    %%rnd = memref.get_global @%s_r : memref<%lldxi64>\n", name, (long long)c->OCP);
  bp(b, "    %%shf = memref.get_global @%s_s : memref<%lldxi64>\n", name, (long long)c->OCP);
  bp(b, "    %%ozp = arith.constant dense<%lld> : vector<8xi64>\n", (long long)c->ozp);
  bp(b, "    %%lo = arith.constant dense<%lld> : vector<8xi64>\n", (long long)c->lo);
  bp(b, "    %%hi = arith.constant dense<%lld> : vector<8xi64>\n", (long long)c->hi);
  bp(b, "    %%c32x8 = arith.constant dense<32> : vector<8xi64>\n");
}

/* The fp32 epilogue's fused clamp bounds, as bit patterns (exact, and valid
 * for infinities). */
static void emitClampConstsF(Gen *g) {
  const Conv *c = g->c;
  if (!c->isFloat || !c->clampF) return;
  uint32_t lo, hi;
  memcpy(&lo, &c->flo, 4), memcpy(&hi, &c->fhi, 4);
  bp(g->b, "    %%lo = arith.constant dense<0x%08X> : vector<16xf32>\n", lo);
  bp(g->b, "    %%hi = arith.constant dense<0x%08X> : vector<16xf32>\n", hi);
}

/* The int8 conv kernel's weights, bias (with the padding-row tables) and
 * requantization constants. */
static void emitInt8Consts(Gen *g, const char *name) {
  const Conv *c = g->c;
  Buf *b = g->b;
  bp(b, "    %%wgt = memref.get_global @%s_w : memref<%lldxi8>\n", name, weightBytes(c));
  bp(b, "    %%bias = memref.get_global @%s_b : memref<%lldxi32>\n", name, (long long)c->OCP);
  if (skipsRows(c)) {
    bp(b, "    %%ctop = memref.get_global @%s_ct : memref<%lldxi32>\n", name, (long long)((c->KH + 1) * c->OCP));
    bp(b, "    %%cbot = memref.get_global @%s_cb : memref<%lldxi32>\n", name, (long long)((c->KH + 1) * c->OCP));
  }
  emitRequantConsts(g, name);
}

/* int8 depthwise kernel body: a padded copy (zero point in the padding,
 * channels rounded up to 16), then one task per output row. */
static void emitDepthwiseBody(Gen *g, const char *name, long long XB) {
  const Conv *c = g->c;
  Buf *b = g->b;
  const char *xt = c->isFloat ? "f32" : "i8", *et = c->isFloat ? "f32" : "i32";
  emitFlat(g, "y1", "y", c->N, c->OH, c->OW, c->OC, elemT(c));
  emitFlat(g, "x1", "x", c->N, c->H, c->W, c->C, xt);
  bp(b, "    %%xp = memref.alloc() {alignment = 64 : i64} : memref<%lldx%s>\n", XB, xt);
  if (c->isFloat)
    bp(b, "    %%padv = arith.constant 0.0 : f32\n");
  else
    bp(b, "    %%padv = arith.constant %d : i8\n", (int)c->zx);
  if (c->C % 16 || c->N * c->Hp * c->Wp > 4 * (c->N * c->H * c->W)) {
    bp(b, "    linalg.fill ins(%%padv : %s) outs(%%xp : memref<%lldx%s>)\n", xt, XB, xt);
  } else { /* every channel is real: fill only the border pixels */
    char ub[40], i0[40], i1[40], st[40], o[40], pv[40], args[96];
    /* Vectors of 16 elements: every span (whole pixels of OCP channels,
     * OCP a multiple of 16) is a multiple of 16 elements. */
    int VW = 16;
    bp(b, "    %s = vector.broadcast %%padv : %s to vector<%dx%s>\n", fresh(g, pv), xt, VW, xt);
    cidx(g, ub, c->N * c->Hp);
    bp(b, "    scf.for %s = %%c0 to %s step %%c1 {\n", fresh(g, i0), ub); /* padded row n*Hp + h */
    /* the whole row when h is a padding row, else its PL left and PR right pixels */
    char hh[40], top[40], bot[40], full[40], lim[40];
    aff(g, hh, "d0", i0, "d0 mod %lld", (long long)c->Hp);
    cidx(g, lim, c->PT);
    bp(b, "    %s = arith.cmpi ult, %s, %s : index\n", fresh(g, top), hh, lim);
    cidx(g, lim, c->PT + c->H);
    bp(b, "    %s = arith.cmpi uge, %s, %s : index\n", fresh(g, bot), hh, lim);
    bp(b, "    %s = arith.ori %s, %s : i1\n    scf.if %s {\n", fresh(g, full), top, bot, full);
    const int64_t spans[3][2] = {{0, c->Wp}, {0, c->PL}, {c->PL + c->W, c->PR}};
    for (int k = 0; k < 3; ++k) {
      if (k == 1) bp(b, "    } else {\n");
      if (spans[k][1] == 0) continue;
      cidx(g, ub, spans[k][1] * c->OCP), cidx(g, st, VW);
      bp(b, "    scf.for %s = %%c0 to %s step %s {\n", fresh(g, i1), ub, st);
      snprintf(args, sizeof args, "%s, %s", i0, i1);
      aff(g, o, "d0, d1", args, "d0 * %lld + %lld + d1", (long long)(c->Wp * c->OCP),
          (long long)(spans[k][0] * c->OCP));
      bp(b, "    vector.store %s, %%xp[%s] : memref<%lldx%s>, vector<%dx%s>\n    }\n", pv, o, XB, xt, VW, xt);
    }
    bp(b, "    }\n    }\n");
  }
  emitCopyIn(g, "xp", c->OCP, xt, 0);
  bp(b, "    %%wdw = memref.get_global @%s_w : memref<%lldx%s>\n", name, (long long)(c->KH * c->KW * c->OCP), et);
  bp(b, "    %%bias = memref.get_global @%s_b : memref<%lldx%s>\n", name, (long long)c->OCP, et);
  emitClampConstsF(g);
  emitRequantConsts(g, name);
  emitTasks(g);
  bp(b, "    memref.dealloc %%xp : memref<%lldx%s>\n    return\n  }\n", XB, xt);
}


/* fp32 kernel body: the input is read in place, or from a zero-padded copy. */
static void emitFloatBody(Gen *g, const char *name, long long XB) {
  const Conv *c = g->c;
  Buf *b = g->b;
  emitFlat(g, "y1", "y", c->N, c->OH, c->OW, c->OC, "f32");
  if (!c->copy) {
    emitFlat(g, "xq", "x", c->N, c->H, c->W, c->C, "f32");
  } else {
    emitFlat(g, "x1", "x", c->N, c->H, c->W, c->C, "f32");
    bp(b, "    %%xq = memref.alloc() {alignment = 64 : i64} : memref<%lldxf32>\n", XB);
    bp(b, "    %%padv = arith.constant 0.0 : f32\n");
    bp(b, "    linalg.fill ins(%%padv : f32) outs(%%xq : memref<%lldxf32>)\n", XB);
    emitCopyIn(g, "xq", c->C, "f32", 0);
  }
  bp(b, "    %%wgt = memref.get_global @%s_w : memref<%lldxf32>\n", name,
     (long long)(c->OCB * c->KH * c->KW * c->C * 16));
  bp(b, "    %%bias = memref.get_global @%s_b : memref<%lldxf32>\n", name, (long long)c->OCP);
  g->skipRows = skipsRows(c);
  emitClampConstsF(g);
  emitTasks(g);
  if (c->copy) bp(b, "    memref.dealloc %%xq : memref<%lldxf32>\n", XB);
  bp(b, "    return\n  }\n");
}

static void emitKernel(Buf *b, const char *name, const char *suffix, const Conv *c, int isa,
                       int parallel) {
  Gen gen = {.b = b, .c = c, .isa = isa, .parallel = parallel}, *g = &gen;
  emitSignature(b, name, suffix, c);
  if (kIsaFeatures[isa])
    bp(b, " attributes {target_features = #llvm.target_features<[%s]>}", kIsaFeatures[isa]);
  bp(b, " {\n    %%c0 = arith.constant 0 : index\n    %%c1 = arith.constant 1 : index\n");
  long long XB = (long long)(c->N * c->Hp * c->Wp * c->Cp);
  long long TOT = (long long)(c->N * c->H * c->W * c->C);
  if (c->dw) {
    emitDepthwiseBody(g, name, XB);
    return;
  }
  if (c->isFloat) {
    emitFloatBody(g, name, XB);
    return;
  }
  emitFlat(g, "x1", "x", c->N, c->H, c->W, c->C, "i8");
  emitFlat(g, "y1", "y", c->N, c->OH, c->OW, c->OC, elemT(c));
  /* How the kernel reads its input: in place when no padding is needed
   * (pointwise, C % 4 == 0: xor on each 4-byte load), else through KH staged
   * rows per output row (padding and the xor done per row, in cache, by each
   * thread), else (huge rows) through one padded copy. */
  g->mode = c->pointwise && c->C % 4 == 0                                  ? 1
            : c->kwPack || (!c->pointwise && c->C % 4 == 0 && stageBytes(c) <= 256 * 1024) ? 2
                                                                          : 0;
  g->skipRows = skipsRows(c);
  int8_t pbyte = (int8_t)((uint8_t)c->zx ^ 0x80);
  bp(b, "    %%padv = arith.constant %d : i8\n", pbyte);
  if (g->mode == 1) {
    bp(b, "    %%flip32 = arith.constant -2139062144 : i32\n"); /* 0x80808080 */
    bp(b, "    %%xq = memref.view %%x1[%%c0][] : memref<%lldxi8> to memref<%lldxi32>\n", TOT, TOT / 4);
  }
  if (g->mode != 0) {
    emitInt8Consts(g, name);
    emitTasks(g);
    bp(b, "    return\n  }\n");
    return;
  }
  bp(b, "    %%xp = memref.alloc() {alignment = 64 : i64} : memref<%lldxi8>\n", XB);
  if (c->Hp != c->H || c->Wp != c->W || c->Cp != c->C)
    bp(b, "    linalg.fill ins(%%padv : i8) outs(%%xp : memref<%lldxi8>)\n", XB);
  emitCopyIn(g, "xp", c->Cp, "i8", 1);
  bp(b, "    %%xq = memref.view %%xp[%%c0][] : memref<%lldxi8> to memref<%lldxi32>\n", XB, XB / 4);
  emitInt8Consts(g, name);
  emitTasks(g);
  bp(b, "    memref.dealloc %%xp : memref<%lldxi8>\n    return\n  }\n", XB);
}

/* The dispatcher: the body qrt_kernel_isa() chose (the ISA enum: 0 portable,
 * 1 avx2, 2 avx-vnni, 3 avx512-vnni), by equality: it only ever names a body
 * the CPU supports, so no comparison can reach one it does not. */
static void emitDispatch(Buf *b, const char *name, const Conv *c) {
  Buf sb = {0};
  sigTypes(&sb, c);
  char *sig = qoBufTake(&sb);
  if (!sig) {
    b->failed = 1;
    return;
  }
  emitSignature(b, name, "", c);
  bp(b, " {\n    %%isa = func.call @qrt_kernel_isa() : () -> i32\n");
  for (int k = ISA_COUNT - 1; k >= 1; --k)
    bp(b, "    %%l%d = arith.constant %d : i32\n    %%ge%d = arith.cmpi eq, %%isa, %%l%d : i32\n"
          "    scf.if %%ge%d {\n      func.call @%s%s(%%x, %%y) : %s -> ()\n    } else {\n",
       k, k, k, k, k, name, kIsaSuffix[k], sig);
  bp(b, "      func.call @%s%s(%%x, %%y) : %s -> ()\n", name, kIsaSuffix[0], sig);
  for (int k = ISA_COUNT - 1; k >= 1; --k) bp(b, "    }\n");
  bp(b, "    return\n  }\n");
  free(sig);
}

/* ---- the pass ------------------------------------------------------------------ */

/* Appends `func.func private @name(memref x, memref y)` carrying the kernel
 * module's text in `qo.kernel` (quant-materialize-kernels parses it after
 * bufferization: the buffer deallocation passes reject llvm.call_intrinsic,
 * whose memory effects are unknown) and `qo.kernel_dispatch` when the text
 * calls @qrt_kernel_isa. */
static int declare(MlirOperation module, const char *name, const Conv *c, int dispatch,
                   const char *text, MlirLocation loc) {
  MlirContext ctx = mlirOperationGetContext(module);
  Buf e = {0};
  bp(&e, "func.func private @%s", name);
  sigTypes(&e, c);
  char *decl_text = qoBufTake(&e);
  MlirOperation decl = decl_text ? mlirOperationCreateParse(ctx, qoStr(decl_text), qoStr("quant-x86-kernels"))
                                 : (MlirOperation){NULL};
  free(decl_text);
  if (mlirOperationIsNull(decl)) {
    mlirEmitError(loc, "quant-x86-kernels: internal error: bad kernel declaration");
    return -1;
  }
  mlirOperationSetAttributeByName(decl, qoStr("qo.kernel"), mlirStringAttrGet(ctx, qoStr(text)));
  if (dispatch) mlirOperationSetAttributeByName(decl, qoStr("qo.kernel_dispatch"), mlirUnitAttrGet(ctx));
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  mlirBlockAppendOwnedOperation(body, decl);
  return 0;
}

static MlirType memrefOf(MlirType tensor) {
  intptr_t rank = mlirShapedTypeGetRank(tensor);
  int64_t d[8];
  for (intptr_t i = 0; i < rank; ++i) d[i] = mlirShapedTypeGetDimSize(tensor, i);
  return mlirMemRefTypeContiguousGet(mlirShapedTypeGetElementType(tensor), rank, d, mlirAttributeGetNull());
}

/* Replaces conv .. last by the call of @name. */
static void rewriteCall(MlirOperation conv, MlirOperation last, const char *name, const Conv *c) {
  MlirContext ctx = mlirOperationGetContext(conv);
  MlirLocation loc = mlirOperationGetLocation(conv);
  MlirValue x = mlirOperationGetOperand(conv, 0);
  MlirValue out = mlirOperationGetResult(last, 0);
  MlirType outT = mlirValueGetType(out);
  if (c->matmul) { /* [1,M,K] -> [M,1,1,K]; the result back to [1,M,N] below */
    int64_t xs[4] = {c->N, 1, 1, c->C}, ys[4] = {c->N, 1, 1, c->OC};
    x = qoTosaReshape(conv, loc, x, 4, xs);
    outT = mlirRankedTensorTypeGet(4, ys, mlirShapedTypeGetElementType(outT), mlirAttributeGetNull());
  }
  MlirType xm = memrefOf(mlirValueGetType(x)), ym = memrefOf(outT);
  MlirNamedAttribute ro = qoNamedAttr(ctx, "read_only", mlirUnitAttrGet(ctx));
  MlirValue xb = mlirOperationGetResult(
      qoCreateOpBefore(conv, "bufferization.to_buffer", loc, 1, &x, 1, &xm, 1, &ro), 0);
  int32_t seg[2] = {0, 0};
  MlirNamedAttribute al[2] = {
      qoNamedAttr(ctx, "operandSegmentSizes", mlirDenseI32ArrayGet(ctx, 2, seg)),
      qoNamedAttr(ctx, "alignment", mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), 64))};
  MlirValue yb = mlirOperationGetResult(qoCreateOpBefore(conv, "memref.alloc", loc, 0, NULL, 1, &ym, 2, al), 0);
  MlirValue args[2] = {xb, yb};
  MlirNamedAttribute callee = qoNamedAttr(ctx, "callee", mlirFlatSymbolRefAttrGet(ctx, qoStr(name)));
  qoCreateOpBefore(conv, "func.call", loc, 2, args, 0, NULL, 1, &callee);
  MlirNamedAttribute tt[2] = {qoNamedAttr(ctx, "restrict", mlirUnitAttrGet(ctx)),
                              qoNamedAttr(ctx, "writable", mlirUnitAttrGet(ctx))};
  MlirValue y = mlirOperationGetResult(
      qoCreateOpBefore(conv, "bufferization.to_tensor", loc, 1, &yb, 1, &outT, 2, tt), 0);
  if (c->matmul) {
    int64_t ys[3] = {1, c->N, c->OC};
    y = qoTosaReshape(conv, loc, y, 3, ys);
  }
  mlirValueReplaceAllUsesOfWith(out, y);
  /* Erase last .. conv (each now unused). */
  for (MlirOperation op = last;;) {
    MlirOperation prev = qoDefiningOp(mlirOperationGetOperand(op, 0));
    int done = mlirOperationEqual(op, conv);
    mlirOperationDestroy(op);
    if (done) break;
    op = prev;
  }
}

static int parseIsa(const char *v) {
  if (!strcmp(v, "auto")) return -1;
  if (!strcmp(v, "off")) return -2;
  for (int i = 0; i < ISA_COUNT; ++i)
    if (!strcmp(v, kIsaName[i])) return i;
  return -3;
}

static void run(MlirOperation module, MlirExternalPass pass, const char *const *values) {
  /* The context's kernel options (quant-opt --kernels), then the pass's own. */
  qoKernelConfig k;
  const qoContextConfig *cc = qoContextConfigGet(mlirOperationGetContext(module));
  if (cc) k = cc->kernels;
  else qoKernelConfigInitDefault(&k);
  if (*values[0]) k.isa = parseIsa(values[0]);
  if (*values[1]) k.fp32 = !strcmp(values[1], "true");
  if (*values[2]) k.parallelMinOps = strtod(values[2], NULL);
  int isa = k.isa, fp32 = k.fp32;
  double minOps = k.parallelMinOps;
  if (isa == -2) return;
  qoOpList convs = {0};
  qoCollectOps(module, "tosa.conv2d", &convs);
  if (fp32) qoCollectOps(module, "tosa.matmul", &convs);
  qoCollectOps(module, "tosa.depthwise_conv2d", &convs);
  int counter = 0;
  for (size_t i = 0; i < convs.size; ++i) {
    Conv c;
    MlirOperation conv = convs.ops[i];
    MlirOperation last = isF32Tensor(mlirOperationGetOperand(conv, 0))
                             ? (fp32 ? matchFloat(conv, &c) : (MlirOperation){NULL})
                             : qoOpIs(conv, "tosa.conv2d")           ? matchConv(conv, &c)
                             : qoOpIs(conv, "tosa.depthwise_conv2d") ? matchDepthwise(conv, &c)
                                                                     : (MlirOperation){NULL};
    if (mlirOperationIsNull(last)) continue;
    char name[64];
    do snprintf(name, sizeof name, "qo_conv%d", counter++);
    while (qoModuleHasSymbol(module, name));
    /* Threads only where the work pays for waking them. */
    double ops = 2.0 * c.N * c.OH * c.OW * c.OC * c.KH * c.KW * (c.dw ? 1 : c.C);
    int par = minOps >= 0 && ops >= minOps;
    Buf b = {0};
    bp(&b, "module {\n");
    emitGlobals(&b, name, &c);
    if (isa >= 0) {
      emitKernel(&b, name, "", &c, isa, par);
    } else {
      for (int k = 0; k < ISA_COUNT; ++k) emitKernel(&b, name, kIsaSuffix[k], &c, k, par);
      emitDispatch(&b, name, &c);
    }
    bp(&b, "}\n");
    MlirLocation loc = mlirOperationGetLocation(conv);
    if (b.failed || declare(module, name, &c, isa == -1, b.data, loc)) {
      if (b.failed) mlirEmitError(loc, "quant-x86-kernels: out of memory");
      free(b.data), convFree(&c), qoOpListFree(&convs);
      mlirExternalPassSignalFailure(pass);
      return;
    }
    free(b.data);
    char msg[160];
    snprintf(msg, sizeof msg, "%s %s -> @%s (%s, %s epilogue%s)", c.isFloat ? "fp32" : "int8",
             c.matmul ? "matmul" : c.dw ? "depthwise_conv2d" : "conv2d", name,
             c.dw ? "direct" : c.pointwise ? "pointwise GEMM" : "implicit GEMM",
             c.isFloat ? (c.clampF ? "bias+clamp" : "bias")
                       : c.outI8 ? "requantize+clamp" : "int32",
             par ? ", OpenMP" : "");
    qoEmitRemark(loc, msg);
    rewriteCall(conv, last, name, &c);
    convFree(&c);
  }
  qoOpListFree(&convs);
}

/* Empty values inherit the context's kernel options (qoContextSetKernelOptions,
 * quant-opt --kernels), whose defaults are isa=auto, fp32=true,
 * parallel-min-ops=4000000. */
static const qoPassOptionDef kOptions[] = {
    {"isa", "", "auto (all kernels + run-time dispatch from cpuid; QO_ISA=portable|avx2|avx-vnni|"
                "avx512-vnni picks a body the CPU has), avx512-vnni, avx-vnni, avx2, portable, or off"},
    {"fp32", "", "also fp32 conv2d and matmul with constant weights (AVX-512/AVX2 FMA kernels): "
                 "true (default) or false"},
    {"parallel-min-ops", "", "kernels of at least this many operations (2 per MAC; default "
                             "4000000) split their work over OpenMP threads (OMP_NUM_THREADS); "
                             "0 = all, -1 = none"},
};

static int validate(const char *const *values, char **error) {
  char text[256];
  snprintf(text, sizeof text, "%s%s%s%s%s%s%s%s", *values[0] ? "isa=" : "", values[0],
           *values[0] ? "," : "", *values[1] ? "fp32=" : "", values[1], *values[1] ? "," : "",
           *values[2] ? "parallel-min-ops=" : "", values[2]);
  qoKernelConfig k;
  qoKernelConfigInitDefault(&k);
  if (strlen(values[0]) + strlen(values[1]) + strlen(values[2]) > 200) {
    *error = strdup("quant-x86-kernels: option values too long");
    return -1;
  }
  if (qoKernelConfigParse(&k, text, error) == 0) return 0;
  char *m = malloc(strlen(*error) + 32);
  if (m) sprintf(m, "quant-x86-kernels: %s", *error);
  free(*error);
  *error = m;
  return -1;
}

const qoPassDef qoX86KernelsPass = {
    .argument = "quant-x86-kernels",
    .anchor = "builtin.module",
    .summary = "Replace int8 conv2d/matmul (+ requantize, clamp) with generated VNNI/AVX2/portable kernels",
    .options = kOptions,
    .numOptions = 3,
    .validate = validate,
    .run = run,
};
