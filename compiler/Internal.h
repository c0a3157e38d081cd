/* Declarations shared by the compiler library's files and not public. */
#ifndef QO_COMPILER_INTERNAL_H
#define QO_COMPILER_INTERNAL_H

#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"
#include "support/buffer.h"

/* Like qoAttachDiagnosticPrinter, but appends the formatted diagnostics to
 * `into` (which must outlive the handler). With `passOn` the diagnostic is
 * also left to the handlers attached before this one. */
MlirDiagnosticHandlerID qoAttachDiagnosticCollector(MlirContext ctx, qoBuf *into,
                                                    const char *fallbackFile, int *errorCount,
                                                    int passOn);

#endif
