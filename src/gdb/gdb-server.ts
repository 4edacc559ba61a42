// gdb remote serial protocol stub (-s, -gdb tcp::PORT): one gdb connection at a time, all-stop
// mode, one thread per core (thread id = core index + 1, as QEMU numbers them). Breakpoints
// and watchpoints travel to the cores as a DebugConfig on every resume (src/gdb/core-debug.ts);
// memory is read and written by virtual address through the selected core's page tables.

import { createServer, type Server, type Socket } from 'node:net';
import type { Machine, MachineExit } from '../machine/machine.js';
import type { DebugConfig, StopReason, WatchKind } from '../debug/core-debug.js';
import { readLinear, writeLinear } from '../debug/page-walk.js';
import { targetXml } from './target-xml.js';
import { pagingRegsOf, REGISTERS, type CoreRegisters } from '../debug/x86-registers.js';
import { G_CODE_WRITES } from '../abi/control-block.js';
import { GdbAddressError, parseGdbAddress } from './gdb-address.js';

export { GdbAddressError, parseGdbAddress };

/** Largest packet we accept and announce (qSupported PacketSize, hex). */
const PACKET_SIZE = 0x1000;
/** gdb signal numbers used in stop replies */
const SIGINT = 2, SIGTRAP = 5;

const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const checksum = (s: string) => { let c = 0; for (let i = 0; i < s.length; i++) c = (c + s.charCodeAt(i)) & 0xff; return c; };

/** little-endian hex of an unsigned value of `bits` */
function leHex(v: bigint, bits: number): string {
  let out = '';
  for (let i = 0; i < bits / 8; i++) { out += hex2(Number(v & 0xffn)); v >>= 8n; }
  return out;
}

function fromLeHex(h: string): bigint {
  let v = 0n;
  for (let i = h.length - 2; i >= 0; i -= 2) v = (v << 8n) | BigInt(parseInt(h.slice(i, i + 2), 16));
  return v;
}


export class GdbServer {
  private server: Server | null = null;
  private conn: Socket | null = null;
  private buf = '';
  private noAck = false;
  private multiprocess = false;
  /** Hg (registers, memory) and Hc (step/continue) threads: core indexes */
  private gCore = 0;
  private cCore = 0;
  private breakpoints = new Set<string>();
  private watchpoints: { addr: string; len: number; kind: WatchKind }[] = [];
  /** a resume is in flight: the next stop is reported to gdb */
  private waiting = false;
  private lastStop: { core: number; stop: StopReason; signal: number } = { core: 0, stop: { kind: 'pause' }, signal: SIGTRAP };
  private exit: MachineExit | null = null;
  private xml = targetXml();
  address = '';

  constructor(private readonly machine: Machine, private readonly onKill: () => void) {
    machine.control.on('parked', (core: number, stop: StopReason) => this.onParked(core, stop));
    void machine.exited.then((e) => {
      this.exit = e;
      if (this.conn) { this.send(`W${hex2(e.code & 0xff)}`); this.conn.end(); }
      this.close();
    });
  }

  listen(spec: string): Promise<string> {
    const { host, port } = parseGdbAddress(spec);
    return new Promise((resolve, reject) => {
      const s = createServer((sock) => this.accept(sock));
      s.once('error', (e) => reject(new GdbAddressError(`-gdb ${spec}: ${(e as Error).message}`)));
      s.listen(port, host, () => {
        const a = s.address();
        this.address = typeof a === 'object' && a ? `${host}:${a.port}` : spec;
        resolve(this.address);
      });
      this.server = s;
    });
  }

  close(): void {
    this.server?.close();
    this.server = null;
  }

  private accept(sock: Socket): void {
    if (this.conn) { sock.end(); return; } // one debugger at a time, as QEMU
    this.conn = sock;
    this.noAck = false;
    this.buf = '';
    sock.setNoDelay(true);
    sock.setEncoding('latin1');
    // gdb expects a stopped target when it attaches
    this.attached = this.machine.control.pauseAll().then(() => this.pickStoppedCore());
    sock.on('data', (d: string) => this.onData(d));
    sock.on('close', () => { if (this.conn === sock) { this.conn = null; this.detach(); } });
    sock.on('error', () => undefined);
  }

  private onData(d: string): void {
    this.buf += d;
    for (;;) {
      const b = this.buf;
      if (b.length === 0) return;
      const c = b[0];
      if (c === '+' || c === '-') { this.buf = b.slice(1); continue; }
      if (c === '\x03') { this.buf = b.slice(1); this.interrupt(); continue; }
      if (c !== '$') { this.buf = b.slice(1); continue; }
      const end = b.indexOf('#');
      if (end < 0 || b.length < end + 3) {
        if (b.length > PACKET_SIZE * 2 + 4) this.buf = ''; // garbage without an end: drop it
        return;
      }
      const body = b.slice(1, end);
      const sum = parseInt(b.slice(end + 1, end + 3), 16);
      this.buf = b.slice(end + 3);
      if (!this.noAck) {
        if (sum !== checksum(body)) { this.conn?.write('-'); continue; }
        this.conn?.write('+');
      }
      this.enqueue(unescape(body));
    }
  }

  private send(data: string): void {
    if (!this.conn) return;
    const esc = data.replace(/[$#}*]/g, (ch) => `}${String.fromCharCode(ch.charCodeAt(0) ^ 0x20)}`);
    this.conn.write(`$${esc}#${hex2(checksum(esc))}`);
  }

  private get control() {
    return this.machine.control;
  }

  private regs(core: number): CoreRegisters | null {
    return this.control.registers(core);
  }

  /** packets are handled in order, each after the machine has stopped for the debugger */
  private queue: Promise<void> = Promise.resolve();
  private attached: Promise<void> = Promise.resolve();

  private enqueue(p: string): void {
    this.queue = this.queue.then(() => this.attached).then(() => this.handle(p));
  }

  private async handle(p: string): Promise<void> {
    const reply = (s: string) => this.send(s);
    try {
      switch (p[0]) {
        case '?': return reply(this.stopReply());
        case 'g': {
          const r = this.regs(this.gCore);
          return reply(r ? REGISTERS.map((d) => leHex(r[d.name] ?? 0n, d.bits)).join('') : 'E14');
        }
        case 'G': {
          const values: CoreRegisters = {};
          let at = 1;
          for (const d of REGISTERS) {
            const n = d.bits / 4;
            if (at + n > p.length) break;
            values[d.name] = fromLeHex(p.slice(at, at + n));
            at += n;
          }
          this.control.setRegisters(this.gCore, values);
          return reply('OK');
        }
        case 'p': {
          const d = REGISTERS[parseInt(p.slice(1), 16)];
          const r = this.regs(this.gCore);
          if (!r) return reply('E14');
          return reply(d ? leHex(r[d.name] ?? 0n, d.bits) : 'E45');
        }
        case 'P': {
          const [n, v] = p.slice(1).split('=');
          const d = REGISTERS[parseInt(n, 16)];
          if (!d) return reply('E45');
          this.control.setRegisters(this.gCore, { [d.name]: fromLeHex(v) });
          return reply('OK');
        }
        case 'm': return reply(this.readMemory(p.slice(1)));
        case 'M': return reply(this.writeMemory(p.slice(1)));
        case 'H': {
          const core = this.threadToCore(p.slice(2));
          if (core === null) return reply('E22');
          if (p[1] === 'g') this.gCore = core < 0 ? this.gCore : core;
          else this.cCore = core < 0 ? this.cCore : core;
          return reply('OK');
        }
        case 'T': return reply(this.threadToCore(p.slice(1)) !== null ? 'OK' : 'E22');
        case 'Z': case 'z': return reply(this.breakpoint(p[0] === 'Z', p.slice(1)));
        case 'c': case 'C': return this.resume([{ action: 'c', core: -1 }]);
        case 's': case 'S': return this.resume([{ action: 's', core: this.cCore }]);
        case 'k': this.onKill(); return;
        case 'D':
          reply('OK');
          this.conn?.end();
          return;
        case 'q': case 'Q': return reply(this.query(p));
        case 'v': {
          if (p === 'vCont?') return reply('vCont;c;C;s;S');
          if (p.startsWith('vCont;')) return this.resume(parseVCont(p.slice(6), (t) => this.threadToCore(t)));
          return reply('');
        }
        default: return reply('');
      }
    } catch {
      return reply('E01'); // a malformed packet
    }
  }

  private query(p: string): string {
    if (p.startsWith('qSupported')) {
      // gdb's multiprocess thread ids (p1.N), as QEMU uses them: gdb then shows "Thread 1.N"
      this.multiprocess = /multiprocess\+/.test(p);
      return `PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;vContSupported+;QStartNoAckMode+${this.multiprocess ? ';multiprocess+' : ''}`;
    }
    if (p === 'QStartNoAckMode') { this.noAck = true; return 'OK'; }
    if (p.startsWith('qXfer:features:read:target.xml:')) {
      const [off, len] = p.slice('qXfer:features:read:target.xml:'.length).split(',').map((x) => parseInt(x, 16));
      const chunk = this.xml.slice(off, off + len);
      return (off + len >= this.xml.length ? 'l' : 'm') + chunk;
    }
    if (p.startsWith('qXfer:features:read:')) return 'E00';
    if (p === 'qfThreadInfo') {
      const ids: string[] = [];
      for (let i = 0; i < this.machine.cores; i++) if (this.control.live(i)) ids.push(this.threadId(i));
      return `m${ids.join(',')}`;
    }
    if (p === 'qsThreadInfo') return 'l';
    if (p === 'qC') return `QC${this.threadId(this.cCore)}`;
    if (p === 'qAttached') return '1';
    if (p.startsWith('qThreadExtraInfo,')) {
      const core = this.threadToCore(p.slice('qThreadExtraInfo,'.length));
      if (core === null || core < 0) return 'E22';
      // QEMU's wording: a core that is not in HLT is "running", even while the machine is stopped
      const text = `CPU#${core} [${this.control.halted(core) ? 'halted' : 'running'}]`;
      return Buffer.from(text, 'latin1').toString('hex');
    }
    return '';
  }

  private threadId(core: number): string {
    const tid = (core + 1).toString(16).padStart(2, '0');
    return this.multiprocess ? `p01.${tid}` : tid;
  }

  /** "1" or "p1.1" -> core 0; "-1" and "0" (any thread) -> -1; null when no such thread */
  private threadToCore(t: string): number | null {
    const m = /^p[0-9a-f]+\.(.*)$/i.exec(t);
    if (m) t = m[1];
    const n = parseInt(t, 16);
    if (t === '-1' || n === 0) return -1;
    if (!Number.isInteger(n) || n < 1 || n > this.machine.cores) return null;
    return n - 1;
  }

  private readMemory(args: string): string {
    const [a, l] = args.split(',');
    const len = parseInt(l, 16);
    const r = this.regs(this.gCore);
    if (!r || !Number.isInteger(len) || len < 0 || len > PACKET_SIZE / 2) return 'E14';
    const bytes = readLinear(this.machine.ramView(), this.machine.layout, pagingRegsOf(r), BigInt(`0x${a}`), len);
    return bytes ? Buffer.from(bytes).toString('hex') : 'E14';
  }

  private writeMemory(args: string): string {
    const [head, data] = args.split(':');
    const [a] = head.split(',');
    const r = this.regs(this.gCore);
    if (!r || data === undefined) return 'E14';
    const pages = writeLinear(this.machine.ramView(), this.machine.layout, pagingRegsOf(r), BigInt(`0x${a}`), Buffer.from(data, 'hex'));
    if (!pages) return 'E14';
    // code decoded from these pages is stale now: the cores re-decode it
    const { codeFlags, codeGen } = this.machine.shared;
    for (const pg of pages) if (codeFlags[pg]) { codeFlags[pg] = 0; Atomics.add(codeGen, pg, 1); Atomics.add(this.machine.shared.ctl, G_CODE_WRITES, 1); }
    return 'OK';
  }

  private breakpoint(insert: boolean, args: string): string {
    const [type, a, kind] = args.split(',');
    const addr = BigInt(`0x${a}`).toString(16);
    if (type === '0' || type === '1') {
      if (insert) this.breakpoints.add(addr); else this.breakpoints.delete(addr);
      return 'OK';
    }
    const watch: WatchKind | undefined = ({ 2: 'write', 3: 'read', 4: 'access' } as Record<string, WatchKind>)[type];
    if (!watch) return '';
    const len = parseInt(kind, 16);
    if (!Number.isInteger(len) || len < 1 || len > 8) return 'E22';
    if (insert) this.watchpoints.push({ addr, len, kind: watch });
    else this.watchpoints = this.watchpoints.filter((w) => !(w.addr === addr && w.len === len && w.kind === watch));
    return 'OK';
  }

  private config(step: boolean): DebugConfig | null {
    if (!step && this.breakpoints.size === 0 && this.watchpoints.length === 0) return null;
    return { breakpoints: [...this.breakpoints].map((a) => `0x${a}`), watchpoints: this.watchpoints.map((w) => ({ ...w, addr: `0x${w.addr}` })), step };
  }

  /** Resume per gdb's actions (the first action matching a core applies); the next stop is reported. */
  private resume(actions: { action: 'c' | 's'; core: number }[]): void {
    if (this.exit) { this.send(`W${hex2(this.exit.code & 0xff)}`); return; }
    const actionFor = (core: number) => actions.find((a) => a.core === -1 || a.core === core)?.action;
    this.waiting = true;
    const stepOnly = actions.every((a) => a.action === 's' && a.core >= 0) && actions.length === 1;
    if (stepOnly) {
      // step one thread, the others stay stopped
      this.control.resume(() => this.config(true), actions[0].core);
      return;
    }
    this.control.resume((core) => {
      const a = actionFor(core);
      return a === 's' ? this.config(true) : this.config(false);
    });
  }

  /** A core stopped by itself (breakpoint, step, watch): report it, and stop the rest of the machine. */
  private onParked(core: number, stop: StopReason): void {
    if (!this.waiting || !this.conn || stop.kind === 'pause') return;
    this.waiting = false;
    this.lastStop = { core, stop, signal: SIGTRAP };
    this.gCore = core;
    this.cCore = core;
    void this.control.pauseAll().then(() => this.send(this.stopReply()));
  }

  /** Ctrl-C from gdb: stop every core and report SIGINT. */
  private interrupt(): void {
    if (!this.waiting) return;
    this.waiting = false;
    void this.control.pauseAll().then(() => {
      this.lastStop = { core: this.cCore, stop: { kind: 'pause' }, signal: SIGINT };
      this.send(this.stopReply());
    });
  }

  private stopReply(): string {
    const { core, stop, signal } = this.lastStop;
    const thread = `thread:${this.threadId(core)};`;
    if (stop.kind === 'watch') {
      const key = stop.watch === 'write' ? 'watch' : stop.watch === 'read' ? 'rwatch' : 'awatch';
      return `T${hex2(SIGTRAP)}${key}:${stop.addr};${thread}`;
    }
    return `T${hex2(signal)}${thread}`;
  }

  /** After attach: the reported thread is the first parked core. */
  private pickStoppedCore(): void {
    const core = this.control.parked.findIndex((p) => p !== null);
    if (core >= 0) { this.gCore = this.cCore = core; this.lastStop = { core, stop: this.control.parked[core]!.stop, signal: SIGTRAP }; }
  }

  /** gdb went away: forget its breakpoints and let the machine run. */
  private detach(): void {
    this.breakpoints.clear();
    this.watchpoints = [];
    this.waiting = false;
    if (!this.exit) this.control.resume(() => null);
  }
}

/** "c;s:2" -> actions (core -1 = every thread) */
function parseVCont(s: string, toCore: (t: string) => number | null): { action: 'c' | 's'; core: number }[] {
  const out: { action: 'c' | 's'; core: number }[] = [];
  for (const part of s.split(';')) {
    const [act, thread] = part.split(':');
    const kind = act[0] === 's' || act[0] === 'S' ? 's' : act[0] === 'c' || act[0] === 'C' ? 'c' : null;
    if (!kind) continue;
    const core = thread === undefined ? -1 : toCore(thread);
    if (core === null) continue;
    out.push({ action: kind, core });
  }
  return out;
}

function unescape(body: string): string {
  if (!body.includes('}')) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '}' && i + 1 < body.length) { out += String.fromCharCode(body.charCodeAt(++i) ^ 0x20); } else out += body[i];
  }
  return out;
}
