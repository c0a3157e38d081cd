/* libFuzzer harness: the .npy reader (qrt_npy_read_buffer) on arbitrary
 * bytes. A success must describe an array that fits in the input. */
#include "quant-opt/qrt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qrt_array_t a;
  char msg[256];
  msg[0] = 0;
  qrt_status_t st = qrt_npy_read_buffer(data, size, "fuzz.npy", &a, msg, sizeof msg);
  if (st == QRT_OK) {
    int64_t n = qrt_array_numel(&a);
    if (n < 0 || (uint64_t)n * qrt_dtype_size(a.dtype) > size || !a.data)
      abort();
    volatile unsigned char sink = 0;
    for (int64_t i = 0; i < n * (int64_t)qrt_dtype_size(a.dtype); i += 4096)
      sink ^= ((unsigned char *)a.data)[i];
    (void)sink;
  } else if (a.data || strncmp(msg, "fuzz.npy: ", 10) != 0) {
    abort(); /* a failure leaves *out empty and says what went wrong */
  }
  qrt_array_free(&a);
  return 0;
}
