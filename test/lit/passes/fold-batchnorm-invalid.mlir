// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-fold-batchnorm))' --split-input-file 2>&1 | FileCheck %s

func.func @zero_variance(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %one = "tosa.const"() {values = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %v = "tosa.const"() {values = dense<[1.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  // CHECK: fold-batchnorm-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: qo.batch_norm has a non-finite parameter or variance + epsilon <= 0
  %y = "qo.batch_norm"(%x, %one, %one, %one, %v) {epsilon = 0.0 : f32, axis = 1 : i64} : (tensor<1x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @inf_scale(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %one = "tosa.const"() {values = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %s = "tosa.const"() {values = dense<[1.0, 0x7F800000]> : tensor<2xf32>} : () -> tensor<2xf32>
  // CHECK: fold-batchnorm-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: qo.batch_norm has a non-finite parameter
  %y = "qo.batch_norm"(%x, %s, %one, %one, %one) {epsilon = 0.0 : f32, axis = 1 : i64} : (tensor<1x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @bad_axis(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %one = "tosa.const"() {values = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  // CHECK: fold-batchnorm-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: qo.batch_norm axis is out of range
  %y = "qo.batch_norm"(%x, %one, %one, %one, %one) {epsilon = 0.0 : f32, axis = 7 : i64} : (tensor<1x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
