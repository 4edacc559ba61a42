// QMP (-qmp unix:PATH,server,wait=off) with a client written here: greeting, capabilities
// negotiation, query-status through prelaunch/running/paused, stop/cont with STOP/RESUME
// events, query-cpus-fast, human-monitor-command, errors with ids, quit with SHUTDOWN. Where
// QEMU is installed, the same exchange against QEMU's QMP must give the same field shapes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { code, multiboot1 } from '../emulator/mini-kernels.js';
import { failWhenMissingInCi, QEMU_HINT, toolGate } from '../tool-gate.js';
import { QmpClient, shape, type QmpMessage } from './qmp-client.js';

const cli = resolve(__dirname, '../../dist/src/cli/parallax-emu.js');
const dir = mkdtempSync(join(tmpdir(), 'parallax-qmp-'));
const image = join(dir, 'spin.bin');
writeFileSync(image, multiboot1([...code.print('up\n'), ...code.spin]));

const qemuGate = toolGate('qemu-system-x86_64', QEMU_HINT);
failWhenMissingInCi(qemuGate, 'qemu-system-x86_64', 'QMP field shapes against QEMU 7.2');

interface Exchange {
  greeting: QmpMessage;
  beforeCaps: QmpMessage;
  caps: QmpMessage;
  prelaunch: QmpMessage;
  cont: QmpMessage;
  resume: QmpMessage;
  running: QmpMessage;
  stop: QmpMessage;
  stopEvent: QmpMessage;
  paused: QmpMessage;
  cpus: QmpMessage;
  hmpStatus: QmpMessage;
  hmpRegisters: QmpMessage;
  unknown: QmpMessage;
  quit: QmpMessage;
  shutdown: QmpMessage;
  exitCode: number | null;
}

/** The same conversation with any QMP server started (paused) by `cmd`. */
async function converse(cmd: string, args: string[], socket: string): Promise<Exchange> {
  const proc: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  try {
    const q = await QmpClient.connect(socket);
    const e: Partial<Exchange> = { greeting: q.greeting };
    e.beforeCaps = await q.execute('query-status');
    e.caps = await q.execute('qmp_capabilities');
    e.prelaunch = await q.execute('query-status');
    e.cont = await q.execute('cont');
    e.resume = await q.event('RESUME');
    e.running = await q.execute('query-status');
    e.stop = await q.execute('stop', undefined, 'stop-1');
    e.stopEvent = await q.event('STOP');
    e.paused = await q.execute('query-status');
    e.cpus = await q.execute('query-cpus-fast');
    e.hmpStatus = await q.execute('human-monitor-command', { 'command-line': 'info status' });
    e.hmpRegisters = await q.execute('human-monitor-command', { 'command-line': 'info registers' });
    e.unknown = await q.execute('no-such-command', undefined, 7);
    e.quit = await q.execute('quit');
    e.shutdown = await q.event('SHUTDOWN');
    e.exitCode = await exited;
    q.close();
    return e as Exchange;
  } finally {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
}

let ours: Exchange | undefined;
async function oursOnce(): Promise<Exchange> {
  if (!ours) {
    const sock = join(dir, 'emu.qmp');
    ours = await converse(process.execPath, [cli, '-kernel', image, '-smp', '2', '-qmp', `unix:${sock},server,wait=off`, '-S'], sock);
  }
  return ours;
}

describe('QMP on parallax-emu', () => {
  it('greets, insists on capabilities negotiation, and reports the run state as QEMU names it', async () => {
    const e = await oursOnce();
    expect(e.greeting).toMatchObject({ QMP: { version: { qemu: { major: 0, minor: 1, micro: 0 }, package: 'parallax-emu' }, capabilities: [] } });
    expect(e.beforeCaps).toMatchObject({ error: { class: 'CommandNotFound' } });
    expect(e.caps).toEqual({ return: {} });
    expect(e.prelaunch).toEqual({ return: { status: 'prelaunch', singlestep: false, running: false } });
    expect(e.cont).toEqual({ return: {} });
    expect(e.running).toEqual({ return: { status: 'running', singlestep: false, running: true } });
    expect(e.stop).toEqual({ return: {}, id: 'stop-1' });
    expect(e.paused).toEqual({ return: { status: 'paused', singlestep: false, running: false } });
  });

  it('sends RESUME, STOP and SHUTDOWN events with timestamps', async () => {
    const e = await oursOnce();
    for (const ev of [e.resume, e.stopEvent]) expect(shape(ev)).toEqual({ event: 'string', timestamp: { microseconds: 'number', seconds: 'number' } });
    expect(e.shutdown).toMatchObject({ event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } });
    expect(e.quit).toEqual({ return: {} });
    expect(e.exitCode).toBe(0);
  });

  it('lists the cores, runs monitor commands, and names unknown commands with the request id', async () => {
    const e = await oursOnce();
    const cpus = e.cpus.return as QmpMessage[];
    expect(cpus.map((c) => c['cpu-index'])).toEqual([0, 1]);
    expect(cpus[1]).toMatchObject({ props: { 'socket-id': 0, 'core-id': 1, 'thread-id': 0 }, target: 'x86_64' });
    expect(e.hmpStatus).toEqual({ return: 'VM status: paused\r\n' });
    expect(e.hmpRegisters.return).toMatch(/^RAX=[0-9a-f]{16} RBX=/);
    expect(e.hmpRegisters.return).toMatch(/RIP=0000000000100[0-9a-f]{3} /);
    expect(e.unknown).toEqual({ error: { class: 'CommandNotFound', desc: 'The command no-such-command has not been found' }, id: 7 });
  });

  it('refuses a QMP address it cannot serve, with one line and status 2', async () => {
    const r = spawn(process.execPath, [cli, '-kernel', image, '-qmp', `unix:${join(dir, 'x.sock')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    r.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const status = await new Promise<number | null>((res) => r.on('exit', (c) => res(c)));
    expect(status).toBe(2);
    expect(err).toMatch(/-qmp .*server,wait=off/);
  });
});

describe.skipIf(!qemuGate.run)('QMP field shapes against QEMU 7.2', () => {
  it('the same exchange gives the same fields', async () => {
    const e = await oursOnce();
    const sock = join(dir, 'qemu.qmp');
    const q = await converse('qemu-system-x86_64', ['-display', 'none', '-serial', 'null', '-monitor', 'none', '-no-reboot', '-m', '128',
      '-smp', '2', '-kernel', image, '-qmp', `unix:${sock},server,wait=off`, '-S'], sock);
    expect(shape(e.greeting)).toEqual({ QMP: { capabilities: [], version: shape(q.greeting.QMP && (q.greeting.QMP as QmpMessage).version) } });
    for (const k of ['beforeCaps', 'caps', 'prelaunch', 'cont', 'resume', 'running', 'stop', 'stopEvent', 'paused', 'hmpStatus', 'hmpRegisters', 'unknown', 'quit', 'shutdown'] as const) {
      expect(shape(e[k]), k).toEqual(shape(q[k]));
    }
    expect(shape(e.cpus), 'query-cpus-fast').toEqual(shape(q.cpus));
    // the same values where they are not about the implementation
    for (const k of ['beforeCaps', 'prelaunch', 'running', 'paused', 'hmpStatus', 'unknown'] as const) expect(e[k], k).toEqual(q[k]);
    expect(e.shutdown.data).toEqual(q.shutdown.data);
    // thread ids and QOM paths are each implementation's own
    const own = (c: QmpMessage[]) => c.map(({ 'thread-id': _t, 'qom-path': _q, ...rest }) => rest);
    expect(own(e.cpus.return as QmpMessage[])).toEqual(own(q.cpus.return as QmpMessage[]));
  });
});
