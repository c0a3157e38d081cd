// Pipeline errors name the culprit and exit non-zero.
// RUN: not %quant_opt %s -p 'builtin.module(no-such-pass)' 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-decompose-batchnorm{bogus=1}))' 2>&1 | FileCheck %s --check-prefix=OWNOPT
// RUN: not %quant_opt %s -p 'builtin.module(canonicalize{bogus=1})' 2>&1 | FileCheck %s --check-prefix=UPOPT
// RUN: not %quant_opt %s -p 'builtin.module(func.func(cse)' 2>&1 | FileCheck %s --check-prefix=PAREN
// RUN: not %quant_opt %s -p 'builtin.module(cse,,canonicalize)' 2>&1 | FileCheck %s --check-prefix=EMPTY
// RUN: not %quant_opt %s -p 'lower-to-llvm{x=1}' 2>&1 | FileCheck %s --check-prefix=NAMEDOPT
// Passes at the wrong nesting level: a located error (never an LLVM abort),
// or, for a func.func pass at module level, nested for the user.
// DEFINE: %{deep} = func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(func.func(cse))))))))))))))))))))))))))))))))))
// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-apply-calibration))' 2>&1 | FileCheck %s --check-prefix=MODNEST
// RUN: not %quant_opt %s -p 'func.func(quant-prepare)' 2>&1 | FileCheck %s --check-prefix=NAMEDNEST
// RUN: not %quant_opt %s -p 'func.func(lower-to-llvm)' 2>&1 | FileCheck %s --check-prefix=NAMEDNEST2
// RUN: not %quant_opt %s -p 'builtin.module(func.func(convert-func-to-llvm))' 2>&1 | FileCheck %s --check-prefix=UPNEST
// RUN: not %quant_opt %s -p 'foo(cse)' 2>&1 | FileCheck %s --check-prefix=NOTOP
// RUN: not %quant_opt %s -p "%{deep}" 2>&1 | FileCheck %s --check-prefix=DEEP
// RUN: %quant_opt %s -p quant-decompose-batchnorm | FileCheck %s --check-prefix=OK
// MODNEST: quant-opt: error: invalid pipeline: pass 'quant-apply-calibration' runs on 'builtin.module' ops and cannot be nested inside 'func.func(...)'; use it at the top level of the pipeline
// NAMEDNEST: quant-opt: error: invalid pipeline: named pipeline 'quant-prepare' runs on the whole module and cannot be nested inside 'func.func(...)'
// NAMEDNEST2: quant-opt: error: invalid pipeline: named pipeline 'lower-to-llvm' runs on the whole module
// UPNEST: quant-opt: error: invalid pipeline: Can't add pass 'ConvertFuncToLLVMPass' restricted to 'builtin.module' on a PassManager intended to run on 'func.func'
// NOTOP: quant-opt: error: invalid pipeline: 'foo(...)' does not name an operation (dialect.op) to nest passes under
// DEEP: quant-opt: error: invalid pipeline: pipeline nested more than 32 levels deep
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
