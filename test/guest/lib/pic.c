/* 8259 pair: remap away from the exception vectors and mask every line. */
#include "guest.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

void pic_remap_and_mask(void) {
  outb(PIC1_CMD, 0x11); /* ICW1: edge, cascade, ICW4 follows */
  outb(PIC2_CMD, 0x11);
  outb(PIC1_DATA, 0x20); /* ICW2: vector bases */
  outb(PIC2_DATA, 0x28);
  outb(PIC1_DATA, 0x04); /* ICW3: slave on IRQ2 */
  outb(PIC2_DATA, 0x02);
  outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode */
  outb(PIC2_DATA, 0x01);
  outb(PIC1_DATA, 0xff); /* OCW1: mask all */
  outb(PIC2_DATA, 0xff);
}
