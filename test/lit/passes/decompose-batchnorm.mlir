// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-decompose-batchnorm))' --split-input-file | FileCheck %s

// Constant parameters: a = scale/sqrt(var+eps), b = bias - mean*a, in double.
// scale [2, 1], bias [1, 0], mean [0.5, -1], var [3.99999, 0.24999], eps 1e-5
//   a = [1, 2], b = [0.5, 2]
// CHECK-LABEL: func.func @constant_params
// CHECK-DAG:   %[[A:.*]] = "tosa.const"() <{values = dense<{{\[\[\[\[}}1.000000e+00, 2.000000e+00]]]]> : tensor<1x1x1x2xf32>}>
// CHECK-DAG:   %[[B:.*]] = "tosa.const"() <{values = dense<{{\[\[\[\[}}5.000000e-01, 2.000000e+00]]]]> : tensor<1x1x1x2xf32>}>
// CHECK:       %[[M:.*]] = tosa.mul %arg0, %[[A]], %{{.*}} : (tensor<1x3x3x2xf32>, tensor<1x1x1x2xf32>, tensor<1xi8>)
// CHECK:       %[[Y:.*]] = tosa.add %[[M]], %[[B]]
// CHECK:       return %[[Y]]
// CHECK-NOT:   qo.batch_norm
func.func @constant_params(%x: tensor<1x3x3x2xf32>) -> tensor<1x3x3x2xf32> {
  %s = "tosa.const"() {values = dense<[2.0, 1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %b = "tosa.const"() {values = dense<[1.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %m = "tosa.const"() {values = dense<[0.5, -1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %v = "tosa.const"() {values = dense<[3.99999, 0.24999]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "qo.batch_norm"(%x, %s, %b, %m, %v) {epsilon = 1.0e-05 : f32, axis = 3 : i64} : (tensor<1x3x3x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x3x3x2xf32>
  return %y : tensor<1x3x3x2xf32>
}

// -----

// Parameters that are function arguments: the same math in tosa ops.
// CHECK-LABEL: func.func @dynamic_params
// CHECK:       tosa.reshape %arg1
// CHECK:       tosa.rsqrt
// CHECK:       tosa.sub
// CHECK:       tosa.mul %arg0
// CHECK:       tosa.add
// CHECK-NOT:   qo.batch_norm
func.func @dynamic_params(%x: tensor<2x3xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<2x3xf32> {
  %y = "qo.batch_norm"(%x, %s, %b, %m, %v) {epsilon = 1.0e-03 : f32, axis = 1 : i64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// NCHW (axis 1) constants broadcast along dim 1.
// CHECK-LABEL: func.func @nchw
// CHECK: tensor<1x2x1x1xf32>
func.func @nchw(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %one = "tosa.const"() {values = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zero = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "qo.batch_norm"(%x, %one, %zero, %zero, %one) {epsilon = 0.0 : f32, axis = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}
