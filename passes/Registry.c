/* The pass table: turns passes/Passes.def into external MLIR passes.
 *
 * MLIR 22's C API cannot register a named pass, so textual pipelines never
 * see quant-opt's passes; compiler/Pipeline.c asks this file for them by name
 * (qoLookupPass) and creates them with their parsed options (qoCreatePass). */
#include "passes/Registry.h"

#include "mlir-c/Pass.h"
#include "mlir-c/Support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QO_PASS(Ident, Arg, Anchor, Summary) &qo##Ident##Pass,
static const qoPassDef *const kPasses[] = {
#include "passes/Passes.def"
};
#undef QO_PASS
#define NUM_PASSES (sizeof kPasses / sizeof kPasses[0])

/* One distinct, 8-byte aligned TypeID anchor per pass kind. */
static _Alignas(8) char kTypeIds[NUM_PASSES][8];

size_t qoGetNumPasses(void) { return NUM_PASSES; }
const char *qoGetPassArgument(size_t i) {
  return i < NUM_PASSES ? kPasses[i]->argument : NULL;
}

const qoPassDef *qoLookupPass(const char *name, size_t len) {
  for (size_t i = 0; i < NUM_PASSES; ++i)
    if (strlen(kPasses[i]->argument) == len &&
        memcmp(kPasses[i]->argument, name, len) == 0)
      return kPasses[i];
  return NULL;
}

void qoPrintPassList(FILE *out) {
  for (size_t i = 0; i < NUM_PASSES; ++i) {
    const qoPassDef *d = kPasses[i];
    fprintf(out, "  %-32s %s (on %s)\n", d->argument, d->summary, d->anchor);
    for (int o = 0; o < d->numOptions; ++o)
      fprintf(out, "      %s=<%s>%*s %s\n", d->options[o].name,
              d->options[o].defaultValue,
              (int)(24 - strlen(d->options[o].name) - strlen(d->options[o].defaultValue)) > 0
                  ? (int)(24 - strlen(d->options[o].name) - strlen(d->options[o].defaultValue))
                  : 1,
              "", d->options[o].help);
  }
}

/* The external pass's user data: its definition and option values. Each
 * clone gets its own deep copy, so destruct frees exactly what it owns. */
typedef struct PassInstance {
  const qoPassDef *def;
  char *values[QO_MAX_PASS_OPTIONS];
} PassInstance;

static void instConstruct(void *ud) { (void)ud; }

static void instDestruct(void *ud) {
  PassInstance *p = ud;
  for (int i = 0; i < QO_MAX_PASS_OPTIONS; ++i) free(p->values[i]);
  free(p);
}

static PassInstance *instCreate(const qoPassDef *def, char *const *values) {
  PassInstance *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->def = def;
  for (int i = 0; i < def->numOptions; ++i) {
    p->values[i] = strdup(values[i]);
    if (!p->values[i]) {
      instDestruct(p);
      return NULL;
    }
  }
  return p;
}

static void *instClone(void *ud) {
  PassInstance *p = ud;
  return instCreate(p->def, p->values);
}

static void instRun(MlirOperation op, MlirExternalPass pass, void *ud) {
  PassInstance *p = ud;
  p->def->run(op, pass, (const char *const *)p->values);
}

static char *fmtError(const char *fmt, const char *a, size_t alen, const char *b) {
  char *m = malloc(512);
  if (m) snprintf(m, 512, fmt, (int)alen, a, b);
  return m;
}

MlirPass qoCreatePass(const qoPassDef *def, const char *opts, size_t optsLen,
                      char **error) {
  char *values[QO_MAX_PASS_OPTIONS] = {0};
  MlirPass result = {NULL};
  for (int i = 0; i < def->numOptions; ++i)
    if (!(values[i] = strdup(def->options[i].defaultValue))) goto oom;
  /* opts: "k=v k2=v2" (also accepts commas), values may be quoted '...'/"...". */
  size_t i = 0;
  while (i < optsLen) {
    while (i < optsLen && (opts[i] == ' ' || opts[i] == ',')) ++i;
    if (i >= optsLen) break;
    size_t ks = i;
    while (i < optsLen && opts[i] != '=' && opts[i] != ' ' && opts[i] != ',') ++i;
    size_t klen = i - ks;
    const char *vs = "true";
    size_t vlen = 4;
    if (i < optsLen && opts[i] == '=') {
      ++i;
      char q = (i < optsLen && (opts[i] == '\'' || opts[i] == '"')) ? opts[i] : 0;
      if (q) ++i;
      size_t s = i;
      while (i < optsLen && (q ? opts[i] != q : (opts[i] != ' ' && opts[i] != ','))) ++i;
      if (q && i >= optsLen) {
        *error = fmtError("unterminated quoted value for option '%.*s' of pass '%s'",
                          opts + ks, klen, def->argument);
        goto fail;
      }
      vs = opts + s;
      vlen = i - s;
      if (q) ++i;
    }
    int found = -1;
    for (int o = 0; o < def->numOptions; ++o)
      if (strlen(def->options[o].name) == klen &&
          memcmp(def->options[o].name, opts + ks, klen) == 0)
        found = o;
    if (found < 0) {
      *error = fmtError("no such option '%.*s' for pass '%s'", opts + ks, klen,
                        def->argument);
      goto fail;
    }
    free(values[found]);
    if (!(values[found] = strndup(vs, vlen))) goto oom;
  }
  if (def->validate && def->validate((const char *const *)values, error) != 0)
    goto fail;
  PassInstance *inst = instCreate(def, values);
  if (!inst) goto oom;
  size_t idx = 0;
  while (kPasses[idx] != def) ++idx;
  MlirExternalPassCallbacks cb = {instConstruct, instDestruct, NULL, instClone,
                                  instRun};
  MlirStringRef arg = mlirStringRefCreateFromCString(def->argument);
  result = mlirCreateExternalPass(mlirTypeIDCreate(kTypeIds[idx]), arg, arg,
                                  mlirStringRefCreateFromCString(def->summary),
                                  mlirStringRefCreateFromCString(def->anchor), 0,
                                  NULL, cb, inst);
  goto fail; /* frees `values` */
oom:
  *error = strdup("out of memory");
fail:
  for (int k = 0; k < QO_MAX_PASS_OPTIONS; ++k) free(values[k]);
  return result;
}
