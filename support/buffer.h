/* A growable, NUL-terminated string buffer: the ONNX importer builds its
 * MLIR text with it, quant-x86-kernels its kernels' text.
 *
 * Zero-initialize a qoBuf to start. Allocation failures are sticky
 * (qoBuf.failed): further appends are ignored, so writers need not check
 * every call; qoBufTake reports the failure once at the end. */
#ifndef QO_SUPPORT_BUFFER_H
#define QO_SUPPORT_BUFFER_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define QO_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define QO_PRINTF(f, a)
#endif

typedef struct qoBuf {
  char *data;
  size_t len, cap;
  int failed; /* an allocation failed; further appends are ignored */
} qoBuf;

void qoBufAppend(qoBuf *b, const char *s);
void qoBufAppendN(qoBuf *b, const char *s, size_t n);
void qoBufPrintf(qoBuf *b, const char *fmt, ...) QO_PRINTF(2, 3);
void qoBufVPrintf(qoBuf *b, const char *fmt, va_list ap);
/* Appends `s` as the body of an MLIR string literal (no quotes). */
void qoBufAppendEscaped(qoBuf *b, const char *s);
void qoBufFree(qoBuf *b);
/* Returns the NUL-terminated text (caller frees) and resets `b`; NULL if an
 * allocation failed. */
char *qoBufTake(qoBuf *b);

#endif
