// Each part is processed on its own; line numbers stay those of the file.
// RUN: not %quant_opt --split-input-file %s 2>%t.err | FileCheck %s
// RUN: FileCheck %s --check-prefix=ERR < %t.err

// CHECK: func.func @first
func.func @first(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

// ERR: split-input-file.mlir:[[@LINE+2]]:{{[0-9]+}}: error: use of undeclared SSA value name
func.func @second(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %nope : tensor<4xf32>
}

// -----

// CHECK: func.func @third
func.func @third(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
