// The orchestrator: one LAN attachment, the live model, and every operation a person (CLI,
// script, dashboard) or a policy performs on DIMEs. Each operation is a short, ordered
// exchange of signed requests; each one is reported as a 'command' event, and what it
// changed (routes, services, parameters) is remembered so that a policy can rebuild a
// service elsewhere exactly as it was.
import { EventEmitter } from 'node:events';
import * as W from '../protocol/wire.js';
import { BROADCAST, macToString, type Decoded, type Frame } from '../protocol/codec.js';
import type { NetBackend } from '../net/net-backend.js';
import { OrchestratorError, RefusedError, TimeoutError, UsageError } from './errors.js';
import type { OrchestratorEvent } from './events.js';
import { OrchestratorLink, describeStatus, type Reply } from './link.js';
import { NetworkModel, type DimeView } from './model.js';
import { LineSink, LineSource } from './line-stream.js';
import { sourceSpec, resolveService, type ServiceSource } from './service-source.js';
import { ServerNames, dimeKey, endpointLabel, sameDime, type DimeAddress, type Endpoint } from './targets.js';
import { migrateService, type MigrationReport } from './migrate.js';

export interface OrchestratorOptions {
  key: string | Buffer | undefined;
  mac: string;
  names?: ServerNames;
  timeoutMs?: number;
  etherBase?: number;
  /** how long a broadcast DISCOVER collects answers */
  discoverMs?: number;
  /** the link's fixed ids (LinkOptions.fixedIds): a replayed run sends the same bytes */
  fixedIds?: boolean;
}

/** What the orchestrator put on a DIME, so it can be rebuilt elsewhere. */
export interface Assignment {
  role: string;
  source: ServiceSource;
  params: Record<string, string>;
  /** replicas started by the performance policy point at their primary */
  replicaOf?: string;
}

export interface DeploySpec {
  role: string;
  source: ServiceSource;
  params?: Record<string, string>;
  input?: Endpoint;
  output?: Endpoint;
  memLimit?: number;
  /** leave loaded, do not EXECUTE */
  noStart?: boolean;
  replicaOf?: string;
}

export interface AccountingRecord {
  seq: number;
  who: string;
  whoMac: string;
  whoCore: number | null;
  what: string;
  status: string;
  service: string;
  startMs: number;
  /** null while the service is still running */
  durationMs: number | null;
  cpuMs: number;
  bytesIn: number;
  bytesOut: number;
}

export interface SecurityCounters {
  accepted: number;
  forged: number;
  replayed: number;
  unauthorized: number;
  malformed: number;
  alarms: number;
}

/** Saved between CLI runs: what this orchestrator configured (the kernel cannot report it). */
export interface OrchestratorState {
  version: 1;
  dimes: Record<string, { input: Endpoint; output: Endpoint; role?: string; source?: string; params?: Record<string, string>; replicaOf?: string; heartbeatMs?: number }>;
  /** the name service fleet's members, SERVER-MAC/CORE (docs/NAMES.md) */
  nameFleet?: string[];
}

const LOAD_CHUNK_BYTES = 1024;
const EXIT_STATUS = ['exited', 'stopped', 'fault', 'reset'];

export class Orchestrator extends EventEmitter {
  readonly link: OrchestratorLink;
  readonly model: NetworkModel;
  readonly names: ServerNames;
  readonly assignments = new Map<string, Assignment>();
  /** DIMEs a policy or workflow is about to use: not free for anyone else */
  readonly reserved = new Set<string>();
  /** this orchestrator as the last stage of numbered pipelines (line-stream.ts) */
  readonly lines: LineSink;
  /** pipelines this orchestrator feeds with numbered lines (moved with their first stage) */
  readonly lineSources = new Set<LineSource>();
  /** the name service fleet this orchestrator set up (`name fleet`; docs/NAMES.md) */
  nameFleet: DimeAddress[] = [];
  private readonly discoverMs: number;
  private readonly eventLog: OrchestratorEvent[] = [];

  constructor(backend: NetBackend, opts: OrchestratorOptions) {
    super();
    this.names = opts.names ?? new ServerNames();
    this.link = new OrchestratorLink(backend, { key: opts.key, mac: opts.mac, timeoutMs: opts.timeoutMs, etherBase: opts.etherBase, fixedIds: opts.fixedIds });
    this.model = new NetworkModel(this.names);
    this.lines = new LineSink(this.link);
    this.discoverMs = opts.discoverMs ?? 500;
    this.model.on('event', (e: OrchestratorEvent) => {
      // a service that ended leaves its DIME to the pool: nothing to rebuild any more
      if (e.type === 'exit') {
        this.assignments.delete(`${e.server}/${e.core}`);
        this.model.setRole(e, undefined);
      }
      this.report(e);
    });
    this.link.on('frame', (f: Frame) => this.onReport(f));
    this.link.on('security', (s: { kind: 'forged' | 'replayed'; frame: Frame }) => this.model.localSecurityAlarm(s.kind, s.frame));
  }

  get mac(): string {
    return this.link.mac;
  }

  /** Emit an event and keep it in the recent log (dashboard, tests). */
  report(e: OrchestratorEvent): void {
    this.eventLog.push(e);
    if (this.eventLog.length > 2000) this.eventLog.splice(0, this.eventLog.length - 1000);
    this.emit('event', e);
  }

  recentEvents(max = 200, filter?: (e: OrchestratorEvent) => boolean): OrchestratorEvent[] {
    const list = filter ? this.eventLog.filter(filter) : this.eventLog;
    return list.slice(-max);
  }

  private onReport(f: Frame): void {
    let v: Decoded;
    try {
      v = this.link.codec.fields(f);
    } catch {
      return; // an event we cannot parse (newer kernel): ignored
    }
    if (f.message?.name === 'STREAM_SEQ') {
      const got = this.lines.take(f, v);
      if (!got) return; // a duplicate or a gap: dropped and counted in lines.stats
    }
    this.model.applyEvent(f, v);
  }

  label(d: DimeAddress): string {
    return this.names.dimeLabel(d);
  }

  // ---------------------------------------------------------------- discovery

  /** Broadcast DISCOVER (or to one server) and collect every DIME's answer. */
  async discover(server: string = BROADCAST, waitMs = this.discoverMs): Promise<DimeView[]> {
    // two broadcasts a third of the window apart: a frame lost on a busy host costs no DIME
    const first = this.link.request(server, null, 'DISCOVER', {}, { collectMs: waitMs });
    await new Promise((r) => setTimeout(r, waitMs / 3));
    const second = this.link.request(server, null, 'DISCOVER', {}, { collectMs: (2 * waitMs) / 3 });
    const replies = [...(await first), ...(await second)];
    const seen: DimeView[] = [];
    for (const r of replies) {
      if (r.frame.status !== W.STATUS.OK) continue;
      const v = this.model.applyDiscover(r.frame, r.fields);
      if (!seen.includes(v)) seen.push(v);
    }
    // every server tells how many DIMEs it has: ask again (DIME scope) for any we missed
    for (const s of new Set(seen.map((d) => d.server))) {
      const cores = this.model.servers.get(s)?.cores ?? 0;
      for (let c = 0; c < cores; c++) {
        if (seen.some((d) => d.server === s && d.core === c)) continue;
        try {
          const [r] = await this.link.request(s, c, 'DISCOVER', {}, { timeoutMs: 500 });
          seen.push(this.model.applyDiscover(r.frame, r.fields));
        } catch {
          /* it stays unknown; ps shows what answered */
        }
      }
    }
    return seen;
  }

  /** Performance snapshot of a server (every DIME) or one DIME, into the model. */
  async queryPerf(server: string, core: number | null = null): Promise<void> {
    const expect = core === null ? this.model.servers.get(server)?.cores || 1 : 1;
    const replies = await this.link.request(server, core, 'QUERY_PERF', {}, core === null ? { collectMs: Math.min(this.discoverMs, 400) } : { expect });
    for (const r of replies) if (r.frame.status === W.STATUS.OK) this.model.applyPerf(r.frame, r.fields, false);
  }

  /** Make sure a DIME exists; a clear error names what does exist when it does not. */
  async ensureDime(d: DimeAddress): Promise<DimeView> {
    const known = this.model.get(d);
    if (known) return known;
    const label = this.label(d);
    try {
      const [r] = await this.link.request(d.server, d.core, 'DISCOVER', {}, { timeoutMs: 1000, label });
      return this.model.applyDiscover(r.frame, r.fields);
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
    }
    const all = await this.discover(d.server, 400).catch(() => [] as DimeView[]);
    const server = this.model.servers.get(d.server);
    if (!server || all.length === 0) throw new TimeoutError(`unknown DIME ${label}: server ${this.names.label(d.server)} did not answer (is it on this LAN, with this key?)`);
    throw new UsageError(`unknown DIME ${label}: server ${this.names.label(d.server)} has ${server.cores} DIMEs (0-${server.cores - 1})`);
  }

  // ---------------------------------------------------------------- commands

  private async command<T>(d: DimeAddress | { server: string; core: null }, command: string, detail: string | undefined, fn: () => Promise<T>): Promise<T> {
    const label = d.core === null ? this.names.label(d.server) : this.label(d as DimeAddress);
    try {
      const out = await fn();
      this.report({ type: 'command', at: Date.now(), dime: d.core === null ? undefined : label, server: d.server, core: d.core, command, detail, ok: true });
      return out;
    } catch (e) {
      this.report({ type: 'command', at: Date.now(), dime: d.core === null ? undefined : label, server: d.server, core: d.core, command, detail, ok: false, error: (e as Error).message });
      throw e;
    }
  }

  /** One request to a DIME, status checked. */
  async call(d: DimeAddress, name: string, values: Record<string, string | number | bigint | Buffer> = {}, timeoutMs?: number): Promise<Reply> {
    return this.link.call(d.server, d.core, name, values, { label: this.label(d), timeoutMs });
  }

  /** A system-scope request: one answer per DIME of the server; every status must be OK. */
  async callServer(server: string, name: string, values: Record<string, string | number | bigint | Buffer> = {}): Promise<Reply[]> {
    let cores = this.model.servers.get(server)?.cores;
    if (!cores) {
      await this.discover(server, 400);
      cores = this.model.servers.get(server)?.cores;
      if (!cores) throw new TimeoutError(`server ${this.names.label(server)} did not answer DISCOVER`);
    }
    const replies = await this.link.request(server, null, name, values, { expect: cores, label: this.names.label(server) });
    const bad = replies.filter((r) => r.frame.status !== W.STATUS.OK);
    if (bad.length) {
      const first = bad[0];
      throw new RefusedError(`${this.names.label(server)}: ${bad.length} of ${replies.length} DIMEs refused ${name} (DIME ${first.frame.srcCore}: ${describeStatus(first.frame.status)})`, first.frame.status);
    }
    return replies;
  }

  /** Load a service (built-in by name, or an image file over the data channel). */
  async load(d: DimeAddress, source: ServiceSource, role?: string): Promise<void> {
    await this.ensureDime(d);
    await this.command(d, 'load', source.kind === 'builtin' ? source.name : `${source.name} (${source.image.length} bytes)`, async () => {
      if (source.kind === 'builtin') {
        await this.call(d, 'LOAD_BUILTIN', { name: source.name });
      } else {
        await this.call(d, 'LOAD_BEGIN', { size: source.image.length, crc32: source.crc32, name: source.name });
        let off = 0;
        while (off < source.image.length) {
          const part = source.image.subarray(off, off + LOAD_CHUNK_BYTES);
          const [r] = await this.link.request(d.server, d.core, 'LOAD_CHUNK', { offset: off, data: part }, { label: this.label(d), retries: 2 });
          if (r.frame.status === W.STATUS.OUT_OF_RANGE && typeof r.fields.received === 'number') {
            off = r.fields.received; // the DIME missed a chunk: resend from where it is
            continue;
          }
          if (r.frame.status !== W.STATUS.OK) throw new RefusedError(`${this.label(d)} refused LOAD_CHUNK at ${off}: ${describeStatus(r.frame.status)}`, r.frame.status);
          off += part.length;
        }
      }
      this.model.noteState(d, W.STATE.LOADED, source.name);
      const prev = this.assignments.get(dimeKey(d));
      this.assignments.set(dimeKey(d), { role: role ?? prev?.role ?? `${source.name}@${this.label(d)}`, source, params: prev?.params ?? {}, replicaOf: prev?.replicaOf });
      this.model.setRole(d, this.assignments.get(dimeKey(d))!.role);
    });
  }

  /** A lifecycle command: one message to the DIME, then the state it leaves the DIME in. */
  private async transition(d: DimeAddress, what: string, message: string, state: number, after?: () => void): Promise<void> {
    await this.ensureDime(d);
    await this.command(d, what, undefined, async () => {
      await this.call(d, message);
      this.model.noteState(d, state);
      after?.();
    });
  }

  start(d: DimeAddress): Promise<void> {
    // it answered: the new service's silence counts from now, not from the DIME's last heartbeat
    // (on a loaded host that may be older than the fault policy's limit already)
    return this.transition(d, 'start', 'EXECUTE', W.STATE.RUNNING, () => this.model.heardFrom(d));
  }

  stop(d: DimeAddress): Promise<void> {
    return this.transition(d, 'stop', 'STOP', W.STATE.IDLE, () => {
      this.assignments.delete(dimeKey(d));
      this.model.setRole(d, undefined);
    });
  }

  suspend(d: DimeAddress): Promise<void> {
    return this.transition(d, 'suspend', 'SUSPEND', W.STATE.SUSPENDED);
  }

  resume(d: DimeAddress): Promise<void> {
    return this.transition(d, 'resume', 'RESUME', W.STATE.RUNNING);
  }

  /** RESET one DIME, or a whole server (system scope, which also overrides another owner). */
  async reset(target: { server: string; core: number | null }, timeoutMs?: number): Promise<void> {
    await this.command(target, 'reset', undefined, async () => {
      if (target.core === null) {
        await this.callServer(target.server, 'RESET');
        for (const d of this.model.dimesOf(target.server)) this.forget(d);
      } else {
        await this.call(target as DimeAddress, 'RESET', {}, timeoutMs);
        this.forget(target as DimeAddress);
      }
    });
  }

  private forget(d: DimeAddress): void {
    this.model.noteState(d, W.STATE.IDLE);
    this.model.resetRoutes(d);
    this.assignments.delete(dimeKey(d));
  }

  async param(target: { server: string; core: number | null }, key: string, value: string): Promise<void> {
    if (!key || Buffer.byteLength(key) > 15) throw new UsageError(`parameter name '${key}' must be 1-15 bytes`);
    if (Buffer.byteLength(value) > 63) throw new UsageError(`parameter value for '${key}' is longer than 63 bytes`);
    if (target.core !== null) await this.ensureDime(target as DimeAddress);
    await this.command(target, 'param', `${key}=${value}`, async () => {
      if (target.core === null) await this.callServer(target.server, 'SET_PARAM', { key, value });
      else await this.call(target as DimeAddress, 'SET_PARAM', { key, value });
      const dimes = target.core === null ? this.model.dimesOf(target.server) : [target as DimeAddress];
      for (const d of dimes) {
        const a = this.assignments.get(dimeKey(d));
        if (!a) continue;
        if (value === '') delete a.params[key];
        else a.params[key] = value;
      }
    });
  }

  /** Heartbeat / performance broadcast intervals (ms, 0 = off) for a DIME or a server. */
  async intervals(target: { server: string; core: number | null }, opts: { heartbeatMs?: number; perfMs?: number }): Promise<void> {
    const set = async (name: string, intervalMs: number) => {
      if (target.core === null) await this.callServer(target.server, name, { intervalMs });
      else await this.call(target as DimeAddress, name, { intervalMs });
    };
    await this.command(target, 'interval', `heartbeat=${opts.heartbeatMs ?? '-'} perf=${opts.perfMs ?? '-'}`, async () => {
      if (opts.heartbeatMs !== undefined) await set('SET_HEARTBEAT', opts.heartbeatMs);
      if (opts.perfMs !== undefined) await set('SET_PERF_INTERVAL', opts.perfMs);
      const dimes = target.core === null ? this.model.dimesOf(target.server) : [this.model.get(target as DimeAddress)].filter((x): x is DimeView => !!x);
      for (const d of dimes) {
        if (opts.heartbeatMs !== undefined) d.heartbeatMs = opts.heartbeatMs;
        if (opts.perfMs !== undefined) d.perfMs = opts.perfMs;
      }
    });
  }

  async memLimit(d: DimeAddress, chunks: number): Promise<void> {
    if (!Number.isInteger(chunks) || chunks < 1 || chunks > 512) throw new UsageError(`memory limit must be 1-512 chunks of 2 MiB, got ${chunks}`);
    await this.command(d, 'memlimit', String(chunks), () => this.call(d, 'SET_MEMLIMIT', { chunks }));
  }

  /** Set one direction of a DIME's routing (the kernel's SET_ROUTE). */
  async setRoute(d: DimeAddress, direction: 'input' | 'output', e: Endpoint): Promise<void> {
    const { kind, core, mac } = this.wireRoute(e, direction);
    await this.call(d, 'SET_ROUTE', { direction: direction === 'output' ? W.ROUTE_DIR.OUTPUT : W.ROUTE_DIR.INPUT, kind, core, mac });
    this.model.setRoute(d, direction, e.kind === 'orchestrator' ? { kind: 'orchestrator', mac: e.mac ?? this.mac } : e);
  }

  private wireRoute(e: Endpoint, direction: 'input' | 'output'): { kind: number; core: number; mac: string } {
    switch (e.kind) {
      case 'dime': return { kind: W.ROUTE.DIME, core: e.dime.core, mac: e.dime.server };
      case 'console': return { kind: W.ROUTE.CONSOLE, core: 0, mac: '00:00:00:00:00:00' };
      case 'orchestrator': return { kind: W.ROUTE.ORCHESTRATOR, core: 0, mac: e.mac ?? this.mac };
      case 'none': return { kind: W.ROUTE.NONE, core: 0, mac: '00:00:00:00:00:00' };
      case 'any':
        if (direction === 'output') throw new UsageError('an output cannot go to "any": name a DIME, console, orchestrator or none');
        return { kind: W.ROUTE.ANY, core: 0, mac: '00:00:00:00:00:00' };
    }
  }

  /**
   * `route FROM TO`: FROM is a DIME (its output is rewired) or console/any/none (TO's input is
   * rewired); TO is a DIME or console/orchestrator/none. DIME to DIME sets both ends: the
   * sender's output, and the receiver's input to accept exactly that sender (or anyone, with
   * `openInput`, for a receiver fed by several).
   */
  async route(from: Endpoint, to: Endpoint, opts: { openInput?: boolean } = {}): Promise<void> {
    const detail = `${endpointLabel(from, this.names)} -> ${endpointLabel(to, this.names)}`;
    if (from.kind === 'dime') {
      if (to.kind === 'any') throw new UsageError('route: an output cannot go to "any"');
      if (to.kind === 'dime' && sameDime(from.dime, to.dime)) throw new UsageError(`route: ${this.label(from.dime)} cannot feed itself`);
      await this.ensureDime(from.dime);
      if (to.kind === 'dime') await this.ensureDime(to.dime);
      await this.command(from.dime, 'route', detail, async () => {
        // receiver first, so no byte from the sender is refused in between
        if (to.kind === 'dime') await this.setRoute(to.dime, 'input', opts.openInput ? { kind: 'any' } : { kind: 'dime', dime: from.dime });
        await this.setRoute(from.dime, 'output', to);
      });
      return;
    }
    if (to.kind !== 'dime') throw new UsageError(`route ${endpointLabel(from, this.names)} ${endpointLabel(to, this.names)}: one end must be a DIME (SERVER/CORE)`);
    const source: Endpoint = from.kind === 'orchestrator' ? { kind: 'orchestrator', mac: this.mac } : from;
    const reader = to.dime;
    await this.ensureDime(reader);
    await this.command(reader, 'route', detail, () => this.setRoute(reader, 'input', source));
  }

  /** Bytes into a DIME's input from this orchestrator. */
  feed(d: DimeAddress, data: string | Buffer): void {
    this.link.stream(d.server, d.core, data);
  }

  /**
   * Feed a pipeline numbered lines (at-least-once, de-duplicated downstream): the first stage
   * `d` must take its input from this orchestrator. Close the source when done.
   */
  async lineSource(d: DimeAddress, stream?: number): Promise<LineSource> {
    if (await this.link.confirmEpoch(d.server) === undefined) throw new TimeoutError(`${this.label(d)}: server ${this.names.label(d.server)} did not answer`);
    const s = new LineSource(this.link, d, stream);
    this.lineSources.add(s);
    const close = s.close.bind(s);
    s.close = () => { this.lineSources.delete(s); close(); };
    return s;
  }

  /**
   * Feed and make sure the DIME took it: STREAM has no answer, so the DIME's security counters
   * are read before and after (the DIME handles its frames in order). A refusal is an error.
   */
  async feedChecked(d: DimeAddress, data: string | Buffer): Promise<void> {
    const label = this.label(d);
    if (await this.link.confirmEpoch(d.server) === undefined) throw new TimeoutError(`${label}: server ${this.names.label(d.server)} did not answer`);
    const count = (r: Reply) => (r.fields.unauthorized as number) + (r.fields.challenged as number) + (r.fields.replayed as number);
    const before = count(await this.call(d, 'QUERY_SECURITY'));
    this.link.stream(d.server, d.core, data);
    const after = count(await this.call(d, 'QUERY_SECURITY'));
    if (after > before) {
      throw new RefusedError(`${label} refused the input: UNAUTHORIZED (its input route does not accept this orchestrator, ${this.mac}; see route ... ${label})`, W.STATUS.UNAUTHORIZED);
    }
  }

  async accounting(d: DimeAddress): Promise<AccountingRecord[]> {
    await this.ensureDime(d);
    const out: AccountingRecord[] = [];
    let from = 0;
    let end = Infinity; // records that existed when we first asked (each query adds one)
    for (let guard = 0; guard < 64 && from < end; guard++) {
      const r = await this.call(d, 'QUERY_ACCOUNTING', { from });
      const records = (r.fields.records as Decoded[] | undefined) ?? [];
      if (end === Infinity) end = r.fields.total as number;
      for (const rec of records) if ((rec.seq as number) < end) out.push(this.accountingRecord(rec));
      if (!records.length) break;
      from = (records[records.length - 1].seq as number) + 1;
    }
    return out;
  }

  private accountingRecord(rec: Decoded): AccountingRecord {
    const channel = (rec.channel as number) === 1 ? 'data' : 'signaling';
    const code = rec.what as number;
    const whoMac = rec.whoMac as string;
    const whoCore = (rec.whoCore as number) === W.CORE_NONE ? null : (rec.whoCore as number);
    const status = rec.status as number;
    const start = rec.startNs as bigint;
    const end = rec.endNs as bigint;
    const statusLabel = status & 0x100 ? `ended ${EXIT_STATUS[status & 0xff] ?? status & 0xff}` : status === 0 && code === 7 && end === 0n ? 'running' : statusText(status);
    const who = whoMac === this.mac ? `${whoMac} (this orchestrator)` : this.names.label(whoMac);
    return {
      seq: rec.seq as number, who: whoCore === null ? who : `${who}/${whoCore}`, whoMac, whoCore,
      what: W.messageByCode(channel, code)?.name ?? `${channel} ${code}`, status: statusLabel, service: rec.service as string,
      startMs: Number(start) / 1e6, durationMs: end === 0n ? null : Number(end - start) / 1e6, cpuMs: Number(rec.cpuNs as bigint) / 1e6,
      bytesIn: rec.bytesIn as number, bytesOut: rec.bytesOut as number,
    };
  }

  async security(d: DimeAddress): Promise<SecurityCounters> {
    await this.ensureDime(d);
    const r = await this.call(d, 'QUERY_SECURITY');
    const f = r.fields;
    return { accepted: f.accepted as number, forged: f.forged as number, replayed: f.replayed as number, unauthorized: f.unauthorized as number, malformed: f.malformed as number, alarms: f.alarms as number };
  }

  async ping(target: { server: string; core: number | null }): Promise<number> {
    const t0 = performance.now();
    const nonce = BigInt(Date.now());
    if (target.core === null) await this.callServer(target.server, 'PING', { nonce });
    else await this.call(target as DimeAddress, 'PING', { nonce });
    return performance.now() - t0;
  }

  async shutdown(server: string, code = 0): Promise<void> {
    await this.command({ server, core: null }, 'shutdown', String(code), async () => {
      // DIME 0 alone answers, just before powering off
      await this.link.request(server, null, 'SHUTDOWN', { code }, { expect: 1, timeoutMs: 2000 });
    });
  }

  // ---------------------------------------------------------------- placement

  /** A DIME that is idle, heartbeating (or at least answering), and not reserved. */
  freeDimes(opts: { prefer?: string; avoid?: DimeAddress[]; allowBootCore?: boolean } = {}): DimeView[] {
    const avoid = new Set((opts.avoid ?? []).map(dimeKey));
    const list = this.model.list().filter((d) => d.state === W.STATE.IDLE && d.health !== 'missing' && !avoid.has(dimeKey(d)) &&
      !this.reserved.has(dimeKey(d)) && !this.assignments.has(dimeKey(d)));
    const rank = (d: DimeView) => (opts.prefer && d.server === opts.prefer ? 0 : 1) * 2 + (d.core === 0 ? 1 : 0);
    return list.filter((d) => opts.allowBootCore !== false || d.core !== 0).sort((a, b) => rank(a) - rank(b) || (a.server < b.server ? -1 : a.server > b.server ? 1 : a.core - b.core));
  }

  /**
   * Put a service on a DIME with its parameters and routes, then start it. On any failure the
   * DIME is reset (nothing half-configured stays behind) and the error is rethrown.
   */
  async deploy(d: DimeAddress, spec: DeploySpec): Promise<void> {
    await this.ensureDime(d);
    const key = dimeKey(d);
    this.reserved.add(key);
    try {
      await this.command(d, 'deploy', `${spec.role}: ${spec.source.name}`, async () => {
        try {
          // independent settings travel together (one round trip, not five: recovery time
          // counts); the DIME handles them in order; EXECUTE only after all were accepted
          await Promise.all([
            ...Object.entries(spec.params ?? {}).map(([k, v]) => this.call(d, 'SET_PARAM', { key: k, value: v })),
            spec.memLimit ? this.call(d, 'SET_MEMLIMIT', { chunks: spec.memLimit }) : undefined,
            this.setRoute(d, 'input', spec.input ?? { kind: 'any' }),
            this.setRoute(d, 'output', spec.output ?? { kind: 'console' }),
          ]);
          await this.load(d, spec.source, spec.role);
          const a = this.assignments.get(key)!;
          a.params = { ...(spec.params ?? {}) };
          a.replicaOf = spec.replicaOf;
          if (!spec.noStart) await this.start(d);
        } catch (e) {
          await this.reset(d, 1000).catch(() => undefined);
          throw e;
        }
      });
    } finally {
      this.reserved.delete(key);
    }
  }

  /** Live migration of the service on `from` to the idle DIME `to` (docs/MIGRATION.md). */
  async migrate(from: DimeAddress, to: DimeAddress): Promise<MigrationReport> {
    return this.command(from, 'migrate', `-> ${this.label(to)}`, () => migrateService(this, from, to));
  }

  /** DIMEs whose output or input names `d` (the neighbours to rewire when `d` moves). */
  neighbours(d: DimeAddress): { feeders: DimeView[]; readers: DimeView[] } {
    const isD = (e: Endpoint) => e.kind === 'dime' && sameDime(e.dime, d);
    const others = this.model.list().filter((x) => !sameDime(x, d));
    return { feeders: others.filter((x) => isD(x.output)), readers: others.filter((x) => isD(x.input)) };
  }

  // ---------------------------------------------------------------- state

  saveState(): OrchestratorState {
    const dimes: OrchestratorState['dimes'] = {};
    for (const d of this.model.list()) {
      if (!d.routesKnown && !this.assignments.has(dimeKey(d))) continue;
      const a = this.assignments.get(dimeKey(d));
      dimes[dimeKey(d)] = { input: d.input, output: d.output, role: a?.role, source: a ? sourceSpec(a.source) : undefined, params: a?.params, replicaOf: a?.replicaOf, heartbeatMs: d.heartbeatMs || undefined };
    }
    return { version: 1, dimes, ...(this.nameFleet.length ? { nameFleet: this.nameFleet.map(dimeKey) } : {}) };
  }

  restoreState(s: OrchestratorState): void {
    if (!s || s.version !== 1 || typeof s.dimes !== 'object') return;
    if (Array.isArray(s.nameFleet)) {
      this.nameFleet = s.nameFleet.map((k) => ({ server: k.slice(0, k.lastIndexOf('/')), core: Number(k.slice(k.lastIndexOf('/') + 1)) }))
        .filter((d) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(d.server) && Number.isInteger(d.core));
    }
    for (const [key, v] of Object.entries(s.dimes)) {
      const slash = key.lastIndexOf('/');
      const d = { server: macToString(Buffer.from(key.slice(0, slash).split(':').map((x) => parseInt(x, 16)))), core: Number(key.slice(slash + 1)) };
      this.model.setRoute(d, 'input', v.input);
      this.model.setRoute(d, 'output', v.output);
      if (v.source) {
        try {
          const source = resolveService(v.source);
          this.assignments.set(dimeKey(d), { role: v.role ?? `${source.name}@${this.label(d)}`, source, params: v.params ?? {}, replicaOf: v.replicaOf });
          this.model.setRole(d, v.role);
          if (typeof v.heartbeatMs === 'number') this.model.expectHeartbeats(d, v.heartbeatMs);
        } catch {
          /* the file moved away: the routes are still worth knowing */
        }
      }
    }
  }

  async close(): Promise<void> {
    await this.link.close();
  }
}

function statusText(status: number): string {
  const name = Object.entries(W.STATUS).find(([, v]) => v === status)?.[0] ?? `status ${status}`;
  return name === 'OK' ? 'ok' : name;
}

export { OrchestratorError };
