// LOCKed read-modify-write: every LOCK form with a memory destination is a compare-and-swap
// loop over cpu-memory's cmpxchgLocked / cmpxchg64Locked, so other cores never see a torn or
// lost update. Also XCHG with memory (always locked), XADD, CMPXCHG, CMPXCHG8B/16B, the
// fences and CLFLUSH.

import type { Cpu } from '../../cpu.js';
import { LF_ADD, LF_SUB, materialize, setArithFlags } from '../../flags.js';
import type { Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { GP, ZF } from '../../regs.js';
import { calc64, calcHi, calcN, flags64, flagsN, OP_ADD, OP_SUB } from './alu-core.js';
import { binder, rmwRead } from './operands.js';

// Update kinds beyond the eight ALU operations (0..7).
export const UPD_INC = 8, UPD_DEC = 9, UPD_NEG = 10, UPD_NOT = 11, UPD_BTS = 12, UPD_BTR = 13, UPD_BTC = 14;
export const UPD_XADD = 15, UPD_XCHG = 16;

/** New value of a narrow operand for an update kind (b: operand or bit mask, c: carry in). */
function applyN(kind: number, old: number, b: number, c: number): number {
  if (kind < 8) return calcN(kind, old, b, c);
  switch (kind) {
    case UPD_INC: return (old + 1) | 0;
    case UPD_DEC: return (old - 1) | 0;
    case UPD_NEG: return (-old) | 0;
    case UPD_NOT: return ~old;
    case UPD_BTS: return old | b;
    case UPD_BTR: return old & ~b;
    case UPD_BTC: return old ^ b;
    case UPD_XADD: return (old + b) | 0;
    default: return b; // XCHG
  }
}

let applyHi = 0;
function apply64(kind: number, al: number, ah: number, bl: number, bh: number, c: number): number {
  switch (kind) {
    case UPD_INC: { const r = calc64(OP_ADD, al, ah, 1, 0, 0); applyHi = calcHi; return r; }
    case UPD_DEC: { const r = calc64(OP_SUB, al, ah, 1, 0, 0); applyHi = calcHi; return r; }
    case UPD_NEG: { const r = calc64(OP_SUB, 0, 0, al, ah, 0); applyHi = calcHi; return r; }
    case UPD_NOT: applyHi = ~ah; return ~al;
    case UPD_BTS: applyHi = ah | bh; return al | bl;
    case UPD_BTR: applyHi = ah & ~bh; return al & ~bl;
    case UPD_BTC: applyHi = ah ^ bh; return al ^ bl;
    case UPD_XADD: { const r = calc64(OP_ADD, al, ah, bl, bh, 0); applyHi = calcHi; return r; }
    case UPD_XCHG: applyHi = bh; return bl;
    default: { const r = calc64(kind, al, ah, bl, bh, c); applyHi = calcHi; return r; }
  }
}

/** Atomically apply an update to a 1/2/4-byte memory operand; returns the old value. */
export function lockedUpdateN(cpu: Cpu, lin: number, size: number, kind: number, b: number, c: number): number {
  for (;;) {
    const old = rmwRead(cpu, size, lin);
    const got = cpu.cmpxchgLocked(lin, size, old, applyN(kind, old, b, c));
    if (got === old) return old;
  }
}

/** high half of the old value returned by lockedUpdate64 */
export let lockedOldHi = 0;

/** Atomically apply an update to an 8-byte memory operand; returns the old low half. */
export function lockedUpdate64(cpu: Cpu, lin: number, kind: number, bl: number, bh: number, c: number): number {
  for (;;) {
    const ol = rmwRead(cpu, 8, lin), oh = cpu.vhi;
    const nl = apply64(kind, ol, oh, bl, bh, c);
    const gl = cpu.cmpxchg64Locked(lin, ol, oh, nl, applyHi);
    if (gl === ol && cpu.vhi === oh) { lockedOldHi = oh; return ol; }
  }
}

// ------------------------------------------------------------------ LOCK ALU forms (used by alu.ts)

/** LOCK op [mem], reg/imm for the eight ALU operations (b, bh: the source operand). */
export function lockedAlu(cpu: Cpu, ins: Insn, op: number, b: number, bh: number, c: number): void {
  const size = ins.osize;
  const lin = ins.ea(cpu, ins);
  if (size === 8) {
    const al = lockedUpdate64(cpu, lin, op, b, bh, c), ah = lockedOldHi;
    const rl = calc64(op, al, ah, b, bh, c);
    flags64(cpu, op, al, ah, b, bh, rl, calcHi, c);
  } else {
    const a = lockedUpdateN(cpu, lin, size, op, b, c);
    flagsN(cpu, op, size, a, b, calcN(op, a, b, c), c);
  }
}

// ------------------------------------------------------------------ XCHG / XADD

/** XCHG r/m, reg: with memory it is always atomic. */
function xchg(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  const r = ins.reg;
  if (!ins.hasMem) {
    const al = cpu.readReg(size, ins.rm, ins.rex), ah = cpu.vhi;
    const bl = cpu.readReg(size, r, ins.rex), bh = cpu.vhi;
    cpu.writeReg(size, ins.rm, ins.rex, bl, bh);
    cpu.writeReg(size, r, ins.rex, al, ah);
    return;
  }
  const lin = ins.ea(cpu, ins);
  if (size === 8) {
    const ol = lockedUpdate64(cpu, lin, UPD_XCHG, cpu.lo[r], cpu.hi[r], 0);
    cpu.lo[r] = ol; cpu.hi[r] = lockedOldHi;
  } else {
    const old = lockedUpdateN(cpu, lin, size, UPD_XCHG, cpu.readReg(size, r, ins.rex), 0);
    cpu.writeReg(size, r, ins.rex, old, 0);
  }
}

/** XADD r/m, reg: dest = dest + src, src = old dest; flags as ADD. */
function xadd(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  const r = ins.reg;
  if (size === 8) {
    const bl = cpu.lo[r], bh = cpu.hi[r];
    let al: number, ah: number;
    if (!ins.hasMem) {
      al = cpu.lo[ins.rm]; ah = cpu.hi[ins.rm];
    } else {
      const lin = ins.ea(cpu, ins);
      if (ins.lock) { al = lockedUpdate64(cpu, lin, UPD_XADD, bl, bh, 0); ah = lockedOldHi; } else {
        al = rmwRead(cpu, 8, lin); ah = cpu.vhi;
        cpu.write64(lin, calc64(OP_ADD, al, ah, bl, bh, 0), calcHi);
      }
    }
    const rl = calc64(OP_ADD, al, ah, bl, bh, 0), rh = calcHi;
    cpu.lo[r] = al; cpu.hi[r] = ah;
    if (!ins.hasMem) { cpu.lo[ins.rm] = rl; cpu.hi[ins.rm] = rh; }
    setArithFlags(cpu, LF_ADD, 8, al, ah, bl, bh, rl, rh);
    return;
  }
  const b = cpu.readReg(size, r, ins.rex);
  let a: number;
  if (!ins.hasMem) {
    a = cpu.readReg(size, ins.rm, ins.rex);
    cpu.writeReg(size, r, ins.rex, a, 0);
    cpu.writeReg(size, ins.rm, ins.rex, (a + b) | 0, 0);
  } else {
    const lin = ins.ea(cpu, ins);
    if (ins.lock) a = lockedUpdateN(cpu, lin, size, UPD_XADD, b, 0);
    else { a = rmwRead(cpu, size, lin); cpu.writeMem(size, lin, (a + b) | 0, 0); }
    cpu.writeReg(size, r, ins.rex, a, 0);
  }
  setArithFlags(cpu, LF_ADD, size, a, 0, b, 0, (a + b) | 0, 0);
}

// ------------------------------------------------------------------ CMPXCHG

/** CMPXCHG r/m, reg: compare the accumulator with the destination (flags as CMP). */
function cmpxchg(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  const r = ins.reg;
  if (size === 8) {
    const xl = cpu.lo[0], xh = cpu.hi[0];
    const sl = cpu.lo[r], sh = cpu.hi[r];
    let dl: number, dh: number;
    if (!ins.hasMem) {
      dl = cpu.lo[ins.rm]; dh = cpu.hi[ins.rm];
      if (dl === xl && dh === xh) { cpu.lo[ins.rm] = sl; cpu.hi[ins.rm] = sh; } else { cpu.lo[0] = dl; cpu.hi[0] = dh; }
    } else {
      const lin = ins.ea(cpu, ins);
      dl = cpu.cmpxchg64Locked(lin, xl, xh, sl, sh); dh = cpu.vhi;
      if (dl !== xl || dh !== xh) { cpu.lo[0] = dl; cpu.hi[0] = dh; }
    }
    setArithFlags(cpu, LF_SUB, 8, xl, xh, dl, dh, calc64(OP_SUB, xl, xh, dl, dh, 0), calcHi);
    return;
  }
  const x = cpu.readReg(size, 0, 1);
  const s = cpu.readReg(size, r, ins.rex);
  const m = size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
  let d: number;
  if (!ins.hasMem) {
    d = cpu.readReg(size, ins.rm, ins.rex);
    if (((d ^ x) & m) === 0) cpu.writeReg(size, ins.rm, ins.rex, s, 0);
    else cpu.writeReg(size, 0, 1, d, 0);
  } else {
    const lin = ins.ea(cpu, ins);
    if (ins.lock) {
      d = cpu.cmpxchgLocked(lin, size, x, s);
    } else {
      // the destination is always written (with its own value when the compare fails)
      d = rmwRead(cpu, size, lin);
      cpu.writeMem(size, lin, ((d ^ x) & m) === 0 ? s : d, 0);
    }
    if (((d ^ x) & m) !== 0) cpu.writeReg(size, 0, 1, d, 0);
  }
  setArithFlags(cpu, LF_SUB, size, x, 0, d, 0, (x - d) | 0, 0);
}

/** CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W): only ZF changes. */
function cmpxchg8b16b(cpu: Cpu, ins: Insn): void {
  const lin = ins.ea(cpu, ins);
  let equal: boolean;
  if (ins.osize === 8) {
    if (lin % 16 !== 0) cpu.fault(GP, 0);
    equal = cmpxchg16b(cpu, lin);
  } else {
    const el = cpu.lo[0], eh = cpu.lo[2];
    const ol = cpu.cmpxchg64Locked(lin, el, eh, cpu.lo[3], cpu.lo[1]), oh = cpu.vhi;
    equal = ol === el && oh === eh;
    if (!equal) { cpu.writeReg(4, 0, 1, ol, 0); cpu.writeReg(4, 2, 1, oh, 0); }
  }
  materialize(cpu);
  cpu.flags = equal ? cpu.flags | ZF : cpu.flags & ~ZF;
}

function cmpxchg16b(cpu: Cpu, lin: number): boolean {
  cpu.probeWrite(lin, 16);
  const phys = cpu.translate(lin, 1, cpu.cpl === 3);
  return cpu.withStripe(phys >>> 0, () => {
    const l0 = cpu.read32(lin), l1 = cpu.read32(lin + 4), l2 = cpu.read32(lin + 8), l3 = cpu.read32(lin + 12);
    const equal = l0 === cpu.lo[0] && l1 === cpu.hi[0] && l2 === cpu.lo[2] && l3 === cpu.hi[2];
    if (equal) {
      cpu.write64(lin, cpu.lo[3], cpu.hi[3]);
      cpu.write64(lin + 8, cpu.lo[1], cpu.hi[1]);
    } else {
      cpu.write64(lin, l0, l1); // the locked form always writes
      cpu.write64(lin + 8, l2, l3);
      cpu.lo[0] = l0; cpu.hi[0] = l1; cpu.lo[2] = l2; cpu.hi[2] = l3;
    }
    return equal;
  });
}

// ------------------------------------------------------------------ fences, CLFLUSH

/** A sequentially consistent load of a shared word orders all earlier and later accesses. */
function fence(cpu: Cpu): void {
  Atomics.load(cpu.shared.locks, 0);
}

/** CLFLUSH: no cache to flush, but the address must be readable as for a byte load. */
function clflush(cpu: Cpu, ins: Insn): void {
  cpu.read8(ins.ea(cpu, ins));
}

const xchgExec = binder(() => xchg);

defineOp(0, 0x86, { name: 'xchg', exec: xchgExec, modrm: true, size: 'b', lockable: true });
defineOp(0, 0x87, { name: 'xchg', exec: xchgExec, modrm: true, size: 'v', lockable: true });
defineOp(MAP_0F, 0xc0, { name: 'xadd', exec: xadd, modrm: true, size: 'b', lockable: true });
defineOp(MAP_0F, 0xc1, { name: 'xadd', exec: xadd, modrm: true, size: 'v', lockable: true });
defineOp(MAP_0F, 0xb0, { name: 'cmpxchg', exec: cmpxchg, modrm: true, size: 'b', lockable: true });
defineOp(MAP_0F, 0xb1, { name: 'cmpxchg', exec: cmpxchg, modrm: true, size: 'v', lockable: true });
defineOp(MAP_0F, 0xc7, { name: 'cmpxchg8b', exec: cmpxchg8b16b, modrm: true, size: 'v', lockable: true },
  { reg: 1, mod: 'mem' });
defineOp(MAP_0F, 0xae, { name: 'lfence', exec: fence, modrm: true, size: 'x' }, { reg: 5, mod: 'reg' });
defineOp(MAP_0F, 0xae, { name: 'mfence', exec: fence, modrm: true, size: 'x' }, { reg: 6, mod: 'reg' });
defineOp(MAP_0F, 0xae, { name: 'sfence', exec: fence, modrm: true, size: 'x' }, { reg: 7, mod: 'reg' });
defineOp(MAP_0F, 0xae, { name: 'clflush', exec: clflush, modrm: true, size: 'x' }, { reg: 7, mod: 'mem' });
