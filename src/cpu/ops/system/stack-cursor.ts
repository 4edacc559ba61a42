// A stack pointer that is not (yet) SS:RSP: the stack of an interrupt frame, a far call or a
// return while the privilege level changes. Accesses use an explicit privilege (the new CPL for
// pushes, the old one for pops) and nothing is committed to registers until the caller decides
// the transfer succeeded, so a fault part-way leaves the architectural state untouched.

import type { Cpu } from '../../cpu.js';
import { ACC_READ, ACC_WRITE } from '../../cpu-memory.js';
import { RSP, SS_VEC, TWO32 } from '../../regs.js';
import { isCanonical } from '../../segmentation.js';

export class StackCursor {
  private cpu!: Cpu;
  /** segment base (unused for 64-bit stacks) */
  base = 0;
  /** stack pointer: signed canonical Number for width 8, else 0..2^32-1 (or 0..0xffff) */
  sp = 0;
  /** address size of the stack: 2, 4 or 8 */
  width = 8;
  /** accesses are user-mode accesses (target CPL 3) */
  user = false;
  /** high half of the last 8-byte pop */
  vhi = 0;

  init(cpu: Cpu, base: number, sp: number, width: number, user: boolean): this {
    this.cpu = cpu;
    this.base = base;
    this.width = width;
    this.sp = width === 8 ? sp : width === 4 ? sp >>> 0 : sp & 0xffff;
    this.user = user;
    return this;
  }

  /** Start from the current SS:RSP. */
  fromCurrent(cpu: Cpu, user: boolean): this {
    const sp = cpu.stackSize === 8 ? cpu.hi[RSP] * TWO32 + (cpu.lo[RSP] >>> 0) : cpu.lo[RSP];
    return this.init(cpu, cpu.segBase[2], sp, cpu.stackSize, user);
  }

  private lin(): number {
    if (this.width === 8) {
      if (!isCanonical(this.sp)) this.cpu.fault(SS_VEC, 0);
      return this.sp;
    }
    return (this.base + this.sp) % TWO32;
  }

  private move(delta: number): void {
    const s = this.sp + delta;
    this.sp = this.width === 8 ? s : this.width === 4 ? (s + TWO32) % TWO32 : (s + 0x10000) & 0xffff;
  }

  push(size: number, lo: number, hi: number): void {
    this.move(-size);
    const lin = this.lin();
    const cpu = this.cpu;
    if (this.user === (cpu.cpl === 3)) {
      cpu.writeMem(size, lin, lo, hi);
      return;
    }
    writeAs(cpu, lin, size, lo, this.user);
    if (size === 8) writeAs(cpu, lin + 4, 4, hi, this.user);
  }

  pop(size: number): number {
    const lin = this.lin();
    const cpu = this.cpu;
    let v: number;
    if (this.user === (cpu.cpl === 3)) {
      v = cpu.readMem(size, lin);
      this.vhi = size === 8 ? cpu.vhi : 0;
    } else {
      v = readAs(cpu, lin, size === 8 ? 4 : size, this.user);
      this.vhi = size === 8 ? readAs(cpu, lin + 4, 4, this.user) : 0;
    }
    this.move(size);
    return v;
  }

  /** Write the cursor back to RSP (only the stack's width of it, as hardware does). */
  commit(): void {
    const cpu = this.cpu;
    if (this.width === 8) {
      const hi = Math.floor(this.sp / TWO32);
      cpu.hi[RSP] = hi | 0;
      cpu.lo[RSP] = (this.sp - hi * TWO32) | 0;
    } else if (this.width === 4) {
      cpu.lo[RSP] = this.sp | 0;
      if (cpu.mode64) cpu.hi[RSP] = 0;
    } else {
      cpu.lo[RSP] = (cpu.lo[RSP] & ~0xffff) | (this.sp & 0xffff);
    }
  }
}

/** Write 1/2/4 bytes with an explicit privilege (not through the current CPL's TLB set). */
export function writeAs(cpu: Cpu, lin: number, size: number, v: number, user: boolean): void {
  if ((lin & 0xfff) + size > 4096) {
    cpu.translate(lin, ACC_WRITE, user);
    cpu.translate(lin + size - 1, ACC_WRITE, user);
    for (let k = 0; k < size; k++) cpu.physWrite(cpu.translate(lin + k, ACC_WRITE, user), 1, (v >>> (8 * k)) & 0xff);
    return;
  }
  cpu.physWrite(cpu.translate(lin, ACC_WRITE, user), size, v);
}

export function readAs(cpu: Cpu, lin: number, size: number, user: boolean): number {
  if ((lin & 0xfff) + size > 4096) {
    let v = 0;
    for (let k = 0; k < size; k++) v |= cpu.physRead(cpu.translate(lin + k, ACC_READ, user), 1) << (8 * k);
    return size === 2 ? v & 0xffff : v;
  }
  return cpu.physRead(cpu.translate(lin, ACC_READ, user), size);
}

/** One shared cursor: frames are built one at a time on a core (workers do not share it). */
export const frameStack = new StackCursor();
