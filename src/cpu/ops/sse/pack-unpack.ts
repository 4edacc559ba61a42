// SSE2 packs and interleaves: PACKSSWB/PACKSSDW/PACKUSWB (66 0F 63/6B/67, saturating),
// PUNPCKL/PUNPCKH BW/WD/DQ/QDQ (66 0F 60-62/6C, 68-6A/6D) and UNPCKLPS/PD, UNPCKHPS/PD
// (0F 14/15). The destination supplies the low half of a pack and the even elements of an
// interleave.

import { MAP_0F } from '../../insn.js';
import { defineOp, type PrefixRule } from '../../optable.js';
import { A, A16, AU16, AU8, B, B16, BU16, BU8, binaryVector, R, R16, R8, RU16, RU8 } from './xmm-access.js';

const satS8 = (v: number): number => (v > 127 ? 127 : v < -128 ? -128 : v);
const satU8 = (v: number): number => (v > 255 ? 255 : v < 0 ? 0 : v);
const satS16 = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);

function packsswb(): void {
  for (let k = 0; k < 8; k++) { R8[k] = satS8(A16[k]); R8[k + 8] = satS8(B16[k]); }
}
function packuswb(): void {
  for (let k = 0; k < 8; k++) { RU8[k] = satU8(A16[k]); RU8[k + 8] = satU8(B16[k]); }
}
function packssdw(): void {
  for (let k = 0; k < 4; k++) { R16[k] = satS16(A[k]); R16[k + 4] = satS16(B[k]); }
}

function punpcklbw(): void { for (let k = 0; k < 8; k++) { RU8[2 * k] = AU8[k]; RU8[2 * k + 1] = BU8[k]; } }
function punpckhbw(): void { for (let k = 0; k < 8; k++) { RU8[2 * k] = AU8[k + 8]; RU8[2 * k + 1] = BU8[k + 8]; } }
function punpcklwd(): void { for (let k = 0; k < 4; k++) { RU16[2 * k] = AU16[k]; RU16[2 * k + 1] = BU16[k]; } }
function punpckhwd(): void { for (let k = 0; k < 4; k++) { RU16[2 * k] = AU16[k + 4]; RU16[2 * k + 1] = BU16[k + 4]; } }
function punpckldq(): void { R[0] = A[0]; R[1] = B[0]; R[2] = A[1]; R[3] = B[1]; }
function punpckhdq(): void { R[0] = A[2]; R[1] = B[2]; R[2] = A[3]; R[3] = B[3]; }
function punpcklqdq(): void { R[0] = A[0]; R[1] = A[1]; R[2] = B[0]; R[3] = B[1]; }
function punpckhqdq(): void { R[0] = A[2]; R[1] = A[3]; R[2] = B[2]; R[3] = B[3]; }

const OPS: [string, number, PrefixRule, () => void][] = [
  ['packsswb', 0x63, '66', packsswb], ['packssdw', 0x6b, '66', packssdw], ['packuswb', 0x67, '66', packuswb],
  ['punpcklbw', 0x60, '66', punpcklbw], ['punpcklwd', 0x61, '66', punpcklwd], ['punpckldq', 0x62, '66', punpckldq],
  ['punpcklqdq', 0x6c, '66', punpcklqdq], ['punpckhbw', 0x68, '66', punpckhbw], ['punpckhwd', 0x69, '66', punpckhwd],
  ['punpckhdq', 0x6a, '66', punpckhdq], ['punpckhqdq', 0x6d, '66', punpckhqdq],
  ['unpcklps', 0x14, 'np', punpckldq], ['unpckhps', 0x15, 'np', punpckhdq],
  ['unpcklpd', 0x14, '66', punpcklqdq], ['unpckhpd', 0x15, '66', punpckhqdq],
];
for (const [name, opcode, prefix, compute] of OPS) {
  defineOp(MAP_0F, opcode, { name, exec: binaryVector(compute), modrm: true, size: 'x' }, { prefix });
}

export const PACK_UNPACK_OPS = OPS;
