/* Textual pass pipelines mixing quant-opt passes and upstream ones.
 *
 * MLIR 22 cannot register a named external pass, so we parse the pipeline
 * ourselves. Grammar (the same as MLIR's):
 *   pipeline := [anchor '('] elements [')']
 *   elements := element (',' element)*
 *   element  := name ['{' options '}'] | opname '(' elements ')'
 * For each element: a nested op name recurses into
 * mlirOpPassManagerGetNestedUnder; a quant-opt pass is created from the pass
 * table with its options; a named pipeline is expanded in place; anything
 * else is forwarded verbatim to mlirOpPassManagerAddPipeline, so upstream
 * passes keep their own option parsing and error messages. */
#include "quant-opt/compiler.h"
#include "passes/Registry.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The lowering used by `lower-to-llvm`, --emit and the JIT. Float and
 * integer TOSA go through linalg, are bufferized with identity layouts and
 * results turned into out-parameters (the C ABI: forward(in..., out...)). */
static const char kLowerToLLVM[] =
    "builtin.module("
    "func.func(quant-lower-fake-quant,quant-fold-batchnorm,quant-decompose-batchnorm,"
    "tosa-optional-decompositions),"
    "quant-x86-kernels,"
    "func.func(tosa-to-linalg-named,tosa-to-linalg,"
    "tosa-to-arith{include-apply-rescale=true},tosa-to-tensor,"
    "convert-elementwise-to-linalg),"
    "canonicalize,linalg-fuse-elementwise-ops,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-results-to-out-params{hoist-static-allocs modify-public-functions},"
    "buffer-deallocation-pipeline,quant-materialize-kernels,"
    "convert-linalg-to-loops,func.func(quant-reassociate-float),convert-vector-to-scf,expand-strided-metadata,"
    "lower-affine,convert-scf-to-cf,convert-vector-to-llvm,"
    "convert-math-to-llvm,convert-math-to-libm,"
    "finalize-memref-to-llvm{use-generic-functions=true},convert-to-llvm,"
    "reconcile-unrealized-casts)";

static const qoNamedPipeline kNamed[] = {
    {"lower-to-llvm", "TOSA/linalg (float or int) -> LLVM dialect with the C ABI",
     kLowerToLLVM},
    {"quant-prepare", "fold BN, then Q-DQ pairs on fusion-group boundaries (default scheme)",
     "builtin.module(func.func(quant-fold-batchnorm,quant-insert-qdq))"},
    {"quant-lower-int", "calibrated Q-DQ groups -> int8 TOSA arithmetic",
     "builtin.module(func.func(quant-lower-to-integer))"},
    {"lower-to-linalg", "qo.batch_norm decomposed, TOSA -> linalg on tensors",
     "builtin.module(func.func(quant-decompose-batchnorm,"
     "tosa-optional-decompositions),func.func(tosa-to-linalg-named,"
     "tosa-to-linalg,tosa-to-arith{include-apply-rescale=true},"
     "tosa-to-tensor),canonicalize)"},
};

size_t qoGetNumNamedPipelines(void) { return sizeof kNamed / sizeof kNamed[0]; }
const qoNamedPipeline *qoGetNamedPipeline(size_t i) {
  return i < qoGetNumNamedPipelines() ? &kNamed[i] : NULL;
}
const qoNamedPipeline *qoLookupNamedPipeline(const char *name) {
  for (size_t i = 0; i < qoGetNumNamedPipelines(); ++i)
    if (strcmp(kNamed[i].name, name) == 0) return &kNamed[i];
  return NULL;
}
const char *qoGetLowerToLLVMPipeline(void) { return kNamed[0].pipeline; }

typedef struct Parser {
  char **error;
  int depth;   /* named pipelines being expanded */
  int nesting; /* op(...) levels */
} Parser;

static void fail(Parser *p, const char *fmt, ...) {
  if (*p->error) return;
  char *m = malloc(1024);
  if (!m) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m, 1024, fmt, ap);
  va_end(ap);
  *p->error = m;
}

static int isNameChar(char c) {
  return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/* Returns the index of the bracket matching s[i] (one of '(' '{'), or -1. */
static long matchBracket(const char *s, size_t n, size_t i) {
  int depth = 0;
  char quote = 0;
  for (size_t k = i; k < n; ++k) {
    char c = s[k];
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    else if (c == '(' || c == '{' || c == '[') ++depth;
    else if (c == ')' || c == '}' || c == ']') {
      if (--depth == 0) return (long)k;
    }
  }
  return -1;
}

typedef struct {
  char *msg;
} UpstreamErr;

static void collectErr(MlirStringRef s, void *ud) {
  UpstreamErr *e = ud;
  size_t old = e->msg ? strlen(e->msg) : 0;
  char *m = realloc(e->msg, old + s.length + 1);
  if (!m) return;
  memcpy(m + old, s.data, s.length);
  m[old + s.length] = 0;
  e->msg = m;
}

static int parseElements(Parser *p, MlirOpPassManager opm, const char *anchor, const char *s, size_t n);

static int addNamed(Parser *p, MlirOpPassManager opm, const char *opAnchor, const qoNamedPipeline *np) {
  if (++p->depth > 16) {
    fail(p, "named pipeline '%s' expands recursively", np->name);
    return -1;
  }
  const char *t = np->pipeline;
  size_t n = strlen(t);
  const char *anchor = "builtin.module(";
  int rc;
  if (strncmp(t, anchor, strlen(anchor)) == 0 && t[n - 1] == ')')
    rc = parseElements(p, opm, opAnchor, t + strlen(anchor), n - strlen(anchor) - 1);
  else
    rc = parseElements(p, opm, opAnchor, t, n);
  --p->depth;
  return rc;
}

static int parseElement(Parser *p, MlirOpPassManager opm, const char *anchor, const char *s, size_t n) {
  size_t i = 0;
  while (i < n && isspace((unsigned char)s[i])) ++i;
  size_t ns = i;
  while (i < n && isNameChar(s[i])) ++i;
  size_t nlen = i - ns;
  const char *name = s + ns;
  size_t e = n;
  while (e > i && isspace((unsigned char)s[e - 1])) --e;
  if (nlen == 0) {
    fail(p, "expected a pass or op name in pipeline at '%.*s'", (int)(n > 40 ? 40 : n), s);
    return -1;
  }
  if (i < e && s[i] == '(') {
    long close = matchBracket(s, e, i);
    if (close != (long)e - 1) {
      fail(p, "unbalanced parentheses after '%.*s'", (int)nlen, name);
      return -1;
    }
    char opname[128];
    if (nlen >= sizeof opname || !memchr(name, '.', nlen)) {
      fail(p, "'%.*s(...)' does not name an operation (dialect.op) to nest passes under", (int)(nlen > 60 ? 60 : nlen),
           name);
      return -1;
    }
    if (++p->nesting > 32) {
      fail(p, "pipeline nested more than 32 levels deep");
      return -1;
    }
    snprintf(opname, sizeof opname, "%.*s", (int)nlen, name);
    MlirOpPassManager nested =
        mlirOpPassManagerGetNestedUnder(opm, mlirStringRefCreateFromCString(opname));
    int rc = parseElements(p, nested, opname, s + i + 1, (size_t)close - i - 1);
    --p->nesting;
    return rc;
  }
  const char *opts = "";
  size_t optsLen = 0;
  if (i < e && s[i] == '{') {
    long close = matchBracket(s, e, i);
    if (close != (long)e - 1) {
      fail(p, "unbalanced braces in the options of '%.*s'", (int)nlen, name);
      return -1;
    }
    opts = s + i + 1;
    optsLen = (size_t)close - i - 1;
  } else if (i != e) {
    fail(p, "unexpected '%.*s' after pass '%.*s'", (int)(e - i), s + i, (int)nlen, name);
    return -1;
  }
  const qoPassDef *def = qoLookupPass(name, nlen);
  if (def) {
    /* A pass runs on its anchor op: a func.func pass at module level is
     * nested for the user (as if written func.func(pass)); any other
     * mismatch is an error (MLIR would abort). */
    MlirOpPassManager target = opm;
    if (strcmp(def->anchor, anchor) != 0) {
      if (!strcmp(anchor, "builtin.module") && !strcmp(def->anchor, "func.func")) {
        target = mlirOpPassManagerGetNestedUnder(opm, mlirStringRefCreateFromCString("func.func"));
      } else {
        fail(p, "pass '%s' runs on '%s' ops and cannot be nested inside '%s(...)'%s", def->argument,
             def->anchor, anchor,
             !strcmp(def->anchor, "builtin.module") ? "; use it at the top level of the pipeline" : "");
        return -1;
      }
    }
    MlirPass pass = qoCreatePass(def, opts, optsLen, p->error);
    if (!pass.ptr) return -1;
    mlirOpPassManagerAddOwnedPass(target, pass);
    return 0;
  }
  char nm[128];
  snprintf(nm, sizeof nm, "%.*s", (int)nlen, name);
  const qoNamedPipeline *np = qoLookupNamedPipeline(nm);
  if (np) {
    if (optsLen) {
      fail(p, "named pipeline '%s' takes no options", nm);
      return -1;
    }
    if (strcmp(anchor, "builtin.module") != 0) {
      fail(p, "named pipeline '%s' runs on the whole module and cannot be nested inside '%s(...)'; "
              "use it at the top level of the pipeline", nm, anchor);
      return -1;
    }
    return addNamed(p, opm, anchor, np);
  }
  UpstreamErr ue = {0};
  MlirLogicalResult r = mlirOpPassManagerAddPipeline(
      opm, (MlirStringRef){s + ns, e - ns}, collectErr, &ue);
  if (mlirLogicalResultIsFailure(r)) {
    if (ue.msg && strstr(ue.msg, "does not refer to a registered pass"))
      fail(p, "unknown pass or pipeline '%s' (see --list-passes)", nm);
    else
      fail(p, "%s", ue.msg ? ue.msg : "invalid pipeline element");
    free(ue.msg);
    return -1;
  }
  free(ue.msg);
  return 0;
}

static int parseElements(Parser *p, MlirOpPassManager opm, const char *anchor, const char *s, size_t n) {
  size_t start = 0;
  int depth = 0;
  char quote = 0;
  size_t k;
  int any = 0;
  for (k = 0; k <= n; ++k) {
    char c = k < n ? s[k] : ',';
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    else if (c == '(' || c == '{' || c == '[') ++depth;
    else if (c == ')' || c == '}' || c == ']') {
      if (--depth < 0) {
        fail(p, "unbalanced '%c' in pipeline", c);
        return -1;
      }
    } else if (c == ',' && depth == 0) {
      size_t a = start, b = k;
      while (a < b && isspace((unsigned char)s[a])) ++a;
      if (a < b) {
        if (parseElement(p, opm, anchor, s + a, b - a) != 0) return -1;
        any = 1;
      } else if (k < n) {
        fail(p, "empty element in pipeline");
        return -1;
      }
      start = k + 1;
    }
  }
  if (depth != 0 || quote) {
    fail(p, "unbalanced brackets or quotes in pipeline");
    return -1;
  }
  (void)any;
  return 0;
}

MlirLogicalResult qoParsePassPipeline(MlirPassManager pm, const char *pipeline,
                                      char **error) {
  *error = NULL;
  Parser p = {error, 0, 0};
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  const char *s = pipeline;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) --n;
  while (n && isspace((unsigned char)*s)) ++s, --n;
  const char *anchor = "builtin.module";
  size_t al = strlen(anchor);
  if (n > al && strncmp(s, anchor, al) == 0 && s[al] == '(') {
    if (matchBracket(s, n, al) != (long)n - 1) {
      fail(&p, "unbalanced parentheses in pipeline '%s'", pipeline);
      return mlirLogicalResultFailure();
    }
    s += al + 1;
    n -= al + 2;
  } else if (n && !isNameChar(*s)) {
    fail(&p, "malformed pipeline '%s'", pipeline);
    return mlirLogicalResultFailure();
  }
  return parseElements(&p, opm, "builtin.module", s, n) == 0 ? mlirLogicalResultSuccess()
                                           : mlirLogicalResultFailure();
}
