// This machine has no BIOS: the real-mode interrupt vector table is all zeros and the BIOS
// area holds no code. A guest that calls a BIOS service (INT 10h, INT 15h...) or jumps into
// BIOS code would otherwise execute the zeroed IVT and low memory as `add [bx+si], al` for ever,
// silently. Both are caught and end the core like a triple fault, with the cause:
//   * a real-mode interrupt or exception through an IVT entry of 0000:0000 (no handler can live
//     there: that is the IVT itself);
//   * real-mode execution reaching ZERO_RUN_BYTES consecutive zero bytes (no real-mode program
//     runs 16 `add [bx+si], al` in a row).
// Real-mode code that installs its own vectors and runs its own code is unaffected. With -bios
// (Cpu.firmware) neither stop applies: real mode then behaves as on the hardware.

import type { Cpu } from './cpu.js';
import { RUN_DEAD } from './cpu.js';
import { CS } from './regs.js';

export const ZERO_RUN_BYTES = 32;

function where(cpu: Cpu): string {
  const ip = (cpu.rip - cpu.segBase[CS]) & 0xffff;
  return `${cpu.segSel[CS].toString(16).padStart(4, '0')}:${ip.toString(16).padStart(4, '0')}`;
}

/** End the core: the guest needs firmware this machine does not have. */
export function noFirmware(cpu: Cpu, why: string, at = 'at'): void {
  cpu.deadReason = `no BIOS: ${why} ${at} ${where(cpu)} (rip 0x${cpu.rip.toString(16)})`;
  cpu.exitReason = RUN_DEAD;
}

/** Whether `fetch` sees ZERO_RUN_BYTES zero bytes from `lin` (a block about to be compiled). */
export function startsZeroRun(lin: number, fetch: (lin: number) => number): boolean {
  for (let k = 0; k < ZERO_RUN_BYTES; k++) if (fetch(lin + k) !== 0) return false;
  return true;
}
