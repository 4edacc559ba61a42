// Table entries for user-mode system instructions: fences and cache control, segment
// registers, descriptor checks (LAR/LSL/VERR/VERW), CPUID and the time-stamp counter.
//
// The snippet runs as a Linux 64-bit process on the host, so the descriptor tables it sees are
// Linux's GDT (src/cpu/snippet.ts builds the same user-visible entries): selectors 0x08-0x33
// are the kernel/user code and data segments, 0x40 the TSS. Instructions whose results are
// not deterministic (CPUID values, TSC values, the per-CPU segment 0x7b) are followed by code
// that keeps only what is architectural: upper halves cleared, the counter moving forward.

import { CF, OF, PF, SF, ZF, AF } from './flags.js';
import type { Built, BuildCtx, FlagEffect, Form } from './form.js';
import { encode, gprName, RAX, RCX, RDX, RBX, R8 } from './encoder.js';
import { SNIPPET_DATA_BASE } from './snippet-api.js';

const NONE: FlagEffect = { w: 0, u: 0 };
const ZF_ONLY: FlagEffect = { w: ZF, u: 0 };
const SHIFTED: FlagEffect = { w: CF | OF | SF | ZF | AF | PF, u: CF | AF | OF };

const forms: Form[] = [];
const add = (f: Form) => forms.push(f);
const none = (name: string, group: string, bytes: number[], extra: Partial<Form> = {}) =>
  add({ name, group, shape: 'custom', sizes: [32], opcode: bytes, flags: NONE, ...extra, build: () => ({ bytes: Uint8Array.from(bytes), text: name, effect: NONE, reads: 0 }) });

// ---------------------------------------------------------------- fences, cache control, non-temporal stores
none('lfence', 'fence', [0x0f, 0xae, 0xe8], { feature: 'sse2' });
none('mfence', 'fence', [0x0f, 0xae, 0xf0], { feature: 'sse2' });
none('sfence', 'fence', [0x0f, 0xae, 0xf8], { feature: 'sse2' });
add({ name: 'clflush m8', group: 'clflush', shape: 'rm', digit: 7, sizes: [32], opcode: [0x0f, 0xae], rm: 'mem', memBytes: 1, flags: NONE, feature: 'clflush' });
add({ name: 'movnti m,r', group: 'movnt', shape: 'r_rm', sizes: [32, 64], opcode: [0x0f, 0xc3], rm: 'mem', flags: NONE, feature: 'sse2' });
for (const [m, p, o] of [['movntdq m128,x', 0x66, 0xe7], ['movntps m128,x', undefined, 0x2b], ['movntpd m128,x', 0x66, 0x2b]] as const) {
  add({ name: m, group: 'movnt', shape: 'xmm_xmmrm', sizes: [32], prefix: p, opcode: [0x0f, o], rm: 'mem', sse: true, memBytes: 16, align: 16, flags: NONE, feature: 'sse2' });
}
add({ name: 'maskmovdqu x,x', group: 'movnt', shape: 'custom', sizes: [32], opcode: [0x0f, 0xf7], sse: true, flags: NONE, feature: 'sse2', firstOnly: true, build: (b) => {
  const a = b.rng.below(16), c = b.rng.below(16);
  b.setReg(7 /* rdi */, BigInt(SNIPPET_DATA_BASE + 0x4000 + b.rng.range(-0x100, 0xf0)));
  return { bytes: encode({ prefixes: [0x66], opcode: [0x0f, 0xf7], modrm: { reg: a, rm: { kind: 'reg', num: c } } }), text: `maskmovdqu xmm${a}, xmm${c}`, effect: NONE, reads: 0 };
} });

// ---------------------------------------------------------------- segment registers
const SREG = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];
add({ name: 'mov r/m,sreg', group: 'sreg', shape: 'custom', sizes: [16, 32, 64], opcode: [0x8c], flags: NONE, build: (b) => {
  const s = b.rng.below(6);
  const r = b.freeReg();
  const size = b.rng.pick([16, 32, 64] as const);
  if (b.rng.chance(0.3)) {
    const off = 0x4000 + b.rng.range(-0x100, 0x100);
    return { bytes: encode({ prefixes: size === 16 ? [0x66] : [], rexW: size === 64, opcode: [0x8c], modrm: { reg: s, rm: { kind: 'mem', mem: { disp: SNIPPET_DATA_BASE + off } } } }), text: `mov [${off.toString(16)}], ${SREG[s]}`, effect: NONE, reads: 0 };
  }
  return { bytes: encode({ prefixes: size === 16 ? [0x66] : [], rexW: size === 64, opcode: [0x8c], modrm: { reg: s, rm: { kind: 'reg', num: r } } }), text: `mov ${gprName(r, size)}, ${SREG[s]}`, effect: NONE, reads: 0 };
} });
// loads of DS/ES/SS (FS and GS would move the host's thread pointer): valid user selectors,
// null ones, kernel-only, system and out-of-table selectors (#GP); read back through MOV r, sreg
const LOADABLE = [0x00, 0x03, 0x2b, 0x23, 0x33, 0x2b, 0x10, 0x18, 0x1b, 0x40, 0x2c, 0x2f, 0x0fff, 0x7ff8, 0x0004, 0x002e];
add({ name: 'mov sreg,r/m', group: 'sreg', shape: 'custom', sizes: [16], opcode: [0x8e], flags: NONE, firstOnly: true, build: (b) => {
  const s = b.rng.pick([0, 2, 3]); // es ss ds
  const sel = b.rng.pick(LOADABLE);
  const r = b.freeReg();
  b.setReg(r, (b.getReg(r) & ~0xffffn) | BigInt(sel));
  const load = Array.from(encode({ opcode: [0x8e], modrm: { reg: s, rm: { kind: 'reg', num: r } } }));
  const back = Array.from(encode({ opcode: [0x8c], modrm: { reg: s, rm: { kind: 'reg', num: r } } }));
  // put the host's value back (the oracle process keeps segment registers from case to case)
  let t = b.freeReg();
  while (t === r) t = b.freeReg();
  const orig = s === 2 ? 0x2b : 0;
  const restore = [...Array.from(encode({ opcode: [0xb8], opReg: t, imm: { value: BigInt(orig), size: 4 } })), ...Array.from(encode({ opcode: [0x8e], modrm: { reg: s, rm: { kind: 'reg', num: t } } }))];
  return { bytes: Uint8Array.from([...load, ...back, ...restore]), text: `mov ${SREG[s]}, ${gprName(r, 16)} (0x${sel.toString(16)}); mov ${gprName(r, 32)}, ${SREG[s]}; mov ${SREG[s]}, 0x${orig.toString(16)} via ${gprName(t, 32)}`, effect: NONE, reads: 0 };
} });
none('push fs', 'sreg', [0x0f, 0xa0], { stack: true });
none('push gs', 'sreg', [0x0f, 0xa8], { stack: true });

// ---------------------------------------------------------------- LAR / LSL / VERR / VERW
// 0x78/0x7b (the per-CPU segment: its limit is the CPU number the host runs the oracle on) is not probed
const PROBED = [0x00, 0x03, 0x08, 0x10, 0x13, 0x18, 0x1b, 0x20, 0x23, 0x28, 0x2b, 0x33, 0x30, 0x40, 0x43, 0x48, 0x50, 0x60, 0x68, 0x70, 0x80, 0x0fff, 0x7ff3, 0x0004, 0x002f];
for (const [m, opcode, digit] of [['lar', [0x0f, 0x02], -1], ['lsl', [0x0f, 0x03], -1], ['verr', [0x0f, 0x00], 4], ['verw', [0x0f, 0x00], 5]] as const) {
  add({ name: `${m} r/m16`, group: 'segcheck', shape: 'custom', sizes: [16, 32, 64], opcode: [...opcode], flags: ZF_ONLY, firstOnly: true, build: (b): Built => {
    const sel = b.rng.pick(PROBED) | (b.rng.chance(0.2) ? b.rng.below(4) : 0);
    const src = b.freeReg();
    b.setReg(src, (b.getReg(src) & ~0xffffn) | BigInt(sel));
    if (digit >= 0) return { bytes: encode({ opcode: [...opcode], modrm: { reg: digit, rm: { kind: 'reg', num: src } } }), text: `${m} ${gprName(src, 16)} (0x${sel.toString(16)})`, effect: ZF_ONLY, reads: 0 };
    let dst = b.freeReg();
    if (dst === src && b.rng.chance(0.7)) dst = b.freeReg();
    const size = b.rng.pick([16, 32, 64] as const);
    return { bytes: encode({ prefixes: size === 16 ? [0x66] : [], rexW: size === 64, opcode: [...opcode], modrm: { reg: dst, rm: { kind: 'reg', num: src } } }), text: `${m} ${gprName(dst, size)}, ${gprName(src, 16)} (0x${sel.toString(16)})`, effect: ZF_ONLY, reads: 0 };
  } });
}

// ---------------------------------------------------------------- CPUID, RDTSC, RDTSCP
// Values differ between any two processors; what is architectural: the 32-bit results are
// zero-extended, other registers and the flags are left alone, the counter does not go back.
const shr32 = (r: number) => Array.from(encode({ rexW: true, opcode: [0xc1], modrm: { reg: 5, rm: { kind: 'reg', num: r } }, imm: { value: 32n, size: 1 } }));
add({ name: 'cpuid', group: 'cpuid', shape: 'custom', sizes: [32], opcode: [0x0f, 0xa2], flags: SHIFTED, alone: true, build: (b) => {
  b.setReg(RAX, BigInt(b.rng.pick([0, 1, 7, 0x80000000, 0x80000001, 0x80000008, 0x12345678])) | (b.rng.u64() & ~0xffff_ffffn));
  b.setReg(RCX, b.rng.u64() & ~0xffff_fff0n);
  return { bytes: Uint8Array.from([0x0f, 0xa2, ...shr32(RAX), ...shr32(RBX), ...shr32(RCX), ...shr32(RDX)]), text: 'cpuid; shr rax/rbx/rcx/rdx, 32', effect: SHIFTED, reads: 0 };
} });
function tscPair(b: BuildCtx, p: boolean): Built {
  const ins = p ? [0x0f, 0x01, 0xf9] : [0x0f, 0x31];
  // t0 -> r8 (rdx:rax joined), t1 -> rax; rax = (t1 > t0); the halves' upper bits checked by shifting r9
  const join = [0x48, 0xc1, 0xe2, 0x20, 0x48, 0x09, 0xd0]; // shl rdx, 32; or rax, rdx
  const bytes = [...ins, 0x49, 0x89, 0xd1 /* mov r9, rdx */, ...join, 0x49, 0x89, 0xc0 /* mov r8, rax */, ...ins, ...join,
    0x4c, 0x39, 0xc0 /* cmp rax, r8 */, 0x0f, 0x97, 0xc0 /* seta al */, 0x48, 0x0f, 0xb6, 0xc0 /* movzx rax, al */,
    0x45, 0x31, 0xc0 /* xor r8d, r8d */, 0x31, 0xd2 /* xor edx, edx */, 0x49, 0xc1, 0xe9, 0x20 /* shr r9, 32 */];
  if (p) bytes.push(...shr32(RCX));
  return { bytes: Uint8Array.from(bytes), text: `${p ? 'rdtscp' : 'rdtsc'} twice; rax = counter moved forward; r9 = upper half of the first edx`, effect: SHIFTED, reads: 0 };
}
void R8;
add({ name: 'rdtsc', group: 'tsc', shape: 'custom', sizes: [32], opcode: [0x0f, 0x31], flags: SHIFTED, alone: true, build: (b) => tscPair(b, false) });
add({ name: 'rdtscp', group: 'tsc', shape: 'custom', sizes: [32], opcode: [0x0f, 0x01, 0xf9], flags: SHIFTED, alone: true, feature: 'rdtscp', build: (b) => tscPair(b, true) });

export const SYSTEM_FORMS: readonly Form[] = forms;
