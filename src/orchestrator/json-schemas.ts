// The JSON a script can rely on: one JSON Schema (draft-07) per `parallax-orch ... --json`
// output and for the dashboard's /api/state. `parallax-orch schema [NAME]` prints them;
// test/orchestrator/json-schemas.test.ts validates real outputs against them (with ajv).
// Conventions: field names are camelCase; absent values are null (never "" for "none", except
// `service`, which is the service's name and "" on an idle DIME); times are ms; no marker
// characters inside values (ps says `routesKnown: false` instead of a "?").

type Schema = Record<string, unknown>;

const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: 'null' }] });
/** an object with exactly these fields (all required unless listed in `optional`) */
const obj = (props: Record<string, Schema>, optional: string[] = []): Schema => ({
  type: 'object', additionalProperties: false, properties: props, required: Object.keys(props).filter((k) => !optional.includes(k)),
});
const list = (items: Schema): Schema => ({ type: 'array', items });

const mac = { type: 'string', pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' };
/** "S1/2" or "52:54:00:00:00:01/2" */
const dimeLabel = { type: 'string', pattern: '^[^/\\s]+/\\d+$' };
const state = { enum: ['idle', 'loading', 'loaded', 'running', 'suspended', 'exited', 'unknown'] };
const health = { enum: ['up', 'missing', 'unknown'] };

const ok = { const: true };

/** DISCOVER answers */
const discover = obj({ dimes: list(obj({ dime: dimeLabel, mac, core: int, state, service: str, heartbeatMs: int })) });

const psRow = obj({
  dime: dimeLabel, server: str, mac, core: int, state, service: str, heartbeatMs: int, heartbeatAgeMs: nullable(num), health,
  cpuPct: nullable(num), memPct: num, memUsed: int, memLimit: int, input: str, output: str, routesKnown: bool, role: nullable(str),
});
const ps = obj({ dimes: list(psRow) });

const accountingRecord = obj({
  seq: int, who: str, whoMac: mac, whoCore: nullable(int), what: str, status: str, service: str, startMs: num,
  durationMs: nullable(num), cpuMs: num, bytesIn: int, bytesOut: int,
});

const event: Schema = {
  type: 'object',
  required: ['type', 'at'],
  properties: {
    type: { enum: ['discovered', 'heartbeat', 'perf', 'alarm', 'exit', 'missing', 'back', 'output', 'command', 'policy'] },
    at: num,
    dime: dimeLabel,
    server: mac,
    core: nullable(int),
  },
};

const endpointView = obj({ kind: { enum: ['dime', 'console', 'orchestrator', 'any', 'none'] }, label: str, dime: dimeLabel }, ['dime']);

const apiState = obj({
  at: num,
  orchestrator: mac,
  link: obj({ sent: int, received: int, forged: int, replayed: int, ignored: int, timeouts: int, unconfirmed: int, stale: int }),
  servers: list(obj({
    mac, label: str, cores: int, poolFree: int, poolTotal: int, lastSeenAt: num,
    dimes: list(obj({
      server: mac, core: int, label: dimeLabel, state: int, stateName: state, service: str, muted: bool, heartbeatMs: int, perfMs: int,
      lastBeatAt: num, beat: int, lastSeenAt: num, cpuPct: num, memUsed: int, memLimit: int, health, input: endpointView, output: endpointView,
      routesKnown: bool, role: nullable(str), heartbeatAgeMs: nullable(num), memPct: num,
    }, ['lastBeatAt', 'beat', 'cpuPct'])),
  })),
  events: list({ ...event, required: ['type', 'at', 'text'], properties: { ...(event.properties as Schema), text: str } }),
});

/** NAME -> schema; NAME is the verb (`start` covers start/stop/suspend/resume), plus `error`, `watch` and `api-state`. */
export const JSON_SCHEMAS: Record<string, Schema> = {
  discover,
  ps,
  load: obj({ ok, dime: dimeLabel, service: str, source: { enum: ['builtin', 'file'] }, bytes: nullable(int), started: bool }),
  start: obj({ ok, verb: { enum: ['start', 'stop', 'suspend', 'resume'] }, target: str }),
  reset: obj({ ok, target: str }),
  param: obj({ ok, target: str, key: str, value: nullable(str) }, ['value']),
  interval: obj({ ok, target: str, heartbeatMs: nullable(int), perfMs: nullable(int) }),
  memlimit: obj({ ok, dime: dimeLabel, chunks: int }),
  route: obj({ ok, from: str, to: str }),
  migrate: obj({ ok, from: dimeLabel, to: dimeLabel, service: str, chunks: int, restarted: bool, freezeUs: int, downtimeMs: num, rewired: list(str), bytes: int }),
  feed: obj({ ok, dime: dimeLabel, bytes: int }),
  accounting: obj({ dimes: list(obj({ dime: dimeLabel, records: list(accountingRecord) })) }),
  security: obj({ dime: dimeLabel, accepted: int, forged: int, replayed: int, unauthorized: int, malformed: int, alarms: int }),
  grant: obj({ ok, dime: dimeLabel, prefix: str, read: bool, write: bool, grants: int }),
  storage: { anyOf: [
    obj({ dimes: list(obj({
      dime: dimeLabel, store: { enum: ['none', 'ready', 'foreign', 'error'] }, grants: int, opens: int, reads: int, writes: int, bytesRead: int,
      bytesWritten: int, refused: int, errors: int, diskSectors: int, files: int, slots: int, slotBytes: int, diskRequests: int, diskErrors: int,
      central: obj({ exports: int, opens: int, reads: int, writes: int, bytesRead: int, bytesWritten: int, requests: int, resent: int, lateAnswers: int, refused: int, errors: int }),
    })) }),
    /** `storage list`, and `storage export` when it ends (central storage, docs/STORAGE.md) */
    obj({
      exports: list(obj({
        name: str, path: str, readonly: bool, size: int, maxBytes: int, server: mac, opens: int, reads: int, writes: int, flushes: int, bytesRead: int,
        bytesWritten: int, repeats: int, refused: int, errors: int, grants: list(obj({ dime: dimeLabel, read: bool, write: bool })),
      })),
      clients: list(obj({ dime: dimeLabel, opens: int, reads: int, writes: int, flushes: int, bytesRead: int, bytesWritten: int, repeats: int, refused: int, errors: int })),
      drops: obj({ forged: int, replayed: int, unconfirmed: int, malformed: int, unknownExport: int }),
    }, ['clients', 'drops']),
  ] },
  ping: obj({ target: str, rttMs: num }),
  shutdown: obj({ ok, server: str }),
  run: obj({
    workflow: str, dryRun: bool,
    placements: list(obj({ node: str, service: str, dime: dimeLabel, input: str, output: str }, ['input', 'output'])),
  }),
  keys: obj({ mac, file: str, qemu: str, emu: str }),
  lab: obj({ net: str, aliases: { type: 'object', additionalProperties: mac }, servers: list(str) }),
  dashboard: obj({ url: str }),
  name: { anyOf: [
    obj({ ok, action: { const: 'fleet' }, view: int, members: list(str), unreachable: list(str) }),
    obj({ ok, action: { const: 'register' }, name: str, dime: str, seq: int, acked: int, live: int, primary: str, view: nullable(int) }),
    obj({ action: { const: 'resolve' }, name: str, dime: nullable(str), seq: nullable(int), source: nullable({ enum: ['replica', 'cache', 'fleet'] }), via: nullable(str) }),
    obj({ action: { const: 'list' }, from: str, bindings: list(obj({ name: str, dime: str, seq: int })) }),
    obj({ action: { const: 'status' }, members: list(obj({ dime: str, answered: bool, view: int, self: nullable(int), applied: int, head: int, names: int,
      live: int, deaths: int, refused: int, cacheHits: int, cacheMisses: int })) }),
  ] },
  launch: obj({ ok, service: str, bytes: int, on: list(dimeLabel), started: int, missing: nullable(dimeLabel), blocks: int, ms: num }),
  barrier: obj({ ok, members: int, answered: int, ms: num }),
  /** `heartbeat --json`: one round per line */
  heartbeat: obj({ round: int, members: int, alive: int, dead: list(dimeLabel), sweeps: int, ms: num }),
  /** `watch --json`: one event per line */
  watch: event,
  /** any command that fails with --json */
  error: obj({ error: str, exitCode: int }),
  /** the dashboard's GET /api/state */
  'api-state': apiState,
};

/** The schema for NAME with its $schema and title, ready to print. */
export function schemaDocument(name: string): Schema | undefined {
  const s = JSON_SCHEMAS[name];
  return s && { $schema: 'http://json-schema.org/draft-07/schema#', title: `parallax-orch ${name} --json`, ...s };
}
