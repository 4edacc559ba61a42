// MXCSR: exception flag/mask bits, rounding control, DAZ/FTZ; how a SIMD floating-point
// exception is signalled; LDMXCSR/STMXCSR (0F AE /2 /3).
//
// SSE exceptions come in two groups. Pre-computation ones (IE, DE, ZE) are known from the
// operands; post-computation ones (OE, UE, PE) from the rounded result. If any element has an
// unmasked pre-computation exception, only the pre-computation flags are recorded; otherwise
// all flags are. Any unmasked exception raises #XM (or #UD when CR4.OSXMMEXCPT is clear) and
// leaves the destination unchanged; masked ones only set their sticky flags.

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { CR4_OSXMMEXCPT, GP, UD, XM } from '../../regs.js';
import { sseGate } from './xmm-access.js';

export const MX_IE = 0x01, MX_DE = 0x02, MX_ZE = 0x04, MX_OE = 0x08, MX_UE = 0x10, MX_PE = 0x20;
export const MX_FLAGS = 0x3f;
export const MX_DAZ = 0x40;
export const MX_MASK_SHIFT = 7;
export const MX_RC_SHIFT = 13;
export const MX_FTZ = 0x8000;
/** bits LDMXCSR/FXRSTOR accept; others raise #GP (reported by FXSAVE as MXCSR_MASK) */
export const MXCSR_MASK = 0xffff;
export const MXCSR_RESET = 0x1f80;

/** Rounding-control values (MXCSR.RC and the x87 control word's RC share the encoding). */
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

/** Exception bits whose mask is clear. */
export function unmaskedOf(mxcsr: number): number {
  return ~(mxcsr >> MX_MASK_SHIFT) & MX_FLAGS;
}

/**
 * Record the exceptions of one instruction. Returns only when the destination may be written;
 * otherwise raises #XM/#UD after setting the flags the hardware sets.
 */
export function signalSimd(cpu: Cpu, pre: number, post: number): void {
  if ((pre | post) === 0) return;
  const m = cpu.mxcsr;
  const unmasked = unmaskedOf(m);
  if ((pre & unmasked) !== 0) {
    cpu.mxcsr = m | pre;
    simdFault(cpu);
  }
  cpu.mxcsr = m | pre | post;
  if (((pre | post) & unmasked) !== 0) simdFault(cpu);
}

export function simdFault(cpu: Cpu): never {
  if ((cpu.cr4 & CR4_OSXMMEXCPT) !== 0) cpu.fault(XM);
  cpu.fault(UD);
}

function ldmxcsr(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const v = cpu.read32(ins.ea(cpu, ins));
  if ((v & ~MXCSR_MASK) !== 0) cpu.fault(GP, 0);
  cpu.mxcsr = v;
}

function stmxcsr(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  cpu.write32(ins.ea(cpu, ins), cpu.mxcsr);
}

defineOp(MAP_0F, 0xae, { name: 'ldmxcsr', exec: ldmxcsr, modrm: true, size: 'x' }, { prefix: 'np', reg: 2, mod: 'mem' });
defineOp(MAP_0F, 0xae, { name: 'stmxcsr', exec: stmxcsr, modrm: true, size: 'x' }, { prefix: 'np', reg: 3, mod: 'mem' });
