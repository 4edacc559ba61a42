// Random case generator: picks instructions from the table (seeded, so a seed and an index
// reproduce a case), chooses edge-biased operands, lays out single instructions and short
// sequences, and records after every instruction which flags are undefined at that point.

import { encode, gprName, memText, RCX, RSP, R8, type Insn, type MemRef, type RmOperand } from './encoder.js';
import { BASE_RFLAGS, DF, STATUS } from './flags.js';
import type { BuildCtx, Built, FlagEffect, Form, OpSize, Piece, SetupCtx } from './form.js';
import { MEM_AREA, MXCSR_SLOT, RANDOM_RANGES, STACK_TOP } from './layout.js';
import type { DataSegment } from './native-harness.js';
import { Prng } from './prng.js';
import { SNIPPET_DATA_BASE, SNIPPET_DATA_SIZE, type SnippetCase, type SnippetState } from './snippet-api.js';
import { bytesLe, edgeF32, edgeF64, edgeInt, edgeMxcsr, edgeReg, edgeXmm, readLe } from './values.js';

export interface IsaCase {
  /** `${seed}/${index}`: regenerates this case with the same form list */
  id: string;
  forms: string[];
  groups: string[];
  /** one line per instruction, our own rendering (objdump is used for mismatches) */
  text: string[];
  code: Uint8Array;
  /** code offsets where each top-level instruction starts, then where the trailer starts */
  boundaries: number[];
  /** flags undefined before each instruction (same indexing as boundaries; last = at the end) */
  undefinedAt: number[];
  init: SnippetState;
  mxcsr?: number;
  segments: DataSegment[];
  sse: boolean;
}

export interface GenerateOptions {
  seed: number | string;
  /** forms to choose from (already filtered by features/groups) */
  forms: readonly Form[];
  /** chance that a case is a single instruction (default 0.5) */
  singleRatio?: number;
  /** longest sequence (default 6) */
  maxLength?: number;
}

const DATA = BigInt(SNIPPET_DATA_BASE);

/** One scratch data window reused by every case (allocating 64 KiB per case dominated generation). */
const scratch = new Uint8Array(SNIPPET_DATA_SIZE);
const scratchWords = new Uint32Array(scratch.buffer);
let scratchDirty: [number, number][] = [];

export function applyEffect(undef: number, e: FlagEffect): number {
  return (undef & ~e.w) | e.u;
}

/** Groups forms by their reporting group, for picking a group first and a form second. */
export function groupForms(forms: readonly Form[]): Map<string, Form[]> {
  const m = new Map<string, Form[]>();
  for (const f of forms) {
    const list = m.get(f.group) ?? [];
    list.push(f);
    m.set(f.group, list);
  }
  return m;
}

export function generateCases(opts: GenerateOptions, first: number, count: number): IsaCase[] {
  const groups = [...groupForms(opts.forms).values()];
  const out: IsaCase[] = [];
  for (let i = first; i < first + count; i++) out.push(generateCase(opts, groups, i));
  return out;
}

export function generateCase(opts: GenerateOptions, groups: Form[][], index: number): IsaCase {
  return new CaseBuilder(opts, groups, index).build();
}

class CaseBuilder {
  private rng: Prng;
  private gpr: bigint[] = [];
  private rflags: number;
  private data = scratch;
  private touched: [number, number][] = [];
  private base: number;
  private index?: number;
  private indexValue = 0;
  private baseOffset: number;
  private stackOffset: number;
  private undef = 0;
  private position = 0;
  private sse = false;
  private code: number[] = [];

  constructor(private opts: GenerateOptions, private groups: Form[][], private caseIndex: number) {
    this.rng = new Prng(`${opts.seed}/${caseIndex}`);
    const rng = this.rng;
    for (let i = 0; i < 16; i++) this.gpr.push(edgeReg(rng));
    this.base = R8 + rng.below(8);
    if (rng.chance(0.3)) {
      this.index = R8 + ((this.base - R8 + 1 + rng.below(7)) & 7);
      this.indexValue = rng.range(-8, 8);
      this.gpr[this.index] = BigInt.asUintN(64, BigInt(this.indexValue));
    }
    this.baseOffset = MEM_AREA + (rng.chance(0.7) ? 16 * rng.below(4) : rng.below(0x40));
    this.gpr[this.base] = DATA + BigInt(this.baseOffset);
    this.stackOffset = STACK_TOP - 8 * rng.below(8) - (rng.chance(0.05) ? 4 : 0);
    this.gpr[RSP] = DATA + BigInt(this.stackOffset);
    // equal operands make CMP/SUB/CMPXCHG take their other paths
    if (rng.chance(0.25)) {
      const pool = this.pool(false);
      this.gpr[rng.pick(pool)] = this.gpr[rng.pick(pool)];
    }
    this.rflags = BASE_RFLAGS | (rng.u32() & STATUS) | (rng.chance(0.25) ? DF : 0);
    for (const [lo, hi] of scratchDirty) scratch.fill(0, lo, hi);
    scratchDirty = this.touched;
    for (const [lo, hi] of RANDOM_RANGES) {
      for (let w = lo >> 2; w < hi >> 2; w++) scratchWords[w] = rng.u32();
      this.touched.push([lo, hi]);
    }
  }

  build(): IsaCase {
    const rng = this.rng;
    const length = rng.chance(this.opts.singleRatio ?? 0.5) ? 1 : rng.range(2, this.opts.maxLength ?? 6);
    const forms: string[] = [], groups: string[] = [], text: string[] = [];
    const boundaries: number[] = [], undefinedAt: number[] = [];
    for (this.position = 0; this.position < length; this.position++) {
      let piece: Built | undefined;
      let form: Form | undefined;
      for (let attempt = 0; attempt < 100 && !piece; attempt++) {
        form = rng.pick(rng.pick(this.groups));
        if (this.position > 0 && (form.firstOnly || form.alone)) continue;
        if ((form.reads ?? 0) & this.undef) continue;
        const built = this.emit(form, false);
        if (built.reads & this.undef) continue;
        piece = built;
      }
      if (!piece || !form) break; // every group needs what is undefined now: end the sequence here
      boundaries.push(this.code.length);
      undefinedAt.push(this.undef);
      this.code.push(...piece.bytes);
      this.undef = applyEffect(this.undef, piece.effect);
      forms.push(form.name);
      groups.push(form.group);
      text.push(piece.text);
      if (form.alone) break;
    }
    if (forms.length === 0) throw new Error('isa generator: no form could be placed (empty form list?)');
    boundaries.push(this.code.length);
    undefinedAt.push(this.undef);
    const init: SnippetState = { gpr: this.gpr, rflags: this.rflags };
    let mxcsr: number | undefined;
    if (this.sse) {
      init.xmm = Array.from({ length: 16 }, () => edgeXmm(rng));
      mxcsr = edgeMxcsr(rng);
      // the final MXCSR is compared as data
      this.code.push(...encode({ opcode: [0x0f, 0xae], modrm: { reg: 3, rm: { kind: 'mem', mem: { disp: SNIPPET_DATA_BASE + MXCSR_SLOT } } } }));
    }
    this.code.push(0xcc);
    return {
      id: `${this.opts.seed}/${this.caseIndex}`, forms, groups, text, code: Uint8Array.from(this.code),
      boundaries, undefinedAt, init, mxcsr, segments: this.segments(), sse: this.sse,
    };
  }

  private segments(): DataSegment[] {
    const ranges = [...this.touched].sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    return merged.map(([lo, hi]) => ({ offset: lo, bytes: this.data.slice(lo, hi) }));
  }

  /** GPRs an instruction may name: not RSP, not the memory base/index */
  private pool(legacy: boolean, noRcx = false): number[] {
    const out: number[] = [];
    for (let r = 0; r < (legacy ? 8 : 16); r++) {
      if (r === RSP || r === this.base || r === this.index || (noRcx && r === RCX)) continue;
      out.push(r);
    }
    return out;
  }

  private bytePool(legacy: boolean, noRcx: boolean): number[] {
    if (legacy) return [0, 1, 2, 3, 16, 17, 18, 19].filter((r) => !(noRcx && (r === RCX || r === 17)));
    return this.pool(false, noRcx);
  }

  private setMem(offset: number, bytes: Uint8Array): void {
    if (offset < 0 || offset + bytes.length > SNIPPET_DATA_SIZE) return;
    this.data.set(bytes, offset);
    // keep segment boundaries word-aligned so the next case can clear them cheaply
    this.touched.push([offset & ~3, (offset + bytes.length + 3) & ~3]);
  }

  private getMem(offset: number, size: number): bigint {
    if (offset < 0 || offset + size > SNIPPET_DATA_SIZE) return 0n;
    return readLe(this.data, offset, size);
  }

  private setRegChecked(num: number, value: bigint): void {
    if (this.position !== 0) throw new Error('isa generator: only the first instruction may set initial registers');
    this.gpr[num] = BigInt.asUintN(64, value);
  }

  /** Builds one instruction of `form`; `inBody` marks a branch body (no setup hooks, restricted registers). */
  private emit(form: Form, inBody: boolean, noRcx = false): Built {
    if (form.sse) this.sse = true;
    if (form.shape === 'custom') {
      if (!form.build) throw new Error(`isa table: custom form ${form.name} has no build()`);
      return form.build(this.buildCtx());
    }
    return this.emitGeneric(form, inBody, noRcx);
  }

  private buildCtx(): BuildCtx {
    return {
      rng: this.rng,
      position: this.position,
      codeOffset: this.code.length,
      body: (o) => this.body(o.noRcx ?? false),
      freeReg: (o) => this.rng.pick(this.pool(false, o?.noRcx ?? false)),
      setReg: (n, v) => this.setRegChecked(n, v),
      getReg: (n) => this.gpr[n],
      setMem: (off, bytes) => this.setMem(off, bytes),
      getMem: (off, size) => this.getMem(off, size),
      initFlags: () => this.rflags,
    };
  }

  private body(noRcx: boolean): Piece {
    const rng = this.rng;
    for (let attempt = 0; attempt < 200; attempt++) {
      const form = rng.pick(rng.pick(this.groups));
      if (form.shape === 'custom' || form.firstOnly || form.alone || form.stack || (noRcx && form.writesRcx)) continue;
      if ((form.reads ?? 0) & this.undef) continue;
      return this.emit(form, true, noRcx);
    }
    // fall back to a plain NOP when the table offers nothing suitable
    return { bytes: Uint8Array.from([0x90]), text: 'nop', effect: { w: 0, u: 0 }, reads: 0 };
  }

  private emitGeneric(f: Form, inBody: boolean, noRcx: boolean): Built {
    const rng = this.rng;
    const size: OpSize = rng.pick(f.sizes);
    const rmSize: OpSize = f.rmSize ?? size;
    const isVex = f.shape === 'vex';
    const gprInReg = f.shape === 'r_rm' || f.shape === 'gpr_xmmrm' || (isVex && f.digit === undefined);
    const gprInRm = f.shape === 'rm' || f.shape === 'r_rm' || f.shape === 'xmm_gprm' || isVex;
    const xmmInReg = f.shape === 'xmm_xmmrm' || f.shape === 'xmm_gprm';
    const xmmInRm = f.shape === 'xmm_xmmrm' || f.shape === 'gpr_xmmrm' || f.shape === 'xmm_digit';
    const usesByte = size === 8 || rmSize === 8;
    // legacy byte registers (AH..BH) forbid every REX prefix
    const legacy = !isVex && usesByte && size !== 64 && rng.chance(0.3);

    const pickGpr = (byte: boolean) => rng.pick(byte ? this.bytePool(legacy, noRcx) : this.pool(legacy, noRcx));
    const pickXmm = () => rng.below(legacy ? 8 : 16);

    const wantMem = f.rm === 'mem' || (f.rm === 'both' && rng.chance(0.5));
    let regField = 0, regText = '';
    let rm: RmOperand | undefined;
    let rmText = '';
    let rmReg: number | undefined, rmOffset: number | undefined;
    let opReg: number | undefined;
    let vvvv: number | undefined;
    let addr32 = false;

    if (f.shape === 'opreg') {
      // XCHG with rAX itself is the NOP encoding (no zero-extension): make it common
      opReg = f.name.startsWith('xchg') && rng.chance(0.2) ? 0 : pickGpr(size === 8);
      regText = gprName(opReg, size);
    }
    if (gprInReg) {
      regField = pickGpr(size === 8);
      regText = gprName(regField, size);
    } else if (xmmInReg) {
      regField = pickXmm();
      regText = `xmm${regField}`;
    } else if (f.digit !== undefined) {
      regField = f.digit;
    }
    if (isVex && f.vex?.vvvv === 'reg') {
      vvvv = pickGpr(false);
    }
    if (gprInRm || xmmInRm) {
      if (wantMem) {
        const width = f.memBytes ?? (f.sse ? 16 : rmSize / 8);
        const m = this.memOperand(width, f.align ?? 1, legacy);
        rm = { kind: 'mem', mem: m.mem };
        rmOffset = width > 0 ? m.offset : undefined;
        addr32 = m.addr32;
        rmText = memText(m.mem, addr32);
        if (!inBody && this.position === 0 && width > 0) this.biasMemory(m.offset, width, f.sse ?? false);
      } else if (xmmInRm) {
        const x = pickXmm();
        rm = { kind: 'reg', num: x };
        rmText = `xmm${x}`;
      } else {
        const byte = rmSize === 8 || (f.shape === 'xmm_gprm' ? false : size === 8);
        rmReg = pickGpr(byte);
        rm = { kind: 'reg', num: rmReg };
        rmText = gprName(rmReg, f.shape === 'xmm_gprm' ? size : rmSize);
      }
    }

    // immediate
    let imm: Insn['imm'];
    if (f.imm) {
      const bytes = f.imm === 'b' ? 1 : f.imm === 'w' ? 2 : f.imm === 'z' ? (size === 16 ? 2 : size === 8 ? 1 : 4)
        : size / 8;
      const value = f.immPick ? f.immPick(rng, size) : edgeInt(rng, bytes * 8);
      imm = { value, size: bytes as 1 | 2 | 4 | 8 };
    }

    // prefixes: LOCK, segment override (ignored in 64-bit mode), operand size, address size, mandatory
    const prefixes: number[] = [];
    const isMem = rm?.kind === 'mem';
    if ((f.lockable && isMem && rng.chance(0.3)) || rng.chance(0.005)) prefixes.push(0xf0);
    if (isMem && rng.chance(0.03)) prefixes.push(rng.pick([0x26, 0x2e, 0x36, 0x3e]));
    if (size === 16 && !f.sse && !isVex) prefixes.push(0x66);
    if (addr32) prefixes.push(0x67);
    if (f.prefix !== undefined) prefixes.push(f.prefix);

    const byteRegNeedsRex = (n: number | undefined, byte: boolean) => byte && n !== undefined && n >= 4 && n <= 7;
    const forceRex = !legacy && !isVex && (
      byteRegNeedsRex(opReg, size === 8) ||
      (gprInReg && byteRegNeedsRex(regField, size === 8)) ||
      (rmReg !== undefined && byteRegNeedsRex(rmReg, rmSize === 8 && f.shape !== 'xmm_gprm')) ||
      rng.chance(0.03));
    const rexW = !isVex && size === 64 && !f.default64 && f.shape !== 'xmm_xmmrm' && f.shape !== 'xmm_digit';

    const insn: Insn = {
      prefixes, rexW, forceRex,
      opcode: size === 8 && f.opcode8 ? f.opcode8 : f.opcode,
      imm,
    };
    if (opReg !== undefined) insn.opReg = opReg;
    if (rm) insn.modrm = { reg: regField, rm };
    if (isVex && f.vex) {
      insn.vex = { map: f.vex.map, pp: f.vex.pp, W: size === 64, L: 0, vvvv: vvvv ?? 0 };
    }
    const bytes = encode(insn);

    // position-0 hooks fix the values the instruction depends on
    if (!inBody && this.position === 0 && f.setup) {
      const ctx: SetupCtx = {
        rng, size, reg: gprInReg ? regField : opReg, vvvv, rmReg, rmOffset,
        getReg: (n) => this.gpr[n],
        setReg: (n, v) => this.setRegChecked(n, v),
        setMem: (o, b) => this.setMem(o, b),
        getMem: (o, s) => this.getMem(o, s),
        stackOffset: this.stackOffset,
        memArea: MEM_AREA,
      };
      f.setup(ctx);
    }

    let count: number | undefined;
    if (f.count === 'one') count = 1;
    else if (f.count === 'imm' && imm) count = Number(imm.value & 0xffn);
    else if (f.count === 'cl' && !inBody && this.position === 0) count = Number(this.gpr[RCX] & 0xffn);
    const effect = typeof f.flags === 'function' ? f.flags({ size, count }) : f.flags;

    const immText = imm ? `0x${BigInt.asUintN(imm.size * 8, imm.value).toString(16)}` : '';
    const operands = operandText(f, { reg: regText, rm: rmText, vvvv: vvvv !== undefined ? gprName(vvvv, size) : '', imm: immText });
    const pfx = prefixes.length ? `{${prefixes.map((p) => p.toString(16)).join(' ')}} ` : '';
    return { bytes, text: `${pfx}${f.name.split(' ')[0]}${size === 32 || f.sse ? '' : size} ${operands}`.trim(), effect, reads: f.reads ?? 0 };
  }

  /** A memory operand of `width` bytes inside the random area around the base register. */
  private memOperand(width: number, align: number, legacy: boolean): { mem: MemRef; offset: number; addr32: boolean } {
    const rng = this.rng;
    const mode = legacy ? 'abs' : rng.chance(0.1) ? 'abs' : 'base';
    const addr32 = mode === 'base' && rng.chance(0.15);
    const useIndex = mode === 'base' && this.index !== undefined && rng.chance(0.6);
    const scale = useIndex ? rng.pick([1, 2, 4, 8] as const) : 1;
    const indexPart = useIndex ? this.indexValue * scale : 0;
    const from = this.baseOffset + indexPart;
    let target: number;
    if (mode === 'base' && rng.chance(0.15)) target = from; // displacement 0
    else if (rng.chance(0.6)) target = from + rng.range(-0x80, 0x7f - Math.max(width, 1));
    else target = MEM_AREA + rng.range(-0x180, 0x180 - Math.max(width, 1));
    if (align > 1 && rng.chance(0.97)) target = Math.floor(target / align) * align;
    const mem: MemRef = mode === 'abs'
      ? { disp: SNIPPET_DATA_BASE + target }
      : { base: this.base, index: useIndex ? this.index : undefined, scale, disp: target - from, disp32: rng.chance(0.05) };
    return { mem, offset: target, addr32 };
  }

  /** Puts an edge value where the first instruction's memory operand points. */
  private biasMemory(offset: number, width: number, fp: boolean): void {
    const rng = this.rng;
    if (!rng.chance(0.6)) return;
    let bytes: Uint8Array;
    if (width === 16) bytes = bytesLe(edgeXmm(rng), 16);
    else if (fp && width === 8) bytes = bytesLe(edgeF64(rng), 8);
    else if (fp && width === 4) bytes = bytesLe(BigInt(edgeF32(rng)), 4);
    else if (width <= 8) bytes = bytesLe(edgeInt(rng, width * 8), width);
    else return;
    this.setMem(offset, bytes);
  }
}

/** Orders operand texts as the form's name does ("shld rm,r,cl": rm first), for readable reports. */
function operandText(f: Form, t: { reg: string; rm: string; vvvv: string; imm: string }): string {
  const spec = f.name.split(' ')[1];
  if (!spec) return [t.reg, t.rm, t.imm].filter((s) => s).join(', ');
  const out: string[] = [];
  for (const tok of spec.split(',')) {
    if (tok === 'v') out.push(t.vvvv);
    else if (tok === 'x') out.push(f.shape === 'gpr_xmmrm' || f.shape === 'xmm_digit' ? t.rm : t.reg);
    else if (tok.startsWith('imm')) out.push(t.imm);
    else if (tok === 'cl' || tok === '1' || tok === 'acc') out.push(tok === 'acc' ? 'acc' : tok);
    else if (/^(rm|m|xm)/.test(tok) || (f.shape === 'opreg' && tok === 'r')) out.push(f.shape === 'opreg' ? t.reg : t.rm);
    else out.push(t.reg || t.rm);
  }
  if (f.shape === 'acc_imm' && !spec.includes('imm')) out.push(t.imm);
  return out.filter((s) => s).join(', ');
}

/** The emulator's view of a batch: one buffer holds every case's data window (one 64 KiB allocation per case cost more than generating it). */
export function toSnippetCases(cases: IsaCase[]): SnippetCase[] {
  const all = new ArrayBuffer(SNIPPET_DATA_SIZE * cases.length);
  return cases.map((c, i) => toSnippetCase(c, new Uint8Array(all, i * SNIPPET_DATA_SIZE, SNIPPET_DATA_SIZE)));
}

/** The emulator's view of a case: the full data window. */
export function toSnippetCase(c: IsaCase, data = new Uint8Array(SNIPPET_DATA_SIZE)): SnippetCase {
  for (const s of c.segments) data.set(s.bytes, s.offset);
  const init: SnippetState = { gpr: [...c.init.gpr], rflags: c.init.rflags };
  if (c.init.xmm) init.xmm = [...c.init.xmm];
  const sc: SnippetCase = { code: c.code, init, data };
  if (c.mxcsr !== undefined) sc.mxcsr = c.mxcsr;
  return sc;
}
