// Linear memory access for one core: software TLBs, the page walkers (32-bit, PAE, 4-level),
// RAM fast paths, MMIO routing, self-modifying-code tracking and LOCKed atomics.
//
// TLBs are direct-mapped, one set per (privilege, access kind): supervisor/user x read/write/
// fetch. Switching CPL swaps the set instead of flushing. A hit is one floor, one mask, one
// compare and a typed-array read. Entries hold only RAM pages; MMIO always takes the slow path.
// A write entry exists only for a page that is writable, already dirty and holds no decoded code.

import { G_CODE_GEN, G_CODE_WRITES } from '../abi/control-block.js';
import { ramOffset, type RamLayout } from '../abi/memory-map.js';
import type { SharedMemory } from '../abi/shared-memory.js';
import type { CpuBus } from './bus.js';
import { CpuState } from './cpu-state.js';
import { S_HI, S_LO, S_TLB, scratchOffset, TLB_ENTRIES, TLB_OFF, TLB_TABLE_BYTES, TLB_TAG32 } from '../abi/core-scratch.js';
import {
  CR0_WP, CR4_PSE, EFER_NXE, GP, PFE_I, PFE_P, PFE_RSVD, PFE_U, PFE_W, PF_VEC, PTE_A, PTE_D, PTE_G, PTE_HI_NX,
  PTE_P, PTE_PS, PTE_U, PTE_W, TWO32,
} from './regs.js';

export const ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2;
const TLB_BITS = 10;
export const TLB_SIZE = 1 << TLB_BITS;
if (TLB_SIZE !== TLB_ENTRIES) throw new Error('internal: TLB size differs from the scratch layout');
const TLB_MASK = TLB_SIZE - 1;
const NO_TAG = 0.5; // never equal to an integer page number
/** never a canonical page >> TLB_BITS (those lie in [-2^25, 2^25)) */
const TAG32_NONE = 0x7fffffff;

/** Thrown (as the singleton FAULT) after fault() records the vector and error code. */
export const FAULT = { fault: true } as const;

/**
 * One direct-mapped table. Its layout in the core's scratch area is what translated code reads
 * (translate.ts `tlbHit`): the f64 tags the JavaScript fast paths compare, then the RAM offsets
 * as u32, then each tag again as an i32 (the page number >> TLB_BITS, its index bits dropped), so
 * translated code checks and forms the address in integers: converting an f64 to an integer
 * costs V8's wasm code a round, a convert and a compare back.
 */
class Tlb {
  readonly tag: Float64Array;
  readonly off: Uint32Array;
  /** the tag for translated code: page >> TLB_BITS (canonical pages fit), TAG32_NONE when empty */
  readonly tag32: Int32Array;
  /** physical page of each entry (the RAM offset alone does not give it back across the hole) */
  readonly phys = new Float64Array(TLB_SIZE);
  readonly global = new Uint8Array(TLB_SIZE);
  /** `at`: a byte offset in `buf` (the core's scratch area, read by translated code), or private arrays */
  constructor(buf: ArrayBufferLike | null, at: number) {
    this.tag = buf ? new Float64Array(buf, at, TLB_SIZE) : new Float64Array(TLB_SIZE);
    this.off = buf ? new Uint32Array(buf, at + TLB_OFF, TLB_SIZE) : new Uint32Array(TLB_SIZE);
    this.tag32 = buf ? new Int32Array(buf, at + TLB_TAG32, TLB_SIZE) : new Int32Array(TLB_SIZE);
    this.tag.fill(NO_TAG);
    this.tag32.fill(TAG32_NONE);
  }
  set(i: number, page: number, off: number, phys: number, global: boolean): void {
    this.tag[i] = page; this.tag32[i] = Math.floor(page / TLB_SIZE); this.off[i] = off; this.phys[i] = phys; this.global[i] = global ? 1 : 0;
  }
  private drop(i: number): void { this.tag[i] = NO_TAG; this.tag32[i] = TAG32_NONE; }
  flush(keepGlobal: boolean): void {
    if (!keepGlobal) {
      this.tag.fill(NO_TAG);
      this.tag32.fill(TAG32_NONE);
      return;
    }
    for (let i = 0; i < TLB_SIZE; i++) if (!this.global[i]) this.drop(i);
  }
  flushPage(page: number): void {
    const i = page & TLB_MASK;
    if (this.tag[i] === page) this.drop(i);
  }
}

/** bytes one entry maps at each level of 64-bit/PAE paging (1: a PTE's 4 KiB ... 4: a PML4E's 512 GiB); a table, because `2 ** n` with a variable n is a call to pow */
const LEVEL_SPAN = [0, 2 ** 12, 2 ** 21, 2 ** 30, 2 ** 39];
export class CpuMemory extends CpuState {
  readonly ram: Uint8Array;
  readonly dv: DataView;
  readonly i32: Int32Array;
  readonly u16: Uint16Array;
  readonly big: BigInt64Array;
  readonly layout: RamLayout;
  readonly shared: SharedMemory;
  bus: CpuBus;

  private readonly tlbs: Tlb[];
  /** byte offset of this core's scratch area in the shared memory, or -1 (src/abi/core-scratch.ts) */
  readonly scratch: number;
  // current set (swapped on CPL change): read / write / fetch
  rTag!: Float64Array; rOff!: Uint32Array;
  wTag!: Float64Array; wOff!: Uint32Array;
  xTag!: Float64Array; xOff!: Uint32Array;
  /** TLB set in use: 0 supervisor, 1 user (translated code picks its tables by it) */
  userSet = -1;
  /** last observed G_CODE_GEN: a change means some page became code, so drop write entries */
  private seenCodeGen = 0;
  /** scratch: high half of the last 64-bit read */
  vhi = 0;
  /** statistics */
  tlbMisses = 0;

  constructor(shared: SharedMemory, bus: CpuBus, coreIndex = 0) {
    const at = scratchOffset(shared, coreIndex);
    super(at >= 0 ? new Int32Array(shared.ram, at + S_LO, 16) : undefined,
      at >= 0 ? new Int32Array(shared.ram, at + S_HI, 16) : undefined);
    this.scratch = at;
    const buf = at >= 0 ? shared.ram : null;
    this.tlbs = [0, 1, 2, 3, 4, 5].map((t) => new Tlb(buf, at + S_TLB + t * TLB_TABLE_BYTES));
    if (at >= 0) { new Int32Array(shared.ram, at, 64).fill(0); }
    this.shared = shared;
    this.layout = shared.layout;
    // views cover guest RAM only (the buffer may continue with the cores' scratch areas)
    const bytes = Math.min(shared.ram.byteLength, shared.layout.ramBytes);
    this.ram = new Uint8Array(shared.ram, 0, bytes);
    this.dv = new DataView(shared.ram, 0, bytes);
    this.i32 = new Int32Array(shared.ram, 0, bytes >> 2);
    this.u16 = new Uint16Array(shared.ram, 0, bytes >> 1);
    this.big = new BigInt64Array(shared.ram, 0, bytes >> 3);
    this.bus = bus;
    this.selectTlbSet();
  }

  /** Point the fast-path arrays at the TLB set of the current privilege (call on CPL change). */
  selectTlbSet(): void {
    const user = this.cpl === 3 ? 1 : 0;
    if (user === this.userSet) return;
    this.userSet = user;
    this.tlbGen++;
    const b = user * 3;
    this.rTag = this.tlbs[b].tag; this.rOff = this.tlbs[b].off;
    this.wTag = this.tlbs[b + 1].tag; this.wOff = this.tlbs[b + 1].off;
    this.xTag = this.tlbs[b + 2].tag; this.xOff = this.tlbs[b + 2].off;
  }

  /** CR3 write / CR0.PG or CR4 change: flush (keeping global pages when `keepGlobal`). */
  flushTlb(keepGlobal: boolean): void {
    this.tlbGen++;
    for (const t of this.tlbs) t.flush(keepGlobal);
  }

  /** INVLPG */
  flushTlbPage(lin: number): void {
    this.tlbGen++;
    // Entries are per 4 KiB. When some came from a 2 MiB/1 GiB page, the other 4 KiB pieces of
    // that page must go too: flush everything (global entries included), which is always allowed.
    if (this.largePagesCached) {
      this.largePagesCached = false;
      this.flushTlb(false);
      return;
    }
    const page = Math.floor(lin / 4096);
    for (const t of this.tlbs) t.flushPage(page);
  }

  /** bumped whenever a translation may change (flush, INVLPG, privilege switch): block links check it */
  tlbGen = 0;

  /** some TLB entry came from a large page since the last full flush */
  private largePagesCached = false;

  /** Drop write entries (some page became a code page, possibly on another core). */
  flushWriteTlbs(): void {
    this.tlbs[1].flush(false);
    this.tlbs[4].flush(false);
  }

  /** Called at block boundaries: notices code pages created by any core. */
  syncCodeGen(): void {
    // a plain load: the generation only needs to be seen eventually, not ordered
    const g = this.shared.ctl[G_CODE_GEN];
    if (g !== this.seenCodeGen) {
      this.seenCodeGen = g;
      this.flushWriteTlbs();
    }
  }

  // ------------------------------------------------------------------ faults

  fault(vector: number, code = -1): never {
    this.faultVector = vector;
    this.faultCode = code;
    throw FAULT;
  }

  // ------------------------------------------------------------------ translation

  /**
   * Translate a linear address for an access of the given kind at the given privilege.
   * Returns the physical address, fills the TLB, sets accessed/dirty bits; raises #PF/#GP.
   */
  translate(lin: number, acc: number, user: boolean): number {
    // Callers that need a physical address (stacks of interrupt frames, descriptor tables,
    // string fast paths) come here directly: an entry that the fast paths would trust is as
    // good as a walk (same permissions, A/D already set), and costs a compare instead of four
    // dependent loads and atomic ORs. The interrupt and system-call paths hit this per frame.
    const page = Math.floor(lin / 4096);
    const t = this.tlbs[(user ? 3 : 0) + acc];
    const i = page & TLB_MASK;
    if (t.tag[i] === page) return t.phys[i] + (lin - page * 4096);
    this.tlbMisses++;
    const pm = this.pagingMode;
    if (pm === 0) {
      const phys = this.mode64 ? lin : lin % TWO32;
      this.fill(lin, phys, acc, user, false);
      return phys;
    }
    if (pm === 4) {
      // canonical check: bits 63..47 equal
      if (lin >= 0x800000000000 || lin < -0x800000000000) {
        this.fault(this.canonicalFaultVector, 0);
      }
    }
    return this.walk(lin, acc, user);
  }

  /** #SS when the access is a stack reference, else #GP (set by stack helpers around pushes). */
  canonicalFaultVector = GP;

  private pfError(acc: number, user: boolean, present: boolean, rsvd = false): number {
    let e = 0;
    if (present) e |= PFE_P;
    if (acc === ACC_WRITE) e |= PFE_W;
    if (user) e |= PFE_U;
    if (rsvd) e |= PFE_RSVD | PFE_P;
    if (acc === ACC_EXEC && (this.efer & EFER_NXE) !== 0) e |= PFE_I;
    return e;
  }

  private pageFault(lin: number, acc: number, user: boolean, present: boolean, rsvd = false): never {
    this.cr2 = lin; // signed canonical form keeps it exact; MOV from CR2 splits it into 64 bits
    this.fault(PF_VEC, this.pfError(acc, user, present, rsvd));
  }

  private walk(lin: number, acc: number, user: boolean): number {
    const pm = this.pagingMode;
    const nxe = (this.efer & EFER_NXE) !== 0;
    const wp = (this.cr0 & CR0_WP) !== 0;
    let canWrite = true, canUser = true, nx = false, global = false;
    let phys = 0;
    if (pm === 2) {
      // legacy 32-bit paging: 2 levels of 32-bit entries, 4 MiB pages with CR4.PSE
      const pdeAddr = (this.cr3 & 0xfffff000) + ((lin >>> 22) << 2);
      const pdeOff = this.physOffsetOrFault(pdeAddr);
      const pde = this.i32[pdeOff >> 2];
      if (!(pde & PTE_P)) this.pageFault(lin, acc, user, false);
      canWrite = (pde & PTE_W) !== 0; canUser = (pde & PTE_U) !== 0;
      if ((pde & PTE_PS) && (this.cr4 & CR4_PSE)) {
        this.largePagesCached = true;
        global = (pde & PTE_G) !== 0;
        this.checkPerm(lin, acc, user, canWrite, canUser, false, wp);
        this.setAD(pdeOff, acc === ACC_WRITE);
        // bits 20:13 give physical bits 39:32 (PSE-36); keep 32-bit
        phys = ((pde & 0xffc00000) >>> 0) + (lin & 0x3fffff);
      } else {
        Atomics.or(this.i32, pdeOff >> 2, PTE_A);
        const pteAddr = (pde & 0xfffff000) + (((lin >>> 12) & 0x3ff) << 2);
        const pteOff = this.physOffsetOrFault(pteAddr);
        const pte = this.i32[pteOff >> 2];
        if (!(pte & PTE_P)) this.pageFault(lin, acc, user, false);
        canWrite = canWrite && (pte & PTE_W) !== 0; canUser = canUser && (pte & PTE_U) !== 0;
        global = (pte & PTE_G) !== 0;
        this.checkPerm(lin, acc, user, canWrite, canUser, false, wp);
        this.setAD(pteOff, acc === ACC_WRITE);
        phys = ((pte & 0xfffff000) >>> 0) + (lin & 0xfff);
      }
    } else {
      // PAE (3 levels, 4-entry PDPT) or 4-level paging: 64-bit entries, 9 bits per level
      let table: number;
      let level: number;
      if (pm === 3) {
        const pdpteAddr = (this.cr3 & 0xffffffe0) + ((lin >>> 30) << 3);
        const off = this.physOffsetOrFault(pdpteAddr);
        const lo = this.i32[off >> 2], hi = this.i32[(off >> 2) + 1];
        if (!(lo & PTE_P)) this.pageFault(lin, acc, user, false);
        table = entryAddr(lo, hi);
        level = 2;
      } else {
        table = this.cr3 - (this.cr3 % 4096);
        level = 4;
      }
      for (; level >= 1; level--) {
        const size = LEVEL_SPAN[level];
        const idx = Math.floor(lin / size) & 511;
        const eOff = this.physOffsetOrFault(table + idx * 8);
        const lo = this.i32[eOff >> 2], hi = this.i32[(eOff >> 2) + 1];
        if (!(lo & PTE_P)) this.pageFault(lin, acc, user, false);
        // address bits above the 40-bit physical width (CPUID 0x80000008) are reserved
        if (hi & 0x000fff00) this.pageFault(lin, acc, user, true, true);
        if (hi & PTE_HI_NX) {
          if (!nxe) this.pageFault(lin, acc, user, true, true);
          nx = true;
        }
        canWrite = canWrite && (lo & PTE_W) !== 0;
        canUser = canUser && (lo & PTE_U) !== 0;
        const large = level <= 3 && level >= 2 && (lo & PTE_PS) !== 0;
        if (level === 4 && (lo & PTE_PS)) this.pageFault(lin, acc, user, true, true);
        // a large page's frame must be aligned: bits 20:13 (2 MiB) or 29:13 (1 GiB) are reserved
        if (large && (lo & (level === 2 ? 0x001fe000 : 0x3fffe000)) !== 0) this.pageFault(lin, acc, user, true, true);
        if (large || level === 1) {
          if (large) this.largePagesCached = true;
          global = (lo & PTE_G) !== 0;
          this.checkPerm(lin, acc, user, canWrite, canUser, nx, wp);
          this.setAD(eOff, acc === ACC_WRITE);
          const frame = level === 1 ? entryAddr(lo, hi) : entryAddr(lo & ~0x1fff, hi); // PAT bit 12 in large pages
          const inPage = lin - Math.floor(lin / size) * size;
          phys = frame - (frame % size) + inPage;
          break;
        }
        Atomics.or(this.i32, eOff >> 2, PTE_A);
        table = entryAddr(lo, hi);
      }
    }
    this.fill(lin, phys, acc, user, global, canWrite);
    return phys;
  }

  private checkPerm(lin: number, acc: number, user: boolean, canWrite: boolean, canUser: boolean, nx: boolean,
    wp: boolean): void {
    if (user && !canUser) this.pageFault(lin, acc, user, true);
    if (acc === ACC_WRITE && !canWrite && (user || wp)) this.pageFault(lin, acc, user, true);
    if (acc === ACC_EXEC && nx) this.pageFault(lin, acc, user, true);
  }

  private setAD(off: number, dirty: boolean): void {
    Atomics.or(this.i32, off >> 2, dirty ? PTE_A | PTE_D : PTE_A);
  }

  /** RAM offset of a paging-structure entry; entries outside RAM are a fatal guest error (#PF rsvd). */
  private physOffsetOrFault(paddr: number): number {
    const off = ramOffset(this.layout, paddr);
    if (off < 0) this.fault(GP, 0);
    return off;
  }

  private fill(lin: number, phys: number, acc: number, user: boolean, global: boolean, writable = true): void {
    const pagePhys = phys - (phys % 4096);
    const off = ramOffset(this.layout, pagePhys);
    if (off < 0) return; // MMIO: never cached
    const page = Math.floor(lin / 4096);
    if (this.bp.watch !== 0 && this.watchedPage(page)) return;
    const i = page & TLB_MASK;
    const set = (user ? 3 : 0);
    // A read or fetch fills its own table; a write (which already set D) fills the write table
    // unless the page holds decoded code.
    if (acc === ACC_WRITE) {
      if (!writable && (user || (this.cr0 & CR0_WP) !== 0)) return;
      if (this.shared.codeFlags[off >>> 12]) return;
      const t = this.tlbs[set + 1];
      t.set(i, page, off, pagePhys, global);
    } else {
      const t = this.tlbs[set + (acc === ACC_EXEC ? 2 : 0)];
      t.set(i, page, off, pagePhys, global);
    }
  }

  // ------------------------------------------------------------------ physical access

  /** Physical read/write of 1, 2 or 4 bytes (RAM or MMIO); used by slow paths and walkers. */
  physRead(paddr: number, size: number): number {
    const off = ramOffset(this.layout, paddr);
    if (off >= 0 && off + size <= this.ram.length) {
      if (size === 1) return this.ram[off];
      if (size === 2) return this.dv.getUint16(off, true);
      return this.dv.getInt32(off, true);
    }
    // a device (or an unbacked address, all ones) may answer wider than the access: keep `size` bytes
    const v = this.bus.mmioRead(paddr, size);
    return size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v;
  }

  physWrite(paddr: number, size: number, v: number): void {
    const off = ramOffset(this.layout, paddr);
    if (off >= 0 && off + size <= this.ram.length) {
      this.noteCodeWrite(off, size);
      if (size === 1) this.ram[off] = v;
      else if (size === 2) this.dv.setUint16(off, v, true);
      else this.dv.setInt32(off, v, true);
      return;
    }
    this.bus.mmioWrite(paddr, size, v);
  }

  /** A write touching a page with decoded code invalidates that page's blocks (all cores). */
  noteCodeWrite(off: number, size: number): void {
    const f = this.shared.codeFlags;
    const p0 = off >>> 12, p1 = (off + size - 1) >>> 12;
    for (let p = p0; p <= p1; p++) {
      if (f[p]) {
        f[p] = 0;
        Atomics.add(this.shared.codeGen, p, 1);
        Atomics.add(this.shared.ctl, G_CODE_WRITES, 1);
      }
    }
  }

  // ------------------------------------------------------------------ linear access

  /** Data breakpoints: note which armed ones [lin, lin+size) touches (slow path only). */
  private watch(lin: number, size: number, write: boolean): void {
    const m = this.bp.watch;
    for (let n = 0; n < 4; n++) {
      if (((m >> n) & 1) === 0 || (!write && ((this.bp.writeOnly >> n) & 1) !== 0)) continue;
      const a = this.bp.lin[n];
      if (lin < a + this.bp.len[n] && a < lin + size) this.bp.hits |= 1 << n;
    }
  }

  /** a page holding a watched address stays out of the TLBs */
  private watchedPage(page: number): boolean {
    const m = this.bp.watch;
    for (let n = 0; n < 4; n++) if (((m >> n) & 1) !== 0 && Math.floor(this.bp.lin[n] / 4096) === page) return true;
    return false;
  }

  private slowRead(lin: number, size: number): number {
    if (this.bp.watch !== 0) this.watch(lin, size, false);
    const user = this.cpl === 3;
    if ((lin & 0xfff) + size > 4096) {
      let v = 0;
      for (let k = 0; k < size; k++) v |= this.read8(lin + k) << (8 * k);
      return size === 2 ? v & 0xffff : v;
    }
    const phys = this.translate(lin, ACC_READ, user);
    return this.physRead(phys, size);
  }

  private slowWrite(lin: number, size: number, v: number): void {
    if (this.bp.watch !== 0) this.watch(lin, size, true);
    const user = this.cpl === 3;
    if ((lin & 0xfff) + size > 4096) {
      // both pages must be writable before any byte is written
      const first = 4096 - (lin & 0xfff);
      this.translate(lin, ACC_WRITE, user);
      this.translate(lin + first, ACC_WRITE, user);
      for (let k = 0; k < size; k++) this.write8(lin + k, (v >>> (8 * k)) & 0xff);
      return;
    }
    const phys = this.translate(lin, ACC_WRITE, user);
    this.physWrite(phys, size, v);
  }

  /**
   * RAM offset of a `size`-byte access at `lin` that the read TLB (readOffset) or the write TLB
   * (writeOffset: dirty, writable, non-code pages) covers within one page, or -1 when the slow
   * path must translate (miss, MMIO, page-crossing). The fast path of every sized access.
   */
  readOffset(lin: number, size: number): number {
    const page = Math.floor(lin / 4096);
    const i = page & TLB_MASK;
    const o = lin & 0xfff;
    return this.rTag[i] === page && o + size <= 4096 ? this.rOff[i] + o : -1;
  }

  writeOffset(lin: number, size: number): number {
    const page = Math.floor(lin / 4096);
    const i = page & TLB_MASK;
    const o = lin & 0xfff;
    return this.wTag[i] === page && o + size <= 4096 ? this.wOff[i] + o : -1;
  }

  read8(lin: number): number {
    const off = this.readOffset(lin, 1);
    return off >= 0 ? this.ram[off] : this.slowRead(lin, 1) & 0xff;
  }

  read16(lin: number): number {
    const off = this.readOffset(lin, 2);
    return off >= 0 ? this.dv.getUint16(off, true) : this.slowRead(lin, 2);
  }

  /** returns a signed 32-bit value */
  read32(lin: number): number {
    const off = this.readOffset(lin, 4);
    return off >= 0 ? this.dv.getInt32(off, true) : this.slowRead(lin, 4) | 0;
  }

  /** returns the low half; the high half is left in this.vhi */
  read64(lin: number): number {
    const off = this.readOffset(lin, 8);
    if (off >= 0) {
      this.vhi = this.dv.getInt32(off + 4, true);
      return this.dv.getInt32(off, true);
    }
    if ((lin & 0xfff) <= 4088 && this.bus.mmioRead64 !== undefined) return this.slowRead64(lin);
    const lo = this.read32(lin);
    this.vhi = this.read32(lin + 4);
    return lo;
  }

  /** An aligned-enough 8-byte read outside the TLB: one translation, and one device access for MMIO. */
  private slowRead64(lin: number): number {
    if (this.bp.watch !== 0) this.watch(lin, 8, false);
    const phys = this.translate(lin, ACC_READ, this.cpl === 3);
    const off = ramOffset(this.layout, phys);
    if (off >= 0 && off + 8 <= this.ram.length) {
      this.vhi = this.dv.getInt32(off + 4, true);
      return this.dv.getInt32(off, true);
    }
    const v = this.bus.mmioRead64!(phys);
    this.vhi = Number(BigInt.asIntN(32, v >> 32n));
    return Number(BigInt.asIntN(32, v));
  }

  write8(lin: number, v: number): void {
    const off = this.writeOffset(lin, 1);
    if (off >= 0) this.ram[off] = v;
    else this.slowWrite(lin, 1, v & 0xff);
  }

  write16(lin: number, v: number): void {
    const off = this.writeOffset(lin, 2);
    if (off >= 0) this.dv.setUint16(off, v, true);
    else this.slowWrite(lin, 2, v & 0xffff);
  }

  write32(lin: number, v: number): void {
    const off = this.writeOffset(lin, 4);
    if (off >= 0) this.dv.setInt32(off, v, true);
    else this.slowWrite(lin, 4, v);
  }

  write64(lin: number, lo: number, hi: number): void {
    const off = this.writeOffset(lin, 8);
    if (off >= 0) {
      this.dv.setInt32(off, lo, true);
      this.dv.setInt32(off + 4, hi, true);
      return;
    }
    if ((lin & 0xfff) > 4088) {
      // check both pages before writing anything
      const user = this.cpl === 3;
      this.translate(lin, ACC_WRITE, user);
      this.translate(lin + 8 - 1, ACC_WRITE, user);
    } else if (this.bus.mmioWrite64 !== undefined) {
      this.slowWrite64(lin, lo, hi);
      return;
    }
    this.write32(lin, lo);
    this.write32(lin + 4, hi);
  }

  /** An 8-byte write within one page outside the TLB: one device access for MMIO. */
  private slowWrite64(lin: number, lo: number, hi: number): void {
    if (this.bp.watch !== 0) this.watch(lin, 8, true);
    const phys = this.translate(lin, ACC_WRITE, this.cpl === 3);
    const off = ramOffset(this.layout, phys);
    if (off >= 0 && off + 8 <= this.ram.length) {
      this.noteCodeWrite(off, 8);
      this.dv.setInt32(off, lo, true);
      this.dv.setInt32(off + 4, hi, true);
      return;
    }
    this.bus.mmioWrite64!(phys, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  }

  /** Probe that [lin, lin+size) is writable (for instructions that must not partially write). */
  probeWrite(lin: number, size: number): void {
    const user = this.cpl === 3;
    this.translate(lin, ACC_WRITE, user);
    if ((lin & 0xfff) + size > 4096) this.translate(lin + size - 1, ACC_WRITE, user);
  }

  /** Supervisor-privilege (implicit) accesses: descriptor tables, TSS, IDT. */
  readSys(lin: number, size: number): number {
    const phys = this.translate(lin, ACC_READ, false);
    if ((lin & 0xfff) + size > 4096) {
      let v = 0;
      for (let k = 0; k < size; k++) v |= this.physRead(this.translate(lin + k, ACC_READ, false), 1) << (8 * k);
      return v;
    }
    return this.physRead(phys, size);
  }

  writeSys(lin: number, size: number, v: number): void {
    if ((lin & 0xfff) + size > 4096) {
      for (let k = 0; k < size; k++) this.physWrite(this.translate(lin + k, ACC_WRITE, false), 1, (v >>> (8 * k)) & 0xff);
      return;
    }
    this.physWrite(this.translate(lin, ACC_WRITE, false), size, v);
  }

  // ------------------------------------------------------------------ instruction fetch

  /** Physical address of the page holding `lin` for instruction fetch (fills the fetch TLB). */
  fetchPagePhys(lin: number): number {
    const page = Math.floor(lin / 4096);
    const i = page & TLB_MASK;
    if (this.xTag[i] === page) return this.xOff[i]; // RAM offset (== phys for low RAM)
    const phys = this.translate(lin, ACC_EXEC, this.cpl === 3);
    const off = ramOffset(this.layout, phys - (phys % 4096));
    if (off < 0) this.fault(GP, 0); // executing from MMIO is not supported
    return off;
  }

  fetch8(lin: number): number {
    const off = this.fetchPagePhys(lin);
    return this.ram[off + (lin & 0xfff)];
  }

  // ------------------------------------------------------------------ LOCKed accesses

  /**
   * Atomic compare-exchange of `size` bytes (1, 2, 4) at a linear address; returns the old
   * value (zero-extended for 1/2, signed for 4). Misaligned accesses use a striped lock.
   */
  cmpxchgLocked(lin: number, size: number, expected: number, replacement: number): number {
    if (this.bp.watch !== 0) this.watch(lin, size, true);
    let off = this.writeOffset(lin, size);
    if (off < 0) {
      // TLB miss, MMIO or a page-crossing (split) lock: translate; split locks stay unatomic
      if ((lin & 0xfff) + size > 4096) return this.cmpxchgSlow(lin, size, expected, replacement);
      off = ramOffset(this.layout, this.translate(lin, ACC_WRITE, this.cpl === 3));
      if (off < 0) return this.cmpxchgSlow(lin, size, expected, replacement);
    }
    this.noteCodeWrite(off, size);
    if (size === 4 && (off & 3) === 0) return Atomics.compareExchange(this.i32, off >> 2, expected | 0, replacement | 0);
    if (size === 2 && (off & 1) === 0) return Atomics.compareExchange(this.u16, off >> 1, expected & 0xffff, replacement & 0xffff);
    if (size === 1) return Atomics.compareExchange(this.ram, off, expected & 0xff, replacement & 0xff);
    const ramOff = off;
    return this.withStripe(ramOff, () => {
      const old = this.read32Raw(ramOff, size);
      const m = size === 4 ? -1 : (1 << (8 * size)) - 1;
      if ((old & m) === (expected & m)) this.write32Raw(ramOff, size, replacement);
      return size === 4 ? old | 0 : old & m;
    });
  }


  /** 64-bit compare-exchange; returns old lo, old hi in this.vhi. */
  cmpxchg64Locked(lin: number, expLo: number, expHi: number, newLo: number, newHi: number): number {
    if (this.bp.watch !== 0) this.watch(lin, 8, true);
    let off = this.writeOffset(lin, 8);
    if (off < 0) off = ramOffset(this.layout, this.translate(lin, ACC_WRITE, this.cpl === 3));
    if (off >= 0 && (off & 7) === 0) {
      this.noteCodeWrite(off, 8);
      const exp = (BigInt(expHi) << 32n) | BigInt(expLo >>> 0);
      const rep = (BigInt(newHi) << 32n) | BigInt(newLo >>> 0);
      const old = Atomics.compareExchange(this.big, off >> 3, BigInt.asIntN(64, exp), BigInt.asIntN(64, rep));
      this.vhi = Number(old >> 32n) | 0;
      return Number(BigInt.asIntN(32, old)) | 0;
    }
    if (off < 0) {
      // outside RAM (a device): the access goes to the device as one 8-byte read and write, as
      // a bus-locked RMW does on hardware (the device sees no other access in between: the I/O
      // thread serves one request at a time)
      const lo = this.read64(lin), hi = this.vhi;
      if (lo === (expLo | 0) && hi === (expHi | 0)) this.write64(lin, newLo, newHi);
      else this.write64(lin, lo, hi);
      this.vhi = hi;
      return lo;
    }
    return this.withStripe(off, () => {
      const lo = this.read32(lin), hi = this.read32(lin + 4);
      if (lo === (expLo | 0) && hi === (expHi | 0)) this.write64(lin, newLo, newHi);
      else this.write64(lin, lo, hi); // a locked cmpxchg always writes
      this.vhi = hi;
      return lo;
    });
  }

  private read32Raw(off: number, size: number): number {
    if (size === 1) return this.ram[off];
    if (size === 2) return this.dv.getUint16(off, true);
    return this.dv.getInt32(off, true);
  }

  private write32Raw(off: number, size: number, v: number): void {
    this.noteCodeWrite(off, size);
    if (size === 1) this.ram[off] = v;
    else if (size === 2) this.dv.setUint16(off, v, true);
    else this.dv.setInt32(off, v, true);
  }

  /** Run `fn` holding the stripe lock covering RAM offset `off` (for misaligned/16-byte RMWs). */
  withStripe<T>(off: number, fn: () => T): T {
    const locks = this.shared.locks;
    const s = (off >>> 6) & 255;
    while (Atomics.compareExchange(locks, s, 0, 1) !== 0) {
      /* contention on a misaligned locked access: brief spin */
    }
    try {
      return fn();
    } finally {
      Atomics.store(locks, s, 0);
    }
  }

  private cmpxchgSlow(lin: number, size: number, expected: number, replacement: number): number {
    const old = size === 1 ? this.read8(lin) : size === 2 ? this.read16(lin) : this.read32(lin);
    const m = size === 4 ? -1 : (1 << (8 * size)) - 1;
    if ((old & m) === (expected & m)) {
      if (size === 1) this.write8(lin, replacement); else if (size === 2) this.write16(lin, replacement); else this.write32(lin, replacement);
    }
    return old;
  }

  /** Mark a RAM page as holding decoded code: writes to it now invalidate blocks everywhere. */
  markCodePage(ramOff: number): number {
    const p = ramOff >>> 12;
    if (!this.shared.codeFlags[p]) {
      this.shared.codeFlags[p] = 1;
      Atomics.add(this.shared.ctl, G_CODE_GEN, 1);
      this.syncCodeGen();
    }
    return Atomics.load(this.shared.codeGen, p);
  }
}

/** Physical address held in a 64-bit paging entry (bits 51:12). */
function entryAddr(lo: number, hi: number): number {
  return ((lo & 0xfffff000) >>> 0) + (hi & 0xfffff) * TWO32;
}
