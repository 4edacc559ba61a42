// Boot one emulated Parallax server from command-line options: read the kernel and modules,
// build RAM and the loader's hand-over state, open network backends, assemble the platform and
// start the cores. Console (COM1) goes to `out`; `input` bytes go to COM1's receiver.

import { readFileSync } from 'node:fs';
import { BootError } from '../boot/boot-error.js';
import { readModules } from '../boot/initrd-spec.js';
import { loadKernel } from '../boot/loader.js';
import { C_STAT_BLOCKS, C_STAT_DEVICE_EXITS, C_STAT_HALTED_NS_LO, C_STAT_HALTED_NS_HI, C_STAT_TLB_MISS, coreBase } from '../abi/control-block.js';
import { Machine, type MachineExit } from './machine.js';
import { FrameTable } from './frame-table.js';
import { Platform } from './platform.js';
import { macFromName, parseMac } from '../net/mac.js';
import { openNetBackend } from '../net/backends/open-backend.js';
import type { NetBackend } from '../net/net-backend.js';
import { nicStatsLines } from '../devices/e1000/stats.js';

export class ServerError extends Error {}

/** What a server is built from; the CLI (src/cli/options.ts) converts its flags to this. */
export interface ServerOptions {
  cores: number;
  memoryBytes: number;
  /** path of the Multiboot 1/2 or ELF64 kernel image */
  kernel: string;
  append: string;
  /** multiboot modules: "FILE args,FILE2" (",," is a literal comma) */
  initrd?: string;
  /** one network backend spec per NIC; none given = one NIC with no backend */
  net: string[];
  /** server name, seeds the deterministic MACs */
  name: string;
  /** MAC address of the first NIC (overrides name) */
  mac?: string;
  /** pcap file for the first NIC's frames */
  pcap?: string;
  /** instructions per worker slice */
  slice?: number;
  /** -S: every core parks before its first instruction (gdb or the monitor starts them) */
  startPaused?: boolean;
}

export interface ServerIo {
  out(bytes: Uint8Array): void;
}

export interface RunningServer {
  machine: Machine;
  platform: Platform;
  frames: FrameTable;
  exited: Promise<MachineExit>;
  /** feed console input (COM1 receive) */
  input(bytes: Uint8Array): void;
  /** stop the machine from outside (Ctrl-A x, SIGINT) */
  stop(code?: number): void;
  /** per-core statistics, one line each */
  statsLines(): string[];
}

function readKernel(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ServerError(`cannot read kernel '${path}': ${code === 'ENOENT' ? 'no such file' : code ?? String(e)}`);
  }
}

export async function startServer(opts: ServerOptions, io: ServerIo): Promise<RunningServer> {
  const kernel = readKernel(opts.kernel);
  const modules = opts.initrd ? readModules(opts.initrd) : [];
  const machine = new Machine({ cores: opts.cores, memoryBytes: opts.memoryBytes, slice: opts.slice, startPaused: opts.startPaused });
  const plan = loadKernel({
    kernel, kernelPath: opts.kernel, append: opts.append, modules,
    ram: machine.ramView(), layout: machine.layout, ncores: opts.cores,
  });

  const frames = new FrameTable(machine.ctl, machine.layout);
  frames.fillFromPlan(plan);

  // One e1000 per --net (default: one NIC with no backend, as a board with an unplugged cable).
  const specs = opts.net.length > 0 ? opts.net : ['none'];
  const nics: { mac: Uint8Array; backend: NetBackend }[] = [];
  for (let i = 0; i < specs.length; i++) {
    const mac = i === 0 && opts.mac ? parseMac(opts.mac) : macFromName(opts.name, i);
    const backend = await openNetBackend(specs[i], { mac, capturePath: i === 0 ? opts.pcap : undefined });
    nics.push({ mac, backend });
  }

  const platform = new Platform({
    ctl: machine.ctl, ram: machine.shared.ram, layout: machine.layout, cores: opts.cores, plan, nics,
    hooks: {
      serialOut: io.out,
      onDebugExit: (status) => machine.requestExit({ kind: 'debug-exit', code: status }),
      onReset: (kind) => machine.requestExit({ kind: 'reset', code: 0, detail: `guest requested a reset (${kind})` }),
    },
  });
  machine.start(platform, plan);

  return {
    machine,
    platform,
    frames,
    exited: machine.exited,
    input: (bytes) => platform.uart.feedInput(bytes),
    stop: (code = 0) => machine.requestExit({ kind: 'stopped', code }),
    statsLines: () => {
      const retired = machine.retired();
      const f = frames.summary();
      const owned = [...f.perCore].map(([c, n]) => `core ${c}: ${n}`).join(', ');
      const frameLine = `frames (2 MiB): ${frames.frames} total, ${f.free} free, ${f.shared} kernel partition` + (owned ? `, ${owned}` : '');
      const nicLines = nics.flatMap((n, i) => nicStatsLines(i, platform.nics[i], n.backend));
      return [frameLine, ...nicLines, ...retired.map((n, i) => {
        const b = coreBase(i);
        const c = machine.ctl;
        const haltedMs = ((c[b + C_STAT_HALTED_NS_HI] >>> 0) * 2 ** 32 + (c[b + C_STAT_HALTED_NS_LO] >>> 0)) / 1e6;
        return `core ${i}: ${n} instructions, ${c[b + C_STAT_BLOCKS]} blocks compiled, ${c[b + C_STAT_TLB_MISS]} TLB misses, ` +
          `${c[b + C_STAT_DEVICE_EXITS]} device exits, ${haltedMs.toFixed(1)} ms halted`;
      })];
    },
  };
}

/** One-line description of how the machine ended (empty for a plain guest exit). */
export function describeExit(e: MachineExit): string {
  switch (e.kind) {
    case 'triple-fault':
      return `parallax-emu: core ${e.core} triple fault at rip 0x${e.rip.toString(16)}: ${e.detail}`;
    case 'halted':
      return `parallax-emu: ${e.detail}`;
    case 'internal-error':
      return `parallax-emu: internal error on core ${e.core} at rip 0x${e.rip.toString(16)}: ${e.detail}`;
    case 'reset':
      return `parallax-emu: ${e.detail}`;
    default:
      return '';
  }
}

export { BootError };
