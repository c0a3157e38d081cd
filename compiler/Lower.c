/* Lowering to the LLVM dialect, and reading an entry point's signature. */
#include "quant-opt/compiler.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <stdlib.h>
#include <string.h>

static MlirStringRef S(const char *s) { return mlirStringRefCreateFromCString(s); }

static char *dupMsg(const char *m) {
  char *r = malloc(strlen(m) + 1);
  if (r) strcpy(r, m);
  return r;
}

static int strEq(MlirStringRef a, const char *b);

/* Every public function with a body gets llvm.emit_c_interface, so the
 * `_mlir_ciface_<name>` wrapper the JIT and the shared library call exists. */
static void markCInterface(MlirModule module) {
  MlirContext ctx = mlirModuleGetContext(module);
  MlirBlock body = mlirModuleGetBody(module);
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (!strEq(mlirIdentifierStr(mlirOperationGetName(op)), "func.func")) continue;
    if (!mlirAttributeIsNull(mlirOperationGetAttributeByName(op, S("sym_visibility"))))
      continue;
    if (mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0)).ptr == NULL) continue;
    mlirOperationSetAttributeByName(op, S("llvm.emit_c_interface"), mlirUnitAttrGet(ctx));
  }
}

MlirLogicalResult qoLowerToLLVM(MlirModule module, char **error) {
  MlirContext ctx = mlirModuleGetContext(module);
  markCInterface(module);
  MlirPassManager pm = mlirPassManagerCreateOnOperation(ctx, S("builtin.module"));
  MlirLogicalResult r = qoParsePassPipeline(pm, qoGetLowerToLLVMPipeline(), error);
  if (mlirLogicalResultIsSuccess(r)) {
    r = mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module));
    if (mlirLogicalResultIsFailure(r) && error)
      *error = dupMsg("lowering to the LLVM dialect failed (see the diagnostics above)");
  }
  mlirPassManagerDestroy(pm);
  return r;
}

static int strEq(MlirStringRef a, const char *b) {
  return a.length == strlen(b) && memcmp(a.data, b, a.length) == 0;
}

static int typeInfo(MlirType t, qoTensorInfo *ti, char **error) {
  if (!mlirTypeIsARankedTensor(t) && !mlirTypeIsAMemRef(t)) {
    *error = dupMsg("entry point arguments and results must be ranked tensors");
    return -1;
  }
  if (!mlirShapedTypeHasStaticShape(t)) {
    *error = dupMsg("entry point tensors must have static shapes (fix them with --input-shape)");
    return -1;
  }
  int64_t rank = mlirShapedTypeGetRank(t);
  if (rank > QO_MAX_RANK) {
    *error = dupMsg("entry point tensor rank exceeds 8");
    return -1;
  }
  ti->rank = (int)rank;
  for (int64_t i = 0; i < rank; ++i) ti->dims[i] = mlirShapedTypeGetDimSize(t, i);
  MlirType et = mlirShapedTypeGetElementType(t);
  if (mlirTypeIsAF32(et)) ti->dtype = QO_F32;
  else if (mlirTypeIsAInteger(et) && mlirIntegerTypeGetWidth(et) == 8)
    ti->dtype = mlirIntegerTypeIsUnsigned(et) ? QO_U8 : QO_I8;
  else if (mlirTypeIsAInteger(et) && mlirIntegerTypeGetWidth(et) == 32) ti->dtype = QO_I32;
  else if (mlirTypeIsAInteger(et) && mlirIntegerTypeGetWidth(et) == 64) ti->dtype = QO_I64;
  else {
    *error = dupMsg("entry point element types must be f32, i8, ui8, i32 or i64");
    return -1;
  }
  return 0;
}

static void nameFrom(MlirOperation f, const char *attr, int i, const char *dflt,
                     char *out, size_t n) {
  MlirAttribute a = mlirOperationGetAttributeByName(f, S(attr));
  if (!mlirAttributeIsNull(a) && mlirAttributeIsAArray(a) &&
      i < mlirArrayAttrGetNumElements(a)) {
    MlirAttribute e = mlirArrayAttrGetElement(a, i);
    if (mlirAttributeIsAString(e)) {
      MlirStringRef s = mlirStringAttrGetValue(e);
      snprintf(out, n, "%.*s", (int)s.length, s.data);
      return;
    }
  }
  snprintf(out, n, "%s%d", dflt, i);
}

MlirLogicalResult qoGetSignature(MlirModule module, const char *funcName,
                                 qoSignature *sig, char **error) {
  memset(sig, 0, sizeof *sig);
  MlirBlock body = mlirModuleGetBody(module);
  MlirOperation found = {NULL};
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (!strEq(mlirIdentifierStr(mlirOperationGetName(op)), "func.func")) continue;
    MlirAttribute name = mlirOperationGetAttributeByName(op, S("sym_name"));
    MlirAttribute vis = mlirOperationGetAttributeByName(op, S("sym_visibility"));
    MlirStringRef n = mlirStringAttrGetValue(name);
    if (funcName ? strEq(n, funcName)
                 : (mlirAttributeIsNull(vis) && mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0)).ptr)) {
      found = op;
      snprintf(sig->funcName, sizeof sig->funcName, "%.*s", (int)n.length, n.data);
      break;
    }
  }
  if (mlirOperationIsNull(found)) {
    char m[300];
    snprintf(m, sizeof m, "no entry function '%s' in the module",
             funcName ? funcName : "(first public func.func)");
    *error = dupMsg(m);
    return mlirLogicalResultFailure();
  }
  MlirType ft = mlirTypeAttrGetValue(mlirOperationGetAttributeByName(found, S("function_type")));
  intptr_t ni = mlirFunctionTypeGetNumInputs(ft), no = mlirFunctionTypeGetNumResults(ft);
  if (ni > 16 || no > 16) {
    *error = dupMsg("entry point has more than 16 inputs or outputs");
    return mlirLogicalResultFailure();
  }
  sig->numInputs = (int)ni;
  sig->numOutputs = (int)no;
  for (intptr_t i = 0; i < ni; ++i) {
    if (typeInfo(mlirFunctionTypeGetInput(ft, i), &sig->inputs[i], error))
      return mlirLogicalResultFailure();
    nameFrom(found, "qo.input_names", (int)i, "input", sig->inputs[i].name,
             sizeof sig->inputs[i].name);
  }
  for (intptr_t i = 0; i < no; ++i) {
    if (typeInfo(mlirFunctionTypeGetResult(ft, i), &sig->outputs[i], error))
      return mlirLogicalResultFailure();
    nameFrom(found, "qo.output_names", (int)i, "output", sig->outputs[i].name,
             sizeof sig->outputs[i].name);
  }
  return mlirLogicalResultSuccess();
}
