// A DIME network on one host, for trying the orchestrator and for its end-to-end tests: a
// hub (the learning switch, src/net/learning-switch.ts) on a unix socket, and N emulated servers running the
// DIME kernel (parallax-emu, or QEMU as a second opinion) plugged into it, each with its
// serial console captured and writable. `parallax lab` runs one until interrupted.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LearningSwitch } from '../net/learning-switch.js';
import { serverKeyFile } from '../protocol/keys.js';
import { DEFAULT_IMAGE, launchMachine, type MachineKind, type MachineProcess } from './launcher.js';
import { BootServer } from './boot-server.js';
import { openLan } from './attach.js';
import { readFileSync } from 'node:fs';

export { DEFAULT_IMAGE, EMULATOR_CLI, type MachineKind } from './launcher.js';

export interface EmuServerOptions {
  machine?: MachineKind;
  name: string;
  mac: string;
  cores: number;
  hubPath: string;
  /** the master secret: the server gets only its own derived key file (written beside the hub) */
  key: string;
  /** where the server key file goes (default: beside the hub socket) */
  keyDir?: string;
  heartbeatMs?: number;
  perfMs?: number;
  memMiB?: number;
  image?: string;
  /** boot from the LAN (-boot n): the lab's boot server sends the image and command line */
  netBoot?: boolean;
}

/** The DIME kernel's command line in a lab: heartbeat and perf intervals. */
export function labAppend(heartbeatMs = 1000, perfMs = 0): string {
  return [`hb=${heartbeatMs}`, `perf=${perfMs}`].join(' ');
}

/** One emulated server (a parallax-emu or QEMU process running the DIME kernel). */
export class EmuServer {
  private machine: MachineProcess | null = null;
  exited: Promise<number | null> = Promise.resolve(null);

  constructor(readonly opts: EmuServerOptions) {}

  get output(): string {
    return this.machine?.output ?? '';
  }

  get running(): boolean {
    return !!this.machine && this.machine.running;
  }

  start(): void {
    this.startWithNet(`hub,path=${this.opts.hubPath}`);
  }

  /** Start on a network backend: hub,path=S or tap,ifname=N (both machines), or any parallax-emu spec. */
  startWithNet(net: string): void {
    const o = this.opts;
    const append = o.netBoot ? undefined : labAppend(o.heartbeatMs, o.perfMs);
    // the key reaches the kernel through fw_cfg from a 0600 file: never argv, never the console
    // beside the hub's socket, or in a private temporary folder for a server with no hub (never the cwd)
    const dir = o.keyDir ?? (o.hubPath ? path.dirname(o.hubPath) : mkdtempSync(path.join(tmpdir(), 'parallax-key-')));
    const keyFile = path.join(dir, `${o.name}.key`);
    writeFileSync(keyFile, serverKeyFile(o.key, o.mac), { mode: 0o600 });
    chmodSync(keyFile, 0o600); // a file that was already there keeps its old mode otherwise
    const image = o.netBoot ? undefined : o.image;
    this.machine = launchMachine({ kind: o.machine ?? 'emu', cores: o.cores, memMiB: o.memMiB, image, append, net, mac: o.mac, name: o.name, keyFile, netBoot: o.netBoot }, o.name);
    this.exited = this.machine.exited;
  }

  /** Keys typed on the server's serial console. */
  type(text: string): void {
    this.machine?.type(text);
  }

  /** Wait until the console output (from offset `from`) matches. */
  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    if (!this.machine) return Promise.reject(new Error(`${this.opts.name} was never started`));
    return this.machine.waitFor(re, timeoutMs, from);
  }

  async stop(): Promise<void> {
    await this.machine?.stop();
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
  /**
   * every server boots from the LAN (-boot n): the lab runs a boot server (boot-server.ts) on
   * its hub with the DIME kernel and the lab's command line, signed with each server's key
   */
  netBoot?: boolean;
}

/** A hub and its emulated servers. */
export class Lab {
  readonly hub = new LearningSwitch();
  readonly servers: EmuServer[] = [];
  readonly dir: string;
  readonly hubPath: string;
  private readonly ownDir: boolean;
  /** the lab's boot server, when its servers boot from the LAN */
  bootServer: BootServer | null = null;

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
    if (this.opts.netBoot) {
      const image = { bytes: readFileSync(DEFAULT_IMAGE), name: path.basename(DEFAULT_IMAGE).slice(0, 16), cmdline: labAppend(this.opts.heartbeatMs, this.opts.perfMs) };
      this.bootServer = new BootServer(await openLan(this.netSpec), { key: this.opts.key, mac: '02:50:00:00:b0:07', image });
    }
    for (const s of this.opts.servers) {
      const srv = new EmuServer({ ...s, machine: s.machine ?? this.opts.machine, hubPath: this.hubPath, key: this.opts.key, heartbeatMs: this.opts.heartbeatMs, perfMs: this.opts.perfMs, memMiB: this.opts.memMiB, netBoot: this.opts.netBoot });
      this.servers.push(srv);
      srv.start();
    }
    await Promise.all(this.servers.map((s) => s.waitFor(new RegExp(`DIME ready: ${s.opts.cores} cores`), bootTimeoutMs)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    await this.bootServer?.close();
    await this.hub.close();
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
