// Workflows: a DAG of services placed on DIMEs across servers, with data channels as edges,
// declared in a JSON file (format in docs/ORCHESTRATOR.md). Everything is checked before the
// first frame is sent: shape, unknown services in channels, cycles, service files, and that
// every placement names a DIME that exists and is free. Deployment goes sinks first (a
// receiver is ready before its sender starts); if any step fails, every DIME touched is
// reset, unless the caller asked to keep the partial deployment.
import path from 'node:path';
import * as W from '../protocol/wire.js';
import { OrchestratorError, UsageError } from './errors.js';
import type { DimeView } from './model.js';
import type { Orchestrator } from './orchestrator.js';
import { resolveService, type ServiceSource } from './service-source.js';
import { readUserFile } from './user-file.js';
import { ServerNames, dimeKey, parseEndpoint, parseTarget, type DimeAddress, type Endpoint } from './targets.js';

export interface WorkflowNode {
  name: string;
  source: ServiceSource;
  /** "S1/2", "S1" (any free DIME of S1) or undefined (any free DIME) */
  on?: string;
  params: Record<string, string>;
  input?: Endpoint;
  output?: Endpoint;
  memLimit?: number;
}

export interface Workflow {
  name: string;
  nodes: WorkflowNode[];
  channels: Array<{ from: string; to: string }>;
  /** aliases the file defines */
  servers: Record<string, string>;
}

export interface Placement {
  node: string;
  dime: DimeAddress;
  label: string;
  service: string;
  input: Endpoint;
  output: Endpoint;
}

const NODE_KEYS = ['service', 'on', 'params', 'input', 'output', 'memlimit'];

/** Parse and check a workflow (no network). `names` gains the file's server aliases. */
export function parseWorkflow(text: string, file: string, names: ServerNames): Workflow {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`workflow ${file}: not valid JSON: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`workflow ${file}: expected a JSON object`);
  for (const k of Object.keys(doc)) if (!['name', 'servers', 'services', 'channels', 'description'].includes(k)) throw new UsageError(`workflow ${file}: unknown key '${k}' (known: name, description, servers, services, channels)`);
  const servers = (doc.servers ?? {}) as Record<string, string>;
  if (typeof servers !== 'object' || Array.isArray(servers)) throw new UsageError(`workflow ${file}: "servers" must map names to MACs`);
  for (const [n, mac] of Object.entries(servers)) names.add(n, String(mac));
  const services = doc.services as Record<string, Record<string, unknown>> | undefined;
  if (!services || typeof services !== 'object' || Array.isArray(services) || Object.keys(services).length === 0) {
    throw new UsageError(`workflow ${file}: "services" must be an object with at least one service`);
  }
  const baseDir = path.dirname(path.resolve(file));
  const nodes: WorkflowNode[] = [];
  for (const [name, n] of Object.entries(services)) {
    const where = `workflow ${file}: service '${name}'`;
    if (!/^[A-Za-z][A-Za-z0-9_.-]{0,31}$/.test(name)) throw new UsageError(`${where}: names use letters, digits, _ . - (up to 32)`);
    if (!n || typeof n !== 'object' || Array.isArray(n)) throw new UsageError(`${where}: expected an object`);
    for (const k of Object.keys(n)) if (!NODE_KEYS.includes(k)) throw new UsageError(`${where}: unknown key '${k}' (known: ${NODE_KEYS.join(', ')})`);
    if (typeof n.service !== 'string') throw new UsageError(`${where}: "service" (a built-in name or an image file) is required`);
    let source: ServiceSource;
    try {
      source = resolveService(n.service, { baseDir });
    } catch (e) {
      throw new UsageError(`${where}: ${(e as Error).message}`);
    }
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries((n.params ?? {}) as Record<string, unknown>)) params[k] = String(v);
    const endpoint = (key: 'input' | 'output'): Endpoint | undefined => {
      if (n[key] === undefined) return undefined;
      const e = parseEndpoint(String(n[key]), names);
      if (e.kind === 'dime') throw new UsageError(`${where}: ${key} '${String(n[key])}' — connect services with "channels", not DIME addresses`);
      if (key === 'output' && e.kind === 'any') throw new UsageError(`${where}: output cannot be "any"`);
      return e;
    };
    if (n.on !== undefined) {
      try {
        parseTarget(String(n.on), names);
      } catch (e) {
        throw new UsageError(`${where}: on: ${(e as Error).message}`);
      }
    }
    const memLimit = n.memlimit === undefined ? undefined : Number(n.memlimit);
    if (memLimit !== undefined && (!Number.isInteger(memLimit) || memLimit < 1 || memLimit > 512)) throw new UsageError(`${where}: memlimit must be 1-512 chunks`);
    nodes.push({ name, source, on: n.on === undefined ? undefined : String(n.on), params, input: endpoint('input'), output: endpoint('output'), memLimit });
  }
  const channels: Array<{ from: string; to: string }> = [];
  const rawChannels = doc.channels ?? [];
  if (!Array.isArray(rawChannels)) throw new UsageError(`workflow ${file}: "channels" must be a list ("a -> b" or {"from","to"})`);
  for (const c of rawChannels) {
    let from: string, to: string;
    if (typeof c === 'string') {
      const m = /^\s*([^\s>-][^\s]*)\s*->\s*([^\s]+)\s*$/.exec(c);
      if (!m) throw new UsageError(`workflow ${file}: channel '${c}' is not "from -> to"`);
      [from, to] = [m[1], m[2]];
    } else if (c && typeof c === 'object' && typeof (c as { from?: unknown }).from === 'string' && typeof (c as { to?: unknown }).to === 'string') {
      ({ from, to } = c as { from: string; to: string });
    } else throw new UsageError(`workflow ${file}: channel ${JSON.stringify(c)} is not "from -> to" or {"from","to"}`);
    for (const end of [from, to]) if (!services[end]) throw new UsageError(`workflow ${file}: channel ${from} -> ${to} names a missing service '${end}'`);
    if (from === to) throw new UsageError(`workflow ${file}: channel ${from} -> ${to} is a cycle (a service feeding itself)`);
    if (channels.some((x) => x.from === from && x.to === to)) throw new UsageError(`workflow ${file}: channel ${from} -> ${to} is declared twice`);
    channels.push({ from, to });
  }
  for (const n of nodes) {
    const outs = channels.filter((c) => c.from === n.name);
    if (outs.length > 1) throw new UsageError(`workflow ${file}: '${n.name}' feeds ${outs.map((c) => c.to).join(', ')}, but a DIME has one output route (fan-out is not supported; chain the services instead)`);
    if (outs.length && n.output) throw new UsageError(`workflow ${file}: '${n.name}' has an "output" and a channel to '${outs[0].to}'`);
    if (channels.some((c) => c.to === n.name) && n.input) throw new UsageError(`workflow ${file}: '${n.name}' has an "input" and channels into it`);
  }
  const cycle = findCycle(nodes.map((n) => n.name), channels);
  if (cycle) throw new UsageError(`workflow ${file}: cycle ${cycle.join(' -> ')} (a workflow must be a DAG)`);
  return { name: typeof doc.name === 'string' ? doc.name : path.basename(file, '.json'), nodes, channels, servers };
}

export function loadWorkflow(file: string, names: ServerNames): Workflow {
  return parseWorkflow(readUserFile(file, 'workflow'), file, names);
}

/** A cycle as a list of names (first repeated at the end), or null for a DAG. */
export function findCycle(names: string[], edges: Array<{ from: string; to: string }>): string[] | null {
  const colour = new Map<string, 0 | 1 | 2>(names.map((n) => [n, 0]));
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    colour.set(n, 1);
    stack.push(n);
    for (const e of edges) {
      if (e.from !== n) continue;
      if (colour.get(e.to) === 1) return [...stack.slice(stack.indexOf(e.to)), e.to];
      if (colour.get(e.to) === 0) {
        const c = visit(e.to);
        if (c) return c;
      }
    }
    stack.pop();
    colour.set(n, 2);
    return null;
  };
  for (const n of names) {
    if (colour.get(n) !== 0) continue;
    const c = visit(n);
    if (c) return c;
  }
  return null;
}

/** Sinks first: every service comes after all the services it sends to. */
export function deployOrder(wf: Workflow): WorkflowNode[] {
  const done = new Set<string>();
  const out: WorkflowNode[] = [];
  while (out.length < wf.nodes.length) {
    for (const n of wf.nodes) {
      if (done.has(n.name)) continue;
      if (wf.channels.filter((c) => c.from === n.name).every((c) => done.has(c.to))) {
        done.add(n.name);
        out.push(n);
      }
    }
  }
  return out;
}

/** Choose a DIME for every service (network needed: discovery). Nothing is changed. */
export async function planWorkflow(o: Orchestrator, wf: Workflow): Promise<Map<string, DimeAddress>> {
  await o.discover();
  const taken = new Set<string>();
  const plan = new Map<string, DimeAddress>();
  const free = (d: DimeView) => d.state === W.STATE.IDLE && !taken.has(dimeKey(d)) && !o.assignments.has(dimeKey(d)) && d.health !== 'missing';
  // explicit DIMEs first, then servers, then anywhere
  const rank = (n: WorkflowNode) => (n.on === undefined ? 2 : n.on.includes('/') ? 0 : 1);
  for (const n of [...wf.nodes].sort((a, b) => rank(a) - rank(b))) {
    let chosen: DimeView | undefined;
    if (n.on?.includes('/')) {
      const t = parseTarget(n.on, o.names) as DimeAddress;
      chosen = o.model.get(t);
      if (!chosen) {
        const s = o.model.servers.get(t.server);
        throw new UsageError(`service '${n.name}': no DIME ${n.on}` + (s ? ` (server ${o.names.label(t.server)} has DIMEs 0-${s.cores - 1})` : ` (server ${o.names.label(t.server)} did not answer)`));
      }
      if (taken.has(dimeKey(chosen))) throw new UsageError(`service '${n.name}': DIME ${n.on} is already used by another service of this workflow`);
      if (!free(chosen)) throw new UsageError(`service '${n.name}': DIME ${n.on} is busy (${chosen.stateName}${chosen.service ? `, ${chosen.service}` : ''})`);
    } else {
      const server = n.on === undefined ? undefined : parseTarget(n.on, o.names).server;
      if (server && !o.model.servers.has(server)) throw new UsageError(`service '${n.name}': server ${n.on} did not answer`);
      const candidates = o.model.list().filter((d) => free(d) && (!server || d.server === server));
      // non-boot cores first: the boot core also serves the NIC and the console
      chosen = candidates.sort((a, b) => (a.core === 0 ? 1 : 0) - (b.core === 0 ? 1 : 0))[0];
      if (!chosen) throw new UsageError(`service '${n.name}': no free DIME${server ? ` on ${n.on}` : ''}`);
    }
    taken.add(dimeKey(chosen));
    plan.set(n.name, { server: chosen.server, core: chosen.core });
  }
  return plan;
}

export class DeployError extends OrchestratorError {
  constructor(message: string, readonly placed: Placement[], exitCode: number) {
    super(message, exitCode);
  }
}

/** Deploy (sinks first). On failure: reset what was placed (unless keepPartial) and throw. */
export async function deployWorkflow(o: Orchestrator, wf: Workflow, opts: { keepPartial?: boolean } = {}): Promise<Placement[]> {
  const plan = await planWorkflow(o, wf);
  const placed: Placement[] = [];
  for (const n of deployOrder(wf)) {
    const d = plan.get(n.name)!;
    const ins = wf.channels.filter((c) => c.to === n.name).map((c) => plan.get(c.from)!);
    const out = wf.channels.find((c) => c.from === n.name);
    const input: Endpoint = ins.length === 1 ? { kind: 'dime', dime: ins[0] } : ins.length > 1 ? { kind: 'any' } : n.input ?? { kind: 'any' };
    const output: Endpoint = out ? { kind: 'dime', dime: plan.get(out.to)! } : n.output ?? { kind: 'console' };
    try {
      await o.deploy(d, { role: `${wf.name}.${n.name}`, source: n.source, params: n.params, input, output, memLimit: n.memLimit });
      placed.push({ node: n.name, dime: d, label: o.label(d), service: n.source.name, input, output });
    } catch (e) {
      const err = e as OrchestratorError;
      if (!opts.keepPartial) {
        for (const p of placed.reverse()) await o.reset(p.dime, 1000).catch(() => undefined);
      }
      throw new DeployError(`workflow ${wf.name}: deploying '${n.name}' on ${o.label(d)} failed: ${err.message}` +
        (opts.keepPartial ? ` (kept ${placed.length} deployed service${placed.length === 1 ? '' : 's'}: --keep-partial)` : placed.length ? `; rolled back ${placed.length} deployed service${placed.length === 1 ? '' : 's'}` : ''),
        opts.keepPartial ? placed : [], err.exitCode ?? 1);
    }
  }
  return placed;
}
