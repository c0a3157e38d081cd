/* Quantizes a float model to int8 from C with quant-opt's embedding API, as a
 * framework would: no driver, no temporary files, calibration fed one batch
 * at a time.
 *
 *   embed MODEL.onnx CALIB.npy OUT.so   (CALIB.npy: rows of the model's input)
 *
 * Prints the table size, the first int8 output of the JIT-compiled model for
 * the first calibration batch, and writes OUT.so with its header OUT.h. */
#include <quant-opt/quantizer.h>

#include <stdio.h>
#include <string.h>

static int fail(qoQuantizer *q, qoStatus st, const char *what) {
  fprintf(stderr, "embed: %s failed (%s):\n%s", what, qoStatusGetName(st), qoQuantizerGetError(q));
  qoQuantizerDestroy(q);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: embed MODEL.onnx CALIB.npy OUT.so\n");
    return 2;
  }
  qoQuantizerOptions opts;
  qoQuantizerOptionsInit(&opts); /* uint8 affine activations, per-channel weights */
  opts.batch = 8;
  opts.method = QRT_CALIB_MINMAX;
  qoQuantizer *q = NULL;
  qoStatus st = qoQuantizerCreateFromFile(argv[1], &opts, &q);
  if (st) return fail(q, st, "loading the model");

  qrt_array_t calib;
  char msg[256];
  if (qrt_npy_read(argv[2], &calib, msg, sizeof msg) != QRT_OK) {
    fprintf(stderr, "embed: %s\n", msg);
    qoQuantizerDestroy(q);
    return 1;
  }
  /* Stream the calibration set one model batch at a time. */
  int64_t batch = qoQuantizerGetSignature(q)->inputs[0].dims[0];
  size_t rowBytes = (size_t)(qrt_array_numel(&calib) / calib.dims[0]) * qrt_dtype_size(calib.dtype);
  for (int64_t r = 0; r < calib.dims[0] && !st; r += batch) {
    qrt_array_t chunk = calib;
    chunk.dims[0] = calib.dims[0] - r < batch ? calib.dims[0] - r : batch;
    chunk.data = (char *)calib.data + (size_t)r * rowBytes;
    st = qoQuantizerFeed(q, &chunk, 1);
  }
  const qrt_calib_table_t *table = NULL;
  if (!st) st = qoQuantizerGetTable(q, &table);
  if (st) {
    qrt_array_free(&calib);
    return fail(q, st, "calibration");
  }
  printf("calibrated %lld rows: %zu quantization points\n", (long long)calib.dims[0],
         qrt_calib_table_size(table));

  if ((st = qoQuantizerQuantize(q))) {
    qrt_array_free(&calib);
    return fail(q, st, "quantization");
  }
  qoJit *jit = NULL;
  if ((st = qoQuantizerJit(q, &jit))) {
    qrt_array_free(&calib);
    return fail(q, st, "JIT compilation");
  }
  float logits[64 * 16];
  const qoTensorInfo *out = &qoQuantizerGetSignature(q)->outputs[0];
  if (calib.dims[0] >= batch && out->dtype == QO_F32 && out->rank == 2 && out->dims[0] * out->dims[1] <= 64 * 16) {
    const void *in[1] = {calib.data};
    void *outs[1] = {logits};
    if (qoJitRun(jit, in, outs) == 0)
      printf("int8 JIT: row 0 logits[0..2] = %.4f %.4f %.4f\n", logits[0], logits[1], logits[2]);
  }
  qoJitDestroy(jit);
  qrt_array_free(&calib);

  char header[4096];
  snprintf(header, sizeof header, "%.*s.h", (int)(strlen(argv[3]) > 3 ? strlen(argv[3]) - 3 : strlen(argv[3])),
           argv[3]);
  if ((st = qoQuantizerEmit(q, QO_EMIT_SHARED, argv[3], header))) return fail(q, st, "emitting the library");
  printf("wrote %s and %s\n", argv[3], header);
  qoQuantizerDestroy(q);
  return 0;
}
