/* The configuration of a compilation, owned by its MLIR context.
 *
 * Everything that steers a compilation besides the pipeline text -- the
 * target CPU, the generated kernels' options, the remark handler -- belongs
 * to one context (quant-opt/compiler.h: qoContextSet*), so threads that each
 * use their own context never see each other's settings. MLIR's C API cannot
 * hang user data on a context, so the configurations live in a small table
 * keyed by the context, guarded by a mutex; passes find theirs from the op
 * they run on. A context's configuration must not be changed while a pass
 * manager runs on it (as with any MLIR context state). */
#ifndef QO_PASSES_CONTEXTCONFIG_H
#define QO_PASSES_CONTEXTCONFIG_H

#include "mlir-c/IR.h"

typedef void (*qoRemarkHandler)(MlirLocation loc, const char *message, void *userData);

/* Options of the generated x86 kernels (quant-x86-kernels). */
typedef struct qoKernelConfig {
  int isa;               /* -1 auto (every body + run-time dispatch), -2 off, else a qrt_isa_t */
  int fp32;              /* also fp32 conv/matmul kernels */
  double parallelMinOps; /* OpenMP from this many operations; < 0: never */
} qoKernelConfig;

/* isa=auto, fp32=true, parallel-min-ops=4000000. */
void qoKernelConfigInitDefault(qoKernelConfig *k);

/* Applies "isa=avx2,fp32=false,parallel-min-ops=-1" (or "off") on top of *k.
 * Returns 0, or -1 and a malloc'd *error naming the bad option. */
int qoKernelConfigParse(qoKernelConfig *k, const char *text, char **error);

typedef struct qoContextConfig {
  char targetCPU[64]; /* "" = the host CPU with all its features */
  qoKernelConfig kernels;
  qoRemarkHandler remark;
  void *remarkUserData;
  MlirModule irdl;    /* the module defining the `qo` dialect in this context */
} qoContextConfig;

/* Creates the (default) configuration of `ctx`; NULL when out of memory. */
qoContextConfig *qoContextConfigCreate(MlirContext ctx);

/* The configuration of `ctx`; NULL for a context quant-opt did not create. */
qoContextConfig *qoContextConfigGet(MlirContext ctx);

/* Removes and frees the configuration of `ctx` (destroying its IRDL module). */
void qoContextConfigDestroy(MlirContext ctx);

#endif
