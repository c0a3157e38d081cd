/* Decoding of TensorProto payloads and NodeProto attributes.
 *
 * Initializers and Constant values become import-time constants: float
 * types are kept as f32, integer and bool types as int64. Both raw_data
 * (little-endian) and the typed repeated fields are accepted; anything the
 * f32 function cannot represent is an "unsupported" error. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define QO_MAX_CONST_ELEMS ((int64_t)1 << 31)

static int elemSize(int t) {
  switch (t) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
  case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
    return 1;
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    return 2;
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
    return 4;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    return 8;
  default:
    return 0;
  }
}

/* Reads element k of little-endian raw data of integer type t. */
static int64_t rawInt(const uint8_t *p, int t, int64_t k) {
  int sz = elemSize(t);
  uint64_t u = 0;
  for (int b = 0; b < sz; ++b)
    u |= (uint64_t)p[k * sz + b] << (8 * b);
  switch (t) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    return (int8_t)u;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    return (int16_t)u;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    return (int32_t)u;
  case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
    return u != 0;
  default:
    return (int64_t)u;
  }
}

static int decodeFloats(qoImporter *imp, const Onnx__TensorProto *t,
                        int64_t n, float *out, const char *name) {
  int dt = t->data_type;
  if (t->has_raw_data) {
    if ((int64_t)t->raw_data.len != n * elemSize(dt))
      return qoFail(imp, "tensor '%s': raw_data has %zu bytes, expected %lld",
                    name, t->raw_data.len, (long long)(n * elemSize(dt)));
    for (int64_t k = 0; k < n; ++k) {
      if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
        uint32_t u = rawInt(t->raw_data.data, ONNX__TENSOR_PROTO__DATA_TYPE__UINT32, k);
        memcpy(&out[k], &u, 4);
      } else {
        uint64_t u = (uint64_t)rawInt(t->raw_data.data, ONNX__TENSOR_PROTO__DATA_TYPE__UINT64, k);
        double d;
        memcpy(&d, &u, 8);
        out[k] = (float)d;
      }
    }
    return 0;
  }
  if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
    if ((int64_t)t->n_float_data != n)
      return qoFail(imp, "tensor '%s' has %zu float_data values, expected %lld",
                    name, t->n_float_data, (long long)n);
    if (n)
      memcpy(out, t->float_data, (size_t)n * sizeof *out);
    return 0;
  }
  if ((int64_t)t->n_double_data != n)
    return qoFail(imp, "tensor '%s' has %zu double_data values, expected %lld",
                  name, t->n_double_data, (long long)n);
  for (int64_t k = 0; k < n; ++k)
    out[k] = (float)t->double_data[k];
  return 0;
}

static int decodeInts(qoImporter *imp, const Onnx__TensorProto *t, int64_t n,
                      int64_t *out, const char *name) {
  int dt = t->data_type;
  if (t->has_raw_data) {
    if ((int64_t)t->raw_data.len != n * elemSize(dt))
      return qoFail(imp, "tensor '%s': raw_data has %zu bytes, expected %lld",
                    name, t->raw_data.len, (long long)(n * elemSize(dt)));
    for (int64_t k = 0; k < n; ++k)
      out[k] = rawInt(t->raw_data.data, dt, k);
    return 0;
  }
  size_t have;
  if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
    have = t->n_int64_data;
  else if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__UINT32 ||
           dt == ONNX__TENSOR_PROTO__DATA_TYPE__UINT64)
    have = t->n_uint64_data;
  else
    have = t->n_int32_data;
  if ((int64_t)have != n)
    return qoFail(imp, "tensor '%s' has %zu integer values, expected %lld",
                  name, have, (long long)n);
  for (int64_t k = 0; k < n; ++k) {
    if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
      out[k] = t->int64_data[k];
    else if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__UINT32 ||
             dt == ONNX__TENSOR_PROTO__DATA_TYPE__UINT64)
      out[k] = (int64_t)t->uint64_data[k];
    else
      out[k] = dt == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL ? t->int32_data[k] != 0
                                                         : t->int32_data[k];
  }
  return 0;
}

int qoDecodeTensor(qoImporter *imp, const Onnx__TensorProto *t,
                   const char *name, qoValue *out) {
  int dt = t->has_data_type ? t->data_type : 0;
  if (t->has_data_location &&
      t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    return qoFail(imp, "unsupported: tensor '%s' uses external data", name);
  if (t->segment)
    return qoFail(imp, "unsupported: segmented tensor '%s'", name);
  if (!qoIsFloatType(dt) && !qoIsIntType(dt))
    return qoFail(imp, "unsupported: %s tensor '%s'", qoTypeName(dt), name);
  if (t->n_dims > QO_MAX_RANK)
    return qoFail(imp, "unsupported: tensor '%s' has rank %zu", name,
                  t->n_dims);
  int64_t n = 1;
  for (size_t k = 0; k < t->n_dims; ++k) {
    if (t->dims[k] < 0 || (t->dims[k] && n > QO_MAX_CONST_ELEMS / t->dims[k]))
      return qoFail(imp, "tensor '%s' has an invalid or too large shape",
                    name);
    n *= t->dims[k];
    out->dims[k] = t->dims[k];
  }
  out->elemType = dt;
  out->rank = (int)t->n_dims;
  out->isConst = 1;
  if (qoIsFloatType(dt)) {
    out->f = malloc((size_t)(n ? n : 1) * sizeof *out->f);
    return out->f ? decodeFloats(imp, t, n, out->f, name)
                  : qoFail(imp, "out of memory");
  }
  out->i = malloc((size_t)(n ? n : 1) * sizeof *out->i);
  return out->i ? decodeInts(imp, t, n, out->i, name)
                : qoFail(imp, "out of memory");
}

qoValue *qoValueFromTensor(qoImporter *imp, const Onnx__TensorProto *t,
                           const char *name) {
  qoValue tmp;
  memset(&tmp, 0, sizeof tmp);
  if (qoDecodeTensor(imp, t, name, &tmp) < 0) {
    free(tmp.f);
    free(tmp.i);
    return NULL;
  }
  qoValue *v = qoDefine(imp, name, tmp.elemType, tmp.rank, tmp.dims);
  if (!v) {
    free(tmp.f);
    free(tmp.i);
    return NULL;
  }
  v->isConst = 1;
  v->f = tmp.f;
  v->i = tmp.i;
  return v;
}

const Onnx__AttributeProto *qoAttr(const Onnx__NodeProto *n, const char *name) {
  for (size_t k = 0; k < n->n_attribute; ++k)
    if (n->attribute[k]->name && strcmp(n->attribute[k]->name, name) == 0)
      return n->attribute[k];
  return NULL;
}

int64_t qoAttrInt(const Onnx__NodeProto *n, const char *name, int64_t dflt) {
  const Onnx__AttributeProto *a = qoAttr(n, name);
  return a && a->has_i ? a->i : dflt;
}

float qoAttrFloat(const Onnx__NodeProto *n, const char *name, float dflt) {
  const Onnx__AttributeProto *a = qoAttr(n, name);
  return a && a->has_f ? a->f : dflt;
}

const int64_t *qoAttrInts(const Onnx__NodeProto *n, const char *name,
                          size_t *count) {
  const Onnx__AttributeProto *a = qoAttr(n, name);
  *count = a ? a->n_ints : 0;
  return a ? a->ints : NULL;
}

void qoAttrString(const Onnx__NodeProto *n, const char *name, const char *dflt,
                  char *out, size_t cap) {
  const Onnx__AttributeProto *a = qoAttr(n, name);
  size_t len;
  const char *src;
  if (a && a->has_s) {
    src = (const char *)a->s.data;
    len = a->s.len;
  } else {
    src = dflt;
    len = strlen(dflt);
  }
  if (len >= cap)
    len = cap - 1;
  memcpy(out, src, len);
  out[len] = '\0';
  for (size_t k = 0; k < len; ++k) /* keep messages printable */
    if ((unsigned char)out[k] < 0x20 || (unsigned char)out[k] >= 0x7f)
      out[k] = '?';
}

int qoConstInts(qoImporter *imp, qoValue *v, int64_t *out, int cap,
                const char *what) {
  if (!v->isConst)
    return qoFail(imp, "unsupported: %s ('%s') must be a constant", what,
                  v->name);
  if (!v->i)
    return qoFail(imp, "%s ('%s') must be an integer tensor", what, v->name);
  int64_t n = qoNumElements(v->rank, v->dims);
  if (n > cap)
    return qoFail(imp, "%s ('%s') has too many elements (%lld)", what,
                  v->name, (long long)n);
  memcpy(out, v->i, (size_t)n * sizeof *out);
  return (int)n;
}

int qoConstFloat(qoImporter *imp, qoValue *v, float *out, const char *what) {
  if (!v->isConst)
    return qoFail(imp, "unsupported: %s ('%s') must be a constant", what,
                  v->name);
  if (qoNumElements(v->rank, v->dims) != 1)
    return qoFail(imp, "%s ('%s') must have exactly one element", what,
                  v->name);
  *out = v->f ? v->f[0] : (float)v->i[0];
  return 0;
}
