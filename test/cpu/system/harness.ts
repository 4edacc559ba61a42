// Test scaffolding for the system-architecture tests: a machine-less core over a small RAM, a
// recording port bus, a fake local APIC, an assembler wrapper (GNU as + ld to a flat binary
// at a given address), and a long-mode environment built directly in RAM (GDT with user
// segments and a TSS, 4-level page tables with 4 KiB pages for the first 2 MiB, an IDT whose
// vector v handler is a HLT at HANDLER_BASE + 16 * v).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSharedMemory } from '../../../src/abi/shared-memory.js';
import type { CpuBus, LocalApic } from '../../../src/cpu/bus.js';
import { Cpu } from '../../../src/cpu/cpu.js';
import { CR0_ET, CR0_NE, CR0_PE, CR0_PG, CR0_WP, CR4_PAE, CS, DS, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, ES, FS, GS, SS, TR } from '../../../src/cpu/regs.js';
import { resetCore } from '../../../src/cpu/reset.js';
import { ATTR_CODE64, ATTR_DATA32, setSegCache, updateMode } from '../../../src/cpu/segmentation.js';
import { createControlBuffer } from '../../../src/abi/control-block.js';
import { ramLayout } from '../../../src/abi/memory-map.js';

export class RecordingBus implements CpuBus {
  readonly writes: [number, number, number][] = [];
  readonly reads: [number, number][] = [];
  portValues = new Map<number, number>();
  ioRead(port: number, size: number): number {
    this.reads.push([port, size]);
    return this.portValues.get(port) ?? (size === 1 ? 0xff : size === 2 ? 0xffff : -1);
  }
  ioWrite(port: number, size: number, value: number): void {
    this.writes.push([port, size, value]);
  }
  mmioRead(): number {
    return -1;
  }
  mmioWrite(): void {}
}

/** A local APIC reduced to what the CPU asks of it. */
export class FakeLapic implements LocalApic {
  readonly pending = new Set<number>();
  readonly acked: number[] = [];
  tpr = 0;
  apicBase = 0xfee00900;
  deadline = 0;
  nextNs = Infinity;
  ticks: number[] = [];
  pollInterrupt(): number {
    let best = -1;
    for (const v of this.pending) if (v > best && (v & 0xf0) > (this.tpr & 0xf0)) best = v;
    return best;
  }
  acknowledge(v: number): void {
    this.pending.delete(v);
    this.acked.push(v);
  }
  getTpr(): number { return this.tpr; }
  setTpr(v: number): void { this.tpr = v & 0xff; }
  readApicBase(): number { return this.apicBase; }
  writeApicBase(lo: number, hi: number): boolean { this.apicBase = (hi >>> 0) * 2 ** 32 + (lo >>> 0); return true; }
  readCr8(): number { return this.tpr >>> 4; }
  writeCr8(v: number): void { this.tpr = (v & 15) << 4; }
  isGloballyEnabled(): boolean { return (this.apicBase & 0x800) !== 0; }
  baseAddress(): number { return 0xfee00000; }
  setTscDeadline(ns: number): void { this.deadline = ns; }
  getTscDeadline(): number { return this.deadline; }
  nextDeadlineNs(): number { return this.nextNs; }
  tick(now: number): void { this.ticks.push(now); this.nextNs = Infinity; }
  lint0ExtIntAccepted(): boolean { return true; }
  reset(): void { this.pending.clear(); this.tpr = 0; }
  mmioRead(): number { return 0; }
  mmioWrite(): void {}
}

export interface TestCore {
  cpu: Cpu;
  bus: RecordingBus;
  ctl: Int32Array;
  ram: Uint8Array;
  dv: DataView;
}

export function makeCore(opts: { ramMiB?: number; ncores?: number; core?: number } = {}): TestCore {
  const ramBytes = (opts.ramMiB ?? 4) * 1024 * 1024;
  const ctl = createControlBuffer(opts.ncores ?? 1, ramBytes);
  const shared = createSharedMemory(ramBytes, ramLayout(ramBytes), ctl);
  const bus = new RecordingBus();
  const cpu = new Cpu(shared, bus, opts.core ?? 0);
  resetCore(cpu, { bsp: (opts.core ?? 0) === 0 });
  const ram = new Uint8Array(shared.ram);
  return { cpu, bus, ctl, ram, dv: new DataView(shared.ram) };
}

const asmCache = new Map<string, Uint8Array>();
let asmDir = '';

/** Assemble GNU-syntax source linked at `origin` into a flat binary. */
export function assemble(source: string, origin: number): Uint8Array {
  const key = `${origin}:${source}`;
  const hit = asmCache.get(key);
  if (hit) return hit;
  if (!asmDir) asmDir = mkdtempSync(join(tmpdir(), 'prlx-sys-'));
  const n = asmCache.size;
  const s = join(asmDir, `t${n}.s`), o = join(asmDir, `t${n}.o`), b = join(asmDir, `t${n}.bin`);
  writeFileSync(s, source + '\n');
  execFileSync('as', ['--64', '-o', o, s]);
  execFileSync('ld', ['-e', '0', '-m', 'elf_x86_64', '-Ttext=0x' + origin.toString(16), '--oformat', 'binary', '-o', b, o]);
  const bytes = new Uint8Array(readFileSync(b));
  asmCache.set(key, bytes);
  return bytes;
}

export function load(t: TestCore, addr: number, bytes: Uint8Array | number[]): void {
  t.ram.set(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes), addr);
}

export function u64(t: TestCore, addr: number, lo: number, hi = 0): void {
  t.dv.setUint32(addr, lo >>> 0, true);
  t.dv.setUint32(addr + 4, hi >>> 0, true);
}

export function readU64(t: TestCore, addr: number): number {
  return t.dv.getUint32(addr + 4, true) * 2 ** 32 + t.dv.getUint32(addr, true);
}

export function reg64(cpu: Cpu, r: number): number {
  return (cpu.hi[r] >>> 0) * 2 ** 32 + (cpu.lo[r] >>> 0);
}

// ---------------------------------------------------------------- long-mode environment

export const GDT = 0x500;
export const TSS = 0x600;
export const PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000;
export const IDT = 0x6000;
export const HANDLER_BASE = 0x20000;
export const KSTACK_TOP = 0x9000;
export const IST1_TOP = 0xa000;
export const IST2_TOP = 0xb000;
export const USTACK_TOP = 0xc000;
export const SEL_KCODE = 0x08, SEL_KDATA = 0x10, SEL_UCODE32 = 0x1b, SEL_UDATA = 0x23, SEL_UCODE = 0x2b, SEL_TSS = 0x30;

/** PTE flags for the identity map of 0..2 MiB (4 KiB pages); everything user-accessible. */
export function setPte(t: TestCore, page: number, flags: number, nx = false): void {
  u64(t, PT + (page >> 12) * 8, (page & ~0xfff) | flags, nx ? 0x80000000 : 0);
  t.cpu.flushTlb(false);
}

/** Interrupt gate for `vector` (64-bit) to `target`, with DPL and IST. */
export function setGate(t: TestCore, vector: number, target: number, opts: { dpl?: number; ist?: number; trap?: boolean; present?: boolean } = {}): void {
  const a = IDT + vector * 16;
  const type = opts.trap ? 0xf : 0xe;
  const p = opts.present === false ? 0 : 0x80;
  t.dv.setUint32(a, (SEL_KCODE << 16) | (target & 0xffff), true);
  t.dv.setUint32(a + 4, ((target & 0xffff0000) | ((p | ((opts.dpl ?? 0) << 5) | type) << 8) | (opts.ist ?? 0)) >>> 0, true);
  t.dv.setUint32(a + 8, 0, true);
  t.dv.setUint32(a + 12, 0, true);
}

/** Put the core in 64-bit mode at CPL 0 with the environment above; code runs from `rip`. */
export function enterLongMode(t: TestCore, rip: number): void {
  const { cpu } = t;
  // GDT
  const gdt: [number, number][] = [
    [0, 0],
    [0x0000ffff, 0x00af9a00], // 0x08 kernel code 64
    [0x0000ffff, 0x00cf9200], // 0x10 kernel data
    [0x0000ffff, 0x00cffa00], // 0x18 user code 32
    [0x0000ffff, 0x00cff200], // 0x20 user data
    [0x0000ffff, 0x00affa00], // 0x28 user code 64
  ];
  gdt.forEach(([lo, hi], i) => u64(t, GDT + i * 8, lo, hi));
  // 64-bit TSS descriptor at 0x30 (16 bytes), available
  u64(t, GDT + 0x30, ((TSS & 0xffff) << 16) | 0x67, ((TSS >>> 16) & 0xff) | 0x8900 | (TSS & 0xff000000));
  u64(t, GDT + 0x38, 0, 0);
  // TSS: RSP0, IST1, IST2, I/O bitmap base beyond the limit (no bitmap)
  u64(t, TSS + 4, KSTACK_TOP);
  u64(t, TSS + 0x24, IST1_TOP);
  u64(t, TSS + 0x2c, IST2_TOP);
  t.dv.setUint16(TSS + 0x66, 0x68, true);
  // page tables: PML4[0] -> PDPT[0] -> PD; PD[0] -> PT (4 KiB pages for 0-2 MiB), PD[1] 2 MiB page
  u64(t, PML4, PDPT | 7);
  u64(t, PDPT, PD | 7);
  u64(t, PD, PT | 7);
  u64(t, PD + 8, 0x200000 | 0x87);
  for (let p = 0; p < 0x200000; p += 0x1000) u64(t, PT + (p >> 12) * 8, p | 7);
  // IDT: every vector halts at its own handler
  for (let v = 0; v < 256; v++) {
    t.ram[HANDLER_BASE + v * 16] = 0xf4; // hlt
    setGate(t, v, HANDLER_BASE + v * 16);
  }
  cpu.gdtBase = GDT; cpu.gdtLimit = 0x3f;
  cpu.idtBase = IDT; cpu.idtLimit = 256 * 16 - 1;
  cpu.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
  cpu.cr4 = CR4_PAE;
  cpu.cr3 = PML4;
  cpu.efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
  setSegCache(cpu, CS, SEL_KCODE, 0, 0xffffffff, ATTR_CODE64);
  for (const s of [DS, ES, SS, FS, GS]) setSegCache(cpu, s, SEL_KDATA, 0, 0xffffffff, ATTR_DATA32);
  setSegCache(cpu, TR, SEL_TSS, TSS, 0x67, 0x8b);
  cpu.lo[4] = KSTACK_TOP;
  cpu.hi[4] = 0;
  cpu.flushTlb(false);
  updateMode(cpu);
  cpu.rip = rip;
}

/** Switch the core to ring 3 (64-bit user code) without going through an instruction. */
export function dropToUser(t: TestCore, rip: number, rsp = USTACK_TOP): void {
  const { cpu } = t;
  setSegCache(cpu, CS, SEL_UCODE, 0, 0xffffffff, ATTR_CODE64 | 0x60);
  setSegCache(cpu, SS, SEL_UDATA, 0, 0xffffffff, ATTR_DATA32 | 0x60);
  cpu.lo[4] = rsp;
  cpu.hi[4] = 0;
  updateMode(cpu);
  cpu.rip = rip;
}

/** Vector whose handler the core halted in (or -1). */
export function haltedVector(cpu: Cpu): number {
  const off = cpu.rip - 1 - HANDLER_BASE;
  if (!cpu.halted || off < 0 || off % 16 !== 0 || off >= 256 * 16) return -1;
  return off / 16;
}
