// The instruction table: every user-mode opcode group the emulator must implement, as data.
// One table drives generation (encodings, operand kinds, constraints) and comparison (the
// flags each instruction leaves undefined, per the Intel SDM, masked out when comparing).

import { AF, CF, DF, OF, PF, SF, STATUS, ZF, BASE_RFLAGS } from './flags.js';
import { encode, RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP, gprName } from './encoder.js';
import type { FlagCtx, FlagEffect, Form, OpSize, SetupCtx, BuildCtx, Built } from './form.js';
import type { Prng } from './prng.js';
import { bytesLe, edgeCount, edgeInt, mask } from './values.js';
import { SNIPPET_DATA_BASE } from './snippet-api.js';
import { MEM_AREA, STACK_TOP } from './layout.js';
import { FPU_FORMS } from './table-fpu.js';
import { SYSTEM_FORMS } from './table-system.js';

const NONE: FlagEffect = { w: 0, u: 0 };
const ARITH: FlagEffect = { w: STATUS, u: 0 };
const LOGIC: FlagEffect = { w: STATUS, u: AF };
const INCDEC: FlagEffect = { w: STATUS & ~CF, u: 0 };
const MULF: FlagEffect = { w: STATUS, u: SF | ZF | AF | PF };
const DIVF: FlagEffect = { w: STATUS, u: STATUS };
const BITTEST: FlagEffect = { w: STATUS & ~ZF, u: OF | SF | AF | PF };
const BITSCAN: FlagEffect = { w: STATUS, u: STATUS & ~ZF };
const CNT: FlagEffect = { w: STATUS, u: OF | SF | AF | PF };

const ISZ: OpSize[] = [8, 16, 32, 64];
const WSZ: OpSize[] = [16, 32, 64];
const DQ: OpSize[] = [32, 64];

/** flags read by condition code cc (Jcc/SETcc/CMOVcc) */
export function ccReads(cc: number): number {
  return [OF, CF, ZF, CF | ZF, SF, PF, SF | OF, ZF | SF | OF][cc >> 1];
}
export const CC_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

function countMask(size: OpSize): number {
  return size === 64 ? 63 : 31;
}

/** SHL/SHR/SAR: AF undefined for count != 0, OF for count != 1, CF when count >= width (8/16-bit) */
function shiftFlags(k: FlagCtx): FlagEffect {
  if (k.count === undefined) return { w: 0, u: OF | AF | (k.size < 32 ? CF : 0) };
  const c = k.count & countMask(k.size);
  if (c === 0) return NONE;
  return { w: STATUS, u: AF | (c !== 1 ? OF : 0) | (c >= k.size ? CF : 0) };
}

/** ROL/ROR/RCL/RCR: CF and OF only; OF undefined unless the masked count is 1 */
function rotateFlags(k: FlagCtx): FlagEffect {
  if (k.count === undefined) return { w: 0, u: OF };
  const c = k.count & countMask(k.size);
  if (c === 0) return NONE;
  return { w: CF | OF, u: c !== 1 ? OF : 0 };
}

/** SHLD/SHRD: as shifts, AF always undefined */
function doubleShiftFlags(k: FlagCtx): FlagEffect {
  if (k.count === undefined) return { w: 0, u: OF | AF };
  const c = k.count & countMask(k.size);
  if (c === 0) return NONE;
  return { w: STATUS, u: AF | (c !== 1 ? OF : 0) };
}

const countImm = (rng: Prng) => BigInt(edgeCount(rng));
const smallImm = (max: number) => (rng: Prng) => BigInt(rng.below(max + 1));

const forms: Form[] = [];
const add = (f: Form) => forms.push(f);

// ---------------------------------------------------------------- integer ALU
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
ALU.forEach((m, op) => {
  const flags = m === 'and' || m === 'or' || m === 'xor' ? LOGIC : ARITH;
  const reads = m === 'adc' || m === 'sbb' ? CF : 0;
  const lockable = m !== 'cmp';
  const base = op * 8;
  add({ name: `${m} rm,r`, group: m, shape: 'r_rm', sizes: ISZ, opcode: [base + 1], opcode8: [base], rm: 'both', flags, reads, lockable });
  add({ name: `${m} r,rm`, group: m, shape: 'r_rm', sizes: ISZ, opcode: [base + 3], opcode8: [base + 2], rm: 'both', flags, reads });
  add({ name: `${m} acc,imm`, group: m, shape: 'acc_imm', sizes: ISZ, opcode: [base + 5], opcode8: [base + 4], imm: 'z', flags, reads });
  add({ name: `${m} rm,imm`, group: m, shape: 'rm', digit: op, sizes: ISZ, opcode: [0x81], opcode8: [0x80], rm: 'both', imm: 'z', flags, reads, lockable });
  add({ name: `${m} rm,imm8`, group: m, shape: 'rm', digit: op, sizes: WSZ, opcode: [0x83], rm: 'both', imm: 'b', flags, reads, lockable });
});
add({ name: 'test rm,r', group: 'test', shape: 'r_rm', sizes: ISZ, opcode: [0x85], opcode8: [0x84], rm: 'both', flags: LOGIC });
add({ name: 'test acc,imm', group: 'test', shape: 'acc_imm', sizes: ISZ, opcode: [0xa9], opcode8: [0xa8], imm: 'z', flags: LOGIC });
add({ name: 'test rm,imm', group: 'test', shape: 'rm', digit: 0, sizes: ISZ, opcode: [0xf7], opcode8: [0xf6], rm: 'both', imm: 'z', flags: LOGIC });
add({ name: 'inc rm', group: 'inc', shape: 'rm', digit: 0, sizes: ISZ, opcode: [0xff], opcode8: [0xfe], rm: 'both', flags: INCDEC, lockable: true });
add({ name: 'dec rm', group: 'dec', shape: 'rm', digit: 1, sizes: ISZ, opcode: [0xff], opcode8: [0xfe], rm: 'both', flags: INCDEC, lockable: true });
add({ name: 'not rm', group: 'not', shape: 'rm', digit: 2, sizes: ISZ, opcode: [0xf7], opcode8: [0xf6], rm: 'both', flags: NONE, lockable: true });
add({ name: 'neg rm', group: 'neg', shape: 'rm', digit: 3, sizes: ISZ, opcode: [0xf7], opcode8: [0xf6], rm: 'both', flags: ARITH, lockable: true });

// ---------------------------------------------------------------- moves
add({ name: 'mov rm,r', group: 'mov', shape: 'r_rm', sizes: ISZ, opcode: [0x89], opcode8: [0x88], rm: 'both', flags: NONE });
add({ name: 'mov r,rm', group: 'mov', shape: 'r_rm', sizes: ISZ, opcode: [0x8b], opcode8: [0x8a], rm: 'both', flags: NONE });
add({ name: 'mov rm,imm', group: 'mov', shape: 'rm', digit: 0, sizes: ISZ, opcode: [0xc7], opcode8: [0xc6], rm: 'both', imm: 'z', flags: NONE });
add({ name: 'mov r,imm', group: 'mov', shape: 'opreg', sizes: ISZ, opcode: [0xb8], opcode8: [0xb0], imm: 'v', flags: NONE });
add({ name: 'mov acc,moffs', group: 'mov', shape: 'custom', sizes: ISZ, opcode: [0xa1], opcode8: [0xa0], flags: NONE, build: (b) => moffs(b, false) });
add({ name: 'mov moffs,acc', group: 'mov', shape: 'custom', sizes: ISZ, opcode: [0xa3], opcode8: [0xa2], flags: NONE, build: (b) => moffs(b, true) });
add({ name: 'movzx r,rm8', group: 'movzx', shape: 'r_rm', sizes: WSZ, rmSize: 8, opcode: [0x0f, 0xb6], rm: 'both', flags: NONE });
add({ name: 'movzx r,rm16', group: 'movzx', shape: 'r_rm', sizes: DQ, rmSize: 16, opcode: [0x0f, 0xb7], rm: 'both', flags: NONE });
add({ name: 'movsx r,rm8', group: 'movsx', shape: 'r_rm', sizes: WSZ, rmSize: 8, opcode: [0x0f, 0xbe], rm: 'both', flags: NONE });
add({ name: 'movsx r,rm16', group: 'movsx', shape: 'r_rm', sizes: DQ, rmSize: 16, opcode: [0x0f, 0xbf], rm: 'both', flags: NONE });
add({ name: 'movsxd r64,rm32', group: 'movsxd', shape: 'r_rm', sizes: [64], rmSize: 32, opcode: [0x63], rm: 'both', flags: NONE });
add({ name: 'lea r,m', group: 'lea', shape: 'r_rm', sizes: WSZ, opcode: [0x8d], rm: 'mem', flags: NONE, memBytes: 0 });
add({ name: 'xchg rm,r', group: 'xchg', shape: 'r_rm', sizes: ISZ, opcode: [0x87], opcode8: [0x86], rm: 'both', flags: NONE, lockable: true });
add({ name: 'xchg acc,r', group: 'xchg', shape: 'opreg', sizes: WSZ, opcode: [0x90], flags: NONE });
add({ name: 'xadd rm,r', group: 'xadd', shape: 'r_rm', sizes: ISZ, opcode: [0x0f, 0xc1], opcode8: [0x0f, 0xc0], rm: 'both', flags: ARITH, lockable: true });
add({ name: 'cmpxchg rm,r', group: 'cmpxchg', shape: 'r_rm', sizes: ISZ, opcode: [0x0f, 0xb1], opcode8: [0x0f, 0xb0], rm: 'both', flags: ARITH, lockable: true, setup: cmpxchgBias });
add({ name: 'cmpxchg8b m64', group: 'cmpxchg8b', shape: 'rm', digit: 1, sizes: [32], opcode: [0x0f, 0xc7], rm: 'mem', memBytes: 8, flags: { w: ZF, u: 0 }, lockable: true, feature: 'cx8', setup: cmpxchgWideBias });
add({ name: 'cmpxchg16b m128', group: 'cmpxchg16b', shape: 'rm', digit: 1, sizes: [64], opcode: [0x0f, 0xc7], rm: 'mem', memBytes: 16, align: 16, flags: { w: ZF, u: 0 }, lockable: true, feature: 'cx16', setup: cmpxchgWideBias });
add({ name: 'bswap r', group: 'bswap', shape: 'opreg', sizes: DQ, opcode: [0x0f, 0xc8], flags: NONE });
add({ name: 'movbe r,m', group: 'movbe', shape: 'r_rm', sizes: WSZ, opcode: [0x0f, 0x38, 0xf0], rm: 'mem', flags: NONE, feature: 'movbe' });
add({ name: 'movbe m,r', group: 'movbe', shape: 'r_rm', sizes: WSZ, opcode: [0x0f, 0x38, 0xf1], rm: 'mem', flags: NONE, feature: 'movbe' });
add({ name: 'nop rm', group: 'nop', shape: 'rm', digit: 0, sizes: [16, 32], opcode: [0x0f, 0x1f], rm: 'both', flags: NONE, memBytes: 0 });
add({ name: 'nop', group: 'nop', shape: 'none', sizes: [32], opcode: [0x90], flags: NONE });

// ---------------------------------------------------------------- conditional moves / sets
for (let cc = 0; cc < 16; cc++) {
  add({ name: `cmov${CC_NAMES[cc]} r,rm`, group: 'cmovcc', shape: 'r_rm', sizes: WSZ, opcode: [0x0f, 0x40 + cc], rm: 'both', flags: NONE, reads: ccReads(cc), feature: 'cmov' });
  add({ name: `set${CC_NAMES[cc]} rm8`, group: 'setcc', shape: 'rm', digit: 0, sizes: [8], opcode8: [0x0f, 0x90 + cc], opcode: [0x0f, 0x90 + cc], rm: 'both', flags: NONE, reads: ccReads(cc) });
}

// ---------------------------------------------------------------- shifts and rotates
const SHIFTS: [string, number, (k: FlagCtx) => FlagEffect, number][] = [
  ['rol', 0, rotateFlags, 0], ['ror', 1, rotateFlags, 0], ['rcl', 2, rotateFlags, CF], ['rcr', 3, rotateFlags, CF],
  ['shl', 4, shiftFlags, 0], ['shr', 5, shiftFlags, 0], ['sar', 7, shiftFlags, 0],
];
for (const [m, digit, flags, reads] of SHIFTS) {
  add({ name: `${m} rm,1`, group: m, shape: 'rm', digit, sizes: ISZ, opcode: [0xd1], opcode8: [0xd0], rm: 'both', count: 'one', flags, reads });
  add({ name: `${m} rm,cl`, group: m, shape: 'rm', digit, sizes: ISZ, opcode: [0xd3], opcode8: [0xd2], rm: 'both', count: 'cl', flags, reads, setup: clCountBias });
  add({ name: `${m} rm,imm8`, group: m, shape: 'rm', digit, sizes: ISZ, opcode: [0xc1], opcode8: [0xc0], rm: 'both', imm: 'b', count: 'imm', immPick: countImm, flags, reads });
}
add({ name: 'shld rm,r,imm8', group: 'shld', shape: 'r_rm', sizes: DQ, opcode: [0x0f, 0xa4], rm: 'both', imm: 'b', count: 'imm', immPick: countImm, flags: doubleShiftFlags });
add({ name: 'shld rm,r,cl', group: 'shld', shape: 'r_rm', sizes: DQ, opcode: [0x0f, 0xa5], rm: 'both', count: 'cl', flags: doubleShiftFlags, setup: clCountBias });
add({ name: 'shrd rm,r,imm8', group: 'shrd', shape: 'r_rm', sizes: DQ, opcode: [0x0f, 0xac], rm: 'both', imm: 'b', count: 'imm', immPick: countImm, flags: doubleShiftFlags });
add({ name: 'shrd rm,r,cl', group: 'shrd', shape: 'r_rm', sizes: DQ, opcode: [0x0f, 0xad], rm: 'both', count: 'cl', flags: doubleShiftFlags, setup: clCountBias });
// 16-bit double shifts leave the result undefined for counts above 16: keep counts in range
const count16 = (rng: Prng) => BigInt(rng.below(17) | (rng.chance(0.3) ? 0x20 : 0));
add({ name: 'shld rm16,r,imm8', group: 'shld', shape: 'r_rm', sizes: [16], opcode: [0x0f, 0xa4], rm: 'both', imm: 'b', count: 'imm', immPick: count16, flags: doubleShiftFlags });
add({ name: 'shrd rm16,r,imm8', group: 'shrd', shape: 'r_rm', sizes: [16], opcode: [0x0f, 0xac], rm: 'both', imm: 'b', count: 'imm', immPick: count16, flags: doubleShiftFlags });
add({ name: 'shld rm16,r,cl', group: 'shld', shape: 'r_rm', sizes: [16], opcode: [0x0f, 0xa5], rm: 'both', count: 'cl', flags: doubleShiftFlags, firstOnly: true, setup: (s) => s.setReg(RCX, (s.getReg(RCX) & ~0xffn) | count16(s.rng)) });
add({ name: 'shrd rm16,r,cl', group: 'shrd', shape: 'r_rm', sizes: [16], opcode: [0x0f, 0xad], rm: 'both', count: 'cl', flags: doubleShiftFlags, firstOnly: true, setup: (s) => s.setReg(RCX, (s.getReg(RCX) & ~0xffn) | count16(s.rng)) });

// ---------------------------------------------------------------- multiply and divide
add({ name: 'mul rm', group: 'mul', shape: 'rm', digit: 4, sizes: ISZ, opcode: [0xf7], opcode8: [0xf6], rm: 'both', flags: MULF });
add({ name: 'imul rm', group: 'imul', shape: 'rm', digit: 5, sizes: ISZ, opcode: [0xf7], opcode8: [0xf6], rm: 'both', flags: MULF });
add({ name: 'imul r,rm', group: 'imul', shape: 'r_rm', sizes: WSZ, opcode: [0x0f, 0xaf], rm: 'both', flags: MULF });
add({ name: 'imul r,rm,imm', group: 'imul', shape: 'r_rm', sizes: WSZ, opcode: [0x69], rm: 'both', imm: 'z', flags: MULF });
add({ name: 'imul r,rm,imm8', group: 'imul', shape: 'r_rm', sizes: WSZ, opcode: [0x6b], rm: 'both', imm: 'b', flags: MULF });
add({ name: 'div rm', group: 'div', shape: 'rm', digit: 6, sizes: ISZ, opcode: [0xf7], opcode8: [0xf6], rm: 'both', flags: DIVF, setup: (s) => divBias(s, false) });
add({ name: 'idiv rm', group: 'idiv', shape: 'rm', digit: 7, sizes: ISZ, opcode: [0xf7], opcode8: [0xf6], rm: 'both', flags: DIVF, setup: (s) => divBias(s, true) });

// ---------------------------------------------------------------- bit test and scan
const BT: [string, number, number][] = [['bt', 0xa3, 4], ['bts', 0xab, 5], ['btr', 0xb3, 6], ['btc', 0xbb, 7]];
for (const [m, op, digit] of BT) {
  const lockable = m !== 'bt';
  add({ name: `${m} rm(reg),r`, group: m, shape: 'r_rm', sizes: WSZ, opcode: [0x0f, op], rm: 'reg', flags: BITTEST });
  // memory with a register bit offset addresses far from the operand: keep the offset inside the window
  add({ name: `${m} m,r`, group: m, shape: 'r_rm', sizes: WSZ, opcode: [0x0f, op], rm: 'mem', flags: BITTEST, lockable, firstOnly: true, setup: bitOffsetSetup });
  add({ name: `${m} rm,imm8`, group: m, shape: 'rm', digit, sizes: WSZ, opcode: [0x0f, 0xba], rm: 'both', imm: 'b', flags: BITTEST, lockable });
}
// BSF/BSR leave the destination undefined for a zero source (AMD documents "unchanged", Intel does not)
add({ name: 'bsf r,rm', group: 'bsf', shape: 'r_rm', sizes: WSZ, opcode: [0x0f, 0xbc], rm: 'both', flags: BITSCAN, firstOnly: true, setup: nonZeroSource });
add({ name: 'bsr r,rm', group: 'bsr', shape: 'r_rm', sizes: WSZ, opcode: [0x0f, 0xbd], rm: 'both', flags: BITSCAN, firstOnly: true, setup: nonZeroSource });
add({ name: 'tzcnt r,rm', group: 'tzcnt', shape: 'r_rm', prefix: 0xf3, sizes: WSZ, opcode: [0x0f, 0xbc], rm: 'both', flags: CNT, feature: 'bmi1', setup: sometimesZeroSource });
add({ name: 'lzcnt r,rm', group: 'lzcnt', shape: 'r_rm', prefix: 0xf3, sizes: WSZ, opcode: [0x0f, 0xbd], rm: 'both', flags: CNT, feature: 'lzcnt', setup: sometimesZeroSource });
add({ name: 'popcnt r,rm', group: 'popcnt', shape: 'r_rm', prefix: 0xf3, sizes: WSZ, opcode: [0x0f, 0xb8], rm: 'both', flags: ARITH, feature: 'popcnt', setup: sometimesZeroSource });

// ---------------------------------------------------------------- BMI1 / BMI2 (VEX)
const BMI_FLAGS_AP: FlagEffect = { w: STATUS, u: AF | PF };
add({ name: 'andn r,v,rm', group: 'andn', shape: 'vex', sizes: DQ, opcode: [0xf2], vex: { map: 2, pp: 0, vvvv: 'reg' }, rm: 'both', flags: BMI_FLAGS_AP, feature: 'bmi1' });
add({ name: 'bextr r,rm,v', group: 'bextr', shape: 'vex', sizes: DQ, opcode: [0xf7], vex: { map: 2, pp: 0, vvvv: 'reg' }, rm: 'both', flags: { w: STATUS, u: AF | SF | PF }, feature: 'bmi1', setup: bextrBias });
add({ name: 'blsi v,rm', group: 'blsi', shape: 'vex', digit: 3, sizes: DQ, opcode: [0xf3], vex: { map: 2, pp: 0, vvvv: 'reg' }, rm: 'both', flags: BMI_FLAGS_AP, feature: 'bmi1' });
add({ name: 'blsmsk v,rm', group: 'blsmsk', shape: 'vex', digit: 2, sizes: DQ, opcode: [0xf3], vex: { map: 2, pp: 0, vvvv: 'reg' }, rm: 'both', flags: BMI_FLAGS_AP, feature: 'bmi1' });
add({ name: 'blsr v,rm', group: 'blsr', shape: 'vex', digit: 1, sizes: DQ, opcode: [0xf3], vex: { map: 2, pp: 0, vvvv: 'reg' }, rm: 'both', flags: BMI_FLAGS_AP, feature: 'bmi1' });
add({ name: 'bzhi r,rm,v', group: 'bzhi', shape: 'vex', sizes: DQ, opcode: [0xf5], vex: { map: 2, pp: 0, vvvv: 'reg' }, rm: 'both', flags: BMI_FLAGS_AP, feature: 'bmi2', setup: bzhiBias });
add({ name: 'pdep r,v,rm', group: 'pdep', shape: 'vex', sizes: DQ, opcode: [0xf5], vex: { map: 2, pp: 3, vvvv: 'reg' }, rm: 'both', flags: NONE, feature: 'bmi2' });
add({ name: 'pext r,v,rm', group: 'pext', shape: 'vex', sizes: DQ, opcode: [0xf5], vex: { map: 2, pp: 2, vvvv: 'reg' }, rm: 'both', flags: NONE, feature: 'bmi2' });
add({ name: 'mulx r,v,rm', group: 'mulx', shape: 'vex', sizes: DQ, opcode: [0xf6], vex: { map: 2, pp: 3, vvvv: 'reg' }, rm: 'both', flags: NONE, feature: 'bmi2' });
add({ name: 'rorx r,rm,imm8', group: 'rorx', shape: 'vex', sizes: DQ, opcode: [0xf0], vex: { map: 3, pp: 3, vvvv: 'unused' }, rm: 'both', imm: 'b', immPick: countImm, flags: NONE, feature: 'bmi2' });
add({ name: 'sarx r,rm,v', group: 'sarx', shape: 'vex', sizes: DQ, opcode: [0xf7], vex: { map: 2, pp: 2, vvvv: 'reg' }, rm: 'both', flags: NONE, feature: 'bmi2' });
add({ name: 'shlx r,rm,v', group: 'shlx', shape: 'vex', sizes: DQ, opcode: [0xf7], vex: { map: 2, pp: 1, vvvv: 'reg' }, rm: 'both', flags: NONE, feature: 'bmi2' });
add({ name: 'shrx r,rm,v', group: 'shrx', shape: 'vex', sizes: DQ, opcode: [0xf7], vex: { map: 2, pp: 3, vvvv: 'reg' }, rm: 'both', flags: NONE, feature: 'bmi2' });
add({ name: 'adcx r,rm', group: 'adx', shape: 'r_rm', prefix: 0x66, sizes: DQ, opcode: [0x0f, 0x38, 0xf6], rm: 'both', flags: { w: CF, u: 0 }, reads: CF, feature: 'adx' });
add({ name: 'adox r,rm', group: 'adx', shape: 'r_rm', prefix: 0xf3, sizes: DQ, opcode: [0x0f, 0x38, 0xf6], rm: 'both', flags: { w: OF, u: 0 }, reads: OF, feature: 'adx' });

// ---------------------------------------------------------------- flags and conversions
add({ name: 'clc', group: 'flagops', shape: 'none', sizes: [32], opcode: [0xf8], flags: { w: CF, u: 0 } });
add({ name: 'stc', group: 'flagops', shape: 'none', sizes: [32], opcode: [0xf9], flags: { w: CF, u: 0 } });
add({ name: 'cmc', group: 'flagops', shape: 'none', sizes: [32], opcode: [0xf5], flags: { w: CF, u: 0 }, reads: CF });
add({ name: 'cld', group: 'flagops', shape: 'none', sizes: [32], opcode: [0xfc], flags: { w: DF, u: 0 } });
add({ name: 'std', group: 'flagops', shape: 'none', sizes: [32], opcode: [0xfd], flags: { w: DF, u: 0 } });
add({ name: 'lahf', group: 'lahf', shape: 'none', sizes: [32], opcode: [0x9f], flags: NONE, reads: SF | ZF | AF | PF | CF, feature: 'lahf64' });
add({ name: 'sahf', group: 'sahf', shape: 'none', sizes: [32], opcode: [0x9e], flags: { w: SF | ZF | AF | PF | CF, u: 0 }, feature: 'lahf64' });
add({ name: 'cbw/cwde/cdqe', group: 'convert', shape: 'none', sizes: WSZ, opcode: [0x98], flags: NONE });
add({ name: 'cwd/cdq/cqo', group: 'convert', shape: 'none', sizes: WSZ, opcode: [0x99], flags: NONE });

// ---------------------------------------------------------------- stack
add({ name: 'push r', group: 'push', shape: 'opreg', sizes: [16, 64], default64: true, opcode: [0x50], flags: NONE, stack: true });
add({ name: 'pop r', group: 'pop', shape: 'opreg', sizes: [16, 64], default64: true, opcode: [0x58], flags: NONE, stack: true });
add({ name: 'push rm', group: 'push', shape: 'rm', digit: 6, sizes: [16, 64], default64: true, opcode: [0xff], rm: 'both', flags: NONE, stack: true });
add({ name: 'pop rm', group: 'pop', shape: 'rm', digit: 0, sizes: [16, 64], default64: true, opcode: [0x8f], rm: 'both', flags: NONE, stack: true });
add({ name: 'push imm8', group: 'push', shape: 'none', sizes: [16, 64], default64: true, opcode: [0x6a], imm: 'b', flags: NONE, stack: true });
add({ name: 'push imm', group: 'push', shape: 'none', sizes: [16, 64], default64: true, opcode: [0x68], imm: 'z', flags: NONE, stack: true });
add({ name: 'pushf', group: 'pushf', shape: 'none', sizes: [64], default64: true, opcode: [0x9c], flags: NONE, reads: STATUS | DF, stack: true });
add({ name: 'popf', group: 'popf', shape: 'none', sizes: [64], default64: true, opcode: [0x9d], flags: { w: STATUS | DF, u: 0 }, stack: true, firstOnly: true, setup: popfSetup });
add({ name: 'enter imm16,imm8', group: 'enter', shape: 'custom', sizes: [64], opcode: [0xc8], flags: NONE, stack: true, firstOnly: true, build: enterBuild });
add({ name: 'leave', group: 'leave', shape: 'none', sizes: [64], default64: true, opcode: [0xc9], flags: NONE, stack: true, firstOnly: true, setup: leaveSetup });

// ---------------------------------------------------------------- string instructions
const STRINGS: [string, number, 'rep' | 'repcc'][] = [['movs', 0xa4, 'rep'], ['cmps', 0xa6, 'repcc'], ['stos', 0xaa, 'rep'], ['lods', 0xac, 'rep'], ['scas', 0xae, 'repcc']];
for (const [m, op, kind] of STRINGS) {
  const compares = kind === 'repcc';
  const variants: [string, number | undefined][] = kind === 'rep' ? [['', undefined], ['rep ', 0xf3]] : [['', undefined], ['repe ', 0xf3], ['repne ', 0xf2]];
  for (const [pfxName, pfx] of variants) {
    add({
      name: `${pfxName}${m}`, group: m, shape: 'custom', sizes: ISZ, opcode: [op + 1], opcode8: [op], firstOnly: true, writesRcx: pfx !== undefined,
      reads: DF, flags: compares ? (k) => (pfx !== undefined && k.rcx === 0n ? NONE : ARITH) : NONE,
      build: (b) => stringBuild(b, m, op, pfx),
    });
  }
}

// ---------------------------------------------------------------- control flow inside the snippet
for (let cc = 0; cc < 16; cc++) {
  add({ name: `j${CC_NAMES[cc]} rel8`, group: 'jcc', shape: 'custom', sizes: [64], opcode: [0x70 + cc], flags: NONE, reads: ccReads(cc), build: (b) => branchOver(b, [0x70 + cc], 1, `j${CC_NAMES[cc]}`, ccReads(cc), true) });
  add({ name: `j${CC_NAMES[cc]} rel32`, group: 'jcc', shape: 'custom', sizes: [64], opcode: [0x0f, 0x80 + cc], flags: NONE, reads: ccReads(cc), build: (b) => branchOver(b, [0x0f, 0x80 + cc], 4, `j${CC_NAMES[cc]}`, ccReads(cc), true) });
}
add({ name: 'jmp rel8', group: 'jmp', shape: 'custom', sizes: [64], opcode: [0xeb], flags: NONE, build: (b) => branchOver(b, [0xeb], 1, 'jmp', 0, false) });
add({ name: 'jmp rel32', group: 'jmp', shape: 'custom', sizes: [64], opcode: [0xe9], flags: NONE, build: (b) => branchOver(b, [0xe9], 4, 'jmp', 0, false) });
add({ name: 'loop rel8', group: 'loop', shape: 'custom', sizes: [64], opcode: [0xe2], flags: NONE, writesRcx: true, build: (b) => branchOver(b, [0xe2], 1, 'loop', 0, true) });
add({ name: 'loope rel8', group: 'loop', shape: 'custom', sizes: [64], opcode: [0xe1], flags: NONE, reads: ZF, writesRcx: true, build: (b) => branchOver(b, [0xe1], 1, 'loope', ZF, true) });
add({ name: 'loopne rel8', group: 'loop', shape: 'custom', sizes: [64], opcode: [0xe0], flags: NONE, reads: ZF, writesRcx: true, build: (b) => branchOver(b, [0xe0], 1, 'loopne', ZF, true) });
add({ name: 'loop rel8 (ecx)', group: 'loop', shape: 'custom', sizes: [64], opcode: [0x67, 0xe2], flags: NONE, writesRcx: true, build: (b) => branchOver(b, [0x67, 0xe2], 1, 'loopd', 0, true) });
add({ name: 'jrcxz rel8', group: 'jrcxz', shape: 'custom', sizes: [64], opcode: [0xe3], flags: NONE, build: (b) => branchOver(b, [0xe3], 1, 'jrcxz', 0, true) });
add({ name: 'jecxz rel8', group: 'jrcxz', shape: 'custom', sizes: [64], opcode: [0x67, 0xe3], flags: NONE, build: (b) => branchOver(b, [0x67, 0xe3], 1, 'jecxz', 0, true) });
add({ name: 'loop backwards', group: 'loop', shape: 'custom', sizes: [64], opcode: [0xe2], flags: NONE, writesRcx: true, build: loopBackwards });
add({ name: 'call rel32/ret', group: 'call', shape: 'custom', sizes: [64], opcode: [0xe8], flags: NONE, stack: true, build: (b) => callRet(b, 'rel') });
add({ name: 'call r/ret imm16', group: 'call', shape: 'custom', sizes: [64], opcode: [0xff], flags: NONE, stack: true, build: (b) => callRet(b, 'reg') });
add({ name: 'jmp r', group: 'jmp', shape: 'custom', sizes: [64], opcode: [0xff], flags: NONE, build: jmpReg });

// ---------------------------------------------------------------- RIP-relative operands (read-only: the code window)
// The displacement counts from the end of the instruction, immediate included: the forms with an
// immediate after the displacement catch decoders that stop counting at the displacement.
const RIP_FORMS: [string, number[], number, 0 | 1 | 2 | 4, FlagEffect][] = [
  ['mov r64,[rip]', [0x48, 0x8b], -1, 0, NONE],
  ['movzx r32,byte [rip]', [0x0f, 0xb6], -1, 0, NONE],
  ['cmp qword [rip],imm8', [0x48, 0x83], 7, 1, ARITH],
  ['cmp dword [rip],imm32', [0x81], 7, 4, ARITH],
  ['test byte [rip],imm8', [0xf6], 0, 1, LOGIC],
  ['bt dword [rip],imm8', [0x0f, 0xba], 4, 1, BITTEST],
];
for (const [m, op, digit, immSize, effect] of RIP_FORMS) {
  add({ name: m, group: 'rip-relative', shape: 'custom', sizes: [64], opcode: op, flags: effect, build: (b) => ripRelative(b, m, op, digit, immSize, effect) });
}

// ---------------------------------------------------------------- RSP as a base register (needs SIB); XLAT
const STACK_FORMS: [string, number[], number, FlagEffect][] = [
  ['mov r64,[rsp+d]', [0x8b], -1, NONE],
  ['add [rsp+d],r64', [0x01], -1, ARITH],
  ['lea r64,[rsp+d]', [0x8d], -1, NONE],
  // PUSH computes the address before decrementing RSP, POP after incrementing it
  ['push qword [rsp+d]', [0xff], 6, NONE],
  ['pop qword [rsp+d]', [0x8f], 0, NONE],
];
for (const [m, op, digit, effect] of STACK_FORMS) {
  add({ name: m, group: 'rsp-based', shape: 'custom', sizes: [64], opcode: op, flags: effect, stack: true, build: (b) => rspBased(b, m, op, digit, effect) });
}
add({ name: 'xlat', group: 'xlat', shape: 'custom', sizes: [8], opcode: [0xd7], flags: NONE, firstOnly: true, build: xlatBuild });

// ---------------------------------------------------------------- address faults: #SS (stack base), #GP (other base), #PF
// A non-canonical address is #SS when RSP or RBP forms it, #GP otherwise; a canonical unmapped one is #PF.
const NONCANONICAL = [0x0000_8000_0000_0000n, 0xffff_7fff_ffff_fff8n, 0x8000_0000_0000_0000n];
const ADDR_FAULTS: [string, number][] = [['[rbp+d] non-canonical', RBP], ['[rsp+d] non-canonical', RSP], ['[r/m+d] non-canonical', -1], ['[r/m+d] unmapped', -2]];
for (const [m, base] of ADDR_FAULTS) {
  add({ name: `mov r64,${m}`, group: 'address-fault', shape: 'custom', sizes: [64], opcode: [0x8b], flags: NONE, alone: true, firstOnly: true, build: (b) => addressFault(b, m, base) });
}

// ---------------------------------------------------------------- invalid in 64-bit mode (#UD)
const INVALID64: [string, number[]][] = [
  ['push es', [0x06]], ['pop es', [0x07]], ['push cs', [0x0e]], ['push ss', [0x16]], ['pop ss', [0x17]],
  ['push ds', [0x1e]], ['pop ds', [0x1f]], ['daa', [0x27]], ['das', [0x2f]], ['aaa', [0x37]], ['aas', [0x3f]],
  ['pusha', [0x60]], ['popa', [0x61]], ['into', [0xce]], ['aam', [0xd4, 0x0a]], ['aad', [0xd5, 0x0a]],
  ['ud2', [0x0f, 0x0b]], ['lea r,r', [0x48, 0x8d, 0xc0]], ['call far', [0x9a, 0, 0, 0, 0, 0, 0]], ['jmp far', [0xea, 0, 0, 0, 0, 0, 0]],
  ['lock mov', [0xf0, 0x89, 0xc0]], ['lock add r,r', [0xf0, 0x01, 0xc0]], ['op 82', [0x82, 0xc0, 0x01]],
];
for (const [m, bytes] of INVALID64) {
  add({ name: `invalid ${m}`, group: 'invalid64', shape: 'custom', sizes: [64], opcode: bytes, flags: NONE, alone: true, build: () => ({ bytes: Uint8Array.from(bytes), text: `${m} (#UD in 64-bit mode)`, effect: NONE, reads: 0 }) });
}

// ---------------------------------------------------------------- SSE / SSE2
interface SseSpec { m: string; p?: number; op: number[]; group: string; mem?: number; align?: number; imm?: (rng: Prng) => bigint; rm?: 'reg' | 'mem' | 'both'; flags?: FlagEffect; feature?: Form['feature'] }
const sse = (s: SseSpec) => add({
  name: s.m, group: s.group, shape: 'xmm_xmmrm', sizes: [32], prefix: s.p, opcode: s.op, rm: s.rm ?? 'both', sse: true,
  memBytes: s.mem ?? 16, align: s.align ?? ((s.mem ?? 16) === 16 ? 16 : undefined), flags: s.flags ?? NONE,
  imm: s.imm ? 'b' : undefined, immPick: s.imm, feature: s.feature ?? 'sse2',
});
const imm3 = (rng: Prng) => BigInt(rng.below(8));
const anyImm8 = (rng: Prng) => BigInt(rng.below(256));

// moves
sse({ m: 'movaps x,xm', op: [0x0f, 0x28], group: 'sse-mov' });
sse({ m: 'movaps xm,x', op: [0x0f, 0x29], group: 'sse-mov' });
sse({ m: 'movups x,xm', op: [0x0f, 0x10], group: 'sse-mov', align: 1 });
sse({ m: 'movups xm,x', op: [0x0f, 0x11], group: 'sse-mov', align: 1 });
sse({ m: 'movapd x,xm', p: 0x66, op: [0x0f, 0x28], group: 'sse-mov' });
sse({ m: 'movupd x,xm', p: 0x66, op: [0x0f, 0x10], group: 'sse-mov', align: 1 });
sse({ m: 'movdqa x,xm', p: 0x66, op: [0x0f, 0x6f], group: 'sse-mov' });
sse({ m: 'movdqa xm,x', p: 0x66, op: [0x0f, 0x7f], group: 'sse-mov' });
sse({ m: 'movdqu x,xm', p: 0xf3, op: [0x0f, 0x6f], group: 'sse-mov', align: 1 });
sse({ m: 'movdqu xm,x', p: 0xf3, op: [0x0f, 0x7f], group: 'sse-mov', align: 1 });
sse({ m: 'movsd x,xm', p: 0xf2, op: [0x0f, 0x10], group: 'sse-mov', mem: 8 });
sse({ m: 'movsd xm,x', p: 0xf2, op: [0x0f, 0x11], group: 'sse-mov', mem: 8 });
sse({ m: 'movss x,xm', p: 0xf3, op: [0x0f, 0x10], group: 'sse-mov', mem: 4 });
sse({ m: 'movss xm,x', p: 0xf3, op: [0x0f, 0x11], group: 'sse-mov', mem: 4 });
sse({ m: 'movq x,xm64', p: 0xf3, op: [0x0f, 0x7e], group: 'sse-mov', mem: 8 });
sse({ m: 'movq xm64,x', p: 0x66, op: [0x0f, 0xd6], group: 'sse-mov', mem: 8 });
sse({ m: 'movlpd x,m64', p: 0x66, op: [0x0f, 0x12], group: 'sse-mov', mem: 8, rm: 'mem' });
sse({ m: 'movhpd x,m64', p: 0x66, op: [0x0f, 0x16], group: 'sse-mov', mem: 8, rm: 'mem' });
sse({ m: 'movlpd m64,x', p: 0x66, op: [0x0f, 0x13], group: 'sse-mov', mem: 8, rm: 'mem' });
sse({ m: 'movhpd m64,x', p: 0x66, op: [0x0f, 0x17], group: 'sse-mov', mem: 8, rm: 'mem' });
sse({ m: 'movhlps x,x', op: [0x0f, 0x12], group: 'sse-mov', rm: 'reg' });
sse({ m: 'movlhps x,x', op: [0x0f, 0x16], group: 'sse-mov', rm: 'reg' });
add({ name: 'movd x,rm32', group: 'sse-movd', shape: 'xmm_gprm', sizes: [32], prefix: 0x66, opcode: [0x0f, 0x6e], rm: 'both', sse: true, flags: NONE, feature: 'sse2' });
add({ name: 'movq x,rm64', group: 'sse-movd', shape: 'xmm_gprm', sizes: [64], prefix: 0x66, opcode: [0x0f, 0x6e], rm: 'both', sse: true, flags: NONE, feature: 'sse2' });
add({ name: 'movd rm32,x', group: 'sse-movd', shape: 'xmm_gprm', sizes: [32], prefix: 0x66, opcode: [0x0f, 0x7e], rm: 'both', sse: true, flags: NONE, feature: 'sse2' });
add({ name: 'movq rm64,x', group: 'sse-movd', shape: 'xmm_gprm', sizes: [64], prefix: 0x66, opcode: [0x0f, 0x7e], rm: 'both', sse: true, flags: NONE, feature: 'sse2' });
add({ name: 'pmovmskb r,x', group: 'sse-int', shape: 'gpr_xmmrm', sizes: DQ, prefix: 0x66, opcode: [0x0f, 0xd7], rm: 'reg', sse: true, flags: NONE, feature: 'sse2' });
add({ name: 'movmskpd r,x', group: 'sse-logic', shape: 'gpr_xmmrm', sizes: DQ, prefix: 0x66, opcode: [0x0f, 0x50], rm: 'reg', sse: true, flags: NONE, feature: 'sse2' });
add({ name: 'movmskps r,x', group: 'sse-logic', shape: 'gpr_xmmrm', sizes: DQ, opcode: [0x0f, 0x50], rm: 'reg', sse: true, flags: NONE, feature: 'sse2' });
add({ name: 'pextrw r,x,imm8', group: 'sse-int', shape: 'gpr_xmmrm', sizes: DQ, prefix: 0x66, opcode: [0x0f, 0xc5], rm: 'reg', imm: 'b', immPick: anyImm8, sse: true, flags: NONE, feature: 'sse2' });
add({ name: 'pinsrw x,r32/m16,imm8', group: 'sse-int', shape: 'xmm_gprm', sizes: [32], prefix: 0x66, opcode: [0x0f, 0xc4], rm: 'both', memBytes: 2, imm: 'b', immPick: anyImm8, sse: true, flags: NONE, feature: 'sse2' });

// floating-point arithmetic: scalar double/single and packed
const FP_OPS: [string, number][] = [['add', 0x58], ['mul', 0x59], ['sub', 0x5c], ['min', 0x5d], ['div', 0x5e], ['max', 0x5f], ['sqrt', 0x51]];
for (const [m, op] of FP_OPS) {
  sse({ m: `${m}sd x,xm`, p: 0xf2, op: [0x0f, op], group: 'sse-fp-scalar', mem: 8 });
  sse({ m: `${m}ss x,xm`, p: 0xf3, op: [0x0f, op], group: 'sse-fp-scalar', mem: 4 });
  sse({ m: `${m}pd x,xm`, p: 0x66, op: [0x0f, op], group: 'sse-fp-packed' });
  sse({ m: `${m}ps x,xm`, op: [0x0f, op], group: 'sse-fp-packed' });
}
sse({ m: 'cmpsd x,xm,imm8', p: 0xf2, op: [0x0f, 0xc2], group: 'sse-fp-cmp', mem: 8, imm: imm3 });
sse({ m: 'cmpss x,xm,imm8', p: 0xf3, op: [0x0f, 0xc2], group: 'sse-fp-cmp', mem: 4, imm: imm3 });
sse({ m: 'cmppd x,xm,imm8', p: 0x66, op: [0x0f, 0xc2], group: 'sse-fp-cmp', imm: imm3 });
sse({ m: 'cmpps x,xm,imm8', op: [0x0f, 0xc2], group: 'sse-fp-cmp', imm: imm3 });
sse({ m: 'ucomisd x,xm', p: 0x66, op: [0x0f, 0x2e], group: 'sse-fp-cmp', mem: 8, flags: ARITH });
sse({ m: 'comisd x,xm', p: 0x66, op: [0x0f, 0x2f], group: 'sse-fp-cmp', mem: 8, flags: ARITH });
sse({ m: 'ucomiss x,xm', op: [0x0f, 0x2e], group: 'sse-fp-cmp', mem: 4, flags: ARITH });
sse({ m: 'comiss x,xm', op: [0x0f, 0x2f], group: 'sse-fp-cmp', mem: 4, flags: ARITH });
// conversions
sse({ m: 'cvtsd2ss x,xm', p: 0xf2, op: [0x0f, 0x5a], group: 'sse-cvt', mem: 8 });
sse({ m: 'cvtss2sd x,xm', p: 0xf3, op: [0x0f, 0x5a], group: 'sse-cvt', mem: 4 });
sse({ m: 'cvtps2pd x,xm', op: [0x0f, 0x5a], group: 'sse-cvt', mem: 8 });
sse({ m: 'cvtpd2ps x,xm', p: 0x66, op: [0x0f, 0x5a], group: 'sse-cvt' });
sse({ m: 'cvtdq2pd x,xm', p: 0xf3, op: [0x0f, 0xe6], group: 'sse-cvt', mem: 8 });
sse({ m: 'cvttpd2dq x,xm', p: 0x66, op: [0x0f, 0xe6], group: 'sse-cvt' });
sse({ m: 'cvtpd2dq x,xm', p: 0xf2, op: [0x0f, 0xe6], group: 'sse-cvt' });
sse({ m: 'cvtdq2ps x,xm', op: [0x0f, 0x5b], group: 'sse-cvt' });
sse({ m: 'cvtps2dq x,xm', p: 0x66, op: [0x0f, 0x5b], group: 'sse-cvt' });
sse({ m: 'cvttps2dq x,xm', p: 0xf3, op: [0x0f, 0x5b], group: 'sse-cvt' });
add({ name: 'cvtsi2sd x,rm', group: 'sse-cvt', shape: 'xmm_gprm', sizes: DQ, prefix: 0xf2, opcode: [0x0f, 0x2a], rm: 'both', sse: true, flags: NONE, feature: 'sse2' });
add({ name: 'cvtsi2ss x,rm', group: 'sse-cvt', shape: 'xmm_gprm', sizes: DQ, prefix: 0xf3, opcode: [0x0f, 0x2a], rm: 'both', sse: true, flags: NONE, feature: 'sse2' });
for (const [m, p, op, mem] of [['cvttsd2si', 0xf2, 0x2c, 8], ['cvtsd2si', 0xf2, 0x2d, 8], ['cvttss2si', 0xf3, 0x2c, 4], ['cvtss2si', 0xf3, 0x2d, 4]] as const) {
  add({ name: `${m} r,xm`, group: 'sse-cvt', shape: 'gpr_xmmrm', sizes: DQ, prefix: p, opcode: [0x0f, op], rm: 'both', memBytes: mem, sse: true, flags: NONE, feature: 'sse2' });
}
// bitwise
const LOGIC_OPS: [string, number][] = [['and', 0x54], ['andn', 0x55], ['or', 0x56], ['xor', 0x57]];
for (const [m, op] of LOGIC_OPS) {
  sse({ m: `${m}pd x,xm`, p: 0x66, op: [0x0f, op], group: 'sse-logic' });
  sse({ m: `${m}ps x,xm`, op: [0x0f, op], group: 'sse-logic' });
}
// packed integer
const PINT: [string, number, string][] = [
  ['pxor', 0xef, 'sse-logic'], ['pand', 0xdb, 'sse-logic'], ['pandn', 0xdf, 'sse-logic'], ['por', 0xeb, 'sse-logic'],
  ['paddb', 0xfc, 'sse-padd'], ['paddw', 0xfd, 'sse-padd'], ['paddd', 0xfe, 'sse-padd'], ['paddq', 0xd4, 'sse-padd'],
  ['paddsb', 0xec, 'sse-padd'], ['paddsw', 0xed, 'sse-padd'], ['paddusb', 0xdc, 'sse-padd'], ['paddusw', 0xdd, 'sse-padd'],
  ['psubb', 0xf8, 'sse-psub'], ['psubw', 0xf9, 'sse-psub'], ['psubd', 0xfa, 'sse-psub'], ['psubq', 0xfb, 'sse-psub'],
  ['psubsb', 0xe8, 'sse-psub'], ['psubsw', 0xe9, 'sse-psub'], ['psubusb', 0xd8, 'sse-psub'], ['psubusw', 0xd9, 'sse-psub'],
  ['pcmpeqb', 0x74, 'sse-pcmp'], ['pcmpeqw', 0x75, 'sse-pcmp'], ['pcmpeqd', 0x76, 'sse-pcmp'],
  ['pcmpgtb', 0x64, 'sse-pcmp'], ['pcmpgtw', 0x65, 'sse-pcmp'], ['pcmpgtd', 0x66, 'sse-pcmp'],
  ['pmullw', 0xd5, 'sse-pmul'], ['pmulhw', 0xe5, 'sse-pmul'], ['pmulhuw', 0xe4, 'sse-pmul'], ['pmuludq', 0xf4, 'sse-pmul'], ['pmaddwd', 0xf5, 'sse-pmul'],
  ['pavgb', 0xe0, 'sse-int'], ['pavgw', 0xe3, 'sse-int'], ['pmaxub', 0xde, 'sse-int'], ['pminub', 0xda, 'sse-int'],
  ['pmaxsw', 0xee, 'sse-int'], ['pminsw', 0xea, 'sse-int'], ['psadbw', 0xf6, 'sse-int'],
  ['punpcklbw', 0x60, 'sse-unpack'], ['punpcklwd', 0x61, 'sse-unpack'], ['punpckldq', 0x62, 'sse-unpack'], ['punpcklqdq', 0x6c, 'sse-unpack'],
  ['punpckhbw', 0x68, 'sse-unpack'], ['punpckhwd', 0x69, 'sse-unpack'], ['punpckhdq', 0x6a, 'sse-unpack'], ['punpckhqdq', 0x6d, 'sse-unpack'],
  ['packsswb', 0x63, 'sse-unpack'], ['packssdw', 0x6b, 'sse-unpack'], ['packuswb', 0x67, 'sse-unpack'],
  ['psrlw', 0xd1, 'sse-shift'], ['psrld', 0xd2, 'sse-shift'], ['psrlq', 0xd3, 'sse-shift'], ['psraw', 0xe1, 'sse-shift'],
  ['psrad', 0xe2, 'sse-shift'], ['psllw', 0xf1, 'sse-shift'], ['pslld', 0xf2, 'sse-shift'], ['psllq', 0xf3, 'sse-shift'],
];
for (const [m, op, group] of PINT) sse({ m: `${m} x,xm`, p: 0x66, op: [0x0f, op], group });
sse({ m: 'unpcklps x,xm', op: [0x0f, 0x14], group: 'sse-unpack' });
sse({ m: 'unpckhps x,xm', op: [0x0f, 0x15], group: 'sse-unpack' });
sse({ m: 'unpcklpd x,xm', p: 0x66, op: [0x0f, 0x14], group: 'sse-unpack' });
sse({ m: 'unpckhpd x,xm', p: 0x66, op: [0x0f, 0x15], group: 'sse-unpack' });
sse({ m: 'pshufd x,xm,imm8', p: 0x66, op: [0x0f, 0x70], group: 'sse-shuffle', imm: anyImm8 });
sse({ m: 'pshuflw x,xm,imm8', p: 0xf2, op: [0x0f, 0x70], group: 'sse-shuffle', imm: anyImm8 });
sse({ m: 'pshufhw x,xm,imm8', p: 0xf3, op: [0x0f, 0x70], group: 'sse-shuffle', imm: anyImm8 });
sse({ m: 'shufps x,xm,imm8', op: [0x0f, 0xc6], group: 'sse-shuffle', imm: anyImm8 });
sse({ m: 'shufpd x,xm,imm8', p: 0x66, op: [0x0f, 0xc6], group: 'sse-shuffle', imm: anyImm8 });
const shiftImm = (rng: Prng) => BigInt(rng.chance(0.7) ? rng.pick([0, 1, 7, 8, 15, 16, 17, 31, 32, 63, 64, 127]) : rng.below(256));
const PSHIFT_IMM: [string, number, number][] = [
  ['psrlw', 0x71, 2], ['psraw', 0x71, 4], ['psllw', 0x71, 6], ['psrld', 0x72, 2], ['psrad', 0x72, 4], ['pslld', 0x72, 6],
  ['psrlq', 0x73, 2], ['psrldq', 0x73, 3], ['psllq', 0x73, 6], ['pslldq', 0x73, 7],
];
for (const [m, op, digit] of PSHIFT_IMM) {
  add({ name: `${m} x,imm8`, group: 'sse-shift', shape: 'xmm_digit', sizes: [32], prefix: 0x66, opcode: [0x0f, op], digit, rm: 'reg', imm: 'b', immPick: shiftImm, sse: true, flags: NONE, feature: 'sse2' });
}
add({ name: 'stmxcsr m32', group: 'mxcsr', shape: 'rm', digit: 3, sizes: [32], opcode: [0x0f, 0xae], rm: 'mem', memBytes: 4, sse: true, flags: NONE, feature: 'sse2' });
add({ name: 'ldmxcsr m32', group: 'mxcsr', shape: 'rm', digit: 2, sizes: [32], opcode: [0x0f, 0xae], rm: 'mem', memBytes: 4, sse: true, flags: NONE, feature: 'sse2', firstOnly: true, setup: ldmxcsrSetup });

// a few SSE3/SSSE3/SSE4.1 forms, compared only when both CPUs advertise them
sse({ m: 'pshufb x,xm', p: 0x66, op: [0x0f, 0x38, 0x00], group: 'ssse3', feature: 'ssse3' });
sse({ m: 'palignr x,xm,imm8', p: 0x66, op: [0x0f, 0x3a, 0x0f], group: 'ssse3', imm: shiftImm, feature: 'ssse3' });
sse({ m: 'pabsd x,xm', p: 0x66, op: [0x0f, 0x38, 0x1e], group: 'ssse3', feature: 'ssse3' });
sse({ m: 'pminsd x,xm', p: 0x66, op: [0x0f, 0x38, 0x39], group: 'sse41', feature: 'sse41' });
sse({ m: 'pmaxud x,xm', p: 0x66, op: [0x0f, 0x38, 0x3f], group: 'sse41', feature: 'sse41' });
sse({ m: 'pmulld x,xm', p: 0x66, op: [0x0f, 0x38, 0x40], group: 'sse41', feature: 'sse41' });
sse({ m: 'ptest x,xm', p: 0x66, op: [0x0f, 0x38, 0x17], group: 'sse41', feature: 'sse41', flags: ARITH });
sse({ m: 'pcmpeqq x,xm', p: 0x66, op: [0x0f, 0x38, 0x29], group: 'sse41', feature: 'sse41' });
sse({ m: 'pmovzxbw x,xm64', p: 0x66, op: [0x0f, 0x38, 0x30], group: 'sse41', feature: 'sse41', mem: 8 });
sse({ m: 'pmovsxdq x,xm64', p: 0x66, op: [0x0f, 0x38, 0x25], group: 'sse41', feature: 'sse41', mem: 8 });
sse({ m: 'roundsd x,xm,imm8', p: 0x66, op: [0x0f, 0x3a, 0x0b], group: 'sse41', feature: 'sse41', mem: 8, imm: (rng) => BigInt(rng.below(16)) });
sse({ m: 'movddup x,xm64', p: 0xf2, op: [0x0f, 0x12], group: 'sse3', feature: 'sse3', mem: 8 });
sse({ m: 'haddpd x,xm', p: 0x66, op: [0x0f, 0x7c], group: 'sse3', feature: 'sse3' });

// MOVLPS/MOVHPS (no prefix), the approximations are in excluded.ts
sse({ m: 'movlps x,m64', op: [0x0f, 0x12], group: 'sse-mov', mem: 8, rm: 'mem' });
sse({ m: 'movhps x,m64', op: [0x0f, 0x16], group: 'sse-mov', mem: 8, rm: 'mem' });
sse({ m: 'movlps m64,x', op: [0x0f, 0x13], group: 'sse-mov', mem: 8, rm: 'mem' });
sse({ m: 'movhps m64,x', op: [0x0f, 0x17], group: 'sse-mov', mem: 8, rm: 'mem' });

export const TABLE: readonly Form[] = [...forms, ...FPU_FORMS, ...SYSTEM_FORMS];

// ================================================================= constraint hooks

function rmValue(s: SetupCtx, bits: number): bigint | undefined {
  if (s.rmReg !== undefined) {
    if (s.rmReg >= 16) return (s.getReg(s.rmReg - 16) >> 8n) & 0xffn;
    return s.getReg(s.rmReg) & mask(bits);
  }
  if (s.rmOffset !== undefined) return s.getMem(s.rmOffset, bits / 8);
  return undefined;
}

function setRm(s: SetupCtx, bits: number, value: bigint): void {
  if (s.rmReg !== undefined) {
    if (s.rmReg >= 16) {
      const r = s.rmReg - 16;
      s.setReg(r, (s.getReg(r) & ~0xff00n) | ((value & 0xffn) << 8n));
    } else {
      s.setReg(s.rmReg, (s.getReg(s.rmReg) & ~mask(bits)) | (value & mask(bits)));
    }
  } else if (s.rmOffset !== undefined) {
    s.setMem(s.rmOffset, bytesLe(value, bits / 8));
  }
}

function setLow(s: SetupCtx, reg: number, bits: number, value: bigint): void {
  s.setReg(reg, (s.getReg(reg) & ~mask(bits)) | (value & mask(bits)));
}

function nonZeroSource(s: SetupCtx): void {
  const v = rmValue(s, s.size);
  if (v === 0n) setRm(s, s.size, edgeInt(s.rng, s.size) | (1n << BigInt(s.rng.below(s.size))));
}

function sometimesZeroSource(s: SetupCtx): void {
  if (s.rng.chance(0.15)) setRm(s, s.size, 0n);
}

function clCountBias(s: SetupCtx): void {
  if (s.rng.chance(0.8)) s.setReg(RCX, (s.getReg(RCX) & ~0xffn) | BigInt(edgeCount(s.rng)));
}

/** DIV/IDIV: mostly a quotient that fits; sometimes zero divisor or overflow (both #DE) */
function divBias(s: SetupCtx, signed: boolean): void {
  const bits = s.size;
  if (s.rmReg !== undefined && (s.rmReg === RAX || s.rmReg === RDX || s.rmReg === 16 /* ah */)) return;
  if (s.rng.chance(0.05)) return; // leave as is: often #DE
  let divisor = rmValue(s, bits) ?? 1n;
  if (divisor === 0n && s.rng.chance(0.9)) {
    divisor = edgeInt(s.rng, bits) || 1n;
    setRm(s, bits, divisor);
  }
  if (divisor === 0n) return;
  const lowReg = RAX, highReg = bits === 8 ? -1 : RDX;
  if (!signed) {
    const high = (s.rng.u64() & mask(bits)) % divisor;
    if (bits === 8) setLow(s, RAX, 16, (high << 8n) | (s.getReg(RAX) & 0xffn));
    else setLow(s, highReg, bits, high);
  } else {
    // sign-extend the dividend's low half into its high half: the quotient then fits unless MIN / -1
    const low = bits === 8 ? s.getReg(lowReg) & 0xffn : s.getReg(lowReg) & mask(bits);
    const neg = (low >> BigInt(bits - 1)) & 1n;
    const high = neg ? mask(bits) : 0n;
    if (bits === 8) setLow(s, RAX, 16, (high << 8n) | low);
    else setLow(s, highReg, bits, high);
  }
}

function cmpxchgBias(s: SetupCtx): void {
  if (s.rng.chance(0.5)) {
    const v = rmValue(s, s.size);
    if (v !== undefined && s.rmReg !== RAX) setLow(s, RAX, s.size, v);
  }
}

function cmpxchgWideBias(s: SetupCtx): void {
  if (s.rmOffset === undefined || !s.rng.chance(0.5)) return;
  const half = s.size === 64 ? 8 : 4;
  setLow(s, RAX, half * 8, s.getMem(s.rmOffset, half));
  setLow(s, RDX, half * 8, s.getMem(s.rmOffset + half, half));
}

function bextrBias(s: SetupCtx): void {
  // vvvv holds start (bits 7:0) and length (bits 15:8): make them mostly meaningful
  if (s.vvvv === undefined || !s.rng.chance(0.8)) return;
  const start = BigInt(s.rng.below(72)), len = BigInt(s.rng.below(72));
  s.setReg(s.vvvv, (s.getReg(s.vvvv) & ~0xffffn) | (len << 8n) | start);
}

function bzhiBias(s: SetupCtx): void {
  if (s.vvvv === undefined || !s.rng.chance(0.8)) return;
  s.setReg(s.vvvv, (s.getReg(s.vvvv) & ~0xffn) | BigInt(s.rng.below(72)));
}

/** BT* m,r: the bit offset register is signed and addresses bytes far away: keep it within +-2 KiB */
function bitOffsetSetup(s: SetupCtx): void {
  if (s.reg === undefined) return;
  const off = BigInt(s.rng.range(-0x4000, 0x3fff));
  const bits = s.size;
  s.setReg(s.reg, (s.getReg(s.reg) & ~mask(bits)) | (BigInt.asUintN(bits, off)));
}

function popfSetup(s: SetupCtx): void {
  const flags = BigInt(BASE_RFLAGS | (s.rng.u32() & (STATUS | DF)));
  s.setMem(s.stackOffset, bytesLe(flags, 8));
}

function leaveSetup(s: SetupCtx): void {
  s.setReg(RBP, BigInt(SNIPPET_DATA_BASE + s.stackOffset + 8 * s.rng.below(8)));
}

function ldmxcsrSetup(s: SetupCtx): void {
  if (s.rmOffset === undefined) return;
  let v = 0x1f80;
  if (s.rng.chance(0.7)) v = (s.rng.below(4) << 13) | (s.rng.u32() & 0x9fff & 0xffbf) | (s.rng.chance(0.5) ? 0x40 : 0);
  // a reserved bit: #GP (bit 17 is AMD's misaligned-SSE mode bit, legal on some hosts: avoid it)
  if (s.rng.chance(0.05)) v |= 1 << (18 + s.rng.below(14));
  s.setMem(s.rmOffset, bytesLe(BigInt(v >>> 0), 4));
}

// ================================================================= custom layouts

function rel(value: number, size: number): number[] {
  return Array.from(bytesLe(BigInt(value), size));
}

/** Jcc/JMP/LOOP over one body instruction, so both outcomes continue to the int3 */
function branchOver(b: BuildCtx, opcode: number[], relSize: number, text: string, reads: number, bodyMayRun: boolean): Built {
  const body = b.body({ noRcx: opcode.includes(0xe2) || opcode.includes(0xe1) || opcode.includes(0xe0) || opcode.includes(0xe3) });
  const bytes = Uint8Array.from([...opcode, ...rel(body.bytes.length, relSize), ...body.bytes]);
  return {
    bytes, text: `${text} +${body.bytes.length} ; ${body.text}`,
    effect: bodyMayRun ? { w: 0, u: body.effect.u } : { w: 0, u: 0 },
    reads: reads | (bodyMayRun ? body.reads : 0),
  };
}

/** mov ecx, n; L: body; loop L — a short counted loop whose body leaves RCX alone */
function loopBackwards(b: BuildCtx): Built {
  const n = b.rng.range(1, 4);
  const movEcx = [0xb9, ...rel(n, 4)];
  let body = b.body({ noRcx: true });
  // a body that reads a flag it leaves undefined would read garbage on its second pass
  if (body.reads & body.effect.u) body = { bytes: Uint8Array.from([0x90]), text: 'nop', effect: NONE, reads: 0 };
  const back = -(body.bytes.length + 2);
  const bytes = Uint8Array.from([...movEcx, ...body.bytes, 0xe2, back & 0xff]);
  return { bytes, text: `mov ecx, ${n}; L: ${body.text}; loop L`, effect: { w: 0, u: body.effect.u }, reads: body.reads };
}

/** call a local subroutine (one body instruction, then ret [imm16]) and jump over it on return */
function callRet(b: BuildCtx, how: 'rel' | 'reg'): Built {
  const retImm = how === 'reg' && b.rng.chance(0.5) ? b.rng.below(5) * 8 : -1;
  const ret = retImm >= 0 ? [0xc2, ...rel(retImm, 2)] : [0xc3];
  if (how === 'rel') {
    // call +2 (over the jmp); jmp over(body; ret); body; ret
    const body = b.body({});
    const jmpOver = [0xeb, body.bytes.length + ret.length];
    const bytes = Uint8Array.from([0xe8, ...rel(2, 4), ...jmpOver, ...body.bytes, ...ret]);
    return { bytes, text: `call L; jmp E; L: ${body.text}; ret; E:`, effect: body.effect, reads: body.reads };
  }
  // lea r, [rip+d]; call r; jmp over; body; ret
  const r = b.freeReg();
  const leaLen = 7, callLen = r >= 8 ? 3 : 2;
  const lea = encode({ rexW: true, opcode: [0x8d], modrm: { reg: r, rm: { kind: 'mem', mem: { rip: true, disp: callLen + 2 } } } });
  const call = encode({ opcode: [0xff], modrm: { reg: 2, rm: { kind: 'reg', num: r } } });
  if (lea.length !== leaLen || call.length !== callLen) throw new Error('isa table: unexpected call layout');
  const body = b.body({});
  const bytes = Uint8Array.from([...lea, ...call, 0xeb, body.bytes.length + ret.length, ...body.bytes, ...ret]);
  return { bytes, text: `lea ${gprName(r, 64)}, [L]; call ${gprName(r, 64)}; jmp E; L: ${body.text}; ret ${retImm >= 0 ? retImm : ''}; E:`, effect: body.effect, reads: body.reads };
}

/** lea r, [rip+d]; jmp r; (skipped body); target: */
function jmpReg(b: BuildCtx): Built {
  const r = b.freeReg();
  const jmpLen = r >= 8 ? 3 : 2;
  const body = b.body({});
  const lea = encode({ rexW: true, opcode: [0x8d], modrm: { reg: r, rm: { kind: 'mem', mem: { rip: true, disp: jmpLen + body.bytes.length } } } });
  const jmp = encode({ opcode: [0xff], modrm: { reg: 4, rm: { kind: 'reg', num: r } } });
  const bytes = Uint8Array.from([...lea, ...jmp, ...body.bytes]);
  return { bytes, text: `lea ${gprName(r, 64)}, [E]; jmp ${gprName(r, 64)}; (${body.text}); E:`, effect: NONE, reads: 0 };
}

function enterBuild(b: BuildCtx): Built {
  const size = b.rng.chance(0.7) ? b.rng.below(9) * 8 : b.rng.below(80);
  const level = b.rng.chance(0.5) ? 0 : b.rng.range(1, 4);
  // nesting copies frame pointers from below RBP: point RBP into the stack area
  b.setReg(RBP, BigInt(SNIPPET_DATA_BASE + STACK_TOP + 8 * b.rng.range(1, 6)));
  const bytes = Uint8Array.from([0xc8, ...rel(size, 2), level]);
  return { bytes, text: `enter ${size}, ${level}`, effect: NONE, reads: 0 };
}

/** a load whose address is non-canonical or unmapped; the base register is set up here */
function addressFault(b: BuildCtx, m: string, base: number): Built {
  let reg = base;
  while (reg < 0 || (base < 0 && reg === RBP)) reg = b.freeReg(); // RBP would make it #SS
  let addr: bigint;
  if (base === -2) addr = b.rng.pick([0n, 0x1000n, 0x7fff_ffff_f000n, 0xffff_8000_0000_0000n, BigInt(SNIPPET_DATA_BASE + 0x10000), BigInt(SNIPPET_DATA_BASE - 8)]);
  else addr = b.rng.pick(NONCANONICAL) + BigInt(b.rng.range(-8, 8) * 8);
  const disp = b.rng.range(-16, 16);
  b.setReg(reg, BigInt.asUintN(64, addr - BigInt(disp)));
  const dest = b.freeReg();
  const bytes = encode({ rexW: true, opcode: [0x8b], modrm: { reg: dest, rm: { kind: 'mem', mem: { base: reg, disp } } } });
  return { bytes, text: `mov ${gprName(dest, 64)}, [${gprName(reg, 64)}${disp < 0 ? '-' : '+'}0x${Math.abs(disp).toString(16)}] (${m.split(' ')[1]})`, effect: NONE, reads: 0 };
}

/** an instruction addressing [rsp+disp] (the stack area of the data window) */
function rspBased(b: BuildCtx, m: string, op: number[], digit: number, effect: FlagEffect): Built {
  const reg = digit >= 0 ? digit : b.freeReg();
  const disp = b.rng.chance(0.8) ? 8 * b.rng.range(-4, 4) : b.rng.range(-40, 40);
  const bytes = encode({ rexW: digit < 0, opcode: op, modrm: { reg, rm: { kind: 'mem', mem: { base: RSP, disp } } } });
  const mem = `[rsp${disp < 0 ? '-' : '+'}0x${Math.abs(disp).toString(16)}]`;
  return { bytes, text: m.replace('[rsp+d]', mem).replace('r64', gprName(reg, 64)), effect, reads: 0 };
}

/** XLAT: AL = [RBX + AL], with RBX pointing into the random area */
function xlatBuild(b: BuildCtx): Built {
  b.setReg(RBX, BigInt(SNIPPET_DATA_BASE + MEM_AREA - 0x100 + b.rng.below(0x100)));
  const rex = b.rng.chance(0.3) ? [0x48] : [];
  return { bytes: Uint8Array.from([...rex, 0xd7]), text: `xlat${rex.length ? ' (rex.w)' : ''}`, effect: NONE, reads: 0 };
}

/** a read of the code window through [rip+disp]: somewhere in the code so far or a little beyond */
function ripRelative(b: BuildCtx, m: string, op: number[], digit: number, immSize: 0 | 1 | 2 | 4, effect: FlagEffect): Built {
  const reg = digit >= 0 ? digit : b.freeReg();
  const rex = op[0] === 0x48 ? [0x48] : [];
  const opcode = rex.length ? op.slice(1) : op;
  const imm = immSize ? { value: edgeInt(b.rng, immSize * 8), size: immSize as 1 | 2 | 4 } : undefined;
  const probe = encode({ rexW: rex.length > 0, opcode, modrm: { reg, rm: { kind: 'mem', mem: { rip: true, disp: 0 } } }, imm });
  // target offset relative to the code window start: from the first byte to a little past this instruction
  const end = b.codeOffset + probe.length;
  const disp = b.rng.range(-end, 24);
  const bytes = encode({ rexW: rex.length > 0, opcode, modrm: { reg, rm: { kind: 'mem', mem: { rip: true, disp } } }, imm });
  const target = digit >= 0 ? '' : `${gprName(reg, m.includes('r64') ? 64 : 32)}, `;
  return { bytes, text: `${m.split(' ')[0]} ${target}[rip${disp < 0 ? '-' : '+'}0x${Math.abs(disp).toString(16)}]${imm ? `, 0x${BigInt.asUintN(immSize * 8, imm.value).toString(16)}` : ''}`, effect, reads: 0 };
}

/** MOV AL/AX/EAX/RAX to or from an absolute 64-bit address in the data window */
function moffs(b: BuildCtx, store: boolean): Built {
  const size = b.rng.pick([8, 16, 32, 64] as const);
  const addr = BigInt(SNIPPET_DATA_BASE + MEM_AREA + b.rng.range(-0x100, 0x100));
  const pre = size === 16 ? [0x66] : size === 64 ? [0x48] : [];
  const op = size === 8 ? (store ? 0xa2 : 0xa0) : (store ? 0xa3 : 0xa1);
  const bytes = Uint8Array.from([...pre, op, ...bytesLe(addr, 8)]);
  const reg = gprName(RAX, size);
  return { bytes, text: store ? `mov [0x${addr.toString(16)}], ${reg}` : `mov ${reg}, [0x${addr.toString(16)}]`, effect: NONE, reads: 0 };
}

/** a string instruction (optionally REP/REPE/REPNE, sometimes with a 32-bit address size) */
function stringBuild(b: BuildCtx, m: string, op: number, rep: number | undefined): Built {
  const size = b.rng.pick([8, 16, 32, 64] as const);
  const addr32 = b.rng.chance(0.15);
  const elem = size / 8;
  const count = rep !== undefined ? BigInt(b.rng.chance(0.1) ? 0 : b.rng.range(1, 12)) : b.rng.u64();
  const upper = (v: bigint) => (addr32 ? (b.rng.u64() & ~mask(32)) | v : v);
  const src = SNIPPET_DATA_BASE + MEM_AREA + b.rng.range(-0x80, 0x80);
  const dst = SNIPPET_DATA_BASE + MEM_AREA + b.rng.range(-0x80, 0x80);
  b.setReg(RSI, upper(BigInt(src)));
  b.setReg(RDI, upper(BigInt(dst)));
  b.setReg(RCX, rep !== undefined ? upper(count) : count);
  const step = (b.initFlags() & DF ? -1 : 1) * elem;
  const n = Number(count > 12n ? 12n : count);
  if (m === 'scas' && b.rng.chance(0.6)) {
    // make the scanned-for value appear at some element, so REPE/REPNE stop early
    const k = b.rng.below(Math.max(n, 1));
    b.setReg(RAX, (b.getReg(RAX) & ~mask(size)) | b.getMem(dst - SNIPPET_DATA_BASE + k * step, elem));
  }
  if (m === 'cmps' && b.rng.chance(0.6)) {
    // equal leading elements, so REPE CMPS runs on
    const k = b.rng.below(n + 1);
    for (let i = 0; i < k; i++) {
      const s = src - SNIPPET_DATA_BASE + i * step;
      b.setMem(dst - SNIPPET_DATA_BASE + i * step, bytesLe(b.getMem(s, elem), elem));
    }
  }
  const bytes: number[] = [];
  if (rep !== undefined) bytes.push(rep);
  if (size === 16) bytes.push(0x66);
  if (addr32) bytes.push(0x67);
  if (size === 64) bytes.push(0x48);
  bytes.push(size === 8 ? op : op + 1);
  const suffix = { 8: 'b', 16: 'w', 32: 'd', 64: 'q' }[size];
  const repText = rep === 0xf3 ? (m === 'cmps' || m === 'scas' ? 'repe ' : 'rep ') : rep === 0xf2 ? 'repne ' : '';
  return {
    bytes: Uint8Array.from(bytes),
    text: `${repText}${m}${suffix}${addr32 ? ' (addr32)' : ''} rcx=${rep !== undefined ? count : '-'}`,
    effect: m === 'cmps' || m === 'scas' ? (rep !== undefined && count === 0n ? NONE : ARITH) : NONE,
    reads: DF,
  };
}
