// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-lower-fake-quant))' --split-input-file 2>&1 | FileCheck %s

func.func @uncalibrated(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: lower-fake-quant-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: quantization point 3 ('conv') has no calibrated parameters
  %q = quant.qcast %x {qo.id = 3 : i64, qo.name = "conv", qo.uncalibrated} : tensor<4xf32> to tensor<4x!quant.uniform<u8:f32, 1.0>>
  %d = quant.dcast %q : tensor<4x!quant.uniform<u8:f32, 1.0>> to tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

func.func @qcast_without_dcast(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<u8:f32, 1.0>> {
  // CHECK: lower-fake-quant-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: quant.qcast must feed exactly one quant.dcast to be simulated in float
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<u8:f32, 1.0>>
  return %q : tensor<4x!quant.uniform<u8:f32, 1.0>>
}

// -----

func.func @per_axis_activation(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // CHECK: lower-fake-quant-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: per-axis quantization of a run-time tensor is not supported
  %q = quant.qcast %x : tensor<2x2xf32> to tensor<2x2x!quant.uniform<i8:f32:0, {0.5, 0.1}>>
  %d = quant.dcast %q : tensor<2x2x!quant.uniform<i8:f32:0, {0.5, 0.1}>> to tensor<2x2xf32>
  return %d : tensor<2x2xf32>
}
