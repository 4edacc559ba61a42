// Instruction forms of this family register themselves in the table (see ../../optable.ts).
import './control-registers.js';
import './descriptor-tables.js';
import './segment-loads.js';
import './segment-checks.js';
import './far-transfers.js';
import './software-interrupts.js';
import './fast-system-calls.js';
import './processor-info.js';
import './interrupt-flag.js';
import './port-io.js';
