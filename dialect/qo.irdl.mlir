// The quant-opt dialect `qo`: ops with no upstream equivalent.
//
// Loaded at start-up through mlirLoadIRDLDialects. IRDL gives generic syntax
// only, e.g.
//   %y = "qo.batch_norm"(%x, %scale, %bias, %mean, %var)
//          {epsilon = 1.0e-05 : f32, axis = 3 : i64}
//        : (tensor<1x28x28x16xf32>, tensor<16xf32>, tensor<16xf32>,
//           tensor<16xf32>, tensor<16xf32>) -> tensor<1x28x28x16xf32>
//   %y = "qo.observe"(%x) {id = 0 : i64, name = "conv1"}
//        : (tensor<1x28x28x16xf32>) -> tensor<1x28x28x16xf32>
irdl.dialect @qo {
  // Inference-mode BatchNormalization, channel along `axis`:
  //   y = (x - mean) * scale / sqrt(var + epsilon) + bias
  // Emitted by the ONNX importer so that BN folding has an explicit op;
  // decomposed to per-channel tosa.mul/tosa.add for float execution.
  irdl.operation @batch_norm {
    %tensor = irdl.base "!builtin.tensor"
    %vec = irdl.base "!builtin.tensor"
    irdl.operands(input: %tensor, scale: %vec, bias: %vec, mean: %vec, variance: %vec)
    irdl.results(output: %tensor)
    %f = irdl.base "#builtin.float"
    %i = irdl.base "#builtin.integer"
    irdl.attributes { "epsilon" = %f, "axis" = %i }
  }
  // Calibration observer: identity on its operand; instrumented models call
  // into the runtime's statistics collector with tensor `id`.
  irdl.operation @observe {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(input: %tensor)
    irdl.results(output: %tensor)
    %i = irdl.base "#builtin.integer"
    %s = irdl.base "#builtin.string"
    irdl.attributes { "id" = %i, "name" = %s }
  }
}
