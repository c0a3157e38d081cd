// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-fold-batchnorm))' --split-input-file --remarks 2>%t.remarks | FileCheck %s
// RUN: FileCheck %s --check-prefix=REMARK < %t.remarks

// conv2d: W'[o] = W[o] * a[o], B'[o] = B[o]*a[o] + b[o] - m[o]*a[o].
// a = scale / sqrt(var + eps) = [2/sqrt(4), 3/sqrt(9)] = [1, 1] * ... here:
// scale [2, 3], var [4, 9], eps 0 -> a = [1, 1]; make it [2, 0.5] instead:
// scale [4, 1.5], var [4, 9] -> a = [2, 0.5]; bias [1, 2], mean [0.5, 4]
// B = [10, 20] -> B' = [10*2 + 1 - 0.5*2, 20*0.5 + 2 - 4*0.5] = [20, 10]
// REMARK: fold-batchnorm.mlir:[[@LINE+16]]:{{[0-9]+}}: remark: batch norm folded into the preceding convolution
// CHECK-LABEL: func.func @conv
// CHECK-DAG: %[[W:.*]] = "tosa.const"() <{values = dense<{{\[\[\[\[}}2.000000e+00], [4.000000e+00]]], {{\[\[\[}}5.000000e-01], [-5.000000e-01]]]]> : tensor<2x1x2x1xf32>}>
// CHECK-DAG: %[[B:.*]] = "tosa.const"() <{values = dense<[2.000000e+01, 1.000000e+01]> : tensor<2xf32>}>
// CHECK: %[[C:.*]] = tosa.conv2d %arg0, %[[W]], %[[B]]
// CHECK-NOT: qo.batch_norm
// CHECK: return %[[C]]
func.func @conv(%x: tensor<1x3x3x1xf32>) -> tensor<1x3x2x2xf32> {
  %w = "tosa.const"() {values = dense<[[[[1.0], [2.0]]], [[[1.0], [-1.0]]]]> : tensor<2x1x2x1xf32>} : () -> tensor<2x1x2x1xf32>
  %b = "tosa.const"() {values = dense<[10.0, 20.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x3x3x1xf32>, tensor<2x1x2x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x3x2x2xf32>
  %s = "tosa.const"() {values = dense<[4.0, 1.5]> : tensor<2xf32>} : () -> tensor<2xf32>
  %bb = "tosa.const"() {values = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %m = "tosa.const"() {values = dense<[0.5, 4.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %v = "tosa.const"() {values = dense<[4.0, 9.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "qo.batch_norm"(%c, %s, %bb, %m, %v) {epsilon = 0.0 : f32, axis = 3 : i64} : (tensor<1x3x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x3x2x2xf32>
  return %y : tensor<1x3x2x2xf32>
}

// -----

// depthwise_conv2d (HWCM, C=2, M=1): output channel c scales weights [..., c, 0].
// a = [2, 0.5]; B' = [0*2 + 1 - 0.5*2, 0*0.5 + 2 - 4*0.5] = [0, 0]
// CHECK-LABEL: func.func @depthwise
// CHECK-DAG: "tosa.const"() <{values = dense<{{\[\[\[\[}}2.000000e+00], [5.000000e-01]]]]> : tensor<1x1x2x1xf32>}>
// CHECK-DAG: "tosa.const"() <{values = dense<0.000000e+00> : tensor<2xf32>}>
// CHECK: tosa.depthwise_conv2d
// CHECK-NOT: qo.batch_norm
func.func @depthwise(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = "tosa.const"() {values = dense<1.0> : tensor<1x1x2x1xf32>} : () -> tensor<1x1x2x1xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.depthwise_conv2d %x, %w, %b, %zp, %zp {acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<1x1x2x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %s = "tosa.const"() {values = dense<[4.0, 1.5]> : tensor<2xf32>} : () -> tensor<2xf32>
  %bb = "tosa.const"() {values = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %m = "tosa.const"() {values = dense<[0.5, 4.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %v = "tosa.const"() {values = dense<[4.0, 9.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "qo.batch_norm"(%c, %s, %bb, %m, %v) {epsilon = 0.0 : f32, axis = 3 : i64} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// -----

// Nothing to fold into (a function argument): per-channel mul + add.
// REMARK: fold-batchnorm.mlir:[[@LINE+7]]:{{[0-9]+}}: remark: batch norm has no conv to fold into
// CHECK-LABEL: func.func @standalone
// CHECK: tosa.mul %arg0
// CHECK: tosa.add
// CHECK-NOT: qo.batch_norm
func.func @standalone(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %one = "tosa.const"() {values = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "qo.batch_norm"(%x, %one, %one, %one, %one) {epsilon = 0.0 : f32, axis = 3 : i64} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// -----

// A conv whose result has another user is not changed.
// CHECK-LABEL: func.func @shared_conv
// CHECK: %[[C:.*]] = tosa.conv2d
// CHECK: tosa.mul %[[C]]
// CHECK: return %{{.*}}, %[[C]]
func.func @shared_conv(%x: tensor<1x2x2x1xf32>) -> (tensor<1x2x2x1xf32>, tensor<1x2x2x1xf32>) {
  %w = "tosa.const"() {values = dense<2.0> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %b, %b {acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x2x2x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x1xf32>
  %one = "tosa.const"() {values = dense<1.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %y = "qo.batch_norm"(%c, %one, %one, %one, %one) {epsilon = 0.0 : f32, axis = 3 : i64} : (tensor<1x2x2x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x1xf32>
  return %y, %c : tensor<1x2x2x1xf32>, tensor<1x2x2x1xf32>
}

// -----

// Gemm as imported (matmul -> reshape -> bias add) then BN over the last
// axis: a = [2, 0.5] (scale [4, 1.5], var [4, 9]), shift = b - m*a = [0, 0]
// (bias [1, 2], mean [0.5, 4]); W columns scaled, bias' = bias*a + shift.
// CHECK-LABEL: func.func @gemm
// CHECK: %[[W:.*]] = "tosa.const"() <{values = dense<{{\[\[\[}}2.000000e+00, 5.000000e-01], [4.000000e+00, -5.000000e-01]]]> : tensor<1x2x2xf32>}>
// CHECK: tosa.matmul %arg0, %[[W]]
// CHECK: tosa.reshape
// CHECK: %[[B:.*]] = "tosa.const"() <{values = dense<{{\[\[}}2.000000e+00, 1.000000e+00]]> : tensor<1x2xf32>}>
// CHECK: %[[A:.*]] = tosa.add %{{.*}}, %[[B]]
// CHECK-NOT: qo.batch_norm
// CHECK: return %[[A]]
func.func @gemm(%x: tensor<1x3x2xf32>) -> tensor<3x2xf32> {
  %w = "tosa.const"() {values = dense<[[[1.0, 1.0], [2.0, -1.0]]]> : tensor<1x2x2xf32>} : () -> tensor<1x2x2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %m = tosa.matmul %x, %w, %zp, %zp : (tensor<1x3x2xf32>, tensor<1x2x2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x3x2xf32>
  %sh = tosa.const_shape {values = dense<[3, 2]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %r = tosa.reshape %m, %sh : (tensor<1x3x2xf32>, !tosa.shape<2>) -> tensor<3x2xf32>
  %bias = "tosa.const"() {values = dense<[[1.0, 2.0]]> : tensor<1x2xf32>} : () -> tensor<1x2xf32>
  %a = tosa.add %r, %bias : (tensor<3x2xf32>, tensor<1x2xf32>) -> tensor<3x2xf32>
  %s = "tosa.const"() {values = dense<[4.0, 1.5]> : tensor<2xf32>} : () -> tensor<2xf32>
  %bb = "tosa.const"() {values = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %mean = "tosa.const"() {values = dense<[0.5, 4.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %v = "tosa.const"() {values = dense<[4.0, 9.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "qo.batch_norm"(%a, %s, %bb, %mean, %v) {epsilon = 0.0 : f32, axis = 1 : i64} : (tensor<3x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// The explicit per-channel mul + add by constants after a conv fold too:
// W' = W * [3, 2], B' = B * [3, 2] + [1, -1] = [1, 1] with B = [0, 1].
// REMARK: fold-batchnorm.mlir:[[@LINE+15]]:{{[0-9]+}}: remark: per-channel multiply folded into the convolution's weights and bias
// CHECK-LABEL: func.func @conv_mul_add
// CHECK-DAG: "tosa.const"() <{values = dense<{{\[\[\[\[}}3.000000e+00]]], {{\[\[\[}}-2.000000e+00]]]]> : tensor<2x1x1x1xf32>}>
// CHECK-DAG: "tosa.const"() <{values = dense<1.000000e+00> : tensor<2xf32>}>
// CHECK: %[[C:.*]] = tosa.conv2d
// CHECK-NOT: tosa.mul
// CHECK-NOT: tosa.add
// CHECK: return %[[C]]
func.func @conv_mul_add(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x2xf32> {
  %w = "tosa.const"() {values = dense<[[[[1.0]]], [[[-1.0]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %b = "tosa.const"() {values = dense<[0.0, 1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x2x2x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %k = "tosa.const"() {values = dense<[[[[3.0, 2.0]]]]> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %sh = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.mul %c, %k, %sh : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>, tensor<1xi8>) -> tensor<1x2x2x2xf32>
  %o = "tosa.const"() {values = dense<[[[[1.0, -1.0]]]]> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %y = tosa.add %m, %o : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}
