// QMP, QEMU's machine protocol (-qmp unix:PATH,server,wait=off | tcp:HOST:PORT,server,wait=off):
// a greeting, capabilities negotiation, commands answered with {"return": ...} or {"error":
// {"class", "desc"}} (an "id" is echoed), and asynchronous events, with QEMU's names and field
// shapes for the subset below.

import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { HumanMonitor } from '../monitor/hmp.js';
import type { VmControl, VmEvent } from '../monitor/vm-control.js';
import { QmpSpecError, parseQmpSpec, type QmpAddress } from './qmp-address.js';

export { QmpSpecError, parseQmpSpec, type QmpAddress };

type Reply = { return: unknown } | { error: { class: string; desc: string } };

const COMMANDS = ['qmp_capabilities', 'query-status', 'query-version', 'query-commands', 'query-cpus-fast', 'stop', 'cont',
  'system_powerdown', 'system_reset', 'quit', 'human-monitor-command', 'snapshot-save', 'snapshot-load', 'snapshot-delete',
  'query-jobs', 'job-dismiss'];

/** A snapshot job as QEMU 7.2 reports it (query-jobs); snapshot jobs are not dismissed automatically. */
interface QmpJob {
  id: string;
  type: 'snapshot-save' | 'snapshot-load' | 'snapshot-delete';
  status: 'created' | 'running' | 'waiting' | 'pending' | 'concluded';
  'current-progress': number;
  'total-progress': number;
  error?: string;
}

function versionTriple(version: string): { major: number; minor: number; micro: number } {
  const [major, minor, micro] = version.split('.').map((x) => Number.parseInt(x, 10) || 0);
  return { major, minor, micro };
}

export class QmpServer {
  private readonly servers: Server[] = [];
  private readonly clients = new Set<{ sock: Socket; negotiated: boolean }>();
  private readonly hmp: HumanMonitor;
  private readonly jobs = new Map<string, QmpJob>();

  constructor(private readonly vm: VmControl) {
    this.hmp = new HumanMonitor(vm);
    vm.on('event', (e: VmEvent) => {
      for (const c of this.clients) if (c.negotiated) this.write(c.sock, e);
    });
  }

  listen(spec: string): Promise<void> {
    const a = parseQmpSpec(spec);
    return new Promise((resolve, reject) => {
      const s = createServer((sock) => this.accept(sock));
      s.once('error', (e) => reject(new QmpSpecError(`-qmp ${spec}: ${(e as Error).message}`)));
      if (a.kind === 'unix') {
        // a socket left by an earlier run is replaced, as QEMU does
        if (existsSync(a.path) && lstatSync(a.path).isSocket()) unlinkSync(a.path);
        s.listen(a.path, () => resolve());
      } else {
        s.listen(a.port, a.host, () => resolve());
      }
      s.unref();
      this.servers.push(s);
    });
  }

  close(): void {
    for (const s of this.servers) s.close();
    for (const c of this.clients) c.sock.end();
  }

  private write(sock: Socket, obj: unknown): void {
    if (!sock.destroyed) sock.write(`${JSON.stringify(obj)}\r\n`);
  }

  private accept(sock: Socket): void {
    const client = { sock, negotiated: false };
    this.clients.add(client);
    sock.setEncoding('utf8');
    sock.on('close', () => this.clients.delete(client));
    sock.on('error', () => undefined);
    this.write(sock, { QMP: { version: { qemu: versionTriple(this.vm.version), package: 'parallax-emu' }, capabilities: [] } });
    let buf = '';
    let chain = Promise.resolve();
    sock.on('data', (d: string) => {
      buf += d;
      if (buf.length > 1 << 20) { this.write(sock, { error: { class: 'GenericError', desc: 'request too long' } }); buf = ''; return; }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        chain = chain.then(() => this.request(client, line));
      }
    });
  }

  /** Run a snapshot job, with QEMU's JOB_STATUS_CHANGE events on the way. */
  private async runJob(job: QmpJob, tag: string): Promise<void> {
    const status = (s: QmpJob['status']) => {
      job.status = s;
      const ms = Date.now();
      const ev = { event: 'JOB_STATUS_CHANGE', data: { status: s, id: job.id }, timestamp: { seconds: Math.floor(ms / 1000), microseconds: (ms % 1000) * 1000 } };
      for (const c of this.clients) if (c.negotiated) this.write(c.sock, ev);
    };
    status('created');
    status('running');
    try {
      if (job.type === 'snapshot-save') await this.vm.savevm(tag);
      else if (job.type === 'snapshot-load') await this.vm.loadvm(tag);
      else this.vm.delvm(tag);
    } catch (e) {
      job.error = (e as Error).message;
    }
    job['current-progress'] = 1;
    status('waiting');
    status('pending');
    status('concluded');
  }

  private async request(client: { sock: Socket; negotiated: boolean }, line: string): Promise<void> {
    let msg: { execute?: unknown; arguments?: Record<string, unknown>; id?: unknown };
    try {
      msg = JSON.parse(line);
    } catch (e) {
      this.write(client.sock, { error: { class: 'GenericError', desc: `JSON parse error, ${(e as Error).message}` } });
      return;
    }
    const withId = (r: Reply) => (msg && typeof msg === 'object' && 'id' in msg ? { ...r, id: msg.id } : r);
    if (!msg || typeof msg !== 'object' || typeof msg.execute !== 'string') {
      this.write(client.sock, withId({ error: { class: 'GenericError', desc: 'QMP input must be a JSON object with "execute"' } }));
      return;
    }
    const { reply, after } = await this.run(client, msg.execute, msg.arguments ?? {});
    this.write(client.sock, withId(reply));
    after?.();
  }

  private async run(client: { negotiated: boolean }, cmd: string, args: Record<string, unknown>): Promise<{ reply: Reply; after?: () => void }> {
    const ok = (v: unknown = {}): { reply: Reply } => ({ reply: { return: v } });
    const err = (desc: string, cls = 'GenericError'): { reply: Reply } => ({ reply: { error: { class: cls, desc } } });
    if (!client.negotiated) {
      if (cmd !== 'qmp_capabilities') return err(`Expecting capabilities negotiation with 'qmp_capabilities'`, 'CommandNotFound');
      client.negotiated = true;
      return ok();
    }
    const vm = this.vm;
    switch (cmd) {
      case 'qmp_capabilities': return err('Capabilities negotiation is already complete, command ignored', 'CommandNotFound');
      case 'query-status': return ok({ status: vm.status, singlestep: false, running: vm.running });
      case 'query-version': return ok({ qemu: versionTriple(this.vm.version), package: 'parallax-emu' });
      case 'query-commands': return ok(COMMANDS.map((name) => ({ name })));
      case 'query-cpus-fast': {
        const m = vm.server.machine;
        return ok(Array.from({ length: m.cores }, (_, i) => ({
          'thread-id': m.workerThreadId(i),
          props: { 'core-id': i, 'thread-id': 0, 'socket-id': 0 }, // one socket of N cores, as QEMU 7.2's -smp N
          'qom-path': `/machine/unattached/device[${i}]`,
          'cpu-index': i,
          target: 'x86_64',
        })));
      }
      case 'stop': await vm.stop(); return ok();
      case 'cont': await vm.cont(); return ok();
      case 'quit': return { reply: { return: {} }, after: () => vm.quit() };
      case 'system_reset': return { reply: { return: {} }, after: () => vm.reset() };
      case 'system_powerdown': return { reply: { return: {} }, after: () => vm.powerdown() };
      case 'human-monitor-command': {
        const line = args['command-line'];
        if (typeof line !== 'string') return err(`Parameter 'command-line' is missing`);
        const out = await this.hmp.execute(line);
        return ok(out.replace(/\n/g, '\r\n'));
      }
      case 'snapshot-save': case 'snapshot-load': case 'snapshot-delete': {
        const id = args['job-id'];
        const tag = args.tag;
        if (typeof id !== 'string') return err(`Parameter 'job-id' is missing`);
        if (typeof tag !== 'string') return err(`Parameter 'tag' is missing`);
        if (this.jobs.has(id)) return err(`Job ID '${id}' already in use`);
        const job: QmpJob = { id, type: cmd, status: 'created', 'current-progress': 0, 'total-progress': 1 };
        this.jobs.set(id, job);
        // vmstate/devices name block nodes in QEMU; this machine has no disks: the whole
        // machine state goes to TAG.pxsnap in --snapshot-dir
        return { reply: { return: {} }, after: () => void this.runJob(job, tag) };
      }
      case 'query-jobs': return ok([...this.jobs.values()].map((j) => ({ ...j })));
      case 'job-dismiss': {
        const j = typeof args.id === 'string' ? this.jobs.get(args.id) : undefined;
        if (!j) return err(`Job not found`);
        if (j.status !== 'concluded') return err(`Job '${j.id}' in state '${j.status}' cannot accept command verb 'dismiss'`);
        this.jobs.delete(j.id);
        return ok();
      }
      default: return err(`The command ${cmd} has not been found`, 'CommandNotFound');
    }
  }
}
