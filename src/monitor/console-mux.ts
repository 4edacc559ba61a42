// The console's escape keys, as QEMU's -nographic multiplexer has them: Ctrl-A x quits,
// Ctrl-A h prints the keys, Ctrl-A c switches between the guest's COM1 and the monitor,
// Ctrl-A Ctrl-A sends one Ctrl-A to the guest. In monitor mode, input is read as lines (echoed
// when the console is a terminal) and run by the human monitor.

import type { HumanMonitor } from './hmp.js';

const CTRL_A = 0x01;

export const ESCAPE_HELP = [
  'C-a h    print this help',
  'C-a x    exit emulator',
  'C-a c    switch between console and monitor',
  'C-a C-a  sends C-a',
].join('\n');

/** The one line printed after boot on an interactive console. */
export const CONSOLE_HINT = 'parallax-emu: Ctrl-A x quits, Ctrl-A h help, Ctrl-A c monitor';

export interface ConsoleMuxIo {
  /** bytes for the guest's COM1 */
  toGuest(bytes: Uint8Array): void;
  /** monitor output and escape-key messages (the terminal) */
  toTerminal(text: string): void;
  quit(): void;
  /** echo typed monitor input (a terminal in raw mode does not) */
  echo: boolean;
}

export class ConsoleMux {
  private afterCtrlA = false;
  private line = '';
  private busy: Promise<void> = Promise.resolve();
  monitorMode: boolean;

  constructor(private readonly hmp: HumanMonitor, private readonly io: ConsoleMuxIo, monitorFirst: boolean) {
    this.monitorMode = monitorFirst;
    if (monitorFirst) this.io.toTerminal(`${hmp.banner()}(monitor) `);
  }

  feed(chunk: Uint8Array): void {
    const guest: number[] = [];
    const flush = () => { if (guest.length) { this.io.toGuest(Uint8Array.from(guest)); guest.length = 0; } };
    for (const b of chunk) {
      if (this.afterCtrlA) {
        this.afterCtrlA = false;
        if (b === 0x78 /* x */) { flush(); this.io.quit(); return; }
        if (b === 0x68 /* h */) { this.io.toTerminal(`${ESCAPE_HELP}\n`); continue; }
        if (b === 0x63 /* c */) { flush(); this.toggle(); continue; }
        if (b === CTRL_A) { if (this.monitorMode) continue; guest.push(b); continue; }
        continue; // an unknown escape is swallowed, as QEMU does
      }
      if (b === CTRL_A) { this.afterCtrlA = true; continue; }
      if (this.monitorMode) this.monitorByte(b);
      else guest.push(b);
    }
    flush();
  }

  private toggle(): void {
    this.monitorMode = !this.monitorMode;
    this.line = '';
    if (this.monitorMode) this.io.toTerminal(`\n${this.hmp.banner()}(monitor) `);
    else this.io.toTerminal('\n');
  }

  private monitorByte(b: number): void {
    if (b === 0x0d || b === 0x0a) {
      if (b === 0x0a && this.lastWasCr) { this.lastWasCr = false; return; }
      this.lastWasCr = b === 0x0d;
      if (this.io.echo) this.io.toTerminal('\r\n');
      const line = this.line;
      this.line = '';
      this.busy = this.busy.then(async () => {
        const out = await this.hmp.execute(line);
        this.io.toTerminal(`${out}(monitor) `);
      });
      return;
    }
    this.lastWasCr = false;
    if (b === 0x7f || b === 0x08) {
      if (this.line.length > 0) { this.line = this.line.slice(0, -1); if (this.io.echo) this.io.toTerminal('\b \b'); }
      return;
    }
    if (b >= 0x20 && b < 0x7f) {
      this.line += String.fromCharCode(b);
      if (this.io.echo) this.io.toTerminal(String.fromCharCode(b));
    }
  }

  private lastWasCr = false;
}
