// Policy files: what the orchestrator does on its own, and when. Either JSON (the shape of
// PolicyConfig) or a tiny line format, one policy per line, `#` starts a comment:
//
//   fault        missed=3 prefer=same-server [services=echo,upper] [reset-failed=yes]
//                (missed may be fractional: 2.5 intervals)
//   performance  cpu-above=80 for=2000 max-replicas=2 cpu-below=20 below-for=5000 [services=cpuburn] [split=yes]
//   check        every=100
//
// `services` names roles or service names (default: every service this orchestrator placed).
import { UsageError } from '../errors.js';
import { readUserFile } from '../user-file.js';

export type Preference = 'same-server' | 'other-server' | 'any';

export interface FaultPolicy {
  /** re-instantiate when the heartbeat has been missing this many intervals */
  missedIntervals: number;
  prefer: Preference;
  services?: string[];
  /** reset the silent DIME afterwards (best effort) so it can rejoin the pool */
  resetFailed: boolean;
}

export interface PerformancePolicy {
  cpuAbovePct: number;
  /** the DIME must stay above the threshold this long */
  sustainMs: number;
  maxReplicas: number;
  /** shut replicas when the group's average CPU stays below this... */
  cpuBelowPct: number;
  /** ...for this long */
  belowMs: number;
  prefer: Preference;
  services?: string[];
  /** divide the service's input between primary and replicas */
  split: boolean;
}

export interface PolicyConfig {
  fault?: FaultPolicy;
  performance: PerformancePolicy[];
  /** how often the engine looks (ms) */
  checkMs: number;
}

const FAULT_DEFAULTS: FaultPolicy = { missedIntervals: 3, prefer: 'same-server', resetFailed: true };
const PERF_DEFAULTS: PerformancePolicy = { cpuAbovePct: 80, sustainMs: 2000, maxReplicas: 1, cpuBelowPct: 20, belowMs: 5000, prefer: 'other-server', split: true };

function num(where: string, key: string, v: unknown, min: number, max: number): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${where}: ${key} must be a number from ${min} to ${max}, got '${String(v)}'`);
  return n;
}

function bool(where: string, key: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (['yes', 'on', 'true', '1'].includes(String(v))) return true;
  if (['no', 'off', 'false', '0'].includes(String(v))) return false;
  throw new UsageError(`${where}: ${key} must be yes or no, got '${String(v)}'`);
}

function prefer(where: string, v: unknown): Preference {
  if (v === 'same-server' || v === 'other-server' || v === 'any') return v;
  throw new UsageError(`${where}: prefer must be same-server, other-server or any, got '${String(v)}'`);
}

function services(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  const list = Array.isArray(v) ? v.map(String) : String(v).split(',');
  return list.map((s) => s.trim()).filter(Boolean);
}

function faultFrom(where: string, o: Record<string, unknown>): FaultPolicy {
  const known = ['missed', 'missedIntervals', 'prefer', 'services', 'reset-failed', 'resetFailed'];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new UsageError(`${where}: unknown fault setting '${k}' (known: missed, prefer, services, reset-failed)`);
  return {
    missedIntervals: num(where, 'missed', o.missed ?? o.missedIntervals ?? FAULT_DEFAULTS.missedIntervals, 1, 1000),
    prefer: prefer(where, o.prefer ?? FAULT_DEFAULTS.prefer),
    services: services(o.services),
    resetFailed: bool(where, 'reset-failed', o['reset-failed'] ?? o.resetFailed ?? FAULT_DEFAULTS.resetFailed),
  };
}

function perfFrom(where: string, o: Record<string, unknown>): PerformancePolicy {
  const alias: Record<string, string> = { 'cpu-above': 'cpuAbovePct', for: 'sustainMs', 'max-replicas': 'maxReplicas', 'cpu-below': 'cpuBelowPct', 'below-for': 'belowMs' };
  const v: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(o)) {
    const name = alias[k] ?? k;
    if (!['cpuAbovePct', 'sustainMs', 'maxReplicas', 'cpuBelowPct', 'belowMs', 'prefer', 'services', 'split'].includes(name)) {
      throw new UsageError(`${where}: unknown performance setting '${k}' (known: cpu-above, for, max-replicas, cpu-below, below-for, prefer, services, split)`);
    }
    v[name] = val;
  }
  const p: PerformancePolicy = {
    cpuAbovePct: num(where, 'cpu-above', v.cpuAbovePct ?? PERF_DEFAULTS.cpuAbovePct, 1, 100),
    sustainMs: num(where, 'for', v.sustainMs ?? PERF_DEFAULTS.sustainMs, 0, 86_400_000),
    maxReplicas: num(where, 'max-replicas', v.maxReplicas ?? PERF_DEFAULTS.maxReplicas, 1, 1024),
    cpuBelowPct: num(where, 'cpu-below', v.cpuBelowPct ?? PERF_DEFAULTS.cpuBelowPct, 0, 100),
    belowMs: num(where, 'below-for', v.belowMs ?? PERF_DEFAULTS.belowMs, 0, 86_400_000),
    prefer: prefer(where, v.prefer ?? PERF_DEFAULTS.prefer),
    services: services(v.services),
    split: bool(where, 'split', v.split ?? PERF_DEFAULTS.split),
  };
  if (p.cpuBelowPct >= p.cpuAbovePct) throw new UsageError(`${where}: cpu-below (${p.cpuBelowPct}) must be lower than cpu-above (${p.cpuAbovePct})`);
  return p;
}

export function parsePolicy(text: string, name = 'policy'): PolicyConfig {
  const cfg: PolicyConfig = { performance: [], checkMs: 100 };
  if (text.trimStart().startsWith('{')) {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`${name}: not valid JSON: ${(e as Error).message}`);
    }
    for (const k of Object.keys(o)) if (!['fault', 'performance', 'checkMs'].includes(k)) throw new UsageError(`${name}: unknown key '${k}' (known: fault, performance, checkMs)`);
    if (o.fault) cfg.fault = faultFrom(`${name}: fault`, o.fault as Record<string, unknown>);
    const perf = o.performance === undefined ? [] : Array.isArray(o.performance) ? o.performance : [o.performance];
    cfg.performance = perf.map((p, i) => perfFrom(`${name}: performance[${i}]`, p as Record<string, unknown>));
    if (o.checkMs !== undefined) cfg.checkMs = num(name, 'checkMs', o.checkMs, 10, 60_000);
    return cfg;
  }
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const where = `${name}:${i + 1}`;
    const [kind, ...words] = line.split(/\s+/);
    if (!['fault', 'performance', 'check'].includes(kind)) throw new UsageError(`${where}: unknown policy '${kind}' (known: fault, performance, check)`);
    const o: Record<string, string> = {};
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq <= 0) throw new UsageError(`${where}: '${w}' is not key=value`);
      o[w.slice(0, eq)] = w.slice(eq + 1);
    }
    if (kind === 'fault') {
      if (cfg.fault) throw new UsageError(`${where}: a second fault policy`);
      cfg.fault = faultFrom(where, o);
    } else if (kind === 'performance') cfg.performance.push(perfFrom(where, o));
    else if (kind === 'check') {
      for (const k of Object.keys(o)) if (k !== 'every') throw new UsageError(`${where}: unknown check setting '${k}' (known: every)`);
      cfg.checkMs = num(where, 'every', o.every ?? 100, 10, 60_000);
    } else throw new UsageError(`${where}: unknown policy '${kind}' (known: fault, performance, check)`);
  });
  if (!cfg.fault && cfg.performance.length === 0) throw new UsageError(`${name}: no policy in it (expected lines starting with fault or performance)`);
  return cfg;
}

export function loadPolicyFile(path: string): PolicyConfig {
  return parsePolicy(readUserFile(path, 'policy file'), path);
}
