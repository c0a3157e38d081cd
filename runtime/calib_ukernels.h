/* Internal: the calibration microkernels, XNNPACK-style names
 * qrt_f32_<op>_ukernel__<isa>. The scalar versions are the reference every
 * vector kernel must match bit for bit (test/runtime/calib_test.c). */
#ifndef QUANT_OPT_RUNTIME_CALIB_UKERNELS_H
#define QUANT_OPT_RUNTIME_CALIB_UKERNELS_H

#include "quant-opt/qrt_calib.h"

typedef void (*qrt_f32_minmax_ukernel_fn)(const float *x, size_t n,
                                          qrt_minmax_t *out);
typedef void (*qrt_f32_histogram_ukernel_fn)(const float *x, size_t n,
                                             double width, double first,
                                             uint64_t *counts,
                                             size_t num_bins);

void qrt_f32_minmax_ukernel__scalar(const float *x, size_t n,
                                    qrt_minmax_t *out);
void qrt_f32_histogram_ukernel__scalar(const float *x, size_t n, double width,
                                       double first, uint64_t *counts,
                                       size_t num_bins);

#if defined(__x86_64__) || defined(__i386__)
#define QRT_CALIB_HAVE_X86 1
void qrt_f32_minmax_ukernel__avx2(const float *x, size_t n, qrt_minmax_t *out);
void qrt_f32_histogram_ukernel__avx2(const float *x, size_t n, double width,
                                     double first, uint64_t *counts,
                                     size_t num_bins);
void qrt_f32_minmax_ukernel__avx512f(const float *x, size_t n,
                                     qrt_minmax_t *out);
void qrt_f32_histogram_ukernel__avx512f(const float *x, size_t n, double width,
                                        double first, uint64_t *counts,
                                        size_t num_bins);
#endif

/* The kernels of the ISA qrt_calib_get_isa() selects. */
qrt_f32_minmax_ukernel_fn qrt_calib_minmax_ukernel(void);
qrt_f32_histogram_ukernel_fn qrt_calib_histogram_ukernel(void);

/* Bits of a float without aliasing trouble. */
static inline uint32_t qrt_f32_bits(float v) {
  union { float f; uint32_t u; } c = {v};
  return c.u;
}

#endif /* QUANT_OPT_RUNTIME_CALIB_UKERNELS_H */
