// `node dist/bench/storage.js`: virtio-blk throughput and latency in one run, beside QEMU's
// virtio-blk on the same image file and the host's own file I/O on it (the floor):
//   4 KiB random reads (2000, one at a time: latency) and 1 MiB sequential reads (32: throughput).
// The guest is test/guest/kernels/virtio-blk.c booted with `bench`: a polled driver of ours
// that prints a line before and after each phase; the host times the phases by the lines'
// arrival (host time: parallax-emu's guest time stands still while a device access is served,
// docs/ARCHITECTURE.md "Time", so the guest's own TSC figures are printed only beside). The
// image is a 64 MiB pattern file under snapshot=on, so no run changes it. Host load is printed.
//
//   --reps R (boots per machine, default 1)
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { patternImage } from '../test/lib/disk-pattern.js';
import { QEMU_BINARY, buildGuestKernels, guestImage, parallaxArgs, qemuArgs } from '../test/guest/harness.js';
import { qemuAvailable, Watched } from './lib/machines.js';
import { benchMain, jsonAndMarkdown } from './lib/bench-main.js';
import { finishRun, runLine, startRun, type RunRecord } from './lib/run-record.js';
import { argNumber, markdownTable, median, table } from './lib/report.js';

const SECTORS = 64 * 2048; // 64 MiB
const RAND_N = 2000;
const SEQ_N = 32;

type Peer = 'parallax-emu' | 'QEMU TCG' | 'host file I/O';

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
  params: { reps: number; imageMiB: number; rand4kReads: number; seq1mReads: number };
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

async function run(): Promise<StorageResult> {
  const reps = Math.round(argNumber('reps', 1));
  const t0 = performance.now();
  const r: StorageResult = { ...startRun('storage'), params: { reps, imageMiB: SECTORS / 2048, rand4kReads: RAND_N, seq1mReads: SEQ_N }, results: {} };
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
  return r;
}

const HEADERS = ['peer', '4 KiB random read µs', 'vs host', '1 MiB sequential MB/s', 'vs host', 'guest-time µs / MB/s'];

function rows(r: StorageResult): (string | number)[][] {
  const h = r.results['host file I/O'];
  return (Object.entries(r.results) as [Peer, Figures][]).map(([p, f]) => [
    p, f.rand4kUs.toFixed(1), h ? `${(f.rand4kUs / h.rand4kUs).toFixed(1)}x` : '-',
    f.seq1mMBs.toFixed(0), h ? `${(f.seq1mMBs / h.seq1mMBs).toFixed(2)}x` : '-',
    f.guestRand4kUs === undefined ? '-' : `${f.guestRand4kUs.toFixed(1)} / ${f.guestSeq1mMBs!.toFixed(0)}`,
  ]);
}

function ratioLine(r: StorageResult): string {
  const p = r.results['parallax-emu'];
  const q = r.results['QEMU TCG'];
  if (!p || !q) return 'parallax-emu / QEMU: not measured';
  return `parallax-emu / QEMU: 4 KiB random read latency ${(p.rand4kUs / q.rand4kUs).toFixed(2)}x, ` +
    `1 MiB sequential throughput ${(p.seq1mMBs / q.seq1mMBs).toFixed(2)}x`;
}

function print(r: StorageResult): void {
  console.log(table(HEADERS, rows(r)));
  console.log(ratioLine(r));
  console.log(`median of ${r.params.reps} boot(s); ${r.params.imageMiB} MiB image (snapshot=on); guest figures in guest time; ${runLine(r)}`);
  for (const e of r.errors) console.log(`error: ${e}`);
}

benchMain({
  script: 'storage',
  short: () => true,
  run,
  print,
  write: jsonAndMarkdown('storage', (r) => `# Storage (virtio-blk)\n\n${markdownTable(HEADERS, rows(r))}\n\n${ratioLine(r)}\n\n${runLine(r)}\n`),
});
