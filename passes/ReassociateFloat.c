/* quant-reassociate-float: let LLVM vectorize float reductions.
 *
 * Float convolutions and matmuls lower to scalar loops whose innermost loop
 * is a sum; without reassociation LLVM must keep that sum sequential, so
 * fp32 code runs an order of magnitude slower than the integer code (whose
 * adds are associative). This pass marks arith.addf / arith.mulf inside loops
 * with fast-math `reassoc` and `contract`:
 *   %s = arith.addf %acc, %p : f32
 * becomes
 *   %s = arith.addf %acc, %p fastmath<reassoc,contract> : f32
 * Results change within float rounding (summation order, FMA contraction);
 * integer code and the exact quantize/dequantize arithmetic at quantization
 * points are outside loops' reductions and unaffected in value semantics. */
#include "passes/PassDef.h"
#include "passes/QuantUtils.h"

#include "mlir-c/BuiltinAttributes.h"
#include <stdlib.h>
#include <string.h>

/* Constant trip count of an scf.for with constant bounds, else -1. */
static long long tripCount(MlirOperation loop) {
  long long v[3];
  for (int i = 0; i < 3; ++i) {
    MlirOperation d = qoDefiningOp(mlirOperationGetOperand(loop, i));
    if (!qoOpIs(d, "arith.constant")) return -1;
    MlirAttribute a = mlirOperationGetAttributeByName(d, qoStr("value"));
    if (!mlirAttributeIsAInteger(a)) return -1;
    v[i] = mlirIntegerAttrGetValueInt(a);
  }
  return v[2] > 0 ? (v[1] - v[0] + v[2] - 1) / v[2] : -1;
}

static void mark(MlirOperation root, const char *name, MlirAttribute fm, long long minTrip) {
  qoOpList ops = {0};
  qoCollectOps(root, name, &ops);
  for (size_t i = 0; i < ops.size; ++i) {
    /* Only inside loops (the reductions of convolutions and matmuls). */
    MlirOperation parent = mlirOperationGetParentOperation(ops.ops[i]);
    if (qoOpIs(parent, "scf.for") && tripCount(parent) >= minTrip)
      mlirOperationSetAttributeByName(ops.ops[i], qoStr("fastmath"), fm);
  }
  qoOpListFree(&ops);
}

static void run(MlirOperation root, MlirExternalPass pass, const char *const *values) {
  (void)pass;
  long long minTrip = atoll(values[0]);
  MlirAttribute fm = mlirAttributeParseGet(mlirOperationGetContext(root), qoStr("#arith.fastmath<reassoc,contract>"));
  mark(root, "arith.addf", fm, minTrip);
  mark(root, "arith.mulf", fm, minTrip);
}

static const qoPassOptionDef kOptions[] = {
    {"min-trip-count", "64", "only loops with at least this many iterations (short reductions "
                             "vectorize badly: measured on the example CNN)"},
};

static int validate(const char *const *values, char **error) {
  char *end;
  long long v = strtoll(values[0], &end, 10);
  if (*end || v < 1) {
    *error = strdup("quant-reassociate-float: min-trip-count must be a positive integer");
    return -1;
  }
  return 0;
}

const qoPassDef qoReassociateFloatPass = {
    .argument = "quant-reassociate-float",
    .anchor = "func.func",
    .summary = "Allow reassociation/contraction of float adds and multiplies in loops (vectorized fp32 reductions)",
    .options = kOptions,
    .numOptions = 1,
    .validate = validate,
    .run = run,
};
