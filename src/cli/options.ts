// Command-line options of `parallax-emu`, QEMU-style where users know QEMU's names
// (-smp, -m, -kernel, -append, -initrd, -netdev-like -net). Parsed with yargs 18 with
// short-option groups off, so `-smp 8` is one option and not `-s -m -p 8`.

import yargs from 'yargs';
import { MAX_CORES } from '../abi/control-block.js';
import type { ServerOptions } from '../machine/server.js';

export class UsageError extends Error {}

/** The server's options (owned by src/machine/server.ts) plus what the CLI itself handles. */
export interface EmuOptions extends ServerOptions {
  /** print per-core statistics at exit */
  stats: boolean;
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

export function parseCores(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(String(v).split(',')[0].replace(/^cpus=/, ''));
  if (!Number.isInteger(n) || n < 1 || n > MAX_CORES) {
    throw new UsageError(`--cores must be an integer from 1 to ${MAX_CORES} (got ${String(v)})`);
  }
  return n;
}

export function buildParser(argv: string[], defaultKernel: string) {
  return yargs(argv)
    .parserConfiguration({ 'short-option-groups': false, 'camel-case-expansion': false })
    .scriptName('parallax-emu')
    .usage('$0 [options]\n\nBoot a multi-core x86-64 Parallax server (default image: the DIME kernel).')
    .option('cores', { alias: ['smp', 'c'], type: 'string', default: '1', describe: 'number of cores (DIMEs)' })
    .option('memory', { alias: ['m'], type: 'string', default: '512M', describe: 'guest RAM (512M, 2G; bare number = MiB)' })
    .option('kernel', { alias: ['k'], type: 'string', default: defaultKernel, describe: 'Multiboot 1/2 or ELF64 kernel image' })
    .option('append', { type: 'string', default: '', describe: 'kernel command line' })
    .option('initrd', { type: 'string', describe: 'multiboot modules: "FILE args,FILE2" (",," is a literal comma)' })
    .option('net', { alias: ['netdev', 'nic'], type: 'string', array: true, default: [] as string[],
      describe: 'network backend: none | tap,ifname=N | stream,... | dgram,... | hub,path=... (repeatable)' })
    .option('name', { type: 'string', default: 'parallax', describe: 'server name (seeds deterministic MACs)' })
    .option('mac', { type: 'string', describe: 'MAC address of the first NIC (overrides --name)' })
    .option('pcap', { type: 'string', describe: 'write every frame sent/received to this pcap file' })
    .option('stats', { type: 'boolean', default: false, describe: 'print per-core statistics at exit' })
    .option('slice', { type: 'number', hidden: true })
    .strict()
    .help()
    .version(false)
    .fail((msg, err) => {
      throw new UsageError(err ? err.message : msg);
    });
}

export function parseEmuOptions(argv: string[], defaultKernel: string): EmuOptions {
  const a = buildParser(argv, defaultKernel).parseSync();
  const single = (v: unknown, name: string): string => {
    if (Array.isArray(v)) throw new UsageError(`--${name} given more than once`);
    return String(v);
  };
  return {
    cores: parseCores(single(a.cores, 'cores')),
    memoryBytes: parseMemorySize(single(a.memory, 'memory')),
    kernel: single(a.kernel, 'kernel'),
    append: single(a.append ?? '', 'append'),
    initrd: a.initrd === undefined ? undefined : single(a.initrd, 'initrd'),
    net: (a.net as string[]).map(String),
    name: single(a.name, 'name'),
    mac: a.mac === undefined ? undefined : single(a.mac, 'mac'),
    pcap: a.pcap === undefined ? undefined : single(a.pcap, 'pcap'),
    stats: Boolean(a.stats),
    slice: a.slice as number | undefined,
  };
}
