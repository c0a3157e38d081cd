/* qo-run: runs a model compiled by quant-opt on .npy inputs.
 *
 * The model is a shared library built with `quant-opt --emit=shared`
 * (loaded with dlopen, C ABI of include/quant-opt/model_abi.h) or a .mlir /
 * .onnx file compiled on the fly with the JIT. Inputs are .npy files whose
 * first dimension is the batch: a dataset larger than the model's batch is
 * run in chunks (the last one zero-padded) and the outputs concatenated.
 * Optionally reports latency (warm-up, median of N runs) and top-1 accuracy
 * against a labels .npy. */
#include "quant-opt/compiler.h"
#include "quant-opt/model_abi.h"
#include "quant-opt/qrt.h"
#include "quant-opt/qrt_cpu.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_IO 16

typedef struct Model {
  qoSignature sig;
  void *dl;                 /* shared library, or */
  qo_model_run_fn run;
  qoJit *jit;               /* JIT-compiled module */
  MlirContext ctx;
} Model;

typedef struct Args {
  const char *model;
  const char *inputs[MAX_IO];      /* "name=path" or "path" */
  int numInputs;
  const char *outputs[MAX_IO];     /* "name=path" or "path" */
  int numOutputs;
  const char *outputDir;
  const char *labels;
  int bench, warmup, threads, jobs, batch, quiet, limit;
  qoInputShape shapes[MAX_IO];
  size_t numShapes;
} Args;

static void usage(FILE *f) {
  fprintf(f,
"USAGE: qo-run <model.so|model.onnx|model.mlir> [options] [input.npy ...]\n"
"\n"
"Runs a quant-opt model on .npy inputs (float32, int8 or uint8; batch first).\n"
"\n"
"OPTIONS:\n"
"  -i, --input <name=file.npy>  An input (positional .npy files fill inputs in order)\n"
"  -o, --output <name=file.npy> Write an output (or just a path for the first output)\n"
"  --output-dir <dir>           Write every output as <dir>/<name>.npy\n"
"  --labels <labels.npy>        Report top-1 accuracy of the first output (int labels)\n"
"  --bench <N>                  Report latency: median/p10/p90 of N runs of one batch\n"
"  --warmup <N>                 Warm-up runs before timing (default 3)\n"
"  --threads <N>                Threads inside the model's kernels (OpenMP; default:\n"
"                              $OMP_NUM_THREADS, else 1)\n"
"  --jobs <N>                   Run dataset chunks concurrently on N threads (default 1)\n"
"  --batch <N>                  Batch size to compile .onnx models with (default 64\n"
"                               when the input has more rows, else the input's)\n"
"  --input-shape <name=DxD..>   Fix an ONNX input shape (as in quant-opt)\n"
"  --limit <N>                  Use only the first N rows of the inputs\n"
"  -q, --quiet                  Print only the results\n"
"  --cpu-info                   Print this CPU's features and the kernel ISA models\n"
"                               would run here (QO_ISA, QO_CPU_DISABLE apply), then exit\n"
"  -h, --help                   This help\n");
}

static double nowMs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmpDouble(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int parseInt(const char *flag, const char *v, int lo, int *out) {
  char *end;
  long x = strtol(v, &end, 10);
  if (*v == 0 || *end || x < lo || x > (1 << 30)) {
    fprintf(stderr, "qo-run: error: %s expects an integer >= %d, got '%s'\n", flag, lo, v);
    return -1;
  }
  *out = (int)x;
  return 0;
}

/* --cpu-info: what runtime/cpu.c sees and decides on this machine. */
static int cpuInfo(void) {
  char buf[2048];
  uint64_t f = qrt_cpu_features();
  qrt_cpu_format(f, buf, sizeof buf);
  printf("cpu features: %s\n", buf);
  for (int isa = QRT_ISA_COUNT - 1; isa >= 0; --isa) {
    uint64_t missing = qrt_isa_requirements((qrt_isa_t)isa) & ~f;
    qrt_cpu_format(missing, buf, sizeof buf);
    printf("kernel isa %s: %s%s\n", qrt_isa_name((qrt_isa_t)isa), missing ? "unsupported, lacks " : "supported",
           buf);
  }
  char msg[512];
  qrt_isa_t sel = qrt_isa_select(f, getenv("QO_ISA"), msg, sizeof msg);
  printf("selected: %s%s%s%s\n", qrt_isa_name(sel), msg[0] ? " (" : "", msg, msg[0] ? ")" : "");
  return 0;
}

static int parseArgs(int argc, char **argv, Args *a) {
  memset(a, 0, sizeof *a);
  a->warmup = 3;
  a->threads = 0; /* 0: $OMP_NUM_THREADS, else 1 */
  a->jobs = 1;
  for (int i = 1; i < argc; ++i) {
    const char *s = argv[i];
#define NEEDVAL()                                                              \
  if (i + 1 >= argc) {                                                         \
    fprintf(stderr, "qo-run: error: %s expects a value\n", s);                 \
    return -1;                                                                 \
  }                                                                            \
  const char *v = argv[++i]
    if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(s, "--cpu-info")) {
      exit(cpuInfo());
    } else if (!strcmp(s, "-i") || !strcmp(s, "--input")) {
      NEEDVAL();
      if (a->numInputs == MAX_IO) return -1;
      a->inputs[a->numInputs++] = v;
    } else if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
      NEEDVAL();
      if (a->numOutputs == MAX_IO) return -1;
      a->outputs[a->numOutputs++] = v;
    } else if (!strcmp(s, "--output-dir")) {
      NEEDVAL();
      a->outputDir = v;
    } else if (!strcmp(s, "--labels")) {
      NEEDVAL();
      a->labels = v;
    } else if (!strcmp(s, "--bench")) {
      NEEDVAL();
      if (parseInt(s, v, 1, &a->bench)) return -1;
    } else if (!strcmp(s, "--warmup")) {
      NEEDVAL();
      if (parseInt(s, v, 0, &a->warmup)) return -1;
    } else if (!strcmp(s, "--threads")) {
      NEEDVAL();
      if (parseInt(s, v, 1, &a->threads)) return -1;
    } else if (!strcmp(s, "--jobs")) {
      NEEDVAL();
      if (parseInt(s, v, 1, &a->jobs)) return -1;
    } else if (!strcmp(s, "--batch")) {
      NEEDVAL();
      if (parseInt(s, v, 1, &a->batch)) return -1;
    } else if (!strcmp(s, "--limit")) {
      NEEDVAL();
      if (parseInt(s, v, 1, &a->limit)) return -1;
    } else if (!strcmp(s, "--input-shape")) {
      NEEDVAL();
      if (a->numShapes == MAX_IO || qoParseInputShape(v, &a->shapes[a->numShapes])) {
        fprintf(stderr, "qo-run: error: bad --input-shape '%s'\n", v);
        return -1;
      }
      a->numShapes++;
    } else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
      a->quiet = 1;
    } else if (s[0] == '-' && s[1]) {
      fprintf(stderr, "qo-run: error: unknown option '%s' (see --help)\n", s);
      return -1;
    } else if (!a->model) {
      a->model = s;
    } else {
      if (a->numInputs == MAX_IO) return -1;
      a->inputs[a->numInputs++] = s;
    }
#undef NEEDVAL
  }
  if (!a->model) {
    fprintf(stderr, "qo-run: error: no model given (see --help)\n");
    return -1;
  }
  return 0;
}

static int endsWith(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

/* Loads a shared library model. */
static int loadShared(Model *m, const char *path) {
  char buf[4096];
  if (!strchr(path, '/')) snprintf(buf, sizeof buf, "./%s", path);
  else snprintf(buf, sizeof buf, "%s", path);
  m->dl = dlopen(buf, RTLD_NOW | RTLD_LOCAL);
  if (!m->dl) {
    fprintf(stderr, "qo-run: error: cannot load '%s': %s\n", path, dlerror());
    return -1;
  }
  qo_model_describe_fn describe = (qo_model_describe_fn)(uintptr_t)dlsym(m->dl, "qo_model_describe");
  m->run = (qo_model_run_fn)(uintptr_t)dlsym(m->dl, "qo_model_run");
  if (!describe || !m->run) {
    fprintf(stderr, "qo-run: error: '%s' is not a quant-opt model (no qo_model_describe/qo_model_run)\n", path);
    return -1;
  }
  const qo_model_desc_t *d = describe();
  if (!d || d->abi_version < 1 || d->abi_version > QO_MODEL_ABI_VERSION || d->num_inputs < 0 ||
      d->num_inputs > MAX_IO || d->num_outputs < 0 || d->num_outputs > MAX_IO) {
    fprintf(stderr, "qo-run: error: '%s' has an unsupported model ABI version\n", path);
    return -1;
  }
  qo_model_check_cpu_fn check = (qo_model_check_cpu_fn)(uintptr_t)dlsym(m->dl, "qo_model_check_cpu");
  char why[1024];
  if (d->abi_version >= 2 && check && check(why, sizeof why) != QO_MODEL_OK) {
    fprintf(stderr, "qo-run: error: cannot run '%s' here: %s\n", path, why);
    return -1;
  }
  qoSignature *s = &m->sig;
  snprintf(s->funcName, sizeof s->funcName, "%s", d->name);
  s->numInputs = d->num_inputs;
  s->numOutputs = d->num_outputs;
  for (int k = 0; k < 2; ++k) {
    const qo_tensor_desc_t *src = k ? d->outputs : d->inputs;
    qoTensorInfo *dst = k ? s->outputs : s->inputs;
    int n = k ? d->num_outputs : d->num_inputs;
    for (int i = 0; i < n; ++i) {
      snprintf(dst[i].name, sizeof dst[i].name, "%s", src[i].name);
      dst[i].dtype = (qoDType)src[i].dtype;
      dst[i].rank = src[i].rank;
      for (int r = 0; r < src[i].rank && r < QO_MAX_RANK; ++r) dst[i].dims[r] = src[i].dims[r];
    }
  }
  return 0;
}

/* Compiles .mlir/.onnx with the JIT. */
static int loadJit(Model *m, const Args *a, int batch) {
  double t0 = nowMs();
  m->ctx = qoContextCreate();
  if (mlirContextIsNull(m->ctx)) return -1;
  qoAttachDiagnosticPrinter(m->ctx, stderr, a->model, NULL);
  qoOnnxImportOptions o = {a->shapes, a->numShapes, NULL, batch};
  MlirModule mod = qoLoadSourceFile(m->ctx, a->model, &o);
  if (mlirModuleIsNull(mod)) return -1;
  char *err = NULL;
  int rc = -1;
  if (mlirLogicalResultIsFailure(qoGetSignature(mod, NULL, &m->sig, &err)) ||
      mlirLogicalResultIsFailure(qoLowerToLLVM(mod, &err))) {
    if (err) fprintf(stderr, "%s: error: %s\n", a->model, err);
  } else if ((m->jit = qoJitCreate(mod, &m->sig, 3, &err))) {
    rc = 0;
  } else {
    fprintf(stderr, "%s: error: %s\n", a->model, err ? err : "JIT failed");
  }
  free(err);
  mlirModuleDestroy(mod);
  if (rc == 0 && !a->quiet)
    fprintf(stderr, "qo-run: compiled %s with the JIT in %.0f ms\n", a->model, nowMs() - t0);
  return rc;
}

static int modelRun(Model *m, const void *const *in, void *const *out) {
  return m->jit ? qoJitRun(m->jit, in, out) : m->run(in, out);
}

static int64_t numel(const qoTensorInfo *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; ++i) n *= t->dims[i];
  return n;
}

static void shapeStr(const int64_t *d, int rank, char *out, size_t n) {
  size_t k = 0;
  out[0] = 0;
  for (int i = 0; i < rank && k < n; ++i)
    k += (size_t)snprintf(out + k, n - k, "%s%lld", i ? "x" : "", (long long)d[i]);
  if (rank == 0) snprintf(out, n, "scalar");
}

/* Splits "name=path" (name may be absent). */
static const char *splitSpec(const char *spec, char *name, size_t n) {
  const char *eq = strchr(spec, '=');
  if (!eq) {
    name[0] = 0;
    return spec;
  }
  snprintf(name, n, "%.*s", (int)(eq - spec), spec);
  return eq + 1;
}

typedef struct Job {
  Model *m;
  qrt_array_t *in, *out;
  int64_t rows, batch, first, step; /* chunk indices first, first+step, ... */
  int failed, oom;
  int status; /* the model's last non-zero result */
} Job;

/* Runs chunks [first, first+step, ...) of the dataset. */
static void *runChunks(void *arg) {
  Job *j = arg;
  Model *m = j->m;
  const qoSignature *s = &m->sig;
  int64_t nChunks = (j->rows + j->batch - 1) / j->batch;
  void *inBuf[MAX_IO] = {0}, *outBuf[MAX_IO] = {0};
  size_t inRow[MAX_IO], outRow[MAX_IO];
  for (int i = 0; i < s->numInputs; ++i) {
    inRow[i] = (size_t)(numel(&s->inputs[i]) / j->batch) * qrt_dtype_size((qrt_dtype_t)s->inputs[i].dtype);
    if (!(inBuf[i] = calloc((size_t)j->batch, inRow[i] ? inRow[i] : 1))) j->failed = j->oom = 1;
  }
  for (int i = 0; i < s->numOutputs; ++i) {
    outRow[i] = (size_t)(numel(&s->outputs[i]) / j->batch) * qrt_dtype_size((qrt_dtype_t)s->outputs[i].dtype);
    if (!(outBuf[i] = calloc((size_t)j->batch, outRow[i] ? outRow[i] : 1))) j->failed = j->oom = 1;
  }
  for (int64_t c = j->first; c < nChunks && !j->failed; c += j->step) {
    int64_t r0 = c * j->batch, nr = j->rows - r0 < j->batch ? j->rows - r0 : j->batch;
    const void *in[MAX_IO];
    void *out[MAX_IO];
    for (int i = 0; i < s->numInputs; ++i) {
      char *src = (char *)j->in[i].data + (size_t)r0 * inRow[i];
      if (nr == j->batch) {
        in[i] = src; /* no copy for full chunks */
      } else {
        memset(inBuf[i], 0, (size_t)j->batch * inRow[i]);
        memcpy(inBuf[i], src, (size_t)nr * inRow[i]);
        in[i] = inBuf[i];
      }
    }
    for (int i = 0; i < s->numOutputs; ++i)
      out[i] = nr == j->batch ? (char *)j->out[i].data + (size_t)r0 * outRow[i] : outBuf[i];
    int st = modelRun(m, in, out);
    if (st != 0) j->failed = 1, j->status = st;
    for (int i = 0; i < s->numOutputs; ++i)
      if (nr != j->batch)
        memcpy((char *)j->out[i].data + (size_t)r0 * outRow[i], outBuf[i], (size_t)nr * outRow[i]);
  }
  for (int i = 0; i < MAX_IO; ++i) free(inBuf[i]), free(outBuf[i]);
  return NULL;
}

/* Ends the OpenMP worker threads the model's kernels started, if any
 * (omp_pause_resource_all, OpenMP 5.0), so the process exits with only its
 * own threads (LeakSanitizer cannot scan libomp's idle workers). */
static void stopKernelThreads(void) {
  void *omp = dlopen("libomp.so.5", RTLD_NOW | RTLD_NOLOAD);
  if (!omp) return;
  int (*pause)(int) = (int (*)(int))(uintptr_t)dlsym(omp, "omp_pause_resource_all");
  if (pause) pause(2 /* omp_pause_hard */);
  dlclose(omp);
}

int main(int argc, char **argv) {
  signal(SIGXFSZ, SIG_IGN); /* ulimit -f: a write error, not a kill */
  Args a;
  if (parseArgs(argc, argv, &a) != 0) return 2;
  /* Kernel threads: OpenMP reads this when the model first runs. */
  if (a.threads > 0) {
    char tv[16];
    snprintf(tv, sizeof tv, "%d", a.threads);
    setenv("OMP_NUM_THREADS", tv, 1);
  } else {
    const char *e = getenv("OMP_NUM_THREADS");
    a.threads = e && atoi(e) > 0 ? atoi(e) : 1;
    if (!e) setenv("OMP_NUM_THREADS", "1", 1);
  }
  int rc = 1;
  Model m = {0};
  qrt_array_t in[MAX_IO] = {0}, out[MAX_IO] = {0};
  char msg[1300];
  int isShared = endsWith(a.model, ".so");

  /* Read inputs first: their row count chooses the JIT batch size. */
  char names[MAX_IO][128];
  const char *paths[MAX_IO];
  for (int i = 0; i < a.numInputs; ++i) {
    paths[i] = splitSpec(a.inputs[i], names[i], sizeof names[i]);
    if (qrt_npy_read(paths[i], &in[i], msg, sizeof msg) != QRT_OK) {
      fprintf(stderr, "qo-run: error: %s\n", msg);
      goto done;
    }
    if (a.limit && in[i].rank > 0 && in[i].dims[0] > a.limit) in[i].dims[0] = a.limit;
  }
  int batch = a.batch;
  if (!batch && a.numInputs > 0 && in[0].rank > 0) batch = in[0].dims[0] > 64 ? 64 : (int)in[0].dims[0];
  if (isShared ? loadShared(&m, a.model) : loadJit(&m, &a, batch)) goto done;
  const qoSignature *s = &m.sig;
  if (a.numInputs != s->numInputs) {
    fprintf(stderr, "qo-run: error: model '%s' has %d input(s), %d given:", a.model,
            s->numInputs, a.numInputs);
    for (int i = 0; i < s->numInputs; ++i) {
      char sh[64];
      shapeStr(s->inputs[i].dims, s->inputs[i].rank, sh, sizeof sh);
      fprintf(stderr, " %s (%s %s)", s->inputs[i].name, qrt_dtype_name((qrt_dtype_t)s->inputs[i].dtype), sh);
    }
    fprintf(stderr, "\n");
    goto done;
  }
  /* Match named inputs to model inputs (unnamed ones keep their position). */
  qrt_array_t ordered[MAX_IO];
  int used[MAX_IO] = {0};
  for (int i = 0; i < a.numInputs; ++i) {
    int slot = i;
    if (names[i][0]) {
      slot = -1;
      for (int k = 0; k < s->numInputs; ++k)
        if (!strcmp(s->inputs[k].name, names[i])) slot = k;
      if (slot < 0) {
        fprintf(stderr, "qo-run: error: the model has no input named '%s'\n", names[i]);
        goto done;
      }
    }
    if (used[slot]) {
      fprintf(stderr, "qo-run: error: input '%s' given twice\n", s->inputs[slot].name);
      goto done;
    }
    used[slot] = 1;
    ordered[slot] = in[i];
  }
  memcpy(in, ordered, sizeof(qrt_array_t) * (size_t)s->numInputs);
  /* Validate dtypes and shapes; find the number of rows. */
  int64_t mbatch = s->inputs[0].rank ? s->inputs[0].dims[0] : 1;
  int64_t rows = -1;
  for (int i = 0; i < s->numInputs; ++i) {
    const qoTensorInfo *t = &s->inputs[i];
    char want[64], got[64];
    shapeStr(t->dims, t->rank, want, sizeof want);
    shapeStr(in[i].dims, in[i].rank, got, sizeof got);
    if ((int)in[i].dtype != (int)t->dtype) {
      fprintf(stderr, "qo-run: error: input '%s' wants %s, the .npy holds %s\n", t->name,
              qrt_dtype_name((qrt_dtype_t)t->dtype), qrt_dtype_name(in[i].dtype));
      goto done;
    }
    int ok = in[i].rank == t->rank;
    for (int d = 1; ok && d < t->rank; ++d) ok = in[i].dims[d] == t->dims[d];
    if (t->rank == 0 || t->dims[0] != mbatch) ok = ok && in[i].dims[0] == t->dims[0];
    if (!ok) {
      fprintf(stderr, "qo-run: error: input '%s' has shape %s, the model wants %s "
                      "(the first dimension may be any number of rows)\n", t->name, got, want);
      goto done;
    }
    int64_t r = t->rank ? in[i].dims[0] : 1;
    if (rows >= 0 && r != rows) {
      fprintf(stderr, "qo-run: error: inputs have different numbers of rows (%lld vs %lld)\n",
              (long long)rows, (long long)r);
      goto done;
    }
    rows = r;
  }
  if (rows == 0) {
    fprintf(stderr, "qo-run: error: the inputs have no rows\n");
    goto done;
  }
  for (int i = 0; i < s->numOutputs; ++i) {
    int64_t dims[QO_MAX_RANK];
    memcpy(dims, s->outputs[i].dims, sizeof dims);
    if (s->outputs[i].rank > 0 && dims[0] == mbatch) dims[0] = rows;
    else if (rows != mbatch) {
      fprintf(stderr, "qo-run: error: output '%s' has no batch dimension; run it with exactly %lld rows\n",
              s->outputs[i].name, (long long)mbatch);
      goto done;
    }
    if (qrt_array_alloc(&out[i], (qrt_dtype_t)s->outputs[i].dtype, s->outputs[i].rank, dims)) {
      fprintf(stderr, "qo-run: error: out of memory for output '%s'\n", s->outputs[i].name);
      goto done;
    }
  }
  if (rows % mbatch != 0 && !a.quiet)
    fprintf(stderr, "qo-run: note: %lld rows in batches of %lld; the last batch is zero-padded\n",
            (long long)rows, (long long)mbatch);

  /* The whole dataset, in a.jobs concurrent streams of batches. */
  double t0 = nowMs();
  int nt = a.jobs;
  Job jobs[64];
  pthread_t th[64];
  if (nt > 64) nt = 64;
  if (nt > 1 && nt > (rows + mbatch - 1) / mbatch) nt = (int)((rows + mbatch - 1) / mbatch);
  for (int t = 0; t < nt; ++t) {
    jobs[t] = (Job){&m, in, out, rows, mbatch, t, nt, 0, 0, 0};
    if (nt > 1) pthread_create(&th[t], NULL, runChunks, &jobs[t]);
    else runChunks(&jobs[t]);
  }
  int failed = 0, oom = 0, status = 0;
  for (int t = 0; t < nt; ++t) {
    if (nt > 1) pthread_join(th[t], NULL);
    failed |= jobs[t].failed;
    oom |= jobs[t].oom;
    if (jobs[t].status) status = jobs[t].status;
  }
  double total = nowMs() - t0;
  if (failed) {
    if (oom)
      fprintf(stderr, "qo-run: error: out of memory for the model's batch buffers (batch %lld)\n",
              (long long)mbatch);
    else if (status == QO_MODEL_ERR_CPU)
      fprintf(stderr, "qo-run: error: the model cannot run on this CPU (qo_model_run returned %d)\n", status);
    else
      fprintf(stderr, "qo-run: error: the model failed to run (status %d)\n", status);
    goto done;
  }
  if (!a.quiet)
    printf("rows: %lld  batch: %lld  threads: %d  jobs: %d  total: %.2f ms  (%.4f ms/row)\n",
           (long long)rows, (long long)mbatch, a.threads, nt, total, total / (double)rows);

  if (a.labels) {
    qrt_array_t lab;
    if (qrt_npy_read(a.labels, &lab, msg, sizeof msg) != QRT_OK) {
      fprintf(stderr, "qo-run: error: %s\n", msg);
      goto done;
    }
    const qrt_array_t *o0 = &out[0];
    int64_t nLab = lab.rank ? lab.dims[0] : 0;
    int64_t classes = o0->rank >= 2 ? qrt_array_numel(o0) / o0->dims[0] : 0;
    if (lab.rank != 1 || nLab < rows || lab.dtype == QRT_F32 || classes < 1 ||
        o0->dtype != QRT_F32) {
      fprintf(stderr, "qo-run: error: --labels wants a 1-D integer .npy with >= %lld entries "
                      "and a float first output with a batch dimension\n", (long long)rows);
      qrt_array_free(&lab);
      goto done;
    }
    int64_t correct = 0;
    const float *logits = o0->data;
    for (int64_t r = 0; r < rows; ++r) {
      int64_t best = 0;
      for (int64_t c = 1; c < classes; ++c)
        if (logits[r * classes + c] > logits[r * classes + best]) best = c;
      int64_t want;
      switch (lab.dtype) {
      case QRT_U8: want = ((uint8_t *)lab.data)[r]; break;
      case QRT_I8: want = ((int8_t *)lab.data)[r]; break;
      case QRT_I32: want = ((int32_t *)lab.data)[r]; break;
      default: want = ((int64_t *)lab.data)[r]; break;
      }
      correct += best == want;
    }
    printf("top-1: %.2f%% (%lld/%lld)\n", 100.0 * (double)correct / (double)rows,
           (long long)correct, (long long)rows);
    qrt_array_free(&lab);
  }

  if (a.bench) {
    const void *bi[MAX_IO];
    void *bo[MAX_IO];
    void *scratchIn[MAX_IO] = {0};
    for (int i = 0; i < s->numInputs; ++i) {
      if (rows >= mbatch) {
        bi[i] = in[i].data;
      } else { /* fewer rows than a batch: pad once */
        size_t bytes = (size_t)numel(&s->inputs[i]) * qrt_dtype_size((qrt_dtype_t)s->inputs[i].dtype);
        if (!(scratchIn[i] = calloc(1, bytes ? bytes : 1))) goto benchOom;
        memcpy(scratchIn[i], in[i].data,
               (size_t)qrt_array_numel(&in[i]) * qrt_dtype_size(in[i].dtype));
        bi[i] = scratchIn[i];
      }
    }
    memset(bo, 0, sizeof bo);
    for (int i = 0; i < s->numOutputs; ++i) {
      size_t bytes = (size_t)numel(&s->outputs[i]) * qrt_dtype_size((qrt_dtype_t)s->outputs[i].dtype);
      if (!(bo[i] = malloc(bytes ? bytes : 1))) goto benchOom;
    }
    for (int w = 0; w < a.warmup; ++w) modelRun(&m, bi, bo);
    double *t = malloc(sizeof(double) * (size_t)a.bench);
    if (!t) goto benchOom;
    for (int r = 0; r < a.bench; ++r) {
      double s0 = nowMs();
      modelRun(&m, bi, bo);
      t[r] = nowMs() - s0;
    }
    qsort(t, (size_t)a.bench, sizeof *t, cmpDouble);
    double med = t[a.bench / 2], p10 = t[a.bench / 10], p90 = t[(a.bench * 9) / 10];
    printf("latency (batch %lld, %d thread%s, %d runs): median %.4f ms  p10 %.4f  p90 %.4f  "
           "(%.4f ms/row)\n", (long long)mbatch, a.threads, a.threads == 1 ? "" : "s", a.bench, med,
           p10, p90, med / (double)mbatch);
    free(t);
    for (int i = 0; i < MAX_IO; ++i) free(scratchIn[i]);
    for (int i = 0; i < s->numOutputs; ++i) free(bo[i]);
    if (0) {
    benchOom:
      for (int i = 0; i < MAX_IO; ++i) free(scratchIn[i]);
      for (int i = 0; i < s->numOutputs; ++i) free(bo[i]);
      fprintf(stderr, "qo-run: error: out of memory for the --bench buffers\n");
      goto done;
    }
  }

  /* Outputs. */
  for (int i = 0; i < a.numOutputs; ++i) {
    char nm[128];
    const char *p = splitSpec(a.outputs[i], nm, sizeof nm);
    int slot = nm[0] ? -1 : i;
    for (int k = 0; nm[0] && k < s->numOutputs; ++k)
      if (!strcmp(s->outputs[k].name, nm)) slot = k;
    if (slot < 0 || slot >= s->numOutputs) {
      fprintf(stderr, "qo-run: error: no output %s%s\n", nm[0] ? "named " : "number ", nm[0] ? nm : "");
      goto done;
    }
    if (qrt_npy_save(p, &out[slot], msg, sizeof msg) != QRT_OK) {
      fprintf(stderr, "qo-run: error: %s\n", msg[0] ? msg : "cannot write the output");
      goto done;
    }
  }
  if (a.outputDir) {
    for (int i = 0; i < s->numOutputs; ++i) {
      char path[4096], clean[128];
      size_t k = 0;
      for (const char *c = s->outputs[i].name; *c && k + 1 < sizeof clean; ++c)
        clean[k++] = (*c == '/' || *c == ' ') ? '_' : *c;
      clean[k] = 0;
      snprintf(path, sizeof path, "%s/%s.npy", a.outputDir, clean[0] ? clean : "output");
      if (qrt_npy_save(path, &out[i], msg, sizeof msg) != QRT_OK) {
        fprintf(stderr, "qo-run: error: %s\n", msg[0] ? msg : "cannot write the output");
        goto done;
      }
    }
  }
  if (!a.quiet && !a.labels && !a.bench) {
    for (int i = 0; i < s->numOutputs; ++i) {
      char sh[64];
      shapeStr(out[i].dims, out[i].rank, sh, sizeof sh);
      printf("output '%s': %s %s", s->outputs[i].name, qrt_dtype_name(out[i].dtype), sh);
      int64_t n = qrt_array_numel(&out[i]);
      printf(" [");
      for (int64_t k = 0; k < n && k < 8; ++k) {
        double v;
        switch (out[i].dtype) {
        case QRT_F32: v = ((const float *)out[i].data)[k]; break;
        case QRT_I8: v = ((const int8_t *)out[i].data)[k]; break;
        case QRT_U8: v = ((const uint8_t *)out[i].data)[k]; break;
        case QRT_I32: v = ((const int32_t *)out[i].data)[k]; break;
        default: v = (double)((const int64_t *)out[i].data)[k]; break;
        }
        printf("%s%.6g", k ? ", " : "", v);
      }
      printf("%s]", n > 8 ? ", ..." : "");
      printf("\n");
    }
  }
  rc = 0;
done:
  for (int i = 0; i < MAX_IO; ++i) qrt_array_free(&in[i]), qrt_array_free(&out[i]);
  stopKernelThreads();
  qoJitDestroy(m.jit);
  if (!mlirContextIsNull(m.ctx)) qoContextDestroy(m.ctx);
  /* dlclose is skipped on purpose: a model may still have TLS/atexit state. */
  return rc;
}
