/* Writing output files safely: every file quant-opt and its tools write
 * (MLIR, LLVM IR, objects, shared libraries and headers, calibration tables,
 * .npy results) goes through here.
 *
 * - "-" is standard output, written in place; write errors are reported.
 * - A path that names something other than a regular file (a device such as
 *   /dev/null, a FIFO, a socket, also through a symbolic link such as
 *   /dev/stdout) is written in place: it is never replaced or removed.
 * - A regular file, or a new name, is written to a temporary file created
 *   with mkstemp (O_EXCL: a link planted at the temporary name cannot be
 *   followed) in the destination's own directory, flushed to disk, and
 *   renamed over the destination only when everything succeeded. A symbolic
 *   link to a regular file is resolved first, so the file it points to is
 *   replaced and the link stays. On any failure the temporary file is
 *   removed: nothing partial is left behind.
 * Errors come back as "cannot write 'path': reason" in the caller's buffer. */
#ifndef QO_SUPPORT_OUTPUT_H
#define QO_SUPPORT_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

typedef struct qoOutput qoOutput;

/* Opens `path` for writing as described above. Returns 0 and *out (owned by
 * the caller until qoOutputCommit or qoOutputDiscard), or -1 with a message. */
int qoOutputOpen(const char *path, qoOutput **out, char *err, size_t errSize);

/* The stream to write to. */
FILE *qoOutputStream(qoOutput *o);

/* Appends bytes; errors are sticky and reported by qoOutputFinish. */
void qoOutputWrite(qoOutput *o, const void *data, size_t size);

/* Appends the contents of the file at `path` (e.g. a linker's output). */
int qoOutputCopyFile(qoOutput *o, const char *path, char *err, size_t errSize);

/* Flushes everything written so far to its final storage (fsync for a
 * temporary file) and reports any write error (a full disk, EPIPE, ...).
 * After a success only the rename of qoOutputCommit remains, so several
 * outputs that belong together can all be finished before any is committed. */
int qoOutputFinish(qoOutput *o, char *err, size_t errSize);

/* Finishes (if not done) and puts the file in place; always consumes `o`.
 * On failure nothing is left behind. */
int qoOutputCommit(qoOutput *o, char *err, size_t errSize);

/* Abandons the output: removes the temporary file; consumes `o` (NULL ok). */
void qoOutputDiscard(qoOutput *o);

/* Open + write + commit of an in-memory buffer. */
int qoWriteFile(const char *path, const void *data, size_t size, char *err, size_t errSize);

#endif
