// x86 instruction decoder: legacy prefixes, REX, opcode maps (1-byte, 0F, 0F38, 0F3A), ModRM,
// SIB, displacement and immediates, driven by the instruction table (optable.ts).
// Decoding never executes anything; a form the table does not know decodes to an instruction
// that raises #UD when (and only if) it is executed.

import { chooseEa, eaNone } from './address.js';
import { Insn, MAP_0F, MAP_0F38, MAP_0F3A, MAP_1B, REP_E, REP_NE } from './insn.js';
import { hasModrm, modIgnored, selectForm, type OpEntry, type PrefixRule } from './optable.js';
import { CS, DS, ES, FS, GS, SS, TWO32 } from './regs.js';

/** Decoding context: the code-segment mode and a byte fetcher (which may throw a fault). */
export interface DecodeMode {
  mode64: boolean;
  /** default operand/address size 32 (CS.D) outside 64-bit mode */
  def32: boolean;
  /** CS base: 16-bit IP arithmetic wraps within the segment, not within linear 64 KiB */
  csBase?: number;
}

export type FetchByte = (lin: number) => number;

/** Raised (as a value) when the decoder meets an undecodable situation such as >15 bytes. */
export class DecodeError {
  constructor(public readonly reason: 'too-long') {}
}

export type UdExec = (why: string) => Insn['exec'];

const SEG_PREFIX: Record<number, number> = { 0x26: ES, 0x2e: CS, 0x36: SS, 0x3e: DS, 0x64: FS, 0x65: GS };

/**
 * Decode one instruction at linear address `rip`.
 * `makeUd(name)` builds the executor used for unknown/invalid forms (raises #UD when run).
 */
export function decode(rip: number, mode: DecodeMode, fetch: FetchByte, makeUd: UdExec): Insn {
  const { mode64, def32 } = mode;
  const ins = new Insn(makeUd('unknown'), eaNone);
  ins.rip = rip;
  let pos = 0;
  const next = (): number => {
    if (pos >= 15) throw new DecodeError('too-long');
    const lin = mode64 ? rip + pos : (rip + pos) % TWO32;
    pos++;
    return fetch(lin);
  };

  // ---- legacy prefixes and REX ----
  let seg = -1;
  let p66 = false, p67 = false, lock = false;
  let lastRep = 0; // 0xF2 / 0xF3 / 0
  let rex = 0;
  let b: number;
  for (;;) {
    b = next();
    if (b === 0x66) p66 = true;
    else if (b === 0x67) p67 = true;
    else if (b === 0xf0) lock = true;
    else if (b === 0xf2 || b === 0xf3) lastRep = b;
    else if (b in SEG_PREFIX) seg = SEG_PREFIX[b];
    else break;
    rex = 0; // a legacy prefix after REX cancels the REX
  }
  if (mode64 && (b & 0xf0) === 0x40) {
    rex = b;
    b = next();
    // further REX or legacy prefixes after REX: the REX is ignored (legacy prefix then REX rule)
    while (mode64 && (b & 0xf0) === 0x40) {
      rex = b;
      b = next();
    }
  }
  // ---- VEX (C4: 3 bytes, C5: 2 bytes); outside 64-bit mode only when the next byte has
  // mod = 11, otherwise C4/C5 are LES/LDS. VEX after 66/F2/F3/LOCK/REX is #UD. ----
  let vex = false, vexMand: PrefixRule = 'np', map = MAP_1B;
  if ((b === 0xc4 || b === 0xc5) && (mode64 || (pos < 15 && (fetch((rip + pos) % TWO32) & 0xc0) === 0xc0))) {
    vex = true;
    const v1 = next();
    let v2 = v1, rexBits: number;
    if (b === 0xc4) {
      v2 = next();
      const m = v1 & 0x1f;
      map = m === 1 ? MAP_0F : m === 2 ? MAP_0F38 : m === 3 ? MAP_0F3A : -1;
      rexBits = ((~v1 >> 5) & 7) | (v2 & 0x80 ? 8 : 0);
    } else {
      map = MAP_0F;
      rexBits = (~v1 >> 5) & 4;
    }
    if (!mode64) rexBits = 0; // R X B W are ignored (must be 1 / 0) outside 64-bit mode
    const bad = map < 0 || rex !== 0 || p66 || lock || lastRep !== 0;
    rex = 0x40 | rexBits;
    ins.vex = true;
    ins.vvvv = (~v2 >> 3) & (mode64 ? 15 : 7);
    ins.vexL = (v2 >> 2) & 1;
    vexMand = (['np', '66', 'F3', 'F2'] as const)[v2 & 3];
    b = next();
    if (bad) {
      ins.opcode = ((map < 0 ? 0 : map) << 8) | b;
      finishUnknown(ins, pos, rip, mode64, makeUd, 'bad vex');
      return ins;
    }
  }
  const rexW = (rex & 8) !== 0;
  const rexR = (rex & 4) << 1; // 8 or 0
  const rexX = (rex & 2) << 2;
  const rexB = (rex & 1) << 3;

  // ---- opcode map ----
  if (!vex && b === 0x0f) {
    b = next();
    if (b === 0x38) { map = MAP_0F38; b = next(); }
    else if (b === 0x3a) { map = MAP_0F3A; b = next(); }
    else map = MAP_0F;
  }
  ins.opcode = (map << 8) | b;
  ins.rex = rex;
  ins.lock = lock;
  ins.p66 = p66;
  ins.pF2 = lastRep === 0xf2;
  ins.pF3 = lastRep === 0xf3;
  ins.rep = lastRep === 0xf3 ? REP_E : lastRep === 0xf2 ? REP_NE : 0;
  const mand: PrefixRule = vex ? vexMand : lastRep === 0xf3 ? 'F3' : lastRep === 0xf2 ? 'F2' : p66 ? '66' : 'np';

  // ---- sizes ----
  const asize = mode64 ? (p67 ? 4 : 8) : def32 !== p67 ? 4 : 2;
  ins.asize = asize;

  // ---- ModRM / SIB / displacement ----
  let modrm = -1;
  if (hasModrm(map, b)) {
    modrm = next();
    ins.modrm = modrm;
    const mod = modrm >> 6;
    ins.mod = mod;
    ins.reg = ((modrm >> 3) & 7) | rexR;
    const rm = modrm & 7;
    if (mod === 3 || modIgnored(map, b)) {
      ins.rm = rm | rexB;
    } else {
      ins.hasMem = true;
      let defSeg = DS;
      if (asize === 2) {
        const bases = [3, 3, 5, 5, 6, 7, 5, 3]; // BX BX BP BP SI DI BP BX
        const idx = [6, 7, 6, 7, -1, -1, -1, -1]; // SI DI SI DI
        if (mod === 0 && rm === 6) {
          ins.disp = next() | (next() << 8);
        } else {
          ins.base = bases[rm];
          ins.index = idx[rm];
          if (rm === 2 || rm === 3 || rm === 6) defSeg = SS;
          if (mod === 1) ins.disp = (next() << 24) >> 24;
          else if (mod === 2) ins.disp = next() | (next() << 8);
        }
      } else {
        let ripRel = false;
        if (rm === 4) {
          const sib = next();
          const scale = sib >> 6;
          const index = ((sib >> 3) & 7) | rexX;
          const base = sib & 7;
          ins.scale = scale;
          ins.index = index === 4 ? -1 : index;
          if (base === 5 && mod === 0) {
            ins.base = -1;
            ins.disp = next() | (next() << 8) | (next() << 16) | (next() << 24);
          } else {
            ins.base = base | rexB;
          }
        } else if (rm === 5 && mod === 0) {
          ins.disp = next() | (next() << 8) | (next() << 16) | (next() << 24);
          if (mode64) ripRel = true;
        } else {
          ins.base = rm | rexB;
        }
        if (ins.base === 4 || ins.base === 5) defSeg = SS; // RSP/RBP based (not R12/R13)
        if (mod === 1) ins.disp = (next() << 24) >> 24;
        else if (mod === 2) ins.disp = next() | (next() << 8) | (next() << 16) | (next() << 24);
        ins.ripRel = ripRel;
      }
      ins.seg = seg >= 0 ? seg : defSeg;
    }
  } else {
    ins.seg = seg >= 0 ? seg : DS;
  }

  // ---- select the form ----
  const form: OpEntry | undefined = selectForm(map, b, mand, modrm, vex);
  if (!form || (mode64 && form.inv64) || (!mode64 && form.only64)) {
    finishUnknown(ins, pos, rip, mode64, makeUd, form ? form.name : 'unknown');
    if (form) ins.name = form.name;
    return ins;
  }
  ins.name = form.name;

  // operand size (66 is consumed as a mandatory prefix by forms that name it)
  const o66 = p66 && form.prefix !== '66';
  const sk = form.size ?? 'v';
  let osize: number;
  switch (sk) {
    case 'b': osize = 1; break;
    case 'w': osize = 2; break;
    case 'd': osize = 4; break;
    case 'q': osize = 8; break;
    case 'f64': osize = mode64 ? 8 : def32 !== o66 ? 4 : 2; break;
    case 'd64': osize = mode64 ? (o66 ? 2 : 8) : def32 !== o66 ? 4 : 2; break;
    case 'x': osize = mode64 ? (rexW ? 8 : o66 ? 2 : 4) : def32 !== o66 ? 4 : 2; break;
    default: osize = rexW ? 8 : (def32 || mode64) !== o66 ? 4 : 2; break;
  }
  ins.osize = osize;

  // ---- immediates ----
  const imm = form.imm ?? 'none';
  const rd = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) v |= next() << (8 * i);
    return v;
  };
  switch (imm) {
    case 'none': break;
    case 'Ib': ins.imm = (next() << 24) >> 24; ins.immHi = ins.imm >> 31; break;
    case 'Ibu': ins.imm = next(); break;
    case 'Iw': ins.imm = rd(2) & 0xffff; break;
    case 'Iz':
      if (osize === 2) { ins.imm = (rd(2) << 16) >> 16; }
      else if (osize === 1) { ins.imm = (next() << 24) >> 24; }
      else ins.imm = rd(4) | 0;
      ins.immHi = ins.imm >> 31;
      break;
    case 'Iv':
      if (osize === 2) ins.imm = rd(2) & 0xffff;
      else if (osize === 1) ins.imm = next();
      else { ins.imm = rd(4) | 0; if (osize === 8) ins.immHi = rd(4) | 0; }
      break;
    case 'Jb': ins.imm = (next() << 24) >> 24; break;
    case 'Jz': ins.imm = osize === 2 ? (rd(2) << 16) >> 16 : rd(4) | 0; break;
    case 'Ob':
      if (asize === 8) { const lo = rd(4) >>> 0; const hi = rd(4) | 0; ins.absAddr = hi * TWO32 + lo; }
      else ins.absAddr = asize === 4 ? rd(4) >>> 0 : rd(2) & 0xffff;
      ins.base = -1; ins.index = -1; ins.disp = ins.absAddr | 0; ins.hasMem = true;
      break;
    case 'Ap':
      ins.imm = osize === 2 ? rd(2) & 0xffff : rd(4) >>> 0;
      ins.imm2 = rd(2) & 0xffff;
      break;
    case 'IwIb': ins.imm = rd(2) & 0xffff; ins.imm2 = next(); break;
  }

  ins.len = pos;
  ins.nextRip = mode64 ? rip + pos : (rip + pos) % TWO32;
  if (imm === 'Jb' || imm === 'Jz') {
    const t = ins.nextRip + ins.imm;
    // 16-bit operand size truncates IP, the offset within CS (64-bit mode: always 64-bit)
    const csBase = mode.csBase ?? 0;
    ins.target = mode64 ? t : osize === 2 ? csBase + ((t - csBase) & 0xffff) : t >>> 0;
  }
  if (ins.hasMem) {
    if (ins.ripRel) {
      // with a 67 prefix the address is EIP-relative: the low 32 bits, zero-extended
      ins.absAddr = asize === 4 ? (((ins.nextRip + ins.disp) % TWO32) + TWO32) % TWO32 : ins.nextRip + ins.disp;
      ins.base = -1;
      ins.index = -1;
    } else if (mode64 && asize === 8 && ins.base === -1 && ins.index === -1 && imm !== 'Ob') {
      ins.absAddr = ins.disp; // [disp32] via SIB without base: sign-extended
    }
    ins.ea = chooseEa(ins, mode64);
  }
  ins.exec = form.exec;
  ins.ends = form.ends ?? false;
  if (lock && !(form.lockable && ins.hasMem)) {
    ins.exec = makeUd('lock');
    ins.ends = true;
  }
  return ins;
}

function finishUnknown(ins: Insn, pos: number, rip: number, mode64: boolean, makeUd: UdExec, why: string): void {
  ins.len = pos;
  ins.nextRip = mode64 ? rip + pos : (rip + pos) % TWO32;
  ins.exec = makeUd(why);
  ins.ends = true;
}
