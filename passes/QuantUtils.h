/* Helpers shared by the quantization passes: quantization points (the
 * quant.qcast/quant.dcast pairs quant-insert-qdq creates), their attributes,
 * and quantized types.
 *
 * A quantization point is
 *   %q = quant.qcast %x {qo.id = N : i64, qo.name = "node"} : T to T'
 *   %d = quant.dcast %q : T' to T
 * with every other use of %x rewired to %d. Activation points are created
 * with a placeholder scale and `qo.uncalibrated`; quant-apply-calibration
 * sets the real parameters. Weight points (constants) get their per-channel
 * or per-tensor parameters immediately and carry no qo.id. */
#ifndef QO_PASSES_QUANTUTILS_H
#define QO_PASSES_QUANTUTILS_H

#include "mlir-c/Dialect/Quant.h"
#include "passes/PassUtils.h"

int qoOpIs(MlirOperation op, const char *name);

/* The defining op of `v`, or a null op for block arguments. */
MlirOperation qoDefiningOp(MlirValue v);

/* 1 if `v` is produced by tosa.const / arith.constant. */
int qoIsConstant(MlirValue v);

/* A name for diagnostics and the calibration table: the NameLoc of the
 * defining op (the ONNX node), "arg<i>" for function arguments, or "". */
void qoValueName(MlirValue v, char *buf, size_t n);

/* Inserts a qcast/dcast pair on `v` right after its definition (at the start
 * of the block for arguments); every use of `v` except the qcast is rewired to
 * the dcast unless `onlyUse` is non-null, in which case only that operand is.
 * Returns the qcast. */
MlirOperation qoInsertQDQ(MlirValue v, MlirType quantElemType, MlirOpOperand onlyUse);

/* The dcast consuming qcast `q` (its single user), or a null op. */
MlirOperation qoDCastOf(MlirOperation q);

/* Checks what the quant dialect's verifier lets through: every scale finite
 * and > 0, every zero point inside the storage range. Emits a located error
 * at `op` and returns -1 otherwise. */
int qoCheckQuantType(MlirOperation op, MlirType quantElemType);

/* Tensor type like `t` with element type `elem`. */
MlirType qoTensorWithElement(MlirType t, MlirType elem);

#endif
