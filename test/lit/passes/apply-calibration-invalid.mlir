// RUN: not %quant_opt %S/../Inputs/qdq-small.mlir -p 'builtin.module(func.func(quant-insert-qdq),quant-apply-calibration)' 2>&1 | FileCheck %s --check-prefix=NOTABLE
// RUN: not %quant_opt %S/../Inputs/qdq-small.mlir -p 'builtin.module(func.func(quant-insert-qdq),quant-apply-calibration{table=%S/../Inputs/table-small.json method=best})' 2>&1 | FileCheck %s --check-prefix=METHOD
// RUN: not %quant_opt %S/../Inputs/qdq-small.mlir -p 'builtin.module(func.func(quant-insert-qdq),quant-apply-calibration{table=%t.missing.json})' 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not %quant_opt %S/../Inputs/qdq-small.mlir -p 'builtin.module(func.func(quant-insert-qdq),quant-apply-calibration{table=%S/../Inputs/table-concat.json})' 2>&1 | FileCheck %s --check-prefix=OTHER
// RUN: sed -e 's/"max": 1, "count": 8/"max": "one", "count": 8/' %S/../Inputs/table-small.json > %t.bad.json
// RUN: not %quant_opt %S/../Inputs/qdq-small.mlir -p 'builtin.module(func.func(quant-insert-qdq),quant-apply-calibration{table=%t.bad.json})' 2>&1 | FileCheck %s --check-prefix=BADVAL
// RUN: sed -e 's/"minmax": \[-1, 3\]/"minmax": [3, -1]/' %S/../Inputs/table-small.json > %t.order.json
// RUN: not %quant_opt %S/../Inputs/qdq-small.mlir -p 'builtin.module(func.func(quant-insert-qdq),quant-apply-calibration{table=%t.order.json})' 2>&1 | FileCheck %s --check-prefix=ORDER
// Without calibration the Q-DQ model cannot run: the placeholder is refused.
// RUN: not %quant_opt %S/../Inputs/qdq-small.mlir -p 'builtin.module(func.func(quant-insert-qdq,quant-lower-fake-quant))' 2>&1 | FileCheck %s --check-prefix=UNCAL

// NOTABLE: error: quant-apply-calibration needs table=<file>
// METHOD: quant-apply-calibration: unknown method 'best'
// MISSING: error: {{.*}}missing.json
// OTHER: node 'relu': error: calibration table entry 1 is named 'arg1' but the quantization point is 'relu' (a table from another model or pipeline?)
// BADVAL: error: {{.*}}bad.json{{.*}}max
// ORDER: error: {{.*}}order.json
// UNCAL: qdq-small.mlir:2:{{[0-9]+}}: error: quantization point 0 ('arg0') has no calibrated parameters: calibrate (quant-opt --calibrate) or apply a table (quant-apply-calibration)
