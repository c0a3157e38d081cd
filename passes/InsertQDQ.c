/* quant-insert-qdq: quantize/dequantize pairs on fusion-group boundaries.
 *
 * Forms the groups int8 backends fuse and quantizes only their boundaries:
 *   conv2d | depthwise_conv2d  [+ add bias] [+ clamp (ReLU/ReLU6) | LeakyReLU]
 *   matmul [+ reshape] [+ add bias] [+ clamp | LeakyReLU]         (Gemm/MatMul)
 *   add of two activations [+ clamp | LeakyReLU]                   (residual)
 *   concat;  max_pool2d;  avg_pool2d
 * Before:
 *   %c = tosa.conv2d %x, %W, %B ...   %r = tosa.clamp %c {min_val = 0.0}
 * After (never a pair between the conv and its activation):
 *   %q = quant.qcast %x {qo.id = 0, qo.name = "...", qo.uncalibrated}
 *   %xd = quant.dcast %q
 *   %Wq = quant.qcast %W : ... to !quant.uniform<i8<-127:127>:f32:0, {s0, ...}>
 *   %c = tosa.conv2d %xd, (quant.dcast %Wq), %B ...
 *   %r = tosa.clamp %c ...
 *   %q1 = quant.qcast %r {qo.id = 1, ...}  %rd = quant.dcast %q1
 * Weights are quantized here, offline (symmetric, narrow range, per output
 * channel or per tensor). Activation points get a placeholder scale; their
 * parameters come from calibration (quant-apply-calibration).
 *
 * Options (also from a JSON config file, see docs/quantization-config.md):
 * activation scheme and dtype, weight granularity, reduce-range, power-of-two
 * scales, include/exclude by op type and by node name, first/last layer float.
 * Note: upstream canonicalize folds dcast(qcast(x)) into x; do not run it
 * between this pass and quant-lower-fake-quant / integer lowering. */
#include "passes/PassDef.h"
#include "passes/QuantUtils.h"
#include "quant-opt/qrt_calib.h"

#include <errno.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  OPT_CONFIG, OPT_ACT_SCHEME, OPT_ACT_DTYPE, OPT_WEIGHT_GRAN, OPT_REDUCE,
  OPT_POW2, OPT_INCLUDE_OPS, OPT_EXCLUDE_OPS, OPT_EXCLUDE_NODES, OPT_KEEP_FIRST,
  OPT_KEEP_LAST, OPT_QUANT_OUTPUTS, NUM_OPTS
};

static const qoPassOptionDef kOptions[NUM_OPTS] = {
    {"config", "", "JSON file with any of these options (explicit options win)"},
    {"activation-scheme", "affine", "affine | symmetric"},
    {"activation-dtype", "uint8", "uint8 | int8"},
    {"weight-granularity", "per-channel", "per-channel | per-tensor"},
    {"reduce-range", "false", "7-bit activations (PyTorch's reduce_range)"},
    {"pow2-scale", "false", "round activation and weight scales up to powers of two"},
    {"include-ops", "", "only these group anchors (conv2d,depthwise_conv2d,matmul,add,concat,max_pool2d,avg_pool2d)"},
    {"exclude-ops", "", "group anchors that stay float"},
    {"exclude-nodes", "", "node names (locations) whose groups stay float"},
    {"keep-first-float", "false", "leave the first conv/matmul in float"},
    {"keep-last-float", "false", "leave the last conv/matmul in float"},
    {"quantize-outputs", "false", "also quantize group outputs that are model outputs (default: they are "
                                  "dequantized from the int32 accumulator, more accurate)"},
};

typedef struct Config {
  int symmetric, uint8, perChannel, reduceRange, pow2, keepFirst, keepLast, quantOutputs;
  char include[1024], exclude[1024], excludeNodes[4096];
} Config;

static int parseBool(const char *v, int *out) {
  if (!strcmp(v, "true") || !strcmp(v, "1")) return *out = 1, 0;
  if (!strcmp(v, "false") || !strcmp(v, "0")) return *out = 0, 0;
  return -1;
}

static char *fmtErr(const char *f, const char *a, const char *b) {
  char *m = malloc(1024);
  if (m) snprintf(m, 1024, f, a, b);
  return m;
}

/* Applies option `i` with value `v`; -1 with *error on a bad value. */
static int setOption(Config *c, int i, const char *v, char **error) {
  int bad = 0;
  switch (i) {
  case OPT_ACT_SCHEME:
    if (!strcmp(v, "affine")) c->symmetric = 0;
    else if (!strcmp(v, "symmetric")) c->symmetric = 1;
    else bad = 1;
    break;
  case OPT_ACT_DTYPE:
    if (!strcmp(v, "uint8")) c->uint8 = 1;
    else if (!strcmp(v, "int8")) c->uint8 = 0;
    else bad = 1;
    break;
  case OPT_WEIGHT_GRAN:
    if (!strcmp(v, "per-channel")) c->perChannel = 1;
    else if (!strcmp(v, "per-tensor")) c->perChannel = 0;
    else bad = 1;
    break;
  case OPT_REDUCE: bad = parseBool(v, &c->reduceRange); break;
  case OPT_POW2: bad = parseBool(v, &c->pow2); break;
  case OPT_KEEP_FIRST: bad = parseBool(v, &c->keepFirst); break;
  case OPT_KEEP_LAST: bad = parseBool(v, &c->keepLast); break;
  case OPT_QUANT_OUTPUTS: bad = parseBool(v, &c->quantOutputs); break;
  case OPT_INCLUDE_OPS: snprintf(c->include, sizeof c->include, "%s", v); break;
  case OPT_EXCLUDE_OPS: snprintf(c->exclude, sizeof c->exclude, "%s", v); break;
  case OPT_EXCLUDE_NODES: snprintf(c->excludeNodes, sizeof c->excludeNodes, "%s", v); break;
  default: break;
  }
  if (bad) *error = fmtErr("quant-insert-qdq: bad value '%s' for option '%s'", v, kOptions[i].name);
  return bad ? -1 : 0;
}

/* Reads the JSON config: an object whose keys are option names; values are
 * strings, booleans, or arrays of strings (joined with ','). */
static int readConfigFile(const char *path, const char *vals[NUM_OPTS],
                          char store[NUM_OPTS][4096], char **error) {
  /* A config is a small regular file: refuse anything else (a device such
   * as /dev/zero would be read forever) before reading it. */
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) {
    *error = fmtErr("quant-insert-qdq: cannot read config '%s': %s", path,
                    stat(path, &st) != 0 ? strerror(errno) : "not a regular file of at most 1 MB");
    return -1;
  }
  json_object *root = json_object_from_file(path);
  if (!root) {
    *error = fmtErr("quant-insert-qdq: cannot read config '%s': %s", path, json_util_get_last_err());
    return -1;
  }
  if (!json_object_is_type(root, json_type_object)) {
    *error = fmtErr("quant-insert-qdq: config '%s' must hold a JSON object%s", path, "");
    json_object_put(root);
    return -1;
  }
  json_object_object_foreach(root, key, val) {
    int idx = -1;
    for (int i = 1; i < NUM_OPTS; ++i)
      if (!strcmp(kOptions[i].name, key)) idx = i;
    if (idx < 0) {
      *error = fmtErr("quant-insert-qdq: config '%s': unknown key '%s'", path, key);
      json_object_put(root);
      return -1;
    }
    char *dst = store[idx];
    dst[0] = 0;
    if (json_object_is_type(val, json_type_array)) {
      size_t n = json_object_array_length(val);
      for (size_t k = 0; k < n; ++k) {
        const char *s = json_object_get_string(json_object_array_get_idx(val, k));
        strncat(dst, k ? "," : "", 4095 - strlen(dst));
        strncat(dst, s ? s : "", 4095 - strlen(dst));
      }
    } else if (json_object_is_type(val, json_type_boolean)) {
      snprintf(dst, 4096, "%s", json_object_get_boolean(val) ? "true" : "false");
    } else if (json_object_is_type(val, json_type_string)) {
      snprintf(dst, 4096, "%s", json_object_get_string(val));
    } else {
      *error = fmtErr("quant-insert-qdq: config '%s': key '%s' must be a string, boolean or array", path, key);
      json_object_put(root);
      return -1;
    }
    vals[idx] = dst;
  }
  json_object_put(root);
  return 0;
}

static int buildConfig(const char *const *values, Config *c, char **error) {
  memset(c, 0, sizeof *c);
  const char *vals[NUM_OPTS];
  static char store[NUM_OPTS][4096]; /* only used during this call */
  for (int i = 0; i < NUM_OPTS; ++i) vals[i] = kOptions[i].defaultValue;
  if (values[OPT_CONFIG][0] && readConfigFile(values[OPT_CONFIG], vals, store, error))
    return -1;
  /* Explicit pass options (those differing from the default) win. */
  for (int i = 1; i < NUM_OPTS; ++i)
    if (strcmp(values[i], kOptions[i].defaultValue) != 0) vals[i] = values[i];
  for (int i = 1; i < NUM_OPTS; ++i)
    if (setOption(c, i, vals[i], error)) return -1;
  return 0;
}

static int validate(const char *const *values, char **error) {
  Config c;
  return buildConfig(values, &c, error);
}

/* 1 if `name` is an element of the comma-separated `list`. */
static int inList(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    while (len && *p == ' ') ++p, --len;
    if (len == n && !memcmp(p, name, n)) return 1;
    if (!e) break;
    p = e + 1;
  }
  return 0;
}

static const char *const kAnchors[] = {"tosa.conv2d", "tosa.depthwise_conv2d", "tosa.matmul",
                                       "tosa.add", "tosa.concat", "tosa.max_pool2d",
                                       "tosa.avg_pool2d"};

static int isCompute(MlirOperation op) {
  return qoOpIs(op, "tosa.conv2d") || qoOpIs(op, "tosa.depthwise_conv2d") ||
         qoOpIs(op, "tosa.matmul");
}

/* The single user of `v`, or null. */
static MlirOperation singleUser(MlirValue v) {
  MlirOpOperand u = mlirValueGetFirstUse(v);
  if (mlirOpOperandIsNull(u) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(u)))
    return (MlirOperation){NULL};
  return mlirOpOperandGetOwner(u);
}

/* Follows the ops that fuse into the group of `anchor`; returns the group's
 * output value. */
static MlirValue groupOutput(MlirOperation anchor) {
  MlirValue cur = mlirOperationGetResult(anchor, 0);
  int fusesActivation = isCompute(anchor) || qoOpIs(anchor, "tosa.add");
  if (!fusesActivation) return cur;
  int isMatmul = qoOpIs(anchor, "tosa.matmul");
  for (int steps = 0; steps < 4; ++steps) {
    MlirOperation u = singleUser(cur);
    if (!mlirOperationIsNull(u)) {
      if (qoOpIs(u, "tosa.clamp")) return mlirOperationGetResult(u, 0);
      if (isMatmul && qoOpIs(u, "tosa.reshape")) {
        cur = mlirOperationGetResult(u, 0);
        continue;
      }
      if (isCompute(anchor) && qoOpIs(u, "tosa.add")) {
        MlirValue other = mlirOperationGetOperand(u, 0);
        if (other.ptr == cur.ptr) other = mlirOperationGetOperand(u, 1);
        if (qoIsConstant(other)) {
          cur = mlirOperationGetResult(u, 0);
          continue;
        }
      }
      return cur;
    }
    /* LeakyReLU as the importer emits it: maximum(x, mul(x, alpha)). */
    MlirOpOperand a = mlirValueGetFirstUse(cur);
    if (mlirOpOperandIsNull(a)) return cur;
    MlirOpOperand b = mlirOpOperandGetNextUse(a);
    if (mlirOpOperandIsNull(b) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(b))) return cur;
    MlirOperation ua = mlirOpOperandGetOwner(a), ub = mlirOpOperandGetOwner(b);
    MlirOperation mul = qoOpIs(ua, "tosa.mul") ? ua : ub;
    MlirOperation mx = qoOpIs(ua, "tosa.mul") ? ub : ua;
    if (!qoOpIs(mul, "tosa.mul") || !(qoOpIs(mx, "tosa.maximum") || qoOpIs(mx, "tosa.minimum")))
      return cur;
    MlirOperation after = singleUser(mlirOperationGetResult(mul, 0));
    if (after.ptr != mx.ptr) return cur;
    return mlirOperationGetResult(mx, 0);
  }
  return cur;
}

/* 1 if every use of `v` is the function's return. */
static int onlyReturned(MlirValue v) {
  MlirOpOperand u = mlirValueGetFirstUse(v);
  if (mlirOpOperandIsNull(u)) return 0;
  for (; !mlirOpOperandIsNull(u); u = mlirOpOperandGetNextUse(u))
    if (!qoOpIs(mlirOpOperandGetOwner(u), "func.return")) return 0;
  return 1;
}

typedef struct Points {
  MlirValue *v;
  size_t n, cap;
} Points;

static void addPoint(Points *p, MlirValue v) {
  if (qoIsConstant(v)) return;
  for (size_t i = 0; i < p->n; ++i)
    if (p->v[i].ptr == v.ptr) return;
  if (p->n == p->cap) {
    size_t nc = p->cap ? 2 * p->cap : 32;
    MlirValue *nv = realloc(p->v, nc * sizeof *nv);
    if (!nv) return;
    p->v = nv;
    p->cap = nc;
  }
  p->v[p->n++] = v;
}

static MlirType activationType(MlirContext ctx, const Config *c) {
  qrt_qscheme_t s = {c->symmetric, c->uint8 ? QRT_QUINT8 : QRT_QINT8, 0, c->reduceRange, c->pow2};
  int32_t qmin, qmax;
  qrt_qscheme_quant_range(&s, &qmin, &qmax);
  int64_t zp = c->symmetric ? (c->uint8 ? (qmin + qmax + 1) / 2 : 0) : 0;
  return mlirUniformQuantizedTypeGet(c->uint8 ? 0 : mlirQuantizedTypeGetSignedFlag(),
                                     mlirIntegerTypeGet(ctx, 8), mlirF32TypeGet(ctx), 1.0,
                                     zp, qmin, qmax);
}

/* Quantizes the constant weight operand `idx` of `op` offline. */
static int quantizeWeight(MlirOperation op, int idx, const Config *c) {
  MlirValue w = mlirOperationGetOperand(op, idx);
  int64_t n;
  double *vals = qoGetConstDoubles(w, &n);
  if (!vals) return 0; /* activation x activation: nothing to do offline */
  MlirContext ctx = mlirOperationGetContext(op);
  MlirType t = mlirValueGetType(w);
  int rank = (int)mlirShapedTypeGetRank(t);
  int64_t dims[8];
  for (int i = 0; i < rank && i < 8; ++i) dims[i] = mlirShapedTypeGetDimSize(t, i);
  int axis = -1;
  if (c->perChannel) {
    if (qoOpIs(op, "tosa.conv2d")) axis = 0;                                  /* OHWI */
    else if (qoOpIs(op, "tosa.depthwise_conv2d") && dims[3] == 1) axis = 2;   /* HWCM, M=1 */
    else if (qoOpIs(op, "tosa.matmul") && rank == 3 && dims[0] == 1) axis = 2; /* [1,K,N] */
    if (axis < 0)
      qoEmitRemark(mlirOperationGetLocation(op),
                   "per-channel weights need a conv, a depthwise conv with multiplier 1 or a "
                   "[1,K,N] matmul weight: per-tensor weights used");
  }
  float *f = malloc((size_t)(n ? n : 1) * sizeof *f);
  if (!f) {
    free(vals);
    return -1;
  }
  for (int64_t i = 0; i < n; ++i) f[i] = (float)vals[i];
  free(vals);
  qrt_qscheme_t s = {1, QRT_QINT8, 1, 0, c->pow2};
  MlirType qt;
  int rc = 0;
  if (axis >= 0) {
    int64_t C = dims[axis];
    float *scales = malloc((size_t)C * sizeof *scales);
    double *sd = malloc((size_t)C * sizeof *sd);
    int64_t *zps = calloc((size_t)C, sizeof *zps);
    if (!scales || !sd || !zps ||
        qrt_per_channel_symmetric_qparams(f, rank, dims, axis, &s, scales, NULL) != QRT_OK) {
      mlirEmitError(mlirOperationGetLocation(op),
                    "cannot quantize the weights (NaN/Inf or a bad shape)");
      rc = -1;
    } else {
      for (int64_t k = 0; k < C; ++k) sd[k] = scales[k];
      qt = mlirUniformQuantizedPerAxisTypeGet(mlirQuantizedTypeGetSignedFlag(),
                                              mlirIntegerTypeGet(ctx, 8), mlirF32TypeGet(ctx),
                                              C, sd, zps, axis, -127, 127);
    }
    free(scales), free(sd), free(zps);
  } else {
    float lo = 0, hi = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (f[i] < lo) lo = f[i];
      if (f[i] > hi) hi = f[i];
    }
    float amax = -lo > hi ? -lo : hi;
    qrt_qparams_t qp;
    if (qrt_choose_qparams(-amax, amax, &s, &qp) != QRT_OK) {
      mlirEmitError(mlirOperationGetLocation(op), "cannot quantize the weights (NaN/Inf)");
      rc = -1;
    } else {
      qt = mlirUniformQuantizedTypeGet(mlirQuantizedTypeGetSignedFlag(), mlirIntegerTypeGet(ctx, 8),
                                       mlirF32TypeGet(ctx), qp.scale, 0, -127, 127);
    }
  }
  free(f);
  if (rc) return rc;
  /* Rewire only this use: a shared constant keeps its other users. */
  MlirOpOperand use = mlirValueGetFirstUse(w);
  while (!mlirOpOperandIsNull(use) && !(mlirOpOperandGetOwner(use).ptr == op.ptr &&
                                        mlirOpOperandGetOperandNumber(use) == (unsigned)idx))
    use = mlirOpOperandGetNextUse(use);
  qoInsertQDQ(w, qt, use);
  return 0;
}

static void run(MlirOperation func, MlirExternalPass pass, const char *const *values) {
  Config c;
  char *err = NULL;
  if (buildConfig(values, &c, &err)) {
    mlirEmitError(mlirOperationGetLocation(func), err ? err : "bad options");
    free(err);
    mlirExternalPassSignalFailure(pass);
    return;
  }
  MlirContext ctx = mlirOperationGetContext(func);
  /* Collect anchors in program order. */
  qoOpList anchors = {0};
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  if (mlirBlockIsNull(body)) return;
  MlirOperation firstCompute = {NULL}, lastCompute = {NULL};
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    int k = -1;
    for (size_t i = 0; i < sizeof kAnchors / sizeof *kAnchors; ++i)
      if (qoOpIs(op, kAnchors[i])) k = (int)i;
    if (k < 0) continue;
    /* A residual add needs two activations (a bias add is part of its group). */
    if (qoOpIs(op, "tosa.add") && (qoIsConstant(mlirOperationGetOperand(op, 0)) ||
                                   qoIsConstant(mlirOperationGetOperand(op, 1))))
      continue;
    const char *shortName = kAnchors[k] + 5;
    char node[512];
    qoValueName(mlirOperationGetResult(op, 0), node, sizeof node);
    if ((c.include[0] && !inList(c.include, shortName)) || inList(c.exclude, shortName) ||
        (node[0] && inList(c.excludeNodes, node))) {
      char msg[700];
      snprintf(msg, sizeof msg, "'%s' stays float (excluded by the options)", kAnchors[k]);
      qoEmitRemark(mlirOperationGetLocation(op), msg);
      continue;
    }
    if (isCompute(op)) {
      if (mlirOperationIsNull(firstCompute)) firstCompute = op;
      lastCompute = op;
    }
    if (anchors.size == anchors.capacity) {
      size_t nc = anchors.capacity ? 2 * anchors.capacity : 32;
      MlirOperation *p = realloc(anchors.ops, nc * sizeof *p);
      if (!p) break;
      anchors.ops = p;
      anchors.capacity = nc;
    }
    anchors.ops[anchors.size++] = op;
  }
  /* Quantization points: group inputs and outputs; weights offline. A value
   * adjacent to two groups is one point. The points are collected before any
   * pair is inserted so group detection sees the original IR. */
  Points pts = {0};
  qoOpList quantized = {0};
  for (size_t i = 0; i < anchors.size; ++i) {
    MlirOperation op = anchors.ops[i];
    if ((c.keepFirst && op.ptr == firstCompute.ptr) || (c.keepLast && op.ptr == lastCompute.ptr)) {
      qoEmitRemark(mlirOperationGetLocation(op), "first/last layer stays float (keep-first/last-float)");
      continue;
    }
    int nIn = isCompute(op) ? (qoOpIs(op, "tosa.matmul") ? 2 : 1)
              : qoOpIs(op, "tosa.concat") ? (int)mlirOperationGetNumOperands(op)
              : qoOpIs(op, "tosa.add")   ? 2
                                         : 1;
    for (int k = 0; k < nIn; ++k) addPoint(&pts, mlirOperationGetOperand(op, k));
    MlirValue out = groupOutput(op);
    if (c.quantOutputs || !onlyReturned(out) || !isCompute(op))
      addPoint(&pts, out);
    else
      qoEmitRemark(mlirOperationGetLocation(op), "model output left unquantized: dequantized from the int32 "
                                                 "accumulator (quantize-outputs=true to quantize it)");
    if (quantized.size == quantized.capacity) {
      size_t nc = quantized.capacity ? 2 * quantized.capacity : 32;
      MlirOperation *p = realloc(quantized.ops, nc * sizeof *p);
      if (!p) break;
      quantized.ops = p;
      quantized.capacity = nc;
    }
    quantized.ops[quantized.size++] = op;
  }
  int failed = 0;
  for (size_t i = 0; i < quantized.size; ++i)
    if (isCompute(quantized.ops[i]) && quantizeWeight(quantized.ops[i], 1, &c)) failed = 1;
  /* Ids continue after any points already in the function. */
  int64_t nextId = 0;
  qoOpList existing = {0};
  qoCollectOps(func, "quant.qcast", &existing);
  for (size_t i = 0; i < existing.size; ++i) {
    int64_t id = qoGetIntAttr(existing.ops[i], "qo.id", -1);
    if (id >= nextId) nextId = id + 1;
  }
  qoOpListFree(&existing);
  MlirType at = activationType(ctx, &c);
  for (size_t i = 0; i < pts.n; ++i) {
    char name[512];
    qoValueName(pts.v[i], name, sizeof name);
    MlirOperation q = qoInsertQDQ(pts.v[i], at, (MlirOpOperand){NULL});
    mlirOperationSetAttributeByName(q, qoStr("qo.id"),
                                    mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), nextId++));
    mlirOperationSetAttributeByName(q, qoStr("qo.name"), mlirStringAttrGet(ctx, qoStr(name)));
    mlirOperationSetAttributeByName(q, qoStr("qo.uncalibrated"), mlirUnitAttrGet(ctx));
    if (c.symmetric)
      mlirOperationSetAttributeByName(q, qoStr("qo.symmetric"), mlirUnitAttrGet(ctx));
    if (c.pow2) mlirOperationSetAttributeByName(q, qoStr("qo.pow2"), mlirUnitAttrGet(ctx));
  }
  free(pts.v);
  qoOpListFree(&anchors);
  qoOpListFree(&quantized);
  if (failed) mlirExternalPassSignalFailure(pass);
}

const qoPassDef qoInsertQDQPass = {
    .argument = "quant-insert-qdq",
    .anchor = "func.func",
    .summary = "Insert quantize/dequantize pairs on fusion-group boundaries; quantize weights",
    .options = kOptions,
    .numOptions = NUM_OPTS,
    .validate = validate,
    .run = run,
};
