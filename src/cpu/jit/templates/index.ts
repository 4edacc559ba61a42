// The template families the block compiler tries, in order, each with the decoded forms it
// specializes: the names are the decoder registry's (`defineOp` names in src/cpu/ops/**).
// A family matches opcodes by hand for speed; test/isa/form-coverage.test.ts checks that every
// instruction a family accepts is one of the forms it names here, and that each name exists.
import type { TemplateFamily } from '../template.js';
import { aluFamily } from './alu.js';
import { movesFamily } from './moves.js';
import { shiftMulFamily } from './shift-mul.js';
import { stackBranchFamily } from './stack-branch.js';

export interface TemplateFamilyEntry {
  name: string;
  family: TemplateFamily;
  /** registry form names this family specializes */
  forms: readonly string[];
}

export const TEMPLATE_FAMILIES: readonly TemplateFamilyEntry[] = [
  { name: 'alu', family: aluFamily, forms: ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'test', 'inc', 'dec', 'not', 'neg'] },
  { name: 'moves', family: movesFamily, forms: ['mov', 'movzx', 'movsx', 'movsxd', 'lea', 'xchg', 'nop', 'cmovcc', 'setcc', 'cld', 'std', 'cbw', 'cwd'] },
  { name: 'stack-branch', family: stackBranchFamily, forms: ['push', 'pop', 'jcc', 'jmp', 'call'] },
  { name: 'shift-mul', family: shiftMulFamily, forms: ['rol', 'ror', 'shl', 'shr', 'sar', 'mul', 'imul'] },
];
