// The buffers every core of a machine shares: guest RAM, the per-page code marks and
// generations that keep decoded blocks coherent, the LOCK stripes and the control block.
// Created once by the machine (or a test) and posted to every core worker.

import type { RamLayout } from './memory-map.js';

/** Memory shared by all cores of a machine. */
export interface SharedMemory {
  ram: SharedArrayBuffer;
  layout: RamLayout;
  /** per 4 KiB RAM page: 1 while decoded blocks exist for it (writes then take the slow path) */
  codeFlags: Uint8Array;
  /** per 4 KiB RAM page: generation, bumped when a code page is written */
  codeGen: Int32Array;
  /** striped spinlocks for misaligned or 16-byte LOCKed accesses */
  locks: Int32Array;
  /** control block (control-block.ts) */
  ctl: Int32Array;
}

export function createSharedMemory(ramBytes: number, layout: RamLayout, ctl: Int32Array): SharedMemory {
  const pages = Math.ceil(ramBytes / 4096);
  return {
    ram: new SharedArrayBuffer(ramBytes),
    layout,
    codeFlags: new Uint8Array(new SharedArrayBuffer(pages)),
    codeGen: new Int32Array(new SharedArrayBuffer(pages * 4)),
    locks: new Int32Array(new SharedArrayBuffer(256 * 4)),
    ctl,
  };
}
