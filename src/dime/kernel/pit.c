/* The 8254 PIT as a reference clock: always present on a PC, needs no ACPI table. Used to
 * calibrate the TSC when there is no HPET (time.c) and by the boot firmware. */
#include "pit.h"

void pit_wait_us(uint64_t us) {
  uint64_t need = us * 1193182ULL / 1000000ULL, got = 0;
  outb(0x43, 0x34);          /* channel 0, lo/hi, mode 2 */
  outb(0x40, 0); outb(0x40, 0);
  outb(0x43, 0x00);
  uint16_t prev = (uint16_t)(inb(0x40) | inb(0x40) << 8);
  while (got < need) {
    outb(0x43, 0x00);
    uint16_t cur = (uint16_t)(inb(0x40) | inb(0x40) << 8);
    got += (uint16_t)(prev - cur);
    prev = cur;
  }
}
