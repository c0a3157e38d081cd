/* .npy reading and writing (NumPy format versions 1.0, 2.0 and 3.0).
 *
 * The header is a Python dict literal; we parse exactly what NumPy accepts:
 * {'descr': '<f4', 'fortran_order': False, 'shape': (N, C, H, W), }, the
 * three keys once each. Every malformed header, unknown dtype, Fortran order,
 * or short file is a status, never a crash; the size the shape claims is
 * checked for overflow and against the bytes present before anything is
 * allocated. The path reader uses the in-memory reader's header parser and
 * checks a regular file's size (a stream grows its buffer only as bytes
 * arrive). Writes go through support/output.c (a temporary file renamed into
 * place; devices and FIFOs written in place). */
#include "quant-opt/qrt.h"
#include "support/output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *qrt_status_str(qrt_status_t s) {
  switch (s) {
  case QRT_OK: return "ok";
  case QRT_ERR_IO: return "I/O error";
  case QRT_ERR_FORMAT: return "not a valid .npy file";
  case QRT_ERR_DTYPE: return "unsupported dtype";
  case QRT_ERR_SHAPE: return "bad shape";
  case QRT_ERR_NOMEM: return "out of memory";
  case QRT_ERR_ARG: return "invalid argument";
  }
  return "unknown status";
}

size_t qrt_dtype_size(qrt_dtype_t t) {
  switch (t) {
  case QRT_F32: case QRT_I32: return 4;
  case QRT_I8: case QRT_U8: return 1;
  case QRT_I64: return 8;
  }
  return 0;
}

static const char *const kDescr[] = {"<f4", "|i1", "|u1", "<i4", "<i8"};
static const char *const kNames[] = {"float32", "int8", "uint8", "int32", "int64"};

const char *qrt_dtype_name(qrt_dtype_t t) {
  return (unsigned)t < 5 ? kNames[t] : "?";
}

int64_t qrt_array_numel(const qrt_array_t *a) {
  int64_t n = 1;
  for (int i = 0; i < a->rank; ++i) n *= a->dims[i];
  return n;
}

qrt_status_t qrt_array_alloc(qrt_array_t *a, qrt_dtype_t dtype, int rank,
                             const int64_t *dims) {
  if (!a || rank < 0 || rank > QRT_MAX_RANK || qrt_dtype_size(dtype) == 0)
    return QRT_ERR_ARG;
  memset(a, 0, sizeof *a);
  a->dtype = dtype;
  a->rank = rank;
  int64_t n = 1, esize = (int64_t)qrt_dtype_size(dtype);
  for (int i = 0; i < rank; ++i) {
    if (dims[i] < 0 || (dims[i] && n > (INT64_MAX - 63) / esize / dims[i]))
      return QRT_ERR_SHAPE;
    a->dims[i] = dims[i];
    n *= dims[i];
  }
  size_t bytes = (size_t)n * (size_t)esize;
  size_t rounded = (bytes + 63) & ~(size_t)63;
  a->data = aligned_alloc(64, rounded ? rounded : 64);
  if (!a->data) return QRT_ERR_NOMEM;
  memset(a->data, 0, rounded ? rounded : 64);
  return QRT_OK;
}

void qrt_array_free(qrt_array_t *a) {
  if (!a) return;
  free(a->data);
  a->data = NULL;
}

static void set_msg(char *msg, size_t len, const char *path, const char *what) {
  if (msg && len) snprintf(msg, len, "%s: %s", path, what);
}

/* ---- reader -------------------------------------------------------------- */

/* What the header says: dtype, shape, where the data starts and its size. */
typedef struct npy_header {
  qrt_dtype_t dtype;
  int rank;
  int64_t dims[QRT_MAX_RANK];
  size_t data_offset, data_bytes;
} npy_header_t;

typedef struct npy_cursor {
  const char *p, *end;
} npy_cursor_t;

static void skip_space(npy_cursor_t *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' ||
                           *c->p == '\r'))
    ++c->p;
}

/* Consumes `ch` (after blanks); 1 if it was there. */
static int accept(npy_cursor_t *c, char ch) {
  skip_space(c);
  if (c->p < c->end && *c->p == ch) {
    ++c->p;
    return 1;
  }
  return 0;
}

/* A quoted Python string without escapes; points into the header. */
static int parse_string(npy_cursor_t *c, const char **s, size_t *len) {
  skip_space(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
  char q = *c->p++;
  const char *start = c->p;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\' || *c->p == '\n') return 0;
    ++c->p;
  }
  if (c->p >= c->end) return 0;
  *s = start;
  *len = (size_t)(c->p - start);
  ++c->p;
  return 1;
}

static int parse_word(npy_cursor_t *c, const char *word) {
  skip_space(c);
  size_t n = strlen(word);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return 0;
  c->p += n;
  return 1;
}

/* A non-negative decimal dimension; 0 on overflow or anything else. */
static int parse_dim(npy_cursor_t *c, int64_t *out) {
  skip_space(c);
  int64_t v = 0;
  const char *start = c->p;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    int d = *c->p++ - '0';
    if (v > (INT64_MAX - d) / 10) return 0;
    v = v * 10 + d;
  }
  if (c->p == start) return 0;
  *out = v;
  return 1;
}

/* '(' [dim (',' dim)* [',']] ')' */
static int parse_shape(npy_cursor_t *c, npy_header_t *h) {
  if (!accept(c, '(')) return 0;
  h->rank = 0;
  if (accept(c, ')')) return 1;
  for (;;) {
    if (h->rank == QRT_MAX_RANK || !parse_dim(c, &h->dims[h->rank])) return 0;
    h->rank++;
    if (accept(c, ')')) return 1;
    if (!accept(c, ',')) return 0;
    if (accept(c, ')')) return 1;
  }
}

static int dtype_from_descr(const char *s, size_t len) {
  for (int i = 0; i < 5; ++i)
    if (len == 3 && memcmp(s, kDescr[i], 3) == 0) return i;
  /* NumPy writes '|i1'/'|u1' but also accepts '<i1'. */
  if (len == 3 && memcmp(s, "<i1", 3) == 0) return QRT_I8;
  if (len == 3 && memcmp(s, "<u1", 3) == 0) return QRT_U8;
  return -1;
}

static qrt_status_t fail_npy(char *msg, size_t len, const char *name,
                             qrt_status_t st, const char *what) {
  set_msg(msg, len, name, what);
  return st;
}

/* Parses the header dict hdr[0..n): exactly the keys 'descr', 'fortran_order'
 * and 'shape', as NumPy requires. */
static qrt_status_t parse_dict(const char *hdr, size_t n, npy_header_t *h,
                               const char *name, char *msg, size_t msglen) {
  npy_cursor_t c = {hdr, hdr + n};
  int seen[3] = {0, 0, 0}, dt = -1, fortran = 0;
  if (!accept(&c, '{')) goto malformed;
  while (!accept(&c, '}')) {
    const char *key, *val;
    size_t klen, vlen;
    if (!parse_string(&c, &key, &klen) || !accept(&c, ':')) goto malformed;
    if (klen == 5 && memcmp(key, "descr", 5) == 0 && !seen[0]) {
      if (!parse_string(&c, &val, &vlen)) goto malformed;
      if ((dt = dtype_from_descr(val, vlen)) < 0) {
        char what[96];
        snprintf(what, sizeof what, "unsupported dtype '%.*s' (want float32, "
                 "int8, uint8, int32 or int64)", (int)(vlen > 16 ? 16 : vlen), val);
        return fail_npy(msg, msglen, name, QRT_ERR_DTYPE, what);
      }
      seen[0] = 1;
    } else if (klen == 13 && memcmp(key, "fortran_order", 13) == 0 && !seen[1]) {
      if (parse_word(&c, "True")) fortran = 1;
      else if (!parse_word(&c, "False")) goto malformed;
      seen[1] = 1;
    } else if (klen == 5 && memcmp(key, "shape", 5) == 0 && !seen[2]) {
      if (!parse_shape(&c, h))
        return fail_npy(msg, msglen, name, QRT_ERR_FORMAT,
                        "malformed or too long shape");
      seen[2] = 1;
    } else {
      goto malformed;
    }
    if (!accept(&c, ',')) {
      if (!accept(&c, '}')) goto malformed;
      break;
    }
  }
  skip_space(&c);
  if (c.p != c.end || !seen[0] || !seen[1] || !seen[2]) goto malformed;
  if (fortran)
    return fail_npy(msg, msglen, name, QRT_ERR_FORMAT,
                    "Fortran-order arrays are not supported");
  h->dtype = (qrt_dtype_t)dt;
  return QRT_OK;
malformed:
  return fail_npy(msg, msglen, name, QRT_ERR_FORMAT, "malformed header dict");
}

/* Parses the preamble and header in buf[0..avail). When avail is too short
 * for the header, returns QRT_ERR_FORMAT with *need set to the bytes the
 * header needs (0 when the input is bad whatever follows). On success
 * h->data_bytes is the checked (overflow-free) size of the data. */
static qrt_status_t parse_header(const unsigned char *buf, size_t avail,
                                 npy_header_t *h, size_t *need,
                                 const char *name, char *msg, size_t msglen) {
  memset(h, 0, sizeof *h);
  *need = 0;
  if (avail < 10) {
    *need = 10;
    return fail_npy(msg, msglen, name, QRT_ERR_FORMAT,
                    avail >= 6 && memcmp(buf, "\x93NUMPY", 6) == 0
                        ? "truncated header" : "not a .npy file (bad magic)");
  }
  if (memcmp(buf, "\x93NUMPY", 6) != 0)
    return fail_npy(msg, msglen, name, QRT_ERR_FORMAT, "not a .npy file (bad magic)");
  size_t pre, hlen;
  if (buf[6] == 1) {
    pre = 10;
    hlen = buf[8] | (size_t)buf[9] << 8;
  } else if (buf[6] == 2 || buf[6] == 3) {
    pre = 12;
    if (avail < pre) {
      *need = pre;
      return fail_npy(msg, msglen, name, QRT_ERR_FORMAT, "truncated header");
    }
    hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
           (size_t)buf[11] << 24;
  } else {
    return fail_npy(msg, msglen, name, QRT_ERR_FORMAT,
                    "unsupported .npy format version");
  }
  if (hlen == 0 || hlen > (1u << 20))
    return fail_npy(msg, msglen, name, QRT_ERR_FORMAT, "bad header length");
  if (avail - pre < hlen) {
    *need = pre + hlen;
    return fail_npy(msg, msglen, name, QRT_ERR_FORMAT, "truncated header");
  }
  qrt_status_t st = parse_dict((const char *)buf + pre, hlen, h, name, msg, msglen);
  if (st != QRT_OK) return st;
  uint64_t bytes = qrt_dtype_size(h->dtype);
  for (int i = 0; i < h->rank; ++i) {
    if (h->dims[i] && bytes > (uint64_t)INT64_MAX / (uint64_t)h->dims[i])
      return fail_npy(msg, msglen, name, QRT_ERR_SHAPE,
                      "shape has too many elements");
    bytes *= (uint64_t)h->dims[i];
  }
  if (bytes > SIZE_MAX)
    return fail_npy(msg, msglen, name, QRT_ERR_SHAPE, "shape has too many elements");
  h->data_offset = pre + hlen;
  h->data_bytes = (size_t)bytes;
  return QRT_OK;
}

static const char kTruncated[] = "truncated data (file shorter than its shape says)";

qrt_status_t qrt_npy_read_buffer(const void *data, size_t size,
                                 const char *name, qrt_array_t *out, char *msg,
                                 size_t msglen) {
  if (!out || (!data && size)) return QRT_ERR_ARG;
  memset(out, 0, sizeof *out);
  if (!name) name = "<buffer>";
  npy_header_t h;
  size_t need;
  qrt_status_t st = parse_header(data, size, &h, &need, name, msg, msglen);
  if (st != QRT_OK) return st;
  if (size - h.data_offset < h.data_bytes)
    return fail_npy(msg, msglen, name, QRT_ERR_FORMAT, kTruncated);
  st = qrt_array_alloc(out, h.dtype, h.rank, h.dims);
  if (st != QRT_OK) return fail_npy(msg, msglen, name, st, qrt_status_str(st));
  if (h.data_bytes)
    memcpy(out->data, (const unsigned char *)data + h.data_offset, h.data_bytes);
  return QRT_OK;
}

/* Reads up to `n` bytes; returns how many were read. */
static size_t read_some(FILE *f, void *buf, size_t n) {
  return n ? fread(buf, 1, n, f) : 0;
}

/* Data of a stream whose size is unknown (a pipe): grown as bytes arrive,
 * never beyond what the header claims. */
static qrt_status_t read_stream_data(FILE *f, const npy_header_t *h,
                                     qrt_array_t *out, const char *path,
                                     char *msg, size_t msglen) {
  unsigned char *tmp = NULL;
  size_t have = 0, cap = 0;
  while (have < h->data_bytes) {
    if (have == cap) {
      size_t c = cap ? 2 * cap : 1u << 16;
      if (c > h->data_bytes) c = h->data_bytes;
      unsigned char *t = realloc(tmp, c);
      if (!t) {
        free(tmp);
        return fail_npy(msg, msglen, path, QRT_ERR_NOMEM, "out of memory");
      }
      tmp = t;
      cap = c;
    }
    size_t got = read_some(f, tmp + have, cap - have);
    if (got == 0) break;
    have += got;
  }
  qrt_status_t st = QRT_OK;
  if (have < h->data_bytes)
    st = fail_npy(msg, msglen, path, QRT_ERR_FORMAT, kTruncated);
  else if ((st = qrt_array_alloc(out, h->dtype, h->rank, h->dims)) != QRT_OK)
    fail_npy(msg, msglen, path, st, qrt_status_str(st));
  else if (h->data_bytes)
    memcpy(out->data, tmp, h->data_bytes);
  free(tmp);
  return st;
}

/* The path reader parses the header with the buffer reader's parser, then
 * checks a regular file's size against the shape before allocating. */
qrt_status_t qrt_npy_read(const char *path, qrt_array_t *out, char *msg,
                          size_t msglen) {
  if (!path || !out) return QRT_ERR_ARG;
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) return fail_npy(msg, msglen, path, QRT_ERR_IO, strerror(errno));
  unsigned char *hdr = NULL;
  size_t have = 0, need = 10, more;
  npy_header_t h;
  qrt_status_t st;
  for (;;) { /* the preamble, then exactly the rest of the header */
    unsigned char *t = realloc(hdr, need);
    if (!t) {
      st = fail_npy(msg, msglen, path, QRT_ERR_NOMEM, "out of memory");
      goto done;
    }
    hdr = t;
    have += read_some(f, hdr + have, need - have);
    st = parse_header(hdr, have, &h, &more, path, msg, msglen);
    if (st == QRT_OK || more <= have || have < need) break;
    need = more;
  }
  if (st != QRT_OK) goto done;
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    st = read_stream_data(f, &h, out, path, msg, msglen);
    goto done;
  }
  if ((uint64_t)sb.st_size < h.data_offset ||
      (uint64_t)sb.st_size - h.data_offset < h.data_bytes) {
    st = fail_npy(msg, msglen, path, QRT_ERR_FORMAT, kTruncated);
    goto done;
  }
  if ((st = qrt_array_alloc(out, h.dtype, h.rank, h.dims)) != QRT_OK) {
    fail_npy(msg, msglen, path, st, qrt_status_str(st));
    goto done;
  }
  if (read_some(f, out->data, h.data_bytes) != h.data_bytes) {
    qrt_array_free(out);
    st = fail_npy(msg, msglen, path, QRT_ERR_FORMAT, kTruncated);
  }
done:
  free(hdr);
  fclose(f);
  return st;
}

qrt_status_t qrt_npy_save(const char *path, const qrt_array_t *a, char *msg, size_t msglen) {
  if (msg && msglen) msg[0] = 0;
  if (!path || !a || (unsigned)a->dtype > QRT_I64 || a->rank < 0 || a->rank > QRT_MAX_RANK)
    return QRT_ERR_ARG;
  char dict[512];
  int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                   kDescr[a->dtype]);
  for (int i = 0; i < a->rank; ++i)
    n += snprintf(dict + n, sizeof dict - n, "%lld,%s", (long long)a->dims[i],
                  (i + 1 < a->rank) ? " " : "");
  if (a->rank > 1) n--; /* NumPy writes (2, 3) but (5,) */
  n += snprintf(dict + n, sizeof dict - n, "), }");
  /* Pad so that 10 + header length is a multiple of 64, ending in '\n'. */
  size_t total = 10 + (size_t)n + 1;
  size_t pad = (64 - total % 64) % 64;
  size_t hlen = (size_t)n + pad + 1;
  char err[1200];
  qoOutput *o;
  if (qoOutputOpen(path, &o, err, sizeof err) != 0) {
    if (msg && msglen) snprintf(msg, msglen, "%s", err);
    return QRT_ERR_IO;
  }
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                           (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
  qoOutputWrite(o, pre, 10);
  qoOutputWrite(o, dict, (size_t)n);
  for (size_t i = 0; i < pad; ++i) qoOutputWrite(o, " ", 1);
  qoOutputWrite(o, "\n", 1);
  qoOutputWrite(o, a->data, (size_t)qrt_array_numel(a) * qrt_dtype_size(a->dtype));
  if (qoOutputCommit(o, err, sizeof err) != 0) {
    if (msg && msglen) snprintf(msg, msglen, "%s", err);
    return QRT_ERR_IO;
  }
  return QRT_OK;
}

qrt_status_t qrt_npy_write(const char *path, const qrt_array_t *a) {
  return qrt_npy_save(path, a, NULL, 0);
}
