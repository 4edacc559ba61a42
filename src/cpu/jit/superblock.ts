// Superblocks: a 64-bit block being compiled is extended past its not-taken conditional
// branches (which become side exits) and through relative jumps (followed), within its own
// code page, as long as every instruction added has a template. A loop whose body spans
// several blocks then becomes one block that branches back to its start, which
// compile.ts runs as a self-loop. The interpreter's blocks are unchanged.

import { decode, DecodeError } from '../decoder.js';
import type { Insn } from '../insn.js';
import { templateFor } from './compile.js';
import { ROLE_EXIT, ROLE_FOLLOW, ROLE_PLAIN } from './superblock-roles.js';
import { MODE_64 } from './template.js';


export interface Superblock { ops: Insn[]; roles: number[] }

const MAX_OPS = 64;
const OUT_OF_PAGE = { outOfPage: true } as const;

function isJcc(ins: Insn): boolean {
  const o = ins.opcode;
  return (o >= 0x70 && o <= 0x7f) || (o >= 0x180 && o <= 0x18f);
}

function isJmpRel(ins: Insn): boolean {
  return ins.opcode === 0xeb || ins.opcode === 0xe9;
}

function canonical(t: number): boolean {
  return t < 0x800000000000 && t >= -0x800000000000;
}

const noUd = (): Insn['exec'] => () => { throw new Error('internal: superblock executes an undecodable instruction'); };

/**
 * The block's instructions plus what follows its not-taken branch / its jump, decoded from
 * the block's (single) RAM page. `ram` is guest RAM, `pageOff` the RAM offset of that page.
 */
export function extendBlock(ops: Insn[], mode: number, ram: Uint8Array, pageOff: number, crossesPage: boolean): Superblock {
  const roles = ops.map(() => ROLE_PLAIN);
  const out: Superblock = { ops, roles };
  if (mode !== MODE_64 || crossesPage || ops.some((ins) => templateFor(ins, mode) === null)) return out;
  const start = ops[0].rip;
  const startPage = Math.floor(start / 4096);
  const seen = new Set(ops.map((o) => o.rip));
  const fetch = (lin: number): number => {
    if (Math.floor(lin / 4096) !== startPage) throw OUT_OF_PAGE;
    return ram[pageOff + (lin & 0xfff)];
  };
  const all = ops.slice();
  const allRoles = roles.slice();
  let committed = all.length;
  for (;;) {
    const last = all[all.length - 1];
    let next: number;
    if (isJcc(last) && canonical(last.target) && last.target !== start) {
      allRoles[all.length - 1] = ROLE_EXIT;
      next = last.nextRip;
    } else if (isJmpRel(last) && last.target !== start && Math.floor(last.target / 4096) === startPage) {
      allRoles[all.length - 1] = ROLE_FOLLOW;
      next = last.target;
    } else {
      break;
    }
    if (seen.has(next)) break;
    // one more segment: straight-line instructions up to the next block end, all templated
    let ok = true;
    let rip = next;
    const segment: Insn[] = [];
    while (all.length + segment.length < MAX_OPS) {
      let ins: Insn;
      try {
        ins = decode(rip, { mode64: true, def32: true, csBase: 0 }, fetch, noUd);
      } catch (e) {
        if (e === OUT_OF_PAGE || e instanceof DecodeError) { ok = segment.length > 0; break; }
        throw e;
      }
      if (seen.has(ins.rip) || templateFor(ins, mode) === null) { ok = segment.length > 0; break; }
      segment.push(ins);
      seen.add(ins.rip);
      rip = ins.nextRip;
      if (ins.ends || Math.floor(rip / 4096) !== startPage) break;
    }
    if (!ok || segment.length === 0) break;
    for (const ins of segment) { all.push(ins); allRoles.push(ROLE_PLAIN); }
    committed = all.length;
    if (all.length >= MAX_OPS) break;
  }
  // a trailing exit/follow role whose continuation was not added reverts to a plain end
  const ops2 = all.slice(0, committed), roles2 = allRoles.slice(0, committed);
  if (roles2.length) roles2[roles2.length - 1] = ROLE_PLAIN;
  return { ops: ops2, roles: roles2 };
}
