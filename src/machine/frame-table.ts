// The 2 MiB frame table in the control block: one (owner, flags) pair per frame of guest RAM,
// readable from any thread. Owners: FRAME_FREE, FRAME_SHARED (the kernel partition:
// firmware tables, the kernel image, modules) or a core index (a DIME's private frame).
// The loader's plan fills it at boot; views (statistics, the orchestrator's monitor) read it.

import type { BootPlan } from '../boot/boot-plan.js';
import {
  FF_KERNEL_IMAGE, FF_MODULE, FF_RESERVED, FRAME_FREE, FRAME_SHARED, G_NCORES, frameTableBase,
} from '../abi/control-block.js';
import { FRAME_SIZE, ramOffset, type RamLayout } from '../abi/memory-map.js';

export interface FrameEntry {
  frame: number;
  owner: number;
  flags: number;
}

export class FrameTable {
  private readonly base: number;
  readonly frames: number;

  constructor(private readonly ctl: Int32Array, readonly layout: RamLayout) {
    this.base = frameTableBase(ctl[G_NCORES]);
    this.frames = Math.ceil(layout.ramBytes / FRAME_SIZE);
  }

  get(frame: number): FrameEntry {
    this.check(frame);
    return { frame, owner: Atomics.load(this.ctl, this.base + 2 * frame), flags: Atomics.load(this.ctl, this.base + 2 * frame + 1) };
  }

  set(frame: number, owner: number, flags: number): void {
    this.check(frame);
    Atomics.store(this.ctl, this.base + 2 * frame, owner);
    Atomics.store(this.ctl, this.base + 2 * frame + 1, flags);
  }

  /** Claim every frame overlapping [paddr, paddr+length) for `owner`, adding `flags`. */
  markPhysical(paddr: number, length: number, owner: number, flags: number): void {
    if (length <= 0) return;
    for (let p = paddr - (paddr % FRAME_SIZE); p < paddr + length; p += FRAME_SIZE) {
      const off = ramOffset(this.layout, p);
      if (off < 0) continue;
      const f = Math.floor(off / FRAME_SIZE);
      const cur = this.get(f);
      this.set(f, owner, cur.flags | flags);
    }
  }

  /** Counts by owner: free, shared (kernel partition) and per core. */
  summary(): { free: number; shared: number; perCore: Map<number, number> } {
    let free = 0, shared = 0;
    const perCore = new Map<number, number>();
    for (let f = 0; f < this.frames; f++) {
      const o = Atomics.load(this.ctl, this.base + 2 * f);
      if (o === FRAME_FREE) free++;
      else if (o === FRAME_SHARED) shared++;
      else perCore.set(o, (perCore.get(o) ?? 0) + 1);
    }
    return { free, shared, perCore };
  }

  /** Record what the loader placed: firmware areas, kernel image and modules belong to the kernel partition. */
  fillFromPlan(plan: BootPlan): void {
    for (const e of plan.memoryMap) if (e.type !== 1) this.markPhysical(e.base, e.length, FRAME_SHARED, FF_RESERVED);
    for (const r of plan.reservedRegions) this.markPhysical(r.base, r.length, FRAME_SHARED, FF_RESERVED);
    this.markPhysical(plan.kernel.low, plan.kernel.high - plan.kernel.low, FRAME_SHARED, FF_KERNEL_IMAGE);
    for (const m of plan.modules) this.markPhysical(m.start, m.end - m.start, FRAME_SHARED, FF_MODULE);
  }

  private check(frame: number): void {
    if (!Number.isInteger(frame) || frame < 0 || frame >= this.frames) throw new RangeError(`frame ${frame} out of range 0..${this.frames - 1}`);
  }
}
