// Naming DIMEs and servers on the command line. A server is its MAC or an alias
// ("S1=52:54:00:00:00:0a"); a DIME is SERVER/CORE. Routes name a DIME or one of the
// endpoints a DIME can be wired to: the console, this orchestrator, nothing, anyone.
import { parseMac, macToString } from '../protocol/codec.js';
import { UsageError } from './errors.js';

export interface DimeAddress {
  server: string; // MAC, normalised lower-case
  core: number;
}

/** Server aliases, both ways. */
export class ServerNames {
  private readonly byName = new Map<string, string>();
  private readonly byMac = new Map<string, string>();

  constructor(aliases: Record<string, string> = {}) {
    for (const [name, mac] of Object.entries(aliases)) this.add(name, mac);
  }

  /** "S1=52:54:00:00:00:0a,S2=..." (also accepts several strings) */
  static parse(specs: string[]): ServerNames {
    const names = new ServerNames();
    for (const spec of specs) {
      for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
        const eq = part.indexOf('=');
        if (eq <= 0) throw new UsageError(`bad alias '${part}': expected NAME=MAC`);
        names.add(part.slice(0, eq), part.slice(eq + 1));
      }
    }
    return names;
  }

  add(name: string, mac: string): void {
    if (!/^[A-Za-z][A-Za-z0-9_.-]{0,31}$/.test(name)) throw new UsageError(`bad server alias '${name}': use letters, digits, _ . - (starting with a letter)`);
    let norm: string;
    try {
      norm = macToString(parseMac(mac));
    } catch {
      throw new UsageError(`bad MAC '${mac}' for server alias ${name}`);
    }
    this.byName.set(name, norm);
    this.byMac.set(norm, name);
  }

  entries(): Record<string, string> {
    return Object.fromEntries(this.byName);
  }

  /** MAC of a server given by alias or MAC. */
  resolve(text: string): string {
    const alias = this.byName.get(text);
    if (alias) return alias;
    try {
      return macToString(parseMac(text));
    } catch {
      const known = [...this.byName.keys()];
      throw new UsageError(`unknown server '${text}': give a MAC (aa:bb:cc:dd:ee:ff)${known.length ? ` or one of ${known.join(', ')}` : ' or define an alias with --alias NAME=MAC'}`);
    }
  }

  /** Display name: the alias if there is one, else the MAC. */
  label(mac: string): string {
    return this.byMac.get(mac) ?? mac;
  }

  dimeLabel(d: DimeAddress): string {
    return `${this.label(d.server)}/${d.core}`;
  }
}

/** Split "SERVER/CORE" (the server part may itself be a MAC). */
export function parseDime(text: string, names: ServerNames): DimeAddress {
  const slash = text.lastIndexOf('/');
  if (slash <= 0 || slash === text.length - 1) throw new UsageError(`'${text}' is not a DIME: expected SERVER/CORE, e.g. S1/1`);
  const coreText = text.slice(slash + 1);
  if (!/^\d{1,4}$/.test(coreText)) throw new UsageError(`'${text}': core must be a number, got '${coreText}'`);
  const core = Number(coreText);
  if (core >= 0xffff) throw new UsageError(`'${text}': core ${core} out of range`);
  return { server: names.resolve(text.slice(0, slash)), core };
}

/** "SERVER/CORE" -> one DIME, "SERVER" -> the whole server (core null). */
export function parseTarget(text: string, names: ServerNames): { server: string; core: number | null } {
  if (text.includes('/')) return parseDime(text, names);
  return { server: names.resolve(text), core: null };
}

/** Where a DIME's output can go, or where its input may come from. */
export type Endpoint =
  | { kind: 'dime'; dime: DimeAddress }
  | { kind: 'console' }
  | { kind: 'orchestrator'; mac?: string }
  | { kind: 'none' }
  | { kind: 'any' };

export function parseEndpoint(text: string, names: ServerNames): Endpoint {
  switch (text.toLowerCase()) {
    case 'console': return { kind: 'console' };
    case 'orchestrator': case 'me': return { kind: 'orchestrator' };
    case 'none': return { kind: 'none' };
    case 'any': return { kind: 'any' };
    default: return { kind: 'dime', dime: parseDime(text, names) };
  }
}

export function endpointLabel(e: Endpoint, names: ServerNames): string {
  switch (e.kind) {
    case 'dime': return names.dimeLabel(e.dime);
    case 'orchestrator': return e.mac ? `orchestrator(${e.mac})` : 'orchestrator';
    default: return e.kind;
  }
}

export function sameDime(a: DimeAddress, b: DimeAddress): boolean {
  return a.server === b.server && a.core === b.core;
}

export function dimeKey(d: DimeAddress): string {
  return `${d.server}/${d.core}`;
}
