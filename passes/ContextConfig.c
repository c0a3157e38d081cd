/* Per-context configuration table (see passes/ContextConfig.h). */
#include "passes/ContextConfig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Entry {
  MlirContext ctx;
  qoContextConfig config;
  struct Entry *next;
} Entry;

static pthread_mutex_t gLock = PTHREAD_MUTEX_INITIALIZER;
static Entry *gEntries;

void qoKernelConfigInitDefault(qoKernelConfig *k) {
  k->isa = -1;
  k->fp32 = 1;
  k->parallelMinOps = 4000000;
}

static char *errorf(const char *fmt, const char *a, size_t n) {
  char *m = malloc(256);
  if (m) snprintf(m, 256, fmt, (int)n, a);
  return m;
}

int qoKernelConfigParse(qoKernelConfig *k, const char *text, char **error) {
  static const char *const kIsa[] = {"portable", "avx2", "avx-vnni", "avx512-vnni"};
  *error = NULL;
  if (!text || !*text) return 0;
  if (!strcmp(text, "off")) {
    k->isa = -2;
    return 0;
  }
  qoKernelConfig r = *k;
  for (const char *s = text; *s;) {
    size_t len = strcspn(s, ", ");
    const char *eq = memchr(s, '=', len);
    if (!len) {
      ++s;
      continue;
    }
    if (!eq) {
      *error = errorf("kernel option '%.*s' needs a value (isa=, fp32=, parallel-min-ops=)", s, len);
      return -1;
    }
    size_t klen = (size_t)(eq - s), vlen = len - klen - 1;
    char v[64];
    if (vlen >= sizeof v) {
      *error = errorf("kernel option value too long in '%.*s'", s, len);
      return -1;
    }
    memcpy(v, eq + 1, vlen);
    v[vlen] = 0;
    if (klen == 3 && !memcmp(s, "isa", 3)) {
      int isa = !strcmp(v, "auto") ? -1 : !strcmp(v, "off") ? -2 : -3;
      for (int i = 0; i < 4; ++i)
        if (!strcmp(v, kIsa[i])) isa = i;
      if (isa == -3) {
        *error = errorf("isa must be auto, avx512-vnni, avx-vnni, avx2, portable or off, not '%.*s'", v, vlen);
        return -1;
      }
      r.isa = isa;
    } else if (klen == 4 && !memcmp(s, "fp32", 4)) {
      if (strcmp(v, "true") && strcmp(v, "false")) {
        *error = errorf("fp32 must be true or false, not '%.*s'", v, vlen);
        return -1;
      }
      r.fp32 = !strcmp(v, "true");
    } else if (klen == 16 && !memcmp(s, "parallel-min-ops", 16)) {
      char *end;
      double d = strtod(v, &end);
      if (!vlen || *end || d != d) {
        *error = errorf("parallel-min-ops must be a number, not '%.*s'", v, vlen);
        return -1;
      }
      r.parallelMinOps = d;
    } else {
      *error = errorf("unknown kernel option '%.*s' (isa, fp32, parallel-min-ops)", s, klen);
      return -1;
    }
    s += len;
  }
  *k = r;
  return 0;
}

qoContextConfig *qoContextConfigCreate(MlirContext ctx) {
  Entry *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->ctx = ctx;
  qoKernelConfigInitDefault(&e->config.kernels);
  pthread_mutex_lock(&gLock);
  e->next = gEntries;
  gEntries = e;
  pthread_mutex_unlock(&gLock);
  return &e->config;
}

qoContextConfig *qoContextConfigGet(MlirContext ctx) {
  qoContextConfig *c = NULL;
  pthread_mutex_lock(&gLock);
  for (Entry *e = gEntries; e; e = e->next)
    if (e->ctx.ptr == ctx.ptr) {
      c = &e->config;
      break;
    }
  pthread_mutex_unlock(&gLock);
  return c;
}

void qoContextConfigDestroy(MlirContext ctx) {
  Entry *found = NULL;
  pthread_mutex_lock(&gLock);
  for (Entry **p = &gEntries; *p; p = &(*p)->next)
    if ((*p)->ctx.ptr == ctx.ptr) {
      found = *p;
      *p = found->next;
      break;
    }
  pthread_mutex_unlock(&gLock);
  if (!found) return;
  if (!mlirModuleIsNull(found->config.irdl)) mlirModuleDestroy(found->config.irdl);
  free(found);
}
