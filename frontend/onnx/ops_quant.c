/* Pre-quantized ONNX models: QDQ (QuantizeLinear / DequantizeLinear around
 * float ops) and QOperator (QLinearConv, QLinearMatMul, ConvInteger,
 * MatMulInteger, DynamicQuantizeLinear).
 *
 * They become the representation quant-insert-qdq produces, so they run
 * through quant-lower-fake-quant (exact float simulation) and the integer
 * lowering:
 *   - QuantizeLinear of an activation:
 *       %q = quant.qcast %x {qo.id = N : i64, qo.name = "<node>"}
 *            : tensor<..xf32> to tensor<..x!quant.uniform<u8:f32, s:z>>
 *     (i8 storage for int8 zero points; per-axis types for 1-D scales, the
 *     axis remapped to NHWC where the value lives in NHWC). Ids are
 *     sequential over the model; these points are calibrated.
 *   - DequantizeLinear of such a value: quant.dcast.
 *   - DequantizeLinear of an int8/uint8 initializer (weights): the exact f32
 *     constant (q - zp) * s, materialised by its consumer in its final
 *     layout (OHWI for conv2d) and wrapped in a qcast/dcast pair without
 *     qo.id, as quant-insert-qdq does for weights. Of an int32 initializer
 *     (biases): a plain f32 constant.
 *   - int8/uint8 graph inputs: tensor<..xi8> / tensor<..xui8> arguments;
 *     uint8 goes through tensor.bitcast to signless i8 (quant.scast accepts
 *     signless integers only), then quant.scast to the quant type the
 *     consumer names and quant.dcast. Integer graph outputs: quant.scast to
 *     i8 (then tensor.bitcast to ui8 for uint8) or the i32 tensor.
 *   - QLinearConv / QLinearMatMul: dequantized operands, the float conv /
 *     matmul of the plain importer, bias int32 -> f32 B * x_s * w_s[c], and
 *     a qcast to the output type.
 *   - ConvInteger / MatMulInteger: integer TOSA (i8 operands, tensor<1xi8>
 *     zero points, acc_type i32).
 *   - DynamicQuantizeLinear: the ONNX formula with tosa ops plus arith.divf
 *     and math.roundeven (TOSA has neither an exact float division nor
 *     round-half-to-even).
 * Scales and zero points must be constants (initializers). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum {
  T_U8 = ONNX__TENSOR_PROTO__DATA_TYPE__UINT8,
  T_I8 = ONNX__TENSOR_PROTO__DATA_TYPE__INT8,
  T_I32 = ONNX__TENSOR_PROTO__DATA_TYPE__INT32,
  T_F32 = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT,
};

static const int kToNhwc[4] = {0, 2, 3, 1};
static const int kToOnnx[4] = {0, 3, 1, 2};

void qoQParamsFree(qoQParams *p) {
  if (!p)
    return;
  free(p->scale);
  free(p->zp);
  free(p);
}

static qoQParams *copyParams(qoImporter *imp, const qoQParams *p) {
  qoQParams *c = calloc(1, sizeof *c);
  if (c) {
    *c = *p;
    c->scale = malloc((size_t)p->n * sizeof *c->scale);
    c->zp = malloc((size_t)p->n * sizeof *c->zp);
  }
  if (!c || !c->scale || !c->zp) {
    qoQParamsFree(c);
    qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
    return NULL;
  }
  memcpy(c->scale, p->scale, (size_t)p->n * sizeof *c->scale);
  memcpy(c->zp, p->zp, (size_t)p->n * sizeof *c->zp);
  return c;
}

static int sameParams(const qoQParams *a, const qoQParams *b) {
  if (a->isSigned != b->isSigned || a->n != b->n || (a->n > 1 && a->axis != b->axis))
    return 0;
  return !memcmp(a->scale, b->scale, (size_t)a->n * sizeof *a->scale) &&
         !memcmp(a->zp, b->zp, (size_t)a->n * sizeof *a->zp);
}

static int isQuantInt(int t) { return t == T_U8 || t == T_I8; }

/* Reads scale input `si` and zero-point input `zi` (optional) of node `n`.
 * A scale with more than one element is per-axis along logical axis `axis`
 * of a tensor with dims `dims` (axis < 0: per-axis not allowed here).
 * Without a zero point the storage is uint8 (ONNX default) unless
 * `defaultSigned`. Fills `p` (caller frees the arrays). */
static int readParams(qoImporter *imp, const Onnx__NodeProto *n, size_t si,
                      size_t zi, int axis, int rank, const int64_t *dims,
                      int defaultSigned, qoQParams *p) {
  memset(p, 0, sizeof *p);
  qoValue *s = qoInput(imp, n, si);
  qoValue *z = qoOptInput(imp, n, zi);
  if (!s || imp->error)
    return -1;
  if (!s->isConst || (z && !z->isConst))
    return qoUnsupported(imp, "unsupported: run-time quantization parameters ('%s')",
                  !s->isConst ? s->name : z->name);
  if (!s->f)
    return qoFail(imp, "quantization scale '%s' must be a float tensor", s->name);
  if (s->rank > 1)
    return qoUnsupported(imp, "unsupported: blocked quantization (scale '%s' has "
                       "rank %d)", s->name, s->rank);
  int64_t ns = qoNumElements(s->rank, s->dims);
  if (ns < 1)
    return qoFail(imp, "quantization scale '%s' is empty", s->name);
  if (z) {
    if (!isQuantInt(z->elemType))
      return qoUnsupported(imp, "unsupported: %s zero point '%s' (int8/uint8 only)",
                    qoTypeName(z->elemType), z->name);
    if (qoNumElements(z->rank, z->dims) != ns)
      return qoFail(imp, "zero point '%s' and scale '%s' differ in size",
                    z->name, s->name);
  }
  if (ns > 1) {
    if (axis < 0)
      return qoUnsupported(imp, "unsupported: per-axis quantization parameters "
                         "('%s') for this operand", s->name);
    if (axis >= rank || dims[axis] != ns)
      return qoFail(imp, "per-axis scale '%s' has %lld elements, but axis %d "
                         "has size %lld", s->name, (long long)ns, axis,
                    (long long)(axis < rank ? dims[axis] : 0));
  }
  p->isSigned = z ? z->elemType == T_I8 : defaultSigned;
  p->n = (int)ns;
  p->axis = ns > 1 ? axis : 0;
  p->scale = malloc((size_t)ns * sizeof *p->scale);
  p->zp = calloc((size_t)ns, sizeof *p->zp);
  if (!p->scale || !p->zp)
    return qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
  for (int64_t k = 0; k < ns; ++k) {
    p->scale[k] = s->f[k];
    if (!isfinite(p->scale[k]) || p->scale[k] <= 0.0f)
      return qoFail(imp, "quantization scale %g in '%s' must be positive and "
                         "finite", (double)p->scale[k], s->name);
    if (z)
      p->zp[k] = z->i[k];
  }
  return 0;
}

static void freeParams(qoQParams *p) {
  free(p->scale);
  free(p->zp);
  p->scale = NULL;
  p->zp = NULL;
}

/* Interned "!quant.uniform<..>" for channels [c0, c0+cnt) of `p`, per-axis
 * along `physAxis` when p->n > 1. */
static int quantElem(qoImporter *imp, const qoQParams *p, int physAxis,
                     int64_t c0, int64_t cnt) {
  qoBuf b = {0};
  const char *st = p->isSigned ? "i8" : "u8";
  if (p->n == 1) {
    qoBufPrintf(&b, "!quant.uniform<%s:f32, %.17e:%lld>", st,
                (double)p->scale[0], (long long)p->zp[0]);
  } else {
    if (c0 < 0 || cnt < 1 || c0 + cnt > p->n) {
      qoBufFree(&b);
      return qoFail(imp, "internal: per-axis channels out of range");
    }
    qoBufPrintf(&b, "!quant.uniform<%s:f32:%d, {", st, physAxis);
    for (int64_t k = c0; k < c0 + cnt; ++k)
      qoBufPrintf(&b, "%s%.17e:%lld", k > c0 ? ", " : "", (double)p->scale[k],
                  (long long)p->zp[k]);
    qoBufAppend(&b, "}>");
  }
  char *s = qoBufTake(&b);
  if (!s)
    return qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
  int e = qoElem(imp, s);
  free(s);
  return e;
}

/* quant.qcast of f32 SSA `x`; an activation point gets qo.id / qo.name. */
static int qcast(qoImporter *imp, int x, const qoQParams *p, int physAxis,
                 int64_t c0, int activation) {
  if (x < 0)
    return -1;
  const qoSsaType *t = qoType(imp, x);
  int64_t dims[QO_MAX_RANK];
  int rank = t->rank;
  memcpy(dims, t->dims, sizeof dims);
  int e = quantElem(imp, p, physAxis, c0, p->n > 1 ? dims[physAxis] : 1);
  if (e < 0)
    return -1;
  if (!activation)
    return qoEmitT(imp, "quant.qcast", 1, &x, NULL, 0, e, rank, dims);
  qoBuf a = {0};
  qoBufPrintf(&a, "qo.id = %lld : i64, qo.name = \"", (long long)imp->nextQid++);
  qoBufAppendEscaped(&a, imp->nodeName ? imp->nodeName : "");
  qoBufAppend(&a, "\"");
  int id = a.failed ? qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory")
                    : qoEmitT(imp, "quant.qcast", 1, &x, a.data, 0, e, rank, dims);
  qoBufFree(&a);
  return id;
}

static int sameShape(qoImporter *imp, const char *op, int x, int elem) {
  if (x < 0 || elem == -2)
    return -1;
  const qoSsaType *t = qoType(imp, x);
  int64_t dims[QO_MAX_RANK];
  int rank = t->rank;
  memcpy(dims, t->dims, sizeof dims);
  return qoEmitT(imp, op, 1, &x, NULL, 1, elem, rank, dims);
}

static int dcast(qoImporter *imp, int q) { return sameShape(imp, "quant.dcast", q, -1); }

static int scastToInt(qoImporter *imp, int q) {
  return sameShape(imp, "quant.scast", q, qoElem(imp, "i8"));
}

static int scastFromInt(qoImporter *imp, int i, const qoQParams *p, int physAxis) {
  if (i < 0)
    return -1;
  const qoSsaType *t = qoType(imp, i);
  int e = quantElem(imp, p, physAxis, 0, p->n > 1 ? t->dims[physAxis] : 1);
  return e < 0 ? -1 : sameShape(imp, "quant.scast", i, e);
}

int qoWrapWeight(qoImporter *imp, const qoValue *v, int c, int physAxis,
                 int64_t c0) {
  if (c < 0 || !v->wq)
    return c;
  return dcast(imp, qcast(imp, c, v->wq, physAxis, c0, 0));
}

static int layoutOf(const qoValue *v) {
  return v->rank == 4 && v->ssa[QO_NHWC] >= 0 ? QO_NHWC : QO_ONNX;
}

static int relayout(qoImporter *imp, int x, int from, int to, int rank) {
  if (from == to || rank != 4)
    return x;
  return qoEmitTranspose(imp, x, to == QO_NHWC ? kToNhwc : kToOnnx);
}

/* The i8 bits of integer run-time value `v` (int8/uint8; uint8 as raw bits)
 * in `layout`. */
static int intBits(qoImporter *imp, qoValue *v, int layout) {
  if (v->isConst || !isQuantInt(v->elemType))
    return qoUnsupported(imp, "unsupported: '%s' must be a run-time int8/uint8 tensor",
                  v->name);
  int from = layoutOf(v);
  int x = v->ssa[from];
  if (v->qp)
    x = scastToInt(imp, x);
  return relayout(imp, x, from, v->rank == 4 ? layout : QO_ONNX, v->rank);
}

/* Float SSA of integer run-time value `v` dequantized with `p`, in
 * `layout`. */
static int dequantize(qoImporter *imp, qoValue *v, const qoQParams *p, int layout) {
  if (v->isConst || !isQuantInt(v->elemType))
    return qoUnsupported(imp, "unsupported: dequantizing the %s %s '%s'",
                  v->isConst ? "constant" : "run-time", qoTypeName(v->elemType),
                  v->name);
  if (p->isSigned != (v->elemType == T_I8))
    return qoFail(imp, "zero point type (%s) does not match the %s tensor '%s'",
                  p->isSigned ? "int8" : "uint8", qoTypeName(v->elemType), v->name);
  if (v->rank != 4)
    layout = QO_ONNX;
  int from = layoutOf(v);
  int ax = qoPhysAxis(from, v->rank, p->axis);
  if (v->qp && sameParams(v->qp, p)) {
    if (v->deq[from] < 0)
      v->deq[from] = dcast(imp, v->ssa[from]);
    if (v->deq[layout] < 0)
      v->deq[layout] = relayout(imp, v->deq[from], from, layout, v->rank);
    return v->deq[layout];
  }
  int bits = v->qp ? scastToInt(imp, v->ssa[from]) : v->ssa[from];
  return relayout(imp, dcast(imp, scastFromInt(imp, bits, p, ax)), from, layout,
                  v->rank);
}

/* Defines output `idx` as an integer run-time value. */
static qoValue *intOutput(qoImporter *imp, const Onnx__NodeProto *n, size_t idx,
                          int type, int rank, const int64_t *dims) {
  if (idx >= n->n_output || !n->output[idx][0]) {
    qoFail(imp, "missing output #%zu", idx);
    return NULL;
  }
  return qoDefine(imp, n->output[idx], type, rank, dims);
}

/* A temporary float value (not in the table) holding SSA `ssa` in `layout`. */
static void tempRuntime(qoValue *t, const qoValue *like, int ssa, int layout) {
  memset(t, 0, sizeof *t);
  t->name = like->name;
  t->elemType = T_F32;
  t->rank = like->rank;
  memcpy(t->dims, like->dims, sizeof t->dims);
  t->ssa[0] = t->ssa[1] = t->deq[0] = t->deq[1] = -1;
  t->ssa[like->rank == 4 ? layout : QO_ONNX] = ssa;
}

/* (q - zp) * s in f32 per element of the integer constant `v` (the ONNX
 * DequantizeLinear formula); malloc'd. */
static float *dequantConst(qoImporter *imp, const qoValue *v, const qoQParams *p) {
  int64_t n = qoNumElements(v->rank, v->dims), inner = 1;
  for (int d = p->axis + 1; p->n > 1 && d < v->rank; ++d)
    inner *= v->dims[d];
  float *f = malloc((size_t)(n ? n : 1) * sizeof *f);
  if (!f) {
    qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
    return NULL;
  }
  for (int64_t k = 0; k < n; ++k) {
    int64_t c = p->n > 1 ? (k / inner) % p->n : 0;
    f[k] = (float)(v->i[k] - p->zp[c]) * p->scale[c];
  }
  return f;
}

/* A float constant value (temporary or table entry `out`) with weight
 * quantization `p` from the integer constant `v`. */
static int fillWeight(qoImporter *imp, qoValue *out, const qoValue *v,
                      const qoQParams *p) {
  if (p->isSigned != (v->elemType == T_I8))
    return qoFail(imp, "zero point type (%s) does not match the %s tensor '%s'",
                  p->isSigned ? "int8" : "uint8", qoTypeName(v->elemType), v->name);
  out->isConst = 1;
  out->f = dequantConst(imp, v, p);
  out->wq = out->f ? copyParams(imp, p) : NULL;
  return out->wq ? 0 : -1;
}

/* ---- QuantizeLinear / DequantizeLinear ----------------------------------- */

static int checkNoBlocks(qoImporter *imp, const Onnx__NodeProto *n) {
  if (qoAttrInt(n, "block_size", 0) != 0)
    return qoUnsupported(imp, "unsupported: blocked quantization (block_size)");
  return 0;
}

int qoImportQuantizeLinear(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x || checkNoBlocks(imp, n) < 0)
    return -1;
  if (!qoIsFloatType(x->elemType))
    return qoUnsupported(imp, "unsupported: QuantizeLinear of a %s tensor",
                  qoTypeName(x->elemType));
  qoValue *s = qoInput(imp, n, 1);
  if (!s)
    return -1;
  int axis = 0; /* per-tensor: the axis attribute does not matter */
  if (qoNumElements(s->rank, s->dims) != 1 &&
      (axis = qoAxis(imp, qoAttrInt(n, "axis", 1), x->rank, "axis")) < 0)
    return -1;
  qoQParams p;
  int rc = readParams(imp, n, 1, 2, axis, x->rank, x->dims, 0, &p);
  int type = p.isSigned ? T_I8 : T_U8;
  if (rc == 0 && x->isConst) {
    /* Import-time constant (float weights of a QAT export): quantize here,
     * with the generated code's f32 arithmetic. */
    qoValue *out = intOutput(imp, n, 0, type, x->rank, x->dims);
    int64_t cnt = qoNumElements(x->rank, x->dims), inner = 1;
    for (int d = p.axis + 1; p.n > 1 && d < x->rank; ++d)
      inner *= x->dims[d];
    if (out) {
      out->isConst = 1;
      out->i = malloc((size_t)(cnt ? cnt : 1) * sizeof *out->i);
    }
    if (!out || !out->i) {
      rc = out ? qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory") : -1;
    } else {
      float lo = p.isSigned ? -128.0f : 0.0f, hi = p.isSigned ? 127.0f : 255.0f;
      for (int64_t k = 0; k < cnt; ++k) {
        int64_t c = p.n > 1 ? (k / inner) % p.n : 0;
        float q = nearbyintf(x->f[k] / p.scale[c]) + (float)p.zp[c];
        q = q != q ? 0.0f : fminf(fmaxf(q, lo), hi);
        out->i[k] = (int64_t)q;
      }
    }
  } else if (rc == 0) {
    int layout = qoNatural(x);
    int q = qcast(imp, qoUse(imp, x, layout), &p,
                  qoPhysAxis(layout, x->rank, p.axis), 0, 1);
    qoValue *out = q < 0 ? NULL : intOutput(imp, n, 0, type, x->rank, x->dims);
    if (out) {
      out->ssa[x->rank == 4 ? layout : QO_ONNX] = q;
      out->qp = copyParams(imp, &p);
    }
    rc = out && out->qp ? 0 : -1;
  }
  freeParams(&p);
  return rc;
}

int qoImportDequantizeLinear(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x || checkNoBlocks(imp, n) < 0)
    return -1;
  if (!isQuantInt(x->elemType) && x->elemType != T_I32)
    return qoUnsupported(imp, "unsupported: DequantizeLinear of a %s tensor",
                  qoTypeName(x->elemType));
  qoValue *s = qoInput(imp, n, 1);
  if (!s)
    return -1;
  int axis = 0;
  if (qoNumElements(s->rank, s->dims) != 1 &&
      (axis = qoAxis(imp, qoAttrInt(n, "axis", 1), x->rank, "axis")) < 0)
    return -1;
  qoQParams p;
  /* An int32 tensor's zero point is int32 (read below). */
  int rc = readParams(imp, n, 1, x->elemType == T_I32 ? n->n_input + 1 : 2, axis,
                      x->rank, x->dims, x->elemType != T_U8, &p);
  if (rc == 0 && x->elemType == T_I32) {
    /* int32 (a bias): a plain float constant; its zero point must be 0. */
    qoValue *z = qoOptInput(imp, n, 2);
    qoValue *out = NULL;
    if (!x->isConst)
      rc = qoUnsupported(imp, "unsupported: DequantizeLinear of a run-time int32 tensor");
    else if (z && z->elemType != T_I32)
      rc = qoFail(imp, "int32 DequantizeLinear needs an int32 zero point");
    else if (n->n_output < 1 || !n->output[0][0])
      rc = qoFail(imp, "missing output #0");
    else if (!(out = qoDefine(imp, n->output[0], T_F32, x->rank, x->dims)))
      rc = -1;
    if (rc == 0) {
      for (int k = 0; k < p.n; ++k)
        p.zp[k] = z && z->i ? z->i[k] : 0;
      out->isConst = 1;
      out->f = dequantConst(imp, x, &p);
      rc = out->f ? 0 : -1;
    }
  } else if (rc == 0 && x->isConst) {
    qoValue *out = n->n_output > 0 && n->output[0][0]
                       ? qoDefine(imp, n->output[0], T_F32, x->rank, x->dims)
                       : NULL;
    rc = out ? fillWeight(imp, out, x, &p) : qoFail(imp, "missing output #0");
  } else if (rc == 0) {
    int layout = layoutOf(x);
    int d = dequantize(imp, x, &p, layout);
    qoValue *out = d < 0 ? NULL : qoOutput(imp, n, 0, x->rank, x->dims);
    if (out)
      out->ssa[x->rank == 4 ? layout : QO_ONNX] = d;
    rc = out ? 0 : -1;
  }
  freeParams(&p);
  return rc;
}

int qoUseIntOutput(qoImporter *imp, qoValue *v) {
  int from = layoutOf(v);
  int x = v->ssa[from];
  if (x < 0)
    return qoFail(imp, "internal: value '%s' has no SSA value", v->name);
  if (v->qp)
    x = scastToInt(imp, x);
  x = relayout(imp, x, from, QO_ONNX, v->rank);
  if (v->elemType == T_U8)
    x = sameShape(imp, "tensor.bitcast", x, qoElem(imp, "ui8"));
  return x;
}

/* ---- QLinearConv / QLinearMatMul ----------------------------------------- */

/* Float operand from input `idx` of `n` quantized with `p`: dequantized
 * run-time value (SSA in `layout`) or a weight constant with wq = `p`.
 * Fills `t` (free t->f and t->wq with clearTemp). */
static int floatOperand(qoImporter *imp, const Onnx__NodeProto *n, size_t idx,
                        const qoQParams *p, int layout, qoValue *t) {
  qoValue *v = qoInput(imp, n, idx);
  memset(t, 0, sizeof *t);
  t->ssa[0] = t->ssa[1] = t->deq[0] = t->deq[1] = -1;
  if (!v)
    return -1;
  if (!isQuantInt(v->elemType))
    return qoFail(imp, "input '%s' must be int8 or uint8, not %s", v->name,
                  qoTypeName(v->elemType));
  if (v->isConst) {
    t->name = v->name;
    t->elemType = T_F32;
    t->rank = v->rank;
    memcpy(t->dims, v->dims, sizeof t->dims);
    return fillWeight(imp, t, v, p);
  }
  int d = dequantize(imp, v, p, layout);
  if (d < 0)
    return -1;
  tempRuntime(t, v, d, layout);
  return 0;
}

static void clearTemp(qoValue *t) {
  free(t->f);
  qoQParamsFree(t->wq);
  t->f = NULL;
  t->wq = NULL;
}

/* Output of a QLinear op: qcast of the float result `y` (in `layout`) with
 * the params of inputs (si, zi). */
static int quantizedOutput(qoImporter *imp, const Onnx__NodeProto *n, size_t si,
                           size_t zi, int y, int layout, int rank,
                           const int64_t *dims) {
  qoQParams p;
  int rc = readParams(imp, n, si, zi, -1, rank, dims, 0, &p);
  if (rc == 0 && y >= 0) {
    int q = qcast(imp, y, &p, 0, 0, 1);
    qoValue *out = q < 0 ? NULL
                         : intOutput(imp, n, 0, p.isSigned ? T_I8 : T_U8, rank, dims);
    if (out) {
      out->ssa[rank == 4 ? layout : QO_ONNX] = q;
      out->qp = copyParams(imp, &p);
    }
    rc = out && out->qp ? 0 : -1;
  }
  freeParams(&p);
  return y < 0 ? -1 : rc;
}

int qoImportQLinearConv(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0), *w = qoInput(imp, n, 3);
  qoValue *bias = qoOptInput(imp, n, 8);
  if (!x || !w || imp->error)
    return -1;
  if (x->rank != 4 || w->rank != 4)
    return qoUnsupported(imp, "unsupported: QLinearConv with %d spatial dims (only 2-D)",
                  x->rank - 2);
  qoQParams xp, wp;
  qoValue xf, wf, bf;
  memset(&xf, 0, sizeof xf);
  memset(&wf, 0, sizeof wf);
  memset(&bf, 0, sizeof bf);
  memset(&wp, 0, sizeof wp);
  int rc = readParams(imp, n, 1, 2, -1, x->rank, x->dims, 0, &xp);
  if (rc == 0)
    rc = readParams(imp, n, 4, 5, 0, w->rank, w->dims, 0, &wp);
  if (rc == 0)
    rc = floatOperand(imp, n, 0, &xp, QO_NHWC, &xf);
  if (rc == 0)
    rc = floatOperand(imp, n, 3, &wp, QO_ONNX, &wf);
  if (rc == 0 && bias) {
    int64_t O = w->dims[0];
    if (!bias->isConst || bias->elemType != T_I32 || bias->rank != 1 ||
        bias->dims[0] != O)
      rc = qoUnsupported(imp, "unsupported: QLinearConv bias must be an int32 "
                       "initializer of %lld elements", (long long)O);
    if (rc == 0) {
      bf.name = bias->name;
      bf.elemType = T_F32;
      bf.rank = 1;
      bf.dims[0] = O;
      bf.isConst = 1;
      bf.ssa[0] = bf.ssa[1] = bf.deq[0] = bf.deq[1] = -1;
      bf.f = malloc((size_t)O * sizeof *bf.f);
      if (!bf.f)
        rc = qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
      for (int64_t c = 0; rc == 0 && c < O; ++c)
        bf.f[c] = (float)((double)bias->i[c] * (double)xp.scale[0] *
                          (double)wp.scale[wp.n > 1 ? c : 0]);
    }
  }
  int64_t dims[4];
  int y = rc == 0 ? qoConvCore(imp, n, &xf, &wf, bias ? &bf : NULL, dims) : -1;
  if (y >= 0)
    rc = quantizedOutput(imp, n, 6, 7, y, QO_NHWC, 4, dims);
  else
    rc = -1;
  clearTemp(&xf);
  clearTemp(&wf);
  free(bf.f);
  freeParams(&xp);
  freeParams(&wp);
  return rc;
}

int qoImportQLinearMatMul(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *a = qoInput(imp, n, 0), *b = qoInput(imp, n, 3);
  if (!a || !b || imp->error)
    return -1;
  qoQParams ap, bp;
  qoValue af, bf;
  memset(&af, 0, sizeof af);
  memset(&bf, 0, sizeof bf);
  memset(&bp, 0, sizeof bp);
  /* b may be per-column (its last axis). */
  int rc = readParams(imp, n, 1, 2, -1, a->rank, a->dims, 0, &ap);
  if (rc == 0)
    rc = readParams(imp, n, 4, 5, b->rank >= 2 ? b->rank - 1 : -1, b->rank,
                    b->dims, 0, &bp);
  if (rc == 0)
    rc = floatOperand(imp, n, 0, &ap, QO_ONNX, &af);
  if (rc == 0)
    rc = floatOperand(imp, n, 3, &bp, QO_ONNX, &bf);
  int ro = 0;
  int64_t od[QO_MAX_RANK];
  int y = rc == 0 ? qoMatMulCore(imp, &af, &bf, &ro, od) : -1;
  rc = y >= 0 ? quantizedOutput(imp, n, 6, 7, y, QO_ONNX, ro, od) : -1;
  clearTemp(&af);
  clearTemp(&bf);
  freeParams(&ap);
  freeParams(&bp);
  return rc;
}

/* ---- ConvInteger / MatMulInteger ----------------------------------------- */

/* The zero point of input `idx` (absent: 0) shifted into the int8 domain of
 * a tensor of type `type`: uint8 values and zero points both lose 128, which
 * leaves every (x - zp) unchanged. Per-channel zero points must all be
 * equal (TOSA takes one). */
static int intZeroPoint(qoImporter *imp, const Onnx__NodeProto *n, size_t idx,
                        int type, int64_t *zp) {
  qoValue *z = qoOptInput(imp, n, idx);
  *zp = 0;
  if (imp->error)
    return -1;
  if (z) {
    if (!z->isConst)
      return qoUnsupported(imp, "unsupported: run-time quantization parameters ('%s')",
                    z->name);
    if (!isQuantInt(z->elemType) || z->elemType != type)
      return qoFail(imp, "zero point '%s' (%s) does not match its %s tensor",
                    z->name, qoTypeName(z->elemType), qoTypeName(type));
    int64_t cnt = qoNumElements(z->rank, z->dims);
    for (int64_t k = 1; k < cnt; ++k)
      if (z->i[k] != z->i[0])
        return qoUnsupported(imp, "unsupported: per-channel zero points ('%s')", z->name);
    if (cnt > 0)
      *zp = z->i[0];
  }
  if (type == T_U8)
    *zp -= 128;
  return 0;
}

static int zpConst(qoImporter *imp, int64_t zp) {
  int64_t one = 1;
  return qoEmitConstInt(imp, "i8", 1, &one, &zp);
}

/* i8 SSA of int8/uint8 input `v` in `layout` (uint8 shifted by -128: the
 * top bit flipped); constants are laid out by `relay` on the host when
 * given (OIHW -> OHWI), else used in ONNX order. */
static int intOperand(qoImporter *imp, qoValue *v, int layout, int ohwi) {
  if (!isQuantInt(v->elemType))
    return qoFail(imp, "input '%s' must be int8 or uint8, not %s", v->name,
                  qoTypeName(v->elemType));
  int64_t shift = v->elemType == T_U8 ? 128 : 0;
  if (v->isConst) {
    int64_t cnt = qoNumElements(v->rank, v->dims);
    int64_t *d = malloc((size_t)(cnt ? cnt : 1) * sizeof *d);
    if (!d)
      return qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
    int64_t dims[QO_MAX_RANK];
    memcpy(dims, v->dims, sizeof dims);
    if (ohwi) {
      int64_t O = v->dims[0], I = v->dims[1], H = v->dims[2], W = v->dims[3], p = 0;
      for (int64_t o = 0; o < O; ++o)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t x = 0; x < W; ++x)
            for (int64_t i = 0; i < I; ++i)
              d[p++] = v->i[((o * I + i) * H + h) * W + x] - shift;
      int64_t od[4] = {O, H, W, I};
      memcpy(dims, od, sizeof od);
    } else {
      for (int64_t k = 0; k < cnt; ++k)
        d[k] = v->i[k] - shift;
    }
    int id = qoEmitConstInt(imp, "i8", v->rank, dims, d);
    free(d);
    return id;
  }
  int x = intBits(imp, v, ohwi ? QO_ONNX : layout);
  if (shift && x >= 0) {
    int64_t ones[QO_MAX_RANK];
    int rank = qoType(imp, x)->rank;
    for (int k = 0; k < rank; ++k)
      ones[k] = 1;
    int64_t m128 = -128;
    int ins[2] = {x, qoEmitConstInt(imp, "i8", rank, ones, &m128)};
    int64_t dims[QO_MAX_RANK];
    memcpy(dims, qoType(imp, x)->dims, sizeof dims);
    x = qoEmitT(imp, "tosa.bitwise_xor", 2, ins, NULL, 1, qoElem(imp, "i8"), rank,
                dims);
  }
  if (ohwi)
    x = qoEmitTranspose(imp, x, kToNhwc);
  return x;
}

int qoImportConvInteger(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0), *w = qoInput(imp, n, 1);
  if (!x || !w || imp->error)
    return -1;
  if (x->rank != 4 || w->rank != 4)
    return qoUnsupported(imp, "unsupported: ConvInteger with %d spatial dims (only 2-D)",
                  x->rank - 2);
  if (qoAttrInt(n, "group", 1) != 1)
    return qoUnsupported(imp, "unsupported: grouped ConvInteger");
  int64_t N = x->dims[0], C = x->dims[1], O = w->dims[0];
  if (w->dims[1] != C)
    return qoFail(imp, "weights [%lld,%lld,..] do not match %lld input channels",
                  (long long)O, (long long)w->dims[1], (long long)C);
  int64_t xzp, wzp;
  if (intZeroPoint(imp, n, 2, x->elemType, &xzp) < 0 ||
      intZeroPoint(imp, n, 3, w->elemType, &wzp) < 0)
    return -1;
  qoWindow win;
  memset(&win, 0, sizeof win);
  size_t nk, ns, nd;
  const int64_t *k = qoAttrInts(n, "kernel_shape", &nk);
  const int64_t *s = qoAttrInts(n, "strides", &ns);
  const int64_t *d = qoAttrInts(n, "dilations", &nd);
  if ((k && nk != 2) || (s && ns != 2) || (d && nd != 2))
    return qoFail(imp, "kernel_shape/strides/dilations must have 2 entries");
  for (int i = 0; i < 2; ++i) {
    win.kernel[i] = w->dims[2 + i];
    if (k && k[i] != win.kernel[i])
      return qoFail(imp, "kernel_shape does not match the weights");
    win.stride[i] = s ? s[i] : 1;
    win.dilation[i] = d ? d[i] : 1;
  }
  if (qoWindowGeometry(imp, n, x->dims + 2, 0, &win) < 0)
    return -1;
  int xin = qoCropNhwc(imp, intOperand(imp, x, QO_NHWC, 0), &win);
  int wid = intOperand(imp, w, QO_ONNX, 1);
  int bid = qoEmitSplatInt(imp, "i32", 1, &O, 0);
  int ins[5] = {xin, wid, bid, zpConst(imp, xzp), zpConst(imp, wzp)};
  char props[256];
  qoWindowProps(&win, 1, props, sizeof props);
  char *acc = strstr(props, "acc_type = f32");
  if (acc)
    memcpy(acc + 11, "i32", 3);
  int64_t od[4] = {N, win.out[0], win.out[1], O};
  int id = qoEmitT(imp, "tosa.conv2d", 5, ins, props, 1, qoElem(imp, "i32"), 4, od);
  int64_t dims[4] = {N, O, win.out[0], win.out[1]};
  qoValue *out = id < 0 ? NULL : intOutput(imp, n, 0, T_I32, 4, dims);
  if (!out)
    return -1;
  out->ssa[QO_NHWC] = id;
  return 0;
}

int qoImportMatMulInteger(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *A = qoInput(imp, n, 0), *B = qoInput(imp, n, 1);
  if (!A || !B || imp->error)
    return -1;
  int64_t azp, bzp;
  if (intZeroPoint(imp, n, 2, A->elemType, &azp) < 0 ||
      intZeroPoint(imp, n, 3, B->elemType, &bzp) < 0)
    return -1;
  int a = intOperand(imp, A, QO_ONNX, 0), b = intOperand(imp, B, QO_ONNX, 0);
  int za = zpConst(imp, azp), zb = zpConst(imp, bzp);
  if (a < 0 || b < 0 || za < 0 || zb < 0)
    return -1;
  int ro = 0;
  int64_t od[QO_MAX_RANK];
  int y = qoMatMulIntCore(imp, A, B, a, b, za, zb, &ro, od);
  qoValue *out = y < 0 ? NULL : intOutput(imp, n, 0, T_I32, ro, od);
  if (!out)
    return -1;
  out->ssa[QO_ONNX] = y;
  return 0;
}

/* ---- DynamicQuantizeLinear ------------------------------------------------ */

/* y_scale = (max(0, max x) - min(0, min x)) / 255
 * y_zero_point = saturate(round_half_even(0 - min(0, min x) / y_scale))
 * y = saturate(round_half_even(x / y_scale) + y_zero_point)      (uint8) */
int qoImportDynamicQuantizeLinear(qoImporter *imp, const Onnx__NodeProto *n) {
  qoValue *x = qoInput(imp, n, 0);
  if (!x)
    return -1;
  if (!qoIsFloatType(x->elemType) || x->isConst)
    return qoUnsupported(imp, "unsupported: DynamicQuantizeLinear of a constant or "
                       "non-float tensor");
  int64_t cnt = qoNumElements(x->rank, x->dims);
  int64_t flat[2] = {1, cnt}, one2[2] = {1, 1};
  int xf = qoEmitReshape(imp, qoUse(imp, x, QO_ONNX), 2, flat);
  int i8 = qoElem(imp, "i8");
  if (xf < 0 || i8 < 0)
    return -1;
  int mx = qoEmit(imp, "tosa.reduce_max", 1, &xf, "axis = 1 : i32", 2, one2);
  int mn = qoEmit(imp, "tosa.reduce_min", 1, &xf, "axis = 1 : i32", 2, one2);
  int zero = qoEmitSplatF32(imp, 2, one2, 0.0f);
  mx = qoEmitBinary(imp, "tosa.maximum", mx, zero);
  mn = qoEmitBinary(imp, "tosa.minimum", mn, zero);
  int scale = qoEmitBinary(imp, "arith.divf", qoEmitBinary(imp, "tosa.sub", mx, mn),
                           qoEmitSplatF32(imp, 2, one2, 255.0f));
  int zp = qoEmitBinary(imp, "tosa.sub", zero, qoEmitBinary(imp, "arith.divf", mn, scale));
  zp = qoEmitUnary(imp, "math.roundeven", qoEmitClamp(imp, zp, 0.0f, 255.0f));
  int mult[1];
  int64_t m[2] = {1, cnt};
  mult[0] = qoEmitConstShape(imp, 2, m);
  int tins[2] = {scale, mult[0]};
  int scaleN = qoEmit(imp, "tosa.tile", 2, tins, NULL, 2, flat);
  int y = qoEmitUnary(imp, "math.roundeven", qoEmitBinary(imp, "arith.divf", xf, scaleN));
  y = qoEmitClamp(imp, qoEmitBinary(imp, "tosa.add", y, zp), 0.0f, 255.0f);
  y = qoEmitReshape(imp, sameShape(imp, "arith.fptoui", y, i8), x->rank, x->dims);
  int64_t none[1] = {0};
  int ys = qoEmitReshape(imp, scale, 0, none);
  int yz = qoEmitReshape(imp, sameShape(imp, "arith.fptoui", zp, i8), 0, none);
  if (y < 0 || ys < 0 || yz < 0)
    return -1;
  qoValue *o0 = intOutput(imp, n, 0, T_U8, x->rank, x->dims);
  if (!o0)
    return -1;
  o0->ssa[QO_ONNX] = y;
  if (n->n_output > 1 && n->output[1][0]) {
    qoValue *o1 = qoDefine(imp, n->output[1], T_F32, 0, NULL);
    if (!o1)
      return -1;
    o1->ssa[QO_ONNX] = ys;
  }
  if (n->n_output > 2 && n->output[2][0]) {
    qoValue *o2 = intOutput(imp, n, 2, T_U8, 0, NULL);
    if (!o2)
      return -1;
    o2->ssa[QO_ONNX] = yz;
  }
  return 0;
}
