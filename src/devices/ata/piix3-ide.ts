// The PIIX3 IDE function (8086:7010) as QEMU's `pc` machine has it at 00:01.1, in legacy
// ("compatibility") mode: programming interface 0x80, so firmware and kernels drive the
// channels at their fixed ISA ports and IRQs 14/15 (ata-channel.ts), not through BARs. The
// bus-master DMA BAR (BAR4) is not offered: transfers are PIO only, and SeaBIOS then uses PIO.

import { PciConfigSpace, QEMU_SUBSYSTEM } from '../pci-config-space.js';

export const PIIX3_IDE_SLOT = 1;
export const PIIX3_IDE_FUNCTION = 1;

export function piix3IdeFunction(): PciConfigSpace {
  const f = new PciConfigSpace('piix3-ide', {
    vendorId: 0x8086, deviceId: 0x7010, classCode: 0x01, subclass: 0x01, progIf: 0x80, ...QEMU_SUBSYSTEM,
  });
  f.put16(0x06, 0x0280); // status: fast back-to-back capable, medium DEVSEL (the 82371SB's reset value)
  return f;
}
