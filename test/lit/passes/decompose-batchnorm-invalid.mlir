// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-decompose-batchnorm))' --split-input-file 2>&1 | FileCheck %s

func.func @negative_variance(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %one = "tosa.const"() {values = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %v = "tosa.const"() {values = dense<[1.0, -2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  // CHECK: decompose-batchnorm-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: qo.batch_norm has variance + epsilon <= 0 (or NaN) in a channel
  %y = "qo.batch_norm"(%x, %one, %one, %one, %v) {epsilon = 1.0e-05 : f32, axis = 1 : i64} : (tensor<1x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @nan_variance(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %one = "tosa.const"() {values = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %v = "tosa.const"() {values = dense<[1.0, 0x7FC00000]> : tensor<2xf32>} : () -> tensor<2xf32>
  // CHECK: decompose-batchnorm-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: qo.batch_norm has variance + epsilon <= 0 (or NaN) in a channel
  %y = "qo.batch_norm"(%x, %one, %one, %one, %v) {epsilon = 1.0e-05 : f32, axis = 1 : i64} : (tensor<1x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @wrong_param_length(%x: tensor<1x2xf32>, %p: tensor<3xf32>) -> tensor<1x2xf32> {
  // CHECK: decompose-batchnorm-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: qo.batch_norm parameters must be 1-D tensors with one value per channel
  %y = "qo.batch_norm"(%x, %p, %p, %p, %p) {epsilon = 1.0e-05 : f32, axis = 1 : i64} : (tensor<1x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @bad_axis(%x: tensor<1x2xf32>, %p: tensor<2xf32>) -> tensor<1x2xf32> {
  // CHECK: decompose-batchnorm-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: qo.batch_norm axis is out of range for the input rank
  %y = "qo.batch_norm"(%x, %p, %p, %p, %p) {epsilon = 1.0e-05 : f32, axis = 5 : i64} : (tensor<1x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// The IRDL verifier rejects a missing attribute.
func.func @missing_attr(%x: tensor<1x2xf32>, %p: tensor<2xf32>) -> tensor<1x2xf32> {
  // CHECK: decompose-batchnorm-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: {{.*}}epsilon
  %y = "qo.batch_norm"(%x, %p, %p, %p, %p) {axis = 1 : i64} : (tensor<1x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
