// RUN: %quant_opt %S/../Inputs/qdq-small.mlir -p 'builtin.module(func.func(quant-insert-qdq),quant-instrument-calibration)' | FileCheck %s
// Every activation point becomes a call into the runtime on the float value;
// every Q-DQ pair (weights too) is gone.
// CHECK: func.func private @qo_observe(i64, tensor<*xf32> {bufferization.access = "read"}) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @forward
// CHECK-NOT: quant.
// CHECK: %[[ID0:.*]] = arith.constant 0 : i64
// CHECK: %[[U0:.*]] = tensor.cast %arg0 : tensor<1x4x4x1xf32> to tensor<*xf32>
// CHECK: call @qo_observe(%[[ID0]], %[[U0]]) : (i64, tensor<*xf32>) -> ()
// CHECK: %[[C:.*]] = tosa.conv2d %arg0
// CHECK: %[[R:.*]] = tosa.clamp %[[C]]
// CHECK: tensor.cast %[[R]]
// CHECK: call @qo_observe
// CHECK: tosa.max_pool2d %[[R]]
// CHECK: call @qo_observe
// CHECK-NOT: quant.
