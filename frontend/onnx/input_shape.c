/* Parsing of `--input-shape` specs: "name=1x3x48x192" or "1x3x48x192". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "quant-opt/onnx.h"

int qoParseInputShape(const char *spec, qoInputShape *out) {
  if (!spec || !out)
    return -1;
  memset(out, 0, sizeof *out);
  const char *eq = strrchr(spec, '=');
  /* The name is not copied: it is `spec` up to the last '=' (or the empty
   * string at the end of `spec`); importers compare only that prefix. */
  out->name = eq ? spec : spec + strlen(spec);
  const char *p = eq ? eq + 1 : spec;
  if (*p == '\0')
    return -1;
  for (;;) {
    if (*p < '0' || *p > '9')
      return -1;
    errno = 0;
    char *end;
    long long d = strtoll(p, &end, 10);
    if (errno || d <= 0 || out->rank == QO_MAX_RANK)
      return -1;
    out->dims[out->rank++] = d;
    if (*end == '\0')
      return 0;
    if (*end != 'x' && *end != 'X' && *end != ',')
      return -1;
    p = end + 1;
  }
}
