// Machine runners: start a DIME image on some x86-64 machine with N cores, its e1000 on a
// LAN socket the test owns, and its serial console captured. QEMU is one runner; the
// emulator gets another with the same shape, and every scenario runs on each.
import { existsSync } from 'node:fs';
import { EMULATOR_CLI, launchMachine, qemuAvailable, type MachineKind, type MachineProcess } from '../../src/orchestrator/launcher.js';

export { qemuAvailable };

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
  /** raw disk images, each a virtio-blk disk */
  drives?: string[];
  /** parallax-emu --cores-per-worker (QEMU ignores it) */
  coresPerWorker?: number | 'auto';
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
  /** SIGKILL: the machine dies at once, as on a power cut (no flush, no shutdown) */
  kill(): Promise<void>;
}

/** One machine kind, started through the product launcher (src/orchestrator/launcher.ts). */
class LaunchedRunner implements MachineRunner {
  private machine: MachineProcess | null = null;
  exited: Promise<number | null> = Promise.resolve(null);

  constructor(readonly name: string, private readonly kind: MachineKind) {}

  get output(): string { return this.machine?.output ?? ''; }

  async start(image: string, o: MachineOptions): Promise<void> {
    this.machine = launchMachine({
      kind: this.kind, cores: o.cores, memMiB: o.memMiB, image, append: o.append, hpet: o.hpet, mac: o.mac,
      net: o.netSocket ? `stream,path=${o.netSocket}` : 'none', stats: this.kind === 'emu' && !!process.env.DIME_EMU_STATS,
      keyFile: o.keyFile, drives: o.drives, coresPerWorker: o.coresPerWorker,
    }, this.name);
    this.exited = this.machine.exited;
  }

  typeOnConsole(text: string): void {
    this.machine?.type(text);
  }

  waitForOutput(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    if (!this.machine) return Promise.reject(new Error(`${this.name} was never started`));
    return this.machine.waitFor(re, timeoutMs, from);
  }

  async stop(): Promise<void> {
    await this.machine?.stop();
  }

  async kill(): Promise<void> {
    if (!this.machine?.running) return;
    this.machine.proc.kill('SIGKILL');
    await this.machine.exited;
  }
}

export class QemuRunner extends LaunchedRunner {
  constructor() { super('qemu', 'qemu'); }
}

/** parallax-emu, run from its built CLI (dist/): same options, same exit-status convention. */
export class EmuRunner extends LaunchedRunner {
  static readonly cli = EMULATOR_CLI;
  constructor() { super('parallax-emu', 'emu'); }
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
