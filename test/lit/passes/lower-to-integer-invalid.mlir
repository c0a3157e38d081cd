// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-lower-to-integer))' --split-input-file 2>&1 | FileCheck %s
// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-lower-fake-quant))' --split-input-file 2>&1 | FileCheck %s --check-prefix=FAKE

func.func @zero_point_out_of_range(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: lower-to-integer-invalid.mlir:[[@LINE+2]]:{{[0-9]+}}: error: zero point 300 is outside the storage range [0, 255]
  // FAKE: lower-to-integer-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: zero point 300 is outside the storage range [0, 255]
  %q = quant.qcast %x {qo.id = 0 : i64} : tensor<4xf32> to tensor<4x!quant.uniform<u8:f32, 0.5:300>>
  %d = quant.dcast %q : tensor<4x!quant.uniform<u8:f32, 0.5:300>> to tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// Per-axis weights along the wrong axis (3 = input channels of OHWI).
func.func @wrong_axis(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %qx = quant.qcast %x {qo.id = 0 : i64} : tensor<1x2x2x2xf32> to tensor<1x2x2x2x!quant.uniform<u8:f32, 0.05:20>>
  %dx = quant.dcast %qx : tensor<1x2x2x2x!quant.uniform<u8:f32, 0.05:20>> to tensor<1x2x2x2xf32>
  %w = "tosa.const"() {values = dense<0.5> : tensor<2x1x1x2xf32>} : () -> tensor<2x1x1x2xf32>
  %qw = quant.qcast %w : tensor<2x1x1x2xf32> to tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32:3, {0.004, 0.004}>>
  %dw = quant.dcast %qw : tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32:3, {0.004, 0.004}>> to tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %z = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // CHECK: lower-to-integer-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: per-axis weight quantization along axis 3; conv2d OHWI weights need axis 0 (the output channels)
  %c = tosa.conv2d %dx, %dw, %b, %z, %z {acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %qy = quant.qcast %c {qo.id = 1 : i64} : tensor<1x2x2x2xf32> to tensor<1x2x2x2x!quant.uniform<u8:f32, 0.01:128>>
  %dy = quant.dcast %qy : tensor<1x2x2x2x!quant.uniform<u8:f32, 0.01:128>> to tensor<1x2x2x2xf32>
  return %dy : tensor<1x2x2x2xf32>
}

