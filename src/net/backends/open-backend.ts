// Build a backend from a spec string (or a parsed NetSpec). Backends that bind or listen
// are awaited, so errors such as "address in use" surface here, not later.

import { CapturingBackend, type NetBackend } from '../net-backend.js';
import { parseNetSpec, type NetSpec } from '../net-spec.js';
import { PcapWriter } from '../pcap-writer.js';
import { DgramBackend } from './dgram.js';
import { NullBackend } from './none.js';
import { StreamBackend, type StreamBackendOptions } from './stream.js';
import { TapBackend } from './tap.js';

export interface OpenBackendOptions {
  /** the NIC's MAC (multicast dgram drops frames coming back with it as source) */
  mac?: Uint8Array;
  /** write every frame sent and received to this pcap file */
  capturePath?: string;
  stream?: StreamBackendOptions;
}

export async function openNetBackend(spec: string | NetSpec, opts: OpenBackendOptions = {}): Promise<NetBackend> {
  const s = typeof spec === 'string' ? parseNetSpec(spec) : spec;
  let b: NetBackend;
  switch (s.type) {
    case 'none':
      b = new NullBackend();
      break;
    case 'stream': {
      const sb = new StreamBackend(s.address, s.server, opts.stream);
      await sb.ready();
      b = sb;
      break;
    }
    case 'hub':
      b = new StreamBackend(s.address, false, { ...opts.stream, label: 'hub' });
      break;
    case 'dgram': {
      const db = new DgramBackend(s.mode === 'unicast' ? s : { mode: 'multicast', group: s.group, port: s.port, localHost: s.localHost }, opts.mac);
      try {
        await db.ready();
      } catch (e) {
        await db.close();
        throw e;
      }
      b = db;
      break;
    }
    case 'tap':
      b = new TapBackend(s.ifname);
      break;
  }
  if (!opts.capturePath) return b;
  let pcap: PcapWriter;
  try {
    pcap = new PcapWriter(opts.capturePath);
  } catch (e) {
    await b.close(); // no half-opened backend left behind
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new Error(`cannot write capture file '${opts.capturePath}': ${code}`);
  }
  return new CapturingBackend(b, pcap);
}
