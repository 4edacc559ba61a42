// The PC/AT glue between the processor's x87 error pins and IRQ 13 (MS-DOS compatibility mode,
// CR0.NE = 0; SDM vol. 1 D.2.1.2, figure D-1). A core that finds an unmasked x87 exception
// pending at a waiting instruction asserts FERR# (src/cpu/ops/x87/fpu-state.ts reportPending):
//   - FERR# going active sets the interrupt request latch, which drives IRQ 13 (8259 slave
//     input 5 and, as on QEMU's pc machine where it is GSI 13, IOAPIC pin 13);
//   - an I/O write to port 0xF0 (the handler) clears the latch, lowering IRQ 13, and asserts
//     IGNNE# while FERR# is still active, so the handler may run x87 code before clearing the
//     error;
//   - FERR# going inactive (FNCLEX, FNINIT ... clears ES) deasserts IGNNE#, so IGNNE# is never
//     left on after the handler, whatever order it did the two in.
// QEMU 7.2 differs: it keeps IGNNE# set after the 0xF0 write until FLDENV/FRSTOR/FXRSTOR.
// FERR# is the OR of every core's output; IGNNE# reaches every core (Intel supports this mode on
// one processor only, D.2.1).

import { restoreFields, saveFields } from './saved-state.js';
import type { DecodeRanges, IrqLine, PortDevice, Snapshotable } from './types.js';

export const FPU_ERROR_PORT = 0xf0;
export const FPU_ERROR_IRQ = 13;
export const FPU_ERROR_PORTS: DecodeRanges = { ports: [[FPU_ERROR_PORT, 1]] };

const SAVED = { ferrCores: 'number', request: 'boolean', ignne: 'boolean' } as const;

export class FpuErrorLatch implements PortDevice, Snapshotable {
  readonly name = 'fpu-error-latch';
  /** bit n: core n drives FERR# */
  private ferrCores = 0;
  /** the interrupt request latch (flip-flop 1 of figure D-1) */
  private request = false;
  /** IGNNE# to the processors (flip-flop 2) */
  private ignne = false;

  constructor(private readonly irq: IrqLine) {}

  /** core `core` drives FERR#; returns IGNNE# */
  ferr(core: number, asserted: boolean): boolean {
    const was = this.ferrCores !== 0;
    const bit = 2 ** (core % 32);
    this.ferrCores = asserted ? (this.ferrCores | bit) >>> 0 : (this.ferrCores & ~bit) >>> 0;
    const now = this.ferrCores !== 0;
    if (now && !was) {
      this.request = true;
      this.irq.setLevel(true);
    } else if (!now) {
      this.ignne = false;
    }
    return this.ignne;
  }

  ioRead(_port: number, size: number): number {
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }

  ioWrite(): void {
    if (this.request) {
      this.request = false;
      this.irq.setLevel(false);
    }
    if (this.ferrCores !== 0) this.ignne = true;
  }

  saveState(): unknown {
    return saveFields(this, SAVED);
  }

  restoreState(state: unknown): void {
    restoreFields(this, this.name, state, SAVED);
    this.irq.setLevel(this.request);
  }
}
