/*
 * Native oracle for the ISA differential tests.
 *
 * Reads a batch of snippet cases from stdin, runs each one on the host CPU in user mode with
 * the code window at 0x40000000 and the data window at 0x50000000 (the same addresses the
 * emulator's snippet runner uses), and writes one result per case to stdout.
 *
 * A case ends with int3: the SIGTRAP handler (running on an alternate stack, because the
 * snippet's RSP is arbitrary) copies the registers out of the ucontext and jumps back to the
 * case loop. Faults arrive the same way through SIGFPE/SIGILL/SIGSEGV/SIGBUS; the trap number
 * in the ucontext tells #GP from #PF and #DE from #XM.
 *
 * Wire format (all little-endian), input:
 *   "ISA1" then cases until EOF. A case:
 *     u16 code_len, u8 flags (bit0 xmm present, bit1 mxcsr present), u8 segment count
 *     u64 gpr[16], u64 rflags
 *     [16 x 16 bytes xmm]    if flags bit0
 *     [u32 mxcsr]            if flags bit1
 *     code bytes
 *     segments: u32 offset, u32 length, bytes (initial data window; the rest is zero)
 * Output: "ISR1" then per case:
 *     u8 signal (0 = ran to the final int3; else the signal number; 0xFF = timeout)
 *     u8 trapno, u16 diff count, u32 error code
 *     u64 fault address (si_addr), u64 rip, u64 gpr[16], u64 rflags, 16 x 16 bytes xmm, u32 mxcsr
 *     diffs: u32 offset, u32 length, bytes (ranges of the data window that changed)
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#define CODE_BASE 0x40000000UL
#define DATA_BASE 0x50000000UL
#define WINDOW_SIZE 0x10000UL

#define SIG_TIMEOUT 0xFF

/* Register image loaded by enter_snippet: the layout is fixed by the assembly below. */
struct reg_image {
    uint64_t gpr[16];  /* offset 0 */
    uint64_t rflags;   /* offset 128 */
    uint8_t xmm[16][16]; /* offset 136 */
    uint32_t mxcsr;    /* offset 392 */
    uint32_t pad;
};

struct case_result {
    uint8_t sig;
    uint8_t trapno;
    uint32_t err;
    uint64_t addr;
    uint64_t rip;
    uint64_t gpr[16];
    uint64_t rflags;
    uint8_t xmm[16][16];
    uint32_t mxcsr;
};

static struct reg_image g_regs;
static struct case_result g_result;
static sigjmp_buf g_resume;
static volatile sig_atomic_t g_in_snippet;
static volatile uint64_t g_case_seq;
static uint64_t g_seq_at_last_tick = ~0ULL;
/* jump target read by the trampoline through a RIP-relative indirect jmp */
uint64_t g_snippet_entry = CODE_BASE;

void enter_snippet(struct reg_image *r) __attribute__((noreturn));
__asm__(
    ".text\n"
    ".globl enter_snippet\n"
    ".type enter_snippet,@function\n"
    "enter_snippet:\n"
    "  movdqu 136(%rdi), %xmm0\n  movdqu 152(%rdi), %xmm1\n"
    "  movdqu 168(%rdi), %xmm2\n  movdqu 184(%rdi), %xmm3\n"
    "  movdqu 200(%rdi), %xmm4\n  movdqu 216(%rdi), %xmm5\n"
    "  movdqu 232(%rdi), %xmm6\n  movdqu 248(%rdi), %xmm7\n"
    "  movdqu 264(%rdi), %xmm8\n  movdqu 280(%rdi), %xmm9\n"
    "  movdqu 296(%rdi), %xmm10\n  movdqu 312(%rdi), %xmm11\n"
    "  movdqu 328(%rdi), %xmm12\n  movdqu 344(%rdi), %xmm13\n"
    "  movdqu 360(%rdi), %xmm14\n  movdqu 376(%rdi), %xmm15\n"
    "  ldmxcsr 392(%rdi)\n"
    /* nothing after popfq may change flags: only moves and the jump follow */
    "  pushq 128(%rdi)\n  popfq\n"
    "  movq 0(%rdi), %rax\n  movq 8(%rdi), %rcx\n  movq 16(%rdi), %rdx\n"
    "  movq 24(%rdi), %rbx\n  movq 32(%rdi), %rsp\n  movq 40(%rdi), %rbp\n"
    "  movq 48(%rdi), %rsi\n  movq 64(%rdi), %r8\n  movq 72(%rdi), %r9\n"
    "  movq 80(%rdi), %r10\n  movq 88(%rdi), %r11\n  movq 96(%rdi), %r12\n"
    "  movq 104(%rdi), %r13\n  movq 112(%rdi), %r14\n  movq 120(%rdi), %r15\n"
    "  movq 56(%rdi), %rdi\n"
    "  jmpq *g_snippet_entry(%rip)\n"
    ".size enter_snippet, .-enter_snippet\n");

/* ucontext greg index of each architectural GPR, in RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 order */
static const int k_greg_index[16] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void capture(int sig, siginfo_t *info, ucontext_t *uc) {
    greg_t *g = uc->uc_mcontext.gregs;
    g_result.sig = (uint8_t)sig;
    g_result.trapno = (uint8_t)g[REG_TRAPNO];
    g_result.err = (uint32_t)g[REG_ERR];
    g_result.addr = (uint64_t)(uintptr_t)info->si_addr;
    g_result.rip = (uint64_t)g[REG_RIP];
    for (int i = 0; i < 16; i++) g_result.gpr[i] = (uint64_t)g[k_greg_index[i]];
    g_result.rflags = (uint64_t)g[REG_EFL];
    if (uc->uc_mcontext.fpregs) {
        memcpy(g_result.xmm, uc->uc_mcontext.fpregs->_xmm, sizeof g_result.xmm);
        g_result.mxcsr = uc->uc_mcontext.fpregs->mxcsr;
    }
}

static void on_signal(int sig, siginfo_t *info, void *ctx) {
    if (!g_in_snippet) {
        /* a fault in the harness itself: never swallow it */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    g_in_snippet = 0;
    capture(sig == SIGTRAP && ((ucontext_t *)ctx)->uc_mcontext.gregs[REG_TRAPNO] == 3 ? 0 : sig,
            info, (ucontext_t *)ctx);
    siglongjmp(g_resume, 1);
}

/* Watchdog: a case still running across two ticks is abandoned and reported as a timeout. */
static void on_tick(int sig, siginfo_t *info, void *ctx) {
    (void)sig;
    if (!g_in_snippet) return;
    if (g_seq_at_last_tick != g_case_seq) {
        g_seq_at_last_tick = g_case_seq;
        return;
    }
    g_in_snippet = 0;
    capture(0, info, (ucontext_t *)ctx);
    g_result.sig = SIG_TIMEOUT;
    siglongjmp(g_resume, 1);
}

static void die(const char *msg) {
    fprintf(stderr, "isa-harness: %s\n", msg);
    exit(2);
}

static void install_handlers(void) {
    static uint8_t alt_stack[256 * 1024];
    stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) die("sigaltstack failed");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    /* SA_NODEFER: we leave handlers by siglongjmp, so the signal must not stay blocked */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sa.sa_sigaction = on_signal;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGTRAP, SIGFPE, SIGILL, SIGSEGV, SIGBUS};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL) != 0) die("sigaction failed");
    sa.sa_sigaction = on_tick;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER;
    if (sigaction(SIGALRM, &sa, NULL) != 0) die("sigaction(SIGALRM) failed");
    struct itimerval tv = {.it_interval = {0, 250000}, .it_value = {0, 250000}};
    if (setitimer(ITIMER_REAL, &tv, NULL) != 0) die("setitimer failed");
}

static uint8_t *map_window(unsigned long addr, int prot) {
    void *p = mmap((void *)addr, WINDOW_SIZE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || (unsigned long)p != addr) die("cannot map a snippet window at its fixed address");
    return (uint8_t *)p;
}

/* Input cursor over the whole of stdin. */
static uint8_t *g_in;
static size_t g_in_len, g_in_pos;

static void read_all_stdin(void) {
    size_t cap = 1 << 20;
    g_in = malloc(cap);
    if (!g_in) die("out of memory");
    for (;;) {
        if (g_in_len == cap) {
            cap *= 2;
            g_in = realloc(g_in, cap);
            if (!g_in) die("out of memory");
        }
        size_t n = fread(g_in + g_in_len, 1, cap - g_in_len, stdin);
        if (n == 0) break;
        g_in_len += n;
    }
}

static const uint8_t *take(size_t n) {
    if (g_in_len - g_in_pos < n) die("truncated case in input");
    const uint8_t *p = g_in + g_in_pos;
    g_in_pos += n;
    return p;
}

static uint32_t rd_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static void put(const void *p, size_t n) {
    if (fwrite(p, 1, n, stdout) != n) die("write to stdout failed");
}

/* Writes the ranges where the window differs from the initial image, merged when close. */
static uint16_t emit_diffs(const uint8_t *now, const uint8_t *before, int dry_run) {
    uint16_t count = 0;
    size_t i = 0;
    while (i < WINDOW_SIZE) {
        uint64_t a, b;
        memcpy(&a, now + i, 8);
        memcpy(&b, before + i, 8);
        if (a == b) { i += 8; continue; }
        size_t start = i, end = i + 8;
        /* extend while differing words continue (allowing gaps of up to 16 equal bytes) */
        size_t j = end;
        while (j < WINDOW_SIZE) {
            size_t gap_end = j + 16 < WINDOW_SIZE ? j + 16 : WINDOW_SIZE;
            size_t k = j, found = 0;
            for (; k < gap_end; k += 8) {
                memcpy(&a, now + k, 8);
                memcpy(&b, before + k, 8);
                if (a != b) { found = k + 8; break; }
            }
            if (!found) break;
            end = found;
            j = found;
        }
        if (!dry_run) {
            uint32_t hdr[2] = {(uint32_t)start, (uint32_t)(end - start)};
            put(hdr, sizeof hdr);
            put(now + start, end - start);
        }
        count++;
        if (count == 0xFFFF) break;
        i = end;
    }
    return count;
}

int main(void) {
    uint8_t *code = map_window(CODE_BASE, PROT_READ | PROT_WRITE | PROT_EXEC);
    uint8_t *data = map_window(DATA_BASE, PROT_READ | PROT_WRITE);
    uint8_t *initial = calloc(1, WINDOW_SIZE);
    if (!initial) die("out of memory");
    static char out_buf[1 << 20];
    setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);

    read_all_stdin();
    if (g_in_len < 4 || memcmp(take(4), "ISA1", 4) != 0) die("input does not start with ISA1");
    put("ISR1", 4);
    install_handlers();

    static size_t last_code_len = 0; /* static: survives siglongjmp */
    while (g_in_pos < g_in_len) {
        const uint8_t *hdr = take(4);
        uint16_t code_len = (uint16_t)(hdr[0] | hdr[1] << 8);
        uint8_t flags = hdr[2], nseg = hdr[3];
        if (code_len == 0) die("empty code");
        memset(&g_regs, 0, sizeof g_regs);
        memcpy(g_regs.gpr, take(128), 128);
        memcpy(&g_regs.rflags, take(8), 8);
        if (flags & 1) memcpy(g_regs.xmm, take(256), 256);
        g_regs.mxcsr = (flags & 2) ? rd_u32(take(4)) : 0x1F80;

        memset(code, 0, last_code_len);
        memcpy(code, take(code_len), code_len);
        last_code_len = code_len;
        __builtin___clear_cache((char *)code, (char *)code + code_len);

        memset(data, 0, WINDOW_SIZE);
        memset(initial, 0, WINDOW_SIZE);
        for (unsigned s = 0; s < nseg; s++) {
            const uint8_t *sh = take(8);
            uint32_t off = rd_u32(sh), len = rd_u32(sh + 4);
            if (off > WINDOW_SIZE || len > WINDOW_SIZE - off) die("data segment outside the window");
            const uint8_t *bytes = take(len);
            memcpy(data + off, bytes, len);
            memcpy(initial + off, bytes, len);
        }

        memset(&g_result, 0, sizeof g_result);
        g_case_seq++;
        if (sigsetjmp(g_resume, 0) == 0) {
            g_in_snippet = 1;
            enter_snippet(&g_regs);
        }
        /* back from a handler: restore the host's SSE control state */
        __asm__ volatile("ldmxcsr %0" : : "m"((uint32_t){0x1F80}));

        uint16_t ndiff = emit_diffs(data, initial, 1);
        uint8_t rh[4] = {g_result.sig, g_result.trapno, (uint8_t)ndiff, (uint8_t)(ndiff >> 8)};
        put(rh, 4);
        put(&g_result.err, 4);
        put(&g_result.addr, 8);
        put(&g_result.rip, 8);
        put(g_result.gpr, 128);
        put(&g_result.rflags, 8);
        put(g_result.xmm, 256);
        put(&g_result.mxcsr, 4);
        emit_diffs(data, initial, 0);
    }
    if (fflush(stdout) != 0) die("flush failed");
    return 0;
}
