/* COM1 console: polled output under a lock so lines from many cores never interleave,
 * interrupt- or poll-driven input into a small ring. */
#include "kernel.h"

#define COM1 0x3F8
static spinlock_t console_lock;
static volatile uint8_t rx_ring[256];
static volatile uint32_t rx_head, rx_tail;
static spinlock_t rx_lock;

void serial_init(void) {
  outb(COM1 + 1, 0x00);   /* no interrupts while programming */
  outb(COM1 + 3, 0x80);   /* DLAB */
  outb(COM1 + 0, 0x01);   /* 115200 baud */
  outb(COM1 + 1, 0x00);
  outb(COM1 + 3, 0x03);   /* 8N1 */
  outb(COM1 + 2, 0xC7);   /* FIFO on, cleared, 14-byte threshold */
  outb(COM1 + 4, 0x0B);   /* DTR, RTS, OUT2 (OUT2 gates the IRQ line) */
  outb(COM1 + 1, 0x01);   /* interrupt on received data */
}

void serial_putc(char c) {
  for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++) cpu_relax();
  outb(COM1, (uint8_t)c);
}

/* drain the UART into the ring; called from its interrupt and from the boot core's tick */
void serial_poll_rx(void) {
  uint64_t f = spin_lock_irqsave(&rx_lock);
  for (int n = 0; n < 64 && (inb(COM1 + 5) & 1); n++) {
    uint8_t c = inb(COM1);
    if (rx_head - rx_tail < sizeof(rx_ring)) rx_ring[rx_head++ % sizeof(rx_ring)] = c;
  }
  spin_unlock_irqrestore(&rx_lock, f);
}

int serial_getc(void) {
  int c = -1;
  uint64_t f = spin_lock_irqsave(&rx_lock);
  if (rx_tail != rx_head) c = rx_ring[rx_tail++ % sizeof(rx_ring)];
  spin_unlock_irqrestore(&rx_lock, f);
  return c;
}

void kputs_raw(const char *s, size_t n) {
  uint64_t f = spin_lock_irqsave(&console_lock);
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\n') serial_putc('\r');
    serial_putc(s[i]);
  }
  spin_unlock_irqrestore(&console_lock, f);
}

void kprintf(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof buf - 1) n = sizeof buf - 1;
  kputs_raw(buf, (size_t)n);
}

/* isa-debug-exit style port; on real hardware nothing listens and we just stop */
void debug_exit(uint32_t code) {
  outl(0xF4, code);
  irq_disable();
  for (;;) __asm__ volatile("hlt");
}

void panic(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  irq_disable();
  kprintf("PANIC: %s\n", buf);
  debug_exit(0x7F);
  for (;;) __asm__ volatile("cli; hlt");
}
