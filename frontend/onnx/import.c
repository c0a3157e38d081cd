/* ONNX import driver: model parsing, graph walk, function signature, errors.
 *
 * Walks the graph once in node order: initializers become constants, graph
 * inputs become function arguments with static shapes, each node is either
 * folded at import time (shapes.c) or handed to its op importer (ops_*.c),
 * and the graph outputs become the return values in ONNX layout. The first
 * error stops the import; everything is freed on every path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int64_t qoNumElements(int rank, const int64_t *dims) {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) {
    if (dims[i] < 0 || __builtin_mul_overflow(n, dims[i], &n))
      return INT64_MAX;
  }
  return n;
}

int qoCheckShape(qoImporter *imp, int rank, const int64_t *dims,
                 const char *what) {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      return qoFail(imp, "negative dimension %lld in the shape of '%s'",
                    (long long)dims[i], what);
    if (dims[i] > QO_MAX_DIM || __builtin_mul_overflow(n, dims[i], &n) ||
        n > QO_MAX_ELEMS)
      return qoUnsupported(imp, "unsupported: the shape of '%s' is too large "
                                "(dimension %d is %lld; at most 2^40 elements)",
                           what, i, (long long)dims[i]);
  }
  return 0;
}

int64_t qoF2I(double x) {
  if (x != x)
    return 0;
  if (x >= 9223372036854775807.0)
    return INT64_MAX;
  if (x <= -9223372036854775808.0)
    return INT64_MIN;
  return (int64_t)x;
}

static int vfail(qoImporter *imp, qoOnnxStatus status, const char *fmt,
                 va_list ap) {
  if (imp->error)
    return -1;
  qoBuf b = {0};
  qoBufPrintf(&b, "%s: error: ", imp->path);
  if (imp->node)
    qoBufPrintf(&b, "node '%s' (%s): ", imp->nodeName ? imp->nodeName : "?",
                imp->node->op_type ? imp->node->op_type : "?");
  qoBufVPrintf(&b, fmt, ap);
  imp->error = qoBufTake(&b);
  imp->status = status;
  if (!imp->error) { /* out of memory while reporting: keep a static marker */
    imp->error = strdup("error: out of memory");
    imp->status = QO_ONNX_NOMEM;
  }
  return -1;
}

int qoFail(qoImporter *imp, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vfail(imp, QO_ONNX_INVALID, fmt, ap);
  va_end(ap);
  return rc;
}

int qoUnsupported(qoImporter *imp, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vfail(imp, QO_ONNX_UNSUPPORTED, fmt, ap);
  va_end(ap);
  return rc;
}

int qoFailStatus(qoImporter *imp, qoOnnxStatus status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vfail(imp, status, fmt, ap);
  va_end(ap);
  return rc;
}

/* ---- op table ------------------------------------------------------------ */

typedef struct {
  const char *name;
  qoOpImportFn fn;
} qoOpEntry;

static const qoOpEntry kOps[] = {
    {"Abs", qoImportUnary},
    {"Add", qoImportBinary},
    {"AveragePool", qoImportPool},
    {"BatchNormalization", qoImportBatchNorm},
    {"Cast", qoImportIdentity},
    {"Ceil", qoImportUnary},
    {"Clip", qoImportClip},
    {"Concat", qoImportConcat},
    {"Conv", qoImportConv},
    {"ConvInteger", qoImportConvInteger},
    {"DequantizeLinear", qoImportDequantizeLinear},
    {"Div", qoImportBinary},
    {"DynamicQuantizeLinear", qoImportDynamicQuantizeLinear},
    {"Dropout", qoImportIdentity},
    {"Elu", qoImportUnary},
    {"Exp", qoImportUnary},
    {"Flatten", qoImportReshapeLike},
    {"Floor", qoImportUnary},
    {"Gemm", qoImportGemm},
    {"GlobalAveragePool", qoImportGlobalPool},
    {"GlobalMaxPool", qoImportGlobalPool},
    {"HardSigmoid", qoImportUnary},
    {"HardSwish", qoImportUnary},
    {"Identity", qoImportIdentity},
    {"LeakyRelu", qoImportUnary},
    {"Log", qoImportUnary},
    {"LogSoftmax", qoImportSoftmax},
    {"MatMul", qoImportMatMul},
    {"MatMulInteger", qoImportMatMulInteger},
    {"Max", qoImportVariadic},
    {"MaxPool", qoImportPool},
    {"Mean", qoImportVariadic},
    {"Min", qoImportVariadic},
    {"Mul", qoImportBinary},
    {"Neg", qoImportUnary},
    {"Pad", qoImportPad},
    {"Pow", qoImportBinary},
    {"PRelu", qoImportPRelu},
    {"QLinearConv", qoImportQLinearConv},
    {"QLinearMatMul", qoImportQLinearMatMul},
    {"QuantizeLinear", qoImportQuantizeLinear},
    {"Reciprocal", qoImportUnary},
    {"ReduceMax", qoImportReduce},
    {"ReduceMean", qoImportReduce},
    {"ReduceMin", qoImportReduce},
    {"ReduceSum", qoImportReduce},
    {"Relu", qoImportUnary},
    {"Reshape", qoImportReshapeLike},
    {"Sigmoid", qoImportUnary},
    {"Slice", qoImportSlice},
    {"Softmax", qoImportSoftmax},
    {"Softplus", qoImportUnary},
    {"Softsign", qoImportUnary},
    {"Sqrt", qoImportUnary},
    {"Squeeze", qoImportReshapeLike},
    {"Sub", qoImportBinary},
    {"Sum", qoImportVariadic},
    {"Tanh", qoImportUnary},
    {"Transpose", qoImportTranspose},
    {"Unsqueeze", qoImportReshapeLike},
};

static qoOpImportFn findOp(const char *name) {
  for (size_t k = 0; k < sizeof kOps / sizeof *kOps; ++k)
    if (strcmp(kOps[k].name, name) == 0)
      return kOps[k].fn;
  return NULL;
}

/* ---- graph inputs -------------------------------------------------------- */

/* Length of the name part of a qoInputShape (see qoParseInputShape). */
static size_t shapeNameLen(const char *name) {
  const char *eq = strrchr(name, '=');
  return eq ? (size_t)(eq - name) : strlen(name);
}

static const qoInputShape *findShape(const qoOnnxImportOptions *o,
                                     const char *name, int first) {
  for (size_t k = 0; o && k < o->numShapes; ++k) {
    const char *s = o->shapes[k].name ? o->shapes[k].name : "";
    size_t len = shapeNameLen(s);
    if (len == 0 ? first : (strlen(name) == len && !strncmp(s, name, len)))
      return &o->shapes[k];
  }
  return NULL;
}

static int isInitializer(const Onnx__GraphProto *g, const char *name) {
  for (size_t k = 0; k < g->n_initializer; ++k)
    if (g->initializer[k]->name && !strcmp(g->initializer[k]->name, name))
      return 1;
  return 0;
}

/* Defines graph input `vi` as a function argument with a static shape. */
static int defineInput(qoImporter *imp, const Onnx__ValueInfoProto *vi,
                       const qoOnnxImportOptions *o, int first) {
  const char *name = vi->name ? vi->name : "";
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
      !tp->tensor_type)
    return qoUnsupported(imp, "unsupported: graph input '%s' is not a tensor", name);
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  /* int8/uint8 inputs are quantized tensors (QOperator models): only the
   * quantization operators accept them (qoUse refuses them elsewhere). */
  int et = tt->elem_type;
  if (et != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT &&
      et != ONNX__TENSOR_PROTO__DATA_TYPE__INT8 &&
      et != ONNX__TENSOR_PROTO__DATA_TYPE__UINT8)
    return qoUnsupported(imp, "unsupported: graph input '%s' has element type %s "
                       "(run-time inputs must be float, int8 or uint8; "
                       "integer shape/axes inputs must be initializers)",
                  name, qoTypeName(tt->elem_type));
  const qoInputShape *given = findShape(o, name, first);
  const Onnx__TensorShapeProto *sp = tt->shape;
  int64_t dims[QO_MAX_RANK];
  int rank;
  if (sp && sp->n_dim > QO_MAX_RANK)
    return qoUnsupported(imp, "unsupported: graph input '%s' has rank %zu", name,
                  sp->n_dim);
  if (given) {
    if (given->rank < 0 || given->rank > QO_MAX_RANK)
      return qoFail(imp, "invalid --input-shape for '%s'", name);
    rank = given->rank;
    if (sp && (int)sp->n_dim != rank)
      return qoFail(imp, "input shape for '%s' has rank %d but the model "
                         "declares rank %zu", name, rank, sp->n_dim);
    for (int d = 0; d < rank; ++d) {
      dims[d] = given->dims[d];
      const Onnx__TensorShapeProto__Dimension *md = sp ? sp->dim[d] : NULL;
      if (dims[d] <= 0)
        return qoFail(imp, "invalid dimension in the input shape for '%s'",
                      name);
      if (md && md->value_case ==
                    ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
          md->dim_value > 0 && md->dim_value != dims[d])
        return qoFail(imp, "input shape for '%s' sets dim %d to %lld but the "
                           "model declares %lld", name, d,
                      (long long)dims[d], (long long)md->dim_value);
    }
  } else {
    if (!sp)
      return qoFail(imp, "graph input '%s' has no shape; give one with "
                         "--input-shape %s=...", name, name);
    rank = (int)sp->n_dim;
    for (int d = 0; d < rank; ++d) {
      const Onnx__TensorShapeProto__Dimension *md = sp->dim[d];
      if (md->value_case ==
          ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
        if (md->dim_value <= 0)
          return qoUnsupported(imp, "unsupported: dim %d of input '%s' is %lld", d,
                        name, (long long)md->dim_value);
        dims[d] = md->dim_value;
      } else if (d == 0) {
        dims[d] = o && o->defaultBatch > 0 ? o->defaultBatch : 1;
      } else {
        const char *sym = md->value_case ==
                                  ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                                  md->dim_param
                              ? md->dim_param
                              : "?";
        return qoFail(imp, "symbolic dim %d ('%s') of input '%s' is not "
                           "fixed; give it with --input-shape %s=...",
                      d, sym, name, name);
      }
    }
  }
  qoValue *v = qoDefine(imp, name, et, rank, dims);
  if (!v)
    return -1;
  if (et == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
    v->ssa[QO_ONNX] = qoNewSsa(imp, 'f', rank, dims);
    return v->ssa[QO_ONNX];
  }
  /* The argument is tensor<..xi8> (int8) or tensor<..xui8> (uint8); inside,
   * uint8 data is carried as signless i8 bits (tensor.bitcast), which is
   * what quant.scast and TOSA accept. */
  int u8 = et == ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
  int e = qoElem(imp, u8 ? "ui8" : "i8");
  if (e < 0)
    return -1;
  int arg = qoNewSsa(imp, 'x', rank, dims);
  if (arg < 0)
    return -1;
  imp->types[arg].elem = imp->elems[e];
  v->ssa[QO_ONNX] = arg;
  if (u8) {
    free(imp->nodeName);
    imp->nodeName = strdup(name);
    v->ssa[QO_ONNX] = qoEmitT(imp, "tensor.bitcast", 1, &arg, NULL, 1,
                              qoElem(imp, "i8"), rank, dims);
    free(imp->nodeName);
    imp->nodeName = NULL;
  }
  return v->ssa[QO_ONNX] < 0 ? -1 : arg;
}

/* ---- text assembly --------------------------------------------------------- */

static void appendNameList(qoBuf *b, const char *attr, size_t n,
                           Onnx__ValueInfoProto *const *vis, const int *keep) {
  qoBufPrintf(b, "%s = [", attr);
  int first = 1;
  for (size_t k = 0; k < n; ++k) {
    if (keep && !keep[k])
      continue;
    qoBufAppend(b, first ? "\"" : ", \"");
    qoBufAppendEscaped(b, vis[k]->name ? vis[k]->name : "");
    qoBufAppend(b, "\"");
    first = 0;
  }
  qoBufAppend(b, "]");
}

static char *assemble(qoImporter *imp, const Onnx__GraphProto *g,
                      const qoOnnxImportOptions *o, const int *isArg,
                      const int *argSsa, const int *outSsa) {
  qoBuf b = {0};
  qoBufAppend(&b, "module {\n  func.func @");
  const char *fn = o && o->funcName && *o->funcName ? o->funcName : "forward";
  int bare = (fn[0] >= 'A' && fn[0] <= 'Z') || (fn[0] >= 'a' && fn[0] <= 'z') ||
             fn[0] == '_';
  for (const char *c = fn; *c && bare; ++c)
    bare = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789_$.", *c) != NULL;
  if (bare) {
    qoBufAppend(&b, fn);
  } else {
    qoBufAppend(&b, "\"");
    qoBufAppendEscaped(&b, fn);
    qoBufAppend(&b, "\"");
  }
  qoBufAppend(&b, "(");
  int first = 1;
  for (size_t k = 0; k < g->n_input; ++k) {
    if (!isArg[k])
      continue;
    qoBufPrintf(&b, "%s%%v%d: ", first ? "" : ", ", argSsa[k]);
    qoPrintType(&b, qoType(imp, argSsa[k]));
    first = 0;
  }
  qoBufAppend(&b, ") -> (");
  for (size_t k = 0; k < g->n_output; ++k) {
    if (k)
      qoBufAppend(&b, ", ");
    qoPrintType(&b, qoType(imp, outSsa[k]));
  }
  qoBufAppend(&b, ") attributes {llvm.emit_c_interface, ");
  appendNameList(&b, "qo.input_names", g->n_input, g->input, isArg);
  qoBufAppend(&b, ", ");
  appendNameList(&b, "qo.output_names", g->n_output, g->output, NULL);
  qoBufAppend(&b, "} {\n");
  qoBufAppendN(&b, imp->body.data ? imp->body.data : "", imp->body.len);
  qoBufAppend(&b, "    \"func.return\"(");
  for (size_t k = 0; k < g->n_output; ++k)
    qoBufPrintf(&b, "%s%%v%d", k ? ", " : "", outSsa[k]);
  qoBufAppend(&b, ") : (");
  for (size_t k = 0; k < g->n_output; ++k) {
    if (k)
      qoBufAppend(&b, ", ");
    qoPrintType(&b, qoType(imp, outSsa[k]));
  }
  qoBufAppend(&b, ") -> ()\n  }\n}\n");
  return qoBufTake(&b);
}

/* ---- the walk -------------------------------------------------------------- */

static int setNode(qoImporter *imp, const Onnx__NodeProto *n, size_t index) {
  free(imp->nodeName);
  imp->nodeName = NULL;
  imp->node = n;
  if (!n)
    return 0;
  qoBuf b = {0};
  if (n->name && *n->name)
    qoBufAppend(&b, n->name);
  else
    qoBufPrintf(&b, "%s_%zu", n->op_type ? n->op_type : "node", index);
  imp->nodeName = qoBufTake(&b);
  return imp->nodeName ? 0 : qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
}

static int importNode(qoImporter *imp, const Onnx__NodeProto *n) {
  if (!n->op_type)
    return qoFail(imp, "node has no op_type");
  if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx") != 0)
    return qoUnsupported(imp, "unsupported operator domain '%s'", n->domain);
  if (imp->opset < 0)
    return qoFail(imp, "the model does not import the default ONNX opset");
  int folded = qoTryFold(imp, n);
  if (folded != 0)
    return folded < 0 ? -1 : 0;
  qoOpImportFn fn = findOp(n->op_type);
  if (!fn)
    return qoUnsupported(imp, "unsupported operator '%s'", n->op_type);
  int rc = fn(imp, n);
  return rc < 0 || imp->error ? -1 : 0;
}

static char *importModel(qoImporter *imp, const Onnx__ModelProto *m,
                         const qoOnnxImportOptions *o) {
  const Onnx__GraphProto *g = m->graph;
  imp->graph = g;
  if (!g) {
    qoFail(imp, "model has no graph");
    return NULL;
  }
  imp->opset = -1;
  for (size_t k = 0; k < m->n_opset_import; ++k) {
    const Onnx__OperatorSetIdProto *os = m->opset_import[k];
    if (!os->domain || !*os->domain || !strcmp(os->domain, "ai.onnx"))
      imp->opset = os->has_version ? os->version : 1;
  }
  if (g->n_output == 0) {
    qoFail(imp, "graph has no outputs");
    return NULL;
  }
  char *text = NULL;
  int *isArg = calloc(g->n_input + 1, sizeof *isArg);
  int *argSsa = calloc(g->n_input + 1, sizeof *argSsa);
  int *outSsa = calloc(g->n_output + 1, sizeof *outSsa);
  if (!isArg || !argSsa || !outSsa) {
    qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
    goto cleanup;
  }
  for (size_t k = 0; k < g->n_initializer; ++k) {
    const Onnx__TensorProto *t = g->initializer[k];
    if (!t->name || !*t->name) {
      qoFail(imp, "initializer #%zu has no name", k);
      goto cleanup;
    }
    if (!qoValueFromTensor(imp, t, t->name))
      goto cleanup;
  }
  int numArgs = 0;
  for (size_t k = 0; k < g->n_input; ++k) {
    const char *name = g->input[k]->name;
    if (!name || !*name) {
      qoFail(imp, "graph input #%zu has no name", k);
      goto cleanup;
    }
    if (isInitializer(g, name))
      continue;
    isArg[k] = 1;
    argSsa[k] = defineInput(imp, g->input[k], o, numArgs == 0);
    if (argSsa[k] < 0)
      goto cleanup;
    numArgs++;
  }
  for (size_t k = 0; o && k < o->numShapes; ++k) {
    const char *s = o->shapes[k].name ? o->shapes[k].name : "";
    size_t len = shapeNameLen(s);
    int found = len == 0 && numArgs > 0;
    for (size_t j = 0; j < g->n_input && !found; ++j)
      found = isArg[j] && strlen(g->input[j]->name) == len &&
              !strncmp(g->input[j]->name, s, len);
    if (!found) {
      qoFail(imp, "--input-shape names '%.*s', which is not a graph input",
             (int)len, s);
      goto cleanup;
    }
  }
  for (size_t k = 0; k < g->n_node; ++k) {
    if (setNode(imp, g->node[k], k) < 0 || importNode(imp, g->node[k]) < 0)
      goto cleanup;
  }
  setNode(imp, NULL, 0);
  for (size_t k = 0; k < g->n_output; ++k) {
    const char *name = g->output[k]->name ? g->output[k]->name : "";
    qoValue *v = qoLookup(imp, name);
    if (!v) {
      qoFail(imp, "graph output '%s' is never produced", name);
      goto cleanup;
    }
    int intOut = !v->isConst && (v->elemType == ONNX__TENSOR_PROTO__DATA_TYPE__INT8 ||
                                 v->elemType == ONNX__TENSOR_PROTO__DATA_TYPE__UINT8 ||
                                 v->elemType == ONNX__TENSOR_PROTO__DATA_TYPE__INT32);
    if (!intOut && (!qoIsFloatType(v->elemType) || (v->isConst && !v->f))) {
      qoUnsupported(imp, "unsupported: graph output '%s' has element type %s", name,
             qoTypeName(v->elemType));
      goto cleanup;
    }
    free(imp->nodeName); /* loc of boundary transposes/constants */
    imp->nodeName = strdup(name);
    outSsa[k] = intOut ? qoUseIntOutput(imp, v) : qoUse(imp, v, QO_ONNX);
    if (outSsa[k] < 0)
      goto cleanup;
  }
  text = assemble(imp, g, o, isArg, argSsa, outSsa);
  if (!text)
    qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
cleanup:
  free(isArg);
  free(argSsa);
  free(outSsa);
  return text;
}

const char *qoOnnxStatusName(qoOnnxStatus status) {
  switch (status) {
  case QO_ONNX_OK: return "ok";
  case QO_ONNX_INVALID: return "invalid";
  case QO_ONNX_UNSUPPORTED: return "unsupported";
  case QO_ONNX_IO: return "I/O error";
  case QO_ONNX_NOMEM: return "out of memory";
  }
  return "unknown";
}

qoOnnxStatus qoOnnxImportBuffer(const void *data, size_t size,
                                const char *displayName, const char *baseDir,
                                const qoOnnxImportOptions *opts, char **text,
                                char **error) {
  qoImporter imp;
  memset(&imp, 0, sizeof imp);
  imp.path = displayName ? displayName : "<buffer>";
  imp.baseDir = baseDir;
  imp.zpSsa = imp.shiftSsa = -1;
  int64_t bytes = size < (size_t)QO_MAX_ELEMS ? (int64_t)size : QO_MAX_ELEMS;
  imp.foldBudget = QO_FOLD_BUDGET + bytes;
  imp.constBudget = QO_CONST_BUDGET + 4 * bytes;
  Onnx__ModelProto *m = NULL;
  *text = NULL;
  if (error)
    *error = NULL;
  if (!data && size) {
    qoFail(&imp, "no data");
  } else {
    m = onnx__model_proto__unpack(NULL, size, data);
    if (!m)
      qoFail(&imp, "cannot parse the ONNX model (truncated or corrupt "
                   "protobuf)");
    else
      *text = importModel(&imp, m, opts);
  }
  if (m)
    onnx__model_proto__free_unpacked(m, NULL);
  setNode(&imp, NULL, 0);
  qoValuesFree(&imp);
  qoBufFree(&imp.body);
  free(imp.types);
  for (int i = 0; i < imp.numElems; ++i)
    free(imp.elems[i]);
  free(imp.elems);
  if (!*text && !imp.error)
    qoFail(&imp, "import failed");
  if (*text) {
    free(imp.error);
    return QO_ONNX_OK;
  }
  if (error)
    *error = imp.error;
  else
    free(imp.error);
  return imp.status;
}

char *qoOnnxImportBufferToText(const void *data, size_t size,
                               const char *displayName,
                               const qoOnnxImportOptions *opts, char **error) {
  char *text;
  qoOnnxImportBuffer(data, size, displayName, NULL, opts, &text, error);
  return text;
}

/* The folder of `path` ("." for a bare file name), malloc'd. */
static char *dirOf(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return strdup(".");
  if (slash == path)
    return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

qoOnnxStatus qoOnnxImportFile(const char *path, const qoOnnxImportOptions *opts,
                              char **text, char **error) {
  *text = NULL;
  if (error)
    *error = NULL;
  qoBuf msg = {0};
  qoOnnxStatus st = QO_ONNX_IO;
  FILE *f = path ? fopen(path, "rb") : NULL;
  if (!f) {
    qoBufPrintf(&msg, "%s: error: cannot open file", path ? path : "(null)");
    goto fail;
  }
  qoBuf data = {0};
  char chunk[65536];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
    qoBufAppendN(&data, chunk, got);
  int readErr = ferror(f);
  fclose(f);
  if (readErr || data.failed) {
    st = readErr ? QO_ONNX_IO : QO_ONNX_NOMEM;
    qoBufFree(&data);
    qoBufPrintf(&msg, "%s: error: cannot read file", path);
    goto fail;
  }
  char *dir = dirOf(path);
  st = dir ? qoOnnxImportBuffer(data.data, data.len, path, dir, opts, text, error)
           : QO_ONNX_NOMEM;
  free(dir);
  qoBufFree(&data);
  return st;
fail:
  if (error)
    *error = qoBufTake(&msg);
  else
    qoBufFree(&msg);
  return st;
}

char *qoOnnxImportFileToText(const char *path, const qoOnnxImportOptions *opts,
                             char **error) {
  char *text;
  qoOnnxImportFile(path, opts, &text, error);
  return text;
}
