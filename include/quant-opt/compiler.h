/* quant-opt compiler library: the C API that quant-opt, qo-run and embedding
 * compilers use. Wraps the MLIR C API: context set-up (upstream dialects plus
 * the IRDL `qo` dialect), input loading (.mlir or .onnx), the textual pass
 * pipeline (quant-opt's own passes mixed with upstream ones), lowering to the
 * LLVM dialect, and the three back ends: JIT, object file, shared library.
 *
 * Ownership follows MLIR's C API: `Create` returns an object the caller
 * destroys; `Destroy(NULL)` is a no-op. Errors are reported as MLIR
 * diagnostics on the context (located, file:line:col) and as a failure
 * result; nothing here prints to stdout or calls exit(). */
#ifndef QUANT_OPT_COMPILER_H
#define QUANT_OPT_COMPILER_H

#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/Support.h"
#include "quant-opt/onnx.h"
#include "quant-opt/qrt_calib.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===------------------------------------------------------------------===*
 * Context and input
 *===------------------------------------------------------------------===*/

/* Creates a context with every upstream dialect registered, the `qo` dialect
 * loaded, and the LLVM IR translations registered. Threading is disabled
 * (the driver is single-threaded; passes may still be cloned). */
MlirContext qoContextCreate(void);

/* Destroys a context made by qoContextCreate (and the IRDL module that
 * defines its `qo` dialect). */
void qoContextDestroy(MlirContext ctx);

/* Loads the `qo` dialect (IRDL) into `ctx`. Idempotent. */
MlirLogicalResult qoLoadQoDialect(MlirContext ctx);

/* Installs a diagnostic handler printing "file:line:col: error: message"
 * (notes indented below) to `out`; locations named after an ONNX node print
 * as "<fallbackFile>: node 'name'". Returns the handler id. Counts errors
 * into *errorCount if non-NULL. */
MlirDiagnosticHandlerID qoAttachDiagnosticPrinter(MlirContext ctx, FILE *out,
                                                  const char *fallbackFile,
                                                  int *errorCount);

/* Loads a source file into a module: `.onnx` through the ONNX importer,
 * anything else (or "-" for stdin) as MLIR text. Diagnostics go to the
 * context's handlers; returns a null module on failure. */
MlirModule qoLoadSourceFile(MlirContext ctx, const char *path,
                            const qoOnnxImportOptions *onnxOpts);

/* Parses MLIR text; `bufferName` is used in locations. Null on failure. */
MlirModule qoParseSource(MlirContext ctx, const char *text, size_t length,
                         const char *bufferName);

/* Prints `loc` the way diagnostics do ("file:line:col" or "file: node 'n'"). */
void qoPrintLocation(FILE *out, MlirLocation loc, const char *fallbackFile);

/*===------------------------------------------------------------------===*
 * Per-context configuration
 *
 * Everything that configures a compilation besides the pipeline text belongs
 * to the context: threads that each own a context compile independently.
 * Do not change a context's configuration while a pass manager runs on it.
 *===------------------------------------------------------------------===*/

/* Receives pass remarks (decisions a pass reports, e.g. "BN folded into
 * conv"). */
typedef void (*qoRemarkHandler)(MlirLocation loc, const char *message, void *userData);

/* Installs `handler` for the remarks of passes running in `ctx`; NULL (the
 * default) disables them. `userData` is borrowed. */
void qoContextSetRemarkHandler(MlirContext ctx, qoRemarkHandler handler, void *userData);

/* The LLVM CPU that code emitted from `ctx` targets (qoEmit*,
 * qoTranslateToLLVMIR): NULL or "host" (the default) for the host CPU and all
 * its features, or a name like "x86-64-v3" for a portable baseline. Generated
 * kernels that need more (AVX-512 VNNI) carry their own target features and
 * run only when cpuid says so. The string is copied. Fails for a name that is
 * not [a-z0-9._-]+ (at most 63 characters). */
MlirLogicalResult qoContextSetTargetCPU(MlirContext ctx, const char *cpu);

/* The target CPU set for `ctx`, or NULL for the host. Borrowed. */
const char *qoContextGetTargetCPU(MlirContext ctx);

/* Options of the generated x86 kernels (quant-x86-kernels, inside
 * lower-to-llvm) for compilations in `ctx`: "isa=portable" (compile only that
 * kernel body), "isa=off" or "off", "fp32=false", "parallel-min-ops=-1",
 * comma-separated; NULL or "" restores the defaults (isa=auto, fp32=true,
 * parallel-min-ops=4000000). A pass option given in a pipeline
 * (quant-x86-kernels{isa=avx2}) overrides these. On a malformed string
 * returns failure and a malloc'd *error (error may be NULL). */
MlirLogicalResult qoContextSetKernelOptions(MlirContext ctx, const char *options, char **error);

/*===------------------------------------------------------------------===*
 * Passes and pipelines
 *===------------------------------------------------------------------===*/

/* Prints quant-opt's own passes with their options (the --list-passes and
 * --help text), generated from the pass table passes/Passes.def. */
void qoPrintPassList(FILE *out);

/* Number of passes in the table, and the argument of the i-th. */
size_t qoGetNumPasses(void);
const char *qoGetPassArgument(size_t i);

/* A named pipeline (e.g. "lower-to-llvm"): the textual pipeline it stands for. */
typedef struct qoNamedPipeline {
  const char *name;
  const char *summary;
  const char *pipeline; /* "builtin.module(...)" */
} qoNamedPipeline;

size_t qoGetNumNamedPipelines(void);
const qoNamedPipeline *qoGetNamedPipeline(size_t i);
const qoNamedPipeline *qoLookupNamedPipeline(const char *name);

/* Parses `pipeline` ("builtin.module(a,b{x=1},func.func(c))"), mixing
 * quant-opt passes and upstream ones, into `pm`. Named pipelines may appear
 * as elements too. On error returns failure and writes a malloc'd message
 * into *error (caller frees). */
MlirLogicalResult qoParsePassPipeline(MlirPassManager pm, const char *pipeline,
                                      char **error);

/*===------------------------------------------------------------------===*
 * Back ends
 *===------------------------------------------------------------------===*/

/* The textual pipeline that lowers float/int TOSA+linalg to the LLVM
 * dialect, with quant-opt's own decompositions first. */
const char *qoGetLowerToLLVMPipeline(void);

/* Lowers `module` in place with qoGetLowerToLLVMPipeline(). */
MlirLogicalResult qoLowerToLLVM(MlirModule module, char **error);

/* Describes one argument or result of a compiled entry point. */
typedef enum qoDType { QO_F32 = 0, QO_I8 = 1, QO_U8 = 2, QO_I32 = 3, QO_I64 = 4 } qoDType;

typedef struct qoTensorInfo {
  char name[128];
  qoDType dtype;
  int rank;
  int64_t dims[QO_MAX_RANK];
} qoTensorInfo;

typedef struct qoSignature {
  char funcName[128];
  int numInputs, numOutputs;
  qoTensorInfo inputs[16], outputs[16];
} qoSignature;

/* Reads the signature of `funcName` (NULL: the first public function) in a
 * tensor-level module (before lowering). Names come from the function's
 * qo.input_names / qo.output_names attributes, else "input0", "output0". */
MlirLogicalResult qoGetSignature(MlirModule module, const char *funcName,
                                 qoSignature *sig, char **error);

/* LLVM IR text (O3, host CPU) of a lowered module, malloc'd (caller frees);
 * NULL and *error on failure. */
char *qoTranslateToLLVMIR(MlirModule lowered, char **error);

/* Emits LLVM IR text for a lowered module to `path` ("-" for stdout). */
MlirLogicalResult qoEmitLLVMIR(MlirModule lowered, const char *path, char **error);

/* Emits a relocatable object for the target CPU (O3, PIC). */
MlirLogicalResult qoEmitObject(MlirModule lowered, const char *path, char **error);

/* Emits a shared library with the C ABI described in include/quant-opt/model_abi.h,
 * plus `headerPath` (may be NULL) describing it for `sig`. */
MlirLogicalResult qoEmitSharedLibrary(MlirModule lowered, const qoSignature *sig,
                                      const char *path, const char *headerPath,
                                      char **error);

/*===------------------------------------------------------------------===*
 * JIT
 *===------------------------------------------------------------------===*/

typedef struct qoJit qoJit;

/* JIT-compiles a lowered module (the module is borrowed for the call only).
 * Returns NULL and sets *error on failure. */
qoJit *qoJitCreate(MlirModule lowered, const qoSignature *sig, int optLevel,
                   char **error);

/* Runs the entry point: inputs[i] / outputs[i] point at dense row-major
 * buffers of the signature's shapes. */
int qoJitRun(qoJit *jit, const void *const *inputs, void *const *outputs);

void qoJitDestroy(qoJit *jit);

/* Makes `name` resolve to `ptr` in the JIT-compiled code (e.g. a callback);
 * call before the first qoJitRun. */
void qoJitRegisterSymbol(qoJit *jit, const char *name, void *ptr);

/*===------------------------------------------------------------------===*
 * Calibration
 *===------------------------------------------------------------------===*/

/* A streaming calibration session over the float model behind a Q-DQ
 * module: the module is cloned (not modified), instrumented and JIT-compiled
 * once; rows are then fed in any number of calls and run in batches of the
 * model's batch size (memory: the observers and one batch). Each calibrator
 * owns all its state; calibrators may run concurrently in different threads
 * (on different contexts). `cfg` NULL: defaults. Returns NULL and a malloc'd
 * *error on failure. */
typedef struct qoCalibrator qoCalibrator;
qoCalibrator *qoCalibratorCreate(MlirModule qdq, const qrt_calib_config_t *cfg, char **error);

/* Feeds rows: one array per model input (rows first, the remaining
 * dimensions and dtype of the model's input), the same number of rows in
 * each. The arrays are borrowed for the call. */
MlirLogicalResult qoCalibratorFeed(qoCalibrator *c, const qrt_array_t *inputs, int numInputs,
                                   char **error);

/* Feeds a whole set (one array per input, the same rows in each) in batches
 * of the model's batch size, reporting progress to `progress` (NULL: none)
 * as "calibrating: batch b/n (rows, seconds)". */
MlirLogicalResult qoCalibratorFeedAll(qoCalibrator *c, const qrt_array_t *inputs, int numInputs,
                                      FILE *progress, char **error);

/* Runs the last partial batch and returns a table with an entry per
 * activation quantization point in *table (caller destroys it with
 * qrt_calib_table_destroy). */
MlirLogicalResult qoCalibratorFinish(qoCalibrator *c, qrt_calib_table_t **table, char **error);

/* The model's batch size, the rows fed so far, and the instrumented model's
 * signature (borrowed). */
int64_t qoCalibratorGetBatchSize(const qoCalibrator *c);
int64_t qoCalibratorGetNumRows(const qoCalibrator *c);
const qoSignature *qoCalibratorGetSignature(const qoCalibrator *c);

void qoCalibratorDestroy(qoCalibrator *c);

/* Create + FeedAll (progress on stderr if `progress`) + Finish + Destroy. */
MlirLogicalResult qoCalibrate(MlirModule qdq, const qrt_array_t *inputs, int numInputs,
                              const qrt_calib_config_t *cfg, int progress,
                              qrt_calib_table_t **table, char **error);

/* Writes the scales and zero points that `method` derives from `table` into
 * the Q-DQ module (what the quant-apply-calibration pass does with a file).
 * Errors are diagnostics at the points' locations (`tableName` names the
 * table in them; NULL: "<in memory>"). */
MlirLogicalResult qoApplyCalibration(MlirModule qdq, const qrt_calib_table_t *table,
                                     qrt_calib_method_t method, const char *tableName);

#ifdef __cplusplus
}
#endif
#endif /* QUANT_OPT_COMPILER_H */
