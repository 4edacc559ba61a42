// Instruction forms of this family register themselves in the table (see ../../optable.ts).
import './alu.js';
import './atomic.js';
import './bcd.js';
import './bmi.js';
import './bitops.js';
import './branch.js';
import './flag-ops.js';
import './mov.js';
import './muldiv.js';
import './shift.js';
import './stack.js';
import './string.js';
