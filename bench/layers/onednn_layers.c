/* onednn_layers: oneDNN's timings for the layer benchmark (bench/layers/layers.sh), the
 * peer quant-opt's int8 code generation is measured against. A comparison peer only:
 * nothing of quant-opt links oneDNN.
 *
 * Per case, two variants through oneDNN's C API (v2.x, Debian's 2.6.3):
 *   int8  u8 src x s8 weights -> u8 dst, f32 bias, per-output-channel output scales
 *   fp32  f32 everywhere, f32 bias
 * Convolutions use format_any for src, weights and dst (oneDNN picks its best layout,
 * NHWC for int8); matmul uses plain row-major src/dst and format_any weights. Data is
 * written once in a plain layout and reordered into the chosen one outside the timing,
 * so only the compute primitive (plus its call overhead) is timed.
 *
 * Timing: warm-up, then REPS blocks of ~MS ms each; per case the median (and best) of the
 * per-iteration block times. The ISA is capped by oneDNN itself through the environment
 * (ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI); the effective ISA is printed.
 *
 *   onednn_layers [--threads N] [--reps R] [--ms MS] [--case NAME] [--types int8,fp32]
 *                 [--check] [--info] [--verbose]
 * Output: one line per case and type:
 *   <case> <type> median_ms=<x> best_ms=<x> gops=<GOP/s at the median> impl=<name>
 * --check compares both variants with a naive reference on small shapes and exits;
 * --info prints only the version / effective-ISA line. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <oneapi/dnnl/dnnl.h>

#define CHECK(call)                                                                 \
  do {                                                                              \
    dnnl_status_t s_ = (call);                                                      \
    if (s_ != dnnl_success) {                                                       \
      fprintf(stderr, "onednn_layers: %s failed (status %d) at line %d\n", #call,   \
              (int)s_, __LINE__);                                                   \
      exit(1);                                                                      \
    }                                                                               \
  } while (0)

struct shape {
  const char *name;
  int is_matmul;
  long n, h, w, ic, oc, k; /* conv: NHWC in, OC x K x K x IC weights, pad K/2, stride 1 */
  long m, kk, nn;          /* matmul: M x K times K x N */
};

static const struct shape CASES[] = {
    {"conv3x3_56x56x64-64_b1", 0, 1, 56, 56, 64, 64, 3, 0, 0, 0},
    {"conv3x3_56x56x64-64_b64", 0, 64, 56, 56, 64, 64, 3, 0, 0, 0},
    {"conv1x1_56x56x64-256_b1", 0, 1, 56, 56, 64, 256, 1, 0, 0, 0},
    {"conv3x3_14x14x256-256_b1", 0, 1, 14, 14, 256, 256, 3, 0, 0, 0},
    {"conv3x3_28x28x32-64_b64", 0, 64, 28, 28, 32, 64, 3, 0, 0, 0},
    {"matmul_1024x1024x1024", 1, 0, 0, 0, 0, 0, 0, 1024, 1024, 1024},
    {"matmul_128x768x3072", 1, 0, 0, 0, 0, 0, 0, 128, 768, 3072},
};

static double gop(const struct shape *s) {
  if (s->is_matmul) return 2.0 * s->m * s->kk * s->nn * 1e-9;
  return 2.0 * s->n * s->h * s->w * s->oc * s->ic * s->k * s->k * 1e-9;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) { /* xorshift64* */
  g_rng ^= g_rng >> 12;
  g_rng ^= g_rng << 25;
  g_rng ^= g_rng >> 27;
  return (uint32_t)((g_rng * 0x2545f4914f6cdd1dull) >> 32);
}

static dnnl_engine_t g_engine;
static dnnl_stream_t g_stream;

/* A oneDNN memory in layout `md`, filled from `plain` (layout `plain_md`) by a reorder. */
static dnnl_memory_t make_memory(const dnnl_memory_desc_t *md, const dnnl_memory_desc_t *plain_md,
                                 void *plain) {
  dnnl_memory_t mem, src;
  CHECK(dnnl_memory_create(&mem, md, g_engine, DNNL_MEMORY_ALLOCATE));
  if (!plain) return mem;
  CHECK(dnnl_memory_create(&src, plain_md, g_engine, plain));
  dnnl_primitive_desc_t rpd;
  dnnl_primitive_t r;
  CHECK(dnnl_reorder_primitive_desc_create(&rpd, plain_md, g_engine, md, g_engine, NULL));
  CHECK(dnnl_primitive_create(&r, rpd));
  dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, mem}};
  CHECK(dnnl_primitive_execute(r, g_stream, 2, args));
  CHECK(dnnl_stream_wait(g_stream));
  dnnl_primitive_destroy(r);
  dnnl_primitive_desc_destroy(rpd);
  dnnl_memory_destroy(src);
  return mem;
}

/* Copies `mem` (any layout) into a plain buffer of layout `plain_md`. */
static void read_memory(dnnl_memory_t mem, const dnnl_memory_desc_t *plain_md, void *plain) {
  const dnnl_memory_desc_t *md;
  dnnl_memory_t dst;
  CHECK(dnnl_memory_get_memory_desc(mem, &md));
  CHECK(dnnl_memory_create(&dst, plain_md, g_engine, plain));
  dnnl_primitive_desc_t rpd;
  dnnl_primitive_t r;
  CHECK(dnnl_reorder_primitive_desc_create(&rpd, md, g_engine, plain_md, g_engine, NULL));
  CHECK(dnnl_primitive_create(&r, rpd));
  dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, mem}, {DNNL_ARG_TO, dst}};
  CHECK(dnnl_primitive_execute(r, g_stream, 2, args));
  CHECK(dnnl_stream_wait(g_stream));
  dnnl_primitive_destroy(r);
  dnnl_primitive_desc_destroy(rpd);
  dnnl_memory_destroy(dst);
}

/* One built case: the primitive, its arguments, and the plain host copies of the data. */
struct built {
  dnnl_primitive_t prim;
  dnnl_exec_arg_t args[5];
  int nargs;
  dnnl_memory_t mems[5];
  char impl[128];
  /* plain data: src (NHWC / MxK), weights (OHWI / KxN), bias, scales, dst (NHWC / MxN) */
  void *src, *wei, *dst;
  float *bias, *scales;
  dnnl_memory_desc_t dst_plain;
};

static void build(const struct shape *s, int int8, struct built *b) {
  memset(b, 0, sizeof *b);
  dnnl_data_type_t st = int8 ? dnnl_u8 : dnnl_f32, wt = int8 ? dnnl_s8 : dnnl_f32;
  dnnl_data_type_t dt = int8 ? dnnl_u8 : dnnl_f32;
  size_t es = int8 ? 1 : 4;
  dnnl_memory_desc_t src_any, wei_any, bias_md, dst_any, src_plain, wei_plain, dst_plain;
  long ns, nw, nd, noc, red;
  dnnl_op_desc_t op;
  dnnl_convolution_desc_t cd;
  dnnl_matmul_desc_t md;
  if (!s->is_matmul) {
    dnnl_dims_t sd = {s->n, s->ic, s->h, s->w}, wd = {s->oc, s->ic, s->k, s->k};
    dnnl_dims_t dd = {s->n, s->oc, s->h, s->w}, bd = {s->oc};
    dnnl_dims_t strides = {1, 1}, pad = {s->k / 2, s->k / 2};
    CHECK(dnnl_memory_desc_init_by_tag(&src_any, 4, sd, st, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&wei_any, 4, wd, wt, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&dst_any, 4, dd, dt, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&bias_md, 1, bd, dnnl_f32, dnnl_a));
    CHECK(dnnl_memory_desc_init_by_tag(&src_plain, 4, sd, st, dnnl_nhwc));
    CHECK(dnnl_memory_desc_init_by_tag(&wei_plain, 4, wd, wt, dnnl_ohwi));
    CHECK(dnnl_memory_desc_init_by_tag(&dst_plain, 4, dd, dt, dnnl_nhwc));
    CHECK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
                                             &src_any, &wei_any, &bias_md, &dst_any, strides, pad,
                                             pad));
    op = &cd;
    ns = s->n * s->h * s->w * s->ic;
    nw = s->oc * s->k * s->k * s->ic;
    nd = s->n * s->h * s->w * s->oc;
    noc = s->oc;
    red = s->k * s->k * s->ic;
  } else {
    dnnl_dims_t sd = {s->m, s->kk}, wd = {s->kk, s->nn}, dd = {s->m, s->nn}, bd = {1, s->nn};
    CHECK(dnnl_memory_desc_init_by_tag(&src_any, 2, sd, st, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&wei_any, 2, wd, wt, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&dst_any, 2, dd, dt, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&bias_md, 2, bd, dnnl_f32, dnnl_ab));
    src_plain = src_any;
    CHECK(dnnl_memory_desc_init_by_tag(&wei_plain, 2, wd, wt, dnnl_ab));
    dst_plain = dst_any;
    CHECK(dnnl_matmul_desc_init(&md, &src_any, &wei_any, &bias_md, &dst_any));
    op = &md;
    ns = s->m * s->kk;
    nw = s->kk * s->nn;
    nd = s->m * s->nn;
    noc = s->nn;
    red = s->kk;
  }
  /* Data: u8 activations 0..255 (f32: [0, 1)), s8 weights -63..63 (f32: ~N(0, 2/K)-ish). */
  b->src = malloc((size_t)ns * es);
  b->wei = malloc((size_t)nw * es);
  b->dst = malloc((size_t)nd * es);
  b->bias = malloc((size_t)noc * sizeof(float));
  b->scales = malloc((size_t)noc * sizeof(float));
  for (long i = 0; i < ns; i++) {
    if (int8) ((uint8_t *)b->src)[i] = (uint8_t)(rnd() & 255);
    else ((float *)b->src)[i] = (float)(rnd() >> 8) / 16777216.0f;
  }
  float wsc = sqrtf(6.0f / (float)red);
  for (long i = 0; i < nw; i++) {
    if (int8) ((int8_t *)b->wei)[i] = (int8_t)((int)(rnd() % 127) - 63);
    else ((float *)b->wei)[i] = wsc * ((float)(rnd() >> 8) / 16777216.0f - 0.5f);
  }
  for (long i = 0; i < noc; i++) {
    /* u8 dst: the accumulator has sigma ~ 147 * 36.7 * sqrt(K); scale maps +-3 sigma onto
     * 0..255 and the bias (in accumulator units: oneDNN adds it before scaling) centres it. */
    float sigma = 147.0f * 36.7f * sqrtf((float)red);
    b->scales[i] = 128.0f / (3.0f * sigma) * (1.0f + 0.01f * (float)(i % 7));
    b->bias[i] = int8 ? 128.0f / b->scales[i] + (float)((int)(rnd() % 2001) - 1000)
                      : (float)(rnd() % 200) / 1000.0f - 0.1f;
  }
  dnnl_primitive_attr_t attr;
  CHECK(dnnl_primitive_attr_create(&attr));
  if (int8) CHECK(dnnl_primitive_attr_set_output_scales(attr, noc, 1 << 1, b->scales));
  dnnl_primitive_desc_t pd;
  CHECK(dnnl_primitive_desc_create(&pd, op, attr, g_engine, NULL));
  dnnl_primitive_attr_destroy(attr);
  const char *impl = NULL;
  CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
  snprintf(b->impl, sizeof b->impl, "%s", impl ? impl : "?");
  CHECK(dnnl_primitive_create(&b->prim, pd));

  const dnnl_memory_desc_t *src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  const dnnl_memory_desc_t *wei_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  const dnnl_memory_desc_t *dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
  const dnnl_memory_desc_t *scr_md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  dnnl_dims_t bd1 = {noc};
  dnnl_memory_desc_t bias_plain;
  CHECK(dnnl_memory_desc_init_by_tag(&bias_plain, bias_md.ndims, s->is_matmul ? bias_md.dims : bd1,
                                     dnnl_f32, s->is_matmul ? dnnl_ab : dnnl_a));
  b->mems[0] = make_memory(src_md, &src_plain, b->src);
  b->mems[1] = make_memory(wei_md, &wei_plain, b->wei);
  b->mems[2] = make_memory(&bias_md, &bias_plain, b->bias);
  b->mems[3] = make_memory(dst_md, NULL, NULL);
  int na = 0;
  b->args[na++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, b->mems[0]};
  b->args[na++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, b->mems[1]};
  b->args[na++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, b->mems[2]};
  b->args[na++] = (dnnl_exec_arg_t){DNNL_ARG_DST, b->mems[3]};
  if (scr_md && dnnl_memory_desc_get_size(scr_md) > 0) {
    b->mems[4] = make_memory(scr_md, NULL, NULL);
    b->args[na++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, b->mems[4]};
  }
  b->nargs = na;
  b->dst_plain = dst_plain;
  dnnl_primitive_desc_destroy(pd);
}

static void destroy(struct built *b) {
  dnnl_primitive_destroy(b->prim);
  for (int i = 0; i < 5; i++)
    if (b->mems[i]) dnnl_memory_destroy(b->mems[i]);
  free(b->src);
  free(b->wei);
  free(b->dst);
  free(b->bias);
  free(b->scales);
}

static void run(struct built *b, long iters) {
  for (long i = 0; i < iters; i++) CHECK(dnnl_primitive_execute(b->prim, g_stream, b->nargs, b->args));
  CHECK(dnnl_stream_wait(g_stream));
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median and best per-iteration time (ms) over `reps` blocks of ~ms_block ms. */
static void time_case(struct built *b, int reps, double ms_block, double *median, double *best) {
  double t0 = now_s();
  run(b, 1);
  double one = now_s() - t0;
  long iters = 1;
  while (now_s() - t0 < 0.5 * ms_block * 1e-3 + one) run(b, 1); /* warm-up */
  t0 = now_s();
  run(b, 3);
  one = (now_s() - t0) / 3;
  iters = (long)(ms_block * 1e-3 / (one > 0 ? one : 1e-6));
  if (iters < 1) iters = 1;
  double t[64];
  if (reps > 64) reps = 64;
  for (int r = 0; r < reps; r++) {
    t0 = now_s();
    run(b, iters);
    t[r] = (now_s() - t0) * 1e3 / (double)iters;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp_double);
  *median = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
  *best = t[0];
}

/* ---- --check: naive reference on small shapes ---- */

static int check_one(const struct shape *s, int int8) {
  struct built b;
  build(s, int8, &b);
  run(&b, 1);
  read_memory(b.mems[3], &b.dst_plain, b.dst);
  long M, N, K;
  int bad = 0;
  long sat = 0;
  double maxerr = 0;
  if (s->is_matmul) {
    M = s->m, N = s->nn, K = s->kk;
  } else {
    M = s->n * s->h * s->w, N = s->oc, K = s->k * s->k * s->ic;
  }
  for (long p = 0; p < M; p++) {
    for (long o = 0; o < N; o++) {
      double acc = 0;
      if (s->is_matmul) {
        for (long k = 0; k < K; k++) {
          double x = int8 ? ((uint8_t *)b.src)[p * K + k] : ((float *)b.src)[p * K + k];
          double w = int8 ? ((int8_t *)b.wei)[k * N + o] : ((float *)b.wei)[k * N + o];
          acc += x * w;
        }
      } else {
        long n = p / (s->h * s->w), y = p / s->w % s->h, x0 = p % s->w, pd = s->k / 2;
        for (long ky = 0; ky < s->k; ky++)
          for (long kx = 0; kx < s->k; kx++) {
            long iy = y + ky - pd, ix = x0 + kx - pd;
            if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
            for (long c = 0; c < s->ic; c++) {
              long si = ((n * s->h + iy) * s->w + ix) * s->ic + c;
              long wi = ((o * s->k + ky) * s->k + kx) * s->ic + c;
              double xv = int8 ? ((uint8_t *)b.src)[si] : ((float *)b.src)[si];
              double wv = int8 ? ((int8_t *)b.wei)[wi] : ((float *)b.wei)[wi];
              acc += xv * wv;
            }
          }
      }
      if (int8) {
        /* oneDNN 2.x: dst = saturate_u8(round((acc + bias) * scale)) (bias added before scale) */
        double v = nearbyint((acc + b.bias[o]) * b.scales[o]);
        if (v < 0) v = 0;
        if (v > 255) v = 255;
        double got = ((uint8_t *)b.dst)[p * N + o];
        sat += v == 0 || v == 255;
        double e = fabs(got - v);
        if (e > maxerr) maxerr = e;
        if (e > 1) bad++;
      } else {
        double ref = acc + b.bias[o], got = ((float *)b.dst)[p * N + o];
        double e = fabs(got - ref) / (1.0 + fabs(ref));
        if (e > maxerr) maxerr = e;
        if (e > 1e-4) bad++;
      }
    }
  }
  printf("check %s %s: %ld outputs, max error %g%s, %d mismatches", s->name, int8 ? "int8" : "fp32",
         M * N, maxerr, int8 ? " (u8 units)" : " (relative)", bad);
  if (int8) printf(", %.0f%% saturated at 0/255", 100.0 * (double)sat / (double)(M * N));
  printf(" (%s)\n", b.impl);
  destroy(&b);
  return bad;
}

int main(int argc, char **argv) {
  int threads = 1, reps = 7, check = 0, info = 0, verbose = 0, want_int8 = 1, want_fp32 = 1;
  double ms = 60;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--ms") && i + 1 < argc) ms = atof(argv[++i]);
    else if (!strcmp(argv[i], "--case") && i + 1 < argc) only = argv[++i];
    else if (!strcmp(argv[i], "--types") && i + 1 < argc) {
      const char *t = argv[++i];
      want_int8 = strstr(t, "int8") != NULL;
      want_fp32 = strstr(t, "fp32") != NULL;
    } else if (!strcmp(argv[i], "--check")) check = 1;
    else if (!strcmp(argv[i], "--info")) info = 1;
    else if (!strcmp(argv[i], "--verbose")) verbose = 1;
    else {
      fprintf(stderr, "usage: onednn_layers [--threads N] [--reps R] [--ms MS] [--case NAME]"
                      " [--types int8,fp32] [--check] [--info] [--verbose]\n");
      return 2;
    }
  }
  if (reps < 1) reps = 1;
  omp_set_num_threads(threads < 1 ? 1 : threads);
  CHECK(dnnl_engine_create(&g_engine, dnnl_cpu, 0));
  CHECK(dnnl_stream_create(&g_stream, g_engine, dnnl_stream_default_flags));
  const dnnl_version_t *v = dnnl_version();
  const char *cap = getenv("ONEDNN_MAX_CPU_ISA");
  printf("onednn %d.%d.%d isa=0x%x (ONEDNN_MAX_CPU_ISA=%s) threads=%d\n", v->major, v->minor,
         v->patch, (unsigned)dnnl_get_effective_cpu_isa(), cap ? cap : "unset", threads);
  if (info) return 0;

  if (check) {
    static const struct shape small[] = {
        {"conv3x3_5x6x8-16_b2", 0, 2, 5, 6, 8, 16, 3, 0, 0, 0},
        {"conv1x1_4x4x64-32_b1", 0, 1, 4, 4, 64, 32, 1, 0, 0, 0},
        {"matmul_7x64x48", 1, 0, 0, 0, 0, 0, 0, 7, 64, 48},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
      bad += check_one(&small[i], 1);
      bad += check_one(&small[i], 0);
    }
    printf("check %s\n", bad ? "FAILED" : "ok");
    return bad ? 1 : 0;
  }

  int found = 0;
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
    const struct shape *s = &CASES[i];
    if (only && strcmp(only, s->name)) continue;
    found = 1;
    for (int int8 = 1; int8 >= 0; int8--) {
      if ((int8 && !want_int8) || (!int8 && !want_fp32)) continue;
      struct built b;
      double med, best;
      build(s, int8, &b);
      time_case(&b, reps, ms, &med, &best);
      printf("%s %s median_ms=%.4f best_ms=%.4f gops=%.1f impl=%s\n", s->name,
             int8 ? "int8" : "fp32", med, best, gop(s) / (med * 1e-3), b.impl);
      if (verbose) fprintf(stderr, "%s: %.4f GOP\n", s->name, gop(s));
      fflush(stdout);
      destroy(&b);
    }
  }
  if (!found) {
    fprintf(stderr, "onednn_layers: no case named %s\n", only);
    return 2;
  }
  return 0;
}
