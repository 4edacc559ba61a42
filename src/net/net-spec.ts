// Network backend specifications as QEMU-like strings ("type,key=value,..."), parsed into a
// typed description with clear errors. As in QEMU, ",," stands for a literal comma in a value.
//
//   none
//   stream,host=H,port=P[,server=on]       TCP (QEMU: -netdev stream,addr.type=inet,...)
//   stream,path=/sock[,server=on]          unix socket (QEMU: addr.type=unix,addr.path=...)
//   dgram,local.host=H,local.port=P,remote.host=H,remote.port=P      UDP unicast
//   dgram,remote.host=230.0.0.1,remote.port=1234[,local.host=IFADDR]  UDP multicast
//   tap,ifname=NAME
//   hub,path=/sock | hub,port=P[,host=H]   client of a `parallax-emu hub`
// QEMU's own spellings addr.type/addr.host/addr.port/addr.path and local.type/remote.type=inet
// are accepted too, and `id=` is ignored, so a QEMU -netdev argument can be pasted.

import { isIP } from 'node:net';

export type SocketAddress =
  | { kind: 'inet'; host: string; port: number }
  | { kind: 'unix'; path: string };

export type NetSpec =
  | { type: 'none' }
  | { type: 'stream'; address: SocketAddress; server: boolean }
  | { type: 'dgram'; mode: 'unicast'; local: { host: string; port: number }; remote: { host: string; port: number } }
  | { type: 'dgram'; mode: 'multicast'; group: string; port: number; localHost?: string }
  | { type: 'tap'; ifname: string }
  | { type: 'hub'; address: SocketAddress };

const USAGE = 'expected one of: none | stream,host=H,port=P[,server=on] | stream,path=/sock[,server=on] | ' +
  'dgram,local.host=H,local.port=P,remote.host=H,remote.port=P | dgram,remote.host=GROUP,remote.port=P | ' +
  'tap,ifname=NAME | hub,path=/sock | hub,port=P';

export class NetSpecError extends Error {
  constructor(spec: string, why: string) {
    super(`bad network spec '${spec}': ${why}`);
    this.name = 'NetSpecError';
  }
}

/** Split "a,b=c,,d" into tokens, honouring ",," as an escaped comma. */
function splitSpec(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ',') {
      if (s[i + 1] === ',') { cur += ','; i++; continue; }
      out.push(cur);
      cur = '';
    } else cur += s[i];
  }
  out.push(cur);
  return out;
}

export function parseNetSpec(spec: string): NetSpec {
  const fail = (why: string): never => { throw new NetSpecError(spec, why); };
  const tokens = splitSpec(spec.trim());
  const type = tokens[0];
  if (!type) fail(USAGE);
  const opts = new Map<string, string>();
  for (const t of tokens.slice(1)) {
    const eq = t.indexOf('=');
    if (eq <= 0) fail(`option '${t}' is not key=value`);
    const k = t.slice(0, eq);
    if (opts.has(k)) fail(`option '${k}' given twice`);
    opts.set(k, t.slice(eq + 1));
  }
  opts.delete('id');

  const allow = (...keys: string[]): void => {
    for (const k of opts.keys()) if (!keys.includes(k)) fail(`unknown option '${k}' for ${type} (known: ${keys.join(', ')})`);
  };
  const bool = (k: string): boolean => {
    const v = opts.get(k);
    if (v === undefined) return false;
    if (['on', 'yes', 'true', '1'].includes(v)) return true;
    if (['off', 'no', 'false', '0'].includes(v)) return false;
    return fail(`option '${k}' must be on or off, got '${v}'`);
  };
  const port = (k: string, allowZero: boolean): number => {
    const v = opts.get(k);
    if (v === undefined) return fail(`missing option '${k}'`);
    if (!/^\d+$/.test(v)) return fail(`option '${k}' must be a port number, got '${v}'`);
    const n = Number(v);
    if (n > 65535 || (n === 0 && !allowZero)) return fail(`option '${k}' out of range: ${v}`);
    return n;
  };
  const inetType = (k: string): void => {
    const v = opts.get(k);
    if (v !== undefined && v !== 'inet') fail(`${k}=${v} is not supported (only inet)`);
  };
  /** host/port or path, possibly under QEMU's addr. prefix */
  const address = (prefix: string, allowZeroPort: boolean): SocketAddress => {
    const at = opts.get(`${prefix}type`);
    const path = opts.get(`${prefix}path`);
    const host = opts.get(`${prefix}host`);
    const hasPort = opts.has(`${prefix}port`);
    if (at !== undefined && at !== 'inet' && at !== 'unix') fail(`${prefix}type=${at} is not supported (inet or unix)`);
    if (path !== undefined) {
      if (host !== undefined || hasPort) fail('give either path= or host=/port=, not both');
      if (at === 'inet') fail(`${prefix}type=inet with a path`);
      if (path === '') fail('empty path');
      return { kind: 'unix', path };
    }
    if (at === 'unix') fail(`${prefix}type=unix needs ${prefix}path=`);
    if (!hasPort) fail(`needs path=/socket or port=P (${USAGE})`);
    return { kind: 'inet', host: host || '127.0.0.1', port: port(`${prefix}port`, allowZeroPort) };
  };
  const prefixed = (): string => (opts.has('addr.type') || opts.has('addr.path') || opts.has('addr.host') || opts.has('addr.port') ? 'addr.' : '');

  switch (type) {
    case 'none':
      allow();
      return { type: 'none' };
    case 'stream': {
      const p = prefixed();
      allow('server', `${p}type`, `${p}host`, `${p}port`, `${p}path`);
      const server = bool('server');
      return { type: 'stream', address: address(p, server), server };
    }
    case 'hub': {
      const p = prefixed();
      allow(`${p}type`, `${p}host`, `${p}port`, `${p}path`);
      return { type: 'hub', address: address(p, false) };
    }
    case 'dgram': {
      allow('local.type', 'local.host', 'local.port', 'remote.type', 'remote.host', 'remote.port');
      inetType('local.type');
      inetType('remote.type');
      const rhost = opts.get('remote.host');
      if (rhost === undefined) fail('dgram needs remote.host= and remote.port=');
      if (!isIP(rhost!)) fail(`remote.host must be an IP address, got '${rhost}'`);
      const lhost = opts.get('local.host');
      if (lhost !== undefined && !isIP(lhost)) fail(`local.host must be an IP address, got '${lhost}'`);
      if (isMulticastIPv4(rhost!)) {
        if (opts.has('local.port')) fail('multicast dgram listens on remote.port; drop local.port');
        return { type: 'dgram', mode: 'multicast', group: rhost!, port: port('remote.port', false), localHost: lhost };
      }
      return {
        type: 'dgram', mode: 'unicast',
        local: { host: lhost ?? '0.0.0.0', port: port('local.port', true) },
        remote: { host: rhost!, port: port('remote.port', false) },
      };
    }
    case 'tap': {
      allow('ifname');
      const ifname = opts.get('ifname');
      if (!ifname) fail('tap needs ifname=NAME');
      if (ifname!.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(ifname!)) fail(`ifname '${ifname}' is not a valid interface name (1-15 of A-Z a-z 0-9 _ . -)`);
      return { type: 'tap', ifname: ifname! };
    }
    default:
      return fail(`unknown backend type '${type}'; ${USAGE}`);
  }
}

export function isMulticastIPv4(host: string): boolean {
  if (isIP(host) !== 4) return false;
  const first = Number(host.split('.')[0]);
  return first >= 224 && first <= 239;
}

export function describeAddress(a: SocketAddress): string {
  return a.kind === 'unix' ? `unix:${a.path}` : `tcp:${a.host}:${a.port}`;
}
