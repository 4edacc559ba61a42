/* paging: 4 KiB / 2 MiB / 1 GiB translations, protection faults with exact error codes and
 * CR2, accessed/dirty bits written by the page walker, and TLB invalidation. All test
 * addresses live above 4 GiB so the identity map the kernel runs on is never disturbed. */
#include "guest.h"

#define VA_4K 0x1000000000ul  /* 64 GiB */
#define VA_2M 0x1000200000ul
#define VA_RO 0x1000400000ul
#define VA_NX 0x1000401000ul
#define VA_NP 0x1000402000ul
#define VA_SUP 0x1000403000ul
#define VA_USER 0x1000404000ul
#define VA_AD 0x1000405000ul
#define VA_TLB 0x1000406000ul
#define VA_RSVD 0x1000407000ul
#define VA_1G 0x4000000000ul  /* 256 GiB */
#define PTE_BIT51 (1ul << 51)

static int failures;
static volatile u64 marker = 0x1234567890abcdeful;

static void check(const char *what, int ok) {
  if (!check_line(40, what, ok)) failures++;
}

static void expect_pf(const char *what, u64 error, u64 cr2) {
  struct catch_ctx *c = this_catch();
  int ok = c->vector == 14 && c->error == error && c->cr2 == cr2;
  printf("%-40s #PF error=%lx cr2=%lx %s\n", what, c->error, c->cr2, ok ? "ok" : "FAIL");
  if (!ok || c->vector != 14) failures++;
}

static void no_fault(const char *what) {
  printf("%-40s no fault (FAIL)\n", what);
  failures++;
}

static u64 read_at(u64 va) { return *(volatile u64 *)va; }
static void write_at(u64 va, u64 v) { *(volatile u64 *)va = v; }
static u64 user_read(u64 va) { return *(volatile u64 *)va; }
static u64 user_write(u64 va) {
  *(volatile u64 *)va = 7;
  return 0;
}

int kmain(void) {
  printf("paging: start (CR0.WP=%lu, EFER.NXE=%lu)\n", (read_cr0() >> 16) & 1,
         (rdmsr(MSR_EFER) >> 11) & 1);

  /* 4 KiB alias of a data page */
  u8 *page = page_alloc();
  map_page(VA_4K, (u64)page, PTE_P | PTE_W);
  write_at(VA_4K + 8, 0xfeedface12345678ul);
  check("4K page: write via alias, read direct", *(volatile u64 *)(page + 8) == 0xfeedface12345678ul);
  *(volatile u64 *)(page + 16) = 0x1111;
  check("4K page: write direct, read via alias", read_at(VA_4K + 16) == 0x1111);

  /* 2 MiB page over physical 0..2 MiB (the kernel image lives there) */
  *pt_entry(VA_2M, 2) = 0 | PTE_P | PTE_W | PTE_PS;
  invlpg(VA_2M);
  check("2M page: reads a kernel variable", read_at(VA_2M + (u64)&marker) == marker);
  write_at(VA_2M + (u64)&marker, 0x55aa55aa55aa55aaul);
  check("2M page: writes a kernel variable", marker == 0x55aa55aa55aa55aaul);

  /* 1 GiB page over physical 0..1 GiB */
  if (cpu_has(FEAT_1G_PAGES)) {
    *pt_entry(VA_1G, 3) = 0 | PTE_P | PTE_W | PTE_PS;
    invlpg(VA_1G);
    check("1G page: reads a kernel variable", read_at(VA_1G + (u64)&marker) == marker);
    write_at(VA_1G + (u64)&marker + 0x0, 0x0123012301230123ul);
    check("1G page: writes a kernel variable", marker == 0x0123012301230123ul);
    write_at(0x4000008, 0x64646464ul);
    check("1G page: reaches 64 MiB", read_at(VA_1G + 0x4000008) == 0x64646464ul);
  } else {
    printf("%-40s not advertised (CPUID 80000001h EDX.26)\n", "1G page:");
  }

  /* read-only page: reads work, a supervisor write faults (CR0.WP=1) */
  u8 *ro = page_alloc();
  *(u64 *)(ro + 0x10) = 77;
  map_page(VA_RO, (u64)ro, PTE_P);
  check("read-only page: read", read_at(VA_RO + 0x10) == 77);
  if (TRY()) { write_at(VA_RO + 0x10, 1); catch_end(); no_fault("read-only page: write"); }
  else expect_pf("read-only page: write", 0x3, VA_RO + 0x10);

  /* no-execute page: fetch faults with I/D set; the same page executes once NX is cleared */
  u8 *code = page_alloc();
  code[0x20] = 0xb8; /* mov eax, 0x2a */
  code[0x21] = 0x2a;
  code[0x22] = code[0x23] = code[0x24] = 0;
  code[0x25] = 0xc3; /* ret */
  map_page(VA_NX, (u64)code, PTE_P | PTE_NX);
  u32 (*fn)(void) = (u32(*)(void))(VA_NX + 0x20);
  if (TRY()) { fn(); catch_end(); no_fault("NX page: instruction fetch"); }
  else expect_pf("NX page: instruction fetch", 0x11, VA_NX + 0x20);
  map_page(VA_NX, (u64)code, PTE_P);
  check("same page without NX: executes", fn() == 42);

  /* not present */
  map_page(VA_NP, 0, 0);
  if (TRY()) { (void)read_at(VA_NP + 0x123); catch_end(); no_fault("not-present page: read"); }
  else expect_pf("not-present page: read", 0x0, VA_NP + 0x123);
  if (TRY()) { write_at(VA_NP + 0x456, 1); catch_end(); no_fault("not-present page: write"); }
  else expect_pf("not-present page: write", 0x2, VA_NP + 0x456);
  if (TRY()) { (void)read_at(0x200000008ul); catch_end(); no_fault("not-present PDPT entry: read"); }
  else expect_pf("not-present PDPT entry: read", 0x0, 0x200000008ul);

  /* ring 3 against a supervisor page, and against a user page */
  u8 *sup = page_alloc();
  *(u64 *)sup = 99;
  map_page(VA_SUP, (u64)sup, PTE_P | PTE_W);
  u64 ret = 0;
  if (run_user(user_read, VA_SUP + 0x40, &ret) == 0) no_fault("ring 3 reads supervisor page");
  else expect_pf("ring 3 reads supervisor page", 0x5, VA_SUP + 0x40);
  if (run_user(user_write, VA_SUP + 0x48, &ret) == 0) no_fault("ring 3 writes supervisor page");
  else expect_pf("ring 3 writes supervisor page", 0x7, VA_SUP + 0x48);
  map_page(VA_USER, (u64)sup, PTE_P | PTE_U);
  check("ring 3 reads user page", run_user(user_read, VA_USER, &ret) == 0 && ret == 99);
  if (run_user(user_write, VA_USER + 8, &ret) == 0) no_fault("ring 3 writes read-only user page");
  else expect_pf("ring 3 writes read-only user page", 0x7, VA_USER + 8);

  /* reserved bit in a PTE: QEMU and the SDM differ on the P bit of the error; both set RSVD */
  map_page(VA_RSVD, (u64)sup, PTE_P | PTE_W | PTE_BIT51);
  if (TRY()) { (void)read_at(VA_RSVD); catch_end(); no_fault("reserved bit 51 set in PTE"); }
  else {
    struct catch_ctx *c = this_catch();
    int ok = c->vector == 14 && (c->error & 0x8) && c->cr2 == VA_RSVD;
    printf("%-40s #PF RSVD=%lu cr2=%lx %s\n", "reserved bit 51 set in PTE", (c->error >> 3) & 1, c->cr2, ok ? "ok" : "FAIL");
    if (!ok) failures++;
  }

  /* accessed and dirty bits, set by the walker */
  u8 *ad = page_alloc();
  map_page(VA_AD, (u64)ad, PTE_P | PTE_W);
  volatile u64 *pte = pt_entry(VA_AD, 1), *pde = pt_entry(VA_AD, 2);
  *pde &= ~PTE_A;
  write_cr3(read_cr3());
  printf("%-40s A=%lu D=%lu\n", "fresh PTE", (*pte >> 5) & 1, (*pte >> 6) & 1);
  (void)read_at(VA_AD);
  printf("%-40s A=%lu D=%lu (PDE A=%lu)\n", "after a read", (*pte >> 5) & 1, (*pte >> 6) & 1, (*pde >> 5) & 1);
  write_at(VA_AD, 5);
  printf("%-40s A=%lu D=%lu\n", "after a write", (*pte >> 5) & 1, (*pte >> 6) & 1);
  if ((*pte & (PTE_A | PTE_D)) != (PTE_A | PTE_D) || !(*pde & PTE_A)) failures++;

  /* a changed mapping becomes visible after INVLPG, and after a CR3 reload */
  u8 *pa_a = page_alloc(), *pa_b = page_alloc();
  *(u64 *)pa_a = 0xaaaa;
  *(u64 *)pa_b = 0xbbbb;
  map_page(VA_TLB, (u64)pa_a, PTE_P | PTE_W);
  check("TLB test page maps page A", read_at(VA_TLB) == 0xaaaa);
  volatile u64 *tlb_pte = pt_entry(VA_TLB, 1);
  *tlb_pte = (u64)pa_b | PTE_P | PTE_W;
  invlpg(VA_TLB);
  check("after PTE change + INVLPG: page B", read_at(VA_TLB) == 0xbbbb);
  *tlb_pte = (u64)pa_a | PTE_P | PTE_W;
  write_cr3(read_cr3());
  check("after PTE change + CR3 reload: page A", read_at(VA_TLB) == 0xaaaa);

  printf("paging: %d failure(s)\n", failures);
  return failures ? 1 : 0;
}
