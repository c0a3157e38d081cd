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
 * cache and are reused when the same size is asked for again. A thread's
 * cache is released when the thread exits (a pthread key destructor), so
 * short-lived threads calling a model do not leak; the model library's own
 * destructor releases the calling thread's cache and the key on dlclose.
 * Every block is 64-byte aligned at least; two words before the returned
 * pointer hold its size and the offset back to the malloc'd base. */
#include <pthread.h>
#include <stdlib.h>

enum { QRT_CACHE_BLOCKS = 64 };
typedef struct {
  char *ptr;
  size_t size;
} qrt_block;
typedef struct {
  qrt_block blocks[QRT_CACHE_BLOCKS];
  int cached;
  unsigned next_evict;
} qrt_block_cache;

static pthread_key_t qrt_cache_key;
static pthread_once_t qrt_cache_once = PTHREAD_ONCE_INIT;
static int qrt_cache_key_ok;
static _Thread_local qrt_block_cache *qrt_cache_tls;

static void qrt_block_release(char *p) { free(p - ((size_t *)(void *)p - 2)[1]); }

static void qrt_cache_release(void *arg) {
  qrt_block_cache *c = arg;
  for (int i = 0; i < c->cached; ++i) qrt_block_release(c->blocks[i].ptr);
  free(c);
  qrt_cache_tls = NULL;
}

static void qrt_cache_init(void) {
  qrt_cache_key_ok = pthread_key_create(&qrt_cache_key, qrt_cache_release) == 0;
}

/* This thread's cache, created on first use; NULL if that fails (the
 * allocator then works without a cache). */
static qrt_block_cache *qrt_cache_get(void) {
  qrt_block_cache *c = qrt_cache_tls;
  if (c) return c;
  pthread_once(&qrt_cache_once, qrt_cache_init);
  if (!qrt_cache_key_ok || !(c = calloc(1, sizeof *c))) return NULL;
  if (pthread_setspecific(qrt_cache_key, c) != 0) {
    free(c);
    return NULL;
  }
  return qrt_cache_tls = c;
}

__attribute__((destructor)) static void qrt_cache_fini(void) {
  if (!qrt_cache_key_ok) return;
  qrt_block_cache *c = qrt_cache_tls;
  if (c) {
    pthread_setspecific(qrt_cache_key, NULL);
    qrt_cache_release(c);
  }
  pthread_key_delete(qrt_cache_key);
  qrt_cache_key_ok = 0;
}

static void *qrt_alloc_aligned(size_t alignment, size_t size) {
  if (alignment < 64) alignment = 64;
  if (size > ((size_t)-1 >> 2)) return NULL;
  size = (size + 63) & ~(size_t)63;
  qrt_block_cache *c = qrt_cache_get();
  for (int i = 0; c && i < c->cached; ++i) {
    if (c->blocks[i].size == size && ((uintptr_t)c->blocks[i].ptr & (alignment - 1)) == 0) {
      char *p = c->blocks[i].ptr;
      c->blocks[i] = c->blocks[--c->cached];
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
  qrt_block_cache *c = qrt_cache_get();
  if (!c) {
    qrt_block_release(ptr);
    return;
  }
  if (c->cached == QRT_CACHE_BLOCKS) { /* full: drop one, round robin */
    int k = (int)(c->next_evict++ % QRT_CACHE_BLOCKS);
    qrt_block_release(c->blocks[k].ptr);
    c->blocks[k] = c->blocks[--c->cached];
  }
  c->blocks[c->cached++] = (qrt_block){(char *)ptr, h[0]};
}
