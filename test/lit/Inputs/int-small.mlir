// A calibrated Q-DQ model: input point uint8 (0.05, 20), conv 3x3 pad 1,
// 3 -> 4 channels, per-channel weights, bias, ReLU, output point uint8
// (0.1, 0), max pool 2x2 (same parameters), dequantized output.
func.func @forward(%x: tensor<2x4x4x3xf32>) -> tensor<2x2x2x4xf32> {
  %qx = quant.qcast %x {qo.id = 0 : i64, qo.name = "in"} : tensor<2x4x4x3xf32> to tensor<2x4x4x3x!quant.uniform<u8:f32, 0.05:20>>
  %dx = quant.dcast %qx : tensor<2x4x4x3x!quant.uniform<u8:f32, 0.05:20>> to tensor<2x4x4x3xf32>
  %w = "tosa.const"() {values = dense<[
    [[[0.5, -0.25, 0.1], [0.2, 0.3, -0.4], [0.0, 0.6, 0.1]], [[-0.3, 0.2, 0.5], [0.7, -0.1, 0.2], [0.1, 0.1, -0.6]], [[0.4, 0.0, -0.2], [-0.5, 0.3, 0.3], [0.2, -0.2, 0.1]]],
    [[[-0.05, 0.02, 0.01], [0.03, -0.04, 0.05], [0.02, 0.01, -0.03]], [[0.04, 0.05, -0.01], [-0.02, 0.03, 0.04], [0.05, -0.05, 0.02]], [[0.01, 0.02, 0.03], [-0.04, -0.01, 0.02], [0.03, 0.04, -0.05]]],
    [[[1.5, -1.0, 0.5], [0.2, 1.3, -0.4], [-1.1, 0.6, 0.9]], [[-0.3, 1.2, 0.5], [0.7, -1.4, 0.2], [1.0, 0.1, -0.6]], [[0.4, -1.5, -0.2], [-0.5, 0.3, 1.3], [0.2, -0.2, 0.1]]],
    [[[0.1, 0.1, 0.1], [0.1, 0.1, 0.1], [0.1, 0.1, 0.1]], [[0.1, 0.1, 0.1], [0.1, -0.2, 0.1], [0.1, 0.1, 0.1]], [[0.1, 0.1, 0.1], [0.1, 0.1, 0.1], [0.1, 0.1, 0.1]]]
  ]> : tensor<4x3x3x3xf32>} : () -> tensor<4x3x3x3xf32>
  %qw = quant.qcast %w : tensor<4x3x3x3xf32> to tensor<4x3x3x3x!quant.uniform<i8<-127:127>:f32:0, {0.0055118110236220472,0.00039370078740157485,0.011811023622047244,0.0015748031496062992}>>
  %dw = quant.dcast %qw : tensor<4x3x3x3x!quant.uniform<i8<-127:127>:f32:0, {0.0055118110236220472,0.00039370078740157485,0.011811023622047244,0.0015748031496062992}>> to tensor<4x3x3x3xf32>
  %b = "tosa.const"() {values = dense<[0.3, -0.05, 1.0, -2.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %dx, %dw, %b, %zp, %zp {acc_type = f32, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<2x4x4x3xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x4x4x4xf32>
  %r = tosa.clamp %c {min_val = 0.0 : f32, max_val = 3.4e38 : f32} : (tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %qr = quant.qcast %r {qo.id = 1 : i64, qo.name = "relu"} : tensor<2x4x4x4xf32> to tensor<2x4x4x4x!quant.uniform<u8:f32, 0.1>>
  %dr = quant.dcast %qr : tensor<2x4x4x4x!quant.uniform<u8:f32, 0.1>> to tensor<2x4x4x4xf32>
  %p = tosa.max_pool2d %dr {kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>) -> tensor<2x2x2x4xf32>
  %qp = quant.qcast %p {qo.id = 2 : i64, qo.name = "pool"} : tensor<2x2x2x4xf32> to tensor<2x2x2x4x!quant.uniform<u8:f32, 0.1>>
  %dp = quant.dcast %qp : tensor<2x2x2x4x!quant.uniform<u8:f32, 0.1>> to tensor<2x2x2x4xf32>
  return %dp : tensor<2x2x2x4xf32>
}
