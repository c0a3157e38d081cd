/* libFuzzer harness: the ONNX importer on arbitrary bytes.
 *
 * The input is a serialized ModelProto imported from memory (no base
 * folder, so external data must be refused). Either MLIR text or an error
 * message comes back, never both; the message has the documented prefix. */
#include "quant-opt/onnx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qoOnnxImportOptions opts;
  memset(&opts, 0, sizeof opts);
  char *error = NULL;
  char *text = qoOnnxImportBufferToText(data, size, "fuzz.onnx", &opts, &error);
  if ((text == NULL) == (error == NULL))
    abort(); /* exactly one of text and error */
  if (error && strncmp(error, "fuzz.onnx: error: ", 18) != 0)
    abort();
  if (text && strncmp(text, "module {", 8) != 0)
    abort();
  free(text);
  free(error);
  return 0;
}
