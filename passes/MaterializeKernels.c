/* quant-materialize-kernels: give the kernels quant-x86-kernels declared
 * their bodies.
 *
 * quant-x86-kernels runs on TOSA, before bufferization, but the kernels it
 * generates are already memref code with llvm.call_intrinsic (vpdpbusd) and
 * cpuid inline assembly, which the buffer deallocation passes reject
 * (unknown memory effects). So it leaves declarations
 *   func.func private @qo_conv0(memref<..xi8>, memref<..>) attributes {
 *     qo.kernel = "<module text: weight globals, kernels, dispatcher>",
 *     qo.kernel_dispatch}
 * and this pass, placed after buffer-deallocation-pipeline in lower-to-llvm,
 * replaces each by the parsed text, adding the ISA detection @qo_isa once. */
#include "passes/PassDef.h"
#include "support/buffer.h"
#include "passes/PassUtils.h"
#include "passes/QuantUtils.h"

#include "mlir-c/BuiltinAttributes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* @qo_isa(): 0 portable, 1 avx2, 2 avx-vnni, 3 avx512-vnni. cpuid + xgetbv once, then
 * the environment variable QO_ISA may lower it (never raise it); a value
 * that names no ISA is reported on stderr and ignored. */
static const char kIsaRuntime[] =
    "  llvm.mlir.global internal @qo_isa_cache(-1 : i32) {addr_space = 0 : i32} : i32\n"
    "  llvm.mlir.global private constant @qo_isa_env(\"QO_ISA\\00\") {addr_space = 0 : i32} : !llvm.array<7 x i8>\n"
    "  llvm.mlir.global private constant @qo_isa_n0(\"portable\\00\") {addr_space = 0 : i32} : !llvm.array<9 x i8>\n"
    "  llvm.mlir.global private constant @qo_isa_n1(\"avx2\\00\") {addr_space = 0 : i32} : !llvm.array<5 x i8>\n"
    "  llvm.mlir.global private constant @qo_isa_n2(\"avx-vnni\\00\") {addr_space = 0 : i32} : !llvm.array<9 x i8>\n"
    "  llvm.mlir.global private constant @qo_isa_n3(\"avx512-vnni\\00\") {addr_space = 0 : i32} : !llvm.array<12 x i8>\n"
    "  llvm.mlir.global private constant @qo_isa_warn(\"quant-opt model: warning: QO_ISA is not portable, avx2, avx-vnni or avx512-vnni; ignored\\0A\") {addr_space = 0 : i32} : !llvm.array<89 x i8>\n"
    "  llvm.func @getenv(!llvm.ptr) -> !llvm.ptr\n"
    "  llvm.func @write(i32, !llvm.ptr, i64) -> i64\n"
    "  llvm.func @strcmp(!llvm.ptr, !llvm.ptr) -> i32\n"
    "  func.func private @qo_isa_named(%e: !llvm.ptr, %k: i32, %n: !llvm.ptr, %else: i32) -> i32 {\n"
    "    %r = llvm.call @strcmp(%e, %n) : (!llvm.ptr, !llvm.ptr) -> i32\n"
    "    %z = arith.constant 0 : i32\n"
    "    %eq = arith.cmpi eq, %r, %z : i32\n"
    "    %s = arith.select %eq, %k, %else : i32\n"
    "    return %s : i32\n"
    "  }\n"
    "  func.func private @qo_isa_detect() -> i32 {\n"
    "    %z = arith.constant 0 : i32\n"
    "    %one = arith.constant 1 : i32\n"
    "    %two = arith.constant 2 : i32\n"
    "    %seven = arith.constant 7 : i32\n"
    "    %l0 = llvm.inline_asm has_side_effects \"cpuid\", \"={ax},={bx},={cx},={dx},{ax},{cx}\" %z, %z : (i32, i32) -> !llvm.struct<(i32, i32, i32, i32)>\n"
    "    %max = llvm.extractvalue %l0[0] : !llvm.struct<(i32, i32, i32, i32)>\n"
    "    %l1 = llvm.inline_asm has_side_effects \"cpuid\", \"={ax},={bx},={cx},={dx},{ax},{cx}\" %one, %z : (i32, i32) -> !llvm.struct<(i32, i32, i32, i32)>\n"
    "    %ecx1 = llvm.extractvalue %l1[2] : !llvm.struct<(i32, i32, i32, i32)>\n"
    "    %l7 = llvm.inline_asm has_side_effects \"cpuid\", \"={ax},={bx},={cx},={dx},{ax},{cx}\" %seven, %z : (i32, i32) -> !llvm.struct<(i32, i32, i32, i32)>\n"
    "    %ebx7 = llvm.extractvalue %l7[1] : !llvm.struct<(i32, i32, i32, i32)>\n"
    "    %l71 = llvm.inline_asm has_side_effects \"cpuid\", \"={ax},={bx},={cx},={dx},{ax},{cx}\" %seven, %one : (i32, i32) -> !llvm.struct<(i32, i32, i32, i32)>\n"
    "    %eax71 = llvm.extractvalue %l71[0] : !llvm.struct<(i32, i32, i32, i32)>\n"
    "    %ecx7 = llvm.extractvalue %l7[2] : !llvm.struct<(i32, i32, i32, i32)>\n"
    "    %has7 = arith.cmpi sge, %max, %seven : i32\n"
    "    %mosx = arith.constant 134217728 : i32\n" /* 1<<27 OSXSAVE */
    "    %osx0 = arith.andi %ecx1, %mosx : i32\n"
    "    %osx = arith.cmpi ne, %osx0, %z : i32\n"
    "    %xcr = scf.if %osx -> (i32) {\n"
    "      %xg = llvm.inline_asm has_side_effects \"xgetbv\", \"={ax},={dx},{cx}\" %z : (i32) -> !llvm.struct<(i32, i32)>\n"
    "      %lo = llvm.extractvalue %xg[0] : !llvm.struct<(i32, i32)>\n"
    "      scf.yield %lo : i32\n"
    "    } else {\n"
    "      scf.yield %z : i32\n"
    "    }\n"
    "    %m6 = arith.constant 6 : i32\n"
    "    %mE6 = arith.constant 230 : i32\n"
    "    %x6 = arith.andi %xcr, %m6 : i32\n"
    "    %osavx = arith.cmpi eq, %x6, %m6 : i32\n"
    "    %xE6 = arith.andi %xcr, %mE6 : i32\n"
    "    %os512 = arith.cmpi eq, %xE6, %mE6 : i32\n"
    "    %mavx = arith.constant 268439552 : i32\n" /* AVX (1<<28) | FMA (1<<12) */
    "    %a1 = arith.andi %ecx1, %mavx : i32\n"
    "    %avxfma = arith.cmpi eq, %a1, %mavx : i32\n"
    "    %m2 = arith.constant 32 : i32\n" /* AVX2: leaf 7 ebx bit 5 */
    "    %a2 = arith.andi %ebx7, %m2 : i32\n"
    "    %avx2b = arith.cmpi ne, %a2, %z : i32\n"
    "    %h1 = arith.andi %osavx, %avxfma : i1\n"
    "    %h2 = arith.andi %h1, %avx2b : i1\n"
    "    %hasavx2 = arith.andi %h2, %has7 : i1\n"
    "    %m512 = arith.constant -1073545216 : i32\n" /* F(16) DQ(17) BW(30) VL(31) */
    "    %b5 = arith.andi %ebx7, %m512 : i32\n"
    "    %f512 = arith.cmpi eq, %b5, %m512 : i32\n"
    "    %mvnni = arith.constant 2048 : i32\n" /* leaf 7 ecx bit 11 */
    "    %c5 = arith.andi %ecx7, %mvnni : i32\n"
    "    %vnnib = arith.cmpi ne, %c5, %z : i32\n"
    "    %v1 = arith.andi %os512, %f512 : i1\n"
    "    %v2 = arith.andi %v1, %vnnib : i1\n"
    "    %hasvnni = arith.andi %v2, %hasavx2 : i1\n"
    "    %mavxvnni = arith.constant 16 : i32\n" /* leaf 7.1 eax bit 4: AVX-VNNI */
    "    %av0 = arith.andi %eax71, %mavxvnni : i32\n"
    "    %av1 = arith.cmpi ne, %av0, %z : i32\n"
    "    %hasavxvnni = arith.andi %av1, %hasavx2 : i1\n"
    "    %three = arith.constant 3 : i32\n"
    "    %best0 = arith.select %hasavx2, %one, %z : i32\n"
    "    %best1 = arith.select %hasavxvnni, %two, %best0 : i32\n"
    "    %best = arith.select %hasvnni, %three, %best1 : i32\n"
    "    %true = arith.constant true\n"
    "    %envn = llvm.mlir.addressof @qo_isa_env : !llvm.ptr\n"
    "    %env = llvm.call @getenv(%envn) : (!llvm.ptr) -> !llvm.ptr\n"
    "    %null = llvm.mlir.zero : !llvm.ptr\n"
    "    %set = llvm.icmp \"ne\" %env, %null : !llvm.ptr\n"
    "    %req = scf.if %set -> (i32) {\n"
    "      %n0 = llvm.mlir.addressof @qo_isa_n0 : !llvm.ptr\n"
    "      %n1 = llvm.mlir.addressof @qo_isa_n1 : !llvm.ptr\n"
    "      %n2 = llvm.mlir.addressof @qo_isa_n2 : !llvm.ptr\n"
    "      %m1 = arith.constant -1 : i32\n"
    "      %n3 = llvm.mlir.addressof @qo_isa_n3 : !llvm.ptr\n"
    "      %r3 = func.call @qo_isa_named(%env, %three, %n3, %m1) : (!llvm.ptr, i32, !llvm.ptr, i32) -> i32\n"
    "      %r2 = func.call @qo_isa_named(%env, %two, %n2, %r3) : (!llvm.ptr, i32, !llvm.ptr, i32) -> i32\n"
    "      %r1 = func.call @qo_isa_named(%env, %one, %n1, %r2) : (!llvm.ptr, i32, !llvm.ptr, i32) -> i32\n"
    "      %r0 = func.call @qo_isa_named(%env, %z, %n0, %r1) : (!llvm.ptr, i32, !llvm.ptr, i32) -> i32\n"
    "      %c0 = llvm.load %env : !llvm.ptr -> i8\n"
    "      %z8 = arith.constant 0 : i8\n"
    "      %empty = arith.cmpi eq, %c0, %z8 : i8\n"
    "      %unknown = arith.cmpi slt, %r0, %z : i32\n"
    "      %nonempty = arith.xori %empty, %true : i1\n"
    "      %warn = arith.andi %unknown, %nonempty : i1\n"
    "      scf.if %warn {\n"
    "        %wm = llvm.mlir.addressof @qo_isa_warn : !llvm.ptr\n"
    "        %fd = arith.constant 2 : i32\n"
    "        %wl = arith.constant 89 : i64\n"
    "        %wr = llvm.call @write(%fd, %wm, %wl) : (i32, !llvm.ptr, i64) -> i64\n"
    "      }\n"
    "      %pick = arith.select %unknown, %best, %r0 : i32\n"
    "      scf.yield %pick : i32\n"
    "    } else {\n"
    "      scf.yield %best : i32\n"
    "    }\n"
    "    %res = arith.minsi %req, %best : i32\n"
    "    return %res : i32\n"
    "  }\n"
    "  func.func private @qo_isa() -> i32 {\n"
    "    %g = llvm.mlir.addressof @qo_isa_cache : !llvm.ptr\n"
    "    %c = llvm.load %g : !llvm.ptr -> i32\n"
    "    %z = arith.constant 0 : i32\n"
    "    %neg = arith.cmpi slt, %c, %z : i32\n"
    "    %r = scf.if %neg -> (i32) {\n"
    "      %d = func.call @qo_isa_detect() : () -> i32\n"
    "      llvm.store %d, %g : i32, !llvm.ptr\n"
    "      scf.yield %d : i32\n"
    "    } else {\n"
    "      scf.yield %c : i32\n"
    "    }\n"
    "    return %r : i32\n"
    "  }\n";

/* Parses `text` (a module) and moves its ops to the end of `module`, except
 * declarations of symbols `module` already has. */
static int splice(MlirOperation module, MlirStringRef text, MlirLocation loc) {
  MlirContext ctx = mlirOperationGetContext(module);
  MlirModule m = mlirModuleCreateParse(ctx, text);
  if (mlirModuleIsNull(m)) {
    mlirEmitError(loc, "quant-materialize-kernels: internal error: the generated kernels do not parse "
                       "(QO_DUMP_KERNELS=1 prints them)");
    if (getenv("QO_DUMP_KERNELS")) fprintf(stderr, "%.*s\n", (int)text.length, text.data);
    return -1;
  }
  MlirBlock dst = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  MlirBlock src = mlirModuleGetBody(m);
  for (MlirOperation op = mlirBlockGetFirstOperation(src); !mlirOperationIsNull(op);) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    MlirAttribute n = mlirOperationGetAttributeByName(op, qoStr("sym_name"));
    int dup = 0;
    if (!mlirAttributeIsNull(n) && mlirAttributeIsAString(n)) {
      MlirStringRef sr = mlirStringAttrGetValue(n);
      char sym[256];
      snprintf(sym, sizeof sym, "%.*s", (int)sr.length, sr.data);
      dup = qoModuleHasSymbol(module, sym);
    }
    if (!dup) {
      mlirOperationRemoveFromParent(op);
      mlirBlockAppendOwnedOperation(dst, op);
    }
    op = next;
  }
  mlirModuleDestroy(m);
  return 0;
}

static void run(MlirOperation module, MlirExternalPass pass, const char *const *values) {
  (void)values;
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  /* One module text with every kernel (they may share @qo_isa). */
  qoBuf t = {0};
  int any = 0;
  qoBufPrintf(&t, "module {\n");
  int dispatch = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    MlirAttribute k = mlirOperationGetAttributeByName(op, qoStr("qo.kernel"));
    if (qoOpIs(op, "func.func") && !mlirAttributeIsNull(k) && mlirAttributeIsAString(k)) {
      dispatch |= !mlirAttributeIsNull(mlirOperationGetAttributeByName(op, qoStr("qo.kernel_dispatch")));
      MlirStringRef s = mlirStringAttrGetValue(k);
      /* Strip the text's own "module {" and closing "}". */
      const char *open = memchr(s.data, '{', s.length);
      const char *close = s.data + s.length;
      while (close > s.data && close[-1] != '}') --close;
      if (open && close > open + 1) qoBufAppendN(&t, open + 1, (size_t)(close - 1 - (open + 1)));
      mlirOperationDestroy(op);
      any = 1;
    }
    op = next;
  }
  if (!any) { qoBufFree(&t); return; }
  if (dispatch) {
    qoBufPrintf(&t, "%s", qoModuleHasSymbol(module, "qo_isa") ? "  func.func private @qo_isa() -> i32\n"
                                                                 : kIsaRuntime);
  }
  qoBufPrintf(&t, "}\n");
  if (t.failed) {
    mlirEmitError(mlirOperationGetLocation(module), "quant-materialize-kernels: out of memory");
    mlirExternalPassSignalFailure(pass);
  } else if (splice(module, mlirStringRefCreate(t.data, t.len), mlirOperationGetLocation(module))) {
    mlirExternalPassSignalFailure(pass);
  }
  qoBufFree(&t);
}

const qoPassDef qoMaterializeKernelsPass = {
    .argument = "quant-materialize-kernels",
    .anchor = "builtin.module",
    .summary = "Parse the bodies of the kernels quant-x86-kernels declared (after bufferization)",
    .options = NULL,
    .numOptions = 0,
    .validate = NULL,
    .run = run,
};
