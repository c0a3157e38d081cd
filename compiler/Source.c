/* Loading input: .mlir text (file or stdin) or .onnx through the importer.
 *
 * MLIR text is parsed with its buffer name so diagnostics carry
 * file:line:col. A text without a top-level `module` is wrapped in one, the
 * way mlir-opt does, keeping line numbers unchanged. */
#include "quant-opt/compiler.h"

#include <stdio.h>
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

/* MLIR's parser recurses once per nesting level of regions, attributes and
 * types; tens of thousands of levels overflow the stack. Real IR stays far
 * below this limit. */
enum { MAX_NESTING = 1000 };

/* Finds the first place where brackets ({ ( [ and the < of type and
 * attribute parameters) nest deeper than MAX_NESTING, outside comments and
 * string literals. Returns 1 and its line and column, else 0. */
static int tooDeep(const char *p, const char *end, int *line, int *col) {
  int depth = 0, ln = 1;
  const char *lineStart = p;
  for (const char *c = p; c < end; ++c) {
    switch (*c) {
    case '\n':
      ++ln;
      lineStart = c + 1;
      break;
    case '/':
      if (c + 1 < end && c[1] == '/')
        while (c + 1 < end && c[1] != '\n') ++c;
      break;
    case '"':
      for (++c; c < end && *c != '"'; ++c) {
        if (*c == '\\' && c + 1 < end) ++c;
        else if (*c == '\n') ++ln, lineStart = c + 1;
      }
      break;
    case '{': case '(': case '[': case '<':
      /* '<' opens parameters after a keyword (tensor<, dense<), not in "<=". */
      if (*c == '<' && (c == p || !(c[-1] == '_' || c[-1] == '.' || (c[-1] >= 'a' && c[-1] <= 'z') ||
                                    (c[-1] >= 'A' && c[-1] <= 'Z') || (c[-1] >= '0' && c[-1] <= '9'))))
        break;
      if (++depth > MAX_NESTING) {
        *line = ln;
        *col = (int)(c - lineStart) + 1;
        return 1;
      }
      break;
    case '}': case ')': case ']':
      if (depth > 0) --depth;
      break;
    case '>':
      if (depth > 0 && !(c > p && c[-1] == '-')) --depth; /* not the arrow "->" */
      break;
    }
  }
  return 0;
}

MlirModule qoParseSource(MlirContext ctx, const char *text, size_t length,
                         const char *bufferName) {
  const char *end = text + length;
  int line, col;
  if (tooDeep(text, end, &line, &col)) {
    MlirLocation loc = mlirLocationFileLineColGet(ctx, S(bufferName), (unsigned)line, (unsigned)col);
    char msg[128];
    snprintf(msg, sizeof msg, "the input nests more than %d levels deep here; refusing to parse it",
             MAX_NESTING);
    mlirEmitError(loc, msg);
    return (MlirModule){NULL};
  }
  const char *t = firstToken(text, end);
  int hasModule = (end - t >= 6 && strncmp(t, "module", 6) == 0) ||
                  (end - t >= 14 && strncmp(t, "builtin.module", 14) == 0);
  /* The parser reads up to a NUL terminator, not `length`: always parse a
   * terminated copy. Without a top-level module, insert "module { " before
   * the first significant token: line numbers stay exact (that one line's
   * columns shift by 9). */
  size_t at = hasModule ? 0 : (size_t)(t - text);
  char *buf = malloc(length + 16);
  if (!buf) {
    mlirEmitError(mlirLocationUnknownGet(ctx), "out of memory");
    return (MlirModule){NULL};
  }
  size_t n = at;
  memcpy(buf, text, at);
  if (!hasModule) {
    memcpy(buf + n, "module { ", 9);
    n += 9;
  }
  memcpy(buf + n, text + at, length - at);
  n += length - at;
  if (!hasModule) {
    memcpy(buf + n, "\n}\n", 3);
    n += 3;
  }
  buf[n] = 0;
  MlirOperation op = mlirOperationCreateParse(ctx, (MlirStringRef){buf, n}, S(bufferName));
  free(buf);
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
    /* External data initializers are read from the model's own folder. */
    char *dir = isStdin ? NULL : strdup(path);
    if (dir) {
      char *slash = strrchr(dir, '/');
      if (slash) slash[slash == dir ? 1 : 0] = 0;
      else strcpy(dir, ".");
    }
    char *text = NULL;
    qoOnnxImportBuffer(data, len, path, dir, onnxOpts ? onnxOpts : &dflt, &text, &err);
    free(dir);
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
