// Bad input frames for the DIME kernel, and what the kernel must make of each one, computed
// independently of it from docs/PROTOCOL.md and the 82540EM's receive rules. A test sends them
// and checks the kernel's counters against these verdicts exactly.
import * as W from '../../src/protocol/wire.js';
import { parseMac } from '../../src/protocol/codec.js';

export type Verdict =
  /** never reaches the kernel: the NIC drops it (runt, oversized) or it is for another MAC */
  | { kind: 'invisible' }
  /** reaches the kernel, which ignores it without counting: not our EtherType block, or a report */
  | { kind: 'ignored' }
  /** counted as malformed by DIME `dime` */
  | { kind: 'malformed'; dime: number }
  /** well-formed but the tag is wrong: counted as forged by DIME `dime`, with a SECURITY alarm */
  | { kind: 'forged'; dime: number };

/** NICs pad received frames shorter than the Ethernet minimum (60 bytes without FCS) with zeros. */
const MIN_FRAME = 60;
/** Largest frame both QEMU's e1000 (1522) and the 82540EM itself (1518 without FCS) accept with LPE off. */
const NIC_MAX = 1518;

export function verdict(raw: Buffer, cores: number, serverMac: string): Verdict {
  if (raw.length < W.ETH_HEADER_LEN || raw.length > NIC_MAX) return { kind: 'invisible' };
  const mac = parseMac(serverMac);
  const dst = raw.subarray(0, 6);
  if (!dst.equals(mac) && !dst.equals(Buffer.alloc(6, 0xff))) return { kind: 'invisible' };
  const f = raw.length < MIN_FRAME ? Buffer.concat([raw, Buffer.alloc(MIN_FRAME - raw.length)]) : raw;
  const et = f.readUInt16BE(12);
  if ((et & W.ETHERTYPE_BLOCK_MASK) !== W.ETHERTYPE_BASE_DEFAULT) return { kind: 'ignored' };
  if (f.subarray(6, 12).equals(mac)) return { kind: 'ignored' };
  const h = W.ETH_HEADER_LEN;
  if (f[h + 1] & (W.FLAGS.RESPONSE | W.FLAGS.EVENT)) return { kind: 'ignored' };
  const dstCore = f.readUInt16BE(h + 2);
  const dimeScope = (et & W.ET_SCOPE_DIME) !== 0;
  if (dimeScope && dstCore >= cores) return { kind: 'malformed', dime: 0 };
  const dime = dimeScope ? dstCore : 0;
  if (f.length < h + W.HEADER_LEN + W.TAG_LEN) return { kind: 'malformed', dime };
  if (f[h] !== W.PROTOCOL_VERSION) return { kind: 'malformed', dime };
  const plen = f.readUInt16BE(h + 6);
  if (plen > W.MAX_PAYLOAD || h + W.HEADER_LEN + plen + W.TAG_LEN > f.length) return { kind: 'malformed', dime };
  return { kind: 'forged', dime };
}

/** Deterministic random frames addressed to `serverMac`, many of them nearly well-formed. */
export function randomFrames(count: number, serverMac: string, seed = 12345): Buffer[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8);
  const mac = parseMac(serverMac);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const len = W.ETH_HEADER_LEN + (rnd() % 1500);
    const f = Buffer.alloc(len);
    for (let j = 0; j < len; j++) f[j] = rnd() & 0xff;
    mac.copy(f, 0);
    f.writeUInt16BE(W.ETHERTYPE_BASE_DEFAULT | (rnd() & 0xff), 12);
    if (i % 3 === 0 && len > 15) f[14] = W.PROTOCOL_VERSION; // right version, garbage after
    if (i % 5 === 0 && len > 18) f.writeUInt16BE(rnd() % 8, 16); // plausible core
    if (i % 7 === 0 && len > 21) f.writeUInt16BE(rnd() % Math.max(1, len - 70), 20); // plausible length
    if (i % 2 === 0 && len > 15) f[15] &= ~(W.FLAGS.RESPONSE | W.FLAGS.EVENT); // a request, not a report
    out.push(f);
  }
  return out;
}
