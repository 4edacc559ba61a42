// Who owns which bytes of guest physical memory while the loader works. The kernel image is
// claimed first, at the addresses it asks for; the loader's own structures (boot information,
// page tables, GDT, stack, command line, modules) then go to their usual address when that is
// free and to the first free place in their allowed range otherwise, as QEMU's loaders leave
// room for any image that fits. Anything that truly cannot fit is one BootError naming both
// parties.

import { BootError, hex } from './boot-error.js';
import type { ReservedRegion } from './boot-plan.js';
import type { GuestWriter } from './guest-writer.js';

export interface PlaceRequest {
  length: number;
  /** power of two, default 16 */
  align?: number;
  /** the usual address (QEMU's); used when it is free */
  prefer?: number;
  /** ranges [lo, hi) searched in order, lowest address first, when `prefer` is taken */
  within: [number, number][];
  kind: ReservedRegion['kind'];
  what: string;
  /** search each range from its top down (initrd: as high as allowed, as QEMU) */
  topDown?: boolean;
}

const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;
const alignDown = (v: number, a: number) => Math.floor(v / a) * a;

export class PhysicalPlacer {
  /** every claimed range, in claim order */
  readonly regions: ReservedRegion[] = [];

  constructor(private readonly w: GuestWriter) {}

  /** the first claimed region overlapping [base, base+length), if any */
  conflict(base: number, length: number): ReservedRegion | undefined {
    return this.regions.find((r) => base < r.base + r.length && r.base < base + length);
  }

  isFree(base: number, length: number): boolean {
    return this.w.isRam(base, length) && this.conflict(base, length) === undefined;
  }

  /** Claim exactly [base, base+length) or throw (outside RAM / overlapping a claimed region). */
  claim(base: number, length: number, kind: ReservedRegion['kind'], what: string): void {
    if (length === 0) return;
    if (!this.w.isRam(base, length)) throw new BootError(`${what} at ${hex(base)}-${hex(base + length)} is outside RAM`);
    const r = this.conflict(base, length);
    if (r) throw new BootError(`${what} at ${hex(base)}-${hex(base + length)} overlaps ${r.what} at ${hex(r.base)}-${hex(r.base + r.length)}`);
    this.regions.push({ base, length, kind, what });
  }

  /** Mark a range as taken without requiring RAM behind it (holes the loader must avoid). */
  fence(base: number, length: number, kind: ReservedRegion['kind'], what: string): void {
    this.regions.push({ base, length, kind, what });
  }

  /** Place a structure: at `prefer` if free, else the first free aligned fit in `within`. */
  place(q: PlaceRequest): number {
    const align = q.align ?? 16;
    const len = Math.max(q.length, 1);
    if (q.prefer !== undefined && q.prefer % align === 0 && this.isFree(q.prefer, len)) {
      this.claim(q.prefer, len, q.kind, q.what);
      return q.prefer;
    }
    for (const [lo, hi] of q.within) {
      const at = q.topDown ? this.searchDown(lo, hi, len, align) : this.searchUp(lo, hi, len, align);
      if (at !== undefined) {
        this.claim(at, len, q.kind, q.what);
        return at;
      }
    }
    const ranges = q.within.map(([lo, hi]) => `${hex(lo)}-${hex(hi)}`).join(', ');
    throw new BootError(`no room for ${q.what} in ${ranges}: the kernel image, the ACPI tables and the loader's other data fill it`);
  }

  private searchUp(lo: number, hi: number, len: number, align: number): number | undefined {
    let at = alignUp(lo, align);
    while (at + len <= hi) {
      if (!this.w.isRam(at, len)) return undefined;
      const r = this.conflict(at, len);
      if (!r) return at;
      at = alignUp(r.base + r.length, align);
    }
    return undefined;
  }

  private searchDown(lo: number, hi: number, len: number, align: number): number | undefined {
    let at = alignDown(hi - len, align);
    while (at >= lo) {
      const r = this.conflict(at, len);
      if (!r && this.w.isRam(at, len)) return at;
      if (!r) return undefined;
      at = alignDown(r.base - len, align);
    }
    return undefined;
  }
}
