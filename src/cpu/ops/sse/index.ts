// SSE/SSE2 instruction forms register themselves in the table (see ../../optable.ts).
import './mxcsr.js';
import './moves.js';
import './logic.js';
import './int-arith.js';
import './int-shift.js';
import './pack-unpack.js';
import './shuffle.js';
import './fp-arith.js';
import './fp-compare.js';
import './convert.js';
import './mmx.js';
