// The machine as the monitor and QMP see it: run state (QEMU's names), stop/cont, quit,
// reset and power-down requests, and QMP events (STOP, RESUME, SHUTDOWN, RESET, POWERDOWN)
// with QEMU's field shapes. Pausing goes through CoreControl, shared with the gdb stub.

import { EventEmitter } from 'node:events';
import type { RunningServer } from '../machine/server.js';
import type { MachineExit } from '../machine/machine.js';
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { restoreSnapshotFile, saveSnapshot, snapshotPath, type RestoreResult, type SaveResult } from '../machine/snapshot.js';

/** QEMU's RunState names for what this machine can be in */
export type VmStatus = 'prelaunch' | 'running' | 'paused' | 'shutdown';

export interface VmEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

function now(): VmEvent['timestamp'] {
  const ms = Date.now();
  return { seconds: Math.floor(ms / 1000), microseconds: (ms % 1000) * 1000 };
}

/** Events: 'event' (VmEvent). */
export class VmControl extends EventEmitter {
  private prelaunch: boolean;
  private ended = false;
  private shutdownReason: string | null = null;

  constructor(readonly server: RunningServer, startPaused: boolean, /** the package's, for greetings */ readonly version: string,
    /** where savevm/loadvm keep named snapshots */ readonly snapshotDir = '.') {
    super();
    this.prelaunch = startPaused;
    const cc = server.machine.control;
    cc.on('stopped', () => { if (!this.ended) this.emitEvent('STOP'); });
    cc.on('resumed', () => { this.prelaunch = false; if (!this.ended) this.emitEvent('RESUME'); });
    void server.exited.then((e) => this.onExit(e));
  }

  get status(): VmStatus {
    if (this.ended) return 'shutdown';
    if (this.prelaunch) return 'prelaunch'; // -S: until the first cont (cores may still be on their way to park)
    if (this.server.machine.control.stopped) return 'paused';
    return 'running';
  }

  get running(): boolean {
    return this.status === 'running';
  }

  async stop(): Promise<void> {
    if (this.ended) return;
    await this.server.machine.control.pauseAll();
  }

  /** Resume every core (after -S, first waits until every core has reached its park). */
  async cont(): Promise<void> {
    if (this.ended) return;
    const cc = this.server.machine.control;
    if (!cc.stopped) await cc.pauseAll();
    cc.resume(() => null);
  }

  /** quit: the machine ends now (exit status 0). */
  quit(): void {
    this.shutdownReason ??= 'host-qmp-quit';
    this.server.stop(0);
  }

  /**
   * system_reset: parallax-emu always behaves as QEMU's -no-reboot, so a reset ends the machine
   * (as a guest-requested reset does), after a RESET event.
   */
  reset(): void {
    this.emitEvent('RESET', { guest: false, reason: 'host-qmp-system-reset' });
    this.shutdownReason ??= 'host-qmp-system-reset';
    this.server.stop(0);
  }

  /**
   * system_powerdown: there is no ACPI power-management device (the FADT describes PIIX4's
   * ports but nothing decodes them), so the power button cannot be pressed for the guest: the
   * machine is powered off at once after the POWERDOWN event.
   */
  powerdown(): void {
    this.emitEvent('POWERDOWN');
    this.shutdownReason ??= 'host-qmp-quit';
    this.server.stop(0);
  }

  /** savevm NAME: the whole machine to NAME.pxsnap in the snapshot folder (running cores go on after). */
  async savevm(name: string): Promise<SaveResult> {
    if (this.ended) throw new Error('the machine has ended');
    return saveSnapshot(this.server, snapshotPath(name, this.snapshotDir), { tag: name, emulator: this.version });
  }

  /** loadvm NAME: this machine takes the state saved as NAME (it runs on if it was running). */
  async loadvm(name: string): Promise<RestoreResult> {
    if (this.ended) throw new Error('the machine has ended');
    const wasRunning = this.status === 'running';
    const r = await restoreSnapshotFile(this.server, snapshotPath(name, this.snapshotDir), { resume: wasRunning, freshRam: false });
    return r;
  }

  /** delvm NAME */
  delvm(name: string): void {
    try {
      unlinkSync(snapshotPath(name, this.snapshotDir));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`no snapshot named '${name}'`);
      throw e;
    }
  }

  /** Named snapshots in the snapshot folder: name, size, modification time. */
  snapshots(): { name: string; bytes: number; date: Date }[] {
    let files: string[];
    try { files = readdirSync(this.snapshotDir); } catch { return []; }
    return files.filter((f) => f.endsWith('.pxsnap')).sort().map((f) => {
      const st = statSync(join(this.snapshotDir, f));
      return { name: f.slice(0, -'.pxsnap'.length), bytes: st.size, date: st.mtime };
    });
  }

  private onExit(e: MachineExit): void {
    if (this.ended) return;
    this.ended = true;
    const guest = e.kind === 'debug-exit' || e.kind === 'reset' || e.kind === 'poweroff' || e.kind === 'triple-fault';
    const reason = this.shutdownReason ??
      (e.kind === 'reset' || e.kind === 'triple-fault' ? 'guest-reset' : e.kind === 'stopped' ? 'host-signal' : e.kind === 'internal-error' ? 'host-error' : 'guest-shutdown');
    this.emitEvent('SHUTDOWN', { guest: this.shutdownReason ? false : guest, reason });
  }

  private emitEvent(event: string, data?: Record<string, unknown>): void {
    const ev: VmEvent = data ? { event, data, timestamp: now() } : { event, timestamp: now() };
    this.emit('event', ev);
  }
}
