// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-reassociate-float{min-trip-count=8}))' | FileCheck %s
// RUN: %quant_opt %s -p 'builtin.module(func.func(quant-reassociate-float))' | FileCheck %s --check-prefix=SHORT
// RUN: not %quant_opt %s -p 'builtin.module(func.func(quant-reassociate-float{min-trip-count=0}))' 2>&1 | FileCheck %s --check-prefix=BAD
// SHORT-NOT: fastmath
// BAD: min-trip-count must be a positive integer
// Float adds/multiplies inside loops get reassoc+contract (vectorizable
// reductions); the same ops outside loops are left alone.
// CHECK-LABEL: func.func @f
// CHECK: arith.mulf {{.*}} fastmath<reassoc,contract>
// CHECK: arith.addf {{.*}} fastmath<reassoc,contract>
// CHECK: scf.yield
// CHECK: %[[R:.*]] = arith.addf %{{[^ ]*}}, %{{[^ ]*}} : f32
// CHECK: return %[[R]]
func.func @f(%a: memref<8xf32>, %b: memref<8xf32>, %z: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %s = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %z) -> (f32) {
    %x = memref.load %a[%i] : memref<8xf32>
    %y = memref.load %b[%i] : memref<8xf32>
    %p = arith.mulf %x, %y : f32
    %n = arith.addf %acc, %p : f32
    scf.yield %n : f32
  }
  %r = arith.addf %s, %z : f32
  return %r : f32
}
