/* Includes a generated header (-include) with every warning as an error,
 * calls the typed entry point, and prints the model's tensor names exactly
 * (non-printable bytes as \xHH) from qo_model_describe. */
#include <stdio.h>
#include <string.h>

static void printName(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p)
    if (*p >= 0x20 && *p < 0x7f && *p != '\\') putchar(*p);
    else printf("\\x%02x", *p);
  putchar('\n');
}

int main(void) {
  float x[4] = {-2, -1, 1, 2}, a[4], b[4], c[4];
  int rc = forward_run(x, a, b, c);
  printf("rc=%d relu=%g,%g,%g,%g neg=%g abs=%g\n", rc, a[0], a[1], a[2], a[3], b[0], c[0]);
  const qo_model_desc_t *d = qo_model_describe();
  printName(d->inputs[0].name);
  for (int i = 0; i < d->num_outputs; ++i) printName(d->outputs[i].name);
  return rc;
}
