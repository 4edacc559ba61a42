// A test bench: one DIME server (a machine runner) on its own LAN with a test client and a
// transcript recorder. Scenarios run on every bench in turn (QEMU first), then their
// transcripts are compared: the emulator must behave as QEMU does, not merely pass.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { PxCodec } from '../../src/protocol/codec.js';
import { serverKeyFile } from '../../src/protocol/keys.js';
import { StreamLan } from './lan.js';
import { DimeClient } from './client.js';
import { TranscriptRecorder, type Transcript } from './transcript.js';
import type { MachineOptions, MachineRunner } from './runner.js';

export const IMAGE = path.resolve('images/dime.elf');

/** A server key file (mode 0600) for `mac`, derived from the test's master secret `key`. */
export function serverKeyFileFor(key: string, mac: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'dime-key-')), 'server.key');
  writeFileSync(file, serverKeyFile(key, mac), { mode: 0o600 });
  return file;
}

export interface Bench {
  name: string;
  runner: MachineRunner;
  lan: StreamLan;
  client: DimeClient;
  rec: TranscriptRecorder;
  cores: number;
}

/** Boots one machine on a fresh LAN and waits for "DIME ready"; on failure nothing is left running. */
export async function startBench(mk: () => MachineRunner, opts: MachineOptions & { key: string }): Promise<Bench> {
  const lan = new StreamLan(path.join(mkdtempSync(path.join(tmpdir(), 'dime-lan-')), 'lan.sock'));
  await lan.listen();
  const runner = mk();
  const codec = new PxCodec({ key: opts.key });
  const rec = new TranscriptRecorder(codec, lan, [['server', runner]]);
  try {
    await runner.start(IMAGE, { keyFile: serverKeyFileFor(opts.key, opts.mac ?? '52:54:00:12:34:56'), ...opts, netSocket: lan.path });
    await lan.connected(1, 60_000);
    await runner.waitForOutput(new RegExp(`DIME ready: ${opts.cores} cores`), 120_000);
  } catch (e) {
    await runner.stop();
    await lan.close();
    const tail = runner.output.slice(runner.output.lastIndexOf('DIME ready'));
    throw new Error(`${runner.name} did not boot: ${(e as Error).message}\nafter stop:\n${tail}`);
  }
  return { name: runner.name, runner, lan, client: new DimeClient(lan, opts.key), rec, cores: opts.cores };
}

/** Boots one bench per runner side by side; if one fails, the others are stopped too. */
export async function startBenches(makers: Array<() => MachineRunner>, opts: MachineOptions & { key: string }): Promise<Bench[]> {
  const settled = await Promise.allSettled(makers.map((mk) => startBench(mk, opts)));
  const benches = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message ?? r.reason)] : []));
  if (failed.length) {
    await Promise.all(benches.map(stopBench));
    throw new Error(failed.join('\n'));
  }
  return benches;
}

export async function stopBench(b: Bench | undefined): Promise<void> {
  await b?.runner.stop();
  await b?.lan.close();
}

/** DIME_TRANSCRIPTS=dir keeps every transcript as JSON (for diffing by hand). */
function keep(scenario: string, machine: string, t: Transcript): void {
  const dir = process.env.DIME_TRANSCRIPTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const file = `${scenario}.${machine}`.replace(/[^A-Za-z0-9.+-]+/g, '_') + '.json';
  writeFileSync(path.join(dir, file), JSON.stringify(t, null, 1));
}

/** Asserts that every transcript equals the first one (QEMU's when QEMU runs). */
export function expectSameTranscripts(scenario: string, names: string[], ts: Transcript[]): void {
  ts.forEach((t, i) => keep(scenario, names[i], t));
  for (let i = 1; i < ts.length; i++) {
    expect(ts[i], `transcript of ${names[i]} differs from ${names[0]}'s in "${scenario}"`).toEqual(ts[0]);
  }
}

/**
 * Runs `body` on every bench, one machine at a time (so timing-sensitive checks never share
 * the host's two cores with the other machine), then compares the transcripts.
 */
export async function onEveryMachine(scenario: string, benches: Bench[], body: (b: Bench) => Promise<void>): Promise<Transcript[]> {
  const ts: Transcript[] = [];
  const failures: string[] = [];
  for (const b of benches) {
    await b.rec.settle(100, 1000);
    b.rec.take(); // what happened between scenarios is not this scenario's
    try {
      await body(b);
    } catch (e) {
      failures.push(`on ${b.name}: ${(e as Error).stack ?? e}`);
    }
    await b.rec.settle();
    ts.push(b.rec.take());
  }
  if (failures.length) {
    ts.forEach((t, i) => keep(scenario, benches[i].name, t));
    throw new Error(failures.join('\n\n'));
  }
  expectSameTranscripts(scenario, benches.map((b) => b.name), ts);
  return ts;
}
