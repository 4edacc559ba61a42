// Save and restore a whole running machine (QEMU's savevm/loadvm, -incoming): every core is
// parked at an instruction boundary (CoreControl), the writes they posted are applied, then
// each core's CPU and local APIC state comes from its worker, the device models' state from
// the I/O thread, the shared per-core words (pending interrupts) and the frame table from the
// control block, guest time from the clock and guest RAM from the shared buffer. The file
// format is src/machine/snapshot-file.ts.
//
// A restore goes the other way into a machine built with the same options and parked (a fresh
// process started with -incoming/-loadvm, or this one for loadvm): guest time restarts at the
// saved instant (so saved timer deadlines stay valid), devices and cores take their state,
// and the VM generation counter changes (vm-generation.ts) so the guest can renew what must
// never repeat: the DIME kernel takes a new epoch (docs/PROTOCOL.md, "Snapshots").

import { join } from 'node:path';
import {
  C_EXTINT_VECTOR, C_IRR, C_PENDING, C_SIPI_VECTOR, C_TMR, P_PAUSE, P_STOP, coreBase, frameTableBase,
} from '../abi/control-block.js';
import { clockFor, restartGuestTime } from '../abi/clock.js';
import type { CoreSavedState } from './core-worker.js';
import type { RunningServer } from './server.js';
import { readSnapshotFile, writeSnapshotFile, type SnapshotContents } from './snapshot-file.js';
import { bumpVmGeneration } from './vm-generation.js';
import { startMark } from './start-trace.js';

export const SNAPSHOT_KIND = 'parallax-emu machine';

/** The JSON part of a snapshot file. */
export interface MachineSnapshot {
  kind: typeof SNAPSHOT_KIND;
  /** when it was taken (ISO 8601) and by which parallax-emu */
  savedAt: string;
  emulator: string;
  /** optional name (savevm NAME) */
  tag: string;
  machine: { cores: number; memoryBytes: number; time: 'real' | 'icount'; nics: number };
  /** guest time at the instant of the snapshot (ns) */
  guestTimeNs: number;
  cores: { state: CoreSavedState; irr: number[]; tmr: number[]; pending: number; sipiVector: number; extintVector: number }[];
  /** the control block's frame table (owner, flags per 2 MiB frame) */
  frameTable: number[];
  devices: Record<string, unknown>;
}

export class SnapshotError extends Error {}

/** A snapshot name (savevm NAME, -loadvm NAME) -> its file: NAME.pxsnap in `dir`; names are plain words. */
export function snapshotPath(name: string, dir: string): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name) || name.startsWith('.')) {
    throw new SnapshotError(`snapshot name '${name}': use letters, digits, '.', '_' and '-' (it names a file in the snapshot folder)`);
  }
  return join(dir, `${name}.pxsnap`);
}

export interface SaveResult { path: string; bytes: number; frames: number; ms: number }

/** Park every core (if running), write the machine to `path`, let the cores go on again. */
export async function saveSnapshot(server: RunningServer, path: string, o: { tag?: string; emulator?: string } = {}): Promise<SaveResult> {
  const t0 = performance.now();
  const m = server.machine;
  const cc = m.control;
  const wasRunning = !cc.stopped;
  if (!(await cc.pauseAll(60_000))) throw new SnapshotError('not every core stopped within 60 s');
  try {
    for (let i = 0; i < m.cores; i++) if (!cc.live(i)) throw new SnapshotError(`core ${i} has ended: a machine that is stopping cannot be saved`);
    m.flushPostedWrites();
    const ctl = m.ctl;
    const states = await Promise.all(Array.from({ length: m.cores }, (_, i) => cc.saveCore(i)));
    const ft = frameTableBase(m.cores);
    const snap: MachineSnapshot = {
      kind: SNAPSHOT_KIND,
      savedAt: new Date().toISOString(),
      emulator: o.emulator ?? '',
      tag: o.tag ?? '',
      machine: { cores: m.cores, memoryBytes: m.opts.memoryBytes, time: m.icount ? 'icount' : 'real', nics: server.platform.nics.length },
      guestTimeNs: clockFor(ctl).nowNs(),
      cores: states.map((state, i) => {
        const b = coreBase(i);
        return {
          state,
          irr: Array.from(ctl.subarray(b + C_IRR, b + C_IRR + 8)),
          tmr: Array.from(ctl.subarray(b + C_TMR, b + C_TMR + 8)),
          pending: Atomics.load(ctl, b + C_PENDING) & ~(P_PAUSE | P_STOP),
          sipiVector: ctl[b + C_SIPI_VECTOR],
          extintVector: ctl[b + C_EXTINT_VECTOR],
        };
      }),
      frameTable: Array.from(ctl.subarray(ft)),
      devices: server.platform.saveDevices(),
    };
    const r = writeSnapshotFile(path, snap, m.ramView());
    return { path, bytes: r.bytes, frames: r.frames, ms: performance.now() - t0 };
  } finally {
    if (wasRunning) cc.resume(() => null);
  }
}

/** Check that a snapshot was taken of a machine like `server`'s; the reason when not. */
function mismatch(snap: MachineSnapshot, server: RunningServer): string | null {
  const m = server.machine;
  const want = snap.machine;
  if (want.cores !== m.cores) return `the snapshot is of ${want.cores} cores, this machine has ${m.cores} (give -smp ${want.cores})`;
  if (want.memoryBytes !== m.opts.memoryBytes) return `the snapshot is of ${want.memoryBytes / 2 ** 20} MiB of RAM, this machine has ${m.opts.memoryBytes / 2 ** 20} MiB (give -m ${want.memoryBytes / 2 ** 20}M)`;
  if ((want.time === 'icount') !== m.icount) return `the snapshot was taken ${want.time === 'icount' ? 'with' : 'without'} --icount; restore it the same way`;
  if (want.nics !== server.platform.nics.length) return `the snapshot has ${want.nics} NICs, this machine ${server.platform.nics.length} (give the same --net options)`;
  if (snap.cores.length !== m.cores || snap.frameTable.length !== m.ctl.length - frameTableBase(m.cores)) return 'the snapshot\'s core or frame lists do not match its machine';
  return null;
}

export interface RestoreResult {
  /** the whole restore, and of it the wait for every core to park (worker start-up in a fresh process) */
  ms: number;
  parkedMs: number;
  frames: number;
  tag: string;
  savedAt: string;
}

/**
 * Put the machine of `server` in the state of a snapshot. Every core is parked first (a
 * machine started for -incoming already is) and stays parked unless `resume`. `freshRam`: RAM
 * was never written (a machine built for -incoming), so frames the snapshot leaves out are zero.
 */
export async function restoreSnapshot(server: RunningServer, contents: SnapshotContents, o: { resume: boolean; freshRam?: boolean }): Promise<RestoreResult> {
  const t0 = performance.now();
  const snap = contents.description as MachineSnapshot;
  if (!snap || typeof snap !== 'object' || snap.kind !== SNAPSHOT_KIND || !Array.isArray(snap.cores) || !snap.machine) {
    throw new SnapshotError('not a parallax-emu machine snapshot');
  }
  const why = mismatch(snap, server);
  if (why) throw new SnapshotError(why);
  const m = server.machine;
  const cc = m.control;
  const ctl = m.ctl;
  const ram = m.ramView();
  // A machine built for -incoming has never run: its cores park before their first
  // instruction and its devices are in their reset state (no DMA), so nothing writes RAM
  // until the restore ends. Its RAM goes in while the core workers are still starting (on the
  // other host CPUs), rather than after.
  let frames = -1;
  if (o.freshRam) {
    frames = contents.loadRam(ram, false);
    startMark(`restore: ${frames} RAM frames in (before the cores park)`);
  }
  // a machine started for -incoming waits here for every worker to be built and parked
  // (seconds for 64 cores on a busy host), so the limit is generous
  if (!(await cc.pauseAll(120_000))) throw new SnapshotError('not every core stopped within 120 s');
  const parkedMs = performance.now() - t0;
  startMark('restore: every core parked');
  for (let i = 0; i < m.cores; i++) if (!cc.live(i)) throw new SnapshotError(`core ${i} has ended: cannot restore into a stopping machine`);
  m.flushPostedWrites();
  if (frames < 0) {
    frames = contents.loadRam(ram, true);
    startMark(`restore: ${frames} RAM frames in`);
  }
  ctl.set(snap.frameTable, frameTableBase(m.cores));
  // time first: device and core timers are re-armed against the restored clock
  restartGuestTime(ctl, snap.guestTimeNs);
  clockFor(ctl).resync();
  snap.cores.forEach((c, i) => {
    const b = coreBase(i);
    for (let w = 0; w < 8; w++) {
      Atomics.store(ctl, b + C_IRR + w, c.irr[w] | 0);
      Atomics.store(ctl, b + C_TMR + w, c.tmr[w] | 0);
    }
    Atomics.store(ctl, b + C_SIPI_VECTOR, c.sipiVector | 0);
    Atomics.store(ctl, b + C_EXTINT_VECTOR, c.extintVector | 0);
    Atomics.store(ctl, b + C_PENDING, (c.pending & ~(P_PAUSE | P_STOP)) | P_PAUSE);
  });
  try {
    server.platform.restoreDevices(snap.devices);
  } catch (e) {
    throw new SnapshotError(`device state: ${(e as Error).message}`);
  }
  startMark('restore: devices in');
  await Promise.all(snap.cores.map((c, i) => cc.restoreCore(i, c.state)));
  startMark('restore: cores in');
  bumpVmGeneration(ram);
  if (o.resume) cc.resume(() => null);
  return { ms: performance.now() - t0, parkedMs, frames, tag: snap.tag, savedAt: snap.savedAt };
}

/** Read a snapshot file and restore it (loadvm, -incoming file:, -loadvm). */
export async function restoreSnapshotFile(server: RunningServer, path: string, o: { resume: boolean; freshRam?: boolean }): Promise<RestoreResult> {
  return restoreSnapshot(server, readSnapshotFile(path), o);
}
