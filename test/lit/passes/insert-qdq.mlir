// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-insert-qdq))' --split-input-file | FileCheck %s
// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-insert-qdq{activation-scheme=symmetric activation-dtype=int8 reduce-range=true weight-granularity=per-tensor}))' --split-input-file | FileCheck %s --check-prefix=SYM
// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-insert-qdq{exclude-ops=max_pool2d keep-last-float=true}))' --split-input-file --remarks 2>%t.remarks | FileCheck %s --check-prefix=EXCL
// RUN: FileCheck %s --check-prefix=EXCL-REMARK < %t.remarks
// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-insert-qdq))' --split-input-file --remarks 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK-DW
// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-insert-qdq{quantize-outputs=true}))' --split-input-file | FileCheck %s --check-prefix=OUTQ
// RUN: echo '{"activation-dtype": "int8", "exclude-nodes": ["pool"]}' > %t.json
// RUN: %quant_opt %s -p "builtin.module(func.func(quant-insert-qdq{config=%t.json}))" --split-input-file | FileCheck %s --check-prefix=CFG

// conv + relu is one group: pairs on its input and its output, none between
// the conv and the clamp; the weights are quantized per output channel
// (max|w| / 127: channel 0 max 2 -> 2/127, channel 1 max 0.5 -> 0.5/127).
// The pool is a group too; its input point is the conv group's output point.
// CHECK-LABEL: func.func @conv_relu_pool
// CHECK:      %[[QX:.*]] = quant.qcast %arg0 {qo.id = 0 : i64, qo.name = "arg0", qo.uncalibrated} : tensor<1x4x4x1xf32> to tensor<1x4x4x1x!quant.uniform<u8:f32, 1.000000e+00>>
// CHECK:      %[[DX:.*]] = quant.dcast %[[QX]]
// CHECK:      %[[QW:.*]] = quant.qcast %{{.*}} : tensor<2x1x1x1xf32> to tensor<2x1x1x1x!quant.uniform<i8<-127:127>:f32:0, {0.015748031{{[0-9]*}},0.003937007{{[0-9]*}}}>>
// CHECK:      %[[DW:.*]] = quant.dcast %[[QW]]
// CHECK:      %[[C:.*]] = tosa.conv2d %[[DX]], %[[DW]]
// CHECK-NEXT: %[[R:.*]] = tosa.clamp %[[C]]
// CHECK-NEXT: %[[QR:.*]] = quant.qcast %[[R]] {qo.id = 1 : i64, qo.name = "relu"
// CHECK-NEXT: %[[DR:.*]] = quant.dcast %[[QR]]
// CHECK-NEXT: %[[P:.*]] = tosa.max_pool2d %[[DR]]
// CHECK-NEXT: %[[QP:.*]] = quant.qcast %[[P]] {qo.id = 2 : i64, qo.name = "pool"
// CHECK-NEXT: %[[DP:.*]] = quant.dcast %[[QP]]
// CHECK-NEXT: return %[[DP]]
// SYM-LABEL: func.func @conv_relu_pool
// SYM: quant.qcast %arg0 {qo.id = 0 : i64, qo.name = "arg0", qo.symmetric, qo.uncalibrated} : tensor<1x4x4x1xf32> to tensor<1x4x4x1x!quant.uniform<i8<-64:63>:f32, 1.000000e+00>>
// SYM: to tensor<2x1x1x1x!quant.uniform<i8<-127:127>:f32, 0.015748031{{[0-9]*}}>>
// EXCL-LABEL: func.func @conv_relu_pool
// EXCL-NOT: quant.qcast
// EXCL: return
// EXCL-REMARK: remark: 'tosa.max_pool2d' stays float (excluded by the options)
// EXCL-REMARK: remark: first/last layer stays float
// CFG-LABEL: func.func @conv_relu_pool
// CFG: quant.qcast %arg0 {{.*}} to tensor<1x4x4x1x!quant.uniform<i8:f32, 1.000000e+00>>
// CFG: tosa.max_pool2d
// CFG-NOT: qo.name = "pool"
func.func @conv_relu_pool(%x: tensor<1x4x4x1xf32>) -> tensor<1x2x2x2xf32> {
  %w = "tosa.const"() {values = dense<[[[[2.0]]], [[[-0.5]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32> loc("conv")
  %r = tosa.clamp %c {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> loc("relu")
  %p = tosa.max_pool2d %r {kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32> loc("pool")
  return %p : tensor<1x2x2x2xf32>
}

// -----

// Residual add of two activations (+ relu) is a group; a bias add after a
// conv stays inside the conv's group.
// CHECK-LABEL: func.func @residual
// CHECK-DAG: quant.qcast %arg0 {qo.id = 0
// CHECK-DAG: quant.qcast %arg1 {qo.id = 1
// CHECK: %[[A:.*]] = tosa.add
// CHECK-NEXT: %[[R:.*]] = tosa.clamp %[[A]]
// CHECK-NEXT: quant.qcast %[[R]] {qo.id = 2
func.func @residual(%x: tensor<1x4xf32>, %y: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %a = tosa.add %x, %y : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  %r = tosa.clamp %a {min_val = 0.0 : f32, max_val = 3.4e38 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %r : tensor<1x4xf32>
}

// -----

// Gemm as the importer emits it: matmul + reshape + bias add (+ LeakyReLU as
// maximum(x, x * alpha)) is one group; weights per output column (axis 2).
// CHECK-LABEL: func.func @gemm_leaky
// CHECK: quant.qcast %arg0 {qo.id = 0
// CHECK: to tensor<1x2x3x!quant.uniform<i8<-127:127>:f32:2, {0.0078740157{{[0-9]*}},0.015748031{{[0-9]*}},0.023622047{{[0-9]*}}}>>
// CHECK: tosa.matmul
// CHECK-NOT: quant.qcast
// CHECK: tosa.reshape
// CHECK-NOT: quant.qcast
// CHECK: tosa.add
// CHECK-NOT: quant.qcast
// CHECK: %[[M:.*]] = tosa.maximum
// CHECK-NOT: quant.qcast
// CHECK: return %[[M]]
// A model output is not quantized by default (the integer lowering
// dequantizes the int32 accumulator); quantize-outputs=true quantizes it.
// OUTQ-LABEL: func.func @gemm_leaky
// OUTQ: %[[M:.*]] = tosa.maximum
// OUTQ-NEXT: quant.qcast %[[M]] {qo.id = 1
func.func @gemm_leaky(%x: tensor<1x1x2xf32>) -> tensor<1x3xf32> {
  %w = "tosa.const"() {values = dense<[[[1.0, 2.0, 3.0], [-0.5, 0.5, -1.0]]]> : tensor<1x2x3xf32>} : () -> tensor<1x2x3xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %m = tosa.matmul %x, %w, %zp, %zp : (tensor<1x1x2xf32>, tensor<1x2x3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x3xf32>
  %s = tosa.const_shape {values = dense<[1, 3]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %r = tosa.reshape %m, %s : (tensor<1x1x3xf32>, !tosa.shape<2>) -> tensor<1x3xf32>
  %b = "tosa.const"() {values = dense<0.5> : tensor<1x3xf32>} : () -> tensor<1x3xf32>
  %a = tosa.add %r, %b : (tensor<1x3xf32>, tensor<1x3xf32>) -> tensor<1x3xf32>
  %al = "tosa.const"() {values = dense<0.1> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %sh = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %t = tosa.mul %a, %al, %sh : (tensor<1x3xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x3xf32>
  %y = tosa.maximum %a, %t : (tensor<1x3xf32>, tensor<1x3xf32>) -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

// A depthwise conv with channel multiplier 2 cannot use per-channel weight
// types along one axis of HWCM: per-tensor weights, with a remark.
// REMARK-DW: remark: per-channel weights need a conv, a depthwise conv with multiplier 1 or a [1,K,N] matmul weight: per-tensor weights used
// CHECK-LABEL: func.func @depthwise_multiplier
// CHECK: to tensor<1x1x1x2x!quant.uniform<i8<-127:127>:f32, 0.023622047{{[0-9]*}}>>
func.func @depthwise_multiplier(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x2xf32> {
  %w = "tosa.const"() {values = dense<[[[[1.0, -3.0]]]]> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.depthwise_conv2d %x, %w, %b, %zp, %zp {acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x2x2x1xf32>, tensor<1x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  return %c : tensor<1x2x2x2xf32>
}
