/* quant-opt calibration runtime (qrt_calib): plain C11, no MLIR headers.
 *
 * Observers instrumented float models call once per batch and per observed
 * tensor. One streaming statistics pass with bounded memory (O(num_bins) per
 * tensor, never per value) serves every calibration method; the methods turn
 * the statistics into a float range [lo, hi], qrt_choose_qparams turns a range
 * into (scale, zero_point), and the calibration table stores the ranges in an
 * editable JSON file (docs/calibration-table.md).
 *
 * Statistics kept per observer (qrt_observer_t):
 *  - count of finite values, NaN and +/-Inf counts (non-finite values are
 *    skipped, never enter any statistic);
 *  - global min/max of the finite values;
 *  - exponential moving average of per-batch min/max (the first batch
 *    initializes; then ema += c * (batch - ema), like PyTorch's
 *    MovingAverageMinMaxObserver);
 *  - mean and variance (Welford) of the per-batch minima and maxima;
 *  - a histogram of num_bins bins on a lattice through 0: bin i covers
 *    [(first + i) * w, (first + i + 1) * w) for an integer `first`; the last
 *    bin is closed. The covered range always contains 0 (every quantized range
 *    does). When a batch widens the range, w is multiplied by the smallest
 *    power of two 2^k that makes [min(lo, 0), max(hi, 0)] fit, and each old
 *    bin is added to the new bin that contains it (new edges are a subset of
 *    the old ones, so no count is lost or split, and since x / (w * 2^k) ==
 *    (x / w) / 2^k exactly in binary floating point a merged value sits in the
 *    bin it would have been put in directly). If the data still fits at the
 *    same w the window only shifts. Cost: after a growth the data may use only
 *    half of the bins.
 *
 * Observers are not thread-safe; use one per thread and tensor. */
#ifndef QUANT_OPT_QRT_CALIB_H
#define QUANT_OPT_QRT_CALIB_H

#include "quant-opt/qrt.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- quantization parameters -------------------------------------------- */

typedef enum qrt_qdtype { QRT_QINT8 = 0, QRT_QUINT8 = 1 } qrt_qdtype_t;

/* Storage ranges: int8 [-128, 127], uint8 [0, 255]; narrow_range raises the
 * minimum by one (int8 [-127, 127], uint8 [1, 255]); reduce_range halves both
 * ends as PyTorch does (int8 [-64, 63], uint8 [0, 127]; with narrow_range
 * int8 [-63, 63], uint8 [1, 127]). */
typedef struct qrt_qscheme {
  int symmetric;       /* 1: zero point fixed (0 for int8, mid-range for uint8) */
  qrt_qdtype_t dtype;
  int narrow_range;
  int reduce_range;
  int pow2_scale;      /* round the scale UP to the next power of two */
} qrt_qscheme_t;

typedef struct qrt_qparams {
  float scale;         /* > 0, finite, >= FLT_MIN */
  int32_t zero_point;  /* in [quant_min, quant_max] */
  int32_t quant_min, quant_max;
} qrt_qparams_t;

/* Computes the storage range of `scheme`; QRT_ERR_ARG for a bad scheme. */
qrt_status_t qrt_qscheme_quant_range(const qrt_qscheme_t *scheme,
                                     int32_t *quant_min, int32_t *quant_max);

/* Chooses (scale, zero_point) for the float range [lo, hi] under `scheme`.
 * The range is first widened to contain 0. Affine: scale = (hi - lo) /
 * (qmax - qmin), zero_point = qmin - round(lo / scale) (ties to even, as
 * torch.round) clamped to [qmin, qmax]. Symmetric: zero_point = 0 (int8) or
 * (qmin + qmax + 1) / 2 (uint8), scale = max(-lo, hi) / min(qmax - zp,
 * zp - qmin). A zero-width range (all-zero or never-seen tensor) gets scale
 * 1.0; any scale below FLT_MIN is raised to FLT_MIN so 1/scale stays finite;
 * pow2_scale then rounds up to a power of two and the affine zero point is
 * recomputed. NaN/Inf bounds, lo > hi or a bad scheme: QRT_ERR_ARG, *out
 * untouched. */
qrt_status_t qrt_choose_qparams(float lo, float hi, const qrt_qscheme_t *scheme,
                                qrt_qparams_t *out);

/* Per-channel symmetric weight qparams of the dense row-major array `w`
 * (rank dims) along `axis`: channel c gets qrt_choose_qparams(-amax_c,
 * amax_c) with scheme->symmetric forced to 1; `scales` and `zero_points`
 * (either may be NULL) are caller arrays of dims[axis] entries. NaN/Inf
 * weights or bad shapes: QRT_ERR_ARG. */
qrt_status_t qrt_per_channel_symmetric_qparams(const float *w, int rank,
                                               const int64_t *dims, int axis,
                                               const qrt_qscheme_t *scheme,
                                               float *scales,
                                               int32_t *zero_points);

/* ---- calibration configuration ----------------------------------------- */

typedef enum qrt_calib_method {
  QRT_CALIB_MINMAX = 0,  /* [global min, global max] */
  QRT_CALIB_MOVING_AVG,  /* [EMA of batch minima, EMA of batch maxima] */
  QRT_CALIB_PERCENTILE,  /* percentile of |x| (symmetric) or both tails */
  QRT_CALIB_KL,          /* TensorRT-style entropy calibration on |x| */
  QRT_CALIB_MSE,         /* minimal expected quantization + clipping MSE */
  QRT_CALIB_MEAN_STD,    /* mean -/+ n*std of batch minima/maxima (Distiller) */
  QRT_CALIB_METHOD_COUNT
} qrt_calib_method_t;

typedef struct qrt_calib_config {
  int num_bins;              /* histogram bins, 2..1<<20; default 2048 */
  double ema_constant;       /* EMA averaging constant in (0, 1]; default 0.01 */
  double percentile;         /* in (50, 100]; default 99.99 */
  int percentile_symmetric;  /* 1 (default): |x| percentile, [-t, t] (or
                                [0, t] / [-t, 0] for one-signed data);
                                0: lower and upper tail separately */
  double mean_std_n;         /* n of MEAN_STD, >= 0; default 3 */
  int kl_quant_bins;         /* KL quantized bins, 2..num_bins; default 128 */
  qrt_qscheme_t mse_scheme;  /* grid MSE minimizes the error for; default
                                symmetric int8 (full range) */
} qrt_calib_config_t;

/* Fills `cfg` with the defaults listed above. */
void qrt_calib_config_init(qrt_calib_config_t *cfg);

/* Checks every field of `cfg`; QRT_ERR_ARG (and a message) when one is out
 * of range. */
qrt_status_t qrt_calib_config_validate(const qrt_calib_config_t *cfg,
                                       char *msg, size_t msglen);

/* Returns the table key of a method ("minmax", "moving_avg", "percentile",
 * "kl", "mse", "mean_std"), or "?" for an unknown value. */
const char *qrt_calib_method_name(qrt_calib_method_t m);

/* Returns the method whose table key is `name`, or -1. */
int qrt_calib_method_from_name(const char *name);

/* ---- observers ----------------------------------------------------------- */

typedef struct qrt_observer qrt_observer_t;

/* Creates an observer (caller owns it; free with qrt_observer_destroy).
 * `cfg` NULL means defaults; the config is copied. QRT_ERR_ARG for an invalid
 * config, QRT_ERR_NOMEM. */
qrt_status_t qrt_observer_create(const qrt_calib_config_t *cfg,
                                 qrt_observer_t **out);

/* Frees an observer; NULL is a no-op. */
void qrt_observer_destroy(qrt_observer_t *obs);

/* Adds one batch of n float32 values (n may be 0; data may be NULL iff n is
 * 0). A batch without any finite value updates only the NaN/Inf counts. */
qrt_status_t qrt_observer_update(qrt_observer_t *obs, const float *data,
                                 size_t n);

typedef struct qrt_observer_stats {
  uint64_t count;       /* finite values seen */
  uint64_t nan_count;
  uint64_t inf_count;   /* +Inf and -Inf */
  uint64_t num_batches; /* batches with at least one finite value */
  float min, max;       /* global; 0, 0 while count == 0 */
  double ema_min, ema_max;
  double batch_min_mean, batch_min_std; /* population std over batches */
  double batch_max_mean, batch_max_std;
} qrt_observer_stats_t;

/* Copies the observer's scalar statistics into *out. */
qrt_status_t qrt_observer_get_stats(const qrt_observer_t *obs,
                                    qrt_observer_stats_t *out);

/* Borrows the histogram: *counts (num_bins entries, valid until the next
 * update or destroy), bin i covering [(first + i) * width, (first + i + 1) *
 * width). While no non-zero value has been seen the histogram is not placed
 * yet: *counts is NULL, *width 0 and all values seen so far were zeros. */
qrt_status_t qrt_observer_get_histogram(const qrt_observer_t *obs,
                                        const uint64_t **counts,
                                        size_t *num_bins, double *width,
                                        double *first);

/* Computes the range method `m` picks from the statistics into *lo <= *hi
 * (both within [min, max]); an observer that has seen no finite value (check
 * stats.count) yields [0, 0]. QRT_ERR_NOMEM: KL/MSE use O(num_bins) scratch. */
qrt_status_t qrt_observer_compute_range(const qrt_observer_t *obs,
                                        qrt_calib_method_t m, float *lo,
                                        float *hi);

/* ---- vector kernels (selected once per process from cpuid) --------------- */

typedef enum qrt_calib_isa {
  QRT_CALIB_ISA_SCALAR = 0, /* portable C; the reference */
  QRT_CALIB_ISA_AVX2 = 1,
  QRT_CALIB_ISA_AVX512 = 2, /* AVX-512F */
} qrt_calib_isa_t;

/* Returns the ISA the kernels use: on first use the best one the CPU and OS
 * support, or SCALAR when the environment has QRT_FORCE_SCALAR=1. */
qrt_calib_isa_t qrt_calib_get_isa(void);

/* Selects the kernels' ISA for the whole process; QRT_ERR_ARG if this CPU
 * (or build) cannot run it. */
qrt_status_t qrt_calib_set_isa(qrt_calib_isa_t isa);

/* Returns 1 if `isa` can run here. */
int qrt_calib_isa_supported(qrt_calib_isa_t isa);

/* Returns "scalar", "avx2", "avx512" or "?". */
const char *qrt_calib_isa_name(qrt_calib_isa_t isa);

typedef struct qrt_minmax {
  float min, max;      /* over finite values; +Inf/-Inf if there are none;
                          a zero result is always +0.0 */
  uint64_t count;      /* finite values */
  uint64_t nan_count, inf_count;
} qrt_minmax_t;

/* Scans x[0..n) with the selected kernel into *out. */
qrt_status_t qrt_f32_minmax(const float *x, size_t n, qrt_minmax_t *out);

/* Adds every finite x[i] to counts[clamp(floor(x[i] / width) - first, 0,
 * num_bins - 1)] with the selected kernel (the division is done in double);
 * width must be finite and > 0, first an integer. */
qrt_status_t qrt_f32_histogram_accumulate(const float *x, size_t n,
                                          double width, double first,
                                          uint64_t *counts, size_t num_bins);

/* ---- calibration table (JSON, docs/calibration-table.md) ----------------- */

typedef struct qrt_calib_entry {
  int64_t id;
  char *name;          /* owned by the table */
  float min, max;
  uint64_t count, nan_count, inf_count;
  float ranges[QRT_CALIB_METHOD_COUNT][2]; /* [method][0 = lo, 1 = hi] */
} qrt_calib_entry_t;

typedef struct qrt_calib_table qrt_calib_table_t;

/* Creates an empty table recording `cfg` (NULL: defaults) as its parameters;
 * caller owns it (qrt_calib_table_destroy). */
qrt_status_t qrt_calib_table_create(const qrt_calib_config_t *cfg,
                                    qrt_calib_table_t **out);

/* Frees a table and its entries; NULL is a no-op. */
void qrt_calib_table_destroy(qrt_calib_table_t *t);

/* Borrows the table's parameters. */
const qrt_calib_config_t *qrt_calib_table_config(const qrt_calib_table_t *t);

/* Appends a copy of *e (name copied; ranges checked: finite, lo <= hi);
 * QRT_ERR_ARG on a duplicate id or a bad entry. */
qrt_status_t qrt_calib_table_add(qrt_calib_table_t *t,
                                 const qrt_calib_entry_t *e);

/* Appends an entry for observer `obs`, computing every method's range with
 * the observer's own config. */
qrt_status_t qrt_calib_table_add_observer(qrt_calib_table_t *t, int64_t id,
                                          const char *name,
                                          const qrt_observer_t *obs);

/* Returns the number of entries. */
size_t qrt_calib_table_size(const qrt_calib_table_t *t);

/* Borrows entry i (NULL if out of range). */
const qrt_calib_entry_t *qrt_calib_table_get(const qrt_calib_table_t *t,
                                             size_t i);

/* Borrows the entry with this id (NULL if none). */
const qrt_calib_entry_t *qrt_calib_table_find(const qrt_calib_table_t *t,
                                              int64_t id);

/* Borrows the first entry with this name (NULL if none). */
const qrt_calib_entry_t *qrt_calib_table_find_name(const qrt_calib_table_t *t,
                                                   const char *name);

/* Writes the table to `path` atomically (temp file + rename); QRT_ERR_IO with
 * "path: reason" in msg on failure. */
qrt_status_t qrt_calib_table_write(const qrt_calib_table_t *t,
                                   const char *path, char *msg, size_t msglen);

/* Reads a table (caller owns *out). On failure *out is NULL and msg says
 * "path: where: what" (QRT_ERR_IO unreadable, QRT_ERR_FORMAT bad JSON, a
 * missing or mistyped field, non-finite number, lo > hi, bad parameters). */
qrt_status_t qrt_calib_table_read(const char *path, qrt_calib_table_t **out,
                                  char *msg, size_t msglen);

/* Same, from the text of a table in memory (need not be NUL-terminated);
 * `name` (NULL: "<buffer>") stands for the path in messages. */
qrt_status_t qrt_calib_table_read_buffer(const char *data, size_t len,
                                         const char *name,
                                         qrt_calib_table_t **out, char *msg,
                                         size_t msglen);

#ifdef __cplusplus
}
#endif
#endif /* QUANT_OPT_QRT_CALIB_H */
