// FXSAVE/FXRSTOR (0F AE /0 /1, and the REX.W forms with 64-bit FIP/FDP): the 512-byte x87 +
// SSE state image. Layout: FCW(0) FSW(2) abridged FTW(4, one "in use" bit per physical
// register) FOP(6) FIP(8) FCS(12) FDP(16) FDS(20) MXCSR(24) MXCSR_MASK(28), ST0..ST7 as 80-bit
// values in 16-byte slots from 32, XMM0..XMM15 from 160 (XMM0..7 outside 64-bit mode).
// Reserved bytes and the software-available area (464..511) are left as they are. The
// image must be 16-byte aligned (#GP(0)); FXRSTOR with reserved MXCSR bits is #GP(0) and
// changes nothing.

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { GP } from '../../regs.js';
import { MXCSR_MASK } from '../sse/mxcsr.js';
import { refreshSummary, loadReg80, storeReg80 } from './control.js';
import { fpuGate, setStatusWord, statusWord, TAG_EMPTY } from './fpu-state.js';

const TWO32 = 4294967296;

function fxsave(cpu: Cpu, ins: Insn): void {
  fpuGate(cpu);
  const lin = ins.ea(cpu, ins);
  if ((lin & 15) !== 0) cpu.fault(GP, 0);
  cpu.probeWrite(lin, 512);
  let ftw = 0;
  for (let p = 0; p < 8; p++) if (((cpu.fpTag >> (p * 2)) & 3) !== TAG_EMPTY) ftw |= 1 << p;
  cpu.write16(lin, cpu.fpControl);
  cpu.write16(lin + 2, statusWord(cpu));
  cpu.write8(lin + 4, ftw);
  cpu.write8(lin + 5, 0);
  cpu.write16(lin + 6, cpu.fpOpcode & 0x7ff);
  const wide = (ins.rex & 8) !== 0;
  if (wide) {
    const ipHi = Math.floor(cpu.fpIp / TWO32);
    cpu.write64(lin + 8, (cpu.fpIp - ipHi * TWO32) | 0, ipHi | 0);
    const dpHi = Math.floor(cpu.fpDp / TWO32);
    cpu.write64(lin + 16, (cpu.fpDp - dpHi * TWO32) | 0, dpHi | 0);
  } else {
    // FCS/FDS read as 0, as on processors that deprecate them (current Intel and AMD parts)
    cpu.write32(lin + 8, cpu.fpIp | 0);
    cpu.write32(lin + 12, 0);
    cpu.write32(lin + 16, cpu.fpDp | 0);
    cpu.write32(lin + 20, 0);
  }
  cpu.write32(lin + 24, cpu.mxcsr);
  cpu.write32(lin + 28, MXCSR_MASK);
  for (let i = 0; i < 8; i++) {
    const slot = lin + 32 + 16 * i;
    storeReg80(cpu, slot, (cpu.fpTop + i) & 7);
    cpu.write16(slot + 10, 0);
    cpu.write32(slot + 12, 0);
  }
  const nx = cpu.mode64 ? 16 : 8;
  const x = cpu.xmm;
  for (let r = 0; r < nx; r++) {
    const slot = lin + 160 + 16 * r;
    for (let k = 0; k < 4; k++) cpu.write32(slot + 4 * k, x[r * 4 + k]);
  }
}

function fxrstor(cpu: Cpu, ins: Insn): void {
  fpuGate(cpu);
  const lin = ins.ea(cpu, ins);
  if ((lin & 15) !== 0) cpu.fault(GP, 0);
  const mxcsr = cpu.read32(lin + 24);
  if ((mxcsr & ~MXCSR_MASK) !== 0) cpu.fault(GP, 0);
  // read the whole image before changing anything (a page fault part-way leaves the state alone)
  cpu.read32(lin + 508);
  const fcw = cpu.read16(lin), fsw = cpu.read16(lin + 2), ftw = cpu.read8(lin + 4), fop = cpu.read16(lin + 6);
  const wide = (ins.rex & 8) !== 0;
  let ip: number, dp: number;
  if (wide) {
    const ipLo = cpu.read64(lin + 8); ip = cpu.vhi * TWO32 + (ipLo >>> 0);
    const dpLo = cpu.read64(lin + 16); dp = cpu.vhi * TWO32 + (dpLo >>> 0);
  } else {
    ip = cpu.read32(lin + 8) >>> 0;
    dp = cpu.read32(lin + 16) >>> 0;
  }
  cpu.fpControl = (fcw & 0x1f7f) | 0x40;
  setStatusWord(cpu, fsw);
  cpu.fpOpcode = fop & 0x7ff;
  cpu.fpIp = ip;
  cpu.fpDp = dp;
  let tag = 0;
  for (let i = 0; i < 8; i++) {
    const p = (cpu.fpTop + i) & 7;
    loadReg80(cpu, lin + 32 + 16 * i, p);
    if ((ftw & (1 << p)) === 0) tag |= TAG_EMPTY << (p * 2);
  }
  cpu.fpTag = tag;
  refreshSummary(cpu);
  cpu.mxcsr = mxcsr;
  const nx = cpu.mode64 ? 16 : 8;
  const x = cpu.xmm;
  for (let r = 0; r < nx; r++) {
    const slot = lin + 160 + 16 * r;
    for (let k = 0; k < 4; k++) x[r * 4 + k] = cpu.read32(slot + 4 * k);
  }
}

defineOp(MAP_0F, 0xae, { name: 'fxsave', exec: fxsave, modrm: true, size: 'x' }, { prefix: 'np', reg: 0, mod: 'mem' });
defineOp(MAP_0F, 0xae, { name: 'fxrstor', exec: fxrstor, modrm: true, size: 'x' }, { prefix: 'np', reg: 1, mod: 'mem' });
