/* Calibration observers and methods.
 *
 * An observer streams batches of float32 values through the vector kernels
 * (calib_kernels.c) and keeps O(num_bins) state: counts, global and moving
 * average extremes, Welford moments of the per-batch extremes and the
 * power-of-two re-binned histogram described in qrt_calib.h. The six methods
 * are pure functions of that state, so one pass serves them all:
 *  - PERCENTILE interpolates linearly inside a bin (values assumed uniform in
 *    the bin, bin intervals clipped to [min, max]);
 *  - KL follows TensorRT's entropy calibration on the |x| histogram (folded
 *    exactly from the signed one, whose edges include 0);
 *  - MSE integrates the squared quantization + clipping error of the exact
 *    grid qrt_choose_qparams gives for each candidate range, bins assumed
 *    uniform; symmetric schemes scan thresholds t = k * w, affine ones shrink
 *    [lo, hi] greedily bin by bin from both ends keeping the best range. */
#include "calib_ukernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QRT_MAX_BINS (1 << 20)
#define KL_EPS 1e-4

struct qrt_observer {
  qrt_calib_config_t cfg;
  uint64_t count, nan_count, inf_count, num_batches;
  float min, max;
  double ema_min, ema_max;
  double bmin_mean, bmin_m2, bmax_mean, bmax_m2; /* Welford */
  /* Histogram: bin i covers [(first + i) * width, (first + i + 1) * width). */
  int placed;             /* 0 while every finite value seen was 0 */
  uint64_t pending_zeros; /* zeros seen before placement */
  double width, first;
  uint64_t *bins, *scratch; /* num_bins each; scratch for re-binning */
};

/* ---- configuration ------------------------------------------------------ */

void qrt_calib_config_init(qrt_calib_config_t *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->num_bins = 2048;
  cfg->ema_constant = 0.01;
  cfg->percentile = 99.99;
  cfg->percentile_symmetric = 1;
  cfg->mean_std_n = 3.0;
  cfg->kl_quant_bins = 128;
  cfg->mse_scheme.symmetric = 1;
  cfg->mse_scheme.dtype = QRT_QINT8;
}

static qrt_status_t bad(char *msg, size_t len, const char *what) {
  if (msg && len) snprintf(msg, len, "%s", what);
  return QRT_ERR_ARG;
}

qrt_status_t qrt_calib_config_validate(const qrt_calib_config_t *c, char *msg,
                                       size_t len) {
  if (!c) return bad(msg, len, "config is NULL");
  if (c->num_bins < 2 || c->num_bins > QRT_MAX_BINS)
    return bad(msg, len, "num_bins must be in [2, 1048576]");
  if (!(c->ema_constant > 0.0 && c->ema_constant <= 1.0))
    return bad(msg, len, "ema_constant must be in (0, 1]");
  if (!(c->percentile > 50.0 && c->percentile <= 100.0))
    return bad(msg, len, "percentile must be in (50, 100]");
  if (c->percentile_symmetric != 0 && c->percentile_symmetric != 1)
    return bad(msg, len, "percentile_symmetric must be 0 or 1");
  if (!(c->mean_std_n >= 0.0) || !isfinite(c->mean_std_n))
    return bad(msg, len, "mean_std_n must be finite and >= 0");
  if (c->kl_quant_bins < 2 || c->kl_quant_bins > c->num_bins)
    return bad(msg, len, "kl_quant_bins must be in [2, num_bins]");
  if (qrt_qscheme_quant_range(&c->mse_scheme, NULL, NULL) != QRT_OK)
    return bad(msg, len, "mse_scheme has an unknown dtype");
  return QRT_OK;
}

static const char *const kMethodNames[QRT_CALIB_METHOD_COUNT] = {
    "minmax", "moving_avg", "percentile", "kl", "mse", "mean_std"};

const char *qrt_calib_method_name(qrt_calib_method_t m) {
  return (unsigned)m < QRT_CALIB_METHOD_COUNT ? kMethodNames[m] : "?";
}

int qrt_calib_method_from_name(const char *name) {
  for (int i = 0; name && i < QRT_CALIB_METHOD_COUNT; ++i)
    if (strcmp(name, kMethodNames[i]) == 0) return i;
  return -1;
}

/* ---- observer ------------------------------------------------------------ */

qrt_status_t qrt_observer_create(const qrt_calib_config_t *cfg,
                                 qrt_observer_t **out) {
  if (!out) return QRT_ERR_ARG;
  *out = NULL;
  qrt_calib_config_t def;
  if (!cfg) {
    qrt_calib_config_init(&def);
    cfg = &def;
  }
  if (qrt_calib_config_validate(cfg, NULL, 0) != QRT_OK) return QRT_ERR_ARG;
  qrt_observer_t *o = calloc(1, sizeof *o);
  if (!o) return QRT_ERR_NOMEM;
  o->cfg = *cfg;
  o->bins = calloc((size_t)cfg->num_bins, sizeof *o->bins);
  o->scratch = calloc((size_t)cfg->num_bins, sizeof *o->scratch);
  if (!o->bins || !o->scratch) {
    qrt_observer_destroy(o);
    return QRT_ERR_NOMEM;
  }
  *out = o;
  return QRT_OK;
}

void qrt_observer_destroy(qrt_observer_t *o) {
  if (!o) return;
  free(o->bins);
  free(o->scratch);
  free(o);
}

/* Sets *first so that the lattice window [first, first + B) at width w holds
 * [lo, hi] strictly (hi is inside the last bin, not on its upper edge, so no
 * value is ever clamped); returns 0 if B bins are not enough. */
static int place(double lo, double hi, double w, size_t nbins, double *first) {
  double l = floor(lo / w), h = floor(hi / w) + 1.0;
  if (h - l > (double)nbins) return 0;
  *first = l;
  return 1;
}

static size_t clamp_bin(double u, size_t nbins) {
  if (!(u > 0.0)) return 0;
  if (u >= (double)(nbins - 1)) return nbins - 1;
  return (size_t)u;
}

/* Makes the histogram window cover [lo, hi] (lo <= 0 <= hi, lo < hi): the
 * first placement, a shift, or a growth by 2^k merging bins exactly. */
static void cover(qrt_observer_t *o, double lo, double hi) {
  size_t nb = (size_t)o->cfg.num_bins;
  if (!o->placed) {
    /* The narrowest bins that fit: w = span / d for d = B, B - 1, ...; d = B - 2
     * always fits (the data may straddle two partial bins), d = 1 when B = 2. */
    double w = 0.0;
    for (size_t d = nb; d >= 1 && w == 0.0; --d) {
      double t = (hi - lo) / (double)d;
      if (t > 0.0 && place(lo, hi, t, nb, &o->first)) w = t;
    }
    if (w == 0.0) /* not reached; a safe fallback anyway */
      for (w = hi - lo; !place(lo, hi, w, nb, &o->first);) w *= 2.0;
    o->width = w;
    o->placed = 1;
    o->bins[clamp_bin(0.0 - o->first, nb)] += o->pending_zeros;
    o->pending_zeros = 0;
    return;
  }
  if (floor(lo / o->width) >= o->first &&
      floor(hi / o->width) < o->first + (double)nb)
    return;
  int k = 0;
  double w2 = o->width, f2 = o->first;
  for (; k < 4096; ++k) {
    w2 = ldexp(o->width, k);
    if (place(lo, hi, w2, nb, &f2)) break;
  }
  memset(o->scratch, 0, nb * sizeof *o->scratch);
  for (size_t i = 0; i < nb; ++i) {
    if (!o->bins[i]) continue;
    double u = floor(ldexp(o->first + (double)i, -k)); /* exact: integer / 2^k */
    o->scratch[clamp_bin(u - f2, nb)] += o->bins[i];
  }
  uint64_t *t = o->bins;
  o->bins = o->scratch;
  o->scratch = t;
  o->width = w2;
  o->first = f2;
}

static void welford(double *mean, double *m2, double x, uint64_t n) {
  double d = x - *mean;
  *mean += d / (double)n;
  *m2 += d * (x - *mean);
}

qrt_status_t qrt_observer_update(qrt_observer_t *o, const float *data,
                                 size_t n) {
  if (!o || (n && !data)) return QRT_ERR_ARG;
  qrt_minmax_t mm;
  qrt_calib_minmax_ukernel()(data, n, &mm);
  o->nan_count += mm.nan_count;
  o->inf_count += mm.inf_count;
  if (mm.count == 0) return QRT_OK;
  double c = o->cfg.ema_constant;
  if (o->count == 0) {
    o->min = mm.min;
    o->max = mm.max;
    o->ema_min = mm.min;
    o->ema_max = mm.max;
  } else {
    o->min = mm.min < o->min ? mm.min : o->min;
    o->max = mm.max > o->max ? mm.max : o->max;
    o->ema_min += c * ((double)mm.min - o->ema_min);
    o->ema_max += c * ((double)mm.max - o->ema_max);
  }
  o->count += mm.count;
  o->num_batches += 1;
  welford(&o->bmin_mean, &o->bmin_m2, mm.min, o->num_batches);
  welford(&o->bmax_mean, &o->bmax_m2, mm.max, o->num_batches);

  double lo = o->min < 0.0f ? (double)o->min : 0.0;
  double hi = o->max > 0.0f ? (double)o->max : 0.0;
  if (lo == hi) { /* only zeros so far: nothing to place the bins on */
    o->pending_zeros += mm.count;
    return QRT_OK;
  }
  cover(o, lo, hi);
  qrt_calib_histogram_ukernel()(data, n, o->width, o->first, o->bins,
                                (size_t)o->cfg.num_bins);
  return QRT_OK;
}

qrt_status_t qrt_observer_get_stats(const qrt_observer_t *o,
                                    qrt_observer_stats_t *s) {
  if (!o || !s) return QRT_ERR_ARG;
  memset(s, 0, sizeof *s);
  s->count = o->count;
  s->nan_count = o->nan_count;
  s->inf_count = o->inf_count;
  s->num_batches = o->num_batches;
  if (o->count == 0) return QRT_OK;
  double nb = (double)o->num_batches;
  s->min = o->min;
  s->max = o->max;
  s->ema_min = o->ema_min;
  s->ema_max = o->ema_max;
  s->batch_min_mean = o->bmin_mean;
  s->batch_max_mean = o->bmax_mean;
  s->batch_min_std = sqrt(o->bmin_m2 > 0.0 ? o->bmin_m2 / nb : 0.0);
  s->batch_max_std = sqrt(o->bmax_m2 > 0.0 ? o->bmax_m2 / nb : 0.0);
  return QRT_OK;
}

qrt_status_t qrt_observer_get_histogram(const qrt_observer_t *o,
                                        const uint64_t **counts,
                                        size_t *num_bins, double *width,
                                        double *first) {
  if (!o) return QRT_ERR_ARG;
  if (counts) *counts = o->placed ? o->bins : NULL;
  if (num_bins) *num_bins = (size_t)o->cfg.num_bins;
  if (width) *width = o->placed ? o->width : 0.0;
  if (first) *first = o->placed ? o->first : 0.0;
  return QRT_OK;
}

/* ---- methods ------------------------------------------------------------- */

/* The histogram as bins with their value intervals clipped to [min, max]
 * (the |x| histogram clipped to [0, max|x|]), for the histogram methods. */
typedef struct view {
  const uint64_t *c;
  size_t n;
  double w, first, lo, hi, total;
} view_t;

static void bin_interval(const view_t *v, size_t i, double *a, double *b) {
  double l = (v->first + (double)i) * v->w, h = l + v->w;
  *a = l < v->lo ? v->lo : l > v->hi ? v->hi : l;
  *b = h > v->hi ? v->hi : h < v->lo ? v->lo : h;
}

/* The value below which `rank` of the view's counts lie. */
static double quantile(const view_t *v, double rank) {
  double cum = 0.0;
  for (size_t i = 0; i < v->n; ++i) {
    if (!v->c[i]) continue;
    double ci = (double)v->c[i];
    if (cum + ci >= rank) {
      double a, b, f = (rank - cum) / ci;
      bin_interval(v, i, &a, &b);
      f = f < 0.0 ? 0.0 : f > 1.0 ? 1.0 : f;
      return a + (b - a) * f;
    }
    cum += ci;
  }
  return v->hi;
}

/* Folds the signed histogram into |x| bins [j w, (j + 1) w) (exact: 0 is a
 * bin edge); returns the number of |x| bins. */
static size_t fold_abs(const qrt_observer_t *o, uint64_t *abs) {
  size_t nb = (size_t)o->cfg.num_bins;
  double top = o->first + (double)nb;
  size_t na = (size_t)(top > -o->first ? top : -o->first);
  memset(abs, 0, na * sizeof *abs);
  for (size_t i = 0; i < nb; ++i) {
    double u = o->first + (double)i;
    size_t j = (size_t)(u >= 0.0 ? u : -u - 1.0);
    abs[j] += o->bins[i];
  }
  return na;
}

/* TensorRT-style entropy calibration over the |x| histogram `a` (n bins of
 * width w): for every candidate i >= q bins, P = a[0..i) with the outliers
 * a[i..) added to its last bin; Q = a[0..i) merged into q groups (bin b in
 * group b * q / i) and expanded back evenly over the bins where P != 0;
 * Q's empty bins where P > 0 get KL_EPS (Q rescaled to keep sum 1); the
 * threshold is i * w for the i with the smallest KL(P || Q), the largest
 * such i on ties. Returns the number of bins of the threshold in *best_i. */
static qrt_status_t kl_threshold(uint64_t *a, size_t n, size_t q,
                                 size_t *best_i) {
  size_t used = 0;
  for (size_t j = 0; j < n; ++j)
    if (a[j]) used = j + 1;
  /* The spike of exact zeros (ReLU outputs) would force the first group to
   * stay one bin wide; like NVIDIA's pytorch-quantization, replace bin 0 by
   * bin 1 (a is the caller's scratch copy). */
  if (n > 1) a[0] = a[1];
  *best_i = used;
  if (used <= q) return QRT_OK;
  double *qsum = malloc(q * sizeof *qsum);
  size_t *qnz = malloc(q * sizeof *qnz);
  double *suffix = malloc((used + 1) * sizeof *suffix);
  if (!qsum || !qnz || !suffix) {
    free(qsum); free(qnz); free(suffix);
    return QRT_ERR_NOMEM;
  }
  suffix[used] = 0.0;
  for (size_t j = used; j-- > 0;) suffix[j] = suffix[j + 1] + (double)a[j];
  double total = suffix[0], best = INFINITY;
  for (size_t i = q; i <= used; ++i) {
    double outliers = suffix[i], inside = total - outliers;
    if (!(inside > 0.0)) continue;
    memset(qsum, 0, q * sizeof *qsum);
    memset(qnz, 0, q * sizeof *qnz);
    for (size_t b = 0; b < i; ++b) {
      size_t g = b * q / i;
      qsum[g] += (double)a[b];
      double p = (double)a[b] + (b == i - 1 ? outliers : 0.0);
      if (p > 0.0) qnz[g]++;
    }
    /* Q's zeros where P > 0 (only possible in the outlier bin's group). */
    size_t zeros = 0;
    for (size_t g = 0; g < q; ++g)
      if (qnz[g] && qsum[g] == 0.0) zeros += qnz[g];
    double eps = KL_EPS, keep = 1.0 - (double)zeros * eps;
    if (keep < 0.5) { eps = 0.5 / (double)zeros; keep = 0.5; }
    double kl = 0.0;
    for (size_t b = 0; b < i; ++b) {
      double p = (double)a[b] + (b == i - 1 ? outliers : 0.0);
      if (!(p > 0.0)) continue;
      size_t g = b * q / i;
      double qb = qsum[g] / (double)qnz[g] / inside * keep;
      if (qb == 0.0) qb = eps;
      p /= total;
      kl += p * log(p / qb);
    }
    if (kl <= best) {
      best = kl;
      *best_i = i;
    }
  }
  free(qsum);
  free(qnz);
  free(suffix);
  return QRT_OK;
}

/* ---- MSE ----------------------------------------------------------------- */

typedef struct grid {
  double s, qlo, qhi; /* step, lowest and highest representable value */
} grid_t;

static double cube(double x) { return x * x * x; }

/* Integral of e(u)^2 from -s/2 to x, e(u) = u - s * round(u / s). */
static double saw(double x, double s) {
  double k = floor(x / s + 0.5), r = x - k * s;
  return k * cube(s) / 12.0 + (cube(r) + cube(s) / 8.0) / 3.0;
}

/* Mean squared error of grid g over values uniform in [a, b] (or at a). */
static double mean_err(double a, double b, const grid_t *g) {
  if (b <= a) {
    double e = a < g->qlo ? a - g->qlo : a > g->qhi ? a - g->qhi
                                       : a - g->s * floor(a / g->s + 0.5);
    return e * e;
  }
  double sum = 0.0;
  if (a < g->qlo) {
    double b1 = b < g->qlo ? b : g->qlo;
    sum += (cube(g->qlo - a) - cube(g->qlo - b1)) / 3.0;
  }
  if (b > g->qhi) {
    double a1 = a > g->qhi ? a : g->qhi;
    sum += (cube(b - g->qhi) - cube(a1 - g->qhi)) / 3.0;
  }
  double ma = a > g->qlo ? a : g->qlo, mb = b < g->qhi ? b : g->qhi;
  if (mb > ma) sum += saw(mb, g->s) - saw(ma, g->s);
  return sum / (b - a);
}

typedef struct mse_ctx {
  const qrt_qscheme_t *scheme;
  size_t n;            /* non-empty bins */
  double *a, *b, *cnt; /* their clipped intervals and counts */
} mse_ctx_t;

/* Expected total squared error of quantizing with the grid of [lo, hi]. */
static double mse_of(const mse_ctx_t *m, double lo, double hi) {
  qrt_qparams_t qp;
  if (qrt_choose_qparams((float)lo, (float)hi, m->scheme, &qp) != QRT_OK)
    return INFINITY;
  grid_t g = {qp.scale, (double)(qp.quant_min - qp.zero_point) * qp.scale,
              (double)(qp.quant_max - qp.zero_point) * qp.scale};
  double e = 0.0;
  for (size_t i = 0; i < m->n; ++i) e += m->cnt[i] * mean_err(m->a[i], m->b[i], &g);
  return e;
}

static qrt_status_t mse_range(const qrt_observer_t *o, const view_t *v,
                              double *lo, double *hi) {
  mse_ctx_t m = {&o->cfg.mse_scheme, 0, NULL, NULL, NULL};
  m.a = malloc(v->n * sizeof *m.a);
  m.b = malloc(v->n * sizeof *m.b);
  m.cnt = malloc(v->n * sizeof *m.cnt);
  if (!m.a || !m.b || !m.cnt) {
    free(m.a); free(m.b); free(m.cnt);
    return QRT_ERR_NOMEM;
  }
  size_t l = v->n, h = 0; /* non-empty bins are [l, h) */
  for (size_t i = 0; i < v->n; ++i) {
    if (!v->c[i]) continue;
    bin_interval(v, i, &m.a[m.n], &m.b[m.n]);
    m.cnt[m.n++] = (double)v->c[i];
    if (i < l) l = i;
    h = i + 1;
  }
  double gmin = v->lo, gmax = v->hi;
  *lo = gmin;
  *hi = gmax;
  double best = mse_of(&m, gmin, gmax);
  if (m.scheme->symmetric) {
    double amax = -gmin > gmax ? -gmin : gmax;
    for (double k = 1.0;; k += 1.0) {
      double t = k * v->w < amax ? k * v->w : amax;
      double cl = -t > gmin ? -t : gmin, ch = t < gmax ? t : gmax;
      double e = mse_of(&m, cl, ch);
      if (e < best) {
        best = e;
        *lo = cl;
        *hi = ch;
      }
      if (t >= amax) break;
    }
  } else {
    /* Greedy: move whichever end lowers the error more, keep the best. */
    while (h - l > 1) {
      double a1, b1, a2, b2;
      bin_interval(v, l + 1, &a1, &b1);
      bin_interval(v, h - 1, &a2, &b2);
      double hi_now = (v->first + (double)h) * v->w;
      double lo_now = (v->first + (double)l) * v->w;
      hi_now = hi_now < gmax ? hi_now : gmax;
      lo_now = lo_now > gmin ? lo_now : gmin;
      double e1 = mse_of(&m, a1, hi_now), e2 = mse_of(&m, lo_now, b2);
      double e;
      if (e1 < e2) { ++l; e = e1; } else { --h; e = e2; }
      if (e < best) {
        best = e;
        *lo = e1 < e2 ? a1 : lo_now;
        *hi = e1 < e2 ? hi_now : b2;
      }
    }
  }
  free(m.a); free(m.b); free(m.cnt);
  return QRT_OK;
}

/* [-t, t] intersected with [min, max]. */
static void symmetric_range(const qrt_observer_t *o, double t, double *lo,
                            double *hi) {
  *lo = -t > o->min ? -t : o->min;
  *hi = t < o->max ? t : o->max;
}

qrt_status_t qrt_observer_compute_range(const qrt_observer_t *o,
                                        qrt_calib_method_t m, float *flo,
                                        float *fhi) {
  if (!o || !flo || !fhi || (unsigned)m >= QRT_CALIB_METHOD_COUNT)
    return QRT_ERR_ARG;
  if (o->count == 0) {
    *flo = *fhi = 0.0f;
    return QRT_OK;
  }
  double lo = o->min, hi = o->max;
  double amax = -lo > hi ? -lo : hi;
  size_t nb = (size_t)o->cfg.num_bins;
  view_t v = {o->bins, nb, o->width, o->first, o->min, o->max, (double)o->count};
  uint64_t *abs = NULL;
  qrt_status_t st = QRT_OK;
  int hist = m == QRT_CALIB_PERCENTILE || m == QRT_CALIB_KL || m == QRT_CALIB_MSE;
  if (hist && !o->placed) m = QRT_CALIB_MINMAX; /* all zeros: [0, 0] */
  switch (m) {
  case QRT_CALIB_MINMAX:
    break;
  case QRT_CALIB_MOVING_AVG:
    lo = o->ema_min;
    hi = o->ema_max;
    break;
  case QRT_CALIB_MEAN_STD: {
    double nbat = (double)o->num_batches, n = o->cfg.mean_std_n;
    lo = o->bmin_mean - n * sqrt(o->bmin_m2 > 0.0 ? o->bmin_m2 / nbat : 0.0);
    hi = o->bmax_mean + n * sqrt(o->bmax_m2 > 0.0 ? o->bmax_m2 / nbat : 0.0);
    break;
  }
  case QRT_CALIB_PERCENTILE: {
    double p = o->cfg.percentile / 100.0;
    if (!o->cfg.percentile_symmetric) {
      lo = quantile(&v, (1.0 - p) * v.total);
      hi = quantile(&v, p * v.total);
      break;
    }
    if (!(abs = malloc(nb * sizeof *abs))) return QRT_ERR_NOMEM;
    /* |x| >= min|x|: 0 unless the data has one sign. */
    double amin = lo > 0.0 ? lo : hi < 0.0 ? -hi : 0.0;
    view_t av = {abs, fold_abs(o, abs), o->width, 0.0, amin, amax, v.total};
    symmetric_range(o, quantile(&av, p * v.total), &lo, &hi);
    break;
  }
  case QRT_CALIB_KL: {
    if (!(abs = malloc(nb * sizeof *abs))) return QRT_ERR_NOMEM;
    size_t na = fold_abs(o, abs), bins;
    st = kl_threshold(abs, na, (size_t)o->cfg.kl_quant_bins, &bins);
    double t = (double)bins * o->width;
    symmetric_range(o, t < amax ? t : amax, &lo, &hi);
    break;
  }
  case QRT_CALIB_MSE:
    st = mse_range(o, &v, &lo, &hi);
    break;
  default:
    return QRT_ERR_ARG;
  }
  free(abs);
  if (st != QRT_OK) return st;
  float l = (float)lo, h = (float)hi;
  l = l < o->min ? o->min : l > o->max ? o->max : l;
  h = h > o->max ? o->max : h < o->min ? o->min : h;
  if (l > h) l = h;
  *flo = l;
  *fhi = h;
  return QRT_OK;
}
