// Hand-written cases with answers worked out from the SDM, to prove the native harness
// (register loading, flag capture, data diffs, fault mapping) before trusting it as an oracle.

import { CF, PF, AF, ZF, SF, OF, DF, BASE_RFLAGS } from './flags.js';
import { MEM_AREA, STACK_TOP } from './layout.js';
import type { NativeCase, NativeResult } from './native-harness.js';
import { SNIPPET_DATA_BASE, type SnippetFault } from './snippet-api.js';

export interface KnownAnswer {
  name: string;
  c: NativeCase;
  /** expected final GPRs (only those listed) */
  gpr?: Record<number, bigint>;
  /** expected status flags and DF (compared under flagMask) */
  flags?: number;
  flagMask?: number;
  fault?: SnippetFault;
  /** expected bytes at data-window offsets */
  data?: Record<number, number[]>;
  xmm?: Record<number, bigint>;
  mxcsr?: number;
  check?: (r: NativeResult) => string | undefined;
}

const STACK = BigInt(SNIPPET_DATA_BASE + STACK_TOP);
const MEM = BigInt(SNIPPET_DATA_BASE + MEM_AREA);

function regs(values: Record<number, bigint>): bigint[] {
  const g = Array.from({ length: 16 }, (_, i) => BigInt(0x1111 * (i + 1)));
  g[4] = STACK;
  for (const [k, v] of Object.entries(values)) g[Number(k)] = BigInt.asUintN(64, v);
  return g;
}

const STATUS_DF = CF | PF | AF | ZF | SF | OF | DF;

function c(code: number[], r: Record<number, bigint>, rflags = BASE_RFLAGS, extra: Partial<NativeCase> = {}): NativeCase {
  return { code: Uint8Array.from([...code, 0xcc]), init: { gpr: regs(r), rflags }, segments: [], ...extra };
}

const F64_1 = 0x3ff0000000000000n, F64_2 = 0x4000000000000000n, F64_3 = 0x4008000000000000n;

export const KNOWN_ANSWERS: KnownAnswer[] = [
  { name: 'add rax, rbx wraps to zero', c: c([0x48, 0x01, 0xd8], { 0: -1n, 3: 1n }), gpr: { 0: 0n, 3: 1n }, flags: CF | PF | AF | ZF, flagMask: STATUS_DF },
  { name: 'sub eax, ebx borrows and zero-extends', c: c([0x29, 0xd8], { 0: 0xdead_beef_0000_0005n, 3: 7n }), gpr: { 0: 0xffff_fffen }, flags: CF | AF | SF, flagMask: STATUS_DF },
  { name: 'add al, bl overflows into the sign bit', c: c([0x00, 0xd8], { 0: 0x1234_567fn, 3: 1n }), gpr: { 0: 0x1234_5680n }, flags: AF | SF | OF, flagMask: STATUS_DF },
  { name: 'inc keeps CF', c: c([0x48, 0xff, 0xc0], { 0: 0x7fff_ffff_ffff_ffffn }, BASE_RFLAGS | CF), gpr: { 0: 0x8000_0000_0000_0000n }, flags: CF | PF | AF | SF | OF, flagMask: STATUS_DF },
  { name: 'mul rbx: 128-bit product in rdx:rax', c: c([0x48, 0xf7, 0xe3], { 0: 0x1_0000_0000n, 3: 0x1_0000_0003n }), gpr: { 0: 0x3_0000_0000n, 2: 1n }, flags: CF | OF, flagMask: CF | OF },
  { name: 'div rbx', c: c([0x48, 0xf7, 0xf3], { 0: 100n, 2: 0n, 3: 7n }), gpr: { 0: 14n, 2: 2n } },
  { name: 'div by zero raises #DE with registers intact', c: c([0x48, 0xf7, 0xf3], { 0: 100n, 2: 0n, 3: 0n }), gpr: { 0: 100n, 2: 0n }, fault: 'DE' },
  { name: 'shl eax, 1 sets OF from the sign change', c: c([0xd1, 0xe0], { 0: 0x4000_0000n }), gpr: { 0: 0x8000_0000n }, flags: SF | OF | PF, flagMask: CF | ZF | SF | OF | PF },
  { name: 'std is visible in the final RFLAGS', c: c([0xfd, 0xf9], {}), flags: DF | CF, flagMask: DF | CF },
  { name: 'push rbx writes below RSP', c: c([0x53], { 3: 0x0102_0304_0506_0708n }), gpr: { 4: STACK - 8n }, data: { [STACK_TOP - 8]: [8, 7, 6, 5, 4, 3, 2, 1] } },
  { name: 'pushfq pushes IF and bit 1', c: c([0x9c], {}, BASE_RFLAGS | CF | ZF), data: { [STACK_TOP - 8]: [0x43, 0x02, 0, 0, 0, 0, 0, 0] } },
  { name: 'mov [r8+8], rax stores into the data window', c: c([0x49, 0x89, 0x40, 0x08], { 0: 0x1122_3344_5566_7788n, 8: MEM }), data: { [MEM_AREA + 8]: [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11] } },
  {
    name: 'mov rax, [r8] loads initial data', c: c([0x49, 0x8b, 0x00], { 8: MEM }, BASE_RFLAGS, { segments: [{ offset: MEM_AREA, bytes: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }] }),
    gpr: { 0: 0x0807_0605_0403_0201n },
  },
  { name: 'rep stosb fills and counts down', c: c([0xf3, 0xaa], { 0: 0xabn, 1: 4n, 7: MEM }), gpr: { 1: 0n, 7: MEM + 4n }, data: { [MEM_AREA]: [0xab, 0xab, 0xab, 0xab, 0] } },
  { name: 'ud2 raises #UD', c: c([0x0f, 0x0b], {}), fault: 'UD' },
  { name: 'an unmapped address raises #PF', c: c([0x48, 0x8b, 0x03], { 3: 0x1000n }), fault: 'PF', check: (r) => (r.faultAddress === 0x1000n ? undefined : `fault address 0x${r.faultAddress.toString(16)}`) },
  { name: 'a non-canonical address raises #GP', c: c([0x48, 0x8b, 0x03], { 3: 0x8000_0000_0000_0000n }), fault: 'GP' },
  { name: 'a non-canonical address through RBP raises #SS', c: c([0x48, 0x8b, 0x45, 0x08], { 5: 0x8000_0000_0000_0000n }), fault: 'SS' },
  { name: 'a push below a non-canonical RSP raises #SS', c: c([0x53], { 4: 0x0000_8000_0000_0010n }), fault: 'SS', gpr: { 4: 0x0000_8000_0000_0010n } },
  { name: 'a push just below the canonical boundary raises #PF instead', c: c([0x53], { 4: 0x0000_8000_0000_0000n }), fault: 'PF' },
  { name: 'a RIP-relative load reads the code window', c: c([0x48, 0x8b, 0x05, 0xf9, 0xff, 0xff, 0xff], {}), gpr: { 0: 0xcc_ffff_fff9_058b_48n } },
  { name: 'movaps from a misaligned address raises #GP', c: c([0x41, 0x0f, 0x28, 0x00], { 8: MEM + 8n }), fault: 'GP' },
  {
    name: 'addsd adds the low doubles and keeps the high lane',
    c: c([0xf2, 0x0f, 0x58, 0xc1], {}, BASE_RFLAGS, { mxcsr: 0x1f80 }),
    xmm: { 0: F64_3 | (0x1234n << 64n), 1: F64_2 },
  },
  {
    name: 'divsd by zero with ZE unmasked raises #XM', c: c([0xf2, 0x0f, 0x5e, 0xc1], {}, BASE_RFLAGS, { mxcsr: 0x1f80 & ~(1 << 9) }),
    fault: 'XM',
  },
];

// XMM inputs for the SSE cases (kept out of the literal table for readability)
for (const k of KNOWN_ANSWERS) {
  if (k.name.startsWith('addsd')) k.c.init.xmm = Array.from({ length: 16 }, (_, i) => (i === 0 ? F64_1 | (0x1234n << 64n) : i === 1 ? F64_2 : 0n));
  if (k.name.startsWith('divsd')) k.c.init.xmm = Array.from({ length: 16 }, (_, i) => (i === 0 ? F64_1 : 0n));
}

/** Checks one native result against its known answer; returns the problems. */
export function checkKnownAnswer(k: KnownAnswer, r: NativeResult): string[] {
  const problems: string[] = [];
  if (r.harnessError) problems.push(`harness: ${r.harnessError}`);
  if ((r.fault ?? 'none') !== (k.fault ?? 'none')) problems.push(`fault ${r.fault ?? 'none'}, expected ${k.fault ?? 'none'}`);
  for (const [reg, v] of Object.entries(k.gpr ?? {})) {
    if (r.final.gpr[Number(reg)] !== v) problems.push(`gpr ${reg} = 0x${r.final.gpr[Number(reg)].toString(16)}, expected 0x${v.toString(16)}`);
  }
  if (k.flags !== undefined) {
    const m = k.flagMask ?? STATUS_DF;
    if ((r.final.rflags & m) !== (k.flags & m)) problems.push(`rflags 0x${r.final.rflags.toString(16)}, expected 0x${k.flags.toString(16)} under mask 0x${m.toString(16)}`);
  }
  for (const [off, bytes] of Object.entries(k.data ?? {})) {
    const o = Number(off);
    const got: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const d = r.diffs.find((s) => o + i >= s.offset && o + i < s.offset + s.bytes.length);
      got.push(d ? d.bytes[o + i - d.offset] : 0);
    }
    if (got.join() !== bytes.join()) problems.push(`data+0x${o.toString(16)} = [${got}], expected [${bytes}]`);
  }
  for (const [x, v] of Object.entries(k.xmm ?? {})) {
    if (r.final.xmm[Number(x)] !== v) problems.push(`xmm${x} = 0x${r.final.xmm[Number(x)].toString(16)}, expected 0x${v.toString(16)}`);
  }
  const extra = k.check?.(r);
  if (extra) problems.push(extra);
  return problems;
}
