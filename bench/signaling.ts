// `npm run bench:signaling`: round trip of a signaling frame on the three paths a Parallax
// network has, each beside its floor and beside the same DIME image under QEMU TCG, all in
// one run:
//   intra   DIME -> DIME on two cores of one emulated server (switched inside the server)
//   cross   DIME -> DIME across two emulated servers on the virtual LAN (the hub)
//   orch    orchestrator -> DIME -> orchestrator (PING, host timed)
// Floors: Atomics.wait/notify ping-pong between two workers (intra); Node unix-socket
// ping-pong between two processes, through the same hub (cross, orch), and direct as a
// reference. Goals (printed, never enforced): within 3x of the floor, faster than QEMU.
//
//   --short           CI form: small samples, prints the table, writes nothing unless --out
//   --reps R --n N --warm W --size BYTES    repetitions, measured round trips, the least
//                     warm-up round trips (then on until the round trip settles: three windows
//                     of 100 in a row without a stall and with medians within 15%, at most
//                     2000; the same rule for every peer)
//   --settle 0        warm up exactly W round trips (the old rule)
//   --peers parallax-emu,qemu               which machines to run
//   --icount [SET]    deterministic time (default SET shift=6): every path's round trip is
//                     counted in guest time (instructions x 2^shift ns), the same on every run
//                     of the same commit whatever the host load; peers default to parallax-emu
//   --compare FILE    (with --icount) compare the deterministic figures with those recorded in
//                     FILE and report changes beyond --threshold PCT (default 2); never fails
//   --record FILE     (with --icount) write the deterministic figures to FILE
//   --emu-stats       print parallax-emu's per-core --stats (device accesses, wake-ups) per server
//   --out DIR         write signaling.json / signaling.md / signaling.svg there
//                     (full form default: bench/results)
// Exit status: 0 when every path was measured (goals never change it), 1 when one could not be.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicsPingPong } from './floors/atomics.js';
import { FLOOR_FRAME_BYTES, socketPingPongDirect, socketPingPongViaHub } from './floors/socket.js';
import { dimeToDime, guestClock, joinLan, joinVirtualLan, orchestratorToDime, pingpongService, type DimeRoundTrips, type GuestClock } from './lib/dime-paths.js';
import { DimeServer, qemuAvailable, startHub, type MachineKind } from './lib/machines.js';
import { benchMain, jsonText, writeResultFiles } from './lib/bench-main.js';
import { repoRoot } from './lib/paths.js';
import { argFlag, argNumber, argString, commitLine, loadPerCpu, machineLine, markdownTable, summarize, table, type Summary } from './lib/report.js';
import { latencyChart, type ChartBar, type ChartGroup } from './lib/svg-chart.js';
import type { Orchestrator } from '../src/orchestrator/orchestrator.js';
import type { VirtualTimeClient } from '../src/orchestrator/virtual-time-client.js';

export type PathId = 'intra' | 'cross' | 'orch';

export const PATHS: Record<PathId, { title: string; floor: string }> = {
  intra: { title: 'DIME->DIME, two cores of one server', floor: 'atomics' },
  cross: { title: 'DIME->DIME, two servers on the LAN', floor: 'socketHub' },
  orch: { title: 'orchestrator->DIME->orchestrator', floor: 'socketHub' },
};

export const FLOOR_NAMES: Record<string, string> = {
  atomics: 'floor: Atomics, 2 workers',
  socketHub: 'floor: socket via the hub',
  socketDirect: 'reference: socket, direct',
};

export const PEER_NAMES: Record<MachineKind, string> = { 'parallax-emu': 'parallax-emu', qemu: 'QEMU TCG' };

export interface PeerResult {
  wall: Summary;
  /** guest-clock µs (TSC), DIME paths only */
  guest?: Summary;
  /** median TSC ticks per round trip, DIME paths only */
  medianTicks?: number;
  lost: number;
  stale: number;
  /** warm-up round trips each repetition took, and how many of them settled */
  warmed?: number[];
  settled?: number;
  error?: string;
}

export interface SignalingResult {
  benchmark: 'signaling';
  machine: string;
  node: string;
  commit: string;
  date: string;
  mode: 'short' | 'full';
  /** -icount setting when the run was in deterministic time */
  icount?: string;
  params: { reps: number; n: number; warm: number; settle: boolean; size: number; floorFrameBytes: number };
  hostLoadPerCpu: { before: number; after: number };
  floors: Record<string, Summary>;
  paths: Record<PathId, Partial<Record<MachineKind, PeerResult>>>;
  goals: Record<PathId, Partial<Record<MachineKind, { xFloor: number; withinFloor3x: boolean; xQemu: number | null; fasterThanQemu: boolean | null }>>>;
  bootMs: Partial<Record<MachineKind, number[]>>;
  /** each machine's TSC rate as the host measured it, and its own clock's error */
  clocks: Partial<Record<MachineKind, GuestClock>>;
  elapsedS: number;
  errors: string[];
}

const SERVER_MACS: Record<MachineKind, { a: string; b: string }> = {
  'parallax-emu': { a: '52:54:00:be:00:0a', b: '52:54:00:be:00:0b' },
  qemu: { a: '52:54:00:be:01:0a', b: '52:54:00:be:01:0b' },
};

export interface SignalingOptions {
  short: boolean;
  reps: number;
  n: number;
  warm: number;
  /** warm up until the round trip settles (after at least `warm`), for every peer alike */
  settle: boolean;
  size: number;
  peers: MachineKind[];
  /** -icount setting (deterministic guest time), or undefined for real time */
  icount?: string;
  /** print parallax-emu's --stats lines of each server */
  emuStats?: boolean;
  log?: (line: string) => void;
}

/** `--icount` alone means this setting */
export const DEFAULT_BENCH_ICOUNT = 'shift=6';

export function signalingOptionsFromArgs(): SignalingOptions {
  const short = argFlag('short');
  const ic = argString('icount');
  const icount = argFlag('icount') ? (ic === undefined || ic.startsWith('--') ? DEFAULT_BENCH_ICOUNT : ic) : undefined;
  const peers = (argString('peers') ?? (icount ? 'parallax-emu' : 'parallax-emu,qemu')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of peers) if (p !== 'parallax-emu' && p !== 'qemu') throw new Error(`--peers: unknown peer '${p}' (parallax-emu, qemu)`);
  if (icount && peers.includes('qemu')) throw new Error('--icount: QEMU cannot join the virtual time of the hub (its clock is the host\'s); give --peers parallax-emu');
  return {
    short,
    reps: Math.max(1, Math.round(argNumber('reps', short ? 3 : 5))),
    n: Math.max(1, Math.round(argNumber('n', short ? 150 : 1000))),
    warm: Math.round(argNumber('warm', short ? 20 : 100)),
    settle: argNumber('settle', 1) !== 0,
    size: Math.round(argNumber('size', 16)),
    peers: peers as MachineKind[],
    icount,
    emuStats: argFlag('emu-stats'),
  };
}

async function measurePeer(kind: MachineKind, o: SignalingOptions, hubPath: string, orch: Orchestrator, r: SignalingResult, vclock?: VirtualTimeClient): Promise<void> {
  const log = o.log ?? console.log;
  const macs = SERVER_MACS[kind];
  const emuStats = o.emuStats && kind === 'parallax-emu';
  const a = new DimeServer({ kind, cores: 2, mac: macs.a, hubPath, key: 'parallax-bench-key', icount: o.icount, emuStats });
  const b = new DimeServer({ kind, cores: 1, mac: macs.b, hubPath, key: 'parallax-bench-key', icount: o.icount, emuStats });
  const raw: Record<PathId, { wall: number[][]; guest: number[][]; ticks: number[]; lost: number; stale: number; warmed: number[]; settled: number }> = {
    intra: { wall: [], guest: [], ticks: [], lost: 0, stale: 0, warmed: [], settled: 0 },
    cross: { wall: [], guest: [], ticks: [], lost: 0, stale: 0, warmed: [], settled: 0 },
    orch: { wall: [], guest: [], ticks: [], lost: 0, stale: 0, warmed: [], settled: 0 },
  };
  const failed: Partial<Record<PathId, string>> = {};
  try {
    // -icount boots take longer: the kernel calibrates its TSC by polling the HPET, one device
    // exit per poll, and guest time per poll is only a few instructions
    await Promise.all([a.ready(o.icount ? 400_000 : undefined), b.ready(o.icount ? 400_000 : undefined)]);
    r.bootMs[kind] = [a.bootMs, b.bootMs];
    log(`${PEER_NAMES[kind]}: servers up (${(a.bootMs / 1000).toFixed(1)} s, ${(b.bootMs / 1000).toFixed(1)} s)`);
    const a0 = { server: macs.a, core: 0 }, a1 = { server: macs.a, core: 1 }, b0 = { server: macs.b, core: 0 };
    const addDime = (id: PathId, x: DimeRoundTrips) => {
      raw[id].wall.push(x.wallUs);
      raw[id].guest.push(x.guestUs);
      raw[id].ticks.push(...x.ticks);
      raw[id].lost += x.lost;
      raw[id].stale += x.stale;
      raw[id].warmed.push(x.warmed);
      if (x.settled) raw[id].settled++;
    };
    const timeoutMs = Math.max(60_000, o.n * 100);
    // -icount: the TSC is guest time (1 tick = 1 guest ns), there is no host rate to learn
    let ticksPerUs = 1000;
    if (!o.icount) {
      const clock = await guestClock(orch, a.w, a0, o.short ? 8 : 21, 100);
      r.clocks[kind] = clock;
      ticksPerUs = clock.ticksPerUs;
    }
    for (let rep = 0; rep < o.reps; rep++) {
      // interleave the paths within each repetition so slow drift of the host hits all alike
      const steps: Array<[PathId, () => Promise<void>]> = [
        ['intra', async () => addDime('intra', await dimeToDime(orch, a.w, a0, a1, { n: o.n, warm: o.warm, size: o.size, timeoutMs, ticksPerUs, settle: o.settle }))],
        ['cross', async () => addDime('cross', await dimeToDime(orch, a.w, a0, b0, { n: o.n, warm: o.warm, size: o.size, timeoutMs, ticksPerUs, settle: o.settle }))],
        ['orch', async () => {
          const rt = await orchestratorToDime(orch, a0, o.n, o.warm, vclock ? () => vclock.now() : undefined, o.settle);
          raw.orch.wall.push([...rt]);
          raw.orch.warmed.push(rt.warmed ?? o.warm);
          if (rt.settled) raw.orch.settled++;
          // in the virtual time the orchestrator's clock is guest time: 1 ns = 1 TSC tick
          if (vclock) { raw.orch.guest.push(rt); raw.orch.ticks.push(...rt.map((u) => Math.round(u * 1000))); }
        }],
      ];
      for (const [id, step] of steps) {
        if (failed[id]) continue;
        try {
          await step();
        } catch (e) {
          failed[id] = (e as Error).message.split('\n')[0];
          r.errors.push(`${PEER_NAMES[kind]} ${id}: ${failed[id]}`);
          log(`${PEER_NAMES[kind]} ${id}: FAILED: ${failed[id]}`);
        }
      }
      log(`${PEER_NAMES[kind]}: repetition ${rep + 1}/${o.reps} done`);
    }
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    r.errors.push(`${PEER_NAMES[kind]}: ${msg}`);
    log(`${PEER_NAMES[kind]}: FAILED: ${msg}`);
    for (const id of Object.keys(raw) as PathId[]) failed[id] ??= msg;
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    if (emuStats) for (const [name, s] of [['server A (2 cores)', a], ['server B (1 core)', b]] as const) for (const l of s.statsLines()) log(`${name}: ${l}`);
  }
  for (const id of Object.keys(raw) as PathId[]) {
    const x = raw[id];
    const sortedTicks = [...x.ticks].sort((p, q) => p - q);
    r.paths[id][kind] = {
      wall: summarize(x.wall),
      guest: x.guest.length ? summarize(x.guest) : undefined,
      medianTicks: !sortedTicks.length ? undefined : sortedTicks[sortedTicks.length >> 1],
      lost: x.lost,
      stale: x.stale,
      warmed: x.warmed,
      settled: x.settled,
      error: failed[id],
    };
  }
}

export async function runSignaling(o: SignalingOptions): Promise<SignalingResult> {
  const log = o.log ?? console.log;
  const t0 = performance.now();
  const r: SignalingResult = {
    benchmark: 'signaling', machine: machineLine(), node: process.version, commit: commitLine(repoRoot), date: new Date().toISOString(),
    mode: o.short ? 'short' : 'full', icount: o.icount, params: { reps: o.reps, n: o.n, warm: o.warm, settle: o.settle, size: o.size, floorFrameBytes: FLOOR_FRAME_BYTES },
    hostLoadPerCpu: { before: loadPerCpu(), after: NaN }, floors: {}, paths: { intra: {}, cross: {}, orch: {} }, goals: { intra: {}, cross: {}, orch: {} },
    bootMs: {}, clocks: {}, elapsedS: NaN, errors: [],
  };
  if (o.icount) log(`deterministic time: -icount ${o.icount}; every path in guest time: the servers and the orchestrator are members of the hub's virtual time`);
  log(`signaling benchmark (${r.mode}): ${o.reps} repetitions x ${o.n} round trips (+${o.warm} warm-up${o.settle ? ' or more, until settled' : ''}), ${o.size}-byte messages`);
  log(`machine: ${r.machine}; commit ${r.commit}; load/cpu ${r.hostLoadPerCpu.before.toFixed(2)}`);
  pingpongService();
  const dir = mkdtempSync(join(tmpdir(), 'px-bench-'));
  const hubPath = join(dir, 'lan.sock');
  // -icount: the virtual time starts once the orchestrator and both servers have joined
  const hub = await startHub(hubPath, o.icount ? ['--members', '3'] : []);
  let orch: Orchestrator | null = null;
  let vclock: VirtualTimeClient | undefined;
  try {
    // floors first, on a quiet host; they are cheap, so they get more samples
    const fn = Math.max(o.n, o.short ? 300 : 1000), fw = Math.max(o.warm, o.short ? 30 : 100);
    const floors: Record<string, number[][]> = { atomics: [], socketHub: [], socketDirect: [] };
    for (let rep = 0; rep < o.reps; rep++) {
      floors.atomics.push(await atomicsPingPong(fn * 4, fw * 4));
      floors.socketHub.push(await socketPingPongViaHub(hubPath, fn, fw));
      floors.socketDirect.push(await socketPingPongDirect(fn, fw));
    }
    for (const [k, v] of Object.entries(floors)) r.floors[k] = summarize(v);
    log('floors measured');
    if (o.icount) ({ orch, clock: vclock } = await joinVirtualLan(hubPath));
    else orch = await joinLan(hubPath);
    const peers = o.peers.filter((p) => p !== 'qemu' || qemuAvailable());
    if (o.peers.includes('qemu') && !peers.includes('qemu')) {
      r.errors.push('qemu-system-x86_64 not found: QEMU column not measured');
      log('qemu-system-x86_64 not found: QEMU column not measured');
    }
    for (const kind of peers) await measurePeer(kind, o, hubPath, orch, r, vclock);
    if (vclock) log(`orchestrator in the virtual time: ${JSON.stringify(vclock.vstats)}`);
  } finally {
    await orch?.close().catch(() => undefined);
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const id of Object.keys(PATHS) as PathId[]) {
    const floor = r.floors[PATHS[id].floor]?.median ?? NaN;
    const q = r.paths[id].qemu;
    for (const kind of Object.keys(r.paths[id]) as MachineKind[]) {
      const p = r.paths[id][kind]!;
      const xFloor = p.wall.median / floor;
      const xQemu = kind === 'qemu' || !q || !(q.wall.n > 0) ? null : p.wall.median / q.wall.median;
      r.goals[id][kind] = { xFloor, withinFloor3x: xFloor <= 3, xQemu, fasterThanQemu: xQemu === null ? null : xQemu < 1 };
    }
  }
  r.hostLoadPerCpu.after = loadPerCpu();
  r.elapsedS = (performance.now() - t0) / 1000;
  return r;
}

const us = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v);
const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : `${v.toFixed(0)}%`);

/** Rows of the results table (console and markdown). */
/** One table per path (rows: its floor, the reference where there is one, each peer), so a table fits 100 columns. */
export function signalingTables(r: SignalingResult): { title: string; rows: (string | number)[][] }[] {
  return (Object.keys(PATHS) as PathId[]).map((id) => {
    const rows: (string | number)[][] = [];
    const fk = PATHS[id].floor;
    const floor = r.floors[fk];
    const fm = floor?.median ?? NaN;
    rows.push([FLOOR_NAMES[fk], us(floor?.median), us(floor?.p99), pct(floor?.spreadPct), '-', '-', '1.0', '-']);
    if (id !== 'intra' && r.floors.socketDirect) {
      const d = r.floors.socketDirect;
      rows.push([FLOOR_NAMES.socketDirect, us(d.median), us(d.p99), pct(d.spreadPct), '-', '-', (d.median / fm).toFixed(2), '-']);
    }
    for (const kind of Object.keys(r.paths[id]) as MachineKind[]) {
      const p = r.paths[id][kind]!;
      if (p.error && !(p.wall.n > 0)) { rows.push([PEER_NAMES[kind], 'failed', '-', '-', '-', '-', '-', p.error.slice(0, 30)]); continue; }
      rows.push([PEER_NAMES[kind], us(p.wall.median), us(p.wall.p99), pct(p.wall.spreadPct), p.medianTicks ?? 'n/a', p.guest ? us(p.guest.median) : 'n/a',
        (p.wall.median / fm).toFixed(1), p.lost + p.stale ? `${p.lost} lost, ${p.stale} late` : '0']);
    }
    return { title: PATHS[id].title, rows };
  });
}

/** TSC ticks: the guest's TSC over the median round trip; guest µs: the same on the guest's clock */
export const SIGNALING_HEADERS = ['measured', 'median µs', 'p99 µs', 'spread', 'TSC ticks', 'guest µs', 'x floor', 'lost'];

export function goalLines(r: SignalingResult): string[] {
  const lines: string[] = ['goals (information only): parallax-emu within 3x of the floor, and faster than QEMU TCG'];
  for (const id of Object.keys(PATHS) as PathId[]) {
    const g = r.goals[id]['parallax-emu'];
    const q = r.goals[id].qemu;
    if (!g) continue;
    const floorTxt = Number.isFinite(g.xFloor) ? `${g.xFloor.toFixed(1)}x floor: ${g.withinFloor3x ? 'MET' : 'not met'}` : 'floor: not measured';
    const qTxt = g.xQemu === null ? 'vs QEMU: not measured'
      : g.fasterThanQemu ? `${(1 / g.xQemu).toFixed(1)}x faster than QEMU: MET` : `${g.xQemu.toFixed(1)}x slower than QEMU: not met`;
    const qFloor = q && Number.isFinite(q.xFloor) ? ` (QEMU TCG: ${q.xFloor.toFixed(1)}x floor)` : '';
    lines.push(`  ${PATHS[id].title.padEnd(36)}  ${floorTxt}; ${qTxt}${qFloor}`);
  }
  return lines;
}

export function notesLines(r: SignalingResult): string[] {
  const lines: string[] = [];
  for (const kind of ['parallax-emu', 'qemu'] as MachineKind[]) {
    const c = r.clocks[kind];
    if (!c) continue;
    const e = c.guestClockError;
    lines.push(`${PEER_NAMES[kind]}: guest TSC runs at ${c.ticksPerUs.toFixed(1)} ticks per host µs (DIME paths' wall time = TSC ticks / that rate); ` +
      `the kernel's own clock runs ${Math.abs(e * 100).toFixed(1)}% ${e >= 0 ? 'fast' : 'slow'} against the host (its TSC calibration)`);
  }
  for (const id of Object.keys(PATHS) as PathId[]) {
    for (const kind of Object.keys(r.paths[id]) as MachineKind[]) {
      const p = r.paths[id][kind]!;
      if (p.warmed?.length) lines.push(`${PATHS[id].title}, ${PEER_NAMES[kind]}: warm-up ${p.warmed.join('/')} round trips per repetition (${p.settled ?? 0} of ${p.warmed.length} settled)`);
    }
  }
  lines.push(`machine: ${r.machine}; commit ${r.commit}; host load per CPU ${r.hostLoadPerCpu.before.toFixed(2)} -> ${r.hostLoadPerCpu.after.toFixed(2)}; ${r.elapsedS.toFixed(1)} s`);
  if (r.errors.length) lines.push(...r.errors.map((e) => `error: ${e}`));
  return lines;
}

export function signalingChart(r: SignalingResult): string {
  const colors = { floor: '#9e9e9e', ref: '#cfcfcf', 'parallax-emu': '#1f77b4', qemu: '#ff7f0e' } as const;
  const groups: ChartGroup[] = (Object.keys(PATHS) as PathId[]).map((id) => {
    const f = r.floors[PATHS[id].floor];
    const bars: ChartBar[] = [{ label: PATHS[id].floor === 'atomics' ? 'floor (Atomics)' : 'floor (socket, hub)', median: f?.median ?? NaN, p99: f?.p99 ?? NaN, color: colors.floor }];
    for (const kind of ['parallax-emu', 'qemu'] as MachineKind[]) {
      const p = r.paths[id][kind];
      if (p) bars.push({ label: PEER_NAMES[kind], median: p.wall.median, p99: p.wall.p99, color: colors[kind] });
    }
    return { title: PATHS[id].title, bars };
  });
  return latencyChart('Signaling round trip by path', `${r.machine} · commit ${r.commit} · ${r.params.reps}x${r.params.n} round trips · ${r.date.slice(0, 10)}`, groups);
}

export function signalingMarkdown(r: SignalingResult): string {
  return [
    `# Signaling round trip (${r.mode})`, '',
    `${r.params.reps} repetitions x ${r.params.n} round trips after ${r.params.warm} warm-up${r.params.settle ? ' or more (until settled)' : ''}, ${r.params.size}-byte messages; machine ${r.machine}; commit ${r.commit}; ${r.date}.`,
    'Median and p99 are over all measured round trips; spread is (max - min) / median of the repetitions\' medians.', '',
    ...signalingTables(r).flatMap((t) => [`## ${t.title}`, '', markdownTable(SIGNALING_HEADERS, t.rows), '']),
    'Floors: Atomics wait/notify between 2 worker threads; a unix socket between 2 processes through the hub; the reference is the same socket without the hub. ' +
    'TSC ticks and guest µs: the median round trip on the guest\'s own clock (DIME paths).', '',
    ...goalLines(r).map((l, i) => (i === 0 ? `**${l}**\n` : `- ${l.trim()}`)), '',
    ...notesLines(r).map((l) => `- ${l}`), '',
    '![latency by path](signaling.svg)', '',
  ].join('\n');
}

export function writeSignaling(r: SignalingResult, dir: string): string[] {
  return writeResultFiles(dir, { 'signaling.json': jsonText(r), 'signaling.md': signalingMarkdown(r), 'signaling.svg': signalingChart(r) });
}

/** -icount runs: the figures that must be identical on every run (median round trip in guest TSC ticks) */
export function deterministicFigures(r: SignalingResult): Record<string, number> {
  const out: Record<string, number> = {};
  if (!r.icount) return out;
  // every path: the hub carries the virtual time across servers and to the orchestrator
  for (const id of ['intra', 'cross', 'orch'] as PathId[]) {
    for (const kind of Object.keys(r.paths[id]) as MachineKind[]) {
      const t = r.paths[id][kind]?.medianTicks;
      if (t !== undefined) out[`${id}.${kind}`] = t;
    }
  }
  return out;
}

export function printSignaling(r: SignalingResult, log: (l: string) => void = console.log): void {
  for (const t of signalingTables(r)) { log(''); log(t.title); log(table(SIGNALING_HEADERS, t.rows)); }
  log('');
  if (r.icount) {
    const f = deterministicFigures(r);
    log(`deterministic figures (-icount ${r.icount}; median round trip, guest ns): ` +
      (Object.keys(f).length ? Object.entries(f).map(([k, v]) => `${k} ${v}`).join(', ') : 'none measured'));
  }
  for (const l of goalLines(r)) log(l);
  for (const l of notesLines(r)) log(l);
}

/** What `--record` writes and `--compare` reads: the figures of one -icount run. */
export interface RecordedFigures { icount: string; commit: string; date: string; hostLoadPerCpu: number; figures: Record<string, number> }

/** Lines comparing this run's deterministic figures with recorded ones (information only). */
export function compareFigures(now: Record<string, number>, icount: string, rec: RecordedFigures, thresholdPct: number): string[] {
  if (rec.icount !== icount) return [`deterministic figures: recorded with -icount ${rec.icount}, this run ${icount}: not comparable`];
  const lines = [`deterministic figures against ${rec.commit} (${rec.date.slice(0, 10)}), threshold ${thresholdPct}%:`];
  for (const [k, v] of Object.entries(now)) {
    const was = rec.figures[k];
    if (was === undefined) { lines.push(`  ${k}: ${v} (not recorded before)`); continue; }
    const pct = ((v - was) / was) * 100;
    const verdict = pct > thresholdPct ? 'REGRESSION' : pct < -thresholdPct ? 'improvement' : v === was ? 'unchanged' : 'within threshold';
    lines.push(`  ${k}: ${was} -> ${v} guest ns (${pct >= 0 ? '+' : ''}${pct.toFixed(2)}%) ${verdict}`);
  }
  return lines;
}

benchMain({
  script: 'signaling',
  short: () => argFlag('short'),
  run: () => runSignaling(signalingOptionsFromArgs()),
  print: (r) => {
    printSignaling(r);
    if (!r.icount) return;
    const figures = deterministicFigures(r);
    const cmp = argString('compare');
    if (cmp) {
      if (!existsSync(cmp)) console.log(`deterministic figures: nothing recorded in ${cmp} yet`);
      else for (const l of compareFigures(figures, r.icount, JSON.parse(readFileSync(cmp, 'utf8')) as RecordedFigures, argNumber('threshold', 2))) console.log(l);
    }
    const rec = argString('record');
    if (rec) {
      const out: RecordedFigures = { icount: r.icount, commit: r.commit, date: r.date, hostLoadPerCpu: r.hostLoadPerCpu.before, figures };
      writeFileSync(rec, jsonText(out));
      console.log(`recorded deterministic figures in ${rec}`);
    }
  },
  write: writeSignaling,
});
