// Machine runners: start a DIME image on some x86-64 machine with N cores, its e1000 on a
// LAN socket the test owns, and its serial console captured. QEMU is one runner; the
// emulator gets another with the same shape, and every scenario runs on each.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface MachineOptions {
  cores: number;
  /** unix socket path of a StreamLan already listening; omit for no NIC */
  netSocket?: string;
  /** kernel command line after the image name */
  append?: string;
  memMiB?: number;
  mac?: string;
  /** false: a machine without an HPET (the kernel then calibrates against the PIT) */
  hpet?: boolean;
  /** server key file (fw_cfg opt/parallax/key); see serverKeyFileFor in bench.ts */
  keyFile?: string;
}

export interface MachineRunner {
  readonly name: string;
  start(image: string, opts: MachineOptions): Promise<void>;
  stop(): Promise<void>;
  /** serial console output so far */
  readonly output: string;
  /** bytes typed on the serial console */
  typeOnConsole(text: string): void;
  waitForOutput(re: RegExp, timeoutMs: number, from?: number): Promise<RegExpMatchArray>;
  /** exit status of the machine process (QEMU isa-debug-exit: (code << 1) | 1) */
  readonly exited: Promise<number | null>;
}

export function qemuAvailable(): boolean {
  return spawnSync('qemu-system-x86_64', ['--version']).status === 0;
}

export class QemuRunner implements MachineRunner {
  readonly name: string = 'qemu';
  private proc: ChildProcess | null = null;
  private out = '';
  private waiters: Array<() => void> = [];
  exited: Promise<number | null> = Promise.resolve(null);

  get output(): string { return this.out; }

  protected command(image: string, o: MachineOptions): [string, string[]] {
    const args = ['-nographic', '-no-reboot', '-serial', 'stdio', '-monitor', 'none',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-accel', 'tcg',
      '-m', String(o.memMiB ?? 256), '-smp', String(o.cores), '-kernel', image];
    if (o.hpet === false) args.push('-machine', 'hpet=off');
    if (o.append) args.push('-append', o.append);
    if (o.keyFile) args.push('-fw_cfg', `name=opt/parallax/key,file=${o.keyFile}`);
    if (o.netSocket) {
      args.push('-netdev', `stream,id=lan0,server=off,addr.type=unix,addr.path=${o.netSocket}`,
        '-device', `e1000,netdev=lan0,mac=${o.mac ?? '52:54:00:12:34:56'}`);
    } else {
      args.push('-nic', 'none');
    }
    return ['qemu-system-x86_64', args];
  }

  async start(image: string, o: MachineOptions): Promise<void> {
    const [cmd, args] = this.command(image, o);
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = p;
    // a test process that ends without stop() (a failed hook, a timeout) must not leave machines running
    const reap = () => { if (p.exitCode === null) p.kill('SIGKILL'); };
    process.once('exit', reap);
    p.once('exit', () => process.off('exit', reap));
    const onData = (d: Buffer) => {
      this.out += d.toString('latin1').replace(/\r/g, '');
      for (const w of this.waiters.splice(0)) w();
    };
    p.stdout!.on('data', onData);
    p.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => p.on('exit', (code) => { for (const w of this.waiters.splice(0)) w(); resolve(code); }));
  }

  typeOnConsole(text: string): void {
    this.proc?.stdin?.write(text);
  }

  waitForOutput(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      const check = () => {
        const m = this.out.slice(from).match(re);
        if (m) { clearTimeout(timer); resolve(m); return; }
        if (this.proc?.exitCode !== null && this.proc?.exitCode !== undefined) {
          clearTimeout(timer);
          reject(new Error(`machine exited before ${re}; output:\n${this.out.slice(-3000)}`));
          return;
        }
        this.waiters.push(check);
      };
      const timer = setTimeout(() => reject(new Error(`timeout waiting for ${re}; output:\n${this.out.slice(-3000)}`)), Math.max(0, deadline - Date.now()));
      check();
    });
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    p.kill('SIGTERM');
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))]);
    if (p.exitCode === null) p.kill('SIGKILL');
  }
}

/** parallax-emu, run from its built CLI (dist/): same options, same exit-status convention. */
export class EmuRunner extends QemuRunner {
  override readonly name = 'parallax-emu';
  static readonly cli = path.resolve('dist/src/cli/parallax-emu.js');

  protected override command(image: string, o: MachineOptions): [string, string[]] {
    const args = [EmuRunner.cli, '-c', String(o.cores), '-m', String(o.memMiB ?? 256), '-k', image];
    if (o.append) args.push('--append', o.append);
    if (o.keyFile) args.push('-fw_cfg', `name=opt/parallax/key,file=${o.keyFile}`);
    if (o.netSocket) args.push('--net', `stream,path=${o.netSocket}`, '--mac', o.mac ?? '52:54:00:12:34:56');
    else args.push('--net', 'none');
    if (process.env.DIME_EMU_STATS) args.push('--stats'); // per-core figures on stderr at exit (diagnostics)
    if (o.hpet === false) throw new Error('parallax-emu: no option for a machine without HPET');
    return [process.execPath, args];
  }
}

/** Runner names the scenarios run on: DIME_RUNNERS=qemu,emu (the default: both machines). */
export function requestedRunners(): string[] {
  return (process.env.DIME_RUNNERS ?? 'qemu,emu').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Requested runners that cannot run here, each with the reason (a test reports these as failures). */
export function missingRunners(): string[] {
  const want = requestedRunners();
  const missing: string[] = [];
  if (want.includes('qemu') && !qemuAvailable()) missing.push('qemu: qemu-system-x86_64 is not installed');
  if (want.includes('emu') && !existsSync(EmuRunner.cli)) missing.push(`emu: ${EmuRunner.cli} is missing (run npm run build)`);
  return missing;
}

/** Every runner the scenarios should run on, QEMU first (the reference transcript). */
export function availableRunners(): Array<() => MachineRunner> {
  const want = requestedRunners();
  const list: Array<() => MachineRunner> = [];
  if (want.includes('qemu') && qemuAvailable()) list.push(() => new QemuRunner());
  if (want.includes('emu') && existsSync(EmuRunner.cli)) list.push(() => new EmuRunner());
  return list;
}
