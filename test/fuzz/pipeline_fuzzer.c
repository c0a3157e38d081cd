/* libFuzzer harness: the pass-pipeline parser (qoParsePassPipeline) on
 * arbitrary strings. One MLIR context for the whole run, a fresh pass
 * manager per input; the pipeline is parsed and built, never run. */
#include "quant-opt/compiler.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static MlirContext ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  ctx = qoContextCreate();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (memchr(data, 0, size))
    return 0; /* the parser takes a C string */
  char *s = malloc(size + 1);
  if (!s)
    return 0;
  memcpy(s, data, size);
  s[size] = 0;
  MlirPassManager pm =
      mlirPassManagerCreateOnOperation(ctx, mlirStringRefCreateFromCString("builtin.module"));
  char *error = NULL;
  MlirLogicalResult r = qoParsePassPipeline(pm, s, &error);
  if (mlirLogicalResultIsFailure(r) != (error != NULL))
    abort(); /* a failure always comes with a message, a success never */
  free(error);
  mlirPassManagerDestroy(pm);
  free(s);
  return 0;
}
