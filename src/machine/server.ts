// Boot one emulated Parallax server from command-line options: read the kernel and modules,
// build RAM and the loader's hand-over state, open network backends, assemble the platform and
// start the cores. Console (COM1) goes to `out`; `input` bytes go to COM1's receiver.

import { readFileSync } from 'node:fs';
import { BootError } from '../boot/boot-error.js';
import { readModules } from '../boot/initrd-spec.js';
import { loadKernel } from '../boot/loader.js';
import { C_STAT_BLOCKS, C_STAT_DEVICE_EXITS, C_STAT_HALTED_NS_LO, C_STAT_HALTED_NS_HI, C_STAT_TLB_MISS, coreBase } from '../abi/control-block.js';
import { DEFAULT_QUANTUM, Machine, type MachineExit } from './machine.js';
import { clockFor } from '../abi/clock.js';
import { ReplayDigest } from './replay-digest.js';
import { TurnGatedBackend } from './turn-gated-backend.js';
import { PcapWriter } from '../net/pcap-writer.js';
import { FrameTable } from './frame-table.js';
import { ICOUNT_RTC_START_MS, Platform } from './platform.js';
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
  /** -icount: deterministic instruction-count time (src/abi/clock.ts) */
  icount?: IcountOptions;
}

export interface IcountOptions {
  shift: number;
  /** instructions per core turn */
  quantum?: number;
  /** idle time follows the host's (QEMU's sleep=on, default) or jumps (sleep=off) */
  sleep?: boolean;
  /** end the machine when guest time reaches this many ms (a deterministic end for replays) */
  stopMs?: number;
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
  const time = opts.icount
    ? { mode: 'icount' as const, shift: opts.icount.shift, quantum: opts.icount.quantum ?? DEFAULT_QUANTUM }
    : { mode: 'real' as const };
  const machine = new Machine({ cores: opts.cores, memoryBytes: opts.memoryBytes, slice: opts.slice, time, sleepWhenIdle: opts.icount?.sleep });
  const digest = new ReplayDigest();
  const clock = clockFor(machine.ctl);
  const plan = loadKernel({
    kernel, kernelPath: opts.kernel, append: opts.append, modules,
    ram: machine.ramView(), layout: machine.layout, ncores: opts.cores,
  });

  const frames = new FrameTable(machine.ctl, machine.layout);
  frames.fillFromPlan(plan);

  // One e1000 per --net (default: one NIC with no backend, as a board with an unplugged cable).
  const specs = opts.net.length > 0 ? opts.net : ['none'];
  if (opts.icount && specs.some((sp) => sp.trim() !== 'none')) {
    // the hub does not carry virtual time yet (docs/ARCHITECTURE.md, "Time")
    process.stderr.write('parallax-emu: warning: --icount with a network: frames from other machines enter when the host ' +
      'delivers them, so a run that exchanges frames is not deterministic (replay holds for runs without network input)\n');
  }
  const nics: { mac: Uint8Array; backend: NetBackend }[] = [];
  for (let i = 0; i < specs.length; i++) {
    const mac = i === 0 && opts.mac ? parseMac(opts.mac) : macFromName(opts.name, i);
    if (!opts.icount) {
      const backend = await openNetBackend(specs[i], { mac, capturePath: i === 0 ? opts.pcap : undefined });
      nics.push({ mac, backend });
      continue;
    }
    const inner = await openNetBackend(specs[i], { mac });
    let pcap: PcapWriter | null = null;
    if (i === 0 && opts.pcap) {
      try {
        pcap = new PcapWriter(opts.pcap);
      } catch (e) {
        await inner.close();
        throw new ServerError(`cannot write capture file '${opts.pcap}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    const gated = new TurnGatedBackend(inner, clock, ICOUNT_RTC_START_MS, pcap, i === 0 ? (r) => digest.frameRecord(r) : () => {});
    machine.turnInputs.push(() => gated.deliverWaiting());
    nics.push({ mac, backend: gated });
  }

  const platform = new Platform({
    ctl: machine.ctl, ram: machine.shared.ram, layout: machine.layout, cores: opts.cores, plan, nics,
    hooks: {
      serialOut: (b) => { digest.console(b); io.out(b); },
      onDebugExit: (status) => machine.requestExit({ kind: 'debug-exit', code: status }),
      onReset: (kind) => machine.requestExit({ kind: 'reset', code: 0, detail: `guest requested a reset (${kind})` }),
    },
  });
  machine.start(platform, plan);
  // -icount: console input enters at the I/O thread's turn (at a defined instruction)
  const typed: Uint8Array[] = [];
  const stopMs = opts.icount?.stopMs;
  if (stopMs !== undefined) {
    machine.turnInputs.push(() => {
      if (clock.nowNs() >= stopMs * 1e6) machine.requestExit({ kind: 'stopped', code: 0 });
      return 0;
    });
  }
  if (opts.icount) {
    machine.turnInputs.push(() => {
      const n = typed.length;
      for (const b of typed.splice(0)) platform.uart.feedInput(b);
      return n;
    });
  }

  return {
    machine,
    platform,
    frames,
    exited: machine.exited,
    input: (bytes) => { if (opts.icount) typed.push(Uint8Array.from(bytes)); else platform.uart.feedInput(bytes); },
    stop: (code = 0) => machine.requestExit({ kind: 'stopped', code }),
    statsLines: () => {
      const retired = machine.retired();
      const f = frames.summary();
      const owned = [...f.perCore].map(([c, n]) => `core ${c}: ${n}`).join(', ');
      const frameLine = `frames (2 MiB): ${frames.frames} total, ${f.free} free, ${f.shared} kernel partition` + (owned ? `, ${owned}` : '');
      const nicLines = nics.flatMap((n, i) => nicStatsLines(i, platform.nics[i], n.backend));
      const total = retired.reduce((a, b) => a + b, 0);
      const timeLine = opts.icount
        ? digest.lines(total, Math.round(clock.nowNs()))
        : [`time: guest ${(clock.nowNs() / 1e6).toFixed(1)} ms, host ${(clock.hostNs() / 1e6).toFixed(1)} ms, ` +
          `${(clock.stolenNs() / 1e6).toFixed(1)} ms not yet given back to the guest (emulator could not run it)`];
      return [frameLine, ...nicLines, ...timeLine, ...retired.map((n, i) => {
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
