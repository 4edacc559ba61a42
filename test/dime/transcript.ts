// Transcripts: what one scenario looked like from outside the machine, reduced to what must be
// the same on every x86-64 machine that runs the DIME kernel (QEMU and parallax-emu here).
//
// A transcript has three parts:
//  * frames: every frame on the LAN, decoded and grouped by sender (one DIME = server MAC + core,
//    or the test's own MACs). Within one sender the order is kept: a DIME's core emits its frames
//    in program order. Between senders it is not: DIMEs run in parallel, and the kernel promises
//    no order between cores, so interleavings differ between machines (and between runs).
//  * periodic: heartbeats and performance broadcasts come from local timers, so how many there
//    are and where they fall between other frames depends on wall-clock time. Only which DIMEs
//    sent them (and at which configured interval) is compared.
//  * console: COM1 lines, grouped by the DIME that printed them (same reason as frames).
//
// Fields left out because they legitimately differ between two correct machines:
//  * header `seq`, `epoch` and the HMAC tag: sequence numbers start from the RTC and the test
//    clock, epochs are random per boot; the tag covers both;
//  * times: uptimeNs, runNs, cpuNs, windowNs, serviceCpuNs, startNs/endNs (an open EXECUTE
//    record keeps its "still running" meaning), beat counters, CPU per-mille;
//  * framesOut/bytesOut in PERF reports: they count heartbeats and broadcasts (timer-driven);
//  * ALARM.detail of SECURITY alarms: it is the offending frame's seq;
//  * console: TSC/LAPIC frequencies (host speed), the service CPU time on its exit line, the
//    e1000 BAR address (placed by the firmware: SeaBIOS on QEMU, our loader on the emulator),
//    and everything a firmware prints before the kernel's banner.
// MAC addresses are kept: the tests give each machine's NIC the same MAC on both runners.
import { createHash } from 'node:crypto';
import * as W from '../../src/protocol/wire.js';
import type { PxCodec, Frame, FieldValue } from '../../src/protocol/codec.js';
import type { StreamLan } from './lan.js';
import type { MachineRunner } from './runner.js';

export interface Transcript {
  frames: Record<string, string[]>;
  periodic: string[];
  console: Record<string, string[]>;
}

const PERF_TIMING = ['cpuPermille', 'cpuPermilleTotal', 'windowNs', 'serviceCpuNs', 'framesOut', 'bytesOut'];
/** payload fields that depend on time, per message */
const TIMING_FIELDS: Record<string, string[]> = {
  DISCOVER: ['uptimeNs'],
  HEARTBEAT: ['beat', 'uptimeNs', 'cpuPermille'],
  QUERY_PERF: PERF_TIMING,
  PERF: PERF_TIMING,
  SERVICE_EXIT: ['runNs', 'cpuNs'],
  // epochNow: random per boot; ignored: QEMU pads a runt into a frame the kernel ignores (counted),
  // the 82540EM (parallax-emu) drops it in the NIC (RUC)
  QUERY_SECURITY: ['epochNow', 'ignored', 'nicRunts'],
};
const RECORD_TIMING = ['startNs', 'cpuNs'];
const PERIODIC_EVENTS = new Set(['HEARTBEAT', 'PERF']);

const STATUS_NAMES = new Map<number, string>(Object.entries(W.STATUS).map(([k, v]) => [v, k]));

function core(c: number): string {
  return c === W.CORE_NONE ? '-' : String(c);
}

function shortHash(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 12);
}

function value(name: string, v: FieldValue): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) {
    if (name === 'data' && v.every((x) => x === 0x0a || x === 0x0d || (x >= 0x20 && x < 0x7f))) return v.toString('latin1');
    return `${v.length} bytes ${shortHash(v)}`;
  }
  return v;
}

function normalizedFields(codec: PxCodec, f: Frame): string {
  const m = f.message!;
  let fields: Record<string, unknown>;
  try {
    fields = codec.fields(f) as Record<string, unknown>;
  } catch {
    return `payload ${f.payload.length} bytes ${shortHash(f.payload)}`;
  }
  const out: Record<string, unknown> = {};
  const drop = new Set(TIMING_FIELDS[m.name] ?? []);
  if (m.name === 'ALARM' && fields.kind === W.ALARM_KIND.SECURITY) drop.add('detail');
  for (const [k, v] of Object.entries(fields)) {
    if (drop.has(k)) continue;
    if (k === 'records') {
      out.records = (v as Array<Record<string, FieldValue>>).map((r) => {
        const rec: Record<string, unknown> = {};
        for (const [rk, rv] of Object.entries(r)) {
          if (RECORD_TIMING.includes(rk)) continue;
          rec[rk] = rk === 'endNs' ? (rv === 0n ? 'open' : 'closed') : value(rk, rv);
        }
        return rec;
      });
      continue;
    }
    out[k] = value(k, v as FieldValue);
  }
  return JSON.stringify(out);
}

/** A frame of our EtherType block that does not decode (truncated, say) still carries a seq and
 * perhaps part of a tag: compare it without them. */
function withoutSeqAndTag(codec: PxCodec, raw: Buffer): Buffer {
  const h = W.ETH_HEADER_LEN;
  if (raw.length < h + 16 || (raw.readUInt16BE(12) & W.ETHERTYPE_BLOCK_MASK) !== codec.etherBase) return raw;
  const end = Math.min(raw.length, h + W.HEADER_LEN + raw.readUInt16BE(h + 6));
  const c = Buffer.from(raw.subarray(0, Math.max(end, h + 16)));
  c.fill(0, h + 8, Math.min(c.length, h + 16));
  if (c.length > h + 24) c.fill(0, h + 24, Math.min(c.length, h + 32)); // the epoch: random per boot
  return c;
}

export interface DescribedFrame {
  /** who sent it: "mac/core" for decodable frames, "raw" otherwise */
  sender: string;
  text: string;
  periodic: boolean;
}

/** One frame, reduced to what two correct machines must agree on. */
export function describeFrame(codec: PxCodec, raw: Buffer): DescribedFrame {
  const f = codec.decode(raw);
  if (!f) return { sender: 'raw', text: `raw ${raw.length} bytes ${shortHash(withoutSeqAndTag(codec, raw))}`, periodic: false };
  const kind = f.flags & W.FLAGS.RESPONSE ? 'response' : f.flags & W.FLAGS.EVENT ? 'event' : 'request';
  const sender = `${f.srcMac}/${core(f.srcCore)}`;
  const name = f.message?.name ?? `${f.channel}#${f.code}`;
  if (kind === 'event' && f.message && PERIODIC_EVENTS.has(name)) {
    let interval = '';
    try { interval = name === 'HEARTBEAT' ? ` every ${codec.fields(f).intervalMs} ms` : ''; } catch { /* short payload */ }
    return { sender, text: `${name} from ${sender}${interval}`, periodic: true };
  }
  const head = [
    kind, name, f.scope, `${sender} -> ${f.dstMac}/${core(f.dstCore)}`,
    f.authentic ? '' : 'BAD-TAG', f.version !== W.PROTOCOL_VERSION ? `v${f.version}` : '',
    f.flags & ~(W.FLAGS.RESPONSE | W.FLAGS.EVENT) ? `flags ${f.flags}` : '',
    f.reqId ? `req ${f.reqId}` : '', kind === 'response' ? (STATUS_NAMES.get(f.status) ?? `status ${f.status}`) : '',
  ].filter(Boolean).join(' ');
  const body = f.message ? normalizedFields(codec, f) : `payload ${f.payload.length} bytes ${shortHash(f.payload)}`;
  return { sender, text: `${head} ${body}`, periodic: false };
}

/** Console text reduced to what two correct machines print alike. */
export function normalizeConsoleLine(line: string): string {
  return line
    .replace(/TSC \d+ kHz, LAPIC timer \d+ kHz/, 'TSC <f> kHz, LAPIC timer <f> kHz')
    .replace(/, cpu \d+ us,/, ', cpu <t> us,')
    .replace(/^(e1000: \S+) at [0-9a-f]+,/, '$1 at <bar>,');
}

/** "DIME n" for a line a DIME printed (kernel or service), "machine" for the rest. */
export function consoleOwner(line: string): string {
  const m = /^(?:\[DIME (\d+)\]|DIME (\d+)\b)/.exec(line);
  return m ? `DIME ${m[1] ?? m[2]}` : 'machine';
}

export function consoleTranscript(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of text.split('\n')) {
    if (line === '') continue;
    (out[consoleOwner(line)] ??= []).push(normalizeConsoleLine(line));
  }
  return out;
}

function sortedKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const BANNER = 'DIME kernel (Parallax) booting';

/**
 * Records the LAN and the consoles of the machines on it; `take()` returns the transcript since
 * the previous `take()` (the console from the kernel's banner for the first one). Console lines
 * are keyed "<machine label> DIME n" / "<machine label> machine".
 */
export class TranscriptRecorder {
  private frames: DescribedFrame[] = [];
  private frameMark = 0;
  private consoleMarks: number[];
  private lastChange = Date.now();

  constructor(readonly codec: PxCodec, lan: StreamLan, private readonly machines: Array<[label: string, runner: MachineRunner]>) {
    this.consoleMarks = machines.map(() => -1);
    const add = (raw: Buffer) => {
      const d = describeFrame(codec, raw);
      this.frames.push(d);
      if (!d.periodic) this.lastChange = Date.now();
    };
    lan.on('frame', add);
    lan.on('sent', add);
  }

  private consoleLength(): number {
    return this.machines.reduce((n, [, m]) => n + m.output.length, 0);
  }

  /** Waits until neither a console nor the (non-periodic) frames changed for `quietMs`. */
  async settle(quietMs = 200, maxMs = 3000): Promise<void> {
    const start = Date.now();
    let len = this.consoleLength();
    for (;;) {
      await new Promise((r) => setTimeout(r, 50));
      const now = this.consoleLength();
      if (now !== len) { len = now; this.lastChange = Date.now(); }
      if (Date.now() - this.lastChange >= quietMs || Date.now() - start >= maxMs) return;
    }
  }

  take(): Transcript {
    const frames: Record<string, string[]> = {};
    const periodic = new Set<string>();
    // request ids are numbered by first appearance in this transcript, so that one scenario's
    // transcript does not depend on how many requests earlier scenarios made
    const ids = new Map<string, string>();
    const renumber = (text: string) => text.replace(/ req (\d+)/, (_, id: string) => {
      if (!ids.has(id)) ids.set(id, `#${ids.size + 1}`);
      return ` req ${ids.get(id)}`;
    });
    for (const d of this.frames.slice(this.frameMark)) {
      if (d.periodic) periodic.add(d.text);
      else (frames[d.sender] ??= []).push(renumber(d.text));
    }
    this.frameMark = this.frames.length;
    const console: Record<string, string[]> = {};
    this.machines.forEach(([label, m], i) => {
      const out = m.output;
      let from = this.consoleMarks[i];
      if (from < 0) {
        const b = out.indexOf(BANNER);
        from = b < 0 ? out.length : b;
      }
      const to = Math.max(from, out.lastIndexOf('\n') + 1);   // whole lines only
      this.consoleMarks[i] = to;
      for (const [owner, lines] of Object.entries(consoleTranscript(out.slice(from, to)))) console[`${label} ${owner}`] = lines;
    });
    return { frames: sortedKeys(frames), periodic: [...periodic].sort(), console: sortedKeys(console) };
  }
}
