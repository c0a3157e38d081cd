/* Quantization parameters: float range -> (scale, zero_point) for the int8 /
 * uint8 schemes quant-opt emits (affine or symmetric, narrow range, PyTorch's
 * reduce_range, power-of-two scales), plus per-channel symmetric weight
 * scales. The rules are spelled out in include/quant-opt/qrt_calib.h; every
 * bad input is a status, never a crash. Arithmetic is done in double and the
 * scale rounded to float once. */
#include "quant-opt/qrt_calib.h"

#include <float.h>
#include <math.h>

qrt_status_t qrt_qscheme_quant_range(const qrt_qscheme_t *s, int32_t *quant_min,
                                     int32_t *quant_max) {
  if (!s || (s->dtype != QRT_QINT8 && s->dtype != QRT_QUINT8)) return QRT_ERR_ARG;
  int32_t lo = s->dtype == QRT_QINT8 ? -128 : 0;
  int32_t hi = s->dtype == QRT_QINT8 ? 127 : 255;
  if (s->reduce_range) {
    lo /= 2; /* -64 or 0 */
    hi /= 2; /* 63 or 127 */
  }
  if (s->narrow_range) lo += 1;
  if (quant_min) *quant_min = lo;
  if (quant_max) *quant_max = hi;
  return QRT_OK;
}

/* Rounds a positive finite scale up to a power of two. */
static double pow2_ceil(double scale) {
  int e;
  double m = frexp(scale, &e); /* scale = m * 2^e, m in [0.5, 1) */
  return m == 0.5 ? scale : ldexp(1.0, e);
}

qrt_status_t qrt_choose_qparams(float lo, float hi, const qrt_qscheme_t *scheme,
                                qrt_qparams_t *out) {
  int32_t qmin, qmax;
  if (!out || !isfinite(lo) || !isfinite(hi) || lo > hi ||
      qrt_qscheme_quant_range(scheme, &qmin, &qmax) != QRT_OK)
    return QRT_ERR_ARG;
  double dlo = lo < 0.0f ? (double)lo : 0.0;
  double dhi = hi > 0.0f ? (double)hi : 0.0;
  double scale;
  int32_t zp;
  if (scheme->symmetric) {
    zp = scheme->dtype == QRT_QINT8 ? 0 : (qmin + qmax + 1) / 2;
    int32_t half = qmax - zp < zp - qmin ? qmax - zp : zp - qmin;
    double amax = -dlo > dhi ? -dlo : dhi;
    scale = amax / half;
  } else {
    scale = (dhi - dlo) / (double)(qmax - qmin);
    zp = 0; /* set below, after the final scale is known */
  }
  if (scale == 0.0) scale = 1.0; /* zero-width range: all-zero tensor */
  float fscale = (float)scale;
  if (fscale < FLT_MIN) fscale = FLT_MIN;
  if (scheme->pow2_scale) fscale = (float)pow2_ceil(fscale);
  if (!isfinite(fscale)) return QRT_ERR_ARG; /* cannot happen for float input */
  if (!scheme->symmetric) {
    double z = (double)qmin - nearbyint(dlo / (double)fscale);
    zp = z < qmin ? qmin : z > qmax ? qmax : (int32_t)z;
  }
  out->scale = fscale;
  out->zero_point = zp;
  out->quant_min = qmin;
  out->quant_max = qmax;
  return QRT_OK;
}

qrt_status_t qrt_per_channel_symmetric_qparams(const float *w, int rank,
                                               const int64_t *dims, int axis,
                                               const qrt_qscheme_t *scheme,
                                               float *scales,
                                               int32_t *zero_points) {
  if (!w || !dims || !scheme || rank < 1 || rank > QRT_MAX_RANK || axis < 0 ||
      axis >= rank)
    return QRT_ERR_ARG;
  qrt_qscheme_t sym = *scheme;
  sym.symmetric = 1;
  if (qrt_qscheme_quant_range(&sym, NULL, NULL) != QRT_OK) return QRT_ERR_ARG;
  size_t outer = 1, inner = 1, channels;
  for (int i = 0; i < rank; ++i)
    if (dims[i] < 0) return QRT_ERR_ARG;
  for (int i = 0; i < axis; ++i) outer *= (size_t)dims[i];
  channels = (size_t)dims[axis];
  for (int i = axis + 1; i < rank; ++i) inner *= (size_t)dims[i];
  for (size_t c = 0; c < channels; ++c) {
    float amax = 0.0f;
    for (size_t o = 0; o < outer; ++o) {
      const float *p = w + (o * channels + c) * inner;
      for (size_t i = 0; i < inner; ++i) {
        if (!isfinite(p[i])) return QRT_ERR_ARG;
        float a = fabsf(p[i]);
        amax = a > amax ? a : amax;
      }
    }
    qrt_qparams_t qp;
    qrt_status_t st = qrt_choose_qparams(-amax, amax, &sym, &qp);
    if (st != QRT_OK) return st;
    if (scales) scales[c] = qp.scale;
    if (zero_points) zero_points[c] = qp.zero_point;
  }
  return QRT_OK;
}
