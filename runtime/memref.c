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

/* The allocator of generated code (finalize-memref-to-llvm with generic
 * functions). A model allocates the same intermediate buffers, in the same
 * order, on every call; freeing them to malloc returned large blocks to the
 * kernel and the next call paid page faults for all of them (measured: half
 * of a MobileNetV2 batch-64 run). So freed blocks go to a small per-thread
 * cache and are reused when the same size is asked for again. Every block
 * is 64-byte aligned at least; two words before the returned pointer hold
 * its size and the offset back to the malloc'd base. */
#include <stdlib.h>

enum { QRT_CACHE_BLOCKS = 64 };
typedef struct {
  char *ptr;
  size_t size;
} qrt_block;
static _Thread_local qrt_block qrt_cache[QRT_CACHE_BLOCKS];
static _Thread_local int qrt_cached, qrt_next_evict;

static void *qrt_alloc_aligned(size_t alignment, size_t size) {
  if (alignment < 64) alignment = 64;
  size = (size + 63) & ~(size_t)63;
  for (int i = 0; i < qrt_cached; ++i) {
    if (qrt_cache[i].size == size && ((uintptr_t)qrt_cache[i].ptr & (alignment - 1)) == 0) {
      char *p = qrt_cache[i].ptr;
      qrt_cache[i] = qrt_cache[--qrt_cached];
      return p;
    }
  }
  size_t head = alignment >= 16 ? alignment : 16;
  char *base = malloc(size + head + alignment);
  if (!base) return NULL;
  char *p = (char *)(((uintptr_t)base + head + alignment - 1) & ~(uintptr_t)(alignment - 1));
  size_t *h = (size_t *)(void *)p - 2;
  h[0] = size;
  h[1] = (size_t)(p - base);
  return p;
}

void *_mlir_memref_to_llvm_alloc(size_t size) { return qrt_alloc_aligned(64, size); }

void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size) {
  return qrt_alloc_aligned(alignment, size);
}

void _mlir_memref_to_llvm_free(void *ptr) {
  if (!ptr) return;
  size_t *h = (size_t *)ptr - 2;
  if (qrt_cached == QRT_CACHE_BLOCKS) { /* full: drop one, round robin */
    int k = qrt_next_evict++ % QRT_CACHE_BLOCKS;
    char *old = qrt_cache[k].ptr;
    free(old - ((size_t *)(void *)old - 2)[1]);
    qrt_cache[k] = qrt_cache[--qrt_cached];
  }
  qrt_cache[qrt_cached++] = (qrt_block){(char *)ptr, h[0]};
}
