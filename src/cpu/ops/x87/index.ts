// x87 instruction forms register themselves in the table (see ../../optable.ts).
//
// The eight data registers hold the 80-bit register format (fpu-state.ts). FADD/FSUB/FMUL/FDIV
// and FSQRT round once by precision and rounding control through the exact core (f80-arith.ts);
// loads, stores, integer and BCD conversions, compares, FRNDINT, FSCALE, FXTRACT and FPREM/FPREM1
// are exact (f80-convert.ts). Transcendentals are evaluated in binary64 (transcendental.ts).
// Unmasked exceptions are signalled as #MF on the next waiting instruction (CR0.NE = 1).
import './control.js';
import './load-store.js';
import './arith.js';
import './compare.js';
import './transcendental.js';
import './fxsave.js';
