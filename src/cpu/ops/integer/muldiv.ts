// Multiplication and division: MUL/IMUL (one operand, F6/F7 /4 /5), IMUL with two (0F AF)
// and three operands (69, 6B), DIV/IDIV (F6/F7 /6 /7). Products are formed exactly from
// 16-bit pieces (no BigInt on the multiply path); division of a 64- or 128-bit dividend
// uses BigInt, since it is rare and must be exact. #DE on a zero divisor or a quotient that
// does not fit.

import type { Cpu } from '../../cpu.js';
import { setResultFlags } from '../../flags.js';
import type { Insn } from '../../insn.js';
import { MAP_0F, MAP_1B } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { DE, TWO32 } from '../../regs.js';
import { mulHiS32, mulHiU32, mulS64, mulU64, prod } from '../../exact-multiply.js';
import { set16 } from './operands.js';

// ------------------------------------------------------------------ one-operand MUL / IMUL

function mul1(cpu: Cpu, ins: Insn, signed: boolean): void {
  const size = ins.osize;
  const b = cpu.readRm(ins), bh = cpu.vhi;
  switch (size) {
    case 1: {
      const a = cpu.lo[0] & 0xff;
      const p = signed ? ((a << 24) >> 24) * ((b << 24) >> 24) : a * b;
      set16(cpu, 0, p);
      const of = signed ? p !== ((p << 24) >> 24) : (p & 0xff00) !== 0;
      setResultFlags(cpu, 1, p, 0, of ? 1 : 0, of ? 1 : 0);
      return;
    }
    case 2: {
      const a = cpu.lo[0] & 0xffff;
      const p = signed ? ((a << 16) >> 16) * ((b << 16) >> 16) : a * b;
      set16(cpu, 0, p);
      set16(cpu, 2, p >> 16);
      const of = signed ? p !== ((p << 16) >> 16) : (p & 0xffff0000) !== 0;
      setResultFlags(cpu, 2, p, 0, of ? 1 : 0, of ? 1 : 0);
      return;
    }
    case 4: {
      const a = cpu.lo[0];
      const lo = Math.imul(a, b), hi = signed ? mulHiS32(a, b) : mulHiU32(a, b);
      cpu.lo[0] = lo; cpu.hi[0] = 0;
      cpu.lo[2] = hi; cpu.hi[2] = 0;
      const of = signed ? hi !== lo >> 31 : hi !== 0;
      setResultFlags(cpu, 4, lo, 0, of ? 1 : 0, of ? 1 : 0);
      return;
    }
    default: {
      if (signed) mulS64(cpu.lo[0], cpu.hi[0], b, bh); else mulU64(cpu.lo[0], cpu.hi[0], b, bh);
      cpu.lo[0] = prod[0]; cpu.hi[0] = prod[1];
      cpu.lo[2] = prod[2]; cpu.hi[2] = prod[3];
      const ext = signed ? prod[1] >> 31 : 0;
      const of = prod[2] !== ext || prod[3] !== ext;
      setResultFlags(cpu, 8, prod[0], prod[1], of ? 1 : 0, of ? 1 : 0);
    }
  }
}

// ------------------------------------------------------------------ IMUL with 2 and 3 operands

/** dest(reg) = a * b truncated to the operand size; CF = OF = the signed product did not fit */
function imulTrunc(cpu: Cpu, ins: Insn, al: number, ah: number, bl: number, bh: number): void {
  const size = ins.osize;
  let lo: number, hi = 0, of: boolean;
  if (size === 2) {
    const p = ((al << 16) >> 16) * ((bl << 16) >> 16);
    lo = p; of = p !== ((p << 16) >> 16);
    set16(cpu, ins.reg, p);
  } else if (size === 4) {
    lo = Math.imul(al, bl); of = mulHiS32(al, bl) !== lo >> 31;
    cpu.lo[ins.reg] = lo; cpu.hi[ins.reg] = 0;
  } else {
    mulS64(al, ah, bl, bh);
    lo = prod[0]; hi = prod[1];
    const ext = hi >> 31;
    of = prod[2] !== ext || prod[3] !== ext;
    cpu.lo[ins.reg] = lo; cpu.hi[ins.reg] = hi;
  }
  setResultFlags(cpu, size, lo, hi, of ? 1 : 0, of ? 1 : 0);
}

/** 0F AF: IMUL reg, r/m */
function imul2(cpu: Cpu, ins: Insn): void {
  const b = cpu.readRm(ins), bh = cpu.vhi;
  imulTrunc(cpu, ins, cpu.lo[ins.reg], cpu.hi[ins.reg], b, bh);
}

/** 69 / 6B: IMUL reg, r/m, imm */
function imul3(cpu: Cpu, ins: Insn): void {
  const a = cpu.readRm(ins), ah = cpu.vhi;
  imulTrunc(cpu, ins, a, ah, ins.imm, ins.immHi);
}

// ------------------------------------------------------------------ DIV / IDIV

function div1(cpu: Cpu, ins: Insn, signed: boolean): void {
  const size = ins.osize;
  const d = cpu.readRm(ins), dh = cpu.vhi;
  switch (size) {
    case 1: {
      const n = cpu.lo[0] & 0xffff;
      if ((d & 0xff) === 0) cpu.fault(DE);
      if (!signed) {
        const qq = Math.floor(n / d);
        if (qq > 0xff) cpu.fault(DE);
        set16(cpu, 0, qq | ((n - qq * d) << 8));
      } else {
        const sn = (n << 16) >> 16, sd = (d << 24) >> 24;
        const qq = Math.trunc(sn / sd);
        if (qq > 127 || qq < -128) cpu.fault(DE);
        set16(cpu, 0, (qq & 0xff) | (((sn - qq * sd) & 0xff) << 8));
      }
      return;
    }
    case 2: {
      if ((d & 0xffff) === 0) cpu.fault(DE);
      const n = (cpu.lo[2] & 0xffff) * 65536 + (cpu.lo[0] & 0xffff);
      if (!signed) {
        const qq = Math.floor(n / d);
        if (qq > 0xffff) cpu.fault(DE);
        set16(cpu, 0, qq); set16(cpu, 2, n - qq * d);
      } else {
        const sn = n | 0, sd = (d << 16) >> 16;
        const qq = Math.trunc(sn / sd);
        if (qq > 32767 || qq < -32768) cpu.fault(DE);
        set16(cpu, 0, qq); set16(cpu, 2, sn - qq * sd);
      }
      return;
    }
    case 4: {
      if (d === 0) cpu.fault(DE);
      const nh = cpu.lo[2], nl = cpu.lo[0];
      let qq: number, rr: number;
      if (!signed && nh === 0) {
        const n = nl >>> 0, dd = d >>> 0;
        qq = Math.floor(n / dd); rr = n - qq * dd;
      } else if (signed && nh === nl >> 31) {
        qq = Math.trunc(nl / d); rr = nl - qq * d;
        if (qq > 0x7fffffff) cpu.fault(DE); // -2^31 / -1
      } else {
        const n = (BigInt(nh) << 32n) | BigInt(nl >>> 0);
        const nn = signed ? BigInt.asIntN(64, n) : BigInt.asUintN(64, n);
        const dd = signed ? BigInt(d) : BigInt(d >>> 0);
        const bq = nn / dd;
        if (signed ? bq > 0x7fffffffn || bq < -0x80000000n : bq > 0xffffffffn) cpu.fault(DE);
        qq = Number(bq); rr = Number(nn - bq * dd);
      }
      cpu.lo[0] = qq | 0; cpu.hi[0] = 0;
      cpu.lo[2] = rr | 0; cpu.hi[2] = 0;
      return;
    }
    default: {
      if (d === 0 && dh === 0) cpu.fault(DE);
      if (!signed && cpu.lo[2] === 0 && cpu.hi[2] === 0 && (cpu.hi[0] >>> 21) === 0 && (dh >>> 21) === 0) {
        // both below 2^53: exact in doubles
        const n = cpu.hi[0] * TWO32 + (cpu.lo[0] >>> 0), dd = dh * TWO32 + (d >>> 0);
        const qq = Math.floor(n / dd), rr = n - qq * dd;
        cpu.lo[0] = qq | 0; cpu.hi[0] = Math.floor(qq / TWO32);
        cpu.lo[2] = rr | 0; cpu.hi[2] = Math.floor(rr / TWO32);
        return;
      }
      const n = (BigInt(cpu.hi[2] >>> 0) << 96n) | (BigInt(cpu.lo[2] >>> 0) << 64n) |
        (BigInt(cpu.hi[0] >>> 0) << 32n) | BigInt(cpu.lo[0] >>> 0);
      const dv = (BigInt(dh >>> 0) << 32n) | BigInt(d >>> 0);
      const nn = signed ? BigInt.asIntN(128, n) : n;
      const dd = signed ? BigInt.asIntN(64, dv) : dv;
      const bq = nn / dd;
      if (signed ? bq > 0x7fffffffffffffffn || bq < -0x8000000000000000n : bq > 0xffffffffffffffffn) cpu.fault(DE);
      const br = nn - bq * dd;
      cpu.lo[0] = Number(BigInt.asIntN(32, bq)); cpu.hi[0] = Number(BigInt.asIntN(32, bq >> 32n));
      cpu.lo[2] = Number(BigInt.asIntN(32, br)); cpu.hi[2] = Number(BigInt.asIntN(32, br >> 32n));
    }
  }
}

// ------------------------------------------------------------------ registration

defineOp(MAP_1B, 0xf6, { name: 'mul', exec: (cpu, ins) => mul1(cpu, ins, false), modrm: true, size: 'b' }, { reg: 4 });
defineOp(MAP_1B, 0xf7, { name: 'mul', exec: (cpu, ins) => mul1(cpu, ins, false), modrm: true, size: 'v' }, { reg: 4 });
defineOp(MAP_1B, 0xf6, { name: 'imul', exec: (cpu, ins) => mul1(cpu, ins, true), modrm: true, size: 'b' }, { reg: 5 });
defineOp(MAP_1B, 0xf7, { name: 'imul', exec: (cpu, ins) => mul1(cpu, ins, true), modrm: true, size: 'v' }, { reg: 5 });
defineOp(MAP_1B, 0xf6, { name: 'div', exec: (cpu, ins) => div1(cpu, ins, false), modrm: true, size: 'b' }, { reg: 6 });
defineOp(MAP_1B, 0xf7, { name: 'div', exec: (cpu, ins) => div1(cpu, ins, false), modrm: true, size: 'v' }, { reg: 6 });
defineOp(MAP_1B, 0xf6, { name: 'idiv', exec: (cpu, ins) => div1(cpu, ins, true), modrm: true, size: 'b' }, { reg: 7 });
defineOp(MAP_1B, 0xf7, { name: 'idiv', exec: (cpu, ins) => div1(cpu, ins, true), modrm: true, size: 'v' }, { reg: 7 });
defineOp(MAP_0F, 0xaf, { name: 'imul', exec: imul2, modrm: true, size: 'v' });
defineOp(MAP_1B, 0x69, { name: 'imul', exec: imul3, modrm: true, imm: 'Iz', size: 'v' });
defineOp(MAP_1B, 0x6b, { name: 'imul', exec: imul3, modrm: true, imm: 'Ib', size: 'v' });

