/* Unit tests of the calibration runtime (qrt_calib): exact statistics on
 * hand-made batches, histogram re-binning, every qparams scheme against
 * hand-computed values, vector kernels against the scalar reference bit for
 * bit, the methods on known distributions (fixed-seed generator, 1e6 samples
 * in batches of 10^4), and the calibration table round trip and errors.
 * Usage: qrt-calib-test <scratch-dir> [--expect-isa=<name>]. */
#include "quant-opt/qrt_calib.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures;
#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);    \
      ++failures;                                                              \
    }                                                                          \
  } while (0)
#define CHECK_NEAR(a, b, tol)                                                  \
  do {                                                                         \
    double a_ = (a), b_ = (b);                                                 \
    if (!(fabs(a_ - b_) <= (tol))) {                                           \
      fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, want %.9g\n",      \
              __FILE__, __LINE__, #a, a_, b_);                                 \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static char dir[1024];
static const char *path(const char *name) {
  static char p[2048];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return p;
}

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

/* splitmix64: a fixed-seed generator independent of libc. */
static uint64_t rng_state;
static uint64_t rng_next(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static double rng_uniform(void) { /* [0, 1) */
  return (double)(rng_next() >> 11) * 0x1.0p-53;
}
static double rng_gauss(void) {
  double u1 = 1.0 - rng_uniform(), u2 = rng_uniform();
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
static double rng_laplace(void) {
  double u = rng_uniform() - 0.5;
  return u < 0 ? log(1.0 + 2.0 * u) : -log(1.0 - 2.0 * u);
}

static qrt_observer_t *newObserver(const qrt_calib_config_t *cfg) {
  qrt_observer_t *o = NULL;
  CHECK(qrt_observer_create(cfg, &o) == QRT_OK);
  return o;
}

static void range(const qrt_observer_t *o, qrt_calib_method_t m, float *lo,
                  float *hi) {
  *lo = *hi = NAN;
  CHECK(qrt_observer_compute_range(o, m, lo, hi) == QRT_OK);
}

/* ---- statistics ---------------------------------------------------------- */

static void testMinMaxAndEma(void) {
  qrt_observer_t *o = newObserver(NULL); /* default EMA constant 0.01 */
  const float b1[] = {1.0f, -1.0f, 2.0f}, b2[] = {-3.0f, 4.0f, 0.5f};
  CHECK(qrt_observer_update(o, b1, 3) == QRT_OK);
  CHECK(qrt_observer_update(o, b2, 3) == QRT_OK);
  qrt_observer_stats_t s;
  CHECK(qrt_observer_get_stats(o, &s) == QRT_OK);
  CHECK(s.min == -3.0f && s.max == 4.0f && s.count == 6 && s.num_batches == 2);
  CHECK(s.ema_min == -1.0 + 0.01 * (-3.0 - -1.0)); /* -1.02 */
  CHECK(s.ema_max == 2.0 + 0.01 * (4.0 - 2.0));    /* 2.02 */
  float lo, hi;
  range(o, QRT_CALIB_MINMAX, &lo, &hi);
  CHECK(lo == -3.0f && hi == 4.0f);
  range(o, QRT_CALIB_MOVING_AVG, &lo, &hi);
  CHECK(lo == (float)(-1.0 + 0.01 * -2.0) && hi == (float)(2.0 + 0.01 * 2.0));
  qrt_observer_destroy(o);

  /* Constant 0.5: three batches, binary-exact values. */
  qrt_calib_config_t cfg;
  qrt_calib_config_init(&cfg);
  cfg.ema_constant = 0.5;
  o = newObserver(&cfg);
  const float c1[] = {0.0f, 8.0f}, c2[] = {-4.0f, 0.0f}, c3[] = {4.0f, 2.0f};
  qrt_observer_update(o, c1, 2);
  qrt_observer_update(o, c2, 2); /* ema [-2, 4] */
  qrt_observer_update(o, c3, 2); /* ema [-2 + (2 - -2) / 2, 4 + 0] */
  qrt_observer_get_stats(o, &s);
  CHECK(s.ema_min == 0.0 && s.ema_max == 4.0);
  CHECK(s.min == -4.0f && s.max == 8.0f);
  /* Empty and all-NaN batches change nothing but the NaN count. */
  const float nan1[] = {NAN};
  CHECK(qrt_observer_update(o, NULL, 0) == QRT_OK);
  CHECK(qrt_observer_update(o, nan1, 1) == QRT_OK);
  qrt_observer_get_stats(o, &s);
  CHECK(s.ema_min == 0.0 && s.ema_max == 4.0 && s.num_batches == 3);
  CHECK(s.nan_count == 1 && s.count == 6);
  qrt_observer_destroy(o);
}

static void testMeanStd(void) {
  qrt_calib_config_t cfg;
  qrt_calib_config_init(&cfg);
  cfg.mean_std_n = 1.0;
  qrt_observer_t *o = newObserver(&cfg);
  /* Batch minima -1, -1, -1, -5 (mean -2, population std sqrt(3)); maxima
   * 1, 1, 1, 9 (mean 3, std sqrt(12)). */
  const float b[4][2] = {{-1, 1}, {-1, 1}, {-1, 1}, {-5, 9}};
  for (int i = 0; i < 4; ++i) qrt_observer_update(o, b[i], 2);
  qrt_observer_stats_t s;
  qrt_observer_get_stats(o, &s);
  CHECK(s.batch_min_mean == -2.0 && s.batch_max_mean == 3.0);
  CHECK(s.batch_min_std == sqrt(3.0) && s.batch_max_std == sqrt(12.0));
  float lo, hi;
  range(o, QRT_CALIB_MEAN_STD, &lo, &hi);
  CHECK(lo == (float)(-2.0 - sqrt(3.0)) && hi == (float)(3.0 + sqrt(12.0)));
  qrt_observer_destroy(o);
  /* n = 3 overshoots both ends: clipped to the observed [-5, 9]. */
  o = newObserver(NULL);
  for (int i = 0; i < 4; ++i) qrt_observer_update(o, b[i], 2);
  range(o, QRT_CALIB_MEAN_STD, &lo, &hi);
  CHECK(lo == -5.0f && hi == 9.0f);
  qrt_observer_destroy(o);
}

static void testNanInf(void) {
  qrt_observer_t *o = newObserver(NULL);
  const float b[] = {1.0f, NAN, INFINITY, -INFINITY, -2.0f, -NAN, 0.25f};
  CHECK(qrt_observer_update(o, b, 7) == QRT_OK);
  qrt_observer_stats_t s;
  qrt_observer_get_stats(o, &s);
  CHECK(s.count == 3 && s.nan_count == 2 && s.inf_count == 2);
  CHECK(s.min == -2.0f && s.max == 1.0f);
  const uint64_t *c;
  size_t nb;
  double w, first;
  qrt_observer_get_histogram(o, &c, &nb, &w, &first);
  uint64_t total = 0;
  for (size_t i = 0; i < nb; ++i) total += c[i];
  CHECK(total == 3);
  for (int m = 0; m < QRT_CALIB_METHOD_COUNT; ++m) {
    float lo, hi;
    range(o, (qrt_calib_method_t)m, &lo, &hi);
    CHECK(isfinite(lo) && isfinite(hi) && lo <= hi && lo >= -2.0f && hi <= 1.0f);
  }
  qrt_observer_destroy(o);
}

/* Recomputes the histogram of `vals` on the observer's final lattice. */
static int sameAsDirect(const qrt_observer_t *o, const float *vals, size_t n) {
  const uint64_t *c;
  size_t nb;
  double w, first;
  qrt_observer_get_histogram(o, &c, &nb, &w, &first);
  uint64_t *want = calloc(nb, sizeof *want);
  int ok = 1;
  for (size_t i = 0; i < n; ++i) {
    double u = floor((double)vals[i] / w) - first;
    if (u < 0 || u >= (double)nb) ok = 0; /* must never need clamping */
    else want[(size_t)u]++;
  }
  ok = ok && memcmp(want, c, nb * sizeof *want) == 0;
  free(want);
  return ok;
}

static void testHistogramRebin(void) {
  qrt_calib_config_t cfg;
  qrt_calib_config_init(&cfg);
  cfg.num_bins = 8;
  cfg.kl_quant_bins = 4;
  qrt_observer_t *o = newObserver(&cfg);
  const uint64_t *c;
  size_t nb;
  double w, first;
  /* [-0.5, 6.5]: width 1 (7 = span / 7), bins [-1, 0), [0, 1), ..., [6, 7). */
  const float b1[] = {-0.5f, 0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f};
  qrt_observer_update(o, b1, 8);
  qrt_observer_get_histogram(o, &c, &nb, &w, &first);
  CHECK(nb == 8 && w == 1.0 && first == -1.0);
  for (int i = 0; i < 8; ++i) CHECK(c[i] == 1);
  /* 9 needs width 2: pairs of bins merge, window starts at -2. */
  const float b2[] = {9.0f};
  qrt_observer_update(o, b2, 1);
  qrt_observer_get_histogram(o, &c, &nb, &w, &first);
  const uint64_t want2[8] = {1, 2, 2, 2, 1, 1, 0, 0};
  CHECK(w == 2.0 && first == -1.0 && memcmp(c, want2, sizeof want2) == 0);
  /* -3 still fits at width 2: the window shifts down one bin. */
  const float b3[] = {-3.0f};
  qrt_observer_update(o, b3, 1);
  qrt_observer_get_histogram(o, &c, &nb, &w, &first);
  const uint64_t want3[8] = {1, 1, 2, 2, 2, 1, 1, 0};
  CHECK(w == 2.0 && first == -2.0 && memcmp(c, want3, sizeof want3) == 0);
  /* -20 needs width 4; 5 lands in [4, 8) with 4.5, 5.5, 6.5. */
  const float b4[] = {-20.0f, 5.0f};
  qrt_observer_update(o, b4, 2);
  qrt_observer_get_histogram(o, &c, &nb, &w, &first);
  const uint64_t want4[8] = {1, 0, 0, 0, 2, 4, 4, 1};
  CHECK(w == 4.0 && first == -5.0 && memcmp(c, want4, sizeof want4) == 0);
  float all[12];
  memcpy(all, b1, sizeof b1);
  all[8] = 9.0f, all[9] = -3.0f, all[10] = -20.0f, all[11] = 5.0f;
  CHECK(sameAsDirect(o, all, 12));
  qrt_observer_destroy(o);

  /* Random batches whose spread grows 100x, in both directions: the merged
   * histogram equals the direct histogram of every value on the final
   * lattice, count for count (x / (w 2^k) == (x / w) / 2^k exactly). */
  rng_state = 42;
  qrt_calib_config_init(&cfg);
  cfg.num_bins = 64;
  cfg.kl_quant_bins = 16;
  o = newObserver(&cfg);
  enum { N = 20000 };
  float *vals = malloc(N * sizeof *vals);
  for (int i = 0; i < N; ++i) {
    double spread = 0.01 * pow(10.0, 2.0 * i / N);
    vals[i] = (float)((rng_uniform() - 0.3) * spread);
  }
  for (int i = 0; i < N; i += 500) qrt_observer_update(o, vals + i, 500);
  CHECK(sameAsDirect(o, vals, N));
  qrt_observer_get_histogram(o, &c, &nb, &w, &first);
  uint64_t total = 0;
  for (size_t i = 0; i < nb; ++i) total += c[i];
  CHECK(total == N);
  qrt_observer_destroy(o);
  free(vals);

  /* Zeros before any non-zero value are kept and land in the bin of 0. */
  o = newObserver(&cfg);
  const float z[] = {0.0f, -0.0f, 0.0f}, one[] = {1.0f};
  qrt_observer_update(o, z, 3);
  qrt_observer_get_histogram(o, &c, &nb, &w, &first);
  CHECK(c == NULL && w == 0.0);
  qrt_observer_update(o, one, 1);
  qrt_observer_get_histogram(o, &c, &nb, &w, &first);
  CHECK(c && c[(size_t)(0.0 - first)] == 3);
  float zz[4] = {0.0f, 0.0f, 0.0f, 1.0f};
  CHECK(sameAsDirect(o, zz, 4));
  qrt_observer_destroy(o);
}

static void testPercentileKnown(void) {
  /* Ten bins [-1, 0), [0, 1), ..., [8, 9) of 10 values each, the outer ones
   * clipped to the observed [-0.5, 8.5]. */
  qrt_calib_config_t cfg;
  qrt_calib_config_init(&cfg);
  cfg.num_bins = 10;
  cfg.kl_quant_bins = 4;
  cfg.percentile_symmetric = 0;
  float b[100];
  for (int u = -1; u <= 8; ++u)
    for (int k = 0; k < 10; ++k)
      b[(u + 1) * 10 + k] = u == -1 ? -0.5f : u == 8 ? 8.5f : (float)u + 0.5f;
  const double p[] = {95.0, 90.0, 80.0, 99.0};
  const double want[][2] = {{-0.25, 8.25}, {0.0, 8.0}, {1.0, 7.0}, {-0.45, 8.45}};
  for (int i = 0; i < 4; ++i) {
    cfg.percentile = p[i];
    qrt_observer_t *o = newObserver(&cfg);
    qrt_observer_update(o, b, 100);
    const uint64_t *c;
    size_t nb;
    double w, first;
    qrt_observer_get_histogram(o, &c, &nb, &w, &first);
    CHECK(w == 1.0 && first == -1.0);
    float lo, hi;
    range(o, QRT_CALIB_PERCENTILE, &lo, &hi);
    CHECK_NEAR(lo, want[i][0], 1e-6);
    CHECK_NEAR(hi, want[i][1], 1e-6);
    qrt_observer_destroy(o);
  }
  /* Symmetric 95%: |x| bins [0,1) 20, [1,2) .. [7,8) 10 each, [8, 8.5] 10:
   * t = 8.25, [-t, t] clipped to [-0.5, 8.5]. */
  cfg.percentile = 95.0;
  cfg.percentile_symmetric = 1;
  qrt_observer_t *o = newObserver(&cfg);
  qrt_observer_update(o, b, 100);
  float lo, hi;
  range(o, QRT_CALIB_PERCENTILE, &lo, &hi);
  CHECK(lo == -0.5f);
  CHECK_NEAR(hi, 8.25, 1e-6);
  qrt_observer_destroy(o);
}

static void testConstantAndZero(void) {
  qrt_qscheme_t sym8 = {1, QRT_QINT8, 0, 0, 0}, aff8 = {0, QRT_QUINT8, 0, 0, 0};
  const float vals[] = {0.0f, 3.0f, -2.0f};
  for (int v = 0; v < 3; ++v) {
    qrt_observer_t *o = newObserver(NULL);
    float b[1000];
    for (int i = 0; i < 1000; ++i) b[i] = vals[v];
    for (int r = 0; r < 5; ++r) qrt_observer_update(o, b, 1000);
    for (int m = 0; m < QRT_CALIB_METHOD_COUNT; ++m) {
      float lo, hi;
      range(o, (qrt_calib_method_t)m, &lo, &hi);
      CHECK(lo == vals[v] && hi == vals[v]);
      qrt_qparams_t q1, q2;
      CHECK(qrt_choose_qparams(lo, hi, &sym8, &q1) == QRT_OK);
      CHECK(qrt_choose_qparams(lo, hi, &aff8, &q2) == QRT_OK);
      CHECK(isfinite(q1.scale) && q1.scale > 0 && isfinite(q2.scale) && q2.scale > 0);
    }
    qrt_observer_destroy(o);
  }
  /* Never fed a finite value: [0, 0]. */
  qrt_observer_t *o = newObserver(NULL);
  const float inf[] = {INFINITY};
  qrt_observer_update(o, inf, 1);
  float lo = 1, hi = 1;
  range(o, QRT_CALIB_KL, &lo, &hi);
  CHECK(lo == 0.0f && hi == 0.0f);
  qrt_observer_destroy(o);
}

/* ---- qparams ------------------------------------------------------------- */

static qrt_qparams_t qp(float lo, float hi, int sym, qrt_qdtype_t dt, int narrow,
                        int reduce, int pow2) {
  qrt_qscheme_t s = {sym, dt, narrow, reduce, pow2};
  qrt_qparams_t q = {-1.0f, -999, 0, 0};
  CHECK(qrt_choose_qparams(lo, hi, &s, &q) == QRT_OK);
  return q;
}

static void testQParams(void) {
  qrt_qparams_t q;
  q = qp(-1, 3, 0, QRT_QUINT8, 0, 0, 0); /* 4/255, 0 - round(-63.75) */
  CHECK(q.scale == (float)(4.0 / 255.0) && q.zero_point == 64);
  CHECK(q.quant_min == 0 && q.quant_max == 255);
  q = qp(-2, 1, 1, QRT_QINT8, 0, 0, 0);
  CHECK(q.scale == (float)(2.0 / 127.0) && q.zero_point == 0);
  CHECK(q.quant_min == -128 && q.quant_max == 127);
  q = qp(-1, 3, 0, QRT_QINT8, 0, 0, 0); /* -128 - round(-63.75) */
  CHECK(q.scale == (float)(4.0 / 255.0) && q.zero_point == -64);
  q = qp(-2, 1, 1, QRT_QUINT8, 0, 0, 0); /* zero point mid-range */
  CHECK(q.scale == (float)(2.0 / 127.0) && q.zero_point == 128);
  /* Narrow range. */
  q = qp(-2, 1, 1, QRT_QINT8, 1, 0, 0);
  CHECK(q.scale == (float)(2.0 / 127.0) && q.zero_point == 0 && q.quant_min == -127);
  q = qp(-2, 3, 0, QRT_QINT8, 1, 0, 0); /* 5/254; -127 - round(-101.6) */
  CHECK(q.scale == (float)(5.0 / 254.0) && q.zero_point == -25);
  q = qp(0, 3, 0, QRT_QUINT8, 1, 0, 0); /* [1, 255] */
  CHECK(q.scale == (float)(3.0 / 254.0) && q.zero_point == 1 && q.quant_min == 1);
  /* reduce_range: uint8 [0, 127], int8 [-64, 63]. */
  q = qp(-1, 3, 0, QRT_QUINT8, 0, 1, 0); /* 4/127; 0 - round(-31.75) */
  CHECK(q.scale == (float)(4.0 / 127.0) && q.zero_point == 32 && q.quant_max == 127);
  q = qp(-2, 1, 1, QRT_QINT8, 0, 1, 0);
  CHECK(q.scale == (float)(2.0 / 63.0) && q.zero_point == 0);
  CHECK(q.quant_min == -64 && q.quant_max == 63);
  q = qp(-2, 1, 1, QRT_QUINT8, 0, 1, 0); /* [0, 127]: zp 64, 63 steps */
  CHECK(q.scale == (float)(2.0 / 63.0) && q.zero_point == 64);
  /* Power-of-two scales round up. */
  q = qp(-2, 1, 1, QRT_QINT8, 0, 0, 1); /* 0.01575 -> 2^-5 */
  CHECK(q.scale == 0.03125f && q.zero_point == 0);
  q = qp(-1, 3, 0, QRT_QUINT8, 0, 0, 1); /* 2^-5; 0 - round(-32) */
  CHECK(q.scale == 0.03125f && q.zero_point == 32);
  q = qp(-127, 127, 1, QRT_QINT8, 0, 0, 1); /* already 2^0 */
  CHECK(q.scale == 1.0f);
  /* 0 is always inside the range. */
  q = qp(1, 3, 0, QRT_QUINT8, 0, 0, 0);
  CHECK(q.scale == (float)(3.0 / 255.0) && q.zero_point == 0);
  q = qp(-3, -3, 0, QRT_QUINT8, 0, 0, 0);
  CHECK(q.scale == (float)(3.0 / 255.0) && q.zero_point == 255);
  q = qp(5, 5, 1, QRT_QINT8, 0, 0, 0);
  CHECK(q.scale == (float)(5.0 / 127.0));
  /* Zero width: scale 1; tiny ranges: scale >= FLT_MIN. */
  q = qp(0, 0, 1, QRT_QINT8, 0, 0, 0);
  CHECK(q.scale == 1.0f && q.zero_point == 0);
  q = qp(0, 0, 0, QRT_QUINT8, 0, 0, 0);
  CHECK(q.scale == 1.0f && q.zero_point == 0);
  q = qp(0, 0, 0, QRT_QINT8, 0, 0, 0);
  CHECK(q.scale == 1.0f && q.zero_point == -128);
  q = qp(0, 1e-44f, 0, QRT_QUINT8, 0, 0, 0);
  CHECK(q.scale == FLT_MIN && isfinite(1.0f / q.scale));
  q = qp(-FLT_MAX, FLT_MAX, 0, QRT_QINT8, 0, 0, 0);
  CHECK(q.scale == (float)(2.0 * FLT_MAX / 255.0) && q.zero_point == 0);
  /* Bad input: a status, *out untouched. */
  qrt_qscheme_t s = {1, QRT_QINT8, 0, 0, 0}, bad = {1, (qrt_qdtype_t)7, 0, 0, 0};
  qrt_qparams_t keep = {42.0f, 7, 0, 0};
  CHECK(qrt_choose_qparams(NAN, 1, &s, &keep) == QRT_ERR_ARG);
  CHECK(qrt_choose_qparams(0, INFINITY, &s, &keep) == QRT_ERR_ARG);
  CHECK(qrt_choose_qparams(-INFINITY, 0, &s, &keep) == QRT_ERR_ARG);
  CHECK(qrt_choose_qparams(2, 1, &s, &keep) == QRT_ERR_ARG);
  CHECK(qrt_choose_qparams(0, 1, NULL, &keep) == QRT_ERR_ARG);
  CHECK(qrt_choose_qparams(0, 1, &bad, &keep) == QRT_ERR_ARG);
  CHECK(qrt_choose_qparams(0, 1, &s, NULL) == QRT_ERR_ARG);
  CHECK(keep.scale == 42.0f && keep.zero_point == 7);
}

static void testPerChannel(void) {
  qrt_qscheme_t s = {0 /* forced symmetric */, QRT_QINT8, 0, 0, 0};
  const float w[6] = {1.0f, -2.0f, 0.5f, 0.0f, 0.0f, 0.0f}; /* 2 x 3 */
  int64_t dims[2] = {2, 3};
  float sc[3];
  int32_t zp[3] = {9, 9, 9};
  CHECK(qrt_per_channel_symmetric_qparams(w, 2, dims, 0, &s, sc, zp) == QRT_OK);
  CHECK(sc[0] == (float)(2.0 / 127.0) && sc[1] == 1.0f && zp[0] == 0 && zp[1] == 0);
  CHECK(qrt_per_channel_symmetric_qparams(w, 2, dims, 1, &s, sc, NULL) == QRT_OK);
  CHECK(sc[0] == (float)(1.0 / 127.0) && sc[1] == (float)(2.0 / 127.0) &&
        sc[2] == (float)(0.5 / 127.0));
  /* rank 3, middle axis: [2, 2, 2], channel c = max |w[:, c, :]|:
   * c = 0 holds 1, 2, -5, 6; c = 1 holds 3, 4, 7, -8. */
  const float w3[8] = {1, 2, 3, 4, -5, 6, 7, -8};
  int64_t d3[3] = {2, 2, 2};
  CHECK(qrt_per_channel_symmetric_qparams(w3, 3, d3, 1, &s, sc, NULL) == QRT_OK);
  CHECK(sc[0] == (float)(6.0 / 127.0) && sc[1] == (float)(8.0 / 127.0));
  s.dtype = QRT_QUINT8;
  CHECK(qrt_per_channel_symmetric_qparams(w3, 3, d3, 2, &s, sc, zp) == QRT_OK);
  CHECK(sc[0] == (float)(7.0 / 127.0) && sc[1] == (float)(8.0 / 127.0) &&
        zp[0] == 128);
  const float wn[2] = {1.0f, NAN};
  int64_t d1[1] = {2};
  CHECK(qrt_per_channel_symmetric_qparams(wn, 1, d1, 0, &s, sc, zp) == QRT_ERR_ARG);
  CHECK(qrt_per_channel_symmetric_qparams(w, 2, dims, 2, &s, sc, zp) == QRT_ERR_ARG);
  CHECK(qrt_per_channel_symmetric_qparams(w, 2, dims, -1, &s, sc, zp) == QRT_ERR_ARG);
}

/* ---- kernels ------------------------------------------------------------- */

static float randomSpecial(void) {
  static const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f,
                                  FLT_MAX, -FLT_MAX, 1e-45f, -1e-40f, 49.99f};
  uint64_t r = rng_next();
  if (r % 8 == 0) return special[(r >> 8) % 10];
  return (float)((rng_uniform() - 0.5) * 120.0);
}

static void testKernels(void) {
  static const size_t sizes[] = {0, 1, 3, 15, 16, 17, 63, 65, 1000, 4097};
  const qrt_calib_isa_t saved = qrt_calib_get_isa();
  rng_state = 7;
  float *buf = malloc(5000 * sizeof *buf);
  int tested = 0;
  for (int isa = QRT_CALIB_ISA_AVX2; isa <= QRT_CALIB_ISA_AVX512; ++isa) {
    if (!qrt_calib_isa_supported((qrt_calib_isa_t)isa)) {
      printf("kernels: %s not supported here, skipped\n",
             qrt_calib_isa_name((qrt_calib_isa_t)isa));
      continue;
    }
    ++tested;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; ++si) {
      for (int rep = 0; rep < 4; ++rep) {
        size_t n = sizes[si], off = (size_t)rep; /* also misaligned */
        for (size_t i = 0; i < n + off; ++i) buf[i] = randomSpecial();
        if (rep == 3)
          for (size_t i = 0; i < n; ++i) buf[off + i] = i % 2 ? -0.0f : 0.0f;
        const float *x = buf + off;
        qrt_minmax_t a, b;
        uint64_t ha[100] = {0}, hb[100] = {0};
        CHECK(qrt_calib_set_isa(QRT_CALIB_ISA_SCALAR) == QRT_OK);
        CHECK(qrt_f32_minmax(x, n, &a) == QRT_OK);
        CHECK(qrt_f32_histogram_accumulate(x, n, 1.0, -50.0, ha, 100) == QRT_OK);
        CHECK(qrt_calib_set_isa((qrt_calib_isa_t)isa) == QRT_OK);
        CHECK(qrt_f32_minmax(x, n, &b) == QRT_OK);
        CHECK(qrt_f32_histogram_accumulate(x, n, 1.0, -50.0, hb, 100) == QRT_OK);
        CHECK(bits(a.min) == bits(b.min) && bits(a.max) == bits(b.max));
        CHECK(a.count == b.count && a.nan_count == b.nan_count &&
              a.inf_count == b.inf_count);
        CHECK(memcmp(ha, hb, sizeof ha) == 0);
        /* An odd width and non-integral quotients too. */
        memset(ha, 0, sizeof ha);
        memset(hb, 0, sizeof hb);
        qrt_calib_set_isa(QRT_CALIB_ISA_SCALAR);
        qrt_f32_histogram_accumulate(x, n, 0.7, -40.0, ha, 97);
        qrt_calib_set_isa((qrt_calib_isa_t)isa);
        qrt_f32_histogram_accumulate(x, n, 0.7, -40.0, hb, 97);
        CHECK(memcmp(ha, hb, sizeof ha) == 0);
        uint64_t total = 0, want = a.count;
        for (int i = 0; i < 97; ++i) total += hb[i];
        CHECK(total == want);
        if (rep == 3 && n) CHECK(bits(b.min) == 0 && bits(b.max) == 0);
      }
    }
  }
  /* Scalar reference on a hand-made case. */
  qrt_calib_set_isa(QRT_CALIB_ISA_SCALAR);
  const float h[] = {-0.0f, 2.5f, NAN, -INFINITY, -7.0f};
  qrt_minmax_t m;
  qrt_f32_minmax(h, 5, &m);
  CHECK(m.min == -7.0f && m.max == 2.5f && m.count == 3 && m.nan_count == 1 &&
        m.inf_count == 1);
  qrt_f32_minmax(h, 0, &m);
  CHECK(m.count == 0 && m.min == INFINITY && m.max == -INFINITY);
  CHECK(qrt_calib_set_isa((qrt_calib_isa_t)9) == QRT_ERR_ARG);
  CHECK(qrt_f32_histogram_accumulate(h, 5, 0.0, 0.0, (uint64_t *)&m, 1) == QRT_ERR_ARG);
  CHECK(qrt_f32_histogram_accumulate(h, 5, 1.0, 0.5, (uint64_t *)&m, 1) == QRT_ERR_ARG);
  qrt_calib_set_isa(saved);
  printf("kernels: vector == scalar on %d ISA(s); selected: %s\n", tested,
         qrt_calib_isa_name(saved));
  free(buf);
}

/* ---- distributions ------------------------------------------------------- */

enum { SAMPLES = 1000000, BATCH = 10000 };

typedef struct dist_result {
  float lo[QRT_CALIB_METHOD_COUNT], hi[QRT_CALIB_METHOD_COUNT];
  float min, max;
} dist_result_t;

/* Feeds SAMPLES values of `gen` (x scale) to `o` and checks MINMAX and
 * MEAN_STD against values computed here from the same batches. */
static void runDistribution(const char *name, double (*gen)(void), int relu,
                            qrt_observer_t *o, dist_result_t *r) {
  float *b = malloc(BATCH * sizeof *b);
  double bmin[SAMPLES / BATCH], bmax[SAMPLES / BATCH];
  float mn = INFINITY, mx = -INFINITY;
  for (int k = 0; k < SAMPLES / BATCH; ++k) {
    float bl = INFINITY, bh = -INFINITY;
    for (int i = 0; i < BATCH; ++i) {
      double v = gen();
      b[i] = (float)(relu && v < 0 ? 0.0 : v);
      bl = fminf(bl, b[i]);
      bh = fmaxf(bh, b[i]);
    }
    bmin[k] = bl, bmax[k] = bh;
    mn = fminf(mn, bl), mx = fmaxf(mx, bh);
    CHECK(qrt_observer_update(o, b, BATCH) == QRT_OK);
  }
  free(b);
  r->min = mn, r->max = mx;
  printf("%-9s min %9.5f max %9.5f |", name, mn, mx);
  for (int m = 0; m < QRT_CALIB_METHOD_COUNT; ++m) {
    range(o, (qrt_calib_method_t)m, &r->lo[m], &r->hi[m]);
    printf(" %s [%.4f, %.4f]", qrt_calib_method_name((qrt_calib_method_t)m),
           r->lo[m], r->hi[m]);
  }
  printf("\n");
  CHECK(r->lo[QRT_CALIB_MINMAX] == mn && r->hi[QRT_CALIB_MINMAX] == mx);
  /* MEAN_STD by its definition (n = 3, population std), clipped. */
  double s1 = 0, s2 = 0, t1 = 0, t2 = 0, nb = SAMPLES / BATCH;
  for (int k = 0; k < SAMPLES / BATCH; ++k)
    s1 += bmin[k], s2 += bmin[k] * bmin[k], t1 += bmax[k], t2 += bmax[k] * bmax[k];
  double lo = s1 / nb - 3.0 * sqrt(s2 / nb - (s1 / nb) * (s1 / nb));
  double hi = t1 / nb + 3.0 * sqrt(t2 / nb - (t1 / nb) * (t1 / nb));
  lo = lo < mn ? mn : lo;
  hi = hi > mx ? mx : hi;
  CHECK_NEAR(r->lo[QRT_CALIB_MEAN_STD], lo, 1e-5 * fabs(lo) + 1e-7);
  CHECK_NEAR(r->hi[QRT_CALIB_MEAN_STD], hi, 1e-5 * fabs(hi) + 1e-7);
  for (int m = 0; m < QRT_CALIB_METHOD_COUNT; ++m)
    CHECK(r->lo[m] >= mn && r->hi[m] <= mx && r->lo[m] <= r->hi[m]);
}

static double genUniform(void) { return 2.0 * rng_uniform() - 1.0; }
static double genShiftedLaplace(void) { return rng_laplace() + 2.0; }

/* Clipping thresholds t: for symmetric data the larger of |lo|, hi. */
static double thr(const dist_result_t *r, int m) {
  return fmax(-r->lo[m], r->hi[m]);
}

static void testDistributions(void) {
  dist_result_t r;
  qrt_observer_t *o;

  /* Uniform [-1, 1): nothing has tails, every method keeps >= 95% of both
   * ends. */
  rng_state = 1;
  o = newObserver(NULL);
  runDistribution("uniform", genUniform, 0, o, &r);
  for (int m = 0; m < QRT_CALIB_METHOD_COUNT; ++m) {
    CHECK(r.hi[m] >= 0.95f * r.max);
    CHECK(r.lo[m] <= 0.95f * r.min);
  }
  qrt_observer_destroy(o);

  /* Gaussian sigma 1 (max |x| 4.69 here). 99.99% of |x| is 3.89 sigma.
   * The MSE optimum for the int8 grid balances rounding noise (t/127)^2/12
   * against the clipped tail 2 * int_t^inf (x - t)^2 phi: about 3.9 sigma.
   * KL(P || Q) charges clipped mass m about m * log(m / q) and gains only
   * sampling noise, so on a light tail it clips little: TensorRT's algorithm
   * picks ~4.5 sigma here (the same at 512..32768 bins). Bounds: percentile
   * [3.80, 3.98], MSE [3.5, 4.3] and <= 0.9 max, KL in [2.5, 5] and below
   * max |x|. */
  rng_state = 2;
  o = newObserver(NULL);
  runDistribution("gaussian", rng_gauss, 0, o, &r);
  double amax = fmax(-r.min, r.max);
  CHECK(thr(&r, QRT_CALIB_PERCENTILE) >= 3.80 && thr(&r, QRT_CALIB_PERCENTILE) <= 3.98);
  CHECK(thr(&r, QRT_CALIB_MSE) >= 3.5 && thr(&r, QRT_CALIB_MSE) <= 4.3);
  CHECK(thr(&r, QRT_CALIB_MSE) <= 0.9 * amax);
  CHECK(thr(&r, QRT_CALIB_KL) >= 2.5 && thr(&r, QRT_CALIB_KL) <= 5.0);
  CHECK(thr(&r, QRT_CALIB_KL) < amax);
  for (int m = QRT_CALIB_PERCENTILE; m <= QRT_CALIB_MSE; ++m)
    CHECK(r.lo[m] == -r.hi[m] || r.lo[m] == r.min || r.hi[m] == r.max);
  qrt_observer_destroy(o);

  /* Laplace b = 1 (max |x| ~ ln(1e6) = 13.8): 99.99% of |x| is ln(1e4) =
   * 9.21; KL and MSE clip well inside the tail as well. */
  rng_state = 3;
  o = newObserver(NULL);
  runDistribution("laplace", rng_laplace, 0, o, &r);
  amax = fmax(-r.min, r.max);
  CHECK(thr(&r, QRT_CALIB_PERCENTILE) >= 8.9 && thr(&r, QRT_CALIB_PERCENTILE) <= 9.5);
  for (int m = QRT_CALIB_PERCENTILE; m <= QRT_CALIB_MSE; ++m)
    CHECK(thr(&r, m) <= 0.9 * amax && thr(&r, m) >= 4.0);
  qrt_observer_destroy(o);

  /* ReLU'd Gaussian: one-sided, so the ranges start at 0 and KL works on the
   * positive side only. */
  rng_state = 4;
  o = newObserver(NULL);
  runDistribution("relu", rng_gauss, 1, o, &r);
  CHECK(r.min == 0.0f);
  for (int m = 0; m < QRT_CALIB_METHOD_COUNT; ++m) CHECK(r.lo[m] == 0.0f);
  for (int m = QRT_CALIB_PERCENTILE; m <= QRT_CALIB_MSE; ++m)
    CHECK(r.hi[m] >= 2.5 && r.hi[m] <= 0.95 * r.max);
  /* Without bin 0 := bin 1, the spike of zeros drove KL to 128 bins (2.08). */
  CHECK(r.hi[QRT_CALIB_KL] >= 3.5);
  qrt_observer_destroy(o);

  /* Two-sided percentile and affine-uint8 MSE on a skewed tensor (Laplace
   * shifted by +2): each tail on its own. 0.01% below: 2 - ln(5000) = -6.52;
   * above: 2 + ln(5000) = 10.52. */
  qrt_calib_config_t cfg;
  qrt_calib_config_init(&cfg);
  cfg.percentile_symmetric = 0;
  cfg.mse_scheme.symmetric = 0;
  cfg.mse_scheme.dtype = QRT_QUINT8;
  rng_state = 5;
  o = newObserver(&cfg);
  runDistribution("laplace+2", genShiftedLaplace, 0, o, &r);
  CHECK(r.lo[QRT_CALIB_PERCENTILE] >= -7.0 && r.lo[QRT_CALIB_PERCENTILE] <= -6.0);
  CHECK(r.hi[QRT_CALIB_PERCENTILE] >= 10.0 && r.hi[QRT_CALIB_PERCENTILE] <= 11.0);
  CHECK(r.lo[QRT_CALIB_MSE] >= 0.9 * r.min && r.hi[QRT_CALIB_MSE] <= 0.9 * r.max);
  CHECK(r.lo[QRT_CALIB_MSE] <= -2.0 && r.hi[QRT_CALIB_MSE] >= 6.0);
  CHECK(r.hi[QRT_CALIB_MSE] > -r.lo[QRT_CALIB_MSE]); /* follows the skew */
  qrt_observer_destroy(o);
}

/* ---- calibration table --------------------------------------------------- */

static int sameEntry(const qrt_calib_entry_t *a, const qrt_calib_entry_t *b) {
  if (a->id != b->id || strcmp(a->name, b->name) != 0 || bits(a->min) != bits(b->min) ||
      bits(a->max) != bits(b->max) || a->count != b->count ||
      a->nan_count != b->nan_count || a->inf_count != b->inf_count)
    return 0;
  for (int m = 0; m < QRT_CALIB_METHOD_COUNT; ++m)
    if (bits(a->ranges[m][0]) != bits(b->ranges[m][0]) ||
        bits(a->ranges[m][1]) != bits(b->ranges[m][1]))
      return 0;
  return 1;
}

static char *slurp(const char *p) {
  FILE *f = fopen(p, "rb");
  if (!f) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *s = malloc(n + 1);
  memcpy(s, buf, n + 1);
  return s;
}

static void testTableRoundTrip(void) {
  qrt_calib_config_t cfg;
  qrt_calib_config_init(&cfg);
  cfg.percentile = 99.9;
  cfg.ema_constant = 0.1;
  cfg.percentile_symmetric = 0;
  cfg.mse_scheme = (qrt_qscheme_t){0, QRT_QUINT8, 1, 1, 1};
  qrt_calib_table_t *t = NULL, *u = NULL;
  CHECK(qrt_calib_table_create(&cfg, &t) == QRT_OK);
  rng_state = 11;
  qrt_observer_t *o = newObserver(&cfg);
  float b[4096];
  for (int k = 0; k < 8; ++k) {
    for (int i = 0; i < 4096; ++i) b[i] = (float)(rng_gauss() * 0.37 + 0.1);
    b[k] = k % 2 ? NAN : -INFINITY;
    qrt_observer_update(o, b, 4096);
  }
  CHECK(qrt_calib_table_add_observer(t, 3, "conv1/Conv \"quoted\" \\ \xc3\xa9\t", o) == QRT_OK);
  qrt_observer_destroy(o);
  o = newObserver(&cfg); /* never fed */
  CHECK(qrt_calib_table_add_observer(t, -7, "loc(\"model.mlir\":12:3)", o) == QRT_OK);
  qrt_observer_destroy(o);
  qrt_calib_entry_t e;
  memset(&e, 0, sizeof e);
  e.id = 9;
  e.name = "hand";
  e.min = -0.0f, e.max = 0.1f;
  e.count = 1ull << 40;
  for (int m = 0; m < QRT_CALIB_METHOD_COUNT; ++m)
    e.ranges[m][0] = 1e-38f * (float)m, e.ranges[m][1] = 3.4e38f;
  CHECK(qrt_calib_table_add(t, &e) == QRT_OK);
  CHECK(qrt_calib_table_add(t, &e) == QRT_ERR_ARG); /* duplicate id */
  e.id = 10, e.ranges[2][0] = 5.0f, e.ranges[2][1] = 4.0f;
  CHECK(qrt_calib_table_add(t, &e) == QRT_ERR_ARG); /* lo > hi */

  char msg[512] = "";
  CHECK(qrt_calib_table_write(t, path("t.json"), msg, sizeof msg) == QRT_OK);
  CHECK(qrt_calib_table_read(path("t.json"), &u, msg, sizeof msg) == QRT_OK);
  if (!u) {
    fprintf(stderr, "read: %s\n", msg);
    qrt_calib_table_destroy(t);
    return;
  }
  CHECK(qrt_calib_table_size(u) == 3);
  for (size_t i = 0; i < 3; ++i)
    CHECK(sameEntry(qrt_calib_table_get(t, i), qrt_calib_table_get(u, i)));
  const qrt_calib_config_t *c = qrt_calib_table_config(u);
  CHECK(c->num_bins == cfg.num_bins && c->ema_constant == cfg.ema_constant &&
        c->percentile == cfg.percentile &&
        c->percentile_symmetric == cfg.percentile_symmetric &&
        c->mean_std_n == cfg.mean_std_n && c->kl_quant_bins == cfg.kl_quant_bins &&
        c->mse_scheme.symmetric == 0 && c->mse_scheme.dtype == QRT_QUINT8 &&
        c->mse_scheme.narrow_range == 1 && c->mse_scheme.reduce_range == 1 &&
        c->mse_scheme.pow2_scale == 1);
  CHECK(qrt_calib_table_find(u, -7) && qrt_calib_table_find(u, -7)->count == 0);
  CHECK(qrt_calib_table_find_name(u, "hand") == qrt_calib_table_get(u, 2));
  CHECK(qrt_calib_table_find(u, 1234) == NULL);
  CHECK(qrt_calib_table_find(u, 3)->nan_count == 4 && qrt_calib_table_find(u, 3)->inf_count == 4);
  /* Writing what was read gives the same bytes. */
  CHECK(qrt_calib_table_write(u, path("t2.json"), msg, sizeof msg) == QRT_OK);
  char *s1 = slurp(path("t.json")), *s2 = slurp(path("t2.json"));
  CHECK(s1 && s2 && strcmp(s1, s2) == 0);
  CHECK(s1 && strstr(s1, "\"percentile\": 99.9,") && strstr(s1, "\"ema_constant\": 0.1,"));
  CHECK(s1 && strstr(s1, "\"min\": -0.0,"));
  free(s1);
  free(s2);
  /* No temp files left behind; unwritable path is an I/O error. */
  CHECK(qrt_calib_table_write(t, path("no/such/dir/t.json"), msg, sizeof msg) == QRT_ERR_IO);
  CHECK(strstr(msg, "no/such/dir/t.json") != NULL);
  qrt_calib_table_destroy(t);
  qrt_calib_table_destroy(u);
  qrt_calib_table_destroy(NULL);
}

static const char *kHeader =
    "{\"format\": \"quant-opt-calibration-table\", \"version\": 1,\n"
    " \"params\": {\"num_bins\": 2048, \"ema_constant\": 0.01, \"percentile\": 99.99,\n"
    "   \"percentile_symmetric\": true, \"mean_std_n\": 3, \"kl_quant_bins\": 128,\n"
    "   \"mse_scheme\": {\"symmetric\": true, \"dtype\": \"int8\", \"narrow_range\": false,\n"
    "     \"reduce_range\": false, \"pow2_scale\": false}},\n"
    " \"tensors\": [\n";

/* A table with one tensor whose fields are `fields` (JSON members). */
static void writeTable(const char *name, const char *fields) {
  FILE *f = fopen(path(name), "w");
  fprintf(f, "%s {%s}\n]}\n", kHeader, fields);
  fclose(f);
}

#define GOOD_RANGES                                                            \
  "\"ranges\": {\"minmax\": [-1, 2], \"moving_avg\": [-1, 2], "               \
  "\"percentile\": [-1, 2], \"kl\": [-1, 2], \"mse\": [-1, 2], "              \
  "\"mean_std\": [-1, 2]}"
#define GOOD_HEAD "\"id\": 1, \"name\": \"x\", "
#define GOOD_COUNTS "\"count\": 5, \"nan_count\": 0, \"inf_count\": 0, "

static void expectBad(const char *fields, qrt_status_t want, const char *needle) {
  writeTable("bad.json", fields);
  qrt_calib_table_t *t = (qrt_calib_table_t *)&t;
  char msg[512] = "";
  qrt_status_t st = qrt_calib_table_read(path("bad.json"), &t, msg, sizeof msg);
  int ok = st == want && t == NULL && strstr(msg, needle) && strstr(msg, "bad.json");
  if (!ok)
    fprintf(stderr, "expectBad: status %d, msg '%s', want '%s'\n", (int)st, msg, needle);
  CHECK(ok);
  qrt_calib_table_destroy(t);
}

static void testTableErrors(void) {
  /* The template itself is valid. */
  writeTable("good.json", GOOD_HEAD "\"min\": -1, \"max\": 2, " GOOD_COUNTS GOOD_RANGES);
  qrt_calib_table_t *t = NULL;
  char msg[512] = "";
  CHECK(qrt_calib_table_read(path("good.json"), &t, msg, sizeof msg) == QRT_OK);
  CHECK(t && qrt_calib_table_size(t) == 1 && qrt_calib_table_get(t, 0)->max == 2.0f);
  qrt_calib_table_destroy(t);

  expectBad(GOOD_HEAD "\"min\": -1, " GOOD_COUNTS GOOD_RANGES, QRT_ERR_FORMAT,
            "tensors[0] (id 1, \"x\"): missing field \"max\"");
  expectBad(GOOD_HEAD "\"min\": \"abc\", \"max\": 2, " GOOD_COUNTS GOOD_RANGES,
            QRT_ERR_FORMAT, "\"min\" must be a number, not string");
  expectBad(GOOD_HEAD "\"min\": -1, \"max\": NaN, " GOOD_COUNTS GOOD_RANGES,
            QRT_ERR_FORMAT, "\"max\" is NaN, not a finite float32");
  expectBad(GOOD_HEAD "\"min\": -1, \"max\": 1e39, " GOOD_COUNTS GOOD_RANGES,
            QRT_ERR_FORMAT, "\"max\" is 1e39, not a finite float32");
  expectBad(GOOD_HEAD "\"min\": 3, \"max\": 2, " GOOD_COUNTS GOOD_RANGES,
            QRT_ERR_FORMAT, "min > max");
  expectBad(GOOD_HEAD "\"min\": -1, \"max\": 2, " GOOD_COUNTS
            "\"ranges\": {\"minmax\": [-1, 2], \"moving_avg\": [-1, 2], "
            "\"percentile\": [-1, 2], \"kl\": [3, 2], \"mse\": [-1, 2], "
            "\"mean_std\": [-1, 2]}",
            QRT_ERR_FORMAT, "\"ranges.kl\" has lo > hi");
  expectBad(GOOD_HEAD "\"min\": -1, \"max\": 2, " GOOD_COUNTS
            "\"ranges\": {\"minmax\": [-1, 2], \"moving_avg\": [-1, 2], "
            "\"percentile\": [-1, 2], \"kl\": [-1, 2], \"mean_std\": [-1, 2]}",
            QRT_ERR_FORMAT, "missing field \"ranges.mse\"");
  expectBad(GOOD_HEAD "\"min\": -1, \"max\": 2, " GOOD_COUNTS
            "\"ranges\": {\"minmax\": [-1], \"moving_avg\": [-1, 2], "
            "\"percentile\": [-1, 2], \"kl\": [-1, 2], \"mse\": [-1, 2], "
            "\"mean_std\": [-1, 2]}",
            QRT_ERR_FORMAT, "\"ranges.minmax\" must be an array [lo, hi]");
  expectBad(GOOD_HEAD "\"min\": -1, \"max\": 2, " GOOD_COUNTS
            "\"ranges\": {\"minmax\": [-1, 2], \"moving_avg\": [-1, true], "
            "\"percentile\": [-1, 2], \"kl\": [-1, 2], \"mse\": [-1, 2], "
            "\"mean_std\": [-1, 2]}",
            QRT_ERR_FORMAT, "\"ranges.moving_avg[1]\" must be a number, not boolean");
  expectBad(GOOD_HEAD "\"min\": -1, \"max\": 2, \"count\": -5, \"nan_count\": 0, "
            "\"inf_count\": 0, " GOOD_RANGES,
            QRT_ERR_FORMAT, "\"count\" is out of range");
  expectBad(GOOD_HEAD "\"min\": -1, \"max\": 2, \"count\": 5.5, \"nan_count\": 0, "
            "\"inf_count\": 0, " GOOD_RANGES,
            QRT_ERR_FORMAT, "\"count\" must be an integer, not double");
  expectBad("\"id\": 1, \"min\": -1, \"max\": 2, " GOOD_COUNTS GOOD_RANGES,
            QRT_ERR_FORMAT, "tensors[0]: missing field \"name\"");
  expectBad(GOOD_HEAD "\"min\": -1, \"max\": 2, " GOOD_COUNTS GOOD_RANGES
            "}, {" GOOD_HEAD "\"min\": -1, \"max\": 2, " GOOD_COUNTS GOOD_RANGES,
            QRT_ERR_FORMAT, "tensors[1] (id 1, \"x\"): duplicate id 1");

  /* Whole-file problems. */
  FILE *f = fopen(path("bad.json"), "w");
  fprintf(f, "{\"format\": \"quant-opt-calibration-table\",\n \"version\": 1,\n \"params\": {\n");
  fclose(f);
  msg[0] = 0;
  CHECK(qrt_calib_table_read(path("bad.json"), &t, msg, sizeof msg) == QRT_ERR_FORMAT);
  CHECK(strstr(msg, "invalid JSON") != NULL && t == NULL);
  f = fopen(path("bad.json"), "w");
  fprintf(f, "{\"format\": \"quant-opt-calibration-table\",\n \"version\": 1 2}");
  fclose(f);
  CHECK(qrt_calib_table_read(path("bad.json"), &t, msg, sizeof msg) == QRT_ERR_FORMAT);
  CHECK(strstr(msg, "bad.json:2:") != NULL);
  f = fopen(path("bad.json"), "w");
  fclose(f);
  CHECK(qrt_calib_table_read(path("bad.json"), &t, msg, sizeof msg) == QRT_ERR_FORMAT);
  CHECK(strstr(msg, "invalid JSON") != NULL);
  f = fopen(path("bad.json"), "w");
  fprintf(f, "{\"format\": \"quant-opt-calibration-table\", \"version\": 2}");
  fclose(f);
  CHECK(qrt_calib_table_read(path("bad.json"), &t, msg, sizeof msg) == QRT_ERR_FORMAT);
  CHECK(strstr(msg, "unsupported version 2 (this reader knows 1)") != NULL);
  f = fopen(path("bad.json"), "w");
  fprintf(f, "{\"format\": \"quant-opt-calibration-table\"} x");
  fclose(f);
  CHECK(qrt_calib_table_read(path("bad.json"), &t, msg, sizeof msg) == QRT_ERR_FORMAT);
  CHECK(strstr(msg, "trailing characters") != NULL);
  f = fopen(path("bad.json"), "w");
  fprintf(f, "[1, 2]");
  fclose(f);
  CHECK(qrt_calib_table_read(path("bad.json"), &t, msg, sizeof msg) == QRT_ERR_FORMAT);
  CHECK(strstr(msg, "top level must be an object") != NULL);
  f = fopen(path("bad.json"), "w");
  fprintf(f, "%s", kHeader);
  fclose(f);
  CHECK(qrt_calib_table_read(path("bad.json"), &t, msg, sizeof msg) == QRT_ERR_FORMAT);
  f = fopen(path("bad.json"), "w");
  fprintf(f, "{\"format\": \"quant-opt-calibration-table\", \"version\": 1, \"params\": "
             "{\"num_bins\": 1, \"ema_constant\": 0.01, \"percentile\": 99.99, "
             "\"percentile_symmetric\": true, \"mean_std_n\": 3, \"kl_quant_bins\": 128, "
             "\"mse_scheme\": {\"symmetric\": true, \"dtype\": \"int8\", \"narrow_range\": false, "
             "\"reduce_range\": false, \"pow2_scale\": false}}, \"tensors\": []}");
  fclose(f);
  CHECK(qrt_calib_table_read(path("bad.json"), &t, msg, sizeof msg) == QRT_ERR_FORMAT);
  CHECK(strstr(msg, "params: num_bins must be in [2, 1048576]") != NULL);
  CHECK(qrt_calib_table_read(path("missing.json"), &t, msg, sizeof msg) == QRT_ERR_IO);
  CHECK(strstr(msg, "missing.json") != NULL && strstr(msg, "No such file") != NULL);
}

/* The in-memory reader: the buffer need not be NUL-terminated, an embedded
 * NUL is an error at its position, messages use the given name. */
static void testTableBuffer(void) {
  static const char kGood[] =
      "{\"format\": \"quant-opt-calibration-table\", \"version\": 1, \"params\": "
      "{\"num_bins\": 2048, \"ema_constant\": 0.01, \"percentile\": 99.99, "
      "\"percentile_symmetric\": true, \"mean_std_n\": 3, \"kl_quant_bins\": 128, "
      "\"mse_scheme\": {\"symmetric\": true, \"dtype\": \"int8\", \"narrow_range\": false, "
      "\"reduce_range\": false, \"pow2_scale\": false}}, \"tensors\": [{\"id\": -3, "
      "\"name\": \"c\", \"min\": -1, \"max\": 2, \"count\": 5, \"nan_count\": 0, "
      "\"inf_count\": 0, " GOOD_RANGES "}]}";
  char buf[sizeof kGood + 8];
  memcpy(buf, kGood, sizeof kGood - 1);
  memset(buf + sizeof kGood - 1, 'x', 8); /* no NUL after the document */
  qrt_calib_table_t *t = NULL;
  char msg[512] = "";
  CHECK(qrt_calib_table_read_buffer(buf, sizeof kGood - 1, "mem.json", &t, msg, sizeof msg) ==
        QRT_OK);
  CHECK(t && qrt_calib_table_size(t) == 1 && qrt_calib_table_find(t, -3) &&
        qrt_calib_table_find(t, -3)->ranges[QRT_CALIB_KL][1] == 2.0f);
  qrt_calib_table_destroy(t);
  t = NULL;
  CHECK(qrt_calib_table_read_buffer(buf, sizeof kGood + 7, "mem.json", &t, msg, sizeof msg) ==
        QRT_ERR_FORMAT);
  CHECK(t == NULL && strcmp(msg, "mem.json: trailing characters after the JSON document") == 0);
  buf[20] = 0;
  CHECK(qrt_calib_table_read_buffer(buf, sizeof kGood - 1, "mem.json", &t, msg, sizeof msg) ==
        QRT_ERR_FORMAT);
  CHECK(t == NULL && strcmp(msg, "mem.json:1:22: invalid JSON: unexpected end of data") == 0);
  CHECK(qrt_calib_table_read_buffer("", 0, NULL, &t, msg, sizeof msg) == QRT_ERR_FORMAT);
  CHECK(strcmp(msg, "<buffer>:1:1: invalid JSON: unexpected end of data") == 0);
  char deep[4096];
  memset(deep, '[', sizeof deep);
  CHECK(qrt_calib_table_read_buffer(deep, sizeof deep, "deep.json", &t, msg, sizeof msg) ==
        QRT_ERR_FORMAT);
  CHECK(t == NULL && strstr(msg, "deep.json:1:") && strstr(msg, "invalid JSON"));
  CHECK(qrt_calib_table_read_buffer(NULL, 5, "x", &t, msg, sizeof msg) == QRT_ERR_ARG);
}

static void testApiArmour(void) {
  qrt_observer_t *o = NULL;
  qrt_calib_config_t cfg;
  qrt_calib_config_init(&cfg);
  cfg.num_bins = 1;
  CHECK(qrt_observer_create(&cfg, &o) == QRT_ERR_ARG && o == NULL);
  qrt_calib_config_init(&cfg);
  cfg.ema_constant = 0.0;
  CHECK(qrt_observer_create(&cfg, &o) == QRT_ERR_ARG);
  qrt_calib_config_init(&cfg);
  cfg.kl_quant_bins = 4096;
  char msg[128];
  CHECK(qrt_calib_config_validate(&cfg, msg, sizeof msg) == QRT_ERR_ARG);
  CHECK(strstr(msg, "kl_quant_bins") != NULL);
  CHECK(qrt_observer_create(NULL, NULL) == QRT_ERR_ARG);
  CHECK(qrt_observer_update(NULL, NULL, 0) == QRT_ERR_ARG);
  o = newObserver(NULL);
  CHECK(qrt_observer_update(o, NULL, 3) == QRT_ERR_ARG);
  float lo, hi;
  CHECK(qrt_observer_compute_range(o, (qrt_calib_method_t)99, &lo, &hi) == QRT_ERR_ARG);
  CHECK(qrt_observer_compute_range(o, QRT_CALIB_KL, NULL, &hi) == QRT_ERR_ARG);
  CHECK(qrt_observer_get_stats(o, NULL) == QRT_ERR_ARG);
  qrt_observer_destroy(o);
  qrt_observer_destroy(NULL);
  CHECK(strcmp(qrt_calib_method_name(QRT_CALIB_MEAN_STD), "mean_std") == 0);
  CHECK(qrt_calib_method_from_name("kl") == QRT_CALIB_KL);
  CHECK(qrt_calib_method_from_name("nope") == -1);
  CHECK(qrt_calib_table_create(NULL, NULL) == QRT_ERR_ARG);
  CHECK(qrt_calib_table_add(NULL, NULL) == QRT_ERR_ARG);
  CHECK(qrt_calib_table_size(NULL) == 0);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: qrt-calib-test <scratch-dir> [--expect-isa=<name>]\n");
    return 2;
  }
  snprintf(dir, sizeof dir, "%s", argv[1]);
  mkdir(dir, 0755);
  if (argc > 2 && strncmp(argv[2], "--expect-isa=", 13) == 0) {
    /* Checked before anything calls qrt_calib_set_isa. */
    const char *got = qrt_calib_isa_name(qrt_calib_get_isa());
    CHECK(strcmp(got, argv[2] + 13) == 0);
  }
  testMinMaxAndEma();
  testMeanStd();
  testNanInf();
  testHistogramRebin();
  testPercentileKnown();
  testConstantAndZero();
  testQParams();
  testPerChannel();
  testKernels();
  testDistributions();
  testTableRoundTrip();
  testTableErrors();
  testTableBuffer();
  testApiArmour();
  if (failures) {
    fprintf(stderr, "qrt-calib-test: %d check(s) failed\n", failures);
    return 1;
  }
  printf("qrt-calib-test: all checks passed\n");
  return 0;
}
