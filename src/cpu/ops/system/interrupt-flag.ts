// HLT, CLI and STI. STI opens a one-instruction interrupt shadow (so "sti; hlt" halts before
// the interrupt is taken); HLT ends the block and leaves the run loop until an event arrives.

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { GP, IF } from '../../regs.js';
import { ioplDenied, requireCpl0 } from './privilege.js';

function hlt(cpu: Cpu): void {
  requireCpl0(cpu);
  cpu.halted = true;
  cpu.eventCheck = true;
}

function cli(cpu: Cpu): void {
  if (ioplDenied(cpu)) cpu.fault(GP, 0);
  cpu.flags &= ~IF;
}

function sti(cpu: Cpu, ins: Insn): void {
  if (ioplDenied(cpu)) cpu.fault(GP, 0);
  if ((cpu.flags & IF) === 0) {
    cpu.flags |= IF;
    cpu.interruptShadow = true;
    cpu.shadowRip = ins.nextRip;
    cpu.ssShadow = false;
  }
  cpu.eventCheck = true;
}

defineOp(MAP_1B, 0xf4, { name: 'hlt', exec: hlt, ends: true });
defineOp(MAP_1B, 0xfa, { name: 'cli', exec: cli });
defineOp(MAP_1B, 0xfb, { name: 'sti', exec: sti, ends: true });
