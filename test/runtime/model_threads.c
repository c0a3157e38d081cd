/* Reentrancy and per-thread memory of a compiled model (--emit=shared).
 *
 *   qo-model-threads MODEL.so [THREADS] [RUNS] [SHORT_LIVED]
 *
 * 1. Runs the model once on deterministic inputs: the reference outputs.
 * 2. THREADS threads (default 8) each run it RUNS times (default 20) at once
 *    on their own buffers; every output must equal the reference bit for bit.
 * 3. SHORT_LIVED threads (default 600), one after another, each run it once
 *    and exit; the resident memory after the last must not have grown by more
 *    than a bound over what it was after the first 100 (each thread's block
 *    cache is freed when it exits; before, each one leaked its cache).
 * Prints what it checked and "N passed, M failed". */
#include "quant-opt/model_abi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const qo_model_desc_t *desc;
static qo_model_run_fn run;
static void *inputs[16];
static void *refs[16];
static size_t outBytes[16];

static size_t dtypeSize(int t) { return t == QO_DTYPE_F32 || t == QO_DTYPE_I32 ? 4 : t == QO_DTYPE_I64 ? 8 : 1; }

static size_t tensorBytes(const qo_tensor_desc_t *t) {
  size_t n = dtypeSize(t->dtype);
  for (int d = 0; d < t->rank; ++d) n *= (size_t)t->dims[d];
  return n;
}

/* Runs the model into fresh buffers and compares them with the reference
 * (or, with ref == 0, makes them the reference). Returns 0 if equal. */
static int runOnce(int makeRef) {
  void *outs[16] = {0};
  int bad = 0;
  for (int i = 0; i < desc->num_outputs; ++i)
    if (!(outs[i] = malloc(outBytes[i] ? outBytes[i] : 1))) bad = 1;
  if (!bad && run((const void *const *)inputs, outs) != QO_MODEL_OK) bad = 1;
  for (int i = 0; i < desc->num_outputs && !bad; ++i) {
    if (makeRef) refs[i] = outs[i], outs[i] = NULL;
    else if (memcmp(outs[i], refs[i], outBytes[i]) != 0) bad = 1;
  }
  for (int i = 0; i < desc->num_outputs; ++i) free(outs[i]);
  return bad;
}

typedef struct {
  int runs, mismatches;
} Worker;

static void *worker(void *arg) {
  Worker *w = arg;
  for (int r = 0; r < w->runs; ++r) w->mismatches += runOnce(0);
  return NULL;
}

static long residentKB(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, rss = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    fclose(f);
  }
  return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: qo-model-threads MODEL.so [THREADS] [RUNS] [SHORT_LIVED]\n");
    return 2;
  }
  int nThreads = argc > 2 ? atoi(argv[2]) : 8, runs = argc > 3 ? atoi(argv[3]) : 20;
  int shortLived = argc > 4 ? atoi(argv[4]) : 600;
  if (nThreads < 1 || nThreads > 64 || runs < 1 || shortLived < 0) return 2;
  void *dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
    return 2;
  }
  qo_model_describe_fn describe = (qo_model_describe_fn)(uintptr_t)dlsym(dl, "qo_model_describe");
  run = (qo_model_run_fn)(uintptr_t)dlsym(dl, "qo_model_run");
  if (!describe || !run || !(desc = describe()) || desc->num_inputs > 16 || desc->num_outputs > 16) {
    fprintf(stderr, "%s is not a quant-opt model\n", argv[1]);
    return 2;
  }
  unsigned seed = 12345;
  for (int i = 0; i < desc->num_inputs; ++i) {
    size_t n = tensorBytes(&desc->inputs[i]);
    unsigned char *p = malloc(n ? n : 1);
    if (!p) return 2;
    if (desc->inputs[i].dtype == QO_DTYPE_F32) {
      float *f = (float *)p;
      for (size_t k = 0; k < n / 4; ++k) f[k] = (float)((seed = seed * 1103515245u + 12345u) >> 16 & 0x7fff) / 32768.0f;
    } else {
      for (size_t k = 0; k < n; ++k) p[k] = (unsigned char)((seed = seed * 1103515245u + 12345u) >> 16);
    }
    inputs[i] = p;
  }
  for (int i = 0; i < desc->num_outputs; ++i) outBytes[i] = tensorBytes(&desc->outputs[i]);
  int failed = 0, passed = 0;
  if (runOnce(1)) {
    fprintf(stderr, "the reference run failed\n");
    return 1;
  }

  /* 2. Concurrent calls. */
  pthread_t th[64];
  Worker w[64];
  for (int t = 0; t < nThreads; ++t) {
    w[t] = (Worker){runs, 0};
    pthread_create(&th[t], NULL, worker, &w[t]);
  }
  int mismatches = 0;
  for (int t = 0; t < nThreads; ++t) {
    pthread_join(th[t], NULL);
    mismatches += w[t].mismatches;
  }
  printf("%d threads x %d runs at once: %d of %d results differ from the single-threaded run\n", nThreads, runs,
         mismatches, nThreads * runs);
  mismatches ? ++failed : ++passed;

  /* 3. Short-lived threads. */
  if (shortLived > 0) {
    long at100 = 0;
    int bad = 0;
    for (int t = 0; t < shortLived; ++t) {
      Worker one = {1, 0};
      pthread_t h;
      pthread_create(&h, NULL, worker, &one);
      pthread_join(h, NULL);
      bad += one.mismatches;
      if (t == 99 || (shortLived < 100 && t == 0)) at100 = residentKB();
    }
    long growth = residentKB() - at100;
    long limitKB = 8 * 1024;
    printf("%d short-lived threads: results %s; resident memory grew by %ld KB after the first 100 (limit %ld KB)\n",
           shortLived, bad ? "DIFFER" : "identical", growth, limitKB);
    (bad || growth > limitKB) ? ++failed : ++passed;
  }
  for (int i = 0; i < 16; ++i) free(inputs[i]), free(refs[i]);
  /* Stop libomp's idle workers before exit, as qo-run does: LeakSanitizer
   * cannot scan threads it did not see start. */
  void *omp = dlopen("libomp.so.5", RTLD_NOW | RTLD_NOLOAD);
  int (*pause)(int) = omp ? (int (*)(int))(uintptr_t)dlsym(omp, "omp_pause_resource_all") : NULL;
  if (pause) pause(2 /* omp_pause_hard */);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
