// The orchestrator's live picture of the DIME network: every server and DIME it has heard
// from, with state, service, heartbeat age, CPU and memory use, and the routes this
// orchestrator set (the kernel does not report routes, so they are what we configured, or
// the kernel defaults after a reset). Fed by DISCOVER/QUERY_PERF answers and by the DIMEs'
// broadcast reports; `checkHealth()` turns silence into 'missing' events.
import { EventEmitter } from 'node:events';
import * as W from '../protocol/wire.js';
import type { Decoded, Frame } from '../protocol/codec.js';
import type { OrchestratorEvent, AlarmKind } from './events.js';
import { ServerNames, type DimeAddress, type Endpoint } from './targets.js';

export const STATE_NAMES = ['idle', 'loading', 'loaded', 'running', 'suspended'];
export const stateName = (s: number): string => STATE_NAMES[s] ?? `state ${s}`;
const EXIT_NAMES = ['exited', 'stopped', 'fault', 'reset'];
const SECURITY_NAMES: Record<number, string> = { 1: 'forged', 2: 'replayed', 3: 'unauthorized', 4: 'malformed' };
const EXCEPTION_NAMES: Record<number, string> = { 0: '#DE', 1: '#DB', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 8: '#DF', 10: '#TS', 11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF', 16: '#MF', 17: '#AC', 18: '#MC', 19: '#XM' };

export type Health = 'up' | 'missing' | 'unknown';

export interface DimeView {
  server: string;
  core: number;
  label: string;
  state: number;
  stateName: string;
  service: string;
  /** the service muted this DIME's heartbeats */
  muted: boolean;
  heartbeatMs: number;
  perfMs: number;
  /** host time of the last heartbeat seen (undefined: none yet) */
  lastBeatAt?: number;
  beat?: number;
  /** host time of the last frame of any kind from this DIME */
  lastSeenAt: number;
  cpuPct?: number;
  memUsed: number;
  memLimit: number;
  health: Health;
  input: Endpoint;
  output: Endpoint;
  /** false when the routes were set by someone else and we only assume the defaults */
  routesKnown: boolean;
  /** name of the workflow node / placement this DIME serves, if the orchestrator placed it */
  role?: string;
}

export interface ServerView {
  mac: string;
  label: string;
  cores: number;
  poolFree: number;
  poolTotal: number;
  lastSeenAt: number;
}

export interface ModelSnapshot {
  at: number;
  servers: Array<ServerView & { dimes: Array<DimeView & { heartbeatAgeMs: number | null; memPct: number }> }>;
}

/** Bounds on what reports can make the model hold (a buggy key holder must not grow it without limit). */
export const MAX_DIMES_PER_SERVER = 256;
export const MAX_SERVERS = 1024;

/** Text from the wire, safe to show: control characters (terminal escapes included) become \xNN. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const DEFAULT_INPUT: Endpoint = { kind: 'any' };
const DEFAULT_OUTPUT: Endpoint = { kind: 'console' };

export class NetworkModel extends EventEmitter {
  readonly servers = new Map<string, ServerView>();
  readonly dimes = new Map<string, DimeView>();
  /** reports not applied: the payload names another DIME than the sender, or the DIME cannot exist */
  readonly rejected = { inconsistent: 0, overLimit: 0 };

  constructor(readonly names: ServerNames, private readonly now: () => number = Date.now) {
    super();
  }

  private emitEvent(e: OrchestratorEvent): void {
    this.emit('event', e);
  }

  key(server: string, core: number): string {
    return `${server}/${core}`;
  }

  get(d: DimeAddress): DimeView | undefined {
    return this.dimes.get(this.key(d.server, d.core));
  }

  list(): DimeView[] {
    return [...this.dimes.values()].sort((a, b) => (a.server === b.server ? a.core - b.core : a.server < b.server ? -1 : 1));
  }

  dimesOf(server: string): DimeView[] {
    return this.list().filter((d) => d.server === server);
  }

  private server(mac: string): ServerView {
    let s = this.servers.get(mac);
    if (!s) {
      s = { mac, label: this.names.label(mac), cores: 0, poolFree: 0, poolTotal: 0, lastSeenAt: this.now() };
      this.servers.set(mac, s);
    }
    return s;
  }

  private dime(server: string, core: number): { d: DimeView; fresh: boolean } {
    const k = this.key(server, core);
    let d = this.dimes.get(k);
    const fresh = !d;
    if (!d) {
      this.server(server);
      d = {
        server, core, label: `${this.names.label(server)}/${core}`, state: 0, stateName: 'idle', service: '', muted: false,
        heartbeatMs: 0, perfMs: 0, lastSeenAt: this.now(), memUsed: 0, memLimit: 0, health: 'unknown',
        input: DEFAULT_INPUT, output: DEFAULT_OUTPUT, routesKnown: false,
      };
      this.dimes.set(k, d);
    }
    return { d, fresh };
  }

  private setState(d: DimeView, state: number, service: string): void {
    d.state = state;
    d.stateName = stateName(state);
    d.service = service;
  }

  /** A DISCOVER answer. */
  applyDiscover(f: Frame, v: Decoded): DimeView {
    const server = f.srcMac;
    const { d, fresh } = this.dime(server, v.dime as number);
    const s = this.server(server);
    s.cores = Math.min(v.cores as number, MAX_DIMES_PER_SERVER);
    // DIMEs this server cannot have (phantoms from before we knew its size) go
    for (const [k, x] of this.dimes) if (x.server === server && x.core >= s.cores) this.dimes.delete(k);
    s.poolFree = v.poolFree as number;
    s.poolTotal = v.poolTotal as number;
    s.lastSeenAt = this.now();
    this.setState(d, v.state as number, printable(v.service as string));
    d.muted = ((v.flags as number) & 1) !== 0;
    d.heartbeatMs = v.heartbeatMs as number;
    d.perfMs = v.perfMs as number;
    d.memUsed = v.memUsed as number;
    d.memLimit = v.memLimit as number;
    d.lastSeenAt = this.now();
    if (fresh) this.emitEvent({ type: 'discovered', at: this.now(), dime: d.label, server, core: d.core, service: d.service, state: d.stateName });
    return d;
  }

  /** A PERF event or QUERY_PERF answer. */
  applyPerf(f: Frame, v: Decoded, isEvent: boolean): void {
    const { d } = this.dime(f.srcMac, v.dime as number);
    const s = this.server(f.srcMac);
    s.poolFree = v.poolFree as number;
    s.poolTotal = v.poolTotal as number;
    d.state = v.state as number;
    d.stateName = stateName(d.state);
    d.cpuPct = (v.cpuPermille as number) / 10;
    d.memUsed = v.memUsed as number;
    d.memLimit = v.memLimit as number;
    d.lastSeenAt = this.now();
    if (isEvent) {
      this.emitEvent({
        type: 'perf', at: this.now(), dime: d.label, server: d.server, core: d.core, cpuPct: d.cpuPct, memPct: memPct(d),
        framesIn: v.framesIn as number, framesOut: v.framesOut as number, inputQueued: v.inputQueued as number,
      });
    }
  }

  /** May a report from f create or change DIME `claimed`? (bounded model) */
  private admissible(f: Frame, claimed: number): boolean {
    if (claimed !== f.srcCore) { this.rejected.inconsistent++; return false; }
    const s = this.servers.get(f.srcMac);
    const limit = s && s.cores > 0 ? s.cores : MAX_DIMES_PER_SERVER;
    if (claimed >= limit || (!s && this.servers.size >= MAX_SERVERS)) { this.rejected.overLimit++; return false; }
    return true;
  }

  /** Any DIME report (EVENT frames, and STREAM / new STREAM_SEQ output to us). */
  applyEvent(f: Frame, v: Decoded): void {
    const name = f.message?.name;
    const at = this.now();
    if (name !== 'STREAM' && typeof v.dime === 'number' && !this.admissible(f, v.dime)) return;
    for (const k of ['service', 'text']) if (typeof v[k] === 'string') v[k] = printable(v[k] as string);
    if (name === 'HEARTBEAT') {
      const { d } = this.dime(f.srcMac, v.dime as number);
      const wasMissing = d.health === 'missing';
      const silent = d.lastBeatAt === undefined ? 0 : at - d.lastBeatAt;
      this.setState(d, v.state as number, v.service as string);
      d.beat = v.beat as number;
      d.heartbeatMs = v.intervalMs as number;
      d.cpuPct = (v.cpuPermille as number) / 10;
      d.memUsed = v.memUsed as number;
      d.lastBeatAt = at;
      d.lastSeenAt = at;
      d.muted = false;
      d.health = 'up';
      if (wasMissing) this.emitEvent({ type: 'back', at, dime: d.label, server: d.server, core: d.core, silentMs: silent });
      this.emitEvent({ type: 'heartbeat', at, dime: d.label, server: d.server, core: d.core, beat: d.beat, state: d.stateName, service: d.service, cpuPct: d.cpuPct, memUsed: d.memUsed });
    } else if (name === 'PERF') {
      this.applyPerf(f, v, true);
    } else if (name === 'ALARM') {
      const { d } = this.dime(f.srcMac, v.dime as number);
      d.lastSeenAt = at;
      const kind: AlarmKind = v.kind === W.ALARM_KIND.FAULT ? 'fault' : v.kind === W.ALARM_KIND.SECURITY ? 'security' : 'resource';
      const code = v.code as number;
      const codeName = kind === 'security' ? SECURITY_NAMES[code] ?? `code ${code}` : kind === 'fault' ? EXCEPTION_NAMES[code] ?? `vector ${code}` : `code ${code}`;
      const detail = kind === 'fault' ? `address 0x${(v.detail as bigint).toString(16)} rip 0x${(v.rip as bigint).toString(16)}` : `seq ${(v.detail as bigint).toString()}`;
      const peer = kind === 'security' ? `${this.names.label(v.peerMac as string)}${(v.peerCore as number) === W.CORE_NONE ? '' : `/${v.peerCore as number}`}` : undefined;
      this.emitEvent({ type: 'alarm', at, dime: d.label, server: d.server, core: d.core, kind, code, codeName, detail, text: v.text as string, peer, source: 'dime' });
    } else if (name === 'SERVICE_EXIT') {
      const { d } = this.dime(f.srcMac, v.dime as number);
      d.lastSeenAt = at;
      this.setState(d, W.STATE.IDLE, '');
      d.memUsed = 0;
      const reason = v.reason as number;
      if (reason === W.EXIT_REASON.RESET) this.resetRoutes(d);
      this.emitEvent({
        type: 'exit', at, dime: d.label, server: d.server, core: d.core, service: v.service as string, reason: EXIT_NAMES[reason] ?? `reason ${reason}`,
        exitCode: v.exitCode as number, runMs: Number(v.runNs as bigint) / 1e6, cpuMs: Number(v.cpuNs as bigint) / 1e6,
      });
    } else if (name === 'STREAM' || name === 'STREAM_SEQ') {
      const d = this.dimes.get(this.key(f.srcMac, f.srcCore));
      if (d) d.lastSeenAt = at;
      const numbered = name === 'STREAM_SEQ' ? { stream: v.stream as number, line: v.line as number } : {};
      this.emitEvent({ type: 'output', at, dime: `${this.names.label(f.srcMac)}/${f.srcCore}`, server: f.srcMac, core: f.srcCore, text: (v.data as Buffer).toString('utf8'), ...numbered });
    }
  }

  /** A frame the link refused (bad tag or replayed): an alarm raised by the orchestrator itself. */
  localSecurityAlarm(kind: 'forged' | 'replayed', f: Frame): void {
    const core = f.srcCore === W.CORE_NONE ? null : f.srcCore;
    this.emitEvent({
      type: 'alarm', at: this.now(), dime: core === null ? undefined : `${this.names.label(f.srcMac)}/${core}`, server: f.srcMac, core, kind: 'security', code: kind === 'forged' ? 1 : 2,
      codeName: kind, detail: `seq ${f.seq}`, text: `${kind} ${f.message?.name ?? 'frame'} from ${this.names.label(f.srcMac)}`, peer: this.names.label(f.srcMac), source: 'orchestrator',
    });
  }

  /**
   * A DIME we placed a service on (remembered from an earlier run) must heartbeat: from now on
   * its silence counts, even if we have never heard it (a dead server's replayed heartbeats are
   * not believed, so they cannot hide it).
   */
  expectHeartbeats(d: DimeAddress, heartbeatMs: number): void {
    const v = this.dime(d.server, d.core).d;
    if (v.lastBeatAt !== undefined || heartbeatMs <= 0) return;
    if (!v.heartbeatMs) v.heartbeatMs = heartbeatMs;
    v.lastBeatAt = this.now();
  }

  /**
   * The DIME answered a command that starts a service on it: it is alive now, so its silence
   * counts from now (a beating DIME not already missing; missing ones come back by heartbeat).
   */
  heardFrom(d: DimeAddress): void {
    const v = this.get(d);
    if (!v || v.heartbeatMs <= 0 || v.lastBeatAt === undefined || v.health === 'missing') return;
    v.lastBeatAt = Math.max(v.lastBeatAt, this.now());
  }

  setRoute(d: DimeAddress, direction: 'input' | 'output', e: Endpoint): void {
    const v = this.dime(d.server, d.core).d;
    v[direction] = e;
    v.routesKnown = true;
  }

  resetRoutes(d: DimeAddress): void {
    const v = this.dime(d.server, d.core).d;
    v.input = DEFAULT_INPUT;
    v.output = DEFAULT_OUTPUT;
    v.routesKnown = true;
    v.role = undefined;
  }

  noteState(d: DimeAddress, state: number, service?: string): void {
    const v = this.dime(d.server, d.core).d;
    this.setState(v, state, service ?? v.service);
    if (state === W.STATE.IDLE) v.service = '';
  }

  setRole(d: DimeAddress, role: string | undefined): void {
    this.dime(d.server, d.core).d.role = role;
  }

  /**
   * Mark DIMEs whose heartbeat has been missing for `k` intervals (emits 'missing' once per
   * silence). DIMEs with heartbeats off, or never heard beating, are left alone.
   */
  checkHealth(k: number): DimeView[] {
    const at = this.now();
    const lost: DimeView[] = [];
    for (const d of this.dimes.values()) {
      if (d.heartbeatMs <= 0 || d.lastBeatAt === undefined || d.health === 'missing') continue;
      const silent = at - d.lastBeatAt;
      if (silent > k * d.heartbeatMs) {
        d.health = 'missing';
        lost.push(d);
        this.emitEvent({ type: 'missing', at, dime: d.label, server: d.server, core: d.core, service: d.service, silentMs: silent, intervals: Math.floor(silent / d.heartbeatMs) });
      }
    }
    return lost;
  }

  snapshot(): ModelSnapshot {
    const at = this.now();
    const servers = [...this.servers.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    return {
      at,
      servers: servers.map((s) => ({
        ...s,
        label: this.names.label(s.mac),
        dimes: this.dimesOf(s.mac).map((d) => ({ ...d, heartbeatAgeMs: d.lastBeatAt === undefined ? null : at - d.lastBeatAt, memPct: memPct(d) })),
      })),
    };
  }
}

export function memPct(d: { memUsed: number; memLimit: number }): number {
  return d.memLimit > 0 ? (100 * d.memUsed) / d.memLimit : 0;
}
