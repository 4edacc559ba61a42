// The processes a benchmark run starts: a hub (its own process, so the bench's event loop is
// never the switch) and DIME servers, each either parallax-emu or QEMU TCG on that hub, with
// the console captured. Both machine kinds get the same image, memory, command line and MAC.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MachineProcess, launchHub, launchMachine, killAllLaunched } from '../../src/orchestrator/launcher.js';
import { serverKeyFile } from '../../src/protocol/keys.js';

export { qemuAvailable, EMULATOR_CLI as EMU_CLI, HUB_CLI, DEFAULT_IMAGE as DIME_IMAGE } from '../../src/orchestrator/launcher.js';

export type MachineKind = 'parallax-emu' | 'qemu';

let cleanupInstalled = false;

/** Scripts call this once: no machine or hub outlives an interrupted benchmark. */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => { killAllLaunched(); process.exit(sig === 'SIGINT' ? 130 : 143); });
  }
}

/** A child process with its console kept and each line's arrival time (the launcher's). */
export class Watched extends MachineProcess {
  constructor(cmd: string, args: string[], label: string, env: NodeJS.ProcessEnv = process.env) {
    super(cmd, args, label, { lineTimes: true, env });
  }
}

/** The LAN switch, in a process of its own. */
export function startHub(path: string, extra: string[] = []): Promise<MachineProcess> {
  return launchHub(path, extra);
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
  /** -icount setting (QEMU's spelling, e.g. "shift=3"): deterministic instruction-count time */
  icount?: string;
  /** parallax-emu only: print its per-core statistics (--stats) when stopped */
  emuStats?: boolean;
  /** raw disk images, each a virtio-blk drive (the DIME kernel's local store) */
  drives?: string[];
  /** parallax-emu only: --cores-per-worker */
  coresPerWorker?: number | 'auto';
}

/** Kernel command line for benchmarks: quiet network (heartbeats once a minute, no perf broadcasts). */
export function benchAppend(o: DimeServerOptions): string {
  return ['hb=60000', 'perf=0', o.append ?? ''].join(' ').trim();
}

/**
 * The server's key file (derived from the master secret `o.key`, mode 0600), handed to the
 * kernel through fw_cfg: never on a command line.
 */
export function benchKeyFile(o: DimeServerOptions): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-key-')), 'server.key');
  writeFileSync(file, serverKeyFile(o.key, o.mac), { mode: 0o600 });
  return file;
}

/** One emulated server running the DIME kernel; `bootMs` is spawn to "DIME ready: N cores". */
export class DimeServer {
  readonly w: MachineProcess;
  readonly startedMs = performance.now();
  bootMs = NaN;

  constructor(readonly opts: DimeServerOptions) {
    this.w = launchMachine({ kind: opts.kind === 'qemu' ? 'qemu' : 'emu', cores: opts.cores, memMiB: opts.memMiB, append: benchAppend(opts),
      net: opts.hubPath ? `hub,path=${opts.hubPath}` : 'none', mac: opts.mac, keyFile: benchKeyFile(opts), icount: opts.icount,
      stats: opts.emuStats && opts.kind === 'parallax-emu', drives: opts.drives, coresPerWorker: opts.kind === 'parallax-emu' ? opts.coresPerWorker : undefined },
      `${opts.kind} (${opts.cores} cores, ${opts.mac})`, { lineTimes: true });
  }

  async ready(timeoutMs = 120_000): Promise<this> {
    await this.w.waitFor(new RegExp(`DIME ready: ${this.opts.cores} cores`), timeoutMs);
    this.bootMs = performance.now() - this.startedMs;
    return this;
  }

  stop(): Promise<void> { return this.w.stop(); }

  /** the --stats lines parallax-emu printed at exit (with emuStats) */
  statsLines(): string[] {
    return this.w.output.split('\n').filter((l) => /^(core \d+: \d+ instructions|frames \(2 MiB\)|nic)/.test(l));
  }
}
