/* COM1 (16550 at 0x3f8), 115200 8N1, transmitter polled through LSR bit 5. */
#include "guest.h"

#define COM1 0x3f8
#define LSR_THR_EMPTY 0x20

void serial_init(void) {
  outb(COM1 + 1, 0x00); /* no interrupts */
  outb(COM1 + 3, 0x80); /* DLAB on */
  outb(COM1 + 0, 0x01); /* divisor 1 = 115200 baud */
  outb(COM1 + 1, 0x00);
  outb(COM1 + 3, 0x03); /* 8N1, DLAB off */
  outb(COM1 + 2, 0xc7); /* FIFOs on and cleared */
  outb(COM1 + 4, 0x03); /* DTR, RTS */
}

void serial_putc(char c) {
  /* bounded wait: a transmitter that never drains must not hang the test */
  for (u32 spins = 0; spins < 1000000; spins++)
    if (inb(COM1 + 5) & LSR_THR_EMPTY) break;
  outb(COM1, (u8)c);
}
