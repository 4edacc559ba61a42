// Table entries for state the snippet contract does not carry (x87 stack, MMX registers,
// FXSAVE images): each form is a short self-contained sequence that loads its operands from
// scratch slots of the data window, runs the instruction under test and stores what it
// produced (result, status word, FXSAVE image) back into the window, where it is compared.
//
// x87 forms run under a random control word (precision control 24/53/64 bits, any rounding
// control, every exception masked) on 80-bit operands loaded with FLD m80: ordinary values,
// values at the edges of the binary32/binary64 ranges (so the stores round, overflow and
// underflow), the ends of the 80-bit range, denormals, pseudo-denormals, unnormals and the other
// unsupported encodings, zeros, infinities, QNaNs and SNaNs. Every result is stored as m32, m64
// or m80 with the status word after the store, then the next register as m80 with the status
// word again, so the registers, C1 and the sticky flags are compared bit for bit.

import { CF, OF, PF, SF, ZF, AF } from './flags.js';
import type { Built, BuildCtx, FlagEffect, Form } from './form.js';
import { encode, gprName, RAX, RDI } from './encoder.js';
import type { Prng } from './prng.js';
import { SNIPPET_DATA_BASE } from './snippet-api.js';
import { bytesLe, edgeF32, edgeF64, edgeInt } from './values.js';

/** scratch slots (data-window offsets) for the sequences below; zero unless a case writes them */
// Each position of a sequence gets its own 256-byte area, so one piece's operands never
// overwrite another's (the build hooks of a case all run before it executes).
let area = 0xa000;
const at = (b: BuildCtx) => { area = 0xa000 + 0x100 * b.position; };
let SLOT_CW = 0, SLOT_A = 0, SLOT_B = 0, SLOT_R = 0, SLOT_SW = 0, SLOT_M = 0;
function slots(b: BuildCtx): void {
  at(b);
  SLOT_CW = area; SLOT_A = area + 0x10; SLOT_B = area + 0x20; SLOT_R = area + 0x30; SLOT_SW = area + 0x60; SLOT_M = area + 0x80;
}
const SLOT_FX = 0xb000, SLOT_FX_IN = 0xb400;

const NONE: FlagEffect = { w: 0, u: 0 };
const COMI: FlagEffect = { w: ZF | PF | CF | OF | SF | AF, u: 0 };

const forms: Form[] = [];
const add = (f: Form) => forms.push(f);

/** an absolute [disp32] operand in the data window */
const abs = (off: number) => ({ kind: 'mem' as const, mem: { disp: SNIPPET_DATA_BASE + off } });
const op = (opcode: number[], digit: number, off: number, rexW = false) =>
  Array.from(encode({ opcode, rexW, modrm: { reg: digit, rm: abs(off) } }));

// ---------------------------------------------------------------- operand values

const SIG_TOP = 1n << 63n;
const FRAC = SIG_TOP - 1n;

/** an 80-bit value (sign/exponent in bits 79-64) */
const f80 = (se: number | bigint, sig: bigint): bigint => (BigInt(se) << 64n) | (sig & ((1n << 64n) - 1n));

/** An 80-bit register value, edge-biased: see the header. */
function x87Operand(rng: Prng): bigint {
  const sign = rng.chance(0.5) ? 0x8000 : 0;
  // a few significant bits make exact sums, products and quotients likely; many bits exercise rounding
  const sig = (): bigint => rng.chance(0.3) ? SIG_TOP | ((rng.u64() & 0xfffn) << 51n) : SIG_TOP | (rng.u64() & FRAC);
  const at = (e: number): bigint => f80(sign | e, sig());
  switch (rng.below(20)) {
    case 0: return f80(sign, 0n);
    case 1: return f80(sign | 0x7fff, SIG_TOP);
    case 2: return f80(sign | 0x7fff, SIG_TOP | (1n << 62n) | (rng.chance(0.5) ? 0n : rng.u64() & ((1n << 62n) - 1n))); // QNaN
    case 3: return f80(sign | 0x7fff, SIG_TOP | ((rng.u64() & ((1n << 62n) - 1n)) || 1n)); // SNaN
    case 4: return f80(sign, (rng.u64() & FRAC) >> BigInt(rng.below(63))); // denormal
    case 5: return integral(rng, sign);
    case 6: return integral(rng, sign);
    case 7: // at the edges of the binary64 and binary32 ranges (stores overflow, underflow, denormalise)
      return at(16383 + rng.pick([1023, 1024, -1022, -1023, -1052, -1074, -1075, -1080, 127, 128, -126, -127, -140, -149, -150]) + rng.range(-1, 1));
    case 8: return at(rng.chance(0.5) ? rng.range(1, 70) : 0x7ffe - rng.range(0, 70)); // the ends of the 80-bit range
    case 9: // unsupported encodings: unnormal, pseudo-infinity, pseudo-NaN; and a pseudo-denormal
      return rng.pick([f80(sign | rng.range(1, 0x7ffe), rng.u64() & FRAC), f80(sign | 0x7fff, 0n), f80(sign | 0x7fff, (rng.u64() & FRAC) || 1n), f80(sign, SIG_TOP | (rng.u64() & FRAC))]);
    default: return at(16383 + rng.range(-70, 70));
  }
}

/** an integer, or an integer plus a quarter, half or three quarters (for the roundings to integer) */
function integral(rng: Prng, sign: number): bigint {
  const n = BigInt.asIntN(64, edgeInt(rng, 64)) >> BigInt(rng.below(64));
  let m = (n < 0n ? -n : n) * 4n + BigInt(rng.below(4));
  if (m === 0n) return f80(sign, 0n);
  let e = -2;
  while (m >= 1n << 64n) { m >>= 1n; e++; }
  const len = m.toString(2).length;
  return f80((n < 0n ? 0x8000 : sign) | (16383 + e + len - 1), m << BigInt(64 - len));
}

/** An operand for the transcendental forms: only where the result is exact (specials, out of range). */
function specialOperand(rng: Prng): bigint {
  const sign = rng.chance(0.5) ? 0x8000 : 0;
  switch (rng.below(6)) {
    case 0: return f80(sign, 0n);
    case 1: return f80(sign | 0x7fff, SIG_TOP);
    case 2: return f80(sign | 0x7fff, SIG_TOP | (1n << 62n) | (rng.u64() & 0xffffn));
    case 3: return f80(sign | 0x7fff, SIG_TOP | ((rng.u64() & 0xffffn) || 1n));
    case 4: return f80(sign | rng.range(1, 0x7ffe), rng.u64() & FRAC); // unnormal
    default: return f80(sign | (16383 + 63 + rng.below(64)), SIG_TOP | (rng.u64() & FRAC)); // |x| >= 2^63
  }
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
function f64Bits(x: number): bigint {
  f64[0] = x;
  return u64[0];
}

/** FLDCW value: every exception masked, precision control 24, 53 or 64 bits, any rounding */
function controlWord(rng: Prng): number {
  return 0x007f | (rng.pick([0, 2, 3, 3]) << 8) | (rng.below(4) << 10);
}

type Operand = (rng: Prng, which: 0 | 1) => bigint;

/** fninit; fldcw [CW]; fld tword [A] (st1 after the next); fld tword [B] (st0) */
function x87Prologue(b: BuildCtx, operands: 0 | 1 | 2, value: Operand = x87Operand): { bytes: number[]; text: string } {
  const cw = controlWord(b.rng);
  b.setMem(SLOT_CW, bytesLe(BigInt(cw), 2));
  const bytes = [0xdb, 0xe3, ...op([0xd9], 5, SLOT_CW)];
  const a = value(b.rng, 0), c = value(b.rng, 1);
  b.setMem(SLOT_A, bytesLe(a, 10));
  b.setMem(SLOT_B, bytesLe(c, 10));
  if (operands >= 1) bytes.push(...op([0xdb], 5, SLOT_A));
  if (operands >= 2) bytes.push(...op([0xdb], 5, SLOT_B));
  return { bytes, text: `fninit; fldcw 0x${cw.toString(16)}; ${operands >= 1 ? `fld ${hex(a)}; ` : ''}${operands >= 2 ? `fld ${hex(c)}; ` : ''}` };
}
const hex = (v: bigint) => '0x' + v.toString(16);

/** fstp st0 to [R] as m32/m64/m80, fnstsw [SW]; fstp tword [R+16], fnstsw [SW+2] */
function x87Epilogue(b: BuildCtx, store = true): { bytes: number[]; text: string } {
  const bytes: number[] = [];
  let text = '';
  if (store) {
    const k = b.rng.below(3);
    if (k === 0) { bytes.push(...op([0xd9], 3, SLOT_R)); text = 'fstp dword [R]; '; }
    else if (k === 1) { bytes.push(...op([0xdd], 3, SLOT_R)); text = 'fstp qword [R]; '; }
    else { bytes.push(...op([0xdb], 7, SLOT_R)); text = 'fstp tword [R]; '; }
  }
  bytes.push(...op([0xdd], 7, SLOT_SW));
  text += 'fnstsw [SW]';
  if (store) {
    bytes.push(...op([0xdb], 7, SLOT_R + 16), ...op([0xdd], 7, SLOT_SW + 2));
    text += '; fstp tword [R+16]; fnstsw [SW+2]';
  }
  return { bytes, text };
}

function x87Form(name: string, group: string, middle: (b: BuildCtx) => { bytes: number[]; text: string }, operands: 0 | 1 | 2, store = true, flags = NONE, value?: Operand, extra: Partial<Form> = {}) {
  add({
    name, group, shape: 'custom', sizes: [32], opcode: [0xd8], flags, feature: 'fpu', ...extra,
    build: (b): Built => {
      slots(b);
      const pro = x87Prologue(b, operands, value);
      const mid = middle(b);
      const epi = x87Epilogue(b, store);
      return { bytes: Uint8Array.from([...pro.bytes, ...mid.bytes, ...epi.bytes]), text: `${pro.text}${mid.text}; ${epi.text}`, effect: flags, reads: 0 };
    },
  });
}
const fixed = (bytes: number[], text: string) => () => ({ bytes, text });

/** a memory operand of the arithmetic and compare forms, at [M] */
const MEM_OPERANDS: [string, number, (rng: Prng) => bigint, number][] = [
  ['m64', 0xdc, edgeF64, 8], ['m32', 0xd8, (rng) => BigInt(edgeF32(rng)), 4],
  ['m32int', 0xda, (rng) => edgeInt(rng, 32), 4], ['m16int', 0xde, (rng) => edgeInt(rng, 16), 2],
];
function memForm(name: string, group: string, digit: number, kind: (typeof MEM_OPERANDS)[number], store: boolean): void {
  const [what, opcode, value, size] = kind;
  x87Form(`${name} ${what}`, group, (b) => {
    const v = value(b.rng);
    b.setMem(SLOT_M, bytesLe(v, size));
    return { bytes: op([opcode], digit, SLOT_M), text: `${name} ${what} [M] (${hex(v)})` };
  }, 2, store);
}

// arithmetic: ST(0) op ST(i), ST(i) op ST(0) (and pop), ST(0) op m64 / m32 / m32int / m16int
const ARITH: [string, number][] = [['fadd', 0], ['fmul', 1], ['fsub', 4], ['fsubr', 5], ['fdiv', 6], ['fdivr', 7]];
for (const [m, d] of ARITH) {
  x87Form(`${m} st0,st1`, 'x87-arith', fixed([0xd8, 0xc0 | (d << 3) | 1], `${m} st0, st1`), 2);
  // DC encodes the reversed pairs for sub/div: DC E8+i is FSUB ST(i), ST(0) (AMD/Intel agree)
  x87Form(`${m} st1,st0`, 'x87-arith', fixed([0xdc, 0xc0 | (d << 3) | 1], `(dc ${(0xc0 | (d << 3) | 1).toString(16)}) st1 op st0`), 2);
  x87Form(`${m}p st1,st0`, 'x87-arith', fixed([0xde, 0xc0 | (d << 3) | 1], `(de ${(0xc0 | (d << 3) | 1).toString(16)}) st1 op st0, pop`), 2);
  for (const kind of MEM_OPERANDS) memForm(kind[0].includes('int') ? `fi${m.slice(1)}` : m, 'x87-arith', d, kind, true);
}

// one-operand forms on ST(0), and the two-operand FPREM FPREM1 FSCALE
const UNARY: [string, number[]][] = [['fchs', [0xd9, 0xe0]], ['fabs', [0xd9, 0xe1]], ['fsqrt', [0xd9, 0xfa]], ['frndint', [0xd9, 0xfc]], ['fxtract', [0xd9, 0xf4]]];
for (const [m, bytes] of UNARY) x87Form(m, 'x87-arith', fixed(bytes, m), 1);
for (const [m, bytes] of [['fprem', [0xd9, 0xf8]], ['fprem1', [0xd9, 0xf5]], ['fscale', [0xd9, 0xfd]]] as const) {
  x87Form(m, 'x87-arith', fixed([...bytes], m), 2);
}
x87Form('fscale (small scale)', 'x87-arith', (b) => {
  // ST(1) = a small integer (FILD), so results land in and near the range ends
  const n = BigInt(b.rng.range(-17000, 17000));
  b.setMem(SLOT_M, bytesLe(BigInt.asUintN(32, n), 4));
  return { bytes: [...op([0xdb], 0, SLOT_M), 0xd9, 0xc9, 0xd9, 0xfd], text: `fild dword ${n}; fxch; fscale` };
}, 1);

// transcendentals: operands where the result is exact (zeros, infinities, NaNs, unsupported
// encodings, |x| >= 2^63 for the trigonometric forms), compared with no mismatch allowed
const TRANSCENDENTAL: [string, number[], 1 | 2][] = [
  ['fsin', [0xd9, 0xfe], 1], ['fcos', [0xd9, 0xff], 1], ['fsincos', [0xd9, 0xfb], 1], ['fptan', [0xd9, 0xf2], 1], ['f2xm1', [0xd9, 0xf0], 1],
  ['fpatan', [0xd9, 0xf3], 2], ['fyl2x', [0xd9, 0xf1], 2], ['fyl2xp1', [0xd9, 0xf9], 2],
];
for (const [m, bytes, n] of TRANSCENDENTAL) {
  // F2XM1 is defined for |x| <= 1 only: no out-of-range operand for it
  const one: Operand = m === 'f2xm1' ? (rng) => { let v; do v = specialOperand(rng); while (((v >> 64n) & 0x7fffn) >= 16383n + 63n && ((v >> 64n) & 0x7fffn) !== 0x7fffn); return v; } : specialOperand;
  x87Form(`${m} (exact cases)`, 'x87-transcendental', fixed(bytes, m), 2, true, NONE, n === 1 ? one : nanPair());
}
// ordinary operands in each instruction's domain: evaluated to ~150 bits and rounded once, which
// agrees with the host's microcode except near rounding boundaries; that group's mismatch share
// is bounded (and printed) by isa.test.ts (TOLERATED_GROUPS in excluded.ts), while
// test/cpu/x87/transcendental-oracle.test.ts shows each difference is one unit in the last place
const ordinary = (rng: Prng, lo: number, hi: number, sign = rng.chance(0.5)): bigint =>
  f80((sign ? 0x8000 : 0) | (16383 + rng.range(lo, hi)), rng.chance(0.2) ? SIG_TOP | ((rng.u64() & 0xfffn) << 52n) : SIG_TOP | (rng.u64() & FRAC));
const trigOperand: Operand = (rng) => (rng.chance(0.8) ? ordinary(rng, -12, 3) : rng.chance(0.5) ? ordinary(rng, 4, 62) : ordinary(rng, -200, -13));
const DOMAIN: [string, Operand][] = [
  ['fsin', trigOperand], ['fcos', trigOperand], ['fsincos', trigOperand], ['fptan', trigOperand],
  ['f2xm1', (rng) => ordinary(rng, rng.chance(0.8) ? -12 : -100, -1)],
  ['fpatan', (rng) => ordinary(rng, -20, 20)],
  ['fyl2x', (rng, which) => (which === 0 ? ordinary(rng, -30, 30) : ordinary(rng, rng.chance(0.3) ? -1 : -200, rng.chance(0.3) ? 0 : 200, false))],
  ['fyl2xp1', (rng, which) => (which === 0 ? ordinary(rng, -30, 30) : ordinary(rng, rng.chance(0.8) ? -12 : -100, -3))],
];
for (const [m, value] of DOMAIN) {
  const [, bytes, n] = TRANSCENDENTAL.find((t) => t[0] === m)!;
  // alone: never inside a sequence, so a tolerated difference is counted in this group only
  x87Form(`${m} (ordinary operands)`, 'x87-transcendental-approx', fixed(bytes, m), n, true, NONE, value, { alone: true });
}
/** for the two-operand forms: one operand (either) is a NaN or an unsupported encoding, the other anything */
function nanPair(): Operand {
  let side = 0;
  return (rng, which) => {
    if (which === 0) side = rng.below(2);
    if (which !== side) return x87Operand(rng);
    const sign = rng.chance(0.5) ? 0x8000 : 0;
    return rng.chance(0.8) ? f80(sign | 0x7fff, SIG_TOP | (rng.chance(0.5) ? 1n << 62n : 0n) | (rng.u64() & 0xffffn) | 1n) : f80(sign | rng.range(1, 0x7fff), rng.u64() & FRAC);
  };
}

x87Form('fxch st1', 'x87-move', fixed([0xd9, 0xc9], 'fxch st1'), 2);
x87Form('fld st1', 'x87-move', fixed([0xd9, 0xc1], 'fld st1'), 2);
x87Form('fst st1', 'x87-move', fixed([0xdd, 0xd1], 'fst st1'), 2);
x87Form('fstp st1', 'x87-move', fixed([0xdd, 0xd9], 'fstp st1'), 2);
x87Form('fst m32', 'x87-move', fixed(op([0xd9], 2, SLOT_R + 0x20), 'fst dword [R+32]'), 2);
x87Form('fst m64', 'x87-move', fixed(op([0xdd], 2, SLOT_R + 0x20), 'fst qword [R+32]'), 2);
// constants, rounded to 64 bits by RC
const CONSTS: [string, number][] = [['fld1', 0xe8], ['fldz', 0xee], ['fldl2t', 0xe9], ['fldl2e', 0xea], ['fldpi', 0xeb], ['fldlg2', 0xec], ['fldln2', 0xed]];
for (const [m, o] of CONSTS) x87Form(m, 'x87-move', fixed([0xd9, o], m), 1);
x87Form('fld m32', 'x87-move', (b) => {
  const v = edgeF32(b.rng);
  b.setMem(SLOT_M, bytesLe(BigInt(v), 4));
  return { bytes: op([0xd9], 0, SLOT_M), text: `fld dword [M] (${hex(BigInt(v))})` };
}, 1);
x87Form('fld m64', 'x87-move', (b) => {
  const v = b.rng.chance(0.2) ? (b.rng.u64() & ((1n << 52n) - 1n)) | (b.rng.chance(0.5) ? 1n << 63n : 0n) : edgeF64(b.rng); // denormals too
  b.setMem(SLOT_M, bytesLe(v, 8));
  return { bytes: op([0xdd], 0, SLOT_M), text: `fld qword [M] (${hex(v)})` };
}, 1);
x87Form('fld m80', 'x87-move', (b) => {
  const v = x87Operand(b.rng);
  b.setMem(SLOT_M, bytesLe(v, 10));
  return { bytes: op([0xdb], 5, SLOT_M), text: `fld tword [M] (${hex(v)})` };
}, 1);
for (const [m, o, d, bytes] of [['fild m16', 0xdf, 0, 2], ['fild m32', 0xdb, 0, 4], ['fild m64', 0xdf, 5, 8]] as const) {
  x87Form(m, 'x87-int', (b) => {
    const v = edgeInt(b.rng, bytes * 8);
    b.setMem(SLOT_M, bytesLe(v, bytes));
    return { bytes: op([o], d, SLOT_M), text: `${m} [M] (${hex(v)})` };
  }, 1);
}
// integer stores (rounded by RC; out of range or NaN gives the integer indefinite and IE)
for (const [m, o, d, pop] of [['fist m16', 0xdf, 2, false], ['fistp m16', 0xdf, 3, true], ['fist m32', 0xdb, 2, false], ['fistp m32', 0xdb, 3, true], ['fistp m64', 0xdf, 7, true], ['fisttp m16', 0xdf, 1, true], ['fisttp m32', 0xdb, 1, true], ['fisttp m64', 0xdd, 1, true]] as const) {
  x87Form(m, 'x87-int', () => ({ bytes: op([o], d, SLOT_R + 8), text: `${m} [R+8]${pop ? '' : ''}` }), 2, false);
}
// packed BCD: FBSTP of any operand; FBLD of 18 random digits and a sign
x87Form('fbstp m80', 'x87-int', () => ({ bytes: op([0xdf], 6, SLOT_R + 0x20), text: 'fbstp [R+32]' }), 2, false);
x87Form('fbld m80', 'x87-int', (b) => {
  const digits = Array.from({ length: 9 }, () => (b.rng.below(10) << 4) | b.rng.below(10));
  const bytes = [...digits, b.rng.chance(0.5) ? 0x80 : 0];
  b.setMem(SLOT_M, Uint8Array.from(bytes));
  return { bytes: op([0xdf], 4, SLOT_M), text: `fbld [M] (${bytes.map((x) => x.toString(16)).join(' ')})` };
}, 1);
// compares: condition codes in the status word, or RFLAGS
const CMPS: [string, number[], FlagEffect][] = [
  ['fcom st1', [0xd8, 0xd1], NONE], ['fcomp st1', [0xd8, 0xd9], NONE], ['fcompp', [0xde, 0xd9], NONE],
  ['fucom st1', [0xdd, 0xe1], NONE], ['fucomp st1', [0xdd, 0xe9], NONE], ['fucompp', [0xda, 0xe9], NONE],
  ['ftst', [0xd9, 0xe4], NONE], ['fxam', [0xd9, 0xe5], NONE],
  ['fcomi st1', [0xdb, 0xf1], COMI], ['fucomi st1', [0xdb, 0xe9], COMI], ['fcomip st1', [0xdf, 0xf1], COMI], ['fucomip st1', [0xdf, 0xe9], COMI],
];
for (const [m, bytes, flags] of CMPS) x87Form(m, 'x87-compare', fixed(bytes, m), 2, false, flags);
for (const kind of MEM_OPERANDS) {
  const i = kind[0].includes('int') ? 'i' : '';
  memForm(`f${i}com`, 'x87-compare', 2, kind, false);
  memForm(`f${i}comp`, 'x87-compare', 3, kind, false);
}
// FCMOVcc after FCOMI: the condition is the compare's outcome
const FCMOV: [string, number[]][] = [['fcmovb', [0xda, 0xc1]], ['fcmove', [0xda, 0xc9]], ['fcmovbe', [0xda, 0xd1]], ['fcmovu', [0xda, 0xd9]], ['fcmovnb', [0xdb, 0xc1]], ['fcmovne', [0xdb, 0xc9]], ['fcmovnbe', [0xdb, 0xd1]], ['fcmovnu', [0xdb, 0xd9]]];
for (const [m, bytes] of FCMOV) x87Form(`${m} st0,st1`, 'x87-compare', fixed([0xdb, 0xf1, ...bytes], `fcomi st1; ${m} st0, st1`), 2, true, COMI);
// control and environment: FNSTCW/FNSTENV (FIP/FDP/FOP zeroed: their format is model-specific)
x87Form('fnstcw', 'x87-control', () => ({ bytes: op([0xd9], 7, SLOT_R + 8), text: 'fnstcw [R+8]' }), 2, false);
x87Form('fnstsw ax', 'x87-control', () => ({ bytes: [0xdf, 0xe0, ...Array.from(encode({ opcode: [0x89], prefixes: [0x66], modrm: { reg: RAX, rm: abs(SLOT_R + 8) } }))], text: 'fnstsw ax; mov [R+8], ax' }), 2, false);
x87Form('ffree st1; fincstp; fdecstp', 'x87-control', fixed([0xdd, 0xc1, 0xd9, 0xf7, 0xd9, 0xf6], 'ffree st1; fincstp; fdecstp'), 2);
x87Form('fnclex', 'x87-control', fixed([0xd9, 0xe8, 0xdb, 0xe2], 'fld1; fnclex'), 2);
x87Form('fnstenv', 'x87-control', () => ({
  bytes: [...op([0xd9], 6, SLOT_R + 16), ...zeroBytes(SLOT_R + 16 + 12, 16)],
  text: 'fnstenv [R+16]; (FIP/FOP/FDP zeroed)',
}), 2, false);

// aliases and no-ops: FCOM/FCOMP ST(i) at DC D0/D8, FCOMP at DE D0, FFREEP, FNOP, FWAIT and the 8087/287 leftovers
const ALIASES: [string, number[], string][] = [
  ['fcom st1 (dc d1)', [0xdc, 0xd1], 'x87-compare'], ['fcomp st1 (dc d9)', [0xdc, 0xd9], 'x87-compare'], ['fcomp st1 (de d1)', [0xde, 0xd1], 'x87-compare'],
  ['ffreep st1', [0xdf, 0xc1], 'x87-control'], ['fnop', [0xd9, 0xd0], 'x87-control'], ['fwait', [0x9b], 'x87-control'],
  ['fneni fndisi fsetpm', [0xdb, 0xe0, 0xdb, 0xe1, 0xdb, 0xe4], 'x87-control'],
];
for (const [m, bytes, group] of ALIASES) x87Form(m, group, fixed(bytes, m), 2, group !== 'x87-compare');

// FNSAVE / FRSTOR / FLDENV (32-bit layouts): the image's FIP, FCS|FOP, FDP and FDS fields (12..27)
// are cleared after the save, as for FNSTENV; the register area is compared bit for bit
const SLOT_SAVE = 0xb200, SLOT_SAVE_IN = 0xb300;
const saveTail = (): number[] => [...op([0xdd], 6, SLOT_SAVE), ...zeroBytes(SLOT_SAVE + 12, 16)];
x87Form('fnsave m108', 'x87-control', () => ({ bytes: saveTail(), text: 'fnsave [S]; (FIP/FOP/FDP zeroed)' }), 2, false);
/** a 108-byte FSAVE image: masked control word, status with TOP, any tags, 8 register values */
function saveImage(rng: Prng, envOnly: boolean): Uint8Array {
  const img = new Uint8Array(envOnly ? 28 : 108);
  const dv = new DataView(img.buffer);
  dv.setUint16(0, 0x0040 | 0x3f | (rng.pick([0, 2, 3]) << 8) | (rng.below(4) << 10), true);
  dv.setUint16(4, (rng.u32() & 0x477f & ~0x80) | (rng.below(8) << 11), true);
  dv.setUint16(8, rng.u32() & 0xffff, true);
  if (!envOnly) {
    for (let i = 0; i < 8; i++) {
      const v = x87Operand(rng);
      dv.setBigUint64(28 + 10 * i, v & ((1n << 64n) - 1n), true);
      dv.setUint16(36 + 10 * i, Number(v >> 64n), true);
    }
  }
  return img;
}
x87Form('frstor m108', 'x87-control', (b) => {
  b.setMem(SLOT_SAVE_IN, saveImage(b.rng, false));
  return { bytes: [...op([0xdd], 4, SLOT_SAVE_IN), ...saveTail()], text: 'frstor [S_IN]; fnsave [S]' };
}, 0, false);
x87Form('fldenv m28', 'x87-control', (b) => {
  b.setMem(SLOT_SAVE_IN, saveImage(b.rng, true));
  return { bytes: [...op([0xd9], 4, SLOT_SAVE_IN), ...saveTail()], text: 'fldenv [S_IN]; fnsave [S]' };
}, 2, false);

/** mov qword/dword [off], 0 over `len` bytes (len a multiple of 4) */
function zeroBytes(off: number, len: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < len; o += o + 8 <= len ? 8 : 4) {
    out.push(...Array.from(encode({ opcode: [0xc7], rexW: o + 8 <= len, modrm: { reg: 0, rm: abs(off + o) }, imm: { value: 0n, size: 4 } })));
  }
  return out;
}

// ---------------------------------------------------------------- FXSAVE / FXRSTOR
// FOP (bytes 6-7), FIP and FDP (8-23) depend on the vendor (AMD stores them only with ES set),
// MXCSR_MASK (28-31) on the model (AMD adds bit 17): they are cleared after the save;
// everything else of the 512-byte image is compared.
function fxsaveTail(rexW: boolean): number[] {
  return [...op([0x0f, 0xae], 0, SLOT_FX, rexW), ...Array.from(encode({ prefixes: [0x66], opcode: [0xc7], modrm: { reg: 0, rm: abs(SLOT_FX + 6) }, imm: { value: 0n, size: 2 } })), ...zeroBytes(SLOT_FX + 8, 16), ...zeroBytes(SLOT_FX + 28, 4)];
}
add({
  name: 'fxsave m512', group: 'fxsave', shape: 'custom', sizes: [32], opcode: [0x0f, 0xae], flags: NONE, feature: 'fxsr', sse: true,
  build: (b) => {
    slots(b);
    const pro = x87Prologue(b, 2);
    const rexW = b.rng.chance(0.5);
    return { bytes: Uint8Array.from([...pro.bytes, ...fxsaveTail(rexW)]), text: `${pro.text}fxsave${rexW ? '64' : ''} [FX]`, effect: NONE, reads: 0 };
  },
});
add({
  name: 'fxrstor m512', group: 'fxsave', shape: 'custom', sizes: [32], opcode: [0x0f, 0xae], flags: NONE, feature: 'fxsr', sse: true, firstOnly: true,
  build: (b) => {
    const rng = b.rng;
    const img = new Uint8Array(512);
    const dv = new DataView(img.buffer);
    dv.setUint16(0, 0x0040 | 0x3f | (rng.below(4) << 8) | (rng.below(4) << 10), true); // FCW, exceptions masked
    const top = rng.below(8);
    dv.setUint16(2, (rng.u32() & 0x477f & ~0x80) | (top << 11), true); // FSW without ES/B
    img[4] = rng.u32() & 0xff; // abridged tags
    dv.setUint32(24, 0x1f80 | (rng.below(4) << 13) | (rng.u32() & 0x3f), true); // MXCSR
    for (let i = 0; i < 8; i++) {
      const v = x87Operand(rng);
      dv.setBigUint64(32 + 16 * i, v & ((1n << 64n) - 1n), true);
      dv.setUint16(40 + 16 * i, Number(v >> 64n), true);
    }
    for (let i = 0; i < 16; i++) dv.setBigUint64(160 + 8 * i * 2, rng.u64(), true), dv.setBigUint64(168 + 16 * i, rng.u64(), true);
    b.setMem(SLOT_FX_IN, img);
    const rexW = rng.chance(0.5);
    return { bytes: Uint8Array.from([...op([0x0f, 0xae], 1, SLOT_FX_IN, rexW), ...fxsaveTail(rexW)]), text: `fxrstor${rexW ? '64' : ''} [FX_IN]; fxsave [FX]`, effect: NONE, reads: 0 };
  },
});

// ---------------------------------------------------------------- MMX registers
// movq mmA, [A]; movq mmB, [B]; op mmA, mmB|[B] (or imm); movq [R], mmA; emms
const MMX_OPS: [string, number][] = [
  ['pxor', 0xef], ['pand', 0xdb], ['pandn', 0xdf], ['por', 0xeb],
  ['paddb', 0xfc], ['paddw', 0xfd], ['paddd', 0xfe], ['paddq', 0xd4], ['paddsb', 0xec], ['paddsw', 0xed], ['paddusb', 0xdc], ['paddusw', 0xdd],
  ['psubb', 0xf8], ['psubw', 0xf9], ['psubd', 0xfa], ['psubq', 0xfb], ['psubsb', 0xe8], ['psubsw', 0xe9], ['psubusb', 0xd8], ['psubusw', 0xd9],
  ['pcmpeqb', 0x74], ['pcmpeqw', 0x75], ['pcmpeqd', 0x76], ['pcmpgtb', 0x64], ['pcmpgtw', 0x65], ['pcmpgtd', 0x66],
  ['pmullw', 0xd5], ['pmulhw', 0xe5], ['pmulhuw', 0xe4], ['pmuludq', 0xf4], ['pmaddwd', 0xf5],
  ['pavgb', 0xe0], ['pavgw', 0xe3], ['pmaxub', 0xde], ['pminub', 0xda], ['pmaxsw', 0xee], ['pminsw', 0xea], ['psadbw', 0xf6],
  ['punpcklbw', 0x60], ['punpcklwd', 0x61], ['punpckldq', 0x62], ['punpckhbw', 0x68], ['punpckhwd', 0x69], ['punpckhdq', 0x6a],
  ['packsswb', 0x63], ['packssdw', 0x6b], ['packuswb', 0x67],
  ['psrlw', 0xd1], ['psrld', 0xd2], ['psrlq', 0xd3], ['psraw', 0xe1], ['psrad', 0xe2], ['psllw', 0xf1], ['pslld', 0xf2], ['psllq', 0xf3],
];
const mm = (opcode: number[], reg: number, rmReg: number) => Array.from(encode({ opcode, modrm: { reg, rm: { kind: 'reg', num: rmReg } } }));

function mmxForm(name: string, group: string, mid: (b: BuildCtx, a: number, c: number) => { bytes: number[]; text: string; noStore?: boolean }, extra: Partial<Form> = {}) {
  add({
    name, group, shape: 'custom', sizes: [32], opcode: [0x0f], flags: NONE, feature: 'mmx', ...extra,
    build: (b) => {
      slots(b);
      const a = b.rng.below(8);
      let c = b.rng.below(7);
      if (c >= a) c++;
      b.setMem(SLOT_A, bytesLe(mmxValue(b.rng), 8));
      b.setMem(SLOT_B, bytesLe(mmxValue(b.rng), 8));
      const m = mid(b, a, c);
      const bytes = [...op([0x0f, 0x6f], a, SLOT_A), ...op([0x0f, 0x6f], c, SLOT_B), ...m.bytes, ...op([0x0f, 0x7f], a, SLOT_R), 0x0f, 0x77];
      return { bytes: Uint8Array.from(bytes), text: `movq mm${a}, [A]; movq mm${c}, [B]; ${m.text}; movq [R], mm${a}; emms`, effect: NONE, reads: 0 };
    },
  });
}
function mmxValue(rng: Prng): bigint {
  return rng.chance(0.3) ? edgeInt(rng, 64) : rng.u64();
}
for (const [m, o] of MMX_OPS) {
  mmxForm(`${m} mm,mm/m64`, 'mmx', (b, a, c) => b.rng.chance(0.5)
    ? { bytes: mm([0x0f, o], a, c), text: `${m} mm${a}, mm${c}` }
    : { bytes: op([0x0f, o], a, SLOT_B), text: `${m} mm${a}, [B]` });
}
const MMX_SHIFT_IMM: [string, number, number][] = [['psrlw', 0x71, 2], ['psraw', 0x71, 4], ['psllw', 0x71, 6], ['psrld', 0x72, 2], ['psrad', 0x72, 4], ['pslld', 0x72, 6], ['psrlq', 0x73, 2], ['psllq', 0x73, 6]];
for (const [m, o, d] of MMX_SHIFT_IMM) {
  mmxForm(`${m} mm,imm8`, 'mmx', (b, a) => {
    const n = b.rng.chance(0.8) ? b.rng.pick([0, 1, 7, 8, 15, 16, 31, 32, 63, 64]) : b.rng.below(256);
    return { bytes: [...mm([0x0f, o], d, a), n], text: `${m} mm${a}, ${n}` };
  });
}
mmxForm('pshufw mm,mm/m64,imm8', 'mmx', (b, a, c) => {
  const n = b.rng.below(256);
  return { bytes: [...mm([0x0f, 0x70], a, c), n], text: `pshufw mm${a}, mm${c}, ${n}` };
});
mmxForm('movq mm,mm', 'mmx-move', (_b, a, c) => ({ bytes: mm([0x0f, 0x6f], a, c), text: `movq mm${a}, mm${c}` }));
mmxForm('movq mm/m64,mm (7f reg)', 'mmx-move', (_b, a, c) => ({ bytes: mm([0x0f, 0x7f], c, a), text: `movq mm${a}, mm${c} (0f 7f)` }));
mmxForm('movntq m64,mm', 'mmx-move', (_b, _a, c) => ({ bytes: op([0x0f, 0xe7], c, SLOT_R + 8), text: `movntq [R+8], mm${c}` }));
mmxForm('movd mm,r32 / movq mm,r64', 'mmx-move', (b, a) => {
  const rexW = b.rng.chance(0.5), r = b.freeReg();
  return { bytes: Array.from(encode({ opcode: [0x0f, 0x6e], rexW, modrm: { reg: a, rm: { kind: 'reg', num: r } } })), text: `mov${rexW ? 'q' : 'd'} mm${a}, ${gprName(r, rexW ? 64 : 32)}` };
});
mmxForm('movd r32,mm / movq r64,mm', 'mmx-move', (b, a) => {
  const rexW = b.rng.chance(0.5), r = b.freeReg();
  return { bytes: Array.from(encode({ opcode: [0x0f, 0x7e], rexW, modrm: { reg: a, rm: { kind: 'reg', num: r } } })), text: `mov${rexW ? 'q' : 'd'} ${gprName(r, rexW ? 64 : 32)}, mm${a}` };
});
mmxForm('pextrw r32,mm,imm8', 'mmx', (b, a) => {
  const r = b.freeReg(), n = b.rng.below(256);
  return { bytes: [...Array.from(encode({ opcode: [0x0f, 0xc5], modrm: { reg: r, rm: { kind: 'reg', num: a } } })), n], text: `pextrw ${gprName(r, 32)}, mm${a}, ${n}` };
});
mmxForm('pinsrw mm,r32,imm8', 'mmx', (b, a) => {
  const r = b.freeReg(), n = b.rng.below(256);
  return { bytes: [...Array.from(encode({ opcode: [0x0f, 0xc4], modrm: { reg: a, rm: { kind: 'reg', num: r } } })), n], text: `pinsrw mm${a}, ${gprName(r, 32)}, ${n}` };
});
mmxForm('pmovmskb r32,mm', 'mmx', (b, a) => {
  const r = b.freeReg();
  return { bytes: Array.from(encode({ opcode: [0x0f, 0xd7], modrm: { reg: r, rm: { kind: 'reg', num: a } } })), text: `pmovmskb ${gprName(r, 32)}, mm${a}` };
});
mmxForm('maskmovq mm,mm', 'mmx-move', (b, a, c) => {
  b.setReg(RDI, BigInt(SNIPPET_DATA_BASE + SLOT_R + 16));
  return { bytes: mm([0x0f, 0xf7], a, c), text: `maskmovq mm${a}, mm${c} (rdi = R+16)` };
}, { firstOnly: true });
mmxForm('movq2dq xmm,mm', 'mmx-move', (b, a) => {
  const x = b.rng.below(16);
  return { bytes: Array.from(encode({ prefixes: [0xf3], opcode: [0x0f, 0xd6], modrm: { reg: x, rm: { kind: 'reg', num: a } } })), text: `movq2dq xmm${x}, mm${a}` };
}, { sse: true, feature: 'sse2' });
mmxForm('movdq2q mm,xmm', 'mmx-move', (b, a) => {
  const x = b.rng.below(16);
  return { bytes: Array.from(encode({ prefixes: [0xf2], opcode: [0x0f, 0xd6], modrm: { reg: a, rm: { kind: 'reg', num: x } } })), text: `movdq2q mm${a}, xmm${x}` };
}, { sse: true, feature: 'sse2' });
mmxForm('cvtpi2ps xmm,mm', 'mmx-move', (b, a) => {
  const x = b.rng.below(16);
  return { bytes: mm([0x0f, 0x2a], x, a), text: `cvtpi2ps xmm${x}, mm${a}` };
}, { sse: true, feature: 'sse2' });

export const FPU_FORMS: readonly Form[] = forms;
