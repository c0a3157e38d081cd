/* Growable, NUL-terminated string buffer (support/buffer.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/buffer.h"

static int reserve(qoBuf *b, size_t extra) {
  if (b->failed)
    return 0;
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return 1;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need)
    cap *= 2;
  char *p = realloc(b->data, cap);
  if (!p) {
    b->failed = 1;
    return 0;
  }
  b->data = p;
  b->cap = cap;
  return 1;
}

void qoBufAppendN(qoBuf *b, const char *s, size_t n) {
  if (!reserve(b, n))
    return;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void qoBufAppend(qoBuf *b, const char *s) { qoBufAppendN(b, s, strlen(s)); }

void qoBufVPrintf(qoBuf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0 || !reserve(b, (size_t)n))
    return;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void qoBufPrintf(qoBuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  qoBufVPrintf(b, fmt, ap);
  va_end(ap);
}

void qoBufAppendEscaped(qoBuf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
    if (*p == '"' || *p == '\\' || *p < 0x20 || *p >= 0x7f) {
      char e[3] = {'\\', hex[*p >> 4], hex[*p & 15]};
      qoBufAppendN(b, e, 3);
    } else {
      qoBufAppendN(b, (const char *)p, 1);
    }
  }
}

void qoBufFree(qoBuf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

char *qoBufTake(qoBuf *b) {
  if (!b->failed && !b->data && reserve(b, 0))
    b->data[0] = '\0';
  if (b->failed) {
    qoBufFree(b);
    return NULL;
  }
  char *s = b->data;
  memset(b, 0, sizeof *b);
  return s;
}
