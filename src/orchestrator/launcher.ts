// One launcher for "a QEMU or parallax-emu machine on a LAN": the command line each machine
// kind gets for the same image, cores, memory, kernel command line, network and MAC, and the
// child process with its console captured (wait for a line, type on it, stop it). `parallax
// lab`, the DIME and orchestrator tests and the benchmarks all start machines through here,
// so both kinds always get equivalent flags (QEMU's spellings are the interface).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FW_CFG_KEY_NAME } from '../protocol/keys.js';

/** The repository root: the nearest folder above this file (src/ or dist/src/) with package.json and images/. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'images'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export const EMULATOR_CLI = path.join(repoRoot(), 'dist/src/cli/parallax-emu.js');
export const HUB_CLI = path.join(repoRoot(), 'dist/src/cli/hub.js');
export const DEFAULT_IMAGE = path.join(repoRoot(), 'images/dime.elf');
/** the network boot firmware (docs/BOOT.md, "Network boot") */
export const NETBOOT_FIRMWARE = path.join(repoRoot(), 'images/netboot.elf');
export const QEMU_BINARY = 'qemu-system-x86_64';
export const DEFAULT_MAC = '52:54:00:12:34:56';

/** Which machine runs the image: parallax-emu or QEMU (the reference). */
export type MachineKind = 'emu' | 'qemu';

export function qemuAvailable(binary = QEMU_BINARY): boolean {
  const r = spawnSync(binary, ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

export interface MachineSpec {
  kind: MachineKind;
  cores: number;
  /** default 256 */
  memMiB?: number;
  /** default: the DIME image */
  image?: string;
  /** kernel command line after the image name */
  append?: string;
  /**
   * the LAN, as a parallax-emu `--net` spec: `hub,path=S` / `stream,path=S` (QEMU: a stream
   * client of that unix socket), `tap,ifname=N`, or `none` (the default: no NIC)
   */
  net?: string;
  /** the NIC's MAC (default 52:54:00:12:34:56) */
  mac?: string;
  /** parallax-emu's --name (its statistics and reports say which server) */
  name?: string;
  /** false: a machine without an HPET (QEMU only) */
  hpet?: boolean;
  /** parallax-emu --stats: per-core figures on stderr at exit */
  stats?: boolean;
  /** the server's key file (mode 0600), handed to the kernel through fw_cfg, never on a command line */
  keyFile?: string;
  /** -icount setting (QEMU's spelling, e.g. "shift=3"): deterministic instruction-count time */
  icount?: string;
  /** raw disk images, each a virtio-blk disk (`-drive file=P,format=raw,if=virtio` on both kinds) */
  drives?: string[];
  /**
   * boot from the LAN (a boot server on `net` sends the kernel and its command line; no image
   * or append): parallax-emu -boot n; QEMU runs the same firmware as -kernel (QEMU's own -boot n
   * would run its iPXE ROM instead)
   */
  netBoot?: boolean;
  /** parallax-emu --cores-per-worker (QEMU has no such choice: ignored there) */
  coresPerWorker?: number | 'auto';
}

function driveArgs(spec: MachineSpec): string[] {
  return (spec.drives ?? []).flatMap((file) => {
    if (file.includes(',')) throw new Error(`disk image path '${file}' contains a comma (QEMU's -drive cannot take it)`);
    return ['-drive', `file=${file},format=raw,if=virtio`];
  });
}

/** The command that starts `spec`: [executable, arguments]. Throws when the machine cannot. */
export function machineCommand(spec: MachineSpec): [string, string[]] {
  const mem = String(spec.memMiB ?? 256);
  if (spec.netBoot && (spec.image || spec.append)) throw new Error('a network-booted machine gets its image and command line from the boot server');
  const image = spec.netBoot ? NETBOOT_FIRMWARE : spec.image ?? DEFAULT_IMAGE;
  const net = spec.net ?? 'none';
  const mac = spec.mac ?? DEFAULT_MAC;
  if (spec.kind === 'qemu') {
    const args = ['-nographic', '-no-reboot', '-serial', 'stdio', '-monitor', 'none', '-display', 'none',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-accel', 'tcg', '-m', mem, '-smp', String(spec.cores), '-kernel', image];
    if (spec.hpet === false) args.push('-machine', 'hpet=off');
    if (spec.append) args.push('-append', spec.append);
    const sock = /^(?:hub|stream),path=([^,]+)$/.exec(net);
    const tap = /^tap,ifname=([^,]+)$/.exec(net);
    if (sock) args.push('-netdev', `stream,id=lan0,server=off,addr.type=unix,addr.path=${sock[1]}`);
    else if (tap) args.push('-netdev', `tap,id=lan0,ifname=${tap[1]},script=no,downscript=no`);
    else if (net !== 'none') throw new Error(`QEMU machine: unsupported network '${net}' (hub,path=..., stream,path=... or tap,ifname=...)`);
    args.push(...(net === 'none' ? ['-nic', 'none'] : ['-device', `e1000,netdev=lan0,mac=${mac}`]));
    if (spec.keyFile) args.push('-fw_cfg', `name=${FW_CFG_KEY_NAME},file=${spec.keyFile}`);
    if (spec.icount) args.push('-icount', spec.icount);
    args.push(...driveArgs(spec));
    return [QEMU_BINARY, args];
  }
  if (spec.hpet === false) throw new Error('parallax-emu: no option for a machine without HPET');
  if (!existsSync(EMULATOR_CLI)) throw new Error(`parallax-emu is not built (${EMULATOR_CLI}): run npm run build`);
  const args = [EMULATOR_CLI, '-c', String(spec.cores), '-m', mem, ...(spec.netBoot ? ['-boot', 'n'] : ['-k', image])];
  if (spec.append) args.push('--append', spec.append);
  args.push('--net', net, '--mac', mac);
  if (spec.name) args.push('--name', spec.name);
  if (spec.stats) args.push('--stats');
  if (spec.keyFile) args.push('--key-file', spec.keyFile);
  if (spec.icount) args.push('--icount', spec.icount);
  if (spec.coresPerWorker !== undefined) args.push('--cores-per-worker', String(spec.coresPerWorker));
  args.push(...driveArgs(spec));
  return [process.execPath, args];
}

/** Every child still running; killed when this process exits, however it exits. */
const live = new Set<ChildProcess>();
let reaperInstalled = false;

/** Kill every machine (and hub) this process started and that still runs. */
export function killAllLaunched(): void {
  for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

/** Console output kept per process; beyond it the oldest half is dropped. */
const MAX_OUTPUT = 8_000_000;

/** A child process whose stdout+stderr are kept (latin1, no carriage returns), with "wait until the output matches". */
export class MachineProcess {
  readonly proc: ChildProcess;
  private out = '';
  private waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;
  /** host time (performance.now(), ms) at which each console line was complete, when asked for */
  readonly lineTimes: Array<{ atMs: number; line: string }> = [];
  /** host time at which each console character arrived (first 4096 only), when lines are timed */
  readonly charTimes: Array<{ atMs: number; ch: string }> = [];
  private partial = '';

  constructor(cmd: string, args: string[], readonly label: string, opts: { lineTimes?: boolean; env?: NodeJS.ProcessEnv } = {}) {
    this.proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    live.add(this.proc);
    if (!reaperInstalled) { reaperInstalled = true; process.on('exit', killAllLaunched); }
    const onData = (d: Buffer) => {
      const text = d.toString('latin1').replace(/\r/g, '');
      this.out += text;
      if (this.out.length > MAX_OUTPUT) this.out = this.out.slice(-MAX_OUTPUT / 2);
      if (opts.lineTimes) {
        const now = performance.now();
        for (const ch of text) if (this.charTimes.length < 4096) this.charTimes.push({ atMs: now, ch });
        const parts = (this.partial + text).split('\n');
        this.partial = parts.pop()!;
        for (const line of parts) this.lineTimes.push({ atMs: now, line });
      }
      for (const w of this.waiters.splice(0)) w();
    };
    this.proc.stdout!.on('data', onData);
    this.proc.stderr!.on('data', onData);
    this.proc.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.proc.on('error', (e) => { this.out += `\n${label}: could not start: ${e.message}\n`; live.delete(this.proc); resolve(null); });
      this.proc.on('exit', (code) => { live.delete(this.proc); for (const w of this.waiters.splice(0)) w(); resolve(code); });
    });
  }

  get output(): string { return this.out; }
  get running(): boolean { return this.proc.exitCode === null && this.proc.signalCode === null; }

  /** Keys typed on the console. */
  type(text: string): void {
    this.proc.stdin?.write(text);
  }

  /** Wait until the output (from offset `from`) matches; rejects at the deadline or when the process ends first. */
  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.out.slice(from).match(re);
        if (m) { clearTimeout(timer); resolve(m); return; }
        if (!this.running) { clearTimeout(timer); reject(new Error(`${this.label} exited before ${re}; output:\n${this.out.slice(-3000)}`)); return; }
        this.waiters.push(check);
      };
      const timer = setTimeout(() => reject(new Error(`${this.label}: timeout (${timeoutMs} ms) waiting for ${re}; output:\n${this.out.slice(-3000)}`)), timeoutMs);
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

  /** SIGTERM, then SIGKILL after 3 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))]);
    if (this.running) { this.proc.kill('SIGKILL'); await this.exited; }
  }
}

/** Start the machine `spec` describes. */
export function launchMachine(spec: MachineSpec, label = `${spec.kind} (${spec.cores} cores${spec.name ? ', ' + spec.name : ''})`, opts: { lineTimes?: boolean } = {}): MachineProcess {
  const [cmd, args] = machineCommand(spec);
  return new MachineProcess(cmd, args, label, opts);
}

/** `parallax-emu hub --listen PATH` in a process of its own, resolved once it listens. */
export async function launchHub(socketPath: string, extra: string[] = []): Promise<MachineProcess> {
  if (!existsSync(HUB_CLI)) throw new Error(`${HUB_CLI} is missing: run npm run build`);
  const hub = new MachineProcess(process.execPath, [HUB_CLI, '--listen', socketPath, ...extra], 'hub');
  await hub.waitFor(/listening/, 10_000);
  return hub;
}
