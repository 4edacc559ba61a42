// Random differential testing of the integer instructions against the host CPU: generates
// one-instruction snippets (random prefixes, registers, [rbx+disp8] memory operands,
// immediates and initial values), runs them through the native oracle and the snippet
// runner, and reports differences outside the flags the SDM leaves undefined.

import { runNative, type DataSegment, type NativeCase } from '../../isa/native-harness.js';
import { Prng } from '../../isa/prng.js';
import { runSnippets, SNIPPET_DATA_BASE, SNIPPET_DATA_SIZE } from '../../../src/cpu/snippet.js';

/** the whole data window described by segments (zero elsewhere) */
function expandSegments(segments: DataSegment[]): Uint8Array {
  const data = new Uint8Array(SNIPPET_DATA_SIZE);
  for (const s of segments) data.set(s.bytes, s.offset);
  return data;
}

const CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800;
const STATUS = CF | PF | AF | ZF | SF | OF;

/** How a template's operands are encoded. */
interface Template {
  name: string;
  op: number[];
  /** 'rm': ModRM follows; 'reg': register in the opcode's low bits; 'none' */
  form: 'rm' | 'reg' | 'none';
  /** ModRM.reg digit for group opcodes */
  digit?: number;
  /** immediate: bytes, or 'z' (2 with 66, else 4), or 'v' (2/4/8 by size) */
  imm?: 0 | 1 | 2 | 4 | 'z' | 'v';
  /** operand size rule: 'b' byte form, 'v' 16/32/64, 'd64' default 64 (16 with 66) */
  size: 'b' | 'v' | 'd64';
  /** memory-only / register-only ModRM */
  mod?: 'mem' | 'reg';
  lock?: boolean;
  /** flags the SDM leaves undefined (masked in the comparison) */
  undef?: number | ((c: GenInfo) => number);
  /** mandatory prefix emitted just before the opcode */
  mand?: number;
  /** string instruction: allow REP prefixes and set RSI/RDI/RCX */
  string?: boolean;
  /** registers that must keep the preset values (not overwritten by the random ModRM choice) */
}

export interface GenInfo { size: number; imm: number; cl: number; bytes: Uint8Array }

function shiftUndef(c: GenInfo, byCl: boolean, byOne: boolean): number {
  const count = byOne ? 1 : (byCl ? c.cl : c.imm) & (c.size === 8 ? 63 : 31);
  let m = AF;
  if (count !== 1) m |= OF;
  if (count >= c.size * 8) m |= CF;
  return m;
}

function T(name: string, op: number[], form: Template['form'], size: Template['size'], more: Partial<Template> = {}): Template {
  return { name, op, form, size, ...more };
}

function buildTemplates(): Template[] {
  const t: Template[] = [];
  const aluNames = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
  for (let k = 0; k < 8; k++) {
    const logic = k === 1 || k === 4 || k === 6;
    const undef = logic ? AF : 0;
    const lock = k !== 7;
    t.push(T(aluNames[k] + ' Eb,Gb', [k * 8], 'rm', 'b', { undef, lock }));
    t.push(T(aluNames[k] + ' Ev,Gv', [k * 8 + 1], 'rm', 'v', { undef, lock }));
    t.push(T(aluNames[k] + ' Gb,Eb', [k * 8 + 2], 'rm', 'b', { undef }));
    t.push(T(aluNames[k] + ' Gv,Ev', [k * 8 + 3], 'rm', 'v', { undef }));
    t.push(T(aluNames[k] + ' AL,Ib', [k * 8 + 4], 'none', 'b', { undef, imm: 1 }));
    t.push(T(aluNames[k] + ' eAX,Iz', [k * 8 + 5], 'none', 'v', { undef, imm: 'z' }));
    t.push(T(aluNames[k] + ' Eb,Ib', [0x80], 'rm', 'b', { digit: k, imm: 1, undef, lock }));
    t.push(T(aluNames[k] + ' Ev,Iz', [0x81], 'rm', 'v', { digit: k, imm: 'z', undef, lock }));
    t.push(T(aluNames[k] + ' Ev,Ib', [0x83], 'rm', 'v', { digit: k, imm: 1, undef, lock }));
  }
  t.push(T('test Eb,Gb', [0x84], 'rm', 'b', { undef: AF }));
  t.push(T('test Ev,Gv', [0x85], 'rm', 'v', { undef: AF }));
  t.push(T('test AL,Ib', [0xa8], 'none', 'b', { imm: 1, undef: AF }));
  t.push(T('test eAX,Iz', [0xa9], 'none', 'v', { imm: 'z', undef: AF }));
  t.push(T('test Eb,Ib', [0xf6], 'rm', 'b', { digit: 0, imm: 1, undef: AF }));
  t.push(T('test Ev,Iz', [0xf7], 'rm', 'v', { digit: 0, imm: 'z', undef: AF }));
  for (const [d, n] of [[2, 'not'], [3, 'neg']] as const) {
    t.push(T(n + ' Eb', [0xf6], 'rm', 'b', { digit: d, lock: true }));
    t.push(T(n + ' Ev', [0xf7], 'rm', 'v', { digit: d, lock: true }));
  }
  for (const [d, n] of [[0, 'inc'], [1, 'dec']] as const) {
    t.push(T(n + ' Eb', [0xfe], 'rm', 'b', { digit: d, lock: true }));
    t.push(T(n + ' Ev', [0xff], 'rm', 'v', { digit: d, lock: true }));
  }
  // multiply / divide
  for (const [d, n] of [[4, 'mul'], [5, 'imul']] as const) {
    t.push(T(n + ' Eb', [0xf6], 'rm', 'b', { digit: d, undef: SF | ZF | AF | PF }));
    t.push(T(n + ' Ev', [0xf7], 'rm', 'v', { digit: d, undef: SF | ZF | AF | PF }));
  }
  for (const [d, n] of [[6, 'div'], [7, 'idiv']] as const) {
    t.push(T(n + ' Eb', [0xf6], 'rm', 'b', { digit: d, undef: STATUS }));
    t.push(T(n + ' Ev', [0xf7], 'rm', 'v', { digit: d, undef: STATUS }));
  }
  t.push(T('imul Gv,Ev', [0x0f, 0xaf], 'rm', 'v', { undef: SF | ZF | AF | PF }));
  t.push(T('imul Gv,Ev,Iz', [0x69], 'rm', 'v', { imm: 'z', undef: SF | ZF | AF | PF }));
  t.push(T('imul Gv,Ev,Ib', [0x6b], 'rm', 'v', { imm: 1, undef: SF | ZF | AF | PF }));
  // shifts and rotates
  const shNames = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
  for (let k = 0; k < 8; k++) {
    const rot = k < 4;
    const u = (byCl: boolean, one: boolean) => (c: GenInfo) => {
      const m = shiftUndef(c, byCl, one);
      return rot ? m & OF : m;
    };
    t.push(T(shNames[k] + ' Eb,Ib', [0xc0], 'rm', 'b', { digit: k, imm: 1, undef: u(false, false) }));
    t.push(T(shNames[k] + ' Ev,Ib', [0xc1], 'rm', 'v', { digit: k, imm: 1, undef: u(false, false) }));
    t.push(T(shNames[k] + ' Eb,1', [0xd0], 'rm', 'b', { digit: k, undef: u(false, true) }));
    t.push(T(shNames[k] + ' Ev,1', [0xd1], 'rm', 'v', { digit: k, undef: u(false, true) }));
    t.push(T(shNames[k] + ' Eb,CL', [0xd2], 'rm', 'b', { digit: k, undef: u(true, false) }));
    t.push(T(shNames[k] + ' Ev,CL', [0xd3], 'rm', 'v', { digit: k, undef: u(true, false) }));
  }
  const dsh = (byCl: boolean) => (c: GenInfo) => {
    const count = (byCl ? c.cl : c.imm) & (c.size === 8 ? 63 : 31);
    let m = AF;
    if (count !== 1) m |= OF;
    if (count > c.size * 8) m |= STATUS;
    return m;
  };
  t.push(T('shld Ev,Gv,Ib', [0x0f, 0xa4], 'rm', 'v', { imm: 1, undef: dsh(false) }));
  t.push(T('shld Ev,Gv,CL', [0x0f, 0xa5], 'rm', 'v', { undef: dsh(true) }));
  t.push(T('shrd Ev,Gv,Ib', [0x0f, 0xac], 'rm', 'v', { imm: 1, undef: dsh(false) }));
  t.push(T('shrd Ev,Gv,CL', [0x0f, 0xad], 'rm', 'v', { undef: dsh(true) }));
  // bit operations
  const btNames = ['bt', 'bts', 'btr', 'btc'];
  const btUndef = OF | SF | AF | PF;
  for (let k = 0; k < 4; k++) {
    t.push(T(btNames[k] + ' Ev,Gv', [0x0f, 0xa3 + 8 * k], 'rm', 'v', { undef: btUndef, lock: k > 0 }));
    t.push(T(btNames[k] + ' Ev,Ib', [0x0f, 0xba], 'rm', 'v', { digit: 4 + k, imm: 1, undef: btUndef, lock: k > 0 }));
  }
  t.push(T('bsf', [0x0f, 0xbc], 'rm', 'v', { undef: CF | OF | SF | AF | PF }));
  t.push(T('bsr', [0x0f, 0xbd], 'rm', 'v', { undef: CF | OF | SF | AF | PF }));
  t.push(T('tzcnt', [0x0f, 0xbc], 'rm', 'v', { mand: 0xf3, undef: OF | SF | AF | PF }));
  t.push(T('lzcnt', [0x0f, 0xbd], 'rm', 'v', { mand: 0xf3, undef: OF | SF | AF | PF }));
  t.push(T('popcnt', [0x0f, 0xb8], 'rm', 'v', { mand: 0xf3 }));
  // moves
  t.push(T('mov Eb,Gb', [0x88], 'rm', 'b'));
  t.push(T('mov Ev,Gv', [0x89], 'rm', 'v'));
  t.push(T('mov Gb,Eb', [0x8a], 'rm', 'b'));
  t.push(T('mov Gv,Ev', [0x8b], 'rm', 'v'));
  t.push(T('mov Eb,Ib', [0xc6], 'rm', 'b', { digit: 0, imm: 1 }));
  t.push(T('mov Ev,Iz', [0xc7], 'rm', 'v', { digit: 0, imm: 'z' }));
  t.push(T('mov r8,Ib', [0xb0], 'reg', 'b', { imm: 1 }));
  t.push(T('mov r,Iv', [0xb8], 'reg', 'v', { imm: 'v' }));
  t.push(T('lea', [0x8d], 'rm', 'v', { mod: 'mem' }));
  t.push(T('movzx Gv,Eb', [0x0f, 0xb6], 'rm', 'v'));
  t.push(T('movzx Gv,Ew', [0x0f, 0xb7], 'rm', 'v'));
  t.push(T('movsx Gv,Eb', [0x0f, 0xbe], 'rm', 'v'));
  t.push(T('movsx Gv,Ew', [0x0f, 0xbf], 'rm', 'v'));
  t.push(T('movsxd', [0x63], 'rm', 'v'));
  t.push(T('xchg Eb,Gb', [0x86], 'rm', 'b'));
  t.push(T('xchg Ev,Gv', [0x87], 'rm', 'v'));
  t.push(T('xchg rAX,r', [0x90], 'reg', 'v'));
  t.push(T('xlat', [0xd7], 'none', 'b'));
  t.push(T('cbw', [0x98], 'none', 'v'));
  t.push(T('cwd', [0x99], 'none', 'v'));
  t.push(T('lahf', [0x9f], 'none', 'b'));
  t.push(T('sahf', [0x9e], 'none', 'b'));
  for (let cc = 0; cc < 16; cc++) {
    t.push(T('cmov' + cc, [0x0f, 0x40 + cc], 'rm', 'v'));
    t.push(T('set' + cc, [0x0f, 0x90 + cc], 'rm', 'b'));
  }
  t.push(T('bswap', [0x0f, 0xc8], 'reg', 'v'));
  t.push(T('movbe load', [0x0f, 0x38, 0xf0], 'rm', 'v', { mod: 'mem' }));
  t.push(T('movbe store', [0x0f, 0x38, 0xf1], 'rm', 'v', { mod: 'mem' }));
  t.push(T('xadd Eb,Gb', [0x0f, 0xc0], 'rm', 'b', { lock: true }));
  t.push(T('xadd Ev,Gv', [0x0f, 0xc1], 'rm', 'v', { lock: true }));
  t.push(T('cmpxchg Eb,Gb', [0x0f, 0xb0], 'rm', 'b', { lock: true }));
  t.push(T('cmpxchg Ev,Gv', [0x0f, 0xb1], 'rm', 'v', { lock: true }));
  t.push(T('cmpxchg8b/16b', [0x0f, 0xc7], 'rm', 'v', { digit: 1, mod: 'mem', lock: true }));
  t.push(T('clc', [0xf8], 'none', 'b'));
  t.push(T('stc', [0xf9], 'none', 'b'));
  t.push(T('cmc', [0xf5], 'none', 'b'));
  t.push(T('cld', [0xfc], 'none', 'b'));
  t.push(T('std', [0xfd], 'none', 'b'));
  // stack
  t.push(T('push r', [0x50], 'reg', 'd64'));
  t.push(T('pop r', [0x58], 'reg', 'd64'));
  t.push(T('push Iz', [0x68], 'none', 'd64', { imm: 'z' }));
  t.push(T('push Ib', [0x6a], 'none', 'd64', { imm: 1 }));
  t.push(T('push Ev', [0xff], 'rm', 'd64', { digit: 6 }));
  t.push(T('pop Ev', [0x8f], 'rm', 'd64', { digit: 0 }));
  t.push(T('pushf', [0x9c], 'none', 'd64'));
  t.push(T('popf', [0x9d], 'none', 'd64'));
  t.push(T('leave', [0xc9], 'none', 'd64'));
  // strings
  const strNames = ['movs', 'cmps', 'stos', 'lods', 'scas'];
  const strOps = [0xa4, 0xa6, 0xaa, 0xac, 0xae];
  for (let k = 0; k < 5; k++) {
    t.push(T(strNames[k] + 'b', [strOps[k]], 'none', 'b', { string: true }));
    t.push(T(strNames[k], [strOps[k] + 1], 'none', 'v', { string: true }));
  }
  return t;
}

export const TEMPLATES = buildTemplates();

/** registers with preset roles: RBX (memory base), RSP, and for strings RSI/RDI/RCX */
const RBX = 3, RSP = 4, RCX = 1, RSI = 6, RDI = 7;
const MEM_BASE = SNIPPET_DATA_BASE + 0x1000;

const SPECIAL = [0n, 1n, 0xffffffffffffffffn, 0x80n, 0x7fn, 0xffn, 0x8000n, 0x7fffn, 0xffffn, 0x80000000n, 0x7fffffffn,
  0xffffffffn, 0x8000000000000000n, 0x7fffffffffffffffn, 0x100000000n];

function value(rng: Prng): bigint {
  const r = rng.below(8);
  if (r === 0) return rng.pick(SPECIAL);
  if (r === 1) return BigInt(rng.below(64));
  if (r === 2) return BigInt.asUintN(64, -BigInt(rng.below(64)));
  if (r === 3) return BigInt(rng.u32());
  return rng.u64();
}

export interface GeneratedCase {
  name: string;
  native: NativeCase;
  info: GenInfo;
  undef: number;
}

export function generate(rng: Prng, tpl: Template): GeneratedCase {
  const bytes: number[] = [];
  const gpr: bigint[] = [];
  for (let r = 0; r < 16; r++) gpr.push(value(rng));
  // mostly inside the data window; sometimes unmapped, to compare #PF error codes
  gpr[RBX] = rng.chance(0.08) ? BigInt(0x1000 + rng.below(0x100)) : BigInt(MEM_BASE + rng.below(0x100));
  gpr[RSP] = BigInt(SNIPPET_DATA_BASE + 0x8000 - 8 * rng.below(16));
  let size = tpl.size === 'b' ? 1 : tpl.size === 'd64' ? 8 : 4;
  let p66 = false;
  let rexW = false;
  const choice = rng.below(3);
  if (tpl.size === 'v') {
    if (choice === 1) { p66 = true; size = 2; } else if (choice === 2) { rexW = true; size = 8; }
  } else if (tpl.size === 'd64' && choice === 1) { p66 = true; size = 2; }
  let lock = false;
  const useMem = tpl.form === 'rm' && (tpl.mod === 'mem' || (tpl.mod !== 'reg' && rng.chance(0.4)));
  if (tpl.lock && useMem && rng.chance(0.5)) lock = true;
  if (lock) bytes.push(0xf0);
  if (tpl.string) {
    const r = rng.below(3);
    if (r === 1) bytes.push(0xf3); else if (r === 2) bytes.push(0xf2);
    if (rng.chance(0.25)) bytes.push(0x67); // 32-bit address size: ESI/EDI/ECX
    gpr[RCX] = BigInt(rng.below(40)) | (rng.chance(0.2) ? 0xffff_ffff_0000_0000n : 0n);
    gpr[RSI] = BigInt(SNIPPET_DATA_BASE + 0x2000 + rng.below(0x2000));
    gpr[RDI] = BigInt(SNIPPET_DATA_BASE + 0x2000 + rng.below(0x2000));
    if (rng.chance(0.15)) {
      // a long run off the end of the data window: the fault must leave exact progress
      gpr[RCX] = BigInt(0x3000 + rng.below(0x3000));
      gpr[RDI] = BigInt(SNIPPET_DATA_BASE + 0x10000 - 8 * rng.below(0x400) - rng.below(8));
      gpr[RSI] = BigInt(SNIPPET_DATA_BASE + 0x1000 + rng.below(0x100));
    }
  }
  if (p66) bytes.push(0x66);
  if (tpl.mand) bytes.push(tpl.mand);
  let regField = tpl.digit ?? rng.below(16);
  let rmField = rng.below(16);
  let opReg = rng.below(16);
  if (tpl.form === 'rm' && !useMem && tpl.digit === undefined && rng.chance(0.5)) {
    // keep both operands among the low eight to exercise AH..BH
    regField &= 7; rmField &= 7;
  }
  let rex = rexW ? 8 : 0;
  if (tpl.form === 'rm') {
    if (regField & 8) rex |= 4;
    if (!useMem && (rmField & 8)) rex |= 1;
  } else if (tpl.form === 'reg') {
    if (opReg & 8) rex |= 1;
  }
  if (tpl.size === 'b' && rex === 0 && rng.chance(0.3)) rex = 0x40; // empty REX: SPL/BPL/SIL/DIL
  if (rex !== 0) bytes.push(0x40 | rex);
  const op = [...tpl.op];
  if (tpl.form === 'reg') op[op.length - 1] |= opReg & 7;
  bytes.push(...op);
  if (tpl.form === 'rm') {
    if (useMem) {
      bytes.push(0x40 | ((regField & 7) << 3) | 3, rng.below(0x80)); // [rbx + disp8]
    } else {
      bytes.push(0xc0 | ((regField & 7) << 3) | (rmField & 7));
    }
  }
  let imm = 0;
  const immSize = tpl.imm === 'z' ? (size === 2 ? 2 : 4) : tpl.imm === 'v' ? size : tpl.imm ?? 0;
  for (let i = 0; i < immSize; i++) {
    const b = rng.below(4) === 0 ? rng.pick([0, 1, 0xff, 0x80, 0x7f, 7, 8, 31, 32, 63]) : rng.below(256);
    bytes.push(b);
    if (i === 0) imm = b;
  }
  bytes.push(0xcc);
  const rflags = 0x202 | (rng.u32() & STATUS) | (tpl.string && rng.chance(0.3) ? DF : 0);
  const data = rng.bytes(0x3000);
  const info: GenInfo = { size, imm, cl: Number(gpr[RCX] & 0xffn), bytes: Uint8Array.from(bytes) };
  const undef = typeof tpl.undef === 'function' ? tpl.undef(info) : tpl.undef ?? 0;
  void opReg;
  return {
    name: tpl.name,
    native: { code: info.bytes, init: { gpr, rflags }, segments: [{ offset: 0x1000, bytes: data }] },
    info,
    undef,
  };
}

export interface Mismatch { name: string; bytes: string; what: string }

const REG_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** Run generated cases on both sides; returns the mismatches. */
export function compare(cases: GeneratedCase[]): Mismatch[] {
  const nat = runNative(cases.map((c) => c.native));
  const emu = runSnippets(cases.map((c) => ({ code: c.native.code, init: c.native.init, data: expandSegments(c.native.segments) })));
  const out: Mismatch[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i], n = nat[i], e = emu[i];
    const hex = Array.from(c.info.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const diffs: string[] = [];
    if (n.harnessError) continue;
    const nf = n.fault ?? '-', ef = e.fault ?? '-';
    if (nf !== ef) diffs.push(`fault native ${nf} emu ${ef} ${e.detail ?? ''}`);
    else if (nf === 'PF' && n.faultAddress < 0x1_0000_0000n && !(e.detail ?? '').includes(`code ${n.errorCode} `)) {
      // (high addresses may be the host kernel's pages: present, so a different error code)
      diffs.push(`#PF error code native ${n.errorCode} emu ${e.detail}`);
    } else {
      for (let r = 0; r < 16; r++) {
        if (n.final.gpr[r] !== e.final.gpr[r]) diffs.push(`${REG_NAMES[r]} native ${n.final.gpr[r].toString(16)} emu ${e.final.gpr[r].toString(16)} (init ${c.native.init.gpr[r].toString(16)})`);
      }
      const mask = (STATUS | DF) & ~c.undef;
      if ((n.final.rflags & mask) !== (e.final.rflags & mask)) {
        diffs.push(`flags native ${(n.final.rflags & mask).toString(16)} emu ${(e.final.rflags & mask).toString(16)} (init ${c.native.init.rflags.toString(16)}, mask ${mask.toString(16)})`);
      }
      const nd = n.diffs;
      const initial = expandSegments(c.native.segments);
      const nData = initial.slice();
      for (const d of nd) nData.set(d.bytes, d.offset);
      for (let k = 0; k < nData.length; k++) {
        if (nData[k] !== e.data[k]) { diffs.push(`data at +${k.toString(16)} native ${nData[k]} emu ${e.data[k]}`); break; }
      }
    }
    if (diffs.length) out.push({ name: c.name, bytes: hex, what: diffs.join('; ') });
  }
  return out;
}
