/* Calls a model built by quant-opt --emit=shared through its header. */
#include "small.h"
#include <stdio.h>
int main(void) {
  float x[32], y[3];
  for (int i = 0; i < 32; ++i) x[i] = i * 0.1f - 1.0f;
  int rc = forward_run(x, y);
  printf("rc=%d %.6g %.6g %.6g\n", rc, y[0], y[1], y[2]);
  const qo_model_desc_t *d = qo_model_describe();
  return rc != 0 || d->num_inputs != 1 || d->inputs[0].dims[3] != 2;
}
