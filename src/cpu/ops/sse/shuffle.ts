// SSE/SSE2 shuffles and word insert/extract: PSHUFD/PSHUFHW/PSHUFLW (66/F3/F2 0F 70 ib),
// SHUFPS/SHUFPD (0F C6 ib), PEXTRW r32, xmm, ib (66 0F C5) and PINSRW xmm, r32/m16, ib
// (66 0F C4).

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { A, AU16, B, getXmm, loadB128, R, RU16, setXmm, sseGate, BU16 } from './xmm-access.js';

/** PSHUFD: dword k of the result = dword imm[2k+1:2k] of the source */
function pshufd(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  loadB128(cpu, ins);
  const m = ins.imm;
  R[0] = B[m & 3]; R[1] = B[(m >> 2) & 3]; R[2] = B[(m >> 4) & 3]; R[3] = B[(m >> 6) & 3];
  setXmm(cpu, ins.reg, R);
}

/** PSHUFLW (high = false) / PSHUFHW: shuffle the words of one half, copy the other half */
function pshufw(high: boolean): (cpu: Cpu, ins: Insn) => void {
  return (cpu, ins) => {
    sseGate(cpu);
    loadB128(cpu, ins);
    const m = ins.imm, base = high ? 4 : 0;
    R[0] = B[0]; R[1] = B[1]; R[2] = B[2]; R[3] = B[3];
    for (let k = 0; k < 4; k++) RU16[base + k] = BU16[base + ((m >> (2 * k)) & 3)];
    setXmm(cpu, ins.reg, R);
  };
}

/** SHUFPS: low two dwords chosen from the destination, high two from the source */
function shufps(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  loadB128(cpu, ins);
  getXmm(cpu, ins.reg, A);
  const m = ins.imm;
  R[0] = A[m & 3]; R[1] = A[(m >> 2) & 3]; R[2] = B[(m >> 4) & 3]; R[3] = B[(m >> 6) & 3];
  setXmm(cpu, ins.reg, R);
}

function shufpd(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  loadB128(cpu, ins);
  getXmm(cpu, ins.reg, A);
  const a = (ins.imm & 1) << 1, b = ins.imm & 2;
  R[0] = A[a]; R[1] = A[a + 1]; R[2] = B[b]; R[3] = B[b + 1];
  setXmm(cpu, ins.reg, R);
}

function pextrw(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  getXmm(cpu, ins.rm, A);
  cpu.lo[ins.reg] = AU16[ins.imm & 7];
  cpu.hi[ins.reg] = 0;
}

function pinsrw(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const v = cpu.readRm16(ins);
  const k = ins.imm & 7;
  const x = cpu.xmm, d = (ins.reg << 2) + (k >> 1);
  x[d] = (k & 1) !== 0 ? (x[d] & 0xffff) | (v << 16) : (x[d] & ~0xffff) | v;
}

const def = (opcode: number, name: string, exec: (cpu: Cpu, ins: Insn) => void, prefix: 'np' | '66' | 'F3' | 'F2', mod?: 'reg'): void =>
  defineOp(MAP_0F, opcode, { name, exec, modrm: true, imm: 'Ibu', size: 'x' }, mod ? { prefix, mod } : { prefix });

def(0x70, 'pshufd', pshufd, '66');
def(0x70, 'pshuflw', pshufw(false), 'F2');
def(0x70, 'pshufhw', pshufw(true), 'F3');
def(0xc6, 'shufps', shufps, 'np');
def(0xc6, 'shufpd', shufpd, '66');
def(0xc5, 'pextrw', pextrw, '66', 'reg');
def(0xc4, 'pinsrw', pinsrw, '66');
