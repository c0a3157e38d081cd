// RUN: not %quant_opt %s -p 'builtin.module(quant-instrument-calibration)' 2>&1 | FileCheck %s

// A quantization point whose qcast does not feed exactly one dcast cannot be
// turned back into the float model.
func.func @qcast_two_users(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  // CHECK: instrument-calibration-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: quant.qcast must feed exactly one quant.dcast to be instrumented
  %q = quant.qcast %x {qo.id = 0 : i64, qo.uncalibrated} : tensor<4xf32> to tensor<4x!quant.uniform<u8:f32, 1.0>>
  %d0 = quant.dcast %q : tensor<4x!quant.uniform<u8:f32, 1.0>> to tensor<4xf32>
  %d1 = quant.dcast %q : tensor<4x!quant.uniform<u8:f32, 1.0>> to tensor<4xf32>
  return %d0, %d1 : tensor<4xf32>, tensor<4xf32>
}
