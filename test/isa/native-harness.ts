// Builds and drives the native oracle (test/isa/native/harness.c): one process runs a whole
// batch of cases on the host CPU; the wire format is described at the top of harness.c.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SNIPPET_DATA_SIZE, type SnippetFault, type SnippetState } from './snippet-api.js';
import { repoRoot } from '../../src/orchestrator/launcher.js';

export interface DataSegment {
  offset: number;
  bytes: Uint8Array;
}

/** A case as the native side needs it: the data window is zero outside the segments. */
export interface NativeCase {
  code: Uint8Array;
  init: SnippetState;
  segments: DataSegment[];
  mxcsr?: number;
}

export interface NativeResult {
  final: SnippetState & { xmm: bigint[] };
  mxcsr: number;
  /** ranges of the data window that differ from the initial image */
  diffs: DataSegment[];
  fault?: SnippetFault;
  /** the run did not end at the final int3 and the host's report maps to no SnippetFault */
  harnessError?: string;
  signal: number;
  trapno: number;
  errorCode: number;
  faultAddress: bigint;
  /** RIP at the fault, or just past the final int3 */
  rip: bigint;
}

export { repoRoot };

let builtPath: string | undefined;

/** Compiles the harness with gcc -O2 into test/isa/build/ when missing or stale. */
export function buildHarness(): string {
  if (builtPath) return builtPath;
  const root = repoRoot();
  const src = join(root, 'test', 'isa', 'native', 'harness.c');
  const outDir = join(root, 'test', 'isa', 'build');
  const exe = join(outDir, 'harness');
  mkdirSync(outDir, { recursive: true });
  if (!existsSync(exe) || statSync(exe).mtimeMs < statSync(src).mtimeMs) {
    try {
      execFileSync('gcc', ['-O2', '-Wall', '-o', exe, src], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      throw new Error(`isa: compiling the native harness failed: ${err.stderr?.toString() ?? err.message}`);
    }
  }
  builtPath = exe;
  return exe;
}

const SIGILL = 4, SIGTRAP = 5, SIG_TIMEOUT = 0xff;

/** Maps the host's signal + trap number to the architectural fault the CPU raised. */
export function faultFromSignal(signal: number, trapno: number): SnippetFault | string | undefined {
  if (signal === 0) return undefined;
  if (signal === SIG_TIMEOUT) return 'native timeout (snippet never reached int3)';
  switch (trapno) {
    case 0: return 'DE';
    case 5: return 'BR';
    case 6: return 'UD';
    case 12: return 'SS';
    case 13: return 'GP';
    case 14: return 'PF';
    case 16: return 'MF';
    case 17: return 'AC';
    case 19: return 'XM';
  }
  if (signal === SIGILL) return 'UD';
  return `unexpected host signal ${signal} (trap ${trapno})${signal === SIGTRAP ? ': a stray breakpoint or single-step' : ''}`;
}

const CASE_FAULTS = new Set(['DE', 'UD', 'GP', 'PF', 'SS', 'BR', 'AC', 'XM', 'MF']);

function encode(cases: NativeCase[]): Buffer {
  let size = 4;
  for (const c of cases) {
    size += 4 + 136 + (c.init.xmm ? 256 : 0) + (c.mxcsr !== undefined ? 4 : 0) + c.code.length;
    for (const s of c.segments) size += 8 + s.bytes.length;
  }
  const buf = Buffer.alloc(size);
  buf.write('ISA1', 0, 'latin1');
  let p = 4;
  for (const c of cases) {
    if (c.code.length === 0 || c.code.length > 0xffff) throw new Error('isa: code length must be 1..65535');
    if (c.segments.length > 255) throw new Error('isa: at most 255 data segments per case');
    if (c.init.gpr.length !== 16) throw new Error('isa: init.gpr must have 16 entries');
    buf.writeUInt16LE(c.code.length, p);
    buf[p + 2] = (c.init.xmm ? 1 : 0) | (c.mxcsr !== undefined ? 2 : 0);
    buf[p + 3] = c.segments.length;
    p += 4;
    for (const g of c.init.gpr) { buf.writeBigUInt64LE(BigInt.asUintN(64, g), p); p += 8; }
    buf.writeBigUInt64LE(BigInt(c.init.rflags >>> 0), p); p += 8;
    if (c.init.xmm) {
      if (c.init.xmm.length !== 16) throw new Error('isa: init.xmm must have 16 entries');
      for (const x of c.init.xmm) {
        const v = BigInt.asUintN(128, x);
        buf.writeBigUInt64LE(v & 0xffff_ffff_ffff_ffffn, p);
        buf.writeBigUInt64LE(v >> 64n, p + 8);
        p += 16;
      }
    }
    if (c.mxcsr !== undefined) { buf.writeUInt32LE(c.mxcsr >>> 0, p); p += 4; }
    buf.set(c.code, p); p += c.code.length;
    for (const s of c.segments) {
      if (s.offset < 0 || s.offset + s.bytes.length > SNIPPET_DATA_SIZE) throw new Error('isa: data segment outside the window');
      buf.writeUInt32LE(s.offset, p);
      buf.writeUInt32LE(s.bytes.length, p + 4);
      buf.set(s.bytes, p + 8);
      p += 8 + s.bytes.length;
    }
  }
  return buf;
}

function decode(out: Buffer, count: number): NativeResult[] {
  if (out.length < 4 || out.toString('latin1', 0, 4) !== 'ISR1') throw new Error('isa: native harness output is malformed');
  const results: NativeResult[] = [];
  let p = 4;
  for (let i = 0; i < count; i++) {
    if (p + 420 > out.length) throw new Error(`isa: native harness output ends early (case ${i} of ${count})`);
    const signal = out[p], trapno = out[p + 1], ndiff = out.readUInt16LE(p + 2);
    const errorCode = out.readUInt32LE(p + 4);
    const faultAddress = out.readBigUInt64LE(p + 8);
    const rip = out.readBigUInt64LE(p + 16);
    p += 24;
    const gpr: bigint[] = [];
    for (let r = 0; r < 16; r++) { gpr.push(out.readBigUInt64LE(p)); p += 8; }
    const rflags = Number(out.readBigUInt64LE(p) & 0xffff_ffffn); p += 8;
    const xmm: bigint[] = [];
    for (let r = 0; r < 16; r++) { xmm.push(out.readBigUInt64LE(p) | (out.readBigUInt64LE(p + 8) << 64n)); p += 16; }
    const mxcsr = out.readUInt32LE(p); p += 4;
    const diffs: DataSegment[] = [];
    for (let d = 0; d < ndiff; d++) {
      const offset = out.readUInt32LE(p), len = out.readUInt32LE(p + 4);
      diffs.push({ offset, bytes: new Uint8Array(out.subarray(p + 8, p + 8 + len)) });
      p += 8 + len;
    }
    const mapped = faultFromSignal(signal, trapno);
    const r: NativeResult = { final: { gpr, rflags, xmm }, mxcsr, diffs, signal, trapno, errorCode, faultAddress, rip };
    if (mapped !== undefined) {
      if (CASE_FAULTS.has(mapped)) r.fault = mapped as SnippetFault;
      else r.harnessError = mapped;
    }
    results.push(r);
  }
  if (p !== out.length) throw new Error('isa: native harness output has trailing bytes');
  return results;
}

/**
 * Runs the cases natively in a harness process without blocking this thread, so the caller can
 * run the emulator on the same batch meanwhile (the two then use both host cores).
 */
export function runNativeAsync(cases: NativeCase[]): Promise<NativeResult[]> {
  if (cases.length === 0) return Promise.resolve([]);
  const exe = buildHarness();
  const input = encode(cases);
  return new Promise((resolve, reject) => {
    const child = spawn(exe, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [], err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`isa: native harness did not run: ${e.message}`)); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`isa: native harness exited with ${code ?? signal}: ${Buffer.concat(err).toString()}`));
        return;
      }
      try {
        resolve(decode(Buffer.concat(out), cases.length));
      } catch (e) {
        reject(e);
      }
    });
    child.stdin.on('error', () => { /* reported through 'close' */ });
    child.stdin.end(input);
  });
}

/** Runs the cases natively, in one harness process per call. */
export function runNative(cases: NativeCase[]): NativeResult[] {
  if (cases.length === 0) return [];
  const exe = buildHarness();
  const res = spawnSync(exe, [], { input: encode(cases), maxBuffer: 1 << 30, timeout: 120_000 });
  if (res.error) throw new Error(`isa: native harness did not run: ${res.error.message}`);
  if (res.status !== 0) {
    throw new Error(`isa: native harness exited with ${res.status ?? res.signal}: ${res.stderr.toString()}`);
  }
  return decode(res.stdout, cases.length);
}


/** Data segments covering the non-zero parts of a full data window (for cases given as SnippetCase). */
export function segmentsOf(data: Uint8Array): DataSegment[] {
  const segs: DataSegment[] = [];
  if (data.byteOffset & 3) data = data.slice();
  const words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >>> 2);
  let i = 0;
  while (i < words.length) {
    if (words[i] === 0) { i++; continue; }
    let j = i + 1;
    while (j < words.length && (words[j] !== 0 || (j + 1 < words.length && words[j + 1] !== 0))) j++;
    segs.push({ offset: i * 4, bytes: data.slice(i * 4, j * 4) });
    i = j;
  }
  return segs;
}
