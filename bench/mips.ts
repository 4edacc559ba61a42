// `npm run bench:mips`: one CPU-bound workload (bench/mips/workload.c: integer mixing, pointer
// chasing, memory and string work), the same machine code run natively, under QEMU TCG and
// under parallax-emu in the same run. Each peer runs with 0 and N iterations; the difference
// removes start-up and boot. parallax-emu runs twice: its default tier (3, WebAssembly) and
// tier 2 (PARALLAX_JIT_TIER=2, the JavaScript block compiler). `--workload coremark` runs bench/mips/coremark.c (a CoreMark-class mix:
// linked lists, matrix, CRC, state machine) instead of bench/mips/workload.c. Instructions are counted by parallax-emu (exact retired count of
// the same code), so MIPS is comparable across peers. Checksums must agree.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commitLine, machineLine, median, spreadPct, table } from './lib/report.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const build = resolve(root, 'bench/mips/build');
const emu = resolve(root, 'dist/src/cli/parallax-emu.js');

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const wi = process.argv.indexOf('--workload');
const workload = wi > 0 ? process.argv[wi + 1] : 'mips';
if (workload !== 'mips' && workload !== 'coremark') throw new Error(`--workload must be mips or coremark, not ${workload}`);
// mips: ~200M instructions: long enough that QEMU's delta is not noise; coremark: ~0.8M per iteration
const iterations = arg('iterations', workload === 'mips' ? 1000 : 250);
const reps = arg('reps', 3);

interface Run { ms: number; checksum: string; insns?: number }

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { ms: number; out: string; err: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  return { ms, out: r.stdout, err: r.stderr };
}

function checksumOf(out: string, who: string): string {
  const m = /checksum=([0-9a-f]{16})/.exec(out);
  if (!m) throw new Error(`${who}: no checksum in output:\n${out.slice(-400)}`);
  return m[1];
}

const peers: Record<string, (n: number) => Run> = {
  native: (n) => {
    const r = timed(resolve(build, `${workload}-native`), [String(n)]);
    return { ms: r.ms, checksum: checksumOf(r.out, 'native') };
  },
  'qemu-tcg': (n) => {
    const r = timed('qemu-system-x86_64', ['-nographic', '-no-reboot', '-serial', 'stdio', '-monitor', 'none',
      '-display', 'none', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-m', '256',
      '-kernel', resolve(build, `${workload}-guest.elf`), '-append', String(n)]);
    return { ms: r.ms, checksum: checksumOf(r.out, 'qemu') };
  },
  'parallax-emu': (n) => parallax(n, {}),
  'parallax-emu tier 2': (n) => parallax(n, { PARALLAX_JIT_TIER: '2' }),
};
// --compile-worker: tier 3 with and without the machine's compile worker, in the same run
// (one core uses it by default only when the host has a CPU to spare: src/machine/compile-service.ts)
if (process.argv.includes('--compile-worker')) {
  peers['parallax-emu, compile worker'] = (n) => parallax(n, { PARALLAX_JIT_ASYNC: '1' });
  peers['parallax-emu, compiling on the core'] = (n) => parallax(n, { PARALLAX_JIT_ASYNC: '0' });
}

// --regions: tier 3 with inner loops inside a translation (PARALLAX_JIT_REGIONS=1, translate.ts) beside the default
if (process.argv.includes('--regions')) peers['parallax-emu, inner loops on'] = (n) => parallax(n, { PARALLAX_JIT_REGIONS: '1' });

function parallax(n: number, env: Record<string, string>): Run {
  const r = timed(process.execPath, [emu, '--kernel', resolve(build, `${workload}-guest.elf`), '--append', String(n),
    '--memory', '256M', '--cores', '1', '--stats'], { ...process.env, ...env });
  const m = /core 0: (\d+) instructions/.exec(r.err);
  if (!m) throw new Error(`parallax-emu: no statistics:\n${r.err.slice(-400)}`);
  const t3 = /core 0: tier 3 .*/.exec(r.err);
  if (t3 && n > 0) {
    const service = /^compile worker: .*/m.exec(r.err);
    tier3Lines.set(envLabel(env), t3[0] + (service ? `\n  ${service[0]}` : ''));
  }
  return { ms: r.ms, checksum: checksumOf(r.out, 'parallax-emu'), insns: Number(m[1]) };
}
/** the last tier-3 --stats lines of each configuration */
const tier3Lines = new Map<string, string>();
/** how a configuration is named beside its --stats line: the environment it adds, or 'default' */
function envLabel(env: Record<string, string>): string {
  const set = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return set.length ? set.join(' ') : 'default';
}

function main(): void {
  execFileSync('bash', [resolve(root, 'bench/mips/build.sh'), workload === 'mips' ? 'workload.c' : 'coremark.c'], { stdio: 'inherit' });
  const hasQemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0;
  console.log(`MIPS benchmark (${workload}): ${iterations} iterations, ${reps} repetitions, median; ${machineLine()}`);
  const results: Record<string, { deltaMs: number[]; checksum: string }> = {};
  let insns = 0;
  for (const [name, run] of Object.entries(peers)) {
    if (name === 'qemu-tcg' && !hasQemu) { console.log('qemu-system-x86_64 not found: QEMU column skipped'); continue; }
    run(1); // warm-up (page cache, JIT of the emulator itself is per process)
    const deltas: number[] = [];
    let checksum = '';
    for (let i = 0; i < reps; i++) {
      const empty = run(0);
      const full = run(iterations);
      deltas.push(full.ms - empty.ms);
      checksum = full.checksum;
      if (full.insns !== undefined && empty.insns !== undefined) insns = full.insns - empty.insns;
    }
    results[name] = { deltaMs: deltas, checksum };
  }
  const sums = new Set(Object.values(results).map((r) => r.checksum));
  if (sums.size !== 1) throw new Error(`checksums differ between peers: ${JSON.stringify(results)}`);
  const mips = (ms: number) => insns / (ms * 1000);
  const nat = median(results.native.deltaMs);
  const q = results['qemu-tcg'] ? median(results['qemu-tcg'].deltaMs) : NaN;
  const rows = Object.entries(results).map(([name, r]) => {
    const ms = median(r.deltaMs);
    return [name, ms, `${spreadPct(r.deltaMs).toFixed(0)}%`, mips(ms), ms / nat, Number.isNaN(q) ? 'n/a' : (ms / q).toFixed(2)];
  });
  console.log(`workload: ${insns} instructions (counted by parallax-emu), checksum ${[...sums][0]}`);
  console.log(table(['peer', 'ms', 'spread', 'MIPS', 'x native time', 'x QEMU time'], rows));
  for (const [env, line] of tier3Lines) console.log(`${env}: ${line}`);
  console.log(`host load (1/5/15 min): ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
  const out = resolve(root, 'bench/results');
  mkdirSync(out, { recursive: true });
  writeFileSync(resolve(out, workload === 'mips' ? 'mips.json' : `${workload}.json`),
    JSON.stringify({ machine: machineLine(), commit: commitLine(root), date: new Date().toISOString(), load: loadavg(), iterations, insns, results, tier3: Object.fromEntries(tier3Lines) }, null, 2));
}

main();
