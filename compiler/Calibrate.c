/* Calibration: run the float model on a calibration set and gather the
 * statistics of every activation quantization point.
 *
 * The Q-DQ module is cloned, instrumented (quant-instrument-calibration: each
 * point becomes a call to qo_observe(id, tensor)), lowered and JIT-compiled;
 * the host provides _mlir_ciface_qo_observe, which feeds the calibration
 * runtime's observers (runtime/calib.c). Rows of the calibration set run in
 * batches of the model's batch size; in a zero-padded last batch only the real
 * rows are observed. The result is a calibration table. */
#include "quant-opt/compiler.h"

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

/* The session the JIT callback feeds (calibration is single-threaded). */
static struct Session {
  qrt_observer_t **obs; /* indexed by point id */
  int64_t numIds;
  int64_t batch, validRows;
  float *scratch;
  size_t scratchSize;
  int failed;
} *gSession;

static void observe(int64_t id, UnrankedMemRef *m) {
  struct Session *s = gSession;
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

MlirLogicalResult qoCalibrate(MlirModule qdq, const qrt_array_t *inputs, int numInputs,
                              const qrt_calib_config_t *cfg, int progress,
                              qrt_calib_table_t **table, char **error) {
  *table = NULL;
  MlirContext ctx = mlirModuleGetContext(qdq);
  /* The points: ids and names, from the Q-DQ module itself. */
  MlirOperation clone = mlirOperationClone(mlirModuleGetOperation(qdq));
  MlirModule m = mlirModuleFromOperation(clone);
  struct Session s = {0};
  qoJit *jit = NULL;
  qoSignature sig;
  MlirLogicalResult result = mlirLogicalResultFailure();
  char **names = NULL;
  MlirPassManager pm = mlirPassManagerCreateOnOperation(ctx, mlirStringRefCreateFromCString("builtin.module"));
  /* Collect points before instrumentation removes them. */
  typedef struct { int64_t id; char name[256]; } PointInfo;
  PointInfo *info = NULL;
  size_t nInfo = 0;
  {
    MlirOperation root = mlirModuleGetOperation(m);
    MlirBlock body = mlirModuleGetBody(m);
    (void)root;
    for (MlirOperation f = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(f);
         f = mlirOperationGetNextInBlock(f)) {
      MlirRegion r = mlirOperationGetRegion(f, 0);
      if (mlirOperationGetNumRegions(f) < 1) continue;
      MlirBlock b = mlirRegionGetFirstBlock(r);
      if (mlirBlockIsNull(b)) continue;
      for (MlirOperation op = mlirBlockGetFirstOperation(b); !mlirOperationIsNull(op);
           op = mlirOperationGetNextInBlock(op)) {
        MlirStringRef on = mlirIdentifierStr(mlirOperationGetName(op));
        if (on.length != 11 || memcmp(on.data, "quant.qcast", 11)) continue;
        MlirAttribute ida = mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("qo.id"));
        if (mlirAttributeIsNull(ida)) continue;
        PointInfo *ni = realloc(info, (nInfo + 1) * sizeof *ni);
        if (!ni) goto done;
        info = ni;
        info[nInfo].id = mlirIntegerAttrGetValueInt(ida);
        info[nInfo].name[0] = 0;
        MlirAttribute na = mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("qo.name"));
        if (!mlirAttributeIsNull(na)) {
          MlirStringRef sv = mlirStringAttrGetValue(na);
          snprintf(info[nInfo].name, sizeof info[nInfo].name, "%.*s", (int)sv.length, sv.data);
        }
        ++nInfo;
      }
    }
  }
  if (nInfo == 0) {
    *error = msgf("the module has no quantization points to calibrate (run quant-insert-qdq first)%s", "");
    goto done;
  }
  if (mlirLogicalResultIsFailure(qoParsePassPipeline(pm, "builtin.module(quant-instrument-calibration)", error)) ||
      mlirLogicalResultIsFailure(mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(m)))) {
    if (!*error) *error = msgf("instrumenting the model for calibration failed%s", "");
    goto done;
  }
  if (mlirLogicalResultIsFailure(qoGetSignature(m, NULL, &sig, error)) ||
      mlirLogicalResultIsFailure(qoLowerToLLVM(m, error)))
    goto done;
  /* The bufferization.access hint on qo_observe's argument has done its job;
   * LLVM translation would warn about it. */
  for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(m)); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op))
    mlirOperationRemoveAttributeByName(op, mlirStringRefCreateFromCString("arg_attrs"));
  if (sig.numInputs != numInputs) {
    char b[64];
    snprintf(b, sizeof b, "%d", sig.numInputs);
    *error = msgf("the model has %s input(s); give one calibration .npy per input", b);
    goto done;
  }
  int64_t batch = sig.inputs[0].rank ? sig.inputs[0].dims[0] : 1;
  int64_t rows = -1;
  size_t rowBytes[16];
  for (int i = 0; i < numInputs; ++i) {
    const qoTensorInfo *t = &sig.inputs[i];
    int ok = (int)inputs[i].dtype == (int)t->dtype && inputs[i].rank == t->rank && t->rank > 0;
    for (int d = 1; ok && d < t->rank; ++d) ok = inputs[i].dims[d] == t->dims[d];
    if (!ok || (rows >= 0 && inputs[i].dims[0] != rows)) {
      *error = msgf("calibration data for input '%s' does not match the model's input "
                    "(dtype, or shape after the batch dimension)", t->name);
      goto done;
    }
    rows = inputs[i].dims[0];
    rowBytes[i] = (size_t)(qrt_array_numel(&inputs[i]) / (rows ? rows : 1)) * qrt_dtype_size(inputs[i].dtype);
  }
  if (rows <= 0) {
    *error = msgf("the calibration set is empty%s", "");
    goto done;
  }
  jit = qoJitCreate(m, &sig, 3, error);
  if (!jit) goto done;
  qoJitRegisterSymbol(jit, "_mlir_ciface_qo_observe", (void *)(uintptr_t)observe);
  int64_t maxId = 0;
  for (size_t i = 0; i < nInfo; ++i)
    if (info[i].id > maxId) maxId = info[i].id;
  s.numIds = maxId + 1;
  s.obs = calloc((size_t)s.numIds, sizeof *s.obs);
  s.batch = batch;
  if (!s.obs) goto done;
  for (size_t i = 0; i < nInfo; ++i)
    if (info[i].id >= 0 && !s.obs[info[i].id] &&
        qrt_observer_create(cfg, &s.obs[info[i].id]) != QRT_OK) {
      *error = msgf("invalid calibration configuration%s", "");
      goto done;
    }
  void *inBuf[16] = {0}, *outBuf[16] = {0};
  int allocFailed = 0;
  for (int i = 0; i < numInputs; ++i)
    if (!(inBuf[i] = calloc((size_t)batch, rowBytes[i]))) allocFailed = 1;
  for (int i = 0; i < sig.numOutputs; ++i) {
    int64_t ne = 1;
    for (int d = 0; d < sig.outputs[i].rank; ++d) ne *= sig.outputs[i].dims[d];
    if (!(outBuf[i] = malloc((size_t)(ne ? ne : 1) * 8))) allocFailed = 1;
  }
  int64_t nBatches = (rows + batch - 1) / batch;
  int tty = isatty(2);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  gSession = &s;
  for (int64_t b = 0; b < nBatches && !allocFailed && !s.failed; ++b) {
    int64_t r0 = b * batch, nr = rows - r0 < batch ? rows - r0 : batch;
    for (int i = 0; i < numInputs; ++i) {
      memset(inBuf[i], 0, (size_t)batch * rowBytes[i]);
      memcpy(inBuf[i], (char *)inputs[i].data + (size_t)r0 * rowBytes[i], (size_t)nr * rowBytes[i]);
    }
    s.validRows = nr;
    if (qoJitRun(jit, (const void *const *)inBuf, outBuf) != 0) s.failed = 1;
    if (progress) {
      struct timespec t1;
      clock_gettime(CLOCK_MONOTONIC, &t1);
      double el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
      if (tty)
        fprintf(stderr, "\rcalibrating: batch %lld/%lld (%lld rows, %.1f s)%s", (long long)(b + 1),
                (long long)nBatches, (long long)(r0 + nr), el, b + 1 == nBatches ? "\n" : "");
      else if ((b + 1) * 10 / nBatches != b * 10 / nBatches || b + 1 == nBatches)
        fprintf(stderr, "calibrating: batch %lld/%lld (%lld rows, %.1f s)\n", (long long)(b + 1),
                (long long)nBatches, (long long)(r0 + nr), el);
    }
  }
  gSession = NULL;
  for (int i = 0; i < 16; ++i) free(inBuf[i]), free(outBuf[i]);
  if (allocFailed || s.failed) {
    *error = msgf("running the calibration model failed%s", "");
    goto done;
  }
  if (qrt_calib_table_create(cfg, table) != QRT_OK) goto done;
  for (size_t i = 0; i < nInfo; ++i) {
    if (qrt_calib_table_find(*table, info[i].id)) continue;
    if (qrt_calib_table_add_observer(*table, info[i].id, info[i].name, s.obs[info[i].id]) != QRT_OK) {
      *error = msgf("cannot compute the ranges of point '%s'", info[i].name);
      qrt_calib_table_destroy(*table);
      *table = NULL;
      goto done;
    }
  }
  result = mlirLogicalResultSuccess();
done:
  gSession = NULL;
  for (int64_t i = 0; s.obs && i < s.numIds; ++i) qrt_observer_destroy(s.obs[i]);
  free(s.obs);
  free(s.scratch);
  free(info);
  free(names);
  qoJitDestroy(jit);
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(m);
  return result;
}
