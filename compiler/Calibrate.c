/* Calibration: run the float model on a calibration set and gather the
 * statistics of every activation quantization point.
 *
 * The Q-DQ module is cloned, instrumented (quant-instrument-calibration: each
 * point becomes a call to qo_observe(session, id, tensor)), lowered and
 * JIT-compiled. The host provides _mlir_ciface_qo_observe, which feeds the
 * calibration runtime's observers (runtime/calib.c), and resolves the
 * session symbol @qo_calib_session to the calibrator that owns this JIT: no
 * state is shared between calibrators, so threads may calibrate at once.
 *
 * Rows arrive in any number of Feed calls (streaming: memory is bounded by
 * the observers and one batch, not by the data set); they are packed into
 * batches of the model's batch size, and a zero-padded last batch observes
 * only its real rows. The result is a calibration table. */
#include "quant-opt/compiler.h"
#include "passes/ApplyCalibration.h"

#include "mlir-c/BuiltinAttributes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  int64_t rank;
  void *descriptor;
} UnrankedMemRef;

typedef struct {
  int64_t id;
  char name[256];
} PointInfo;

struct qoCalibrator {
  /* What the observers see; the JIT callback gets a pointer to this. */
  qrt_observer_t **obs; /* indexed by point id */
  int64_t numIds;
  int64_t batch, validRows;
  float *scratch;
  size_t scratchSize;
  int failed;
  /* The compiled model and the batch being filled. */
  qrt_calib_config_t cfg;
  qoJit *jit;
  qoSignature sig;
  PointInfo *points;
  size_t numPoints;
  size_t rowBytes[16];
  void *inBuf[16], *outBuf[16];
  int64_t pending; /* rows in inBuf not yet run */
  int64_t rows;    /* rows run or pending */
  int64_t batches; /* batches run */
};

static void observe(qoCalibrator *s, int64_t id, UnrankedMemRef *m) {
  if (!s || id < 0 || id >= s->numIds || !s->obs[id] || !m) return;
  int64_t rank = m->rank;
  int64_t *d = m->descriptor;
  char *aligned;
  memcpy(&aligned, &d[1], sizeof aligned);
  const float *base = (const float *)aligned + d[2];
  const int64_t *sizes = d + 3, *strides = d + 3 + rank;
  /* Observe only the real rows of a padded batch (batch is dimension 0). */
  int64_t rows = (rank > 0 && sizes[0] == s->batch) ? s->validRows : (rank > 0 ? sizes[0] : 1);
  int64_t inner = 1, contiguous = 1, expect = 1;
  for (int64_t i = rank - 1; i >= 0; --i) {
    if (strides[i] != expect && sizes[i] != 1) contiguous = 0;
    expect *= sizes[i];
    if (i > 0) inner *= sizes[i];
  }
  size_t n = (size_t)(rows * inner);
  if (contiguous) {
    if (qrt_observer_update(s->obs[id], base, n) != QRT_OK) s->failed = 1;
    return;
  }
  if (n > s->scratchSize) {
    float *p = realloc(s->scratch, n * sizeof *p);
    if (!p) {
      s->failed = 1;
      return;
    }
    s->scratch = p;
    s->scratchSize = n;
  }
  int64_t idx[16] = {0};
  if (rank > 16) {
    s->failed = 1;
    return;
  }
  for (size_t k = 0; k < n; ++k) {
    int64_t off = 0;
    for (int64_t i = 0; i < rank; ++i) off += idx[i] * strides[i];
    s->scratch[k] = base[off];
    for (int64_t i = rank - 1; i >= 0 && ++idx[i] == sizes[i]; --i) idx[i] = 0;
  }
  if (qrt_observer_update(s->obs[id], s->scratch, n) != QRT_OK) s->failed = 1;
}

static char *msgf(const char *f, const char *a) {
  char *m = malloc(512);
  if (m) snprintf(m, 512, f, a);
  return m;
}

/* The activation points (qo.id, qo.name) of the Q-DQ module, before
 * instrumentation removes them. */
static int collectPoints(MlirModule m, qoCalibrator *c) {
  MlirBlock body = mlirModuleGetBody(m);
  for (MlirOperation f = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(f);
       f = mlirOperationGetNextInBlock(f)) {
    if (mlirOperationGetNumRegions(f) < 1) continue;
    MlirBlock b = mlirRegionGetFirstBlock(mlirOperationGetRegion(f, 0));
    if (mlirBlockIsNull(b)) continue;
    for (MlirOperation op = mlirBlockGetFirstOperation(b); !mlirOperationIsNull(op);
         op = mlirOperationGetNextInBlock(op)) {
      MlirStringRef on = mlirIdentifierStr(mlirOperationGetName(op));
      if (on.length != 11 || memcmp(on.data, "quant.qcast", 11)) continue;
      MlirAttribute ida = mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("qo.id"));
      if (mlirAttributeIsNull(ida) || !mlirAttributeIsAInteger(ida)) continue;
      int64_t id = mlirIntegerAttrGetValueInt(ida);
      if (id < 0 || id > (1 << 24)) continue; /* ids are small counters */
      PointInfo *ni = realloc(c->points, (c->numPoints + 1) * sizeof *ni);
      if (!ni) return -1;
      c->points = ni;
      PointInfo *p = &c->points[c->numPoints++];
      p->id = id;
      p->name[0] = 0;
      MlirAttribute na = mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("qo.name"));
      if (!mlirAttributeIsNull(na) && mlirAttributeIsAString(na)) {
        MlirStringRef sv = mlirStringAttrGetValue(na);
        snprintf(p->name, sizeof p->name, "%.*s", (int)sv.length, sv.data);
      }
    }
  }
  return 0;
}

qoCalibrator *qoCalibratorCreate(MlirModule qdq, const qrt_calib_config_t *cfg, char **error) {
  *error = NULL;
  qoCalibrator *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  if (cfg) {
    c->cfg = *cfg;
  } else {
    qrt_calib_config_init(&c->cfg);
  }
  MlirContext ctx = mlirModuleGetContext(qdq);
  MlirModule m = mlirModuleFromOperation(mlirOperationClone(mlirModuleGetOperation(qdq)));
  MlirPassManager pm = mlirPassManagerCreateOnOperation(ctx, mlirStringRefCreateFromCString("builtin.module"));
  int ok = collectPoints(m, c) == 0;
  if (!ok) *error = msgf("out of memory%s", "");
  if (ok && c->numPoints == 0) {
    *error = msgf("the module has no quantization points to calibrate (run quant-insert-qdq first)%s", "");
    ok = 0;
  }
  if (ok && (mlirLogicalResultIsFailure(qoParsePassPipeline(pm, "builtin.module(quant-instrument-calibration)", error)) ||
             mlirLogicalResultIsFailure(mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(m))))) {
    if (!*error) *error = msgf("instrumenting the model for calibration failed%s", "");
    ok = 0;
  }
  ok = ok && mlirLogicalResultIsSuccess(qoGetSignature(m, NULL, &c->sig, error)) &&
       mlirLogicalResultIsSuccess(qoLowerToLLVM(m, error));
  if (ok) {
    /* The bufferization.access hint on qo_observe's argument has done its
     * job; LLVM translation would warn about it. */
    for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(m)); !mlirOperationIsNull(op);
         op = mlirOperationGetNextInBlock(op))
      mlirOperationRemoveAttributeByName(op, mlirStringRefCreateFromCString("arg_attrs"));
    c->jit = qoJitCreate(m, &c->sig, 3, error);
    ok = c->jit != NULL;
  }
  if (ok) {
    qoJitRegisterSymbol(c->jit, "_mlir_ciface_qo_observe", (void *)(uintptr_t)observe);
    qoJitRegisterSymbol(c->jit, "qo_calib_session", c);
    int64_t maxId = 0;
    for (size_t i = 0; i < c->numPoints; ++i)
      if (c->points[i].id > maxId) maxId = c->points[i].id;
    c->numIds = maxId + 1;
    c->obs = calloc((size_t)c->numIds, sizeof *c->obs);
    c->batch = c->sig.inputs[0].rank ? c->sig.inputs[0].dims[0] : 1;
    ok = c->obs != NULL && c->batch > 0;
    if (!ok) *error = msgf("out of memory%s", "");
  }
  for (size_t i = 0; ok && i < c->numPoints; ++i)
    if (!c->obs[c->points[i].id] && qrt_observer_create(&c->cfg, &c->obs[c->points[i].id]) != QRT_OK) {
      *error = msgf("invalid calibration configuration%s", "");
      ok = 0;
    }
  /* One batch of input rows, and the outputs (unused, any dtype). */
  for (int i = 0; ok && i < c->sig.numInputs; ++i) {
    const qoTensorInfo *t = &c->sig.inputs[i];
    int64_t per = 1;
    for (int d = 1; d < t->rank; ++d) per *= t->dims[d];
    c->rowBytes[i] = (size_t)per * qrt_dtype_size((qrt_dtype_t)t->dtype);
    if (!(c->inBuf[i] = calloc((size_t)c->batch, c->rowBytes[i] ? c->rowBytes[i] : 1))) ok = 0;
  }
  for (int i = 0; ok && i < c->sig.numOutputs; ++i) {
    int64_t ne = 1;
    for (int d = 0; d < c->sig.outputs[i].rank; ++d) ne *= c->sig.outputs[i].dims[d];
    if (!(c->outBuf[i] = malloc((size_t)(ne ? ne : 1) * 8))) ok = 0;
  }
  if (!ok && !*error) *error = msgf("out of memory%s", "");
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(m);
  if (!ok) {
    qoCalibratorDestroy(c);
    return NULL;
  }
  return c;
}

void qoCalibratorDestroy(qoCalibrator *c) {
  if (!c) return;
  for (int64_t i = 0; c->obs && i < c->numIds; ++i) qrt_observer_destroy(c->obs[i]);
  for (int i = 0; i < 16; ++i) free(c->inBuf[i]), free(c->outBuf[i]);
  free(c->obs);
  free(c->scratch);
  free(c->points);
  qoJitDestroy(c->jit);
  free(c);
}

int64_t qoCalibratorGetBatchSize(const qoCalibrator *c) { return c ? c->batch : 0; }
int64_t qoCalibratorGetNumRows(const qoCalibrator *c) { return c ? c->rows : 0; }

const qoSignature *qoCalibratorGetSignature(const qoCalibrator *c) { return c ? &c->sig : NULL; }

/* Runs the batch in inBuf with its `pending` real rows. */
static int runBatch(qoCalibrator *c) {
  c->validRows = c->pending;
  if (qoJitRun(c->jit, (const void *const *)c->inBuf, c->outBuf) != 0) c->failed = 1;
  c->pending = 0;
  ++c->batches;
  for (int i = 0; i < c->sig.numInputs; ++i) memset(c->inBuf[i], 0, (size_t)c->batch * c->rowBytes[i]);
  return c->failed ? -1 : 0;
}

MlirLogicalResult qoCalibratorFeed(qoCalibrator *c, const qrt_array_t *inputs, int numInputs,
                                   char **error) {
  *error = NULL;
  if (!c || c->failed) {
    *error = msgf("the calibrator failed earlier%s", "");
    return mlirLogicalResultFailure();
  }
  if (numInputs != c->sig.numInputs) {
    char b[64];
    snprintf(b, sizeof b, "%d", c->sig.numInputs);
    *error = msgf("the model has %s input(s); give one calibration array per input", b);
    return mlirLogicalResultFailure();
  }
  int64_t rows = -1;
  for (int i = 0; i < numInputs; ++i) {
    const qoTensorInfo *t = &c->sig.inputs[i];
    int ok = (int)inputs[i].dtype == (int)t->dtype && inputs[i].rank == t->rank && t->rank > 0 &&
             inputs[i].dims[0] >= 0 && (inputs[i].data || inputs[i].dims[0] == 0);
    for (int d = 1; ok && d < t->rank; ++d) ok = inputs[i].dims[d] == t->dims[d];
    if (!ok || (rows >= 0 && inputs[i].dims[0] != rows)) {
      *error = msgf("calibration data for input '%s' does not match the model's input "
                    "(dtype, or shape after the batch dimension, or row count)", t->name);
      return mlirLogicalResultFailure();
    }
    rows = inputs[i].dims[0];
  }
  for (int64_t r = 0; r < rows;) {
    int64_t take = c->batch - c->pending;
    if (take > rows - r) take = rows - r;
    for (int i = 0; i < numInputs; ++i)
      memcpy((char *)c->inBuf[i] + (size_t)c->pending * c->rowBytes[i],
             (const char *)inputs[i].data + (size_t)r * c->rowBytes[i], (size_t)take * c->rowBytes[i]);
    c->pending += take;
    c->rows += take;
    r += take;
    if (c->pending == c->batch && runBatch(c) != 0) {
      *error = msgf("running the calibration model failed%s", "");
      return mlirLogicalResultFailure();
    }
  }
  return mlirLogicalResultSuccess();
}

MlirLogicalResult qoCalibratorFinish(qoCalibrator *c, qrt_calib_table_t **table, char **error) {
  *error = NULL;
  *table = NULL;
  if (c && !c->failed && c->pending > 0 && runBatch(c) != 0) {
    *error = msgf("running the calibration model failed%s", "");
    return mlirLogicalResultFailure();
  }
  if (!c || c->failed) {
    *error = msgf("the calibrator failed earlier%s", "");
    return mlirLogicalResultFailure();
  }
  if (c->rows == 0) {
    *error = msgf("the calibration set is empty%s", "");
    return mlirLogicalResultFailure();
  }
  if (qrt_calib_table_create(&c->cfg, table) != QRT_OK) {
    *error = msgf("out of memory%s", "");
    return mlirLogicalResultFailure();
  }
  for (size_t i = 0; i < c->numPoints; ++i) {
    if (qrt_calib_table_find(*table, c->points[i].id)) continue;
    if (qrt_calib_table_add_observer(*table, c->points[i].id, c->points[i].name, c->obs[c->points[i].id]) !=
        QRT_OK) {
      *error = msgf("cannot compute the ranges of point '%s'", c->points[i].name);
      qrt_calib_table_destroy(*table);
      *table = NULL;
      return mlirLogicalResultFailure();
    }
    /* Only NaN/Inf at a point: its range would be made up. The data (or the
     * model) is broken; say where it shows first. */
    const qrt_calib_entry_t *e = qrt_calib_table_find(*table, c->points[i].id);
    if (e && e->count == 0 && e->nan_count + e->inf_count > 0) {
      char m[600];
      snprintf(m, sizeof m,
               "quantization point %lld ('%.300s') saw no finite value (%llu NaN, %llu Inf): check the "
               "calibration data",
               (long long)e->id, c->points[i].name, (unsigned long long)e->nan_count,
               (unsigned long long)e->inf_count);
      *error = strdup(m);
      qrt_calib_table_destroy(*table);
      *table = NULL;
      return mlirLogicalResultFailure();
    }
  }
  return mlirLogicalResultSuccess();
}

MlirLogicalResult qoCalibratorFeedAll(qoCalibrator *c, const qrt_array_t *inputs, int numInputs,
                                      FILE *progress, char **error) {
  *error = NULL;
  int64_t rows = numInputs > 0 && inputs[0].rank > 0 ? inputs[0].dims[0] : 0;
  for (int i = 0; i < numInputs; ++i)
    if (inputs[i].rank < 1 || inputs[i].dims[0] != rows) {
      *error = msgf("the calibration arrays have different numbers of rows%s", "");
      return mlirLogicalResultFailure();
    }
  /* Mismatches (and an empty set) are the single Feed's to report. */
  if (!c || numInputs != c->sig.numInputs || numInputs > 16 || rows == 0)
    return qoCalibratorFeed(c, inputs, numInputs, error);
  int64_t nBatches = (rows + c->batch - 1) / c->batch;
  int tty = progress && isatty(fileno(progress));
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int64_t b = 0; b < nBatches; ++b) {
    int64_t r0 = b * c->batch, nr = rows - r0 < c->batch ? rows - r0 : c->batch;
    qrt_array_t slice[16];
    for (int i = 0; i < numInputs; ++i) {
      slice[i] = inputs[i];
      slice[i].dims[0] = nr;
      slice[i].data = (char *)inputs[i].data + (size_t)r0 * c->rowBytes[i];
    }
    if (mlirLogicalResultIsFailure(qoCalibratorFeed(c, slice, numInputs, error))) return mlirLogicalResultFailure();
    if (!progress) continue;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (tty)
      fprintf(progress, "\rcalibrating: batch %lld/%lld (%lld rows, %.1f s)%s", (long long)(b + 1),
              (long long)nBatches, (long long)(r0 + nr), el, b + 1 == nBatches ? "\n" : "");
    else if ((b + 1) * 10 / nBatches != b * 10 / nBatches || b + 1 == nBatches)
      fprintf(progress, "calibrating: batch %lld/%lld (%lld rows, %.1f s)\n", (long long)(b + 1),
              (long long)nBatches, (long long)(r0 + nr), el);
  }
  return mlirLogicalResultSuccess();
}

MlirLogicalResult qoCalibrate(MlirModule qdq, const qrt_array_t *inputs, int numInputs,
                              const qrt_calib_config_t *cfg, int progress,
                              qrt_calib_table_t **table, char **error) {
  *table = NULL;
  qoCalibrator *c = qoCalibratorCreate(qdq, cfg, error);
  if (!c) return mlirLogicalResultFailure();
  MlirLogicalResult r = qoCalibratorFeedAll(c, inputs, numInputs, progress ? stderr : NULL, error);
  if (mlirLogicalResultIsSuccess(r)) r = qoCalibratorFinish(c, table, error);
  qoCalibratorDestroy(c);
  return r;
}

MlirLogicalResult qoApplyCalibration(MlirModule qdq, const qrt_calib_table_t *table,
                                     qrt_calib_method_t method, const char *tableName) {
  if (!table) return mlirLogicalResultFailure();
  return qoApplyCalibrationTable(mlirModuleGetOperation(qdq), table,
                                 tableName ? tableName : "<in memory>", method) == 0
             ? mlirLogicalResultSuccess()
             : mlirLogicalResultFailure();
}
