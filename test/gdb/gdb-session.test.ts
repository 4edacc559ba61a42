// Real gdb (Debian's) against the stub: break at a symbol, step, read variables, a watchpoint,
// continue to the guest's exit; the same script against QEMU 7.2's stub (-gdb ... -S) must print
// the same. One difference is normalised: at the guest's isa-debug-exit QEMU closes the
// connection ("Remote connection closed"), our stub reports the exit status with a W packet
// ("[Inferior 1 (process 1) exited with code 01]"), as the protocol has it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildGuestKernels, guestImage, parallaxArgs, qemuArgs } from '../guest/harness.js';
import { failWhenMissingInCi, QEMU_HINT, toolGate } from '../tool-gate.js';
import { freePort } from './rsp-client.js';

const gdbGate = toolGate('gdb', 'Debian: apt-get install gdb');
const qemuGate = toolGate('qemu-system-x86_64', QEMU_HINT);
failWhenMissingInCi(gdbGate, 'gdb', 'gdb session against the stub');
failWhenMissingInCi(qemuGate, 'qemu-system-x86_64', 'gdb session: the same script against QEMU\'s stub');

const dir = mkdtempSync(join(tmpdir(), 'parallax-gdb-session-'));

function script(port: number): string {
  const path = join(dir, `session-${port}.gdb`);
  writeFileSync(path, [
    'set pagination off', 'set confirm off', 'set width 0', 'set height 0',
    `target remote 127.0.0.1:${port}`,
    'echo ==begin==\\n',
    'break tick',
    'continue',
    'print i',
    'print counter',
    'next',
    'next',
    'print steps',
    'print/x $cs',
    'watch counter',
    'continue',
    'continue',
    'delete',
    'info threads',
    'print counter',
    'continue',
  ].join('\n') + '\n');
  return path;
}

/** Start `cmd` (a machine paused for gdb on `port`), run the script, return gdb's output from ==begin== on. */
async function session(cmd: string, args: string[], port: number): Promise<string> {
  const machine: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let console = '';
  machine.stdout!.on('data', (d: Buffer) => { console += d.toString(); });
  try {
    // give the stub a moment to listen (gdb's connect does not retry)
    await new Promise((r) => setTimeout(r, 1500));
    const g = spawnSync('gdb', ['-batch', '-nx', '-x', script(port), guestImage('gdb-target').replace(/\.elf$/, '.elf64')],
      { encoding: 'utf8', timeout: 180_000 });
    const out = `${g.stdout}${g.stderr}`;
    const at = out.indexOf('==begin==');
    expect(at, out).toBeGreaterThanOrEqual(0);
    return out.slice(at).replace(/\r/g, '');
  } finally {
    if (machine.exitCode === null) machine.kill('SIGKILL');
    void console;
  }
}

/** The guest's exit as either stub reports it -> one line. */
function normaliseExit(out: string): string {
  return out
    .replace(/\[Inferior 1 \(process 1\) exited with code 01\]\n?/, '<guest exit>\n')
    .replace(/.*Error in sourced command file:\nRemote connection closed\n?/, '<guest exit>\n');
}

describe.skipIf(!gdbGate.run)('gdb session against the stub', () => {
  let ours = '';

  beforeAll(async () => {
    buildGuestKernels();
    const port = await freePort();
    const [node, ...rest] = [process.execPath, ...parallaxArgs(guestImage('gdb-target'), { cores: 1 })];
    ours = await session(node, [...rest, '-gdb', `tcp::${port}`, '-S'], port);
  });

  it('breaks at a symbol, steps, reads variables, stops on a watchpoint and continues to the exit', () => {
    expect(ours).toContain('Breakpoint 1, tick (i=i@entry=1) at kernels/gdb-target.c:10');
    expect(ours).toMatch(/\$1 = 1\n\$2 = 0\n/);
    expect(ours).toContain('Hardware watchpoint 2: counter');
    expect(ours).toMatch(/Old value = 1\nNew value = 5\n/);
    expect(ours).toContain('Thread 1.1 (CPU#0 [running])');
    expect(ours).toContain('$5 = 5'); // 1 + 2*2 when the breakpoint stops tick(3)
    expect(normaliseExit(ours)).toMatch(/<guest exit>\n$/);
  });

  describe.skipIf(!qemuGate.run)('the same script against QEMU 7.2', () => {
    it('prints the same', async () => {
      const port = await freePort();
      const theirs = await session('qemu-system-x86_64', [...qemuArgs(guestImage('gdb-target'), { cores: 1 }), '-gdb', `tcp::${port}`, '-S'], port);
      expect(normaliseExit(ours)).toBe(normaliseExit(theirs));
    });
  });
});
