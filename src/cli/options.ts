// Command-line options of `parallax-emu`, QEMU-style where users know QEMU's names
// (-smp, -m, -kernel, -append, -initrd, -netdev-like -net, -s/-gdb/-S, -qmp, -monitor). Parsed
// with yargs 18 with short-option groups off, so `-smp 8` is one option and not `-s -m -p 8`;
// QEMU flags that describe our fixed machine are accepted (qemu-flags.ts), typos get a
// did-you-mean.

import { closest, distance } from 'fastest-levenshtein';
import yargs from 'yargs';
import { MAX_CORES } from '../abi/control-block.js';
import type { IcountOptions, ServerOptions } from '../machine/server.js';
import { parseGdbAddress } from '../gdb/gdb-address.js';
import { parseQmpSpec } from '../qmp/qmp-address.js';
import { snapshotPath } from '../machine/snapshot.js';
import { ACCEPTED_QEMU_FLAGS, checkQemuFlags, REFUSED_QEMU_FLAGS } from './qemu-flags.js';
import { DriveOptionError, isVirtioBlkDevice, parseDrives } from './drive-options.js';
import { parseBootOrder } from './boot-order.js';

export class UsageError extends Error {}

/** The server's options (owned by src/machine/server.ts) plus what the CLI itself handles. */
export interface EmuOptions extends ServerOptions {
  /** print per-core statistics at exit */
  stats: boolean;
  /** --version / -V: print the version and exit */
  showVersion?: boolean;
  /** gdb remote stub listen address ("tcp::1234", "tcp:HOST:PORT"), from -s or -gdb */
  gdb?: string;
  /** QMP servers (-qmp unix:PATH,server,wait=off | tcp:HOST:PORT,server,wait=off) */
  qmp?: string[];
  /** -boot n: boot our network boot firmware (images/netboot.elf) instead of --kernel */
  netBoot?: boolean;
  /** -monitor stdio | none (default: none; Ctrl-A c still reaches the monitor) */
  monitor?: string;
  /** -serial mon:stdio: the console's Ctrl-A escapes work even when stdin is not a terminal */
  serialMonitor?: boolean;
  /** -serial file:PATH: COM1's output goes to PATH (created or truncated) instead of stdout; COM1 gets no input */
  serialFile?: string;
  /** -incoming file:PATH or -loadvm NAME: start from this snapshot file instead of booting */
  incomingFile?: string;
  /** where savevm/loadvm/-loadvm keep named snapshots (NAME.pxsnap) */
  snapshotDir: string;
  /** --snapshot-out FILE: save the machine to FILE once the console printed `snapshotAt`, then end */
  snapshotOut?: string;
  snapshotAt?: string;
}

/** "512", "512M", "2G", "65536K" -> bytes (a bare number is MiB, as QEMU's -m). */
export function parseMemorySize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)[iI]?[bB]?$/.exec(String(text).trim());
  if (!m) throw new UsageError(`invalid memory size "${text}" (examples: 512M, 2G, 1024)`);
  const n = Number(m[1]);
  const unit = (m[2] || 'M').toUpperCase();
  const mult = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[unit]!;
  const bytes = Math.round(n * mult);
  if (bytes % 4096 !== 0) throw new UsageError(`memory size "${text}" is not a multiple of 4 KiB`);
  return bytes;
}

/** -serial file:PATH -> PATH (one -serial: COM1 is the only port) */
function serialFileOf(v: unknown): string | undefined {
  const all = ([] as unknown[]).concat(v ?? []).map(String);
  const files = all.filter((x) => x.startsWith('file:'));
  if (files.length === 0) return undefined;
  if (all.length > 1) throw new UsageError(`-serial: one only (COM1 is the machine's only serial port; got ${all.join(', ')})`);
  return files[0].slice('file:'.length);
}

const SMP_KEYS = ['cpus', 'maxcpus', 'sockets', 'dies', 'clusters', 'cores', 'threads'] as const;

/**
 * `--cores N` or QEMU's `-smp [cpus=]N[,maxcpus=M][,sockets=S][,dies=D][,clusters=C][,cores=C][,threads=T]`
 * (`-smp sockets=1,cpus=4`, `-smp 4,cores=2,sockets=2`, `-smp cores=4` -> 4 cores). As QEMU: without
 * cpus, the count is maxcpus or else the product of the topology; the product of the topology must
 * divide it, and equal it when sockets, cores and threads are all given. The machine's cores are
 * flat (one per package in CPUID and the MADT), so threads must be 1 and maxcpus, if given, equal
 * cpus (no CPU hotplug); both are refused with the reason.
 */
export function parseCores(v: unknown): number {
  const bad = (why: string): never => { throw new UsageError(`--cores must be an integer from 1 to ${MAX_CORES} (got ${String(v)}${why ? `: ${why}` : ''})`); };
  const int = (text: string, key: string): number => {
    if (!/^\d+$/.test(text)) bad(`${key} is not a whole number`);
    const n = Number(text);
    if (n < 1) bad(`${key} must be at least 1`);
    return n;
  };
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > MAX_CORES) bad('');
    return v;
  }
  const parts = String(v).trim().split(',');
  const got: Partial<Record<(typeof SMP_KEYS)[number], number>> = {};
  parts.forEach((part, i) => {
    const eq = part.indexOf('=');
    const key = eq < 0 && i === 0 ? 'cpus' : part.slice(0, Math.max(eq, 0));
    if (eq < 0 && i > 0) bad(`"${part}" is not key=value`);
    if (!(SMP_KEYS as readonly string[]).includes(key)) bad(`unknown -smp key "${key}" (accepted: ${SMP_KEYS.join(', ')})`);
    const k = key as (typeof SMP_KEYS)[number];
    if (got[k] !== undefined) bad(`${k} given twice`);
    got[k] = int(eq < 0 ? part : part.slice(eq + 1), k);
  });
  const topo = ['sockets', 'dies', 'clusters', 'cores', 'threads'] as const;
  const product = topo.reduce((p, k) => p * (got[k] ?? 1), 1);
  const n = got.cpus ?? got.maxcpus ?? product;
  if (n > MAX_CORES) bad('');
  if (got.maxcpus !== undefined && got.maxcpus !== n) bad('maxcpus must equal cpus (no CPU hotplug)');
  if ((got.threads ?? 1) !== 1) bad('threads must be 1 (SMT siblings are not modelled; use cores=)');
  const whole = got.sockets !== undefined && got.cores !== undefined && got.threads !== undefined;
  if (whole ? product !== n : n % product !== 0) bad(`the topology's product ${product} does not match ${n} CPUs`);
  return n;
}


/**
 * QEMU's `-icount` argument: "shift=N" or "N", "sleep=on|off" (`shift=auto` and align are not
 * offered); `quantum=Q` (instructions per core turn) and `stop=MS` (end the machine at that
 * guest time) are parallax-emu's own additions.
 */
export function parseIcount(text: string): IcountOptions {
  const out: IcountOptions = { shift: 0 };
  const t = String(text).trim();
  if (t === '') return out;
  for (const part of t.split(',')) {
    const [k, v] = part.includes('=') ? part.split('=', 2) : ['shift', part];
    if (k === 'shift' && v === 'auto') throw new UsageError('--icount shift=auto is not supported: give a fixed shift (0-10)');
    const n = Number(v);
    if (k === 'shift') {
      if (!/^\d+$/.test(v) || n > 10) throw new UsageError(`--icount shift must be an integer from 0 to 10 (got "${v}")`);
      out.shift = n;
    } else if (k === 'sleep') {
      if (v !== 'on' && v !== 'off') throw new UsageError(`--icount sleep must be on or off (got "${v}")`);
      out.sleep = v === 'on';
    } else if (k === 'stop') {
      if (!/^\d+$/.test(v) || n < 1) throw new UsageError(`--icount stop must be a whole number of guest milliseconds (got "${v}")`);
      out.stopMs = n;
    } else if (k === 'quantum') {
      if (!/^\d+$/.test(v) || n < 100 || n > 100_000_000) throw new UsageError(`--icount quantum must be an integer from 100 to 100000000 (got "${v}")`);
      out.quantum = n;
    } else {
      throw new UsageError(`--icount: unknown setting "${k}" (shift=N, sleep=on|off, quantum=INSNS, stop=GUEST_MS)`);
    }
  }
  return out;
}

export function buildParser(argv: string[], defaultKernel: string) {
  return yargs(argv)
    .parserConfiguration({ 'short-option-groups': false, 'camel-case-expansion': false })
    .version(false) // our own --version/-V below (yargs' would claim the name)
    .scriptName('parallax-emu')
    .usage('$0 [options]\n\nBoot a multi-core x86-64 Parallax server (default image: the DIME kernel).')
    .option('cores', { alias: ['smp', 'c'], type: 'string', default: '1', describe: 'number of cores (DIMEs)' })
    .option('memory', { alias: ['m'], type: 'string', default: '512M', describe: 'guest RAM (512M, 2G; bare number = MiB)' })
    .option('kernel', { alias: ['k'], type: 'string', default: defaultKernel, describe: 'Linux bzImage, PVH ELF, Multiboot 1/2 or ELF64 kernel image' })
    .option('append', { type: 'string', default: '', describe: 'kernel command line' })
    .option('bios', { type: 'string', describe: 'boot a legacy BIOS image from reset instead of --kernel (/usr/share/seabios/bios.bin)' })
    .option('boot', { type: 'string', describe: 'QEMU boot order; -boot n: network boot (our firmware fetches the kernel from a parallax-orch boot-server on --net)' })
    .option('hda', { type: 'string', describe: 'raw disk image on the IDE primary channel (booted by -bios firmware)' })
    .option('debugcon', { type: 'string', describe: 'debug console ports 0xE9 and 0x402 (SeaBIOS\'s log): stdio | file:PATH | none' })
    .option('initrd', { type: 'string', describe: 'Linux initramfs (one file), or modules: "FILE args,FILE2" (",," is a literal comma)' })
    .option('net', { alias: ['netdev', 'nic'], type: 'string', array: true, default: [] as string[],
      describe: 'network backend: none | tap,ifname=N | stream,... | dgram,... | hub,path=... (repeatable)' })
    .option('name', { type: 'string', default: 'parallax', describe: 'server name (seeds deterministic MACs)' })
    .option('mac', { type: 'string', describe: 'MAC address of the first NIC (overrides --name)' })
    .option('pcap', { type: 'string', describe: 'write every frame sent/received to this pcap file' })
    .option('stats', { type: 'boolean', default: false, describe: 'print per-core statistics at exit' })
    .option('drive', { type: 'string', array: true, default: [] as string[],
      describe: 'a virtio disk: file=IMG,format=raw,if=virtio[,snapshot=on][,readonly=on], or if=none,id=ID with -device virtio-blk-pci,drive=ID (repeatable)' })
    .option('snapshot', { type: 'boolean', describe: 'every -drive snapshot=on: writes stay in memory, the images are not changed' })
    .option('fw_cfg', { alias: ['fw-cfg'], type: 'string', array: true, default: [] as string[],
      describe: 'a file for the guest, as QEMU: name=opt/...,file=PATH (repeatable)' })
    .option('key-file', { type: 'string', describe: 'server key file (mode 0600) for the DIME kernel: fw_cfg opt/parallax/key' })
    .option('icount', { type: 'string', describe: 'deterministic time: shift=N (2^N ns per instruction), cores take turns; sleep=off: idle time jumps instead of following the host; quantum=INSNS per turn; stop=GUEST_MS ends the run' })
    .option('slice', { type: 'number', hidden: true })
    .option('cores-per-worker', { type: 'string', describe: 'emulated cores per worker thread: N | auto (one worker per host CPU); default 1. Several per worker start faster and hold less memory per core; one per worker runs each core on its own host thread' })
    .option('s', { type: 'boolean', describe: 'gdb stub on tcp::1234 (shorthand for -gdb tcp::1234)' })
    .option('gdb', { type: 'string', describe: 'gdb stub: tcp::PORT or tcp:HOST:PORT' })
    .option('S', { type: 'boolean', describe: 'start with every core paused (continue from gdb or the monitor)' })
    .option('qmp', { type: 'string', array: true, describe: 'QMP server: unix:PATH,server,wait=off or tcp:HOST:PORT,server,wait=off' })
    .option('monitor', { type: 'string', describe: 'human monitor: stdio | none (Ctrl-A c toggles it on the console)' })
    .option('incoming', { type: 'string', describe: 'start from a snapshot instead of booting: file:PATH (same -smp, -m and --net as when it was saved)' })
    .option('loadvm', { type: 'string', describe: 'start from the named snapshot (savevm NAME) in --snapshot-dir' })
    .option('snapshot-dir', { type: 'string', default: '.', describe: 'folder of named snapshots (NAME.pxsnap) for savevm/loadvm/-loadvm' })
    .option('snapshot-out', { type: 'string', describe: 'save the machine to this file once the console has printed --snapshot-at TEXT, then end' })
    .option('snapshot-at', { type: 'string', describe: 'console text after which --snapshot-out saves (default: DIME ready)' })
    .group(['s', 'gdb', 'S', 'qmp', 'monitor'], 'Debugging and control:')
    .group(['incoming', 'loadvm', 'snapshot-dir', 'snapshot-out', 'snapshot-at'], 'Snapshots:')
    .option('version', { alias: ['V'], type: 'boolean', describe: 'print the version and exit' })
    .options(qemuFlagOptions())
    .group(Object.keys(ACCEPTED_QEMU_FLAGS), 'Accepted for QEMU command lines (describe what parallax-emu always does):')
    .strict()
    .help('help')
    .alias('help', 'h')
    .fail((msg, err) => {
      throw new UsageError(err ? err.message : withSuggestion(msg, argv));
    });
}

function qemuFlagOptions(): Record<string, { type: 'string' | 'boolean'; describe?: string; hidden?: boolean; array?: boolean }> {
  const o: Record<string, { type: 'string' | 'boolean'; describe?: string; hidden?: boolean; array?: boolean }> = {};
  for (const [flag, rule] of Object.entries(ACCEPTED_QEMU_FLAGS)) {
    o[flag] = rule.values === null ? { type: 'boolean', describe: rule.why }
      : { type: 'string', array: true, describe: `${rule.values[0]} (${rule.why})` };
  }
  for (const flag of Object.keys(REFUSED_QEMU_FLAGS)) o[flag] = { type: 'string', hidden: true };
  return o;
}

/** Every spelling an option can be given in (for did-you-mean). */
function knownOptionNames(): string[] {
  return ['cores', 'smp', 'c', 'memory', 'm', 'kernel', 'k', 'append', 'bios', 'boot', 'debugcon', 'hda', 'initrd', 'net', 'netdev', 'nic', 'name', 'mac',
    'pcap', 'stats', 'drive', 'snapshot', 's', 'gdb', 'S', 'qmp', 'monitor', 'version', 'V', 'help', 'h', 'incoming', 'loadvm', 'snapshot-dir',
    'snapshot-out', 'snapshot-at', 'cores-per-worker', ...Object.keys(ACCEPTED_QEMU_FLAGS)];
}

/** --cores-per-worker: a positive integer or 'auto' */
export function parseCoresPerWorker(v: string): number | 'auto' {
  if (v === 'auto') return 'auto';
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_CORES) throw new UsageError(`--cores-per-worker must be an integer from 1 to ${MAX_CORES} or auto (got "${v}")`);
  return Number(v);
}

/** "Unknown argument: smpp" -> "... (did you mean -smp?)", keeping the user's dash style. */
function withSuggestion(msg: string, argv: string[]): string {
  const m = /^Unknown arguments?: (.+)$/.exec(msg);
  if (!m) return msg;
  const parts = m[1].split(', ').map((name) => {
    const typed = argv.find((t) => t.replace(/^--?/, '').split('=')[0] === name) ?? `--${name}`;
    const dashes = typed.startsWith('--') ? '--' : '-';
    const best = closest(name, knownOptionNames());
    const close = distance(name, best) <= Math.max(1, Math.floor(name.length / 3));
    return close ? `${typed} (did you mean ${dashes}${best}?)` : typed;
  });
  return `Unknown argument${parts.length > 1 ? 's' : ''}: ${parts.join(', ')} (see --help)`;
}

function single(v: unknown, name: string): string {
  if (Array.isArray(v)) throw new UsageError(`--${name} given more than once`);
  return String(v);
}

export function parseEmuOptions(argv: string[], defaultKernel: string): EmuOptions {
  const a = buildParser(argv, defaultKernel).parseSync();
  // -device virtio-blk-pci,... is a disk; the other -device values are fixed QEMU flags
  const deviceArgs = ([] as unknown[]).concat(a.device ?? []).map(String);
  const diskDevices = deviceArgs.filter(isVirtioBlkDevice);
  const otherDevices = deviceArgs.filter((d) => !isVirtioBlkDevice(d));
  let drives;
  try {
    drives = parseDrives((a.drive as string[]).map(String), diskDevices, Boolean(a.snapshot));
  } catch (e) {
    throw e instanceof DriveOptionError ? new UsageError(e.message) : e;
  }
  const refused = checkQemuFlags({ ...(a as Record<string, unknown>), device: otherDevices.length ? otherDevices : undefined });
  if (refused) throw new UsageError(refused);
  if (a.s && a.gdb !== undefined) throw new UsageError('give either -s or -gdb, not both');
  if (a.gdb !== undefined) {
    try { parseGdbAddress(single(a.gdb, 'gdb')); } catch (e) { throw new UsageError((e as Error).message); }
  }
  for (const q of (a.qmp as string[] | undefined) ?? []) {
    try { parseQmpSpec(String(q)); } catch (e) { throw new UsageError((e as Error).message); }
  }
  if (a.bios !== undefined) {
    // QEMU would hand a -kernel to the firmware (fw_cfg + linuxboot option ROM); we do not
    const given = (names: string[]) => argv.some((t) => names.includes(t.replace(/^--?/, '').split('=')[0]));
    if (given(['kernel', 'k', 'initrd', 'append'])) {
      throw new UsageError('-bios boots the firmware from reset; it cannot be combined with --kernel, --initrd or --append (give the BIOS a disk with -hda)');
    }
  }
  let netBoot = false;
  if (a.boot !== undefined) {
    let order;
    try { order = parseBootOrder(single(a.boot, 'boot')); } catch (e) { throw new UsageError((e as Error).message); }
    netBoot = order.network && a.bios === undefined;
    const given = (names: string[]) => argv.some((t) => names.includes(t.replace(/^--?/, '').split('=')[0]));
    if (order.network && a.bios !== undefined) throw new UsageError('-boot n with -bios: the BIOS would need a PXE option ROM, which this board does not have; drop -bios to boot from the network with our firmware');
    if (netBoot && given(['kernel', 'k', 'initrd', 'append'])) throw new UsageError('-boot n fetches the kernel and its command line from the boot server (parallax-orch boot-server --image F --append ...); it cannot be combined with --kernel, --initrd or --append');
    if (netBoot && (a.net as string[]).length === 0) throw new UsageError('-boot n needs a LAN with a boot server on it: add --net (e.g. --net hub,path=/tmp/lan.sock)');
  }
  const monitor = a.monitor === undefined ? 'none' : single(a.monitor, 'monitor');
  const snapshotDir = single(a['snapshot-dir'], 'snapshot-dir');
  let incomingFile: string | undefined;
  if (a.incoming !== undefined && a.loadvm !== undefined) throw new UsageError('give either -incoming or -loadvm, not both');
  if (a.incoming !== undefined) {
    const spec = single(a.incoming, 'incoming');
    if (!spec.startsWith('file:') || spec.length <= 5) throw new UsageError(`-incoming ${spec} is not supported (accepted: file:PATH, a file written by savevm or --snapshot-out)`);
    incomingFile = spec.slice(5);
  }
  if (a.loadvm !== undefined) {
    try { incomingFile = snapshotPath(single(a.loadvm, 'loadvm'), snapshotDir); } catch (e) { throw new UsageError((e as Error).message); }
  }
  if (a['snapshot-at'] !== undefined && a['snapshot-out'] === undefined) throw new UsageError('--snapshot-at needs --snapshot-out FILE');
  if (monitor !== 'none' && monitor !== 'stdio') throw new UsageError(`-monitor ${monitor} is not supported (accepted: stdio | none)`);
  return {
    cores: parseCores(single(a.cores, 'cores')),
    memoryBytes: parseMemorySize(single(a.memory, 'memory')),
    kernel: single(a.kernel, 'kernel'),
    append: single(a.append ?? '', 'append'),
    bios: a.bios === undefined ? undefined : single(a.bios, 'bios'),
    netBoot,
    debugcon: a.debugcon === undefined ? undefined : single(a.debugcon, 'debugcon'),
    hda: a.hda === undefined ? undefined : single(a.hda, 'hda'),
    initrd: a.initrd === undefined ? undefined : single(a.initrd, 'initrd'),
    net: (a.net as string[]).map(String),
    name: single(a.name, 'name'),
    mac: a.mac === undefined ? undefined : single(a.mac, 'mac'),
    pcap: a.pcap === undefined ? undefined : single(a.pcap, 'pcap'),
    stats: Boolean(a.stats),
    fwCfg: [...(a.fw_cfg as string[]).map((v) => parseFwCfg(String(v))),
      ...(a['key-file'] === undefined ? [] : [{ name: 'opt/parallax/key', file: single(a['key-file'], 'key-file') }])],
    icount: a.icount === undefined ? undefined : parseIcount(single(a.icount, 'icount')),
    slice: a.slice as number | undefined,
    coresPerWorker: a['cores-per-worker'] === undefined ? undefined : parseCoresPerWorker(single(a['cores-per-worker'], 'cores-per-worker')),
    showVersion: Boolean(a.version),
    gdb: a.s ? 'tcp::1234' : a.gdb === undefined ? undefined : single(a.gdb, 'gdb'),
    startPaused: Boolean(a.S),
    qmp: ((a.qmp as string[] | undefined) ?? []).map(String),
    monitor,
    serialMonitor: ([] as unknown[]).concat(a.serial ?? []).includes('mon:stdio'),
    serialFile: serialFileOf(a.serial),
    drives,
    incomingFile,
    snapshotDir,
    snapshotOut: a['snapshot-out'] === undefined ? undefined : single(a['snapshot-out'], 'snapshot-out'),
    snapshotAt: a['snapshot-out'] === undefined ? undefined : a['snapshot-at'] === undefined ? 'DIME ready' : single(a['snapshot-at'], 'snapshot-at'),
  };
}


/** QEMU's `-fw_cfg [name=]NAME,file=PATH` (the `string=` form would put data on the command line: refused). */
export function parseFwCfg(spec: string): { name: string; file: string } {
  let name: string | undefined;
  let file: string | undefined;
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? 'name' : part.slice(0, eq);
    const v = eq < 0 ? part : part.slice(eq + 1);
    if (k === 'name') name = v;
    else if (k === 'file') file = v;
    else if (k === 'string') throw new UsageError('-fw_cfg string=... is not supported: data on a command line is visible to every user (use file=)');
    else throw new UsageError(`-fw_cfg: unknown option '${k}' (name=...,file=...)`);
  }
  if (!name || !file) throw new UsageError(`-fw_cfg needs name=...,file=... (got '${spec}')`);
  if (!name.startsWith('opt/')) throw new UsageError(`-fw_cfg name '${name}' must start with opt/ (as QEMU requires for user files)`);
  return { name, file };
}
