/* .npy reading and writing (NumPy format versions 1.0, 2.0 and 3.0).
 *
 * The header is a Python dict literal; we parse only what NumPy writes:
 * {'descr': '<f4', 'fortran_order': False, 'shape': (N, C, H, W), }.
 * Every malformed header, unknown dtype, Fortran order, or short file is a
 * status, never a crash. Writes go through support/output.c (a temporary file
 * renamed into place; devices and FIFOs written in place). */
#include "quant-opt/qrt.h"
#include "support/output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) {
    if (dims[i] < 0 || (dims[i] && n > INT64_MAX / 4 / dims[i]))
      return QRT_ERR_SHAPE;
    a->dims[i] = dims[i];
    n *= dims[i];
  }
  size_t bytes = (size_t)n * qrt_dtype_size(dtype);
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

/* Finds `'key':` in the header dict and returns the text after the colon. */
static const char *find_key(const char *hdr, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "'%s'", key);
  const char *p = strstr(hdr, pat);
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ') ++p;
  if (*p != ':') return NULL;
  ++p;
  while (*p == ' ') ++p;
  return p;
}

qrt_status_t qrt_npy_read(const char *path, qrt_array_t *out, char *msg,
                          size_t msglen) {
  if (!path || !out) return QRT_ERR_ARG;
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) {
    set_msg(msg, msglen, path, strerror(errno));
    return QRT_ERR_IO;
  }
  qrt_status_t st = QRT_ERR_FORMAT;
  char *hdr = NULL;
  unsigned char pre[10];
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
    set_msg(msg, msglen, path, "not a .npy file (bad magic)");
    goto done;
  }
  size_t hlen;
  if (pre[6] == 1) {
    hlen = pre[8] | (size_t)pre[9] << 8;
  } else if (pre[6] == 2 || pre[6] == 3) {
    unsigned char b[2];
    if (fread(b, 1, 2, f) != 2) { set_msg(msg, msglen, path, "truncated header"); goto done; }
    hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)b[0] << 16 | (size_t)b[1] << 24;
  } else {
    set_msg(msg, msglen, path, "unsupported .npy format version");
    goto done;
  }
  if (hlen == 0 || hlen > (1u << 20)) {
    set_msg(msg, msglen, path, "bad header length");
    goto done;
  }
  hdr = malloc(hlen + 1);
  if (!hdr) { st = QRT_ERR_NOMEM; goto done; }
  if (fread(hdr, 1, hlen, f) != hlen) {
    set_msg(msg, msglen, path, "truncated header");
    goto done;
  }
  hdr[hlen] = 0;
  const char *d = find_key(hdr, "descr");
  const char *fo = find_key(hdr, "fortran_order");
  const char *sh = find_key(hdr, "shape");
  if (!d || !fo || !sh || *d != '\'' || *sh != '(') {
    set_msg(msg, msglen, path, "malformed header dict");
    goto done;
  }
  int dt = -1;
  for (int i = 0; i < 5; ++i)
    if (strncmp(d + 1, kDescr[i], 3) == 0 && d[4] == '\'') dt = i;
  /* NumPy writes '|i1'/'|u1' but also accepts '<i1'. */
  if (dt < 0 && (strncmp(d + 1, "<i1'", 4) == 0)) dt = QRT_I8;
  if (dt < 0 && (strncmp(d + 1, "<u1'", 4) == 0)) dt = QRT_U8;
  if (dt < 0) {
    char what[96];
    const char *e = strchr(d + 1, '\'');
    int n = e ? (int)(e - d - 1) : 8;
    snprintf(what, sizeof what, "unsupported dtype '%.*s' (want float32, int8, uint8, int32 or int64)",
             n > 16 ? 16 : n, d + 1);
    set_msg(msg, msglen, path, what);
    st = QRT_ERR_DTYPE;
    goto done;
  }
  if (strncmp(fo, "False", 5) != 0) {
    set_msg(msg, msglen, path, "Fortran-order arrays are not supported");
    goto done;
  }
  int64_t dims[QRT_MAX_RANK];
  int rank = 0;
  const char *p = sh + 1;
  for (;;) {
    while (*p == ' ' || *p == ',') ++p;
    if (*p == ')') break;
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (end == p || v < 0 || errno || rank == QRT_MAX_RANK) {
      set_msg(msg, msglen, path, "malformed or too long shape");
      goto done;
    }
    dims[rank++] = v;
    p = end;
  }
  st = qrt_array_alloc(out, (qrt_dtype_t)dt, rank, dims);
  if (st != QRT_OK) {
    set_msg(msg, msglen, path, qrt_status_str(st));
    goto done;
  }
  size_t bytes = (size_t)qrt_array_numel(out) * qrt_dtype_size(out->dtype);
  if (fread(out->data, 1, bytes, f) != bytes) {
    set_msg(msg, msglen, path, "truncated data (file shorter than its shape says)");
    qrt_array_free(out);
    st = QRT_ERR_FORMAT;
    goto done;
  }
  st = QRT_OK;
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
