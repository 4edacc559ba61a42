// What `parallax-emu` runs (parallax-emu.ts loads it, bundled when it can): boot an emulated
// multi-core Parallax server (default: the DIME kernel image), or `parallax-emu hub ...`: run a
// virtual LAN switch.
// Exit status: the guest's isa-debug-exit status ((v<<1)|1), 0 when the guest stops otherwise
// (ACPI S5 power-off included), 2 for bad input, 4 triple fault (or a call into the missing BIOS),
// 6 every core halted with interrupts off, 8 internal error, 10 an ACPI sleep state other than S5.

import { openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { BootError } from '../boot/boot-error.js';
import { MachineError } from '../machine/machine.js';
import { describeExit, ServerError, startServer, type RunningServer } from '../machine/server.js';
import { restoreSnapshot, saveSnapshot } from '../machine/snapshot.js';
import { readSnapshotFile, type SnapshotContents } from '../machine/snapshot-file.js';
import { ConsoleWatch } from '../monitor/console-watch.js';
import { NetSpecError } from '../net/net-spec.js';
import { ConsoleMux, CONSOLE_HINT } from '../monitor/console-mux.js';
import { HumanMonitor } from '../monitor/hmp.js';
import { VmControl } from '../monitor/vm-control.js';
// the orchestrator CLI, the hub, the gdb stub and QMP are loaded only when asked for: a
// start (from a snapshot above all) should not pay for parsing modules it never runs
import { parseEmuOptions, UsageError } from './options.js';
import { packageRoot, packageVersion } from './package-info.js';
import { startMark } from '../machine/start-trace.js';

function fail(message: string): never {
  process.stderr.write(`parallax-emu: ${message}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  startMark('CLI modules loaded');
  if (argv[0] === 'orch') {
    // the orchestrator under the package's own name: `npx parallax-emu orch ps` works anywhere
    const { runCli } = await import('../orchestrator/commands/index.js');
    process.exitCode = await runCli(argv.slice(1), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
    return;
  }
  if (argv[0] === 'hub') {
    const { hubMain } = await import('./hub.js');
    process.exitCode = await hubMain(argv.slice(1));
    return;
  }
  const defaultKernel = resolve(packageRoot(), 'images/dime.elf');
  let opts;
  try {
    opts = parseEmuOptions(argv, defaultKernel);
  } catch (e) {
    fail((e as Error).message);
  }
  // -boot n: our firmware, loaded as the direct path loads a kernel, fetches the real one
  if (opts.netBoot) opts.kernel = resolve(packageRoot(), 'images/netboot.elf');
  if (opts.showVersion) {
    process.stdout.write(`parallax-emu ${packageVersion()}\n`);
    return;
  }
  let incoming: SnapshotContents | null = null;
  if (opts.incomingFile !== undefined) {
    try {
      incoming = readSnapshotFile(opts.incomingFile);
    } catch (e) {
      fail((e as Error).message);
    }
  }
  if (incoming) startMark('snapshot file read and checked');
  let server: RunningServer;
  let consoleGone = false;
  // -serial file:PATH: COM1's bytes go to the file as they come (QEMU's file chardev); stdout keeps
  // the emulator's own messages and the monitor
  let serialFd: number | null = null;
  if (opts.serialFile !== undefined) {
    try {
      serialFd = openSync(opts.serialFile, 'w');
    } catch (e) {
      fail(`-serial file:${opts.serialFile}: ${(e as Error).message}`);
    }
  }
  const snapshotWatch = opts.snapshotOut ? new ConsoleWatch(opts.snapshotAt!) : null;
  try {
    server = await startServer({ ...opts, incoming: incoming !== null }, {
      out: (b) => {
        if (serialFd !== null) writeSync(serialFd, b);
        else if (!consoleGone) process.stdout.write(b);
        snapshotWatch?.feed(b);
      },
    });
  } catch (e) {
    if (e instanceof BootError || e instanceof ServerError || e instanceof MachineError || e instanceof UsageError ||
      e instanceof NetSpecError) fail(e.message);
    fail(`cannot start: ${(e as Error).message}`);
  }
  startMark('server started');
  if (incoming) {
    try {
      const r = await restoreSnapshot(server, incoming, { resume: !opts.startPaused, freshRam: server.freshRam });
      process.stderr.write(`parallax-emu: restored ${r.tag ? `snapshot '${r.tag}'` : opts.incomingFile} (saved ${r.savedAt}, ${r.frames} RAM frames) in ${r.ms.toFixed(0)} ms (${r.parkedMs.toFixed(0)} ms of it waiting for the core workers to start)\n`);
    } catch (e) {
      server.stop(2);
      await server.exited;
      fail(`cannot restore ${opts.incomingFile}: ${(e as Error).message}`);
    }
  }
  if (snapshotWatch) {
    void snapshotWatch.seen.then(async () => {
      try {
        const r = await saveSnapshot(server, opts.snapshotOut!, { emulator: packageVersion() });
        process.stderr.write(`parallax-emu: saved the machine to ${r.path} (${(r.bytes / 2 ** 20).toFixed(1)} MiB, ${r.frames} RAM frames) in ${r.ms.toFixed(0)} ms\n`);
        server.stop(0);
      } catch (e) {
        process.stderr.write(`parallax-emu: --snapshot-out ${opts.snapshotOut}: ${(e as Error).message}\n`);
        server.stop(8);
      }
    });
  }

  if (opts.gdb) {
    try {
      const { GdbServer } = await import('../gdb/gdb-server.js');
      const gdb = new GdbServer(server.machine, () => server.stop(0));
      const where = await gdb.listen(opts.gdb);
      process.stderr.write(`parallax-emu: gdb stub on ${where}${opts.startPaused ? ' (cores paused until gdb continues)' : ''}\n`);
    } catch (e) {
      server.stop(2);
      await server.exited;
      fail((e as Error).message);
    }
  }

  // Console input: COM1, with QEMU's Ctrl-A escapes (x quit, h help, c monitor) on a terminal,
  // or wherever the monitor was asked for (-monitor stdio, -serial mon:stdio).
  const stdin = process.stdin;
  const vm = new VmControl(server, Boolean(opts.startPaused), packageVersion(), opts.snapshotDir);
  const muxed = stdin.isTTY || opts.monitor === 'stdio' || opts.serialMonitor;
  if (stdin.isTTY) stdin.setRawMode(true);
  const mux = new ConsoleMux(new HumanMonitor(vm), {
    toGuest: (b) => { if (serialFd === null) server.input(b); },
    toTerminal: (t) => { if (!consoleGone) process.stdout.write(t); },
    quit: () => server.stop(0),
    echo: Boolean(stdin.isTTY),
  }, opts.monitor === 'stdio');
  stdin.on('data', (chunk: Buffer) => { if (muxed) mux.feed(chunk); else if (serialFd === null) server.input(new Uint8Array(chunk)); });
  if (stdin.isTTY) process.stderr.write(`${CONSOLE_HINT}\n`);
  for (const spec of opts.qmp ?? []) {
    try {
      const { QmpServer } = await import('../qmp/qmp-server.js');
      await new QmpServer(vm).listen(spec);
    } catch (e) {
      server.stop(2);
      await server.exited;
      fail((e as Error).message);
    }
  }
  stdin.on('error', () => {});
  // a closed console reader (`parallax-emu ... | head`) ends the machine quietly, not with a crash
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    consoleGone = true;
    server.stop(0);
  });
  process.on('SIGINT', () => server.stop(130));
  process.on('SIGTERM', () => server.stop(143));

  const exit = await server.exited;
  if (stdin.isTTY) stdin.setRawMode(false);
  stdin.pause();
  stdin.destroy();
  const msg = describeExit(exit);
  if (msg) process.stderr.write(`${msg}\n`);
  if (opts.stats) for (const line of server.statsLines()) process.stderr.write(`${line}\n`);
  if (consoleGone) process.exit(exit.code);
  process.stdout.write('', () => process.exit(exit.code));
}

main(process.argv.slice(2)).catch((e) => fail(`internal error: ${(e as Error).stack ?? e}`));
