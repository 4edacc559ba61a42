// Exception and interrupt delivery (real-mode IVT, protected-mode and long-mode IDT gates,
// privilege switches through the TSS, IST stacks, double and triple faults) and the
// per-block event service (pending IPIs, INIT/SIPI, NMI, ExtINT, LAPIC timer, halt wake-up).
// Run-state words (C_RUNSTATE, C_EXIT_REASON) belong to the core's worker, which reads the
// RUN_* result of Cpu.run.
//
// Delivery reads and checks everything, builds the frame on the target stack through a
// StackCursor, and only then commits CS/SS/RSP/RIP/RFLAGS, so a fault while delivering leaves
// the interrupted state intact and can be escalated (double fault, then shutdown).
// Not modelled: task gates and hardware task switches (#GP with the gate's error code),
// virtual-8086 mode.

import {
  C_EXTINT_VECTOR, C_PENDING, C_SIPI_VECTOR, C_STAT_INTERRUPTS, P_EXTINT, P_INIT, P_IRR, P_NMI, P_SIPI, P_SMI,
  P_STOP,
  P_PAUSE,
} from '../abi/control-block.js';
import { Cpu, RUN_BUDGET, RUN_DEAD, RUN_FAULT, RUN_PAUSED, RUN_STOPPED, RUN_WAIT_SIPI } from './cpu.js';
import { decode, DecodeError } from './decoder.js';
import { FAULT } from './cpu-memory.js';
import type { Insn } from './insn.js';
import { arithFlags, LF_NONE } from './flags.js';
import { guestNowNs } from './msr.js';
import { frameStack } from './ops/system/stack-cursor.js';
import {
  AC, ARITH_FLAGS, CS, DB, DF_VEC, EFER_LMA, FIXED1, GP, IF, NMI_VEC, NP, NT, RF, RSP, SS, TF, TR, TS, TWO32, VM, X87_FREEZE,
} from './regs.js';
import { noFirmware } from './no-firmware.js';
import { enterWaitForSipi, startFromSipi } from './reset.js';
import {
  ATTR_CODE, ATTR_CONFORMING, ATTR_DB, ATTR_L, ATTR_P, ATTR_S, ATTR_UNUSABLE, attrDpl, checkStackSelector, desc,
  descAttr, descBase, fetchDescriptor, installCs, installSs, isCanonical, joinLinear, linearHi, linearLo, loadSegmentReal, ripOffset,
  tableAddr, trUsable, updateMode,
} from './segmentation.js';

/** What raised the event: decides the gate DPL check, the EXT bit and whether a code is pushed. */
export const EV_SOFT = 0; // INT n, INT3, INTO: gate DPL checked against CPL
export const EV_EXCEPTION = 1; // processor exception (fault or trap)
export const EV_EXTERNAL = 2; // hardware interrupt or NMI
export const EV_ICEBP = 3; // INT1: a software event delivered like a #DB trap

export interface DeliverOptions {
  /** INT n / INT3 / INTO (gate DPL checked) */
  soft?: boolean;
  /** pushed for exceptions that take one; ignored otherwise */
  errorCode?: number;
  /** return address saved in the frame (defaults to cpu.rip) */
  nextRip?: number;
  /** hardware interrupt (EXT set in error codes) rather than an exception */
  external?: boolean;
}

/** Vectors whose exceptions push an error code. */
const HAS_ERROR_CODE = new Uint8Array(32);
for (const v of [8, 10, 11, 12, 13, 14, 17, 21, 29, 30]) HAS_ERROR_CODE[v] = 1;

/**
 * Fault-class exceptions: the RFLAGS image they push has RF set (SDM 17.3.1.1), so IRET
 * resumes the faulting instruction without an instruction breakpoint firing again. Traps
 * (#DB single-step and data breakpoints, #BP, #OF) and aborts (#DF, #MC) do not set it.
 */
const FAULT_CLASS = new Uint8Array(32);
for (const v of [0, 5, 6, 7, 10, 11, 12, 13, 14, 16, 17, 19, 20, 21]) FAULT_CLASS[v] = 1;

/** RF to OR into the pushed RFLAGS image of the event being delivered */
let pushedRf = 0;

const CONTRIBUTORY = new Uint8Array(32);
for (const v of [0, 10, 11, 12, 13]) CONTRIBUTORY[v] = 1;

/** Full RFLAGS (lazy arithmetic flags folded in) without touching the lazy state. */
export function readRflags(cpu: Cpu): number {
  return ((cpu.flags & ~ARITH_FLAGS) | arithFlags(cpu) | FIXED1) >>> 0;
}

/** Replace RFLAGS entirely (arithmetic flags included). */
export function writeRflags(cpu: Cpu, v: number): void {
  cpu.lfOp = LF_NONE;
  cpu.flags = (v | FIXED1) & ~0xffc08028; // bits 3, 5, 15, 22-31 always read 0
}

/** Deliver an interrupt or exception (public entry point, options object). */
export function deliverInterrupt(cpu: Cpu, vector: number, opts: DeliverOptions = {}): void {
  const kind = opts.soft ? EV_SOFT : opts.external ? EV_EXTERNAL : EV_EXCEPTION;
  raiseEvent(cpu, vector, kind, opts.errorCode ?? -1, opts.nextRip ?? cpu.rip);
}

/**
 * Deliver `vector` through the IVT/IDT. `returnRip` is the linear address saved in the frame
 * (the faulting instruction for faults, the next one for traps and INT n). Throws FAULT (with
 * nothing committed) if delivery itself faults.
 */
export function raiseEvent(cpu: Cpu, vector: number, kind: number, errorCode: number, returnRip: number): void {
  vector &= 0xff;
  const pushCode = kind === EV_EXCEPTION && vector < 32 && HAS_ERROR_CODE[vector] === 1;
  const code = pushCode ? (errorCode < 0 ? 0 : errorCode) : -1;
  const ext = kind === EV_SOFT ? 0 : 1;
  pushedRf = kind === EV_EXCEPTION && vector < 32 && FAULT_CLASS[vector] === 1 ? RF : 0;
  if (!cpu.protectedMode) deliverReal(cpu, vector, returnRip);
  else if ((cpu.efer & EFER_LMA) !== 0) deliverLong(cpu, vector, kind, ext, code, returnRip);
  else deliverProtected(cpu, vector, kind, ext, code, returnRip);
  cpu.halted = false;
  cpu.interruptShadow = false; // the handler's first instruction is not in any shadow
  cpu.interruptsTaken++;
}

// ------------------------------------------------------------------ real mode

function deliverReal(cpu: Cpu, vector: number, returnRip: number): void {
  const off = vector * 4;
  if (off + 3 > cpu.idtLimit) cpu.fault(GP, vector * 8 + 2);
  const ip = cpu.readSys((cpu.idtBase + off) % TWO32, 2);
  const sel = cpu.readSys((cpu.idtBase + off + 2) % TWO32, 2);
  if (ip === 0 && sel === 0 && !cpu.firmware) {
    // cpu.rip is the faulting instruction for faults, the next one for INT n and traps
    noFirmware(cpu, `real-mode vector 0x${vector.toString(16)} through an empty IVT entry (0000:0000)`, 'interrupting');
    return;
  }
  const st = frameStack.fromCurrent(cpu, false);
  const oldCs = cpu.segSel[CS];
  st.push(2, readRflags(cpu) & 0xffff, 0);
  st.push(2, oldCs, 0);
  st.push(2, ripOffset(cpu, returnRip) & 0xffff, 0);
  st.commit();
  loadSegmentReal(cpu, CS, sel);
  cpu.rip = cpu.segBase[CS] + ip;
  cpu.flags &= ~(IF | TF | AC | RF);
  updateMode(cpu);
}

// ------------------------------------------------------------------ shared gate checks

/** Gate fields read by the delivery routines (scratch, no allocation). */
const gate = { lo: 0, hi: 0, sel: 0, type: 0 };

function idtError(vector: number, ext: number): number {
  return vector * 8 + 2 + ext;
}

/** Check the gate's code segment (left in `desc`) and return the handler's CPL. */
function checkGateCs(cpu: Cpu, sel: number, ext: number, need64: boolean): number {
  if ((sel & 0xfffc) === 0) cpu.fault(GP, ext);
  if (!fetchDescriptor(cpu, sel)) cpu.fault(GP, (sel & 0xfffc) | ext);
  const attr = descAttr(desc.hi);
  const dpl = attrDpl(attr);
  if ((attr & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE) || dpl > cpu.cpl) cpu.fault(GP, (sel & 0xfffc) | ext);
  if (need64 && ((attr & ATTR_L) === 0 || (attr & ATTR_DB) !== 0)) cpu.fault(GP, (sel & 0xfffc) | ext);
  if ((attr & ATTR_P) === 0) cpu.fault(NP, (sel & 0xfffc) | ext);
  if (cpu.flags & VM) cpu.fault(GP, (sel & 0xfffc) | ext); // virtual-8086 mode is not modelled
  return (attr & ATTR_CONFORMING) !== 0 ? cpu.cpl : dpl;
}

/** Read a TSS field (2, 4 or 8 bytes at `off`) with the TSS limit checked (#TS(TR) otherwise). */
export function tssRead(cpu: Cpu, off: number, size: number, ext: number): number {
  if (!trUsable(cpu) || off + size - 1 > cpu.segLimit[TR]) cpu.fault(TS, (cpu.segSel[TR] & 0xfffc) | ext);
  const base = cpu.segBase[TR];
  if (size === 8) {
    const lo = cpu.readSys(tableAddr(cpu, base, off), 4);
    const hi = cpu.readSys(tableAddr(cpu, base, off + 4), 4);
    return joinLinear(lo, hi);
  }
  return cpu.readSys(tableAddr(cpu, base, off), size) >>> 0;
}

function finishFlags(cpu: Cpu, interruptGate: boolean, oldFlags: number): void {
  let f = oldFlags & ~(TF | NT | RF | VM);
  if (interruptGate) f &= ~IF;
  writeRflags(cpu, f);
}

// ------------------------------------------------------------------ protected mode (legacy)

function deliverProtected(cpu: Cpu, vector: number, kind: number, ext: number, code: number, returnRip: number): void {
  const off = vector * 8;
  if (off + 7 > cpu.idtLimit) cpu.fault(GP, idtError(vector, ext));
  gate.lo = cpu.readSys(tableAddr(cpu, cpu.idtBase, off), 4);
  gate.hi = cpu.readSys(tableAddr(cpu, cpu.idtBase, off + 4), 4);
  const type = (gate.hi >>> 8) & 0x1f; // S bit included: gates have S = 0
  if (type !== 0x06 && type !== 0x07 && type !== 0x0e && type !== 0x0f) cpu.fault(GP, idtError(vector, ext));
  if (kind === EV_SOFT && ((gate.hi >>> 13) & 3) < cpu.cpl) cpu.fault(GP, vector * 8 + 2);
  if ((gate.hi & 0x8000) === 0) cpu.fault(NP, idtError(vector, ext));
  const gsize = (type & 8) !== 0 ? 4 : 2;
  const sel = gate.lo >>> 16;
  const target = gsize === 4 ? ((gate.lo & 0xffff) | (gate.hi & 0xffff0000)) >>> 0 : gate.lo & 0xffff;
  const interruptGate = (type & 1) === 0;

  const newCpl = checkGateCs(cpu, sel, ext, false);
  const csLo = desc.lo, csHi = desc.hi, csAddr = desc.addr;
  const oldFlags = readRflags(cpu) | pushedRf;
  const oldCs = cpu.segSel[CS], oldSs = cpu.segSel[SS];
  const oldEsp = cpu.lo[RSP];
  const retOff = ripOffset(cpu, returnRip);
  const st = frameStack;
  let ssSel = 0, ssLo = 0, ssHi = 0, ssAddr = 0;
  if (newCpl < cpu.cpl) {
    // inner privilege: SS:ESP for the new level from the TSS
    const tss32 = (cpu.segAttr[TR] & 8) !== 0;
    const esp = tss32 ? tssRead(cpu, 4 + newCpl * 8, 4, ext) : tssRead(cpu, 2 + newCpl * 4, 2, ext);
    ssSel = tss32 ? tssRead(cpu, 8 + newCpl * 8, 2, ext) : tssRead(cpu, 4 + newCpl * 4, 2, ext);
    checkStackSelector(cpu, ssSel, newCpl, TS, ext);
    ssLo = desc.lo; ssHi = desc.hi; ssAddr = desc.addr;
    const width = (descAttr(ssHi) & ATTR_DB) !== 0 ? 4 : 2;
    st.init(cpu, descBase(ssLo, ssHi), esp, width, newCpl === 3);
    st.push(gsize, oldSs, 0);
    st.push(gsize, oldEsp, 0);
  } else {
    st.fromCurrent(cpu, newCpl === 3);
  }
  st.push(gsize, oldFlags, 0);
  st.push(gsize, oldCs, 0);
  st.push(gsize, retOff, 0);
  if (code >= 0) st.push(gsize, code, 0);

  // commit
  if (newCpl < cpu.cpl) {
    desc.lo = ssLo; desc.hi = ssHi; desc.addr = ssAddr;
    installSs(cpu, ssSel);
  }
  desc.lo = csLo; desc.hi = csHi; desc.addr = csAddr;
  installCs(cpu, sel, newCpl);
  st.commit();
  finishFlags(cpu, interruptGate, oldFlags);
  updateMode(cpu);
  cpu.rip = (cpu.segBase[CS] + target) % TWO32;
}

// ------------------------------------------------------------------ long mode (IA-32e)

function deliverLong(cpu: Cpu, vector: number, kind: number, ext: number, code: number, returnRip: number): void {
  const off = vector * 16;
  if (off + 15 > cpu.idtLimit) cpu.fault(GP, idtError(vector, ext));
  const base = cpu.idtBase;
  const lo = cpu.readSys(base + off, 4);
  const hi = cpu.readSys(base + off + 4, 4);
  const hi2 = cpu.readSys(base + off + 8, 4);
  const type = (hi >>> 8) & 0x1f;
  if (type !== 0x0e && type !== 0x0f) cpu.fault(GP, idtError(vector, ext));
  if (kind === EV_SOFT && ((hi >>> 13) & 3) < cpu.cpl) cpu.fault(GP, vector * 8 + 2);
  if ((hi & 0x8000) === 0) cpu.fault(NP, idtError(vector, ext));
  const sel = lo >>> 16;
  const target = joinLinear((lo & 0xffff) | (hi & 0xffff0000), hi2);
  const ist = hi & 7;
  const interruptGate = type === 0x0e;

  const newCpl = checkGateCs(cpu, sel, ext, true);
  if (!isCanonical(target)) cpu.fault(GP, ext);
  const csLo = desc.lo, csHi = desc.hi, csAddr = desc.addr;
  const oldFlags = readRflags(cpu) | pushedRf;
  const oldCs = cpu.segSel[CS], oldSs = cpu.segSel[SS];
  const oldRspLo = cpu.lo[RSP], oldRspHi = cpu.mode64 ? cpu.hi[RSP] : 0;
  const retOff = ripOffset(cpu, returnRip);
  let rsp: number;
  if (ist !== 0) rsp = tssRead(cpu, 0x24 + (ist - 1) * 8, 8, ext);
  else if (newCpl < cpu.cpl) rsp = tssRead(cpu, 4 + newCpl * 8, 8, ext);
  else rsp = cpu.stackSize === 8 ? joinLinear(cpu.lo[RSP], cpu.hi[RSP]) : cpu.lo[RSP] >>> 0;
  rsp -= ((rsp % 16) + 16) % 16; // align down to 16 bytes
  const st = frameStack.init(cpu, 0, rsp, 8, newCpl === 3);
  st.push(8, oldSs, 0);
  st.push(8, oldRspLo, oldRspHi);
  st.push(8, oldFlags, 0);
  st.push(8, oldCs, 0);
  st.push(8, linearLo(retOff), linearHi(retOff));
  if (code >= 0) st.push(8, code, 0);

  // commit
  desc.lo = csLo; desc.hi = csHi; desc.addr = csAddr;
  installCs(cpu, sel, newCpl);
  if (newCpl !== cpu.cpl) {
    // a null SS carrying the new CPL as its RPL and DPL
    cpu.segSel[SS] = newCpl;
    cpu.segBase[SS] = 0;
    cpu.segLimit[SS] = 0;
    cpu.segAttr[SS] = ATTR_UNUSABLE | (newCpl << 5) | ATTR_DB | ATTR_P | ATTR_S | 3;
  }
  st.commit();
  finishFlags(cpu, interruptGate, oldFlags);
  updateMode(cpu);
  cpu.rip = target;
}

// ------------------------------------------------------------------ faults

/** Deliver the fault recorded in cpu.faultVector / cpu.faultCode (cpu.rip = faulting insn). */
export function deliverFault(cpu: Cpu): void {
  if (cpu.faultVector === X87_FREEZE) {
    // rip is the waiting instruction: an interrupt returns to it, and it runs again
    cpu.halted = true;
    cpu.eventCheck = true;
    return;
  }
  deliverException(cpu, cpu.faultVector, cpu.faultCode, cpu.rip, EV_EXCEPTION);
}

/**
 * Deliver an event, escalating faults raised while delivering it: benign ones are delivered
 * instead, contributory-after-contributory and #PF-after-#PF/contributory become #DF, and
 * any fault while delivering #DF shuts the core down (triple fault).
 */
export function deliverException(cpu: Cpu, vector: number, code: number, returnRip: number, kind: number): void {
  const startRip = cpu.rip;
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      raiseEvent(cpu, vector, kind, code, returnRip);
      return;
    } catch (e) {
      if (e !== FAULT) throw e;
    }
    const second = cpu.faultVector;
    const firstIsException = kind === EV_EXCEPTION;
    kind = EV_EXCEPTION;
    returnRip = startRip;
    if (firstIsException && vector === DF_VEC) {
      tripleFault(cpu, `#DF delivery raised vector ${second} (code ${hexCode(cpu.faultCode)})`);
      return;
    }
    const firstContrib = firstIsException && vector < 32 && CONTRIBUTORY[vector] === 1;
    const firstPf = firstIsException && vector === 14;
    const secondContrib = second < 32 && CONTRIBUTORY[second] === 1;
    if ((firstContrib && secondContrib) || (firstPf && (secondContrib || second === 14))) {
      vector = DF_VEC;
      code = 0;
    } else {
      vector = second;
      code = cpu.faultCode;
    }
  }
  tripleFault(cpu, `exception loop while delivering vector ${vector}`);
}

function hexCode(c: number): string {
  return c < 0 ? 'none' : '0x' + (c >>> 0).toString(16);
}

/** Shutdown: the core stops for good; the worker reports cpu.deadReason and the run state. */
export function tripleFault(cpu: Cpu, why: string): void {
  cpu.deadReason = `triple fault: ${why} at rip 0x${ripHex(cpu.rip)}`;
  cpu.exitReason = RUN_DEAD;
}

function ripHex(rip: number): string {
  return (rip < 0 ? rip + 2 ** 64 : rip).toString(16);
}

// ------------------------------------------------------------------ event service

/** Instructions between clock reads while a local timer is armed. */
const CLOCK_CHECK_INTERVAL = 4096;

/** Called at block boundaries when C_PENDING is non-zero or cpu.eventCheck is set. */
export function serviceEvents(cpu: Cpu): void {
  const ctl = cpu.shared.ctl;
  const pi = cpu.ctlBase + C_PENDING;
  let p = Atomics.load(ctl, pi);

  if ((p & P_STOP) !== 0) {
    cpu.exitReason = RUN_STOPPED;
    cpu.eventCheck = true;
    return;
  }
  if ((p & P_PAUSE) !== 0) {
    Atomics.and(ctl, pi, ~P_PAUSE);
    cpu.exitReason = RUN_PAUSED;
    cpu.eventCheck = true;
    return;
  }
  if ((p & P_INIT) !== 0) {
    Atomics.and(ctl, pi, ~P_INIT);
    enterWaitForSipi(cpu);
    if (cpu.lapic) cpu.lapic.reset();
    p = Atomics.load(ctl, pi);
  }
  if (cpu.waitingForSipi) {
    if ((p & P_SIPI) === 0) {
      cpu.exitReason = RUN_WAIT_SIPI;
      cpu.eventCheck = true;
      return;
    }
    // the run state says "running" before the SIPI leaves the pending word, so the machine's
    // watcher (which reads pending first) never sees this core as both idle and unsignalled
    cpu.onStartup?.();
    Atomics.and(ctl, pi, ~P_SIPI);
    startFromSipi(cpu, Atomics.load(ctl, cpu.ctlBase + C_SIPI_VECTOR) & 0xff);
    p = Atomics.load(ctl, pi);
  } else if ((p & P_SIPI) !== 0) {
    Atomics.and(ctl, pi, ~P_SIPI); // a running core ignores startup IPIs
  }
  if ((p & P_SMI) !== 0) Atomics.and(ctl, pi, ~P_SMI); // no SMM: dropped

  const takenBefore = cpu.interruptsTaken;
  const lapic = cpu.lapic;
  if (cpu.retired >= cpu.clockCheckAt) {
    cpu.clockCheckAt = cpu.retired + CLOCK_CHECK_INTERVAL;
    cpu.timeCheckpoint?.();
  }
  if (lapic !== null && (cpu.halted || cpu.clockCheckAt === cpu.retired + CLOCK_CHECK_INTERVAL)) {
    const next = lapic.nextDeadlineNs();
    if (next !== Infinity) {
      const now = guestNowNs(cpu);
      if (now >= next) {
        lapic.tick(now);
        p = Atomics.load(ctl, pi);
      }
    }
  }

  if (cpu.interruptShadow) {
    // one instruction runs before anything is taken (STI, MOV SS, POP SS): when the block
    // ended at the shadow, that instruction runs alone here, so an interrupt that became
    // pending while IF was 0 is taken right after it ("sti; nop; cli" takes it)
    cpu.interruptShadow = false;
    cpu.ssShadow = false;
    if (cpu.rip === cpu.shadowRip && !cpu.halted) {
      const tf = (cpu.flags & TF) !== 0;
      const taken = cpu.interruptsTaken;
      if (!stepOne(cpu)) return;
      if (cpu.exitReason !== RUN_BUDGET) return;
      cpu.eventCheck = true;
      // TF: the trap of the shadowed instruction (after MOV SS it also covers MOV SS itself)
      if (tf && cpu.interruptsTaken === taken && !cpu.halted) {
        cpu.dr[6] = ((cpu.dr[6] >>> 0) | DR6_BS) >>> 0;
        deliverException(cpu, DB, -1, cpu.rip, EV_EXCEPTION);
        return;
      }
      if (cpu.interruptShadow) return; // a second STI / MOV SS: its own shadow comes first
      p = Atomics.load(ctl, pi);
    } else {
      cpu.eventCheck = true;
    }
  }
  if (cpu.interruptShadow) {
    // (still set: the shadowed instruction opened another one)
  } else if ((p & P_NMI) !== 0 && !cpu.nmiBlocked) {
    Atomics.and(ctl, pi, ~P_NMI);
    cpu.nmiBlocked = true;
    takeInterrupt(cpu, NMI_VEC);
  } else if ((cpu.flags & IF) !== 0) {
    if ((p & P_EXTINT) !== 0 && (lapic === null || lapic.lint0ExtIntAccepted())) {
      // read the vector before claiming it: the 8259 may withdraw or replace a posted request
      const v = Atomics.load(ctl, cpu.ctlBase + C_EXTINT_VECTOR) & 0xff;
      const old = Atomics.and(ctl, pi, ~P_EXTINT);
      if ((old & P_EXTINT) !== 0) takeInterrupt(cpu, v);
    } else if ((p & P_IRR) !== 0) {
      if (lapic === null) {
        Atomics.and(ctl, pi, ~P_IRR); // nothing can accept it
      } else {
        const v = lapic.pollInterrupt();
        if (v >= 0) {
          lapic.acknowledge(v);
          takeInterrupt(cpu, v);
        }
      }
    }
  }

  if (cpu.exitReason !== RUN_BUDGET) return;
  if ((cpu.flags & TF) !== 0 && !cpu.halted && cpu.interruptsTaken === takenBefore) singleStep(cpu);
  if (cpu.halted) {
    cpu.eventCheck = true; // re-examined on every run() while halted
  }
  // an armed local timer is noticed by the run loop's instruction-count check (clockCheckAt)
}

/**
 * EFLAGS.TF: run one instruction by itself, then raise the #DB trap (DR6.BS) with the next
 * instruction as the return address. The instruction that set TF (POPF, IRET) has already
 * completed, so, as the architecture says, the trap follows the instruction after it.
 * Instructions that deliver an event themselves (INT n, faults) take no single-step trap.
 */
function singleStep(cpu: Cpu): void {
  const taken = cpu.interruptsTaken;
  if (!stepOne(cpu)) return;
  if (cpu.interruptsTaken !== taken || cpu.halted || cpu.exitReason !== RUN_BUDGET) return;
  // MOV SS / POP SS hold back the trap until the next instruction has run (SDM 6.8.3): that
  // one runs now, then the trap is taken; STI does not hold it back
  if (cpu.interruptShadow && cpu.ssShadow) {
    cpu.interruptShadow = false;
    cpu.ssShadow = false;
    const before = cpu.interruptsTaken;
    if (!stepOne(cpu)) return;
    if (cpu.interruptsTaken !== before || cpu.halted || cpu.exitReason !== RUN_BUDGET) return;
  }
  cpu.dr[6] = ((cpu.dr[6] >>> 0) | DR6_BS) >>> 0;
  deliverException(cpu, DB, -1, cpu.rip, EV_EXCEPTION);
  cpu.eventCheck = true;
}

const DR6_BS = 1 << 14;

/**
 * Run the instruction at RIP by itself (outside any block). Returns false when it faulted
 * (the fault has been delivered).
 */
function stepOne(cpu: Cpu): boolean {
  const rip = cpu.rip;
  let ins;
  try {
    ins = decode(rip, { mode64: cpu.mode64, def32: cpu.def32 }, (lin) => cpu.fetch8(lin), Cpu.makeUd);
  } catch (e) {
    if (e === FAULT) faultWhileStepping(cpu);
    else if (e instanceof DecodeError) deliverException(cpu, GP, 0, rip, EV_EXCEPTION);
    else throw e;
    return false;
  }
  if (executeDecoded(cpu, ins)) return true;
  faultWhileStepping(cpu);
  return false;
}

/**
 * Execute one decoded instruction (at cpu.rip) outside any block, as the handlers expect it:
 * RIP past the instruction while it runs, back at it if it faults. Returns false on a fault,
 * which the caller delivers or reports (cpu.faultVector). The step-by-step reference of the
 * run-loop tests uses it too.
 */
export function executeDecoded(cpu: Cpu, ins: Insn): boolean {
  const rip = cpu.rip;
  cpu.rip = ins.nextRip;
  try {
    ins.exec(cpu, ins);
  } catch (e) {
    if (e !== FAULT) throw e;
    cpu.rip = rip;
    return false;
  }
  cpu.retired++;
  return true;
}

/** A fault of an instruction run alone: delivered, or (cpu.stopOnFault) the run stops at it. */
function faultWhileStepping(cpu: Cpu): void {
  if (cpu.stopOnFault) cpu.exitReason = RUN_FAULT;
  else deliverFault(cpu);
}

/** Take an external interrupt or NMI now (wakes a halted core). */
function takeInterrupt(cpu: Cpu, vector: number): void {
  deliverException(cpu, vector, -1, cpu.rip, EV_EXTERNAL);
  cpu.shared.ctl[cpu.ctlBase + C_STAT_INTERRUPTS]++;
  cpu.eventCheck = true;
}

