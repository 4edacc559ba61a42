// RFLAGS bits the oracle talks about.

// Bit positions are architectural facts, taken from the emulator's register file; what the
// oracle checks (the flag values) comes from the host CPU.
import { AC, AF, CF, DF, ID, IF, OF, PF, SF, TF, ZF } from '../../src/cpu/regs.js';

export { AC, AF, CF, DF, ID, IF, OF, PF, SF, TF, ZF };

/** the six arithmetic status flags */
export const STATUS = CF | PF | AF | ZF | SF | OF;
/** what a comparison looks at: the status flags and DF (IF, bit 1, RF, ID are the runner's business) */
export const COMPARED = STATUS | DF;
/** RFLAGS as a CPL3 snippet starts: bit 1 is fixed, IF is set in user mode */
export const BASE_RFLAGS = 0x2 | IF;

export function flagNames(mask: number): string {
  const names: string[] = [];
  const table: [number, string][] = [[CF, 'CF'], [PF, 'PF'], [AF, 'AF'], [ZF, 'ZF'], [SF, 'SF'], [TF, 'TF'],
    [IF, 'IF'], [DF, 'DF'], [OF, 'OF'], [AC, 'AC'], [ID, 'ID']];
  for (const [bit, name] of table) if (mask & bit) names.push(name);
  return names.join(' ') || '-';
}
