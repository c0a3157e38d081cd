/* JIT execution through MLIR's ExecutionEngine.
 *
 * The lowered entry point has the C interface
 *   void _mlir_ciface_<f>(memref_desc *in0, ..., memref_desc *out0, ...)
 * (results became out-parameters during lowering). We build one strided
 * memref descriptor per buffer and call it with InvokePacked.
 *
 * MLIR's ExecutionEngine (as Debian builds it) attaches LLVM's perf JIT
 * listener, which writes a jitdump file of every JIT-compiled function into
 * $JITDUMPDIR/.debug/jit (default: the temporary folder) and leaves it
 * there: megabytes per process, written on every run. Unless the user set
 * JITDUMPDIR (they want those dumps), the first JIT of the process makes the
 * listener (a process-wide singleton) start with a folder it cannot create,
 * so it stays inert; the one line it prints about that is discarded. */
#include "quant-opt/compiler.h"
#include "quant-opt/qrt_cpu.h"

#include "mlir-c/ExecutionEngine.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* runtime/memref.c */
void memrefCopy(int64_t elemSize, void *src, void *dst);
void *_mlir_memref_to_llvm_alloc(size_t size);
void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size);
void _mlir_memref_to_llvm_free(void *ptr);

static MlirContext gQuietCtx;
static pthread_once_t gQuietOnce = PTHREAD_ONCE_INIT;

/* Runs once per process, before the first real engine (see above). */
static void quietPerfListener(void) {
  if (getenv("JITDUMPDIR")) return;
  setenv("JITDUMPDIR", "/dev/null", 1); /* /dev/null/.debug cannot be created */
  fflush(stderr);
  int saved = dup(2), devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (saved >= 0 && devnull >= 0) dup2(devnull, 2);
  MlirModule empty = mlirModuleCreateEmpty(mlirLocationUnknownGet(gQuietCtx));
  MlirExecutionEngine ee = mlirExecutionEngineCreate(empty, 0, 0, NULL, false, false);
  if (!mlirExecutionEngineIsNull(ee)) mlirExecutionEngineDestroy(ee);
  mlirModuleDestroy(empty);
  if (saved >= 0 && devnull >= 0) dup2(saved, 2);
  if (saved >= 0) close(saved);
  if (devnull >= 0) close(devnull);
  unsetenv("JITDUMPDIR");
}

struct qoJit {
  MlirExecutionEngine ee;
  qoSignature sig;
};

qoJit *qoJitCreate(MlirModule lowered, const qoSignature *sig, int optLevel,
                   char **error) {
  qoJit *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->sig = *sig;
  gQuietCtx = mlirModuleGetContext(lowered);
  pthread_once(&gQuietOnce, quietPerfListener);
  /* The generated kernels' threads call into LLVM's OpenMP runtime. */
  MlirStringRef libs[1] = {mlirStringRefCreateFromCString(QO_LIBOMP_PATH)};
  j->ee = mlirExecutionEngineCreate(lowered, optLevel, 1, libs, false, false);
  if (mlirExecutionEngineIsNull(j->ee)) {
    if (error) *error = strdup("JIT compilation failed (is the module lowered to the LLVM dialect?)");
    free(j);
    return NULL;
  }
  mlirExecutionEngineRegisterSymbol(j->ee, mlirStringRefCreateFromCString("memrefCopy"),
                                    (void *)(uintptr_t)memrefCopy);
  mlirExecutionEngineRegisterSymbol(j->ee, mlirStringRefCreateFromCString("_mlir_memref_to_llvm_alloc"),
                                    (void *)(uintptr_t)_mlir_memref_to_llvm_alloc);
  mlirExecutionEngineRegisterSymbol(j->ee,
                                    mlirStringRefCreateFromCString("_mlir_memref_to_llvm_aligned_alloc"),
                                    (void *)(uintptr_t)_mlir_memref_to_llvm_aligned_alloc);
  mlirExecutionEngineRegisterSymbol(j->ee, mlirStringRefCreateFromCString("_mlir_memref_to_llvm_free"),
                                    (void *)(uintptr_t)_mlir_memref_to_llvm_free);
  /* The kernels' ISA selection (runtime/cpu.c), shared with the calibration runtime. */
  mlirExecutionEngineRegisterSymbol(j->ee, mlirStringRefCreateFromCString("qrt_kernel_isa"),
                                    (void *)(uintptr_t)qrt_kernel_isa);
  return j;
}

/* Fills a rank-r descriptor {alloc, align, offset, sizes[r], strides[r]}. */
static void fillDesc(int64_t *d, void *data, const qoTensorInfo *t) {
  memcpy(&d[0], &data, sizeof data);
  memcpy(&d[1], &data, sizeof data);
  d[2] = 0;
  int64_t stride = 1;
  for (int i = t->rank - 1; i >= 0; --i) {
    d[3 + i] = t->dims[i];
    d[3 + t->rank + i] = stride;
    stride *= t->dims[i];
  }
}

int qoJitRun(qoJit *j, const void *const *inputs, void *const *outputs) {
  if (!j) return -1;
  int n = j->sig.numInputs + j->sig.numOutputs;
  int64_t descs[32][3 + 2 * QO_MAX_RANK];
  void *descPtrs[32];
  void *args[32];
  for (int i = 0; i < n; ++i) {
    int isIn = i < j->sig.numInputs;
    const qoTensorInfo *t = isIn ? &j->sig.inputs[i] : &j->sig.outputs[i - j->sig.numInputs];
    void *data = isIn ? (void *)(uintptr_t)inputs[i] : outputs[i - j->sig.numInputs];
    fillDesc(descs[i], data, t);
    descPtrs[i] = descs[i];
    args[i] = &descPtrs[i];
  }
  MlirLogicalResult r = mlirExecutionEngineInvokePacked(
      j->ee, mlirStringRefCreateFromCString(j->sig.funcName), args);
  return mlirLogicalResultIsSuccess(r) ? 0 : -1;
}

void qoJitRegisterSymbol(qoJit *j, const char *name, void *ptr) {
  if (j) mlirExecutionEngineRegisterSymbol(j->ee, mlirStringRefCreateFromCString(name), ptr);
}

void qoJitDestroy(qoJit *j) {
  if (!j) return;
  mlirExecutionEngineDestroy(j->ee);
  free(j);
}
