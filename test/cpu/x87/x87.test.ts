// x87 known answers: loads/stores in every memory format (incl. 80-bit and BCD), arithmetic in
// each encoding direction, integer stores under each rounding mode, comparisons and FXAM,
// stack overflow/underflow, the environment and save images, pending-exception #MF and the
// CR0 gates. Register-form encodings whose AT&T mnemonics are swapped by GNU as are written
// as bytes with their Intel meaning in a comment.

import { describe, expect, it } from 'vitest';
import { arithFlags } from '../../../src/cpu/flags.js';
import { RUN_HALTED } from '../../../src/cpu/cpu.js';
import { CF, CR0_EM, CR0_NE, CR0_TS, MF, NM, PF, ZF } from '../../../src/cpu/regs.js';
import { DATA, faultOf, run, sseCore, type TestCore } from '../sse/harness.js';

const IE = 1, ZE = 4, PE = 0x20, SF = 0x40, ES = 0x80, C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000;

function fpu(src: string, setup?: (t: TestCore) => void): TestCore {
  const t = sseCore();
  setup?.(t);
  const rc = run(t, 'fninit\n' + src);
  expect(faultOf(t, rc)).toBe(-1);
  return t;
}

const f64 = (t: TestCore, off: number): number => t.dv.getFloat64(DATA + off, true);
const sw = (t: TestCore): number => ((t.cpu.fpStatus & ~0x3800) | (t.cpu.fpTop << 11)) & 0xffff;

describe('loads, stores and arithmetic', () => {
  it('m32/m64/ST(i) arithmetic, both directions', () => {
    const t = fpu(`fldl ${DATA}\nfsubl ${DATA + 8}\nfstpl ${DATA + 16}\n` + // 10 - 4
      `fldl ${DATA}\nfsubrl ${DATA + 8}\nfstpl ${DATA + 24}\n` + // 4 - 10
      `flds ${DATA + 40}\nfldl ${DATA + 8}\n.byte 0xde, 0xe9\nfstpl ${DATA + 32}\n` + // FSUBP ST(1),ST(0): 0.5 - 4
      `fldl ${DATA}\nfldl ${DATA + 8}\n.byte 0xde, 0xf9\nfstpl ${DATA + 48}\n` + // FDIVP ST(1),ST(0): 10 / 4
      `fldl ${DATA}\nfldl ${DATA + 8}\n.byte 0xd8, 0xf1\nfstpl ${DATA + 56}\nfstp %st(0)`, // FDIV ST(0),ST(1): 4 / 10
    (c) => {
      c.dv.setFloat64(DATA, 10, true);
      c.dv.setFloat64(DATA + 8, 4, true);
      c.dv.setFloat32(DATA + 40, 0.5, true);
    });
    expect([f64(t, 16), f64(t, 24), f64(t, 32), f64(t, 48), f64(t, 56)]).toEqual([6, -6, -3.5, 2.5, 0.4]);
    expect(t.cpu.fpTop).toBe(0);
    expect(t.cpu.fpTag).toBe(0xffff);
  });
  it('integer operands and integer stores', () => {
    const t = fpu(`fildl ${DATA}\nfimuls ${DATA + 4}\nfistpl ${DATA + 8}\nfildll ${DATA + 16}\nfistpll ${DATA + 24}`, (c) => {
      c.dv.setInt32(DATA, -7, true);
      c.dv.setInt16(DATA + 4, 300, true);
      c.dv.setBigInt64(DATA + 16, -(1n << 52n) - 3n, true);
    });
    expect(t.dv.getInt32(DATA + 8, true)).toBe(-2100);
    expect(t.dv.getBigInt64(DATA + 24, true)).toBe(-(1n << 52n) - 3n);
  });
  it('FIST rounds by the control word; FISTTP truncates; out of range stores the indefinite', () => {
    const vals = [2.5, -2.5, 3.5, -0.7];
    const run4 = (cw: number, store: string): number[] => {
      const t = fpu(`fldcw ${DATA + 100}\n` + vals.map((_, i) => `fldl ${DATA + 8 * i}\n${store} ${DATA + 64 + 4 * i}`).join('\n'), (c) => {
        vals.forEach((v, i) => c.dv.setFloat64(DATA + 8 * i, v, true));
        c.dv.setUint16(DATA + 100, cw, true);
      });
      return vals.map((_, i) => t.dv.getInt32(DATA + 64 + 4 * i, true));
    };
    expect(run4(0x037f, 'fistpl')).toEqual([2, -2, 4, -1]);
    expect(run4(0x077f, 'fistpl')).toEqual([2, -3, 3, -1]);
    expect(run4(0x0b7f, 'fistpl')).toEqual([3, -2, 4, 0]);
    expect(run4(0x0f7f, 'fistpl')).toEqual([2, -2, 3, 0]);
    expect(run4(0x037f, 'fisttpl')).toEqual([2, -2, 3, 0]);
    const t = fpu(`fldl ${DATA}\nfistps ${DATA + 8}`, (c) => c.dv.setFloat64(DATA, 40000, true));
    expect(t.dv.getUint16(DATA + 8, true)).toBe(0x8000);
    expect(t.cpu.fpStatus & IE).toBe(IE);
  });
  it('80-bit memory format round trips and encodes exactly', () => {
    const t = fpu(`fldpi\nfstpt ${DATA}\nfld1\nfchs\nfstpt ${DATA + 16}\nfldl ${DATA + 32}\nfstpt ${DATA + 48}\nfldt ${DATA}\nfstpl ${DATA + 64}`,
      (c) => c.dv.setFloat64(DATA + 32, 5e-324, true));
    expect(t.dv.getUint16(DATA + 8, true)).toBe(0x4000);
    expect(t.dv.getBigUint64(DATA, true)).toBe(0xc90fdaa22168c235n); // pi rounded to 64 bits
    expect(t.dv.getUint16(DATA + 24, true)).toBe(0xbfff);
    expect(t.dv.getBigUint64(DATA + 16, true)).toBe(0x8000000000000000n);
    // the smallest double denormal is a normal 80-bit number: 2^-1074
    expect(t.dv.getUint16(DATA + 56, true)).toBe(16383 - 1074);
    expect(t.dv.getBigUint64(DATA + 48, true)).toBe(0x8000000000000000n);
    expect(f64(t, 64)).toBe(Math.PI);
  });
  it('m32 stores round by the control word and NaNs keep their payload', () => {
    const t = fpu(`fldl ${DATA}\nfsts ${DATA + 16}\nfldcw ${DATA + 40}\nfstps ${DATA + 20}\nfldl ${DATA + 8}\nfstps ${DATA + 24}`, (c) => {
      c.dv.setFloat64(DATA, 1 / 3, true);
      c.dv.setBigUint64(DATA + 8, 0x7ff8000020000000n, true);
      c.dv.setUint16(DATA + 40, 0x0b7f, true); // round up
    });
    expect(t.dv.getUint32(DATA + 16, true)).toBe(0x3eaaaaab);
    expect(t.dv.getUint32(DATA + 20, true)).toBe(0x3eaaaaab);
    expect(t.dv.getUint32(DATA + 24, true)).toBe(0x7fc00001);
  });
  it('packed BCD', () => {
    const t = fpu(`fbld ${DATA}\nfchs\nfbstp ${DATA + 16}`, (c) => {
      [0x89, 0x67, 0x45, 0x23, 0x01].forEach((b, i) => c.ram[DATA + i] = b);
    });
    expect([...t.ram.subarray(DATA + 16, DATA + 26)]).toEqual([0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0x80]);
  });
  it('constants, FXCH, FCHS/FABS, FSQRT, FSCALE, FRNDINT, FXTRACT, FPREM', () => {
    const t = fpu(`fldl2e\nfstpl ${DATA}\nfld1\nfldz\nfxch\nfstpl ${DATA + 8}\nfstpl ${DATA + 16}\n` +
      `fldl ${DATA + 200}\nfsqrt\nfstpl ${DATA + 24}\n` +
      `fld1\nfchs\nfldl ${DATA + 200}\nfscale\nfstpl ${DATA + 32}\nfabs\nfstpl ${DATA + 40}\n` +
      `fldl ${DATA + 208}\nfrndint\nfstpl ${DATA + 48}\n` +
      `fldl ${DATA + 216}\nfxtract\nfstpl ${DATA + 56}\nfstpl ${DATA + 64}\n` +
      `fldl ${DATA + 224}\nfldl ${DATA + 232}\nfprem\nfnstsw %ax\nfstpl ${DATA + 72}\nfstp %st(0)`, (c) => {
      c.dv.setFloat64(DATA + 200, 2, true);
      c.dv.setFloat64(DATA + 208, -2.5, true);
      c.dv.setFloat64(DATA + 216, -24, true);
      c.dv.setFloat64(DATA + 224, 3, true); // divisor
      c.dv.setFloat64(DATA + 232, 23, true); // 23 = 7*3 + 2
    });
    expect(f64(t, 0)).toBe(Math.LOG2E);
    expect([f64(t, 8), f64(t, 16)]).toEqual([1, 0]);
    expect(f64(t, 24)).toBe(Math.SQRT2);
    expect([f64(t, 32), f64(t, 40)]).toEqual([1, 1]);
    expect(f64(t, 48)).toBe(-2);
    expect([f64(t, 56), f64(t, 64)]).toEqual([-1.5, 4]);
    expect(f64(t, 72)).toBe(2);
    const status = t.cpu.lo[0] & 0xffff; // quotient 7 = 0b111: C0 = Q2, C3 = Q0, C1 = Q1; C2 = 0 (complete)
    expect(status & (C0 | C1 | C2 | C3)).toBe(C0 | C1 | C3);
  });
  it('transcendentals: sin, tan (and the pushed 1), atan2, log2 of a power of two', () => {
    const t = fpu(`fldl ${DATA}\nfsin\nfstpl ${DATA + 8}\nfldl ${DATA}\nfptan\nfstpl ${DATA + 16}\nfstpl ${DATA + 24}\n` +
      `fld1\nfldl ${DATA}\nfpatan\nfstpl ${DATA + 32}\nfld1\nfldl ${DATA + 40}\nfyl2x\nfstpl ${DATA + 48}`, (c) => {
      c.dv.setFloat64(DATA, 0.5, true);
      c.dv.setFloat64(DATA + 40, 8, true);
    });
    expect(f64(t, 8)).toBeCloseTo(Math.sin(0.5), 15);
    expect([f64(t, 16), f64(t, 24)]).toEqual([1, Math.tan(0.5)]);
    expect(f64(t, 32)).toBeCloseTo(Math.atan2(1, 0.5), 15);
    expect(f64(t, 48)).toBe(3);
  });
  it('FCMOVcc follows EFLAGS', () => {
    const t = fpu(`fld1\nfldz\nstc\nfcmovb %st(1), %st\nfstpl ${DATA}\nfldz\nclc\nfcmovb %st(1), %st\nfstpl ${DATA + 8}\nfstp %st(0)`);
    expect([f64(t, 0), f64(t, 8)]).toEqual([1, 0]);
  });
});

describe('comparisons and classification', () => {
  it('FCOM sets C3 C2 C0; FCOMI/FUCOMI set ZF PF CF', () => {
    const cc = (a: number, b: number): number => {
      const t = fpu(`fldl ${DATA + 8}\nfldl ${DATA}\nfcompl ${DATA + 8}\nfnstsw %ax\nfstp %st(0)`, (c) => {
        c.dv.setFloat64(DATA, a, true);
        c.dv.setFloat64(DATA + 8, b, true);
      });
      return t.cpu.lo[0] & (C0 | C2 | C3);
    };
    expect([cc(1, 2), cc(2, 1), cc(2, 2), cc(NaN, 2)]).toEqual([C0, 0, C3, C0 | C2 | C3]);
    const fl = (a: number, b: number, insn: string): [number, number] => {
      const t = fpu(`fldl ${DATA + 8}\nfldl ${DATA}\n${insn}\nfstp %st(0)\nfstp %st(0)`, (c) => {
        c.dv.setFloat64(DATA, a, true);
        c.dv.setFloat64(DATA + 8, b, true);
      });
      return [arithFlags(t.cpu), t.cpu.fpStatus & IE];
    };
    expect(fl(1, 2, 'fcomi %st(1), %st')).toEqual([CF, 0]);
    expect(fl(2, 2, 'fcomi %st(1), %st')).toEqual([ZF, 0]);
    expect(fl(NaN, 2, 'fucomi %st(1), %st')).toEqual([ZF | PF | CF, 0]);
    expect(fl(NaN, 2, 'fcomi %st(1), %st')).toEqual([ZF | PF | CF, IE]);
  });
  it('FXAM classifies zero, normal, infinity, NaN and empty (a double denormal is normal in 80 bits)', () => {
    const cls = (setup: string): number => {
      const t = fpu(`${setup}\nfxam\nfnstsw %ax`, (c) => {
        c.dv.setFloat64(DATA, Infinity, true);
        c.dv.setFloat64(DATA + 8, NaN, true);
        c.dv.setFloat64(DATA + 16, -5e-324, true);
      });
      return t.cpu.lo[0] & (C0 | C1 | C2 | C3);
    };
    expect(cls('fldz')).toBe(C3);
    expect(cls('fld1\nfchs')).toBe(C2 | C1);
    expect(cls(`fldl ${DATA}`)).toBe(C2 | C0);
    expect(cls(`fldl ${DATA + 8}`)).toBe(C0);
    expect(cls(`fldl ${DATA + 16}`)).toBe(C2 | C1);
    expect(cls('')).toBe(C3 | C0);
  });
});

describe('stack faults, exceptions and gates', () => {
  it('a ninth push overflows (IE SF C1) and stores the indefinite; reading an empty register underflows', () => {
    const t = fpu(`${'fld1\n'.repeat(9)}fnstsw ${DATA + 8}\nfstpl ${DATA}`);
    expect(t.dv.getBigUint64(DATA, true)).toBe(0xfff8000000000000n);
    expect(t.dv.getUint16(DATA + 8, true) & (IE | SF | C1)).toBe(IE | SF | C1);
    const u = fpu(`fadd %st(3), %st`);
    expect(u.cpu.fpStatus & (IE | SF | C1)).toBe(IE | SF);
  });
  it('an unmasked exception is delivered as #MF at the next waiting instruction; FNCLEX clears it', () => {
    const t = sseCore();
    t.dv.setUint16(DATA, 0x037b, true); // ZE unmasked
    let rc = run(t, `fninit\nfldcw ${DATA}\nfld1\nfldz\nfdivrp\nfnstsw %ax`);
    expect(faultOf(t, rc)).toBe(-1);
    expect(t.cpu.lo[0] & (ZE | ES | 0x8000)).toBe(ZE | ES | 0x8000);
    rc = run(t, 'fld1');
    expect(faultOf(t, rc)).toBe(MF);
    rc = run(t, 'fnclex\nfld1\nfwait');
    expect(faultOf(t, rc)).toBe(-1);
  });
  it('CR0.NE = 0: the waiting instruction asserts FERR# and freezes before itself unless IGNNE#; FNCLEX deasserts FERR#', () => {
    const t = sseCore();
    t.cpu.stopOnFault = false;
    t.cpu.cr0 &= ~CR0_NE;
    const ferr: boolean[] = [];
    let ignne = false;
    Object.assign(t.bus, { ferr: (asserted: boolean) => { ferr.push(asserted); return ignne; } });
    t.dv.setUint16(DATA, 0x037b, true); // ZE unmasked
    let rc = run(t, `fninit\nfldcw ${DATA}\nfld1\nfldz\nfdivrp\nfwait\nfnclex`);
    expect(rc).toBe(RUN_HALTED);
    expect(t.dv.getUint8(t.cpu.rip), 'frozen at the FWAIT, not past it').toBe(0x9b);
    expect(ferr).toEqual([true]);
    // the handler's port 0xF0 write asserts IGNNE#: the FWAIT then proceeds, FNCLEX clears FERR#
    ignne = true;
    t.cpu.halted = false;
    rc = t.cpu.run(1000);
    expect(rc).toBe(RUN_HALTED);
    expect(t.dv.getUint8(t.cpu.rip - 1), 'stopped by the final HLT').toBe(0xf4);
    expect(ferr).toEqual([true, true, false]);
    expect(t.cpu.fpStatus & ES).toBe(0);
  });
  it('CR0.EM or CR0.TS: #NM; FWAIT faults only with TS and MP', () => {
    const t = sseCore();
    t.cpu.cr0 |= CR0_EM;
    expect(faultOf(t, run(t, 'fninit'))).toBe(NM);
    expect(faultOf(t, run(t, 'fwait'))).toBe(-1);
    t.cpu.cr0 = (t.cpu.cr0 & ~CR0_EM) | CR0_TS;
    expect(faultOf(t, run(t, 'fwait'))).toBe(NM);
    t.cpu.cr0 &= ~2; // MP clear
    expect(faultOf(t, run(t, 'fwait'))).toBe(-1);
  });
  it('precision exception flag from an inexact integer store', () => {
    const t = fpu(`fldl ${DATA}\nfistpl ${DATA + 8}`, (c) => c.dv.setFloat64(DATA, 1.25, true));
    expect(t.cpu.fpStatus & PE).toBe(PE);
  });
});

describe('environment and state images', () => {
  it('FNSTENV/FLDENV keep control, status (with TOP) and tags; FNSTENV masks exceptions', () => {
    const t = fpu(`fld1\nfldpi\nfnstenv ${DATA}\nfninit\nfldenv ${DATA}\nfstpl ${DATA + 64}`, (c) => void c);
    expect(t.dv.getUint16(DATA, true)).toBe(0x037f);
    expect((t.dv.getUint16(DATA + 4, true) >> 11) & 7).toBe(6);
    expect(t.dv.getUint16(DATA + 8, true)).toBe(0x0fff); // ST0, ST1 (physical 6, 7) valid
    expect(f64(t, 64)).toBe(Math.PI);
  });
  it('FNSAVE/FRSTOR round trip and FNSAVE reinitialises', () => {
    const t = fpu(`fld1\nfldl2t\nfnsave ${DATA}\nfnstsw %ax\nfrstor ${DATA}\nfstpl ${DATA + 200}\nfstpl ${DATA + 208}`);
    expect(t.cpu.lo[0] & 0x3800).toBe(0);
    expect(f64(t, 200)).toBe(Math.log2(10));
    expect(f64(t, 208)).toBe(1);
    expect(t.dv.getUint16(DATA + 28 + 8, true)).toBe(0x4000); // ST0 = log2(10) as 80 bits
  });
  it('FXSAVE layout and FXRSTOR round trip', () => {
    const t = sseCore();
    t.cpu.mxcsr = 0x3fa0;
    for (let i = 0; i < 64; i++) t.cpu.xmm[i] = i * 0x01010101;
    const rc = run(t, `fninit\nfld1\nfldz\nfxsave ${DATA}\nfninit\nldmxcsr ${DATA + 0x300}\npxor %xmm15, %xmm15\nfxrstor ${DATA}\nfstpl ${DATA + 0x280}\nfstpl ${DATA + 0x288}`);
    expect(faultOf(t, rc)).toBe(-1);
    expect(t.dv.getUint16(DATA, true)).toBe(0x037f);
    expect((t.dv.getUint16(DATA + 2, true) >> 11) & 7).toBe(6);
    expect(t.ram[DATA + 4]).toBe(0xc0); // physical 6 and 7 in use
    expect(t.dv.getUint32(DATA + 24, true)).toBe(0x3fa0);
    expect(t.dv.getUint32(DATA + 28, true)).toBe(0xffff);
    expect(t.dv.getUint16(DATA + 32 + 8, true)).toBe(0); // ST0 = +0
    expect(t.dv.getUint16(DATA + 48 + 8, true)).toBe(0x3fff); // ST1 = 1.0
    expect(t.dv.getUint32(DATA + 160 + 16 * 15 + 12, true)).toBe(63 * 0x01010101);
    expect(t.cpu.mxcsr).toBe(0x3fa0);
    expect(t.cpu.xmm[63]).toBe(63 * 0x01010101);
    expect([f64(t, 0x280), f64(t, 0x288)]).toEqual([0, 1]);
  });
  it('FXRSTOR with reserved MXCSR bits is #GP and changes nothing', () => {
    const t = sseCore();
    t.dv.setUint32(DATA + 24, 0x20000, true);
    t.cpu.mxcsr = 0x1f80;
    expect(faultOf(t, run(t, `fxrstor ${DATA}`))).toBe(13);
    expect(t.cpu.mxcsr).toBe(0x1f80);
    expect(sw(t)).toBe(0);
  });
});

describe('80-bit precision and unmasked exceptions', () => {
  const m80 = (t: TestCore, off: number): [number, bigint] => [t.dv.getUint16(DATA + off + 8, true), t.dv.getBigUint64(DATA + off, true)];
  it('1/3 keeps 64 bits at PC=64, 53 at PC=53, 24 at PC=24; C1 = rounded up', () => {
    const body = (cw: number) => `movw $${cw}, ${DATA + 64}\nfldcw ${DATA + 64}\nfld1\nfidivl ${DATA + 72}\nfnstsw ${DATA + 80}\nfstpt ${DATA}`;
    const three = (c: TestCore) => c.dv.setInt32(DATA + 72, 3, true);
    let t = fpu(body(0x037f), three);
    expect(m80(t, 0)).toEqual([0x3ffd, 0xaaaaaaaaaaaaaaabn]);
    expect(t.dv.getUint16(DATA + 80, true) & (PE | C1)).toBe(PE | C1);
    t = fpu(body(0x077f), three); // round down: not rounded up
    expect(m80(t, 0)).toEqual([0x3ffd, 0xaaaaaaaaaaaaaaaan]);
    expect(t.dv.getUint16(DATA + 80, true) & (PE | C1)).toBe(PE);
    t = fpu(body(0x027f), three);
    expect(m80(t, 0)).toEqual([0x3ffd, 0xaaaaaaaaaaaaa800n]);
    t = fpu(body(0x007f), three);
    expect(m80(t, 0)).toEqual([0x3ffd, 0xaaaaab0000000000n]);
  });
  it('the 80-bit exponent range: 2^16000 * 2^16000 overflows, 2^1000 * 2^1000 does not', () => {
    const t = fpu(`fldt ${DATA}\nfldt ${DATA}\nfmulp\nfstpt ${DATA + 16}\nfldt ${DATA + 32}\nfldt ${DATA + 32}\nfmulp\nfstpt ${DATA + 48}`, (c) => {
      c.dv.setBigUint64(DATA, 1n << 63n, true); c.dv.setUint16(DATA + 8, 16383 + 16000, true);
      c.dv.setBigUint64(DATA + 32, 1n << 63n, true); c.dv.setUint16(DATA + 40, 16383 + 1000, true);
    });
    expect(m80(t, 16)).toEqual([0x7fff, 1n << 63n]);
    expect(m80(t, 48)).toEqual([16383 + 2000, 1n << 63n]);
    expect(t.cpu.fpStatus & 0x3f).toBe(0x28); // OE PE (from the first)
  });
  it('an unmasked divide by zero leaves the destination and the stack as they were', () => {
    const t = sseCore();
    t.dv.setUint16(DATA, 0x037b, true); // ZE unmasked
    const rc = run(t, `fninit\nfldcw ${DATA}\nfld1\nfldz\n.byte 0xde, 0xf9`); // FDIVP ST(1),ST(0): 1 / 0
    expect(faultOf(t, rc)).toBe(-1);
    expect(t.cpu.fpTop).toBe(6);
    expect(t.cpu.fpStatus & (ZE | ES)).toBe(ZE | ES);
    const st1 = (t.cpu.fpTop + 1) & 7;
    expect([t.cpu.fpr[st1 * 3 + 2], t.cpu.fpr[st1 * 3 + 1] >>> 0]).toEqual([0x3fff, 0x80000000]);
  });
  it('an unmasked invalid operation on an SNaN load pushes nothing', () => {
    const t = sseCore();
    t.dv.setUint16(DATA, 0x037e, true); // IE unmasked
    t.dv.setBigUint64(DATA + 8, 0x7ff0000000000001n, true);
    const rc = run(t, `fninit\nfldcw ${DATA}\nfldl ${DATA + 8}`);
    expect(faultOf(t, rc)).toBe(-1);
    expect(t.cpu.fpTop).toBe(0);
    expect(t.cpu.fpTag).toBe(0xffff);
    expect(t.cpu.fpStatus & (IE | ES)).toBe(IE | ES);
  });
  it('MMX data is the significand with exponent 0xFFFF in FXSAVE; after EMMS the registers read as empty', () => {
    const t = fpu(`movq ${DATA}, %mm0\nfxsave ${DATA + 0x100}\nemms\nfincstp\nfdecstp\n.byte 0xd9, 0xf6\nfld %st(1)\nfstpt ${DATA + 16}`,
      (c) => c.dv.setBigUint64(DATA, 0x0123456789abcdefn, true));
    expect([t.dv.getUint16(DATA + 0x100 + 40, true), t.dv.getBigUint64(DATA + 0x100 + 32, true)]).toEqual([0xffff, 0x0123456789abcdefn]);
    // EMMS empties the registers: FLD of one underflows
    expect(t.cpu.fpStatus & (IE | 0x40)).toBe(IE | 0x40);
  });
});
