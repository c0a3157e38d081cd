// RUN: %quant_opt %s -p 'builtin.module(quant-x86-kernels)' --remarks 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: %quant_opt %s -p 'builtin.module(quant-x86-kernels)' | FileCheck %s
// RUN: %quant_opt %s -p 'builtin.module(quant-x86-kernels{isa=avx512-vnni},quant-materialize-kernels)' | FileCheck %s --check-prefix=VNNI
// RUN: %quant_opt %s -p 'builtin.module(quant-x86-kernels{isa=portable},quant-materialize-kernels)' | FileCheck %s --check-prefix=PORTABLE
// RUN: %quant_opt %s -p 'builtin.module(quant-x86-kernels,quant-materialize-kernels)' | FileCheck %s --check-prefix=AUTO
// RUN: %quant_opt %s -p 'builtin.module(quant-x86-kernels{isa=off})' | FileCheck %s --check-prefix=OFF
// RUN: %quant_opt %s --kernels=off -p lower-to-llvm | FileCheck %s --check-prefix=OFF
// RUN: %quant_opt %s --kernels=isa=portable,parallel-min-ops=-1 -p lower-to-llvm | FileCheck %s --check-prefix=DRVPORT
// RUN: not %quant_opt %s --kernels=isa=bogus -p lower-to-llvm 2>&1 | FileCheck %s --check-prefix=DRVBAD
// RUN: not %quant_opt %s -p 'builtin.module(quant-x86-kernels{fp32=maybe})' 2>&1 | FileCheck %s --check-prefix=DRVBAD2

// An int8 conv2d + per-channel rescale + ReLU clamp becomes one kernel call;
// the conv whose accumulator is used twice keeps an int32 epilogue; a conv
// with a non-zero weight zero point stays TOSA.

// REMARK: remark: int8 conv2d -> @qo_conv0 (implicit GEMM, requantize+clamp epilogue)
// REMARK: remark: int8 conv2d -> @qo_conv1 (pointwise GEMM, int32 epilogue)
// REMARK-NOT: remark: int8 conv2d

// CHECK-LABEL: func.func @forward
// CHECK: %[[XB:.*]] = bufferization.to_buffer %arg0 read_only : tensor<1x5x6x3xi8> to memref<1x5x6x3xi8>
// CHECK: %[[Y:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x5x6x17xi8>
// CHECK: call @qo_conv0(%[[XB]], %[[Y]])
// CHECK: bufferization.to_tensor %[[Y]] restrict writable
// CHECK-NOT: tosa.rescale
// CHECK: call @qo_conv1
// CHECK: tosa.add {{.*}}xi32>
// CHECK: tosa.conv2d {{.*}}xi8>
// CHECK: func.func private @qo_conv0(memref<1x5x6x3xi8>, memref<1x5x6x17xi8>) attributes {qo.kernel = "module {
// CHECK-SAME: qo.kernel_dispatch

// VNNI-DAG: memref.global "private" constant @qo_conv0_w : memref<1152xi8>
// VNNI-DAG: memref.global "private" constant @qo_conv0_b : memref<32xi32>
// VNNI-DAG: func.func private @qo_conv0(%arg0: memref<1x5x6x3xi8>, %arg1: memref<1x5x6x17xi8>) attributes {target_features = #llvm.target_features<["+avx512f", "+avx512bw", "+avx512dq", "+avx512vl", "+avx512vnni"]>}
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: arith.shrsi {{.*}} : vector<8xi64>
// VNNI: vector.maskedstore
// VNNI-NOT: qrt_kernel_isa

// PORTABLE: func.func private @qo_conv0(
// PORTABLE-NOT: target_features
// PORTABLE-NOT: call_intrinsic
// PORTABLE: arith.muli {{.*}} : vector<64xi32>
// PORTABLE-NOT: call_intrinsic

// AUTO-DAG: func.func private @qo_conv0_avx512_vnni(
// AUTO-DAG: func.func private @qo_conv0_avx2(
// AUTO-DAG: func.func private @qo_conv0_avx_vnni(
// AUTO-DAG: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// AUTO-DAG: func.func private @qo_conv0_portable(
// The dispatcher calls the runtime's ISA selection (runtime/cpu.c) and picks a
// body by equality: it never reaches a body the selection did not name.
// AUTO-DAG: func.func private @qrt_kernel_isa() -> i32
// AUTO-DAG: %[[ISA:.*]] = call @qrt_kernel_isa() : () -> i32
// AUTO-DAG: arith.cmpi eq, %[[ISA]], %{{.*}} : i32
// AUTO-NOT: arith.cmpi sge, %[[ISA]]

// OFF-NOT: qo_conv

// DRVPORT: llvm.func @qo_conv0(
// DRVPORT-NOT: vpdpbusd
// DRVPORT-NOT: omp.
// DRVPORT-NOT: qrt_kernel_isa
// DRVBAD: quant-opt: error: bad --kernels 'isa=bogus': isa must be auto, avx512-vnni, avx-vnni, avx2, portable or off, not 'bogus'
// An explicit pass option overrides the context's --kernels (here: off).
// RUN: %quant_opt %s --kernels=off -p 'builtin.module(quant-x86-kernels{isa=portable})' --remarks 2>&1 | FileCheck %s --check-prefix=OVERRIDE
// OVERRIDE: remark: int8 conv2d -> @qo_conv0
// DRVBAD2: quant-x86-kernels: fp32 must be true or false

func.func @forward(%x: tensor<1x5x6x3xi8>) -> (tensor<1x5x6x17xi8>, tensor<1x5x6x17xi32>, tensor<1x5x6x4xi32>) {
  %w = "tosa.const"() <{values = dense<3> : tensor<17x3x3x3xi8>}> : () -> tensor<17x3x3x3xi8>
  %b = "tosa.const"() <{values = dense<-7> : tensor<17xi32>}> : () -> tensor<17xi32>
  %xz = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> : () -> tensor<1xi8>
  %wz = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %acc = tosa.conv2d %x, %w, %b, %xz, %wz {acc_type = i32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x5x6x3xi8>, tensor<17x3x3x3xi8>, tensor<17xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x5x6x17xi32>
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<17xi32>}> : () -> tensor<17xi32>
  %s = "tosa.const"() <{values = dense<40> : tensor<17xi8>}> : () -> tensor<17xi8>
  %iz = "tosa.const"() <{values = dense<0> : tensor<1xi32>}> : () -> tensor<1xi32>
  %oz = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> : () -> tensor<1xi8>
  %q = tosa.rescale %acc, %m, %s, %iz, %oz {input_unsigned = false, output_unsigned = false, per_channel = true, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x5x6x17xi32>, tensor<17xi32>, tensor<17xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x5x6x17xi8>
  %r = tosa.clamp %q {max_val = 127 : i8, min_val = -128 : i8} : (tensor<1x5x6x17xi8>) -> tensor<1x5x6x17xi8>
  // Pointwise, accumulator used twice: int32 epilogue.
  %w1 = "tosa.const"() <{values = dense<1> : tensor<17x1x1x3xi8>}> : () -> tensor<17x1x1x3xi8>
  %acc1 = tosa.conv2d %x, %w1, %b, %xz, %wz {acc_type = i32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x5x6x3xi8>, tensor<17x1x1x3xi8>, tensor<17xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x5x6x17xi32>
  %sum = tosa.add %acc1, %acc1 : (tensor<1x5x6x17xi32>, tensor<1x5x6x17xi32>) -> tensor<1x5x6x17xi32>
  // Non-zero weight zero point: not matched.
  %w2 = "tosa.const"() <{values = dense<1> : tensor<4x1x1x3xi8>}> : () -> tensor<4x1x1x3xi8>
  %b2 = "tosa.const"() <{values = dense<0> : tensor<4xi32>}> : () -> tensor<4xi32>
  %wz2 = "tosa.const"() <{values = dense<2> : tensor<1xi8>}> : () -> tensor<1xi8>
  %acc2 = tosa.conv2d %x, %w2, %b2, %xz, %wz2 {acc_type = i32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x5x6x3xi8>, tensor<4x1x1x3xi8>, tensor<4xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x5x6x4xi32>
  return %r, %sum, %acc2 : tensor<1x5x6x17xi8>, tensor<1x5x6x17xi32>, tensor<1x5x6x4xi32>
}
