// RFLAGS bits the oracle talks about.

export const CF = 1 << 0;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const TF = 1 << 8;
export const IF = 1 << 9;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const AC = 1 << 18;
export const ID = 1 << 21;

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
