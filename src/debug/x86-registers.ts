// The registers the gdb stub shows, in the order of its target description (which is also the
// order of the `g` packet): gdb's amd64 core and SSE features, then the segment bases and the
// system registers a kernel debugger needs (QEMU's stub shows the same names). Values travel
// between a parked core and the stub as unsigned bigints (st0-7 as 80-bit, xmm as 128-bit).

import type { Cpu } from '../cpu/cpu.js';
import { materialize, LF_NONE } from '../cpu/flags.js';
import { statusWord, tagWord } from '../cpu/ops/x87/fpu-state.js';
import type { PagingRegs } from './page-walk.js';

export interface RegisterDef {
  name: string;
  bits: 32 | 64 | 80 | 128;
  type: string;
  feature: 'core' | 'sse' | 'segments' | 'system';
}

const GPR_NAMES = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
/** gdb's order -> the x86 encoding index our Cpu uses (rax rcx rdx rbx rsp rbp rsi rdi r8..) */
const GPR_INDEX = [0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15];
const SEGS = ['cs', 'ss', 'ds', 'es', 'fs', 'gs'];
const SEG_INDEX = [1, 2, 3, 0, 4, 5];
const FPU_CONTROL = ['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'];

export const REGISTERS: RegisterDef[] = [
  ...GPR_NAMES.map((name): RegisterDef => ({ name, bits: 64, type: name === 'rbp' || name === 'rsp' ? 'data_ptr' : 'int64', feature: 'core' })),
  { name: 'rip', bits: 64, type: 'code_ptr', feature: 'core' },
  { name: 'eflags', bits: 32, type: 'i386_eflags', feature: 'core' },
  ...SEGS.map((name): RegisterDef => ({ name, bits: 32, type: 'int32', feature: 'core' })),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i): RegisterDef => ({ name: `st${i}`, bits: 80, type: 'i387_ext', feature: 'core' })),
  ...FPU_CONTROL.map((name): RegisterDef => ({ name, bits: 32, type: 'int', feature: 'core' })),
  ...Array.from({ length: 16 }, (_, i): RegisterDef => ({ name: `xmm${i}`, bits: 128, type: 'vec128', feature: 'sse' })),
  { name: 'mxcsr', bits: 32, type: 'i386_mxcsr', feature: 'sse' },
  { name: 'fs_base', bits: 64, type: 'int64', feature: 'segments' },
  { name: 'gs_base', bits: 64, type: 'int64', feature: 'segments' },
  { name: 'k_gs_base', bits: 64, type: 'int64', feature: 'system' },
  ...['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer'].map((name): RegisterDef => ({ name, bits: 64, type: 'int64', feature: 'system' })),
];

export type CoreRegisters = Record<string, bigint>;

/** The control registers a page walk needs, from a register set. */
export function pagingRegsOf(r: CoreRegisters): PagingRegs {
  return { cr0: Number(r.cr0 ?? 0n), cr3: Number(r.cr3 ?? 0n), cr4: Number(r.cr4 ?? 0n), longMode: ((r.efer ?? 0n) & 0x400n) !== 0n };
}

const M64 = (1n << 64n) - 1n;
/** a Cpu value held as a signed-canonical or unsigned double -> u64 */
const u64 = (v: number): bigint => BigInt(Math.trunc(v)) & M64;
const pair = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
/** u64 -> the signed-canonical double form the Cpu keeps linear addresses in */
export const toCanonical = (v: bigint): number => Number(BigInt.asIntN(64, v));

/** Every register of a (parked) core. */
export function readRegisters(cpu: Cpu): CoreRegisters {
  materialize(cpu);
  const r: CoreRegisters = {};
  GPR_NAMES.forEach((n, i) => { r[n] = pair(cpu.lo[GPR_INDEX[i]], cpu.hi[GPR_INDEX[i]]); });
  r.rip = u64(cpu.rip);
  r.eflags = BigInt(cpu.flags >>> 0);
  SEGS.forEach((n, i) => { r[n] = BigInt(cpu.segSel[SEG_INDEX[i]] & 0xffff); });
  for (let i = 0; i < 8; i++) {
    const phys = (cpu.fpTop + i) & 7;
    const f = cpu.fpr;
    r[`st${i}`] = (BigInt(f[phys * 3 + 2] & 0xffff) << 64n) | pair(f[phys * 3], f[phys * 3 + 1]);
  }
  r.fctrl = BigInt(cpu.fpControl & 0xffff);
  r.fstat = BigInt(statusWord(cpu) & 0xffff);
  r.ftag = BigInt(tagWord(cpu) & 0xffff);
  r.fiseg = 0n; r.fioff = u64(cpu.fpIp) & 0xffffffffn; r.foseg = 0n; r.fooff = u64(cpu.fpDp) & 0xffffffffn;
  r.fop = BigInt(cpu.fpOpcode & 0x7ff);
  for (let i = 0; i < 16; i++) {
    let v = 0n;
    for (let lane = 3; lane >= 0; lane--) v = (v << 32n) | BigInt(cpu.xmm[i * 4 + lane] >>> 0);
    r[`xmm${i}`] = v;
  }
  r.mxcsr = BigInt(cpu.mxcsr >>> 0);
  r.fs_base = u64(cpu.segBase[4]);
  r.gs_base = u64(cpu.segBase[5]);
  r.k_gs_base = u64(cpu.kernelGsBase);
  r.cr0 = u64(cpu.cr0 >>> 0);
  r.cr2 = u64(cpu.cr2);
  r.cr3 = u64(cpu.cr3);
  r.cr4 = u64(cpu.cr4 >>> 0);
  r.cr8 = BigInt(cpu.lapic ? cpu.lapic.readCr8() : 0);
  r.efer = BigInt(cpu.efer >>> 0);
  return r;
}

/**
 * Apply register writes from the debugger. General registers, rip, eflags and the SSE
 * registers are written; segment, x87 and system registers are read-only here (their hidden
 * state - descriptor caches, paging mode - cannot be set consistently from a value alone).
 * Returns the names that were ignored.
 */
export function writeRegisters(cpu: Cpu, values: CoreRegisters): string[] {
  const ignored: string[] = [];
  for (const [name, v] of Object.entries(values)) {
    const g = GPR_NAMES.indexOf(name);
    if (g >= 0) {
      cpu.lo[GPR_INDEX[g]] = Number(v & 0xffffffffn) | 0;
      cpu.hi[GPR_INDEX[g]] = Number((v >> 32n) & 0xffffffffn) | 0;
    } else if (name === 'rip') {
      cpu.rip = cpu.mode64 ? toCanonical(v) : Number(v & 0xffffffffn);
    } else if (name === 'eflags') {
      materialize(cpu);
      cpu.flags = (Number(v & 0x3f7fd7n) | 2) | 0;
      cpu.lfOp = LF_NONE;
    } else if (/^xmm\d+$/.test(name)) {
      const i = Number(name.slice(3));
      for (let lane = 0; lane < 4; lane++) cpu.xmm[i * 4 + lane] = Number((v >> BigInt(32 * lane)) & 0xffffffffn) | 0;
    } else if (name === 'mxcsr') {
      cpu.mxcsr = Number(v & 0xffffn);
    } else {
      ignored.push(name);
    }
  }
  return ignored;
}
