// What a core needs from the machine around it. The worker wires these to the local APIC and
// to the mailbox towards the I/O thread; unit tests and the snippet runner use simple stubs.

import type { RamLayout } from '../machine/memory-map.js';
import { G_NCORES } from '../machine/control-block.js';
import { allocateGuestMemory } from './wasm/guest-memory.js';

export interface CpuBus {
  ioRead(port: number, size: number): number;
  ioWrite(port: number, size: number, value: number): void;
  /** physical accesses outside RAM (LAPIC, IOAPIC, HPET, PCI BARs); size 1, 2 or 4 */
  mmioRead(paddr: number, size: number): number;
  mmioWrite(paddr: number, size: number, value: number): void;
}

/** The local APIC as the CPU core uses it (implemented in src/devices/lapic.ts). */
export interface LocalApic {
  pollInterrupt(): number;
  acknowledge(vector: number): void;
  getTpr(): number;
  setTpr(v: number): void;
  /** IA32_APIC_BASE low half (the high half is 0: the base stays below 4 GiB) */
  readApicBase(): number;
  /** returns false when the value must raise #GP (reserved bits, x2APIC enable) */
  writeApicBase(lo: number, hi: number): boolean;
  /** CR8 <-> TPR[7:4] */
  readCr8(): number;
  writeCr8(v: number): void;
  /** whether the xAPIC MMIO window is decoded (APIC_BASE enable bit) and where */
  isGloballyEnabled(): boolean;
  baseAddress(): number;
  setTscDeadline(ns: number): void;
  getTscDeadline(): number;
  nextDeadlineNs(): number;
  tick(nowNs: number): void;
  lint0ExtIntAccepted(): boolean;
  reset(): void;
  mmioRead(off: number, size: number): number;
  mmioWrite(off: number, size: number, value: number): void;
}

/** Memory shared by all cores of a machine. */
export interface SharedMemory {
  /** guest RAM (the buffer of `wasmMemory` when there is one; may extend past RAM: scratch areas) */
  ram: SharedArrayBuffer;
  /** the same bytes as a shared WebAssembly.Memory, plus per-core scratch (src/cpu/wasm/guest-memory.ts) */
  wasmMemory?: WebAssembly.Memory | null;
  scratchBase?: number;
  scratchCores?: number;
  layout: RamLayout;
  /** per 4 KiB RAM page: 1 while decoded blocks exist for it (writes then take the slow path) */
  codeFlags: Uint8Array;
  /** per 4 KiB RAM page: generation, bumped when a code page is written */
  codeGen: Int32Array;
  /** striped spinlocks for misaligned or 16-byte LOCKed accesses */
  locks: Int32Array;
  /** control block (src/machine/control-block.ts) */
  ctl: Int32Array;
}

export function createSharedMemory(ramBytes: number, layout: RamLayout, ctl: Int32Array): SharedMemory {
  const pages = Math.ceil(ramBytes / 4096);
  const g = allocateGuestMemory(ramBytes, ctl[G_NCORES]);
  return {
    ram: g.ram,
    wasmMemory: g.wasmMemory,
    scratchBase: g.scratchBase,
    scratchCores: g.scratchCores,
    layout,
    codeFlags: new Uint8Array(new SharedArrayBuffer(pages)),
    codeGen: new Int32Array(new SharedArrayBuffer(pages * 4)),
    locks: new Int32Array(new SharedArrayBuffer(256 * 4)),
    ctl,
  };
}
