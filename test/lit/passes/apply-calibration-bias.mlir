// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-insert-qdq),quant-apply-calibration{table=%S/../Inputs/table-tiny.json})' --remarks 2>%t.remarks | FileCheck %s
// RUN: FileCheck %s --check-prefix=REMARK < %t.remarks
// A scale that would overflow: input scale 1e-6/255, weight scale 1e-3/127,
// bias 1e5 -> 1e5 / (3.92e-9 * 7.87e-6) is far beyond int32. The weight scale
// is widened to |bias| / (s_in * (2^31 - 1)) * 1.0001 = 11875.6.
// REMARK: remark: int32 bias guard: channel 0 weight scale widened from 7.87402e-06 to 11875.6 so that bias 100000 fits at scale input x weight
// CHECK: quant.qcast %{{.*}} : tensor<1x1x1x1xf32> to tensor<1x1x1x1x!quant.uniform<i8<-127:127>:f32:0, {11875.55{{[0-9]*}}}>>
func.func @forward(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32> {
  %w = "tosa.const"() {values = dense<1.0e-3> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %b = "tosa.const"() {values = dense<1.0e5> : tensor<1xf32>} : () -> tensor<1xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x2x2x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x1xf32> loc("conv")
  return %c : tensor<1x2x2x1xf32>
}
