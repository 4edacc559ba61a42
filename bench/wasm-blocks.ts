// `node dist/bench/wasm-blocks.js`: the hottest loops of the bench:mips workload run through
// tier 2 (generated JavaScript) and tier 3 (WebAssembly) in the same process, from the same
// captured state, with the same tiny dispatcher (no run loop, no events): nanoseconds per
// guest instruction per loop, and their ratio. This is the prototype measurement of
// docs/CPU.md ("Tier 3"): it isolates the code the two tiers generate.
//
// Usage: node dist/bench/wasm-blocks.js [--reps N]  (needs bench/mips/build: bash bench/mips/build.sh)

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { parseElf } from '../src/boot/elf.js';
import { Cpu } from '../src/cpu/cpu.js';
import { decode } from '../src/cpu/decoder.js';
import type { Insn } from '../src/cpu/insn.js';
import { compileTemplates } from '../src/cpu/jit/compile.js';
import { extendBlock } from '../src/cpu/jit/superblock.js';
import { compileWasm, wasmStats } from '../src/cpu/wasm/wasm-tier.js';
import { makeFlatCpu } from '../test/cpu/flat-core.js';
import { machineLine, median, table } from './lib/report.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const elfPath = resolve(root, 'bench/mips/build/mips-guest.elf64');
const STOP = 0x3ff000; // return address of the workload call: holds UD2
const STACK = 0x3f0000;

type Fn = (cpu: Cpu, left: number) => number;

function load(cpu: Cpu): number {
  const data = new Uint8Array(readFileSync(elfPath));
  const img = parseElf(data);
  for (const s of img.segments) {
    cpu.ram.fill(0, s.paddr, s.paddr + s.memSize);
    cpu.ram.set(data.subarray(s.fileOffset, s.fileOffset + s.fileSize), s.paddr);
  }
  cpu.ram[STOP] = 0x0f; cpu.ram[STOP + 1] = 0x0b;
  // the workload's address from the symbol table is not parsed here: it is the first function of workload.o
  return findWorkload(data);
}

/** address of `workload` from the ELF64 symbol table */
function findWorkload(data: Uint8Array): number {
  const dv = new DataView(data.buffer, data.byteOffset);
  const shoff = Number(dv.getBigUint64(0x28, true)), shentsize = dv.getUint16(0x3a, true), shnum = dv.getUint16(0x3c, true);
  for (let k = 0; k < shnum; k++) {
    const sh = shoff + k * shentsize;
    if (dv.getUint32(sh + 4, true) !== 2) continue; // SHT_SYMTAB
    const off = Number(dv.getBigUint64(sh + 0x18, true)), size = Number(dv.getBigUint64(sh + 0x20, true));
    const strSec = shoff + dv.getUint32(sh + 0x28, true) * shentsize;
    const strOff = Number(dv.getBigUint64(strSec + 0x18, true));
    for (let p = off; p < off + size; p += 24) {
      const nameAt = strOff + dv.getUint32(p, true);
      let end = nameAt; while (data[end]) end++;
      if (new TextDecoder().decode(data.subarray(nameAt, end)) === 'workload') return Number(dv.getBigUint64(p + 8, true));
    }
  }
  throw new Error('workload symbol not found');
}

function decodeBlock(cpu: Cpu, rip: number): Insn[] {
  const ops: Insn[] = [];
  let cur = rip;
  for (;;) {
    const ins = decode(cur, { mode64: true, def32: true, csBase: 0 }, (lin) => cpu.ram[lin], Cpu.makeUd);
    ops.push(ins);
    cur = ins.nextRip;
    if (ins.ends || ops.length >= 64 || Math.floor(cur / 4096) !== Math.floor(rip / 4096)) break;
  }
  return ops;
}

interface Entry { fn: Fn; endRip: number; wasm: boolean }

function compile(cpu: Cpu, rip: number, tier: number): Entry {
  const ops = decodeBlock(cpu, rip);
  const page = Math.floor(rip / 4096);
  const sb = extendBlock(ops, 2, cpu.ram, page * 4096, false);
  const pages = { page, gen: cpu.shared.codeGen[page], page2: -1, gen2: 0 };
  const endRip = ops[ops.length - 1].nextRip;
  if (tier === 3) {
    const w = compileWasm(sb.ops, sb.roles, 2, pages, cpu);
    if (w) return { fn: w.fn, endRip, wasm: true };
  }
  return { fn: compileTemplates(sb.ops, 2, pages, sb.roles), endRip, wasm: false };
}

/** run from cpu.rip until `until(rip)`; returns instructions retired */
function dispatch(cpu: Cpu, cache: Map<number, Entry>, tier: number, until: (rip: number) => boolean): number {
  let n = 0;
  while (!until(cpu.rip)) {
    let e = cache.get(cpu.rip);
    if (!e) { e = compile(cpu, cpu.rip, tier); cache.set(cpu.rip, e); }
    cpu.rip = e.endRip;
    n += e.fn(cpu, 1e9);
  }
  return n;
}

interface Loop { name: string; start: number; end: number }

function main(): void {
  const reps = Number(process.argv[process.argv.indexOf('--reps') + 1]) || 5;
  const cpu = makeFlatCpu(64, 8 << 20);
  cpu.clockCheckAt = Infinity;
  const w = load(cpu);
  const loops: Loop[] = [
    // offsets in workload (objdump of bench/mips/build/mips-guest.elf64)
    { name: 'integer_mix (64-bit mul, shifts, branch)', start: w + 0x198, end: w + 0x1dc },
    { name: 'chase (pointer chasing)', start: w + 0x1f0, end: w + 0x1ff },
    { name: 'memory_work copy (8/16-bit regs)', start: w + 0x220, end: w + 0x285 },
    { name: 'memory_work sum', start: w + 0x298, end: w + 0x2af },
    { name: 'strcmp calls', start: w + 0x328, end: w + 0x36c },
    { name: 'char count (setcc)', start: w + 0x398, end: w + 0x3ad },
  ];
  // capture the state at each loop's first arrival (tier 2 gets there)
  const base = new Map<number, Entry>();
  cpu.lo[4] = STACK; cpu.hi[4] = 0;
  cpu.lo[7] = 1; // iterations
  cpu.lo[4] -= 8; cpu.ram.set([STOP & 255, (STOP >> 8) & 255, STOP >> 16, 0, 0, 0, 0, 0], cpu.lo[4]);
  cpu.rip = w;
  const states = new Map<string, { lo: Int32Array; hi: Int32Array; rip: number }>();
  for (const l of loops) {
    dispatch(cpu, base, 2, (rip) => rip === l.start || rip === STOP);
    if (cpu.rip !== l.start) throw new Error(`never reached ${l.name}`);
    states.set(l.name, { lo: cpu.lo.slice(), hi: cpu.hi.slice(), rip: cpu.rip });
  }
  const ram = cpu.ram.slice();
  console.log(`tier 2 vs tier 3 on the hot loops of bench:mips; ${reps} repetitions, median; ${machineLine()}; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const rows: (string | number)[][] = [];
  for (const l of loops) {
    if (process.env.WASM_BLOCKS_ONLY && !l.name.startsWith(process.env.WASM_BLOCKS_ONLY)) continue;
    const s = states.get(l.name)!;
    const res: Record<number, number[]> = { 2: [], 3: [] };
    let insns = 0, allWasm = true;
    const caches: Record<number, Map<number, Entry>> = { 2: new Map(), 3: new Map() };
    const inLoop = (rip: number): boolean => rip < l.start || rip >= l.end;
    for (let r = 0; r < reps + 1; r++) {
      for (const tier of [2, 3]) {
        cpu.ram.set(ram);
        cpu.lo.set(s.lo); cpu.hi.set(s.hi); cpu.rip = s.rip; cpu.lfOp = 0; cpu.flushTlb(false);
        let n = 0;
        const t0 = process.cpuUsage();
        for (let k = 0; k < 20; k++) {
          cpu.lo.set(s.lo); cpu.hi.set(s.hi); cpu.rip = s.rip;
          n += dispatch(cpu, caches[tier], tier, inLoop);
        }
        const u = process.cpuUsage(t0);
        const ns = (u.user + u.system) * 1000; // CPU time of this process: robust against a loaded host
        if (r > 0) res[tier].push(ns / n); // the first repetition compiles and warms up
        insns = n;
        if (tier === 3) for (const e of caches[3].values()) allWasm &&= e.wasm;
      }
    }
    const t2 = median(res[2]), t3 = median(res[3]);
    rows.push([l.name, insns, t2.toFixed(2), t3.toFixed(2), (t2 / t3).toFixed(2) + 'x', allWasm ? 'all' : 'partly']);
  }
  console.log(table(['loop', 'insns/run', 'tier 2 ns/insn', 'tier 3 ns/insn', 'tier 2 / tier 3', 'wasm blocks'], rows));
  console.log(`translation: ${wasmStats.translated} blocks, ${wasmStats.declined} declined (${wasmStats.lastDecline}), ` +
    `${(wasmStats.translateMs / Math.max(1, wasmStats.translated)).toFixed(3)} ms to translate + ${(wasmStats.compileMs / Math.max(1, wasmStats.translated)).toFixed(3)} ms to compile per block, ${Math.round(wasmStats.bytes / Math.max(1, wasmStats.translated))} bytes each`);
}

main();
