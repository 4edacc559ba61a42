// Round trips through real DIME kernels, driven by the orchestrator (src/orchestrator):
// DIME->DIME with the pingpong service (bench/dime/pingpong.c) on both ends, timed by the
// pinging DIME's TSC; orchestrator->DIME with the protocol's PING, timed by the host.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { openLan } from '../../src/orchestrator/attach.js';
import { VirtualTimeClient } from '../../src/orchestrator/virtual-time-client.js';
import { resolveService, type ServiceSource } from '../../src/orchestrator/service-source.js';
import type { DimeAddress } from '../../src/orchestrator/targets.js';
import { qemuAvailable, startHub, type MachineKind, type Watched } from './machines.js';
import { repoRoot } from './paths.js';
import { median } from './report.js';
import { finishRun, startRun, type RunRecord } from './run-record.js';

export const BENCH_KEY = 'parallax-bench-key';
export const ORCHESTRATOR_MAC = '02:00:00:be:0c:01';
const PINGPONG = resolve(repoRoot, 'bench/dime/build/pingpong.bin');

/** Build (once per process) and return the pingpong service image. */
let pingpongSource: ServiceSource | null = null;
export function pingpongService(): ServiceSource {
  if (!pingpongSource) {
    execFileSync('bash', [resolve(repoRoot, 'bench/dime/build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (!existsSync(PINGPONG)) throw new Error(`${PINGPONG} was not built`);
    pingpongSource = resolveService(PINGPONG);
  }
  return pingpongSource;
}

export async function joinLan(hubPath: string, timeoutMs = 3000): Promise<Orchestrator> {
  const backend = await openLan(`hub,path=${hubPath}`);
  return new Orchestrator(backend, { key: BENCH_KEY, mac: ORCHESTRATOR_MAC, timeoutMs, discoverMs: 300 });
}

/** A private hub with the benchmark's orchestrator on it for the length of `body`, then torn down. */
export async function withBenchLan<T>(body: (lan: { hubPath: string; orch: Orchestrator }) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'px-bench-'));
  const hubPath = join(dir, 'lan.sock');
  const hub = await startHub(hubPath);
  const orch = await joinLan(hubPath, 5000);
  try {
    return await body({ hubPath, orch });
  } finally {
    await orch.close().catch(() => undefined);
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What a benchmark over peers takes beside its own figures: which peers, and where its progress goes. */
export interface PeerBenchOptions {
  peers: MachineKind[];
  /** progress lines (default console.log) */
  log?: (l: string) => void;
}

/**
 * A benchmark measured on each peer in turn: its result (startRun(r.benchmark) with `fields`),
 * `headline(r)` logged, the bench LAN up while `perPeer` runs for each peer this host can run (a
 * missing QEMU is noted in the result's errors), then the run record completed (finishRun).
 */
export async function runOnEachPeer<R extends RunRecord>(
  benchmark: R['benchmark'], o: PeerBenchOptions, fields: Omit<R, keyof RunRecord>, headline: (r: R) => string[],
  perPeer: (kind: MachineKind, lan: { hubPath: string; orch: Orchestrator }, r: R, log: (l: string) => void) => Promise<void>,
): Promise<R> {
  const log = o.log ?? console.log;
  const t0 = performance.now();
  const r = { ...startRun(benchmark), ...fields } as R;
  for (const line of headline(r)) log(line);
  await withBenchLan(async (lan) => {
    for (const kind of runnablePeers(o.peers, r.errors)) await perPeer(kind, lan, r, log);
  });
  finishRun(r, t0);
  return r;
}

/** The peers this host can run; a missing QEMU is noted in `errors` (reported, not a failure). */
export function runnablePeers(peers: MachineKind[], errors: string[]): MachineKind[] {
  return peers.filter((kind) => {
    if (kind !== 'qemu' || qemuAvailable()) return true;
    errors.push('qemu-system-x86_64 not found: QEMU not measured');
    return false;
  });
}

/**
 * The orchestrator as a member of the hub's virtual time (-icount runs): its requests are
 * stamped with guest time and `clock` reads it (src/orchestrator/virtual-time-client.ts).
 */
export async function joinVirtualLan(hubPath: string, timeoutMs = 120_000): Promise<{ orch: Orchestrator; clock: VirtualTimeClient }> {
  const clock = await VirtualTimeClient.open(`hub,path=${hubPath}`);
  return { orch: new Orchestrator(clock, { key: BENCH_KEY, mac: ORCHESTRATOR_MAC, timeoutMs, discoverMs: 300 }), clock };
}

export interface DimeRoundTrips {
  /** one round trip each, in the pinging DIME's TSC ticks (lost rounds left out) */
  ticks: number[];
  /** the same, µs, converted with the guest's own clock (its calibrated TSC rate) */
  guestUs: number[];
  /** the same, µs of host wall time: TSC ticks scaled by the host's timing of the whole loop */
  wallUs: number[];
  tscTotal: number;
  lost: number;
  stale: number;
  /** the measured loop: by the guest clock, and by the host between the "begin"/"end" lines */
  loopGuestMs: number;
  loopHostMs: number;
  /** guest TSC ticks per guest ns over the loop */
  tscPerNs: number;
  /** round trips the warm-up took (at least the `warm` asked for), and whether it settled */
  warmed: number;
  settled: boolean;
}

/** An echo service on `echo`, then a ping service on `ping` pointed at it; parse the console. */
export async function dimeToDime(orch: Orchestrator, console: Watched, ping: DimeAddress, echo: DimeAddress,
  o: { n: number; warm: number; size: number; timeoutMs?: number; ticksPerUs?: number; settle?: boolean }): Promise<DimeRoundTrips> {
  const src = pingpongService();
  await orch.deploy(echo, { role: 'bench-echo', source: src, params: { role: 'echo' },
    input: { kind: 'dime', dime: ping }, output: { kind: 'dime', dime: ping } });
  const from = console.output.length;
  const linesFrom = console.lineTimes.length;
  const tag = `[DIME ${ping.core}] pp `;
  try {
    await orch.deploy(ping, { role: 'bench-ping', source: src, params: { role: 'ping', n: String(o.n), warm: String(o.warm), size: String(o.size),
      settle: o.settle === false ? '0' : '1', warm_max: String(Math.max(o.warm, WARM_MAX)) },
      input: { kind: 'dime', dime: echo }, output: { kind: 'dime', dime: echo } });
    const done = new RegExp(`\\[DIME ${ping.core}\\] pp done n=(\\d+) lost=(\\d+) stale=(\\d+) tsc=([0-9a-f]+) ns=([0-9a-f]+)\\n`);
    const m = await console.waitFor(done, o.timeoutMs ?? 120_000, from);
    const warmLine = new RegExp(`\\[DIME ${ping.core}\\] pp warm n=(\\d+) settled=(\\d)`).exec(console.output.slice(from));
    const tsc = parseInt(m[4], 16), ns = parseInt(m[5], 16);
    const tscPerNs = ns > 0 ? tsc / ns : 1;
    const raw: number[] = [];
    for (const line of console.output.slice(from).split('\n')) {
      const at = line.indexOf(tag + 's ');
      if (at >= 0) for (const h of line.slice(at + tag.length + 2).trim().split(/\s+/)) raw.push(parseInt(h, 16));
    }
    if (raw.length !== Number(m[1])) throw new Error(`pingpong: ${raw.length} samples on the console, expected ${m[1]}`);
    const lines = console.lineTimes.slice(linesFrom);
    const begin = lines.find((l) => l.line.includes(tag + 'begin'));
    const end = lines.find((l) => l.line.includes(tag + 'end'));
    const ticks = raw.filter((t) => t !== 0xffffffff);
    const loopHostMs = begin && end ? end.atMs - begin.atMs : NaN;
    // TSC ticks per wall µs: measured by guestClock() when given, else from the host's timing
    // of this loop's begin and end lines (less exact for short loops: console latency jitter)
    const ticksPerWallUs = o.ticksPerUs ?? (Number.isFinite(loopHostMs) && loopHostMs > 0 ? tsc / (loopHostMs * 1000) : tscPerNs * 1000);
    return {
      ticks,
      guestUs: ticks.map((t) => t / tscPerNs / 1000),
      wallUs: ticks.map((t) => t / ticksPerWallUs),
      tscTotal: tsc,
      lost: Number(m[2]),
      stale: Number(m[3]),
      loopGuestMs: ns / 1e6,
      loopHostMs,
      tscPerNs,
      warmed: warmLine ? Number(warmLine[1]) : o.warm,
      settled: warmLine ? warmLine[2] === '1' : false,
    };
  } finally {
    await orch.stop(echo).catch(() => undefined);
  }
}

export interface GuestClock {
  /** TSC ticks per µs of host wall time, over the pair of lines */
  ticksPerUs: number;
  /** the guest's own clock (its calibrated TSC rate) against the host's: ratio - 1 */
  guestClockError: number;
}

/**
 * The TSC rate of DIME `d`, measured by the host: the clock role prints TSC and guest time
 * `lines` times, `gapMs` apart; the host notes when each line arrives. The rate is the median
 * of the slopes between pairs of lines after the first (the first can wait behind the kernel's
 * own "running" line), so console latency that is the same for every line cancels.
 */
export async function guestClock(orch: Orchestrator, console: Watched, d: DimeAddress, lines = 11, gapMs = 100): Promise<GuestClock> {
  const linesFrom = console.lineTimes.length;
  const from = console.output.length;
  await orch.deploy(d, { role: 'bench-clock', source: pingpongService(), params: { role: 'clock', lines: String(lines), ms: String(gapMs) } });
  const one = `\\[DIME ${d.core}\\] pp clock [^\\n]*\\n`;
  await console.waitFor(new RegExp(`(${one}[^]*){${lines}}`), lines * gapMs + 30_000, from);
  const got = console.lineTimes.slice(linesFrom).filter((l) => l.line.includes(`[DIME ${d.core}] pp clock `)).slice(1, lines);
  const pts = got.map((l) => {
    const m = /tsc=([0-9a-f]+) ns=([0-9a-f]+)/.exec(l.line)!;
    return { hostUs: l.atMs * 1000, tsc: parseInt(m[1], 16), ns: parseInt(m[2], 16) };
  });
  // median of the slopes between lines at least half the run apart (Theil-Sen): one late
  // line (host scheduling, a busy I/O thread) cannot tilt it
  const slopes = (y: (p: (typeof pts)[number]) => number) => {
    const out: number[] = [];
    const half = Math.max(1, pts.length >> 1);
    for (let i = 0; i < pts.length; i++) {
      for (let j = i + half; j < pts.length; j++) out.push((y(pts[j]) - y(pts[i])) / (pts[j].hostUs - pts[i].hostUs));
    }
    return median(out);
  };
  return { ticksPerUs: slopes((p) => p.tsc), guestClockError: slopes((p) => p.ns) / 1000 - 1 };
}

/** Warm-up windows: as bench/dime/pingpong.c's (same size, same tests). */
export const SETTLE_WINDOW = 100;
export const SETTLE_RUN = 3;
export const WARM_MAX = 2000;

/** A window with no stall in it: its mean within 5/4 of its median. */
export function quietWindow(w: number[]): boolean {
  return w.length > 0 && w.reduce((a, b) => a + b, 0) / w.length <= 1.25 * median(w);
}

/**
 * Settled: the last SETTLE_RUN windows were all quiet and their medians agree within 15% (the
 * round trip no longer gets faster, as it does while an emulator is still translating code).
 */
export function settledWindows(medians: number[]): boolean {
  if (medians.length < SETTLE_RUN) return false;
  const last = medians.slice(-SETTLE_RUN);
  return Math.max(...last) <= 1.15 * Math.min(...last);
}

/**
 * Orchestrator -> one DIME -> orchestrator: the protocol's PING, µs per request: host wall time,
 * or guest time when `clockNs` reads the virtual time the orchestrator is in. The warm-up is at
 * least `warm` requests, then windows of SETTLE_WINDOW until the round trip settles (at most
 * WARM_MAX in all): the same rule as the DIME paths' pingpong service.
 */
export async function orchestratorToDime(orch: Orchestrator, d: DimeAddress, n: number, warm: number, clockNs?: () => number,
  settle = true): Promise<number[] & { warmed?: number; settled?: boolean }> {
  const now = clockNs ?? (() => performance.now() * 1e6);
  let i = 0;
  const one = async (): Promise<number> => {
    const t0 = now();
    await orch.link.call(d.server, d.core, 'PING', { nonce: BigInt(i++) });
    return (now() - t0) / 1000;
  };
  while (i < warm) await one();
  let settled = !settle;
  const meds: number[] = [];
  while (settle && i + SETTLE_WINDOW <= Math.max(warm, WARM_MAX)) {
    const w: number[] = [];
    for (let k = 0; k < SETTLE_WINDOW; k++) w.push(await one());
    if (!quietWindow(w)) { meds.length = 0; continue; }
    meds.push(median(w));
    if (settledWindows(meds)) { settled = true; break; }
  }
  const out: number[] & { warmed?: number; settled?: boolean } = [];
  out.warmed = i;
  out.settled = settled;
  for (let k = 0; k < n; k++) out.push(await one());
  return out;
}

/**
 * Collective: one system-scope PING to a server (DIME 0 hands a copy to every DIME), and the
 * time until all `cores` answers are in (a barrier). Host wall time, µs.
 */
export async function collectivePing(orch: Orchestrator, server: string, cores: number, n: number, warm: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < warm + n; i++) {
    const t0 = performance.now();
    const replies = await orch.link.request(server, null, 'PING', { nonce: BigInt(i) }, { expect: cores, timeoutMs: 5000 });
    const dt = (performance.now() - t0) * 1000;
    if (replies.length < cores) throw new Error(`collective PING: ${replies.length}/${cores} answers`);
    if (i >= warm) out.push(dt);
  }
  return out;
}
