// Decimal-arithmetic adjustments and the other legacy-only integer instructions (all #UD in
// 64-bit mode): DAA DAS AAA AAS AAM AAD, SALC (undocumented: AL = CF ? 0xFF : 0) and BOUND.

import type { Cpu } from '../../cpu.js';
import { arithFlags, materialize, setResultFlags } from '../../flags.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { AF, BR, CF, DE } from '../../regs.js';
import { set16, set8 } from './operands.js';

/** Set SF ZF PF from an 8-bit result with explicit CF and AF (OF: as given). */
function resultFlags(cpu: Cpu, al: number, cf: boolean, af: boolean, of = 0): void {
  setResultFlags(cpu, 1, al, 0, cf ? 1 : 0, of, af ? 1 : 0);
}

function daa(cpu: Cpu): void {
  const f = arithFlags(cpu);
  const old = cpu.lo[0] & 0xff;
  const oldCf = (f & CF) !== 0;
  let al = old, cf = false, af = false;
  if ((al & 0x0f) > 9 || (f & AF) !== 0) { al = (al + 6) & 0xff; af = true; cf = oldCf || old > 0xf9; }
  if (old > 0x99 || oldCf) { al = (al + 0x60) & 0xff; cf = true; }
  set8(cpu, 0, 1, al);
  // OF is undefined: hardware reports the signed overflow of the adjustment
  resultFlags(cpu, al, cf, af, (~old & al & 0x80) !== 0 ? 1 : 0);
}

function das(cpu: Cpu): void {
  const f = arithFlags(cpu);
  const old = cpu.lo[0] & 0xff;
  const oldCf = (f & CF) !== 0;
  let al = old, cf = false, af = false;
  if ((al & 0x0f) > 9 || (f & AF) !== 0) { al = (al - 6) & 0xff; af = true; cf = oldCf || old < 6; }
  if (old > 0x99 || oldCf) { al = (al - 0x60) & 0xff; cf = true; }
  set8(cpu, 0, 1, al);
  resultFlags(cpu, al, cf, af, (old & ~al & 0x80) !== 0 ? 1 : 0);
}

/** AAA / AAS: adjust AL after an unpacked-BCD add/subtract, carrying into AH */
function asciiAdjust(cpu: Cpu, sub: boolean): void {
  const f = arithFlags(cpu);
  let ax = cpu.lo[0] & 0xffff;
  const adjust = (ax & 0x0f) > 9 || (f & AF) !== 0;
  if (adjust) ax = sub ? (ax - 6) - 0x100 : ax + 0x106;
  set16(cpu, 0, ax & 0xff0f);
  materialize(cpu);
  cpu.flags = (cpu.flags & ~(CF | AF)) | (adjust ? CF | AF : 0);
}

/** AAM imm8: AH = AL / imm, AL = AL % imm (#DE for 0) */
function aam(cpu: Cpu, ins: Insn): void {
  const base = ins.imm & 0xff;
  if (base === 0) cpu.fault(DE);
  const al = cpu.lo[0] & 0xff;
  const r = al % base;
  set16(cpu, 0, (Math.floor(al / base) << 8) | r);
  setResultFlags(cpu, 1, r, 0, 0, 0, 0);
}

/** AAD imm8: AL = AH * imm + AL, AH = 0 */
function aad(cpu: Cpu, ins: Insn): void {
  const base = ins.imm & 0xff;
  const al = cpu.lo[0] & 0xff, ah = (cpu.lo[0] >> 8) & 0xff;
  const r = (ah * base + al) & 0xff;
  set16(cpu, 0, r);
  setResultFlags(cpu, 1, r, 0, 0, 0, 0);
}

function salc(cpu: Cpu): void {
  set8(cpu, 0, 1, (arithFlags(cpu) & CF) !== 0 ? 0xff : 0);
}

/** BOUND r, m16&16 / m32&32: #BR unless lower <= r <= upper (signed) */
function bound(cpu: Cpu, ins: Insn): void {
  const lin = ins.ea(cpu, ins);
  const size = ins.osize;
  let v: number, lower: number, upper: number;
  if (size === 2) {
    v = (cpu.lo[ins.reg] << 16) >> 16;
    lower = (cpu.read16(lin) << 16) >> 16;
    upper = (cpu.read16(lin + 2) << 16) >> 16;
  } else {
    v = cpu.lo[ins.reg];
    lower = cpu.read32(lin);
    upper = cpu.read32(lin + 4);
  }
  if (v < lower || v > upper) cpu.fault(BR);
}

defineOp(MAP_1B, 0x27, { name: 'daa', exec: daa, size: 'b', inv64: true });
defineOp(MAP_1B, 0x2f, { name: 'das', exec: das, size: 'b', inv64: true });
defineOp(MAP_1B, 0x37, { name: 'aaa', exec: (cpu) => asciiAdjust(cpu, false), size: 'b', inv64: true });
defineOp(MAP_1B, 0x3f, { name: 'aas', exec: (cpu) => asciiAdjust(cpu, true), size: 'b', inv64: true });
defineOp(MAP_1B, 0xd4, { name: 'aam', exec: aam, imm: 'Ibu', size: 'b', inv64: true });
defineOp(MAP_1B, 0xd5, { name: 'aad', exec: aad, imm: 'Ibu', size: 'b', inv64: true });
defineOp(MAP_1B, 0xd6, { name: 'salc', exec: salc, size: 'b', inv64: true });
defineOp(MAP_1B, 0x62, { name: 'bound', exec: bound, modrm: true, size: 'v', inv64: true }, { mod: 'mem' });

