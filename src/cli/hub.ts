// `parallax-emu hub --listen /path.sock|PORT|HOST:PORT [--listen ...] [--aging S] [--pcap F]`
// Runs a LearningSwitch (src/net/learning-switch.ts) until SIGINT/SIGTERM, printing per-port
// counters on SIGUSR1 and at exit.
// Usable on its own: `node dist/src/cli/hub.js --listen /tmp/lan.sock`.

import { pathToFileURL } from 'node:url';
import { DEFAULT_LINK_LATENCY_NS, LearningSwitch } from '../net/learning-switch.js';
import type { SocketAddress } from '../net/net-spec.js';
import { PcapWriter } from '../net/pcap-writer.js';
import { parseLossRate, type LanLoss } from '../net/seeded-loss.js';

export const HUB_USAGE = `usage: parallax-emu hub --listen /path.sock|PORT|HOST:PORT [--listen ...]
          [--aging SECONDS] [--pcap FILE] [--stats SECONDS] [--quiet]
          [--latency NS] [--members N] [--loss RATE [--loss-seed N]]
  A learning Ethernet switch. Clients speak QEMU's stream framing:
    parallax-emu --net hub,path=/path.sock ...
    qemu-system-x86_64 ... -netdev stream,id=n0,server=off,addr.type=unix,addr.path=/path.sock
  Machines run with --icount share one virtual time: a frame reaches them at its send time plus
  --latency NS of guest time (default ${DEFAULT_LINK_LATENCY_NS}); --members N holds time at 0 until N of them joined.
  --loss 1% loses that share of deliveries (one frame to one port), seeded (--loss-seed, default 1)
  so a lossy run repeats; every loss is counted in the stats.`;

export interface HubCliOptions {
  listen: SocketAddress[];
  agingSeconds: number;
  pcap?: string;
  statsSeconds: number;
  quiet: boolean;
  latencyNs: number;
  members: number;
  loss: LanLoss;
}

/** "/x.sock" or "./x" -> unix; "8000" -> TCP on 127.0.0.1; "0.0.0.0:8000" -> TCP on that host. */
export function parseListenAddress(text: string): SocketAddress {
  if (/^\d+$/.test(text)) {
    const port = Number(text);
    if (port < 1 || port > 65535) throw new Error(`hub: port out of range: ${text}`);
    return { kind: 'inet', host: '127.0.0.1', port };
  }
  const m = /^(.+):(\d+)$/.exec(text);
  if (m && !text.includes('/')) {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw new Error(`hub: port out of range: ${text}`);
    return { kind: 'inet', host: m[1].replace(/^\[|\]$/g, ''), port };
  }
  if (text === '') throw new Error('hub: empty --listen address');
  return { kind: 'unix', path: text };
}

export function parseHubArgs(argv: string[]): HubCliOptions {
  const o: HubCliOptions = { listen: [], agingSeconds: 300, statsSeconds: 0, quiet: false, latencyNs: DEFAULT_LINK_LATENCY_NS, members: 0, loss: { rate: 0, seed: 1 } };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`hub: ${flag} needs a value\n${HUB_USAGE}`);
      return v;
    };
    const num = (v: string): number => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`hub: ${flag} needs a non-negative number, got '${v}'`);
      return n;
    };
    switch (flag) {
      case '--listen': case '-l': o.listen.push(parseListenAddress(value())); break;
      case '--aging': o.agingSeconds = num(value()); break;
      case '--pcap': o.pcap = value(); break;
      case '--stats': o.statsSeconds = num(value()); break;
      case '--quiet': case '-q': o.quiet = true; break;
      case '--latency': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1e12) throw new Error(`hub: --latency needs a whole number of guest ns from 1, got '${v}'`);
        o.latencyNs = Number(v);
        break;
      }
      case '--members': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) > 1024) throw new Error(`hub: --members needs a whole number from 0 to 1024, got '${v}'`);
        o.members = Number(v);
        break;
      }
      case '--loss': {
        const v = value();
        try {
          o.loss.rate = parseLossRate(v);
        } catch (e) {
          throw new Error(`hub: --loss: ${(e as Error).message}`);
        }
        break;
      }
      case '--loss-seed': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw new Error(`hub: --loss-seed needs a whole number from 0 to 4294967295, got '${v}'`);
        o.loss.seed = Number(v);
        break;
      }
      case '--help': case '-h': throw new Error(HUB_USAGE);
      default: throw new Error(`hub: unknown argument '${a}'\n${HUB_USAGE}`);
    }
  }
  if (o.listen.length === 0) throw new Error(`hub: give at least one --listen address\n${HUB_USAGE}`);
  return o;
}

export function formatHubStats(hub: LearningSwitch): string {
  const s = hub.stats;
  const lines = [`hub: ${s.frames} frames, ${s.forwarded} forwarded, ${s.flooded} flooded, ${s.filtered} filtered, ` +
    `${s.learned} learned, ${s.aged} aged, ${hub.portCount()} ports connected` + (s.lost ? `, ${s.lost} deliveries lost on purpose` : '') +
    (s.unstamped || hub.vtime.memberCount() ? `; virtual time: ${hub.vtime.memberCount()} members, ${s.unstamped} frames from outside it, ${hub.vtime.lateJoins} late joins` : '')];
  for (const p of hub.portStats()) {
    lines.push(`  port ${p.id} (${p.peer}): rx ${p.rxFrames} frames/${p.rxBytes} B, tx ${p.txFrames} frames/${p.txBytes} B, ` +
      `tx dropped ${p.txDropped}, rx dropped ${p.rxDropped}, malformed ${p.malformed}, ${p.macs} MACs`);
  }
  return lines.join('\n');
}

/** Run the hub until a signal; resolves with the exit code. */
export async function hubMain(argv: string[]): Promise<number> {
  let o: HubCliOptions;
  try {
    o = parseHubArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  const log = o.quiet ? undefined : (l: string): void => { process.stderr.write(`${l}\n`); };
  const pcap = o.pcap ? new PcapWriter(o.pcap) : undefined;
  const hub = new LearningSwitch({ agingMs: o.agingSeconds * 1000, pcap, log, latencyNs: o.latencyNs, members: o.members, loss: o.loss });
  try {
    for (const a of o.listen) await hub.listen(a);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    await hub.close();
    return 1;
  }
  const where = hub.addresses().map((a) => (a.kind === 'unix' ? a.path : `${a.host}:${a.port}`)).join(', ');
  log?.(`hub: listening on ${where}`);
  const statsTimer = o.statsSeconds > 0 ? setInterval(() => process.stderr.write(`${formatHubStats(hub)}\n`), o.statsSeconds * 1000) : null;
  const onUsr1 = (): void => { process.stderr.write(`${formatHubStats(hub)}\n`); };
  process.on('SIGUSR1', onUsr1);
  return new Promise((resolve) => {
    const stop = async (): Promise<void> => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('SIGUSR1', onUsr1);
      if (statsTimer) clearInterval(statsTimer);
      if (!o.quiet) process.stderr.write(`${formatHubStats(hub)}\n`);
      await hub.close();
      pcap?.close();
      resolve(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  hubMain(process.argv.slice(2)).then((code) => process.exit(code));
}
