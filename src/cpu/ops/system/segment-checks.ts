// Segment inspection: LAR, LSL, VERR, VERW (ZF reports success; nothing faults on a bad
// selector), and ARPL (32-bit modes only; in 64-bit mode opcode 63 is MOVSXD).

import type { Cpu } from '../../cpu.js';
import { materialize } from '../../flags.js';
import type { Insn } from '../../insn.js';
import { MAP_0F, MAP_1B } from '../../insn.js';
import { defineOp, opTable } from '../../optable.js';
import { EFER_LMA, ZF } from '../../regs.js';
import {
  ATTR_CODE, ATTR_CONFORMING, ATTR_RW, ATTR_S, attrDpl, desc, descAttr, descLimit, fetchDescriptor,
} from '../../segmentation.js';
import { requireProtected } from './privilege.js';

function setZf(cpu: Cpu, on: boolean): void {
  materialize(cpu);
  if (on) cpu.flags |= ZF;
  else cpu.flags &= ~ZF;
}

// System types visible to LAR / LSL (legacy and long mode).
const LAR_LEGACY = new Set([1, 2, 3, 4, 5, 9, 0xb, 0xc]);
const LSL_LEGACY = new Set([1, 2, 3, 9, 0xb]);
const LAR_LONG = new Set([2, 9, 0xb, 0xc]);
const LSL_LONG = new Set([2, 9, 0xb]);

/**
 * LAR / LSL: read the selector operand, fetch its descriptor into `desc` and apply the
 * visibility rules; false (ZF cleared, destination untouched) when the instruction may not see it.
 */
function selectorVisible(cpu: Cpu, ins: Insn, forLimit: boolean): boolean {
  requireProtected(cpu);
  const sel = cpu.readRm16(ins);
  const ok = visible(cpu, sel, forLimit);
  if (!ok) setZf(cpu, false);
  return ok;
}

function visible(cpu: Cpu, sel: number, forLimit: boolean): boolean {
  if ((sel & 0xfffc) === 0 || !fetchDescriptor(cpu, sel)) return false;
  const attr = descAttr(desc.hi);
  if ((attr & ATTR_S) === 0) {
    const lma = (cpu.efer & EFER_LMA) !== 0;
    const ok = forLimit ? (lma ? LSL_LONG : LSL_LEGACY) : (lma ? LAR_LONG : LAR_LEGACY);
    if (!ok.has(attr & 0xf)) return false;
  } else if ((attr & (ATTR_CODE | ATTR_CONFORMING)) === (ATTR_CODE | ATTR_CONFORMING)) {
    return true; // conforming code: no privilege check
  }
  const dpl = attrDpl(attr);
  return dpl >= cpu.cpl && dpl >= (sel & 3);
}

function lar(cpu: Cpu, ins: Insn): void {
  if (!selectorVisible(cpu, ins, false)) return;
  const size = ins.osize;
  // the SDM masks with 00FxFF00H (bits 19:16, the limit's top, "undefined"); Intel and AMD
  // processors return them, and so do we (the ISA oracle compares against the host)
  const v = size === 2 ? desc.hi & 0xff00 : desc.hi & 0x00ffff00;
  cpu.writeReg(size, ins.reg, ins.rex, v, 0);
  setZf(cpu, true);
}

function lsl(cpu: Cpu, ins: Insn): void {
  if (!selectorVisible(cpu, ins, true)) return;
  const limit = descLimit(desc.lo, desc.hi);
  cpu.writeReg(ins.osize, ins.reg, ins.rex, ins.osize === 2 ? limit & 0xffff : limit | 0, 0);
  setZf(cpu, true);
}

function verify(write: boolean) {
  return (cpu: Cpu, ins: Insn): void => {
    requireProtected(cpu);
    const sel = cpu.readRm16(ins);
    if ((sel & 0xfffc) === 0 || !fetchDescriptor(cpu, sel)) {
      setZf(cpu, false);
      return;
    }
    const attr = descAttr(desc.hi);
    let ok = (attr & ATTR_S) !== 0;
    if (ok) {
      const code = (attr & ATTR_CODE) !== 0;
      if (write) ok = !code && (attr & ATTR_RW) !== 0;
      else ok = !code || (attr & ATTR_RW) !== 0;
      const conforming = code && (attr & ATTR_CONFORMING) !== 0;
      if (ok && !conforming) {
        const dpl = attrDpl(attr);
        ok = dpl >= cpu.cpl && dpl >= (sel & 3);
      }
    }
    setZf(cpu, ok);
  };
}

function arpl(cpu: Cpu, ins: Insn): void {
  requireProtected(cpu);
  const a = ins.hasMem ? ins.ea(cpu, ins) : 0;
  const dst = ins.hasMem ? cpu.read16(a) : cpu.lo[ins.rm] & 0xffff;
  const src = cpu.lo[ins.reg] & 0xffff;
  if ((dst & 3) < (src & 3)) {
    const v = (dst & ~3) | (src & 3);
    if (ins.hasMem) cpu.write16(a, v);
    else cpu.writeReg(2, ins.rm, ins.rex, v, 0);
    setZf(cpu, true);
  } else {
    setZf(cpu, false);
  }
}

/** ARPL shares opcode 63 with MOVSXD (64-bit only); its exec is exported for that form's owner. */
export const execArpl = arpl;

defineOp(MAP_0F, 0x02, { name: 'lar', exec: lar, modrm: true });
defineOp(MAP_0F, 0x03, { name: 'lsl', exec: lsl, modrm: true });
defineOp(MAP_0F, 0x00, { name: 'verr', exec: verify(false), modrm: true }, { reg: 4 });
defineOp(MAP_0F, 0x00, { name: 'verw', exec: verify(true), modrm: true }, { reg: 5 });
if (opTable[MAP_1B * 256 + 0x63].length === 0) {
  defineOp(MAP_1B, 0x63, { name: 'arpl', exec: arpl, modrm: true, size: 'w', inv64: true });
}
