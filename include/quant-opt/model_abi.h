/* The C ABI of a model compiled by quant-opt (--emit=shared).
 *
 * A shared library exports two symbols:
 *   const qo_model_desc_t *qo_model_describe(void);
 *   int qo_model_run(const void *const *inputs, void *const *outputs);
 * `inputs[i]` / `outputs[i]` point at dense row-major buffers with the dtype
 * and shape the descriptor gives (the caller owns them; outputs are written,
 * inputs only read). qo_model_run returns 0 on success. It is reentrant: it
 * keeps no state between calls and may run concurrently on different buffers.
 * The generated header (--emit-header / -o x.so writes x.h) also declares a
 * typed entry point `int <func>_run(const float *input, float *logits, ...)`. */
#ifndef QUANT_OPT_MODEL_ABI_H
#define QUANT_OPT_MODEL_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QO_MODEL_ABI_VERSION 1

/* Same numbering as qrt_dtype_t and qoDType. */
enum { QO_DTYPE_F32 = 0, QO_DTYPE_I8 = 1, QO_DTYPE_U8 = 2, QO_DTYPE_I32 = 3,
       QO_DTYPE_I64 = 4 };

typedef struct qo_tensor_desc {
  const char *name;
  int dtype;
  int rank;
  const int64_t *dims;
} qo_tensor_desc_t;

typedef struct qo_model_desc {
  int abi_version;
  const char *name; /* entry function */
  int num_inputs;
  int num_outputs;
  const qo_tensor_desc_t *inputs;
  const qo_tensor_desc_t *outputs;
} qo_model_desc_t;

typedef const qo_model_desc_t *(*qo_model_describe_fn)(void);
typedef int (*qo_model_run_fn)(const void *const *inputs, void *const *outputs);

#ifdef __cplusplus
}
#endif
#endif /* QUANT_OPT_MODEL_ABI_H */
