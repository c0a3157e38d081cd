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
 * replaces each by the parsed text, declaring the ISA selection
 * @qrt_kernel_isa once. */
#include "passes/PassDef.h"
#include "support/buffer.h"
#include "passes/PassUtils.h"
#include "passes/QuantUtils.h"

#include "mlir-c/BuiltinAttributes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The dispatchers call qrt_kernel_isa() (runtime/cpu.c: cpuid + xgetbv once
 * per process, QO_ISA honoured only when the CPU has every feature of the
 * body it names). The JIT resolves it to the tools' copy, a shared library
 * to the copy its ABI wrapper compiles in, an object file to the qort
 * runtime library it is linked with. */
static const char kIsaDecl[] = "  func.func private @qrt_kernel_isa() -> i32\n";

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
  /* One module text with every kernel (they share @qrt_kernel_isa). */
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
    if (!qoModuleHasSymbol(module, "qrt_kernel_isa")) qoBufPrintf(&t, "%s", kIsaDecl);
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
