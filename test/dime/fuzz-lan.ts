// `npm run fuzz:lan [-- --frames N --machine emu|qemu --cores C --seed S]`: the hostile flood of
// test/dime/hostile.test.ts at scale (default a million frames) against one DIME server. Prints
// the counters and exits 1 unless every frame sent was counted exactly once and every DIME
// still answers.
import { mkdtempSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import path from 'node:path';
import { EmuRunner, QemuRunner } from './runner.js';
import { IMAGE, serverKeyFileFor } from './bench.js';
import { StreamLan } from './lan.js';
import { DimeClient } from './client.js';
import { flood } from './hostile-flood.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

async function main(): Promise<number> {
  const frames = Number(arg('frames', '1000000'));
  const cores = Number(arg('cores', '2'));
  const machine = arg('machine', 'emu');
  const seed = Number(arg('seed', '1'));
  if (!Number.isInteger(frames) || frames < 1 || !Number.isInteger(cores) || cores < 1 || !['emu', 'qemu'].includes(machine)) {
    process.stderr.write('usage: fuzz-lan [--frames N] [--cores C] [--machine emu|qemu] [--seed S]\n');
    return 2;
  }
  const key = `fuzz-lan-${Date.now()}`;
  const server = '52:54:00:12:34:99';
  const lan = new StreamLan(path.join(mkdtempSync(path.join(tmpdir(), 'fuzz-lan-')), 'lan.sock'));
  await lan.listen();
  const runner = machine === 'qemu' ? new QemuRunner() : new EmuRunner();
  await runner.start(IMAGE, { cores, netSocket: lan.path, mac: server, append: 'hb=0 perf=0', keyFile: serverKeyFileFor(key, server) });
  try {
    await runner.waitForOutput(new RegExp(`DIME ready: ${cores} cores`), 120_000);
    const client = new DimeClient(lan, key);
    const load = loadavg()[0];
    const r = await flood(client, server, cores, frames, { seed, settleMs: 600_000 });
    const pings = await client.request(server, null, 'PING', { nonce: 1n }, { expect: cores, timeoutMs: 30_000 }).catch(() => []);
    const delta = Object.fromEntries(Object.keys(r.after.fields).map((k) => [k, r.after.fields[k] - r.before.fields[k]]));
    process.stdout.write(`${runner.name}: ${frames} hostile frames (+${r.sent - frames} requests of ours) in ${(r.ms / 1000).toFixed(1)} s, ` +
      `host load ${load.toFixed(2)}\n  counted ${r.counted} of ${r.sent}: ${JSON.stringify(delta)}\n  by category: ${JSON.stringify(r.byCategory)}\n` +
      `  DIMEs answering afterwards: ${pings.length}/${cores}\n`);
    const ok = r.counted === r.sent && pings.length === cores;
    process.stdout.write(ok ? 'OK: every frame counted exactly once\n' : 'FAILED\n');
    return ok ? 0 : 1;
  } finally {
    await runner.stop();
    await lan.close();
  }
}

main().then((c) => process.exit(c), (e) => { process.stderr.write(`fuzz-lan: ${(e as Error).stack ?? e}\n`); process.exit(1); });
