// What a flag-writing template leaves behind for later readers in the same block: the kind of
// operation and the names of the locals (or literals) holding its operands and result. From
// that, conditions are evaluated straight from the operands (compare-and-branch fusion), and
// the lazy-flag record of flags.ts is written only where the flags are still live.

import { LF_ADC, LF_ADD, LF_DEC, LF_INC, LF_RESULT, LF_SBB, LF_SUB } from '../flags.js';
import { CF, OF, PF, SF, ZF } from '../regs.js';

export const FK_ADD = LF_ADD, FK_ADC = LF_ADC, FK_SUB = LF_SUB, FK_SBB = LF_SBB, FK_INC = LF_INC, FK_DEC = LF_DEC;
/** SF ZF PF from the result; CF and OF from `c` and `o` (0 for logic ops), AF 0 */
export const FK_RESULT = LF_RESULT;

export interface FlagSource {
  kind: number;
  size: number;
  /** operands and result: low halves (whole value for sizes 1-4; upper bits may be garbage) */
  a: string; b: string; r: string;
  /** high halves for size 8, else '0' */
  ah: string; bh: string; rh: string;
  /** carry-in (ADC/SBB), preserved CF (INC/DEC) or CF (RESULT), as a 0/1 expression */
  c: string;
  /** OF (RESULT) as a 0/1 expression */
  o: string;
}

/** the six flag bits in the order used for producer tracking */
export const FLAG_BITS = [CF, PF, 1 << 4, ZF, SF, OF];

/** flags each condition code (cc >> 1) reads */
export const CC_READS = [OF, CF, ZF, CF | ZF, SF, PF, SF | OF, ZF | SF | OF];

const MASK = ['', '255', '65535', '', '-1'];
const SIGN = ['', '128', '32768', '', '-2147483648'];

/** x < y unsigned at the size */
function ult(s: number, x: string, xh: string, y: string, yh: string): string {
  if (s === 8) return `(${xh} !== ${yh} ? (${xh} >>> 0) < (${yh} >>> 0) : (${x} >>> 0) < (${y} >>> 0))`;
  if (s === 4) return `((${x} >>> 0) < (${y} >>> 0))`;
  return `((${x} & ${MASK[s]}) < (${y} & ${MASK[s]}))`;
}

function ule(s: number, x: string, xh: string, y: string, yh: string): string {
  if (s === 8) return `(${xh} !== ${yh} ? (${xh} >>> 0) < (${yh} >>> 0) : (${x} >>> 0) <= (${y} >>> 0))`;
  if (s === 4) return `((${x} >>> 0) <= (${y} >>> 0))`;
  return `((${x} & ${MASK[s]}) <= (${y} & ${MASK[s]}))`;
}

/** value sign-extended from the size to an Int32 (sizes 1, 2, 4) */
function sx(s: number, x: string): string {
  if (s === 4) return x;
  if (s === 2) return `(${x} << 16 >> 16)`;
  return `(${x} << 24 >> 24)`;
}

function slt(s: number, x: string, xh: string, y: string, yh: string, orEqual: boolean): string {
  const op = orEqual ? '<=' : '<';
  if (s === 8) return `(${xh} !== ${yh} ? ${xh} < ${yh} : (${x} >>> 0) ${op} (${y} >>> 0))`;
  return `(${sx(s, x)} ${op} ${sx(s, y)})`;
}

export function zfExpr(f: FlagSource): string {
  if (f.size === 8) return `(${f.r} === 0 && ${f.rh} === 0)`;
  if (f.size === 4) return `(${f.r} === 0)`;
  return `((${f.r} & ${MASK[f.size]}) === 0)`;
}

export function sfExpr(f: FlagSource): string {
  if (f.size === 8) return `(${f.rh} < 0)`;
  if (f.size === 4) return `(${f.r} < 0)`;
  return `((${f.r} & ${SIGN[f.size]}) !== 0)`;
}

export function cfExpr(f: FlagSource): string {
  const s = f.size;
  switch (f.kind) {
    case FK_SUB: return ult(s, f.a, f.ah, f.b, f.bh);
    case FK_SBB: return `(${f.c} !== 0 ? ${ule(s, f.a, f.ah, f.b, f.bh)} : ${ult(s, f.a, f.ah, f.b, f.bh)})`;
    case FK_ADD: return ult(s, f.r, f.rh, f.a, f.ah);
    case FK_ADC: return `(${f.c} !== 0 ? ${ule(s, f.r, f.rh, f.a, f.ah)} : ${ult(s, f.r, f.rh, f.a, f.ah)})`;
    case FK_RESULT: return `(${f.c} !== 0)`;
    default: throw new Error('internal: INC/DEC do not produce CF');
  }
}

export function ofExpr(f: FlagSource): string {
  const s = f.size;
  if (f.kind === FK_RESULT) return `(${f.o} !== 0)`;
  const add = f.kind === FK_ADD || f.kind === FK_ADC || f.kind === FK_INC;
  const [a, b, r] = s === 8 ? [f.ah, f.bh, f.rh] : [f.a, f.b, f.r];
  const core = add ? `(${a} ^ ${r}) & (${b} ^ ${r})` : `(${a} ^ ${b}) & (${a} ^ ${r})`;
  if (s >= 4) return `((${core}) < 0)`;
  return `((${core} & ${SIGN[s]}) !== 0)`;
}

export function pfExpr(f: FlagSource): string {
  return `(PAR[${f.r} & 255] !== 0)`;
}

/**
 * Condition `cc` (0..15) as a boolean expression, given the producer of each flag it reads.
 * `src(flagBit)` returns the producer's source. When one source produces all the flags read,
 * the comparisons are direct (e.g. JL after CMP is a signed compare of the operands).
 */
export function ccExpr(cc: number, src: (flag: number) => FlagSource): string {
  const reads = CC_READS[cc >> 1];
  let single: FlagSource | null = null;
  let same = true;
  for (const bit of FLAG_BITS) {
    if (!(reads & bit)) continue;
    const s = src(bit);
    if (single === null) single = s;
    else if (single !== s) same = false;
  }
  let e: string | null = null;
  if (same && single !== null) e = fusedExpr(cc >> 1, single);
  if (e === null) {
    const cf = (): string => cfExpr(src(CF)), zf = (): string => zfExpr(src(ZF)), sf = (): string => sfExpr(src(SF));
    const of = (): string => ofExpr(src(OF));
    switch (cc >> 1) {
      case 0: e = of(); break;
      case 1: e = cf(); break;
      case 2: e = zf(); break;
      case 3: e = `(${cf()} || ${zf()})`; break;
      case 4: e = sf(); break;
      case 5: e = pfExpr(src(PF)); break;
      case 6: e = `(${sf()} !== ${of()})`; break;
      default: e = `(${zf()} || ${sf()} !== ${of()})`; break;
    }
  }
  return (cc & 1) !== 0 ? `!${e}` : e;
}

/** direct forms for a single SUB-like or logic producer; null when the generic one is as good */
function fusedExpr(cond: number, f: FlagSource): string | null {
  const s = f.size;
  if (f.kind === FK_SUB) {
    switch (cond) {
      case 1: return ult(s, f.a, f.ah, f.b, f.bh);
      case 3: return ule(s, f.a, f.ah, f.b, f.bh);
      case 6: return slt(s, f.a, f.ah, f.b, f.bh, false);
      case 7: return slt(s, f.a, f.ah, f.b, f.bh, true);
      default: return null;
    }
  }
  if (f.kind === FK_RESULT && f.c === '0' && f.o === '0') { // logic: CF = OF = 0
    switch (cond) {
      case 0: return 'false';
      case 1: return 'false';
      case 3: return zfExpr(f);
      case 6: return sfExpr(f);
      case 7: return `(${zfExpr(f)} || ${sfExpr(f)})`;
      default: return null;
    }
  }
  return null;
}

/**
 * Statements recording the source as lazy flags, equivalent to the interpreter's record:
 * fields that flags.ts never reads for this kind and size (high halves below size 8, the
 * carry of ADD/SUB) are left as they are.
 */
export function recordCode(f: FlagSource): string {
  const wide = f.size === 8;
  if (f.kind === FK_RESULT) {
    return `cpu.lfOp = ${FK_RESULT}; cpu.lfSize = ${f.size}; cpu.lfR = ${f.r}; ${wide ? `cpu.lfRh = ${f.rh}; ` : ''}` +
      `cpu.lfCarry = ${f.c}; cpu.lfOver = ${f.o}; cpu.lfAux = 0;`;
  }
  const carry = f.kind === FK_ADD || f.kind === FK_SUB ? '' : ` cpu.lfCarry = ${f.c};`;
  const highs = wide ? ` cpu.lfAh = ${f.ah}; cpu.lfBh = ${f.bh}; cpu.lfRh = ${f.rh};` : '';
  return `cpu.lfOp = ${f.kind}; cpu.lfSize = ${f.size}; cpu.lfA = ${f.a}; cpu.lfB = ${f.b}; cpu.lfR = ${f.r};${highs}${carry}`;
}
