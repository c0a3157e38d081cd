// Pipeline errors name the culprit and exit non-zero.
// RUN: not %quant_opt %s -p 'builtin.module(no-such-pass)' 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-decompose-batchnorm{bogus=1}))' 2>&1 | FileCheck %s --check-prefix=OWNOPT
// RUN: not %quant_opt %s -p 'builtin.module(canonicalize{bogus=1})' 2>&1 | FileCheck %s --check-prefix=UPOPT
// RUN: not %quant_opt %s -p 'builtin.module(func.func(cse)' 2>&1 | FileCheck %s --check-prefix=PAREN
// RUN: not %quant_opt %s -p 'builtin.module(cse,,canonicalize)' 2>&1 | FileCheck %s --check-prefix=EMPTY
// RUN: not %quant_opt %s -p 'lower-to-llvm{x=1}' 2>&1 | FileCheck %s --check-prefix=NAMEDOPT
// Mixed own + upstream + named pipelines parse and run:
// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-decompose-batchnorm,cse),canonicalize)' | FileCheck %s --check-prefix=OK
// RUN: %quant_opt %s -p lower-to-linalg | FileCheck %s --check-prefix=NAMED

// UNKNOWN: quant-opt: error: invalid pipeline: unknown pass or pipeline 'no-such-pass' (see --list-passes)
// OWNOPT: quant-opt: error: invalid pipeline: no such option 'bogus' for pass 'quant-decompose-batchnorm'
// UPOPT: quant-opt: error: invalid pipeline: {{.*}}bogus
// PAREN: quant-opt: error: invalid pipeline: unbalanced
// EMPTY: quant-opt: error: invalid pipeline: empty element in pipeline
// NAMEDOPT: quant-opt: error: invalid pipeline: named pipeline 'lower-to-llvm' takes no options
// OK-LABEL: func.func @f
// OK: tosa.negate
// NAMED-LABEL: func.func @f
// NAMED: linalg.generic
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %z = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %y = tosa.negate %x, %z, %z : (tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
