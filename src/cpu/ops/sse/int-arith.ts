// SSE2 packed-integer arithmetic on XMM registers (66 0F ..): PADD/PSUB B/W/D/Q, the signed and
// unsigned saturating PADDS/PADDUS/PSUBS/PSUBUS B/W, PMULLW/PMULHW/PMULHUW/PMULUDQ/PMADDWD,
// PAVGB/PAVGW, PMINUB/PMAXUB/PMINSW/PMAXSW, PSADBW and the compares PCMPEQ/PCMPGT B/W/D.
// Lanes are computed through typed-array views of the scratch vectors; a store into an
// Int8/Int16 view wraps, which is exactly the modular arithmetic the wrap-around forms need.

import { MAP_0F } from '../../insn.js';
import { defineOp } from '../../optable.js';
import {
  A, A16, A8, AU16, AU8, B, B16, B8, BU16, BU8, binaryVector, R, R16, R8, RU16, RU8,
} from './xmm-access.js';

const clampS8 = (v: number): number => (v > 127 ? 127 : v < -128 ? -128 : v);
const clampU8 = (v: number): number => (v > 255 ? 255 : v < 0 ? 0 : v);
const clampS16 = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
const clampU16 = (v: number): number => (v > 65535 ? 65535 : v < 0 ? 0 : v);

function paddb(): void { for (let k = 0; k < 16; k++) R8[k] = A8[k] + B8[k]; }
function paddw(): void { for (let k = 0; k < 8; k++) R16[k] = A16[k] + B16[k]; }
function paddd(): void { for (let k = 0; k < 4; k++) R[k] = (A[k] + B[k]) | 0; }
function paddq(): void {
  for (let k = 0; k < 4; k += 2) {
    const lo = (A[k] >>> 0) + (B[k] >>> 0);
    R[k] = lo | 0;
    R[k + 1] = (A[k + 1] + B[k + 1] + (lo > 0xffffffff ? 1 : 0)) | 0;
  }
}
function psubb(): void { for (let k = 0; k < 16; k++) R8[k] = A8[k] - B8[k]; }
function psubw(): void { for (let k = 0; k < 8; k++) R16[k] = A16[k] - B16[k]; }
function psubd(): void { for (let k = 0; k < 4; k++) R[k] = (A[k] - B[k]) | 0; }
function psubq(): void {
  for (let k = 0; k < 4; k += 2) {
    const lo = (A[k] >>> 0) - (B[k] >>> 0);
    R[k] = lo | 0;
    R[k + 1] = (A[k + 1] - B[k + 1] - (lo < 0 ? 1 : 0)) | 0;
  }
}
function paddsb(): void { for (let k = 0; k < 16; k++) R8[k] = clampS8(A8[k] + B8[k]); }
function paddsw(): void { for (let k = 0; k < 8; k++) R16[k] = clampS16(A16[k] + B16[k]); }
function paddusb(): void { for (let k = 0; k < 16; k++) RU8[k] = clampU8(AU8[k] + BU8[k]); }
function paddusw(): void { for (let k = 0; k < 8; k++) RU16[k] = clampU16(AU16[k] + BU16[k]); }
function psubsb(): void { for (let k = 0; k < 16; k++) R8[k] = clampS8(A8[k] - B8[k]); }
function psubsw(): void { for (let k = 0; k < 8; k++) R16[k] = clampS16(A16[k] - B16[k]); }
function psubusb(): void { for (let k = 0; k < 16; k++) RU8[k] = clampU8(AU8[k] - BU8[k]); }
function psubusw(): void { for (let k = 0; k < 8; k++) RU16[k] = clampU16(AU16[k] - BU16[k]); }

function pmullw(): void { for (let k = 0; k < 8; k++) R16[k] = Math.imul(A16[k], B16[k]); }
function pmulhw(): void { for (let k = 0; k < 8; k++) R16[k] = (A16[k] * B16[k]) >> 16; }
function pmulhuw(): void { for (let k = 0; k < 8; k++) RU16[k] = (AU16[k] * BU16[k]) >>> 16; }
function pmaddwd(): void {
  for (let k = 0; k < 4; k++) R[k] = (A16[2 * k] * B16[2 * k] + A16[2 * k + 1] * B16[2 * k + 1]) | 0;
}
/** unsigned 32 x 32 -> 64 of lanes 0 and 2 */
function pmuludq(): void {
  for (let k = 0; k < 4; k += 2) {
    const a = A[k] >>> 0, b = B[k] >>> 0;
    const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
    const ll = al * bl, mid = ah * bl + al * bh; // mid < 2^33
    const lo = ll + (mid % 65536) * 65536; // < 2^49
    const hi = ah * bh + Math.floor(mid / 65536) + Math.floor(lo / 4294967296);
    R[k] = lo % 4294967296 | 0;
    R[k + 1] = hi | 0;
  }
}

function pavgb(): void { for (let k = 0; k < 16; k++) RU8[k] = (AU8[k] + BU8[k] + 1) >> 1; }
function pavgw(): void { for (let k = 0; k < 8; k++) RU16[k] = (AU16[k] + BU16[k] + 1) >> 1; }
function pminub(): void { for (let k = 0; k < 16; k++) RU8[k] = AU8[k] < BU8[k] ? AU8[k] : BU8[k]; }
function pmaxub(): void { for (let k = 0; k < 16; k++) RU8[k] = AU8[k] > BU8[k] ? AU8[k] : BU8[k]; }
function pminsw(): void { for (let k = 0; k < 8; k++) R16[k] = A16[k] < B16[k] ? A16[k] : B16[k]; }
function pmaxsw(): void { for (let k = 0; k < 8; k++) R16[k] = A16[k] > B16[k] ? A16[k] : B16[k]; }
function psadbw(): void {
  for (let h = 0; h < 2; h++) {
    let s = 0;
    for (let k = 8 * h; k < 8 * h + 8; k++) {
      const d = AU8[k] - BU8[k];
      s += d < 0 ? -d : d;
    }
    R[2 * h] = s;
    R[2 * h + 1] = 0;
  }
}

function pcmpeqb(): void { for (let k = 0; k < 16; k++) R8[k] = A8[k] === B8[k] ? -1 : 0; }
function pcmpeqw(): void { for (let k = 0; k < 8; k++) R16[k] = A16[k] === B16[k] ? -1 : 0; }
function pcmpeqd(): void { for (let k = 0; k < 4; k++) R[k] = A[k] === B[k] ? -1 : 0; }
function pcmpgtb(): void { for (let k = 0; k < 16; k++) R8[k] = A8[k] > B8[k] ? -1 : 0; }
function pcmpgtw(): void { for (let k = 0; k < 8; k++) R16[k] = A16[k] > B16[k] ? -1 : 0; }
function pcmpgtd(): void { for (let k = 0; k < 4; k++) R[k] = A[k] > B[k] ? -1 : 0; }

const OPS: [string, number, () => void][] = [
  ['paddb', 0xfc, paddb], ['paddw', 0xfd, paddw], ['paddd', 0xfe, paddd], ['paddq', 0xd4, paddq],
  ['psubb', 0xf8, psubb], ['psubw', 0xf9, psubw], ['psubd', 0xfa, psubd], ['psubq', 0xfb, psubq],
  ['paddsb', 0xec, paddsb], ['paddsw', 0xed, paddsw], ['paddusb', 0xdc, paddusb], ['paddusw', 0xdd, paddusw],
  ['psubsb', 0xe8, psubsb], ['psubsw', 0xe9, psubsw], ['psubusb', 0xd8, psubusb], ['psubusw', 0xd9, psubusw],
  ['pmullw', 0xd5, pmullw], ['pmulhw', 0xe5, pmulhw], ['pmulhuw', 0xe4, pmulhuw], ['pmuludq', 0xf4, pmuludq],
  ['pmaddwd', 0xf5, pmaddwd], ['pavgb', 0xe0, pavgb], ['pavgw', 0xe3, pavgw], ['pminub', 0xda, pminub],
  ['pmaxub', 0xde, pmaxub], ['pminsw', 0xea, pminsw], ['pmaxsw', 0xee, pmaxsw], ['psadbw', 0xf6, psadbw],
  ['pcmpeqb', 0x74, pcmpeqb], ['pcmpeqw', 0x75, pcmpeqw], ['pcmpeqd', 0x76, pcmpeqd],
  ['pcmpgtb', 0x64, pcmpgtb], ['pcmpgtw', 0x65, pcmpgtw], ['pcmpgtd', 0x66, pcmpgtd],
];
for (const [name, opcode, compute] of OPS) {
  defineOp(MAP_0F, opcode, { name, exec: binaryVector(compute), modrm: true, size: 'x' }, { prefix: '66' });
}

/** the lane routines, for the MMX forms (mmx.ts) that reuse them on 64-bit operands */
export const INT_OPS = OPS;
