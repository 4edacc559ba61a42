// Delivering an interrupt message to cores, from any thread (a core's LAPIC sending an IPI,
// or the IOAPIC/8259 on the I/O thread). The target's request lands in its shared C_IRR
// bitmap (or pending bits for NMI/INIT/SIPI/ExtINT) and the target is woken if it sleeps.

import {
  C_APIC_DFR, C_APIC_ENABLED, C_APIC_ID, C_APIC_LDR, C_EXTINT_VECTOR, C_IRR, C_PENDING, C_SIPI_VECTOR,
  C_HOST_WAKE, C_RUNSTATE, C_TMR, C_WAKE, C_WAKE_STAMP, C_WORKER_SLEEPING, C_WORKER_WAKE, G_NCORES, P_EXTINT, P_INIT, P_IRR, P_NMI, P_SIPI, P_SMI, RS_RUNNING, coreBase,
} from './control-block.js';
import { clockFor } from './clock.js';
import { hostStampNs } from './host-stamp.js';

// Delivery modes, as encoded in the ICR and IOAPIC redirection entries.
export const DM_FIXED = 0;
export const DM_LOWEST = 1;
export const DM_SMI = 2;
export const DM_NMI = 4;
export const DM_INIT = 5;
export const DM_SIPI = 6;
export const DM_EXTINT = 7;

export function wakeCore(ctl: Int32Array, core: number): void {
  const b = coreBase(core);
  clockFor(ctl).owe(core); // guest time waits for the target to take it (clock.ts)
  Atomics.store(ctl, b + C_WAKE_STAMP, hostStampNs()); // for the woken core's latency statistic
  Atomics.add(ctl, b + C_WAKE, 1);
  // A running core sees the request at its next block boundary: no futex call (a system call,
  // and V8's process-wide waiter lock) for it. Safe against a core going to sleep right now:
  // it publishes "halted" before waiting on C_WAKE with the value it read before its pending
  // check, so either this load sees "halted" and notifies, or its wait sees C_WAKE moved.
  if (Atomics.load(ctl, b + C_RUNSTATE) !== RS_RUNNING) Atomics.notify(ctl, b + C_WAKE);
  wakeHost(ctl, core);
  siblingWoken?.(core);
}

/** set by a worker hosting several cores (core-worker.ts): a wake-up sent from this thread */
let siblingWoken: ((core: number) => void) | null = null;

/** A grouped worker's hook: lets the running core give way to a sibling it just woke. */
export function onWakeFromThisThread(f: ((core: number) => void) | null): void {
  siblingWoken = f;
}

/**
 * Wake the worker that hosts `core` with other cores (--cores-per-worker), after the request
 * for the core (pending bits, C_WAKE, C_RESUME_SEQ, a command) is in place. Such a worker
 * sleeps on one word for all its cores only when none can run: it raises C_WORKER_SLEEPING,
 * reads the word, checks every core, then waits; so either its check sees the request or its
 * wait sees the word moved. A core alone in its worker has no host word (nothing to do).
 */
export function wakeHost(ctl: Int32Array, core: number): void {
  const w = ctl[coreBase(core) + C_HOST_WAKE];
  if (w === 0) return;
  Atomics.add(ctl, w, 1);
  if (Atomics.load(ctl, w + (C_WORKER_SLEEPING - C_WORKER_WAKE)) !== 0) Atomics.notify(ctl, w);
}

/** Post one message to one core (by index). `level` marks a level-triggered fixed interrupt. */
export function postToCore(ctl: Int32Array, core: number, mode: number, vector: number, level = false): void {
  const b = coreBase(core);
  switch (mode) {
    case DM_FIXED:
    case DM_LOWEST: {
      const w = vector >>> 5;
      const bit = 1 << (vector & 31);
      if (level) Atomics.or(ctl, b + C_TMR + w, bit);
      else Atomics.and(ctl, b + C_TMR + w, ~bit);
      Atomics.or(ctl, b + C_IRR + w, bit);
      Atomics.or(ctl, b + C_PENDING, P_IRR);
      break;
    }
    case DM_NMI: Atomics.or(ctl, b + C_PENDING, P_NMI); break;
    case DM_SMI: Atomics.or(ctl, b + C_PENDING, P_SMI); break;
    case DM_INIT: Atomics.or(ctl, b + C_PENDING, P_INIT); break;
    case DM_SIPI:
      Atomics.store(ctl, b + C_SIPI_VECTOR, vector & 0xff);
      Atomics.or(ctl, b + C_PENDING, P_SIPI);
      break;
    case DM_EXTINT:
      Atomics.store(ctl, b + C_EXTINT_VECTOR, vector & 0xff);
      Atomics.or(ctl, b + C_PENDING, P_EXTINT);
      break;
    default:
      return; // reserved modes are ignored, as on hardware
  }
  wakeCore(ctl, core);
}

/**
 * Resolve an xAPIC destination to core indices. Physical mode: `dest` is an APIC ID (0xFF =
 * all). Logical mode: flat model matches LDR bits; cluster model matches cluster + member bits.
 */
export function resolveDestination(ctl: Int32Array, dest: number, logical: boolean): number[] {
  const n = ctl[G_NCORES];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const b = coreBase(i);
    if (!logical) {
      if (dest === 0xff || (Atomics.load(ctl, b + C_APIC_ID) & 0xff) === dest) out.push(i);
      continue;
    }
    const ldr = (Atomics.load(ctl, b + C_APIC_LDR) >>> 24) & 0xff;
    const flat = ((Atomics.load(ctl, b + C_APIC_DFR) >>> 28) & 0xf) === 0xf;
    if (flat) {
      if ((ldr & dest) !== 0) out.push(i);
    } else if ((ldr >>> 4) === (dest >>> 4) || (dest >>> 4) === 0xf) {
      if ((ldr & dest & 0xf) !== 0) out.push(i);
    }
  }
  return out;
}

/** Deliver to a resolved destination; lowest-priority goes to the first enabled target. */
export function deliver(ctl: Int32Array, dest: number, logical: boolean, mode: number, vector: number, level = false): void {
  if (!logical && dest !== 0xff && mode !== DM_LOWEST) {
    // one physical APIC ID (an IPI to one core, most IOAPIC routes): the cores it names, in
    // index order as resolveDestination lists them, without building the list on every send
    const n = ctl[G_NCORES];
    for (let i = 0; i < n; i++) {
      if ((Atomics.load(ctl, coreBase(i) + C_APIC_ID) & 0xff) === dest) postToCore(ctl, i, mode, vector, level);
    }
    return;
  }
  const targets = resolveDestination(ctl, dest, logical);
  if (mode === DM_LOWEST) {
    const t = targets.find((c) => Atomics.load(ctl, coreBase(c) + C_APIC_ENABLED) !== 0) ?? targets[0];
    if (t !== undefined) postToCore(ctl, t, mode, vector, level);
    return;
  }
  for (const t of targets) postToCore(ctl, t, mode, vector, level);
}
