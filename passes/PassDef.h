/* How a quant-opt pass is described to the pass table (passes/Passes.def).
 *
 * Each pass is a C function run on its anchor op through MLIR's external
 * pass mechanism (mlirCreateExternalPass); options are strings parsed from
 * the textual pipeline, validated when the pipeline is parsed. */
#ifndef QO_PASSES_PASSDEF_H
#define QO_PASSES_PASSDEF_H

#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

#define QO_MAX_PASS_OPTIONS 16

typedef struct qoPassOptionDef {
  const char *name;
  const char *defaultValue;
  const char *help;
} qoPassOptionDef;

typedef struct qoPassDef {
  const char *argument;
  const char *anchor;
  const char *summary;
  const qoPassOptionDef *options;
  int numOptions;
  /* Optional: checks option values when the pipeline is parsed; returns 0 or
   * -1 with a malloc'd *error. values[i] belongs to options[i]. */
  int (*validate)(const char *const *values, char **error);
  /* Runs on one anchor op. Reports errors with mlirEmitError and
   * mlirExternalPassSignalFailure(pass). */
  void (*run)(MlirOperation op, MlirExternalPass pass, const char *const *values);
} qoPassDef;

#define QO_PASS(Ident, Arg, Anchor, Summary) extern const qoPassDef qo##Ident##Pass;
#include "passes/Passes.def"
#undef QO_PASS

#endif
