// Software-raised events: INT n, INT3, INTO, INT1 (ICEBP) and UD2. INT n / INT3 / INTO check
// the gate's DPL against CPL; INT1 is delivered like a hardware #DB trap (no DPL check).

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_0F, MAP_1B } from '../../insn.js';
import { EV_ICEBP, EV_SOFT, raiseEvent } from '../../interrupts.js';
import { OF } from '../../regs.js';
import { arithFlags } from '../../flags.js';
import { defineOp } from '../../optable.js';
import { DB, UD } from '../../regs.js';

function intN(cpu: Cpu, ins: Insn): void {
  raiseEvent(cpu, ins.imm & 0xff, EV_SOFT, -1, ins.nextRip);
}

function int3(cpu: Cpu, ins: Insn): void {
  raiseEvent(cpu, 3, EV_SOFT, -1, ins.nextRip);
}

function into(cpu: Cpu, ins: Insn): void {
  if ((arithFlags(cpu) & OF) !== 0) raiseEvent(cpu, 4, EV_SOFT, -1, ins.nextRip);
}

function int1(cpu: Cpu, ins: Insn): void {
  raiseEvent(cpu, DB, EV_ICEBP, -1, ins.nextRip);
}

function ud2(cpu: Cpu): void {
  cpu.fault(UD);
}

defineOp(MAP_1B, 0xcd, { name: 'int', exec: intN, imm: 'Ibu', ends: true });
defineOp(MAP_1B, 0xcc, { name: 'int3', exec: int3, ends: true });
defineOp(MAP_1B, 0xce, { name: 'into', exec: into, ends: true, inv64: true });
defineOp(MAP_1B, 0xf1, { name: 'int1', exec: int1, ends: true });
defineOp(MAP_0F, 0x0b, { name: 'ud2', exec: ud2, ends: true });
