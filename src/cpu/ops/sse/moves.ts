// SSE/SSE2 data movement: MOVAPS/MOVAPD/MOVDQA (aligned), MOVUPS/MOVUPD/MOVDQU, MOVSS/MOVSD
// (a load from memory zeroes the upper lanes, a register move keeps them), MOVD/MOVQ between
// GPRs/memory and XMM, MOVQ xmm/m64, MOVLPS/MOVHPS/MOVLPD/MOVHPD, MOVHLPS/MOVLHPS,
// MOVMSKPS/MOVMSKPD/PMOVMSKB, the non-temporal stores (plain stores here) MOVNTPS/MOVNTPD/
// MOVNTDQ/MOVNTI, and MASKMOVDQU.

import type { Cpu } from '../../cpu.js';
import type { Exec, Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp, type OpMatch } from '../../optable.js';
import { checkAligned16, getXmm, read128, sseGate, write128, B } from './xmm-access.js';

function def(opcode: number, name: string, exec: Exec, match: OpMatch): void {
  defineOp(MAP_0F, opcode, { name, exec, modrm: true, size: 'x' }, match);
}

/** A move's packed-single (no prefix) and packed-double (66) forms: the same bits, one routine. */
function defPsPd(opcode: number, ps: string, pd: string, exec: Exec, mod?: 'mem'): void {
  const m = mod ? { mod } : {};
  def(opcode, ps, exec, { prefix: 'np', ...m });
  def(opcode, pd, exec, { prefix: '66', ...m });
}

// ---------------------------------------------------------------- full 128-bit moves

function movRegReg(cpu: Cpu, d: number, s: number): void {
  const x = cpu.xmm;
  d <<= 2; s <<= 2;
  x[d] = x[s]; x[d + 1] = x[s + 1]; x[d + 2] = x[s + 2]; x[d + 3] = x[s + 3];
}

/** xmm <- xmm/m128, aligned */
function movLoadA(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  if (!ins.hasMem) { movRegReg(cpu, ins.reg, ins.rm); return; }
  const lin = ins.ea(cpu, ins);
  checkAligned16(cpu, lin);
  read128(cpu, lin, B);
  const x = cpu.xmm, d = ins.reg << 2;
  x[d] = B[0]; x[d + 1] = B[1]; x[d + 2] = B[2]; x[d + 3] = B[3];
}

/** xmm <- xmm/m128, any alignment */
function movLoadU(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  if (!ins.hasMem) { movRegReg(cpu, ins.reg, ins.rm); return; }
  read128(cpu, ins.ea(cpu, ins), B);
  const x = cpu.xmm, d = ins.reg << 2;
  x[d] = B[0]; x[d + 1] = B[1]; x[d + 2] = B[2]; x[d + 3] = B[3];
}

/** xmm/m128 <- xmm, aligned (also the non-temporal stores, memory only) */
function movStoreA(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  if (!ins.hasMem) { movRegReg(cpu, ins.rm, ins.reg); return; }
  const lin = ins.ea(cpu, ins);
  checkAligned16(cpu, lin);
  write128(cpu, lin, cpu.xmm, ins.reg << 2);
}

function movStoreU(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  if (!ins.hasMem) { movRegReg(cpu, ins.rm, ins.reg); return; }
  write128(cpu, ins.ea(cpu, ins), cpu.xmm, ins.reg << 2);
}

defPsPd(0x28, 'movaps', 'movapd', movLoadA);
defPsPd(0x29, 'movaps', 'movapd', movStoreA);
defPsPd(0x10, 'movups', 'movupd', movLoadU);
defPsPd(0x11, 'movups', 'movupd', movStoreU);
def(0x6f, 'movdqa', movLoadA, { prefix: '66' });
def(0x6f, 'movdqu', movLoadU, { prefix: 'F3' });
def(0x7f, 'movdqa', movStoreA, { prefix: '66' });
def(0x7f, 'movdqu', movStoreU, { prefix: 'F3' });
defPsPd(0x2b, 'movntps', 'movntpd', movStoreA, 'mem');
def(0xe7, 'movntdq', movStoreA, { prefix: '66', mod: 'mem' });

// ---------------------------------------------------------------- scalar moves

function movssLoad(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, d = ins.reg << 2;
  if (ins.hasMem) {
    const v = cpu.read32(ins.ea(cpu, ins));
    x[d] = v; x[d + 1] = 0; x[d + 2] = 0; x[d + 3] = 0;
  } else {
    x[d] = x[ins.rm << 2];
  }
}

function movssStore(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm;
  if (ins.hasMem) cpu.write32(ins.ea(cpu, ins), x[ins.reg << 2]);
  else x[ins.rm << 2] = x[ins.reg << 2];
}

function movsdLoad(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, d = ins.reg << 2;
  if (ins.hasMem) {
    const lo = cpu.read64(ins.ea(cpu, ins));
    x[d] = lo; x[d + 1] = cpu.vhi; x[d + 2] = 0; x[d + 3] = 0;
  } else {
    const s = ins.rm << 2;
    x[d] = x[s]; x[d + 1] = x[s + 1];
  }
}

function movsdStore(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, s = ins.reg << 2;
  if (ins.hasMem) { cpu.write64(ins.ea(cpu, ins), x[s], x[s + 1]); return; }
  const d = ins.rm << 2;
  x[d] = x[s]; x[d + 1] = x[s + 1];
}

def(0x10, 'movss', movssLoad, { prefix: 'F3' });
def(0x11, 'movss', movssStore, { prefix: 'F3' });
def(0x10, 'movsd', movsdLoad, { prefix: 'F2' });
def(0x11, 'movsd', movsdStore, { prefix: 'F2' });

/** MOVQ xmm, xmm/m64 (F3 0F 7E): low quadword, upper zeroed */
function movqLoad(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, d = ins.reg << 2;
  let lo: number, hi: number;
  if (ins.hasMem) { lo = cpu.read64(ins.ea(cpu, ins)); hi = cpu.vhi; } else { lo = x[ins.rm << 2]; hi = x[(ins.rm << 2) + 1]; }
  x[d] = lo; x[d + 1] = hi; x[d + 2] = 0; x[d + 3] = 0;
}

/** MOVQ xmm/m64, xmm (66 0F D6): a register destination gets its upper half zeroed */
function movqStore(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, s = ins.reg << 2;
  if (ins.hasMem) { cpu.write64(ins.ea(cpu, ins), x[s], x[s + 1]); return; }
  const d = ins.rm << 2;
  x[d] = x[s]; x[d + 1] = x[s + 1]; x[d + 2] = 0; x[d + 3] = 0;
}

def(0x7e, 'movq', movqLoad, { prefix: 'F3' });
def(0xd6, 'movq', movqStore, { prefix: '66' });

/** MOVD/MOVQ xmm, r/m32/64 (66 0F 6E): zero-extended into the register */
function movdToXmm(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, d = ins.reg << 2;
  if (ins.osize === 8) {
    let lo: number, hi: number;
    if (ins.hasMem) { lo = cpu.read64(ins.ea(cpu, ins)); hi = cpu.vhi; } else { lo = cpu.lo[ins.rm]; hi = cpu.hi[ins.rm]; }
    x[d] = lo; x[d + 1] = hi;
  } else {
    x[d] = ins.hasMem ? cpu.read32(ins.ea(cpu, ins)) : cpu.lo[ins.rm];
    x[d + 1] = 0;
  }
  x[d + 2] = 0; x[d + 3] = 0;
}

/** MOVD/MOVQ r/m32/64, xmm (66 0F 7E) */
function movdFromXmm(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, s = ins.reg << 2;
  if (ins.osize === 8) {
    if (ins.hasMem) cpu.write64(ins.ea(cpu, ins), x[s], x[s + 1]);
    else { cpu.lo[ins.rm] = x[s]; cpu.hi[ins.rm] = x[s + 1]; }
  } else if (ins.hasMem) {
    cpu.write32(ins.ea(cpu, ins), x[s]);
  } else {
    cpu.lo[ins.rm] = x[s]; cpu.hi[ins.rm] = 0;
  }
}

def(0x6e, 'movd', movdToXmm, { prefix: '66' });
def(0x7e, 'movd', movdFromXmm, { prefix: '66' });

// ---------------------------------------------------------------- half moves

/** MOVLPS/MOVLPD xmm, m64: replace the low quadword */
function movlLoad(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const lo = cpu.read64(ins.ea(cpu, ins));
  const x = cpu.xmm, d = ins.reg << 2;
  x[d] = lo; x[d + 1] = cpu.vhi;
}

/** MOVHPS/MOVHPD xmm, m64: replace the high quadword */
function movhLoad(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const lo = cpu.read64(ins.ea(cpu, ins));
  const x = cpu.xmm, d = ins.reg << 2;
  x[d + 2] = lo; x[d + 3] = cpu.vhi;
}

function movlStore(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, s = ins.reg << 2;
  cpu.write64(ins.ea(cpu, ins), x[s], x[s + 1]);
}

function movhStore(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, s = ins.reg << 2;
  cpu.write64(ins.ea(cpu, ins), x[s + 2], x[s + 3]);
}

/** MOVHLPS: low quadword of dest <- high quadword of source */
function movhlps(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, d = ins.reg << 2, s = ins.rm << 2;
  x[d] = x[s + 2]; x[d + 1] = x[s + 3];
}

/** MOVLHPS: high quadword of dest <- low quadword of source */
function movlhps(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, d = ins.reg << 2, s = ins.rm << 2;
  x[d + 2] = x[s]; x[d + 3] = x[s + 1];
}

defPsPd(0x12, 'movlps', 'movlpd', movlLoad, 'mem');
def(0x12, 'movhlps', movhlps, { prefix: 'np', mod: 'reg' });
defPsPd(0x13, 'movlps', 'movlpd', movlStore, 'mem');
defPsPd(0x16, 'movhps', 'movhpd', movhLoad, 'mem');
def(0x16, 'movlhps', movlhps, { prefix: 'np', mod: 'reg' });
defPsPd(0x17, 'movhps', 'movhpd', movhStore, 'mem');

// ---------------------------------------------------------------- sign masks

function movmskps(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, s = ins.rm << 2;
  cpu.lo[ins.reg] = (x[s] >>> 31) | ((x[s + 1] >>> 31) << 1) | ((x[s + 2] >>> 31) << 2) | ((x[s + 3] >>> 31) << 3);
  cpu.hi[ins.reg] = 0;
}

function movmskpd(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, s = ins.rm << 2;
  cpu.lo[ins.reg] = (x[s + 1] >>> 31) | ((x[s + 3] >>> 31) << 1);
  cpu.hi[ins.reg] = 0;
}

function pmovmskb(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, s = ins.rm << 2;
  let m = 0;
  for (let k = 0; k < 4; k++) {
    const v = x[s + k];
    m |= (((v >>> 7) & 1) | ((v >>> 14) & 2) | ((v >>> 21) & 4) | ((v >>> 28) & 8)) << (4 * k);
  }
  cpu.lo[ins.reg] = m;
  cpu.hi[ins.reg] = 0;
}

def(0x50, 'movmskps', movmskps, { prefix: 'np', mod: 'reg' });
def(0x50, 'movmskpd', movmskpd, { prefix: '66', mod: 'reg' });
def(0xd7, 'pmovmskb', pmovmskb, { prefix: '66', mod: 'reg' });

// ---------------------------------------------------------------- MOVNTI, MASKMOVDQU

/** MOVNTI m32/m64, r32/r64: a GPR store (no SSE state involved, so no CR0/CR4 checks) */
function movnti(cpu: Cpu, ins: Insn): void {
  const lin = ins.ea(cpu, ins);
  if (ins.osize === 8) cpu.write64(lin, cpu.lo[ins.reg], cpu.hi[ins.reg]);
  else cpu.write32(lin, cpu.lo[ins.reg]);
}

defineOp(MAP_0F, 0xc3, { name: 'movnti', exec: movnti, modrm: true, size: 'v' }, { prefix: 'np', mod: 'mem' });

/** MASKMOVDQU xmm1, xmm2: bytes of xmm1 whose xmm2 byte has its top bit set go to [rDI] (DS) */
function maskmovdqu(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  getXmm(cpu, ins.rm, B);
  const x = cpu.xmm, s = ins.reg << 2;
  let base: number;
  if (ins.asize === 8) base = cpu.hi[7] * 4294967296 + (cpu.lo[7] >>> 0);
  else if (ins.asize === 4) base = cpu.lo[7] >>> 0;
  else base = cpu.lo[7] & 0xffff;
  if (!cpu.mode64 || ins.seg === 4 || ins.seg === 5) base += cpu.segBase[ins.seg];
  if (!cpu.mode64) base %= 4294967296;
  // check every selected byte is writable first, so a fault writes nothing
  for (let k = 0; k < 16; k++) if ((B[k >> 2] >>> (8 * (k & 3) + 7)) & 1) cpu.probeWrite(base + k, 1);
  for (let k = 0; k < 16; k++) {
    if ((B[k >> 2] >>> (8 * (k & 3) + 7)) & 1) cpu.write8(base + k, (x[s + (k >> 2)] >>> (8 * (k & 3))) & 0xff);
  }
}

def(0xf7, 'maskmovdqu', maskmovdqu, { prefix: '66', mod: 'reg' });
