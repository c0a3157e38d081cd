// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-lower-to-integer))' --split-input-file --remarks 2>%t.remarks | FileCheck %s
// RUN: FileCheck %s --check-prefix=REMARK < %t.remarks
// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-insert-qdq,quant-lower-to-integer))' --split-input-file 2>&1 | FileCheck %s --check-prefix=UNCAL

// A group whose activation has no integer form (LeakyReLU) stays float
// between its Q-DQ pairs (mixed precision), with a remark.
// REMARK: remark: group stays float: its output is not a single quantization point
// CHECK-LABEL: func.func @leaky_stays_float
// CHECK: quant.qcast
// CHECK: tosa.conv2d {{.*}} : (tensor<1x2x2x1xf32>
// CHECK: tosa.maximum
// CHECK: quant.dcast
// UNCAL: error: quant-lower-to-integer needs calibrated quantization points
func.func @leaky_stays_float(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32> {
  %qx = quant.qcast %x {qo.id = 0 : i64} : tensor<1x2x2x1xf32> to tensor<1x2x2x1x!quant.uniform<u8:f32, 0.05:20>>
  %dx = quant.dcast %qx : tensor<1x2x2x1x!quant.uniform<u8:f32, 0.05:20>> to tensor<1x2x2x1xf32>
  %w = "tosa.const"() {values = dense<0.5> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %qw = quant.qcast %w : tensor<1x1x1x1xf32> to tensor<1x1x1x1x!quant.uniform<i8<-127:127>:f32:0, {0.004}>>
  %dw = quant.dcast %qw : tensor<1x1x1x1x!quant.uniform<i8<-127:127>:f32:0, {0.004}>> to tensor<1x1x1x1xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %dx, %dw, %b, %b, %b {acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x2x2x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x1xf32>
  %al = "tosa.const"() {values = dense<0.1> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %sh = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.mul %c, %al, %sh : (tensor<1x2x2x1xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x2x2x1xf32>
  %y = tosa.maximum %c, %m : (tensor<1x2x2x1xf32>, tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32>
  %qy = quant.qcast %y {qo.id = 1 : i64} : tensor<1x2x2x1xf32> to tensor<1x2x2x1x!quant.uniform<u8:f32, 0.01:128>>
  %dy = quant.dcast %qy : tensor<1x2x2x1x!quant.uniform<u8:f32, 0.01:128>> to tensor<1x2x2x1xf32>
  return %dy : tensor<1x2x2x1xf32>
}

// -----

// REMARK: remark: max_pool2d between points with different scales stays float
// CHECK-LABEL: func.func @pool_scales_differ
// CHECK: tosa.max_pool2d {{.*}} -> tensor<1x1x1x1xf32>
func.func @pool_scales_differ(%x: tensor<1x2x2x1xf32>) -> tensor<1x1x1x1xf32> {
  %qx = quant.qcast %x {qo.id = 0 : i64} : tensor<1x2x2x1xf32> to tensor<1x2x2x1x!quant.uniform<u8:f32, 0.05:20>>
  %dx = quant.dcast %qx : tensor<1x2x2x1x!quant.uniform<u8:f32, 0.05:20>> to tensor<1x2x2x1xf32>
  %p = tosa.max_pool2d %dx {kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : (tensor<1x2x2x1xf32>) -> tensor<1x1x1x1xf32>
  %qp = quant.qcast %p {qo.id = 1 : i64} : tensor<1x1x1x1xf32> to tensor<1x1x1x1x!quant.uniform<u8:f32, 0.1:20>>
  %dp = quant.dcast %qp : tensor<1x1x1x1x!quant.uniform<u8:f32, 0.1:20>> to tensor<1x1x1x1xf32>
  return %dp : tensor<1x1x1x1xf32>
}
