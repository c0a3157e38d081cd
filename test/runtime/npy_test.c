/* Unit tests of the runtime's .npy reader/writer: exact bytes and values,
 * and every malformed-input status. Usage: qrt-npy-test <scratch-dir>. */
#include "quant-opt/qrt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures;
#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);    \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static char dir[1024];
static const char *path(const char *name) {
  static char p[2048];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return p;
}

static void writeBytes(const char *name, const void *b, size_t n) {
  FILE *f = fopen(path(name), "wb");
  fwrite(b, 1, n, f);
  fclose(f);
}

/* numpy.save(np.arange(6, dtype=np.float32).reshape(2, 3)) writes exactly
 * this 128-byte header. */
static void testExactHeader(void) {
  qrt_array_t a;
  int64_t dims[2] = {2, 3};
  CHECK(qrt_array_alloc(&a, QRT_F32, 2, dims) == QRT_OK);
  for (int i = 0; i < 6; ++i) ((float *)a.data)[i] = (float)i;
  CHECK(qrt_npy_write(path("a.npy"), &a) == QRT_OK);
  FILE *f = fopen(path("a.npy"), "rb");
  unsigned char buf[256];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  CHECK(n == 128 + 24);
  const char *want = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  CHECK(memcmp(buf, "\x93NUMPY\x01\x00\x76\x00", 10) == 0);
  CHECK(memcmp(buf + 10, want, strlen(want)) == 0);
  CHECK(buf[127] == '\n');
  float v;
  memcpy(&v, buf + 128 + 5 * 4, 4);
  CHECK(v == 5.0f);
  qrt_array_free(&a);
}

static void testRoundTrip(void) {
  const qrt_dtype_t types[] = {QRT_F32, QRT_I8, QRT_U8, QRT_I32, QRT_I64};
  for (int t = 0; t < 5; ++t) {
    qrt_array_t a, b;
    int64_t dims[1] = {7};
    CHECK(qrt_array_alloc(&a, types[t], 1, dims) == QRT_OK);
    for (size_t i = 0; i < 7 * qrt_dtype_size(types[t]); ++i)
      ((unsigned char *)a.data)[i] = (unsigned char)(i * 37 + 1);
    CHECK(qrt_npy_write(path("rt.npy"), &a) == QRT_OK);
    char msg[256];
    CHECK(qrt_npy_read(path("rt.npy"), &b, msg, sizeof msg) == QRT_OK);
    CHECK(b.dtype == types[t] && b.rank == 1 && b.dims[0] == 7);
    CHECK(memcmp(a.data, b.data, 7 * qrt_dtype_size(types[t])) == 0);
    qrt_array_free(&a);
    qrt_array_free(&b);
  }
  /* Rank 0 and an empty array. */
  qrt_array_t s, r;
  CHECK(qrt_array_alloc(&s, QRT_F32, 0, NULL) == QRT_OK);
  *(float *)s.data = 2.5f;
  CHECK(qrt_npy_write(path("s.npy"), &s) == QRT_OK);
  CHECK(qrt_npy_read(path("s.npy"), &r, NULL, 0) == QRT_OK);
  CHECK(r.rank == 0 && *(float *)r.data == 2.5f);
  qrt_array_free(&s);
  qrt_array_free(&r);
  int64_t zero[2] = {0, 4};
  CHECK(qrt_array_alloc(&s, QRT_I8, 2, zero) == QRT_OK);
  CHECK(qrt_npy_write(path("e.npy"), &s) == QRT_OK);
  CHECK(qrt_npy_read(path("e.npy"), &r, NULL, 0) == QRT_OK);
  CHECK(r.rank == 2 && r.dims[0] == 0 && r.dims[1] == 4);
  qrt_array_free(&s);
  qrt_array_free(&r);
}

static void testBadInputs(void) {
  qrt_array_t a;
  char msg[256];
  CHECK(qrt_npy_read(path("missing.npy"), &a, msg, sizeof msg) == QRT_ERR_IO);
  writeBytes("magic.npy", "NOTNUMPY\x01\x00", 10);
  CHECK(qrt_npy_read(path("magic.npy"), &a, msg, sizeof msg) == QRT_ERR_FORMAT);
  CHECK(strstr(msg, "bad magic") != NULL);
  const char hdr64[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }      \n";
  unsigned char buf[256];
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (unsigned char)(sizeof hdr64 - 1);
  buf[9] = 0;
  memcpy(buf + 10, hdr64, sizeof hdr64 - 1);
  memset(buf + 10 + sizeof hdr64 - 1, 0, 16);
  writeBytes("f8.npy", buf, 10 + sizeof hdr64 - 1 + 16);
  CHECK(qrt_npy_read(path("f8.npy"), &a, msg, sizeof msg) == QRT_ERR_DTYPE);
  CHECK(strstr(msg, "'<f8'") != NULL);
  const char hdrF[] = "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }       \n";
  memcpy(buf + 10, hdrF, sizeof hdrF - 1);
  writeBytes("fo.npy", buf, 10 + sizeof hdrF - 1 + 8);
  CHECK(qrt_npy_read(path("fo.npy"), &a, msg, sizeof msg) == QRT_ERR_FORMAT);
  const char hdrT[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (9,), }      \n";
  memcpy(buf + 10, hdrT, sizeof hdrT - 1);
  writeBytes("short.npy", buf, 10 + sizeof hdrT - 1 + 8); /* 2 of 9 floats */
  CHECK(qrt_npy_read(path("short.npy"), &a, msg, sizeof msg) == QRT_ERR_FORMAT);
  CHECK(strstr(msg, "truncated") != NULL);
  CHECK(a.data == NULL);
  writeBytes("trunc.npy", "\x93NUMPY\x01\x00\x76\x00{'descr'", 18);
  CHECK(qrt_npy_read(path("trunc.npy"), &a, msg, sizeof msg) == QRT_ERR_FORMAT);
  /* Writing into a missing directory fails and leaves nothing behind. */
  qrt_array_t s;
  CHECK(qrt_array_alloc(&s, QRT_F32, 0, NULL) == QRT_OK);
  CHECK(qrt_npy_write(path("no/such/dir/x.npy"), &s) == QRT_ERR_IO);
  qrt_array_free(&s);
}

int main(int argc, char **argv) {
  snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "/tmp/qrt-npy-test");
  mkdir(dir, 0755);
  testExactHeader();
  testRoundTrip();
  testBadInputs();
  printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
  return failures != 0;
}
