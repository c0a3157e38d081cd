/* qo-onnx-to-mlir: prints the MLIR text the ONNX frontend produces for a
 * model. Test helper for the importer (see frontend/onnx).
 *
 *   qo-onnx-to-mlir model.onnx [--input-shape name=1x3x8x8]... [--batch N]
 *                  [--func-name NAME] [--status]
 * A model named "-" is read from stdin and imported from memory (no model
 * folder: external data is refused). Exits 1 with the importer's message on
 * stderr on failure; --status also prints "status: <qoOnnxStatusName>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant-opt/onnx.h"
#include "support/buffer.h"

static int usage(void) {
  fprintf(stderr, "usage: qo-onnx-to-mlir MODEL.onnx [--input-shape "
                  "name=1x3x8x8]... [--batch N] [--func-name NAME]\n");
  return 1;
}

int main(int argc, char **argv) {
  const char *path = NULL;
  qoInputShape shapes[64];
  qoOnnxImportOptions opts;
  memset(&opts, 0, sizeof opts);
  int printStatus = 0;
  opts.shapes = shapes;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i], *val = NULL;
    if (!strncmp(a, "--input-shape=", 14))
      val = a + 14;
    else if (!strcmp(a, "--input-shape") && i + 1 < argc)
      val = argv[++i];
    if (val) {
      if (opts.numShapes == sizeof shapes / sizeof *shapes ||
          qoParseInputShape(val, &shapes[opts.numShapes]) != 0) {
        fprintf(stderr, "qo-onnx-to-mlir: error: bad --input-shape '%s'\n",
                val);
        return 1;
      }
      opts.numShapes++;
    } else if (!strcmp(a, "--batch") && i + 1 < argc) {
      opts.defaultBatch = atoi(argv[++i]);
    } else if (!strcmp(a, "--func-name") && i + 1 < argc) {
      opts.funcName = argv[++i];
    } else if (!strcmp(a, "--status")) {
      printStatus = 1;
    } else if ((a[0] == '-' && a[1]) || path) {
      return usage();
    } else {
      path = a;
    }
  }
  if (!path)
    return usage();
  char *error = NULL, *text = NULL;
  qoOnnxStatus st;
  if (!strcmp(path, "-")) {
    qoBuf in = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0)
      qoBufAppendN(&in, chunk, got);
    st = qoOnnxImportBuffer(in.data, in.len, "<stdin>", NULL, &opts, &text, &error);
    qoBufFree(&in);
  } else {
    st = qoOnnxImportFile(path, &opts, &text, &error);
  }
  if (printStatus)
    printf("status: %s\n", qoOnnxStatusName(st));
  if (st != QO_ONNX_OK) {
    fprintf(stderr, "%s\n", error ? error : "error: import failed");
    free(error);
    return 1;
  }
  fputs(text, stdout);
  free(text);
  return 0;
}
