// --print-ir-after-all prints the module after every pass, to stderr.
// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-decompose-batchnorm),canonicalize)' --print-ir-after-all 2>&1 >/dev/null | FileCheck %s
// CHECK: // -----// IR Dump After quant-decompose-batchnorm
// CHECK: tosa.mul
// CHECK: // -----// IR Dump After Canonicalizer
func.func @f(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %one = "tosa.const"() {values = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "qo.batch_norm"(%x, %one, %one, %one, %one) {epsilon = 0.0 : f32, axis = 1 : i64} : (tensor<1x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
