/* libFuzzer harness: the calibration-table reader
 * (qrt_calib_table_read_buffer) on arbitrary bytes. A table that reads back
 * must satisfy the documented invariants. */
#include "quant-opt/qrt_calib.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void checkEntry(const qrt_calib_table_t *t, const qrt_calib_entry_t *e) {
  if (!e->name || !isfinite(e->min) || !isfinite(e->max) || e->min > e->max)
    abort();
  for (int m = 0; m < QRT_CALIB_METHOD_COUNT; ++m)
    if (!isfinite(e->ranges[m][0]) || !isfinite(e->ranges[m][1]) ||
        e->ranges[m][0] > e->ranges[m][1])
      abort();
  if (qrt_calib_table_find(t, e->id) != e)
    abort(); /* ids are unique */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qrt_calib_table_t *t = NULL;
  char msg[512];
  msg[0] = 0;
  qrt_status_t st = qrt_calib_table_read_buffer((const char *)data, size,
                                                "fuzz.json", &t, msg, sizeof msg);
  if (st != QRT_OK) {
    if (t || strncmp(msg, "fuzz.json", 9) != 0)
      abort();
    return 0;
  }
  if (qrt_calib_config_validate(qrt_calib_table_config(t), NULL, 0) != QRT_OK)
    abort();
  for (size_t i = 0; i < qrt_calib_table_size(t); ++i)
    checkEntry(t, qrt_calib_table_get(t, i));
  qrt_calib_table_destroy(t);
  return 0;
}
