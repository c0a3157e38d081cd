/* The C ABI of a model compiled by quant-opt (--emit=shared).
 *
 * A shared library exports:
 *   const qo_model_desc_t *qo_model_describe(void);
 *   int qo_model_run(const void *const *inputs, void *const *outputs);
 *   int qo_model_check_cpu(char *message, size_t size);
 * `inputs[i]` / `outputs[i]` point at dense row-major buffers with the dtype
 * and shape the descriptor gives (the caller owns them; outputs are written,
 * inputs only read). qo_model_run returns QO_MODEL_OK (0) on success. It is
 * reentrant: it keeps no state between calls and may run concurrently, from
 * any number of threads, on different buffers.
 *
 * The model's code is compiled for one CPU (quant-opt --target-cpu, default:
 * the machine that compiled it) plus kernels chosen at run time from cpuid.
 * Before its first run the model checks that this CPU has every feature it
 * was compiled for; if not, qo_model_run returns QO_MODEL_ERR_CPU without
 * executing any of that code, and qo_model_check_cpu says what is missing.
 *
 * The generated header (--emit-header / -o x.so writes x.h) contains this
 * file and declares a typed entry point `int <func>_run(const float *input,
 * float *logits, ...)` as well; tensor names appear in it only inside
 * comments and string literals, escaped. */
#ifndef QUANT_OPT_MODEL_ABI_H
#define QUANT_OPT_MODEL_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: adds target_cpu, required_features and qo_model_check_cpu. */
#define QO_MODEL_ABI_VERSION 2

/* Same numbering as qrt_dtype_t and qoDType. */
enum { QO_DTYPE_F32 = 0, QO_DTYPE_I8 = 1, QO_DTYPE_U8 = 2, QO_DTYPE_I32 = 3,
       QO_DTYPE_I64 = 4 };

/* qo_model_run / qo_model_check_cpu results. */
enum { QO_MODEL_OK = 0, QO_MODEL_ERR_ARG = -1, QO_MODEL_ERR_CPU = -2 };

typedef struct qo_tensor_desc {
  const char *name; /* the model's tensor name, as given (any bytes but NUL) */
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
  /* Since ABI 2. */
  const char *target_cpu;        /* LLVM CPU the code was compiled for */
  const char *required_features; /* the CPU features it needs, space-separated */
} qo_model_desc_t;

typedef const qo_model_desc_t *(*qo_model_describe_fn)(void);
typedef int (*qo_model_run_fn)(const void *const *inputs, void *const *outputs);
/* Returns QO_MODEL_OK if this CPU can run the model, else QO_MODEL_ERR_CPU
 * and writes the missing features into `message` (may be NULL). */
typedef int (*qo_model_check_cpu_fn)(char *message, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* QUANT_OPT_MODEL_ABI_H */
