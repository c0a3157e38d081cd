/* Loading input: .mlir text (file or stdin) or .onnx through the importer.
 *
 * MLIR text is parsed with its buffer name so diagnostics carry
 * file:line:col. A text without a top-level `module` is wrapped in one, the
 * way mlir-opt does, keeping line numbers unchanged. */
#include "quant-opt/compiler.h"

#include <stdlib.h>
#include <string.h>

static MlirStringRef S(const char *s) { return mlirStringRefCreateFromCString(s); }

/* Skips blanks and // comments; returns the first significant char. */
static const char *firstToken(const char *p, const char *end) {
  while (p < end) {
    if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
      ++p;
    } else if (p + 1 < end && p[0] == '/' && p[1] == '/') {
      while (p < end && *p != '\n') ++p;
    } else if (*p == '#' || *p == '!') {
      /* attribute/type alias definitions precede the module: skip the line */
      while (p < end && *p != '\n') ++p;
    } else {
      break;
    }
  }
  return p;
}

MlirModule qoParseSource(MlirContext ctx, const char *text, size_t length,
                         const char *bufferName) {
  const char *end = text + length;
  const char *t = firstToken(text, end);
  int hasModule = (end - t >= 6 && strncmp(t, "module", 6) == 0) ||
                  (end - t >= 14 && strncmp(t, "builtin.module", 14) == 0);
  MlirOperation op;
  if (hasModule) {
    op = mlirOperationCreateParse(ctx, (MlirStringRef){text, length}, S(bufferName));
  } else {
    /* Insert "module { " before the first significant token: line numbers
     * stay exact (that one line's columns shift by 9). */
    size_t at = (size_t)(t - text);
    char *buf = malloc(length + 16);
    if (!buf) return (MlirModule){NULL};
    size_t n = at;
    memcpy(buf, text, at);
    memcpy(buf + n, "module { ", 9);
    n += 9;
    memcpy(buf + n, text + at, length - at);
    n += length - at;
    memcpy(buf + n, "\n}\n", 3);
    n += 3;
    op = mlirOperationCreateParse(ctx, (MlirStringRef){buf, n}, S(bufferName));
    free(buf);
  }
  if (mlirOperationIsNull(op)) return (MlirModule){NULL};
  MlirModule m = mlirModuleFromOperation(op);
  if (mlirModuleIsNull(m)) {
    mlirEmitError(mlirOperationGetLocation(op),
                  "expected a builtin.module at the top level");
    mlirOperationDestroy(op);
  }
  return m;
}

static char *readAll(FILE *f, size_t *len) {
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  for (;;) {
    if (n == cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) { free(buf); return NULL; }
      buf = nb;
      cap *= 2;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) break;
  }
  if (ferror(f)) { free(buf); return NULL; }
  *len = n;
  return buf;
}

static int endsWith(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

MlirModule qoLoadSourceFile(MlirContext ctx, const char *path,
                            const qoOnnxImportOptions *onnxOpts) {
  MlirLocation unknown = mlirLocationUnknownGet(ctx);
  int isStdin = strcmp(path, "-") == 0;
  FILE *f = isStdin ? stdin : fopen(path, "rb");
  if (!f) {
    char msg[600];
    snprintf(msg, sizeof msg, "cannot open input file '%s'", path);
    mlirEmitError(unknown, msg);
    return (MlirModule){NULL};
  }
  size_t len = 0;
  char *data = readAll(f, &len);
  if (!isStdin) fclose(f);
  if (!data) {
    char msg[600];
    snprintf(msg, sizeof msg, "cannot read input file '%s'", path);
    mlirEmitError(unknown, msg);
    return (MlirModule){NULL};
  }
  MlirModule m = {NULL};
  if (endsWith(path, ".onnx")) {
    char *err = NULL;
    qoOnnxImportOptions dflt = {0};
    char *text = qoOnnxImportBufferToText(data, len, path, onnxOpts ? onnxOpts : &dflt, &err);
    if (!text) {
      /* The importer's message is "path: error: what": drop the prefix, the
       * diagnostic printer adds it back. */
      const char *msg = err ? err : "ONNX import failed";
      const char *e = strstr(msg, ": error: ");
      mlirEmitError(unknown, e ? e + 9 : msg);
      free(err);
    } else {
      m = qoParseSource(ctx, text, strlen(text), path);
      free(text);
    }
  } else {
    m = qoParseSource(ctx, data, len, isStdin ? "<stdin>" : path);
  }
  free(data);
  return m;
}
