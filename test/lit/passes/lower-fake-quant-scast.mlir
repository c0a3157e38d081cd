// quant-lower-fake-quant on the integer boundaries of imported pre-quantized
// models: quant.scast from integer storage + quant.dcast (dequantize) and
// quant.qcast + quant.scast to integer storage (quantize), per-tensor and
// per-axis; uint8 boundaries (tensor.bitcast ui8 <-> i8) fold into the
// signature.
// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-lower-fake-quant))' | FileCheck %s

// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%arg0: tensor<1x4xi8>, %arg1: tensor<1x2x3xf32>, %arg2: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x2x3xi8>, tensor<1x4xi8>)
// CHECK-NOT: quant.
// CHECK-NOT: tensor.bitcast
// Dequantize u8 storage: unsigned conversion, minus the zero point, times the scale.
// CHECK: %[[F:.*]] = arith.uitofp %arg0 : tensor<1x4xi8> to tensor<1x4xf32>
// CHECK: %[[Z:.*]] = arith.subf %[[F]], %{{.*}} : tensor<1x4xf32>
// CHECK: %[[A:.*]] = arith.mulf %[[Z]], %{{.*}} : tensor<1x4xf32>
// Per-axis quantize: scales and zero points tiled along axis 1, signed result.
// CHECK: %[[SC:.*]] = "tosa.const"() <{values = dense<{{\[\[}}[5.000000e-01], [2.500000e-01]]]> : tensor<1x2x1xf32>}>
// CHECK: %[[M:.*]] = tosa.const_shape {values = dense<[1, 1, 3]> : tensor<3xindex>}
// CHECK: %[[ST:.*]] = tosa.tile %[[SC]], %[[M]] : (tensor<1x2x1xf32>, !tosa.shape<3>) -> tensor<1x2x3xf32>
// CHECK: %[[D:.*]] = arith.divf %arg1, %[[ST]] : tensor<1x2x3xf32>
// CHECK: %[[R:.*]] = math.roundeven %[[D]]
// CHECK: arith.addf %[[R]]
// CHECK: arith.maximumf
// CHECK: %[[HI:.*]] = arith.minimumf
// CHECK: %[[Q:.*]] = arith.fptosi %[[HI]] : tensor<1x2x3xf32> to tensor<1x2x3xi8>
// Per-tensor u8 quantize to an unsigned-storage result.
// CHECK: arith.divf %arg2
// CHECK: %[[U:.*]] = arith.fptoui %{{.*}} : tensor<1x4xf32> to tensor<1x4xi8>
// CHECK: return %[[A]], %[[Q]], %[[U]] : tensor<1x4xf32>, tensor<1x2x3xi8>, tensor<1x4xi8>
!u = !quant.uniform<u8:f32, 2.0:128>
!pa = !quant.uniform<i8:f32:1, {0.5:1, 0.25:-3}>
!o = !quant.uniform<u8:f32, 0.25:10>
func.func @forward(%a: tensor<1x4xui8>, %x: tensor<1x2x3xf32>, %y: tensor<1x4xf32>)
    -> (tensor<1x4xf32>, tensor<1x2x3xi8>, tensor<1x4xui8>) attributes {llvm.emit_c_interface} {
  %ab = tensor.bitcast %a : tensor<1x4xui8> to tensor<1x4xi8>
  %aq = quant.scast %ab : tensor<1x4xi8> to tensor<1x4x!u>
  %ad = quant.dcast %aq : tensor<1x4x!u> to tensor<1x4xf32>
  %xq = quant.qcast %x {qo.id = 0 : i64, qo.name = "x"} : tensor<1x2x3xf32> to tensor<1x2x3x!pa>
  %xi = quant.scast %xq : tensor<1x2x3x!pa> to tensor<1x2x3xi8>
  %yq = quant.qcast %y {qo.id = 1 : i64, qo.name = "y"} : tensor<1x4xf32> to tensor<1x4x!o>
  %yi = quant.scast %yq : tensor<1x4x!o> to tensor<1x4xi8>
  %yu = tensor.bitcast %yi : tensor<1x4xi8> to tensor<1x4xui8>
  return %ad, %xi, %yu : tensor<1x4xf32>, tensor<1x2x3xi8>, tensor<1x4xui8>
}

// Exact values through the JIT (ONNX DequantizeLinear/QuantizeLinear
// semantics: round half to even, saturate).
// RUN: rm -rf %t && mkdir -p %t/out
// RUN: %python -c "import numpy as np; np.save('%t/a.npy', np.array([[0, 3, 128, 255]], np.uint8)); np.save('%t/x.npy', np.array([[[-1.0, 0.25, 0.75], [2.5, -300.0, 0.375]]], np.float32)); np.save('%t/y.npy', np.array([[0.625, 1.0, 300.0, -5.0]], np.float32))"
// RUN: %qo_run -q %s %t/a.npy %t/x.npy %t/y.npy --output-dir %t/out
// RUN: %python -c "import numpy as np, glob; [print(f.split('/')[-1], np.load(f).dtype, np.load(f).ravel().tolist()) for f in sorted(glob.glob('%t/out/*.npy'))]" | FileCheck %s --check-prefix=EXEC
// EXEC: output0.npy float32 [-256.0, -250.0, 0.0, 254.0]
// EXEC: output1.npy int8 [-1, 1, 3, 7, -128, -1]
// EXEC: output2.npy uint8 [12, 14, 255, 0]
