/* qo-int8-ref: a plain scalar C interpreter of quant-opt's integer IR.
 *
 * Evaluates the output of quant-lower-to-integer (TOSA int8 ops with zero
 * points, tosa.rescale, the exact arith quantize/dequantize at the
 * boundaries, data movement) op by op with straightforward loops written from
 * the TOSA specification, independently of MLIR's lowering. The tests run a
 * compiled model and this interpreter on the same random (and saturating)
 * inputs and require bit-identical outputs.
 *
 * Usage: qo-int8-ref <model.mlir> <input.npy>... -o <output.npy>
 * (one input per function argument, one output: the first result). */
#include "quant-opt/compiler.h"
#include "quant-opt/qrt.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct T {
  int rank;
  int64_t d[8];
  int64_t n;
  int isFloat; /* f32 values (stored as double, always float-rounded) */
  double *v;
} T;

static int fail(const char *what, MlirOperation op) {
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  fprintf(stderr, "qo-int8-ref: error: %s (op %.*s)\n", what, (int)n.length, n.data);
  exit(1);
}

static int is(MlirOperation op, const char *name) {
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  return n.length == strlen(name) && !memcmp(n.data, name, n.length);
}

static T mk(MlirType t) {
  T r = {0};
  r.rank = (int)mlirShapedTypeGetRank(t);
  r.n = 1;
  for (int i = 0; i < r.rank; ++i) r.n *= (r.d[i] = mlirShapedTypeGetDimSize(t, i));
  r.isFloat = mlirTypeIsAFloat(mlirShapedTypeGetElementType(t));
  r.v = calloc((size_t)(r.n ? r.n : 1), sizeof(double));
  return r;
}

/* Value table: MlirValue -> T. */
static struct {
  const void *key;
  T t;
} *tab;
static size_t ntab, captab;

static void put(MlirValue v, T t) {
  if (ntab == captab) tab = realloc(tab, (captab = captab ? 2 * captab : 256) * sizeof *tab);
  tab[ntab].key = v.ptr;
  tab[ntab++].t = t;
}

static T *get(MlirValue v) {
  for (size_t i = ntab; i-- > 0;)
    if (tab[i].key == v.ptr) return &tab[i].t;
  fprintf(stderr, "qo-int8-ref: error: use of an unevaluated value\n");
  exit(1);
}

static MlirAttribute attr(MlirOperation op, const char *n) {
  return mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString(n));
}

static int64_t arr(MlirOperation op, const char *n, int i) {
  MlirAttribute a = attr(op, n);
  if (mlirAttributeIsNull(a)) fail("missing array attribute", op);
  return mlirAttributeIsADenseI64Array(a) ? mlirDenseI64ArrayGetElement(a, i)
                                          : mlirDenseI32ArrayGetElement(a, i);
}

static double scalarAttr(MlirAttribute a) {
  return mlirAttributeIsAFloat(a) ? mlirFloatAttrGetValueDouble(a) : (double)mlirIntegerAttrGetValueInt(a);
}

/* Index of broadcast operand element for output index i. */
static int64_t bidx(const T *src, const T *out, int64_t i) {
  int64_t idx = 0, stride = 1;
  for (int k = out->rank - 1; k >= 0; --k) {
    int64_t c = i % out->d[k];
    i /= out->d[k];
    int sk = k - (out->rank - src->rank);
    if (sk >= 0) {
      if (src->d[sk] != 1) idx += c * stride;
      stride *= src->d[sk];
    }
  }
  return idx;
}

static double sat(double v, int bits) {
  double lo = -ldexp(1, bits - 1), hi = ldexp(1, bits - 1) - 1;
  return v < lo ? lo : v > hi ? hi : v;
}

static int elemBits(MlirType t) {
  MlirType e = mlirShapedTypeGetElementType(t);
  return mlirTypeIsAInteger(e) ? (int)mlirIntegerTypeGetWidth(e) : 32;
}

/* TOSA apply_scale_32, SINGLE_ROUND. */
static int64_t applyScale(int64_t v, int64_t m, int s) {
  __int128 r = (__int128)v * m + ((__int128)1 << (s - 1));
  return (int64_t)(r >> s);
}

static void evalOp(MlirOperation op) {
  MlirType rt = mlirOperationGetNumResults(op) ? mlirValueGetType(mlirOperationGetResult(op, 0)) : (MlirType){0};
  if (is(op, "tosa.const_shape")) {
    MlirAttribute a = attr(op, "values");
    T t = {0};
    t.rank = 1;
    t.n = t.d[0] = mlirElementsAttrGetNumElements(a);
    t.v = calloc((size_t)(t.n ? t.n : 1), sizeof(double));
    for (int64_t i = 0; i < t.n; ++i) t.v[i] = (double)mlirDenseElementsAttrGetIndexValue(a, i);
    put(mlirOperationGetResult(op, 0), t);
    return;
  }
  if (is(op, "tosa.const") || is(op, "arith.constant")) {
    MlirAttribute a = attr(op, is(op, "tosa.const") ? "values" : "value");
    if (!mlirTypeIsARankedTensor(rt)) fail("scalar constants are not supported", op);
    T t = mk(rt);
    int splat = mlirDenseElementsAttrIsSplat(a);
    MlirType e = mlirShapedTypeGetElementType(rt);
    for (int64_t i = 0; i < t.n; ++i) {
      intptr_t k = splat ? 0 : (intptr_t)i;
      if (t.isFloat) t.v[i] = mlirDenseElementsAttrGetFloatValue(a, k);
      else if (mlirIntegerTypeGetWidth(e) == 8) t.v[i] = mlirDenseElementsAttrGetInt8Value(a, k);
      else if (mlirIntegerTypeGetWidth(e) == 32) t.v[i] = mlirDenseElementsAttrGetInt32Value(a, k);
      else t.v[i] = (double)mlirDenseElementsAttrGetInt64Value(a, k);
    }
    put(mlirOperationGetResult(op, 0), t);
    return;
  }
  T out = mk(rt);
  T *a = mlirOperationGetNumOperands(op) > 0 ? get(mlirOperationGetOperand(op, 0)) : NULL;
  T *b = mlirOperationGetNumOperands(op) > 1 ? get(mlirOperationGetOperand(op, 1)) : NULL;
  if (is(op, "arith.divf") || is(op, "arith.addf") || is(op, "arith.subf") || is(op, "arith.mulf") ||
      is(op, "arith.maximumf") || is(op, "arith.minimumf")) {
    for (int64_t i = 0; i < out.n; ++i) {
      float x = (float)a->v[bidx(a, &out, i)], y = (float)b->v[bidx(b, &out, i)], r;
      if (is(op, "arith.divf")) r = x / y;
      else if (is(op, "arith.addf")) r = x + y;
      else if (is(op, "arith.subf")) r = x - y;
      else if (is(op, "arith.mulf")) r = x * y;
      else if (is(op, "arith.maximumf")) r = isnan(x) || isnan(y) ? NAN : fmaxf(x, y);
      else r = isnan(x) || isnan(y) ? NAN : fminf(x, y);
      out.v[i] = r;
    }
  } else if (is(op, "math.roundeven")) {
    for (int64_t i = 0; i < out.n; ++i) out.v[i] = nearbyintf((float)a->v[i]);
  } else if (is(op, "arith.fptosi")) {
    for (int64_t i = 0; i < out.n; ++i) out.v[i] = (double)(int64_t)a->v[i];
  } else if (is(op, "arith.sitofp")) {
    for (int64_t i = 0; i < out.n; ++i) out.v[i] = (float)a->v[i];
  } else if (is(op, "tosa.add") || is(op, "tosa.sub")) {
    int bits = elemBits(rt);
    for (int64_t i = 0; i < out.n; ++i) {
      double x = a->v[bidx(a, &out, i)], y = b->v[bidx(b, &out, i)];
      double r = is(op, "tosa.add") ? x + y : x - y;
      out.v[i] = out.isFloat ? (float)r : r;
      (void)bits;
    }
  } else if (is(op, "tosa.mul")) { /* float, or integer with shift 0 */
    if (!out.isFloat && get(mlirOperationGetOperand(op, 2))->v[0] != 0) fail("tosa.mul with a shift", op);
    for (int64_t i = 0; i < out.n; ++i) {
      double x = a->v[bidx(a, &out, i)], y = b->v[bidx(b, &out, i)];
      out.v[i] = out.isFloat ? (double)((float)x * (float)y) : x * y;
    }
  } else if (is(op, "tensor.bitcast")) { /* ui8 <-> i8: same bits */
    int toUnsigned = mlirIntegerTypeIsUnsigned(mlirShapedTypeGetElementType(rt));
    for (int64_t i = 0; i < out.n; ++i) {
      int64_t v = (int64_t)a->v[i];
      out.v[i] = (double)(toUnsigned ? (v < 0 ? v + 256 : v) : (v > 127 ? v - 256 : v));
    }
  } else if (is(op, "tosa.bitwise_xor")) {
    for (int64_t i = 0; i < out.n; ++i)
      out.v[i] = (double)(int8_t)((int64_t)a->v[bidx(a, &out, i)] ^ (int64_t)b->v[bidx(b, &out, i)]);
  } else if (is(op, "tosa.slice")) {
    T *start = b;
    for (int64_t i = 0; i < out.n; ++i) {
      int64_t rem = i, src = 0, stride = 1, idx[8];
      for (int k = out.rank - 1; k >= 0; --k) idx[k] = rem % out.d[k], rem /= out.d[k];
      for (int k = a->rank - 1; k >= 0; --k) src += (idx[k] + (int64_t)start->v[k]) * stride, stride *= a->d[k];
      out.v[i] = a->v[src];
    }
  } else if (is(op, "tosa.reshape")) {
    memcpy(out.v, a->v, (size_t)out.n * sizeof(double));
  } else if (is(op, "tosa.transpose")) {
    for (int64_t i = 0; i < out.n; ++i) {
      int64_t rem = i, idx[8], src = 0;
      for (int k = out.rank - 1; k >= 0; --k) idx[k] = rem % out.d[k], rem /= out.d[k];
      int64_t stride = 1, sidx[8];
      for (int k = 0; k < out.rank; ++k) sidx[arr(op, "perms", k)] = idx[k];
      for (int k = a->rank - 1; k >= 0; --k) src += sidx[k] * stride, stride *= a->d[k];
      out.v[i] = a->v[src];
    }
  } else if (is(op, "tosa.clamp")) {
    double lo = scalarAttr(attr(op, "min_val")), hi = scalarAttr(attr(op, "max_val"));
    for (int64_t i = 0; i < out.n; ++i) out.v[i] = a->v[i] < lo ? lo : a->v[i] > hi ? hi : a->v[i];
  } else if (is(op, "tosa.conv2d") || is(op, "tosa.depthwise_conv2d")) {
    int dw = is(op, "tosa.depthwise_conv2d");
    T *w = b, *bias = get(mlirOperationGetOperand(op, 2));
    double izp = get(mlirOperationGetOperand(op, 3))->v[0], wzp = get(mlirOperationGetOperand(op, 4))->v[0];
    if (a->isFloat) fail("float convolutions are not interpreted", op);
    int64_t N = a->d[0], IH = a->d[1], IW = a->d[2], IC = a->d[3];
    int64_t OH = out.d[1], OW = out.d[2], OC = out.d[3];
    int64_t KH = dw ? w->d[0] : w->d[1], KW = dw ? w->d[1] : w->d[2], M = dw ? w->d[3] : 1;
    int64_t pt = arr(op, "pad", 0), pl = arr(op, "pad", 2), sy = arr(op, "stride", 0), sx = arr(op, "stride", 1);
    int64_t dy = arr(op, "dilation", 0), dx = arr(op, "dilation", 1);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox)
          for (int64_t oc = 0; oc < OC; ++oc) {
            int64_t acc = (int64_t)bias->v[bias->n == 1 ? 0 : oc];
            int64_t icLo = dw ? oc / M : 0, icHi = dw ? oc / M + 1 : IC;
            for (int64_t ky = 0; ky < KH; ++ky)
              for (int64_t kx = 0; kx < KW; ++kx) {
                int64_t y = oy * sy - pt + ky * dy, x = ox * sx - pl + kx * dx;
                if (y < 0 || y >= IH || x < 0 || x >= IW) continue; /* padding is the zero point */
                for (int64_t ic = icLo; ic < icHi; ++ic) {
                  int64_t xv = (int64_t)a->v[((n * IH + y) * IW + x) * IC + ic] - (int64_t)izp;
                  int64_t wv = dw ? (int64_t)w->v[((ky * KW + kx) * IC + ic) * M + oc % M]
                                  : (int64_t)w->v[((oc * KH + ky) * KW + kx) * IC + ic];
                  acc += xv * (wv - (int64_t)wzp);
                }
              }
            out.v[((n * OH + oy) * OW + ox) * OC + oc] = (double)acc;
          }
  } else if (is(op, "tosa.matmul")) {
    double azp = get(mlirOperationGetOperand(op, 2))->v[0], bzp = get(mlirOperationGetOperand(op, 3))->v[0];
    int64_t N = a->d[0], H = a->d[1], C = a->d[2], W = b->d[2];
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          int64_t acc = 0;
          for (int64_t c = 0; c < C; ++c)
            acc += ((int64_t)a->v[(n * H + h) * C + c] - (int64_t)azp) *
                   ((int64_t)b->v[(n * C + c) * W + w] - (int64_t)bzp);
          out.v[(n * H + h) * W + w] = (double)acc;
        }
  } else if (is(op, "tosa.rescale")) {
    T *m = b, *s = get(mlirOperationGetOperand(op, 2));
    double izp = get(mlirOperationGetOperand(op, 3))->v[0], ozp = get(mlirOperationGetOperand(op, 4))->v[0];
    int per = mlirBoolAttrGetValue(attr(op, "per_channel"));
    int64_t C = a->d[a->rank - 1];
    int bits = elemBits(rt);
    for (int64_t i = 0; i < out.n; ++i) {
      int64_t c = per ? i % C : 0;
      int64_t r = applyScale((int64_t)a->v[i] - (int64_t)izp, (int64_t)m->v[c], (int)s->v[c]);
      out.v[i] = sat((double)(r + (int64_t)ozp), bits);
    }
  } else if (is(op, "tosa.max_pool2d") || is(op, "tosa.avg_pool2d")) {
    int avg = is(op, "tosa.avg_pool2d");
    double izp = avg ? get(mlirOperationGetOperand(op, 1))->v[0] : 0;
    double ozp = avg ? get(mlirOperationGetOperand(op, 2))->v[0] : 0;
    int64_t N = a->d[0], IH = a->d[1], IW = a->d[2], C = a->d[3], OH = out.d[1], OW = out.d[2];
    int64_t KH = arr(op, "kernel", 0), KW = arr(op, "kernel", 1), sy = arr(op, "stride", 0), sx = arr(op, "stride", 1);
    int64_t pt = arr(op, "pad", 0), pl = arr(op, "pad", 2);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox)
          for (int64_t c = 0; c < C; ++c) {
            double best = -INFINITY;
            int64_t sum = 0, count = 0;
            for (int64_t ky = 0; ky < KH; ++ky)
              for (int64_t kx = 0; kx < KW; ++kx) {
                int64_t y = oy * sy - pt + ky, x = ox * sx - pl + kx;
                if (y < 0 || y >= IH || x < 0 || x >= IW) continue;
                double v = a->v[((n * IH + y) * IW + x) * C + c];
                if (v > best) best = v;
                sum += (int64_t)v - (int64_t)izp;
                ++count;
              }
            double r = best;
            if (avg) { /* TOSA: sum * reciprocal_scale(count), SINGLE_ROUND */
              if (a->isFloat) fail("float average pooling is not interpreted", op);
              int k = 0;
              while ((1LL << k) < count) ++k;
              int64_t mult = ((((int64_t)1 << 30) + 1) << k) / count;
              r = sat((double)(applyScale(sum, mult, 30 + k) + (int64_t)ozp), 8);
            }
            out.v[((n * OH + oy) * OW + ox) * C + c] = r;
          }
  } else if (is(op, "tosa.concat")) {
    int64_t axis = mlirIntegerAttrGetValueInt(attr(op, "axis"));
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < axis; ++k) outer *= out.d[k];
    for (int k = (int)axis + 1; k < out.rank; ++k) inner *= out.d[k];
    int64_t off = 0;
    for (intptr_t j = 0; j < mlirOperationGetNumOperands(op); ++j) {
      T *s = get(mlirOperationGetOperand(op, j));
      int64_t len = s->d[axis] * inner;
      for (int64_t o = 0; o < outer; ++o)
        memcpy(out.v + o * out.d[axis] * inner + off, s->v + o * len, (size_t)len * sizeof(double));
      off += len;
    }
  } else {
    fail("op not supported by the reference", op);
  }
  put(mlirOperationGetResult(op, 0), out);
}

int main(int argc, char **argv) {
  const char *model = NULL, *outPath = NULL;
  const char *ins[16];
  int nin = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "-o") && i + 1 < argc) outPath = argv[++i];
    else if (!model) model = argv[i];
    else if (nin < 16) ins[nin++] = argv[i];
  }
  if (!model || !outPath) {
    fprintf(stderr, "usage: qo-int8-ref <model.mlir> <input.npy>... -o <output.npy>\n");
    return 2;
  }
  MlirContext ctx = qoContextCreate();
  qoAttachDiagnosticPrinter(ctx, stderr, model, NULL);
  MlirModule m = qoLoadSourceFile(ctx, model, NULL);
  if (mlirModuleIsNull(m)) return 1;
  MlirOperation f = mlirBlockGetFirstOperation(mlirModuleGetBody(m));
  while (!mlirOperationIsNull(f) && !(is(f, "func.func") && mlirRegionGetFirstBlock(mlirOperationGetRegion(f, 0)).ptr))
    f = mlirOperationGetNextInBlock(f);
  if (mlirOperationIsNull(f)) return 1;
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(f, 0));
  if (mlirBlockGetNumArguments(body) != nin) {
    fprintf(stderr, "qo-int8-ref: error: the model takes %ld inputs\n", (long)mlirBlockGetNumArguments(body));
    return 1;
  }
  for (int i = 0; i < nin; ++i) {
    qrt_array_t x;
    char msg[512];
    if (qrt_npy_read(ins[i], &x, msg, sizeof msg) != QRT_OK) {
      fprintf(stderr, "qo-int8-ref: error: %s\n", msg);
      return 1;
    }
    MlirValue arg = mlirBlockGetArgument(body, i);
    T t = mk(mlirValueGetType(arg));
    if (t.n != qrt_array_numel(&x)) {
      fprintf(stderr, "qo-int8-ref: error: input %d has the wrong size\n", i);
      return 1;
    }
    for (int64_t k = 0; k < t.n; ++k) {
      switch (x.dtype) {
      case QRT_F32: t.v[k] = ((float *)x.data)[k]; break;
      case QRT_U8: t.v[k] = ((uint8_t *)x.data)[k]; break;
      case QRT_I8: t.v[k] = ((int8_t *)x.data)[k]; break;
      case QRT_I32: t.v[k] = ((int32_t *)x.data)[k]; break;
      default: t.v[k] = (double)((int64_t *)x.data)[k]; break;
      }
    }
    put(arg, t);
    qrt_array_free(&x);
  }
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (is(op, "func.return")) {
      T *r = get(mlirOperationGetOperand(op, 0));
      qrt_array_t o;
      qrt_array_alloc(&o, r->isFloat ? QRT_F32 : QRT_I32, r->rank, r->d);
      for (int64_t k = 0; k < r->n; ++k) {
        if (r->isFloat) ((float *)o.data)[k] = (float)r->v[k];
        else ((int32_t *)o.data)[k] = (int32_t)r->v[k];
      }
      int rc = qrt_npy_write(outPath, &o) == QRT_OK ? 0 : 1;
      qrt_array_free(&o);
      return rc;
    }
    evalOp(op);
  }
  return 1;
}
