// Boot one emulated Parallax server from command-line options: read the kernel and modules,
// build RAM and the loader's hand-over state, open network backends, assemble the platform and
// start the cores. Console (COM1) goes to `out`; `input` bytes go to COM1's receiver.

import { openSync, readFileSync, writeSync } from 'node:fs';
import { placeBiosImage, readBiosImage } from '../boot/bios-image.js';
import { RawFileBackend } from '../block/raw-file.js';
import { SECTOR_SIZE } from '../block/block-backend.js';
import { BootError } from '../boot/boot-error.js';
import { readModules } from '../boot/initrd-spec.js';
import { loadKernel } from '../boot/loader.js';
import {
  C_STAT_BLOCKS, C_STAT_DEVICE_EXITS, C_STAT_DEVICE_NS_LO, C_STAT_DEVICE_SLOW, C_STAT_DEVICE_SLOW_NS_LO, C_STAT_DEVICE_TIMED, C_STAT_HALTED_NS_LO, C_STAT_HALTED_NS_HI, C_STAT_TLB_MISS,
  C_STAT_WAKE_HIST, C_STAT_WAKEUPS, C_STAT_WAKE_NS_LO, G_CODE_GEN, G_CODE_WRITES, WAKE_HIST_LIMITS_US, coreBase,
} from '../abi/control-block.js';
import { readCounter64 } from '../abi/host-stamp.js';
import { DEFAULT_QUANTUM, EXIT_UNSUPPORTED, Machine, type MachineExit } from './machine.js';
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
import { KeyFileError, readSecretFile } from '../net/secret-file.js';
import { isDuplicateMacNotice, macAnnouncement } from '../net/duplicate-mac.js';
import { wasmStatsLine } from '../cpu/wasm/wasm-stats.js';
import { VirtualTimeLink } from '../net/virtual-time-link.js';
import { BlockIoError, type BlockBackend } from '../block/block-backend.js';
import { openDriveBackend, type DriveBackendSpec } from '../block/open-drive.js';
import { vmGenerationFile } from './vm-generation.js';

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
  /** --cores-per-worker: emulated cores per worker thread (default 1; 'auto': one worker per host CPU) */
  coresPerWorker?: number | 'auto';
  /** fw_cfg files for the guest (QEMU's -fw_cfg name=N,file=F); --key-file adds opt/parallax/key */
  fwCfg?: { name: string; file: string }[];
  /** -icount: deterministic instruction-count time (src/abi/clock.ts) */
  icount?: IcountOptions;
  /** -S: every core parks before its first instruction (gdb or the monitor starts them) */
  startPaused?: boolean;
  /** -bios FILE: boot this legacy BIOS image from reset instead of loading `kernel` */
  bios?: string;
  /** -hda FILE: a raw disk image on the IDE primary channel (for -bios guests) */
  hda?: string;
  /** -debugcon: where ports 0xE9 and 0x402 write (stdio | file:PATH | none); default 0xE9 -> console */
  debugcon?: string;
  /** virtio-blk disks (-drive ...,if=virtio, or -drive if=none + -device virtio-blk-pci), in PCI order */
  drives?: DriveSpec[];
  /**
   * the machine will be restored from a snapshot (-incoming, -loadvm): cores start parked and
   * the loader writes a scratch copy, so guest RAM stays untouched for the snapshot's frames
   */
  incoming?: boolean;
}

export interface DriveSpec extends DriveBackendSpec {
  /** -drive id= (names the disk in messages) */
  id?: string;
  /** what GET_ID answers (QEMU's serial=) */
  serial?: string;
}

/** -hda: a raw image through the block layer; a disk without one whole sector is refused. */
function openHda(path: string): RawFileBackend {
  let disk: RawFileBackend;
  try {
    disk = new RawFileBackend(path);
  } catch (e) {
    throw new ServerError((e as Error).message);
  }
  if (disk.sizeBytes < SECTOR_SIZE) {
    disk.close();
    throw new ServerError(`disk image '${path}' is smaller than one ${SECTOR_SIZE}-byte sector`);
  }
  return disk;
}

/** Open every drive's backend, or close those opened and throw a ServerError naming the one that failed. */
function openDrives(drives: DriveSpec[]): { backend: BlockBackend; serial?: string }[] {
  const out: { backend: BlockBackend; serial?: string }[] = [];
  for (const d of drives) {
    try {
      out.push({ backend: openDriveBackend(d), serial: d.serial });
    } catch (e) {
      for (const o of out) o.backend.close();
      throw new ServerError(`-drive ${d.id ? `id=${d.id}` : `file=${d.file}`}: ${e instanceof BlockIoError ? e.message : String(e)}`);
    }
  }
  return out;
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
  /** guest RAM was never written (built for -incoming): a restore need not clear it */
  freshRam: boolean;
}

/** A private buffer the size of guest RAM (pages are only allocated where the loader writes); null when too big. */
function scratchRam(bytes: number): Uint8Array | null {
  try {
    return new Uint8Array(bytes);
  } catch {
    return null;
  }
}

function readKernel(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ServerError(`cannot read kernel '${path}': ${code === 'ENOENT' ? 'no such file' : code ?? String(e)}`);
  }
}

/**
 * On a hub: announce our MAC as soon as we are connected; if the hub says another station has
 * it, warn (and keep the notice from the guest's NIC).
 */
function watchForDuplicateMac(backend: NetBackend, mac: Uint8Array, warn: (m: string) => void): void {
  const listen = backend.onReceive.bind(backend);
  backend.onReceive = (l) => listen((f) => {
    if (isDuplicateMacNotice(f, mac)) {
      warn(`parallax-emu: WARNING MAC ${[...mac].map((b) => b.toString(16).padStart(2, '0')).join(':')} is already in use on this LAN (the hub refuses our frames): give another --name or --mac`);
      return;
    }
    l(f);
  });
  const connected = (backend as { waitConnected?: () => Promise<void> }).waitConnected?.();
  void Promise.resolve(connected).then(() => backend.send(macAnnouncement(mac))).catch(() => undefined);
}

/** fw_cfg files from their paths; key files (opt/parallax/*) must be readable by their owner only. */
function readFwCfgFiles(list: NonNullable<ServerOptions['fwCfg']>): { name: string; data: Uint8Array }[] {
  return list.map(({ name, file }) => {
    try {
      if (name.startsWith('opt/parallax/')) return { name, data: new Uint8Array(Buffer.from(readSecretFile(file) + '\n')) };
      return { name, data: new Uint8Array(readFileSync(file)) };
    } catch (e) {
      throw new ServerError(e instanceof KeyFileError ? e.message : `-fw_cfg ${name}: cannot read ${file}: ${(e as Error).message}`);
    }
  });
}

/** The -debugcon sink, or undefined for the default (0xE9 to the console, no 0x402). */
function openDebugcon(spec: string | undefined, io: ServerIo): ((b: Uint8Array) => void) | undefined {
  if (spec === undefined) return undefined;
  if (spec === 'stdio') return (b) => io.out(b);
  if (spec === 'none') return () => {};
  if (spec.startsWith('file:')) {
    const path = spec.slice(5);
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (e) {
      throw new ServerError(`-debugcon: cannot write '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return (b) => writeSync(fd, b);
  }
  throw new ServerError(`-debugcon ${spec} is not supported (accepted: stdio | file:PATH | none)`);
}

export async function startServer(opts: ServerOptions, io: ServerIo): Promise<RunningServer> {
  const fwCfgFiles = [...readFwCfgFiles(opts.fwCfg ?? []), vmGenerationFile()];
  const bios = opts.bios !== undefined ? readBiosImage(opts.bios) : null;
  const kernel = bios ? null : readKernel(opts.kernel);
  const modules = !bios && opts.initrd ? readModules(opts.initrd) : [];
  const debugConsole = openDebugcon(opts.debugcon, io);
  const hda = opts.hda === undefined ? undefined : openHda(opts.hda);
  const disks = openDrives(opts.drives ?? []);
  const time = opts.icount
    ? { mode: 'icount' as const, shift: opts.icount.shift, quantum: opts.icount.quantum ?? DEFAULT_QUANTUM }
    : { mode: 'real' as const };
  const machine = new Machine({
    cores: opts.cores, memoryBytes: opts.memoryBytes, slice: opts.slice, time, sleepWhenIdle: opts.icount?.sleep, startPaused: opts.startPaused || opts.incoming,
    biosBytes: bios?.length, coresPerWorker: opts.coresPerWorker,
  });
  const startedMs = performance.now();
  const digest = new ReplayDigest();
  const clock = clockFor(machine.ctl);
  const scratch = opts.incoming ? scratchRam(machine.layout.ramBytes) : null;
  const loaderRam = scratch ?? machine.ramView();
  if (bios) placeBiosImage(loaderRam, bios);
  const plan = kernel === null ? undefined : loadKernel({
    kernel, kernelPath: opts.kernel, append: opts.append, modules,
    ram: loaderRam, layout: machine.layout, ncores: opts.cores,
  });

  const frames = new FrameTable(machine.ctl, machine.layout);
  if (plan) frames.fillFromPlan(plan);

  // One e1000 per --net (default: one NIC with no backend, as a board with an unplugged cable).
  const specs = opts.net.length > 0 ? opts.net : ['none'];
  if (opts.icount && specs.some((sp) => !/^\s*(none|hub)\b/.test(sp))) {
    // only the hub carries virtual time (docs/ARCHITECTURE.md, "One virtual time across machines")
    process.stderr.write('parallax-emu: warning: --icount with a network other than the hub: frames from other machines enter when the host ' +
      'delivers them, so a run that exchanges frames is not deterministic (replay holds for runs without network input)\n');
  }
  const nics: { mac: Uint8Array; backend: NetBackend }[] = [];
  const timeLinks: VirtualTimeLink[] = [];
  for (let i = 0; i < specs.length; i++) {
    const mac = i === 0 && opts.mac ? parseMac(opts.mac) : macFromName(opts.name, i);
    if (!opts.icount) {
      const backend = await openNetBackend(specs[i], { mac, capturePath: i === 0 ? opts.pcap : undefined });
      if (specs[i].startsWith('hub')) watchForDuplicateMac(backend, mac, (m) => process.stderr.write(`${m}\n`));
      nics.push({ mac, backend });
      continue;
    }
    const opened = await openNetBackend(specs[i], { mac });
    let inner: NetBackend = opened;
    if (specs[i].startsWith('hub')) {
      watchForDuplicateMac(opened, mac, (m) => process.stderr.write(`${m}\n`));
      // a hub port in the virtual time: frames stamped both ways, the I/O turn waits for grants
      const link = new VirtualTimeLink(opened, () => clock.nowNs());
      machine.timeLinks.push(link);
      timeLinks.push(link);
      inner = link;
    }
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
    ctl: machine.ctl, ram: machine.shared.ram, layout: machine.layout, cores: opts.cores, plan, nics, fwCfgFiles, disks, devices: machine.devices, hda,
    hooks: {
      serialOut: (b) => { digest.console(b); io.out(b); },
      debugConsole,
      onDebugExit: (status) => machine.requestExit({ kind: 'debug-exit', code: status }),
      onReset: (kind) => machine.requestExit({ kind: 'reset', code: 0, detail: `guest requested a reset (${kind})` }),
      onPowerOff: () => machine.requestExit({ kind: 'poweroff', code: 0 }),
      onUnsupportedSleep: (typ) => machine.requestExit({
        kind: 'unsupported', code: EXIT_UNSUPPORTED,
        detail: `guest requested ACPI sleep type ${typ} (PM1a_CNT SLP_TYP); only S5 (power off, type 0) is modelled`,
      }),
    },
  });
  machine.start(platform, plan ?? { mode: 'power-on' });
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
      for (const b of typed.splice(0)) platform.feedConsole(b);
      return n;
    });
  }

  return {
    machine,
    platform,
    frames,
    exited: machine.exited,
    freshRam: scratch !== null,
    input: (bytes) => { if (opts.icount) typed.push(Uint8Array.from(bytes)); else platform.feedConsole(bytes); },
    stop: (code = 0) => machine.requestExit({ kind: 'stopped', code }),
    statsLines: () => {
      const retired = machine.retired();
      const f = frames.summary();
      const owned = [...f.perCore].map(([c, n]) => `core ${c}: ${n}`).join(', ');
      const frameLine = `frames (2 MiB): ${frames.frames} total, ${f.free} free, ${f.shared} kernel partition` + (owned ? `, ${owned}` : '');
      const nicLines = nics.flatMap((n, i) => nicStatsLines(i, platform.nics[i], n.backend));
      const total = retired.reduce((a, b) => a + b, 0);
      const lanLines = timeLinks.map((l, i) => {
        const v = l.vstats;
        return `virtual LAN ${i}: ${v.stamped} stamped frames in (${v.late} late), ${v.unstamped} unstamped (from outside the virtual time), ` +
          `${v.promises} promises, ${v.grants} grants, link latency ${l.welcome ? `${l.welcome.latencyNs} ns${l.welcome.late ? ', joined late' : ''}` : 'unknown (never welcomed)'}`;
      });
      const timeLine = opts.icount
        ? [...lanLines, ...digest.lines(total, Math.round(clock.nowNs()))]
        : [`time: guest ${(clock.nowNs() / 1e6).toFixed(1)} ms, host ${(clock.hostNs() / 1e6).toFixed(1)} ms, ` +
          `${(clock.stolenNs() / 1e6).toFixed(1)} ms not yet given back to the guest (emulator could not run it)`];
      const wallMs = performance.now() - startedMs;
      const wasmLines = retired.map((_, i) => wasmStatsLine(machine.shared, i, wallMs)).filter((l) => l !== '');
      const compileLine = machine.compileService?.statsLine(wallMs) ?? '';
      if (compileLine !== '') wasmLines.push(compileLine);
      // writes that hit a page holding decoded code throw its blocks away on every core, and a
      // page that becomes code makes every core drop its write-TLB entries: both should stop
      // growing once the guest's code is warm
      const codeLine = `code pages: ${machine.ctl[G_CODE_GEN]} became code, ${machine.ctl[G_CODE_WRITES]} writes invalidated code`;
      return [frameLine, ...nicLines, ...wasmLines, ...timeLine, codeLine, ...retired.map((n, i) => {
        const b = coreBase(i);
        const c = machine.ctl;
        const haltedMs = ((c[b + C_STAT_HALTED_NS_HI] >>> 0) * 2 ** 32 + (c[b + C_STAT_HALTED_NS_LO] >>> 0)) / 1e6;
        return `core ${i}: ${n} instructions, ${c[b + C_STAT_BLOCKS]} blocks compiled, ${c[b + C_STAT_TLB_MISS]} TLB misses, ` +
          `${c[b + C_STAT_DEVICE_EXITS]} device accesses (${c[b + C_STAT_DEVICE_EXITS] - c[b + C_STAT_DEVICE_SLOW]} in the core, mean ` +
          `${meanUs(readCounter64(c, b + C_STAT_DEVICE_NS_LO), c[b + C_STAT_DEVICE_TIMED])} µs; ${c[b + C_STAT_DEVICE_SLOW]} via the I/O thread, mean ` +
          `${meanUs(readCounter64(c, b + C_STAT_DEVICE_SLOW_NS_LO), c[b + C_STAT_DEVICE_SLOW])} µs), ` +
          `${c[b + C_STAT_WAKEUPS]} wake-ups (mean ${meanUs(readCounter64(c, b + C_STAT_WAKE_NS_LO), c[b + C_STAT_WAKEUPS])} µs, ` +
          `median ${wakeMedian(c, b)}), ${haltedMs.toFixed(1)} ms halted`;
      })];
    },
  };
}

/** the histogram bucket holding the median wake-up latency, as "< N µs" */
function wakeMedian(c: Int32Array, b: number): string {
  const counts = WAKE_HIST_LIMITS_US.map((_, i) => c[b + C_STAT_WAKE_HIST + i]);
  const total = counts.reduce((x, y) => x + y, 0);
  if (total === 0) return '-';
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen * 2 >= total) return Number.isFinite(WAKE_HIST_LIMITS_US[i]) ? `< ${WAKE_HIST_LIMITS_US[i]} µs` : `>= ${WAKE_HIST_LIMITS_US[i - 1]} µs`;
  }
  return '-';
}

function meanUs(totalNs: number, count: number): string {
  return count > 0 ? (totalNs / count / 1000).toFixed(2) : '-';
}

/** One-line description of how the machine ended (empty for a plain guest exit). */
export function describeExit(e: MachineExit): string {
  switch (e.kind) {
    case 'triple-fault':
      // a core that needs missing firmware stops like one in shutdown, with its own cause
      if (e.detail.startsWith('no BIOS')) return `parallax-emu: core ${e.core} stopped at rip 0x${e.rip.toString(16)}: ${e.detail}`;
      return `parallax-emu: core ${e.core} triple fault at rip 0x${e.rip.toString(16)}: ${e.detail}`;
    case 'halted':
      return `parallax-emu: ${e.detail}`;
    case 'internal-error':
      return `parallax-emu: internal error on core ${e.core} at rip 0x${e.rip.toString(16)}: ${e.detail}`;
    case 'reset':
    case 'unsupported':
      return `parallax-emu: ${e.detail}`;
    default:
      return '';
  }
}

export { BootError };
