/* Small helpers shared by quant-opt's passes: string refs, op creation,
 * reading and building constants, collecting ops by name. */
#ifndef QO_PASSES_PASSUTILS_H
#define QO_PASSES_PASSUTILS_H

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline MlirStringRef qoStr(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

/* A growable list of operations. */
typedef struct qoOpList {
  MlirOperation *ops;
  size_t size, capacity;
} qoOpList;

/* Collects every op named `name` nested under `root` (post-order). */
void qoCollectOps(MlirOperation root, const char *name, qoOpList *out);
void qoOpListFree(qoOpList *list);

/* Creates an op named `name` and inserts it before `before`. */
MlirOperation qoCreateOpBefore(MlirOperation before, const char *name,
                               MlirLocation loc, intptr_t nOperands,
                               const MlirValue *operands, intptr_t nResults,
                               const MlirType *results, intptr_t nAttrs,
                               const MlirNamedAttribute *attrs);

/* tosa.const of f32 `values` with the given shape, inserted before `before`. */
MlirValue qoTosaConstF32(MlirOperation before, MlirLocation loc, int rank,
                         const int64_t *shape, const float *values);

/* The zero shift operand tosa.mul takes (tensor<1xi8>). */
MlirValue qoTosaZeroShift(MlirOperation before, MlirLocation loc);

/* tosa.reshape of `v` to `shape`. */
MlirValue qoTosaReshape(MlirOperation before, MlirLocation loc, MlirValue v,
                        int rank, const int64_t *shape);

/* Binary elementwise tosa op ("tosa.add", "tosa.sub", "tosa.mul"); mul gets
 * its zero shift. The result has `resultType`. */
MlirValue qoTosaBinary(MlirOperation before, MlirLocation loc, const char *name,
                       MlirValue a, MlirValue b, MlirType resultType);

/* If `v` is defined by tosa.const/arith.constant with a dense float
 * attribute, copies its n elements (splats expanded) into a malloc'd double
 * array and returns it; else NULL. */
double *qoGetConstDoubles(MlirValue v, int64_t *n);

/* The same for dense integer constants (i8/i16/i32/i64), as int64_t. */
int64_t *qoGetConstInts(MlirValue v, int64_t *n);

/* A named attribute `n` = a. */
MlirNamedAttribute qoNamedAttr(MlirContext ctx, const char *n, MlirAttribute a);

/* Reports an optimization decision (MLIR 22's C API has no remark call):
 * forwarded to the remark handler of the location's context
 * (qoContextSetRemarkHandler), if it has one. */
void qoEmitRemark(MlirLocation loc, const char *message);

/* Reads an integer / float attribute by name, with a default. */
int64_t qoGetIntAttr(MlirOperation op, const char *name, int64_t dflt);
double qoGetFloatAttr(MlirOperation op, const char *name, double dflt);

/* Whether the module body holds an op with sym_name `sym`. */
int qoModuleHasSymbol(MlirOperation module, const char *sym);

#endif
