/* Calibration microkernels: the portable scalar reference and the run-time
 * ISA selection (from qrt_cpu_features, the CPU detection generated models
 * use too; newest ISA first, once per process; QRT_FORCE_SCALAR=1 or
 * qrt_calib_set_isa override it). The vector versions live in calib_x86.c. */
#include "calib_ukernels.h"
#include "quant-opt/qrt_cpu.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define QRT_F32_EXP_MASK 0x7f800000u
#define QRT_F32_MANT_MASK 0x007fffffu

void qrt_f32_minmax_ukernel__scalar(const float *x, size_t n,
                                    qrt_minmax_t *out) {
  float lo = INFINITY, hi = -INFINITY;
  uint64_t nan = 0, inf = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t b = qrt_f32_bits(x[i]);
    if ((b & QRT_F32_EXP_MASK) == QRT_F32_EXP_MASK) {
      if (b & QRT_F32_MANT_MASK) ++nan; else ++inf;
      continue;
    }
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  /* -0.0 and +0.0 compare equal; which one survives depends on the order of
   * comparisons, so report zero as +0.0 on every path. */
  out->min = lo == 0.0f ? 0.0f : lo;
  out->max = hi == 0.0f ? 0.0f : hi;
  out->count = (uint64_t)n - nan - inf;
  out->nan_count = nan;
  out->inf_count = inf;
}

void qrt_f32_histogram_ukernel__scalar(const float *x, size_t n, double width,
                                       double first, uint64_t *counts,
                                       size_t num_bins) {
  const double top = (double)(num_bins - 1);
  for (size_t i = 0; i < n; ++i) {
    if ((qrt_f32_bits(x[i]) & QRT_F32_EXP_MASK) == QRT_F32_EXP_MASK) continue;
    double u = floor((double)x[i] / width) - first;
    u = u > 0.0 ? u : 0.0;
    u = u < top ? u : top;
    counts[(size_t)u]++;
  }
}

/* ---- ISA selection ------------------------------------------------------ */

static atomic_int g_isa = -1;

int qrt_calib_isa_supported(qrt_calib_isa_t isa) {
  /* What calib_x86.c's target("avx2") / target("avx512f") functions may use:
   * avx2 implies avx; avx512f implies avx2, fma and f16c. */
  const uint64_t avx2 = QRT_CPU_HAS(AVX) | QRT_CPU_HAS(AVX2);
  uint64_t need;
  switch (isa) {
  case QRT_CALIB_ISA_SCALAR: return 1;
#ifdef QRT_CALIB_HAVE_X86
  case QRT_CALIB_ISA_AVX2: need = avx2; break;
  case QRT_CALIB_ISA_AVX512:
    need = avx2 | QRT_CPU_HAS(FMA) | QRT_CPU_HAS(F16C) | QRT_CPU_HAS(AVX512F);
    break;
#endif
  default: return 0;
  }
  return (qrt_cpu_features() & need) == need;
}

const char *qrt_calib_isa_name(qrt_calib_isa_t isa) {
  switch (isa) {
  case QRT_CALIB_ISA_SCALAR: return "scalar";
  case QRT_CALIB_ISA_AVX2: return "avx2";
  case QRT_CALIB_ISA_AVX512: return "avx512";
  }
  return "?";
}

qrt_calib_isa_t qrt_calib_get_isa(void) {
  int isa = atomic_load_explicit(&g_isa, memory_order_relaxed);
  if (isa >= 0) return (qrt_calib_isa_t)isa;
  const char *force = getenv("QRT_FORCE_SCALAR");
  if (force && strcmp(force, "1") == 0)
    isa = QRT_CALIB_ISA_SCALAR;
  else if (qrt_calib_isa_supported(QRT_CALIB_ISA_AVX512))
    isa = QRT_CALIB_ISA_AVX512;
  else if (qrt_calib_isa_supported(QRT_CALIB_ISA_AVX2))
    isa = QRT_CALIB_ISA_AVX2;
  else
    isa = QRT_CALIB_ISA_SCALAR;
  /* Racing first calls compute the same value. */
  atomic_store_explicit(&g_isa, isa, memory_order_relaxed);
  return (qrt_calib_isa_t)isa;
}

qrt_status_t qrt_calib_set_isa(qrt_calib_isa_t isa) {
  if ((unsigned)isa > QRT_CALIB_ISA_AVX512 || !qrt_calib_isa_supported(isa))
    return QRT_ERR_ARG;
  atomic_store_explicit(&g_isa, (int)isa, memory_order_relaxed);
  return QRT_OK;
}

qrt_f32_minmax_ukernel_fn qrt_calib_minmax_ukernel(void) {
  switch (qrt_calib_get_isa()) {
#ifdef QRT_CALIB_HAVE_X86
  case QRT_CALIB_ISA_AVX512: return qrt_f32_minmax_ukernel__avx512f;
  case QRT_CALIB_ISA_AVX2: return qrt_f32_minmax_ukernel__avx2;
#endif
  default: return qrt_f32_minmax_ukernel__scalar;
  }
}

qrt_f32_histogram_ukernel_fn qrt_calib_histogram_ukernel(void) {
  switch (qrt_calib_get_isa()) {
#ifdef QRT_CALIB_HAVE_X86
  case QRT_CALIB_ISA_AVX512: return qrt_f32_histogram_ukernel__avx512f;
  case QRT_CALIB_ISA_AVX2: return qrt_f32_histogram_ukernel__avx2;
#endif
  default: return qrt_f32_histogram_ukernel__scalar;
  }
}

qrt_status_t qrt_f32_minmax(const float *x, size_t n, qrt_minmax_t *out) {
  if (!out || (n && !x)) return QRT_ERR_ARG;
  qrt_calib_minmax_ukernel()(x, n, out);
  return QRT_OK;
}

qrt_status_t qrt_f32_histogram_accumulate(const float *x, size_t n,
                                          double width, double first,
                                          uint64_t *counts, size_t num_bins) {
  if ((n && !x) || !counts || num_bins == 0 || num_bins > (size_t)INT32_MAX ||
      !(width > 0.0) ||
      !isfinite(width) || !isfinite(first) || floor(first) != first)
    return QRT_ERR_ARG;
  qrt_calib_histogram_ukernel()(x, n, width, first, counts, num_bins);
  return QRT_OK;
}
