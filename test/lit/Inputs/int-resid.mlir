// Residual add of two quantized inputs (uint8 and int8 points with different
// scales) + ReLU, then a global average pool whose output point has another
// scale: exercises int32 input rescales, the sum requantization, TOSA's
// integer average and an int8 -> int8 rescale.
func.func @forward(%x: tensor<1x4x4x2xf32>, %y: tensor<1x4x4x2xf32>) -> tensor<1x1x1x2xf32> {
  %qx = quant.qcast %x {qo.id = 0 : i64} : tensor<1x4x4x2xf32> to tensor<1x4x4x2x!quant.uniform<u8:f32, 0.04:30>>
  %dx = quant.dcast %qx : tensor<1x4x4x2x!quant.uniform<u8:f32, 0.04:30>> to tensor<1x4x4x2xf32>
  %qy = quant.qcast %y {qo.id = 1 : i64} : tensor<1x4x4x2xf32> to tensor<1x4x4x2x!quant.uniform<i8:f32, 0.03:-5>>
  %dy = quant.dcast %qy : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.03:-5>> to tensor<1x4x4x2xf32>
  %s = tosa.add %dx, %dy : (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  %r = tosa.clamp %s {min_val = 0.0 : f32, max_val = 3.4e38 : f32} : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  %qr = quant.qcast %r {qo.id = 2 : i64} : tensor<1x4x4x2xf32> to tensor<1x4x4x2x!quant.uniform<u8:f32, 0.05>>
  %dr = quant.dcast %qr : tensor<1x4x4x2x!quant.uniform<u8:f32, 0.05>> to tensor<1x4x4x2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %p = tosa.avg_pool2d %dr, %zp, %zp {acc_type = f32, kernel = array<i64: 4, 4>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x2xf32>
  %qp = quant.qcast %p {qo.id = 3 : i64} : tensor<1x1x1x2xf32> to tensor<1x1x1x2x!quant.uniform<u8:f32, 0.02:3>>
  %dp = quant.dcast %qp : tensor<1x1x1x2x!quant.uniform<u8:f32, 0.02:3>> to tensor<1x1x1x2xf32>
  return %dp : tensor<1x1x1x2xf32>
}
