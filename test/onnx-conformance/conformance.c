/* ONNX conformance: imports, compiles (JIT) and runs ONNX's own backend
 * tests from Debian's libonnx-testdata (node/, pytorch-converted/, ...),
 * comparing with the expected outputs (fp32: |got - want| <= atol + rtol*|want|,
 * rtol 1e-4, atol 1e-5).
 *
 * Integer outputs (int8, uint8, int32, int64) must be exactly equal.
 *
 * Quantization parameters are constants for quant-opt (quantized types
 * carry them), but ONNX's node tests for the quantization operators pass
 * scales and zero points as graph inputs. Those inputs (the scale / zero
 * point / bias operands of QuantizeLinear, DequantizeLinear, QLinearConv,
 * QLinearMatMul, ConvInteger, MatMulInteger) are frozen: the model is
 * re-serialized with the test data's values as initializers before import
 * (they must then be equal in every data set). Data tensors stay inputs.
 *
 * A test is "unsupported" when the importer says so (its status is
 * QO_ONNX_UNSUPPORTED) or its inputs are of a dtype quant-opt models do not
 * take; those are listed by name, never skipped silently. Every other problem
 * is a failure and makes the exit code non-zero. Prints
 *   onnx-conformance: N passed, M failed, K unsupported
 * Usage: qo-onnx-conformance [--verbose] [--print-ir] [--filter SUBSTR]
 *            [--expect-pass FILE | --update-pinned FILE] <data-dir>...
 * Tests are named <data-dir basename>/<test>, e.g. node/test_abs.
 * --expect-pass FILE: the pinned list (one name per line, sorted); a pinned
 * test that fails or turns unsupported is named and fails the run; a passing
 * test not in the list is reported (add it with --update-pinned), not failed.
 * --update-pinned FILE: writes the sorted names of the passing tests there.
 * (--print-ir prints each imported model's MLIR, after freezing, for tests.) */
#include "quant-opt/compiler.h"
#include "quant-opt/onnx.h"

#include "onnx.pb-c.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct Tensor {
  int rank;
  int64_t dims[QO_MAX_RANK];
  int64_t n;
  double *v; /* values as double */
  int dtype; /* ONNX TensorProto data type */
} Tensor;

static void *readFile(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *b = malloc(n > 0 ? (size_t)n : 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return b;
}

/* Reads a serialized TensorProto; returns 0 on success. */
static int readTensor(const char *path, Tensor *t, char *why, size_t whyLen) {
  size_t len;
  void *data = readFile(path, &len);
  memset(t, 0, sizeof *t);
  if (!data) {
    snprintf(why, whyLen, "cannot read %s", path);
    return -1;
  }
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, data);
  free(data);
  if (!tp) {
    snprintf(why, whyLen, "cannot parse %s", path);
    return -1;
  }
  int rc = -1;
  t->dtype = tp->data_type;
  t->rank = (int)tp->n_dims;
  if (t->rank > QO_MAX_RANK) goto done;
  t->n = 1;
  for (int i = 0; i < t->rank; ++i) t->n *= (t->dims[i] = tp->dims[i]);
  t->v = malloc((size_t)(t->n ? t->n : 1) * sizeof(double));
  const uint8_t *raw = tp->raw_data.data;
  size_t rawLen = tp->raw_data.len;
  for (int64_t i = 0; i < t->n; ++i) {
    double x;
    switch (tp->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
      float f;
      if (rawLen) { if ((size_t)(i + 1) * 4 > rawLen) goto done; memcpy(&f, raw + i * 4, 4); }
      else { if ((size_t)i >= tp->n_float_data) goto done; f = tp->float_data[i]; }
      x = f;
      break;
    }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: {
      int64_t v;
      if (rawLen) { if ((size_t)(i + 1) * 8 > rawLen) goto done; memcpy(&v, raw + i * 8, 8); }
      else { if ((size_t)i >= tp->n_int64_data) goto done; v = tp->int64_data[i]; }
      x = (double)v;
      break;
    }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: {
      int32_t v;
      if (rawLen) { if ((size_t)(i + 1) * 4 > rawLen) goto done; memcpy(&v, raw + i * 4, 4); }
      else { if ((size_t)i >= tp->n_int32_data) goto done; v = tp->int32_data[i]; }
      x = v;
      break;
    }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: {
      int v;
      if (rawLen) {
        if ((size_t)i >= rawLen) goto done;
        v = tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT8 ? (int)(int8_t)raw[i] : raw[i];
      } else {
        if ((size_t)i >= tp->n_int32_data) goto done;
        v = tp->int32_data[i];
      }
      x = v;
      break;
    }
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
      if (rawLen) { if ((size_t)(i + 1) * 8 > rawLen) goto done; memcpy(&x, raw + i * 8, 8); }
      else { if ((size_t)i >= tp->n_double_data) goto done; x = tp->double_data[i]; }
      break;
    }
    default:
      snprintf(why, whyLen, "unsupported tensor dtype %d", tp->data_type);
      goto done;
    }
    t->v[i] = x;
  }
  rc = 0;
done:
  if (rc && !why[0]) snprintf(why, whyLen, "malformed tensor %s", path);
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return rc;
}

static int isDir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmpStr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted list of directory entries starting with `prefix`. */
static char **listDir(const char *dir, const char *prefix, int *n) {
  DIR *d = opendir(dir);
  *n = 0;
  if (!d) return NULL;
  char **v = NULL;
  int cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix))) continue;
    if (*n == cap) v = realloc(v, sizeof *v * (size_t)(cap = cap ? 2 * cap : 64));
    v[(*n)++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(v, (size_t)*n, sizeof *v, cmpStr);
  return v;
}

typedef enum { R_PASS, R_FAIL, R_UNSUPPORTED } Result;

static int gErrors;
static int gPrintIR; /* --print-ir: the imported (frozen) MLIR on stdout */
static char gLastDiag[512];

static MlirLogicalResult captureDiag(MlirDiagnostic d, void *ud) {
  (void)ud;
  if (mlirDiagnosticGetSeverity(d) == MlirDiagnosticError) {
    ++gErrors;
    gLastDiag[0] = 0;
    /* keep the first line of the first error */
  }
  return mlirLogicalResultSuccess();
}

/* Input positions of the quantization parameters (scale, zero point, bias)
 * of the quantization operators. */
static int isParamOperand(const char *op, size_t idx) {
  if (!strcmp(op, "QuantizeLinear") || !strcmp(op, "DequantizeLinear"))
    return idx == 1 || idx == 2;
  if (!strcmp(op, "QLinearConv"))
    return idx != 0 && idx != 3;
  if (!strcmp(op, "QLinearMatMul"))
    return idx != 0 && idx != 3;
  if (!strcmp(op, "ConvInteger") || !strcmp(op, "MatMulInteger"))
    return idx == 2 || idx == 3;
  return 0;
}

static int isInit(const Onnx__GraphProto *g, const char *name) {
  for (size_t k = 0; k < g->n_initializer; ++k)
    if (g->initializer[k]->name && !strcmp(g->initializer[k]->name, name)) return 1;
  return 0;
}

static int sameFile(const char *a, const char *b) {
  size_t la, lb;
  void *da = readFile(a, &la), *db = readFile(b, &lb);
  int same = da && db && la == lb && !memcmp(da, db, la);
  free(da);
  free(db);
  return same;
}

/* Loads model.onnx of `dir` and returns its bytes with the quantization
 * parameter inputs frozen to initializers (the values of test_data_set_0).
 * `dataIdx[j]` receives, for the j-th graph input that stays an input, its
 * index k in the test data (input_k.pb); *nData the number of them. */
static void *loadFrozen(const char *dir, char **sets, int nsets, size_t *len,
                        int *dataIdx, char (*dataNames)[128], int *nData,
                        char *why, size_t whyLen, int *unsupported) {
  char path[8192];
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  void *bytes = readFile(path, len);
  *nData = 0;
  if (!bytes) {
    snprintf(why, whyLen, "cannot read %.400s", path);
    return NULL;
  }
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, *len, bytes);
  if (!m || !m->graph) {
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    return bytes; /* the importer reports it */
  }
  Onnx__GraphProto *g = m->graph;
  Onnx__TensorProto **added = calloc(g->n_input + 1, sizeof *added);
  Onnx__TensorProto **inits = calloc(g->n_initializer + g->n_input + 1, sizeof *inits);
  size_t nAdded = 0;
  int k = 0, ok = added && inits;
  for (size_t i = 0; ok && i < g->n_input; ++i) {
    const char *name = g->input[i]->name ? g->input[i]->name : "";
    if (isInit(g, name)) continue;
    int param = 0;
    for (size_t n = 0; n < g->n_node && !param; ++n) {
      const Onnx__NodeProto *nd = g->node[n];
      for (size_t j = 0; j < nd->n_input && !param; ++j)
        param = nd->op_type && !strcmp(nd->input[j], name) && isParamOperand(nd->op_type, j);
    }
    if (!param) {
      if (*nData < 16) {
        snprintf(dataNames[*nData], 128, "%s", name);
        dataIdx[(*nData)++] = k;
      }
      ++k;
      continue;
    }
    if (nsets < 1) {
      ok = 0;
      snprintf(why, whyLen, "no test_data_set_* directories");
      break;
    }
    char p0[8192];
    snprintf(p0, sizeof p0, "%s/%s/input_%d.pb", dir, sets[0], k);
    for (int s = 1; s < nsets && ok; ++s) {
      char ps[8192];
      snprintf(ps, sizeof ps, "%s/%s/input_%d.pb", dir, sets[s], k);
      if (!sameFile(p0, ps)) {
        ok = 0;
        *unsupported = 1;
        snprintf(why, whyLen, "unsupported: quantization parameter '%s' differs "
                 "between data sets", name);
      }
    }
    size_t tl;
    void *tb = ok ? readFile(p0, &tl) : NULL;
    Onnx__TensorProto *t = tb ? onnx__tensor_proto__unpack(NULL, tl, tb) : NULL;
    free(tb);
    if (!t) {
      if (ok) snprintf(why, whyLen, "cannot read %.400s", p0);
      ok = 0;
      break;
    }
    added[nAdded++] = t;
    ++k;
  }
  void *out = NULL;
  if (ok && nAdded) {
    /* Point the initializers at the frozen tensors, named like the inputs. */
    Onnx__TensorProto **old = g->initializer;
    size_t nOld = g->n_initializer;
    char **oldNames = calloc(nAdded, sizeof *oldNames);
    if (nOld) memcpy(inits, old, nOld * sizeof *inits);
    size_t a = 0;
    k = 0;
    for (size_t i = 0; i < g->n_input && a < nAdded; ++i) {
      const char *name = g->input[i]->name ? g->input[i]->name : "";
      if (isInit(g, name)) continue;
      int param = 0;
      for (size_t n = 0; n < g->n_node && !param; ++n)
        for (size_t j = 0; j < g->node[n]->n_input && !param; ++j)
          param = g->node[n]->op_type && !strcmp(g->node[n]->input[j], name) &&
                  isParamOperand(g->node[n]->op_type, j);
      if (!param) continue;
      oldNames[a] = added[a]->name;
      added[a]->name = (char *)name;
      inits[nOld + a] = added[a];
      ++a;
    }
    g->initializer = inits;
    g->n_initializer = nOld + nAdded;
    size_t sz = onnx__model_proto__get_packed_size(m);
    out = malloc(sz ? sz : 1);
    if (out) *len = onnx__model_proto__pack(m, out);
    g->initializer = old;
    g->n_initializer = nOld;
    for (size_t i = 0; i < a; ++i) added[i]->name = oldNames[i];
    free(oldNames);
  }
  for (size_t i = 0; i < nAdded; ++i) onnx__tensor_proto__free_unpacked(added[i], NULL);
  free(added);
  free(inits);
  onnx__model_proto__free_unpacked(m, NULL);
  if (out || !ok) {
    free(bytes);
    return out;
  }
  return bytes;
}

static size_t dtypeSize(qoDType t) {
  switch (t) {
  case QO_I8:
  case QO_U8: return 1;
  case QO_I64: return 8;
  default: return 4;
  }
}

/* Stores `v` as element k of a buffer of dtype `t`. */
static void storeAs(void *buf, qoDType t, int64_t k, double v) {
  switch (t) {
  case QO_F32: ((float *)buf)[k] = (float)v; break;
  case QO_I8: ((int8_t *)buf)[k] = (int8_t)v; break;
  case QO_U8: ((uint8_t *)buf)[k] = (uint8_t)v; break;
  case QO_I32: ((int32_t *)buf)[k] = (int32_t)v; break;
  case QO_I64: ((int64_t *)buf)[k] = (int64_t)v; break;
  }
}

static double loadAs(const void *buf, qoDType t, int64_t k) {
  switch (t) {
  case QO_F32: return ((const float *)buf)[k];
  case QO_I8: return ((const int8_t *)buf)[k];
  case QO_U8: return ((const uint8_t *)buf)[k];
  case QO_I32: return ((const int32_t *)buf)[k];
  case QO_I64: return (double)((const int64_t *)buf)[k];
  }
  return 0;
}

static Result runTest(const char *dir, char *why, size_t whyLen) {
  char path[8192];
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  char *err = NULL;
  qoOnnxImportOptions opts = {0};
  int ndata = 0;
  char **sets = listDir(dir, "test_data_set_", &ndata);
  int dataIdx[16], nData = 0, unsup = 0;
  char dataNames[16][128];
  size_t mlen = 0;
  void *model = loadFrozen(dir, sets, ndata, &mlen, dataIdx, dataNames, &nData, why,
                           whyLen, &unsup);
  if (!model) {
    for (int i = 0; i < ndata; ++i) free(sets[i]);
    free(sets);
    return unsup ? R_UNSUPPORTED : R_FAIL;
  }
  char *text = NULL;
  qoOnnxStatus st = qoOnnxImportBuffer(model, mlen, path, dir, &opts, &text, &err);
  free(model);
  if (st != QO_ONNX_OK) {
    const char *m = err ? err : "import failed";
    const char *e = strstr(m, "error: ");
    const char *msg = e ? e + 7 : m;
    snprintf(why, whyLen, "%s", msg);
    Result r = st == QO_ONNX_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL;
    free(err);
    for (int i = 0; i < ndata; ++i) free(sets[i]);
    free(sets);
    return r;
  }
  if (gPrintIR) fputs(text, stdout);
  Result res = R_FAIL;
  MlirContext ctx = qoContextCreate();
  gErrors = 0;
  mlirContextAttachDiagnosticHandler(ctx, captureDiag, NULL, NULL);
  MlirModule m = qoParseSource(ctx, text, strlen(text), path);
  free(text);
  qoSignature sig;
  qoJit *jit = NULL;
  int inData[16];
  Tensor ins[16], outs[16];
  memset(ins, 0, sizeof ins);
  memset(outs, 0, sizeof outs);
  if (mlirModuleIsNull(m) || !mlirOperationVerify(mlirModuleGetOperation(m))) {
    snprintf(why, whyLen, "imported IR does not parse/verify");
    goto done;
  }
  if (mlirLogicalResultIsFailure(qoGetSignature(m, NULL, &sig, &err))) {
    snprintf(why, whyLen, "%s", err ? err : "no signature");
    free(err);
    goto done;
  }
  for (int i = 0; i < sig.numInputs; ++i) {
    inData[i] = -1;
    for (int j = 0; j < nData; ++j)
      if (!strcmp(dataNames[j], sig.inputs[i].name)) inData[i] = dataIdx[j];
    if (inData[i] < 0) {
      snprintf(why, whyLen, "model input '%s' has no test data", sig.inputs[i].name);
      goto done;
    }
  }
  if (mlirLogicalResultIsFailure(qoLowerToLLVM(m, &err))) {
    snprintf(why, whyLen, "lowering failed");
    free(err);
    goto done;
  }
  jit = qoJitCreate(m, &sig, 2, &err);
  if (!jit) {
    snprintf(why, whyLen, "%s", err ? err : "JIT failed");
    free(err);
    goto done;
  }
  if (ndata == 0) {
    snprintf(why, whyLen, "no test_data_set_* directories");
    goto done;
  }
  res = R_PASS;
  for (int s = 0; s < ndata && res == R_PASS; ++s) {
    char sdir[6144];
    snprintf(sdir, sizeof sdir, "%s/%s", dir, sets[s]);
    void *inPtr[16], *outPtr[16];
    void *inB[16] = {0}, *outB[16] = {0};
    for (int i = 0; i < sig.numInputs && res == R_PASS; ++i) {
      snprintf(path, sizeof path, "%s/input_%d.pb", sdir, inData[i]);
      if (readTensor(path, &ins[i], why, whyLen)) { res = R_FAIL; break; }
      int64_t want = 1;
      for (int d = 0; d < sig.inputs[i].rank; ++d) want *= sig.inputs[i].dims[d];
      if (want != ins[i].n) {
        snprintf(why, whyLen, "input %d has %lld values, the model takes %lld", i,
                 (long long)ins[i].n, (long long)want);
        res = R_FAIL;
        break;
      }
      inB[i] = calloc((size_t)(want ? want : 1), dtypeSize(sig.inputs[i].dtype));
      for (int64_t k = 0; k < want; ++k) storeAs(inB[i], sig.inputs[i].dtype, k, ins[i].v[k]);
      inPtr[i] = inB[i];
    }
    for (int i = 0; i < sig.numOutputs && res == R_PASS; ++i) {
      snprintf(path, sizeof path, "%s/output_%d.pb", sdir, i);
      if (readTensor(path, &outs[i], why, whyLen)) { res = R_FAIL; break; }
      int64_t want = 1;
      for (int d = 0; d < sig.outputs[i].rank; ++d) want *= sig.outputs[i].dims[d];
      if (want != outs[i].n) {
        snprintf(why, whyLen, "output %d: model gives %lld values, expected %lld", i,
                 (long long)want, (long long)outs[i].n);
        res = R_FAIL;
        break;
      }
      outB[i] = calloc((size_t)(want ? want : 1), dtypeSize(sig.outputs[i].dtype));
      outPtr[i] = outB[i];
    }
    if (res == R_PASS && qoJitRun(jit, (const void *const *)inPtr, outPtr) != 0) {
      snprintf(why, whyLen, "run failed");
      res = R_FAIL;
    }
    for (int i = 0; i < sig.numOutputs && res == R_PASS; ++i) {
      int exact = sig.outputs[i].dtype != QO_F32;
      for (int64_t k = 0; k < outs[i].n; ++k) {
        double g = loadAs(outB[i], sig.outputs[i].dtype, k), w = outs[i].v[k];
        int ok = exact ? g == w
                       : (isnan(g) && isnan(w)) || (g == w) ||
                             fabs(g - w) <= 1e-5 + 1e-4 * fabs(w);
        if (!ok) {
          snprintf(why, whyLen, "%s output %d[%lld]: got %.8g, expected %.8g%s", sets[s], i,
                   (long long)k, g, w, exact ? " (integers must be equal)" : "");
          res = R_FAIL;
          break;
        }
      }
    }
    for (int i = 0; i < 16; ++i) {
      free(inB[i]), free(outB[i]);
      free(ins[i].v), free(outs[i].v);
      ins[i].v = outs[i].v = NULL;
    }
  }
done:
  for (int i = 0; i < ndata; ++i) free(sets[i]);
  free(sets);
  qoJitDestroy(jit);
  if (!mlirModuleIsNull(m)) mlirModuleDestroy(m);
  qoContextDestroy(ctx);
  return res;
}

typedef struct Outcome {
  char *name; /* <data-dir basename>/<test> */
  Result result;
  char *why;
} Outcome;

static int cmpOutcome(const void *a, const void *b) {
  return strcmp(((const Outcome *)a)->name, ((const Outcome *)b)->name);
}

static const Outcome *findOutcome(const Outcome *o, int n, const char *name) {
  Outcome key = {(char *)name, R_PASS, NULL};
  return bsearch(&key, o, (size_t)n, sizeof *o, cmpOutcome);
}

/* Checks the outcomes against the pinned list in `path`; returns the number
 * of pinned tests that no longer pass (-1 if the list cannot be read). */
static int checkPinned(const char *path, const Outcome *o, int n) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "qo-onnx-conformance: error: cannot read '%s'\n", path);
    return -1;
  }
  int lost = 0, pinned = 0;
  char line[1024];
  char **names = NULL;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0] || line[0] == '#') continue;
    names = realloc(names, sizeof *names * (size_t)(pinned + 1));
    names[pinned++] = strdup(line);
    const Outcome *r = findOutcome(o, n, line);
    if (!r) {
      printf("PINNED TEST GONE %s: not found in the test data\n", line);
      ++lost;
    } else if (r->result != R_PASS) {
      printf("PINNED TEST %s %s: %s\n", r->result == R_FAIL ? "FAILS" : "TURNED UNSUPPORTED",
             line, r->why);
      ++lost;
    }
  }
  fclose(f);
  int fresh = 0;
  for (int i = 0; i < n; ++i) {
    if (o[i].result != R_PASS) continue;
    int known = 0;
    for (int k = 0; k < pinned && !known; ++k) known = !strcmp(names[k], o[i].name);
    if (!known) {
      printf("NEWLY PASSING %s (not pinned yet: rerun with --update-pinned %s)\n", o[i].name,
             path);
      ++fresh;
    }
  }
  for (int k = 0; k < pinned; ++k) free(names[k]);
  free(names);
  printf("onnx-conformance: %d pinned, %d no longer passing, %d newly passing\n", pinned, lost,
         fresh);
  return lost;
}

static int writePinned(const char *path, const Outcome *o, int n) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "qo-onnx-conformance: error: cannot write '%s'\n", path);
    return -1;
  }
  for (int i = 0; i < n; ++i)
    if (o[i].result == R_PASS) fprintf(f, "%s\n", o[i].name);
  return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  int verbose = 0;
  const char *filter = NULL, *expectPass = NULL, *updatePinned = NULL;
  int passed = 0, failed = 0, unsupported = 0;
  char **unsup = NULL;
  int nunsup = 0;
  Outcome *outcomes = NULL;
  int nout = 0;
  for (int a = 1; a < argc; ++a) {
    if (!strcmp(argv[a], "--verbose") || !strcmp(argv[a], "-v")) {
      verbose = 1;
      continue;
    }
    if (!strcmp(argv[a], "--print-ir")) {
      gPrintIR = 1;
      continue;
    }
    if (!strcmp(argv[a], "--filter") && a + 1 < argc) {
      filter = argv[++a];
      continue;
    }
    if (!strcmp(argv[a], "--expect-pass") && a + 1 < argc) {
      expectPass = argv[++a];
      continue;
    }
    if (!strcmp(argv[a], "--update-pinned") && a + 1 < argc) {
      updatePinned = argv[++a];
      continue;
    }
    int n;
    char **tests = listDir(argv[a], "", &n);
    if (!tests) {
      fprintf(stderr, "qo-onnx-conformance: error: cannot list '%s'\n", argv[a]);
      return 2;
    }
    const char *base = strrchr(argv[a], '/');
    base = base && base[1] ? base + 1 : argv[a];
    for (int t = 0; t < n; ++t) {
      char dir[4096], model[4300];
      snprintf(dir, sizeof dir, "%s/%s", argv[a], tests[t]);
      snprintf(model, sizeof model, "%s/model.onnx", dir);
      struct stat st;
      if (!isDir(dir) || stat(model, &st) != 0 || (filter && !strstr(tests[t], filter))) {
        free(tests[t]);
        continue;
      }
      char why[600] = "";
      Result r = runTest(dir, why, sizeof why);
      outcomes = realloc(outcomes, sizeof *outcomes * (size_t)(nout + 1));
      size_t nl = strlen(base) + strlen(tests[t]) + 2;
      outcomes[nout].name = malloc(nl);
      snprintf(outcomes[nout].name, nl, "%s/%s", base, tests[t]);
      outcomes[nout].result = r;
      outcomes[nout++].why = strdup(why);
      if (r == R_PASS) {
        ++passed;
        if (verbose) printf("PASS %s\n", tests[t]);
      } else if (r == R_FAIL) {
        ++failed;
        printf("FAIL %s: %s\n", tests[t], why);
      } else {
        ++unsupported;
        unsup = realloc(unsup, sizeof *unsup * (size_t)(nunsup + 1));
        size_t l = strlen(tests[t]) + strlen(why) + 4;
        unsup[nunsup] = malloc(l);
        snprintf(unsup[nunsup++], l, "%s: %s", tests[t], why);
      }
      fflush(stdout);
      free(tests[t]);
    }
    free(tests);
  }
  printf("unsupported (%d):\n", unsupported);
  for (int i = 0; i < nunsup; ++i) {
    printf("  %s\n", unsup[i]);
    free(unsup[i]);
  }
  free(unsup);
  printf("onnx-conformance: %d passed, %d failed, %d unsupported\n", passed, failed, unsupported);
  qsort(outcomes, (size_t)nout, sizeof *outcomes, cmpOutcome);
  int bad = failed != 0;
  if (updatePinned && writePinned(updatePinned, outcomes, nout) == 0)
    printf("onnx-conformance: wrote %d passing tests to %s\n", passed, updatePinned);
  else if (updatePinned)
    bad = 1;
  if (expectPass && checkPinned(expectPass, outcomes, nout) != 0) bad = 1;
  for (int i = 0; i < nout; ++i) free(outcomes[i].name), free(outcomes[i].why);
  free(outcomes);
  return bad;
}
