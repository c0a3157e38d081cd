/* quant-instrument-calibration: turn a Q-DQ model into the float model that
 * collects calibration statistics.
 *
 * Every activation quantization point (a quant.qcast with qo.id = N) becomes
 * a call into the calibration runtime on the float value it would quantize,
 * and every Q-DQ pair (weights too) is removed, so calibration sees the float
 * model exactly:
 *   %q = quant.qcast %x {qo.id = 3 : i64}   %d = quant.dcast %q   use(%d)
 * becomes
 *   %s = llvm.mlir.addressof @qo_calib_session : !llvm.ptr
 *   %u = tensor.cast %x : tensor<1x28x28x16xf32> to tensor<*xf32>
 *   func.call @qo_observe(%s, %c3, %u) : (!llvm.ptr, i64, tensor<*xf32>) -> ()
 *   use(%x)
 * with `func.func private @qo_observe(!llvm.ptr, i64, tensor<*xf32>
 * {bufferization.access = "read"}) attributes {llvm.emit_c_interface}` and
 * `llvm.mlir.global external @qo_calib_session() : i8` declared once. The
 * host (compiler/Calibrate.c) provides _mlir_ciface_qo_observe and resolves
 * @qo_calib_session to its own session object in that JIT only, so every
 * compiled calibration model reports to the session that runs it (threads
 * calibrating at once never share one). */
#include "passes/PassDef.h"
#include "passes/QuantUtils.h"

#include <stdlib.h>
#include <string.h>

static const char kDecl[] =
    "func.func private @qo_observe(!llvm.ptr, i64, tensor<*xf32> {bufferization.access = \"read\"}) "
    "attributes {llvm.emit_c_interface}";
static const char kSessionDecl[] = "llvm.mlir.global external @qo_calib_session() {addr_space = 0 : i32} : i8";

static void run(MlirOperation module, MlirExternalPass pass, const char *const *values) {
  (void)values;
  MlirContext ctx = mlirOperationGetContext(module);
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  int haveDecl = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    MlirAttribute n = mlirOperationGetAttributeByName(op, qoStr("sym_name"));
    if (qoOpIs(op, "func.func") && !mlirAttributeIsNull(n)) {
      MlirStringRef s = mlirStringAttrGetValue(n);
      if (s.length == 10 && !memcmp(s.data, "qo_observe", 10)) haveDecl = 1;
    }
  }
  if (!haveDecl) {
    MlirOperation decl = mlirOperationCreateParse(ctx, qoStr(kDecl), qoStr("quant-instrument"));
    MlirOperation sess = mlirOperationCreateParse(ctx, qoStr(kSessionDecl), qoStr("quant-instrument"));
    if (mlirOperationIsNull(decl) || mlirOperationIsNull(sess)) {
      if (!mlirOperationIsNull(decl)) mlirOperationDestroy(decl);
      if (!mlirOperationIsNull(sess)) mlirOperationDestroy(sess);
      mlirExternalPassSignalFailure(pass);
      return;
    }
    mlirBlockInsertOwnedOperationBefore(body, mlirBlockGetFirstOperation(body), decl);
    mlirBlockInsertOwnedOperationBefore(body, decl, sess);
  }
  qoOpList qs = {0};
  qoCollectOps(module, "quant.qcast", &qs);
  MlirType i64 = mlirIntegerTypeGet(ctx, 64);
  MlirType unranked = mlirUnrankedTensorTypeGet(mlirF32TypeGet(ctx));
  MlirType ptr = mlirTypeParseGet(ctx, qoStr("!llvm.ptr"));
  int failed = 0;
  for (size_t i = 0; i < qs.size; ++i) {
    MlirOperation q = qs.ops[i];
    MlirLocation loc = mlirOperationGetLocation(q);
    MlirOperation d = qoDCastOf(q);
    if (mlirOperationIsNull(d)) {
      mlirEmitError(loc, "quant.qcast must feed exactly one quant.dcast to be instrumented");
      failed = 1;
      continue;
    }
    MlirValue x = mlirOperationGetOperand(q, 0);
    int64_t id = qoGetIntAttr(q, "qo.id", -1);
    if (id >= 0) {
      MlirNamedAttribute va = mlirNamedAttributeGet(mlirIdentifierGet(ctx, qoStr("value")),
                                                    mlirIntegerAttrGet(i64, id));
      MlirValue idv = mlirOperationGetResult(
          qoCreateOpBefore(q, "arith.constant", loc, 0, NULL, 1, &i64, 1, &va), 0);
      MlirNamedAttribute gn = mlirNamedAttributeGet(
          mlirIdentifierGet(ctx, qoStr("global_name")),
          mlirFlatSymbolRefAttrGet(ctx, qoStr("qo_calib_session")));
      MlirValue sv = mlirOperationGetResult(
          qoCreateOpBefore(q, "llvm.mlir.addressof", loc, 0, NULL, 1, &ptr, 1, &gn), 0);
      MlirValue u = mlirOperationGetResult(
          qoCreateOpBefore(q, "tensor.cast", loc, 1, &x, 1, &unranked, 0, NULL), 0);
      MlirNamedAttribute callee = mlirNamedAttributeGet(
          mlirIdentifierGet(ctx, qoStr("callee")),
          mlirFlatSymbolRefAttrGet(ctx, qoStr("qo_observe")));
      MlirValue args[3] = {sv, idv, u};
      qoCreateOpBefore(q, "func.call", loc, 3, args, 0, NULL, 1, &callee);
    }
    mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(d, 0), x);
    mlirOperationDestroy(d);
    mlirOperationDestroy(q);
  }
  qoOpListFree(&qs);
  if (failed) mlirExternalPassSignalFailure(pass);
}

const qoPassDef qoInstrumentCalibrationPass = {
    .argument = "quant-instrument-calibration",
    .anchor = "builtin.module",
    .summary = "Replace Q-DQ pairs by calls to the calibration runtime on the float values",
    .run = run,
};
