// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-insert-qdq{activation-scheme=asymmetric}))' 2>&1 | FileCheck %s --check-prefix=SCHEME
// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-insert-qdq{reduce-range=maybe}))' 2>&1 | FileCheck %s --check-prefix=BOOL
// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-insert-qdq{config=/no/such/file.json}))' 2>&1 | FileCheck %s --check-prefix=NOCFG
// RUN: echo '{"activation-dtype": "int8", "bogus": 1}' > %t.json
// RUN: not %quant_opt %s -p "builtin.module(func.func(quant-insert-qdq{config=%t.json}))" 2>&1 | FileCheck %s --check-prefix=BADKEY
// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-insert-qdq))' 2>&1 | FileCheck %s --check-prefix=NAN
// SCHEME: quant-insert-qdq: bad value 'asymmetric' for option 'activation-scheme'
// BOOL: quant-insert-qdq: bad value 'maybe' for option 'reduce-range'
// NOCFG: quant-insert-qdq: cannot read config '/no/such/file.json'
// BADKEY: quant-insert-qdq: config '{{.*}}.json': unknown key 'bogus'

// Weights with NaN cannot be quantized: a located error.
func.func @nan_weights(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32> {
  %w = "tosa.const"() {values = dense<0x7FC00000> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // NAN: insert-qdq-invalid.mlir:[[@LINE+1]]:{{[0-9]+}}: error: cannot quantize the weights (NaN/Inf or a bad shape)
  %c = tosa.conv2d %x, %w, %b, %b, %b {acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x2x2x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x1xf32>
  return %c : tensor<1x2x2x1xf32>
}
