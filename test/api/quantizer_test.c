/* The embedding API (quant-opt/quantizer.h) and the library's thread safety.
 *
 *   qo-api-test SOURCE_DIR TMP_DIR [--threads-only]
 *
 * One function per feature, each printing what it checked:
 *  - streaming: calibration fed in uneven chunks gives the same table, bit
 *    for bit, as one call with every row;
 *  - tables in memory: a table set on a second quantizer gives the same int8
 *    model as the first; a loaded table the same as a saved one;
 *  - ONNX bytes in memory give the same model as the file;
 *  - errors: the status and the located message of bad bytes, data of the
 *    wrong shape, calls out of order, bad options;
 *  - JIT and shared-library emission of the quantized model agree;
 *  - qoParseSource on a buffer without a NUL terminator (ASan checks it);
 *  - threads: four models (the Fashion-MNIST CNN at three batch sizes and
 *    schemes, and a small TOSA model) quantized by four threads at once,
 *    each with its own quantizer and hence context, give exactly the tables,
 *    int8 IR and JIT outputs they give one at a time. Run under
 *    ThreadSanitizer by scripts/tsan.sh.
 * Ends with "N passed, M failed". */
#include "quant-opt/model_abi.h"
#include "quant-opt/quantizer.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;
static const char *gExamples, *gTmp;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (cond) {                                                                \
      ++passed;                                                                \
    } else {                                                                   \
      ++failed;                                                                \
      fprintf(stdout, "FAIL %s:%d: ", __FILE__, __LINE__);                     \
      fprintf(stdout, __VA_ARGS__);                                            \
      fprintf(stdout, "\n");                                                   \
    }                                                                          \
  } while (0)

/* Deterministic calibration rows in [0, 1): `rows` of the model's first
 * input (default: 1 x 28 x 28 images). */
static qrt_array_t makeRowsLike(int64_t rows, unsigned seed, const qoSignature *sig) {
  qrt_array_t a;
  int64_t dims[8] = {rows, 1, 28, 28};
  int rank = 4;
  if (sig) {
    rank = sig->inputs[0].rank;
    for (int d = 1; d < rank; ++d) dims[d] = sig->inputs[0].dims[d];
  }
  qrt_array_alloc(&a, QRT_F32, rank, dims);
  float *f = a.data;
  for (int64_t i = 0; i < qrt_array_numel(&a); ++i)
    f[i] = (float)((seed = seed * 1103515245u + 12345u) >> 8 & 0xffff) / 65536.0f;
  return a;
}

static qrt_array_t makeRows(int64_t rows, unsigned seed) { return makeRowsLike(rows, seed, NULL); }

static qrt_array_t rowsOf(const qrt_array_t *a, int64_t first, int64_t n) {
  qrt_array_t s = *a;
  s.dims[0] = n;
  s.data = (char *)a->data + (size_t)first * 28 * 28 * sizeof(float);
  return s;
}

static char *readFile(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  if (b) b[n] = 0, *len = (size_t)n;
  return b;
}

static void append(MlirStringRef s, void *ud) {
  char **t = ud;
  size_t old = *t ? strlen(*t) : 0;
  char *n = realloc(*t, old + s.length + 1);
  if (!n) return;
  memcpy(n + old, s.data, s.length);
  n[old + s.length] = 0;
  *t = n;
}

static char *moduleText(qoQuantizer *q) {
  char *t = NULL;
  mlirOperationPrint(mlirModuleGetOperation(qoQuantizerGetModule(q)), append, &t);
  return t;
}

/* The table as the bytes of its JSON file. */
static char *tableText(qoQuantizer *q, const char *tag) {
  char path[512];
  snprintf(path, sizeof path, "%s/table-%s.json", gTmp, tag);
  if (qoQuantizerSaveTable(q, path) != QO_STATUS_OK) return NULL;
  size_t n;
  return readFile(path, &n);
}

static char *example(const char *name) {
  static char buf[4][512];
  static int k;
  char *b = buf[k++ % 4];
  if (strchr(name, '/')) snprintf(b, 512, "%s/%s", gExamples, name);
  else snprintf(b, 512, "%s/examples/%s/model.onnx", gExamples, name);
  return b;
}

static qoQuantizer *create(const char *model, int batch, const char *qdqOptions) {
  qoQuantizerOptions o;
  qoQuantizerOptionsInit(&o);
  o.batch = batch;
  o.qdqOptions = qdqOptions;
  qoQuantizer *q = NULL;
  qoStatus st = qoQuantizerCreateFromFile(model, &o, &q);
  CHECK(st == QO_STATUS_OK, "create %s: %s: %s", model, qoStatusGetName(st), qoQuantizerGetError(q));
  return q;
}

static void testStreaming(void) {
  qrt_array_t rows = makeRows(32, 7);
  qoQuantizer *a = create(example("fashion-mnist"), 8, NULL), *b = create(example("fashion-mnist"), 8, NULL);
  CHECK(qoQuantizerGetNumPoints(a) == 7, "fashion-mnist has %zu points, want 7", qoQuantizerGetNumPoints(a));
  qrt_array_t all = rowsOf(&rows, 0, 32);
  CHECK(qoQuantizerFeed(a, &all, 1) == QO_STATUS_OK, "feed all: %s", qoQuantizerGetError(a));
  int64_t chunks[] = {5, 13, 1, 13};
  int64_t at = 0;
  for (int i = 0; i < 4; ++i) {
    qrt_array_t c = rowsOf(&rows, at, chunks[i]);
    CHECK(qoQuantizerFeed(b, &c, 1) == QO_STATUS_OK, "feed chunk: %s", qoQuantizerGetError(b));
    at += chunks[i];
  }
  char *ta = tableText(a, "all"), *tb = tableText(b, "chunks");
  CHECK(ta && tb && !strcmp(ta, tb), "chunked calibration differs from one call");
  printf("streaming: 32 rows in one call and in chunks of 5, 13, 1, 13 give the same table (%zu bytes)\n",
         ta ? strlen(ta) : 0);
  /* The table in memory, set on another quantizer, gives the same model. */
  const qrt_calib_table_t *t = NULL;
  CHECK(qoQuantizerGetTable(a, &t) == QO_STATUS_OK && t, "get table");
  qoQuantizer *c = create(example("fashion-mnist"), 8, NULL);
  CHECK(qoQuantizerSetTable(c, t) == QO_STATUS_OK, "set table: %s", qoQuantizerGetError(c));
  CHECK(qoQuantizerQuantize(a) == QO_STATUS_OK, "quantize a: %s", qoQuantizerGetError(a));
  CHECK(qoQuantizerQuantize(c) == QO_STATUS_OK, "quantize c: %s", qoQuantizerGetError(c));
  char *ma = moduleText(a), *mc = moduleText(c);
  CHECK(ma && mc && !strcmp(ma, mc) && strstr(ma, "tosa.rescale"), "int8 models differ (or are not int8)");
  printf("table in memory: SetTable on a second quantizer gives the same int8 model (%zu bytes of IR)\n",
         ma ? strlen(ma) : 0);
  /* Saved and loaded: the same again. */
  char path[512];
  snprintf(path, sizeof path, "%s/table-all.json", gTmp);
  qoQuantizer *d = create(example("fashion-mnist"), 8, NULL);
  CHECK(qoQuantizerLoadTable(d, path) == QO_STATUS_OK && qoQuantizerQuantize(d) == QO_STATUS_OK, "load+quantize");
  char *md = moduleText(d);
  CHECK(md && ma && !strcmp(ma, md), "loaded table gives another model");
  free(ta), free(tb), free(ma), free(mc), free(md);
  qoQuantizerDestroy(a), qoQuantizerDestroy(b), qoQuantizerDestroy(c), qoQuantizerDestroy(d);
  qrt_array_free(&rows);
}

static void testBytes(void) {
  size_t n;
  char *bytes = readFile(example("resnet-fmnist"), &n);
  CHECK(bytes != NULL, "read the example");
  qoQuantizerOptions o;
  qoQuantizerOptionsInit(&o);
  o.batch = 4;
  qoQuantizer *fromBytes = NULL;
  qoStatus st = qoQuantizerCreateFromOnnx(bytes, n, "resnet.onnx", &o, &fromBytes);
  CHECK(st == QO_STATUS_OK, "create from bytes: %s", qoQuantizerGetError(fromBytes));
  qoQuantizer *fromFile = create(example("resnet-fmnist"), 4, NULL);
  char *a = moduleText(fromBytes), *b = moduleText(fromFile);
  CHECK(a && b && !strcmp(a, b), "bytes and file give different modules");
  printf("ONNX bytes in memory: the same prepared module as the file (%zu points)\n",
         qoQuantizerGetNumPoints(fromBytes));
  free(a), free(b), free(bytes);
  qoQuantizerDestroy(fromBytes), qoQuantizerDestroy(fromFile);
}

static void testErrors(void) {
  qoQuantizer *q = NULL;
  qoStatus st = qoQuantizerCreateFromOnnx("not a model\377\377", 13, "junk.onnx", NULL, &q);
  CHECK(st == QO_STATUS_INVALID_MODEL && strstr(qoQuantizerGetError(q), "junk.onnx: error: "),
        "junk bytes: %s '%s'", qoStatusGetName(st), qoQuantizerGetError(q));
  printf("errors: junk ONNX bytes -> %s: %s", qoStatusGetName(st), qoQuantizerGetError(q));
  qoQuantizerDestroy(q);

  st = qoQuantizerCreateFromFile("/no/such/model.mlir", NULL, &q);
  CHECK(st == QO_STATUS_INVALID_MODEL && strstr(qoQuantizerGetError(q), "cannot open input file"),
        "missing file: %s", qoQuantizerGetError(q));
  qoQuantizerDestroy(q);

  qoQuantizerOptions o;
  qoQuantizerOptionsInit(&o);
  o.kernelOptions = "isa=sse9";
  st = qoQuantizerCreateFromFile(example("fashion-mnist"), &o, &q);
  CHECK(st == QO_STATUS_INVALID_ARGUMENT && strstr(qoQuantizerGetError(q), "sse9"), "bad kernels: %s",
        qoQuantizerGetError(q));
  printf("errors: kernel options isa=sse9 -> %s: %s", qoStatusGetName(st), qoQuantizerGetError(q));
  qoQuantizerDestroy(q);

  q = create(example("fashion-mnist"), 8, NULL);
  st = qoQuantizerQuantize(q);
  CHECK(st == QO_STATUS_FAILED_PRECONDITION && strstr(qoQuantizerGetError(q), "no calibration table"),
        "quantize first: %s", qoQuantizerGetError(q));
  printf("errors: Quantize before any table -> %s: %s", qoStatusGetName(st), qoQuantizerGetError(q));
  qrt_array_t wrong;
  int64_t dims[4] = {3, 1, 28, 27};
  qrt_array_alloc(&wrong, QRT_F32, 4, dims);
  st = qoQuantizerFeed(q, &wrong, 1);
  CHECK(st == QO_STATUS_INVALID_DATA && strstr(qoQuantizerGetError(q), "does not match the model's input"),
        "wrong rows: %s", qoQuantizerGetError(q));
  printf("errors: rows of shape 3x1x28x27 -> %s: %s", qoStatusGetName(st), qoQuantizerGetError(q));
  qrt_array_free(&wrong);
  qrt_array_t rows = makeRows(8, 3);
  st = qoQuantizerFeed(q, &rows, 1);
  CHECK(st == QO_STATUS_OK && !*qoQuantizerGetError(q), "a good call clears the error: '%s'", qoQuantizerGetError(q));
  qrt_array_free(&rows);
  qoQuantizerDestroy(q);
  qoQuantizerDestroy(NULL);

  o.kernelOptions = NULL;
  o.qdqOptions = "activation-scheme=sideways";
  st = qoQuantizerCreateFromFile(example("fashion-mnist"), &o, &q);
  CHECK(st == QO_STATUS_INVALID_ARGUMENT && strstr(qoQuantizerGetError(q), "sideways"), "bad scheme: %s",
        qoQuantizerGetError(q));
  qoQuantizerDestroy(q);
}

/* JIT and the shared library compute the same int8 logits. */
static void testJitAndLibrary(void) {
  qoQuantizer *q = create(example("fashion-mnist"), 8, NULL);
  qrt_array_t rows = makeRows(16, 11);
  CHECK(qoQuantizerFeed(q, &rows, 1) == QO_STATUS_OK && qoQuantizerQuantize(q) == QO_STATUS_OK, "quantize: %s",
        qoQuantizerGetError(q));
  qoJit *jit = NULL;
  CHECK(qoQuantizerJit(q, &jit) == QO_STATUS_OK, "jit: %s", qoQuantizerGetError(q));
  char so[512], hdr[512];
  snprintf(so, sizeof so, "%s/fm8.so", gTmp);
  snprintf(hdr, sizeof hdr, "%s/fm8.h", gTmp);
  CHECK(qoQuantizerEmit(q, QO_EMIT_SHARED, so, hdr) == QO_STATUS_OK, "emit: %s", qoQuantizerGetError(q));
  float a[8 * 10], b[8 * 10];
  const void *in[1] = {rows.data};
  void *oa[1] = {a}, *ob[1] = {b};
  CHECK(jit && qoJitRun(jit, in, oa) == 0, "jit run");
  void *dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  qo_model_run_fn run = dl ? (qo_model_run_fn)(uintptr_t)dlsym(dl, "qo_model_run") : NULL;
  CHECK(run && run(in, ob) == 0, "library run: %s", dl ? "no qo_model_run" : dlerror());
  CHECK(!memcmp(a, b, sizeof a), "JIT and library differ");
  printf("JIT and shared library: the same int8 logits for 8 rows (first %g)\n", a[0]);
  qoJitDestroy(jit);
  qoQuantizerDestroy(q);
  qrt_array_free(&rows);
}

/* The parser must read exactly `length` bytes. */
static void testParseLength(void) {
  const char src[] = "func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> { return %x : tensor<2xf32> }";
  size_t n = sizeof src - 1;
  char *exact = malloc(n); /* no terminator: ASan reports any read past it */
  memcpy(exact, src, n);
  MlirContext ctx = qoContextCreate();
  MlirModule m = qoParseSource(ctx, exact, n, "exact.mlir");
  CHECK(!mlirModuleIsNull(m), "parse of an unterminated buffer failed");
  printf("qoParseSource: a %zu-byte buffer without a terminator parses\n", n);
  if (!mlirModuleIsNull(m)) mlirModuleDestroy(m);
  qoContextDestroy(ctx);
  free(exact);
}

/*===--- Threads -----------------------------------------------------------===*/

typedef struct Job {
  const char *model, *qdqOptions, *tag;
  int batch;
  unsigned seed;
  char *table, *ir;
  float out[64 * 10];
  int ok;
} Job;

static void *quantizeJob(void *arg) {
  Job *j = arg;
  qoQuantizerOptions o;
  qoQuantizerOptionsInit(&o);
  o.batch = j->batch;
  o.qdqOptions = j->qdqOptions;
  qoQuantizer *q = NULL;
  qrt_array_t rows = {0};
  qoJit *jit = NULL;
  j->ok = qoQuantizerCreateFromFile(j->model, &o, &q) == QO_STATUS_OK;
  if (j->ok) rows = makeRowsLike(24, j->seed, qoQuantizerGetSignature(q));
  j->ok = j->ok && qoQuantizerFeed(q, &rows, 1) == QO_STATUS_OK;
  if (j->ok) j->ok = (j->table = tableText(q, j->tag)) != NULL;
  j->ok = j->ok && qoQuantizerQuantize(q) == QO_STATUS_OK && (j->ir = moduleText(q)) != NULL &&
          qoQuantizerJit(q, &jit) == QO_STATUS_OK;
  const void *in[1] = {rows.data};
  void *out[1] = {j->out};
  j->ok = j->ok && qoJitRun(jit, in, out) == 0;
  if (!j->ok) printf("job %s failed: %s", j->tag, q ? qoQuantizerGetError(q) : "?");
  qoJitDestroy(jit);
  qoQuantizerDestroy(q);
  qrt_array_free(&rows);
  return NULL;
}

static void testThreads(void) {
  Job seq[4] = {{example("fashion-mnist"), NULL, "s0", 8, 1, 0, 0, {0}, 0},
                {example("fashion-mnist"), "weight-granularity=per-tensor", "s1", 4, 2, 0, 0, {0}, 0},
                {example("test/lit/Inputs/qdq-small.mlir"), NULL, "s2", 1, 3, 0, 0, {0}, 0},
                {example("fashion-mnist"), "activation-scheme=symmetric activation-dtype=int8", "s3", 2, 4, 0, 0, {0}, 0}};
  Job par[4];
  for (int i = 0; i < 4; ++i) {
    quantizeJob(&seq[i]);
    par[i] = seq[i];
    par[i].table = par[i].ir = NULL;
    par[i].tag = (const char *[]){"p0", "p1", "p2", "p3"}[i];
    memset(par[i].out, 0, sizeof par[i].out);
  }
  pthread_t th[4];
  for (int i = 0; i < 4; ++i) pthread_create(&th[i], NULL, quantizeJob, &par[i]);
  for (int i = 0; i < 4; ++i) pthread_join(th[i], NULL);
  int same = 0;
  for (int i = 0; i < 4; ++i) {
    int ok = seq[i].ok && par[i].ok && !strcmp(seq[i].table, par[i].table) && !strcmp(seq[i].ir, par[i].ir) &&
             !memcmp(seq[i].out, par[i].out, sizeof seq[i].out);
    CHECK(ok, "thread %d (%s) differs from its sequential run", i, seq[i].model);
    same += ok;
    free(seq[i].table), free(seq[i].ir), free(par[i].table), free(par[i].ir);
  }
  printf("threads: 4 models calibrated, quantized and JIT-run by 4 threads at once: %d of 4 identical to one at a "
         "time (tables, int8 IR, outputs)\n",
         same);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: qo-api-test SOURCE_DIR TMP_DIR [--threads-only]\n");
    return 2;
  }
  gExamples = argv[1];
  gTmp = argv[2];
  if (argc < 4 || strcmp(argv[3], "--threads-only")) {
    testStreaming();
    testBytes();
    testErrors();
    testJitAndLibrary();
    testParseLength();
  }
  testThreads();
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
