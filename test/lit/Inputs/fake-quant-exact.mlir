// One Q-DQ pair (uint8, scale 0.5, zero point 10) on a vector of edge values.
func.func @forward(%x: tensor<8xf32>) -> tensor<8xf32> {
  %q = quant.qcast %x : tensor<8xf32> to tensor<8x!quant.uniform<u8:f32, 0.5:10>>
  %d = quant.dcast %q : tensor<8x!quant.uniform<u8:f32, 0.5:10>> to tensor<8xf32>
  return %d : tensor<8xf32>
}
