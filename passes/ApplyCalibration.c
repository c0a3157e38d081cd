/* quant-apply-calibration: scales and zero points from a calibration table.
 *
 * Reads the table (docs/calibration-table.md) and, for every activation
 * quantization point (quant.qcast with qo.id and qo.uncalibrated), picks the
 * range of the chosen method, turns it into (scale, zero point) for the
 * point's scheme (storage type and range of its placeholder type, plus
 * qo.symmetric / qo.pow2), and writes the real quantized type:
 *   quant.qcast %x {qo.id = 3, qo.uncalibrated} : ... to !quant.uniform<u8:f32, 1.0>
 * becomes
 *   quant.qcast %x {qo.id = 3} : ... to !quant.uniform<u8:f32, 0.0123:0>
 * Then:
 *  - fixed ranges: the output of tosa.sigmoid is [0, 1], of tosa.tanh [-1, 1];
 *  - concat: the inputs and the output of a tosa.concat share one range (the
 *    union), so concatenation needs no requantization;
 *  - scale-preserving ops (max_pool2d, reshape, transpose, pad, slice): a point
 *    fed through them by another point takes that point's exact parameters;
 *  - softmax (exp * reciprocal(sum), as imported) has the fixed range [0, 1];
 *  - int32 bias guard: a conv's bias is stored as int32 with scale
 *    s_in * s_w[c]; where |bias[c]| / (s_in * s_w[c]) would not fit, the
 *    weight scale of that channel is widened until it does.
 * Every decision is reported as a remark (quant-opt --remarks). */
#include "passes/PassDef.h"
#include "passes/ApplyCalibration.h"
#include "passes/QuantUtils.h"
#include "quant-opt/qrt_calib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_TABLE, OPT_METHOD, NUM_OPTS };
static const qoPassOptionDef kOptions[NUM_OPTS] = {
    {"table", "", "calibration table (JSON) to read (required)"},
    {"method", "moving_avg", "minmax | moving_avg | percentile | kl | mse | mean_std"},
};

static int validate(const char *const *values, char **error) {
  if (qrt_calib_method_from_name(values[OPT_METHOD]) < 0) {
    *error = malloc(256);
    if (*error)
      snprintf(*error, 256, "quant-apply-calibration: unknown method '%s' (want minmax, "
                            "moving_avg, percentile, kl, mse or mean_std)", values[OPT_METHOD]);
    return -1;
  }
  return 0;
}

typedef struct Point {
  MlirOperation q;
  int64_t id;
  float lo, hi;
  int fixed; /* range fixed by the producing op */
} Point;

static int isPreserving(MlirOperation op) {
  return qoOpIs(op, "tosa.max_pool2d") || qoOpIs(op, "tosa.reshape") ||
         qoOpIs(op, "tosa.transpose") || qoOpIs(op, "tosa.pad") || qoOpIs(op, "tosa.slice");
}

/* The point whose dcast feeds `v` through scale-preserving ops, or -1. */
static int sourcePoint(MlirValue v, Point *pts, size_t n, MlirOperation *via) {
  via->ptr = NULL;
  for (int depth = 0; depth < 16; ++depth) {
    MlirOperation d = qoDefiningOp(v);
    if (mlirOperationIsNull(d)) return -1;
    if (qoOpIs(d, "quant.dcast")) {
      MlirOperation q = qoDefiningOp(mlirOperationGetOperand(d, 0));
      for (size_t i = 0; i < n; ++i)
        if (pts[i].q.ptr == q.ptr) return (int)i;
      return -1;
    }
    if (!isPreserving(d)) return -1;
    if (!via->ptr) *via = d;
    v = mlirOperationGetOperand(d, 0);
  }
  return -1;
}

static int pointOf(MlirValue dcastResult, Point *pts, size_t n) {
  MlirOperation d = qoDefiningOp(dcastResult);
  if (!qoOpIs(d, "quant.dcast")) return -1;
  MlirOperation q = qoDefiningOp(mlirOperationGetOperand(d, 0));
  for (size_t i = 0; i < n; ++i)
    if (pts[i].q.ptr == q.ptr) return (int)i;
  return -1;
}

static void nameOf(MlirOperation q, char *buf, size_t n) {
  MlirAttribute a = mlirOperationGetAttributeByName(q, qoStr("qo.name"));
  buf[0] = 0;
  if (!mlirAttributeIsNull(a) && mlirAttributeIsAString(a)) {
    MlirStringRef s = mlirStringAttrGetValue(a);
    snprintf(buf, n, "%.*s", (int)s.length, s.data);
  }
}

static void setType(MlirOperation q, MlirType elem) {
  MlirValue r = mlirOperationGetResult(q, 0);
  mlirValueSetType(r, qoTensorWithElement(mlirValueGetType(r), elem));
  mlirOperationRemoveAttributeByName(q, qoStr("qo.uncalibrated"));
}

/* The calibrated per-tensor quantized element type feeding `v` (a dcast of
 * a qcast), or a null type. */
static MlirType dcastElementType(MlirValue v, MlirOperation *qcast) {
  MlirOperation d = qoDefiningOp(v);
  if (!qoOpIs(d, "quant.dcast")) return (MlirType){NULL};
  MlirOperation q = qoDefiningOp(mlirOperationGetOperand(d, 0));
  if (!qoOpIs(q, "quant.qcast")) return (MlirType){NULL};
  if (qcast) *qcast = q;
  return mlirShapedTypeGetElementType(mlirValueGetType(mlirOperationGetResult(q, 0)));
}

/* Widens per-channel weight scales where the int32 bias would overflow. */
static void guardBias(MlirOperation root) {
  static const char *const kOps[] = {"tosa.conv2d", "tosa.depthwise_conv2d"};
  const double kMax = 2147483647.0;
  MlirContext ctx = mlirOperationGetContext(root);
  for (int k = 0; k < 2; ++k) {
    qoOpList convs = {0};
    qoCollectOps(root, kOps[k], &convs);
    for (size_t i = 0; i < convs.size; ++i) {
      MlirOperation conv = convs.ops[i];
      MlirType it = dcastElementType(mlirOperationGetOperand(conv, 0), NULL);
      MlirOperation wq = {NULL};
      MlirType wt = dcastElementType(mlirOperationGetOperand(conv, 1), &wq);
      if (!it.ptr || !wt.ptr || !mlirTypeIsAUniformQuantizedType(it)) continue;
      int64_t nb;
      double *bias = qoGetConstDoubles(mlirOperationGetOperand(conv, 2), &nb);
      if (!bias) continue;
      double sIn = mlirUniformQuantizedTypeGetScale(it);
      int perAxis = mlirTypeIsAUniformQuantizedPerAxisType(wt);
      intptr_t nc = perAxis ? mlirUniformQuantizedPerAxisTypeGetNumDims(wt) : 1;
      double *sw = malloc((size_t)nc * sizeof *sw);
      int64_t *zp = calloc((size_t)nc, sizeof *zp);
      int changed = 0;
      for (intptr_t c = 0; sw && zp && c < nc; ++c) {
        sw[c] = perAxis ? mlirUniformQuantizedPerAxisTypeGetScale(wt, c) : mlirUniformQuantizedTypeGetScale(wt);
        for (int64_t b = 0; b < nb; ++b) {
          if (perAxis && nb == nc && b != c) continue;
          double need = fabs(bias[b]) / (sIn * kMax);
          if (need > sw[c]) {
            char msg[400];
            snprintf(msg, sizeof msg, "int32 bias guard: channel %lld weight scale widened from %g to %g "
                     "so that bias %g fits at scale input x weight", (long long)c, sw[c], need * 1.0001, bias[b]);
            qoEmitRemark(mlirOperationGetLocation(conv), msg);
            sw[c] = need * 1.0001;
            changed = 1;
          }
        }
      }
      if (changed) {
        MlirType nt = perAxis
            ? mlirUniformQuantizedPerAxisTypeGet(mlirQuantizedTypeGetFlags(wt), mlirIntegerTypeGet(ctx, 8),
                                                 mlirF32TypeGet(ctx), nc, sw, zp,
                                                 (int32_t)mlirUniformQuantizedPerAxisTypeGetQuantizedDimension(wt),
                                                 mlirQuantizedTypeGetStorageTypeMin(wt),
                                                 mlirQuantizedTypeGetStorageTypeMax(wt))
            : mlirUniformQuantizedTypeGet(mlirQuantizedTypeGetFlags(wt), mlirIntegerTypeGet(ctx, 8),
                                          mlirF32TypeGet(ctx), sw[0], 0,
                                          mlirQuantizedTypeGetStorageTypeMin(wt),
                                          mlirQuantizedTypeGetStorageTypeMax(wt));
        MlirValue r = mlirOperationGetResult(wq, 0);
        mlirValueSetType(r, qoTensorWithElement(mlirValueGetType(r), nt));
      }
      free(sw), free(zp), free(bias);
    }
    qoOpListFree(&convs);
  }
}

int qoApplyCalibrationTable(MlirOperation root, const qrt_calib_table_t *table,
                            const char *tableName, qrt_calib_method_t method) {
  char msg[1024];
  MlirContext ctx = mlirOperationGetContext(root);
  qoOpList qs = {0};
  qoCollectOps(root, "quant.qcast", &qs);
  Point *pts = calloc(qs.size ? qs.size : 1, sizeof *pts);
  size_t n = 0;
  int failed = 0;
  /* 1. Each point's own range. */
  for (size_t i = 0; i < qs.size; ++i) {
    MlirOperation q = qs.ops[i];
    if (mlirAttributeIsNull(mlirOperationGetAttributeByName(q, qoStr("qo.uncalibrated"))))
      continue;
    Point *p = &pts[n];
    p->q = q;
    p->id = qoGetIntAttr(q, "qo.id", -1);
    char name[512];
    nameOf(q, name, sizeof name);
    MlirLocation loc = mlirOperationGetLocation(q);
    MlirOperation prod = qoDefiningOp(mlirOperationGetOperand(q, 0));
    int softmax = qoOpIs(prod, "tosa.mul") &&
                  (qoOpIs(qoDefiningOp(mlirOperationGetOperand(prod, 0)), "tosa.reciprocal") ||
                   qoOpIs(qoDefiningOp(mlirOperationGetOperand(prod, 1)), "tosa.reciprocal")) &&
                  (qoOpIs(qoDefiningOp(mlirOperationGetOperand(prod, 0)), "tosa.exp") ||
                   qoOpIs(qoDefiningOp(mlirOperationGetOperand(prod, 1)), "tosa.exp"));
    if (qoOpIs(prod, "tosa.sigmoid") || qoOpIs(prod, "tosa.tanh") || softmax) {
      p->lo = qoOpIs(prod, "tosa.tanh") ? -1.0f : 0.0f;
      p->hi = 1.0f;
      p->fixed = 1;
      snprintf(msg, sizeof msg, "point %lld ('%s'): fixed range [%g, %g] of %s", (long long)p->id,
               name, p->lo, p->hi, qoOpIs(prod, "tosa.tanh") ? "tanh" : softmax ? "softmax" : "sigmoid");
      qoEmitRemark(loc, msg);
      ++n;
      continue;
    }
    const qrt_calib_entry_t *e = qrt_calib_table_find(table, p->id);
    if (!e) {
      snprintf(msg, sizeof msg, "quantization point %lld ('%s') has no entry in calibration table '%s'",
               (long long)p->id, name, tableName);
      mlirEmitError(loc, msg);
      failed = 1;
      continue;
    }
    if (name[0] && e->name && strcmp(e->name, name) != 0) {
      snprintf(msg, sizeof msg, "calibration table entry %lld is named '%s' but the quantization "
               "point is '%s' (a table from another model or pipeline?)", (long long)p->id,
               e->name, name);
      mlirEmitError(loc, msg);
      failed = 1;
      continue;
    }
    if (e->nan_count || e->inf_count) {
      snprintf(msg, sizeof msg, "point %lld ('%s'): %llu NaN and %llu Inf values were seen in "
               "calibration and ignored", (long long)p->id, name,
               (unsigned long long)e->nan_count, (unsigned long long)e->inf_count);
      qoEmitRemark(loc, msg);
    }
    p->lo = e->ranges[method][0];
    p->hi = e->ranges[method][1];
    if (!isfinite(p->lo) || !isfinite(p->hi) || p->lo > p->hi) {
      snprintf(msg, sizeof msg, "quantization point %lld ('%s'): invalid range [%g, %g] in the table",
               (long long)p->id, name, p->lo, p->hi);
      mlirEmitError(loc, msg);
      failed = 1;
      continue;
    }
    ++n;
  }
  /* 2. Concat: one range for the inputs and the output. */
  qoOpList cats = {0};
  qoCollectOps(root, "tosa.concat", &cats);
  for (size_t c = 0; c < cats.size && !failed; ++c) {
    MlirOperation cat = cats.ops[c];
    int members[64], m = 0;
    for (intptr_t k = 0; k < mlirOperationGetNumOperands(cat) && m < 63; ++k) {
      int idx = pointOf(mlirOperationGetOperand(cat, k), pts, n);
      if (idx >= 0) members[m++] = idx;
    }
    MlirOperation user = {NULL};
    MlirOpOperand u = mlirValueGetFirstUse(mlirOperationGetResult(cat, 0));
    if (!mlirOpOperandIsNull(u)) user = mlirOpOperandGetOwner(u);
    for (size_t i = 0; qoOpIs(user, "quant.qcast") && i < n; ++i)
      if (pts[i].q.ptr == user.ptr) members[m++] = (int)i;
    if (m < 2) continue;
    float lo = pts[members[0]].lo, hi = pts[members[0]].hi;
    for (int k = 1; k < m; ++k) {
      lo = fminf(lo, pts[members[k]].lo);
      hi = fmaxf(hi, pts[members[k]].hi);
    }
    for (int k = 0; k < m; ++k) pts[members[k]].lo = lo, pts[members[k]].hi = hi;
    snprintf(msg, sizeof msg, "concat: %d quantization points share the range [%g, %g]", m, lo, hi);
    qoEmitRemark(mlirOperationGetLocation(cat), msg);
  }
  qoOpListFree(&cats);
  /* 3. Parameters, in program order so propagation sees its source done. */
  for (size_t i = 0; i < n && !failed; ++i) {
    Point *p = &pts[i];
    MlirLocation loc = mlirOperationGetLocation(p->q);
    char name[512];
    nameOf(p->q, name, sizeof name);
    MlirOperation via;
    int src = p->fixed ? -1 : sourcePoint(mlirOperationGetOperand(p->q, 0), pts, n, &via);
    if (src >= 0 && src < (int)i) {
      MlirType st = mlirShapedTypeGetElementType(mlirValueGetType(mlirOperationGetResult(pts[src].q, 0)));
      MlirType mine = mlirShapedTypeGetElementType(mlirValueGetType(mlirOperationGetResult(p->q, 0)));
      if (mlirQuantizedTypeGetStorageTypeMin(st) == mlirQuantizedTypeGetStorageTypeMin(mine) &&
          mlirQuantizedTypeGetStorageTypeMax(st) == mlirQuantizedTypeGetStorageTypeMax(mine)) {
        setType(p->q, st);
        MlirStringRef vn = mlirIdentifierStr(mlirOperationGetName(via));
        snprintf(msg, sizeof msg, "point %lld ('%s'): same scale and zero point as point %lld "
                 "through %.*s", (long long)p->id, name, (long long)pts[src].id, (int)vn.length, vn.data);
        qoEmitRemark(loc, msg);
        continue;
      }
    }
    MlirType ph = mlirShapedTypeGetElementType(mlirValueGetType(mlirOperationGetResult(p->q, 0)));
    int isSigned = (mlirQuantizedTypeGetFlags(ph) & mlirQuantizedTypeGetSignedFlag()) != 0;
    int64_t smin = mlirQuantizedTypeGetStorageTypeMin(ph), smax = mlirQuantizedTypeGetStorageTypeMax(ph);
    qrt_qscheme_t s = {0};
    s.dtype = isSigned ? QRT_QINT8 : QRT_QUINT8;
    s.reduce_range = isSigned ? (smax == 63) : (smax == 127);
    s.symmetric = !mlirAttributeIsNull(mlirOperationGetAttributeByName(p->q, qoStr("qo.symmetric")));
    s.pow2_scale = !mlirAttributeIsNull(mlirOperationGetAttributeByName(p->q, qoStr("qo.pow2")));
    qrt_qparams_t qp;
    if (qrt_choose_qparams(p->lo, p->hi, &s, &qp) != QRT_OK) {
      snprintf(msg, sizeof msg, "quantization point %lld ('%s'): cannot choose parameters for [%g, %g]",
               (long long)p->id, name, p->lo, p->hi);
      mlirEmitError(loc, msg);
      failed = 1;
      break;
    }
    MlirType t = mlirUniformQuantizedTypeGet(isSigned ? mlirQuantizedTypeGetSignedFlag() : 0,
                                             mlirIntegerTypeGet(ctx, 8), mlirF32TypeGet(ctx),
                                             qp.scale, qp.zero_point, smin, smax);
    setType(p->q, t);
    snprintf(msg, sizeof msg, "point %lld ('%s'): %s range [%g, %g] -> scale %g, zero point %d",
             (long long)p->id, name, p->fixed ? "fixed" : qrt_calib_method_name(method), p->lo,
             p->hi, qp.scale, qp.zero_point);
    qoEmitRemark(loc, msg);
  }
  if (!failed) guardBias(root);
  free(pts);
  qoOpListFree(&qs);
  return failed ? -1 : 0;
}

static void run(MlirOperation root, MlirExternalPass pass, const char *const *values) {
  MlirLocation rootLoc = mlirOperationGetLocation(root);
  char msg[1024];
  if (!values[OPT_TABLE][0]) {
    mlirEmitError(rootLoc, "quant-apply-calibration needs table=<file>");
    mlirExternalPassSignalFailure(pass);
    return;
  }
  qrt_calib_method_t method = (qrt_calib_method_t)qrt_calib_method_from_name(values[OPT_METHOD]);
  qrt_calib_table_t *table = NULL;
  if (qrt_calib_table_read(values[OPT_TABLE], &table, msg, sizeof msg) != QRT_OK) {
    mlirEmitError(rootLoc, msg);
    mlirExternalPassSignalFailure(pass);
    return;
  }
  int rc = qoApplyCalibrationTable(root, table, values[OPT_TABLE], method);
  qrt_calib_table_destroy(table);
  if (rc) mlirExternalPassSignalFailure(pass);
}

const qoPassDef qoApplyCalibrationPass = {
    .argument = "quant-apply-calibration",
    .anchor = "builtin.module",
    .summary = "Write scales and zero points from a calibration table into the Q-DQ types",
    .options = kOptions,
    .numOptions = NUM_OPTS,
    .validate = validate,
    .run = run,
};
