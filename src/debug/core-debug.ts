// The gdb stub's part inside one core's worker: breakpoints, watchpoints and single-step as
// run-loop hooks (src/cpu/debug-hooks.ts). Breakpoints are a set of addresses checked before
// each instruction, so guest memory is never patched. Write watchpoints compare the watched
// bytes after each instruction (as gdb's own software watchpoints do: a write of the same
// value is not a stop); read/access watchpoints check the instruction's memory operand before
// it runs and stop after it (x86 data breakpoints are traps). Stack pushes/pops and string
// instructions' implicit operands are not seen by read/access watchpoints.

import type { Cpu } from '../cpu/cpu.js';
import type { DebugHooks } from '../cpu/debug-hooks.js';
import type { Insn } from '../cpu/insn.js';
import type { RamLayout } from '../abi/memory-map.js';
import { EFER_LMA } from '../cpu/regs.js';
import { readLinear, type PagingRegs } from './page-walk.js';
import { toCanonical } from './x86-registers.js';

export type WatchKind = 'write' | 'read' | 'access';

/** What the stub asks of a core when it resumes it (addresses as u64 hex strings). */
export interface DebugConfig {
  breakpoints: string[];
  watchpoints: { addr: string; len: number; kind: WatchKind }[];
  /** stop after one instruction */
  step: boolean;
}

/** Why a core parked. */
export type StopReason =
  | { kind: 'pause' }
  | { kind: 'step' }
  | { kind: 'break' }
  | { kind: 'watch'; watch: WatchKind; addr: string };

export function pagingRegs(cpu: Cpu): PagingRegs {
  return { cr0: cpu.cr0, cr3: cpu.cr3, cr4: cpu.cr4, longMode: (cpu.efer & EFER_LMA) !== 0 };
}

export class CoreDebug implements DebugHooks {
  stop: StopReason | null = null;
  private readonly breakpoints: Set<number>;
  private readonly watches: { addr: bigint; lin: number; len: number; kind: WatchKind; last: Uint8Array | null }[];
  private rip0 = 0;
  private retired0 = 0;
  private pendingWatch: StopReason | null = null;

  constructor(readonly config: DebugConfig, private readonly ram: Uint8Array, private readonly layout: RamLayout) {
    this.breakpoints = new Set(config.breakpoints.map((a) => toCanonical(BigInt(a))));
    this.watches = config.watchpoints.map((w) => ({ addr: BigInt(w.addr), lin: toCanonical(BigInt(w.addr)), len: w.len, kind: w.kind, last: null }));
  }

  /** Called when the core resumes: the first instruction is never a breakpoint stop (gdb steps over). */
  arm(cpu: Cpu): void {
    this.stop = null;
    this.pendingWatch = null;
    this.rip0 = cpu.rip;
    this.retired0 = cpu.retired;
    for (const w of this.watches) if (w.kind === 'write') w.last = this.peek(cpu, w.addr, w.len);
  }

  before(cpu: Cpu, next: Insn): boolean {
    const first = cpu.rip === this.rip0 && cpu.retired === this.retired0;
    // a step that ended in a fault or interrupt handler stops at the handler's first instruction
    if (this.config.step && !first) { this.stop = { kind: 'step' }; return true; }
    if (!first && this.breakpoints.has(cpu.rip)) { this.stop = { kind: 'break' }; return true; }
    if (next.hasMem && this.watches.length > 0) {
      let ea: number;
      try { ea = next.ea(cpu, next); } catch { return false; }
      for (const w of this.watches) {
        if (w.kind === 'write') continue;
        if (ea < w.lin + w.len && w.lin < ea + next.osize) {
          this.pendingWatch = { kind: 'watch', watch: w.kind, addr: w.addr.toString(16) };
          break;
        }
      }
    }
    return false;
  }

  after(cpu: Cpu): boolean {
    if (this.pendingWatch) { this.stop = this.pendingWatch; this.pendingWatch = null; return true; }
    for (const w of this.watches) {
      if (w.kind !== 'write') continue;
      const now = this.peek(cpu, w.addr, w.len);
      const changed = (now === null) !== (w.last === null) || (now !== null && w.last !== null && now.some((b, i) => b !== w.last![i]));
      w.last = now;
      if (changed) { this.stop = { kind: 'watch', watch: 'write', addr: w.addr.toString(16) }; return true; }
    }
    if (this.config.step) { this.stop = { kind: 'step' }; return true; }
    return false;
  }

  private peek(cpu: Cpu, addr: bigint, len: number): Uint8Array | null {
    return readLinear(this.ram, this.layout, pagingRegs(cpu), addr, len);
  }
}
