/* CPU feature detection and kernel ISA selection (see quant-opt/qrt_cpu.h).
 *
 * One table says where each feature lives in cpuid and which register state
 * the OS must enable for it; decoding walks that table. The same file is
 * linked into the tools (calibration kernels, the JIT) and pasted into the
 * ABI wrapper of every emitted shared library (compiler/Emit.c), where it is
 * compiled for the baseline x86-64 with hidden visibility. */
#ifndef QRT_CPU_EMBEDDED
#include "quant-opt/qrt_cpu.h"
#endif

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <sys/syscall.h>
#endif

/* Which word of qrt_cpuid_regs_t holds a feature. */
enum { W_L1_ECX, W_L1_EDX, W_L7_EBX, W_L7_ECX, W_L7_EDX, W_L71_EAX, W_L71_EDX, W_E1_ECX, W_E1_EDX };
/* The register state the OS must enable (XCR0) for a feature to be usable. */
enum { OS_NONE, OS_YMM, OS_ZMM, OS_AMX };

typedef struct {
  unsigned char word, bit, os;
} qrt_cpu_where;

static const qrt_cpu_where qrt_cpu_table[QRT_CPU_NUM_FEATURES] = {
    [QRT_CPU_BIT_SSE2] = {W_L1_EDX, 26, OS_NONE},
    [QRT_CPU_BIT_SSE3] = {W_L1_ECX, 0, OS_NONE},
    [QRT_CPU_BIT_SSSE3] = {W_L1_ECX, 9, OS_NONE},
    [QRT_CPU_BIT_SSE41] = {W_L1_ECX, 19, OS_NONE},
    [QRT_CPU_BIT_SSE42] = {W_L1_ECX, 20, OS_NONE},
    [QRT_CPU_BIT_POPCNT] = {W_L1_ECX, 23, OS_NONE},
    [QRT_CPU_BIT_CX16] = {W_L1_ECX, 13, OS_NONE},
    [QRT_CPU_BIT_PCLMUL] = {W_L1_ECX, 1, OS_NONE},
    [QRT_CPU_BIT_AES] = {W_L1_ECX, 25, OS_NONE},
    [QRT_CPU_BIT_MOVBE] = {W_L1_ECX, 22, OS_NONE},
    [QRT_CPU_BIT_RDRND] = {W_L1_ECX, 30, OS_NONE},
    [QRT_CPU_BIT_XSAVE] = {W_L1_ECX, 26, OS_NONE},
    [QRT_CPU_BIT_SAHF] = {W_E1_ECX, 0, OS_NONE},
    [QRT_CPU_BIT_LZCNT] = {W_E1_ECX, 5, OS_NONE},
    [QRT_CPU_BIT_PRFCHW] = {W_E1_ECX, 8, OS_NONE},
    [QRT_CPU_BIT_SSE4A] = {W_E1_ECX, 6, OS_NONE},
    [QRT_CPU_BIT_AVX] = {W_L1_ECX, 28, OS_YMM},
    [QRT_CPU_BIT_F16C] = {W_L1_ECX, 29, OS_YMM},
    [QRT_CPU_BIT_FMA] = {W_L1_ECX, 12, OS_YMM},
    [QRT_CPU_BIT_AVX2] = {W_L7_EBX, 5, OS_YMM},
    [QRT_CPU_BIT_BMI] = {W_L7_EBX, 3, OS_NONE},
    [QRT_CPU_BIT_BMI2] = {W_L7_EBX, 8, OS_NONE},
    [QRT_CPU_BIT_ADX] = {W_L7_EBX, 19, OS_NONE},
    [QRT_CPU_BIT_RDSEED] = {W_L7_EBX, 18, OS_NONE},
    [QRT_CPU_BIT_SHA] = {W_L7_EBX, 29, OS_NONE},
    [QRT_CPU_BIT_GFNI] = {W_L7_ECX, 8, OS_NONE},
    [QRT_CPU_BIT_VAES] = {W_L7_ECX, 9, OS_YMM},
    [QRT_CPU_BIT_VPCLMULQDQ] = {W_L7_ECX, 10, OS_YMM},
    [QRT_CPU_BIT_AVXVNNI] = {W_L71_EAX, 4, OS_YMM},
    [QRT_CPU_BIT_AVXVNNIINT8] = {W_L71_EDX, 4, OS_YMM},
    [QRT_CPU_BIT_AVXIFMA] = {W_L71_EAX, 23, OS_YMM},
    [QRT_CPU_BIT_AVX512F] = {W_L7_EBX, 16, OS_ZMM},
    [QRT_CPU_BIT_AVX512DQ] = {W_L7_EBX, 17, OS_ZMM},
    [QRT_CPU_BIT_AVX512BW] = {W_L7_EBX, 30, OS_ZMM},
    [QRT_CPU_BIT_AVX512VL] = {W_L7_EBX, 31, OS_ZMM},
    [QRT_CPU_BIT_AVX512CD] = {W_L7_EBX, 28, OS_ZMM},
    [QRT_CPU_BIT_AVX512IFMA] = {W_L7_EBX, 21, OS_ZMM},
    [QRT_CPU_BIT_AVX512VBMI] = {W_L7_ECX, 1, OS_ZMM},
    [QRT_CPU_BIT_AVX512VBMI2] = {W_L7_ECX, 6, OS_ZMM},
    [QRT_CPU_BIT_AVX512VNNI] = {W_L7_ECX, 11, OS_ZMM},
    [QRT_CPU_BIT_AVX512BITALG] = {W_L7_ECX, 12, OS_ZMM},
    [QRT_CPU_BIT_AVX512VPOPCNTDQ] = {W_L7_ECX, 14, OS_ZMM},
    [QRT_CPU_BIT_AVX512BF16] = {W_L71_EAX, 5, OS_ZMM},
    [QRT_CPU_BIT_AVX512FP16] = {W_L7_EDX, 23, OS_ZMM},
    [QRT_CPU_BIT_AMXTILE] = {W_L7_EDX, 24, OS_AMX},
    [QRT_CPU_BIT_AMXINT8] = {W_L7_EDX, 25, OS_AMX},
    [QRT_CPU_BIT_AMXBF16] = {W_L7_EDX, 22, OS_AMX},
    [QRT_CPU_BIT_CMOV] = {W_L1_EDX, 15, OS_NONE},
    [QRT_CPU_BIT_CX8] = {W_L1_EDX, 8, OS_NONE},
    [QRT_CPU_BIT_FXSR] = {W_L1_EDX, 24, OS_NONE},
    [QRT_CPU_BIT_MMX] = {W_L1_EDX, 23, OS_NONE},
    [QRT_CPU_BIT_SSE] = {W_L1_EDX, 25, OS_NONE},
    [QRT_CPU_BIT_X86_64] = {W_E1_EDX, 29, OS_NONE},
};

static const char *const qrt_cpu_names[QRT_CPU_NUM_FEATURES] = {
#define QRT_CPU_NAME(id, name) name,
    QRT_CPU_FEATURES(QRT_CPU_NAME)
#undef QRT_CPU_NAME
};

uint64_t qrt_cpu_decode(const qrt_cpuid_regs_t *r) {
  uint32_t words[] = {
      r->max_leaf >= 1 ? r->l1_ecx : 0,   r->max_leaf >= 1 ? r->l1_edx : 0,
      r->max_leaf >= 7 ? r->l7_ebx : 0,   r->max_leaf >= 7 ? r->l7_ecx : 0,
      r->max_leaf >= 7 ? r->l7_edx : 0,   r->max_leaf >= 7 ? r->l7_1_eax : 0,
      r->max_leaf >= 7 ? r->l7_1_edx : 0, r->max_ext_leaf >= 0x80000001u ? r->e1_ecx : 0,
      r->max_ext_leaf >= 0x80000001u ? r->e1_edx : 0};
  /* XCR0 is meaningful only when the OS set CR4.OSXSAVE (leaf 1 ecx bit 27). */
  uint64_t xcr0 = (words[W_L1_ECX] >> 27 & 1) ? r->xcr0 : 0;
  int os[4] = {1, (xcr0 & 0x6) == 0x6, (xcr0 & 0xe6) == 0xe6,
               (xcr0 & 0x60000) == 0x60000 && r->amx_permitted};
  uint64_t set = 0;
  for (int f = 0; f < QRT_CPU_NUM_FEATURES; ++f) {
    const qrt_cpu_where *w = &qrt_cpu_table[f];
    if ((words[w->word] >> w->bit & 1) && os[w->os]) set |= (uint64_t)1 << f;
  }
  return set;
}

#if defined(__x86_64__) || defined(__i386__)
static void qrt_cpuid(uint32_t leaf, uint32_t sub, uint32_t out[4]) {
  __cpuid_count(leaf, sub, out[0], out[1], out[2], out[3]);
}
#endif

void qrt_cpu_read(qrt_cpuid_regs_t *r) {
  memset(r, 0, sizeof *r);
#if defined(__x86_64__) || defined(__i386__)
  uint32_t v[4];
  qrt_cpuid(0, 0, v);
  r->max_leaf = v[0];
  if (r->max_leaf >= 1) {
    qrt_cpuid(1, 0, v);
    r->l1_ecx = v[2], r->l1_edx = v[3];
  }
  if (r->max_leaf >= 7) {
    qrt_cpuid(7, 0, v);
    r->l7_ebx = v[1], r->l7_ecx = v[2], r->l7_edx = v[3];
    if (v[0] >= 1) {
      qrt_cpuid(7, 1, v);
      r->l7_1_eax = v[0], r->l7_1_edx = v[3];
    }
  }
  qrt_cpuid(0x80000000u, 0, v);
  r->max_ext_leaf = v[0];
  if (r->max_ext_leaf >= 0x80000001u) {
    qrt_cpuid(0x80000001u, 0, v);
    r->e1_ecx = v[2], r->e1_edx = v[3];
  }
  if (r->l1_ecx >> 27 & 1) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    r->xcr0 = (uint64_t)hi << 32 | lo;
  }
  /* AMX tile data needs a per-process permission on Linux (5.16+). */
  if ((r->l7_edx >> 24 & 1) && (r->xcr0 & 0x60000) == 0x60000) {
    enum { ARCH_GET_XCOMP_PERM = 0x1022, ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    unsigned long perm = 0;
    if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm) == 0 && (perm >> XFEATURE_XTILEDATA & 1))
      r->amx_permitted = 1;
    else if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0)
      r->amx_permitted = 1;
  }
#endif
}

int qrt_cpu_feature_bit(const char *name, size_t len) {
  for (int f = 0; f < QRT_CPU_NUM_FEATURES; ++f)
    if (strlen(qrt_cpu_names[f]) == len && memcmp(qrt_cpu_names[f], name, len) == 0) return f;
  return -1;
}

const char *qrt_cpu_feature_name(int bit) {
  return bit >= 0 && bit < QRT_CPU_NUM_FEATURES ? qrt_cpu_names[bit] : NULL;
}

void qrt_cpu_format(uint64_t set, char *buf, size_t size) {
  size_t n = 0;
  if (size) buf[0] = 0;
  for (int f = 0; f < QRT_CPU_NUM_FEATURES && size; ++f) {
    if (!(set >> f & 1)) continue;
    int k = snprintf(buf + n, size - n, "%s%s", n ? " " : "", qrt_cpu_names[f]);
    if (k < 0 || (size_t)k >= size - n) break;
    n += (size_t)k;
  }
}

uint64_t qrt_cpu_parse_llvm_features(const char *s) {
  uint64_t set = 0;
  while (s && *s) {
    const char *end = strchr(s, ',');
    size_t len = end ? (size_t)(end - s) : strlen(s);
    if (len > 1 && s[0] == '+') {
      int bit = qrt_cpu_feature_bit(s + 1, len - 1);
      if (bit >= 0) set |= (uint64_t)1 << bit;
    }
    s = end ? end + 1 : NULL;
  }
  return set;
}

/* QO_CPU_DISABLE: the features to hide from detection. */
static uint64_t qrt_cpu_disabled(void) {
  const char *s = getenv("QO_CPU_DISABLE");
  uint64_t set = 0;
  while (s && *s) {
    const char *end = strchr(s, ',');
    size_t len = end ? (size_t)(end - s) : strlen(s);
    int bit = qrt_cpu_feature_bit(s, len);
    if (bit >= 0) set |= (uint64_t)1 << bit;
    else if (len) fprintf(stderr, "quant-opt: warning: QO_CPU_DISABLE names an unknown feature '%.*s'\n", (int)len, s);
    s = end ? end + 1 : NULL;
  }
  return set;
}

/* Bit 63 marks a detected value (no feature uses it). */
static _Atomic uint64_t qrt_cpu_cache;
#define QRT_CPU_DETECTED ((uint64_t)1 << 63)
_Static_assert(QRT_CPU_NUM_FEATURES < 63, "feature bits must leave bit 63 free");

uint64_t qrt_cpu_features(void) {
  uint64_t v = atomic_load_explicit(&qrt_cpu_cache, memory_order_acquire);
  if (v & QRT_CPU_DETECTED) return v & ~QRT_CPU_DETECTED;
  qrt_cpuid_regs_t r;
  qrt_cpu_read(&r);
  v = qrt_cpu_decode(&r) & ~qrt_cpu_disabled();
  /* Racing first calls compute the same value. */
  atomic_store_explicit(&qrt_cpu_cache, v | QRT_CPU_DETECTED, memory_order_release);
  return v;
}

/*===--- Kernel ISAs ------------------------------------------------------===*/

static const char *const qrt_isa_names[QRT_ISA_COUNT] = {"portable", "avx2", "avx-vnni", "avx512-vnni"};

const char *qrt_isa_name(qrt_isa_t isa) {
  return (unsigned)isa < QRT_ISA_COUNT ? qrt_isa_names[isa] : "?";
}

uint64_t qrt_isa_requirements(qrt_isa_t isa) {
  /* +avx2 implies avx and the SSE levels; +fma implies avx; +avx512f implies
   * avx2, fma and f16c (LLVM's X86 feature implications). */
  const uint64_t sse = QRT_CPU_HAS(SSE) | QRT_CPU_HAS(SSE2) | QRT_CPU_HAS(SSE3) | QRT_CPU_HAS(SSSE3) |
                       QRT_CPU_HAS(SSE41) | QRT_CPU_HAS(SSE42);
  const uint64_t avx2 = sse | QRT_CPU_HAS(AVX) | QRT_CPU_HAS(AVX2) | QRT_CPU_HAS(FMA);
  switch (isa) {
  case QRT_ISA_PORTABLE: return 0;
  case QRT_ISA_AVX2: return avx2;
  case QRT_ISA_AVX_VNNI: return avx2 | QRT_CPU_HAS(AVXVNNI);
  case QRT_ISA_AVX512_VNNI:
    return avx2 | QRT_CPU_HAS(F16C) | QRT_CPU_HAS(AVX512F) | QRT_CPU_HAS(AVX512BW) |
           QRT_CPU_HAS(AVX512DQ) | QRT_CPU_HAS(AVX512VL) | QRT_CPU_HAS(AVX512VNNI);
  default: return ~(uint64_t)0;
  }
}

static int qrt_isa_supported(uint64_t features, int isa) {
  uint64_t need = qrt_isa_requirements((qrt_isa_t)isa);
  return (features & need) == need;
}

qrt_isa_t qrt_isa_select(uint64_t features, const char *request, char *msg, size_t size) {
  if (msg && size) msg[0] = 0;
  int req = QRT_ISA_COUNT - 1;
  if (request && *request) {
    int named = -1;
    for (int i = 0; i < QRT_ISA_COUNT; ++i)
      if (!strcmp(request, qrt_isa_names[i])) named = i;
    if (named < 0) {
      if (msg && size)
        snprintf(msg, size, "QO_ISA=%.40s names no ISA (portable, avx2, avx-vnni, avx512-vnni); ignored",
                 request);
    } else {
      req = named;
    }
  }
  int isa = req;
  while (isa > 0 && !qrt_isa_supported(features, isa)) --isa;
  if (isa != req && request && *request && msg && size && !msg[0]) {
    char missing[256];
    qrt_cpu_format(qrt_isa_requirements((qrt_isa_t)req) & ~features, missing, sizeof missing);
    snprintf(msg, size, "QO_ISA=%s: this CPU lacks %s; using %s", qrt_isa_names[req], missing,
             qrt_isa_names[isa]);
  }
  return (qrt_isa_t)isa;
}

static atomic_int qrt_kernel_isa_cache = -1;

int32_t qrt_kernel_isa(void) {
  int isa = atomic_load_explicit(&qrt_kernel_isa_cache, memory_order_acquire);
  if (isa >= 0) return isa;
  char msg[512];
  isa = (int)qrt_isa_select(qrt_cpu_features(), getenv("QO_ISA"), msg, sizeof msg);
  int expected = -1;
  /* The first thread to decide reports the message. */
  if (atomic_compare_exchange_strong(&qrt_kernel_isa_cache, &expected, isa) && msg[0])
    fprintf(stderr, "quant-opt model: warning: %s\n", msg);
  return isa;
}
