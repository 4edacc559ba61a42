// Whole processes for the end-to-end network tests: parallax-emu servers, the hub, QEMU, and
// tshark, each spawned with its output collected and killed at the end of the test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_IMAGE, EMULATOR_CLI, repoRoot } from '../../src/orchestrator/launcher.js';

export { repoRoot };

/** The built CLI (`npm run build` / `npx tsc -p .` makes it). */
export const EMU_CLI = EMULATOR_CLI;
export const DIME_IMAGE = DEFAULT_IMAGE;

export function nicGuestImage(kernel: string): string {
  return join(repoRoot(), 'test', 'net', 'guest', 'build', `${kernel}.elf`);
}

/** Builds test/net/guest/kernels (incremental). */
export function buildNicGuests(): void {
  const r = spawnSync('bash', [join(repoRoot(), 'test', 'net', 'guest', 'build.sh')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`NIC guest build failed (status ${r.status}):\n${r.stdout}${r.stderr}${r.error ?? ''}`);
}

export { haveCommand, toolGate } from '../tool-gate.js';

/** A child process whose stdout and stderr are collected (latin1, carriage returns dropped). */
export class Proc {
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(readonly label: string, cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const wake = () => { for (const w of this.waiters.splice(0)) w(); };
    this.child.stdout!.on('data', (d: Buffer) => { this.out += d.toString('latin1').replace(/\r/g, ''); wake(); });
    this.child.stderr!.on('data', (d: Buffer) => { this.err += d.toString('latin1'); wake(); });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => { this.err += `\nspawn error: ${e.message}`; wake(); resolve(null); });
      this.child.on('close', (code) => { wake(); resolve(code); });
    });
  }

  get running(): boolean { return this.child.exitCode === null && this.child.signalCode === null; }

  /** resolves when stdout+stderr match `re`; rejects at the deadline or when the process ends first */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label}: timeout waiting for ${re}\n${this.transcript()}`)), timeoutMs);
      const check = () => {
        const m = (this.out + '\n' + this.err).match(re);
        if (m) { clearTimeout(timer); resolve(m); return; }
        if (!this.running) { clearTimeout(timer); reject(new Error(`${this.label}: exited before ${re}\n${this.transcript()}`)); return; }
        this.waiters.push(check);
      };
      check();
    });
  }

  /** waits for the exit status, killing the process at the deadline */
  async exit(timeoutMs: number): Promise<number | null> {
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  /** SIGTERM, then SIGKILL if it lingers */
  async stop(): Promise<number | null> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  transcript(): string {
    return `--- ${this.label} stdout ---\n${this.out.slice(-3000)}\n--- ${this.label} stderr ---\n${this.err.slice(-3000)}`;
  }
}

export function startEmu(label: string, args: string[]): Proc {
  return new Proc(label, process.execPath, [EMU_CLI, ...args]);
}

/** `parallax-emu hub --listen PATH`, resolved once it listens. */
export async function startHub(path: string, extra: string[] = []): Promise<Proc> {
  const hub = startEmu('hub', ['hub', '--listen', path, ...extra]);
  await hub.waitFor(/listening on/, 10_000);
  return hub;
}

/** How many clients the hub has seen connect so far (from its log). */
export function hubConnections(hub: Proc): number {
  return [...(hub.out + hub.err).matchAll(/port \d+ connected/g)].length;
}

/**
 * QEMU 7.2 with no machine and no CPU, only its user-mode network (slirp) joined through its
 * internal hub to a stream client of our hub: slirp answers ARP for 10.0.2.2 and serves DHCP.
 */
export function startQemuSlirpOnHub(hubPath: string): Proc {
  return new Proc('qemu-slirp', 'qemu-system-x86_64', [
    '-machine', 'none', '-nodefaults', '-display', 'none', '-monitor', 'none', '-serial', 'none',
    '-netdev', 'user,id=u,net=10.0.2.0/24',
    '-netdev', 'hubport,id=p0,hubid=0,netdev=u',
    '-netdev', `stream,id=s,server=off,addr.type=unix,addr.path=${hubPath}`,
    '-netdev', 'hubport,id=p1,hubid=0,netdev=s',
  ]);
}

