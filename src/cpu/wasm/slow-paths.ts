// The JavaScript behind translated code's helpers (helper-slots.ts), one set per core: memory
// through the CPU's own access routines when the inline TLB check misses, faults, polls, and
// flags from the state at entry. chain.ts puts them in the core's helper table.

import type { Cpu } from '../cpu.js';
import { getCF, materialize, testCC } from '../flags.js';
import { rmwRead } from '../ops/integer/operands.js';
import { CF, DF, OF, SS_VEC } from '../regs.js';
import { isCanonical } from '../segmentation.js';
import { S_CUR_INDEX, S_FAULTED, S_VHI } from '../../abi/core-scratch.js';
import { ACC_RMW, ACC_SS } from './translate.js';
import { HELPERS } from './helper-slots.js';
import type { Chain } from './chain.js';

/** the helpers of `cpu`, in HELPERS order */
export function slowPaths(cpu: Cpu, chain: Chain): ((...args: number[]) => number | void)[] {
  const s32 = chain.s32;
  const cg = cpu.shared.codeGen;
  /** the running translated function wrote into its own code pages (it must leave) */
  const codeChanged = (): boolean => {
    const p = chain.codePages[s32[S_CUR_INDEX >> 2]];
    return cg[p.page] !== p.gen || (p.page2 >= 0 && cg[p.page2] !== p.gen2);
  };
  const stackCheck = (lin: number): void => { if (!isCanonical(lin)) cpu.fault(SS_VEC, 0); };
  // A slow path that faults does not throw through the translated code: the fault waits here,
  // S_FAULTED sends the code to its one shared fault path (registers stored there, not before
  // every slow-path call), which calls `rethrow`.
  let held: unknown = null;
  const hold = (x: unknown): void => { held = x; s32[S_FAULTED >> 2] = 1; };
  const byName: Record<string, (...args: number[]) => number | void> = {
    rd: (sf: number, lin: number): number => {
      const size = sf & 15;
      try {
        if (sf & ACC_SS) stackCheck(lin);
        const v = (sf & ACC_RMW) ? rmwRead(cpu, size, lin) : cpu.readMem(size, lin);
        if (size === 8) s32[S_VHI >> 2] = cpu.vhi;
        chain.afterAccess();
        return v;
      } catch (x) { hold(x); return 0; }
    },
    wr: (sf: number, lin: number, lo: number, hi: number): number => {
      const size = sf & 15;
      try {
        if (sf & ACC_SS) stackCheck(lin);
        cpu.writeMem(size, lin, lo, hi);
        chain.afterAccess();
        return codeChanged() ? 1 : 0;
      } catch (x) { hold(x); return 0; }
    },
    fault: (vector: number, code: number): void => { try { cpu.fault(vector, code); } catch (x) { hold(x); } },
    rethrow: (): never => { const x = held; held = null; s32[S_FAULTED >> 2] = 0; throw x; },
    poll: chain.poll,
    // flags from the state at entry: the previous block of a chain may have left its record in scratch
    cc: (cc: number): number => { chain.copyRecord(); return testCC(cpu, cc) ? 1 : 0; },
    cf: (): number => { chain.copyRecord(); return getCF(cpu) ? 1 : 0; },
    // a rotate over the flags at entry (translate.ts `rotate`): they become materialised
    co: (cf: number, of: number): void => {
      chain.copyRecord(); materialize(cpu);
      cpu.flags = (cpu.flags & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
    },
    df: (): number => ((cpu.flags & DF) !== 0 ? 1 : 0),
  };
  return HELPERS.map((h) => byName[h.name]);
}
