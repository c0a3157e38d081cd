/* quant-opt CPU features and kernel ISA selection: one routine for the
 * generated models, the JIT and the calibration runtime.
 *
 * Every decision is made from individual cpuid/xgetbv bits, never inferred
 * from another feature (AVX-512 VNNI does not imply AVX-VNNI: AMD Zen 4 has
 * the first and not the second). A feature that needs operating-system
 * support (AVX state in XCR0 for ymm, opmask/zmm state for AVX-512, tile
 * state plus the Linux permission for AMX) counts only when the OS enables
 * it. The decoding and the selection are pure functions, tested over a table
 * of CPUs (test/runtime/cpu_test.c); detection runs once per process.
 *
 * This file is also compiled into every shared library quant-opt emits (the
 * model's copy is private to it): keep it plain C11 with libc only. */
#ifndef QUANT_OPT_QRT_CPU_H
#define QUANT_OPT_QRT_CPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Feature bits (a uint64_t set). Names are LLVM's target-feature names. */
#define QRT_CPU_FEATURES(X)                                                                   \
  X(SSE2, "sse2") X(SSE3, "sse3") X(SSSE3, "ssse3") X(SSE41, "sse4.1") X(SSE42, "sse4.2")      \
  X(POPCNT, "popcnt") X(CX16, "cx16") X(PCLMUL, "pclmul") X(AES, "aes") X(MOVBE, "movbe")     \
  X(RDRND, "rdrnd") X(XSAVE, "xsave") X(SAHF, "sahf") X(LZCNT, "lzcnt") X(PRFCHW, "prfchw")   \
  X(SSE4A, "sse4a") X(AVX, "avx") X(F16C, "f16c") X(FMA, "fma") X(AVX2, "avx2") X(BMI, "bmi") \
  X(BMI2, "bmi2") X(ADX, "adx") X(RDSEED, "rdseed") X(SHA, "sha") X(GFNI, "gfni")             \
  X(VAES, "vaes") X(VPCLMULQDQ, "vpclmulqdq") X(AVXVNNI, "avxvnni") X(AVXVNNIINT8,            \
  "avxvnniint8") X(AVXIFMA, "avxifma") X(AVX512F, "avx512f") X(AVX512DQ, "avx512dq")          \
  X(AVX512BW, "avx512bw") X(AVX512VL, "avx512vl") X(AVX512CD, "avx512cd") X(AVX512IFMA,       \
  "avx512ifma") X(AVX512VBMI, "avx512vbmi") X(AVX512VBMI2, "avx512vbmi2") X(AVX512VNNI,       \
  "avx512vnni") X(AVX512BITALG, "avx512bitalg") X(AVX512VPOPCNTDQ, "avx512vpopcntdq")         \
  X(AVX512BF16, "avx512bf16") X(AVX512FP16, "avx512fp16") X(AMXTILE, "amx-tile")              \
  X(AMXINT8, "amx-int8") X(AMXBF16, "amx-bf16") X(CMOV, "cmov") X(CX8, "cx8") X(FXSR, "fxsr") \
  X(MMX, "mmx") X(SSE, "sse") X(X86_64, "64bit")

enum {
#define QRT_CPU_ENUM(id, name) QRT_CPU_BIT_##id,
  QRT_CPU_FEATURES(QRT_CPU_ENUM)
#undef QRT_CPU_ENUM
  QRT_CPU_NUM_FEATURES
};
#define QRT_CPU_HAS(id) ((uint64_t)1 << QRT_CPU_BIT_##id)

/* The raw cpuid/xgetbv words the decoding reads (0 where a leaf is absent). */
typedef struct qrt_cpuid_regs {
  uint32_t max_leaf;                   /* leaf 0 eax */
  uint32_t l1_ecx, l1_edx;             /* leaf 1 */
  uint32_t l7_ebx, l7_ecx, l7_edx;     /* leaf 7 subleaf 0 */
  uint32_t l7_1_eax, l7_1_edx;         /* leaf 7 subleaf 1 */
  uint32_t max_ext_leaf;               /* leaf 0x80000000 eax */
  uint32_t e1_ecx, e1_edx;             /* leaf 0x80000001 */
  uint64_t xcr0;                       /* xgetbv(0); 0 without OSXSAVE */
  int amx_permitted;                   /* Linux granted XTILEDATA to this process */
} qrt_cpuid_regs_t;

/* Decodes raw cpuid words into a feature set (pure). */
uint64_t qrt_cpu_decode(const qrt_cpuid_regs_t *regs);

/* Reads this CPU's cpuid words (and asks Linux for AMX tile permission when
 * the CPU has AMX). */
void qrt_cpu_read(qrt_cpuid_regs_t *regs);

/* The features of this CPU, detected once per process (thread-safe). The
 * environment variable QO_CPU_DISABLE (comma-separated feature names, e.g.
 * "avx512f,avxvnni") removes features, to test the fallbacks on any host. */
uint64_t qrt_cpu_features(void);

/* LLVM feature name <-> bit; -1 / NULL when unknown. */
int qrt_cpu_feature_bit(const char *name, size_t len);
const char *qrt_cpu_feature_name(int bit);

/* Writes the names of the features in `set` ("avx2 fma ...") into buf. */
void qrt_cpu_format(uint64_t set, char *buf, size_t size);

/* Parses an LLVM feature string ("+avx2,+fma,-amx-tile,...") into the set of
 * enabled features this file knows. */
uint64_t qrt_cpu_parse_llvm_features(const char *features);

/*===--- Kernel ISAs ------------------------------------------------------===*/

/* The kernel bodies quant-x86-kernels generates, in order of preference
 * (higher is preferred). The numbers are the dispatcher's: keep them. */
typedef enum qrt_isa {
  QRT_ISA_PORTABLE = 0,
  QRT_ISA_AVX2 = 1,        /* avx2 + fma (+ avx, f16c they imply), ymm state */
  QRT_ISA_AVX_VNNI = 2,    /* avx2 + fma + avxvnni (VEX vpdpbusd), ymm state */
  QRT_ISA_AVX512_VNNI = 3, /* avx512 f/bw/dq/vl/vnni (+ what they imply), zmm state */
  QRT_ISA_COUNT
} qrt_isa_t;

/* "portable", "avx2", "avx-vnni", "avx512-vnni" (QO_ISA's values). */
const char *qrt_isa_name(qrt_isa_t isa);

/* Every feature a kernel body of `isa` is compiled with (its LLVM
 * target_features and what they imply): the exact guard of that body. */
uint64_t qrt_isa_requirements(qrt_isa_t isa);

/* Chooses the kernel body for a CPU with `features` (pure). `request` is
 * QO_ISA's value (NULL or "" for none). Without a request: the preferred body
 * the CPU supports. A request the CPU supports is honoured. A request it does
 * not support falls back to the preferred supported body ranked below it, and
 * a request that names no ISA is ignored; both write one line into `msg`
 * (else msg is set to ""). */
qrt_isa_t qrt_isa_select(uint64_t features, const char *request, char *msg, size_t size);

/* What generated kernels call: qrt_isa_select for this CPU and QO_ISA, once
 * per process; the message, if any, goes to stderr once. */
int32_t qrt_kernel_isa(void);

#ifdef __cplusplus
}
#endif
#endif /* QUANT_OPT_QRT_CPU_H */
