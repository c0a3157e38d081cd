/* x86 calibration microkernels (AVX-512F and AVX2), compiled with
 * __attribute__((target)) so the file builds without -m flags and the ISA is
 * picked at run time (calib_kernels.c). Each kernel produces exactly what the
 * scalar reference produces: min/max are order-independent over finite
 * values (zero normalized to +0.0), and histogram indices come from the same
 * IEEE operations (float->double, divide, floor, subtract, clamp). */
#include "calib_ukernels.h"

#ifdef QRT_CALIB_HAVE_X86
#include <immintrin.h>
#include <math.h>

#define EXP_MASK 0x7f800000
#define MANT_MASK 0x007fffff

/* ---- AVX-512F ----------------------------------------------------------- */

__attribute__((target("avx512f")))
void qrt_f32_minmax_ukernel__avx512f(const float *x, size_t n,
                                     qrt_minmax_t *out) {
  const __m512i vexp = _mm512_set1_epi32(EXP_MASK);
  const __m512i vmant = _mm512_set1_epi32(MANT_MASK);
  __m512 vlo = _mm512_set1_ps(INFINITY), vhi = _mm512_set1_ps(-INFINITY);
  uint64_t nan = 0, inf = 0;
  for (size_t i = 0; i < n; i += 16) {
    __mmask16 valid = n - i >= 16 ? (__mmask16)0xffff
                                  : (__mmask16)((1u << (n - i)) - 1u);
    __m512 v = _mm512_maskz_loadu_ps(valid, x + i);
    __m512i b = _mm512_castps_si512(v);
    __mmask16 nonfinite =
        _mm512_mask_cmpeq_epi32_mask(valid, _mm512_and_si512(b, vexp), vexp);
    __mmask16 isnan = _mm512_mask_test_epi32_mask(nonfinite, b, vmant);
    __mmask16 finite = (__mmask16)(valid & ~nonfinite);
    vlo = _mm512_mask_min_ps(vlo, finite, vlo, v);
    vhi = _mm512_mask_max_ps(vhi, finite, vhi, v);
    nan += (uint64_t)__builtin_popcount(isnan);
    inf += (uint64_t)__builtin_popcount((unsigned)nonfinite & ~(unsigned)isnan);
  }
  float lo = _mm512_reduce_min_ps(vlo), hi = _mm512_reduce_max_ps(vhi);
  out->min = lo == 0.0f ? 0.0f : lo;
  out->max = hi == 0.0f ? 0.0f : hi;
  out->count = (uint64_t)n - nan - inf;
  out->nan_count = nan;
  out->inf_count = inf;
}

__attribute__((target("avx512f")))
void qrt_f32_histogram_ukernel__avx512f(const float *x, size_t n, double width,
                                        double first, uint64_t *counts,
                                        size_t num_bins) {
  const __m512i vexp = _mm512_set1_epi32(EXP_MASK);
  const __m512d vw = _mm512_set1_pd(width), vfirst = _mm512_set1_pd(first);
  const __m512d vzero = _mm512_setzero_pd();
  const __m512d vtop = _mm512_set1_pd((double)(num_bins - 1));
  int32_t idx[16];
  for (size_t i = 0; i < n; i += 16) {
    __mmask16 valid = n - i >= 16 ? (__mmask16)0xffff
                                  : (__mmask16)((1u << (n - i)) - 1u);
    __m512 v = _mm512_maskz_loadu_ps(valid, x + i);
    __mmask16 nonfinite = _mm512_mask_cmpeq_epi32_mask(
        valid, _mm512_and_si512(_mm512_castps_si512(v), vexp), vexp);
    unsigned finite = (unsigned)valid & ~(unsigned)nonfinite;
    if (!finite) continue;
    __m256 h0 = _mm512_castps512_ps256(v);
    __m256 h1 = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m512d d0 = _mm512_div_pd(_mm512_cvtps_pd(h0), vw);
    __m512d d1 = _mm512_div_pd(_mm512_cvtps_pd(h1), vw);
    d0 = _mm512_roundscale_pd(d0, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    d1 = _mm512_roundscale_pd(d1, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    d0 = _mm512_min_pd(_mm512_max_pd(_mm512_sub_pd(d0, vfirst), vzero), vtop);
    d1 = _mm512_min_pd(_mm512_max_pd(_mm512_sub_pd(d1, vfirst), vzero), vtop);
    _mm256_storeu_si256((__m256i *)idx, _mm512_cvttpd_epi32(d0));
    _mm256_storeu_si256((__m256i *)(idx + 8), _mm512_cvttpd_epi32(d1));
    while (finite) {
      counts[idx[__builtin_ctz(finite)]]++;
      finite &= finite - 1;
    }
  }
}

/* ---- AVX2 --------------------------------------------------------------- */

__attribute__((target("avx2")))
void qrt_f32_minmax_ukernel__avx2(const float *x, size_t n, qrt_minmax_t *out) {
  const __m256i vexp = _mm256_set1_epi32(EXP_MASK);
  const __m256i vmant = _mm256_set1_epi32(MANT_MASK);
  const __m256i vzero = _mm256_setzero_si256();
  const __m256 vpinf = _mm256_set1_ps(INFINITY), vninf = _mm256_set1_ps(-INFINITY);
  __m256 vlo = vpinf, vhi = vninf;
  uint64_t nan = 0, inf = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    __m256i b = _mm256_castps_si256(v);
    __m256i nonfinite = _mm256_cmpeq_epi32(_mm256_and_si256(b, vexp), vexp);
    __m256i mant0 = _mm256_cmpeq_epi32(_mm256_and_si256(b, vmant), vzero);
    __m256i isnan = _mm256_andnot_si256(mant0, nonfinite);
    unsigned nfm = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(nonfinite));
    unsigned nanm = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(isnan));
    nan += (uint64_t)__builtin_popcount(nanm);
    inf += (uint64_t)__builtin_popcount(nfm & ~nanm);
    __m256 nf = _mm256_castsi256_ps(nonfinite);
    vlo = _mm256_min_ps(vlo, _mm256_blendv_ps(v, vpinf, nf));
    vhi = _mm256_max_ps(vhi, _mm256_blendv_ps(v, vninf, nf));
  }
  float l[8], h[8];
  _mm256_storeu_ps(l, vlo);
  _mm256_storeu_ps(h, vhi);
  qrt_minmax_t tail;
  qrt_f32_minmax_ukernel__scalar(x + i, n - i, &tail);
  float lo = tail.min, hi = tail.max;
  for (int j = 0; j < 8; ++j) {
    lo = l[j] < lo ? l[j] : lo;
    hi = h[j] > hi ? h[j] : hi;
  }
  out->min = lo == 0.0f ? 0.0f : lo;
  out->max = hi == 0.0f ? 0.0f : hi;
  out->nan_count = nan + tail.nan_count;
  out->inf_count = inf + tail.inf_count;
  out->count = (uint64_t)n - out->nan_count - out->inf_count;
}

__attribute__((target("avx2")))
void qrt_f32_histogram_ukernel__avx2(const float *x, size_t n, double width,
                                     double first, uint64_t *counts,
                                     size_t num_bins) {
  const __m256i vexp = _mm256_set1_epi32(EXP_MASK);
  const __m256d vw = _mm256_set1_pd(width), vfirst = _mm256_set1_pd(first);
  const __m256d vzero = _mm256_setzero_pd();
  const __m256d vtop = _mm256_set1_pd((double)(num_bins - 1));
  int32_t idx[8];
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    __m256i nonfinite = _mm256_cmpeq_epi32(
        _mm256_and_si256(_mm256_castps_si256(v), vexp), vexp);
    unsigned finite =
        ~(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(nonfinite)) & 0xffu;
    if (!finite) continue;
    __m256d d0 = _mm256_div_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), vw);
    __m256d d1 = _mm256_div_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), vw);
    d0 = _mm256_round_pd(d0, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    d1 = _mm256_round_pd(d1, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    d0 = _mm256_min_pd(_mm256_max_pd(_mm256_sub_pd(d0, vfirst), vzero), vtop);
    d1 = _mm256_min_pd(_mm256_max_pd(_mm256_sub_pd(d1, vfirst), vzero), vtop);
    _mm_storeu_si128((__m128i *)idx, _mm256_cvttpd_epi32(d0));
    _mm_storeu_si128((__m128i *)(idx + 4), _mm256_cvttpd_epi32(d1));
    while (finite) {
      counts[idx[__builtin_ctz(finite)]]++;
      finite &= finite - 1;
    }
  }
  qrt_f32_histogram_ukernel__scalar(x + i, n - i, width, first, counts,
                                    num_bins);
}

#else
/* Not x86: only the scalar kernels exist. */
typedef int qrt_calib_x86_unused;
#endif
