/* Back ends: LLVM IR text, object files and shared libraries.
 *
 * The lowered module is translated to LLVM IR (mlirTranslateModuleToLLVMIR),
 * optimized with LLVM's O3 pipeline for the context's target CPU (default:
 * the host), and emitted as a PIC object, in memory. A shared library is that
 * object plus a generated C wrapper -- the model ABI
 * (include/quant-opt/model_abi.h), the CPU check, the kernels' ISA selection
 * (runtime/cpu.c) and the allocator generated code calls (runtime/memref.c)
 * -- linked by the system C compiler ($QO_CC, or cc) in a private temporary
 * folder. Outputs go through support/output.c: nothing partial is left
 * behind, and devices such as /dev/null are written in place, never replaced.
 *
 * Names from the model (tensor names) are untrusted: they reach the wrapper
 * and the header only as escaped C string literals or inside comments with
 * every byte that could end the comment escaped, and C identifiers are made
 * from a sanitized, collision-checked form. The entry function's name becomes
 * C symbols, so it must be a C identifier. */
#include "quant-opt/compiler.h"
#include "quant-opt/qrt_cpu.h"
#include "support/buffer.h"
#include "support/output.h"

#include "llvm-c/Core.h"
#include "llvm-c/Target.h"
#include "llvm-c/TargetMachine.h"
#include "llvm-c/Transforms/PassBuilder.h"
#include "mlir-c/Target/LLVMIR.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern const char qoRuntimeMemrefText[];
extern const char qoRuntimeCpuText[];
extern const char qoRuntimeCpuHeaderText[];
extern const char qoModelAbiText[];

static char *fmt(const char *f, const char *a, const char *b) {
  char *m = malloc(1024);
  if (m) snprintf(m, 1024, f, a, b ? b : "");
  return m;
}

static pthread_once_t gLLVMInitOnce = PTHREAD_ONCE_INIT;
static void initLLVM(void) {
  LLVMInitializeNativeTarget();
  LLVMInitializeNativeAsmPrinter();
  LLVMInitializeNativeAsmParser(); /* inline asm in generated code */
}

/* The features every x86-64 microarchitecture level guarantees (and code
 * compiled for it may use). Other CPU names: the C API cannot list their
 * features, so only the x86-64 baseline is checked at load time. */
static uint64_t levelFeatures(const char *cpu) {
  const uint64_t v1 = QRT_CPU_HAS(X86_64) | QRT_CPU_HAS(CMOV) | QRT_CPU_HAS(CX8) | QRT_CPU_HAS(FXSR) |
                      QRT_CPU_HAS(MMX) | QRT_CPU_HAS(SSE) | QRT_CPU_HAS(SSE2);
  const uint64_t v2 = v1 | QRT_CPU_HAS(CX16) | QRT_CPU_HAS(SAHF) | QRT_CPU_HAS(POPCNT) |
                      QRT_CPU_HAS(SSE3) | QRT_CPU_HAS(SSE41) | QRT_CPU_HAS(SSE42) | QRT_CPU_HAS(SSSE3);
  const uint64_t v3 = v2 | QRT_CPU_HAS(AVX) | QRT_CPU_HAS(AVX2) | QRT_CPU_HAS(BMI) | QRT_CPU_HAS(BMI2) |
                      QRT_CPU_HAS(F16C) | QRT_CPU_HAS(FMA) | QRT_CPU_HAS(LZCNT) | QRT_CPU_HAS(MOVBE) |
                      QRT_CPU_HAS(XSAVE);
  const uint64_t v4 = v3 | QRT_CPU_HAS(AVX512F) | QRT_CPU_HAS(AVX512BW) | QRT_CPU_HAS(AVX512CD) |
                      QRT_CPU_HAS(AVX512DQ) | QRT_CPU_HAS(AVX512VL);
  if (!strcmp(cpu, "x86-64")) return v1;
  if (!strcmp(cpu, "x86-64-v2")) return v2;
  if (!strcmp(cpu, "x86-64-v3")) return v3;
  if (!strcmp(cpu, "x86-64-v4")) return v4;
  return v1;
}

/* The LLVM module of a lowered MLIR module, optimized for the target, and
 * what the target requires of the CPU that runs it. */
typedef struct LLVMUnit {
  LLVMContextRef ctx;
  LLVMTargetMachineRef tm;
  LLVMModuleRef module;
  char cpu[64];       /* the LLVM CPU name */
  uint64_t required;  /* CPU features the code may use (qrt_cpu.h bits) */
} LLVMUnit;

static int unitCreate(LLVMUnit *u, MlirModule lowered, char **error) {
  memset(u, 0, sizeof *u);
  pthread_once(&gLLVMInitOnce, initLLVM);
  const char *target = qoContextGetTargetCPU(mlirModuleGetContext(lowered));
  u->ctx = LLVMContextCreate();
  LLVMModuleRef lm = mlirTranslateModuleToLLVMIR(mlirModuleGetOperation(lowered), u->ctx);
  if (!lm) {
    *error = fmt("translation to LLVM IR failed (is the module lowered to the LLVM dialect?)%s%s", "", "");
    LLVMContextDispose(u->ctx);
    return -1;
  }
  char *triple = LLVMGetDefaultTargetTriple();
  char *cpu = target ? LLVMCreateMessage(target) : LLVMGetHostCPUName();
  char *features = target ? LLVMCreateMessage("") : LLVMGetHostCPUFeatures();
  snprintf(u->cpu, sizeof u->cpu, "%s", cpu);
  u->required = target ? levelFeatures(target) : qrt_cpu_parse_llvm_features(features);
  LLVMTargetRef llvmTarget;
  char *terr = NULL;
  int rc = 0;
  if (LLVMGetTargetFromTriple(triple, &llvmTarget, &terr)) {
    *error = fmt("no LLVM target for '%s': %s", triple, terr);
    LLVMDisposeMessage(terr);
    rc = -1;
  } else {
    u->tm = LLVMCreateTargetMachine(llvmTarget, triple, cpu, features, LLVMCodeGenLevelAggressive,
                                    LLVMRelocPIC, LLVMCodeModelDefault);
    LLVMSetTarget(lm, triple);
    LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(u->tm);
    LLVMSetModuleDataLayout(lm, dl);
    LLVMDisposeTargetData(dl);
    LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
    LLVMErrorRef perr = LLVMRunPasses(lm, "default<O3>", u->tm, opts);
    LLVMDisposePassBuilderOptions(opts);
    if (perr) {
      char *m = LLVMGetErrorMessage(perr);
      *error = fmt("LLVM optimization failed: %s%s", m, "");
      LLVMDisposeErrorMessage(m);
      rc = -1;
    }
  }
  LLVMDisposeMessage(triple), LLVMDisposeMessage(cpu), LLVMDisposeMessage(features);
  if (rc) {
    if (u->tm) LLVMDisposeTargetMachine(u->tm);
    LLVMDisposeModule(lm);
    LLVMContextDispose(u->ctx);
    return -1;
  }
  u->module = lm;
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

static MlirLogicalResult writeOut(const char *path, const void *data, size_t size, char **error) {
  char err[1200];
  if (qoWriteFile(path, data, size, err, sizeof err) == 0) return mlirLogicalResultSuccess();
  *error = strdup(err);
  return mlirLogicalResultFailure();
}

MlirLogicalResult qoEmitLLVMIR(MlirModule lowered, const char *path, char **error) {
  char *text = qoTranslateToLLVMIR(lowered, error);
  if (!text) return mlirLogicalResultFailure();
  MlirLogicalResult r = writeOut(path, text, strlen(text), error);
  free(text);
  return r;
}

/* The object code of `u`, in memory (no file until it is complete). */
static LLVMMemoryBufferRef emitObject(LLVMUnit *u, char **error) {
  LLVMMemoryBufferRef mb = NULL;
  char *lerr = NULL;
  if (LLVMTargetMachineEmitToMemoryBuffer(u->tm, u->module, LLVMObjectFile, &lerr, &mb)) {
    *error = fmt("code generation failed: %s%s", lerr ? lerr : "?", "");
    LLVMDisposeMessage(lerr);
    return NULL;
  }
  return mb;
}

MlirLogicalResult qoEmitObject(MlirModule lowered, const char *path, char **error) {
  LLVMUnit u;
  if (unitCreate(&u, lowered, error)) return mlirLogicalResultFailure();
  LLVMMemoryBufferRef mb = emitObject(&u, error);
  MlirLogicalResult r = mlirLogicalResultFailure();
  if (mb) {
    r = writeOut(path, LLVMGetBufferStart(mb), LLVMGetBufferSize(mb), error);
    LLVMDisposeMemoryBuffer(mb);
  }
  unitDestroy(&u);
  return r;
}

/*===--- Names: escaped literals and safe identifiers ----------------------===*/

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

/* Appends `s` as the body of a C string literal that is also safe inside a
 * comment: printable ASCII stays (so "/conv1/Conv_output_0" reads as is),
 * except '"', '\\', '?' (trigraphs) and '*' (which could close a comment);
 * everything else becomes a three-digit octal escape. */
static void appendCString(qoBuf *b, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
    unsigned c = *p;
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?' && c != '*')
      qoBufAppendN(b, (const char *)p, 1);
    else
      qoBufPrintf(b, "\\%03o", c);
  }
}

/* C and C++ keywords and the standard macros a header's parameter names
 * could collide with. */
static const char *const kReserved[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "alignas", "alignof", "and", "and_eq",
    "asm", "bitand", "bitor", "bool", "catch", "char8_t", "char16_t", "char32_t", "class",
    "compl", "concept", "consteval", "constexpr", "constinit", "const_cast", "co_await",
    "co_return", "co_yield", "decltype", "delete", "dynamic_cast", "explicit", "export",
    "false", "friend", "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr",
    "operator", "or", "or_eq", "private", "protected", "public", "reinterpret_cast",
    "requires", "static_assert", "static_cast", "template", "this", "thread_local", "throw",
    "true", "try", "typeid", "typename", "using", "virtual", "wchar_t", "xor", "xor_eq",
    "NULL", "EOF", "errno", "assert", "offsetof", "stdin", "stdout", "stderr", "complex",
    "imaginary", "noreturn", "main"};

static int isReserved(const char *id) {
  for (size_t i = 0; i < sizeof kReserved / sizeof *kReserved; ++i)
    if (!strcmp(id, kReserved[i])) return 1;
  /* Reserved to the implementation, and the wrapper's own prefix. */
  return (id[0] == '_' && (id[1] == '_' || (id[1] >= 'A' && id[1] <= 'Z'))) ||
         !strncmp(id, "qo_", 3) || !strncmp(id, "qrt_", 4);
}

static int isIdentifier(const char *s) {
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return 0;
  for (const char *p = s; *p; ++p)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || (*p >= '0' && *p <= '9')))
      return 0;
  return 1;
}

enum { IDENT_MAX = 64 };
typedef char Ident[IDENT_MAX + 16];

/* The parameter names of the typed entry point: each tensor name reduced to
 * [A-Za-z0-9_] ("/conv1/Conv_output_0" -> "conv1_Conv_output_0"), made
 * unique and kept clear of keywords, macros and the wrapper's own names;
 * "input<i>" / "output<i>" when nothing is left. */
static void makeIdents(const qoSignature *sig, Ident *ids) {
  int n = sig->numInputs + sig->numOutputs;
  for (int i = 0; i < n; ++i) {
    int isIn = i < sig->numInputs;
    const char *name = isIn ? sig->inputs[i].name : sig->outputs[i - sig->numInputs].name;
    char *out = ids[i];
    size_t k = 0;
    for (const char *p = name; *p && k < IDENT_MAX; ++p) {
      char c = *p;
      int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9' && k > 0);
      if (ok) out[k++] = c;
      else if (k > 0 && out[k - 1] != '_') out[k++] = '_';
    }
    while (k > 0 && out[k - 1] == '_') --k;
    out[k] = 0;
    if (k == 0) snprintf(out, sizeof(Ident), "%s%d", isIn ? "input" : "output", isIn ? i : i - sig->numInputs);
    if (isReserved(out)) { /* "t_" + name: no keyword, macro or reserved prefix */
      memmove(out + 2, out, k + 1);
      memcpy(out, "t_", 2);
      k += 2;
    }
    /* Keep the base readable; append "_<n>" until it is unique. */
    for (int attempt = 0;; ++attempt) {
      int clash = 0;
      for (int j = 0; j < i && !clash; ++j) clash = !strcmp(ids[j], out);
      if (!clash) break;
      snprintf(out + k, sizeof(Ident) - k, "_%d", attempt ? i * 100 + attempt : i);
    }
  }
}

/*===--- Header and wrapper ------------------------------------------------===*/

static void writeTypedProto(qoBuf *b, const qoSignature *sig, const Ident *ids) {
  qoBufPrintf(b, "int %s_run(", sig->funcName);
  for (int i = 0; i < sig->numInputs; ++i)
    qoBufPrintf(b, "%sconst %s *%s", i ? ", " : "", ctype(sig->inputs[i].dtype), ids[i]);
  for (int i = 0; i < sig->numOutputs; ++i)
    qoBufPrintf(b, "%s%s *%s", (sig->numInputs + i) ? ", " : "", ctype(sig->outputs[i].dtype),
                ids[sig->numInputs + i]);
  if (!sig->numInputs && !sig->numOutputs) qoBufAppend(b, "void");
  qoBufAppend(b, ")");
}

static void writeShape(qoBuf *b, const qoTensorInfo *t) {
  for (int d = 0; d < t->rank; ++d) qoBufPrintf(b, "%s%lld", d ? "x" : "", (long long)t->dims[d]);
  if (t->rank == 0) qoBufAppend(b, "scalar");
}

static void headerText(qoBuf *b, const qoSignature *sig, const Ident *ids) {
  qoBufPrintf(b, "/* Generated by quant-opt: the C interface of model '%s'.\n"
                 " * Link with the shared library; buffers are dense, row-major, caller-owned.\n",
              sig->funcName);
  for (int k = 0; k < 2; ++k) {
    int cnt = k ? sig->numOutputs : sig->numInputs;
    for (int i = 0; i < cnt; ++i) {
      const qoTensorInfo *t = k ? &sig->outputs[i] : &sig->inputs[i];
      qoBufPrintf(b, " *   %s %d '", k ? "output" : "input ", i);
      appendCString(b, t->name);
      qoBufPrintf(b, "': %s ", ctype(t->dtype));
      writeShape(b, t);
      qoBufAppend(b, "\n");
    }
  }
  qoBufPrintf(b, " * Returns 0 on success. Reentrant. */\n#pragma once\n%s\n"
                 "#ifdef __cplusplus\nextern \"C\" {\n#endif\n",
              qoModelAbiText);
  qoBufAppend(b, "const qo_model_desc_t *qo_model_describe(void);\n"
                 "int qo_model_run(const void *const *inputs, void *const *outputs);\n"
                 "int qo_model_check_cpu(char *message, size_t size);\n");
  writeTypedProto(b, sig, ids);
  qoBufAppend(b, ";\n#ifdef __cplusplus\n}\n#endif\n");
}

static void wrapperText(qoBuf *b, const qoSignature *sig, const Ident *ids, const LLVMUnit *u) {
  qoBufPrintf(b, "/* Generated by quant-opt: model ABI wrapper. */\n%s\n", qoModelAbiText);
  /* Built with -fvisibility=hidden: the runtime stays private to the model. */
  qoBufPrintf(b, "%s\n#define QRT_CPU_EMBEDDED 1\n%s\n%s\n", qoRuntimeCpuHeaderText, qoRuntimeCpuText,
              qoRuntimeMemrefText);
  int n = sig->numInputs + sig->numOutputs;
  qoBufPrintf(b, "\nextern void _mlir_ciface_%s(", sig->funcName);
  for (int i = 0; i < n; ++i) qoBufPrintf(b, "%svoid *", i ? ", " : "");
  if (!n) qoBufAppend(b, "void");
  qoBufAppend(b, ");\n");
  for (int k = 0; k < 2; ++k) {
    const qoTensorInfo *ts = k ? sig->outputs : sig->inputs;
    int cnt = k ? sig->numOutputs : sig->numInputs;
    for (int i = 0; i < cnt; ++i) {
      qoBufPrintf(b, "static const int64_t qo_%s%d_dims[%d] = {", k ? "out" : "in", i,
                  ts[i].rank ? ts[i].rank : 1);
      for (int d = 0; d < ts[i].rank; ++d) qoBufPrintf(b, "%s%lld", d ? ", " : "", (long long)ts[i].dims[d]);
      if (ts[i].rank == 0) qoBufAppend(b, "0");
      qoBufAppend(b, "};\n");
    }
    qoBufPrintf(b, "static const qo_tensor_desc_t qo_%s[%d] = {\n", k ? "outs" : "ins", cnt ? cnt : 1);
    for (int i = 0; i < cnt; ++i) {
      qoBufAppend(b, "  {\"");
      appendCString(b, ts[i].name);
      qoBufPrintf(b, "\", %d, %d, qo_%s%d_dims},\n", (int)ts[i].dtype, ts[i].rank, k ? "out" : "in", i);
    }
    if (!cnt) qoBufAppend(b, "  {0}\n");
    qoBufAppend(b, "};\n");
  }
  char features[1024];
  qrt_cpu_format(u->required, features, sizeof features);
  qoBufAppend(b, "static const char qo_target_cpu[] = \"");
  appendCString(b, u->cpu);
  qoBufPrintf(b, "\";\nstatic const uint64_t qo_required_features = 0x%llxull;\n"
                 "static const qo_model_desc_t qo_desc = {QO_MODEL_ABI_VERSION, \"%s\", %d, %d, qo_ins, "
                 "qo_outs, qo_target_cpu, \"%s\"};\n",
              (unsigned long long)u->required, sig->funcName, sig->numInputs, sig->numOutputs, features);
  qoBufAppend(
      b,
      "__attribute__((visibility(\"default\"))) const qo_model_desc_t *qo_model_describe(void) { return &qo_desc; }\n"
      "__attribute__((visibility(\"default\"))) int qo_model_check_cpu(char *message, size_t size) {\n"
      "  uint64_t missing = qo_required_features & ~qrt_cpu_features();\n"
      "  if (message && size) message[0] = 0;\n"
      "  if (!missing) return QO_MODEL_OK;\n"
      "  if (message && size) {\n"
      "    char names[1024];\n"
      "    qrt_cpu_format(missing, names, sizeof names);\n"
      "    snprintf(message, size, \"this CPU lacks %s, which this model was compiled for (target CPU \"\n"
      "             \"'%s'); recompile it with --target-cpu=x86-64-v3 (or x86-64) or on this machine\",\n"
      "             names, qo_target_cpu);\n"
      "  }\n"
      "  return QO_MODEL_ERR_CPU;\n"
      "}\n"
      "static atomic_int qo_cpu_ok; /* 0 unknown, 1 yes, -1 no */\n"
      "__attribute__((visibility(\"default\"))) int qo_model_run(const void *const *inputs, void *const *outputs) {\n"
      "  int ok = atomic_load_explicit(&qo_cpu_ok, memory_order_acquire);\n"
      "  if (!ok) {\n"
      "    ok = qo_model_check_cpu(NULL, 0) == QO_MODEL_OK ? 1 : -1;\n"
      "    atomic_store_explicit(&qo_cpu_ok, ok, memory_order_release);\n"
      "  }\n"
      "  if (ok < 0) return QO_MODEL_ERR_CPU;\n"
      "  if (!inputs || !outputs) return QO_MODEL_ERR_ARG;\n");
  for (int i = 0; i < n; ++i) {
    int isIn = i < sig->numInputs;
    const qoTensorInfo *t = isIn ? &sig->inputs[i] : &sig->outputs[i - sig->numInputs];
    const char *src = isIn ? "(void *)inputs" : "outputs";
    int idx = isIn ? i : i - sig->numInputs;
    qoBufPrintf(b, "  if (!%s[%d]) return QO_MODEL_ERR_ARG;\n", src, idx);
    qoBufPrintf(b, "  struct { void *a, *b; int64_t off, ss[%d]; } d%d = {%s[%d], %s[%d], 0, {",
                t->rank > 0 ? 2 * t->rank : 1, i, src, idx, src, idx);
    int64_t stride = 1, strides[QO_MAX_RANK];
    for (int d = t->rank - 1; d >= 0; --d) strides[d] = stride, stride *= t->dims[d];
    for (int d = 0; d < t->rank; ++d) qoBufPrintf(b, "%lld, ", (long long)t->dims[d]);
    for (int d = 0; d < t->rank; ++d) qoBufPrintf(b, "%lld, ", (long long)strides[d]);
    qoBufAppend(b, "}};\n");
  }
  qoBufPrintf(b, "  _mlir_ciface_%s(", sig->funcName);
  for (int i = 0; i < n; ++i) qoBufPrintf(b, "%s&d%d", i ? ", " : "", i);
  qoBufAppend(b, ");\n  return QO_MODEL_OK;\n}\n__attribute__((visibility(\"default\"))) ");
  writeTypedProto(b, sig, ids);
  qoBufPrintf(b, " {\n  const void *qo_in_[%d] = {", sig->numInputs ? sig->numInputs : 1);
  for (int i = 0; i < sig->numInputs; ++i) qoBufPrintf(b, "%s%s", i ? ", " : "", ids[i]);
  if (!sig->numInputs) qoBufAppend(b, "0");
  qoBufPrintf(b, "};\n  void *qo_out_[%d] = {", sig->numOutputs ? sig->numOutputs : 1);
  for (int i = 0; i < sig->numOutputs; ++i) qoBufPrintf(b, "%s%s", i ? ", " : "", ids[sig->numInputs + i]);
  if (!sig->numOutputs) qoBufAppend(b, "0");
  qoBufAppend(b, "};\n  return qo_model_run(qo_in_, qo_out_);\n}\n");
}

/*===--- Shared library ----------------------------------------------------===*/

static int runCmd(char *const argv[]) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execvp(argv[0], argv);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Writes `size` bytes to the new file `path` (inside our private folder). */
static int writeNew(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wx");
  if (!f) return -1;
  int ok = fwrite(data, 1, size, f) == size;
  return (fclose(f) == 0 && ok) ? 0 : -1;
}

MlirLogicalResult qoEmitSharedLibrary(MlirModule lowered, const qoSignature *sig,
                                      const char *path, const char *headerPath,
                                      char **error) {
  *error = NULL;
  if (!isIdentifier(sig->funcName) || strlen(sig->funcName) > 100) {
    *error = fmt("the entry function's name is not a C identifier, so it cannot name the library's "
                 "symbols; rename it (ONNX: --entry=<name>)%s%s", "", "");
    return mlirLogicalResultFailure();
  }
  if (headerPath && !strcmp(headerPath, path)) {
    *error = fmt("the header and the library would both be '%s'%s", path, "");
    return mlirLogicalResultFailure();
  }
  Ident ids[32];
  makeIdents(sig, ids);
  const char *tmpRoot = getenv("TMPDIR");
  if (!tmpRoot || !*tmpRoot || strlen(tmpRoot) > 200) tmpRoot = "/tmp";
  char dir[256];
  snprintf(dir, sizeof dir, "%s/quant-opt.XXXXXX", tmpRoot);
  if (!mkdtemp(dir)) {
    *error = fmt("cannot create a temporary folder in %s: %s", tmpRoot, strerror(errno));
    return mlirLogicalResultFailure();
  }
  char obj[300], wrap[300], lib[300], vers[300], versArg[340];
  snprintf(obj, sizeof obj, "%s/model.o", dir);
  snprintf(wrap, sizeof wrap, "%s/abi.c", dir);
  snprintf(lib, sizeof lib, "%s/model.so", dir);
  snprintf(vers, sizeof vers, "%s/exports.map", dir);
  snprintf(versArg, sizeof versArg, "-Wl,--version-script=%s", vers);

  int ok = 1;
  qoBuf wrapper = {0}, header = {0}, exports = {0};
  qoOutput *outLib = NULL, *outHdr = NULL;
  char err[1200];
  LLVMUnit u;
  if (unitCreate(&u, lowered, error)) {
    rmdir(dir);
    return mlirLogicalResultFailure();
  }
  LLVMMemoryBufferRef mb = emitObject(&u, error);
  ok = mb != NULL;
  if (ok) {
    ok = writeNew(obj, LLVMGetBufferStart(mb), LLVMGetBufferSize(mb)) == 0;
    LLVMDisposeMemoryBuffer(mb);
    if (!ok) *error = fmt("cannot write the object in %s: %s", dir, strerror(errno));
  }
  if (ok) {
    wrapperText(&wrapper, sig, ids, &u);
    /* Export the ABI only; the generated code's symbols stay local. */
    qoBufPrintf(&exports, "{ global: qo_model_describe; qo_model_run; qo_model_check_cpu; %s_run; local: *; };\n",
                sig->funcName);
    headerText(&header, sig, ids);
    ok = !wrapper.failed && !exports.failed && !header.failed &&
         writeNew(wrap, wrapper.data, wrapper.len) == 0 && writeNew(vers, exports.data, exports.len) == 0;
    if (!ok) *error = fmt("cannot write the ABI wrapper in %s: %s", dir, strerror(errno ? errno : ENOMEM));
  }
  if (ok) {
    /* $QO_CC: a compiler, optionally with flags ("cc -fsanitize=thread"),
     * split at spaces (no shell). */
    const char *cc = getenv("QO_CC");
    if (!cc || !*cc) cc = "cc";
    char ccWords[256];
    snprintf(ccWords, sizeof ccWords, "%s", cc);
    char *argv[40], *save = NULL;
    int argc = 0;
    for (char *w = strtok_r(ccWords, " \t", &save); w && argc < 16; w = strtok_r(NULL, " \t", &save))
      argv[argc++] = w;
    int words = argc;
    /* The wrapper is compiled for the baseline x86-64: it checks the CPU
     * before any code compiled for the target runs. libomp only when the
     * kernels use threads (--as-needed). */
    const char *rest[] = {"-shared", "-fPIC", "-O2", "-fvisibility=hidden", "-w", "-o", lib, obj, wrap,
                          versArg, "-lm", "-Wl,--as-needed", "-L" QO_LIBOMP_DIR, "-Wl,-rpath," QO_LIBOMP_DIR,
                          "-lomp", NULL};
    for (size_t k = 0; k < sizeof rest / sizeof *rest; ++k) argv[argc++] = (char *)rest[k];
    int rc = words > 0 ? runCmd(argv) : 127;
    if (rc != 0) {
      *error = fmt("linking the shared library with '%s' failed (exit %s); set QO_CC to a C compiler",
                   cc, rc == 127 ? "127: not found" : "non-zero");
      ok = 0;
    }
  }
  /* Both outputs are complete on disk before either is put in place. */
  if (ok && (qoOutputOpen(path, &outLib, err, sizeof err) != 0 ||
             (headerPath && qoOutputOpen(headerPath, &outHdr, err, sizeof err) != 0)))
    ok = 0;
  if (ok) ok = qoOutputCopyFile(outLib, lib, err, sizeof err) == 0 && qoOutputFinish(outLib, err, sizeof err) == 0;
  if (ok && outHdr) {
    qoOutputWrite(outHdr, header.data, header.len);
    ok = qoOutputFinish(outHdr, err, sizeof err) == 0;
  }
  if (ok) {
    ok = qoOutputCommit(outLib, err, sizeof err) == 0;
    outLib = NULL;
  }
  if (ok && outHdr) {
    ok = qoOutputCommit(outHdr, err, sizeof err) == 0;
    outHdr = NULL;
  }
  if (!ok && !*error) *error = strdup(err);
  qoOutputDiscard(outLib);
  qoOutputDiscard(outHdr);
  qoBufFree(&wrapper), qoBufFree(&header), qoBufFree(&exports);
  unitDestroy(&u);
  unlink(obj), unlink(wrap), unlink(lib), unlink(vers);
  rmdir(dir);
  return ok ? mlirLogicalResultSuccess() : mlirLogicalResultFailure();
}
