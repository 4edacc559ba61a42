// Far control transfers: JMP/CALL ptr16:16/32 and m16:16/32/64, RETF (to the same or an outer
// privilege level), IRET/IRETD/IRETQ in every mode. Everything is read and checked before any
// register changes, so a fault restarts the instruction cleanly.
// Call gates (16/32-bit, and 16-byte 64-bit gates in long mode) are followed by far CALL and
// JMP, CALL switching to the inner stack from the TSS and copying the gate's parameters.
// Not modelled: task gates/TSS targets (#GP(selector)), task returns through EFLAGS.NT and
// IRET to virtual-8086 mode (#GP(0)).

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { readRflags, tssRead, writeRflags } from '../../interrupts.js';
import { defineOp } from '../../optable.js';
import {
  AC, AF, CF, CS, DF, EFER_LMA, GP, ID, IF, IOPL, NP, NT, OF, PF, RF, RSP, SF, SS, TF, TR, TS, TWO32, VIF, VIP, VM,
  ZF,
} from '../../regs.js';
import {
  ATTR_CODE, ATTR_CONFORMING, ATTR_DB, ATTR_L, ATTR_P, ATTR_S, ATTR_UNUSABLE, attrDpl, checkStackSelector, desc,
  descAttr, descBase, fetchDescriptor, fetchDescriptorHigh, installCs, installSs, isCanonical, joinLinear, linearHi, linearLo, loadSegmentReal,
  nullDataSegmentsAbove, ripOffset, SYS_CALL, SYS_CALL16, updateMode,
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

/**
 * Fetch and check the selector of a far JMP/CALL at the current CPL. Returns true when it
 * names a call gate (left in `desc`); a code segment is checked for direct transfer.
 */
function checkJumpTarget(cpu: Cpu, sel: number): boolean {
  if ((sel & 0xfffc) === 0) cpu.fault(GP, 0);
  if (!fetchDescriptor(cpu, sel)) cpu.fault(GP, sel & 0xfffc);
  const attr = descAttr(desc.hi);
  if ((attr & ATTR_S) === 0) {
    const type = attr & 0xf;
    if (type === SYS_CALL || (type === SYS_CALL16 && (cpu.efer & EFER_LMA) === 0)) return true;
    cpu.fault(GP, sel & 0xfffc); // TSS and task gates: task switches are not modelled
  }
  if ((attr & ATTR_CODE) === 0) cpu.fault(GP, sel & 0xfffc);
  const dpl = attrDpl(attr);
  if ((attr & ATTR_CONFORMING) !== 0) {
    if (dpl > cpu.cpl) cpu.fault(GP, sel & 0xfffc);
  } else if ((sel & 3) > cpu.cpl || dpl !== cpu.cpl) {
    cpu.fault(GP, sel & 0xfffc);
  }
  if ((attr & ATTR_P) === 0) cpu.fault(NP, sel & 0xfffc);
  return false;
}

/** Far CALL/JMP through the call gate in `desc` (selected by gateSel). */
function throughCallGate(cpu: Cpu, gateSel: number, isCall: boolean, returnRip: number): void {
  const lma = (cpu.efer & EFER_LMA) !== 0;
  const gLo = desc.lo, gHi = desc.hi;
  const gateDpl = (gHi >>> 13) & 3;
  if (gateDpl < cpu.cpl || gateDpl < (gateSel & 3)) cpu.fault(GP, gateSel & 0xfffc);
  if ((gHi & 0x8000) === 0) cpu.fault(NP, gateSel & 0xfffc);
  const is32 = ((gHi >>> 8) & 0xf) === SYS_CALL;
  const size = lma ? 8 : is32 ? 4 : 2;
  const offLo = is32 || lma ? (gLo & 0xffff) | (gHi & 0xffff0000) : gLo & 0xffff;
  const offHi = lma ? fetchDescriptorHigh(cpu, gateSel) : 0;
  const params = lma ? 0 : gHi & 0x1f;
  const csSel = gLo >>> 16;
  if ((csSel & 0xfffc) === 0) cpu.fault(GP, 0);
  if (!fetchDescriptor(cpu, csSel)) cpu.fault(GP, csSel & 0xfffc);
  const attr = descAttr(desc.hi);
  const dpl = attrDpl(attr);
  if ((attr & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE) || dpl > cpu.cpl) cpu.fault(GP, csSel & 0xfffc);
  if (lma && ((attr & ATTR_L) === 0 || (attr & ATTR_DB) !== 0)) cpu.fault(GP, csSel & 0xfffc);
  if ((attr & ATTR_P) === 0) cpu.fault(NP, csSel & 0xfffc);
  const conforming = (attr & ATTR_CONFORMING) !== 0;
  if (!isCall && !conforming && dpl !== cpu.cpl) cpu.fault(GP, csSel & 0xfffc);
  const rip = targetRip(cpu, offLo, offHi, size);
  saveCsDesc();
  const oldCs = cpu.segSel[CS];
  const ret = ripOffset(cpu, returnRip);
  if (isCall && !conforming && dpl < cpu.cpl) {
    // inner privilege: the new stack comes from the TSS; parameters are copied across
    const oldSs = cpu.segSel[SS];
    const oldSp = cpu.stackSize === 8 ? joinLinear(cpu.lo[RSP], cpu.hi[RSP]) : cpu.lo[RSP] >>> 0;
    const copied: number[] = [];
    if (params > 0) {
      const from = stack.fromCurrent(cpu, cpu.cpl === 3);
      for (let i = 0; i < params; i++) copied.push(from.pop(size));
    }
    const st = new StackCursor();
    let ssSel = 0;
    if (lma) {
      st.init(cpu, 0, tssRead(cpu, 4 + dpl * 8, 8, 0), 8, false);
    } else {
      const tss32 = (cpu.segAttr[TR] & 8) !== 0;
      const sp = tss32 ? tssRead(cpu, 4 + dpl * 8, 4, 0) : tssRead(cpu, 2 + dpl * 4, 2, 0);
      ssSel = tss32 ? tssRead(cpu, 8 + dpl * 8, 2, 0) : tssRead(cpu, 4 + dpl * 4, 2, 0);
      checkStackSelector(cpu, ssSel, dpl, TS, 0);
      st.init(cpu, descBase(desc.lo, desc.hi), sp, (descAttr(desc.hi) & ATTR_DB) !== 0 ? 4 : 2, dpl === 3);
    }
    st.push(size, oldSs, 0);
    st.push(size, linearLo(oldSp), linearHi(oldSp));
    for (let i = params - 1; i >= 0; i--) st.push(size, copied[i], 0);
    st.push(size, oldCs, 0);
    st.push(size, linearLo(ret), linearHi(ret));
    if (lma) installNullSs(cpu, dpl, dpl);
    else installSs(cpu, ssSel);
    restoreCsDesc();
    installCs(cpu, csSel, dpl);
    updateMode(cpu);
    st.commit();
    cpu.rip = rip;
    return;
  }
  if (isCall) {
    const st = stack.fromCurrent(cpu, cpu.cpl === 3);
    st.push(size, oldCs, 0);
    st.push(size, linearLo(ret), linearHi(ret));
    st.commit();
  }
  restoreCsDesc();
  installCs(cpu, csSel, cpu.cpl);
  updateMode(cpu);
  cpu.rip = rip;
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
  if (checkJumpTarget(cpu, sel)) {
    throughCallGate(cpu, sel, isCall, returnRip);
    return;
  }
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
  // RF only lets the next instruction past an instruction breakpoint and clears when it
  // completes; with none armed nothing can tell, so it is dropped here (the checked path in
  // debug-registers.ts clears it itself)
  if (!cpu.bp.armed) cpu.flags &= ~RF;
  cpu.eventCheck = true; // IF may be set now
}

defineOp(MAP_1B, 0xea, { name: 'jmp far ptr', exec: jmpFarDirect, imm: 'Ap', ends: true, inv64: true });
defineOp(MAP_1B, 0x9a, { name: 'call far ptr', exec: callFarDirect, imm: 'Ap', ends: true, inv64: true });
defineOp(MAP_1B, 0xff, { name: 'call far m', exec: farIndirect(true), modrm: true, ends: true }, { reg: 3, mod: 'mem' });
defineOp(MAP_1B, 0xff, { name: 'jmp far m', exec: farIndirect(false), modrm: true, ends: true }, { reg: 5, mod: 'mem' });
defineOp(MAP_1B, 0xcb, { name: 'retf', exec: retFar, ends: true });
defineOp(MAP_1B, 0xca, { name: 'retf imm16', exec: retFar, imm: 'Iw', ends: true });
defineOp(MAP_1B, 0xcf, { name: 'iret', exec: iret, ends: true });
