/* quant-opt runtime (qrt): plain C, no MLIR headers. Linked into quant-opt's
 * tools and into every shared library quant-opt emits.
 *
 * - .npy reading/writing (NumPy format 1.0/2.0; float32, int8, uint8, int32,
 *   int64; C order), used by qo-run and the tests;
 * - the small support routines generated code calls (strided memref copy). */
#ifndef QUANT_OPT_QRT_H
#define QUANT_OPT_QRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qrt_status {
  QRT_OK = 0,
  QRT_ERR_IO,      /* file missing, unreadable, short read/write */
  QRT_ERR_FORMAT,  /* not a valid .npy file */
  QRT_ERR_DTYPE,   /* dtype not supported */
  QRT_ERR_SHAPE,   /* shape does not fit */
  QRT_ERR_NOMEM,
  QRT_ERR_ARG,
} qrt_status_t;

const char *qrt_status_str(qrt_status_t s);

typedef enum qrt_dtype {
  QRT_F32 = 0, QRT_I8 = 1, QRT_U8 = 2, QRT_I32 = 3, QRT_I64 = 4
} qrt_dtype_t;

size_t qrt_dtype_size(qrt_dtype_t t);
const char *qrt_dtype_name(qrt_dtype_t t); /* "float32", "int8", ... */

#define QRT_MAX_RANK 8

/* A dense, row-major, owned array. */
typedef struct qrt_array {
  qrt_dtype_t dtype;
  int rank;
  int64_t dims[QRT_MAX_RANK];
  void *data; /* malloc'd, 64-byte aligned */
} qrt_array_t;

int64_t qrt_array_numel(const qrt_array_t *a);

/* Reads `path` into *out (caller calls qrt_array_free). On failure *out is
 * left empty and, if `msg` is non-NULL, a description is written into it. */
qrt_status_t qrt_npy_read(const char *path, qrt_array_t *out, char *msg,
                          size_t msglen);

/* Same, from the bytes of a .npy file in memory; `name` (NULL: "<buffer>")
 * stands for the path in messages. The data is copied into *out. */
qrt_status_t qrt_npy_read_buffer(const void *data, size_t size,
                                 const char *name, qrt_array_t *out, char *msg,
                                 size_t msglen);

/* Writes `a` to `path`: a regular file atomically (temporary file + rename:
 * no partial file on failure), a device or FIFO (/dev/null, /dev/stdout) in
 * place, never replaced; "-" is standard output. On failure `msg` (may be
 * NULL) says why ("cannot write 'x.npy': No space left on device"). */
qrt_status_t qrt_npy_save(const char *path, const qrt_array_t *a, char *msg, size_t msglen);

/* qrt_npy_save without the message. */
qrt_status_t qrt_npy_write(const char *path, const qrt_array_t *a);

/* Allocates a zeroed array of the given shape. */
qrt_status_t qrt_array_alloc(qrt_array_t *a, qrt_dtype_t dtype, int rank,
                             const int64_t *dims);

void qrt_array_free(qrt_array_t *a);

#ifdef __cplusplus
}
#endif
#endif /* QUANT_OPT_QRT_H */
