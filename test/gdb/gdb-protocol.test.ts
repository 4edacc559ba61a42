// The gdb stub's protocol, driven by a client in the test (no gdb needed): feature and thread
// queries, registers, memory by virtual address, breakpoints, single-step, vCont, Ctrl-C
// stopping every core, and kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { code, multiboot1 } from '../emulator/mini-kernels.js';
import { REGISTERS } from '../../src/debug/x86-registers.js';
import { freePort, RspClient } from './rsp-client.js';

const cli = resolve(__dirname, '../../dist/src/cli/parallax-emu.js');
const dir = mkdtempSync(join(tmpdir(), 'parallax-gdb-'));
const RIP = REGISTERS.findIndex((r) => r.name === 'rip').toString(16);

describe('gdb stub protocol (-gdb tcp::PORT -S, 2 cores)', () => {
  let emu: ChildProcess;
  let gdb: RspClient;
  let exited: Promise<number | null>;

  beforeAll(async () => {
    // core 0 prints, then spins on `jmp $`; core 1 waits for a start-up IPI that never comes
    const image = join(dir, 'spin.bin');
    writeFileSync(image, multiboot1([...code.print('go\n'), ...code.spin]));
    const port = await freePort();
    emu = spawn(process.execPath, [cli, '-kernel', image, '-smp', '2', '-gdb', `tcp::${port}`, '-S'], { stdio: ['ignore', 'pipe', 'pipe'] });
    exited = new Promise((r) => emu.on('exit', (c) => r(c)));
    gdb = await RspClient.connect(port);
  });

  afterAll(() => {
    gdb?.close();
    if (emu.exitCode === null) emu.kill('SIGKILL');
  });

  it('announces its packet size and target description, with segment bases and control registers', async () => {
    const sup = await gdb.request('qSupported:multiprocess+;swbreak+;xmlRegisters=i386');
    expect(sup).toMatch(/PacketSize=[0-9a-f]+/);
    expect(sup).toMatch(/qXfer:features:read\+/);
    let xml = '';
    for (let off = 0; ; ) {
      const r = await gdb.request(`qXfer:features:read:target.xml:${off.toString(16)},400`);
      xml += r.slice(1);
      off += r.length - 1;
      if (r[0] === 'l') break;
      expect(r[0]).toBe('m');
    }
    expect(xml).toContain('<architecture>i386:x86-64</architecture>');
    for (const reg of ['rax', 'rip', 'eflags', 'fs_base', 'gs_base', 'cr0', 'cr3', 'cr4', 'efer', 'xmm15']) expect(xml).toContain(`name="${reg}"`);
    expect(await gdb.request('vCont?')).toBe('vCont;c;C;s;S');
  });

  it('shows one thread per core and reports the start-paused stop', async () => {
    expect(await gdb.request('qfThreadInfo')).toBe('mp01.01,p01.02');
    expect(await gdb.request('qsThreadInfo')).toBe('l');
    expect(await gdb.request('?')).toMatch(/^T05thread:p01.01;$/);
    expect(await gdb.request('Hgp1.2')).toBe('OK');
    expect(await gdb.request('qThreadExtraInfo,p1.2')).toBe(Buffer.from('CPU#1 [halted]').toString('hex'));
    expect(await gdb.request('Hgp1.1')).toBe('OK');
  });

  it('reads every register (g) and one (p), and memory by virtual address (m/M)', async () => {
    const g = await gdb.request('g');
    expect(g.length).toBe(REGISTERS.reduce((n, r) => n + r.bits / 4, 0));
    const rip = await gdb.request(`p${RIP}`);
    expect(BigInt(`0x${Buffer.from(rip, 'hex').reverse().toString('hex')}`)).toBeGreaterThanOrEqual(0x100000n);
    // the Multiboot header magic at the start of the image (1 MiB, identity: paging is off)
    expect(await gdb.request('m100000,4')).toBe('02b0ad1b');
    expect(await gdb.request('M200000,4:deadbeef')).toBe('OK');
    expect(await gdb.request('m200000,4')).toBe('deadbeef');
    expect(await gdb.request('m7fffffff0000,4')).toMatch(/^E/); // beyond RAM
    expect(await gdb.request('P0=8877665544332211')).toBe('OK'); // rax
    expect(await gdb.request('p0')).toBe('8877665544332211');
    for (const z of ['1,100000,1', '2,200000,4', '3,200000,4', '4,200000,8']) {
      expect(await gdb.request(`Z${z}`)).toBe('OK');
      expect(await gdb.request(`z${z}`)).toBe('OK');
    }
  });

  it('single-steps the selected core, breaks at an address, and Ctrl-C stops a running machine', async () => {
    const ripOf = async () => BigInt(`0x${Buffer.from(await gdb.request(`p${RIP}`), 'hex').reverse().toString('hex')}`);
    const start = await ripOf();
    expect(await gdb.request('vCont;s:p1.1')).toMatch(/^T05thread:p01.01;/);
    const after1 = await ripOf();
    expect(after1).not.toBe(start); // the first instruction (mov dx, 0x3f8) moved rip on
    // a breakpoint two instructions on (mov al,'g' is 2 bytes after the 4-byte mov dx)
    expect(await gdb.request(`Z0,${(after1 + 2n).toString(16)},1`)).toBe('OK');
    expect(await gdb.request('c')).toMatch(/^T05thread:p01.01;/);
    expect(await ripOf()).toBe(after1 + 2n);
    expect(await gdb.request(`z0,${(after1 + 2n).toString(16)},1`)).toBe('OK');
    // run into the spin loop, then interrupt: every core stops, SIGINT is reported
    gdb.write('vCont;c');
    await new Promise((r) => setTimeout(r, 500));
    gdb.interrupt();
    expect(await gdb.next()).toMatch(/^T02thread:p01.0[12];/);
    expect(await gdb.request('Hgp1.1')).toBe('OK');
    const spinAt = await ripOf();
    expect(await gdb.request('s')).toMatch(/^T05/);
    expect(await ripOf()).toBe(spinAt); // jmp $ steps onto itself
  });

  it('ends the machine on k', async () => {
    gdb.write('k');
    expect(await exited).toBe(0);
  });
});
