// `node dist/bench/device-access.js`: what one device access costs the guest, by kind, on
// parallax-emu with its device fast paths, on parallax-emu with every access sent to the I/O
// thread (PARALLAX_DEVICE_FASTPATH=0, what it did before), and on QEMU TCG, in one run.
// A byte-assembled Multiboot kernel prints a marker, does N accesses of one kind, prints the
// next marker...; the host times the markers as they reach the console. Host load is printed.
//
//   --n N (fast kinds, default 100000)  --n-slow N (I/O-thread kinds, default 2000)  --reps R
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multiboot1 } from '../test/emulator/mini-kernels.js';
import { EMU_CLI, qemuAvailable, Watched } from './lib/machines.js';
import { benchMain, jsonAndMarkdown } from './lib/bench-main.js';
import { finishRun, runLine, startRun, type RunRecord } from './lib/run-record.js';
import { argNumber, markdownTable, median, table } from './lib/report.js';

interface Kind { marker: string; title: string; slow: boolean; body: (n: number) => number[] }

const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const movEcx = (n: number) => [0xb9, ...le32(n)];
const movDx = (p: number) => [0x66, 0xba, p & 0xff, p >>> 8];
/** dec ecx; jnz back over a loop body of `len` bytes */
const loopBack = (len: number) => [0x49, 0x75, (0x100 - (len + 3)) & 0xff];
const NIC_BAR0 = 0xfeb80000;

/** markers: latin-1 bytes no firmware prints (SeaBIOS talks on the serial port under QEMU) */
const M = Array.from({ length: 8 }, (_, i) => String.fromCharCode(0xa1 + i));
const END = M[7];

export const KINDS: Kind[] = [
  { marker: M[0], title: 'COM1 LSR read (in)', slow: false, body: (n) => [...movDx(0x3fd), ...movEcx(n), 0xec, ...loopBack(1)] },
  { marker: M[1], title: 'COM1 SCR write (out)', slow: false, body: (n) => [...movDx(0x3ff), ...movEcx(n), 0xee, ...loopBack(1)] },
  { marker: M[2], title: 'e1000 ICR read (MMIO)', slow: false, body: (n) => [...movEcx(n), 0xa1, ...le32(NIC_BAR0 + 0xc0), ...loopBack(5)] },
  { marker: M[3], title: 'e1000 IMC write (MMIO)', slow: false, body: (n) => [0x31, 0xc0, ...movEcx(n), 0xa3, ...le32(NIC_BAR0 + 0xd8), ...loopBack(5)] },
  { marker: M[4], title: 'port 0x61 read (PIT/speaker)', slow: true, body: (n) => [...movDx(0x61), ...movEcx(n), 0xec, ...loopBack(1)] },
  { marker: M[5], title: 'HPET counter read (MMIO)', slow: true, body: (n) => [...movEcx(n), 0xa1, ...le32(0xfed000f0), ...loopBack(5)] },
];

function kernel(n: number, nSlow: number): Uint8Array {
  const out: number[] = [];
  const mark = (ch: string) => out.push(...movDx(0x3f8), 0xb0, ch.charCodeAt(0), 0xee);
  for (const k of KINDS) { mark(k.marker); out.push(...k.body(k.slow ? nSlow : n)); }
  mark(END);
  out.push(...movDx(0xf4), 0xb8, ...le32(0), 0xef, 0xfa, 0xf4, 0xeb, 0xfd); // isa-debug-exit; cli; hlt
  return multiboot1(out);
}

type Peer = 'parallax-emu' | 'parallax-emu, via I/O thread' | 'QEMU TCG';

/** ns per access of each kind, one boot */
async function once(peer: Peer, image: string, n: number, nSlow: number): Promise<Record<string, number>> {
  const [cmd, args, env] = peer === 'QEMU TCG'
    ? ['qemu-system-x86_64', ['-nographic', '-no-reboot', '-serial', 'stdio', '-monitor', 'none', '-display', 'none', '-accel', 'tcg',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-m', '64', '-nic', 'user,model=e1000', '-kernel', image], process.env]
    : [process.execPath, [EMU_CLI, '-c', '1', '-m', '64', '-k', image, '--net', 'none'],
      { ...process.env, PARALLAX_DEVICE_FASTPATH: peer === 'parallax-emu' ? '1' : '0' }];
  const w = new Watched(cmd, args, peer, env);
  try {
    await w.waitFor(new RegExp(END), 600_000);
  } finally {
    await w.stop();
  }
  const times = new Map<string, number>();
  for (const c of w.charTimes) if (!times.has(c.ch)) times.set(c.ch, c.atMs);
  const out: Record<string, number> = {};
  const order = [...KINDS.map((k) => k.marker), END];
  KINDS.forEach((k, i) => {
    const t0 = times.get(k.marker), t1 = times.get(order[i + 1]);
    out[k.marker] = t0 === undefined || t1 === undefined ? NaN : ((t1 - t0) * 1e6) / (k.slow ? nSlow : n);
  });
  return out;
}

export interface DeviceAccessResult extends RunRecord<'device-access'> {
  params: { n: number; nSlow: number; reps: number };
  /** median ns per access: peer -> kind marker -> ns */
  ns: Partial<Record<Peer, Record<string, number>>>;
}

async function run(): Promise<DeviceAccessResult> {
  const n = Math.round(argNumber('n', 100_000)), nSlow = Math.round(argNumber('n-slow', 2000)), reps = Math.round(argNumber('reps', 3));
  const t0 = performance.now();
  const r: DeviceAccessResult = { ...startRun('device-access'), params: { n, nSlow, reps }, ns: {} };
  const dir = mkdtempSync(join(tmpdir(), 'px-devacc-'));
  const image = join(dir, 'devacc.elf');
  writeFileSync(image, kernel(n, nSlow));
  const peers: Peer[] = ['parallax-emu', 'parallax-emu, via I/O thread'];
  if (qemuAvailable()) peers.push('QEMU TCG'); else r.errors.push('qemu-system-x86_64 not found: QEMU column not measured');
  const samples: Partial<Record<Peer, Record<string, number[]>>> = {};
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const p of peers) {
        try {
          const one = await once(p, image, n, nSlow);
          const s = (samples[p] ??= {});
          for (const [k, v] of Object.entries(one)) (s[k] ??= []).push(v);
        } catch (e) {
          r.errors.push(`${p}: ${(e as Error).message.split('\n')[0]}`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [p, s] of Object.entries(samples)) {
    r.ns[p as Peer] = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)]));
  }
  finishRun(r, t0);
  return r;
}

function rows(r: DeviceAccessResult): (string | number)[][] {
  const peers = Object.keys(r.ns) as Peer[];
  return KINDS.map((k) => {
    const q = r.ns['QEMU TCG']?.[k.marker];
    return [k.title, ...peers.map((p) => (r.ns[p]![k.marker] / 1000).toFixed(2)),
      q && r.ns['parallax-emu'] ? (r.ns['parallax-emu'][k.marker] / q).toFixed(2) : '-'];
  });
}

/** short column names, so the table fits 100 columns (the legend line under it spells them out) */
const SHORT: Record<Peer, string> = { 'parallax-emu': 'emu µs', 'parallax-emu, via I/O thread': 'emu via I/O µs', 'QEMU TCG': 'QEMU µs' };

function headers(r: DeviceAccessResult): string[] {
  return ['access', ...(Object.keys(r.ns) as Peer[]).map((p) => SHORT[p]), 'emu/QEMU'];
}

function print(r: DeviceAccessResult): void {
  console.log(table(headers(r), rows(r)));
  console.log('emu: parallax-emu (the access handled in the core); emu via I/O: the same access sent to the I/O thread; emu/QEMU: emu µs over QEMU µs');
  console.log(`median of ${r.params.reps} boots; ${r.params.n} accesses per fast kind, ${r.params.nSlow} per I/O-thread kind; ${runLine(r)}`);
  for (const e of r.errors) console.log(`error: ${e}`);
}

benchMain({
  script: 'device-access',
  short: () => true,
  run,
  print,
  write: jsonAndMarkdown('device-access', (r) => `# Device access cost\n\n${markdownTable(headers(r), rows(r))}\n\n${runLine(r)}\n`),
});
