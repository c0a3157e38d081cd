/* Decoding of TensorProto payloads and NodeProto attributes.
 *
 * Initializers and Constant values become import-time constants: float
 * types are kept as f32, integer and bool types as int64. Both raw_data
 * (little-endian), the typed repeated fields and external data files
 * (inside the model's folder) are accepted; anything the f32 function cannot
 * represent is an "unsupported" error. The data a shape claims must be
 * present (and, for typed fields, in the dtype's range) before any memory is
 * allocated for it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* Converts n elements of little-endian raw data of type dt. */
static void rawToFloats(const uint8_t *raw, int dt, int64_t n, float *out) {
  for (int64_t k = 0; k < n; ++k) {
    if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
      uint32_t u = (uint32_t)rawInt(raw, ONNX__TENSOR_PROTO__DATA_TYPE__UINT32, k);
      memcpy(&out[k], &u, 4);
    } else {
      uint64_t u = (uint64_t)rawInt(raw, ONNX__TENSOR_PROTO__DATA_TYPE__UINT64, k);
      double d;
      memcpy(&d, &u, 8);
      out[k] = (float)d;
    }
  }
}

/* Number of values in the typed field that holds elements of type dt. */
static size_t typedCount(const Onnx__TensorProto *t, int dt) {
  switch (dt) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    return t->n_float_data;
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    return t->n_double_data;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    return t->n_int64_data;
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
    return t->n_uint64_data;
  default:
    return t->n_int32_data;
  }
}

/* Range of the values int32_data may hold for type dt. */
static void int32Range(int dt, int64_t *lo, int64_t *hi) {
  switch (dt) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: *lo = -128, *hi = 127; return;
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: *lo = 0, *hi = 255; return;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: *lo = -32768, *hi = 32767; return;
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: *lo = 0, *hi = 65535; return;
  default: *lo = INT32_MIN, *hi = INT32_MAX; return;
  }
}

/* Copies the typed field into out (f or i, n elements, count checked). */
static int typedValues(qoImporter *imp, const Onnx__TensorProto *t, int dt,
                       int64_t n, float *f, int64_t *i, const char *name) {
  int64_t lo, hi;
  int32Range(dt, &lo, &hi);
  for (int64_t k = 0; k < n; ++k) {
    switch (dt) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: f[k] = t->float_data[k]; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: f[k] = (float)t->double_data[k]; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: i[k] = t->int64_data[k]; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
      i[k] = (int64_t)t->uint64_data[k];
      break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: i[k] = t->int32_data[k] != 0; break;
    default:
      if (t->int32_data[k] < lo || t->int32_data[k] > hi)
        return qoFail(imp, "tensor '%s': value %d is out of range for %s", name,
                      (int)t->int32_data[k], qoTypeName(dt));
      i[k] = t->int32_data[k];
    }
  }
  return 0;
}

/* Parses a non-negative decimal external-data offset/length. */
static int parseSize(const char *s, int64_t *out) {
  int64_t v = 0;
  if (!*s)
    return -1;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9' || v > (INT64_MAX - (*s - '0')) / 10)
      return -1;
    v = v * 10 + (*s - '0');
  }
  *out = v;
  return 0;
}

/* Whether `loc` is a relative path without '..' components. */
static int safeLocation(const char *loc) {
  if (!*loc || loc[0] == '/')
    return 0;
  for (const char *p = loc; *p;) {
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == 2 && p[0] == '.' && p[1] == '.')
      return 0;
    p += len + (e != NULL);
  }
  return 1;
}

/* Reads the `need` bytes of external data of tensor `t` (data_location
 * EXTERNAL: location / offset / length entries) into a malloc'd *out. The
 * file must resolve (symlinks included) to a path inside imp->baseDir, and
 * hold the bytes before anything is allocated. */
static int readExternal(qoImporter *imp, const Onnx__TensorProto *t,
                        const char *name, int64_t need, uint8_t **out) {
  *out = NULL;
  if (!imp->baseDir)
    return qoUnsupported(imp, "unsupported: tensor '%s' uses external data, "
                              "which needs the model's folder (refused when "
                              "importing from memory)", name);
  const char *loc = NULL;
  int64_t offset = 0, length = -1;
  for (size_t k = 0; k < t->n_external_data; ++k) {
    const Onnx__StringStringEntryProto *e = t->external_data[k];
    const char *key = e->key ? e->key : "", *val = e->value ? e->value : "";
    if (!strcmp(key, "location"))
      loc = val;
    else if (!strcmp(key, "offset") && parseSize(val, &offset) < 0)
      return qoFail(imp, "tensor '%s': bad external data offset '%s'", name, val);
    else if (!strcmp(key, "length") && parseSize(val, &length) < 0)
      return qoFail(imp, "tensor '%s': bad external data length '%s'", name, val);
  }
  if (!loc)
    return qoFail(imp, "tensor '%s' uses external data without a location", name);
  if (!safeLocation(loc))
    return qoFail(imp, "tensor '%s': external data location '%s' is refused "
                       "(it must be a relative path inside the model's folder, "
                       "without '..')", name, loc);
  if (length >= 0 && length != need)
    return qoFail(imp, "tensor '%s': external data length %lld does not match "
                       "the %lld bytes of its shape", name, (long long)length,
                  (long long)need);
  qoBuf p = {0};
  qoBufPrintf(&p, "%s/%s", imp->baseDir, loc);
  char *path = qoBufTake(&p);
  char *real = path ? realpath(path, NULL) : NULL;
  char *base = real ? realpath(imp->baseDir, NULL) : NULL;
  int rc = 0;
  FILE *f = NULL;
  struct stat st;
  size_t bl = base ? strlen(base) : 0;
  if (!path) {
    rc = qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
  } else if (!real || !base) {
    rc = qoFailStatus(imp, QO_ONNX_IO, "tensor '%s': cannot open external data "
                      "file '%s': %s", name, path, strerror(errno));
  } else if (strncmp(real, base, bl) != 0 ||
             (real[bl] != '/' && !(bl == 1 && base[0] == '/'))) {
    rc = qoFail(imp, "tensor '%s': external data location '%s' is refused (it "
                     "resolves to '%s', outside the model's folder)", name, loc,
                real);
  } else if (!(f = fopen(real, "rb")) || fstat(fileno(f), &st) != 0 ||
             !S_ISREG(st.st_mode)) {
    rc = qoFailStatus(imp, QO_ONNX_IO, "tensor '%s': cannot read external data "
                      "file '%s'", name, path);
  } else if (st.st_size < offset || st.st_size - offset < need) {
    rc = qoFail(imp, "tensor '%s': external data file '%s' has %lld bytes, "
                     "the tensor needs %lld at offset %lld", name, path,
                (long long)st.st_size, (long long)need, (long long)offset);
  } else if (!(*out = malloc(need ? (size_t)need : 1))) {
    rc = qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
  } else if (fseeko(f, (off_t)offset, SEEK_SET) != 0 ||
             fread(*out, 1, (size_t)need, f) != (size_t)need) {
    rc = qoFailStatus(imp, QO_ONNX_IO, "tensor '%s': cannot read external "
                      "data file '%s'", name, path);
  }
  if (f)
    fclose(f);
  if (rc < 0) {
    free(*out);
    *out = NULL;
  }
  free(path);
  free(real);
  free(base);
  return rc;
}

int qoDecodeTensor(qoImporter *imp, const Onnx__TensorProto *t,
                   const char *name, qoValue *out) {
  int dt = t->has_data_type ? t->data_type : 0;
  int external = t->has_data_location &&
                 t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  if (t->segment)
    return qoUnsupported(imp, "unsupported: segmented tensor '%s'", name);
  if (!qoIsFloatType(dt) && !qoIsIntType(dt))
    return qoUnsupported(imp, "unsupported: %s tensor '%s'", qoTypeName(dt), name);
  if (t->n_dims > QO_MAX_RANK)
    return qoUnsupported(imp, "unsupported: tensor '%s' has rank %zu", name,
                  t->n_dims);
  int64_t n = 1;
  for (size_t k = 0; k < t->n_dims; ++k) {
    if (t->dims[k] < 0 || t->dims[k] > QO_MAX_DIM ||
        (t->dims[k] && n > QO_MAX_CONST_ELEMS / t->dims[k]))
      return qoFail(imp, "tensor '%s' has an invalid or too large shape",
                    name);
    n *= t->dims[k];
    out->dims[k] = t->dims[k];
  }
  out->elemType = dt;
  out->rank = (int)t->n_dims;
  out->isConst = 1;
  /* The data must be present before anything is allocated for it. */
  int64_t bytes = n * elemSize(dt);
  const uint8_t *raw = NULL;
  uint8_t *ext = NULL;
  if (external) {
    if (readExternal(imp, t, name, bytes, &ext) < 0)
      return -1;
    raw = ext;
  } else if (t->has_raw_data) {
    if ((int64_t)t->raw_data.len != bytes)
      return qoFail(imp, "tensor '%s': raw_data has %zu bytes, expected %lld",
                    name, t->raw_data.len, (long long)bytes);
    raw = t->raw_data.data;
  } else if ((int64_t)typedCount(t, dt) != n) {
    return qoFail(imp, "tensor '%s' has %zu values, its shape needs %lld",
                  name, typedCount(t, dt), (long long)n);
  }
  int rc = 0;
  if (qoIsFloatType(dt))
    out->f = malloc((size_t)(n ? n : 1) * sizeof *out->f);
  else
    out->i = malloc((size_t)(n ? n : 1) * sizeof *out->i);
  if (!out->f && !out->i)
    rc = qoFailStatus(imp, QO_ONNX_NOMEM, "out of memory");
  else if (raw && out->f)
    rawToFloats(raw, dt, n, out->f);
  else if (raw)
    for (int64_t k = 0; k < n; ++k)
      out->i[k] = rawInt(raw, dt, k);
  else
    rc = typedValues(imp, t, dt, n, out->f, out->i, name);
  free(ext);
  return rc;
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
  if (len)
    memcpy(out, src, len);
  out[len] = '\0';
  for (size_t k = 0; k < len; ++k) /* keep messages printable */
    if ((unsigned char)out[k] < 0x20 || (unsigned char)out[k] >= 0x7f)
      out[k] = '?';
}

int qoConstInts(qoImporter *imp, qoValue *v, int64_t *out, int cap,
                const char *what) {
  if (!v->isConst)
    return qoUnsupported(imp, "unsupported: %s ('%s') must be a constant", what,
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
    return qoUnsupported(imp, "unsupported: %s ('%s') must be a constant", what,
                  v->name);
  if (qoNumElements(v->rank, v->dims) != 1)
    return qoFail(imp, "%s ('%s') must have exactly one element", what,
                  v->name);
  *out = v->f ? v->f[0] : (float)v->i[0];
  return 0;
}
