// Tier 3: a (super)block of decoded 64-bit instructions becomes one WebAssembly function.
// Guest registers are i64 locals (loaded from the core's i64 register file in scratch at entry,
// stored at every exit and at a fault), memory operands are computed inline and go through
// an inline software-TLB check straight to the shared guest RAM; a miss, a page-crossing
// access or MMIO calls the CPU's own access routines (helper-slots.ts, through the core's helper table). Flags are never
// materialised inside the block: each flag writer keeps its operands and result in locals, a
// reader computes its condition from the writer that produced each flag (known at translation
// time), and the lazy-flag record (flags.ts) is written only where the block can be left.
//
// Control flow: a side exit of a superblock whose target is a later instruction of the same
// superblock becomes a forward branch inside the function; a block whose last branch goes
// back to its first instruction becomes a wasm loop. Everything else leaves the function with
// the next RIP in the scratch area.
//
// Blocks are translated only when every instruction is one of the integer forms below, and
// every flag read has exactly one producer (or all from the state at entry); otherwise
// translateBlock returns null and the block stays on tier 2. Faults are precise: before any
// call that may throw, the registers, the flag record and the faulting instruction are stored.

import type { Insn } from '../insn.js';
import { MAP_0F, MAP_1B } from '../insn.js';
import { LF_ADC, LF_ADD, LF_DEC, LF_INC, LF_RESULT, LF_SBB, LF_SUB } from '../flags.js';
import { DE, FS, GP, GS, SS } from '../regs.js';
import { ROLE_EXIT, ROLE_FOLLOW, ROLE_PLAIN } from '../jit/superblock-roles.js';
import {
  S_EXIT_RIP, S_FAULT_DONE, S_FAULT_INDEX, S_FAULTED, S_R64, S_REC, S_REC_VALID, S_VHI, TLB_ENTRIES, TLB_OFF, TLB_TABLE_BYTES, TLB_TAG32,
} from '../../abi/core-scratch.js';
import { buildModule, Bytes, F64, I32, I64, Op, VOID, type FuncType } from './wasm-binary.js';
import { REP_SLICE } from '../ops/integer/string.js';
import { F_CC, F_CF, F_CO, F_DF, F_FAULT, F_POLL, F_READ, F_RETHROW, F_WRITE, HELPER_TYPE_INDEX, HELPER_TYPES, HELPERS } from './helper-slots.js';

/** slow-path access flags OR-ed into the size argument */
export const ACC_SS = 16, ACC_RMW = 32;


const FLAG_COUNT = 6; // CF PF AF ZF SF OF
const B_CF = 0, B_PF = 1, B_AF = 2, B_ZF = 3, B_SF = 4, B_OF = 5;
/** flag bits each condition (cc >> 1) reads */
const CC_READS: number[][] = [[B_OF], [B_CF], [B_ZF], [B_CF, B_ZF], [B_SF], [B_PF], [B_SF, B_OF], [B_ZF, B_SF, B_OF]];
const ENTRY = -1;
/** the label (in Tx.labels) of the block every exit leaves through */
const EPILOGUE = -9;
/** the label of the block a faulting instruction leaves through */
const FAULT = -10;
/**
 * A self-looping block asks the run loop's questions (event pending, exit requested, code
 * changed by another core) every POLL_EVERY iterations rather than every one: a call out of
 * wasm costs more than a short loop body. The first check comes after the first iteration.
 */
const POLL_EVERY = 64;

// i64 division (not among wasm-binary's opcodes; only DIV/IDIV use them)
const I64_DIV_S = 0x7f, I64_DIV_U = 0x80, I64_REM_S = 0x81, I64_REM_U = 0x82;

const MASK64 = [0n, 0xffn, 0xffffn, 0n, 0xffffffffn, 0n, 0n, 0n, -1n];

export interface Translation {
  bytes: Uint8Array;
  loop: boolean;
  /** wasm loops around back edges (a self-loop is one; inner loops add one each) */
  loops: number;
  /** RIP of each instruction (for the faulting instruction) */
  rips: number[];
}

/** One decoded instruction's role in the translated function. */
interface Plan {
  /** flag writer: kind (LF_*), 0 = writes no flags */
  kind: number;
  /** INC/DEC: writes all but CF */
  keepsCarry: boolean;
  /** writes its flags only sometimes (a shift by CL with a masked count of 0 writes none) */
  maybe: boolean;
  /** writes only CF and OF (rotates): the other four keep the previous writer's values */
  coOnly: boolean;
  /** flags read: condition code or -1; reads CF as input (ADC/SBB/INC-DEC record) */
  cc: number;
  carryIn: boolean;
  /** emitter */
  emit: (t: Tx, ins: Insn, i: number) => void;
}

class TranslateError extends Error {}
function decline(why: string): never { throw new TranslateError(why); }

// ====================================================================== instruction coverage

const OP_ADD = 0, OP_OR = 1, OP_ADC = 2, OP_SBB = 3, OP_AND = 4, OP_SUB = 5, OP_XOR = 6, OP_CMP = 7;
const ALU_KIND = [LF_ADD, LF_RESULT, LF_ADC, LF_SBB, LF_RESULT, LF_SUB, LF_RESULT, LF_SUB];

// every Plan is built by `plan` (one object shape: the analysis that reads them stays monomorphic)
function plan(kind: number, keepsCarry: boolean, cc: number, carryIn: boolean, emit: Plan['emit'], maybe = false, coOnly = false): Plan {
  return { kind, keepsCarry, maybe, coOnly, cc, carryIn, emit };
}
function plain(emit: Plan['emit']): Plan { return plan(0, false, -1, false, emit); }
function writer(kind: number, emit: Plan['emit'], carryIn = false): Plan { return plan(kind, false, -1, carryIn, emit); }
function reader(cc: number, emit: Plan['emit']): Plan { return plan(0, false, cc, false, emit); }

function isJcc(o: number): boolean { return (o >= 0x70 && o <= 0x7f) || (o >= 0x180 && o <= 0x18f); }

/** REP MOVS / REP STOS with 64-bit addresses, no FS/GS source: only ever a block's last instruction (emitLast) */
function isRepMovsStos(ins: Insn): boolean {
  const o = ins.opcode;
  return ins.rep !== 0 && !ins.lock && (o === 0xa4 || o === 0xa5 || o === 0xaa || o === 0xab) && ins.asize === 8 &&
    ((o & 0xfe) === 0xaa || (ins.seg !== FS && ins.seg !== GS));
}

function planFor(ins: Insn): Plan | null {
  if (isRepMovsStos(ins)) return plain(() => decline('internal: string instruction not last'));
  if (ins.lock || ins.rep) return null;
  if (ins.hasMem && (ins.asize !== 8 || ins.seg === FS || ins.seg === GS)) return null;
  const map = ins.opcode >> 8, opc = ins.opcode & 0xff, size = ins.osize, ext = ins.reg & 7;
  if (map === MAP_0F) {
    if (opc >= 0x80 && opc <= 0x8f) return reader(opc & 15, jcc);
    if (opc >= 0x90 && opc <= 0x9f && ext === 0) return reader(opc & 15, setcc);
    if (opc >= 0x40 && opc <= 0x4f) return reader(opc & 15, cmovcc);
    if (opc === 0xb6 || opc === 0xb7 || opc === 0xbe || opc === 0xbf) return plain(movx);
    if (opc === 0xaf) return writer(LF_RESULT, imul2);
    if (opc === 0x1f) return plain(() => { /* NOP r/m: no access */ });
    if (opc >= 0xc8 && opc <= 0xcf && size >= 4) return plain(bswap);
    return null;
  }
  if (map !== MAP_1B) return null;
  if (opc < 0x40 && (opc & 7) < 6) {
    const op = (opc >> 3) & 7;
    return writer(ALU_KIND[op], (t, x, i) => alu(t, x, i, op, (opc & 7) >> 1), op === OP_ADC || op === OP_SBB);
  }
  if (opc === 0x80 || opc === 0x81 || opc === 0x83) return writer(ALU_KIND[ext], (t, x, i) => alu(t, x, i, ext, 3), ext === OP_ADC || ext === OP_SBB);
  if (isJcc(opc)) return reader(opc & 15, jcc);
  switch (opc) {
    case 0x84: case 0x85: case 0xa8: case 0xa9: return writer(LF_RESULT, test);
    case 0x88: case 0x89: case 0x8a: case 0x8b: case 0xc6: case 0xc7: return plain(mov);
    case 0x8d: return size >= 4 && ins.asize === 8 && ins.hasMem ? plain(lea) : null;
    case 0x63: return size === 8 ? plain(movx) : null;
    case 0x90: return ins.rex & 1 ? plain(xchg) : plain(() => { /* NOP */ });
    case 0x87: return ins.hasMem ? null : plain(xchg);
    case 0x98: case 0x99: return plain(cwd);
    case 0x69: case 0x6b: return writer(LF_RESULT, imul3);
    case 0xe8: return plain(callRel);
    case 0xc3: case 0xc2: return size === 8 ? plain(ret) : null;
    case 0xeb: case 0xe9: return plain(() => { /* the superblock follows it, or it ends the block (exit) */ });
    case 0x68: case 0x6a: return size === 8 ? plain(pushImm) : null;
    case 0xf6: case 0xf7:
      if (ext <= 1) return writer(LF_RESULT, test);
      if (ext === 2) return plain(not);
      if (ext === 3) return writer(LF_SUB, neg);
      if ((ext === 4 || ext === 5) && size >= 4) return writer(LF_RESULT, mul1);
      // DIV r/m32/64, IDIV r/m32 (the flags stay as they were, as the interpreter leaves them)
      if (opc === 0xf7 && (ext === 6 || (ext === 7 && size === 4)) && size >= 4) return plain((t, x, i) => div(t, x, i, ext === 7));
      return null;
    case 0xfe: case 0xff:
      if (ext <= 1) return plan(ext ? LF_DEC : LF_INC, true, -1, true, incDec);
      if (opc === 0xff && ext === 6 && size === 8) return plain(pushRm);
      // indirect JMP / CALL: only ever a block's last instruction (emitLast)
      if (opc === 0xff && (ext === 4 || ext === 2) && size === 8) return plain(() => decline('internal: indirect branch not last'));
      return null;
    case 0xd2: case 0xd3:
      // by CL, register operands (a count of 0 leaves the flags alone: a conditional writer)
      if ((ext !== 4 && ext !== 5 && ext !== 6 && ext !== 7) || ins.hasMem) return null;
      return plan(LF_RESULT, false, -1, false, (t, x, i) => shiftCl(t, x, i, ext === 6 ? 4 : ext), true);
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: {
      const c = (opc <= 0xc1 ? ins.imm : 1) & (size === 8 ? 63 : 31);
      if (ext === 0 || ext === 1) return c === 0 ? null : plan(LF_RESULT, false, -1, false, (t, x, i) => rotate(t, x, i, ext === 0, c), false, true);
      if (ext !== 4 && ext !== 5 && ext !== 6 && ext !== 7) return null;
      if (c === 0) return null;
      return writer(LF_RESULT, (t, x, i) => shift(t, x, i, ext === 6 ? 4 : ext, c));
    }
    default:
      if (opc >= 0xb0 && opc <= 0xbf) return plain(movImmReg);
      if (opc >= 0x50 && opc <= 0x57 && size === 8) return plain(pushReg);
      if (opc >= 0x58 && opc <= 0x5f && size === 8) return plain(popReg);
      if (opc >= 0x91 && opc <= 0x97) return plain(xchg);
      return null;
  }
}

// ====================================================================== function builder

class Tx {
  b = new Bytes();
  readonly locals: number[] = [];
  /** parameters: lim (i32), scratch base (i32), current TLB read table (i32) */
  static readonly P_LIM = 0; static readonly P_SC = 1; static readonly P_TLB = 2;
  private static readonly NPARAMS = 3;
  readonly reg: number[] = new Array(16).fill(-1);
  usedRegs = new Set<number>();
  writtenRegs = new Set<number>();
  done: number; smc: number; fw: number; pollCount: number;
  /** the RIP an exit leaves at (i64), for the shared epilogue */
  xrip: number;
  /** scratch locals */
  t64: number[] = []; t32: number[] = [];
  /** per flag writer: A B R (i64), C O (i32) */
  fa = new Map<number, [number, number, number, number, number]>();
  /** per rotate: its record's kind | size << 32 (i64) and AF (i32), taken over from the writer before it */
  rot = new Map<number, [number, number]>();
  /** instructions retired on this path since `done` was last updated */
  pend = 0;
  /** open wasm structures, innermost last: label targets (instruction index) or -1 */
  labels: number[] = [];
  constructor(readonly ops: Insn[], readonly plans: Plan[], readonly an: Analysis, readonly loops: number) {
    this.done = this.local(I32); this.smc = this.local(I32); this.fw = this.local(I32); this.pollCount = this.local(I32);
    this.xrip = this.local(I64);
    for (let k = 0; k < 6; k++) this.t64.push(this.local(I64));
    for (let k = 0; k < 6; k++) this.t32.push(this.local(I32));
  }
  local(type: number): number { this.locals.push(type); return Tx.NPARAMS + this.locals.length - 1; }
  op(...bs: number[]): void { for (const x of bs) this.b.byte(x); }
  get(l: number): void { this.b.byte(Op.localGet); this.b.u32(l); }
  set(l: number): void { this.b.byte(Op.localSet); this.b.u32(l); }
  tee(l: number): void { this.b.byte(Op.localTee); this.b.u32(l); }
  i32(v: number): void { this.b.byte(Op.i32Const); this.b.s32(v); }
  i64(v: bigint | number): void { this.b.byte(Op.i64Const); this.b.s64(BigInt(v)); }
  mem(opc: number, align: number, offset: number): void { this.b.byte(opc); this.b.u32(align); this.b.u32(offset); }
  /** call slow-path helper `f` (helper-slots.ts): it sits in slot f of the core's helper table */
  call(f: number): void { this.i32(f); this.b.byte(Op.callIndirect); this.b.u32(HELPER_TYPE_INDEX[f]); this.b.u32(0); }
  ifI64(): void { this.op(Op.if, I64); this.labels.push(-1); }
  ifI32(): void { this.op(Op.if, I32); this.labels.push(-1); }
  ifVoid(): void { this.op(Op.if, VOID); this.labels.push(-1); }
  else(): void { this.op(Op.else); }
  end(): void { this.op(Op.end); this.labels.pop(); }

  /** the i64 local of guest register r (loaded at entry) */
  r(n: number): number {
    this.usedRegs.add(n);
    if (this.reg[n] < 0) this.reg[n] = this.local(I64);
    return this.reg[n];
  }
  writeReg64(n: number): void { this.writtenRegs.add(n); this.set(this.r(n)); }
  flagLocals(i: number): [number, number, number, number, number] {
    let f = this.fa.get(i);
    if (!f) { f = [this.local(I64), this.local(I64), this.local(I64), this.local(I32), this.local(I32)]; this.fa.set(i, f); }
    return f;
  }
  scratch(): void { this.get(Tx.P_SC); }
  rotLocals(i: number): [number, number] {
    let f = this.rot.get(i);
    if (!f) { f = [this.local(I64), this.local(I32)]; this.rot.set(i, f); }
    return f;
  }

  /** done += pend (the path's retired count becomes exact) */
  flush(): void {
    if (this.pend === 0) return;
    this.get(this.done); this.i32(this.pend); this.op(Op.i32Add); this.set(this.done);
    this.pend = 0;
  }

  /**
   * store every register the block writes (their locals hold the current values). Which ones is
   * known only once the whole function is emitted, so this marks the place and `body()` splices
   * the stores in (wasm branches count nesting, not bytes, so inserting code moves no target).
   */
  storeRegs(): void { this.splices.push(this.b.len); }
  /** byte offsets in `b` where the register stores go */
  private readonly splices: number[] = [];

  /** the function body: `prologue`, then the emitted code with the register stores spliced in */
  body(prologue: Bytes): Bytes {
    const st = new Bytes();
    for (const n of [...this.writtenRegs].sort((x, y) => x - y)) {
      const l = this.reg[n];
      st.byte(Op.localGet); st.u32(Tx.P_SC); st.byte(Op.localGet); st.u32(l); st.byte(Op.i64Store); st.u32(3); st.u32(S_R64 + 8 * n);
    }
    const code = this.b.view(), stores = st.view();
    let from = 0;
    for (const at of this.splices) { prologue.bytes(code.subarray(from, at)); prologue.bytes(stores); from = at; }
    prologue.bytes(code.subarray(from));
    return prologue;
  }

  /** write the lazy-flag record of the last flag writer reaching instruction i (or of the block end) */
  storeRecord(last: Set<number>): void {
    const ws = [...last].filter((w) => w !== ENTRY);
    if (ws.length === 0) return;
    if (last.size === 1) { this.recordOf(ws[0]); return; }
    for (const w of ws) {
      this.get(this.fw); this.i32(w); this.op(Op.i32Eq); this.ifVoid(); this.recordOf(w); this.end();
    }
  }

  private recordOf(w: number): void {
    const p = this.plans[w], [a, bb, r, c, o] = this.flagLocals(w);
    // the record's fields are i32 pairs (low half first): kind:size, A, B, R, carry:over are one i64 store each
    const st = (off: number, opc: number, push: () => void): void => { this.scratch(); push(); this.mem(opc, opc === Op.i64Store && (off & 7) === 0 ? 3 : 2, off); };
    const rl = p.coOnly ? this.rotLocals(w) : null;
    st(S_REC, Op.i64Store, () => { if (rl) this.get(rl[0]); else this.i64((BigInt(this.ops[w].osize) << 32n) | BigInt(p.kind)); });
    st(S_REC + 8, Op.i64Store, () => this.get(a));
    st(S_REC + 16, Op.i64Store, () => this.get(bb));
    st(S_REC + 24, Op.i64Store, () => this.get(r));
    st(S_REC + 32, Op.i64Store, () => { this.get(c); this.op(Op.i64ExtendI32U); this.get(o); this.op(Op.i64ExtendI32U); this.i64(32); this.op(Op.i64Shl); this.op(Op.i64Or); });
    st(S_REC + 40, Op.i32Store, () => { if (rl) this.get(rl[1]); else this.i32(0); });
    st(S_REC_VALID, Op.i32Store, () => this.i32(1));
  }

  /**
   * instruction i faulted (the glue holds the fault): its flag record, retired count and index
   * here, then the shared fault path (`epilogue`) stores the registers and rethrows
   */
  faultLeave(i: number): void {
    this.storeRecord(this.an.lastIn[i]);
    this.scratch(); this.get(this.done); this.i32(this.pend); this.op(Op.i32Add); this.mem(Op.i32Store, 2, S_FAULT_DONE);
    this.scratch(); this.i32(i); this.mem(Op.i32Store, 2, S_FAULT_INDEX);
    this.b.byte(Op.br); this.b.u32(this.labels.length - 1 - this.labels.lastIndexOf(FAULT));
  }
  /** after a slow-path call at instruction i: leave through the fault path if it faulted */
  checkFault(i: number): void {
    this.scratch(); this.mem(Op.i32Load, 2, S_FAULTED); this.ifVoid(); this.faultLeave(i); this.end();
  }
  /** raise `vector` with error `code` at instruction i */
  raise(i: number, vector: number, code: number): void {
    this.i32(vector); this.i32(code); this.call(F_FAULT); this.faultLeave(i);
  }

  /**
   * leave the function at the RIP `rip` pushes (retired count includes the pending ones): the
   * flag record here, the register stores and the exit RIP in the shared epilogue (`epilogue`),
   * so each exit costs a record and a branch instead of a copy of every register store
   */
  exit(rip: () => void, last: Set<number>): void {
    const p = this.pend;
    this.flush();
    this.pend = p; // only this path left; code after an enclosing `if` still counts from here
    this.storeRecord(last);
    rip(); this.set(this.xrip);
    this.b.byte(Op.br); this.b.u32(this.labels.length - 1 - this.labels.lastIndexOf(EPILOGUE));
    this.pend = p;
  }

  /** open the blocks every exit and every fault branch out of (outermost) */
  openEpilogue(): void { this.op(Op.block, VOID); this.labels.push(EPILOGUE); this.op(Op.block, VOID); this.labels.push(FAULT); }
  /** close them: at a fault store the registers and rethrow; at an exit store them and the exit RIP, return the retired count */
  epilogue(): void {
    if (this.labels.length !== 2 || this.labels[0] !== EPILOGUE || this.labels[1] !== FAULT) throw new Error('internal: unbalanced structure');
    this.end();
    this.storeRegs(); this.call(F_RETHROW); this.op(Op.unreachable);
    this.end();
    this.storeRegs();
    this.scratch(); this.get(this.xrip); this.mem(Op.i64Store, 3, S_EXIT_RIP);
    this.get(this.done);
  }

  // ------------------------------------------------------------------ addresses and memory

  /** effective address of instruction i's memory operand (64-bit address size) onto the stack as i64 */
  ea(ins: Insn): void {
    if (ins.ripRel || (ins.base === -1 && ins.index === -1)) { this.i64(BigInt(ins.absAddr)); return; }
    let parts = 0;
    if (ins.base >= 0) { this.get(this.r(ins.base)); parts++; }
    if (ins.index >= 0) {
      this.get(this.r(ins.index));
      if (ins.scale) { this.i64(ins.scale); this.op(Op.i64Shl); }
      if (parts++) this.op(Op.i64Add);
    }
    if (ins.disp | 0) { this.i64(ins.disp | 0); this.op(Op.i64Add); }
  }

  /** flags for the slow path of instruction ins */
  accFlags(ins: Insn, stack: boolean): number { return (stack || ins.seg === SS ? ACC_SS : 0); }

  /**
   * TLB check of the i64 address in local `lin` for `size` bytes in table `table` (0 read, 1
   * write): leaves an i32 condition (hit); `hitAddr` then gives the RAM offset. Integers only
   * (cpu-memory.ts keeps an i32 tag and a u32 offset per entry for this): the entry's i32 tag is
   * the page number >> 10, and an access must not cross its page.
   */
  private tlbHit(lin: number, size: number, table: number): void {
    const pg = this.t64[5], ta = this.t32[1], po = this.t32[2];
    this.get(lin); this.i64(12); this.op(Op.i64ShrS); this.tee(pg);
    this.op(Op.i32WrapI64); this.i32(TLB_ENTRIES - 1); this.op(Op.i32And); this.i32(2); this.op(Op.i32Shl);
    this.get(Tx.P_TLB); this.op(Op.i32Add); this.tee(ta);
    this.mem(Op.i64Load32S, 2, table * TLB_TABLE_BYTES + TLB_TAG32); this.get(pg); this.i64(Math.log2(TLB_ENTRIES)); this.op(Op.i64ShrS); this.op(Op.i64Eq);
    this.get(lin); this.op(Op.i32WrapI64); this.i32(4095); this.op(Op.i32And); this.tee(po); this.i32(4096 - size); this.op(Op.i32LeU);
    this.op(Op.i32And);
  }
  /** after a hit of `tlbHit` on `table`: the RAM offset onto the stack (i32) */
  private hitAddr(table: number): void {
    this.get(this.t32[1]); this.mem(Op.i32Load, 2, table * TLB_TABLE_BYTES + TLB_OFF); this.get(this.t32[2]); this.op(Op.i32Add);
  }

  /** read `size` bytes at the i64 address in local `lin` → zero-extended i64 on the stack */
  load(i: number, size: number, lin: number, flags: number): void {
    const rmw = (flags & ACC_RMW) !== 0;
    const table = rmw ? 1 : 0;
    this.tlbHit(lin, size, table);
    this.ifI64();
    this.hitAddr(table);
    this.mem(size === 1 ? Op.i64Load8U : size === 2 ? Op.i64Load16U : size === 4 ? Op.i64Load32U : Op.i64Load, 0, 0);
    this.else();
    this.i32(size | flags); this.get(lin); this.op(Op.f64ConvertI64S); this.call(F_READ);
    this.checkFault(i);
    this.op(Op.i64ExtendI32U);
    // the routines may hand back more than `size` bytes (an unbacked address reads as all ones)
    if (size < 4) { this.i64(MASK64[size]); this.op(Op.i64And); }
    if (size === 8) { this.scratch(); this.mem(Op.i64Load32U, 2, S_VHI); this.i64(32); this.op(Op.i64Shl); this.op(Op.i64Or); }
    this.end();
  }

  /** write the low `size` bytes of i64 local `v` at the address in local `lin` */
  store(i: number, size: number, lin: number, v: number, flags: number): void {
    this.tlbHit(lin, size, 1);
    this.ifVoid();
    this.hitAddr(1); this.get(v);
    this.mem(size === 1 ? Op.i64Store8 : size === 2 ? Op.i64Store16 : size === 4 ? Op.i64Store32 : Op.i64Store, 0, 0);
    this.else();
    this.i32(size | flags); this.get(lin); this.op(Op.f64ConvertI64S);
    this.get(v); this.op(Op.i32WrapI64); this.get(v); this.i64(32); this.op(Op.i64ShrU); this.op(Op.i32WrapI64);
    this.call(F_WRITE); this.checkFault(i); this.get(this.smc); this.op(Op.i32Or); this.set(this.smc);
    this.end();
  }

  // ------------------------------------------------------------------ registers at a size

  /** register value at a size, zero-extended, onto the stack */
  getReg(size: number, n: number, rex: number): void {
    if (size === 1 && rex === 0 && n >= 4 && n < 8) {
      this.get(this.r(n - 4)); this.i64(8); this.op(Op.i64ShrU); this.i64(0xff); this.op(Op.i64And); return;
    }
    this.get(this.r(n));
    if (size < 8) { this.i64(MASK64[size]); this.op(Op.i64And); }
  }

  /** write the i64 in local v to a register at a size (32-bit zero-extends, 8/16-bit merge) */
  setReg(size: number, n: number, rex: number, v: number): void {
    if (size === 8) { this.get(v); this.writeReg64(n); return; }
    if (size === 4) { this.get(v); this.i64(0xffffffff); this.op(Op.i64And); this.writeReg64(n); return; }
    let reg = n, shiftBits = 0;
    if (size === 1 && rex === 0 && n >= 4 && n < 8) { reg = n - 4; shiftBits = 8; }
    const m = MASK64[size] << BigInt(shiftBits);
    this.get(this.r(reg)); this.i64(~m); this.op(Op.i64And);
    this.get(v); this.i64(MASK64[size]); this.op(Op.i64And);
    if (shiftBits) { this.i64(shiftBits); this.op(Op.i64Shl); }
    this.op(Op.i64Or); this.writeReg64(reg);
  }

  /** r/m operand at a size into local `into` (memory: address into local `lin`) */
  loadRm(ins: Insn, i: number, size: number, into: number, lin: number, rmw = false): void {
    if (ins.hasMem) {
      this.ea(ins); this.set(lin);
      this.load(i, size, lin, this.accFlags(ins, false) | (rmw ? ACC_RMW : 0));
    } else {
      this.getReg(size, ins.rm, ins.rex);
    }
    this.set(into);
  }
  storeRm(ins: Insn, i: number, size: number, lin: number, v: number): void {
    if (ins.hasMem) this.store(i, size, lin, v, this.accFlags(ins, false));
    else this.setReg(size, ins.rm, ins.rex, v);
  }

  // ------------------------------------------------------------------ flags

  /** record the operands of flag writer i (i64 locals A B R masked to the size; C, O i32) */
  setFlags(i: number, a: () => void, bv: () => void, r: () => void, c: (() => void) | null, o: (() => void) | null,
    writes: (() => void) | null = null): void {
    const [la, lb, lr, lc, lo] = this.flagLocals(i);
    a(); this.set(la); bv(); this.set(lb); r(); this.set(lr);
    if (c) { c(); this.set(lc); } else { this.i32(0); this.set(lc); }
    if (o) { o(); this.set(lo); } else { this.i32(0); this.set(lo); }
    // a conditional writer (`writes` leaves 0 when it wrote none) becomes the last writer only when it wrote
    if (this.an.dynamicLast) { this.i32(i); if (writes) { this.get(this.fw); writes(); this.op(Op.select); } this.set(this.fw); }
  }

  private producer(i: number, bit: number): number {
    const s = this.an.prodIn[i][bit];
    if (s.size !== 1) throw new Error('internal: ambiguous producer');
    return [...s][0];
  }

  /** CF of writer w as i32 0/1 */
  cfOf(w: number): void {
    const p = this.plans[w], [a, b, r, c] = this.flagLocals(w);
    switch (p.kind) {
      case LF_ADD: this.get(r); this.get(a); this.op(Op.i64LtU); return;
      case LF_SUB: this.get(a); this.get(b); this.op(Op.i64LtU); return;
      case LF_ADC:
        this.get(r); this.get(a); this.op(Op.i64LeU); this.get(r); this.get(a); this.op(Op.i64LtU); this.get(c); this.op(Op.select); return;
      case LF_SBB:
        this.get(a); this.get(b); this.op(Op.i64LeU); this.get(a); this.get(b); this.op(Op.i64LtU); this.get(c); this.op(Op.select); return;
      default: this.get(c);
    }
  }
  private signBit(l: number, size: number): void {
    this.get(l); this.i64(size * 8 - 1); this.op(Op.i64ShrU); this.op(Op.i32WrapI64); this.i32(1); this.op(Op.i32And);
  }
  private zfOf(w: number): void { this.get(this.flagLocals(w)[2]); this.op(Op.i64Eqz); }
  private sfOf(w: number): void { this.signBit(this.flagLocals(w)[2], this.ops[w].osize); }
  private ofOf(w: number): void {
    const p = this.plans[w], [a, b, r, , o] = this.flagLocals(w), size = this.ops[w].osize;
    if (p.kind === LF_RESULT) { this.get(o); return; }
    const add = p.kind === LF_ADD || p.kind === LF_ADC || p.kind === LF_INC;
    if (add) { this.get(a); this.get(r); this.op(Op.i64Xor); this.get(b); this.get(r); this.op(Op.i64Xor); }
    else { this.get(a); this.get(b); this.op(Op.i64Xor); this.get(a); this.get(r); this.op(Op.i64Xor); }
    this.op(Op.i64And); this.set(this.t64[4]); this.signBit(this.t64[4], size);
  }
  private pfOf(w: number): void {
    this.get(this.flagLocals(w)[2]); this.op(Op.i32WrapI64); this.i32(255); this.op(Op.i32And); this.op(Op.i32Popcnt);
    this.i32(1); this.op(Op.i32And); this.op(Op.i32Eqz);
  }
  sx(l: number, size: number): void {
    this.get(l);
    if (size < 8) { const s = 64 - size * 8; this.i64(s); this.op(Op.i64Shl); this.i64(s); this.op(Op.i64ShrS); }
  }

  /** condition cc at instruction i as i32 0/1 */
  cond(i: number, cc: number): void {
    const reads = CC_READS[cc >> 1];
    const prods = reads.map((bit) => this.producer(i, bit));
    if (prods.every((p) => p === ENTRY)) { this.i32(cc); this.call(F_CC); return; }
    const one = prods.every((p) => p === prods[0]) ? prods[0] : -2;
    const c = cc >> 1;
    if (one >= 0 && this.plans[one].kind === LF_SUB) {
      const [a, b] = this.flagLocals(one), size = this.ops[one].osize;
      switch (c) {
        case 1: this.get(a); this.get(b); this.op(Op.i64LtU); break;
        case 2: this.get(a); this.get(b); this.op(Op.i64Eq); break;
        case 3: this.get(a); this.get(b); this.op(Op.i64LeU); break;
        case 6: this.sx(a, size); this.sx(b, size); this.op(Op.i64LtS); break;
        case 7: this.sx(a, size); this.sx(b, size); this.op(Op.i64LeS); break;
        default: this.generic(i, c);
      }
    } else {
      this.generic(i, c);
    }
    if (cc & 1) this.op(Op.i32Eqz);
  }
  private generic(i: number, c: number): void {
    const p = (bit: number): number => this.producer(i, bit);
    switch (c) {
      case 0: this.ofOf(p(B_OF)); break;
      case 1: this.cfOf(p(B_CF)); break;
      case 2: this.zfOf(p(B_ZF)); break;
      case 3: this.cfOf(p(B_CF)); this.zfOf(p(B_ZF)); this.op(Op.i32Or); break;
      case 4: this.sfOf(p(B_SF)); break;
      case 5: this.pfOf(p(B_PF)); break;
      case 6: this.sfOf(p(B_SF)); this.ofOf(p(B_OF)); this.op(Op.i32Ne); break;
      default: this.sfOf(p(B_SF)); this.ofOf(p(B_OF)); this.op(Op.i32Ne); this.zfOf(p(B_ZF)); this.op(Op.i32Or); break;
    }
  }

  /** CF entering instruction i as i32 0/1 */
  carryIn(i: number): void {
    const w = this.producer(i, B_CF);
    if (w === ENTRY) this.call(F_CF); else this.cfOf(w);
  }
}

// ====================================================================== flag analysis

interface Analysis {
  /** per instruction, per flag: the set of writers whose value reaches it (ENTRY = the state at entry) */
  prodIn: Set<number>[][];
  /** per instruction: the set of last flag writers reaching it */
  lastIn: Set<number>[];
  /** at the block's end (after the last instruction) */
  lastOut: Set<number>;
  /** some exit can be reached with several possible last writers: writers record their index */
  dynamicLast: boolean;
}

/**
 * The function's control flow. `target[i]`: the later instruction a side exit branches to
 * inside the function (-1: it leaves); `back[i]`: the earlier (or same) instruction a side exit
 * or the final jump branches back to, a wasm `loop` around [back[i], i] (-1: none). With
 * `regions` off only the final jump back to the first instruction loops (a self-loop).
 */
interface Flow { succ: number[][]; target: number[]; back: number[]; structs: Structure[] }

function controlFlow(ops: Insn[], roles: number[], regions: boolean): Flow {
  const n = ops.length;
  const target = ops.map(() => -1), back = ops.map(() => -1);
  const succ: number[][] = ops.map(() => []);
  const indexOf = (rip: number): number => { for (let j = 0; j < n; j++) if (ops[j].rip === rip) return j; return -1; };
  for (let i = 0; i < n; i++) {
    if (roles[i] === ROLE_EXIT) {
      const j = indexOf(ops[i].target);
      if (j > i) target[i] = j;
      else if (j >= 0 && regions) back[i] = j;
    } else if (i === n - 1 && isRelJump(ops[i].opcode)) {
      const j = indexOf(ops[i].target);
      if (j === 0 || (j > 0 && regions)) back[i] = j;
    }
  }
  // loops must nest: one whose back edges span the head of an earlier, still open one is dropped
  const loops = loopSpans(back);
  for (let a = 0; a < loops.length; a++) {
    for (let b = a + 1; b < loops.length; b++) {
      const [ja, ea] = loops[a], [jb, eb] = loops[b];
      if (ja < jb && jb <= ea && eb > ea) for (let i = 0; i < n; i++) if (back[i] === jb) back[i] = -1;
    }
  }
  const structs = structures(n, target, back);
  for (let i = 0; i < n; i++) {
    if (roles[i] === ROLE_EXIT) {
      if (i + 1 < n) succ[i].push(i + 1);
      if (target[i] > i + 1) succ[i].push(target[i]);
      if (back[i] >= 0) succ[i].push(back[i]);
    } else if (i < n - 1) {
      succ[i].push(i + 1);
    } else if (back[i] >= 0) {
      succ[i].push(back[i]);
    }
  }
  return { succ, target, back, structs };
}

function isRelJump(o: number): boolean { return isJcc(o) || o === 0xeb || o === 0xe9; }

/** [head, last back-edge source] of each loop, by head */
function loopSpans(back: number[]): [number, number][] {
  const end = new Map<number, number>();
  back.forEach((j, i) => { if (j >= 0) end.set(j, Math.max(end.get(j) ?? -1, i)); });
  return [...end].sort((x, y) => x[0] - y[0]);
}

/**
 * The wasm structures of a function: a `loop` per loop head (opened before its head, closed
 * after its last back edge) and a `block` per forward branch target (closed before the
 * target, opened before the first branch to it). They must nest: a block that starts inside
 * a loop and ends after it opens before the loop instead; a forward branch from before a loop
 * into its body cannot be expressed and leaves the function (target[i] = -1).
 */
interface Structure { start: number; end: number; label: number }
const loopLabel = (j: number): number => -1000 - j;

function structures(n: number, target: number[], back: number[]): Structure[] {
  const loops = loopSpans(back).map(([j, e]) => ({ start: j, end: e + 1, label: loopLabel(j) }));
  const srcs = (k: number): number[] => target.map((j, i) => (j === k ? i : -1)).filter((i) => i >= 0);
  let blocks: Structure[] = [...new Set(target.filter((j) => j >= 0))].map((k) => ({ start: Math.min(...srcs(k)), end: k, label: k }));
  // a fixpoint: each round either drops branches (finitely many) or moves a start earlier
  for (let changed = true, rounds = 0; changed; rounds++) {
    if (rounds > 4 * n) decline('internal: branch structure does not settle');
    changed = false;
    for (const bl of blocks) {
      for (const l of loops) {
        if (bl.start < l.start && l.start < bl.end && bl.end < l.end) {
          // enters the loop's body from outside: those branches leave the function instead
          for (const i of srcs(bl.end)) if (i < l.start) target[i] = -1;
          const rest = srcs(bl.end);
          bl.start = rest.length ? Math.min(...rest) : -1;
          changed = true;
        }
      }
      if (bl.start < 0) continue;
      for (const o of [...loops, ...blocks]) {
        if (o !== bl && o.start >= 0 && o.start < bl.start && bl.start < o.end && o.end < bl.end) { bl.start = o.start; changed = true; }
      }
    }
    blocks = blocks.filter((bl) => bl.start >= 0);
  }
  // opened at the same place: the one that closes later is the outer one
  return [...loops, ...blocks].sort((x, y) => x.start - y.start || y.end - x.end);
}

/**
 * The flag-producer data flow over the function's control flow: prod[(i * 6 + bit) * w + id]
 * (writer id, or n = the state at entry, may produce `bit` entering i), last[i * w + id]. Kept
 * apart from analyse and on typed arrays only: V8 optimises this hot loop quickly, once.
 */
function flagFixpoint(n: number, kinds: Int32Array, keeps: Uint8Array, succ: number[][]): { prod: Uint8Array; last: Uint8Array } {
  const w = n + 1;
  const prod = new Uint8Array(n * FLAG_COUNT * w), last = new Uint8Array(n * w);
  for (let b = 0; b < FLAG_COUNT; b++) prod[b * w + n] = 1;
  last[n] = 1;
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = 0; i < n; i++) {
      const kind = kinds[i], keep = keeps[i], si = succ[i];
      for (let s = 0; s < si.length; s++) {
        const j = si[s];
        for (let bit = 0; bit < FLAG_COUNT; bit++) {
          const dst = (j * FLAG_COUNT + bit) * w;
          const co = bit === B_CF || bit === B_OF;
          if (kind !== 0 && !(keep === 1 && bit === B_CF) && !(keep === 3 && !co)) {
            if (!prod[dst + i]) { prod[dst + i] = 1; changed = true; }
          }
          // not a writer of this bit, or a conditional one (keep 2): what entered flows on
          if (kind === 0 || keep === 2 || (keep === 1 && bit === B_CF) || (keep === 3 && !co)) {
            const src = (i * FLAG_COUNT + bit) * w;
            for (let id = 0; id < w; id++) if (prod[src + id] && !prod[dst + id]) { prod[dst + id] = 1; changed = true; }
          }
        }
        if (kind !== 0) { if (!last[j * w + i]) { last[j * w + i] = 1; changed = true; } }
        if (kind === 0 || keep === 2) for (let id = 0; id < w; id++) if (last[i * w + id] && !last[j * w + id]) { last[j * w + id] = 1; changed = true; }
      }
    }
  }
  return { prod, last };
}

function analyse(ops: Insn[], plans: Plan[], succ: number[][]): Analysis {
  const n = ops.length, w = n + 1; // writer ids 0..n-1, ENTRY stored at n
  const kinds = new Int32Array(n), keeps = new Uint8Array(n);
  for (let i = 0; i < n; i++) { kinds[i] = plans[i].kind; keeps[i] = plans[i].maybe ? 2 : plans[i].keepsCarry ? 1 : plans[i].coOnly ? 3 : 0; }
  const { prod, last } = flagFixpoint(n, kinds, keeps, succ);
  const toSet = (arr: Uint8Array, at: number): Set<number> => {
    const out = new Set<number>();
    for (let id = 0; id < w; id++) if (arr[at + id]) out.add(id === n ? ENTRY : id);
    return out;
  };
  const prodIn = ops.map((_, i) => Array.from({ length: FLAG_COUNT }, (_x, bit) => toSet(prod, (i * FLAG_COUNT + bit) * w)));
  const lastIn = ops.map((_, i) => toSet(last, i * w));
  const lastOut = plans[n - 1].kind === 0 ? lastIn[n - 1] : plans[n - 1].maybe ? new Set([...lastIn[n - 1], n - 1]) : new Set([n - 1]);
  let dynamicLast = lastOut.size > 1 && [...lastOut].some((w) => w !== ENTRY);
  for (let i = 0; i < n; i++) {
    const ws = [...lastIn[i]].filter((w) => w !== ENTRY);
    if (ws.length > 1 || (ws.length === 1 && lastIn[i].size > 1)) dynamicLast = true;
    const p = plans[i];
    const reads: number[] = p.cc >= 0 ? CC_READS[p.cc >> 1] : p.carryIn ? [B_CF] : [];
    const srcs = reads.map((bit) => prodIn[i][bit]);
    if (srcs.some((s) => s.size !== 1)) decline(`instruction ${i} reads flags from several producers`);
    const single = srcs.map((s) => [...s][0]);
    if (p.cc >= 0 && single.some((w) => w === ENTRY) && !single.every((w) => w === ENTRY)) decline(`instruction ${i} mixes entry and block flags`);
  }
  return { prodIn, lastIn, lastOut, dynamicLast };
}

// ====================================================================== entry point

/**
 * Loops inside a function beyond the self-loop (a side exit or the final jump back to any
 * earlier instruction of the superblock: an inner loop stays inside its outer loop's
 * function). Off unless `PARALLAX_JIT_REGIONS=1`: not measurably faster yet (docs/CPU.md,
 * "Inner loops"). Tests turn it on through this object.
 */
export const tier3Regions = { on: (typeof process === 'undefined' ? undefined : process.env.PARALLAX_JIT_REGIONS) === '1' };

/**
 * Translate a 64-bit (super)block (`roles` from jit/superblock.ts) to a wasm module exporting
 * `run(lim, scratch, tlb) -> retired`, importing the shared memory (`memoryPages` pages).
 * Returns null when the block uses something the translator does not cover.
 */
export function translateBlock(ops: Insn[], roles: number[], mode: number, memoryPages: number, regions = tier3Regions.on): Translation | { declined: string } {
  try {
    if (mode !== 2) decline('not 64-bit code');
    // the function ends before the first instruction it cannot translate: the run loop then
    // finds a block starting there (other tiers run it)
    const all = plansOf(ops, roles);
    const stop = all.findIndex((p) => p === null);
    if (stop === 0) decline(`no translation for ${ops[0].name} at ${ops[0].rip.toString(16)}`);
    if (stop > 0) { ops = ops.slice(0, stop); roles = roles.slice(0, stop); }
    const plans = all.slice(0, ops.length) as Plan[];
    for (let i = 0; i < ops.length - 1; i++) {
      const o = ops[i].opcode;
      if (roles[i] === ROLE_PLAIN && (ops[i].ends || o === 0xe8 || o === 0xc3 || o === 0xc2)) decline('control transfer inside the block');
    }
    for (const ins of ops) if ((isJcc(ins.opcode) || ins.opcode === 0xe8 || ins.opcode === 0xeb || ins.opcode === 0xe9) && !canonical(ins.target)) decline('non-canonical target');
    let t: Tx;
    try {
      t = emitWith(ops, roles, plans, regions);
    } catch (e) {
      // inner loops can make a flag reader ambiguous: translate as before, leaving at them
      if (!regions || !(e instanceof TranslateError)) throw e;
      t = emitWith(ops, roles, plans, false);
    }
    const loop = t.loops > 0;
    const prologue = new Bytes();
    for (const n of [...t.usedRegs].sort((x, y) => x - y)) {
      prologue.byte(Op.localGet); prologue.u32(Tx.P_SC); prologue.byte(Op.i64Load); prologue.u32(3); prologue.u32(S_R64 + 8 * n);
      prologue.byte(Op.localSet); prologue.u32(t.reg[n]);
    }
    prologue.byte(Op.i32Const); prologue.s32(-1); prologue.byte(Op.localSet); prologue.u32(t.fw);
    prologue.byte(Op.i32Const); prologue.s32(1); prologue.byte(Op.localSet); prologue.u32(t.pollCount);
    const bytes = buildModule({
      types: HELPER_TYPES,
      imports: [],
      memoryPages,
      tableMin: HELPERS.length,
      funcs: [{ type: { params: [I32, I32, I32], results: [I32] }, locals: t.locals, body: t.body(prologue), export: 'run' }],
    });
    return { bytes, loop, loops: t.loops, rips: ops.map((o) => o.rip) };
  } catch (e) {
    if (e instanceof TranslateError) return { declined: e.message };
    throw e;
  }
}

function plansOf(ops: Insn[], roles: number[]): (Plan | null)[] {
  return ops.map((ins, i) => (roles[i] === ROLE_FOLLOW ? plain(() => { /* its target is the next instruction */ }) : planFor(ins)));
}

/** how many leading instructions of a (super)block the translated function covers (tests) */
export function translatedLength(ops: Insn[], roles: number[]): number {
  const stop = plansOf(ops, roles).findIndex((p) => p === null);
  return stop < 0 ? ops.length : stop;
}

function canonical(v: number): boolean { return v < 0x800000000000 && v >= -0x800000000000; }

function emitWith(ops: Insn[], roles: number[], plans: Plan[], regions: boolean): Tx {
  const flow = controlFlow(ops, roles, regions);
  const an = analyse(ops, plans, flow.succ);
  return emitFunction(ops, roles, plans, an, flow);
}

function emitFunction(ops: Insn[], roles: number[], plans: Plan[], an: Analysis, flow: Flow): Tx {
  const n = ops.length, { target, back, structs } = flow;
  const t = new Tx(ops, plans, an, structs.filter((s) => s.label <= loopLabel(0)).length);
  t.openEpilogue();
  /** where each open structure (of `structs`) closes, innermost last */
  const ends: number[] = [];
  let next = 0;
  const closeAt = (i: number): void => {
    while (ends.length && ends[ends.length - 1] === i) { t.flush(); t.end(); ends.pop(); }
    if (ends.includes(i)) decline('internal: structures do not nest');
  };
  for (let i = 0; i < n; i++) {
    closeAt(i);
    for (; next < structs.length && structs[next].start === i; next++) {
      const st = structs[next];
      // a loop's body runs many times: the retired count is exact at its head
      if (st.label <= loopLabel(0)) { t.flush(); t.op(Op.loop, VOID); } else t.op(Op.block, VOID);
      t.labels.push(st.label); ends.push(st.end);
    }
    const ins = ops[i];
    // a segment of a superblock starts where the interpreter would start a new block: if this
    // block wrote its own code, leave here as the interpreter would (decode again)
    if (i > 0 && roles[i - 1] !== undefined && roles[i - 1] !== ROLE_PLAIN) {
      t.get(t.smc); t.ifVoid(); t.exit(() => t.i64(ins.rip), an.lastIn[i]); t.end();
    }
    if (roles[i] === ROLE_EXIT) {
      const p0 = t.pend;
      t.cond(i, ins.opcode & 15);
      t.ifVoid();
      t.pend++;
      const outLast = an.lastIn[i];
      if (target[i] >= 0) {
        // forward branch inside the function (unless this block wrote its own code)
        t.get(t.smc); t.ifVoid(); t.exit(() => t.i64(ins.target), outLast); t.end();
        t.flush();
        t.b.byte(Op.br); t.b.u32(t.labels.length - 1 - t.labels.lastIndexOf(target[i]));
      } else if (back[i] >= 0) {
        t.pend--; // backEdge retires the branch itself
        backEdge(t, back[i], ins.target, outLast);
      } else {
        t.exit(() => t.i64(ins.target), outLast);
      }
      t.end();
      t.pend = p0 + 1; // the taken path flushed its own count; the fall-through path continues
      continue;
    }
    if (roles[i] === ROLE_FOLLOW) { t.pend++; continue; }
    if (i === n - 1) { emitLast(t, ins, i, back[i]); break; }
    plans[i].emit(t, ins, i);
    t.pend++;
  }
  closeAt(n);
  if (ends.length) decline('internal: structure left open');
  // a function cut short after a side exit or a followed jump: leave where the code continues
  if (roles[n - 1] === ROLE_EXIT) t.exit(() => t.i64(ops[n - 1].nextRip), an.lastOut);
  if (roles[n - 1] === ROLE_FOLLOW) t.exit(() => t.i64(ops[n - 1].target), an.lastOut);
  t.epilogue();
  return t;
}

/**
 * A taken branch back to instruction j (the head of an open loop): retire it, and go round
 * again unless the budget (another pass through the whole function must fit, so no path
 * overshoots it before the next back edge), a write to this function's own code or an event
 * says stop; then leave at the head's RIP.
 */
function backEdge(t: Tx, j: number, rip: number, last: Set<number>): void {
  const loop = loopLabel(j);
  t.pend++; t.flush();
  t.get(t.done); t.i32(t.ops.length); t.op(Op.i32Add); t.get(Tx.P_LIM); t.op(Op.i32LeS);
  t.get(t.smc); t.op(Op.i32Eqz); t.op(Op.i32And);
  t.ifVoid();
  // events, exit requests and code changes elsewhere are polled every POLL_EVERY back edges
  t.get(t.pollCount); t.i32(1); t.op(Op.i32Sub); t.tee(t.pollCount);
  t.b.byte(Op.brIf); t.b.u32(t.labels.length - 1 - t.labels.lastIndexOf(loop));
  t.i32(POLL_EVERY); t.set(t.pollCount);
  t.call(F_POLL); t.op(Op.i32Eqz); t.b.byte(Op.brIf); t.b.u32(t.labels.length - 1 - t.labels.lastIndexOf(loop));
  t.end();
  t.exit(() => t.i64(rip), last);
}

/** the final instruction: loop back edge, a branch, a call/return, or a plain fall-through */
function emitLast(t: Tx, ins: Insn, i: number, back: number): void {
  const an = t.an, o = ins.opcode;
  const lastOut = an.lastOut;
  const jcond = isJcc(o);
  if (back >= 0) {
    const p0 = t.pend;
    if (jcond) { t.cond(i, o & 15); t.ifVoid(); }
    backEdge(t, back, ins.target, lastOut);
    if (jcond) { t.end(); t.pend = p0 + 1; t.exit(() => t.i64(ins.nextRip), lastOut); }
    return;
  }
  if (jcond) {
    const p0 = t.pend;
    t.cond(i, o & 15); t.ifVoid(); t.pend++; t.exit(() => t.i64(ins.target), lastOut); t.end();
    t.pend = p0 + 1; t.exit(() => t.i64(ins.nextRip), lastOut);
    return;
  }
  if (o === 0xeb || o === 0xe9) { t.pend++; t.exit(() => t.i64(ins.target), lastOut); return; }
  if (o === 0xc3 || o === 0xc2) { ret(t, ins, i); return; }
  if (o === 0xe8) { callRel(t, ins, i); t.pend++; t.exit(() => t.i64(ins.target), lastOut); return; }
  if (o === 0xff && ((ins.reg & 7) === 4 || (ins.reg & 7) === 2)) { indirect(t, ins, i, (ins.reg & 7) === 2); return; }
  if (isRepMovsStos(ins)) { repString(t, ins, i, (o & 0xfe) === 0xa4); return; }
  t.plans[i].emit(t, ins, i);
  t.pend++;
  t.exit(() => t.i64(ins.nextRip), an.lastOut);
}

// ====================================================================== instruction emitters

function mask(t: Tx, size: number): void { if (size < 8) { t.i64(MASK64[size]); t.op(Op.i64And); } }
function imm(t: Tx, ins: Insn, size: number): void {
  const v = size === 8 ? (BigInt(ins.immHi | 0) << 32n) | BigInt(ins.imm >>> 0) : BigInt((ins.imm | 0) >>> 0) & MASK64[size];
  t.i64(v);
}

function alu(t: Tx, ins: Insn, i: number, op: number, form: number): void {
  const size = ins.osize, [A, B, R] = t.t64, lin = t.t64[3];
  // form: 0 rm,reg 1 reg,rm 2 acc,imm 3 rm,imm
  if (form === 0) { t.loadRm(ins, i, size, A, lin, op !== OP_CMP); t.getReg(size, ins.reg, ins.rex); t.set(B); }
  else if (form === 1) { t.loadRm(ins, i, size, B, lin); t.getReg(size, ins.reg, ins.rex); t.set(A); }
  else if (form === 2) { t.getReg(size, 0, 1); t.set(A); imm(t, ins, size); t.set(B); }
  else { t.loadRm(ins, i, size, A, lin, op !== OP_CMP); imm(t, ins, size); t.set(B); }
  const C = t.t32[3];
  if (op === OP_ADC || op === OP_SBB) { t.carryIn(i); t.set(C); }
  t.get(A); t.get(B);
  switch (op) {
    case OP_ADD: t.op(Op.i64Add); break;
    case OP_ADC: t.op(Op.i64Add); t.get(C); t.op(Op.i64ExtendI32U); t.op(Op.i64Add); break;
    case OP_SUB: case OP_CMP: t.op(Op.i64Sub); break;
    case OP_SBB: t.op(Op.i64Sub); t.get(C); t.op(Op.i64ExtendI32U); t.op(Op.i64Sub); break;
    case OP_OR: t.op(Op.i64Or); break;
    case OP_AND: t.op(Op.i64And); break;
    default: t.op(Op.i64Xor);
  }
  mask(t, size); t.set(R);
  if (op !== OP_CMP) {
    if (form === 1) t.setReg(size, ins.reg, ins.rex, R);
    else if (form === 2) t.setReg(size, 0, 1, R);
    else t.storeRm(ins, i, size, lin, R);
  }
  const carry = op === OP_ADC || op === OP_SBB;
  t.setFlags(i, () => t.get(A), () => t.get(B), () => t.get(R), carry ? () => t.get(C) : null, null);
}

function test(t: Tx, ins: Insn, i: number): void {
  const size = ins.osize, [A, B, R] = t.t64, lin = t.t64[3], opc = ins.opcode & 0xff;
  if (opc === 0xa8 || opc === 0xa9) { t.getReg(size, 0, 1); t.set(A); imm(t, ins, size); t.set(B); }
  else if (opc === 0x84 || opc === 0x85) { t.loadRm(ins, i, size, A, lin); t.getReg(size, ins.reg, ins.rex); t.set(B); }
  else { t.loadRm(ins, i, size, A, lin); imm(t, ins, size); t.set(B); }
  t.get(A); t.get(B); t.op(Op.i64And); t.set(R);
  t.setFlags(i, () => t.get(A), () => t.get(B), () => t.get(R), null, null);
}

function not(t: Tx, ins: Insn, i: number): void {
  const size = ins.osize, [A] = t.t64, lin = t.t64[3];
  t.loadRm(ins, i, size, A, lin, true);
  t.get(A); t.i64(-1); t.op(Op.i64Xor); mask(t, size); t.set(A);
  t.storeRm(ins, i, size, lin, A);
}

function neg(t: Tx, ins: Insn, i: number): void {
  const size = ins.osize, [B, , R] = t.t64, lin = t.t64[3];
  t.loadRm(ins, i, size, B, lin, true);
  t.i64(0); t.get(B); t.op(Op.i64Sub); mask(t, size); t.set(R);
  t.storeRm(ins, i, size, lin, R);
  t.setFlags(i, () => t.i64(0), () => t.get(B), () => t.get(R), null, null);
}

function incDec(t: Tx, ins: Insn, i: number): void {
  const size = ins.osize, [A, , R] = t.t64, lin = t.t64[3], C = t.t32[3];
  const dec = (ins.reg & 7) === 1;
  t.loadRm(ins, i, size, A, lin, true);
  t.carryIn(i); t.set(C);
  t.get(A); t.i64(1); t.op(dec ? Op.i64Sub : Op.i64Add); mask(t, size); t.set(R);
  t.storeRm(ins, i, size, lin, R);
  t.setFlags(i, () => t.get(A), () => t.i64(1), () => t.get(R), () => t.get(C), null);
}

/** SHL (4), SHR (5), SAR (7) by a constant 1..63 (CF/OF as the shift routines define them) */
function shift(t: Tx, ins: Insn, i: number, kind: number, c: number): void {
  const size = ins.osize, bits = size * 8, [A, , R] = t.t64, lin = t.t64[3], C = t.t32[3], O = t.t32[4];
  t.loadRm(ins, i, size, A, lin, true);
  const bitOf = (l: number, k: number, signed: boolean): void => {
    // bit k of the value in l (k may exceed the size for SAR: the sign)
    if (signed) { t.sx(l, size); t.i64(Math.min(k, 63)); t.op(Op.i64ShrS); }
    else { t.get(l); t.i64(k); t.op(Op.i64ShrU); }
    t.op(Op.i32WrapI64); t.i32(1); t.op(Op.i32And);
  };
  if (kind === 4) {
    t.get(A); t.i64(c); t.op(Op.i64Shl); mask(t, size); t.set(R);
    if (c > bits) t.i32(0); else bitOf(A, bits - c, false);
    t.set(C);
    bitOf(R, bits - 1, false); t.get(C); t.op(Op.i32Xor); t.set(O);
  } else if (kind === 5) {
    t.get(A); t.i64(c); t.op(Op.i64ShrU); t.set(R);
    bitOf(A, c - 1, false); t.set(C);
    bitOf(A, bits - 1, false); t.set(O);
  } else {
    t.sx(A, size); t.i64(c); t.op(Op.i64ShrS); mask(t, size); t.set(R);
    bitOf(A, c - 1, true); t.set(C);
    t.i32(0); t.set(O);
  }
  t.storeRm(ins, i, size, lin, R);
  t.setFlags(i, () => t.get(A), () => t.i64(c), () => t.get(R), () => t.get(C), () => t.get(O));
}

/**
 * SHL (4), SHR (5), SAR (7) of a register by CL, masked to 5 bits (6 for 64-bit operands).
 * A masked count of 0 leaves the value (the register write still zero-extends a 32-bit
 * operand, which the same code does) and changes no flags: the function's last flag writer
 * is then still the previous one (a conditional writer, Plan.maybe).
 */
function shiftCl(t: Tx, ins: Insn, i: number, kind: number): void {
  const size = ins.osize, bits = size * 8, [A, , R] = t.t64, C = t.t32[3], O = t.t32[4];
  const N = t.local(I64);
  t.get(t.r(1)); t.i64(size === 8 ? 63 : 31); t.op(Op.i64And); t.set(N);
  t.getReg(size, ins.rm, ins.rex); t.set(A);
  const bitAt = (value: () => void, signed: boolean, at: () => void): void => {
    value(); at(); t.op(signed ? Op.i64ShrS : Op.i64ShrU); t.op(Op.i32WrapI64); t.i32(1); t.op(Op.i32And);
  };
  const nMinus1 = (): void => { t.get(N); t.i64(1); t.op(Op.i64Sub); };
  if (kind === 4) {
    t.get(A); t.get(N); t.op(Op.i64Shl); mask(t, size); t.set(R);
    // CF: the last bit shifted out, bit (bits - N) of A; 0 once N exceeds the size
    bitAt(() => t.get(A), false, () => { t.i64(bits); t.get(N); t.op(Op.i64Sub); });
    t.i32(0); t.get(N); t.i64(bits); t.op(Op.i64LeU); t.op(Op.select); t.set(C);
    t.get(R); t.i64(bits - 1); t.op(Op.i64ShrU); t.op(Op.i32WrapI64); t.i32(1); t.op(Op.i32And); t.get(C); t.op(Op.i32Xor); t.set(O);
  } else if (kind === 5) {
    t.get(A); t.get(N); t.op(Op.i64ShrU); t.set(R);
    bitAt(() => t.get(A), false, nMinus1); t.set(C);
    t.get(A); t.i64(bits - 1); t.op(Op.i64ShrU); t.op(Op.i32WrapI64); t.i32(1); t.op(Op.i32And); t.set(O);
  } else {
    t.sx(A, size); t.get(N); t.op(Op.i64ShrS); mask(t, size); t.set(R);
    bitAt(() => t.sx(A, size), true, nMinus1); t.set(C);
    t.i32(0); t.set(O);
  }
  t.setReg(size, ins.rm, ins.rex, R);
  t.setFlags(i, () => t.get(A), () => t.get(N), () => t.get(R), () => t.get(C), () => t.get(O),
    () => { t.get(N); t.i64(0); t.op(Op.i64Ne); });
}

/**
 * ROL / ROR by a constant masked count 1..63 (8/16-bit: the rotation is count mod width; the
 * flags are written even when that is 0). Rotates write only CF and OF (the formula for a
 * count of 1, as the interpreter defines it for every count); SF ZF PF AF stay those of the
 * writer before. Its lazy record is therefore built from that writer's: kind LF_RESULT with
 * the earlier result and size (SF ZF PF come out the same), its AF, and the rotate's CF/OF.
 * When the writer before is the state at entry (or a rotate over it), the record is LF_NONE
 * and the flags are materialised in the CPU through the `co` import.
 */
function rotate(t: Tx, ins: Insn, i: number, left: boolean, c: number): void {
  const size = ins.osize, bits = size * 8, [A, , R] = t.t64, lin = t.t64[3], C = t.t32[3], O = t.t32[4];
  t.loadRm(ins, i, size, A, lin, true);
  const e = c % bits;
  if (e === 0) { t.get(A); t.set(R); } else if (size === 8) {
    t.get(A); t.i64(e); t.op(left ? Op.i64Rotl : Op.i64Rotr); t.set(R);
  } else {
    const l = left ? e : bits - e;
    t.get(A); t.i64(l); t.op(Op.i64Shl); t.get(A); t.i64(bits - l); t.op(Op.i64ShrU); t.op(Op.i64Or); mask(t, size); t.set(R);
  }
  const bitOf = (k: number): void => { t.get(R); t.i64(k); t.op(Op.i64ShrU); t.op(Op.i32WrapI64); t.i32(1); t.op(Op.i32And); };
  if (left) { bitOf(0); t.set(C); bitOf(bits - 1); t.get(C); t.op(Op.i32Xor); t.set(O); }
  else { bitOf(bits - 1); t.set(C); bitOf(bits - 2); t.get(C); t.op(Op.i32Xor); t.set(O); }
  t.storeRm(ins, i, size, lin, R);
  // the record of the writer before (the last one reaching this instruction)
  const [ks, aux] = t.rotLocals(i), lr = t.flagLocals(i)[2];
  const before = [...t.an.lastIn[i]];
  let viaCpu = false;
  const take = (w: number): void => {
    if (w === ENTRY) { t.i64(0); t.set(ks); t.i64(0); t.set(lr); t.i32(0); t.set(aux); viaCpu = true; return; }
    const p = t.plans[w], [wa, wb, wr] = t.flagLocals(w);
    if (p.coOnly) {
      const [wks, waux] = t.rotLocals(w);
      t.get(wks); t.set(ks); t.get(wr); t.set(lr); t.get(waux); t.set(aux); viaCpu = true; return;
    }
    t.i64((BigInt(t.ops[w].osize) << 32n) | BigInt(LF_RESULT)); t.set(ks); t.get(wr); t.set(lr);
    if (p.kind === LF_RESULT) t.i32(0);
    else { t.get(wa); t.get(wb); t.op(Op.i64Xor); t.get(wr); t.op(Op.i64Xor); t.i64(4); t.op(Op.i64ShrU); t.op(Op.i32WrapI64); t.i32(1); t.op(Op.i32And); }
    t.set(aux);
  };
  if (before.length === 1) take(before[0]);
  else for (const w of before) { t.get(t.fw); t.i32(w); t.op(Op.i32Eq); t.ifVoid(); take(w); t.end(); }
  if (viaCpu) {
    t.get(ks); t.op(Op.i64Eqz); t.ifVoid(); t.get(C); t.get(O); t.call(F_CO); t.end();
  }
  t.setFlags(i, () => t.i64(0), () => t.i64(0), () => t.get(lr), () => t.get(C), () => t.get(O));
}

/**
 * F7 /6 DIV r/m32/64 and F7 /7 IDIV r/m32: rDX:rAX / r/m, quotient to rAX, remainder to rDX;
 * #DE on a zero divisor or a quotient that does not fit. A 128-bit dividend (RDX not 0) is
 * divided bit by bit (restoring division, RDX < divisor guarantees a 64-bit quotient).
 */
function div(t: Tx, ins: Insn, i: number, signed: boolean): void {
  const size = ins.osize, D = t.t64[0], lin = t.t64[3];
  const N = t.local(I64), Q = t.local(I64), H = t.local(I64), K = t.local(I32);
  const de = (): void => t.raise(i, DE, -1);
  t.loadRm(ins, i, size, D, lin);
  if (signed) { t.sx(D, 4); t.set(D); }
  t.get(D); t.op(Op.i64Eqz); t.ifVoid(); de(); t.end();
  if (size === 4) {
    t.get(t.r(2)); t.i64(32); t.op(Op.i64Shl); t.get(t.r(0)); t.i64(0xffffffff); t.op(Op.i64And); t.op(Op.i64Or); t.set(N);
    if (signed) {
      // -2^63 / -1 would trap in wasm; its quotient does not fit 32 bits anyway
      t.get(N); t.i64(-0x8000000000000000n); t.op(Op.i64Eq); t.get(D); t.i64(-1); t.op(Op.i64Eq); t.op(Op.i32And); t.ifVoid(); de(); t.end();
      t.get(N); t.get(D); t.op(I64_DIV_S); t.set(Q);
      t.get(Q); t.i64(0x80000000); t.op(Op.i64Add); t.i64(0xffffffff); t.op(Op.i64GtU); t.ifVoid(); de(); t.end();
      t.get(N); t.get(D); t.op(I64_REM_S); t.set(H);
    } else {
      t.get(N); t.get(D); t.op(I64_DIV_U); t.set(Q);
      t.get(Q); t.i64(0xffffffff); t.op(Op.i64GtU); t.ifVoid(); de(); t.end();
      t.get(N); t.get(D); t.op(I64_REM_U); t.set(H);
    }
    t.get(Q); t.i64(0xffffffff); t.op(Op.i64And); t.writeReg64(0);
    t.get(H); t.i64(0xffffffff); t.op(Op.i64And); t.writeReg64(2);
    return;
  }
  t.get(t.r(2)); t.set(H); t.get(t.r(0)); t.set(N);
  t.get(H); t.op(Op.i64Eqz);
  t.ifVoid();
  t.get(N); t.get(D); t.op(I64_DIV_U); t.set(Q); t.get(N); t.get(D); t.op(I64_REM_U); t.set(H);
  t.else();
  t.get(H); t.get(D); t.op(Op.i64GeU); t.ifVoid(); de(); t.end();
  t.i32(64); t.set(K);
  t.op(Op.loop, VOID); t.labels.push(-3);
  // carry out of the 128-bit shift, then (H:N) <<= 1
  t.get(H); t.i64(63); t.op(Op.i64ShrU); t.op(Op.i32WrapI64);
  t.get(H); t.i64(1); t.op(Op.i64Shl); t.get(N); t.i64(63); t.op(Op.i64ShrU); t.op(Op.i64Or); t.tee(H);
  t.get(N); t.i64(1); t.op(Op.i64Shl); t.set(N);
  t.get(D); t.op(Op.i64GeU); t.op(Op.i32Or);
  t.ifVoid(); t.get(H); t.get(D); t.op(Op.i64Sub); t.set(H); t.get(N); t.i64(1); t.op(Op.i64Or); t.set(N); t.end();
  t.get(K); t.i32(1); t.op(Op.i32Sub); t.tee(K);
  t.b.byte(Op.brIf); t.b.u32(t.labels.length - 1 - t.labels.lastIndexOf(-3));
  t.end();
  t.get(N); t.set(Q);
  t.end();
  t.get(Q); t.writeReg64(0);
  t.get(H); t.writeReg64(2);
}

/** BSWAP r32 / r64 (the 32-bit form zero-extends) */
function bswap(t: Tx, ins: Insn): void {
  const n = (ins.opcode & 7) | ((ins.rex & 1) << 3), [V, W] = t.t64;
  t.get(t.r(n)); t.set(V);
  const bytes = ins.osize;
  t.i64(0); t.set(W);
  for (let k = 0; k < bytes; k++) {
    // byte k moves to byte (bytes - 1 - k)
    t.get(V); t.i64(8 * k); t.op(Op.i64ShrU); t.i64(0xff); t.op(Op.i64And); t.i64(8 * (bytes - 1 - k)); t.op(Op.i64Shl);
    t.get(W); t.op(Op.i64Or); t.set(W);
  }
  t.get(W); t.writeReg64(n);
}

/** the sign-extended product check and truncated result of IMUL (2 and 3 operands) */
function imulCore(t: Tx, ins: Insn, i: number, A: number, B: number): void {
  const size = ins.osize, R = t.t64[2], O = t.t32[4];
  if (size === 8) {
    t.get(A); t.get(B); t.op(Op.i64Mul); t.set(R);
    // overflow: the signed 128-bit product differs from the sign extension of its low half
    mulHigh(t, A, B, true); t.get(R); t.i64(63); t.op(Op.i64ShrS); t.op(Op.i64Ne); t.set(O);
  } else {
    t.sx(A, size); t.sx(B, size); t.op(Op.i64Mul); t.set(t.t64[4]);
    t.get(t.t64[4]); mask(t, size); t.set(R);
    t.sx(R, size); t.get(t.t64[4]); t.op(Op.i64Ne); t.set(O);
  }
  t.setReg(size, ins.reg, ins.rex, R);
  t.setFlags(i, () => t.get(A), () => t.get(B), () => t.get(R), () => t.get(O), () => t.get(O));
}

function imul2(t: Tx, ins: Insn, i: number): void {
  const size = ins.osize, [A, B] = t.t64, lin = t.t64[3];
  if (size === 1) decline('imul8');
  t.loadRm(ins, i, size, B, lin); t.getReg(size, ins.reg, ins.rex); t.set(A);
  imulCore(t, ins, i, A, B);
}
function imul3(t: Tx, ins: Insn, i: number): void {
  const size = ins.osize, [A, B] = t.t64, lin = t.t64[3];
  t.loadRm(ins, i, size, A, lin); imm(t, ins, size); t.set(B);
  imulCore(t, ins, i, A, B);
}

/** high 64 bits of the 128-bit product of two i64 locals onto the stack (unsigned, or signed) */
function mulHigh(t: Tx, a: number, b: number, signed: boolean): void {
  // 32-bit limbs: a = a1:a0, b = b1:b0
  const [, , , , , ] = t.t64;
  const lo32 = (l: number): void => { t.get(l); t.i64(0xffffffff); t.op(Op.i64And); };
  const hi32 = (l: number): void => { t.get(l); t.i64(32); t.op(Op.i64ShrU); };
  const p00 = t.local(I64), p01 = t.local(I64), p10 = t.local(I64), mid = t.local(I64);
  lo32(a); lo32(b); t.op(Op.i64Mul); t.set(p00);
  lo32(a); hi32(b); t.op(Op.i64Mul); t.set(p01);
  hi32(a); lo32(b); t.op(Op.i64Mul); t.set(p10);
  // mid = (p00 >> 32) + lo32(p01) + lo32(p10)  (< 3 * 2^32, no overflow)
  t.get(p00); t.i64(32); t.op(Op.i64ShrU); lo32(p01); t.op(Op.i64Add); lo32(p10); t.op(Op.i64Add); t.set(mid);
  hi32(a); hi32(b); t.op(Op.i64Mul);
  hi32(p01); t.op(Op.i64Add); hi32(p10); t.op(Op.i64Add); hi32(mid); t.op(Op.i64Add);
  if (signed) {
    // signed high = unsigned high - (a < 0 ? b : 0) - (b < 0 ? a : 0)
    t.get(b); t.i64(0); t.get(a); t.i64(0); t.op(Op.i64LtS); t.op(Op.select); t.op(Op.i64Sub);
    t.get(a); t.i64(0); t.get(b); t.i64(0); t.op(Op.i64LtS); t.op(Op.select); t.op(Op.i64Sub);
  }
}

/** F7 /4 /5: rDX:rAX = rAX * r/m (32 and 64 bits) */
function mul1(t: Tx, ins: Insn, i: number): void {
  const size = ins.osize, signed = (ins.reg & 7) === 5, [A, B, R] = t.t64, lin = t.t64[3], O = t.t32[4];
  t.loadRm(ins, i, size, B, lin);
  t.getReg(size, 0, 1); t.set(A);
  const H = t.local(I64);
  if (size === 8) {
    mulHigh(t, A, B, signed); t.set(H);
    t.get(A); t.get(B); t.op(Op.i64Mul); t.set(R);
    t.get(H);
    if (signed) { t.get(R); t.i64(63); t.op(Op.i64ShrS); } else t.i64(0);
    t.op(Op.i64Ne); t.set(O);
  } else {
    if (signed) { t.sx(A, 4); t.sx(B, 4); } else { t.get(A); t.get(B); }
    t.op(Op.i64Mul); t.set(H);
    t.get(H); t.i64(0xffffffff); t.op(Op.i64And); t.set(R);
    t.get(H); t.i64(32); t.op(signed ? Op.i64ShrS : Op.i64ShrU); t.i64(0xffffffff); t.op(Op.i64And); t.set(H);
    // OF: the high half is not the sign (zero) extension of the low half
    t.get(H);
    if (signed) { t.sx(R, 4); t.i64(32); t.op(Op.i64ShrU); t.i64(0xffffffff); t.op(Op.i64And); } else t.i64(0);
    t.op(Op.i64Ne); t.set(O);
  }
  t.get(R); t.writeReg64(0);
  t.get(H); t.writeReg64(2);
  t.setFlags(i, () => t.i64(0), () => t.get(B), () => t.get(R), () => t.get(O), () => t.get(O));
}

function mov(t: Tx, ins: Insn, i: number): void {
  const size = ins.osize, opc = ins.opcode & 0xff, [V] = t.t64, lin = t.t64[3];
  if (opc === 0x8a || opc === 0x8b) { t.loadRm(ins, i, size, V, lin); t.setReg(size, ins.reg, ins.rex, V); return; }
  if (opc === 0x88 || opc === 0x89) {
    t.getReg(size, ins.reg, ins.rex); t.set(V);
    if (ins.hasMem) { t.ea(ins); t.set(lin); }
    t.storeRm(ins, i, size, lin, V);
    return;
  }
  // C6 / C7 /0
  if ((ins.reg & 7) !== 0) decline('C6/C7 other than MOV');
  imm(t, ins, size); t.set(V);
  if (ins.hasMem) { t.ea(ins); t.set(lin); }
  t.storeRm(ins, i, size, lin, V);
}

function movImmReg(t: Tx, ins: Insn): void {
  const opc = ins.opcode & 0xff, r = (opc & 7) | ((ins.rex & 1) << 3), [V] = t.t64;
  const size = opc < 0xb8 ? 1 : ins.osize;
  imm(t, ins, size); t.set(V);
  t.setReg(size, r, ins.rex, V);
}

/** MOVZX / MOVSX / MOVSXD */
function movx(t: Tx, ins: Insn, i: number): void {
  const opc = ins.opcode & 0xff, [V] = t.t64, lin = t.t64[3];
  const from = ins.opcode === 0x63 ? 4 : (opc === 0xb6 || opc === 0xbe) ? 1 : 2;
  const signed = ins.opcode === 0x63 || opc === 0xbe || opc === 0xbf;
  t.loadRm(ins, i, from, V, lin);
  if (signed) { t.sx(V, from); t.set(V); }
  t.setReg(ins.osize, ins.reg, ins.rex, V);
}

function lea(t: Tx, ins: Insn): void {
  const [V] = t.t64;
  if (ins.ripRel) t.i64(BigInt(ins.absAddr)); else t.ea(ins);
  t.set(V);
  t.setReg(ins.osize, ins.reg, ins.rex, V);
}

function xchg(t: Tx, ins: Insn): void {
  const size = ins.osize, [A, B] = t.t64;
  let x: number, y: number;
  if ((ins.opcode & 0xff) === 0x87) { x = ins.reg; y = ins.rm; } else { x = 0; y = (ins.opcode & 7) | ((ins.rex & 1) << 3); }
  t.getReg(size, x, ins.rex); t.set(A); t.getReg(size, y, ins.rex); t.set(B);
  t.setReg(size, x, ins.rex, B); t.setReg(size, y, ins.rex, A);
}

/** 98: CBW/CWDE/CDQE, 99: CWD/CDQ/CQO */
function cwd(t: Tx, ins: Insn): void {
  const size = ins.osize, [V] = t.t64;
  if ((ins.opcode & 0xff) === 0x98) { t.getReg(size / 2, 0, 1); t.set(V); t.sx(V, size / 2); t.set(V); t.setReg(size, 0, 1, V); return; }
  t.getReg(size, 0, 1); t.set(V); t.sx(V, size); t.i64(63); t.op(Op.i64ShrS); t.set(V); t.setReg(size, 2, 1, V);
}

function setcc(t: Tx, ins: Insn, i: number): void {
  const [V] = t.t64, lin = t.t64[3];
  t.cond(i, ins.opcode & 15); t.op(Op.i64ExtendI32U); t.set(V);
  if (ins.hasMem) { t.ea(ins); t.set(lin); }
  t.storeRm(ins, i, 1, lin, V);
}

/** CMOVcc: the source is read whatever the condition (a memory source may fault); 32-bit zero-extends either way */
function cmovcc(t: Tx, ins: Insn, i: number): void {
  const size = ins.osize, [V, W] = t.t64, lin = t.t64[3];
  t.loadRm(ins, i, size, V, lin);
  t.getReg(size, ins.reg, ins.rex); t.set(W);
  t.get(V); t.get(W); t.cond(i, ins.opcode & 15); t.op(Op.select); t.set(V);
  t.setReg(size, ins.reg, ins.rex, V);
}

function jcc(): void { decline('internal: Jcc not at a block end or side exit'); }

// ---------------------------------------------------------------------- stack

/** push the i64 in local v: write below RSP first, then move RSP */
function push(t: Tx, i: number, v: number): void {
  const sp = t.t64[3];
  t.get(t.r(4)); t.i64(8); t.op(Op.i64Sub); t.set(sp);
  t.store(i, 8, sp, v, ACC_SS);
  t.get(sp); t.writeReg64(4);
}

function pushReg(t: Tx, ins: Insn, i: number): void {
  const [V] = t.t64;
  t.get(t.r((ins.opcode & 7) | ((ins.rex & 1) << 3))); t.set(V);
  push(t, i, V);
}
function pushImm(t: Tx, ins: Insn, i: number): void {
  const [V] = t.t64;
  t.i64(ins.imm | 0); t.set(V);
  push(t, i, V);
}
function pushRm(t: Tx, ins: Insn, i: number): void {
  const [V] = t.t64, lin = t.t64[2];
  t.loadRm(ins, i, 8, V, lin);
  push(t, i, V);
}
function popReg(t: Tx, ins: Insn, i: number): void {
  const [V] = t.t64, sp = t.t64[3];
  t.get(t.r(4)); t.set(sp);
  t.load(i, 8, sp, ACC_SS); t.set(V);
  t.get(sp); t.i64(8); t.op(Op.i64Add); t.writeReg64(4);
  t.get(V); t.writeReg64((ins.opcode & 7) | ((ins.rex & 1) << 3));
}

function callRel(t: Tx, ins: Insn, i: number): void {
  const [V] = t.t64;
  t.i64(BigInt(ins.nextRip)); t.set(V);
  push(t, i, V);
}

/**
 * JMP / CALL through a register or memory (64-bit): the target is read first, a
 * non-canonical one raises #GP at the instruction, CALL then pushes the return address; the
 * function leaves with the computed RIP (the chain dispatcher's hash finds the block there).
 */
function indirect(t: Tx, ins: Insn, i: number, call: boolean): void {
  const [V] = t.t64, lin = t.t64[2];
  if (ins.hasMem) { t.ea(ins); t.set(lin); t.load(i, 8, lin, t.accFlags(ins, false)); } else t.get(t.r(ins.rm));
  t.set(V);
  t.get(V); t.i64(0x800000000000n); t.op(Op.i64Add); t.i64(0xffffffffffffn); t.op(Op.i64GtU);
  t.ifVoid(); t.raise(i, GP, 0); t.end();
  if (call) {
    const R = t.t64[1];
    t.i64(BigInt(ins.nextRip)); t.set(R);
    push(t, i, R);
  }
  t.pend++;
  t.exit(() => t.get(V), t.an.lastOut);
}

/**
 * REP MOVS / REP STOS, as the interpreter runs them (ops/integer/string.ts): at most REP_SLICE
 * elements per visit, one element at a time (rSI/rDI/rCX exact at a fault), then the function
 * leaves at the instruction itself while rCX is not 0 (the run loop comes back to it after
 * looking at events), else after it. One visit retires one instruction.
 */
function repString(t: Tx, ins: Insn, i: number, movs: boolean): void {
  const es = ins.osize, STEP = t.local(I64), SRC = t.local(I64), DST = t.local(I64), V = t.local(I64), K = t.local(I32);
  t.i64(-es); t.i64(es); t.call(F_DF); t.op(Op.select); t.set(STEP);
  t.i32(REP_SLICE); t.set(K);
  t.op(Op.block, VOID); t.labels.push(-4);
  t.op(Op.loop, VOID); t.labels.push(-5);
  const br = (op: number, label: number): void => { t.b.byte(op); t.b.u32(t.labels.length - 1 - t.labels.lastIndexOf(label)); };
  t.get(t.r(1)); t.op(Op.i64Eqz); br(Op.brIf, -4);
  if (movs) {
    t.get(t.r(6)); t.set(SRC);
    t.load(i, es, SRC, t.accFlags(ins, false)); t.set(V);
  } else {
    t.get(t.r(0)); t.set(V);
  }
  t.get(t.r(7)); t.set(DST);
  t.store(i, es, DST, V, 0);
  if (movs) { t.get(t.r(6)); t.get(STEP); t.op(Op.i64Add); t.writeReg64(6); }
  t.get(t.r(7)); t.get(STEP); t.op(Op.i64Add); t.writeReg64(7);
  t.get(t.r(1)); t.i64(1); t.op(Op.i64Sub); t.writeReg64(1);
  t.get(K); t.i32(1); t.op(Op.i32Sub); t.tee(K); br(Op.brIf, -5);
  t.end(); // loop
  t.end(); // block
  t.pend++;
  const p = t.pend;
  t.get(t.r(1)); t.op(Op.i64Eqz); t.op(Op.i32Eqz);
  t.ifVoid(); t.exit(() => t.i64(ins.rip), t.an.lastOut); t.end();
  t.pend = p;
  t.exit(() => t.i64(ins.nextRip), t.an.lastOut);
}

function ret(t: Tx, ins: Insn, i: number): void {
  const [V] = t.t64, sp = t.t64[3];
  t.get(t.r(4)); t.set(sp);
  t.load(i, 8, sp, ACC_SS); t.set(V);
  // a non-canonical return address raises #GP at the RET (RSP unchanged)
  t.get(V); t.i64(0x800000000000n); t.op(Op.i64Add); t.i64(0xffffffffffffn); t.op(Op.i64GtU);
  t.ifVoid(); t.raise(i, GP, 0); t.end();
  t.get(sp); t.i64(8 + (ins.imm & 0xffff)); t.op(Op.i64Add); t.writeReg64(4);
  t.pend++;
  t.exit(() => t.get(V), t.an.lastOut);
}
