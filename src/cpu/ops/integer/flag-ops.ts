// Instructions that set or clear single flags: CLC STC CMC (carry, held lazily, so the
// arithmetic flags are materialized first) and CLD STD (direction, always explicit).
// CLI/STI change IF and belong to the system instructions.

import type { Cpu } from '../../cpu.js';
import { materialize } from '../../flags.js';
import { MAP_1B } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { CF, DF } from '../../regs.js';

function clc(cpu: Cpu): void { materialize(cpu); cpu.flags &= ~CF; }
function stc(cpu: Cpu): void { materialize(cpu); cpu.flags |= CF; }
function cmc(cpu: Cpu): void { materialize(cpu); cpu.flags ^= CF; }
function cld(cpu: Cpu): void { cpu.flags &= ~DF; }
function std(cpu: Cpu): void { cpu.flags |= DF; }

defineOp(MAP_1B, 0xf8, { name: 'clc', exec: clc, size: 'x' });
defineOp(MAP_1B, 0xf9, { name: 'stc', exec: stc, size: 'x' });
defineOp(MAP_1B, 0xf5, { name: 'cmc', exec: cmc, size: 'x' });
defineOp(MAP_1B, 0xfc, { name: 'cld', exec: cld, size: 'x' });
defineOp(MAP_1B, 0xfd, { name: 'std', exec: std, size: 'x' });
