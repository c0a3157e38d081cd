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
#include "compiler/Internal.h"

#include "mlir-c/Dialect/IRDL.h"
#include "mlir-c/RegisterEverything.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
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

/* Where diagnostics go: a stream, or a text buffer (the embedding API). */
typedef struct {
  FILE *f;
  qoBuf *b;
} Sink;

static void sinkWrite(Sink *s, const char *data, size_t n) {
  if (s->b) qoBufAppendN(s->b, data, n);
  else fwrite(data, 1, n, s->f);
}

static void sinkPrintf(Sink *s, const char *fmt, ...) QO_PRINTF(2, 3);
static void sinkPrintf(Sink *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (s->b) qoBufVPrintf(s->b, fmt, ap);
  else vfprintf(s->f, fmt, ap);
  va_end(ap);
}

static void writeRef(MlirStringRef r, void *ud) { sinkWrite(ud, r.data, r.length); }

/* Prints a location as "file:line:col" or "file: node 'name'". */
static void printLoc(Sink *out, MlirLocation loc, const char *fallback) {
  if (mlirLocationIsAFileLineColRange(loc)) {
    MlirIdentifier f = mlirLocationFileLineColRangeGetFilename(loc);
    writeRef(mlirIdentifierStr(f), out);
    sinkPrintf(out, ":%d:%d", mlirLocationFileLineColRangeGetStartLine(loc),
               mlirLocationFileLineColRangeGetStartColumn(loc));
    return;
  }
  if (mlirLocationIsAName(loc)) {
    MlirLocation child = mlirLocationNameGetChildLoc(loc);
    if (mlirLocationIsAFileLineColRange(child)) {
      printLoc(out, child, fallback);
      sinkPrintf(out, ": node '");
    } else {
      sinkPrintf(out, "%s: node '", fallback);
    }
    writeRef(mlirIdentifierStr(mlirLocationNameGetName(loc)), out);
    sinkWrite(out, "'", 1);
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
  sinkPrintf(out, "%s", fallback);
}

void qoPrintLocation(FILE *out, MlirLocation loc, const char *fallbackFile) {
  Sink s = {out, NULL};
  printLoc(&s, loc, fallbackFile ? fallbackFile : "<input>");
}

typedef struct {
  Sink sink;
  char file[512];
  int *errorCount;
  int passOn; /* leave the diagnostic to the context's other handlers too */
} Printer;

static MlirLogicalResult onDiag(MlirDiagnostic d, void *ud) {
  Printer *p = ud;
  const char *sev = "error";
  switch (mlirDiagnosticGetSeverity(d)) {
  case MlirDiagnosticError: sev = "error"; if (p->errorCount) ++*p->errorCount; break;
  case MlirDiagnosticWarning: sev = "warning"; break;
  case MlirDiagnosticNote: sev = "note"; break;
  case MlirDiagnosticRemark: sev = "remark"; break;
  }
  printLoc(&p->sink, mlirDiagnosticGetLocation(d), p->file);
  sinkPrintf(&p->sink, ": %s: ", sev);
  mlirDiagnosticPrint(d, writeRef, &p->sink);
  sinkWrite(&p->sink, "\n", 1);
  for (intptr_t i = 0; i < mlirDiagnosticGetNumNotes(d); ++i) {
    MlirDiagnostic n = mlirDiagnosticGetNote(d, i);
    printLoc(&p->sink, mlirDiagnosticGetLocation(n), p->file);
    sinkPrintf(&p->sink, ": note: ");
    mlirDiagnosticPrint(n, writeRef, &p->sink);
    sinkWrite(&p->sink, "\n", 1);
  }
  if (p->sink.f) fflush(p->sink.f);
  return p->passOn ? mlirLogicalResultFailure() : mlirLogicalResultSuccess();
}

static MlirDiagnosticHandlerID attach(MlirContext ctx, Sink sink, const char *fallbackFile,
                                      int *errorCount, int passOn) {
  Printer *p = calloc(1, sizeof *p);
  if (!p) return 0;
  p->sink = sink;
  p->errorCount = errorCount;
  p->passOn = passOn;
  snprintf(p->file, sizeof p->file, "%s", fallbackFile ? fallbackFile : "<input>");
  return mlirContextAttachDiagnosticHandler(ctx, onDiag, p, free);
}

MlirDiagnosticHandlerID qoAttachDiagnosticPrinter(MlirContext ctx, FILE *out,
                                                  const char *fallbackFile,
                                                  int *errorCount) {
  return attach(ctx, (Sink){out, NULL}, fallbackFile, errorCount, 0);
}

MlirDiagnosticHandlerID qoAttachDiagnosticCollector(MlirContext ctx, qoBuf *into,
                                                    const char *fallbackFile, int *errorCount,
                                                    int passOn) {
  return attach(ctx, (Sink){NULL, into}, fallbackFile, errorCount, passOn);
}
