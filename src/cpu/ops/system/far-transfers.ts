// Far control transfers: JMP/CALL ptr16:16/32 and m16:16/32/64, RETF (to the same or an outer
// privilege level), IRET/IRETD/IRETQ in every mode. Everything is read and checked before any
// register changes, so a fault restarts the instruction cleanly.
// Not modelled: call gates and task gates/TSS targets (#GP(selector)), task returns through
// EFLAGS.NT and IRET to virtual-8086 mode (#GP(0)).

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { readRflags, writeRflags } from '../../interrupts.js';
import { defineOp } from '../../optable.js';
import {
  AC, AF, CF, CS, DF, EFER_LMA, GP, ID, IF, IOPL, NP, NT, OF, PF, RF, SF, SS, TF, TWO32, VIF, VIP, VM, ZF,
} from '../../regs.js';
import {
  ATTR_CODE, ATTR_CONFORMING, ATTR_DB, ATTR_L, ATTR_P, ATTR_S, ATTR_UNUSABLE, attrDpl, checkStackSelector, desc,
  descAttr, fetchDescriptor, installCs, installSs, isCanonical, joinLinear, linearHi, linearLo, loadSegmentReal,
  nullDataSegmentsAbove,
  ripOffset, updateMode,
} from '../../segmentation.js';
import { StackCursor } from './stack-cursor.js';

const stack = new StackCursor();

/** Saved CS descriptor while SS is checked (desc is shared scratch). */
const csDesc = { lo: 0, hi: 0, addr: 0 };

function saveCsDesc(): void {
  csDesc.lo = desc.lo; csDesc.hi = desc.hi; csDesc.addr = desc.addr;
}

function restoreCsDesc(): void {
  desc.lo = csDesc.lo; desc.hi = csDesc.hi; desc.addr = csDesc.addr;
}

/** Target offset checked against the new code segment (desc): linear RIP, or #GP(0). */
function targetRip(cpu: Cpu, offLo: number, offHi: number, size: number): number {
  const attr = descAttr(desc.hi);
  if ((cpu.efer & EFER_LMA) !== 0 && (attr & ATTR_L) !== 0) {
    const t = size === 8 ? joinLinear(offLo, offHi) : offLo >>> 0;
    if (!isCanonical(t)) cpu.fault(GP, 0);
    return t;
  }
  const off = size === 2 ? offLo & 0xffff : offLo >>> 0;
  const limit = (desc.lo & 0xffff) | (desc.hi & 0xf0000);
  const byteLimit = (desc.hi & 0x800000) !== 0 ? limit * 4096 + 0xfff : limit;
  if (off > byteLimit) cpu.fault(GP, 0);
  const base = ((desc.lo >>> 16) | ((desc.hi & 0xff) << 16) | (desc.hi & 0xff000000)) >>> 0;
  return (base + off) % TWO32;
}

/** Fetch and check a code-segment selector for a far JMP/CALL at the current CPL. */
function checkJumpTarget(cpu: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0) cpu.fault(GP, 0);
  if (!fetchDescriptor(cpu, sel)) cpu.fault(GP, sel & 0xfffc);
  const attr = descAttr(desc.hi);
  // system descriptors (call gates, TSS, task gates) are not supported as far targets
  if ((attr & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE)) cpu.fault(GP, sel & 0xfffc);
  const dpl = attrDpl(attr);
  if ((attr & ATTR_CONFORMING) !== 0) {
    if (dpl > cpu.cpl) cpu.fault(GP, sel & 0xfffc);
  } else if ((sel & 3) > cpu.cpl || dpl !== cpu.cpl) {
    cpu.fault(GP, sel & 0xfffc);
  }
  if ((attr & ATTR_P) === 0) cpu.fault(NP, sel & 0xfffc);
}

/** Far JMP (isCall false) or CALL to sel:offset; returnRip is the next instruction. */
export function farJump(cpu: Cpu, sel: number, offLo: number, offHi: number, size: number, isCall: boolean,
  returnRip: number): void {
  sel &= 0xffff;
  if (!cpu.protectedMode || (cpu.flags & VM) !== 0) {
    if (isCall) {
      const st = stack.fromCurrent(cpu, false);
      st.push(size, cpu.segSel[CS], 0);
      st.push(size, ripOffset(cpu, returnRip), 0);
      st.commit();
    }
    loadSegmentReal(cpu, CS, sel);
    cpu.rip = (cpu.segBase[CS] + (size === 2 ? offLo & 0xffff : offLo >>> 0)) % TWO32;
    updateMode(cpu);
    return;
  }
  checkJumpTarget(cpu, sel);
  const rip = targetRip(cpu, offLo, offHi, size);
  if (isCall) {
    const st = stack.fromCurrent(cpu, cpu.cpl === 3);
    const ret = ripOffset(cpu, returnRip);
    st.push(size, cpu.segSel[CS], 0);
    st.push(size, linearLo(ret), linearHi(ret));
    st.commit();
  }
  installCs(cpu, sel, cpu.cpl);
  updateMode(cpu);
  cpu.rip = rip;
}

function jmpFarDirect(cpu: Cpu, ins: Insn): void {
  farJump(cpu, ins.imm2, ins.imm, 0, ins.osize, false, ins.nextRip);
}

function callFarDirect(cpu: Cpu, ins: Insn): void {
  farJump(cpu, ins.imm2, ins.imm, 0, ins.osize, true, ins.nextRip);
}

/** m16:16 / m16:32 / m16:64 operand: offset then selector. */
function farIndirect(isCall: boolean) {
  return (cpu: Cpu, ins: Insn): void => {
    const a = ins.ea(cpu, ins);
    const size = ins.osize;
    const lo = cpu.readMem(size, a);
    const hi = size === 8 ? cpu.vhi : 0;
    const sel = cpu.read16(cpu.mode64 ? a + size : (a + size) % TWO32);
    farJump(cpu, sel, lo, hi, size, isCall, ins.nextRip);
  };
}

/** Check the code segment being returned to (RETF/IRET): returns its RPL (the new CPL). */
function checkReturnCs(cpu: Cpu, sel: number): number {
  if ((sel & 0xfffc) === 0) cpu.fault(GP, 0);
  if (!fetchDescriptor(cpu, sel)) cpu.fault(GP, sel & 0xfffc);
  const attr = descAttr(desc.hi);
  const rpl = sel & 3;
  if ((attr & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE) || rpl < cpu.cpl) cpu.fault(GP, sel & 0xfffc);
  const dpl = attrDpl(attr);
  if ((attr & ATTR_CONFORMING) !== 0 ? dpl > rpl : dpl !== rpl) cpu.fault(GP, sel & 0xfffc);
  if ((attr & ATTR_P) === 0) cpu.fault(NP, sel & 0xfffc);
  return rpl;
}

/**
 * Load SS for a return to CPL `rpl` (desc then holds SS). A null SS is allowed when returning
 * to 64-bit code below ring 3. Returns false when SS is to become null.
 */
function checkReturnSs(cpu: Cpu, ssSel: number, rpl: number, to64: boolean): boolean {
  if ((ssSel & 0xfffc) === 0 && to64 && rpl !== 3 && (ssSel & 3) === rpl) return false;
  checkStackSelector(cpu, ssSel, rpl, GP, 0);
  return true;
}

function installNullSs(cpu: Cpu, sel: number, cpl: number): void {
  cpu.segSel[SS] = sel & 0xffff;
  cpu.segBase[SS] = 0;
  cpu.segLimit[SS] = 0;
  cpu.segAttr[SS] = ATTR_UNUSABLE | (cpl << 5) | ATTR_DB | ATTR_P | ATTR_S | 3;
}

/** Common tail of RETF/IRET to protected mode: CS (in csDesc), optional outer SS:RSP. */
function returnTo(cpu: Cpu, csSel: number, ripLo: number, ripHi: number, size: number, st: StackCursor,
  popOuter: boolean, spAdjust: number): void {
  const rpl = checkReturnCs(cpu, csSel);
  saveCsDesc();
  const attr = descAttr(desc.hi);
  const to64 = (cpu.efer & EFER_LMA) !== 0 && (attr & ATTR_L) !== 0;
  const rip = targetRip(cpu, ripLo, ripHi, size);
  if (rpl === cpu.cpl && !popOuter) {
    st.sp = st.width === 8 ? st.sp + spAdjust : (st.sp + spAdjust) % (st.width === 4 ? TWO32 : 0x10000);
    installCs(cpu, csSel, rpl);
    st.commit();
    updateMode(cpu);
    cpu.rip = rip;
    return;
  }
  if (spAdjust !== 0) st.sp = st.width === 8 ? st.sp + spAdjust : (st.sp + spAdjust) % (st.width === 4 ? TWO32 : 0x10000);
  const spLo = st.pop(size);
  const spHi = size === 8 ? st.vhi : 0;
  const ssSel = st.pop(size) & 0xffff;
  const ssUsable = checkReturnSs(cpu, ssSel, rpl, to64);
  const oldCpl = cpu.cpl;
  if (ssUsable) installSs(cpu, ssSel);
  else installNullSs(cpu, ssSel, rpl);
  restoreCsDesc();
  installCs(cpu, csSel, rpl);
  updateMode(cpu);
  // the new stack pointer, with the RETF imm16 released on the new stack too
  const ssWidth = cpu.stackSize;
  let sp: number;
  if (ssWidth === 8) sp = (size === 8 ? joinLinear(spLo, spHi) : spLo >>> 0) + spAdjust;
  else sp = ((size === 2 ? spLo & 0xffff : spLo >>> 0) + spAdjust) % (ssWidth === 4 ? TWO32 : 0x10000);
  stack.init(cpu, cpu.segBase[SS], sp, ssWidth, rpl === 3).commit();
  if (rpl > oldCpl) nullDataSegmentsAbove(cpu, rpl);
  cpu.rip = rip;
}

function retFar(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  const imm = ins.imm;
  const st = stack.fromCurrent(cpu, cpu.cpl === 3);
  const ipLo = st.pop(size);
  const ipHi = size === 8 ? st.vhi : 0;
  const csSel = st.pop(size) & 0xffff;
  if (!cpu.protectedMode || (cpu.flags & VM) !== 0) {
    st.sp = (st.sp + imm) % (st.width === 4 ? TWO32 : 0x10000);
    st.commit();
    loadSegmentReal(cpu, CS, csSel);
    cpu.rip = (cpu.segBase[CS] + (size === 2 ? ipLo & 0xffff : ipLo >>> 0)) % TWO32;
    updateMode(cpu);
    return;
  }
  const outer = (csSel & 3) > cpu.cpl;
  returnTo(cpu, csSel, ipLo, ipHi, size, st, outer, imm);
}

/** EFLAGS an IRET may change, given the privilege it runs at. */
function iretFlags(cpu: Cpu, popped: number, size: number, cpl: number): number {
  const old = readRflags(cpu);
  let mask = CF | PF | AF | ZF | SF | TF | DF | OF | NT | RF | AC | ID;
  if (cpl <= (old & IOPL) >>> 12) mask |= IF;
  if (cpl === 0) mask |= IOPL | VIF | VIP;
  if (size === 2) mask &= 0xffff;
  return (old & ~mask) | (popped & mask);
}

function iret(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  const st = stack.fromCurrent(cpu, cpu.cpl === 3);
  if (!cpu.protectedMode) {
    const ip = st.pop(size);
    const cs = st.pop(size) & 0xffff;
    const fl = st.pop(size);
    const flags = iretFlags(cpu, fl, size, 0);
    st.commit();
    loadSegmentReal(cpu, CS, cs);
    cpu.rip = (cpu.segBase[CS] + (size === 2 ? ip & 0xffff : ip >>> 0)) % TWO32;
    writeRflags(cpu, flags);
    finishIret(cpu);
    return;
  }
  if ((cpu.flags & NT) !== 0 || (cpu.flags & VM) !== 0) cpu.fault(GP, 0); // task return / v8086: not modelled
  const ipLo = st.pop(size);
  const ipHi = size === 8 ? st.vhi : 0;
  const csSel = st.pop(size) & 0xffff;
  const fl = st.pop(size);
  if ((fl & VM) !== 0 && size !== 2 && cpu.cpl === 0 && (cpu.efer & EFER_LMA) === 0) cpu.fault(GP, 0);
  const oldCpl = cpu.cpl;
  const flags = iretFlags(cpu, fl, size, oldCpl) & ~VM;
  // 64-bit mode always pops SS:RSP; elsewhere only on a return to an outer level
  const outer = cpu.mode64 || (csSel & 3) > oldCpl;
  returnTo(cpu, csSel, ipLo, ipHi, size, st, outer, 0);
  writeRflags(cpu, flags);
  updateMode(cpu);
  finishIret(cpu);
}

function finishIret(cpu: Cpu): void {
  cpu.nmiBlocked = false; // IRET ends NMI blocking
  cpu.eventCheck = true; // IF may be set now
}

defineOp(MAP_1B, 0xea, { name: 'jmp far ptr', exec: jmpFarDirect, imm: 'Ap', ends: true, inv64: true });
defineOp(MAP_1B, 0x9a, { name: 'call far ptr', exec: callFarDirect, imm: 'Ap', ends: true, inv64: true });
defineOp(MAP_1B, 0xff, { name: 'call far m', exec: farIndirect(true), modrm: true, ends: true }, { reg: 3, mod: 'mem' });
defineOp(MAP_1B, 0xff, { name: 'jmp far m', exec: farIndirect(false), modrm: true, ends: true }, { reg: 5, mod: 'mem' });
defineOp(MAP_1B, 0xcb, { name: 'retf', exec: retFar, ends: true });
defineOp(MAP_1B, 0xca, { name: 'retf imm16', exec: retFar, imm: 'Iw', ends: true });
defineOp(MAP_1B, 0xcf, { name: 'iret', exec: iret, ends: true });
