/* quant-apply-calibration's work as a function, for callers that hold the
 * calibration table in memory (the embedding API applies a table without a
 * file). */
#ifndef QO_PASSES_APPLYCALIBRATION_H
#define QO_PASSES_APPLYCALIBRATION_H

#include "mlir-c/IR.h"
#include "quant-opt/qrt_calib.h"

/* Writes the scales and zero points `method` derives from `table` into every
 * uncalibrated Q-DQ point under `root` (a module). `tableName` names the
 * table in messages. Errors are emitted as diagnostics at the points'
 * locations; returns 0 or -1. */
int qoApplyCalibrationTable(MlirOperation root, const qrt_calib_table_t *table,
                            const char *tableName, qrt_calib_method_t method);

#endif
