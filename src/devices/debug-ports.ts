// Small PC ports that firmware and test kernels poke:
//   0xF4-0xF7  isa-debug-exit (QEMU `-device isa-debug-exit,iobase=0xf4,iosize=4`): a write of
//              v ends the machine with status (v << 1) | 1
//   0xE9       Bochs/QEMU debug console: written bytes go to a sink; reads return 0xE9 (presence)
//   0x80       POST code: writes remembered, reads 0xFF (used as an I/O delay by kernels)
//   0x92       "fast A20" system control port A: bit 1 = A20 gate, bit 0 = reset pulse
//   0xCF9      reset control register (PIIX): a write with bit 2 set requests a reset
//   0x402      only with -debugcon (`SEABIOS_DEBUGCON`): SeaBIOS's debug port, as QEMU's
//              `-device isa-debugcon,iobase=0x402`; same sink and read-back (0xE9) as 0xE9
// Each range is a separate bus mapping (`DEBUG_PORTS`) so 0xCF8/0xCFC stay PCI's.

import type { DecodeRanges, PortDevice, Snapshotable } from './types.js';
import { restoreFields, saveFields } from './saved-state.js';

export const DEBUG_EXIT_PORT = 0xf4;
export const DEBUG_CONSOLE_PORT = 0xe9;
export const POST_PORT = 0x80;
export const SYSCTL_A_PORT = 0x92;
export const RESET_CONTROL_PORT = 0xcf9;
/** where SeaBIOS writes its log (it checks the port reads back 0xE9 first) */
export const SEABIOS_DEBUGCON_PORT = 0x402;

export const DEBUG_PORTS: DecodeRanges = {
  ports: [[DEBUG_EXIT_PORT, 4], [DEBUG_CONSOLE_PORT, 1], [POST_PORT, 1], [SYSCTL_A_PORT, 1], [RESET_CONTROL_PORT, 1]],
};
/** -debugcon: SeaBIOS's debug port too (QEMU needs `-device isa-debugcon,iobase=0x402` for it). */
export const SEABIOS_DEBUGCON: DecodeRanges = { ports: [[SEABIOS_DEBUGCON_PORT, 1]] };

/** what a snapshot keeps (the fields of the same names) */
const SAVED = { postCode: 'number', a20: 'boolean', resetControl: 'number' } as const;

export type ResetKind = 'port92' | 'cf9-hard' | 'cf9-soft';

export interface DebugPortsHooks {
  /** guest asked to exit through isa-debug-exit with this process status */
  onExit?: (status: number) => void;
  /** bytes written to port 0xE9 */
  console?: (bytes: Uint8Array) => void;
  /** guest requested a system reset */
  onReset?: (kind: ResetKind) => void;
  /** A20 gate changed through port 0x92 */
  onA20?: (enabled: boolean) => void;
}

export class DebugPorts implements PortDevice, Snapshotable {
  readonly name = 'debug-ports';
  /** last POST code written to 0x80 */
  postCode = 0;
  a20 = true;
  private resetControl = 0;

  constructor(private readonly hooks: DebugPortsHooks = {}) {}

  ioRead(port: number, size: number): number {
    switch (port) {
      case DEBUG_CONSOLE_PORT: case SEABIOS_DEBUGCON_PORT: return 0xe9;
      case SYSCTL_A_PORT: return this.a20 ? 0x02 : 0x00;
      case RESET_CONTROL_PORT: return this.resetControl;
      case POST_PORT: return 0xff;
      default:
        if (port >= DEBUG_EXIT_PORT && port < DEBUG_EXIT_PORT + 4) return 0;
        return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    }
  }

  ioWrite(port: number, size: number, value: number): void {
    const v = size === 1 ? value & 0xff : size === 2 ? value & 0xffff : value >>> 0;
    if (port >= DEBUG_EXIT_PORT && port < DEBUG_EXIT_PORT + 4) {
      // QEMU computes (v << 1) | 1 in an int and hands it to exit(): the shell sees the low byte,
      // but a caller may want the full value, so pass it on unreduced
      this.hooks.onExit?.(((v * 2) + 1) >>> 0);
      return;
    }
    switch (port) {
      case DEBUG_CONSOLE_PORT: case SEABIOS_DEBUGCON_PORT:
        this.hooks.console?.(Uint8Array.of(v & 0xff));
        return;
      case POST_PORT:
        this.postCode = v & 0xff;
        return;
      case SYSCTL_A_PORT: {
        const a20 = (v & 0x02) !== 0;
        if (a20 !== this.a20) {
          this.a20 = a20;
          this.hooks.onA20?.(a20);
        }
        if (v & 0x01) this.hooks.onReset?.('port92');
        return;
      }
      case RESET_CONTROL_PORT:
        if (v & 0x04) {
          this.hooks.onReset?.(v & 0x02 ? 'cf9-hard' : 'cf9-soft');
          return;
        }
        this.resetControl = v & 0x0a;
        return;
    }
  }

  saveState(): unknown {
    return saveFields(this, SAVED);
  }

  restoreState(state: unknown): void {
    restoreFields(this, 'debug-ports', state, SAVED);
  }
}
