// Compares the emulator's result for a case with the native one: every GPR, the flags that are
// defined at the point the run stopped, the XMM registers (SSE cases), the whole data window
// (which also holds the final MXCSR) and the fault kind. Renders mismatches for humans.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPR64 } from './encoder.js';
import { COMPARED, flagNames } from './flags.js';
import type { IsaCase } from './generate.js';
import { MXCSR_SLOT } from './layout.js';
import { repoRoot, type DataSegment, type NativeResult } from './native-harness.js';
import { SNIPPET_CODE_BASE, SNIPPET_DATA_SIZE, type SnippetResult } from './snippet-api.js';

/** Flags that are undefined where the native run stopped (at the fault, or at the end). */
export function undefinedFlagsAtStop(c: IsaCase, native: NativeResult): number {
  if (!native.fault) return c.undefinedAt[c.undefinedAt.length - 1];
  const offset = Number(native.rip - BigInt(SNIPPET_CODE_BASE));
  const i = c.boundaries.indexOf(offset);
  if (i >= 0) return c.undefinedAt[i];
  // the fault is inside a branch body: take every flag undefined anywhere in the case
  return c.undefinedAt.reduce((a, b) => a | b, 0);
}

const hex64 = (v: bigint) => '0x' + BigInt.asUintN(64, v).toString(16).padStart(16, '0');
const hex128 = (v: bigint) => '0x' + BigInt.asUintN(128, v).toString(16).padStart(32, '0');

/** Returns the differences (empty when the results agree). */
export function compareCase(c: IsaCase, native: NativeResult, emu: SnippetResult): string[] {
  const diffs: string[] = [];
  if (native.harnessError) {
    diffs.push(`oracle: the native run failed (${native.harnessError}); the generator made a bad case`);
    return diffs;
  }
  if ((native.fault ?? 'none') !== (emu.fault ?? 'none')) {
    // runners may add a free-form `detail` (raw vector, undecodable bytes): show it when present
    const detail = (emu as { detail?: unknown }).detail;
    diffs.push(`fault: native ${native.fault ?? 'none'} (trap ${native.trapno}, error 0x${native.errorCode.toString(16)}, rip ${hex64(native.rip)}, address ${hex64(native.faultAddress)}), emulator ${emu.fault ?? 'none'}${detail ? ` (${String(detail)})` : ''}`);
  }
  for (let r = 0; r < 16; r++) {
    const a = native.final.gpr[r], b = emu.final.gpr[r];
    if (b === undefined || BigInt.asUintN(64, a) !== BigInt.asUintN(64, b)) {
      diffs.push(`${GPR64[r].padEnd(4)} native ${hex64(a)} emulator ${b === undefined ? 'missing' : hex64(b)}`);
    }
  }
  const undef = undefinedFlagsAtStop(c, native);
  const cmpMask = COMPARED & ~undef;
  const nf = native.final.rflags & cmpMask, ef = emu.final.rflags & cmpMask;
  if (nf !== ef) {
    diffs.push(`rflags native 0x${native.final.rflags.toString(16)} emulator 0x${emu.final.rflags.toString(16)}: differ in ${flagNames(nf ^ ef)} (compared ${flagNames(cmpMask)}; undefined ${flagNames(undef)})`);
  }
  if (c.sse) {
    if (!emu.final.xmm || emu.final.xmm.length !== 16) diffs.push('xmm: emulator returned no XMM registers for an SSE case');
    else {
      for (let r = 0; r < 16; r++) {
        if (BigInt.asUintN(128, native.final.xmm[r]) !== BigInt.asUintN(128, emu.final.xmm[r])) {
          diffs.push(`xmm${r}`.padEnd(5) + ` native ${hex128(native.final.xmm[r])} emulator ${hex128(emu.final.xmm[r])}`);
        }
      }
    }
  }
  const nd = expectedData(c, native);
  const ed = emu.data;
  if (!ed || ed.length !== nd.length) diffs.push(`data: emulator returned ${ed ? ed.length : 'no'} bytes, expected ${nd.length}`);
  else if (!Buffer.from(nd.buffer, nd.byteOffset, nd.length).equals(Buffer.from(ed.buffer, ed.byteOffset, ed.length))) {
    diffs.push(...dataDiffs(nd, ed));
  }
  return diffs;
}

// The native end state of the data window, rebuilt in one reused buffer (a fresh 64 KiB per
// case made comparison slower than running the cases).
const expected = new Uint8Array(SNIPPET_DATA_SIZE);
let expectedDirty: DataSegment[] = [];

function expectedData(c: IsaCase, native: NativeResult): Uint8Array {
  for (const s of expectedDirty) expected.fill(0, s.offset, s.offset + s.bytes.length);
  for (const s of c.segments) expected.set(s.bytes, s.offset);
  for (const d of native.diffs) expected.set(d.bytes, d.offset);
  expectedDirty = [...c.segments, ...native.diffs];
  return expected;
}

function dataDiffs(nd: Uint8Array, ed: Uint8Array): string[] {
  const out: string[] = [];
  let i = 0, ranges = 0;
  const CHUNK = 256;
  while (i < nd.length && ranges < 8) {
    // skip equal chunks natively; the byte loop only runs where something differs
    if ((i & (CHUNK - 1)) === 0 && i + CHUNK <= nd.length && Buffer.from(nd.buffer, nd.byteOffset + i, CHUNK).equals(Buffer.from(ed.buffer, ed.byteOffset + i, CHUNK))) {
      i += CHUNK;
      continue;
    }
    if (nd[i] === ed[i]) { i++; continue; }
    const start = i;
    while (i < nd.length && (nd[i] !== ed[i] || (i + 1 < nd.length && nd[i + 1] !== ed[i + 1])) && i - start < 32) i++;
    const what = start >= MXCSR_SLOT && start < MXCSR_SLOT + 4 ? ' (final MXCSR)' : '';
    out.push(`data+0x${start.toString(16)}${what}: native ${hexBytes(nd, start, i)} emulator ${hexBytes(ed, start, i)}`);
    ranges++;
  }
  if (ranges === 8) out.push('data: more differences not shown');
  return out;
}

function hexBytes(b: Uint8Array, from: number, to: number): string {
  return Buffer.from(b.subarray(from, to)).toString('hex');
}

/** objdump's rendering of the case's code (used for mismatches only). */
export function disassemble(code: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'isa-'));
  try {
    const file = join(dir, 'code.bin');
    writeFileSync(file, code);
    const out = execFileSync('objdump', ['-D', '-b', 'binary', '-mi386:x86-64', `--adjust-vma=0x${SNIPPET_CODE_BASE.toString(16)}`, file], { encoding: 'utf8' });
    return out.split('\n').filter((l) => /^\s+[0-9a-f]+:/.test(l)).join('\n');
  } catch (e) {
    return `(objdump unavailable: ${(e as Error).message.split('\n')[0]})`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Everything needed to rerun the case by hand (fuzz-cli --replay), as JSON. */
export function reproduction(c: IsaCase): string {
  return JSON.stringify({
    id: c.id, forms: c.forms, groups: c.groups, text: c.text,
    code: Buffer.from(c.code).toString('hex'),
    gpr: c.init.gpr.map(hex64),
    rflags: '0x' + c.init.rflags.toString(16),
    mxcsr: c.mxcsr === undefined ? undefined : '0x' + c.mxcsr.toString(16),
    xmm: c.init.xmm?.map(hex128),
    data: c.segments.map((s) => ({ offset: '0x' + s.offset.toString(16), hex: Buffer.from(s.bytes).toString('hex') })),
    boundaries: c.boundaries, undefinedAt: c.undefinedAt, sse: c.sse,
  }, null, 1);
}

/** Inverse of reproduction(). */
export function parseReproduction(json: string): IsaCase {
  const j = JSON.parse(json) as Record<string, unknown> & {
    id: string; forms: string[]; groups: string[]; text: string[]; code: string; gpr: string[]; rflags: string;
    mxcsr?: string; xmm?: string[]; data: { offset: string; hex: string }[]; boundaries: number[]; undefinedAt: number[]; sse: boolean;
  };
  const init: IsaCase['init'] = { gpr: j.gpr.map((g) => BigInt(g)), rflags: Number(j.rflags) };
  if (j.xmm) init.xmm = j.xmm.map((x) => BigInt(x));
  return {
    id: j.id, forms: j.forms, groups: j.groups, text: j.text, code: Uint8Array.from(Buffer.from(j.code, 'hex')),
    boundaries: j.boundaries, undefinedAt: j.undefinedAt, init, mxcsr: j.mxcsr === undefined ? undefined : Number(j.mxcsr),
    segments: j.data.map((d) => ({ offset: Number(d.offset), bytes: Uint8Array.from(Buffer.from(d.hex, 'hex')) })), sse: j.sse,
  };
}

/** Writes the case's reproduction under test/isa/build/mismatches/ and returns the path. */
export function saveReproduction(c: IsaCase): string {
  const dir = join(repoRoot(), 'test', 'isa', 'build', 'mismatches');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${c.id.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
  writeFileSync(file, reproduction(c));
  return file;
}

export function formatMismatch(c: IsaCase, diffs: string[], withDisassembly = true): string {
  const lines = [
    `case ${c.id} [${c.groups.join(', ')}]`,
    ...c.text.map((t, i) => `  ${i}: ${t}`),
  ];
  if (withDisassembly) lines.push('  objdump:', ...disassemble(c.code).split('\n').map((l) => '   ' + l));
  lines.push('  differences:', ...diffs.map((d) => '    ' + d));
  lines.push(`  initial: ${c.init.gpr.map((g, i) => `${GPR64[i]}=${hex64(g)}`).join(' ')} rflags=0x${c.init.rflags.toString(16)}${c.mxcsr !== undefined ? ` mxcsr=0x${c.mxcsr.toString(16)}` : ''}`);
  let where: string;
  try {
    where = saveReproduction(c);
  } catch (e) {
    where = `(not saved: ${(e as Error).message})`;
  }
  lines.push(`  replay: node dist/test/isa/fuzz-cli.js --replay ${where}`);
  return lines.join('\n');
}
