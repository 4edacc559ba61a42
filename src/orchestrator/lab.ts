// A DIME network on one host, for trying the orchestrator and for its end-to-end tests: a
// hub (the learning switch, src/net/learning-switch.ts) on a unix socket, and N emulated servers running the
// DIME kernel (parallax-emu, or QEMU as a second opinion) plugged into it, each with its
// serial console captured and writable. `parallax lab` runs one until interrupted.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LearningSwitch } from '../net/learning-switch.js';

/** Repository root, from src/orchestrator (vitest) or dist/src/orchestrator (built). */
function repoRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const root = path.resolve(here, up);
    if (existsSync(path.join(root, 'package.json')) && existsSync(path.join(root, 'images'))) return root;
  }
  return process.cwd();
}

export const DEFAULT_IMAGE = path.join(repoRoot(), 'images/dime.elf');
export const EMULATOR_CLI = path.join(repoRoot(), 'dist/src/cli/parallax-emu.js');

/** Which machine runs the DIME kernel: parallax-emu (default) or QEMU (a second opinion). */
export type MachineKind = 'emu' | 'qemu';

export interface EmuServerOptions {
  machine?: MachineKind;
  name: string;
  mac: string;
  cores: number;
  hubPath: string;
  key: string;
  heartbeatMs?: number;
  perfMs?: number;
  memMiB?: number;
  image?: string;
}

/** One emulated server (a parallax-emu process running the DIME kernel). */
export class EmuServer {
  private proc: ChildProcess | null = null;
  private out = '';
  private waiters: Array<() => void> = [];
  exited: Promise<number | null> = Promise.resolve(null);

  constructor(readonly opts: EmuServerOptions) {}

  get output(): string {
    return this.out;
  }

  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  start(): void {
    this.startWithNet(`hub,path=${this.opts.hubPath}`);
  }

  /** Start on a network backend: hub,path=S or tap,ifname=N (both machines), or any parallax-emu spec. */
  startWithNet(net: string): void {
    const o = this.opts;
    const append = [`key=${o.key}`, `hb=${o.heartbeatMs ?? 1000}`, `perf=${o.perfMs ?? 0}`].join(' ');
    let cmd: string;
    let args: string[];
    if (o.machine === 'qemu') {
      const hub = /^hub,path=(.+)$/.exec(net);
      const tap = /^tap,ifname=(.+)$/.exec(net);
      if (!hub && !tap) throw new Error(`QEMU server: unsupported network '${net}' (hub,path=... or tap,ifname=...)`);
      cmd = 'qemu-system-x86_64';
      args = ['-nographic', '-no-reboot', '-serial', 'stdio', '-monitor', 'none', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
        '-accel', 'tcg', '-m', String(o.memMiB ?? 256), '-smp', String(o.cores), '-kernel', o.image ?? DEFAULT_IMAGE, '-append', append,
        '-netdev', hub ? `stream,id=lan0,server=off,addr.type=unix,addr.path=${hub[1]}` : `tap,id=lan0,ifname=${tap![1]},script=no,downscript=no`,
        '-device', `e1000,netdev=lan0,mac=${o.mac}`];
    } else {
      if (!existsSync(EMULATOR_CLI)) throw new Error(`parallax-emu is not built (${EMULATOR_CLI}): run npm run build`);
      cmd = process.execPath;
      args = [EMULATOR_CLI, '-c', String(o.cores), '-m', String(o.memMiB ?? 256), '-k', o.image ?? DEFAULT_IMAGE,
        '--append', append, '--net', net, '--mac', o.mac, '--name', o.name];
    }
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = p;
    const onData = (d: Buffer) => {
      this.out += d.toString('latin1').replace(/\r/g, '');
      if (this.out.length > 4_000_000) this.out = this.out.slice(-2_000_000);
      for (const w of this.waiters.splice(0)) w();
    };
    p.stdout!.on('data', onData);
    p.stderr!.on('data', onData);
    p.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => p.on('exit', (code) => { for (const w of this.waiters.splice(0)) w(); resolve(code); }));
  }

  /** Keys typed on the server's serial console. */
  type(text: string): void {
    this.proc?.stdin?.write(text);
  }

  /** Wait until the console output (from offset `from`) matches. */
  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.out.slice(from).match(re);
        if (m) { clearTimeout(timer); resolve(m); return; }
        if (!this.running && this.proc) { clearTimeout(timer); reject(new Error(`${this.opts.name} exited before ${re}; console:\n${this.out.slice(-2000)}`)); return; }
        this.waiters.push(check);
      };
      const timer = setTimeout(() => reject(new Error(`${this.opts.name}: timeout waiting for ${re}; console:\n${this.out.slice(-2000)}`)), timeoutMs);
      check();
    });
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || !this.running) return;
    p.kill('SIGTERM');
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))]);
    if (this.running) p.kill('SIGKILL');
  }
}

export interface LabOptions {
  servers: Array<{ name: string; mac: string; cores: number; machine?: MachineKind }>;
  /** machine for servers that do not name one */
  machine?: MachineKind;
  key: string;
  heartbeatMs?: number;
  perfMs?: number;
  memMiB?: number;
  /** where the hub socket goes (default: a fresh temporary directory) */
  dir?: string;
}

/** A hub and its emulated servers. */
export class Lab {
  readonly hub = new LearningSwitch();
  readonly servers: EmuServer[] = [];
  readonly dir: string;
  readonly hubPath: string;
  private readonly ownDir: boolean;

  constructor(readonly opts: LabOptions) {
    this.ownDir = !opts.dir;
    this.dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'parallax-lab-'));
    mkdirSync(this.dir, { recursive: true });
    this.hubPath = path.join(this.dir, 'lan.sock');
  }

  /** The --net spec an orchestrator uses to join. */
  get netSpec(): string {
    return `hub,path=${this.hubPath}`;
  }

  get aliases(): Record<string, string> {
    return Object.fromEntries(this.opts.servers.map((s) => [s.name, s.mac]));
  }

  server(name: string): EmuServer {
    const s = this.servers.find((x) => x.opts.name === name);
    if (!s) throw new Error(`no server ${name} in this lab`);
    return s;
  }

  async start(bootTimeoutMs = 60_000): Promise<void> {
    await this.hub.listen({ kind: 'unix', path: this.hubPath });
    for (const s of this.opts.servers) {
      const srv = new EmuServer({ ...s, machine: s.machine ?? this.opts.machine, hubPath: this.hubPath, key: this.opts.key, heartbeatMs: this.opts.heartbeatMs, perfMs: this.opts.perfMs, memMiB: this.opts.memMiB });
      this.servers.push(srv);
      srv.start();
    }
    await Promise.all(this.servers.map((s) => s.waitFor(new RegExp(`DIME ready: ${s.opts.cores} cores`), bootTimeoutMs)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    await this.hub.close();
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
