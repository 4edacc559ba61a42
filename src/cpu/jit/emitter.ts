// Source builder for one block: register and memory operand expressions with the decoded
// numbers baked in, effective addresses inline, fault bookkeeping (`k` = index of the
// instruction that may throw next), flag sources and their lazy records, and the constants
// (helpers, fallback routines) handed to the generated function's factory.
//
// Registers live in locals: templates write `lo[3]` / `hi[3]` and every line is rewritten to
// the locals L3 / H3, which are loaded once at entry (and after a routine call) and stored
// back at the exit, before a routine call, and, for a fault, only those written since the
// last store (the catch handler knows which, per faulting instruction).

import { testCC } from '../flags.js';
import type { Insn } from '../insn.js';
import { CF, FS, GS, SS, SS_VEC, TWO32 } from '../regs.js';
import type { InsnPlan } from './flag-analysis.js';
import { ccExpr, cfExpr, FLAG_BITS, recordCode, type FlagSource } from './flag-source.js';
import { eaIndexed64, lazyCarry } from './runtime.js';
import { MODE_64 } from './template.js';

/** 2^47: 64-bit linear addresses must lie in [-CANON, CANON) */
export const CANON = 0x800000000000;

/** PARALLAX_JIT_REGCACHE=0 keeps registers in cpu.lo/cpu.hi (for measurements and debugging) */
const CACHE_REGISTERS = process.env.PARALLAX_JIT_REGCACHE !== '0';

/** placeholder for "reload every cached register", resolved once the set is known */
const RELOAD = '\u0000reload\u0000';
/** placeholder for a writer's record, resolved once the block is complete */
const RECORD_LATER = /\u0000record:(\d+)\u0000/g;
/** placeholder for "store every half the block writes" */
const STORE_ALL = '\u0000storeall\u0000';
/** a register half in the source: lo[n] / hi[n], and whether it is assigned */
const REG_REF = /\b(lo|hi)\[(\d+)\](\s*(?:[-+*/%&|^]|<<|>>>?)?=(?!=))?/g;

/** `lo[n] = Ln;` for a cached half name (Ln / Hn) */
function storeOf(half: string): string {
  return `${half[0] === 'L' ? 'lo' : 'hi'}[${half.slice(1)}] = ${half};`;
}
function loadOf(half: string): string {
  return `${half} = ${half[0] === 'L' ? 'lo' : 'hi'}[${half.slice(1)}];`;
}

export class Emitter {
  private readonly lines: string[] = [];
  private readonly lets = new Set<string>();
  private readonly constNames: string[] = [];
  private readonly constValues: unknown[] = [];
  private readonly sources = new Map<number, FlagSource>();
  /** value of `k` as last emitted */
  private kNow = 0;
  /** register halves (L3, H3...) the block touches, written anywhere, and written since the last store */
  private readonly used = new Set<string>();
  private readonly written = new Set<string>();
  private readonly unsaved = new Set<string>();
  /** per instruction that may fault: the halves its catch handler must store */
  private readonly unsavedAt = new Map<number, string[]>();

  constructor(readonly mode: number, readonly plans: InsnPlan[]) {}

  get mode64(): boolean { return this.mode === MODE_64; }

  // ---------------------------------------------------------------- output

  /** Append source; register references become cached locals. */
  line(s: string): void {
    if (!CACHE_REGISTERS || (!s.includes('lo[') && !s.includes('hi['))) { this.lines.push(s); return; }
    this.lines.push(s.replace(REG_REF, (_m, arr: string, n: string, assign: string | undefined) => {
      const half = (arr === 'lo' ? 'L' : 'H') + n;
      this.used.add(half);
      if (assign) { this.written.add(half); this.unsaved.add(half); return half + assign; }
      return half;
    }));
  }

  /** Append source that already names cached registers (store/load statements): not rewritten. */
  raw(s: string): void { this.lines.push(s); }

  /** declare a function-scope local (visible to later instructions and the catch handler) */
  local(name: string): string {
    this.lets.add(name);
    return name;
  }

  /** a value passed into the factory; returns its parameter name */
  constant(name: string, value: unknown): string {
    const at = this.constNames.indexOf(name);
    if (at >= 0) {
      if (this.constValues[at] !== value) throw new Error(`internal: constant ${name} bound twice`);
      return name;
    }
    this.constNames.push(name);
    this.constValues.push(value);
    return name;
  }

  /** Before code that may throw: make `k` name instruction i. */
  faultPoint(i: number): void {
    if (!this.unsavedAt.has(i)) this.unsavedAt.set(i, [...this.unsaved]);
    if (this.kNow !== i) { this.lines.push(`k = ${i};`); this.kNow = i; }
  }

  /** the next fault point always sets `k` (the top of a loop body: `k` holds the last iteration's value) */
  forgetFaultPoint(): void { this.kNow = -1; }

  /** Call instruction i's routine: registers go to memory before and come back after. */
  callRoutine(i: number, fn: string, ins: string): void {
    this.storeUnsaved();
    this.faultPoint(i);
    this.lines.push(`${fn}(cpu, ${ins});`, RELOAD);
  }

  /** store every half written since the last store */
  storeUnsaved(): void {
    for (const h of this.unsaved) this.lines.push(storeOf(h));
    this.unsaved.clear();
  }

  /**
   * Statements for a side exit: the halves written since the last store (which stay unsaved on
   * the path that continues); in a self-looping block every half it writes (earlier
   * iterations wrote them too), resolved when the block is complete.
   */
  exitStores(loop: boolean): string {
    if (loop) return STORE_ALL;
    return [...this.unsaved].map(storeOf).join(' ');
  }

  /** statements storing every half the block writes (exits of a self-looping block) */
  storeAllWritten(): string {
    return [...this.written].map(storeOf).join(' ');
  }

  /** the halves a fault at instruction k must store (written since the last store before k) */
  unsavedStores(k: number): string {
    return (this.unsavedAt.get(k) ?? []).map(storeOf).join(' ');
  }

  faultPoints(): number[] { return [...this.unsavedAt.keys()]; }

  body(): string {
    const reload = [...this.used].map(loadOf).join(' ');
    const all = this.storeAllWritten();
    return this.lines.map((l) => {
      if (l === RELOAD) return reload;
      if (!l.includes('\u0000')) return l;
      return l.replace(STORE_ALL, all).replace(RECORD_LATER, (_m, w: string) => this.recordOf(Number(w)));
    }).join('\n');
  }

  /** the record of writer w, usable before w is emitted (resolved when the block is complete) */
  recordLater(w: number): string { return `\u0000record:${w}\u0000`; }
  /** function-scope declarations: cached registers (loaded) and instruction locals */
  declarations(): string {
    const regs = [...this.used].map((h) => `${h} = ${h[0] === 'L' ? 'lo' : 'hi'}[${h.slice(1)}]`);
    const lets = [...regs, ...this.lets];
    return lets.length ? `let ${lets.join(', ')};` : '';
  }
  params(): string[] { return this.constNames; }
  values(): unknown[] { return this.constValues; }

  // ---------------------------------------------------------------- registers

  /** value of a register at a size (8/16-bit zero-extended; 64-bit: the low half) */
  reg(size: number, r: number, rex: number): string {
    if (size === 1) {
      if (rex === 0 && r >= 4 && r < 8) return `((lo[${r - 4}] >> 8) & 255)`;
      return `(lo[${r}] & 255)`;
    }
    if (size === 2) return `(lo[${r}] & 65535)`;
    return `lo[${r}]`;
  }

  /** statement writing a register at a size (32-bit zero-extends, 8/16-bit merge) */
  setReg(size: number, r: number, rex: number, v: string, vh = '0'): string {
    if (size === 1) {
      if (rex === 0 && r >= 4 && r < 8) return `lo[${r - 4}] = (lo[${r - 4}] & -65281) | ((${v} & 255) << 8);`;
      return `lo[${r}] = (lo[${r}] & -256) | (${v} & 255);`;
    }
    if (size === 2) return `lo[${r}] = (lo[${r}] & -65536) | (${v} & 65535);`;
    if (size === 4) return `lo[${r}] = ${v}; hi[${r}] = 0;`;
    return `lo[${r}] = ${v}; hi[${r}] = ${vh};`;
  }

  // ---------------------------------------------------------------- memory

  /**
   * Expression for the linear address of instruction i's memory operand (segment base
   * included), as address.ts computes it; may emit statements first (the #SS check of
   * SS-relative 64-bit operands). Call it at the instruction's fault point.
   */
  ea(ins: Insn, i: number): string {
    const seg = ins.seg;
    const fsgs = seg === FS || seg === GS;
    const d = ins.disp | 0;
    const disp = d === 0 ? '' : d < 0 ? ` - ${-d}` : ` + ${d}`;
    if (this.mode64) {
      if (ins.asize === 8) {
        if (ins.base === -1 && ins.index === -1) return fsgs ? `(${num(ins.absAddr)} + sb[${seg}])` : num(ins.absAddr);
        let lin: string;
        if (ins.index === -1) {
          // exact for canonical results; a non-canonical one is non-canonical here too and faults alike
          lin = `(hi[${ins.base}] * ${TWO32} + (lo[${ins.base}] >>> 0)${disp})`;
        } else {
          const f = this.constant('eaIndexed64', eaIndexed64);
          const b = ins.base >= 0 ? `lo[${ins.base}], hi[${ins.base}]` : '0, 0';
          lin = `${f}(${b}, lo[${ins.index}], hi[${ins.index}], ${ins.scale}, ${d})`;
        }
        if (fsgs) return `(${lin} + sb[${seg}])`;
        if (seg === SS) {
          const m = this.local(`q${i}`);
          this.line(`${m} = ${lin};`);
          this.line(`if (${m} >= ${CANON} || ${m} < -${CANON}) cpu.fault(${SS_VEC}, 0);`);
          return m;
        }
        return lin;
      }
      const off = `((${this.sum32(ins, d)}) >>> 0)`;
      return fsgs ? `(${off} + sb[${seg}])` : off;
    }
    if (ins.asize === 2) {
      const parts = [String(d)];
      if (ins.base >= 0) parts.push(`lo[${ins.base}]`);
      if (ins.index >= 0) parts.push(`lo[${ins.index}]`);
      return `((((${parts.join(' + ')}) & 65535) + sb[${seg}]) % ${TWO32})`;
    }
    return `((((${this.sum32(ins, d)}) >>> 0) + sb[${seg}]) % ${TWO32})`;
  }

  private sum32(ins: Insn, d: number): string {
    const parts: string[] = [];
    if (ins.base >= 0) parts.push(`lo[${ins.base}]`);
    if (ins.index >= 0) parts.push(ins.scale ? `(lo[${ins.index}] << ${ins.scale})` : `lo[${ins.index}]`);
    if (d !== 0 || parts.length === 0) parts.push(String(d));
    return parts.join(' + ');
  }

  /** read of `size` bytes at linear `lin`; for size 8 the high half lands in cpu.vhi */
  load(size: number, lin: string): string {
    return `cpu.read${size * 8}(${lin})`;
  }

  store(size: number, lin: string, v: string, vh = '0'): string {
    if (size === 8) return `cpu.write64(${lin}, ${v}, ${vh});`;
    return `cpu.write${size * 8}(${lin}, ${v});`;
  }

  // ---------------------------------------------------------------- flags

  /** Register instruction i's flag source; writes its lazy record when the plan says so. */
  flags(i: number, src: FlagSource): void {
    this.sources.set(i, src);
    if (this.plans[i].record) this.line(recordCode(src));
  }

  /** the record statements for writer w (for catch handlers) */
  recordOf(w: number): string {
    const src = this.sources.get(w);
    if (!src) throw new Error(`internal: no flag source for instruction ${w}`);
    return recordCode(src);
  }

  private producer(i: number, bit: number): FlagSource {
    const p = this.plans[i].inProd[FLAG_BITS.indexOf(bit)];
    const src = this.sources.get(p);
    if (!src) throw new Error(`internal: flag producer ${p} of instruction ${i} has no source`);
    return src;
  }

  /** boolean expression for condition cc at instruction i (fused when the plan allows) */
  cond(i: number, cc: number): string {
    if (this.plans[i].fused) return ccExpr(cc, (bit) => this.producer(i, bit));
    const f = this.constant('testCC', testCC);
    return `${f}(cpu, ${cc})`;
  }

  /** CF at instruction i as a 0/1 expression */
  carry(i: number): string {
    const p = this.plans[i].inProd[FLAG_BITS.indexOf(CF)];
    if (p >= 0) return `(${cfExpr(this.producer(i, CF))} ? 1 : 0)`;
    const f = this.constant('lazyCarry', lazyCarry);
    return `${f}(cpu)`;
  }
}

/** a Number as a source literal */
export function num(v: number): string {
  return v < 0 ? `(${v})` : String(v);
}
