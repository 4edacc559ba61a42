// Hardware breakpoints (DR0-DR3 with DR7): instruction breakpoints (#DB fault before the
// instruction, unless RFLAGS.RF) and data breakpoints (write, or read/write: #DB trap after the
// instruction that touched the watched bytes). DR6 reports the matches in B0-B3; BS stays the
// single-step bit alone. I/O breakpoints (R/W = 10 with CR4.DE) are not modelled.
//
// Cost: nothing while DR7 enables no breakpoint. When it does, every block is rebuilt with
// runWatched() as its function (one checked instruction at a time, nothing compiled), and
// pages holding a watched address are kept out of the TLBs, so every access to them takes the
// slow path, where CpuMemory.watch() compares it with the breakpoints.

import type { Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { DB, RF } from './regs.js';
import { deliverException, EV_EXCEPTION } from './interrupts.js';

const DR6_FIXED = 0xffff0ff0;

/** Recompute the armed breakpoints from DR0-DR3 and DR7 (after MOV DR, reset, restore). */
export function rearmBreakpoints(cpu: Cpu): void {
  const dr7 = cpu.dr[7] >>> 0;
  let exec = 0, data = 0, writeOnly = 0;
  for (let n = 0; n < 4; n++) {
    if (((dr7 >>> (2 * n)) & 3) === 0) continue;
    const rw = (dr7 >>> (16 + 4 * n)) & 3;
    const len = [1, 2, 8, 4][(dr7 >>> (18 + 4 * n)) & 3];
    if (rw === 0) exec |= 1 << n;
    else if (rw === 1 || rw === 3) {
      data |= 1 << n;
      if (rw === 1) writeOnly |= 1 << n;
      // the address is aligned down to the length, as the hardware compares it
      const a = cpu.dr[n];
      cpu.bp.lin[n] = a - (((a % len) + len) % len);
      cpu.bp.len[n] = len;
    }
  }
  const bp = cpu.bp;
  bp.exec = exec;
  bp.watch = data;
  bp.writeOnly = writeOnly;
  bp.armed = exec !== 0 || data !== 0;
  cpu.flushTlb(false); // watched pages must not stay in the TLBs
  cpu.flushBlocks(); // blocks are rebuilt checked (armed) or plain (disarmed)
}

/** A block's function while breakpoints are armed (the compiled-block protocol of cpu.ts). */
export function watchedBlock(ops: Insn[], endRip: number): (cpu: Cpu, left: number) => number {
  return (cpu) => runWatched(cpu, ops, endRip);
}

function reportHits(cpu: Cpu, hits: number): void {
  cpu.dr[6] = (((cpu.dr[6] >>> 0) & ~0xf) | hits | DR6_FIXED) >>> 0;
}

function execHits(cpu: Cpu, rip: number): number {
  let hits = 0;
  const m = cpu.bp.exec;
  for (let n = 0; n < 4; n++) if ((m >> n) & 1 && cpu.dr[n] === rip) hits |= 1 << n;
  return hits;
}

/**
 * Run a block's instructions one at a time with the breakpoints checked. Returns the
 * instructions completed; a breakpoint's #DB has then been delivered. A fault propagates with
 * cpu.faultIndex = the faulting instruction's index and RIP at it (as compiled blocks report).
 */
export function runWatched(cpu: Cpu, ops: Insn[], endRip: number): number {
  const n = ops.length;
  for (let i = 0; i < n; i++) {
    const ins = ops[i];
    const rf = cpu.flags & RF;
    if (rf === 0 && cpu.bp.exec !== 0) {
      const hits = execHits(cpu, ins.rip);
      if (hits !== 0) {
        // a fault: the instruction has not run; the handler sets RF in the image to resume
        reportHits(cpu, hits);
        cpu.rip = ins.rip;
        deliverException(cpu, DB, -1, ins.rip, EV_EXCEPTION);
        cpu.eventCheck = true;
        return i;
      }
    }
    cpu.faultIndex = i;
    cpu.bp.hits = 0;
    cpu.rip = endRip;
    try {
      ins.exec(cpu, ins);
    } catch (e) {
      cpu.rip = ins.rip;
      throw e;
    }
    // RF lets one instruction past its breakpoint, then clears
    if (rf !== 0) cpu.flags &= ~RF;
    if (cpu.bp.hits !== 0) {
      reportHits(cpu, cpu.bp.hits);
      const next = i + 1 < n ? ops[i + 1].rip : cpu.rip;
      cpu.rip = next;
      deliverException(cpu, DB, -1, next, EV_EXCEPTION);
      cpu.eventCheck = true;
      return i + 1;
    }
  }
  return n; // the last instruction (a branch, or the fall-through) left RIP where it goes
}
