// `node dist/bench/storage.js`: virtio-blk throughput and latency in one run, beside QEMU's
// virtio-blk on the same image file and the host's own file I/O on it (the floor):
//   4 KiB random reads (2000, one at a time: latency) and 1 MiB sequential reads (32: throughput).
// The guest is test/guest/kernels/virtio-blk.c booted with `bench`: a polled driver of ours
// that prints a line before and after each phase; the host times the phases by the lines'
// arrival (host time: parallax-emu's guest time stands still while a device access is served,
// docs/ARCHITECTURE.md "Time", so the guest's own TSC figures are printed only beside). The
// image is a 64 MiB pattern file under snapshot=on, so no run changes it.
// The DIME kernel's two storage paths are measured the same way, on each machine, by its
// `filer` service (4 KiB random reads and 1 MiB sequential reads of a 3 MiB file, timed on the
// host between the service's "go" and "ok" lines):
//   DIME local     the server's own store (virtio-blk, src/dime/kernel/store.c)
//   DIME central   an export of the orchestrator over the LAN (CSTORE_*, cstore.c and
//                  src/orchestrator/central-store.ts), through the hub, no loss
// Host load is printed.
//
//   --short (writes nothing unless --out DIR)   --reps R (boots per machine, default 1)
//   --dime-reads N (4 KiB reads on the DIME paths, default 200)
import { closeSync, mkdtempSync, openSync, readSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { patternImage } from '../test/lib/disk-pattern.js';
import { QEMU_BINARY, buildGuestKernels, guestImage, parallaxArgs, qemuArgs } from '../test/guest/harness.js';
import { DimeServer, qemuAvailable, Watched, type MachineKind } from './lib/machines.js';
import { BENCH_KEY, withBenchLan } from './lib/dime-paths.js';
import * as W from '../src/protocol/wire.js';
import { CentralStore } from '../src/orchestrator/central-store.js';
import { benchMain, jsonAndMarkdown } from './lib/bench-main.js';
import { finishRun, runLine, startRun, type RunRecord } from './lib/run-record.js';
import { argFlag, argNumber, markdownTable, median, table } from './lib/report.js';

const SECTORS = 64 * 2048; // 64 MiB
const RAND_N = 2000;
const SEQ_N = 32;

const DIME_FILE = 3 << 20;

type Peer = 'parallax-emu' | 'QEMU TCG' | 'host file I/O' | `DIME ${'local' | 'central'}, ${'parallax-emu' | 'QEMU'}`;

interface Figures {
  /** µs per 4 KiB random read (host time) */
  rand4kUs: number;
  /** MB/s of 1 MiB sequential reads (host time) */
  seq1mMBs: number;
  /** the same two figures in the guest's own time (guests only) */
  guestRand4kUs?: number;
  guestSeq1mMBs?: number;
}

export interface StorageResult extends RunRecord<'storage'> {
  params: { reps: number; imageMiB: number; rand4kReads: number; seq1mReads: number; dimeRand4kReads: number; dimeFileMiB: number };
  /** `uptime` at the end of the run */
  uptime?: string;
  results: Partial<Record<Peer, Figures>>;
}

async function guest(peer: Peer, image: string): Promise<Figures> {
  const disk = ['-drive', `file=${image},format=raw,if=virtio,snapshot=on`];
  const kernel = guestImage('virtio-blk');
  const [cmd, args] = peer === 'QEMU TCG'
    ? [QEMU_BINARY, [...qemuArgs(kernel, { append: 'bench' }), ...disk]]
    : [process.execPath, [...parallaxArgs(kernel, { append: 'bench' }), ...disk]];
  const w = new Watched(cmd, args, peer);
  try {
    await w.waitFor(/virtio-blk: \d+ disk/, 600_000);
  } finally {
    await w.stop();
  }
  const at = (re: RegExp) => {
    const l = w.lineTimes.find((x) => re.test(x.line));
    if (!l) throw new Error(`no line ${re} in the transcript`);
    return { atMs: l.atMs, m: re.exec(l.line)! };
  };
  const r0 = at(/BENCH rand4k start/), r1 = at(/BENCH rand4k done reads=(\d+) guest_us=(\d+)/);
  const s0 = at(/BENCH seq1m start/), s1 = at(/BENCH seq1m done reads=(\d+) guest_us=(\d+)/);
  const [rn, sn] = [Number(r1.m[1]), Number(s1.m[1])];
  return {
    rand4kUs: ((r1.atMs - r0.atMs) * 1000) / rn, seq1mMBs: (sn * (1 << 20)) / ((s1.atMs - s0.atMs) * 1000),
    guestRand4kUs: Number(r1.m[2]) / rn, guestSeq1mMBs: (sn * (1 << 20)) / Number(s1.m[2]),
  };
}

/**
 * The DIME kernel's local store and central storage, on one machine kind: a 256 MiB blank disk
 * (formatted at boot: 4 MiB files), a 3 MiB file written there by the filer, and the same
 * bytes exported read-only by the benchmark's orchestrator.
 */
async function dimeStorage(kind: MachineKind, dir: string, reads: number): Promise<{ local: Figures; central: Figures }> {
  const disk = join(dir, `dime-${kind}.img`);
  writeFileSync(disk, Buffer.alloc(0));
  truncateSync(disk, 256 << 20);
  const exported = join(dir, `export-${kind}.bin`);
  writeFileSync(exported, randomBytes(DIME_FILE));
  return withBenchLan(async ({ hubPath, orch }) => {
    const mac = '52:54:00:00:5b:01';
    const server = await new DimeServer({ kind, cores: 2, mac, hubPath, key: BENCH_KEY, drives: [disk], memMiB: 256 }).ready(300_000);
    const store = new CentralStore(orch.link);
    try {
      const d = { server: mac, core: 1 };
      await orch.ensureDime(d);
      await orch.call(d, 'STORE_GRANT', { rights: W.STORE_RIGHT.READ | W.STORE_RIGHT.WRITE, prefix: '' });
      store.addExport({ name: 'bench', path: exported, readonly: true });
      store.grant('bench', d, W.STORE_RIGHT.READ);
      await orch.call(d, 'CSTORE_GRANT', { rights: W.STORE_RIGHT.READ, server: orch.mac, name: 'bench' });
      await orch.call(d, 'SET_ROUTE', { direction: W.ROUTE_DIR.OUTPUT, kind: W.ROUTE.CONSOLE, core: 0, mac: orch.mac });
      await orch.call(d, 'LOAD_BUILTIN', { name: 'filer' });
      await orch.call(d, 'EXECUTE');
      /** one filer command; host ms between its "go" line (if any) and its answer */
      const cmd = async (line: string, answer: RegExp): Promise<{ ms: number; m: RegExpMatchArray }> => {
        const from = server.w.lineTimes.length;
        orch.link.stream(mac, 1, `${line}\n`);
        const m = await server.w.waitFor(new RegExp(`DIME 1> (${answer.source}|err .*)\\r?\\n`), 900_000, server.w.output.length);
        if (m[1].startsWith('err')) throw new Error(`${kind} filer: '${line}' answered '${m[1]}'`);
        const lines = server.w.lineTimes.slice(from);
        const go = lines.find((l) => /DIME 1> go /.test(l.line));
        const done = lines.find((l) => answer.test(l.line));
        return { ms: go && done ? done.atMs - go.atMs : NaN, m };
      };
      await cmd(`gen data ${DIME_FILE} 3`, /ok gen data \d+ sum \w+/);
      const measure = async (name: string): Promise<Figures> => {
        const r = await cmd(`rread ${name} ${reads}`, /ok rread \S+ \d+ ns \d+/);
        const q = await cmd(`sread ${name}`, /ok sread \S+ \d+ ns \d+/);
        const guestR = Number(/ns (\d+)/.exec(r.m[1])![1]), guestS = Number(/ns (\d+)/.exec(q.m[1])![1]);
        return { rand4kUs: (r.ms * 1000) / reads, seq1mMBs: DIME_FILE / (q.ms * 1000), guestRand4kUs: guestR / 1000 / reads, guestSeq1mMBs: (DIME_FILE * 1000) / guestS };
      };
      return { local: await measure('data'), central: await measure('@bench') };
    } finally {
      store.close();
      await server.stop();
    }
  });
}

/** The same reads on the host: pread of the same offsets, one at a time (page cache warm, as the guests'). */
function host(image: string): Figures {
  const fd = openSync(image, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let seed = 12345;
    const blocks = SECTORS / 8;
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < RAND_N; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      readSync(fd, buf, 0, 4096, (seed % blocks) * 4096);
    }
    const randUs = Number(process.hrtime.bigint() - t0) / 1000 / RAND_N;
    t0 = process.hrtime.bigint();
    for (let i = 0; i < SEQ_N; i++) readSync(fd, buf, 0, 1 << 20, ((i * 2048) % (SECTORS - 2048)) * 512);
    const seqUs = Number(process.hrtime.bigint() - t0) / 1000;
    return { rand4kUs: randUs, seq1mMBs: (SEQ_N * (1 << 20)) / seqUs };
  } finally {
    closeSync(fd);
  }
}

function uptimeLine(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;
  }
}

async function run(): Promise<StorageResult> {
  const reps = Math.round(argNumber('reps', 1));
  const dimeReads = Math.round(argNumber('dime-reads', 200));
  const t0 = performance.now();
  const r: StorageResult = {
    ...startRun('storage'),
    params: { reps, imageMiB: SECTORS / 2048, rand4kReads: RAND_N, seq1mReads: SEQ_N, dimeRand4kReads: dimeReads, dimeFileMiB: DIME_FILE >> 20 },
    results: {},
  };
  buildGuestKernels();
  const dir = mkdtempSync(join(tmpdir(), 'px-storage-'));
  const image = join(dir, 'disk.img');
  patternImage(image, 'PRLX-BENCH', SECTORS);
  const peers: Peer[] = ['parallax-emu'];
  if (qemuAvailable()) peers.push('QEMU TCG'); else r.errors.push('qemu-system-x86_64 not found: QEMU column not measured');
  const samples: Partial<Record<Peer, Figures[]>> = { 'host file I/O': [] };
  try {
    for (let rep = 0; rep < reps; rep++) {
      // the floor is cheap: five passes per boot, so one descheduling does not make it
      for (let i = 0; i < 5; i++) samples['host file I/O']!.push(host(image));
      for (const p of peers) {
        try {
          (samples[p] ??= []).push(await guest(p, image));
        } catch (e) {
          r.errors.push(`${p}: ${(e as Error).message.split('\n')[0]}`);
        }
      }
      for (const kind of (qemuAvailable() ? ['parallax-emu', 'qemu'] : ['parallax-emu']) as MachineKind[]) {
        const label = kind === 'qemu' ? 'QEMU' : 'parallax-emu';
        try {
          const f = await dimeStorage(kind, dir, dimeReads);
          (samples[`DIME local, ${label}`] ??= []).push(f.local);
          (samples[`DIME central, ${label}`] ??= []).push(f.central);
        } catch (e) {
          r.errors.push(`DIME storage on ${label}: ${(e as Error).message.split('\n')[0]}`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [p, s] of Object.entries(samples)) {
    if (!s.length) continue;
    const m = (k: keyof Figures) => (s[0][k] === undefined ? undefined : median(s.map((x) => x[k]!)));
    r.results[p as Peer] = { rand4kUs: m('rand4kUs')!, seq1mMBs: m('seq1mMBs')!, guestRand4kUs: m('guestRand4kUs'), guestSeq1mMBs: m('guestSeq1mMBs') };
  }
  finishRun(r, t0);
  r.uptime = uptimeLine();
  return r;
}

const HEADERS = ['peer', '4 KiB rand read µs', 'x host', '1 MiB seq MB/s', 'x host', 'guest µs / MB/s'];

function rows(r: StorageResult): (string | number)[][] {
  const h = r.results['host file I/O'];
  return (Object.entries(r.results) as [Peer, Figures][]).map(([p, f]) => [
    p, f.rand4kUs.toFixed(1), h ? `${(f.rand4kUs / h.rand4kUs).toFixed(1)}x` : '-',
    f.seq1mMBs.toFixed(f.seq1mMBs < 10 ? 2 : 0), h ? `${(f.seq1mMBs / h.seq1mMBs).toPrecision(2)}x` : '-',
    f.guestRand4kUs === undefined ? '-' : `${f.guestRand4kUs.toFixed(1)} / ${f.guestSeq1mMBs!.toFixed(f.guestSeq1mMBs! < 10 ? 2 : 0)}`,
  ]);
}

function ratioLine(r: StorageResult): string {
  const p = r.results['parallax-emu'];
  const q = r.results['QEMU TCG'];
  const pair = (what: string, a: Figures | undefined, b: Figures | undefined) => (!a || !b ? `${what}: not measured`
    : `${what}: 4 KiB random read latency ${(a.rand4kUs / b.rand4kUs).toFixed(2)}x, 1 MiB sequential throughput ${(a.seq1mMBs / b.seq1mMBs).toFixed(2)}x`);
  return [pair('parallax-emu / QEMU, virtio-blk', p, q),
    pair('parallax-emu / QEMU, DIME local', r.results['DIME local, parallax-emu'], r.results['DIME local, QEMU']),
    pair('parallax-emu / QEMU, DIME central', r.results['DIME central, parallax-emu'], r.results['DIME central, QEMU']),
    pair('central / local, parallax-emu', r.results['DIME central, parallax-emu'], r.results['DIME local, parallax-emu'])].join('\n');
}

function print(r: StorageResult): void {
  console.log(table(HEADERS, rows(r)));
  console.log(ratioLine(r));
  console.log(`median of ${r.params.reps} boot(s); ${r.params.imageMiB} MiB image (snapshot=on); DIME rows: ${r.params.dimeRand4kReads} reads, ` +
    `${r.params.dimeFileMiB} MiB file; guest figures in guest time; uptime: ${r.uptime}; ${runLine(r)}`);
  for (const e of r.errors) console.log(`error: ${e}`);
}

benchMain({
  script: 'storage',
  short: () => argFlag('short'),
  run,
  print,
  write: jsonAndMarkdown('storage', (r) => `# Storage (virtio-blk, DIME local store, DIME central storage)\n\n${markdownTable(HEADERS, rows(r))}\n\n${ratioLine(r)}\n\nuptime: ${r.uptime}; ${runLine(r)}\n`),
});
