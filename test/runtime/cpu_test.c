/* CPU feature decoding and kernel ISA selection (runtime/cpu.c) over a
 * table of CPUs this machine is not: Zen 3/4/5, Skylake-X, Ice Lake, Alder
 * Lake and Sapphire Rapids, from the cpuid bits each one reports, plus an OS
 * that does not enable AVX-512 state, one without OSXSAVE, AMX without the
 * Linux permission, and a CPU whose leaf 7 is absent. For each: the decoded
 * features that matter, the body chosen without QO_ISA, and the body and
 * message for every QO_ISA value. Also checks this host's detection against
 * its own cpuid, and the LLVM feature-string parser. */
#include "quant-opt/qrt_cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures, checks;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    ++checks;                                                                  \
    if (!(cond)) {                                                             \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                     \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

#define B(n) (1u << (n))

/* What every x86-64-v3 CPU here reports: leaf 1, leaf 7 ebx (bmi, avx2,
 * bmi2, rdseed, adx), extended leaf 1. */
static qrt_cpuid_regs_t v3(void) {
  qrt_cpuid_regs_t r = {0};
  r.max_leaf = 0x10;
  r.max_ext_leaf = 0x80000008u;
  r.l1_ecx = B(0) | B(1) | B(9) | B(12) | B(13) | B(19) | B(20) | B(22) | B(23) | B(25) | B(26) |
             B(27) | B(28) | B(29) | B(30);
  r.l1_edx = B(8) | B(15) | B(23) | B(24) | B(25) | B(26);
  r.l7_ebx = B(3) | B(5) | B(8) | B(18) | B(19);
  r.e1_ecx = B(0) | B(5) | B(8);
  r.e1_edx = B(29);
  r.xcr0 = 0x7; /* x87, SSE, AVX state */
  return r;
}

/* AVX-512 F, DQ, CD, BW, VL (Skylake-X level) with the OS enabling zmm state. */
static void avx512(qrt_cpuid_regs_t *r) {
  r->l7_ebx |= B(16) | B(17) | B(28) | B(30) | B(31);
  r->xcr0 |= 0xe0;
}

/* Ice Lake / Zen 4 additions: IFMA, VBMI, VBMI2, GFNI, VAES, VPCLMULQDQ,
 * VNNI, BITALG, VPOPCNTDQ. */
static void icelake(qrt_cpuid_regs_t *r) {
  r->l7_ebx |= B(21);
  r->l7_ecx |= B(1) | B(6) | B(8) | B(9) | B(10) | B(11) | B(12) | B(14);
}

typedef struct Cpu {
  const char *name;
  qrt_cpuid_regs_t regs;
  const char *has;    /* features that must be decoded */
  const char *hasNot; /* features that must not */
  const char *best;   /* body chosen without QO_ISA */
  /* The body chosen for QO_ISA = avx512-vnni, avx-vnni, avx2, portable. */
  const char *forced[4];
} Cpu;

static int hasAll(uint64_t f, const char *names, int want) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", names);
  for (char *t = strtok(buf, " "); t; t = strtok(NULL, " ")) {
    int bit = qrt_cpu_feature_bit(t, strlen(t));
    if (bit < 0) {
      fprintf(stderr, "unknown feature name '%s' in the test table\n", t);
      return 0;
    }
    if (((f >> bit) & 1) != (uint64_t)want) return 0;
  }
  return 1;
}

static void checkCpu(const Cpu *c) {
  static const char *const req[4] = {"avx512-vnni", "avx-vnni", "avx2", "portable"};
  uint64_t f = qrt_cpu_decode(&c->regs);
  CHECK(hasAll(f, c->has, 1), "%s: expected features [%s]", c->name, c->has);
  CHECK(hasAll(f, c->hasNot, 0), "%s: unexpected features among [%s]", c->name, c->hasNot);
  char msg[512];
  qrt_isa_t best = qrt_isa_select(f, NULL, msg, sizeof msg);
  CHECK(!strcmp(qrt_isa_name(best), c->best), "%s: auto chose %s, want %s", c->name,
        qrt_isa_name(best), c->best);
  CHECK(msg[0] == 0, "%s: auto selection printed '%s'", c->name, msg);
  for (int k = 0; k < 4; ++k) {
    qrt_isa_t got = qrt_isa_select(f, req[k], msg, sizeof msg);
    CHECK(!strcmp(qrt_isa_name(got), c->forced[k]), "%s: QO_ISA=%s chose %s, want %s", c->name,
          req[k], qrt_isa_name(got), c->forced[k]);
    /* Every chosen body has all its features: it can never fault. */
    uint64_t need = qrt_isa_requirements(got);
    CHECK((f & need) == need, "%s: QO_ISA=%s chose %s without all its features", c->name, req[k],
          qrt_isa_name(got));
    /* A request honoured is silent; one that falls back says so, naming the
     * request, what is missing, and the body used. */
    if (!strcmp(req[k], c->forced[k])) {
      CHECK(msg[0] == 0, "%s: QO_ISA=%s honoured but printed '%s'", c->name, req[k], msg);
    } else {
      char want[128];
      snprintf(want, sizeof want, "QO_ISA=%s: this CPU lacks ", req[k]);
      CHECK(!strncmp(msg, want, strlen(want)), "%s: QO_ISA=%s message '%s'", c->name, req[k], msg);
      snprintf(want, sizeof want, "; using %s", c->forced[k]);
      CHECK(strstr(msg, want) != NULL, "%s: QO_ISA=%s message '%s' lacks '%s'", c->name, req[k], msg, want);
    }
  }
  printf("%-28s auto %-12s QO_ISA=avx512-vnni -> %-12s avx-vnni -> %s\n", c->name, c->best, c->forced[0],
         c->forced[1]);
}

static void testTable(void) {
  Cpu cpus[16];
  int n = 0;

  qrt_cpuid_regs_t zen3 = v3();
  zen3.l7_ebx |= B(29); /* sha */
  zen3.e1_ecx |= B(6);  /* sse4a */
  cpus[n++] = (Cpu){"AMD Zen 3", zen3, "avx2 fma sha sse4a", "avx512f avx512vnni avxvnni",
                    "avx2", {"avx2", "avx2", "avx2", "portable"}};

  qrt_cpuid_regs_t zen4 = zen3;
  avx512(&zen4);
  icelake(&zen4);
  zen4.l7_1_eax |= B(5); /* avx512bf16 */
  cpus[n++] = (Cpu){"AMD Zen 4", zen4, "avx512f avx512bw avx512vnni avx512bf16",
                    "avxvnni amx-tile amx-int8 avx512fp16", "avx512-vnni",
                    {"avx512-vnni", "avx2", "avx2", "portable"}};

  qrt_cpuid_regs_t zen5 = zen4;
  zen5.l7_1_eax |= B(4); /* avxvnni */
  cpus[n++] = (Cpu){"AMD Zen 5", zen5, "avx512vnni avxvnni", "amx-tile", "avx512-vnni",
                    {"avx512-vnni", "avx-vnni", "avx2", "portable"}};

  qrt_cpuid_regs_t skx = v3();
  avx512(&skx);
  cpus[n++] = (Cpu){"Intel Skylake-X", skx, "avx512f avx512bw avx512dq avx512vl avx512cd",
                    "avx512vnni avxvnni", "avx2", {"avx2", "avx2", "avx2", "portable"}};

  qrt_cpuid_regs_t icl = skx;
  icelake(&icl);
  cpus[n++] = (Cpu){"Intel Ice Lake", icl, "avx512vnni avx512vbmi gfni", "avxvnni", "avx512-vnni",
                    {"avx512-vnni", "avx2", "avx2", "portable"}};

  qrt_cpuid_regs_t adl = v3();
  adl.l7_ecx |= B(8) | B(9) | B(10); /* gfni vaes vpclmulqdq */
  adl.l7_1_eax |= B(4);              /* avxvnni */
  cpus[n++] = (Cpu){"Intel Alder Lake", adl, "avxvnni avx2 vaes", "avx512f avx512vnni", "avx-vnni",
                    {"avx-vnni", "avx-vnni", "avx2", "portable"}};

  qrt_cpuid_regs_t spr = icl;
  spr.l7_1_eax |= B(4) | B(5);                  /* avxvnni, avx512bf16 */
  spr.l7_edx |= B(22) | B(23) | B(24) | B(25);  /* amx-bf16, avx512fp16, amx-tile, amx-int8 */
  spr.xcr0 |= 0x60000;                          /* XTILECFG, XTILEDATA */
  spr.amx_permitted = 1;
  cpus[n++] = (Cpu){"Intel Sapphire Rapids", spr, "avx512vnni avxvnni amx-tile amx-int8 amx-bf16 avx512fp16",
                    "", "avx512-vnni", {"avx512-vnni", "avx-vnni", "avx2", "portable"}};

  qrt_cpuid_regs_t sprNoPerm = spr;
  sprNoPerm.amx_permitted = 0;
  cpus[n++] = (Cpu){"Sapphire Rapids, no AMX perm", sprNoPerm, "avx512vnni avxvnni",
                    "amx-tile amx-int8 amx-bf16", "avx512-vnni",
                    {"avx512-vnni", "avx-vnni", "avx2", "portable"}};

  qrt_cpuid_regs_t zen4NoZmm = zen4;
  zen4NoZmm.xcr0 = 0x7; /* the OS saves no AVX-512 state */
  cpus[n++] = (Cpu){"Zen 4, OS without zmm state", zen4NoZmm, "avx2 fma",
                    "avx512f avx512bw avx512vnni avx512bf16", "avx2", {"avx2", "avx2", "avx2", "portable"}};

  qrt_cpuid_regs_t noOsxsave = spr;
  noOsxsave.l1_ecx &= ~B(27); /* XCR0 unreadable: no AVX of any kind */
  cpus[n++] = (Cpu){"no OSXSAVE", noOsxsave, "sse4.2 popcnt bmi2", "avx avx2 fma avx512f avxvnni amx-tile",
                    "portable", {"portable", "portable", "portable", "portable"}};

  qrt_cpuid_regs_t oldLeaf = zen5;
  oldLeaf.max_leaf = 6; /* leaf 7 absent: its words are not to be trusted */
  cpus[n++] = (Cpu){"max leaf 6", oldLeaf, "avx fma sse4.2", "avx2 avx512f avxvnni bmi2", "portable",
                    {"portable", "portable", "portable", "portable"}};

  for (int i = 0; i < n; ++i) checkCpu(&cpus[i]);

  /* A request that names no ISA is ignored, with a message. */
  char msg[256];
  qrt_isa_t isa = qrt_isa_select(qrt_cpu_decode(&zen4), "avx512", msg, sizeof msg);
  CHECK(isa == QRT_ISA_AVX512_VNNI, "unknown QO_ISA should mean auto");
  CHECK(!strcmp(msg, "QO_ISA=avx512 names no ISA (portable, avx2, avx-vnni, avx512-vnni); ignored"),
        "message for an unknown QO_ISA: '%s'", msg);
  /* The message names exactly what is missing. */
  qrt_isa_select(qrt_cpu_decode(&adl), "avx512-vnni", msg, sizeof msg);
  CHECK(!strcmp(msg, "QO_ISA=avx512-vnni: this CPU lacks avx512f avx512dq avx512bw avx512vl avx512vnni; "
                     "using avx-vnni"),
        "Alder Lake message '%s'", msg);
}

static void testRequirements(void) {
  uint64_t p = qrt_isa_requirements(QRT_ISA_PORTABLE), a2 = qrt_isa_requirements(QRT_ISA_AVX2),
           av = qrt_isa_requirements(QRT_ISA_AVX_VNNI), a5 = qrt_isa_requirements(QRT_ISA_AVX512_VNNI);
  CHECK(p == 0, "the portable body needs nothing");
  CHECK((a2 & av) == a2 && (a2 & a5) == a2, "both VNNI bodies need what the AVX2 body needs");
  CHECK(!(a5 & QRT_CPU_HAS(AVXVNNI)), "the AVX-512 VNNI body must not need AVX-VNNI");
  CHECK(!(av & QRT_CPU_HAS(AVX512F)), "the AVX-VNNI body must not need AVX-512");
  CHECK((a5 & QRT_CPU_HAS(AVX512VNNI)) && (av & QRT_CPU_HAS(AVXVNNI)), "each VNNI body needs its VNNI");
}

static void testParse(void) {
  uint64_t f = qrt_cpu_parse_llvm_features("+avx2,-avx512f,+fma,+unknown-thing,+avxvnni,+64bit");
  CHECK(f == (QRT_CPU_HAS(AVX2) | QRT_CPU_HAS(FMA) | QRT_CPU_HAS(AVXVNNI) | QRT_CPU_HAS(X86_64)),
        "parse_llvm_features gave %llx", (unsigned long long)f);
  CHECK(qrt_cpu_parse_llvm_features("") == 0 && qrt_cpu_parse_llvm_features(NULL) == 0, "empty feature strings");
  CHECK(qrt_cpu_feature_bit("amx-int8", 8) == QRT_CPU_BIT_AMXINT8, "feature_bit(amx-int8)");
  CHECK(qrt_cpu_feature_bit("nosuch", 6) == -1, "feature_bit(nosuch)");
  char buf[64];
  qrt_cpu_format(QRT_CPU_HAS(AVX2) | QRT_CPU_HAS(FMA), buf, sizeof buf);
  CHECK(!strcmp(buf, "fma avx2"), "format gave '%s'", buf);
  qrt_cpu_format(~(uint64_t)0 >> 1, buf, 16); /* truncates cleanly */
  CHECK(strlen(buf) < 16, "format must respect the buffer size");
}

/* This host: the decoded set equals what the process-wide detection reports
 * (QO_CPU_DISABLE unset), and every selected body is supported. */
static void testHost(void) {
  qrt_cpuid_regs_t r;
  qrt_cpu_read(&r);
  uint64_t f = qrt_cpu_decode(&r);
  CHECK(getenv("QO_CPU_DISABLE") || f == qrt_cpu_features(), "host detection differs from decoding");
  CHECK(f & QRT_CPU_HAS(SSE2), "an x86-64 host has SSE2");
  char buf[1024];
  qrt_cpu_format(f, buf, sizeof buf);
  printf("this host: %s\n", buf);
  qrt_isa_t best = qrt_isa_select(f, NULL, NULL, 0);
  printf("this host runs the %s kernels\n", qrt_isa_name(best));
}

int main(void) {
  testTable();
  testRequirements();
  testParse();
  testHost();
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures != 0;
}
