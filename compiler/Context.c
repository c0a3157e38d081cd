/* Context set-up and diagnostics printing.
 *
 * A quant-opt context has every upstream dialect registered (TOSA, linalg,
 * quant, ...), the LLVM IR translations registered, and the project's `qo`
 * dialect loaded from its IRDL definition (embedded from dialect/qo.irdl.mlir).
 * The IRDL module must outlive the context's use of the dialect, so it is kept
 * in a small table and destroyed by qoContextDestroy. */
#include "quant-opt/compiler.h"

#include "mlir-c/Dialect/IRDL.h"
#include "mlir-c/RegisterEverything.h"

#include <stdlib.h>
#include <string.h>

extern const char qoDialectIRDLText[];

#define MAX_CONTEXTS 64
static struct {
  MlirContext ctx;
  MlirModule irdl;
} gIrdl[MAX_CONTEXTS];

static int gPassesRegistered;

MlirContext qoContextCreate(void) {
  if (!gPassesRegistered) {
    mlirRegisterAllPasses();
    gPassesRegistered = 1;
  }
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
  if (mlirLogicalResultIsFailure(qoLoadQoDialect(ctx))) {
    mlirContextDestroy(ctx);
    return (MlirContext){NULL};
  }
  return ctx;
}

MlirLogicalResult qoLoadQoDialect(MlirContext ctx) {
  int slot = -1;
  for (int i = 0; i < MAX_CONTEXTS; ++i) {
    if (gIrdl[i].ctx.ptr == ctx.ptr) return mlirLogicalResultSuccess();
    if (slot < 0 && gIrdl[i].ctx.ptr == NULL) slot = i;
  }
  if (slot < 0) return mlirLogicalResultFailure();
  MlirModule m = mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(qoDialectIRDLText));
  if (mlirModuleIsNull(m)) return mlirLogicalResultFailure();
  if (mlirLogicalResultIsFailure(mlirLoadIRDLDialects(m))) {
    mlirModuleDestroy(m);
    return mlirLogicalResultFailure();
  }
  gIrdl[slot].ctx = ctx;
  gIrdl[slot].irdl = m;
  return mlirLogicalResultSuccess();
}

void qoContextDestroy(MlirContext ctx) {
  if (mlirContextIsNull(ctx)) return;
  for (int i = 0; i < MAX_CONTEXTS; ++i)
    if (gIrdl[i].ctx.ptr == ctx.ptr) {
      mlirModuleDestroy(gIrdl[i].irdl);
      gIrdl[i].ctx.ptr = NULL;
    }
  mlirContextDestroy(ctx);
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
