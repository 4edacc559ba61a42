// What the lab tests share: which machine kinds this run boots (ORCH_MACHINES, default emu;
// a kind whose image, emulator or QEMU is missing is left out), and an orchestrator on a lab's
// LAN that has found the lab's DIMEs.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { DEFAULT_IMAGE, EMULATOR_CLI, Lab, type LabOptions, type MachineKind } from '../../src/orchestrator/lab.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { openLan } from '../../src/orchestrator/attach.js';
import { ServerNames } from '../../src/orchestrator/targets.js';

/** ORCH_MACHINES=emu,qemu runs a lab test on both kinds; only the kinds this host can boot. */
export function labMachineKinds(): MachineKind[] {
  return (process.env.ORCH_MACHINES ?? 'emu').split(',').map((m) => m.trim())
    .filter((m): m is MachineKind => m === 'emu' || m === 'qemu')
    .filter((m) => existsSync(DEFAULT_IMAGE) && (m === 'qemu' ? spawnSync('qemu-system-x86_64', ['--version']).status === 0 : existsSync(EMULATOR_CLI)));
}

/**
 * labMachineKinds() for a test that CI must run: with CI set and no kind this host can boot,
 * an error saying what could not run, instead of a skipped file.
 */
export function labMachineKindsRequiredUnderCi(what: string): MachineKind[] {
  const kinds = labMachineKinds();
  if (process.env.CI && kinds.length === 0) throw new Error(`CI is set but no machine to run ${what} on (images/dime.elf, the emulator or QEMU missing)`);
  return kinds;
}

/** the text of line `i` of a numbered-line pipeline: 'line 0042' */
export const numbered = (i: number): string => `line ${String(i).padStart(4, '0')}`;

/**
 * An orchestrator (MAC `mac`) on the lab's LAN, after discovery. With `dimes`, discovery is
 * repeated (up to 10 more times) until that many DIMEs answered: a freshly booted server may
 * need a moment before its NIC answers (QEMU: ~1 s). Returns the orchestrator and what it found.
 */
export async function orchestratorOnLab(lab: Lab, key: string, mac: string, dimes?: number) {
  const o = new Orchestrator(await openLan(lab.netSpec), { key, mac, names: new ServerNames(lab.aliases) });
  let found = await o.discover();
  for (let i = 0; dimes !== undefined && i < 10 && found.length < dimes; i++) found = await o.discover();
  return { o, found };
}

/**
 * Start the lab `opts` describes and an orchestrator (MAC `mac`) that found every DIME of it
 * (one per core of each server); on failure both are stopped before the error is thrown.
 */
export async function startLabWithOrchestrator(opts: LabOptions, mac: string): Promise<{ lab: Lab; o: Orchestrator }> {
  const lab = new Lab(opts);
  let o: Orchestrator | undefined;
  try {
    await lab.start();
    const dimes = opts.servers.reduce((n, s) => n + s.cores, 0);
    let found;
    ({ o, found } = await orchestratorOnLab(lab, opts.key, mac, dimes));
    if (found.length !== dimes) throw new Error(`the orchestrator found ${found.length} of the lab's ${dimes} DIMEs`);
    return { lab, o };
  } catch (e) {
    await o?.close();
    await lab.stop();
    throw e;
  }
}
