// The processes a benchmark run starts: a hub (its own process, so the bench's event loop is
// never the switch) and DIME servers, each either parallax-emu or QEMU TCG on that hub, with
// the console captured. Both machine kinds get the same image, memory, command line and MAC.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from './paths.js';

export type MachineKind = 'parallax-emu' | 'qemu';

export const EMU_CLI = resolve(repoRoot, 'dist/src/cli/parallax-emu.js');
export const HUB_CLI = resolve(repoRoot, 'dist/src/cli/hub.js');
export const DIME_IMAGE = resolve(repoRoot, 'images/dime.elf');

export function qemuAvailable(): boolean {
  return spawnSync('qemu-system-x86_64', ['--version']).status === 0;
}

/** Every child still running; killed when the benchmark process ends, however it ends. */
const live = new Set<ChildProcess>();
let cleanupInstalled = false;

function killAll(): void {
  for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

/** Scripts call this once: no machine or hub outlives an interrupted benchmark. */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => { killAll(); process.exit(sig === 'SIGINT' ? 130 : 143); });
  }
}

/** A child process whose stdout+stderr are kept, with "wait until the output matches". */
export class Watched {
  readonly proc: ChildProcess;
  private out = '';
  private waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;
  /** host time (performance.now(), ms) at which each console line was complete */
  readonly lineTimes: Array<{ atMs: number; line: string }> = [];
  private partial = '';

  constructor(cmd: string, args: string[], readonly label: string) {
    this.proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this.proc);
    this.proc.on('exit', () => live.delete(this.proc));
    const onData = (d: Buffer) => {
      const now = performance.now();
      const text = d.toString('latin1').replace(/\r/g, '');
      this.out += text;
      if (this.out.length > 8_000_000) this.out = this.out.slice(-4_000_000);
      const parts = (this.partial + text).split('\n');
      this.partial = parts.pop()!;
      for (const line of parts) this.lineTimes.push({ atMs: now, line });
      for (const w of this.waiters.splice(0)) w();
    };
    this.proc.stdout!.on('data', onData);
    this.proc.stderr!.on('data', onData);
    this.proc.stdin!.on('error', () => undefined);
    this.exited = new Promise((res) => this.proc.on('exit', (code) => { for (const w of this.waiters.splice(0)) w(); res(code); }));
  }

  get output(): string { return this.out; }
  get running(): boolean { return this.proc.exitCode === null && this.proc.signalCode === null; }

  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    return new Promise((res, rej) => {
      const check = () => {
        const m = this.out.slice(from).match(re);
        if (m) { clearTimeout(timer); res(m); return; }
        if (!this.running) { clearTimeout(timer); rej(new Error(`${this.label} exited before ${re}:\n${this.out.slice(-1500)}`)); return; }
        this.waiters.push(check);
      };
      const timer = setTimeout(() => rej(new Error(`${this.label}: no ${re} within ${timeoutMs} ms:\n${this.out.slice(-1500)}`)), timeoutMs);
      check();
    });
  }

  /** resident memory of the process in KiB (threads included), from /proc */
  rssKiB(): number {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${this.proc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : NaN;
    } catch {
      return NaN;
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))]);
    if (this.running) { this.proc.kill('SIGKILL'); await this.exited; }
  }
}

/** The LAN switch, in a process of its own. */
export async function startHub(path: string): Promise<Watched> {
  if (!existsSync(HUB_CLI)) throw new Error(`${HUB_CLI} is missing: run npm run build`);
  const hub = new Watched(process.execPath, [HUB_CLI, '--listen', path], 'hub');
  await hub.waitFor(/hub: listening/, 10_000);
  return hub;
}

export interface DimeServerOptions {
  kind: MachineKind;
  cores: number;
  mac: string;
  /** unix socket of the hub; none = no NIC */
  hubPath?: string;
  key: string;
  memMiB?: number;
  /** extra kernel command line */
  append?: string;
}

/** Kernel command line for benchmarks: quiet network (heartbeats once a minute, no perf broadcasts). */
export function benchAppend(o: DimeServerOptions): string {
  return [`key=${o.key}`, 'hb=60000', 'perf=0', o.append ?? ''].join(' ').trim();
}

export function machineCommand(o: DimeServerOptions, image = DIME_IMAGE): [string, string[]] {
  const mem = String(o.memMiB ?? 256);
  if (o.kind === 'qemu') {
    const args = ['-nographic', '-no-reboot', '-serial', 'stdio', '-monitor', 'none', '-display', 'none',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-accel', 'tcg', '-m', mem, '-smp', String(o.cores),
      '-kernel', image, '-append', benchAppend(o)];
    if (o.hubPath) args.push('-netdev', `stream,id=lan0,server=off,addr.type=unix,addr.path=${o.hubPath}`, '-device', `e1000,netdev=lan0,mac=${o.mac}`);
    else args.push('-nic', 'none');
    return ['qemu-system-x86_64', args];
  }
  if (!existsSync(EMU_CLI)) throw new Error(`${EMU_CLI} is missing: run npm run build`);
  return [process.execPath, [EMU_CLI, '-c', String(o.cores), '-m', mem, '-k', image, '--append', benchAppend(o),
    '--net', o.hubPath ? `hub,path=${o.hubPath}` : 'none', '--mac', o.mac]];
}

/** One emulated server running the DIME kernel; `bootMs` is spawn to "DIME ready: N cores". */
export class DimeServer {
  readonly w: Watched;
  readonly startedMs = performance.now();
  bootMs = NaN;

  constructor(readonly opts: DimeServerOptions) {
    const [cmd, args] = machineCommand(opts);
    this.w = new Watched(cmd, args, `${opts.kind} (${opts.cores} cores, ${opts.mac})`);
  }

  async ready(timeoutMs = 120_000): Promise<this> {
    await this.w.waitFor(new RegExp(`DIME ready: ${this.opts.cores} cores`), timeoutMs);
    this.bootMs = performance.now() - this.startedMs;
    return this;
  }

  stop(): Promise<void> { return this.w.stop(); }
}
