/* PIT channel 0 as a free-running counter for delays (1.193182 MHz; its IRQ stays masked). */
#include "guest.h"

#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_HZ 1193182ul

void pit_init(void) {
  outb(PIT_CMD, 0x34); /* channel 0, lobyte/hibyte, mode 2, binary */
  outb(PIT_CH0, 0);    /* reload 0 = 65536 */
  outb(PIT_CH0, 0);
}

static u16 pit_count(void) {
  outb(PIT_CMD, 0x00); /* latch channel 0 */
  u8 lo = inb(PIT_CH0);
  u8 hi = inb(PIT_CH0);
  return (u16)(lo | (hi << 8));
}

void udelay(u32 us) {
  u64 need = (u64)us * PIT_HZ / 1000000ul + 1, elapsed = 0;
  u16 prev = pit_count();
  while (elapsed < need) {
    u16 now = pit_count();
    elapsed += (u16)(prev - now); /* counts down, wrapping at 65536 */
    prev = now;
  }
}
