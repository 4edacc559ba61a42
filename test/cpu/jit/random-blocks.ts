// Random straight-line blocks for the interpreter-vs-compiled oracle: encodings of the
// templated integer forms (all sizes, register and memory operands, the addressing forms of
// the code mode), mixed with instructions that use their routines (flag-only ops, rotates,
// division, bit tests) and ended by a random control transfer (or REP MOVS/STOS). Register values mix edge
// cases with pointers into the data window, so some accesses fault (unmapped, non-canonical)
// and both tiers must fault identically.

import type { Cpu } from '../../../src/cpu/cpu.js';
import { DATA, STACK_TOP, type Mode } from './harness.js';

export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  next(): number {
    let x = this.s;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number { return this.next() % n; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  chance(p: number): boolean { return this.next() / 4294967296 < p; }
}

const RSP = 4, RBX = 3, RSI = 6, RDI = 7, RCX = 1, R12 = 12, R15 = 15;

interface Rm { mem: boolean; reg: number; bytes: number[]; rexX: number; rexB: number; p67: boolean }

interface Enc {
  p66?: boolean;
  prefix?: number[];
  w?: boolean;
  opcode: number[];
  reg?: number;
  rm?: Rm;
  /** force a REX byte (SPL..DIL) */
  rex?: boolean;
  imm?: number[];
}

function le(v: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
  return out;
}

export class BlockGen {
  constructor(readonly rng: Rng, readonly mode: Mode) {}

  private encode(e: Enc): number[] {
    const out: number[] = [...(e.prefix ?? [])];
    if (e.p66) out.push(0x66);
    if (e.rm?.p67) out.push(0x67);
    const reg = e.reg ?? 0;
    if (this.mode === 64) {
      const rex = (e.w ? 8 : 0) | (reg >= 8 ? 4 : 0) | (e.rm ? e.rm.rexX << 1 : 0) | (e.rm ? e.rm.rexB : 0);
      if (rex || e.rex) out.push(0x40 | rex);
    }
    out.push(...e.opcode);
    if (e.rm) {
      out.push(((e.rm.bytes[0] & 0xc7) | ((reg & 7) << 3)));
      out.push(...e.rm.bytes.slice(1));
    }
    out.push(...(e.imm ?? []));
    return out;
  }

  /** a general register number valid in this mode */
  private anyReg(): number { return this.rng.int(this.mode === 64 ? 16 : 8); }
  /** a destination register (not the stack pointer) */
  private dstReg(): number {
    for (;;) { const r = this.anyReg(); if (r !== RSP) return r; }
  }

  private regRm(r: number): Rm {
    return { mem: false, reg: r, bytes: [0xc0 | (r & 7)], rexX: 0, rexB: r >> 3, p67: false };
  }

  private memRm(): Rm {
    const rng = this.rng;
    if (this.mode === 16) {
      const rm = rng.int(8);
      const mod = rm === 6 ? rng.pick([0, 1, 2]) : rng.pick([0, 1, 2]);
      const disp = mod === 1 ? [rng.int(256)] : mod === 2 || (mod === 0 && rm === 6) ? le(rng.int(0x8000), 2) : [];
      return { mem: true, reg: 0, bytes: [(mod << 6) | rm, ...disp], rexX: 0, rexB: 0, p67: false };
    }
    const p67 = this.mode === 64 && rng.chance(0.05);
    const kind = rng.int(10);
    if (kind < 5) { // [base + disp8/disp32]
      const base = rng.pick(this.mode === 64 ? [RBX, RSI, RDI, R12, 13, RSP, 5] : [RBX, RSI, RDI, RSP, 5]);
      const d32 = rng.chance(0.2);
      const mod = d32 ? 2 : 1;
      const disp = d32 ? le(rng.int(0x1000) - 0x800 >>> 0, 4) : [rng.int(256)];
      if ((base & 7) === RSP) return { mem: true, reg: 0, bytes: [(mod << 6) | 4, 0x24, ...disp], rexX: 0, rexB: base >> 3, p67 };
      return { mem: true, reg: 0, bytes: [(mod << 6) | (base & 7), ...disp], rexX: 0, rexB: base >> 3, p67 };
    }
    if (kind < 8) { // [base + index*scale + disp8]
      const base = rng.pick([RBX, RSI, RDI]);
      const index = rng.pick(this.mode === 64 ? [RCX, R15, 2, 9] : [RCX, 2]);
      const sib = (rng.int(4) << 6) | ((index & 7) << 3) | (base & 7);
      return { mem: true, reg: 0, bytes: [0x44, sib, rng.int(256)], rexX: index >> 3, rexB: base >> 3, p67 };
    }
    if (kind === 8 && this.mode === 64) { // RIP-relative into the code page
      return { mem: true, reg: 0, bytes: [0x05, ...le(rng.int(0x200), 4)], rexX: 0, rexB: 0, p67: false };
    }
    // absolute [disp32] (SIB without base or index in 64-bit mode)
    const addr = le(DATA + rng.int(0x8000), 4);
    if (this.mode === 64) return { mem: true, reg: 0, bytes: [0x04, 0x25, ...addr], rexX: 0, rexB: 0, p67 };
    return { mem: true, reg: 0, bytes: [0x05, ...addr], rexX: 0, rexB: 0, p67: false };
  }

  private rm(memChance = 0.4): Rm {
    return this.rng.chance(memChance) ? this.memRm() : this.regRm(this.dstReg());
  }

  /** operand size for a 'v' form: [66 prefix, REX.W] */
  private vsize(): { p66: boolean; w: boolean; size: number } {
    const sizes = this.mode === 64 ? [2, 4, 4, 8, 8, 8] : [2, 4, 4];
    const size = this.rng.pick(sizes);
    const def = this.mode === 16 ? 2 : 4;
    if (size === 8) return { p66: false, w: true, size };
    return { p66: size !== def, w: false, size };
  }

  private immBytes(size: number): number[] {
    const rng = this.rng;
    const v = rng.pick([0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, rng.next()]);
    return le(v, Math.min(size, 4));
  }

  /** one random instruction */
  instruction(): number[] {
    const rng = this.rng;
    const m64 = this.mode === 64;
    const k = rng.int(m64 ? 40 : 34);
    const v = this.vsize();
    switch (k) {
      case 0: case 1: case 2: case 3: { // ALU r/m, reg | reg, r/m (byte or v)
        const op = rng.int(8), dirToReg = rng.chance(0.5), byte = rng.chance(0.25);
        const opc = op * 8 + (dirToReg ? 2 : 0) + (byte ? 0 : 1);
        return this.encode({ p66: !byte && v.p66, w: !byte && v.w, opcode: [opc], reg: this.anyReg(), rm: this.rm(), rex: byte && m64 && rng.chance(0.3) });
      }
      case 4: case 5: { // ALU r/m, imm
        const op = rng.int(8), form = rng.pick(m64 ? [0x80, 0x81, 0x83] : [0x80, 0x81, 0x82, 0x83]);
        const imm = form === 0x81 ? this.immBytes(v.size === 2 ? 2 : 4) : this.immBytes(1);
        const byte = form === 0x80 || form === 0x82;
        return this.encode({ p66: !byte && v.p66, w: !byte && v.w, opcode: [form], reg: op, rm: this.rm(), imm });
      }
      case 6: { // ALU acc, imm
        const op = rng.int(8), byte = rng.chance(0.3);
        return this.encode({ p66: !byte && v.p66, w: !byte && v.w, opcode: [op * 8 + (byte ? 4 : 5)], imm: this.immBytes(byte ? 1 : v.size === 2 ? 2 : 4) });
      }
      case 7: { // TEST
        const f = rng.int(3), byte = rng.chance(0.3);
        if (f === 0) return this.encode({ p66: !byte && v.p66, w: !byte && v.w, opcode: [byte ? 0x84 : 0x85], reg: this.anyReg(), rm: this.rm() });
        if (f === 1) return this.encode({ p66: !byte && v.p66, w: !byte && v.w, opcode: [byte ? 0xa8 : 0xa9], imm: this.immBytes(byte ? 1 : v.size === 2 ? 2 : 4) });
        return this.encode({ p66: !byte && v.p66, w: !byte && v.w, opcode: [byte ? 0xf6 : 0xf7], reg: 0, rm: this.rm(), imm: this.immBytes(byte ? 1 : v.size === 2 ? 2 : 4) });
      }
      case 8: { // INC / DEC / NEG / NOT
        const byte = rng.chance(0.25);
        if (rng.chance(0.5)) return this.encode({ p66: !byte && v.p66, w: !byte && v.w, opcode: [byte ? 0xfe : 0xff], reg: rng.int(2), rm: this.rm() });
        return this.encode({ p66: !byte && v.p66, w: !byte && v.w, opcode: [byte ? 0xf6 : 0xf7], reg: 2 + rng.int(2), rm: this.rm() });
      }
      case 9: case 10: case 11: { // MOV r/m <-> reg
        const byte = rng.chance(0.25), toReg = rng.chance(0.5);
        const reg = toReg ? this.dstReg() : this.anyReg();
        return this.encode({ p66: !byte && v.p66, w: !byte && v.w, opcode: [(toReg ? 0x8a : 0x88) + (byte ? 0 : 1)], reg, rm: this.rm(), rex: byte && m64 && rng.chance(0.3) });
      }
      case 12: { // MOV imm
        const f = rng.int(3), r = this.dstReg();
        if (f === 0) {
          const bytes = this.encode({ opcode: [0xb0 + (r & 7)], imm: this.immBytes(1), rex: m64 && rng.chance(0.3) });
          return r >= 8 && m64 ? insertRexB(bytes, false) : bytes;
        }
        if (f === 1) {
          const imm = v.size === 8 ? [...this.immBytes(4), ...this.immBytes(4)] : this.immBytes(v.size);
          const bytes = this.encode({ p66: v.p66, w: v.w, opcode: [0xb8 + (r & 7)], imm });
          return r >= 8 && m64 ? insertRexB(bytes, v.p66) : bytes;
        }
        const byte = rng.chance(0.3);
        return this.encode({ p66: !byte && v.p66, w: !byte && v.w, opcode: [byte ? 0xc6 : 0xc7], reg: 0, rm: this.rm(), imm: this.immBytes(byte ? 1 : v.size === 2 ? 2 : 4) });
      }
      case 13: { // MOVZX / MOVSX / MOVSXD
        const opc = rng.pick([0xb6, 0xb7, 0xbe, 0xbf]);
        if (m64 && rng.chance(0.25)) return this.encode({ p66: v.p66, w: v.w, opcode: [0x63], reg: this.dstReg(), rm: this.rm() });
        const vv = v.size === 2 && (opc === 0xb7 || opc === 0xbf) ? { ...v, p66: false, size: 4 } : v;
        return this.encode({ p66: vv.p66, w: vv.w, opcode: [0x0f, opc], reg: this.dstReg(), rm: this.rm(), rex: m64 && rng.chance(0.2) });
      }
      case 14: case 15: { // LEA
        const rm = this.memRm();
        return this.encode({ p66: v.p66, w: v.w, opcode: [0x8d], reg: this.dstReg(), rm });
      }
      case 16: { // XCHG reg, reg / 90+r
        if (rng.chance(0.5)) {
          const byte = rng.chance(0.3);
          return this.encode({ p66: !byte && v.p66, w: !byte && v.w, opcode: [byte ? 0x86 : 0x87], reg: this.dstReg(), rm: this.regRm(this.dstReg()) });
        }
        const r = this.dstReg();
        const bytes = this.encode({ p66: v.p66, w: v.w, opcode: [0x90 + (r & 7)] });
        return r >= 8 && m64 ? insertRexB(bytes, v.p66) : bytes;
      }
      case 17: { // CMOVcc / SETcc
        if (rng.chance(0.5)) return this.encode({ p66: v.p66, w: v.w, opcode: [0x0f, 0x40 + rng.int(16)], reg: this.dstReg(), rm: this.rm() });
        return this.encode({ opcode: [0x0f, 0x90 + rng.int(16)], reg: 0, rm: this.rm(), rex: m64 && rng.chance(0.3) });
      }
      case 18: case 19: { // shifts and rotates
        const byte = rng.chance(0.25), f = rng.int(3);
        const opc = (f === 0 ? 0xc0 : f === 1 ? 0xd0 : 0xd2) + (byte ? 0 : 1);
        const imm = f === 0 ? [rng.pick([0, 1, 2, 7, 8, 15, 16, 31, 32, 33, 63, 64, rng.int(256)])] : [];
        return this.encode({ p66: !byte && v.p66, w: !byte && v.w, opcode: [opc], reg: rng.int(8), rm: this.rm(), imm });
      }
      case 20: { // IMUL 2/3 operands, MUL/IMUL
        const f = rng.int(4);
        if (f === 0) return this.encode({ p66: v.p66, w: v.w, opcode: [0x0f, 0xaf], reg: this.dstReg(), rm: this.rm() });
        if (f === 1) return this.encode({ p66: v.p66, w: v.w, opcode: [0x6b], reg: this.dstReg(), rm: this.rm(), imm: this.immBytes(1) });
        if (f === 2) return this.encode({ p66: v.p66, w: v.w, opcode: [0x69], reg: this.dstReg(), rm: this.rm(), imm: this.immBytes(v.size === 2 ? 2 : 4) });
        const byte = rng.chance(0.25);
        return this.encode({ p66: !byte && v.p66, w: !byte && v.w, opcode: [byte ? 0xf6 : 0xf7], reg: 4 + rng.int(2), rm: this.rm() });
      }
      case 21: // CBW / CWD family, CLD / STD
        return this.encode({ p66: v.p66, w: v.w, opcode: [rng.pick([0x98, 0x99, 0xfc, 0xfd])] });
      case 22: // flag-only routines: CLC STC CMC LAHF SAHF
        return [rng.pick([0xf8, 0xf9, 0xf5, 0x9f, 0x9e])];
      case 23: { // other routines: BT, BSWAP, DIV, SHLD, ADC via fallback forms, NOP forms
        const f = rng.int(5);
        if (f === 0) return this.encode({ p66: v.p66, w: v.w, opcode: [0x0f, 0xa3], reg: this.anyReg(), rm: this.rm(0.2) });
        if (f === 1) return this.encode({ w: v.w, opcode: [0x0f, 0xc8 + rng.int(8)] });
        if (f === 2) return this.encode({ p66: v.p66, w: v.w, opcode: [0xf7], reg: 6 + rng.int(2), rm: this.rm(0.2) });
        if (f === 3) return this.encode({ p66: v.p66, w: v.w, opcode: [0x0f, 0xa4], reg: this.anyReg(), rm: this.rm(0.2), imm: [rng.int(64)] });
        return rng.pick([[0x90], [0x0f, 0x1f, 0x00], [0x66, 0x90], [0xf3, 0x90]]);
      }
      case 24: case 25: case 26: case 27: case 28: case 29: case 30: case 31: case 32: case 33: {
        // ADD/SUB/CMP/AND reg, reg and small immediates are the common case: weight them
        const op = rng.pick([0, 5, 7, 4, 1, 6, 2, 3]);
        if (rng.chance(0.5)) return this.encode({ p66: v.p66, w: v.w, opcode: [op * 8 + 1], reg: this.anyReg(), rm: this.regRm(this.dstReg()) });
        if (!m64 && rng.chance(0.3)) return [0x40 + rng.int(16)]; // INC/DEC r (legacy modes)
        return this.encode({ p66: v.p66, w: v.w, opcode: [0x83], reg: op, rm: this.rm(0.3), imm: this.immBytes(1) });
      }
      default: { // 64-bit: PUSH / POP (balanced enough to stay in the stack window)
        const f = rng.int(5);
        if (f === 0) { const r = this.anyReg(); return r >= 8 ? [0x41, 0x50 + (r & 7)] : [0x50 + r]; }
        if (f === 1) { const r = this.dstReg(); return r >= 8 ? [0x41, 0x58 + (r & 7)] : [0x58 + r]; }
        if (f === 2) return rng.chance(0.5) ? [0x6a, rng.int(256)] : [0x68, ...this.immBytes(4)];
        if (f === 3) return this.encode({ opcode: [0xff], reg: 6, rm: this.rm() });
        return rng.chance(0.5) ? [0x41, 0x50 + rng.int(8)] : [0x5a];
      }
    }
  }

  /** a block-ending control transfer (or none) */
  terminator(): number[] {
    const rng = this.rng;
    switch (rng.int(10)) {
      case 0: case 1: case 2: return [0x70 + rng.int(16), rng.int(256)];
      case 3: return [0x0f, 0x80 + rng.int(16), ...le(rng.int(0x1000), 4)];
      case 4: return [0xeb, rng.int(256)];
      case 5: return [0xe8, ...le(rng.int(0x100), 4)];
      case 6: return rng.chance(0.5) ? [0xc3] : [0xc2, rng.int(64), 0];
      case 7: return this.encode({ opcode: [0xff], reg: rng.pick([2, 4]), rm: this.rm(0.5) });
      case 8: { // REP MOVS / STOS (F2 repeats them the same way); rCX as seeded, often small
        const v = this.vsize(), opc = rng.pick([0xa4, 0xa5, 0xaa, 0xab]);
        return this.encode({ prefix: [rng.chance(0.8) ? 0xf3 : 0xf2], p66: opc & 1 ? v.p66 : false, w: opc & 1 ? v.w : false, opcode: [opc] });
      }
      default: return [];
    }
  }

  block(count: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(...this.instruction());
    out.push(...this.terminator());
    return out;
  }

  /** random registers, flags and data for a case */
  seedState(cpu: Cpu): void {
    const rng = this.rng;
    const interesting = [0, 1, -1, 0x7fffffff, -0x80000000, 0x80, 0xff, 0x7fff, 0x8000, 0xffff];
    for (let r = 0; r < 16; r++) {
      cpu.lo[r] = rng.chance(0.5) ? rng.pick(interesting) : rng.next() | 0;
      cpu.hi[r] = rng.chance(0.5) ? rng.pick([0, -1, 0, 1]) : rng.next() | 0;
    }
    const ptr = (r: number): void => {
      if (this.mode === 16) { cpu.lo[r] = rng.int(0x8000); cpu.hi[r] = 0; return; }
      cpu.lo[r] = DATA + rng.int(0x8000); cpu.hi[r] = rng.chance(0.03) ? rng.pick([1, 0x8000, -1]) : 0;
    };
    for (const r of [RBX, RSI, RDI, R12, 13, 5]) if (rng.chance(0.9)) ptr(r);
    for (const r of [RCX, R15, 2, 9]) if (rng.chance(0.8)) { cpu.lo[r] = rng.int(64); cpu.hi[r] = 0; }
    cpu.lo[RSP] = (this.mode === 16 ? 0x9000 : STACK_TOP) - 8 * rng.int(32);
    cpu.hi[RSP] = 0;
    if (this.mode !== 64) for (let r = 0; r < 8; r++) cpu.hi[r] = 0;
    cpu.flags = (cpu.flags & ~0xcd5) | (rng.next() & 0xcd5) | 2;
    for (let a = DATA; a < DATA + 0x10000; a += 4) cpu.i32[a >> 2] = rng.next() | 0;
  }
}

/** put REX.B (0x41, or 0x49 with W) before the opcode of an opcode-register form */
function insertRexB(bytes: number[], p66: boolean): number[] {
  const at = p66 ? 1 : 0;
  if ((bytes[at] & 0xf0) === 0x40) { const b = bytes.slice(); b[at] |= 1; return b; }
  return [...bytes.slice(0, at), 0x41, ...bytes.slice(at)];
}

