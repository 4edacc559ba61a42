// Smoke tests: every benchmark script runs end to end from dist/ with tiny parameters and
// writes what it promises. Timings are never judged here; only that figures came out.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dist = resolve('dist/bench');
const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
const qemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0;
const peers = qemu ? 'parallax-emu,qemu' : 'parallax-emu';

beforeAll(() => {
  if (!existsSync(join(dist, 'signaling.js'))) throw new Error('dist/bench is missing: run npm run build first');
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

function run(script: string, args: string[], timeout = 90_000) {
  const r = spawnSync(process.execPath, [join(dist, script), ...args], { encoding: 'utf8', timeout });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** bench/<name>.js with `args`, writing into a folder of its own: it must exit 0; its output, folder and <name>.json */
function runWriting(name: string, args: string[], timeout?: number) {
  const dir = join(out, name);
  const r = run(`${name}.js`, [...args, '--out', dir], timeout);
  expect(r.status, r.out).toBe(0);
  return { out: r.out, dir, json: JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) };
}

/** every table a benchmark prints fits 100 columns (its dashed rule under the header is the table's width) */
function expectTablesFit(text: string): void {
  const rules = text.split('\n').filter((l) => /^-+( {2}-+)+$/.test(l));
  expect(rules.length).toBeGreaterThan(0);
  for (const r of rules) expect(r.length, `a table ${r.length} columns wide`).toBeLessThanOrEqual(100);
}

/** bench/<script> with `args` must refuse to run, saying `message` */
function expectRefusal(script: string, args: string[], message: string): void {
  const r = run(script, args);
  expect(r.status).not.toBe(0);
  expect(r.out).toContain(message);
}

describe('bench:signaling', () => {
  it('measures the three paths, their floors and peers, prints goals, writes JSON/markdown/SVG', () => {
    const { out: text, dir, json: j } = runWriting('signaling', ['--short', '--reps', '1', '--n', '8', '--warm', '2', '--peers', peers]);
    expect(text).toContain('DIME->DIME, two cores of one server');
    expect(text).toContain('goals (information only)');
    expect(j.node).toBe(process.version);
    for (const f of ['atomics', 'socketHub', 'socketDirect']) expect(j.floors[f].median).toBeGreaterThan(0);
    for (const p of ['intra', 'cross', 'orch']) {
      expect(j.paths[p]['parallax-emu'].wall.n).toBe(8);
      if (qemu) expect(j.paths[p].qemu.wall.n).toBe(8);
      expect(typeof j.goals[p]['parallax-emu'].withinFloor3x).toBe('boolean');
    }
    expect(j.paths.intra['parallax-emu'].medianTicks).toBeGreaterThan(0);
    expect(j.clocks['parallax-emu'].ticksPerUs).toBeGreaterThan(0);
    const svg = readFileSync(join(dir, 'signaling.svg'), 'utf8');
    expect(svg).toMatch(/^<svg [^]*<\/svg>\n$/);
    expect(svg).not.toMatch(/NaN/);
    expect(readFileSync(join(dir, 'signaling.md'), 'utf8')).toContain('| measured | median µs |');
    expectTablesFit(text);
  });

  it('refuses an unknown peer with a clear message', () => {
    expectRefusal('signaling.js', ['--short', '--peers', 'bochs'], "unknown peer 'bochs'");
  });
});

describe('bench:cores', () => {
  it('boot time, RSS and the collective barrier for 1 and 2 cores', () => {
    const { out: text, json: j } = runWriting('cores', ['--cores', '1,2', '--reps', '1', '--n', '4', '--warm', '1', '--peers', peers]);
    for (const pt of j.peers['parallax-emu']) {
      expect(pt.bootMs[0]).toBeGreaterThan(0);
      expect(pt.rssMiB[0]).toBeGreaterThan(0);
      expect(pt.collective.n).toBe(4);
    }
    expect(Number.isFinite(j.fits['parallax-emu'].rssPerCoreMiB)).toBe(true);
    expect(text).toContain('per added core');
    expectTablesFit(text);
  });

  it('refuses a core count of 0', () => {
    expectRefusal('cores.js', ['--cores', '0'], 'not a core count');
  });
});

describe('bench:collectives', () => {
  it('tree barrier, broadcast and the point-to-point baseline on 1..4 DIMEs over 1, 2 and 4 servers', () => {
    const { out: text, dir, json: j } = runWriting('collectives', ['--max', '4', '--n', '2', '--warm', '0', '--peers', peers], 240_000);
    expect(text).toContain('host load per CPU');
    expectTablesFit(text);
    const pts = j.peers['parallax-emu'];
    expect(pts.map((p: { servers: number; n: number }) => `${p.servers}x${p.n}`)).toEqual(['1x1', '1x2', '1x4', '2x2', '4x4']);
    for (const p of pts) for (const k of ['tree barrier', 'broadcast 1 KiB', 'p2p barrier', 'one PING']) expect(p.medians[k]).toBeGreaterThan(0);
    expect(Number.isFinite(j.fits['parallax-emu']['1']['tree barrier'].b)).toBe(true);
    expect(readFileSync(join(dir, 'collectives.md'), 'utf8')).toContain('STORM GigE');
  }, 300_000);

  it('refuses a layout it cannot build', () => {
    expectRefusal('collectives.js', ['--max', '5'], 'is not 4, 8, 16, 32 or 64');
  });
});

describe('bench:throughput', () => {
  it('aggregate cpuburn rounds per second with 1 and 2 cores', () => {
    const { out: text, json: j } = runWriting('throughput', ['--reps', '1', '--ms', '150', '--peers', peers]);
    expectTablesFit(text);
    expect(j.roundsPerS['parallax-emu']['1'][0]).toBeGreaterThan(0);
    expect(j.roundsPerS['parallax-emu']['2'][0]).toBeGreaterThan(0);
  });
});

describe('device access cost', () => {
  it('times each kind of access in the core, via the I/O thread and on QEMU, and writes JSON', () => {
    const { out: text, json: j } = runWriting('device-access', ['--reps', '1', '--n', '2000', '--n-slow', '50']);
    expect(text).toContain('e1000 ICR read (MMIO)');
    expectTablesFit(text);
    for (const peer of ['parallax-emu', 'parallax-emu, via I/O thread', ...(qemu ? ['QEMU TCG'] : [])]) {
      expect(Object.values(j.ns[peer]).every((v) => Number.isFinite(v as number)), peer).toBe(true);
    }
  });
});

describe('npm run bench', () => {
  it('runs the sections asked for and writes the summary', () => {
    // every section skipped (snapshot too: it boots 64-core machines, minutes on a loaded CI host)
    const r = run('all.js', ['--short', '--skip', 'mips,signaling,cores,throughput,snapshot', '--out', join(out, 'all')]);
    expect(r.status, r.out).toBe(0);
    expect(readFileSync(join(out, 'all', 'summary.md'), 'utf8')).toContain('# parallax-emu benchmark results');
  });
});
