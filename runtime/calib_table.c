/* The calibration table: the per-tensor statistics and every method's range
 * in a JSON file people can read, edit and feed back (TensorRT's calibration
 * cache, Glow's profile); the format is documented in
 * docs/calibration-table.md. The writer prints JSON by hand (one range per
 * line, floats in the shortest form that reads back to the same float) into
 * a temp file renamed into place; the reader parses with json-c, takes
 * numbers from their source text with strtof (exact), and reports the first
 * problem as "path: where: what". */
#include "quant-opt/qrt_calib.h"
#include "support/output.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TABLE_FORMAT "quant-opt-calibration-table"
#define TABLE_VERSION 1
#define TABLE_MAX_BYTES (1u << 30)

struct qrt_calib_table {
  qrt_calib_config_t cfg;
  qrt_calib_entry_t *e;
  size_t n, cap;
};

qrt_status_t qrt_calib_table_create(const qrt_calib_config_t *cfg,
                                    qrt_calib_table_t **out) {
  if (!out) return QRT_ERR_ARG;
  *out = NULL;
  qrt_calib_config_t def;
  if (!cfg) {
    qrt_calib_config_init(&def);
    cfg = &def;
  }
  if (qrt_calib_config_validate(cfg, NULL, 0) != QRT_OK) return QRT_ERR_ARG;
  qrt_calib_table_t *t = calloc(1, sizeof *t);
  if (!t) return QRT_ERR_NOMEM;
  t->cfg = *cfg;
  *out = t;
  return QRT_OK;
}

void qrt_calib_table_destroy(qrt_calib_table_t *t) {
  if (!t) return;
  for (size_t i = 0; i < t->n; ++i) free(t->e[i].name);
  free(t->e);
  free(t);
}

const qrt_calib_config_t *qrt_calib_table_config(const qrt_calib_table_t *t) {
  return t ? &t->cfg : NULL;
}

size_t qrt_calib_table_size(const qrt_calib_table_t *t) { return t ? t->n : 0; }

const qrt_calib_entry_t *qrt_calib_table_get(const qrt_calib_table_t *t,
                                             size_t i) {
  return t && i < t->n ? &t->e[i] : NULL;
}

const qrt_calib_entry_t *qrt_calib_table_find(const qrt_calib_table_t *t,
                                              int64_t id) {
  for (size_t i = 0; t && i < t->n; ++i)
    if (t->e[i].id == id) return &t->e[i];
  return NULL;
}

const qrt_calib_entry_t *qrt_calib_table_find_name(const qrt_calib_table_t *t,
                                                   const char *name) {
  for (size_t i = 0; t && name && i < t->n; ++i)
    if (strcmp(t->e[i].name, name) == 0) return &t->e[i];
  return NULL;
}

/* Why entry `e` is not acceptable, or NULL. */
static const char *entry_problem(const qrt_calib_entry_t *e) {
  if (!isfinite(e->min) || !isfinite(e->max)) return "min/max not finite";
  if (e->min > e->max) return "min > max";
  for (int m = 0; m < QRT_CALIB_METHOD_COUNT; ++m) {
    if (!isfinite(e->ranges[m][0]) || !isfinite(e->ranges[m][1]))
      return "a range bound is not finite";
    if (e->ranges[m][0] > e->ranges[m][1]) return "a range has lo > hi";
  }
  return NULL;
}

qrt_status_t qrt_calib_table_add(qrt_calib_table_t *t,
                                 const qrt_calib_entry_t *e) {
  if (!t || !e || entry_problem(e) || qrt_calib_table_find(t, e->id))
    return QRT_ERR_ARG;
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 16;
    qrt_calib_entry_t *ne = realloc(t->e, cap * sizeof *ne);
    if (!ne) return QRT_ERR_NOMEM;
    t->e = ne;
    t->cap = cap;
  }
  const char *name = e->name ? e->name : "";
  char *copy = malloc(strlen(name) + 1);
  if (!copy) return QRT_ERR_NOMEM;
  strcpy(copy, name);
  t->e[t->n] = *e;
  t->e[t->n].name = copy;
  t->n++;
  return QRT_OK;
}

qrt_status_t qrt_calib_table_add_observer(qrt_calib_table_t *t, int64_t id,
                                          const char *name,
                                          const qrt_observer_t *obs) {
  if (!t || !obs) return QRT_ERR_ARG;
  qrt_observer_stats_t s;
  qrt_status_t st = qrt_observer_get_stats(obs, &s);
  if (st != QRT_OK) return st;
  qrt_calib_entry_t e;
  memset(&e, 0, sizeof e);
  e.id = id;
  e.name = (char *)(name ? name : "");
  e.min = s.min;
  e.max = s.max;
  e.count = s.count;
  e.nan_count = s.nan_count;
  e.inf_count = s.inf_count;
  for (int m = 0; m < QRT_CALIB_METHOD_COUNT; ++m) {
    st = qrt_observer_compute_range(obs, (qrt_calib_method_t)m, &e.ranges[m][0],
                                    &e.ranges[m][1]);
    if (st != QRT_OK) return st;
  }
  return qrt_calib_table_add(t, &e);
}

/* ---- writer -------------------------------------------------------------- */

/* Shortest %g form of a float that strtof reads back to the same bits
 * ("-0.0" for negative zero: json-c would read "-0" as the integer 0). */
static void fmt_float(char *buf, size_t len, float f) {
  if (f == 0.0f && signbit(f)) {
    snprintf(buf, len, "-0.0");
    return;
  }
  for (int p = 6; p <= 9; ++p) {
    snprintf(buf, len, "%.*g", p, (double)f);
    if (strtof(buf, NULL) == f) return;
  }
}

static void fmt_double(char *buf, size_t len, double d) {
  for (int p = 15; p <= 17; ++p) {
    snprintf(buf, len, "%.*g", p, d);
    if (strtod(buf, NULL) == d) return;
  }
}

static void put_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
  }
  fputc('"', f);
}

static const char *bool_str(int b) { return b ? "true" : "false"; }

static void write_table(FILE *f, const qrt_calib_table_t *t) {
  const qrt_calib_config_t *c = &t->cfg;
  char a[40], b[40];
  fprintf(f, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n", TABLE_FORMAT,
          TABLE_VERSION);
  fprintf(f, "  \"params\": {\n    \"num_bins\": %d,\n", c->num_bins);
  fmt_double(a, sizeof a, c->ema_constant);
  fprintf(f, "    \"ema_constant\": %s,\n", a);
  fmt_double(a, sizeof a, c->percentile);
  fprintf(f, "    \"percentile\": %s,\n", a);
  fprintf(f, "    \"percentile_symmetric\": %s,\n",
          bool_str(c->percentile_symmetric));
  fmt_double(a, sizeof a, c->mean_std_n);
  fprintf(f, "    \"mean_std_n\": %s,\n", a);
  fprintf(f, "    \"kl_quant_bins\": %d,\n", c->kl_quant_bins);
  const qrt_qscheme_t *s = &c->mse_scheme;
  fprintf(f,
          "    \"mse_scheme\": {\"symmetric\": %s, \"dtype\": \"%s\", "
          "\"narrow_range\": %s, \"reduce_range\": %s, \"pow2_scale\": %s}\n",
          bool_str(s->symmetric), s->dtype == QRT_QINT8 ? "int8" : "uint8",
          bool_str(s->narrow_range), bool_str(s->reduce_range),
          bool_str(s->pow2_scale));
  fprintf(f, "  },\n  \"tensors\": [");
  for (size_t i = 0; i < t->n; ++i) {
    const qrt_calib_entry_t *e = &t->e[i];
    fprintf(f, "%s\n    {\n      \"id\": %lld,\n      \"name\": ", i ? "," : "",
            (long long)e->id);
    put_string(f, e->name);
    fmt_float(a, sizeof a, e->min);
    fmt_float(b, sizeof b, e->max);
    fprintf(f, ",\n      \"min\": %s,\n      \"max\": %s,\n", a, b);
    fprintf(f,
            "      \"count\": %llu,\n      \"nan_count\": %llu,\n"
            "      \"inf_count\": %llu,\n      \"ranges\": {\n",
            (unsigned long long)e->count, (unsigned long long)e->nan_count,
            (unsigned long long)e->inf_count);
    for (int m = 0; m < QRT_CALIB_METHOD_COUNT; ++m) {
      fmt_float(a, sizeof a, e->ranges[m][0]);
      fmt_float(b, sizeof b, e->ranges[m][1]);
      fprintf(f, "        \"%s\": [%s, %s]%s\n",
              qrt_calib_method_name((qrt_calib_method_t)m), a, b,
              m + 1 < QRT_CALIB_METHOD_COUNT ? "," : "");
    }
    fprintf(f, "      }\n    }");
  }
  fprintf(f, "%s]\n}\n", t->n ? "\n  " : "");
}

static void set_msg(char *msg, size_t len, const char *fmt, ...) {
  if (!msg || !len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, len, fmt, ap);
  va_end(ap);
}

qrt_status_t qrt_calib_table_write(const qrt_calib_table_t *t,
                                   const char *path, char *msg, size_t msglen) {
  if (!t || !path) return QRT_ERR_ARG;
  char err[1200];
  qoOutput *o;
  if (qoOutputOpen(path, &o, err, sizeof err) != 0) {
    set_msg(msg, msglen, "%s", err);
    return QRT_ERR_IO;
  }
  write_table(qoOutputStream(o), t);
  if (qoOutputCommit(o, err, sizeof err) != 0) {
    set_msg(msg, msglen, "%s", err);
    return QRT_ERR_IO;
  }
  return QRT_OK;
}

/* ---- reader -------------------------------------------------------------- */

typedef struct reader {
  const char *path;
  char where[160]; /* "params", "tensors[3] (id 7)" ... */
  char *msg;
  size_t msglen;
} reader_t;

static qrt_status_t fail(reader_t *r, const char *fmt, ...) {
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (r->where[0])
    set_msg(r->msg, r->msglen, "%s: %s: %s", r->path, r->where, what);
  else
    set_msg(r->msg, r->msglen, "%s: %s", r->path, what);
  return QRT_ERR_FORMAT;
}

static const char *type_name(json_object *v) {
  return v ? json_type_to_name(json_object_get_type(v)) : "null";
}

/* Fetches field `key` of object `o`; a missing field is an error. */
static qrt_status_t field(reader_t *r, json_object *o, const char *key,
                          json_object **v) {
  if (!json_object_object_get_ex(o, key, v))
    return fail(r, "missing field \"%s\"", key);
  return QRT_OK;
}

static int is_number(json_object *v) {
  return json_object_is_type(v, json_type_double) ||
         json_object_is_type(v, json_type_int);
}

/* A finite float, parsed from the number's source text (exact). */
static qrt_status_t as_float(reader_t *r, json_object *v, const char *what,
                             float *out) {
  if (!is_number(v))
    return fail(r, "\"%s\" must be a number, not %s", what, type_name(v));
  const char *text = json_object_to_json_string(v);
  float f = strtof(text, NULL);
  if (!isfinite(f))
    return fail(r, "\"%s\" is %s, not a finite float32", what, text);
  *out = f;
  return QRT_OK;
}

static qrt_status_t get_float(reader_t *r, json_object *o, const char *key,
                              float *out) {
  json_object *v;
  qrt_status_t st = field(r, o, key, &v);
  return st != QRT_OK ? st : as_float(r, v, key, out);
}

static qrt_status_t get_double(reader_t *r, json_object *o, const char *key,
                               double *out) {
  json_object *v;
  qrt_status_t st = field(r, o, key, &v);
  if (st != QRT_OK) return st;
  if (!is_number(v))
    return fail(r, "\"%s\" must be a number, not %s", key, type_name(v));
  double d = strtod(json_object_to_json_string(v), NULL);
  if (!isfinite(d)) return fail(r, "\"%s\" is not finite", key);
  *out = d;
  return QRT_OK;
}

static qrt_status_t get_int(reader_t *r, json_object *o, const char *key,
                            int64_t lo, int64_t *out) {
  json_object *v;
  qrt_status_t st = field(r, o, key, &v);
  if (st != QRT_OK) return st;
  if (!json_object_is_type(v, json_type_int))
    return fail(r, "\"%s\" must be an integer, not %s", key, type_name(v));
  errno = 0;
  int64_t i = json_object_get_int64(v);
  if (errno || i < lo || i == INT64_MAX)
    return fail(r, "\"%s\" is out of range", key);
  *out = i;
  return QRT_OK;
}

static qrt_status_t get_bool(reader_t *r, json_object *o, const char *key,
                             int *out) {
  json_object *v;
  qrt_status_t st = field(r, o, key, &v);
  if (st != QRT_OK) return st;
  if (!json_object_is_type(v, json_type_boolean))
    return fail(r, "\"%s\" must be true or false, not %s", key, type_name(v));
  *out = json_object_get_boolean(v) ? 1 : 0;
  return QRT_OK;
}

#define TRY(x)                                                                 \
  do {                                                                         \
    qrt_status_t st_ = (x);                                                    \
    if (st_ != QRT_OK) return st_;                                             \
  } while (0)

static qrt_status_t read_params(reader_t *r, json_object *root,
                                qrt_calib_config_t *c) {
  json_object *p, *s, *v;
  TRY(field(r, root, "params", &p));
  snprintf(r->where, sizeof r->where, "params");
  if (!json_object_is_type(p, json_type_object))
    return fail(r, "must be an object, not %s", type_name(p));
  int64_t i;
  qrt_calib_config_init(c);
  TRY(get_int(r, p, "num_bins", 0, &i));
  c->num_bins = i > INT32_MAX ? INT32_MAX : (int)i;
  TRY(get_double(r, p, "ema_constant", &c->ema_constant));
  TRY(get_double(r, p, "percentile", &c->percentile));
  TRY(get_bool(r, p, "percentile_symmetric", &c->percentile_symmetric));
  TRY(get_double(r, p, "mean_std_n", &c->mean_std_n));
  TRY(get_int(r, p, "kl_quant_bins", 0, &i));
  c->kl_quant_bins = i > INT32_MAX ? INT32_MAX : (int)i;
  TRY(field(r, p, "mse_scheme", &s));
  snprintf(r->where, sizeof r->where, "params.mse_scheme");
  if (!json_object_is_type(s, json_type_object))
    return fail(r, "must be an object, not %s", type_name(s));
  TRY(get_bool(r, s, "symmetric", &c->mse_scheme.symmetric));
  TRY(field(r, s, "dtype", &v));
  const char *dt = json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v) : "";
  if (strcmp(dt, "int8") == 0) c->mse_scheme.dtype = QRT_QINT8;
  else if (strcmp(dt, "uint8") == 0) c->mse_scheme.dtype = QRT_QUINT8;
  else return fail(r, "\"dtype\" must be \"int8\" or \"uint8\"");
  TRY(get_bool(r, s, "narrow_range", &c->mse_scheme.narrow_range));
  TRY(get_bool(r, s, "reduce_range", &c->mse_scheme.reduce_range));
  TRY(get_bool(r, s, "pow2_scale", &c->mse_scheme.pow2_scale));
  snprintf(r->where, sizeof r->where, "params");
  char why[128];
  if (qrt_calib_config_validate(c, why, sizeof why) != QRT_OK)
    return fail(r, "%s", why);
  return QRT_OK;
}

static qrt_status_t read_entry(reader_t *r, json_object *o, size_t idx,
                               qrt_calib_entry_t *e) {
  snprintf(r->where, sizeof r->where, "tensors[%zu]", idx);
  if (!json_object_is_type(o, json_type_object))
    return fail(r, "must be an object, not %s", type_name(o));
  json_object *v;
  int64_t i;
  TRY(get_int(r, o, "id", INT64_MIN, &e->id));
  TRY(field(r, o, "name", &v));
  if (!json_object_is_type(v, json_type_string))
    return fail(r, "\"name\" must be a string, not %s", type_name(v));
  e->name = (char *)json_object_get_string(v); /* borrowed until add */
  snprintf(r->where, sizeof r->where, "tensors[%zu] (id %lld, \"%.80s\")", idx,
           (long long)e->id, e->name);
  TRY(get_float(r, o, "min", &e->min));
  TRY(get_float(r, o, "max", &e->max));
  if (e->min > e->max) return fail(r, "min > max");
  TRY(get_int(r, o, "count", 0, &i));
  e->count = (uint64_t)i;
  TRY(get_int(r, o, "nan_count", 0, &i));
  e->nan_count = (uint64_t)i;
  TRY(get_int(r, o, "inf_count", 0, &i));
  e->inf_count = (uint64_t)i;
  json_object *rs;
  TRY(field(r, o, "ranges", &rs));
  if (!json_object_is_type(rs, json_type_object))
    return fail(r, "\"ranges\" must be an object, not %s", type_name(rs));
  for (int m = 0; m < QRT_CALIB_METHOD_COUNT; ++m) {
    const char *key = qrt_calib_method_name((qrt_calib_method_t)m);
    if (!json_object_object_get_ex(rs, key, &v))
      return fail(r, "missing field \"ranges.%s\"", key);
    if (!json_object_is_type(v, json_type_array) ||
        json_object_array_length(v) != 2)
      return fail(r, "\"ranges.%s\" must be an array [lo, hi]", key);
    char what[48];
    snprintf(what, sizeof what, "ranges.%s[0]", key);
    TRY(as_float(r, json_object_array_get_idx(v, 0), what, &e->ranges[m][0]));
    snprintf(what, sizeof what, "ranges.%s[1]", key);
    TRY(as_float(r, json_object_array_get_idx(v, 1), what, &e->ranges[m][1]));
    if (e->ranges[m][0] > e->ranges[m][1])
      return fail(r, "\"ranges.%s\" has lo > hi", key);
  }
  return QRT_OK;
}

static qrt_status_t read_root(reader_t *r, json_object *root,
                              qrt_calib_table_t **out) {
  json_object *v, *ts;
  if (!json_object_is_type(root, json_type_object))
    return fail(r, "the top level must be an object");
  TRY(field(r, root, "format", &v));
  if (!json_object_is_type(v, json_type_string) ||
      strcmp(json_object_get_string(v), TABLE_FORMAT) != 0)
    return fail(r, "\"format\" must be \"%s\"", TABLE_FORMAT);
  int64_t version;
  TRY(get_int(r, root, "version", INT64_MIN, &version));
  if (version != TABLE_VERSION)
    return fail(r, "unsupported version %lld (this reader knows %d)",
                (long long)version, TABLE_VERSION);
  qrt_calib_config_t cfg;
  TRY(read_params(r, root, &cfg));
  r->where[0] = 0;
  TRY(field(r, root, "tensors", &ts));
  if (!json_object_is_type(ts, json_type_array))
    return fail(r, "\"tensors\" must be an array, not %s", type_name(ts));
  qrt_calib_table_t *t;
  TRY(qrt_calib_table_create(&cfg, &t));
  size_t n = json_object_array_length(ts);
  for (size_t i = 0; i < n; ++i) {
    qrt_calib_entry_t e;
    memset(&e, 0, sizeof e);
    qrt_status_t st = read_entry(r, json_object_array_get_idx(ts, i), i, &e);
    if (st == QRT_OK && qrt_calib_table_find(t, e.id))
      st = fail(r, "duplicate id %lld", (long long)e.id);
    if (st == QRT_OK) {
      st = qrt_calib_table_add(t, &e);
      if (st != QRT_OK) st = fail(r, "%s", qrt_status_str(st));
    }
    if (st != QRT_OK) {
      qrt_calib_table_destroy(t);
      return st;
    }
  }
  *out = t;
  return QRT_OK;
}

qrt_status_t qrt_calib_table_read_buffer(const char *data, size_t len,
                                         const char *name,
                                         qrt_calib_table_t **out, char *msg,
                                         size_t msglen) {
  if (!out || (!data && len)) return QRT_ERR_ARG;
  *out = NULL;
  if (!name) name = "<buffer>";
  reader_t r = {name, "", msg, msglen};
  if (len > TABLE_MAX_BYTES) {
    set_msg(msg, msglen, "%s: file too large", name);
    return QRT_ERR_FORMAT;
  }
  /* json-c reads up to a NUL: a copy with one, so that the parse end says
   * where an embedded NUL stopped it. */
  char *buf = malloc(len + 1);
  if (!buf) {
    set_msg(msg, msglen, "%s: out of memory", name);
    return QRT_ERR_NOMEM;
  }
  if (len) memcpy(buf, data, len);
  buf[len] = 0;
  qrt_status_t st;
  json_tokener *tok = json_tokener_new();
  json_object *root = tok ? json_tokener_parse_ex(tok, buf, (int)len + 1) : NULL;
  if (!tok) {
    st = QRT_ERR_NOMEM;
    set_msg(msg, msglen, "%s: out of memory", name);
  } else if (!root) {
    enum json_tokener_error err = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok), line = 1, col = 1;
    for (size_t i = 0; i < end && i < len; ++i) {
      if (buf[i] == '\n') { ++line; col = 1; } else ++col;
    }
    st = QRT_ERR_FORMAT;
    set_msg(msg, msglen, "%s:%zu:%zu: invalid JSON: %s", name, line, col,
            err == json_tokener_success ? "empty file"
                                        : json_tokener_error_desc(err));
  } else {
    size_t end = json_tokener_get_parse_end(tok);
    while (end < len && (buf[end] == ' ' || buf[end] == '\n' ||
                         buf[end] == '\r' || buf[end] == '\t'))
      ++end;
    if (end < len)
      st = fail(&r, "trailing characters after the JSON document");
    else
      st = read_root(&r, root, out);
  }
  json_object_put(root);
  if (tok) json_tokener_free(tok);
  free(buf);
  return st;
}

qrt_status_t qrt_calib_table_read(const char *path, qrt_calib_table_t **out,
                                  char *msg, size_t msglen) {
  if (!path || !out) return QRT_ERR_ARG;
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    set_msg(msg, msglen, "%s: %s", path, strerror(errno));
    return QRT_ERR_IO;
  }
  char *buf = NULL;
  size_t len = 0, cap = 0;
  qrt_status_t st = QRT_OK;
  for (;;) {
    if (len == cap) {
      if (cap > TABLE_MAX_BYTES) {
        st = QRT_ERR_FORMAT;
        set_msg(msg, msglen, "%s: file too large", path);
        break;
      }
      size_t nc = cap ? 2 * cap : 65536;
      if (nc > (size_t)TABLE_MAX_BYTES + 1) nc = (size_t)TABLE_MAX_BYTES + 1;
      char *nb = realloc(buf, nc);
      if (!nb) {
        st = QRT_ERR_NOMEM;
        set_msg(msg, msglen, "%s: out of memory", path);
        break;
      }
      buf = nb;
      cap = nc;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) {
        st = QRT_ERR_IO;
        set_msg(msg, msglen, "%s: read error", path);
      }
      break;
    }
  }
  fclose(f);
  if (st == QRT_OK)
    st = qrt_calib_table_read_buffer(buf, len, path, out, msg, msglen);
  free(buf);
  return st;
}
