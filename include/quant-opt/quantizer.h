/* quant-opt's embedding API: quantize a float model in a few calls.
 *
 *   qoQuantizerOptions o;
 *   qoQuantizerOptionsInit(&o);                        // the driver's defaults
 *   qoQuantizer *q;
 *   if (qoQuantizerCreateFromFile("model.onnx", &o, &q) != QO_STATUS_OK) ...
 *   for (each calibration batch) qoQuantizerFeed(q, &batch, 1);   // streaming
 *   qoQuantizerQuantize(q);                            // table -> scales -> int8
 *   qoQuantizerEmit(q, QO_EMIT_SHARED, "model.so", "model.h");  // or qoQuantizerJit
 *   qoQuantizerDestroy(q);
 *
 * One error channel: every call returns a qoStatus, and on failure
 * qoQuantizerGetError() holds the diagnostics of that call, located
 * ("model.mlir:3:7: error: ..." or "model.onnx: node 'conv1': error: ..."),
 * one per line. Ownership is in the names, as in MLIR's C API: Create hands
 * an object to the caller, Destroy frees it (Destroy(NULL) is a no-op), Get
 * borrows. A quantizer owns its MLIR context (unless made with
 * qoQuantizerCreateForModule), so quantizers used by different threads are
 * independent; one quantizer must not be used by two threads at once. */
#ifndef QUANT_OPT_QUANTIZER_H
#define QUANT_OPT_QUANTIZER_H

#include "quant-opt/compiler.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qoStatus {
  QO_STATUS_OK = 0,
  QO_STATUS_INVALID_ARGUMENT, /* a bad option, a NULL where an object is needed */
  QO_STATUS_INVALID_MODEL,    /* the model does not parse, verify or import */
  QO_STATUS_INVALID_DATA,     /* calibration data or a table that does not fit the model */
  QO_STATUS_FAILED_PRECONDITION, /* a call out of order (no table to apply, ...) */
  QO_STATUS_COMPILE_FAILED,   /* a pass or the back end failed (see the diagnostics) */
  QO_STATUS_IO,               /* a file could not be read or written */
  QO_STATUS_OUT_OF_MEMORY,
} qoStatus;

/* "ok", "invalid argument", ... */
const char *qoStatusGetName(qoStatus s);

typedef struct qoQuantizerOptions {
  /* Import (ONNX). */
  int batch;                        /* value of symbolic batch dimensions; 0: 1 */
  const qoInputShape *inputShapes;  /* fixed input shapes (--input-shape) */
  size_t numInputShapes;
  const char *entry;                /* entry function; NULL: the first public one */
  /* What is quantized, and how: quant-insert-qdq's options as pipeline text
   * (e.g. "activation-scheme=symmetric exclude-nodes='/fc/Gemm'") and/or a
   * JSON config file (docs/quantization-config.md); NULL: defaults. */
  const char *qdqOptions;
  const char *configFile;
  /* Calibration: the method that turns statistics into ranges, and its
   * parameters (NULL: qrt_calib_config_init's defaults). */
  qrt_calib_method_t method;        /* default QRT_CALIB_MOVING_AVG */
  const qrt_calib_config_t *calibConfig;
  /* Code generation: quant-opt --kernels and --target-cpu (NULL: defaults). */
  const char *kernelOptions;
  const char *targetCPU;
  /* Pass remarks (quant-opt --remarks); NULL: none. */
  qoRemarkHandler remarks;
  void *remarkUserData;
} qoQuantizerOptions;

/* The defaults quant-opt uses: affine uint8 activations, per-channel int8
 * weights, moving-average calibration, kernels for every ISA, host CPU. */
void qoQuantizerOptionsInit(qoQuantizerOptions *o);

typedef struct qoQuantizer qoQuantizer;

/* Loads a float model (.onnx, or .mlir in TOSA) and prepares it: BatchNorm
 * folded, Q-DQ pairs on fusion-group boundaries. *out is set whenever it is
 * not QO_STATUS_OUT_OF_MEMORY, also on failure, so qoQuantizerGetError can
 * say why; destroy it in every case. `opts` NULL: defaults. */
qoStatus qoQuantizerCreateFromFile(const char *path, const qoQuantizerOptions *opts,
                                   qoQuantizer **out);

/* The same from ONNX bytes in memory; `displayName` names the model in
 * messages (NULL: "<memory>"). The bytes are borrowed for the call. */
qoStatus qoQuantizerCreateFromOnnx(const void *data, size_t size, const char *displayName,
                                   const qoQuantizerOptions *opts, qoQuantizer **out);

/* Wraps a module the caller already prepared (Q-DQ pairs inserted, e.g. by
 * quant-prepare), in the caller's context: the module and the context stay
 * the caller's, and diagnostics also reach the context's other handlers.
 * The quantizer must be destroyed before them. (quant-opt itself calibrates
 * this way after its -p pipeline.) */
qoStatus qoQuantizerCreateForModule(MlirModule module, const qoQuantizerOptions *opts,
                                    qoQuantizer **out);

void qoQuantizerDestroy(qoQuantizer *q);

/* The diagnostics of the last failed call ("" after a success). Borrowed:
 * valid until the next call on `q`. */
const char *qoQuantizerGetError(const qoQuantizer *q);

/* Borrowed views: the model's signature (inputs, outputs, the batch size in
 * dimension 0), its module and context, and the number of activation
 * quantization points the preparation inserted (0: nothing to calibrate). */
const qoSignature *qoQuantizerGetSignature(const qoQuantizer *q);
MlirModule qoQuantizerGetModule(const qoQuantizer *q);
MlirContext qoQuantizerGetContext(const qoQuantizer *q);
size_t qoQuantizerGetNumPoints(const qoQuantizer *q);

/* Feeds calibration rows: one array per model input, rows first, any number
 * of rows (they are run in batches of the model's batch size; memory stays
 * bounded by the observers and one batch). The arrays are borrowed for the
 * call. The first call compiles the calibration model (JIT). */
qoStatus qoQuantizerFeed(qoQuantizer *q, const qrt_array_t *inputs, int numInputs);

/* Feeds a whole calibration set batch by batch (as Feed), reporting progress
 * to `progress` (NULL: none); quant-opt --calibrate uses it. */
qoStatus qoQuantizerFeedAll(qoQuantizer *q, const qrt_array_t *inputs, int numInputs, FILE *progress);

/* The calibration table: finishes calibration if rows were fed, else the
 * table set or loaded earlier. Borrowed (valid until the table changes). */
qoStatus qoQuantizerGetTable(qoQuantizer *q, const qrt_calib_table_t **table);

/* Replaces the table by a copy of `table` (rows fed and not finished are
 * dropped): to re-use or edit a table without recalibrating. */
qoStatus qoQuantizerSetTable(qoQuantizer *q, const qrt_calib_table_t *table);

/* File conveniences for the above (docs/calibration-table.md). */
qoStatus qoQuantizerLoadTable(qoQuantizer *q, const char *path);
qoStatus qoQuantizerSaveTable(qoQuantizer *q, const char *path);

/* Writes the scales and zero points the options' method derives from the
 * table into the Q-DQ pairs (quant-apply-calibration). */
qoStatus qoQuantizerApplyCalibration(qoQuantizer *q);

/* Lowers the calibrated groups to integer arithmetic (quant-lower-int). */
qoStatus qoQuantizerLowerToInteger(qoQuantizer *q);

/* ApplyCalibration + LowerToInteger: the int8 model. */
qoStatus qoQuantizerQuantize(qoQuantizer *q);

typedef enum qoEmitKind { QO_EMIT_MLIR, QO_EMIT_LLVM, QO_EMIT_OBJECT, QO_EMIT_SHARED } qoEmitKind;

/* Writes the model as it stands (usually after Quantize): MLIR text, LLVM IR,
 * an object file, or a shared library with the model ABI plus, when
 * `headerPath` is not NULL, its C header. Outputs are written safely (see
 * support/output.h); the quantizer's module is not changed, so a model can
 * be emitted several times. */
qoStatus qoQuantizerEmit(qoQuantizer *q, qoEmitKind kind, const char *path, const char *headerPath);

/* JIT-compiles the model as it stands; the caller owns *jit
 * (qoJitDestroy), which must not outlive the quantizer. */
qoStatus qoQuantizerJit(qoQuantizer *q, qoJit **jit);

#ifdef __cplusplus
}
#endif
#endif /* QUANT_OPT_QUANTIZER_H */
