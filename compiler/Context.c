/* Context set-up, per-context configuration, and diagnostics printing.
 *
 * A quant-opt context has every upstream dialect registered (TOSA, linalg,
 * quant, ...), the LLVM IR translations registered, and the project's `qo`
 * dialect loaded from its IRDL definition (embedded from dialect/qo.irdl.mlir).
 * Its configuration (target CPU, kernel options, remark handler, and the IRDL
 * module, which must outlive the dialect's use) lives in the context's entry
 * of passes/ContextConfig.c and dies with qoContextDestroy. */
#include "quant-opt/compiler.h"
#include "passes/ContextConfig.h"

#include "mlir-c/Dialect/IRDL.h"
#include "mlir-c/RegisterEverything.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

extern const char qoDialectIRDLText[];

static pthread_once_t gRegisterOnce = PTHREAD_ONCE_INIT;
static void registerPasses(void) { mlirRegisterAllPasses(); }

MlirContext qoContextCreate(void) {
  pthread_once(&gRegisterOnce, registerPasses);
  MlirDialectRegistry reg = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(reg);
  MlirContext ctx = mlirContextCreateWithRegistry(reg, /*threadingEnabled=*/false);
  mlirDialectRegistryDestroy(reg);
  mlirRegisterAllLLVMTranslations(ctx);
  /* Dialects quant-opt's passes create ops of (external passes cannot
   * declare dependent dialects through the C API). */
  static const char *const kLoad[] = {"arith", "math", "tensor", "func", "tosa", "quant", "linalg",
                                      "bufferization", "memref", "vector", "scf", "affine", "llvm", "omp"};
  for (size_t i = 0; i < sizeof kLoad / sizeof *kLoad; ++i)
    mlirContextGetOrLoadDialect(ctx, mlirStringRefCreateFromCString(kLoad[i]));
  if (!qoContextConfigCreate(ctx) || mlirLogicalResultIsFailure(qoLoadQoDialect(ctx))) {
    qoContextDestroy(ctx);
    return (MlirContext){NULL};
  }
  return ctx;
}

MlirLogicalResult qoLoadQoDialect(MlirContext ctx) {
  qoContextConfig *c = qoContextConfigGet(ctx);
  if (!c) return mlirLogicalResultFailure();
  if (!mlirModuleIsNull(c->irdl)) return mlirLogicalResultSuccess();
  MlirModule m = mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(qoDialectIRDLText));
  if (mlirModuleIsNull(m)) return mlirLogicalResultFailure();
  if (mlirLogicalResultIsFailure(mlirLoadIRDLDialects(m))) {
    mlirModuleDestroy(m);
    return mlirLogicalResultFailure();
  }
  c->irdl = m;
  return mlirLogicalResultSuccess();
}

void qoContextDestroy(MlirContext ctx) {
  if (mlirContextIsNull(ctx)) return;
  qoContextConfigDestroy(ctx);
  mlirContextDestroy(ctx);
}

MlirLogicalResult qoContextSetTargetCPU(MlirContext ctx, const char *cpu) {
  qoContextConfig *c = qoContextConfigGet(ctx);
  if (!c) return mlirLogicalResultFailure();
  if (!cpu || !*cpu || !strcmp(cpu, "host")) {
    c->targetCPU[0] = 0;
    return mlirLogicalResultSuccess();
  }
  size_t n = strlen(cpu);
  if (n >= sizeof c->targetCPU ||
      strspn(cpu, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != n)
    return mlirLogicalResultFailure();
  memcpy(c->targetCPU, cpu, n + 1);
  return mlirLogicalResultSuccess();
}

const char *qoContextGetTargetCPU(MlirContext ctx) {
  qoContextConfig *c = qoContextConfigGet(ctx);
  return c && c->targetCPU[0] ? c->targetCPU : NULL;
}

MlirLogicalResult qoContextSetKernelOptions(MlirContext ctx, const char *options, char **error) {
  qoContextConfig *c = qoContextConfigGet(ctx);
  if (error) *error = NULL;
  if (!c) return mlirLogicalResultFailure();
  qoKernelConfig k;
  qoKernelConfigInitDefault(&k);
  char *err = NULL;
  if (qoKernelConfigParse(&k, options, &err) != 0) {
    if (error) *error = err;
    else free(err);
    return mlirLogicalResultFailure();
  }
  c->kernels = k;
  return mlirLogicalResultSuccess();
}

void qoContextSetRemarkHandler(MlirContext ctx, qoRemarkHandler handler, void *userData) {
  qoContextConfig *c = qoContextConfigGet(ctx);
  if (!c) return;
  c->remark = handler;
  c->remarkUserData = userData;
}

/*===--- Diagnostics ------------------------------------------------------===*/

typedef struct {
  FILE *out;
  char file[512];
  int *errorCount;
} Printer;

static void writeRef(MlirStringRef s, void *ud) {
  fwrite(s.data, 1, s.length, (FILE *)ud);
}

/* Prints a location as "file:line:col" or "file: node 'name'". */
static void printLoc(FILE *out, MlirLocation loc, const char *fallback) {
  if (mlirLocationIsAFileLineColRange(loc)) {
    MlirIdentifier f = mlirLocationFileLineColRangeGetFilename(loc);
    writeRef(mlirIdentifierStr(f), out);
    fprintf(out, ":%d:%d", mlirLocationFileLineColRangeGetStartLine(loc),
            mlirLocationFileLineColRangeGetStartColumn(loc));
    return;
  }
  if (mlirLocationIsAName(loc)) {
    MlirLocation child = mlirLocationNameGetChildLoc(loc);
    if (mlirLocationIsAFileLineColRange(child)) {
      printLoc(out, child, fallback);
      fprintf(out, ": node '");
    } else {
      fprintf(out, "%s: node '", fallback);
    }
    writeRef(mlirIdentifierStr(mlirLocationNameGetName(loc)), out);
    fputc('\'', out);
    return;
  }
  if (mlirLocationIsACallSite(loc)) {
    printLoc(out, mlirLocationCallSiteGetCallee(loc), fallback);
    return;
  }
  if (mlirLocationIsAFused(loc)) {
    intptr_t n = mlirLocationFusedGetNumLocations(loc);
    if (n > 0) {
      MlirLocation *locs = malloc((size_t)n * sizeof *locs);
      if (locs) {
        mlirLocationFusedGetLocations(loc, locs);
        printLoc(out, locs[0], fallback);
        free(locs);
        return;
      }
    }
  }
  fputs(fallback, out);
}

void qoPrintLocation(FILE *out, MlirLocation loc, const char *fallbackFile) {
  printLoc(out, loc, fallbackFile ? fallbackFile : "<input>");
}

static MlirLogicalResult onDiag(MlirDiagnostic d, void *ud) {
  Printer *p = ud;
  const char *sev = "error";
  switch (mlirDiagnosticGetSeverity(d)) {
  case MlirDiagnosticError: sev = "error"; if (p->errorCount) ++*p->errorCount; break;
  case MlirDiagnosticWarning: sev = "warning"; break;
  case MlirDiagnosticNote: sev = "note"; break;
  case MlirDiagnosticRemark: sev = "remark"; break;
  }
  printLoc(p->out, mlirDiagnosticGetLocation(d), p->file);
  fprintf(p->out, ": %s: ", sev);
  mlirDiagnosticPrint(d, writeRef, p->out);
  fputc('\n', p->out);
  for (intptr_t i = 0; i < mlirDiagnosticGetNumNotes(d); ++i) {
    MlirDiagnostic n = mlirDiagnosticGetNote(d, i);
    printLoc(p->out, mlirDiagnosticGetLocation(n), p->file);
    fprintf(p->out, ": note: ");
    mlirDiagnosticPrint(n, writeRef, p->out);
    fputc('\n', p->out);
  }
  fflush(p->out);
  return mlirLogicalResultSuccess();
}

MlirDiagnosticHandlerID qoAttachDiagnosticPrinter(MlirContext ctx, FILE *out,
                                                  const char *fallbackFile,
                                                  int *errorCount) {
  Printer *p = calloc(1, sizeof *p);
  if (!p) return 0;
  p->out = out;
  p->errorCount = errorCount;
  snprintf(p->file, sizeof p->file, "%s", fallbackFile ? fallbackFile : "<input>");
  return mlirContextAttachDiagnosticHandler(ctx, onDiag, p, free);
}
