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

static void mark(MlirOperation root, const char *name, MlirAttribute fm) {
  qoOpList ops = {0};
  qoCollectOps(root, name, &ops);
  for (size_t i = 0; i < ops.size; ++i) {
    /* Only inside loops (the reductions of convolutions and matmuls). */
    MlirOperation parent = mlirOperationGetParentOperation(ops.ops[i]);
    if (qoOpIs(parent, "scf.for") || qoOpIs(parent, "scf.parallel"))
      mlirOperationSetAttributeByName(ops.ops[i], qoStr("fastmath"), fm);
  }
  qoOpListFree(&ops);
}

static void run(MlirOperation root, MlirExternalPass pass, const char *const *values) {
  (void)pass;
  (void)values;
  MlirAttribute fm = mlirAttributeParseGet(mlirOperationGetContext(root), qoStr("#arith.fastmath<reassoc,contract>"));
  mark(root, "arith.addf", fm);
  mark(root, "arith.mulf", fm);
}

const qoPassDef qoReassociateFloatPass = {
    .argument = "quant-reassociate-float",
    .anchor = "func.func",
    .summary = "Allow reassociation/contraction of float adds and multiplies in loops (vectorized fp32 reductions)",
    .run = run,
};
