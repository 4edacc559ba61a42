// x87 instruction forms register themselves in the table (see ../../optable.ts).
//
// Approximation (documented): the eight data registers hold binary64 values, so arithmetic is
// done in double precision (53-bit significands, the binary64 exponent range) whatever the
// control word's precision control says; rounding control, NaN propagation and exception
// flags follow the x87 rules on those values. 80-bit memory operands are converted on load
// and store (real80.ts). Transcendentals use the host Math library. Unmasked exceptions are
// signalled as #MF on the next waiting instruction (CR0.NE = 1); the masked response is
// always stored.
import './control.js';
import './load-store.js';
import './arith.js';
import './compare.js';
import './transcendental.js';
import './fxsave.js';
