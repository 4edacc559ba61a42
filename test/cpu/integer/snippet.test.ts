import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../isa/prng.js';
import { runSnippets, SNIPPET_DATA_BASE, SNIPPET_DATA_SIZE, type SnippetCase } from '../../../src/cpu/snippet.js';
import { compare, generate, TEMPLATES } from './integer-fuzz.js';

function gprs(values: Record<number, bigint> = {}): bigint[] {
  const g = Array<bigint>(16).fill(0n);
  g[4] = BigInt(SNIPPET_DATA_BASE + 0x8000);
  for (const [r, v] of Object.entries(values)) g[Number(r)] = v;
  return g;
}

const zeroData = new Uint8Array(SNIPPET_DATA_SIZE);

describe('snippet runner', () => {
  it('runs to the final int3 and reports registers, flags and the data window', () => {
    // add rax, rbx; mov [rsp-8], rax; int3
    const code = Uint8Array.from([0x48, 0x01, 0xd8, 0x48, 0x89, 0x44, 0x24, 0xf8, 0xcc]);
    const [r] = runSnippets([{ code, init: { gpr: gprs({ 0: 0xffffffffffffffffn, 3: 2n }), rflags: 0x202 }, data: zeroData }]);
    expect(r.fault).toBeUndefined();
    expect(r.final.gpr[0]).toBe(1n);
    expect(r.final.rflags & 0x8d5).toBe(0x11); // CF and AF
    expect(r.data[0x8000 - 8]).toBe(1);
    expect(zeroData[0x8000 - 8]).toBe(0); // the input image is not modified
  });

  it('maps faults: #DE, #UD, #PF outside the windows, #GP for non-canonical, NX data window', () => {
    const cases: SnippetCase[] = [
      { code: Uint8Array.from([0xf7, 0xf1, 0xcc]), init: { gpr: gprs(), rflags: 0x202 }, data: zeroData }, // div ecx
      { code: Uint8Array.from([0x0f, 0xff, 0xcc]), init: { gpr: gprs(), rflags: 0x202 }, data: zeroData }, // ud0
      { code: Uint8Array.from([0x8b, 0x03, 0xcc]), init: { gpr: gprs({ 3: 0x1000n }), rflags: 0x202 }, data: zeroData },
      { code: Uint8Array.from([0x8b, 0x03, 0xcc]), init: { gpr: gprs({ 3: 0x8000_0000_0000_0000n }), rflags: 0x202 }, data: zeroData },
      { code: Uint8Array.from([0xff, 0xe3, 0xcc]), init: { gpr: gprs({ 3: BigInt(SNIPPET_DATA_BASE) }), rflags: 0x202 }, data: zeroData },
    ];
    const res = runSnippets(cases);
    expect(res.map((r) => r.fault)).toEqual(['DE', 'UD', 'PF', 'GP', 'PF']);
  });

  it('reports a runaway loop as a timeout', () => {
    const [r] = runSnippets([{ code: Uint8Array.from([0xeb, 0xfe, 0xcc]), init: { gpr: gprs(), rflags: 0x202 }, data: zeroData }]);
    expect(r.fault).toBe('timeout');
  });

  it('isolates cases: code, data and dirty pages do not leak into the next case', () => {
    const store = Uint8Array.from([0xc6, 0x03, 0x55, 0xc6, 0x05, 0x00, 0x00, 0x00, 0x00, 0x90, 0xcc]); // mov byte [rbx], 0x55; mov byte [rip], 0x90 (SMC)
    const load = Uint8Array.from([0x8a, 0x03, 0xcc]); // mov al, [rbx]
    const init = { gpr: gprs({ 3: BigInt(SNIPPET_DATA_BASE + 0x100) }), rflags: 0x202 };
    const res = runSnippets([{ code: store, init, data: zeroData }, { code: load, init, data: zeroData }]);
    expect(res[0].data[0x100]).toBe(0x55);
    expect(res[1].final.gpr[0]).toBe(0n);
    expect(res[1].data).toBe(zeroData); // nothing written: the input image itself
  });

  it('runs many short cases in one call, each from its own initial state', () => {
    // Speed belongs in bench/ (the fuzz CLI prints cases per second); this checks that one call
    // carries thousands of cases and that no state leaks from one case into the next.
    const code = Uint8Array.from([0x48, 0x01, 0xd8, 0x50, 0xcc]); // add rax, rbx; push rax
    const cases: SnippetCase[] = [];
    for (let i = 0; i < 3000; i++) cases.push({ code, init: { gpr: gprs({ 0: BigInt(i), 3: BigInt(i & 7) }), rflags: 0x202 }, data: zeroData });
    const res = runSnippets(cases);
    expect(res).toHaveLength(3000);
    const wrong = res.map((r, i) => [i, r.final.gpr[0]] as const).filter(([i, v]) => v !== BigInt(i + (i & 7)));
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});

let hasGcc = true;
try { execFileSync('gcc', ['--version'], { stdio: 'ignore' }); } catch { hasGcc = false; }

describe.skipIf(!hasGcc || process.arch !== 'x64')('integer instructions against the host CPU', () => {
  it('a fixed-seed sample of every integer template matches the native oracle', () => {
    const rng = new Prng('cpu-integer-differential');
    const cases = [];
    for (const t of TEMPLATES) for (let i = 0; i < 6; i++) cases.push(generate(rng, t));
    const bad = compare(cases);
    expect(bad.slice(0, 10)).toEqual([]);
  });
});
