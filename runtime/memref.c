/* Support routines that generated code calls.
 *
 * `memrefCopy` is what MLIR's memref-to-llvm lowering calls for a copy between
 * non-contiguous (strided) memrefs, e.g. copying an input into the interior of
 * a padded buffer. MLIR ships it in libmlir_c_runner_utils; quant-opt's models
 * must not depend on that test library, so the runtime has its own. */
#include <stdint.h>
#include <string.h>

typedef struct {
  int64_t rank;
  void *descriptor;
} qrt_unranked_memref;

/* Ranked descriptor: {allocated, aligned, offset, sizes[rank], strides[rank]}. */
typedef struct {
  void *allocated;
  char *aligned;
  int64_t offset;
  int64_t sizes_and_strides[];
} qrt_memref_desc;

void memrefCopy(int64_t elemSize, qrt_unranked_memref *src,
                qrt_unranked_memref *dst) {
  int64_t rank = src->rank;
  const qrt_memref_desc *s = src->descriptor;
  const qrt_memref_desc *d = dst->descriptor;
  const int64_t *sizes = s->sizes_and_strides;
  const int64_t *ss = s->sizes_and_strides + rank;
  const int64_t *ds = d->sizes_and_strides + rank;
  char *sp = s->aligned + s->offset * elemSize;
  char *dp = d->aligned + d->offset * elemSize;
  if (rank == 0) {
    memcpy(dp, sp, (size_t)elemSize);
    return;
  }
  for (int64_t i = 0; i < rank; ++i)
    if (sizes[i] == 0) return;
  /* Merge the innermost run when both sides are contiguous there. */
  int64_t inner = 1;
  int64_t r = rank;
  while (r > 0 && ss[r - 1] == inner && ds[r - 1] == inner) {
    inner *= sizes[r - 1];
    --r;
  }
  int64_t idx[16] = {0};
  if (r > 16) return;
  size_t chunk = (size_t)(inner * elemSize);
  for (;;) {
    int64_t so = 0, doff = 0;
    for (int64_t i = 0; i < r; ++i) {
      so += idx[i] * ss[i];
      doff += idx[i] * ds[i];
    }
    memcpy(dp + doff * elemSize, sp + so * elemSize, chunk);
    int64_t k = r - 1;
    while (k >= 0 && ++idx[k] == sizes[k]) idx[k--] = 0;
    if (k < 0) break;
  }
}
