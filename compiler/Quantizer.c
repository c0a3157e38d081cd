/* The embedding API (quant-opt/quantizer.h): a quantizer object on top of
 * the compiler library's calls, so a framework needs no copy of the driver.
 *
 * A quantizer holds one module at tensor level through its life:
 *   float model --prepare--> Q-DQ --(Feed..., GetTable | SetTable)-->
 *   --ApplyCalibration--> calibrated Q-DQ --LowerToInteger--> int8
 * and lowers a clone of it whenever it emits or JIT-compiles, so the model
 * can be emitted many times. Diagnostics of the quantizer's context go to a
 * text buffer that each call clears first: qoQuantizerGetError. */
#include "quant-opt/quantizer.h"
#include "compiler/Internal.h"
#include "support/output.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct qoQuantizer {
  MlirContext ctx;
  MlirModule module;
  int ownsContext; /* created from a file or bytes: ctx and module are ours */
  MlirDiagnosticHandlerID handler;
  qoBuf diag;      /* diagnostics of the current call */
  int errors;      /* errors among them */
  char *name;      /* the model's name in messages */
  char *entry;     /* the entry function asked for, or NULL */
  qoQuantizerOptions opts;
  qrt_calib_config_t calibConfig;
  qoSignature sig;
  size_t numPoints;
  qoCalibrator *calibrator;
  qrt_calib_table_t *table;
};

const char *qoStatusGetName(qoStatus s) {
  switch (s) {
  case QO_STATUS_OK: return "ok";
  case QO_STATUS_INVALID_ARGUMENT: return "invalid argument";
  case QO_STATUS_INVALID_MODEL: return "invalid model";
  case QO_STATUS_INVALID_DATA: return "invalid data";
  case QO_STATUS_FAILED_PRECONDITION: return "failed precondition";
  case QO_STATUS_COMPILE_FAILED: return "compilation failed";
  case QO_STATUS_IO: return "I/O error";
  case QO_STATUS_OUT_OF_MEMORY: return "out of memory";
  }
  return "unknown status";
}

void qoQuantizerOptionsInit(qoQuantizerOptions *o) {
  memset(o, 0, sizeof *o);
  o->method = QRT_CALIB_MOVING_AVG;
}

/* Starts a call: clears the previous call's diagnostics. */
static void begin(qoQuantizer *q) {
  q->diag.len = 0;
  if (q->diag.data) q->diag.data[0] = 0;
  q->errors = 0;
}

/* Records `status` with a message: as an error diagnostic of the context
 * when there is one (so a caller's own handlers see it too), else directly. */
static qoStatus failf(qoQuantizer *q, qoStatus status, const char *fmt, ...) QO_PRINTF(3, 4);
static qoStatus failf(qoQuantizer *q, qoStatus status, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!mlirContextIsNull(q->ctx) && q->handler)
    mlirEmitError(mlirLocationUnknownGet(q->ctx), msg);
  else
    qoBufPrintf(&q->diag, "%s: error: %s\n", q->name ? q->name : "<model>", msg);
  return status;
}

/* A failure reported through a malloc'd message (the lower layers' style). */
static qoStatus failMsg(qoQuantizer *q, qoStatus status, char *msg, const char *what) {
  failf(q, status, "%s", msg ? msg : what);
  free(msg);
  return status;
}

const char *qoQuantizerGetError(const qoQuantizer *q) {
  return q && q->diag.data ? q->diag.data : "";
}

const qoSignature *qoQuantizerGetSignature(const qoQuantizer *q) { return q ? &q->sig : NULL; }
MlirModule qoQuantizerGetModule(const qoQuantizer *q) { return q ? q->module : (MlirModule){NULL}; }
MlirContext qoQuantizerGetContext(const qoQuantizer *q) { return q ? q->ctx : (MlirContext){NULL}; }
size_t qoQuantizerGetNumPoints(const qoQuantizer *q) { return q ? q->numPoints : 0; }

/* Counts the activation quantization points (quant.qcast with qo.id). */
static void countPoints(MlirOperation op, void *ud) {
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  if (n.length == 11 && !memcmp(n.data, "quant.qcast", 11) &&
      !mlirAttributeIsNull(mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("qo.id"))))
    ++*(size_t *)ud;
}

static void walk(MlirOperation op, void (*fn)(MlirOperation, void *), void *ud) {
  fn(op, ud);
  for (intptr_t r = 0; r < mlirOperationGetNumRegions(op); ++r)
    for (MlirBlock b = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, r)); !mlirBlockIsNull(b);
         b = mlirBlockGetNextInRegion(b))
      for (MlirOperation o = mlirBlockGetFirstOperation(b); !mlirOperationIsNull(o); o = mlirOperationGetNextInBlock(o))
        walk(o, fn, ud);
}

static qoStatus refresh(qoQuantizer *q) {
  char *err = NULL;
  q->numPoints = 0;
  walk(mlirModuleGetOperation(q->module), countPoints, &q->numPoints);
  if (mlirLogicalResultIsFailure(qoGetSignature(q->module, q->entry, &q->sig, &err)))
    return failMsg(q, QO_STATUS_INVALID_MODEL, err, "no entry function");
  return QO_STATUS_OK;
}

/* Runs a pipeline on the module; failures are in the diagnostics. */
static qoStatus runPipeline(qoQuantizer *q, const char *pipeline) {
  MlirPassManager pm = mlirPassManagerCreateOnOperation(q->ctx, mlirStringRefCreateFromCString("builtin.module"));
  char *err = NULL;
  qoStatus st = QO_STATUS_OK;
  if (mlirLogicalResultIsFailure(qoParsePassPipeline(pm, pipeline, &err)))
    st = failMsg(q, QO_STATUS_INVALID_ARGUMENT, err, "invalid pipeline");
  else if (mlirLogicalResultIsFailure(mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(q->module))))
    st = q->errors ? QO_STATUS_COMPILE_FAILED : failf(q, QO_STATUS_COMPILE_FAILED, "'%s' failed", pipeline);
  mlirPassManagerDestroy(pm);
  return st;
}

/* BatchNorm folding and Q-DQ insertion with the options' scheme. */
static qoStatus prepare(qoQuantizer *q) {
  const char *cfg = q->opts.configFile, *extra = q->opts.qdqOptions;
  if ((cfg && strpbrk(cfg, "'\"{}")) || (extra && strpbrk(extra, "{}")))
    return failf(q, QO_STATUS_INVALID_ARGUMENT, "quantization options may not contain quotes or braces here");
  qoBuf p = {0};
  qoBufPrintf(&p, "builtin.module(func.func(quant-fold-batchnorm,quant-insert-qdq{");
  if (cfg && *cfg) qoBufPrintf(&p, "config='%s' ", cfg);
  if (extra) qoBufAppend(&p, extra);
  qoBufAppend(&p, "}))");
  char *text = qoBufTake(&p);
  if (!text) return QO_STATUS_OUT_OF_MEMORY;
  qoStatus st = runPipeline(q, text);
  free(text);
  return st;
}

static qoQuantizer *newQuantizer(const qoQuantizerOptions *opts, const char *name) {
  qoQuantizer *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  if (opts) q->opts = *opts;
  else qoQuantizerOptionsInit(&q->opts);
  q->opts.entry = NULL; /* the caller's string: kept as q->entry */
  if (opts && opts->entry && !(q->entry = strdup(opts->entry))) {
    free(q);
    return NULL;
  }
  if (opts && opts->calibConfig) q->calibConfig = *opts->calibConfig;
  else qrt_calib_config_init(&q->calibConfig);
  q->name = strdup(name ? name : "<model>");
  qoBufAppend(&q->diag, "");
  if (!q->name || q->diag.failed) {
    free(q->name);
    free(q->entry);
    qoBufFree(&q->diag);
    free(q);
    return NULL;
  }
  return q;
}

/* The context's configuration from the options. */
static qoStatus configure(qoQuantizer *q, const qoQuantizerOptions *o) {
  if (!o) return QO_STATUS_OK;
  if ((unsigned)o->method >= QRT_CALIB_METHOD_COUNT)
    return failf(q, QO_STATUS_INVALID_ARGUMENT, "unknown calibration method %d", (int)o->method);
  char msg[256];
  if (qrt_calib_config_validate(&q->calibConfig, msg, sizeof msg) != QRT_OK)
    return failf(q, QO_STATUS_INVALID_ARGUMENT, "calibration parameters: %s", msg);
  if (mlirLogicalResultIsFailure(qoContextSetTargetCPU(q->ctx, o->targetCPU)))
    return failf(q, QO_STATUS_INVALID_ARGUMENT, "bad target CPU '%s'", o->targetCPU);
  char *err = NULL;
  if (mlirLogicalResultIsFailure(qoContextSetKernelOptions(q->ctx, o->kernelOptions, &err)))
    return failMsg(q, QO_STATUS_INVALID_ARGUMENT, err, "bad kernel options");
  if (o->remarks) qoContextSetRemarkHandler(q->ctx, o->remarks, o->remarkUserData);
  return QO_STATUS_OK;
}

/* Shared tail of the two owning constructors: context made, `load` fills
 * q->module. */
static qoStatus createOwned(qoQuantizer *q, const qoQuantizerOptions *opts, const char *path,
                            const void *data, size_t size) {
  q->ownsContext = 1;
  q->ctx = qoContextCreate();
  if (mlirContextIsNull(q->ctx)) return failf(q, QO_STATUS_OUT_OF_MEMORY, "cannot create an MLIR context");
  q->handler = qoAttachDiagnosticCollector(q->ctx, &q->diag, q->name, &q->errors, 0);
  qoStatus st = configure(q, opts);
  if (st) return st;
  qoOnnxImportOptions io = {0};
  if (opts) io = (qoOnnxImportOptions){opts->inputShapes, opts->numInputShapes, opts->entry, opts->batch};
  if (path) {
    q->module = qoLoadSourceFile(q->ctx, path, &io);
  } else {
    char *err = NULL;
    char *text = qoOnnxImportBufferToText(data, size, q->name, &io, &err);
    if (!text) {
      /* "name: error: what" -> the collector's form */
      const char *m = err ? strstr(err, ": error: ") : NULL;
      failf(q, QO_STATUS_INVALID_MODEL, "%s", m ? m + 9 : err ? err : "ONNX import failed");
      free(err);
      return QO_STATUS_INVALID_MODEL;
    }
    q->module = qoParseSource(q->ctx, text, strlen(text), q->name);
    free(text);
  }
  if (mlirModuleIsNull(q->module) || !mlirOperationVerify(mlirModuleGetOperation(q->module)))
    return q->errors ? QO_STATUS_INVALID_MODEL : failf(q, QO_STATUS_INVALID_MODEL, "the model does not load");
  st = refresh(q);
  if (!st) st = prepare(q);
  if (!st) st = refresh(q);
  return st;
}

qoStatus qoQuantizerCreateFromFile(const char *path, const qoQuantizerOptions *opts, qoQuantizer **out) {
  *out = NULL;
  qoQuantizer *q = newQuantizer(opts, path);
  if (!q) return QO_STATUS_OUT_OF_MEMORY;
  *out = q;
  if (!path) return failf(q, QO_STATUS_INVALID_ARGUMENT, "no model path");
  return createOwned(q, opts, path, NULL, 0);
}

qoStatus qoQuantizerCreateFromOnnx(const void *data, size_t size, const char *displayName,
                                   const qoQuantizerOptions *opts, qoQuantizer **out) {
  *out = NULL;
  qoQuantizer *q = newQuantizer(opts, displayName ? displayName : "<memory>");
  if (!q) return QO_STATUS_OUT_OF_MEMORY;
  *out = q;
  if (!data && size) return failf(q, QO_STATUS_INVALID_ARGUMENT, "no model bytes");
  return createOwned(q, opts, NULL, data ? data : "", size);
}

qoStatus qoQuantizerCreateForModule(MlirModule module, const qoQuantizerOptions *opts, qoQuantizer **out) {
  *out = NULL;
  qoQuantizer *q = newQuantizer(opts, "<module>");
  if (!q) return QO_STATUS_OUT_OF_MEMORY;
  *out = q;
  if (mlirModuleIsNull(module)) return failf(q, QO_STATUS_INVALID_ARGUMENT, "null module");
  q->ctx = mlirModuleGetContext(module);
  q->module = module;
  /* Diagnostics reach the caller's handlers too. The context's kernel and
   * target configuration stay the caller's. */
  q->handler = qoAttachDiagnosticCollector(q->ctx, &q->diag, q->name, &q->errors, 1);
  if (opts && (unsigned)opts->method >= QRT_CALIB_METHOD_COUNT)
    return failf(q, QO_STATUS_INVALID_ARGUMENT, "unknown calibration method %d", (int)opts->method);
  char msg[256];
  if (qrt_calib_config_validate(&q->calibConfig, msg, sizeof msg) != QRT_OK)
    return failf(q, QO_STATUS_INVALID_ARGUMENT, "calibration parameters: %s", msg);
  return refresh(q);
}

void qoQuantizerDestroy(qoQuantizer *q) {
  if (!q) return;
  qoCalibratorDestroy(q->calibrator);
  qrt_calib_table_destroy(q->table);
  if (!mlirContextIsNull(q->ctx) && q->handler) mlirContextDetachDiagnosticHandler(q->ctx, q->handler);
  if (q->ownsContext) {
    if (!mlirModuleIsNull(q->module)) mlirModuleDestroy(q->module);
    qoContextDestroy(q->ctx);
  }
  qoBufFree(&q->diag);
  free(q->name);
  free(q->entry);
  free(q);
}

/* Creates the calibrator on first use. */
static qoStatus calibrator(qoQuantizer *q) {
  if (q->calibrator) return QO_STATUS_OK;
  if (q->numPoints == 0)
    return failf(q, QO_STATUS_FAILED_PRECONDITION,
                 "calibration failed: the module has no quantization points to calibrate (run "
                 "quant-insert-qdq first)");
  char *err = NULL;
  q->calibrator = qoCalibratorCreate(q->module, &q->calibConfig, &err);
  if (q->calibrator) return QO_STATUS_OK;
  failf(q, QO_STATUS_COMPILE_FAILED, "calibration failed: %s", err ? err : "cannot compile the calibration model");
  free(err);
  return QO_STATUS_COMPILE_FAILED;
}

static qoStatus feed(qoQuantizer *q, const qrt_array_t *inputs, int numInputs, int all, FILE *progress) {
  if (!q) return QO_STATUS_INVALID_ARGUMENT;
  begin(q);
  if (!inputs && numInputs) return failf(q, QO_STATUS_INVALID_ARGUMENT, "no input arrays");
  qoStatus st = calibrator(q);
  if (st) return st;
  char *err = NULL;
  MlirLogicalResult r = all ? qoCalibratorFeedAll(q->calibrator, inputs, numInputs, progress, &err)
                            : qoCalibratorFeed(q->calibrator, inputs, numInputs, &err);
  if (mlirLogicalResultIsFailure(r)) {
    failf(q, QO_STATUS_INVALID_DATA, "calibration failed: %s", err ? err : "?");
    free(err);
    return QO_STATUS_INVALID_DATA;
  }
  return QO_STATUS_OK;
}

qoStatus qoQuantizerFeed(qoQuantizer *q, const qrt_array_t *inputs, int numInputs) {
  return feed(q, inputs, numInputs, 0, NULL);
}

qoStatus qoQuantizerFeedAll(qoQuantizer *q, const qrt_array_t *inputs, int numInputs, FILE *progress) {
  return feed(q, inputs, numInputs, 1, progress);
}

/* Makes q->table current: finishes a calibration in progress. */
static qoStatus finishTable(qoQuantizer *q) {
  if (q->calibrator) {
    qrt_calib_table_t *t = NULL;
    char *err = NULL;
    MlirLogicalResult r = qoCalibratorFinish(q->calibrator, &t, &err);
    qoCalibratorDestroy(q->calibrator);
    q->calibrator = NULL;
    if (mlirLogicalResultIsFailure(r)) {
      failf(q, QO_STATUS_INVALID_DATA, "calibration failed: %s", err ? err : "?");
      free(err);
      return QO_STATUS_INVALID_DATA;
    }
    qrt_calib_table_destroy(q->table);
    q->table = t;
  }
  if (!q->table)
    return failf(q, QO_STATUS_FAILED_PRECONDITION,
                 "no calibration table: feed calibration rows or set or load a table first");
  return QO_STATUS_OK;
}

qoStatus qoQuantizerGetTable(qoQuantizer *q, const qrt_calib_table_t **table) {
  if (!q || !table) return QO_STATUS_INVALID_ARGUMENT;
  begin(q);
  *table = NULL;
  qoStatus st = finishTable(q);
  if (!st) *table = q->table;
  return st;
}

/* A copy of `t` (the table API has no clone: rebuild it entry by entry). */
static qrt_calib_table_t *copyTable(const qrt_calib_table_t *t) {
  qrt_calib_table_t *c = NULL;
  if (qrt_calib_table_create(qrt_calib_table_config(t), &c) != QRT_OK) return NULL;
  for (size_t i = 0; i < qrt_calib_table_size(t); ++i)
    if (qrt_calib_table_add(c, qrt_calib_table_get(t, i)) != QRT_OK) {
      qrt_calib_table_destroy(c);
      return NULL;
    }
  return c;
}

static void replaceTable(qoQuantizer *q, qrt_calib_table_t *t) {
  qoCalibratorDestroy(q->calibrator);
  q->calibrator = NULL;
  qrt_calib_table_destroy(q->table);
  q->table = t;
}

qoStatus qoQuantizerSetTable(qoQuantizer *q, const qrt_calib_table_t *table) {
  if (!q || !table) return QO_STATUS_INVALID_ARGUMENT;
  begin(q);
  qrt_calib_table_t *c = copyTable(table);
  if (!c) return failf(q, QO_STATUS_INVALID_DATA, "the table cannot be copied (bad entries?)");
  replaceTable(q, c);
  return QO_STATUS_OK;
}

qoStatus qoQuantizerLoadTable(qoQuantizer *q, const char *path) {
  if (!q || !path) return QO_STATUS_INVALID_ARGUMENT;
  begin(q);
  char msg[1024];
  qrt_calib_table_t *t = NULL;
  qrt_status_t s = qrt_calib_table_read(path, &t, msg, sizeof msg);
  if (s != QRT_OK) return failf(q, s == QRT_ERR_IO ? QO_STATUS_IO : QO_STATUS_INVALID_DATA, "%s", msg);
  replaceTable(q, t);
  return QO_STATUS_OK;
}

qoStatus qoQuantizerSaveTable(qoQuantizer *q, const char *path) {
  if (!q || !path) return QO_STATUS_INVALID_ARGUMENT;
  begin(q);
  qoStatus st = finishTable(q);
  if (st) return st;
  char msg[1300];
  if (qrt_calib_table_write(q->table, path, msg, sizeof msg) != QRT_OK) return failf(q, QO_STATUS_IO, "%s", msg);
  return QO_STATUS_OK;
}

qoStatus qoQuantizerApplyCalibration(qoQuantizer *q) {
  if (!q) return QO_STATUS_INVALID_ARGUMENT;
  begin(q);
  if (q->numPoints == 0) return QO_STATUS_OK; /* nothing was quantized: nothing to apply */
  qoStatus st = finishTable(q);
  if (st) return st;
  if (mlirLogicalResultIsFailure(qoApplyCalibration(q->module, q->table, q->opts.method, NULL)))
    return q->errors ? QO_STATUS_INVALID_DATA : failf(q, QO_STATUS_INVALID_DATA, "the table does not fit the model");
  return refresh(q);
}

qoStatus qoQuantizerLowerToInteger(qoQuantizer *q) {
  if (!q) return QO_STATUS_INVALID_ARGUMENT;
  begin(q);
  qoStatus st = runPipeline(q, "quant-lower-int");
  return st ? st : refresh(q);
}

qoStatus qoQuantizerQuantize(qoQuantizer *q) {
  qoStatus st = qoQuantizerApplyCalibration(q);
  return st ? st : qoQuantizerLowerToInteger(q);
}

/* A clone of the module lowered to the LLVM dialect (caller destroys it). */
static qoStatus lowered(qoQuantizer *q, MlirModule *out) {
  *out = mlirModuleFromOperation(mlirOperationClone(mlirModuleGetOperation(q->module)));
  if (mlirModuleIsNull(*out)) return failf(q, QO_STATUS_OUT_OF_MEMORY, "cannot copy the module");
  char *err = NULL;
  if (mlirLogicalResultIsFailure(qoLowerToLLVM(*out, &err))) {
    mlirModuleDestroy(*out);
    *out = (MlirModule){NULL};
    return failMsg(q, QO_STATUS_COMPILE_FAILED, err, "lowering failed");
  }
  return QO_STATUS_OK;
}

static void appendText(MlirStringRef s, void *ud) { qoBufAppendN(ud, s.data, s.length); }

qoStatus qoQuantizerEmit(qoQuantizer *q, qoEmitKind kind, const char *path, const char *headerPath) {
  if (!q || !path) return QO_STATUS_INVALID_ARGUMENT;
  begin(q);
  if (kind == QO_EMIT_MLIR) {
    qoBuf text = {0};
    mlirOperationPrint(mlirModuleGetOperation(q->module), appendText, &text);
    qoBufAppend(&text, "\n");
    char err[1200];
    int rc = text.failed ? -1 : qoWriteFile(path, text.data, text.len, err, sizeof err);
    qoBufFree(&text);
    if (rc) return failf(q, QO_STATUS_IO, "%s", text.failed ? "out of memory" : err);
    return QO_STATUS_OK;
  }
  if (kind != QO_EMIT_LLVM && kind != QO_EMIT_OBJECT && kind != QO_EMIT_SHARED)
    return failf(q, QO_STATUS_INVALID_ARGUMENT, "unknown emit kind %d", (int)kind);
  MlirModule m;
  qoStatus st = lowered(q, &m);
  if (st) return st;
  char *err = NULL;
  MlirLogicalResult r = kind == QO_EMIT_LLVM     ? qoEmitLLVMIR(m, path, &err)
                        : kind == QO_EMIT_OBJECT ? qoEmitObject(m, path, &err)
                                                 : qoEmitSharedLibrary(m, &q->sig, path, headerPath, &err);
  mlirModuleDestroy(m);
  if (mlirLogicalResultIsFailure(r)) return failMsg(q, QO_STATUS_IO, err, "emission failed");
  return QO_STATUS_OK;
}

qoStatus qoQuantizerJit(qoQuantizer *q, qoJit **jit) {
  if (!q || !jit) return QO_STATUS_INVALID_ARGUMENT;
  begin(q);
  *jit = NULL;
  MlirModule m;
  qoStatus st = lowered(q, &m);
  if (st) return st;
  char *err = NULL;
  *jit = qoJitCreate(m, &q->sig, 3, &err);
  mlirModuleDestroy(m);
  if (!*jit) return failMsg(q, QO_STATUS_COMPILE_FAILED, err, "JIT compilation failed");
  return QO_STATUS_OK;
}
