/* Back ends: LLVM IR text, object files and shared libraries.
 *
 * The lowered module is translated to LLVM IR (mlirTranslateModuleToLLVMIR),
 * optimized with LLVM's O3 pipeline for the host CPU, and emitted as a PIC
 * object. A shared library is that object plus a generated C wrapper that
 * implements the model ABI (include/quant-opt/model_abi.h) and the runtime
 * support generated code needs, linked by the system C compiler ($QO_CC, or
 * cc). Every output is written to a temporary file and renamed into place,
 * so a failure never leaves a partial file. */
#include "quant-opt/compiler.h"

#include "llvm-c/Analysis.h"
#include "llvm-c/Core.h"
#include "llvm-c/Target.h"
#include "llvm-c/TargetMachine.h"
#include "llvm-c/Transforms/PassBuilder.h"
#include "mlir-c/Target/LLVMIR.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern const char qoRuntimeMemrefText[];

static char *fmt(const char *f, const char *a, const char *b) {
  char *m = malloc(1024);
  if (m) snprintf(m, 1024, f, a, b ? b : "");
  return m;
}

static const char *gTargetCPU;
void qoSetTargetCPU(const char *cpu) { gTargetCPU = cpu; }

/* Translates and optimizes; returns NULL with *error on failure. */
static LLVMModuleRef translate(MlirModule lowered, LLVMContextRef lctx,
                               LLVMTargetMachineRef *tmOut, char **error) {
  LLVMInitializeNativeTarget();
  LLVMInitializeNativeAsmPrinter();
  LLVMInitializeNativeAsmParser(); /* inline asm (cpuid/xgetbv in @qo_isa) */
  LLVMModuleRef lm = mlirTranslateModuleToLLVMIR(mlirModuleGetOperation(lowered), lctx);
  if (!lm) {
    *error = fmt("translation to LLVM IR failed (is the module lowered to the LLVM dialect?)%s%s", "", "");
    return NULL;
  }
  char *triple = LLVMGetDefaultTargetTriple();
  char *cpu = gTargetCPU ? LLVMCreateMessage(gTargetCPU) : LLVMGetHostCPUName();
  char *features = gTargetCPU ? LLVMCreateMessage("") : LLVMGetHostCPUFeatures();
  LLVMTargetRef target;
  char *terr = NULL;
  if (LLVMGetTargetFromTriple(triple, &target, &terr)) {
    *error = fmt("no LLVM target for '%s': %s", triple, terr);
    LLVMDisposeMessage(terr);
    LLVMDisposeMessage(triple), LLVMDisposeMessage(cpu), LLVMDisposeMessage(features);
    LLVMDisposeModule(lm);
    return NULL;
  }
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(
      target, triple, cpu, features, LLVMCodeGenLevelAggressive, LLVMRelocPIC,
      LLVMCodeModelDefault);
  LLVMSetTarget(lm, triple);
  LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
  LLVMSetModuleDataLayout(lm, dl);
  LLVMDisposeTargetData(dl);
  LLVMDisposeMessage(triple), LLVMDisposeMessage(cpu), LLVMDisposeMessage(features);
  LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
  LLVMErrorRef perr = LLVMRunPasses(lm, "default<O3>", tm, opts);
  LLVMDisposePassBuilderOptions(opts);
  if (perr) {
    char *m = LLVMGetErrorMessage(perr);
    *error = fmt("LLVM optimization failed: %s%s", m, "");
    LLVMDisposeErrorMessage(m);
    LLVMDisposeTargetMachine(tm);
    LLVMDisposeModule(lm);
    return NULL;
  }
  *tmOut = tm;
  return lm;
}

static char *tempNear(const char *path) {
  size_t n = strlen(path) + 16;
  char *t = malloc(n);
  if (t) snprintf(t, n, "%s.tmpXXXXXX", path);
  return t;
}

/* The LLVM module of a lowered MLIR module, optimized for the host. */
typedef struct LLVMUnit {
  LLVMContextRef ctx;
  LLVMTargetMachineRef tm;
  LLVMModuleRef module;
} LLVMUnit;

static int unitCreate(LLVMUnit *u, MlirModule lowered, char **error) {
  u->ctx = LLVMContextCreate();
  u->tm = NULL;
  u->module = translate(lowered, u->ctx, &u->tm, error);
  if (!u->module) {
    LLVMContextDispose(u->ctx);
    return -1;
  }
  return 0;
}

static void unitDestroy(LLVMUnit *u) {
  LLVMDisposeTargetMachine(u->tm);
  LLVMDisposeModule(u->module);
  LLVMContextDispose(u->ctx);
}

char *qoTranslateToLLVMIR(MlirModule lowered, char **error) {
  LLVMUnit u;
  if (unitCreate(&u, lowered, error)) return NULL;
  char *text = LLVMPrintModuleToString(u.module);
  char *copy = strdup(text);
  LLVMDisposeMessage(text);
  unitDestroy(&u);
  if (!copy) *error = fmt("out of memory%s%s", "", "");
  return copy;
}

MlirLogicalResult qoEmitLLVMIR(MlirModule lowered, const char *path, char **error) {
  char *text = qoTranslateToLLVMIR(lowered, error);
  if (!text) return mlirLogicalResultFailure();
  int ok = 1;
  if (strcmp(path, "-") == 0) {
    fputs(text, stdout);
  } else {
    char *tmp = tempNear(path);
    int fd = tmp ? mkstemp(tmp) : -1;
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    ok = f && fputs(text, f) >= 0;
    if (f) ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
      ok = 0;
      if (tmp) unlink(tmp);
      *error = fmt("cannot write '%s': %s", path, strerror(errno));
    }
    free(tmp);
  }
  free(text);
  return ok ? mlirLogicalResultSuccess() : mlirLogicalResultFailure();
}

MlirLogicalResult qoEmitObject(MlirModule lowered, const char *path, char **error) {
  LLVMUnit u;
  if (unitCreate(&u, lowered, error)) return mlirLogicalResultFailure();
  char *tmp = tempNear(path);
  int fd = tmp ? mkstemp(tmp) : -1;
  int ok = fd >= 0;
  if (fd >= 0) close(fd);
  char *lerr = NULL;
  if (ok && LLVMTargetMachineEmitToFile(u.tm, u.module, tmp, LLVMObjectFile, &lerr)) {
    *error = fmt("cannot emit object '%s': %s", path, lerr);
    LLVMDisposeMessage(lerr);
    ok = 0;
  } else if (ok && rename(tmp, path) != 0) {
    *error = fmt("cannot write '%s': %s", path, strerror(errno));
    ok = 0;
  } else if (!ok) {
    *error = fmt("cannot create a file next to '%s': %s", path, strerror(errno));
  }
  if (!ok && tmp) unlink(tmp);
  free(tmp);
  unitDestroy(&u);
  return ok ? mlirLogicalResultSuccess() : mlirLogicalResultFailure();
}

static const char *ctype(qoDType t) {
  switch (t) {
  case QO_F32: return "float";
  case QO_I8: return "int8_t";
  case QO_U8: return "uint8_t";
  case QO_I32: return "int32_t";
  case QO_I64: return "int64_t";
  }
  return "void";
}

/* A C identifier from a tensor name ("/conv1/Conv_output_0" -> "conv1_Conv_output_0"). */
static void ident(const char *name, char *out, size_t n, int idx, const char *dflt) {
  size_t k = 0;
  for (const char *p = name; *p && k + 1 < n; ++p) {
    char c = *p;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
             (c >= '0' && c <= '9' && k > 0);
    if (ok) out[k++] = c;
    else if (k > 0 && out[k - 1] != '_') out[k++] = '_';
  }
  while (k > 0 && out[k - 1] == '_') --k;
  out[k] = 0;
  if (k == 0) snprintf(out, n, "%s%d", dflt, idx);
}

static void writeTypedProto(FILE *f, const qoSignature *sig) {
  char id[128];
  fprintf(f, "int %s_run(", sig->funcName);
  for (int i = 0; i < sig->numInputs; ++i) {
    ident(sig->inputs[i].name, id, sizeof id, i, "input");
    fprintf(f, "%sconst %s *%s", i ? ", " : "", ctype(sig->inputs[i].dtype), id);
  }
  for (int i = 0; i < sig->numOutputs; ++i) {
    ident(sig->outputs[i].name, id, sizeof id, i, "output");
    fprintf(f, "%s%s *%s", (sig->numInputs + i) ? ", " : "", ctype(sig->outputs[i].dtype), id);
  }
  fprintf(f, ")");
}

static const char kAbiTypes[] =
    "#ifndef QUANT_OPT_MODEL_ABI_H\n#define QUANT_OPT_MODEL_ABI_H\n"
    "#include <stdint.h>\n#define QO_MODEL_ABI_VERSION 1\n"
    "enum { QO_DTYPE_F32 = 0, QO_DTYPE_I8 = 1, QO_DTYPE_U8 = 2, QO_DTYPE_I32 = 3, QO_DTYPE_I64 = 4 };\n"
    "typedef struct qo_tensor_desc { const char *name; int dtype; int rank; const int64_t *dims; } qo_tensor_desc_t;\n"
    "typedef struct qo_model_desc { int abi_version; const char *name; int num_inputs; int num_outputs;\n"
    "  const qo_tensor_desc_t *inputs; const qo_tensor_desc_t *outputs; } qo_model_desc_t;\n"
    "#endif\n";

static void writeShape(FILE *f, const qoTensorInfo *t) {
  for (int d = 0; d < t->rank; ++d) fprintf(f, "%s%lld", d ? "x" : "", (long long)t->dims[d]);
  if (t->rank == 0) fprintf(f, "scalar");
}

static int writeHeader(const char *path, const qoSignature *sig) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fprintf(f, "/* Generated by quant-opt: the C interface of model '%s'.\n"
             " * Link with the shared library; buffers are dense, row-major, caller-owned.\n",
          sig->funcName);
  for (int i = 0; i < sig->numInputs; ++i) {
    fprintf(f, " *   input  %d '%s': %s ", i, sig->inputs[i].name, ctype(sig->inputs[i].dtype));
    writeShape(f, &sig->inputs[i]);
    fprintf(f, "\n");
  }
  for (int i = 0; i < sig->numOutputs; ++i) {
    fprintf(f, " *   output %d '%s': %s ", i, sig->outputs[i].name, ctype(sig->outputs[i].dtype));
    writeShape(f, &sig->outputs[i]);
    fprintf(f, "\n");
  }
  fprintf(f, " * Returns 0 on success. Reentrant. */\n#pragma once\n%s\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n",
          kAbiTypes);
  fprintf(f, "const qo_model_desc_t *qo_model_describe(void);\n"
             "int qo_model_run(const void *const *inputs, void *const *outputs);\n");
  writeTypedProto(f, sig);
  fprintf(f, ";\n#ifdef __cplusplus\n}\n#endif\n");
  return fclose(f);
}

static int writeWrapper(const char *path, const qoSignature *sig) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fprintf(f, "/* Generated by quant-opt: model ABI wrapper. */\n#include <stddef.h>\n%s\n", kAbiTypes);
  /* Built with -fvisibility=hidden: memrefCopy stays private to the model. */
  fputs(qoRuntimeMemrefText, f);
  int n = sig->numInputs + sig->numOutputs;
  fprintf(f, "\nextern void _mlir_ciface_%s(", sig->funcName);
  for (int i = 0; i < n; ++i) fprintf(f, "%svoid *", i ? ", " : "");
  fprintf(f, ");\n");
  for (int k = 0; k < 2; ++k) {
    const qoTensorInfo *ts = k ? sig->outputs : sig->inputs;
    int cnt = k ? sig->numOutputs : sig->numInputs;
    for (int i = 0; i < cnt; ++i) {
      fprintf(f, "static const int64_t %s%d_dims[%d] = {", k ? "out" : "in", i,
              ts[i].rank ? ts[i].rank : 1);
      for (int d = 0; d < ts[i].rank; ++d) fprintf(f, "%s%lld", d ? ", " : "", (long long)ts[i].dims[d]);
      if (ts[i].rank == 0) fprintf(f, "0");
      fprintf(f, "};\n");
    }
    fprintf(f, "static const qo_tensor_desc_t %s[%d] = {\n", k ? "outs" : "ins", cnt ? cnt : 1);
    for (int i = 0; i < cnt; ++i)
      fprintf(f, "  {\"%s\", %d, %d, %s%d_dims},\n", ts[i].name, (int)ts[i].dtype, ts[i].rank,
              k ? "out" : "in", i);
    if (!cnt) fprintf(f, "  {0}\n");
    fprintf(f, "};\n");
  }
  fprintf(f, "static const qo_model_desc_t desc = {QO_MODEL_ABI_VERSION, \"%s\", %d, %d, ins, outs};\n",
          sig->funcName, sig->numInputs, sig->numOutputs);
  fprintf(f, "__attribute__((visibility(\"default\"))) const qo_model_desc_t *qo_model_describe(void) { return &desc; }\n");
  fprintf(f, "__attribute__((visibility(\"default\"))) int qo_model_run(const void *const *inputs, void *const *outputs) {\n");
  fprintf(f, "  if (!inputs || !outputs) return -1;\n");
  for (int i = 0; i < n; ++i) {
    int isIn = i < sig->numInputs;
    const qoTensorInfo *t = isIn ? &sig->inputs[i] : &sig->outputs[i - sig->numInputs];
    const char *src = isIn ? "(void *)inputs" : "outputs";
    int idx = isIn ? i : i - sig->numInputs;
    fprintf(f, "  struct { void *a, *b; int64_t off, ss[%d]; } d%d = {%s[%d], %s[%d], 0, {",
            t->rank > 0 ? 2 * t->rank : 1, i, src, idx, src, idx);
    int64_t stride = 1, strides[QO_MAX_RANK];
    for (int d = t->rank - 1; d >= 0; --d) strides[d] = stride, stride *= t->dims[d];
    for (int d = 0; d < t->rank; ++d) fprintf(f, "%lld, ", (long long)t->dims[d]);
    for (int d = 0; d < t->rank; ++d) fprintf(f, "%lld, ", (long long)strides[d]);
    fprintf(f, "}};\n");
    fprintf(f, "  if (!%s[%d]) return -1;\n", src, idx);
  }
  fprintf(f, "  _mlir_ciface_%s(", sig->funcName);
  for (int i = 0; i < n; ++i) fprintf(f, "%s&d%d", i ? ", " : "", i);
  fprintf(f, ");\n  return 0;\n}\n");
  fprintf(f, "__attribute__((visibility(\"default\"))) ");
  writeTypedProto(f, sig);
  fprintf(f, " {\n  const void *in[%d] = {", sig->numInputs ? sig->numInputs : 1);
  char id[128];
  for (int i = 0; i < sig->numInputs; ++i) {
    ident(sig->inputs[i].name, id, sizeof id, i, "input");
    fprintf(f, "%s%s", i ? ", " : "", id);
  }
  fprintf(f, "};\n  void *out[%d] = {", sig->numOutputs ? sig->numOutputs : 1);
  for (int i = 0; i < sig->numOutputs; ++i) {
    ident(sig->outputs[i].name, id, sizeof id, i, "output");
    fprintf(f, "%s%s", i ? ", " : "", id);
  }
  fprintf(f, "};\n  return qo_model_run(in, out);\n}\n");
  return fclose(f);
}

static int runCmd(char *const argv[]) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execvp(argv[0], argv);
    _exit(127);
  }
  int st;
  if (waitpid(pid, &st, 0) < 0) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

MlirLogicalResult qoEmitSharedLibrary(MlirModule lowered, const qoSignature *sig,
                                      const char *path, const char *headerPath,
                                      char **error) {
  char dir[] = "/tmp/quant-opt.XXXXXX";
  if (!mkdtemp(dir)) {
    *error = fmt("cannot create a temporary directory: %s%s", strerror(errno), "");
    return mlirLogicalResultFailure();
  }
  char obj[64], wrap[64], tmpOut[64], vers[64], versArg[128];
  snprintf(obj, sizeof obj, "%s/model.o", dir);
  snprintf(wrap, sizeof wrap, "%s/abi.c", dir);
  snprintf(tmpOut, sizeof tmpOut, "%s/model.so", dir);
  snprintf(vers, sizeof vers, "%s/exports.map", dir);
  snprintf(versArg, sizeof versArg, "-Wl,--version-script=%s", vers);
  MlirLogicalResult r = qoEmitObject(lowered, obj, error);
  int ok = mlirLogicalResultIsSuccess(r);
  if (ok && writeWrapper(wrap, sig) != 0) {
    *error = fmt("cannot write the ABI wrapper in %s%s", dir, "");
    ok = 0;
  }
  if (ok) {
    /* Export the ABI only; the generated code's symbols stay local. */
    FILE *vf = fopen(vers, "w");
    if (vf) {
      fprintf(vf, "{ global: qo_model_describe; qo_model_run; %s_run; local: *; };\n",
              sig->funcName);
      ok = fclose(vf) == 0;
    } else {
      ok = 0;
    }
    if (!ok) *error = fmt("cannot write the export map in %s%s", dir, "");
  }
  if (ok) {
    const char *cc = getenv("QO_CC");
    if (!cc || !*cc) cc = "cc";
    /* libomp only when the kernels use threads (--as-needed). */
    char *argv[] = {(char *)cc, "-shared", "-fPIC", "-O2", "-fvisibility=hidden",
                    "-o", tmpOut, obj, wrap, versArg, "-lm", "-Wl,--as-needed",
                    "-L" QO_LIBOMP_DIR, "-Wl,-rpath," QO_LIBOMP_DIR, "-lomp", NULL};
    int rc = runCmd(argv);
    if (rc != 0) {
      *error = fmt("linking the shared library with '%s' failed (exit %s); set QO_CC to a C compiler",
                   cc, rc == 127 ? "127: not found" : "non-zero");
      ok = 0;
    }
  }
  if (ok && headerPath) {
    char tmpH[64];
    snprintf(tmpH, sizeof tmpH, "%s/model.h", dir);
    if (writeHeader(tmpH, sig) != 0) {
      *error = fmt("cannot write header '%s'%s", headerPath, "");
      ok = 0;
    }
    /* Move the header with a copy (rename fails across file systems). */
    if (ok) {
      char *argv[] = {"cp", tmpH, (char *)headerPath, NULL};
      if (runCmd(argv) != 0) {
        *error = fmt("cannot write header '%s'%s", headerPath, "");
        ok = 0;
      }
    }
  }
  if (ok) {
    char *tmp = tempNear(path);
    char *argv[] = {"cp", tmpOut, tmp, NULL};
    if (!tmp || runCmd(argv) != 0 || rename(tmp, path) != 0) {
      *error = fmt("cannot write '%s': %s", path, strerror(errno));
      if (tmp) unlink(tmp);
      ok = 0;
    }
    free(tmp);
  }
  unlink(obj), unlink(wrap), unlink(tmpOut), unlink(vers);
  char h[64];
  snprintf(h, sizeof h, "%s/model.h", dir);
  unlink(h);
  rmdir(dir);
  return ok ? mlirLogicalResultSuccess() : mlirLogicalResultFailure();
}
