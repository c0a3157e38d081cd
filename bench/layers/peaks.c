/* peaks: this machine's per-core arithmetic ceilings, measured in the same run as the
 * layer benchmarks so that "% of peak" compares like with like.
 *
 *   clock  dependent `add reg, reg` chain (1 per cycle): an estimate of the core clock
 *   fp32   vfmadd231ps zmm, 24 independent accumulators: 32 FLOP per instruction
 *   vnni   vpdpbusd zmm (u8 x s8 -> s32), 24 independent accumulators: 128 OP per
 *          instruction (64 multiply-adds)
 *   amx    tdpbusd 16x64 . 64x16 on resident tiles, 4 independent accumulator tiles:
 *          32768 OP per instruction; only when cpuid reports amx-tile + amx-int8, the OS
 *          enables XTILEDATA and arch_prctl(ARCH_REQ_XCOMP_PERM, 18) succeeds
 *
 * Each figure is the best of CHUNKS chunks of about 50 ms, 1 thread. The kernels are
 * inline asm with fixed registers, so the compiler cannot fold or spill anything.
 *   peaks [--chunks N] [--chunk-ms MS]
 * Output: one `key value` line per kernel (GOP/s, or "n/a" + reason), then a summary. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- kernels: each runs `iters` iterations of a fixed instruction block ---- */

/* 64 dependent adds per iteration: ~64 cycles. */
#define ADD8 "add %1, %0\n\t" "add %1, %0\n\t" "add %1, %0\n\t" "add %1, %0\n\t" \
             "add %1, %0\n\t" "add %1, %0\n\t" "add %1, %0\n\t" "add %1, %0\n\t"
static void clock_loop(long iters) {
  uint64_t a = 0, b = 1;
  __asm__ volatile("1:\n\t" ADD8 ADD8 ADD8 ADD8 ADD8 ADD8 ADD8 ADD8
                   "dec %2\n\t"
                   "jnz 1b\n\t"
                   : "+r"(a), "+r"(b), "+r"(iters) : : "cc");
}
#define CLOCK_OPS_PER_ITER 64.0 /* "ops" = cycles here */

#define FMA(r) "vfmadd231ps %%zmm30, %%zmm31, %%zmm" #r "\n\t"
#define FMA24 FMA(0) FMA(1) FMA(2) FMA(3) FMA(4) FMA(5) FMA(6) FMA(7) FMA(8) FMA(9) \
    FMA(10) FMA(11) FMA(12) FMA(13) FMA(14) FMA(15) FMA(16) FMA(17) FMA(18) FMA(19)   \
    FMA(20) FMA(21) FMA(22) FMA(23)
#define ZMM_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", \
    "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18",  \
    "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm30", "xmm31"

__attribute__((target("avx512f"))) static void fma_loop(long iters) {
  /* Small values (x * 1e-30 + acc) so nothing overflows or goes denormal-slow. */
  static const float one = 1.0f, tiny = 1e-30f;
  __asm__ volatile("vbroadcastss %1, %%zmm30\n\t"
                   "vbroadcastss %2, %%zmm31\n\t"
                   "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
                   "vmovaps %%zmm0, %%zmm1\n\t" "vmovaps %%zmm0, %%zmm2\n\t"
                   "vmovaps %%zmm0, %%zmm3\n\t" "vmovaps %%zmm0, %%zmm4\n\t"
                   "vmovaps %%zmm0, %%zmm5\n\t" "vmovaps %%zmm0, %%zmm6\n\t"
                   "vmovaps %%zmm0, %%zmm7\n\t" "vmovaps %%zmm0, %%zmm8\n\t"
                   "vmovaps %%zmm0, %%zmm9\n\t" "vmovaps %%zmm0, %%zmm10\n\t"
                   "vmovaps %%zmm0, %%zmm11\n\t" "vmovaps %%zmm0, %%zmm12\n\t"
                   "vmovaps %%zmm0, %%zmm13\n\t" "vmovaps %%zmm0, %%zmm14\n\t"
                   "vmovaps %%zmm0, %%zmm15\n\t" "vmovaps %%zmm0, %%zmm16\n\t"
                   "vmovaps %%zmm0, %%zmm17\n\t" "vmovaps %%zmm0, %%zmm18\n\t"
                   "vmovaps %%zmm0, %%zmm19\n\t" "vmovaps %%zmm0, %%zmm20\n\t"
                   "vmovaps %%zmm0, %%zmm21\n\t" "vmovaps %%zmm0, %%zmm22\n\t"
                   "vmovaps %%zmm0, %%zmm23\n\t"
                   "1:\n\t" FMA24 FMA24
                   "dec %0\n\t"
                   "jnz 1b\n\t"
                   "vzeroupper\n\t"
                   : "+r"(iters) : "m"(one), "m"(tiny) : ZMM_CLOBBERS, "cc");
}
#define FMA_OPS_PER_ITER (48.0 * 16 * 2)

#define DP(r) "vpdpbusd %%zmm30, %%zmm31, %%zmm" #r "\n\t"
#define DP24 DP(0) DP(1) DP(2) DP(3) DP(4) DP(5) DP(6) DP(7) DP(8) DP(9) DP(10) DP(11) \
    DP(12) DP(13) DP(14) DP(15) DP(16) DP(17) DP(18) DP(19) DP(20) DP(21) DP(22) DP(23)

__attribute__((target("avx512f,avx512vnni"))) static void vnni_loop(long iters) {
  static const uint32_t ones = 0x01010101u;
  __asm__ volatile("vpbroadcastd %1, %%zmm30\n\t"
                   "vpbroadcastd %1, %%zmm31\n\t"
                   "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
                   "vmovdqa64 %%zmm0, %%zmm1\n\t" "vmovdqa64 %%zmm0, %%zmm2\n\t"
                   "vmovdqa64 %%zmm0, %%zmm3\n\t" "vmovdqa64 %%zmm0, %%zmm4\n\t"
                   "vmovdqa64 %%zmm0, %%zmm5\n\t" "vmovdqa64 %%zmm0, %%zmm6\n\t"
                   "vmovdqa64 %%zmm0, %%zmm7\n\t" "vmovdqa64 %%zmm0, %%zmm8\n\t"
                   "vmovdqa64 %%zmm0, %%zmm9\n\t" "vmovdqa64 %%zmm0, %%zmm10\n\t"
                   "vmovdqa64 %%zmm0, %%zmm11\n\t" "vmovdqa64 %%zmm0, %%zmm12\n\t"
                   "vmovdqa64 %%zmm0, %%zmm13\n\t" "vmovdqa64 %%zmm0, %%zmm14\n\t"
                   "vmovdqa64 %%zmm0, %%zmm15\n\t" "vmovdqa64 %%zmm0, %%zmm16\n\t"
                   "vmovdqa64 %%zmm0, %%zmm17\n\t" "vmovdqa64 %%zmm0, %%zmm18\n\t"
                   "vmovdqa64 %%zmm0, %%zmm19\n\t" "vmovdqa64 %%zmm0, %%zmm20\n\t"
                   "vmovdqa64 %%zmm0, %%zmm21\n\t" "vmovdqa64 %%zmm0, %%zmm22\n\t"
                   "vmovdqa64 %%zmm0, %%zmm23\n\t"
                   "1:\n\t" DP24 DP24
                   "dec %0\n\t"
                   "jnz 1b\n\t"
                   "vzeroupper\n\t"
                   : "+r"(iters) : "m"(ones) : ZMM_CLOBBERS, "cc");
}
#define VNNI_OPS_PER_ITER (48.0 * 64 * 2)

/* AMX: tiles 0-3 accumulate (16 rows x 64 B = 16x16 s32), tile 4 = A (16x64 u8),
 * tile 5 = B (16 rows x 64 B = 64x16 s8 in VNNI layout). */
struct amx_cfg {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

__attribute__((target("amx-tile,amx-int8"))) static void amx_loop(long iters) {
  static uint8_t buf[16 * 64] __attribute__((aligned(64)));
  struct amx_cfg cfg __attribute__((aligned(64)));
  memset(&cfg, 0, sizeof cfg);
  memset(buf, 1, sizeof buf);
  cfg.palette = 1;
  for (int t = 0; t < 6; t++) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  __asm__ volatile("ldtilecfg %1\n\t"
                   "tilezero %%tmm0\n\t" "tilezero %%tmm1\n\t"
                   "tilezero %%tmm2\n\t" "tilezero %%tmm3\n\t"
                   "mov $64, %%rax\n\t"
                   "tileloadd (%2,%%rax,1), %%tmm4\n\t"
                   "tileloadd (%2,%%rax,1), %%tmm5\n\t"
                   "1:\n\t"
                   "tdpbusd %%tmm5, %%tmm4, %%tmm0\n\t" "tdpbusd %%tmm5, %%tmm4, %%tmm1\n\t"
                   "tdpbusd %%tmm5, %%tmm4, %%tmm2\n\t" "tdpbusd %%tmm5, %%tmm4, %%tmm3\n\t"
                   "tdpbusd %%tmm5, %%tmm4, %%tmm0\n\t" "tdpbusd %%tmm5, %%tmm4, %%tmm1\n\t"
                   "tdpbusd %%tmm5, %%tmm4, %%tmm2\n\t" "tdpbusd %%tmm5, %%tmm4, %%tmm3\n\t"
                   "dec %0\n\t"
                   "jnz 1b\n\t"
                   "tilerelease\n\t"
                   : "+r"(iters) : "m"(cfg), "r"(buf) : "rax", "memory", "cc");
}
#define AMX_OPS_PER_ITER (8.0 * 16 * 16 * 64 * 2)

/* ---- feature detection ---- */

static uint64_t xgetbv0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

struct features {
  int avx512f, vnni, amx_tile, amx_int8, os_zmm, os_amx;
  char brand[49];
};

static struct features detect(void) {
  struct features f;
  unsigned a, b, c, d;
  memset(&f, 0, sizeof f);
  if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 27))) { /* OSXSAVE */
    uint64_t xcr0 = xgetbv0();
    f.os_zmm = (xcr0 & 0xe6) == 0xe6;                      /* SSE, AVX, opmask, ZMM */
    f.os_amx = (xcr0 & (3ull << 17)) == (3ull << 17);       /* XTILECFG, XTILEDATA */
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx512f = (b >> 16) & 1;
    f.vnni = (c >> 11) & 1;
    f.amx_tile = (d >> 24) & 1;
    f.amx_int8 = (d >> 25) & 1;
  }
  unsigned *w = (unsigned *)f.brand;
  for (unsigned i = 0; i < 3; i++)
    if (!__get_cpuid(0x80000002 + i, &w[4 * i], &w[4 * i + 1], &w[4 * i + 2], &w[4 * i + 3]))
      strcpy(f.brand, "unknown");
  f.brand[48] = 0;
  return f;
}

/* ---- timing ---- */

static int g_chunks = 10;
static double g_chunk_ms = 50.0;

/* Best rate (ops/s) over g_chunks chunks of ~g_chunk_ms each. */
static double measure(void (*loop)(long), double ops_per_iter) {
  long iters = 1000;
  for (;;) { /* size the chunk (also the warm-up) */
    double t0 = now_s();
    loop(iters);
    double dt = now_s() - t0;
    if (dt > 0.2 * g_chunk_ms * 1e-3) {
      iters = (long)((double)iters * g_chunk_ms * 1e-3 / dt) + 1;
      break;
    }
    iters *= 4;
  }
  double best = 0;
  for (int i = 0; i < g_chunks; i++) {
    double t0 = now_s();
    loop(iters);
    double rate = ops_per_iter * (double)iters / (now_s() - t0);
    if (rate > best) best = rate;
  }
  return best;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--chunks") && i + 1 < argc) g_chunks = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--chunk-ms") && i + 1 < argc) g_chunk_ms = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: peaks [--chunks N] [--chunk-ms MS]\n");
      return 2;
    }
  }
  if (g_chunks < 1) g_chunks = 1;
  struct features f = detect();
  printf("cpu %s\n", f.brand);
  printf("features avx512f=%d avx512_vnni=%d amx_tile=%d amx_int8=%d os_zmm=%d os_amx=%d\n",
         f.avx512f, f.vnni, f.amx_tile, f.amx_int8, f.os_zmm, f.os_amx);

  double ghz = measure(clock_loop, CLOCK_OPS_PER_ITER) * 1e-9;
  printf("clock_ghz %.2f\n", ghz);
  double fma = 0, vnni = 0, amx = 0;
  if (f.avx512f && f.os_zmm) {
    fma = measure(fma_loop, FMA_OPS_PER_ITER) * 1e-9;
    printf("fp32_fma_gops %.1f\n", fma);
  } else {
    printf("fp32_fma_gops n/a (no AVX-512)\n");
  }
  if (f.avx512f && f.vnni && f.os_zmm) {
    vnni = measure(vnni_loop, VNNI_OPS_PER_ITER) * 1e-9;
    printf("int8_vnni_gops %.1f\n", vnni);
  } else {
    printf("int8_vnni_gops n/a (no AVX512-VNNI)\n");
  }
  if (!(f.amx_tile && f.amx_int8)) {
    printf("int8_amx_gops n/a (cpuid: no amx-int8)\n");
  } else if (!f.os_amx) {
    printf("int8_amx_gops n/a (XCR0: OS does not enable tile state)\n");
  } else if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) {
    printf("int8_amx_gops n/a (arch_prctl(ARCH_REQ_XCOMP_PERM) refused)\n");
  } else {
    amx = measure(amx_loop, AMX_OPS_PER_ITER) * 1e-9;
    printf("int8_amx_gops %.1f\n", amx);
  }
  printf("summary 1 core, best of %d x %.0f ms: clock ~%.2f GHz | fp32 FMA %.0f GFLOP/s (%.1f/cycle)"
         " | int8 VNNI %.0f GOP/s (%.1f/cycle, %.2fx fp32)",
         g_chunks, g_chunk_ms, ghz, fma, ghz > 0 ? fma / ghz : 0, vnni, ghz > 0 ? vnni / ghz : 0,
         fma > 0 ? vnni / fma : 0);
  if (amx > 0) printf(" | int8 AMX %.0f GOP/s (%.2fx VNNI)\n", amx, vnni > 0 ? amx / vnni : 0);
  else printf(" | int8 AMX n/a\n");
  return 0;
}
