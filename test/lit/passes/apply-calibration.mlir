// RUN: %quant_opt %S/../Inputs/qdq-small.mlir -p 'builtin.module(func.func(quant-insert-qdq),quant-apply-calibration{table=%S/../Inputs/table-small.json method=minmax})' --remarks 2>%t.remarks | FileCheck %s
// RUN: FileCheck %s --check-prefix=REMARK < %t.remarks
// RUN: %quant_opt %S/../Inputs/qdq-small.mlir -p 'builtin.module(func.func(quant-insert-qdq{activation-scheme=symmetric activation-dtype=int8}),quant-apply-calibration{table=%S/../Inputs/table-small.json method=percentile})' | FileCheck %s --check-prefix=SYM
// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-insert-qdq),quant-apply-calibration{table=%S/../Inputs/table-concat.json method=minmax})' --remarks 2>&1 >/dev/null | FileCheck %s --check-prefix=CONCAT

// affine uint8, minmax: arg0 [-1, 3] -> scale 4/255, zp round(1/(4/255)) = 64;
// relu [0, 2.55] -> scale 0.01, zp 0; pool takes relu's parameters (max
// pooling preserves the scale) even though the table says [0, 1].
// CHECK-LABEL: func.func @forward
// CHECK: quant.qcast %arg0 {qo.id = 0 : i64, qo.name = "arg0"} : tensor<1x4x4x1xf32> to tensor<1x4x4x1x!quant.uniform<u8:f32, 0.015686{{[0-9]*}}:64>>
// CHECK: quant.qcast %{{.*}} {qo.id = 1 : i64, qo.name = "relu"} : tensor<1x4x4x2xf32> to tensor<1x4x4x2x!quant.uniform<u8:f32, 0.0099999{{[0-9]*}}>>
// CHECK: quant.qcast %{{.*}} {qo.id = 2 : i64, qo.name = "pool"} : tensor<1x2x2x2xf32> to tensor<1x2x2x2x!quant.uniform<u8:f32, 0.0099999{{[0-9]*}}>>
// CHECK-NOT: qo.uncalibrated
// REMARK: remark: point 1 ('relu'): 2 NaN and 0 Inf values were seen in calibration and ignored
// REMARK: remark: point 0 ('arg0'): minmax range [-1, 3] -> scale 0.0156863, zero point 64
// REMARK: remark: point 1 ('relu'): minmax range [0, 2.55] -> scale 0.01, zero point 0
// REMARK: remark: point 2 ('pool'): same scale and zero point as point 1 through tosa.max_pool2d
// symmetric int8, percentile: arg0 [-0.5, 2] -> scale 2/127, zp 0.
// SYM: quant.qcast %arg0 {{.*}} to tensor<1x4x4x1x!quant.uniform<i8:f32, 0.015748{{[0-9]*}}>>

// Concat shares one range: the union of its inputs' and output's ranges.
// CONCAT: remark: concat: 3 quantization points share the range [-2, 4]
// CONCAT-DAG: remark: point 0 ('arg0'): minmax range [-2, 4] -> scale 0.0235294, zero point 85
// CONCAT-DAG: remark: point 1 ('arg1'): minmax range [-2, 4] -> scale 0.0235294, zero point 85
// CONCAT: remark: point 2 ('cat'): minmax range [-2, 4] -> scale 0.0235294, zero point 85
func.func @concat(%x: tensor<1x2xf32>, %y: tensor<1x2xf32>) -> tensor<1x4xf32> {
  %c = tosa.concat %x, %y {axis = 1 : i32} : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<1x4xf32> loc("cat")
  return %c : tensor<1x4xf32>
}
