/* quant-opt: the driver, modelled on mlir-opt.
 *
 * Reads .mlir (or stdin) or .onnx, runs a textual pass pipeline that mixes
 * quant-opt's passes with upstream MLIR passes, and writes MLIR, LLVM IR, an
 * object file or a shared library with the model C ABI. Diagnostics are
 * printed as "file:line:col: error: ..." and the exit code is 1 on any error;
 * an output file is only created when everything succeeded. */
#include "quant-opt/compiler.h"
#include "quant-opt/quantizer.h"
#include "quant-opt/version.h"

#include "mlir-c/BuiltinAttributes.h"
#include "quant-opt/qrt.h"
#include "quant-opt/qrt_calib.h"
#include "support/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum { EMIT_MLIR, EMIT_LLVM, EMIT_OBJ, EMIT_SHARED } EmitKind;

typedef struct Options {
  const char *input;
  const char *output;
  const char *pipeline;
  const char *postPipeline;  /* after calibration, e.g. quant-lower-int */
  const char *entry;
  const char *header;
  const char *kernels;       /* --kernels */
  const char *targetCPU;     /* --target-cpu */
  EmitKind emit;
  int splitInputFile;
  int printAfterAll, printBeforeAll;
  int printGeneric, printDebugInfo;
  int timing;
  int remarks;
  const char *calibrate[16]; /* calibration .npy per model input */
  int numCalibrate;
  const char *table;         /* calibration table to write (with --calibrate) or apply */
  const char *method;
  double percentile;
  int calibLimit;
  qoInputShape shapes[16];
  size_t numShapes;
  int batch;
} Options;

static void usage(FILE *out) {
  fprintf(out,
"OVERVIEW: quant-opt " QO_VERSION " - post-training int8 quantization compiler on MLIR\n"
"\n"
"USAGE: quant-opt [options] <input.mlir|input.onnx|->\n"
"\n"
"OPTIONS:\n"
"  -o <file>                   Output file ('-' for stdout, the default)\n"
"  --pass-pipeline=<pipeline>  Passes to run, e.g.\n"
"                              'builtin.module(func.func(quant-decompose-batchnorm),canonicalize)'\n"
"                              quant-opt passes, upstream MLIR passes and named\n"
"                              pipelines mix freely; '-p <name>' is a short form\n"
"  -p <pipeline-or-name>       Same as --pass-pipeline\n"
"  --emit=<kind>               mlir (default) | llvm (LLVM IR) | obj | shared\n"
"                              llvm/obj/shared lower to LLVM first when needed\n"
"  --kernels=<options>         Options of the generated x86 kernels (quant-x86-kernels in\n"
"                              lower-to-llvm): isa=auto|avx512-vnni|avx-vnni|avx2|portable|off,\n"
"                              fp32=true|false, parallel-min-ops=<n>; comma-separated.\n"
"                              At run time the body is chosen from cpuid; QO_ISA=portable|\n"
"                              avx2|avx-vnni|avx512-vnni picks one the CPU has (qo-run\n"
"                              --cpu-info shows the choice)\n"
"  --target-cpu=<cpu>          LLVM CPU for llvm/obj/shared (default: host: the model then\n"
"                              refuses, with a message, CPUs lacking a host feature). A\n"
"                              baseline such as x86-64-v3 runs on any AVX2 machine; the\n"
"                              int8 kernels keep their AVX-512 VNNI variant for CPUs with it\n"
"  --emit-header=<file>        With --emit=shared: the C header (default: output\n"
"                              with its extension replaced by .h)\n"
"  --entry=<name>              Entry function (default: the first public func)\n"
"  --input-shape=<name=DxDx..> Fix an ONNX input's shape (repeatable; the name\n"
"                              may be omitted for the first input)\n"
"  --batch=<N>                 Value for symbolic ONNX batch dimensions (default 1)\n"
"\n"
"CALIBRATION (after the pipeline, which must have inserted Q-DQ pairs, e.g. -p quant-prepare):\n"
"  --calibrate=<calib.npy>     Run the float model on these rows (batch first; one file\n"
"                              per model input, in order) and collect statistics\n"
"  --calibration-table=<file>  With --calibrate: where to write the table (default\n"
"                              calibration.json); without: the table to apply\n"
"  --calib-method=<method>     moving_avg (default) | minmax | percentile | kl | mse | mean_std\n"
"  --calib-percentile=<p>      Percentile of the percentile method (default 99.99)\n"
"  --calib-limit=<N>           Use only the first N calibration rows\n"
"  --post-pipeline=<pipeline>  Passes to run after calibration (e.g. quant-lower-int), so one\n"
"                              command goes from float model to an int8 object or library\n"
"\n"
"  --split-input-file          Split the input at '// -----' and process each part\n"
"  --print-ir-after-all        Print the IR after every pass (to stderr)\n"
"  --print-ir-before-all       Print the IR before every pass (to stderr)\n"
"  --print-generic             Print ops in generic form\n"
"  --print-debuginfo           Print locations\n"
"  --timing                    Report pass timing\n"
"  --remarks                   Print the decisions passes make (to stderr)\n"
"  --list-passes               List quant-opt's passes and named pipelines\n"
"  --version                   Print the version\n"
"  -h, --help                  This help\n"
"\n");
  fprintf(out, "QUANT-OPT PASSES:\n");
  qoPrintPassList(out);
  fprintf(out, "\nNAMED PIPELINES (usable as -p <name> or as a pipeline element):\n");
  for (size_t i = 0; i < qoGetNumNamedPipelines(); ++i)
    fprintf(out, "  %-32s %s\n", qoGetNamedPipeline(i)->name, qoGetNamedPipeline(i)->summary);
  fprintf(out, "\nEvery upstream MLIR pass (mlir-opt --help) is also accepted in a pipeline.\n");
}


/* Accepts "--flag=value" and "--flag value"; returns the value or NULL. */
static const char *flagValue(int argc, char **argv, int *i, const char *flag) {
  size_t n = strlen(flag);
  if (strncmp(argv[*i], flag, n) != 0) return NULL;
  if (argv[*i][n] == '=') return argv[*i] + n + 1;
  if (argv[*i][n] == 0) {
    if (*i + 1 >= argc) {
      fprintf(stderr, "quant-opt: error: %s expects a value\n", flag);
      exit(2);
    }
    return argv[++*i];
  }
  return NULL;
}

static int parseArgs(int argc, char **argv, Options *o) {
  memset(o, 0, sizeof *o);
  o->output = "-";
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i], *v;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(a, "--version")) {
      printf("quant-opt %s\n", QO_VERSION);
      exit(0);
    } else if (!strcmp(a, "--list-passes")) {
      qoPrintPassList(stdout);
      printf("\nnamed pipelines:\n");
      for (size_t k = 0; k < qoGetNumNamedPipelines(); ++k)
        printf("  %-32s %s\n", qoGetNamedPipeline(k)->name, qoGetNamedPipeline(k)->summary);
      exit(0);
    } else if ((v = flagValue(argc, argv, &i, "-o"))) {
      o->output = v;
    } else if ((v = flagValue(argc, argv, &i, "--pass-pipeline")) ||
               (v = flagValue(argc, argv, &i, "-p"))) {
      o->pipeline = v;
    } else if ((v = flagValue(argc, argv, &i, "--kernels"))) {
      o->kernels = v;
    } else if ((v = flagValue(argc, argv, &i, "--target-cpu"))) {
      o->targetCPU = v;
    } else if ((v = flagValue(argc, argv, &i, "--emit-header"))) {
      o->header = v;
    } else if ((v = flagValue(argc, argv, &i, "--emit"))) {
      if (!strcmp(v, "mlir")) o->emit = EMIT_MLIR;
      else if (!strcmp(v, "llvm")) o->emit = EMIT_LLVM;
      else if (!strcmp(v, "obj")) o->emit = EMIT_OBJ;
      else if (!strcmp(v, "shared")) o->emit = EMIT_SHARED;
      else {
        fprintf(stderr, "quant-opt: error: unknown --emit kind '%s' (want mlir, llvm, obj or shared)\n", v);
        return -1;
      }
    } else if ((v = flagValue(argc, argv, &i, "--calibrate"))) {
      if (o->numCalibrate == 16) return -1;
      o->calibrate[o->numCalibrate++] = v;
    } else if ((v = flagValue(argc, argv, &i, "--post-pipeline"))) {
      o->postPipeline = v;
    } else if ((v = flagValue(argc, argv, &i, "--calibration-table"))) {
      o->table = v;
    } else if ((v = flagValue(argc, argv, &i, "--calib-method"))) {
      if (qrt_calib_method_from_name(v) < 0) {
        fprintf(stderr, "quant-opt: error: unknown --calib-method '%s' (want minmax, moving_avg, "
                        "percentile, kl, mse or mean_std)\n", v);
        return -1;
      }
      o->method = v;
    } else if ((v = flagValue(argc, argv, &i, "--calib-percentile"))) {
      char *end;
      o->percentile = strtod(v, &end);
      if (*end || !(o->percentile > 50 && o->percentile <= 100)) {
        fprintf(stderr, "quant-opt: error: bad --calib-percentile '%s' (want a number in (50, 100])\n", v);
        return -1;
      }
    } else if ((v = flagValue(argc, argv, &i, "--calib-limit"))) {
      char *end;
      long n = strtol(v, &end, 10);
      if (*end || n <= 0) {
        fprintf(stderr, "quant-opt: error: bad --calib-limit '%s' (want a positive integer)\n", v);
        return -1;
      }
      o->calibLimit = (int)n;
    } else if ((v = flagValue(argc, argv, &i, "--entry"))) {
      o->entry = v;
    } else if ((v = flagValue(argc, argv, &i, "--input-shape"))) {
      if (o->numShapes == 16 || qoParseInputShape(v, &o->shapes[o->numShapes]) != 0) {
        fprintf(stderr, "quant-opt: error: bad --input-shape '%s' (want name=1x3x224x224)\n", v);
        return -1;
      }
      ++o->numShapes;
    } else if ((v = flagValue(argc, argv, &i, "--batch"))) {
      char *end;
      long b = strtol(v, &end, 10);
      if (*end || b <= 0 || b > (1 << 20)) {
        fprintf(stderr, "quant-opt: error: bad --batch '%s' (want a positive integer)\n", v);
        return -1;
      }
      o->batch = (int)b;
    } else if (!strcmp(a, "--split-input-file")) {
      o->splitInputFile = 1;
    } else if (!strcmp(a, "--print-ir-after-all") || !strcmp(a, "--mlir-print-ir-after-all")) {
      o->printAfterAll = 1;
    } else if (!strcmp(a, "--print-ir-before-all") || !strcmp(a, "--mlir-print-ir-before-all")) {
      o->printBeforeAll = 1;
    } else if (!strcmp(a, "--print-generic") || !strcmp(a, "--mlir-print-op-generic")) {
      o->printGeneric = 1;
    } else if (!strcmp(a, "--print-debuginfo") || !strcmp(a, "--mlir-print-debuginfo")) {
      o->printDebugInfo = 1;
    } else if (!strcmp(a, "--timing")) {
      o->timing = 1;
    } else if (!strcmp(a, "--remarks")) {
      o->remarks = 1;
    } else if (a[0] == '-' && a[1] != 0) {
      fprintf(stderr, "quant-opt: error: unknown option '%s' (see --help)\n", a);
      return -1;
    } else if (o->input) {
      fprintf(stderr, "quant-opt: error: more than one input file ('%s' and '%s')\n", o->input, a);
      return -1;
    } else {
      o->input = a;
    }
  }
  if (!o->input) o->input = "-";
  if (!o->method) o->method = "moving_avg";
  if ((o->numCalibrate || o->table) && o->splitInputFile) {
    fprintf(stderr, "quant-opt: error: calibration does not combine with --split-input-file\n");
    return -1;
  }
  if (o->emit == EMIT_OBJ || o->emit == EMIT_SHARED) {
    if (!strcmp(o->output, "-")) {
      fprintf(stderr, "quant-opt: error: --emit=%s needs an output file (-o)\n",
              o->emit == EMIT_OBJ ? "obj" : "shared");
      return -1;
    }
    if (o->splitInputFile) {
      fprintf(stderr, "quant-opt: error: --split-input-file works with --emit=mlir or llvm only\n");
      return -1;
    }
  }
  return 0;
}

/*===--- Output buffering (nothing is written unless all succeeded) --------===*/

typedef struct {
  char *data;
  size_t size, cap;
} Buf;

static void bufAppend(MlirStringRef s, void *ud) {
  Buf *b = ud;
  if (b->size + s.length + 1 > b->cap) {
    size_t nc = (b->cap ? b->cap * 2 : 65536);
    while (nc < b->size + s.length + 1) nc *= 2;
    char *p = realloc(b->data, nc);
    if (!p) return;
    b->data = p;
    b->cap = nc;
  }
  memcpy(b->data + b->size, s.data, s.length);
  b->size += s.length;
}

static void bufPuts(Buf *b, const char *s) {
  bufAppend(mlirStringRefCreateFromCString(s), b);
}

static int moduleHasFuncs(MlirModule m) {
  MlirBlock body = mlirModuleGetBody(m);
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
    if (n.length == 9 && !memcmp(n.data, "func.func", 9)) return 1;
  }
  return 0;
}

static char *defaultHeaderPath(const char *out) {
  size_t n = strlen(out);
  char *h = malloc(n + 3);
  if (!h) return NULL;
  strcpy(h, out);
  char *dot = strrchr(h, '.');
  char *slash = strrchr(h, '/');
  if (dot && (!slash || dot > slash)) strcpy(dot, ".h");
  else strcat(h, ".h");
  return h;
}

/* Parses and runs a pipeline (or a named one) on `m`. */
static int runPipeline(MlirContext ctx, MlirModule m, const char *pipeline, const Options *o) {
  const qoNamedPipeline *np = qoLookupNamedPipeline(pipeline);
  MlirPassManager pm = mlirPassManagerCreateOnOperation(ctx, mlirStringRefCreateFromCString("builtin.module"));
  if (o->printAfterAll || o->printBeforeAll) {
    MlirOpPrintingFlags fl = mlirOpPrintingFlagsCreate();
    mlirPassManagerEnableIRPrinting(pm, o->printBeforeAll, o->printAfterAll, true, false, false, fl,
                                    mlirStringRefCreate(NULL, 0));
    mlirOpPrintingFlagsDestroy(fl);
  }
  if (o->timing) mlirPassManagerEnableTiming(pm);
  char *err = NULL;
  MlirLogicalResult r = qoParsePassPipeline(pm, np ? np->pipeline : pipeline, &err);
  if (mlirLogicalResultIsFailure(r)) {
    fprintf(stderr, "quant-opt: error: invalid pipeline: %s\n", err ? err : "?");
    free(err);
  } else {
    r = mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(m));
  }
  mlirPassManagerDestroy(pm);
  return mlirLogicalResultIsSuccess(r) ? 0 : -1;
}

/* --calibrate / --calibration-table: collect statistics (writing the table),
 * then write the chosen method's parameters into the Q-DQ types. */
/* --calibrate / --calibration-table, through the embedding API
 * (quant-opt/quantizer.h) on the module the pipeline prepared: collect
 * statistics and write the table, or read one; then write the chosen
 * method's scales and zero points into the Q-DQ types. Errors reach stderr
 * as diagnostics. */
static int calibrateAndApply(MlirModule m, const Options *o) {
  const char *tablePath = o->table ? o->table : "calibration.json";
  qoQuantizerOptions qopts;
  qoQuantizerOptionsInit(&qopts);
  qopts.method = (qrt_calib_method_t)qrt_calib_method_from_name(o->method);
  qopts.entry = o->entry;
  qrt_calib_config_t cfg;
  qrt_calib_config_init(&cfg);
  if (o->percentile > 0) cfg.percentile = o->percentile;
  qopts.calibConfig = &cfg;
  qoQuantizer *q = NULL;
  qoStatus st = qoQuantizerCreateForModule(m, &qopts, &q);
  char msg[1024];
  if (!st && o->numCalibrate) {
    qrt_array_t in[16];
    memset(in, 0, sizeof in);
    for (int i = 0; i < o->numCalibrate && !st; ++i) {
      if (qrt_npy_read(o->calibrate[i], &in[i], msg, sizeof msg) != QRT_OK) {
        fprintf(stderr, "quant-opt: error: %s\n", msg);
        st = QO_STATUS_IO;
      } else if (o->calibLimit && in[i].rank > 0 && in[i].dims[0] > o->calibLimit) {
        in[i].dims[0] = o->calibLimit;
      }
    }
    if (!st) st = qoQuantizerFeedAll(q, in, o->numCalibrate, stderr);
    for (int i = 0; i < o->numCalibrate; ++i) qrt_array_free(&in[i]);
    if (!st) st = qoQuantizerSaveTable(q, tablePath);
    const qrt_calib_table_t *t;
    if (!st && !qoQuantizerGetTable(q, &t))
      fprintf(stderr, "calibration: %zu quantization points, table written to %s\n", qrt_calib_table_size(t),
              tablePath);
  } else if (!st) {
    st = qoQuantizerLoadTable(q, tablePath);
  }
  if (!st) st = qoQuantizerApplyCalibration(q);
  qoQuantizerDestroy(q);
  return st ? -1 : 0;
}

/* Processes one module; appends MLIR/LLVM text to `out` or writes files. */
static int processModule(MlirContext ctx, MlirModule m, const Options *o, Buf *out) {
  char *err = NULL;
  if (o->pipeline) {
    if (runPipeline(ctx, m, o->pipeline, o)) return -1;
  } else if (!mlirOperationVerify(mlirModuleGetOperation(m))) {
    return -1;
  }
  if ((o->numCalibrate || o->table) && calibrateAndApply(m, o) != 0) return -1;
  if (o->postPipeline && runPipeline(ctx, m, o->postPipeline, o)) return -1;
  if (o->emit == EMIT_MLIR) {
    MlirOpPrintingFlags fl = mlirOpPrintingFlagsCreate();
    if (o->printGeneric) mlirOpPrintingFlagsPrintGenericOpForm(fl);
    if (o->printDebugInfo) mlirOpPrintingFlagsEnableDebugInfo(fl, true, false);
    mlirOperationPrintWithFlags(mlirModuleGetOperation(m), fl, bufAppend, out);
    mlirOpPrintingFlagsDestroy(fl);
    bufPuts(out, "\n");
    return 0;
  }
  qoSignature sig;
  int haveSig = 0;
  if (moduleHasFuncs(m)) {
    if (mlirLogicalResultIsFailure(qoGetSignature(m, o->entry, &sig, &err))) {
      fprintf(stderr, "%s: error: %s\n", o->input, err);
      free(err);
      return -1;
    }
    haveSig = 1;
    if (mlirLogicalResultIsFailure(qoLowerToLLVM(m, &err))) {
      if (err) fprintf(stderr, "%s: error: %s\n", o->input, err);
      free(err);
      return -1;
    }
  }
  MlirLogicalResult r;
  if (o->emit == EMIT_LLVM) {
    char *text = qoTranslateToLLVMIR(m, &err);
    r = text ? mlirLogicalResultSuccess() : mlirLogicalResultFailure();
    if (text) bufPuts(out, text);
    free(text);
  } else if (o->emit == EMIT_OBJ) {
    r = qoEmitObject(m, o->output, &err);
  } else {
    if (!haveSig) {
      fprintf(stderr, "%s: error: --emit=shared needs a tensor-level module (func.func), "
                      "not one already lowered to LLVM\n", o->input);
      return -1;
    }
    /* The default header sits beside a library file; a library written to a
     * device or FIFO (-o /dev/null) gets none unless --emit-header asks. */
    struct stat st;
    int special = stat(o->output, &st) == 0 && !S_ISREG(st.st_mode);
    char *h = o->header ? strdup(o->header) : special ? NULL : defaultHeaderPath(o->output);
    r = qoEmitSharedLibrary(m, &sig, o->output, h, &err);
    free(h);
  }
  if (mlirLogicalResultIsFailure(r)) {
    fprintf(stderr, "%s: error: %s\n", o->input, err ? err : "emission failed");
    free(err);
    return -1;
  }
  return 0;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f) return NULL;
  size_t cap = 65536, n = 0;
  char *b = malloc(cap);
  size_t k;
  while (b && (k = fread(b + n, 1, cap - n, f)) > 0) {
    n += k;
    if (n == cap) {
      char *nb = realloc(b, cap *= 2);
      if (!nb) { free(b); b = NULL; }
      else b = nb;
    }
  }
  if (f != stdin) fclose(f);
  if (b) *len = n;
  return b;
}

static void printRemark(MlirLocation loc, const char *msg, void *ud) {
  qoPrintLocation(stderr, loc, (const char *)ud);
  fprintf(stderr, ": remark: %s\n", msg);
}

int main(int argc, char **argv) {
  /* A file-size limit (ulimit -f) is a write error to report, not a kill
   * that would leave a temporary file behind. */
  signal(SIGXFSZ, SIG_IGN);
  Options o;
  if (parseArgs(argc, argv, &o) != 0) return 2;
  MlirContext ctx = qoContextCreate();
  if (mlirContextIsNull(ctx)) {
    fprintf(stderr, "quant-opt: error: cannot create the MLIR context (qo dialect failed to load)\n");
    return 1;
  }
  int errors = 0;
  qoAttachDiagnosticPrinter(ctx, stderr, o.input, &errors);
  if (o.remarks) qoContextSetRemarkHandler(ctx, printRemark, (void *)o.input);
  char *kerr = NULL;
  if (o.kernels && mlirLogicalResultIsFailure(qoContextSetKernelOptions(ctx, o.kernels, &kerr))) {
    fprintf(stderr, "quant-opt: error: bad --kernels '%s': %s\n", o.kernels, kerr ? kerr : "?");
    free(kerr);
    qoContextDestroy(ctx);
    return 2;
  }
  if (o.targetCPU && mlirLogicalResultIsFailure(qoContextSetTargetCPU(ctx, o.targetCPU))) {
    fprintf(stderr, "quant-opt: error: bad --target-cpu '%s' (an LLVM CPU name, e.g. x86-64-v3)\n",
            o.targetCPU);
    qoContextDestroy(ctx);
    return 2;
  }
  qoOnnxImportOptions onnx = {o.shapes, o.numShapes, o.entry, o.batch};
  Buf out = {0};
  int failed = 0;
  if (o.splitInputFile) {
    size_t len = 0;
    char *text = slurp(o.input, &len);
    if (!text) {
      fprintf(stderr, "quant-opt: error: cannot read '%s'\n", o.input);
      qoContextDestroy(ctx);
      return 1;
    }
    /* Split at lines that start with "// -----"; keep line numbers by
     * replacing earlier parts with newlines. */
    size_t start = 0, line = 1, startLine = 1;
    int first = 1;
    const char *name = strcmp(o.input, "-") ? o.input : "<stdin>";
    for (size_t i = 0; i <= len; ++i) {
      int atSep = (i < len) && (i == 0 || text[i - 1] == '\n') && !strncmp(text + i, "// -----", 8);
      if (i == len || atSep) {
        size_t chunkLen = i - start;
        char *chunk = malloc(startLine - 1 + chunkLen + 1);
        memset(chunk, '\n', startLine - 1);
        memcpy(chunk + startLine - 1, text + start, chunkLen);
        chunk[startLine - 1 + chunkLen] = 0;
        if (!first) bufPuts(&out, "// -----\n");
        first = 0;
        MlirModule m = qoParseSource(ctx, chunk, startLine - 1 + chunkLen, name);
        free(chunk);
        if (mlirModuleIsNull(m) || processModule(ctx, m, &o, &out) != 0) failed = 1;
        if (!mlirModuleIsNull(m)) mlirModuleDestroy(m);
        if (i == len) break;
        while (i < len && text[i] != '\n') ++i; /* skip the separator line */
        start = i + 1;
        startLine = line + 1;
      }
      if (i < len && text[i] == '\n') ++line;
    }
    free(text);
  } else {
    MlirModule m = qoLoadSourceFile(ctx, o.input, &onnx);
    if (mlirModuleIsNull(m) || processModule(ctx, m, &o, &out) != 0) failed = 1;
    if (!mlirModuleIsNull(m)) mlirModuleDestroy(m);
  }
  if (failed || errors) {
    /* stdout output of the parts that succeeded is still useful with
     * --split-input-file; files are never written on failure. */
    if (!strcmp(o.output, "-") && o.splitInputFile) fwrite(out.data, 1, out.size, stdout);
    free(out.data);
    qoContextDestroy(ctx);
    return 1;
  }
  int rc = 0;
  char werr[1200];
  if ((o.emit == EMIT_MLIR || o.emit == EMIT_LLVM) &&
      qoWriteFile(o.output, out.data, out.size, werr, sizeof werr) != 0) {
    fprintf(stderr, "quant-opt: error: %s\n", werr);
    rc = 1;
  }
  free(out.data);
  qoContextDestroy(ctx);
  return rc;
}
