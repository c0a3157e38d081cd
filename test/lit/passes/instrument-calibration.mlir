// RUN: %quant_opt %S/../Inputs/qdq-small.mlir -p 'builtin.module(func.func(quant-insert-qdq),quant-instrument-calibration)' | FileCheck %s
// Every activation point becomes a call into the runtime on the float value;
// every Q-DQ pair (weights too) is gone.
// The runtime session is the address of @qo_calib_session, which the host
// resolves per JIT.
// CHECK: llvm.mlir.global external @qo_calib_session() {addr_space = 0 : i32} : i8
// CHECK: func.func private @qo_observe(!llvm.ptr, i64, tensor<*xf32> {bufferization.access = "read"}) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @forward
// CHECK-NOT: quant.
// CHECK: %[[ID0:.*]] = arith.constant 0 : i64
// CHECK: %[[S0:.*]] = llvm.mlir.addressof @qo_calib_session : !llvm.ptr
// CHECK: %[[U0:.*]] = tensor.cast %arg0 : tensor<1x4x4x1xf32> to tensor<*xf32>
// CHECK: call @qo_observe(%[[S0]], %[[ID0]], %[[U0]]) : (!llvm.ptr, i64, tensor<*xf32>) -> ()
// CHECK: %[[C:.*]] = tosa.conv2d %arg0
// CHECK: %[[R:.*]] = tosa.clamp %[[C]]
// CHECK: tensor.cast %[[R]]
// CHECK: call @qo_observe
// CHECK: tosa.max_pool2d %[[R]]
// CHECK: call @qo_observe
// CHECK-NOT: quant.
