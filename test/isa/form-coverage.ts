// Ties the three descriptions of the instruction set together: the decoder's registry
// (defineOp in src/cpu/ops/**), the oracle's table (test/isa/table.ts) and the JIT template
// families (src/cpu/jit/templates). Every oracle form is generated and decoded here, and each
// decoded instruction is traced back to the registry entry that decoded it.
import '../../src/cpu/ops/index.js';
import { decode } from '../../src/cpu/decoder.js';
import type { Insn } from '../../src/cpu/insn.js';
import { opTable, selectForm, type OpEntry } from '../../src/cpu/optable.js';
import { generateCases } from './generate.js';
import type { Form } from './form.js';

const MAP_NAMES = ['', '0f ', '0f38 ', '0f3a '];

/** Whether `e` is one of eight forms at opcode+0..7 naming a register in the opcode (50+r, B8+r...). */
function inRegisterRun(map: number, opcode: number, e: OpEntry): boolean {
  const first = opcode & ~7;
  for (let j = 0; j < 8; j++) {
    if (!opTable[map * 256 + first + j].some((x) => x.exec === e.exec && x.name === e.name && x.prefix === e.prefix)) return false;
  }
  return true;
}

/** A registry entry as people read it: "0f ae np /1 mem: fxrstor", "b8+r: mov" for a register run. */
export function entryKey(map: number, opcode: number, e: OpEntry): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  const parts = [`${MAP_NAMES[map]}${inRegisterRun(map, opcode, e) ? hex(opcode & ~7) + '+r' : hex(opcode)}`];
  if (e.vex) parts.push('vex');
  if (e.prefix && e.prefix !== 'any') parts.push(e.prefix);
  if (e.reg !== undefined) parts.push(`/${e.reg}`);
  if (e.mod) parts.push(e.mod);
  if (e.rm !== undefined) parts.push(`rm=${e.rm}`);
  return `${parts.join(' ')}: ${e.name}`;
}

/** Every registered form, by key. */
export function registeredForms(): Map<string, { map: number; opcode: number; entry: OpEntry }> {
  const out = new Map<string, { map: number; opcode: number; entry: OpEntry }>();
  opTable.forEach((list, i) => {
    for (const entry of list) out.set(entryKey(i >> 8, i & 0xff, entry), { map: i >> 8, opcode: i & 0xff, entry });
  });
  return out;
}

/** The registry entry that decoded `ins` (as the decoder chose it). */
export function entryOf(ins: Insn): string | undefined {
  const map = ins.opcode >> 8, opcode = ins.opcode & 0xff;
  const mand = ins.pF3 ? 'F3' : ins.pF2 ? 'F2' : ins.p66 ? '66' : 'np';
  const e = selectForm(map, opcode, mand, ins.modrm, ins.vex);
  if (e && e.name === ins.name) return entryKey(map, opcode, e);
  // both F2 and F3 present: the decoder used the last one; find the entry by name instead
  const byName = opTable[map * 256 + opcode].find((x) => x.name === ins.name);
  return byName ? entryKey(map, opcode, byName) : undefined;
}

const ud = (why: string) => () => { throw new Error(`#UD ${why}`); };

/** Decode the top-level instructions of an oracle case's code (64-bit mode). */
export function decodeAll(code: Uint8Array, boundaries: number[]): Insn[] {
  const out: Insn[] = [];
  for (let k = 0; k < boundaries.length - 1; k++) {
    out.push(decode(boundaries[k], { mode64: true, def32: true }, (lin) => code[lin] ?? 0xcc, ud));
  }
  return out;
}

/**
 * Every instruction of an x87, MMX or FXSAVE sequence (table-fpu.ts: several instructions in one
 * custom piece, each compared through what it leaves in memory): the top-level decode sees only
 * the first of them.
 */
function decodeSequence(code: Uint8Array, from: number, to: number): Insn[] {
  const out: Insn[] = [];
  for (let at = from; at < to;) {
    let ins: Insn;
    try { ins = decode(at, { mode64: true, def32: true }, (lin) => code[lin] ?? 0xcc, ud); } catch { break; }
    out.push(ins);
    if (ins.len <= 0) break;
    at += ins.len;
  }
  return out;
}

/** Decoded instructions of `casesPerForm` single-form cases for every oracle form. */
export function oracleInstructions(forms: readonly Form[], casesPerForm = 24): { form: string; text: string; ins: Insn }[] {
  const out: { form: string; text: string; ins: Insn }[] = [];
  for (const f of forms) {
    for (const c of generateCases({ seed: `coverage/${f.name}`, forms: [f], singleRatio: 1 }, 0, casesPerForm)) {
      decodeAll(c.code, c.boundaries).forEach((ins, k) => out.push({ form: f.name, text: c.text[k], ins }));
      if (f.shape !== 'custom' || !(f.feature === 'fpu' || f.feature === 'mmx' || f.feature === 'fxsr')) continue;
      for (let k = 0; k < c.boundaries.length - 1; k++) {
        decodeSequence(c.code, c.boundaries[k], c.boundaries[k + 1]).slice(1).forEach((ins) => out.push({ form: f.name, text: c.text[k], ins }));
      }
    }
  }
  return out;
}
