// A machine-less core set up the way the CPU tests need it: flat segments in 16-bit real mode,
// 32-bit protected mode or 64-bit long mode (identity-mapped 2 MiB pages over the first 4 MiB),
// no IDT (any event delivery faults, so a run stops there), faults stop the run loop.
// Shared by the integer-instruction tests and the block-compiler oracle.

import { createSharedMemory, type SharedMemory } from '../../src/abi/shared-memory.js';
import type { CpuBus } from '../../src/cpu/bus.js';
import { Cpu } from '../../src/cpu/cpu.js';
import { LF_NONE } from '../../src/cpu/flags.js';
import {
  CR0_ET, CR0_NE, CR0_PE, CR0_PG, CR0_WP, CR4_OSFXSR, CR4_PAE, CS, EFER_LMA, EFER_LME, EFER_NXE, FIXED1,
  PTE_P, PTE_PS, PTE_U, PTE_W,
} from '../../src/cpu/regs.js';
import { createControlBuffer } from '../../src/abi/control-block.js';
import { ramLayout } from '../../src/abi/memory-map.js';

export type Mode = 16 | 32 | 64;

export const nullBus: CpuBus = {
  ioRead: () => -1,
  ioWrite: () => { /* none */ },
  mmioRead: () => -1,
  mmioWrite: () => { /* none */ },
};

export interface FlatOptions {
  cpl?: number;
  /** 16-bit mode: CS base (IP 0 is this linear address); default 0 */
  realModeCodeBase?: number;
  /** another core over the same memory (createSharedMemory for several cores), as core `core` */
  shared?: SharedMemory;
  core?: number;
}

/** A fresh core over `ramBytes` of RAM, in `mode`, ready to run from any RIP. */
export function makeFlatCpu(mode: Mode, ramBytes: number, opts: FlatOptions = {}): Cpu {
  const shared = opts.shared ?? createSharedMemory(ramBytes, ramLayout(ramBytes), createControlBuffer(1, ramBytes));
  const cpu = new Cpu(shared, nullBus, opts.core ?? 0);
  const dv = new DataView(cpu.shared.ram);
  for (let s = 0; s < 6; s++) {
    cpu.segSel[s] = 0;
    cpu.segBase[s] = 0;
    cpu.segLimit[s] = mode === 16 ? 0xffff : 0xffffffff;
    cpu.segAttr[s] = 0x93 | (mode === 32 ? 0x4000 : 0);
  }
  cpu.segAttr[CS] = 0x9b | (mode === 32 ? 0x4000 : 0) | (mode === 64 ? 0x2000 : 0);
  if (mode === 16 && opts.realModeCodeBase) {
    cpu.segSel[CS] = opts.realModeCodeBase >>> 4;
    cpu.segBase[CS] = opts.realModeCodeBase;
  }
  cpu.cpl = opts.cpl ?? 0;
  if (mode === 64) {
    // PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 with two 2 MiB pages; above 4 MiB: not present
    const t = PTE_P | PTE_W | PTE_U;
    dv.setUint32(0x1000, 0x2000 | t, true);
    dv.setUint32(0x2000, 0x3000 | t, true);
    dv.setUint32(0x3000, 0x000000 | t | PTE_PS, true);
    dv.setUint32(0x3008, 0x200000 | t | PTE_PS, true);
    cpu.cr3 = 0x1000;
    cpu.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    cpu.cr4 = CR4_PAE | CR4_OSFXSR;
    cpu.efer = EFER_LME | EFER_LMA | EFER_NXE;
    cpu.pagingMode = 4;
    cpu.protectedMode = true;
    cpu.mode64 = true;
    cpu.def32 = false;
    cpu.stackSize = 8;
  } else if (mode === 32) {
    cpu.cr0 = CR0_PE | CR0_ET | CR0_NE;
    cpu.protectedMode = true;
    cpu.def32 = true;
    cpu.stackSize = 4;
  } else {
    cpu.protectedMode = false;
    cpu.def32 = false;
    cpu.stackSize = 2;
  }
  cpu.idtLimit = 0;
  cpu.selectTlbSet();
  cpu.stopOnFault = true;
  cpu.flags = FIXED1;
  cpu.lfOp = LF_NONE;
  return cpu;
}
