/* quant-opt ONNX frontend: ModelProto -> float TOSA (NHWC inside, NCHW at the
 * function boundary).
 *
 * The importer is plain C on protobuf-c. It emits MLIR text (TOSA + func +
 * the project's `qo` dialect for BatchNormalization); the compiler library
 * parses that text into a module (see quant-opt/compiler.h). Every op gets a
 * location naming its ONNX node: loc("node_name") so later diagnostics and
 * reports can name the node. */
#ifndef QUANT_OPT_ONNX_H
#define QUANT_OPT_ONNX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QO_MAX_RANK 8

/* A fixed shape for one graph input, e.g. from `--input-shape x=1x3x48x192`.
 * An empty name matches the first graph input. */
typedef struct qoInputShape {
  const char *name;
  int rank;
  int64_t dims[QO_MAX_RANK];
} qoInputShape;

typedef struct qoOnnxImportOptions {
  const qoInputShape *shapes; /* may be NULL when numShapes == 0 */
  size_t numShapes;
  const char *funcName; /* NULL: "forward" */
  int defaultBatch;     /* value for symbolic dims not named in `shapes`; 0: 1 */
} qoOnnxImportOptions;

/* Outcome of an import. UNSUPPORTED: a valid model using something the
 * importer does not handle (an operator, an attribute value, a dtype, ...);
 * INVALID: a malformed or inconsistent model; IO: a file that cannot be
 * read (the model or its external data). */
typedef enum qoOnnxStatus {
  QO_ONNX_OK = 0,
  QO_ONNX_INVALID,
  QO_ONNX_UNSUPPORTED,
  QO_ONNX_IO,
  QO_ONNX_NOMEM,
} qoOnnxStatus;

/* "ok", "invalid", "unsupported", "I/O error", "out of memory". */
const char *qoOnnxStatusName(qoOnnxStatus status);

/* Parses a shape spec "name=1x3x48x192" (or "1x3x48x192") into `out`; the
 * name points into `spec`. Returns 0 on success, -1 on a malformed spec. */
int qoParseInputShape(const char *spec, qoInputShape *out);

/* Imports the ONNX file at `path` and returns newly malloc'd MLIR text; the
 * caller frees it with free(). On failure returns NULL and sets *error to a
 * malloc'd message "path: error: node 'name' (OpType): what" (caller frees).
 * Never aborts on bad input. External-data initializers (data_location
 * EXTERNAL) are read from the model's folder: their `location` must name a
 * file inside it (no absolute path, no '..', no symlink leading out). */
char *qoOnnxImportFileToText(const char *path, const qoOnnxImportOptions *opts,
                             char **error);

/* Same, from a buffer already in memory; `displayName` is used in messages.
 * External data is refused (there is no folder to read it from). */
char *qoOnnxImportBufferToText(const void *data, size_t size,
                               const char *displayName,
                               const qoOnnxImportOptions *opts, char **error);

/* The same imports, returning the status: on QO_ONNX_OK *text is newly
 * malloc'd MLIR text; otherwise *text is NULL and *error (if `error` is
 * non-NULL) a malloc'd message as above. The two functions above are thin
 * wrappers of these. qoOnnxImportBuffer reads external data from `baseDir`
 * (with the rules above; NULL: external data is refused). */
qoOnnxStatus qoOnnxImportFile(const char *path, const qoOnnxImportOptions *opts,
                              char **text, char **error);
qoOnnxStatus qoOnnxImportBuffer(const void *data, size_t size,
                                const char *displayName, const char *baseDir,
                                const qoOnnxImportOptions *opts, char **text,
                                char **error);

#ifdef __cplusplus
}
#endif
#endif /* QUANT_OPT_ONNX_H */
