/* sse2: SSE2 state enabled by the kernel (CR4.OSFXSR/OSXMMEXCPT), scalar double and single
 * arithmetic, sqrtsd, conversions under each MXCSR rounding mode, MXCSR flags, 128-bit moves,
 * and the faults around them. Results are printed as IEEE bit patterns and scaled integers. */
#include "guest.h"

static int failures;
static volatile double vd_zero = 0.0, vd_one = 1.0;

static u64 bits(double x) {
  u64 b;
  memcpy(&b, &x, 8);
  return b;
}

static u32 fbits(float x) {
  u32 b;
  memcpy(&b, &x, 4);
  return b;
}

/* x with `decimals` fractional digits, truncated toward zero, without %f */
static void print_fixed(const char *what, double x, int decimals) {
  double scale = 1;
  for (int i = 0; i < decimals; i++) scale *= 10;
  s64 v = (s64)(x * scale);
  u64 mag = v < 0 ? (u64)-v : (u64)v;
  u64 ip = mag / (u64)scale, fp = mag % (u64)scale;
  char frac[24];
  for (int i = decimals - 1; i >= 0; i--) {
    frac[i] = (char)('0' + fp % 10);
    fp /= 10;
  }
  frac[decimals] = 0;
  printf("%-34s %s%lu.%s (bits %016lx)\n", what, v < 0 ? "-" : "", ip, frac, bits(x));
}

static u32 get_mxcsr(void) {
  u32 m;
  __asm__ volatile("stmxcsr %0" : "=m"(m));
  return m;
}

static void set_mxcsr(u32 m) { __asm__ volatile("ldmxcsr %0" : : "m"(m)); }

static s64 cvtsd2si(double x) {
  s64 r;
  __asm__ volatile("cvtsd2si %1, %0" : "=r"(r) : "x"(x));
  return r;
}

/* in asm so the compiler cannot move the division across the MXCSR reads */
static double divsd(double a, double b) {
  __asm__ volatile("divsd %1, %0" : "+x"(a) : "x"(b));
  return a;
}

static void check(const char *what, int ok) {
  if (!check_line(34, what, ok)) failures++;
}

static void expect_fault(const char *what, u64 vector, u64 error) {
  struct catch_ctx *c = this_catch();
  int ok = c->vector == vector && c->error == error;
  printf("%-34s vector=%lu error=%lx %s\n", what, c->vector, c->error, ok ? "handled" : "FAIL");
  if (!ok) failures++;
}

typedef long long v2di __attribute__((vector_size(16)));
typedef int v4si __attribute__((vector_size(16)));
static u8 src[4096] __attribute__((aligned(16)));
static u8 dst[4096 + 16] __attribute__((aligned(16)));

int kmain(void) {
  printf("sse2: start, CPUID SSE2=%d\n", cpu_has(FEAT_SSE2));

  /* before the OS enables SSE state, SSE instructions are undefined */
  if (TRY()) { __asm__ volatile("xorps %%xmm0, %%xmm0" ::: "xmm0"); catch_end(); check("SSE with CR4.OSFXSR=0", 0); }
  else expect_fault("SSE with CR4.OSFXSR=0: #UD", 6, 0);

  write_cr0((read_cr0() | CR0_MP) & ~(u64)CR0_EM);
  write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);

  write_cr0(read_cr0() | CR0_TS);
  if (TRY()) { __asm__ volatile("xorps %%xmm0, %%xmm0" ::: "xmm0"); catch_end(); check("SSE with CR0.TS=1", 0); }
  else expect_fault("SSE with CR0.TS=1: #NM", 7, 0);
  __asm__ volatile("clts");

  printf("MXCSR at reset: %x\n", get_mxcsr());

  volatile double a = 1.5, b = 2.25, two = 2.0;
  print_fixed("1.5 * 2.25", a * b, 3);
  print_fixed("1.5 / 2.25", a / b, 9);
  print_fixed("1.5 - 2.25", a - b, 3);
  print_fixed("sqrt(2) (sqrtsd)", __builtin_sqrt(two), 9);

  double sum = 0;
  for (int i = 1; i <= 1000; i++) sum += 1.0 / ((double)i * (double)i);
  print_fixed("sum 1/i^2, i=1..1000", sum, 12);

  float f = 0;
  for (int i = 0; i < 10; i++) f += 0.1f;
  printf("%-34s bits %08x\n", "ten times 0.1f (single)", fbits(f));

  volatile int neg7 = -7;
  volatile double m275 = -2.75, p275 = 2.75;
  print_fixed("cvtsi2sd(-7)", (double)neg7, 1);
  printf("%-34s %ld %ld\n", "cvttsd2si(-2.75), (2.75)", (s64)m275, (s64)p275);

  /* MXCSR rounding control applied by cvtsd2si: 2.5 and -2.5 */
  const char *modes[4] = {"nearest", "down", "up", "toward zero"};
  for (u32 rc = 0; rc < 4; rc++) {
    set_mxcsr(0x1f80 | (rc << 13));
    printf("cvtsd2si rounding %-16s 2.5 -> %ld, -2.5 -> %ld\n", modes[rc], cvtsd2si(2.5), cvtsd2si(-2.5));
  }
  set_mxcsr(0x1f80);

  /* masked exceptions set sticky flags in MXCSR */
  double inf = divsd(vd_one, vd_zero);
  printf("1/0 = %s, MXCSR now %x\n", bits(inf) == 0x7ff0000000000000ul ? "+inf" : "WRONG", get_mxcsr());
  set_mxcsr(0x1f80);
  double nan = divsd(vd_zero, vd_zero);
  printf("0/0 bits %016lx (default NaN), NaN == NaN is %s, MXCSR now %x\n", bits(nan),
         nan == nan ? "true" : "false", get_mxcsr());
  set_mxcsr(0x1f80);

  /* 128-bit moves: aligned and misaligned copies, integer lanes */
  for (int i = 0; i < 4096; i++) src[i] = (u8)(i * 7 + 3);
  for (int i = 0; i < 4096; i += 16) {
    v2di v;
    __asm__ volatile("movdqa (%1), %0" : "=x"(v) : "r"(src + i));
    __asm__ volatile("movdqu %0, (%1)" : : "x"(v), "r"(dst + 1 + i) : "memory");
  }
  check("movdqa load / movdqu store, 4 KiB", memcmp(src, dst + 1, 4096) == 0);
  v4si acc = {0, 0, 0, 0};
  for (int i = 0; i < 4096; i += 16) {
    v4si v;
    __asm__ volatile("movdqu (%1), %0" : "=x"(v) : "r"(dst + 1 + i));
    __asm__ volatile("paddd %1, %0" : "+x"(acc) : "x"(v));
  }
  printf("%-34s %08x %08x %08x %08x\n", "paddd lane sums", (u32)acc[0], (u32)acc[1], (u32)acc[2], (u32)acc[3]);

  if (TRY()) {
    __asm__ volatile("movaps (%0), %%xmm1" : : "r"(dst + 1) : "xmm1");
    catch_end();
    check("movaps from a misaligned address", 0);
  } else {
    expect_fault("movaps misaligned: #GP", 13, 0);
  }

  printf("sse2: %d failure(s)\n", failures);
  return failures ? 1 : 0;
}
