// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-lower-fake-quant))' --split-input-file | FileCheck %s

// An activation pair becomes divide, round half to even, add zero point,
// saturate, subtract zero point, multiply.
// CHECK-LABEL: func.func @activation
// CHECK-NOT: quant.
// CHECK: %[[D:.*]] = arith.divf %arg0, %{{.*}} : tensor<4xf32>
// CHECK: %[[R:.*]] = math.roundeven %[[D]]
// CHECK: %[[Z:.*]] = arith.addf %[[R]], %{{.*}}
// CHECK: %[[LO:.*]] = arith.maximumf %[[Z]], %{{.*}}
// CHECK: %[[HI:.*]] = arith.minimumf %[[LO]], %{{.*}}
// CHECK: %[[S:.*]] = arith.subf %[[HI]], %{{.*}}
// CHECK: %[[Y:.*]] = arith.mulf %[[S]], %{{.*}}
// CHECK: return %[[Y]]
func.func @activation(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = quant.qcast %x {qo.id = 0 : i64} : tensor<4xf32> to tensor<4x!quant.uniform<u8:f32, 0.5:10>>
  %d = quant.dcast %q : tensor<4x!quant.uniform<u8:f32, 0.5:10>> to tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// Weights are evaluated at compile time: 0.25/0.5 = 0.5 rounds to 0 (even),
// 0.75/0.5 = 1.5 rounds to 2, 100 and -100 saturate at +-127 (* 0.5).
// CHECK-LABEL: func.func @weights_per_tensor
// CHECK: "tosa.const"() <{values = dense<[0.000000e+00, 1.000000e+00, 6.350000e+01, -6.350000e+01]> : tensor<4xf32>}>
// CHECK-NOT: quant.
func.func @weights_per_tensor() -> tensor<4xf32> {
  %w = "tosa.const"() {values = dense<[0.25, 0.75, 100.0, -100.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %q = quant.qcast %w : tensor<4xf32> to tensor<4x!quant.uniform<i8<-127:127>:f32, 0.5>>
  %d = quant.dcast %q : tensor<4x!quant.uniform<i8<-127:127>:f32, 0.5>> to tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// Per-axis: row 0 scale 0.5 (1.1 -> 2 -> 1.0), row 1 scale 0.1 (-0.26 -> -3 -> -0.3).
// CHECK-LABEL: func.func @weights_per_axis
// CHECK: "tosa.const"() <{values = dense<{{\[\[}}1.000000e+00], [-3.000000e-01]]> : tensor<2x1xf32>}>
func.func @weights_per_axis() -> tensor<2x1xf32> {
  %w = "tosa.const"() {values = dense<[[1.1], [-0.26]]> : tensor<2x1xf32>} : () -> tensor<2x1xf32>
  %q = quant.qcast %w : tensor<2x1xf32> to tensor<2x1x!quant.uniform<i8<-127:127>:f32:0, {0.5, 0.1}>>
  %d = quant.dcast %q : tensor<2x1x!quant.uniform<i8<-127:127>:f32:0, {0.5, 0.1}>> to tensor<2x1xf32>
  return %d : tensor<2x1xf32>
}
